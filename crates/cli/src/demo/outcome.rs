//! What happened in a simulated cluster, read back through the same APIs a person would use:
//! nodes, nodemend's events, the NodeRepair records and the ARM call log.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Node};
use kube::Api;
use kube::api::ListParams;
use nodemend_core::repair::{Repair, StepOutcome};
use nodemend_kube::records::RepairRecords;
use nodemend_sim::arm::ArmSim;
use serde::Serialize;

/// One step of a node's repair, as the summary shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ActionOutcome {
    pub(crate) action: String,
    pub(crate) result: String,
    pub(crate) error_code: Option<String>,
}

/// A node at the end.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NodeOutcome {
    pub(crate) name: String,
    pub(crate) pool: Option<String>,
    pub(crate) ready: bool,
    /// Phase of the node's latest repair, if any.
    pub(crate) repair: Option<String>,
    pub(crate) actions: Vec<ActionOutcome>,
}

/// An event nodemend recorded.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EventOutcome {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) reason: String,
    pub(crate) message: String,
    pub(crate) node: String,
    pub(crate) count: i32,
}

/// ARM calls made.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ArmCalls {
    pub(crate) total: usize,
    pub(crate) vm_actions: usize,
}

/// Everything observed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Outcome {
    pub(crate) nodes: Vec<NodeOutcome>,
    pub(crate) events: Vec<EventOutcome>,
    pub(crate) arm_calls: ArmCalls,
}

fn step_result(outcome: &StepOutcome) -> (&'static str, Option<String>) {
    match outcome {
        StepOutcome::Recovered => ("recovered", None),
        StepOutcome::Failed { code } => ("failed", Some(code.clone())),
        StepOutcome::NotRecovered => ("not-recovered", None),
        StepOutcome::DrainBlocked => ("drain-blocked", None),
    }
}

fn actions_of(repair: &Repair) -> Vec<ActionOutcome> {
    repair
        .history
        .iter()
        .map(|s| {
            let (result, code) = step_result(&s.outcome);
            ActionOutcome {
                action: s.action.as_str().to_owned(),
                result: result.to_owned(),
                error_code: code,
            }
        })
        .collect()
}

/// The VM actions in the ARM call log: POSTs of restart, reimage or redeploy.
pub(crate) fn vm_actions(arm: &ArmSim) -> usize {
    arm.calls()
        .iter()
        .filter(|c| c.is_arm() && c.method == "POST")
        .filter(|c| {
            let path = c.path.to_ascii_lowercase();
            ["/restart", "/reimage", "/redeploy"]
                .iter()
                .any(|a| path.ends_with(a))
        })
        .count()
}

/// Reads the outcome now.
pub(crate) async fn observe(client: &kube::Client, arm: &ArmSim) -> anyhow::Result<Outcome> {
    let nodes: Api<Node> = Api::all(client.clone());
    let (repairs, _) = RepairRecords::new(client.clone()).list().await?;
    let mut latest: BTreeMap<String, Repair> = BTreeMap::new();
    for repair in repairs {
        if latest
            .get(&repair.node)
            .is_none_or(|r| r.started < repair.started)
        {
            latest.insert(repair.node.clone(), repair);
        }
    }
    let mut out_nodes = Vec::new();
    for node in nodes.list(&ListParams::default()).await?.items {
        let view = nodemend_kube::node::node_view(&node);
        let repair = latest.get(&view.name);
        out_nodes.push(NodeOutcome {
            ready: view.ready() == nodemend_core::model::ConditionStatus::True,
            pool: view.pool.clone(),
            repair: repair.map(|r| r.phase.name().to_owned()),
            actions: repair.map(actions_of).unwrap_or_default(),
            name: view.name,
        });
    }
    let events: Api<Event> = Api::all(client.clone());
    let mut out_events: Vec<EventOutcome> = events
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            e.source.as_ref().and_then(|s| s.component.as_deref())
                == Some(nodemend_kube::events::COMPONENT)
        })
        .map(|e| EventOutcome {
            kind: e.type_.unwrap_or_default(),
            reason: e.reason.unwrap_or_default(),
            message: e.message.unwrap_or_default(),
            node: e.involved_object.name.unwrap_or_default(),
            count: e.count.unwrap_or(1),
        })
        .collect();
    out_events.sort_by(|a, b| a.node.cmp(&b.node));
    let total = arm.calls().iter().filter(|c| c.is_arm()).count();
    Ok(Outcome {
        nodes: out_nodes,
        events: out_events,
        arm_calls: ArmCalls {
            total,
            vm_actions: vm_actions(arm),
        },
    })
}
