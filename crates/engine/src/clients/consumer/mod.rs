//! Consumers: Kafka's `KafkaConsumer` with its group membership (classic
//! protocol, eager or cooperative), fetching from partition leaders up to
//! the high watermark, committed offsets and `auto.offset.reset`, and an
//! application loop that polls, processes and commits, so the simulator can
//! show at-least-once duplicates and at-most-once gaps.
//!
//! Every handler is a `Consumer` method taking `&mut Ctx`: a consumer acts
//! on its own state and what arrives for it. The `Cluster` checks a user's
//! command against the cluster first (`lifecycle.rs`) and hands each
//! message and timer to its consumer (`Cluster::on_consumer`); what the
//! teaching audit must hear goes to `ctx.delivery`, which no node reads to
//! decide anything.

mod app_loop;
mod fetch;
mod lifecycle;
mod membership;
mod offsets;
mod tally;
pub use tally::{GroupTally, Tallies, Tally};

use crate::broker::log::Record;
use crate::config::ConsumerConfig;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::ids::{BrokerId, ConsumerId, NodeId, SimTime, TopicPartition};
use crate::network::{Body, PartitionMetadata};
use crate::sim::{Cluster, Ctx};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

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
    batches: VecDeque<crate::broker::log::Records>,
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

    fn push(&mut self, records: &crate::broker::log::Batches) {
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
    pub key: Option<crate::broker::log::Text>,
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
    /// Runs one of the consumer's own handlers with the shared context.
    pub(crate) fn on_consumer(&mut self, cid: ConsumerId, f: impl FnOnce(&mut Consumer, &mut Ctx)) {
        if let Some(c) = self.consumers.get_mut(&cid) {
            f(c, &mut self.ctx);
        }
    }
}

impl Consumer {
    pub(crate) fn receive(&mut self, ctx: &mut Ctx, from: NodeId, body: Body) {
        let cid = self.id;
        if !self.is_running() {
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
                self.metadata_in_flight = None;
                if !brokers.is_empty() {
                    self.known_brokers = brokers;
                }
                let mut moved = Vec::new();
                for m in partitions {
                    if let Some(to) = m.leader {
                        match self.routes.insert(m.tp.clone(), to) {
                            Some(from) if from != to && self.assigned.contains_key(&m.tp) => {
                                moved.push((m.tp.clone(), to, from))
                            }
                            _ => {}
                        }
                    }
                    self.metadata.insert(m.tp.clone(), m);
                }
                ctx.emit_leader_moves(NodeId::Consumer(cid), moved);
                // Kafka's leader rejoins when a subscribed topic's partition
                // count differs from what it assigned.
                if self.leader && self.member_state == MemberState::Stable {
                    let changed = self
                        .assigned_counts
                        .iter()
                        .any(|(t, n)| self.known_partitions(t) > *n);
                    if changed {
                        self.needs_rejoin = true;
                    }
                }
                self.resolve_positions(ctx);
                self.fetch(ctx);
                if self.app == AppState::Idle {
                    self.poll(ctx);
                }
            }
            Body::FindCoordinatorResponse {
                group,
                error,
                coordinator,
            } => self.on_find_coordinator(ctx, group, error, coordinator),
            Body::JoinGroupResponse(response) => self.on_join_response(ctx, response),
            Body::SyncGroupResponse {
                error,
                generation,
                assignment,
            } => self.on_sync_response(ctx, error, generation, assignment),
            Body::HeartbeatResponse { error } => self.on_heartbeat_response(ctx, error),
            Body::OffsetCommitResponse {
                commit,
                error,
                offsets,
            } => self.on_commit_response(ctx, commit, error, offsets),
            Body::OffsetFetchResponse { error, offsets } => {
                self.on_offset_fetch_response(ctx, error, offsets)
            }
            Body::ListOffsetsResponse { tp, error, offset } => {
                self.on_list_offsets_response(ctx, tp, error, offset)
            }
            Body::FetchResponse { partitions } => self.on_fetch_response(ctx, broker, partitions),
            _ => {}
        }
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
                return Err(crate::controller::topics::unknown_topic(t));
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
                return Err(crate::controller::topics::unknown_topic(&tp.topic));
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
