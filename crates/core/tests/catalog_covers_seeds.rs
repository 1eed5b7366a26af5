//! The built-in catalog must cover every error, issue, scenario and auto-repair code named in the
//! two seed documents, and every entry of the reference catalog's quick index.
//!
//! Both lists are committed here, so dropping or renaming a catalog entry fails the build even
//! where the documents are not available. When the documents are on disk (`../shared` next to
//! the repository), the lists are also checked against them, so they cannot drift apart.

use std::collections::BTreeSet;
use std::path::Path;

use nodemend_core::catalog::{Catalog, Entry};

/// Every row of the seed tables, the failed-state scenarios and the auto-repair reasons and codes:
/// (the phrase as the seed writes it, the catalog code that covers it).
const SEED_ITEMS: &[(&str, &str)] = &[
    // Failed-state seed, "Common causes": the cause column.
    (
        "Custom Script Extension (CSE) virtual machine (VM) extension provisioning error",
        "VMExtensionProvisioningError",
    ),
    (
        "Key Azure resources unavailable",
        "KeyAzureResourceUnavailable",
    ),
    (
        "VM allocation failure due to no zonal/regional capacity",
        "AllocationFailed",
    ),
    (
        "VM allocation failure due to exceeded core quota",
        "QuotaExceeded",
    ),
    (
        "Customer imposed restrictions",
        "CustomerImposedRestriction",
    ),
    ("Workload issues", "WorkloadIssue"),
    // Failed-state seed, "Common causes": the errors linked from the reference column.
    (
        "Troubleshoot node not ready failures caused by CSE errors",
        "VMExtensionProvisioningError",
    ),
    (
        "\"Unable to get log analytics workspace info\" error",
        "LogAnalyticsWorkspaceNotFound",
    ),
    (
        "Cluster Load Balancer InvalidResourceReference error",
        "InvalidResourceReference",
    ),
    ("SubnetFull error", "SubnetIsFull"),
    (
        "Private DNS Zone InternalOperationError",
        "PrivateDNSZoneInternalOperationError",
    ),
    (
        "AllocationFailed or ZonalAllocationFailed error",
        "AllocationFailed",
    ),
    ("AllocationFailed", "AllocationFailed"),
    ("ZonalAllocationFailed", "ZonalAllocationFailed"),
    (
        "Associate capacity reservation groups to node pools",
        "AllocationFailed",
    ),
    ("Quotaexceeded error", "QuotaExceeded"),
    (
        "RequestDisallowedByPolicy error",
        "RequestDisallowedByPolicy",
    ),
    (
        "Setting resource lock prevents nodepool from scaling down",
        "ScopeLocked",
    ),
    (
        "A PodDisruptionBudget (PDB) failed to drain pods",
        "PodDrainFailure",
    ),
    (
        "The kube-system pods are not running",
        "KubeSystemPodsNotRunning",
    ),
    // Failed-state seed, "Basic troubleshooting of common errors".
    (
        "OutboundConnFailVMExtensionError",
        "OutboundConnFailVMExtensionError",
    ),
    ("Drain error", "PodDrainFailure"),
    (
        "SubscriptionNotRegistered error",
        "MissingSubscriptionRegistration",
    ),
    ("QuotaExceeded error", "QuotaExceeded"),
    (
        "PublicIPCountLimitReached error",
        "PublicIPCountLimitReached",
    ),
    (
        "OverconstrainedAllocationRequest error",
        "OverconstrainedAllocationRequest",
    ),
    (
        "ReadOnlyDisabledSubscription error",
        "ReadOnlyDisabledSubscription",
    ),
    // Failed-state seed, "Basic troubleshooting of other possible issues".
    ("The subnet size is too small", "InsufficientSubnetSize"),
    ("The virtual network is blocked", "VirtualNetworkBlocked"),
    ("PDB problems", "PodDrainFailure"),
    ("Infrastructure issues", "InfrastructureError"),
    ("API server errors", "APIServerError"),
    // Failed-state seed, scenarios 1-3.
    ("Cluster is in a failed state", "ClusterProvisioningFailed"),
    ("Cluster creation failed", "ClusterProvisioningFailed"),
    ("Cluster upgrade failed", "ClusterProvisioningFailed"),
    ("Node is in a failed state", "NodeVMFailedAfterDiskDetach"),
    (
        "Node pool is in a failed state",
        "NodePoolProvisioningFailed",
    ),
    // Auto-repair seed: event reasons.
    ("NodeRebootError", "NodeRebootError"),
    ("NodeReimageError", "NodeReimageError"),
    ("NodeRedeployError", "NodeRedeployError"),
    // Auto-repair seed: error codes.
    (
        "VMExtensionProvisioningError",
        "VMExtensionProvisioningError",
    ),
    ("InvalidParameter", "InvalidParameter"),
    (
        "scaleSetNameAndInstanceIDFromProviderID failed",
        "scaleSetNameAndInstanceIDFromProviderID failed",
    ),
    (
        "ManagedIdentityCredential authentication failed",
        "ManagedIdentityCredential authentication failed",
    ),
    ("VMRedeploymentFailed", "VMRedeploymentFailed"),
    (
        "TooManyVMRedeploymentRequests",
        "TooManyVMRedeploymentRequests",
    ),
    (
        "OutboundConnectivityNotEnabledOnVMSS",
        "OutboundConnectivityNotEnabledOnVMSS",
    ),
    // Auto-repair seed: codes named in the links of the error table.
    ("ERR_VHD_FILE_NOT_FOUND", "VMExtensionError_VHDFileNotFound"),
    (
        "OutboundConnectivityNotEnabledOnVM",
        "OutboundConnectivityNotEnabledOnVMSS",
    ),
];

/// Every code or alias named in the quick index (C01-C66) of
/// `shared/reference/aks-error-catalog.md`, with nodemend's own code for rows that name none.
const REFERENCE_CODES: &[(&str, &str)] = &[
    ("C01", "VMExtensionProvisioningError"),
    ("C01", "VMExtensionHandlerNonTransientError"),
    ("C02", "OutboundConnFailVMExtensionError"),
    ("C02", "VMExtensionError_OutboundConnFail"),
    ("C03", "K8SAPIServerConnFailVMExtensionError"),
    ("C03", "VMExtensionError_K8SAPIServerConnFail"),
    ("C04", "K8SAPIServerDNSLookupFailVMExtensionError"),
    ("C04", "VMExtensionError_K8SAPIServerDNSLookupFail"),
    ("C05", "ERR_K8S_API_SERVER_AZURE_DNS_LOOKUP_FAIL"),
    ("C06", "VMExtensionError_VHDFileNotFound"),
    ("C07", "VMExtensionError_CniDownloadTimeout"),
    ("C08", "VMExtensionError_K8SDownloadTimeout"),
    ("C09", "OrasPullNetworkTimeoutVMExtensionError"),
    ("C10", "OrasPullUnauthorizedVMExtensionError"),
    ("C11", "VMExtensionProvisioningTimeout"),
    ("C12", "PackageMirrorUnreachable"),
    ("C12", "ERR_APT_UPDATE_TIMEOUT"),
    ("C12", "ERR_APT_INSTALL_TIMEOUT"),
    ("C12", "ERR_APT_DAILY_TIMEOUT"),
    ("C12", "ERR_APT_DIST_UPGRADE_TIMEOUT"),
    ("C13", "WINDOWS_CSE_ERROR_CHECK_API_SERVER_CONNECTIVITY"),
    ("C14", "WindowsCSEDownloadFailed"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_FILE_WITH_RETRY"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_CSE_PACKAGE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_KUBERNETES_PACKAGE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_CNI_PACKAGE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_HNS_MODULE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_CALICO_PACKAGE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_GMSA_PACKAGE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_CSI_PROXY_PACKAGE"),
    ("C14", "WINDOWS_CSE_ERROR_DOWNLOAD_CONTAINERD_PACKAGE"),
    ("C15", "OutboundConnectivityNotEnabledOnVM"),
    ("C15", "OutboundConnectivityNotEnabledOnVMSS"),
    ("C16", "QuotaExceeded"),
    ("C16", "InsufficientVCPUQuota"),
    ("C17", "OperationNotAllowed"),
    ("C17", "VMFamilyCoreQuotaExceeded"),
    ("C18", "PublicIPCountLimitReached"),
    ("C19", "SubnetIsFull"),
    ("C20", "InsufficientSubnetSize"),
    ("C21", "ZonalAllocationFailed"),
    ("C22", "AllocationFailed"),
    ("C23", "OverconstrainedAllocationRequest"),
    ("C24", "AvailabilityZoneNotSupported"),
    ("C25", "AksCapacityHeavyUsage"),
    ("C25", "AKSCapacityError"),
    ("C25", "KubernetesAPICallFailed"),
    ("C26", "RequestDisallowedByPolicy"),
    ("C27", "RequestDisallowedByPolicy"),
    ("C28", "ScopeLocked"),
    ("C29", "MissingSubscriptionRegistration"),
    ("C29", "SubscriptionNotRegistered"),
    ("C30", "ReadOnlyDisabledSubscription"),
    ("C31", "UpgradeFailed"),
    ("C31", "PodDrainFailure"),
    ("C32", "UnsatisfiablePDB"),
    ("C33", "DeprecatedAPIUsageBlocksUpgrade"),
    ("C34", "K8sVersionNotSupported"),
    ("C35", "OperationNotAllowed"),
    ("C35", "UpgradeVersionNotAllowed"),
    ("C36", "NodePoolMcVersionIncompatible"),
    ("C37", "OperationNotAllowed"),
    ("C38", "AKSOperationPreempted"),
    ("C38", "AKSOperationPreemptedByDelete"),
    ("C39", "Throttled"),
    ("C39", "AKSRequestsThrottled"),
    ("C40", "TooManyRequestsReceived"),
    ("C40", "SubscriptionRequestsThrottled"),
    ("C40", "TooManyRequests"),
    ("C41", "InvalidResourceReference"),
    ("C42", "Unable to get log analytics workspace info"),
    ("C42", "LogAnalyticsWorkspaceNotFound"),
    ("C42", "ResourceGroupNotFound"),
    ("C43", "InvalidParameter"),
    ("C44", "ReservedResourceName"),
    ("C45", "DnsServiceIpOutOfServiceCidr"),
    ("C46", "ServiceCidrOverlapExistingSubnetsCidr"),
    ("C47", "InvalidLoadBalancerProfileAllocatedOutboundPorts"),
    ("C48", "SubnetIsDelegated"),
    (
        "C49",
        "SubnetWithExternalResourcesCannotBeUsedByOtherResources",
    ),
    ("C50", "VirtualNetworkNotInSucceededState"),
    ("C51", "CreateOrUpdateVirtualNetworkLinkFailed"),
    ("C52", "CustomPrivateDNSZoneMissingPermissionError"),
    ("C53", "LinkedAuthorizationFailed"),
    ("C54", "BadRequest"),
    ("C54", "InvalidClientSecret"),
    ("C54", "AADSTS7000222"),
    ("C55", "ServicePrincipalValidationClientError"),
    ("C55", "AADSTS7000215"),
    ("C56", "ServicePrincipalNotFound"),
    ("C57", "InUseRouteTableCannotBeDeleted"),
    ("C58", "LoadBalancerInUseByVirtualMachineScaleSet"),
    ("C58", "NetworkSecurityGroupInUseByVirtualMachineScaleSet"),
    ("C59", "CannotDeleteLoadBalancerWithPrivateLinkService"),
    (
        "C59",
        "PrivateLinkServiceWithPrivateEndpointConnectionsCannotBeDeleted",
    ),
    ("C60", "PublicIPAddressCannotBeDeleted"),
    ("C60", "InUseSubnetCannotBeDeleted"),
    ("C60", "InUseNetworkSecurityGroupCannotBeDeleted"),
    ("C61", "NodeResourceGroupModified"),
    ("C61", "Changing property 'imageReference' is not allowed"),
    ("C61", "Cannot scale cluster autoscaler enabled node pool"),
    ("C62", "UpgradeBlockedByNSGRules"),
    ("C63", "ControlPlaneAddOnsNotReady"),
    ("C64", "NodeVMFailedAfterDiskDetach"),
    ("C65", "NodeCertificatesExpired"),
    ("C66", "AutoscalingRequiresVirtualMachineScaleSets"),
    ("C66", "ErrorCode_Windows2019NotSupportedWithGen2VM"),
    ("C66", "ClusterAutoscalerNodeGroupSizeDeadlock"),
    ("C66", "Failed to fix node group sizes"),
    ("C66", "NodeCountOutsideAutoscalerRange"),
];

/// Words in the quick index that look like codes but are not: `NotReady` is a node condition
/// (covered by `NodeNotReady` and `NodeCertificatesExpired`).
const NOT_CODES: &[&str] = &["NotReady"];

const SEEDS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/seeds");
const REFERENCE_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/aks-error-catalog.md"
);

/// Looks `code` up and checks the entry is usable on its own: a remedy that can be run and a
/// public documentation link. `context` says where the code came from.
fn usable_entry(code: &str, context: &str) -> &'static Entry {
    let entry = Catalog::builtin()
        .find(code)
        .unwrap_or_else(|| panic!("{context}: the catalog has no entry for {code:?}"));
    assert!(
        entry.remedy.iter().any(|step| !step.commands.is_empty()),
        "{context}: entry {:?} has no remedy step with a command",
        entry.code
    );
    assert!(
        entry.docs.starts_with("https://"),
        "{context}: entry {:?} has docs {:?}, not an https URL",
        entry.code,
        entry.docs
    );
    entry
}

/// How a seed phrase is compared: without backticks and quotes, with a trailing " error"
/// dropped, whitespace collapsed and lower-cased.
fn phrase_key(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '`' | '"' | '\u{201c}' | '\u{201d}'))
        .collect();
    let mut key = cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if let Some(stripped) = key.strip_suffix(" error") {
        key = stripped.to_owned();
    }
    key
}

fn is_separator_row(cells: &[&str]) -> bool {
    cells
        .iter()
        .all(|c| !c.trim().is_empty() && c.trim().chars().all(|ch| matches!(ch, '-' | ':')))
}

fn table_cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

/// The texts of the markdown links `[text](target)` in `cell`.
fn link_texts(cell: &str) -> Vec<&str> {
    let mut texts = Vec::new();
    let mut rest = cell;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        if after[close + 1..].starts_with('(') {
            texts.push(&after[..close]);
        }
        rest = &after[close + 1..];
    }
    texts
}

/// Phrases a seed document names: the first column of every table body row, the errors linked
/// from the "Cause | Reference" table, the scenario headings, and the operation failures listed
/// under scenario 1.
fn seed_phrases(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut phrases = Vec::new();
    let mut header: Option<Vec<&str>> = None;
    let mut section = "";
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            section = heading;
            if heading.starts_with("Scenario")
                && let Some((_, scenario)) = heading.split_once(": ")
            {
                phrases.push(scenario.to_owned());
            }
            continue;
        }
        // Plain bullets (no link, no code, not a sentence) under scenario 1 name the failed
        // operations.
        if section.starts_with("Scenario 1")
            && let Some(item) = trimmed.strip_prefix("- ")
            && !item.contains(['[', '`'])
            && !item.ends_with(['.', ':'])
        {
            phrases.push(item.to_owned());
        }
        if !trimmed.starts_with('|') {
            header = None;
            continue;
        }
        let cells = table_cells(trimmed);
        if is_separator_row(&cells) {
            continue;
        }
        let next_is_separator = lines.get(i + 1).is_some_and(|next| {
            next.trim().starts_with('|') && is_separator_row(&table_cells(next))
        });
        if next_is_separator {
            header = Some(cells);
            continue;
        }
        if let Some(first) = cells.first() {
            phrases.push((*first).to_owned());
        }
        let is_cause_table = header
            .as_ref()
            .is_some_and(|h| h.first().is_some_and(|c| c.eq_ignore_ascii_case("cause")));
        if is_cause_table && let Some(reference) = cells.get(1) {
            phrases.extend(link_texts(reference).into_iter().map(str::to_owned));
        }
    }
    phrases
}

/// Words in `cell` that look like an error code: constant names (`ERR_X`, `VMExtensionError_Y`)
/// or PascalCase words with at least two capitals.
fn code_like_words(cell: &str) -> Vec<&str> {
    cell.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 8 && w.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|w| {
            let constant = w.contains('_');
            let pascal = w.chars().any(|c| c.is_ascii_lowercase())
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase());
            constant || pascal
        })
        .filter(|w| !NOT_CODES.contains(w))
        .collect()
}

#[test]
fn every_seed_item_resolves_to_a_usable_entry() {
    for (phrase, code) in SEED_ITEMS {
        let context = format!("seed phrase {phrase:?}");
        let entry = usable_entry(code, &context);
        assert_eq!(
            &entry.code, code,
            "{context}: {code:?} is an alias of {:?}; list the entry's own code",
            entry.code
        );
        for spelling in [*phrase, phrase_key(phrase).as_str()] {
            if let Some(other) = Catalog::builtin().find(spelling) {
                assert_eq!(
                    other.code, entry.code,
                    "{context}: the phrase itself resolves to {:?}, not to {code:?}",
                    other.code
                );
            }
        }
    }
}

#[test]
fn seed_items_map_each_phrase_to_one_code() {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (phrase, code) in SEED_ITEMS {
        let key = phrase_key(phrase);
        if let Some((_, earlier)) = seen.iter().find(|(k, _)| *k == key) {
            assert_eq!(
                earlier, code,
                "seed phrase {phrase:?} is mapped to both {earlier:?} and {code:?}"
            );
        }
        seen.push((key, code));
    }
}

#[test]
fn every_reference_quick_index_code_resolves() {
    for (id, code) in REFERENCE_CODES {
        usable_entry(code, &format!("reference {id}"));
    }
    let ids: BTreeSet<&str> = REFERENCE_CODES.iter().map(|(id, _)| *id).collect();
    for n in 1..=66 {
        let id = format!("C{n:02}");
        assert!(
            ids.contains(id.as_str()),
            "reference entry {id} has no row in REFERENCE_CODES"
        );
    }
}

#[test]
fn the_auto_repair_codes_are_all_present() {
    let codes = [
        "VMExtensionProvisioningError",
        "InvalidParameter",
        "scaleSetNameAndInstanceIDFromProviderID failed",
        "ManagedIdentityCredential authentication failed",
        "VMRedeploymentFailed",
        "TooManyVMRedeploymentRequests",
        "OutboundConnectivityNotEnabledOnVMSS",
    ];
    for code in codes {
        assert!(
            SEED_ITEMS.iter().any(|(_, c)| *c == code),
            "auto-repair code {code:?} is missing from SEED_ITEMS"
        );
        usable_entry(code, "auto-repair code");
    }
}

#[test]
fn seed_items_match_the_seed_documents() {
    let dir = Path::new(SEEDS_DIR);
    let Ok(listing) = std::fs::read_dir(dir) else {
        eprintln!("skipping: seed documents not found at {}", dir.display());
        return;
    };
    let mut files: Vec<_> = listing
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no seed documents (*.txt) in {}",
        dir.display()
    );

    let known: BTreeSet<String> = SEED_ITEMS.iter().map(|(p, _)| phrase_key(p)).collect();
    let mut missing = Vec::new();
    let mut extracted = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read seed {}: {e}", file.display()));
        for phrase in seed_phrases(&text) {
            extracted += 1;
            if !known.contains(&phrase_key(&phrase)) {
                missing.push(format!("{phrase:?} (in {})", file.display()));
            }
        }
    }
    assert!(extracted > 0, "no table rows found in the seed documents");
    assert!(
        missing.is_empty(),
        "seed phrases missing from SEED_ITEMS:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn reference_codes_match_the_quick_index() {
    let path = Path::new(REFERENCE_FILE);
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!(
            "skipping: reference catalog not found at {}",
            path.display()
        );
        return;
    };
    let listed: BTreeSet<&str> = REFERENCE_CODES.iter().map(|(id, _)| *id).collect();
    let mut rows = BTreeSet::new();
    for line in text.lines() {
        let cells = table_cells(line);
        let [id, codes, ..] = cells.as_slice() else {
            continue;
        };
        let is_quick_index_row = line.trim_start().starts_with('|')
            && id.len() == 3
            && id.starts_with('C')
            && id[1..].chars().all(|c| c.is_ascii_digit());
        if !is_quick_index_row {
            continue;
        }
        assert!(
            listed.contains(id),
            "quick index row {id} ({codes}) has no row in REFERENCE_CODES"
        );
        for word in code_like_words(codes) {
            assert!(
                Catalog::builtin().find(word).is_some(),
                "quick index row {id} names {word:?}, which the catalog does not resolve"
            );
        }
        rows.insert(*id);
    }
    assert_eq!(
        rows.len(),
        66,
        "expected 66 quick index rows in {}",
        path.display()
    );
    for id in &listed {
        assert!(
            rows.contains(id),
            "REFERENCE_CODES names {id}, which the quick index does not have"
        );
    }
}
