//! Simulated time: a start instant and a scale. At scale 100, a 60-second restart takes 0.6 s
//! of real time, so tests and demos run fast without sleeping to synchronise. Built on
//! `tokio::time`, so a test on paused time drives the simulator too.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

/// Converts between real and simulated time.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    start_real: Instant,
    start_sim: Timestamp,
    scale: f64,
}

impl SimClock {
    /// A clock that reads `start` now and runs `scale` times faster than real time (a scale
    /// of 0 or less counts as 1).
    pub fn new(start: Timestamp, scale: f64) -> Self {
        Self {
            start_real: Instant::now(),
            start_sim: start,
            scale: if scale > 0.0 { scale } else { 1.0 },
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> Timestamp {
        let real = self.start_real.elapsed().mul_f64(self.scale);
        let real = SignedDuration::try_from(real).unwrap_or(SignedDuration::MAX);
        self.start_sim.checked_add(real).unwrap_or(self.start_sim)
    }

    /// The real time that `sim_secs` simulated seconds take.
    pub fn real(&self, sim_secs: f64) -> Duration {
        Duration::from_secs_f64((sim_secs / self.scale).max(0.0))
    }

    /// `Retry-After` for polling a long-running operation: whole real seconds, rounded down,
    /// so a fast clock answers 0 and the client polls at its own minimum interval.
    pub fn poll_retry_after(&self, sim_secs: f64) -> u64 {
        self.real(sim_secs).as_secs_f64().floor() as u64
    }

    /// `Retry-After` of a 429: whole real seconds, rounded up, so the client never comes back
    /// before the window reopens.
    pub fn throttle_retry_after(&self, sim_secs: f64) -> u64 {
        self.real(sim_secs).as_secs_f64().ceil() as u64
    }

    /// How many times faster than real time the clock runs.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn runs_scaled_from_its_start() {
        let start: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let clock = SimClock::new(start, 100.0);
        assert_eq!(clock.now(), start);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(
            clock.now(),
            "2026-11-21T10:05:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(clock.real(60.0), Duration::from_millis(600));
        assert_eq!(clock.throttle_retry_after(10.0), 1);
        assert_eq!(clock.poll_retry_after(10.0), 0);
        assert_eq!(clock.poll_retry_after(250.0), 2);
        assert_eq!(clock.throttle_retry_after(0.0), 0);
        assert_eq!(SimClock::new(start, 0.0).scale(), 1.0);
    }
}
