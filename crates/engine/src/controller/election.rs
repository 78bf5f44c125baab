//! Leader and ISR decisions: LeaderAndIsr, AlterPartition, elections after
//! failures, controlled shutdown and preferred leaders.

use super::*;
use crate::broker::partition::{
    elect_for_shutdown, elect_leader, elect_preferred, ElectionReason, PartitionState,
};
use crate::config::MetadataMode;
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, TopicPartition};
use crate::network::Body;
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use std::collections::BTreeMap;

impl Cluster {
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
        self.maybe_schedule_balance();
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

    pub(super) fn record_election(
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

    pub(super) fn elect_preferred(&mut self, tps: Vec<TopicPartition>) {
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

    /// A controller that takes over starts Kafka's automatic
    /// preferred-leader election (`auto.leader.rebalance.enable`). ZooKeeper
    /// mode: the first check 5 s later, then every
    /// `leader.imbalance.check.interval.seconds`
    /// (`KafkaController.onControllerFailover`). KRaft: a balance one
    /// interval after a partition's leader stops being its preferred replica
    /// (`QuorumController.maybeScheduleNextBalancePartitionLeaders`).
    pub(crate) fn start_leader_balance(&mut self) {
        if !self.config.broker.auto_leader_rebalance_enable {
            return;
        }
        let epoch = self.controller.epoch;
        match self.controller.mode {
            MetadataMode::Zookeeper => {
                self.schedule_timer(5_000, Timer::LeaderImbalanceCheck { epoch })
            }
            MetadataMode::Kraft => {
                self.controller.balance_scheduled = false;
                self.maybe_schedule_balance();
            }
        }
    }

    /// KRaft, after every change of partition state: if some partition is
    /// not led by its preferred replica and no balance is scheduled, one
    /// is, an interval from now.
    fn maybe_schedule_balance(&mut self) {
        let c = &self.controller;
        if c.mode != MetadataMode::Kraft
            || c.balance_scheduled
            || c.active.is_none()
            || !self.config.broker.auto_leader_rebalance_enable
        {
            return;
        }
        if c.partitions
            .values()
            .all(|s| s.leader == s.preferred_leader())
        {
            return;
        }
        self.controller.balance_scheduled = true;
        let epoch = self.controller.epoch;
        self.schedule_timer(
            self.imbalance_check_ms(),
            Timer::LeaderImbalanceCheck { epoch },
        );
    }

    fn imbalance_check_ms(&self) -> u64 {
        (self.config.broker.leader_imbalance_check_interval_seconds * 1000).max(1000)
    }

    /// The automatic check set by the controller of `epoch`: ZooKeeper mode
    /// elects the preferred leaders of each broker whose share of
    /// partitions led elsewhere exceeds
    /// `leader.imbalance.per.broker.percentage` (10 %), then checks again an
    /// interval later; KRaft elects every partition's preferred replica
    /// that can lead, with no threshold. A check from a controller since
    /// replaced does nothing.
    pub(crate) fn on_leader_imbalance_check(&mut self, epoch: u32) {
        if epoch != self.controller.epoch || self.controller.active.is_none() {
            return;
        }
        match self.controller.mode {
            MetadataMode::Zookeeper => {
                self.schedule_timer(
                    self.imbalance_check_ms(),
                    Timer::LeaderImbalanceCheck { epoch },
                );
                if self.controller.available() {
                    self.balance_brokers_over_threshold();
                }
            }
            MetadataMode::Kraft => {
                self.controller.balance_scheduled = false;
                if self.controller.available() {
                    let off: Vec<TopicPartition> = self
                        .controller
                        .partitions
                        .iter()
                        .filter(|(_, s)| s.leader != s.preferred_leader())
                        .map(|(tp, _)| tp.clone())
                        .collect();
                    self.elect_preferred(off);
                }
                self.maybe_schedule_balance();
            }
        }
    }

    /// ZooKeeper mode's rule (`checkAndTriggerAutoLeaderRebalance`): for
    /// each broker whose share of preferred-but-not-led partitions exceeds
    /// the imbalance percentage.
    fn balance_brokers_over_threshold(&mut self) {
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
}
