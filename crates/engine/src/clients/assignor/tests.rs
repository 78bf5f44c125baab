//! Kafka's own assignor tests, ported: `RangeAssignorTest`, `RoundRobinAssignorTest`, `AbstractStickyAssignorTest` and friends.

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
    let ppt: BTreeMap<String, u32> = (1..20).map(|i| (numbered("t", i, 20), i as u32)).collect();
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
    let ppt: BTreeMap<String, u32> = (1..15).map(|i| (numbered("t", i, 15), i as u32)).collect();
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
