//! The policy as a file states it: every field optional, names in camelCase, durations as
//! text such as `5m` or `1h 30m`, limits as `35%` or a count.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde::Deserialize;

use super::{Action, Drain, DrainTimeout, Limit, Policy, PoolPolicy, Step};
use crate::alert::RawAlerts;
use crate::health::HealthRules;

/// A policy value that cannot be used, naming the field (as a path such as
/// `pools.gpu.ladder[1].verify`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy field {field}: {problem}")]
pub struct PolicyError {
    /// Path of the field in the policy file.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

fn error(field: impl Into<String>, problem: impl Into<String>) -> PolicyError {
    PolicyError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The top level of a policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPolicy {
    /// How long a symptom must last (default `5m`).
    pub threshold: Option<String>,
    /// Extra condition types that mean trouble when `True`.
    pub problem_conditions: Option<Vec<String>>,
    /// Cluster-wide cap on unhealthy nodes (default `35%`).
    pub max_unhealthy: Option<RawLimit>,
    /// Cluster-wide cap on concurrent repairs (default 3).
    pub max_concurrent: Option<u32>,
    /// Redeploy budget per rolling hour (default 10).
    pub redeploys_per_hour: Option<u32>,
    /// Tries of the whole ladder per node (default 3).
    pub ladder_attempts: Option<u32>,
    /// Back-off before the second try of the ladder, doubling after (default `10m`).
    pub backoff: Option<String>,
    /// Repair single-node clusters (default false).
    pub allow_single_node: Option<bool>,
    /// Decide and report without acting (default false).
    pub dry_run: Option<bool>,
    /// Defaults for every pool.
    pub defaults: Option<RawPool>,
    /// Per-pool overrides of `defaults`.
    pub pools: Option<BTreeMap<String, RawPool>>,
    /// Alert rules and webhooks, resolved on their own by [`RawAlerts::resolve`] and
    /// [`RawAlerts::resolve_webhooks`] (the repair policy does not depend on them).
    pub alerts: Option<RawAlerts>,
}

/// Settings of one pool (or of the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPool {
    /// Repair this pool (default true).
    pub enabled: Option<bool>,
    /// Escalation ladder (default reboot 10m, reimage 20m, redeploy 30m).
    pub ladder: Option<Vec<RawStep>>,
    /// Concurrent repairs in the pool (default 1).
    pub max_concurrent: Option<u32>,
    /// Cap on unhealthy nodes in the pool (default `35%`).
    pub max_unhealthy: Option<RawLimit>,
    /// Cordon before the first action (default true).
    pub cordon: Option<bool>,
    /// Uncordon after recovery (default true).
    pub uncordon: Option<bool>,
    /// Drain before reimage/redeploy: `false`, or settings (default 10m, proceed).
    pub drain: Option<RawDrain>,
}

/// A ladder step: `reboot`, or `{action: reboot, verify: 10m}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawStep {
    /// Just the action, with its default verification window.
    Action(String),
    /// Action and verification window.
    Full {
        /// The action.
        action: String,
        /// Verification window.
        verify: Option<String>,
    },
}

/// Drain settings: `false` (or `true` for the defaults), or a map.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawDrain {
    /// On with defaults, or off.
    Enabled(bool),
    /// On with settings.
    Settings {
        /// How long to keep trying evictions.
        timeout: Option<String>,
        /// `proceed` or `stop`.
        #[serde(rename = "onTimeout")]
        on_timeout: Option<String>,
    },
}

/// A limit: a count (`3`) or a percentage (`"35%"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawLimit {
    /// A count.
    Count(u32),
    /// Text: `"35%"` or `"3"`.
    Text(String),
}

fn duration(
    field: &str,
    raw: Option<&str>,
    default: SignedDuration,
) -> Result<SignedDuration, PolicyError> {
    let Some(raw) = raw else { return Ok(default) };
    let parsed: SignedDuration = raw.parse().map_err(|_| {
        error(
            field,
            format!("{raw:?} is not a duration (write e.g. 5m, 90s or 1h 30m)"),
        )
    })?;
    if parsed <= SignedDuration::ZERO {
        return Err(error(field, format!("{raw:?} must be longer than zero")));
    }
    Ok(parsed)
}

fn limit(field: &str, raw: Option<&RawLimit>, default: Limit) -> Result<Limit, PolicyError> {
    match raw {
        None => Ok(default),
        Some(RawLimit::Count(n)) => Ok(Limit::Count(*n)),
        Some(RawLimit::Text(text)) => {
            let text = text.trim();
            if let Some(pct) = text.strip_suffix('%') {
                match pct.trim().parse::<u8>() {
                    Ok(p) if p <= 100 => Ok(Limit::Percent(p)),
                    _ => Err(error(
                        field,
                        format!("{text:?} must be a percentage from 0% to 100%"),
                    )),
                }
            } else {
                text.parse::<u32>().map(Limit::Count).map_err(|_| {
                    error(
                        field,
                        format!("{text:?} must be a count (3) or a percentage (35%)"),
                    )
                })
            }
        }
    }
}

fn action(field: &str, raw: &str) -> Result<Action, PolicyError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "reboot" | "restart" => Ok(Action::Reboot),
        "reimage" => Ok(Action::Reimage),
        "redeploy" => Ok(Action::Redeploy),
        _ => Err(error(
            field,
            format!("{raw:?} is not an action (reboot, reimage or redeploy)"),
        )),
    }
}

fn default_verify(action: Action) -> SignedDuration {
    match action {
        Action::Reboot => SignedDuration::from_mins(10),
        Action::Reimage => SignedDuration::from_mins(20),
        Action::Redeploy => SignedDuration::from_mins(30),
    }
}

fn ladder(
    field: &str,
    raw: Option<&[RawStep]>,
    default: &[Step],
) -> Result<Vec<Step>, PolicyError> {
    let Some(raw) = raw else {
        return Ok(default.to_vec());
    };
    if raw.is_empty() {
        return Err(error(
            field,
            "needs at least one step (disable the pool with `enabled: false` instead)",
        ));
    }
    let mut steps = Vec::with_capacity(raw.len());
    for (i, step) in raw.iter().enumerate() {
        let here = format!("{field}[{i}]");
        let (name, verify) = match step {
            RawStep::Action(name) => (name.as_str(), None),
            RawStep::Full { action, verify } => (action.as_str(), verify.as_deref()),
        };
        let action = action(&format!("{here}.action"), name)?;
        if steps.iter().any(|s: &Step| s.action == action) {
            return Err(error(here, format!("{action} appears twice in the ladder")));
        }
        let verify = duration(&format!("{here}.verify"), verify, default_verify(action))?;
        steps.push(Step { action, verify });
    }
    Ok(steps)
}

fn drain(
    field: &str,
    raw: Option<&RawDrain>,
    default: Option<Drain>,
) -> Result<Option<Drain>, PolicyError> {
    let base = default.unwrap_or(Drain {
        timeout: SignedDuration::from_mins(10),
        on_timeout: DrainTimeout::Proceed,
    });
    match raw {
        None => Ok(default),
        Some(RawDrain::Enabled(false)) => Ok(None),
        Some(RawDrain::Enabled(true)) => Ok(Some(base)),
        Some(RawDrain::Settings {
            timeout,
            on_timeout,
        }) => {
            let timeout = duration(
                &format!("{field}.timeout"),
                timeout.as_deref(),
                base.timeout,
            )?;
            let on_timeout = match on_timeout
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None => base.on_timeout,
                Some("proceed") => DrainTimeout::Proceed,
                Some("stop") => DrainTimeout::Stop,
                Some(other) => {
                    return Err(error(
                        format!("{field}.onTimeout"),
                        format!("{other:?} must be proceed or stop"),
                    ));
                }
            };
            Ok(Some(Drain {
                timeout,
                on_timeout,
            }))
        }
    }
}

fn pool(field: &str, raw: &RawPool, base: &PoolPolicy) -> Result<PoolPolicy, PolicyError> {
    let max_concurrent = raw.max_concurrent.unwrap_or(base.max_concurrent);
    if max_concurrent == 0 {
        return Err(error(
            format!("{field}.maxConcurrent"),
            "must be at least 1 (disable the pool with `enabled: false` instead)",
        ));
    }
    Ok(PoolPolicy {
        enabled: raw.enabled.unwrap_or(base.enabled),
        ladder: ladder(
            &format!("{field}.ladder"),
            raw.ladder.as_deref(),
            &base.ladder,
        )?,
        max_concurrent,
        max_unhealthy: limit(
            &format!("{field}.maxUnhealthy"),
            raw.max_unhealthy.as_ref(),
            base.max_unhealthy,
        )?,
        cordon: raw.cordon.unwrap_or(base.cordon),
        uncordon: raw.uncordon.unwrap_or(base.uncordon),
        drain: drain(&format!("{field}.drain"), raw.drain.as_ref(), base.drain)?,
    })
}

fn builtin_pool() -> PoolPolicy {
    PoolPolicy {
        enabled: true,
        ladder: [Action::Reboot, Action::Reimage, Action::Redeploy]
            .into_iter()
            .map(|action| Step {
                action,
                verify: default_verify(action),
            })
            .collect(),
        max_concurrent: 1,
        max_unhealthy: Limit::Percent(35),
        cordon: true,
        uncordon: true,
        drain: Some(Drain {
            timeout: SignedDuration::from_mins(10),
            on_timeout: DrainTimeout::Proceed,
        }),
    }
}

impl RawPolicy {
    /// Validates the policy and fills in every default.
    pub fn resolve(&self) -> Result<Policy, PolicyError> {
        let threshold = duration(
            "threshold",
            self.threshold.as_deref(),
            SignedDuration::from_mins(5),
        )?;
        let max_concurrent = self.max_concurrent.unwrap_or(3);
        if max_concurrent == 0 {
            return Err(error(
                "maxConcurrent",
                "must be at least 1 (use dryRun: true to stop acting)",
            ));
        }
        let ladder_attempts = self.ladder_attempts.unwrap_or(3);
        if ladder_attempts == 0 {
            return Err(error("ladderAttempts", "must be at least 1"));
        }
        let default_pool = match &self.defaults {
            Some(raw) => pool("defaults", raw, &builtin_pool())?,
            None => builtin_pool(),
        };
        let mut pools = BTreeMap::new();
        for (name, raw) in self.pools.iter().flatten() {
            pools.insert(
                name.clone(),
                pool(&format!("pools.{name}"), raw, &default_pool)?,
            );
        }
        Ok(Policy {
            health: HealthRules {
                threshold,
                problem_conditions: self.problem_conditions.clone().unwrap_or_default(),
            },
            max_unhealthy: limit(
                "maxUnhealthy",
                self.max_unhealthy.as_ref(),
                Limit::Percent(35),
            )?,
            max_concurrent,
            redeploys_per_hour: self.redeploys_per_hour.unwrap_or(10),
            ladder_attempts,
            backoff: duration(
                "backoff",
                self.backoff.as_deref(),
                SignedDuration::from_mins(10),
            )?,
            allow_single_node: self.allow_single_node.unwrap_or(false),
            dry_run: self.dry_run.unwrap_or(false),
            default_pool,
            pools,
        })
    }
}
