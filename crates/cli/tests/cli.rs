//! End-to-end tests of the `nodemend` binary: what a person or a script sees.

use std::process::{Command, Output};

fn nodemend(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nodemend"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run nodemend")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const AUTO_REPAIR_CODES: [&str; 7] = [
    "VMExtensionProvisioningError",
    "InvalidParameter",
    "scaleSetNameAndInstanceIDFromProviderID failed",
    "ManagedIdentityCredential authentication failed",
    "VMRedeploymentFailed",
    "TooManyVMRedeploymentRequests",
    "OutboundConnectivityNotEnabledOnVMSS",
];

#[test]
fn explain_prints_cause_and_next_steps() {
    let out = nodemend(&["explain", "TooManyVMRedeploymentRequests"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("TooManyVMRedeploymentRequests"), "{text}");
    for heading in ["Likely causes", "What to do", "  1. ", "Docs: https://"] {
        assert!(text.contains(heading), "missing {heading:?} in:\n{text}");
    }
    assert!(
        text.contains("$ kubectl"),
        "remedy should carry commands:\n{text}"
    );
}

#[test]
fn explain_json_has_the_documented_fields() {
    let out = nodemend(&[
        "explain",
        "TooManyVMRedeploymentRequests",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(value["code"], "TooManyVMRedeploymentRequests");
    assert_eq!(value["category"], "auto-repair");
    assert!(value["causes"].as_array().is_some_and(|c| !c.is_empty()));
    let remedy = value["remedy"].as_array().expect("remedy is an array");
    assert!(remedy.iter().all(|step| step["step"].is_string()));
    assert!(
        value["docs"]
            .as_str()
            .is_some_and(|d| d.starts_with("https://"))
    );
}

#[test]
fn every_auto_repair_code_resolves_ignoring_case() {
    for code in AUTO_REPAIR_CODES {
        for query in [code.to_owned(), code.to_lowercase(), code.to_uppercase()] {
            let out = nodemend(&["explain", &query, "--format", "json"]);
            assert!(out.status.success(), "{query}: {}", stderr(&out));
            let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(value["code"], code, "{query}");
        }
    }
}

#[test]
fn aliases_find_their_entry() {
    let out = nodemend(&["explain", "SubnetFull", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["code"], "SubnetIsFull");
}

#[test]
fn an_unknown_code_exits_2_with_suggestions() {
    let out = nodemend(&["explain", "QuotaExeeded"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("\"QuotaExeeded\" is not a code nodemend knows"),
        "{err}"
    );
    assert!(err.contains("QuotaExceeded"), "no suggestion in: {err}");
    assert!(err.contains("did you mean"), "{err}");

    let out = nodemend(&["explain", "QuotaExeeded", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"], "unknown code");
    assert!(
        value["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "QuotaExceeded"),
        "{value}"
    );
}

#[test]
fn a_code_with_nothing_close_says_so_without_suggestions() {
    let out = nodemend(&["explain", "zzqqxx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("did you mean"));
}

#[test]
fn list_shows_every_code_in_a_table() {
    let out = nodemend(&["explain", "--list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("CODE") && header.contains("CATEGORY") && header.contains("CAUSE"));
    let body: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with(" codes"))
        .collect();
    assert!(body.len() >= 66, "only {} rows", body.len());
    for code in AUTO_REPAIR_CODES {
        assert!(
            body.iter().any(|l| l.starts_with(code)),
            "{code} not listed"
        );
    }
    assert!(text.trim_end().ends_with(&format!("{} codes", body.len())));
}

#[test]
fn list_filters_by_category_and_renders_json() {
    let out = nodemend(&[
        "explain",
        "--list",
        "--category",
        "quota",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = value.as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["category"] == "quota"));
    assert!(entries.iter().any(|e| e["code"] == "QuotaExceeded"));

    let out = nodemend(&["explain", "--list", "--category", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("auto-repair"),
        "should list the categories"
    );
}

#[test]
fn exit_codes_of_the_custom_script_extension_are_explained() {
    let out = nodemend(&["explain", "--exit-code", "50", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["exit_code"]["code"], 50);
    assert_eq!(value["entry"]["code"], "OutboundConnFailVMExtensionError");

    let out = nodemend(&["explain", "--exit-code", "50"]);
    assert!(
        stdout(&out).starts_with("Linux CSE exit code 50"),
        "{}",
        stdout(&out)
    );

    let out = nodemend(&["explain", "--exit-code", "99999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    let out = nodemend(&["explain"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nodemend(&["explain", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(
        help.contains("Examples:") && help.contains("nodemend explain"),
        "{help}"
    );
    let out = nodemend(&["--help"]);
    assert!(stdout(&out).contains("explain"));
}
