//! Same seed and same timed commands give the same event trace, byte for byte.

use kafkasim_engine::run::presets;
use kafkasim_engine::run::scenario::{Scenario, TimedCommand};
use kafkasim_engine::*;

fn busy_scenario(seed: u64, mode: MetadataMode) -> Scenario {
    let mut s = presets::quickstart();
    s.cluster.seed = seed;
    s.cluster.metadata_mode = mode;
    let mut at = 300;
    for i in 0..200 {
        let key = if i % 3 == 0 {
            None
        } else {
            Some(format!("key-{}", i % 17).into())
        };
        s.commands.push(TimedCommand {
            at,
            command: Command::Produce {
                producer: ProducerId(1),
                topic: "MyTopic".into(),
                key,
                value: format!("v{i}").into(),
                partition: None,
            },
        });
        at += 37;
    }
    // Consumers in two groups with the sticky assignors (their Java-HashMap
    // ordering must not leak Rust's random hashing), one of them crashing.
    for (id, group, assignor) in [
        (1, "g", AssignorKind::CooperativeSticky),
        (2, "g", AssignorKind::CooperativeSticky),
        (3, "g", AssignorKind::CooperativeSticky),
        (4, "h", AssignorKind::Sticky),
        (5, "h", AssignorKind::Sticky),
    ] {
        s.commands.push(TimedCommand {
            at: 250 + id as u64 * 700,
            command: Command::CreateConsumer {
                id: Some(ConsumerId(id)),
                config: ConsumerConfig {
                    group_id: Some(group.into()),
                    partition_assignment_strategy: assignor.into(),
                    auto_offset_reset: AutoOffsetReset::Earliest,
                    processing_ms: 20,
                    ..ConsumerConfig::default()
                },
                topics: Some(vec!["MyTopic".into()]),
                partitions: None,
            },
        });
    }
    s.commands.push(TimedCommand {
        at: 9_000,
        command: Command::CrashConsumer {
            consumer: ConsumerId(2),
        },
    });
    s.commands.push(TimedCommand {
        at: 2_000,
        command: Command::CrashBroker {
            broker: BrokerId(2),
        },
    });
    s.commands.push(TimedCommand {
        at: 30_000,
        command: Command::RestartBroker {
            broker: BrokerId(2),
        },
    });
    s.commands.push(TimedCommand {
        at: 60_000,
        command: Command::ElectPreferredLeaders { topic: None },
    });
    s.commands.sort_by_key(|c| c.at);
    if mode == MetadataMode::Kraft {
        // The controller quorum needs a few seconds to elect its first leader.
        for c in &mut s.commands {
            c.at += 5_000;
        }
    }
    s
}

fn trace(s: &Scenario) -> String {
    let (cluster, events) = s.run(Some(90_000)).expect("scenario runs");
    let mut out: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    out.push_str(&serde_json::to_string(&cluster.view()).unwrap());
    out
}

#[test]
fn the_same_seed_and_commands_give_the_same_trace() {
    for mode in [MetadataMode::Zookeeper, MetadataMode::Kraft] {
        let s = busy_scenario(42, mode);
        let (a, b) = (trace(&s), trace(&s));
        if a != b {
            let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
            panic!("traces diverge at line {line:?} ({mode:?})");
        }
        assert!(a.lines().count() > 1_000, "a busy trace");
        assert!(a.contains("\"GroupStable\""), "groups formed ({mode:?})");
        assert!(
            a.contains("\"RecordProcessed\""),
            "records consumed ({mode:?})"
        );
    }
}

#[test]
fn a_different_seed_changes_the_timing() {
    let a = trace(&busy_scenario(1, MetadataMode::Kraft));
    let b = trace(&busy_scenario(2, MetadataMode::Kraft));
    assert_ne!(a, b, "the seed drives jitter and elections");
}
