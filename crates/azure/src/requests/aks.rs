//! Microsoft.ContainerService: managed clusters and agent pools, read and reconciled.

use http::{HeaderValue, Method, header};
use nodemend_core::cloud::ClusterRef;

use super::{ArmRequest, Requests};

/// The ARM ID of a managed cluster.
pub fn cluster_id(cluster: &ClusterRef) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
        cluster.subscription, cluster.resource_group, cluster.name
    )
}

impl Requests {
    /// `ManagedClusters_Get`.
    pub fn get_cluster(&self, cluster: &ClusterRef) -> ArmRequest {
        let id = cluster_id(cluster);
        let v = &self.versions.container_service;
        self.build("get managed cluster", Method::GET, &id, &id, v, &[], None)
    }

    /// `ManagedClusters_ListByResourceGroup` (paged).
    pub fn list_clusters(&self, subscription: &str, resource_group: &str) -> ArmRequest {
        let scope = format!("/subscriptions/{subscription}/resourceGroups/{resource_group}");
        let path = format!("{scope}/providers/Microsoft.ContainerService/managedClusters");
        let v = &self.versions.container_service;
        self.build(
            "list managed clusters",
            Method::GET,
            &scope,
            &path,
            v,
            &[],
            None,
        )
    }

    /// `AgentPools_Get`.
    pub fn get_pool(&self, cluster: &ClusterRef, pool: &str) -> ArmRequest {
        let id = format!("{}/agentPools/{pool}", cluster_id(cluster));
        let v = &self.versions.container_service;
        self.build("get agent pool", Method::GET, &id, &id, v, &[], None)
    }

    /// `AgentPools_List` (paged).
    pub fn list_pools(&self, cluster: &ClusterRef) -> ArmRequest {
        let id = cluster_id(cluster);
        let path = format!("{id}/agentPools");
        let v = &self.versions.container_service;
        self.build("list agent pools", Method::GET, &id, &path, v, &[], None)
    }

    /// `ManagedClusters_CreateOrUpdate` with the model just read: a reconcile. `If-Match` keeps
    /// it from overwriting a change made since the read.
    pub fn put_cluster(
        &self,
        cluster: &ClusterRef,
        model: &serde_json::Value,
        etag: Option<&str>,
    ) -> ArmRequest {
        let id = cluster_id(cluster);
        let v = &self.versions.container_service;
        let req = self.build(
            "reconcile managed cluster",
            Method::PUT,
            &id,
            &id,
            v,
            &[],
            Some(model),
        );
        if_match(req, etag)
    }

    /// `AgentPools_CreateOrUpdate` with the model just read: a pool reconcile.
    pub fn put_pool(
        &self,
        cluster: &ClusterRef,
        pool: &str,
        model: &serde_json::Value,
        etag: Option<&str>,
    ) -> ArmRequest {
        let id = format!("{}/agentPools/{pool}", cluster_id(cluster));
        let v = &self.versions.container_service;
        let req = self.build(
            "reconcile agent pool",
            Method::PUT,
            &id,
            &id,
            v,
            &[],
            Some(model),
        );
        if_match(req, etag)
    }
}

fn if_match(mut req: ArmRequest, etag: Option<&str>) -> ArmRequest {
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        req.http.headers_mut().insert(header::IF_MATCH, value);
    }
    req
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::*;
    use super::*;
    use crate::requests::OpClass;

    fn cluster() -> ClusterRef {
        ClusterRef {
            subscription: "s".into(),
            resource_group: "rg1".into(),
            name: "clustername1".into(),
        }
    }

    const MC: &str = "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/clustername1";

    #[test]
    fn reads_use_the_aks_api_version() {
        let r = requests();
        let (path, query) = split(&r.get_cluster(&cluster()));
        assert_eq!(path, MC);
        assert_eq!(query, vec![("api-version".into(), "2025-10-01".into())]);
        assert_eq!(
            split(&r.get_pool(&cluster(), "agentpool1")).0,
            format!("{MC}/agentPools/agentpool1")
        );
        assert_eq!(
            split(&r.list_pools(&cluster())).0,
            format!("{MC}/agentPools")
        );
        assert_eq!(
            split(&r.list_clusters("s", "rg1")).0,
            "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
        );
    }

    #[test]
    fn reconcile_puts_the_model_back_with_if_match() {
        let model = json!({"location": "location1", "properties": {"count": 3}});
        let req = requests().put_pool(&cluster(), "agentpool1", &model, Some("\"etag-1\""));
        assert_eq!(req.http.method(), Method::PUT);
        assert_eq!(req.class, OpClass::Write);
        assert_eq!(body(&req), model);
        assert_eq!(req.http.headers()[header::IF_MATCH], "\"etag-1\"");
        let req = requests().put_cluster(&cluster(), &model, None);
        assert_eq!(split(&req).0, MC);
        assert!(req.http.headers().get(header::IF_MATCH).is_none());
    }
}
