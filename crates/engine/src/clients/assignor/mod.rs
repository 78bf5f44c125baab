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

// Kafka's assignors iterate Java `HashMap`s; `java.rs` emulates that order
// where it shows. std's hash maps here are only looked up, never iterated
// into a result (the determinism and golden-trace tests hold them to it).
#![allow(clippy::disallowed_types)]

mod general;
mod java;
pub mod list;
mod range;
mod round_robin;
mod sticky;
use general::*;
use java::*;
use range::*;
use round_robin::*;
use sticky::*;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::TopicPartition;
pub use list::{select_protocol, AssignorList};

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

// ---------------------------------------------------------------------------------------------
// RangeAssignor and RoundRobinAssignor
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// AbstractStickyAssignor
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests;
