//! ARM's error body, `{"error": {code, message, target, details}}`, and the unwrapped variant
//! some throttling answers use (`{code, message, details}`).

use nodemend_core::model::ArmError;
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct Body {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Vec<Body>,
    #[serde(default)]
    error: Option<Box<Body>>,
}

impl Body {
    fn into_arm(self) -> ArmError {
        ArmError {
            code: self.code.unwrap_or_default(),
            message: self.message.unwrap_or_default(),
            details: self.details.into_iter().map(Body::into_arm).collect(),
        }
    }
}

/// The error in an ARM error body, either shape; `None` when the body carries no code.
pub fn arm_error(body: &[u8]) -> Option<ArmError> {
    let body: Body = serde_json::from_slice(body).ok()?;
    let inner = match body.error {
        Some(inner) => *inner,
        None => body,
    };
    inner.code.is_some().then(|| inner.into_arm())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrapped_errors_with_nested_details() {
        let err = arm_error(
            br#"{"error":{"code":"VMRedeploymentFailed","message":"outer","target":"vm","details":[{"code":"AllocationFailed","message":"inner"}]}}"#,
        )
        .unwrap();
        assert_eq!(err.code, "VMRedeploymentFailed");
        assert_eq!(err.details[0].code, "AllocationFailed");
        assert_eq!(err.innermost_code(), "AllocationFailed");
    }

    #[test]
    fn reads_the_unwrapped_throttling_shape() {
        let err = arm_error(
            br#"{"code":"OperationNotAllowed","message":"throttled","details":[{"code":"TooManyRequests","target":"HighCostGet30Min","message":"{\"operationGroup\":\"HighCostGet30Min\"}"}]}"#,
        )
        .unwrap();
        assert_eq!(err.code, "OperationNotAllowed");
        assert_eq!(err.details[0].code, "TooManyRequests");
    }

    #[test]
    fn bodies_without_a_code_give_none() {
        assert!(arm_error(b"").is_none());
        assert!(arm_error(b"<html>bad gateway</html>").is_none());
        assert!(arm_error(br#"{"value":[]}"#).is_none());
    }
}
