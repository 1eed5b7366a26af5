//! `nodemend repairs`: the archived repairs, each with its steps, and a summary per agent pool.

use std::fmt::Write as _;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use nodemend_store::{PoolSummary, RepairFilter, StoredRepair};
use serde::Serialize;

use crate::commands::archive_read::{ArchiveArg, duration, emit, parse_limit, thousands, time};
use crate::exit::Outcome;
use crate::style::Style;
use crate::window::{Moment, parse_moment};

/// Arguments of `nodemend repairs`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend repairs
  nodemend repairs --since 90d
  nodemend repairs --node aks-np1-12345678-vmss000003 --since 7d
  nodemend repairs --format json | jq '.pools[] | {pool, successRate}'

Lists the repairs nodemend started in the period (oldest first), each with its outcome, how long
it took, which try of the ladder it reached and the cloud's last error code, and under it every
step it took (action, try, start, end, outcome, error code). Then, per agent pool: how many
repairs started, how many brought the node back, how many gave up, the success rate (succeeded
out of those that succeeded or gave up) and the most common error codes. The pool summary
always covers every node of the period, also with --node.

Reads the archive that `nodemend run` or `nodemend archive` writes; never writes to it.")]
pub(crate) struct RepairsArgs {
    #[command(flatten)]
    archive: ArchiveArg,

    /// Only repairs of this node.
    #[arg(long, value_name = "NODE")]
    node: Option<String>,

    /// Repairs started at or after this: a duration back from now (`30d`, `12h`) or a time with
    /// a UTC offset (`2026-11-20T08:00:00Z`).
    #[arg(long, default_value = "30d", value_parser = parse_moment, value_name = "WHEN")]
    since: Moment,

    /// List at most this many repairs: the most recent ones.
    #[arg(long, default_value = "200", value_parser = parse_limit, value_name = "N")]
    limit: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How `nodemend repairs` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns for reading.
    Table,
    /// One JSON object with the repairs and the pool summary.
    Json,
}

/// The JSON output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    /// The start of the period.
    since: Timestamp,
    /// The repairs, oldest first.
    repairs: &'a [StoredRepair],
    /// Whether more repairs matched than --limit let through.
    truncated: bool,
    /// The summary per pool.
    pools: Vec<PoolJson<'a>>,
}

/// A pool's summary in the JSON output: [`PoolSummary`] with its error codes as objects
/// rather than pairs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PoolJson<'a> {
    pool: &'a str,
    repairs: u64,
    succeeded: u64,
    gave_up: u64,
    cancelled: u64,
    active: u64,
    success_rate: Option<f64>,
    top_error_codes: Vec<CodeCount<'a>>,
}

/// An error code and how many failed steps reported it.
#[derive(Debug, Serialize)]
struct CodeCount<'a> {
    code: &'a str,
    count: u64,
}

/// Runs `nodemend repairs`.
pub(crate) fn run(args: RepairsArgs) -> anyhow::Result<Outcome> {
    let now = Timestamp::now();
    let since = args.since.resolve(now)?;
    let archive = args.archive.open()?;
    let filter = RepairFilter {
        node: args.node.clone(),
        since: Some(since),
    };
    let mut repairs = archive.repairs(&filter, args.limit.saturating_add(1))?;
    let truncated = repairs.len() > args.limit;
    repairs.truncate(args.limit);
    repairs.reverse();
    let pools = archive.pool_summary(since)?;
    let text = match args.format {
        Format::Json => json(since, &repairs, truncated, &pools)?,
        Format::Table => {
            let style = Style::stdout();
            let mut text = repairs_table(&repairs, now, style);
            if repairs.is_empty() {
                eprintln!(
                    "no repairs in {} started since {}",
                    archive.path().display(),
                    time(since)
                );
            } else if truncated {
                eprintln!(
                    "… more repairs match: these are the newest {}; raise --limit or narrow \
                     --since to see the others",
                    thousands(args.limit)
                );
            }
            if !pools.is_empty() {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&pools_table(&pools, since, style));
            }
            text
        }
    };
    emit(&text)?;
    Ok(Outcome::Success)
}

fn json(
    since: Timestamp,
    repairs: &[StoredRepair],
    truncated: bool,
    pools: &[PoolSummary],
) -> anyhow::Result<String> {
    let pools = pools
        .iter()
        .map(|p| PoolJson {
            pool: &p.pool,
            repairs: p.repairs,
            succeeded: p.succeeded,
            gave_up: p.gave_up,
            cancelled: p.cancelled,
            active: p.active,
            success_rate: p.success_rate,
            top_error_codes: p
                .top_error_codes
                .iter()
                .map(|(code, count)| CodeCount {
                    code,
                    count: *count,
                })
                .collect(),
        })
        .collect();
    let report = Report {
        since,
        repairs,
        truncated,
        pools,
    };
    let mut text =
        serde_json::to_string_pretty(&report).context("cannot encode the repairs as JSON")?;
    text.push('\n');
    Ok(text)
}

/// Each repair on one line, its steps indented under it.
fn repairs_table(repairs: &[StoredRepair], now: Timestamp, style: Style) -> String {
    if repairs.is_empty() {
        return String::new();
    }
    let mut rows = vec![
        [
            "NODE",
            "POOL",
            "STARTED",
            "OUTCOME",
            "DURATION",
            "ATTEMPT",
            "LAST ERROR",
        ]
        .map(str::to_owned),
    ];
    rows.extend(repairs.iter().map(|r| {
        let took = match r.finished {
            Some(end) => duration(end.duration_since(r.started)),
            None => format!("{} so far", duration(now.duration_since(r.started))),
        };
        [
            r.node.clone(),
            r.pool.clone().unwrap_or_else(|| "-".into()),
            time(r.started),
            r.phase.clone(),
            took,
            r.attempt.to_string(),
            r.last_error.clone().unwrap_or_else(|| "-".into()),
        ]
    }));
    let lines = align(&rows);
    let steps: Vec<[String; 5]> = repairs
        .iter()
        .flat_map(|r| &r.steps)
        .map(|s| {
            [
                s.action.clone(),
                format!("try {}", s.attempt),
                format!("{} → {}", time(s.started), time(s.finished)),
                s.outcome.clone(),
                s.error_code.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut step_lines = align(&steps).into_iter();
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold(&lines[0]));
    for (repair, line) in repairs.iter().zip(&lines[1..]) {
        let _ = writeln!(out, "{line}");
        for line in step_lines.by_ref().take(repair.steps.len()) {
            let _ = writeln!(out, "    {}", style.dim(&line));
        }
    }
    out
}

/// The per-pool summary with a title line.
fn pools_table(pools: &[PoolSummary], since: Timestamp, style: Style) -> String {
    let mut rows = vec![
        [
            "POOL",
            "REPAIRS",
            "SUCCEEDED",
            "GAVE UP",
            "CANCELLED",
            "ACTIVE",
            "SUCCESS",
            "TOP ERROR CODES",
        ]
        .map(str::to_owned),
    ];
    rows.extend(pools.iter().map(|p| {
        let codes: Vec<String> = p
            .top_error_codes
            .iter()
            .map(|(code, n)| format!("{code} ({n})"))
            .collect();
        [
            if p.pool.is_empty() {
                "(none)".to_owned()
            } else {
                p.pool.clone()
            },
            p.repairs.to_string(),
            p.succeeded.to_string(),
            p.gave_up.to_string(),
            p.cancelled.to_string(),
            p.active.to_string(),
            p.success_rate
                .map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0)),
            if codes.is_empty() {
                "-".to_owned()
            } else {
                codes.join(", ")
            },
        ]
    }));
    let lines = align(&rows);
    let mut out = format!(
        "{}\n",
        style.bold(&format!(
            "Per pool, all repairs started since {}:",
            time(since)
        ))
    );
    let _ = writeln!(out, "{}", style.bold(&lines[0]));
    for line in &lines[1..] {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Rows padded into columns two spaces apart, without trailing spaces.
fn align<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(widths) {
                let _ = write!(line, "{cell:<width$}  ");
            }
            line.truncate(line.trim_end().len());
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        let rows = [
            ["a".to_owned(), "bb".to_owned(), "c".to_owned()],
            ["aaa".to_owned(), "b".to_owned(), String::new()],
        ];
        assert_eq!(align(&rows), ["a    bb  c", "aaa  b"]);
    }
}
