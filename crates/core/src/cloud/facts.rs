//! What diagnosis reads from the cloud besides the cluster and its VMs: operation history,
//! quotas, locks, policies, subnets and the subscription. Plain data, filled by an adapter.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{ArmError, ProvisioningState};

/// A scope that locks and policies apply at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// A whole subscription.
    Subscription(String),
    /// One resource group of a subscription.
    ResourceGroup {
        /// Subscription ID.
        subscription: String,
        /// Resource group name.
        resource_group: String,
    },
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subscription(sub) => write!(f, "/subscriptions/{sub}"),
            Self::ResourceGroup {
                subscription,
                resource_group,
            } => write!(
                f,
                "/subscriptions/{subscription}/resourceGroups/{resource_group}"
            ),
        }
    }
}

/// Which records an activity-log query is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityScope {
    /// Every resource of a resource group.
    ResourceGroup(String),
    /// One resource, by its full ID.
    Resource(String),
}

/// An activity-log query: a time window (the log keeps 90 days), a scope and optionally a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityQuery {
    /// Subscription to read.
    pub subscription: String,
    /// Start of the window (inclusive).
    pub from: Timestamp,
    /// End of the window (inclusive).
    pub to: Timestamp,
    /// Resource group or resource.
    pub scope: ActivityScope,
    /// Only records with this status (`Failed`, `Succeeded`...).
    pub status: Option<String>,
}

/// One activity-log record: an operation on a resource, by someone, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// When the event happened.
    pub time: Timestamp,
    /// Operation, e.g. `Microsoft.Compute/virtualMachineScaleSets/write`.
    pub operation: String,
    /// `Started`, `Accepted`, `Succeeded`, `Failed`...
    pub status: String,
    /// Sub-status (often the HTTP status text).
    pub sub_status: Option<String>,
    /// Resource the operation was on.
    pub resource_id: String,
    /// Who started it (user, service principal or `aks-remediator`).
    pub caller: Option<String>,
    /// Ties together the records of one operation.
    pub correlation_id: Option<String>,
    /// `Informational`, `Warning`, `Error`...
    pub level: Option<String>,
    /// The error a failed operation reported.
    pub error: Option<ArmError>,
}

/// A quota and how much of it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaUsage {
    /// Which service the quota belongs to, e.g. `Microsoft.Compute`.
    pub provider: String,
    /// Quota name, e.g. `cores`, `standardDSv3Family`, `PublicIPAddresses`.
    pub name: String,
    /// Human-readable name.
    pub display_name: Option<String>,
    /// Amount in use.
    pub current: u64,
    /// The limit.
    pub limit: u64,
}

/// A management lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// Lock ID.
    pub id: String,
    /// Lock name.
    pub name: String,
    /// `CanNotDelete` or `ReadOnly`.
    pub level: String,
    /// Notes the owner left.
    pub notes: Option<String>,
}

/// A policy assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAssignment {
    /// Assignment ID.
    pub id: String,
    /// Assignment name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// The policy (or initiative) definition assigned.
    pub policy_definition_id: String,
    /// `Default` (enforced) or `DoNotEnforce`.
    pub enforcement_mode: Option<String>,
    /// Scope it is assigned at.
    pub scope: Option<String>,
}

/// A subnet and how full it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    /// Subnet ID.
    pub id: String,
    /// Address prefixes (`addressPrefix` or `addressPrefixes`).
    pub address_prefixes: Vec<String>,
    /// Number of IP configurations (NICs' addresses) in it.
    pub ip_configurations: usize,
    /// Provisioning state of the subnet.
    pub provisioning_state: ProvisioningState,
}

/// Registration state of a resource provider in a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRegistration {
    /// Namespace, e.g. `Microsoft.ContainerService`.
    pub namespace: String,
    /// `Registered`, `NotRegistered`, `Registering`...
    pub state: String,
}

/// A subscription's state and the registration of the providers asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionInfo {
    /// Subscription ID.
    pub id: String,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    pub state: String,
    /// The providers asked about.
    pub providers: Vec<ProviderRegistration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_print_as_arm_ids() {
        assert_eq!(
            Scope::Subscription("s".into()).to_string(),
            "/subscriptions/s"
        );
        let rg = Scope::ResourceGroup {
            subscription: "s".into(),
            resource_group: "rg".into(),
        };
        assert_eq!(rg.to_string(), "/subscriptions/s/resourceGroups/rg");
    }
}
