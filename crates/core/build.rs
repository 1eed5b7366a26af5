//! Embeds the error-code catalog (`catalog/` at the workspace root) into nodemend-core, so the
//! catalog stays data that anyone can edit while the binary needs no files at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let catalog = manifest.join("../../catalog");
    let entries_dir = catalog.join("entries");
    println!("cargo:rerun-if-changed={}", catalog.display());
    println!("cargo:rerun-if-changed={}", entries_dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&entries_dir)
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut out = String::from(
        "/// The catalog's entry files: (file name, contents).\npub(crate) const ENTRY_FILES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("catalog file names are UTF-8");
        writeln!(out, "    ({name:?}, include_str!({:?})),", absolute(file))
            .expect("write to String");
    }
    out.push_str("];\n");

    let exit_codes = catalog.join("cse-exit-codes.toml");
    println!("cargo:rerun-if-changed={}", exit_codes.display());
    if exit_codes.exists() {
        writeln!(
            out,
            "/// The CSE exit-code table.\npub(crate) const EXIT_CODES: &str = include_str!({:?});",
            absolute(&exit_codes)
        )
        .expect("write to String");
    } else {
        out.push_str(
            "/// The CSE exit-code table (absent).\npub(crate) const EXIT_CODES: &str = \"\";\n",
        );
    }

    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("catalog_files.rs");
    std::fs::write(dest, out).expect("write catalog_files.rs");
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
