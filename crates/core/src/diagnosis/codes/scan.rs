//! Scanners for the places a code hides in free text: CSE exit statuses, `VMExtensionError_X`
//! names, the AKS wrapper's `Code="X"` and `SubCode: X`, and `"code": "X"` of embedded JSON.

fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The identifier starting at `text` after skipping quotes, backslashes and spaces.
fn identifier_after(text: &str) -> Option<&str> {
    let start = text.trim_start_matches(['"', '\\', ' ', '\'']);
    let end = start
        .find(|c: char| !is_code_char(c))
        .unwrap_or(start.len());
    let ident = start[..end].trim_end_matches('.');
    (!ident.is_empty()).then_some(ident)
}

/// `exit status=N`, `exit status N`, `"ExitCode": "N"`: every non-zero CSE exit status.
pub fn exit_statuses(message: &str) -> Vec<u32> {
    let lower = message.to_ascii_lowercase();
    let mut out = Vec::new();
    for marker in ["exit status", "exitcode"] {
        for (at, _) in lower.match_indices(marker) {
            let rest = lower[at + marker.len()..].trim_start_matches(['=', ':', ' ', '"', '\\']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<u32>() {
                Ok(n) if n != 0 && !out.contains(&n) => out.push(n),
                _ => {}
            }
        }
    }
    out
}

/// Every `VMExtensionError_<Name>` in a message.
pub fn extension_error_names(message: &str) -> Vec<String> {
    const PREFIX: &str = "VMExtensionError_";
    message
        .match_indices(PREFIX)
        .filter_map(|(at, _)| {
            let rest = &message[at + PREFIX.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            (end > 0).then(|| format!("{PREFIX}{}", &rest[..end]))
        })
        .collect()
}

/// The codes of `Code="X"` in AKS wrapper text, in the order they appear.
pub fn original_error_codes(message: &str) -> Vec<String> {
    message
        .match_indices("Code=")
        .filter(|(at, _)| {
            !message[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        })
        .filter_map(|(at, m)| identifier_after(&message[at + m.len()..]))
        .map(str::to_owned)
        .collect()
}

/// The `SubCode: X;` values of AKS wrapper text.
pub fn sub_codes(message: &str) -> Vec<String> {
    message
        .match_indices("SubCode:")
        .filter_map(|(at, m)| identifier_after(&message[at + m.len()..]))
        .map(str::to_owned)
        .collect()
}

/// `"code": "X"` pairs of JSON embedded (possibly escaped) in free text, in order.
pub(super) fn embedded_json_codes(message: &str) -> Vec<String> {
    message
        .match_indices("\"code")
        .filter_map(|(at, m)| {
            let rest = message[at + m.len()..].trim_start_matches(['\\', '"', ' ']);
            let rest = rest.strip_prefix(':')?;
            identifier_after(rest).map(str::to_owned)
        })
        .collect()
}
