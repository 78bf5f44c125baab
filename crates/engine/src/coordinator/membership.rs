//! The group coordinator's membership protocol: JoinGroup, SyncGroup,
//! Heartbeat and LeaveGroup, rebalance deadlines and session expiry.

use super::*;
use crate::clients::assignor::{select_protocol, MemberSubscription};
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, ConsumerId, SimTime, TopicPartition};
use crate::network::{Body, JoinGroupRequest};
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use std::collections::BTreeMap;

impl Cluster {
    /// A static member back with the same subscription in a stable group:
    /// Kafka gives it its old assignment back, with no rebalance.
    fn static_member_back(
        &mut self,
        id: BrokerId,
        gid: &str,
        consumer: ConsumerId,
        member_id: String,
        instance_id: String,
        session_timeout_ms: u64,
    ) {
        let Some(group) = self.group_mut(id, gid) else {
            return;
        };
        let generation = group.generation;
        let leader = group.leader.clone().unwrap_or_default();
        let protocol = group.protocol;
        self.emit(EventKind::StaticMemberRejoined {
            group: gid.to_owned(),
            member: member_id.clone(),
            instance_id,
            consumer,
        });
        self.schedule_session_expiry(id, gid, &member_id, session_timeout_ms);
        self.persist_group(id, gid);
        self.reply_to_consumer(
            id,
            consumer,
            Body::JoinGroupResponse(crate::network::JoinGroupResponse {
                error: None,
                generation,
                member_id,
                leader,
                protocol,
                members: Vec::new(),
            }),
        );
    }

    /// Kafka's `GroupCoordinator.handleJoinGroup`: everything it knows of
    /// the member arrived in `request`.
    pub(crate) fn handle_join_group(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        request: JoinGroupRequest,
    ) {
        let JoinGroupRequest {
            group: group_id,
            member_id,
            instance_id,
            protocols,
            topics,
            session_timeout_ms,
            ..
        } = &request;
        let session_timeout_ms = *session_timeout_ms;
        let now = self.ctx.now;
        let group = match self.coordinated_group(id, group_id) {
            Ok(g) => g,
            Err(e) => {
                return self.join_error(id, consumer, e, member_id.clone().unwrap_or_default())
            }
        };
        // Kafka's `supportsProtocols`: a newcomer must support a protocol
        // every member supports.
        let common = |k: &AssignorKind| group.members.values().all(|m| m.protocols.supports(*k));
        if !group.members.is_empty() && !protocols.kinds().iter().any(common) {
            return self.join_error(
                id,
                consumer,
                ErrorCode::InconsistentGroupProtocol,
                member_id.clone().unwrap_or_default(),
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
        let member_id = match (member_id, &old_static) {
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
            let unchanged = m.topics == *topics;
            m.member_id = member_id.clone();
            m.consumer = consumer;
            m.last_heartbeat = now;
            if group.leader.as_deref() == Some(old.as_str()) {
                group.leader = Some(member_id.clone());
            }
            let stable = group.state == GroupState::Stable && unchanged;
            group.members.insert(member_id.clone(), m);
            if stable {
                let gid = group.id.clone();
                let instance_id = instance_id.clone().unwrap_or_default();
                return self.static_member_back(
                    id,
                    &gid,
                    consumer,
                    member_id,
                    instance_id,
                    session_timeout_ms,
                );
            }
        }
        let known = join_member(group, &member_id, consumer, now, request);
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
        let now = self.ctx.now;
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
        self.ctx
            .delivery
            .note_disruption(group_id, format!("the group rebalanced: {reason}"));
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
    pub(super) fn maybe_complete_join(&mut self, id: BrokerId, group_id: &str) {
        let now = self.ctx.now;
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
    pub(super) fn complete_join(&mut self, id: BrokerId, group_id: &str) {
        let now = self.ctx.now;
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
        // Kafka's `selectProtocol`: the members' vote among the protocols
        // they all support (the join check keeps that set non-empty).
        if let Some(p) = select_protocol(group.members.values().map(|m| &m.protocols)) {
            group.protocol = p;
        }
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
                Body::JoinGroupResponse(crate::network::JoinGroupResponse {
                    error: None,
                    generation,
                    member_id,
                    leader: leader.clone(),
                    protocol,
                    members,
                }),
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
        let now = self.ctx.now;
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
    pub(super) fn complete_sync(&mut self, id: BrokerId, group_id: &str) {
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
        let now = self.ctx.now;
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
    pub(super) fn schedule_session_expiry(
        &mut self,
        id: BrokerId,
        group: &str,
        member: &str,
        ms: u64,
    ) {
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
        let now = self.ctx.now;
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

    pub(super) fn remove_member(
        &mut self,
        id: BrokerId,
        group_id: &str,
        member_id: &str,
        reason: String,
    ) {
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
}

/// Adds the member to the group, or refreshes it, from its JoinGroup;
/// returns whether the group knew it already.
fn join_member(
    group: &mut Group,
    member_id: &str,
    consumer: ConsumerId,
    now: SimTime,
    request: JoinGroupRequest,
) -> bool {
    let member = group
        .members
        .entry(member_id.to_owned())
        .or_insert_with(|| GroupMember {
            member_id: member_id.to_owned(),
            instance_id: request.instance_id.clone(),
            consumer,
            topics: Vec::new(),
            owned: Vec::new(),
            owned_generation: -1,
            protocols: request.protocols.clone(),
            assignment: Vec::new(),
            session_timeout_ms: request.session_timeout_ms,
            rebalance_timeout_ms: request.rebalance_timeout_ms,
            last_heartbeat: now,
            expiry_pending: false,
            joined: false,
            awaiting_sync: false,
        });
    let known = !member.topics.is_empty();
    member.topics = request.topics;
    member.owned = request.owned;
    member.owned_generation = request.generation;
    member.protocols = request.protocols;
    member.consumer = consumer;
    member.session_timeout_ms = request.session_timeout_ms;
    member.rebalance_timeout_ms = request.rebalance_timeout_ms;
    member.last_heartbeat = now;
    member.joined = true;
    member.awaiting_sync = false;
    known
}
