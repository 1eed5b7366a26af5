//! `nodemend doctor`: asks the Kubernetes API server what this identity may do
//! (`SelfSubjectAccessReview` for every permission in `nodemend_kube::permissions::REQUIRED`)
//! and prints what is missing, grouped by what it breaks.

use std::path::PathBuf;

use clap::Args;
use nodemend_kube::permissions::{self, Need, Review};

use crate::connect::kube_client;
use crate::exit::Outcome;

/// Arguments of `nodemend doctor`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend doctor                                  # in the controller's pod: kubectl exec ... -- nodemend doctor
  nodemend doctor --kubeconfig sa.kubeconfig --lease-namespace nodemend

Exits 0 when every permission is granted, 1 when one is missing. Azure permissions are not
checked yet: grant the custom role in deploy/azure-role.json (docs/install.md).")]
pub(crate) struct DoctorArgs {
    /// Kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,

    /// Namespace of the leader lease, as given to `nodemend run`.
    #[arg(long, env = "POD_NAMESPACE", default_value = "nodemend")]
    lease_namespace: String,
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
    text.push_str(
        "Azure: not checked (reading ARM permissions is not implemented yet); \
         the role nodemend needs is deploy/azure-role.json.\n",
    );
    (text, complete)
}

/// Runs `nodemend doctor`.
pub(crate) fn run(args: DoctorArgs) -> anyhow::Result<Outcome> {
    let DoctorArgs {
        kubeconfig,
        lease_namespace,
    } = args;
    let runtime = tokio::runtime::Runtime::new()?;
    let reviews = runtime.block_on(async {
        let client = kube_client(kubeconfig.as_deref()).await?;
        let reviews = permissions::review(&client, &lease_namespace).await?;
        Ok::<_, anyhow::Error>(reviews)
    })?;
    let (text, complete) = render(&reviews);
    print!("{text}");
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
