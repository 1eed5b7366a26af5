//! Parsing and validation of catalog files. Every problem names the file and the entry.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::entry::{CseExitCode, Entry};
use super::normalize;

/// A catalog file that cannot be used, with the file and entry at fault.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid TOML or does not have the catalog's shape.
    #[error("catalog file {file} cannot be read as a catalog")]
    Syntax {
        /// File name.
        file: String,
        /// The parser's error, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// An entry breaks one of the catalog's rules.
    #[error("catalog file {file}, entry {entry:?}: {problem}")]
    Invalid {
        /// File name.
        file: String,
        /// Code of the entry at fault.
        entry: String,
        /// The rule it breaks.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExitCodeFile {
    #[serde(default)]
    exit_code: Vec<CseExitCode>,
}

const EXIT_CODE_FILE: &str = "cse-exit-codes.toml";

fn invalid(file: &str, entry: &str, problem: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        file: file.to_owned(),
        entry: entry.to_owned(),
        problem: problem.into(),
    }
}

/// Parses every file and checks the rules that keep the catalog useful.
pub(super) fn load(
    entry_files: &[(&str, &str)],
    exit_codes: &str,
) -> Result<(Vec<Entry>, Vec<CseExitCode>), CatalogError> {
    let mut entries = Vec::new();
    let mut origin_file = Vec::new();
    for (file, text) in entry_files {
        let parsed: EntryFile = toml::from_str(text).map_err(|source| CatalogError::Syntax {
            file: (*file).to_owned(),
            source,
        })?;
        for entry in parsed.entry {
            check_entry(file, &entry)?;
            origin_file.push(*file);
            entries.push(entry);
        }
    }

    let mut keys: HashMap<String, &str> = HashMap::new();
    for (entry, file) in entries.iter().zip(&origin_file) {
        for key in std::iter::once(&entry.code).chain(&entry.aliases) {
            let norm = normalize(key);
            if norm.is_empty() {
                return Err(invalid(
                    file,
                    &entry.code,
                    format!("code or alias {key:?} has no letters or digits"),
                ));
            }
            if let Some(other) = keys.insert(norm, &entry.code) {
                return Err(invalid(
                    file,
                    &entry.code,
                    format!("{key:?} is already used by entry {other:?}"),
                ));
            }
        }
    }
    for (entry, file) in entries.iter().zip(&origin_file) {
        for other in &entry.see_also {
            if !keys.contains_key(&normalize(other)) {
                return Err(invalid(
                    file,
                    &entry.code,
                    format!("see_also names {other:?}, which has no entry"),
                ));
            }
        }
    }

    let exit_codes = if exit_codes.trim().is_empty() {
        Vec::new()
    } else {
        toml::from_str::<ExitCodeFile>(exit_codes)
            .map_err(|source| CatalogError::Syntax {
                file: EXIT_CODE_FILE.to_owned(),
                source,
            })?
            .exit_code
    };
    let mut seen = HashSet::new();
    for exit in &exit_codes {
        let label = format!("{:?} exit code {}", exit.os, exit.code);
        if !seen.insert((exit.os, exit.code)) {
            return Err(invalid(EXIT_CODE_FILE, &label, "appears twice"));
        }
        if !keys.contains_key(&normalize(&exit.entry)) {
            return Err(invalid(
                EXIT_CODE_FILE,
                &label,
                format!("maps to {:?}, which has no entry", exit.entry),
            ));
        }
        if exit.name.trim().is_empty() || exit.meaning.trim().is_empty() {
            return Err(invalid(
                EXIT_CODE_FILE,
                &label,
                "needs a name and a meaning",
            ));
        }
    }
    Ok((entries, exit_codes))
}

fn check_entry(file: &str, entry: &Entry) -> Result<(), CatalogError> {
    let code = entry.code.as_str();
    let stem = file.strip_suffix(".toml").unwrap_or(file);
    if entry.category.as_str() != stem {
        return Err(invalid(
            file,
            code,
            format!(
                "category {:?} does not match the file it is in",
                entry.category.as_str()
            ),
        ));
    }
    if code.trim().is_empty() || entry.title.trim().is_empty() {
        return Err(invalid(file, code, "needs a code and a title"));
    }
    if entry.causes.is_empty() || entry.causes.iter().any(|c| c.trim().is_empty()) {
        return Err(invalid(file, code, "needs at least one non-empty cause"));
    }
    if entry.remedy.is_empty() || entry.remedy.iter().any(|s| s.step.trim().is_empty()) {
        return Err(invalid(
            file,
            code,
            "needs at least one remedy step, each with text",
        ));
    }
    if !entry.docs.starts_with("https://") {
        return Err(invalid(
            file,
            code,
            format!("docs {:?} must be an https:// URL", entry.docs),
        ));
    }
    Ok(())
}
