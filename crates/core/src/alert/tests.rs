use jiff::{SignedDuration, Timestamp};

use super::*;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + secs).unwrap()
}

fn rules(json: &str) -> Vec<AlertRule> {
    serde_json::from_str::<RawAlerts>(json)
        .unwrap()
        .resolve()
        .unwrap()
}

fn rule_error(json: &str) -> AlertRuleError {
    serde_json::from_str::<RawAlerts>(json)
        .unwrap()
        .resolve()
        .unwrap_err()
}

fn event<'a>(reason: &'a str, node: &'a str, at: Timestamp) -> AlertEvent<'a> {
    AlertEvent {
        reason,
        event_type: "Warning",
        message: "Node auto-repair reboot action failed due to an operation failure: VMExtensionProvisioningError",
        object_kind: Some("Node"),
        object_name: Some(node),
        object_namespace: None,
        node: Some(node),
        at,
        occurrences: 1,
    }
}

fn names(firings: &[Firing]) -> Vec<&str> {
    firings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn builtin_rules_cover_the_repair_errors_gave_up_and_not_ready() {
    let rules = builtin_rules();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "node-reboot-error",
            "node-reimage-error",
            "node-redeploy-error",
            "node-repair-gave-up",
            "node-not-ready"
        ]
    );
    let mut engine = AlertEngine::new(rules);
    for reason in [
        "NodeRebootError",
        "NodeReimageError",
        "NodeRedeployError",
        "NodeRepairGaveUp",
    ] {
        let fired = engine.observe(&event(reason, "n1", t(0)), t(1));
        assert_eq!(fired.len(), 1, "{reason} fires on its first occurrence");
        assert_eq!(fired[0].group.as_deref(), Some("n1"));
    }
    assert!(
        engine
            .observe(&event("NodeRebootStart", "n1", t(0)), t(1))
            .is_empty()
    );
}

#[test]
fn fires_once_when_the_count_is_reached_within_the_window() {
    let mut engine = AlertEngine::new(rules(
        r#"{"builtin": false, "rules": [{"name": "flaky", "reasons": ["BackOff"], "count": 3, "window": "10m", "quiet": "0s", "groupBy": "rule"}]}"#,
    ));
    let e = |at| event("BackOff", "n1", at);
    assert!(engine.observe(&e(t(0)), t(0)).is_empty());
    assert!(engine.observe(&e(t(60)), t(60)).is_empty());
    let fired = engine.observe(&e(t(120)), t(120));
    assert_eq!(names(&fired), ["flaky"]);
    assert_eq!(fired[0].count, 3);
    assert_eq!((fired[0].first, fired[0].last), (t(0), t(120)));
    assert_eq!(fired[0].group, None);
    // The window was emptied: two more are not enough.
    assert!(engine.observe(&e(t(130)), t(130)).is_empty());
    assert!(engine.observe(&e(t(140)), t(140)).is_empty());
    assert_eq!(names(&engine.observe(&e(t(150)), t(150))), ["flaky"]);
}

#[test]
fn occurrences_outside_the_window_do_not_count() {
    let mut engine = AlertEngine::new(rules(
        r#"{"builtin": false, "rules": [{"name": "r", "reasons": ["BackOff"], "count": 2, "window": "5m"}]}"#,
    ));
    let e = |at| event("BackOff", "n1", at);
    assert!(engine.observe(&e(t(0)), t(0)).is_empty());
    assert!(
        engine.observe(&e(t(301)), t(301)).is_empty(),
        "the first one left the window"
    );
    assert!(
        engine.observe(&e(t(-400)), t(302)).is_empty(),
        "a replayed old event does not count"
    );
    assert_eq!(names(&engine.observe(&e(t(302)), t(302))), ["r"]);
}

#[test]
fn an_aggregated_event_counts_its_new_occurrences() {
    let mut engine = AlertEngine::new(rules(
        r#"{"builtin": false, "rules": [{"name": "r", "reasons": ["BackOff"], "count": 5}]}"#,
    ));
    let mut e = event("BackOff", "n1", t(0));
    e.occurrences = 4;
    assert!(engine.observe(&e, t(0)).is_empty());
    e.occurrences = 0;
    assert!(
        engine.observe(&e, t(1)).is_empty(),
        "a repeated delivery counts nothing"
    );
    e.occurrences = 1;
    assert_eq!(engine.observe(&e, t(2))[0].count, 5);
}

#[test]
fn quiet_period_silences_the_same_group_only() {
    let mut engine = AlertEngine::new(rules(
        r#"{"builtin": false, "rules": [{"name": "r", "reasons": ["NodeRebootError"], "quiet": "30m"}]}"#,
    ));
    assert_eq!(
        engine
            .observe(&event("NodeRebootError", "n1", t(0)), t(0))
            .len(),
        1
    );
    assert!(
        engine
            .observe(&event("NodeRebootError", "n1", t(60)), t(60))
            .is_empty()
    );
    assert_eq!(
        engine
            .observe(&event("NodeRebootError", "n2", t(60)), t(60))
            .len(),
        1,
        "another node is another group"
    );
    assert!(
        engine
            .observe(&event("NodeRebootError", "n1", t(1799)), t(1799))
            .is_empty()
    );
    let fired = engine.observe(&event("NodeRebootError", "n1", t(1800)), t(1800));
    assert_eq!(fired.len(), 1, "the quiet period ends at exactly 30m");
}

#[test]
fn matchers_check_type_message_kind_and_name() {
    let mut engine = AlertEngine::new(rules(
        r#"{"builtin": false, "rules": [{"name": "r", "type": "warning", "message": "operation failure: (VMExtension|InvalidParameter)",
            "objectKind": "node", "objectName": "^aks-gpu-", "groupBy": "object", "quiet": "0s"}]}"#,
    ));
    let good = event("NodeRebootError", "aks-gpu-1", t(0));
    assert_eq!(
        engine.observe(&good, t(0))[0].group.as_deref(),
        Some("Node/aks-gpu-1")
    );
    let cases = [
        AlertEvent {
            event_type: "Normal",
            ..good
        },
        AlertEvent {
            message: "action failed due to an operation failure: Other",
            ..good
        },
        AlertEvent {
            object_kind: Some("Pod"),
            ..good
        },
        AlertEvent {
            object_name: Some("aks-sys-1"),
            ..good
        },
        AlertEvent {
            object_name: None,
            ..good
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        assert!(
            engine.observe(case, t(1)).is_empty(),
            "case {i} must not match"
        );
    }
}

#[test]
fn not_ready_fires_once_per_episode_after_the_threshold() {
    let mut engine = AlertEngine::new(builtin_rules());
    let down = t(0);
    assert!(engine.not_ready(&[("n1", down)], t(899)).is_empty());
    assert_eq!(
        engine.next_not_ready_deadline(&[("n1", down)], t(899)),
        Some(t(900))
    );
    let fired = engine.not_ready(&[("n1", down)], t(900));
    assert_eq!(names(&fired), ["node-not-ready"]);
    assert_eq!(fired[0].first, down);
    assert!(
        fired[0].summary.contains("NotReady for 15m"),
        "{}",
        fired[0].summary
    );
    assert!(
        engine.not_ready(&[("n1", down)], t(5000)).is_empty(),
        "same episode"
    );
    assert_eq!(
        engine.next_not_ready_deadline(&[("n1", down)], t(5000)),
        None
    );
    // Ready again, then NotReady again: the new episode fires once the quiet hour that
    // started with the first firing (t+900s) is over.
    assert!(engine.not_ready(&[], t(1000)).is_empty());
    let again = t(1100);
    assert!(engine.not_ready(&[("n1", again)], t(2000)).is_empty());
    assert_eq!(
        engine.next_not_ready_deadline(&[("n1", again)], t(2000)),
        Some(t(4500))
    );
    assert!(engine.not_ready(&[("n1", again)], t(4499)).is_empty());
    assert_eq!(engine.not_ready(&[("n1", again)], t(4500)).len(), 1);
}

#[test]
fn sweep_forgets_empty_windows_and_finished_quiet_periods() {
    let mut engine = AlertEngine::new(rules(
        r#"{"builtin": false, "rules": [{"name": "r", "reasons": ["BackOff"], "count": 2, "window": "1m", "quiet": "1m"}]}"#,
    ));
    engine.observe(&event("BackOff", "n1", t(0)), t(0));
    engine.observe(&event("BackOff", "n2", t(0)), t(0));
    engine.observe(&event("BackOff", "n2", t(1)), t(1));
    assert_eq!(engine.tracked_groups(), 3);
    engine.sweep(t(30));
    assert_eq!(engine.tracked_groups(), 2);
    engine.sweep(t(61));
    assert_eq!(engine.tracked_groups(), 0);
}

#[test]
fn own_rules_replace_builtins_of_the_same_name() {
    let rules = rules(r#"{"rules": [{"name": "node-not-ready", "nodeNotReadyFor": "30m"}]}"#);
    assert_eq!(rules.len(), 5);
    let not_ready = rules.iter().find(|r| r.name == "node-not-ready").unwrap();
    assert!(
        matches!(not_ready.trigger, Trigger::NodeNotReady { after } if after == SignedDuration::from_mins(30))
    );
}

#[test]
fn errors_name_the_field_and_the_reason() {
    let cases = [
        (r#"{"rules": [{"reasons": ["X"]}]}"#, "alerts.rules[0].name"),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"]}, {"name": "a", "reasons": ["Y"]}]}"#,
            "alerts.rules[1].name",
        ),
        (
            r#"{"rules": [{"name": "a", "message": "("}]}"#,
            "alerts.rules[0].message",
        ),
        (
            r#"{"rules": [{"name": "a", "objectName": "[z-a]"}]}"#,
            "alerts.rules[0].objectName",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "window": "soon"}]}"#,
            "alerts.rules[0].window",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "window": "0s"}]}"#,
            "alerts.rules[0].window",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "quiet": "-5m"}]}"#,
            "alerts.rules[0].quiet",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "quiet": "9000h"}]}"#,
            "alerts.rules[0].quiet",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "count": 0}]}"#,
            "alerts.rules[0].count",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": [""]}]}"#,
            "alerts.rules[0].reasons[0]",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "groupBy": "pod"}]}"#,
            "alerts.rules[0].groupBy",
        ),
        (
            r#"{"rules": [{"name": "a", "reasons": ["X"], "severity": "page"}]}"#,
            "alerts.rules[0].severity",
        ),
        (
            r#"{"rules": [{"name": "a", "nodeNotReadyFor": "5m", "count": 2}]}"#,
            "alerts.rules[0].count",
        ),
        (
            r#"{"rules": [{"name": "a", "nodeNotReadyFor": "never"}]}"#,
            "alerts.rules[0].nodeNotReadyFor",
        ),
        (r#"{"rules": [{"name": "a"}]}"#, "alerts.rules[0]"),
    ];
    for (json, field) in cases {
        let err = rule_error(json);
        assert_eq!(err.field, field, "{json}: {err}");
        assert!(
            err.to_string()
                .starts_with(&format!("alert rule field {field}: "))
        );
    }
    assert!(
        rule_error(r#"{"rules": [{"name": "a", "message": "("}]}"#)
            .problem
            .contains("not a regular expression")
    );
    assert!(
        serde_json::from_str::<RawAlerts>(r#"{"rules": [{"name": "a", "reason": "X"}]}"#).is_err(),
        "unknown fields are refused"
    );
}

#[test]
fn rules_read_from_toml_as_a_policy_file_would_carry_them() {
    let raw: RawAlerts = toml::from_str(
        r#"
        builtin = false
        [[rules]]
        name = "image-pull-storm"
        reasons = ["Failed", "BackOff"]
        type = "Warning"
        message = "ErrImagePull|ImagePullBackOff"
        count = 20
        window = "10m"
        groupBy = "rule"
        "#,
    )
    .unwrap();
    let rules = raw.resolve().unwrap();
    assert_eq!(rules.len(), 1);
    assert!(matches!(
        &rules[0].trigger,
        Trigger::Events { count: 20, window, .. } if *window == SignedDuration::from_mins(10)
    ));
    assert_eq!(rules[0].group_by, GroupBy::Rule);
}

fn webhooks(json: &str) -> Result<Vec<Webhook>, AlertRuleError> {
    serde_json::from_str::<RawAlerts>(json)
        .unwrap()
        .resolve_webhooks()
}

#[test]
fn webhooks_take_their_url_from_one_place() {
    let hooks = webhooks(
        r#"{"webhooks": [
            {"name": "oncall", "urlEnv": "ONCALL_URL", "format": "slack"},
            {"name": "teams", "urlFile": "/etc/nodemend/teams-url", "format": "Teams", "maxAttempts": 3, "timeout": "5s"},
            {"name": "audit", "url": "https://audit.example.com/hook?code=s3cret"}
        ]}"#,
    )
    .unwrap();
    assert_eq!(hooks[0].url, WebhookUrl::Env("ONCALL_URL".into()));
    assert_eq!(hooks[0].format, WebhookFormat::Slack);
    assert_eq!(hooks[0].max_attempts, 5);
    assert_eq!(hooks[1].format, WebhookFormat::Teams);
    assert_eq!(hooks[1].timeout, SignedDuration::from_secs(5));
    assert_eq!(hooks[2].format, WebhookFormat::Json);
    let shown = format!("{hooks:?} {}", hooks[2].url);
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn bad_webhooks_name_the_field_and_never_the_url() {
    let cases = [
        (
            r#"{"webhooks": [{"urlEnv": "X"}]}"#,
            "alerts.webhooks[0].name",
        ),
        (r#"{"webhooks": [{"name": "a"}]}"#, "needs one of url"),
        (
            r#"{"webhooks": [{"name": "a", "url": "https://h/x", "urlEnv": "X"}]}"#,
            "only one of",
        ),
        (
            r#"{"webhooks": [{"name": "a", "url": "ftp://secret-host/x"}]}"#,
            "alerts.webhooks[0].url: must start with https://",
        ),
        (
            r#"{"webhooks": [{"name": "a", "urlEnv": "X", "format": "pager"}]}"#,
            "json, slack, teams",
        ),
        (
            r#"{"webhooks": [{"name": "a", "urlEnv": "X", "maxAttempts": 0}]}"#,
            "maxAttempts",
        ),
        (
            r#"{"webhooks": [{"name": "a", "urlEnv": "X", "timeout": "1h"}]}"#,
            "timeout",
        ),
        (
            r#"{"webhooks": [{"name": "a", "urlEnv": "X"}, {"name": "a", "urlEnv": "Y"}]}"#,
            "alerts.webhooks[1].name",
        ),
    ];
    for (json, expected) in cases {
        let err = webhooks(json).unwrap_err().to_string();
        assert!(err.contains(expected), "{json}: {err}");
        assert!(!err.contains("secret-host"), "{err}");
    }
    assert!(webhooks("{}").unwrap().is_empty());
}
