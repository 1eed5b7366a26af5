//! `nodemend demo`: a simulated cluster, the real controller against it, a live timeline and a
//! summary. Everything talks over the real protocols: the controller cannot tell the
//! simulators from a cluster and Azure.

mod expect;
mod outcome;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;

use crate::archiver::{self, ArchiveSink, ArchiverConfig};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;
use nodemend_azure::{ArmConfig, AzureProvider};
use nodemend_core::cloud::ClusterRef;
use nodemend_sim::scenario::Scenario;
use nodemend_sim::world::{SimWorld, WorldOptions};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::controller::{Controller, Metrics, Settings};
pub(crate) use expect::Check;
use outcome::{Outcome, observe};

/// The summary `--json` prints.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub(crate) scenario: String,
    pub(crate) description: String,
    pub(crate) passed: bool,
    pub(crate) seconds: f64,
    #[serde(flatten)]
    pub(crate) outcome: Outcome,
    pub(crate) expectations: Vec<Check>,
    /// The event archive the demo wrote, for `nodemend events` and `nodemend repairs`.
    pub(crate) archive: PathBuf,
}

/// Where the timeline goes: stdout, or stderr when stdout carries JSON.
pub(crate) struct Timeline {
    to_stderr: bool,
    start: Instant,
}

impl Timeline {
    fn line(&self, text: &str) {
        let secs = self.start.elapsed().as_secs_f64();
        let line = format!("{secs:>6.1}s  {text}\n");
        if self.to_stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

/// Options of one demo run.
pub(crate) struct DemoOptions {
    pub(crate) scenario: Scenario,
    pub(crate) json: bool,
    pub(crate) state_dir: PathBuf,
    pub(crate) kubeconfig: Option<PathBuf>,
}

fn provider(world: &SimWorld) -> anyhow::Result<AzureProvider> {
    let mut env: BTreeMap<String, String> = world.arm.env().into_iter().collect();
    // Authenticate like a controller on AKS: with the managed identity, not a secret.
    env.remove("AZURE_CLIENT_SECRET");
    env.insert("IDENTITY_ENDPOINT".into(), world.arm.identity_endpoint());
    let config = ArmConfig::from_env(|name| env.get(name).cloned(), None, None)?;
    Ok(AzureProvider::new(&config)?)
}

async fn wait_for_nodes(client: &kube::Client, want: usize) -> anyhow::Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let have = nodes
            .list(&ListParams::default())
            .await
            .map(|l| l.items.len())
            .unwrap_or(0);
        if have >= want {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {have} of {want} simulated nodes registered within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn settings(scenario: &Scenario) -> anyhow::Result<Settings> {
    let policy = scenario
        .policy
        .resolve()
        .context("the scenario's policy is invalid")?;
    let spec = &scenario.azure;
    Ok(Settings {
        policy,
        identity: "nodemend-demo".into(),
        election: None,
        cluster: Some(ClusterRef {
            subscription: spec.subscription.clone(),
            resource_group: spec.cluster.resource_group.clone(),
            name: spec.cluster.name.clone(),
        }),
        min_pass_interval: Duration::from_millis(100),
        archive: None,
        leading: Arc::default(),
    })
}

fn start_controller(
    world: &SimWorld,
    cloud: &Arc<AzureProvider>,
    scenario: &Scenario,
    archive: &ArchiveSink,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, watch::Sender<bool>)> {
    let (stop, stopped) = watch::channel(false);
    let client = world.client.clone();
    let cloud = Arc::clone(cloud);
    let mut settings = settings(scenario)?;
    settings.archive = Some(archive.clone());
    let handle = tokio::spawn(async move {
        let metrics = Arc::new(Metrics::new());
        let ready = Arc::new(AtomicBool::new(false));
        if let Err(err) = Controller::run(client, cloud, settings, metrics, ready, stopped).await {
            tracing::error!(error = %err, "controller stopped");
        }
    });
    Ok((handle, stop))
}

/// Plays the scenario and returns the summary.
pub(crate) async fn play(options: DemoOptions) -> anyhow::Result<Summary> {
    let DemoOptions {
        scenario,
        json,
        state_dir,
        kubeconfig,
    } = options;
    let timeline = Timeline {
        to_stderr: json,
        start: Instant::now(),
    };
    timeline.line(&format!(
        "scenario {}: {}",
        scenario.name, scenario.description
    ));
    let archive_path = state_dir.join("archive.db");
    let world = SimWorld::start(
        scenario.clone(),
        WorldOptions {
            kubeconfig,
            state_dir,
        },
    )
    .await
    .context("cannot start the simulated cluster")?;
    nodemend_kube::crd::install(&world.client).await?;
    wait_for_nodes(&world.client, world.fleet.nodes().len()).await?;
    timeline.line(&format!(
        "{} nodes Ready; Kubernetes API at {}, ARM at {}",
        world.fleet.nodes().len(),
        world
            .api
            .as_ref()
            .map_or_else(|| world.kubeconfig.display().to_string(), |a| a.url()),
        world.arm.url()
    ));
    let cloud = Arc::new(provider(&world)?);
    let (stop_archive, archive_stopped) = watch::channel(false);
    let archive = archiver::start(
        world.client.clone(),
        ArchiverConfig::new(archive_path.clone()),
        Arc::new(Metrics::new()),
        archive_stopped,
    )
    .await?;
    let (mut controller, mut stop) = start_controller(&world, &cloud, &scenario, &archive.sink)?;
    timeline.line("nodemend controller started");
    let mut restarts = world.controller_restarts();
    let resolve = |r: &str| world.resolve(r);
    let deadline =
        Instant::now() + Duration::try_from(scenario.duration()).unwrap_or(Duration::from_secs(90));
    let mut seen_events = BTreeSet::new();
    let mut ready_of: BTreeMap<String, bool> = BTreeMap::new();
    let mut outcome = observe(&world.client, &world.arm).await?;
    let mut checks;
    loop {
        report_changes(&timeline, &outcome, &mut seen_events, &mut ready_of);
        checks = expect::check(&scenario.expect, &outcome, &resolve);
        let done = !checks.is_empty() && checks.iter().all(|c| c.ok);
        if done || Instant::now() >= deadline {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            Ok(()) = restarts.recv() => {
                controller.abort();
                let _ = stop.send(true);
                timeline.line("controller killed; starting a new one");
                (controller, stop) = start_controller(&world, &cloud, &scenario, &archive.sink)?;
            }
        }
        outcome = observe(&world.client, &world.arm).await?;
    }
    let _ = stop.send(true);
    controller.abort();
    stop_archive.send_replace(true);
    if let Err(err) = archive.done.await {
        tracing::warn!(error = %err, "the event archive did not close cleanly");
    }
    world.stop();
    let passed = checks.iter().all(|c| c.ok);
    Ok(Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        passed,
        seconds: (timeline.start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        outcome,
        expectations: checks,
        archive: archive_path,
    })
}

fn report_changes(
    timeline: &Timeline,
    outcome: &Outcome,
    seen: &mut BTreeSet<(String, String, String)>,
    ready_of: &mut BTreeMap<String, bool>,
) {
    let mut changed = false;
    for node in &outcome.nodes {
        if ready_of.insert(node.name.clone(), node.ready) != Some(node.ready) {
            changed = true;
            let state = if node.ready { "Ready" } else { "NotReady" };
            timeline.line(&format!("{:<40} {state}", node.name));
        }
    }
    if changed {
        let mut pools: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for n in &outcome.nodes {
            let entry = pools.entry(n.pool.as_deref().unwrap_or("-")).or_default();
            entry.1 += 1;
            if n.ready {
                entry.0 += 1;
            }
        }
        let health: Vec<String> = pools
            .iter()
            .map(|(p, (r, t))| format!("{p} {r}/{t} Ready"))
            .collect();
        timeline.line(&format!("{:<40} {}", "pools:", health.join(", ")));
    }
    for event in &outcome.events {
        let key = (
            event.node.clone(),
            event.reason.clone(),
            event.message.clone(),
        );
        if seen.insert(key) {
            timeline.line(&format!(
                "{:<40} {} {}: {}",
                event.node, event.kind, event.reason, event.message
            ));
        }
    }
}

/// The summary as text.
pub(crate) fn render(summary: &Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nSummary of {} ({} s)",
        summary.scenario, summary.seconds
    );
    for node in &summary.outcome.nodes {
        let steps: Vec<String> = node
            .actions
            .iter()
            .map(|a| match &a.error_code {
                Some(code) => format!("{} {} ({code})", a.action, a.result),
                None => format!("{} {}", a.action, a.result),
            })
            .collect();
        let state = if node.ready { "Ready" } else { "NotReady" };
        let repair = node.repair.as_deref().unwrap_or("no repair");
        let _ = writeln!(
            out,
            "  {:<40} {state:<9} {repair:<10} {}",
            node.name,
            steps.join(" → ")
        );
    }
    let _ = writeln!(
        out,
        "  ARM: {} calls, {} VM actions",
        summary.outcome.arm_calls.total, summary.outcome.arm_calls.vm_actions
    );
    for check in &summary.expectations {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {mark} {} — {}", check.expectation, check.observed);
    }
    let archive = summary.archive.display();
    let _ = writeln!(
        out,
        "  events and repairs archived in {archive}:\n    nodemend events --archive {archive} --type Warning\n    nodemend repairs --archive {archive}"
    );
    let _ = writeln!(out, "{}", if summary.passed { "PASSED" } else { "FAILED" });
    out
}
