//! The producer's partitioner: which partition a record goes to.
//!
//! Keyed records hash their key bytes with Kafka's murmur2 (so the same key
//! always lands on the same partition); records without a key use the sticky
//! partitioner; `RoundRobinPartitioner` and user rules are opt-in choices.
//! Also here: Java's `String.hashCode`, which Kafka uses (instead of murmur2)
//! to find a consumer group's coordinator partition.

use crate::error::{ErrorCode, KafkaError, Result};
use crate::sim::random;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Kafka's `batch.size` default: the sticky partitioner switches partition
/// after about this many bytes went to the current one.
pub const DEFAULT_BATCH_SIZE: usize = 16384;

const MURMUR2_SEED: u32 = 0x9747_b28c;
const MURMUR2_M: u32 = 0x5bd1_e995;
const MURMUR2_R: u32 = 24;

/// Kafka's `Utils.murmur2`, bit for bit, so that a key lands on the same
/// partition here as with a real Java producer.
///
/// Java has no unsigned ints: its `>>>` is our `>>` on `u32`, and its
/// overflowing `*` is our `wrapping_mul`. The result is read as Java's `int`.
pub fn murmur2(data: &[u8]) -> i32 {
    // Java computes `seed ^ length` on ints; lengths beyond i32 cannot occur.
    let mut h = MURMUR2_SEED ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h = h.wrapping_mul(MURMUR2_M) ^ murmur2_mix_block(k);
    }
    h = murmur2_tail(h, blocks.remainder());
    h ^= h >> 13;
    h = h.wrapping_mul(MURMUR2_M);
    h ^= h >> 15;
    h as i32
}

/// Scrambles one 4-byte block before it is folded into the hash.
fn murmur2_mix_block(mut k: u32) -> u32 {
    k = k.wrapping_mul(MURMUR2_M);
    k ^= k >> MURMUR2_R;
    k.wrapping_mul(MURMUR2_M)
}

/// Mixes in the last 1-3 bytes, as Kafka's fall-through `switch` does.
fn murmur2_tail(mut h: u32, tail: &[u8]) -> u32 {
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(MURMUR2_M);
    }
    h
}

/// Kafka's `Utils.toPositive`: clears the sign bit. It is deliberately not
/// `abs`: a negative hash maps to a different number (and so usually to a
/// different partition) than its absolute value would, and `i32::MIN` maps
/// to 0 instead of overflowing.
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Kafka's default partitioner picks for a non-null key:
/// `toPositive(murmur2(key)) % numPartitions`. `num_partitions` is the
/// topic's total count, leaderless partitions included, which is why a key
/// keeps its partition while that partition is offline.
///
/// A topic always has at least one partition; for 0 this returns 0 rather
/// than dividing by zero.
pub fn partition_for_key(key: &[u8], num_partitions: u32) -> u32 {
    let positive = to_positive(murmur2(key)) as u32;
    positive.checked_rem(num_partitions).unwrap_or(0)
}

/// Java's `String.hashCode`: `31 * h + c` over UTF-16 code units, wrapping.
/// Kafka uses it, not murmur2, to map a `group.id` to its coordinator, so a
/// character outside the BMP (an emoji) counts as two code units.
pub fn java_string_hashcode(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Kafka's `Utils.abs`: like `abs`, except that `i32::MIN` (which has no
/// positive counterpart) becomes 0 instead of staying negative.
pub fn java_abs(n: i32) -> i32 {
    if n == i32::MIN {
        0
    } else {
        n.abs()
    }
}

/// The `__consumer_offsets` partition whose leader coordinates `group_id`
/// (Kafka's `GroupCoordinator.partitionFor`):
/// `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`.
/// Returns 0 when asked about a topic with 0 partitions.
pub fn coordinator_partition(group_id: &str, offsets_topic_partitions: u32) -> u32 {
    let positive = java_abs(java_string_hashcode(group_id)) as u32;
    positive.checked_rem(offsets_topic_partitions).unwrap_or(0)
}

/// One line of a user-written partitioner: records with exactly this key
/// (compared as UTF-8 bytes) go to `partition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRule {
    pub key: String,
    pub partition: u32,
}

/// Which partitioner a producer is configured with (`partitioner.class`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PartitionerKind {
    /// Kafka's built-in partitioner (no `partitioner.class` set): murmur2 of
    /// the key for keyed records, the sticky partitioner for null keys.
    Default,
    /// Kafka's `org.apache.kafka.clients.producer.RoundRobinPartitioner`.
    /// It ignores keys entirely: keyed records are dealt out in turn too, so
    /// a key no longer pins a partition. (Kafka before 3.9.1/4.0 had a bug,
    /// KAFKA-17632, where a new batch consumed two counter values and even
    /// partition counts saw every other partition skipped; we model the fixed
    /// behaviour.)
    RoundRobin,
    /// A user-written `Partitioner` reduced to a rule table: a key with a
    /// rule goes to its partition; any other key, and null keys, fall back to
    /// `Default`.
    Custom { rules: Vec<KeyRule> },
}

impl Default for PartitionerKind {
    /// Kafka's producers use the built-in partitioner unless told otherwise.
    fn default() -> Self {
        PartitionerKind::Default
    }
}

impl PartitionerKind {
    /// The partition a `Custom` rule fixes for this key, if any.
    pub fn rule_for(&self, key: &[u8]) -> Option<u32> {
        match self {
            PartitionerKind::Custom { rules } => rules
                .iter()
                .find(|rule| rule.key.as_bytes() == key)
                .map(|rule| rule.partition),
            _ => None,
        }
    }

    /// Picks the partition for one record, updating the producer's
    /// partitioner state. Errors like the Java producer does when a custom
    /// rule names a partition the topic does not have.
    pub fn partition(
        &self,
        state: &mut PartitionerState,
        record: &RecordToPartition<'_>,
        rng: &mut impl rand::RngCore,
    ) -> Result<u32> {
        if let PartitionerKind::RoundRobin = self {
            return Ok(state.round_robin.partition(
                record.topic,
                record.available,
                record.num_partitions,
            ));
        }
        match record.key {
            Some(key) => self.keyed_partition(key, record.num_partitions),
            None => Ok(state.sticky.partition(
                record.topic,
                record.record_bytes,
                record.available,
                record.num_partitions,
                rng,
            )),
        }
    }

    /// A keyed record under `Default` or `Custom`.
    fn keyed_partition(&self, key: &[u8], num_partitions: u32) -> Result<u32> {
        let Some(partition) = self.rule_for(key) else {
            return Ok(partition_for_key(key, num_partitions));
        };
        if partition < num_partitions {
            return Ok(partition);
        }
        // The Java producer's wording when a partitioner returns a partition
        // the topic does not have.
        Err(KafkaError::new(
            ErrorCode::InvalidRequest,
            format!(
                "Invalid partition given with record: {partition} is not in the range [0...{num_partitions})."
            ),
        ))
    }
}

/// What the partitioner needs to know about one record and its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordToPartition<'a> {
    pub topic: &'a str,
    /// The serialised key, or `None` for a null key.
    pub key: Option<&'a [u8]>,
    /// Bytes the record adds to its batch (drives the sticky switch).
    pub record_bytes: usize,
    /// Partitions that currently have a leader, in partition order.
    pub available: &'a [u32],
    /// All partitions of the topic, leaderless ones included.
    pub num_partitions: u32,
}

/// A producer's partitioner bookkeeping across records: one sticky choice
/// and one round-robin counter per topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionerState {
    pub sticky: StickyPartitioner,
    pub round_robin: RoundRobinState,
}

/// Where the sticky partitioner is for one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickyChoice {
    pub partition: u32,
    pub produced_bytes: usize,
}

/// Kafka's `BuiltInPartitioner` for null keys (uniform sticky, KIP-794),
/// counting the bytes each record adds to its batch. Sticking to one
/// partition fills batches instead of sending many tiny ones; it is not
/// round-robin. It moves on once `batch.size` bytes went to the partition
/// and the switch is enabled (the partition's last queued batch is full or
/// its queue is empty), and at `2 × batch.size` in any case
/// (`BuiltInPartitioner.updatePartitionInfo`); the producer says which
/// (clients/producer/sender.rs).
///
/// Simplification: with adaptive partitioning
/// (`partitioner.adaptive.partitioning.enable`) Kafka favours partitions on
/// brokers with shorter queues; we pick uniformly, which is what Kafka does
/// when queues are even.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickyPartitioner {
    batch_size: usize,
    current: BTreeMap<String, StickyChoice>,
}

impl Default for StickyPartitioner {
    fn default() -> Self {
        Self::new()
    }
}

impl StickyPartitioner {
    /// A sticky partitioner with Kafka's default `batch.size` (16384).
    pub fn new() -> Self {
        Self::with_batch_size(DEFAULT_BATCH_SIZE)
    }

    /// A sticky partitioner for a producer with a non-default `batch.size`;
    /// like Kafka, a size of 0 is treated as 1.
    pub fn with_batch_size(batch_size: usize) -> Self {
        StickyPartitioner {
            batch_size: batch_size.max(1),
            current: BTreeMap::new(),
        }
    }

    /// A producer reconfigured with a new `batch.size`: the current choices
    /// stay, and switch at the new size.
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// The producer's `batch.size`.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The partition null-key records of `topic` currently stick to, and the
    /// bytes sent to it so far, for showing in the UI.
    pub fn current(&self, topic: &str) -> Option<StickyChoice> {
        self.current.get(topic).copied()
    }

    /// The partition null-key records of `topic` go to now, chosen on first
    /// use (Kafka's `peekCurrentPartitionInfo`).
    pub fn peek(
        &mut self,
        topic: &str,
        available: &[u32],
        num_partitions: u32,
        rng: &mut impl rand::RngCore,
    ) -> u32 {
        if let Some(choice) = self.current.get(topic) {
            return choice.partition;
        }
        let partition = next_sticky_partition(available, num_partitions, rng);
        self.current.insert(
            topic.to_owned(),
            StickyChoice {
                partition,
                produced_bytes: 0,
            },
        );
        partition
    }

    /// `appended` bytes went to the current partition (Kafka's
    /// `updatePartitionInfo`): it moves on once `batch.size` bytes went
    /// there if `enable_switch` (the partition's last queued batch is full
    /// or its queue is empty), and at `2 × batch.size` whatever the queue.
    /// The new pick may by chance be the same partition.
    pub fn update(
        &mut self,
        topic: &str,
        appended: usize,
        enable_switch: bool,
        available: &[u32],
        num_partitions: u32,
        rng: &mut impl rand::RngCore,
    ) {
        let Some(choice) = self.current.get_mut(topic) else {
            return;
        };
        choice.produced_bytes = choice.produced_bytes.saturating_add(appended);
        let produced = choice.produced_bytes;
        if (produced >= self.batch_size && enable_switch) || produced >= 2 * self.batch_size {
            *choice = StickyChoice {
                partition: next_sticky_partition(available, num_partitions, rng),
                produced_bytes: 0,
            };
        }
    }

    /// The partition for one null-key record of `record_bytes` bytes from a
    /// producer whose batches are sent before its next record (the switch
    /// always enabled).
    ///
    /// As in Kafka, the record that reaches `batch.size` still goes to the
    /// current partition; the switch applies from the next record on.
    pub fn partition(
        &mut self,
        topic: &str,
        record_bytes: usize,
        available: &[u32],
        num_partitions: u32,
        rng: &mut impl rand::RngCore,
    ) -> u32 {
        let partition = self.peek(topic, available, num_partitions, rng);
        self.update(topic, record_bytes, true, available, num_partitions, rng);
        partition
    }
}

/// `BuiltInPartitioner.nextPartition` without load stats: uniform among the
/// partitions that have a leader, or among all when none has.
fn next_sticky_partition(
    available: &[u32],
    num_partitions: u32,
    rng: &mut impl rand::RngCore,
) -> u32 {
    if let Some(p) = random::pick(rng, available) {
        return p;
    }
    if num_partitions == 0 {
        return 0;
    }
    random::below(rng, num_partitions)
}

/// Kafka's `RoundRobinPartitioner` state: one counter per topic, starting
/// at 0, shared by keyed and null-key records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRobinState {
    counters: BTreeMap<String, i32>,
}

impl RoundRobinState {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next partition for `topic`. Like Kafka, the counter indexes the
    /// partitions that have a leader when there are any (so an offline
    /// partition is skipped, and the cycle shifts), and all partitions
    /// otherwise. The counter is a Java `int`: it wraps, and `toPositive`
    /// keeps the index non-negative.
    pub fn partition(&mut self, topic: &str, available: &[u32], num_partitions: u32) -> u32 {
        let counter = self.counters.entry(topic.to_owned()).or_insert(0);
        let value = to_positive(*counter) as u32;
        *counter = counter.wrapping_add(1);
        if !available.is_empty() {
            return available[(value as usize) % available.len()];
        }
        value.checked_rem(num_partitions).unwrap_or(0)
    }

    /// How many records of `topic` this producer has dealt out so far.
    pub fn counter(&self, topic: &str) -> i32 {
        self.counters.get(topic).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn murmur2_matches_kafka_utils_test() {
        // The values of Kafka's UtilsTest.testMurmur2.
        let cases: [(&str, i32); 6] = [
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            ("abc", 479470107),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key.as_bytes()), expected, "murmur2({key:?})");
        }
    }

    #[test]
    fn murmur2_covers_every_tail_length() {
        // Lengths 0..=3 exercise the empty body and each tail case.
        assert_eq!(murmur2(b""), 275646681);
        assert_eq!(murmur2(b"a"), -1563381124);
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"abc"), 479470107);
    }

    #[test]
    fn murmur2_hashes_utf8_bytes_of_string_keys() {
        assert_eq!(murmur2("é".as_bytes()), 186971271);
        assert_eq!(murmur2("😀".as_bytes()), 131881617);
    }

    #[test]
    fn to_positive_clears_the_sign_bit_and_is_not_abs() {
        assert_eq!(to_positive(5), 5);
        assert_eq!(to_positive(0), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_ne!(to_positive(-1), (-1i32).abs());
        assert_eq!(to_positive(-973932308), 1173551340);
        assert_ne!(to_positive(-973932308), 973932308);
        // abs(i32::MIN) overflows; toPositive gives 0.
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(i32::MIN.checked_abs(), None);
    }

    #[test]
    fn partition_for_key_uses_to_positive_not_abs() {
        // 2^31 - 973932308 = 1173551340, which ends in 0.
        assert_eq!(partition_for_key(b"21", 10), 0);
        // With abs it would have been 973932308 % 10 = 8: the wrong lesson.
        assert_eq!(973932308 % 10, 8);
    }

    #[test]
    fn partition_for_key_examples() {
        assert_eq!(partition_for_key(b"foobar", 10), 6);
        assert_eq!(partition_for_key(b"abc", 10), 7);
        assert_eq!(partition_for_key(b"abc", 3), 0);
        assert_eq!(partition_for_key(b"hello", 10), 9);
        assert_eq!(partition_for_key(b"key1", 3), 2);
        assert_eq!(partition_for_key(b"anything", 1), 0);
    }

    #[test]
    fn partition_for_key_with_no_partitions_does_not_panic() {
        assert_eq!(partition_for_key(b"21", 0), 0);
    }

    #[test]
    fn java_hashcode_matches_java() {
        assert_eq!(java_string_hashcode(""), 0);
        assert_eq!(java_string_hashcode("a"), 97);
        assert_eq!(java_string_hashcode("hello"), 99162322);
        assert_eq!(java_string_hashcode("group1"), -1237460590);
        assert_eq!(java_string_hashcode("my-group"), -1906497762);
    }

    #[test]
    fn java_hashcode_counts_utf16_units() {
        // U+1F600 is the surrogate pair D83D DE00: 31 * 0xD83D + 0xDE00.
        assert_eq!(java_string_hashcode("😀"), 31 * 0xD83D + 0xDE00);
        assert_eq!(java_string_hashcode("😀"), 1772899);
        assert_ne!(java_string_hashcode("😀"), 0x1F600);
    }

    #[test]
    fn java_abs_maps_min_to_zero() {
        assert_eq!(java_abs(-5), 5);
        assert_eq!(java_abs(5), 5);
        assert_eq!(java_abs(i32::MIN), 0);
        assert_eq!(java_string_hashcode("polygenelubricants"), i32::MIN);
        assert_eq!(java_abs(java_string_hashcode("polygenelubricants")), 0);
    }

    #[test]
    fn coordinator_partition_examples() {
        assert_eq!(coordinator_partition("hello", 50), 22);
        assert_eq!(coordinator_partition("group1", 50), 40);
        assert_eq!(coordinator_partition("my-group", 50), 12);
        assert_eq!(coordinator_partition("polygenelubricants", 50), 0);
        assert_eq!(coordinator_partition("", 50), 0);
        assert_eq!(coordinator_partition("hello", 0), 0);
    }

    #[test]
    fn partitioner_kind_serialises_with_a_kind_tag() {
        let custom = PartitionerKind::Custom {
            rules: vec![KeyRule {
                key: "vip".into(),
                partition: 2,
            }],
        };
        let json = serde_json::to_string(&custom).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"custom","rules":[{"key":"vip","partition":2}]}"#
        );
        assert_eq!(
            serde_json::from_str::<PartitionerKind>(&json).unwrap(),
            custom
        );
        let rr = serde_json::to_string(&PartitionerKind::RoundRobin).unwrap();
        assert_eq!(rr, r#"{"kind":"round_robin"}"#);
        assert_eq!(PartitionerKind::default(), PartitionerKind::Default);
    }

    fn record<'a>(key: Option<&'a [u8]>, available: &'a [u32]) -> RecordToPartition<'a> {
        RecordToPartition {
            topic: "t",
            key,
            record_bytes: 100,
            available,
            num_partitions: 10,
        }
    }

    #[test]
    fn custom_rules_fall_back_to_murmur2() {
        let kind = PartitionerKind::Custom {
            rules: vec![KeyRule {
                key: "21".into(),
                partition: 3,
            }],
        };
        let mut state = PartitionerState::default();
        let mut rng = rng();
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(
            kind.partition(&mut state, &record(Some(b"21"), &all), &mut rng),
            Ok(3)
        );
        assert_eq!(
            kind.partition(&mut state, &record(Some(b"foobar"), &all), &mut rng),
            Ok(6)
        );
    }

    #[test]
    fn custom_rule_out_of_range_is_refused() {
        let kind = PartitionerKind::Custom {
            rules: vec![KeyRule {
                key: "k".into(),
                partition: 10,
            }],
        };
        let err = kind
            .partition(
                &mut PartitionerState::default(),
                &record(Some(b"k"), &[]),
                &mut rng(),
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn round_robin_kind_ignores_keys() {
        let kind = PartitionerKind::RoundRobin;
        let mut state = PartitionerState::default();
        let mut rng = rng();
        let all: Vec<u32> = (0..10).collect();
        let got: Vec<u32> = (0..3)
            .map(|_| {
                kind.partition(&mut state, &record(Some(b"21"), &all), &mut rng)
                    .unwrap()
            })
            .collect();
        assert_eq!(got, vec![0, 1, 2]);
    }

    #[test]
    fn default_kind_uses_sticky_for_null_keys() {
        let kind = PartitionerKind::Default;
        let mut state = PartitionerState::default();
        let mut rng = rng();
        let all: Vec<u32> = (0..10).collect();
        let first = kind
            .partition(&mut state, &record(None, &all), &mut rng)
            .unwrap();
        for _ in 0..50 {
            assert_eq!(
                kind.partition(&mut state, &record(None, &all), &mut rng),
                Ok(first)
            );
        }
    }

    #[test]
    fn sticky_switches_after_batch_size_bytes() {
        let mut sticky = StickyPartitioner::new();
        let mut rng = rng();
        let all: Vec<u32> = (0..50).collect();
        let first = sticky.partition("t", 1000, &all, 50, &mut rng);
        // 16 records of 1000 bytes = 16000 < 16384: all on the first pick.
        for _ in 1..16 {
            assert_eq!(sticky.partition("t", 1000, &all, 50, &mut rng), first);
        }
        // The 17th reaches 17000 >= 16384: it still goes there, then we switch.
        assert_eq!(sticky.partition("t", 1000, &all, 50, &mut rng), first);
        assert_eq!(sticky.current("t").unwrap().produced_bytes, 0);
    }

    /// Kafka's `testUniformBuiltInPartitioner`, batch.size 1024: a large
    /// record past the limit while its batch is still open does not switch;
    /// the next one, closing that batch, does.
    #[test]
    fn sticky_waits_for_the_batch_while_it_is_open_but_not_past_twice_batch_size() {
        let mut sticky = StickyPartitioner::with_batch_size(1024);
        let mut rng = rng();
        let all: Vec<u32> = (0..50).collect();
        let first = sticky.peek("t", &all, 50, &mut rng);
        sticky.update("t", 100, false, &all, 50, &mut rng);
        sticky.update("t", 1000, false, &all, 50, &mut rng);
        assert_eq!(
            sticky.current("t").unwrap().partition,
            first,
            "batch still open"
        );
        // Queue emptied (the batch was sent): the switch waits no longer.
        sticky.update("t", 0, true, &all, 50, &mut rng);
        assert_eq!(sticky.current("t").unwrap().produced_bytes, 0, "moved on");
        // Never past 2 × batch.size, even with the switch disabled.
        let second = sticky.peek("t", &all, 50, &mut rng);
        sticky.update("t", 2047, false, &all, 50, &mut rng);
        assert_eq!(sticky.current("t").unwrap().partition, second);
        sticky.update("t", 1, false, &all, 50, &mut rng);
        assert_eq!(sticky.current("t").unwrap().produced_bytes, 0);
    }

    #[test]
    fn sticky_picks_only_partitions_with_a_leader() {
        let mut sticky = StickyPartitioner::with_batch_size(1);
        let mut rng = rng();
        for _ in 0..200 {
            let p = sticky.partition("t", 10, &[1, 4], 6, &mut rng);
            assert!(p == 1 || p == 4, "picked leaderless partition {p}");
        }
    }

    #[test]
    fn sticky_picks_among_all_when_none_has_a_leader() {
        let mut sticky = StickyPartitioner::with_batch_size(1);
        let mut rng = rng();
        let mut seen = [false; 3];
        for _ in 0..200 {
            seen[sticky.partition("t", 10, &[], 3, &mut rng) as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
    }

    #[test]
    fn sticky_spreads_uniformly_over_many_switches() {
        let mut sticky = StickyPartitioner::with_batch_size(1);
        let mut rng = rng();
        let mut counts = [0u32; 4];
        for _ in 0..4000 {
            counts[sticky.partition("t", 1, &[0, 1, 2, 3], 4, &mut rng) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn sticky_keeps_topics_apart_and_is_deterministic() {
        let run = || {
            let mut sticky = StickyPartitioner::with_batch_size(500);
            let mut rng = rng();
            (0..40)
                .map(|i| {
                    let topic = if i % 2 == 0 { "a" } else { "b" };
                    sticky.partition(topic, 100, &[0, 1, 2, 3, 4], 5, &mut rng)
                })
                .collect::<Vec<u32>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn round_robin_cycles_all_partitions() {
        let mut rr = RoundRobinState::new();
        let got: Vec<u32> = (0..7).map(|_| rr.partition("t", &[0, 1, 2], 3)).collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(rr.counter("t"), 7);
        assert_eq!(rr.counter("other"), 0);
    }

    #[test]
    fn round_robin_skips_leaderless_partitions() {
        let mut rr = RoundRobinState::new();
        let got: Vec<u32> = (0..4).map(|_| rr.partition("t", &[0, 2], 3)).collect();
        assert_eq!(got, vec![0, 2, 0, 2]);
    }

    #[test]
    fn round_robin_uses_all_partitions_when_none_available() {
        let mut rr = RoundRobinState::new();
        let got: Vec<u32> = (0..4).map(|_| rr.partition("t", &[], 3)).collect();
        assert_eq!(got, vec![0, 1, 2, 0]);
    }

    #[test]
    fn round_robin_counter_wraps_like_a_java_int() {
        let mut rr = RoundRobinState::new();
        rr.counters.insert("t".into(), i32::MAX);
        // toPositive(MAX) = MAX; MAX % 3 = 1; then MIN -> toPositive 0.
        assert_eq!(rr.partition("t", &[], 3), 1);
        assert_eq!(rr.partition("t", &[], 3), 0);
        assert_eq!(rr.partition("t", &[], 3), 1);
    }
}
