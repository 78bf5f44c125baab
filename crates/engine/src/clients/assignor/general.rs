//! The sticky assignors' general case (`GeneralAssignmentBuilder`), for
//! members with different subscriptions.

use super::*;
use crate::ids::TopicPartition;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// `PartitionMovements`: the moves made by the general algorithm, used to prefer undoing an
/// earlier move over creating a new one (`getTheActualPartitionToBeMoved`).
#[derive(Default)]
pub(super) struct PartitionMovements {
    /// topic -> (source, destination) -> partitions (a Java `HashSet`, whose order matters)
    pub(super) by_topic: HashMap<Arc<str>, MovesByPair>,
    /// partition -> (original source, current destination)
    pub(super) movements: HashMap<TopicPartition, (usize, usize)>,
}

impl PartitionMovements {
    pub(super) fn remove_record(&mut self, tp: &TopicPartition) -> Option<(usize, usize)> {
        let pair = self.movements.remove(tp)?;
        if let Some(topic_moves) = self.by_topic.get_mut(&tp.topic) {
            if let Some(partitions) = topic_moves.get_mut(&pair) {
                partitions.remove(tp);
                if partitions.is_empty() {
                    topic_moves.remove(&pair);
                }
            }
            if topic_moves.is_empty() {
                self.by_topic.remove(&tp.topic);
            }
        }
        Some(pair)
    }

    pub(super) fn add_record(&mut self, tp: &TopicPartition, pair: (usize, usize)) {
        self.movements.insert(tp.clone(), pair);
        self.by_topic
            .entry(Arc::clone(&tp.topic))
            .or_default()
            .entry(pair)
            .or_insert_with(JavaHashTable::new)
            .insert(tp.clone(), java_tp_hash(tp));
    }

    pub(super) fn move_partition(&mut self, tp: &TopicPartition, old: usize, new: usize) {
        match self.remove_record(tp) {
            // it moved before: record one move from its original owner (none if it returns home)
            Some((source, _)) if source != new => self.add_record(tp, (source, new)),
            Some(_) => {}
            None => self.add_record(tp, (old, new)),
        }
    }

    pub(super) fn actual_partition_to_move(
        &self,
        tp: &TopicPartition,
        old: usize,
        new: usize,
    ) -> TopicPartition {
        let Some(topic_moves) = self.by_topic.get(&tp.topic) else {
            return tp.clone();
        };
        let old = self.movements.get(tp).map_or(old, |&(source, _)| source);
        topic_moves
            .get(&(new, old))
            .and_then(JavaHashTable::first)
            .cloned()
            .unwrap_or_else(|| tp.clone())
    }
}

/// `AbstractStickyAssignor.GeneralAssignmentBuilder` (members with different subscriptions),
/// rack-unaware:
///
/// 1. Keep every valid owned partition whose topic the owner still subscribes to.
/// 2. Assign each unassigned partition (topics with the fewest potential consumers first) to
///    the subscribed member with the fewest partitions (ties: member id).
/// 3. Leave out topics with a single potential consumer and members that cannot change.
/// 4. Until Kafka's `isBalanced` holds, move partitions from a member that has 2+ more than
///    another subscriber of the topic, preferring to give a partition back to its owner from an
///    older generation, and undoing earlier moves where possible; first only the newly
///    assigned partitions (unless a subscription change forced a revocation), then all.
/// 5. Keep the result only if it improved the balance score (unless nothing was owned).
pub(super) struct GeneralAssignment<'g, 'a> {
    pub(super) group: &'g Group<'a>,
    /// `consumer2AllPotentialTopics`: subscribed topics that exist.
    pub(super) potential_topics: Vec<Vec<&'a str>>,
    /// `topic2AllPotentialConsumers`.
    pub(super) potential_consumers: HashMap<&'a str, Vec<usize>>,
    /// `currentAssignment`.
    pub(super) current: Vec<Vec<TopicPartition>>,
    /// `currentPartitionConsumer`.
    pub(super) owner: HashMap<TopicPartition, usize>,
    /// `sortedCurrentSubscriptions`: (assigned count, rank of the member id).
    pub(super) sorted: BTreeSet<(usize, usize)>,
    /// Rank of each member's id in Java `String` order, and its inverse.
    pub(super) rank: Vec<usize>,
    pub(super) by_rank: Vec<usize>,
    /// Members taking part in reassignment (false for Kafka's `fixedAssignments`).
    pub(super) active: Vec<bool>,
    /// `prevAssignment`: partition -> (owner in an older generation, that generation).
    pub(super) previous: HashMap<TopicPartition, (usize, i32)>,
    pub(super) movements: PartitionMovements,
    pub(super) revocation_required: bool,
}

impl<'g, 'a> GeneralAssignment<'g, 'a> {
    pub(super) fn build(
        group: &'g Group<'a>,
        order: &[usize],
        owned: OwnedPartitions,
    ) -> Vec<Vec<TopicPartition>> {
        let n = group.members.len();
        let mut potential_consumers: HashMap<&'a str, Vec<usize>> = group
            .topics
            .keys()
            .map(|&topic| (topic, Vec::new()))
            .collect();
        let mut potential_topics = vec![Vec::new(); n];
        for &consumer in order {
            for &topic in &group.members[consumer].topics {
                if let Some(consumers) = potential_consumers.get_mut(topic) {
                    potential_topics[consumer].push(topic);
                    consumers.push(consumer);
                }
            }
        }
        let mut by_rank: Vec<usize> = (0..n).collect();
        by_rank.sort_by(|&a, &b| java_cmp(group.members[a].id, group.members[b].id));
        let mut rank = vec![0; n];
        for (r, &m) in by_rank.iter().enumerate() {
            rank[m] = r;
        }

        let mut builder = GeneralAssignment {
            group,
            potential_topics,
            potential_consumers,
            current: owned.owned,
            owner: HashMap::new(),
            sorted: BTreeSet::new(),
            rank,
            by_rank,
            active: vec![true; n],
            previous: HashMap::new(),
            movements: PartitionMovements::default(),
            revocation_required: false,
        };
        builder.prepopulate_previous(order, owned.max_generation);

        // sortedAllTopics / sortedAllPartitions: fewest potential consumers first, then name
        let mut sorted_topics = group.sorted_topics();
        sorted_topics.sort_by_key(|(topic, _)| builder.consumers_of(topic).len());
        let mut sorted_all: Vec<TopicPartition> = sorted_topics
            .into_iter()
            .flat_map(|(topic, count)| topic_partitions(topic, count))
            .collect();

        // assignOwnedPartitions
        let mut assigned = HashSet::new();
        for consumer in 0..n {
            let member = &group.members[consumer];
            let mut kept = std::mem::take(&mut builder.current[consumer]);
            kept.retain(|tp| {
                if member.subscribes(&tp.topic) {
                    true
                } else {
                    builder.revocation_required = true;
                    false
                }
            });
            for tp in &kept {
                builder.owner.insert(tp.clone(), consumer);
                assigned.insert(tp.clone());
            }
            builder.current[consumer] = kept;
        }
        let mut unassigned: Vec<TopicPartition> = sorted_all
            .iter()
            .filter(|tp| !assigned.contains(*tp))
            .cloned()
            .collect();

        for consumer in 0..n {
            builder.sorted.insert(builder.key(consumer));
        }
        builder.balance(&mut sorted_all, &mut unassigned);
        builder.current
    }

    /// `prepopulateCurrentAssignments`: claims from older generations, newest first.
    pub(super) fn prepopulate_previous(&mut self, order: &[usize], max_generation: i32) {
        for &consumer in order {
            let member = &self.group.members[consumer];
            let generation = match member.generation {
                Some(generation) if generation < max_generation => generation,
                None if max_generation > DEFAULT_GENERATION => DEFAULT_GENERATION,
                _ => continue,
            };
            for tp in member.owned {
                match self.previous.get(tp) {
                    Some(&(_, known)) if known >= generation => {}
                    _ => {
                        self.previous.insert(tp.clone(), (consumer, generation));
                    }
                }
            }
        }
    }

    pub(super) fn consumers_of(&self, topic: &str) -> &[usize] {
        self.potential_consumers
            .get(topic)
            .map_or(&[], Vec::as_slice)
    }

    pub(super) fn subscribes(&self, consumer: usize, topic: &str) -> bool {
        self.potential_topics[consumer].contains(&topic)
    }

    pub(super) fn key(&self, consumer: usize) -> (usize, usize) {
        (self.current[consumer].len(), self.rank[consumer])
    }

    pub(super) fn size(&self, consumer: usize) -> usize {
        self.current[consumer].len()
    }

    /// Members in `sortedCurrentSubscriptions` order.
    pub(super) fn sorted_members(&self) -> impl Iterator<Item = usize> + '_ {
        self.sorted.iter().map(|&(_, r)| self.by_rank[r])
    }

    pub(super) fn max_assignment_size(&self, consumer: usize) -> usize {
        self.potential_topics[consumer]
            .iter()
            .map(|topic| self.group.partition_count(topic) as usize)
            .sum()
    }

    /// Kafka's `isBalanced`: sizes differ by at most one, or no member could take a partition
    /// of a topic it subscribes to from a member with at least two more partitions.
    pub(super) fn is_balanced(&self) -> bool {
        let (Some(&(min, _)), Some(&(max, _))) = (self.sorted.first(), self.sorted.last()) else {
            return true;
        };
        if min + 1 >= max {
            return true;
        }
        let mut all_partitions: HashMap<&TopicPartition, usize> = HashMap::new();
        for consumer in self.sorted_members() {
            for tp in &self.current[consumer] {
                all_partitions.insert(tp, consumer);
            }
        }
        for consumer in self.sorted_members() {
            let count = self.size(consumer);
            if count == self.max_assignment_size(consumer) {
                continue;
            }
            for &topic in &self.potential_topics[consumer] {
                for tp in topic_partitions(topic, self.group.partition_count(topic)) {
                    if self.current[consumer].contains(&tp) {
                        continue;
                    }
                    if let Some(&other) = all_partitions.get(&tp) {
                        if count + 1 < self.size(other) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    pub(super) fn can_consumer_participate(&self, consumer: usize) -> bool {
        self.size(consumer) < self.max_assignment_size(consumer)
            || self.current[consumer]
                .iter()
                .any(|tp| self.consumers_of(&tp.topic).len() >= 2)
    }

    /// `maybeAssignPartition`: to the least loaded subscribed member.
    pub(super) fn assign_to_least_loaded(&mut self, tp: &TopicPartition) {
        let Some(consumer) = self
            .sorted_members()
            .find(|&c| self.subscribes(c, &tp.topic))
        else {
            return;
        };
        self.sorted.remove(&self.key(consumer));
        self.current[consumer].push(tp.clone());
        self.owner.insert(tp.clone(), consumer);
        self.sorted.insert(self.key(consumer));
    }

    pub(super) fn balance(
        &mut self,
        sorted_all: &mut Vec<TopicPartition>,
        unassigned: &mut Vec<TopicPartition>,
    ) {
        let initializing = self.sorted.last().is_none_or(|&(count, _)| count == 0);

        for tp in unassigned.iter() {
            if !self.consumers_of(&tp.topic).is_empty() {
                self.assign_to_least_loaded(tp);
            }
        }

        // partitions of topics with a single potential consumer cannot move
        let movable =
            |builder: &Self, tp: &TopicPartition| builder.consumers_of(&tp.topic).len() >= 2;
        sorted_all.retain(|tp| movable(self, tp));
        unassigned.retain(|tp| movable(self, tp));

        // members that cannot gain or lose anything are set aside (fixedAssignments)
        for consumer in 0..self.group.members.len() {
            if !self.can_consumer_participate(consumer) {
                self.sorted.remove(&self.key(consumer));
                self.active[consumer] = false;
            }
        }

        let pre_balance = self.current.clone();
        let pre_balance_owner = self.owner.clone();

        if !self.revocation_required {
            self.perform_reassignments(unassigned);
        }
        let reassigned = self.perform_reassignments(sorted_all);

        if !initializing
            && reassigned
            && self.balance_score(&self.current) >= self.balance_score(&pre_balance)
        {
            self.current = pre_balance;
            self.owner = pre_balance_owner;
        }
    }

    /// `getBalanceScore` over the members taking part: sum of pairwise size differences.
    pub(super) fn balance_score(&self, assignment: &[Vec<TopicPartition>]) -> usize {
        let sizes: Vec<usize> = (0..assignment.len())
            .filter(|&c| self.active[c])
            .map(|c| assignment[c].len())
            .collect();
        let mut score = 0;
        for (i, a) in sizes.iter().enumerate() {
            for b in &sizes[i + 1..] {
                score += a.abs_diff(*b);
            }
        }
        score
    }

    pub(super) fn perform_reassignments(&mut self, partitions: &[TopicPartition]) -> bool {
        let mut reassigned = false;
        // DEVIATION: Kafka loops until a pass changes nothing; bound the passes defensively.
        let max_passes = 1 + partitions.len() * self.group.members.len().max(1);
        for _ in 0..max_passes {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let Some(&consumer) = self.owner.get(tp) else {
                    continue;
                };
                // give it back to its owner from an older generation if that helps
                // (DEVIATION: Kafka does not check that this member is still a subscriber
                // taking part in the reassignment; it would hand out an invalid assignment
                // or throw. Such a previous owner is skipped here.)
                if let Some(&(previous, _)) = self.previous.get(tp) {
                    if self.active[previous]
                        && self.subscribes(previous, &tp.topic)
                        && self.size(consumer) > self.size(previous) + 1
                    {
                        self.reassign(tp, previous);
                        reassigned = true;
                        modified = true;
                        continue;
                    }
                }
                let better_exists = self
                    .consumers_of(&tp.topic)
                    .iter()
                    .any(|&other| self.size(consumer) > self.size(other) + 1);
                if better_exists {
                    let new = self
                        .sorted_members()
                        .find(|&c| self.subscribes(c, &tp.topic));
                    if let Some(new) = new {
                        self.reassign(tp, new);
                        reassigned = true;
                        modified = true;
                    }
                }
            }
            if !modified {
                break;
            }
        }
        reassigned
    }

    pub(super) fn reassign(&mut self, tp: &TopicPartition, new: usize) {
        let Some(&old) = self.owner.get(tp) else {
            return;
        };
        let to_move = self.movements.actual_partition_to_move(tp, old, new);
        self.process_move(&to_move, new);
    }

    pub(super) fn process_move(&mut self, tp: &TopicPartition, new: usize) {
        let Some(&old) = self.owner.get(tp) else {
            return;
        };
        if old == new {
            return;
        }
        self.sorted.remove(&self.key(old));
        self.sorted.remove(&self.key(new));
        self.movements.move_partition(tp, old, new);
        remove_first(&mut self.current[old], tp);
        self.current[new].push(tp.clone());
        self.owner.insert(tp.clone(), new);
        for consumer in [new, old] {
            if self.active[consumer] {
                self.sorted.insert(self.key(consumer));
            }
        }
    }
}
