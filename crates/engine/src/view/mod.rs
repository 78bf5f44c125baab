//! A serialisable picture of the cluster for drawing and inspecting: what
//! each broker holds, who leads what, what is in sync, what is in flight.
//! Built from the state on demand; the engine never stores it.

pub mod log;
pub mod message;

pub use log::LogRow;
pub use message::MessageKind;

use crate::audit::ledger::LostRecord;
use crate::broker::BrokerStatus;
use crate::clients::consumer::{
    AppState, Consumer, ConsumerStatus, MemberState, Processed, Subscription,
};
use crate::config::{Acks, MetadataMode};
use crate::controller::QuorumRole;
use crate::ids::{BrokerId, ConsumerId, NodeId, ProducerId, SimTime, TopicPartition};
use crate::network::Message;
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Shared with the scheduler: a view copies no message.
    pub in_flight: Vec<std::sync::Arc<Message>>,
    pub network_cuts: Vec<(NodeId, NodeId)>,
    /// Links slower than the network's usual latency, with their one-way
    /// latency in ms.
    #[serde(default)]
    pub slow_links: Vec<(NodeId, NodeId, u64)>,
    pub lost: Vec<LostRecord>,
    pub acknowledged_total: u64,
    pub consumers: Vec<ConsumerView>,
    pub groups: Vec<GroupView>,
}

/// How long an in-sync follower must have been behind before the view
/// counts down to its leaving the ISR.
pub const ISR_TIMER_AFTER_MS: u64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerView {
    pub id: ConsumerId,
    pub group: Option<String>,
    pub instance_id: Option<String>,
    pub status: ConsumerStatus,
    pub subscription: Subscription,
    pub assignor: crate::clients::assignor::AssignorList,
    pub member_id: Option<String>,
    pub generation: i32,
    pub member_state: MemberState,
    pub coordinator: Option<BrokerId>,
    /// A running group member with no partitions: more members than partitions.
    pub idle: bool,
    pub app: AppState,
    pub assigned: Vec<AssignedView>,
    /// Records fetched, not yet returned by `poll()`.
    pub buffered: usize,
    /// Records returned by `poll()`, not yet processed.
    pub in_hand: usize,
    pub processed_total: usize,
    pub duplicates: usize,
    /// The leader this consumer fetches each partition from, as its
    /// metadata says.
    #[serde(default)]
    pub routes: Vec<(TopicPartition, BrokerId)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedView {
    pub tp: TopicPartition,
    pub position: Option<u64>,
    pub high_watermark: u64,
    #[serde(default)]
    pub paused: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    pub group: String,
    /// The broker coordinating the group now, if any has loaded it.
    pub coordinator: Option<BrokerId>,
    /// The `__consumer_offsets` partition that holds the group.
    pub offsets_partition: u32,
    /// Kafka's group state name, or `Unknown` while no coordinator holds it.
    pub state: String,
    pub generation: i32,
    pub protocol: crate::clients::assignor::AssignorKind,
    pub leader: Option<String>,
    pub members: Vec<MemberView>,
    pub partitions: Vec<GroupPartitionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub member_id: String,
    pub consumer: ConsumerId,
    pub instance_id: Option<String>,
    pub assignment: Vec<TopicPartition>,
}

/// What `kafka-consumer-groups --describe` prints for one partition, plus
/// what the group's members processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPartitionView {
    pub tp: TopicPartition,
    pub committed: Option<u64>,
    pub high_watermark: u64,
    /// HW − committed; `None` before the first commit (Kafka prints `-`).
    pub lag: Option<u64>,
    pub owner: Option<ConsumerId>,
    /// Offsets the group processed more than once (at-least-once duplicates).
    pub duplicated_offsets: Vec<u64>,
    /// Offsets below the committed offset the group never processed
    /// (at-most-once gaps).
    pub skipped_offsets: Vec<u64>,
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
    /// An in-sync follower that has fallen behind: virtual ms left before
    /// its leader may drop it from the ISR (`replica.lag.time.max.ms` since
    /// it was last caught up). `None` when caught up, not in the ISR, or
    /// behind for less than `ISR_TIMER_AFTER_MS` (a fetch in progress).
    pub isr_expires_in: Option<u64>,
    /// The partition has no leader (offline): it can be neither written
    /// nor read until one is elected.
    #[serde(default)]
    pub offline: bool,
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
    pub partitioner: crate::clients::producer::partitioner::PartitionerKind,
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub in_flight: u64,
    /// The leader this producer sends each partition's records to, as its
    /// metadata says (it may be stale until a refresh).
    #[serde(default)]
    pub routes: Vec<(TopicPartition, BrokerId)>,
}

impl ClusterView {
    /// Every node, as the diagram and the network forms list them: brokers,
    /// the metadata quorum, producers, consumers.
    pub fn nodes(&self) -> Vec<NodeId> {
        std::iter::empty()
            .chain(self.brokers.iter().map(|b| NodeId::Broker(b.id)))
            .chain(self.quorum.iter().map(|q| q.node))
            .chain(self.producers.iter().map(|p| NodeId::Producer(p.id)))
            .chain(self.consumers.iter().map(|c| NodeId::Consumer(c.id)))
            .collect()
    }

    /// Where a client sends (a producer) or fetches (a consumer) a
    /// partition's records, as its metadata says; `None` for a client that
    /// has not looked up the leader, or no such client.
    pub fn route(&self, client: NodeId, tp: &TopicPartition) -> Option<BrokerId> {
        let routes = match client {
            NodeId::Producer(id) => &self.producers.iter().find(|p| p.id == id)?.routes,
            NodeId::Consumer(id) => &self.consumers.iter().find(|c| c.id == id)?.routes,
            _ => return None,
        };
        routes.iter().find(|(t, _)| t == tp).map(|(_, b)| *b)
    }

    /// The nodes a network cut separates from `node`.
    pub fn cut_off_from(&self, node: NodeId) -> Vec<NodeId> {
        self.network_cuts
            .iter()
            .filter_map(|(a, b)| match (*a == node, *b == node) {
                (true, _) => Some(*b),
                (_, true) => Some(*a),
                _ => None,
            })
            .collect()
    }
}

impl Cluster {
    pub fn view(&self) -> ClusterView {
        ClusterView {
            time: self.ctx.now,
            mode: self.controller.mode,
            active_controller: self.controller.active,
            controller_epoch: self.controller.epoch,
            quorum_ok: self.controller.has_majority(),
            brokers: self.broker_views(),
            quorum: self.quorum_view(),
            topics: self.topic_views(),
            producers: self.producer_views(),
            in_flight: self
                .ctx
                .scheduler
                .in_flight()
                .into_iter()
                .cloned()
                .collect(),
            network_cuts: self.ctx.network.cuts().copied().collect(),
            slow_links: self.ctx.network.slow_links().collect(),
            lost: self.ledger.lost.clone(),
            acknowledged_total: self.ledger.acknowledged_total,
            consumers: self.consumers.values().map(consumer_view).collect(),
            groups: self.group_views(),
        }
    }

    /// Every group a broker coordinates or a consumer names.
    fn group_views(&self) -> Vec<GroupView> {
        let mut names: std::collections::BTreeSet<String> = self
            .consumers
            .values()
            .filter_map(|c| c.config.group_id.clone())
            .collect();
        for b in self.brokers.values().filter(|b| b.is_running()) {
            names.extend(b.groups.keys().cloned());
        }
        names.into_iter().map(|g| self.group_view(&g)).collect()
    }

    fn group_view(&self, name: &str) -> GroupView {
        let otp = self.offsets_partition_for(name);
        let coordinator = self
            .controller
            .partitions
            .get(&otp)
            .and_then(|s| s.leader)
            .filter(|b| self.brokers[b].is_running() && self.brokers[b].groups.contains_key(name));
        let group = coordinator.and_then(|b| self.brokers[&b].groups.get(name));
        let members: Vec<MemberView> = group
            .map(|g| {
                g.members
                    .values()
                    .map(|m| MemberView {
                        member_id: m.member_id.clone(),
                        consumer: m.consumer,
                        instance_id: m.instance_id.clone(),
                        assignment: m.assignment.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Partitions of every topic the group's consumers read.
        let mut tps: std::collections::BTreeSet<TopicPartition> = Default::default();
        // Who in the group owns what.
        let mut owners: BTreeMap<&TopicPartition, ConsumerId> = BTreeMap::new();
        for c in self
            .consumers
            .values()
            .filter(|c| c.config.group_id.as_deref() == Some(name))
        {
            match &c.subscription {
                Subscription::Topics(topics) => {
                    for t in topics {
                        let n = self
                            .controller
                            .topics
                            .get(t.as_str())
                            .map_or(0, |m| m.partitions);
                        let first = TopicPartition::new(t.as_str(), 0);
                        tps.extend((0..n).map(|partition| TopicPartition {
                            topic: first.topic.clone(),
                            partition,
                        }));
                    }
                }
                Subscription::Partitions(p) => tps.extend(p.iter().cloned()),
            }
            for tp in c.assigned.keys() {
                owners.entry(tp).or_insert(c.id);
            }
        }
        let starts = self.ctx.delivery.consumption_start.get(name);
        let tallies = self.ctx.delivery.processed_by_group.get(name);
        if let Some(g) = group {
            tps.extend(g.offsets.keys().cloned());
        }
        let partitions = tps
            .into_iter()
            .map(|tp| {
                let committed = group.and_then(|g| g.offsets.get(&tp).copied());
                let high_watermark = self.partition_high_watermark(&tp);
                let owner = owners.get(&tp).copied();
                let tally = tallies.and_then(|m| m.get(&tp));
                let duplicated_offsets = tally
                    .map(|t| t.duplicated.iter().copied().collect())
                    .unwrap_or_default();
                let start = starts.and_then(|m| m.get(&tp)).copied();
                let skipped_offsets = match (start, committed) {
                    (Some(start), Some(committed)) => tally.map_or_else(
                        || (start..committed).take(1_000).collect(),
                        |t| t.gaps(start, committed, 1_000),
                    ),
                    _ => Vec::new(),
                };
                GroupPartitionView {
                    lag: committed.map(|c| high_watermark.saturating_sub(c)),
                    tp,
                    committed,
                    high_watermark,
                    owner,
                    duplicated_offsets,
                    skipped_offsets,
                }
            })
            .collect();
        GroupView {
            group: name.to_string(),
            coordinator,
            offsets_partition: otp.partition,
            state: group.map_or("Unknown".into(), |g| format!("{:?}", g.state)),
            generation: group.map_or(-1, |g| g.generation),
            protocol: group.map_or_else(Default::default, |g| g.protocol),
            leader: group.and_then(|g| g.leader.clone()),
            members,
            partitions,
        }
    }

    /// The high watermark on the partition's current leader.
    pub(crate) fn partition_high_watermark(&self, tp: &TopicPartition) -> u64 {
        self.controller
            .partitions
            .get(tp)
            .and_then(|s| s.leader)
            .and_then(|b| self.brokers[&b].replicas.get(tp))
            .map_or(0, |r| r.high_watermark)
    }

    fn broker_views(&self) -> Vec<BrokerView> {
        // The partitions each broker holds, in one pass over them all.
        let mut held: BTreeMap<BrokerId, Vec<&crate::broker::partition::PartitionState>> =
            BTreeMap::new();
        for s in self.controller.partitions.values() {
            for b in &s.replicas {
                held.entry(*b).or_default().push(s);
            }
        }
        self.brokers
            .keys()
            .map(|id| self.broker_view(*id, held.get(id).map_or(&[][..], Vec::as_slice)))
            .collect()
    }

    fn broker_view(
        &self,
        id: BrokerId,
        held: &[&crate::broker::partition::PartitionState],
    ) -> BrokerView {
        let broker = &self.brokers[&id];
        let replicas = held
            .iter()
            .map(|s| {
                let local = broker.replicas.get(&s.tp);
                ReplicaView {
                    tp: s.tp.clone(),
                    leader: s.leader == Some(id),
                    in_sync: s.isr.contains(&id),
                    preferred: s.preferred_leader() == Some(id),
                    log_end_offset: local.map_or(0, |r| r.log.log_end_offset()),
                    high_watermark: local.map_or(0, |r| r.high_watermark),
                    isr_expires_in: self.isr_expires_in(id, s),
                    offline: s.leader.is_none(),
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

    /// See `ReplicaView::isr_expires_in`: read from the acting leader's
    /// record of this follower.
    fn isr_expires_in(
        &self,
        follower: BrokerId,
        s: &crate::broker::partition::PartitionState,
    ) -> Option<u64> {
        let leader = s
            .leader
            .filter(|l| *l != follower && s.isr.contains(&follower))?;
        let replica = self.brokers.get(&leader)?.replicas.get(&s.tp)?;
        let progress = replica.leader_state()?.followers.get(&follower)?;
        let behind = progress.log_end_offset != replica.log.log_end_offset();
        let since = self.ctx.now.since(progress.last_caught_up);
        let lag = self.config.broker.replica_lag_time_max_ms;
        // A follower is a fetch behind after every append: that is ordinary
        // replication, not a countdown worth showing.
        (behind && since >= ISR_TIMER_AFTER_MS).then(|| lag.saturating_sub(since))
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
                internal: crate::controller::topic_name::is_internal(&t.name),
                min_insync_replicas: self.min_insync_replicas(&t.name),
                unclean_leader_election_enable: self.unclean_election_enabled(&t.name),
                partitions: {
                    let first = TopicPartition::new(t.name.as_str(), 0);
                    (0..t.partitions)
                        .filter_map(|partition| {
                            self.partition_view(&TopicPartition {
                                topic: first.topic.clone(),
                                partition,
                            })
                        })
                        .collect()
                },
            })
            .collect()
    }

    fn partition_view(&self, tp: &TopicPartition) -> Option<PartitionView> {
        let s = self.controller.partitions.get(tp)?;
        // The controller's choice, even in the moments before it has heard
        // that it leads: its log is the partition's from now on.
        let leader_replica = s
            .leader
            .and_then(|l| self.brokers.get(&l))
            .and_then(|b| b.replicas.get(tp));
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
                idempotent: p.config.idempotent(),
                partitioner: p.config.partitioner.clone(),
                sent: p.stats.sent,
                acknowledged: p.stats.acknowledged,
                failed: p.stats.failed,
                in_flight: p.batches.values().map(|b| b.records.len() as u64).sum(),
                routes: routes(&p.routes),
            })
            .collect()
    }

    /// A producer's whole configuration, so a UI can change one setting.
    pub fn producer_config(&self, id: ProducerId) -> Option<&crate::config::ProducerConfig> {
        self.producers.get(&id).map(|p| &p.config)
    }

    pub fn consumer_config(&self, id: ConsumerId) -> Option<&crate::config::ConsumerConfig> {
        self.consumers.get(&id).map(|c| &c.config)
    }

    /// The records a consumer processed most recently, oldest first (the
    /// view counts them; this lists them, without copying, for whoever
    /// reads them: a lesson's check, a test).
    pub fn processed(&self, consumer: ConsumerId) -> impl Iterator<Item = &Processed> {
        self.consumers
            .get(&consumer)
            .into_iter()
            .flat_map(|c| c.processed.iter())
    }

    /// The log of one replica, for the inspector.
    pub fn replica_log(
        &self,
        broker: BrokerId,
        tp: &TopicPartition,
    ) -> Option<&crate::broker::log::Log> {
        self.brokers.get(&broker)?.replicas.get(tp).map(|r| &r.log)
    }
}

fn consumer_view(c: &Consumer) -> ConsumerView {
    let running = c.status == ConsumerStatus::Running;
    ConsumerView {
        id: c.id,
        group: c.config.group_id.clone(),
        instance_id: c.config.group_instance_id.clone(),
        status: c.status,
        subscription: c.subscription.clone(),
        assignor: c.config.partition_assignment_strategy.clone(),
        member_id: c.member_id.clone(),
        generation: c.generation,
        member_state: c.member_state,
        coordinator: c.coordinator,
        idle: running && c.member_state == MemberState::Stable && c.assigned.is_empty(),
        app: c.app.clone(),
        assigned: c
            .assigned
            .iter()
            .map(|(tp, a)| AssignedView {
                tp: tp.clone(),
                position: a.position,
                high_watermark: a.high_watermark,
                paused: a.paused,
            })
            .collect(),
        buffered: c
            .buffer
            .values()
            .map(crate::clients::consumer::Fetched::len)
            .sum(),
        in_hand: c.in_hand.len(),
        processed_total: c.processed_total,
        duplicates: c.duplicates,
        routes: routes(&c.routes),
    }
}

fn routes(routes: &BTreeMap<TopicPartition, BrokerId>) -> Vec<(TopicPartition, BrokerId)> {
    routes.iter().map(|(tp, b)| (tp.clone(), *b)).collect()
}
