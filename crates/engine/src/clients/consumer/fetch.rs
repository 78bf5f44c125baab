//! Fetching from partition leaders: one request per leader, up to the high
//! watermark, and what a lost connection does to it.

use super::*;
use crate::error::ErrorCode;
use crate::ids::{BrokerId, ConsumerId, NodeId};
use crate::network::{Body, ConsumerFetchPartition, FetchedData};
use crate::sim::{Cluster, Ctx};

impl Consumer {
    /// Sends one fetch per leader for the assigned partitions whose buffer is
    /// short, unless one is already in flight to that leader.
    pub(crate) fn fetch(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let now = ctx.now;
        if !self.is_running() {
            return;
        }
        let max = self.config.max_poll_records as usize;
        // One fetch per leader, in leader order; a consumer fetches from
        // few brokers, so a list searched in place beats a map.
        let mut by_leader: Vec<(BrokerId, Vec<ConsumerFetchPartition>)> = Vec::new();
        let mut need_metadata = false;
        for (tp, a) in &self.assigned {
            let Some(fetch_offset) = a.fetch_position.filter(|_| !a.paused) else {
                continue;
            };
            let buffered = self.buffer.get(tp).map_or(0, Fetched::len);
            if buffered >= max {
                continue;
            }
            match self.leader_of(tp) {
                // One fetch per broker at a time: this partition rides on
                // the next one.
                Some((leader, _)) if self.fetch_in_flight.contains_key(&leader) => {}
                Some((leader, epoch)) => {
                    let i = match by_leader.iter().position(|(l, _)| *l == leader) {
                        Some(i) => i,
                        None => {
                            by_leader.push((leader, Vec::with_capacity(self.assigned.len())));
                            by_leader.len() - 1
                        }
                    };
                    by_leader[i].1.push(ConsumerFetchPartition {
                        tp: tp.clone(),
                        fetch_offset,
                        current_leader_epoch: epoch,
                    })
                }
                None => need_metadata = true,
            }
        }
        let wait = self.config.fetch_max_wait_ms;
        by_leader.sort_unstable_by_key(|(leader, _)| *leader);
        for (leader, _) in &by_leader {
            self.fetch_in_flight.insert(*leader, now);
        }
        for (leader, partitions) in by_leader {
            ctx.send(
                NodeId::Consumer(cid),
                NodeId::Broker(leader),
                Body::ConsumerFetch {
                    partitions,
                    max_wait_ms: wait,
                },
            );
        }
        if need_metadata {
            self.request_metadata(ctx);
        }
    }

    pub(super) fn on_fetch_response(
        &mut self,
        ctx: &mut Ctx,
        broker: BrokerId,
        partitions: Vec<FetchedData>,
    ) {
        let cid = self.id;
        self.fetch_in_flight.remove(&broker);
        let mut need_metadata = false;
        let mut out_of_range = Vec::new();
        for d in partitions {
            let Some(a) = self.assigned.get_mut(&d.tp) else {
                continue;
            };
            match d.error {
                None => {}
                Some(ErrorCode::OffsetOutOfRange) => {
                    out_of_range.push(d.tp.clone());
                    continue;
                }
                Some(_) => {
                    self.metadata.remove(&d.tp);
                    need_metadata = true;
                    continue;
                }
            }
            a.high_watermark = d.high_watermark;
            let Some(first) = d.records.first() else {
                continue;
            };
            if a.fetch_position != Some(first.offset) {
                continue; // a seek or revoke made this response stale
            }
            a.fetch_position = Some(first.offset + d.records.len() as u64);
            self.buffer.entry(d.tp).or_default().push(&d.records);
        }
        for tp in out_of_range {
            let key = group_key(self);
            ctx.delivery.note_disruption(
                &key,
                format!("{cid}'s position in {tp} was past the end of the new leader's log (the log was truncated) and it moved back"),
            );
            if let Some(a) = self.assigned.get_mut(&tp) {
                a.position = None;
                a.fetch_position = None;
                a.out_of_range = true;
            }
            self.reset_offset(ctx, tp);
        }
        if need_metadata {
            self.request_metadata(ctx);
        }
        if self.app == AppState::Idle {
            self.poll(ctx);
        }
        self.fetch(ctx);
    }

    /// A broker this consumer talks to died: its requests there are gone.
    /// `reset` is the network layer's word: the broker process is gone, not
    /// merely slow.
    pub(crate) fn on_connection_lost(&mut self, ctx: &mut Ctx, broker: BrokerId, reset: bool) {
        if !self.is_running() || !reset {
            return;
        }
        self.fetch_in_flight.remove(&broker);
        self.metadata.retain(|_, m| m.leader != Some(broker));
        if self.bootstrap_target == Some(broker) {
            self.bootstrap_target = None;
            self.next_bootstrap += 1;
            self.metadata_in_flight = None;
            self.find_in_flight = None;
        }
        if self.coordinator == Some(broker) {
            // A blocked commitSync is retried with the new coordinator.
            self.commit_sent_at = None;
            self.coordinator_unknown(ctx);
        }
        // Kafka's reconnect backoff: try the next broker a little later.
        self.schedule_retry(ctx);
    }
}

impl Cluster {
    /// Consumers with requests at a broker that just died.
    pub(crate) fn consumers_talking_to(&self, broker: BrokerId) -> Vec<ConsumerId> {
        self.consumers
            .values()
            .filter(|c| {
                c.is_running()
                    && (c.coordinator == Some(broker) || c.fetch_in_flight.contains_key(&broker))
            })
            .map(|c| c.id)
            .collect()
    }
}
