//! nodemend-sim: simulators that speak the real wire protocols, so that nodemend's production
//! adapters are what the tests and the demo exercise.
//!
//! Start with [`arm::ArmSim`], the Azure Resource Manager server, and [`kubelet`], the
//! simulated kubelets that register nodes against any Kubernetes API server.

pub mod arm;
pub mod fleet;
pub mod kubelet;
pub mod scenario;
