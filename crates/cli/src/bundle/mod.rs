//! Evidence bundles (`nodemend collect`): one `.tar.gz` with the diagnosis report, Kubernetes
//! objects and logs, archive rows and Azure state, for a support ticket. Every file goes
//! through [`redact`] on its way in; `manifest.json` lists each file, its source and what
//! could not be collected. The bundle is written to a temporary file beside its destination and
//! renamed into place at the end, so a failed run leaves nothing half-written.

pub(crate) mod archive;
pub(crate) mod azure;
pub(crate) mod kubernetes;
pub(crate) mod manifest;
pub(crate) mod redact;

use std::fmt::Display;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::Value;
use tempfile::NamedTempFile;

use crate::collect::Progress;
use manifest::{FileEntry, Manifest, Missing};

/// A bundle being written.
pub(crate) struct Bundle {
    tar: tar::Builder<GzEncoder<NamedTempFile>>,
    root: String,
    mtime: u64,
    out: PathBuf,
    force: bool,
    manifest: Manifest,
}

/// What a finished bundle holds, for the closing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    /// Files, not counting the manifest.
    pub(crate) files: usize,
    /// Parts that could not be collected.
    pub(crate) missing: usize,
    /// Secrets replaced, over every file.
    pub(crate) redactions: usize,
}

/// Fails when `out` exists and `force` is not given (checked before any collection, and again
/// when the bundle is moved into place).
pub(crate) fn refuse_existing(out: &Path, force: bool) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => {
            anyhow::bail!(
                "--out {} is a directory; name a file such as bundle.tar.gz",
                out.display()
            )
        }
        Ok(_) if !force => anyhow::bail!(
            "{} already exists; give --force to replace it, or another --out",
            out.display()
        ),
        _ => Ok(()),
    }
}

impl Bundle {
    /// Starts a bundle bound for `out`, in a temporary file in the same directory. Every path
    /// in the archive is under one top directory named after the time of the collection.
    pub(crate) fn create(out: &Path, force: bool, manifest: Manifest) -> anyhow::Result<Self> {
        refuse_existing(out, force)?;
        let dir = match out.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let file = tempfile::Builder::new()
            .prefix(".nodemend-collect-")
            .suffix(".partial")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        let root = format!(
            "nodemend-bundle-{}",
            manifest.created.strftime("%Y%m%dT%H%M%SZ")
        );
        let mtime = u64::try_from(manifest.created.as_second()).unwrap_or(0);
        Ok(Self {
            tar: tar::Builder::new(GzEncoder::new(file, Compression::default())),
            root,
            mtime,
            out: out.to_owned(),
            force,
            manifest,
        })
    }

    /// Adds a text file, redacted.
    pub(crate) fn add_text(&mut self, path: &str, source: &str, text: &str) -> anyhow::Result<()> {
        let (redacted, count) = redact::text(text);
        self.append(path, source, redacted.as_bytes(), count)
    }

    /// Adds `value` as indented JSON, redacted.
    pub(crate) fn add_json(
        &mut self,
        path: &str,
        source: &str,
        value: &impl Serialize,
    ) -> anyhow::Result<()> {
        self.add_structured(path, source, value, |v| {
            serde_json::to_vec_pretty(v)
                .map(|mut bytes| {
                    bytes.push(b'\n');
                    bytes
                })
                .map_err(|e| e.to_string())
        })
    }

    /// Adds `value` as YAML, redacted.
    pub(crate) fn add_yaml(
        &mut self,
        path: &str,
        source: &str,
        value: &impl Serialize,
    ) -> anyhow::Result<()> {
        self.add_structured(path, source, value, |v| {
            serde_yaml_ng::to_string(v)
                .map(String::into_bytes)
                .map_err(|e| e.to_string())
        })
    }

    /// Data is redacted as a tree (so quoting stays right) and then serialised. A value that
    /// cannot be serialised is recorded as missing.
    fn add_structured(
        &mut self,
        path: &str,
        source: &str,
        value: &impl Serialize,
        serialise: impl FnOnce(&Value) -> Result<Vec<u8>, String>,
    ) -> anyhow::Result<()> {
        let bytes = serde_json::to_value(value)
            .map_err(|e| e.to_string())
            .and_then(|mut tree| {
                let count = redact::value(&mut tree);
                serialise(&tree).map(|bytes| (bytes, count))
            });
        match bytes {
            Ok((bytes, count)) => self.append(path, source, &bytes, count),
            Err(error) => {
                self.missing(path, source, format!("cannot serialise: {error}"));
                Ok(())
            }
        }
    }

    /// Adds the file `path` from `read`, or records why it is missing.
    pub(crate) fn add_read<T: Serialize, E: Display>(
        &mut self,
        path: &str,
        source: &str,
        read: Result<T, E>,
        format: Format,
    ) -> anyhow::Result<()> {
        match read {
            Ok(value) => match format {
                Format::Json => self.add_json(path, source, &value),
                Format::Yaml => self.add_yaml(path, source, &value),
            },
            Err(error) => {
                self.missing(path, source, error.to_string());
                Ok(())
            }
        }
    }

    /// Records a part that could not be collected; its error is redacted like any text.
    pub(crate) fn missing(&mut self, part: &str, source: &str, error: impl Display) {
        let error = redact::text(&error.to_string()).0.into_owned();
        self.manifest.missing.push(Missing {
            part: part.to_owned(),
            source: source.to_owned(),
            error,
        });
    }

    /// Adds a note to the manifest.
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.manifest.notes.push(text.into());
    }

    /// The manifest, to record what the diagnosis could not read.
    pub(crate) fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    fn append(
        &mut self,
        path: &str,
        source: &str,
        bytes: &[u8],
        redactions: usize,
    ) -> anyhow::Result<()> {
        self.append_entry(path, bytes)?;
        self.manifest.files.push(FileEntry {
            path: path.to_owned(),
            source: source.to_owned(),
            bytes: bytes.len() as u64,
            redactions,
        });
        Ok(())
    }

    fn append_entry(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        let full = format!("{}/{path}", self.root);
        self.tar
            .append_data(&mut header, &full, bytes)
            .with_context(|| format!("cannot add {full} to the bundle"))
    }

    /// Writes the manifest, completes the archive and moves it to `out`. Without `force`, an
    /// `out` that appeared meanwhile is left alone and this fails.
    pub(crate) fn finish(mut self) -> anyhow::Result<Written> {
        let written = Written {
            files: self.manifest.files.len(),
            missing: self.manifest.missing.len(),
            redactions: self.manifest.files.iter().map(|f| f.redactions).sum(),
        };
        let mut tree =
            serde_json::to_value(&self.manifest).context("cannot serialise the manifest")?;
        redact::value(&mut tree);
        let mut bytes =
            serde_json::to_vec_pretty(&tree).context("cannot serialise the manifest")?;
        bytes.push(b'\n');
        self.append_entry("manifest.json", &bytes)?;
        let gz = self
            .tar
            .into_inner()
            .context("cannot complete the bundle's tar stream")?;
        let mut file = gz
            .finish()
            .context("cannot complete the bundle's compression")?;
        file.flush()
            .and_then(|()| file.as_file().sync_all())
            .context("cannot write the bundle to disk")?;
        let out = &self.out;
        let persisted = if self.force {
            file.persist(out)
        } else {
            file.persist_noclobber(out)
        };
        persisted.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} appeared while collecting; give --force to replace it",
                    out.display()
                )
            } else {
                anyhow::Error::new(e.error)
                    .context(format!("cannot move the bundle to {}", out.display()))
            }
        })?;
        Ok(written)
    }
}

/// How [`Bundle::add_read`] writes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Indented JSON.
    Json,
    /// YAML, as `kubectl get -o yaml` writes.
    Yaml,
}

/// Runs one read under the progress display.
pub(crate) async fn read<T, E>(
    progress: &Progress,
    what: impl Into<String>,
    read: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let step = progress.begin(what);
    let result = read.await;
    step.end(result.is_ok());
    result
}

/// A name made safe as one path segment inside the bundle.
pub(crate) fn segment(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.as_str() {
        "" | "." | ".." => "_".repeat(safe.len().max(1)),
        _ => safe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read as _;

    fn manifest() -> Manifest {
        Manifest {
            tool: "nodemend",
            version: "0",
            created: "2026-01-02T03:04:05Z".parse().unwrap(),
            since: "2026-01-01T03:04:05Z".parse().unwrap(),
            cluster: None,
            node: None,
            redaction: manifest::REDACTION,
            files: Vec::new(),
            missing: Vec::new(),
            snapshot_read_failures: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn entries(path: &Path) -> Vec<(String, String)> {
        let mut archive = tar::Archive::new(GzDecoder::new(std::fs::File::open(path).unwrap()));
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().display().to_string();
                let mut text = String::new();
                e.read_to_string(&mut text).unwrap();
                (name, text)
            })
            .collect()
    }

    #[test]
    fn files_are_redacted_listed_and_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("b.tar.gz");
        let mut bundle = Bundle::create(&out, false, manifest()).unwrap();
        bundle
            .add_text("logs/a.log", "log", "password=hunter2\n")
            .unwrap();
        bundle
            .add_yaml(
                "k/pods.yaml",
                "list pods",
                &serde_json::json!({"env": [{"name": "API_TOKEN", "value": "t0k3n"}]}),
            )
            .unwrap();
        bundle
            .add_read::<(), _>("k/gone.yaml", "get", Err("403 forbidden"), Format::Yaml)
            .unwrap();
        let written = bundle.finish().unwrap();
        assert_eq!(
            written,
            Written {
                files: 2,
                missing: 1,
                redactions: 2
            }
        );
        let files = entries(&out);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "nodemend-bundle-20260102T030405Z/logs/a.log",
                "nodemend-bundle-20260102T030405Z/k/pods.yaml",
                "nodemend-bundle-20260102T030405Z/manifest.json"
            ]
        );
        let all: String = files.iter().map(|(_, t)| t.as_str()).collect();
        assert!(!all.contains("hunter2") && !all.contains("t0k3n"), "{all}");
        let manifest: Value = serde_json::from_str(&files[2].1).unwrap();
        assert_eq!(manifest["missing"][0]["part"], "k/gone.yaml");
        assert_eq!(manifest["files"][1]["redactions"], 1);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the bundle remains");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
        }
    }

    #[test]
    fn an_existing_file_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("b.tar.gz");
        std::fs::write(&out, "precious").unwrap();
        let err = Bundle::create(&out, false, manifest()).err().unwrap();
        assert!(err.to_string().contains("--force"), "{err}");
        let bundle = Bundle::create(&out, true, manifest()).unwrap();
        bundle.finish().unwrap();
        assert_eq!(entries(&out).len(), 1);
    }

    #[test]
    fn a_bundle_dropped_unfinished_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("b.tar.gz");
        let mut bundle = Bundle::create(&out, false, manifest()).unwrap();
        bundle.add_text("a", "x", "y").unwrap();
        drop(bundle);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_redaction_summary_survives_redaction() {
        assert_eq!(redact::text(manifest::REDACTION).1, 0);
    }

    #[test]
    fn names_become_single_safe_segments() {
        assert_eq!(
            segment("coredns-5d78c9869d-abcde"),
            "coredns-5d78c9869d-abcde"
        );
        assert_eq!(segment("../etc/passwd"), ".._etc_passwd");
        assert_eq!(segment(".."), "__");
        assert_eq!(segment(""), "_");
    }
}
