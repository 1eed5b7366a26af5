//! Power states of VMs (instance view `PowerState/<state>`) and of clusters and pools
//! (`powerState.code`).

use std::fmt;

/// Whether a VM, pool or cluster is running.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PowerState {
    /// Booting.
    Starting,
    /// Running.
    Running,
    /// Shutting down.
    Stopping,
    /// Stopped but still allocated (and billed).
    Stopped,
    /// Releasing its host.
    Deallocating,
    /// Stopped and released from its host.
    Deallocated,
    /// The platform cannot tell.
    Unknown,
    /// A value this version of nodemend does not know, kept verbatim.
    Other(String),
}

impl PowerState {
    const KNOWN: [(&'static str, PowerState); 7] = [
        ("Starting", Self::Starting),
        ("Running", Self::Running),
        ("Stopping", Self::Stopping),
        ("Stopped", Self::Stopped),
        ("Deallocating", Self::Deallocating),
        ("Deallocated", Self::Deallocated),
        ("Unknown", Self::Unknown),
    ];

    /// Parses `running`, `Running` or an instance-view code such as `PowerState/running`.
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        let value = match raw.split_once('/') {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("PowerState") => rest,
            _ => raw,
        };
        Self::KNOWN
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
            .map(|(_, state)| state.clone())
            .unwrap_or_else(|| Self::Other(value.to_owned()))
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

    /// True when the machine is meant to be running (or coming up).
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running | Self::Starting)
    }
}

impl fmt::Display for PowerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for PowerState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for PowerState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(Self::parse(&raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_instance_view_codes_and_plain_values() {
        assert_eq!(PowerState::parse("PowerState/running"), PowerState::Running);
        assert_eq!(
            PowerState::parse("PowerState/deallocated"),
            PowerState::Deallocated
        );
        assert_eq!(PowerState::parse("Stopped"), PowerState::Stopped);
        assert_eq!(
            PowerState::parse("PowerState/hibernated"),
            PowerState::Other("hibernated".into())
        );
        assert!(PowerState::parse("starting").is_running());
        assert!(!PowerState::Deallocated.is_running());
    }
}
