//! The step function of a repair: `(record, observation, policy) -> (next record, effects)`.

use jiff::{SignedDuration, Timestamp};

use super::{Phase, Repair, RepairEvent, StepOutcome, StepRecord};
use crate::health::{Health, assess};
use crate::model::{ConditionStatus, NodeView};
use crate::policy::{Action, DrainTimeout, Policy, PoolPolicy};

/// The code a redeploy fails with when the hourly redeploy budget is spent (as AKS reports it).
pub const REDEPLOY_BUDGET_CODE: &str = "TooManyVMRedeploymentRequests";

/// How the cloud answered an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    /// The action finished.
    Succeeded,
    /// The action failed with this error code.
    Failed {
        /// The cloud's error code.
        code: String,
    },
}

/// How a drain is going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainProgress {
    /// Every pod that had to go is gone.
    Done,
    /// Evictions are still going on.
    InProgress,
    /// Evictions are refused (a PodDisruptionBudget allows no disruption).
    Blocked {
        /// Why, e.g. the PodDisruptionBudget's name.
        reason: String,
    },
}

/// What the executor knows right now about the repair's node and its operations.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    /// The time.
    pub now: Timestamp,
    /// The node; `None` when it has been deleted.
    pub node: Option<&'a NodeView>,
    /// The result of the action in [`Phase::Acting`], once the cloud has answered.
    pub action_result: Option<ActionResult>,
    /// The executor is still waiting for the cloud to answer the action.
    pub in_flight: bool,
    /// How the drain is going, while draining.
    pub drain: Option<DrainProgress>,
    /// The safety limits (unhealthy cap, concurrency) allow a disruptive step now.
    pub may_act: bool,
    /// Redeploys still allowed in the current hour.
    pub redeploy_budget_left: u32,
}

/// Something the executor must do, after persisting the new record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Mark the node unschedulable.
    Cordon,
    /// Mark the node schedulable again.
    Uncordon,
    /// Evict (or keep evicting) the node's pods through the Eviction API.
    Drain,
    /// Send this action to the cloud for the node's VM.
    Issue(Action),
    /// Record this event on the node.
    Event(RepairEvent),
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The record to persist.
    pub repair: Repair,
    /// What to do once it is persisted, in order.
    pub effects: Vec<Effect>,
    /// When to step again if nothing changes before then.
    pub wake_at: Option<Timestamp>,
}

/// Decides the next phase of `repair`. Pure: same inputs, same answer.
pub fn step(repair: &Repair, obs: &Observation<'_>, policy: &Policy) -> Transition {
    let mut t = Transition {
        repair: repair.clone(),
        effects: Vec::new(),
        wake_at: None,
    };
    let pool = policy.pool(repair.pool.as_deref());
    let Some(node) = obs.node else {
        if !repair.phase.is_terminal() {
            t.repair.phase = Phase::Cancelled {
                at: obs.now,
                reason: "the node was deleted".into(),
            };
        }
        return t;
    };
    match repair.phase.clone() {
        Phase::Pending => pending(&mut t, node, obs, policy, pool),
        Phase::Draining { since } => draining(&mut t, node, since, obs, policy, pool),
        Phase::Acting { action, .. } => acting(&mut t, action, obs, policy, pool),
        Phase::Verifying { action, since } => {
            verifying(&mut t, node, action, since, obs, policy, pool)
        }
        Phase::BackingOff { until } => {
            if healthy(node, obs.now, policy) {
                succeed(
                    &mut t,
                    obs.now,
                    pool,
                    "the node became Ready while waiting to retry".into(),
                );
            } else if obs.now >= until {
                t.repair.attempt += 1;
                t.repair.step = 0;
                t.repair.phase = Phase::Pending;
                pending(&mut t, node, obs, policy, pool);
            } else {
                t.wake_at = Some(until);
            }
        }
        Phase::Succeeded { .. } | Phase::GaveUp { .. } | Phase::Cancelled { .. } => {}
    }
    t
}

fn healthy(node: &NodeView, now: Timestamp, policy: &Policy) -> bool {
    node.ready() == ConditionStatus::True && assess(node, now, &policy.health) == Health::Healthy
}

fn pending(
    t: &mut Transition,
    node: &NodeView,
    obs: &Observation<'_>,
    policy: &Policy,
    pool: &PoolPolicy,
) {
    if healthy(node, obs.now, policy) {
        if t.repair.history.is_empty() {
            t.repair.phase = Phase::Cancelled {
                at: obs.now,
                reason: "the node became Ready before any action".into(),
            };
            uncordon_if_ours(t, pool);
        } else {
            succeed(t, obs.now, pool, "the node is Ready again".into());
        }
        return;
    }
    if !obs.may_act {
        return;
    }
    let Some(rung) = pool.ladder.get(t.repair.step).copied() else {
        give_up(t, obs.now, policy);
        return;
    };
    if pool.cordon && !node.unschedulable && !t.repair.cordoned_by_us {
        t.repair.cordoned_by_us = true;
        t.effects.push(Effect::Cordon);
    }
    match pool.drain {
        Some(drain) if rung.action.disrupts_pods() && !out_of_budget(rung.action, obs) => {
            t.repair.phase = Phase::Draining { since: obs.now };
            t.effects.push(Effect::Drain);
            t.wake_at = Some(obs.now + drain.timeout);
        }
        _ => act(t, node, rung.action, obs, policy, pool),
    }
}

fn out_of_budget(action: Action, obs: &Observation<'_>) -> bool {
    action == Action::Redeploy && obs.redeploy_budget_left == 0
}

/// Starts `action`, unless it is a redeploy and the hourly budget is spent: then the rung fails
/// with the code AKS uses, without calling the cloud.
fn act(
    t: &mut Transition,
    node: &NodeView,
    action: Action,
    obs: &Observation<'_>,
    policy: &Policy,
    pool: &PoolPolicy,
) {
    if out_of_budget(action, obs) {
        fail_rung(t, action, obs.now, REDEPLOY_BUDGET_CODE, obs, policy, pool);
        return;
    }
    let now = obs.now;
    t.repair.phase = Phase::Acting {
        action,
        issued: now,
    };
    t.repair.boot_id = node.boot_id.clone();
    t.effects.push(Effect::Event(RepairEvent::started(
        action,
        t.repair.attempt,
        policy.ladder_attempts,
    )));
    t.effects.push(Effect::Issue(action));
}

fn draining(
    t: &mut Transition,
    node: &NodeView,
    since: Timestamp,
    obs: &Observation<'_>,
    policy: &Policy,
    pool: &PoolPolicy,
) {
    let Some(action) = pool.ladder.get(t.repair.step).map(|r| r.action) else {
        give_up(t, obs.now, policy);
        return;
    };
    let timeout = pool.drain.map_or(SignedDuration::ZERO, |d| d.timeout);
    let timed_out = obs.now >= since + timeout;
    let done = matches!(obs.drain, Some(DrainProgress::Done));
    if (done || timed_out) && !obs.may_act {
        return;
    }
    if done {
        act(t, node, action, obs, policy, pool);
    } else if timed_out {
        match pool.drain.map_or(DrainTimeout::Proceed, |d| d.on_timeout) {
            DrainTimeout::Proceed => act(t, node, action, obs, policy, pool),
            DrainTimeout::Stop => {
                record(t, action, since, obs.now, StepOutcome::DrainBlocked);
                let why = match &obs.drain {
                    Some(DrainProgress::Blocked { reason }) => reason.clone(),
                    _ => "evictions did not finish".into(),
                };
                t.repair.phase = Phase::GaveUp { at: obs.now };
                t.effects.push(Effect::Event(RepairEvent::warning(
                    "NodeRepairGaveUp",
                    format!("Node auto-repair stopped before the {action}: the drain did not finish within {timeout:#} ({why}); the node is left cordoned"),
                )));
            }
        }
    } else {
        t.effects.push(Effect::Drain);
        t.wake_at = Some(since + timeout);
    }
}

fn acting(
    t: &mut Transition,
    action: Action,
    obs: &Observation<'_>,
    policy: &Policy,
    pool: &PoolPolicy,
) {
    match &obs.action_result {
        Some(ActionResult::Succeeded) => {
            t.repair.phase = Phase::Verifying {
                action,
                since: obs.now,
            };
            t.effects.push(Effect::Event(RepairEvent::ended(action)));
            t.wake_at = Some(obs.now + verify_window(pool, t.repair.step));
        }
        Some(ActionResult::Failed { code }) => {
            fail_rung(t, action, obs.now, code, obs, policy, pool)
        }
        None if obs.in_flight => {}
        // No answer and nothing in flight: the action was recorded before it was sent and the
        // process that sent it is gone. It may have reached the cloud, so it is never sent
        // again: verify it like any other.
        None => {
            t.repair.phase = Phase::Verifying {
                action,
                since: obs.now,
            };
            t.wake_at = Some(obs.now + verify_window(pool, t.repair.step));
        }
    }
}

fn verify_window(pool: &PoolPolicy, step: usize) -> SignedDuration {
    pool.ladder
        .get(step)
        .map_or(SignedDuration::ZERO, |r| r.verify)
}

fn verifying(
    t: &mut Transition,
    node: &NodeView,
    action: Action,
    since: Timestamp,
    obs: &Observation<'_>,
    policy: &Policy,
    pool: &PoolPolicy,
) {
    let rebooted = match (&t.repair.boot_id, &node.boot_id) {
        (Some(before), Some(now)) => before != now,
        (None, _) | (_, None) => true,
    };
    let deadline = since + verify_window(pool, t.repair.step);
    if healthy(node, obs.now, policy) && rebooted {
        record(t, action, since, obs.now, StepOutcome::Recovered);
        succeed(
            t,
            obs.now,
            pool,
            format!("the node is Ready again after the {action}"),
        );
    } else if obs.now >= deadline {
        if healthy(node, obs.now, policy) {
            record(t, action, since, obs.now, StepOutcome::Recovered);
            succeed(
                t,
                obs.now,
                pool,
                format!(
                    "the node is Ready again, but its boot ID did not change: the {action} may not have happened"
                ),
            );
        } else {
            record(t, action, since, obs.now, StepOutcome::NotRecovered);
            advance(t, obs, policy, pool);
        }
    } else {
        t.wake_at = Some(deadline);
    }
}

fn record(
    t: &mut Transition,
    action: Action,
    started: Timestamp,
    now: Timestamp,
    outcome: StepOutcome,
) {
    t.repair.history.push(StepRecord {
        action,
        attempt: t.repair.attempt,
        started,
        finished: now,
        outcome,
    });
}

fn fail_rung(
    t: &mut Transition,
    action: Action,
    now: Timestamp,
    code: &str,
    obs: &Observation<'_>,
    policy: &Policy,
    pool: &PoolPolicy,
) {
    t.effects
        .push(Effect::Event(RepairEvent::failed(action, code)));
    record(
        t,
        action,
        now,
        now,
        StepOutcome::Failed {
            code: code.to_owned(),
        },
    );
    t.repair.last_error = Some(code.to_owned());
    advance(t, obs, policy, pool);
}

/// Moves past a rung that did not help: the next rung, the next try after a back-off, or the end.
fn advance(t: &mut Transition, obs: &Observation<'_>, policy: &Policy, pool: &PoolPolicy) {
    if t.repair.step + 1 < pool.ladder.len() {
        t.repair.step += 1;
        t.repair.phase = Phase::Pending;
        let next = Observation {
            action_result: None,
            in_flight: false,
            drain: None,
            ..obs.clone()
        };
        if let Some(node) = obs.node {
            pending(t, node, &next, policy, pool);
        }
    } else if t.repair.attempt < policy.ladder_attempts {
        let factor = 1_i32 << (t.repair.attempt - 1).min(16);
        let until = obs.now + policy.backoff * factor;
        t.repair.step = 0;
        t.repair.phase = Phase::BackingOff { until };
        t.wake_at = Some(until);
    } else {
        give_up(t, obs.now, policy);
    }
}

fn give_up(t: &mut Transition, now: Timestamp, policy: &Policy) {
    t.repair.phase = Phase::GaveUp { at: now };
    let last = t
        .repair
        .last_error
        .as_deref()
        .map_or(String::new(), |code| format!("; last error: {code}"));
    t.effects.push(Effect::Event(RepairEvent::warning(
        "NodeRepairGaveUp",
        format!(
            "Node auto-repair gave up after {} tries of the repair ladder; the node is left cordoned for a human{last}",
            policy.ladder_attempts
        ),
    )));
}

fn succeed(t: &mut Transition, now: Timestamp, pool: &PoolPolicy, why: String) {
    t.repair.phase = Phase::Succeeded { at: now };
    let took = jiff::SignedDuration::from_secs(now.duration_since(t.repair.started).as_secs());
    t.effects.push(Effect::Event(RepairEvent::normal(
        "NodeRepaired",
        format!("Node auto-repair finished: {why} (took {took:#})"),
    )));
    uncordon_if_ours(t, pool);
}

fn uncordon_if_ours(t: &mut Transition, pool: &PoolPolicy) {
    if t.repair.cordoned_by_us && pool.uncordon {
        t.repair.cordoned_by_us = false;
        t.effects.push(Effect::Uncordon);
    }
}
