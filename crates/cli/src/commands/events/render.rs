//! How `nodemend events` prints events: an aligned table, JSON (one array, or one object per
//! line when following) or CSV. Output comes in batches: the backlog, then each poll of
//! `--follow`.

use std::fmt::Write as _;

use anyhow::Context as _;
use nodemend_store::StoredEvent;

use super::Format;
use crate::commands::archive_read::time;
use crate::style::Style;

/// Column titles of the table.
const TITLES: [&str; 7] = [
    "LAST SEEN",
    "TYPE",
    "REASON",
    "OBJECT",
    "NODE",
    "COUNT",
    "MESSAGE",
];

/// Column names of the CSV output, the same as the JSON fields.
const CSV_HEADER: [&str; 15] = [
    "lastSeen",
    "firstSeen",
    "type",
    "reason",
    "namespace",
    "name",
    "objectKind",
    "objectName",
    "objectNamespace",
    "node",
    "count",
    "seriesCount",
    "source",
    "message",
    "uid",
];

/// The fewest characters of a message the table shows on a narrow terminal.
const MIN_MESSAGE: usize = 30;

/// Spaces between table columns.
const GAP: &str = "  ";

/// Turns batches of events into text, remembering what the first batch printed (the table's
/// column widths, the CSV header).
#[derive(Debug)]
pub(super) struct Printer {
    format: Format,
    follow: bool,
    style: Style,
    terminal_width: Option<usize>,
    widths: Option<[usize; 6]>,
    csv_header_done: bool,
}

impl Printer {
    /// A printer; `terminal_width` is set when standard output is a terminal, and the table's
    /// messages are then cut to fit it.
    pub(super) fn new(
        format: Format,
        follow: bool,
        style: Style,
        terminal_width: Option<usize>,
    ) -> Self {
        Self {
            format,
            follow,
            style,
            terminal_width,
            widths: None,
            csv_header_done: false,
        }
    }

    /// The text for `events` (oldest first).
    pub(super) fn batch(&mut self, events: &[StoredEvent]) -> anyhow::Result<String> {
        match self.format {
            Format::Json if self.follow => ndjson(events),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(events)
                    .context("cannot encode the events as JSON")?;
                text.push('\n');
                Ok(text)
            }
            Format::Csv => self.csv(events),
            Format::Table => Ok(self.table(events)),
        }
    }

    fn table(&mut self, events: &[StoredEvent]) -> String {
        let rows: Vec<[String; 7]> = events.iter().map(cells).collect();
        let mut out = String::new();
        if rows.is_empty() {
            return out;
        }
        let widths = match self.widths {
            Some(widths) => widths,
            None => {
                let widths = column_widths(&rows);
                self.widths = Some(widths);
                let header = line(&TITLES.map(str::to_owned), &widths, None);
                let _ = writeln!(out, "{}", self.style.bold(&header));
                widths
            }
        };
        let message_width = self.terminal_width.map(|total| {
            let used: usize = widths.iter().map(|w| w + GAP.len()).sum();
            total.saturating_sub(used).max(MIN_MESSAGE)
        });
        for row in &rows {
            let _ = writeln!(out, "{}", line(row, &widths, message_width));
        }
        out
    }

    fn csv(&mut self, events: &[StoredEvent]) -> anyhow::Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        if !self.csv_header_done {
            writer.write_record(CSV_HEADER)?;
            self.csv_header_done = true;
        }
        for stored in events {
            let e = &stored.event;
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            writer.write_record([
                e.last_seen.to_string(),
                e.first_seen.to_string(),
                e.event_type.clone(),
                e.reason.clone(),
                e.namespace.clone(),
                e.name.clone(),
                opt(&e.object_kind),
                opt(&e.object_name),
                opt(&e.object_namespace),
                opt(&e.node),
                e.count.to_string(),
                e.series_count.map(|c| c.to_string()).unwrap_or_default(),
                opt(&e.source),
                e.message.clone(),
                e.uid.clone(),
            ])?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write CSV: {}", e.error()))?;
        String::from_utf8(bytes).context("the CSV output is not UTF-8")
    }
}

/// One JSON object per line.
fn ndjson(events: &[StoredEvent]) -> anyhow::Result<String> {
    let mut out = String::new();
    for event in events {
        out.push_str(&serde_json::to_string(event).context("cannot encode an event as JSON")?);
        out.push('\n');
    }
    Ok(out)
}

/// The table cells of one event, each on one line and free of control characters (a message
/// is the cluster's text, and must not move the cursor or recolour the terminal).
fn cells(stored: &StoredEvent) -> [String; 7] {
    let e = &stored.event;
    let object = match (&e.object_kind, &e.object_name) {
        (Some(kind), Some(name)) => format!("{kind}/{name}"),
        (None, Some(name)) => name.clone(),
        (Some(kind), None) => kind.clone(),
        (None, None) => "-".to_owned(),
    };
    [
        time(e.last_seen),
        e.event_type.clone(),
        e.reason.clone(),
        object,
        e.node.clone().unwrap_or_else(|| "-".to_owned()),
        e.occurrences().to_string(),
        e.message.clone(),
    ]
    .map(|cell| one_line(&cell))
}

/// `text` on one line: runs of whitespace become one space, other control characters `?`.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            word.chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The width of each column but the message: its widest cell or its title.
fn column_widths(rows: &[[String; 7]]) -> [usize; 6] {
    let mut widths = TITLES.map(|t| t.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    [
        widths[0], widths[1], widths[2], widths[3], widths[4], widths[5],
    ]
}

/// One table line: columns padded (the count right-aligned), the message last and cut to
/// `message_width` characters when given.
fn line(cells: &[String; 7], widths: &[usize; 6], message_width: Option<usize>) -> String {
    let mut out = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i == 5 {
            let _ = write!(out, "{cell:>width$}{GAP}");
        } else {
            let _ = write!(out, "{cell:<width$}{GAP}");
        }
    }
    out.push_str(&cut(&cells[6], message_width));
    out.truncate(out.trim_end().len());
    out
}

/// `text` cut to `max` characters, the last of them an ellipsis.
fn cut(text: &str, max: Option<usize>) -> String {
    match max {
        Some(max) if text.chars().count() > max => {
            let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
            short.push('…');
            short
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_lose_newlines_and_control_characters() {
        assert_eq!(
            one_line("pull failed:\n\tretrying \x1b[31mnow"),
            "pull failed: retrying ?[31mnow"
        );
    }

    #[test]
    fn long_messages_are_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", Some(4)), "abc…");
        assert_eq!(cut("abcd", Some(4)), "abcd");
        assert_eq!(cut("abcdef", None), "abcdef");
    }

    #[test]
    fn the_count_is_right_aligned_and_lines_have_no_trailing_spaces() {
        let row = ["t", "Warning", "R", "Node/n", "n", "7", ""].map(str::to_owned);
        let widths = [1, 7, 6, 6, 4, 5];
        assert_eq!(
            line(&row, &widths, None),
            "t  Warning  R       Node/n  n         7"
        );
    }
}
