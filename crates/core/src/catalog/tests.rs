use super::*;

const QUOTA: &str = r#"
[[entry]]
code = "QuotaExceeded"
title = "Regional vCPU quota would be exceeded"
origin = "azure"
category = "quota"
severity = "error"
aliases = ["InsufficientVCPUQuota"]
signatures = ["exceeding quota limits of Core"]
appears_in = ["activity-log"]
causes = ["The pool asks for more vCPUs than the subscription may use in the region."]
docs = "https://learn.microsoft.com/x"
see_also = ["OperationNotAllowed"]

[[entry.remedy]]
step = "Compare usage with the limit."
commands = ["az vm list-usage --location <location> --output table"]

[[entry]]
code = "OperationNotAllowed"
title = "The operation is not allowed now"
origin = "azure"
category = "quota"
severity = "error"
causes = ["c"]
docs = "https://learn.microsoft.com/y"

[[entry.remedy]]
step = "s"
"#;

const EXITS: &str = r#"
[[exit_code]]
os = "linux"
code = 50
name = "ERR_OUTBOUND_CONN_FAIL"
meaning = "no egress"
entry = "quotaexceeded"
"#;

fn sample() -> Catalog {
    Catalog::parse(&[("quota.toml", QUOTA)], EXITS).unwrap()
}

fn invalid_problem(files: &[(&str, &str)], exits: &str) -> String {
    match Catalog::parse(files, exits).unwrap_err() {
        CatalogError::Invalid { problem, .. } => problem,
        other => panic!("expected an invalid-entry error, got {other}"),
    }
}

#[test]
fn finds_codes_and_aliases_ignoring_case_and_punctuation() {
    let catalog = sample();
    assert_eq!(catalog.find("QuotaExceeded").unwrap().code, "QuotaExceeded");
    assert_eq!(catalog.find("quotaexceeded").unwrap().code, "QuotaExceeded");
    assert_eq!(
        catalog.find("insufficient-vcpu-quota").unwrap().code,
        "QuotaExceeded"
    );
    assert!(catalog.find("Nope").is_none());
}

#[test]
fn suggests_close_codes_for_a_near_miss() {
    let catalog = sample();
    let codes: Vec<_> = catalog
        .suggest("QuotaExeeded", 3)
        .iter()
        .map(|e| e.code.as_str())
        .collect();
    assert_eq!(codes.first(), Some(&"QuotaExceeded"));
    assert!(catalog.suggest("zzzzzz", 3).is_empty());
    assert!(catalog.suggest("", 3).is_empty());
}

#[test]
fn maps_exit_codes_and_signatures() {
    let catalog = sample();
    let (exit, entry) = catalog.exit_code(NodeOs::Linux, 50).unwrap();
    assert_eq!(exit.name, "ERR_OUTBOUND_CONN_FAIL");
    assert_eq!(entry.code, "QuotaExceeded");
    assert!(catalog.exit_code(NodeOs::Windows, 50).is_none());
    let found = catalog
        .match_message("Operation results in EXCEEDING QUOTA LIMITS OF CORE. Maximum allowed: 10");
    assert_eq!(found.len(), 1);
}

#[test]
fn rejects_a_category_that_does_not_match_its_file() {
    let problem = invalid_problem(&[("capacity.toml", QUOTA)], "");
    assert!(problem.contains("does not match the file"), "{problem}");
}

#[test]
fn rejects_duplicate_codes_after_normalisation() {
    let dup = QUOTA.replace(
        "aliases = [\"InsufficientVCPUQuota\"]",
        "aliases = [\"operation-not-allowed\"]",
    );
    let problem = invalid_problem(&[("quota.toml", &dup)], "");
    assert!(problem.contains("already used"), "{problem}");
}

#[test]
fn rejects_dangling_references_and_missing_remedies() {
    let dangling = QUOTA.replace(
        "see_also = [\"OperationNotAllowed\"]",
        "see_also = [\"Missing\"]",
    );
    assert!(invalid_problem(&[("quota.toml", &dangling)], "").contains("Missing"));
    let no_https = QUOTA.replace("https://learn.microsoft.com/x", "http://x");
    assert!(invalid_problem(&[("quota.toml", &no_https)], "").contains("https"));
    let bad_exit = EXITS.replace("quotaexceeded", "Unknown");
    assert!(invalid_problem(&[("quota.toml", QUOTA)], &bad_exit).contains("no entry"));
}

#[test]
fn syntax_errors_name_the_file_and_keep_the_parser_detail() {
    let err = Catalog::parse(&[("quota.toml", "[[entry]]\ncode = ")], "").unwrap_err();
    assert!(err.to_string().contains("quota.toml"));
    let source = std::error::Error::source(&err).expect("parser error kept as source");
    assert!(source.to_string().contains("line"), "{source}");
    let unknown_field = QUOTA.replace("title =", "tittle = \"x\"\ntitle =");
    assert!(Catalog::parse(&[("quota.toml", &unknown_field)], "").is_err());
}

#[test]
fn the_builtin_catalog_is_valid_and_complete() {
    let catalog = Catalog::builtin();
    assert!(
        catalog.entries().len() >= 66,
        "only {} entries",
        catalog.entries().len()
    );
    assert!(
        !catalog.exit_codes().is_empty(),
        "no CSE exit codes embedded"
    );
    for entry in catalog.entries() {
        assert!(
            entry.remedy.iter().any(|s| !s.commands.is_empty()) || entry.origin == Origin::Nodemend,
            "{} has no command in its remedy",
            entry.code
        );
    }
}
