//! Kafka's error codes as values: every refused command returns one, with a
//! sentence a student can understand. Nothing in the engine panics on bad input.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Kafka's protocol error names (the `Errors` enum of the Java client),
/// limited to those the simulator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidTopicException,
    TopicAlreadyExists,
    InvalidReplicationFactor,
    InvalidPartitions,
    InvalidReplicaAssignment,
    UnknownTopicOrPartition,
    NotLeaderOrFollower,
    FencedLeaderEpoch,
    UnknownLeaderEpoch,
    LeaderNotAvailable,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    RequestTimedOut,
    NetworkException,
    BrokerNotAvailable,
    NotController,
    InvalidConfig,
    InvalidRequest,
    PolicyViolation,
    UnknownMemberId,
    IllegalGeneration,
    RebalanceInProgress,
    CoordinatorNotAvailable,
    NotCoordinator,
    InconsistentGroupProtocol,
    OffsetOutOfRange,
    InvalidGroupId,
    UnknownProducerId,
    InvalidScenario,
}

impl ErrorCode {
    /// The name Kafka prints, e.g. `NOT_ENOUGH_REPLICAS`.
    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidTopicException => "INVALID_TOPIC_EXCEPTION",
            TopicAlreadyExists => "TOPIC_ALREADY_EXISTS",
            InvalidReplicationFactor => "INVALID_REPLICATION_FACTOR",
            InvalidPartitions => "INVALID_PARTITIONS",
            InvalidReplicaAssignment => "INVALID_REPLICA_ASSIGNMENT",
            UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
            NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
            UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
            LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
            NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            RequestTimedOut => "REQUEST_TIMED_OUT",
            NetworkException => "NETWORK_EXCEPTION",
            BrokerNotAvailable => "BROKER_NOT_AVAILABLE",
            NotController => "NOT_CONTROLLER",
            InvalidConfig => "INVALID_CONFIG",
            InvalidRequest => "INVALID_REQUEST",
            PolicyViolation => "POLICY_VIOLATION",
            UnknownMemberId => "UNKNOWN_MEMBER_ID",
            IllegalGeneration => "ILLEGAL_GENERATION",
            RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            NotCoordinator => "NOT_COORDINATOR",
            InconsistentGroupProtocol => "INCONSISTENT_GROUP_PROTOCOL",
            OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            InvalidGroupId => "INVALID_GROUP_ID",
            UnknownProducerId => "UNKNOWN_PRODUCER_ID",
            InvalidScenario => "INVALID_SCENARIO",
        }
    }

    /// Whether Kafka's clients retry this error on their own.
    pub fn is_retriable(self) -> bool {
        use ErrorCode::*;
        matches!(
            self,
            NotLeaderOrFollower
                | FencedLeaderEpoch
                | UnknownLeaderEpoch
                | LeaderNotAvailable
                | NotEnoughReplicas
                | NotEnoughReplicasAfterAppend
                | RequestTimedOut
                | NetworkException
                | UnknownTopicOrPartition
                | CoordinatorNotAvailable
                | NotCoordinator
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A refused command or request: Kafka's code plus a plain-language sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaError {
    pub code: ErrorCode,
    pub message: String,
}

impl KafkaError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        KafkaError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for KafkaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for KafkaError {}

pub type Result<T> = std::result::Result<T, KafkaError>;
