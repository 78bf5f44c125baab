//! The controller: the one node that decides leaders and ISRs and records
//! them as metadata. ZooKeeper mode (the seed's picture): a ZooKeeper
//! ensemble stores registrations and the `/controller` node; the first broker
//! to create it is the controller. KRaft mode: a Raft quorum of controllers
//! elects an active controller by majority vote; brokers heartbeat to it.

use crate::broker::Role;
use crate::cluster::Cluster;
use crate::config::{MetadataMode, TopicConfig};
use crate::event::EventKind;
use crate::ids::{BrokerId, ControllerId, NodeId, SimTime, TopicPartition, ZkNodeId};
use crate::network::Body;
use crate::partition::{
    elect_for_shutdown, elect_leader, elect_preferred, ElectionReason, PartitionState,
};
use crate::timer::Timer;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMeta {
    pub name: String,
    pub partitions: u32,
    pub config: TopicConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumRole {
    Follower,
    Candidate,
    Leader,
}

/// One KRaft controller node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumNode {
    pub alive: bool,
    pub incarnation: u32,
    pub epoch: u32,
    pub role: QuorumRole,
    pub voted_for: Option<ControllerId>,
    pub votes: BTreeSet<ControllerId>,
    pub last_heard: SimTime,
}

/// The last leader change of a partition, for explaining lost records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastElection {
    pub previous: Option<BrokerId>,
    pub unclean: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    pub mode: MetadataMode,
    /// ZooKeeper: the broker holding `/controller`. KRaft: the quorum leader.
    pub active: Option<NodeId>,
    /// ZooKeeper's controller epoch / KRaft's quorum epoch.
    pub epoch: u32,
    pub topics: BTreeMap<std::sync::Arc<str>, TopicMeta>,
    pub partitions: BTreeMap<TopicPartition, PartitionState>,
    /// Registered brokers (ZooKeeper) / unfenced brokers (KRaft).
    pub live_brokers: BTreeSet<BrokerId>,
    pub zk_nodes: BTreeMap<ZkNodeId, bool>,
    pub quorum: BTreeMap<ControllerId, QuorumNode>,
    pub last_heartbeat: BTreeMap<BrokerId, SimTime>,
    pub reassignments: BTreeMap<TopicPartition, Vec<BrokerId>>,
    pub last_election: BTreeMap<TopicPartition, LastElection>,
}

impl Controller {
    pub fn new(mode: MetadataMode, size: u32) -> Controller {
        let mut c = Controller {
            mode,
            active: None,
            epoch: 0,
            topics: BTreeMap::new(),
            partitions: BTreeMap::new(),
            live_brokers: BTreeSet::new(),
            zk_nodes: BTreeMap::new(),
            quorum: BTreeMap::new(),
            last_heartbeat: BTreeMap::new(),
            reassignments: BTreeMap::new(),
            last_election: BTreeMap::new(),
        };
        for i in 1..=size {
            match mode {
                MetadataMode::Zookeeper => {
                    c.zk_nodes.insert(ZkNodeId(i), true);
                }
                MetadataMode::Kraft => {
                    c.quorum.insert(
                        ControllerId(i),
                        QuorumNode {
                            alive: true,
                            incarnation: 0,
                            epoch: 0,
                            role: QuorumRole::Follower,
                            voted_for: None,
                            votes: BTreeSet::new(),
                            last_heard: SimTime(0),
                        },
                    );
                }
            }
        }
        c
    }

    pub fn zk_node_up(&self, z: ZkNodeId) -> bool {
        self.zk_nodes.get(&z).copied().unwrap_or(false)
    }
    pub fn has_zk_node(&self, z: ZkNodeId) -> bool {
        self.zk_nodes.contains_key(&z)
    }
    pub fn quorum_node_up(&self, c: ControllerId) -> bool {
        self.quorum.get(&c).is_some_and(|n| n.alive)
    }
    pub fn has_quorum_node(&self, c: ControllerId) -> bool {
        self.quorum.contains_key(&c)
    }

    /// A ZooKeeper ensemble or Raft quorum works only with a majority up.
    pub fn has_majority(&self) -> bool {
        let (up, total) = match self.mode {
            MetadataMode::Zookeeper => (
                self.zk_nodes.values().filter(|a| **a).count(),
                self.zk_nodes.len(),
            ),
            MetadataMode::Kraft => (
                self.quorum.values().filter(|n| n.alive).count(),
                self.quorum.len(),
            ),
        };
        up * 2 > total
    }

    /// Metadata can change only with a majority and an active controller.
    pub fn available(&self) -> bool {
        self.has_majority() && self.active.is_some()
    }

    fn majority(&self) -> usize {
        self.quorum.len() / 2 + 1
    }
}

impl Cluster {
    pub(crate) fn start_metadata_quorum(&mut self) {
        let ids: Vec<ControllerId> = self.controller.quorum.keys().copied().collect();
        for c in ids {
            self.schedule_quorum_timeout(c);
        }
    }

    /// ZooKeeper server a broker connects to: spread by id, skipping dead ones.
    pub(crate) fn zk_server_for(&self, broker: BrokerId) -> Option<ZkNodeId> {
        let nodes: Vec<ZkNodeId> = self.controller.zk_nodes.keys().copied().collect();
        let n = nodes.len();
        (0..n)
            .map(|i| nodes[(broker.0 as usize + i) % n])
            .find(|z| self.controller.zk_node_up(*z))
    }

    // ---- ZooKeeper mode -------------------------------------------------

    pub(crate) fn zookeeper_receive(&mut self, _z: ZkNodeId, _from: NodeId, body: Body) {
        if !self.controller.has_majority() {
            return; // a server without quorum serves no writes
        }
        match body {
            Body::RegisterBroker { broker }
                if self.brokers.get(&broker).is_some_and(|b| b.is_running())
                    && !self.controller.live_brokers.contains(&broker) =>
            {
                self.controller.live_brokers.insert(broker);
                self.emit(EventKind::BrokerRegistered {
                    broker,
                    in_zookeeper: true,
                });
                if self.controller.active.is_some() {
                    self.on_broker_startup(broker);
                }
            }
            Body::CreateControllerNode { broker } => {
                let eligible = self.controller.live_brokers.contains(&broker)
                    && self.brokers.get(&broker).is_some_and(|b| b.is_running());
                if self.controller.active.is_none() && eligible {
                    self.controller.active = Some(NodeId::Broker(broker));
                    self.controller.epoch += 1;
                    let epoch = self.controller.epoch;
                    self.emit(EventKind::ControllerElected {
                        controller: NodeId::Broker(broker),
                        epoch,
                    });
                    self.on_controller_failover();
                }
            }
            _ => {}
        }
    }

    pub(crate) fn on_zk_session_expiry(&mut self, broker: BrokerId, incarnation: u32) {
        let Some(b) = self.brokers.get(&broker) else {
            return;
        };
        if b.incarnation != incarnation || b.is_running() {
            return; // restarted with a new session meanwhile
        }
        if !self.controller.has_majority() {
            // ZooKeeper cannot expire sessions without quorum: look again later.
            self.schedule_timer(
                1_000,
                Timer::ZkSessionExpiry {
                    broker,
                    incarnation,
                },
            );
            return;
        }
        self.deregister_broker(
            broker,
            "its ZooKeeper session expired (zookeeper.session.timeout.ms)",
            false,
        );
    }

    /// The broker's registration is gone: if it was the controller, the others
    /// race for `/controller`; otherwise the controller handles the failure.
    fn deregister_broker(&mut self, broker: BrokerId, why: &str, clean: bool) {
        if !self.controller.live_brokers.remove(&broker) {
            return;
        }
        self.emit(EventKind::BrokerFenced {
            broker,
            reason: why.to_string(),
            clean,
        });
        if self.controller.active == Some(NodeId::Broker(broker)) {
            self.controller.active = None;
            self.emit(EventKind::ControllerResigned {
                controller: NodeId::Broker(broker),
            });
            self.race_for_controller();
        } else if self.controller.available() {
            self.reconcile_partitions(ElectionReason::LeaderFailed);
        }
    }

    /// Every live broker tries to create `/controller`; ZooKeeper takes the first.
    fn race_for_controller(&mut self) {
        let racers: Vec<BrokerId> = self
            .controller
            .live_brokers
            .iter()
            .copied()
            .filter(|b| self.brokers.get(b).is_some_and(|x| x.is_running()))
            .collect();
        for broker in racers {
            if let Some(zk) = self.zk_server_for(broker) {
                self.send(
                    NodeId::Broker(broker),
                    NodeId::ZooKeeper(zk),
                    Body::CreateControllerNode { broker },
                );
            }
        }
    }

    pub(crate) fn crash_zookeeper(&mut self, node: u32) -> crate::Result<()> {
        self.toggle_zk(node, false)
    }

    pub(crate) fn restart_zookeeper(&mut self, node: u32) -> crate::Result<()> {
        self.toggle_zk(node, true)
    }

    fn toggle_zk(&mut self, node: u32, up: bool) -> crate::Result<()> {
        use crate::error::{ErrorCode, KafkaError};
        let z = ZkNodeId(node);
        let Some(state) = self.controller.zk_nodes.get(&z).copied() else {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "There is no ZooKeeper {node} (this cluster runs in {} mode).",
                    mode_name(self.controller.mode)
                ),
            ));
        };
        if state == up {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "ZooKeeper {node} is already {}.",
                    if up { "running" } else { "down" }
                ),
            ));
        }
        let had = self.controller.has_majority();
        self.controller.zk_nodes.insert(z, up);
        self.emit(if up {
            EventKind::ZooKeeperNodeRestarted { node: z }
        } else {
            EventKind::ZooKeeperNodeCrashed { node: z }
        });
        let has = self.controller.has_majority();
        if had && !has {
            self.emit(EventKind::QuorumLost { zookeeper: true });
        } else if !had && has {
            self.emit(EventKind::QuorumRestored { zookeeper: true });
            self.on_controller_retry();
        }
        Ok(())
    }

    /// After ZooKeeper regains its majority: brokers re-register and, if there
    /// is no controller, race for it.
    pub(crate) fn on_controller_retry(&mut self) {
        if self.controller.mode != MetadataMode::Zookeeper || !self.controller.has_majority() {
            return;
        }
        let unregistered: Vec<BrokerId> = self
            .brokers
            .values()
            .filter(|b| b.is_running() && !self.controller.live_brokers.contains(&b.id))
            .map(|b| b.id)
            .collect();
        for broker in unregistered {
            if let Some(zk) = self.zk_server_for(broker) {
                self.send(
                    NodeId::Broker(broker),
                    NodeId::ZooKeeper(zk),
                    Body::RegisterBroker { broker },
                );
                self.send(
                    NodeId::Broker(broker),
                    NodeId::ZooKeeper(zk),
                    Body::CreateControllerNode { broker },
                );
            }
        }
        if self.controller.active.is_none() {
            self.race_for_controller();
        } else {
            self.reconcile_partitions(ElectionReason::LeaderFailed);
        }
    }

    // ---- KRaft mode -----------------------------------------------------

    /// A follower that knows a leader waits `controller.quorum.fetch.timeout.ms`
    /// for it; a voter without one (at start, or a candidate) waits the
    /// election timeout; both plus a random backoff so votes rarely split.
    fn schedule_quorum_timeout(&mut self, c: ControllerId) {
        let b = &self.config.broker;
        let Some(node) = self.controller.quorum.get(&c) else {
            return;
        };
        let knows_leader = node.role == QuorumRole::Follower && node.epoch > 0;
        let base = if knows_leader {
            b.controller_quorum_fetch_timeout_ms
        } else {
            b.controller_quorum_election_timeout_ms
        };
        let backoff = b.controller_quorum_election_backoff_max_ms;
        let (inc, epoch) = (node.incarnation, node.epoch);
        let jitter = self.rng.gen_range(0..=backoff);
        self.schedule_timer(
            base + jitter,
            Timer::QuorumTimeout {
                controller: c,
                incarnation: inc,
                deadline_epoch: epoch,
            },
        );
    }

    pub(crate) fn on_quorum_timeout(&mut self, c: ControllerId, inc: u32, _epoch: u32) {
        let timeout = self.config.broker.controller_quorum_fetch_timeout_ms;
        let now = self.now;
        let Some(node) = self.controller.quorum.get_mut(&c) else {
            return;
        };
        if !node.alive || node.incarnation != inc || node.role == QuorumRole::Leader {
            return;
        }
        let heard_recently =
            now.since(node.last_heard) < timeout && node.role == QuorumRole::Follower;
        if heard_recently {
            self.schedule_quorum_timeout(c);
            return;
        }
        // Become a candidate: new epoch, vote for itself, ask the others.
        node.epoch += 1;
        node.role = QuorumRole::Candidate;
        node.voted_for = Some(c);
        node.votes = BTreeSet::from([c]);
        node.last_heard = now;
        let new_epoch = node.epoch;
        self.emit(EventKind::ElectionStarted {
            candidate: NodeId::Controller(c),
            epoch: new_epoch,
        });
        self.send_to_peers(c, Body::Vote { epoch: new_epoch });
        self.maybe_win_election(c);
        self.schedule_quorum_timeout(c);
    }

    pub(crate) fn quorum_receive(&mut self, c: ControllerId, from: NodeId, body: Body) {
        let now = self.now;
        match body {
            Body::Vote { epoch } => {
                let NodeId::Controller(candidate) = from else {
                    return;
                };
                let node = self.controller.quorum.get_mut(&c).expect("live");
                step_down_if_newer(node, epoch);
                self.resign_if_deposed(c);
                let node = self.controller.quorum.get_mut(&c).expect("live");
                let granted = epoch == node.epoch
                    && node.role != QuorumRole::Leader
                    && node.voted_for.is_none_or(|v| v == candidate);
                if granted {
                    node.voted_for = Some(candidate);
                    node.last_heard = now;
                }
                self.send(
                    NodeId::Controller(c),
                    from,
                    Body::VoteResponse { epoch, granted },
                );
            }
            Body::VoteResponse { epoch, granted } => {
                let NodeId::Controller(voter) = from else {
                    return;
                };
                let node = self.controller.quorum.get_mut(&c).expect("live");
                if node.role == QuorumRole::Candidate && node.epoch == epoch && granted {
                    node.votes.insert(voter);
                    self.maybe_win_election(c);
                }
            }
            Body::BeginQuorumEpoch { epoch } | Body::QuorumHeartbeat { epoch } => {
                let node = self.controller.quorum.get_mut(&c).expect("live");
                if epoch >= node.epoch {
                    if epoch > node.epoch {
                        node.voted_for = None;
                    }
                    node.epoch = epoch;
                    node.role = QuorumRole::Follower;
                    node.last_heard = now;
                }
                self.resign_if_deposed(c);
            }
            Body::BrokerHeartbeat { broker } => self.on_broker_heartbeat(c, broker),
            Body::AlterPartition {
                tp,
                leader_epoch,
                partition_epoch,
                new_isr,
            } if self.controller.active == Some(NodeId::Controller(c)) => {
                self.handle_alter_partition(from, tp, leader_epoch, partition_epoch, new_isr)
            }
            _ => {}
        }
    }

    /// A leader that saw a newer epoch is no longer the active controller.
    fn resign_if_deposed(&mut self, c: ControllerId) {
        let deposed = self.controller.active == Some(NodeId::Controller(c))
            && self
                .controller
                .quorum
                .get(&c)
                .is_some_and(|n| n.role != QuorumRole::Leader);
        if deposed {
            self.controller.active = None;
            self.emit(EventKind::ControllerResigned {
                controller: NodeId::Controller(c),
            });
        }
    }

    fn maybe_win_election(&mut self, c: ControllerId) {
        let majority = self.controller.majority();
        let node = self.controller.quorum.get_mut(&c).expect("live");
        if node.role != QuorumRole::Candidate || node.votes.len() < majority {
            return;
        }
        node.role = QuorumRole::Leader;
        let epoch = node.epoch;
        self.controller.active = Some(NodeId::Controller(c));
        self.controller.epoch = epoch;
        self.emit(EventKind::ControllerElected {
            controller: NodeId::Controller(c),
            epoch,
        });
        self.send_to_peers(c, Body::BeginQuorumEpoch { epoch });
        // A new leader gives every registered broker a fresh session.
        let now = self.now;
        for b in self.controller.live_brokers.clone() {
            self.controller.last_heartbeat.insert(b, now);
        }
        self.schedule_timer(
            self.quorum_heartbeat_ms(),
            Timer::QuorumHeartbeat {
                controller: c,
                epoch,
            },
        );
        self.schedule_timer(
            1_000,
            Timer::FenceCheck {
                controller: c,
                epoch,
            },
        );
        self.on_controller_failover();
    }

    /// Sends the same message from controller `c` to every other voter.
    fn send_to_peers(&mut self, c: ControllerId, body: Body) {
        let peers: Vec<ControllerId> = self
            .controller
            .quorum
            .keys()
            .copied()
            .filter(|p| *p != c)
            .collect();
        for p in peers {
            self.send(NodeId::Controller(c), NodeId::Controller(p), body.clone());
        }
    }

    fn quorum_heartbeat_ms(&self) -> u64 {
        (self.config.broker.controller_quorum_fetch_timeout_ms / 4).max(1)
    }

    fn is_quorum_leader(&self, c: ControllerId, epoch: u32) -> bool {
        self.controller
            .quorum
            .get(&c)
            .is_some_and(|n| n.alive && n.role == QuorumRole::Leader && n.epoch == epoch)
    }

    pub(crate) fn on_quorum_heartbeat(&mut self, c: ControllerId, epoch: u32) {
        if !self.is_quorum_leader(c, epoch) {
            return;
        }
        self.send_to_peers(c, Body::QuorumHeartbeat { epoch });
        self.schedule_timer(
            self.quorum_heartbeat_ms(),
            Timer::QuorumHeartbeat {
                controller: c,
                epoch,
            },
        );
    }

    pub(crate) fn send_broker_heartbeat(&mut self, broker: BrokerId) {
        let Some(b) = self.brokers.get(&broker).filter(|b| b.is_running()) else {
            return;
        };
        let inc = b.incarnation;
        if let Some(active @ NodeId::Controller(_)) = self.controller.active {
            self.send(
                NodeId::Broker(broker),
                active,
                Body::BrokerHeartbeat { broker },
            );
        }
        let every = self.config.broker.broker_heartbeat_interval_ms;
        self.schedule_timer(
            every,
            Timer::BrokerHeartbeat {
                broker,
                incarnation: inc,
            },
        );
    }

    pub(crate) fn on_broker_heartbeat_timer(&mut self, broker: BrokerId, inc: u32) {
        if self
            .brokers
            .get(&broker)
            .is_some_and(|b| b.incarnation == inc)
        {
            self.send_broker_heartbeat(broker);
        }
    }

    fn on_broker_heartbeat(&mut self, c: ControllerId, broker: BrokerId) {
        if self.controller.active != Some(NodeId::Controller(c)) || !self.controller.has_majority()
        {
            return;
        }
        self.controller.last_heartbeat.insert(broker, self.now);
        if self.controller.live_brokers.insert(broker) {
            self.emit(EventKind::BrokerRegistered {
                broker,
                in_zookeeper: false,
            });
            self.on_broker_startup(broker);
        }
    }

    pub(crate) fn on_fence_check(&mut self, c: ControllerId, epoch: u32) {
        if !self.is_quorum_leader(c, epoch) {
            return;
        }
        let timeout = self.config.broker.broker_session_timeout_ms;
        let now = self.now;
        if self.controller.has_majority() {
            let stale: Vec<BrokerId> = self
                .controller
                .live_brokers
                .iter()
                .copied()
                .filter(|b| {
                    self.controller
                        .last_heartbeat
                        .get(b)
                        .is_none_or(|t| now.since(*t) > timeout)
                })
                .collect();
            for b in stale {
                self.deregister_broker(
                    b,
                    "it sent no heartbeat within broker.session.timeout.ms and was fenced",
                    false,
                );
            }
        }
        self.schedule_timer(
            1_000,
            Timer::FenceCheck {
                controller: c,
                epoch,
            },
        );
    }

    pub(crate) fn crash_quorum_node(&mut self, node: u32) -> crate::Result<()> {
        let c = self.existing_quorum_node(node)?;
        let n = self.controller.quorum.get_mut(&c).expect("checked");
        if !n.alive {
            return Err(already(format!("Controller {node} is already down.")));
        }
        n.alive = false;
        n.incarnation += 1;
        n.role = QuorumRole::Follower;
        let had = self.controller.quorum.values().filter(|n| n.alive).count() + 1
            >= self.controller.majority();
        self.emit(EventKind::ControllerNodeCrashed {
            node: NodeId::Controller(c),
        });
        if self.controller.active == Some(NodeId::Controller(c)) {
            self.controller.active = None;
        }
        if had && !self.controller.has_majority() {
            self.emit(EventKind::QuorumLost { zookeeper: false });
        }
        Ok(())
    }

    pub(crate) fn restart_quorum_node(&mut self, node: u32) -> crate::Result<()> {
        let c = self.existing_quorum_node(node)?;
        let had = self.controller.has_majority();
        let now = self.now;
        let n = self.controller.quorum.get_mut(&c).expect("checked");
        if n.alive {
            return Err(already(format!("Controller {node} is already running.")));
        }
        n.alive = true;
        n.role = QuorumRole::Follower;
        n.votes.clear();
        n.last_heard = now;
        self.emit(EventKind::ControllerNodeRestarted {
            node: NodeId::Controller(c),
        });
        if !had && self.controller.has_majority() {
            self.emit(EventKind::QuorumRestored { zookeeper: false });
        }
        self.schedule_quorum_timeout(c);
        Ok(())
    }

    fn existing_quorum_node(&self, node: u32) -> crate::Result<ControllerId> {
        let c = ControllerId(node);
        if self.controller.has_quorum_node(c) {
            Ok(c)
        } else {
            Err(crate::error::KafkaError::new(
                crate::error::ErrorCode::InvalidRequest,
                format!(
                    "There is no KRaft controller {node} (this cluster runs in {} mode).",
                    mode_name(self.controller.mode)
                ),
            ))
        }
    }

    // ---- Partition state changes (both modes) ---------------------------

    /// A newly active controller loads the metadata and repairs what changed
    /// while there was none; then tells every live broker the full state.
    fn on_controller_failover(&mut self) {
        self.reconcile_partitions(ElectionReason::LeaderFailed);
        let all: Vec<PartitionState> = self.controller.partitions.values().cloned().collect();
        let live: Vec<BrokerId> = self.controller.live_brokers.iter().copied().collect();
        for b in live {
            self.send_leader_and_isr(b, all.clone());
        }
    }

    fn on_broker_startup(&mut self, broker: BrokerId) {
        let all: Vec<PartitionState> = self.controller.partitions.values().cloned().collect();
        self.send_leader_and_isr(broker, all);
        self.reconcile_partitions(ElectionReason::OfflinePartition);
    }

    pub(crate) fn send_leader_and_isr(
        &mut self,
        broker: BrokerId,
        partitions: Vec<PartitionState>,
    ) {
        let Some(from) = self.controller.active else {
            return;
        };
        if partitions.is_empty() {
            return;
        }
        let body = Body::LeaderAndIsr {
            controller_epoch: self.controller.epoch,
            partitions,
        };
        if from == NodeId::Broker(broker) {
            // The controller applies its own decisions without a network hop.
            if let Body::LeaderAndIsr {
                controller_epoch,
                partitions,
            } = body
            {
                self.handle_leader_and_isr(broker, controller_epoch, partitions);
            }
        } else {
            self.send(from, NodeId::Broker(broker), body);
        }
    }

    /// Broadcasts changed partition states to every live broker.
    pub(crate) fn publish(&mut self, changed: Vec<PartitionState>) {
        let live: Vec<BrokerId> = self.controller.live_brokers.iter().copied().collect();
        for b in live {
            self.send_leader_and_isr(b, changed.clone());
        }
    }

    /// Elects leaders for partitions whose leader is gone or that are offline,
    /// and drops dead brokers from ISRs (Kafka's OfflineReplica transition).
    pub(crate) fn reconcile_partitions(&mut self, reason: ElectionReason) {
        if !self.controller.available() {
            return;
        }
        let live = self.controller.live_brokers.clone();
        let tps: Vec<TopicPartition> = self.controller.partitions.keys().cloned().collect();
        let mut changed = Vec::new();
        for tp in tps {
            let unclean = self.unclean_election_enabled(&tp.topic);
            let state = self.controller.partitions.get(&tp).expect("listed").clone();
            let leader_ok = state.leader.is_some_and(|l| live.contains(&l));
            let mut next = state.clone();
            if leader_ok {
                next.isr.retain(|b| live.contains(b));
            } else if state.leader.is_none() && state.isr.is_empty() {
                // A new partition that never had a live replica (ZooKeeper
                // mode's NewPartition): it comes online with its live
                // replicas as ISR once one registers.
                let isr: Vec<BrokerId> = state
                    .replicas
                    .iter()
                    .copied()
                    .filter(|b| live.contains(b))
                    .collect();
                let Some(leader) = isr.first().copied() else {
                    continue;
                };
                next.leader = Some(leader);
                next.isr = isr;
                next.leader_epoch += 1;
                self.record_election(&state, &next, ElectionReason::OfflinePartition, false);
            } else {
                let e = elect_leader(&state.replicas, &state.isr, |b| live.contains(&b), unclean);
                if e.leader.is_none() && state.leader.is_none() {
                    continue; // still offline
                }
                next.leader = e.leader;
                next.isr = e.isr;
                next.leader_epoch += 1;
                let reason = if state.leader.is_none() {
                    ElectionReason::OfflinePartition
                } else {
                    reason
                };
                self.record_election(&state, &next, reason, e.unclean);
            }
            if next != state {
                next.partition_epoch += 1;
                if next.isr != state.isr && next.leader == state.leader {
                    let removed = state
                        .isr
                        .iter()
                        .copied()
                        .filter(|b| !next.isr.contains(b))
                        .collect();
                    self.emit(EventKind::IsrShrunk {
                        tp: tp.clone(),
                        removed,
                        isr: next.isr.clone(),
                        reason: "the controller marked the broker offline".into(),
                    });
                }
                self.controller.partitions.insert(tp, next.clone());
                changed.push(next);
            }
        }
        self.publish(changed);
    }

    fn record_election(
        &mut self,
        before: &PartitionState,
        after: &PartitionState,
        reason: ElectionReason,
        unclean: bool,
    ) {
        self.controller.last_election.insert(
            after.tp.clone(),
            LastElection {
                previous: before.leader,
                unclean,
            },
        );
        self.emit(EventKind::LeaderElected {
            tp: after.tp.clone(),
            leader: after.leader,
            previous: before.leader,
            leader_epoch: after.leader_epoch,
            isr: after.isr.clone(),
            reason,
            unclean,
        });
    }

    /// Graceful shutdown: move each partition the broker leads to another ISR
    /// member, take it out of every ISR, and drop its registration.
    pub(crate) fn controlled_shutdown(&mut self, broker: BrokerId) {
        if self.controller.available() {
            let live = self.controller.live_brokers.clone();
            let tps: Vec<TopicPartition> = self.controller.partitions.keys().cloned().collect();
            let mut changed = Vec::new();
            for tp in tps {
                let state = self.controller.partitions[&tp].clone();
                if !state.replicas.contains(&broker) {
                    continue;
                }
                let mut next = state.clone();
                if state.leader == Some(broker) {
                    let Some(new_leader) =
                        elect_for_shutdown(&state.replicas, &state.isr, broker, |b| {
                            live.contains(&b)
                        })
                    else {
                        continue; // nobody to take over: Kafka leaves it
                    };
                    next.leader = Some(new_leader);
                    next.leader_epoch += 1;
                    next.isr.retain(|b| *b != broker);
                    self.record_election(&state, &next, ElectionReason::ControlledShutdown, false);
                } else if state.isr.contains(&broker) && state.isr.len() > 1 {
                    next.isr.retain(|b| *b != broker);
                    self.emit(EventKind::IsrShrunk {
                        tp: tp.clone(),
                        removed: vec![broker],
                        isr: next.isr.clone(),
                        reason: "controlled shutdown".into(),
                    });
                }
                if next != state {
                    next.partition_epoch += 1;
                    self.controller.partitions.insert(tp, next.clone());
                    changed.push(next);
                }
            }
            self.publish(changed);
        }
        if self.config.metadata_mode == MetadataMode::Zookeeper || self.controller.available() {
            self.deregister_broker(broker, "it shut down cleanly", true);
        }
    }

    /// Kafka's AlterPartition handling: accept only a proposal made against the
    /// current leader epoch and partition epoch, with live new members.
    pub(crate) fn handle_alter_partition(
        &mut self,
        from: NodeId,
        tp: TopicPartition,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: Vec<BrokerId>,
    ) {
        let NodeId::Broker(leader) = from else { return };
        if !self.controller.available() {
            return;
        }
        let Some(state) = self.controller.partitions.get(&tp).cloned() else {
            return;
        };
        let valid = state.leader == Some(leader)
            && state.leader_epoch == leader_epoch
            && state.partition_epoch == partition_epoch
            && new_isr.contains(&leader)
            && new_isr.iter().all(|b| state.replicas.contains(b))
            && new_isr
                .iter()
                .filter(|b| !state.isr.contains(b))
                .all(|b| self.controller.live_brokers.contains(b));
        if !valid {
            self.send_leader_and_isr(leader, vec![state]);
            return;
        }
        let mut next = state.clone();
        next.isr = new_isr;
        next.partition_epoch += 1;
        let removed: Vec<BrokerId> = state
            .isr
            .iter()
            .copied()
            .filter(|b| !next.isr.contains(b))
            .collect();
        let added: Vec<BrokerId> = next
            .isr
            .iter()
            .copied()
            .filter(|b| !state.isr.contains(b))
            .collect();
        if !removed.is_empty() {
            let lag = self.config.broker.replica_lag_time_max_ms;
            self.emit(EventKind::IsrShrunk {
                tp: tp.clone(),
                removed,
                isr: next.isr.clone(),
                reason: format!("not caught up within replica.lag.time.max.ms ({lag} ms)"),
            });
        }
        if !added.is_empty() {
            self.emit(EventKind::IsrExpanded {
                tp: tp.clone(),
                added,
                isr: next.isr.clone(),
            });
        }
        self.controller.partitions.insert(tp.clone(), next.clone());
        self.publish(vec![next]);
        self.maybe_complete_reassignment(&tp);
    }

    pub(crate) fn elect_preferred_leaders(&mut self, topic: Option<&str>) -> crate::Result<()> {
        use crate::error::{ErrorCode, KafkaError};
        if let Some(t) = topic {
            if !self.controller.topics.contains_key(t) {
                return Err(KafkaError::new(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("Topic {t} does not exist."),
                ));
            }
        }
        self.require_controller()?;
        let tps: Vec<TopicPartition> = self
            .controller
            .partitions
            .keys()
            .filter(|tp| topic.is_none_or(|t| &*tp.topic == t))
            .cloned()
            .collect();
        self.elect_preferred(tps);
        Ok(())
    }

    fn elect_preferred(&mut self, tps: Vec<TopicPartition>) {
        let live = self.controller.live_brokers.clone();
        let mut changed = Vec::new();
        for tp in tps {
            let state = self.controller.partitions[&tp].clone();
            if state.leader == state.preferred_leader() {
                continue;
            }
            if let Some(p) = elect_preferred(&state.replicas, &state.isr, |b| live.contains(&b)) {
                let mut next = state.clone();
                next.leader = Some(p);
                next.leader_epoch += 1;
                next.partition_epoch += 1;
                self.record_election(&state, &next, ElectionReason::Preferred, false);
                self.controller.partitions.insert(tp, next.clone());
                changed.push(next);
            }
        }
        self.publish(changed);
    }

    /// Kafka's auto leader rebalance: for each broker whose share of
    /// preferred-but-not-led partitions exceeds the imbalance percentage.
    pub(crate) fn on_leader_imbalance_check(&mut self) {
        let every = self.config.broker.leader_imbalance_check_interval_seconds * 1000;
        self.schedule_timer(every.max(1000), Timer::LeaderImbalanceCheck);
        if !self.config.broker.auto_leader_rebalance_enable || !self.controller.available() {
            return;
        }
        let pct = self.config.broker.leader_imbalance_per_broker_percentage as usize;
        let mut by_preferred: BTreeMap<BrokerId, (usize, Vec<TopicPartition>)> = BTreeMap::new();
        for (tp, s) in &self.controller.partitions {
            if let Some(p) = s.preferred_leader() {
                let e = by_preferred.entry(p).or_default();
                e.0 += 1;
                if s.leader != Some(p) {
                    e.1.push(tp.clone());
                }
            }
        }
        let tps: Vec<TopicPartition> = by_preferred
            .into_values()
            .filter(|(total, off)| off.len() * 100 > total * pct)
            .flat_map(|(_, off)| off)
            .collect();
        self.elect_preferred(tps);
    }

    pub(crate) fn require_controller(&self) -> crate::Result<()> {
        use crate::error::{ErrorCode, KafkaError};
        if !self.controller.has_majority() {
            let what = match self.controller.mode {
                MetadataMode::Zookeeper => "ZooKeeper has lost its majority",
                MetadataMode::Kraft => "the controller quorum has lost its majority",
            };
            return Err(KafkaError::new(
                ErrorCode::RequestTimedOut,
                format!("{what}: no metadata can change until a majority is back."),
            ));
        }
        if self.controller.active.is_none() {
            return Err(KafkaError::new(
                ErrorCode::NotController,
                "There is no active controller right now (an election is in progress); try again in a moment.",
            ));
        }
        Ok(())
    }

    /// Whether a replica on `broker` is serving as leader of `tp` right now.
    pub(crate) fn is_acting_leader(&self, broker: BrokerId, tp: &TopicPartition) -> bool {
        self.brokers
            .get(&broker)
            .filter(|b| b.is_running())
            .and_then(|b| b.replicas.get(tp))
            .is_some_and(|r| matches!(r.role, Role::Leader(_)))
    }
}

fn step_down_if_newer(node: &mut QuorumNode, epoch: u32) {
    if epoch > node.epoch {
        node.epoch = epoch;
        node.role = QuorumRole::Follower;
        node.voted_for = None;
        node.votes.clear();
    }
}

fn already(msg: String) -> crate::error::KafkaError {
    crate::error::KafkaError::new(crate::error::ErrorCode::InvalidRequest, msg)
}

pub(crate) fn mode_name(mode: MetadataMode) -> &'static str {
    match mode {
        MetadataMode::Zookeeper => "ZooKeeper",
        MetadataMode::Kraft => "KRaft",
    }
}
