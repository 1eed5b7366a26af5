//! Activity log, usages, locks, policy assignments, subnets, subscriptions and providers.

use jiff::Timestamp;
use nodemend_core::cloud::{ActivityRecord, Lock, PolicyAssignment, QuotaUsage, Subnet};
use nodemend_core::model::ProvisioningState;
use serde::Deserialize;

use super::{Page, ParseError, json, page};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Localized {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    localized_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(default)]
    event_timestamp: Option<String>,
    #[serde(default)]
    operation_name: Localized,
    #[serde(default)]
    status: Localized,
    #[serde(default)]
    sub_status: Localized,
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    caller: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    properties: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A page of activity-log records. A failed operation's `properties.statusMessage` is itself a
/// JSON error body; its error is parsed out.
pub fn activity_records(body: &[u8]) -> Result<Page<ActivityRecord>, ParseError> {
    let raw: Page<RawEvent> = page(body)?;
    let value = raw
        .value
        .into_iter()
        .map(|e| ActivityRecord {
            time: e
                .event_timestamp
                .and_then(|t| t.parse::<Timestamp>().ok())
                .unwrap_or(Timestamp::UNIX_EPOCH),
            operation: e.operation_name.value.unwrap_or_default(),
            status: e.status.value.unwrap_or_default(),
            sub_status: e.sub_status.value.filter(|s| !s.is_empty()),
            resource_id: e.resource_id.unwrap_or_default(),
            caller: e.caller,
            correlation_id: e.correlation_id,
            level: e.level,
            error: e
                .properties
                .get("statusMessage")
                .and_then(|m| m.as_str())
                .and_then(|m| super::arm_error(m.as_bytes())),
        })
        .collect();
    Ok(Page {
        value,
        next_link: raw.next_link,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUsage {
    #[serde(default)]
    current_value: f64,
    #[serde(default)]
    limit: f64,
    #[serde(default)]
    name: Localized,
}

/// A page of usages of `provider` (`Microsoft.Compute` gives integers, `Microsoft.Network`
/// floats; both are read as counts).
pub fn usages(provider: &str, body: &[u8]) -> Result<Page<QuotaUsage>, ParseError> {
    let raw: Page<RawUsage> = page(body)?;
    Ok(Page {
        value: raw
            .value
            .into_iter()
            .map(|u| QuotaUsage {
                provider: provider.to_owned(),
                name: u.name.value.unwrap_or_default(),
                display_name: u.name.localized_value,
                // Saturating casts: negative values read as 0, huge limits as u64::MAX.
                current: u.current_value as u64,
                limit: u.limit as u64,
            })
            .collect(),
        next_link: raw.next_link,
    })
}

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    properties: RawLockProps,
}

#[derive(Deserialize, Default)]
struct RawLockProps {
    #[serde(default)]
    level: String,
    #[serde(default)]
    notes: Option<String>,
}

/// A page of management locks.
pub fn locks(body: &[u8]) -> Result<Page<Lock>, ParseError> {
    let raw: Page<RawLock> = page(body)?;
    Ok(Page {
        value: raw
            .value
            .into_iter()
            .map(|l| Lock {
                id: l.id,
                name: l.name,
                level: l.properties.level,
                notes: l.properties.notes,
            })
            .collect(),
        next_link: raw.next_link,
    })
}

#[derive(Deserialize)]
struct RawAssignment {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    properties: RawAssignmentProps,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAssignmentProps {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    policy_definition_id: String,
    #[serde(default)]
    enforcement_mode: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// A page of policy assignments.
pub fn policy_assignments(body: &[u8]) -> Result<Page<PolicyAssignment>, ParseError> {
    let raw: Page<RawAssignment> = page(body)?;
    Ok(Page {
        value: raw
            .value
            .into_iter()
            .map(|a| PolicyAssignment {
                id: a.id,
                name: a.name,
                display_name: a.properties.display_name,
                policy_definition_id: a.properties.policy_definition_id,
                enforcement_mode: a.properties.enforcement_mode,
                scope: a.properties.scope,
            })
            .collect(),
        next_link: raw.next_link,
    })
}

#[derive(Deserialize)]
struct RawSubnet {
    #[serde(default)]
    id: String,
    #[serde(default)]
    properties: RawSubnetProps,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawSubnetProps {
    #[serde(default)]
    address_prefix: Option<String>,
    #[serde(default, deserialize_with = "super::null_default")]
    address_prefixes: Vec<String>,
    #[serde(default, deserialize_with = "super::null_default")]
    ip_configurations: Vec<serde_json::Value>,
    #[serde(default)]
    provisioning_state: Option<String>,
}

/// A subnet (`Subnets_Get`): `addressPrefix` or `addressPrefixes`, and how many IP
/// configurations sit in it.
pub fn subnet(body: &[u8]) -> Result<Subnet, ParseError> {
    let raw: RawSubnet = json(body)?;
    let mut prefixes: Vec<String> = raw.properties.address_prefix.into_iter().collect();
    prefixes.extend(raw.properties.address_prefixes);
    Ok(Subnet {
        id: raw.id,
        address_prefixes: prefixes,
        ip_configurations: raw.properties.ip_configurations.len(),
        provisioning_state: ProvisioningState::parse(
            raw.properties.provisioning_state.as_deref().unwrap_or(""),
        ),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSubscription {
    #[serde(default)]
    state: String,
    #[serde(default)]
    registration_state: String,
}

/// A subscription's `state` (`Subscriptions_Get`).
pub fn subscription_state(body: &[u8]) -> Result<String, ParseError> {
    json::<RawSubscription>(body).map(|s| s.state)
}

/// A resource provider's `registrationState` (`Providers_Get`).
pub fn provider_state(body: &[u8]) -> Result<String, ParseError> {
    json::<RawSubscription>(body).map(|s| s.registration_state)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::example;
    use super::*;

    #[test]
    fn example_activity_log() {
        let page = activity_records(&example("GetActivityLogsFiltered.json", "200")).unwrap();
        let r = &page.value[0];
        assert_eq!(r.operation, "microsoft.support/supporttickets/write");
        assert_eq!(r.status, "Succeeded");
        assert_eq!(r.caller.as_deref(), Some("admin@contoso.com"));
        assert_eq!(
            r.time,
            "2015-01-21T22:14:26.9792776Z".parse::<Timestamp>().unwrap()
        );
        assert!(r.error.is_none());
        assert!(page.next_link.is_some());
    }

    #[test]
    fn failed_activity_record_carries_its_error() {
        let body = br#"{"value":[{"eventTimestamp":"2026-11-21T10:00:00Z","operationName":{"value":"Microsoft.Compute/virtualMachineScaleSets/write"},
            "status":{"value":"Failed"},"resourceId":"/x","properties":{"statusCode":"Conflict","statusMessage":"{\"error\":{\"code\":\"QuotaExceeded\",\"message\":\"Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.\"}}"}}]}"#;
        let page = activity_records(body).unwrap();
        assert_eq!(page.value[0].error.as_ref().unwrap().code, "QuotaExceeded");
    }

    #[test]
    fn example_usages_compute_and_network() {
        let compute = usages(
            "Microsoft.Compute",
            &example("Usage_List_MaximumSet_Gen.json", "200"),
        )
        .unwrap();
        assert_eq!((compute.value[0].current, compute.value[0].limit), (17, 19));
        let network = usages("Microsoft.Network", &example("UsageList.json", "200")).unwrap();
        let vnets = network
            .value
            .iter()
            .find(|u| u.name == "VirtualNetworks")
            .unwrap();
        assert_eq!((vnets.current, vnets.limit), (8, 50));
        assert_eq!(vnets.display_name.as_deref(), Some("Virtual Networks"));
    }

    #[test]
    fn example_locks_policies_and_subnet() {
        let l = locks(&example(
            "ManagementLocks_ListAtResourceGroupLevel.json",
            "200",
        ))
        .unwrap();
        assert_eq!(
            (l.value[0].name.as_str(), l.value[0].level.as_str()),
            ("testlock", "ReadOnly")
        );
        let p = policy_assignments(&example(
            "listPolicyAssignmentsForResourceGroup.json",
            "200",
        ))
        .unwrap();
        assert_eq!(p.value[0].name, "TestCostManagement");
        assert_eq!(
            p.value[0].display_name.as_deref(),
            Some("Storage Cost Management")
        );
        assert!(
            p.value[0]
                .policy_definition_id
                .contains("policyDefinitions")
        );
        let s = subnet(&example("SubnetGet.json", "200")).unwrap();
        assert_eq!(s.address_prefixes, vec!["10.0.0.0/16"]);
        assert_eq!(
            (s.ip_configurations, s.provisioning_state),
            (0, ProvisioningState::Succeeded)
        );
    }

    #[test]
    fn subscription_and_provider_states() {
        assert_eq!(
            subscription_state(br#"{"id":"/subscriptions/s","state":"Warned"}"#).unwrap(),
            "Warned"
        );
        assert_eq!(
            provider_state(
                br#"{"namespace":"Microsoft.Compute","registrationState":"Registered"}"#
            )
            .unwrap(),
            "Registered"
        );
    }
}
