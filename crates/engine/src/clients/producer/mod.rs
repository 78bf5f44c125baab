//! Producers: pick a partition (Kafka's partitioners), batch what was sent at
//! the same moment, send to the partition leader, and handle the reply —
//! retrying retriable errors after a metadata refresh until
//! `delivery.timeout.ms`, with or without idempotence.

pub mod accumulator;
pub mod partitioner;
mod sender;

pub(crate) use sender::Unacknowledged;

use crate::broker::log::Record;
use crate::config::{Acks, ProducerConfig};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, ProducerId, RecordId, SimTime, TopicPartition};
use crate::network::{Body, PartitionMetadata};
use crate::sim::{Cluster, Ctx};
use accumulator::QueuedBatch;
use partitioner::{RoundRobinState, StickyPartitioner};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

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
    /// A failed batch waits in front of its partition's queue until then
    /// (`retry.backoff.ms`).
    #[serde(default)]
    pub backoff_until: Option<SimTime>,
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
    /// Batches waiting to go out, per partition, in order.
    pub accumulator: BTreeMap<TopicPartition, VecDeque<QueuedBatch>>,
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

    /// Requests in flight on the connection to `broker`, each with one
    /// batch (Kafka's `InFlightRequests`, capped by
    /// `max.in.flight.requests.per.connection`).
    fn in_flight_to(&self, broker: BrokerId) -> usize {
        self.batches
            .values()
            .filter(|b| b.sent_to == Some(broker))
            .count()
    }

    /// Batches in flight to a partition.
    fn in_flight_for(&self, tp: &TopicPartition) -> usize {
        self.batches
            .values()
            .filter(|b| &b.tp == tp && b.sent_to.is_some())
            .count()
    }
}

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
        if let Some(prod) = self.producers.get_mut(&id) {
            prod.request_metadata(&mut self.ctx);
        }
        Ok(id)
    }

    pub(crate) fn configure_producer(
        &mut self,
        id: ProducerId,
        config: ProducerConfig,
    ) -> Result<()> {
        validate_producer_config(&config)?;
        let prod = self.producers.get_mut(&id).ok_or_else(|| no_producer(id))?;
        prod.sticky.set_batch_size(config.batch_size as usize);
        prod.config = config;
        Ok(())
    }

    fn existing_producer(&self, id: ProducerId) -> Result<ProducerId> {
        if self.producers.contains_key(&id) {
            Ok(id)
        } else {
            Err(no_producer(id))
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
        let prod = self
            .producers
            .get_mut(&pid)
            .ok_or_else(|| no_producer(pid))?;
        let (p, sticky) =
            prod.choose_partition(&mut self.ctx, topic, n, key.as_deref(), partition)?;
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
        if let Some(prod) = self.producers.get_mut(&pid) {
            prod.accumulate(&mut self.ctx, tp, record, sticky.then_some(n));
        }
        Ok(id)
    }

    /// Runs one of the producer's own handlers with the shared context,
    /// then files what it sent with `acks=0` with the ledger.
    fn on_producer(
        &mut self,
        pid: ProducerId,
        f: impl FnOnce(&mut Producer, &mut Ctx) -> Unacknowledged,
    ) {
        let Some(prod) = self.producers.get_mut(&pid) else {
            return;
        };
        let sent = f(prod, &mut self.ctx);
        let now = self.ctx.now;
        for batch in sent {
            self.ledger
                .send_unacknowledged(pid, batch.id, &batch.tp, &batch.records, now);
        }
    }

    pub(crate) fn producer_receive(&mut self, pid: ProducerId, _from: NodeId, body: Body) {
        match body {
            Body::MetadataResponse {
                brokers,
                partitions,
            } => self.on_producer(pid, |p, ctx| {
                p.on_metadata_response(ctx, brokers, partitions)
            }),
            Body::ProduceResponse(result) => {
                let Some(prod) = self.producers.get_mut(&pid) else {
                    return;
                };
                let Some((batch, base)) = prod.on_produce_response(&mut self.ctx, result) else {
                    // An error: a batch it held up may go now.
                    return self.on_producer(pid, Producer::send_retries);
                };
                let acks = prod.config.acks;
                let now = self.ctx.now;
                self.ledger
                    .acknowledge(&batch.records, &batch.tp, base, acks, now);
                self.check_acknowledged_batch(&batch.tp, base, batch.records.len() as u64);
                self.on_producer(pid, Producer::drain);
            }
            _ => {}
        }
    }

    pub(crate) fn on_producer_timer(&mut self, pid: ProducerId, timer: ProducerTimer) {
        match timer {
            ProducerTimer::Drain => self.on_producer(pid, Producer::drain),
            ProducerTimer::RequestTimeout { batch, attempt } => {
                self.on_producer(pid, |p, ctx| p.on_request_timeout(ctx, batch, attempt))
            }
            ProducerTimer::Retry { batch } => {
                self.on_producer(pid, |p, ctx| p.on_produce_retry(ctx, batch))
            }
            ProducerTimer::MetadataRetry => self.on_producer(pid, |p, ctx| {
                p.on_metadata_retry(ctx);
                Vec::new()
            }),
            ProducerTimer::DeliveryTimeout => self.on_producer(pid, Producer::expire_batches),
            ProducerTimer::ConnectionLost { broker } => {
                // The network layer knows whether the peer process is gone
                // (the connection was reset) or only slow to answer.
                let reset = !self.brokers.get(&broker).is_some_and(|b| b.is_running());
                self.on_producer(pid, |p, ctx| p.on_connection_lost(ctx, broker, reset))
            }
        }
    }
}

/// The producer's timers, as `sim::on_timer` hands them over.
pub(crate) enum ProducerTimer {
    Drain,
    RequestTimeout { batch: u64, attempt: u32 },
    Retry { batch: u64 },
    MetadataRetry,
    DeliveryTimeout,
    ConnectionLost { broker: BrokerId },
}

fn no_producer(id: ProducerId) -> KafkaError {
    KafkaError::new(
        ErrorCode::InvalidRequest,
        format!("There is no producer {}.", id.0),
    )
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
    if config.max_in_flight_requests_per_connection == 0 {
        return Err(KafkaError::new(
            ErrorCode::InvalidConfig,
            "Invalid value 0 for configuration max.in.flight.requests.per.connection: Value must be at least 1",
        ));
    }
    if config.enable_idempotence == Some(true)
        && config.max_in_flight_requests_per_connection
            > crate::config::MAX_IN_FLIGHT_FOR_IDEMPOTENCE
    {
        return Err(KafkaError::new(
            ErrorCode::InvalidConfig,
            "Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer.",
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
