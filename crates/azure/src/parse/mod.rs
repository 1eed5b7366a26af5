//! Every ARM response nodemend reads, parsed into the core model by pure functions. Fields
//! nodemend does not use are ignored; fields ARM may leave out are optional.

mod access;
mod aks;
mod compute;
mod diag;
mod error_body;
mod operation;

use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use access::permissions;
pub use aks::{cluster, pool, pools, raw_model};
pub use compute::{POOL_TAG, ScaleSet, instance_view, scale_set, scale_set_vm, scale_sets, vm};
pub use diag::{
    activity_records, locks, policy_assignments, provider_state, subnet, subscription_state, usages,
};
pub use error_body::arm_error;
pub use operation::{OperationStatus, operation_status};

/// Why a response body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body is not the JSON expected.
    #[error("the response body is not the JSON expected")]
    Json(#[source] serde_json::Error),
    /// A resource ID in the body is not the kind expected.
    #[error("unexpected resource ID {0:?}")]
    ResourceId(String),
}

/// One page of a list: `{"value": [...], "nextLink": "..."}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// The next page's URL, absent on the last page.
    #[serde(rename = "nextLink", default)]
    pub next_link: Option<String>,
}

/// Deserialises `null` as the default value (ARM sends `"extensions": null`).
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a body as `T`.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(ParseError::Json)
}

/// Reads one page of a list of `T`.
pub fn page<T: DeserializeOwned>(body: &[u8]) -> Result<Page<T>, ParseError> {
    json(body)
}

#[cfg(test)]
pub(crate) mod fixtures {
    /// The body of `status` in the example file `name` under `tests/fixtures/`.
    pub(crate) fn example(name: &str, status: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        file["responses"][status]["body"].to_string().into_bytes()
    }

    /// The headers of `status` in an example file.
    pub(crate) fn example_headers(name: &str, status: &str) -> serde_json::Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        file["responses"][status]["headers"].clone()
    }
}
