//! The leader's ISR check: followers that fall behind for
//! `replica.lag.time.max.ms` are proposed for removal through AlterPartition.

use super::replication::*;
use crate::broker::Role;
use crate::ids::{BrokerId, NodeId, TopicPartition};
use crate::network::Body;
use crate::sim::timer::Timer;
use crate::sim::Cluster;

impl Cluster {
    /// The leader's periodic ISR check: followers that have not caught up
    /// within `replica.lag.time.max.ms` are proposed for removal.
    pub(crate) fn on_isr_check(&mut self, id: BrokerId, inc: u32) {
        let Some(broker) = self.brokers.get(&id) else {
            return;
        };
        if broker.incarnation != inc || !broker.is_running() {
            return;
        }
        let lag = self.config.broker.replica_lag_time_max_ms;
        let now = self.ctx.now;
        let mut proposals = Vec::new();
        for (tp, replica) in &broker.replicas {
            let Role::Leader(state) = &replica.role else {
                continue;
            };
            if alter_pending(state, now) {
                continue;
            }
            let leo = replica.log.log_end_offset();
            let out_of_sync: Vec<BrokerId> = state
                .isr
                .iter()
                .filter(|b| **b != id)
                .filter(|b| {
                    state.followers.get(b).is_some_and(|f| {
                        f.log_end_offset != leo && now.since(f.last_caught_up) > lag
                    })
                })
                .copied()
                .collect();
            if !out_of_sync.is_empty() {
                let new_isr = state
                    .isr
                    .iter()
                    .copied()
                    .filter(|b| !out_of_sync.contains(b))
                    .collect();
                proposals.push((tp.clone(), new_isr));
            }
        }
        for (tp, new_isr) in proposals {
            self.propose_isr(id, &tp, new_isr);
        }
        self.schedule_timer(
            (lag / 2).max(1),
            Timer::IsrCheck {
                broker: id,
                incarnation: inc,
            },
        );
    }

    /// Sends AlterPartition to the active controller.
    pub(super) fn propose_isr(
        &mut self,
        id: BrokerId,
        tp: &TopicPartition,
        new_isr: Vec<BrokerId>,
    ) {
        let Some(controller) = self.controller.active else {
            return;
        };
        let now = self.ctx.now;
        let Some(replica) = self.replica_mut(id, tp) else {
            return;
        };
        let leader_epoch = replica.leader_epoch;
        let Role::Leader(state) = &mut replica.role else {
            return;
        };
        state.alter_sent_at = Some(now);
        state.proposed_isr = new_isr.clone();
        let partition_epoch = state.partition_epoch;
        let body = Body::AlterPartition {
            tp: tp.clone(),
            leader_epoch,
            partition_epoch,
            new_isr,
        };
        if controller == NodeId::Broker(id) {
            // The controller is this very broker: no network hop.
            self.handle_alter_partition(
                NodeId::Broker(id),
                tp.clone(),
                leader_epoch,
                partition_epoch,
                match body {
                    Body::AlterPartition { new_isr, .. } => new_isr,
                    _ => unreachable!(),
                },
            );
        } else {
            self.send(NodeId::Broker(id), controller, body);
        }
    }
}
