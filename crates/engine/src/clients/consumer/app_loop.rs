//! The application loop around `poll`: take fetched records, process them one
//! at a time for `processing_ms` each, and tally what each group processed.

use super::*;
use crate::config::ManualCommit;
use crate::event::{Event, EventKind};
use crate::ids::TopicPartition;
use crate::sim::timer::Timer;
use crate::sim::Ctx;
use std::collections::VecDeque;

impl Consumer {
    /// The application thread calls `poll()`: apply a new assignment, rejoin
    /// if asked, auto-commit when due, then take records to process.
    pub(crate) fn poll(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        if !self.is_running() || self.app != AppState::Idle {
            return;
        }
        self.last_poll = now;
        if let Some(assignment) = self.pending_assignment.take() {
            self.apply_assignment(ctx, assignment);
        }
        if self.app != AppState::Idle {
            return;
        }
        let wants_join = self.is_group_managed()
            && self.coordinator.is_some()
            && (self.needs_rejoin || self.member_state == MemberState::Unjoined);
        if wants_join {
            let cooperative = self.config.partition_assignment_strategy.is_cooperative();
            if !cooperative && !self.assigned.is_empty() {
                // Eager: commit (auto-commit only) and revoke everything first.
                if self.config.enable_auto_commit && self.generation >= 0 {
                    let offsets = self.positions();
                    return self.commit_sync(ctx, offsets, AfterCommit::Join);
                }
                self.revoke(ctx, None);
            }
            self.send_join(ctx);
        }
        if self.config.enable_auto_commit
            && now.since(self.last_auto_commit) >= self.config.auto_commit_interval_ms
            && (self.member_state == MemberState::Stable || !self.is_group_managed())
            && self.group().is_some()
        {
            self.last_auto_commit = now;
            let offsets = self.positions();
            if !offsets.is_empty() {
                let commit = self.next_commit;
                self.next_commit += 1;
                self.send_commit(ctx, commit, offsets);
            }
        }
        let disruptions = ctx
            .delivery
            .group_disruptions
            .get(&self.group_key)
            .map_or(0, |d| d.0);
        let max = self.config.max_poll_records as usize;
        let buffered: usize = self.buffer.values().map(Fetched::len).sum();
        let mut batch = VecDeque::with_capacity(buffered.min(max));
        // Like Kafka's fetcher: drain one partition's fetched records, then the next.
        for (tp, records) in self.buffer.iter_mut() {
            let Some(a) = self.assigned.get_mut(tp) else {
                records.clear();
                continue;
            };
            if a.paused {
                continue;
            }
            let run = self.runs.get(tp).copied().unwrap_or(0);
            while batch.len() < max {
                let Some(polled) = records.pop_front(|r| {
                    // Stale when a seek or reset moved the position.
                    (a.position == Some(r.offset)).then(|| Polled {
                        tp: tp.clone(),
                        offset: r.offset,
                        record: r.id,
                        key: r.key.clone(),
                        run,
                        disruptions,
                    })
                }) else {
                    break;
                };
                if let Some(p) = polled {
                    a.position = Some(p.offset + 1);
                    batch.push_back(p);
                }
            }
        }
        self.buffer.retain(|_, records| !records.is_empty());
        if batch.is_empty() {
            self.fetch(ctx);
            return;
        }
        self.in_hand = batch;
        let before = !self.config.enable_auto_commit
            && self.config.manual_commit == ManualCommit::BeforeProcessing
            && self.group().is_some();
        if before {
            let offsets = self.positions();
            self.commit_sync(ctx, offsets, AfterCommit::Process);
        } else {
            self.app = AppState::Processing;
            self.process_next(ctx);
        }
        self.fetch(ctx);
    }

    /// Processes the records in hand, one per `processing.ms`.
    pub(super) fn process_next(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        loop {
            if self.in_hand.is_empty() {
                self.app = AppState::Idle;
                let after = !self.config.enable_auto_commit
                    && self.config.manual_commit == ManualCommit::AfterProcessing
                    && self.group().is_some();
                if after {
                    let offsets = self.positions();
                    self.commit_sync(ctx, offsets, AfterCommit::Poll);
                } else {
                    self.poll(ctx);
                }
                return;
            }
            let ms = self.config.processing_ms;
            if ms > 0 && self.app != AppState::Processing {
                return;
            }
            if ms > 0 && !self.processing_started() {
                self.mark_processing_started();
                let inc = self.incarnation;
                ctx.schedule_timer(
                    ms,
                    Timer::ConsumerProcessed {
                        consumer: cid,
                        incarnation: inc,
                    },
                );
                return;
            }
            if ms == 0 {
                // Nothing happens between records processed in no time: the
                // whole poll is handled at once.
                let polled = std::mem::take(&mut self.in_hand);
                self.records_processed(ctx, polled);
            } else {
                let polled = self.in_hand.pop_front().expect("not empty");
                self.clear_processing_started();
                self.records_processed(ctx, std::iter::once(polled));
            }
        }
    }

    pub(crate) fn on_processed(&mut self, ctx: &mut Ctx, inc: u32) {
        if self.incarnation == inc && self.is_running() && self.app == AppState::Processing {
            self.process_next(ctx);
        }
    }

    /// The application has processed `polled`, in order: each record is
    /// tallied against what its group processed before, so a repeat is
    /// reported with what explains it.
    pub(super) fn records_processed(
        &mut self,
        ctx: &mut Ctx,
        polled: impl IntoIterator<Item = Polled>,
    ) {
        let cid = self.id;
        let now = ctx.now;
        let generation = self.generation;
        let (disruptions, last) = ctx
            .delivery
            .group_disruptions
            .get(&self.group_key)
            .map_or((0, ""), |d| (d.0, d.1.as_str()));
        let by_tp = match ctx.delivery.processed_by_group.get_mut(&self.group_key) {
            Some(m) => m,
            None => ctx
                .delivery
                .processed_by_group
                .entry(self.group_key.clone())
                .or_default(),
        };
        let starts = ctx.delivery.consumption_start.get(&self.group_key);
        // A poll drains one partition, then the next: look each run's
        // tally up once, and bring its watermark forward when it ends.
        let mut current: Option<(TopicPartition, &mut GroupTally)> = None;
        for polled in polled {
            let Polled {
                tp,
                offset,
                record,
                key,
                run,
                disruptions: at_poll,
            } = polled;
            if current.as_ref().is_none_or(|(run_tp, _)| *run_tp != tp) {
                if let Some((run_tp, tally)) = current.take() {
                    tally.advance_from_start(starts, &run_tp);
                }
                let tally = match by_tp.get_mut(&tp) {
                    Some(v) => v,
                    None => by_tp.entry(tp.clone()).or_default(),
                };
                current = Some((tp.clone(), tally));
            }
            let tally = &mut current.as_mut().expect("set above").1;
            let duplicated = &mut tally.duplicated;
            let t = tally.by_offset.entry(offset);
            if t.count > 0 && t.record != record {
                // A different record now sits at this offset (the log was
                // truncated and rewritten): not a repeat of the old one.
                *t = Tally::default();
                if !duplicated.is_empty() {
                    duplicated.remove(&offset);
                }
            }
            t.count = t.count.saturating_add(1);
            let again = t.count > 1;
            if again {
                duplicated.insert(offset);
            }
            let zombie = t.consumer != cid && t.generation != generation;
            let earlier = (t.consumer, t.generation);
            let disrupted = disruptions > t.disruptions;
            let explained = again && (disrupted || zombie);
            let zombie_only = zombie && !disrupted;
            // Compare with the moment this copy was polled: a seek or crash
            // after the poll explains a later repeat.
            *t = Tally {
                count: t.count,
                record,
                disruptions: at_poll,
                consumer: cid,
                generation,
            };
            let why = again.then(|| why_again(last, (explained, zombie, zombie_only), earlier));
            if self.processed.len() == PROCESSED_KEPT {
                self.processed.pop_front();
            }
            self.processed.push_back(Processed {
                tp: tp.clone(),
                offset,
                record,
                at: now,
                again,
                explained,
                run,
            });
            self.processed_total += 1;
            self.duplicates += usize::from(again);
            ctx.out.push(Event {
                time: now,
                kind: EventKind::RecordProcessed {
                    consumer: cid,
                    tp,
                    offset,
                    record,
                    key,
                    again: why,
                },
            });
        }
        if let Some((run_tp, tally)) = current {
            tally.advance_from_start(starts, &run_tp);
        }
    }
}
