//! `nodemend collect`: an evidence bundle for a support ticket. Runs the same collection as
//! `nodemend diagnose`, then writes the report in every format, Kubernetes objects and logs,
//! the archive's rows for the window and the Azure state into one redacted `.tar.gz`
//! (see [`crate::bundle`] and docs/collect.md).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use nodemend_core::catalog::Catalog;
use nodemend_core::diagnosis::{Snapshot, diagnose};

use crate::bundle::manifest::{ClusterInfo, Manifest, REDACTION};
use crate::bundle::{self, Bundle, kubernetes};
use crate::collect::{self, ActivityFilter, Progress, Window};
use crate::commands::diagnose::{SourceArgs, open_sources};
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};
use crate::report::{self, Format, Options};
use crate::style::Style;
use crate::window::{Moment, parse_window};

/// Arguments of `nodemend collect`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend collect -g my-rg -n my-aks --out bundle.tar.gz
  nodemend collect -g my-rg -n my-aks --node aks-nodepool1-12345678-vmss000003 --out node3.tar.gz
  nodemend collect --kubeconfig ~/.kube/config --since 72h --out bundle.tar.gz --force

The bundle holds the diagnosis report (text, JSON, Markdown, HTML) and its snapshot; nodes,
pods and events of kube-system and of --node; container logs of kube-system pods and of the
pods on --node (the last 10,000 lines, at most 1 MiB each, and the previous instance of a
restarted container); the event archive's events and repairs of the window; the VMs' instance
views and the activity log. manifest.json lists every file with its source, and every part
that could not be collected with the error: a failed read never stops the bundle.

Secret objects are never read, and secrets in what is read (secret-looking environment
variables, tokens, JWTs, SAS signatures, storage keys, passwords in URLs) are replaced with
[REDACTED]; docs/collect.md has the rules. Still, look through a bundle before sending it.

The bundle is written beside --out and renamed into place when complete; an existing --out is
kept unless --force is given. Exit status: 0 when the bundle was written (whatever is missing
from it), 1 when it could not be, 2 for a usage error.")]
pub(crate) struct CollectArgs {
    #[command(flatten)]
    sources: SourceArgs,

    /// A node to collect in detail: its object, pods, events, logs and VM instance view.
    #[arg(long, value_name = "NODE")]
    node: Option<String>,

    /// Where to write the bundle (a .tar.gz file).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// Replace --out if it exists.
    #[arg(long)]
    force: bool,

    /// How far back to read the activity log and the archive (`24h`, `90m`, `7d`).
    #[arg(long, default_value = "24h", value_parser = parse_window, value_name = "DURATION")]
    since: SignedDuration,

    /// The event archive to read (default: archive.db in the state directory).
    #[arg(long, env = "NODEMEND_ARCHIVE", value_name = "FILE")]
    archive: Option<PathBuf>,

    /// Read the logs of at most this many pods: the node's first, then kube-system pods that
    /// are not ready or restarted, then the rest of kube-system.
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_log_pods: usize,

    /// No progress on standard error.
    #[arg(long, short)]
    quiet: bool,

    /// Log format (logs go to standard error; `RUST_LOG` sets the level, default info).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The snapshot with [`bundle::redact::value`] applied, and how many secrets that removed.
fn redacted(snapshot: &Snapshot) -> Result<(Snapshot, usize), serde_json::Error> {
    let mut tree = serde_json::to_value(snapshot)?;
    let count = bundle::redact::value(&mut tree);
    Ok((serde_json::from_value(tree)?, count))
}

/// Runs `nodemend collect`.
pub(crate) fn run(args: CollectArgs) -> anyhow::Result<Outcome> {
    logging::init(args.log_format);
    bundle::refuse_existing(&args.out, args.force)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(collect_command(args))
}

async fn collect_command(args: CollectArgs) -> anyhow::Result<Outcome> {
    let progress = Progress::stderr(args.quiet);
    let (sources, target) = open_sources(&args.sources, &progress).await?;
    let now = Timestamp::now();
    let since = Moment::Ago(args.since).resolve(now).context("--since")?;
    let manifest = Manifest {
        tool: "nodemend",
        version: env!("CARGO_PKG_VERSION"),
        created: now,
        since,
        cluster: match (&target.resource_group, &target.cluster) {
            (Some(group), Some(name)) => Some(ClusterInfo {
                subscription: target.subscription.clone(),
                resource_group: group.clone(),
                name: name.clone(),
            }),
            _ => None,
        },
        node: args.node.clone(),
        redaction: REDACTION,
        files: Vec::new(),
        missing: Vec::new(),
        snapshot_read_failures: Vec::new(),
        notes: Vec::new(),
    };
    let mut bundle = Bundle::create(&args.out, args.force, manifest)?;

    let window = Window {
        now,
        since,
        activity: ActivityFilter::All,
    };
    let snapshot = collect::snapshot(target, &sources, window, &progress).await;
    // The report is made from the redacted snapshot, so no format can carry a secret in a shape
    // its own escaping hides from the text rules.
    let snapshot = match redacted(&snapshot) {
        Ok((clean, count)) => {
            if count > 0 {
                bundle.note(format!(
                    "{count} secrets were redacted from the diagnosis snapshot before the report was made"
                ));
            }
            clean
        }
        Err(error) => {
            bundle.note(format!(
                "the snapshot could not be redacted as data ({error}); the report is redacted as text only"
            ));
            snapshot
        }
    };
    let catalog = Catalog::builtin();
    let report = diagnose(&snapshot, catalog);
    let options = Options {
        explain: true,
        style: Style::forced(false),
    };
    for (format, file) in [
        (Format::Text, "report/report.txt"),
        (Format::Json, "report/report.json"),
        (Format::Markdown, "report/report.md"),
        (Format::Html, "report/report.html"),
    ] {
        match report::render(&report, catalog, format, options) {
            Ok(text) => bundle.add_text(file, "nodemend diagnose --explain", &text)?,
            Err(error) => bundle.missing(file, "nodemend diagnose --explain", format!("{error:#}")),
        }
    }
    bundle.add_json(
        "report/snapshot.json",
        "the diagnosis snapshot (nodemend diagnose --save-snapshot)",
        &snapshot,
    )?;
    bundle.manifest_mut().snapshot_read_failures = snapshot.read_failures.clone();

    match &snapshot.azure {
        Some(azure) => bundle::azure::from_snapshot(&mut bundle, azure)?,
        None => bundle.note("Azure not read: give -g/-n and a subscription for the Azure part"),
    }

    let mut provider_id = None;
    match &sources.kubernetes {
        Some(client) => {
            let request = kubernetes::Request {
                client,
                node: args.node.as_deref(),
                max_log_pods: args.max_log_pods,
                progress: &progress,
            };
            provider_id = kubernetes::collect(&mut bundle, &request).await?;
        }
        None => bundle.note("Kubernetes not read: no kubeconfig was found (give --kubeconfig)"),
    }
    if let (Some(node), Some(id), Some((provider, _))) =
        (args.node.as_deref(), provider_id, &sources.azure)
    {
        bundle::azure::node_instance_view(&mut bundle, provider, node, &id, &progress).await?;
    }

    let archive = args.archive.unwrap_or_else(crate::paths::default_archive);
    bundle::archive::collect(&mut bundle, archive, since, args.node.as_deref(), &progress).await?;
    progress.finish();

    let written = bundle.finish()?;
    progress.say(&format!(
        "bundle written to {}: {} files, {} secrets redacted, {} parts missing{}",
        args.out.display(),
        written.files,
        written.redactions,
        written.missing,
        if written.missing > 0 {
            " (listed in manifest.json)"
        } else {
            ""
        }
    ));
    Ok(Outcome::Success)
}
