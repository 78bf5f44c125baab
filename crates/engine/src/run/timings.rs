//! Classroom timings: Kafka's failure-detection timeouts shortened so a
//! failover happens while a class watches, not minutes later.
//!
//! With Kafka's defaults a crashed broker is noticed after its ZooKeeper
//! session (18 s) or KRaft broker session (9 s) expires, a stuck follower
//! leaves the ISR after 30 s, and a dead consumer leaves its group after
//! 45 s. The rules are the same with shorter numbers; only the waiting
//! changes. Like a comparison's variant, the switch rewrites a session's
//! scene and every command, so replay gives the same run with the other
//! timings. A value the scene set on purpose (anything but Kafka's default)
//! is kept.

use crate::command::Command;
use crate::config::{BrokerConfig, ConsumerConfig, ProducerConfig};
use crate::run::scenario::Scenario;

/// One setting the switch changes: its Kafka key, Kafka's default and the
/// classroom value, for the menu to print side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub key: &'static str,
    pub kafka_default: u64,
    pub classroom: u64,
}

/// Every setting the switch changes.
pub const CLASSROOM: [Timing; 6] = [
    Timing {
        key: "zookeeper.session.timeout.ms",
        kafka_default: 18_000,
        classroom: 6_000,
    },
    Timing {
        key: "broker.session.timeout.ms",
        kafka_default: 9_000,
        classroom: 4_000,
    },
    Timing {
        key: "replica.lag.time.max.ms",
        kafka_default: 30_000,
        classroom: 10_000,
    },
    Timing {
        key: "session.timeout.ms",
        kafka_default: 45_000,
        classroom: 10_000,
    },
    Timing {
        key: "delivery.timeout.ms",
        kafka_default: 120_000,
        classroom: 30_000,
    },
    // delivery.timeout.ms must be at least linger.ms + request.timeout.ms,
    // or Kafka's producer refuses its config.
    Timing {
        key: "request.timeout.ms",
        kafka_default: 30_000,
        classroom: 10_000,
    },
];

fn classroom(key: &str) -> u64 {
    CLASSROOM
        .iter()
        .find(|t| t.key == key)
        .map_or(0, |t| t.classroom)
}

/// Kafka's default becomes the classroom value; anything else was chosen.
fn shorten(value: &mut u64, key: &str) {
    if let Some(t) = CLASSROOM.iter().find(|t| t.key == key) {
        if *value == t.kafka_default {
            *value = t.classroom;
        }
    }
}

/// Whether the scene already runs on classroom timings.
pub fn in_use(s: &Scenario) -> bool {
    let b = &s.cluster.broker;
    b.zookeeper_session_timeout_ms == classroom("zookeeper.session.timeout.ms")
        && b.broker_session_timeout_ms == classroom("broker.session.timeout.ms")
        && b.replica_lag_time_max_ms == classroom("replica.lag.time.max.ms")
}

/// The scene and its commands with classroom timings.
pub fn apply(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    broker(&mut s.cluster.broker, shorten);
    for c in &mut s.commands {
        command(&mut c.command, shorten);
    }
    s
}

/// The scene and its commands back on Kafka's defaults, where the switch
/// had shortened them.
pub fn revert(s: &Scenario) -> Scenario {
    let lengthen = |value: &mut u64, key: &str| {
        if let Some(t) = CLASSROOM.iter().find(|t| t.key == key) {
            if *value == t.classroom {
                *value = t.kafka_default;
            }
        }
    };
    let mut s = s.clone();
    broker(&mut s.cluster.broker, lengthen);
    for c in &mut s.commands {
        command(&mut c.command, lengthen);
    }
    s
}

/// A user's command as the scene's timings give it.
pub fn command_for(s: &Scenario, mut c: Command) -> Command {
    if in_use(s) {
        command(&mut c, shorten);
    }
    c
}

fn broker(b: &mut BrokerConfig, f: impl Fn(&mut u64, &str)) {
    f(
        &mut b.zookeeper_session_timeout_ms,
        "zookeeper.session.timeout.ms",
    );
    f(
        &mut b.broker_session_timeout_ms,
        "broker.session.timeout.ms",
    );
    f(&mut b.replica_lag_time_max_ms, "replica.lag.time.max.ms");
}

fn command(c: &mut Command, f: impl Fn(&mut u64, &str)) {
    match c {
        Command::CreateProducer { config, .. } | Command::ConfigureProducer { config, .. } => {
            producer(config, &f)
        }
        Command::CreateConsumer { config, .. } => consumer(config, &f),
        _ => {}
    }
}

fn producer(p: &mut ProducerConfig, f: &impl Fn(&mut u64, &str)) {
    f(&mut p.delivery_timeout_ms, "delivery.timeout.ms");
    f(&mut p.request_timeout_ms, "request.timeout.ms");
}

fn consumer(c: &mut ConsumerConfig, f: &impl Fn(&mut u64, &str)) {
    f(&mut c.session_timeout_ms, "session.timeout.ms");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::presets;

    #[test]
    fn the_switch_shortens_kafkas_defaults_and_keeps_what_a_scene_chose() {
        let mut scene = presets::quickstart();
        scene.cluster.broker.replica_lag_time_max_ms = 20_000;
        let short = apply(&scene);
        assert_eq!(short.cluster.broker.zookeeper_session_timeout_ms, 6_000);
        assert_eq!(short.cluster.broker.broker_session_timeout_ms, 4_000);
        assert_eq!(short.cluster.broker.replica_lag_time_max_ms, 20_000);
        let Command::CreateProducer { config, .. } = &short.commands[1].command else {
            panic!("the quick start's second command creates its producer");
        };
        assert_eq!(
            (config.delivery_timeout_ms, config.request_timeout_ms),
            (30_000, 10_000)
        );
        assert!(
            config.delivery_timeout_ms >= config.linger_ms + config.request_timeout_ms,
            "Kafka's producer would refuse the config"
        );
        let back = revert(&short);
        assert_eq!(back, scene);
    }

    #[test]
    fn a_consumer_created_under_classroom_timings_gets_them() {
        let short = apply(&presets::quickstart());
        assert!(in_use(&short));
        assert!(!in_use(&presets::quickstart()));
        let c = command_for(
            &short,
            Command::CreateConsumer {
                id: None,
                topics: Some(vec!["MyTopic".into()]),
                partitions: None,
                config: ConsumerConfig::default(),
            },
        );
        let Command::CreateConsumer { config, .. } = c else {
            unreachable!()
        };
        assert_eq!(config.session_timeout_ms, 10_000);
    }
}
