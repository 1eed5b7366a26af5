//! The status of a long-running operation, as its `Azure-AsyncOperation` URL answers:
//! `{"status": "InProgress|Succeeded|Failed|Canceled", "error": {...}}`.

use nodemend_core::model::ArmError;
use serde::Deserialize;

use super::{ParseError, json};

/// Where a long-running operation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    /// Still running (`InProgress`, or any status a resource provider adds).
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed(ArmError),
    /// Canceled.
    Canceled,
}

#[derive(Deserialize)]
struct Body {
    status: String,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// Reads an operation-status body.
pub fn operation_status(body: &[u8]) -> Result<OperationStatus, ParseError> {
    let body: Body = json(body)?;
    let status = body.status.to_ascii_lowercase();
    Ok(match status.as_str() {
        "succeeded" => OperationStatus::Succeeded,
        "canceled" | "cancelled" => OperationStatus::Canceled,
        "failed" => {
            let error = body
                .error
                .and_then(|e| {
                    super::arm_error(&serde_json::json!({ "error": e }).to_string().into_bytes())
                })
                .unwrap_or(ArmError {
                    code: "OperationFailed".into(),
                    message: "the operation failed without an error body".into(),
                    details: vec![],
                });
            OperationStatus::Failed(error)
        }
        _ => OperationStatus::Running,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_status() {
        let running =
            br#"{"startTime":"2026-11-21T10:00:00Z","status":"InProgress","name":"9a062a88"}"#;
        assert_eq!(operation_status(running).unwrap(), OperationStatus::Running);
        assert_eq!(
            operation_status(br#"{"status":"Succeeded"}"#).unwrap(),
            OperationStatus::Succeeded
        );
        assert_eq!(
            operation_status(br#"{"status":"Canceled"}"#).unwrap(),
            OperationStatus::Canceled
        );
        assert_eq!(
            operation_status(br#"{"status":"Reconciling"}"#).unwrap(),
            OperationStatus::Running
        );
        assert!(operation_status(b"{}").is_err());
    }

    #[test]
    fn failed_carries_the_error_with_details() {
        let body = br#"{"status":"Failed","error":{"code":"VMExtensionProvisioningError","message":"vmssCSE failed","details":[{"code":"VMExtensionHandlerNonTransientError","message":"exit status=50"}]}}"#;
        let OperationStatus::Failed(err) = operation_status(body).unwrap() else {
            panic!("not failed")
        };
        assert_eq!(err.code, "VMExtensionProvisioningError");
        assert_eq!(err.details[0].message, "exit status=50");
        let OperationStatus::Failed(err) = operation_status(br#"{"status":"Failed"}"#).unwrap()
        else {
            panic!("not failed")
        };
        assert_eq!(err.code, "OperationFailed");
    }
}
