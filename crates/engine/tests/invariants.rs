//! Property tests: random command and fault sequences, with every named
//! invariant checked after every event. A failure prints the seed and the
//! shrunk command sequence that reproduce it.

use kafkasim_engine::audit::invariants::Checker;
use kafkasim_engine::*;
use proptest::prelude::*;

/// One step of a random session: a command, or letting time pass.
#[derive(Debug, Clone)]
enum Op {
    Wait(u64),
    Produce { key: u8, partition: Option<u32> },
    Crash(u32),
    Restart(u32),
    Shutdown(u32),
    Cut(u32, u32),
    Heal,
    Slow(u32, u32, u64),
    CrashQuorum(u32),
    RestartQuorum(u32),
    ElectPreferred,
    CrashConsumer(u32),
    RestartConsumer(u32),
    CloseConsumer(u32),
    CommitConsumer(u32),
    SeekToBeginning(u32, u32),
    CutConsumer(u32, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..8_000).prop_map(Op::Wait),
        6 => (any::<u8>(), prop::option::weighted(0.3, 0u32..2)).prop_map(|(key, partition)| Op::Produce { key, partition }),
        2 => (1u32..=3).prop_map(Op::Crash),
        2 => (1u32..=3).prop_map(Op::Restart),
        1 => (1u32..=3).prop_map(Op::Shutdown),
        1 => (1u32..=3, 1u32..=3).prop_map(|(a, b)| Op::Cut(a, b)),
        1 => Just(Op::Heal),
        1 => (1u32..=3, 1u32..=3, 1u64..3_000).prop_map(|(a, b, l)| Op::Slow(a, b, l)),
        1 => (1u32..=3).prop_map(Op::CrashQuorum),
        1 => (1u32..=3).prop_map(Op::RestartQuorum),
        1 => Just(Op::ElectPreferred),
        1 => (1u32..=3).prop_map(Op::CrashConsumer),
        1 => (1u32..=3).prop_map(Op::RestartConsumer),
        1 => (1u32..=3).prop_map(Op::CloseConsumer),
        1 => (1u32..=3).prop_map(Op::CommitConsumer),
        1 => (1u32..=3, 0u32..2).prop_map(|(c, p)| Op::SeekToBeginning(c, p)),
        1 => (1u32..=3, 1u32..=3).prop_map(|(c, b)| Op::CutConsumer(c, b)),
    ]
}

fn broker(id: u32) -> NodeId {
    NodeId::Broker(BrokerId(id))
}

fn command(op: &Op, mode: MetadataMode) -> Option<Command> {
    Some(match *op {
        Op::Wait(_) => return None,
        Op::Produce { key, partition } => Command::Produce {
            producer: ProducerId(1),
            topic: "t".into(),
            key: Some(format!("k{key}").into()),
            value: format!("v{key}").into(),
            partition,
        },
        Op::Crash(b) => Command::CrashBroker {
            broker: BrokerId(b),
        },
        Op::Restart(b) => Command::RestartBroker {
            broker: BrokerId(b),
        },
        Op::Shutdown(b) => Command::ShutdownBroker {
            broker: BrokerId(b),
        },
        Op::Cut(a, b) => Command::PartitionNetwork {
            a: broker(a),
            b: broker(b),
        },
        Op::Heal => Command::HealNetwork { a: None, b: None },
        Op::Slow(a, b, l) => Command::SetLinkLatency {
            a: broker(a),
            b: broker(b),
            latency_ms: l,
        },
        Op::CrashQuorum(n) => match mode {
            MetadataMode::Zookeeper => Command::CrashZooKeeper { node: ZkNodeId(n) },
            MetadataMode::Kraft => Command::CrashController {
                node: ControllerId(n),
            },
        },
        Op::RestartQuorum(n) => match mode {
            MetadataMode::Zookeeper => Command::RestartZooKeeper { node: ZkNodeId(n) },
            MetadataMode::Kraft => Command::RestartController {
                node: ControllerId(n),
            },
        },
        Op::ElectPreferred => Command::ElectPreferredLeaders { topic: None },
        Op::CrashConsumer(c) => Command::CrashConsumer {
            consumer: ConsumerId(c),
        },
        Op::RestartConsumer(c) => Command::RestartConsumer {
            consumer: ConsumerId(c),
        },
        Op::CloseConsumer(c) => Command::CloseConsumer {
            consumer: ConsumerId(c),
        },
        Op::CommitConsumer(c) => Command::CommitConsumer {
            consumer: ConsumerId(c),
        },
        Op::SeekToBeginning(c, p) => Command::SeekConsumer {
            consumer: ConsumerId(c),
            topic: "t".into(),
            partition: p,
            to: SeekTo::Beginning,
        },
        Op::CutConsumer(c, b) => Command::PartitionNetwork {
            a: NodeId::Consumer(ConsumerId(c)),
            b: broker(b),
        },
    })
}

/// Settings of one random run.
#[derive(Debug, Clone)]
struct Setup {
    seed: u64,
    mode: MetadataMode,
    acks: Acks,
    min_isr: u32,
    unclean: bool,
    assignor: AssignorKind,
    /// None: auto-commit; otherwise where the application commits.
    commit: Option<ManualCommit>,
    processing_ms: u64,
}

impl Setup {
    /// Kafka's durability promise applies: acks=all, min ISR >= 2, clean elections.
    fn promises_durability(&self) -> bool {
        self.acks == Acks::All && self.min_isr >= 2 && !self.unclean
    }
}

fn setup(durable_only: bool) -> impl Strategy<Value = Setup> {
    (
        any::<u64>(),
        prop_oneof![Just(MetadataMode::Zookeeper), Just(MetadataMode::Kraft)],
        prop_oneof![Just(Acks::None), Just(Acks::Leader), Just(Acks::All)],
        1u32..=3,
        any::<bool>(),
        (
            prop_oneof![
                Just(AssignorKind::Range),
                Just(AssignorKind::RoundRobin),
                Just(AssignorKind::Sticky),
                Just(AssignorKind::CooperativeSticky)
            ],
            prop_oneof![
                Just(None),
                Just(Some(ManualCommit::AfterProcessing)),
                Just(Some(ManualCommit::BeforeProcessing))
            ],
            prop_oneof![Just(0u64), Just(30u64)],
        ),
    )
        .prop_map(
            move |(seed, mode, acks, min_isr, unclean, (assignor, commit, processing_ms))| {
                let mut s = Setup {
                    seed,
                    mode,
                    acks,
                    min_isr,
                    unclean,
                    assignor,
                    commit,
                    processing_ms,
                };
                if durable_only {
                    s.acks = Acks::All;
                    s.min_isr = 2;
                    s.unclean = false;
                }
                s
            },
        )
}

fn build(s: &Setup) -> Cluster {
    let config = ClusterConfig {
        seed: s.seed,
        metadata_mode: s.mode,
        // Short timeouts so a few seconds of virtual time see elections and ISR changes.
        broker: config::BrokerConfig {
            replica_lag_time_max_ms: 3_000,
            zookeeper_session_timeout_ms: 4_000,
            broker_session_timeout_ms: 3_000,
            leader_imbalance_check_interval_seconds: 10,
            offsets_topic_num_partitions: 3,
            group_initial_rebalance_delay_ms: 500,
            ..Default::default()
        },
        ..ClusterConfig::default()
    };
    let mut c = Cluster::new(config).unwrap();
    c.advance(3_000);
    for _ in 0..30 {
        let v = c.view();
        // KRaft refuses a topic whose replicas are all still fenced.
        if v.active_controller.is_some() && v.brokers.iter().all(|b| b.registered) {
            break;
        }
        c.advance(1_000); // a KRaft split vote takes another round
    }
    assert!(
        c.view().active_controller.is_some(),
        "no controller after 33 s (seed={})",
        s.seed
    );
    let topic = TopicConfig {
        min_insync_replicas: Some(s.min_isr),
        unclean_leader_election_enable: Some(s.unclean),
        ..Default::default()
    };
    let assignment = vec![vec![1, 2, 3], vec![2, 3, 1]];
    c.apply(Command::CreateTopic {
        name: "t".into(),
        partitions: None,
        replication_factor: None,
        assignment: Some(assignment),
        config: topic,
    })
    .unwrap();
    let producer = ProducerConfig {
        acks: s.acks,
        enable_idempotence: Some(s.acks == Acks::All),
        request_timeout_ms: 5_000,
        delivery_timeout_ms: 20_000,
        ..ProducerConfig::default()
    };
    c.apply(Command::CreateProducer {
        id: Some(ProducerId(1)),
        config: producer,
    })
    .unwrap();
    // Two members of group g and one of group h, with short timeouts.
    for (id, group) in [(1, "g"), (2, "g"), (3, "h")] {
        let config = ConsumerConfig {
            group_id: Some(group.into()),
            partition_assignment_strategy: s.assignor.into(),
            enable_auto_commit: s.commit.is_none(),
            manual_commit: s.commit.unwrap_or_default(),
            auto_commit_interval_ms: 1_000,
            auto_offset_reset: AutoOffsetReset::Earliest,
            session_timeout_ms: 6_000,
            heartbeat_interval_ms: 1_000,
            request_timeout_ms: 5_000,
            processing_ms: s.processing_ms,
            max_poll_records: 5,
            ..ConsumerConfig::default()
        };
        c.apply(Command::CreateConsumer {
            id: Some(ConsumerId(id)),
            config,
            topics: Some(vec!["t".into()]),
            partitions: None,
        })
        .unwrap();
    }
    c
}

/// Runs `ops`, checking every invariant after every event.
fn run(s: &Setup, ops: &[Op]) -> std::result::Result<Cluster, TestCaseError> {
    let mut c = build(s);
    let mut checker = Checker::default();
    let mut check = |c: &Cluster, at: &str| -> std::result::Result<(), TestCaseError> {
        checker.check(c).map_err(|v| {
            TestCaseError::fail(format!(
                "{} broken {at} at t={} ms: {} (seed={})",
                v.invariant,
                c.now().0,
                v.detail,
                s.seed
            ))
        })
    };
    for (i, op) in ops.iter().enumerate() {
        if let Some(cmd) = command(op, s.mode) {
            let _ = c.apply(cmd); // refused commands leave the state as it was
            check(&c, &format!("after op {i} {op:?}"))?;
        }
        let wait = if let Op::Wait(ms) = op { *ms } else { 200 };
        let until = SimTime(c.now().0 + wait);
        let mut steps = 0u32;
        while c.next_event_time().is_some_and(|t| t <= until) {
            let events = c.step();
            // TRACE=1 prints what happened, for debugging a failing sequence.
            if std::env::var("TRACE").is_ok() {
                for e in events {
                    if let EventKind::MessageSent(m) = &e.kind {
                        let n = m.body.name();
                        if [
                            "JoinGroup",
                            "SyncGroup",
                            "JoinGroupResponse",
                            "SyncGroupResponse",
                            "LeaveGroup",
                            "HeartbeatResponse",
                        ]
                        .contains(&n)
                        {
                            eprintln!("{} {} -> {} {:?}", e.time.0, m.from, m.to, m.body);
                        }
                    } else if let Some(d) = e.kind.describe() {
                        eprintln!("{} {d}", e.time.0);
                    }
                }
            }
            check(&c, &format!("during op {i}"))?;
            steps += 1;
            if steps > 200_000 {
                if std::env::var("DUMP").is_ok() {
                    for _ in 0..30 {
                        for e in c.step() {
                            eprintln!("{}", serde_json::to_string(&e).unwrap());
                        }
                    }
                }
                return Err(TestCaseError::fail(format!(
                    "runaway: over 200000 events within {wait} ms at t={} after op {i} {op:?} (seed={})",
                    c.now().0,
                    s.seed
                )));
            }
        }
        c.run_until(until);
        STEPS.fetch_add(steps as usize, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(c)
}

static STEPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Regression: a follower being added to the ISR was elected (controlled
/// shutdown of the leader) without a record the high watermark had passed,
/// because the HW ignored the pending expansion.
#[test]
fn a_pending_isr_expansion_holds_the_high_watermark() {
    let s = Setup {
        seed: 10777058277985167788,
        mode: MetadataMode::Zookeeper,
        acks: Acks::All,
        min_isr: 2,
        unclean: false,
        assignor: AssignorKind::Range,
        commit: None,
        processing_ms: 0,
    };
    let p = |key| Op::Produce {
        key,
        partition: None,
    };
    let ops = vec![
        p(0),
        p(14),
        Op::Slow(2, 3, 1693),
        Op::CrashQuorum(1),
        p(61),
        Op::Wait(3919),
        Op::Wait(7954),
        p(117),
        Op::Shutdown(2),
    ];
    let c = run(&s, &ops).unwrap();
    assert!(c.lost_records().is_empty(), "{:?}", c.lost_records());
}

/// Guards the property tests against vacuity: a typical run processes
/// hundreds of events and acknowledges records.
#[test]
fn a_typical_run_does_real_work() {
    let s = Setup {
        seed: 7,
        mode: MetadataMode::Zookeeper,
        acks: Acks::All,
        min_isr: 2,
        unclean: false,
        assignor: AssignorKind::Range,
        commit: None,
        processing_ms: 0,
    };
    let ops = vec![
        Op::Produce {
            key: 1,
            partition: None,
        },
        Op::Wait(5_000),
        Op::Crash(1),
        Op::Wait(8_000),
        Op::Produce {
            key: 2,
            partition: None,
        },
        Op::Wait(8_000),
    ];
    let c = run(&s, &ops).unwrap();
    let v = c.view();
    assert!(STEPS.load(std::sync::atomic::Ordering::Relaxed) > 100);
    assert_eq!(v.acknowledged_total, 2);
    // Both groups read both records: the consumer invariants see real work.
    let processed: usize = v.consumers.iter().map(|c| c.processed_total).sum();
    assert_eq!(processed, 4, "{:?}", v.consumers);
}

/// CI runs a fixed set of sequences so a red build is reproducible; set
/// PROPTEST_RNG_SEED to explore others (failures print their seed).
fn rng_seed() -> proptest::test_runner::RngSeed {
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_125);
    proptest::test_runner::RngSeed::Fixed(seed)
}

/// Sequences per property; the two properties together run 12 000 per CI
/// run (the issue asks for at least 10 000).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2_000, rng_seed: rng_seed(), ..ProptestConfig::default() })]

    /// Every invariant holds whatever the settings and faults.
    #[test]
    fn invariants_hold_under_random_faults(s in setup(false), ops in prop::collection::vec(op(), 1..40)) {
        run(&s, &ops)?;
    }

    /// acks=all + min.insync.replicas=2 + clean elections: no acknowledged record is ever lost.
    #[test]
    fn acknowledged_writes_survive(s in setup(true), ops in prop::collection::vec(op(), 1..40)) {
        prop_assert!(s.promises_durability());
        let c = run(&s, &ops)?;
        prop_assert!(c.lost_records().is_empty(), "lost {:?} (seed={})", c.lost_records(), s.seed);
    }
}
