use jiff::Timestamp;
use nodemend_core::alert::{Firing, Sample, Severity};

use super::*;

fn firing() -> Firing {
    let at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    Firing {
        rule: "node-reboot-error".into(),
        severity: Severity::Critical,
        group: Some("aks-np1-1".into()),
        at,
        count: 2,
        first: "2026-03-01T09:55:00Z".parse().unwrap(),
        last: "2026-03-01T09:59:00Z".parse().unwrap(),
        summary: "node-reboot-error: 2 × NodeRebootError on aks-np1-1 within 10m".into(),
        sample: Some(Sample {
            reason: "NodeRebootError".into(),
            event_type: "Warning".into(),
            message: "Node auto-repair reboot action failed due to an operation failure: <VMExtensionProvisioningError> & more".into(),
            object: Some("Node/aks-np1-1".into()),
            node: Some("aks-np1-1".into()),
        }),
    }
}

#[test]
fn json_body_carries_the_whole_firing_and_a_version() {
    let body = payload(WebhookFormat::Json, &firing(), "prod-weu");
    assert_eq!(body["version"], 1);
    assert_eq!(body["cluster"], "prod-weu");
    assert_eq!(body["firing"]["rule"], "node-reboot-error");
    assert_eq!(body["firing"]["severity"], "critical");
    assert_eq!(body["firing"]["count"], 2);
    assert_eq!(body["firing"]["first"], "2026-03-01T09:55:00Z");
    assert_eq!(body["firing"]["sample"]["eventType"], "Warning");
}

#[test]
fn slack_body_has_text_and_blocks_with_escaped_mrkdwn() {
    let body = payload(WebhookFormat::Slack, &firing(), "prod<weu>");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(":rotating_light: [prod&lt;weu&gt;] node-reboot-error"),
        "{text}"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "section");
    let fields = blocks[1]["fields"].as_array().unwrap();
    assert!(fields.len() <= 10, "Slack allows at most 10 fields");
    assert!(fields.iter().any(|f| f["text"] == "*Group*\naks-np1-1"));
    let context = blocks[2]["elements"][0]["text"].as_str().unwrap();
    assert!(
        context.ends_with("&lt;VMExtensionProvisioningError&gt; &amp; more"),
        "{context}"
    );
}

#[test]
fn teams_body_is_one_adaptive_card_with_facts() {
    let body = payload(WebhookFormat::Teams, &firing(), "prod-weu");
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["color"], "Attention");
    let facts = card["body"][1]["facts"].as_array().unwrap();
    let fact = |title: &str| {
        facts
            .iter()
            .find(|f| f["title"] == title)
            .map(|f| f["value"].clone())
    };
    assert_eq!(fact("Rule").unwrap(), "node-reboot-error");
    assert_eq!(fact("Object").unwrap(), "Node/aks-np1-1");
    assert_eq!(fact("Cluster").unwrap(), "prod-weu");
}

#[test]
fn a_firing_without_sample_or_group_still_renders() {
    let mut f = firing();
    f.sample = None;
    f.group = None;
    for format in [
        WebhookFormat::Json,
        WebhookFormat::Slack,
        WebhookFormat::Teams,
    ] {
        let body = payload(format, &f, "c");
        assert!(!body.to_string().contains("Reason"), "{format:?}: {body}");
    }
}

#[test]
fn retries_back_off_and_stop() {
    let secs = |n| retry_delay(n, 6, None).map(|d| d.as_secs());
    assert_eq!(
        (0..7).map(secs).collect::<Vec<_>>(),
        [
            Some(0),
            Some(10),
            Some(20),
            Some(40),
            Some(80),
            Some(160),
            None
        ]
    );
    assert_eq!(
        retry_delay(12, 100, None).map(|d| d.as_secs()),
        Some(600),
        "capped at 10 minutes"
    );
    assert_eq!(retry_delay(0, 0, None), None);
}

#[test]
fn a_receiver_that_says_when_is_obeyed_within_ten_minutes() {
    let asked = |secs| Some(SignedDuration::from_secs(secs));
    assert_eq!(retry_delay(1, 5, asked(1)), asked(1));
    assert_eq!(retry_delay(3, 5, asked(3600)), asked(600));
    assert_eq!(
        retry_delay(5, 5, asked(1)),
        None,
        "out of attempts all the same"
    );
}
