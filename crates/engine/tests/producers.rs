//! Producer scenarios: the partitioner's settings and rules, and how
//! `enable.idempotence` is resolved against `acks`.

mod common;
use common::*;
use kafkasim_engine::clients::producer::partitioner::{KeyRule, PartitionerKind};
use kafkasim_engine::*;

fn produced_partitions(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RecordProduced { tp, .. } => Some(tp.partition),
            _ => None,
        })
        .collect()
}

fn send_keyless(c: &mut Cluster, n: usize) -> Vec<u32> {
    let mut events = Vec::new();
    for i in 0..n {
        let produced = c
            .apply(Command::Produce {
                producer: ProducerId(1),
                topic: "clicks".into(),
                key: None,
                value: format!("click {i:04}").into(),
                partition: None,
            })
            .expect("produce");
        events.extend(produced);
        c.advance(10);
    }
    produced_partitions(&events)
}

/// The sticky partitioner switches partition once about `batch.size` bytes
/// went to one: with the default 16384, twenty small records share one
/// partition; with 200 bytes, they move on every few records.
#[test]
fn batch_size_sets_where_the_sticky_partitioner_moves_on() {
    for (batch_size, expect_switch) in [(16_384, false), (200, true)] {
        let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
        topic(&mut c, "clicks", 6, 1, TopicConfig::default());
        let config = ProducerConfig {
            batch_size,
            ..ProducerConfig::default()
        };
        producer_with(&mut c, 1, config);
        let partitions = send_keyless(&mut c, 20);
        let first = partitions[0];
        let switched = partitions.iter().any(|p| *p != first);
        assert_eq!(
            switched, expect_switch,
            "batch.size={batch_size}: {partitions:?}"
        );
    }
}

/// Reconfiguring `batch.size` takes effect for the next records.
#[test]
fn a_reconfigured_batch_size_applies_to_the_next_records() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic(&mut c, "clicks", 6, 1, TopicConfig::default());
    producer_with(&mut c, 1, ProducerConfig::default());
    let before = send_keyless(&mut c, 10);
    assert!(before.iter().all(|p| *p == before[0]), "{before:?}");
    c.apply(Command::ConfigureProducer {
        producer: ProducerId(1),
        config: ProducerConfig {
            batch_size: 100,
            ..ProducerConfig::default()
        },
    })
    .expect("configure");
    let after = send_keyless(&mut c, 20);
    assert!(after.iter().any(|p| *p != after[0]), "{after:?}");
}

/// A partitioner that names a partition the topic lacks makes `send` fail,
/// as the Java producer does; nothing is queued.
#[test]
fn a_custom_rule_for_a_missing_partition_fails_the_send_and_changes_nothing() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic(&mut c, "orders", 3, 1, TopicConfig::default());
    let rules = vec![
        KeyRule {
            key: "vip".into(),
            partition: 2,
        },
        KeyRule {
            key: "ghost".into(),
            partition: 7,
        },
    ];
    let config = ProducerConfig {
        partitioner: PartitionerKind::Custom { rules },
        ..ProducerConfig::default()
    };
    producer_with(&mut c, 1, config);
    produce(&mut c, 1, "orders", "vip", "a");
    let before = c.view().producers[0].sent;
    let err = c
        .apply(Command::Produce {
            producer: ProducerId(1),
            topic: "orders".into(),
            key: Some("ghost".into()),
            value: "b".into(),
            partition: None,
        })
        .expect_err("no partition 7");
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(
        err.message.contains("7 is not in the range [0...3)"),
        "{}",
        err.message
    );
    assert_eq!(c.view().producers[0].sent, before, "nothing was sent");
    let events = c.advance(1_000);
    let appended: Vec<_> = events_of(&events, |k| matches!(k, EventKind::RecordsAppended { .. }));
    assert_eq!(appended.len(), 1, "only the vip record, to partition 2");
}

/// Left unset, `enable.idempotence` follows `acks` (Kafka 3.2+); set to
/// true explicitly, it conflicts with `acks=1` and is refused.
#[test]
fn idempotence_left_unset_follows_acks_and_set_explicitly_must_agree() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    let unset = |acks| ProducerConfig {
        acks,
        ..ProducerConfig::default()
    };
    producer_with(&mut c, 1, unset(Acks::Leader));
    assert!(!c.view().producers[0].idempotent, "acks=1: quietly off");
    c.apply(Command::ConfigureProducer {
        producer: ProducerId(1),
        config: unset(Acks::All),
    })
    .expect("acks=all");
    assert!(c.view().producers[0].idempotent, "acks=all: on again");

    let explicit = ProducerConfig {
        acks: Acks::Leader,
        enable_idempotence: Some(true),
        ..ProducerConfig::default()
    };
    let err = c
        .apply(Command::ConfigureProducer {
            producer: ProducerId(1),
            config: explicit,
        })
        .expect_err("conflict");
    assert_eq!(err.code, ErrorCode::InvalidConfig);
    assert!(
        c.view().producers[0].idempotent,
        "the producer is as it was"
    );
    assert_eq!(c.view().producers[0].acks, Acks::All);

    let no_retries = ProducerConfig {
        enable_idempotence: Some(true),
        retries: 0,
        ..ProducerConfig::default()
    };
    let err = c
        .apply(Command::CreateProducer {
            id: Some(ProducerId(2)),
            config: no_retries,
        })
        .expect_err("retries=0");
    assert_eq!(err.code, ErrorCode::InvalidConfig);
}

/// A send that cannot complete fails once `delivery.timeout.ms` has passed
/// since its batch was created, whatever its retries (Kafka's
/// `ProducerBatch.hasReachedDeliveryTimeout`): here the only in-sync
/// replica crashed with unclean election off, so the partition has no
/// leader and the producer waits on metadata. Before this was modelled the
/// record stayed "in flight" for ever.
#[test]
fn a_record_for_a_partition_without_a_leader_expires_after_delivery_timeout() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    topic_with(&mut c, "orders", &[&[1]], TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    advance(&mut c, 1_000);
    crash(&mut c, 1);
    advance(&mut c, 30_000);
    assert_eq!(partition(&c, "orders", 0).leader, None, "offline");
    let sent_at = c.now().0;
    produce_to(&mut c, 1, "orders", 0, "stuck");
    let failed = run_until(&mut c, 130_000, |e| {
        matches!(e.kind, EventKind::ProduceFailed { .. })
    })
    .expect("the record expires");
    let EventKind::ProduceFailed {
        error,
        message,
        records,
        ..
    } = &failed.kind
    else {
        unreachable!()
    };
    assert_eq!(*error, ErrorCode::RequestTimedOut);
    assert_eq!(records.len(), 1);
    let waited = failed.time.0 - sent_at;
    assert_eq!(waited, 120_000, "delivery.timeout.ms after the send");
    assert_eq!(
        message.as_deref(),
        Some("Expiring 1 record(s) for orders-0:120000 ms has passed since batch creation")
    );
    let p = &c.view().producers[0];
    assert_eq!((p.failed, p.in_flight, p.acknowledged), (1, 0, 0));
    assert!(c.view().lost.is_empty(), "never acknowledged, so not lost");
}

/// A batch sent and retried against a leader that never answers in time
/// expires at `delivery.timeout.ms` too, even with retries left.
#[test]
fn a_batch_retried_past_delivery_timeout_fails_with_kafka_s_message() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    topic_with(&mut c, "orders", &[&[1, 2]], TopicConfig::default());
    producer_with(
        &mut c,
        1,
        ProducerConfig {
            delivery_timeout_ms: 40_000,
            request_timeout_ms: 10_000,
            ..ProducerConfig::default()
        },
    );
    advance(&mut c, 1_000);
    // Cut the producer off from both brokers: every attempt times out.
    for b in [1, 2] {
        c.apply(Command::PartitionNetwork {
            a: NodeId::Producer(ProducerId(1)),
            b: NodeId::Broker(BrokerId(b)),
        })
        .unwrap();
    }
    let sent_at = c.now().0;
    produce_to(&mut c, 1, "orders", 0, "cut off");
    let failed = run_until(&mut c, 60_000, |e| {
        matches!(e.kind, EventKind::ProduceFailed { .. })
    })
    .expect("the batch expires");
    assert_eq!(failed.time.0 - sent_at, 40_000);
    let EventKind::ProduceFailed { error, message, .. } = &failed.kind else {
        unreachable!()
    };
    assert_eq!(*error, ErrorCode::RequestTimedOut);
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.ends_with("40000 ms has passed since batch creation")),
        "{message:?}"
    );
}

/// Six `clicks` partitions on three brokers and a producer with this
/// `batch.size`, settled.
fn clicks_with_batch_size(batch_size: u32) -> Cluster {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic(&mut c, "clicks", 6, 1, TopicConfig::default());
    producer_with(
        &mut c,
        1,
        ProducerConfig {
            batch_size,
            ..ProducerConfig::default()
        },
    );
    advance(&mut c, 1_000);
    c
}

fn keyless_burst(c: &mut Cluster, n: usize) -> Vec<u32> {
    let mut events = Vec::new();
    for i in 0..n {
        events.extend(
            c.apply(Command::Produce {
                producer: ProducerId(1),
                topic: "clicks".into(),
                key: None,
                value: format!("click {i:04}").into(),
                partition: None,
            })
            .expect("produce"),
        );
    }
    produced_partitions(&events)
}

/// KIP-794: a burst of keyless records appended while their batches are
/// still queued stays on one partition up to 2 × batch.size (Kafka's
/// `BuiltInPartitioner.updatePartitionInfo` with the switch disabled by an
/// incomplete batch); counted as value + 70 bytes, the old rule moved on
/// after 13 records of this burst.
#[test]
fn a_burst_of_keyless_records_stays_on_one_partition_while_its_batch_fills() {
    let mut c = clicks_with_batch_size(1_024);
    // 100 records of 17 bytes in batches of 61 + 56 × 17: about 1.9 KB.
    let partitions = keyless_burst(&mut c, 100);
    assert!(
        partitions.iter().all(|p| *p == partitions[0]),
        "{partitions:?}"
    );
    // Past 2 × batch.size it moves on even with a batch still filling.
    let more = keyless_burst(&mut c, 40);
    assert!(more.iter().any(|p| *p != partitions[0]), "{more:?}");
}

/// Records sent far apart, each batch sent before the next record, move on
/// after batch.size bytes: each opens its own batch (61 bytes of header plus
/// 17 of record), so 14 records make 1 092 ≥ 1 024 and the 15th is placed
/// anew.
#[test]
fn spaced_keyless_records_move_on_after_batch_size_bytes_of_batches() {
    let mut c = clicks_with_batch_size(1_024);
    let partitions = send_keyless(&mut c, 100);
    assert!(
        partitions[..14].iter().all(|p| *p == partitions[0]),
        "{partitions:?}"
    );
    let mut distinct = partitions.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        distinct.len() >= 3,
        "moves on about every 14 records: {partitions:?}"
    );
}

/// An idempotent producer keeps its order across a failover: batches that
/// failed at the old leader go back in front, in sequence order, and only
/// the first is sent until it completes, so the new leader never appends a
/// later sequence before an earlier one. Before this, the new leader
/// appended the batches sent after the failover first.
#[test]
fn an_idempotent_producer_s_records_keep_their_order_across_a_failover() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic_with(&mut c, "orders", &[&[1, 2, 3]], TopicConfig::default());
    producer(&mut c, 1, Acks::All);
    advance(&mut c, 1_000);
    // Slow the leader's followers so that what it takes is not yet
    // replicated when it crashes.
    for f in [2, 3] {
        c.apply(Command::SetLinkLatency {
            a: NodeId::Broker(BrokerId(1)),
            b: NodeId::Broker(BrokerId(f)),
            latency_ms: 400,
        })
        .unwrap();
    }
    for i in 0..40 {
        produce_to(&mut c, 1, "orders", 0, &format!("v{i:02}"));
        advance(&mut c, 5);
        if i == 10 {
            crash(&mut c, 1);
        }
    }
    advance(&mut c, 60_000);
    let leader = partition(&c, "orders", 0).leader.expect("a new leader").0;
    let values = values_on(&c, leader, "orders", 0);
    let mut sorted = values.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(values, sorted, "in the order sent, each once");
    assert_eq!(values.len(), 40, "{values:?}");
    kafkasim_engine::audit::invariants::idempotent_records_in_order(&c).unwrap();
}

/// `max.in.flight.requests.per.connection` counts a broker connection's
/// unanswered requests, whatever their partitions: with 2, records for four
/// partitions led by one broker go out two requests at a time.
#[test]
fn max_in_flight_requests_counts_per_broker_connection() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    topic_with(
        &mut c,
        "orders",
        &[&[1], &[1], &[1], &[1]],
        TopicConfig::default(),
    );
    producer_with(
        &mut c,
        1,
        ProducerConfig {
            max_in_flight_requests_per_connection: 2,
            ..ProducerConfig::default()
        },
    );
    advance(&mut c, 1_000);
    for p in 0..4 {
        produce_to(&mut c, 1, "orders", p, "v");
    }
    let in_flight = |c: &Cluster| {
        c.view()
            .in_flight
            .iter()
            .filter(|m| matches!(m.body, kafkasim_engine::network::Body::Produce(_)))
            .count()
    };
    let mut most = 0;
    for _ in 0..40 {
        c.advance(1);
        most = most.max(in_flight(&c));
    }
    assert_eq!(most, 2, "two requests at a time on broker 1's connection");
    assert_eq!(c.view().producers[0].acknowledged, 4, "all four, in turn");
    // Idempotence needs at most 5: set explicitly, more is refused.
    let refused = c.apply(Command::CreateProducer {
        id: Some(ProducerId(2)),
        config: ProducerConfig {
            enable_idempotence: Some(true),
            max_in_flight_requests_per_connection: 6,
            ..ProducerConfig::default()
        },
    });
    assert_eq!(refused.unwrap_err().code, ErrorCode::InvalidConfig);
    // Left unset, more than 5 turns idempotence off, as Kafka 3.2+ does.
    let quiet = ProducerConfig {
        max_in_flight_requests_per_connection: 6,
        ..ProducerConfig::default()
    };
    assert!(!quiet.idempotent());
}
