//! What diagnosis reads, in the world spec: activity log, usages, subnets, locks, policies.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::ErrorSpec;

/// An activity-log record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivitySpec {
    /// When.
    pub time: Timestamp,
    /// When, as a time before the simulator starts (`"2h"`, `"30m"`); replaces `time`, so a
    /// scenario's history stays inside a diagnosis window whenever it is played.
    pub ago: Option<SignedDuration>,
    /// Operation, e.g. `Microsoft.Compute/virtualMachineScaleSets/write`.
    pub operation: String,
    /// `Started`, `Accepted`, `Succeeded`, `Failed`.
    pub status: String,
    /// Resource ID.
    pub resource_id: String,
    /// Who.
    pub caller: String,
    /// Correlation ID.
    pub correlation_id: String,
    /// The error of a failed operation.
    pub error: Option<ErrorSpec>,
}

impl Default for ActivitySpec {
    fn default() -> Self {
        Self {
            time: Timestamp::UNIX_EPOCH,
            ago: None,
            operation: String::new(),
            status: "Succeeded".into(),
            resource_id: String::new(),
            caller: "admin@contoso.com".into(),
            correlation_id: "00000000-0000-0000-0000-000000000000".into(),
            error: None,
        }
    }
}

impl ActivitySpec {
    /// The record's time when the simulator starts at `start`: `start - ago`, else `time`.
    pub fn time_from(&self, start: Timestamp) -> Timestamp {
        self.ago
            .and_then(|ago| start.checked_sub(ago).ok())
            .unwrap_or(self.time)
    }
}

/// A quota and its use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageSpec {
    /// `Microsoft.Compute` or `Microsoft.Network`.
    pub provider: String,
    /// Quota name, e.g. `standardDSv3Family`.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// In use.
    pub current: u64,
    /// Limit.
    pub limit: u64,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubnetSpec {
    /// Subnet ID.
    pub id: String,
    /// Address prefix.
    pub address_prefix: String,
    /// Number of IP configurations in use.
    pub ip_configurations: u32,
}

/// A management lock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockSpec {
    /// Resource group it is on; none: the subscription.
    pub resource_group: Option<String>,
    /// Name.
    pub name: String,
    /// `CanNotDelete` or `ReadOnly`.
    pub level: String,
    /// Notes.
    pub notes: Option<String>,
}

/// A policy assignment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyAssignmentSpec {
    /// Resource group it is assigned at; none: the subscription (applies everywhere).
    pub resource_group: Option<String>,
    /// Name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Policy definition ID.
    pub policy_definition_id: String,
    /// `Default` or `DoNotEnforce`.
    pub enforcement_mode: Option<String>,
}
