//! What the rules read: the snapshot and the catalog, with the failed activity-log records
//! decoded once. A snapshot can hold 100,000 activity-log records; a dozen rules each digging
//! the code out of every failed one would cost more than the whole collection, so the code and
//! pool of each failure are worked out here, once per diagnosis.

use super::codes::{self, Found};
use super::snapshot::Snapshot;
use crate::catalog::{Catalog, NodeOs};
use crate::cloud::ActivityRecord;

/// The snapshot and catalog a diagnosis runs over, with the failed operations decoded.
#[derive(Debug)]
pub struct Facts<'s, 'c> {
    /// Everything collected.
    pub snapshot: &'s Snapshot,
    /// The error-code catalog.
    pub catalog: &'c Catalog,
    failures: Vec<Failure<'s, 'c>>,
}

/// A failed activity-log record with its code and the pool it belongs to.
#[derive(Debug, Clone)]
pub struct Failure<'s, 'c> {
    /// The record.
    pub record: &'s ActivityRecord,
    /// The most specific code of its error, when it has one.
    pub found: Option<Found<'c>>,
    /// The pool whose agent pool, scale set or VM the record is about.
    pub pool: Option<&'s str>,
}

impl Failure<'_, '_> {
    /// Whether its code, or the entry the code resolves to, is one of `codes`.
    pub fn is(&self, codes: &[&str]) -> bool {
        self.found.as_ref().is_some_and(|f| {
            codes
                .iter()
                .any(|c| f.code.eq_ignore_ascii_case(c) || f.entry.is_some_and(|e| e.code == *c))
        })
    }
}

impl<'s, 'c> Facts<'s, 'c> {
    /// Decodes the snapshot's failed operations of the window.
    pub fn new(snapshot: &'s Snapshot, catalog: &'c Catalog) -> Self {
        let failures = snapshot
            .failed_activity()
            .into_iter()
            .map(|record| {
                let pool = snapshot
                    .pool_of_resource(&record.resource_id)
                    .map(|p| p.name.as_str());
                let os = pool.map_or(NodeOs::Linux, |p| snapshot.pool_os(p));
                let found = record
                    .error
                    .as_ref()
                    .and_then(|e| codes::in_error(e, os, catalog));
                Failure {
                    record,
                    found,
                    pool,
                }
            })
            .collect();
        Self {
            snapshot,
            catalog,
            failures,
        }
    }

    /// Failed operations of the window, newest first.
    pub fn failures(&self) -> &[Failure<'s, 'c>] {
        &self.failures
    }

    /// Failed operations whose code (or its entry) is one of `codes`, newest first.
    pub fn failures_of<'f>(
        &'f self,
        codes: &'f [&str],
    ) -> impl Iterator<Item = &'f Failure<'s, 'c>> + 'f {
        self.failures.iter().filter(move |f| f.is(codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, failed_op, pool, snapshot};

    #[test]
    fn failures_are_decoded_once_with_their_pool_and_os() {
        let snap = snapshot().with_pool(pool("win1").windows());
        let vmss = snap.scale_set_id("aks-win1-vmss").unwrap();
        let snap = snap
            .with_activity(failed_op(
                "write",
                &format!("{vmss}/virtualMachines/0"),
                arm("VMExtensionProvisioningError", "exit status=5"),
                -10,
            ))
            .with_activity(failed_op("write", "/x", arm("ScopeLocked", ""), -20));
        let facts = Facts::new(&snap, Catalog::builtin());
        let [newest, older] = facts.failures() else {
            panic!("two failures expected");
        };
        assert_eq!(newest.pool, Some("win1"));
        assert_eq!(
            newest.found.as_ref().unwrap().code,
            "WINDOWS_CSE_ERROR_CHECK_API_SERVER_CONNECTIVITY"
        );
        assert_eq!(older.pool, None);
        assert!(older.is(&["ScopeLocked"]));
        assert_eq!(facts.failures_of(&["ScopeLocked"]).count(), 1);
    }
}
