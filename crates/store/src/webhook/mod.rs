//! Alert webhook bodies and retry schedule. Pure: sending them is the binary's job (it owns the
//! HTTP client and the async runtime); what was sent and how it went is recorded with
//! [`crate::Archive::record_delivery`].

use jiff::SignedDuration;
pub use nodemend_core::alert::WebhookFormat;
use nodemend_core::alert::{Firing, Severity};
use serde_json::{Value, json};

/// The version of the [`WebhookFormat::Json`] body; bumped on incompatible changes.
pub const JSON_PAYLOAD_VERSION: u32 = 1;

/// The body to POST for `firing` in `format`. `cluster` names the cluster in the message.
pub fn payload(format: WebhookFormat, firing: &Firing, cluster: &str) -> Value {
    match format {
        WebhookFormat::Json => json!({
            "version": JSON_PAYLOAD_VERSION,
            "source": "nodemend",
            "cluster": cluster,
            "firing": firing,
        }),
        WebhookFormat::Slack => slack(firing, cluster),
        WebhookFormat::Teams => teams(firing, cluster),
    }
}

fn emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => ":information_source:",
        Severity::Warning => ":warning:",
        Severity::Critical => ":rotating_light:",
    }
}

/// The facts every chat body lists, as (label, value).
fn facts(firing: &Firing, cluster: &str) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Cluster", cluster.to_owned()),
        ("Rule", firing.rule.clone()),
        ("Severity", format!("{:?}", firing.severity)),
        ("Occurrences", firing.count.to_string()),
        ("First", firing.first.to_string()),
        ("Last", firing.last.to_string()),
    ];
    if let Some(group) = &firing.group {
        facts.push(("Group", group.clone()));
    }
    if let Some(sample) = &firing.sample {
        facts.push(("Reason", sample.reason.clone()));
        if let Some(object) = &sample.object {
            facts.push(("Object", object.clone()));
        }
        facts.push(("Message", sample.message.clone()));
    }
    facts
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack(firing: &Firing, cluster: &str) -> Value {
    let title = format!(
        "{} [{}] {}",
        emoji(firing.severity),
        slack_escape(cluster),
        slack_escape(&firing.summary)
    );
    let fields: Vec<Value> = facts(firing, cluster)
        .into_iter()
        .filter(|(label, _)| *label != "Message")
        .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", slack_escape(&value))}))
        .collect();
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn", "text": title}}),
        // Slack allows at most 10 fields in a section.
        json!({"type": "section", "fields": fields.into_iter().take(10).collect::<Vec<_>>()}),
    ];
    if let Some(sample) = &firing.sample {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": slack_escape(&sample.message)}],
        }));
    }
    json!({ "text": title, "blocks": blocks })
}

fn teams(firing: &Firing, cluster: &str) -> Value {
    let color = match firing.severity {
        Severity::Info => "Accent",
        Severity::Warning => "Warning",
        Severity::Critical => "Attention",
    };
    let facts: Vec<Value> = facts(firing, cluster)
        .into_iter()
        .map(|(title, value)| json!({"title": title, "value": value}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
                     "color": color, "text": format!("[{cluster}] {}", firing.summary)},
                    {"type": "FactSet", "facts": facts},
                ],
            },
        }],
    })
}

/// The longest wait between two tries, whatever the schedule or the receiver says.
const LONGEST_WAIT: SignedDuration = SignedDuration::from_mins(10);

/// How long to wait before the next try of a delivery that has failed `failed` times, or
/// `None` once `max_attempts` tries have been made: now for the first try, then 10 s,
/// doubling; a receiver that said when to come back (`asked`, from `Retry-After` on a 429 or
/// 503) is obeyed instead. Never more than 10 minutes.
pub fn retry_delay(
    failed: u32,
    max_attempts: u32,
    asked: Option<SignedDuration>,
) -> Option<SignedDuration> {
    if failed >= max_attempts {
        return None;
    }
    if failed == 0 {
        return Some(SignedDuration::ZERO);
    }
    let secs = 10i64.saturating_mul(1i64 << (failed - 1).min(16));
    let scheduled = SignedDuration::from_secs(secs);
    Some(
        asked
            .unwrap_or(scheduled)
            .clamp(SignedDuration::ZERO, LONGEST_WAIT),
    )
}

#[cfg(test)]
mod tests;
