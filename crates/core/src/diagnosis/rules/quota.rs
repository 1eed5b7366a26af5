//! `quota-vcpu` and `quota-public-ip`: regional quotas against what the cluster needs.
//!
//! vCPUs: for each VM family the pools use, and for the regional total, the free quota is
//! compared with (a) the vCPUs of nodes the pools are still missing (desired count minus VMs
//! that exist) — not fitting is an error — and (b) those plus the largest surge an upgrade of
//! one pool adds — not fitting is a warning, the next upgrade will fail with `QuotaExceeded`.
//! vCPUs per node are read from the size name (see [`crate::diagnosis::vm_size`]).

use super::reconcile_pool;
use crate::catalog::{Catalog, Severity};
use crate::cloud::QuotaUsage;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;
use crate::diagnosis::vm_size::{self, VmSize};
use crate::model::AgentPool;

pub(super) const VCPU_ID: &str = "quota-vcpu";
pub(super) const PUBLIC_IP_ID: &str = "quota-public-ip";

/// What one pool asks of the vCPU quota.
struct Need<'a> {
    pool: &'a AgentPool,
    size: VmSize,
    /// Nodes the pool wants but has no VM for.
    missing: u32,
    /// Extra nodes an upgrade of the pool adds at once.
    surge: u32,
}

/// Nodes added during an upgrade for `max_surge` (`"3"` or `"33%"`, rounded up); AKS uses one
/// node when it is unset.
pub(crate) fn surge_nodes(max_surge: Option<&str>, count: u32) -> u32 {
    let Some(raw) = max_surge.map(str::trim) else {
        return 1;
    };
    match raw.strip_suffix('%') {
        Some(percent) => {
            let percent: u32 = percent.trim().parse().unwrap_or(0);
            (count.saturating_mul(percent)).div_ceil(100).max(1)
        }
        None => raw.parse::<u32>().unwrap_or(1).max(1),
    }
}

fn needs(snapshot: &Snapshot) -> Vec<Need<'_>> {
    snapshot
        .pools()
        .iter()
        .filter_map(|pool| {
            let size = vm_size::parse(&pool.vm_size)?;
            let have = snapshot.instances(&pool.name).map(<[_]>::len);
            let missing = have.map_or(0, |n| {
                pool.count
                    .saturating_sub(u32::try_from(n).unwrap_or(u32::MAX))
            });
            let max_surge = snapshot
                .pool_facts(&pool.name)
                .and_then(|f| f.max_surge.as_deref());
            Some(Need {
                pool,
                size,
                missing,
                surge: surge_nodes(max_surge, pool.count),
            })
        })
        .collect()
}

fn usage<'s>(snapshot: &'s Snapshot, name: &str) -> Option<&'s QuotaUsage> {
    snapshot
        .azure
        .as_ref()?
        .quotas
        .iter()
        .find(|q| q.name.eq_ignore_ascii_case(name))
}

fn usage_id(snapshot: &Snapshot, provider: &str, name: &str) -> String {
    let location = snapshot
        .cluster()
        .map_or("<location>", |c| c.location.as_str());
    let sub = snapshot.subscription().unwrap_or("<subscription-id>");
    format!("/subscriptions/{sub}/providers/{provider}/locations/{location}/usages/{name}")
}

fn usage_line(usage: &QuotaUsage) -> String {
    format!(
        "{}: {} of {} used, {} free",
        usage.display_name.as_deref().unwrap_or(&usage.name),
        usage.current,
        usage.limit,
        usage.limit.saturating_sub(usage.current)
    )
}

pub(super) fn vcpu(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let needs = needs(snapshot);
    let mut families: Vec<&str> = needs.iter().map(|n| n.size.family.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    let mut out = Vec::new();
    for family in families {
        let group: Vec<&Need<'_>> = needs.iter().filter(|n| n.size.family == family).collect();
        if let Some(usage) = usage(snapshot, family) {
            out.extend(judge(
                snapshot,
                catalog,
                usage,
                &group,
                "VMFamilyCoreQuotaExceeded",
            ));
        }
    }
    if let Some(usage) = usage(snapshot, "cores") {
        let all: Vec<&Need<'_>> = needs.iter().collect();
        out.extend(judge(snapshot, catalog, usage, &all, "QuotaExceeded"));
    }
    out
}

fn judge(
    snapshot: &Snapshot,
    catalog: &Catalog,
    usage: &QuotaUsage,
    group: &[&Need<'_>],
    code: &str,
) -> Option<Finding> {
    let now_need: u64 = group
        .iter()
        .map(|n| u64::from(n.missing) * u64::from(n.size.vcpus))
        .sum();
    let surge = group
        .iter()
        .max_by_key(|n| u64::from(n.surge) * u64::from(n.size.vcpus))?;
    let surge_need = u64::from(surge.surge) * u64::from(surge.size.vcpus);
    let free = usage.limit.saturating_sub(usage.current);
    let (severity, title) = if now_need > free {
        (
            Severity::Error,
            format!(
                "vCPU quota {} cannot fit the nodes the pools are waiting for",
                usage.name
            ),
        )
    } else if now_need + surge_need > free {
        (
            Severity::Warning,
            format!(
                "vCPU quota {} leaves no room for an upgrade's surge nodes",
                usage.name
            ),
        )
    } else {
        return None;
    };
    let pools: Vec<String> = group
        .iter()
        .map(|n| {
            format!(
                "{}: {} × {} ({} vCPUs each, read from the size name)",
                n.pool.name, n.pool.count, n.pool.vm_size, n.size.vcpus
            )
        })
        .collect();
    let missing: Vec<String> = group
        .iter()
        .filter(|n| n.missing > 0)
        .map(|n| format!("{}: {} missing", n.pool.name, n.missing))
        .collect();
    let names = Placeholders::for_snapshot(snapshot).pool(snapshot, &surge.pool.name);
    let mut draft = Draft::new(
        VCPU_ID,
        severity,
        usage_id(snapshot, &usage.provider, &usage.name),
        title,
    )
    .code(code)
    .evidence("usage", usage_line(usage))
    .evidence("pools", list(&pools, 10))
    .evidence(
        "needed to reach node counts",
        format!(
            "{now_need} vCPUs ({})",
            if missing.is_empty() {
                "none missing".to_owned()
            } else {
                list(&missing, 10)
            }
        ),
    )
    .evidence(
        "needed for an upgrade surge",
        format!(
            "{surge_need} vCPUs ({} surge node(s) of {})",
            surge.surge, surge.pool.name
        ),
    )
    .fix(names.fill(&format!(
        "az vm list-usage --location <location> --query \"[?name.value=='{}']\" --output table",
        usage.name
    )))
    .entry(catalog.find(code), &names);
    for need in group
        .iter()
        .filter(|n| n.pool.provisioning_state.is_failed())
    {
        for command in reconcile_pool(snapshot, &need.pool.name) {
            draft = draft.then(command);
        }
    }
    Some(draft.build())
}

/// Check 5 of a failed pool: the family and regional vCPU usage it depends on.
pub(super) fn pool_line(snapshot: &Snapshot, pool: &AgentPool) -> String {
    let Some(size) = vm_size::parse(&pool.vm_size) else {
        return format!(
            "VM size {} not understood; check `az vm list-usage`",
            pool.vm_size
        );
    };
    let mut parts = vec![format!(
        "{} needs {} vCPUs per node",
        pool.vm_size, size.vcpus
    )];
    for name in [size.family.as_str(), "cores"] {
        match usage(snapshot, name) {
            Some(u) => parts.push(usage_line(u)),
            None => parts.push(format!("{name}: no usage read")),
        }
    }
    parts.join("; ")
}

pub(super) fn public_ip(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(azure) = &snapshot.azure else {
        return Vec::new();
    };
    let names = Placeholders::for_snapshot(snapshot);
    azure
        .quotas
        .iter()
        .filter(|q| crate::catalog::normalize(&q.name).contains("publicipaddresses") && q.limit > 0)
        .filter_map(|q| {
            let (severity, title) = if q.current >= q.limit {
                (Severity::Error, "No public IP addresses are left in the region")
            } else if q.current.saturating_mul(10) >= q.limit.saturating_mul(9) {
                (Severity::Warning, "Public IP addresses in the region are nearly used up")
            } else {
                return None;
            };
            Some(
                Draft::new(PUBLIC_IP_ID, severity, usage_id(snapshot, &q.provider, &q.name), title)
                    .code("PublicIPCountLimitReached")
                    .evidence("usage", usage_line(q))
                    .evidence("meaning", "a new LoadBalancer Service, outbound IP or node public IP fails with PublicIPCountLimitReached")
                    .entry(catalog.find("PublicIPCountLimitReached"), &names)
                    .build(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, pool, snapshot};

    #[test]
    fn surge_reads_counts_and_percentages() {
        assert_eq!(surge_nodes(None, 10), 1);
        assert_eq!(surge_nodes(Some("3"), 10), 3);
        assert_eq!(surge_nodes(Some("33%"), 10), 4);
        assert_eq!(surge_nodes(Some("10%"), 3), 1);
        assert_eq!(surge_nodes(Some("junk"), 3), 1);
    }

    #[test]
    fn missing_nodes_that_do_not_fit_are_an_error() {
        // np1 wants 5 D4s_v5 nodes and has 3: 8 vCPUs are missing, 6 are free.
        let snap = snapshot()
            .with_pool(pool("np1").count(5).failed())
            .with_quota("Microsoft.Compute", "standardDSv5Family", 94, 100);
        let findings = vcpu(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.code.as_deref(), Some("VMFamilyCoreQuotaExceeded"));
        assert!(
            f.resource
                .ends_with("/locations/westeurope/usages/standardDSv5Family")
        );
        assert!(
            f.commands[0].contains("name.value=='standardDSv5Family'"),
            "{:?}",
            f.commands
        );
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn each_family_is_judged_on_its_own_pools() {
        // np2 has one of three E8s_v5 VMs: 16 vCPUs missing, 10 free in its family.
        let snap = snapshot()
            .with_pool(pool("np1"))
            .with_pool(pool("np2").size("Standard_E8s_v5").instances(1))
            .with_quota("Microsoft.Compute", "standardDSv5Family", 12, 100)
            .with_quota("Microsoft.Compute", "standardESv5Family", 8, 18);
        let findings = vcpu(&facts(&snap));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].resource.ends_with("/standardESv5Family"));
        assert!(
            findings[0]
                .evidence
                .iter()
                .any(|e| e.value == "16 vCPUs (np2: 2 missing)")
        );
    }

    #[test]
    fn a_surge_that_does_not_fit_is_a_warning() {
        let snap = snapshot().with_pool(pool("np1").max_surge("2")).with_quota(
            "Microsoft.Compute",
            "cores",
            95,
            100,
        );
        let f = &vcpu(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.code.as_deref(), Some("QuotaExceeded"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.starts_with("8 vCPUs (2 surge node(s) of np1)"))
        );
    }

    #[test]
    fn room_to_spare_is_fine() {
        let snap = snapshot()
            .with_pool(pool("np1"))
            .with_quota("Microsoft.Compute", "cores", 12, 100)
            .with_quota("Microsoft.Compute", "standardDSv5Family", 12, 100);
        assert!(vcpu(&facts(&snap)).is_empty());
    }

    #[test]
    fn pool_line_shows_family_and_regional_usage() {
        let snap =
            snapshot()
                .with_pool(pool("np1"))
                .with_quota("Microsoft.Compute", "cores", 12, 100);
        let line = pool_line(&snap, &snap.pools()[0]);
        assert_eq!(
            line,
            "Standard_D4s_v5 needs 4 vCPUs per node; standardDSv5Family: no usage read; cores: 12 of 100 used, 88 free"
        );
    }

    #[test]
    fn public_ips_at_and_near_the_limit() {
        let snap = snapshot()
            .with_quota("Microsoft.Network", "PublicIPAddresses", 10, 10)
            .with_quota("Microsoft.Network", "StandardSkuPublicIpAddresses", 95, 100)
            .with_quota("Microsoft.Network", "StaticPublicIPAddresses", 1, 100);
        let findings = public_ip(&facts(&snap));
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(findings[1].severity, Severity::Warning);
        assert!(
            findings
                .iter()
                .all(|f| f.code.as_deref() == Some("PublicIPCountLimitReached"))
        );
    }
}
