//! Kafka's classic consumer-group partition assignors (`partition.assignment.strategy`), ported
//! from Apache Kafka 3.x (`clients/src/main/java/org/apache/kafka/clients/consumer/*Assignor.java`
//! and `internals/AbstractStickyAssignor.java`, rack-unaware code paths, 3.6+ behaviour).
//!
//! The port follows the Java code step by step, including the places where Kafka's result depends
//! on the iteration order of a `java.util.HashMap`/`HashSet` (which member keeps `maxQuota`
//! partitions in the sticky assignors, how ownership conflicts resolve, which partition a
//! "reverse move" picks). Those orders are reproduced by [`JavaHashTable`], assuming the group
//! leader built its `Map<String, Subscription>` by `put`ting members in JoinGroup order, which is
//! the order of the `members` slice.
//!
//! Deliberate deviations from Kafka (each one only where Kafka would throw, hang or hand out an
//! invalid assignment) are marked `DEVIATION` in the code.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::TopicPartition;

/// Kafka's `AbstractStickyAssignor.DEFAULT_GENERATION`: the generation of a member that reports none.
const DEFAULT_GENERATION: i32 = -1;

/// A consumer partition assignment strategy (`partition.assignment.strategy`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum AssignorKind {
    /// `org.apache.kafka.clients.consumer.RangeAssignor` (Kafka's default before 3.0 and still
    /// the first entry of the default list).
    #[default]
    #[serde(rename = "range")]
    Range,
    /// `org.apache.kafka.clients.consumer.RoundRobinAssignor`.
    #[serde(rename = "roundrobin")]
    RoundRobin,
    /// `org.apache.kafka.clients.consumer.StickyAssignor` (eager protocol).
    #[serde(rename = "sticky")]
    Sticky,
    /// `org.apache.kafka.clients.consumer.CooperativeStickyAssignor` (cooperative protocol).
    #[serde(rename = "cooperative-sticky")]
    CooperativeSticky,
}

impl AssignorKind {
    /// All assignors, in declaration order.
    pub const ALL: [AssignorKind; 4] = [
        AssignorKind::Range,
        AssignorKind::RoundRobin,
        AssignorKind::Sticky,
        AssignorKind::CooperativeSticky,
    ];

    /// The protocol name Kafka's `ConsumerPartitionAssignor.name()` returns (`"range"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            AssignorKind::Range => "range",
            AssignorKind::RoundRobin => "roundrobin",
            AssignorKind::Sticky => "sticky",
            AssignorKind::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The Java class name a consumer lists in `partition.assignment.strategy`.
    pub fn class_name(self) -> &'static str {
        match self {
            AssignorKind::Range => "org.apache.kafka.clients.consumer.RangeAssignor",
            AssignorKind::RoundRobin => "org.apache.kafka.clients.consumer.RoundRobinAssignor",
            AssignorKind::Sticky => "org.apache.kafka.clients.consumer.StickyAssignor",
            AssignorKind::CooperativeSticky => {
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"
            }
        }
    }

    /// Parses a protocol name (`"cooperative-sticky"`) or a Java class name
    /// (`"org.apache.kafka.clients.consumer.CooperativeStickyAssignor"`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == s || kind.class_name() == s)
    }

    /// Whether the assignor supports `RebalanceProtocol.COOPERATIVE` (incremental rebalancing):
    /// only `CooperativeStickyAssignor` among the built-in ones.
    pub fn is_cooperative(self) -> bool {
        matches!(self, AssignorKind::CooperativeSticky)
    }
}

/// One member's `ConsumerPartitionAssignor.Subscription` as the group leader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSubscription {
    /// The coordinator-assigned `member.id`.
    pub member_id: String,
    /// `group.instance.id` (static membership).
    pub instance_id: Option<String>,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions owned before this rebalance (sticky assignors use them).
    pub owned: Vec<TopicPartition>,
    /// Generation the owned partitions are from (`None`: unknown, Kafka's `DEFAULT_GENERATION`).
    pub generation: Option<i32>,
}

/// An assignment keyed by member id.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// Kafka's assignment (`ConsumerPartitionAssignor.assign`) for these members.
///
/// Every member appears (empty `Vec` if idle) and each `Vec` is sorted by (topic, partition).
/// Like `AbstractPartitionAssignor.assign`, only topics that some member subscribes to and that
/// have at least one partition in `partitions_per_topic` are assigned; subscribed topics absent
/// from it are ignored. If several members share a member id, the first one is used.
///
/// For [`AssignorKind::CooperativeSticky`] this is the assignment after Kafka's cooperative
/// adjustment: partitions that must first be revoked by their current owner are withheld (see
/// [`assign_cooperative`] to learn which ones and where they are headed).
pub fn assign(
    kind: AssignorKind,
    partitions_per_topic: &BTreeMap<String, u32>,
    members: &[MemberSubscription],
) -> Assignment {
    let group = Group::new(partitions_per_topic, members);
    let per_member = match kind {
        AssignorKind::Range => range_assign(&group),
        AssignorKind::RoundRobin => round_robin_assign(&group),
        AssignorKind::Sticky => sticky_assign(&group).assignment,
        AssignorKind::CooperativeSticky => cooperative_assign(&group).0,
    };
    group.to_assignment(per_member)
}

/// The outcome of one `CooperativeStickyAssignor` rebalance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CooperativeAssignment {
    /// What each member is told to own now (same as [`assign`] with
    /// [`AssignorKind::CooperativeSticky`]).
    pub assignment: Assignment,
    /// Partitions withheld this round because they move between members, with the member
    /// they are headed to. Their current owner revokes them (it is not assigned them) and,
    /// having revoked something, rejoins; the follow-up rebalance hands them to the new owner.
    pub pending: BTreeMap<TopicPartition, String>,
}

/// [`assign`] for `CooperativeStickyAssignor`, also reporting the partitions Kafka withholds
/// (`partitionsTransferringOwnership`) and their intended new owners.
pub fn assign_cooperative(
    partitions_per_topic: &BTreeMap<String, u32>,
    members: &[MemberSubscription],
) -> CooperativeAssignment {
    let group = Group::new(partitions_per_topic, members);
    let (per_member, transferring) = cooperative_assign(&group);
    let pending = transferring
        .into_iter()
        .map(|(tp, m)| (tp, group.members[m].id.to_string()))
        .collect();
    CooperativeAssignment {
        assignment: group.to_assignment(per_member),
        pending,
    }
}

/// Kafka's `CooperativeStickyAssignor.computePartitionsTransferringOwnership`: the partitions
/// that `target` gives to a member that does not claim them while another member claims
/// (reports as owned) them and is not given them. Those are the partitions a cooperative
/// rebalance must withhold for one round. Sorted; members are deduplicated like in [`assign`].
pub fn transferring(members: &[MemberSubscription], target: &Assignment) -> Vec<TopicPartition> {
    let members = dedup_members(members);
    let mut added = BTreeSet::new();
    let mut revoked = HashSet::new();
    for member in &members {
        let assigned: &[TopicPartition] = target
            .get(member.member_id.as_str())
            .map_or(&[], Vec::as_slice);
        let owned: HashSet<&TopicPartition> = member.owned.iter().collect();
        added.extend(assigned.iter().filter(|tp| !owned.contains(tp)));
        let assigned: HashSet<&TopicPartition> = assigned.iter().collect();
        revoked.extend(member.owned.iter().filter(|tp| !assigned.contains(tp)));
    }
    added
        .into_iter()
        .filter(|tp| revoked.contains(tp))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shared plumbing
// ---------------------------------------------------------------------------------------------

/// First occurrence of each member id, in input order.
fn dedup_members(members: &[MemberSubscription]) -> Vec<&MemberSubscription> {
    let mut seen = HashSet::new();
    members
        .iter()
        .filter(|m| seen.insert(m.member_id.as_str()))
        .collect()
}

/// A group member as the assignors see it.
struct Member<'a> {
    id: &'a str,
    instance_id: Option<&'a str>,
    /// Subscribed topics, duplicates removed, in subscription order (a Java subscription is a set).
    topics: Vec<&'a str>,
    owned: &'a [TopicPartition],
    generation: Option<i32>,
}

impl Member<'_> {
    fn subscribes(&self, topic: &str) -> bool {
        self.topics.contains(&topic)
    }

    /// `memberData.generation.orElse(DEFAULT_GENERATION)`.
    fn generation_or_default(&self) -> i32 {
        self.generation.unwrap_or(DEFAULT_GENERATION)
    }
}

/// The leader's view of the group: deduplicated members and the assignable topics.
struct Group<'a> {
    /// Members in JoinGroup order (first occurrence of each member id).
    members: Vec<Member<'a>>,
    /// `AbstractPartitionAssignor.assign`'s `partitionsPerTopic`: topics subscribed to by some
    /// member and having at least one partition.
    topics: BTreeMap<&'a str, u32>,
}

impl<'a> Group<'a> {
    fn new(
        partitions_per_topic: &'a BTreeMap<String, u32>,
        members: &'a [MemberSubscription],
    ) -> Self {
        let members: Vec<Member<'a>> = dedup_members(members)
            .into_iter()
            .map(|m| {
                let mut topics: Vec<&str> = Vec::with_capacity(m.topics.len());
                for topic in &m.topics {
                    if !topics.contains(&topic.as_str()) {
                        topics.push(topic);
                    }
                }
                Member {
                    id: &m.member_id,
                    instance_id: m.instance_id.as_deref(),
                    topics,
                    owned: &m.owned,
                    generation: m.generation,
                }
            })
            .collect();
        let topics = partitions_per_topic
            .iter()
            .filter(|(topic, &count)| count > 0 && members.iter().any(|m| m.subscribes(topic)))
            .map(|(topic, &count)| (topic.as_str(), count))
            .collect();
        Group { members, topics }
    }

    fn partition_count(&self, topic: &str) -> u32 {
        self.topics.get(topic).copied().unwrap_or(0)
    }

    fn total_partitions(&self) -> usize {
        self.topics.values().map(|&n| n as usize).sum()
    }

    /// Assignable topics in Java `String` order (`TreeSet<String>`, `Collections.sort`).
    fn sorted_topics(&self) -> Vec<(&'a str, u32)> {
        let mut topics: Vec<(&'a str, u32)> = self.topics.iter().map(|(&t, &n)| (t, n)).collect();
        topics.sort_by(|a, b| java_cmp(a.0, b.0));
        topics
    }

    /// Member indexes in the iteration order of the leader's `HashMap<String, Subscription>`.
    fn hash_map_order(&self) -> Vec<usize> {
        let mut table = JavaHashTable::new();
        for (index, member) in self.members.iter().enumerate() {
            table.insert(index, java_string_hash(member.id));
        }
        table.iteration_order().into_iter().copied().collect()
    }

    fn to_assignment(&self, per_member: Vec<Vec<TopicPartition>>) -> Assignment {
        self.members
            .iter()
            .zip(per_member)
            .map(|(member, mut partitions)| {
                partitions.sort();
                (member.id.to_string(), partitions)
            })
            .collect()
    }
}

fn topic_partitions(topic: &str, count: u32) -> impl Iterator<Item = TopicPartition> {
    let topic: Arc<str> = crate::ids::topic_name(topic);
    (0..count).map(move |partition| TopicPartition {
        topic: Arc::clone(&topic),
        partition,
    })
}

/// Java's `String.compareTo`: lexicographic by UTF-16 code unit.
fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Kafka's `AbstractPartitionAssignor.MemberInfo.compareTo`: static members (with a
/// `group.instance.id`) first, ordered by instance id, then dynamic members by member id.
/// (DEVIATION, unreachable in a real group: two members with the same instance id tie in Java
/// and keep their map order; here the member id breaks the tie.)
fn member_info_cmp(a: &Member, b: &Member) -> Ordering {
    match (a.instance_id, b.instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y).then_with(|| java_cmp(a.id, b.id)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(a.id, b.id),
    }
}

/// Removes the first occurrence of `item` (Java's `List.remove(Object)`).
fn remove_first(list: &mut Vec<TopicPartition>, item: &TopicPartition) -> bool {
    match list.iter().position(|x| x == item) {
        Some(index) => {
            list.remove(index);
            true
        }
        None => false,
    }
}

/// Java's `String.hashCode`.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Kafka's `TopicPartition.hashCode`.
fn java_tp_hash(tp: &TopicPartition) -> i32 {
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
struct JavaHashTable<K> {
    /// (key, spread hash, insertion sequence number)
    entries: Vec<(K, u32, u64)>,
    capacity: usize,
    next_seq: u64,
}

impl<K: PartialEq> JavaHashTable<K> {
    const TREEIFY_THRESHOLD: usize = 8;
    const MIN_TREEIFY_CAPACITY: usize = 64;

    fn new() -> Self {
        JavaHashTable {
            entries: Vec::new(),
            capacity: 16,
            next_seq: 0,
        }
    }

    fn bucket(&self, spread: u32) -> usize {
        spread as usize & (self.capacity - 1)
    }

    /// `HashMap.put` of a new key (no-op if present).
    fn insert(&mut self, key: K, hash: i32) {
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

    fn remove(&mut self, key: &K) {
        self.entries.retain(|(k, _, _)| k != key);
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn iteration_order(&self) -> Vec<&K> {
        let mut entries: Vec<&(K, u32, u64)> = self.entries.iter().collect();
        entries.sort_by_key(|(_, spread, seq)| (self.bucket(*spread), *seq));
        entries.into_iter().map(|(k, _, _)| k).collect()
    }

    /// `iterator().next()`.
    fn first(&self) -> Option<&K> {
        self.entries
            .iter()
            .min_by_key(|(_, spread, seq)| (self.bucket(*spread), *seq))
            .map(|(k, _, _)| k)
    }
}

// ---------------------------------------------------------------------------------------------
// RangeAssignor and RoundRobinAssignor
// ---------------------------------------------------------------------------------------------

/// `RangeAssignor` (rack-unaware): per topic, the subscribed members in `MemberInfo` order get
/// consecutive ranges of `n / m` partitions, the first `n % m` of them one extra.
fn range_assign(group: &Group) -> Vec<Vec<TopicPartition>> {
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

/// `RoundRobinAssignor`: all partitions of all subscribed topics sorted by topic then partition,
/// dealt to members in `MemberInfo` order through a circular iterator that skips members not
/// subscribed to the partition's topic.
fn round_robin_assign(group: &Group) -> Vec<Vec<TopicPartition>> {
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

// ---------------------------------------------------------------------------------------------
// AbstractStickyAssignor
// ---------------------------------------------------------------------------------------------

/// Result of `AbstractStickyAssignor.assign`.
struct StickyOutcome {
    assignment: Vec<Vec<TopicPartition>>,
    /// `partitionsTransferringOwnership` (partition -> new owner), computed by the constrained
    /// algorithm; `None` after the general algorithm (Kafka sets it to `null`).
    transferring: Option<HashMap<TopicPartition, usize>>,
}

/// Output of `allSubscriptionsEqual`.
struct OwnedPartitions {
    all_subscriptions_equal: bool,
    /// `consumerToOwnedPartitions`: each member's valid previously owned partitions.
    owned: Vec<Vec<TopicPartition>>,
    /// `partitionsWithMultiplePreviousOwners`.
    multiply_claimed: HashSet<TopicPartition>,
    max_generation: i32,
}

/// `AbstractStickyAssignor.assign`: the constrained algorithm when all members subscribe to the
/// same topics, the general one otherwise.
fn sticky_assign(group: &Group) -> StickyOutcome {
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
fn cooperative_assign(group: &Group) -> (Vec<Vec<TopicPartition>>, HashMap<TopicPartition, usize>) {
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
fn compute_transferring(
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
fn collect_owned_partitions(group: &Group, order: &[usize]) -> OwnedPartitions {
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
fn constrained_assign(
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
type MovesByPair = HashMap<(usize, usize), JavaHashTable<TopicPartition>>;

/// `PartitionMovements`: the moves made by the general algorithm, used to prefer undoing an
/// earlier move over creating a new one (`getTheActualPartitionToBeMoved`).
#[derive(Default)]
struct PartitionMovements {
    /// topic -> (source, destination) -> partitions (a Java `HashSet`, whose order matters)
    by_topic: HashMap<Arc<str>, MovesByPair>,
    /// partition -> (original source, current destination)
    movements: HashMap<TopicPartition, (usize, usize)>,
}

impl PartitionMovements {
    fn remove_record(&mut self, tp: &TopicPartition) -> Option<(usize, usize)> {
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

    fn add_record(&mut self, tp: &TopicPartition, pair: (usize, usize)) {
        self.movements.insert(tp.clone(), pair);
        self.by_topic
            .entry(Arc::clone(&tp.topic))
            .or_default()
            .entry(pair)
            .or_insert_with(JavaHashTable::new)
            .insert(tp.clone(), java_tp_hash(tp));
    }

    fn move_partition(&mut self, tp: &TopicPartition, old: usize, new: usize) {
        match self.remove_record(tp) {
            // it moved before: record one move from its original owner (none if it returns home)
            Some((source, _)) if source != new => self.add_record(tp, (source, new)),
            Some(_) => {}
            None => self.add_record(tp, (old, new)),
        }
    }

    fn actual_partition_to_move(
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
struct GeneralAssignment<'g, 'a> {
    group: &'g Group<'a>,
    /// `consumer2AllPotentialTopics`: subscribed topics that exist.
    potential_topics: Vec<Vec<&'a str>>,
    /// `topic2AllPotentialConsumers`.
    potential_consumers: HashMap<&'a str, Vec<usize>>,
    /// `currentAssignment`.
    current: Vec<Vec<TopicPartition>>,
    /// `currentPartitionConsumer`.
    owner: HashMap<TopicPartition, usize>,
    /// `sortedCurrentSubscriptions`: (assigned count, rank of the member id).
    sorted: BTreeSet<(usize, usize)>,
    /// Rank of each member's id in Java `String` order, and its inverse.
    rank: Vec<usize>,
    by_rank: Vec<usize>,
    /// Members taking part in reassignment (false for Kafka's `fixedAssignments`).
    active: Vec<bool>,
    /// `prevAssignment`: partition -> (owner in an older generation, that generation).
    previous: HashMap<TopicPartition, (usize, i32)>,
    movements: PartitionMovements,
    revocation_required: bool,
}

impl<'g, 'a> GeneralAssignment<'g, 'a> {
    fn build(
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
    fn prepopulate_previous(&mut self, order: &[usize], max_generation: i32) {
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

    fn consumers_of(&self, topic: &str) -> &[usize] {
        self.potential_consumers
            .get(topic)
            .map_or(&[], Vec::as_slice)
    }

    fn subscribes(&self, consumer: usize, topic: &str) -> bool {
        self.potential_topics[consumer].contains(&topic)
    }

    fn key(&self, consumer: usize) -> (usize, usize) {
        (self.current[consumer].len(), self.rank[consumer])
    }

    fn size(&self, consumer: usize) -> usize {
        self.current[consumer].len()
    }

    /// Members in `sortedCurrentSubscriptions` order.
    fn sorted_members(&self) -> impl Iterator<Item = usize> + '_ {
        self.sorted.iter().map(|&(_, r)| self.by_rank[r])
    }

    fn max_assignment_size(&self, consumer: usize) -> usize {
        self.potential_topics[consumer]
            .iter()
            .map(|topic| self.group.partition_count(topic) as usize)
            .sum()
    }

    /// Kafka's `isBalanced`: sizes differ by at most one, or no member could take a partition
    /// of a topic it subscribes to from a member with at least two more partitions.
    fn is_balanced(&self) -> bool {
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

    fn can_consumer_participate(&self, consumer: usize) -> bool {
        self.size(consumer) < self.max_assignment_size(consumer)
            || self.current[consumer]
                .iter()
                .any(|tp| self.consumers_of(&tp.topic).len() >= 2)
    }

    /// `maybeAssignPartition`: to the least loaded subscribed member.
    fn assign_to_least_loaded(&mut self, tp: &TopicPartition) {
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

    fn balance(
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
    fn balance_score(&self, assignment: &[Vec<TopicPartition>]) -> usize {
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

    fn perform_reassignments(&mut self, partitions: &[TopicPartition]) -> bool {
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

    fn reassign(&mut self, tp: &TopicPartition, new: usize) {
        let Some(&old) = self.owner.get(tp) else {
            return;
        };
        let to_move = self.movements.actual_partition_to_move(tp, old, new);
        self.process_move(&to_move, new);
    }

    fn process_move(&mut self, tp: &TopicPartition, new: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---- helpers ------------------------------------------------------------------------------

    fn tp(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition::new(topic, partition)
    }

    fn topics(counts: &[(&str, u32)]) -> BTreeMap<String, u32> {
        counts.iter().map(|&(t, n)| (t.to_string(), n)).collect()
    }

    fn member(id: &str, subscribed: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.to_string(),
            instance_id: None,
            topics: subscribed.iter().map(|t| t.to_string()).collect(),
            owned: Vec::new(),
            generation: None,
        }
    }

    fn static_member(id: &str, instance: &str, subscribed: &[&str]) -> MemberSubscription {
        MemberSubscription {
            instance_id: Some(instance.to_string()),
            ..member(id, subscribed)
        }
    }

    /// `buildSubscriptionV2Above(topics, owned, generation, _)`.
    fn owning(
        id: &str,
        subscribed: &[&str],
        owned: &[TopicPartition],
        generation: i32,
    ) -> MemberSubscription {
        MemberSubscription {
            owned: owned.to_vec(),
            generation: Some(generation),
            ..member(id, subscribed)
        }
    }

    fn expect(pairs: &[(&str, &[TopicPartition])]) -> Assignment {
        pairs
            .iter()
            .map(|(m, tps)| {
                let mut tps = tps.to_vec();
                tps.sort();
                (m.to_string(), tps)
            })
            .collect()
    }

    /// Parses Kafka test strings like `"t1-0, t2-3"`.
    fn parse_tps(s: &str) -> Vec<TopicPartition> {
        s.split(", ")
            .filter(|x| !x.is_empty())
            .filter_map(|x| {
                let (topic, p) = x.rsplit_once('-')?;
                Some(tp(topic, p.parse().ok()?))
            })
            .collect()
    }

    fn pending(pairs: &[(TopicPartition, &str)]) -> BTreeMap<TopicPartition, String> {
        pairs
            .iter()
            .map(|(t, m)| (t.clone(), m.to_string()))
            .collect()
    }

    /// Every partition of a subscribed topic assigned at most once (exactly once unless
    /// `allow_missing`), and only to members subscribed to its topic; every member present.
    fn assert_valid(
        ppt: &BTreeMap<String, u32>,
        members: &[MemberSubscription],
        a: &Assignment,
        allow_missing: bool,
    ) {
        let group = Group::new(ppt, members);
        assert_eq!(a.len(), group.members.len(), "every member appears: {a:?}");
        let mut seen = HashSet::new();
        for m in &group.members {
            let tps = &a[m.id];
            assert!(tps.windows(2).all(|w| w[0] < w[1]), "sorted: {tps:?}");
            for t in tps {
                assert!(
                    m.subscribes(&t.topic),
                    "{t} given to non-subscriber {}: {a:?}",
                    m.id
                );
                assert!(t.partition < group.partition_count(&t.topic), "{t} exists");
                assert!(seen.insert(t.clone()), "{t} assigned twice: {a:?}");
            }
        }
        if !allow_missing {
            assert_eq!(
                seen.len(),
                group.total_partitions(),
                "all partitions assigned: {a:?}"
            );
        }
    }

    /// Kafka's `isBalanced` notion: no member could take a partition of a topic it subscribes
    /// to from a member with at least two more partitions.
    fn assert_kafka_balanced(members: &[MemberSubscription], a: &Assignment) {
        for m in dedup_members(members) {
            let mine = a[&m.member_id].len();
            for (other, tps) in a {
                for t in tps {
                    assert!(
                        !(m.topics.iter().any(|s| **s == *t.topic) && mine + 2 <= tps.len()),
                        "{t} could move from {other} ({}) to {} ({mine}): {a:?}",
                        tps.len(),
                        m.member_id
                    );
                }
            }
        }
    }

    fn spread(a: &Assignment) -> usize {
        let sizes = a.values().map(Vec::len);
        sizes.clone().max().unwrap_or(0) - sizes.min().unwrap_or(0)
    }

    /// Next-generation subscriptions: everyone reports what `a` gave it.
    fn rejoin(
        members: &[MemberSubscription],
        a: &Assignment,
        generation: i32,
    ) -> Vec<MemberSubscription> {
        members
            .iter()
            .map(|m| MemberSubscription {
                owned: a.get(&m.member_id).cloned().unwrap_or_default(),
                generation: Some(generation),
                ..m.clone()
            })
            .collect()
    }

    // ---- AssignorKind ----------------------------------------------------------------------------

    #[test]
    fn kind_names_round_trip() {
        for kind in AssignorKind::ALL {
            assert_eq!(AssignorKind::parse(kind.name()), Some(kind));
            assert_eq!(AssignorKind::parse(kind.class_name()), Some(kind));
        }
        assert_eq!(AssignorKind::parse("nope"), None);
        assert_eq!(AssignorKind::default(), AssignorKind::Range);
        assert!(AssignorKind::CooperativeSticky.is_cooperative());
        assert!(!AssignorKind::Sticky.is_cooperative());
    }

    #[test]
    fn java_hashes_match_java() {
        // Well-known JDK values: "hello".hashCode() and the classic "Aa"/"BB" collision.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("Aa"), 2112);
        assert_eq!(java_string_hash("BB"), 2112);
        // TopicPartition.hashCode = 31 * (31 + partition) + topic.hashCode()
        assert_eq!(java_tp_hash(&tp("hello", 1)), 31 * 32 + 99_162_322);
    }

    // ---- RangeAssignorTest -----------------------------------------------------------------------

    fn range(ppt: &[(&str, u32)], members: &[MemberSubscription]) -> Assignment {
        assign(AssignorKind::Range, &topics(ppt), members)
    }

    #[test]
    fn range_kafka_tests() {
        let (t1, t2) = ("topic1", "topic2");
        // testOneConsumerNoTopic
        assert_eq!(
            range(&[], &[member("consumer1", &[])]),
            expect(&[("consumer1", &[])])
        );
        // testOneConsumerNonexistentTopic
        assert_eq!(
            range(&[], &[member("consumer1", &[t1])]),
            expect(&[("consumer1", &[])])
        );
        // testOneConsumerOneTopic
        assert_eq!(
            range(&[(t1, 3)], &[member("consumer1", &[t1])]),
            expect(&[("consumer1", &[tp(t1, 0), tp(t1, 1), tp(t1, 2)])])
        );
        // testOnlyAssignsPartitionsFromSubscribedTopics
        assert_eq!(
            range(&[(t1, 3), ("other", 3)], &[member("consumer1", &[t1])]),
            expect(&[("consumer1", &[tp(t1, 0), tp(t1, 1), tp(t1, 2)])])
        );
        // testOneConsumerMultipleTopics
        assert_eq!(
            range(&[(t1, 1), (t2, 2)], &[member("consumer1", &[t1, t2])]),
            expect(&[("consumer1", &[tp(t1, 0), tp(t2, 0), tp(t2, 1)])])
        );
        // testTwoConsumersOneTopicOnePartition
        assert_eq!(
            range(
                &[(t1, 1)],
                &[member("consumer1", &[t1]), member("consumer2", &[t1])]
            ),
            expect(&[("consumer1", &[tp(t1, 0)]), ("consumer2", &[])])
        );
        // testTwoConsumersOneTopicTwoPartitions
        assert_eq!(
            range(
                &[(t1, 2)],
                &[member("consumer1", &[t1]), member("consumer2", &[t1])]
            ),
            expect(&[("consumer1", &[tp(t1, 0)]), ("consumer2", &[tp(t1, 1)])])
        );
        // testMultipleConsumersMixedTopics
        assert_eq!(
            range(
                &[(t1, 3), (t2, 2)],
                &[
                    member("consumer1", &[t1]),
                    member("consumer2", &[t1, t2]),
                    member("consumer3", &[t1])
                ]
            ),
            expect(&[
                ("consumer1", &[tp(t1, 0)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 0), tp(t2, 1)]),
                ("consumer3", &[tp(t1, 2)]),
            ])
        );
        // testTwoConsumersTwoTopicsSixPartitions
        assert_eq!(
            range(
                &[(t1, 3), (t2, 3)],
                &[
                    member("consumer1", &[t1, t2]),
                    member("consumer2", &[t1, t2])
                ]
            ),
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t1, 1), tp(t2, 0), tp(t2, 1)]),
                ("consumer2", &[tp(t1, 2), tp(t2, 2)]),
            ])
        );
        // testTwoStaticConsumersTwoTopicsSixPartitions: instance ids, not member ids, decide
        assert_eq!(
            range(
                &[(t1, 3), (t2, 3)],
                &[
                    static_member("consumer-b", "instance1", &[t1, t2]),
                    static_member("consumer-a", "instance2", &[t1, t2])
                ]
            ),
            expect(&[
                ("consumer-b", &[tp(t1, 0), tp(t1, 1), tp(t2, 0), tp(t2, 1)]),
                ("consumer-a", &[tp(t1, 2), tp(t2, 2)]),
            ])
        );
        // testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
        assert_eq!(
            range(
                &[(t1, 3), (t2, 3)],
                &[
                    static_member("consumer-b", "instance1", &[t1, t2]),
                    member("consumer-a", &[t1, t2])
                ]
            ),
            expect(&[
                ("consumer-b", &[tp(t1, 0), tp(t1, 1), tp(t2, 0), tp(t2, 1)]),
                ("consumer-a", &[tp(t1, 2), tp(t2, 2)]),
            ])
        );
    }

    #[test]
    fn range_static_member_assignment_persistent() {
        // RangeAssignorTest.testStaticMemberRangeAssignmentPersistent
        let (t1, t2) = ("topic1", "topic2");
        let ppt = [(t1, 5), (t2, 4)];
        let statics = [
            static_member("consumer1", "instance1", &[t1, t2]),
            static_member("consumer2", "instance2", &[t1, t2]),
            static_member("consumer3", "instance3", &[t1, t2]),
        ];
        let mut members = statics.to_vec();
        members.push(member("consumer4", &[t1, t2]));
        let mut expected = expect(&[
            ("consumer1", &[tp(t1, 0), tp(t1, 1), tp(t2, 0)]),
            ("consumer2", &[tp(t1, 2), tp(t2, 1)]),
            ("consumer3", &[tp(t1, 3), tp(t2, 2)]),
            ("consumer4", &[tp(t1, 4), tp(t2, 3)]),
        ]);
        assert_eq!(range(&ppt, &members), expected);
        // replace dynamic member 4 with a new dynamic member 5
        members.pop();
        members.push(member("consumer5", &[t1, t2]));
        expected.remove("consumer4");
        expected.insert("consumer5".into(), vec![tp(t1, 4), tp(t2, 3)]);
        assert_eq!(range(&ppt, &members), expected);
    }

    // ---- RoundRobinAssignorTest ------------------------------------------------------------------

    fn round_robin(ppt: &[(&str, u32)], members: &[MemberSubscription]) -> Assignment {
        assign(AssignorKind::RoundRobin, &topics(ppt), members)
    }

    #[test]
    fn round_robin_kafka_tests() {
        let (t, t1, t2) = ("topic", "topic1", "topic2");
        // testOneConsumerNoTopic
        assert_eq!(
            round_robin(&[], &[member("consumer", &[])]),
            expect(&[("consumer", &[])])
        );
        // testOneConsumerNonexistentTopic
        assert_eq!(
            round_robin(&[], &[member("consumer", &[t])]),
            expect(&[("consumer", &[])])
        );
        // testOneConsumerOneTopic
        assert_eq!(
            round_robin(&[(t, 3)], &[member("consumer", &[t])]),
            expect(&[("consumer", &[tp(t, 0), tp(t, 1), tp(t, 2)])])
        );
        // testOnlyAssignsPartitionsFromSubscribedTopics
        assert_eq!(
            round_robin(&[(t, 3), ("other", 3)], &[member("consumer", &[t])]),
            expect(&[("consumer", &[tp(t, 0), tp(t, 1), tp(t, 2)])])
        );
        // testOneConsumerMultipleTopics
        assert_eq!(
            round_robin(&[(t1, 1), (t2, 2)], &[member("consumer", &[t1, t2])]),
            expect(&[("consumer", &[tp(t1, 0), tp(t2, 0), tp(t2, 1)])])
        );
        // testTwoConsumersOneTopicOnePartition
        assert_eq!(
            round_robin(
                &[(t, 1)],
                &[member("consumer1", &[t]), member("consumer2", &[t])]
            ),
            expect(&[("consumer1", &[tp(t, 0)]), ("consumer2", &[])])
        );
        // testTwoConsumersOneTopicTwoPartitions
        assert_eq!(
            round_robin(
                &[(t, 2)],
                &[member("consumer1", &[t]), member("consumer2", &[t])]
            ),
            expect(&[("consumer1", &[tp(t, 0)]), ("consumer2", &[tp(t, 1)])])
        );
        // testMultipleConsumersMixedTopics
        assert_eq!(
            round_robin(
                &[(t1, 3), (t2, 2)],
                &[
                    member("consumer1", &[t1]),
                    member("consumer2", &[t1, t2]),
                    member("consumer3", &[t1])
                ]
            ),
            expect(&[
                ("consumer1", &[tp(t1, 0)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 0), tp(t2, 1)]),
                ("consumer3", &[tp(t1, 2)]),
            ])
        );
        // testTwoDynamicConsumersTwoTopicsSixPartitions
        assert_eq!(
            round_robin(
                &[(t1, 3), (t2, 3)],
                &[
                    member("consumer1", &[t1, t2]),
                    member("consumer2", &[t1, t2])
                ]
            ),
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t1, 2), tp(t2, 1)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 0), tp(t2, 2)]),
            ])
        );
        // testTwoStaticConsumersTwoTopicsSixPartitions
        assert_eq!(
            round_robin(
                &[(t1, 3), (t2, 3)],
                &[
                    static_member("consumer-b", "instance1", &[t1, t2]),
                    static_member("consumer-a", "instance2", &[t1, t2])
                ]
            ),
            expect(&[
                ("consumer-b", &[tp(t1, 0), tp(t1, 2), tp(t2, 1)]),
                ("consumer-a", &[tp(t1, 1), tp(t2, 0), tp(t2, 2)]),
            ])
        );
        // testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
        assert_eq!(
            round_robin(
                &[(t1, 3), (t2, 3)],
                &[
                    static_member("consumer-b", "instance1", &[t1, t2]),
                    member("consumer-a", &[t1, t2])
                ]
            ),
            expect(&[
                ("consumer-b", &[tp(t1, 0), tp(t1, 2), tp(t2, 1)]),
                ("consumer-a", &[tp(t1, 1), tp(t2, 0), tp(t2, 2)]),
            ])
        );
    }

    #[test]
    fn round_robin_static_member_assignment_persistent() {
        // RoundRobinAssignorTest.testStaticMemberAssignmentPersistent
        let (t1, t2) = ("topic1", "topic2");
        let ppt = [(t1, 3), (t2, 3)];
        let mut members = vec![
            static_member("consumer1", "instance1", &[t1, t2]),
            static_member("consumer2", "instance2", &[t1, t2]),
            static_member("consumer3", "instance3", &[t1, t2]),
            member("consumer4", &[t1, t2]),
        ];
        let mut expected = expect(&[
            ("consumer1", &[tp(t1, 0), tp(t2, 1)]),
            ("consumer2", &[tp(t1, 1), tp(t2, 2)]),
            ("consumer3", &[tp(t1, 2)]),
            ("consumer4", &[tp(t2, 0)]),
        ]);
        assert_eq!(round_robin(&ppt, &members), expected);
        members.pop();
        members.push(member("consumer5", &[t1, t2]));
        expected.remove("consumer4");
        expected.insert("consumer5".into(), vec![tp(t2, 0)]);
        assert_eq!(round_robin(&ppt, &members), expected);
    }

    #[test]
    fn round_robin_static_member_assignment_persistent_after_member_id_changes() {
        // RoundRobinAssignorTest.testStaticMemberAssignmentPersistentAfterMemberIdChanges:
        // instance i gets topic1-i and topic2-i whatever the member ids are.
        let (t1, t2) = ("topic1", "topic2");
        for ids in [
            ["consumer1", "consumer2", "consumer3"],
            ["consumer4", "consumer5", "consumer1"],
        ] {
            let members: Vec<_> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| static_member(id, &format!("instance{}", i + 1), &[t1, t2]))
                .collect();
            let a = round_robin(&[(t1, 3), (t2, 3)], &members);
            for (i, id) in (0u32..).zip(ids) {
                assert_eq!(a[id], vec![tp(t1, i), tp(t2, i)]);
            }
        }
    }

    // ---- AbstractStickyAssignorTest / StickyAssignorTest / CooperativeStickyAssignorTest ---------

    fn sticky(ppt: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> Assignment {
        let a = assign(AssignorKind::Sticky, ppt, members);
        assert_valid(ppt, members, &a, false);
        assert_kafka_balanced(members, &a);
        a
    }

    /// Runs the cooperative assignor and checks it equals the sticky target minus `pending`.
    fn cooperative(
        ppt: &BTreeMap<String, u32>,
        members: &[MemberSubscription],
    ) -> CooperativeAssignment {
        let c = assign_cooperative(ppt, members);
        let target = sticky(ppt, members);
        assert_eq!(
            c.assignment,
            assign(AssignorKind::CooperativeSticky, ppt, members)
        );
        let mut rebuilt = c.assignment.clone();
        for (t, m) in &c.pending {
            rebuilt
                .get_mut(m)
                .expect("pending owner is a member")
                .push(t.clone());
        }
        rebuilt.values_mut().for_each(|v| v.sort());
        assert_eq!(rebuilt, target, "cooperative = sticky target minus pending");
        let mut expected_pending = transferring(members, &target);
        expected_pending.sort();
        assert_eq!(
            c.pending.keys().cloned().collect::<Vec<_>>(),
            expected_pending
        );
        c
    }

    #[test]
    fn sticky_single_consumer_cases() {
        let (t, t1, t2) = ("topic", "topic1", "topic2");
        // testOneConsumerNoTopic
        let c = cooperative(&topics(&[]), &[member("consumer", &[])]);
        assert_eq!(c.assignment, expect(&[("consumer", &[])]));
        // testOneConsumerNonexistentTopic (a topic with no partitions)
        let c = cooperative(&topics(&[(t, 0)]), &[member("consumer", &[t])]);
        assert_eq!(c.assignment, expect(&[("consumer", &[])]));
        // testOneConsumerOneTopic
        let c = cooperative(&topics(&[(t, 3)]), &[member("consumer", &[t])]);
        assert_eq!(
            c.assignment,
            expect(&[("consumer", &[tp(t, 0), tp(t, 1), tp(t, 2)])])
        );
        assert!(c.pending.is_empty());
        // testOnlyAssignsPartitionsFromSubscribedTopics
        let members = [owning(
            "consumer",
            &[t],
            &[tp(t, 0), tp(t, 1), tp("other", 0), tp("other", 1)],
            1,
        )];
        let c = cooperative(&topics(&[(t, 2)]), &members);
        assert_eq!(c.assignment, expect(&[("consumer", &[tp(t, 0), tp(t, 1)])]));
        assert!(c.pending.is_empty());
        // testOneConsumerMultipleTopics
        let c = cooperative(
            &topics(&[(t1, 1), (t2, 2)]),
            &[member("consumer", &[t1, t2])],
        );
        assert_eq!(
            c.assignment,
            expect(&[("consumer", &[tp(t1, 0), tp(t2, 0), tp(t2, 1)])])
        );
        // testAssignmentUpdatedForDeletedTopic
        let a = sticky(
            &topics(&[(t1, 1), ("topic3", 100)]),
            &[member("consumer", &[t1, t2, "topic3"])],
        );
        assert_eq!(a["consumer"].len(), 101);
        // testNoExceptionThrownWhenOnlySubscribedTopicDeleted
        let first = sticky(&topics(&[(t, 3)]), &[member("consumer", &[t])]);
        let again = rejoin(&[member("consumer", &[t])], &first, 1);
        assert_eq!(sticky(&topics(&[]), &again), expect(&[("consumer", &[])]));
    }

    #[test]
    fn sticky_two_consumer_exact_cases() {
        let (t, t1, t2) = ("topic", "topic1", "topic2");
        // testTwoConsumersOneTopicOnePartition
        let c = cooperative(
            &topics(&[(t, 1)]),
            &[member("consumer1", &[t]), member("consumer2", &[t])],
        );
        assert_eq!(c.assignment.values().map(Vec::len).sum::<usize>(), 1);
        // testTwoConsumersOneTopicTwoPartitions
        let c = cooperative(
            &topics(&[(t, 2)]),
            &[member("consumer1", &[t]), member("consumer2", &[t])],
        );
        assert_eq!(
            c.assignment,
            expect(&[("consumer1", &[tp(t, 0)]), ("consumer2", &[tp(t, 1)])])
        );
        // testTwoConsumersTwoTopicsSixPartitions
        let c = cooperative(
            &topics(&[(t1, 3), (t2, 3)]),
            &[
                member("consumer1", &[t1, t2]),
                member("consumer2", &[t1, t2]),
            ],
        );
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t1, 2), tp(t2, 1)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 0), tp(t2, 2)]),
            ])
        );
        // testMultipleConsumersMixedTopicSubscriptions (general algorithm)
        let c = cooperative(
            &topics(&[(t1, 3), (t2, 2)]),
            &[
                member("consumer1", &[t1]),
                member("consumer2", &[t1, t2]),
                member("consumer3", &[t1]),
            ],
        );
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t1, 2)]),
                ("consumer2", &[tp(t2, 0), tp(t2, 1)]),
                ("consumer3", &[tp(t1, 1)]),
            ])
        );
    }

    #[test]
    fn sticky_quota_cases() {
        let (t, t1, t2) = ("topic", "topic1", "topic2");
        let both = [t1, t2];
        // testConsumerOwningMinQuotaExpectedMaxQuota
        let c = cooperative(
            &topics(&[(t1, 2), (t2, 3)]),
            &[
                owning("consumer1", &both, &[tp(t1, 0), tp(t2, 1)], 1),
                owning("consumer2", &both, &[tp(t1, 1), tp(t2, 2)], 1),
            ],
        );
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t2, 1), tp(t2, 0)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 2)])
            ])
        );
        assert!(c.pending.is_empty());
        // testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers (depends on HashMap order)
        let members = [
            owning("consumer1", &both, &[tp(t1, 0), tp(t2, 0)], 1),
            owning("consumer2", &both, &[tp(t1, 1), tp(t2, 1)], 1),
            owning("consumer3", &both, &[], 1),
        ];
        let ppt = topics(&[(t1, 2), (t2, 2)]);
        assert_eq!(
            sticky(&ppt, &members),
            expect(&[
                ("consumer1", &[tp(t1, 0)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 1)]),
                ("consumer3", &[tp(t2, 0)]),
            ])
        );
        assert_eq!(
            cooperative(&ppt, &members).pending,
            pending(&[(tp(t2, 0), "consumer3")])
        );
        // testAllConsumersAreUnderMinQuota
        let c = cooperative(
            &topics(&[(t1, 2), (t2, 3)]),
            &[
                owning("consumer1", &both, &[tp(t1, 0)], 1),
                owning("consumer2", &both, &[tp(t1, 1)], 1),
                owning("consumer3", &both, &[], 1),
            ],
        );
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t2, 1)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 2)]),
                ("consumer3", &[tp(t2, 0)]),
            ])
        );
        assert!(c.pending.is_empty());
        // testAllConsumersReachExpectedQuotaAndAreConsideredFilled
        let c = cooperative(
            &topics(&[(t, 4)]),
            &[
                owning("consumer1", &[t], &[tp(t, 0), tp(t, 1)], 1),
                owning("consumer2", &[t], &[tp(t, 2)], 1),
                owning("consumer3", &[t], &[], 1),
            ],
        );
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t, 0), tp(t, 1)]),
                ("consumer2", &[tp(t, 2)]),
                ("consumer3", &[tp(t, 3)]),
            ])
        );
        assert!(c.pending.is_empty());
    }

    #[test]
    fn sticky_add_remove_consumer_one_topic() {
        // AbstractStickyAssignorTest.testAddRemoveConsumerOneTopic
        let t = "topic";
        let ppt = topics(&[(t, 3)]);
        let a = sticky(&ppt, &[member("consumer1", &[t])]);
        assert_eq!(a, expect(&[("consumer1", &[tp(t, 0), tp(t, 1), tp(t, 2)])]));

        let members = [
            owning("consumer1", &[t], &a["consumer1"], 1),
            owning("consumer2", &[t], &[], 1),
        ];
        let a = sticky(&ppt, &members);
        assert_eq!(
            a,
            expect(&[
                ("consumer1", &[tp(t, 0), tp(t, 1)]),
                ("consumer2", &[tp(t, 2)])
            ])
        );
        let c = cooperative(&ppt, &members);
        assert_eq!(c.pending, pending(&[(tp(t, 2), "consumer2")]));
        // the moving partition is in nobody's assignment this round ...
        assert_eq!(
            c.assignment,
            expect(&[("consumer1", &[tp(t, 0), tp(t, 1)]), ("consumer2", &[])])
        );
        // ... and goes to its new owner once the old owner no longer claims it
        let round2 = rejoin(&members, &c.assignment, 2);
        let c2 = cooperative(&ppt, &round2);
        assert!(c2.pending.is_empty());
        assert_eq!(c2.assignment, a);

        let members = [owning("consumer2", &[t], &a["consumer2"], 1)];
        let a = sticky(&ppt, &members);
        assert_eq!(a, expect(&[("consumer2", &[tp(t, 0), tp(t, 1), tp(t, 2)])]));
        assert!(cooperative(&ppt, &members).pending.is_empty());
    }

    #[test]
    fn sticky_add_remove_two_consumers_two_topics() {
        // AbstractStickyAssignorTest.testAddRemoveTwoConsumersTwoTopics (3.6+ expectations)
        let (t1, t2) = ("topic1", "topic2");
        let all = [t1, t2];
        let ppt = topics(&[(t1, 3), (t2, 4)]);
        let a = sticky(
            &ppt,
            &[member("consumer1", &all), member("consumer2", &all)],
        );
        assert_eq!(
            a,
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t1, 2), tp(t2, 1), tp(t2, 3)]),
                ("consumer2", &[tp(t1, 1), tp(t2, 0), tp(t2, 2)]),
            ])
        );
        // add 2 consumers
        let members = [
            owning("consumer1", &all, &a["consumer1"], 1),
            owning("consumer2", &all, &a["consumer2"], 1),
            owning("consumer3", &all, &[], 1),
            owning("consumer4", &all, &[], 1),
        ];
        let a = sticky(&ppt, &members);
        assert_eq!(
            a,
            expect(&[
                ("consumer1", &[tp(t1, 0), tp(t2, 1)]),
                ("consumer2", &[tp(t2, 0), tp(t1, 1)]),
                ("consumer3", &[tp(t1, 2), tp(t2, 3)]),
                ("consumer4", &[tp(t2, 2)]),
            ])
        );
        assert_eq!(
            cooperative(&ppt, &members).pending,
            pending(&[
                (tp(t1, 2), "consumer3"),
                (tp(t2, 3), "consumer3"),
                (tp(t2, 2), "consumer4")
            ])
        );
        // remove 2 consumers
        let members = [
            owning("consumer3", &all, &a["consumer3"], 1),
            owning("consumer4", &all, &a["consumer4"], 1),
        ];
        assert_eq!(
            sticky(&ppt, &members),
            expect(&[
                ("consumer3", &[tp(t1, 2), tp(t2, 3), tp(t1, 0), tp(t2, 1)]),
                ("consumer4", &[tp(t2, 2), tp(t1, 1), tp(t2, 0)]),
            ])
        );
        assert!(cooperative(&ppt, &members).pending.is_empty());
    }

    #[test]
    fn sticky_generation_conflicts() {
        let (t, t2, t3) = ("topic", "topic2", "topic3");
        let both = [t, t2];
        let ppt = topics(&[(t, 3), (t2, 3)]);
        let claimed = [tp(t, 0), tp(t, 2), tp(t2, 1)];
        // testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration
        // testOwnedPartitionsAreInvalidatedForConsumerWithNoGeneration (DEFAULT_GENERATION)
        for stale in [9, DEFAULT_GENERATION] {
            let members = [
                owning("consumer1", &both, &claimed, 10),
                owning("consumer2", &both, &claimed, stale),
            ];
            let c = cooperative(&ppt, &members);
            assert_eq!(
                c.assignment,
                expect(&[
                    ("consumer1", &claimed),
                    ("consumer2", &[tp(t, 1), tp(t2, 0), tp(t2, 2)])
                ])
            );
            assert!(c.pending.is_empty());
        }
        // testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration
        let members = [
            owning("consumer1", &both, &[tp(t, 0), tp(t2, 1), tp(t, 1)], 10),
            owning("consumer2", &both, &[tp(t, 0), tp(t2, 1), tp(t2, 2)], 8),
        ];
        let c = cooperative(&ppt, &members);
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t, 0), tp(t2, 1), tp(t, 1)]),
                ("consumer2", &[tp(t, 2), tp(t2, 2), tp(t2, 0)]),
            ])
        );
        assert!(c.pending.is_empty());
        // testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration
        let ppt1 = topics(&[(t, 3)]);
        let members = [
            owning("consumer1", &[t], &[tp(t, 0), tp(t, 1)], 1),
            owning("consumer2", &[t], &[tp(t, 0), tp(t, 2)], 1),
            owning("consumer3", &[t], &[], 1),
        ];
        assert_eq!(
            sticky(&ppt1, &members),
            expect(&[
                ("consumer1", &[tp(t, 1)]),
                ("consumer2", &[tp(t, 2)]),
                ("consumer3", &[tp(t, 0)])
            ])
        );
        assert_eq!(
            cooperative(&ppt1, &members).pending,
            pending(&[(tp(t, 0), "consumer3")])
        );
        // testEnsurePartitionsAssignedToHighestGeneration
        let all = [t, t2, t3];
        let ppt3 = topics(&[(t, 3), (t2, 3), (t3, 3)]);
        let members = [
            owning("consumer1", &all, &[tp(t, 0), tp(t2, 0), tp(t3, 0)], 10),
            owning("consumer2", &all, &[tp(t, 1), tp(t2, 1), tp(t3, 1)], 9),
            owning("consumer3", &all, &[tp(t2, 1), tp(t3, 0), tp(t3, 2)], 8),
        ];
        let c = cooperative(&ppt3, &members);
        assert_eq!(
            c.assignment,
            expect(&[
                ("consumer1", &[tp(t, 0), tp(t2, 0), tp(t3, 0)]),
                ("consumer2", &[tp(t, 1), tp(t2, 1), tp(t3, 1)]),
                ("consumer3", &[tp(t, 2), tp(t2, 2), tp(t3, 2)]),
            ])
        );
        assert!(c.pending.is_empty());
        // testNoReassignmentOnCurrentMembers
        let t1 = "topic1";
        let all = [t, t2, t3, t1];
        let ppt4 = topics(&[(t, 3), (t1, 3), (t2, 3), (t3, 3)]);
        let members = [
            owning("consumer1", &all, &[], DEFAULT_GENERATION),
            owning("consumer2", &all, &[tp(t, 0), tp(t2, 0), tp(t1, 0)], 9),
            owning("consumer3", &all, &[tp(t3, 2), tp(t2, 2), tp(t1, 1)], 8),
            owning("consumer4", &all, &[tp(t3, 1), tp(t, 1), tp(t, 2)], 7),
        ];
        let c = cooperative(&ppt4, &members);
        let mut expected = vec![tp(t1, 2), tp(t2, 1), tp(t3, 0)];
        expected.sort();
        assert_eq!(c.assignment["consumer1"], expected);
        assert!(c.pending.is_empty());
        // testSubscriptionNotEqualAndAssignSamePartitionWith3Generation
        let ppt = topics(&[(t, 6), (t1, 1)]);
        for gens in [
            [1, 2, 3],
            [1, 3, 2],
            [2, 1, 3],
            [2, 3, 1],
            [3, 1, 2],
            [3, 2, 1],
        ] {
            let members = [
                owning("consumer1", &[t], &[tp(t, 0), tp(t, 2)], gens[0]),
                owning("consumer2", &[t], &[tp(t, 1), tp(t, 2), tp(t, 3)], gens[1]),
                owning("consumer3", &[t], &[tp(t, 2), tp(t, 4), tp(t, 5)], gens[2]),
                owning("consumer4", &[t1], &[tp(t1, 0)], 2),
            ];
            let a = sticky(&ppt, &members);
            assert!(a.values().all(|v| (1..=2).contains(&v.len())), "{a:?}");
        }
    }

    #[test]
    fn sticky_rack_aware_tests_without_racks() {
        // AbstractStickyAssignorTest.testRackAwareAssignmentWithUniformSubscription: the
        // non-rack-aware expectation, fresh and with the expected result already owned.
        let all = ["t1", "t2", "t3"];
        let ppt = topics(&[("t1", 6), ("t2", 7), ("t3", 2)]);
        let names = ["consumer0", "consumer1", "consumer2"];
        let uniform = [
            "t1-0, t1-3, t2-0, t2-3, t2-6",
            "t1-1, t1-4, t2-1, t2-4, t3-0",
            "t1-2, t1-5, t2-2, t2-5, t3-1",
        ];
        let build = |subs: &[&[&str]], owned: &[&str]| -> Vec<MemberSubscription> {
            names
                .iter()
                .zip(subs)
                .enumerate()
                .map(|(i, (id, s))| {
                    owning(
                        id,
                        s,
                        &owned.get(i).map_or(Vec::new(), |o| parse_tps(o)),
                        DEFAULT_GENERATION,
                    )
                })
                .collect()
        };
        let expected = |lists: &[&str]| -> Assignment {
            names
                .iter()
                .zip(lists)
                .map(|(n, l)| {
                    let mut v = parse_tps(l);
                    v.sort();
                    (n.to_string(), v)
                })
                .collect()
        };
        for owned in [&[][..], &uniform[..]] {
            let members = build(&[&all, &all, &all], owned);
            assert_eq!(cooperative(&ppt, &members).assignment, expected(&uniform));
        }
        // testRackAwareAssignmentWithNonEqualSubscription: general algorithm
        let subs: [&[&str]; 3] = [&all, &all, &["t1", "t3"]];
        let non_equal = [
            "t1-5, t2-0, t2-2, t2-4, t2-6",
            "t1-3, t2-1, t2-3, t2-5, t3-0",
            "t1-0, t1-1, t1-2, t1-4, t3-1",
        ];
        for owned in [&[][..], &non_equal[..]] {
            let members = build(&subs, owned);
            assert_eq!(cooperative(&ppt, &members).assignment, expected(&non_equal));
        }
        // ... and the CooperativeStickyAssignor two-round expectation from owned partitions
        let owned = [
            "t1-0, t1-1, t1-2, t1-3, t1-4",
            "t1-5, t2-0, t2-1, t2-2, t2-3",
            "t2-4, t2-5, t2-6, t3-0, t3-1",
        ];
        let intermediate = ["t1-2, t1-3, t1-4", "t2-0, t2-1, t2-2, t2-3", "t3-0, t3-1"];
        let last = [
            "t1-2, t1-3, t1-4, t2-4, t2-5",
            "t2-0, t2-1, t2-2, t2-3, t2-6",
            "t1-0, t1-1, t1-5, t3-0, t3-1",
        ];
        let round1 = cooperative(&ppt, &build(&subs, &owned));
        assert_eq!(round1.assignment, expected(&intermediate));
        let round2 = cooperative(&ppt, &build(&subs, &intermediate));
        assert_eq!(round2.assignment, expected(&last));
        assert!(round2.pending.is_empty());
    }

    fn numbered(prefix: &str, i: usize, max: usize) -> String {
        format!("{prefix}{i:0width$}", width = max.to_string().len())
    }

    #[test]
    fn sticky_larger_kafka_scenarios() {
        // testReassignmentAfterOneConsumerLeaves
        let ppt: BTreeMap<String, u32> =
            (1..20).map(|i| (numbered("t", i, 20), i as u32)).collect();
        let members: Vec<_> = (1..20)
            .map(|i| {
                let subs: Vec<String> = (1..=i).map(|j| numbered("t", j, 20)).collect();
                let subs: Vec<&str> = subs.iter().map(String::as_str).collect();
                member(&numbered("c", i, 20), &subs)
            })
            .collect();
        let a = sticky(&ppt, &members);
        let mut next = rejoin(&members, &a, 1);
        next.retain(|m| m.member_id != "c10");
        let b = sticky(&ppt, &next);
        for m in &next {
            let kept = a[&m.member_id]
                .iter()
                .filter(|t| b[&m.member_id].contains(t))
                .count();
            assert!(
                kept * 2 >= a[&m.member_id].len(),
                "mostly sticky: {} kept {kept}",
                m.member_id
            );
        }
        // testReassignmentAfterOneConsumerAdded
        let ppt = topics(&[("topic", 20)]);
        let mut members: Vec<_> = (1..10)
            .map(|i| member(&numbered("c", i, 10), &["topic"]))
            .collect();
        sticky(&ppt, &members);
        members.push(member("c10", &["topic"]));
        assert!(cooperative(&ppt, &members).pending.is_empty());
        // testSameSubscriptions
        let ppt: BTreeMap<String, u32> =
            (1..15).map(|i| (numbered("t", i, 15), i as u32)).collect();
        let all: Vec<&str> = ppt.keys().map(String::as_str).collect();
        let members: Vec<_> = (1..9).map(|i| member(&numbered("c", i, 9), &all)).collect();
        let a = sticky(&ppt, &members);
        let mut next = rejoin(&members, &a, 1);
        next.retain(|m| m.member_id != "c5");
        assert!(cooperative(&ppt, &next).pending.is_empty());
        // testPoorRoundRobinAssignmentScenario
        let ppt: BTreeMap<String, u32> = (1..=5)
            .map(|i| (format!("topic{i}"), (i % 2) + 1))
            .collect();
        let five = ["topic1", "topic2", "topic3", "topic4", "topic5"];
        let odd = ["topic1", "topic3", "topic5"];
        sticky(
            &ppt,
            &[
                member("consumer1", &five),
                member("consumer2", &odd),
                member("consumer3", &odd),
                member("consumer4", &five),
            ],
        );
        // testMoveExistingAssignments
        let ppt: BTreeMap<String, u32> = (1..=6).map(|i| (format!("topic{i}"), 1)).collect();
        sticky(
            &ppt,
            &[
                owning("consumer1", &["topic1", "topic2"], &[tp("topic1", 0)], 1),
                owning(
                    "consumer2",
                    &["topic1", "topic2", "topic3", "topic4"],
                    &[tp("topic2", 0), tp("topic3", 0)],
                    1,
                ),
                owning(
                    "consumer3",
                    &["topic2", "topic3", "topic4", "topic5", "topic6"],
                    &[tp("topic4", 0), tp("topic5", 0), tp("topic6", 0)],
                    1,
                ),
            ],
        );
        // testNewSubscription
        let ppt: BTreeMap<String, u32> = (1..5).map(|i| (numbered("t", i, 5), 1)).collect();
        let mut members: Vec<_> = (0..3)
            .map(|i: usize| {
                let subs: Vec<String> = (i..=(3 * i).saturating_sub(2))
                    .filter(|&j| j >= i && 3 * i >= 2)
                    .map(|j| numbered("t", j, 5))
                    .collect();
                let subs: Vec<&str> = subs.iter().map(String::as_str).collect();
                member(&numbered("c", i, 3), &subs)
            })
            .collect();
        let a = sticky(&ppt, &members);
        members = rejoin(&members, &a, 1);
        members[0].topics.push(numbered("t", 1, 5));
        sticky(&ppt, &members);
    }

    #[test]
    fn sticky_stickiness_and_add_remove_topic() {
        // testStickiness
        let t1 = "topic1";
        let ppt = topics(&[(t1, 3)]);
        let members: Vec<_> = (1..=4)
            .map(|i| member(&format!("consumer{i}"), &[t1]))
            .collect();
        let a = sticky(&ppt, &members);
        assert!(a.values().all(|v| v.len() <= 1));
        let next: Vec<_> = rejoin(&members, &a, 1).into_iter().skip(1).collect();
        let b = sticky(&ppt, &next);
        for m in &next {
            assert_eq!(b[&m.member_id].len(), 1);
            assert!(a[&m.member_id].iter().all(|t| b[&m.member_id].contains(t)));
        }
        // testAddRemoveTopicTwoConsumers
        let (t, t2) = ("topic", "topic2");
        let members = [member("consumer1", &[t]), member("consumer2", &[t])];
        let a1 = sticky(&topics(&[(t, 3)]), &members);
        let ppt2 = topics(&[(t, 3), (t2, 3)]);
        let next: Vec<_> = rejoin(&members, &a1, 1)
            .into_iter()
            .map(|mut m| {
                m.topics = vec![t.into(), t2.into()];
                m
            })
            .collect();
        let a2 = sticky(&ppt2, &next);
        for m in ["consumer1", "consumer2"] {
            assert_eq!(a2[m].len(), 3);
            assert!(a1[m].iter().all(|x| a2[m].contains(x)));
        }
        let next: Vec<_> = rejoin(&next, &a2, 2)
            .into_iter()
            .map(|mut m| {
                m.topics = vec![t2.into()];
                m
            })
            .collect();
        let a3 = sticky(&topics(&[(t2, 3)]), &next);
        for m in ["consumer1", "consumer2"] {
            assert!(a3[m].iter().all(|x| a2[m].contains(x)));
        }
        assert!(cooperative(&topics(&[(t2, 3)]), &next).pending.is_empty());
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let ppt = topics(&[("a", 0), ("b", 2)]);
        let dup = [
            member("x", &["b"]),
            member("x", &["a"]),
            member("y", &["b", "b", "zzz"]),
        ];
        for kind in AssignorKind::ALL {
            assert!(assign(kind, &ppt, &[]).is_empty());
            let a = assign(kind, &ppt, &dup);
            assert_valid(&ppt, &dup, &a, false);
            assert_eq!(a.len(), 2);
            let weird = [
                owning("x", &[], &[tp("b", 7), tp("b", 0), tp("b", 0)], i32::MIN),
                member("", &[]),
            ];
            assert_valid(&ppt, &weird, &assign(kind, &ppt, &weird), true);
        }
    }

    // ---- property tests ----------------------------------------------------------------------

    const TOPIC_NAMES: [&str; 5] = ["alpha", "beta", "gamma", "delta", "gone"];

    /// Up to 4 topics with 0-8 partitions, up to 6 members with random subscriptions (possibly
    /// including a topic that does not exist), random ids and optional instance ids.
    fn group_strategy(
        equal: bool,
    ) -> impl Strategy<Value = (BTreeMap<String, u32>, Vec<MemberSubscription>)> {
        (
            prop::collection::vec(0u32..=8, 0..=4),
            prop::collection::vec((0u16..40, any::<u8>(), prop::option::of(0u8..10)), 0..=6),
            any::<u8>(),
        )
            .prop_map(move |(counts, specs, shared)| {
                let ppt = TOPIC_NAMES
                    .iter()
                    .zip(counts)
                    .map(|(t, n)| (t.to_string(), n))
                    .collect();
                let members = specs
                    .into_iter()
                    .map(|(id, mask, instance)| {
                        let mask = if equal { shared } else { mask };
                        MemberSubscription {
                            member_id: format!("consumer-{id}"),
                            instance_id: instance.map(|i| format!("instance-{i}")),
                            topics: TOPIC_NAMES
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| mask & (1 << i) != 0)
                                .map(|(_, t)| t.to_string())
                                .collect(),
                            owned: Vec::new(),
                            generation: None,
                        }
                    })
                    .collect();
                (ppt, members)
            })
    }

    /// Fewest partitions surviving members must give up when the group is rebalanced to `n`
    /// members with equal subscriptions: keep min(owned, quota), maxQuota for the biggest owners.
    fn minimum_moves(mut owned_counts: Vec<usize>, total: usize, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        owned_counts.sort_unstable_by(|a, b| b.cmp(a));
        let (min_quota, extra) = (total / n, total % n);
        owned_counts
            .iter()
            .enumerate()
            .map(|(i, &owned)| owned.saturating_sub(min_quota + usize::from(i < extra)))
            .sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_every_partition_assigned_once_to_a_subscriber((ppt, members) in group_strategy(false)) {
            for kind in AssignorKind::ALL {
                let a = assign(kind, &ppt, &members);
                assert_valid(&ppt, &members, &a, false);
                if matches!(kind, AssignorKind::Sticky | AssignorKind::CooperativeSticky) {
                    assert_kafka_balanced(&members, &a);
                }
            }
        }

        #[test]
        fn prop_equal_subscriptions_are_balanced((ppt, members) in group_strategy(true)) {
            for kind in [AssignorKind::RoundRobin, AssignorKind::Sticky, AssignorKind::CooperativeSticky] {
                let a = assign(kind, &ppt, &members);
                prop_assert!(spread(&a) <= 1, "{kind:?}: {a:?}");
            }
            // RangeAssignor balances each topic separately (its Javadoc example gives 4 and 2).
            let a = assign(AssignorKind::Range, &ppt, &members);
            for topic in ppt.keys() {
                let per_topic: Assignment = a.iter().map(|(m, v)| (m.clone(), v.iter().filter(|t| *t.topic == **topic).cloned().collect())).collect();
                prop_assert!(spread(&per_topic) <= 1, "range {topic}: {a:?}");
            }
        }

        #[test]
        fn prop_sticky_moves_only_what_balance_requires(
            (ppt, members) in group_strategy(true),
            add in any::<bool>(),
            victim in any::<prop::sample::Index>(),
        ) {
            let members: Vec<_> = dedup_members(&members).into_iter().cloned().collect();
            let first = assign(AssignorKind::Sticky, &ppt, &members);
            let mut next = rejoin(&members, &first, 1);
            if add || next.is_empty() {
                let template = next.first().cloned().unwrap_or_else(|| member("x", &["alpha"]));
                next.push(MemberSubscription { member_id: "newcomer".into(), instance_id: None, owned: Vec::new(), ..template });
            } else {
                next.remove(victim.index(next.len()));
            }
            let total = Group::new(&ppt, &next).total_partitions();
            let survivors: Vec<_> = next.iter().filter(|m| !m.owned.is_empty()).collect();
            let expected = minimum_moves(survivors.iter().map(|m| m.owned.len()).collect(), total, next.len());
            for kind in [AssignorKind::Sticky, AssignorKind::CooperativeSticky] {
                let second = assign(kind, &ppt, &next);
                let moved: usize = survivors.iter().map(|m| m.owned.iter().filter(|t| !second[&m.member_id].contains(t)).count()).sum();
                prop_assert_eq!(moved, expected, "{:?} {:?} -> {:?}", kind, first, second);
            }
            // cooperative: nothing is lost, and the second round settles on a balanced assignment
            let round1 = assign_cooperative(&ppt, &next);
            let round2 = assign_cooperative(&ppt, &rejoin(&next, &round1.assignment, 2));
            prop_assert!(round2.pending.is_empty());
            assert_valid(&ppt, &next, &round2.assignment, false);
            prop_assert!(spread(&round2.assignment) <= 1);
        }

        #[test]
        fn prop_sticky_rebalance_after_random_changes(
            (ppt, members) in group_strategy(false),
            (_, changed) in group_strategy(false),
        ) {
            let first = assign(AssignorKind::Sticky, &ppt, &members);
            // keep the ids of the first group where possible, with new subscriptions
            let mut next = rejoin(&members, &first, 1);
            for (m, c) in next.iter_mut().zip(&changed) {
                m.topics = c.topics.clone();
            }
            next.extend(changed.into_iter().skip(members.len()));
            for kind in [AssignorKind::Sticky, AssignorKind::CooperativeSticky] {
                let a = assign(kind, &ppt, &next);
                assert_valid(&ppt, &next, &a, kind.is_cooperative());
            }
            let target = assign(AssignorKind::Sticky, &ppt, &next);
            assert_kafka_balanced(&next, &target);
            let round1 = assign_cooperative(&ppt, &next);
            let round2 = assign_cooperative(&ppt, &rejoin(&next, &round1.assignment, 2));
            assert_valid(&ppt, &next, &round2.assignment, !round2.pending.is_empty());
        }
    }
}
