//! Fetching from partition leaders: one request per leader, up to the high
//! watermark, and what a lost connection does to it.

use super::*;
use crate::error::ErrorCode;
use crate::ids::{BrokerId, ConsumerId, NodeId};
use crate::network::{Body, ConsumerFetchPartition, FetchedData};
use crate::sim::Cluster;

impl Cluster {
    /// Sends one fetch per leader for the assigned partitions whose buffer is
    /// short, unless one is already in flight to that leader.
    pub(crate) fn consumer_fetch(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if !c.is_running() {
            return;
        }
        let max = c.config.max_poll_records as usize;
        // One fetch per leader, in leader order; a consumer fetches from
        // few brokers, so a list searched in place beats a map.
        let mut by_leader: Vec<(BrokerId, Vec<ConsumerFetchPartition>)> = Vec::new();
        let mut need_metadata = false;
        for (tp, a) in &c.assigned {
            let Some(fetch_offset) = a.fetch_position.filter(|_| !a.paused) else {
                continue;
            };
            let buffered = c.buffer.get(tp).map_or(0, Fetched::len);
            if buffered >= max {
                continue;
            }
            match c.leader_of(tp) {
                // One fetch per broker at a time: this partition rides on
                // the next one.
                Some((leader, _)) if c.fetch_in_flight.contains_key(&leader) => {}
                Some((leader, epoch)) => {
                    let i = match by_leader.iter().position(|(l, _)| *l == leader) {
                        Some(i) => i,
                        None => {
                            by_leader.push((leader, Vec::with_capacity(c.assigned.len())));
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
        let wait = c.config.fetch_max_wait_ms;
        by_leader.sort_unstable_by_key(|(leader, _)| *leader);
        for (leader, _) in &by_leader {
            c.fetch_in_flight.insert(*leader, now);
        }
        for (leader, partitions) in by_leader {
            self.send(
                NodeId::Consumer(cid),
                NodeId::Broker(leader),
                Body::ConsumerFetch {
                    partitions,
                    max_wait_ms: wait,
                },
            );
        }
        if need_metadata {
            self.consumer_request_metadata(cid);
        }
    }

    pub(super) fn on_consumer_fetch_response(
        &mut self,
        cid: ConsumerId,
        broker: BrokerId,
        partitions: Vec<FetchedData>,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.fetch_in_flight.remove(&broker);
        let mut need_metadata = false;
        let mut out_of_range = Vec::new();
        for d in partitions {
            let Some(a) = c.assigned.get_mut(&d.tp) else {
                continue;
            };
            match d.error {
                None => {}
                Some(ErrorCode::OffsetOutOfRange) => {
                    out_of_range.push(d.tp.clone());
                    continue;
                }
                Some(_) => {
                    c.metadata.remove(&d.tp);
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
            c.buffer.entry(d.tp).or_default().push(&d.records);
        }
        for tp in out_of_range {
            let key = group_key(&self.consumers[&cid]);
            self.note_disruption(
                &key,
                format!("{cid}'s position in {tp} was past the end of the new leader's log (the log was truncated) and it moved back"),
            );
            let c = self.consumers.get_mut(&cid).expect("exists");
            if let Some(a) = c.assigned.get_mut(&tp) {
                a.position = None;
                a.fetch_position = None;
                a.out_of_range = true;
            }
            self.reset_offset(cid, tp);
        }
        if need_metadata {
            self.consumer_request_metadata(cid);
        }
        if self.consumers[&cid].app == AppState::Idle {
            self.consumer_poll(cid);
        }
        self.consumer_fetch(cid);
    }

    /// A broker this consumer talks to died: its requests there are gone.
    pub(crate) fn on_consumer_connection_lost(&mut self, cid: ConsumerId, broker: BrokerId) {
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if !c.is_running() || self.brokers.get(&broker).is_some_and(|b| b.is_running()) {
            return;
        }
        c.fetch_in_flight.remove(&broker);
        c.metadata.retain(|_, m| m.leader != Some(broker));
        if c.bootstrap_target == Some(broker) {
            c.bootstrap_target = None;
            c.next_bootstrap += 1;
            c.metadata_in_flight = None;
            c.find_in_flight = None;
        }
        if c.coordinator == Some(broker) {
            // A blocked commitSync is retried with the new coordinator.
            c.commit_sent_at = None;
            self.coordinator_unknown(cid);
        }
        // Kafka's reconnect backoff: try the next broker a little later.
        self.schedule_consumer_retry(cid);
    }

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
