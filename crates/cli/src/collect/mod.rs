//! Collection of one diagnosis [`Snapshot`]: the Azure side ([`azure`]) and the Kubernetes side
//! ([`kubernetes`]) are read at the same time, each of them running its independent reads
//! concurrently. A read that fails is recorded as a [`ReadFailure`] and the rest still runs;
//! the rules decide what a failure means. Collectors translate and never judge: everything they
//! read goes into the snapshot as it was read.

mod aks;
pub(crate) mod azure;
pub(crate) mod kubernetes;
mod progress;

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;
use nodemend_azure::AzureProvider;
use nodemend_core::cloud::ClusterRef;
use nodemend_core::diagnosis::{ReadError, ReadFailure, Snapshot, Target};

pub(crate) use progress::Progress;

/// Where to read from: either side may be missing.
pub(crate) struct Sources {
    /// The ARM client and the cluster, for the Azure side.
    pub(crate) azure: Option<(AzureProvider, ClusterRef)>,
    /// A client of the cluster's API server, for the Kubernetes side.
    pub(crate) kubernetes: Option<kube::Client>,
}

/// The time window of a collection: activity log and events from `since` to `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// When the snapshot is taken.
    pub(crate) now: Timestamp,
    /// Start of the window.
    pub(crate) since: Timestamp,
    /// Which activity-log records to ask ARM for.
    pub(crate) activity: ActivityFilter,
}

/// Which activity-log records of the window are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActivityFilter {
    /// Failed operations only, filtered by ARM (`status eq 'Failed'`): what the rules read, and
    /// on a busy cluster a hundredth of the records.
    Failed,
    /// Every record, for a complete saved snapshot.
    All,
}

/// Runs reads, shows them in the progress line, and keeps the failures.
pub(crate) struct Reads<'p> {
    progress: &'p Progress,
    failures: Mutex<Vec<ReadFailure>>,
}

impl<'p> Reads<'p> {
    pub(crate) fn new(progress: &'p Progress) -> Self {
        Self {
            progress,
            failures: Mutex::new(Vec::new()),
        }
    }

    /// Runs one read named `what`; a failure is recorded (with the permission it `needs`, when
    /// known) and comes back as `None`.
    pub(crate) async fn run<T>(
        &self,
        what: String,
        needs: Option<&str>,
        read: impl Future<Output = Result<T, ReadError>>,
    ) -> Option<T> {
        let step = self.progress.begin(what.clone());
        match read.await {
            Ok(value) => {
                step.end(true);
                Some(value)
            }
            Err(error) => {
                step.end(false);
                tracing::warn!(read = %what, error = ?error, "read failed");
                self.failures
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(ReadFailure {
                        read: what,
                        needs: needs.map(str::to_owned),
                        error,
                    });
                None
            }
        }
    }

    fn into_failures(self) -> Vec<ReadFailure> {
        self.failures
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads both sides at once and puts what came back in one snapshot.
pub(crate) async fn snapshot(
    target: Target,
    sources: &Sources,
    window: Window,
    progress: &Progress,
) -> Snapshot {
    let reads = Reads::new(progress);
    let azure = async {
        match &sources.azure {
            Some((provider, cluster)) => {
                Some(azure::collect(provider, cluster, window, &reads).await)
            }
            None => None,
        }
    };
    let kubernetes = async {
        match &sources.kubernetes {
            Some(client) => kubernetes::collect(client, window, &reads).await,
            None => None,
        }
    };
    let (azure, kubernetes) = futures::join!(azure, kubernetes);
    progress.finish();
    Snapshot {
        now: window.now,
        since: window.since,
        target,
        azure,
        kubernetes,
        read_failures: reads.into_failures(),
    }
}
