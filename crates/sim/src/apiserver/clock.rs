//! The time source of the simulated server: timestamps it writes and the node lifecycle's idea
//! of "now".

use jiff::Timestamp;

/// Where the simulated server reads the time; injectable so that tests control it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// Wall time at start plus elapsed `tokio::time`: follows tokio's paused and advanced time in
/// tests, and real time otherwise.
#[derive(Debug)]
pub struct TokioClock {
    start_wall: Timestamp,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting at the current wall time.
    pub fn new() -> Self {
        Self::starting_at(Timestamp::now())
    }

    /// A clock starting at `start_wall`, for reproducible timestamps.
    pub fn starting_at(start_wall: Timestamp) -> Self {
        Self {
            start_wall,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.start.elapsed();
        let span = jiff::SignedDuration::try_from(elapsed).unwrap_or(jiff::SignedDuration::MAX);
        self.start_wall.checked_add(span).unwrap_or(self.start_wall)
    }
}

/// A timestamp as Kubernetes writes `metav1.Time` (whole seconds, UTC).
pub(crate) fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_tokio_time() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid");
        let clock = TokioClock::starting_at(t0);
        tokio::time::advance(std::time::Duration::from_secs(41)).await;
        assert_eq!(format_time(clock.now()), "2026-01-01T00:00:41Z");
    }
}
