//! The scenarios shipped with nodemend (`scenarios/*.toml`), compiled in so `nodemend demo`
//! needs no files.

/// Every built-in scenario: (name, TOML).
pub const BUILTIN: &[(&str, &str)] = &[(
    "reboot-fixes",
    include_str!("../../../../scenarios/reboot-fixes.toml"),
)];

/// The built-in scenario called `name`.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
