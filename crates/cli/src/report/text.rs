//! The terminal report: findings grouped by resource, worst first, with the severity in colour
//! when the output is a terminal (see [`Style`]).

use std::fmt::Write as _;

use nodemend_core::catalog::{Catalog, Entry};
use nodemend_core::diagnosis::{Finding, Report};

use super::{Options, by_resource, context_line, explanation, meta_line, summary_line};
use crate::style::Style;

/// The report as a person reads it on a terminal.
pub(super) fn render(report: &Report, catalog: &Catalog, options: Options) -> String {
    let style = options.style;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{} {}", style.bold("Diagnosis of"), report.subject);
    let _ = writeln!(out, "{}", style.dim(&context_line(report)));
    let _ = writeln!(out, "{}", summary_line(report));
    for (resource, findings) in by_resource(report) {
        let _ = writeln!(out, "\n{}", style.bold(resource));
        for (i, finding) in findings.into_iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            finding_text(&mut out, finding, style);
            if options.explain
                && let Some(entry) = explanation(catalog, finding)
            {
                entry_text(&mut out, entry, style);
            }
        }
    }
    out
}

fn finding_text(out: &mut String, finding: &Finding, style: Style) {
    let _ = writeln!(
        out,
        "  [{}] {}",
        style.severity(finding.severity),
        finding.title
    );
    let _ = writeln!(out, "      {}", style.dim(&meta_line(finding)));
    section(
        out,
        "evidence",
        style,
        &finding
            .evidence
            .iter()
            .map(|e| format!("{}: {}", e.label, e.value))
            .collect::<Vec<_>>(),
        "",
    );
    section(out, "likely causes", style, &finding.cause, "- ");
    let steps: Vec<String> = finding
        .remedy
        .iter()
        .enumerate()
        .map(|(i, step)| format!("{}. {step}", i + 1))
        .collect();
    section(out, "what to do", style, &steps, "");
    section(out, "commands", style, &finding.commands, "$ ");
    if let Some(docs) = &finding.docs {
        let _ = writeln!(out, "      {} {docs}", style.bold("docs:"));
    }
}

fn section(out: &mut String, heading: &str, style: Style, lines: &[String], bullet: &str) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "      {}", style.bold(&format!("{heading}:")));
    for line in lines {
        let _ = writeln!(out, "        {bullet}{line}");
    }
}

/// The full catalog entry under a finding, for `--explain`.
fn entry_text(out: &mut String, entry: &Entry, style: Style) {
    let _ = writeln!(
        out,
        "      {} {} ({}, {}): {}",
        style.bold("catalog entry"),
        entry.code,
        entry.category,
        entry.severity,
        entry.title
    );
    if !entry.appears_in.is_empty() {
        let places: Vec<&str> = entry.appears_in.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "        shows up in: {}", places.join(", "));
    }
    if !entry.operations.is_empty() {
        let _ = writeln!(out, "        during: {}", entry.operations.join(", "));
    }
    let _ = writeln!(out, "        causes:");
    for cause in &entry.causes {
        let _ = writeln!(out, "          - {cause}");
    }
    let _ = writeln!(out, "        remedy:");
    for (i, step) in entry.remedy.iter().enumerate() {
        let _ = writeln!(out, "          {}. {}", i + 1, step.step);
        for command in &step.commands {
            let _ = writeln!(out, "             $ {command}");
        }
    }
    if !entry.aliases.is_empty() {
        let _ = writeln!(
            out,
            "        also reported as: {}",
            entry.aliases.join(", ")
        );
    }
    if !entry.see_also.is_empty() {
        let _ = writeln!(out, "        see also: {}", entry.see_also.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{catalog, check, report};
    use super::*;

    fn plain(explain: bool) -> Options {
        Options {
            explain,
            style: Style::forced(false),
        }
    }

    #[test]
    fn plain_text_groups_by_resource() {
        check("report.txt", &render(&report(), &catalog(), plain(false)));
    }

    #[test]
    fn explain_adds_the_catalog_entry() {
        check(
            "report-explain.txt",
            &render(&report(), &catalog(), plain(true)),
        );
    }

    #[test]
    fn colours_only_when_asked() {
        let coloured = render(
            &report(),
            &catalog(),
            Options {
                explain: false,
                style: Style::forced(true),
            },
        );
        assert!(coloured.contains("[\x1b[31merror\x1b[0m]"), "{coloured}");
        assert!(coloured.contains("[\x1b[33mwarning\x1b[0m]"));
        assert!(!render(&report(), &catalog(), plain(false)).contains('\x1b'));
    }

    #[test]
    fn an_empty_report_says_so() {
        let mut empty = report();
        empty.findings.clear();
        let text = render(&empty, &catalog(), plain(false));
        assert!(text.ends_with("No problems found.\n"), "{text}");
    }
}
