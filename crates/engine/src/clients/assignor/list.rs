//! `partition.assignment.strategy` is a list: the assignors a consumer
//! supports, in its order of preference. Kafka's default is
//! `[range, cooperative-sticky]`. The group coordinator picks a protocol
//! every member supports by the members' vote (`selectProtocol`), and a
//! consumer rebalances cooperatively only when every assignor in its list
//! is cooperative.

use super::AssignorKind;
use crate::clients::producer::partitioner::java_string_hashcode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;

/// A consumer's assignors, most preferred first; never empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssignorList(Vec<AssignorKind>);

impl Default for AssignorList {
    /// Kafka's default since 3.0: `RangeAssignor, CooperativeStickyAssignor`.
    fn default() -> Self {
        AssignorList(vec![AssignorKind::Range, AssignorKind::CooperativeSticky])
    }
}

impl From<AssignorKind> for AssignorList {
    fn from(kind: AssignorKind) -> Self {
        AssignorList(vec![kind])
    }
}

impl AssignorList {
    /// Parses one name or a comma-separated list of protocol or Java class
    /// names (`"range, cooperative-sticky"`), as Kafka's config does.
    pub fn parse(s: &str) -> Option<AssignorList> {
        let kinds: Option<Vec<AssignorKind>> = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(AssignorKind::parse)
            .collect();
        let mut kinds = kinds.filter(|k| !k.is_empty())?;
        let mut seen = BTreeSet::new();
        kinds.retain(|k| seen.insert(*k));
        Some(AssignorList(kinds))
    }

    /// The assignors, most preferred first.
    pub fn kinds(&self) -> &[AssignorKind] {
        &self.0
    }

    pub fn supports(&self, kind: AssignorKind) -> bool {
        self.0.contains(&kind)
    }

    /// Kafka's `ConsumerCoordinator` rebalance protocol: the most advanced
    /// one every assignor in the list supports, so cooperative only when
    /// all of them are.
    pub fn is_cooperative(&self) -> bool {
        self.0.iter().all(|k| k.is_cooperative())
    }

    /// As the config is written: `range, cooperative-sticky`.
    pub fn name(&self) -> String {
        self.0
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The member's vote among the group's candidate protocols: its most
    /// preferred one that every member supports (`MemberMetadata.vote`).
    fn vote(&self, candidates: &[AssignorKind]) -> Option<AssignorKind> {
        self.0.iter().copied().find(|k| candidates.contains(k))
    }
}

/// Kafka's `ClassicGroup.selectProtocol`: the protocols every member
/// supports are the candidates, each member votes for its favourite among
/// them, and the most votes win. A tie goes to the protocol a Java
/// `HashMap<String, Integer>` lists first (the first maximum of its
/// iteration), emulated here by bucket. `None` when no protocol is common
/// to all.
pub fn select_protocol<'a>(
    members: impl IntoIterator<Item = &'a AssignorList> + Clone,
) -> Option<AssignorKind> {
    let candidates: Vec<AssignorKind> = AssignorKind::ALL
        .into_iter()
        .filter(|k| members.clone().into_iter().all(|m| m.supports(*k)))
        .collect();
    let mut votes: Vec<(AssignorKind, u32)> = Vec::new();
    for m in members {
        let vote = m.vote(&candidates)?;
        match votes.iter_mut().find(|(k, _)| *k == vote) {
            Some((_, n)) => *n += 1,
            None => votes.push((vote, 1)),
        }
    }
    votes.sort_by_key(|(k, _)| java_hash_bucket(k.name()));
    let most = votes.iter().map(|(_, n)| *n).max()?;
    votes.into_iter().find(|(_, n)| *n == most).map(|(k, _)| k)
}

/// A key's bucket in a Java `HashMap` of the default capacity (16): the
/// order it iterates in for the few protocol names (their buckets differ).
fn java_hash_bucket(name: &str) -> u32 {
    let h = java_string_hashcode(name) as u32;
    (h ^ (h >> 16)) & 15
}

impl Serialize for AssignorList {
    /// One assignor as its name, as scenario files have always written it;
    /// several as an array.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(s),
            all => all.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AssignorList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            One(String),
            Many(Vec<String>),
        }
        let text = match Written::deserialize(d)? {
            Written::One(s) => s,
            Written::Many(v) => v.join(","),
        };
        AssignorList::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "partition.assignment.strategy: '{text}' is not a list of range, roundrobin, sticky or cooperative-sticky (or their class names)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssignorKind::*;

    fn list(s: &str) -> AssignorList {
        AssignorList::parse(s).unwrap()
    }

    #[test]
    fn the_default_is_range_then_cooperative_sticky_and_rebalances_eagerly() {
        let d = AssignorList::default();
        assert_eq!(d.kinds(), [Range, CooperativeSticky]);
        assert!(!d.is_cooperative(), "range supports only EAGER");
        assert!(list("cooperative-sticky").is_cooperative());
        assert_eq!(d.name(), "range, cooperative-sticky");
    }

    #[test]
    fn a_list_is_written_as_kafka_writes_it_and_one_name_stays_a_string() {
        assert_eq!(
            list("org.apache.kafka.clients.consumer.CooperativeStickyAssignor, range").kinds(),
            [CooperativeSticky, Range]
        );
        assert_eq!(serde_json::to_string(&list("range")).unwrap(), "\"range\"");
        assert_eq!(
            serde_json::to_string(&AssignorList::default()).unwrap(),
            "[\"range\",\"cooperative-sticky\"]"
        );
        let back: AssignorList = serde_json::from_str("[\"sticky\", \"range\"]").unwrap();
        assert_eq!(back.kinds(), [Sticky, Range]);
        let one: AssignorList = serde_json::from_str("\"roundrobin\"").unwrap();
        assert_eq!(one.kinds(), [RoundRobin]);
        assert!(serde_json::from_str::<AssignorList>("\"fastest\"").is_err());
        assert!(serde_json::from_str::<AssignorList>("[]").is_err());
        assert!(AssignorList::parse(" , ").is_none());
    }

    /// Kafka's upgrade path: default members and a cooperative-sticky one
    /// share cooperative-sticky, the one protocol all support.
    #[test]
    fn the_group_picks_a_protocol_every_member_supports_by_vote() {
        let default = AssignorList::default();
        let coop = list("cooperative-sticky");
        assert_eq!(select_protocol([&default, &default]), Some(Range));
        assert_eq!(select_protocol([&default, &coop]), Some(CooperativeSticky));
        let coop_first = list("cooperative-sticky, range");
        assert_eq!(
            select_protocol([&coop_first, &coop_first, &default]),
            Some(CooperativeSticky),
            "two votes to one"
        );
        // One vote each: a Java HashMap lists "range" (bucket 9) before
        // "cooperative-sticky" (bucket 15).
        assert_eq!(select_protocol([&coop_first, &default]), Some(Range));
        assert_eq!(select_protocol([&list("range"), &coop]), None);
    }
}
