//! Credentials against the simulator's token endpoints: client secret, workload identity,
//! managed identity, refresh of an expired token, and secrets kept out of errors.

use std::collections::HashMap;

use nodemend_azure::AzureProvider;
use nodemend_core::cloud::{CloudErrorKind, CloudProvider};
use nodemend_sim::arm::ArmWorldSpec;
use nodemend_sim::arm::spec::CredentialsSpec;

use crate::common::{config, start};

fn env_of(h: &crate::common::Harness) -> HashMap<String, String> {
    h.sim.env().into_iter().collect()
}

fn token_calls(h: &crate::common::Harness) -> Vec<u16> {
    h.sim
        .calls()
        .iter()
        .filter(|c| c.is_token())
        .map(|c| c.status)
        .collect()
}

#[tokio::test]
async fn a_token_is_fetched_once_and_refreshed_when_arm_says_it_expired() {
    let spec = ArmWorldSpec {
        credentials: CredentialsSpec {
            token_lifetime_secs: 100_000_000,
            ..CredentialsSpec::default()
        },
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    h.provider.cluster(&h.cluster).await.unwrap();
    h.provider.cluster(&h.cluster).await.unwrap();
    assert_eq!(token_calls(&h), vec![200], "the token is cached");
    h.sim.expire_tokens();
    h.provider.cluster(&h.cluster).await.unwrap();
    assert_eq!(token_calls(&h), vec![200, 200], "refreshed after the 401");
    let unauthorized: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.status == 401)
        .collect();
    assert_eq!(unauthorized.len(), 1);
}

#[tokio::test]
async fn a_token_close_to_expiry_is_refreshed_before_use() {
    let spec = ArmWorldSpec {
        credentials: CredentialsSpec {
            token_lifetime_secs: 200_000,
            ..CredentialsSpec::default()
        },
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    // 200,000 simulated seconds at scale 1000 is 200 real seconds: inside a 300 s margin.
    let mut cfg = config(&env_of(&h));
    cfg.token_refresh_margin = std::time::Duration::from_secs(300);
    let provider = AzureProvider::new(&cfg).unwrap();
    let id = h.id(&h.names()[0]);
    provider.instance(&id).await.unwrap();
    provider.instance(&id).await.unwrap();
    assert_eq!(
        token_calls(&h),
        vec![200, 200],
        "each call refreshed the short-lived token"
    );
    assert!(
        h.sim.calls().iter().all(|c| c.status != 401),
        "never sent an expiring token"
    );
}

#[tokio::test]
async fn workload_identity_exchanges_the_federated_token_file() {
    let spec = ArmWorldSpec {
        credentials: CredentialsSpec {
            federated_token: Some("eyJ.projected.token".into()),
            ..CredentialsSpec::default()
        },
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let dir = std::env::temp_dir().join(format!("nodemend-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "eyJ.projected.token\n").unwrap();
    let mut env = env_of(&h);
    env.remove("AZURE_CLIENT_SECRET");
    env.insert(
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        file.display().to_string(),
    );
    let provider = AzureProvider::new(&config(&env)).unwrap();
    provider.cluster(&h.cluster).await.unwrap();

    std::fs::write(&file, "eyJ.someone.elses").unwrap();
    let provider = AzureProvider::new(&config(&env)).unwrap();
    let err = provider.cluster(&h.cluster).await.unwrap_err();
    assert_eq!(
        err.failure_code(),
        "WorkloadIdentityCredential authentication failed"
    );
    assert!(!err.to_string().contains("eyJ"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn managed_identity_through_identity_endpoint() {
    let h = start(ArmWorldSpec::default()).await;
    let mut env = env_of(&h);
    env.remove("AZURE_CLIENT_SECRET");
    env.insert("IDENTITY_ENDPOINT".into(), h.sim.identity_endpoint());
    let provider = AzureProvider::new(&config(&env)).unwrap();
    provider.cluster(&h.cluster).await.unwrap();
    assert!(
        h.sim
            .calls()
            .iter()
            .any(|c| c.path == "/metadata/identity/oauth2/token" && c.status == 200)
    );
}

#[tokio::test]
async fn a_wrong_secret_fails_without_showing_it() {
    let h = start(ArmWorldSpec::default()).await;
    let mut env = env_of(&h);
    env.insert("AZURE_CLIENT_SECRET".into(), "wrong-secret-value".into());
    let provider = AzureProvider::new(&config(&env)).unwrap();
    let err = provider.cluster(&h.cluster).await.unwrap_err();
    assert_eq!(err.kind, CloudErrorKind::Unauthenticated);
    assert_eq!(
        err.failure_code(),
        "ClientSecretCredential authentication failed"
    );
    let shown = format!("{err} {err:?} {provider:?}");
    assert!(shown.contains("AADSTS7000215"), "{shown}");
    assert!(!shown.contains("wrong-secret-value"), "{shown}");
    assert!(!shown.contains("simtoken"), "{shown}");
}

#[tokio::test]
async fn arm_requires_api_version_and_a_bearer_token() {
    let h = start(ArmWorldSpec::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/subscriptions/{}", h.sim.url(), h.cluster.subscription);
    let body: serde_json::Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["error"]["code"], "MissingApiVersionParameter");
    let response = http
        .get(format!("{url}?api-version=2022-12-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    let response = http
        .get(format!("{url}?api-version=2022-12-01"))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn urls_off_the_endpoint_are_never_sent_a_token() {
    let h = start(ArmWorldSpec::default()).await;
    let exec = h.provider.executor();
    for url in [
        "http://attacker.example/op?api-version=1",
        "https://127.0.0.1:1/op",
        "not a url",
    ] {
        let err = exec
            .send(&exec.requests().follow("poll operation", "/x", url))
            .await
            .unwrap_err();
        assert!(
            matches!(err, nodemend_azure::Error::ForeignUrl { .. }),
            "{url}: {err}"
        );
    }
    assert_eq!(
        exec.stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert!(token_calls(&h).is_empty(), "not even a token was fetched");
}
