//! A consumer's side of the classic group protocol: finding the coordinator,
//! JoinGroup and SyncGroup, heartbeats, and giving up or taking partitions
//! (eager or cooperative).

use super::*;
use crate::clients::assignor;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, SimTime, TopicPartition};
use crate::network::{Body, JoinGroupResponse};
use crate::sim::timer::Timer;
use crate::sim::Ctx;
use std::collections::{BTreeMap, BTreeSet};

impl Consumer {
    pub(super) fn request_metadata(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let now = ctx.now;
        if self.metadata_in_flight.is_some() || self.known_brokers.is_empty() {
            return;
        }
        self.metadata_in_flight = Some(now);
        let broker = self.known_brokers[self.next_bootstrap % self.known_brokers.len()];
        self.bootstrap_target = Some(broker);
        ctx.send(
            NodeId::Consumer(cid),
            NodeId::Broker(broker),
            Body::Metadata { topics: Vec::new() },
        );
    }

    pub(super) fn find_coordinator(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let now = ctx.now;
        let Some(group) = self.group().map(str::to_string) else {
            return;
        };
        if self.coordinator.is_some()
            || self.find_in_flight.is_some()
            || self.known_brokers.is_empty()
        {
            return;
        }
        self.find_in_flight = Some(now);
        let broker = self.known_brokers[self.next_bootstrap % self.known_brokers.len()];
        self.bootstrap_target = Some(broker);
        ctx.send(
            NodeId::Consumer(cid),
            NodeId::Broker(broker),
            Body::FindCoordinator { group },
        );
    }

    pub(super) fn on_find_coordinator(
        &mut self,
        ctx: &mut Ctx,
        group: String,
        error: Option<ErrorCode>,
        coordinator: Option<BrokerId>,
    ) {
        let cid = self.id;
        self.find_in_flight = None;
        match (error, coordinator) {
            (None, Some(b)) => {
                self.coordinator = Some(b);
                if self.last_coordinator.replace(b) != Some(b) {
                    ctx.emit(EventKind::CoordinatorFound {
                        consumer: cid,
                        group,
                        broker: b,
                    });
                }
                self.after_coordinator_found(ctx);
            }
            _ => self.retry_coordinator_later(ctx),
        }
    }

    pub(super) fn retry_coordinator_later(&mut self, ctx: &mut Ctx) {
        self.coordinator = None;
        self.next_bootstrap += 1;
        self.schedule_retry(ctx);
    }

    /// One retry at a time, `retry.backoff.ms` from now.
    pub(super) fn schedule_retry(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        if std::mem::replace(&mut self.retry_pending, true) {
            return;
        }
        let (backoff, inc) = (self.config.retry_backoff_ms, self.incarnation);
        ctx.schedule_timer(
            backoff,
            Timer::ConsumerRetry {
                consumer: cid,
                incarnation: inc,
            },
        );
    }

    pub(crate) fn on_retry(&mut self, ctx: &mut Ctx, inc: u32) {
        if self.incarnation != inc || !self.is_running() {
            return;
        }
        self.retry_pending = false;
        self.request_metadata(ctx);
        self.find_coordinator(ctx);
    }

    /// With a coordinator known: resend what waited for it.
    pub(super) fn after_coordinator_found(&mut self, ctx: &mut Ctx) {
        if let Some((commit, offsets)) = self.commit_to_retry.clone() {
            self.send_commit(ctx, commit, offsets);
        }
        if self.is_group_managed() && self.member_state == MemberState::Unjoined {
            self.poll(ctx);
        }
        self.resolve_positions(ctx);
    }

    /// The coordinator moved or died: find it again.
    pub(super) fn coordinator_unknown(&mut self, ctx: &mut Ctx) {
        self.coordinator = None;
        if let AppState::Committing { commit } = self.app {
            // The answer to a blocked commitSync() will not come: resend it later.
            if self.commit_to_retry.is_none() {
                self.commit_to_retry = self.commit_in_flight.take().filter(|(id, _)| *id == commit);
            }
        }
        if matches!(
            self.member_state,
            MemberState::Joining | MemberState::Syncing
        ) {
            self.member_state = MemberState::Unjoined;
            self.group_request_at = None;
        }
        for a in self.assigned.values_mut() {
            if a.position.is_none() {
                a.resolving = false;
            }
        }
        self.retry_coordinator_later(ctx);
    }

    /// Kafka's `ensureActiveGroup`: send JoinGroup. Eager members have already
    /// revoked everything; cooperative ones list what they own.
    pub(super) fn send_join(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let now = ctx.now;
        let (Some(coord), Some(group), Subscription::Topics(topics)) = (
            self.coordinator,
            self.group().map(str::to_string),
            &self.subscription,
        ) else {
            return;
        };
        let topics = topics.clone();
        self.member_state = MemberState::Joining;
        self.group_request_at = Some(now);
        self.needs_rejoin = false;
        let body = Body::JoinGroup(crate::network::JoinGroupRequest {
            group,
            member_id: self.member_id.clone(),
            instance_id: self.config.group_instance_id.clone(),
            protocols: self.config.partition_assignment_strategy.clone(),
            topics,
            owned: self.owned(),
            generation: self.generation,
            session_timeout_ms: self.config.session_timeout_ms,
            rebalance_timeout_ms: self.config.max_poll_interval_ms,
        });
        ctx.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
    }

    /// JoinGroup's answer: a member id and generation, and for the leader
    /// the members' subscriptions, which it assigns before SyncGroup.
    pub(super) fn on_join_response(&mut self, ctx: &mut Ctx, response: JoinGroupResponse) {
        let cid = self.id;
        let JoinGroupResponse {
            error,
            generation,
            member_id,
            leader,
            protocol,
            members,
        } = response;
        if self.member_state != MemberState::Joining {
            return;
        }
        match error {
            None => {}
            Some(ErrorCode::UnknownMemberId) => {
                self.reset_generation(ctx, true);
                return self.send_join(ctx);
            }
            Some(ErrorCode::NotCoordinator) | Some(ErrorCode::CoordinatorNotAvailable) => {
                return self.coordinator_unknown(ctx);
            }
            Some(ErrorCode::InconsistentGroupProtocol) => {
                // Not retriable: poll() throws and the application stops.
                self.status = ConsumerStatus::Failed;
                forget_session(self);
                ctx.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: ErrorCode::InconsistentGroupProtocol.name().into(),
                    message: "its partition.assignment.strategy is not one the group's members already use; the consumer stops.".into(),
                });
                return;
            }
            Some(e) => {
                self.member_state = MemberState::Unjoined;
                ctx.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: e.name().into(),
                    message: "JoinGroup failed; retrying.".into(),
                });
                return self.retry_coordinator_later(ctx);
            }
        }
        self.member_id = Some(member_id.clone());
        self.generation = generation;
        self.leader = member_id == leader;
        self.member_state = MemberState::Syncing;
        let assignments = if self.leader {
            // The leader runs the assignor over the partitions its metadata knows.
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for m in &members {
                for t in &m.topics {
                    let n = self.known_partitions(t);
                    if n > 0 {
                        counts.insert(t.clone(), n);
                    }
                }
            }
            let assignment = assignor::assign(protocol, &counts, &members);
            self.assigned_counts = counts;
            assignment
        } else {
            BTreeMap::new()
        };
        let (Some(coord), Some(group)) = (self.coordinator, self.group().map(str::to_string))
        else {
            return;
        };
        self.group_request_at = Some(ctx.now);
        ctx.send(
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
        ctx: &mut Ctx,
        error: Option<ErrorCode>,
        generation: i32,
        assignment: Vec<TopicPartition>,
    ) {
        if self.member_state != MemberState::Syncing || generation != self.generation {
            return;
        }
        match error {
            None => {
                self.member_state = MemberState::Stable;
                self.group_request_at = None;
                self.needs_rejoin = false;
                self.pending_assignment = Some(assignment);
                if self.app == AppState::Idle {
                    self.poll(ctx);
                }
            }
            Some(ErrorCode::NotCoordinator) | Some(ErrorCode::CoordinatorNotAvailable) => {
                self.coordinator_unknown(ctx)
            }
            Some(ErrorCode::UnknownMemberId) | Some(ErrorCode::IllegalGeneration) => {
                self.reset_generation(ctx, error == Some(ErrorCode::UnknownMemberId));
                self.poll(ctx);
            }
            Some(_) => {
                self.member_state = MemberState::Unjoined;
                self.needs_rejoin = true;
                self.poll(ctx);
            }
        }
    }

    pub(super) fn on_heartbeat_response(&mut self, ctx: &mut Ctx, error: Option<ErrorCode>) {
        if self.member_state != MemberState::Stable {
            return;
        }
        match error {
            None => {}
            Some(ErrorCode::RebalanceInProgress) => {
                self.needs_rejoin = true;
                if self.app == AppState::Idle {
                    self.poll(ctx);
                }
            }
            Some(ErrorCode::NotCoordinator) | Some(ErrorCode::CoordinatorNotAvailable) => {
                self.coordinator_unknown(ctx)
            }
            Some(ErrorCode::UnknownMemberId) | Some(ErrorCode::IllegalGeneration) => {
                self.reset_generation(ctx, error == Some(ErrorCode::UnknownMemberId));
                if self.app == AppState::Idle {
                    self.poll(ctx);
                }
            }
            Some(_) => {}
        }
    }

    /// Kafka's resetGeneration: the member's generation (and, after
    /// UNKNOWN_MEMBER_ID, its member id) is gone, and what it owned is lost,
    /// not revoked: there is no commit.
    pub(super) fn reset_generation(&mut self, ctx: &mut Ctx, forget_member_id: bool) {
        if forget_member_id {
            self.member_id = None;
        }
        self.generation = -1;
        self.member_state = MemberState::Unjoined;
        self.lose_partitions(ctx);
    }

    pub(super) fn lose_partitions(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let key = group_key(self);
        ctx.delivery
            .note_disruption(&key, format!("{cid} was expelled from the group"));
        let lost = self.owned();
        self.assigned.clear();
        self.buffer.clear();
        if !lost.is_empty() {
            ctx.emit(EventKind::PartitionsLost {
                consumer: cid,
                partitions: lost,
            });
        }
    }

    /// The heartbeat thread: heartbeat when stable, give up on requests that
    /// got no answer, leave the group if the application stopped polling.
    pub(crate) fn on_heartbeat_timer(&mut self, ctx: &mut Ctx, inc: u32) {
        let cid = self.id;
        let now = ctx.now;
        if self.incarnation != inc || !self.is_running() {
            return;
        }
        let timeout = self.config.request_timeout_ms;
        let interval = self.config.heartbeat_interval_ms;
        ctx.schedule_timer(
            interval,
            Timer::ConsumerHeartbeat {
                consumer: cid,
                incarnation: inc,
            },
        );
        let stale = |t: Option<SimTime>| t.is_some_and(|t| now.since(t) >= timeout);
        if stale(self.metadata_in_flight) {
            self.metadata_in_flight = None;
            self.next_bootstrap += 1;
        }
        self.fetch_in_flight.retain(|_, t| now.since(*t) < timeout);
        for a in self.assigned.values_mut() {
            if a.resolving_since.is_some_and(|t| now.since(t) >= timeout) {
                a.resolving = false;
                a.resolving_since = None;
            }
        }
        if stale(self.find_in_flight) {
            self.find_in_flight = None;
            self.next_bootstrap += 1;
        }
        let group_stalled = stale(self.group_request_at) || stale(self.commit_sent_at);
        if group_stalled {
            self.commit_sent_at = None;
            self.coordinator_unknown(ctx);
        }
        let polled_too_late = self.is_group_managed()
            && self.member_state == MemberState::Stable
            && now.since(self.last_poll) > self.config.max_poll_interval_ms;
        if polled_too_late {
            // Kafka's heartbeat thread leaves the group for a stuck application.
            // A static member only stops heartbeating: the coordinator
            // removes it after session.timeout.ms.
            let leave = match (
                self.coordinator,
                self.group().map(str::to_string),
                self.member_id.clone(),
            ) {
                (Some(coord), Some(group), Some(member_id))
                    if self.config.group_instance_id.is_none() =>
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
            self.needs_rejoin = true;
            ctx.emit(EventKind::ConsumerError {
                consumer: cid,
                error: "max.poll.interval.ms".into(),
                message: message.into(),
            });
            self.reset_generation(ctx, true);
            if let Some((coord, body)) = leave {
                ctx.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
            }
        }
        if self.member_state == MemberState::Stable {
            if let (Some(coord), Some(group), Some(member_id)) = (
                self.coordinator,
                self.group().map(str::to_string),
                self.member_id.clone(),
            ) {
                let generation = self.generation;
                ctx.send(
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
        if self.metadata_in_flight.is_none() {
            self.request_metadata(ctx);
        }
        self.find_coordinator(ctx);
        self.resolve_positions(ctx);
        self.fetch(ctx);
        if self.app == AppState::Idle {
            self.poll(ctx);
        }
    }

    /// Gives up `only` (or everything): drop buffered records and positions.
    pub(super) fn revoke(&mut self, ctx: &mut Ctx, only: Option<&BTreeSet<TopicPartition>>) {
        let cid = self.id;
        let revoked: Vec<TopicPartition> = self
            .assigned
            .keys()
            .filter(|tp| only.is_none_or(|o| o.contains(*tp)))
            .cloned()
            .collect();
        for tp in &revoked {
            self.assigned.remove(tp);
        }
        self.buffer.retain(|tp, _| self.assigned.contains_key(tp));
        ctx.emit(EventKind::PartitionsRevoked {
            consumer: cid,
            partitions: revoked,
        });
    }

    /// Takes up a SyncGroup assignment on the application thread. Cooperative
    /// members revoke only what moved, then rejoin for a second round.
    pub(super) fn apply_assignment(&mut self, ctx: &mut Ctx, assignment: Vec<TopicPartition>) {
        let cid = self.id;
        let new: BTreeSet<TopicPartition> = assignment.into_iter().collect();
        let revoked: BTreeSet<TopicPartition> = self
            .assigned
            .keys()
            .filter(|tp| !new.contains(*tp))
            .cloned()
            .collect();
        let added: Vec<TopicPartition> = new
            .iter()
            .filter(|tp| !self.assigned.contains_key(*tp))
            .cloned()
            .collect();
        let generation = self.generation;
        if !revoked.is_empty() {
            if self.config.enable_auto_commit {
                let offsets: Vec<(TopicPartition, u64)> = self
                    .positions()
                    .into_iter()
                    .filter(|(tp, _)| revoked.contains(tp))
                    .collect();
                if !offsets.is_empty() {
                    let commit = self.next_commit;
                    self.next_commit += 1;
                    self.send_commit(ctx, commit, offsets);
                }
            }
            self.revoke(ctx, Some(&revoked));
            // KIP-429: a member that gave partitions up rejoins at once.
            self.needs_rejoin = true;
        }
        for tp in &added {
            self.assigned.insert(tp.clone(), fresh_assigned());
        }
        ctx.emit(EventKind::PartitionsAssigned {
            consumer: cid,
            generation,
            partitions: added,
        });
        self.resolve_positions(ctx);
    }
}
