//! The log of every call the simulator answered, for tests and the demo to read.

use jiff::Timestamp;

/// One answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Simulated time it was answered.
    pub at: Timestamp,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Status answered.
    pub status: u16,
}

impl CallRecord {
    /// True for calls to ARM (not to the token endpoints).
    pub fn is_arm(&self) -> bool {
        self.path
            .to_ascii_lowercase()
            .starts_with("/subscriptions/")
    }

    /// True for calls to a token endpoint.
    pub fn is_token(&self) -> bool {
        self.path.ends_with("/oauth2/v2.0/token") || self.path.starts_with("/metadata/identity/")
    }
}
