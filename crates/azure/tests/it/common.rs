//! Starting a simulator and a client pointed at it.

use std::collections::HashMap;
use std::time::Duration;

use nodemend_azure::{ArmConfig, AzureProvider, RetryPolicy};
use nodemend_core::ProviderId;
use nodemend_core::cloud::ClusterRef;
use nodemend_sim::arm::{ArmSim, ArmSimOptions, ArmWorldSpec, CallRecord};

/// Simulated seconds per real second: a 60 s restart takes 60 ms.
pub(crate) const SCALE: f64 = 1000.0;

/// A retry policy for tests: short back-off and polling, a deadline that fails a stuck test.
pub(crate) fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
        poll_interval: Duration::from_millis(20),
        min_poll_interval: Duration::from_millis(10),
        operation_deadline: Duration::from_secs(30),
        slow_down_below: 0,
        slow_down_max: Duration::from_millis(50),
    }
}

/// A running simulator with a client configured from its environment.
pub(crate) struct Harness {
    pub(crate) sim: ArmSim,
    pub(crate) provider: AzureProvider,
    pub(crate) cluster: ClusterRef,
}

pub(crate) async fn start(spec: ArmWorldSpec) -> Harness {
    start_with(spec, |_| {}).await
}

/// Starts the simulator; `tweak` may change the environment the client is configured from.
pub(crate) async fn start_with(
    spec: ArmWorldSpec,
    tweak: impl FnOnce(&mut HashMap<String, String>),
) -> Harness {
    let sim = ArmSim::start(
        spec,
        ArmSimOptions {
            time_scale: SCALE,
            ..ArmSimOptions::default()
        },
    )
    .await
    .expect("simulator starts");
    let mut env: HashMap<String, String> = sim.env().into_iter().collect();
    tweak(&mut env);
    let provider = AzureProvider::new(&config(&env)).expect("client builds");
    let cluster = ClusterRef {
        subscription: env["AZURE_SUBSCRIPTION_ID"].clone(),
        resource_group: env["NODEMEND_RESOURCE_GROUP"].clone(),
        name: env["NODEMEND_CLUSTER"].clone(),
    };
    Harness {
        sim,
        provider,
        cluster,
    }
}

/// A client configuration from an environment map, with the fast policy.
pub(crate) fn config(env: &HashMap<String, String>) -> ArmConfig {
    let mut config =
        ArmConfig::from_env(|k| env.get(k).cloned(), None, None).expect("config resolves");
    config.retry = fast_policy();
    config.request_timeout = Duration::from_secs(10);
    // At scale 1000 an hour-long token lives 3.6 real seconds.
    config.token_refresh_margin = Duration::from_millis(500);
    config
}

impl Harness {
    /// The provider ID of the VM with this computer name.
    pub(crate) fn id(&self, computer_name: &str) -> ProviderId {
        let vm = self
            .sim
            .vm(computer_name)
            .unwrap_or_else(|| panic!("no VM {computer_name}"));
        vm.provider_id.parse().expect("simulator IDs parse")
    }

    /// Computer names of every VM, in order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.sim
            .vms()
            .into_iter()
            .map(|v| v.computer_name)
            .collect()
    }

    /// ARM calls (not token requests) matching `method` whose path ends with `suffix`.
    pub(crate) fn calls(&self, method: &str, suffix: &str) -> Vec<CallRecord> {
        self.sim
            .calls()
            .into_iter()
            .filter(|c| {
                c.is_arm()
                    && c.method == method
                    && c.path
                        .to_ascii_lowercase()
                        .ends_with(&suffix.to_ascii_lowercase())
            })
            .collect()
    }
}
