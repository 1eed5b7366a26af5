//! nodemend-kube: nodemend's Kubernetes adapter, on kube-rs.
//!
//! It translates and acts; it does not decide. Start with [`watch`] (node and lease watches
//! feeding the core index), then the actions: [`cordon`], [`drain`], [`events`], the
//! `NodeRepair` records ([`crd`], [`records`]) and [`leader`] election. [`archive`] translates
//! events for the event archive; [`permissions`] lists every API call's RBAC permission.

pub mod archive;
pub mod cordon;
pub mod crd;
pub mod drain;
mod error;
pub mod event_watch;
pub mod events;
pub mod leader;
pub mod node;
pub mod permissions;
pub mod records;
pub mod watch;

pub use error::{Error, Result};
