//! nodemend-sim: simulators that speak the real wire protocols, so that nodemend's production
//! adapters are what the tests and the demo exercise.
//!
//! Start with [`arm::ArmSim`], the Azure Resource Manager server.

pub mod arm;
