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
    /// Partitions of `__consumer_offsets`; the group coordinator of a group
    /// is the leader of partition `abs(hashCode(group.id)) % this`.
    #[serde(rename = "offsets.topic.num.partitions")]
    pub offsets_topic_num_partitions: u32,
    #[serde(rename = "offsets.topic.replication.factor")]
    pub offsets_topic_replication_factor: u32,
    /// How long a new (empty) group waits for more members before its first rebalance.
    #[serde(rename = "group.initial.rebalance.delay.ms")]
    pub group_initial_rebalance_delay_ms: u64,
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
            offsets_topic_num_partitions: 50,
            offsets_topic_replication_factor: 3,
            group_initial_rebalance_delay_ms: 3_000,
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

/// Kafka's `MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE`: the
/// broker remembers a producer's last 5 batches, so no more may be in flight.
pub const MAX_IN_FLIGHT_FOR_IDEMPOTENCE: u32 = 5;

/// Producer settings (`producer.properties`), Kafka 3.x defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProducerConfig {
    pub acks: Acks,
    /// `enable.idempotence` as the user set it; `None` when left unset, and
    /// then [`ProducerConfig::idempotent`] resolves it as Kafka does.
    #[serde(rename = "enable.idempotence", skip_serializing_if = "Option::is_none")]
    pub enable_idempotence: Option<bool>,
    pub retries: u32,
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    /// Retries back off exponentially from `retry.backoff.ms` up to this
    /// (KIP-580, Kafka 3.7+).
    #[serde(rename = "retry.backoff.max.ms")]
    pub retry_backoff_max_ms: u64,
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    #[serde(rename = "delivery.timeout.ms")]
    pub delivery_timeout_ms: u64,
    #[serde(rename = "linger.ms")]
    pub linger_ms: u64,
    #[serde(rename = "batch.size")]
    pub batch_size: u32,
    /// Requests a producer may have unanswered on one broker connection
    /// (5; at most 5 with idempotence). Each simulated request carries one
    /// partition's batch, where Kafka's carries every partition's for that
    /// broker.
    #[serde(rename = "max.in.flight.requests.per.connection")]
    pub max_in_flight_requests_per_connection: u32,
    pub partitioner: crate::clients::producer::partitioner::PartitionerKind,
}

impl ProducerConfig {
    /// Whether the producer is idempotent. Set explicitly, as set (a conflict
    /// with `acks` or `retries` is refused when the producer is configured).
    /// Left unset (Kafka 3.2+), on unless `acks` is not `all` or `retries` is
    /// 0: Kafka then turns it off quietly rather than failing.
    pub fn idempotent(&self) -> bool {
        self.enable_idempotence.unwrap_or(
            self.acks == Acks::All
                && self.retries > 0
                && self.max_in_flight_requests_per_connection <= MAX_IN_FLIGHT_FOR_IDEMPOTENCE,
        )
    }

    /// The wait before retry number `attempt` (1 for the first): Kafka's
    /// `ExponentialBackoff`, `retry.backoff.ms` doubling per attempt up to
    /// `retry.backoff.max.ms`. Kafka adds ±20 % jitter; the simulator does
    /// not, so replays stay easy to follow.
    pub fn retry_backoff(&self, attempt: u32) -> u64 {
        let doubled = self
            .retry_backoff_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        doubled.min(self.retry_backoff_max_ms.max(self.retry_backoff_ms))
    }
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            enable_idempotence: None,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1_000,
            request_timeout_ms: 30_000,
            delivery_timeout_ms: 120_000,
            linger_ms: 0,
            batch_size: 16_384,
            max_in_flight_requests_per_connection: 5,
            partitioner: Default::default(),
        }
    }
}

/// `auto.offset.reset`: where a consumer starts when its group has no
/// committed offset for a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AutoOffsetReset {
    Earliest,
    #[default]
    Latest,
    /// Kafka throws `NoOffsetForPartitionException` to the application.
    None,
}

/// When the application commits, if `enable.auto.commit=false`. Not a Kafka
/// setting: it stands for where the application code calls `commitSync()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ManualCommit {
    /// Process the polled records, then commit: at-least-once.
    #[default]
    AfterProcessing,
    /// Commit right after `poll()`, then process: at-most-once.
    BeforeProcessing,
}

/// Consumer settings (`consumer.properties`), Kafka 3.x defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumerConfig {
    #[serde(rename = "group.id", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Static membership: a restart within the session timeout keeps the assignment.
    #[serde(rename = "group.instance.id", skip_serializing_if = "Option::is_none")]
    pub group_instance_id: Option<String>,
    /// The assignors this consumer supports, most preferred first
    /// (Kafka's default: `[range, cooperative-sticky]`).
    #[serde(rename = "partition.assignment.strategy")]
    pub partition_assignment_strategy: crate::clients::assignor::AssignorList,
    #[serde(rename = "enable.auto.commit")]
    pub enable_auto_commit: bool,
    #[serde(rename = "auto.commit.interval.ms")]
    pub auto_commit_interval_ms: u64,
    #[serde(rename = "auto.offset.reset")]
    pub auto_offset_reset: AutoOffsetReset,
    #[serde(rename = "max.poll.records")]
    pub max_poll_records: u32,
    #[serde(rename = "session.timeout.ms")]
    pub session_timeout_ms: u64,
    #[serde(rename = "heartbeat.interval.ms")]
    pub heartbeat_interval_ms: u64,
    #[serde(rename = "max.poll.interval.ms")]
    pub max_poll_interval_ms: u64,
    #[serde(rename = "fetch.max.wait.ms")]
    pub fetch_max_wait_ms: u64,
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    /// Simulator: how long the application takes to process one record.
    #[serde(rename = "processing.ms")]
    pub processing_ms: u64,
    /// Simulator: where the application commits when auto-commit is off.
    #[serde(rename = "manual.commit")]
    pub manual_commit: ManualCommit,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            group_id: None,
            group_instance_id: None,
            partition_assignment_strategy: Default::default(),
            enable_auto_commit: true,
            auto_commit_interval_ms: 5_000,
            auto_offset_reset: AutoOffsetReset::Latest,
            max_poll_records: 500,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 3_000,
            max_poll_interval_ms: 300_000,
            fetch_max_wait_ms: 500,
            retry_backoff_ms: 100,
            request_timeout_ms: 30_000,
            processing_ms: 0,
            manual_commit: ManualCommit::AfterProcessing,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_retries_back_off_exponentially_to_the_cap() {
        let c = ProducerConfig::default();
        let waits: Vec<u64> = (1..=6).map(|a| c.retry_backoff(a)).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(c.retry_backoff(u32::MAX), 1000);
        let flat = ProducerConfig {
            retry_backoff_max_ms: 0,
            ..c
        };
        assert_eq!(
            flat.retry_backoff(5),
            100,
            "a cap below the base means no growth"
        );
    }
}
