//! What a user, a lesson or a fault generator asks the cluster to do. Faults
//! are ordinary commands. Commands are imperative; events are past tense.

use crate::config::{ConsumerConfig, ProducerConfig, TopicConfig};
use crate::ids::NodeId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    CreateTopic {
        name: String,
        #[serde(default)]
        partitions: Option<u32>,
        #[serde(default)]
        replication_factor: Option<u32>,
        /// Explicit replica assignment, one list of broker ids per partition in
        /// partition order; the first broker of each is its preferred leader.
        #[serde(default)]
        assignment: Option<Vec<Vec<u32>>>,
        #[serde(default)]
        config: TopicConfig,
    },
    AddPartitions {
        topic: String,
        /// New total partition count (Kafka's `--partitions` for `--alter`).
        total: u32,
    },
    /// Move a partition's replicas (Kafka's `kafka-reassign-partitions`).
    ReassignPartition {
        topic: String,
        partition: u32,
        replicas: Vec<u32>,
    },
    ElectPreferredLeaders {
        #[serde(default)]
        topic: Option<String>,
    },
    AddBroker {
        #[serde(default)]
        id: Option<u32>,
    },
    CrashBroker {
        broker: u32,
    },
    RestartBroker {
        broker: u32,
    },
    ShutdownBroker {
        broker: u32,
    },
    CrashZooKeeper {
        node: u32,
    },
    RestartZooKeeper {
        node: u32,
    },
    CrashController {
        node: u32,
    },
    RestartController {
        node: u32,
    },
    CreateProducer {
        #[serde(default)]
        id: Option<u32>,
        #[serde(default)]
        config: ProducerConfig,
    },
    ConfigureProducer {
        producer: u32,
        config: ProducerConfig,
    },
    Produce {
        producer: u32,
        /// Shared text (`Arc<str>`): a record's key and value are copied
        /// into every replica, message and event without reallocating.
        topic: crate::broker::log::Text,
        #[serde(default)]
        key: Option<crate::broker::log::Text>,
        #[serde(default)]
        value: crate::broker::log::Text,
        #[serde(default)]
        partition: Option<u32>,
    },
    /// A consumer that either subscribes to `topics` (group-managed) or is
    /// assigned `partitions` (no group membership); exactly one of the two.
    CreateConsumer {
        #[serde(default)]
        id: Option<u32>,
        #[serde(default)]
        config: ConsumerConfig,
        #[serde(default)]
        topics: Option<Vec<String>>,
        #[serde(default)]
        partitions: Option<Vec<crate::ids::TopicPartition>>,
    },
    CrashConsumer {
        consumer: u32,
    },
    RestartConsumer {
        consumer: u32,
    },
    /// `consumer.commitAsync()`: commit the positions of everything it owns
    /// now, whatever its commit settings.
    CommitConsumer {
        consumer: u32,
    },
    /// `pause()` (or, with `pause: false`, `resume()`) every partition the
    /// consumer owns.
    PauseConsumer {
        consumer: u32,
        pause: bool,
    },
    /// The simulated application's time per record (`processing.ms`).
    SetConsumerProcessing {
        consumer: u32,
        processing_ms: u64,
    },
    /// `consumer.close()`: commit (with auto-commit) and leave the group.
    CloseConsumer {
        consumer: u32,
    },
    /// `seek` / `seekToBeginning` / `seekToEnd`: replay or skip.
    SeekConsumer {
        consumer: u32,
        topic: String,
        partition: u32,
        to: crate::clients::consumer::SeekTo,
    },
    PartitionNetwork {
        a: NodeId,
        b: NodeId,
    },
    /// Make one link slower or faster (both directions).
    SetLinkLatency {
        a: NodeId,
        b: NodeId,
        latency_ms: u64,
    },
    HealNetwork {
        #[serde(default)]
        a: Option<NodeId>,
        #[serde(default)]
        b: Option<NodeId>,
    },
}
