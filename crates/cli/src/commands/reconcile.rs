//! `nodemend reconcile cluster | pool <name> | node <name>`: re-apply the current model of the
//! cluster, an agent pool, or a node's VM, which brings a resource in the Failed state back to
//! Succeeded once its cause is gone. Shows what it will do and the `az` equivalent, asks before
//! acting, follows the long-running operation, reports the final provisioning state, then runs
//! the diagnosis rules again and prints what they still find about the resource.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use futures::future::join_all;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Node;
use nodemend_azure::AzureProvider;
use nodemend_core::ProviderId;
use nodemend_core::catalog::Catalog;
use nodemend_core::cloud::{CloudError, CloudProvider as _, ClusterRef, ReconcileTarget, VmAction};
use nodemend_core::diagnosis::{Finding, Report, diagnose};
use nodemend_core::model::{Cluster, ProvisioningState};

use super::diagnose::{SourceArgs, open_sources};
use crate::collect::{self, ActivityFilter, Progress, Window};
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};
use crate::report::{self, Format, Options};
use crate::style::Style;
use crate::window::parse_window;

/// Arguments of `nodemend reconcile`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend reconcile cluster -g my-rg -n my-aks
  nodemend reconcile pool nodepool1 -g my-rg -n my-aks --dry-run
  nodemend reconcile node aks-nodepool1-12345678-vmss000001 -g my-rg -n my-aks --yes

A reconcile re-applies the resource's current model, as `az resource update --ids <cluster>`,
`az aks nodepool update`, `az vmss update-instances` or `az vm update` do; it changes no
setting. Fix the cause first (`nodemend diagnose` says what it is). Without --yes the command
asks before acting, and refuses when standard input is not a terminal. Exit status: 0 when the
operation succeeded (or --dry-run, or the question was declined), 1 when it failed or could not
start, 2 for a usage error.")]
pub(crate) struct ReconcileArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// The managed cluster (which also reconciles every pool): `az resource update --ids`.
    Cluster {
        #[command(flatten)]
        common: Common,
    },
    /// One agent pool: `az aks nodepool update`.
    Pool {
        /// The pool's name.
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// The VM behind one node: `az vmss update-instances` (scale set) or `az vm update`.
    Node {
        /// The node's name (its VM's computer name).
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
struct Common {
    #[command(flatten)]
    sources: SourceArgs,

    /// Act without asking.
    #[arg(long, short)]
    yes: bool,

    /// Only show what would be done.
    #[arg(long, conflicts_with = "yes")]
    dry_run: bool,

    /// Activity-log window of the diagnosis that runs afterwards.
    #[arg(long, default_value = "24h", value_parser = parse_window, value_name = "DURATION")]
    since: SignedDuration,

    /// No progress on standard error.
    #[arg(long, short)]
    quiet: bool,

    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// What will be acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// A reconcile of the cluster or a pool.
    Reconcile(ReconcileTarget),
    /// A model update of one VM.
    Update(ProviderId),
}

/// What the command will do, as it shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// `cluster aks1`, `pool nodepool1`, `node aks-...000001`.
    subject: String,
    /// The ARM resource acted on.
    resource: String,
    /// Its provisioning state now.
    state: ProvisioningState,
    /// What happens, in words.
    effect: &'static str,
    /// The `az` command that does the same.
    az: String,
    /// The action.
    action: Action,
    /// Resource prefixes whose findings are shown afterwards.
    scope: Vec<String>,
}

/// Runs `nodemend reconcile`.
pub(crate) fn run(args: ReconcileArgs) -> anyhow::Result<Outcome> {
    let common = match &args.what {
        What::Cluster { common } | What::Pool { common, .. } | What::Node { common, .. } => common,
    };
    logging::init(common.log_format);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(reconcile_command(args))
}

async fn reconcile_command(args: ReconcileArgs) -> anyhow::Result<Outcome> {
    let (what, common) = match args.what {
        What::Cluster { common } => (Target::Cluster, common),
        What::Pool { name, common } => (Target::Pool(name), common),
        What::Node { name, common } => (Target::Node(name), common),
    };
    let progress = Progress::stderr(common.quiet);
    let (sources, target) = open_sources(&common.sources, &progress).await?;
    let Some((provider, cluster_ref)) = &sources.azure else {
        anyhow::bail!(
            "reconcile acts through Azure: give -g/--resource-group, -n/--name and a subscription (or NODEMEND_RESOURCE_GROUP, NODEMEND_CLUSTER, AZURE_SUBSCRIPTION_ID)"
        );
    };
    let plan = plan(provider, cluster_ref, sources.kubernetes.as_ref(), &what).await?;
    print!("{}", render_plan(&plan));
    if common.dry_run {
        println!("Dry run: nothing was changed.");
        return Ok(Outcome::Success);
    }
    if !common.yes && !confirm(&plan)? {
        println!("Nothing was changed.");
        return Ok(Outcome::Success);
    }
    let result = follow(provider, &plan, &progress).await;
    let state = current_state(provider, cluster_ref, &plan.action).await;
    let state_text = match &state {
        Ok(state) => state.to_string(),
        Err(err) => format!("unknown ({err})"),
    };
    let outcome = match &result {
        Ok(()) => {
            println!("Done: {} is now {state_text}.", plan.subject);
            tracing::debug!(subject = %plan.subject, resource = %plan.resource, state = %state_text, "reconciled");
            Outcome::Success
        }
        Err(err) => {
            println!(
                "Failed: {err}\nProvisioning state of {}: {state_text}.",
                plan.subject
            );
            tracing::warn!(subject = %plan.subject, resource = %plan.resource, error = %err, "reconcile failed");
            Outcome::Failed
        }
    };
    let now = Timestamp::now();
    let since = now.checked_sub(common.since).unwrap_or(now);
    let window = Window {
        now,
        since,
        activity: ActivityFilter::Failed,
    };
    let snapshot = collect::snapshot(target, &sources, window, &progress).await;
    let catalog = Catalog::builtin();
    let report = diagnose(&snapshot, catalog);
    let after = Report {
        findings: report
            .findings
            .iter()
            .filter(|f| concerns(f, &plan.scope))
            .cloned()
            .collect(),
        ..report
    };
    println!("\nDiagnosis of {} afterwards:", plan.subject);
    print!(
        "{}",
        report::render(
            &after,
            catalog,
            Format::Text,
            Options {
                explain: false,
                style: Style::stdout(),
            },
        )?
    );
    Ok(outcome)
}

/// What was named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Cluster,
    Pool(String),
    Node(String),
}

async fn read_cluster(provider: &AzureProvider, cluster: &ClusterRef) -> anyhow::Result<Cluster> {
    provider
        .cluster(cluster)
        .await
        .with_context(|| format!("cannot read cluster {}", cluster.name))
}

/// Works out what to act on, reading its current state.
async fn plan(
    provider: &AzureProvider,
    cluster_ref: &ClusterRef,
    kubernetes: Option<&kube::Client>,
    what: &Target,
) -> anyhow::Result<Plan> {
    match what {
        Target::Cluster => {
            let cluster = read_cluster(provider, cluster_ref).await?;
            let id = cluster.arm_id();
            let node_group = format!(
                "/subscriptions/{}/resourceGroups/{}",
                cluster.subscription, cluster.node_resource_group
            );
            Ok(Plan {
                subject: format!("cluster {}", cluster.name),
                resource: id.clone(),
                state: cluster.provisioning_state.clone(),
                effect: "re-apply the cluster's current model (every pool is reconciled with it)",
                az: format!("az resource update --ids {id}"),
                action: Action::Reconcile(ReconcileTarget::Cluster(cluster_ref.clone())),
                scope: vec![id, node_group],
            })
        }
        Target::Pool(name) => {
            let cluster = read_cluster(provider, cluster_ref).await?;
            let Some(pool) = cluster.pool(name) else {
                let known: Vec<&str> = cluster.pools.iter().map(|p| p.name.as_str()).collect();
                anyhow::bail!(
                    "cluster {} has no agent pool {name:?} (pools: {})",
                    cluster.name,
                    known.join(", ")
                );
            };
            let id = format!("{}/agentPools/{}", cluster.arm_id(), pool.name);
            let mut scope = vec![id.clone()];
            if let Some(set) = &pool.scale_set {
                scope.push(format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{set}",
                    cluster.subscription, cluster.node_resource_group
                ));
            }
            Ok(Plan {
                subject: format!("pool {}", pool.name),
                resource: id,
                state: pool.provisioning_state.clone(),
                effect: "re-apply the agent pool's current model",
                az: format!(
                    "az aks nodepool update --resource-group {} --cluster-name {} --name {}",
                    cluster.resource_group, cluster.name, pool.name
                ),
                action: Action::Reconcile(ReconcileTarget::Pool {
                    cluster: cluster_ref.clone(),
                    pool: pool.name.clone(),
                }),
                scope,
            })
        }
        Target::Node(name) => {
            let id = match node_provider_id(kubernetes, name).await? {
                Some(id) => id,
                None => vm_by_computer_name(provider, cluster_ref, name).await?,
            };
            let vm = provider
                .instance(&id)
                .await
                .with_context(|| format!("cannot read the VM of node {name}"))?;
            Ok(Plan {
                subject: format!("node {name}"),
                resource: id.arm_id(),
                state: vm.provisioning_state,
                effect: match id {
                    ProviderId::ScaleSetVm { .. } => {
                        "re-apply the scale set's model to the node's instance"
                    }
                    ProviderId::Vm { .. } => "re-apply the VM's model",
                },
                az: id.update_command(),
                scope: vec![id.arm_id(), format!("node/{name}")],
                action: Action::Update(id),
            })
        }
    }
}

/// The VM behind a node, from the node's provider ID; `None` when Kubernetes was not read, the
/// node is not there, or its provider ID is not an Azure VM's.
async fn node_provider_id(
    kubernetes: Option<&kube::Client>,
    name: &str,
) -> anyhow::Result<Option<ProviderId>> {
    let Some(client) = kubernetes else {
        return Ok(None);
    };
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let node = match nodes.get_opt(name).await {
        Ok(node) => node,
        Err(err) => {
            tracing::warn!(node = name, error = %err, "cannot read the node; looking for its VM in Azure");
            return Ok(None);
        }
    };
    let raw = node.and_then(|n| n.spec).and_then(|s| s.provider_id);
    Ok(raw.and_then(|raw| match raw.parse::<ProviderId>() {
        Ok(id) => Some(id),
        Err(err) => {
            tracing::warn!(node = name, provider_id = %raw, error = %err, "unusable provider ID; looking for the VM by computer name");
            None
        }
    }))
}

/// The VM whose computer name is `name`, searched in every pool (one list per pool).
async fn vm_by_computer_name(
    provider: &AzureProvider,
    cluster_ref: &ClusterRef,
    name: &str,
) -> anyhow::Result<ProviderId> {
    let cluster = read_cluster(provider, cluster_ref).await?;
    let lists = join_all(
        cluster
            .pools
            .iter()
            .map(|p| provider.pool_instances(&cluster, &p.name)),
    )
    .await;
    lists
        .into_iter()
        .flatten()
        .flatten()
        .find(|vm| {
            vm.computer_name
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(name))
        })
        .map(|vm| vm.id)
        .with_context(|| {
            format!(
                "no node {name}: not found in Kubernetes, and no VM of cluster {} has that computer name",
                cluster.name
            )
        })
}

fn render_plan(plan: &Plan) -> String {
    format!(
        "Reconcile {}\n  resource:           {}\n  provisioning state: {}\n  action:             {}\n  equivalent:         {}\n",
        plan.subject, plan.resource, plan.state, plan.effect, plan.az
    )
}

/// Asks on the terminal; refuses when there is no terminal to ask on.
fn confirm(plan: &Plan) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "not reconciling {} without confirmation: standard input is not a terminal (pass --yes to act without asking, or --dry-run to only show)",
            plan.subject
        );
    }
    let mut err = std::io::stderr();
    write!(err, "Reconcile {} now? [y/N] ", plan.subject)
        .and_then(|()| err.flush())
        .context("cannot ask on standard error")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Runs the action and shows how long it has been going while the cloud works.
async fn follow(
    provider: &AzureProvider,
    plan: &Plan,
    progress: &Progress,
) -> Result<(), CloudError> {
    let label = format!("reconciling {}", plan.subject);
    progress.say(&format!("{label}: waiting for the operation to finish"));
    let started = Instant::now();
    let operation = async {
        match &plan.action {
            Action::Reconcile(target) => provider.reconcile(target).await,
            Action::Update(id) => provider.act(VmAction::Update, id).await,
        }
    };
    tokio::pin!(operation);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let result = loop {
        tokio::select! {
            result = &mut operation => break result,
            _ = tick.tick() => progress.waiting(&label, started.elapsed()),
        }
    };
    progress.finish();
    tracing::debug!(subject = %plan.subject, ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "operation finished");
    result
}

/// The provisioning state of what was acted on, read again.
async fn current_state(
    provider: &AzureProvider,
    cluster_ref: &ClusterRef,
    action: &Action,
) -> Result<ProvisioningState, CloudError> {
    match action {
        Action::Update(id) => Ok(provider.instance(id).await?.provisioning_state),
        Action::Reconcile(ReconcileTarget::Cluster(_)) => {
            Ok(provider.cluster(cluster_ref).await?.provisioning_state)
        }
        Action::Reconcile(ReconcileTarget::Pool { pool, .. }) => {
            let cluster = provider.cluster(cluster_ref).await?;
            Ok(cluster
                .pool(pool)
                .map_or(ProvisioningState::parse("NotFound"), |p| {
                    p.provisioning_state.clone()
                }))
        }
    }
}

/// Whether a finding is about one of the resources in `scope` (itself or anything under it).
fn concerns(finding: &Finding, scope: &[String]) -> bool {
    let resource = finding.resource.to_ascii_lowercase();
    scope.iter().any(|prefix| {
        let prefix = prefix.to_ascii_lowercase();
        resource == prefix || resource.starts_with(&format!("{prefix}/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodemend_core::catalog::Severity;

    fn finding(resource: &str) -> Finding {
        Finding {
            rule: "vm-failed",
            severity: Severity::Error,
            resource: resource.into(),
            code: None,
            title: String::new(),
            evidence: vec![],
            cause: vec![],
            remedy: vec![],
            commands: vec![],
            docs: None,
            entry: None,
        }
    }

    #[test]
    fn findings_under_the_reconciled_resource_are_shown() {
        let scope = vec!["/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/agentPools/np1".to_owned(), "node/n1".to_owned()];
        assert!(concerns(&finding(&scope[0].to_uppercase()), &scope));
        assert!(concerns(&finding("node/n1"), &scope));
        assert!(!concerns(&finding("node/n10"), &scope));
        assert!(!concerns(
            &finding(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/agentPools/np10"
            ),
            &scope
        ));
    }

    #[test]
    fn the_az_equivalent_follows_the_kind_of_vm() {
        let vmss: ProviderId = "azure:///subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np1-vmss/virtualMachines/3".parse().unwrap();
        assert_eq!(
            vmss.update_command(),
            "az vmss update-instances --resource-group mc_rg --name aks-np1-vmss --instance-ids 3"
        );
        let vm: ProviderId =
            "azure:///subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachines/aks-np1-0"
                .parse()
                .unwrap();
        assert_eq!(
            vm.update_command(),
            "az vm update --resource-group mc_rg --name aks-np1-0"
        );
    }

    #[test]
    fn the_plan_names_resource_state_and_equivalent() {
        let cluster = ClusterRef {
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: "aks".into(),
        };
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks".to_owned();
        let plan = Plan {
            subject: "cluster aks".into(),
            resource: id.clone(),
            state: ProvisioningState::Failed,
            effect: "re-apply",
            az: format!("az resource update --ids {id}"),
            action: Action::Reconcile(ReconcileTarget::Cluster(cluster)),
            scope: vec![id.clone()],
        };
        let text = render_plan(&plan);
        assert!(text.starts_with("Reconcile cluster aks\n"), "{text}");
        assert!(text.contains("provisioning state: Failed"), "{text}");
        assert!(text.contains(&format!(
            "equivalent:         az resource update --ids {id}"
        )));
    }
}
