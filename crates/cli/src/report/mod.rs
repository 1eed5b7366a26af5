//! Rendering a diagnosis report: text for a terminal, JSON for scripts, Markdown for tickets and
//! wikis, and one self-contained HTML page to attach to a ticket. `--explain` adds the full
//! catalog entry to each finding in every format. The layout of the JSON is documented in
//! `docs/diagnosis.md` and only ever grows.

mod html;
mod json;
mod markdown;
mod text;

use clap::ValueEnum;
use nodemend_core::catalog::{Catalog, Entry};
use nodemend_core::diagnosis::{Finding, Report};

use crate::style::Style;

/// The output formats of `nodemend diagnose --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Grouped by resource, with severity colours on a terminal.
    Text,
    /// The stable, documented document for scripts.
    Json,
    /// A Markdown document.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Add the full catalog entry to each finding.
    pub(crate) explain: bool,
    /// Terminal styling (text only).
    pub(crate) style: Style,
}

/// The report in the chosen format, ending with a newline.
pub(crate) fn render(
    report: &Report,
    catalog: &Catalog,
    format: Format,
    options: Options,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => text::render(report, catalog, options),
        Format::Json => json::render(report, catalog, options.explain)?,
        Format::Markdown => markdown::render(report, catalog, options.explain),
        Format::Html => html::render(report, catalog, options.explain),
    })
}

/// Findings grouped by resource; groups come in the order of their first finding, so the
/// group with the worst finding is first.
fn by_resource(report: &Report) -> Vec<(&str, Vec<&Finding>)> {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for finding in &report.findings {
        match groups.iter_mut().find(|(r, _)| *r == finding.resource) {
            Some((_, findings)) => findings.push(finding),
            None => groups.push((&finding.resource, vec![finding])),
        }
    }
    groups
}

/// The catalog entry that explains a finding, for `--explain`.
fn explanation<'c>(catalog: &'c Catalog, finding: &Finding) -> Option<&'c Entry> {
    finding.entry.as_deref().and_then(|code| catalog.find(code))
}

/// `3 findings: 1 critical, 1 error, 1 warning, 0 info.` or `No problems found.`
fn summary_line(report: &Report) -> String {
    let s = report.summary();
    match s.total {
        0 => "No problems found.".to_owned(),
        1 => format!(
            "1 finding: {} critical, {} error, {} warning, {} info.",
            s.critical, s.error, s.warning, s.info
        ),
        n => format!(
            "{n} findings: {} critical, {} error, {} warning, {} info.",
            s.critical, s.error, s.warning, s.info
        ),
    }
}

/// `Snapshot taken ...; activity log and events since ...; read: Azure and Kubernetes.`
fn context_line(report: &Report) -> String {
    let read = match (report.azure, report.kubernetes) {
        (true, true) => "Azure and Kubernetes",
        (true, false) => "Azure only",
        (false, true) => "Kubernetes only",
        (false, false) => "nothing",
    };
    format!(
        "Snapshot taken {}; activity log and events since {}; read: {read}.",
        report.generated_at, report.since
    )
}

/// `rule pool-state · code QuotaExceeded · entry QuotaExceeded`
fn meta_line(finding: &Finding) -> String {
    let mut parts = vec![format!("rule {}", finding.rule)];
    if let Some(code) = &finding.code {
        parts.push(format!("code {code}"));
    }
    if let Some(entry) = finding
        .entry
        .as_ref()
        .filter(|e| finding.code.as_ref() != Some(*e))
    {
        parts.push(format!("entry {entry}"));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod fixture;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_renders_the_whole_report() {
        let report = fixture::report();
        let catalog = fixture::catalog();
        let options = Options {
            explain: false,
            style: Style::forced(false),
        };
        for format in [Format::Text, Format::Json, Format::Markdown, Format::Html] {
            let out = render(&report, &catalog, format, options).unwrap();
            assert!(out.ends_with('\n'), "{format:?}");
            for finding in &report.findings {
                assert!(out.contains("cannot reach what they need"), "{format:?}");
                assert!(
                    out.contains(finding.rule),
                    "{format:?} lacks {}",
                    finding.rule
                );
            }
        }
    }

    #[test]
    fn groups_keep_the_order_of_their_first_finding() {
        let report = fixture::report();
        let groups = by_resource(&report);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1.len(), 2);
        assert_eq!(groups[1].0, "pdb/shop/web");
        assert_eq!(
            meta_line(groups[1].1[0]),
            "rule pdb-blocks-drain · code PodDrainFailure"
        );
        assert_eq!(
            meta_line(groups[0].1[0]),
            "rule outbound-connectivity · code OutboundConnFailVMExtensionError"
        );
    }
}
