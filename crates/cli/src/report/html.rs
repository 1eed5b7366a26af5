//! The HTML report: one self-contained page a person can attach to a ticket. Styles are inline,
//! there are no scripts and no external assets, and every piece of text is escaped; only
//! `https://` documentation links become links.

use std::fmt::Write as _;

use nodemend_core::catalog::{Catalog, Entry, Severity};
use nodemend_core::diagnosis::{Finding, Report};

use super::{by_resource, context_line, explanation, meta_line, summary_line};

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.2rem}\
h2{font-size:1.05rem;font-family:ui-monospace,monospace;word-break:break-all;border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2rem}\
h3{font-size:1.05rem;margin:.2rem 0}\
h4{font-size:.9rem;margin:.8rem 0 .2rem}\
.subject{font-family:ui-monospace,monospace;word-break:break-all}\
.muted{color:#57606a}\
.finding{border-left:4px solid #d0d7de;padding:.4rem 1rem;margin:1rem 0;background:#f6f8fa}\
.finding.critical{border-color:#82071e}.finding.error{border-color:#cf222e}.finding.warning{border-color:#bf8700}.finding.info{border-color:#0969da}\
.sev{display:inline-block;border-radius:.3rem;padding:0 .4rem;font-size:.8rem;font-weight:600;color:#fff;text-transform:uppercase}\
.sev.critical{background:#82071e}.sev.error{background:#cf222e}.sev.warning{background:#9a6700}.sev.info{background:#0969da}\
table{border-collapse:collapse;width:100%;font-size:.9rem}\
th,td{text-align:left;vertical-align:top;padding:.2rem .5rem;border-bottom:1px solid #d0d7de}\
th{width:16rem;font-weight:600}\
td{word-break:break-word}\
pre{background:#fff;border:1px solid #d0d7de;padding:.5rem;overflow-x:auto;white-space:pre-wrap}\
details{margin:.5rem 0}";

/// Escapes text for HTML element content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn severity_class(severity: Severity) -> &'static str {
    severity.as_str()
}

/// The report as one HTML page.
pub(super) fn render(report: &Report, catalog: &Catalog, explain: bool) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>nodemend diagnosis: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&report.subject)
    );
    let _ = writeln!(out, "<h1>nodemend diagnosis</h1>");
    let _ = writeln!(out, "<p class=\"subject\">{}</p>", escape(&report.subject));
    let _ = writeln!(
        out,
        "<p class=\"muted\">{}</p>",
        escape(&context_line(report))
    );
    let _ = writeln!(
        out,
        "<p><strong>{}</strong></p>",
        escape(&summary_line(report))
    );
    for (resource, findings) in by_resource(report) {
        let _ = writeln!(out, "<section>\n<h2>{}</h2>", escape(resource));
        for finding in findings {
            finding_html(&mut out, finding);
            if explain && let Some(entry) = explanation(catalog, finding) {
                entry_html(&mut out, entry);
            }
            out.push_str("</article>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn list(out: &mut String, heading: &str, tag: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(out, "<h4>{heading}</h4>\n<{tag}>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", escape(item));
    }
    let _ = writeln!(out, "</{tag}>");
}

fn commands(out: &mut String, commands: &[String]) {
    if commands.is_empty() {
        return;
    }
    let body: Vec<String> = commands.iter().map(|c| escape(c)).collect();
    let _ = writeln!(out, "<pre><code>{}</code></pre>", body.join("\n"));
}

fn finding_html(out: &mut String, finding: &Finding) {
    let class = severity_class(finding.severity);
    let _ = writeln!(out, "<article class=\"finding {class}\">");
    let _ = writeln!(
        out,
        "<h3><span class=\"sev {class}\">{class}</span> {}</h3>",
        escape(&finding.title)
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">{}</p>",
        escape(&meta_line(finding))
    );
    if !finding.evidence.is_empty() {
        out.push_str("<h4>Evidence</h4>\n<table>\n");
        for e in &finding.evidence {
            let _ = writeln!(
                out,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(&e.label),
                escape(&e.value)
            );
        }
        out.push_str("</table>\n");
    }
    list(out, "Likely causes", "ul", &finding.cause);
    list(out, "What to do", "ol", &finding.remedy);
    if !finding.commands.is_empty() {
        out.push_str("<h4>Commands</h4>\n");
        commands(out, &finding.commands);
    }
    if let Some(docs) = finding
        .docs
        .as_deref()
        .filter(|d| d.starts_with("https://"))
    {
        let docs = escape(docs);
        let _ = writeln!(out, "<p>Docs: <a href=\"{docs}\">{docs}</a></p>");
    }
}

fn entry_html(out: &mut String, entry: &Entry) {
    let _ = writeln!(
        out,
        "<details>\n<summary>Catalog entry {} ({}, {})</summary>\n<p>{}</p>",
        escape(&entry.code),
        entry.category,
        entry.severity,
        escape(&entry.title)
    );
    if !entry.appears_in.is_empty() {
        let places: Vec<&str> = entry.appears_in.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "<p>Shows up in: {}</p>", escape(&places.join(", ")));
    }
    if !entry.operations.is_empty() {
        let _ = writeln!(
            out,
            "<p>During: {}</p>",
            escape(&entry.operations.join(", "))
        );
    }
    list(out, "Causes", "ul", &entry.causes);
    out.push_str("<h4>Remedy</h4>\n<ol>\n");
    for step in &entry.remedy {
        let _ = writeln!(out, "<li>{}", escape(&step.step));
        commands(out, &step.commands);
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
    if !entry.aliases.is_empty() {
        let _ = writeln!(
            out,
            "<p>Also reported as: {}</p>",
            escape(&entry.aliases.join(", "))
        );
    }
    if !entry.see_also.is_empty() {
        let _ = writeln!(
            out,
            "<p>See also: {}</p>",
            escape(&entry.see_also.join(", "))
        );
    }
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{catalog, check, report};
    use super::*;
    use nodemend_core::diagnosis::Evidence;

    #[test]
    fn html_matches_the_fixture() {
        check("report.html", &render(&report(), &catalog(), false));
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = render(&report(), &catalog(), true);
        for forbidden in [
            "<script", "<link", "<img", "<iframe", "src=", "http://", "@import", "url(",
        ] {
            assert!(!page.contains(forbidden), "page contains {forbidden}");
        }
        let links: Vec<&str> = page
            .match_indices("href=\"")
            .map(|(i, _)| &page[i + 6..])
            .collect();
        assert!(
            links
                .iter()
                .all(|l| l.starts_with("https://learn.microsoft.com/")),
            "{links:?}"
        );
        assert!(page.contains("<details>"), "explain adds the entry");
    }

    #[test]
    fn hostile_strings_are_escaped_everywhere() {
        let hostile = "<script>alert('x')</script>\" onmouseover=\"alert(1)";
        let mut report = report();
        report.subject = hostile.to_owned();
        let finding = &mut report.findings[1];
        finding.title = hostile.to_owned();
        finding.resource = hostile.to_owned();
        finding.evidence.push(Evidence {
            label: hostile.to_owned(),
            value: hostile.to_owned(),
        });
        finding.cause.push(hostile.to_owned());
        finding.commands.push(hostile.to_owned());
        finding.docs = Some(format!("javascript:{hostile}"));
        let page = render(&report, &catalog(), true);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("\" onmouseover"), "{page}");
        assert!(!page.contains("javascript:"), "{page}");
        assert!(page.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;alert(1)"
        ));
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
