//! KRaft mode: the controller quorum's Raft election and heartbeats, broker
//! heartbeats and fencing.

use super::*;
use crate::event::EventKind;
use crate::ids::{BrokerId, ControllerId, NodeId};
use crate::network::Body;
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use std::collections::BTreeSet;

impl Cluster {
    /// A follower that knows a leader waits `controller.quorum.fetch.timeout.ms`
    /// for it; a voter without one (at start, or a candidate) waits the
    /// election timeout; both plus a random backoff so votes rarely split.
    pub(super) fn schedule_quorum_timeout(&mut self, c: ControllerId) {
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
        let jitter = crate::sim::random::up_to(&mut self.ctx.rng, backoff);
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
        let now = self.ctx.now;
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
        let now = self.ctx.now;
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
    pub(super) fn resign_if_deposed(&mut self, c: ControllerId) {
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

    pub(super) fn maybe_win_election(&mut self, c: ControllerId) {
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
        let now = self.ctx.now;
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
    pub(super) fn send_to_peers(&mut self, c: ControllerId, body: Body) {
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

    pub(super) fn quorum_heartbeat_ms(&self) -> u64 {
        (self.config.broker.controller_quorum_fetch_timeout_ms / 4).max(1)
    }

    pub(super) fn is_quorum_leader(&self, c: ControllerId, epoch: u32) -> bool {
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

    pub(super) fn on_broker_heartbeat(&mut self, c: ControllerId, broker: BrokerId) {
        if self.controller.active != Some(NodeId::Controller(c)) || !self.controller.has_majority()
        {
            return;
        }
        self.controller.last_heartbeat.insert(broker, self.ctx.now);
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
        let now = self.ctx.now;
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

    pub(crate) fn crash_quorum_node(&mut self, node: ControllerId) -> crate::Result<()> {
        let c = self.existing_quorum_node(node)?;
        let n = self.controller.quorum.get_mut(&c).expect("checked");
        if !n.alive {
            return Err(already(format!("{node} is already down.")));
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

    pub(crate) fn restart_quorum_node(&mut self, node: ControllerId) -> crate::Result<()> {
        let c = self.existing_quorum_node(node)?;
        let had = self.controller.has_majority();
        let now = self.ctx.now;
        let n = self.controller.quorum.get_mut(&c).expect("checked");
        if n.alive {
            return Err(already(format!("{node} is already running.")));
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

    pub(super) fn existing_quorum_node(&self, c: ControllerId) -> crate::Result<ControllerId> {
        if self.controller.has_quorum_node(c) {
            Ok(c)
        } else {
            Err(crate::error::KafkaError::new(
                crate::error::ErrorCode::InvalidRequest,
                format!(
                    "There is no KRaft controller {} (this cluster runs in {} mode).",
                    c.0,
                    mode_name(self.controller.mode)
                ),
            ))
        }
    }

    // ---- Partition state changes (both modes) ---------------------------
}
