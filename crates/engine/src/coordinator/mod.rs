//! The group coordinator (Kafka's `GroupCoordinator`, classic protocol): the
//! broker leading a group's `__consumer_offsets` partition runs its
//! membership (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) and stores its
//! committed offsets. Both are written to that partition, so when leadership
//! moves the new leader reads the group back and carries on.

mod load;
mod membership;
mod offsets;

use crate::clients::assignor::{AssignorKind, AssignorList};
use crate::clients::producer::partitioner::coordinator_partition;
use crate::error::ErrorCode;
use crate::ids::{BrokerId, ConsumerId, NodeId, SimTime, TopicPartition};
use crate::network::Body;
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Kafka's internal topic for group metadata and committed offsets.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Kafka's `GroupState` (classic protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub consumer: ConsumerId,
    pub topics: Vec<String>,
    pub owned: Vec<TopicPartition>,
    /// The generation the member says `owned` is from.
    pub owned_generation: i32,
    /// The protocols (assignors) it supports, most preferred first.
    #[serde(default)]
    pub protocols: AssignorList,
    pub assignment: Vec<TopicPartition>,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    #[serde(skip)]
    pub last_heartbeat: SimTime,
    /// A session-expiry check is scheduled.
    #[serde(skip)]
    pub expiry_pending: bool,
    /// Sent JoinGroup in the current rebalance; its response is pending.
    #[serde(skip)]
    pub joined: bool,
    /// Sent SyncGroup and waits for the leader's assignment.
    #[serde(skip)]
    pub awaiting_sync: bool,
}

/// A commit appended to `__consumer_offsets`, answered once replicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCommit {
    pub consumer: ConsumerId,
    pub commit: u64,
    pub offsets: Vec<(TopicPartition, u64)>,
    /// The partition's high watermark must reach this.
    pub required_offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub state: GroupState,
    pub generation: i32,
    pub protocol: AssignorKind,
    pub leader: Option<String>,
    pub members: BTreeMap<String, GroupMember>,
    /// Committed offsets: the next offset to read, per partition.
    pub offsets: BTreeMap<TopicPartition, u64>,
    pub pending_commits: Vec<PendingCommit>,
    /// The group record of a completed rebalance waits for this high
    /// watermark before the group becomes Stable.
    pub pending_store: Option<u64>,
    /// Identifies the current rebalance, so an old deadline does nothing.
    pub rebalance: u64,
    /// A new group waits `group.initial.rebalance.delay.ms` before its first rebalance.
    pub initial_delay_until: Option<SimTime>,
    pub next_member: u64,
}

impl Group {
    fn new(id: &str) -> Group {
        Group {
            id: id.to_string(),
            state: GroupState::Empty,
            generation: 0,
            protocol: AssignorKind::Range,
            leader: None,
            members: BTreeMap::new(),
            offsets: BTreeMap::new(),
            pending_commits: Vec::new(),
            pending_store: None,
            rebalance: 0,
            initial_delay_until: None,
            next_member: 0,
        }
    }
}

/// What the coordinator writes for a group after each rebalance (Kafka's
/// GroupMetadata record value), as JSON in the record value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GroupRecord {
    generation: i32,
    protocol: AssignorKind,
    leader: Option<String>,
    members: Vec<GroupMember>,
}

/// Record keys in `__consumer_offsets`, as JSON arrays: `["offset", group,
/// topic, partition]` and `["group", group]`.
fn offset_key(group: &str, tp: &TopicPartition) -> String {
    serde_json::json!(["offset", group, &*tp.topic, tp.partition]).to_string()
}

fn group_key(group: &str) -> String {
    serde_json::json!(["group", group]).to_string()
}

enum Key {
    Offset(String, TopicPartition),
    Group(String),
}

fn parse_key(key: &str) -> Option<Key> {
    let v: serde_json::Value = serde_json::from_str(key).ok()?;
    let a = v.as_array()?;
    match a.first()?.as_str()? {
        "offset" => Some(Key::Offset(
            a.get(1)?.as_str()?.to_string(),
            TopicPartition::new(a.get(2)?.as_str()?, a.get(3)?.as_u64()? as u32),
        )),
        "group" => Some(Key::Group(a.get(1)?.as_str()?.to_string())),
        _ => None,
    }
}

impl Cluster {
    pub(crate) fn offsets_partition_for(&self, group: &str) -> TopicPartition {
        TopicPartition::new(
            OFFSETS_TOPIC,
            coordinator_partition(group, self.config.broker.offsets_topic_num_partitions),
        )
    }

    /// Creates `__consumer_offsets` the first time a client looks for a
    /// coordinator, as Kafka does. Fails while fewer brokers are alive than
    /// `offsets.topic.replication.factor`.
    fn ensure_offsets_topic(&mut self) -> bool {
        if self.controller.topics.contains_key(OFFSETS_TOPIC) {
            return true;
        }
        let n = self.config.broker.offsets_topic_num_partitions;
        let rf = self.config.broker.offsets_topic_replication_factor;
        self.create_internal_topic(OFFSETS_TOPIC, n, rf).is_ok()
    }

    pub(crate) fn handle_find_coordinator(&mut self, id: BrokerId, from: NodeId, group: String) {
        let mut error = None;
        let mut coordinator = None;
        if !self.ensure_offsets_topic() {
            error = Some(ErrorCode::CoordinatorNotAvailable);
        } else {
            let tp = self.offsets_partition_for(&group);
            match self.brokers[&id].metadata.get(&tp).and_then(|s| s.leader) {
                Some(leader) => coordinator = Some(leader),
                None => error = Some(ErrorCode::CoordinatorNotAvailable),
            }
        }
        self.send(
            NodeId::Broker(id),
            from,
            Body::FindCoordinatorResponse {
                group,
                error,
                coordinator,
            },
        );
    }

    /// The group, if this broker coordinates it (creating an empty one).
    fn coordinated_group(&mut self, id: BrokerId, group: &str) -> Result<&mut Group, ErrorCode> {
        let tp = self.offsets_partition_for(group);
        let broker = self.brokers.get_mut(&id).ok_or(ErrorCode::NotCoordinator)?;
        if !broker.replicas.get(&tp).is_some_and(|r| r.is_leader()) {
            return Err(ErrorCode::NotCoordinator);
        }
        Ok(broker
            .groups
            .entry(group.to_string())
            .or_insert_with(|| Group::new(group)))
    }

    fn group_mut(&mut self, id: BrokerId, group: &str) -> Option<&mut Group> {
        self.brokers.get_mut(&id)?.groups.get_mut(group)
    }

    fn reply_to_consumer(&mut self, id: BrokerId, consumer: ConsumerId, body: Body) {
        self.send(NodeId::Broker(id), NodeId::Consumer(consumer), body);
    }

    fn join_error(&mut self, id: BrokerId, consumer: ConsumerId, error: ErrorCode, member: String) {
        self.reply_to_consumer(
            id,
            consumer,
            Body::JoinGroupResponse(crate::network::JoinGroupResponse {
                error: Some(error),
                generation: -1,
                member_id: member,
                leader: String::new(),
                protocol: AssignorKind::Range,
                members: Vec::new(),
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let tp = TopicPartition::new("orders", 3);
        match parse_key(&offset_key("g:1", &tp)) {
            Some(Key::Offset(g, p)) => {
                assert_eq!(g, "g:1");
                assert_eq!(p, tp);
            }
            _ => panic!("offset key did not parse"),
        }
        assert!(matches!(parse_key(&group_key("g")), Some(Key::Group(g)) if g == "g"));
        assert!(parse_key("not json").is_none());
        assert!(parse_key("[\"offset\", 1]").is_none());
    }
}
