//! Archive figures: ingest rate and query latency over a large archive. Prints them; it is not
//! a test and asserts nothing about speed.
//!
//! `cargo bench -p nodemend-store --bench archive`; `NODEMEND_BENCH_EVENTS` sets the archive
//! size (default 10 million), `NODEMEND_BENCH_DIR` where the file goes (default a temporary
//! directory, removed at the end), `NODEMEND_BENCH_BATCH` the events per ingestion transaction
//! (default 1,000), `NODEMEND_BENCH_CHUNK` the rows per pruning transaction (default
//! `Retention::default().chunk`) and `NODEMEND_BENCH_MORE` the events ingested into the full
//! archive (default 200,000).

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nodemend_store::{Archive, ArchivedEvent, EventFilter, IngestStats, Retention};

/// splitmix64: a small deterministic generator, so every run stores the same events.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// (reason, type, object kind, weight per 10,000, message): a cluster's usual mix, with the
/// auto-repair reasons rare, as they are.
const MIX: &[(&str, &str, &str, u64, &str)] = &[
    (
        "Scheduled",
        "Normal",
        "Pod",
        1400,
        "Successfully assigned {ns}/{obj} to {node}",
    ),
    (
        "Pulling",
        "Normal",
        "Pod",
        1100,
        "Pulling image \"mcr.microsoft.com/oss/kubernetes/pause:3.6\"",
    ),
    (
        "Pulled",
        "Normal",
        "Pod",
        1100,
        "Successfully pulled image \"nginx:1.27\" in 1.204s (1.204s including waiting)",
    ),
    ("Created", "Normal", "Pod", 1100, "Created container {obj}"),
    ("Started", "Normal", "Pod", 1100, "Started container {obj}"),
    ("Killing", "Normal", "Pod", 800, "Stopping container {obj}"),
    (
        "SuccessfulCreate",
        "Normal",
        "ReplicaSet",
        500,
        "Created pod: {obj}",
    ),
    (
        "ScalingReplicaSet",
        "Normal",
        "Deployment",
        300,
        "Scaled up replica set {obj} to 3",
    ),
    (
        "BackOff",
        "Warning",
        "Pod",
        900,
        "Back-off restarting failed container {obj} in pod {obj}_{ns}",
    ),
    (
        "Unhealthy",
        "Warning",
        "Pod",
        700,
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
    ),
    (
        "FailedScheduling",
        "Warning",
        "Pod",
        400,
        "0/120 nodes are available: 3 Insufficient cpu, 117 node(s) didn't match Pod's node affinity/selector.",
    ),
    (
        "FailedMount",
        "Warning",
        "Pod",
        200,
        "MountVolume.SetUp failed for volume \"secrets\" : secret \"db\" not found",
    ),
    (
        "OOMKilling",
        "Warning",
        "Node",
        100,
        "Memory cgroup out of memory: Killed process 4242 (java)",
    ),
    (
        "NodeNotReady",
        "Normal",
        "Node",
        120,
        "Node {node} status is now: NodeNotReady",
    ),
    (
        "NodeReady",
        "Normal",
        "Node",
        100,
        "Node {node} status is now: NodeReady",
    ),
    (
        "NodeRebootStart",
        "Normal",
        "Node",
        40,
        "Node auto-repair reboot action started (try 1 of 3)",
    ),
    (
        "NodeRebootError",
        "Warning",
        "Node",
        20,
        "Node auto-repair reboot action failed due to an operation failure: VMExtensionProvisioningError",
    ),
    (
        "NodeReimageError",
        "Warning",
        "Node",
        10,
        "Node auto-repair reimage action failed due to an operation failure: InvalidParameter",
    ),
    (
        "NodeRedeployError",
        "Warning",
        "Node",
        5,
        "Node auto-repair redeploy action failed due to an operation failure: TooManyVMRedeploymentRequests",
    ),
    (
        "NodeRepairGaveUp",
        "Warning",
        "Node",
        5,
        "Node auto-repair gave up after 3 tries of the repair ladder; the node is left cordoned for a human",
    ),
];

/// A 500-node cluster in four pools.
const NODES: u64 = 500;
const NAMESPACES: u64 = 40;

struct Generator {
    rng: Rng,
    start: Timestamp,
    step_us: i64,
    n: u64,
    total_weight: u64,
}

impl Generator {
    /// `total` events spread evenly over the 90 days before `now`, in time order; events past
    /// `total` go on at the same pace after `now`.
    fn new(total: u64, now: Timestamp) -> Self {
        let span = SignedDuration::from_hours(90 * 24);
        Self {
            rng: Rng(7),
            start: now - span,
            step_us: (span.as_micros() / i128::from(total.max(1))) as i64,
            n: 0,
            total_weight: MIX.iter().map(|m| m.3).sum(),
        }
    }

    fn event(&mut self) -> ArchivedEvent {
        let mut pick = self.rng.below(self.total_weight);
        let (reason, kind, object_kind, _, message) = *MIX
            .iter()
            .find(|m| {
                if pick < m.3 {
                    return true;
                }
                pick -= m.3;
                false
            })
            .unwrap_or(&MIX[0]);
        let n = self.rng.below(NODES);
        let node = format!("aks-np{}-12345678-vmss{:06}", n % 4, n / 4);
        let ns = format!("team-{}", self.rng.below(NAMESPACES));
        let object = if object_kind == "Node" {
            node.clone()
        } else {
            format!(
                "svc-{}-7d9f8c6b5-{:05x}",
                self.rng.below(300),
                self.rng.below(1 << 20)
            )
        };
        let message = message
            .replace("{ns}", &ns)
            .replace("{obj}", &object)
            .replace("{node}", &node);
        let at = self.start + SignedDuration::from_micros(self.step_us * self.n as i64);
        self.n += 1;
        let count = if self.rng.below(10) < 8 {
            1
        } else {
            2 + self.rng.below(50) as u32
        };
        let (hi, lo) = (self.rng.next(), self.rng.next());
        let node_event = object_kind == "Node";
        ArchivedEvent {
            uid: format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0xfff,
                lo >> 48,
                lo & 0xffff_ffff_ffff
            ),
            namespace: if node_event {
                "default".into()
            } else {
                ns.clone()
            },
            name: format!("{object}.{:016x}", lo),
            object_kind: Some(object_kind.into()),
            object_name: Some(object),
            object_namespace: (!node_event).then_some(ns),
            node: Some(node),
            event_type: kind.into(),
            reason: reason.into(),
            message,
            source: Some(if node_event { "nodemend" } else { "kubelet" }.into()),
            first_seen: at - SignedDuration::from_mins(i64::from(count - 1)),
            last_seen: at,
            count,
            series_count: None,
            resource_version: Some((1_000_000 + self.n).to_string()),
        }
    }

    fn batch(&mut self, size: u64) -> Vec<ArchivedEvent> {
        (0..size).map(|_| self.event()).collect()
    }
}

/// CPU time (user and system) this process has used so far, from `/proc/self/stat`; zero where
/// that is not available. Beside the wall-clock rate it shows what the archive costs when other
/// processes share the machine.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // After the command name: state is field 3, utime 14 and stime 15 (in clock ticks).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn rate(events: u64, elapsed: Duration) -> String {
    format!("{:>9.0} events/s", events as f64 / elapsed.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:>8.2} ms", d.as_secs_f64() * 1000.0)
}

/// Time spent ingesting, the part of it spent pruning, and the CPU time used.
struct Ingestion {
    elapsed: Duration,
    pruning: Duration,
    pruned: u64,
    cpu: Duration,
}

impl Ingestion {
    fn describe(&self, events: u64) -> String {
        format!(
            "{}, {} per CPU second  (pruning {:.0}% of it: {} old events)",
            rate(events, self.elapsed),
            rate(events, self.cpu).trim_start(),
            100.0 * self.pruning.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9),
            self.pruned
        )
    }
}

/// Ingests `total` events from `generator` in batches of `batch`. Retention runs as the
/// controller runs it, between batches: here every 10,000 events, with the newest event's time
/// as `now` (event time runs faster than the clock in a benchmark); its cost counts as
/// ingestion time. Once the archive holds 90 days (after the fill), each round prunes about as
/// many events as it adds: the steady state of a full archive.
fn ingest(archive: &mut Archive, generator: &mut Generator, total: u64, batch: u64) -> Ingestion {
    let mut out = Ingestion {
        elapsed: Duration::ZERO,
        pruning: Duration::ZERO,
        pruned: 0,
        cpu: Duration::ZERO,
    };
    let cpu = cpu_time();
    let mut done = 0;
    let mut since_prune = 0;
    while done < total {
        let events = generator.batch(batch.min(total - done));
        let started = Instant::now();
        archive.ingest(&events).expect("ingest");
        since_prune += events.len();
        if since_prune >= 10_000 {
            let now = events.last().map_or(Timestamp::UNIX_EPOCH, |e| e.last_seen);
            let pruning = Instant::now();
            out.pruned += archive.prune(now, bench_retention()).expect("prune").events;
            out.pruning += pruning.elapsed();
            since_prune = 0;
        }
        out.elapsed += started.elapsed();
        done += events.len() as u64;
    }
    // Includes generating the events, a small part.
    out.cpu = cpu_time().saturating_sub(cpu);
    out
}

/// The default retention, with `NODEMEND_BENCH_CHUNK` rows per pruning transaction if set.
fn bench_retention() -> Retention {
    let default = Retention::default();
    Retention {
        chunk: std::env::var("NODEMEND_BENCH_CHUNK")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default.chunk),
        ..default
    }
}

/// Runs `query` once to warm up, then 7 times; prints the median and the worst.
fn time_query(archive: &Archive, label: &str, filter: &EventFilter, limit: usize) {
    let mut rows = archive.events(filter, limit).expect("query").len();
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let started = Instant::now();
            rows = archive.events(filter, limit).expect("query").len();
            started.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "  {label:<58} {rows:>6} rows  median {}  max {}",
        ms(times[3]),
        ms(times[6])
    );
}

fn main() {
    let total: u64 = std::env::var("NODEMEND_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = std::env::var("NODEMEND_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| temp.path().to_owned());
    let path = dir.join("bench-archive.db");
    let _ = std::fs::remove_file(&path);
    let now: Timestamp = "2026-06-01T00:00:00Z".parse().expect("time");
    let mut archive = Archive::open(&path).expect("open");
    let mut generator = Generator::new(total, now);
    println!(
        "nodemend-store archive benchmark: {total} events over 90 days, file {}",
        path.display()
    );

    let batch: u64 = std::env::var("NODEMEND_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    println!("ingest (batches of {batch} events, one transaction each):");
    let first = 100_000.min(total);
    let took = ingest(&mut archive, &mut generator, first, batch);
    println!("  {:<58} {}", "into an empty archive", took.describe(first));

    let started = Instant::now();
    let rest = total - first;
    let took = ingest(&mut archive, &mut generator, rest, 50_000);
    println!(
        "  {:<58} {}, {} per CPU second  ({:.0} s, batches of 50,000)",
        format!("filling to {total}"),
        rate(rest, took.elapsed),
        rate(rest, took.cpu).trim_start(),
        started.elapsed().as_secs_f64()
    );

    let more: u64 = std::env::var("NODEMEND_BENCH_MORE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let took = ingest(&mut archive, &mut generator, more, batch);
    println!(
        "  {:<58} {}",
        format!("into the full archive ({total} events)"),
        took.describe(more)
    );
    println!(
        "  {:<58} {:>9}",
        "UIDs the writer remembers",
        archive.remembered_uids()
    );

    // A re-list after a watch restart delivers again what the API server still holds: here the
    // last 3 hours of events (OpenShift's event TTL; most API servers keep one hour).
    let newest = archive
        .events(&EventFilter::default(), 1)
        .expect("query")
        .first()
        .map_or(now, |e| e.event.last_seen);
    let relist = EventFilter {
        since: Some(newest - SignedDuration::from_hours(3)),
        ..EventFilter::default()
    };
    let replay: Vec<ArchivedEvent> = archive
        .events(&relist, usize::MAX)
        .expect("query")
        .into_iter()
        .map(|e| e.event)
        .collect();
    let started = Instant::now();
    let mut stats = IngestStats::default();
    for chunk in replay.chunks(1_000) {
        let done = IngestStats::of(&archive.ingest(chunk).expect("replay"));
        stats.unchanged += done.unchanged;
        stats.inserted += done.inserted;
    }
    println!(
        "  {:<58} {}  ({} unchanged, {} inserted)",
        format!("a re-list after a watch restart ({} events)", replay.len()),
        rate(replay.len() as u64, started.elapsed()),
        stats.unchanged,
        stats.inserted
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "  file size: {:.2} GB ({:.0} bytes per event)",
        size as f64 / 1e9,
        size as f64 / (total + more) as f64
    );

    println!("queries (newest first; warm page cache; median and worst of 7):");
    let now = newest;
    let since = |days: i64| Some(now - SignedDuration::from_hours(24 * days));
    let reason = |r: &str| vec![r.to_owned()];
    time_query(
        &archive,
        "events --reason NodeRebootError --since 90d (limit 1000)",
        &EventFilter {
            reasons: reason("NodeRebootError"),
            since: since(90),
            ..Default::default()
        },
        1_000,
    );
    time_query(
        &archive,
        "events --reason NodeRebootError --since 90d (no limit)",
        &EventFilter {
            reasons: reason("NodeRebootError"),
            since: since(90),
            ..Default::default()
        },
        usize::MAX,
    );
    time_query(
        &archive,
        "events --reason BackOff --since 90d (limit 1000)",
        &EventFilter {
            reasons: reason("BackOff"),
            since: since(90),
            ..Default::default()
        },
        1_000,
    );
    time_query(
        &archive,
        "events --reason NodeRepairGaveUp --since 7d (limit 1000)",
        &EventFilter {
            reasons: reason("NodeRepairGaveUp"),
            since: since(7),
            ..Default::default()
        },
        1_000,
    );
    time_query(
        &archive,
        "events --node aks-np1-12345678-vmss000042 --since 7d (limit 1000)",
        &EventFilter {
            node: Some("aks-np1-12345678-vmss000042".into()),
            since: since(7),
            ..Default::default()
        },
        1_000,
    );
    time_query(
        &archive,
        "events --type Warning --namespace team-3 --since 1d (limit 1000)",
        &EventFilter {
            event_type: Some("Warning".into()),
            namespace: Some("team-3".into()),
            since: since(1),
            ..Default::default()
        },
        1_000,
    );
    time_query(
        &archive,
        "events --grep 'out of memory' --since 1d (limit 1000)",
        &EventFilter {
            grep: Some("out of memory".into()),
            since: since(1),
            ..Default::default()
        },
        1_000,
    );
    time_query(
        &archive,
        "events --grep 'gave up' --since 90d (limit 1000, full scan)",
        &EventFilter {
            grep: Some("gave up".into()),
            since: since(90),
            ..Default::default()
        },
        1_000,
    );
    let cursor = archive.latest_seq().expect("seq") - 100;
    let started = Instant::now();
    let followed = archive
        .follow(&EventFilter::default(), cursor, 1_000)
        .expect("follow")
        .len();
    println!(
        "  {:<58} {followed:>6} rows  once   {}",
        "follow: one poll for the last 100 changes",
        ms(started.elapsed())
    );

    println!("retention:");
    let retention = Retention {
        window: SignedDuration::from_hours(89 * 24),
        ..Retention::default()
    };
    let mut worst = Duration::ZERO;
    let mut pruned = 0;
    let started = Instant::now();
    loop {
        let chunk_started = Instant::now();
        let n = archive.prune_chunk(now, retention).expect("prune").total();
        worst = worst.max(chunk_started.elapsed());
        pruned += n;
        if n < u64::from(retention.chunk) {
            break;
        }
    }
    println!(
        "  pruning the oldest day: {pruned} events in {}, longest chunk of {} {}",
        ms(started.elapsed()),
        retention.chunk,
        ms(worst)
    );
}
