//! Committed offsets: auto and manual commits, OffsetFetch on assignment,
//! `auto.offset.reset` through ListOffsets.

use super::*;
use crate::config::AutoOffsetReset;
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{NodeId, TopicPartition};
use crate::network::{Body, OffsetCommitRequest, OffsetSpec};
use crate::sim::Ctx;

impl Consumer {
    /// `commitSync(offsets)`: the application waits for the answer.
    pub(super) fn commit_sync(
        &mut self,
        ctx: &mut Ctx,
        offsets: Vec<(TopicPartition, u64)>,
        then: AfterCommit,
    ) {
        let cid = self.id;
        if offsets.is_empty() || self.group().is_none() {
            return self.after_commit(ctx, then);
        }
        if self.is_group_managed() && self.member_state != MemberState::Stable {
            // Kafka's generationIfStable: the client refuses to commit mid-rebalance.
            ctx.emit(EventKind::CommitFailed {
                consumer: cid,
                error: ErrorCode::RebalanceInProgress,
            });
            return self.after_commit(ctx, then);
        }
        let commit = self.next_commit;
        self.next_commit += 1;
        self.app = AppState::Committing { commit };
        self.after_commit = then;
        self.send_commit(ctx, commit, offsets);
    }

    pub(super) fn send_commit(
        &mut self,
        ctx: &mut Ctx,
        commit: u64,
        offsets: Vec<(TopicPartition, u64)>,
    ) {
        let cid = self.id;
        let now = ctx.now;
        let Some(group) = self.group().map(str::to_string) else {
            return;
        };
        let Some(coord) = self.coordinator else {
            self.commit_to_retry = Some((commit, offsets));
            return;
        };
        self.commit_to_retry = None;
        self.commit_sent_at = Some(now);
        self.commit_in_flight = Some((commit, offsets.clone()));
        let (generation, member_id) = if self.is_group_managed() {
            (self.generation, self.member_id.clone().unwrap_or_default())
        } else {
            (-1, String::new())
        };
        ctx.send(
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
        ctx: &mut Ctx,
        commit: u64,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, u64)>,
    ) {
        let cid = self.id;
        self.commit_sent_at = None;
        let blocking = self.app == AppState::Committing { commit };
        match error {
            None => {}
            Some(e @ (ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable)) => {
                if blocking {
                    // commitSync retries once the coordinator is found again.
                    self.commit_to_retry = Some((commit, offsets));
                } else {
                    ctx.emit(EventKind::CommitFailed {
                        consumer: cid,
                        error: e,
                    });
                }
                return self.coordinator_unknown(ctx);
            }
            Some(e) => {
                // CommitFailedException: the group moved on; rejoin.
                let key = group_key(self);
                ctx.delivery
                    .note_disruption(&key, format!("a commit by {cid} failed with {e}"));
                ctx.emit(EventKind::CommitFailed {
                    consumer: cid,
                    error: e,
                });
                self.needs_rejoin = true;
                if matches!(e, ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration)
                    && self.is_group_managed()
                {
                    self.reset_generation(ctx, e == ErrorCode::UnknownMemberId);
                }
            }
        }
        if blocking {
            let then = self.after_commit;
            self.app = AppState::Idle;
            self.after_commit(ctx, then);
        }
    }

    pub(super) fn after_commit(&mut self, ctx: &mut Ctx, then: AfterCommit) {
        match then {
            AfterCommit::Poll => {
                self.app = AppState::Idle;
                self.poll(ctx)
            }
            AfterCommit::Process => {
                self.app = AppState::Processing;
                self.process_next(ctx)
            }
            AfterCommit::Join => {
                self.app = AppState::Idle;
                self.revoke(ctx, None);
                self.send_join(ctx);
                self.poll(ctx);
            }
        }
    }

    /// Partitions without a position ask the coordinator for the committed
    /// offset (or, without a group, go straight to `auto.offset.reset`).
    pub(super) fn resolve_positions(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let now = ctx.now;
        let todo: Vec<TopicPartition> = self
            .assigned
            .iter()
            .filter(|(_, a)| a.position.is_none() && !a.resolving)
            .map(|(tp, _)| tp.clone())
            .collect();
        if todo.is_empty() {
            return;
        }
        match (self.group().map(str::to_string), self.coordinator) {
            (Some(group), Some(coord)) => {
                for tp in &todo {
                    let a = self.assigned.get_mut(tp).expect("listed");
                    a.resolving = true;
                    a.resolving_since = Some(now);
                }
                ctx.send(
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
                    self.reset_offset(ctx, tp);
                }
            }
        }
    }

    pub(super) fn on_offset_fetch_response(
        &mut self,
        ctx: &mut Ctx,
        error: Option<ErrorCode>,
        offsets: Vec<(TopicPartition, Option<u64>)>,
    ) {
        if error.is_some() {
            for (tp, _) in &offsets {
                if let Some(a) = self.assigned.get_mut(tp) {
                    a.resolving = false;
                }
            }
            return self.coordinator_unknown(ctx);
        }
        for (tp, committed) in offsets {
            let Some(a) = self.assigned.get_mut(&tp) else {
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
                    *self.runs.entry(tp.clone()).or_default() += 1;
                }
                None => {
                    a.resolving = false;
                    self.reset_offset(ctx, tp);
                }
            }
        }
        self.fetch(ctx);
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
    pub(super) fn reset_offset(&mut self, ctx: &mut Ctx, tp: TopicPartition) {
        let cid = self.id;
        let now = ctx.now;
        let truncated = self.assigned.get(&tp).is_some_and(|a| a.out_of_range);
        let spec = match (self.config.auto_offset_reset, truncated) {
            (AutoOffsetReset::None, _) => {
                if let Some(a) = self.assigned.get_mut(&tp) {
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
                ctx.emit(EventKind::ConsumerError {
                    consumer: cid,
                    error: error.into(),
                    message,
                });
                return;
            }
            (_, true) | (AutoOffsetReset::Latest, false) => OffsetSpec::Latest,
            (AutoOffsetReset::Earliest, false) => OffsetSpec::Earliest,
        };
        if let Some(a) = self.assigned.get_mut(&tp) {
            a.resolving = true;
            a.resolving_since = Some(now);
        }
        self.list_offsets(ctx, tp, spec);
    }

    pub(super) fn list_offsets(&mut self, ctx: &mut Ctx, tp: TopicPartition, spec: OffsetSpec) {
        let cid = self.id;
        match self.leader_of(&tp) {
            Some((leader, _)) => ctx.send(
                NodeId::Consumer(cid),
                NodeId::Broker(leader),
                Body::ListOffsets { tp, spec },
            ),
            None => {
                // Try again once metadata names a leader.
                if let Some(a) = self.assigned.get_mut(&tp) {
                    a.resolving = false;
                }
                self.request_metadata(ctx);
            }
        }
    }

    pub(super) fn on_list_offsets_response(
        &mut self,
        ctx: &mut Ctx,
        tp: TopicPartition,
        error: Option<ErrorCode>,
        offset: u64,
    ) {
        let cid = self.id;
        let policy = self.config.auto_offset_reset;
        let Some(a) = self.assigned.get_mut(&tp) else {
            return;
        };
        a.resolving = false;
        if error.is_some() {
            self.metadata.remove(&tp);
            return self.request_metadata(ctx);
        }
        if a.position.is_some() {
            return;
        }
        a.position = Some(offset);
        a.fetch_position = Some(offset);
        let seek = std::mem::take(&mut a.seeking);
        let out_of_range = std::mem::take(&mut a.out_of_range);
        *self.runs.entry(tp.clone()).or_default() += 1;
        let key = group_key(self);
        ctx.delivery
            .consumption_start
            .entry(key)
            .or_default()
            .entry(tp.clone())
            .or_insert(offset);
        ctx.emit(if seek {
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
        self.fetch(ctx);
    }
}
