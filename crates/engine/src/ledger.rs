//! The loss ledger: every record a producer saw acknowledged, and those that
//! later vanished. A record is lost when the partition's acting leader does
//! not hold it at its offset: the leader's log is what every replica will
//! truncate to, so the record can never come back.

use crate::cluster::Cluster;
use crate::config::Acks;
use crate::event::EventKind;
use crate::ids::{BrokerId, ProducerId, RecordId, SimTime, TopicPartition};
use crate::log::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckedRecord {
    pub id: RecordId,
    pub tp: TopicPartition,
    pub offset: u64,
    pub key: Option<crate::log::Text>,
    pub value: crate::log::Text,
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

/// What the ledger keeps of an acknowledged record; its partition and
/// offset are the keys it is filed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    pub key: Option<crate::log::Text>,
    pub value: crate::log::Text,
    pub producer: ProducerId,
    pub acks: Acks,
    pub acked_at: SimTime,
}

/// Where a record is filed: its offset, then its id. Two records can share
/// an offset when a deposed leader acknowledged one the new leader overwrote.
type Filed = (u64, RecordId);

/// One partition's acknowledged records, sorted by where they are filed.
/// Acknowledgements arrive almost always in offset order, so a sorted `Vec`
/// appends at its end where a B-tree would search and split nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckedRecords(Vec<(Filed, Acked)>);

impl AckedRecords {
    /// Files `acked` under `at` unless a record is already there; returns
    /// whether it was new.
    fn insert(&mut self, at: Filed, acked: impl FnOnce() -> Acked) -> bool {
        if self.0.last().is_none_or(|(last, _)| *last < at) {
            self.0.push((at, acked()));
            return true;
        }
        match self.0.binary_search_by(|(k, _)| k.cmp(&at)) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, (at, acked()));
                true
            }
        }
    }

    fn remove(&mut self, at: Filed) {
        if let Ok(i) = self.0.binary_search_by(|(k, _)| k.cmp(&at)) {
            self.0.remove(i);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(Filed, Acked)> {
        self.0.iter()
    }

    /// Records filed at offsets `from..to`.
    fn offsets(&self, from: u64, to: u64) -> &[(Filed, Acked)] {
        let lo = self.0.partition_point(|((o, _), _)| *o < from);
        let hi = self.0.partition_point(|((o, _), _)| *o < to);
        &self.0[lo..hi.max(lo)]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Acknowledged and still present, per partition.
    pub acked: BTreeMap<TopicPartition, AckedRecords>,
    pub lost: Vec<LostRecord>,
    pub acknowledged_total: u64,
}

impl Ledger {
    /// Files a batch the producer saw acknowledged, its first record at
    /// offset `base`.
    pub fn acknowledge(
        &mut self,
        records: &[Record],
        tp: &TopicPartition,
        base: u64,
        acks: Acks,
        now: SimTime,
    ) {
        let by_offset = match self.acked.get_mut(tp) {
            Some(m) => m,
            None => self.acked.entry(tp.clone()).or_default(),
        };
        for (r, offset) in records.iter().zip(base..) {
            let new = by_offset.insert((offset, r.id), || Acked {
                key: r.key.clone(),
                value: r.value.clone(),
                producer: r.producer,
                acks,
                acked_at: now,
            });
            if new {
                self.acknowledged_total += 1;
            }
        }
    }
}

fn unfile(tp: &TopicPartition, (offset, id): (u64, RecordId), a: &Acked) -> AckedRecord {
    AckedRecord {
        id,
        tp: tp.clone(),
        offset,
        key: a.key.clone(),
        value: a.value.clone(),
        producer: a.producer,
        acks: a.acks,
        acked_at: a.acked_at,
    }
}

impl Cluster {
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
            .iter()
            .filter(|((offset, id), _)| !log.contains_at(*offset, *id))
            .map(|(k, a)| unfile(tp, *k, a))
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
                    .filter(|((offset, id), _)| {
                        while held.next_if(|r| r.offset < *offset).is_some() {}
                        held.peek()
                            .is_none_or(|r| r.offset != *offset || r.id != *id)
                    })
                    .map(|(k, a)| unfile(tp, *k, a)),
            );
        }
        self.mark_lost(tp, leader, gone);
    }

    fn mark_lost(&mut self, tp: &TopicPartition, leader: BrokerId, gone: Vec<AckedRecord>) {
        for r in gone {
            let reason = self.loss_reason(tp, leader, &r);
            if let Some(by_offset) = self.ledger.acked.get_mut(tp) {
                by_offset.remove((r.offset, r.id));
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
                lost_at: self.now,
                reason,
            });
        }
    }

    fn loss_reason(&self, tp: &TopicPartition, leader: BrokerId, r: &AckedRecord) -> String {
        let election = self.controller.last_election.get(tp);
        if election.is_some_and(|e| e.unclean) {
            return format!(
                "unclean leader election: broker {} became leader of {tp} without offset {} (unclean.leader.election.enable=true)",
                leader.0, r.offset
            );
        }
        let prev = election
            .and_then(|e| e.previous)
            .map(|b| format!("broker {}", b.0))
            .unwrap_or_else(|| "the old leader".into());
        match r.acks {
            Acks::Leader => format!(
                "acks=1: {prev} acknowledged offset {} before any follower copied it; broker {} took over without it",
                r.offset, leader.0
            ),
            _ => format!(
                "broker {} took over {tp} without offset {} (acknowledged with acks={})",
                leader.0,
                r.offset,
                r.acks.label()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acked(at: u64) -> Acked {
        Acked {
            key: None,
            value: "".into(),
            producer: ProducerId(1),
            acks: Acks::All,
            acked_at: SimTime(at),
        }
    }

    #[test]
    fn records_stay_sorted_by_offset_then_id_and_are_filed_once() {
        let mut r = AckedRecords::default();
        assert!(r.insert((5, RecordId(9)), || acked(1)));
        assert!(r.insert((7, RecordId(3)), || acked(2)));
        // Out of order: a deposed leader's ack for an offset already filed.
        assert!(r.insert((5, RecordId(4)), || acked(3)));
        assert!(r.insert((2, RecordId(1)), || acked(4)));
        assert!(!r.insert((7, RecordId(3)), || acked(5)), "filed twice");
        let keys: Vec<Filed> = r.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                (2, RecordId(1)),
                (5, RecordId(4)),
                (5, RecordId(9)),
                (7, RecordId(3))
            ]
        );
        let five: Vec<Filed> = r.offsets(5, 7).iter().map(|(k, _)| *k).collect();
        assert_eq!(five, [(5, RecordId(4)), (5, RecordId(9))]);
        assert!(r.offsets(8, 20).is_empty());
        r.remove((5, RecordId(4)));
        r.remove((6, RecordId(6)));
        assert_eq!(r.iter().count(), 3);
    }
}
