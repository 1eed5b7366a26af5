//! The error-code catalog: every Azure/AKS code nodemend knows, with cause and remedy.
//!
//! The catalog is data (`catalog/entries/*.toml` and `catalog/cse-exit-codes.toml` at the
//! workspace root), compiled in by `build.rs` and validated when first used. Start with
//! [`Catalog::builtin`] and [`Catalog::find`].

mod entry;
mod load;

use std::collections::HashMap;
use std::sync::LazyLock;

pub use entry::{Category, CseExitCode, Entry, NodeOs, Origin, RemedyStep, Severity, Surface};
pub use load::CatalogError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
}

/// A validated set of entries with an index over codes and aliases.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<Entry>,
    exit_codes: Vec<CseExitCode>,
    /// Normalised code or alias → index into `entries`.
    index: HashMap<String, usize>,
}

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::parse(embedded::ENTRY_FILES, embedded::EXIT_CODES)
        .unwrap_or_else(|err| panic!("the catalog compiled into nodemend is invalid: {err}"))
});

/// Reduces a code to what matching compares: ASCII letters and digits, lower-cased, so that
/// `Quota-Exceeded`, `quotaexceeded` and `QUOTA_EXCEEDED` are the same code.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Catalog {
    /// The catalog compiled into this binary. Its data is checked by the test suite, so this
    /// cannot fail in a released build.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    /// Parses and validates catalog files: `(file name, contents)` of each entry file, and the
    /// contents of the CSE exit-code table (empty for none).
    pub fn parse(entry_files: &[(&str, &str)], exit_codes: &str) -> Result<Self, CatalogError> {
        let (entries, exit_codes) = load::load(entry_files, exit_codes)?;
        let mut index = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            for key in std::iter::once(&entry.code).chain(&entry.aliases) {
                index.insert(normalize(key), i);
            }
        }
        Ok(Self {
            entries,
            exit_codes,
            index,
        })
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry whose code or alias matches `query`, ignoring case and punctuation.
    pub fn find(&self, query: &str) -> Option<&Entry> {
        self.index.get(&normalize(query)).map(|&i| &self.entries[i])
    }

    /// Up to `limit` entries whose code or an alias is close to `query`, closest first: for a
    /// person who mistyped a code.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<&Entry> {
        let wanted = normalize(query);
        if wanted.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(f64, usize)> = Vec::new();
        for (key, &i) in &self.index {
            let mut score = strsim::jaro_winkler(&wanted, key);
            if wanted.len() >= 4 && (key.contains(&wanted) || wanted.contains(key.as_str())) {
                score = score.max(0.9);
            }
            if score >= 0.82 {
                match scored.iter_mut().find(|(_, j)| *j == i) {
                    Some(best) => best.0 = best.0.max(score),
                    None => scored.push((score, i)),
                }
            }
        }
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.entries[a.1].code.cmp(&self.entries[b.1].code))
        });
        scored
            .into_iter()
            .take(limit)
            .map(|(_, i)| &self.entries[i])
            .collect()
    }

    /// What a Custom Script Extension exit code means on a node of the given OS, with the entry
    /// that explains it.
    pub fn exit_code(&self, os: NodeOs, code: u32) -> Option<(&CseExitCode, &Entry)> {
        let exit = self
            .exit_codes
            .iter()
            .find(|e| e.os == os && e.code == code)?;
        Some((exit, self.find(&exit.entry)?))
    }

    /// All known exit codes.
    pub fn exit_codes(&self) -> &[CseExitCode] {
        &self.exit_codes
    }

    /// Entries one of whose signatures occurs in `message` (case-insensitively): how a code is
    /// recognised in free text that carries no code.
    pub fn match_message(&self, message: &str) -> Vec<&Entry> {
        let haystack = message.to_lowercase();
        self.entries
            .iter()
            .filter(|e| {
                e.signatures
                    .iter()
                    .any(|s| !s.is_empty() && haystack.contains(&s.to_lowercase()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
