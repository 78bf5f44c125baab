//! Brokers: their lifecycle (start, crash, restart, graceful shutdown, add),
//! the replicas they host, and the client requests they serve: Produce and
//! Metadata. Replication between brokers is in `replication`.

mod fetch;
mod isr;
pub mod log;
pub mod partition;
pub mod replication;

use crate::broker::log::Log;
use crate::broker::partition::PartitionState;
use crate::config::{Acks, MetadataMode};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, ProducerId, SimTime, TopicPartition};
use crate::network::{Body, PartitionMetadata, ProduceRequest, ProduceResult};
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerStatus {
    Running,
    /// Killed: in-memory state gone, the log on disk kept.
    Crashed,
    /// Stopped cleanly after moving its leadership away.
    Stopped,
}

/// What a leader knows about one follower (Kafka's `Replica` on the leader).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerProgress {
    pub log_end_offset: u64,
    pub last_caught_up: SimTime,
    pub last_fetch_time: SimTime,
    pub last_fetch_leader_leo: u64,
    /// The high watermark last sent to this follower (incremental fetch).
    pub high_watermark_sent: Option<u64>,
}

/// A produce waiting in the leader's purgatory for acks=all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingProduce {
    pub producer: ProducerId,
    pub batch: u64,
    pub base_offset: u64,
    /// The HW must reach this (last offset + 1).
    pub required_offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderState {
    pub isr: Vec<BrokerId>,
    pub partition_epoch: u32,
    pub epoch_start_offset: u64,
    pub followers: BTreeMap<BrokerId, FollowerProgress>,
    pub pending: Vec<PendingProduce>,
    /// When an AlterPartition was sent and not yet answered.
    pub alter_sent_at: Option<SimTime>,
    /// The ISR proposed in that AlterPartition. Until the controller answers,
    /// the high watermark respects it too (Kafka's "maximal ISR"), so a
    /// follower being added cannot be elected without what was committed.
    pub proposed_isr: Vec<BrokerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Leader(LeaderState),
    Follower { leader: Option<BrokerId> },
}

/// One partition's replica on a broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replica {
    pub log: Log,
    pub high_watermark: u64,
    pub leader_epoch: u32,
    pub role: Role,
}

impl Replica {
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }
    pub fn leader_state(&self) -> Option<&LeaderState> {
        match &self.role {
            Role::Leader(s) => Some(s),
            Role::Follower { .. } => None,
        }
    }
}

/// A follower fetch parked at the leader until data arrives or time runs out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedFetch {
    pub follower: BrokerId,
    pub partitions: Vec<crate::network::FetchPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broker {
    pub id: BrokerId,
    pub status: BrokerStatus,
    /// Bumped at every start so stale timers are ignored.
    pub incarnation: u32,
    pub replicas: BTreeMap<TopicPartition, Replica>,
    /// The broker's metadata cache: what clients are told.
    pub metadata: BTreeMap<TopicPartition, PartitionState>,
    pub controller_epoch_seen: u32,
    pub parked: BTreeMap<u64, ParkedFetch>,
    pub next_fetch_id: u64,
    /// Follower side: leader → id of the fetch in flight to it.
    pub fetch_in_flight: BTreeMap<BrokerId, u64>,
    /// Consumer fetches parked until the high watermark moves.
    #[serde(skip)]
    pub parked_consumers: BTreeMap<u64, ParkedConsumerFetch>,
    /// Groups this broker coordinates (it leads their `__consumer_offsets` partition).
    #[serde(skip)]
    pub groups: BTreeMap<String, crate::coordinator::Group>,
}

/// A consumer fetch waiting for data (`fetch.max.wait.ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedConsumerFetch {
    pub consumer: crate::ids::ConsumerId,
    pub partitions: Vec<crate::network::ConsumerFetchPartition>,
}

impl Broker {
    pub fn new(id: BrokerId) -> Broker {
        Broker {
            id,
            status: BrokerStatus::Running,
            incarnation: 0,
            replicas: BTreeMap::new(),
            metadata: BTreeMap::new(),
            controller_epoch_seen: 0,
            parked: BTreeMap::new(),
            next_fetch_id: 0,
            fetch_in_flight: BTreeMap::new(),
            parked_consumers: BTreeMap::new(),
            groups: BTreeMap::new(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.status == BrokerStatus::Running
    }

    /// Forget everything held in memory; keep logs and checkpointed HWs.
    fn lose_memory(&mut self) {
        for replica in self.replicas.values_mut() {
            replica.role = Role::Follower { leader: None };
        }
        self.metadata.clear();
        self.parked.clear();
        self.fetch_in_flight.clear();
        self.parked_consumers.clear();
        self.groups.clear();
    }
}

impl Cluster {
    /// Starts a broker process: register with ZooKeeper (and try to become
    /// controller) or, in KRaft mode, start heartbeating to the controller.
    pub(crate) fn start_broker(&mut self, id: BrokerId) {
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        broker.status = BrokerStatus::Running;
        broker.incarnation += 1;
        let inc = broker.incarnation;
        let half_lag = (self.config.broker.replica_lag_time_max_ms / 2).max(1);
        self.schedule_timer(
            half_lag,
            Timer::IsrCheck {
                broker: id,
                incarnation: inc,
            },
        );
        match self.config.metadata_mode {
            MetadataMode::Zookeeper => {
                if let Some(zk) = self.zk_server_for(id) {
                    let from = NodeId::Broker(id);
                    self.send(
                        from,
                        NodeId::ZooKeeper(zk),
                        Body::RegisterBroker { broker: id },
                    );
                    self.send(
                        from,
                        NodeId::ZooKeeper(zk),
                        Body::CreateControllerNode { broker: id },
                    );
                }
            }
            MetadataMode::Kraft => self.send_broker_heartbeat(id),
        }
    }

    pub(crate) fn add_broker(&mut self, id: Option<BrokerId>) -> Result<()> {
        let id = match id {
            Some(id) => id.0,
            None => self.brokers.keys().map(|b| b.0 + 1).max().unwrap_or(1),
        };
        if self.brokers.contains_key(&BrokerId(id)) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("Broker {id} already exists: broker.id must be unique in a cluster."),
            ));
        }
        if self.brokers.len() >= 64 {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "This simulator runs at most 64 brokers.",
            ));
        }
        self.brokers.insert(BrokerId(id), Broker::new(BrokerId(id)));
        self.emit(EventKind::BrokerAdded {
            broker: BrokerId(id),
        });
        self.start_broker(BrokerId(id));
        Ok(())
    }

    pub(crate) fn crash_broker(&mut self, id: BrokerId) -> Result<()> {
        let broker = self.brokers.get_mut(&id).expect("checked by caller");
        if !broker.is_running() {
            return Err(KafkaError::new(
                ErrorCode::BrokerNotAvailable,
                format!("Broker {} is not running.", id.0),
            ));
        }
        broker.status = BrokerStatus::Crashed;
        broker.lose_memory();
        self.emit(EventKind::BrokerCrashed { broker: id });
        self.on_broker_process_gone(id);
        if self.config.metadata_mode == MetadataMode::Zookeeper {
            let inc = self.brokers[&id].incarnation;
            let timeout = self.config.broker.zookeeper_session_timeout_ms;
            self.schedule_timer(
                timeout,
                Timer::ZkSessionExpiry {
                    broker: id,
                    incarnation: inc,
                },
            );
        }
        Ok(())
    }

    /// Clients connected to a dead broker see their connections drop.
    fn on_broker_process_gone(&mut self, id: BrokerId) {
        let latency = self.ctx.network.config.latency_ms.max(1); // client notices the reset
        let producers: Vec<ProducerId> = self
            .producers
            .iter()
            .filter(|(_, p)| p.has_in_flight_to(id))
            .map(|(pid, _)| *pid)
            .collect();
        for producer in producers {
            self.schedule_timer(
                latency,
                Timer::ConnectionLost {
                    producer,
                    broker: id,
                },
            );
        }
        for consumer in self.consumers_talking_to(id) {
            self.schedule_timer(
                latency,
                Timer::ConsumerConnectionLost {
                    consumer,
                    broker: id,
                },
            );
        }
        // So do followers whose fetch it was holding (a fetch waits at the
        // leader up to replica.fetch.wait.max.ms): without this, the follower
        // waited out replica.socket.timeout.ms (30 s) before fetching from
        // anyone again, even from a new leader.
        let followers: Vec<(BrokerId, u32)> = self
            .brokers
            .iter()
            .filter(|(f, b)| **f != id && b.is_running() && b.fetch_in_flight.contains_key(&id))
            .map(|(f, b)| (*f, b.incarnation))
            .collect();
        for (broker, incarnation) in followers {
            self.schedule_timer(
                latency,
                Timer::FetchBackoff {
                    broker,
                    incarnation,
                    leader: id,
                },
            );
        }
    }

    pub(crate) fn restart_broker(&mut self, id: BrokerId) -> Result<()> {
        if self.brokers[&id].is_running() {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("Broker {} is already running.", id.0),
            ));
        }
        self.emit(EventKind::BrokerRestarted { broker: id });
        self.start_broker(id);
        Ok(())
    }

    /// Graceful shutdown: the controller moves leadership away first, then the
    /// broker stops and deregisters at once (no session timeout to wait for).
    pub(crate) fn shutdown_broker(&mut self, id: BrokerId) -> Result<()> {
        if !self.brokers[&id].is_running() {
            return Err(KafkaError::new(
                ErrorCode::BrokerNotAvailable,
                format!("Broker {} is not running.", id.0),
            ));
        }
        self.controlled_shutdown(id);
        let broker = self.brokers.get_mut(&id).expect("exists");
        broker.status = BrokerStatus::Stopped;
        broker.lose_memory();
        self.emit(EventKind::BrokerShutDown { broker: id });
        self.on_broker_process_gone(id);
        Ok(())
    }

    pub(crate) fn broker_receive(&mut self, id: BrokerId, from: NodeId, body: Body) {
        match body {
            Body::Produce(request) => self.handle_produce(id, from, request),
            Body::Metadata { topics } => self.handle_metadata(id, from, topics),
            Body::ConsumerFetch {
                partitions,
                max_wait_ms,
            } => {
                if let NodeId::Consumer(c) = from {
                    let broker = self
                        .brokers
                        .get_mut(&id)
                        .expect("delivered to a live broker");
                    broker.handle_consumer_fetch(&mut self.ctx, c, partitions, max_wait_ms)
                }
            }
            Body::ListOffsets { tp, spec } => {
                self.brokers[&id].handle_list_offsets(&mut self.ctx, from, tp, spec)
            }
            Body::FindCoordinator { group } => self.handle_find_coordinator(id, from, group),
            body => match from {
                NodeId::Consumer(c) => self.coordinator_receive(id, c, body),
                _ => self.broker_receive_replication(id, from, body),
            },
        }
    }

    /// Group coordinator requests from a consumer.
    fn coordinator_receive(&mut self, id: BrokerId, c: crate::ids::ConsumerId, body: Body) {
        match body {
            Body::JoinGroup(request) => self.handle_join_group(id, c, request),
            Body::SyncGroup {
                group,
                generation,
                member_id,
                assignments,
            } => self.handle_sync_group(id, c, group, generation, member_id, assignments),
            Body::Heartbeat {
                group,
                generation,
                member_id,
            } => self.handle_heartbeat(id, c, group, generation, member_id),
            Body::LeaveGroup { group, member_id } => self.handle_leave_group(id, group, member_id),
            Body::OffsetCommit(request) => self.handle_offset_commit(id, c, request),
            Body::OffsetFetch { group, partitions } => {
                self.handle_offset_fetch(id, c, group, partitions)
            }
            _ => {}
        }
    }

    /// Requests between brokers and from the controller.
    fn broker_receive_replication(&mut self, id: BrokerId, from: NodeId, body: Body) {
        match body {
            Body::LeaderAndIsr {
                controller_epoch,
                partitions,
            } => self.handle_leader_and_isr(id, controller_epoch, partitions),
            Body::Fetch {
                replica,
                partitions,
            } => self.handle_fetch(id, replica, partitions),
            Body::FetchResponse { partitions } => {
                if let NodeId::Broker(leader) = from {
                    self.handle_fetch_response(id, leader, partitions)
                }
            }
            // ZooKeeper mode: the controller is a broker.
            Body::AlterPartition {
                tp,
                leader_epoch,
                partition_epoch,
                new_isr,
            } if self.controller.active == Some(NodeId::Broker(id)) => {
                self.handle_alter_partition(from, tp, leader_epoch, partition_epoch, new_isr)
            }
            _ => {}
        }
    }

    fn handle_metadata(&mut self, id: BrokerId, from: NodeId, topics: Vec<String>) {
        let broker = &self.brokers[&id];
        let partitions: Vec<PartitionMetadata> = broker
            .metadata
            .values()
            .filter(|s| topics.is_empty() || topics.iter().any(|t| **t == *s.tp.topic))
            .map(|s| PartitionMetadata {
                tp: s.tp.clone(),
                leader: s.leader,
                leader_epoch: s.leader_epoch,
            })
            .collect();
        let brokers = self.controller.live_brokers.iter().copied().collect();
        self.send(
            NodeId::Broker(id),
            from,
            Body::MetadataResponse {
                brokers,
                partitions,
            },
        );
    }

    fn produce_reply(&mut self, id: BrokerId, to: NodeId, result: ProduceResult) {
        self.send(NodeId::Broker(id), to, Body::ProduceResponse(result));
    }

    /// The leader's side of Produce (Kafka's `Partition.appendRecordsToLeader`
    /// and the delayed-produce purgatory). Everything it knows of the
    /// producer arrived in `request`, as on the wire.
    fn handle_produce(&mut self, id: BrokerId, from: NodeId, request: ProduceRequest) {
        let ProduceRequest {
            tp,
            batch,
            records,
            acks,
            timeout_ms,
        } = request;
        let reply = |error: Option<ErrorCode>, base_offset: Option<u64>| ProduceResult {
            tp: tp.clone(),
            batch,
            error,
            base_offset,
        };
        let now = self.ctx.now;
        let under_min = acks == Acks::All
            && self
                .leader_isr_len(id, &tp)
                .is_some_and(|n| self.under_min_isr(&tp, n));
        let broker = self
            .brokers
            .get_mut(&id)
            .expect("delivered to a live broker");
        let Some(replica) = broker.replicas.get_mut(&tp).filter(|r| r.is_leader()) else {
            return self.refuse_produce_not_leader(id, from, acks, reply(None, None));
        };
        let epoch = replica.leader_epoch;
        if under_min {
            self.produce_reply(id, from, reply(Some(ErrorCode::NotEnoughReplicas), None));
            return;
        }
        // Idempotence: a retried batch already in the log gets its old offset.
        let duplicate = records.first().and_then(|r| {
            r.sequence
                .and_then(|seq| replica.log.find_sequence(r.producer, seq))
        });
        let (base_offset, appended) = match duplicate {
            Some(offset) => (offset, 0),
            None => {
                let batch = records
                    .iter()
                    .map(|r| crate::broker::log::Record {
                        leader_epoch: epoch,
                        append_time: now.0,
                        ..r.clone()
                    })
                    .collect();
                (replica.log.append_batch(batch), records.len() as u64)
            }
        };
        let required_offset = base_offset + records.len() as u64;
        if appended > 0 {
            self.emit(EventKind::RecordsAppended {
                tp: tp.clone(),
                broker: id,
                base_offset,
                count: appended,
                leader: true,
            });
            self.on_leader_append(id, &tp);
        }
        match acks {
            Acks::None => {
                if let NodeId::Producer(p) = from {
                    self.place_unacknowledged(p, batch, base_offset);
                }
            }
            Acks::Leader => self.produce_reply(id, from, reply(None, Some(base_offset))),
            Acks::All => {
                if let NodeId::Producer(producer) = from {
                    let pending = PendingProduce {
                        producer,
                        batch,
                        base_offset,
                        required_offset,
                    };
                    self.park_produce(id, &tp, pending, timeout_ms);
                }
            }
        }
    }

    /// Produce to a broker that does not lead the partition. With acks=0
    /// Kafka closes the connection instead of replying; the producer's
    /// client asks for fresh metadata when it notices.
    fn refuse_produce_not_leader(
        &mut self,
        id: BrokerId,
        from: NodeId,
        acks: Acks,
        mut reply: ProduceResult,
    ) {
        match (acks, from) {
            (Acks::None, NodeId::Producer(p)) => {
                self.lose_unacknowledged(
                    p,
                    reply.batch,
                    &format!(
                        "broker {} does not lead {} (NOT_LEADER_OR_FOLLOWER) and sends no reply",
                        id.0, reply.tp
                    ),
                );
                // Closing the connection is the network's business: the
                // producer notices after one trip.
                let latency = self.ctx.network.latency(from, NodeId::Broker(id));
                if let Some(producer) = self.producers.get_mut(&p) {
                    producer.on_connection_closed(&mut self.ctx, latency);
                }
            }
            (Acks::None, _) => {}
            _ => {
                reply.error = Some(ErrorCode::NotLeaderOrFollower);
                self.produce_reply(id, from, reply)
            }
        }
    }

    /// acks=all: the produce waits in the leader's purgatory until the ISR
    /// has it or the request's `timeout_ms` passes.
    fn park_produce(
        &mut self,
        id: BrokerId,
        tp: &TopicPartition,
        pending: PendingProduce,
        timeout_ms: u64,
    ) {
        let Some(Role::Leader(state)) = self.replica_mut(id, tp).map(|r| &mut r.role) else {
            return;
        };
        let (producer, batch) = (pending.producer, pending.batch);
        state.pending.push(pending);
        let inc = self.brokers[&id].incarnation;
        self.schedule_timer(
            timeout_ms,
            Timer::ProduceTimeout {
                broker: id,
                incarnation: inc,
                tp: tp.clone(),
                batch,
                producer,
            },
        );
        self.complete_delayed_produces(id, tp);
    }

    /// Kafka's `checkEnoughReplicasReachOffset` for every parked produce.
    pub(crate) fn complete_delayed_produces(&mut self, id: BrokerId, tp: &TopicPartition) {
        let isr_len = self.leader_isr_len(id, tp).unwrap_or(0);
        let under_min = self.under_min_isr(tp, isr_len);
        let Some(replica) = self.replica_mut(id, tp) else {
            return;
        };
        let hw = replica.high_watermark;
        let Role::Leader(state) = &mut replica.role else {
            return;
        };
        if !state.pending.iter().any(|p| hw >= p.required_offset) {
            return;
        }
        let (done, waiting): (Vec<_>, Vec<_>) = state
            .pending
            .drain(..)
            .partition(|p| hw >= p.required_offset);
        state.pending = waiting;
        for p in done {
            let error = under_min.then_some(ErrorCode::NotEnoughReplicasAfterAppend);
            let result = ProduceResult {
                tp: tp.clone(),
                batch: p.batch,
                error,
                base_offset: Some(p.base_offset),
            };
            self.produce_reply(id, NodeId::Producer(p.producer), result);
        }
    }

    /// Replies to every parked produce with `error` (the replica stopped leading).
    pub(crate) fn fail_delayed_produces(
        &mut self,
        id: BrokerId,
        pending: Vec<PendingProduce>,
        tp: &TopicPartition,
    ) {
        for p in pending {
            let result = ProduceResult {
                tp: tp.clone(),
                batch: p.batch,
                error: Some(ErrorCode::NotLeaderOrFollower),
                base_offset: None,
            };
            self.produce_reply(id, NodeId::Producer(p.producer), result);
        }
    }

    pub(crate) fn on_produce_timeout(
        &mut self,
        id: BrokerId,
        incarnation: u32,
        tp: TopicPartition,
        batch: u64,
        producer: ProducerId,
    ) {
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        if broker.incarnation != incarnation || !broker.is_running() {
            return;
        }
        let Some(Role::Leader(state)) = broker.replicas.get_mut(&tp).map(|r| &mut r.role) else {
            return;
        };
        let before = state.pending.len();
        state
            .pending
            .retain(|p| !(p.batch == batch && p.producer == producer));
        if state.pending.len() < before {
            let result = ProduceResult {
                tp,
                batch,
                error: Some(ErrorCode::RequestTimedOut),
                base_offset: None,
            };
            self.produce_reply(id, NodeId::Producer(producer), result);
        }
    }

    /// A broker's replica of `tp`, if the broker exists and hosts one.
    pub(crate) fn replica_mut(
        &mut self,
        id: BrokerId,
        tp: &TopicPartition,
    ) -> Option<&mut Replica> {
        self.brokers
            .get_mut(&id)
            .and_then(|b| b.replicas.get_mut(tp))
    }

    pub(crate) fn min_insync_replicas(&self, topic: &str) -> u32 {
        self.controller
            .topics
            .get(topic)
            .and_then(|t| t.config.min_insync_replicas)
            .unwrap_or(self.config.broker.min_insync_replicas)
    }

    /// Whether an ISR of `isr_len` is below Kafka's `Partition.effectiveMinIsr`
    /// (3.7+): `min.insync.replicas` capped at the partition's replica count.
    /// A topic may set a minimum its replication factor can never reach;
    /// Kafka then asks for every replica rather than refusing every
    /// `acks=all` write and freezing the HW. The replica count is looked up
    /// only when the configured minimum is not met (this runs per fetch).
    /// The size of the ISR `id` holds as `tp`'s leader, if it leads it.
    pub(crate) fn leader_isr_len(&self, id: BrokerId, tp: &TopicPartition) -> Option<usize> {
        let replica = self.brokers.get(&id)?.replicas.get(tp)?;
        replica.leader_state().map(|s| s.isr.len())
    }

    pub(crate) fn under_min_isr(&self, tp: &TopicPartition, isr_len: usize) -> bool {
        let isr_len = isr_len as u32;
        isr_len < self.min_insync_replicas(&tp.topic)
            && self
                .controller
                .partitions
                .get(tp)
                .is_none_or(|p| isr_len < p.replicas.len() as u32)
    }

    pub(crate) fn unclean_election_enabled(&self, topic: &str) -> bool {
        self.controller
            .topics
            .get(topic)
            .and_then(|t| t.config.unclean_leader_election_enable)
            .unwrap_or(self.config.broker.unclean_leader_election_enable)
    }
}
