//! Reading the policy file (YAML): the raw form is parsed here, and validated by
//! `nodemend-core` into the repair policy and, from its `alerts` section, the alert rules and
//! webhooks.

use std::path::Path;

use anyhow::Context as _;
use nodemend_core::alert::{AlertRule, Webhook, builtin_rules};
use nodemend_core::policy::{Policy, RawPolicy};

/// Everything a policy file configures.
#[derive(Debug, Clone)]
pub(crate) struct PolicyFile {
    /// The repair policy.
    pub(crate) policy: Policy,
    /// Alert rules: the built-in ones (unless `alerts.builtin: false`) and the file's own.
    pub(crate) alerts: Vec<AlertRule>,
    /// Where firings are sent.
    pub(crate) webhooks: Vec<Webhook>,
}

impl Default for PolicyFile {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            alerts: builtin_rules(),
            webhooks: Vec::new(),
        }
    }
}

/// The policy in `path`, or the built-in defaults when no file is given. Errors name the file
/// and the field.
pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<PolicyFile> {
    let Some(path) = path else {
        return Ok(PolicyFile::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    parse(&text).with_context(|| format!("invalid policy file {}", path.display()))
}

/// Parses and validates policy YAML.
pub(crate) fn parse(text: &str) -> anyhow::Result<PolicyFile> {
    let raw: RawPolicy = if text.trim().is_empty() {
        RawPolicy::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|err| match err.location() {
            Some(at) => anyhow::anyhow!("line {}, column {}: {err}", at.line(), at.column()),
            None => anyhow::anyhow!("{err}"),
        })?
    };
    let alerts = raw.alerts.clone().unwrap_or_default();
    Ok(PolicyFile {
        policy: raw.resolve()?,
        alerts: alerts.resolve()?,
        webhooks: alerts.resolve_webhooks()?,
    })
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
        let policy = policy.policy;
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
    fn the_alerts_section_adds_rules_and_webhooks() {
        let file = parse(
            "alerts:\n  rules:\n    - name: evictions\n      reasons: [EvictionBlocked]\n      count: 3\n      window: 15m\n  webhooks:\n    - name: oncall\n      urlEnv: ONCALL_WEBHOOK\n      format: slack\n",
        )
        .unwrap();
        let names: Vec<&str> = file.alerts.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"evictions"), "{names:?}");
        assert!(names.contains(&"node-repair-gave-up"), "{names:?}");
        assert_eq!(file.webhooks[0].name, "oncall");
        let err = format!(
            "{:#}",
            parse("alerts:\n  webhooks:\n    - name: x\n      format: pager\n      urlEnv: X\n")
                .unwrap_err()
        );
        assert!(err.contains("alerts.webhooks[0].format"), "{err}");
        assert_eq!(PolicyFile::default().alerts.len(), builtin_rules().len());
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
