//! `nodemend explain`: the catalog entry of an error code, or the whole catalog as a table.

use std::fmt::Write as _;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use nodemend_core::catalog::{Catalog, Category, CseExitCode, Entry, NodeOs};
use serde::Serialize;

use crate::exit::Outcome;
use crate::style::Style;

/// Arguments of `nodemend explain`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend explain TooManyVMRedeploymentRequests
  nodemend explain quotaexceeded --format json
  nodemend explain --exit-code 50
  nodemend explain --list --category quota

Codes match ignoring case and punctuation, and aliases work (SubnetFull finds SubnetIsFull).
An unknown code exits with status 2 and suggests the closest known codes.")]
pub(crate) struct ExplainArgs {
    /// The error code, as Azure, AKS or an auto-repair event reports it.
    #[arg(required_unless_present_any = ["list", "exit_code"], conflicts_with_all = ["list", "exit_code"])]
    code: Option<String>,

    /// List every code in the catalog: code, category and cause in one line.
    #[arg(long)]
    list: bool,

    /// With --list: only this category.
    #[arg(long, requires = "list", value_parser = parse_category)]
    category: Option<Category>,

    /// Explain a Custom Script Extension exit status (`vmssCSE ... exit status=N`).
    #[arg(long, value_name = "N", conflicts_with = "list")]
    exit_code: Option<u32>,

    /// With --exit-code: the OS of the node that reported it.
    #[arg(long, value_enum, default_value_t = Os::Linux, requires = "exit_code")]
    os: Os,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Os {
    Linux,
    Windows,
}

impl From<Os> for NodeOs {
    fn from(os: Os) -> Self {
        match os {
            Os::Linux => NodeOs::Linux,
            Os::Windows => NodeOs::Windows,
        }
    }
}

fn parse_category(raw: &str) -> Result<Category, String> {
    let all: Vec<&str> = ALL_CATEGORIES.iter().map(|c| c.as_str()).collect();
    ALL_CATEGORIES
        .iter()
        .copied()
        .find(|c| c.as_str().eq_ignore_ascii_case(raw))
        .ok_or_else(|| format!("unknown category; choose one of: {}", all.join(", ")))
}

const ALL_CATEGORIES: [Category; 16] = [
    Category::AutoRepair,
    Category::Extension,
    Category::Outbound,
    Category::Quota,
    Category::Capacity,
    Category::IpAddress,
    Category::Governance,
    Category::Subscription,
    Category::Workload,
    Category::Version,
    Category::Operation,
    Category::Throttling,
    Category::Configuration,
    Category::Identity,
    Category::Delete,
    Category::Node,
];

/// Runs `nodemend explain`.
pub(crate) fn run(args: ExplainArgs) -> anyhow::Result<Outcome> {
    let ExplainArgs {
        code,
        list,
        category,
        exit_code,
        os,
        format,
    } = args;
    let catalog = Catalog::builtin();
    let style = Style::stdout();
    let (text, outcome) = if list {
        let entries: Vec<&Entry> = catalog
            .entries()
            .iter()
            .filter(|e| category.is_none_or(|c| e.category == c))
            .collect();
        let text = match format {
            Format::Text => render_list(&entries, style),
            Format::Json => to_json(&entries)?,
        };
        (text, Outcome::Success)
    } else if let Some(number) = exit_code {
        explain_exit_code(catalog, os.into(), number, format, style)?
    } else {
        let query = code.unwrap_or_default();
        explain_code(catalog, &query, format, style)?
    };
    print!("{text}");
    Ok(outcome)
}

fn to_json(value: &impl Serialize) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value).context("rendering JSON")?;
    text.push('\n');
    Ok(text)
}

fn explain_code(
    catalog: &Catalog,
    query: &str,
    format: Format,
    style: Style,
) -> anyhow::Result<(String, Outcome)> {
    if let Some(entry) = catalog.find(query) {
        let text = match format {
            Format::Text => render_entry(entry, style),
            Format::Json => to_json(entry)?,
        };
        return Ok((text, Outcome::Success));
    }
    let suggestions: Vec<&str> = catalog
        .suggest(query, 3)
        .into_iter()
        .map(|e| e.code.as_str())
        .collect();
    match format {
        Format::Text => eprint!("{}", render_unknown(query, &suggestions)),
        Format::Json => {
            #[derive(Serialize)]
            struct Unknown<'a> {
                error: &'a str,
                query: &'a str,
                suggestions: &'a [&'a str],
            }
            let body = Unknown {
                error: "unknown code",
                query,
                suggestions: &suggestions,
            };
            return Ok((to_json(&body)?, Outcome::NotFound));
        }
    }
    Ok((String::new(), Outcome::NotFound))
}

fn render_unknown(query: &str, suggestions: &[&str]) -> String {
    let mut out = format!("error: {query:?} is not a code nodemend knows\n");
    match suggestions {
        [] => {}
        [one] => writeln!(out, "did you mean {one}?").unwrap_or_default(),
        many => writeln!(out, "did you mean one of: {}?", many.join(", ")).unwrap_or_default(),
    }
    out.push_str("`nodemend explain --list` shows every known code.\n");
    out
}

fn explain_exit_code(
    catalog: &Catalog,
    os: NodeOs,
    number: u32,
    format: Format,
    style: Style,
) -> anyhow::Result<(String, Outcome)> {
    let os_name = match os {
        NodeOs::Linux => "Linux",
        NodeOs::Windows => "Windows",
    };
    let Some((exit, entry)) = catalog.exit_code(os, number) else {
        eprintln!(
            "error: {os_name} CSE exit code {number} is not in the catalog\n`nodemend explain --exit-code N --os linux|windows`; the catalog knows {} exit codes.",
            catalog.exit_codes().len()
        );
        return Ok((String::new(), Outcome::NotFound));
    };
    let text = match format {
        Format::Text => {
            let mut out = format!(
                "{} {} ({}): {}\n\n",
                style.bold(&format!("{os_name} CSE exit code")),
                exit.code,
                exit.name,
                exit.meaning
            );
            out.push_str(&render_entry(entry, style));
            out
        }
        Format::Json => {
            #[derive(Serialize)]
            struct ExitExplained<'a> {
                exit_code: &'a CseExitCode,
                entry: &'a Entry,
            }
            to_json(&ExitExplained {
                exit_code: exit,
                entry,
            })?
        }
    };
    Ok((text, Outcome::Success))
}

/// The entry as a person reads it on a terminal.
fn render_entry(entry: &Entry, style: Style) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{}  {} · {}",
        style.bold(&entry.code),
        style.dim(entry.category.as_str()),
        style.severity(entry.severity)
    );
    let _ = writeln!(out, "{}", entry.title);
    if !entry.appears_in.is_empty() {
        let places: Vec<&str> = entry.appears_in.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "Shows up in: {}", places.join(", "));
    }
    let _ = writeln!(out, "\n{}", style.bold("Likely causes"));
    for cause in &entry.causes {
        let _ = writeln!(out, "  - {cause}");
    }
    let _ = writeln!(out, "\n{}", style.bold("What to do"));
    for (i, step) in entry.remedy.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", i + 1, step.step);
        for command in &step.commands {
            let _ = writeln!(out, "       $ {command}");
        }
    }
    let _ = writeln!(out);
    if !entry.aliases.is_empty() {
        let _ = writeln!(out, "Also reported as: {}", entry.aliases.join(", "));
    }
    let exits: Vec<String> = entry
        .linux_cse_exit_codes
        .iter()
        .map(|c| format!("linux {c}"))
        .chain(
            entry
                .windows_cse_exit_codes
                .iter()
                .map(|c| format!("windows {c}")),
        )
        .collect();
    if !exits.is_empty() {
        let _ = writeln!(out, "CSE exit codes: {}", exits.join(", "));
    }
    if !entry.see_also.is_empty() {
        let _ = writeln!(out, "See also: {}", entry.see_also.join(", "));
    }
    let _ = writeln!(out, "Docs: {}", entry.docs);
    out
}

/// One line per entry: code, category, cause.
fn render_list(entries: &[&Entry], style: Style) -> String {
    let width = entries
        .iter()
        .map(|e| e.code.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let header = format!("{:<width$}  {:<13}  {}", "CODE", "CATEGORY", "CAUSE");
    let _ = writeln!(out, "{}", style.bold(&header));
    for entry in entries {
        let _ = writeln!(
            out,
            "{:<width$}  {:<13}  {}",
            entry.code,
            entry.category.as_str(),
            entry.title
        );
    }
    let _ = writeln!(out, "{} codes", entries.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_code_message_suggests() {
        let text = render_unknown("QuotaExeeded", &["QuotaExceeded"]);
        assert!(text.contains("did you mean QuotaExceeded?"), "{text}");
        let text = render_unknown("x", &["A", "B"]);
        assert!(text.contains("one of: A, B?"), "{text}");
    }

    #[test]
    fn every_category_is_listed_once() {
        for category in ALL_CATEGORIES {
            assert_eq!(parse_category(category.as_str()), Ok(category));
        }
        assert!(parse_category("nope").unwrap_err().contains("auto-repair"));
    }
}
