//! The loss ledger: every record a producer saw acknowledged, and those that
//! later vanished. A record is lost when the partition's acting leader does
//! not hold it at its offset: the leader's log is what every replica will
//! truncate to, so the record can never come back.
//!
//! With `acks=0` the producer counts a record as sent the moment it leaves
//! (Kafka completes the send at once, offset -1), so it is filed then, by
//! batch, until a leader appends it. A request dropped on the way or refused
//! by a broker that no longer leads loses it: nobody will ever say so.

use crate::broker::log::Records;
use crate::config::Acks;
use crate::event::EventKind;
use crate::ids::{BrokerId, ProducerId, RecordId, SimTime, TopicPartition};
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckedRecord {
    pub id: RecordId,
    pub tp: TopicPartition,
    /// `None` for an `acks=0` record that never reached a log.
    pub offset: Option<u64>,
    pub key: Option<crate::broker::log::Text>,
    pub value: crate::broker::log::Text,
    pub producer: ProducerId,
    pub acks: Acks,
    pub acked_at: SimTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostRecord {
    pub record: AckedRecord,
    pub lost_at: SimTime,
    pub reason: String,
}

/// Where a record is filed: its offset, then its id. Two records can share
/// an offset when a deposed leader acknowledged one the new leader overwrote.
type Filed = (u64, RecordId);

/// One acknowledged record: where it is filed, and where in which of the
/// partition's acknowledged batches its key and value are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    at: Filed,
    batch: u32,
    index: u32,
}

/// A batch as its producer saw it acknowledged. Its records are the
/// producer's own, shared, so filing a batch copies no key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AckedBatch {
    records: Records,
    acks: Acks,
    acked_at: SimTime,
}

/// One partition's acknowledged records, sorted by where they are filed.
/// Acknowledgements arrive almost always in offset order, so a sorted `Vec`
/// appends at its end where a B-tree would search and split nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckedRecords {
    entries: Vec<Entry>,
    batches: Vec<AckedBatch>,
}

impl AckedRecords {
    /// Files the records of a batch acknowledged at offsets from `base`,
    /// each unless a record is already filed there; returns how many were
    /// new.
    fn insert(&mut self, records: &Records, base: u64, acks: Acks, now: SimTime) -> u64 {
        let batch = self.batches.len() as u32;
        let mut new = 0;
        for ((r, offset), index) in records.iter().zip(base..).zip(0..) {
            let entry = Entry {
                at: (offset, r.id),
                batch,
                index,
            };
            if self.entries.last().is_none_or(|last| last.at < entry.at) {
                self.entries.push(entry);
            } else {
                match self.entries.binary_search_by(|e| e.at.cmp(&entry.at)) {
                    Ok(_) => continue,
                    Err(i) => self.entries.insert(i, entry),
                }
            }
            new += 1;
        }
        if new > 0 {
            self.batches.push(AckedBatch {
                records: records.clone(),
                acks,
                acked_at: now,
            });
        }
        new
    }

    fn remove(&mut self, at: Filed) {
        if let Ok(i) = self.entries.binary_search_by(|e| e.at.cmp(&at)) {
            self.entries.remove(i);
        }
    }

    /// Records filed at offsets `from..to`.
    fn offsets(&self, from: u64, to: u64) -> &[Entry] {
        let lo = self.entries.partition_point(|e| e.at.0 < from);
        let hi = self.entries.partition_point(|e| e.at.0 < to);
        &self.entries[lo..hi.max(lo)]
    }

    /// The acknowledged record filed as `e`, as the ledger reports it.
    fn unfile(&self, tp: &TopicPartition, e: &Entry) -> AckedRecord {
        let batch = &self.batches[e.batch as usize];
        let r = &batch.records[e.index as usize];
        AckedRecord {
            id: e.at.1,
            tp: tp.clone(),
            offset: Some(e.at.0),
            key: r.key.clone(),
            value: r.value.clone(),
            producer: r.producer,
            acks: batch.acks,
            acked_at: batch.acked_at,
        }
    }
}

/// An `acks=0` batch on its way: counted as sent, not yet in any log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub tp: TopicPartition,
    records: Records,
    sent_at: SimTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Acknowledged and still present, per partition.
    pub acked: BTreeMap<TopicPartition, AckedRecords>,
    /// `acks=0` batches in flight, by producer and batch.
    unplaced: BTreeMap<(ProducerId, u64), Unplaced>,
    pub lost: Vec<LostRecord>,
    pub acknowledged_total: u64,
}

impl Ledger {
    /// Files a batch the producer saw acknowledged, its first record at
    /// offset `base`.
    pub fn acknowledge(
        &mut self,
        records: &Records,
        tp: &TopicPartition,
        base: u64,
        acks: Acks,
        now: SimTime,
    ) {
        let by_offset = match self.acked.get_mut(tp) {
            Some(m) => m,
            None => self.acked.entry(tp.clone()).or_default(),
        };
        self.acknowledged_total += by_offset.insert(records, base, acks, now);
    }

    /// Files an `acks=0` batch as it leaves its producer, which counts it as
    /// sent there and then.
    pub fn send_unacknowledged(
        &mut self,
        producer: ProducerId,
        batch: u64,
        tp: &TopicPartition,
        records: &Records,
        now: SimTime,
    ) {
        self.acknowledged_total += records.len() as u64;
        let unplaced = Unplaced {
            tp: tp.clone(),
            records: records.clone(),
            sent_at: now,
        };
        self.unplaced.insert((producer, batch), unplaced);
    }

    /// A leader appended an `acks=0` batch at `base`: from now on it is
    /// filed by offset like any acknowledged record. Returns its partition.
    fn place(
        &mut self,
        producer: ProducerId,
        batch: u64,
        base: u64,
    ) -> Option<(TopicPartition, u64)> {
        let u = self.unplaced.remove(&(producer, batch))?;
        let by_offset = self.acked.entry(u.tp.clone()).or_default();
        by_offset.insert(&u.records, base, Acks::None, u.sent_at);
        Some((u.tp, u.records.len() as u64))
    }

    /// Every record counted as acknowledged is in exactly one place: still
    /// held (filed by offset), on its way (`acks=0`), or lost. Returns the
    /// three counts when they do not add up to the total.
    pub fn unbalanced(&self) -> Option<(u64, u64, u64)> {
        let held: usize = self.acked.values().map(|a| a.entries.len()).sum();
        let on_the_way: usize = self.unplaced.values().map(|u| u.records.len()).sum();
        let counts = (held as u64, on_the_way as u64, self.lost.len() as u64);
        (counts.0 + counts.1 + counts.2 != self.acknowledged_total).then_some(counts)
    }
}

impl Cluster {
    /// A leader appended the `acks=0` batch `batch` of `producer` at `base`.
    /// A deposed leader may still append: the batch is then checked at once.
    pub(crate) fn place_unacknowledged(&mut self, producer: ProducerId, batch: u64, base: u64) {
        if let Some((tp, count)) = self.ledger.place(producer, batch, base) {
            self.check_acknowledged_batch(&tp, base, count);
        }
    }

    /// The `acks=0` batch `batch` of `producer` will never be appended: its
    /// request was dropped or refused, and the producer cannot know.
    pub(crate) fn lose_unacknowledged(&mut self, producer: ProducerId, batch: u64, why: &str) {
        let Some(u) = self.ledger.unplaced.remove(&(producer, batch)) else {
            return;
        };
        let reason =
            format!("acks=0: {why}; the producer had counted it as sent and was never told");
        let gone = u
            .records
            .iter()
            .map(|r| AckedRecord {
                id: r.id,
                tp: u.tp.clone(),
                offset: None,
                key: r.key.clone(),
                value: r.value.clone(),
                producer: r.producer,
                acks: Acks::None,
                acked_at: u.sent_at,
            })
            .collect();
        self.record_losses(&u.tp, gone, |_, _| reason.clone());
    }

    /// The broker acting as leader of `tp` per the controller, if it has
    /// already taken up the role (its log is then final).
    fn settled_leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        let leader = self.controller.partitions.get(tp)?.leader?;
        self.is_acting_leader(leader, tp).then_some(leader)
    }

    /// Marks as lost every acknowledged record of `tp` the leader lacks.
    pub(crate) fn check_for_lost_records(&mut self, tp: &TopicPartition) {
        let Some(leader) = self.settled_leader(tp) else {
            return;
        };
        let Some(by_offset) = self.ledger.acked.get(tp) else {
            return;
        };
        let log = &self.brokers[&leader].replicas[tp].log;
        let gone = by_offset
            .entries
            .iter()
            .filter(|e| !log.contains_at(e.at.0, e.at.1))
            .map(|e| by_offset.unfile(tp, e))
            .collect();
        self.mark_lost(tp, leader, gone);
    }

    /// Checks freshly acknowledged records (a deposed leader may still ack).
    pub(crate) fn check_acknowledged_batch(&mut self, tp: &TopicPartition, base: u64, count: u64) {
        let Some(leader) = self.settled_leader(tp) else {
            return;
        };
        let log = &self.brokers[&leader].replicas[tp].log;
        let mut gone = Vec::new();
        if let Some(by_offset) = self.ledger.acked.get(tp) {
            // Walk the log along the batch instead of looking each offset up.
            let mut held = log.records_from(base).peekable();
            gone.extend(
                by_offset
                    .offsets(base, base + count)
                    .iter()
                    .filter(|e| {
                        let (offset, id) = e.at;
                        while held.next_if(|r| r.offset < offset).is_some() {}
                        held.peek().is_none_or(|r| r.offset != offset || r.id != id)
                    })
                    .map(|e| by_offset.unfile(tp, e)),
            );
        }
        self.mark_lost(tp, leader, gone);
    }

    fn mark_lost(&mut self, tp: &TopicPartition, leader: BrokerId, gone: Vec<AckedRecord>) {
        self.record_losses(tp, gone, |c, r| c.loss_reason(tp, leader, r));
    }

    fn record_losses(
        &mut self,
        tp: &TopicPartition,
        gone: Vec<AckedRecord>,
        reason: impl Fn(&Cluster, &AckedRecord) -> String,
    ) {
        for r in gone {
            let reason = reason(self, &r);
            if let (Some(by_offset), Some(offset)) = (self.ledger.acked.get_mut(tp), r.offset) {
                by_offset.remove((offset, r.id));
            }
            self.emit(EventKind::RecordLost {
                record: r.id,
                tp: tp.clone(),
                offset: r.offset,
                key: r.key.clone(),
                value: r.value.clone(),
                producer: r.producer,
                reason: reason.clone(),
            });
            self.ledger.lost.push(LostRecord {
                record: r,
                lost_at: self.ctx.now,
                reason,
            });
        }
    }

    fn loss_reason(&self, tp: &TopicPartition, leader: BrokerId, r: &AckedRecord) -> String {
        // Filed records always have their offset; Kafka's "unknown" is -1.
        let offset = r.offset.map_or(-1, |o| o as i64);
        let election = self.controller.last_election.get(tp);
        if election.is_some_and(|e| e.unclean) {
            return format!(
                "unclean leader election: broker {} became leader of {tp} without offset {offset} (unclean.leader.election.enable=true)",
                leader.0
            );
        }
        let prev = election
            .and_then(|e| e.previous)
            .map(|b| format!("broker {}", b.0))
            .unwrap_or_else(|| "the old leader".into());
        match r.acks {
            Acks::Leader => format!(
                "acks=1: {prev} acknowledged offset {offset} before any follower copied it; broker {} took over without it",
                leader.0
            ),
            Acks::None => format!(
                "acks=0: {prev} appended offset {offset}, which the producer had counted as sent, before any follower copied it; broker {} took over without it",
                leader.0
            ),
            Acks::All => format!(
                "broker {} took over {tp} without offset {offset} (acknowledged with acks=all)",
                leader.0
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::log::Record;

    /// A batch of records with these ids, each valued by its id.
    fn batch(ids: &[u64]) -> Records {
        ids.iter()
            .map(|&id| Record {
                id: RecordId(id),
                offset: 0,
                leader_epoch: 0,
                key: None,
                value: format!("v{id}").into(),
                producer: ProducerId(1),
                sequence: None,
                append_time: 0,
            })
            .collect()
    }

    fn filed(r: &AckedRecords) -> Vec<Filed> {
        r.entries.iter().map(|e| e.at).collect()
    }

    #[test]
    fn records_stay_sorted_by_offset_then_id_and_are_filed_once() {
        let mut r = AckedRecords::default();
        assert_eq!(r.insert(&batch(&[9]), 5, Acks::All, SimTime(1)), 1);
        assert_eq!(r.insert(&batch(&[3]), 7, Acks::All, SimTime(2)), 1);
        // Out of order: a deposed leader's ack for an offset already filed.
        assert_eq!(r.insert(&batch(&[4]), 5, Acks::Leader, SimTime(3)), 1);
        assert_eq!(r.insert(&batch(&[1]), 2, Acks::All, SimTime(4)), 1);
        assert_eq!(
            r.insert(&batch(&[3]), 7, Acks::All, SimTime(5)),
            0,
            "filed twice"
        );
        assert_eq!(r.batches.len(), 4, "a batch with nothing new is not kept");
        assert_eq!(
            filed(&r),
            [
                (2, RecordId(1)),
                (5, RecordId(4)),
                (5, RecordId(9)),
                (7, RecordId(3))
            ]
        );
        let five: Vec<Filed> = r.offsets(5, 7).iter().map(|e| e.at).collect();
        assert_eq!(five, [(5, RecordId(4)), (5, RecordId(9))]);
        assert!(r.offsets(8, 20).is_empty());
        r.remove((5, RecordId(4)));
        r.remove((6, RecordId(6)));
        assert_eq!(r.entries.len(), 3);
    }

    #[test]
    fn a_filed_record_is_reported_from_its_shared_batch() {
        let mut r = AckedRecords::default();
        let first = batch(&[1, 2, 3]);
        assert_eq!(r.insert(&first, 0, Acks::All, SimTime(10)), 3);
        assert_eq!(r.insert(&batch(&[4, 5]), 3, Acks::Leader, SimTime(20)), 2);
        assert!(
            Records::ptr_eq(&r.batches[0].records, &first),
            "shared, not copied"
        );
        let tp = TopicPartition::new("t", 0);
        let e = r.offsets(4, 5)[0];
        let acked = r.unfile(&tp, &e);
        assert_eq!(
            (
                acked.id,
                acked.offset,
                &*acked.value,
                acked.acks,
                acked.acked_at
            ),
            (RecordId(5), Some(4), "v5", Acks::Leader, SimTime(20))
        );
        let e = r.offsets(1, 2)[0];
        assert_eq!(&*r.unfile(&tp, &e).value, "v2");
    }

    #[test]
    fn the_ledger_balances_held_on_the_way_and_lost_against_the_total() {
        let tp = TopicPartition::new("t", 0);
        let mut l = Ledger::default();
        l.acknowledge(&batch(&[1, 2]), &tp, 0, Acks::All, SimTime(1));
        l.send_unacknowledged(ProducerId(1), 7, &tp, &batch(&[3]), SimTime(2));
        assert_eq!(l.acknowledged_total, 3);
        assert_eq!(l.unbalanced(), None);
        assert_eq!(l.place(ProducerId(1), 7, 2), Some((tp.clone(), 1)));
        assert_eq!(l.place(ProducerId(1), 7, 2), None, "placed once");
        assert_eq!(l.unbalanced(), None);
        // A record dropped from the files without being listed as lost.
        l.acked.get_mut(&tp).unwrap().remove((2, RecordId(3)));
        assert_eq!(l.unbalanced(), Some((2, 0, 0)));
    }
}
