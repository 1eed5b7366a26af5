//! Every ARM request nodemend sends, built by pure functions on [`Requests`] (the endpoint and
//! api-versions). Nothing here does IO; [`crate::Executor`] sends what these build.

mod access;
mod aks;
mod compute;
mod diag;
mod permission;

pub use aks::cluster_id;
pub use compute::{action_operation, scale_set_id};
pub use diag::activity_filter;
pub use permission::{Command, NeedScope, RoleNeed, UNGATED_ACTIONS, required_action};

use http::{HeaderValue, Method, Request, header};
use url::Url;

use crate::config::ApiVersions;

/// What a request does to the world, which decides how it may be retried and which ARM budget
/// it draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// A GET: safe to retry.
    Read,
    /// A PUT or PATCH of a whole model: idempotent, safe to retry.
    Write,
    /// A POST action (restart, reimage...): never re-sent blindly when its outcome is unknown.
    Action,
}

/// A built request with what the executor needs to report on it.
#[derive(Debug)]
pub struct ArmRequest {
    /// The operation, as errors and logs name it (`restart VM`).
    pub operation: &'static str,
    /// The resource it is about (an ARM ID).
    pub resource: String,
    /// Retry and budget class.
    pub class: OpClass,
    /// The HTTP request, without the `Authorization` header.
    pub http: Request<Vec<u8>>,
}

impl ArmRequest {
    /// A copy to send again (HTTP requests are not `Clone`).
    pub fn duplicate(&self) -> Self {
        let mut http = Request::new(self.http.body().clone());
        *http.method_mut() = self.http.method().clone();
        *http.uri_mut() = self.http.uri().clone();
        *http.headers_mut() = self.http.headers().clone();
        Self {
            operation: self.operation,
            resource: self.resource.clone(),
            class: self.class,
            http,
        }
    }
}

/// Builds ARM requests against one endpoint.
#[derive(Debug, Clone)]
pub struct Requests {
    endpoint: Url,
    versions: ApiVersions,
}

impl Requests {
    /// Builds requests for `endpoint` with these api-versions.
    pub fn new(endpoint: Url, versions: ApiVersions) -> Self {
        Self { endpoint, versions }
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// A GET of an absolute URL ARM handed out: a `nextLink` or an operation-status URL.
    pub fn follow(&self, operation: &'static str, resource: &str, url: &str) -> ArmRequest {
        ArmRequest {
            operation,
            resource: resource.to_owned(),
            class: OpClass::Read,
            http: with_body(Method::GET, url.to_owned(), None),
        }
    }

    fn url(&self, path: &str, version: &str, query: &[(&str, &str)]) -> String {
        let mut url = self.endpoint.clone();
        url.set_path(path);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", version);
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url.into()
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        operation: &'static str,
        method: Method,
        resource: &str,
        path: &str,
        version: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> ArmRequest {
        let class = match method {
            Method::GET => OpClass::Read,
            Method::POST => OpClass::Action,
            _ => OpClass::Write,
        };
        ArmRequest {
            operation,
            resource: resource.to_owned(),
            class,
            http: with_body(method, self.url(path, version, query), body),
        }
    }
}

fn with_body(method: Method, uri: String, body: Option<&serde_json::Value>) -> Request<Vec<u8>> {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let mut req = Request::new(bytes);
    *req.method_mut() = method;
    // `uri` comes from `Url` (or from ARM, for status URLs and next links); one that `http`
    // cannot parse stays empty, and the executor refuses it as a URL off the endpoint.
    *req.uri_mut() = uri.parse().unwrap_or_default();
    let headers = req.headers_mut();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    req
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Requests against the public endpoint with default api-versions.
    pub(crate) fn requests() -> Requests {
        Requests::new(
            Url::parse("https://management.azure.com").unwrap(),
            ApiVersions::default(),
        )
    }

    /// The request's path and its decoded query pairs.
    pub(crate) fn split(req: &ArmRequest) -> (String, Vec<(String, String)>) {
        let uri = req.http.uri();
        let query = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        (uri.path().to_owned(), query)
    }

    /// The body as JSON.
    pub(crate) fn body(req: &ArmRequest) -> serde_json::Value {
        serde_json::from_slice(req.http.body()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn names_are_percent_encoded_and_api_version_always_sent() {
        let req = requests().get_scale_set("s", "rg with space", "vmss");
        let (path, query) = split(&req);
        assert_eq!(
            path,
            "/subscriptions/s/resourceGroups/rg%20with%20space/providers/Microsoft.Compute/virtualMachineScaleSets/vmss"
        );
        assert_eq!(query, vec![("api-version".into(), "2024-11-01".into())]);
        assert_eq!(req.class, OpClass::Read);
    }

    #[test]
    fn duplicate_keeps_method_uri_headers_and_body() {
        let req = requests().scale_set_action(
            "s",
            "rg",
            "vmss",
            nodemend_core::cloud::VmAction::Reboot,
            &["1".to_owned()],
        );
        let copy = req.duplicate();
        assert_eq!(copy.http.method(), req.http.method());
        assert_eq!(copy.http.uri(), req.http.uri());
        assert_eq!(copy.http.headers(), req.http.headers());
        assert_eq!(copy.http.body(), req.http.body());
        assert_eq!(copy.operation, req.operation);
    }

    #[test]
    fn an_unparsable_url_is_refused_not_sent_elsewhere() {
        let req = requests().follow("poll operation", "/x", "not a url");
        assert_eq!(req.http.uri(), "/");
    }

    #[test]
    fn follow_is_a_read_of_the_given_url() {
        let req = requests().follow(
            "poll operation",
            "/x",
            "https://management.azure.com/op/1?api-version=1",
        );
        assert_eq!(req.http.method(), Method::GET);
        assert_eq!(
            req.http.uri().to_string(),
            "https://management.azure.com/op/1?api-version=1"
        );
        assert_eq!(req.class, OpClass::Read);
    }
}
