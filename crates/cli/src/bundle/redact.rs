//! Redaction of secrets from everything a bundle holds. Two passes: [`value`] walks structured
//! data (Kubernetes objects, ARM answers, archive rows) and blanks values by what their field
//! or environment variable is called; [`text`] finds secrets by their shape in any text (logs,
//! messages, and every string [`value`] visits). Each replaced secret becomes [`REDACTED`].
//!
//! The rules err towards removing too much: a bundle goes to people outside the cluster's
//! trust boundary, and a lost harmless value costs less than a leaked credential.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

/// What a removed secret is replaced with.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Names ending in one of these hold secrets (`client_secret`, `DB_PASSWORD`, `access_token`,
/// `AccountKey`, `client-key-data`...), in `name=value`, `name: value` and flag forms.
const SECRET_SUFFIX: &str = r"(?:secret|token|password|passwd|pwd|api[_\-]?key|access[_\-]?key|account[_\-]?key|private[_\-]?key|auth[_\-]?key|key[_\-]?data|credentials?|sharedaccesssignature)";

/// Words that mark an environment variable's value as a secret, matched anywhere in its name
/// (upper-cased).
const SECRET_ENV_WORDS: [&str; 11] = [
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PWD",
    "KEY",
    "CONNECTION_STRING",
    "CONNECTIONSTRING",
    "CREDENTIAL",
    "PRIVATE",
    "AUTH",
];

/// One shape of secret in text.
struct Rule {
    pattern: Regex,
    /// The replacement for one match; `None` leaves it as it is (already redacted, or a
    /// value such as `true` that cannot be a secret).
    replace: fn(&Captures<'_>) -> Option<String>,
}

fn rule(pattern: &str, replace: fn(&Captures<'_>) -> Option<String>) -> Rule {
    Rule {
        // The patterns are constants of this file; `rules_compile` checks them.
        pattern: Regex::new(pattern).expect("a redaction pattern of this file"),
        replace,
    }
}

/// Whether a value found after a secret's name is worth hiding.
fn is_secret_value(value: &str) -> bool {
    let bare = value.trim_matches(|c| c == '"' || c == '\'');
    !(bare.is_empty()
        || bare.contains(REDACTED)
        || ["true", "false", "null", "none", "nil", "<nil>", "<none>"]
            .iter()
            .any(|w| bare.eq_ignore_ascii_case(w)))
}

/// `prefix` kept, the rest replaced, unless the rest is no secret.
fn keep_prefix(caps: &Captures<'_>) -> Option<String> {
    let secret = caps.get(2).map_or("", |m| m.as_str());
    is_secret_value(secret).then(|| format!("{}{REDACTED}", &caps[1]))
}

/// A quoted value keeps its quotes.
fn keep_name_and_quotes(caps: &Captures<'_>) -> Option<String> {
    let value = caps.get(3).map_or("", |m| m.as_str());
    if !is_secret_value(value) {
        return None;
    }
    let quote = match value.chars().next() {
        Some(q @ ('"' | '\'')) if value.len() > 1 && value.ends_with(q) => q.to_string(),
        _ => String::new(),
    };
    Some(format!("{}{}{quote}{REDACTED}{quote}", &caps[1], &caps[2]))
}

fn whole(_: &Captures<'_>) -> Option<String> {
    Some(REDACTED.to_owned())
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // PEM private keys, whole.
        rule(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
            whole,
        ),
        // Credentials in URLs: scheme://user:password@host keeps the user.
        rule(
            r#"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s/:@"'<>]+:)([^\s/@"'<>]+)@"#,
            |caps| keep_prefix(caps).map(|s| format!("{s}@")),
        ),
        // Authorization headers.
        rule(
            r"(?i)(\bbearer[ \t]+)([A-Za-z0-9\-._~+/]{8,}=*)",
            keep_prefix,
        ),
        rule(
            r#"(?i)(\bauthorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+)([A-Za-z0-9+/]{4,}=*)"#,
            keep_prefix,
        ),
        // JSON Web Tokens: a base64url JSON header (`{"` is `eyJ`) and its other parts.
        rule(r"\beyJ[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*){0,2}", whole),
        // Shared access signatures.
        rule(r#"(?i)(\bsig=)([^&\s"'<>]+)"#, keep_prefix),
        // Storage account keys: 64 bytes in base64.
        rule(r"[A-Za-z0-9+/]{86}==", whole),
        // name=value and name: value for names that hold secrets.
        rule(
            &format!(
                r#"(?i)(\b[A-Za-z0-9_.\-]*?{SECRET_SUFFIX})(["']?[ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s"',;&<>]+)"#
            ),
            keep_name_and_quotes,
        ),
        // --token VALUE and the like, on command lines.
        rule(
            &format!(r#"(?i)(--[a-z0-9\-]*{SECRET_SUFFIX}[ \t]+)([^\s"'\-][^\s"']*)"#),
            keep_prefix,
        ),
    ]
});

/// `input` with every secret that [`RULES`] recognises replaced, and how many were.
pub(crate) fn text(input: &str) -> (Cow<'_, str>, usize) {
    let mut out = Cow::Borrowed(input);
    let mut count = 0;
    for rule in RULES.iter() {
        if !rule.pattern.is_match(&out) {
            continue;
        }
        let replaced =
            rule.pattern
                .replace_all(&out, |caps: &Captures<'_>| match (rule.replace)(caps) {
                    Some(replacement) => {
                        count += 1;
                        replacement
                    }
                    None => caps[0].to_owned(),
                });
        if let Cow::Owned(changed) = replaced {
            out = Cow::Owned(changed);
        }
    }
    (out, count)
}

/// Whether an environment variable called `name` holds a secret.
fn is_secret_env_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_ENV_WORDS.iter().any(|w| upper.contains(w))
}

static SECRET_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    // A constant of this file; `rules_compile` checks it.
    Regex::new(&format!(r"(?i){SECRET_SUFFIX}$")).expect("the secret field pattern")
});

/// Redacts `value` in place and returns how many secrets were removed: the `value` of every
/// `{name, value}` pair whose name looks like a secret's (container `env`), every string field
/// whose own name ends like a secret's (`clientSecret`, `token`, `password`), JSON documents
/// inside strings (the `last-applied-configuration` annotation), and, through [`text`], every
/// other string.
pub(crate) fn value(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut count = 0;
            let named_secret = map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(is_secret_env_name);
            for (key, field) in map.iter_mut() {
                let secret_field = (named_secret && key == "value") || SECRET_FIELD.is_match(key);
                match field {
                    Value::String(s) if secret_field && is_secret_value(s) => {
                        *field = Value::String(REDACTED.to_owned());
                        count += 1;
                    }
                    other => count += self::value(other),
                }
            }
            count
        }
        Value::Array(items) => items.iter_mut().map(self::value).sum(),
        Value::String(s) => {
            let (redacted, count) = string(s);
            if count > 0 {
                *s = redacted;
            }
            count
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// A string field: a JSON document inside it is redacted as data, anything else as text.
fn string(s: &str) -> (String, usize) {
    let trimmed = s.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut inner) = serde_json::from_str::<Value>(s)
    {
        let count = value(&mut inner);
        if count > 0 {
            return (inner.to_string(), count);
        }
    }
    let (redacted, count) = text(s);
    (redacted.into_owned(), count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(input: &str) -> String {
        text(input).0.into_owned()
    }

    #[test]
    fn rules_compile() {
        assert_eq!(RULES.len(), 9);
        assert!(SECRET_FIELD.is_match("clientSecret"));
    }

    #[test]
    fn bearer_and_basic_authorization() {
        assert_eq!(
            t("GET / Authorization: Bearer abc.def-ghi_jkl/mno=="),
            "GET / Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            t("authorization: Basic dXNlcjpwYXNzd29yZA=="),
            "authorization: Basic [REDACTED]"
        );
    }

    #[test]
    fn json_web_tokens() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLWJ5dGVz";
        assert_eq!(t(&format!("token {jwt} end")), "token [REDACTED] end");
        assert!(!t(&format!("x={jwt}")).contains("eyJ"));
    }

    #[test]
    fn sas_signatures_keep_the_rest_of_the_url() {
        assert_eq!(
            t("https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sig=AbC%2Bd%3D&sp=r"),
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sig=[REDACTED]&sp=r"
        );
    }

    #[test]
    fn storage_connection_strings_and_raw_account_keys() {
        let key = format!("{}==", "A1b2C3d4".repeat(10) + "A1b2C3");
        assert_eq!(key.len(), 88);
        let out = t(&format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
        ));
        assert_eq!(
            out,
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED];EndpointSuffix=core.windows.net"
        );
        assert_eq!(t(&format!("key is {key}")), "key is [REDACTED]");
    }

    #[test]
    fn named_secrets_in_assignments_yaml_json_and_flags() {
        assert_eq!(
            t("login client_secret=s3cr3t&grant_type=x"),
            "login client_secret=[REDACTED]&grant_type=x"
        );
        assert_eq!(t("DB_PASSWORD=hunter2 next"), "DB_PASSWORD=[REDACTED] next");
        assert_eq!(t("    token: abc123"), "    token: [REDACTED]");
        assert_eq!(
            t(r#"{"password": "two words", "user": "u"}"#),
            r#"{"password": "[REDACTED]", "user": "u"}"#
        );
        assert_eq!(
            t("kubeadm join --token abcdef.0123456789abcdef --discovery"),
            "kubeadm join --token [REDACTED] --discovery"
        );
        assert_eq!(
            t("client-key-data: LS0tLS1CRUdJTg=="),
            "client-key-data: [REDACTED]"
        );
    }

    #[test]
    fn urls_lose_their_password_but_keep_the_user() {
        assert_eq!(
            t("proxy http://admin:pa55@proxy.local:3128/ up"),
            "proxy http://admin:[REDACTED]@proxy.local:3128/ up"
        );
        assert_eq!(t("https://example.com:443/x"), "https://example.com:443/x");
    }

    #[test]
    fn private_keys_go_whole() {
        let pem = "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIB\nxyz\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(t(pem), "a\n[REDACTED]\nb");
    }

    #[test]
    fn harmless_text_is_left_alone() {
        for s in [
            "automountServiceAccountToken: true",
            "secretName: azure-files",
            "tokenExpirationSeconds: 3600",
            "MountVolume.SetUp failed for volume \"x\" : secret \"y\" not found",
            "coredns-5d78c9869d-abcde.17a8b9c0d1e2f3a4",
            "password: [REDACTED]",
            "Back-off restarting failed container coredns",
        ] {
            let (out, n) = text(s);
            assert_eq!((out.as_ref(), n), (s, 0), "{s}");
        }
    }

    #[test]
    fn redaction_is_idempotent_and_counted() {
        let (once, n) = text("a token=x1 and Bearer abcdefghij");
        assert_eq!(n, 2);
        let (twice, m) = text(&once);
        assert_eq!((twice.as_ref(), m), (once.as_ref(), 0));
    }

    #[test]
    fn pod_env_values_with_secret_names_are_blanked() {
        let mut pod = json!({"spec": {"containers": [{"name": "app", "env": [
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "STORAGE_CONNECTION_STRING", "value": "whatever"},
            {"name": "API_KEY", "value": "k"},
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
        ]}]}});
        assert_eq!(value(&mut pod), 3);
        let env = &pod["spec"]["containers"][0]["env"];
        assert_eq!(env[0]["value"], REDACTED);
        assert_eq!(env[1]["value"], REDACTED);
        assert_eq!(env[2]["value"], REDACTED);
        assert_eq!(env[3]["value"], "debug");
        assert_eq!(env[4]["valueFrom"]["secretKeyRef"]["name"], "s");
        assert_eq!(env[4]["valueFrom"]["secretKeyRef"]["key"], "k");
    }

    #[test]
    fn secret_fields_json_in_strings_and_text_in_strings() {
        let applied =
            json!({"spec": {"containers": [{"env": [{"name": "TOKEN", "value": "t0k"}]}]}});
        let mut object = json!({
            "metadata": {"annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": applied.to_string()
            }},
            "clientSecret": "abc",
            "automountServiceAccountToken": true,
            "message": "calling https://u:p4ss@host/ failed"
        });
        assert_eq!(value(&mut object), 3);
        let annotation =
            object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
                .as_str()
                .unwrap();
        assert!(!annotation.contains("t0k"), "{annotation}");
        assert!(annotation.contains(REDACTED));
        assert_eq!(object["clientSecret"], REDACTED);
        assert_eq!(object["automountServiceAccountToken"], true);
        assert_eq!(
            object["message"],
            "calling https://u:[REDACTED]@host/ failed"
        );
    }
}
