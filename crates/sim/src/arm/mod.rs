//! The ARM simulator: an HTTP server that speaks the subset of Azure Resource Manager that
//! nodemend calls, with the real paths, `api-version`, bodies shaped like the public examples,
//! the async-operation protocol, 429 throttling, an OAuth2 token endpoint and a
//! managed-identity endpoint, so that the production client is what tests exercise.
//!
//! Start with [`ArmSim::start`] and an [`ArmWorldSpec`] (usually from a scenario file). Point a
//! client at it with [`ArmSim::env`]. Watch VM actions with [`ArmSim::subscribe`] (see
//! [`events`] for how simulated kubelets use it), read the call log with [`ArmSim::calls`], and
//! change the world while it runs with [`ArmSim::add_fault`], [`ArmSim::delete_vm`],
//! [`ArmSim::set_vm_fault`], [`ArmSim::fail_vm`], [`ArmSim::expire_tokens`],
//! [`ArmSim::set_credentials_valid`] and [`ArmSim::set_role_actions`].

mod actions;
mod aks;
mod auth;
mod authz;
mod calllog;
mod clock;
mod compute;
mod diag;
pub mod events;
mod faults;
mod http;
mod ops;
mod permissions;
mod render;
pub mod spec;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jiff::Timestamp;
use tokio::sync::{broadcast, oneshot};

pub use calllog::CallRecord;
pub use clock::SimClock;
pub use events::{VmEvent, VmPhase, VmSnapshot};
pub use spec::{ArmWorldSpec, ErrorSpec, FaultSpec, VmFaultSpec};

use world::World;

/// How many VM events a slow subscriber may fall behind before it sees `Lagged`.
const EVENT_BUFFER: usize = 4096;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("binding the ARM simulator to {addr} failed")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// How to run the simulator (what is not part of the world).
#[derive(Debug, Clone)]
pub struct ArmSimOptions {
    /// Address to listen on; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Simulated time at start.
    pub start: Timestamp,
}

impl Default for ArmSimOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            time_scale: 1.0,
            start: Timestamp::now(),
        }
    }
}

/// State shared by the server's handlers.
#[derive(Debug)]
pub(crate) struct Shared {
    world: Mutex<World>,
    pub(crate) clock: SimClock,
    pub(crate) events: broadcast::Sender<VmEvent>,
    /// `http://host:port`, for URLs the server hands out.
    pub(crate) base: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running ARM simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct ArmSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl ArmSim {
    /// Binds, and serves `spec` on a background task of the current tokio runtime.
    pub async fn start(mut spec: ArmWorldSpec, options: ArmSimOptions) -> Result<Self, SimError> {
        // Records written as "so long ago" are placed before the simulated start.
        for record in &mut spec.activity_log {
            record.time = record.time_from(options.start);
            record.ago = None;
        }
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: options.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: options.bind,
            source,
        })?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(spec)),
            clock: SimClock::new(options.start, options.time_scale),
            events,
            base: format!("http://{addr}"),
        });
        let app = axum::Router::new()
            .fallback(http::handle)
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "ARM simulator stopped");
            }
        });
        tracing::info!(%addr, "ARM simulator listening");
        Ok(Self {
            shared,
            addr,
            _stop: stop,
        })
    }

    /// The base URL (`http://127.0.0.1:port`): ARM endpoint, authority host and
    /// managed-identity host at once.
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// The managed-identity endpoint, for `IDENTITY_ENDPOINT`.
    pub fn identity_endpoint(&self) -> String {
        format!("{}/metadata/identity/oauth2/token", self.shared.base)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The simulated clock.
    pub fn clock(&self) -> SimClock {
        self.shared.clock
    }

    /// The environment a client needs (the lines of `azure.env`): endpoint, authority,
    /// tenant, client ID and secret, subscription, resource group and cluster.
    pub fn env(&self) -> Vec<(String, String)> {
        let world = self.shared.lock();
        let spec = &world.spec;
        [
            ("NODEMEND_ARM_ENDPOINT", self.url()),
            ("AZURE_AUTHORITY_HOST", self.url()),
            ("AZURE_TENANT_ID", spec.credentials.tenant_id.clone()),
            ("AZURE_CLIENT_ID", spec.credentials.client_id.clone()),
            (
                "AZURE_CLIENT_SECRET",
                spec.credentials.client_secret.clone(),
            ),
            ("AZURE_SUBSCRIPTION_ID", spec.subscription.clone()),
            (
                "NODEMEND_RESOURCE_GROUP",
                spec.cluster.resource_group.clone(),
            ),
            ("NODEMEND_CLUSTER", spec.cluster.name.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// VM action events from now on (see [`events`]).
    pub fn subscribe(&self) -> broadcast::Receiver<VmEvent> {
        self.shared.events.subscribe()
    }

    /// A VM by computer name (node name), case-insensitively.
    pub fn vm(&self, computer_name: &str) -> Option<VmSnapshot> {
        let world = self.shared.lock();
        world
            .vms
            .iter()
            .find(|v| v.computer_name.eq_ignore_ascii_case(computer_name))
            .map(world::Vm::snapshot)
    }

    /// Every VM, deleted ones included.
    pub fn vms(&self) -> Vec<VmSnapshot> {
        self.shared
            .lock()
            .vms
            .iter()
            .map(world::Vm::snapshot)
            .collect()
    }

    /// The call log so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.lock().calls.clone()
    }

    /// Adds a fault while the simulator runs.
    pub fn add_fault(&self, fault: FaultSpec) {
        self.shared.lock().faults.add(fault);
    }

    /// Deletes a VM (by computer name): ARM then answers as for a VM that no longer exists.
    /// Returns false when there is no such VM.
    pub fn delete_vm(&self, computer_name: &str) -> bool {
        let mut world = self.shared.lock();
        let vm = world
            .vms
            .iter_mut()
            .find(|v| v.computer_name.eq_ignore_ascii_case(computer_name));
        vm.map(|v| v.deleted = true).is_some()
    }

    /// Puts a fault inside a VM (`None` clears it): the VM counts as unhealthy until an action
    /// in the fault's `cured_by` runs. Returns false when there is no such VM.
    pub fn set_vm_fault(&self, computer_name: &str, fault: Option<VmFaultSpec>) -> bool {
        let mut world = self.shared.lock();
        let vm = world
            .vms
            .iter_mut()
            .find(|v| v.computer_name.eq_ignore_ascii_case(computer_name));
        vm.map(|v| v.fault = fault).is_some()
    }

    /// Leaves a VM in the `Failed` provisioning state with `error`, as a partly failed disk
    /// detach does; an update (`manualupgrade` or PATCH) brings it back. Returns false when there
    /// is no such VM.
    pub fn fail_vm(&self, computer_name: &str, error: ErrorSpec) -> bool {
        let mut world = self.shared.lock();
        let vm = world
            .vms
            .iter_mut()
            .find(|v| v.computer_name.eq_ignore_ascii_case(computer_name));
        vm.map(|v| {
            v.provisioning_state = nodemend_core::model::ProvisioningState::Failed;
            v.error = Some(error);
        })
        .is_some()
    }

    /// Makes every token issued so far expired; ARM answers `ExpiredAuthenticationToken`.
    pub fn expire_tokens(&self) {
        let now = self.shared.clock.now();
        for expiry in self.shared.lock().tokens.values_mut() {
            *expiry = now;
        }
    }

    /// Makes the token endpoints refuse (false) or accept (true) every credential.
    pub fn set_credentials_valid(&self, valid: bool) {
        self.shared.lock().credentials_valid = valid;
    }

    /// Replaces the actions the identity's roles allow (`None`: everything), as a changed role
    /// assignment does; the next request is judged by them.
    pub fn set_role_actions(&self, actions: Option<Vec<String>>) {
        self.shared.lock().spec.role_actions = actions;
    }
}
