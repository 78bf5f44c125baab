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
        id: Some(id),
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
    c.view()
        .consumers
        .iter()
        .find(|v| v.id.0 == consumer)
        .map(|v| {
            v.processed
                .iter()
                .map(|p| (p.tp.to_string(), p.offset))
                .collect()
        })
        .unwrap_or_default()
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
    c.apply(Command::CrashConsumer { consumer: 2 }).unwrap();
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
    c.apply(Command::CloseConsumer { consumer: 2 }).unwrap();
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
        broker: coordinator.0,
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

#[test]
#[ignore]
fn debug_leave() {
    let mut c = small_cluster();
    topic(&mut c, "orders", 3, 3, TopicConfig::default());
    subscribe(&mut c, 1, group_config("billing"), "orders");
    subscribe(&mut c, 2, group_config("billing"), "orders");
    c.advance(10_000);
    c.apply(Command::CloseConsumer { consumer: 2 }).unwrap();
    for e in c.advance(8_000) {
        if let EventKind::MessageSent(m) = &e.kind {
            if m.body.name().contains("Fetch") || m.body.name().contains("Metadata") {
                continue;
            }
            println!("{} {} -> {} {:?}", e.time.0, m.from, m.to, m.body);
        } else if let Some(d) = e.kind.describe() {
            println!("{} {d}", e.time.0);
        }
    }
}
