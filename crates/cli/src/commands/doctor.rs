//! `nodemend doctor`: asks the Kubernetes API server what this identity may do
//! (`SelfSubjectAccessReview` for every permission in `nodemend_kube::permissions::REQUIRED`)
//! and ARM what the Azure identity may do (`Microsoft.Authorization/permissions` at each scope
//! nodemend acts on, against `Requests::role_needs`), and prints what is missing, grouped by
//! what it breaks.

mod azure;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use nodemend_kube::permissions::{self, Need, Review};

use crate::connect::{AzureArgs, kube_client};
use crate::exit::Outcome;

/// Arguments of `nodemend doctor`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend doctor                                  # in the controller's pod: kubectl exec ... -- nodemend doctor
  nodemend doctor --kubeconfig sa.kubeconfig --lease-namespace nodemend
  nodemend doctor -g my-rg -n my-aks --subscription 00000000-0000-0000-0000-000000000000

Kubernetes: one SelfSubjectAccessReview per permission the controller uses. Azure (with -g, -n
and a subscription, or NODEMEND_RESOURCE_GROUP, NODEMEND_CLUSTER and AZURE_SUBSCRIPTION_ID as
the Deployment sets them): the cluster is read for its node resource group and subnets, then
ARM's permissions API says what the signed-in identity may do on the cluster, its resource
group, the node resource group and the subnets' groups; every action repair, diagnosis and
reconcile need is checked there (subscription-wide reads on the cluster's resource group).
Each command is `ok` or `MISSING`, followed by the missing permission, where it is needed and
which call uses it. Exits 0 when everything checked is granted, 1 when something is missing or
could not be checked.")]
pub(crate) struct DoctorArgs {
    /// Kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or the in-cluster account; with
    /// Azure to check and none found, Kubernetes is skipped).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,

    /// Namespace of the leader lease, as given to `nodemend run`.
    #[arg(long, env = "POD_NAMESPACE", default_value = "nodemend")]
    lease_namespace: String,

    #[command(flatten)]
    azure: AzureArgs,
}

const NEEDS: [Need; 5] = [
    Need::Observe,
    Need::Repair,
    Need::Events,
    Need::LeaderElection,
    Need::Archive,
];

/// The report: one line per need, then one per missing permission with its caller.
fn render(reviews: &[Review]) -> (String, bool) {
    let mut text = String::from("Kubernetes (SelfSubjectAccessReview):\n");
    let mut complete = true;
    for need in NEEDS {
        let missing: Vec<&Review> = reviews
            .iter()
            .filter(|r| r.permission.need == need && !r.allowed)
            .collect();
        if missing.is_empty() {
            text.push_str(&format!("  ok       {}\n", need.name()));
            continue;
        }
        complete = false;
        text.push_str(&format!("  MISSING  {}\n", need.name()));
        for review in missing {
            text.push_str(&format!(
                "           {} (used by {})\n",
                review.describe(),
                review.permission.caller
            ));
        }
    }
    (text, complete)
}

/// The cluster to check in Azure: none when neither -g nor -n is given; an error when only
/// part of it is.
fn azure_target(azure: &AzureArgs) -> anyhow::Result<Option<nodemend_core::cloud::ClusterRef>> {
    match (&azure.resource_group, &azure.cluster) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => azure.cluster_ref().map(Some).context(
            "no subscription for the cluster: give --subscription or set AZURE_SUBSCRIPTION_ID",
        ),
        _ => anyhow::bail!(
            "give both -g/--resource-group and -n/--name (or NODEMEND_RESOURCE_GROUP and NODEMEND_CLUSTER) to check Azure"
        ),
    }
}

/// Runs `nodemend doctor`.
pub(crate) fn run(args: DoctorArgs) -> anyhow::Result<Outcome> {
    let DoctorArgs {
        kubeconfig,
        lease_namespace,
        azure,
    } = args;
    let target = azure_target(&azure)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut complete = true;
    runtime.block_on(async {
        let client = match (&kubeconfig, &target) {
            (None, Some(_)) => match kube_client(None).await {
                Ok(client) => Some(client),
                Err(err) => {
                    println!("Kubernetes: not checked: {err}");
                    None
                }
            },
            (path, _) => Some(kube_client(path.as_deref()).await?),
        };
        if let Some(client) = client {
            let reviews = permissions::review(&client, &lease_namespace).await?;
            let (text, ok) = render(&reviews);
            print!("{text}");
            complete &= ok;
        }
        match &target {
            Some(target) => {
                let provider = azure.provider()?;
                let report = azure::check(&provider, target).await?;
                let (text, ok) = azure::render(&report);
                print!("{text}");
                complete &= ok;
            }
            None => println!(
                "Azure: not checked (give -g, -n and a subscription, or NODEMEND_RESOURCE_GROUP, NODEMEND_CLUSTER and AZURE_SUBSCRIPTION_ID); the role nodemend needs is deploy/azure-role.json"
            ),
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(if complete {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodemend_kube::permissions::REQUIRED;

    fn reviews(denied: &str) -> Vec<Review> {
        REQUIRED
            .iter()
            .flat_map(|p| {
                p.verbs.iter().map(move |verb| Review {
                    permission: p,
                    verb,
                    namespace: None,
                    allowed: !(p.resource == denied && *verb == "patch"),
                    reason: None,
                })
            })
            .collect()
    }

    #[test]
    fn names_the_missing_permission_under_what_it_breaks() {
        let (text, complete) = render(&reviews("nodes"));
        assert!(!complete);
        assert!(text.contains("  MISSING  repair\n"), "{text}");
        assert!(
            text.contains("patch nodes (cluster-wide) (used by cordon::set_unschedulable)"),
            "{text}"
        );
        assert!(text.contains("  ok       observe\n"), "{text}");
    }

    #[test]
    fn all_granted_is_complete() {
        let (text, complete) = render(&reviews("none"));
        assert!(complete, "{text}");
        assert!(!text.contains("MISSING"), "{text}");
    }
}
