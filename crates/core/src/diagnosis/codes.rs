//! Finding the error code that explains a failure, wherever Azure put it.
//!
//! Azure seldom puts the useful code at the top. It hides under `details[]`, inside an
//! activity-log `statusMessage` that is a JSON document in a string, inside the AKS wrapper
//! text (`Category: ClientError; SubCode: X; ... OrginalError: Code="Y" Message="..."`), in a
//! `VMExtensionError_X` name, or only as a Custom Script Extension `exit status=N`. This module
//! collects every candidate, innermost first, and resolves them through the catalog:
//!
//! 1. the first candidate with a catalog entry that is not a generic wrapper
//!    (`VMExtensionProvisioningError`, `OperationNotAllowed`...);
//! 2. else a catalog signature found in one of the messages;
//! 3. else the first candidate with any entry (a generic wrapper);
//! 4. else the first candidate at all, with no entry: an unknown code is still worth showing.

use serde::Serialize;
use serde_json::Value;

mod scan;

use scan::embedded_json_codes;
pub use scan::{exit_statuses, extension_error_names, original_error_codes, sub_codes};

use crate::catalog::{Catalog, CseExitCode, Entry, NodeOs};
use crate::model::{ArmError, InstanceStatus, VmInstance};

/// Where in a failure a code was found, so a person can find it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The `code` of an error, one of its `details`, or a status code.
    ErrorCode,
    /// `SubCode: X;` in an AKS resource-provider message.
    SubCode,
    /// `Code="X"` of the original error an AKS message wraps, or `"code": "X"` in embedded JSON.
    OriginalError,
    /// A `VMExtensionError_X` name in a Custom Script Extension message.
    ExtensionError,
    /// A Custom Script Extension `exit status=N`, read through the exit-code table.
    ExitStatus,
    /// No code: a message fragment the catalog recognises.
    Signature,
}

impl Source {
    /// A short phrase for evidence: "found in ...".
    pub fn describe(self) -> &'static str {
        match self {
            Self::ErrorCode => "error code",
            Self::SubCode => "AKS SubCode",
            Self::OriginalError => "wrapped original error",
            Self::ExtensionError => "extension error name",
            Self::ExitStatus => "CSE exit status",
            Self::Signature => "message text",
        }
    }
}

/// A code found in a failure, with the catalog entry that explains it when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'c> {
    /// The code: as Azure wrote it, or the entry's code for an exit status or a signature.
    pub code: String,
    /// The catalog entry, when the catalog knows the code.
    pub entry: Option<&'c Entry>,
    /// Where it was found.
    pub source: Source,
    /// The exit-code row, when the code came from a CSE exit status.
    pub exit: Option<&'c CseExitCode>,
}

/// Entries that only say "something underneath failed": a more specific code wins over them.
const GENERIC: [&str; 9] = [
    "VMExtensionProvisioningError",
    "OperationNotAllowed",
    "BadRequest",
    "UpgradeFailed",
    "NodeRebootError",
    "NodeReimageError",
    "NodeRedeployError",
    "ClusterProvisioningFailed",
    "NodePoolProvisioningFailed",
];

/// Whether an entry is a generic wrapper that a more specific code should replace.
pub fn is_generic(entry: &Entry) -> bool {
    GENERIC.contains(&entry.code.as_str())
}

enum Candidate {
    Code(String, Source),
    Exit(u32),
}

#[derive(Default)]
struct Collected {
    candidates: Vec<Candidate>,
    messages: Vec<String>,
}

impl Collected {
    fn code(&mut self, raw: &str, source: Source) {
        let code = raw.rsplit('/').next().unwrap_or(raw).trim();
        let meaningful = !code.is_empty()
            && !code.chars().all(|c| c.is_ascii_digit())
            && !code.eq_ignore_ascii_case("succeeded")
            && !code.eq_ignore_ascii_case("failed");
        if meaningful {
            self.candidates
                .push(Candidate::Code(code.to_owned(), source));
        }
    }

    fn error(&mut self, error: &ArmError) {
        for detail in &error.details {
            self.error(detail);
        }
        self.message(&error.message);
        self.code(&error.code, Source::ErrorCode);
    }

    fn message(&mut self, message: &str) {
        if message.trim().is_empty() {
            return;
        }
        if let Some(inner) = parse_status_message(message) {
            self.error(&inner);
            return;
        }
        self.messages.push(message.to_owned());
        for n in exit_statuses(message) {
            self.candidates.push(Candidate::Exit(n));
        }
        for name in extension_error_names(message) {
            self.code(&name, Source::ExtensionError);
        }
        let mut wrapped = original_error_codes(message);
        wrapped.extend(embedded_json_codes(message));
        for code in wrapped.iter().rev() {
            self.code(code, Source::OriginalError);
        }
        for code in sub_codes(message) {
            self.code(&code, Source::SubCode);
        }
    }

    fn status(&mut self, status: &InstanceStatus) {
        let failed = status.level.eq_ignore_ascii_case("Error")
            || status.code.to_ascii_lowercase().contains("/failed");
        if failed {
            if let Some(message) = &status.message {
                self.message(message);
            }
            self.code(&status.code, Source::ErrorCode);
        }
    }

    fn resolve<'c>(self, os: NodeOs, catalog: &'c Catalog) -> Option<Found<'c>> {
        let known: Vec<Found<'c>> = self
            .candidates
            .iter()
            .filter_map(|c| lookup(c, os, catalog))
            .collect();
        if let Some(found) = known
            .iter()
            .find(|f| f.entry.is_some_and(|e| !is_generic(e)))
        {
            return Some(found.clone());
        }
        // Some signatures are codes of other services (`InternalOperationError` of private
        // DNS): an unknown code that carries one keeps its own name.
        let coded = self.candidates.iter().find_map(|c| match c {
            Candidate::Code(code, source) if catalog.find(code).is_none() => catalog
                .match_message(code)
                .into_iter()
                .find(|e| !is_generic(e))
                .map(|entry| Found {
                    code: code.clone(),
                    entry: Some(entry),
                    source: *source,
                    exit: None,
                }),
            _ => None,
        });
        if coded.is_some() {
            return coded;
        }
        let signature = self.messages.iter().find_map(|m| {
            catalog
                .match_message(m)
                .into_iter()
                .find(|e| !is_generic(e))
        });
        if let Some(entry) = signature {
            return Some(Found {
                code: entry.code.clone(),
                entry: Some(entry),
                source: Source::Signature,
                exit: None,
            });
        }
        if let Some(found) = known.into_iter().find(|f| f.entry.is_some()) {
            return Some(found);
        }
        self.candidates.into_iter().find_map(|c| match c {
            Candidate::Code(code, source) => Some(Found {
                code,
                entry: None,
                source,
                exit: None,
            }),
            Candidate::Exit(_) => None,
        })
    }
}

fn lookup<'c>(candidate: &Candidate, os: NodeOs, catalog: &'c Catalog) -> Option<Found<'c>> {
    match candidate {
        Candidate::Code(code, source) => Some(Found {
            code: code.clone(),
            entry: catalog.find(code),
            source: *source,
            exit: None,
        }),
        Candidate::Exit(n) => {
            let (exit, entry) = catalog.exit_code(os, *n)?;
            Some(Found {
                code: entry.code.clone(),
                entry: Some(entry),
                source: Source::ExitStatus,
                exit: Some(exit),
            })
        }
    }
}

/// The most specific code of an ARM error: its details, messages and nested documents included.
pub fn in_error<'c>(error: &ArmError, os: NodeOs, catalog: &'c Catalog) -> Option<Found<'c>> {
    let mut collected = Collected::default();
    collected.error(error);
    collected.resolve(os, catalog)
}

/// The most specific code in a free-text message (an event, a status, a CLI error).
pub fn in_message<'c>(message: &str, os: NodeOs, catalog: &'c Catalog) -> Option<Found<'c>> {
    let mut collected = Collected::default();
    collected.message(message);
    collected.resolve(os, catalog)
}

/// The code that explains a VM's failure: its failed extension statuses first (where the CSE
/// exit status is), then its own failed statuses.
pub fn in_instance<'c>(vm: &VmInstance, os: NodeOs, catalog: &'c Catalog) -> Option<Found<'c>> {
    let mut collected = Collected::default();
    for status in vm.extensions.iter().flat_map(|e| &e.statuses) {
        collected.status(status);
    }
    for status in &vm.statuses {
        collected.status(status);
    }
    collected.resolve(os, catalog)
}

/// The action and code of an auto-repair failure event, whose message AKS words as
/// `Node auto-repair <action> action failed due to an operation failure: <code>`.
pub fn in_repair_event<'c>(
    message: &str,
    os: NodeOs,
    catalog: &'c Catalog,
) -> Option<(String, Found<'c>)> {
    let rest = message.split_once("Node auto-repair ")?.1;
    let (action, rest) = rest.split_once(" action failed due to an operation failure:")?;
    let text = rest.trim();
    let first = text
        .split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';'))
        .next()
        .unwrap_or_default();
    let found = [text, first]
        .into_iter()
        .filter(|t| !t.is_empty())
        .find_map(|t| catalog.find(t))
        .map(|entry| Found {
            code: entry.code.clone(),
            entry: Some(entry),
            source: Source::ErrorCode,
            exit: None,
        })
        .or_else(|| in_message(text, os, catalog))
        .or_else(|| {
            (!first.is_empty()).then(|| Found {
                code: first.to_owned(),
                entry: None,
                source: Source::ErrorCode,
                exit: None,
            })
        })?;
    Some((action.trim().to_owned(), found))
}

/// Parses an activity-log `statusMessage` (or any message that is a JSON error document):
/// `{"status":"Failed","error":{"code":..,"message":..,"details":[..]}}` or a bare
/// `{"code":..,"message":..}`. Collectors use it to fill [`crate::cloud::ActivityRecord::error`].
pub fn parse_status_message(raw: &str) -> Option<ArmError> {
    let raw = raw.trim();
    if !raw.starts_with('{') {
        return None;
    }
    let value: Value = serde_json::from_str(raw).ok()?;
    let error = value.get("error").unwrap_or(&value);
    arm_error(error)
}

fn arm_error(value: &Value) -> Option<ArmError> {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let details: Vec<ArmError> = value
        .get("details")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(arm_error).collect())
        .unwrap_or_default();
    let code = text("code");
    if code.is_empty() && details.is_empty() {
        return None;
    }
    Some(ArmError {
        code,
        message: text("message"),
        details,
    })
}

#[cfg(test)]
mod tests;
