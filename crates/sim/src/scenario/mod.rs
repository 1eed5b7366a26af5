//! Scenario files: a simulated cluster (its Azure side, its Kubernetes objects), a timeline of
//! faults with what cures each, the repair policy to rehearse, and what should happen. The same
//! file drives `nodemend sim serve`, `nodemend demo`, the tests and the benchmarks.
//!
//! The format is TOML, documented field by field in `docs/scenarios.md`. Unknown fields are
//! errors, and every error names the file, the line and the field.

mod builtin;
mod spec;

use std::path::Path;

pub use builtin::{BUILTIN, builtin};
pub use spec::{
    EventExpectation, EventSpec, Expectations, FaultKind, KubernetesSpec, NodeExpectation, PdbSpec,
    PodSpec, Scenario, TimelineEvent,
};

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario file {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or a field is wrong.
    #[error("scenario {origin}, line {line}, column {column}: {message}")]
    Syntax {
        /// File name or built-in name.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A value is well-formed but does not make sense.
    #[error("scenario {origin}: field {field}: {problem}")]
    Invalid {
        /// File name or built-in name.
        origin: String,
        /// The field, as a path.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// No built-in scenario has that name and no such file exists.
    #[error("no scenario named {name:?} (built-in: {known}) and no such file")]
    Unknown {
        /// What was asked for.
        name: String,
        /// The built-in names.
        known: String,
    },
}

impl Scenario {
    /// Parses scenario TOML; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ScenarioError::Syntax {
                origin: origin.to_owned(),
                line,
                column,
                message: err.message().to_owned(),
            }
        })?;
        scenario.validate(origin)?;
        Ok(scenario)
    }

    /// A built-in scenario by name, or a scenario file by path.
    pub fn load(name_or_path: &str) -> Result<Self, ScenarioError> {
        if let Some(text) = builtin(name_or_path) {
            return Self::parse(name_or_path, text);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(ScenarioError::Unknown {
                name: name_or_path.to_owned(),
                known: BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
