use super::*;

fn raw(json: &str) -> RawPolicy {
    serde_json::from_str(json).unwrap()
}

fn field_error(json: &str) -> PolicyError {
    raw(json).resolve().unwrap_err()
}

#[test]
fn defaults_follow_aks() {
    let policy = Policy::default();
    assert_eq!(policy.health.threshold, SignedDuration::from_mins(5));
    assert_eq!(policy.max_unhealthy, Limit::Percent(35));
    assert_eq!(policy.ladder_attempts, 3);
    let ladder: Vec<Action> = policy
        .default_pool
        .ladder
        .iter()
        .map(|s| s.action)
        .collect();
    assert_eq!(ladder, [Action::Reboot, Action::Reimage, Action::Redeploy]);
    assert!(policy.default_pool.cordon && !policy.dry_run && !policy.allow_single_node);
}

#[test]
fn pools_override_the_defaults_which_override_the_builtins() {
    let policy = raw(r#"{
        "threshold": "2m",
        "defaults": {"maxConcurrent": 2, "drain": false},
        "pools": {
            "gpu": {"enabled": false},
            "spot": {"ladder": ["reboot", {"action": "redeploy", "verify": "45m"}], "maxUnhealthy": 2}
        }
    }"#)
    .resolve()
    .unwrap();
    assert_eq!(policy.health.threshold, SignedDuration::from_mins(2));
    assert!(
        !policy.pool(Some("GPU")).enabled,
        "pool names are case-insensitive"
    );
    assert_eq!(
        policy.pool(Some("gpu")).max_concurrent,
        2,
        "inherits defaults"
    );
    let spot = policy.pool(Some("spot"));
    assert_eq!(spot.ladder.len(), 2);
    assert_eq!(spot.ladder[1].verify, SignedDuration::from_mins(45));
    assert_eq!(spot.ladder[0].verify, SignedDuration::from_mins(10));
    assert_eq!(spot.max_unhealthy, Limit::Count(2));
    assert_eq!(spot.drain, None);
    assert_eq!(policy.pool(Some("other")), &policy.default_pool);
    assert_eq!(policy.pool(None), &policy.default_pool);
}

#[test]
fn errors_name_the_field_and_the_reason() {
    let err = field_error(r#"{"threshold": "five minutes"}"#);
    assert_eq!(err.field, "threshold");
    assert!(err.problem.contains("not a duration"), "{err}");

    let err = field_error(r#"{"pools": {"np1": {"ladder": ["reboot", "reinstall"]}}}"#);
    assert_eq!(err.field, "pools.np1.ladder[1].action");

    let err = field_error(r#"{"maxUnhealthy": "135%"}"#);
    assert_eq!(err.field, "maxUnhealthy");

    let err = field_error(r#"{"defaults": {"drain": {"onTimeout": "maybe"}}}"#);
    assert_eq!(err.field, "defaults.drain.onTimeout");

    let err = field_error(r#"{"pools": {"a": {"ladder": []}}}"#);
    assert_eq!(err.field, "pools.a.ladder");

    let err = field_error(r#"{"pools": {"a": {"ladder": ["reboot", "reboot"]}}}"#);
    assert!(err.problem.contains("twice"), "{err}");

    let err = field_error(r#"{"backoff": "-5m"}"#);
    assert_eq!(err.field, "backoff");

    assert_eq!(
        field_error(r#"{"maxConcurrent": 0}"#).field,
        "maxConcurrent"
    );
    assert_eq!(
        field_error(r#"{"pools": {"x": {"maxConcurrent": 0}}}"#).field,
        "pools.x.maxConcurrent"
    );
    assert!(err.to_string().starts_with("policy field backoff:"));
}

#[test]
fn unknown_fields_are_rejected() {
    assert!(serde_json::from_str::<RawPolicy>(r#"{"treshold": "5m"}"#).is_err());
}

#[test]
fn limits_compare_counts_and_shares() {
    assert!(Limit::Percent(35).allows(3, 10));
    assert!(!Limit::Percent(35).allows(4, 10));
    assert!(Limit::Percent(0).allows(0, 10));
    assert!(!Limit::Percent(0).allows(1, 10));
    assert!(
        Limit::Percent(35).allows(1, 2),
        "one node of a small pool may always be repaired"
    );
    assert!(!Limit::Percent(35).allows(2, 2));
    assert!(Limit::Count(2).allows(2, 100));
    assert!(!Limit::Count(2).allows(3, 100));
    assert_eq!(Limit::Percent(35).to_string(), "35%");
}
