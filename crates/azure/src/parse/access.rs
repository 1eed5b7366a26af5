//! The caller's own permissions (`Permissions_ListForResourceGroup`, `_ListForResource`).

use super::{Page, ParseError, page};
use crate::access::Permission;

/// A page of the caller's permissions: one entry per role it holds at the scope.
pub fn permissions(body: &[u8]) -> Result<Page<Permission>, ParseError> {
    page(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_roles() {
        let body = br#"{"value":[
            {"actions":["Microsoft.Compute/*/read","Microsoft.Compute/virtualMachineScaleSets/restart/action"],"notActions":[],"dataActions":[],"notDataActions":[]},
            {"actions":["*"],"notActions":["Microsoft.Authorization/*/write"],"dataActions":null,"condition":null,"conditionVersion":null}
        ],"nextLink":"https://management.azure.com/next"}"#;
        let page = permissions(body).unwrap();
        assert_eq!(page.value.len(), 2);
        assert_eq!(page.value[0].actions[0], "Microsoft.Compute/*/read");
        assert_eq!(
            page.value[1].not_actions,
            ["Microsoft.Authorization/*/write"]
        );
        assert!(page.value[1].data_actions.is_empty());
        assert!(page.next_link.is_some());
    }

    #[test]
    fn no_roles_at_all() {
        let page = permissions(br#"{"value":[]}"#).unwrap();
        assert!(page.value.is_empty());
        assert!(permissions(b"<html>").is_err());
    }
}
