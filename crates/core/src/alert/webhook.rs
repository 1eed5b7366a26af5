//! Where firings are sent: the `alerts.webhooks` section of a policy file and its validation.
//!
//! A webhook URL usually carries its own credential (Slack and Teams URLs are bearer secrets),
//! so the URL can come from an environment variable or a file (a mounted Kubernetes Secret)
//! instead of the policy itself, and no `Debug` or error output of this module ever shows it.

use std::fmt;
use std::path::PathBuf;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::AlertRuleError;

/// The shape of a webhook body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WebhookFormat {
    /// nodemend's own JSON: the firing as it is, plus the cluster's name.
    Json,
    /// Slack incoming webhooks: `{"text", "blocks"}`.
    Slack,
    /// Microsoft Teams incoming webhooks (and Power Automate's "post to a channel" flow): a
    /// message carrying one Adaptive Card.
    Teams,
}

impl WebhookFormat {
    /// The name used in policy files and the archive.
    pub fn name(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
        }
    }
}

/// One webhook as written in the policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawWebhook {
    /// Unique name; deliveries are recorded under it (never under the URL).
    pub name: Option<String>,
    /// The URL itself (prefer `urlEnv` or `urlFile`: the URL is usually a secret).
    pub url: Option<String>,
    /// An environment variable holding the URL.
    pub url_env: Option<String>,
    /// A file holding the URL, such as a mounted Secret key.
    pub url_file: Option<PathBuf>,
    /// `json` (default), `slack` or `teams`.
    pub format: Option<String>,
    /// Tries before a delivery is given up (default 5).
    pub max_attempts: Option<u32>,
    /// Time allowed for one try (default `10s`).
    pub timeout: Option<String>,
}

/// Where a webhook's URL comes from. Resolved by the binary when it sends, so a rotated
/// Secret is picked up without a restart.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookUrl {
    /// Written in the policy file.
    Literal(String),
    /// Read from this environment variable.
    Env(String),
    /// Read from this file (surrounding whitespace ignored).
    File(PathBuf),
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookUrl::Literal(_) => f.write_str("Literal(***)"),
            WebhookUrl::Env(name) => write!(f, "Env({name})"),
            WebhookUrl::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookUrl::Literal(_) => f.write_str("the url in the policy file"),
            WebhookUrl::Env(name) => write!(f, "environment variable {name}"),
            WebhookUrl::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// One validated webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Unique name.
    pub name: String,
    /// Where its URL comes from.
    pub url: WebhookUrl,
    /// The body's shape.
    pub format: WebhookFormat,
    /// Tries before giving up (at least 1).
    pub max_attempts: u32,
    /// Time allowed for one try.
    pub timeout: SignedDuration,
}

/// Whether `url` is an absolute http(s) URL with a host; the reason when not, without
/// quoting the URL (it may be a secret).
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// (or http://)")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err("has no valid host".into());
    }
    Ok(())
}

impl RawWebhook {
    /// Validates the webhook; `field` is where it sits in the file, for error messages.
    pub fn resolve(&self, field: &str) -> Result<Webhook, AlertRuleError> {
        let err = |sub: &str, problem: String| AlertRuleError {
            field: if sub.is_empty() {
                field.to_owned()
            } else {
                format!("{field}.{sub}")
            },
            problem,
        };
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(err("name", "is required".into()));
        }
        let url = match (&self.url, &self.url_env, &self.url_file) {
            (Some(url), None, None) => {
                check_url(url.trim()).map_err(|p| err("url", p))?;
                WebhookUrl::Literal(url.trim().to_owned())
            }
            (None, Some(var), None) if !var.trim().is_empty() => {
                WebhookUrl::Env(var.trim().to_owned())
            }
            (None, None, Some(path)) if !path.as_os_str().is_empty() => {
                WebhookUrl::File(path.clone())
            }
            (None, None, None) => {
                return Err(err("", "needs one of url, urlEnv or urlFile".into()));
            }
            (None, Some(_), None) => return Err(err("urlEnv", "is empty".into())),
            (None, None, Some(_)) => return Err(err("urlFile", "is empty".into())),
            _ => {
                return Err(err("", "give only one of url, urlEnv and urlFile".into()));
            }
        };
        let format = match self.format.as_deref().map(str::trim) {
            None => WebhookFormat::Json,
            Some(raw) => [
                WebhookFormat::Json,
                WebhookFormat::Slack,
                WebhookFormat::Teams,
            ]
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(raw))
            .ok_or_else(|| {
                err(
                    "format",
                    format!("{raw:?} must be one of json, slack, teams"),
                )
            })?,
        };
        let max_attempts = self.max_attempts.unwrap_or(5);
        if !(1..=20).contains(&max_attempts) {
            return Err(err("maxAttempts", "must be between 1 and 20".into()));
        }
        let timeout = match self.timeout.as_deref() {
            None => SignedDuration::from_secs(10),
            Some(raw) => raw
                .parse::<SignedDuration>()
                .ok()
                .filter(|d| d.is_positive() && *d <= SignedDuration::from_mins(5))
                .ok_or_else(|| {
                    err(
                        "timeout",
                        format!("{raw:?} must be a duration between 0s and 5m, e.g. 10s"),
                    )
                })?,
        };
        Ok(Webhook {
            name: name.to_owned(),
            url,
            format,
            max_attempts,
            timeout,
        })
    }
}

/// Validates every webhook and checks that names are unique.
pub(super) fn resolve_all(raw: &[RawWebhook]) -> Result<Vec<Webhook>, AlertRuleError> {
    let mut hooks: Vec<Webhook> = Vec::with_capacity(raw.len());
    for (i, hook) in raw.iter().enumerate() {
        let field = format!("alerts.webhooks[{i}]");
        let hook = hook.resolve(&field)?;
        if hooks.iter().any(|h| h.name == hook.name) {
            return Err(AlertRuleError {
                field: format!("{field}.name"),
                problem: format!("{:?} is used by another webhook", hook.name),
            });
        }
        hooks.push(hook);
    }
    Ok(hooks)
}
