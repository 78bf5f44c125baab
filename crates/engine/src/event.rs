//! What happened, in the order it happened: the engine's output. Events are
//! past tense; each carries enough for the UI to animate it and for the event
//! log to say it in plain words.

use crate::broker::partition::ElectionReason;
use crate::error::ErrorCode;
use crate::ids::{
    BrokerId, ConsumerId, NodeId, ProducerId, RecordId, SimTime, TopicPartition, ZkNodeId,
};
use crate::network::{Message, MessageId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub time: SimTime,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Why a message never arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    SenderDown,
    ReceiverDown,
    NetworkPartition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum EventKind {
    MessageSent(std::sync::Arc<Message>),
    MessageDelivered {
        id: MessageId,
    },
    MessageDropped {
        id: MessageId,
        reason: DropReason,
    },
    BrokerAdded {
        broker: BrokerId,
    },
    BrokerCrashed {
        broker: BrokerId,
    },
    BrokerRestarted {
        broker: BrokerId,
    },
    BrokerShutDown {
        broker: BrokerId,
    },
    /// ZooKeeper mode: `/brokers/ids/N` created. KRaft: broker registered and unfenced.
    BrokerRegistered {
        broker: BrokerId,
        /// ZooKeeper mode: the registration is a node in ZooKeeper, which
        /// exists before any controller does.
        #[serde(default)]
        in_zookeeper: bool,
    },
    /// ZooKeeper mode: the broker's session expired. KRaft: the broker was
    /// fenced. Either, `clean`: it left after a controlled shutdown.
    BrokerFenced {
        broker: BrokerId,
        reason: String,
        #[serde(default)]
        clean: bool,
    },
    ZooKeeperNodeCrashed {
        node: ZkNodeId,
    },
    ZooKeeperNodeRestarted {
        node: ZkNodeId,
    },
    /// The ZooKeeper ensemble (`zookeeper`) or the KRaft controller quorum
    /// lost, or got back, a majority.
    QuorumLost {
        #[serde(default)]
        zookeeper: bool,
    },
    QuorumRestored {
        #[serde(default)]
        zookeeper: bool,
    },
    ControllerNodeCrashed {
        node: NodeId,
    },
    ControllerNodeRestarted {
        node: NodeId,
    },
    /// A KRaft controller timed out waiting for a leader and asked for votes.
    ElectionStarted {
        candidate: NodeId,
        epoch: u32,
    },
    /// ZooKeeper: a broker won the race for `/controller`. KRaft: a controller
    /// won a majority of votes.
    ControllerElected {
        controller: NodeId,
        epoch: u32,
    },
    ControllerResigned {
        controller: NodeId,
    },
    TopicCreated {
        topic: String,
        assignment: Vec<Vec<BrokerId>>,
    },
    PartitionsAdded {
        topic: String,
        assignment: Vec<Vec<BrokerId>>,
    },
    ReassignmentStarted {
        tp: TopicPartition,
        from: Vec<BrokerId>,
        to: Vec<BrokerId>,
    },
    ReassignmentCompleted {
        tp: TopicPartition,
        replicas: Vec<BrokerId>,
    },
    LeaderElected {
        tp: TopicPartition,
        leader: Option<BrokerId>,
        previous: Option<BrokerId>,
        leader_epoch: u32,
        isr: Vec<BrokerId>,
        reason: ElectionReason,
        unclean: bool,
    },
    IsrShrunk {
        tp: TopicPartition,
        removed: Vec<BrokerId>,
        isr: Vec<BrokerId>,
        reason: String,
    },
    IsrExpanded {
        tp: TopicPartition,
        added: Vec<BrokerId>,
        isr: Vec<BrokerId>,
    },
    /// A broker started acting on a new role for a replica.
    ReplicaRoleChanged {
        tp: TopicPartition,
        broker: BrokerId,
        leader: bool,
        leader_epoch: u32,
    },
    RecordsAppended {
        tp: TopicPartition,
        broker: BrokerId,
        base_offset: u64,
        count: u64,
        leader: bool,
    },
    HighWatermarkAdvanced {
        tp: TopicPartition,
        broker: BrokerId,
        high_watermark: u64,
    },
    LogTruncated {
        tp: TopicPartition,
        broker: BrokerId,
        from_offset: u64,
        to_offset: u64,
    },
    ProducerCreated {
        producer: ProducerId,
    },
    RecordProduced {
        producer: ProducerId,
        record: RecordId,
        tp: TopicPartition,
        key: Option<crate::broker::log::Text>,
        value: crate::broker::log::Text,
    },
    ProduceAcknowledged {
        producer: ProducerId,
        tp: TopicPartition,
        records: Vec<RecordId>,
        base_offset: u64,
    },
    ProduceRetried {
        producer: ProducerId,
        tp: TopicPartition,
        batch: u64,
        attempt: u32,
        error: ErrorCode,
    },
    ProduceFailed {
        producer: ProducerId,
        tp: TopicPartition,
        records: Vec<RecordId>,
        error: ErrorCode,
        /// Kafka's exception message where it says more than the code
        /// ("Expiring 1 record(s) for orders-0:120000 ms has passed since
        /// batch creation").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A client's metadata refresh told it that a partition it used has
    /// moved to another leader: from now on it sends or fetches there.
    MetadataUpdated {
        client: NodeId,
        tp: TopicPartition,
        leader: BrokerId,
        previous: BrokerId,
    },
    /// An acknowledged record no longer exists on the partition's leader and
    /// never will: the durability lesson.
    RecordLost {
        record: RecordId,
        tp: TopicPartition,
        /// `None` for an `acks=0` record that never reached a log.
        offset: Option<u64>,
        key: Option<crate::broker::log::Text>,
        value: crate::broker::log::Text,
        producer: ProducerId,
        reason: String,
    },
    NetworkPartitioned {
        a: NodeId,
        b: NodeId,
    },
    LinkLatencyChanged {
        a: NodeId,
        b: NodeId,
        latency_ms: u64,
    },
    NetworkHealed {
        a: Option<NodeId>,
        b: Option<NodeId>,
    },
    ConsumerCreated {
        consumer: ConsumerId,
        group: Option<String>,
    },
    ConsumerCrashed {
        consumer: ConsumerId,
    },
    /// `pause()` (`paused`) or `resume()` of these partitions.
    ConsumerPaused {
        consumer: ConsumerId,
        paused: bool,
        partitions: Vec<TopicPartition>,
    },
    ConsumerProcessingSet {
        consumer: ConsumerId,
        processing_ms: u64,
    },
    ConsumerRestarted {
        consumer: ConsumerId,
    },
    ConsumerClosed {
        consumer: ConsumerId,
    },
    CoordinatorFound {
        consumer: ConsumerId,
        group: String,
        broker: BrokerId,
    },
    /// The coordinator moved the group to PreparingRebalance.
    GroupRebalancing {
        group: String,
        broker: BrokerId,
        generation: i32,
        reason: String,
    },
    /// The leader's assignment reached the coordinator: the group is Stable.
    GroupStable {
        group: String,
        broker: BrokerId,
        generation: i32,
        protocol: crate::clients::assignor::AssignorKind,
        leader: String,
        assignment: std::collections::BTreeMap<String, Vec<TopicPartition>>,
    },
    /// The group has no members left.
    GroupEmpty {
        group: String,
        broker: BrokerId,
        generation: i32,
    },
    MemberRemoved {
        group: String,
        member: String,
        consumer: ConsumerId,
        reason: String,
    },
    /// A static member came back within its session timeout: no rebalance.
    StaticMemberRejoined {
        group: String,
        member: String,
        instance_id: String,
        consumer: ConsumerId,
    },
    /// A broker became coordinator of a group and read its state from
    /// `__consumer_offsets`.
    GroupLoaded {
        group: String,
        broker: BrokerId,
        generation: i32,
        members: usize,
    },
    PartitionsAssigned {
        consumer: ConsumerId,
        generation: i32,
        partitions: Vec<TopicPartition>,
    },
    PartitionsRevoked {
        consumer: ConsumerId,
        partitions: Vec<TopicPartition>,
    },
    /// Taken away without a chance to commit (the member was expelled).
    PartitionsLost {
        consumer: ConsumerId,
        partitions: Vec<TopicPartition>,
    },
    OffsetsCommitted {
        group: String,
        consumer: ConsumerId,
        offsets: Vec<(TopicPartition, u64)>,
    },
    CommitFailed {
        consumer: ConsumerId,
        error: ErrorCode,
    },
    /// No committed offset, or the position fell outside the log:
    /// `auto.offset.reset` applied.
    OffsetReset {
        consumer: ConsumerId,
        tp: TopicPartition,
        offset: u64,
        policy: crate::config::AutoOffsetReset,
        /// The position was beyond the log (it was truncated), not missing.
        out_of_range: bool,
    },
    /// The consumer moved its position on request (seek).
    PositionSeeked {
        consumer: ConsumerId,
        tp: TopicPartition,
        offset: u64,
    },
    /// The application finished processing one record.
    /// One per record (the hottest event): the value stays in the log.
    RecordProcessed {
        consumer: ConsumerId,
        tp: TopicPartition,
        offset: u64,
        record: RecordId,
        key: Option<crate::broker::log::Text>,
        /// Set when this group had already processed this offset, with why.
        again: Option<String>,
    },
    /// An error the client library raises to the application.
    ConsumerError {
        consumer: ConsumerId,
        error: String,
        message: String,
    },
}

fn brokers(list: &[BrokerId]) -> String {
    let ids: Vec<String> = list.iter().map(|b| b.0.to_string()).collect();
    format!("[{}]", ids.join(", "))
}

fn list(tps: &[TopicPartition]) -> String {
    let names: Vec<String> = tps.iter().map(|tp| tp.to_string()).collect();
    names.join(", ")
}

/// "Broker 2" or "Brokers 2 and 3".
fn who(list: &[BrokerId]) -> String {
    match list {
        [one] => format!("Broker {}", one.0),
        _ => {
            let ids: Vec<String> = list.iter().map(|b| b.0.to_string()).collect();
            format!("Brokers {}", ids.join(" and "))
        }
    }
}

/// How much an event matters to someone watching the cluster. The two
/// lists the time controls use live here: Step (`.`) stops at the next
/// event that changes the picture, Skip jumps to the next milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    /// Heartbeats, empty fetches, metadata and coordinator look-ups, a
    /// message arriving (what it causes has its own event).
    Routine,
    /// Something the diagram draws differently: a record sent or appended,
    /// a high watermark, an assignment, a commit.
    Picture,
    /// What a class stops to look at: a crash or restart, an election, an
    /// ISR change, a controller change, a rebalance starting or ending, a
    /// record lost, a send failed, a quorum lost or restored, a log
    /// truncated, the network cut or healed.
    Milestone,
}

fn election_reason(reason: &crate::broker::partition::ElectionReason) -> &'static str {
    use crate::broker::partition::ElectionReason::*;
    match reason {
        NewPartition => "new partition",
        LeaderFailed => "the old leader failed",
        OfflinePartition => "it was offline",
        Preferred => "preferred leader election",
        ControlledShutdown => "controlled shutdown",
        Reassignment => "reassignment",
    }
}

impl EventKind {
    /// For an event about one partition of an internal topic
    /// (`__consumer_offsets`), one line for `n` such events alike (the same
    /// broker, the same cause): a failover moves fifty of them at once, and
    /// fifty lines would bury the few that matter. Events that are alike
    /// give the same line for the same `n`.
    pub fn describe_many(&self, n: usize) -> Option<String> {
        use EventKind::*;
        let internal = |tp: &TopicPartition| tp.topic.starts_with("__");
        let of = |tp: &TopicPartition| {
            if n == 1 {
                format!("1 partition of {}", tp.topic)
            } else {
                format!("{n} partitions of {}", tp.topic)
            }
        };
        Some(match self {
            LeaderElected {
                tp,
                leader,
                unclean,
                reason,
                ..
            } if internal(tp) => match leader {
                Some(l) => format!(
                    "{l} is now leader of {}{} ({}).",
                    of(tp),
                    if *unclean { " by UNCLEAN election" } else { "" },
                    election_reason(reason)
                ),
                None => format!("{} are offline: no in-sync replica is alive.", of(tp)),
            },
            IsrShrunk {
                tp,
                removed,
                reason,
                ..
            } if internal(tp) => {
                format!("{} left the ISR of {} ({reason}).", who(removed), of(tp))
            }
            IsrExpanded { tp, added, .. } if internal(tp) => {
                format!("{} caught up and joined the ISR of {}.", who(added), of(tp))
            }
            ReplicaRoleChanged {
                tp, broker, leader, ..
            } if internal(tp) => format!(
                "{broker} now acts as {} of {}.",
                if *leader { "leader" } else { "follower" },
                of(tp)
            ),
            LogTruncated { tp, broker, .. } if internal(tp) => {
                format!(
                    "{broker} truncated its logs of {} to match the leader.",
                    of(tp)
                )
            }
            _ => return None,
        })
    }

    /// Where this event stands among [`Weight`]'s three.
    pub fn weight(&self) -> Weight {
        use EventKind::*;
        match self {
            MessageSent(m) if m.is_background() => Weight::Routine,
            MessageDelivered { .. }
            | MessageDropped {
                reason: DropReason::ReceiverDown,
                ..
            }
            | CoordinatorFound { .. }
            | MetadataUpdated { .. } => Weight::Routine,
            BrokerAdded { .. }
            | BrokerCrashed { .. }
            | BrokerRestarted { .. }
            | BrokerShutDown { .. }
            | BrokerFenced { .. }
            | ZooKeeperNodeCrashed { .. }
            | ZooKeeperNodeRestarted { .. }
            | ControllerNodeCrashed { .. }
            | ControllerNodeRestarted { .. }
            | QuorumLost { .. }
            | QuorumRestored { .. }
            | ControllerElected { .. }
            | ControllerResigned { .. }
            | LeaderElected { .. }
            | IsrShrunk { .. }
            | IsrExpanded { .. }
            | LogTruncated { .. }
            | ProduceFailed { .. }
            | RecordLost { .. }
            | NetworkPartitioned { .. }
            | NetworkHealed { .. }
            | ConsumerCrashed { .. }
            | ConsumerRestarted { .. }
            | GroupRebalancing { .. }
            | GroupStable { .. } => Weight::Milestone,
            _ => Weight::Picture,
        }
    }

    /// Whether `describe` gives a line, without writing it.
    pub fn logged(&self) -> bool {
        use EventKind::*;
        match self {
            MessageSent(_)
            | MessageDelivered { .. }
            | RecordsAppended { .. }
            | HighWatermarkAdvanced { .. } => false,
            MessageDropped { reason, .. } => *reason != DropReason::ReceiverDown,
            PartitionsAssigned { partitions, .. } | PartitionsRevoked { partitions, .. } => {
                !partitions.is_empty()
            }
            _ => true,
        }
    }

    /// One line in plain words for the event log; `None` for network chatter
    /// (messages are animated, not listed).
    #[allow(clippy::too_many_lines)] // one arm per event kind: a table, read by looking one up
    pub fn describe(&self) -> Option<String> {
        use EventKind::*;
        Some(match self {
            MessageSent(_) | MessageDelivered { .. } => return None,
            MessageDropped { reason, .. } => match reason {
                DropReason::NetworkPartition => "A message was lost in the network partition.".into(),
                // Requests to a dead node are routine (heartbeats); the crash itself is logged.
                DropReason::ReceiverDown => return None,
                DropReason::SenderDown => "A message from a node that went down was dropped.".into(),
            },
            BrokerAdded { broker } => format!("{broker} joined the cluster."),
            BrokerCrashed { broker } => format!("{broker} crashed."),
            BrokerRestarted { broker } => format!("{broker} restarted; its log survived on disk."),
            BrokerShutDown { broker } => format!("{broker} shut down cleanly."),
            BrokerRegistered { broker, in_zookeeper: true } => {
                format!("{broker} registered in ZooKeeper (/brokers/ids/{}).", broker.0)
            }
            BrokerRegistered { broker, in_zookeeper: false } => {
                format!("{broker} registered with the active controller and was unfenced.")
            }
            BrokerFenced { broker, clean: true, .. } => {
                format!("{broker} left the live brokers after its controlled shutdown; its leaderships had already moved.")
            }
            BrokerFenced { broker, reason, clean: false } => format!("{broker} was declared dead: {reason}."),
            ZooKeeperNodeCrashed { node } => format!("{node} crashed."),
            ZooKeeperNodeRestarted { node } => format!("{node} restarted."),
            QuorumLost { zookeeper: true } => "The ZooKeeper ensemble lost its majority: no metadata can change.".into(),
            QuorumLost { zookeeper: false } => "The KRaft controller quorum lost its majority: no metadata can change.".into(),
            QuorumRestored { zookeeper: true } => "The ZooKeeper ensemble has a majority again.".into(),
            QuorumRestored { zookeeper: false } => "The KRaft controller quorum has a majority again.".into(),
            ControllerNodeCrashed { node } => format!("{node} crashed."),
            ControllerNodeRestarted { node } => format!("{node} restarted."),
            ElectionStarted { candidate, epoch } => {
                format!("{candidate} asked for votes to become the active controller (epoch {epoch}).")
            }
            ControllerElected { controller, epoch } => {
                format!("{controller} is now the active controller (epoch {epoch}).")
            }
            ControllerResigned { controller } => format!("{controller} is no longer the controller."),
            TopicCreated { topic, assignment } => {
                format!("Topic {topic} created with {} partitions.", assignment.len())
            }
            PartitionsAdded { topic, assignment } => {
                format!("Topic {topic} got {} more partitions.", assignment.len())
            }
            ReassignmentStarted { tp, from, to } => {
                format!("Reassigning {tp} from {} to {}.", brokers(from), brokers(to))
            }
            ReassignmentCompleted { tp, replicas } => {
                format!("Reassignment of {tp} done: replicas {}.", brokers(replicas))
            }
            LeaderElected { tp, leader, unclean, reason, .. } => match leader {
                Some(l) => format!(
                    "{l} is now leader of {tp}{} ({}).",
                    if *unclean { " by UNCLEAN election" } else { "" },
                    election_reason(reason)
                ),
                None => format!("{tp} is offline: no in-sync replica is alive."),
            },
            IsrShrunk { tp, removed, isr, reason } => {
                format!("{} left the ISR of {tp} ({reason}); ISR is now {}.", who(removed), brokers(isr))
            }
            IsrExpanded { tp, added, isr } => {
                format!("{} caught up and joined the ISR of {tp}; ISR is now {}.", who(added), brokers(isr))
            }
            ReplicaRoleChanged { tp, broker, leader, leader_epoch } => format!(
                "{broker} now acts as {} of {tp} (leader epoch {leader_epoch}).",
                if *leader { "leader" } else { "follower" }
            ),
            RecordsAppended { .. } | HighWatermarkAdvanced { .. } => return None,
            LogTruncated { tp, broker, from_offset, to_offset } => format!(
                "{broker} truncated its log of {tp} from offset {from_offset} to {to_offset} to match the leader."
            ),
            ProducerCreated { producer } => format!("{producer} started."),
            RecordProduced { producer, tp, key, .. } => match key {
                Some(k) => format!("{producer} sent key \"{k}\" to {tp}."),
                None => format!("{producer} sent a record without a key to {tp}."),
            },
            ProduceAcknowledged { producer, tp, records, base_offset } => format!(
                "{producer} got an acknowledgement from {tp} for {} record(s) at offset {base_offset}.",
                records.len()
            ),
            ProduceRetried { producer, tp, error, attempt, .. } => {
                format!("{producer}: {error} from {tp} (attempt {attempt}); retrying.")
            }
            ProduceFailed { producer, tp, records, error, message } => match message {
                Some(m) => format!("{producer} gave up on {} record(s) for {tp}: {error}: {m}.", records.len()),
                None => format!("{producer} gave up on {} record(s) for {tp}: {error}.", records.len()),
            },
            MetadataUpdated { client, tp, leader, previous } => {
                let then = match client {
                    NodeId::Consumer(_) => "fetches from it",
                    _ => "sends its records there",
                };
                format!("{client} refreshed its metadata: {tp} is now led by {leader}, not {previous}; it {then}.")
            }
            RecordLost { tp, offset: Some(offset), reason, .. } => {
                format!("LOST: acknowledged record {tp}@{offset} is gone: {reason}.")
            }
            RecordLost { tp, offset: None, reason, .. } => {
                format!("LOST: a record sent to {tp} never reached its log: {reason}.")
            }
            LinkLatencyChanged { a, b, latency_ms } => {
                format!("The link between {a} and {b} now takes {latency_ms} ms each way.")
            }
            NetworkPartitioned { a, b } => format!("Network partition: {a} and {b} cannot reach each other."),
            NetworkHealed { a: Some(a), b: Some(b) } => format!("Network between {a} and {b} healed."),
            NetworkHealed { .. } => "All network partitions healed.".into(),
            ConsumerCreated { consumer, group: Some(g) } => format!("{consumer} started in group {g}."),
            ConsumerCreated { consumer, group: None } => format!("{consumer} started without a group."),
            ConsumerCrashed { consumer } => format!("{consumer} crashed."),
            ConsumerPaused { consumer, paused: true, partitions } if partitions.is_empty() => {
                format!("{consumer} paused: it owns no partition yet, so nothing changes.")
            }
            ConsumerPaused { consumer, paused: true, partitions } => format!(
                "{consumer} paused {}: it fetches none of their records and poll() returns none, but it goes on polling and stays in its group.",
                list(partitions)
            ),
            ConsumerPaused { consumer, paused: false, partitions } if partitions.is_empty() => {
                format!("{consumer} resumed: nothing was paused.")
            }
            ConsumerPaused { consumer, paused: false, partitions } => {
                format!("{consumer} resumed {}: it fetches and processes again.", list(partitions))
            }
            ConsumerProcessingSet { consumer, processing_ms } => format!(
                "{consumer}'s application now takes {processing_ms} ms per record (the simulator's processing.ms)."
            ),
            ConsumerRestarted { consumer } => format!("{consumer} restarted."),
            ConsumerClosed { consumer } => format!("{consumer} closed."),
            CoordinatorFound { consumer, group, broker } => {
                format!("{consumer}: {broker} coordinates group {group}.")
            }
            GroupRebalancing { group, reason, .. } => format!("Group {group} is rebalancing: {reason}."),
            GroupStable { group, generation, protocol, assignment, .. } => {
                let idle = assignment.values().filter(|p| p.is_empty()).count();
                format!(
                    "Group {group} is stable in generation {generation} ({} assignor){}.",
                    protocol.name(),
                    if idle > 0 { format!("; {idle} member(s) got no partition this round") } else { String::new() }
                )
            }
            GroupEmpty { group, .. } => format!("Group {group} has no members left."),
            MemberRemoved { group, consumer, reason, .. } => {
                format!("{consumer} was removed from group {group}: {reason}.")
            }
            StaticMemberRejoined { group, consumer, instance_id, .. } => format!(
                "{consumer} came back as static member {instance_id} of {group} within its session timeout: no rebalance."
            ),
            GroupLoaded { group, broker, generation, .. } => format!(
                "{broker} took over as coordinator of group {group} (generation {generation}), reading it from __consumer_offsets."
            ),
            PartitionsAssigned { partitions, .. } if partitions.is_empty() => return None,
            PartitionsAssigned { consumer, partitions, .. } => {
                format!("{consumer} was assigned {}.", list(partitions))
            }
            PartitionsRevoked { partitions, .. } if partitions.is_empty() => return None,
            PartitionsRevoked { consumer, partitions } => {
                format!("{consumer} gave up {}.", list(partitions))
            }
            PartitionsLost { consumer, partitions } => {
                format!("{consumer} lost {} without committing.", list(partitions))
            }
            OffsetsCommitted { group, consumer, offsets } => {
                let parts: Vec<String> = offsets.iter().map(|(tp, o)| format!("{tp}={o}")).collect();
                format!("{consumer} committed {} for group {group}.", parts.join(", "))
            }
            CommitFailed { consumer, error } => format!("{consumer}: commit failed with {error}."),
            OffsetReset { consumer, tp, offset, out_of_range: true, .. } => format!(
                "{consumer}: its position in {tp} was past the end of the new leader's log (truncated); checking the leader's epoch (KIP-320), it moves back to {offset}, where the logs part."
            ),
            OffsetReset { consumer, tp, offset, policy, out_of_range: false } => format!(
                "{consumer}: no committed offset for {tp}; auto.offset.reset={} starts it at {offset}.",
                match policy {
                    crate::config::AutoOffsetReset::Earliest => "earliest",
                    crate::config::AutoOffsetReset::Latest => "latest",
                    crate::config::AutoOffsetReset::None => "none",
                }
            ),
            PositionSeeked { consumer, tp, offset } => format!("{consumer} moved to offset {offset} of {tp}."),
            RecordProcessed { consumer, tp, offset, key, again: None, .. } => match key {
                Some(k) => format!("{consumer} processed {tp}@{offset} (key \"{k}\")."),
                None => format!("{consumer} processed {tp}@{offset}."),
            },
            RecordProcessed { consumer, tp, offset, again: Some(why), .. } => {
                format!("DUPLICATE: {consumer} processed {tp}@{offset} again: {why}.")
            }
            ConsumerError { consumer, error, message } => format!("{consumer}: {error}: {message}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{BrokerId, Command, Session, SimTime};

    #[test]
    fn logged_says_whether_describe_gives_a_line() {
        let mut kinds_seen = 0;
        for scene in crate::run::presets::scenes() {
            let mut s = Session::new(scene).unwrap();
            let mut events = s.run_until(SimTime(3_000));
            if let Ok(more) = s.apply(Command::CrashBroker {
                broker: BrokerId(1),
            }) {
                events.extend(more);
            }
            events.extend(s.run_until(SimTime(40_000)));
            for e in &events {
                assert_eq!(e.kind.logged(), e.kind.describe().is_some(), "{e:?}");
            }
            kinds_seen += events.len();
        }
        assert!(kinds_seen > 1_000);
    }
}
