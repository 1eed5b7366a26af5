//! The caller's own permissions, for `nodemend doctor`.

use http::Method;

use super::{ArmRequest, Requests};

impl Requests {
    /// `Permissions_ListForResourceGroup` (scope `/subscriptions/{s}/resourceGroups/{rg}`) or
    /// `Permissions_ListForResource` (scope a resource ID): what the signed-in identity may do
    /// there, inherited assignments included (paged).
    pub fn list_permissions(&self, scope: &str) -> ArmRequest {
        let scope = scope.trim_end_matches('/');
        let path = format!("{scope}/providers/Microsoft.Authorization/permissions");
        let v = &self.versions.authorization;
        self.build("list permissions", Method::GET, scope, &path, v, &[], None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn permissions_of_a_resource_group_and_of_a_resource() {
        let r = requests();
        let (path, query) = split(&r.list_permissions("/subscriptions/s/resourceGroups/rg"));
        assert_eq!(
            path,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/permissions"
        );
        assert_eq!(query, vec![("api-version".into(), "2022-04-01".into())]);
        let cluster = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks";
        let req = r.list_permissions(cluster);
        assert_eq!(
            split(&req).0,
            format!("{cluster}/providers/Microsoft.Authorization/permissions")
        );
        assert_eq!(req.resource, cluster);
    }
}
