//! A consumer's side of the classic group protocol: finding the coordinator,
//! JoinGroup and SyncGroup, heartbeats, and giving up or taking partitions
//! (eager or cooperative).

use super::*;
use crate::clients::assignor;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, ConsumerId, NodeId, SimTime, TopicPartition};
use crate::network::{Body, JoinGroupResponse};
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use std::collections::{BTreeMap, BTreeSet};

impl Cluster {
    pub(super) fn consumer_request_metadata(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.metadata_in_flight.is_some() || c.known_brokers.is_empty() {
            return;
        }
        c.metadata_in_flight = Some(now);
        let broker = c.known_brokers[c.next_bootstrap % c.known_brokers.len()];
        c.bootstrap_target = Some(broker);
        self.send(
            NodeId::Consumer(cid),
            NodeId::Broker(broker),
            Body::Metadata { topics: Vec::new() },
        );
    }

    pub(super) fn consumer_find_coordinator(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let Some(group) = c.group().map(str::to_string) else {
            return;
        };
        if c.coordinator.is_some() || c.find_in_flight.is_some() || c.known_brokers.is_empty() {
            return;
        }
        c.find_in_flight = Some(now);
        let broker = c.known_brokers[c.next_bootstrap % c.known_brokers.len()];
        c.bootstrap_target = Some(broker);
        self.send(
            NodeId::Consumer(cid),
            NodeId::Broker(broker),
            Body::FindCoordinator { group },
        );
    }

    pub(super) fn on_find_coordinator(
        &mut self,
        cid: ConsumerId,
        group: String,
        error: Option<ErrorCode>,
        coordinator: Option<BrokerId>,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.find_in_flight = None;
        match (error, coordinator) {
            (None, Some(b)) => {
                c.coordinator = Some(b);
                if c.last_coordinator.replace(b) != Some(b) {
                    self.emit(EventKind::CoordinatorFound {
                        consumer: cid,
                        group,
                        broker: b,
                    });
                }
                self.after_coordinator_found(cid);
            }
            _ => self.retry_coordinator_later(cid),
        }
    }

    pub(super) fn retry_coordinator_later(&mut self, cid: ConsumerId) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.coordinator = None;
        c.next_bootstrap += 1;
        self.schedule_consumer_retry(cid);
    }

    /// One retry at a time, `retry.backoff.ms` from now.
    pub(super) fn schedule_consumer_retry(&mut self, cid: ConsumerId) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if std::mem::replace(&mut c.retry_pending, true) {
            return;
        }
        let (backoff, inc) = (c.config.retry_backoff_ms, c.incarnation);
        self.schedule_timer(
            backoff,
            Timer::ConsumerRetry {
                consumer: cid,
                incarnation: inc,
            },
        );
    }

    pub(crate) fn on_consumer_retry(&mut self, cid: ConsumerId, inc: u32) {
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if c.incarnation != inc || !c.is_running() {
            return;
        }
        c.retry_pending = false;
        self.consumer_request_metadata(cid);
        self.consumer_find_coordinator(cid);
    }

    /// With a coordinator known: resend what waited for it.
    pub(super) fn after_coordinator_found(&mut self, cid: ConsumerId) {
        let c = &self.consumers[&cid];
        if let Some((commit, offsets)) = c.commit_to_retry.clone() {
            self.send_commit(cid, commit, offsets);
        }
        let c = &self.consumers[&cid];
        if c.is_group_managed() && c.member_state == MemberState::Unjoined {
            self.consumer_poll(cid);
        }
        self.resolve_positions(cid);
    }

    /// The coordinator moved or died: find it again.
    pub(super) fn coordinator_unknown(&mut self, cid: ConsumerId) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.coordinator = None;
        if let AppState::Committing { commit } = c.app {
            // The answer to a blocked commitSync() will not come: resend it later.
            if c.commit_to_retry.is_none() {
                c.commit_to_retry = c.commit_in_flight.take().filter(|(id, _)| *id == commit);
            }
        }
        if matches!(c.member_state, MemberState::Joining | MemberState::Syncing) {
            c.member_state = MemberState::Unjoined;
            c.group_request_at = None;
        }
        for a in c.assigned.values_mut() {
            if a.position.is_none() {
                a.resolving = false;
            }
        }
        self.retry_coordinator_later(cid);
    }

    /// Kafka's `ensureActiveGroup`: send JoinGroup. Eager members have already
    /// revoked everything; cooperative ones list what they own.
    pub(super) fn send_join(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let (Some(coord), Some(group), Subscription::Topics(topics)) = (
            c.coordinator,
            c.group().map(str::to_string),
            &c.subscription,
        ) else {
            return;
        };
        let topics = topics.clone();
        c.member_state = MemberState::Joining;
        c.group_request_at = Some(now);
        c.needs_rejoin = false;
        let body = Body::JoinGroup(crate::network::JoinGroupRequest {
            group,
            member_id: c.member_id.clone(),
            instance_id: c.config.group_instance_id.clone(),
            protocol: c.config.partition_assignment_strategy,
            topics,
            owned: c.owned(),
            generation: c.generation,
            session_timeout_ms: c.config.session_timeout_ms,
            rebalance_timeout_ms: c.config.max_poll_interval_ms,
        });
        self.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
    }

    /// JoinGroup's answer: a member id and generation, and for the leader
    /// the members' subscriptions, which it assigns before SyncGroup.
    pub(super) fn on_join_response(&mut self, cid: ConsumerId, response: JoinGroupResponse) {
        let JoinGroupResponse {
            error,
            generation,
            member_id,
            leader,
            protocol,
            members,
        } = response;
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.member_state != MemberState::Joining {
            return;
        }
        match error {
            None => {}
            Some(ErrorCode::UnknownMemberId) => {
                self.reset_generation(cid, true);
                return self.send_join(cid);
            }
            Some(ErrorCode::NotCoordinator) | Some(ErrorCode::CoordinatorNotAvailable) => {
                return self.coordinator_unknown(cid);
            }
            Some(ErrorCode::InconsistentGroupProtocol) => {
                // Not retriable: poll() throws and the application stops.
                c.status = ConsumerStatus::Failed;
                forget_session(c);
                self.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: ErrorCode::InconsistentGroupProtocol.name().into(),
                    message: "its partition.assignment.strategy is not one the group's members already use; the consumer stops.".into(),
                });
                return;
            }
            Some(e) => {
                c.member_state = MemberState::Unjoined;
                self.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: e.name().into(),
                    message: "JoinGroup failed; retrying.".into(),
                });
                return self.retry_coordinator_later(cid);
            }
        }
        c.member_id = Some(member_id.clone());
        c.generation = generation;
        c.leader = member_id == leader;
        c.member_state = MemberState::Syncing;
        let assignments = if c.leader {
            // The leader runs the assignor over the partitions its metadata knows.
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for m in &members {
                for t in &m.topics {
                    let n = c.known_partitions(t);
                    if n > 0 {
                        counts.insert(t.clone(), n);
                    }
                }
            }
            let assignment = assignor::assign(protocol, &counts, &members);
            c.assigned_counts = counts;
            assignment
        } else {
            BTreeMap::new()
        };
        let (Some(coord), Some(group)) = (c.coordinator, c.group().map(str::to_string)) else {
            return;
        };
        c.group_request_at = Some(self.ctx.now);
        self.send(
            NodeId::Consumer(cid),
            NodeId::Broker(coord),
            Body::SyncGroup {
                group,
                generation,
                member_id,
                assignments,
            },
        );
    }

    pub(super) fn on_sync_response(
        &mut self,
        cid: ConsumerId,
        error: Option<ErrorCode>,
        generation: i32,
        assignment: Vec<TopicPartition>,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.member_state != MemberState::Syncing || generation != c.generation {
            return;
        }
        match error {
            None => {
                c.member_state = MemberState::Stable;
                c.group_request_at = None;
                c.needs_rejoin = false;
                c.pending_assignment = Some(assignment);
                if c.app == AppState::Idle {
                    self.consumer_poll(cid);
                }
            }
            Some(ErrorCode::NotCoordinator) | Some(ErrorCode::CoordinatorNotAvailable) => {
                self.coordinator_unknown(cid)
            }
            Some(ErrorCode::UnknownMemberId) | Some(ErrorCode::IllegalGeneration) => {
                self.reset_generation(cid, error == Some(ErrorCode::UnknownMemberId));
                self.consumer_poll(cid);
            }
            Some(_) => {
                c.member_state = MemberState::Unjoined;
                c.needs_rejoin = true;
                self.consumer_poll(cid);
            }
        }
    }

    pub(super) fn on_heartbeat_response(&mut self, cid: ConsumerId, error: Option<ErrorCode>) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.member_state != MemberState::Stable {
            return;
        }
        match error {
            None => {}
            Some(ErrorCode::RebalanceInProgress) => {
                c.needs_rejoin = true;
                if c.app == AppState::Idle {
                    self.consumer_poll(cid);
                }
            }
            Some(ErrorCode::NotCoordinator) | Some(ErrorCode::CoordinatorNotAvailable) => {
                self.coordinator_unknown(cid)
            }
            Some(ErrorCode::UnknownMemberId) | Some(ErrorCode::IllegalGeneration) => {
                self.reset_generation(cid, error == Some(ErrorCode::UnknownMemberId));
                if self.consumers[&cid].app == AppState::Idle {
                    self.consumer_poll(cid);
                }
            }
            Some(_) => {}
        }
    }

    /// Kafka's resetGeneration: the member's generation (and, after
    /// UNKNOWN_MEMBER_ID, its member id) is gone, and what it owned is lost,
    /// not revoked: there is no commit.
    pub(super) fn reset_generation(&mut self, cid: ConsumerId, forget_member_id: bool) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if forget_member_id {
            c.member_id = None;
        }
        c.generation = -1;
        c.member_state = MemberState::Unjoined;
        self.lose_partitions(cid);
    }

    pub(super) fn lose_partitions(&mut self, cid: ConsumerId) {
        let key = group_key(&self.consumers[&cid]);
        self.note_disruption(&key, format!("{cid} was expelled from the group"));
        let c = self.consumers.get_mut(&cid).expect("exists");
        let lost = c.owned();
        c.assigned.clear();
        c.buffer.clear();
        if !lost.is_empty() {
            self.emit(EventKind::PartitionsLost {
                consumer: cid,
                partitions: lost,
            });
        }
    }

    /// The heartbeat thread: heartbeat when stable, give up on requests that
    /// got no answer, leave the group if the application stopped polling.
    pub(crate) fn on_consumer_heartbeat_timer(&mut self, cid: ConsumerId, inc: u32) {
        let now = self.ctx.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if c.incarnation != inc || !c.is_running() {
            return;
        }
        let timeout = c.config.request_timeout_ms;
        let interval = c.config.heartbeat_interval_ms;
        self.schedule_timer(
            interval,
            Timer::ConsumerHeartbeat {
                consumer: cid,
                incarnation: inc,
            },
        );
        let c = self.consumers.get_mut(&cid).expect("exists");
        let stale = |t: Option<SimTime>| t.is_some_and(|t| now.since(t) >= timeout);
        if stale(c.metadata_in_flight) {
            c.metadata_in_flight = None;
            c.next_bootstrap += 1;
        }
        c.fetch_in_flight.retain(|_, t| now.since(*t) < timeout);
        for a in c.assigned.values_mut() {
            if a.resolving_since.is_some_and(|t| now.since(t) >= timeout) {
                a.resolving = false;
                a.resolving_since = None;
            }
        }
        if stale(c.find_in_flight) {
            c.find_in_flight = None;
            c.next_bootstrap += 1;
        }
        let group_stalled = stale(c.group_request_at) || stale(c.commit_sent_at);
        if group_stalled {
            c.commit_sent_at = None;
            self.coordinator_unknown(cid);
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        let polled_too_late = c.is_group_managed()
            && c.member_state == MemberState::Stable
            && now.since(c.last_poll) > c.config.max_poll_interval_ms;
        if polled_too_late {
            // Kafka's heartbeat thread leaves the group for a stuck application.
            // A static member only stops heartbeating: the coordinator
            // removes it after session.timeout.ms.
            let leave = match (
                c.coordinator,
                c.group().map(str::to_string),
                c.member_id.clone(),
            ) {
                (Some(coord), Some(group), Some(member_id))
                    if c.config.group_instance_id.is_none() =>
                {
                    Some((coord, Body::LeaveGroup { group, member_id }))
                }
                _ => None,
            };
            let message = if leave.is_some() {
                "poll() was not called in time; the consumer leaves the group so its partitions can move."
            } else {
                "poll() was not called in time; as a static member it stops heartbeating and is removed after session.timeout.ms."
            };
            c.needs_rejoin = true;
            self.emit(EventKind::ConsumerError {
                consumer: cid,
                error: "max.poll.interval.ms".into(),
                message: message.into(),
            });
            self.reset_generation(cid, true);
            if let Some((coord, body)) = leave {
                self.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
            }
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.member_state == MemberState::Stable {
            if let (Some(coord), Some(group), Some(member_id)) = (
                c.coordinator,
                c.group().map(str::to_string),
                c.member_id.clone(),
            ) {
                let generation = c.generation;
                self.send(
                    NodeId::Consumer(cid),
                    NodeId::Broker(coord),
                    Body::Heartbeat {
                        group,
                        generation,
                        member_id,
                    },
                );
            }
        }
        if self.consumers[&cid].metadata_in_flight.is_none() {
            self.consumer_request_metadata(cid);
        }
        self.consumer_find_coordinator(cid);
        self.resolve_positions(cid);
        self.consumer_fetch(cid);
        if self.consumers[&cid].app == AppState::Idle {
            self.consumer_poll(cid);
        }
    }

    /// Gives up `only` (or everything): drop buffered records and positions.
    pub(super) fn revoke(&mut self, cid: ConsumerId, only: Option<&BTreeSet<TopicPartition>>) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        let revoked: Vec<TopicPartition> = c
            .assigned
            .keys()
            .filter(|tp| only.is_none_or(|o| o.contains(*tp)))
            .cloned()
            .collect();
        for tp in &revoked {
            c.assigned.remove(tp);
        }
        c.buffer.retain(|tp, _| c.assigned.contains_key(tp));
        self.emit(EventKind::PartitionsRevoked {
            consumer: cid,
            partitions: revoked,
        });
    }

    /// Takes up a SyncGroup assignment on the application thread. Cooperative
    /// members revoke only what moved, then rejoin for a second round.
    pub(super) fn apply_assignment(&mut self, cid: ConsumerId, assignment: Vec<TopicPartition>) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        let new: BTreeSet<TopicPartition> = assignment.into_iter().collect();
        let revoked: BTreeSet<TopicPartition> = c
            .assigned
            .keys()
            .filter(|tp| !new.contains(*tp))
            .cloned()
            .collect();
        let added: Vec<TopicPartition> = new
            .iter()
            .filter(|tp| !c.assigned.contains_key(*tp))
            .cloned()
            .collect();
        let generation = c.generation;
        if !revoked.is_empty() {
            if c.config.enable_auto_commit {
                let offsets: Vec<(TopicPartition, u64)> = c
                    .positions()
                    .into_iter()
                    .filter(|(tp, _)| revoked.contains(tp))
                    .collect();
                if !offsets.is_empty() {
                    let commit = c.next_commit;
                    c.next_commit += 1;
                    self.send_commit(cid, commit, offsets);
                }
            }
            self.revoke(cid, Some(&revoked));
            // KIP-429: a member that gave partitions up rejoins at once.
            self.consumers.get_mut(&cid).expect("exists").needs_rejoin = true;
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        for tp in &added {
            c.assigned.insert(tp.clone(), fresh_assigned());
        }
        self.emit(EventKind::PartitionsAssigned {
            consumer: cid,
            generation,
            partitions: added,
        });
        self.resolve_positions(cid);
    }
}
