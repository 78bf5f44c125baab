//! Kafka's `RangeAssignor`: per topic, consecutive partitions to members in
//! order.

use super::*;
use crate::ids::TopicPartition;

/// `RangeAssignor` (rack-unaware): per topic, the subscribed members in `MemberInfo` order get
/// consecutive ranges of `n / m` partitions, the first `n % m` of them one extra.
pub(super) fn range_assign(group: &Group) -> Vec<Vec<TopicPartition>> {
    let mut assignment = vec![Vec::new(); group.members.len()];
    for (&topic, &num_partitions) in &group.topics {
        let mut consumers: Vec<usize> = (0..group.members.len())
            .filter(|&m| group.members[m].subscribes(topic))
            .collect();
        if consumers.is_empty() {
            continue;
        }
        consumers.sort_by(|&a, &b| member_info_cmp(&group.members[a], &group.members[b]));
        let num_consumers = consumers.len() as u32;
        let per_consumer = num_partitions / num_consumers;
        let with_extra = num_partitions % num_consumers;
        let mut partitions = topic_partitions(topic, num_partitions);
        for (i, &consumer) in (0u32..).zip(&consumers) {
            let length = per_consumer + u32::from(i < with_extra);
            assignment[consumer].extend(partitions.by_ref().take(length as usize));
        }
    }
    assignment
}
