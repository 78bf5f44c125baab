//! What a user, a lesson or a fault generator asks the cluster to do. Faults
//! are ordinary commands. Commands are imperative; events are past tense.

use crate::config::{ConsumerConfig, ProducerConfig, TopicConfig};
use crate::ids::{BrokerId, ConsumerId, ControllerId, NodeId, ProducerId, ZkNodeId};
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
        id: Option<BrokerId>,
    },
    CrashBroker {
        broker: BrokerId,
    },
    RestartBroker {
        broker: BrokerId,
    },
    ShutdownBroker {
        broker: BrokerId,
    },
    CrashZooKeeper {
        node: ZkNodeId,
    },
    RestartZooKeeper {
        node: ZkNodeId,
    },
    CrashController {
        node: ControllerId,
    },
    RestartController {
        node: ControllerId,
    },
    CreateProducer {
        #[serde(default)]
        id: Option<ProducerId>,
        #[serde(default)]
        config: ProducerConfig,
    },
    ConfigureProducer {
        producer: ProducerId,
        config: ProducerConfig,
    },
    Produce {
        producer: ProducerId,
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
        id: Option<ConsumerId>,
        #[serde(default)]
        config: ConsumerConfig,
        #[serde(default)]
        topics: Option<Vec<String>>,
        #[serde(default)]
        partitions: Option<Vec<crate::ids::TopicPartition>>,
    },
    CrashConsumer {
        consumer: ConsumerId,
    },
    RestartConsumer {
        consumer: ConsumerId,
    },
    /// `consumer.commitAsync()`: commit the positions of everything it owns
    /// now, whatever its commit settings.
    CommitConsumer {
        consumer: ConsumerId,
    },
    /// `pause()` (or, with `pause: false`, `resume()`) every partition the
    /// consumer owns.
    PauseConsumer {
        consumer: ConsumerId,
        pause: bool,
    },
    /// The simulated application's time per record (`processing.ms`).
    SetConsumerProcessing {
        consumer: ConsumerId,
        processing_ms: u64,
    },
    /// `consumer.close()`: commit (with auto-commit) and leave the group.
    CloseConsumer {
        consumer: ConsumerId,
    },
    /// `seek` / `seekToBeginning` / `seekToEnd`: replay or skip.
    SeekConsumer {
        consumer: ConsumerId,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are newtypes in Rust and plain numbers in JSON: scenario and
    /// session files written before the newtypes still open.
    #[test]
    fn ids_read_and_write_as_plain_numbers() {
        for (json, command) in [
            (
                r#"{"command":"crash_broker","broker":2}"#,
                Command::CrashBroker {
                    broker: BrokerId(2),
                },
            ),
            (
                r#"{"command":"restart_consumer","consumer":7}"#,
                Command::RestartConsumer {
                    consumer: ConsumerId(7),
                },
            ),
            (
                r#"{"command":"crash_zoo_keeper","node":1}"#,
                Command::CrashZooKeeper { node: ZkNodeId(1) },
            ),
        ] {
            assert_eq!(serde_json::from_str::<Command>(json).unwrap(), command);
            assert_eq!(serde_json::to_string(&command).unwrap(), json);
        }
        let produce: Command =
            serde_json::from_str(r#"{"command":"produce","producer":1,"topic":"t","value":"v"}"#)
                .unwrap();
        assert!(matches!(
            produce,
            Command::Produce {
                producer: ProducerId(1),
                ..
            }
        ));
    }
}
