//! The application loop around `poll`: take fetched records, process them one
//! at a time for `processing_ms` each, and tally what each group processed.

use super::*;
use crate::config::ManualCommit;
use crate::event::{Event, EventKind};
use crate::ids::{ConsumerId, TopicPartition};
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use std::collections::VecDeque;

impl Cluster {
    /// The application thread calls `poll()`: apply a new assignment, rejoin
    /// if asked, auto-commit when due, then take records to process.
    pub(crate) fn consumer_poll(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        if !c.is_running() || c.app != AppState::Idle {
            return;
        }
        c.last_poll = now;
        if let Some(assignment) = c.pending_assignment.take() {
            self.apply_assignment(cid, assignment);
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.app != AppState::Idle {
            return;
        }
        let wants_join = c.is_group_managed()
            && c.coordinator.is_some()
            && (c.needs_rejoin || c.member_state == MemberState::Unjoined);
        if wants_join {
            let cooperative = c.config.partition_assignment_strategy.is_cooperative();
            if !cooperative && !c.assigned.is_empty() {
                // Eager: commit (auto-commit only) and revoke everything first.
                if c.config.enable_auto_commit && c.generation >= 0 {
                    let offsets = c.positions();
                    return self.commit_sync(cid, offsets, AfterCommit::Join);
                }
                self.revoke(cid, None);
            }
            self.send_join(cid);
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        if c.config.enable_auto_commit
            && now.since(c.last_auto_commit) >= c.config.auto_commit_interval_ms
            && (c.member_state == MemberState::Stable || !c.is_group_managed())
            && c.group().is_some()
        {
            c.last_auto_commit = now;
            let offsets = c.positions();
            if !offsets.is_empty() {
                let commit = c.next_commit;
                c.next_commit += 1;
                self.send_commit(cid, commit, offsets);
            }
        }
        let disruptions = self
            .delivery
            .group_disruptions
            .get(&self.consumers[&cid].group_key)
            .map_or(0, |d| d.0);
        let c = self.consumers.get_mut(&cid).expect("exists");
        let max = c.config.max_poll_records as usize;
        let buffered: usize = c.buffer.values().map(Fetched::len).sum();
        let mut batch = VecDeque::with_capacity(buffered.min(max));
        // Like Kafka's fetcher: drain one partition's fetched records, then the next.
        for (tp, records) in c.buffer.iter_mut() {
            let Some(a) = c.assigned.get_mut(tp) else {
                records.clear();
                continue;
            };
            if a.paused {
                continue;
            }
            let run = c.runs.get(tp).copied().unwrap_or(0);
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
        c.buffer.retain(|_, records| !records.is_empty());
        if batch.is_empty() {
            self.consumer_fetch(cid);
            return;
        }
        c.in_hand = batch;
        let before = !c.config.enable_auto_commit
            && c.config.manual_commit == ManualCommit::BeforeProcessing
            && c.group().is_some();
        if before {
            let offsets = c.positions();
            self.commit_sync(cid, offsets, AfterCommit::Process);
        } else {
            c.app = AppState::Processing;
            self.process_next(cid);
        }
        self.consumer_fetch(cid);
    }

    /// Processes the records in hand, one per `processing.ms`.
    pub(super) fn process_next(&mut self, cid: ConsumerId) {
        loop {
            let c = self.consumers.get_mut(&cid).expect("exists");
            if c.in_hand.is_empty() {
                c.app = AppState::Idle;
                let after = !c.config.enable_auto_commit
                    && c.config.manual_commit == ManualCommit::AfterProcessing
                    && c.group().is_some();
                if after {
                    let offsets = c.positions();
                    self.commit_sync(cid, offsets, AfterCommit::Poll);
                } else {
                    self.consumer_poll(cid);
                }
                return;
            }
            let ms = c.config.processing_ms;
            if ms > 0 && c.app != AppState::Processing {
                return;
            }
            if ms > 0 && !c.processing_started() {
                c.mark_processing_started();
                let inc = c.incarnation;
                self.schedule_timer(
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
                let polled = std::mem::take(&mut c.in_hand);
                self.records_processed(cid, polled);
            } else {
                let polled = c.in_hand.pop_front().expect("not empty");
                c.clear_processing_started();
                self.records_processed(cid, std::iter::once(polled));
            }
        }
    }

    pub(crate) fn on_consumer_processed(&mut self, cid: ConsumerId, inc: u32) {
        if self.consumers.get(&cid).is_some_and(|c| {
            c.incarnation == inc && c.is_running() && c.app == AppState::Processing
        }) {
            self.process_next(cid);
        }
    }

    /// The application has processed `polled`, in order: each record is
    /// tallied against what its group processed before, so a repeat is
    /// reported with what explains it.
    pub(super) fn records_processed(
        &mut self,
        cid: ConsumerId,
        polled: impl IntoIterator<Item = Polled>,
    ) {
        let now = self.ctx.now;
        let Some(c) = self.consumers.get_mut(&cid) else {
            return;
        };
        let generation = c.generation;
        let (disruptions, last) = self
            .delivery
            .group_disruptions
            .get(&c.group_key)
            .map_or((0, ""), |d| (d.0, d.1.as_str()));
        let by_tp = match self.delivery.processed_by_group.get_mut(&c.group_key) {
            Some(m) => m,
            None => self
                .delivery
                .processed_by_group
                .entry(c.group_key.clone())
                .or_default(),
        };
        let starts = self.delivery.consumption_start.get(&c.group_key);
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
            if c.processed.len() == PROCESSED_KEPT {
                c.processed.pop_front();
            }
            c.processed.push_back(Processed {
                tp: tp.clone(),
                offset,
                record,
                at: now,
                again,
                explained,
                run,
            });
            c.processed_total += 1;
            c.duplicates += usize::from(again);
            self.ctx.out.push(Event {
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

    /// Something that can make a group process records again: a crash, a
    /// rebalance, a seek, a failed commit, a coordinator move.
    pub(crate) fn note_disruption(&mut self, group: &str, reason: String) {
        let entry = self
            .delivery
            .group_disruptions
            .entry(group.to_string())
            .or_insert((0, String::new()));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = reason;
    }
}
