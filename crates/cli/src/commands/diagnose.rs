//! `nodemend diagnose`: collect one snapshot of a cluster (Azure, Kubernetes, or both), run every
//! diagnosis rule over it, and print the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use jiff::{SignedDuration, Timestamp};

use crate::window::{Moment, parse_window};
use nodemend_core::catalog::{Catalog, Severity};
use nodemend_core::diagnosis::{Target, diagnose};

use crate::collect::{self, ActivityFilter, Progress, Sources, Window};
use crate::connect::{AzureArgs, kube_client};
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};
use crate::report::{self, Format, Options};
use crate::style::Style;

/// Where to read a cluster from; shared by `diagnose` and `reconcile`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SourceArgs {
    #[command(flatten)]
    pub(crate) azure: AzureArgs,

    /// Kubeconfig of the cluster (default: KUBECONFIG, ~/.kube/config, or the in-cluster
    /// account; when none is found, only Azure is read).
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
}

/// Arguments of `nodemend diagnose`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend diagnose -g my-rg -n my-aks
  nodemend diagnose -g my-rg -n my-aks --since 72h --format html --out report.html
  nodemend diagnose --kubeconfig ~/.kube/config --format json --fail-on warning

Reads the cluster once (Azure Resource Manager with -g/-n and a subscription, the Kubernetes
API with a kubeconfig, or both), runs every rule, and prints each finding with its evidence,
cause, remedy and the commands that fix it. Exit status: 0 when the diagnosis ran (whatever it
found), 3 when --fail-on is given and a finding at or above that severity exists, 1 when the
diagnosis could not run, 2 for a usage error. A read that fails (permission, throttling, no
answer) is a finding of its own; the rest of the diagnosis still runs.")]
pub(crate) struct DiagnoseArgs {
    #[command(flatten)]
    sources: SourceArgs,

    /// How far back to read the activity log and events (`24h`, `90m`, `7d`).
    #[arg(long, default_value = "24h", value_parser = parse_window, value_name = "DURATION")]
    since: SignedDuration,

    /// Read every activity-log record of the window, not only failed operations (the rules
    /// read failed ones; a complete record is for --save-snapshot, and slower on busy clusters).
    #[arg(long)]
    all_activity: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Exit with status 3 when a finding at or above this severity exists (critical counts
    /// above error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,

    /// Add the full catalog entry (causes, every remedy step, related codes) to each finding.
    #[arg(long)]
    explain: bool,

    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Save the collected snapshot (JSON) to FILE, to diagnose again or attach to a ticket.
    #[arg(long, value_name = "FILE")]
    save_snapshot: Option<PathBuf>,

    /// No progress on standard error.
    #[arg(long, short)]
    quiet: bool,

    /// Log format (logs go to standard error; `RUST_LOG` sets the level, default info).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The severities `--fail-on` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Any finding.
    Info,
    /// Warnings, errors and critical findings.
    Warning,
    /// Errors and critical findings.
    Error,
}

impl From<FailOn> for Severity {
    fn from(value: FailOn) -> Self {
        match value {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
        }
    }
}

/// The sources the arguments name. Azure needs resource group, name and subscription; a
/// missing kubeconfig is fatal only when it was named or when there is no Azure side either.
pub(crate) async fn open_sources(
    args: &SourceArgs,
    progress: &Progress,
) -> anyhow::Result<(Sources, Target)> {
    let a = &args.azure;
    let target = Target {
        subscription: a.subscription.clone(),
        resource_group: a.resource_group.clone(),
        cluster: a.cluster.clone(),
    };
    let azure = match (&a.resource_group, &a.cluster) {
        (None, None) => None,
        (Some(_), None) => {
            anyhow::bail!("-g/--resource-group is given but not -n/--name (or NODEMEND_CLUSTER)")
        }
        (None, Some(_)) => anyhow::bail!(
            "-n/--name is given but not -g/--resource-group (or NODEMEND_RESOURCE_GROUP)"
        ),
        (Some(_), Some(_)) => {
            let cluster = a.cluster_ref().context(
                "no subscription for the cluster: give --subscription or set AZURE_SUBSCRIPTION_ID",
            )?;
            Some((a.provider()?, cluster))
        }
    };
    let kubernetes = match (&args.kubeconfig, &azure) {
        (Some(path), _) => Some(kube_client(Some(path)).await?),
        (None, Some(_)) => match kube_client(None).await {
            Ok(client) => Some(client),
            Err(err) => {
                progress.say(&format!("{err}: reading Azure only"));
                tracing::debug!(error = %format!("{err:#}"), "no Kubernetes configuration; Azure only");
                None
            }
        },
        (None, None) => Some(kube_client(None).await.context(
            "nothing to diagnose: give -g/-n for Azure (with a subscription), a kubeconfig for Kubernetes, or both",
        )?),
    };
    Ok((Sources { azure, kubernetes }, target))
}

/// Runs `nodemend diagnose`.
pub(crate) fn run(args: DiagnoseArgs) -> anyhow::Result<Outcome> {
    logging::init(args.log_format);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(diagnose_command(args))
}

async fn diagnose_command(args: DiagnoseArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let progress = Progress::stderr(args.quiet);
    let (sources, target) = open_sources(&args.sources, &progress).await?;
    let now = Timestamp::now();
    let since = Moment::Ago(args.since).resolve(now).context("--since")?;
    let window = Window {
        now,
        since,
        activity: if args.all_activity {
            ActivityFilter::All
        } else {
            ActivityFilter::Failed
        },
    };
    let snapshot = collect::snapshot(target, &sources, window, &progress).await;
    let collected = started.elapsed();
    if let Some(path) = &args.save_snapshot {
        let json = serde_json::to_vec_pretty(&snapshot).context("cannot serialise the snapshot")?;
        std::fs::write(path, json)
            .with_context(|| format!("cannot write the snapshot to {}", path.display()))?;
    }
    let catalog = Catalog::builtin();
    let report = diagnose(&snapshot, catalog);
    let diagnosed = started.elapsed();
    let style = match &args.out {
        Some(_) => Style::forced(false),
        None => Style::stdout(),
    };
    let text = report::render(
        &report,
        catalog,
        args.format,
        Options {
            explain: args.explain,
            style,
        },
    )?;
    write_out(args.out.as_deref(), &text)?;
    if let Some(path) = &args.out {
        progress.say(&format!("report written to {}", path.display()));
    }
    tracing::debug!(
        findings = report.findings.len(),
        read_failures = snapshot.read_failures.len(),
        activity_records = snapshot.azure.as_ref().map_or(0, |a| a.activity.len()),
        arm_requests = sources.azure.as_ref().map_or(0, |(p, _)| p
            .executor()
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)),
        collect_ms = collected.as_millis() as u64,
        rules_ms = (diagnosed - collected).as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        peak_rss_kib = peak_rss_kib(),
        "diagnosis done"
    );
    let fails = args
        .fail_on
        .is_some_and(|threshold| report.fails(threshold.into()));
    Ok(if fails {
        Outcome::Found
    } else {
        Outcome::Success
    })
}

fn write_out(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    match path {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .context("cannot write the report to standard output")
        }
    }
}

/// The process's peak resident memory (Linux `VmHWM`), for the closing log line.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_maps_to_severities() {
        assert_eq!(Severity::from(FailOn::Warning), Severity::Warning);
        assert_eq!(Severity::from(FailOn::Info), Severity::Info);
        assert_eq!(Severity::from(FailOn::Error), Severity::Error);
    }
}
