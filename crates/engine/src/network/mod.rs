//! The simulated network: every request and response between nodes is a
//! message with a send time and a delivery time. A crashed node's messages are
//! dropped; a cut link drops traffic both ways until healed.

use crate::broker::partition::PartitionState;
use crate::config::NetworkConfig;
use crate::error::ErrorCode;
use crate::ids::{BrokerId, NodeId, SimTime, TopicPartition};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub u64);

/// Records carried by a message, shared between the message and its events.
pub use crate::broker::log::{Batches, Records};

/// One partition's part of a follower fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchPartition {
    pub tp: TopicPartition,
    pub fetch_offset: u64,
    pub last_fetched_epoch: Option<u32>,
    pub current_leader_epoch: u32,
}

/// One partition's part of a fetch response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedData {
    pub tp: TopicPartition,
    pub error: Option<ErrorCode>,
    pub high_watermark: u64,
    /// The leader's batches, shared: replicating them copies no record.
    pub records: Batches,
    /// Set when the follower's log diverged: truncate to this offset first.
    pub diverging_end_offset: Option<u64>,
}

/// One partition's part of a consumer fetch (Kafka's Fetch with replica id -1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerFetchPartition {
    pub tp: TopicPartition,
    pub fetch_offset: u64,
    pub current_leader_epoch: u32,
}

/// `ListOffsets` timestamps: the earliest or the latest offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetSpec {
    Earliest,
    Latest,
}

impl FetchedData {
    /// A partition's part of a response with nothing in it yet.
    pub fn empty(tp: &TopicPartition) -> FetchedData {
        FetchedData {
            tp: tp.clone(),
            error: None,
            high_watermark: 0,
            records: Batches::default(),
            diverging_end_offset: None,
        }
    }
}

/// Kafka's `ProduceRequest` for one partition's batch: everything the broker
/// needs travels in it, as on the wire; the broker knows nothing else of the
/// producer that sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceRequest {
    pub tp: TopicPartition,
    pub batch: u64,
    pub records: Records,
    pub acks: crate::config::Acks,
    /// The request's `timeout_ms`: how long the leader waits for the ISR
    /// before answering `REQUEST_TIMED_OUT` (the producer's
    /// `request.timeout.ms`). Not in the event JSON, which predates it.
    #[serde(skip_serializing, default = "default_produce_timeout_ms")]
    pub timeout_ms: u64,
}

/// Kafka's default `request.timeout.ms`.
fn default_produce_timeout_ms() -> u64 {
    30_000
}

/// Kafka's `JoinGroupRequest`, with the member's subscription (topics, the
/// partitions it owns and their generation) as the assignor's protocol
/// metadata carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupRequest {
    pub group: String,
    pub member_id: Option<String>,
    pub instance_id: Option<String>,
    /// The member's `partition.assignment.strategy`, most preferred first
    /// (the protocols of Kafka's request).
    pub protocols: crate::clients::assignor::AssignorList,
    pub topics: Vec<String>,
    pub owned: Vec<TopicPartition>,
    /// The generation `owned` is from (-1 after a reset), as the
    /// cooperative-sticky subscription carries it.
    pub generation: i32,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
}

/// Kafka's `OffsetCommitRequest`: a member's positions, fenced by its
/// generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetCommitRequest {
    pub group: String,
    pub generation: i32,
    pub member_id: String,
    pub offsets: Vec<(TopicPartition, u64)>,
    /// The client's id for this commit, echoed in the response.
    pub commit: u64,
}

/// Kafka's `JoinGroupResponse`: the member's id and generation, and for the
/// group's leader the members' subscriptions to assign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupResponse {
    pub error: Option<ErrorCode>,
    pub generation: i32,
    pub member_id: String,
    pub leader: String,
    pub protocol: crate::clients::assignor::AssignorKind,
    /// Filled for the leader only: what it needs to compute the assignment.
    pub members: Vec<crate::clients::assignor::MemberSubscription>,
}

/// A producer's outcome for one partition's batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceResult {
    pub tp: TopicPartition,
    pub batch: u64,
    pub error: Option<ErrorCode>,
    pub base_offset: Option<u64>,
}

/// Leader and replicas of one partition, as a client's metadata sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMetadata {
    pub tp: TopicPartition,
    pub leader: Option<BrokerId>,
    pub leader_epoch: u32,
}

/// What a message carries. Names follow Kafka's request types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Body {
    Produce(ProduceRequest),
    ProduceResponse(ProduceResult),
    Fetch {
        replica: BrokerId,
        partitions: Vec<FetchPartition>,
    },
    FetchResponse {
        partitions: Vec<FetchedData>,
    },
    Metadata {
        topics: Vec<String>,
    },
    MetadataResponse {
        brokers: Vec<BrokerId>,
        partitions: Vec<PartitionMetadata>,
    },
    /// Controller → broker: the partition states it must act on (ZooKeeper
    /// mode's LeaderAndIsr; in KRaft mode, the metadata log records the broker
    /// replays, shown as one message).
    LeaderAndIsr {
        controller_epoch: u32,
        partitions: Vec<PartitionState>,
    },
    /// Leader → controller: shrink or expand the ISR (Kafka's AlterPartition).
    AlterPartition {
        tp: TopicPartition,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: Vec<BrokerId>,
    },
    /// Broker → controller (graceful shutdown).
    ControlledShutdown {
        broker: BrokerId,
    },
    /// Broker → ZooKeeper: register `/brokers/ids/N` (ephemeral).
    RegisterBroker {
        broker: BrokerId,
    },
    /// Broker → ZooKeeper: try to create `/controller` (ephemeral).
    CreateControllerNode {
        broker: BrokerId,
    },
    /// Broker → KRaft active controller, every `broker.heartbeat.interval.ms`.
    BrokerHeartbeat {
        broker: BrokerId,
    },
    /// KRaft candidate → voter.
    Vote {
        epoch: u32,
    },
    VoteResponse {
        epoch: u32,
        granted: bool,
    },
    /// KRaft leader → voters: "I am the active controller" (BeginQuorumEpoch,
    /// then its fetch responses keep followers from timing out).
    BeginQuorumEpoch {
        epoch: u32,
    },
    QuorumHeartbeat {
        epoch: u32,
    },
    /// Consumer → leader: records from these offsets, up to the high watermark.
    ConsumerFetch {
        partitions: Vec<ConsumerFetchPartition>,
        max_wait_ms: u64,
    },
    ListOffsets {
        tp: TopicPartition,
        spec: OffsetSpec,
    },
    ListOffsetsResponse {
        tp: TopicPartition,
        error: Option<ErrorCode>,
        offset: u64,
    },
    /// Consumer → any broker: who coordinates this group?
    FindCoordinator {
        group: String,
    },
    FindCoordinatorResponse {
        group: String,
        error: Option<ErrorCode>,
        coordinator: Option<BrokerId>,
    },
    JoinGroup(JoinGroupRequest),
    JoinGroupResponse(JoinGroupResponse),
    SyncGroup {
        group: String,
        generation: i32,
        member_id: String,
        /// The leader's computed assignment; empty from the other members.
        assignments: BTreeMap<String, Vec<TopicPartition>>,
    },
    SyncGroupResponse {
        error: Option<ErrorCode>,
        generation: i32,
        assignment: Vec<TopicPartition>,
    },
    Heartbeat {
        group: String,
        generation: i32,
        member_id: String,
    },
    HeartbeatResponse {
        error: Option<ErrorCode>,
    },
    LeaveGroup {
        group: String,
        member_id: String,
    },
    OffsetCommit(OffsetCommitRequest),
    OffsetCommitResponse {
        commit: u64,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, u64)>,
    },
    OffsetFetch {
        group: String,
        partitions: Vec<TopicPartition>,
    },
    OffsetFetchResponse {
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, Option<u64>)>,
    },
    /// A producer's connection to a broker failed (the broker process is gone).
    Disconnected,
}

impl Body {
    /// The short request name the UI labels chips with.
    pub fn name(&self) -> &'static str {
        match self {
            Body::Produce(_) => "Produce",
            Body::ProduceResponse(_) => "ProduceResponse",
            Body::Fetch { .. } => "Fetch",
            Body::FetchResponse { .. } => "FetchResponse",
            Body::Metadata { .. } => "Metadata",
            Body::MetadataResponse { .. } => "MetadataResponse",
            Body::LeaderAndIsr { .. } => "LeaderAndIsr",
            Body::AlterPartition { .. } => "AlterPartition",
            Body::ControlledShutdown { .. } => "ControlledShutdown",
            Body::RegisterBroker { .. } => "RegisterBroker",
            Body::CreateControllerNode { .. } => "CreateControllerNode",
            Body::BrokerHeartbeat { .. } => "BrokerHeartbeat",
            Body::Vote { .. } => "Vote",
            Body::VoteResponse { .. } => "VoteResponse",
            Body::BeginQuorumEpoch { .. } => "BeginQuorumEpoch",
            Body::QuorumHeartbeat { .. } => "QuorumHeartbeat",
            Body::ConsumerFetch { .. } => "Fetch",
            Body::ListOffsets { .. } => "ListOffsets",
            Body::ListOffsetsResponse { .. } => "ListOffsetsResponse",
            Body::FindCoordinator { .. } => "FindCoordinator",
            Body::FindCoordinatorResponse { .. } => "FindCoordinatorResponse",
            Body::JoinGroup(_) => "JoinGroup",
            Body::JoinGroupResponse(_) => "JoinGroupResponse",
            Body::SyncGroup { .. } => "SyncGroup",
            Body::SyncGroupResponse { .. } => "SyncGroupResponse",
            Body::Heartbeat { .. } => "Heartbeat",
            Body::HeartbeatResponse { .. } => "HeartbeatResponse",
            Body::LeaveGroup { .. } => "LeaveGroup",
            Body::OffsetCommit(_) => "OffsetCommit",
            Body::OffsetCommitResponse { .. } => "OffsetCommitResponse",
            Body::OffsetFetch { .. } => "OffsetFetch",
            Body::OffsetFetchResponse { .. } => "OffsetFetchResponse",
            Body::Disconnected => "Disconnected",
        }
    }
}

/// A message in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub from: NodeId,
    pub to: NodeId,
    pub sent_at: SimTime,
    pub arrives_at: SimTime,
    pub body: Body,
}

impl Message {
    /// Chatter that keeps a cluster alive but changes nothing a class
    /// watches: heartbeats, fetches that bring nothing, metadata and
    /// coordinator look-ups. The diagram draws it faintly, and the time
    /// controls pass over it.
    pub fn is_background(&self) -> bool {
        use Body::*;
        match &self.body {
            FetchResponse { partitions } => partitions.iter().all(|p| p.records.is_empty()),
            Fetch { .. }
            | ConsumerFetch { .. }
            | Heartbeat { .. }
            | HeartbeatResponse { error: None }
            | BrokerHeartbeat { .. }
            | QuorumHeartbeat { .. }
            | Metadata { .. }
            | MetadataResponse { .. }
            | FindCoordinator { .. }
            | FindCoordinatorResponse { .. }
            | OffsetFetch { .. }
            | OffsetFetchResponse { .. }
            | ListOffsets { .. }
            | ListOffsetsResponse { .. } => true,
            _ => false,
        }
    }
}

/// Latency model and the set of cut links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub config: NetworkConfig,
    next_id: u64,
    /// Unordered pairs (smaller first) that cannot talk.
    cuts: BTreeSet<(NodeId, NodeId)>,
    /// Latest delivery time per directed link: connections are TCP, so
    /// messages between two nodes arrive in the order they were sent.
    #[serde(skip)]
    last_arrival: BTreeMap<(NodeId, NodeId), SimTime>,
}

impl Network {
    pub fn new(config: NetworkConfig) -> Self {
        Network {
            config,
            next_id: 0,
            cuts: BTreeSet::new(),
            last_arrival: BTreeMap::new(),
        }
    }

    fn pair(a: NodeId, b: NodeId) -> (NodeId, NodeId) {
        if a <= b {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// One-way latency between two nodes (at least 1 ms).
    pub fn latency(&self, from: NodeId, to: NodeId) -> u64 {
        self.config
            .links
            .iter()
            .rev()
            .find(|l| (l.a == from && l.b == to) || (l.a == to && l.b == from))
            .map_or(self.config.latency_ms, |l| l.latency_ms)
            .max(1)
    }

    /// Sets (or replaces) one link's latency.
    pub fn set_latency(&mut self, a: NodeId, b: NodeId, latency_ms: u64) {
        self.config
            .links
            .retain(|l| !((l.a == a && l.b == b) || (l.a == b && l.b == a)));
        self.config
            .links
            .push(crate::config::LinkLatency { a, b, latency_ms });
    }

    /// Links set slower than the usual latency: `(a, b, one-way ms)`.
    pub fn slow_links(&self) -> impl Iterator<Item = (NodeId, NodeId, u64)> + '_ {
        let usual = self.config.latency_ms;
        self.config
            .links
            .iter()
            .filter(move |l| l.latency_ms > usual)
            .map(|l| (l.a, l.b, l.latency_ms))
    }

    pub fn cut(&mut self, a: NodeId, b: NodeId) -> bool {
        self.cuts.insert(Self::pair(a, b))
    }

    pub fn heal(&mut self, a: NodeId, b: NodeId) -> bool {
        self.cuts.remove(&Self::pair(a, b))
    }

    pub fn heal_all(&mut self) -> usize {
        let n = self.cuts.len();
        self.cuts.clear();
        n
    }

    pub fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
        self.cuts.contains(&Self::pair(a, b))
    }

    pub fn cuts(&self) -> impl Iterator<Item = &(NodeId, NodeId)> {
        self.cuts.iter()
    }

    /// Builds a message leaving now; its delivery time includes seeded jitter.
    pub fn message(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        body: Body,
        rng: &mut ChaCha8Rng,
    ) -> Message {
        self.next_id += 1;
        let jitter = if self.config.jitter_ms > 0 {
            crate::sim::random::up_to(rng, self.config.jitter_ms)
        } else {
            0
        };
        let earliest = now.plus(self.latency(from, to) + jitter);
        let last = self.last_arrival.entry((from, to)).or_default();
        let arrives_at = earliest.max(*last);
        *last = arrives_at;
        Message {
            id: MessageId(self.next_id),
            from,
            to,
            sent_at: now,
            arrives_at,
            body,
        }
    }
}
