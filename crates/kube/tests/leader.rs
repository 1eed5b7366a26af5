//! Leader election against the simulated API server over HTTP: one holder at a time, a standby
//! takes over once the holder stops renewing for the lease duration, and a release hands over
//! at once.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use nodemend_kube::leader::Election;
use nodemend_sim::apiserver::{ApiServer, ApiServerConfig};

fn candidate(identity: &str) -> Election {
    Election {
        namespace: "default".into(),
        name: "nodemend".into(),
        identity: identity.into(),
        lease_duration: Duration::from_secs(15),
    }
}

async fn client(kubeconfig: &str) -> kube::Client {
    let file: kube::config::Kubeconfig =
        serde_yaml_ng::from_str(kubeconfig).expect("kubeconfig parses");
    let config =
        kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
            .await
            .expect("kubeconfig usable");
    kube::Client::try_from(config).expect("client")
}

#[tokio::test]
async fn one_leader_at_a_time_and_a_standby_takes_over_after_the_lease_duration() {
    let server = ApiServer::start(ApiServerConfig::default())
        .await
        .expect("API server starts");
    let client = client(&server.kubeconfig()).await;
    let (a, b) = (candidate("replica-a"), candidate("replica-b"));
    let t0 = Timestamp::now();

    assert!(
        a.try_acquire_or_renew(&client, t0).await.unwrap(),
        "the first candidate wins"
    );
    assert!(
        !b.try_acquire_or_renew(&client, t0).await.unwrap(),
        "a second one waits"
    );
    assert!(
        a.try_acquire_or_renew(&client, t0 + SignedDuration::from_secs(5))
            .await
            .unwrap(),
        "the holder renews"
    );
    let before_expiry = t0 + SignedDuration::from_secs(19);
    assert!(
        !b.try_acquire_or_renew(&client, before_expiry)
            .await
            .unwrap(),
        "still held 14 s after the renewal"
    );

    let after_expiry = t0 + SignedDuration::from_secs(21);
    assert!(
        b.try_acquire_or_renew(&client, after_expiry).await.unwrap(),
        "taken over once the lease ran out"
    );
    assert!(
        !a.try_acquire_or_renew(&client, after_expiry).await.unwrap(),
        "the old holder is out"
    );

    b.release(&client).await.unwrap();
    assert!(
        a.try_acquire_or_renew(&client, after_expiry).await.unwrap(),
        "a released lease is free at once"
    );
}
