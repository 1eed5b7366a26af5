//! The one place ARM requests are sent: it adds the token, waits for the throttling gates,
//! retries what is safe to retry with jittered back-off, honours `Retry-After`, and never
//! re-sends an action whose outcome is unknown.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{HeaderMap, Response, StatusCode};
use nodemend_core::model::ArmError;
use tokio::time::Instant;

use crate::config::ArmConfig;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::parse::{self, Page, ParseError};
use crate::requests::{ArmRequest, OpClass, Requests};
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::secret::Secret;
use crate::throttle::{self, Pacer};

/// Counters of what the executor did, for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct CallStats {
    /// HTTP requests sent to ARM (polls included, token requests not).
    pub requests: AtomicU64,
    /// Requests sent again after a retryable failure.
    pub retries: AtomicU64,
    /// 429 answers received.
    pub throttled: AtomicU64,
}

/// Sends ARM requests. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Executor {
    pub(crate) http: reqwest::Client,
    pub(crate) credential: Credential,
    pub(crate) requests: Requests,
    pub(crate) policy: RetryPolicy,
    pacer: Pacer,
    stats: Arc<CallStats>,
}

/// What one attempt came to.
enum Attempt {
    Done(Response<Vec<u8>>),
    RetryAfter(Duration),
}

impl Executor {
    /// An executor for `config`: builds the HTTP client and the credential.
    pub fn new(config: &ArmConfig) -> Result<Self> {
        let http = crate::http_client::build(config.ca_file.as_deref(), config.request_timeout)?;
        let credential = Credential::new(
            config.credential.clone(),
            config.authority_host.clone(),
            config.scope(),
            config.token_refresh_margin,
            http.clone(),
        );
        Ok(Self {
            http,
            credential,
            requests: Requests::new(config.endpoint.clone(), config.api_versions.clone()),
            policy: config.retry.clone(),
            pacer: Pacer::default(),
            stats: Arc::default(),
        })
    }

    /// The request builders for this executor's endpoint.
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// The counters.
    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    /// Sends `req` and returns the first successful answer, or the error.
    pub async fn send(&self, req: &ArmRequest) -> Result<Response<Vec<u8>>> {
        self.check_origin(req)?;
        let mut attempt: u32 = 0;
        let mut token_refreshed = false;
        loop {
            let hold = self.pacer.delay(req.class, Instant::now());
            if !hold.is_zero() {
                tracing::debug!(
                    operation = req.operation,
                    wait_ms = hold.as_millis() as u64,
                    "pacing"
                );
                tokio::time::sleep(hold).await;
            }
            let token = self
                .credential
                .token()
                .await
                .map_err(|source| Error::Authenticate {
                    operation: req.operation,
                    resource: req.resource.clone(),
                    source,
                })?;
            attempt += 1;
            let wait = match self
                .attempt(req, &token, attempt, &mut token_refreshed)
                .await?
            {
                Attempt::Done(response) => return Ok(response),
                Attempt::RetryAfter(wait) => wait,
            };
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                operation = req.operation,
                resource = %req.resource,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        req: &ArmRequest,
        token: &Secret,
        attempt: u32,
        token_refreshed: &mut bool,
    ) -> Result<Attempt> {
        let last = attempt >= self.policy.max_attempts;
        let backoff = self
            .policy
            .backoff(attempt.saturating_sub(1), fastrand::f64());
        let response = match self.once(req, token).await {
            Ok(response) => response,
            Err(source) => {
                // A connection that was never made carried nothing: safe to retry anything.
                let unsent = source.is_connect();
                if req.class == OpClass::Action && !unsent {
                    return Err(
                        self.unknown(req, "the connection failed after the request was sent")
                    );
                }
                if last {
                    return Err(Error::Send {
                        operation: req.operation,
                        resource: req.resource.clone(),
                        source,
                    });
                }
                return Ok(Attempt::RetryAfter(backoff));
            }
        };
        let now = Instant::now();
        if let Some(remaining) = throttle::remaining(response.headers(), req.class) {
            let pause = throttle::slow_down(
                remaining,
                self.policy.slow_down_below,
                self.policy.slow_down_max,
            );
            self.pacer.hold(req.class, now, pause);
        }
        let status = response.status();
        if status.is_success() {
            return Ok(Attempt::Done(response));
        }
        let error = parse::arm_error(response.body());
        let retry_after = retry_after(response.headers());
        match status {
            StatusCode::UNAUTHORIZED if !*token_refreshed => {
                // Expired or revoked token: the request was refused, not run. Fetch a new one.
                *token_refreshed = true;
                self.credential.invalidate(token).await;
                Ok(Attempt::RetryAfter(Duration::ZERO))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                // A 429 that says "retry after 0" still gets the back-off: coming straight
                // back would only be throttled again.
                let wait = retry_after.unwrap_or(backoff).max(backoff);
                tracing::warn!(operation = req.operation, resource = %req.resource, retry_after_ms = wait.as_millis() as u64, "throttled by ARM");
                if last || wait > self.policy.max_retry_after {
                    return Err(Error::Throttled {
                        operation: req.operation,
                        resource: req.resource.clone(),
                        retry_after,
                        error: error.map(Box::new),
                    });
                }
                self.pacer.hold(req.class, now, wait);
                Ok(Attempt::RetryAfter(Duration::ZERO))
            }
            s if s.is_server_error() && req.class == OpClass::Action => {
                Err(self.unknown(req, &format!("ARM answered {}", s.as_u16())))
            }
            s if s.is_server_error() && !last => {
                Ok(Attempt::RetryAfter(retry_after.unwrap_or(backoff)))
            }
            s => Err(Error::Rejected {
                operation: req.operation,
                resource: req.resource.clone(),
                status: s.as_u16(),
                error: Box::new(error.unwrap_or_else(|| ArmError {
                    code: s.canonical_reason().unwrap_or("HttpError").replace(' ', ""),
                    message: format!("ARM answered {} without an error body", s.as_u16()),
                    details: vec![],
                })),
            }),
        }
    }

    async fn once(&self, req: &ArmRequest, token: &Secret) -> reqwest::Result<Response<Vec<u8>>> {
        let mut request = reqwest::Request::try_from(req.duplicate().http)?;
        let bearer = format!("Bearer {}", token.expose());
        if let Ok(mut value) = http::HeaderValue::from_str(&bearer) {
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let response = self.http.execute(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        tracing::debug!(
            operation = req.operation,
            resource = %req.resource,
            method = %req.http.method(),
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ARM call"
        );
        let mut out = Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }

    fn unknown(&self, req: &ArmRequest, reason: &str) -> Error {
        tracing::warn!(operation = req.operation, resource = %req.resource, reason, "action outcome unknown");
        Error::OutcomeUnknown {
            operation: req.operation,
            resource: req.resource.clone(),
            reason: reason.to_owned(),
        }
    }

    /// Refuses URLs on another origin than the endpoint, so tokens only go to ARM.
    fn check_origin(&self, req: &ArmRequest) -> Result<()> {
        let endpoint = self.requests.endpoint().origin();
        let target = url::Url::parse(&req.http.uri().to_string()).map(|u| u.origin());
        match target {
            Ok(origin) if origin == endpoint => Ok(()),
            Ok(origin) => Err(Error::ForeignUrl {
                operation: req.operation,
                resource: req.resource.clone(),
                origin: origin.ascii_serialization(),
            }),
            Err(_) => Err(Error::ForeignUrl {
                operation: req.operation,
                resource: req.resource.clone(),
                origin: "(unparsable URL)".into(),
            }),
        }
    }

    /// Sends `first` and follows `nextLink`s, collecting every page's items.
    pub async fn list<T>(
        &self,
        first: ArmRequest,
        parse_page: impl Fn(&[u8]) -> Result<Page<T>, ParseError>,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut req = first;
        loop {
            let response = self.send(&req).await?;
            let page = parse_page(response.body()).map_err(|source| Error::Parse {
                operation: req.operation,
                resource: req.resource.clone(),
                source,
            })?;
            items.extend(page.value);
            match page.next_link.filter(|l| !l.is_empty()) {
                Some(next) => req = self.requests.follow(req.operation, &req.resource, &next),
                None => return Ok(items),
            }
        }
    }

    /// Sends a GET and parses the answer.
    pub async fn get<T>(
        &self,
        req: ArmRequest,
        parse: impl Fn(&[u8]) -> Result<T, ParseError>,
    ) -> Result<T> {
        let response = self.send(&req).await?;
        parse(response.body()).map_err(|source| Error::Parse {
            operation: req.operation,
            resource: req.resource.clone(),
            source,
        })
    }
}

/// `Retry-After`, in seconds or as a date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    // The clock is read only for the HTTP-date form.
    parse_retry_after(raw, jiff::Timestamp::now())
}
