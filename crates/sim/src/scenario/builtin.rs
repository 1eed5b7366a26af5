//! The scenarios shipped with nodemend (`scenarios/*.toml`), compiled in so `nodemend demo`
//! needs no files.

macro_rules! scenarios {
    ($($name:literal),* $(,)?) => {
        /// Every built-in scenario: (name, TOML).
        pub const BUILTIN: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../../../scenarios/", $name, ".toml")))),*
        ];
    };
}

scenarios![
    "reimage-fixes",
    "reboot-fixes",
    "redeploy-fixes",
    "gave-up",
    "error-vm-extension-provisioning",
    "error-invalid-parameter",
    "error-managed-identity",
    "error-outbound-connectivity",
    "error-redeployment-failed",
    "error-too-many-redeploys",
    "error-provider-id",
    "storm",
    "pdb-blocks-drain",
    "controller-restart",
    "dry-run",
    "diag-cluster-upgrade-failed",
    "diag-pool-quota",
    "diag-pool-capacity",
    "diag-pool-policy",
    "diag-pool-lock",
    "diag-subnet-full",
    "diag-vm-disk-detach",
    "diag-read-only-subscription",
    "diag-provider-unregistered",
    "diag-pdb-blocks-drain",
    "diag-system-pods-down",
    "diag-auto-repair-errors",
];

/// The built-in scenario called `name`.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
