//! The object store: every object of every resource, one global resourceVersion, a bounded
//! history of changes per resource (what watches resume from) and a channel per resource that
//! live watches follow.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use super::resource::Registry;

/// Namespace ("" when cluster scoped) and name of a stored object.
pub(crate) type ObjectKey = (String, String);

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One change, as recorded in the history and sent to watches.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) rv: u64,
    pub(crate) kind: ChangeKind,
    /// The object after the change (for deletions: as it was, with the deletion's version).
    pub(crate) object: Arc<Value>,
    /// The object before the change, so that selector watches can tell enter from leave.
    pub(crate) previous: Option<Arc<Value>>,
}

#[derive(Debug, Default)]
struct History {
    changes: VecDeque<Arc<Change>>,
    /// Highest resourceVersion whose change was dropped from `changes`.
    dropped_up_to: u64,
}

/// Watch channel capacity per resource; a watch that falls this far behind is closed.
const CHANNEL_CAPACITY: usize = 4096;

/// Every stored object, plus the registry that says which resources exist.
#[derive(Debug)]
pub(crate) struct Store {
    rv: u64,
    history_len: usize,
    pub(crate) registry: Registry,
    objects: HashMap<String, BTreeMap<ObjectKey, Arc<Value>>>,
    history: HashMap<String, History>,
    channels: HashMap<String, broadcast::Sender<Arc<Change>>>,
    /// Watch requests answered `410 Gone` so far.
    expired: u64,
}

/// Why a watch cannot resume from a resourceVersion.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooOld {
    /// Oldest resourceVersion a watch of this resource can still resume from.
    pub(crate) oldest: u64,
}

impl Store {
    /// An empty store that keeps `history_len` changes per resource.
    pub(crate) fn new(history_len: usize) -> Self {
        Self {
            rv: 1,
            history_len: history_len.max(1),
            registry: Registry::default(),
            objects: HashMap::new(),
            history: HashMap::new(),
            channels: HashMap::new(),
            expired: 0,
        }
    }

    /// Drops every resource's change history, as an etcd compaction does: a watch resuming
    /// from any version before now is told `410 Gone` and must list again.
    pub(crate) fn compact(&mut self) {
        for history in self.history.values_mut() {
            history.changes.clear();
            history.dropped_up_to = self.rv;
        }
    }

    /// Watch requests answered `410 Gone` so far.
    pub(crate) fn expired(&self) -> u64 {
        self.expired
    }

    /// The current global resourceVersion.
    pub(crate) fn rv(&self) -> u64 {
        self.rv
    }

    /// The object `ns/name` of `storage`.
    pub(crate) fn get(&self, storage: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(storage)?
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Objects of `storage` in key order, only those of namespace `ns` when given.
    pub(crate) fn list<'a>(
        &'a self,
        storage: &str,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        let map = self.objects.get(storage);
        let range: Box<dyn Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a> = match (map, ns)
        {
            (None, _) => Box::new(std::iter::empty()),
            (Some(m), None) => Box::new(m.iter()),
            (Some(m), Some(ns)) => Box::new(
                m.range((ns.to_owned(), String::new())..)
                    .take_while(move |((n, _), _)| n == ns),
            ),
        };
        range
    }

    /// Objects of `storage` after `after` in key order (for `continue` tokens).
    pub(crate) fn list_after<'a>(
        &'a self,
        storage: &str,
        after: &ObjectKey,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        use std::ops::Bound::{Excluded, Unbounded};
        let after = after.clone();
        self.objects
            .get(storage)
            .into_iter()
            .flat_map(move |m| m.range((Excluded(after.clone()), Unbounded)))
    }

    /// Stores `object` (which must carry namespace and name), stamping a new resourceVersion.
    pub(crate) fn put(&mut self, storage: &str, mut object: Value) -> Arc<Value> {
        self.rv += 1;
        object["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        let key = key_of(&object);
        let object = Arc::new(object);
        let previous = self
            .objects
            .entry(storage.to_owned())
            .or_default()
            .insert(key, object.clone());
        let kind = if previous.is_some() {
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        self.record(storage, kind, object.clone(), previous);
        object
    }

    /// Removes `ns/name` of `storage`; the removed object carries the deletion's resourceVersion.
    pub(crate) fn remove(&mut self, storage: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let previous = self
            .objects
            .get_mut(storage)?
            .remove(&(ns.to_owned(), name.to_owned()))?;
        self.rv += 1;
        let mut gone = (*previous).clone();
        gone["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        let gone = Arc::new(gone);
        self.record(storage, ChangeKind::Deleted, gone.clone(), Some(previous));
        Some(gone)
    }

    fn record(
        &mut self,
        storage: &str,
        kind: ChangeKind,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let change = Arc::new(Change {
            rv: self.rv,
            kind,
            object,
            previous,
        });
        let history = self.history.entry(storage.to_owned()).or_default();
        history.changes.push_back(change.clone());
        while history.changes.len() > self.history_len {
            if let Some(old) = history.changes.pop_front() {
                history.dropped_up_to = old.rv;
            }
        }
        if let Some(tx) = self.channels.get(storage) {
            // No receivers is fine: nobody is watching this resource.
            let _ = tx.send(change);
        }
    }

    /// Changes of `storage` after `since`, or [`TooOld`] when some were already dropped.
    pub(crate) fn changes_since(
        &mut self,
        storage: &str,
        since: u64,
    ) -> Result<Vec<Arc<Change>>, TooOld> {
        let Some(history) = self.history.get(storage) else {
            return Ok(Vec::new());
        };
        if since < history.dropped_up_to {
            self.expired += 1;
            return Err(TooOld {
                oldest: history.dropped_up_to,
            });
        }
        Ok(history
            .changes
            .iter()
            .filter(|c| c.rv > since)
            .cloned()
            .collect())
    }

    /// A receiver of every future change of `storage`.
    pub(crate) fn subscribe(&mut self, storage: &str) -> broadcast::Receiver<Arc<Change>> {
        self.channels
            .entry(storage.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Number of stored objects, for figures and logs.
    pub(crate) fn len(&self) -> usize {
        self.objects.values().map(BTreeMap::len).sum()
    }
}

/// Namespace and name of an object.
pub(crate) fn key_of(object: &Value) -> ObjectKey {
    let meta = &object["metadata"];
    (
        meta["namespace"].as_str().unwrap_or_default().to_owned(),
        meta["name"].as_str().unwrap_or_default().to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(ns: &str, name: &str) -> Value {
        json!({"metadata": {"namespace": ns, "name": name}})
    }

    #[test]
    fn versions_grow_and_history_is_bounded() {
        let mut s = Store::new(2);
        let a = s.put("pods", obj("a", "p1"));
        assert_eq!(a["metadata"]["resourceVersion"], "2");
        s.put("pods", obj("a", "p2"));
        s.put("pods", obj("b", "p1"));
        assert_eq!(s.list("pods", Some("a")).count(), 2);
        assert_eq!(s.changes_since("pods", 1).err(), Some(TooOld { oldest: 2 }));
        let tail = s.changes_since("pods", 2).expect("kept");
        assert_eq!(tail.len(), 2);
        let gone = s.remove("pods", "a", "p1").expect("existed");
        assert_eq!(gone["metadata"]["resourceVersion"], "5");
        assert!(s.get("pods", "a", "p1").is_none());
    }

    #[test]
    fn list_after_resumes_behind_a_key() {
        let mut s = Store::new(10);
        for n in ["x", "y", "z"] {
            s.put("nodes", obj("", n));
        }
        let rest: Vec<_> = s
            .list_after("nodes", &(String::new(), "x".into()))
            .map(|(k, _)| k.1.clone())
            .collect();
        assert_eq!(rest, ["y", "z"]);
    }
}
