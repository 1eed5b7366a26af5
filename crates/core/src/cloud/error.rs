//! The cloud-neutral error of [`super::CloudProvider`]: which operation failed on which
//! resource, how (a small classification the controller can match on), and the provider's own
//! error code, kept verbatim for the catalog and for repair events.

use crate::model::ArmError;

/// How a cloud call failed, reduced to what a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CloudErrorKind {
    /// The resource does not exist (any more).
    NotFound,
    /// The cloud asked the caller to slow down.
    Throttled {
        /// How long the cloud asked to wait, in seconds, when it said.
        retry_after_secs: Option<u64>,
    },
    /// No valid credential: the caller could not authenticate.
    Unauthenticated,
    /// Authenticated, but not allowed (role, lock or policy).
    Forbidden,
    /// Another operation holds the resource, or it changed underneath the caller.
    Conflict,
    /// The cloud rejected the request (bad parameter, quota, state that forbids it).
    Rejected,
    /// The request was accepted but the operation itself failed.
    OperationFailed,
    /// The operation was canceled before it finished.
    Canceled,
    /// The operation did not finish within the caller's deadline.
    TimedOut,
    /// The request may or may not have been carried out (the answer was lost).
    OutcomeUnknown,
    /// The cloud could not be reached or answered with a server error.
    Unavailable,
    /// The answer could not be understood.
    InvalidResponse,
    /// This provider does not offer the operation.
    Unsupported,
}

/// A failed cloud call. `code` is the provider's error code (e.g. `VMExtensionProvisioningError`),
/// which is what repair events quote and what the catalog is looked up by.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{operation} {resource} failed: {}", self.summary())]
pub struct CloudError {
    /// The operation, as a short phrase (`restart VM`, `get managed cluster`).
    pub operation: String,
    /// The resource it was about (an ARM ID, a node name...).
    pub resource: String,
    /// What kind of failure.
    pub kind: CloudErrorKind,
    /// The provider's error code, when it gave one.
    pub code: Option<String>,
    /// The provider's message (never a secret or token).
    pub message: String,
    /// Nested errors the provider gave, most specific last in each chain.
    pub details: Vec<ArmError>,
}

impl CloudError {
    /// An error of `kind` with no provider code.
    pub fn new(
        operation: impl Into<String>,
        resource: impl Into<String>,
        kind: CloudErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            operation: operation.into(),
            resource: resource.into(),
            kind,
            code: None,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Sets the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The answer of a provider that does not offer `operation`.
    pub fn unsupported(operation: &str, resource: &str) -> Self {
        Self::new(
            operation,
            resource,
            CloudErrorKind::Unsupported,
            "not supported by this cloud provider",
        )
    }

    /// The code a repair event quotes (`...due to an operation failure: <code>`): the
    /// provider's code, or the kind's name when the provider gave none.
    pub fn failure_code(&self) -> &str {
        match &self.code {
            Some(code) => code,
            None => self.kind_name(),
        }
    }

    /// Every code in the error, outermost first: the code, then the details depth-first. The
    /// catalog is looked up by the first one it knows.
    pub fn codes(&self) -> Vec<&str> {
        fn walk<'a>(errors: &'a [ArmError], out: &mut Vec<&'a str>) {
            for e in errors {
                out.push(&e.code);
                walk(&e.details, out);
            }
        }
        let mut out: Vec<&str> = self.code.iter().map(String::as_str).collect();
        walk(&self.details, &mut out);
        out
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            CloudErrorKind::NotFound => "NotFound",
            CloudErrorKind::Throttled { .. } => "Throttled",
            CloudErrorKind::Unauthenticated => "Unauthenticated",
            CloudErrorKind::Forbidden => "Forbidden",
            CloudErrorKind::Conflict => "Conflict",
            CloudErrorKind::Rejected => "Rejected",
            CloudErrorKind::OperationFailed => "OperationFailed",
            CloudErrorKind::Canceled => "Canceled",
            CloudErrorKind::TimedOut => "TimedOut",
            CloudErrorKind::OutcomeUnknown => "OutcomeUnknown",
            CloudErrorKind::Unavailable => "Unavailable",
            CloudErrorKind::InvalidResponse => "InvalidResponse",
            CloudErrorKind::Unsupported => "Unsupported",
        }
    }

    fn summary(&self) -> String {
        match &self.code {
            Some(code) => format!("{code}: {}", self.message),
            None => format!("{}: {}", self.kind_name(), self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(code: &str) -> ArmError {
        ArmError {
            code: code.into(),
            message: String::new(),
            details: vec![],
        }
    }

    #[test]
    fn failure_code_prefers_the_provider_code() {
        let err = CloudError::new("restart VM", "/x", CloudErrorKind::OperationFailed, "boom")
            .with_code("VMExtensionProvisioningError");
        assert_eq!(err.failure_code(), "VMExtensionProvisioningError");
        assert_eq!(
            err.to_string(),
            "restart VM /x failed: VMExtensionProvisioningError: boom"
        );
        let bare = CloudError::new("restart VM", "/x", CloudErrorKind::TimedOut, "late");
        assert_eq!(bare.failure_code(), "TimedOut");
        assert_eq!(bare.to_string(), "restart VM /x failed: TimedOut: late");
    }

    #[test]
    fn codes_walk_details_depth_first() {
        let mut outer = leaf("A");
        outer.details = vec![leaf("C")];
        let mut err = CloudError::new("op", "r", CloudErrorKind::Rejected, "m").with_code("Top");
        err.details = vec![outer, leaf("B")];
        assert_eq!(err.codes(), vec!["Top", "A", "C", "B"]);
    }

    #[test]
    fn unsupported_names_the_operation() {
        let err = CloudError::unsupported("list locks", "sub/rg");
        assert_eq!(err.kind, CloudErrorKind::Unsupported);
        assert!(err.to_string().starts_with("list locks sub/rg failed"));
    }
}
