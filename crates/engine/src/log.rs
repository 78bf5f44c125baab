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

/// Records per chunk of a log. A log grows by whole chunks, so appending
/// never copies what is already stored (a `Vec` that doubles would move
/// every record it holds each time it grows).
const CHUNK: usize = 4096;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Record>", into = "Vec<Record>")]
pub struct Log {
    /// Full chunks of `CHUNK` records, then one partly filled.
    chunks: Vec<Vec<Record>>,
}

impl From<Vec<Record>> for Log {
    fn from(records: Vec<Record>) -> Log {
        let mut log = Log::default();
        for r in records {
            log.push(r);
        }
        log
    }
}

impl From<Log> for Vec<Record> {
    fn from(log: Log) -> Vec<Record> {
        log.chunks.into_iter().flatten().collect()
    }
}

impl Log {
    /// Log end offset: the offset the next record will get.
    pub fn log_end_offset(&self) -> u64 {
        match self.chunks.last() {
            Some(last) => ((self.chunks.len() - 1) * CHUNK + last.len()) as u64,
            None => 0,
        }
    }

    /// Every record, in offset order.
    pub fn records(&self) -> impl DoubleEndedIterator<Item = &Record> {
        self.chunks.iter().flatten()
    }

    pub fn get(&self, offset: u64) -> Option<&Record> {
        let i = usize::try_from(offset).ok()?;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub fn contains_at(&self, offset: u64, id: RecordId) -> bool {
        self.get(offset).is_some_and(|r| r.id == id)
    }

    /// Appends a record at the log end, giving it its offset.
    pub fn append(&mut self, mut record: Record) -> u64 {
        record.offset = self.log_end_offset();
        let offset = record.offset;
        self.push(record);
        offset
    }

    fn push(&mut self, record: Record) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(record),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(record);
                self.chunks.push(chunk);
            }
        }
    }

    /// Removes every record at or above `offset`; returns what was removed.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<Record> {
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        if at as u64 >= self.log_end_offset() {
            return Vec::new();
        }
        let (chunk, within) = (at / CHUNK, at % CHUNK);
        let mut removed = self.chunks[chunk].split_off(within);
        for later in self.chunks.drain(chunk + 1..) {
            removed.extend(later);
        }
        if within == 0 {
            self.chunks.truncate(chunk);
        }
        removed
    }

    pub fn latest_epoch(&self) -> Option<u32> {
        self.records().next_back().map(|r| r.leader_epoch)
    }

    /// Kafka's `endOffsetForEpoch`: the largest epoch <= `epoch` present in the
    /// log and the offset where the next higher epoch starts (or the log end).
    pub fn end_offset_for_epoch(&self, epoch: u32) -> Option<(u32, u64)> {
        // The common case, a follower fetching in the current epoch.
        if let Some(last) = self.records().next_back() {
            if last.leader_epoch <= epoch {
                return Some((last.leader_epoch, last.offset + 1));
            }
        }
        // Epochs never decrease along a log: binary search over chunks,
        // then within the chunk.
        let c = self
            .chunks
            .partition_point(|ch| ch.first().is_some_and(|r| r.leader_epoch <= epoch));
        if c == 0 {
            return None;
        }
        let chunk = &self.chunks[c - 1];
        let idx = chunk.partition_point(|r| r.leader_epoch <= epoch);
        let found = &chunk[idx - 1];
        Some((found.leader_epoch, found.offset + 1))
    }

    /// Records from `offset` (inclusive), at most `max` of them; a read
    /// stops at a chunk's end, as Kafka's stops at a segment's.
    pub fn read_from(&self, offset: u64, max: usize) -> &[Record] {
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let Some(chunk) = self.chunks.get(at / CHUNK) else {
            return &[];
        };
        let start = (at % CHUNK).min(chunk.len());
        let end = start.saturating_add(max).min(chunk.len());
        &chunk[start..end]
    }

    /// The offset an idempotent producer's record already has, if present.
    pub fn find_sequence(&self, producer: ProducerId, sequence: u64) -> Option<u64> {
        self.records()
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

    #[test]
    fn a_log_spanning_chunks_reads_truncates_and_finds_epochs() {
        let mut log = Log::default();
        let n = (CHUNK * 2 + 10) as u64;
        for id in 0..n {
            log.append(rec(id, (id / 1000) as u32));
        }
        assert_eq!(log.log_end_offset(), n);
        assert!(log.records().enumerate().all(|(i, r)| r.offset == i as u64));
        assert_eq!(
            log.get(CHUNK as u64).map(|r| r.id),
            Some(RecordId(CHUNK as u64))
        );
        // A read stops at the chunk's end.
        assert_eq!(log.read_from(CHUNK as u64 - 2, 10).len(), 2);
        assert_eq!(log.read_from(n, 10).len(), 0);
        assert_eq!(log.end_offset_for_epoch(4), Some((4, 5000)));
        assert_eq!(log.end_offset_for_epoch(8), Some((8, n)));
        // Truncating exactly at a chunk boundary, then inside one.
        assert_eq!(log.truncate_to(CHUNK as u64 * 2).len(), 10);
        assert_eq!(log.log_end_offset(), CHUNK as u64 * 2);
        assert_eq!(log.truncate_to(100).len(), CHUNK * 2 - 100);
        assert_eq!(log.log_end_offset(), 100);
        assert_eq!(log.append(rec(9_999, 9)), 100);
        let back: Log = Vec::<Record>::from(log.clone()).into();
        assert_eq!(back, log);
    }
}
