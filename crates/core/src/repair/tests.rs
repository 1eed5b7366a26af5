use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::model::{ConditionStatus, NodeCondition, NodeView, READY};
use crate::policy::{Action, Policy, RawPolicy};

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

/// A node whose Ready condition has had `status` since `since`, booted as `boot`.
fn node(status: ConditionStatus, since: i64, boot: &str) -> NodeView {
    let mut n = NodeView::new("aks-np1-0");
    n.pool = Some("np1".into());
    n.boot_id = Some(boot.into());
    n.conditions
        .push(NodeCondition::new(READY, status, ts(since)));
    n
}

fn broken() -> NodeView {
    node(ConditionStatus::Unknown, 0, "boot-1")
}

fn obs(now: i64, node: Option<&NodeView>) -> Observation<'_> {
    Observation {
        now: ts(now),
        node,
        action_result: None,
        in_flight: false,
        drain: None,
        may_act: true,
        redeploy_budget_left: 10,
    }
}

fn no_drain_policy() -> Policy {
    serde_json::from_str::<RawPolicy>(r#"{"defaults": {"drain": false}}"#)
        .unwrap()
        .resolve()
        .unwrap()
}

fn issued(t: &Transition) -> Vec<Action> {
    t.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Issue(a) => Some(*a),
            _ => None,
        })
        .collect()
}

fn reasons(t: &Transition) -> Vec<String> {
    t.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Event(ev) => Some(ev.reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reboot_that_brings_the_node_back_finishes_the_repair() {
    let policy = no_drain_policy();
    let sick = broken();
    let repair = Repair::new("aks-np1-0", Some("np1".into()), ts(300));

    let t = step(&repair, &obs(300, Some(&sick)), &policy);
    assert_eq!(t.effects.first(), Some(&Effect::Cordon));
    assert_eq!(issued(&t), [Action::Reboot]);
    assert_eq!(reasons(&t), ["NodeRebootStart"]);
    assert!(matches!(
        t.repair.phase,
        Phase::Acting {
            action: Action::Reboot,
            ..
        }
    ));
    assert_eq!(t.repair.boot_id.as_deref(), Some("boot-1"));

    let mut o = obs(330, Some(&sick));
    o.action_result = Some(ActionResult::Succeeded);
    let t = step(&t.repair, &o, &policy);
    assert_eq!(reasons(&t), ["NodeRebootEnd"]);
    assert_eq!(t.wake_at, Some(ts(330) + SignedDuration::from_mins(10)));

    let well = node(ConditionStatus::True, 400, "boot-2");
    let t = step(&t.repair, &obs(420, Some(&well)), &policy);
    assert!(matches!(t.repair.phase, Phase::Succeeded { .. }));
    assert_eq!(reasons(&t), ["NodeRepaired"]);
    assert!(t.effects.contains(&Effect::Uncordon));
    assert_eq!(t.repair.history.len(), 1);
    assert_eq!(t.repair.history[0].outcome, StepOutcome::Recovered);
}

#[test]
fn a_failed_action_emits_the_aks_error_event_and_escalates_at_once() {
    let policy = no_drain_policy();
    let sick = broken();
    let t = step(
        &Repair::new("n", None, ts(300)),
        &obs(300, Some(&sick)),
        &policy,
    );
    let mut o = obs(310, Some(&sick));
    o.action_result = Some(ActionResult::Failed {
        code: "VMExtensionProvisioningError".into(),
    });
    let t = step(&t.repair, &o, &policy);
    let error = t
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Event(ev) if ev.reason == "NodeRebootError" => Some(ev.clone()),
            _ => None,
        })
        .expect("NodeRebootError event");
    assert_eq!(error.kind, EventType::Warning);
    assert_eq!(
        error.message,
        "Node auto-repair reboot action failed due to an operation failure: VMExtensionProvisioningError"
    );
    assert_eq!(issued(&t), [Action::Reimage], "escalates without waiting");
    assert_eq!(
        t.repair.last_error.as_deref(),
        Some("VMExtensionProvisioningError")
    );
}

#[test]
fn ready_with_the_same_boot_id_does_not_count_until_the_window_ends() {
    let policy = no_drain_policy();
    let mut repair = Repair::new("n", None, ts(0));
    repair.boot_id = Some("boot-1".into());
    repair.phase = Phase::Verifying {
        action: Action::Reboot,
        since: ts(100),
    };
    let same_boot = node(ConditionStatus::True, 150, "boot-1");
    let t = step(&repair, &obs(200, Some(&same_boot)), &policy);
    assert!(matches!(t.repair.phase, Phase::Verifying { .. }), "not yet");
    let t = step(&repair, &obs(100 + 600, Some(&same_boot)), &policy);
    assert!(matches!(t.repair.phase, Phase::Succeeded { .. }));
    let Effect::Event(ev) = &t.effects[0] else {
        panic!()
    };
    assert!(
        ev.message.contains("boot ID did not change"),
        "{}",
        ev.message
    );
}

#[test]
fn an_unrecovered_node_escalates_after_the_verification_window() {
    let policy = no_drain_policy();
    let sick = broken();
    let mut repair = Repair::new("n", None, ts(0));
    repair.phase = Phase::Verifying {
        action: Action::Reboot,
        since: ts(100),
    };
    let t = step(&repair, &obs(699, Some(&sick)), &policy);
    assert!(issued(&t).is_empty());
    let t = step(&repair, &obs(700, Some(&sick)), &policy);
    assert_eq!(issued(&t), [Action::Reimage]);
    assert_eq!(t.repair.history[0].outcome, StepOutcome::NotRecovered);
}

#[test]
fn after_the_last_rung_it_backs_off_then_retries_then_gives_up() {
    let policy = no_drain_policy();
    let sick = broken();
    let mut repair = Repair::new("n", None, ts(0));
    repair.step = 2;
    repair.phase = Phase::Acting {
        action: Action::Redeploy,
        issued: ts(10),
    };
    let mut o = obs(20, Some(&sick));
    o.action_result = Some(ActionResult::Failed {
        code: "VMRedeploymentFailed".into(),
    });
    let t = step(&repair, &o, &policy);
    assert_eq!(
        t.repair.phase,
        Phase::BackingOff {
            until: ts(20) + SignedDuration::from_mins(10)
        }
    );

    let t2 = step(&t.repair, &obs(20 + 600, Some(&sick)), &policy);
    assert_eq!(t2.repair.attempt, 2);
    assert_eq!(issued(&t2), [Action::Reboot]);

    let mut last = t2.repair.clone();
    last.attempt = 3;
    last.step = 2;
    last.phase = Phase::Acting {
        action: Action::Redeploy,
        issued: ts(5000),
    };
    let t3 = step(&last, &o, &policy);
    assert!(matches!(t3.repair.phase, Phase::GaveUp { .. }));
    assert_eq!(reasons(&t3), ["NodeRedeployError", "NodeRepairGaveUp"]);
    assert!(
        !t3.effects.contains(&Effect::Uncordon),
        "left cordoned for a human"
    );
}

#[test]
fn an_exhausted_redeploy_budget_fails_without_calling_the_cloud() {
    let policy = no_drain_policy();
    let sick = broken();
    let mut repair = Repair::new("n", None, ts(0));
    repair.step = 2;
    let mut o = obs(100, Some(&sick));
    o.redeploy_budget_left = 0;
    let t = step(&repair, &o, &policy);
    assert!(issued(&t).is_empty());
    let Some(Effect::Event(ev)) = t.effects.iter().find(|e| matches!(e, Effect::Event(_))) else {
        panic!("no event")
    };
    assert_eq!(ev.reason, "NodeRedeployError");
    assert!(ev.message.ends_with(": TooManyVMRedeploymentRequests"));
}

#[test]
fn drains_before_reimage_and_honours_the_timeout_policy() {
    let policy = Policy::default();
    let sick = broken();
    let mut repair = Repair::new("n", None, ts(0));
    repair.step = 1;
    let t = step(&repair, &obs(100, Some(&sick)), &policy);
    assert!(t.effects.contains(&Effect::Drain));
    assert!(matches!(t.repair.phase, Phase::Draining { .. }));

    let mut o = obs(200, Some(&sick));
    o.drain = Some(DrainProgress::Done);
    assert_eq!(issued(&step(&t.repair, &o, &policy)), [Action::Reimage]);

    let mut blocked = obs(100 + 600, Some(&sick));
    blocked.drain = Some(DrainProgress::Blocked {
        reason: "pdb web allows 0 disruptions".into(),
    });
    assert_eq!(
        issued(&step(&t.repair, &blocked, &policy)),
        [Action::Reimage],
        "proceeds by default"
    );

    let stop: Policy =
        serde_json::from_str::<RawPolicy>(r#"{"defaults": {"drain": {"onTimeout": "stop"}}}"#)
            .unwrap()
            .resolve()
            .unwrap();
    let t = step(&t.repair, &blocked, &stop);
    assert!(matches!(t.repair.phase, Phase::GaveUp { .. }));
    assert_eq!(t.repair.history[0].outcome, StepOutcome::DrainBlocked);
}

#[test]
fn nothing_destructive_happens_while_the_safety_limits_hold() {
    let policy = no_drain_policy();
    let sick = broken();
    let mut o = obs(300, Some(&sick));
    o.may_act = false;
    let t = step(&Repair::new("n", None, ts(300)), &o, &policy);
    assert!(t.effects.is_empty());
    assert_eq!(t.repair.phase, Phase::Pending);
}

#[test]
fn a_deleted_or_recovered_node_ends_the_repair() {
    let policy = no_drain_policy();
    let repair = Repair::new("n", None, ts(0));
    let t = step(&repair, &obs(10, None), &policy);
    assert!(matches!(t.repair.phase, Phase::Cancelled { .. }));
    let well = node(ConditionStatus::True, 5, "b");
    let t = step(&repair, &obs(10, Some(&well)), &policy);
    assert!(
        matches!(t.repair.phase, Phase::Cancelled { .. }),
        "no action was taken, so nothing to credit"
    );
}

#[test]
fn the_record_round_trips_through_json() {
    let mut repair = Repair::new("n", Some("np1".into()), ts(0));
    repair.phase = Phase::Acting {
        action: Action::Reimage,
        issued: ts(5),
    };
    let json = serde_json::to_string(&repair).unwrap();
    assert!(json.contains(r#""phase":"Acting""#), "{json}");
    let back: Repair = serde_json::from_str(&json).unwrap();
    assert_eq!(back, repair);
}

fn arb_obs_result() -> impl Strategy<Value = (Option<ActionResult>, bool)> {
    prop_oneof![
        Just((None, false)),
        Just((None, true)),
        Just((Some(ActionResult::Succeeded), false)),
        "[A-Za-z]{3,12}".prop_map(|code| (Some(ActionResult::Failed { code }), false)),
    ]
}

proptest! {
    /// After a crash (the executor has no result and nothing in flight), a repair never sends
    /// the action it had recorded as sent; the only action it may send is a later rung's.
    #[test]
    fn a_restart_never_repeats_an_issued_action(
        step_index in 0usize..3,
        attempt in 1u32..4,
        now in 0i64..10_000,
        boot in "[a-z]{1,4}",
        ready in prop::bool::ANY,
    ) {
        let policy = no_drain_policy();
        let action = policy.default_pool.ladder[step_index].action;
        let mut repair = Repair::new("n", None, ts(0));
        repair.step = step_index;
        repair.attempt = attempt;
        repair.phase = Phase::Acting { action, issued: ts(0) };
        let status = if ready { ConditionStatus::True } else { ConditionStatus::Unknown };
        let n = node(status, 0, &boot);
        let t = step(&repair, &obs(now, Some(&n)), &policy);
        prop_assert!(!issued(&t).contains(&action), "{action} sent again: {:?}", t.effects);
    }

    /// Whatever the cloud answers, a step sends at most one action, and never while the safety
    /// limits hold.
    #[test]
    fn at_most_one_action_per_step_and_none_when_held(
        step_index in 0usize..3,
        phase_kind in 0u8..5,
        (result, in_flight) in arb_obs_result(),
        may_act in prop::bool::ANY,
        budget in 0u32..3,
        now in 0i64..100_000,
    ) {
        let policy = no_drain_policy();
        let action = policy.default_pool.ladder[step_index].action;
        let mut repair = Repair::new("n", None, ts(0));
        repair.step = step_index;
        repair.phase = match phase_kind {
            0 => Phase::Pending,
            1 => Phase::Acting { action, issued: ts(0) },
            2 => Phase::Verifying { action, since: ts(0) },
            3 => Phase::BackingOff { until: ts(50_000) },
            _ => Phase::Draining { since: ts(0) },
        };
        let sick = broken();
        let o = Observation {
            action_result: result,
            in_flight,
            may_act,
            redeploy_budget_left: budget,
            ..obs(now, Some(&sick))
        };
        let t = step(&repair, &o, &policy);
        let sent = issued(&t);
        prop_assert!(sent.len() <= 1, "{:?}", t.effects);
        if !may_act {
            prop_assert!(sent.is_empty(), "acted while held: {:?}", t.effects);
        }
        if budget == 0 {
            prop_assert!(!sent.contains(&Action::Redeploy));
        }
    }
}
