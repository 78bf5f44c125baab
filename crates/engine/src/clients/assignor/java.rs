//! Java's orderings and `HashMap` iteration order, emulated so that the
//! assignors choose exactly as Kafka's do.

use super::*;
use crate::ids::TopicPartition;
use std::cmp::Ordering;

/// Java's `String.compareTo`: lexicographic by UTF-16 code unit.
pub(super) fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Kafka's `AbstractPartitionAssignor.MemberInfo.compareTo`: static members (with a
/// `group.instance.id`) first, ordered by instance id, then dynamic members by member id.
/// (DEVIATION, unreachable in a real group: two members with the same instance id tie in Java
/// and keep their map order; here the member id breaks the tie.)
pub(super) fn member_info_cmp(a: &Member, b: &Member) -> Ordering {
    match (a.instance_id, b.instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y).then_with(|| java_cmp(a.id, b.id)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(a.id, b.id),
    }
}

/// Removes the first occurrence of `item` (Java's `List.remove(Object)`).
pub(super) fn remove_first(list: &mut Vec<TopicPartition>, item: &TopicPartition) -> bool {
    match list.iter().position(|x| x == item) {
        Some(index) => {
            list.remove(index);
            true
        }
        None => false,
    }
}

/// Java's `String.hashCode`.
pub(super) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Kafka's `TopicPartition.hashCode`.
pub(super) fn java_tp_hash(tp: &TopicPartition) -> i32 {
    let result = 31i32.wrapping_add(tp.partition as i32);
    result
        .wrapping_mul(31)
        .wrapping_add(java_string_hash(&tp.topic))
}

/// The iteration order of a `java.util.HashMap`/`HashSet` created with the default capacity
/// and modified only through `put`/`add`/`remove`: entries are visited bucket by bucket
/// (`(h ^ h >>> 16) & (capacity - 1)`), and within a bucket in insertion order (resizes split
/// buckets without reordering). The table doubles when it exceeds 3/4 load and when a bucket
/// reaches the treeify threshold while the table is smaller than 64. Java's ordering of
/// treeified buckets (9+ colliding keys in a table of 64+) is not modelled.
pub(super) struct JavaHashTable<K> {
    /// (key, spread hash, insertion sequence number)
    entries: Vec<(K, u32, u64)>,
    capacity: usize,
    next_seq: u64,
}

impl<K: PartialEq> JavaHashTable<K> {
    const TREEIFY_THRESHOLD: usize = 8;
    const MIN_TREEIFY_CAPACITY: usize = 64;

    pub(super) fn new() -> Self {
        JavaHashTable {
            entries: Vec::new(),
            capacity: 16,
            next_seq: 0,
        }
    }

    pub(super) fn bucket(&self, spread: u32) -> usize {
        spread as usize & (self.capacity - 1)
    }

    /// `HashMap.put` of a new key (no-op if present).
    pub(super) fn insert(&mut self, key: K, hash: i32) {
        if self.entries.iter().any(|(k, _, _)| *k == key) {
            return;
        }
        let spread = (hash as u32) ^ ((hash as u32) >> 16);
        let bucket = self.bucket(spread);
        let already_in_bucket = self
            .entries
            .iter()
            .filter(|(_, s, _)| self.bucket(*s) == bucket)
            .count();
        self.entries.push((key, spread, self.next_seq));
        self.next_seq += 1;
        if already_in_bucket >= Self::TREEIFY_THRESHOLD
            && self.capacity < Self::MIN_TREEIFY_CAPACITY
        {
            self.capacity *= 2; // treeifyBin resizes small tables instead
        }
        if self.entries.len() > self.capacity / 4 * 3 {
            self.capacity *= 2;
        }
    }

    pub(super) fn remove(&mut self, key: &K) {
        self.entries.retain(|(k, _, _)| k != key);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn iteration_order(&self) -> Vec<&K> {
        let mut entries: Vec<&(K, u32, u64)> = self.entries.iter().collect();
        entries.sort_by_key(|(_, spread, seq)| (self.bucket(*spread), *seq));
        entries.into_iter().map(|(k, _, _)| k).collect()
    }

    /// `iterator().next()`.
    pub(super) fn first(&self) -> Option<&K> {
        self.entries
            .iter()
            .min_by_key(|(_, spread, seq)| (self.bucket(*spread), *seq))
            .map(|(k, _, _)| k)
    }
}
