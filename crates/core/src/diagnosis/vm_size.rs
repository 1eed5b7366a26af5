//! vCPUs and quota family of an Azure VM size, read from the size name alone.
//!
//! Azure names sizes `Standard_<family><vCPUs>[-<active vCPUs>]<features>[_<accelerator>][_v<N>]`
//! (`Standard_D4s_v5`: family D, 4 vCPUs, premium storage, version 5) and names the matching
//! regional quota `standard<FAMILY><FEATURES>v<N>Family` (`standardDSv5Family`). This is a
//! heuristic, not a SKU catalog:
//! - the vCPU count is the first number of the name; constrained sizes (`E8-4s_v5`) count the
//!   full 8, which is what quota is charged for;
//! - the family name is built from the letters around that number and compared with the quota
//!   names ignoring case; sizes whose quota family is named differently (B-series `ms` sizes,
//!   accelerator sizes such as `NC24ads_A100_v4`) find no family row, and then only the regional
//!   vCPU total is checked.

/// What a VM size costs in quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VmSize {
    /// vCPUs of one VM.
    pub(crate) vcpus: u32,
    /// The quota family it most likely counts against, e.g. `standardDSv5Family`.
    pub(crate) family: String,
}

/// Reads a size name such as `Standard_D4s_v5`; `None` when it does not look like one.
pub(crate) fn parse(size: &str) -> Option<VmSize> {
    let (tier, name) = size.split_once('_')?;
    if !tier.eq_ignore_ascii_case("Standard") && !tier.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let mut parts = name.split('_');
    let head = parts.next()?;
    let version = parts
        .rfind(|p| {
            p.len() > 1 && p.starts_with(['v', 'V']) && p[1..].chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let letters: String = head.chars().take_while(char::is_ascii_alphabetic).collect();
    let rest = &head[letters.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if letters.is_empty() || digits.is_empty() {
        return None;
    }
    let vcpus: u32 = digits.parse().ok()?;
    let after = &rest[digits.len()..];
    let after = match after.strip_prefix('-') {
        Some(constrained) => constrained.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => after,
    };
    let features: String = after.chars().filter(char::is_ascii_alphabetic).collect();
    Some(VmSize {
        vcpus,
        family: format!(
            "standard{}{}{version}Family",
            letters.to_ascii_uppercase(),
            features.to_ascii_uppercase()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(size: &str) -> (u32, String) {
        let s = parse(size).unwrap();
        (s.vcpus, s.family)
    }

    #[test]
    fn common_aks_sizes() {
        for (size, vcpus, family) in [
            ("Standard_D4s_v5", 4, "standardDSv5Family"),
            ("Standard_D2s_v3", 2, "standardDSv3Family"),
            ("Standard_DS2_v2", 2, "standardDSv2Family"),
            ("Standard_D8ds_v5", 8, "standardDDSv5Family"),
            ("Standard_D16ads_v5", 16, "standardDADSv5Family"),
            ("Standard_E8-4s_v5", 8, "standardESv5Family"),
            ("Standard_F4s_v2", 4, "standardFSv2Family"),
            ("Standard_B2s", 2, "standardBSFamily"),
            ("Standard_A2_v2", 2, "standardAv2Family"),
            ("standard_d4s_v5", 4, "standardDSv5Family"),
        ] {
            assert_eq!(read(size), (vcpus, family.to_owned()), "{size}");
        }
    }

    #[test]
    fn accelerator_sizes_keep_the_vcpus_even_if_the_family_guess_misses() {
        let (vcpus, family) = read("Standard_NC24ads_A100_v4");
        assert_eq!(vcpus, 24);
        assert_eq!(family, "standardNCADSv4Family");
    }

    #[test]
    fn names_that_are_not_sizes() {
        for size in ["D4s_v5", "Standard_", "Premium_D4", "Standard_4D"] {
            assert!(parse(size).is_none(), "{size}");
        }
    }
}
