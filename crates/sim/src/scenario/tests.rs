use super::*;

#[test]
fn every_builtin_scenario_parses() {
    for (name, text) in BUILTIN {
        let scenario = Scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            &scenario.name, name,
            "the file name and the name inside must agree"
        );
        assert!(!scenario.description.is_empty());
    }
}

#[test]
fn a_typo_names_file_line_and_field() {
    let text = "name = \"x\"\ndescription = \"y\"\n\n[kubernetes]\nnode_grase = \"4s\"\n";
    let err = Scenario::parse("my.toml", text).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("scenario my.toml, line 5"), "{message}");
    assert!(message.contains("node_grase"), "{message}");
}

#[test]
fn wrong_values_name_the_field() {
    let base = "name = \"x\"\ndescription = \"y\"\n";
    let cases = [
        (
            "[[timeline]]\nat = \"soon\"\nnode = \"nodepool1/0\"\nfault = \"kubelet-stopped\"\n",
            "timeline[0].at",
        ),
        (
            "[[timeline]]\nat = \"1s\"\nnode = \"nodepool1/7\"\nfault = \"kubelet-stopped\"\n",
            "timeline[0].node",
        ),
        (
            "[[timeline]]\nat = \"1s\"\nnode = \"gpu/0\"\nfault = \"not-ready\"\n",
            "timeline[0].node",
        ),
        (
            "[[timeline]]\nat = \"1s\"\nfault = \"kubelet-stopped\"\n",
            "timeline[0].node",
        ),
        (
            "[[timeline]]\nat = \"1s\"\nnode = \"nodepool1/0\"\nfault = \"vm-failed\"\n",
            "timeline[0].code",
        ),
        ("[policy]\nthreshold = \"fast\"\n", "policy.threshold"),
        (
            "[kubernetes]\nbad_provider_ids = [\"nodepool1/3\"]\n",
            "kubernetes.bad_provider_ids[0]",
        ),
        (
            "[[kubernetes.pdbs]]\nname = \"p\"\nselector = { app = \"a\" }\n",
            "kubernetes.pdbs[0]",
        ),
        (
            "[[kubernetes.events]]\nnode = \"nodepool1/9\"\nreason = \"NodeRebootError\"\nmessage = \"m\"\n",
            "kubernetes.events[0].node",
        ),
    ];
    for (extra, field) in cases {
        let err = Scenario::parse("s.toml", &format!("{base}{extra}")).unwrap_err();
        match err {
            ScenarioError::Invalid { field: got, .. } => assert_eq!(got, field, "{extra}"),
            other => panic!("{extra}: expected an invalid field, got {other}"),
        }
    }
}

#[test]
fn unknown_names_list_the_builtin_scenarios() {
    let err = Scenario::load("no-such-scenario").unwrap_err();
    assert!(err.to_string().contains("reboot-fixes"), "{err}");
}

#[test]
fn line_and_column_count_from_one() {
    assert_eq!(line_column("ab\ncd", 0), (1, 1));
    assert_eq!(line_column("ab\ncd", 4), (2, 2));
}

#[test]
fn pods_can_be_down_and_events_present_from_the_start() {
    let text = r#"
name = "x"
description = "y"

[[kubernetes.pods]]
name = "coredns"
namespace = "kube-system"
reason = "CrashLoopBackOff"
message = "back-off 5m0s restarting failed container"

[[kubernetes.pods]]
name = "metrics-server"
namespace = "kube-system"
phase = "Pending"

[[kubernetes.pods]]
name = "web"

[[kubernetes.events]]
node = "nodepool1/1"
reason = "NodeRebootError"
message = "Node auto-repair reboot action failed due to an operation failure: VMExtensionProvisioningError"
count = 3
"#;
    let scenario = Scenario::parse("down.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let pods = &scenario.kubernetes.pods;
    let crashing = pods[0].status();
    assert_eq!(crashing["phase"], "Running");
    assert_eq!(crashing["conditions"][0]["status"], "False");
    assert_eq!(
        crashing["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(pods[1].status()["phase"], "Pending");
    assert_eq!(pods[1].status()["conditions"][0]["status"], "False");
    let running = pods[2].status();
    assert_eq!(running["phase"], "Running");
    assert_eq!(running["conditions"][0]["status"], "True");
    let event = &scenario.kubernetes.events[0];
    assert_eq!(
        (event.kind.as_str(), event.count, event.source.as_str()),
        ("Warning", 3, "aks-remediator")
    );
}
