//! Cluster, topic and producer configuration under Kafka's own config keys,
//! with Kafka's defaults. Where the simulator uses a value Kafka does not have
//! (network latency), the name says so.

use serde::{Deserialize, Serialize};

/// How the cluster keeps its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MetadataMode {
    /// The seed documents' picture: a ZooKeeper ensemble, one broker acts as controller.
    #[default]
    Zookeeper,
    /// Kafka 3.3+ / 4.0: a Raft quorum of controllers, no ZooKeeper.
    Kraft,
}

/// Broker-wide settings (`server.properties`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerConfig {
    #[serde(rename = "replica.lag.time.max.ms")]
    pub replica_lag_time_max_ms: u64,
    #[serde(rename = "replica.fetch.wait.max.ms")]
    pub replica_fetch_wait_max_ms: u64,
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: u32,
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election_enable: bool,
    #[serde(rename = "auto.leader.rebalance.enable")]
    pub auto_leader_rebalance_enable: bool,
    #[serde(rename = "leader.imbalance.check.interval.seconds")]
    pub leader_imbalance_check_interval_seconds: u64,
    #[serde(rename = "leader.imbalance.per.broker.percentage")]
    pub leader_imbalance_per_broker_percentage: u32,
    #[serde(rename = "zookeeper.session.timeout.ms")]
    pub zookeeper_session_timeout_ms: u64,
    #[serde(rename = "broker.heartbeat.interval.ms")]
    pub broker_heartbeat_interval_ms: u64,
    #[serde(rename = "broker.session.timeout.ms")]
    pub broker_session_timeout_ms: u64,
    #[serde(rename = "controller.quorum.fetch.timeout.ms")]
    pub controller_quorum_fetch_timeout_ms: u64,
    #[serde(rename = "controller.quorum.election.timeout.ms")]
    pub controller_quorum_election_timeout_ms: u64,
    #[serde(rename = "controller.quorum.election.backoff.max.ms")]
    pub controller_quorum_election_backoff_max_ms: u64,
    #[serde(rename = "num.partitions")]
    pub num_partitions: u32,
    #[serde(rename = "default.replication.factor")]
    pub default_replication_factor: u32,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            min_insync_replicas: 1,
            unclean_leader_election_enable: false,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval_seconds: 300,
            leader_imbalance_per_broker_percentage: 10,
            zookeeper_session_timeout_ms: 18_000,
            broker_heartbeat_interval_ms: 2_000,
            broker_session_timeout_ms: 9_000,
            controller_quorum_fetch_timeout_ms: 2_000,
            controller_quorum_election_timeout_ms: 1_000,
            controller_quorum_election_backoff_max_ms: 1_000,
            num_partitions: 1,
            default_replication_factor: 1,
        }
    }
}

/// Per-topic overrides; `None` falls back to the broker setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicConfig {
    #[serde(
        rename = "min.insync.replicas",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_insync_replicas: Option<u32>,
    #[serde(
        rename = "unclean.leader.election.enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub unclean_leader_election_enable: Option<bool>,
    /// `retention.ms`; -1 keeps records forever. Kept as configuration and
    /// shown; the simulator does not delete segments yet.
    #[serde(rename = "retention.ms", skip_serializing_if = "Option::is_none")]
    pub retention_ms: Option<i64>,
}

/// Producer `acks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Acks {
    #[serde(rename = "0")]
    None,
    #[serde(rename = "1")]
    Leader,
    #[default]
    #[serde(rename = "all")]
    All,
}

impl Acks {
    pub fn label(self) -> &'static str {
        match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }
}

/// Producer settings (`producer.properties`), Kafka 3.x defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProducerConfig {
    pub acks: Acks,
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: bool,
    pub retries: u32,
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    #[serde(rename = "delivery.timeout.ms")]
    pub delivery_timeout_ms: u64,
    #[serde(rename = "linger.ms")]
    pub linger_ms: u64,
    #[serde(rename = "batch.size")]
    pub batch_size: u32,
    pub partitioner: crate::partitioner::PartitionerKind,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            enable_idempotence: true,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            request_timeout_ms: 30_000,
            delivery_timeout_ms: 120_000,
            linger_ms: 0,
            batch_size: 16_384,
            partitioner: Default::default(),
        }
    }
}

/// Simulated network: one-way latency plus seeded jitter, in virtual ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkConfig {
    pub latency_ms: u64,
    pub jitter_ms: u64,
    /// Slower (or faster) links between particular nodes, both directions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkLatency>,
}

/// One link's latency, e.g. a follower on a slow network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLatency {
    pub a: crate::ids::NodeId,
    pub b: crate::ids::NodeId,
    pub latency_ms: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency_ms: 5,
            jitter_ms: 2,
            links: Vec::new(),
        }
    }
}

/// Everything needed to build a cluster at time zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterConfig {
    pub seed: u64,
    /// Broker ids to start with (Kafka's `broker.id`).
    pub brokers: Vec<u32>,
    pub metadata_mode: MetadataMode,
    /// ZooKeeper ensemble size (ZooKeeper mode) or controller quorum size (KRaft).
    pub quorum_size: u32,
    pub broker: BrokerConfig,
    pub network: NetworkConfig,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            seed: 1,
            brokers: vec![1, 2, 3],
            metadata_mode: MetadataMode::Zookeeper,
            quorum_size: 3,
            broker: BrokerConfig::default(),
            network: NetworkConfig::default(),
        }
    }
}
