//! The controller: the one node that decides leaders and ISRs and records
//! them as metadata. ZooKeeper mode (the seed's picture): a ZooKeeper
//! ensemble stores registrations and the `/controller` node; the first broker
//! to create it is the controller. KRaft mode: a Raft quorum of controllers
//! elects an active controller by majority vote; brokers heartbeat to it.

mod election;
mod kraft;
pub mod placement;
pub mod topic_name;
pub mod topics;
mod zookeeper;

use crate::broker::partition::{ElectionReason, PartitionState};
use crate::broker::Role;
use crate::config::{MetadataMode, TopicConfig};
use crate::ids::{BrokerId, ControllerId, NodeId, SimTime, TopicPartition, ZkNodeId};
use crate::network::Body;
use crate::sim::Cluster;
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
    /// KRaft: an automatic preferred-leader balance is scheduled.
    #[serde(default)]
    pub balance_scheduled: bool,
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
            balance_scheduled: false,
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

    /// A newly active controller loads the metadata and repairs what changed
    /// while there was none; then tells every live broker the full state.
    fn on_controller_failover(&mut self) {
        self.start_leader_balance();
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
