//! What the archive's readers (`nodemend events`, `nodemend repairs`) share: the `--archive`
//! argument, the read-only open with its errors, and how times and durations are shown.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use nodemend_store::Archive;

use crate::paths::default_archive;

/// The archive file a reader opens.
#[derive(Debug, Clone, Args)]
pub(crate) struct ArchiveArg {
    /// The event archive (default: archive.db in the state directory: NODEMEND_STATE_DIR, else
    /// $XDG_STATE_HOME/nodemend, else ~/.local/state/nodemend).
    #[arg(long, value_name = "FILE", env = "NODEMEND_ARCHIVE")]
    archive: Option<PathBuf>,
}

impl ArchiveArg {
    /// The file: `--archive`, or the default in the state directory.
    pub(crate) fn path(&self) -> PathBuf {
        self.archive.clone().unwrap_or_else(default_archive)
    }

    /// Opens the archive for queries only. A missing file is an error that names the path and
    /// says what writes an archive; nothing is created.
    pub(crate) fn open(&self) -> anyhow::Result<Archive> {
        let path = self.path();
        if !path.exists() {
            anyhow::bail!(
                "no event archive at {}: an archive is written by `nodemend run` or \
                 `nodemend archive`; point --archive (or NODEMEND_ARCHIVE) at the file they write",
                path.display()
            );
        }
        Archive::open_read_only(&path)
            .with_context(|| format!("cannot read the event archive {}", path.display()))
    }
}

/// `--limit`: a whole number of at least 1.
pub(crate) fn parse_limit(raw: &str) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{raw:?} is not a whole number")),
    }
}

/// A time as the tables show it: UTC to the second, `2026-11-20 08:00:05Z`.
pub(crate) fn time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A duration as the tables show it, to the second and in at most two units: `45s`, `12m 5s`,
/// `3h 20m`, `2d 4h`.
pub(crate) fn duration(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let (days, hours, mins, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s > 0 => format!("{mins}m {s}s"),
        (0, 0, _) => format!("{mins}m"),
        (0, _, 0) => format!("{hours}h"),
        (0, _, _) => format!("{hours}h {mins}m"),
        (_, 0, _) => format!("{days}d"),
        _ => format!("{days}d {hours}h"),
    }
}

/// `n` with thousands separators: `1,234`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Writes `text` to standard output. A reader that went away (`| head`) ends the output
/// quietly: `Ok(false)` means stop.
pub(crate) fn emit(text: &str) -> anyhow::Result<bool> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(err) => Err(err).context("cannot write to standard output"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_two_units_at_most() {
        let cases = [
            (45, "45s"),
            (600, "10m"),
            (725, "12m 5s"),
            (3_600, "1h"),
            (12_000, "3h 20m"),
            (86_400, "1d"),
            (187_200, "2d 4h"),
            (-5, "0s"),
        ];
        for (secs, shown) in cases {
            assert_eq!(duration(SignedDuration::from_secs(secs)), shown, "{secs}");
        }
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234), "1,234");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn times_are_utc_to_the_second() {
        let at: Timestamp = "2026-11-20T09:00:05.123+01:00".parse().unwrap();
        assert_eq!(time(at), "2026-11-20 08:00:05Z");
    }
}
