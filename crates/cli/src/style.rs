//! Terminal styling that switches itself off when output is not a terminal or `NO_COLOR` is set.

use std::io::IsTerminal;

/// Whether to emit ANSI styling on standard output.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    enabled: bool,
}

impl Style {
    /// Styling for standard output, following the terminal and the `NO_COLOR` convention.
    pub(crate) fn stdout() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            enabled: !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// Styling switched on or off regardless of the terminal (tests, reports written to a file).
    pub(crate) fn forced(enabled: bool) -> Self {
        Self { enabled }
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    /// Colour for a severity name: red for error and critical, yellow for warning.
    pub(crate) fn severity(self, severity: nodemend_core::catalog::Severity) -> String {
        use nodemend_core::catalog::Severity;
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::Error => "31",
            Severity::Warning => "33",
            Severity::Info => "36",
        };
        self.wrap(code, severity.as_str())
    }
}
