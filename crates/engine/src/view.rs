//! A serialisable picture of the cluster for drawing and inspecting: what
//! each broker holds, who leads what, what is in sync, what is in flight.
//! Built from the state on demand; the engine never stores it.

use crate::broker::{BrokerStatus, Role};
use crate::cluster::Cluster;
use crate::config::{Acks, MetadataMode};
use crate::controller::QuorumRole;
use crate::ids::{BrokerId, NodeId, ProducerId, SimTime, TopicPartition};
use crate::ledger::LostRecord;
use crate::network::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    pub time: SimTime,
    pub mode: MetadataMode,
    pub active_controller: Option<NodeId>,
    pub controller_epoch: u32,
    pub quorum_ok: bool,
    pub brokers: Vec<BrokerView>,
    pub quorum: Vec<QuorumNodeView>,
    pub topics: Vec<TopicView>,
    pub producers: Vec<ProducerView>,
    pub in_flight: Vec<Message>,
    pub network_cuts: Vec<(NodeId, NodeId)>,
    pub lost: Vec<LostRecord>,
    pub acknowledged_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerView {
    pub id: BrokerId,
    pub status: BrokerStatus,
    /// Registered (ZooKeeper) or unfenced (KRaft) as the controller sees it.
    pub registered: bool,
    pub is_controller: bool,
    pub replicas: Vec<ReplicaView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaView {
    pub tp: TopicPartition,
    /// The controller's word: this broker is the partition's leader.
    pub leader: bool,
    pub in_sync: bool,
    pub preferred: bool,
    pub log_end_offset: u64,
    pub high_watermark: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumNodeView {
    /// `ZooKeeper N` or `Controller N`.
    pub node: NodeId,
    pub alive: bool,
    pub role: Option<QuorumRole>,
    pub epoch: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicView {
    pub name: String,
    pub internal: bool,
    pub min_insync_replicas: u32,
    pub unclean_leader_election_enable: bool,
    pub partitions: Vec<PartitionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionView {
    pub partition: u32,
    pub replicas: Vec<BrokerId>,
    pub leader: Option<BrokerId>,
    pub leader_epoch: u32,
    pub isr: Vec<BrokerId>,
    pub preferred_leader: Option<BrokerId>,
    pub high_watermark: u64,
    pub log_end_offset: u64,
    pub reassigning: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerView {
    pub id: ProducerId,
    pub acks: Acks,
    pub idempotent: bool,
    pub partitioner: crate::partitioner::PartitionerKind,
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub in_flight: u64,
}

impl Cluster {
    pub fn view(&self) -> ClusterView {
        ClusterView {
            time: self.now,
            mode: self.controller.mode,
            active_controller: self.controller.active,
            controller_epoch: self.controller.epoch,
            quorum_ok: self.controller.has_majority(),
            brokers: self
                .brokers
                .values()
                .map(|b| self.broker_view(b.id))
                .collect(),
            quorum: self.quorum_view(),
            topics: self.topic_views(),
            producers: self.producer_views(),
            in_flight: self.scheduler.in_flight().into_iter().cloned().collect(),
            network_cuts: self.network.cuts().copied().collect(),
            lost: self.ledger.lost.clone(),
            acknowledged_total: self.ledger.acknowledged_total,
        }
    }

    fn broker_view(&self, id: BrokerId) -> BrokerView {
        let broker = &self.brokers[&id];
        let replicas = self
            .controller
            .partitions
            .values()
            .filter(|s| s.replicas.contains(&id))
            .map(|s| {
                let local = broker.replicas.get(&s.tp);
                ReplicaView {
                    tp: s.tp.clone(),
                    leader: s.leader == Some(id),
                    in_sync: s.isr.contains(&id),
                    preferred: s.preferred_leader() == Some(id),
                    log_end_offset: local.map_or(0, |r| r.log.log_end_offset()),
                    high_watermark: local.map_or(0, |r| r.high_watermark),
                }
            })
            .collect();
        BrokerView {
            id,
            status: broker.status,
            registered: self.controller.live_brokers.contains(&id),
            is_controller: self.controller.active == Some(NodeId::Broker(id)),
            replicas,
        }
    }

    fn quorum_view(&self) -> Vec<QuorumNodeView> {
        match self.controller.mode {
            MetadataMode::Zookeeper => self
                .controller
                .zk_nodes
                .iter()
                .map(|(z, up)| QuorumNodeView {
                    node: NodeId::ZooKeeper(*z),
                    alive: *up,
                    role: None,
                    epoch: 0,
                })
                .collect(),
            MetadataMode::Kraft => self
                .controller
                .quorum
                .iter()
                .map(|(c, n)| QuorumNodeView {
                    node: NodeId::Controller(*c),
                    alive: n.alive,
                    role: n.alive.then_some(n.role),
                    epoch: n.epoch,
                })
                .collect(),
        }
    }

    fn topic_views(&self) -> Vec<TopicView> {
        self.controller
            .topics
            .values()
            .map(|t| TopicView {
                name: t.name.clone(),
                internal: crate::topic_name::is_internal(&t.name),
                min_insync_replicas: self.min_insync_replicas(&t.name),
                unclean_leader_election_enable: self.unclean_election_enabled(&t.name),
                partitions: (0..t.partitions)
                    .filter_map(|p| self.partition_view(&TopicPartition::new(t.name.clone(), p)))
                    .collect(),
            })
            .collect()
    }

    fn partition_view(&self, tp: &TopicPartition) -> Option<PartitionView> {
        let s = self.controller.partitions.get(tp)?;
        let leader_replica = s
            .leader
            .and_then(|l| self.brokers.get(&l))
            .and_then(|b| b.replicas.get(tp))
            .filter(|r| matches!(r.role, Role::Leader(_)));
        Some(PartitionView {
            partition: tp.partition,
            replicas: s.replicas.clone(),
            leader: s.leader,
            leader_epoch: s.leader_epoch,
            isr: s.isr.clone(),
            preferred_leader: s.preferred_leader(),
            high_watermark: leader_replica.map_or(0, |r| r.high_watermark),
            log_end_offset: leader_replica.map_or(0, |r| r.log.log_end_offset()),
            reassigning: self.controller.reassignments.contains_key(tp),
        })
    }

    fn producer_views(&self) -> Vec<ProducerView> {
        self.producers
            .values()
            .map(|p| ProducerView {
                id: p.id,
                acks: p.config.acks,
                idempotent: p.config.enable_idempotence,
                partitioner: p.config.partitioner.clone(),
                sent: p.stats.sent,
                acknowledged: p.stats.acknowledged,
                failed: p.stats.failed,
                in_flight: p.batches.values().map(|b| b.records.len() as u64).sum(),
            })
            .collect()
    }

    /// The log of one replica, for the inspector.
    pub fn replica_log(&self, broker: BrokerId, tp: &TopicPartition) -> Option<&crate::log::Log> {
        self.brokers.get(&broker)?.replicas.get(tp).map(|r| &r.log)
    }
}
