//! `nodemend events`: the archived Kubernetes events, filtered, as a table, JSON or CSV, and
//! `--follow` to keep printing them as they are archived.

mod follow;
mod render;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use nodemend_store::EventFilter;

use crate::commands::archive_read::{ArchiveArg, emit, parse_limit, thousands, time};
use crate::exit::Outcome;
use crate::style::Style;
use crate::window::{Moment, parse_moment};

use render::Printer;

/// Arguments of `nodemend events`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend events --reason NodeRebootError --since 7d
  nodemend events --node aks-np1-12345678-vmss000003 --since 2d --type Warning
  nodemend events --grep 'out of memory' --namespace prod --format csv > oom.csv
  nodemend events --reason NodeRebootError,NodeReimageError --since 90d --format json
  nodemend events --since 2026-11-20T08:00:00Z --until 2026-11-20T09:00:00Z
  nodemend events --type Warning --follow

Reads the archive that `nodemend run` or `nodemend archive` writes; never writes to it. Prints the
most recent matching events (--limit, default 500), oldest first, and says on standard error when
more matched. The table shows when each event was last seen and how many times it happened; on a
terminal long messages are cut to fit (JSON and CSV always carry them whole).

--follow prints the matching events, then every event archived afterwards (and again, with its
new count, every event whose count grows), until Ctrl-C. With --format json it prints one JSON
object per line (NDJSON) instead of one array.")]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    archive: ArchiveArg,

    /// Only events with this reason (exact; repeat the flag or separate with commas for any of
    /// several).
    #[arg(long, value_name = "REASON", value_delimiter = ',')]
    reason: Vec<String>,

    /// Only events of this type.
    #[arg(long = "type", value_enum, ignore_case = true, value_name = "TYPE")]
    event_type: Option<EventType>,

    /// Only events about this node or reported from it.
    #[arg(long, value_name = "NODE")]
    node: Option<String>,

    /// Only events in this namespace.
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,

    /// Events last seen at or after this: a duration back from now (`24h`, `90m`, `7d`) or a
    /// time with a UTC offset (`2026-11-20T08:00:00Z`).
    #[arg(long, default_value = "24h", value_parser = parse_moment, value_name = "WHEN")]
    since: Moment,

    /// Events last seen before this (same forms as --since; default: now).
    #[arg(long, value_parser = parse_moment, value_name = "WHEN", conflicts_with = "follow")]
    until: Option<Moment>,

    /// Only events whose message or reason contains this text (ignoring ASCII case).
    #[arg(long, value_name = "TEXT")]
    grep: Option<String>,

    /// Print at most this many events: the most recent ones (with --follow: of those archived
    /// before it started).
    #[arg(long, default_value = "500", value_parser = parse_limit, value_name = "N")]
    limit: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Keep printing events as they are archived, until Ctrl-C.
    #[arg(long, short = 'f')]
    follow: bool,
}

/// The two Kubernetes event types.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum EventType {
    /// Routine events.
    #[value(name = "Normal")]
    Normal,
    /// Events about something going wrong.
    #[value(name = "Warning")]
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// How `nodemend events` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for reading.
    Table,
    /// A JSON array of events (NDJSON with --follow).
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

impl EventsArgs {
    /// The store's filter, with the period resolved against `now`.
    fn filter(&self, now: Timestamp) -> anyhow::Result<EventFilter> {
        let since = self.since.resolve(now)?;
        let until = self.until.map(|u| u.resolve(now)).transpose()?;
        if let Some(until) = until
            && until <= since
        {
            anyhow::bail!("--until {until} is not after --since {since}: the period is empty");
        }
        Ok(EventFilter {
            reasons: self.reason.clone(),
            event_type: self.event_type.map(|t| t.as_str().to_owned()),
            node: self.node.clone(),
            namespace: self.namespace.clone(),
            since: Some(since),
            until,
            grep: self.grep.clone(),
        })
    }
}

/// Runs `nodemend events`.
pub(crate) fn run(args: EventsArgs) -> anyhow::Result<Outcome> {
    let filter = args.filter(Timestamp::now())?;
    let archive = args.archive.open()?;
    let width = terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0));
    let mut printer = Printer::new(args.format, args.follow, Style::stdout(), width);
    // The feed position comes first, so nothing archived while the backlog is read is missed.
    let cursor = if args.follow {
        Some(archive.latest_seq()?)
    } else {
        None
    };
    let mut events = archive.events(&filter, args.limit.saturating_add(1))?;
    let cut = events.len() > args.limit;
    events.truncate(args.limit);
    events.reverse();
    if !emit(&printer.batch(&events)?)? {
        return Ok(Outcome::Success);
    }
    if cut {
        eprintln!(
            "… more events match: these are the newest {}; raise --limit or narrow --since to see \
             the others",
            thousands(args.limit)
        );
    } else if events.is_empty() && !args.follow {
        let period = match (filter.since, filter.until) {
            (Some(since), Some(until)) => {
                format!("last seen from {} to {}", time(since), time(until))
            }
            (Some(since), None) => format!("last seen since {}", time(since)),
            _ => "at any time".to_owned(),
        };
        eprintln!("no events in {} match ({period})", archive.path().display());
    }
    if let Some(cursor) = cursor {
        follow::follow(&archive, &filter, cursor, &mut printer)?;
    }
    Ok(Outcome::Success)
}
