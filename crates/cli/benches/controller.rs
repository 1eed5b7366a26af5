//! The controller benchmark (issue 5): `nodemend run`, the release binary, as its own process
//! against a simulated cluster of 5,000 nodes, and figures for what it costs and how fast it
//! reacts. Prints figures; asserts nothing.
//!
//! `cargo bench -p nodemend --bench controller`. Environment: `NODEMEND_BENCH_NODES` (5000),
//! `NODEMEND_BENCH_POOLS` (10), `NODEMEND_BENCH_FAILING` (50), `NODEMEND_BENCH_THRESHOLD_SECS`
//! (30), `NODEMEND_BENCH_STEADY_SECS` (60), `NODEMEND_BENCH_API_DELAY_MS` (0: added to every
//! request of the controller on its way to the API server, to play a slower server than the
//! simulator), `NODEMEND_BIN` (default: the `nodemend` binary cargo built for this bench, i.e.
//! the release profile).
//!
//! How (docs/controller.md has the details):
//! - This process runs the simulators in-process ([`SimWorld`]): the Kubernetes API server,
//!   the ARM simulator and one simulated kubelet per VM (lease every 10 s, status every 5 min).
//! - The controller reaches the API server through a counting proxy in this process, so every
//!   request it makes is counted by method and resource; its ARM calls are in the ARM
//!   simulator's call log (nothing else calls ARM over HTTP).
//! - After a steady window, two incidents on `FAILING` nodes each (spread over every pool): their
//!   kubelets stop at one instant (a node crosses the threshold at its last lease renewal, read
//!   back from its Lease, plus the threshold: crossings spread over one lease interval), then
//!   other nodes' kubelets report `Ready=False` at one instant (crossing at the condition's
//!   transition time plus the threshold: all at once). The repair call is the `Started` event
//!   the ARM simulator publishes when it accepts the node's restart (cross-checked against the
//!   call log's restart POSTs). Latency = accepted − crossed.
//! - Memory and CPU come from `/proc/<pid>/status` (VmRSS, VmHWM) and `/proc/<pid>/stat`
//!   (utime + stime, 100 ticks per second) of the controller process only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;
use nodemend_kube::crd::NodeRepair;
use nodemend_sim::arm::spec::VmOp;
use nodemend_sim::arm::{CallRecord, VmPhase};
use nodemend_sim::fleet::KubeletFault;
use nodemend_sim::scenario::Scenario;
use nodemend_sim::world::{SimWorld, WorldOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Lease renewal interval of the simulated kubelets (the kubelet default).
const LEASE_INTERVAL_SECS: u64 = 10;
/// How long a simulated restart takes.
const RESTART_SECS: u64 = 20;
/// Time from the controller being ready to the start of the steady window.
const SETTLE: Duration = Duration::from_secs(10);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets without it,
    // and this benchmark takes minutes, so it only runs when asked for.
    if !std::env::args().any(|a| a == "--bench") {
        self_check();
        println!(
            "controller benchmark: self-check passed; run it with `cargo bench -p nodemend --bench controller`"
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

struct Config {
    nodes: u64,
    pools: u64,
    failing: u64,
    threshold: u64,
    steady: u64,
    api_delay: Duration,
    binary: PathBuf,
}

impl Config {
    fn from_env() -> Self {
        let binary = std::env::var_os("NODEMEND_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_nodemend")),
            PathBuf::from,
        );
        Self {
            nodes: env_or("NODEMEND_BENCH_NODES", 5000),
            pools: env_or("NODEMEND_BENCH_POOLS", 10).max(1),
            failing: env_or("NODEMEND_BENCH_FAILING", 50),
            threshold: env_or("NODEMEND_BENCH_THRESHOLD_SECS", 30),
            steady: env_or("NODEMEND_BENCH_STEADY_SECS", 60),
            api_delay: Duration::from_millis(env_or("NODEMEND_BENCH_API_DELAY_MS", 0)),
            binary,
        }
    }
}

/// A generated scenario: `nodes` VMs in `pools` scale sets, kubelets renewing their lease every
/// 10 s and posting status when it changes and every 5 minutes otherwise (the kubelet's
/// defaults), restarts of 20 s.
fn scenario(c: &Config) -> anyhow::Result<Scenario> {
    let mut text = format!(
        "name = \"bench-{n}\"\n\
         description = \"Controller benchmark: {n} nodes in {p} pools.\"\n\
         duration = \"1h\"\n\
         [kubernetes]\n\
         lease_interval = \"{LEASE_INTERVAL_SECS}s\"\n\
         status_interval = \"5m\"\n\
         [azure.cluster]\n\
         name = \"aks-bench\"\n\
         resource_group = \"rg-bench\"\n\
         [azure.timing]\n\
         restart_secs = {RESTART_SECS}.0\n\
         poll_retry_after_secs = 5.0\n",
        n = c.nodes,
        p = c.pools,
    );
    for p in 0..c.pools {
        let count = c.nodes / c.pools + u64::from(p < c.nodes % c.pools);
        text.push_str(&format!(
            "[[azure.pools]]\nname = \"pool{p}\"\ncount = {count}\n"
        ));
    }
    Ok(Scenario::parse("bench", &text)?)
}

/// The policy the controller runs with: the defaults (reboot → reimage → redeploy, cordon,
/// events, 35% caps) but a 30 s threshold and concurrency limits that let every failing node
/// start at once, so the figure is the controller's reaction, not a queue.
fn policy(c: &Config) -> String {
    format!(
        "threshold: {}s\nmaxConcurrent: {}\ndefaults:\n  maxConcurrent: {}\n",
        c.threshold,
        c.failing.max(1),
        c.failing.div_ceil(c.pools).max(1),
    )
}

// ---------------------------------------------------------------------------------------------
// The counting proxy in front of the API server.

/// One request the controller sent to the API server.
#[derive(Debug, Clone)]
struct Request {
    at: Instant,
    method: String,
    target: String,
}

#[derive(Clone, Default)]
struct RequestLog {
    requests: Arc<Mutex<Vec<Request>>>,
    /// Connections whose requests could not be followed (chunked request bodies).
    lost: Arc<Mutex<u32>>,
}

impl RequestLog {
    fn push(&self, request: Request) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    fn between(&self, from: Instant, to: Instant) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|r| r.at >= from && r.at < to)
            .cloned()
            .collect()
    }

    fn lost(&self) -> u32 {
        *self.lost.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Follows the HTTP/1.1 requests in the client-to-server byte stream: request heads, and
/// bodies skipped by `Content-Length` (kube-rs always sends one).
#[derive(Default)]
struct RequestParser {
    pending: Vec<u8>,
    body_left: usize,
    lost: bool,
    /// Request heads seen so far.
    seen: usize,
}

impl RequestParser {
    fn feed(&mut self, data: &[u8], log: &RequestLog) {
        if self.lost {
            return;
        }
        self.pending.extend_from_slice(data);
        loop {
            if self.body_left > 0 {
                let n = self.body_left.min(self.pending.len());
                if n == 0 {
                    return;
                }
                self.pending.drain(..n);
                self.body_left -= n;
                continue;
            }
            let Some(end) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                return;
            };
            let head: Vec<u8> = self.pending.drain(..end + 4).collect();
            let head = String::from_utf8_lossy(&head);
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or_default().split(' ');
            let method = first.next().unwrap_or_default().to_owned();
            let target = first.next().unwrap_or_default().to_owned();
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                if name.eq_ignore_ascii_case("content-length") {
                    self.body_left = value.trim().parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    self.lost = true;
                    *log.lost.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                }
            }
            log.push(Request {
                at: Instant::now(),
                method,
                target,
            });
            self.seen += 1;
            if self.lost {
                return;
            }
        }
    }
}

/// Listens on loopback and relays every connection to `upstream`, logging requests, each held
/// back by `delay` (to play a slower API server).
async fn start_proxy(
    upstream: SocketAddr,
    log: RequestLog,
    delay: Duration,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(upstream).await {
                    let _ = relay(client, server, log, delay).await;
                }
            });
        }
    });
    Ok(addr)
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    log: RequestLog,
    delay: Duration,
) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    });
    let mut parser = RequestParser::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from_client.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let before = parser.seen;
        parser.feed(&buf[..n], &log);
        let new = u32::try_from(parser.seen - before).unwrap_or(u32::MAX);
        if new > 0 && !delay.is_zero() {
            tokio::time::sleep(delay * new).await;
        }
        to_server.write_all(&buf[..n]).await?;
    }
    let _ = to_server.shutdown().await;
    let _ = down.await;
    Ok(())
}

/// `LIST nodes`, `WATCH leases`, `PATCH noderepairs/status`, `POST events`...
fn request_kind(method: &str, target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segs.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return format!("{method} {path}"),
    };
    let rest = match rest {
        ["namespaces", _ns, inner @ ..] if !inner.is_empty() => inner,
        other => other,
    };
    let resource = rest.first().copied().unwrap_or("?");
    let watch = query
        .split('&')
        .any(|kv| kv == "watch=true" || kv == "watch=1");
    let verb = match (method, rest.len()) {
        ("GET", _) if watch => "WATCH",
        ("GET", 1) => "LIST",
        (m, _) => m,
    };
    match rest.get(2) {
        Some(sub) => format!("{verb} {resource}/{sub}"),
        None => format!("{verb} {resource}"),
    }
}

fn by_kind(requests: &[Request]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in requests {
        *out.entry(request_kind(&r.method, &r.target)).or_default() += 1;
    }
    out
}

fn describe(kinds: &BTreeMap<String, usize>) -> String {
    let parts: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}

// ---------------------------------------------------------------------------------------------
// The controller process.

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    rss_kib: u64,
    cpu_secs: f64,
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU seconds used (user + system), from /proc (100 ticks per second).
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

fn sample(pid: u32) -> Sample {
    Sample {
        at: Instant::now(),
        rss_kib: status_kib(pid, "VmRSS:"),
        cpu_secs: cpu_secs(pid),
    }
}

/// Samples the controller's memory and CPU twice a second.
fn start_sampler(pid: u32) -> Arc<Mutex<Vec<Sample>>> {
    let samples = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&samples);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            let s = sample(pid);
            if s.rss_kib == 0 {
                break;
            }
            out.lock().unwrap_or_else(PoisonError::into_inner).push(s);
        }
    });
    samples
}

struct Window {
    cpu_secs: f64,
    secs: f64,
    rss_mean_mib: f64,
    rss_max_mib: f64,
}

impl Window {
    fn cpu_percent(&self) -> f64 {
        100.0 * self.cpu_secs / self.secs.max(1e-9)
    }
}

fn window(samples: &Mutex<Vec<Sample>>, from: Instant, to: Instant) -> Window {
    let samples = samples.lock().unwrap_or_else(PoisonError::into_inner);
    let inside: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at <= to)
        .collect();
    let (Some(first), Some(last)) = (inside.first(), inside.last()) else {
        return Window {
            cpu_secs: 0.0,
            secs: 0.0,
            rss_mean_mib: 0.0,
            rss_max_mib: 0.0,
        };
    };
    Window {
        cpu_secs: last.cpu_secs - first.cpu_secs,
        secs: last.at.duration_since(first.at).as_secs_f64(),
        rss_mean_mib: inside.iter().map(|s| mib(s.rss_kib)).sum::<f64>() / inside.len() as f64,
        rss_max_mib: inside.iter().map(|s| mib(s.rss_kib)).fold(0.0, f64::max),
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `true` when the controller's `/readyz` answers 200 (its caches are loaded).
async fn ready(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return false;
    };
    if stream
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    answer.starts_with(b"HTTP/1.0 200") || answer.starts_with(b"HTTP/1.1 200")
}

fn spawn_controller(
    c: &Config,
    world: &SimWorld,
    dir: &Path,
    proxy: SocketAddr,
    metrics: SocketAddr,
) -> anyhow::Result<Child> {
    let kubeconfig = dir.join("controller-kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: http://{proxy}\n\
             users:\n- name: bench\n  user:\n    token: nodemend-sim\n\
             contexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n\
             current-context: bench\n"
        ),
    )?;
    let policy_path = dir.join("policy.yaml");
    std::fs::write(&policy_path, policy(c))?;
    let log = std::fs::File::create(dir.join("controller.log"))?;
    let child = Command::new(&c.binary)
        .args([
            "run",
            "--no-leader-election",
            "--no-archive",
            "--log-format",
            "json",
        ])
        .arg("--policy")
        .arg(&policy_path)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--metrics-addr")
        .arg(metrics.to_string())
        .envs(world.arm.env())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", c.binary.display()))?;
    Ok(child)
}

/// When the controller logged `message` for each node (from its JSON log).
fn logged(dir: &Path, message: &str) -> BTreeMap<String, Timestamp> {
    let text = std::fs::read_to_string(dir.join("controller.log")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["message"] != message {
            continue;
        }
        let (Some(node), Some(at)) = (v["node"].as_str(), v["timestamp"].as_str()) else {
            continue;
        };
        if let Ok(at) = at.parse::<Timestamp>() {
            out.entry(node.to_owned()).or_insert(at);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The run.

/// Waits until every kubelet has registered its node and its lease.
async fn wait_for_fleet(client: &kube::Client, want: usize) -> anyhow::Result<()> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let have = leases
            .list(&ListParams::default())
            .await
            .map_or(0, |l| l.items.len());
        if have >= want {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {have} of {want} kubelets registered within 10 minutes"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Waits until every node is `Ready=True` (a node the simulator's node lifecycle marked
/// `Unknown` while a loaded machine delayed its kubelet comes back at its next status post,
/// within 5 minutes); returns how many are not, at the deadline.
async fn wait_until_ready(client: &kube::Client, deadline: Instant) -> anyhow::Result<usize> {
    let nodes: Api<Node> = Api::all(client.clone());
    loop {
        let not_ready = nodes
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|n| {
                !n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        if not_ready == 0 || Instant::now() > deadline {
            return Ok(not_ready);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn spread(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "p50 {:.3} s, p90 {:.3} s, p99 {:.3} s, min {:.3} s, max {:.3} s (n = {})",
        percentile(&v, 50.0),
        percentile(&v, 90.0),
        percentile(&v, 99.0),
        v.first().copied().unwrap_or(f64::NAN),
        v.last().copied().unwrap_or(f64::NAN),
        v.len()
    )
}

fn secs_between(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64()
}

fn arm_calls_between(calls: &[CallRecord], from: Timestamp, to: Timestamp) -> Vec<&CallRecord> {
    calls.iter().filter(|c| c.at >= from && c.at < to).collect()
}

fn describe_arm(calls: &[&CallRecord]) -> String {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for c in calls {
        let last = c.path.rsplit('/').next().unwrap_or_default();
        let kind = if c.is_token() {
            "token".to_owned()
        } else if c.method == "GET" && c.path.contains("/operations/") {
            "GET operation".to_owned()
        } else {
            format!("{} …/{last}", c.method)
        };
        *kinds.entry(kind).or_default() += 1;
    }
    describe(&kinds)
}

async fn bench() -> anyhow::Result<()> {
    let c = Config::from_env();
    anyhow::ensure!(
        c.binary.exists(),
        "no controller binary at {} (cargo build --release -p nodemend, or set NODEMEND_BIN)",
        c.binary.display()
    );
    let dir =
        std::env::temp_dir().join(format!("nodemend-bench-controller-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "controller benchmark: {} nodes in {} pools, {} failing, threshold {} s, lease every {} s, {} ms added to each API request; {} CPUs; controller {}",
        c.nodes,
        c.pools,
        c.failing,
        c.threshold,
        LEASE_INTERVAL_SECS,
        c.api_delay.as_millis(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        c.binary.display()
    );

    // The simulated cluster.
    let begun = Instant::now();
    let world = SimWorld::start(
        scenario(&c)?,
        WorldOptions {
            kubeconfig: None,
            state_dir: dir.clone(),
        },
    )
    .await?;
    nodemend_kube::crd::install(&world.client).await?;
    let nodes = world.fleet.nodes();
    wait_for_fleet(&world.client, nodes.len()).await?;
    println!(
        "simulated cluster: {} nodes and leases registered in {:.1} s",
        nodes.len(),
        begun.elapsed().as_secs_f64()
    );
    let not_ready =
        wait_until_ready(&world.client, Instant::now() + Duration::from_secs(360)).await?;
    if not_ready > 0 {
        println!("WARNING: {not_ready} nodes still not Ready: figures include their repairs");
    }
    let api = world
        .api
        .as_ref()
        .map(nodemend_sim::apiserver::ApiServerHandle::addr)
        .context("the embedded API server")?;
    let log = RequestLog::default();
    let proxy = start_proxy(api, log.clone(), c.api_delay).await?;

    // The controller.
    let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let spawned = Instant::now();
    let spawned_wall = Timestamp::now();
    let mut child = spawn_controller(&c, &world, &dir, proxy, metrics)?;
    let pid = child.id();
    let samples = start_sampler(pid);
    let deadline = spawned + Duration::from_secs(120);
    while !ready(metrics).await {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!(
                "the controller exited ({status}); see {}",
                dir.join("controller.log").display()
            );
        }
        anyhow::ensure!(Instant::now() < deadline, "controller not ready in 120 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready_at = Instant::now();
    let start_cpu = cpu_secs(pid);
    let start_hwm = status_kib(pid, "VmHWM:");
    tokio::time::sleep(SETTLE).await;
    let steady_from = Instant::now();
    let steady_from_wall = Timestamp::now();
    tokio::time::sleep(Duration::from_secs(c.steady)).await;
    let steady_to = Instant::now();
    let steady_to_wall = Timestamp::now();
    let steady_hwm = status_kib(pid, "VmHWM:");

    let steady = window(&samples, steady_from, steady_to);
    let at_start = log.between(spawned, steady_from);
    let in_steady = log.between(steady_from, steady_to);
    let calls = world.arm.calls();
    let arm_start = arm_calls_between(&calls, spawned_wall, steady_from_wall);
    let arm_steady = arm_calls_between(&calls, steady_from_wall, steady_to_wall);
    println!();
    println!(
        "controller pid {pid}; {} CPUs shared by the controller, this process (API server, ARM, {} kubelets) and other builds",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        nodes.len()
    );
    println!(
        "start: ready (caches loaded) {:.2} s after spawn, {:.2} s CPU by then; RSS peak at ready {:.1} MiB",
        ready_at.duration_since(spawned).as_secs_f64(),
        start_cpu,
        mib(start_hwm)
    );
    println!(
        "  Kubernetes API requests (spawn → ready + {} s): {} — {}",
        SETTLE.as_secs(),
        at_start.len(),
        describe(&by_kind(&at_start))
    );
    println!(
        "  ARM requests: {} — {}",
        arm_start.len(),
        describe_arm(&arm_start)
    );
    println!(
        "steady ({:.0} s, no failures): RSS mean {:.1} MiB, max {:.1} MiB, peak so far (VmHWM) {:.1} MiB; CPU {:.2} s = {:.2}% of one core",
        steady.secs,
        steady.rss_mean_mib,
        steady.rss_max_mib,
        mib(steady_hwm),
        steady.cpu_secs,
        steady.cpu_percent()
    );
    println!(
        "  Kubernetes API requests: {} — {}",
        in_steady.len(),
        describe(&by_kind(&in_steady))
    );
    println!(
        "  ARM requests: {} — {}",
        arm_steady.len(),
        describe_arm(&arm_steady)
    );

    let probe = Probe {
        world: &world,
        c: &c,
        pid,
        samples: &samples,
        log: &log,
        dir: &dir,
    };
    for (n, fault) in [Fault::KubeletStopped, Fault::NotReady]
        .into_iter()
        .enumerate()
    {
        let failing = pick(&world, &c, n as u64);
        probe.incident(fault, &failing).await?;
    }
    println!(
        "memory overall: RSS now {:.1} MiB, peak (VmHWM) {:.1} MiB",
        mib(status_kib(pid, "VmRSS:")),
        mib(status_kib(pid, "VmHWM:"))
    );
    println!("controller log: {}", dir.join("controller.log").display());
    let _ = child.kill();
    let _ = child.wait();
    world.stop();
    Ok(())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `failing` nodes spread evenly over the pools; `round` shifts the choice so that each
/// incident hits other nodes.
fn pick(world: &SimWorld, c: &Config, round: u64) -> Vec<String> {
    let per_pool = (c.nodes / c.pools).max(1);
    let in_pool = c.failing.div_ceil(c.pools).max(1);
    let stride = (per_pool / in_pool).max(1);
    let shift = (round * stride / 2).min(stride - 1);
    (0..c.failing)
        .filter_map(|i| {
            let pool = i % c.pools;
            let index = (i / c.pools) * stride + shift;
            world.resolve(&format!("pool{pool}/{index}"))
        })
        .collect()
}

/// What fails in an incident.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// The kubelets stop: detected by the lease; crossings spread over one lease interval
    /// (each node's last renewal).
    KubeletStopped,
    /// The kubelets report `Ready=False` at the same instant: detected by the condition; every
    /// node crosses the threshold at once.
    NotReady,
}

struct Probe<'a> {
    world: &'a SimWorld,
    c: &'a Config,
    pid: u32,
    samples: &'a Mutex<Vec<Sample>>,
    log: &'a RequestLog,
    dir: &'a Path,
}

impl Probe<'_> {
    /// Breaks `failing` nodes at one instant, waits for every repair to end, prints figures.
    async fn incident(&self, fault: Fault, failing: &[String]) -> anyhow::Result<()> {
        let world = self.world;
        let records: Api<NodeRepair> = Api::all(world.client.clone());
        let running = records
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|r| {
                r.status.as_ref().is_none_or(|s| {
                    !matches!(s.phase.as_str(), "Succeeded" | "GaveUp" | "Cancelled")
                })
            })
            .count();
        if running > 0 {
            println!("WARNING: {running} repairs already running before the incident");
        }
        let mut events = world.arm.subscribe();
        let accepted: Arc<Mutex<BTreeMap<String, Timestamp>>> = Arc::default();
        let others: Arc<Mutex<Vec<String>>> = Arc::default();
        {
            let accepted = Arc::clone(&accepted);
            let others = Arc::clone(&others);
            let failing = failing.to_vec();
            tokio::spawn(async move {
                while let Ok(event) = events.recv().await {
                    if event.phase != VmPhase::Started {
                        continue;
                    }
                    if failing.contains(&event.computer_name) {
                        accepted
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .entry(event.computer_name)
                            .or_insert(event.at);
                    } else {
                        others
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(event.computer_name);
                    }
                }
            });
        }
        let from = Instant::now();
        let from_wall = Timestamp::now();
        let offset_before = secs_between(from_wall, world.arm.clock().now());
        let cured_by = vec![VmOp::Restart, VmOp::Reimage, VmOp::Redeploy];
        for node in failing {
            let kind = match fault {
                Fault::KubeletStopped => KubeletFault::Stopped,
                Fault::NotReady => KubeletFault::NotReady("container runtime is down".into()),
            };
            world.fleet.inject(node, kind, cured_by.clone());
        }
        let injected_in = from.elapsed();
        // When each node crosses the threshold, from what the API server holds once the
        // last renewal or status in flight at the fault has landed.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let threshold = SignedDuration::from_secs(i64::try_from(self.c.threshold)?);
        let mut crossed: BTreeMap<String, Timestamp> = BTreeMap::new();
        for node in failing {
            let since = match fault {
                Fault::KubeletStopped => {
                    let leases: Api<Lease> =
                        Api::namespaced(world.client.clone(), "kube-node-lease");
                    leases
                        .get(node)
                        .await?
                        .spec
                        .and_then(|s| s.renew_time)
                        .map(|t| t.0)
                        .context("a lease without renewTime")?
                }
                Fault::NotReady => {
                    let nodes: Api<Node> = Api::all(world.client.clone());
                    nodes
                        .get(node)
                        .await?
                        .status
                        .and_then(|s| s.conditions)
                        .unwrap_or_default()
                        .into_iter()
                        .find(|c| c.type_ == "Ready" && c.status == "False")
                        .and_then(|c| c.last_transition_time)
                        .map(|t| t.0)
                        .context("a NotReady node without a Ready=False condition")?
                }
            };
            crossed.insert(node.clone(), since + threshold);
        }

        // Every repair call, then every repair's end.
        let deadline =
            Instant::now() + Duration::from_secs(self.c.threshold + LEASE_INTERVAL_SECS + 60);
        while accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
            < failing.len()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(RESTART_SECS + 180);
        let ended = loop {
            let list = records.list(&ListParams::default()).await?;
            let ended = list
                .items
                .iter()
                .filter(|r| failing.contains(&r.spec.node))
                .filter(|r| {
                    r.status.as_ref().is_some_and(|s| {
                        matches!(s.phase.as_str(), "Succeeded" | "GaveUp" | "Cancelled")
                    })
                })
                .count();
            if ended >= failing.len() || Instant::now() > deadline {
                break ended;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        // Let the last uncordon and events go out before the window closes.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let to = Instant::now();
        let to_wall = Timestamp::now();
        let offset_after = secs_between(to_wall, world.arm.clock().now());
        let repairs_total = records.list(&ListParams::default()).await?.items.len();

        // ARM times are simulated: at time scale 1 they run with the wall clock, from the
        // moment the simulator started; `offset_before` is the difference (a few ms at most).
        let shift = SignedDuration::try_from(Duration::from_secs_f64(offset_before.abs()))
            .unwrap_or_default();
        let wall = |sim: Timestamp| {
            if offset_before >= 0.0 {
                sim - shift
            } else {
                sim + shift
            }
        };
        let accepted = accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let started_log = logged(self.dir, "repair started");
        let sent_log = logged(self.dir, "sending repair action");
        let mut latency = Vec::new();
        let mut to_started = Vec::new();
        let mut started_to_sent = Vec::new();
        let mut sent_to_arm = Vec::new();
        for (node, cross) in &crossed {
            let Some(arm) = accepted.get(node).map(|a| wall(*a)) else {
                continue;
            };
            latency.push(secs_between(*cross, arm));
            if let (Some(s), Some(t)) = (started_log.get(node), sent_log.get(node)) {
                to_started.push(secs_between(*cross, *s));
                started_to_sent.push(secs_between(*s, *t));
                sent_to_arm.push(secs_between(*t, arm));
            }
        }
        let crossings: Vec<Timestamp> = crossed.values().copied().collect();
        let crossing_spread = match (crossings.iter().min(), crossings.iter().max()) {
            (Some(a), Some(b)) => secs_between(*a, *b),
            _ => 0.0,
        };
        let calls = world.arm.calls();
        let window_calls = arm_calls_between(&calls, from_wall, to_wall);
        // Each accepted restart has its POST in the call log (stamped when answered).
        let restarts: Vec<&&CallRecord> = window_calls
            .iter()
            .filter(|c| c.method == "POST" && c.path.ends_with("/restart"))
            .collect();
        let gap = accepted
            .values()
            .filter_map(|at| {
                restarts
                    .iter()
                    .map(|c| secs_between(*at, c.at))
                    .filter(|g| *g >= 0.0)
                    .reduce(f64::min)
            })
            .fold(0.0, f64::max);
        let usage = window(self.samples, from, to);
        let requests = self.log.between(from, to);

        println!();
        println!(
            "incident: {} nodes {} at one instant ({:.1} ms to inject); threshold crossings spread over {:.1} s",
            failing.len(),
            match fault {
                Fault::KubeletStopped => "lose their kubelet (lease detection)",
                Fault::NotReady => "turn Ready=False (condition detection)",
            },
            injected_in.as_secs_f64() * 1000.0,
            crossing_spread
        );
        println!(
            "  threshold crossing → ARM restart accepted: {}",
            spread(&latency)
        );
        println!(
            "    crossing → \"repair started\" (NodeRepair created): {}",
            spread(&to_started)
        );
        println!(
            "    \"repair started\" → \"sending repair action\" (cordon, event): {}",
            spread(&started_to_sent)
        );
        println!(
            "    \"sending repair action\" → ARM accepted: {}",
            spread(&sent_to_arm)
        );
        println!(
            "  checks: repairs ended {ended}/{}; NodeRepair records in the cluster {repairs_total}; VM actions on other nodes {}; restart POSTs in the ARM call log {} (each ≤ {:.4} s after its VM event); ARM clock − wall clock {:+.4} s before, {:+.4} s after",
            failing.len(),
            others.lock().unwrap_or_else(PoisonError::into_inner).len(),
            restarts.len(),
            gap,
            offset_before,
            offset_after
        );
        println!(
            "  controller: CPU {:.2} s in {:.0} s = {:.2}% of one core; RSS max {:.1} MiB, peak so far (VmHWM) {:.1} MiB",
            usage.cpu_secs,
            usage.secs,
            usage.cpu_percent(),
            usage.rss_max_mib,
            mib(status_kib(self.pid, "VmHWM:"))
        );
        println!(
            "  Kubernetes API requests (fault → every repair ended, {:.0} s): {} — {}",
            to.duration_since(from).as_secs_f64(),
            requests.len(),
            describe(&by_kind(&requests))
        );
        println!(
            "  ARM requests: {} — {}",
            window_calls.len(),
            describe_arm(&window_calls)
        );
        if self.log.lost() > 0 {
            println!(
                "  (requests of {} connections could not be followed)",
                self.log.lost()
            );
        }
        Ok(())
    }
}

/// Checks of the request accounting, run instead of the benchmark when the binary is started
/// without `--bench` (as `cargo test --all-targets` does): quick, and they fail loudly.
fn self_check() {
    assert_eq!(
        request_kind("GET", "/api/v1/nodes?&limit=500"),
        "LIST nodes"
    );
    assert_eq!(
        request_kind(
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?&watch=true&resourceVersion=5"
        ),
        "WATCH leases"
    );
    assert_eq!(
        request_kind("PATCH", "/apis/nodemend.io/v1alpha1/noderepairs/n1/status?"),
        "PATCH noderepairs/status"
    );
    assert_eq!(request_kind("PATCH", "/api/v1/nodes/n1?"), "PATCH nodes");
    assert_eq!(
        request_kind("POST", "/api/v1/namespaces/default/events?"),
        "POST events"
    );
    assert_eq!(request_kind("GET", "/version"), "GET /version");

    let log = RequestLog::default();
    let mut parser = RequestParser::default();
    let stream: &[u8] = b"POST /api/v1/namespaces/default/events HTTP/1.1\r\ncontent-length: 4\r\n\r\nbodyGET /api/v1/nodes HTTP/1.1\r\n\r\n";
    for chunk in stream.chunks(7) {
        parser.feed(chunk, &log);
    }
    let seen: Vec<String> = log
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|r| request_kind(&r.method, &r.target))
        .collect();
    assert_eq!(seen, ["POST events", "LIST nodes"]);
    assert_eq!(log.lost(), 0);

    let v: Vec<f64> = (1..=50).map(f64::from).collect();
    assert_eq!(percentile(&v, 50.0), 25.0);
    assert_eq!(percentile(&v, 99.0), 50.0);
    assert!(percentile(&[], 50.0).is_nan());
}
