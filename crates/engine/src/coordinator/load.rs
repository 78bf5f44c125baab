//! Loading a group's state from `__consumer_offsets` when a broker becomes
//! that partition's leader, and unloading it when it stops.

use super::*;
use crate::clients::producer::partitioner::coordinator_partition;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, TopicPartition};
use crate::network::Body;
use crate::sim::Cluster;
use std::collections::BTreeMap;

impl Cluster {
    /// The broker became leader of an `__consumer_offsets` partition: read
    /// every group it holds (Kafka's `GroupMetadataManager.loadGroupsForPartition`).
    pub(crate) fn load_groups(&mut self, id: BrokerId, tp: &TopicPartition) {
        let now = self.ctx.now;
        let Some(replica) = self.brokers.get(&id).and_then(|b| b.replicas.get(tp)) else {
            return;
        };
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for r in replica.log.records() {
            let Some(key) = r.key.as_deref().and_then(parse_key) else {
                continue;
            };
            match key {
                Key::Offset(g, p) => {
                    if let Ok(o) = r.value.parse::<u64>() {
                        groups
                            .entry(g.clone())
                            .or_insert_with(|| Group::new(&g))
                            .offsets
                            .insert(p, o);
                    }
                }
                Key::Group(g) => {
                    if let Ok(rec) = serde_json::from_str::<GroupRecord>(&r.value) {
                        let group = groups.entry(g.clone()).or_insert_with(|| Group::new(&g));
                        group.generation = rec.generation;
                        group.protocol = rec.protocol;
                        group.leader = rec.leader;
                        group.members = rec
                            .members
                            .into_iter()
                            .map(|mut m| {
                                m.last_heartbeat = now;
                                (m.member_id.clone(), m)
                            })
                            .collect();
                        group.state = if group.members.is_empty() {
                            GroupState::Empty
                        } else {
                            GroupState::Stable
                        };
                        group.next_member = group.next_member.max(group.members.len() as u64 + 100);
                    }
                }
            }
        }
        let mut loaded = Vec::new();
        for (gid, g) in &groups {
            loaded.push((
                gid.clone(),
                g.generation,
                g.members
                    .values()
                    .map(|m| (m.member_id.clone(), m.session_timeout_ms))
                    .collect::<Vec<_>>(),
            ));
        }
        let broker = self.brokers.get_mut(&id).expect("exists");
        for (gid, g) in groups {
            broker.groups.insert(gid, g);
        }
        for (gid, generation, members) in loaded {
            self.ctx
                .delivery
                .note_disruption(&gid, format!("broker {} took over as coordinator", id.0));
            self.emit(EventKind::GroupLoaded {
                group: gid.clone(),
                broker: id,
                generation,
                members: members.len(),
            });
            for (m, timeout) in members {
                self.schedule_session_expiry(id, &gid, &m, timeout);
            }
        }
    }

    /// The broker no longer leads an `__consumer_offsets` partition: forget its
    /// groups and tell waiting members to look for the new coordinator.
    pub(crate) fn unload_groups(&mut self, id: BrokerId, tp: &TopicPartition) {
        let n = self.config.broker.offsets_topic_num_partitions;
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        let gone: Vec<String> = broker
            .groups
            .keys()
            .filter(|g| coordinator_partition(g, n) == tp.partition)
            .cloned()
            .collect();
        let mut replies = Vec::new();
        for g in gone {
            let group = broker.groups.remove(&g).expect("listed");
            for c in group.pending_commits {
                replies.push((
                    c.consumer,
                    Body::OffsetCommitResponse {
                        commit: c.commit,
                        error: Some(ErrorCode::NotCoordinator),
                        offsets: c.offsets,
                    },
                ));
            }
            for m in group.members.values() {
                if m.joined {
                    replies.push((
                        m.consumer,
                        Body::JoinGroupResponse(crate::network::JoinGroupResponse {
                            error: Some(ErrorCode::NotCoordinator),
                            generation: -1,
                            member_id: m.member_id.clone(),
                            leader: String::new(),
                            protocol: group.protocol,
                            members: Vec::new(),
                        }),
                    ));
                }
                if m.awaiting_sync {
                    replies.push((
                        m.consumer,
                        Body::SyncGroupResponse {
                            error: Some(ErrorCode::NotCoordinator),
                            generation: group.generation,
                            assignment: Vec::new(),
                        },
                    ));
                }
            }
        }
        for (c, body) in replies {
            self.reply_to_consumer(id, c, body);
        }
    }
}
