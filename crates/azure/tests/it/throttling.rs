//! 429 + Retry-After, and the rate-limit headers the client reads.

use std::sync::atomic::Ordering;

use nodemend_core::cloud::{CloudErrorKind, CloudProvider, VmAction};
use nodemend_sim::arm::ArmWorldSpec;
use nodemend_sim::arm::spec::ThrottleSpec;

use crate::common::start;

#[tokio::test]
async fn a_throttled_action_waits_for_retry_after_and_then_runs() {
    let spec = ArmWorldSpec {
        throttles: vec![ThrottleSpec {
            class: "writes".into(),
            operation: Some("restart".into()),
            budget: 1,
            window_secs: 500.0,
        }],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let names = h.names();
    h.provider
        .act(VmAction::Reboot, &h.id(&names[0]))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    h.provider
        .act(VmAction::Reboot, &h.id(&names[1]))
        .await
        .unwrap();
    let statuses: Vec<u16> = h
        .calls("POST", "/restart")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![202, 429, 202]);
    // 500 simulated seconds at scale 1000: Retry-After rounds up to 1 s.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        h.provider
            .executor()
            .stats()
            .throttled
            .load(Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn throttling_beyond_the_policy_is_reported_as_throttled() {
    let spec = ArmWorldSpec {
        throttles: vec![ThrottleSpec {
            class: "reads".into(),
            operation: None,
            budget: 2,
            window_secs: 3_600_000.0,
        }],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let err = h.provider.cluster(&h.cluster).await.unwrap_err();
    assert!(
        matches!(
            err.kind,
            CloudErrorKind::Throttled {
                retry_after_secs: Some(3600)
            }
        ),
        "{:?}",
        err.kind
    );
    assert_eq!(err.failure_code(), "TooManyRequests");
}

#[tokio::test]
async fn responses_carry_the_remaining_budget() {
    let spec = ArmWorldSpec {
        throttles: vec![ThrottleSpec {
            class: "reads".into(),
            operation: None,
            budget: 100,
            window_secs: 60_000.0,
        }],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let env: std::collections::HashMap<String, String> = h.sim.env().into_iter().collect();
    let http = reqwest::Client::new();
    let url = format!(
        "{}/subscriptions/{}?api-version=2022-12-01",
        h.sim.url(),
        h.cluster.subscription
    );
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers().get(REMAINING).is_none(),
        "unauthenticated calls spend nothing"
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", env["AZURE_CLIENT_ID"].as_str()),
        ("client_secret", env["AZURE_CLIENT_SECRET"].as_str()),
        ("scope", "x/.default"),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let token_url = format!(
        "{}/{}/oauth2/v2.0/token",
        h.sim.url(),
        env["AZURE_TENANT_ID"]
    );
    let token: serde_json::Value = http
        .post(token_url)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let response = http.get(&url).bearer_auth(bearer).send().await.unwrap();
        assert_eq!(response.status(), 200);
        remaining.push(response.headers()[REMAINING].to_str().unwrap().to_owned());
    }
    assert_eq!(remaining, vec!["99", "98"]);
}

const REMAINING: &str = "x-ms-ratelimit-remaining-subscription-reads";

#[tokio::test]
async fn the_client_slows_down_as_the_budget_runs_out() {
    let spec = ArmWorldSpec {
        throttles: vec![ThrottleSpec {
            class: "reads".into(),
            operation: None,
            budget: 10,
            window_secs: 60_000.0,
        }],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let mut env: std::collections::HashMap<String, String> = h.sim.env().into_iter().collect();
    env.insert("unused".into(), String::new());
    let mut cfg = crate::common::config(&env);
    cfg.retry.slow_down_below = 10;
    cfg.retry.slow_down_max = std::time::Duration::from_millis(400);
    let provider = nodemend_azure::AzureProvider::new(&cfg).unwrap();
    let id = h.id(&h.names()[0]);
    let started = std::time::Instant::now();
    for _ in 0..3 {
        provider.instance(&id).await.unwrap();
    }
    // After the 1st read 9 remain (pause 40 ms), after the 2nd 8 (pause 80 ms).
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(120),
        "{:?}",
        started.elapsed()
    );
    assert!(
        h.sim.calls().iter().all(|c| c.status != 429),
        "slowed down instead of being throttled"
    );
}
