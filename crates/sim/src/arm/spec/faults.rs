//! Injected failures and throttling budgets in the world spec.

use serde::{Deserialize, Serialize};

use super::ErrorSpec;

/// An operation that fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Which operation: `restart`, `reimage`, `redeploy`, `update`, `reconcile`, `read` or `any`.
    pub operation: String,
    /// Which resource: a VM (`<scale set>/<instance>` or a VM name), a pool name, the cluster
    /// name, or `*`.
    pub target: String,
    /// The error.
    pub error: ErrorSpec,
    /// Fail this many times, then succeed; none: every time (or by probability).
    pub times: Option<u32>,
    /// Fail with this probability instead of always.
    pub probability: Option<f64>,
    /// HTTP status of a synchronous failure; none: the request is accepted and the
    /// long-running operation fails.
    pub http_status: Option<u16>,
}

impl Default for FaultSpec {
    fn default() -> Self {
        Self {
            operation: "any".into(),
            target: "*".into(),
            error: ErrorSpec::default(),
            times: None,
            probability: None,
            http_status: None,
        }
    }
}

/// A request budget per subscription; over it ARM answers 429 with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSpec {
    /// `reads` (GET) or `writes` (PUT, PATCH, POST).
    pub class: String,
    /// Only this operation (`restart`...), or every operation of the class.
    pub operation: Option<String>,
    /// Requests allowed per window.
    pub budget: u64,
    /// Window length, simulated seconds.
    pub window_secs: f64,
}

impl Default for ThrottleSpec {
    fn default() -> Self {
        Self {
            class: "reads".into(),
            operation: None,
            budget: 12_000,
            window_secs: 3600.0,
        }
    }
}
