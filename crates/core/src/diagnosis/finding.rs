//! A finding: one problem, the facts that prove it, and what to do about it.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::placeholders::Placeholders;
use crate::catalog::{Entry, Severity};

/// One problem found in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it: a stable kebab-case ID scripts can match on.
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What it is about: an ARM ID, or `node/<name>`, `pod/<namespace>/<name>`, `pdb/...`.
    pub resource: String,
    /// The error code behind it, when there is one.
    pub code: Option<String>,
    /// The problem in one line.
    pub title: String,
    /// The fields and records that prove it.
    pub evidence: Vec<Evidence>,
    /// Likely causes, from the catalog entry.
    pub cause: Vec<String>,
    /// What to do, step by step, from the catalog entry.
    pub remedy: Vec<String>,
    /// Commands that fix or narrow it down, with the snapshot's names filled in.
    pub commands: Vec<String>,
    /// Public documentation.
    pub docs: Option<String>,
    /// The catalog entry used for cause and remedy (`nodemend explain <entry>`).
    pub entry: Option<String>,
}

/// One fact that supports a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// What the value is, e.g. `provisioningState` or `activity log`.
    pub label: String,
    /// The value as read.
    pub value: String,
}

/// A finding being written by a rule. Commands come out in three groups: the rule's own fixes,
/// then the catalog entry's commands, then what to run afterwards (usually a reconcile).
pub(crate) struct Draft {
    finding: Finding,
    fixes: Vec<String>,
    entry_commands: Vec<String>,
    after: Vec<String>,
}

impl Draft {
    /// A finding with no code, evidence or remedy yet.
    pub(crate) fn new(
        rule: &'static str,
        severity: Severity,
        resource: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        Self {
            finding: Finding {
                rule,
                severity,
                resource: resource.into(),
                code: None,
                title: title.into(),
                evidence: Vec::new(),
                cause: Vec::new(),
                remedy: Vec::new(),
                commands: Vec::new(),
                docs: None,
                entry: None,
            },
            fixes: Vec::new(),
            entry_commands: Vec::new(),
            after: Vec::new(),
        }
    }

    /// Sets the error code.
    pub(crate) fn code(mut self, code: impl Into<String>) -> Self {
        self.finding.code = Some(code.into());
        self
    }

    /// Adds a fact.
    pub(crate) fn evidence(mut self, label: impl Into<String>, value: impl ToString) -> Self {
        self.finding.evidence.push(Evidence {
            label: label.into(),
            value: value.to_string(),
        });
        self
    }

    /// Takes cause, remedy, docs and commands from a catalog entry, filling its placeholders.
    pub(crate) fn entry(mut self, entry: Option<&Entry>, names: &Placeholders) -> Self {
        let Some(entry) = entry else { return self };
        self.finding.entry = Some(entry.code.clone());
        self.finding.cause = entry.causes.iter().map(|c| names.fill(c)).collect();
        self.finding.remedy = entry.remedy.iter().map(|s| names.fill(&s.step)).collect();
        self.finding.docs = Some(entry.docs.clone());
        self.entry_commands = entry
            .remedy
            .iter()
            .flat_map(|s| &s.commands)
            .map(|c| names.fill(c))
            .collect();
        self
    }

    /// A command specific to this finding, shown before the catalog's.
    pub(crate) fn fix(mut self, command: impl Into<String>) -> Self {
        self.fixes.push(command.into());
        self
    }

    /// A command to run once the cause is fixed, shown after the catalog's.
    pub(crate) fn then(mut self, command: impl Into<String>) -> Self {
        self.after.push(command.into());
        self
    }

    /// The finished finding, with duplicate commands removed. A catalog command that is also a
    /// fix or an afterwards command is shown only in that place.
    pub(crate) fn build(self) -> Finding {
        let Self {
            mut finding,
            fixes,
            entry_commands,
            after,
        } = self;
        let entry_commands: Vec<String> = entry_commands
            .into_iter()
            .filter(|c| !after.contains(c))
            .collect();
        for command in fixes.into_iter().chain(entry_commands).chain(after) {
            if !finding.commands.contains(&command) {
                finding.commands.push(command);
            }
        }
        finding
    }
}

/// A duration as a person reads it: `3d 4h`, `2h 5m`, `4m 10s`, `12s`.
pub(crate) fn human(duration: SignedDuration) -> String {
    let secs = duration.as_secs().max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// A time with how long ago it was: `2026-01-01T00:00:00Z (2h 5m ago)`.
pub(crate) fn ago(now: Timestamp, then: Timestamp) -> String {
    format!("{then} ({} ago)", human(now.duration_since(then)))
}

/// Text cut to at most `max` characters, marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Names joined for a line of evidence, at most `max` of them, saying how many more there are.
pub(crate) fn list(items: &[String], max: usize) -> String {
    let mut out = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        out.push_str(&format!(" and {} more", items.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn commands_come_in_order_without_duplicates() {
        let entry = Catalog::builtin().find("ScopeLocked");
        let names = Placeholders::default()
            .set("node-resource-group", "MC_rg")
            .set("lock", "keep");
        let finding = Draft::new("r", Severity::Error, "x", "t")
            .fix("az lock delete --name keep --resource-group MC_rg")
            .entry(entry, &names)
            .then("nodemend reconcile cluster")
            .build();
        assert_eq!(
            finding.commands.first().map(String::as_str),
            Some("az lock delete --name keep --resource-group MC_rg")
        );
        assert_eq!(
            finding.commands.last().map(String::as_str),
            Some("nodemend reconcile cluster")
        );
        let deletes = finding
            .commands
            .iter()
            .filter(|c| c.starts_with("az lock delete"))
            .count();
        assert_eq!(deletes, 1, "{:?}", finding.commands);
        assert!(
            finding
                .commands
                .iter()
                .all(|c| !c.contains("<node-resource-group>"))
        );
        assert_eq!(finding.entry.as_deref(), Some("ScopeLocked"));
        assert!(finding.docs.is_some() && !finding.cause.is_empty());
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human(SignedDuration::from_secs(12)), "12s");
        assert_eq!(human(SignedDuration::from_secs(250)), "4m 10s");
        assert_eq!(human(SignedDuration::from_secs(7_500)), "2h 5m");
        assert_eq!(human(SignedDuration::from_secs(273_600)), "3d 4h");
        assert_eq!(human(SignedDuration::from_secs(-5)), "0s");
    }

    #[test]
    fn clipping_and_lists_mark_what_was_left_out() {
        assert_eq!(clip("  abcdef ", 3), "abc…");
        assert_eq!(clip("abc", 3), "abc");
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(list(&items, 2), "a, b and 1 more");
        assert_eq!(list(&items, 5), "a, b, c");
    }
}
