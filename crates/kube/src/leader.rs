//! Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it: the holder
//! renews the lease every third of its duration; a standby takes it over once it has not been
//! renewed for the whole duration. Every write carries the lease's resourceVersion, so two
//! candidates can never both win: the loser gets a 409 Conflict.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use tokio::sync::watch;

use crate::error::{Error, Result, has_status};

/// Settings of one candidate.
#[derive(Debug, Clone)]
pub struct Election {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This candidate's identity (the pod name).
    pub identity: String,
    /// How long a lease holds without renewal.
    pub lease_duration: Duration,
}

/// Whether the current holder's lease has run out at `now`.
fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15));
    now.duration_since(renewed.0).as_secs() >= duration
}

impl Election {
    fn api(&self, client: &kube::Client) -> Api<Lease> {
        Api::namespaced(client.clone(), &self.namespace)
    }

    fn err(&self, operation: &'static str) -> impl FnOnce(kube::Error) -> Error + '_ {
        move |source| Error::Lease {
            operation,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source,
        }
    }

    fn seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs())
            .unwrap_or(i32::MAX)
            .max(1)
    }

    /// One round: acquire or renew the lease if possible. Returns whether this candidate holds it.
    pub async fn try_acquire_or_renew(
        &self,
        client: &kube::Client,
        now: Timestamp,
    ) -> Result<bool> {
        let api = self.api(client);
        let Some(mut lease) = api.get_opt(&self.name).await.map_err(self.err("read"))? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(self.seconds()),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(e) if has_status(&e, 409) => Ok(false),
                Err(e) => Err(self.err("create")(e)),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let mine = holder == self.identity;
        if !mine && !holder.is_empty() && !expired(spec, now) {
            return Ok(false);
        }
        if !mine {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            spec.holder_identity = Some(self.identity.clone());
        }
        spec.renew_time = Some(MicroTime(now));
        spec.lease_duration_seconds = Some(self.seconds());
        match api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if has_status(&e, 409) => Ok(false),
            Err(e) => Err(self.err("update")(e)),
        }
    }

    /// Gives the lease up (on shutdown) so a standby takes over at once.
    pub async fn release(&self, client: &kube::Client) -> Result<()> {
        let api = self.api(client);
        let Some(mut lease) = api.get_opt(&self.name).await.map_err(self.err("read"))? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        match api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if has_status(&e, 409) => Ok(()),
            Err(e) => Err(self.err("update")(e)),
        }
    }

    /// Campaigns until `shutdown` fires, publishing leadership on `leader`. A failed round
    /// counts as not leading: better a pause in repairs than two leaders.
    pub async fn run(
        self,
        client: kube::Client,
        leader: watch::Sender<bool>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let retry = self.lease_duration / 3;
        loop {
            let leading = match self.try_acquire_or_renew(&client, Timestamp::now()).await {
                Ok(leading) => leading,
                Err(err) => {
                    tracing::warn!(error = %err, "leader election round failed");
                    false
                }
            };
            leader.send_if_modified(|current| {
                let changed = *current != leading;
                if changed {
                    tracing::info!(identity = %self.identity, leading, "leadership changed");
                }
                *current = leading;
                changed
            });
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = shutdown.changed() => break,
            }
        }
        leader.send_replace(false);
        if let Err(err) = self.release(&client).await {
            tracing::warn!(error = %err, "could not release the leader-election lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_lease_expires_after_its_duration_without_renewal() {
        let spec = LeaseSpec {
            renew_time: Some(MicroTime(at(0))),
            lease_duration_seconds: Some(15),
            ..LeaseSpec::default()
        };
        assert!(!expired(&spec, at(14)));
        assert!(expired(&spec, at(15)));
        assert!(
            expired(&LeaseSpec::default(), at(0)),
            "never renewed counts as free"
        );
    }
}
