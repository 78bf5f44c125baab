//! Producers: pick a partition (Kafka's partitioners), batch what was sent at
//! the same moment, send to the partition leader, and handle the reply —
//! retrying retriable errors after a metadata refresh until
//! `delivery.timeout.ms`, with or without idempotence.

pub mod partitioner;

use crate::broker::log::Record;
use crate::config::{Acks, ProducerConfig};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, ProducerId, RecordId, SimTime, TopicPartition};
use crate::network::{Body, PartitionMetadata, ProduceRequest, ProduceResult};
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use partitioner::{PartitionerKind, RoundRobinState, StickyPartitioner};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Records sent together to one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub id: u64,
    pub tp: TopicPartition,
    pub records: crate::network::Records,
    pub created: SimTime,
    pub attempts: u32,
    /// Broker the current attempt went to; `None` while waiting to be (re)sent.
    pub sent_to: Option<BrokerId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerStats {
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub retries: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Producer {
    pub id: ProducerId,
    pub config: ProducerConfig,
    /// Leaders as this producer last heard them.
    pub metadata: BTreeMap<TopicPartition, PartitionMetadata>,
    /// The leader each partition was last found at. Unlike `metadata` it
    /// survives an error that invalidates the entry, so the next refresh
    /// can tell that leadership moved.
    #[serde(default)]
    pub routes: BTreeMap<TopicPartition, BrokerId>,
    pub metadata_in_flight: bool,
    /// When metadata was last requested; refreshes are spaced by `retry.backoff.ms`.
    pub metadata_requested_at: Option<SimTime>,
    pub metadata_retry_scheduled: bool,
    pub known_brokers: Vec<BrokerId>,
    pub next_bootstrap: usize,
    /// Records waiting to go out, per partition.
    pub accumulator: BTreeMap<TopicPartition, Vec<Record>>,
    pub batches: BTreeMap<u64, Batch>,
    pub next_sequence: BTreeMap<TopicPartition, u64>,
    pub drain_scheduled: bool,
    pub stats: ProducerStats,
    sticky: StickyPartitioner,
    round_robin: RoundRobinState,
}

impl Producer {
    pub fn has_in_flight_to(&self, broker: BrokerId) -> bool {
        self.batches.values().any(|b| b.sent_to == Some(broker))
    }

    fn leader_of(&self, tp: &TopicPartition) -> Option<BrokerId> {
        self.metadata.get(tp).and_then(|m| m.leader)
    }

    /// Batches in flight to a partition (Kafka's `max.in.flight.requests.per.connection`, 5).
    fn in_flight_for(&self, tp: &TopicPartition) -> usize {
        self.batches
            .values()
            .filter(|b| &b.tp == tp && b.sent_to.is_some())
            .count()
    }
}

const MAX_IN_FLIGHT: usize = 5;

impl Cluster {
    pub(crate) fn create_producer(
        &mut self,
        id: Option<ProducerId>,
        config: ProducerConfig,
    ) -> Result<ProducerId> {
        validate_producer_config(&config)?;
        let id = id.unwrap_or_else(|| {
            ProducerId(self.producers.keys().map(|p| p.0 + 1).max().unwrap_or(1))
        });
        if self.producers.contains_key(&id) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{id} already exists."),
            ));
        }
        let known_brokers = self.brokers.keys().copied().collect();
        let sticky = StickyPartitioner::with_batch_size(config.batch_size as usize);
        self.producers.insert(
            id,
            Producer {
                id,
                config,
                metadata: BTreeMap::new(),
                routes: BTreeMap::new(),
                metadata_in_flight: false,
                metadata_requested_at: None,
                metadata_retry_scheduled: false,
                known_brokers,
                next_bootstrap: 0,
                accumulator: BTreeMap::new(),
                batches: BTreeMap::new(),
                next_sequence: BTreeMap::new(),
                drain_scheduled: false,
                stats: ProducerStats::default(),
                sticky,
                round_robin: RoundRobinState::default(),
            },
        );
        self.emit(EventKind::ProducerCreated { producer: id });
        self.request_metadata(id);
        Ok(id)
    }

    pub(crate) fn configure_producer(
        &mut self,
        id: ProducerId,
        config: ProducerConfig,
    ) -> Result<()> {
        validate_producer_config(&config)?;
        let p = self.existing_producer(id)?;
        let prod = self.producers.get_mut(&p).expect("exists");
        prod.sticky.set_batch_size(config.batch_size as usize);
        prod.config = config;
        Ok(())
    }

    fn existing_producer(&self, id: ProducerId) -> Result<ProducerId> {
        if self.producers.contains_key(&id) {
            Ok(id)
        } else {
            Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("There is no producer {}.", id.0),
            ))
        }
    }

    /// `producer.send(record)`: choose the partition, stamp the record, queue it.
    pub(crate) fn produce(
        &mut self,
        producer: ProducerId,
        topic: &str,
        key: Option<crate::broker::log::Text>,
        value: crate::broker::log::Text,
        partition: Option<u32>,
    ) -> Result<RecordId> {
        let pid = self.existing_producer(producer)?;
        if topic == crate::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!("Cannot append to internal topic {topic}"),
            ));
        }
        let Some((name, meta)) = self.controller.topics.get_key_value(topic) else {
            return Err(crate::controller::topics::unknown_topic(topic));
        };
        let name = name.clone();
        let n = meta.partitions;
        if let Some(p) = partition.filter(|p| *p >= n) {
            return Err(KafkaError::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("Partition {p} of topic {topic} with partition count {n} is not present in metadata."),
            ));
        }
        if value.len() > 1_000 || key.as_ref().is_some_and(|k| k.len() > 1_000) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "Keys and values are limited to 1000 characters in the simulator.",
            ));
        }
        let p = self.choose_partition(pid, topic, n, key.as_deref(), &value, partition)?;
        // The controller's copy of the name is the shared one.
        let tp = TopicPartition {
            topic: name,
            partition: p,
        };
        let id = self.next_record_id();
        let record = Record {
            id,
            offset: 0,
            leader_epoch: 0,
            key: key.clone(),
            value: value.clone(),
            producer: pid,
            sequence: None,
            append_time: 0,
        };
        self.emit(EventKind::RecordProduced {
            producer: pid,
            record: id,
            tp: tp.clone(),
            key,
            value,
        });
        let prod = self.producers.get_mut(&pid).expect("exists");
        prod.stats.sent += 1;
        prod.accumulator
            .entry(tp)
            // Room for a typical batch at once, rather than regrowing it
            // record by record.
            .or_insert_with(|| Vec::with_capacity(32))
            .push(record);
        if !prod.drain_scheduled {
            prod.drain_scheduled = true;
            let linger = prod.config.linger_ms;
            self.schedule_timer(linger, Timer::ProducerDrain { producer: pid });
        }
        Ok(id)
    }

    fn choose_partition(
        &mut self,
        pid: ProducerId,
        topic: &str,
        n: u32,
        key: Option<&str>,
        value: &str,
        explicit: Option<u32>,
    ) -> Result<u32> {
        if let Some(p) = explicit {
            return Ok(p);
        }
        let prod = self.producers.get_mut(&pid).expect("exists");
        // Partitions with a known leader; only the keyless partitioners need them.
        let available = |prod: &Producer| -> Vec<u32> {
            prod.metadata
                .values()
                .filter(|m| &*m.tp.topic == topic && m.leader.is_some())
                .map(|m| m.tp.partition)
                .collect()
        };
        let keyed = |k: &str| partitioner::partition_for_key(k.as_bytes(), n);
        Ok(match (&prod.config.partitioner, key) {
            (PartitionerKind::RoundRobin, _) => {
                let available = available(prod);
                prod.round_robin.partition(topic, &available, n)
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
                    Some(p) => p,
                    None => keyed(k),
                }
            }
            (_, Some(k)) => keyed(k),
            (_, None) => {
                let bytes = value.len() + 70; // record overhead, roughly as Kafka counts
                let available = available(prod);
                prod.sticky
                    .partition(topic, bytes, &available, n, &mut self.ctx.rng)
            }
        })
    }

    /// Sends each partition's accumulated records as one batch to its leader.
    pub(crate) fn drain_producer(&mut self, pid: ProducerId) {
        let now = self.ctx.now;
        let Some(prod) = self.producers.get_mut(&pid) else {
            return;
        };
        prod.drain_scheduled = false;
        let tps: Vec<TopicPartition> = prod.accumulator.keys().cloned().collect();
        let mut to_send = Vec::new();
        let mut need_metadata = false;
        for tp in tps {
            if prod.leader_of(&tp).is_none() {
                need_metadata = true;
                continue;
            }
            if prod.in_flight_for(&tp) >= MAX_IN_FLIGHT {
                continue;
            }
            let mut records = prod.accumulator.remove(&tp).unwrap_or_default();
            if prod.config.idempotent() {
                let seq = prod.next_sequence.entry(tp.clone()).or_insert(0);
                for r in &mut records {
                    r.sequence = Some(*seq);
                    *seq += 1;
                }
            }
            self.next_batch_id += 1;
            let batch = Batch {
                id: self.next_batch_id,
                tp,
                records: records.into(),
                created: now,
                attempts: 0,
                sent_to: None,
            };
            prod.batches.insert(batch.id, batch.clone());
            to_send.push(batch.id);
        }
        for b in to_send {
            self.send_batch(pid, b);
        }
        if need_metadata {
            self.request_metadata(pid);
        }
    }

    fn send_batch(&mut self, pid: ProducerId, batch_id: u64) {
        let prod = self.producers.get_mut(&pid).expect("exists");
        let acks = prod.config.acks;
        let timeout = prod.config.request_timeout_ms;
        let Some(batch) = prod.batches.get(&batch_id) else {
            return;
        };
        let Some(leader) = prod.leader_of(&batch.tp) else {
            self.request_metadata(pid);
            self.schedule_timer(
                self.producers[&pid].config.retry_backoff_ms,
                Timer::ProduceRetry {
                    producer: pid,
                    batch: batch_id,
                },
            );
            return;
        };
        let batch = prod.batches.get_mut(&batch_id).expect("exists");
        batch.attempts += 1;
        batch.sent_to = Some(leader);
        let attempt = batch.attempts;
        let body = Body::Produce(ProduceRequest {
            tp: batch.tp.clone(),
            batch: batch_id,
            records: batch.records.clone(),
            acks,
            timeout_ms: prod.config.request_timeout_ms,
        });
        self.send(NodeId::Producer(pid), NodeId::Broker(leader), body);
        if acks == Acks::None {
            // Fire and forget: the send completes now, and the producer never
            // learns what happened; the ledger follows the batch instead.
            let prod = self.producers.get_mut(&pid).expect("exists");
            if let Some(batch) = prod.batches.remove(&batch_id) {
                prod.stats.acknowledged += batch.records.len() as u64;
                let now = self.ctx.now;
                self.ledger
                    .send_unacknowledged(pid, batch_id, &batch.tp, &batch.records, now);
            }
        } else {
            self.schedule_timer(
                timeout,
                Timer::ProduceRequestTimeout {
                    producer: pid,
                    batch: batch_id,
                    attempt,
                },
            );
        }
    }

    fn request_metadata(&mut self, pid: ProducerId) {
        let now = self.ctx.now;
        let Some(prod) = self.producers.get_mut(&pid) else {
            return;
        };
        if prod.metadata_in_flight || prod.known_brokers.is_empty() {
            return;
        }
        let backoff = prod.config.retry_backoff_ms;
        let wait = prod
            .metadata_requested_at
            .map_or(0, |t| backoff.saturating_sub(now.since(t)));
        if wait > 0 {
            if !prod.metadata_retry_scheduled {
                prod.metadata_retry_scheduled = true;
                self.schedule_timer(wait, Timer::MetadataRetry { producer: pid });
            }
            return;
        }
        prod.metadata_requested_at = Some(now);
        prod.metadata_in_flight = true;
        let broker = prod.known_brokers[prod.next_bootstrap % prod.known_brokers.len()];
        self.send(
            NodeId::Producer(pid),
            NodeId::Broker(broker),
            Body::Metadata { topics: Vec::new() },
        );
        // If that broker never answers, try the next one after a while.
        self.schedule_timer(
            self.producers[&pid].config.request_timeout_ms.min(5_000),
            Timer::ConnectionLost {
                producer: pid,
                broker,
            },
        );
    }

    pub(crate) fn producer_receive(&mut self, pid: ProducerId, _from: NodeId, body: Body) {
        match body {
            Body::MetadataResponse {
                brokers,
                partitions,
            } => {
                let prod = self.producers.get_mut(&pid).expect("exists");
                prod.metadata_in_flight = false;
                if !brokers.is_empty() {
                    prod.known_brokers = brokers;
                }
                let mut moved = Vec::new();
                for m in partitions {
                    if let Some(to) = m.leader {
                        match prod.routes.insert(m.tp.clone(), to) {
                            Some(from) if from != to => moved.push((m.tp.clone(), to, from)),
                            _ => {}
                        }
                    }
                    prod.metadata.insert(m.tp.clone(), m);
                }
                self.emit_leader_moves(NodeId::Producer(pid), moved);
                self.drain_producer(pid);
            }
            Body::ProduceResponse(result) => self.on_produce_response(pid, result),
            _ => {}
        }
    }

    fn on_produce_response(&mut self, pid: ProducerId, result: ProduceResult) {
        let prod = self.producers.get_mut(&pid).expect("exists");
        if prod
            .batches
            .get(&result.batch)
            .is_none_or(|b| b.sent_to.is_none())
        {
            return; // a late reply to an attempt we already gave up on
        }
        match result.error {
            None => {
                let batch = prod.batches.remove(&result.batch).expect("checked");
                prod.stats.acknowledged += batch.records.len() as u64;
                let base = result.base_offset.unwrap_or(0);
                let acks = prod.config.acks;
                let ids: Vec<RecordId> = batch.records.iter().map(|r| r.id).collect();
                self.emit(EventKind::ProduceAcknowledged {
                    producer: pid,
                    tp: batch.tp.clone(),
                    records: ids,
                    base_offset: base,
                });
                self.ledger
                    .acknowledge(&batch.records, &batch.tp, base, acks, self.ctx.now);
                self.check_acknowledged_batch(&batch.tp, base, batch.records.len() as u64);
                self.drain_producer(pid);
            }
            Some(error) => self.retry_or_fail(pid, result.batch, error),
        }
    }

    fn retry_or_fail(&mut self, pid: ProducerId, batch_id: u64, error: ErrorCode) {
        let now = self.ctx.now;
        let prod = self.producers.get_mut(&pid).expect("exists");
        let cfg = prod.config.clone();
        let Some(batch) = prod.batches.get_mut(&batch_id) else {
            return;
        };
        batch.sent_to = None;
        let elapsed = now.since(batch.created) + cfg.retry_backoff(batch.attempts);
        let retriable = error.is_retriable()
            && batch.attempts <= cfg.retries
            && elapsed < cfg.delivery_timeout_ms;
        if retriable {
            prod.stats.retries += 1;
            let (tp, attempt) = (batch.tp.clone(), batch.attempts);
            if matches!(
                error,
                ErrorCode::NotLeaderOrFollower
                    | ErrorCode::NetworkException
                    | ErrorCode::RequestTimedOut
                    | ErrorCode::FencedLeaderEpoch
            ) {
                prod.metadata.remove(&tp);
                self.request_metadata(pid);
            }
            self.emit(EventKind::ProduceRetried {
                producer: pid,
                tp,
                batch: batch_id,
                attempt,
                error,
            });
            self.schedule_timer(
                cfg.retry_backoff(attempt),
                Timer::ProduceRetry {
                    producer: pid,
                    batch: batch_id,
                },
            );
        } else {
            let batch = prod.batches.remove(&batch_id).expect("exists");
            prod.stats.failed += batch.records.len() as u64;
            let ids = batch.records.iter().map(|r| r.id).collect();
            let error = if error.is_retriable() && elapsed >= cfg.delivery_timeout_ms {
                ErrorCode::RequestTimedOut
            } else {
                error
            };
            self.emit(EventKind::ProduceFailed {
                producer: pid,
                tp: batch.tp,
                records: ids,
                error,
            });
        }
    }

    /// A connection the producer used was closed: it asks for fresh
    /// metadata after `after_ms`, once, however many requests it lost.
    pub(crate) fn refresh_metadata_after(&mut self, pid: ProducerId, after_ms: u64) {
        let Some(prod) = self.producers.get_mut(&pid) else {
            return;
        };
        if !prod.metadata_retry_scheduled {
            prod.metadata_retry_scheduled = true;
            self.schedule_timer(after_ms, Timer::MetadataRetry { producer: pid });
        }
    }

    pub(crate) fn on_metadata_retry(&mut self, pid: ProducerId) {
        if let Some(prod) = self.producers.get_mut(&pid) {
            prod.metadata_retry_scheduled = false;
            self.request_metadata(pid);
        }
    }

    pub(crate) fn on_produce_retry(&mut self, pid: ProducerId, batch_id: u64) {
        let ready = self
            .producers
            .get(&pid)
            .and_then(|p| p.batches.get(&batch_id))
            .is_some_and(|b| b.sent_to.is_none());
        if ready {
            self.send_batch(pid, batch_id);
        }
    }

    pub(crate) fn on_produce_request_timeout(
        &mut self,
        pid: ProducerId,
        batch_id: u64,
        attempt: u32,
    ) {
        let current = self
            .producers
            .get(&pid)
            .and_then(|p| p.batches.get(&batch_id))
            .is_some_and(|b| b.attempts == attempt && b.sent_to.is_some());
        if current {
            self.retry_or_fail(pid, batch_id, ErrorCode::RequestTimedOut);
        }
    }

    /// The connection to `broker` broke: every batch in flight there fails
    /// with NETWORK_EXCEPTION (retriable); a metadata request moves on.
    pub(crate) fn on_producer_connection_lost(&mut self, pid: ProducerId, broker: BrokerId) {
        let Some(prod) = self.producers.get_mut(&pid) else {
            return;
        };
        if prod.metadata_in_flight
            && prod
                .known_brokers
                .get(prod.next_bootstrap % prod.known_brokers.len().max(1))
                == Some(&broker)
        {
            prod.metadata_in_flight = false;
            prod.next_bootstrap += 1;
            self.request_metadata(pid);
        }
        let Some(prod) = self.producers.get(&pid) else {
            return;
        };
        if self.brokers.get(&broker).is_some_and(|b| b.is_running()) {
            return; // only a metadata probe timed out; the broker is fine
        }
        let lost: BTreeSet<u64> = prod
            .batches
            .values()
            .filter(|b| b.sent_to == Some(broker))
            .map(|b| b.id)
            .collect();
        for b in lost {
            self.retry_or_fail(pid, b, ErrorCode::NetworkException);
        }
        // Kafka's client asks for fresh metadata on any disconnect: this is
        // how an acks=0 producer, which gets no replies, learns of a failover.
        self.request_metadata(pid);
    }
}

fn validate_producer_config(config: &ProducerConfig) -> Result<()> {
    // Only an explicit `enable.idempotence=true` conflicts: left unset, Kafka
    // turns idempotence off instead.
    if config.enable_idempotence == Some(true) && config.acks != Acks::All {
        return Err(KafkaError::new(
            ErrorCode::InvalidConfig,
            "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence. (enable.idempotence=true was set; leave it unset or set it to false for acks=0 or acks=1.)",
        ));
    }
    if config.enable_idempotence == Some(true) && config.retries == 0 {
        return Err(KafkaError::new(
            ErrorCode::InvalidConfig,
            "Must set retries to non-zero when using the idempotent producer.",
        ));
    }
    if config.request_timeout_ms == 0
        || config.delivery_timeout_ms < config.linger_ms + config.request_timeout_ms
    {
        return Err(KafkaError::new(
            ErrorCode::InvalidConfig,
            "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms",
        ));
    }
    Ok(())
}
