//! The reads diagnosis makes: activity log, usages, locks, policy assignments, subnets,
//! subscription and provider registration.

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::Shared;
use super::http::{Req, arm_error, error_value, json_response};
use super::spec::ActivitySpec;
use super::world::World;

/// 404 for another subscription or an unknown resource group.
pub(crate) fn check_scope(world: &World, sub: &str, rg: Option<&str>) -> Option<Response> {
    if !sub.eq_ignore_ascii_case(&world.spec.subscription) {
        return Some(arm_error(
            404,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        ));
    }
    let known = |rg: &str| {
        rg.eq_ignore_ascii_case(&world.spec.cluster.resource_group)
            || rg.eq_ignore_ascii_case(&world.cluster.node_resource_group)
    };
    match rg {
        Some(rg) if !known(rg) => Some(arm_error(
            404,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        )),
        _ => None,
    }
}

/// Routes the diagnosis reads.
pub(crate) fn route(_shared: &Arc<Shared>, world: &mut World, req: &Req) -> Option<Response> {
    if req.method != Method::GET {
        return None;
    }
    let segs = req.segments();
    let sub = *segs.get(1)?;
    if let Some(denied) = check_scope(world, sub, None) {
        return Some(denied);
    }
    let spec = &world.spec;
    let list = |value: Vec<Value>| Some(json_response(200, &json!({ "value": value })));
    match segs.as_slice() {
        ["subscriptions", _] => Some(json_response(200, &json!({
            "id": format!("/subscriptions/{}", spec.subscription),
            "subscriptionId": spec.subscription,
            "displayName": "nodemend simulated subscription",
            "state": spec.subscription_state,
        }))),
        ["subscriptions", _, "providers", _] => {
            let namespace = req.raw.get(3).cloned().unwrap_or_default();
            let state = spec.providers.iter().find(|(k, _)| k.eq_ignore_ascii_case(&namespace)).map_or("Registered", |(_, v)| v.as_str());
            Some(json_response(200, &json!({ "id": format!("/subscriptions/{}/providers/{namespace}", spec.subscription), "namespace": namespace, "registrationState": state })))
        }
        ["subscriptions", _, "providers", provider @ ("microsoft.compute" | "microsoft.network"), "locations", _, "usages"] => list(
            spec.usages
                .iter()
                .filter(|u| u.provider.eq_ignore_ascii_case(provider))
                .map(|u| json!({ "unit": "Count", "currentValue": u.current, "limit": u.limit, "name": { "value": u.name, "localizedValue": u.display_name.clone().unwrap_or_else(|| u.name.clone()) } }))
                .collect(),
        ),
        ["subscriptions", _, "providers", "microsoft.insights", "eventtypes", "management", "values"] => {
            match Filter::parse(req.query("$filter").unwrap_or("")) {
                Ok(filter) => list(spec.activity_log.iter().filter(|a| filter.matches(a)).map(activity).collect()),
                Err(message) => Some(arm_error(400, "BadRequest", &message)),
            }
        }
        ["subscriptions", _, "providers", "microsoft.authorization", "locks"] => list(locks(world, None)),
        ["subscriptions", _, "resourcegroups", rg, "providers", "microsoft.authorization", "locks"] => {
            check_scope(world, sub, Some(rg)).or_else(|| list(locks(world, Some(rg))))
        }
        ["subscriptions", _, "providers", "microsoft.authorization", "policyassignments"] => list(policies(world, None)),
        ["subscriptions", _, "resourcegroups", rg, "providers", "microsoft.authorization", "policyassignments"] => {
            check_scope(world, sub, Some(rg)).or_else(|| list(policies(world, Some(rg))))
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.network", "virtualnetworks", _, "subnets", _] => {
            let id = format!("/{}", req.raw.join("/"));
            Some(match spec.subnets.iter().find(|s| s.id.eq_ignore_ascii_case(&id)) {
                Some(s) => json_response(200, &json!({
                    "id": s.id,
                    "name": s.id.rsplit('/').next(),
                    "properties": {
                        "addressPrefix": s.address_prefix,
                        "provisioningState": "Succeeded",
                        "ipConfigurations": (0..s.ip_configurations).map(|i| json!({ "id": format!("{}/ipConfigurations/ipconfig{i}", s.id) })).collect::<Vec<_>>(),
                    },
                })),
                None => arm_error(404, "NotFound", "Resource was not found."),
            })
        }
        _ => None,
    }
}

fn activity(a: &ActivitySpec) -> Value {
    let mut properties = json!({ "statusCode": if a.error.is_some() { "Conflict" } else { "OK" } });
    if let Some(error) = &a.error {
        properties["statusMessage"] = json!(json!({ "error": error_value(error) }).to_string());
    }
    let rg = a
        .resource_id
        .split('/')
        .skip_while(|s| !s.eq_ignore_ascii_case("resourceGroups"))
        .nth(1)
        .unwrap_or("");
    json!({
        "caller": a.caller,
        "correlationId": a.correlation_id,
        "eventTimestamp": a.time.to_string(),
        "level": if a.error.is_some() { "Error" } else { "Informational" },
        "operationName": { "value": a.operation, "localizedValue": a.operation },
        "status": { "value": a.status, "localizedValue": a.status },
        "subStatus": { "value": "", "localizedValue": "" },
        "resourceId": a.resource_id,
        "resourceGroupName": rg,
        "properties": properties,
    })
}

fn locks(world: &World, rg: Option<&str>) -> Vec<Value> {
    let sub = &world.spec.subscription;
    world
        .spec
        .locks
        .iter()
        .filter(|l| match (rg, &l.resource_group) {
            (None, None) => true,
            (Some(rg), Some(own)) => own.eq_ignore_ascii_case(rg),
            _ => false,
        })
        .map(|l| {
            let scope = l.resource_group.as_ref().map_or(format!("/subscriptions/{sub}"), |rg| format!("/subscriptions/{sub}/resourceGroups/{rg}"));
            json!({ "id": format!("{scope}/providers/Microsoft.Authorization/locks/{}", l.name), "type": "Microsoft.Authorization/locks", "name": l.name, "properties": { "level": l.level, "notes": l.notes } })
        })
        .collect()
}

/// `atScope()`: at a resource group, its own assignments and the subscription's.
fn policies(world: &World, rg: Option<&str>) -> Vec<Value> {
    let sub = &world.spec.subscription;
    world
        .spec
        .policy_assignments
        .iter()
        .filter(|p| p.resource_group.as_deref().is_none_or(|own| rg.is_some_and(|rg| own.eq_ignore_ascii_case(rg))))
        .map(|p| {
            let scope = p.resource_group.as_ref().map_or(format!("/subscriptions/{sub}"), |rg| format!("/subscriptions/{sub}/resourceGroups/{rg}"));
            json!({
                "id": format!("{scope}/providers/Microsoft.Authorization/policyAssignments/{}", p.name),
                "name": p.name,
                "type": "Microsoft.Authorization/policyAssignments",
                "properties": { "displayName": p.display_name, "policyDefinitionId": p.policy_definition_id, "enforcementMode": p.enforcement_mode.clone().unwrap_or_else(|| "Default".into()), "scope": scope },
            })
        })
        .collect()
}

/// The activity log's `$filter`: `eventTimestamp ge/le`, `resourceGroupName eq`,
/// `resourceUri eq`, `status eq`, joined by `and`.
#[derive(Debug, Default)]
struct Filter {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    resource_group: Option<String>,
    resource_uri: Option<String>,
    status: Option<String>,
}

impl Filter {
    fn parse(raw: &str) -> Result<Self, String> {
        let mut f = Filter::default();
        for clause in raw.split(" and ").map(str::trim).filter(|c| !c.is_empty()) {
            let mut parts = clause.splitn(3, ' ');
            let (field, op, value) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let value = value.trim().trim_matches('\'').replace("''", "'");
            let time = || {
                value
                    .parse::<Timestamp>()
                    .map_err(|e| format!("invalid time {value:?}: {e}"))
            };
            match (field, op) {
                ("eventTimestamp", "ge") => f.from = Some(time()?),
                ("eventTimestamp", "le") => f.to = Some(time()?),
                ("resourceGroupName", "eq") => f.resource_group = Some(value),
                ("resourceUri", "eq") => f.resource_uri = Some(value),
                ("status", "eq") => f.status = Some(value),
                _ => return Err(format!("unsupported $filter clause {clause:?}")),
            }
        }
        if f.from.is_none() {
            return Err("The $filter must give a start time (eventTimestamp ge '...').".into());
        }
        Ok(f)
    }

    fn matches(&self, a: &ActivitySpec) -> bool {
        let in_rg = |rg: &str| {
            a.resource_id
                .to_ascii_lowercase()
                .contains(&format!("/resourcegroups/{}/", rg.to_ascii_lowercase()))
        };
        self.from.is_none_or(|t| a.time >= t)
            && self.to.is_none_or(|t| a.time <= t)
            && self.resource_group.as_deref().is_none_or(in_rg)
            && self
                .resource_uri
                .as_deref()
                .is_none_or(|u| a.resource_id.eq_ignore_ascii_case(u))
            && self
                .status
                .as_deref()
                .is_none_or(|s| a.status.eq_ignore_ascii_case(s))
    }
}
