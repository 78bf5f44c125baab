//! Kafka's `RoundRobinAssignor`: all partitions dealt out to the members in
//! turn.

use super::*;
use crate::ids::TopicPartition;

/// `RoundRobinAssignor`: all partitions of all subscribed topics sorted by topic then partition,
/// dealt to members in `MemberInfo` order through a circular iterator that skips members not
/// subscribed to the partition's topic.
pub(super) fn round_robin_assign(group: &Group) -> Vec<Vec<TopicPartition>> {
    let n = group.members.len();
    let mut assignment = vec![Vec::new(); n];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| member_info_cmp(&group.members[a], &group.members[b]));
    let mut cursor = 0;
    for (topic, count) in group.sorted_topics() {
        for tp in topic_partitions(topic, count) {
            // Every assignable topic has a subscriber, so this always finds one.
            let Some(skip) =
                (0..n).find(|k| group.members[order[(cursor + k) % n]].subscribes(topic))
            else {
                break;
            };
            let consumer = order[(cursor + skip) % n];
            assignment[consumer].push(tp);
            cursor = (cursor + skip + 1) % n;
        }
    }
    assignment
}
