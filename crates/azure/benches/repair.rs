//! Benchmark: the production ARM client against the ARM simulator, repairing (rebooting)
//! 1,000 nodes spread over 10 pools, batched (one scale-set call per pool) against unbatched
//! (one call per VM, all concurrent). Prints repair actions per second and ARM calls per
//! repaired node; run with `cargo bench -p nodemend-azure --bench repair`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;
use nodemend_azure::{ArmConfig, AzureProvider, RetryPolicy};
use nodemend_core::ProviderId;
use nodemend_core::cloud::{CloudProvider, VmAction};
use nodemend_sim::arm::spec::{PoolSpec, TimingSpec};
use nodemend_sim::arm::{ArmSim, ArmSimOptions, ArmWorldSpec};

const POOLS: usize = 10;
const NODES_PER_POOL: u32 = 100;
const SCALE: f64 = 1000.0;

fn spec(restart_secs: f64) -> ArmWorldSpec {
    ArmWorldSpec {
        pools: (0..POOLS)
            .map(|i| PoolSpec {
                name: format!("pool{i}"),
                count: Some(NODES_PER_POOL),
                ..PoolSpec::default()
            })
            .collect(),
        timing: TimingSpec {
            restart_secs,
            ..TimingSpec::default()
        },
        ..ArmWorldSpec::default()
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        poll_interval: Duration::from_millis(20),
        min_poll_interval: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

struct Figures {
    elapsed: Duration,
    repaired: usize,
    arm_calls: usize,
    actions: usize,
    polls: usize,
    tokens: usize,
}

async fn run(batched: bool, restart_secs: f64) -> Figures {
    let options = ArmSimOptions {
        time_scale: SCALE,
        ..ArmSimOptions::default()
    };
    let sim = ArmSim::start(spec(restart_secs), options)
        .await
        .expect("simulator starts");
    let env: HashMap<String, String> = sim.env().into_iter().collect();
    let mut config = ArmConfig::from_env(|k| env.get(k).cloned(), None, None).expect("config");
    config.retry = policy();
    // At scale 1000 an hour-long token lives 3.6 real seconds; keep the margin below that.
    config.token_refresh_margin = Duration::from_millis(500);
    let provider = AzureProvider::new(&config).expect("client");
    let ids: Vec<ProviderId> = sim
        .vms()
        .iter()
        .map(|v| v.provider_id.parse().expect("provider ID"))
        .collect();
    let started = Instant::now();
    let results: Vec<bool> = if batched {
        provider
            .act_many(VmAction::Reboot, &ids)
            .await
            .into_iter()
            .map(|(_, r)| r.is_ok())
            .collect()
    } else {
        join_all(ids.iter().map(|id| provider.act(VmAction::Reboot, id)))
            .await
            .into_iter()
            .map(|r| r.is_ok())
            .collect()
    };
    let elapsed = started.elapsed();
    let calls = sim.calls();
    Figures {
        elapsed,
        repaired: results.iter().filter(|ok| **ok).count(),
        arm_calls: calls.iter().filter(|c| c.is_arm()).count(),
        actions: calls
            .iter()
            .filter(|c| c.is_arm() && c.method == "POST")
            .count(),
        polls: calls
            .iter()
            .filter(|c| c.path.contains("/operations/"))
            .count(),
        tokens: calls.iter().filter(|c| c.is_token()).count(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "nodes: {} in {POOLS} pools; simulator time scale {SCALE}x",
        POOLS as u32 * NODES_PER_POOL
    );
    println!(
        "{:<10} {:>16} {:>9} {:>10} {:>12} {:>10} {:>11} {:>7} {:>7} {:>7}",
        "mode",
        "restart (sim s)",
        "repaired",
        "wall ms",
        "actions/s",
        "ARM calls",
        "calls/node",
        "POSTs",
        "polls",
        "tokens"
    );
    for restart_secs in [60.0, 0.0] {
        for batched in [true, false] {
            let f = runtime.block_on(run(batched, restart_secs));
            let secs = f.elapsed.as_secs_f64();
            println!(
                "{:<10} {:>16} {:>9} {:>10.0} {:>12.0} {:>10} {:>11.3} {:>7} {:>7} {:>7}",
                if batched { "batched" } else { "unbatched" },
                restart_secs,
                f.repaired,
                secs * 1000.0,
                f.repaired as f64 / secs,
                f.arm_calls,
                f.arm_calls as f64 / f.repaired.max(1) as f64,
                f.actions,
                f.polls,
                f.tokens,
            );
        }
    }
}
