//! The result of a diagnosis: every finding, worst first, and what a script needs to decide.

use jiff::Timestamp;
use serde::Serialize;

use super::facts::Facts;
use super::finding::Finding;
use super::rules::RULES;
use super::snapshot::Snapshot;
use crate::catalog::{Catalog, Severity};

/// All findings of one diagnosis, sorted by severity (worst first), then resource, then rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What was diagnosed: the cluster's ARM ID, or its name.
    pub subject: String,
    /// When the snapshot was taken.
    pub generated_at: Timestamp,
    /// Start of the window the activity log and events cover.
    pub since: Timestamp,
    /// Whether Azure was read.
    pub azure: bool,
    /// Whether Kubernetes was read.
    pub kubernetes: bool,
    /// The findings.
    pub findings: Vec<Finding>,
}

/// How many findings of each severity a report holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Findings that stop the cluster or a pool from operating.
    pub critical: usize,
    /// Findings where something is broken.
    pub error: usize,
    /// Findings that will break something soon.
    pub warning: usize,
    /// Findings worth knowing.
    pub info: usize,
    /// All findings.
    pub total: usize,
}

impl Report {
    /// The worst severity found, if anything was found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Counts per severity.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for finding in &self.findings {
            match finding.severity {
                Severity::Critical => summary.critical += 1,
                Severity::Error => summary.error += 1,
                Severity::Warning => summary.warning += 1,
                Severity::Info => summary.info += 1,
            }
            summary.total += 1;
        }
        summary
    }

    /// Whether any finding is at or above `threshold`: what `--fail-on` turns into a non-zero
    /// exit status.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.worst().is_some_and(|worst| worst >= threshold)
    }
}

/// Runs every rule over the snapshot and sorts what they found.
pub fn diagnose(snapshot: &Snapshot, catalog: &Catalog) -> Report {
    let facts = Facts::new(snapshot, catalog);
    let mut findings: Vec<Finding> = RULES.iter().flat_map(|rule| (rule.run)(&facts)).collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.title.cmp(&b.title))
    });
    Report {
        subject: snapshot.cluster_resource(),
        generated_at: snapshot.now,
        since: snapshot.since,
        azure: snapshot.azure.is_some(),
        kubernetes: snapshot.kubernetes.is_some(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, pool, snapshot};
    use crate::model::ProvisioningState;

    #[test]
    fn a_healthy_snapshot_has_nothing_to_report() {
        let report = diagnose(&snapshot().with_pool(pool("np1")), Catalog::builtin());
        assert_eq!(report.findings, []);
        assert_eq!(report.worst(), None);
        assert!(!report.fails(Severity::Info));
        assert_eq!(report.summary(), Summary::default());
    }

    #[test]
    fn findings_are_sorted_worst_first_and_counted() {
        let snap = snapshot()
            .cluster_state(ProvisioningState::Upgrading)
            .with_pool(pool("np1").failed())
            .with_subscription("Disabled", &[]);
        let report = diagnose(&snap, Catalog::builtin());
        let severities: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
        let mut sorted = severities.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(severities, sorted);
        assert_eq!(report.worst(), Some(Severity::Critical));
        let summary = report.summary();
        assert_eq!(summary.total, report.findings.len());
        assert!(summary.critical >= 1 && summary.error >= 1 && summary.info >= 1);
        assert!(report.fails(Severity::Error));
        assert!(report.azure && report.kubernetes);
    }

    #[test]
    fn fail_on_compares_with_the_worst_finding() {
        let snap = snapshot().cluster_state(ProvisioningState::Upgrading);
        let report = diagnose(&snap, Catalog::builtin());
        assert_eq!(report.worst(), Some(Severity::Info));
        assert!(report.fails(Severity::Info));
        assert!(!report.fails(Severity::Warning));
    }
}
