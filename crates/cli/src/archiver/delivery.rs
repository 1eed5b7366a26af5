//! Sending firings to webhooks: one task per delivery, retried on the schedule of
//! [`nodemend_store::webhook::retry_delay`] (which obeys a receiver's `Retry-After`),
//! each try reported back to the writer to be recorded. The URL is read when sending (a
//! rotated Secret is picked up) and never logged or recorded: deliveries are known by the
//! webhook's name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use nodemend_core::alert::{Firing, Webhook, WebhookUrl, check_url};
use nodemend_store::webhook::{payload, retry_delay};
use nodemend_store::{Delivery, DeliveryStatus};
use tokio::sync::mpsc;

/// Sends deliveries to the configured webhooks.
pub(super) struct Dispatcher {
    hooks: Arc<HashMap<String, Webhook>>,
    order: Vec<String>,
    client: Option<reqwest::Client>,
    tries: mpsc::UnboundedSender<Delivery>,
}

impl Dispatcher {
    /// A dispatcher for `hooks`; every try of every delivery is sent to `tries`.
    pub(super) fn new(hooks: &[Webhook], tries: mpsc::UnboundedSender<Delivery>) -> Self {
        let client = if hooks.is_empty() {
            None
        } else {
            match nodemend_azure::http_client(None, Duration::from_secs(300)) {
                Ok(client) => Some(client),
                Err(err) => {
                    tracing::error!(error = %err, "cannot build the HTTP client for alert webhooks; deliveries will fail");
                    None
                }
            }
        };
        Self {
            order: hooks.iter().map(|h| h.name.clone()).collect(),
            hooks: Arc::new(hooks.iter().map(|h| (h.name.clone(), h.clone())).collect()),
            client,
            tries,
        }
    }

    /// One pending delivery of `firing` per webhook, in the policy's order.
    pub(super) fn deliveries_for(&self, firing: &Firing, cluster: &str) -> Vec<Delivery> {
        self.order
            .iter()
            .filter_map(|name| self.hooks.get(name))
            .map(|hook| {
                let body = payload(hook.format, firing, cluster);
                Delivery::pending(firing, &hook.name, hook.format, body)
            })
            .collect()
    }

    /// Starts sending `delivery` in the background.
    pub(super) fn send(&self, delivery: Delivery) {
        let Some(hook) = self.hooks.get(&delivery.target).cloned() else {
            return;
        };
        let client = self.client.clone();
        let tries = self.tries.clone();
        tokio::spawn(deliver(client, hook, delivery, tries));
    }

    /// Resumes a delivery left pending by an earlier run; one whose webhook is no longer
    /// configured comes back marked failed, to be recorded.
    pub(super) fn resume(&self, mut delivery: Delivery) -> Option<Delivery> {
        if self.hooks.contains_key(&delivery.target) {
            self.send(delivery);
            return None;
        }
        delivery.status = DeliveryStatus::Failed;
        delivery.last_error = Some("the webhook is no longer in the policy".into());
        delivery.updated = Timestamp::now();
        Some(delivery)
    }
}

/// Why a try failed, and how long the receiver asked us to wait.
struct Failure {
    problem: String,
    retry_after: Option<SignedDuration>,
}

/// Tries until delivered or out of attempts, reporting every try.
async fn deliver(
    client: Option<reqwest::Client>,
    hook: Webhook,
    mut delivery: Delivery,
    tries: mpsc::UnboundedSender<Delivery>,
) {
    let mut asked: Option<SignedDuration> = None;
    loop {
        let Some(delay) = retry_delay(delivery.attempts, hook.max_attempts, asked) else {
            return;
        };
        if let Ok(wait) = Duration::try_from(delay) {
            tokio::time::sleep(wait).await;
        }
        delivery.attempts += 1;
        let result = match &client {
            Some(client) => post(client, &hook, &delivery.payload).await,
            None => Err(Failure {
                problem: "no HTTP client (see the error logged at start)".into(),
                retry_after: None,
            }),
        };
        delivery.updated = Timestamp::now();
        match result {
            Ok(()) => {
                delivery.status = DeliveryStatus::Delivered;
                delivery.last_error = None;
                tracing::info!(rule = %delivery.rule, webhook = %hook.name, attempts = delivery.attempts, "alert delivered");
            }
            Err(failure) => {
                asked = failure.retry_after;
                let last = retry_delay(delivery.attempts, hook.max_attempts, None).is_none();
                if last {
                    delivery.status = DeliveryStatus::Failed;
                    tracing::error!(rule = %delivery.rule, webhook = %hook.name, attempts = delivery.attempts, error = %failure.problem, "alert delivery failed; giving up");
                } else {
                    tracing::warn!(rule = %delivery.rule, webhook = %hook.name, attempt = delivery.attempts, error = %failure.problem, "alert delivery failed; will retry");
                }
                delivery.last_error = Some(failure.problem);
            }
        }
        let finished = delivery.status != DeliveryStatus::Pending;
        if tries.send(delivery.clone()).is_err() || finished {
            return;
        }
    }
}

/// The URL from where the policy says it is.
fn resolve(url: &WebhookUrl) -> Result<String, String> {
    let text = match url {
        WebhookUrl::Literal(url) => url.clone(),
        WebhookUrl::Env(name) => {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))?
        }
        WebhookUrl::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    };
    let text = text.trim().to_owned();
    check_url(&text).map_err(|problem| format!("the URL from {url} {problem}"))?;
    Ok(text)
}

/// One POST.
async fn post(
    client: &reqwest::Client,
    hook: &Webhook,
    body: &serde_json::Value,
) -> Result<(), Failure> {
    let url = resolve(&hook.url).map_err(|problem| Failure {
        problem,
        retry_after: None,
    })?;
    let timeout = Duration::try_from(hook.timeout).unwrap_or(Duration::from_secs(10));
    let response = client
        .post(url)
        .timeout(timeout)
        .json(body)
        .send()
        .await
        .map_err(|err| Failure {
            problem: crate::logging::chain(&err.without_url()),
            retry_after: None,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(SignedDuration::from_secs);
    Err(Failure {
        problem: format!("HTTP {status}"),
        retry_after,
    })
}
