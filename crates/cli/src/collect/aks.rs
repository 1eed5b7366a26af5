//! The parts of the AKS resources that diagnosis reads beyond the core [`Cluster`] model: the
//! cluster's provisioning error and network profile, and per pool its OS, error, surge,
//! autoscaler maximum and pod subnet. Read from the same answers as the cluster (no extra
//! calls): `ManagedClusters_Get` (pools in `agentPoolProfiles[]`, flat) and `AgentPools_List`
//! (pools under `properties`). Pure translation of JSON; nothing here decides.
//!
//! [`Cluster`]: nodemend_core::model::Cluster

use nodemend_core::catalog::NodeOs;
use nodemend_core::diagnosis::NetworkProfile;
use nodemend_core::model::ArmError;
use serde::Deserialize;

/// What the cluster answer says beyond the core model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterDetails {
    /// `properties.status.provisioningError`.
    pub(crate) error: Option<ArmError>,
    /// `properties.networkProfile`.
    pub(crate) network: NetworkProfile,
    /// Each pool of `agentPoolProfiles`.
    pub(crate) pools: Vec<PoolDetails>,
}

/// What a pool's properties say beyond [`nodemend_core::model::AgentPool`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolDetails {
    /// Pool name.
    pub(crate) name: String,
    /// `osType`: `Windows`, else Linux.
    pub(crate) os: NodeOs,
    /// `status.provisioningError`.
    pub(crate) error: Option<ArmError>,
    /// `upgradeSettings.maxSurge`.
    pub(crate) max_surge: Option<String>,
    /// `maxCount`, when `enableAutoScaling` is on.
    pub(crate) max_count: Option<u32>,
    /// `podSubnetID`.
    pub(crate) pod_subnet_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<Vec<RawError>>,
}

impl RawError {
    fn into_arm(self) -> Option<ArmError> {
        Some(ArmError {
            code: self.code.filter(|c| !c.is_empty())?,
            message: self.message.unwrap_or_default(),
            details: self
                .details
                .unwrap_or_default()
                .into_iter()
                .filter_map(RawError::into_arm)
                .collect(),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    #[serde(default)]
    provisioning_error: Option<RawError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUpgrade {
    #[serde(default)]
    max_surge: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPoolProps {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    os_type: Option<String>,
    #[serde(default)]
    status: Option<RawStatus>,
    #[serde(default)]
    upgrade_settings: Option<RawUpgrade>,
    #[serde(default)]
    enable_auto_scaling: Option<bool>,
    #[serde(default)]
    max_count: Option<u32>,
    #[serde(default, rename = "podSubnetID")]
    pod_subnet_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNetwork {
    #[serde(default)]
    network_plugin: Option<String>,
    #[serde(default)]
    network_plugin_mode: Option<String>,
    #[serde(default)]
    outbound_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawClusterProps {
    #[serde(default)]
    status: Option<RawStatus>,
    #[serde(default)]
    network_profile: Option<RawNetwork>,
    #[serde(default)]
    agent_pool_profiles: Option<Vec<RawPoolProps>>,
}

/// The body of `ManagedClusters_Get`, reduced to the details.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawCluster {
    #[serde(default)]
    properties: RawClusterProps,
}

/// One item of `AgentPools_List`, reduced to the details.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawPool {
    #[serde(default)]
    name: String,
    #[serde(default)]
    properties: RawPoolProps,
}

fn pool(name: String, p: RawPoolProps) -> PoolDetails {
    PoolDetails {
        name,
        os: match p.os_type.as_deref() {
            Some(os) if os.eq_ignore_ascii_case("Windows") => NodeOs::Windows,
            _ => NodeOs::Linux,
        },
        error: p
            .status
            .and_then(|s| s.provisioning_error)
            .and_then(RawError::into_arm),
        max_surge: p
            .upgrade_settings
            .and_then(|u| u.max_surge)
            .filter(|s| !s.is_empty()),
        max_count: p.max_count.filter(|_| p.enable_auto_scaling == Some(true)),
        pod_subnet_id: p.pod_subnet_id.filter(|s| !s.is_empty()),
    }
}

impl RawCluster {
    /// The details of the cluster and of its `agentPoolProfiles`.
    pub(crate) fn details(self) -> ClusterDetails {
        let props = self.properties;
        let network = props.network_profile.unwrap_or_default();
        ClusterDetails {
            error: props
                .status
                .and_then(|s| s.provisioning_error)
                .and_then(RawError::into_arm),
            network: NetworkProfile {
                plugin: network.network_plugin,
                plugin_mode: network.network_plugin_mode,
                outbound_type: network.outbound_type,
            },
            pools: props
                .agent_pool_profiles
                .unwrap_or_default()
                .into_iter()
                .map(|p| pool(p.name.clone().unwrap_or_default(), p))
                .collect(),
        }
    }
}

impl RawPool {
    /// The details of one listed pool.
    pub(crate) fn details(self) -> PoolDetails {
        pool(self.name, self.properties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_error_network_and_pool_details_are_read() {
        let raw: RawCluster = serde_json::from_value(serde_json::json!({
            "properties": {
                "status": {"provisioningError": {"code": "UpgradeFailed", "message": "drain failed",
                    "details": [{"code": "PodDrainFailure", "message": "pdb"}]}},
                "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "outboundType": "userDefinedRouting"},
                "agentPoolProfiles": [
                    {"name": "win1", "osType": "Windows", "enableAutoScaling": true, "maxCount": 9,
                     "upgradeSettings": {"maxSurge": "33%"}, "podSubnetID": "/pods"},
                    {"name": "np1", "maxCount": 5, "status": {"provisioningError": {"code": "", "message": "none"}}}
                ]
            }
        }))
        .unwrap();
        let d = raw.details();
        let error = d.error.unwrap();
        assert_eq!(error.code, "UpgradeFailed");
        assert_eq!(error.details[0].code, "PodDrainFailure");
        assert_eq!(d.network.plugin.as_deref(), Some("azure"));
        assert!(!d.network.pods_use_node_subnet());
        assert_eq!(
            d.network.outbound_type.as_deref(),
            Some("userDefinedRouting")
        );
        let win = &d.pools[0];
        assert_eq!(win.os, NodeOs::Windows);
        assert_eq!(win.max_count, Some(9));
        assert_eq!(win.max_surge.as_deref(), Some("33%"));
        assert_eq!(win.pod_subnet_id.as_deref(), Some("/pods"));
        let np1 = &d.pools[1];
        assert_eq!(np1.os, NodeOs::Linux);
        assert_eq!(np1.max_count, None, "no autoscaler, no maximum");
        assert_eq!(np1.error, None, "an error without a code is no error");
    }

    #[test]
    fn a_listed_pool_reads_its_properties() {
        let raw: RawPool = serde_json::from_value(serde_json::json!({
            "name": "np1",
            "properties": {"status": {"provisioningError": {"code": "QuotaExceeded", "message": "cores"}}}
        }))
        .unwrap();
        let d = raw.details();
        assert_eq!(d.name, "np1");
        assert_eq!(d.error.unwrap().code, "QuotaExceeded");
    }

    #[test]
    fn an_empty_answer_has_no_details() {
        let raw: RawCluster = serde_json::from_str("{}").unwrap();
        assert_eq!(raw.details(), ClusterDetails::default());
    }
}
