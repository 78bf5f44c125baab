//! What a lesson's highlight names on the diagram: a broker, a partition, a
//! consumer, a queue…, parsed from and printed as the diagram names it.

use crate::view::ClusterView;
use std::fmt;

/// Something a step can point at on the diagram, parsed from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Broker(u32),
    Producer(u32),
    Consumer(u32),
    Group(String),
    ZooKeeper(u32),
    Controller(u32),
    Partition(String, u32),
    Replica(String, u32, u32),
}

impl Target {
    pub fn parse(s: &str) -> std::result::Result<Target, String> {
        let bad = || {
            format!(
                "cannot highlight '{s}': name a node as the diagram does ('Broker 1', 'Producer 1', 'Consumer 1', 'Group G1', 'ZooKeeper 1', 'Controller 1') or a partition ('MyTopic-0', 'MyTopic-0 on broker 2')."
            )
        };
        let number = |t: &str| t.trim().parse::<u32>().map_err(|_| bad());
        if let Some((tp, broker)) = s.split_once(" on broker ") {
            let (topic, p) = split_partition(tp).ok_or_else(bad)?;
            return Ok(Target::Replica(topic, p, number(broker)?));
        }
        for (prefix, make) in [
            ("Broker ", Target::Broker as fn(u32) -> Target),
            ("Producer ", Target::Producer),
            ("Consumer ", Target::Consumer),
            ("ZooKeeper ", Target::ZooKeeper),
            ("Controller ", Target::Controller),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                return number(rest).map(make);
            }
        }
        if let Some(g) = s.strip_prefix("Group ") {
            return Ok(Target::Group(g.to_string()));
        }
        split_partition(s)
            .map(|(t, p)| Target::Partition(t, p))
            .ok_or_else(bad)
    }

    /// Whether the node or partition is on the diagram of `view`.
    pub fn exists(&self, view: &ClusterView) -> bool {
        use crate::ids::NodeId;
        let partition = |t: &str, p: u32| {
            view.topics
                .iter()
                .find(|x| x.name == t)
                .and_then(|x| x.partitions.iter().find(|x| x.partition == p))
        };
        match self {
            Target::Broker(b) => view.brokers.iter().any(|x| x.id.0 == *b),
            Target::Producer(p) => view.producers.iter().any(|x| x.id.0 == *p),
            Target::Consumer(c) => view.consumers.iter().any(|x| x.id.0 == *c),
            Target::Group(g) => view.groups.iter().any(|x| &x.group == g),
            Target::ZooKeeper(z) => view
                .quorum
                .iter()
                .any(|q| matches!(q.node, NodeId::ZooKeeper(n) if n.0 == *z)),
            Target::Controller(c) => view
                .quorum
                .iter()
                .any(|q| matches!(q.node, NodeId::Controller(n) if n.0 == *c)),
            Target::Partition(t, p) => partition(t, *p).is_some(),
            Target::Replica(t, p, b) => {
                partition(t, *p).is_some_and(|x| x.replicas.iter().any(|r| r.0 == *b))
            }
        }
    }
}

impl fmt::Display for Target {
    /// The node's accessible name on the diagram (a prefix of it for
    /// partitions and replicas, whose names go on with their role).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Broker(n) => write!(f, "Broker {n}"),
            Target::Producer(n) => write!(f, "Producer {n}"),
            Target::Consumer(n) => write!(f, "Consumer {n}"),
            Target::Group(g) => write!(f, "Group {g}"),
            Target::ZooKeeper(n) => write!(f, "ZooKeeper {n}"),
            Target::Controller(n) => write!(f, "Controller {n}"),
            Target::Partition(t, p) => write!(f, "{t}-{p}"),
            Target::Replica(t, p, b) => write!(f, "{t}-{p} on broker {b}"),
        }
    }
}

/// `Ok` when `n` lies within the bounds given; otherwise what was expected.
pub(super) fn bounds(
    what: String,
    n: u64,
    min: Option<u64>,
    max: Option<u64>,
) -> std::result::Result<(), String> {
    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
        let range = match (min, max) {
            (Some(a), Some(b)) if a == b => format!("{a}"),
            (Some(a), Some(b)) => format!("{a} to {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => unreachable!("a bound was broken"),
        };
        Err(format!("expected {range} {what}, found {n}."))
    } else {
        Ok(())
    }
}

/// `MyTopic-0` → (`MyTopic`, 0). Topic names may themselves contain dashes.
pub(super) fn split_partition(s: &str) -> Option<(String, u32)> {
    let (topic, p) = s.rsplit_once('-')?;
    let p = p.parse().ok()?;
    (!topic.is_empty()).then(|| (topic.to_string(), p))
}
