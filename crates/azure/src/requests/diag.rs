//! The reads diagnosis needs: activity log, usages, locks, policy assignments, subnets,
//! subscription state and provider registration.

use http::Method;
use jiff::Timestamp;
use nodemend_core::cloud::{ActivityQuery, ActivityScope, Scope};

use super::{ArmRequest, Requests};

/// The activity log's `$filter`: the window, the scope and optionally the status. Quotes in
/// values are doubled, as OData wants.
pub fn activity_filter(query: &ActivityQuery) -> String {
    fn ts(t: Timestamp) -> String {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
    fn quote(v: &str) -> String {
        v.replace('\'', "''")
    }
    let mut filter = format!(
        "eventTimestamp ge '{}' and eventTimestamp le '{}'",
        ts(query.from),
        ts(query.to)
    );
    match &query.scope {
        ActivityScope::ResourceGroup(rg) => {
            filter.push_str(&format!(" and resourceGroupName eq '{}'", quote(rg)));
        }
        ActivityScope::Resource(uri) => {
            filter.push_str(&format!(" and resourceUri eq '{}'", quote(uri)));
        }
    }
    if let Some(status) = &query.status {
        filter.push_str(&format!(" and status eq '{}'", quote(status)));
    }
    filter
}

impl Requests {
    /// `ActivityLogs_List` with a `$filter` (paged).
    pub fn list_activity_log(&self, query: &ActivityQuery) -> ArmRequest {
        let scope = format!("/subscriptions/{}", query.subscription);
        let path = format!("{scope}/providers/Microsoft.Insights/eventtypes/management/values");
        let filter = activity_filter(query);
        let v = &self.versions.activity_log;
        self.build(
            "list activity log",
            Method::GET,
            &scope,
            &path,
            v,
            &[("$filter", &filter)],
            None,
        )
    }

    /// `Usage_List`: compute quotas in a location (paged).
    pub fn list_compute_usages(&self, subscription: &str, location: &str) -> ArmRequest {
        let path = format!(
            "/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location}/usages"
        );
        let v = &self.versions.compute;
        self.build(
            "list compute usages",
            Method::GET,
            &path,
            &path,
            v,
            &[],
            None,
        )
    }

    /// `Usages_List`: network quotas (public IPs...) in a location (paged).
    pub fn list_network_usages(&self, subscription: &str, location: &str) -> ArmRequest {
        let path = format!(
            "/subscriptions/{subscription}/providers/Microsoft.Network/locations/{location}/usages"
        );
        let v = &self.versions.network;
        self.build(
            "list network usages",
            Method::GET,
            &path,
            &path,
            v,
            &[],
            None,
        )
    }

    /// `ManagementLocks_ListAtResourceGroupLevel` / `_ListAtSubscriptionLevel` (paged).
    pub fn list_locks(&self, scope: &Scope) -> ArmRequest {
        let scope = scope.to_string();
        let path = format!("{scope}/providers/Microsoft.Authorization/locks");
        let v = &self.versions.locks;
        self.build("list locks", Method::GET, &scope, &path, v, &[], None)
    }

    /// `PolicyAssignments_ListForResourceGroup` / `_List` with `$filter=atScope()`: the
    /// assignments that apply at the scope, inherited ones included (paged).
    pub fn list_policy_assignments(&self, scope: &Scope) -> ArmRequest {
        let scope_id = scope.to_string();
        let path = format!("{scope_id}/providers/Microsoft.Authorization/policyAssignments");
        let v = &self.versions.policy;
        let q = [("$filter", "atScope()")];
        self.build(
            "list policy assignments",
            Method::GET,
            &scope_id,
            &path,
            v,
            &q,
            None,
        )
    }

    /// `Subnets_Get`.
    pub fn get_subnet(&self, subnet_id: &str) -> ArmRequest {
        let v = &self.versions.network;
        self.build(
            "get subnet",
            Method::GET,
            subnet_id,
            subnet_id,
            v,
            &[],
            None,
        )
    }

    /// `Subscriptions_Get`.
    pub fn get_subscription(&self, subscription: &str) -> ArmRequest {
        let id = format!("/subscriptions/{subscription}");
        let v = &self.versions.resources;
        self.build("get subscription", Method::GET, &id, &id, v, &[], None)
    }

    /// `Providers_Get`: a resource provider's registration state.
    pub fn get_provider(&self, subscription: &str, namespace: &str) -> ArmRequest {
        let id = format!("/subscriptions/{subscription}/providers/{namespace}");
        let v = &self.versions.resources;
        self.build("get resource provider", Method::GET, &id, &id, v, &[], None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn query(scope: ActivityScope, status: Option<&str>) -> ActivityQuery {
        ActivityQuery {
            subscription: "s".into(),
            from: "2026-11-20T00:00:00Z".parse().unwrap(),
            to: "2026-11-21T00:00:00Z".parse().unwrap(),
            scope,
            status: status.map(str::to_owned),
        }
    }

    #[test]
    fn activity_log_filters_window_scope_and_status() {
        let req = requests().list_activity_log(&query(
            ActivityScope::ResourceGroup("MC_rg".into()),
            Some("Failed"),
        ));
        let (path, q) = split(&req);
        assert_eq!(
            path,
            "/subscriptions/s/providers/Microsoft.Insights/eventtypes/management/values"
        );
        assert!(q.contains(&("api-version".into(), "2015-04-01".into())));
        assert!(q.contains(&(
            "$filter".into(),
            "eventTimestamp ge '2026-11-20T00:00:00Z' and eventTimestamp le '2026-11-21T00:00:00Z' and resourceGroupName eq 'MC_rg' and status eq 'Failed'".into()
        )));
        let f = activity_filter(&query(ActivityScope::Resource("/x/o'k".into()), None));
        assert!(f.ends_with("and resourceUri eq '/x/o''k'"), "{f}");
    }

    #[test]
    fn quota_lock_policy_subnet_and_subscription_paths() {
        let r = requests();
        let (p, q) = split(&r.list_compute_usages("s", "westus"));
        assert_eq!(
            p,
            "/subscriptions/s/providers/Microsoft.Compute/locations/westus/usages"
        );
        assert_eq!(q[0].1, "2024-11-01");
        let (p, q) = split(&r.list_network_usages("s", "westus"));
        assert_eq!(
            p,
            "/subscriptions/s/providers/Microsoft.Network/locations/westus/usages"
        );
        assert_eq!(q[0].1, "2024-05-01");
        let scope = Scope::ResourceGroup {
            subscription: "s".into(),
            resource_group: "rg".into(),
        };
        let (p, q) = split(&r.list_locks(&scope));
        assert_eq!(
            p,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/locks"
        );
        assert_eq!(q[0].1, "2020-05-01");
        let (p, q) = split(&r.list_policy_assignments(&scope));
        assert_eq!(
            p,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/policyAssignments"
        );
        assert!(q.contains(&("$filter".into(), "atScope()".into())));
        let (p, _) = split(&r.list_policy_assignments(&Scope::Subscription("s".into())));
        assert_eq!(
            p,
            "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments"
        );
        let subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/sn";
        assert_eq!(split(&r.get_subnet(subnet)).0, subnet);
        assert_eq!(split(&r.get_subscription("s")).0, "/subscriptions/s");
        let (p, q) = split(&r.get_provider("s", "Microsoft.ContainerService"));
        assert_eq!(p, "/subscriptions/s/providers/Microsoft.ContainerService");
        assert_eq!(q[0].1, "2022-12-01");
    }
}
