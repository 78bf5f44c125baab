//! Consumer groups as a Kafka operator would check them: assignment and
//! rebalances, failover of members and of the coordinator, committed
//! offsets, and the delivery semantics of each commit policy.

mod common;
use common::*;
use kafkasim_engine::*;
use std::collections::{BTreeMap, BTreeSet};

fn group_config(group: &str) -> ConsumerConfig {
    ConsumerConfig {
        group_id: Some(group.into()),
        auto_offset_reset: AutoOffsetReset::Earliest,
        ..ConsumerConfig::default()
    }
}

fn subscribe(c: &mut Cluster, id: u32, config: ConsumerConfig, topic: &str) -> Vec<Event> {
    c.apply(Command::CreateConsumer {
        id: Some(ConsumerId(id)),
        config,
        topics: Some(vec![topic.into()]),
        partitions: None,
    })
    .expect("consumer")
}

/// A small cluster whose offsets topic is easy to reason about.
fn small_cluster() -> Cluster {
    let mut config = ClusterConfig {
        brokers: vec![1, 2, 3],
        ..ClusterConfig::default()
    };
    config.broker.offsets_topic_num_partitions = 3;
    cluster_with(config)
}

/// Which member owns what, from the consumers' own view.
fn owners(c: &Cluster) -> BTreeMap<u32, Vec<String>> {
    c.view()
        .consumers
        .iter()
        .map(|v| {
            (
                v.id.0,
                v.assigned.iter().map(|a| a.tp.to_string()).collect(),
            )
        })
        .collect()
}

fn processed(c: &Cluster, consumer: u32) -> Vec<(String, u64)> {
    c.processed(ConsumerId(consumer))
        .map(|p| (p.tp.to_string(), p.offset))
        .collect()
}

#[test]
fn two_members_split_a_topic_with_the_range_assignor() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(10_000);
    let o = owners(&c);
    // Range over members sorted by member id: consumer-1-1 gets P0,P1; consumer-2-2 gets P2.
    assert_eq!(o[&1], vec!["orders-0", "orders-1"]);
    assert_eq!(o[&2], vec!["orders-2"]);
    let g = &c.view().groups[0];
    assert_eq!(g.group, "billing");
    assert_eq!(g.state, "Stable");
}

#[test]
fn members_consume_every_record_once_and_commit() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(10_000);
    for i in 0..30 {
        produce(&mut c, 1, "orders", &format!("k{i}"), "v");
    }
    c.advance(10_000);
    let mut all: Vec<(String, u64)> = processed(&c, 1);
    all.extend(processed(&c, 2));
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 30, "each record processed once: {all:?}");
    assert_eq!(unique.len(), 30);
    // Auto-commit (5 s) has run: lag is zero everywhere.
    let g = &c.view().groups[0];
    for p in &g.partitions {
        assert_eq!(p.committed, Some(p.high_watermark), "{p:?}");
        assert_eq!(p.lag, Some(0));
    }
}

#[test]
fn a_crashed_member_is_replaced_after_the_session_timeout() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(10_000);
    c.apply(Command::CrashConsumer {
        consumer: ConsumerId(2),
    })
    .unwrap();
    c.advance(40_000);
    assert_eq!(
        owners(&c)[&1],
        vec!["orders-0", "orders-1"],
        "not before 45 s"
    );
    c.advance(10_000);
    assert_eq!(owners(&c)[&1], vec!["orders-0", "orders-1", "orders-2"]);
}

#[test]
fn a_clean_leave_rebalances_at_once() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(10_000);
    c.apply(Command::CloseConsumer {
        consumer: ConsumerId(2),
    })
    .unwrap();
    c.advance(4_000);
    assert_eq!(owners(&c)[&1], vec!["orders-0", "orders-1", "orders-2"]);
}

#[test]
fn extra_members_sit_idle() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 2, 3, TopicConfig::default());
    for id in 1..=3 {
        subscribe(&mut c, id, group_config("billing"), "orders");
    }
    c.advance(10_000);
    let o = owners(&c);
    assert_eq!(o.values().filter(|p| p.is_empty()).count(), 1, "{o:?}");
}

#[test]
fn the_group_survives_its_coordinator_dying() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    for i in 0..10 {
        produce(&mut c, 1, "orders", &format!("k{i}"), "v");
    }
    c.advance(10_000);
    let coordinator = c.view().groups[0].coordinator.expect("coordinator");
    c.apply(Command::CrashBroker {
        broker: BrokerId(coordinator.0),
    })
    .unwrap();
    c.advance(30_000);
    let g = &c.view().groups[0];
    assert_ne!(g.coordinator, Some(coordinator), "moved to the new leader");
    for i in 10..20 {
        produce(&mut c, 1, "orders", &format!("k{i}"), "v");
    }
    c.advance(20_000);
    let got = processed(&c, 1);
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), 20, "nothing skipped: {got:?}");
}

fn all_processed(events: &[Event]) -> Vec<(u32, String, u64, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RecordProcessed {
                consumer,
                tp,
                offset,
                again,
                ..
            } => Some((consumer.0, tp.to_string(), *offset, again.is_some())),
            _ => None,
        })
        .collect()
}

/// Produces `n` keyed records spread over the topic's partitions.
fn produce_n(c: &mut Cluster, from: u32, n: u32, tag: &str) {
    for i in 0..n {
        produce(c, 1, "orders", &format!("{tag}-{}", from + i), "v");
    }
}

#[test]
fn every_group_reads_the_whole_topic_independently() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("shipping"), "orders");
    c.advance(10_000);
    produce_n(&mut c, 0, 12, "k");
    c.advance(10_000);
    assert_eq!(processed(&c, 1).len(), 12);
    assert_eq!(processed(&c, 2).len(), 12);
}

#[test]
fn latest_reset_skips_what_was_written_before_the_group_started() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    produce_n(&mut c, 0, 5, "old");
    c.advance(2_000);
    let config = ConsumerConfig {
        auto_offset_reset: AutoOffsetReset::Latest,
        ..group_config("late")
    };
    let events = {
        let mut ev = subscribe(&mut c, 1, config, "orders");
        ev.extend(c.advance(10_000));
        ev
    };
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::OffsetReset {
            offset: 5,
            policy: AutoOffsetReset::Latest,
            out_of_range: false,
            ..
        }
    )));
    produce_n(&mut c, 5, 3, "new");
    c.advance(5_000);
    let got: Vec<u64> = processed(&c, 1).into_iter().map(|(_, o)| o).collect();
    assert_eq!(got, vec![5, 6, 7]);
}

#[test]
fn no_reset_policy_raises_no_offset_for_partition() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    let config = ConsumerConfig {
        auto_offset_reset: AutoOffsetReset::None,
        ..group_config("strict")
    };
    let mut events = subscribe(&mut c, 1, config, "orders");
    events.extend(c.advance(10_000));
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::ConsumerError { error, .. } if error == "NoOffsetForPartitionException"
    )));
}

#[test]
fn a_restarted_group_resumes_from_its_committed_offsets() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    produce_n(&mut c, 0, 9, "a");
    c.advance(10_000);
    c.apply(Command::CloseConsumer {
        consumer: ConsumerId(1),
    })
    .unwrap();
    c.advance(5_000);
    produce_n(&mut c, 9, 6, "b");
    c.advance(1_000);
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(15_000);
    assert_eq!(processed(&c, 2).len(), 6, "only what came after the commit");
}

#[test]
fn assigned_partitions_need_no_group_membership() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    c.apply(Command::CreateConsumer {
        id: Some(ConsumerId(1)),
        config: group_config("manual"),
        topics: None,
        partitions: Some(vec![TopicPartition::new("orders", 1)]),
    })
    .unwrap();
    c.advance(5_000);
    for i in 0..4 {
        produce_to(&mut c, 1, "orders", i % 3, "v");
    }
    c.advance(10_000);
    let got = processed(&c, 1);
    assert!(got.iter().all(|(tp, _)| tp == "orders-1"), "{got:?}");
    assert_eq!(got.len(), 1);
    let g = &c.view().groups[0];
    assert!(g.members.is_empty(), "no membership: {g:?}");
    let p1 = g.partitions.iter().find(|p| p.tp.partition == 1).unwrap();
    assert_eq!(p1.committed, Some(1), "assign() consumers commit too");
}

#[test]
fn seek_to_beginning_replays_the_partition() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    produce_n(&mut c, 0, 4, "k");
    c.advance(5_000);
    c.apply(Command::SeekConsumer {
        consumer: ConsumerId(1),
        topic: "orders".into(),
        partition: 0,
        to: SeekTo::Beginning,
    })
    .unwrap();
    c.advance(5_000);
    let got: Vec<u64> = processed(&c, 1).into_iter().map(|(_, o)| o).collect();
    assert_eq!(got, vec![0, 1, 2, 3, 0, 1, 2, 3]);
    let err = c
        .apply(Command::SeekConsumer {
            consumer: ConsumerId(1),
            topic: "orders".into(),
            partition: 7,
            to: SeekTo::Offset(0),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn consumption_follows_a_leader_failover_without_gaps_or_repeats() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    produce_n(&mut c, 0, 15, "a");
    c.advance(3_000);
    let leader = c
        .view()
        .topics
        .iter()
        .find(|t| t.name == "orders")
        .unwrap()
        .partitions[0]
        .leader
        .unwrap();
    c.apply(Command::CrashBroker {
        broker: BrokerId(leader.0),
    })
    .unwrap();
    let mut events = c.advance(30_000);
    produce_n(&mut c, 15, 15, "b");
    events.extend(c.advance(20_000));
    let got = processed(&c, 1);
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(got.len(), 30, "{got:?}");
    assert_eq!(unique.len(), 30);
    // Both clients learned where orders-0 moved, and say so.
    let new_leader = c.view().topics[0].partitions[0].leader;
    assert_ne!(new_leader, Some(leader));
    for client in [
        NodeId::Producer(ProducerId(1)),
        NodeId::Consumer(ConsumerId(1)),
    ] {
        let update = events.iter().find_map(|e| match &e.kind {
            EventKind::MetadataUpdated {
                client: who,
                tp,
                leader: to,
                previous,
            } if *who == client && tp.partition == 0 => Some((*to, *previous)),
            _ => None,
        });
        assert_eq!(update, new_leader.map(|b| (b, leader)), "{client}");
    }
}

#[test]
fn a_static_member_restarting_in_time_causes_no_rebalance() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    let with_instance = |i: &str| ConsumerConfig {
        group_instance_id: Some(i.into()),
        ..group_config("billing")
    };
    subscribe(&mut c, 1, with_instance("a"), "orders");
    subscribe(&mut c, 2, with_instance("b"), "orders");
    c.advance(10_000);
    let before = owners(&c);
    c.apply(Command::CrashConsumer {
        consumer: ConsumerId(2),
    })
    .unwrap();
    let mut events = c.advance(20_000);
    c.apply(Command::RestartConsumer {
        consumer: ConsumerId(2),
    })
    .unwrap();
    events.extend(c.advance(60_000));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::GroupRebalancing { .. })),
        "no rebalance"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e.kind, EventKind::StaticMemberRejoined { .. })));
    assert_eq!(owners(&c), before);
}

/// Members with slow processing consume all the time; a third joins.
fn rebalance_with(kind: AssignorKind) -> Vec<Event> {
    let mut c = small_cluster();
    topic(&mut c, "orders", 6, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    let config = ConsumerConfig {
        partition_assignment_strategy: kind.into(),
        processing_ms: 50,
        max_poll_records: 5,
        ..group_config("billing")
    };
    subscribe(&mut c, 1, config.clone(), "orders");
    subscribe(&mut c, 2, config.clone(), "orders");
    c.advance(10_000);
    produce_n(&mut c, 0, 600, "k");
    c.advance(1_000);
    let mut events = subscribe(&mut c, 3, config, "orders");
    for _ in 0..40 {
        events.extend(c.advance(250));
    }
    events
}

/// Records processed by members 1 and 2 between the group leaving Stable
/// and becoming Stable again.
fn processed_during_rebalance(events: &[Event]) -> usize {
    let start = events
        .iter()
        .position(|e| {
            matches!(
                e.kind,
                EventKind::PartitionsRevoked { .. } | EventKind::GroupRebalancing { .. }
            )
        })
        .expect("a rebalance started");
    let end = events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::GroupStable { .. }))
        .expect("it finished");
    all_processed(&events[start..end]).len()
}

#[test]
fn eager_rebalancing_stops_the_group_cooperative_does_not() {
    let eager = rebalance_with(AssignorKind::Range);
    let cooperative = rebalance_with(AssignorKind::CooperativeSticky);
    let stable = |ev: &[Event]| {
        ev.iter()
            .filter(|e| matches!(e.kind, EventKind::GroupStable { .. }))
            .count()
    };
    assert_eq!(stable(&eager), 1, "eager: one rebalance");
    assert_eq!(
        stable(&cooperative),
        2,
        "cooperative: a second round hands over the revoked partitions"
    );
    // Eager members revoke everything before rejoining: nothing is processed
    // from the first revocation until the new assignment.
    let first_revoke = eager
        .iter()
        .position(|e| matches!(&e.kind, EventKind::PartitionsRevoked { partitions, .. } if !partitions.is_empty()))
        .unwrap();
    let stable_at = eager
        .iter()
        .position(|e| matches!(e.kind, EventKind::GroupStable { .. }))
        .unwrap();
    let last_revoke = eager[..stable_at]
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::PartitionsRevoked { .. }))
        .unwrap();
    assert!(first_revoke <= last_revoke);
    assert_eq!(all_processed(&eager[last_revoke..stable_at]).len(), 0);
    assert!(
        processed_during_rebalance(&cooperative) > 0,
        "cooperative members keep consuming"
    );
    // Cooperative: no partition was revoked wholesale.
    let revoked: usize = cooperative
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PartitionsRevoked { partitions, .. } => Some(partitions.len()),
            _ => None,
        })
        .sum();
    assert_eq!(
        revoked, 2,
        "only the partitions that move to the new member"
    );
}

/// One member processes slowly and crashes in the middle of a batch; the
/// other takes over its partition from the committed offset.
fn crash_mid_batch(commit: ManualCommit) -> Cluster {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    let config = ConsumerConfig {
        enable_auto_commit: false,
        manual_commit: commit,
        processing_ms: 100,
        max_poll_records: 10,
        session_timeout_ms: 10_000,
        ..group_config("billing")
    };
    subscribe(&mut c, 1, config.clone(), "orders");
    c.advance(10_000);
    subscribe(&mut c, 2, config, "orders");
    c.advance(10_000);
    produce_n(&mut c, 0, 30, "k");
    c.advance(1_500); // mid-way through the second batch of 10
    let owner = c.view().groups[0].partitions[0].owner.expect("owned").0;
    c.apply(Command::CrashConsumer {
        consumer: ConsumerId(owner),
    })
    .unwrap();
    c.advance(40_000);
    c
}

#[test]
fn commit_after_processing_is_at_least_once() {
    let c = crash_mid_batch(ManualCommit::AfterProcessing);
    let p = &c.view().groups[0].partitions[0];
    assert!(
        !p.duplicated_offsets.is_empty(),
        "re-processed after the crash"
    );
    assert!(p.skipped_offsets.is_empty(), "nothing lost");
    assert_eq!(p.committed, Some(30));
    let dup: usize = c.view().consumers.iter().map(|v| v.duplicates).sum();
    assert_eq!(dup, p.duplicated_offsets.len());
}

#[test]
fn commit_before_processing_is_at_most_once() {
    let c = crash_mid_batch(ManualCommit::BeforeProcessing);
    let p = &c.view().groups[0].partitions[0];
    assert!(p.duplicated_offsets.is_empty(), "never twice");
    assert!(
        !p.skipped_offsets.is_empty(),
        "the crashed batch's rest is lost"
    );
    assert_eq!(p.committed, Some(30));
}

#[test]
fn bad_consumer_commands_are_refused_and_change_nothing() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    let before = c.view();
    let cases = vec![
        (
            Command::CreateConsumer {
                id: None,
                config: ConsumerConfig::default(),
                topics: Some(vec!["orders".into()]),
                partitions: None,
            },
            ErrorCode::InvalidGroupId,
        ),
        (
            Command::CreateConsumer {
                id: None,
                config: group_config("g"),
                topics: Some(vec!["nope".into()]),
                partitions: None,
            },
            ErrorCode::UnknownTopicOrPartition,
        ),
        (
            Command::CreateConsumer {
                id: None,
                config: group_config("g"),
                topics: None,
                partitions: None,
            },
            ErrorCode::InvalidRequest,
        ),
        (
            Command::CreateConsumer {
                id: None,
                config: ConsumerConfig {
                    heartbeat_interval_ms: 50_000,
                    ..group_config("g")
                },
                topics: Some(vec!["orders".into()]),
                partitions: None,
            },
            ErrorCode::InvalidConfig,
        ),
        (
            Command::CrashConsumer {
                consumer: ConsumerId(9),
            },
            ErrorCode::InvalidRequest,
        ),
        (
            Command::CreateTopic {
                name: "__consumer_offsets".into(),
                partitions: Some(1),
                replication_factor: Some(1),
                assignment: None,
                config: TopicConfig::default(),
            },
            ErrorCode::InvalidRequest,
        ),
    ];
    for (cmd, code) in cases {
        let err = c.apply(cmd.clone()).unwrap_err();
        assert_eq!(err.code, code, "{cmd:?}: {err}");
    }
    assert_eq!(c.view(), before);
}

#[test]
fn the_coordinator_is_the_leader_of_the_groups_offsets_partition() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    let g = &c.view().groups[0];
    // abs("billing".hashCode()) % 3
    let expected =
        kafkasim_engine::clients::producer::partitioner::coordinator_partition("billing", 3);
    assert_eq!(g.offsets_partition, expected);
    let leader = c
        .view()
        .topics
        .iter()
        .find(|t| t.name == "__consumer_offsets")
        .unwrap()
        .partitions[expected as usize]
        .leader;
    assert_eq!(g.coordinator, leader);
}

#[test]
fn new_partitions_are_assigned_after_the_leader_sees_them() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 2, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(10_000);
    c.apply(Command::AddPartitions {
        topic: "orders".into(),
        total: 4,
    })
    .unwrap();
    // The leader's metadata refresh (every heartbeat tick here) notices.
    c.advance(15_000);
    let o = owners(&c);
    let all: usize = o.values().map(Vec::len).sum();
    assert_eq!(all, 4, "{o:?}");
}

#[test]
fn a_member_that_crashes_right_after_joining_is_still_expired() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 2, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    // Crash consumer 2 as soon as the group is stable, before any heartbeat.
    let mut crashed = false;
    for _ in 0..200 {
        let events = c.advance(20);
        if events
            .iter()
            .any(|e| matches!(e.kind, EventKind::GroupStable { .. }))
        {
            c.apply(Command::CrashConsumer {
                consumer: ConsumerId(2),
            })
            .unwrap();
            crashed = true;
            break;
        }
    }
    assert!(crashed);
    c.advance(60_000);
    assert_eq!(owners(&c)[&1], vec!["orders-0", "orders-1"]);
}

#[test]
fn commit_now_commits_the_positions_before_auto_commit_would() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    let config = ConsumerConfig {
        auto_commit_interval_ms: 600_000,
        ..group_config("billing")
    };
    subscribe(&mut c, 1, config, "orders");
    c.advance(10_000);
    for i in 0..5 {
        produce(&mut c, 1, "orders", &format!("k{i}"), "v");
    }
    c.advance(2_000);
    assert_eq!(processed(&c, 1).len(), 5);
    let committed = |c: &Cluster| c.view().groups[0].partitions[0].committed;
    assert_eq!(committed(&c), None, "auto-commit is ten minutes away");
    c.apply(Command::CommitConsumer {
        consumer: ConsumerId(1),
    })
    .unwrap();
    c.advance(1_000);
    assert_eq!(committed(&c), Some(5));

    // Without a group.id there is nowhere to commit: Kafka's error, no change.
    c.apply(Command::CreateConsumer {
        id: Some(ConsumerId(2)),
        config: ConsumerConfig {
            group_id: None,
            ..ConsumerConfig::default()
        },
        topics: None,
        partitions: Some(vec![TopicPartition::new("orders", 0)]),
    })
    .unwrap();
    let before = c.view();
    let err = c
        .apply(Command::CommitConsumer {
            consumer: ConsumerId(2),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidGroupId);
    assert_eq!(c.view(), before);
    let err = c
        .apply(Command::CommitConsumer {
            consumer: ConsumerId(9),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn a_paused_member_reads_nothing_but_keeps_its_partitions_until_resumed() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 2, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    c.apply(Command::PauseConsumer {
        consumer: ConsumerId(1),
        pause: true,
    })
    .unwrap();
    for i in 0..6 {
        produce(&mut c, 1, "orders", &format!("k{i}"), "v");
    }
    // Well past session.timeout.ms (45 s) and a few auto-commits: it still
    // polls and heartbeats, so the group keeps it and nothing rebalances.
    c.advance(60_000);
    assert!(processed(&c, 1).is_empty(), "{:?}", processed(&c, 1));
    assert_eq!(owners(&c)[&1], vec!["orders-0", "orders-1"]);
    let me = c
        .view()
        .consumers
        .into_iter()
        .find(|x| x.id.0 == 1)
        .unwrap();
    assert!(me.assigned.iter().all(|a| a.paused));
    c.apply(Command::PauseConsumer {
        consumer: ConsumerId(1),
        pause: false,
    })
    .unwrap();
    c.advance(5_000);
    assert_eq!(processed(&c, 1).len(), 6);
}

#[test]
fn a_slower_application_processes_one_record_per_processing_ms() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 1, 3, TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(10_000);
    c.apply(Command::SetConsumerProcessing {
        consumer: ConsumerId(1),
        processing_ms: 1_000,
    })
    .unwrap();
    for i in 0..5 {
        produce(&mut c, 1, "orders", &format!("k{i}"), "v");
    }
    c.advance(2_600);
    let early = processed(&c, 1).len();
    assert!((1..=3).contains(&early), "{early} processed in 2.6 s");
    c.advance(5_000);
    assert_eq!(processed(&c, 1).len(), 5);
    let e = c
        .apply(Command::SetConsumerProcessing {
            consumer: ConsumerId(1),
            processing_ms: 700_000,
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
}

/// `partition.assignment.strategy` is a list, `[range, cooperative-sticky]`
/// by default: a default member and a cooperative-sticky one share a group
/// (Kafka's upgrade path), the coordinator's vote picking the one protocol
/// both support. With a single assignor for the default this was
/// INCONSISTENT_GROUP_PROTOCOL.
#[test]
fn a_default_member_and_a_cooperative_sticky_one_share_a_group() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 4, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    c.advance(6_000);
    let stable = |events: &[Event]| {
        events.iter().rev().find_map(|e| match &e.kind {
            EventKind::GroupStable { protocol, .. } => Some(*protocol),
            _ => None,
        })
    };
    let coop = ConsumerConfig {
        partition_assignment_strategy: AssignorKind::CooperativeSticky.into(),
        ..group_config("billing")
    };
    let mut events = subscribe(&mut c, 2, coop, "orders");
    events.extend(c.advance(10_000));
    assert!(
        !events.iter().any(|e| matches!(
            &e.kind,
            EventKind::ConsumerError { error, .. } if error == "INCONSISTENT_GROUP_PROTOCOL"
        )),
        "both are members"
    );
    assert_eq!(stable(&events), Some(AssignorKind::CooperativeSticky));
    let g = &c.view().groups[0];
    assert_eq!(g.protocol, AssignorKind::CooperativeSticky);
    assert_eq!(g.members.len(), 2);
    // A member supporting only range cannot join a group that needs
    // cooperative-sticky.
    let range_only = ConsumerConfig {
        partition_assignment_strategy: AssignorKind::Range.into(),
        ..group_config("billing")
    };
    let events = {
        let mut e = subscribe(&mut c, 3, range_only, "orders");
        e.extend(c.advance(5_000));
        e
    };
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::ConsumerError { error, .. } if error == "INCONSISTENT_GROUP_PROTOCOL"
    )));
}
