//! The group coordinator (Kafka's `GroupCoordinator`, classic protocol): the
//! broker leading a group's `__consumer_offsets` partition runs its
//! membership (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) and stores its
//! committed offsets. Both are written to that partition, so when leadership
//! moves the new leader reads the group back and carries on.

use crate::assignor::{AssignorKind, MemberSubscription};
use crate::cluster::Cluster;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, ConsumerId, NodeId, ProducerId, SimTime, TopicPartition};
use crate::log::Record;
use crate::network::Body;
use crate::partitioner::coordinator_partition;
use crate::timer::Timer;
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
            Body::JoinGroupResponse {
                error: Some(error),
                generation: -1,
                member_id: member,
                leader: String::new(),
                protocol: AssignorKind::Range,
                members: Vec::new(),
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle_join_group(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        group_id: String,
        member_id: Option<String>,
        instance_id: Option<String>,
        protocol: AssignorKind,
        topics: Vec<String>,
        (owned, owned_generation): (Vec<TopicPartition>, i32),
        session_timeout_ms: u64,
        rebalance_timeout_ms: u64,
    ) {
        let now = self.now;
        let group = match self.coordinated_group(id, &group_id) {
            Ok(g) => g,
            Err(e) => return self.join_error(id, consumer, e, member_id.unwrap_or_default()),
        };
        if !group.members.is_empty() && group.protocol != protocol {
            return self.join_error(
                id,
                consumer,
                ErrorCode::InconsistentGroupProtocol,
                member_id.unwrap_or_default(),
            );
        }
        // A static member coming back replaces its old member id.
        let old_static = instance_id.as_ref().and_then(|iid| {
            group
                .members
                .values()
                .find(|m| m.instance_id.as_ref() == Some(iid))
                .map(|m| m.member_id.clone())
        });
        let member_id = match (&member_id, &old_static) {
            (Some(m), _) if group.members.contains_key(m) => m.clone(),
            (Some(m), None) if !m.is_empty() => {
                return self.join_error(id, consumer, ErrorCode::UnknownMemberId, m.clone());
            }
            _ => {
                group.next_member += 1;
                format!("{consumer}-{}", group.next_member)
                    .to_lowercase()
                    .replace(' ', "-")
            }
        };
        if let Some(old) = old_static.filter(|old| *old != member_id) {
            let mut m = group.members.remove(&old).expect("found above");
            let unchanged = m.topics == topics;
            m.member_id = member_id.clone();
            m.consumer = consumer;
            m.last_heartbeat = now;
            if group.leader.as_deref() == Some(old.as_str()) {
                group.leader = Some(member_id.clone());
            }
            if group.state == GroupState::Stable && unchanged {
                // Kafka: the static member gets its old assignment back, no rebalance.
                let generation = group.generation;
                let leader = group.leader.clone().unwrap_or_default();
                let protocol = group.protocol;
                group.members.insert(member_id.clone(), m);
                let gid = group.id.clone();
                self.emit(EventKind::StaticMemberRejoined {
                    group: gid.clone(),
                    member: member_id.clone(),
                    instance_id: instance_id.clone().unwrap_or_default(),
                    consumer,
                });
                self.schedule_session_expiry(id, &gid, &member_id, session_timeout_ms);
                self.persist_group(id, &gid);
                return self.reply_to_consumer(
                    id,
                    consumer,
                    Body::JoinGroupResponse {
                        error: None,
                        generation,
                        member_id,
                        leader,
                        protocol,
                        members: Vec::new(),
                    },
                );
            }
            group.members.insert(member_id.clone(), m);
        }
        let member = group
            .members
            .entry(member_id.clone())
            .or_insert_with(|| GroupMember {
                member_id: member_id.clone(),
                instance_id: instance_id.clone(),
                consumer,
                topics: Vec::new(),
                owned: Vec::new(),
                owned_generation: -1,
                assignment: Vec::new(),
                session_timeout_ms,
                rebalance_timeout_ms,
                last_heartbeat: now,
                expiry_pending: false,
                joined: false,
                awaiting_sync: false,
            });
        let known = !member.topics.is_empty();
        member.topics = topics;
        member.owned = owned;
        member.owned_generation = owned_generation;
        member.consumer = consumer;
        member.session_timeout_ms = session_timeout_ms;
        member.rebalance_timeout_ms = rebalance_timeout_ms;
        member.last_heartbeat = now;
        member.joined = true;
        member.awaiting_sync = false;
        group.protocol = protocol;
        let state = group.state;
        let gid = group.id.clone();
        self.schedule_session_expiry(id, &gid, &member_id, session_timeout_ms);
        match state {
            GroupState::PreparingRebalance => self.maybe_complete_join(id, &gid),
            _ => {
                let reason = if known {
                    format!("{consumer} rejoined")
                } else {
                    format!("{consumer} joined")
                };
                self.prepare_rebalance(id, &gid, reason);
            }
        }
    }

    /// Moves the group to PreparingRebalance; members learn it from their
    /// next heartbeat and rejoin.
    pub(crate) fn prepare_rebalance(&mut self, id: BrokerId, group_id: &str, reason: String) {
        let now = self.now;
        let initial_delay = self.config.broker.group_initial_rebalance_delay_ms;
        let Some(group) = self.group_mut(id, group_id) else {
            return;
        };
        let was_empty = group.state == GroupState::Empty;
        group.state = GroupState::PreparingRebalance;
        group.pending_store = None;
        group.rebalance += 1;
        // Answer members still waiting on SyncGroup: the round they wait for is over.
        let waiting: Vec<ConsumerId> = group
            .members
            .values_mut()
            .filter_map(|m| std::mem::take(&mut m.awaiting_sync).then_some(m.consumer))
            .collect();
        let timeout = if was_empty {
            group.initial_delay_until = Some(now.plus(initial_delay));
            initial_delay
        } else {
            group.initial_delay_until = None;
            group
                .members
                .values()
                .map(|m| m.rebalance_timeout_ms)
                .max()
                .unwrap_or(0)
        };
        let rebalance = group.rebalance;
        let generation = group.generation;
        for c in waiting {
            self.reply_to_consumer(
                id,
                c,
                Body::SyncGroupResponse {
                    error: Some(ErrorCode::RebalanceInProgress),
                    generation,
                    assignment: Vec::new(),
                },
            );
        }
        self.note_disruption(group_id, format!("the group rebalanced: {reason}"));
        self.emit(EventKind::GroupRebalancing {
            group: group_id.to_string(),
            broker: id,
            generation,
            reason,
        });
        let inc = self.brokers[&id].incarnation;
        self.schedule_timer(
            timeout,
            Timer::RebalanceDeadline {
                broker: id,
                incarnation: inc,
                group: group_id.to_string(),
                rebalance,
            },
        );
        self.maybe_complete_join(id, group_id);
    }

    /// Completes the join phase once every member has rejoined (and a new
    /// group's initial delay has passed).
    fn maybe_complete_join(&mut self, id: BrokerId, group_id: &str) {
        let now = self.now;
        let Some(group) = self.group_mut(id, group_id) else {
            return;
        };
        if group.state != GroupState::PreparingRebalance
            || group.initial_delay_until.is_some_and(|t| now < t)
            || !group.members.values().all(|m| m.joined)
        {
            return;
        }
        self.complete_join(id, group_id);
    }

    pub(crate) fn on_rebalance_deadline(
        &mut self,
        id: BrokerId,
        inc: u32,
        group_id: &str,
        rebalance: u64,
    ) {
        if !self.broker_incarnation_is(id, inc) {
            return;
        }
        let Some(group) = self.group_mut(id, group_id) else {
            return;
        };
        if group.rebalance != rebalance || group.state != GroupState::PreparingRebalance {
            return;
        }
        group.initial_delay_until = None;
        self.complete_join(id, group_id);
    }

    pub(crate) fn broker_incarnation_is(&self, id: BrokerId, inc: u32) -> bool {
        self.brokers
            .get(&id)
            .is_some_and(|b| b.incarnation == inc && b.is_running())
    }

    /// Kafka's `onCompleteJoin`: drop members that did not rejoin, bump the
    /// generation, choose the leader and send every JoinGroup response.
    fn complete_join(&mut self, id: BrokerId, group_id: &str) {
        let now = self.now;
        let Some(group) = self.group_mut(id, group_id) else {
            return;
        };
        // Kafka's onCompleteJoin: dynamic members that did not rejoin leave;
        // static ones stay until their session times out.
        let dropped: Vec<GroupMember> = group
            .members
            .values()
            .filter(|m| !m.joined && m.instance_id.is_none())
            .cloned()
            .collect();
        group
            .members
            .retain(|_, m| m.joined || m.instance_id.is_some());
        for m in group.members.values_mut() {
            m.last_heartbeat = now;
        }
        group.generation += 1;
        let generation = group.generation;
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.leader = None;
        } else {
            group.state = GroupState::CompletingRebalance;
            if !group
                .leader
                .as_ref()
                .is_some_and(|l| group.members.contains_key(l))
            {
                group.leader = group.members.keys().next().cloned();
            }
        }
        let leader = group.leader.clone().unwrap_or_default();
        let protocol = group.protocol;
        let subscriptions: Vec<MemberSubscription> = group
            .members
            .values()
            .map(|m| MemberSubscription {
                member_id: m.member_id.clone(),
                instance_id: m.instance_id.clone(),
                topics: m.topics.clone(),
                owned: m.owned.clone(),
                generation: Some(m.owned_generation),
            })
            .collect();
        let replies: Vec<(ConsumerId, String)> = group
            .members
            .values_mut()
            .map(|m| {
                m.joined = false;
                (m.consumer, m.member_id.clone())
            })
            .collect();
        let empty = group.members.is_empty();
        for m in dropped {
            self.emit(EventKind::MemberRemoved {
                group: group_id.to_string(),
                member: m.member_id,
                consumer: m.consumer,
                reason: "it did not rejoin before the rebalance timeout".into(),
            });
        }
        if empty {
            self.emit(EventKind::GroupEmpty {
                group: group_id.to_string(),
                broker: id,
                generation,
            });
            self.persist_group(id, group_id);
            return;
        }
        for (consumer, member_id) in replies {
            let members = if member_id == leader {
                subscriptions.clone()
            } else {
                Vec::new()
            };
            self.reply_to_consumer(
                id,
                consumer,
                Body::JoinGroupResponse {
                    error: None,
                    generation,
                    member_id,
                    leader: leader.clone(),
                    protocol,
                    members,
                },
            );
        }
    }

    pub(crate) fn handle_sync_group(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        group_id: String,
        generation: i32,
        member_id: String,
        assignments: BTreeMap<String, Vec<TopicPartition>>,
    ) {
        let now = self.now;
        let reply =
            |error: Option<ErrorCode>, assignment: Vec<TopicPartition>| Body::SyncGroupResponse {
                error,
                generation,
                assignment,
            };
        let group = match self.coordinated_group(id, &group_id) {
            Ok(g) => g,
            Err(e) => return self.reply_to_consumer(id, consumer, reply(Some(e), Vec::new())),
        };
        let Some(member) = group.members.get_mut(&member_id) else {
            let e = ErrorCode::UnknownMemberId;
            return self.reply_to_consumer(id, consumer, reply(Some(e), Vec::new()));
        };
        if generation != group.generation {
            let e = ErrorCode::IllegalGeneration;
            return self.reply_to_consumer(id, consumer, reply(Some(e), Vec::new()));
        }
        member.last_heartbeat = now;
        match group.state {
            GroupState::Empty | GroupState::PreparingRebalance => {
                let e = ErrorCode::RebalanceInProgress;
                self.reply_to_consumer(id, consumer, reply(Some(e), Vec::new()))
            }
            GroupState::Stable => {
                let a = member.assignment.clone();
                self.reply_to_consumer(id, consumer, reply(None, a))
            }
            GroupState::CompletingRebalance => {
                member.awaiting_sync = true;
                if group.leader.as_deref() != Some(member_id.as_str())
                    || group.pending_store.is_some()
                {
                    return;
                }
                for m in group.members.values_mut() {
                    m.assignment = assignments.get(&m.member_id).cloned().unwrap_or_default();
                }
                // Kafka answers SyncGroup only once the group record is replicated.
                if let Some(last) = self.persist_group(id, &group_id) {
                    let tp = self.offsets_partition_for(&group_id);
                    if let Some(g) = self.group_mut(id, &group_id) {
                        g.pending_store = Some(last + 1);
                    }
                    self.complete_pending_writes(id, &tp);
                }
            }
        }
    }

    /// The group record is replicated: the group is Stable and every member
    /// waiting on SyncGroup gets its assignment.
    fn complete_sync(&mut self, id: BrokerId, group_id: &str) {
        let Some(group) = self.group_mut(id, group_id) else {
            return;
        };
        group.pending_store = None;
        group.state = GroupState::Stable;
        let generation = group.generation;
        for m in group.members.values_mut() {
            m.owned = m.assignment.clone();
            m.owned_generation = generation;
        }
        let replies: Vec<(ConsumerId, Vec<TopicPartition>)> = group
            .members
            .values_mut()
            .filter_map(|m| {
                std::mem::take(&mut m.awaiting_sync).then(|| (m.consumer, m.assignment.clone()))
            })
            .collect();
        let event = EventKind::GroupStable {
            group: group_id.to_string(),
            broker: id,
            generation,
            protocol: group.protocol,
            leader: group.leader.clone().unwrap_or_default(),
            assignment: group
                .members
                .values()
                .map(|m| (m.member_id.clone(), m.assignment.clone()))
                .collect(),
        };
        self.emit(event);
        for (c, assignment) in replies {
            self.reply_to_consumer(
                id,
                c,
                Body::SyncGroupResponse {
                    error: None,
                    generation,
                    assignment,
                },
            );
        }
    }

    pub(crate) fn handle_heartbeat(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        group_id: String,
        generation: i32,
        member_id: String,
    ) {
        let now = self.now;
        let error = match self.coordinated_group(id, &group_id) {
            Err(e) => Some(e),
            Ok(group) => match group.members.get_mut(&member_id) {
                None => Some(ErrorCode::UnknownMemberId),
                // Kafka's validateHeartbeat: member, then generation, then state.
                Some(_) if generation != group.generation => Some(ErrorCode::IllegalGeneration),
                Some(m) => {
                    m.last_heartbeat = now;
                    let timeout = m.session_timeout_ms;
                    let error = (group.state == GroupState::PreparingRebalance)
                        .then_some(ErrorCode::RebalanceInProgress);
                    self.schedule_session_expiry(id, &group_id, &member_id, timeout);
                    error
                }
            },
        };
        self.reply_to_consumer(id, consumer, Body::HeartbeatResponse { error });
    }

    /// Makes sure one session-expiry check is pending for the member (Kafka
    /// keeps one delayed heartbeat per member and pushes it back on each
    /// heartbeat; here the check re-arms itself until the session lapses).
    fn schedule_session_expiry(&mut self, id: BrokerId, group: &str, member: &str, ms: u64) {
        let Some(m) = self
            .group_mut(id, group)
            .and_then(|g| g.members.get_mut(member))
        else {
            return;
        };
        if std::mem::replace(&mut m.expiry_pending, true) {
            return;
        }
        let inc = self.brokers[&id].incarnation;
        self.schedule_timer(
            ms,
            Timer::MemberSessionExpiry {
                broker: id,
                incarnation: inc,
                group: group.to_string(),
                member: member.to_string(),
            },
        );
    }

    pub(crate) fn on_member_session_expiry(
        &mut self,
        id: BrokerId,
        inc: u32,
        group_id: &str,
        member_id: &str,
    ) {
        let now = self.now;
        if !self.broker_incarnation_is(id, inc) {
            return;
        }
        let Some(m) = self
            .group_mut(id, group_id)
            .and_then(|g| g.members.get_mut(member_id))
        else {
            return;
        };
        m.expiry_pending = false;
        // Kafka's hasSatisfiedHeartbeat: a member waiting on its JoinGroup or
        // SyncGroup answer counts as alive.
        if m.joined || m.awaiting_sync {
            m.last_heartbeat = now;
        }
        let elapsed = now.since(m.last_heartbeat);
        let timeout = m.session_timeout_ms;
        if elapsed >= timeout {
            self.remove_member(
                id,
                group_id,
                member_id,
                "no heartbeat within session.timeout.ms".into(),
            );
        } else {
            self.schedule_session_expiry(id, group_id, member_id, timeout - elapsed);
        }
    }

    pub(crate) fn handle_leave_group(&mut self, id: BrokerId, group_id: String, member_id: String) {
        if self
            .coordinated_group(id, &group_id)
            .is_ok_and(|g| g.members.contains_key(&member_id))
        {
            self.remove_member(id, &group_id, &member_id, "it left the group".into());
        }
    }

    fn remove_member(&mut self, id: BrokerId, group_id: &str, member_id: &str, reason: String) {
        let Some(group) = self.group_mut(id, group_id) else {
            return;
        };
        let Some(m) = group.members.remove(member_id) else {
            return;
        };
        let state = group.state;
        let empty = group.members.is_empty();
        self.emit(EventKind::MemberRemoved {
            group: group_id.to_string(),
            member: member_id.to_string(),
            consumer: m.consumer,
            reason: reason.clone(),
        });
        match state {
            GroupState::PreparingRebalance => self.maybe_complete_join(id, group_id),
            _ if empty => {
                let group = self.group_mut(id, group_id).expect("exists");
                group.state = GroupState::Empty;
                group.generation += 1;
                group.leader = None;
                let generation = group.generation;
                self.emit(EventKind::GroupEmpty {
                    group: group_id.to_string(),
                    broker: id,
                    generation,
                });
                self.persist_group(id, group_id);
            }
            _ => self.prepare_rebalance(
                id,
                group_id,
                format!("{} was removed ({reason})", m.consumer),
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle_offset_commit(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        group_id: String,
        generation: i32,
        member_id: String,
        offsets: Vec<(TopicPartition, u64)>,
        commit: u64,
    ) {
        let error = match self.coordinated_group(id, &group_id) {
            Err(e) => Some(e),
            // A consumer using assign() commits with generation -1 to a group without members.
            Ok(g) if generation < 0 && g.members.is_empty() => None,
            // Kafka's validateOffsetCommit: member, generation, then state.
            Ok(g) if !g.members.contains_key(&member_id) => Some(ErrorCode::UnknownMemberId),
            Ok(g) if g.generation != generation => Some(ErrorCode::IllegalGeneration),
            Ok(g) if g.state == GroupState::CompletingRebalance => {
                Some(ErrorCode::RebalanceInProgress)
            }
            Ok(_) => None,
        };
        if error.is_some() {
            return self.reply_to_consumer(
                id,
                consumer,
                Body::OffsetCommitResponse {
                    commit,
                    error,
                    offsets,
                },
            );
        }
        let tp = self.offsets_partition_for(&group_id);
        let entries: Vec<(String, String)> = offsets
            .iter()
            .map(|(p, o)| (offset_key(&group_id, p), o.to_string()))
            .collect();
        let Some(last) = self.append_internal(id, &tp, entries) else {
            return self.reply_to_consumer(
                id,
                consumer,
                Body::OffsetCommitResponse {
                    commit,
                    error: Some(ErrorCode::NotCoordinator),
                    offsets,
                },
            );
        };
        if let Some(group) = self.group_mut(id, &group_id) {
            group.pending_commits.push(PendingCommit {
                consumer,
                commit,
                offsets,
                required_offset: last + 1,
            });
        }
        self.complete_pending_writes(id, &tp);
    }

    /// Appends coordinator records to an `__consumer_offsets` partition this
    /// broker leads; returns the last offset written.
    fn append_internal(
        &mut self,
        id: BrokerId,
        tp: &TopicPartition,
        entries: Vec<(String, String)>,
    ) -> Option<u64> {
        if entries.is_empty() {
            return None;
        }
        let now = self.now;
        let first_id = self.next_record_id + 1;
        self.next_record_id += entries.len() as u64;
        let replica = self.replica_mut(id, tp).filter(|r| r.is_leader())?;
        let epoch = replica.leader_epoch;
        let base = replica.log.log_end_offset();
        for (i, (key, value)) in entries.into_iter().enumerate() {
            replica.log.append(Record {
                id: crate::ids::RecordId(first_id + i as u64),
                offset: 0,
                leader_epoch: epoch,
                key: Some(key.into()),
                value: value.into(),
                producer: ProducerId(0),
                sequence: None,
                append_time: now.0,
            });
        }
        let count = replica.log.log_end_offset() - base;
        self.emit(EventKind::RecordsAppended {
            tp: tp.clone(),
            broker: id,
            base_offset: base,
            count,
            leader: true,
        });
        self.on_leader_append(id, tp);
        Some(base + count - 1)
    }

    /// Answers commits whose records the ISR now holds (Kafka writes offsets
    /// with acks=all).
    pub(crate) fn complete_pending_writes(&mut self, id: BrokerId, tp: &TopicPartition) {
        let Some(hw) = self
            .brokers
            .get(&id)
            .and_then(|b| b.replicas.get(tp))
            .filter(|r| r.is_leader())
            .map(|r| r.high_watermark)
        else {
            return;
        };
        let n = self.config.broker.offsets_topic_num_partitions;
        let mut done = Vec::new();
        let mut stored = Vec::new();
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        for group in broker.groups.values_mut() {
            if coordinator_partition(&group.id, n) != tp.partition {
                continue;
            }
            if group.pending_store.is_some_and(|o| hw >= o) {
                stored.push(group.id.clone());
            }
            let (ready, waiting): (Vec<_>, Vec<_>) = group
                .pending_commits
                .drain(..)
                .partition(|c| hw >= c.required_offset);
            group.pending_commits = waiting;
            for c in ready {
                for (p, o) in &c.offsets {
                    group.offsets.insert(p.clone(), *o);
                }
                done.push((group.id.clone(), c));
            }
        }
        for group in stored {
            self.complete_sync(id, &group);
        }
        for (group, c) in done {
            self.emit(EventKind::OffsetsCommitted {
                group,
                consumer: c.consumer,
                offsets: c.offsets.clone(),
            });
            self.reply_to_consumer(
                id,
                c.consumer,
                Body::OffsetCommitResponse {
                    commit: c.commit,
                    error: None,
                    offsets: c.offsets,
                },
            );
        }
    }

    pub(crate) fn handle_offset_fetch(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        group_id: String,
        partitions: Vec<TopicPartition>,
    ) {
        let body = match self.coordinated_group(id, &group_id) {
            Err(e) => Body::OffsetFetchResponse {
                error: Some(e),
                offsets: Vec::new(),
            },
            Ok(g) => Body::OffsetFetchResponse {
                error: None,
                offsets: partitions
                    .into_iter()
                    .map(|p| {
                        let o = g.offsets.get(&p).copied();
                        (p, o)
                    })
                    .collect(),
            },
        };
        self.reply_to_consumer(id, consumer, body);
    }

    /// Writes the group's membership after a rebalance (Kafka's GroupMetadata
    /// record), so a new coordinator can take over without a rebalance.
    fn persist_group(&mut self, id: BrokerId, group_id: &str) -> Option<u64> {
        let group = self.group_mut(id, group_id)?;
        let record = GroupRecord {
            generation: group.generation,
            protocol: group.protocol,
            leader: group.leader.clone(),
            members: group.members.values().cloned().collect(),
        };
        let value = serde_json::to_string(&record).unwrap_or_default();
        let tp = self.offsets_partition_for(group_id);
        self.append_internal(id, &tp, vec![(group_key(group_id), value)])
    }

    /// The broker became leader of an `__consumer_offsets` partition: read
    /// every group it holds (Kafka's `GroupMetadataManager.loadGroupsForPartition`).
    pub(crate) fn load_groups(&mut self, id: BrokerId, tp: &TopicPartition) {
        let now = self.now;
        let Some(replica) = self.brokers.get(&id).and_then(|b| b.replicas.get(tp)) else {
            return;
        };
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for r in replica.log.records() {
            let Some(key) = r.key.as_deref().and_then(parse_key) else {
                continue;
            };
            match key {
                Key::Offset(g, p) => {
                    if let Ok(o) = r.value.parse::<u64>() {
                        groups
                            .entry(g.clone())
                            .or_insert_with(|| Group::new(&g))
                            .offsets
                            .insert(p, o);
                    }
                }
                Key::Group(g) => {
                    if let Ok(rec) = serde_json::from_str::<GroupRecord>(&r.value) {
                        let group = groups.entry(g.clone()).or_insert_with(|| Group::new(&g));
                        group.generation = rec.generation;
                        group.protocol = rec.protocol;
                        group.leader = rec.leader;
                        group.members = rec
                            .members
                            .into_iter()
                            .map(|mut m| {
                                m.last_heartbeat = now;
                                (m.member_id.clone(), m)
                            })
                            .collect();
                        group.state = if group.members.is_empty() {
                            GroupState::Empty
                        } else {
                            GroupState::Stable
                        };
                        group.next_member = group.next_member.max(group.members.len() as u64 + 100);
                    }
                }
            }
        }
        let mut loaded = Vec::new();
        for (gid, g) in &groups {
            loaded.push((
                gid.clone(),
                g.generation,
                g.members
                    .values()
                    .map(|m| (m.member_id.clone(), m.session_timeout_ms))
                    .collect::<Vec<_>>(),
            ));
        }
        let broker = self.brokers.get_mut(&id).expect("exists");
        for (gid, g) in groups {
            broker.groups.insert(gid, g);
        }
        for (gid, generation, members) in loaded {
            self.note_disruption(&gid, format!("broker {} took over as coordinator", id.0));
            self.emit(EventKind::GroupLoaded {
                group: gid.clone(),
                broker: id,
                generation,
                members: members.len(),
            });
            for (m, timeout) in members {
                self.schedule_session_expiry(id, &gid, &m, timeout);
            }
        }
    }

    /// The broker no longer leads an `__consumer_offsets` partition: forget its
    /// groups and tell waiting members to look for the new coordinator.
    pub(crate) fn unload_groups(&mut self, id: BrokerId, tp: &TopicPartition) {
        let n = self.config.broker.offsets_topic_num_partitions;
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        let gone: Vec<String> = broker
            .groups
            .keys()
            .filter(|g| coordinator_partition(g, n) == tp.partition)
            .cloned()
            .collect();
        let mut replies = Vec::new();
        for g in gone {
            let group = broker.groups.remove(&g).expect("listed");
            for c in group.pending_commits {
                replies.push((
                    c.consumer,
                    Body::OffsetCommitResponse {
                        commit: c.commit,
                        error: Some(ErrorCode::NotCoordinator),
                        offsets: c.offsets,
                    },
                ));
            }
            for m in group.members.values() {
                if m.joined {
                    replies.push((
                        m.consumer,
                        Body::JoinGroupResponse {
                            error: Some(ErrorCode::NotCoordinator),
                            generation: -1,
                            member_id: m.member_id.clone(),
                            leader: String::new(),
                            protocol: group.protocol,
                            members: Vec::new(),
                        },
                    ));
                }
                if m.awaiting_sync {
                    replies.push((
                        m.consumer,
                        Body::SyncGroupResponse {
                            error: Some(ErrorCode::NotCoordinator),
                            generation: group.generation,
                            assignment: Vec::new(),
                        },
                    ));
                }
            }
        }
        for (c, body) in replies {
            self.reply_to_consumer(id, c, body);
        }
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
