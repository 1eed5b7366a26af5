//! Alert rules as a policy file states them (camelCase, durations as text such as `10m`), their
//! validation into [`AlertRule`]s, and the rules nodemend ships.

use jiff::SignedDuration;
use regex::Regex;
use serde::Deserialize;

use super::webhook::resolve_all;
use super::{AlertRule, EventMatch, GroupBy, RawWebhook, Severity, Trigger, Webhook};

/// An alert rule that cannot be used, naming the field (as a path such as
/// `alerts.rules[2].message`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("alert rule field {field}: {problem}")]
pub struct AlertRuleError {
    /// Path of the field.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

fn error(field: impl Into<String>, problem: impl Into<String>) -> AlertRuleError {
    AlertRuleError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The `alerts` section of a policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAlerts {
    /// Keep the built-in rules (default true). A rule of the same name replaces a built-in one.
    pub builtin: Option<bool>,
    /// The file's own rules.
    pub rules: Option<Vec<RawAlertRule>>,
    /// Where firings are sent; without any, firings are only logged and archived.
    pub webhooks: Option<Vec<RawWebhook>>,
}

/// One alert rule as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAlertRule {
    /// Unique name (required).
    pub name: Option<String>,
    /// Event reasons that match (any of them).
    pub reasons: Option<Vec<String>>,
    /// Event type that matches: `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Regular expression searched in the event message.
    pub message: Option<String>,
    /// Involved object kind that matches, e.g. `Node`.
    pub object_kind: Option<String>,
    /// Regular expression searched in the involved object's name.
    pub object_name: Option<String>,
    /// Instead of events: fire when a node is NotReady for this long.
    pub node_not_ready_for: Option<String>,
    /// Occurrences needed within `window` (default 1).
    pub count: Option<u32>,
    /// Counting window (default `10m`).
    pub window: Option<String>,
    /// Silence after firing, per group (default `1h`; `0s` for none).
    pub quiet: Option<String>,
    /// `rule`, `node` or `object` (default `node`).
    pub group_by: Option<String>,
    /// `info`, `warning` or `critical` (default `warning`).
    pub severity: Option<String>,
}

/// The longest duration a rule may use: a year is far beyond any sensible window, and keeps
/// time arithmetic far from the ends of the representable range.
const LONGEST: SignedDuration = SignedDuration::from_hours(366 * 24);

fn duration(
    field: &str,
    raw: Option<&str>,
    default: SignedDuration,
    zero_ok: bool,
) -> Result<SignedDuration, AlertRuleError> {
    let Some(raw) = raw else { return Ok(default) };
    let parsed: SignedDuration = raw.parse().map_err(|_| {
        error(
            field,
            format!("{raw:?} is not a duration (write e.g. 10m, 90s or 1h 30m)"),
        )
    })?;
    if parsed < SignedDuration::ZERO || (parsed.is_zero() && !zero_ok) {
        return Err(error(field, format!("{raw:?} must be longer than zero")));
    }
    if parsed > LONGEST {
        return Err(error(
            field,
            format!("{raw:?} must be at most 366 days (8784h)"),
        ));
    }
    Ok(parsed)
}

fn regex(field: &str, raw: Option<&str>) -> Result<Option<Regex>, AlertRuleError> {
    raw.map(|r| {
        Regex::new(r).map_err(|e| error(field, format!("{r:?} is not a regular expression: {e}")))
    })
    .transpose()
}

fn choice<T: Copy>(
    field: &str,
    raw: Option<&str>,
    default: T,
    options: &[(&str, T)],
) -> Result<T, AlertRuleError> {
    let Some(raw) = raw else { return Ok(default) };
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(raw.trim()))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            error(
                field,
                format!("{raw:?} must be one of {}", names.join(", ")),
            )
        })
}

impl RawAlertRule {
    /// Validates the rule; `field` is where it sits in the file, for error messages.
    pub fn resolve(&self, field: &str) -> Result<AlertRule, AlertRuleError> {
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(error(format!("{field}.name"), "is required"));
        }
        let quiet = duration(
            &format!("{field}.quiet"),
            self.quiet.as_deref(),
            SignedDuration::from_hours(1),
            true,
        )?;
        let group_by = choice(
            &format!("{field}.groupBy"),
            self.group_by.as_deref(),
            GroupBy::Node,
            &[
                ("rule", GroupBy::Rule),
                ("node", GroupBy::Node),
                ("object", GroupBy::Object),
            ],
        )?;
        let severity = choice(
            &format!("{field}.severity"),
            self.severity.as_deref(),
            Severity::Warning,
            &[
                ("info", Severity::Info),
                ("warning", Severity::Warning),
                ("critical", Severity::Critical),
            ],
        )?;
        let trigger = match &self.node_not_ready_for {
            Some(after) => self.not_ready_trigger(field, after)?,
            None => self.event_trigger(field)?,
        };
        Ok(AlertRule {
            name: name.to_owned(),
            severity,
            trigger,
            quiet,
            group_by,
        })
    }

    fn not_ready_trigger(&self, field: &str, after: &str) -> Result<Trigger, AlertRuleError> {
        let event_fields = [
            ("reasons", self.reasons.is_some()),
            ("type", self.event_type.is_some()),
            ("message", self.message.is_some()),
            ("objectKind", self.object_kind.is_some()),
            ("objectName", self.object_name.is_some()),
            ("count", self.count.is_some()),
            ("window", self.window.is_some()),
        ];
        if let Some((other, _)) = event_fields.iter().find(|(_, set)| *set) {
            return Err(error(
                format!("{field}.{other}"),
                "cannot be combined with nodeNotReadyFor (a NotReady rule looks at nodes, not events)",
            ));
        }
        let after = duration(
            &format!("{field}.nodeNotReadyFor"),
            Some(after),
            SignedDuration::ZERO,
            false,
        )?;
        Ok(Trigger::NodeNotReady { after })
    }

    fn event_trigger(&self, field: &str) -> Result<Trigger, AlertRuleError> {
        let reasons = self.reasons.clone().unwrap_or_default();
        if let Some(i) = reasons.iter().position(|r| r.trim().is_empty()) {
            return Err(error(format!("{field}.reasons[{i}]"), "is empty"));
        }
        let matcher = EventMatch {
            reasons,
            event_type: self.event_type.clone(),
            message: regex(&format!("{field}.message"), self.message.as_deref())?,
            object_kind: self.object_kind.clone(),
            object_name: regex(&format!("{field}.objectName"), self.object_name.as_deref())?,
        };
        if matcher.reasons.is_empty()
            && matcher.event_type.is_none()
            && matcher.message.is_none()
            && matcher.object_kind.is_none()
            && matcher.object_name.is_none()
        {
            return Err(error(
                field,
                "matches every event: give reasons, type, message, objectKind or objectName (or nodeNotReadyFor)",
            ));
        }
        let count = self.count.unwrap_or(1);
        if count == 0 {
            return Err(error(format!("{field}.count"), "must be at least 1"));
        }
        let window = duration(
            &format!("{field}.window"),
            self.window.as_deref(),
            SignedDuration::from_mins(10),
            false,
        )?;
        Ok(Trigger::Events {
            matcher,
            count,
            window,
        })
    }
}

fn builtin(name: &str, reason: &str, severity: &str) -> RawAlertRule {
    RawAlertRule {
        name: Some(name.into()),
        reasons: Some(vec![reason.into()]),
        severity: Some(severity.into()),
        ..RawAlertRule::default()
    }
}

fn builtin_raw() -> Vec<RawAlertRule> {
    vec![
        builtin("node-reboot-error", "NodeRebootError", "warning"),
        builtin("node-reimage-error", "NodeReimageError", "warning"),
        builtin("node-redeploy-error", "NodeRedeployError", "warning"),
        builtin("node-repair-gave-up", "NodeRepairGaveUp", "critical"),
        RawAlertRule {
            name: Some("node-not-ready".into()),
            node_not_ready_for: Some("15m".into()),
            severity: Some("warning".into()),
            ..RawAlertRule::default()
        },
    ]
}

/// The rules nodemend ships: each auto-repair error reason (`NodeRebootError`,
/// `NodeReimageError`, `NodeRedeployError`) and `NodeRepairGaveUp` fire on the first
/// occurrence per node, and a node NotReady for 15 minutes (three times AKS's repair
/// threshold: repairs have had their chance) fires once per episode; all quiet for an hour
/// per node.
pub fn builtin_rules() -> Vec<AlertRule> {
    builtin_raw()
        .iter()
        .map(|raw| raw.resolve("builtin"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| unreachable!("the built-in alert rules are valid: {err}"))
}

impl RawAlerts {
    /// Validates every rule, adds the built-in ones unless turned off (a rule of the same
    /// name replaces a built-in one), and checks that names are unique.
    pub fn resolve(&self) -> Result<Vec<AlertRule>, AlertRuleError> {
        let own = self.rules.as_deref().unwrap_or_default();
        let mut rules = Vec::with_capacity(own.len() + 5);
        for (i, raw) in own.iter().enumerate() {
            let field = format!("alerts.rules[{i}]");
            let rule = raw.resolve(&field)?;
            if rules.iter().any(|r: &AlertRule| r.name == rule.name) {
                return Err(error(
                    format!("{field}.name"),
                    format!("{:?} is used by another rule", rule.name),
                ));
            }
            rules.push(rule);
        }
        if self.builtin.unwrap_or(true) {
            let mut builtins: Vec<AlertRule> = builtin_rules()
                .into_iter()
                .filter(|b| !rules.iter().any(|r| r.name == b.name))
                .collect();
            builtins.append(&mut rules);
            rules = builtins;
        }
        Ok(rules)
    }

    /// Validates the webhooks (names unique; exactly one URL source each).
    pub fn resolve_webhooks(&self) -> Result<Vec<Webhook>, AlertRuleError> {
        resolve_all(self.webhooks.as_deref().unwrap_or_default())
    }
}
