//! The resource registry: which group/version/resources the server serves, how each behaves
//! (scope, status subresource, update rules), and the custom resources added by CRDs.

use std::sync::Arc;

use serde_json::Value;

/// How a stored object is shown in one API version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// As stored, with only `apiVersion` rewritten.
    Plain,
    /// A core/v1 Event shown as an events.k8s.io/v1 Event.
    EventsV1,
}

/// One served resource in one group/version, with the rules its verbs follow.
#[derive(Clone, Debug)]
pub(crate) struct ResourceType {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) namespaced: bool,
    pub(crate) short_names: Vec<String>,
    pub(crate) categories: Vec<String>,
    /// Has a `status` subresource: main updates keep status, status updates keep the rest.
    pub(crate) status: bool,
    /// Key of the store shared by every version (and view) of this resource.
    pub(crate) storage: String,
    pub(crate) view: View,
    /// PUT of a missing object creates it (events, leases).
    pub(crate) create_on_update: bool,
    /// PUT without resourceVersion is allowed (false for custom resources).
    pub(crate) unconditional_update: bool,
    /// `metadata.generation` counts spec changes.
    pub(crate) generation: bool,
    /// Defined by a CustomResourceDefinition.
    pub(crate) custom: bool,
    /// `additionalPrinterColumns` of a custom resource version.
    pub(crate) printer_columns: Vec<Value>,
}

impl ResourceType {
    /// `apiVersion` of this group/version.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Extra subresources besides `status`, as `(name, kind, group, version, verbs)`.
    pub(crate) fn extra_subresources(
        &self,
    ) -> &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    )] {
        match (self.group.as_str(), self.plural.as_str()) {
            ("", "pods") => &[
                ("eviction", "Eviction", "policy", "v1", &["create"]),
                ("log", "Pod", "", "", &["get"]),
            ],
            _ => &[],
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    status: bool,
    storage: &str,
) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| (*s).to_owned()).collect(),
        categories: Vec::new(),
        status,
        storage: storage.into(),
        view: View::Plain,
        create_on_update: false,
        unconditional_update: true,
        generation: false,
        custom: false,
        printer_columns: Vec::new(),
    }
}

/// The built-in resources every simulated server serves.
fn builtins() -> Vec<ResourceType> {
    let mut pods = builtin("", "v1", "Pod", "pods", true, &["po"], true, "pods");
    pods.categories = vec!["all".into()];
    let mut events = builtin("", "v1", "Event", "events", true, &["ev"], false, "events");
    events.create_on_update = true;
    let mut events_v1 = events.clone();
    events_v1.group = "events.k8s.io".into();
    events_v1.view = View::EventsV1;
    let mut leases = builtin(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        true,
        &[],
        false,
        "coordination.k8s.io/leases",
    );
    leases.create_on_update = true;
    let mut pdbs = builtin(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        &["pdb"],
        true,
        "policy/poddisruptionbudgets",
    );
    pdbs.generation = true;
    let mut crds = builtin(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        true,
        "apiextensions.k8s.io/customresourcedefinitions",
    );
    crds.generation = true;
    crds.categories = vec!["api-extensions".into()];
    vec![
        builtin(
            "",
            "v1",
            "Namespace",
            "namespaces",
            false,
            &["ns"],
            true,
            "namespaces",
        ),
        builtin("", "v1", "Node", "nodes", false, &["no"], true, "nodes"),
        pods,
        events,
        builtin(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            true,
            &["cm"],
            false,
            "configmaps",
        ),
        builtin("", "v1", "Secret", "secrets", true, &[], false, "secrets"),
        leases,
        events_v1,
        pdbs,
        crds,
    ]
}

/// Every served resource: the built-ins plus those of established CRDs.
#[derive(Debug)]
pub(crate) struct Registry {
    types: Vec<Arc<ResourceType>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            types: builtins().into_iter().map(Arc::new).collect(),
        }
    }
}

impl Registry {
    /// The resource served at `group/version/plural`, if any.
    pub(crate) fn find(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    /// Every served resource, built-ins first.
    pub(crate) fn all(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    /// Groups in serving order, each with its versions (preferred first).
    pub(crate) fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) if !versions.contains(&t.version) => {
                    versions.push(t.version.clone())
                }
                Some(_) => {}
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        for (_, versions) in &mut out {
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        out
    }

    /// Replaces the resources defined by the CRD `crd_name` with `types`.
    pub(crate) fn set_custom(&mut self, crd_name: &str, types: Vec<ResourceType>) {
        self.remove_custom(crd_name);
        self.types.extend(types.into_iter().map(Arc::new));
    }

    /// Stops serving the resources of the CRD `crd_name`.
    pub(crate) fn remove_custom(&mut self, crd_name: &str) {
        self.types
            .retain(|t| !(t.custom && format!("{}.{}", t.plural, t.group) == crd_name));
    }
}

/// Orders versions like Kubernetes: GA > beta > alpha, then by number.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let rest = v.strip_prefix('v').unwrap_or(v);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stage, n) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stage, major, n)
}

/// The resource types a CRD object defines, one per served version.
pub(crate) fn from_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = names["plural"].as_str().unwrap_or_default();
    let kind = names["kind"].as_str().unwrap_or_default();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(false))
        .map(|v| ResourceType {
            group: group.into(),
            version: v["name"].as_str().unwrap_or_default().into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: names["singular"]
                .as_str()
                .map_or_else(|| kind.to_lowercase(), str::to_owned),
            namespaced: spec["scope"].as_str() == Some("Namespaced"),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            status: v["subresources"].get("status").is_some(),
            storage: format!("{group}/{plural}"),
            view: View::Plain,
            create_on_update: false,
            unconditional_update: false,
            generation: true,
            custom: true,
            printer_columns: v["additionalPrinterColumns"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec!["v1beta1", "v1", "v2alpha1", "v1beta2"];
        v.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(v, ["v1", "v1beta2", "v1beta1", "v2alpha1"]);
    }

    #[test]
    fn events_are_served_in_two_groups_from_one_store() {
        let r = Registry::default();
        let core = r.find("", "v1", "events").expect("core events");
        let new = r
            .find("events.k8s.io", "v1", "events")
            .expect("events.k8s.io");
        assert_eq!(core.storage, new.storage);
        assert_eq!(new.view, View::EventsV1);
    }
}
