//! What the signed-in identity may do, as ARM's permissions API reports it: one
//! [`Permission`] per role it holds at a scope, and [`Access::allows`] to decide an action the
//! way Azure RBAC does (an action is granted when some role lists it in `actions` and the same
//! role does not take it back in `notActions`; `*` matches any run of characters, case is
//! ignored).

use serde::Deserialize;

/// The permissions of one role at the scope that was asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Control-plane actions granted (`Microsoft.Compute/*/read`, `*`...).
    #[serde(default, deserialize_with = "crate::parse::null_default")]
    pub actions: Vec<String>,
    /// Control-plane actions the same role excludes.
    #[serde(default, deserialize_with = "crate::parse::null_default")]
    pub not_actions: Vec<String>,
    /// Data-plane actions granted (nodemend uses none).
    #[serde(default, deserialize_with = "crate::parse::null_default")]
    pub data_actions: Vec<String>,
    /// Data-plane actions excluded.
    #[serde(default, deserialize_with = "crate::parse::null_default")]
    pub not_data_actions: Vec<String>,
}

impl Permission {
    /// Whether this role alone grants `action`.
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }
}

/// Everything the identity holds at one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The ARM ID of the scope the permissions were read at.
    pub scope: String,
    /// One entry per role (assignments inherited from above the scope included).
    pub permissions: Vec<Permission>,
}

impl Access {
    /// Whether any role at the scope grants `action`.
    pub fn allows(&self, action: &str) -> bool {
        self.permissions.iter().any(|p| p.allows(action))
    }
}

/// Whether the RBAC action `pattern` (with `*` wildcards anywhere) covers `action`, ignoring
/// case.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = action.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    let Some((last, middle)) = pieces.split_last() else {
        // No wildcard: the whole action must be the literal.
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_case() {
        assert!(action_matches(
            "Microsoft.Compute/virtualMachines/read",
            "microsoft.compute/VIRTUALMACHINES/read"
        ));
        assert!(!action_matches(
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/read/x"
        ));
        assert!(!action_matches(
            "Microsoft.Compute/virtualMachines/read",
            ""
        ));
    }

    #[test]
    fn wildcards_anywhere() {
        let read = "Microsoft.Compute/*/read";
        assert!(action_matches(
            read,
            "Microsoft.Compute/virtualMachines/read"
        ));
        assert!(action_matches(
            read,
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"
        ));
        assert!(!action_matches(
            read,
            "Microsoft.Compute/virtualMachines/restart/action"
        ));
        assert!(!action_matches(read, "Microsoft.Network/subnets/read"));
        assert!(action_matches("*", "Microsoft.Anything/x/write"));
        assert!(action_matches(
            "*/read",
            "Microsoft.Insights/eventtypes/values/read"
        ));
        assert!(action_matches(
            "Microsoft.ContainerService/*",
            "Microsoft.ContainerService/managedClusters/agentPools/write"
        ));
        assert!(action_matches(
            "Microsoft.Compute/*/*/action",
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/restart/action"
        ));
        assert!(!action_matches(
            "Microsoft.Compute/*/*/action",
            "Microsoft.Compute/x/action"
        ));
    }

    #[test]
    fn not_actions_subtract_within_a_role_only() {
        let contributor = Permission {
            actions: vec!["*".into()],
            not_actions: vec!["Microsoft.Compute/*/action".into()],
            ..Permission::default()
        };
        let restart = "Microsoft.Compute/virtualMachineScaleSets/restart/action";
        assert!(contributor.allows("Microsoft.Compute/virtualMachineScaleSets/read"));
        assert!(!contributor.allows(restart));
        let mut access = Access {
            scope: "/subscriptions/s/resourceGroups/rg".into(),
            permissions: vec![contributor],
        };
        assert!(!access.allows(restart));
        // Another role that grants it makes it allowed: notActions are not deny assignments.
        access.permissions.push(Permission {
            actions: vec![restart.into()],
            ..Permission::default()
        });
        assert!(access.allows(restart));
    }

    #[test]
    fn nothing_held_allows_nothing() {
        assert!(!Access::default().allows("Microsoft.Resources/subscriptions/read"));
    }
}
