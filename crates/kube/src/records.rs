//! Reading and writing `NodeRepair` records through the API server.

use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use nodemend_core::repair::Repair;

use crate::crd::{NodeRepair, from_record, record_name, to_record, to_status};
use crate::error::{Error, Result};

/// The status as a merge patch: fields that are now empty are sent as `null` so the patch
/// clears them instead of leaving the previous phase's values behind.
fn status_patch(repair: &Repair) -> serde_json::Value {
    let mut value = serde_json::to_value(to_status(repair)).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        for key in ["action", "phaseTime", "message", "bootId", "lastError"] {
            map.entry(key).or_insert(serde_json::Value::Null);
        }
    }
    value
}

/// The NodeRepair records of the cluster.
#[derive(Clone)]
pub struct RepairRecords {
    api: Api<NodeRepair>,
}

impl RepairRecords {
    /// Records in the cluster `client` talks to.
    pub fn new(client: kube::Client) -> Self {
        Self {
            api: Api::all(client),
        }
    }

    /// Every record that can be read. A record that cannot be read back is reported in the
    /// second list by name and error, so the caller can refuse to act on that node rather than
    /// risk repeating an action.
    pub async fn list(&self) -> Result<(Vec<Repair>, Vec<(String, String)>)> {
        let list = self
            .api
            .list(&ListParams::default())
            .await
            .map_err(|source| Error::Record {
                operation: "list",
                name: "*".into(),
                source,
            })?;
        let mut repairs = Vec::new();
        let mut unreadable = Vec::new();
        for record in &list.items {
            match from_record(record) {
                Ok(repair) => repairs.push(repair),
                Err(err) => unreadable.push((record.spec.node.clone(), err.to_string())),
            }
        }
        Ok((repairs, unreadable))
    }

    /// Creates the record of a new repair.
    pub async fn create(&self, repair: &Repair, reason: &str) -> Result<()> {
        let record = to_record(repair, reason);
        let created = self
            .api
            .create(&PostParams::default(), &record)
            .await
            .map_err(|source| Error::Record {
                operation: "create",
                name: record_name(repair),
                source,
            })?;
        // The status subresource ignores status on create: write it separately.
        let name = created.metadata.name.unwrap_or_else(|| record_name(repair));
        self.write_status(&name, repair).await
    }

    /// Writes the current state of `repair` to its record.
    pub async fn update(&self, repair: &Repair) -> Result<()> {
        self.write_status(&record_name(repair), repair).await
    }

    async fn write_status(&self, name: &str, repair: &Repair) -> Result<()> {
        let patch = serde_json::json!({ "status": status_patch(repair) });
        self.api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| Error::Record {
                operation: "update status of",
                name: name.to_owned(),
                source,
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_patch_clears_fields_that_became_empty() {
        let repair = Repair::new("n", None, jiff::Timestamp::UNIX_EPOCH);
        let patch = status_patch(&repair);
        assert_eq!(patch["phase"], "Pending");
        assert!(
            patch["action"].is_null()
                && patch["lastError"].is_null()
                && patch["phaseTime"].is_null()
        );
    }
}
