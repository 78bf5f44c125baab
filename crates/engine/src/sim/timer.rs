//! Timers: everything that happens because time passed rather than because a
//! message arrived. Each names the incarnation it belongs to, so a timer set
//! before a crash does nothing after the restart.

use crate::ids::{BrokerId, ConsumerId, ControllerId, ProducerId, TopicPartition};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timer {
    /// Leader's periodic `isr-expiration` task (every `replica.lag.time.max.ms` / 2).
    IsrCheck { broker: BrokerId, incarnation: u32 },
    /// A parked follower fetch reached `replica.fetch.wait.max.ms`.
    FetchWait {
        broker: BrokerId,
        incarnation: u32,
        fetch: u64,
    },
    /// A follower's fetch got no answer (cut link): try again.
    FetchTimeout {
        broker: BrokerId,
        incarnation: u32,
        leader: BrokerId,
        fetch: u64,
    },
    /// A follower waits `replica.fetch.backoff.ms` after an error.
    FetchBackoff {
        broker: BrokerId,
        incarnation: u32,
        leader: BrokerId,
    },
    /// A produce waiting in purgatory for acks=all reached its timeout.
    ProduceTimeout {
        broker: BrokerId,
        incarnation: u32,
        tp: TopicPartition,
        batch: u64,
        producer: ProducerId,
    },
    /// The producer sends what accumulated (after `linger.ms`).
    ProducerDrain { producer: ProducerId },
    /// The producer's `request.timeout.ms` for one attempt of a batch.
    ProduceRequestTimeout {
        producer: ProducerId,
        batch: u64,
        attempt: u32,
    },
    /// The producer asks for metadata again after `retry.backoff.ms`.
    MetadataRetry { producer: ProducerId },
    /// `delivery.timeout.ms` after a batch was created: the producer fails
    /// whatever of its batches have reached it.
    DeliveryTimeout { producer: ProducerId },
    /// The producer retries a batch after `retry.backoff.ms`.
    ProduceRetry { producer: ProducerId, batch: u64 },
    /// The producer's connection to a broker broke (the broker process died).
    ConnectionLost {
        producer: ProducerId,
        broker: BrokerId,
    },
    /// ZooKeeper expires a silent broker's session after `zookeeper.session.timeout.ms`.
    ZkSessionExpiry { broker: BrokerId, incarnation: u32 },
    /// A crashed or isolated broker stops holding the `/controller` node.
    /// KRaft: broker sends its next heartbeat.
    BrokerHeartbeat { broker: BrokerId, incarnation: u32 },
    /// KRaft: the active controller fences brokers whose heartbeats stopped.
    FenceCheck {
        controller: ControllerId,
        epoch: u32,
    },
    /// KRaft: a controller heard nothing from a leader for too long.
    QuorumTimeout {
        controller: ControllerId,
        incarnation: u32,
        deadline_epoch: u32,
    },
    /// KRaft: the leader tells followers it is alive.
    QuorumHeartbeat {
        controller: ControllerId,
        epoch: u32,
    },
    /// Periodic preferred-leader rebalance (`leader.imbalance.check.interval.seconds`).
    /// The automatic preferred-leader check of the controller of `epoch`
    /// (stale once another controller takes over).
    LeaderImbalanceCheck { epoch: u32 },
    /// A consumer's heartbeat thread ticks (`heartbeat.interval.ms`); it also
    /// watches for requests that went unanswered.
    ConsumerHeartbeat {
        consumer: ConsumerId,
        incarnation: u32,
    },
    /// The application finished processing the record in hand (`processing.ms`).
    ConsumerProcessed {
        consumer: ConsumerId,
        incarnation: u32,
    },
    /// After `retry.backoff.ms`, look for the coordinator again.
    ConsumerRetry {
        consumer: ConsumerId,
        incarnation: u32,
    },
    /// The consumer's connection to a broker broke (the broker process died).
    ConsumerConnectionLost {
        consumer: ConsumerId,
        broker: BrokerId,
    },
    /// The coordinator checks whether a member's session expired.
    MemberSessionExpiry {
        broker: BrokerId,
        incarnation: u32,
        group: String,
        member: String,
    },
    /// The coordinator stops waiting for members to rejoin (rebalance timeout,
    /// or `group.initial.rebalance.delay.ms` for a new group).
    RebalanceDeadline {
        broker: BrokerId,
        incarnation: u32,
        group: String,
        rebalance: u64,
    },
}
