//! The golden traces: every built-in lesson, every `docs/examples` file, a
//! busy scene in each metadata mode and the benchmark workload, each run to
//! its end and written down as JSON lines. `tests/golden.rs` compares their
//! digests with the committed ones natively, and the app's component tests
//! compute them again in wasm, so the same scenario is shown to give the
//! same run on every platform.

use crate::clients::assignor::AssignorKind;
use crate::config::{AutoOffsetReset, ConsumerConfig, MetadataMode};
use crate::ids::{BrokerId, ConsumerId, ProducerId, SimTime};
use crate::lesson::{builtin, Lesson, LessonView};
use crate::messaging_models::Classic;
use crate::run::presets;
use crate::run::scenario::{Scenario, TimedCommand};
use crate::run::session::Session;
use crate::run::workload::{run_workload, standard_cluster};
use crate::Command;

/// The `docs/examples` files, by file stem: `tests/golden.rs` checks that
/// the folder holds these and no others.
pub const EXAMPLES: [(&str, &str); 3] = [
    (
        "my-failover-lesson",
        include_str!("../../../../docs/examples/my-failover-lesson.json"),
    ),
    (
        "my-topic",
        include_str!("../../../../docs/examples/my-topic.json"),
    ),
    (
        "rolling-upgrade",
        include_str!("../../../../docs/examples/rolling-upgrade.json"),
    ),
];

/// FNV-1a, 64 bits: stable across platforms and Rust versions, and enough
/// to tell two traces apart.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn json_lines<T: serde::Serialize>(items: &[T]) -> String {
    items
        .iter()
        .map(|e| serde_json::to_string(e).expect("serialises") + "\n")
        .collect()
}

/// A cluster scenario played on a `Session` as the page plays it: its
/// events, the commands it refused, then its final view.
fn scenario_trace(s: &Scenario, until: Option<u64>) -> String {
    let end = until.unwrap_or_else(|| s.commands.last().map_or(0, |c| c.at) + 30_000);
    let mut session = Session::new(s.clone()).expect("scenario starts");
    let events = session.run_until(SimTime(end));
    let refused: Vec<String> = session
        .refusals()
        .map(|(c, e)| format!("refused at {}: {}", c.at, e.message))
        .collect();
    json_lines(&events)
        + &json_lines(&refused)
        + &serde_json::to_string(&session.cluster().view()).unwrap()
        + "\n"
}

fn advance_to(classic: &mut Classic, t: u64) -> Vec<crate::messaging_models::ClassicEvent> {
    let now = classic.now();
    if t > now {
        classic.advance(t - now)
    } else {
        Vec::new()
    }
}

/// A Messaging models lesson played step by step as the page plays it.
fn models_trace(l: &Lesson) -> String {
    let mut classic = crate::messaging_models::scene::build();
    let mut events = Vec::new();
    for (step, t) in l.steps.iter().zip(l.times()) {
        events.extend(advance_to(&mut classic, t.start));
        for c in &step.classic {
            events.extend(advance_to(&mut classic, t.start + 1 + c.after));
            if let Ok(e) = classic.apply(c.command.clone()) {
                events.extend(e);
            }
        }
        events.extend(advance_to(&mut classic, t.end));
    }
    json_lines(&events) + &serde_json::to_string(&classic.view()).unwrap() + "\n"
}

fn lesson_trace(l: &Lesson) -> String {
    match l.view {
        LessonView::Models => models_trace(l),
        LessonView::Cluster => {
            let end = l.times().last().map_or(0, |t| t.end);
            scenario_trace(&l.timeline(), Some(end))
        }
    }
}

/// The determinism test's busy scenario, smaller: keyed and unkeyed
/// records, two groups on the sticky assignors, a consumer and a broker
/// crashing, a preferred-leader election.
fn busy(mode: MetadataMode) -> Scenario {
    let mut s = presets::quickstart();
    s.cluster.seed = 42;
    s.cluster.metadata_mode = mode;
    let shift = if mode == MetadataMode::Kraft {
        5_000
    } else {
        0
    };
    let at = |t: u64, command| TimedCommand {
        at: t + shift,
        command,
    };
    let mut commands = Vec::new();
    for i in 0..120u64 {
        let key = (i % 3 != 0).then(|| format!("key-{}", i % 17).into());
        commands.push(at(
            300 + i * 37,
            Command::Produce {
                producer: ProducerId(1),
                topic: "MyTopic".into(),
                key,
                value: format!("v{i}").into(),
                partition: None,
            },
        ));
    }
    for (id, group, assignor) in [
        (1, "g", AssignorKind::CooperativeSticky),
        (2, "g", AssignorKind::CooperativeSticky),
        (3, "g", AssignorKind::CooperativeSticky),
        (4, "h", AssignorKind::Sticky),
        (5, "h", AssignorKind::RoundRobin),
    ] {
        commands.push(at(
            250 + u64::from(id) * 700,
            Command::CreateConsumer {
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
        ));
    }
    commands.push(at(
        2_000,
        Command::CrashBroker {
            broker: BrokerId(2),
        },
    ));
    commands.push(at(
        9_000,
        Command::CrashConsumer {
            consumer: ConsumerId(2),
        },
    ));
    commands.push(at(
        30_000,
        Command::RestartBroker {
            broker: BrokerId(2),
        },
    ));
    commands.push(at(60_000, Command::ElectPreferredLeaders { topic: None }));
    commands.sort_by_key(|c| c.at);
    s.commands.extend(commands);
    s
}

/// The benchmark workload, 2 000 records: the events of its last part,
/// where every subsystem is busy, and the final view.
fn workload_trace() -> String {
    let mut c = run_workload(standard_cluster(), 2_000, 200);
    let events = c.advance(3_000);
    json_lines(&events) + &serde_json::to_string(&c.view()).unwrap() + "\n"
}

/// Every trace, by name.
pub fn traces() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for l in builtin() {
        out.push((format!("lesson-{}", l.id), lesson_trace(&l)));
    }
    for (stem, text) in EXAMPLES {
        let name = format!("example-{stem}");
        let trace = if text.contains("\"kafkasim_lesson\"") {
            lesson_trace(&Lesson::from_json(text).expect("example lesson"))
        } else {
            scenario_trace(&Scenario::from_json(text).expect("example scenario"), None)
        };
        out.push((name, trace));
    }
    out.push((
        "busy-zookeeper".into(),
        scenario_trace(&busy(MetadataMode::Zookeeper), Some(70_000)),
    ));
    out.push((
        "busy-kraft".into(),
        scenario_trace(&busy(MetadataMode::Kraft), Some(75_000)),
    ));
    out.push(("workload".into(), workload_trace()));
    out
}

pub fn digest_line(trace: &str) -> String {
    format!(
        "fnv1a64 {:016x} lines {}\n",
        fnv1a(trace),
        trace.lines().count()
    )
}
