//! The `NodeRepair` custom resource: the durable, crash-safe record of one repair, visible with
//! `kubectl get noderepairs`.
//!
//! The resource mirrors [`nodemend_core::repair::Repair`]; [`to_record`] and [`from_record`]
//! translate between them. Times are RFC 3339 strings so the schema stays plain.

use kube::CustomResource;
use nodemend_core::policy::Action;
use nodemend_core::repair::{Phase, Repair, StepOutcome, StepRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What is being repaired; fixed when the repair starts.
#[derive(CustomResource, Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "nodemend.io",
    version = "v1alpha1",
    kind = "NodeRepair",
    plural = "noderepairs",
    shortname = "nr",
    status = "NodeRepairStatus",
    printcolumn = r#"{"name":"Node","type":"string","jsonPath":".spec.node"}"#,
    printcolumn = r#"{"name":"Pool","type":"string","jsonPath":".spec.pool"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Step","type":"string","jsonPath":".status.action"}"#,
    printcolumn = r#"{"name":"Try","type":"integer","jsonPath":".status.attempt"}"#,
    printcolumn = r#"{"name":"Last Error","type":"string","jsonPath":".status.lastError"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct NodeRepairSpec {
    /// The node under repair.
    pub node: String,
    /// Its agent pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// When the repair started (RFC 3339).
    pub started: String,
    // Required, with no schema default: kube-apiserver 1.20 reads an empty-string default as
    // null and rejects the whole CRD.
    /// Why the node was judged unhealthy.
    pub reason: String,
}

/// Where the repair stands; rewritten before every disruptive step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeRepairStatus {
    /// `Pending`, `Draining`, `Acting`, `Verifying`, `BackingOff`, `Succeeded`, `GaveUp` or `Cancelled`.
    pub phase: String,
    /// The action of the current (or next) rung: `reboot`, `reimage` or `redeploy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Index of the current rung in the pool's ladder.
    pub step: u32,
    /// Which try of the ladder (1-based).
    pub attempt: u32,
    /// When the current phase began (drain start, action sent, verification start), or ends
    /// (back-off), or when the repair ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_time: Option<String>,
    /// Why a cancelled repair stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The node's boot ID when the current action started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// Whether nodemend cordoned the node.
    #[serde(default)]
    pub cordoned_by_us: bool,
    /// The last error code from the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Every finished rung.
    #[serde(default)]
    pub history: Vec<NodeRepairStep>,
}

/// One finished rung of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeRepairStep {
    /// The action.
    pub action: String,
    /// Which try of the ladder.
    pub attempt: u32,
    /// When it started (RFC 3339).
    pub started: String,
    /// When it ended (RFC 3339).
    pub finished: String,
    /// `Recovered`, `Failed`, `NotRecovered` or `DrainBlocked`.
    pub outcome: String,
    /// The error code, for a failed rung.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A `NodeRepair` whose content cannot be read back into a repair (edited by hand, or written
/// by a newer version).
#[derive(Debug, thiserror::Error)]
#[error("NodeRepair {name}: field {field} is unreadable: {problem}")]
pub struct RecordError {
    /// The resource's name.
    pub name: String,
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub problem: String,
}

/// The resource name for a repair: the node name and the start time, so every repair has its
/// own record and the history of a node stays listable.
pub fn record_name(repair: &Repair) -> String {
    format!("{}-{}", repair.node, repair.started.as_second())
}

/// The resource for `repair`.
pub fn to_record(repair: &Repair, reason: &str) -> NodeRepair {
    let mut record = NodeRepair::new(
        &record_name(repair),
        NodeRepairSpec {
            node: repair.node.clone(),
            pool: repair.pool.clone(),
            started: repair.started.to_string(),
            reason: reason.to_owned(),
        },
    );
    record.status = Some(to_status(repair));
    record
}

/// The status block for `repair`.
pub fn to_status(repair: &Repair) -> NodeRepairStatus {
    let (action, phase_time, message) = match &repair.phase {
        Phase::Pending => (None, None, None),
        Phase::Draining { since } => (None, Some(*since), None),
        Phase::Acting { action, issued } => (Some(*action), Some(*issued), None),
        Phase::Verifying { action, since } => (Some(*action), Some(*since), None),
        Phase::BackingOff { until } => (None, Some(*until), None),
        Phase::Succeeded { at } | Phase::GaveUp { at } => (None, Some(*at), None),
        Phase::Cancelled { at, reason } => (None, Some(*at), Some(reason.clone())),
    };
    NodeRepairStatus {
        phase: repair.phase.name().to_owned(),
        action: action.map(|a| a.as_str().to_owned()),
        step: u32::try_from(repair.step).unwrap_or(u32::MAX),
        attempt: repair.attempt,
        phase_time: phase_time.map(|t| t.to_string()),
        message,
        boot_id: repair.boot_id.clone(),
        cordoned_by_us: repair.cordoned_by_us,
        last_error: repair.last_error.clone(),
        history: repair.history.iter().map(to_step).collect(),
    }
}

fn to_step(step: &StepRecord) -> NodeRepairStep {
    let (outcome, code) = match &step.outcome {
        StepOutcome::Recovered => ("Recovered", None),
        StepOutcome::Failed { code } => ("Failed", Some(code.clone())),
        StepOutcome::NotRecovered => ("NotRecovered", None),
        StepOutcome::DrainBlocked => ("DrainBlocked", None),
    };
    NodeRepairStep {
        action: step.action.as_str().to_owned(),
        attempt: step.attempt,
        started: step.started.to_string(),
        finished: step.finished.to_string(),
        outcome: outcome.to_owned(),
        code,
    }
}

/// Reads a repair back from its resource.
pub fn from_record(record: &NodeRepair) -> Result<Repair, RecordError> {
    let name = record.metadata.name.clone().unwrap_or_default();
    let err = |field: &'static str, problem: String| RecordError {
        name: name.clone(),
        field,
        problem,
    };
    let time = |field: &'static str, raw: &str| {
        raw.parse::<jiff::Timestamp>()
            .map_err(|e| err(field, format!("{raw:?} is not an RFC 3339 time ({e})")))
    };
    let action = |field: &'static str, raw: &str| match raw {
        "reboot" => Ok(Action::Reboot),
        "reimage" => Ok(Action::Reimage),
        "redeploy" => Ok(Action::Redeploy),
        other => Err(err(field, format!("{other:?} is not an action"))),
    };
    let status = record.status.clone().unwrap_or_default();
    let phase_time = || {
        status
            .phase_time
            .as_deref()
            .ok_or_else(|| err("status.phaseTime", "missing".into()))
            .and_then(|raw| time("status.phaseTime", raw))
    };
    let current_action = || {
        status
            .action
            .as_deref()
            .ok_or_else(|| err("status.action", "missing".into()))
            .and_then(|raw| action("status.action", raw))
    };
    let phase = match status.phase.as_str() {
        "" | "Pending" => Phase::Pending,
        "Draining" => Phase::Draining {
            since: phase_time()?,
        },
        "Acting" => Phase::Acting {
            action: current_action()?,
            issued: phase_time()?,
        },
        "Verifying" => Phase::Verifying {
            action: current_action()?,
            since: phase_time()?,
        },
        "BackingOff" => Phase::BackingOff {
            until: phase_time()?,
        },
        "Succeeded" => Phase::Succeeded { at: phase_time()? },
        "GaveUp" => Phase::GaveUp { at: phase_time()? },
        "Cancelled" => Phase::Cancelled {
            at: phase_time()?,
            reason: status.message.clone().unwrap_or_default(),
        },
        other => return Err(err("status.phase", format!("{other:?} is not a phase"))),
    };
    let mut history = Vec::with_capacity(status.history.len());
    for step in &status.history {
        let outcome = match (step.outcome.as_str(), &step.code) {
            ("Recovered", _) => StepOutcome::Recovered,
            ("Failed", Some(code)) => StepOutcome::Failed { code: code.clone() },
            ("NotRecovered", _) => StepOutcome::NotRecovered,
            ("DrainBlocked", _) => StepOutcome::DrainBlocked,
            (other, _) => {
                return Err(err(
                    "status.history.outcome",
                    format!("{other:?} is not an outcome (a Failed step needs a code)"),
                ));
            }
        };
        history.push(StepRecord {
            action: action("status.history.action", &step.action)?,
            attempt: step.attempt,
            started: time("status.history.started", &step.started)?,
            finished: time("status.history.finished", &step.finished)?,
            outcome,
        });
    }
    Ok(Repair {
        node: record.spec.node.clone(),
        pool: record.spec.pool.clone(),
        phase,
        step: status.step as usize,
        attempt: status.attempt.max(1),
        started: time("spec.started", &record.spec.started)?,
        boot_id: status.boot_id,
        cordoned_by_us: status.cordoned_by_us,
        last_error: status.last_error,
        history,
    })
}

/// How long [`install`] waits for the API server to serve NodeRepair resources.
const SERVED_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// Creates the NodeRepair CRD (one that exists is left as it is) and waits until its resources
/// are served: what the simulators do before a controller starts (in a cluster, the manifests
/// in `deploy/` install it).
pub async fn install(client: &kube::Client) -> crate::error::Result<()> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::CustomResourceExt as _;
    use kube::api::{Api, ListParams, PostParams};
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds
        .create(&PostParams::default(), &NodeRepair::crd())
        .await
    {
        Ok(_) => {}
        Err(err) if crate::error::has_status(&err, 409) => {}
        Err(err) => return Err(crate::error::Error::InstallCrd(err)),
    }
    let records: Api<NodeRepair> = Api::all(client.clone());
    let deadline = tokio::time::Instant::now() + SERVED_WITHIN;
    while records.list(&ListParams::default().limit(1)).await.is_err() {
        if tokio::time::Instant::now() >= deadline {
            return Err(crate::error::Error::CrdNotServed {
                seconds: SERVED_WITHIN.as_secs(),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    fn ts(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn every_phase_round_trips_through_the_resource() {
        let mut repair = Repair::new("aks-np1-0", Some("np1".into()), ts(0));
        repair.boot_id = Some("b1".into());
        repair.cordoned_by_us = true;
        repair.last_error = Some("VMExtensionProvisioningError".into());
        repair.history.push(StepRecord {
            action: Action::Reboot,
            attempt: 1,
            started: ts(1),
            finished: ts(2),
            outcome: StepOutcome::Failed {
                code: "VMExtensionProvisioningError".into(),
            },
        });
        for phase in [
            Phase::Pending,
            Phase::Draining { since: ts(3) },
            Phase::Acting {
                action: Action::Reimage,
                issued: ts(4),
            },
            Phase::Verifying {
                action: Action::Redeploy,
                since: ts(5),
            },
            Phase::BackingOff { until: ts(6) },
            Phase::Succeeded { at: ts(7) },
            Phase::GaveUp { at: ts(8) },
            Phase::Cancelled {
                at: ts(9),
                reason: "the node was deleted".into(),
            },
        ] {
            repair.phase = phase;
            let record = to_record(&repair, "Ready is Unknown");
            let json = serde_json::to_value(&record).unwrap();
            let back: NodeRepair = serde_json::from_value(json).unwrap();
            assert_eq!(from_record(&back).unwrap(), repair);
        }
        assert_eq!(
            record_name(&repair),
            format!("aks-np1-0-{}", ts(0).as_second())
        );
    }

    #[test]
    fn a_hand_edited_record_names_the_bad_field() {
        let repair = Repair::new("n", None, ts(0));
        let mut record = to_record(&repair, "");
        record.status.as_mut().unwrap().phase = "Acting".into();
        let err = from_record(&record).unwrap_err();
        assert_eq!(err.field, "status.action", "Acting needs its action");
        record.status.as_mut().unwrap().phase = "Exploded".into();
        assert_eq!(from_record(&record).unwrap_err().field, "status.phase");
    }

    #[test]
    fn the_crd_is_cluster_scoped_with_printer_columns() {
        let crd = NodeRepair::crd();
        assert_eq!(crd.spec.group, "nodemend.io");
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(crd.spec.names.plural, "noderepairs");
        let columns = crd.spec.versions[0]
            .additional_printer_columns
            .as_ref()
            .unwrap();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["Node", "Pool", "Phase", "Step", "Try", "Last Error", "Age"]
        );
    }
}
