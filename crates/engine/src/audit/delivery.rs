//! Delivery bookkeeping for teaching: per group, how often each offset was
//! processed (to tell at-least-once duplicates from at-most-once gaps),
//! where the group started reading each partition, and what disturbed it.
//! Kafka keeps none of this and no simulated node reads it to decide
//! anything; the view shows it.

use crate::clients::consumer::GroupTally;
use crate::ids::TopicPartition;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Per group and partition: how often the group processed each offset.
    pub(crate) processed_by_group: BTreeMap<String, BTreeMap<TopicPartition, GroupTally>>,
    /// Per group: how many crashes, rebalances, seeks and failed commits so
    /// far, and the last one's description.
    pub(crate) group_disruptions: BTreeMap<String, (u32, String)>,
    /// Where each group first started reading each partition (after a reset).
    pub(crate) consumption_start: BTreeMap<String, BTreeMap<TopicPartition, u64>>,
}

impl Delivery {
    /// Something that can make a group process records again: a crash, a
    /// rebalance, a seek, a failed commit, a coordinator move.
    pub(crate) fn note_disruption(&mut self, group: &str, reason: String) {
        let entry = self
            .group_disruptions
            .entry(group.to_string())
            .or_insert((0, String::new()));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = reason;
    }
}
