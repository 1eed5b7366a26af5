//! Label selectors (query strings and `metav1.LabelSelector` objects) and field selectors.

use serde_json::Value;

use super::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Exists,
    NotExists,
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    reqs: Vec<(String, Op)>,
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_set(rest: &str, whole: &str) -> ApiResult<Vec<String>> {
    let rest = rest.trim();
    let Some(open) = rest.strip_prefix('(') else {
        let found = rest.split([' ', ',', ')']).next().unwrap_or_default();
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: found '{found}' expected: '('"
        )));
    };
    let inner = open
        .strip_suffix(')')
        .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: {whole}")))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect())
}

fn parse_requirement(req: &str) -> ApiResult<(String, Op)> {
    let req = req.trim();
    if let Some(key) = req.strip_prefix('!') {
        return Ok((key.trim().to_owned(), Op::NotExists));
    }
    for (token, neg) in [(" notin ", true), (" in ", false)] {
        if let Some(pos) = req.find(token) {
            let key = req[..pos].trim().to_owned();
            let set = parse_set(&req[pos + token.len()..], req)?;
            return Ok((key, if neg { Op::NotIn(set) } else { Op::In(set) }));
        }
    }
    for (token, neg) in [("!=", true), ("==", false), ("=", false)] {
        if let Some(pos) = req.find(token) {
            let key = req[..pos].trim().to_owned();
            let value = req[pos + token.len()..].trim().to_owned();
            return Ok((key, if neg { Op::NotEq(value) } else { Op::Eq(value) }));
        }
    }
    if req.contains(['(', ')', ' ', '<', '>']) {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: {req}"
        )));
    }
    Ok((req.to_owned(), Op::Exists))
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub(crate) fn parse(s: &str) -> ApiResult<Self> {
        let reqs = split_top(s)
            .into_iter()
            .filter(|r| !r.trim().is_empty())
            .map(parse_requirement)
            .collect::<ApiResult<_>>()?;
        Ok(Self { reqs })
    }

    /// Reads a `metav1.LabelSelector` (`matchLabels`, `matchExpressions`).
    pub(crate) fn from_object(sel: &Value) -> ApiResult<Self> {
        let mut reqs = Vec::new();
        if let Some(m) = sel["matchLabels"].as_object() {
            for (k, v) in m {
                reqs.push((k.clone(), Op::Eq(v.as_str().unwrap_or_default().to_owned())));
            }
        }
        for e in sel["matchExpressions"].as_array().into_iter().flatten() {
            let key = e["key"].as_str().unwrap_or_default().to_owned();
            let values: Vec<String> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let op = match e["operator"].as_str().unwrap_or_default() {
                "In" => Op::In(values),
                "NotIn" => Op::NotIn(values),
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::NotExists,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "\"{other}\" is not a valid label selector operator"
                    )));
                }
            };
            reqs.push((key, op));
        }
        Ok(Self { reqs })
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub(crate) fn matches(&self, labels: &Value) -> bool {
        self.reqs.iter().all(|(key, op)| {
            let value = labels.get(key).and_then(Value::as_str);
            match op {
                Op::Exists => value.is_some(),
                Op::NotExists => value.is_none(),
                Op::Eq(v) => value == Some(v.as_str()),
                Op::NotEq(v) => value != Some(v.as_str()),
                Op::In(set) => value.is_some_and(|x| set.iter().any(|s| s == x)),
                Op::NotIn(set) => value.is_none_or(|x| set.iter().all(|s| s != x)),
            }
        })
    }
}

/// A parsed field selector: `field=value`, `field==value` and `field!=value` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

/// Splits on unescaped commas and removes the escapes.
fn split_escaped(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut chars) = (Vec::new(), String::new(), s.chars());
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ',' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter.
    pub(crate) fn parse(s: &str) -> ApiResult<Self> {
        let mut terms = Vec::new();
        for term in split_escaped(s).into_iter().filter(|t| !t.is_empty()) {
            let (field, neg, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, false, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                )));
            };
            terms.push((field.trim().to_owned(), neg, value.trim().to_owned()));
        }
        Ok(Self { terms })
    }

    /// The fields this selector names, to check that the resource supports them.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|(f, _, _)| f.as_str())
    }

    /// Whether the values that `lookup` finds for each field satisfy every term.
    pub(crate) fn matches(&self, lookup: impl Fn(&str) -> String) -> bool {
        self.terms
            .iter()
            .all(|(field, neg, value)| (lookup(field) == *value) != *neg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).expect("valid selector")
    }

    #[test]
    fn label_selector_operators() {
        let labels = json!({"app": "web", "tier": "front"});
        assert!(sel("app=web").matches(&labels));
        assert!(sel("app==web,tier").matches(&labels));
        assert!(!sel("app!=web").matches(&labels));
        assert!(sel("missing!=x").matches(&labels));
        assert!(sel("app in (db, web)").matches(&labels));
        assert!(!sel("app notin (db,web)").matches(&labels));
        assert!(sel("missing notin (db)").matches(&labels));
        assert!(sel("!missing").matches(&labels));
        assert!(!sel("!app").matches(&labels));
        assert!(sel("").matches(&labels));
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn label_selector_object() {
        let s = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]
        }))
        .expect("valid");
        assert!(s.matches(&json!({"app": "web", "tier": "front"})));
        assert!(!s.matches(&json!({"app": "web"})));
    }

    #[test]
    fn field_selector_terms() {
        let s = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed").expect("valid");
        let lookup = |phase: &'static str| {
            move |f: &str| match f {
                "spec.nodeName" => "n1".to_owned(),
                _ => phase.to_owned(),
            }
        };
        assert!(s.matches(lookup("Running")));
        assert!(!s.matches(lookup("Failed")));
        assert!(FieldSelector::parse("nonsense").is_err());
        assert_eq!(
            FieldSelector::parse(r"a=x\,y").expect("valid").terms[0].2,
            "x,y"
        );
    }
}
