//! Load figures of the simulated API server: registers 5,000 nodes (Node + Lease), renews every
//! lease every 10 s like kubelets do, and prints the simulator's CPU share and memory, watch
//! delivery latency (p50/p99) and requests per second. Prints figures; asserts nothing.
//!
//! `cargo bench -p nodemend-sim --bench apiserver` (`NODEMEND_BENCH_NODES`, `NODEMEND_BENCH_SECS`
//! change the fleet size and the measured window). The simulator runs in a child process (this
//! binary again) on a single-threaded runtime, so its CPU and memory are read from
//! `/proc/<pid>` apart from the load generator's.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Api, Client, Config, ResourceExt};
use nodemend_sim::apiserver::{ApiServer, ApiServerConfig};
use serde_json::json;

const RENEW_PERIOD: Duration = Duration::from_secs(10);
/// One node status post per this many lease renewals (10 s × 30 = every 5 minutes per node).
const STATUS_EVERY: usize = 30;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Environment variable that makes this binary the simulator's process.
const ROLE: &str = "NODEMEND_BENCH_ROLE";

/// CPU seconds a process has used (user + system), from /proc (Linux, 100 ticks/s).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory of a process in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The child process: serves until its stdin closes.
fn serve() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = ApiServer::start(ApiServerConfig::default())
            .await
            .expect("simulator starts");
        println!("{}", server.url());
        tokio::task::spawn_blocking(|| {
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new())
        })
        .await
        .ok();
        server.shutdown().await.expect("clean shutdown");
    });
}

/// Starts the simulator process; returns it and its URL.
fn start_simulator() -> (std::process::Child, String) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = std::process::Command::new(exe)
        .env(ROLE, "server")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("simulator process");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut url = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut url).expect("URL line");
    (child, url.trim().to_owned())
}

fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "kubernetes.azure.com/agentpool": "np1", "kubernetes.io/os": "linux" } },
        "spec": { "providerID": format!("azure:///subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np1-vmss/virtualMachines/{name}") },
        "status": {
            "capacity": { "cpu": "4", "memory": "16Gi", "pods": "110" },
            "allocatable": { "cpu": "3860m", "memory": "12Gi", "pods": "110" },
            "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                "lastHeartbeatTime": Timestamp::now().to_string(), "lastTransitionTime": Timestamp::now().to_string() }],
            "nodeInfo": { "kubeletVersion": "v1.33.2", "bootID": name, "osImage": "Ubuntu 22.04.5 LTS" }
        }
    }))
    .expect("node")
}

fn lease(name: &str) -> Lease {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "kube-node-lease" },
        "spec": { "holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": MicroTime(Timestamp::now()) }
    }))
    .expect("lease")
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    if std::env::var(ROLE).is_ok() {
        return serve();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(load());
}

async fn load() {
    let nodes = env_or("NODEMEND_BENCH_NODES", 5000) as usize;
    let secs = env_or("NODEMEND_BENCH_SECS", 60);
    let (mut child, url) = start_simulator();
    let pid = child.id();
    let rss_before = rss_mib(pid);
    let client = Client::try_from(Config::new(url.parse().expect("url"))).expect("client");
    let node_api: Api<Node> = Api::all(client.clone());
    let lease_api: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let names: Vec<String> = (0..nodes)
        .map(|i| format!("aks-np1-12345678-vmss{i:06}"))
        .collect();

    let started = Instant::now();
    let cpu0 = cpu_secs(pid);
    let leases: Vec<Lease> = stream::iter(names.iter().cloned())
        .map(|n| {
            let (node_api, lease_api) = (node_api.clone(), lease_api.clone());
            async move {
                node_api
                    .create(&PostParams::default(), &node(&n))
                    .await
                    .expect("node registered");
                lease_api
                    .create(&PostParams::default(), &lease(&n))
                    .await
                    .expect("lease created")
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let registration = started.elapsed();
    let reg_cpu = cpu_secs(pid) - cpu0;
    println!(
        "registered {nodes} nodes and leases in {:.1} s ({:.0} req/s, simulator CPU {:.1} s)",
        registration.as_secs_f64(),
        (2 * nodes) as f64 / registration.as_secs_f64(),
        reg_cpu
    );

    let latencies = Arc::new(Mutex::new(Vec::<u64>::new()));
    let start_rv = lease_api
        .list_metadata(&Default::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default();
    let watch = {
        let (lease_api, latencies) = (lease_api.clone(), latencies.clone());
        tokio::spawn(async move {
            let wp = WatchParams::default().timeout(u32::try_from(secs + 30).unwrap_or(u32::MAX));
            let mut events = lease_api
                .watch(&wp, &start_rv)
                .await
                .expect("watch")
                .boxed();
            while let Ok(Some(ev)) = events.try_next().await {
                if let WatchEvent::Modified(l) = ev
                    && let Some(sent) = l.spec.and_then(|s| s.renew_time)
                {
                    let micros = Timestamp::now().duration_since(sent.0).as_micros();
                    latencies
                        .lock()
                        .expect("latencies")
                        .push(u64::try_from(micros).unwrap_or(0));
                }
            }
        })
    };
    let mut node_watch = node_api
        .watch(&WatchParams::default(), "0")
        .await
        .expect("node watch")
        .boxed();
    let initial_nodes =
        tokio::spawn(async move { while let Ok(Some(_)) = node_watch.try_next().await {} });

    let rss_registered = rss_mib(pid);
    let cpu1 = cpu_secs(pid);
    let t1 = Instant::now();
    let mut tick = tokio::time::interval(RENEW_PERIOD / u32::try_from(nodes).unwrap_or(u32::MAX));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut current = leases;
    let mut i = 0usize;
    let mut inflight = Vec::new();
    let mut status_posts = Vec::new();
    let deadline = t1 + Duration::from_secs(secs);
    let requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
    while Instant::now() < deadline {
        tick.tick().await;
        let mut l = current[i % nodes].clone();
        if let Some(spec) = l.spec.as_mut() {
            spec.renew_time = Some(MicroTime(Timestamp::now()));
        }
        let (api, done) = (lease_api.clone(), requests.clone());
        inflight.push(tokio::spawn(async move {
            let renewed = api
                .replace(&l.name_any(), &PostParams::default(), &l)
                .await
                .expect("renewed");
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            renewed
        }));
        if i.is_multiple_of(STATUS_EVERY) {
            // Kubelets with leases post node status every 5 minutes: one in 30 renewals.
            let name = names[(i / STATUS_EVERY) % nodes].clone();
            let (api, done) = (node_api.clone(), requests.clone());
            status_posts.push(tokio::spawn(async move {
                let now = Timestamp::now().to_string();
                let ready = json!({ "status": { "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady",
                    "message": "kubelet is posting ready status", "lastHeartbeatTime": now }] } });
                api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(ready)).await.expect("status posted");
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }));
        }
        i += 1;
        if inflight.len() >= 256 {
            for h in status_posts.drain(..) {
                h.await.expect("status task");
            }
            for (k, h) in inflight.drain(..).enumerate() {
                let idx = (i - 256 + k) % nodes;
                current[idx] = h.await.expect("renewal task");
            }
        }
    }
    for h in inflight.drain(..) {
        h.await.expect("renewal task");
    }
    for h in status_posts.drain(..) {
        h.await.expect("status task");
    }
    let window = t1.elapsed().as_secs_f64();
    let cpu = cpu_secs(pid) - cpu1;
    let rss_end = rss_mib(pid);
    let done = requests.load(std::sync::atomic::Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *latencies.lock().expect("latencies"));
    lat.sort_unstable();
    println!(
        "steady state: {window:.0} s, {done} requests (lease renewals, node status posts), {:.0} req/s",
        done as f64 / window
    );
    println!(
        "simulator CPU: {:.1}% of one core ({cpu:.1} s over {window:.0} s)",
        100.0 * cpu / window
    );
    println!(
        "simulator RSS: {rss_before:.0} MiB empty, {rss_registered:.0} MiB after registration, {rss_end:.0} MiB at the end"
    );
    println!(
        "watch delivery latency over {} events: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
    watch.abort();
    initial_nodes.abort();
    drop(child.stdin.take());
    child.wait().expect("simulator exits");
}
