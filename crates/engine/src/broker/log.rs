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

/// Records written together: one produce batch as its leader appended it
/// (Kafka's `RecordBatch`). Shared, never changed once written: a
/// follower's copy of a batch, and every fetch response carrying it, point
/// at the leader's records instead of copying them.
pub type Records = std::sync::Arc<[Record]>;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Record>", into = "Vec<Record>")]
pub struct Log {
    /// Non-empty batches at contiguous offsets from 0.
    batches: Vec<Records>,
    /// Each batch's first offset, searched without touching the batches.
    bases: Vec<u64>,
    /// Log end offset.
    end: u64,
    /// The leader epoch of the last record.
    latest_epoch: Option<u32>,
}

/// Two logs are equal when they hold the same records, however batched.
impl PartialEq for Log {
    fn eq(&self, other: &Log) -> bool {
        self.records().eq(other.records())
    }
}

impl Eq for Log {}

impl From<Vec<Record>> for Log {
    fn from(records: Vec<Record>) -> Log {
        let mut log = Log::default();
        log.push_batch(records.into());
        log
    }
}

impl From<Log> for Vec<Record> {
    fn from(log: Log) -> Vec<Record> {
        log.records().cloned().collect()
    }
}

impl Log {
    /// Log end offset: the offset the next record will get.
    pub fn log_end_offset(&self) -> u64 {
        self.end
    }

    /// Appends a batch whose records already carry their offsets, from the
    /// log end on.
    fn push_batch(&mut self, batch: Records) {
        if let Some(last) = batch.last() {
            self.bases.push(batch[0].offset);
            self.end = last.offset + 1;
            self.latest_epoch = Some(last.leader_epoch);
            self.batches.push(batch);
        }
    }

    /// Every record, in offset order.
    pub fn records(&self) -> impl DoubleEndedIterator<Item = &Record> {
        self.batches.iter().flat_map(|b| b.iter())
    }

    /// The index of the batch holding `offset`, if the log has it.
    fn batch_of(&self, offset: u64) -> Option<usize> {
        if offset >= self.log_end_offset() {
            return None;
        }
        let i = self.bases.partition_point(|base| *base <= offset);
        i.checked_sub(1)
    }

    /// The records from `offset` on, in order.
    pub fn records_from(&self, offset: u64) -> impl Iterator<Item = &Record> {
        let (first, skip) = match self.batch_of(offset) {
            Some(i) => (i, (offset - self.bases[i]) as usize),
            None => (self.batches.len(), 0),
        };
        self.batches[first..]
            .iter()
            .flat_map(|b| b.iter())
            .skip(skip)
    }

    pub fn get(&self, offset: u64) -> Option<&Record> {
        let i = self.batch_of(offset)?;
        self.batches[i].get(usize::try_from(offset - self.bases[i]).ok()?)
    }

    pub fn contains_at(&self, offset: u64, id: RecordId) -> bool {
        self.get(offset).is_some_and(|r| r.id == id)
    }

    /// Appends a record at the log end, giving it its offset.
    pub fn append(&mut self, record: Record) -> u64 {
        self.append_batch(vec![record])
    }

    /// Appends records as one batch at the log end, giving them their
    /// offsets; returns the first one's.
    pub fn append_batch(&mut self, mut records: Vec<Record>) -> u64 {
        let base = self.log_end_offset();
        for (r, offset) in records.iter_mut().zip(base..) {
            r.offset = offset;
        }
        let count = records.len() as u64;
        self.push_batch(records.into());
        debug_assert_eq!(
            self.log_end_offset(),
            base + count,
            "the LEO moves by the batch"
        );
        base
    }

    /// Appends what a fetch from the leader returned, from this log's end
    /// on (a record this log already holds is skipped); a whole batch is
    /// shared, not copied. Returns how many records were appended.
    pub fn append_fetched(&mut self, fetched: &Batches) -> u64 {
        let mut count = 0;
        for batch in fetched.batches() {
            let leo = self.log_end_offset();
            let first = batch[0].offset;
            let last = batch[batch.len() - 1].offset;
            if first == leo {
                self.push_batch(batch.clone());
                count += batch.len() as u64;
            } else if first < leo && leo <= last {
                let from = (leo - first) as usize;
                self.push_batch(batch[from..].into());
                count += (batch.len() - from) as u64;
            }
        }
        count
    }

    /// Removes every record at or above `offset`; returns what was removed.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<Record> {
        let Some(i) = self.batch_of(offset) else {
            return Vec::new();
        };
        let keep = (offset - self.bases[i]) as usize;
        let mut removed = self.batches[i][keep..].to_vec();
        for later in self.batches.drain(i + 1..) {
            removed.extend(later.iter().cloned());
        }
        if keep == 0 {
            self.batches.truncate(i);
        } else {
            self.batches[i] = self.batches[i][..keep].into();
        }
        self.bases.truncate(self.batches.len());
        self.end = offset;
        let latest = self.records().next_back().map(|r| r.leader_epoch);
        self.latest_epoch = latest;
        removed
    }

    pub fn latest_epoch(&self) -> Option<u32> {
        self.latest_epoch
    }

    /// Kafka's `endOffsetForEpoch`: the largest epoch <= `epoch` present in the
    /// log and the offset where the next higher epoch starts (or the log end).
    pub fn end_offset_for_epoch(&self, epoch: u32) -> Option<(u32, u64)> {
        // The common case, a follower fetching in the current epoch.
        if let Some(latest) = self.latest_epoch.filter(|e| *e <= epoch) {
            return Some((latest, self.end));
        }
        // Epochs never decrease along a log: binary search over batches,
        // then within the batch.
        let b = self.batches.partition_point(|b| b[0].leader_epoch <= epoch);
        if b == 0 {
            return None;
        }
        let batch = &self.batches[b - 1];
        let idx = batch.partition_point(|r| r.leader_epoch <= epoch);
        let found = &batch[idx - 1];
        Some((found.leader_epoch, found.offset + 1))
    }

    /// Records from `offset` (inclusive), at most `max` of them: whole
    /// batches are shared, a batch cut by `offset` or `max` is copied.
    pub fn read_from(&self, offset: u64, max: usize) -> Batches {
        let mut out = Batches::default();
        let Some(mut i) = self.batch_of(offset) else {
            return out;
        };
        out.0.reserve((self.batches.len() - i).min(max));
        let (mut at, mut left) = (offset, max);
        while left > 0 && i < self.batches.len() {
            let b = &self.batches[i];
            let start = (at - self.bases[i]) as usize;
            let take = (b.len() - start).min(left);
            if take == b.len() {
                out.0.push(b.clone());
            } else {
                out.0.push(b[start..start + take].into());
            }
            at += take as u64;
            left -= take;
            i += 1;
        }
        out
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

/// The records of one partition in a fetch response: the leader's batches,
/// shared where the read covers them whole. Serialised as the list of
/// records.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Record>", into = "Vec<Record>")]
pub struct Batches(Vec<Records>);

impl Batches {
    pub fn batches(&self) -> &[Records] {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.0.iter().flat_map(|b| b.iter())
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|b| b.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<&Record> {
        self.0.first().and_then(|b| b.first())
    }
}

impl PartialEq for Batches {
    fn eq(&self, other: &Batches) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Batches {}

impl From<Vec<Record>> for Batches {
    fn from(records: Vec<Record>) -> Batches {
        if records.is_empty() {
            Batches::default()
        } else {
            Batches(vec![records.into()])
        }
    }
}

impl From<Batches> for Vec<Record> {
    fn from(b: Batches) -> Vec<Record> {
        b.iter().cloned().collect()
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
    fn a_log_of_many_batches_reads_truncates_and_finds_epochs() {
        let mut log = Log::default();
        // 30 batches of 10 records; epoch e covers ids 100e..100e+99.
        for b in 0..30u64 {
            let batch = (0..10).map(|i| rec(b * 10 + i, (b / 10) as u32)).collect();
            assert_eq!(log.append_batch(batch), b * 10);
        }
        assert_eq!(log.log_end_offset(), 300);
        assert!(log.records().enumerate().all(|(i, r)| r.offset == i as u64));
        assert_eq!(log.get(125).map(|r| r.id), Some(RecordId(125)));
        assert_eq!(log.get(300), None);
        assert!(log.records_from(125).map(|r| r.offset).eq(125..300));
        assert_eq!(log.records_from(300).count(), 0);
        // A read shares whole batches and copies cut ones.
        let read = log.read_from(15, 20);
        assert_eq!(read.len(), 20);
        assert_eq!(read.batches().len(), 3);
        assert_eq!(read.first().map(|r| r.offset), Some(15));
        assert!(std::sync::Arc::ptr_eq(&read.batches()[1], &log.batches[2]));
        assert_eq!(log.read_from(295, 10).len(), 5);
        assert!(log.read_from(300, 10).is_empty());
        assert_eq!(log.end_offset_for_epoch(0), Some((0, 100)));
        assert_eq!(log.end_offset_for_epoch(1), Some((1, 200)));
        assert_eq!(log.end_offset_for_epoch(7), Some((2, 300)));
        // A follower appends what it fetched, sharing the batches.
        let mut follower = Log::default();
        assert_eq!(follower.append_fetched(&log.read_from(0, 25)), 25);
        assert_eq!(follower.append_fetched(&log.read_from(20, 10)), 5);
        assert_eq!(follower.log_end_offset(), 30);
        assert!(follower.records().eq(log.records().take(30)));
        // Truncating at a batch boundary, then inside one.
        assert_eq!(log.truncate_to(200).len(), 100);
        assert_eq!(log.log_end_offset(), 200);
        assert_eq!(log.truncate_to(105).len(), 95);
        assert_eq!(log.log_end_offset(), 105);
        assert_eq!(log.append(rec(9_999, 9)), 105);
        let back: Log = Vec::<Record>::from(log.clone()).into();
        assert_eq!(back, log);
        let json = serde_json::to_string(&log.read_from(0, 3)).unwrap();
        let again: Batches = serde_json::from_str(&json).unwrap();
        assert_eq!(again, log.read_from(0, 3));
    }
}
