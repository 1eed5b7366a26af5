//! The JSON report: a stable document for scripts (schema `nodemend.diagnosis/v1`, documented in
//! `docs/diagnosis.md`). It has its own types so that a change in the core's structs cannot
//! change the document by accident.

use anyhow::Context as _;
use nodemend_core::catalog::{Catalog, Entry, Severity};
use nodemend_core::diagnosis::{Evidence, Report};
use serde::Serialize;

use super::explanation;

/// The schema name and version written into every document.
pub(super) const SCHEMA: &str = "nodemend.diagnosis/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    subject: &'a str,
    generated_at: String,
    since: String,
    sources: Sources,
    summary: Summary,
    findings: Vec<FindingOut<'a>>,
}

#[derive(Serialize)]
struct Sources {
    azure: bool,
    kubernetes: bool,
}

#[derive(Serialize)]
struct Summary {
    worst: Option<Severity>,
    critical: usize,
    error: usize,
    warning: usize,
    info: usize,
    total: usize,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    rule: &'a str,
    severity: Severity,
    resource: &'a str,
    code: Option<&'a str>,
    title: &'a str,
    evidence: &'a [Evidence],
    cause: &'a [String],
    remedy: &'a [String],
    commands: &'a [String],
    docs: Option<&'a str>,
    entry: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a Entry>,
}

/// The report as pretty-printed JSON, ending with a newline.
pub(super) fn render(report: &Report, catalog: &Catalog, explain: bool) -> anyhow::Result<String> {
    let s = report.summary();
    let document = Document {
        schema: SCHEMA,
        subject: &report.subject,
        generated_at: report.generated_at.to_string(),
        since: report.since.to_string(),
        sources: Sources {
            azure: report.azure,
            kubernetes: report.kubernetes,
        },
        summary: Summary {
            worst: report.worst(),
            critical: s.critical,
            error: s.error,
            warning: s.warning,
            info: s.info,
            total: s.total,
        },
        findings: report
            .findings
            .iter()
            .map(|f| FindingOut {
                rule: f.rule,
                severity: f.severity,
                resource: &f.resource,
                code: f.code.as_deref(),
                title: &f.title,
                evidence: &f.evidence,
                cause: &f.cause,
                remedy: &f.remedy,
                commands: &f.commands,
                docs: f.docs.as_deref(),
                entry: f.entry.as_deref(),
                explanation: if explain {
                    explanation(catalog, f)
                } else {
                    None
                },
            })
            .collect(),
    };
    let mut text =
        serde_json::to_string_pretty(&document).context("rendering the report as JSON")?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{catalog, check, report};
    use super::*;

    #[test]
    fn json_matches_the_documented_shape() {
        let text = render(&report(), &catalog(), false).unwrap();
        check("report.json", &text);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["schema"], SCHEMA);
        assert_eq!(value["summary"]["worst"], "error");
        for finding in value["findings"].as_array().unwrap() {
            for field in [
                "rule", "severity", "resource", "code", "title", "evidence", "cause", "remedy",
                "commands", "docs", "entry",
            ] {
                assert!(finding.get(field).is_some(), "missing {field} in {finding}");
            }
            assert!(finding.get("explanation").is_none());
        }
    }

    #[test]
    fn explain_adds_the_catalog_entry() {
        let text = render(&report(), &catalog(), true).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let findings = value["findings"].as_array().unwrap();
        assert!(
            findings[0].get("explanation").is_none(),
            "no entry, nothing to explain"
        );
        assert_eq!(findings[1]["explanation"]["code"], "QuotaExceeded");
        assert_eq!(
            findings[1]["explanation"]["remedy"][0]["commands"][0],
            "az vm list-usage --location <location> --output table"
        );
    }

    #[test]
    fn an_empty_report_has_no_worst() {
        let mut empty = report();
        empty.findings.clear();
        let value: serde_json::Value =
            serde_json::from_str(&render(&empty, &catalog(), false).unwrap()).unwrap();
        assert!(value["summary"]["worst"].is_null());
        assert_eq!(value["summary"]["total"], 0);
    }
}
