//! Contract tests of the API server with kube-rs: they run against the simulator, and against
//! a real API server too when `NODEMEND_TEST_KUBECONFIG` names its kubeconfig.

mod common;

use std::time::Duration;

use common::{Cluster, eventually, status_of, unique};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nodemend_sim::apiserver::ApiServerConfig;
use serde_json::json;

fn configmap(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({ "metadata": { "name": name, "labels": labels }, "data": { "k": "v" } }),
    )
    .expect("configmap")
}

#[tokio::test]
async fn list_selects_by_labels_and_fields_and_pages() {
    let c = Cluster::start().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let pp = PostParams::default();
    for (name, labels) in [
        ("a", json!({ "tier": "front", "app": "web" })),
        ("b", json!({ "tier": "back", "app": "web" })),
        ("c", json!({ "tier": "back", "app": "db", "legacy": "yes" })),
        ("d", json!({})),
        ("e", json!({ "tier": "front" })),
    ] {
        api.create(&pp, &configmap(name, labels))
            .await
            .expect("created");
    }
    let names = |l: kube::core::ObjectList<ConfigMap>| {
        l.items
            .iter()
            .map(ResourceExt::name_any)
            .collect::<Vec<_>>()
    };
    let list = |sel: &str| {
        let lp = ListParams::default().labels(sel);
        let api = api.clone();
        async move { api.list(&lp).await }
    };
    assert_eq!(names(list("tier=front").await.expect("list")), ["a", "e"]);
    assert_eq!(
        names(list("app==web,tier!=front").await.expect("list")),
        ["b"]
    );
    assert_eq!(
        names(list("tier in (back),!legacy").await.expect("list")),
        ["b"]
    );
    assert_eq!(
        names(list("tier notin (back)").await.expect("list")),
        ["a", "d", "e"]
    );
    assert_eq!(names(list("legacy").await.expect("list")), ["c"]);
    let by_field = api
        .list(&ListParams::default().fields("metadata.name=c"))
        .await
        .expect("list");
    assert_eq!(names(by_field), ["c"]);
    let by_ns = api
        .list(
            &ListParams::default().fields(&format!("metadata.namespace={},metadata.name!=a", c.ns)),
        )
        .await
        .expect("list");
    assert_eq!(by_ns.items.len(), 4);

    let first = api
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    assert_eq!(names(first.clone()), ["a", "b"]);
    let token = first.metadata.continue_.clone().expect("continue token");
    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 2");
    assert_eq!(names(second.clone()), ["c", "d"]);
    let token = second.metadata.continue_.clone().expect("continue token");
    let last = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 3");
    assert_eq!(names(last.clone()), ["e"]);
    assert!(
        last.metadata
            .continue_
            .as_deref()
            .unwrap_or_default()
            .is_empty()
    );

    let bad = status_of(api.list(&ListParams::default().fields("data.k=v")).await);
    assert_eq!((bad.code, bad.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        bad.message,
        r#""data.k" is not a known field selector: only "metadata.name", "metadata.namespace""#
    );
    let bad = status_of(
        api.list(&ListParams::default().labels("tier in front"))
            .await,
    );
    assert_eq!(
        (bad.code, bad.message.as_str()),
        (
            400,
            "unable to parse requirement: found 'front' expected: '('"
        )
    );
    let failing: json_patch::Patch =
        serde_json::from_value(json!([{ "op": "remove", "path": "/data/missing" }])).expect("ops");
    let bad = status_of(
        api.patch("a", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await,
    );
    assert_eq!(
        (bad.code, bad.message.as_str()),
        (
            422,
            "the server rejected our request due to an error in our request"
        )
    );
    c.finish().await;
}

#[tokio::test]
async fn writes_answer_with_kubernetes_status_errors() {
    let c = Cluster::start().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let pp = PostParams::default();
    let missing = status_of(api.get("nope").await);
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "configmaps \"nope\" not found");

    let created = api
        .create(&pp, &configmap("one", json!({})))
        .await
        .expect("created");
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let dup = status_of(api.create(&pp, &configmap("one", json!({}))).await);
    assert_eq!((dup.code, dup.reason.as_str()), (409, "AlreadyExists"));

    let mut generated = configmap("", json!({}));
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let generated = api.create(&pp, &generated).await.expect("generated");
    assert!(generated.name_any().starts_with("gen-") && generated.name_any().len() == 9);

    let mut stale = created.clone();
    api.patch(
        "one",
        &PatchParams::default(),
        &Patch::Merge(json!({ "data": { "k": "w" } })),
    )
    .await
    .expect("patched");
    stale.data = Some([("k".to_owned(), "x".to_owned())].into());
    let conflict = status_of(api.replace("one", &pp, &stale).await);
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert!(
        conflict.message.contains("the object has been modified"),
        "{}",
        conflict.message
    );

    let with_rv = status_of(api.create(&pp, &stale).await);
    assert_eq!(with_rv.code, 500, "{with_rv:?}");

    let in_missing_ns: Api<ConfigMap> = Api::namespaced(c.client.clone(), "no-such-namespace");
    let no_ns = status_of(in_missing_ns.create(&pp, &configmap("x", json!({}))).await);
    assert_eq!(
        (no_ns.code, no_ns.message.as_str()),
        (404, "namespaces \"no-such-namespace\" not found")
    );

    let deleted = api
        .delete("one", &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(deleted.is_right(), "configmap deletes answer a Status");
    c.finish().await;
}

#[tokio::test]
async fn watch_streams_changes_with_bookmarks_and_timeout() {
    let c = Cluster::start().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let first = api
        .create(&PostParams::default(), &configmap("w1", json!({})))
        .await
        .expect("created");
    let rv = first.resource_version().expect("rv");
    let wp = WatchParams::default().timeout(5);
    let mut stream = api.watch(&wp, &rv).await.expect("watch").boxed();
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({ "data": { "k": "2" } })),
    )
    .await
    .expect("patched");
    api.delete("w1", &DeleteParams::default())
        .await
        .expect("deleted");
    let mut seen = Vec::new();
    while let Some(ev) = stream.try_next().await.expect("event") {
        match ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o)
                if o.name_any() == "w1" =>
            {
                seen.push(o.data.and_then(|d| d.get("k").cloned()).unwrap_or_default());
            }
            WatchEvent::Bookmark(_) => {}
            other => panic!("unexpected {other:?}"),
        }
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen, ["2", "2"], "modified then deleted");

    let mut initial = api
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch")
        .boxed();
    api.create(&PostParams::default(), &configmap("w2", json!({})))
        .await
        .expect("created");
    let mut added = Vec::new();
    while let Some(ev) = initial.try_next().await.expect("event") {
        if let WatchEvent::Added(o) = ev {
            added.push(o.name_any());
        }
    }
    assert!(
        added.contains(&"w2".to_owned()),
        "rv=0 starts with current objects, then ends at timeoutSeconds: {added:?}"
    );
    c.finish().await;
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_gone_and_watcher_relists() {
    let c = Cluster::start_with(ApiServerConfig {
        watch_history: 3,
        ..ApiServerConfig::default()
    })
    .await;
    if c.sim_only("a real server's watch history cannot be shortened on demand") {
        return c.finish().await;
    }
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let pp = PostParams::default();
    let old = api
        .create(&pp, &configmap("seen", json!({ "watched": "yes" })))
        .await
        .expect("created");
    for i in 0..5 {
        api.create(&pp, &configmap(&format!("noise-{i}"), json!({})))
            .await
            .expect("created");
    }
    let mut gone = api
        .watch(
            &WatchParams::default(),
            &old.resource_version().expect("rv"),
        )
        .await
        .expect("watch")
        .boxed();
    match gone.try_next().await.expect("event") {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410 Gone, got {other:?}"),
    }

    let cfg = watcher::Config::default()
        .labels("watched=yes")
        .timeout(1)
        .disable_bookmarks();
    let mut events = watcher(api.clone(), cfg).boxed();
    let (mut inits, mut gone_seen) = (0, false);
    while inits < 2 {
        match events.next().await {
            Some(Ok(watcher::Event::InitDone)) => {
                inits += 1;
                if inits == 1 {
                    api.create(&pp, &configmap("late", json!({ "watched": "yes" })))
                        .await
                        .expect("created");
                    for i in 5..10 {
                        api.create(&pp, &configmap(&format!("noise-{i}"), json!({})))
                            .await
                            .expect("created");
                    }
                }
            }
            Some(Ok(_)) => {}
            Some(Err(watcher::Error::WatchError(e))) if e.code == 410 => gone_seen = true,
            Some(Err(e)) => panic!("watcher failed: {e}"),
            None => panic!("watcher ended"),
        }
    }
    assert!(
        gone_seen,
        "the watcher resumed from a compacted version and was told 410"
    );
    let names: Vec<String> = api
        .list(&ListParams::default().labels("watched=yes"))
        .await
        .expect("list")
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    assert_eq!(names, ["late", "seen"]);
    c.finish().await;
}

#[tokio::test]
async fn watches_get_bookmarks_when_they_ask() {
    let config = ApiServerConfig {
        bookmark_interval: Duration::from_millis(100),
        ..ApiServerConfig::default()
    };
    let c = Cluster::start_with(config).await;
    if c.sim_only("the real server sends bookmarks about once a minute") {
        return c.finish().await;
    }
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let created = api
        .create(&PostParams::default(), &configmap("b", json!({})))
        .await
        .expect("created");
    let rv = created.resource_version().expect("rv");
    let mut stream = api
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("event") {
        Some(WatchEvent::Bookmark(b)) => assert_eq!(b.metadata.resource_version, rv),
        other => panic!("expected a bookmark, got {other:?}"),
    }
    let mut plain = api
        .watch(&WatchParams::default().timeout(1).disable_bookmarks(), &rv)
        .await
        .expect("watch")
        .boxed();
    assert!(
        plain.try_next().await.expect("end").is_none(),
        "no bookmark unless asked; the watch ends at its timeout"
    );
    c.finish().await;
}

fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "pool": "np1", "drop": "me" } },
        "spec": { "taints": [{ "key": "a", "value": "1", "effect": "NoSchedule" }] },
        "status": { "conditions": [
            { "type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z" },
            { "type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z" }
        ] }
    }))
    .expect("node")
}

fn condition(n: &Node, ty: &str) -> Option<(String, String)> {
    n.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == ty)
        .map(|c| (c.status.clone(), c.reason.clone().unwrap_or_default()))
}

#[tokio::test]
async fn every_patch_type_applies_to_nodes() {
    let c = Cluster::start().await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    let name = unique("patch-node");
    nodes
        .create(&PostParams::default(), &node(&name))
        .await
        .expect("created");
    let pp = PatchParams::default();

    let merged = nodes
        .patch(
            &name,
            &pp,
            &Patch::Merge(json!({ "metadata": { "labels": { "drop": null, "added": "1" } } })),
        )
        .await
        .expect("merge");
    let labels = merged.labels();
    assert!(labels.get("drop").is_none() && labels["added"] == "1" && labels["pool"] == "np1");

    let ops: json_patch::Patch = serde_json::from_value(json!([
        { "op": "test", "path": "/metadata/labels/pool", "value": "np1" },
        { "op": "add", "path": "/metadata/annotations", "value": { "by": "json-patch" } }
    ]))
    .expect("ops");
    let patched = nodes
        .patch(&name, &pp, &Patch::Json::<()>(ops))
        .await
        .expect("json patch");
    assert_eq!(patched.annotations()["by"], "json-patch");
    let failing: json_patch::Patch = serde_json::from_value(
        json!([{ "op": "test", "path": "/metadata/labels/pool", "value": "other" }]),
    )
    .expect("ops");
    let refused = status_of(nodes.patch(&name, &pp, &Patch::Json::<()>(failing)).await);
    assert_eq!(refused.code, 422, "{refused:?}");

    let smp = json!({ "spec": { "unschedulable": true, "taints": [{ "key": "b", "effect": "NoExecute" }] } });
    let cordoned = nodes
        .patch(&name, &pp, &Patch::Strategic(smp))
        .await
        .expect("strategic");
    let spec = cordoned.spec.clone().expect("spec");
    assert_eq!(spec.unschedulable, Some(true));
    let keys: Vec<String> = spec
        .taints
        .unwrap_or_default()
        .iter()
        .map(|t| t.key.clone())
        .collect();
    assert!(
        keys.contains(&"b".to_owned()) && !keys.contains(&"a".to_owned()),
        "taints are replaced, not merged: {keys:?}"
    );

    let status = json!({ "status": { "conditions": [{ "type": "Ready", "status": "False", "reason": "KubeletNotReady", "lastHeartbeatTime": "2026-01-01T00:01:00Z", "lastTransitionTime": "2026-01-01T00:01:00Z" }] } });
    let posted = nodes
        .patch_status(&name, &pp, &Patch::Strategic(status))
        .await
        .expect("status patch");
    assert_eq!(
        condition(&posted, "Ready"),
        Some(("False".into(), "KubeletNotReady".into()))
    );
    assert_eq!(
        condition(&posted, "MemoryPressure").map(|c| c.0),
        Some("False".into()),
        "conditions merge by type"
    );

    let applied: Node = serde_json::from_value(json!({ "apiVersion": "v1", "kind": "Node", "metadata": { "name": name, "annotations": { "applied": "yes" } } })).expect("node");
    let after_apply = nodes
        .patch(
            &name,
            &PatchParams::apply("contract-test").force(),
            &Patch::Apply(applied),
        )
        .await
        .expect("apply");
    assert_eq!(after_apply.annotations()["applied"], "yes");
    assert_eq!(after_apply.labels()["pool"], "np1");

    nodes
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleted");
    c.finish().await;
}

#[tokio::test]
async fn status_subresource_separates_spec_and_status() {
    let c = Cluster::start().await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    let name = unique("status-node");
    let created = nodes
        .create(&PostParams::default(), &node(&name))
        .await
        .expect("created");
    assert_eq!(
        condition(&created, "Ready").map(|c| c.0),
        Some("True".into()),
        "nodes keep status on create"
    );
    let taints = created
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    assert!(
        taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/not-ready" && t.effect == "NoSchedule"),
        "new nodes are tainted not-ready by admission: {taints:?}"
    );

    let mut changed = created.clone();
    changed.spec.get_or_insert_default().unschedulable = Some(true);
    if let Some(conds) = changed.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        conds[0].status = "False".into();
    }
    let via_status = nodes
        .replace_status(&name, &PostParams::default(), &changed)
        .await
        .expect("status update");
    assert_eq!(
        condition(&via_status, "Ready").map(|c| c.0),
        Some("False".into())
    );
    assert_eq!(
        via_status.spec.as_ref().and_then(|s| s.unschedulable),
        None,
        "status update ignores spec"
    );

    let mut main = via_status.clone();
    main.spec.get_or_insert_default().unschedulable = Some(true);
    if let Some(conds) = main.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        conds[0].status = "True".into();
    }
    let via_main = nodes
        .replace(&name, &PostParams::default(), &main)
        .await
        .expect("update");
    assert_eq!(
        via_main.spec.as_ref().and_then(|s| s.unschedulable),
        Some(true)
    );
    assert_eq!(
        condition(&via_main, "Ready").map(|c| c.0),
        Some("False".into()),
        "main update ignores status"
    );
    nodes
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleted");
    c.finish().await;
}

#[tokio::test]
async fn watcher_delivers_node_updates() {
    let c = Cluster::start().await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    let name = unique("watched-node");
    let mut events = watcher(
        nodes.clone(),
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
    .boxed();
    while !matches!(
        events.try_next().await.expect("event"),
        Some(watcher::Event::InitDone)
    ) {}
    nodes
        .create(&PostParams::default(), &node(&name))
        .await
        .expect("created");
    nodes
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "unschedulable": true } })),
        )
        .await
        .expect("cordon");
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = events.try_next().await.expect("event") {
            if let watcher::Event::Apply(n) = ev
                && n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true)
            {
                return true;
            }
        }
        false
    })
    .await
    .expect("update delivered in time");
    assert!(seen);
    nodes
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleted");
    eventually("node gone", || async {
        nodes
            .get_opt(&name)
            .await
            .expect("get")
            .is_none()
            .then_some(())
    })
    .await;
    c.finish().await;
}

#[tokio::test]
async fn finalizers_hold_deletion_and_collections_delete_by_selector() {
    let c = Cluster::start().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let pp = PostParams::default();
    let mut held = configmap("held", json!({ "group": "x" }));
    held.metadata.finalizers = Some(vec!["nodemend.io/test".into()]);
    api.create(&pp, &held).await.expect("created");
    let answer = api
        .delete("held", &DeleteParams::default())
        .await
        .expect("delete accepted");
    let marked = answer
        .left()
        .expect("an object held by finalizers is answered as itself");
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert!(
        api.get_opt("held").await.expect("get").is_some(),
        "finalizers keep the object"
    );
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
    )
    .await
    .expect("finalized");
    eventually("object gone once finalized", || async {
        api.get_opt("held").await.ok()?.is_none().then_some(())
    })
    .await;

    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    api.create(&dry, &configmap("dry", json!({})))
        .await
        .expect("dry run accepted");
    assert!(
        api.get_opt("dry").await.expect("get").is_none(),
        "dry runs store nothing"
    );

    for name in ["x1", "x2", "y1"] {
        let group = if name.starts_with('x') { "x" } else { "y" };
        api.create(&pp, &configmap(name, json!({ "group": group })))
            .await
            .expect("created");
    }
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("group=x"),
    )
    .await
    .expect("collection deleted");
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    assert_eq!(left, ["y1"]);
    c.finish().await;
}

#[tokio::test]
async fn selector_watches_see_objects_enter_and_leave() {
    let c = Cluster::start().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let created = api
        .create(
            &PostParams::default(),
            &configmap("mover", json!({ "state": "out" })),
        )
        .await
        .expect("created");
    let wp = WatchParams::default()
        .labels("state=in")
        .timeout(10)
        .disable_bookmarks();
    let mut stream = api
        .watch(&wp, &created.resource_version().expect("rv"))
        .await
        .expect("watch")
        .boxed();
    let set = |state: &'static str| {
        let api = api.clone();
        async move {
            api.patch(
                "mover",
                &PatchParams::default(),
                &Patch::Merge(json!({ "metadata": { "labels": { "state": state } } })),
            )
            .await
            .expect("patched")
        }
    };
    set("in").await;
    set("out").await;
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        match stream.try_next().await.expect("event") {
            Some(WatchEvent::Added(_)) => kinds.push("ADDED"),
            Some(WatchEvent::Deleted(_)) => kinds.push("DELETED"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        kinds,
        ["ADDED", "DELETED"],
        "entering a selector is an ADDED, leaving it a DELETED"
    );
    c.finish().await;
}

#[tokio::test]
async fn strategic_merge_follows_the_real_merge_keys() {
    let c = Cluster::start().await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    let name = unique("smp-node");
    let mut n = node(&name);
    n.metadata.finalizers = Some(vec!["a.test/one".into()]);
    nodes
        .create(&PostParams::default(), &n)
        .await
        .expect("created");
    let pp = PatchParams::default();
    let addresses = json!({ "status": { "addresses": [{ "type": "InternalIP", "address": "10.0.0.4" }, { "type": "Hostname", "address": "h" }] } });
    nodes
        .patch_status(&name, &pp, &Patch::Strategic(addresses))
        .await
        .expect("addresses");
    let smp = json!({
        "metadata": { "finalizers": ["a.test/two"] },
        "status": {
            "addresses": [{ "type": "InternalIP", "address": "10.0.0.5" }],
            "conditions": [{ "type": "MemoryPressure", "$patch": "delete" }]
        }
    });
    let patched = nodes
        .patch_status(&name, &pp, &Patch::Strategic(smp))
        .await
        .expect("status smp");
    let status = patched.status.expect("status");
    let addrs: Vec<(String, String)> = status
        .addresses
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.type_, a.address))
        .collect();
    assert_eq!(
        addrs,
        [
            ("InternalIP".to_owned(), "10.0.0.5".to_owned()),
            ("Hostname".to_owned(), "h".to_owned())
        ],
        "addresses merge by type"
    );
    let types: Vec<String> = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.type_)
        .collect();
    assert_eq!(types, ["Ready"], "$patch: delete removes one condition");
    assert_eq!(
        patched.metadata.finalizers.clone().unwrap_or_default(),
        ["a.test/two", "a.test/one"],
        "status writes of built-in kinds change metadata too; new list items go first"
    );

    let main = json!({ "metadata": { "$deleteFromPrimitiveList/finalizers": ["a.test/one"] } });
    let patched = nodes
        .patch(&name, &pp, &Patch::Strategic(main))
        .await
        .expect("main smp");
    assert_eq!(
        patched.metadata.finalizers.unwrap_or_default(),
        ["a.test/two"]
    );
    nodes
        .patch(
            &name,
            &pp,
            &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
        )
        .await
        .expect("unfinalized");
    nodes
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleted");
    c.finish().await;
}
