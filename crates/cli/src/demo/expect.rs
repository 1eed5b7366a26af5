//! Checking a scenario's expectations against what happened.

use nodemend_sim::scenario::Expectations;
use serde::Serialize;

use super::outcome::Outcome;

/// One expectation and whether it holds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Check {
    pub(crate) expectation: String,
    pub(crate) ok: bool,
    pub(crate) observed: String,
}

/// Checks every expectation; `resolve` turns a `pool/index` reference into a node name.
pub(crate) fn check(
    expect: &Expectations,
    outcome: &Outcome,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    for n in &expect.nodes {
        let name = resolve(&n.node).unwrap_or_else(|| n.node.clone());
        let node = outcome.nodes.iter().find(|o| o.name == name);
        if let Some(ready) = n.ready {
            let seen = node.map(|o| o.ready);
            checks.push(Check {
                expectation: format!("{} ({name}) ready={ready}", n.node),
                ok: seen == Some(ready),
                observed: seen.map_or("node not found".into(), |r| format!("ready={r}")),
            });
        }
        if let Some(phase) = &n.repair {
            let seen = node
                .and_then(|o| o.repair.clone())
                .unwrap_or_else(|| "none".into());
            checks.push(Check {
                expectation: format!("{} ({name}) repair {phase}", n.node),
                ok: seen.eq_ignore_ascii_case(phase),
                observed: format!("repair {seen}"),
            });
        }
        if let Some(actions) = &n.actions {
            let seen: Vec<String> = node
                .map(|o| {
                    o.actions
                        .iter()
                        .map(|a| match &a.error_code {
                            Some(code) => format!("{}:{}:{code}", a.action, a.result),
                            None => format!("{}:{}", a.action, a.result),
                        })
                        .collect()
                })
                .unwrap_or_default();
            checks.push(Check {
                expectation: format!("{} ({name}) steps [{}]", n.node, actions.join(", ")),
                ok: &seen == actions,
                observed: format!("steps [{}]", seen.join(", ")),
            });
        }
    }
    for e in &expect.events {
        let node = e
            .node
            .as_deref()
            .map(|n| resolve(n).unwrap_or_else(|| n.to_owned()));
        let found = outcome.events.iter().any(|ev| {
            ev.reason == e.reason
                && node.as_ref().is_none_or(|n| &ev.node == n)
                && e.message.as_ref().is_none_or(|m| &ev.message == m)
        });
        let mut what = format!("event {}", e.reason);
        if let Some(n) = &node {
            what.push_str(&format!(" on {n}"));
        }
        if let Some(m) = &e.message {
            what.push_str(&format!(" with message {m:?}"));
        }
        checks.push(Check {
            expectation: what,
            ok: found,
            observed: if found {
                "recorded".into()
            } else {
                "not recorded".into()
            },
        });
    }
    for reason in &expect.absent_reasons {
        let count = outcome
            .events
            .iter()
            .filter(|e| &e.reason == reason)
            .count();
        checks.push(Check {
            expectation: format!("no event {reason}"),
            ok: count == 0,
            observed: format!("{count} recorded"),
        });
    }
    if let Some(max) = expect.max_vm_actions {
        checks.push(Check {
            expectation: format!("at most {max} VM actions sent to ARM"),
            ok: outcome.arm_calls.vm_actions <= max,
            observed: format!("{} sent", outcome.arm_calls.vm_actions),
        });
    }
    checks
}
