//! Staying under ARM's request budgets: reads the `x-ms-ratelimit-remaining-*` headers and
//! 429 answers, and keeps one "not before" gate per budget (reads, writes) that every request
//! of that budget waits for.

use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;
use tokio::time::Instant;

use crate::requests::OpClass;

const READ_HEADERS: [&str; 3] = [
    "x-ms-ratelimit-remaining-subscription-reads",
    "x-ms-ratelimit-remaining-tenant-reads",
    "x-ms-ratelimit-remaining-subscription-global-reads",
];
const WRITE_HEADERS: [&str; 4] = [
    "x-ms-ratelimit-remaining-subscription-writes",
    "x-ms-ratelimit-remaining-tenant-writes",
    "x-ms-ratelimit-remaining-subscription-global-writes",
    "x-ms-ratelimit-remaining-subscription-deletes",
];
/// Resource-provider policies, e.g. `Microsoft.Compute/HighCostGet3Min;159`, one per policy,
/// repeated or comma-joined.
const RESOURCE_HEADER: &str = "x-ms-ratelimit-remaining-resource";

/// The fewest requests any budget that applies to `class` says remain.
pub(crate) fn remaining(headers: &HeaderMap, class: OpClass) -> Option<u64> {
    let names: &[&str] = match class {
        OpClass::Read => &READ_HEADERS,
        OpClass::Write | OpClass::Action => &WRITE_HEADERS,
    };
    let plain = names
        .iter()
        .flat_map(|name| headers.get_all(*name))
        .filter_map(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let policies = headers
        .get_all(RESOURCE_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|policy| policy.rsplit_once(';')?.1.trim().parse::<u64>().ok());
    plain.chain(policies).min()
}

/// The pause before the next request when `remaining` requests remain: none above `below`,
/// growing linearly to `max` as the budget runs out.
pub(crate) fn slow_down(remaining: u64, below: u64, max: Duration) -> Duration {
    if below == 0 || remaining >= below {
        return Duration::ZERO;
    }
    let short = below - remaining;
    max.mul_f64(short as f64 / below as f64)
}

/// The two gates (reads, writes).
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    gates: Mutex<[Option<Instant>; 2]>,
}

fn bucket(class: OpClass) -> usize {
    match class {
        OpClass::Read => 0,
        OpClass::Write | OpClass::Action => 1,
    }
}

impl Pacer {
    /// How long a request of `class` must wait from `now`.
    pub(crate) fn delay(&self, class: OpClass, now: Instant) -> Duration {
        let gates = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gates[bucket(class)].map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
    }

    /// Holds requests of `class` back until `now + wait` (never shortens an existing hold).
    pub(crate) fn hold(&self, class: OpClass, now: Instant, wait: Duration) {
        if wait.is_zero() {
            return;
        }
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let gate = &mut gates[bucket(class)];
        let until = now + wait;
        if gate.is_none_or(|at| at < until) {
            *gate = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn takes_the_lowest_applicable_budget() {
        let mut headers = HeaderMap::new();
        headers.insert(READ_HEADERS[0], HeaderValue::from_static("11999"));
        headers.insert(WRITE_HEADERS[0], HeaderValue::from_static("3"));
        headers.append(
            RESOURCE_HEADER,
            HeaderValue::from_static(
                "Microsoft.Compute/GetVMScaleSet3Min;197,Microsoft.Compute/GetVMScaleSet30Min;1297",
            ),
        );
        headers.append(
            RESOURCE_HEADER,
            HeaderValue::from_static("Microsoft.Compute/HighCostGet3Min;159"),
        );
        assert_eq!(remaining(&headers, OpClass::Read), Some(159));
        assert_eq!(remaining(&headers, OpClass::Action), Some(3));
        assert_eq!(remaining(&HeaderMap::new(), OpClass::Read), None);
    }

    #[test]
    fn slows_down_linearly_as_the_budget_runs_out() {
        let max = Duration::from_secs(2);
        assert_eq!(slow_down(20, 20, max), Duration::ZERO);
        assert_eq!(slow_down(10, 20, max), Duration::from_secs(1));
        assert_eq!(slow_down(0, 20, max), max);
        assert_eq!(slow_down(0, 0, max), Duration::ZERO);
    }

    #[test]
    fn gates_are_per_budget_and_only_lengthen() {
        let pacer = Pacer::default();
        let now = Instant::now();
        pacer.hold(OpClass::Action, now, Duration::from_secs(5));
        pacer.hold(OpClass::Write, now, Duration::from_secs(1));
        assert_eq!(pacer.delay(OpClass::Write, now), Duration::from_secs(5));
        assert_eq!(pacer.delay(OpClass::Read, now), Duration::ZERO);
        assert_eq!(
            pacer.delay(OpClass::Action, now + Duration::from_secs(9)),
            Duration::ZERO
        );
    }
}
