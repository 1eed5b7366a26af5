//! What is being collected, on standard error: one line that redraws itself on a terminal, one
//! plain line per finished read otherwise, nothing with `--quiet`.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A terminal: one line, redrawn.
    Live,
    /// Not a terminal: a line per finished read.
    Plain,
    /// Nothing.
    Quiet,
}

#[derive(Debug, Default)]
struct State {
    started: usize,
    done: usize,
    failed: usize,
    running: Vec<String>,
    frame: usize,
    drawn: bool,
}

/// The progress of a collection or of a long-running operation.
#[derive(Debug)]
pub(crate) struct Progress {
    mode: Mode,
    state: Mutex<State>,
}

/// One read in flight; [`Step::end`] reports how it went.
#[must_use = "a step must be ended"]
pub(crate) struct Step<'p> {
    progress: &'p Progress,
    what: String,
    start: Instant,
}

impl Progress {
    /// Live on a terminal, plain otherwise, silent when `quiet`.
    pub(crate) fn stderr(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Live
        } else {
            Mode::Plain
        };
        Self {
            mode,
            state: Mutex::new(State::default()),
        }
    }

    /// Shows nothing (tests, and reads nobody needs to watch).
    #[cfg(test)]
    pub(crate) fn quiet() -> Self {
        Self::stderr(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A read starts.
    pub(crate) fn begin(&self, what: impl Into<String>) -> Step<'_> {
        let what = what.into();
        let mut state = self.lock();
        state.started += 1;
        state.running.push(what.clone());
        self.redraw(&mut state);
        Step {
            progress: self,
            what,
            start: Instant::now(),
        }
    }

    /// A line of its own (a plan, a result), printed above the live line.
    pub(crate) fn say(&self, text: &str) {
        if self.mode == Mode::Quiet {
            return;
        }
        let mut state = self.lock();
        Self::clear(&mut state);
        let _ = writeln!(std::io::stderr(), "{text}");
        if !state.running.is_empty() {
            self.redraw(&mut state);
        }
    }

    /// A long-running operation is still going after `elapsed`.
    pub(crate) fn waiting(&self, what: &str, elapsed: Duration) {
        if self.mode != Mode::Live {
            return;
        }
        let mut state = self.lock();
        state.frame += 1;
        let frame = FRAMES[state.frame % FRAMES.len()];
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K{frame} {what} ({}s)",
            elapsed.as_secs()
        );
        state.drawn = true;
    }

    /// The collection is over: the live line goes away.
    pub(crate) fn finish(&self) {
        let mut state = self.lock();
        Self::clear(&mut state);
    }

    fn clear(state: &mut State) {
        if state.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            state.drawn = false;
        }
    }

    fn redraw(&self, state: &mut State) {
        if self.mode != Mode::Live {
            return;
        }
        state.frame += 1;
        let frame = FRAMES[state.frame % FRAMES.len()];
        let current = state.running.first().map_or("", String::as_str);
        let failed = match state.failed {
            0 => String::new(),
            n => format!(", {n} failed"),
        };
        let line = format!(
            "{frame} collecting: {}/{} reads done{failed} · {current}",
            state.done, state.started
        );
        let _ = write!(std::io::stderr(), "\r\x1b[2K{}", clip(&line, 100));
        state.drawn = true;
    }
}

impl Step<'_> {
    /// The read ended, well or not.
    pub(crate) fn end(self, ok: bool) {
        let elapsed = self.start.elapsed();
        tracing::debug!(read = %self.what, ok, ms = elapsed.as_millis() as u64, "read");
        let progress = self.progress;
        let mut state = progress.lock();
        state.done += 1;
        if !ok {
            state.failed += 1;
        }
        if let Some(i) = state.running.iter().position(|r| *r == self.what) {
            state.running.remove(i);
        }
        match progress.mode {
            Mode::Live => progress.redraw(&mut state),
            Mode::Plain => {
                let outcome = if ok { "ok" } else { "failed" };
                let _ = writeln!(
                    std::io::stderr(),
                    "read {}: {outcome} ({} ms)",
                    self.what,
                    elapsed.as_millis()
                );
            }
            Mode::Quiet => {}
        }
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_counted_and_removed_when_they_end() {
        let progress = Progress::quiet();
        let a = progress.begin("cluster");
        let b = progress.begin("activity log");
        a.end(true);
        b.end(false);
        let state = progress.lock();
        assert_eq!((state.started, state.done, state.failed), (2, 2, 1));
        assert!(state.running.is_empty());
    }

    #[test]
    fn long_lines_are_clipped() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
