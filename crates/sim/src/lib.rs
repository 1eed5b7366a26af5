//! nodemend-sim: simulators that speak the real wire protocols, so that nodemend's production
//! adapters are what the tests and the demo exercise.
//!
//! Where to start:
//! - [`apiserver::ApiServer::start`] runs an in-process Kubernetes API server on loopback.
//! - [`arm::ArmSim::start`] runs the Azure Resource Manager server.
//! - [`kubelet`] and [`fleet`]: simulated kubelets, one per ARM VM, against any API server.
//! - [`scenario`]: the scenario files that describe a simulated cluster and its faults.

pub mod apiserver;
pub mod arm;
pub mod fleet;
pub mod kubelet;
pub mod scenario;
pub mod world;
