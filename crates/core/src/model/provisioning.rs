//! Provisioning states as ARM reports them on clusters, agent pools, scale sets and VMs.

use std::fmt;

/// The `provisioningState` of an ARM resource.
///
/// ARM spells these in PascalCase on resources (`"Succeeded"`) and in lower case inside
/// instance-view status codes (`"ProvisioningState/succeeded"`); parsing accepts both. A value
/// this enum does not know is kept verbatim in [`ProvisioningState::Other`], because resource
/// providers add states over time and a diagnosis must still show what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProvisioningState {
    /// The last operation finished successfully.
    Succeeded,
    /// The last operation failed; the resource needs attention or a reconcile.
    Failed,
    /// The last operation was cancelled.
    Canceled,
    /// The resource is being created.
    Creating,
    /// The resource is being updated.
    Updating,
    /// The cluster or pool is being upgraded to a new Kubernetes or node-image version.
    Upgrading,
    /// The pool is being scaled.
    Scaling,
    /// The resource is being deleted.
    Deleting,
    /// The cluster or pool is being started.
    Starting,
    /// The cluster or pool is being stopped.
    Stopping,
    /// The cluster is being migrated.
    Migrating,
    /// A state this version of nodemend does not know, as ARM spelled it.
    Other(String),
}

impl ProvisioningState {
    const KNOWN: [(&'static str, ProvisioningState); 11] = [
        ("Succeeded", Self::Succeeded),
        ("Failed", Self::Failed),
        ("Canceled", Self::Canceled),
        ("Creating", Self::Creating),
        ("Updating", Self::Updating),
        ("Upgrading", Self::Upgrading),
        ("Scaling", Self::Scaling),
        ("Deleting", Self::Deleting),
        ("Starting", Self::Starting),
        ("Stopping", Self::Stopping),
        ("Migrating", Self::Migrating),
    ];

    /// Parses a state as ARM reports it; never fails (unknown values are kept verbatim).
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        // ARM has used both spellings of "cancelled" over the years.
        if raw.eq_ignore_ascii_case("Cancelled") {
            return Self::Canceled;
        }
        Self::KNOWN
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(raw))
            .map(|(_, state)| state.clone())
            .unwrap_or_else(|| Self::Other(raw.to_owned()))
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(raw) => raw,
            known => Self::KNOWN
                .iter()
                .find(|(_, state)| state == known)
                .map_or("", |(name, _)| name),
        }
    }

    /// True when no operation is running: `Succeeded`, `Failed` or `Canceled`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }

    /// True when the resource is in a failed state that needs a human or a reconcile.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed)
    }

    /// True while an operation that changes the node set is running (upgrade, scale, delete):
    /// nodes may legitimately be NotReady then and must not be repaired.
    pub fn is_changing_nodes(&self) -> bool {
        matches!(
            self,
            Self::Creating | Self::Upgrading | Self::Scaling | Self::Deleting | Self::Stopping
        )
    }
}

impl fmt::Display for ProvisioningState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ProvisioningState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ProvisioningState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(Self::parse(&raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_arm_spelling() {
        for (raw, want) in [
            ("Succeeded", ProvisioningState::Succeeded),
            ("succeeded", ProvisioningState::Succeeded),
            ("FAILED", ProvisioningState::Failed),
            ("Canceled", ProvisioningState::Canceled),
            ("Cancelled", ProvisioningState::Canceled),
            ("Upgrading", ProvisioningState::Upgrading),
            ("Migrating", ProvisioningState::Migrating),
        ] {
            assert_eq!(ProvisioningState::parse(raw), want, "{raw}");
        }
    }

    #[test]
    fn unknown_states_are_kept_verbatim() {
        let state = ProvisioningState::parse("ReconcilingNetwork");
        assert_eq!(state, ProvisioningState::Other("ReconcilingNetwork".into()));
        assert_eq!(state.to_string(), "ReconcilingNetwork");
        assert!(!state.is_terminal());
    }

    #[test]
    fn display_round_trips_for_known_states() {
        for (name, state) in ProvisioningState::KNOWN {
            assert_eq!(state.to_string(), name);
            assert_eq!(ProvisioningState::parse(name), state);
        }
    }

    #[test]
    fn classifies_states() {
        assert!(ProvisioningState::Failed.is_failed());
        assert!(ProvisioningState::Canceled.is_terminal());
        assert!(ProvisioningState::Scaling.is_changing_nodes());
        assert!(!ProvisioningState::Updating.is_changing_nodes());
    }

    #[test]
    fn serde_uses_arm_strings() {
        let json = serde_json::to_string(&ProvisioningState::Upgrading).unwrap();
        assert_eq!(json, "\"Upgrading\"");
        let back: ProvisioningState = serde_json::from_str("\"somethingNew\"").unwrap();
        assert_eq!(back, ProvisioningState::Other("somethingNew".into()));
    }
}
