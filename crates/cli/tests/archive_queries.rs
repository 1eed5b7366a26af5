//! `nodemend events` and `nodemend repairs` against real archive files: the archive is written
//! with the store library, then read by the built binary as a person or a script would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nodemend_core::policy::Action;
use nodemend_core::repair::{Phase, Repair, StepOutcome, StepRecord};
use nodemend_store::{Archive, ArchivedEvent};
use serde_json::Value;
use tempfile::TempDir;

/// Runs nodemend with no archive or state directory inherited from the environment.
fn nodemend(args: &[&str]) -> Output {
    command(args).output().expect("run nodemend")
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nodemend"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("NODEMEND_ARCHIVE")
        .env_remove("NODEMEND_STATE_DIR");
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fixed origin for the archive's times, so `--since`/`--until` can name exact moments.
fn t(secs: i64) -> Timestamp {
    "2026-03-01T12:00:00Z"
        .parse::<Timestamp>()
        .expect("a valid time")
        + SignedDuration::from_secs(secs)
}

/// A Warning event about node `node`, seen once at `at`.
fn event(uid: &str, reason: &str, node: &str, at: Timestamp) -> ArchivedEvent {
    ArchivedEvent {
        uid: uid.into(),
        namespace: "default".into(),
        name: format!("{node}.{uid}"),
        object_kind: Some("Node".into()),
        object_name: Some(node.into()),
        object_namespace: None,
        node: Some(node.into()),
        event_type: "Warning".into(),
        reason: reason.into(),
        message: format!("{reason} on {node}"),
        source: Some("nodemend".into()),
        first_seen: at,
        last_seen: at,
        count: 1,
        series_count: None,
        resource_version: Some("1".into()),
    }
}

/// A pod event with a message that needs CSV quoting and a newline.
const PULLED_MESSAGE: &str = "Successfully pulled image \"coredns:1.11\", in 2s\nfrom cache";

/// An archive holding six events: five in the hour after `t(0)`, one a day before.
fn event_archive() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("archive.db");
    let mut archive = Archive::open(&path).expect("create the archive");
    let mut pulled = event("pulled", "Pulled", "aks-np1-1", t(30));
    pulled.event_type = "Normal".into();
    pulled.namespace = "kube-system".into();
    pulled.object_kind = Some("Pod".into());
    pulled.object_name = Some("coredns-abc".into());
    pulled.object_namespace = Some("kube-system".into());
    pulled.message = PULLED_MESSAGE.into();
    pulled.source = Some("kubelet".into());
    pulled.first_seen = t(5);
    pulled.count = 3;
    let mut oom = event("oom", "OOMKilling", "aks-np1-2", t(40));
    oom.namespace = "prod".into();
    oom.message = "Memory cgroup out of memory: Killed process 4242 (java)".into();
    archive
        .ingest(&[
            event("reboot-n1", "NodeRebootError", "aks-np1-1", t(10)),
            event("reboot-n2", "NodeRebootError", "aks-np1-2", t(20)),
            pulled,
            oom,
            event("gave-up", "NodeRepairGaveUp", "aks-np1-1", t(50)),
            event("old", "NodeRebootError", "aks-np1-1", t(-86_400)),
        ])
        .expect("ingest the events");
    (dir, path)
}

/// The UIDs `nodemend events --format json` prints for `args`, in order.
fn uids(path: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec![
        "events",
        "--archive",
        path.to_str().expect("a UTF-8 path"),
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    let out = nodemend(&all);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    events
        .iter()
        .map(|e| e["uid"].as_str().expect("every event has a uid").to_owned())
        .collect()
}

#[test]
fn every_filter_selects_exactly_its_events_oldest_first() {
    let (_dir, path) = event_archive();
    let since = t(-3600).to_string();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![],
            vec!["reboot-n1", "reboot-n2", "pulled", "oom", "gave-up"],
        ),
        (
            vec!["--reason", "NodeRebootError"],
            vec!["reboot-n1", "reboot-n2"],
        ),
        (
            vec![
                "--reason",
                "NodeRebootError",
                "--reason",
                "NodeRepairGaveUp",
            ],
            vec!["reboot-n1", "reboot-n2", "gave-up"],
        ),
        (vec!["--reason", "Pulled,OOMKilling"], vec!["pulled", "oom"]),
        (vec!["--type", "Normal"], vec!["pulled"]),
        (
            vec!["--type", "warning"],
            vec!["reboot-n1", "reboot-n2", "oom", "gave-up"],
        ),
        (vec!["--node", "aks-np1-2"], vec!["reboot-n2", "oom"]),
        (vec!["--namespace", "prod"], vec!["oom"]),
        (vec!["--grep", "OUT OF MEMORY"], vec!["oom"]),
        (vec!["--grep", "gaveup"], vec!["gave-up"]),
        (
            vec!["--node", "aks-np1-1", "--type", "Warning"],
            vec!["reboot-n1", "gave-up"],
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["--since", since.as_str()];
        all.extend_from_slice(&args);
        assert_eq!(uids(&path, &all), expected, "{args:?}");
    }
    let (from, to) = (t(15).to_string(), t(45).to_string());
    assert_eq!(
        uids(&path, &["--since", &from, "--until", &to]),
        ["reboot-n2", "pulled", "oom"]
    );
    assert_eq!(
        uids(&path, &["--since", &since, "--until", &t(30).to_string()]),
        ["reboot-n1", "reboot-n2"],
        "--until is exclusive"
    );
    assert_eq!(
        uids(
            &path,
            &[
                "--since",
                &t(-100_000).to_string(),
                "--reason",
                "NodeRebootError"
            ]
        ),
        ["old", "reboot-n1", "reboot-n2"]
    );
}

#[test]
fn since_counts_back_from_now_and_defaults_to_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.db");
    let now = Timestamp::now();
    Archive::open(&path)
        .unwrap()
        .ingest(&[
            event(
                "recent",
                "NodeNotReady",
                "n1",
                now - SignedDuration::from_hours(2),
            ),
            event(
                "days-ago",
                "NodeNotReady",
                "n1",
                now - SignedDuration::from_hours(72),
            ),
        ])
        .unwrap();
    assert_eq!(uids(&path, &[]), ["recent"]);
    assert_eq!(uids(&path, &["--since", "1h"]), Vec::<String>::new());
    assert_eq!(uids(&path, &["--since", "7d"]), ["days-ago", "recent"]);
    assert_eq!(
        uids(&path, &["--since", "7d", "--until", "1d"]),
        ["days-ago"]
    );
}

#[test]
fn a_limit_keeps_the_newest_and_says_more_matched() {
    let (_dir, path) = event_archive();
    let p = path.to_str().unwrap();
    let since = t(-3600).to_string();
    let out = nodemend(&[
        "events",
        "--archive",
        p,
        "--since",
        &since,
        "--limit",
        "2",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<&str> = events.iter().map(|e| e["uid"].as_str().unwrap()).collect();
    assert_eq!(got, ["oom", "gave-up"]);
    assert!(
        stderr(&out).contains("more events match"),
        "{}",
        stderr(&out)
    );
    let out = nodemend(&["events", "--archive", p, "--since", &since, "--limit", "5"]);
    assert!(
        !stderr(&out).contains("more events match"),
        "{}",
        stderr(&out)
    );
    let out = nodemend(&["events", "--archive", p, "--limit", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn json_carries_every_field() {
    let (_dir, path) = event_archive();
    let out = nodemend(&[
        "events",
        "--archive",
        path.to_str().unwrap(),
        "--since",
        &t(0).to_string(),
        "--reason",
        "Pulled",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    let expected = [
        ("uid", "pulled"),
        ("type", "Normal"),
        ("reason", "Pulled"),
        ("namespace", "kube-system"),
        ("objectKind", "Pod"),
        ("objectName", "coredns-abc"),
        ("objectNamespace", "kube-system"),
        ("node", "aks-np1-1"),
        ("source", "kubelet"),
        ("message", PULLED_MESSAGE),
    ];
    for (field, value) in expected {
        assert_eq!(e[field], value, "{field}");
    }
    assert_eq!(e["count"], 3);
    assert!(e["seq"].is_i64());
    let seen = |f: &str| e[f].as_str().unwrap().parse::<Timestamp>().unwrap();
    assert_eq!((seen("firstSeen"), seen("lastSeen")), (t(5), t(30)));
}

#[test]
fn csv_parses_back_into_the_same_rows() {
    let (_dir, path) = event_archive();
    let out = nodemend(&[
        "events",
        "--archive",
        path.to_str().unwrap(),
        "--since",
        &t(0).to_string(),
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let uids: Vec<&str> = rows.iter().map(|r| &r[column("uid")]).collect();
    assert_eq!(uids, ["reboot-n1", "reboot-n2", "pulled", "oom", "gave-up"]);
    let pulled = &rows[2];
    assert_eq!(
        &pulled[column("message")],
        PULLED_MESSAGE,
        "quotes, comma and newline survive"
    );
    assert_eq!(&pulled[column("count")], "3");
    assert_eq!(&pulled[column("objectName")], "coredns-abc");
    assert_eq!(
        pulled[column("lastSeen")].parse::<Timestamp>().unwrap(),
        t(30)
    );
    assert_eq!(
        &rows[0][column("objectNamespace")],
        "",
        "none is an empty field"
    );
}

#[test]
fn the_table_puts_each_event_on_one_line() {
    let (_dir, path) = event_archive();
    let out = nodemend(&[
        "events",
        "--archive",
        path.to_str().unwrap(),
        "--since",
        &t(0).to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five events:\n{text}");
    for title in [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "NODE",
        "COUNT",
        "MESSAGE",
    ] {
        assert!(lines[0].contains(title), "{title} in {}", lines[0]);
    }
    assert!(
        lines[1].starts_with("2026-03-01 12:00:10Z  Warning  NodeRebootError"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("Node/aks-np1-1"), "{}", lines[1]);
    assert!(
        lines[3].contains("Pod/coredns-abc") && lines[3].ends_with("in 2s from cache"),
        "whole message on one line when not on a terminal: {}",
        lines[3]
    );
}

#[test]
fn nothing_matching_is_said_on_stderr() {
    let (_dir, path) = event_archive();
    let out = nodemend(&[
        "events",
        "--archive",
        path.to_str().unwrap(),
        "--since",
        &t(0).to_string(),
        "--reason",
        "NoSuchReason",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("no events in"), "{}", stderr(&out));
}

#[test]
fn a_missing_archive_is_named_with_what_writes_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here.db");
    for cmd in ["events", "repairs"] {
        let out = nodemend(&[cmd, "--archive", missing.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(missing.to_str().unwrap()), "{cmd}: {err}");
        assert!(
            err.contains("nodemend run") && err.contains("nodemend archive"),
            "{err}"
        );
        assert!(!missing.exists(), "{cmd} must not create the file");
    }
    let out = command(&["events"])
        .env("NODEMEND_STATE_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let default = dir.path().join("archive.db");
    assert!(
        stderr(&out).contains(default.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_archive_can_come_from_the_environment() {
    let (_dir, path) = event_archive();
    let out = command(&[
        "events",
        "--since",
        &t(0).to_string(),
        "--reason",
        "OOMKilling",
        "--format",
        "json",
    ])
    .env("NODEMEND_ARCHIVE", &path)
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn bad_periods_are_usage_errors() {
    let (_dir, path) = event_archive();
    let p = path.to_str().unwrap();
    let out = nodemend(&["events", "--archive", p, "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--since") && err.contains("yesterday"),
        "{err}"
    );
    assert!(
        err.contains("7d"),
        "the message shows the accepted forms: {err}"
    );
    let out = nodemend(&["repairs", "--archive", p, "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = nodemend(&["events", "--archive", p, "--since", "1h", "--until", "2h"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not after --since"),
        "{}",
        stderr(&out)
    );
    let out = nodemend(&["events", "--archive", p, "--type", "Error"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

fn step(action: Action, started: Timestamp, outcome: StepOutcome) -> StepRecord {
    StepRecord {
        action,
        attempt: 1,
        started,
        finished: started + SignedDuration::from_mins(5),
        outcome,
    }
}

fn failed(code: &str) -> StepOutcome {
    StepOutcome::Failed { code: code.into() }
}

/// Three repairs: one that worked on the second step, one that gave up, one still going on.
fn repair_archive() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("archive.db");
    let mut archive = Archive::open(&path).expect("create the archive");
    let mut fixed = Repair::new("aks-np1-1", Some("np1".into()), t(0));
    fixed.history = vec![
        step(Action::Reboot, t(0), failed("VMExtensionProvisioningError")),
        step(Action::Reimage, t(600), StepOutcome::Recovered),
    ];
    fixed.last_error = Some("VMExtensionProvisioningError".into());
    fixed.phase = Phase::Succeeded { at: t(1800) };
    let mut gave_up = Repair::new("aks-np1-2", Some("np1".into()), t(3600));
    gave_up.history = vec![
        step(Action::Reboot, t(3600), failed("InvalidParameter")),
        step(Action::Reimage, t(4200), failed("InvalidParameter")),
        step(
            Action::Redeploy,
            t(4800),
            failed("TooManyVMRedeploymentRequests"),
        ),
    ];
    gave_up.attempt = 2;
    gave_up.last_error = Some("TooManyVMRedeploymentRequests".into());
    gave_up.phase = Phase::GaveUp { at: t(5400) };
    let mut active = Repair::new("aks-gpu-1", Some("gpu".into()), t(7200));
    active.phase = Phase::Acting {
        action: Action::Reboot,
        issued: t(7201),
    };
    for repair in [&fixed, &gave_up, &active] {
        archive
            .record_repair(repair, t(7300))
            .expect("record the repair");
    }
    (dir, path)
}

#[test]
fn repairs_json_has_the_steps_and_the_pool_summary() {
    let (_dir, path) = repair_archive();
    let out = nodemend(&[
        "repairs",
        "--archive",
        path.to_str().unwrap(),
        "--since",
        &t(-60).to_string(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let repairs = report["repairs"].as_array().unwrap();
    let nodes: Vec<&str> = repairs
        .iter()
        .map(|r| r["node"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        ["aks-np1-1", "aks-np1-2", "aks-gpu-1"],
        "oldest first"
    );
    let gave_up = &repairs[1];
    assert_eq!(gave_up["phase"], "GaveUp");
    assert_eq!(gave_up["attempt"], 2);
    assert_eq!(gave_up["lastError"], "TooManyVMRedeploymentRequests");
    let steps: Vec<(&str, &str, &str)> = gave_up["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap(),
                s["outcome"].as_str().unwrap(),
                s["errorCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("reboot", "Failed", "InvalidParameter"),
            ("reimage", "Failed", "InvalidParameter"),
            ("redeploy", "Failed", "TooManyVMRedeploymentRequests"),
        ]
    );
    assert_eq!(repairs[0]["steps"][1]["errorCode"], Value::Null);
    assert_eq!(report["truncated"], false);
    let pools = report["pools"].as_array().unwrap();
    let np1 = pools.iter().find(|p| p["pool"] == "np1").unwrap();
    assert_eq!(
        (
            &np1["repairs"],
            &np1["succeeded"],
            &np1["gaveUp"],
            &np1["active"]
        ),
        (
            &Value::from(2),
            &Value::from(1),
            &Value::from(1),
            &Value::from(0)
        )
    );
    assert_eq!(np1["successRate"], 0.5);
    assert_eq!(np1["topErrorCodes"][0]["code"], "InvalidParameter");
    assert_eq!(np1["topErrorCodes"][0]["count"], 2);
    let gpu = pools.iter().find(|p| p["pool"] == "gpu").unwrap();
    assert_eq!(
        (&gpu["active"], &gpu["successRate"]),
        (&Value::from(1), &Value::Null)
    );
}

#[test]
fn repairs_table_shows_steps_error_codes_and_pools() {
    let (_dir, path) = repair_archive();
    let p = path.to_str().unwrap();
    let out = nodemend(&["repairs", "--archive", p, "--since", &t(-60).to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
    };
    let fixed = at("aks-np1-1  np1");
    assert!(
        lines[fixed].contains("Succeeded") && lines[fixed].contains("30m"),
        "{text}"
    );
    assert!(
        lines[fixed + 1].contains("reboot")
            && lines[fixed + 1].contains("VMExtensionProvisioningError"),
        "{text}"
    );
    assert!(
        lines[fixed + 2].contains("reimage") && lines[fixed + 2].contains("Recovered"),
        "{text}"
    );
    let gave_up = at("aks-np1-2  np1");
    assert!(
        lines[gave_up].contains("GaveUp")
            && lines[gave_up].ends_with("TooManyVMRedeploymentRequests"),
        "{text}"
    );
    assert!(lines[gave_up + 3].contains("redeploy"), "{text}");
    assert!(lines[at("aks-gpu-1")].contains("so far"), "{text}");
    let summary = &lines[at("Per pool")..];
    let np1 = summary.iter().find(|l| l.starts_with("np1 ")).unwrap();
    let fields: Vec<&str> = np1.split_whitespace().collect();
    assert_eq!(
        &fields[..7],
        ["np1", "2", "1", "1", "0", "0", "50%"],
        "{np1}"
    );
    assert!(np1.contains("InvalidParameter (2)"), "{np1}");
    let gpu = summary.iter().find(|l| l.starts_with("gpu ")).unwrap();
    assert!(gpu.contains(" - "), "no verdict yet: {gpu}");

    let out = nodemend(&[
        "repairs",
        "--archive",
        p,
        "--since",
        &t(-60).to_string(),
        "--node",
        "aks-np1-2",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("aks-np1-2") && !text.contains("aks-np1-1  np1"),
        "{text}"
    );
}

/// Kills the child when the test ends, whichever way.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn follow_prints_events_archived_after_it_started() {
    let (_dir, path) = event_archive();
    let mut child = Killed(
        command(&[
            "events",
            "--archive",
            path.to_str().unwrap(),
            "--since",
            &t(0).to_string(),
            "--reason",
            "NodeRebootError",
            "--format",
            "json",
            "--follow",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nodemend events --follow"),
    );
    let (tx, rx) = mpsc::channel();
    let reader = BufReader::new(child.0.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<Value> = Vec::new();
    let mut wait_for = |what: &str, done: &dyn Fn(&[Value]) -> bool| {
        while !done(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} before the deadline; got {seen:?}"));
            seen.push(serde_json::from_str(&line).expect("one JSON object per line"));
        }
        seen.clone()
    };
    let has = |uid: &'static str, count: u64| {
        move |seen: &[Value]| seen.iter().any(|e| e["uid"] == uid && e["count"] == count)
    };
    let backlog = wait_for("backlog", &|s| s.len() >= 2);
    let uids: Vec<&str> = backlog.iter().map(|e| e["uid"].as_str().unwrap()).collect();
    assert_eq!(uids, ["reboot-n1", "reboot-n2"]);

    let mut writer = Archive::open(&path).unwrap();
    let mut other = event("pulled-later", "Pulled", "aks-np1-3", t(60));
    other.event_type = "Normal".into();
    writer.ingest(&[other]).unwrap();
    writer
        .ingest(&[event("reboot-n3", "NodeRebootError", "aks-np1-3", t(70))])
        .unwrap();
    wait_for("the new event", &has("reboot-n3", 1));
    let mut again = event("reboot-n1", "NodeRebootError", "aks-np1-1", t(80));
    again.first_seen = t(10);
    again.count = 4;
    writer.ingest(&[again]).unwrap();
    let seen = wait_for("the updated count", &has("reboot-n1", 4));
    let uids: Vec<&str> = seen.iter().map(|e| e["uid"].as_str().unwrap()).collect();
    assert_eq!(
        uids,
        ["reboot-n1", "reboot-n2", "reboot-n3", "reboot-n1"],
        "only matching events, each change once"
    );
}

#[test]
fn help_has_examples() {
    for cmd in ["events", "repairs"] {
        let out = nodemend(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        let help = stdout(&out);
        assert!(
            help.contains("Examples:") && help.contains(&format!("nodemend {cmd} --since")),
            "{help}"
        );
    }
    let top = stdout(&nodemend(&["--help"]));
    assert!(top.contains("events") && top.contains("repairs"), "{top}");
}
