//! nodemend-core: the model, the decisions and the error-code catalog of nodemend.
//!
//! This crate does no IO and never reads the clock: adapters collect a snapshot of the world
//! into the types of [`model`], pure functions here decide what to do, and adapters act.
//! Anything that needs the time takes `now` as an argument.
//!
//! Where to start:
//! - [`model`]: cluster → agent pools → VMs ↔ Kubernetes nodes.
//! - [`ProviderId`]: how a node names its VM.
//! - [`catalog`]: every Azure/AKS error code nodemend knows, with cause and remedy.
//! - [`alert`]: alert rules over archived events and NotReady nodes.
//! - [`cloud`]: the [`cloud::CloudProvider`] trait that cloud adapters implement.
//! - [`diagnosis`]: rules over a snapshot of a cluster that explain a failed state.

pub mod alert;
pub mod catalog;
pub mod cloud;
pub mod diagnosis;
pub mod drain;
#[cfg(test)]
mod fixtures;
pub mod health;
pub mod index;
pub mod model;
pub mod planner;
pub mod policy;
mod provider_id;
pub mod repair;

pub use provider_id::{ProviderId, ProviderIdError, SCHEME as PROVIDER_ID_SCHEME};
