//! Consumers: Kafka's `KafkaConsumer` with its group membership (classic
//! protocol, eager or cooperative), fetching from partition leaders up to
//! the high watermark, committed offsets and `auto.offset.reset`, and an
//! application loop that polls, processes and commits, so the simulator can
//! show at-least-once duplicates and at-most-once gaps.

use crate::assignor::{self, MemberSubscription};
use crate::cluster::Cluster;
use crate::config::{AutoOffsetReset, ConsumerConfig, ManualCommit};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::{Event, EventKind};
use crate::ids::{BrokerId, ConsumerId, NodeId, SimTime, TopicPartition};
use crate::log::Record;
use crate::network::{Body, ConsumerFetchPartition, FetchedData, OffsetSpec, PartitionMetadata};
use crate::timer::Timer;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How a consumer chooses its partitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subscription {
    /// `subscribe(topics)`: the group assigns partitions and rebalances.
    Topics(Vec<String>),
    /// `assign(partitions)`: fixed partitions, no group membership.
    Partitions(Vec<TopicPartition>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerStatus {
    Running,
    Crashed,
    Closed,
    /// Stopped by an error the client raises to the application.
    Failed,
}

/// Where a group member is in the join / sync cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    Unjoined,
    Joining,
    Syncing,
    Stable,
}

/// One assigned partition, from the consumer's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assigned {
    /// Next offset `poll()` returns; `None` until the committed offset (or a reset) is known.
    pub position: Option<u64>,
    /// Next offset to fetch (ahead of `position` by what is buffered).
    pub fetch_position: Option<u64>,
    pub high_watermark: u64,
    /// Asked the coordinator or the leader for a starting offset.
    pub resolving: bool,
    /// That request is a seek to the beginning or end, not a reset.
    pub seeking: bool,
    /// That reset follows OFFSET_OUT_OF_RANGE, not a missing commit.
    pub out_of_range: bool,
    /// When that request was sent; `None` while waiting for the user (reset
    /// policy `none`). An answer lost with its broker is asked again.
    pub resolving_since: Option<SimTime>,
    /// `pause()`d: not fetched, and `poll()` returns none of its records
    /// (those already fetched wait for `resume()`). A fresh assignment of
    /// the partition starts unpaused, as in Kafka.
    #[serde(default)]
    pub paused: bool,
}

/// Processed records a consumer remembers; older ones are only counted.
/// Enough that the invariants see every record processed by any single
/// event.
pub const PROCESSED_KEPT: usize = 2_000;

/// A record the application processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processed {
    pub tp: TopicPartition,
    pub offset: u64,
    pub record: crate::ids::RecordId,
    pub at: SimTime,
    /// The group had processed this offset before.
    pub again: bool,
    /// A crash, rebalance, seek or failed commit happened in the group since
    /// the earlier processing: what makes a duplicate legitimate.
    pub explained: bool,
    /// See `Consumer::runs`.
    pub run: u32,
}

/// What the application thread is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AppState {
    Idle,
    Processing,
    /// Blocked in `commitSync()`.
    Committing {
        commit: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    pub id: ConsumerId,
    pub config: ConsumerConfig,
    pub subscription: Subscription,
    pub status: ConsumerStatus,
    pub incarnation: u32,
    pub known_brokers: Vec<BrokerId>,
    pub next_bootstrap: usize,
    pub metadata: BTreeMap<TopicPartition, PartitionMetadata>,
    /// The leader each partition was last found at. Unlike `metadata` it
    /// survives an error that invalidates the entry, so the next refresh
    /// can tell that leadership moved.
    #[serde(default)]
    pub routes: BTreeMap<TopicPartition, BrokerId>,
    pub metadata_in_flight: Option<SimTime>,
    pub coordinator: Option<BrokerId>,
    pub find_in_flight: Option<SimTime>,
    pub member_id: Option<String>,
    pub generation: i32,
    pub member_state: MemberState,
    /// When the current JoinGroup or SyncGroup was sent.
    pub group_request_at: Option<SimTime>,
    pub leader: bool,
    pub needs_rejoin: bool,
    /// An assignment from SyncGroup waiting for the application thread.
    pub pending_assignment: Option<Vec<TopicPartition>>,
    pub assigned: BTreeMap<TopicPartition, Assigned>,
    pub fetch_in_flight: BTreeMap<BrokerId, SimTime>,
    /// Fetched records not yet returned by `poll()`, per partition.
    pub buffer: BTreeMap<TopicPartition, Fetched>,
    /// Records `poll()` returned, not yet processed.
    pub in_hand: VecDeque<Polled>,
    pub app: AppState,
    /// What the application continues with after a blocking commit.
    pub after_commit: AfterCommit,
    pub next_commit: u64,
    /// A commit waiting for the coordinator to be found again.
    pub commit_to_retry: Option<(u64, Vec<(TopicPartition, u64)>)>,
    /// The last commit sent, kept so a blocked `commitSync()` can resend it.
    pub commit_in_flight: Option<(u64, Vec<(TopicPartition, u64)>)>,
    pub commit_sent_at: Option<SimTime>,
    pub last_auto_commit: SimTime,
    pub last_poll: SimTime,
    /// The last `PROCESSED_KEPT` records processed, oldest first.
    pub processed: std::collections::VecDeque<Processed>,
    /// Records processed since the consumer was created.
    pub processed_total: usize,
    /// Of those, records its group had processed before.
    pub duplicates: usize,
    /// The record at the front of `in_hand` is being processed (timer set).
    pub processing: bool,
    /// Per partition, a counter bumped whenever the position is set from
    /// outside the fetch loop (committed offset, reset, seek): within one
    /// run, processed offsets must be contiguous.
    pub runs: BTreeMap<TopicPartition, u32>,
    /// The broker the last Metadata / FindCoordinator went to.
    pub bootstrap_target: Option<BrokerId>,
    /// A `ConsumerRetry` timer is set (`retry.backoff.ms`).
    pub retry_pending: bool,
    /// The coordinator last found, to report only changes.
    pub last_coordinator: Option<BrokerId>,
    /// What its processing is tallied under: its group, or itself.
    pub group_key: String,
    /// `group.id`, shared with the events that name it.
    pub group_name: Option<std::sync::Arc<str>>,
    /// As group leader: the partition count per topic it last assigned.
    pub assigned_counts: BTreeMap<String, u32>,
}

/// A record `poll()` returned, with what the invariants need to know about
/// the moment it was polled.
/// Records fetched for one partition, not yet returned by `poll()`: the
/// fetch responses' batches, shared with the leader's log (Kafka's
/// `CompletedFetch` queue).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    batches: VecDeque<crate::log::Records>,
    /// How many records of the first batch were returned already.
    taken: usize,
    len: usize,
}

impl Fetched {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, records: &crate::log::Batches) {
        self.batches.extend(records.batches().iter().cloned());
        self.len += records.len();
    }

    /// Takes the next record, handing `f` a look at it.
    fn pop_front<T>(&mut self, f: impl FnOnce(&Record) -> T) -> Option<T> {
        let batch = self.batches.front()?;
        let record = f(&batch[self.taken]);
        self.taken += 1;
        self.len -= 1;
        if self.taken == batch.len() {
            self.batches.pop_front();
            self.taken = 0;
        }
        Some(record)
    }

    fn clear(&mut self) {
        *self = Fetched::default();
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Polled {
    pub tp: TopicPartition,
    pub offset: u64,
    pub record: crate::ids::RecordId,
    /// For the `RecordProcessed` event. Tallying needs no value, so none is
    /// copied.
    pub key: Option<crate::log::Text>,
    /// See `Consumer::runs`.
    pub run: u32,
    /// The group's disruption count when it was polled.
    pub disruptions: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterCommit {
    Poll,
    Process,
    /// Eager rebalance: revoke everything, then join.
    Join,
}

impl Consumer {
    /// How many partitions of `topic` this consumer's metadata knows.
    pub fn known_partitions(&self, topic: &str) -> u32 {
        self.metadata
            .keys()
            .filter(|tp| &*tp.topic == topic)
            .map(|tp| tp.partition + 1)
            .max()
            .unwrap_or(0)
    }

    fn group(&self) -> Option<&str> {
        self.config.group_id.as_deref()
    }
    fn is_group_managed(&self) -> bool {
        matches!(self.subscription, Subscription::Topics(_))
    }
    fn is_running(&self) -> bool {
        self.status == ConsumerStatus::Running
    }
    fn leader_of(&self, tp: &TopicPartition) -> Option<(BrokerId, u32)> {
        let m = self.metadata.get(tp)?;
        Some((m.leader?, m.leader_epoch))
    }
    /// Offsets to commit: the position of every partition that has one.
    fn positions(&self) -> Vec<(TopicPartition, u64)> {
        self.assigned
            .iter()
            .filter_map(|(tp, a)| Some((tp.clone(), a.position?)))
            .collect()
    }
    fn owned(&self) -> Vec<TopicPartition> {
        self.assigned.keys().cloned().collect()
    }
}

impl Cluster {
    fn existing_consumer(&self, id: u32) -> Result<ConsumerId> {
        let c = ConsumerId(id);
        if self.consumers.contains_key(&c) {
            Ok(c)
        } else {
            Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("There is no consumer {id}."),
            ))
        }
    }

    /// The consumer `id`, if it exists and runs.
    fn running_consumer(&self, id: u32) -> Result<ConsumerId> {
        let cid = self.existing_consumer(id)?;
        if self.consumers[&cid].is_running() {
            Ok(cid)
        } else {
            Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{cid} is not running."),
            ))
        }
    }

    pub(crate) fn create_consumer(
        &mut self,
        id: Option<u32>,
        config: ConsumerConfig,
        subscription: Subscription,
    ) -> Result<()> {
        let id = match id {
            Some(id) => id,
            None => self.consumers.keys().map(|c| c.0 + 1).max().unwrap_or(1),
        };
        if self.consumers.contains_key(&ConsumerId(id)) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("Consumer {id} already exists."),
            ));
        }
        if self.consumers.len() >= 64 {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "This simulator runs at most 64 consumers.",
            ));
        }
        validate_consumer(&config, &subscription, |t| {
            self.controller.topics.contains_key(t)
        })?;
        let cid = ConsumerId(id);
        let group_key = config.group_id.clone().unwrap_or_else(|| cid.to_string());
        let known_brokers = self.brokers.keys().copied().collect();
        let group = config.group_id.clone();
        self.consumers.insert(
            cid,
            Consumer {
                id: cid,
                config,
                subscription,
                status: ConsumerStatus::Running,
                incarnation: 0,
                known_brokers,
                next_bootstrap: 0,
                metadata: BTreeMap::new(),
                routes: BTreeMap::new(),
                metadata_in_flight: None,
                coordinator: None,
                find_in_flight: None,
                member_id: None,
                generation: -1,
                member_state: MemberState::Unjoined,
                group_request_at: None,
                leader: false,
                needs_rejoin: false,
                pending_assignment: None,
                assigned: BTreeMap::new(),
                fetch_in_flight: BTreeMap::new(),
                buffer: BTreeMap::new(),
                in_hand: VecDeque::new(),
                app: AppState::Idle,
                after_commit: AfterCommit::Poll,
                next_commit: 0,
                commit_to_retry: None,
                commit_in_flight: None,
                commit_sent_at: None,
                last_auto_commit: self.now,
                last_poll: self.now,
                processed: Default::default(),
                processed_total: 0,
                duplicates: 0,
                processing: false,
                runs: BTreeMap::new(),
                bootstrap_target: None,
                retry_pending: false,
                last_coordinator: None,
                group_key,
                group_name: group.as_deref().map(Into::into),
                assigned_counts: BTreeMap::new(),
            },
        );
        self.emit(EventKind::ConsumerCreated {
            consumer: cid,
            group,
        });
        self.start_consumer(cid);
        Ok(())
    }

    fn start_consumer(&mut self, cid: ConsumerId) {
        let now = self.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.status = ConsumerStatus::Running;
        c.incarnation += 1;
        c.last_auto_commit = now;
        c.last_poll = now;
        let inc = c.incarnation;
        let heartbeat = c.config.heartbeat_interval_ms;
        if let Subscription::Partitions(tps) = &c.subscription {
            c.assigned = tps
                .iter()
                .map(|tp| (tp.clone(), fresh_assigned()))
                .collect();
        }
        self.schedule_timer(
            heartbeat,
            Timer::ConsumerHeartbeat {
                consumer: cid,
                incarnation: inc,
            },
        );
        self.consumer_request_metadata(cid);
        self.consumer_find_coordinator(cid);
        if !self.consumers[&cid].is_group_managed() {
            let tps = self.consumers[&cid].owned();
            self.emit(EventKind::PartitionsAssigned {
                consumer: cid,
                generation: -1,
                partitions: tps,
            });
            self.resolve_positions(cid);
        }
    }

    pub(crate) fn crash_consumer(&mut self, id: u32) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.status = ConsumerStatus::Crashed;
        forget_session(c);
        let key = group_key(c);
        self.note_disruption(&key, format!("{cid} crashed before committing"));
        self.emit(EventKind::ConsumerCrashed { consumer: cid });
        Ok(())
    }

    /// Starts a crashed or closed consumer again with the same configuration;
    /// a static member keeps its `group.instance.id`.
    pub(crate) fn restart_consumer(&mut self, id: u32) -> Result<()> {
        let cid = self.existing_consumer(id)?;
        if self.consumers[&cid].is_running() {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{cid} is already running."),
            ));
        }
        self.emit(EventKind::ConsumerRestarted { consumer: cid });
        self.start_consumer(cid);
        Ok(())
    }

    /// `commitAsync()` of the current positions. Kafka refuses it for a
    /// consumer without `group.id`; with nothing consumed yet it commits
    /// nothing.
    pub(crate) fn commit_consumer(&mut self, id: u32) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = &self.consumers[&cid];
        if c.group().is_none() {
            return Err(no_group_id());
        }
        let offsets = c.positions();
        if offsets.is_empty() {
            return Ok(());
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        let commit = c.next_commit;
        c.next_commit += 1;
        self.send_commit(cid, commit, offsets);
        Ok(())
    }

    /// `consumer.pause(consumer.assignment())` (`pause: true`) or
    /// `resume()`: a paused partition is not fetched and `poll()` returns
    /// none of its records, while the consumer goes on polling, so it keeps
    /// its place in the group.
    pub(crate) fn pause_consumer(&mut self, id: u32, pause: bool) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let partitions: Vec<TopicPartition> = c
            .assigned
            .iter_mut()
            .filter(|(_, a)| a.paused != pause)
            .map(|(tp, a)| {
                a.paused = pause;
                tp.clone()
            })
            .collect();
        self.emit(EventKind::ConsumerPaused {
            consumer: cid,
            paused: pause,
            partitions,
        });
        if !pause {
            self.consumer_fetch(cid);
            if self.consumers[&cid].app == AppState::Idle {
                self.consumer_poll(cid);
            }
        }
        Ok(())
    }

    /// How long the simulated application takes per record
    /// (`processing.ms`, the simulator's; not a Kafka setting), from the
    /// next record on.
    pub(crate) fn set_consumer_processing(&mut self, id: u32, processing_ms: u64) -> Result<()> {
        let cid = self.existing_consumer(id)?;
        if processing_ms > MAX_PROCESSING_MS {
            return Err(KafkaError::new(
                ErrorCode::InvalidConfig,
                format!("The simulator's processing.ms is at most {MAX_PROCESSING_MS} ms (10 minutes); {processing_ms} was given."),
            ));
        }
        self.consumers
            .get_mut(&cid)
            .expect("exists")
            .config
            .processing_ms = processing_ms;
        self.emit(EventKind::ConsumerProcessingSet {
            consumer: cid,
            processing_ms,
        });
        Ok(())
    }

    /// `consumer.close()`: commit if auto-commit is on, leave the group.
    pub(crate) fn close_consumer(&mut self, id: u32) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = &self.consumers[&cid];
        if let (Some(group), Some(coord)) = (c.group().map(str::to_string), c.coordinator) {
            let commit = (c.config.enable_auto_commit && c.member_state == MemberState::Stable)
                .then(|| Body::OffsetCommit {
                    group: group.clone(),
                    generation: c.generation,
                    member_id: c.member_id.clone().unwrap_or_default(),
                    offsets: c.positions(),
                    commit: u64::MAX,
                });
            // Static members stay in the group until their session times out.
            let leave = c
                .member_id
                .clone()
                .filter(|_| c.config.group_instance_id.is_none())
                .map(|member_id| Body::LeaveGroup { group, member_id });
            for body in commit.into_iter().chain(leave) {
                self.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
            }
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.status = ConsumerStatus::Closed;
        forget_session(c);
        let key = group_key(c);
        self.note_disruption(&key, format!("{cid} closed"));
        self.emit(EventKind::ConsumerClosed { consumer: cid });
        Ok(())
    }

    /// `seek`, `seekToBeginning`, `seekToEnd` on an assigned partition.
    pub(crate) fn seek_consumer(&mut self, id: u32, tp: TopicPartition, to: SeekTo) -> Result<()> {
        let cid = self.existing_consumer(id)?;
        let c = self.consumers.get_mut(&cid).expect("exists");
        if !c.assigned.contains_key(&tp) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("No current assignment for partition {tp}: {cid} can only seek partitions it owns."),
            ));
        }
        c.buffer.remove(&tp);
        let key = group_key(c);
        self.note_disruption(&key, format!("{cid} moved its position with seek"));
        let c = self.consumers.get_mut(&cid).expect("exists");
        let a = c.assigned.get_mut(&tp).expect("checked");
        match to {
            SeekTo::Offset(o) => {
                a.position = Some(o);
                a.fetch_position = Some(o);
                a.out_of_range = false;
                *c.runs.entry(tp.clone()).or_default() += 1;
                self.emit(EventKind::PositionSeeked {
                    consumer: cid,
                    tp,
                    offset: o,
                });
                self.consumer_fetch(cid);
            }
            SeekTo::Beginning | SeekTo::End => {
                a.position = None;
                a.fetch_position = None;
                a.resolving = true;
                a.resolving_since = Some(self.now);
                a.seeking = true;
                let spec = if to == SeekTo::Beginning {
                    OffsetSpec::Earliest
                } else {
                    OffsetSpec::Latest
                };
                self.list_offsets(cid, tp, spec);
            }
        }
        Ok(())
    }

    fn consumer_request_metadata(&mut self, cid: ConsumerId) {
        let now = self.now;
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

    fn consumer_find_coordinator(&mut self, cid: ConsumerId) {
        let now = self.now;
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

    pub(crate) fn consumer_receive(&mut self, cid: ConsumerId, from: NodeId, body: Body) {
        if !self.consumers.get(&cid).is_some_and(|c| c.is_running()) {
            return;
        }
        let NodeId::Broker(broker) = from else {
            return;
        };
        match body {
            Body::MetadataResponse {
                brokers,
                partitions,
            } => {
                let c = self.consumers.get_mut(&cid).expect("exists");
                c.metadata_in_flight = None;
                if !brokers.is_empty() {
                    c.known_brokers = brokers;
                }
                let mut moved = Vec::new();
                for m in partitions {
                    if let Some(to) = m.leader {
                        match c.routes.insert(m.tp.clone(), to) {
                            Some(from) if from != to && c.assigned.contains_key(&m.tp) => {
                                moved.push((m.tp.clone(), to, from))
                            }
                            _ => {}
                        }
                    }
                    c.metadata.insert(m.tp.clone(), m);
                }
                self.emit_leader_moves(NodeId::Consumer(cid), moved);
                let c = self.consumers.get_mut(&cid).expect("exists");
                // Kafka's leader rejoins when a subscribed topic's partition
                // count differs from what it assigned.
                if c.leader && c.member_state == MemberState::Stable {
                    let changed = c
                        .assigned_counts
                        .iter()
                        .any(|(t, n)| c.known_partitions(t) > *n);
                    if changed {
                        c.needs_rejoin = true;
                    }
                }
                self.resolve_positions(cid);
                self.consumer_fetch(cid);
                if self.consumers[&cid].app == AppState::Idle {
                    self.consumer_poll(cid);
                }
            }
            Body::FindCoordinatorResponse {
                group,
                error,
                coordinator,
            } => self.on_find_coordinator(cid, group, error, coordinator),
            Body::JoinGroupResponse {
                error,
                generation,
                member_id,
                leader,
                protocol,
                members,
            } => {
                self.on_join_response(cid, error, generation, member_id, leader, protocol, members)
            }
            Body::SyncGroupResponse {
                error,
                generation,
                assignment,
            } => self.on_sync_response(cid, error, generation, assignment),
            Body::HeartbeatResponse { error } => self.on_heartbeat_response(cid, error),
            Body::OffsetCommitResponse {
                commit,
                error,
                offsets,
            } => self.on_commit_response(cid, commit, error, offsets),
            Body::OffsetFetchResponse { error, offsets } => {
                self.on_offset_fetch_response(cid, error, offsets)
            }
            Body::ListOffsetsResponse { tp, error, offset } => {
                self.on_list_offsets_response(cid, tp, error, offset)
            }
            Body::FetchResponse { partitions } => {
                self.on_consumer_fetch_response(cid, broker, partitions)
            }
            _ => {}
        }
    }

    fn on_find_coordinator(
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

    fn retry_coordinator_later(&mut self, cid: ConsumerId) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.coordinator = None;
        c.next_bootstrap += 1;
        self.schedule_consumer_retry(cid);
    }

    /// One retry at a time, `retry.backoff.ms` from now.
    fn schedule_consumer_retry(&mut self, cid: ConsumerId) {
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
    fn after_coordinator_found(&mut self, cid: ConsumerId) {
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
    fn coordinator_unknown(&mut self, cid: ConsumerId) {
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
    fn send_join(&mut self, cid: ConsumerId) {
        let now = self.now;
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
        let body = Body::JoinGroup {
            group,
            member_id: c.member_id.clone(),
            instance_id: c.config.group_instance_id.clone(),
            protocol: c.config.partition_assignment_strategy,
            topics,
            owned: c.owned(),
            generation: c.generation,
            session_timeout_ms: c.config.session_timeout_ms,
            rebalance_timeout_ms: c.config.max_poll_interval_ms,
        };
        self.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_join_response(
        &mut self,
        cid: ConsumerId,
        error: Option<ErrorCode>,
        generation: i32,
        member_id: String,
        leader: String,
        protocol: assignor::AssignorKind,
        members: Vec<MemberSubscription>,
    ) {
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
        c.group_request_at = Some(self.now);
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

    fn on_sync_response(
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

    fn on_heartbeat_response(&mut self, cid: ConsumerId, error: Option<ErrorCode>) {
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
    fn reset_generation(&mut self, cid: ConsumerId, forget_member_id: bool) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if forget_member_id {
            c.member_id = None;
        }
        c.generation = -1;
        c.member_state = MemberState::Unjoined;
        self.lose_partitions(cid);
    }

    fn lose_partitions(&mut self, cid: ConsumerId) {
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
        let now = self.now;
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

    /// The application thread calls `poll()`: apply a new assignment, rejoin
    /// if asked, auto-commit when due, then take records to process.
    pub(crate) fn consumer_poll(&mut self, cid: ConsumerId) {
        let now = self.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if !c.is_running() || c.app != AppState::Idle {
            return;
        }
        c.last_poll = now;
        if let Some(assignment) = c.pending_assignment.take() {
            self.apply_assignment(cid, assignment);
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.app != AppState::Idle {
            return;
        }
        let wants_join = c.is_group_managed()
            && c.coordinator.is_some()
            && (c.needs_rejoin || c.member_state == MemberState::Unjoined);
        if wants_join {
            let cooperative = c.config.partition_assignment_strategy.is_cooperative();
            if !cooperative && !c.assigned.is_empty() {
                // Eager: commit (auto-commit only) and revoke everything first.
                if c.config.enable_auto_commit && c.generation >= 0 {
                    let offsets = c.positions();
                    return self.commit_sync(cid, offsets, AfterCommit::Join);
                }
                self.revoke(cid, None);
            }
            self.send_join(cid);
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.config.enable_auto_commit
            && now.since(c.last_auto_commit) >= c.config.auto_commit_interval_ms
            && (c.member_state == MemberState::Stable || !c.is_group_managed())
            && c.group().is_some()
        {
            c.last_auto_commit = now;
            let offsets = c.positions();
            if !offsets.is_empty() {
                let commit = c.next_commit;
                c.next_commit += 1;
                self.send_commit(cid, commit, offsets);
            }
        }
        let disruptions = self
            .group_disruptions
            .get(&self.consumers[&cid].group_key)
            .map_or(0, |d| d.0);
        let c = self.consumers.get_mut(&cid).expect("exists");
        let max = c.config.max_poll_records as usize;
        let buffered: usize = c.buffer.values().map(Fetched::len).sum();
        let mut batch = VecDeque::with_capacity(buffered.min(max));
        // Like Kafka's fetcher: drain one partition's fetched records, then the next.
        for (tp, records) in c.buffer.iter_mut() {
            let Some(a) = c.assigned.get_mut(tp) else {
                records.clear();
                continue;
            };
            if a.paused {
                continue;
            }
            let run = c.runs.get(tp).copied().unwrap_or(0);
            while batch.len() < max {
                let Some(polled) = records.pop_front(|r| {
                    // Stale when a seek or reset moved the position.
                    (a.position == Some(r.offset)).then(|| Polled {
                        tp: tp.clone(),
                        offset: r.offset,
                        record: r.id,
                        key: r.key.clone(),
                        run,
                        disruptions,
                    })
                }) else {
                    break;
                };
                if let Some(p) = polled {
                    a.position = Some(p.offset + 1);
                    batch.push_back(p);
                }
            }
        }
        c.buffer.retain(|_, records| !records.is_empty());
        if batch.is_empty() {
            self.consumer_fetch(cid);
            return;
        }
        c.in_hand = batch;
        let before = !c.config.enable_auto_commit
            && c.config.manual_commit == ManualCommit::BeforeProcessing
            && c.group().is_some();
        if before {
            let offsets = c.positions();
            self.commit_sync(cid, offsets, AfterCommit::Process);
        } else {
            c.app = AppState::Processing;
            self.process_next(cid);
        }
        self.consumer_fetch(cid);
    }

    /// Processes the records in hand, one per `processing.ms`.
    fn process_next(&mut self, cid: ConsumerId) {
        loop {
            let c = self.consumers.get_mut(&cid).expect("exists");
            if c.in_hand.is_empty() {
                c.app = AppState::Idle;
                let after = !c.config.enable_auto_commit
                    && c.config.manual_commit == ManualCommit::AfterProcessing
                    && c.group().is_some();
                if after {
                    let offsets = c.positions();
                    self.commit_sync(cid, offsets, AfterCommit::Poll);
                } else {
                    self.consumer_poll(cid);
                }
                return;
            }
            let ms = c.config.processing_ms;
            if ms > 0 && c.app != AppState::Processing {
                return;
            }
            if ms > 0 && !c.processing_started() {
                c.mark_processing_started();
                let inc = c.incarnation;
                self.schedule_timer(
                    ms,
                    Timer::ConsumerProcessed {
                        consumer: cid,
                        incarnation: inc,
                    },
                );
                return;
            }
            if ms == 0 {
                // Nothing happens between records processed in no time: the
                // whole poll is handled at once.
                let polled = std::mem::take(&mut c.in_hand);
                self.records_processed(cid, polled);
            } else {
                let polled = c.in_hand.pop_front().expect("not empty");
                c.clear_processing_started();
                self.records_processed(cid, std::iter::once(polled));
            }
        }
    }

    pub(crate) fn on_consumer_processed(&mut self, cid: ConsumerId, inc: u32) {
        if self.consumers.get(&cid).is_some_and(|c| {
            c.incarnation == inc && c.is_running() && c.app == AppState::Processing
        }) {
            self.process_next(cid);
        }
    }

    /// The application has processed `polled`, in order: each record is
    /// tallied against what its group processed before, so a repeat is
    /// reported with what explains it.
    fn records_processed(&mut self, cid: ConsumerId, polled: impl IntoIterator<Item = Polled>) {
        let now = self.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        let generation = c.generation;
        let (disruptions, last) = self
            .group_disruptions
            .get(&c.group_key)
            .map_or((0, ""), |d| (d.0, d.1.as_str()));
        let by_tp = match self.processed_by_group.get_mut(&c.group_key) {
            Some(m) => m,
            None => self
                .processed_by_group
                .entry(c.group_key.clone())
                .or_default(),
        };
        let starts = self.consumption_start.get(&c.group_key);
        // A poll drains one partition, then the next: look each run's
        // tally up once, and bring its watermark forward when it ends.
        let mut current: Option<(TopicPartition, &mut GroupTally)> = None;
        for polled in polled {
            let Polled {
                tp,
                offset,
                record,
                key,
                run,
                disruptions: at_poll,
            } = polled;
            if current.as_ref().is_none_or(|(run_tp, _)| *run_tp != tp) {
                if let Some((run_tp, tally)) = current.take() {
                    tally.advance_from_start(starts, &run_tp);
                }
                let tally = match by_tp.get_mut(&tp) {
                    Some(v) => v,
                    None => by_tp.entry(tp.clone()).or_default(),
                };
                current = Some((tp.clone(), tally));
            }
            let tally = &mut current.as_mut().expect("set above").1;
            let duplicated = &mut tally.duplicated;
            let t = tally.by_offset.entry(offset);
            if t.count > 0 && t.record != record {
                // A different record now sits at this offset (the log was
                // truncated and rewritten): not a repeat of the old one.
                *t = Tally::default();
                if !duplicated.is_empty() {
                    duplicated.remove(&offset);
                }
            }
            t.count = t.count.saturating_add(1);
            let again = t.count > 1;
            if again {
                duplicated.insert(offset);
            }
            let zombie = t.consumer != cid && t.generation != generation;
            let earlier = (t.consumer, t.generation);
            let disrupted = disruptions > t.disruptions;
            let explained = again && (disrupted || zombie);
            let zombie_only = zombie && !disrupted;
            // Compare with the moment this copy was polled: a seek or crash
            // after the poll explains a later repeat.
            *t = Tally {
                count: t.count,
                record,
                disruptions: at_poll,
                consumer: cid,
                generation,
            };
            let why = again.then(|| why_again(last, (explained, zombie, zombie_only), earlier));
            if c.processed.len() == PROCESSED_KEPT {
                c.processed.pop_front();
            }
            c.processed.push_back(Processed {
                tp: tp.clone(),
                offset,
                record,
                at: now,
                again,
                explained,
                run,
            });
            c.processed_total += 1;
            c.duplicates += usize::from(again);
            self.out.push(Event {
                time: now,
                kind: EventKind::RecordProcessed {
                    consumer: cid,
                    tp,
                    offset,
                    record,
                    key,
                    again: why,
                },
            });
        }
        if let Some((run_tp, tally)) = current {
            tally.advance_from_start(starts, &run_tp);
        }
    }

    /// Something that can make a group process records again: a crash, a
    /// rebalance, a seek, a failed commit, a coordinator move.
    pub(crate) fn note_disruption(&mut self, group: &str, reason: String) {
        let entry = self
            .group_disruptions
            .entry(group.to_string())
            .or_insert((0, String::new()));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = reason;
    }

    /// `commitSync(offsets)`: the application waits for the answer.
    fn commit_sync(
        &mut self,
        cid: ConsumerId,
        offsets: Vec<(TopicPartition, u64)>,
        then: AfterCommit,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if offsets.is_empty() || c.group().is_none() {
            return self.after_commit(cid, then);
        }
        if c.is_group_managed() && c.member_state != MemberState::Stable {
            // Kafka's generationIfStable: the client refuses to commit mid-rebalance.
            self.emit(EventKind::CommitFailed {
                consumer: cid,
                error: ErrorCode::RebalanceInProgress,
            });
            return self.after_commit(cid, then);
        }
        let commit = c.next_commit;
        c.next_commit += 1;
        c.app = AppState::Committing { commit };
        c.after_commit = then;
        self.send_commit(cid, commit, offsets);
    }

    fn send_commit(&mut self, cid: ConsumerId, commit: u64, offsets: Vec<(TopicPartition, u64)>) {
        let now = self.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let Some(group) = c.group().map(str::to_string) else {
            return;
        };
        let Some(coord) = c.coordinator else {
            c.commit_to_retry = Some((commit, offsets));
            return;
        };
        c.commit_to_retry = None;
        c.commit_sent_at = Some(now);
        c.commit_in_flight = Some((commit, offsets.clone()));
        let (generation, member_id) = if c.is_group_managed() {
            (c.generation, c.member_id.clone().unwrap_or_default())
        } else {
            (-1, String::new())
        };
        self.send(
            NodeId::Consumer(cid),
            NodeId::Broker(coord),
            Body::OffsetCommit {
                group,
                generation,
                member_id,
                offsets,
                commit,
            },
        );
    }

    fn on_commit_response(
        &mut self,
        cid: ConsumerId,
        commit: u64,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, u64)>,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.commit_sent_at = None;
        let blocking = c.app == AppState::Committing { commit };
        match error {
            None => {}
            Some(e @ (ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable)) => {
                if blocking {
                    // commitSync retries once the coordinator is found again.
                    c.commit_to_retry = Some((commit, offsets));
                } else {
                    self.emit(EventKind::CommitFailed {
                        consumer: cid,
                        error: e,
                    });
                }
                return self.coordinator_unknown(cid);
            }
            Some(e) => {
                // CommitFailedException: the group moved on; rejoin.
                let key = group_key(&self.consumers[&cid]);
                self.note_disruption(&key, format!("a commit by {cid} failed with {e}"));
                self.emit(EventKind::CommitFailed {
                    consumer: cid,
                    error: e,
                });
                let c = self.consumers.get_mut(&cid).expect("exists");
                c.needs_rejoin = true;
                if matches!(e, ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration)
                    && c.is_group_managed()
                {
                    self.reset_generation(cid, e == ErrorCode::UnknownMemberId);
                }
            }
        }
        if blocking {
            let then = self.consumers[&cid].after_commit;
            let c = self.consumers.get_mut(&cid).expect("exists");
            c.app = AppState::Idle;
            self.after_commit(cid, then);
        }
    }

    fn after_commit(&mut self, cid: ConsumerId, then: AfterCommit) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        match then {
            AfterCommit::Poll => {
                c.app = AppState::Idle;
                self.consumer_poll(cid)
            }
            AfterCommit::Process => {
                c.app = AppState::Processing;
                self.process_next(cid)
            }
            AfterCommit::Join => {
                c.app = AppState::Idle;
                self.revoke(cid, None);
                self.send_join(cid);
                self.consumer_poll(cid);
            }
        }
    }

    /// Gives up `only` (or everything): drop buffered records and positions.
    fn revoke(&mut self, cid: ConsumerId, only: Option<&BTreeSet<TopicPartition>>) {
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
    fn apply_assignment(&mut self, cid: ConsumerId, assignment: Vec<TopicPartition>) {
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

    /// Partitions without a position ask the coordinator for the committed
    /// offset (or, without a group, go straight to `auto.offset.reset`).
    fn resolve_positions(&mut self, cid: ConsumerId) {
        let now = self.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let todo: Vec<TopicPartition> = c
            .assigned
            .iter()
            .filter(|(_, a)| a.position.is_none() && !a.resolving)
            .map(|(tp, _)| tp.clone())
            .collect();
        if todo.is_empty() {
            return;
        }
        match (c.group().map(str::to_string), c.coordinator) {
            (Some(group), Some(coord)) => {
                for tp in &todo {
                    let a = c.assigned.get_mut(tp).expect("listed");
                    a.resolving = true;
                    a.resolving_since = Some(now);
                }
                self.send(
                    NodeId::Consumer(cid),
                    NodeId::Broker(coord),
                    Body::OffsetFetch {
                        group,
                        partitions: todo,
                    },
                );
            }
            (Some(_), None) => {}
            (None, _) => {
                for tp in todo {
                    self.reset_offset(cid, tp);
                }
            }
        }
    }

    fn on_offset_fetch_response(
        &mut self,
        cid: ConsumerId,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, Option<u64>)>,
    ) {
        if error.is_some() {
            let c = self.consumers.get_mut(&cid).expect("exists");
            for (tp, _) in &offsets {
                if let Some(a) = c.assigned.get_mut(tp) {
                    a.resolving = false;
                }
            }
            return self.coordinator_unknown(cid);
        }
        for (tp, committed) in offsets {
            let c = self.consumers.get_mut(&cid).expect("exists");
            let Some(a) = c.assigned.get_mut(&tp) else {
                continue;
            };
            if a.position.is_some() {
                continue;
            }
            match committed {
                Some(o) => {
                    a.position = Some(o);
                    a.fetch_position = Some(o);
                    a.out_of_range = false;
                    a.resolving = false;
                    *c.runs.entry(tp.clone()).or_default() += 1;
                }
                None => {
                    a.resolving = false;
                    self.reset_offset(cid, tp);
                }
            }
        }
        self.consumer_fetch(cid);
    }

    /// `auto.offset.reset`: ask the leader for its earliest or latest offset.
    ///
    /// A position past the end of the log (there is no retention here, so
    /// only a truncation puts it there) is not a missing offset: the
    /// consumer validates it against the new leader's epoch (KIP-320) and,
    /// with a reset policy, moves back to where the logs part, the new
    /// leader's end, whichever policy it has. Without one it throws
    /// `LogTruncationException`. Simplified: the leader's high watermark
    /// stands for the end offset of the consumer's epoch, which it is after
    /// an unclean election (the new leader's ISR is itself).
    fn reset_offset(&mut self, cid: ConsumerId, tp: TopicPartition) {
        let now = self.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let truncated = c.assigned.get(&tp).is_some_and(|a| a.out_of_range);
        let spec = match (c.config.auto_offset_reset, truncated) {
            (AutoOffsetReset::None, _) => {
                if let Some(a) = c.assigned.get_mut(&tp) {
                    a.resolving = true; // stuck until the user seeks
                }
                let (error, message) = if truncated {
                    ("LogTruncationException", format!("Truncation detected for partition {tp}: the new leader's log ends before this consumer's position, and with auto.offset.reset=none it does not move on its own; seek to continue"))
                } else {
                    (
                        "NoOffsetForPartitionException",
                        format!("Undefined offset with no reset policy for partition: {tp}"),
                    )
                };
                self.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: error.into(),
                    message,
                });
                return;
            }
            (_, true) | (AutoOffsetReset::Latest, false) => OffsetSpec::Latest,
            (AutoOffsetReset::Earliest, false) => OffsetSpec::Earliest,
        };
        if let Some(a) = c.assigned.get_mut(&tp) {
            a.resolving = true;
            a.resolving_since = Some(now);
        }
        self.list_offsets(cid, tp, spec);
    }

    fn list_offsets(&mut self, cid: ConsumerId, tp: TopicPartition, spec: OffsetSpec) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        match c.leader_of(&tp) {
            Some((leader, _)) => self.send(
                NodeId::Consumer(cid),
                NodeId::Broker(leader),
                Body::ListOffsets { tp, spec },
            ),
            None => {
                // Try again once metadata names a leader.
                if let Some(a) = c.assigned.get_mut(&tp) {
                    a.resolving = false;
                }
                self.consumer_request_metadata(cid);
            }
        }
    }

    fn on_list_offsets_response(
        &mut self,
        cid: ConsumerId,
        tp: TopicPartition,
        error: Option<ErrorCode>,
        offset: u64,
    ) {
        let policy = self.consumers[&cid].config.auto_offset_reset;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let Some(a) = c.assigned.get_mut(&tp) else {
            return;
        };
        a.resolving = false;
        if error.is_some() {
            c.metadata.remove(&tp);
            return self.consumer_request_metadata(cid);
        }
        if a.position.is_some() {
            return;
        }
        a.position = Some(offset);
        a.fetch_position = Some(offset);
        let seek = std::mem::take(&mut a.seeking);
        let out_of_range = std::mem::take(&mut a.out_of_range);
        *c.runs.entry(tp.clone()).or_default() += 1;
        let key = group_key(c);
        self.consumption_start
            .entry(key)
            .or_default()
            .entry(tp.clone())
            .or_insert(offset);
        self.emit(if seek {
            EventKind::PositionSeeked {
                consumer: cid,
                tp,
                offset,
            }
        } else {
            EventKind::OffsetReset {
                consumer: cid,
                tp,
                offset,
                policy,
                out_of_range,
            }
        });
        self.consumer_fetch(cid);
    }

    /// Sends one fetch per leader for the assigned partitions whose buffer is
    /// short, unless one is already in flight to that leader.
    pub(crate) fn consumer_fetch(&mut self, cid: ConsumerId) {
        let now = self.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if !c.is_running() {
            return;
        }
        let max = c.config.max_poll_records as usize;
        // One fetch per leader, in leader order; a consumer fetches from
        // few brokers, so a list searched in place beats a map.
        let mut by_leader: Vec<(BrokerId, Vec<ConsumerFetchPartition>)> = Vec::new();
        let mut need_metadata = false;
        for (tp, a) in &c.assigned {
            let Some(fetch_offset) = a.fetch_position.filter(|_| !a.paused) else {
                continue;
            };
            let buffered = c.buffer.get(tp).map_or(0, Fetched::len);
            if buffered >= max {
                continue;
            }
            match c.leader_of(tp) {
                // One fetch per broker at a time: this partition rides on
                // the next one.
                Some((leader, _)) if c.fetch_in_flight.contains_key(&leader) => {}
                Some((leader, epoch)) => {
                    let i = match by_leader.iter().position(|(l, _)| *l == leader) {
                        Some(i) => i,
                        None => {
                            by_leader.push((leader, Vec::with_capacity(c.assigned.len())));
                            by_leader.len() - 1
                        }
                    };
                    by_leader[i].1.push(ConsumerFetchPartition {
                        tp: tp.clone(),
                        fetch_offset,
                        current_leader_epoch: epoch,
                    })
                }
                None => need_metadata = true,
            }
        }
        let wait = c.config.fetch_max_wait_ms;
        by_leader.sort_unstable_by_key(|(leader, _)| *leader);
        for (leader, _) in &by_leader {
            c.fetch_in_flight.insert(*leader, now);
        }
        for (leader, partitions) in by_leader {
            self.send(
                NodeId::Consumer(cid),
                NodeId::Broker(leader),
                Body::ConsumerFetch {
                    partitions,
                    max_wait_ms: wait,
                },
            );
        }
        if need_metadata {
            self.consumer_request_metadata(cid);
        }
    }

    fn on_consumer_fetch_response(
        &mut self,
        cid: ConsumerId,
        broker: BrokerId,
        partitions: Vec<FetchedData>,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.fetch_in_flight.remove(&broker);
        let mut need_metadata = false;
        let mut out_of_range = Vec::new();
        for d in partitions {
            let Some(a) = c.assigned.get_mut(&d.tp) else {
                continue;
            };
            match d.error {
                None => {}
                Some(ErrorCode::OffsetOutOfRange) => {
                    out_of_range.push(d.tp.clone());
                    continue;
                }
                Some(_) => {
                    c.metadata.remove(&d.tp);
                    need_metadata = true;
                    continue;
                }
            }
            a.high_watermark = d.high_watermark;
            let Some(first) = d.records.first() else {
                continue;
            };
            if a.fetch_position != Some(first.offset) {
                continue; // a seek or revoke made this response stale
            }
            a.fetch_position = Some(first.offset + d.records.len() as u64);
            c.buffer.entry(d.tp).or_default().push(&d.records);
        }
        for tp in out_of_range {
            let key = group_key(&self.consumers[&cid]);
            self.note_disruption(
                &key,
                format!("{cid}'s position in {tp} was past the end of the new leader's log (the log was truncated) and it moved back"),
            );
            let c = self.consumers.get_mut(&cid).expect("exists");
            if let Some(a) = c.assigned.get_mut(&tp) {
                a.position = None;
                a.fetch_position = None;
                a.out_of_range = true;
            }
            self.reset_offset(cid, tp);
        }
        if need_metadata {
            self.consumer_request_metadata(cid);
        }
        if self.consumers[&cid].app == AppState::Idle {
            self.consumer_poll(cid);
        }
        self.consumer_fetch(cid);
    }

    /// A broker this consumer talks to died: its requests there are gone.
    pub(crate) fn on_consumer_connection_lost(&mut self, cid: ConsumerId, broker: BrokerId) {
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if !c.is_running() || self.brokers.get(&broker).is_some_and(|b| b.is_running()) {
            return;
        }
        c.fetch_in_flight.remove(&broker);
        c.metadata.retain(|_, m| m.leader != Some(broker));
        if c.bootstrap_target == Some(broker) {
            c.bootstrap_target = None;
            c.next_bootstrap += 1;
            c.metadata_in_flight = None;
            c.find_in_flight = None;
        }
        if c.coordinator == Some(broker) {
            // A blocked commitSync is retried with the new coordinator.
            c.commit_sent_at = None;
            self.coordinator_unknown(cid);
        }
        // Kafka's reconnect backoff: try the next broker a little later.
        self.schedule_consumer_retry(cid);
    }

    /// Consumers with requests at a broker that just died.
    pub(crate) fn consumers_talking_to(&self, broker: BrokerId) -> Vec<ConsumerId> {
        self.consumers
            .values()
            .filter(|c| {
                c.is_running()
                    && (c.coordinator == Some(broker) || c.fetch_in_flight.contains_key(&broker))
            })
            .map(|c| c.id)
            .collect()
    }
}

/// Where `seek` moves a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeekTo {
    Beginning,
    End,
    Offset(u64),
}

/// What a group processed of one partition. Beside the count per offset
/// it keeps what the view reports, so drawing a frame does not walk every
/// offset ever processed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTally {
    /// By offset.
    pub by_offset: Tallies,
    /// Offsets processed more than once.
    pub duplicated: std::collections::BTreeSet<u64>,
    /// From where the group started reading up to here, every offset was
    /// processed at least once (a count never returns to zero): gaps can
    /// only lie above it.
    pub processed_through: u64,
}

impl GroupTally {
    /// Offsets from `start` below `end` the group never processed, the
    /// first `limit` of them.
    pub fn gaps(&self, start: u64, end: u64, limit: usize) -> Vec<u64> {
        (start.max(self.processed_through)..end)
            .filter(|o| self.by_offset.get(*o).is_none_or(|t| t.count == 0))
            .take(limit)
            .collect()
    }

    /// Moves `processed_through` past what is now processed from `start`.
    /// `advance_from` the group's consumption start for `tp`, if known.
    fn advance_from_start(
        &mut self,
        starts: Option<&BTreeMap<TopicPartition, u64>>,
        tp: &TopicPartition,
    ) {
        if let Some(start) = starts.and_then(|m| m.get(tp)) {
            self.advance_from(*start);
        }
    }

    fn advance_from(&mut self, start: u64) {
        let mut through = self.processed_through.max(start);
        while self.by_offset.get(through).is_some_and(|t| t.count > 0) {
            through += 1;
        }
        self.processed_through = through;
    }
}

/// A group's tallies of one partition, by offset, in fixed-size pages: a
/// partition's tallies grow in place, never copied to a larger block as
/// the log grows. Pages are shared copy-on-write, so the session's
/// snapshots of the cluster share every page not written since: a snapshot
/// copies none of them, and a later write copies only its own page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies {
    pages: Vec<std::sync::Arc<[Tally]>>,
}

impl Tallies {
    const PAGE: usize = 1024;

    fn locate(offset: u64) -> (usize, usize) {
        let o = usize::try_from(offset).unwrap_or(usize::MAX);
        (o / Self::PAGE, o % Self::PAGE)
    }

    pub fn get(&self, offset: u64) -> Option<&Tally> {
        let (page, i) = Self::locate(offset);
        self.pages.get(page).map(|p| &p[i])
    }

    /// The tally of `offset`, made (with a count of 0) if need be.
    pub fn entry(&mut self, offset: u64) -> &mut Tally {
        let (page, i) = Self::locate(offset);
        while self.pages.len() <= page {
            self.pages.push(vec![Tally::default(); Self::PAGE].into());
        }
        &mut std::sync::Arc::make_mut(&mut self.pages[page])[i]
    }
}

/// How often a group processed one offset, and the last time it did. One
/// is kept per offset of every partition a group reads, so it is packed:
/// while `count` is 0 the other fields mean nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The record processed at this offset.
    pub record: crate::ids::RecordId,
    pub count: u32,
    /// The group's disruption count at the last processing.
    pub disruptions: u32,
    /// Who processed it last, in which generation.
    pub consumer: ConsumerId,
    pub generation: i32,
}

// Packed as the comment above says; a field that grows it should be a choice.
const _: () = assert!(std::mem::size_of::<Tally>() == 24);

impl Default for Tally {
    fn default() -> Self {
        Tally {
            record: crate::ids::RecordId(0),
            count: 0,
            disruptions: 0,
            consumer: ConsumerId(0),
            generation: 0,
        }
    }
}

/// The key a consumer's processing is tallied under: its group, or itself.
fn group_key(c: &Consumer) -> String {
    c.group_key.clone()
}

fn fresh_assigned() -> Assigned {
    Assigned {
        position: None,
        fetch_position: None,
        high_watermark: 0,
        resolving: false,
        seeking: false,
        out_of_range: false,
        resolving_since: None,
        paused: false,
    }
}

/// A crash or close loses everything held in memory.
fn forget_session(c: &mut Consumer) {
    c.metadata.clear();
    c.routes.clear();
    c.metadata_in_flight = None;
    c.coordinator = None;
    c.find_in_flight = None;
    c.member_id = None;
    c.generation = -1;
    c.member_state = MemberState::Unjoined;
    c.group_request_at = None;
    c.leader = false;
    c.needs_rejoin = false;
    c.pending_assignment = None;
    c.assigned.clear();
    c.fetch_in_flight.clear();
    c.buffer.clear();
    c.in_hand.clear();
    c.app = AppState::Idle;
    c.commit_to_retry = None;
    c.commit_in_flight = None;
    c.commit_sent_at = None;
    c.processing = false;
    c.bootstrap_target = None;
    c.retry_pending = false;
}

impl Consumer {
    fn processing_started(&self) -> bool {
        self.processing
    }
    fn mark_processing_started(&mut self) {
        self.processing = true;
    }
    fn clear_processing_started(&mut self) {
        self.processing = false;
    }
}

/// The longest the simulated application may take per record.
const MAX_PROCESSING_MS: u64 = 600_000;

fn validate_consumer(
    config: &ConsumerConfig,
    subscription: &Subscription,
    topic_exists: impl Fn(&str) -> bool,
) -> Result<()> {
    let invalid = |m: String| Err(KafkaError::new(ErrorCode::InvalidConfig, m));
    // Kafka refuses only an empty group.id; the length cap is the
    // simulator's, and says so.
    if config.group_id.as_deref().is_some_and(str::is_empty) {
        return Err(KafkaError::new(
            ErrorCode::InvalidGroupId,
            "The configured group.id is empty: group management needs a non-empty group.id.",
        ));
    }
    if config.group_id.as_deref().is_some_and(|g| g.len() > 249) {
        return invalid(
            "The simulator accepts a group.id of at most 249 characters (Kafka sets no limit)."
                .into(),
        );
    }
    if config
        .group_instance_id
        .as_deref()
        .is_some_and(|g| g.trim().is_empty() || g.len() > 249)
    {
        return invalid(
            "group.instance.id must be a non-empty string of at most 249 characters.".into(),
        );
    }
    if config.max_poll_records == 0 || config.max_poll_records > 10_000 {
        return invalid(
            "max.poll.records must be at least 1; the simulator allows at most 10000.".into(),
        );
    }
    if config.heartbeat_interval_ms == 0
        || config.heartbeat_interval_ms >= config.session_timeout_ms
    {
        return invalid(
            "heartbeat.interval.ms must be at least 1 and lower than session.timeout.ms.".into(),
        );
    }
    if config.auto_commit_interval_ms == 0 || config.request_timeout_ms == 0 {
        return invalid(
            "auto.commit.interval.ms and request.timeout.ms must be at least 1.".into(),
        );
    }
    if config.processing_ms > MAX_PROCESSING_MS {
        return invalid("processing.ms is limited to 600000 (10 minutes) per record.".into());
    }
    match subscription {
        Subscription::Topics(topics) => {
            if config.group_id.is_none() {
                return Err(no_group_id());
            }
            if topics.is_empty() {
                return Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    "Subscribe to at least one topic.",
                ));
            }
            if let Some(t) = topics.iter().find(|t| !topic_exists(t)) {
                return Err(crate::topic::unknown_topic(t));
            }
        }
        Subscription::Partitions(tps) => {
            if tps.is_empty() {
                return Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    "Assign at least one partition.",
                ));
            }
            if let Some(tp) = tps.iter().find(|tp| !topic_exists(&tp.topic)) {
                return Err(crate::topic::unknown_topic(&tp.topic));
            }
        }
    }
    Ok(())
}

/// The sentence for a record its group processed again; `last` names the
/// group's latest disruption (a crash, rebalance, seek...), if any.
fn why_again(
    last: &str,
    (explained, zombie, zombie_only): (bool, bool, bool),
    (earlier, generation): (ConsumerId, i32),
) -> String {
    match (explained, zombie) {
        (false, _) => "nothing explains it".into(),
        (true, _) if !last.is_empty() && !zombie_only => format!("re-read after {last}"),
        (true, _) => format!(
            "{earlier} had processed it in generation {generation}; the group had since moved it to another member"
        ),
    }
}

/// Kafka's refusal of group APIs (subscribe, commit) without a `group.id`.
fn no_group_id() -> KafkaError {
    KafkaError::new(
        ErrorCode::InvalidGroupId,
        "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(counts: &[u32]) -> GroupTally {
        let mut t = GroupTally::default();
        for (offset, &count) in (0..).zip(counts) {
            t.by_offset.entry(offset).count = count;
        }
        t
    }

    #[test]
    fn gaps_are_the_unprocessed_offsets_from_the_start() {
        let mut t = tally(&[0, 0, 1, 1, 0, 1, 2]);
        // Reading started at offset 2: offsets 0 and 1 were never the
        // group's to process.
        t.advance_from(2);
        assert_eq!(t.processed_through, 4);
        assert_eq!(t.gaps(2, 7, 10), vec![4]);
        // Past the tally's end nothing was processed.
        assert_eq!(t.gaps(2, 9, 10), vec![4, 7, 8]);
        assert!(t.by_offset.get(2_000).is_none());
        assert_eq!(t.by_offset.entry(2_000).count, 0);
        assert_eq!(t.gaps(1_999, 2_001, 10), vec![1_999, 2_000]);
        assert_eq!(t.gaps(2, 9, 2), vec![4, 7]);
        // Offset 4 processed at last: the watermark moves past the run.
        t.by_offset.entry(4).count = 1;
        t.advance_from(2);
        assert_eq!(t.processed_through, 7);
        assert_eq!(t.gaps(2, 7, 10), Vec::<u64>::new());
    }

    #[test]
    fn a_copy_shares_tally_pages_until_one_side_writes() {
        let mut live = tally(&[1; 1_500]);
        let snapshot = live.clone();
        assert!(std::sync::Arc::ptr_eq(
            &live.by_offset.pages[0],
            &snapshot.by_offset.pages[0]
        ));
        // A write copies only its own page, and the copy keeps the old count.
        live.by_offset.entry(1_200).count = 2;
        assert!(std::sync::Arc::ptr_eq(
            &live.by_offset.pages[0],
            &snapshot.by_offset.pages[0]
        ));
        assert!(!std::sync::Arc::ptr_eq(
            &live.by_offset.pages[1],
            &snapshot.by_offset.pages[1]
        ));
        assert_eq!(live.by_offset.get(1_200).map(|t| t.count), Some(2));
        assert_eq!(snapshot.by_offset.get(1_200).map(|t| t.count), Some(1));
        assert_eq!(live.by_offset.get(1_199), snapshot.by_offset.get(1_199));
    }
}
