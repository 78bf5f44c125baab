//! Replication scenarios, each checked the way a Kafka operator would.

mod common;
use common::*;
use kafkasim_engine::*;

#[test]
fn my_topic_matches_the_seed_document() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    let v = c.view();
    let t = &v.topics[0];
    assert_eq!(t.partitions[0].leader, Some(BrokerId(1)));
    assert_eq!(t.partitions[1].leader, Some(BrokerId(2)));
    assert_eq!(t.partitions[2].leader, Some(BrokerId(1)));
    for p in &t.partitions {
        assert_eq!(p.isr.len(), 2, "{p:?}");
    }
}

#[test]
fn records_replicate_and_the_high_watermark_follows() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    producer(&mut c, 1, Acks::All);
    for i in 0..5 {
        produce_to(&mut c, 1, "MyTopic", 0, &format!("v{i}"));
    }
    let events = c.advance(2_000);
    let acks = events_of(&events, |k| {
        matches!(k, EventKind::ProduceAcknowledged { .. })
    });
    assert!(!acks.is_empty(), "no ack in {events:#?}");
    let p0 = partition(&c, "MyTopic", 0);
    assert_eq!(p0.log_end_offset, 5);
    assert_eq!(p0.high_watermark, 5);
    let follower = c
        .replica_log(BrokerId(2), &TopicPartition::new("MyTopic", 0))
        .unwrap();
    assert_eq!(follower.log_end_offset(), 5);
}

#[test]
fn a_cut_off_follower_leaves_the_isr_only_after_replica_lag_time_max_ms() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic_with(&mut c, "t", &[&[1, 2]], TopicConfig::default());
    producer_with(
        &mut c,
        1,
        ProducerConfig {
            acks: Acks::Leader,
            enable_idempotence: Some(false),
            ..ProducerConfig::default()
        },
    );
    let cut_at = c.now().0;
    c.apply(Command::PartitionNetwork {
        a: NodeId::Broker(BrokerId(1)),
        b: NodeId::Broker(BrokerId(2)),
    })
    .unwrap();
    let mut shrunk_at = None;
    for i in 0..20 {
        produce_to(&mut c, 1, "t", 0, &format!("v{i}"));
        let events = c.advance(3_000);
        if let Some(e) = events
            .iter()
            .find(|e| matches!(e.kind, EventKind::IsrShrunk { .. }))
        {
            shrunk_at = Some(e.time.0);
            break;
        }
    }
    let after = shrunk_at.expect("the follower left the ISR") - cut_at;
    // Caught up for the last time at the cut; the leader checks every 15 s.
    assert!(
        (30_000..=46_000).contains(&after),
        "left the ISR {after} ms after the cut"
    );
    assert_eq!(partition(&c, "t", 0).isr, b(&[1]));
}

#[test]
fn a_crashed_follower_leaves_the_isr_when_its_zookeeper_session_expires() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic_with(&mut c, "t", &[&[3, 2]], TopicConfig::default());
    // Make sure broker 2 is not the controller, so the controller itself notices.
    let controller = c.view().active_controller;
    let victim = if controller == Some(NodeId::Broker(BrokerId(2))) {
        3
    } else {
        2
    };
    let crash_at = c.now().0;
    crash(&mut c, victim);
    let e = run_until(&mut c, 60_000, |e| {
        matches!(
            e.kind,
            EventKind::IsrShrunk { .. } | EventKind::LeaderElected { .. }
        )
    })
    .expect("the controller reacts");
    let after = e.time.0 - crash_at;
    assert!(
        (18_000..=18_100).contains(&after),
        "reacted {after} ms after the crash"
    );
}

#[test]
fn a_restarted_follower_catches_up_and_rejoins_the_isr() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    producer(&mut c, 1, Acks::All);
    crash(&mut c, 2);
    c.advance(30_000);
    for i in 0..20 {
        produce_to(&mut c, 1, "MyTopic", 0, &format!("v{i}"));
    }
    c.advance(2_000);
    assert_eq!(partition(&c, "MyTopic", 0).isr, b(&[1]));
    restart(&mut c, 2);
    let events = c.advance(10_000);
    assert!(!events_of(&events, |k| matches!(k, EventKind::IsrExpanded { .. })).is_empty());
    assert_eq!(partition(&c, "MyTopic", 0).isr, b(&[1, 2]));
    assert_eq!(values_on(&c, 2, "MyTopic", 0).len(), 20);
    // Restarting does not hand leadership back at once: that waits for the
    // periodic preferred-leader election.
    assert_eq!(partition(&c, "MyTopic", 1).leader, Some(BrokerId(1)));
    c.advance(300_000);
    assert_eq!(
        partition(&c, "MyTopic", 1).leader,
        Some(BrokerId(2)),
        "auto.leader.rebalance.enable"
    );
}

#[test]
fn graceful_shutdown_moves_leadership_at_once() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    c.apply(Command::ShutdownBroker {
        broker: BrokerId(1),
    })
    .unwrap();
    // No session timeout to wait for: the controller moved P0 and P2 already.
    assert_eq!(partition(&c, "MyTopic", 0).leader, Some(BrokerId(2)));
    assert_eq!(partition(&c, "MyTopic", 2).leader, Some(BrokerId(2)));
    assert_eq!(partition(&c, "MyTopic", 0).isr, b(&[2]));
}

#[test]
fn a_new_broker_takes_a_reassigned_partition_without_failing_a_produce() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    producer(&mut c, 1, Acks::All);
    let mut events = Vec::new();
    for i in 0..10 {
        produce_to(&mut c, 1, "MyTopic", 0, &format!("before-{i}"));
    }
    events.extend(c.advance(1_000));
    c.apply(Command::AddBroker {
        id: Some(BrokerId(3)),
    })
    .unwrap();
    events.extend(c.advance(1_000));
    c.apply(Command::ReassignPartition {
        topic: "MyTopic".into(),
        partition: 0,
        replicas: vec![3, 2],
    })
    .unwrap();
    for i in 0..30 {
        produce_to(&mut c, 1, "MyTopic", 0, &format!("during-{i}"));
        events.extend(c.advance(200));
    }
    events.extend(c.advance(5_000));
    let p0 = partition(&c, "MyTopic", 0);
    assert_eq!(p0.replicas, b(&[3, 2]));
    // Kafka's reassignment election: the first live in-sync replica of the target.
    assert_eq!(
        p0.leader,
        Some(BrokerId(3)),
        "the old leader left the replica set"
    );
    assert!(events_of(&events, |k| matches!(k, EventKind::ProduceFailed { .. })).is_empty());
    assert!(lost(&events).is_empty());
    assert_eq!(values_on(&c, 3, "MyTopic", 0).len(), 40);
    assert!(
        values_on(&c, 1, "MyTopic", 0).is_empty(),
        "broker 1 deleted its replica"
    );
}

/// The view counts down replica.lag.time.max.ms for a follower that fell
/// behind, so the UI can show when the ISR will shrink.
#[test]
fn the_view_counts_down_to_a_lagging_follower_leaving_the_isr() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    topic_with(&mut c, "orders", &[&[1, 2]], TopicConfig::default());
    producer(&mut c, 1, Acks::Leader);
    c.advance(1_000);
    let timer = |c: &Cluster| {
        c.view()
            .brokers
            .iter()
            .find(|b| b.id == BrokerId(2))
            .and_then(|b| b.replicas.iter().find(|r| &*r.tp.topic == "orders"))
            .and_then(|r| r.isr_expires_in)
    };
    // Ordinary replication: the follower is a fetch behind for a moment,
    // and no countdown shows.
    produce_to(&mut c, 1, "orders", 0, "replicated at once");
    for _ in 0..20 {
        c.advance(1);
        assert_eq!(timer(&c), None, "at {}", c.now().0);
    }
    crash(&mut c, 2);
    produce_to(&mut c, 1, "orders", 0, "while 2 is down");
    c.advance(1_000);
    let first = timer(&c).expect("broker 2 is behind and still in the ISR");
    assert!(first <= 30_000 && first > 25_000, "{first}");
    c.advance(10_000);
    let later = timer(&c).expect("still counting");
    assert_eq!(first - later, 10_000, "it counts virtual time");
    c.advance(25_000);
    assert_eq!(
        partition(&c, "orders", 0).isr,
        b(&[1]),
        "dropped when it ran out"
    );
    assert_eq!(timer(&c), None, "no timer once out of the ISR");
}

/// A follower's fetch waits at its leader (replica.fetch.wait.max.ms); when
/// that leader dies, the connection drops and the follower is free to fetch
/// elsewhere. It used to wait out replica.socket.timeout.ms (30 s), so after
/// the old leader came back and took its preferred partitions again, the
/// new follower fetched nothing and showed an ISR countdown for half a
/// minute though it was fully caught up.
#[test]
fn a_follower_fetches_from_a_new_leader_at_once_after_its_old_one_died() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    producer(&mut c, 1, Acks::All);
    for p in 0..3 {
        produce_to(&mut c, 1, "MyTopic", p, "before");
    }
    c.advance(2_000);
    crash(&mut c, 1);
    c.advance(20_000);
    assert_eq!(partition(&c, "MyTopic", 0).leader, Some(BrokerId(2)));
    restart(&mut c, 1);
    c.advance(5_000);
    assert_eq!(
        partition(&c, "MyTopic", 0).isr.len(),
        2,
        "broker 1 is back in sync"
    );
    c.apply(Command::ElectPreferredLeaders { topic: None })
        .unwrap();
    c.advance(2_000);
    assert_eq!(partition(&c, "MyTopic", 0).leader, Some(BrokerId(1)));
    let countdowns: Vec<_> = c
        .view()
        .brokers
        .iter()
        .flat_map(|b| {
            b.replicas
                .iter()
                .filter_map(move |r| r.isr_expires_in.map(|t| (b.id, r.tp.clone(), t)))
        })
        .collect();
    assert!(countdowns.is_empty(), "{countdowns:?}");
    // And it really replicates: a new record reaches broker 2 at once.
    produce_to(&mut c, 1, "MyTopic", 0, "after");
    c.advance(1_000);
    assert_eq!(values_on(&c, 2, "MyTopic", 0), vec!["before", "after"]);
}
