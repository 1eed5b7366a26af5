//! nodemend-sim: simulators that speak the real wire protocols, so that nodemend's production
//! adapters can be demonstrated and tested with no cluster or cloud at hand.

pub mod kubelet;
