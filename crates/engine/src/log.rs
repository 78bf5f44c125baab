//! A replica's log (Kafka's `UnifiedLog`, without bytes or segments): records
//! at contiguous offsets from 0, each stamped with the leader epoch that wrote
//! it, so a returning replica can find where it diverged from the leader.

use crate::ids::{ProducerId, RecordId};
use serde::{Deserialize, Serialize};

/// Shared text: a record is copied to every replica, message and event, and
/// `Arc<str>` makes each copy a reference-count bump instead of an allocation.
pub type Text = std::sync::Arc<str>;

/// One record as stored on a replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: RecordId,
    pub offset: u64,
    pub leader_epoch: u32,
    pub key: Option<Text>,
    pub value: Text,
    pub producer: ProducerId,
    /// Idempotent producers stamp each record with a per-partition sequence.
    pub sequence: Option<u64>,
    /// Virtual time the leader appended it.
    pub append_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    records: Vec<Record>,
}

impl Log {
    /// Log end offset: the offset the next record will get.
    pub fn log_end_offset(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn get(&self, offset: u64) -> Option<&Record> {
        self.records.get(offset as usize)
    }

    pub fn contains_at(&self, offset: u64, id: RecordId) -> bool {
        self.get(offset).is_some_and(|r| r.id == id)
    }

    /// Appends a record at the log end, giving it its offset.
    pub fn append(&mut self, mut record: Record) -> u64 {
        record.offset = self.log_end_offset();
        let offset = record.offset;
        self.records.push(record);
        offset
    }

    /// Removes every record at or above `offset`; returns what was removed.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<Record> {
        let at = (offset as usize).min(self.records.len());
        self.records.split_off(at)
    }

    pub fn latest_epoch(&self) -> Option<u32> {
        self.records.last().map(|r| r.leader_epoch)
    }

    /// Kafka's `endOffsetForEpoch`: the largest epoch <= `epoch` present in the
    /// log and the offset where the next higher epoch starts (or the log end).
    pub fn end_offset_for_epoch(&self, epoch: u32) -> Option<(u32, u64)> {
        let idx = self.records.partition_point(|r| r.leader_epoch <= epoch);
        if idx == 0 {
            return None;
        }
        let found_epoch = self.records[idx - 1].leader_epoch;
        Some((found_epoch, idx as u64))
    }

    /// Records from `offset` (inclusive), at most `max` of them.
    pub fn read_from(&self, offset: u64, max: usize) -> &[Record] {
        let start = (offset as usize).min(self.records.len());
        let end = start.saturating_add(max).min(self.records.len());
        &self.records[start..end]
    }

    /// The offset an idempotent producer's record already has, if present.
    pub fn find_sequence(&self, producer: ProducerId, sequence: u64) -> Option<u64> {
        self.records
            .iter()
            .rev()
            .take(64)
            .find(|r| r.producer == producer && r.sequence == Some(sequence))
            .map(|r| r.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, epoch: u32) -> Record {
        Record {
            id: RecordId(id),
            offset: 0,
            leader_epoch: epoch,
            key: None,
            value: "".into(),
            producer: ProducerId(1),
            sequence: None,
            append_time: 0,
        }
    }

    #[test]
    fn offsets_are_contiguous_from_zero() {
        let mut log = Log::default();
        assert_eq!(log.append(rec(1, 0)), 0);
        assert_eq!(log.append(rec(2, 0)), 1);
        assert_eq!(log.log_end_offset(), 2);
    }

    #[test]
    fn end_offset_for_epoch_finds_the_start_of_the_next_epoch() {
        let mut log = Log::default();
        for (id, epoch) in [(1, 0), (2, 0), (3, 2), (4, 2), (5, 5)] {
            log.append(rec(id, epoch));
        }
        assert_eq!(log.end_offset_for_epoch(0), Some((0, 2)));
        assert_eq!(log.end_offset_for_epoch(1), Some((0, 2)));
        assert_eq!(log.end_offset_for_epoch(2), Some((2, 4)));
        assert_eq!(log.end_offset_for_epoch(9), Some((5, 5)));
        let empty = Log::default();
        assert_eq!(empty.end_offset_for_epoch(3), None);
    }

    #[test]
    fn truncation_returns_the_removed_records() {
        let mut log = Log::default();
        for id in 0..5 {
            log.append(rec(id, 0));
        }
        let removed = log.truncate_to(3);
        assert_eq!(removed.len(), 2);
        assert_eq!(log.log_end_offset(), 3);
        assert!(log.truncate_to(10).is_empty());
    }
}
