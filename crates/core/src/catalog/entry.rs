//! The shape of a catalog entry, as written in `catalog/entries/*.toml`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of problem an entry describes; also the name of the file that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Errors of node auto-repair actions.
    AutoRepair,
    /// VM extension (Custom Script Extension) provisioning failures.
    Extension,
    /// Outbound connectivity, DNS and API-server reachability.
    Outbound,
    /// Subscription quotas.
    Quota,
    /// Regional or zonal VM capacity.
    Capacity,
    /// Subnet and public IP address capacity.
    IpAddress,
    /// Policies and resource locks.
    Governance,
    /// Subscription state and resource-provider registration.
    Subscription,
    /// Workloads that block operations: PodDisruptionBudgets, system pods.
    Workload,
    /// Kubernetes versions and upgrade paths.
    Version,
    /// Concurrent, pre-empted or internally failed operations.
    Operation,
    /// Throttled API calls.
    Throttling,
    /// Invalid cluster or network configuration.
    Configuration,
    /// Service principals, managed identities and their permissions.
    Identity,
    /// Resources that cannot be deleted.
    Delete,
    /// Node VM state and node health.
    Node,
}

impl Category {
    /// The kebab-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoRepair => "auto-repair",
            Self::Extension => "extension",
            Self::Outbound => "outbound",
            Self::Quota => "quota",
            Self::Capacity => "capacity",
            Self::IpAddress => "ip-address",
            Self::Governance => "governance",
            Self::Subscription => "subscription",
            Self::Workload => "workload",
            Self::Version => "version",
            Self::Operation => "operation",
            Self::Throttling => "throttling",
            Self::Configuration => "configuration",
            Self::Identity => "identity",
            Self::Delete => "delete",
            Self::Node => "node",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a condition is when it is found; ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; nothing is broken.
    Info,
    /// Will break something soon or under load.
    Warning,
    /// Something is broken.
    Error,
    /// The cluster or a pool cannot operate.
    Critical,
}

impl Severity {
    /// The lower-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether Azure emits the code, or nodemend names a problem that has no Azure code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Azure or AKS reports this code.
    Azure,
    /// nodemend's own name for a problem Azure reports without a code.
    Nodemend,
}

/// Where a code shows up, so a person knows where to look for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Surface {
    /// The Azure activity log of the resource group or resource.
    ActivityLog,
    /// The error of a failed cluster or pool provisioning.
    ProvisioningError,
    /// A VM's instance view.
    InstanceView,
    /// A VM extension's status.
    ExtensionStatus,
    /// A Kubernetes event on a node (e.g. from auto-repair).
    NodeEvent,
    /// Other Kubernetes state: pods, PodDisruptionBudgets, node conditions.
    Kubernetes,
    /// The output of an `az` command.
    Cli,
}

impl Surface {
    /// The kebab-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActivityLog => "activity-log",
            Self::ProvisioningError => "provisioning-error",
            Self::InstanceView => "instance-view",
            Self::ExtensionStatus => "extension-status",
            Self::NodeEvent => "node-event",
            Self::Kubernetes => "kubernetes",
            Self::Cli => "cli",
        }
    }
}

/// One step of a remedy, with the commands that carry it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemedyStep {
    /// What to do, as an instruction.
    pub step: String,
    /// Commands that do it (`az ...`, `kubectl ...`, `nodemend ...`), with `<placeholders>`.
    #[serde(default)]
    pub commands: Vec<String>,
}

/// One error code (or named problem) with its cause and remedy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The code as Azure emits it, e.g. `QuotaExceeded`.
    pub code: String,
    /// The cause in one line.
    pub title: String,
    /// Whether Azure emits the code.
    pub origin: Origin,
    /// What kind of problem it is.
    pub category: Category,
    /// How bad it is.
    pub severity: Severity,
    /// Other spellings, sub-codes and constant names that mean the same.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Custom Script Extension exit codes on Linux nodes that mean this.
    #[serde(default)]
    pub linux_cse_exit_codes: Vec<u32>,
    /// Custom Script Extension exit codes on Windows nodes that mean this.
    #[serde(default)]
    pub windows_cse_exit_codes: Vec<u32>,
    /// Message fragments that identify it (case-insensitive).
    #[serde(default)]
    pub signatures: Vec<String>,
    /// Where it shows up.
    #[serde(default)]
    pub appears_in: Vec<Surface>,
    /// Operations during which it happens (create, scale, upgrade, repair...).
    #[serde(default)]
    pub operations: Vec<String>,
    /// Likely causes, most likely first.
    pub causes: Vec<String>,
    /// Ordered remedy.
    pub remedy: Vec<RemedyStep>,
    /// Public documentation.
    pub docs: String,
    /// Related entries, by code.
    #[serde(default)]
    pub see_also: Vec<String>,
}

/// The operating system of a node, which decides how a CSE exit code reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeOs {
    /// Linux nodes.
    Linux,
    /// Windows nodes.
    Windows,
}

/// What one Custom Script Extension exit code means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CseExitCode {
    /// Operating system of the node that reported it.
    pub os: NodeOs,
    /// The exit status.
    pub code: u32,
    /// The script's constant name, e.g. `ERR_OUTBOUND_CONN_FAIL`.
    pub name: String,
    /// What it means, in one line.
    pub meaning: String,
    /// The catalog entry it belongs to.
    pub entry: String,
}
