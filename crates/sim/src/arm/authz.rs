//! Role assignments: when the scenario lists the actions the identity's roles allow, a request
//! whose action is not among them gets ARM's 403 `AuthorizationFailed`, naming the action and
//! the scope. The action is derived as ARM derives it: the provider namespace, the resource
//! types along the path, then `read` (GET), `write` (PUT/PATCH), `delete` or `<name>/action`
//! (POST). Written independently of the client's own derivation, so one cannot hide the
//! other's mistake. Listing one's own permissions needs no role.

use axum::http::Method;

/// The action a request needs.
pub(crate) fn action(method: &Method, segs: &[String]) -> String {
    let providers = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"));
    let (namespace, rest) = match providers {
        None => ("Microsoft.Resources", segs),
        Some(at) if segs.len() > at + 2 => (segs[at + 1].as_str(), &segs[at + 2..]),
        Some(_) => {
            return format!(
                "Microsoft.Resources/subscriptions/providers/{}",
                verb(method)
            );
        }
    };
    let post_action = *method == Method::POST && rest.len() % 2 == 1;
    let typed = if post_action {
        &rest[..rest.len() - 1]
    } else {
        rest
    };
    let mut action = namespace.to_owned();
    for t in typed.iter().step_by(2) {
        action.push('/');
        action.push_str(t);
    }
    match (post_action, rest.last()) {
        (true, Some(name)) => format!("{action}/{name}/action"),
        _ => format!("{action}/{}", verb(method)),
    }
}

fn verb(method: &Method) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => "read",
        Method::DELETE => "delete",
        _ => "write",
    }
}

/// Whether `allowed` (actions, where `*` stands for any run of characters) grants `action`,
/// ignoring case. Reading one's own permissions is always allowed, as ARM allows it.
pub(crate) fn allows(allowed: &[String], action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    action == PERMISSIONS_READ
        || allowed
            .iter()
            .any(|a| glob(a.to_ascii_lowercase().as_bytes(), action.as_bytes()))
}

/// The action of listing one's own permissions, lower-cased.
const PERMISSIONS_READ: &str = "microsoft.authorization/permissions/read";

/// `pattern` with `*` wildcards against `text`, by backtracking over the last `*`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// The scope ARM names in the refusal: the path without its action segment.
pub(crate) fn scope(method: &Method, raw: &[String]) -> String {
    let keep = if *method == Method::POST && raw.len() % 2 == 1 {
        raw.len() - 1
    } else {
        raw.len()
    };
    format!("/{}", raw[..keep].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    }

    #[test]
    fn actions_are_named_as_arm_names_them() {
        let vmss = "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachinescalesets/v";
        assert_eq!(
            action(
                &Method::POST,
                &segs(&format!("{vmss}/virtualmachines/3/restart"))
            ),
            "microsoft.compute/virtualmachinescalesets/virtualmachines/restart/action"
        );
        assert_eq!(
            action(&Method::GET, &segs("/subscriptions/s")),
            "Microsoft.Resources/subscriptions/read"
        );
        assert_eq!(
            action(
                &Method::GET,
                &segs("/subscriptions/s/providers/microsoft.insights/eventtypes/management/values")
            ),
            "microsoft.insights/eventtypes/values/read"
        );
    }

    #[test]
    fn wildcards_and_case() {
        let allowed = vec![
            "Microsoft.Compute/*/read".to_owned(),
            "Microsoft.ContainerService/*".to_owned(),
        ];
        assert!(allows(
            &allowed,
            "microsoft.containerservice/managedclusters/write"
        ));
        assert!(!allows(
            &allowed,
            "microsoft.compute/virtualmachines/restart/action"
        ));
        assert!(allows(
            &allowed,
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"
        ));
        assert!(!allows(
            &allowed,
            "Microsoft.Network/virtualNetworks/subnets/read"
        ));
        assert!(allows(&["*".to_owned()], "Microsoft.Anything/x/write"));
        assert!(allows(&[], "Microsoft.Authorization/permissions/read"));
    }
}
