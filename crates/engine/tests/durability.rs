//! Durability scenarios: what acks=1, acks=all, min.insync.replicas and
//! unclean leader election do to acknowledged records when brokers fail.

mod common;
use common::*;
use kafkasim_engine::*;

fn acks1() -> ProducerConfig {
    ProducerConfig {
        acks: Acks::Leader,
        enable_idempotence: Some(false),
        ..ProducerConfig::default()
    }
}

/// The only record lost among `events`: its offset, value and reason.
fn the_one_loss(events: &[Event]) -> (Option<u64>, String, String) {
    let lost = lost(events);
    assert_eq!(lost.len(), 1, "{lost:#?}");
    let EventKind::RecordLost {
        offset,
        value,
        reason,
        ..
    } = &lost[0].kind
    else {
        unreachable!()
    };
    (*offset, value.to_string(), reason.clone())
}

/// The follower on P0 sits behind a slow link, so the leader acknowledges
/// acks=1 records long before the follower can copy them.
fn slow_follower_cluster() -> Cluster {
    slow_follower_cluster_with(acks1(), 3)
}

/// The same, with this producer and `early` records replicated first.
fn slow_follower_cluster_with(producer: ProducerConfig, early: usize) -> Cluster {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic_with(&mut c, "orders", &[&[1, 2]], TopicConfig::default());
    producer_with(&mut c, 1, producer);
    for i in 0..early {
        produce_to(&mut c, 1, "orders", 0, &format!("early-{i}"));
    }
    c.advance(2_000);
    c.apply(Command::SetLinkLatency {
        a: NodeId::Broker(BrokerId(1)),
        b: NodeId::Broker(BrokerId(2)),
        latency_ms: 3_000,
    })
    .unwrap();
    c.advance(10_000);
    c
}

#[test]
fn acks_1_and_a_leader_crash_before_replication_lose_the_acknowledged_record() {
    let mut c = slow_follower_cluster();
    produce_to(&mut c, 1, "orders", 0, "doomed");
    let ack = run_until(&mut c, 500, |e| {
        matches!(e.kind, EventKind::ProduceAcknowledged { .. })
    });
    assert!(ack.is_some(), "acks=1 is acknowledged by the leader alone");
    crash(&mut c, 1);
    let events = advance(&mut c, 40_000);
    let p0 = partition(&c, "orders", 0);
    assert_eq!(
        p0.leader,
        Some(BrokerId(2)),
        "the in-sync follower takes over"
    );
    let (offset, value, reason) = the_one_loss(&events);
    assert_eq!((offset, value.as_str()), (Some(3), "doomed"));
    assert!(reason.contains("acks=1"), "{reason}");
    assert_eq!(
        values_on(&c, 2, "orders", 0),
        vec!["early-0", "early-1", "early-2"]
    );
}

#[test]
fn the_returning_leader_truncates_the_lost_record_and_rejoins_the_isr() {
    let mut c = slow_follower_cluster();
    produce_to(&mut c, 1, "orders", 0, "doomed");
    c.advance(100);
    crash(&mut c, 1);
    c.advance(40_000);
    produce_to(&mut c, 1, "orders", 0, "after-failover");
    c.advance(2_000);
    assert_eq!(
        values_on(&c, 1, "orders", 0).last().map(String::as_str),
        Some("doomed")
    );
    restart(&mut c, 1);
    let events = advance(&mut c, 30_000);
    let truncated = events_of(
        &events,
        |k| matches!(k, EventKind::LogTruncated { broker, from_offset: 4, to_offset: 3, .. } if *broker == BrokerId(1)),
    );
    assert_eq!(
        truncated.len(),
        1,
        "broker 1 truncates offset 3 it alone had"
    );
    assert!(
        events_of(
            &events,
            |k| matches!(k, EventKind::IsrExpanded { added, .. } if added == &b(&[1]))
        )
        .len()
            == 1,
        "broker 1 rejoins the ISR once caught up"
    );
    assert_eq!(values_on(&c, 1, "orders", 0), values_on(&c, 2, "orders", 0));
    assert_eq!(partition(&c, "orders", 0).isr, b(&[2, 1]));
}

#[test]
fn acks_all_with_min_isr_2_refuses_writes_instead_of_losing_them() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    let config = TopicConfig {
        min_insync_replicas: Some(2),
        ..TopicConfig::default()
    };
    topic_with(&mut c, "payments", &[&[1, 2, 3]], config);
    producer(&mut c, 1, Acks::All);
    let mut all = Vec::new();
    for round in 0..3 {
        for i in 0..5 {
            produce_to(&mut c, 1, "payments", 0, &format!("r{round}-{i}"));
        }
        all.extend(c.advance(2_000));
        if round < 2 {
            crash(&mut c, 3 - round); // broker 3, then broker 2
            all.extend(c.advance(30_000));
        }
    }
    let p = partition(&c, "payments", 0);
    assert_eq!(p.isr, b(&[1]));
    let refused = events_of(&all, |k| {
        matches!(
            k,
            EventKind::ProduceRetried {
                error: ErrorCode::NotEnoughReplicas,
                ..
            }
        )
    });
    assert!(
        !refused.is_empty(),
        "with ISR [1] < min.insync.replicas 2, acks=all is refused"
    );
    // Now lose the last in-sync replica too: the partition goes offline, nothing is lost.
    crash(&mut c, 1);
    all.extend(c.advance(30_000));
    restart(&mut c, 2);
    all.extend(c.advance(30_000));
    assert_eq!(
        partition(&c, "payments", 0).leader,
        None,
        "a clean election waits for broker 1"
    );
    restart(&mut c, 1);
    all.extend(c.advance(30_000));
    assert_eq!(partition(&c, "payments", 0).leader, Some(BrokerId(1)));
    assert!(lost(&all).is_empty(), "{:#?}", lost(&all));
    let acked = events_of(&all, |k| matches!(k, EventKind::ProduceAcknowledged { .. }));
    assert!(acked.len() >= 2);
}

fn acks0() -> ProducerConfig {
    ProducerConfig {
        acks: Acks::None,
        ..ProducerConfig::default()
    }
}

/// acks=0 completes the send at once, so a record the leader appended and
/// lost in a crash is one the application believed delivered.
#[test]
fn acks_0_and_a_leader_crash_before_replication_lose_a_record_counted_as_sent() {
    let mut c = slow_follower_cluster_with(acks0(), 0);
    produce_to(&mut c, 1, "orders", 0, "unheard");
    let appended = run_until(&mut c, 500, |e| {
        matches!(e.kind, EventKind::RecordsAppended { leader: true, .. })
    });
    assert!(appended.is_some(), "the leader appends it");
    assert_eq!(c.view().acknowledged_total, 1, "counted as sent at once");
    crash(&mut c, 1);
    let events = advance(&mut c, 40_000);
    assert_eq!(partition(&c, "orders", 0).leader, Some(BrokerId(2)));
    let (offset, _, reason) = the_one_loss(&events);
    assert_eq!(offset, Some(0));
    assert!(reason.starts_with("acks=0"), "{reason}");
    assert_eq!(c.view().lost[0].record.acks, Acks::None);
}

/// A fire-and-forget request that meets a dead broker is gone without a
/// word, before the producer has even learnt of the crash.
#[test]
fn acks_0_sent_to_a_crashed_leader_is_lost_without_an_offset() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic_with(&mut c, "orders", &[&[1, 2]], TopicConfig::default());
    producer_with(&mut c, 1, acks0());
    produce_to(&mut c, 1, "orders", 0, "kept");
    c.advance(2_000);
    crash(&mut c, 1);
    produce_to(&mut c, 1, "orders", 0, "into the void");
    let events = advance(&mut c, 1_000);
    let (offset, value, reason) = the_one_loss(&events);
    assert_eq!((offset, value.as_str()), (None, "into the void"));
    assert!(reason.contains("broker 1 was down"), "{reason}");
    let view = c.view();
    assert_eq!(view.acknowledged_total, 2);
    assert_eq!(
        view.lost.len(),
        1,
        "the record that was replicated survives"
    );
    assert_eq!(values_on(&c, 2, "orders", 0), vec!["kept"]);
}

/// Kafka 3.7+ caps `min.insync.replicas` at the replica count
/// (`Partition.effectiveMinIsr`): a topic of RF 2 asking for 3 needs both
/// replicas, and does not refuse every write forever.
#[test]
fn a_min_isr_above_the_replication_factor_asks_for_every_replica() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    let config = TopicConfig {
        min_insync_replicas: Some(3),
        ..TopicConfig::default()
    };
    topic_with(&mut c, "audit", &[&[1, 2]], config);
    producer(&mut c, 1, Acks::All);
    produce_to(&mut c, 1, "audit", 0, "first");
    let events = c.advance(2_000);
    let acked = events_of(&events, |k| {
        matches!(k, EventKind::ProduceAcknowledged { .. })
    });
    assert_eq!(acked.len(), 1, "both replicas in sync: acks=all succeeds");
    assert_eq!(partition(&c, "audit", 0).high_watermark, 1);

    // One replica down: the ISR (1) is below the effective minimum (2).
    crash(&mut c, 2);
    c.advance(40_000);
    assert_eq!(partition(&c, "audit", 0).isr, b(&[1]));
    produce_to(&mut c, 1, "audit", 0, "second");
    let events = c.advance(2_000);
    let refused = events_of(&events, |k| {
        matches!(
            k,
            EventKind::ProduceRetried {
                error: ErrorCode::NotEnoughReplicas,
                ..
            }
        )
    });
    assert!(!refused.is_empty(), "ISR 1 < min(3, RF 2): refused");
}

#[test]
fn unclean_leader_election_trades_the_missing_records_for_availability() {
    for unclean in [false, true] {
        let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
        let config = TopicConfig {
            unclean_leader_election_enable: Some(unclean),
            ..TopicConfig::default()
        };
        topic_with(&mut c, "clicks", &[&[1, 2]], config);
        producer_with(&mut c, 1, acks1());
        c.apply(Command::PartitionNetwork {
            a: NodeId::Broker(BrokerId(1)),
            b: NodeId::Broker(BrokerId(2)),
        })
        .unwrap();
        let mut events = Vec::new();
        for i in 0..8 {
            produce_to(&mut c, 1, "clicks", 0, &format!("c{i}"));
            events.extend(c.advance(6_000));
        }
        assert_eq!(
            partition(&c, "clicks", 0).isr,
            b(&[1]),
            "the cut-off follower left the ISR"
        );
        crash(&mut c, 1);
        c.apply(Command::HealNetwork { a: None, b: None }).unwrap();
        events.extend(c.advance(30_000));
        let p = partition(&c, "clicks", 0);
        if unclean {
            assert_eq!(p.leader, Some(BrokerId(2)));
            let lost = lost(&events);
            assert_eq!(lost.len(), 8, "every record broker 2 never had");
            assert!(
                events_of(&events, |k| matches!(
                    k,
                    EventKind::LeaderElected { unclean: true, .. }
                ))
                .len()
                    == 1
            );
        } else {
            assert_eq!(
                p.leader, None,
                "offline rather than electing an out-of-sync replica"
            );
            assert!(lost(&events).is_empty());
        }
    }
}

#[test]
fn idempotence_makes_a_retry_after_a_lost_acknowledgement_harmless() {
    for idempotent in [true, false] {
        let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
        topic_with(&mut c, "t", &[&[1, 2]], TopicConfig::default());
        let config = ProducerConfig {
            enable_idempotence: Some(idempotent),
            ..ProducerConfig::default()
        };
        producer_with(&mut c, 1, config);
        produce_to(&mut c, 1, "t", 0, "once");
        // Let the request reach the leader, then cut the way back.
        run_until(&mut c, 100, |e| {
            matches!(&e.kind, EventKind::RecordsAppended { leader: true, .. })
        });
        c.apply(Command::PartitionNetwork {
            a: NodeId::Producer(ProducerId(1)),
            b: NodeId::Broker(BrokerId(1)),
        })
        .unwrap();
        c.advance(1_000);
        c.apply(Command::HealNetwork { a: None, b: None }).unwrap();
        let events = c.advance(40_000);
        assert!(events_of(&events, |k| matches!(k, EventKind::ProduceRetried { .. })).len() == 1);
        let values = values_on(&c, 1, "t", 0);
        if idempotent {
            assert_eq!(
                values,
                vec!["once"],
                "the broker recognised the retried sequence"
            );
        } else {
            assert_eq!(
                values,
                vec!["once", "once"],
                "without idempotence the retry duplicates"
            );
        }
    }
}

/// With acks=0 no reply tells the producer about a failover, but a failed
/// send does: a broker that is gone refuses the connection, and one that no
/// longer leads closes it (Kafka's `KafkaApis` for acks=0). Either way the
/// producer refreshes its metadata and follows the new leader.
#[test]
fn an_acks_0_producer_finds_the_new_leader_after_a_failover() {
    for graceful in [false, true] {
        let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
        topic_with(&mut c, "orders", &[&[1, 2]], TopicConfig::default());
        producer_with(&mut c, 1, acks0());
        produce_to(&mut c, 1, "orders", 0, "before");
        c.advance(2_000);
        if graceful {
            c.apply(Command::ShutdownBroker {
                broker: BrokerId(1),
            })
            .unwrap();
            c.advance(5_000);
            restart(&mut c, 1);
        } else {
            crash(&mut c, 1);
        }
        c.advance(40_000);
        assert_eq!(partition(&c, "orders", 0).leader, Some(BrokerId(2)));
        for i in 0..5 {
            produce_to(&mut c, 1, "orders", 0, &format!("after-{i}"));
            c.advance(1_000);
        }
        c.advance(5_000);
        let held = values_on(&c, 2, "orders", 0);
        assert!(
            held.contains(&"after-4".to_string()),
            "graceful={graceful}: {held:?}, lost {:?}",
            c.view().lost.iter().map(|l| &l.reason).collect::<Vec<_>>()
        );
    }
}

/// After an unclean election the new leader's log ends before a consumer's
/// position. The consumer validates its position against the leader's epoch
/// (KIP-320) and moves back to where the logs part, not to
/// `auto.offset.reset`: with `earliest` it used to read the partition again
/// from offset 0. With no reset policy it throws `LogTruncationException`.
#[test]
fn a_consumer_past_a_truncated_log_moves_back_to_where_the_logs_part() {
    for policy in [AutoOffsetReset::Earliest, AutoOffsetReset::None] {
        let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
        let config = TopicConfig {
            unclean_leader_election_enable: Some(true),
            ..TopicConfig::default()
        };
        topic_with(&mut c, "clicks", &[&[1, 2]], config);
        producer_with(&mut c, 1, acks1());
        for i in 0..2 {
            produce_to(&mut c, 1, "clicks", 0, &format!("both-{i}"));
        }
        c.advance(2_000);
        c.apply(Command::CreateConsumer {
            id: Some(ConsumerId(1)),
            config: ConsumerConfig {
                group_id: Some("g".into()),
                auto_offset_reset: policy,
                ..ConsumerConfig::default()
            },
            topics: Some(vec!["clicks".into()]),
            partitions: None,
        })
        .unwrap();
        if policy == AutoOffsetReset::None {
            // No committed offset and no policy: the application seeks.
            c.advance(5_000);
            c.apply(Command::SeekConsumer {
                consumer: ConsumerId(1),
                topic: "clicks".into(),
                partition: 0,
                to: SeekTo::Beginning,
            })
            .unwrap();
        }
        // The group forms while every broker reaches every other.
        c.advance(10_000);
        c.apply(Command::PartitionNetwork {
            a: NodeId::Broker(BrokerId(1)),
            b: NodeId::Broker(BrokerId(2)),
        })
        .unwrap();
        for i in 0..6 {
            produce_to(&mut c, 1, "clicks", 0, &format!("only-1-{i}"));
            c.advance(6_000);
        }
        // Broker 2 leaves the ISR; the high watermark then moves on.
        c.advance(15_000);
        let read: Vec<u64> = c.processed(ConsumerId(1)).map(|p| p.offset).collect();
        assert_eq!(
            read,
            (0..8).collect::<Vec<_>>(),
            "the consumer read all 8 from broker 1"
        );
        crash(&mut c, 1);
        c.apply(Command::HealNetwork { a: None, b: None }).unwrap();
        let mut events = c.advance(30_000);
        assert_eq!(partition(&c, "clicks", 0).leader, Some(BrokerId(2)));
        produce_to(&mut c, 1, "clicks", 0, "after");
        events.extend(c.advance(10_000));
        let read: Vec<u64> = c.processed(ConsumerId(1)).map(|p| p.offset).collect();
        match policy {
            AutoOffsetReset::None => {
                assert_eq!(read.len(), 8, "stuck until the application seeks: {read:?}");
                assert!(events.iter().any(|e| matches!(
                    &e.kind,
                    EventKind::ConsumerError { error, .. } if error == "LogTruncationException"
                )));
            }
            _ => {
                assert_eq!(
                    read[8..],
                    [2],
                    "moves to offset 2, where the logs part: {read:?}"
                );
                assert!(events.iter().any(|e| matches!(
                    &e.kind,
                    EventKind::OffsetReset {
                        offset: 2,
                        out_of_range: true,
                        ..
                    }
                )));
            }
        }
    }
}
