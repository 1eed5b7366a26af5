//! Fault injection and throttling: which request fails, and which is over its budget.

use jiff::Timestamp;

use super::spec::{ArmWorldSpec, ErrorSpec, FaultSpec, ThrottleSpec};

/// A fault that fires: the error, and the HTTP status when it fails the request itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Firing {
    pub(crate) error: ErrorSpec,
    pub(crate) http_status: Option<u16>,
}

#[derive(Debug)]
struct Budget {
    spec: ThrottleSpec,
    window_start: Option<Timestamp>,
    used: u64,
}

/// The scenario's faults and budgets with what they have used up.
#[derive(Debug)]
pub(crate) struct FaultBook {
    faults: Vec<(FaultSpec, u32)>,
    budgets: Vec<Budget>,
    rng: fastrand::Rng,
}

/// A request over budget: how long until the window reopens, simulated seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OverBudget {
    pub(crate) retry_after_secs: f64,
}

impl FaultBook {
    pub(crate) fn new(spec: &ArmWorldSpec) -> Self {
        Self {
            faults: spec.faults.iter().cloned().map(|f| (f, 0)).collect(),
            budgets: spec
                .throttles
                .iter()
                .cloned()
                .map(|spec| Budget {
                    spec,
                    window_start: None,
                    used: 0,
                })
                .collect(),
            rng: fastrand::Rng::with_seed(spec.seed),
        }
    }

    /// Adds a fault while the simulator runs.
    pub(crate) fn add(&mut self, fault: FaultSpec) {
        self.faults.push((fault, 0));
    }

    /// The first fault for `operation` on any of `targets` that fires now.
    pub(crate) fn fire(&mut self, operation: &str, targets: &[String]) -> Option<Firing> {
        for (fault, fired) in &mut self.faults {
            let op_matches = fault.operation.eq_ignore_ascii_case("any")
                || fault.operation.eq_ignore_ascii_case(operation);
            let target_matches = fault.target == "*"
                || targets
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&fault.target));
            if !op_matches || !target_matches || fault.times.is_some_and(|n| *fired >= n) {
                continue;
            }
            if fault.probability.is_some_and(|p| self.rng.f64() >= p) {
                continue;
            }
            *fired += 1;
            return Some(Firing {
                error: fault.error.clone(),
                http_status: fault.http_status,
            });
        }
        None
    }

    /// Counts a request of `class` (`reads`/`writes`) and `operation` against the budgets;
    /// returns the budgets' lowest remaining count, or that it is over one.
    pub(crate) fn spend(
        &mut self,
        class: &str,
        operation: &str,
        now: Timestamp,
    ) -> Result<Option<u64>, OverBudget> {
        let mut lowest: Option<u64> = None;
        for b in &mut self.budgets {
            let applies = b.spec.class.eq_ignore_ascii_case(class)
                && b.spec
                    .operation
                    .as_deref()
                    .is_none_or(|o| o.eq_ignore_ascii_case(operation));
            if !applies {
                continue;
            }
            let window = jiff::SignedDuration::from_secs_f64(b.spec.window_secs.max(0.0));
            let start = match b.window_start {
                Some(start) if now.duration_since(start) < window => start,
                _ => {
                    b.used = 0;
                    b.window_start = Some(now);
                    now
                }
            };
            if b.used >= b.spec.budget {
                let left = window - now.duration_since(start);
                return Err(OverBudget {
                    retry_after_secs: left.as_secs_f64().max(0.0),
                });
            }
            b.used += 1;
            let remaining = b.spec.budget - b.used;
            lowest = Some(lowest.map_or(remaining, |l| l.min(remaining)));
        }
        Ok(lowest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(faults: Vec<FaultSpec>, throttles: Vec<ThrottleSpec>) -> FaultBook {
        FaultBook::new(&ArmWorldSpec {
            faults,
            throttles,
            ..ArmWorldSpec::default()
        })
    }

    #[test]
    fn faults_fire_n_times_on_their_target() {
        let mut b = book(
            vec![FaultSpec {
                operation: "restart".into(),
                target: "vmss/1".into(),
                times: Some(2),
                ..FaultSpec::default()
            }],
            vec![],
        );
        let t = vec!["vmss/1".to_owned()];
        assert!(b.fire("reimage", &t).is_none());
        assert!(b.fire("restart", &["vmss/2".to_owned()]).is_none());
        assert!(b.fire("RESTART", &t).is_some());
        assert!(b.fire("restart", &t).is_some());
        assert!(b.fire("restart", &t).is_none());
    }

    #[test]
    fn probabilistic_faults_follow_the_seed() {
        let mut b = book(
            vec![FaultSpec {
                probability: Some(0.5),
                ..FaultSpec::default()
            }],
            vec![],
        );
        let fired = (0..1000).filter(|_| b.fire("read", &[]).is_some()).count();
        assert!((400..600).contains(&fired), "{fired}");
    }

    #[test]
    fn budgets_refuse_then_reopen_with_the_window() {
        let mut b = book(
            vec![],
            vec![ThrottleSpec {
                class: "writes".into(),
                budget: 2,
                window_secs: 60.0,
                ..ThrottleSpec::default()
            }],
        );
        let t0: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        assert_eq!(b.spend("reads", "get", t0), Ok(None));
        assert_eq!(b.spend("writes", "restart", t0), Ok(Some(1)));
        assert_eq!(b.spend("writes", "restart", t0), Ok(Some(0)));
        let t1 = t0 + jiff::SignedDuration::from_secs(20);
        assert_eq!(
            b.spend("writes", "restart", t1),
            Err(OverBudget {
                retry_after_secs: 40.0
            })
        );
        let t2 = t0 + jiff::SignedDuration::from_secs(61);
        assert_eq!(b.spend("writes", "restart", t2), Ok(Some(1)));
    }
}
