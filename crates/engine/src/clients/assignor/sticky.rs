//! Kafka's `StickyAssignor` and `CooperativeStickyAssignor`
//! (`AbstractStickyAssignor`): keep what members own, balance the rest.

use super::*;
use crate::ids::TopicPartition;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// Result of `AbstractStickyAssignor.assign`.
pub(super) struct StickyOutcome {
    pub(super) assignment: Vec<Vec<TopicPartition>>,
    /// `partitionsTransferringOwnership` (partition -> new owner), computed by the constrained
    /// algorithm; `None` after the general algorithm (Kafka sets it to `null`).
    pub(super) transferring: Option<HashMap<TopicPartition, usize>>,
}

/// Output of `allSubscriptionsEqual`.
pub(super) struct OwnedPartitions {
    pub(super) all_subscriptions_equal: bool,
    /// `consumerToOwnedPartitions`: each member's valid previously owned partitions.
    pub(super) owned: Vec<Vec<TopicPartition>>,
    /// `partitionsWithMultiplePreviousOwners`.
    pub(super) multiply_claimed: HashSet<TopicPartition>,
    pub(super) max_generation: i32,
}

/// `AbstractStickyAssignor.assign`: the constrained algorithm when all members subscribe to the
/// same topics, the general one otherwise.
pub(super) fn sticky_assign(group: &Group) -> StickyOutcome {
    let order = group.hash_map_order();
    let owned = collect_owned_partitions(group, &order);
    if owned.all_subscriptions_equal {
        let (assignment, transferring) = constrained_assign(group, &order, owned);
        StickyOutcome {
            assignment,
            transferring: Some(transferring),
        }
    } else {
        StickyOutcome {
            assignment: GeneralAssignment::build(group, &order, owned),
            transferring: None,
        }
    }
}

/// `CooperativeStickyAssignor.assign`: the sticky assignment minus the partitions transferring
/// ownership (`adjustAssignment`), plus those partitions with their intended new owner.
pub(super) fn cooperative_assign(
    group: &Group,
) -> (Vec<Vec<TopicPartition>>, HashMap<TopicPartition, usize>) {
    let StickyOutcome {
        mut assignment,
        transferring,
    } = sticky_assign(group);
    let transferring = transferring.unwrap_or_else(|| compute_transferring(group, &assignment));
    for (tp, &consumer) in &transferring {
        remove_first(&mut assignment[consumer], tp);
    }
    (assignment, transferring)
}

/// `CooperativeStickyAssignor.computePartitionsTransferringOwnership` on member indexes.
pub(super) fn compute_transferring(
    group: &Group,
    assignment: &[Vec<TopicPartition>],
) -> HashMap<TopicPartition, usize> {
    let mut added = HashMap::new();
    let mut revoked = HashSet::new();
    for (consumer, (member, assigned)) in group.members.iter().zip(assignment).enumerate() {
        let owned: HashSet<&TopicPartition> = member.owned.iter().collect();
        for tp in assigned.iter().filter(|tp| !owned.contains(tp)) {
            added.insert(tp.clone(), consumer);
        }
        let assigned: HashSet<&TopicPartition> = assigned.iter().collect();
        revoked.extend(member.owned.iter().filter(|tp| !assigned.contains(tp)));
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}

/// `AbstractStickyAssignor.allSubscriptionsEqual` (3.5+ rules): keeps each member's claimed
/// partitions of assignable topics; when two members claim a partition, the higher generation
/// keeps it, and on a tie neither does (the partition is "claimed by multiple owners").
///
/// DEVIATION: Kafka only compares subscriptions after the first non-empty one, so members with
/// an empty subscription seen first would make the group look uniform and could be handed
/// partitions of topics they did not subscribe to. Here subscriptions are compared as sets.
pub(super) fn collect_owned_partitions(group: &Group, order: &[usize]) -> OwnedPartitions {
    let mut all_subscriptions_equal = true;
    let mut reference_topics: Option<BTreeSet<&str>> = None;
    let mut owned = vec![Vec::new(); group.members.len()];
    let mut multiply_claimed = HashSet::new();
    let mut max_generation = DEFAULT_GENERATION;
    let mut previous_owner: HashMap<&TopicPartition, usize> = HashMap::new();

    for &consumer in order {
        let member = &group.members[consumer];
        let topics: BTreeSet<&str> = member.topics.iter().copied().collect();
        match &reference_topics {
            None => reference_topics = Some(topics),
            Some(reference) => all_subscriptions_equal &= *reference == topics,
        }

        let generation = member.generation_or_default();
        max_generation = max_generation.max(generation);
        for tp in member.owned {
            if !group.topics.contains_key(&*tp.topic) {
                continue; // topic deleted or no longer subscribed by anyone
            }
            let Some(other) = previous_owner.get(tp).copied() else {
                owned[consumer].push(tp.clone());
                previous_owner.insert(tp, consumer);
                continue;
            };
            match generation.cmp(&group.members[other].generation_or_default()) {
                Ordering::Equal => {
                    // claimed twice in the same generation: invalidate it for both
                    multiply_claimed.insert(tp.clone());
                    remove_first(&mut owned[other], tp);
                    previous_owner.insert(tp, consumer);
                }
                Ordering::Greater => {
                    owned[consumer].push(tp.clone());
                    remove_first(&mut owned[other], tp);
                    previous_owner.insert(tp, consumer);
                }
                Ordering::Less => {} // the other member keeps it
            }
        }
    }
    OwnedPartitions {
        all_subscriptions_equal,
        owned,
        multiply_claimed,
        max_generation,
    }
}

/// `AbstractStickyAssignor.ConstrainedAssignmentBuilder` (all members subscribe to the same
/// topics), rack-unaware:
///
/// 1. `minQuota = ⌊P/N⌋`, `maxQuota = ⌈P/N⌉`, and `P % N` members may get `maxQuota`.
/// 2. In `HashMap` order, each member keeps its owned partitions (sorted by partition, then
///    topic): all of them if fewer than `minQuota` (it is then "unfilled"); `maxQuota` of them
///    if it owns at least that many and `maxQuota` slots remain; `minQuota` otherwise (then it
///    may still receive one more while `maxQuota` slots remain). The rest are revoked.
/// 3. The unassigned partitions (sorted by topic, partition) are dealt round-robin to the
///    unfilled members sorted by member id until they reach `minQuota`, then one each to the
///    members at `minQuota` (sorted by member id) until the `maxQuota` slots are used.
///
/// Returns the assignment and `partitionsTransferringOwnership`: newly assigned partitions that
/// were revoked from, or claimed by several, previous owners.
pub(super) fn constrained_assign(
    group: &Group,
    order: &[usize],
    owned: OwnedPartitions,
) -> (Vec<Vec<TopicPartition>>, HashMap<TopicPartition, usize>) {
    let OwnedPartitions {
        owned: mut consumer_to_owned,
        multiply_claimed,
        ..
    } = owned;
    let n = group.members.len();
    let mut assignment: Vec<Vec<TopicPartition>> = vec![Vec::new(); n];
    let mut transferring = HashMap::new();
    if n == 0 {
        return (assignment, transferring);
    }
    let total = group.total_partitions();
    let min_quota = total / n;
    let max_quota = total.div_ceil(n);
    let expected_over_min = total % n;
    let mut current_over_min = 0;

    let mut revoked: HashSet<TopicPartition> = HashSet::new();
    let mut assigned: HashSet<TopicPartition> = HashSet::new();
    let mut under_min: Vec<usize> = Vec::new();
    let mut exactly_min: VecDeque<usize> = VecDeque::new();

    // assignOwnedPartitions
    for &consumer in order {
        let mut owned = std::mem::take(&mut consumer_to_owned[consumer]);
        owned.sort_by(|a, b| {
            a.partition
                .cmp(&b.partition)
                .then_with(|| java_cmp(&a.topic, &b.topic))
        });
        for tp in &multiply_claimed {
            remove_first(&mut owned, tp);
        }
        let keep = if owned.len() < min_quota {
            under_min.push(consumer);
            owned.len()
        } else if owned.len() >= max_quota && current_over_min < expected_over_min {
            current_over_min += 1;
            if current_over_min == expected_over_min {
                exactly_min.clear();
            }
            max_quota
        } else {
            if current_over_min < expected_over_min {
                exactly_min.push_back(consumer);
            }
            min_quota
        };
        revoked.extend(owned.drain(keep..));
        assigned.extend(owned.iter().cloned());
        assignment[consumer] = owned;
    }

    let unassigned: Vec<TopicPartition> = group
        .sorted_topics()
        .into_iter()
        .flat_map(|(topic, count)| topic_partitions(topic, count))
        .filter(|tp| !assigned.contains(tp))
        .collect();

    let by_id = |a: &usize, b: &usize| java_cmp(group.members[*a].id, group.members[*b].id);
    under_min.sort_by(by_id);
    exactly_min.make_contiguous().sort_by(by_id);

    // assignRoundRobin: `cursor` is the position of the Java iterator over `under_min`.
    let mut cursor = 0;
    for tp in unassigned {
        let consumer = if cursor < under_min.len() {
            cursor += 1;
            under_min[cursor - 1]
        } else if let Some(&consumer) = under_min.first() {
            cursor = 1;
            consumer
        } else if let Some(consumer) = exactly_min.pop_front() {
            consumer
        } else {
            // DEVIATION: Kafka throws IllegalStateException ("No more unfilled consumers");
            // the quota arithmetic makes this unreachable. Fall back to the least-loaded member.
            match (0..n).min_by_key(|&m| (assignment[m].len(), m)) {
                Some(consumer) => consumer,
                None => break,
            }
        };
        if revoked.contains(&tp) || multiply_claimed.contains(&tp) {
            transferring.insert(tp.clone(), consumer);
        }
        assignment[consumer].push(tp);
        // (Kafka also counts members reaching maxQuota here, but only to log an error.)
        let count = assignment[consumer].len();
        if count == min_quota && cursor > 0 && under_min.get(cursor - 1) == Some(&consumer) {
            // unfilledConsumerIter.remove()
            cursor -= 1;
            under_min.remove(cursor);
            exactly_min.push_back(consumer);
        }
    }
    (assignment, transferring)
}

/// Moved partitions of one topic by (source, destination) member.
pub(super) type MovesByPair = HashMap<(usize, usize), JavaHashTable<TopicPartition>>;
