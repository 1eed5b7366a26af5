//! Reading the repair policy from a YAML file: the raw form is parsed here, and validated into
//! the policy the controller uses by `nodemend-core`.

use std::path::Path;

use anyhow::Context as _;
use nodemend_core::policy::{Policy, RawPolicy};

/// The policy in `path`, or the built-in defaults when no file is given. Errors name the file
/// and the field.
pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    parse(&text).with_context(|| format!("invalid policy file {}", path.display()))
}

/// Parses and validates policy YAML.
pub(crate) fn parse(text: &str) -> anyhow::Result<Policy> {
    let raw: RawPolicy = if text.trim().is_empty() {
        RawPolicy::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|err| match err.location() {
            Some(at) => anyhow::anyhow!("line {}, column {}: {err}", at.line(), at.column()),
            None => anyhow::anyhow!("{err}"),
        })?
    };
    Ok(raw.resolve()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_with_per_pool_overrides() {
        let policy = parse(
            "threshold: 2m\nmaxUnhealthy: 40%\npools:\n  gpu:\n    enabled: false\n  spot:\n    ladder: [reboot, redeploy]\n",
        )
        .unwrap();
        assert_eq!(policy.health.threshold, jiff::SignedDuration::from_mins(2));
        assert!(!policy.pool(Some("gpu")).enabled);
        assert_eq!(policy.pool(Some("spot")).ladder.len(), 2);
    }

    #[test]
    fn errors_say_where_and_why() {
        let err = format!("{:#}", parse("treshold: 5m\n").unwrap_err());
        assert!(err.contains("unknown field `treshold`"), "{err}");
        assert!(err.contains("line 1"), "{err}");
        let err = format!(
            "{:#}",
            parse("pools:\n  a:\n    ladder: [reboot, warp]\n").unwrap_err()
        );
        assert!(
            err.contains("policy field pools.a.ladder[1].action"),
            "{err}"
        );
        assert!(parse("").is_ok());
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err = format!(
            "{:#}",
            load(Some(Path::new("/nonexistent/policy.yaml"))).unwrap_err()
        );
        assert!(err.contains("/nonexistent/policy.yaml"), "{err}");
    }
}
