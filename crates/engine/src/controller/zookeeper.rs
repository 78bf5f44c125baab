//! ZooKeeper mode: broker registrations and sessions, the race for the
//! `/controller` znode, and the ensemble's own nodes crashing.

use super::*;
use crate::broker::partition::ElectionReason;
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, ZkNodeId};
use crate::network::Body;
use crate::sim::timer::Timer;
use crate::sim::Cluster;

impl Cluster {
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
    pub(super) fn deregister_broker(&mut self, broker: BrokerId, why: &str, clean: bool) {
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
    pub(super) fn race_for_controller(&mut self) {
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

    pub(crate) fn crash_zookeeper(&mut self, node: ZkNodeId) -> crate::Result<()> {
        self.toggle_zk(node, false)
    }

    pub(crate) fn restart_zookeeper(&mut self, node: ZkNodeId) -> crate::Result<()> {
        self.toggle_zk(node, true)
    }

    pub(super) fn toggle_zk(&mut self, z: ZkNodeId, up: bool) -> crate::Result<()> {
        use crate::error::{ErrorCode, KafkaError};
        let node = z.0;
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
}
