//! The evaluation of alert rules: `observe(event, now) -> firings`, with the counting windows
//! and quiet periods as plain state.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::{AlertEvent, AlertRule, Firing, GroupBy, Sample, Trigger};

/// A rule's index and a group within it.
type Key = (usize, String);

/// Occurrences counted for one group, in the current window.
#[derive(Debug, Default)]
struct Window {
    /// When, and how many at that time.
    hits: Vec<(Timestamp, u32)>,
}

impl Window {
    fn total(&self) -> u32 {
        self.hits
            .iter()
            .map(|(_, n)| *n)
            .fold(0, u32::saturating_add)
    }
}

/// The state of every rule: feed it events and NotReady nodes, deliver what it returns.
#[derive(Debug)]
pub struct AlertEngine {
    rules: Vec<AlertRule>,
    windows: HashMap<Key, Window>,
    quiet_until: HashMap<Key, Timestamp>,
    /// NotReady episodes already alerted on: the node's NotReady-since time.
    episodes: HashMap<Key, Timestamp>,
}

fn group(rule: &AlertRule, event: &AlertEvent<'_>) -> String {
    match rule.group_by {
        GroupBy::Rule => String::new(),
        GroupBy::Node => event.node.unwrap_or_default().to_owned(),
        GroupBy::Object => object(event).unwrap_or_default(),
    }
}

fn object(event: &AlertEvent<'_>) -> Option<String> {
    let kind = event.object_kind.unwrap_or("?");
    let name = event.object_name?;
    Some(match event.object_namespace {
        Some(ns) if !ns.is_empty() => format!("{kind}/{ns}/{name}"),
        _ => format!("{kind}/{name}"),
    })
}

fn sample(event: &AlertEvent<'_>) -> Sample {
    Sample {
        reason: event.reason.to_owned(),
        event_type: event.event_type.to_owned(),
        message: event.message.to_owned(),
        object: object(event),
        node: event.node.map(str::to_owned),
    }
}

impl AlertEngine {
    /// An engine for `rules` (validated, e.g. by [`super::RawAlerts::resolve`]).
    pub fn new(rules: Vec<AlertRule>) -> Self {
        Self {
            rules,
            windows: HashMap::new(),
            quiet_until: HashMap::new(),
            episodes: HashMap::new(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    fn quiet(&self, key: &Key, now: Timestamp) -> bool {
        self.quiet_until.get(key).is_some_and(|until| now < *until)
    }

    /// Counts `event` against every event rule it matches, at `now`, and returns the rules
    /// that fire. An event last seen before a rule's window (a replay of old history) does
    /// not count; a firing empties its group's window, so the next one needs `count` new
    /// occurrences, and is silenced until the quiet period ends.
    pub fn observe(&mut self, event: &AlertEvent<'_>, now: Timestamp) -> Vec<Firing> {
        let mut firings = Vec::new();
        if event.occurrences == 0 {
            return firings;
        }
        for (index, rule) in self.rules.iter().enumerate() {
            let Trigger::Events {
                matcher,
                count,
                window,
            } = &rule.trigger
            else {
                continue;
            };
            let start = now - *window;
            if event.at < start || !matcher.matches(event) {
                continue;
            }
            let key = (index, group(rule, event));
            let counted = self.windows.entry(key.clone()).or_default();
            counted.hits.retain(|(at, _)| *at >= start);
            counted.hits.push((event.at, event.occurrences));
            let total = counted.total();
            if total < *count || self.quiet_until.get(&key).is_some_and(|u| now < *u) {
                continue;
            }
            let first = counted.hits.iter().map(|(at, _)| *at).min();
            let last = counted.hits.iter().map(|(at, _)| *at).max();
            counted.hits.clear();
            self.quiet_until.insert(key.clone(), now + rule.quiet);
            let group = (rule.group_by != GroupBy::Rule).then_some(key.1);
            let what = group
                .as_deref()
                .map_or(String::new(), |g| format!(" on {g}"));
            firings.push(Firing {
                rule: rule.name.clone(),
                severity: rule.severity,
                group,
                at: now,
                count: total,
                first: first.unwrap_or(event.at),
                last: last.unwrap_or(event.at),
                summary: format!(
                    "{}: {total} × {}{what} within {window:#}",
                    rule.name, event.reason
                ),
                sample: Some(sample(event)),
            });
        }
        firings
    }

    /// Checks the nodes that are NotReady at `now` (each with the time it became NotReady)
    /// against every NotReady rule. Pass the complete list on every pass: a node missing from
    /// it is Ready again, which ends its episode. A rule fires once per episode, and not again
    /// for the same node within its quiet period (a flapping node).
    pub fn not_ready(&mut self, nodes: &[(&str, Timestamp)], now: Timestamp) -> Vec<Firing> {
        let mut firings = Vec::new();
        self.episodes
            .retain(|(_, node), since| nodes.iter().any(|(n, s)| n == node && s == since));
        for (index, rule) in self.rules.iter().enumerate() {
            let Trigger::NodeNotReady { after } = rule.trigger else {
                continue;
            };
            for &(node, since) in nodes {
                let key = (index, node.to_owned());
                if now - after < since || self.episodes.contains_key(&key) || self.quiet(&key, now)
                {
                    continue;
                }
                self.episodes.insert(key.clone(), since);
                self.quiet_until.insert(key, now + rule.quiet);
                let down = SignedDuration::from_secs(now.duration_since(since).as_secs());
                firings.push(Firing {
                    rule: rule.name.clone(),
                    severity: rule.severity,
                    group: Some(node.to_owned()),
                    at: now,
                    count: 1,
                    first: since,
                    last: now,
                    summary: format!(
                        "{}: node {node} has been NotReady for {down:#} (since {since})",
                        rule.name
                    ),
                    sample: None,
                });
            }
        }
        firings
    }

    /// When the next NotReady rule would fire for `nodes` if nothing changes: the controller
    /// wakes up then.
    pub fn next_not_ready_deadline(
        &self,
        nodes: &[(&str, Timestamp)],
        now: Timestamp,
    ) -> Option<Timestamp> {
        let mut next: Option<Timestamp> = None;
        for (index, rule) in self.rules.iter().enumerate() {
            let Trigger::NodeNotReady { after } = rule.trigger else {
                continue;
            };
            for &(node, since) in nodes {
                let key = (index, node.to_owned());
                if self.episodes.contains_key(&key) {
                    continue;
                }
                let due = (since + after).max(self.quiet_until.get(&key).copied().unwrap_or(now));
                if due > now {
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
            }
        }
        next
    }

    /// How many windows, quiet periods and NotReady episodes are held: for a memory metric.
    pub fn tracked_groups(&self) -> usize {
        self.windows.len() + self.quiet_until.len() + self.episodes.len()
    }

    /// Forgets windows with nothing left in them and quiet periods that are over, so memory
    /// stays bounded as nodes and objects come and go. Call it now and then (e.g. each pass).
    pub fn sweep(&mut self, now: Timestamp) {
        let rules = &self.rules;
        self.windows.retain(|(index, _), w| {
            let Some(Trigger::Events { window, .. }) = rules.get(*index).map(|r| &r.trigger) else {
                return false;
            };
            w.hits.retain(|(at, _)| *at >= now - *window);
            !w.hits.is_empty()
        });
        self.quiet_until.retain(|_, until| now < *until);
    }
}
