//! OffsetCommit and OffsetFetch, written to and read from the group's
//! `__consumer_offsets` partition.

use super::*;
use crate::broker::log::Record;
use crate::clients::producer::partitioner::coordinator_partition;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, ConsumerId, ProducerId, TopicPartition};
use crate::network::{Body, OffsetCommitRequest};
use crate::sim::Cluster;

impl Cluster {
    /// Kafka's `handleCommitOffsets`: validated against the member and its
    /// generation, then written to the group's `__consumer_offsets` partition.
    pub(crate) fn handle_offset_commit(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        request: OffsetCommitRequest,
    ) {
        let OffsetCommitRequest {
            group: group_id,
            generation,
            member_id,
            offsets,
            commit,
        } = request;
        let error = match self.coordinated_group(id, &group_id) {
            Err(e) => Some(e),
            // A consumer using assign() commits with generation -1 to a group without members.
            Ok(g) if generation < 0 && g.members.is_empty() => None,
            // Kafka's validateOffsetCommit: member, generation, then state.
            Ok(g) if !g.members.contains_key(&member_id) => Some(ErrorCode::UnknownMemberId),
            Ok(g) if g.generation != generation => Some(ErrorCode::IllegalGeneration),
            Ok(g) if g.state == GroupState::CompletingRebalance => {
                Some(ErrorCode::RebalanceInProgress)
            }
            Ok(_) => None,
        };
        if error.is_some() {
            return self.reply_to_consumer(
                id,
                consumer,
                Body::OffsetCommitResponse {
                    commit,
                    error,
                    offsets,
                },
            );
        }
        let tp = self.offsets_partition_for(&group_id);
        let entries: Vec<(String, String)> = offsets
            .iter()
            .map(|(p, o)| (offset_key(&group_id, p), o.to_string()))
            .collect();
        let Some(last) = self.append_internal(id, &tp, entries) else {
            return self.reply_to_consumer(
                id,
                consumer,
                Body::OffsetCommitResponse {
                    commit,
                    error: Some(ErrorCode::NotCoordinator),
                    offsets,
                },
            );
        };
        if let Some(group) = self.group_mut(id, &group_id) {
            group.pending_commits.push(PendingCommit {
                consumer,
                commit,
                offsets,
                required_offset: last + 1,
            });
        }
        self.complete_pending_writes(id, &tp);
    }

    /// Appends coordinator records to an `__consumer_offsets` partition this
    /// broker leads; returns the last offset written.
    pub(super) fn append_internal(
        &mut self,
        id: BrokerId,
        tp: &TopicPartition,
        entries: Vec<(String, String)>,
    ) -> Option<u64> {
        if entries.is_empty() {
            return None;
        }
        let now = self.ctx.now;
        let first_id = self.next_record_id + 1;
        self.next_record_id += entries.len() as u64;
        let replica = self.replica_mut(id, tp).filter(|r| r.is_leader())?;
        let epoch = replica.leader_epoch;
        let base = replica.log.log_end_offset();
        for (i, (key, value)) in entries.into_iter().enumerate() {
            replica.log.append(Record {
                id: crate::ids::RecordId(first_id + i as u64),
                offset: 0,
                leader_epoch: epoch,
                key: Some(key.into()),
                value: value.into(),
                producer: ProducerId(0),
                sequence: None,
                append_time: now.0,
            });
        }
        let count = replica.log.log_end_offset() - base;
        self.emit(EventKind::RecordsAppended {
            tp: tp.clone(),
            broker: id,
            base_offset: base,
            count,
            leader: true,
        });
        self.on_leader_append(id, tp);
        Some(base + count - 1)
    }

    /// Answers commits whose records the ISR now holds (Kafka writes offsets
    /// with acks=all).
    pub(crate) fn complete_pending_writes(&mut self, id: BrokerId, tp: &TopicPartition) {
        let Some(hw) = self
            .brokers
            .get(&id)
            .and_then(|b| b.replicas.get(tp))
            .filter(|r| r.is_leader())
            .map(|r| r.high_watermark)
        else {
            return;
        };
        let n = self.config.broker.offsets_topic_num_partitions;
        let mut done = Vec::new();
        let mut stored = Vec::new();
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        for group in broker.groups.values_mut() {
            if coordinator_partition(&group.id, n) != tp.partition {
                continue;
            }
            if group.pending_store.is_some_and(|o| hw >= o) {
                stored.push(group.id.clone());
            }
            let (ready, waiting): (Vec<_>, Vec<_>) = group
                .pending_commits
                .drain(..)
                .partition(|c| hw >= c.required_offset);
            group.pending_commits = waiting;
            for c in ready {
                for (p, o) in &c.offsets {
                    group.offsets.insert(p.clone(), *o);
                }
                done.push((group.id.clone(), c));
            }
        }
        for group in stored {
            self.complete_sync(id, &group);
        }
        for (group, c) in done {
            self.emit(EventKind::OffsetsCommitted {
                group,
                consumer: c.consumer,
                offsets: c.offsets.clone(),
            });
            self.reply_to_consumer(
                id,
                c.consumer,
                Body::OffsetCommitResponse {
                    commit: c.commit,
                    error: None,
                    offsets: c.offsets,
                },
            );
        }
    }

    pub(crate) fn handle_offset_fetch(
        &mut self,
        id: BrokerId,
        consumer: ConsumerId,
        group_id: String,
        partitions: Vec<TopicPartition>,
    ) {
        let body = match self.coordinated_group(id, &group_id) {
            Err(e) => Body::OffsetFetchResponse {
                error: Some(e),
                offsets: Vec::new(),
            },
            Ok(g) => Body::OffsetFetchResponse {
                error: None,
                offsets: partitions
                    .into_iter()
                    .map(|p| {
                        let o = g.offsets.get(&p).copied();
                        (p, o)
                    })
                    .collect(),
            },
        };
        self.reply_to_consumer(id, consumer, body);
    }

    /// Writes the group's membership after a rebalance (Kafka's GroupMetadata
    /// record), so a new coordinator can take over without a rebalance.
    pub(super) fn persist_group(&mut self, id: BrokerId, group_id: &str) -> Option<u64> {
        let group = self.group_mut(id, group_id)?;
        let record = GroupRecord {
            generation: group.generation,
            protocol: group.protocol,
            leader: group.leader.clone(),
            members: group.members.values().cloned().collect(),
        };
        let value = serde_json::to_string(&record).unwrap_or_default();
        let tp = self.offsets_partition_for(group_id);
        self.append_internal(id, &tp, vec![(group_key(group_id), value)])
    }
}
