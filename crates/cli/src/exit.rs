//! Documented exit statuses, so scripts can tell "found a problem" from "could not run".

use std::process::ExitCode;

/// What a command's outcome means to a calling script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything asked for was done or found.
    Success,
    /// The command ran, but what it checked does not hold (a demo's expectation failed).
    Failed,
    /// The input named something nodemend does not know (e.g. an unknown error code); the
    /// same status clap uses for a usage error.
    NotFound,
    /// `nodemend diagnose --fail-on`: a finding at or above the chosen severity exists.
    Found,
}

impl Outcome {
    pub(crate) fn code(self) -> ExitCode {
        match self {
            Self::Success => ExitCode::SUCCESS,
            Self::Failed => ExitCode::from(FAILURE),
            Self::NotFound => ExitCode::from(2),
            Self::Found => ExitCode::from(FOUND),
        }
    }
}

/// Status for a command that failed to run (bad file, unreachable API...).
pub(crate) const FAILURE: u8 = 1;

/// Status of `nodemend diagnose --fail-on <severity>` when a finding at or above it exists:
/// distinct from 1 (could not run) and 2 (usage error).
pub(crate) const FOUND: u8 = 3;
