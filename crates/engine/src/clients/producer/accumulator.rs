//! The producer's record accumulator (Kafka's `RecordAccumulator`): per
//! partition, a queue of batches, each filled up to `batch.size` bytes as
//! Kafka counts them (`DefaultRecord.sizeInBytes`, and a 61-byte batch
//! header), sent in order. How the queue stands decides when the sticky
//! partitioner moves on (`all_full`).

use crate::broker::log::Record;
use crate::ids::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Kafka's `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`: a v2 batch's header.
pub const RECORD_BATCH_OVERHEAD: usize = 61;

/// Records queued for one partition, not yet sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedBatch {
    pub records: Vec<Record>,
    /// The batch's size as Kafka estimates it: header plus records.
    pub bytes: usize,
    /// When its first record arrived: `delivery.timeout.ms` counts from here.
    pub created: SimTime,
    /// A record did not fit: the batch takes no more (Kafka's
    /// `closeForRecordAppends`).
    pub closed: bool,
}

impl QueuedBatch {
    /// Kafka's `MemoryRecordsBuilder.isFull`.
    pub fn is_full(&self, batch_size: usize) -> bool {
        self.closed || (!self.records.is_empty() && self.bytes >= batch_size)
    }
}

/// Kafka's `allBatchesFull`: only the last batch may be incomplete. An
/// empty queue (everything sent) counts as full.
pub fn all_full(queue: Option<&VecDeque<QueuedBatch>>, batch_size: usize) -> bool {
    queue
        .and_then(VecDeque::back)
        .is_none_or(|b| b.is_full(batch_size))
}

/// Appends `record` to the partition's last batch if it has room, else to a
/// new one. Returns the bytes it added (a new batch's header included) and
/// whether the batch opened a queue (`delivery.timeout.ms` starts for it).
pub fn append(
    queue: &mut VecDeque<QueuedBatch>,
    record: Record,
    now: SimTime,
    batch_size: usize,
) -> (usize, bool) {
    let key = record.key.as_ref().map(|k| k.len());
    let value = record.value.len();
    if let Some(last) = queue.back_mut().filter(|b| !b.is_full(batch_size)) {
        let offset_delta = u32::try_from(last.records.len()).unwrap_or(u32::MAX);
        let size = record_size(offset_delta, now.since(last.created), key, value);
        // Kafka's `hasRoomFor`: the record must fit within batch.size.
        if last.bytes + size <= batch_size {
            last.bytes += size;
            last.records.push(record);
            return (size, false);
        }
        last.closed = true;
    }
    let bytes = RECORD_BATCH_OVERHEAD + record_size(0, 0, key, value);
    queue.push_back(QueuedBatch {
        records: vec![record],
        bytes,
        created: now,
        closed: false,
    });
    (bytes, true)
}

/// Kafka's `DefaultRecord.sizeInBytes` for a record without headers: the
/// body (attributes, timestamp and offset deltas, key, value, header count)
/// and its length as a varint.
pub fn record_size(
    offset_delta: u32,
    timestamp_delta: u64,
    key: Option<usize>,
    value: usize,
) -> usize {
    let bytes_with_length = |n: usize| varint_size(i64::try_from(n).unwrap_or(i64::MAX)) + n;
    let body = 1
        + varint_size(i64::from(offset_delta))
        + varint_size(i64::try_from(timestamp_delta).unwrap_or(i64::MAX))
        + key.map_or(1, bytes_with_length)
        + bytes_with_length(value)
        + 1;
    body + varint_size(i64::try_from(body).unwrap_or(i64::MAX))
}

/// Bytes of a zig-zag varint (Kafka's `ByteUtils.sizeOfVarint`/`sizeOfVarlong`).
fn varint_size(n: i64) -> usize {
    let mut v = ((n << 1) ^ (n >> 63)) as u64;
    let mut bytes = 1;
    while v >= 0x80 {
        v >>= 7;
        bytes += 1;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ProducerId, RecordId};

    fn rec(value: &str) -> Record {
        Record {
            id: RecordId(1),
            offset: 0,
            leader_epoch: 0,
            key: None,
            value: value.into(),
            producer: ProducerId(1),
            sequence: None,
            append_time: 0,
        }
    }

    /// Kafka's varint sizes: 1 byte to 63, 2 to 8191, and zig-zag for -1.
    #[test]
    fn record_sizes_are_kafka_s() {
        assert_eq!(varint_size(0), 1);
        assert_eq!(varint_size(63), 1);
        assert_eq!(varint_size(64), 2);
        assert_eq!(varint_size(8191), 2);
        assert_eq!(varint_size(-1), 1);
        // A null key, a 5-byte value, the first record: body 1+1+1+1+(1+5)+1 = 11, plus 1.
        assert_eq!(record_size(0, 0, None, 5), 12);
        // "key" and "value" at offset delta 70, 100 ms later.
        assert_eq!(record_size(70, 100, Some(3), 5), 1 + 2 + 2 + 4 + 6 + 1 + 1);
    }

    /// Batches fill to batch.size, then a new one opens; the queue is "all
    /// full" when the last one is, or when it is empty.
    #[test]
    fn batches_fill_to_batch_size_and_then_a_new_one_opens() {
        let mut q = VecDeque::new();
        assert!(all_full(Some(&q), 100));
        let (first, new) = append(&mut q, rec("aaaaa"), SimTime(0), 100);
        assert_eq!((first, new), (61 + 12, true));
        assert!(!all_full(Some(&q), 100));
        let (second, new) = append(&mut q, rec("aaaaa"), SimTime(0), 100);
        assert_eq!((second, new), (12, false));
        assert_eq!(q.len(), 1);
        let (_, new) = append(&mut q, rec("aaaaa"), SimTime(0), 100);
        assert!(!new, "97 bytes");
        // The next 12 do not fit: the batch closes and another opens.
        let (_, new) = append(&mut q, rec("aaaaa"), SimTime(0), 100);
        assert!(new);
        assert_eq!(q.len(), 2);
        assert!(q[0].is_full(100));
        assert!(!all_full(Some(&q), 100));
    }
}
