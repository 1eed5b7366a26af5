//! Long-running operations: after a 201/202 (or a 200 that names a status URL), poll the
//! `Azure-AsyncOperation` URL (preferred) or the `Location` URL, honouring `Retry-After`, until
//! the operation succeeds, fails (with its error code and nested details), is canceled, or the
//! deadline passes. A PUT answered without a status URL but with a non-terminal
//! `provisioningState` is followed by polling the resource itself.

use http::{Method, Response, StatusCode};
use nodemend_core::model::{ArmError, ProvisioningState};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::executor::{Executor, retry_after};
use crate::parse::{self, OperationStatus};
use crate::requests::ArmRequest;

/// What to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Poll {
    /// Nothing: the answer is final.
    Done,
    /// An `Azure-AsyncOperation` status URL.
    AsyncOperation(String),
    /// A `Location` URL: 202 while running, 200/204 when done.
    Location(String),
    /// The resource itself, until its `provisioningState` is terminal.
    Resource,
}

/// Decides what to poll from the first answer to `method`.
pub(crate) fn plan(method: &Method, response: &Response<Vec<u8>>) -> Poll {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(url) = header("azure-asyncoperation") {
        return Poll::AsyncOperation(url);
    }
    let status = response.status();
    if let Some(url) = header("location")
        .filter(|_| status == StatusCode::ACCEPTED || status == StatusCode::CREATED)
    {
        return Poll::Location(url);
    }
    if method == Method::PUT && !provisioning_state(response.body()).is_none_or(|s| s.is_terminal())
    {
        return Poll::Resource;
    }
    Poll::Done
}

fn provisioning_state(body: &[u8]) -> Option<ProvisioningState> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let state = value
        .get("properties")?
        .get("provisioningState")?
        .as_str()?;
    Some(ProvisioningState::parse(state))
}

/// The error of a resource that ended in `Failed`: `properties.status.provisioningError`
/// where the resource provider reports one.
fn provisioning_error(body: &[u8]) -> ArmError {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let err = v
                .get("properties")?
                .get("status")?
                .get("provisioningError")?;
            parse::arm_error(serde_json::json!({ "error": err }).to_string().as_bytes())
        })
        .unwrap_or(ArmError {
            code: "ProvisioningFailed".into(),
            message: "the resource's provisioningState became Failed".into(),
            details: vec![],
        })
}

impl Executor {
    /// Follows the operation `req` started (its first answer is `first`) to its end; returns
    /// the last body (the final resource where ARM gives one).
    pub async fn wait(&self, req: &ArmRequest, first: Response<Vec<u8>>) -> Result<Vec<u8>> {
        let target = plan(req.http.method(), &first);
        if target == Poll::Done {
            return Ok(first.into_body());
        }
        let deadline = Instant::now() + self.policy.operation_deadline;
        let url = match &target {
            Poll::AsyncOperation(url) | Poll::Location(url) => url.clone(),
            Poll::Resource | Poll::Done => req.http.uri().to_string(),
        };
        let mut last_retry_after = retry_after(first.headers());
        loop {
            let delay = self.policy.poll_delay(last_retry_after);
            if Instant::now() + delay > deadline {
                return Err(Error::OperationTimedOut {
                    operation: req.operation,
                    resource: req.resource.clone(),
                    deadline: self.policy.operation_deadline,
                });
            }
            tokio::time::sleep(delay).await;
            let poll = self.requests.follow(req.operation, &req.resource, &url);
            let response = match self.send(&poll).await {
                Ok(response) => response,
                // A `Location` URL answers a failed operation with its error.
                Err(Error::Rejected { status, error, .. })
                    if matches!(target, Poll::Location(_)) && !matches!(status, 401 | 404) =>
                {
                    return Err(Error::OperationFailed {
                        operation: req.operation,
                        resource: req.resource.clone(),
                        error,
                    });
                }
                Err(err) => return Err(err),
            };
            last_retry_after = retry_after(response.headers());
            match self.outcome(req, &target, &response)? {
                Some(()) => return Ok(response.into_body()),
                None => continue,
            }
        }
    }

    /// `Some(())` when the operation has finished well, `None` while it runs.
    fn outcome(
        &self,
        req: &ArmRequest,
        target: &Poll,
        response: &Response<Vec<u8>>,
    ) -> Result<Option<()>> {
        let failed = |error: ArmError| Error::OperationFailed {
            operation: req.operation,
            resource: req.resource.clone(),
            error: Box::new(error),
        };
        let canceled = || Error::OperationCanceled {
            operation: req.operation,
            resource: req.resource.clone(),
        };
        match target {
            Poll::Done => Ok(Some(())),
            Poll::Location(_) => Ok((response.status() != StatusCode::ACCEPTED).then_some(())),
            Poll::AsyncOperation(_) => {
                let status =
                    parse::operation_status(response.body()).map_err(|source| Error::Parse {
                        operation: req.operation,
                        resource: req.resource.clone(),
                        source,
                    })?;
                match status {
                    OperationStatus::Running => Ok(None),
                    OperationStatus::Succeeded => Ok(Some(())),
                    OperationStatus::Failed(error) => Err(failed(error)),
                    OperationStatus::Canceled => Err(canceled()),
                }
            }
            Poll::Resource => match provisioning_state(response.body()) {
                Some(ProvisioningState::Failed) => Err(failed(provisioning_error(response.body()))),
                Some(ProvisioningState::Canceled) => Err(canceled()),
                Some(s) if !s.is_terminal() => Ok(None),
                _ => Ok(Some(())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixtures::{example, example_headers};

    fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Response<Vec<u8>> {
        let mut r = Response::new(body.to_vec());
        *r.status_mut() = StatusCode::from_u16(status).unwrap();
        for (k, v) in headers {
            r.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        r
    }

    #[test]
    fn prefers_azure_async_operation_over_location() {
        let r = response(
            202,
            &[
                ("Location", "https://m/loc"),
                ("Azure-AsyncOperation", "https://m/op"),
            ],
            b"",
        );
        assert_eq!(
            plan(&Method::POST, &r),
            Poll::AsyncOperation("https://m/op".into())
        );
        let r = response(202, &[("Location", "https://m/loc")], b"");
        assert_eq!(
            plan(&Method::POST, &r),
            Poll::Location("https://m/loc".into())
        );
        assert_eq!(plan(&Method::POST, &response(200, &[], b"")), Poll::Done);
    }

    #[test]
    fn example_action_responses_plan_as_documented() {
        for name in [
            "VirtualMachineScaleSetVM_Restart_MaximumSet_Gen.json",
            "VirtualMachineScaleSetVM_Redeploy_MaximumSet_Gen.json",
            "VirtualMachineScaleSetVM_Reimage_MaximumSet_Gen.json",
            "VirtualMachineScaleSetVM_ReimageAll_MaximumSet_Gen.json",
            "VirtualMachineScaleSet_Restart_MaximumSet_Gen.json",
            "VirtualMachineScaleSet_Redeploy_MaximumSet_Gen.json",
            "VirtualMachineScaleSet_UpdateInstances_MaximumSet_Gen.json",
            "VirtualMachine_Restart_MaximumSet_Gen.json",
            "VirtualMachine_Redeploy_MaximumSet_Gen.json",
            "VirtualMachine_Reimage.json",
        ] {
            let headers = example_headers(name, "202");
            let location = headers
                .as_object()
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{name} has no location"));
            let r = response(202, &[("location", location)], b"");
            assert_eq!(
                plan(&Method::POST, &r),
                Poll::Location(location.to_owned()),
                "{name}"
            );
            assert_eq!(
                plan(&Method::POST, &response(200, &[], b"")),
                Poll::Done,
                "{name}"
            );
        }
    }

    #[test]
    fn a_put_in_progress_without_status_url_polls_the_resource() {
        let creating = example("ManagedClustersCreate_Update.json", "201");
        assert_eq!(
            plan(&Method::PUT, &response(201, &[], &creating)),
            Poll::Resource
        );
        let done = example("ManagedClustersCreate_Update.json", "200");
        assert_eq!(plan(&Method::PUT, &response(200, &[], &done)), Poll::Done);
        let updating = example("AgentPools_Update.json", "201");
        assert_eq!(
            plan(&Method::PUT, &response(201, &[], &updating)),
            Poll::Resource
        );
        let patched = example(
            "VirtualMachine_Update_DetachDataDiskUsingToBeDetachedProperty.json",
            "200",
        );
        assert_eq!(
            plan(&Method::PATCH, &response(200, &[], &patched)),
            Poll::Done
        );
    }

    #[test]
    fn a_failed_resource_reports_its_provisioning_error() {
        let body = br#"{"properties":{"provisioningState":"Failed","status":{"provisioningError":{"code":"VMExtensionError_K8SAPIServerConnFail","message":"cse exit 51"}}}}"#;
        assert_eq!(
            provisioning_error(body).code,
            "VMExtensionError_K8SAPIServerConnFail"
        );
        assert_eq!(provisioning_error(b"{}").code, "ProvisioningFailed");
    }
}
