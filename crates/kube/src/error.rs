//! Errors of the Kubernetes adapter. Each names the operation and the object; the API server's
//! answer stays in the source chain.

/// A Kubernetes operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting or loading a kubeconfig failed.
    #[error("cannot reach the Kubernetes API server")]
    Connect(#[source] kube::Error),
    /// Cordoning or uncordoning a node failed.
    #[error("cannot set unschedulable={unschedulable} on node {node}")]
    Cordon {
        /// The node.
        node: String,
        /// The value being set.
        unschedulable: bool,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// Listing the pods of a node for a drain failed.
    #[error("cannot list the pods on node {node}")]
    ListPods {
        /// The node.
        node: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// An eviction failed for a reason other than a PodDisruptionBudget.
    #[error("cannot evict pod {namespace}/{pod}")]
    Evict {
        /// Namespace.
        namespace: String,
        /// Pod.
        pod: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// Recording an event failed.
    #[error("cannot record event {reason} on node {node}")]
    Event {
        /// The node.
        node: String,
        /// The event's reason.
        reason: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// Reading or writing a NodeRepair record failed.
    #[error("cannot {operation} NodeRepair {name}")]
    Record {
        /// `list`, `create` or `update status of`.
        operation: &'static str,
        /// The record.
        name: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// Reading or writing the leader-election Lease failed.
    #[error("cannot {operation} the leader-election Lease {namespace}/{name}")]
    Lease {
        /// `read`, `create` or `update`.
        operation: &'static str,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// Installing the NodeRepair CRD failed.
    #[error("cannot install the NodeRepair CRD")]
    InstallCrd(#[source] kube::Error),
    /// The NodeRepair CRD was created but its resources were not served in time.
    #[error("the NodeRepair CRD was not served within {seconds} s")]
    CrdNotServed {
        /// How long was waited.
        seconds: u64,
    },
    /// Asking the API server whether this identity may do something failed.
    #[error("cannot review access to {verb} {resource}")]
    AccessReview {
        /// The verb asked about.
        verb: String,
        /// The resource asked about.
        resource: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
}

/// Result of the Kubernetes adapter.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether the API server answered with this HTTP status.
pub(crate) fn has_status(err: &kube::Error, code: u16) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == code)
}
