//! How long to wait before trying again: the retry policy, jittered exponential back-off and
//! the `Retry-After` header. Pure functions; the executor supplies the randomness and the time.

use std::time::Duration;

use jiff::Timestamp;

/// Retries, back-off, long-running-operation polling and throttling thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Back-off before the first retry; doubles with each attempt.
    pub base_backoff: Duration,
    /// Longest back-off between two attempts.
    pub max_backoff: Duration,
    /// Longest wait a `Retry-After` header is honoured for; longer asks fail the call as
    /// throttled, so that the caller (the controller) decides what to do meanwhile.
    pub max_retry_after: Duration,
    /// Interval between polls of a long-running operation that gave no `Retry-After`.
    pub poll_interval: Duration,
    /// Shortest interval between polls, whatever `Retry-After` says (it may say 0).
    pub min_poll_interval: Duration,
    /// How long a long-running operation may take before the call gives up.
    pub operation_deadline: Duration,
    /// When ARM says fewer requests than this remain in a throttling window, slow down.
    pub slow_down_below: u64,
    /// The pause before a request when no request at all remains in the window.
    pub slow_down_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            poll_interval: Duration::from_secs(10),
            min_poll_interval: Duration::from_secs(1),
            operation_deadline: Duration::from_secs(30 * 60),
            slow_down_below: 20,
            slow_down_max: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Back-off before retry number `attempt` (0 for the first retry), with "equal jitter":
    /// half the exponential delay fixed, half scaled by `jitter` (a number in `[0, 1)`), so that
    /// many clients that failed together do not come back together.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_backoff);
        let half = exp / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// The wait before the next poll of a long-running operation.
    pub fn poll_delay(&self, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or(self.poll_interval).clamp(
            self.min_poll_interval,
            self.max_retry_after.max(self.min_poll_interval),
        )
    }
}

/// Reads a `Retry-After` value: delay-seconds, or an HTTP date (relative to `now`).
pub(crate) fn parse_retry_after(raw: &str, now: Timestamp) -> Option<Duration> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(raw)
        .ok()?;
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let policy = RetryPolicy {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(policy.backoff(0, 0.999_999).as_millis(), 99);
        assert_eq!(policy.backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(policy.backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(policy.backoff(10, 1.0), Duration::from_millis(1000));
        assert_eq!(policy.backoff(u32::MAX, 0.5), Duration::from_millis(750));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("17", now), Some(Duration::from_secs(17)));
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn poll_delay_honours_retry_after_within_bounds() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.poll_delay(None), Duration::from_secs(10));
        assert_eq!(
            policy.poll_delay(Some(Duration::ZERO)),
            Duration::from_secs(1)
        );
        assert_eq!(
            policy.poll_delay(Some(Duration::from_secs(25))),
            Duration::from_secs(25)
        );
        assert_eq!(
            policy.poll_delay(Some(Duration::from_secs(9999))),
            Duration::from_secs(300)
        );
    }
}
