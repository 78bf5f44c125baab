//! Controller scenarios in both metadata modes: who becomes controller, what
//! happens when it dies, and what stops without a quorum majority.

mod common;
use common::*;
use kafkasim_engine::*;

fn controller_broker(c: &Cluster) -> u32 {
    match c.view().active_controller {
        Some(NodeId::Broker(b)) => b.0,
        other => panic!("expected a broker controller, got {other:?}"),
    }
}

#[test]
fn zookeeper_the_first_broker_to_create_the_controller_node_wins() {
    let c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    let v = c.view();
    assert!(matches!(v.active_controller, Some(NodeId::Broker(_))));
    assert_eq!(v.controller_epoch, 1);
    assert_eq!(v.brokers.iter().filter(|b| b.is_controller).count(), 1);
}

#[test]
fn zookeeper_controller_failover_after_the_session_timeout() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    my_topic_on_three(&mut c);
    let old = controller_broker(&c);
    crash(&mut c, old);
    c.advance(17_000);
    assert_eq!(
        c.view().active_controller,
        Some(NodeId::Broker(BrokerId(old))),
        "ZooKeeper still holds its node"
    );
    let e = run_until(&mut c, 5_000, |e| {
        matches!(e.kind, EventKind::ControllerElected { .. })
    })
    .expect("election");
    let EventKind::ControllerElected { controller, epoch } = e.kind else {
        unreachable!()
    };
    assert_ne!(controller, NodeId::Broker(BrokerId(old)));
    assert_eq!(epoch, 2);
    c.advance(1_000);
    // The new controller also moved the partitions the old one led.
    for p in c.view().topics[0].partitions.iter() {
        assert!(
            p.leader.is_some() && p.leader != Some(BrokerId(old)),
            "{p:?}"
        );
    }
}

#[test]
fn zookeeper_without_a_majority_no_metadata_changes() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    my_topic_on_three(&mut c);
    c.apply(Command::CrashZooKeeper { node: ZkNodeId(1) })
        .unwrap();
    let events = c
        .apply(Command::CrashZooKeeper { node: ZkNodeId(2) })
        .unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e.kind, EventKind::QuorumLost { zookeeper: true })));
    let err = c
        .apply(Command::CreateTopic {
            name: "new".into(),
            partitions: Some(1),
            replication_factor: Some(1),
            assignment: None,
            config: Default::default(),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::RequestTimedOut);
    // A leader dies: nobody can elect a replacement while ZooKeeper is down.
    let leader = partition(&c, "MyTopic", 0).leader.unwrap();
    let controller = controller_broker(&c);
    let victim = if leader.0 != controller {
        leader.0
    } else {
        partition(&c, "MyTopic", 1).leader.unwrap().0
    };
    crash(&mut c, victim);
    let events = c.advance(60_000);
    assert!(events_of(&events, |k| matches!(k, EventKind::LeaderElected { .. })).is_empty());
    // Data still flows through the leaders that are alive; metadata is frozen.
    c.apply(Command::RestartZooKeeper { node: ZkNodeId(2) })
        .unwrap();
    let events = c.advance(30_000);
    assert!(!events_of(&events, |k| matches!(k, EventKind::LeaderElected { .. })).is_empty());
    for p in c.view().topics[0].partitions.iter() {
        assert_ne!(p.leader, Some(BrokerId(victim)));
    }
}

#[test]
fn kraft_a_quorum_elects_an_active_controller_and_fails_over() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Kraft);
    let v = c.view();
    let Some(NodeId::Controller(first)) = v.active_controller else {
        panic!("no active controller: {:?}", v.active_controller)
    };
    let epoch = v.controller_epoch;
    assert!(
        v.brokers.iter().all(|b| b.registered),
        "brokers heartbeat and are unfenced"
    );
    my_topic_on_three(&mut c);
    c.apply(Command::CrashController {
        node: ControllerId(first.0),
    })
    .unwrap();
    let e = run_until(&mut c, 10_000, |e| {
        matches!(e.kind, EventKind::ControllerElected { .. })
    })
    .expect("new leader");
    let EventKind::ControllerElected {
        controller,
        epoch: new_epoch,
    } = e.kind
    else {
        unreachable!()
    };
    assert_ne!(controller, NodeId::Controller(first));
    assert!(new_epoch > epoch);
    // Brokers keep working with the new controller: crash one and see it fenced.
    let leader = partition(&c, "MyTopic", 0).leader.unwrap();
    let crashed_at = c.now().0;
    crash(&mut c, leader.0);
    let fenced = run_until(&mut c, 20_000, |e| {
        matches!(e.kind, EventKind::BrokerFenced { .. })
    })
    .expect("fenced");
    let after = fenced.time.0 - crashed_at;
    // broker.session.timeout.ms (9 s) counts from the last heartbeat, sent up to 2 s before the crash.
    assert!(
        (7_000..=10_100).contains(&after),
        "fenced {after} ms after the crash"
    );
    c.advance(1_000);
    assert_ne!(partition(&c, "MyTopic", 0).leader, Some(leader));
}

#[test]
fn kraft_without_a_majority_there_is_no_active_controller() {
    let mut c = cluster(&[1, 2, 3], MetadataMode::Kraft);
    c.apply(Command::CrashController {
        node: ControllerId(1),
    })
    .unwrap();
    c.apply(Command::CrashController {
        node: ControllerId(2),
    })
    .unwrap();
    c.advance(20_000);
    let err = c
        .apply(Command::ElectPreferredLeaders { topic: None })
        .unwrap_err();
    assert!(
        matches!(
            err.code,
            ErrorCode::RequestTimedOut | ErrorCode::NotController
        ),
        "{err}"
    );
    c.apply(Command::RestartController {
        node: ControllerId(2),
    })
    .unwrap();
    let e = run_until(&mut c, 20_000, |e| {
        matches!(e.kind, EventKind::ControllerElected { .. })
    });
    assert!(e.is_some(), "two of three controllers elect a leader again");
}

#[test]
fn zookeeper_commands_are_refused_in_kraft_mode_and_vice_versa() {
    let mut k = cluster(&[1], MetadataMode::Kraft);
    assert_eq!(
        k.apply(Command::CrashZooKeeper { node: ZkNodeId(1) })
            .unwrap_err()
            .code,
        ErrorCode::InvalidRequest
    );
    let mut z = cluster(&[1], MetadataMode::Zookeeper);
    assert_eq!(
        z.apply(Command::CrashController {
            node: ControllerId(1)
        })
        .unwrap_err()
        .code,
        ErrorCode::InvalidRequest
    );
}

fn my_topic_on_three(c: &mut Cluster) {
    topic_with(
        c,
        "MyTopic",
        &[&[1, 2], &[2, 3], &[3, 1]],
        TopicConfig::default(),
    );
}

/// A partition whose replicas are all down: KRaft refuses to create it
/// (INVALID_REPLICATION_FACTOR), ZooKeeper mode creates it offline and
/// brings it online when one of its brokers registers.
#[test]
fn a_partition_with_no_live_replica_is_refused_by_kraft_and_waits_in_zookeeper_mode() {
    let mut k = cluster(&[1, 2, 3], MetadataMode::Kraft);
    crash(&mut k, 2);
    crash(&mut k, 3);
    k.advance(15_000); // fenced after missing heartbeats
    let e = k
        .apply(Command::CreateTopic {
            name: "late".into(),
            partitions: None,
            replication_factor: None,
            assignment: Some(vec![vec![2, 3]]),
            config: TopicConfig::default(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidReplicationFactor, "{e}");
    assert!(
        k.view().topics.iter().all(|t| t.name != "late"),
        "nothing created"
    );

    let mut z = cluster(&[1, 2, 3], MetadataMode::Zookeeper);
    crash(&mut z, 2);
    crash(&mut z, 3);
    z.advance(30_000); // ZooKeeper sessions expire
    topic_with(&mut z, "late", &[&[2, 3]], TopicConfig::default());
    assert_eq!(
        partition(&z, "late", 0).leader,
        None,
        "offline: no live replica"
    );
    restart(&mut z, 3);
    z.advance(5_000);
    let p = partition(&z, "late", 0);
    assert_eq!(
        p.leader,
        Some(BrokerId(3)),
        "online once broker 3 registers"
    );
    assert_eq!(p.isr, b(&[3]));
}

/// The log says what happened in each mode's own words: in ZooKeeper mode a
/// broker registers in ZooKeeper (before any controller exists), and a
/// controlled shutdown is not a death.
#[test]
fn registration_and_a_clean_shutdown_are_told_in_the_modes_own_words() {
    let texts = |events: &[Event]| -> Vec<String> {
        events.iter().filter_map(|e| e.kind.describe()).collect()
    };
    let config = ClusterConfig {
        brokers: vec![1, 2, 3],
        metadata_mode: MetadataMode::Zookeeper,
        ..ClusterConfig::default()
    };
    let mut c = Cluster::new(config).expect("valid");
    let start = texts(&c.advance(5_000));
    assert!(
        start
            .iter()
            .any(|t| t == "Broker 1 registered in ZooKeeper (/brokers/ids/1)."),
        "{start:#?}"
    );
    let events = c
        .apply(Command::ShutdownBroker {
            broker: BrokerId(2),
        })
        .unwrap();
    let shutdown = texts(&events);
    assert!(
        shutdown
            .iter()
            .any(|t| t.contains("left the live brokers after its controlled shutdown")),
        "{shutdown:#?}"
    );
    assert!(
        !shutdown.iter().any(|t| t.contains("declared dead")),
        "{shutdown:#?}"
    );

    let mut k = cluster(&[1, 2, 3], MetadataMode::Kraft);
    let events = k
        .apply(Command::CrashBroker {
            broker: BrokerId(3),
        })
        .unwrap();
    let mut all = texts(&events);
    all.extend(texts(&k.advance(20_000)));
    assert!(
        all.iter()
            .any(|t| t.starts_with("Broker 3 was declared dead")),
        "{all:#?}"
    );
    k.apply(Command::RestartBroker {
        broker: BrokerId(3),
    })
    .unwrap();
    let back = texts(&k.advance(10_000));
    assert!(
        back.iter()
            .any(|t| t == "Broker 3 registered with the active controller and was unfenced."),
        "{back:#?}"
    );
}

/// A cluster whose controller is broker `controller`'s, with partition 0 of
/// `orders` preferring another broker, `preferred`, which crashes at 1 s
/// and returns at 25 s; the automatic preferred-leader check runs every
/// 60 s. Returns when the controller took over and when the automatic
/// election gave the partition back, and when its leader first moved away.
fn automatic_return(mode: MetadataMode) -> (u64, u64, u64) {
    let mut config = ClusterConfig {
        brokers: vec![1, 2, 3],
        metadata_mode: mode,
        ..ClusterConfig::default()
    };
    config.broker.leader_imbalance_check_interval_seconds = 60;
    let mut c = Cluster::new(config).unwrap();
    let mut events = c.advance(5_000);
    let took_over = events
        .iter()
        .find_map(|e| matches!(e.kind, EventKind::ControllerElected { .. }).then_some(e.time.0))
        .expect("a controller");
    let controller = match c.view().active_controller {
        Some(NodeId::Broker(b)) => b.0,
        _ => 0,
    };
    let preferred = [1, 2, 3].into_iter().find(|b| *b != controller).unwrap();
    let other = [1, 2, 3].into_iter().find(|b| *b != preferred).unwrap();
    topic_with(
        &mut c,
        "orders",
        &[&[preferred, other]],
        TopicConfig::default(),
    );
    events.extend(c.advance(500));
    crash(&mut c, preferred);
    events.extend(c.advance(24_000));
    restart(&mut c, preferred);
    events.extend(c.advance(200_000));
    let moved = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::LeaderElected {
                tp,
                leader: Some(b),
                ..
            } if &*tp.topic == "orders" && b.0 == other => Some(e.time.0),
            _ => None,
        })
        .expect("the leader moved away");
    let back = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::LeaderElected {
                tp,
                leader: Some(b),
                reason,
                ..
            } if &*tp.topic == "orders"
                && b.0 == preferred
                && *reason == kafkasim_engine::broker::partition::ElectionReason::Preferred =>
            {
                Some(e.time.0)
            }
            _ => None,
        })
        .expect("the preferred leader is back");
    (took_over, moved, back)
}

/// ZooKeeper mode (`KafkaController.onControllerFailover`): the first
/// automatic check runs 5 s after a controller takes over, then every
/// `leader.imbalance.check.interval.seconds`. Before, the checks ran on the
/// interval from the cluster's start.
#[test]
fn zookeeper_checks_leader_balance_five_seconds_after_taking_over_then_each_interval() {
    let (took_over, _, back) = automatic_return(MetadataMode::Zookeeper);
    let since = back - took_over;
    assert_eq!(
        since % 60_000,
        5_000,
        "took over at {took_over}, back at {back}"
    );
}

/// KRaft (`QuorumController.maybeScheduleNextBalancePartitionLeaders`): a
/// partition not led by its preferred replica schedules a balance one
/// interval after the change that made it so.
#[test]
fn kraft_balances_leaders_an_interval_after_an_imbalance_appears() {
    let (_, moved, back) = automatic_return(MetadataMode::Kraft);
    assert_eq!(back - moved, 60_000, "moved at {moved}, back at {back}");
}
