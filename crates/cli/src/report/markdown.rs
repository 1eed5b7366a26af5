//! The Markdown report, for a ticket or a wiki page. Text from the cluster (messages, names) is
//! escaped so it cannot turn into markup, links or HTML; commands go into fenced blocks whose
//! fence is longer than any run of backticks inside them.

use std::fmt::Write as _;

use nodemend_core::catalog::{Catalog, Entry};
use nodemend_core::diagnosis::{Finding, Report};

use super::{by_resource, context_line, explanation, meta_line, summary_line};

/// Escapes text for use inline (and in table cells): Markdown punctuation and HTML.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A fenced code block that its content cannot close.
fn fenced(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}sh\n{}\n{fence}\n", lines.join("\n"))
}

/// The report as a Markdown document.
pub(super) fn render(report: &Report, catalog: &Catalog, explain: bool) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# nodemend diagnosis");
    let _ = writeln!(out, "\n**Cluster:** {}", escape(&report.subject));
    let _ = writeln!(out, "\n{}", escape(&context_line(report)));
    let _ = writeln!(out, "\n{}", summary_line(report));
    for (resource, findings) in by_resource(report) {
        let _ = writeln!(out, "\n## {}", escape(resource));
        for finding in findings {
            finding_markdown(&mut out, finding);
            if explain && let Some(entry) = explanation(catalog, finding) {
                entry_markdown(&mut out, entry);
            }
        }
    }
    out
}

fn finding_markdown(out: &mut String, finding: &Finding) {
    // Every block starts with the blank line that separates it from the one before.
    let _ = writeln!(
        out,
        "\n### {}: {}",
        finding.severity.as_str().to_uppercase(),
        escape(&finding.title)
    );
    let _ = writeln!(out, "\n{}", escape(&meta_line(finding)));
    if !finding.evidence.is_empty() {
        let _ = writeln!(out, "\n| Evidence | Value |\n|---|---|");
        for e in &finding.evidence {
            let _ = writeln!(out, "| {} | {} |", escape(&e.label), escape(&e.value));
        }
    }
    bullets(out, "**Likely causes**", &finding.cause, false);
    bullets(out, "**What to do**", &finding.remedy, true);
    if !finding.commands.is_empty() {
        let _ = write!(out, "\n**Commands**\n\n{}", fenced(&finding.commands));
    }
    if let Some(docs) = finding
        .docs
        .as_deref()
        .filter(|d| d.starts_with("https://"))
    {
        let _ = writeln!(out, "\nDocs: <{}>", docs.replace(['<', '>', ' '], ""));
    }
}

fn bullets(out: &mut String, heading: &str, items: &[String], numbered: bool) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{heading}\n");
    for (i, item) in items.iter().enumerate() {
        if numbered {
            let _ = writeln!(out, "{}. {}", i + 1, escape(item));
        } else {
            let _ = writeln!(out, "- {}", escape(item));
        }
    }
}

fn entry_markdown(out: &mut String, entry: &Entry) {
    let _ = writeln!(
        out,
        "\n<details><summary>Catalog entry {} ({}, {})</summary>",
        escape(&entry.code),
        entry.category,
        entry.severity
    );
    let _ = writeln!(out, "\n{}", escape(&entry.title));
    if !entry.appears_in.is_empty() {
        let places: Vec<&str> = entry.appears_in.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "\nShows up in: {}", places.join(", "));
    }
    if !entry.operations.is_empty() {
        let _ = writeln!(out, "\nDuring: {}", escape(&entry.operations.join(", ")));
    }
    bullets(out, "Causes:", &entry.causes, false);
    let _ = writeln!(out, "\nRemedy:");
    for (i, step) in entry.remedy.iter().enumerate() {
        let _ = writeln!(out, "\n{}. {}", i + 1, escape(&step.step));
        if !step.commands.is_empty() {
            let _ = write!(out, "\n{}", fenced(&step.commands));
        }
    }
    if !entry.aliases.is_empty() {
        let _ = writeln!(
            out,
            "\nAlso reported as: {}",
            escape(&entry.aliases.join(", "))
        );
    }
    if !entry.see_also.is_empty() {
        let _ = writeln!(out, "\nSee also: {}", escape(&entry.see_also.join(", ")));
    }
    let _ = writeln!(out, "\n</details>");
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{catalog, check, report};
    use super::*;

    #[test]
    fn markdown_matches_the_fixture() {
        check("report.md", &render(&report(), &catalog(), false));
        check("report-explain.md", &render(&report(), &catalog(), true));
    }

    #[test]
    fn hostile_text_stays_text() {
        assert_eq!(
            escape("a|b <img src=x> [l](j:x) `c`\nnext"),
            "a\\|b \\<img src=x\\> \\[l\\](j:x) \\`c\\` next"
        );
        let fence = fenced(&["echo ```".to_owned()]);
        assert!(fence.starts_with("````sh\n"), "{fence}");
        assert!(fence.ends_with("\n````\n"), "{fence}");
    }
}
