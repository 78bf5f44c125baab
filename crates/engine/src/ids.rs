//! Identifiers and virtual time. Newtypes keep a broker id from being passed
//! where a partition number is expected, and give every id Kafka's display.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Virtual time in milliseconds. Only the scheduler advances it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    pub fn plus(self, ms: u64) -> SimTime {
        SimTime(self.0.saturating_add(ms))
    }
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

macro_rules! id_type {
    ($name:ident, $label:expr) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", $label, self.0)
            }
        }
    };
}

id_type!(BrokerId, "Broker");
id_type!(ProducerId, "Producer");
id_type!(ZkNodeId, "ZooKeeper");
id_type!(ControllerId, "Controller");
id_type!(ConsumerId, "Consumer");

/// Every record the simulation creates gets a unique id, so the loss ledger
/// can tell "the same record, copied" from "an equal-looking duplicate".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub u64);

/// A topic partition, printed as Kafka prints it: `MyTopic-0`.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct TopicPartition {
    /// Shared: a partition's name is copied into every message about it.
    pub topic: std::sync::Arc<str>,
    pub partition: u32,
}

impl TopicPartition {
    pub fn new(topic: impl AsRef<str>, partition: u32) -> Self {
        TopicPartition {
            topic: topic_name(topic.as_ref()),
            partition,
        }
    }
}

thread_local! {
    static TOPIC_NAMES: std::cell::RefCell<std::collections::BTreeSet<std::sync::Arc<str>>> =
        const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

/// The one shared copy of a topic's name (per thread), so that partitions
/// made in different places compare by pointer instead of by bytes. Only
/// speed depends on it: names from elsewhere still compare correctly.
pub fn topic_name(name: &str) -> std::sync::Arc<str> {
    TOPIC_NAMES.with_borrow_mut(|names| match names.get(name) {
        Some(shared) => shared.clone(),
        None => {
            let shared: std::sync::Arc<str> = name.into();
            names.insert(shared.clone());
            shared
        }
    })
}

// Ordered by topic name, then partition. Most comparisons are between copies
// of one shared name, so the pointer is checked before the bytes, and names
// that differ mostly differ in their first byte.
impl PartialEq for TopicPartition {
    fn eq(&self, other: &Self) -> bool {
        self.partition == other.partition
            && (std::sync::Arc::ptr_eq(&self.topic, &other.topic) || self.topic == other.topic)
    }
}

impl Ord for TopicPartition {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.topic.as_bytes(), other.topic.as_bytes());
        let topic = if std::sync::Arc::ptr_eq(&self.topic, &other.topic) {
            std::cmp::Ordering::Equal
        } else {
            a.first().cmp(&b.first()).then_with(|| a.cmp(b))
        };
        topic.then(self.partition.cmp(&other.partition))
    }
}

// Hashes what equality compares: the name's bytes and the partition.
impl std::hash::Hash for TopicPartition {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.topic.hash(state);
        self.partition.hash(state);
    }
}

impl PartialOrd for TopicPartition {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Anything that sends or receives a network message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum NodeId {
    Broker(BrokerId),
    Producer(ProducerId),
    ZooKeeper(ZkNodeId),
    Controller(ControllerId),
    Consumer(ConsumerId),
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Broker(b) => b.fmt(f),
            NodeId::Producer(p) => p.fmt(f),
            NodeId::ZooKeeper(z) => z.fmt(f),
            NodeId::Controller(c) => c.fmt(f),
            NodeId::Consumer(c) => c.fmt(f),
        }
    }
}
