//! The producer's own side of the wire (Kafka's `RecordAccumulator` and
//! `Sender`): each handler takes the producer and the shared `Ctx` only, so
//! it acts on what this producer knows and what arrives for it. What the
//! audit must hear of (a batch sent with `acks=0`, a batch acknowledged) is
//! returned to the caller, which files it; see `mod.rs`.

use super::{accumulator, Batch, Producer};
use crate::broker::log::Record;
use crate::config::Acks;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, RecordId, TopicPartition};
use crate::network::{Body, PartitionMetadata, ProduceRequest, ProduceResult};
use crate::sim::timer::Timer;
use crate::sim::Ctx;
use std::collections::{BTreeSet, VecDeque};

use super::partitioner::{self, PartitionerKind};

/// Batches sent with `acks=0`: complete on sending, so only the ledger
/// follows them from here.
pub(crate) type Unacknowledged = Vec<Batch>;

impl Producer {
    fn me(&self) -> NodeId {
        NodeId::Producer(self.id)
    }

    /// The partition a record goes to: the explicit one, the custom
    /// partitioner's rule, murmur2 of the key, or (keyless) the round-robin
    /// or sticky choice among partitions with a known leader. Says whether
    /// the sticky partitioner chose, so `accumulate` tells it what the
    /// record added.
    pub(super) fn choose_partition(
        &mut self,
        ctx: &mut Ctx,
        topic: &str,
        n: u32,
        key: Option<&str>,
        explicit: Option<u32>,
    ) -> Result<(u32, bool)> {
        if let Some(p) = explicit {
            return Ok((p, false));
        }
        let keyed = |k: &str| partitioner::partition_for_key(k.as_bytes(), n);
        Ok(match (&self.config.partitioner, key) {
            (PartitionerKind::RoundRobin, _) => {
                let available = self.available(topic);
                (self.round_robin.partition(topic, &available, n), false)
            }
            (PartitionerKind::Custom { rules }, Some(k)) => {
                match rules.iter().find(|r| r.key == k).map(|r| r.partition) {
                    // The Java producer's wording when a partitioner returns
                    // a partition the topic does not have; nothing is sent.
                    Some(p) if p >= n => {
                        return Err(KafkaError::new(
                            ErrorCode::InvalidRequest,
                            format!("Invalid partition given with record: {p} is not in the range [0...{n})."),
                        ))
                    }
                    Some(p) => (p, false),
                    None => (keyed(k), false),
                }
            }
            (_, Some(k)) => (keyed(k), false),
            (_, None) => (self.sticky_partition(ctx, topic, n), true),
        })
    }

    /// Kafka's `RecordAccumulator.append` for a keyless record: the sticky
    /// partition, moved on first if it was due to and its queue has since
    /// emptied or filled (`partitionChanged`, "completed previously
    /// disabled switch").
    fn sticky_partition(&mut self, ctx: &mut Ctx, topic: &str, n: u32) -> u32 {
        let available = self.available(topic);
        let p = self.sticky.peek(topic, &available, n, &mut ctx.rng);
        let batch_size = self.sticky.batch_size();
        let queue = self
            .accumulator
            .iter()
            .find(|(tp, _)| &*tp.topic == topic && tp.partition == p)
            .map(|(_, q)| q);
        if accumulator::all_full(queue, batch_size) {
            self.sticky
                .update(topic, 0, true, &available, n, &mut ctx.rng);
            return self.sticky.peek(topic, &available, n, &mut ctx.rng);
        }
        p
    }

    /// Partitions of `topic` with a known leader; only the keyless
    /// partitioners need them.
    fn available(&self, topic: &str) -> Vec<u32> {
        self.metadata
            .values()
            .filter(|m| &*m.tp.topic == topic && m.leader.is_some())
            .map(|m| m.tp.partition)
            .collect()
    }

    /// Queues a stamped record in its partition's last batch, or a new
    /// one (its `delivery.timeout.ms` starts); the first record since the
    /// last drain starts the `linger.ms` timer. A record the sticky
    /// partitioner placed (`sticky_of`, the topic's partition count) tells
    /// it how many bytes went there and how the queue stands.
    pub(super) fn accumulate(
        &mut self,
        ctx: &mut Ctx,
        tp: TopicPartition,
        record: Record,
        sticky_of: Option<u32>,
    ) {
        self.stats.sent += 1;
        let producer = self.id;
        let batch_size = self.sticky.batch_size();
        let topic = tp.topic.clone();
        let queue = self.accumulator.entry(tp).or_default();
        let (appended, new_batch) = accumulator::append(queue, record, ctx.now, batch_size);
        let enable_switch = accumulator::all_full(Some(queue), batch_size);
        if new_batch {
            ctx.schedule_timer(
                self.config.delivery_timeout_ms,
                Timer::DeliveryTimeout { producer },
            );
        }
        if let Some(n) = sticky_of {
            let available = self.available(&topic);
            self.sticky
                .update(&topic, appended, enable_switch, &available, n, &mut ctx.rng);
        }
        if !self.drain_scheduled {
            self.drain_scheduled = true;
            ctx.schedule_timer(self.config.linger_ms, Timer::ProducerDrain { producer });
        }
    }

    /// Sends each partition's queued batches, in order, to its leader, up
    /// to `max.in.flight.requests.per.connection` unanswered on each
    /// broker's connection.
    pub(crate) fn drain(&mut self, ctx: &mut Ctx) -> Unacknowledged {
        self.drain_scheduled = false;
        let mut unacknowledged = self.send_retries(ctx);
        let tps: Vec<TopicPartition> = self.accumulator.keys().cloned().collect();
        let mut to_send = Vec::new();
        let mut need_metadata = false;
        let max = self.config.max_in_flight_requests_per_connection as usize;
        let mut planned: std::collections::BTreeMap<BrokerId, usize> = Default::default();
        for tp in tps {
            // A failed batch waits in front of the queue (Kafka's
            // `reenqueue`): nothing behind it goes first.
            if self.waiting_retry(&tp).is_some() {
                continue;
            }
            let Some(leader) = self.leader_of(&tp) else {
                need_metadata = true;
                continue;
            };
            let busy = self.in_flight_to(leader) + planned.get(&leader).copied().unwrap_or(0);
            let room = max.saturating_sub(busy);
            for _ in 0..room {
                let Some(queued) = self.accumulator.get_mut(&tp).and_then(VecDeque::pop_front)
                else {
                    break;
                };
                let mut records = queued.records;
                if self.config.idempotent() {
                    let seq = self.next_sequence.entry(tp.clone()).or_insert(0);
                    for r in &mut records {
                        r.sequence = Some(*seq);
                        *seq += 1;
                    }
                }
                let batch = Batch {
                    id: ctx.next_batch_id(),
                    tp: tp.clone(),
                    records: records.into(),
                    created: queued.created,
                    attempts: 0,
                    sent_to: None,
                    backoff_until: None,
                };
                to_send.push(batch.id);
                *planned.entry(leader).or_default() += 1;
                self.batches.insert(batch.id, batch);
            }
            if self.accumulator.get(&tp).is_some_and(VecDeque::is_empty) {
                self.accumulator.remove(&tp);
            }
        }
        unacknowledged.extend(to_send.into_iter().filter_map(|b| self.send_batch(ctx, b)));
        if need_metadata {
            self.request_metadata(ctx);
        }
        unacknowledged
    }

    /// The earliest failed batch of a partition still to be sent again: it
    /// stands in front of the partition's queue.
    fn waiting_retry(&self, tp: &TopicPartition) -> Option<u64> {
        self.batches
            .values()
            .find(|b| &b.tp == tp && b.sent_to.is_none() && b.attempts > 0)
            .map(|b| b.id)
    }

    /// Whether a failed batch may be sent again now: it is its partition's
    /// earliest, its backoff is over, its leader's connection has room and
    /// (idempotent) no other batch of the partition is in flight, so
    /// sequences reach the leader in order ("this effectively reduces our
    /// in flight request count to 1",
    /// `RecordAccumulator.shouldStopDrainBatchesForPartition`).
    fn may_resend(&self, ctx: &Ctx, id: u64) -> bool {
        let Some(b) = self.batches.get(&id) else {
            return false;
        };
        let max = self.config.max_in_flight_requests_per_connection as usize;
        let connection_has_room = self
            .leader_of(&b.tp)
            .is_none_or(|leader| self.in_flight_to(leader) < max);
        self.waiting_retry(&b.tp) == Some(id)
            && b.backoff_until.is_none_or(|t| t <= ctx.now)
            && connection_has_room
            && !(self.config.idempotent() && self.in_flight_for(&b.tp) > 0)
    }

    /// Sends each partition's earliest failed batch again where it may go.
    /// Called whenever a batch completes or fails, since that may be what
    /// the next one waited for.
    pub(super) fn send_retries(&mut self, ctx: &mut Ctx) -> Unacknowledged {
        let waiting: BTreeSet<TopicPartition> = self
            .batches
            .values()
            .filter(|b| b.sent_to.is_none() && b.attempts > 0)
            .map(|b| b.tp.clone())
            .collect();
        let ready: Vec<u64> = waiting
            .iter()
            .filter_map(|tp| self.waiting_retry(tp))
            .filter(|id| self.may_resend(ctx, *id))
            .collect();
        ready
            .into_iter()
            .filter_map(|id| self.send_batch(ctx, id))
            .collect()
    }

    /// One attempt of a batch to its partition's leader as this producer
    /// knows it; without a leader, a metadata refresh and a retry later.
    fn send_batch(&mut self, ctx: &mut Ctx, batch_id: u64) -> Option<Batch> {
        let producer = self.id;
        let acks = self.config.acks;
        let timeout_ms = self.config.request_timeout_ms;
        let batch = self.batches.get_mut(&batch_id)?;
        let Some(leader) = self.metadata.get(&batch.tp).and_then(|m| m.leader) else {
            batch.backoff_until = Some(ctx.now.plus(self.config.retry_backoff_ms));
            self.request_metadata(ctx);
            let batch = batch_id;
            ctx.schedule_timer(
                self.config.retry_backoff_ms,
                Timer::ProduceRetry { producer, batch },
            );
            return None;
        };
        batch.attempts += 1;
        batch.sent_to = Some(leader);
        let attempt = batch.attempts;
        let body = Body::Produce(ProduceRequest {
            tp: batch.tp.clone(),
            batch: batch_id,
            records: batch.records.clone(),
            acks,
            timeout_ms,
        });
        ctx.send(self.me(), NodeId::Broker(leader), body);
        if acks == Acks::None {
            // Fire and forget: the send completes now, and the producer never
            // learns what happened; the ledger follows the batch instead.
            let batch = self.batches.remove(&batch_id)?;
            self.stats.acknowledged += batch.records.len() as u64;
            return Some(batch);
        }
        let batch = batch_id;
        ctx.schedule_timer(
            timeout_ms,
            Timer::ProduceRequestTimeout {
                producer,
                batch,
                attempt,
            },
        );
        None
    }

    /// Asks a known broker for the cluster's metadata, at most once per
    /// `retry.backoff.ms` and one request at a time.
    pub(super) fn request_metadata(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let producer = self.id;
        if self.metadata_in_flight || self.known_brokers.is_empty() {
            return;
        }
        let backoff = self.config.retry_backoff_ms;
        let wait = self
            .metadata_requested_at
            .map_or(0, |t| backoff.saturating_sub(now.since(t)));
        if wait > 0 {
            if !self.metadata_retry_scheduled {
                self.metadata_retry_scheduled = true;
                ctx.schedule_timer(wait, Timer::MetadataRetry { producer });
            }
            return;
        }
        self.metadata_requested_at = Some(now);
        self.metadata_in_flight = true;
        let broker = self.known_brokers[self.next_bootstrap % self.known_brokers.len()];
        ctx.send(
            self.me(),
            NodeId::Broker(broker),
            Body::Metadata { topics: Vec::new() },
        );
        // If that broker never answers, try the next one after a while.
        ctx.schedule_timer(
            self.config.request_timeout_ms.min(5_000),
            Timer::ConnectionLost { producer, broker },
        );
    }

    /// A MetadataResponse: the leaders it names replace what the producer
    /// knew, a leader that moved is reported, and what waited is sent.
    pub(super) fn on_metadata_response(
        &mut self,
        ctx: &mut Ctx,
        brokers: Vec<BrokerId>,
        partitions: Vec<PartitionMetadata>,
    ) -> Unacknowledged {
        self.metadata_in_flight = false;
        if !brokers.is_empty() {
            self.known_brokers = brokers;
        }
        for m in partitions {
            if let Some(leader) = m.leader {
                match self.routes.insert(m.tp.clone(), leader) {
                    Some(previous) if previous != leader => {
                        ctx.emit(EventKind::MetadataUpdated {
                            client: self.me(),
                            tp: m.tp.clone(),
                            leader,
                            previous,
                        });
                    }
                    _ => {}
                }
            }
            self.metadata.insert(m.tp.clone(), m);
        }
        self.drain(ctx)
    }

    /// A ProduceResponse: the batch it acknowledges, for the caller to
    /// file and then drain; an error is retried or fails the batch.
    pub(super) fn on_produce_response(
        &mut self,
        ctx: &mut Ctx,
        result: ProduceResult,
    ) -> Option<(Batch, u64)> {
        if self
            .batches
            .get(&result.batch)
            .is_none_or(|b| b.sent_to.is_none())
        {
            return None; // a late reply to an attempt we already gave up on
        }
        if let Some(error) = result.error {
            self.retry_or_fail(ctx, result.batch, error);
            return None;
        }
        let batch = self.batches.remove(&result.batch)?;
        self.stats.acknowledged += batch.records.len() as u64;
        let base_offset = result.base_offset.unwrap_or(0);
        let records: Vec<RecordId> = batch.records.iter().map(|r| r.id).collect();
        ctx.emit(EventKind::ProduceAcknowledged {
            producer: self.id,
            tp: batch.tp.clone(),
            records,
            base_offset,
        });
        Some((batch, base_offset))
    }

    /// A failed attempt: retried after `retry.backoff.ms` (with a metadata
    /// refresh when the leader may have moved) while retries and
    /// `delivery.timeout.ms` allow; otherwise the batch fails.
    fn retry_or_fail(&mut self, ctx: &mut Ctx, batch_id: u64, error: ErrorCode) {
        let now = ctx.now;
        let producer = self.id;
        let cfg = &self.config;
        let Some(batch) = self.batches.get_mut(&batch_id) else {
            return;
        };
        batch.sent_to = None;
        // Kafka's `Sender.canRetry`: a batch past delivery.timeout.ms is
        // not retried; one retried into it expires then (`expire_batches`).
        let timed_out = now.since(batch.created) >= cfg.delivery_timeout_ms;
        if error.is_retriable() && batch.attempts <= cfg.retries && !timed_out {
            self.stats.retries += 1;
            let (tp, attempt) = (batch.tp.clone(), batch.attempts);
            let backoff = cfg.retry_backoff(attempt);
            batch.backoff_until = Some(now.plus(backoff));
            if matches!(
                error,
                ErrorCode::NotLeaderOrFollower
                    | ErrorCode::NetworkException
                    | ErrorCode::RequestTimedOut
                    | ErrorCode::FencedLeaderEpoch
            ) {
                self.metadata.remove(&tp);
                self.request_metadata(ctx);
            }
            ctx.emit(EventKind::ProduceRetried {
                producer,
                tp,
                batch: batch_id,
                attempt,
                error,
            });
            let batch = batch_id;
            ctx.schedule_timer(backoff, Timer::ProduceRetry { producer, batch });
        } else {
            let Some(batch) = self.batches.remove(&batch_id) else {
                return;
            };
            self.stats.failed += batch.records.len() as u64;
            let records = batch.records.iter().map(|r| r.id).collect();
            // As Kafka's Sender fails it: with the response's own error.
            ctx.emit(EventKind::ProduceFailed {
                producer,
                tp: batch.tp,
                records,
                error,
                message: None,
            });
        }
    }

    /// `delivery.timeout.ms` passed for some batch: every batch that has
    /// reached it fails with a TimeoutException, first those still waiting
    /// in the accumulator, then those sent or awaiting a retry (Kafka's
    /// `RecordAccumulator.expiredBatches` and `Sender.getExpiredInflightBatches`).
    /// A late answer for one finds it gone and is ignored.
    pub(super) fn expire_batches(&mut self, ctx: &mut Ctx) -> Unacknowledged {
        let now = ctx.now;
        let timeout = self.config.delivery_timeout_ms;
        let mut waiting = Vec::new();
        for (tp, queue) in &mut self.accumulator {
            while queue
                .front()
                .is_some_and(|b| now.since(b.created) >= timeout)
            {
                if let Some(b) = queue.pop_front() {
                    waiting.push((tp.clone(), b));
                }
            }
        }
        self.accumulator.retain(|_, q| !q.is_empty());
        for (tp, b) in waiting {
            let ids = b.records.iter().map(|r| r.id).collect();
            self.expire(ctx, tp, ids, now.since(b.created));
        }
        let sent: Vec<u64> = self
            .batches
            .values()
            .filter(|b| now.since(b.created) >= timeout)
            .map(|b| b.id)
            .collect();
        for id in sent {
            if let Some(batch) = self.batches.remove(&id) {
                let ids = batch.records.iter().map(|r| r.id).collect();
                self.expire(ctx, batch.tp, ids, now.since(batch.created));
            }
        }
        self.send_retries(ctx)
    }

    fn expire(&mut self, ctx: &mut Ctx, tp: TopicPartition, records: Vec<RecordId>, age_ms: u64) {
        if records.is_empty() {
            return;
        }
        self.stats.failed += records.len() as u64;
        let message = format!(
            "Expiring {} record(s) for {tp}:{age_ms} ms has passed since batch creation",
            records.len()
        );
        ctx.emit(EventKind::ProduceFailed {
            producer: self.id,
            tp,
            records,
            error: ErrorCode::RequestTimedOut,
            message: Some(message),
        });
    }

    /// A connection the producer used was closed by the broker (Kafka's
    /// answer to an `acks=0` request it cannot take): the producer asks for
    /// fresh metadata after `after_ms`, once, however many requests it lost.
    pub(crate) fn on_connection_closed(&mut self, ctx: &mut Ctx, after_ms: u64) {
        if !self.metadata_retry_scheduled {
            self.metadata_retry_scheduled = true;
            let producer = self.id;
            ctx.schedule_timer(after_ms, Timer::MetadataRetry { producer });
        }
    }

    pub(super) fn on_metadata_retry(&mut self, ctx: &mut Ctx) {
        self.metadata_retry_scheduled = false;
        self.request_metadata(ctx);
    }

    pub(super) fn on_produce_retry(&mut self, ctx: &mut Ctx, batch_id: u64) -> Unacknowledged {
        if self.may_resend(ctx, batch_id) {
            self.send_batch(ctx, batch_id).into_iter().collect()
        } else {
            // Not its turn: it goes when the batch ahead of it completes.
            Vec::new()
        }
    }

    /// `request.timeout.ms` passed for one attempt of a batch: if that
    /// attempt is still the current one, it failed with REQUEST_TIMED_OUT.
    pub(super) fn on_request_timeout(
        &mut self,
        ctx: &mut Ctx,
        batch_id: u64,
        attempt: u32,
    ) -> Unacknowledged {
        let current = self
            .batches
            .get(&batch_id)
            .is_some_and(|b| b.attempts == attempt && b.sent_to.is_some());
        if !current {
            return Vec::new();
        }
        self.retry_or_fail(ctx, batch_id, ErrorCode::RequestTimedOut);
        self.send_retries(ctx)
    }

    /// A request to `broker` went unanswered or its connection broke. A
    /// metadata request moves on to the next known broker; if the
    /// connection was `reset` (the broker process is gone), every batch in
    /// flight there fails with NETWORK_EXCEPTION (retriable) and the
    /// producer asks for fresh metadata.
    pub(super) fn on_connection_lost(
        &mut self,
        ctx: &mut Ctx,
        broker: BrokerId,
        reset: bool,
    ) -> Unacknowledged {
        if self.metadata_in_flight
            && self
                .known_brokers
                .get(self.next_bootstrap % self.known_brokers.len().max(1))
                == Some(&broker)
        {
            self.metadata_in_flight = false;
            self.next_bootstrap += 1;
            self.request_metadata(ctx);
        }
        if !reset {
            return Vec::new(); // only a metadata probe timed out; the broker is fine
        }
        let lost: BTreeSet<u64> = self
            .batches
            .values()
            .filter(|b| b.sent_to == Some(broker))
            .map(|b| b.id)
            .collect();
        for b in lost {
            self.retry_or_fail(ctx, b, ErrorCode::NetworkException);
        }
        // Kafka's client asks for fresh metadata on any disconnect: this is
        // how an acks=0 producer, which gets no replies, learns of a failover.
        self.request_metadata(ctx);
        self.send_retries(ctx)
    }
}
