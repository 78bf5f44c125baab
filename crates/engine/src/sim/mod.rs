//! The simulation: one struct owning every node, the network and the
//! scheduler. `apply` takes a command, `advance` moves virtual time, `view`
//! draws a picture of the state. Handlers for each Kafka concept live in the
//! module named for it (`broker::replication`, `controller::election`,
//! `coordinator`, `clients::producer`…); see docs/architecture.md.

mod ctx;
pub(crate) mod random;
pub mod scheduler;
pub mod timer;

use crate::audit::ledger::Ledger;
use crate::broker::{Broker, BrokerStatus};
use crate::clients::consumer::Consumer;
use crate::clients::producer::Producer;
use crate::clients::producer::ProducerTimer;
use crate::command::Command;
use crate::config::{Acks, ClusterConfig};
use crate::controller::Controller;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::{DropReason, Event, EventKind};
use crate::ids::{BrokerId, ConsumerId, NodeId, ProducerId, SimTime, TopicPartition};
use crate::network::{Body, Message, Network, ProduceRequest};
use crate::sim::scheduler::Item;
use crate::sim::timer::Timer;
pub use ctx::Ctx;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// A whole simulated Kafka deployment.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) config: ClusterConfig,
    /// The clock, rng, network, timers and events every handler shares.
    pub(crate) ctx: Ctx,
    pub(crate) brokers: BTreeMap<BrokerId, Broker>,
    pub(crate) controller: Controller,
    pub(crate) producers: BTreeMap<ProducerId, Producer>,
    pub(crate) consumers: BTreeMap<ConsumerId, Consumer>,
    pub(crate) ledger: Ledger,
    pub(crate) next_record_id: u64,
    /// A slowly decaying high-water mark of `out`'s length, so the buffer
    /// for the next call rarely has to grow (and copy) while it fills.
    out_hint: usize,
    /// Items handled and commands applied so far; see `changes`.
    changes: u64,
}

impl Cluster {
    /// Builds the cluster at time zero and starts its nodes: brokers register,
    /// the controller is elected, all through messages still to be delivered.
    pub fn new(config: ClusterConfig) -> Result<Cluster> {
        validate_config(&config)?;
        let mut brokers = BTreeMap::new();
        for id in &config.brokers {
            brokers.insert(BrokerId(*id), Broker::new(BrokerId(*id)));
        }
        let mut cluster = Cluster {
            ctx: Ctx::new(
                ChaCha8Rng::seed_from_u64(config.seed),
                Network::new(config.network.clone()),
            ),
            controller: Controller::new(config.metadata_mode, config.quorum_size),
            brokers,
            producers: BTreeMap::new(),
            consumers: BTreeMap::new(),
            ledger: Ledger::default(),
            next_record_id: 0,
            out_hint: 0,
            changes: 0,
            config,
        };
        cluster.start_metadata_quorum();
        let ids: Vec<BrokerId> = cluster.brokers.keys().copied().collect();
        for id in ids {
            cluster.start_broker(id);
        }
        Ok(cluster)
    }

    pub fn now(&self) -> SimTime {
        self.ctx.now
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Applies one command at the current time. On error nothing changed.
    pub fn apply(&mut self, command: Command) -> Result<Vec<Event>> {
        let snapshot_len = self.ctx.out.len();
        match self.apply_inner(command) {
            // A command makes a handful of events: copy them out and keep
            // the buffer, sized for `advance`, for the next call.
            Ok(()) => {
                self.changes += 1;
                Ok(self.ctx.out.drain(..).collect())
            }
            Err(e) => {
                // Validation happens before any mutation; drop stray events too.
                self.ctx.out.truncate(snapshot_len);
                Err(e)
            }
        }
    }

    /// Processes everything due within the next `ms` virtual milliseconds.
    pub fn advance(&mut self, ms: u64) -> Vec<Event> {
        let until = self.ctx.now.plus(ms);
        self.run_until(until);
        self.take_events()
    }

    /// Runs until `until` (inclusive) and leaves the clock there.
    pub fn run_until(&mut self, until: SimTime) {
        while let Some((time, item)) = self.ctx.scheduler.pop_due(until) {
            self.ctx.now = time;
            self.handle(item);
        }
        if until > self.ctx.now {
            self.ctx.now = until;
        }
    }

    /// Processes the next scheduled item, whatever its time. Returns its events.
    pub fn step(&mut self) -> Vec<Event> {
        if let Some(t) = self.ctx.scheduler.next_time() {
            if let Some((time, item)) = self.ctx.scheduler.pop_due(t) {
                self.ctx.now = time;
                self.handle(item);
            }
        }
        self.take_events()
    }

    /// A count that moves whenever the cluster's state may have changed
    /// (an item handled, a command applied) and only then; the time alone
    /// moving does not count. A view drawn at one count is still true at
    /// the same count and time, so a caller can skip drawing it again.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    pub fn next_event_time(&self) -> Option<SimTime> {
        self.ctx.scheduler.next_time()
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        // Hand the buffer over without copying; the next one starts with
        // room for as many as recent calls produced.
        self.out_hint = self.ctx.out.len().max(self.out_hint - self.out_hint / 1024);
        std::mem::replace(&mut self.ctx.out, Vec::with_capacity(self.out_hint))
    }

    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.ctx.emit(kind);
    }

    /// A client's metadata refresh found partitions led elsewhere now:
    /// `(partition, new leader, old leader)`.
    pub(crate) fn schedule_timer(&mut self, after_ms: u64, timer: Timer) {
        self.ctx.schedule_timer(after_ms, timer);
    }

    /// Sends a message now; it is delivered (or dropped) later.
    pub(crate) fn send(&mut self, from: NodeId, to: NodeId, body: Body) {
        self.ctx.send(from, to, body);
    }

    pub(crate) fn node_is_up(&self, node: NodeId) -> bool {
        match node {
            NodeId::Broker(b) => self
                .brokers
                .get(&b)
                .is_some_and(|b| b.status == BrokerStatus::Running),
            NodeId::Producer(p) => self.producers.contains_key(&p),
            NodeId::ZooKeeper(z) => self.controller.zk_node_up(z),
            NodeId::Controller(c) => self.controller.quorum_node_up(c),
            NodeId::Consumer(c) => self
                .consumers
                .get(&c)
                .is_some_and(|c| c.status == crate::clients::consumer::ConsumerStatus::Running),
        }
    }

    fn handle(&mut self, item: Item) {
        self.changes += 1;
        match item {
            // The event that announced it is usually gone by now; if a caller
            // still holds it, the message is copied.
            Item::Deliver(msg) => {
                self.deliver(std::sync::Arc::try_unwrap(msg).unwrap_or_else(|m| (*m).clone()))
            }
            Item::Timer(timer) => self.on_timer(timer),
        }
    }

    fn deliver(&mut self, msg: Message) {
        // A client's request already on the wire still arrives after it exits.
        let client = matches!(msg.from, NodeId::Producer(_) | NodeId::Consumer(_));
        let reason = if !self.node_is_up(msg.from) && !client {
            Some(DropReason::SenderDown)
        } else if !self.node_is_up(msg.to) {
            Some(DropReason::ReceiverDown)
        } else if self.ctx.network.is_cut(msg.from, msg.to) {
            Some(DropReason::NetworkPartition)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.emit(EventKind::MessageDropped { id: msg.id, reason });
            self.lose_if_unacknowledged(&msg, reason);
            if reason == DropReason::ReceiverDown {
                self.on_connection_refused(&msg);
            }
            return;
        }
        self.emit(EventKind::MessageDelivered { id: msg.id });
        match msg.to {
            NodeId::Broker(b) => self.broker_receive(b, msg.from, msg.body),
            NodeId::Producer(p) => self.producer_receive(p, msg.from, msg.body),
            NodeId::ZooKeeper(z) => self.zookeeper_receive(z, msg.from, msg.body),
            NodeId::Controller(c) => self.quorum_receive(c, msg.from, msg.body),
            NodeId::Consumer(c) => self.on_consumer(c, |c, ctx| c.receive(ctx, msg.from, msg.body)),
        }
    }

    /// An `acks=0` produce request that is dropped takes its records with it.
    fn lose_if_unacknowledged(&mut self, msg: &Message, reason: DropReason) {
        let (NodeId::Producer(p), NodeId::Broker(b)) = (msg.from, msg.to) else {
            return;
        };
        if let Body::Produce(ProduceRequest {
            batch,
            acks: Acks::None,
            ..
        }) = &msg.body
        {
            let why = match reason {
                DropReason::NetworkPartition => {
                    format!("a network partition dropped the request to broker {}", b.0)
                }
                _ => format!("broker {} was down when the request arrived", b.0),
            };
            self.lose_unacknowledged(p, *batch, &why);
        }
    }

    /// A request to a dead process fails fast (connection refused), so the
    /// sender can retry elsewhere instead of waiting for a timeout.
    fn on_connection_refused(&mut self, msg: &Message) {
        let latency = self.ctx.network.latency(msg.from, msg.to);
        match (msg.from, msg.to) {
            (NodeId::Producer(p), NodeId::Broker(b)) => self.schedule_timer(
                latency,
                Timer::ConnectionLost {
                    producer: p,
                    broker: b,
                },
            ),
            (NodeId::Consumer(c), NodeId::Broker(b)) => self.schedule_timer(
                latency,
                Timer::ConsumerConnectionLost {
                    consumer: c,
                    broker: b,
                },
            ),
            (NodeId::Broker(f), NodeId::Broker(leader))
                if matches!(msg.body, Body::Fetch { .. }) =>
            {
                if let Some(inc) = self.brokers.get(&f).map(|b| b.incarnation) {
                    self.schedule_timer(
                        latency,
                        Timer::FetchBackoff {
                            broker: f,
                            incarnation: inc,
                            leader,
                        },
                    )
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::IsrCheck {
                broker,
                incarnation,
            } => self.on_isr_check(broker, incarnation),
            Timer::FetchWait {
                broker,
                incarnation,
                fetch,
            } => self.on_fetch_wait(broker, incarnation, fetch),
            Timer::FetchTimeout {
                broker,
                incarnation,
                leader,
                fetch,
            } => self.on_fetch_timeout(broker, incarnation, leader, fetch),
            Timer::FetchBackoff {
                broker,
                incarnation,
                leader,
            } => self.on_fetch_backoff(broker, incarnation, leader),
            Timer::ProduceTimeout {
                broker,
                incarnation,
                tp,
                batch,
                producer,
            } => self.on_produce_timeout(broker, incarnation, tp, batch, producer),
            Timer::ProducerDrain { producer } => {
                self.on_producer_timer(producer, ProducerTimer::Drain)
            }
            Timer::ProduceRequestTimeout {
                producer,
                batch,
                attempt,
            } => self.on_producer_timer(producer, ProducerTimer::RequestTimeout { batch, attempt }),
            Timer::ProduceRetry { producer, batch } => {
                self.on_producer_timer(producer, ProducerTimer::Retry { batch })
            }
            Timer::MetadataRetry { producer } => {
                self.on_producer_timer(producer, ProducerTimer::MetadataRetry)
            }
            Timer::DeliveryTimeout { producer } => {
                self.on_producer_timer(producer, ProducerTimer::DeliveryTimeout)
            }
            Timer::ConnectionLost { producer, broker } => {
                self.on_producer_timer(producer, ProducerTimer::ConnectionLost { broker })
            }
            Timer::ZkSessionExpiry {
                broker,
                incarnation,
            } => self.on_zk_session_expiry(broker, incarnation),
            Timer::BrokerHeartbeat {
                broker,
                incarnation,
            } => self.on_broker_heartbeat_timer(broker, incarnation),
            Timer::FenceCheck { controller, epoch } => self.on_fence_check(controller, epoch),
            Timer::QuorumTimeout {
                controller,
                incarnation,
                deadline_epoch,
            } => self.on_quorum_timeout(controller, incarnation, deadline_epoch),
            Timer::QuorumHeartbeat { controller, epoch } => {
                self.on_quorum_heartbeat(controller, epoch)
            }
            Timer::LeaderImbalanceCheck { epoch } => self.on_leader_imbalance_check(epoch),
            Timer::ConsumerHeartbeat {
                consumer,
                incarnation,
            } => self.on_consumer(consumer, |c, ctx| c.on_heartbeat_timer(ctx, incarnation)),
            Timer::ConsumerProcessed {
                consumer,
                incarnation,
            } => self.on_consumer(consumer, |c, ctx| c.on_processed(ctx, incarnation)),
            Timer::ConsumerRetry {
                consumer,
                incarnation,
            } => self.on_consumer(consumer, |c, ctx| c.on_retry(ctx, incarnation)),
            Timer::ConsumerConnectionLost { consumer, broker } => {
                // The network layer knows whether the peer process is gone.
                let reset = !self.brokers.get(&broker).is_some_and(|b| b.is_running());
                self.on_consumer(consumer, |c, ctx| c.on_connection_lost(ctx, broker, reset))
            }
            Timer::MemberSessionExpiry {
                broker,
                incarnation,
                group,
                member,
            } => self.on_member_session_expiry(broker, incarnation, &group, &member),
            Timer::RebalanceDeadline {
                broker,
                incarnation,
                group,
                rebalance,
            } => self.on_rebalance_deadline(broker, incarnation, &group, rebalance),
        }
    }

    fn apply_inner(&mut self, command: Command) -> Result<()> {
        use Command::*;
        match command {
            CreateTopic {
                name,
                partitions,
                replication_factor,
                assignment,
                config,
            } => self.create_topic(name, partitions, replication_factor, assignment, config),
            AddPartitions { topic, total } => self.add_partitions(&topic, total),
            ReassignPartition {
                topic,
                partition,
                replicas,
            } => self.reassign_partition(&topic, partition, replicas),
            ElectPreferredLeaders { topic } => self.elect_preferred_leaders(topic.as_deref()),
            AddBroker { id } => self.add_broker(id),
            CrashBroker { broker } => self.crash_broker(self.existing_broker(broker)?),
            RestartBroker { broker } => self.restart_broker(self.existing_broker(broker)?),
            ShutdownBroker { broker } => self.shutdown_broker(self.existing_broker(broker)?),
            CrashZooKeeper { node } => self.crash_zookeeper(node),
            RestartZooKeeper { node } => self.restart_zookeeper(node),
            CrashController { node } => self.crash_quorum_node(node),
            RestartController { node } => self.restart_quorum_node(node),
            CreateProducer { id, config } => self.create_producer(id, config).map(|_| ()),
            ConfigureProducer { producer, config } => self.configure_producer(producer, config),
            Produce {
                producer,
                topic,
                key,
                value,
                partition,
            } => self
                .produce(producer, &topic, key, value, partition)
                .map(|_| ()),
            CreateConsumer {
                id,
                config,
                topics,
                partitions,
            } => {
                let subscription = match (topics, partitions) {
                    (Some(t), None) => crate::clients::consumer::Subscription::Topics(t),
                    (None, Some(p)) => crate::clients::consumer::Subscription::Partitions(p),
                    _ => {
                        return Err(KafkaError::new(
                            ErrorCode::InvalidRequest,
                            "A consumer either subscribes to topics or is assigned partitions: give exactly one of `topics` and `partitions`.",
                        ))
                    }
                };
                self.create_consumer(id, config, subscription)
            }
            CrashConsumer { consumer } => self.crash_consumer(consumer),
            RestartConsumer { consumer } => self.restart_consumer(consumer),
            CloseConsumer { consumer } => self.close_consumer(consumer),
            PauseConsumer { consumer, pause } => self.pause_consumer(consumer, pause),
            SetConsumerProcessing {
                consumer,
                processing_ms,
            } => self.set_consumer_processing(consumer, processing_ms),
            CommitConsumer { consumer } => self.commit_consumer(consumer),
            SeekConsumer {
                consumer,
                topic,
                partition,
                to,
            } => self.seek_consumer(consumer, TopicPartition::new(topic, partition), to),
            PartitionNetwork { a, b } => self.partition_network(a, b),
            SetLinkLatency { a, b, latency_ms } => self.set_link_latency(a, b, latency_ms),
            HealNetwork { a, b } => self.heal_network(a, b),
        }
    }

    pub(crate) fn existing_broker(&self, id: BrokerId) -> Result<BrokerId> {
        if self.brokers.contains_key(&id) {
            Ok(id)
        } else {
            Err(KafkaError::new(
                ErrorCode::BrokerNotAvailable,
                format!("There is no broker {} in this cluster.", id.0),
            ))
        }
    }

    fn partition_network(&mut self, a: NodeId, b: NodeId) -> Result<()> {
        if a == b {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "A network partition needs two different nodes.",
            ));
        }
        for n in [a, b] {
            if !self.node_exists(n) {
                return Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    format!("There is no {n} in this cluster."),
                ));
            }
        }
        if self.ctx.network.cut(a, b) {
            self.emit(EventKind::NetworkPartitioned { a, b });
        }
        Ok(())
    }

    fn set_link_latency(&mut self, a: NodeId, b: NodeId, latency_ms: u64) -> Result<()> {
        if a == b || !self.node_exists(a) || !self.node_exists(b) || latency_ms > 600_000 {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "A link needs two different existing nodes and a latency of at most 600000 ms.",
            ));
        }
        self.ctx.network.set_latency(a, b, latency_ms);
        self.emit(EventKind::LinkLatencyChanged { a, b, latency_ms });
        Ok(())
    }

    fn heal_network(&mut self, a: Option<NodeId>, b: Option<NodeId>) -> Result<()> {
        match (a, b) {
            (Some(a), Some(b)) => {
                self.ctx.network.heal(a, b);
            }
            _ => {
                self.ctx.network.heal_all();
            }
        }
        self.emit(EventKind::NetworkHealed { a, b });
        Ok(())
    }

    pub(crate) fn node_exists(&self, node: NodeId) -> bool {
        match node {
            NodeId::Broker(b) => self.brokers.contains_key(&b),
            NodeId::Producer(p) => self.producers.contains_key(&p),
            NodeId::ZooKeeper(z) => self.controller.has_zk_node(z),
            NodeId::Controller(c) => self.controller.has_quorum_node(c),
            NodeId::Consumer(c) => self.consumers.contains_key(&c),
        }
    }

    pub(crate) fn next_record_id(&mut self) -> crate::ids::RecordId {
        self.next_record_id += 1;
        crate::ids::RecordId(self.next_record_id)
    }
}

fn validate_config(config: &ClusterConfig) -> Result<()> {
    let bad = |m: String| Err(KafkaError::new(ErrorCode::InvalidConfig, m));
    if config.brokers.is_empty() || config.brokers.len() > 64 {
        return bad("A cluster needs between 1 and 64 brokers.".into());
    }
    let mut ids = config.brokers.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != config.brokers.len() {
        return bad("Broker ids must be unique.".into());
    }
    if !(1..=7).contains(&config.quorum_size) {
        return bad(format!(
            "A {} of {} nodes is not supported; use 1 to 7 (3 or 5 are usual).",
            match config.metadata_mode {
                crate::config::MetadataMode::Zookeeper => "ZooKeeper ensemble",
                crate::config::MetadataMode::Kraft => "controller quorum",
            },
            config.quorum_size
        ));
    }
    if config.broker.replica_lag_time_max_ms == 0 || config.broker.min_insync_replicas == 0 {
        return bad("replica.lag.time.max.ms and min.insync.replicas must be at least 1.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_move_with_state_not_with_time() {
        let mut c = Cluster::new(ClusterConfig::default()).expect("valid");
        c.advance(1_000);
        let settled = c.changes();
        assert!(settled > 0, "starting the nodes handled messages");
        // Nothing is due before the next item: time moves, state does not.
        let next = c.next_event_time().expect("heartbeats are scheduled");
        let quiet = next.0 - c.now().0 - 1;
        c.advance(quiet);
        assert_eq!(c.changes(), settled);
        c.advance(1);
        assert!(c.changes() > settled, "the item due then was handled");
        let before = c.changes();
        c.apply(Command::CreateProducer {
            id: Some(ProducerId(1)),
            config: crate::ProducerConfig::default(),
        })
        .expect("producer");
        assert!(c.changes() > before, "a command applied");
        let before = c.changes();
        assert!(c
            .apply(Command::CreateProducer {
                id: Some(ProducerId(1)),
                config: crate::ProducerConfig::default(),
            })
            .is_err());
        assert_eq!(c.changes(), before, "a refused command changes nothing");
    }
}
