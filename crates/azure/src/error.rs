//! The client's error: every variant names the operation and the resource, and the ones that
//! come from ARM keep its error (code, message, details) as a typed field.

use std::time::Duration;

use nodemend_core::cloud::{CloudError, CloudErrorKind};
use nodemend_core::model::ArmError;

use crate::config::ConfigError;
use crate::credential::CredentialError;
use crate::parse::ParseError;

/// A `Result` with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an ARM call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration could not be resolved.
    #[error("the ARM client configuration is invalid")]
    Configure(#[source] ConfigError),
    /// The CA bundle could not be read.
    #[error("reading the CA bundle {path} failed")]
    ReadCaFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built (e.g. an invalid CA bundle).
    #[error("building the HTTP client failed")]
    BuildClient(#[source] reqwest::Error),
    /// No token could be had.
    #[error("{operation} {resource}: getting a token failed")]
    Authenticate {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// Why.
        #[source]
        source: CredentialError,
    },
    /// The request could not be sent (after retries, where retrying was safe).
    #[error("{operation} {resource}: the request could not be sent")]
    Send {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// An action was sent but its answer was lost or was a server error: it may have run.
    #[error("{operation} {resource}: the outcome is unknown ({reason})")]
    OutcomeUnknown {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// What happened.
        reason: String,
    },
    /// ARM answered with an error status.
    #[error("{operation} {resource}: ARM answered {status} {}: {}", error.code, error.message)]
    Rejected {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// HTTP status.
        status: u16,
        /// ARM's error.
        error: Box<ArmError>,
    },
    /// ARM throttled the call and asked to wait longer than the policy allows, or retries ran out.
    #[error("{operation} {resource}: throttled by ARM (retry after {retry_after:?})")]
    Throttled {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// What `Retry-After` said.
        retry_after: Option<Duration>,
        /// ARM's error, when it sent one.
        error: Option<Box<ArmError>>,
    },
    /// The long-running operation finished with an error.
    #[error("{operation} {resource}: the operation failed with {}: {}", error.code, error.message)]
    OperationFailed {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// The operation's error, with nested details.
        error: Box<ArmError>,
    },
    /// The long-running operation was canceled.
    #[error("{operation} {resource}: the operation was canceled")]
    OperationCanceled {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
    },
    /// The long-running operation did not finish in time.
    #[error("{operation} {resource}: the operation did not finish within {deadline:?}")]
    OperationTimedOut {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// The deadline.
        deadline: Duration,
    },
    /// ARM's answer could not be read.
    #[error("{operation} {resource}: unreadable response")]
    Parse {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// Why.
        #[source]
        source: ParseError,
    },
    /// ARM handed out a URL (operation status, next page) on another origin than the
    /// endpoint; it is not followed, so the token never leaves for another host.
    #[error("{operation} {resource}: refusing to follow a URL on another origin ({origin})")]
    ForeignUrl {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// The other origin.
        origin: String,
    },
    /// The provider was asked for something ARM has no call for here.
    #[error("{operation} {resource}: not supported ({reason})")]
    Unsupported {
        /// Operation.
        operation: &'static str,
        /// Resource.
        resource: String,
        /// Why.
        reason: &'static str,
    },
}

impl Error {
    /// ARM's error code (or the failing credential's `<name> authentication failed`).
    pub fn code(&self) -> Option<String> {
        match self {
            Self::Rejected { error, .. } | Self::OperationFailed { error, .. } => {
                Some(error.code.clone())
            }
            Self::Throttled { error, .. } => error.as_ref().map(|e| e.code.clone()),
            Self::Authenticate { source, .. } => Some(source.code()),
            _ => None,
        }
    }

    /// True when an action may or may not have run.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    fn kind(&self) -> CloudErrorKind {
        match self {
            Self::Rejected { status, error, .. } => match status {
                404 => CloudErrorKind::NotFound,
                401 => CloudErrorKind::Unauthenticated,
                403 => CloudErrorKind::Forbidden,
                409 | 412 => CloudErrorKind::Conflict,
                500.. => CloudErrorKind::Unavailable,
                _ if error.code.eq_ignore_ascii_case("NotFound") => CloudErrorKind::NotFound,
                _ => CloudErrorKind::Rejected,
            },
            Self::Throttled { retry_after, .. } => CloudErrorKind::Throttled {
                retry_after_secs: retry_after.map(|d| d.as_secs()),
            },
            Self::Authenticate { .. } => CloudErrorKind::Unauthenticated,
            Self::OperationFailed { .. } => CloudErrorKind::OperationFailed,
            Self::OperationCanceled { .. } => CloudErrorKind::Canceled,
            Self::OperationTimedOut { .. } => CloudErrorKind::TimedOut,
            Self::OutcomeUnknown { .. } => CloudErrorKind::OutcomeUnknown,
            Self::Parse { .. } | Self::ForeignUrl { .. } => CloudErrorKind::InvalidResponse,
            Self::Unsupported { .. } => CloudErrorKind::Unsupported,
            Self::Configure(_)
            | Self::ReadCaFile { .. }
            | Self::BuildClient(_)
            | Self::Send { .. } => CloudErrorKind::Unavailable,
        }
    }

    fn operation_and_resource(&self) -> (&str, &str) {
        match self {
            Self::Authenticate {
                operation,
                resource,
                ..
            }
            | Self::Send {
                operation,
                resource,
                ..
            }
            | Self::OutcomeUnknown {
                operation,
                resource,
                ..
            }
            | Self::Rejected {
                operation,
                resource,
                ..
            }
            | Self::Throttled {
                operation,
                resource,
                ..
            }
            | Self::OperationFailed {
                operation,
                resource,
                ..
            }
            | Self::OperationCanceled {
                operation,
                resource,
            }
            | Self::OperationTimedOut {
                operation,
                resource,
                ..
            }
            | Self::Parse {
                operation,
                resource,
                ..
            }
            | Self::ForeignUrl {
                operation,
                resource,
                ..
            }
            | Self::Unsupported {
                operation,
                resource,
                ..
            } => (operation, resource),
            Self::Configure(_) | Self::ReadCaFile { .. } | Self::BuildClient(_) => {
                ("configure ARM client", "")
            }
        }
    }
}

/// The error and its causes, one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

impl From<Error> for CloudError {
    fn from(err: Error) -> Self {
        let (operation, resource) = err.operation_and_resource();
        let mut cloud = CloudError::new(operation, resource, err.kind(), chain(&err));
        cloud.code = err.code();
        if let Error::Rejected { error, .. } | Error::OperationFailed { error, .. } = err {
            let ArmError {
                message, details, ..
            } = *error;
            cloud.message = message;
            cloud.details = details;
        }
        cloud
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(code: &str) -> ArmError {
        ArmError {
            code: code.into(),
            message: "msg".into(),
            details: vec![ArmError {
                code: "Inner".into(),
                message: "inner".into(),
                details: vec![],
            }],
        }
    }

    #[test]
    fn operation_failures_keep_code_and_details() {
        let err = Error::OperationFailed {
            operation: "redeploy VM",
            resource: "/vm".into(),
            error: Box::new(arm("VMRedeploymentFailed")),
        };
        assert_eq!(
            err.to_string(),
            "redeploy VM /vm: the operation failed with VMRedeploymentFailed: msg"
        );
        let cloud = CloudError::from(err);
        assert_eq!(cloud.kind, CloudErrorKind::OperationFailed);
        assert_eq!(cloud.failure_code(), "VMRedeploymentFailed");
        assert_eq!(cloud.codes(), vec!["VMRedeploymentFailed", "Inner"]);
        assert_eq!(
            (cloud.operation.as_str(), cloud.resource.as_str()),
            ("redeploy VM", "/vm")
        );
    }

    #[test]
    fn statuses_map_to_kinds() {
        let rejected = |status, code: &str| {
            CloudError::from(Error::Rejected {
                operation: "get VM",
                resource: "/vm".into(),
                status,
                error: Box::new(arm(code)),
            })
            .kind
        };
        assert_eq!(rejected(404, "NotFound"), CloudErrorKind::NotFound);
        assert_eq!(rejected(400, "InvalidParameter"), CloudErrorKind::Rejected);
        assert_eq!(
            rejected(409, "OperationNotAllowed"),
            CloudErrorKind::Conflict
        );
        assert_eq!(
            rejected(503, "ServiceUnavailable"),
            CloudErrorKind::Unavailable
        );
    }

    #[test]
    fn credential_failures_carry_the_credential_code() {
        let err = Error::Authenticate {
            operation: "restart VM",
            resource: "/vm".into(),
            source: CredentialError::Rejected {
                credential: "ManagedIdentityCredential",
                status: 400,
                error: "invalid_request".into(),
                description: "Identity not found".into(),
            },
        };
        let cloud = CloudError::from(err);
        assert_eq!(
            cloud.failure_code(),
            "ManagedIdentityCredential authentication failed"
        );
        assert_eq!(cloud.kind, CloudErrorKind::Unauthenticated);
        assert!(
            cloud.message.contains("Identity not found"),
            "{}",
            cloud.message
        );
    }
}
