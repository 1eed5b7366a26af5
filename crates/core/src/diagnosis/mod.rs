//! Diagnosis of a cluster in a failed state: rules over a snapshot, producing findings.
//!
//! Collectors (in the adapters) read Azure and Kubernetes once into a [`Snapshot`]; [`diagnose`]
//! decodes its failed operations once ([`Facts`]) and runs every rule of [`RULES`] over it and returns a [`Report`] of [`Finding`]s, worst first.
//! Each finding names the resource, the evidence, the cause and remedy from the catalog, and
//! the commands that fix it with the snapshot's names filled in. Nothing here does IO or reads
//! the clock: the snapshot carries `now`.
//!
//! Where to start: [`Snapshot`] for what collectors must fill, [`RULES`] for what is checked,
//! [`codes`] for how an error code is dug out of Azure's messages.

pub mod codes;
mod facts;
mod finding;
#[cfg(test)]
mod fixtures;
mod kube;
mod placeholders;
mod report;
mod rules;
#[cfg(test)]
mod scenarios;
mod snapshot;
mod vm_size;

pub use facts::{Facts, Failure};
pub use finding::{Evidence, Finding};
pub use kube::{EventRecord, KubeFacts, ObjectRef, PdbState, PodState, StuckPod, StuckState};
pub use report::{Report, Summary, diagnose};
pub use rules::{RULES, Rule, RuleInfo};
pub use snapshot::{
    AzureFacts, NetworkProfile, PoolFacts, ReadError, ReadFailure, ScaleSetFacts, ScopeFacts,
    Snapshot, Target,
};
