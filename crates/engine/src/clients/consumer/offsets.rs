//! Committed offsets: auto and manual commits, OffsetFetch on assignment,
//! `auto.offset.reset` through ListOffsets.

use super::*;
use crate::config::AutoOffsetReset;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{ConsumerId, NodeId, TopicPartition};
use crate::network::{Body, OffsetCommitRequest, OffsetSpec};
use crate::sim::Cluster;

impl Cluster {
    /// `commitSync(offsets)`: the application waits for the answer.
    pub(super) fn commit_sync(
        &mut self,
        cid: ConsumerId,
        offsets: Vec<(TopicPartition, u64)>,
        then: AfterCommit,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        if offsets.is_empty() || c.group().is_none() {
            return self.after_commit(cid, then);
        }
        if c.is_group_managed() && c.member_state != MemberState::Stable {
            // Kafka's generationIfStable: the client refuses to commit mid-rebalance.
            self.emit(EventKind::CommitFailed {
                consumer: cid,
                error: ErrorCode::RebalanceInProgress,
            });
            return self.after_commit(cid, then);
        }
        let commit = c.next_commit;
        c.next_commit += 1;
        c.app = AppState::Committing { commit };
        c.after_commit = then;
        self.send_commit(cid, commit, offsets);
    }

    pub(super) fn send_commit(
        &mut self,
        cid: ConsumerId,
        commit: u64,
        offsets: Vec<(TopicPartition, u64)>,
    ) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let Some(group) = c.group().map(str::to_string) else {
            return;
        };
        let Some(coord) = c.coordinator else {
            c.commit_to_retry = Some((commit, offsets));
            return;
        };
        c.commit_to_retry = None;
        c.commit_sent_at = Some(now);
        c.commit_in_flight = Some((commit, offsets.clone()));
        let (generation, member_id) = if c.is_group_managed() {
            (c.generation, c.member_id.clone().unwrap_or_default())
        } else {
            (-1, String::new())
        };
        self.send(
            NodeId::Consumer(cid),
            NodeId::Broker(coord),
            Body::OffsetCommit(OffsetCommitRequest {
                group,
                generation,
                member_id,
                offsets,
                commit,
            }),
        );
    }

    pub(super) fn on_commit_response(
        &mut self,
        cid: ConsumerId,
        commit: u64,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, u64)>,
    ) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.commit_sent_at = None;
        let blocking = c.app == AppState::Committing { commit };
        match error {
            None => {}
            Some(e @ (ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable)) => {
                if blocking {
                    // commitSync retries once the coordinator is found again.
                    c.commit_to_retry = Some((commit, offsets));
                } else {
                    self.emit(EventKind::CommitFailed {
                        consumer: cid,
                        error: e,
                    });
                }
                return self.coordinator_unknown(cid);
            }
            Some(e) => {
                // CommitFailedException: the group moved on; rejoin.
                let key = group_key(&self.consumers[&cid]);
                self.note_disruption(&key, format!("a commit by {cid} failed with {e}"));
                self.emit(EventKind::CommitFailed {
                    consumer: cid,
                    error: e,
                });
                let c = self.consumers.get_mut(&cid).expect("exists");
                c.needs_rejoin = true;
                if matches!(e, ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration)
                    && c.is_group_managed()
                {
                    self.reset_generation(cid, e == ErrorCode::UnknownMemberId);
                }
            }
        }
        if blocking {
            let then = self.consumers[&cid].after_commit;
            let c = self.consumers.get_mut(&cid).expect("exists");
            c.app = AppState::Idle;
            self.after_commit(cid, then);
        }
    }

    pub(super) fn after_commit(&mut self, cid: ConsumerId, then: AfterCommit) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        match then {
            AfterCommit::Poll => {
                c.app = AppState::Idle;
                self.consumer_poll(cid)
            }
            AfterCommit::Process => {
                c.app = AppState::Processing;
                self.process_next(cid)
            }
            AfterCommit::Join => {
                c.app = AppState::Idle;
                self.revoke(cid, None);
                self.send_join(cid);
                self.consumer_poll(cid);
            }
        }
    }

    /// Partitions without a position ask the coordinator for the committed
    /// offset (or, without a group, go straight to `auto.offset.reset`).
    pub(super) fn resolve_positions(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let todo: Vec<TopicPartition> = c
            .assigned
            .iter()
            .filter(|(_, a)| a.position.is_none() && !a.resolving)
            .map(|(tp, _)| tp.clone())
            .collect();
        if todo.is_empty() {
            return;
        }
        match (c.group().map(str::to_string), c.coordinator) {
            (Some(group), Some(coord)) => {
                for tp in &todo {
                    let a = c.assigned.get_mut(tp).expect("listed");
                    a.resolving = true;
                    a.resolving_since = Some(now);
                }
                self.send(
                    NodeId::Consumer(cid),
                    NodeId::Broker(coord),
                    Body::OffsetFetch {
                        group,
                        partitions: todo,
                    },
                );
            }
            (Some(_), None) => {}
            (None, _) => {
                for tp in todo {
                    self.reset_offset(cid, tp);
                }
            }
        }
    }

    pub(super) fn on_offset_fetch_response(
        &mut self,
        cid: ConsumerId,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, Option<u64>)>,
    ) {
        if error.is_some() {
            let c = self.consumers.get_mut(&cid).expect("exists");
            for (tp, _) in &offsets {
                if let Some(a) = c.assigned.get_mut(tp) {
                    a.resolving = false;
                }
            }
            return self.coordinator_unknown(cid);
        }
        for (tp, committed) in offsets {
            let c = self.consumers.get_mut(&cid).expect("exists");
            let Some(a) = c.assigned.get_mut(&tp) else {
                continue;
            };
            if a.position.is_some() {
                continue;
            }
            match committed {
                Some(o) => {
                    a.position = Some(o);
                    a.fetch_position = Some(o);
                    a.out_of_range = false;
                    a.resolving = false;
                    *c.runs.entry(tp.clone()).or_default() += 1;
                }
                None => {
                    a.resolving = false;
                    self.reset_offset(cid, tp);
                }
            }
        }
        self.consumer_fetch(cid);
    }

    /// `auto.offset.reset`: ask the leader for its earliest or latest offset.
    ///
    /// A position past the end of the log (there is no retention here, so
    /// only a truncation puts it there) is not a missing offset: the
    /// consumer validates it against the new leader's epoch (KIP-320) and,
    /// with a reset policy, moves back to where the logs part, the new
    /// leader's end, whichever policy it has. Without one it throws
    /// `LogTruncationException`. Simplified: the leader's high watermark
    /// stands for the end offset of the consumer's epoch, which it is after
    /// an unclean election (the new leader's ISR is itself).
    pub(super) fn reset_offset(&mut self, cid: ConsumerId, tp: TopicPartition) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let truncated = c.assigned.get(&tp).is_some_and(|a| a.out_of_range);
        let spec = match (c.config.auto_offset_reset, truncated) {
            (AutoOffsetReset::None, _) => {
                if let Some(a) = c.assigned.get_mut(&tp) {
                    a.resolving = true; // stuck until the user seeks
                }
                let (error, message) = if truncated {
                    ("LogTruncationException", format!("Truncation detected for partition {tp}: the new leader's log ends before this consumer's position, and with auto.offset.reset=none it does not move on its own; seek to continue"))
                } else {
                    (
                        "NoOffsetForPartitionException",
                        format!("Undefined offset with no reset policy for partition: {tp}"),
                    )
                };
                self.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: error.into(),
                    message,
                });
                return;
            }
            (_, true) | (AutoOffsetReset::Latest, false) => OffsetSpec::Latest,
            (AutoOffsetReset::Earliest, false) => OffsetSpec::Earliest,
        };
        if let Some(a) = c.assigned.get_mut(&tp) {
            a.resolving = true;
            a.resolving_since = Some(now);
        }
        self.list_offsets(cid, tp, spec);
    }

    pub(super) fn list_offsets(&mut self, cid: ConsumerId, tp: TopicPartition, spec: OffsetSpec) {
        let c = self.consumers.get_mut(&cid).expect("exists");
        match c.leader_of(&tp) {
            Some((leader, _)) => self.send(
                NodeId::Consumer(cid),
                NodeId::Broker(leader),
                Body::ListOffsets { tp, spec },
            ),
            None => {
                // Try again once metadata names a leader.
                if let Some(a) = c.assigned.get_mut(&tp) {
                    a.resolving = false;
                }
                self.consumer_request_metadata(cid);
            }
        }
    }

    pub(super) fn on_list_offsets_response(
        &mut self,
        cid: ConsumerId,
        tp: TopicPartition,
        error: Option<ErrorCode>,
        offset: u64,
    ) {
        let policy = self.consumers[&cid].config.auto_offset_reset;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let Some(a) = c.assigned.get_mut(&tp) else {
            return;
        };
        a.resolving = false;
        if error.is_some() {
            c.metadata.remove(&tp);
            return self.consumer_request_metadata(cid);
        }
        if a.position.is_some() {
            return;
        }
        a.position = Some(offset);
        a.fetch_position = Some(offset);
        let seek = std::mem::take(&mut a.seeking);
        let out_of_range = std::mem::take(&mut a.out_of_range);
        *c.runs.entry(tp.clone()).or_default() += 1;
        let key = group_key(c);
        self.delivery
            .consumption_start
            .entry(key)
            .or_default()
            .entry(tp.clone())
            .or_insert(offset);
        self.emit(if seek {
            EventKind::PositionSeeked {
                consumer: cid,
                tp,
                offset,
            }
        } else {
            EventKind::OffsetReset {
                consumer: cid,
                tp,
                offset,
                policy,
                out_of_range,
            }
        });
        self.consumer_fetch(cid);
    }
}
