//! Diagnosis of a 1,000-node, 10-pool cluster with 100,000 activity-log records against the
//! simulators: wall time of `nodemend diagnose --format json` (the real binary, as a user runs
//! it), the ARM calls it made (from the simulator's call log), and its memory (peak resident
//! set, which the binary reports in its closing debug log line). Prints figures; asserts
//! nothing but that the diagnosis ran.
//!
//! `cargo bench -p nodemend --bench diagnose` (`NODEMEND_BENCH_NODES`, `NODEMEND_BENCH_POOLS`,
//! `NODEMEND_BENCH_RECORDS`, `NODEMEND_BENCH_RUNS` change the sizes). The simulators (Kubernetes
//! API server, ARM, one kubelet per VM) run in this process; the diagnosis runs in its own, so
//! its time and memory are its own.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use jiff::SignedDuration;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use nodemend_sim::arm::ErrorSpec;
use nodemend_sim::arm::spec::ActivitySpec;
use nodemend_sim::scenario::Scenario;
use nodemend_sim::world::{SimWorld, WorldOptions};
use serde_json::Value;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SUB: &str = "00000000-0000-0000-0000-000000000001";

/// The cluster: `pools` pools of `nodes / pools` VMs, slow kubelets (the load on the simulated
/// API server is not what is measured), two kube-system pods per pool and a failed pool.
fn scenario(nodes: usize, pools: usize) -> Scenario {
    let per_pool = nodes / pools;
    let mut text = String::from(
        "name = \"bench-diagnose\"\ndescription = \"1,000 nodes in 10 pools, 100,000 activity-log records\"\n\n[kubernetes]\nnode_grace = \"1h\"\nlease_interval = \"5m\"\nstatus_interval = \"10m\"\n\n[azure.cluster]\nname = \"aks-bench\"\nresource_group = \"rg-bench\"\n",
    );
    for p in 0..pools {
        let state = if p == 3 { "Failed" } else { "Succeeded" };
        text.push_str(&format!(
            "\n[[azure.pools]]\nname = \"pool{p}\"\nmode = \"{}\"\ncount = {per_pool}\nvm_size = \"Standard_D4s_v5\"\nprovisioning_state = \"{state}\"\nscale_set = \"aks-pool{p}-vmss\"\nsubnet_id = \"/subscriptions/{SUB}/resourceGroups/rg-bench/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pool{p}\"\n",
            if p == 0 { "System" } else { "User" }
        ));
        if p == 3 {
            text.push_str("error = { code = \"AllocationFailed\", message = \"Allocation failed. We do not have sufficient capacity for the requested VM size in this region.\" }\n");
        }
        text.push_str(&format!(
            "\n[[azure.subnets]]\nid = \"/subscriptions/{SUB}/resourceGroups/rg-bench/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pool{p}\"\naddress_prefix = \"10.{p}.0.0/22\"\nip_configurations = {per_pool}\n"
        ));
        text.push_str(&format!(
            "\n[[kubernetes.pods]]\nname = \"coredns-pool{p}\"\nnamespace = \"kube-system\"\ncount = 2\n"
        ));
    }
    text.push_str(
        "\n[[azure.usages]]\nprovider = \"Microsoft.Compute\"\nname = \"cores\"\ncurrent = 4000\nlimit = 5000\n\n[[azure.usages]]\nprovider = \"Microsoft.Compute\"\nname = \"standardDSv5Family\"\ncurrent = 4000\nlimit = 5000\n",
    );
    Scenario::parse("bench-diagnose", &text).unwrap_or_else(|e| panic!("{e}"))
}

/// `records` activity-log records over the last 23 hours: VM and scale-set operations in the
/// node resource group, agent-pool writes in the cluster's; one in a hundred failed.
fn activity(records: usize, pools: usize, per_pool: usize) -> Vec<ActivitySpec> {
    let node_rg = format!("/subscriptions/{SUB}/resourceGroups/MC_rg-bench_aks-bench_westeurope");
    let cluster = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-bench/providers/Microsoft.ContainerService/managedClusters/aks-bench"
    );
    let codes = [
        (
            "AllocationFailed",
            "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.",
        ),
        (
            "VMExtensionProvisioningError",
            "VM has reported a failure when processing extension 'vmssCSE'. exit status=50",
        ),
        (
            "OperationNotAllowed",
            "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota.",
        ),
        (
            "InternalExecutionError",
            "An internal execution error occurred.",
        ),
    ];
    (0..records)
        .map(|i| {
            let pool = i % pools;
            let vmss = format!(
                "{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-pool{pool}-vmss"
            );
            let (operation, resource_id) = match i % 10 {
                0 => (
                    "Microsoft.ContainerService/managedClusters/agentPools/write".to_owned(),
                    format!("{cluster}/agentPools/pool{pool}"),
                ),
                1 | 2 => (
                    "Microsoft.Compute/virtualMachineScaleSets/write".to_owned(),
                    vmss,
                ),
                _ => (
                    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/restart/action"
                        .to_owned(),
                    format!("{vmss}/virtualMachines/{}", i % per_pool.max(1)),
                ),
            };
            let failed = i % 100 == 7;
            let secs = 60 + (i as i64 * 82_800 / records.max(1) as i64);
            ActivitySpec {
                ago: Some(SignedDuration::from_secs(secs)),
                operation,
                status: if failed { "Failed" } else { "Succeeded" }.into(),
                resource_id,
                caller: "aks-resourceprovider".into(),
                correlation_id: format!("00000000-0000-4000-8000-{i:012}"),
                error: failed.then(|| {
                    let (code, message) = codes[(i / 100) % codes.len()];
                    ErrorSpec {
                        code: code.into(),
                        message: message.into(),
                        details: Vec::new(),
                    }
                }),
                ..ActivitySpec::default()
            }
        })
        .collect()
}

async fn wait_for_nodes(client: &kube::Client, want: usize) {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut seen = BTreeSet::new();
    let stream = watcher(nodes, watcher::Config::default()).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let all = async {
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::Apply(n) | watcher::Event::InitApply(n)) = event {
                seen.insert(n.metadata.name.unwrap_or_default());
            }
            if seen.len() >= want {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(300), all)
        .await
        .expect("every simulated node registers within 5 minutes");
}

/// The slowest reads of a run, from the binary's `read` log lines: `name (ms)`.
fn slowest_reads(stderr: &[u8], n: usize) -> String {
    let mut reads: Vec<(u64, String)> = String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "read")
        .map(|v| {
            (
                v["ms"].as_u64().unwrap_or(0),
                v["read"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    reads.sort_by_key(|r| std::cmp::Reverse(r.0));
    reads
        .iter()
        .take(n)
        .map(|(ms, read)| format!("{read} ({ms} ms)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fields of the binary's `diagnosis done` log line.
fn closing_line(stderr: &[u8]) -> Value {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "diagnosis done")
        .unwrap_or(Value::Null)
}

fn main() {
    let nodes = env_or("NODEMEND_BENCH_NODES", 1000);
    let pools = env_or("NODEMEND_BENCH_POOLS", 10).max(1);
    let records = env_or("NODEMEND_BENCH_RECORDS", 100_000);
    let runs = env_or("NODEMEND_BENCH_RUNS", 3).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut scenario = scenario(nodes, pools);
        scenario.azure.activity_log = activity(records, pools, nodes / pools);
        let dir = tempfile::tempdir().expect("temporary directory");
        let setup = Instant::now();
        let world = SimWorld::start(
            scenario,
            WorldOptions {
                kubeconfig: None,
                state_dir: dir.path().to_owned(),
            },
        )
        .await
        .expect("simulators start");
        wait_for_nodes(&world.client, world.fleet.nodes().len()).await;
        println!(
            "diagnosis bench: {} nodes in {pools} pools, {records} activity-log records; simulators ready in {:.1} s",
            world.fleet.nodes().len(),
            setup.elapsed().as_secs_f64()
        );
        let env_text = std::fs::read_to_string(dir.path().join("azure.env")).expect("azure.env");
        let env: Vec<(String, String)> = env_text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let kubeconfig = world.kubeconfig.display().to_string();
        println!(
            "{:<14} {:>4} {:>9} {:>10} {:>8} {:>9} {:>12} {:>9} {:>9}",
            "activity read", "run", "wall ms", "collect ms", "rules ms", "ARM calls", "records read", "findings", "peak MiB"
        );
        let modes: [(&str, &[&str]); 2] = [("failed (default)", &[]), ("all", &["--all-activity"])];
        for ((mode, extra), run) in modes
            .iter()
            .flat_map(|m| (1..=runs).map(move |r| (*m, r)))
        {
            let before = world.arm.calls().iter().filter(|c| c.is_arm()).count();
            let mut command = Command::new(env!("CARGO_BIN_EXE_nodemend"));
            command
                .args(["diagnose", "--format", "json", "--quiet", "--log-format", "json"])
                .args(["--kubeconfig", &kubeconfig])
                .args(extra)
                .envs(env.iter().cloned())
                .env(
                    "RUST_LOG",
                    "warn,nodemend::commands::diagnose=debug,nodemend::collect=debug",
                )
                .env_remove("KUBECONFIG")
                .stdin(Stdio::null());
            let started = Instant::now();
            let out = tokio::task::spawn_blocking(move || command.output().expect("run nodemend"))
                .await
                .expect("the binary's thread");
            let wall = started.elapsed();
            assert!(
                out.status.success(),
                "diagnose failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
            let arm_calls = world.arm.calls().iter().filter(|c| c.is_arm()).count() - before;
            let done = closing_line(&out.stderr);
            let kib = done["peak_rss_kib"].as_f64().unwrap_or(0.0);
            println!(
                "{mode:<14} {run:>4} {:>9} {:>10} {:>8} {:>9} {:>12} {:>9} {:>9.1}",
                wall.as_millis(),
                done["collect_ms"],
                done["rules_ms"],
                arm_calls,
                done["activity_records"],
                report["summary"]["total"],
                kib / 1024.0,
            );
            println!("     slowest reads: {}", slowest_reads(&out.stderr, 3));
        }
        world.stop();
    });
}
