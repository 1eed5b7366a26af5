//! nodemend-sim: simulators that speak the real wire protocols, so that nodemend's production
//! adapters can be demonstrated and tested with no cluster or cloud at hand.
//!
//! Where to start: [`apiserver::ApiServer::start`] runs an in-process Kubernetes API server on
//! loopback and returns a handle with its URL, a kubeconfig writer and a clean shutdown.

pub mod apiserver;
