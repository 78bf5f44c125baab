//! Side-by-side comparisons: the same session with one setting changed.
//! The twin replays every command of the original, each rewritten by the
//! variant, so one click drives both and the difference is the setting's.

use crate::command::Command;
use crate::config::Acks;
use crate::error::{KafkaError, Result};
use crate::event::Event;
use crate::ids::SimTime;
use crate::run::scenario::{Scenario, TimedCommand};
use crate::run::session::{Session, SessionFile};
use serde::{Deserialize, Serialize};

/// The one setting a comparison changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Every producer uses these `acks` (idempotence off unless `all`, as
    /// Kafka requires).
    Acks(Acks),
    /// Every topic has `unclean.leader.election.enable` set so.
    UncleanElection(bool),
}

impl Variant {
    /// How the comparison's second cluster is titled, in Kafka's words.
    pub fn label(&self) -> String {
        match self {
            Variant::Acks(a) => format!("acks={}", acks_name(*a)),
            Variant::UncleanElection(on) => format!("unclean.leader.election.enable={on}"),
        }
    }

    /// How the original side is titled: the same setting as it stands
    /// there (`acks=1`, `unclean.leader.election.enable=false`), or "as set"
    /// where its producers or topics differ among themselves.
    pub fn original_label(&self, view: &crate::view::ClusterView) -> String {
        // One value: that value. Several (lesson 11's producers differ):
        // each of them, "as set".
        let one = |mut values: Vec<String>| {
            values.sort();
            values.dedup();
            match values.len() {
                0 => None,
                1 => Some(values.remove(0)),
                _ => Some(format!("As set ({})", values.join(", "))),
            }
        };
        let found = match self {
            Variant::Acks(_) => one(view
                .producers
                .iter()
                .map(|p| format!("acks={}", acks_name(p.acks)))
                .collect()),
            Variant::UncleanElection(_) => one(view
                .topics
                .iter()
                .filter(|t| !t.internal)
                .map(|t| {
                    format!(
                        "unclean.leader.election.enable={}",
                        t.unclean_leader_election_enable
                    )
                })
                .collect()),
        };
        found.unwrap_or_else(|| "As set".to_string())
    }

    /// `command` as the twin gives it.
    pub fn apply(&self, command: &Command) -> Command {
        let mut c = command.clone();
        match (self, &mut c) {
            (
                Variant::Acks(a),
                Command::CreateProducer { config, .. } | Command::ConfigureProducer { config, .. },
            ) => {
                config.acks = *a;
                // An explicit `enable.idempotence=true` would make Kafka
                // refuse acks 0 or 1; the twin leaves it unset instead, and
                // Kafka's rule turns it off.
                if *a != Acks::All && config.enable_idempotence == Some(true) {
                    config.enable_idempotence = None;
                }
            }
            (Variant::UncleanElection(on), Command::CreateTopic { config, .. }) => {
                config.unclean_leader_election_enable = Some(*on);
            }
            _ => {}
        }
        c
    }

    /// The scene as the twin starts it.
    pub fn scenario(&self, s: &Scenario) -> Scenario {
        let mut s = s.clone();
        if let Variant::UncleanElection(on) = self {
            s.cluster.broker.unclean_leader_election_enable = *on;
        }
        s.commands = self.commands(&s.commands);
        s
    }

    pub fn commands(&self, commands: &[TimedCommand]) -> Vec<TimedCommand> {
        commands
            .iter()
            .map(|c| TimedCommand {
                at: c.at,
                command: self.apply(&c.command),
            })
            .collect()
    }
}

/// The twin side of a comparison: `original` with its scene and every
/// command rewritten by `variant`, played to the original's moment. A twin
/// that cannot be built (the rewritten scene is refused) says why in the
/// original's words.
pub fn twin(original: &Session, variant: Variant) -> Result<Session> {
    let file = original.to_file();
    Session::from_file(SessionFile {
        scenario: variant.scenario(&file.scenario),
        commands: variant.commands(&file.commands),
        ..file
    })
    .map_err(|e| {
        KafkaError::new(
            e.code,
            format!("The comparison could not be built: {}", e.message),
        )
    })
}

/// Why a twin cannot follow its original and must be built again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diverged {
    /// The original was rewound and given a new command: its later
    /// commands, which the twin has had, are gone.
    Branched,
    /// A new command of the original lies before the twin's clock.
    Behind,
}

/// Brings `twin` to `original`'s commands and then to `now`: each command
/// the twin has not had is given to it rewritten by `variant`, at its
/// moment. One the twin refuses (its setting forbids it) is skipped there,
/// as a refused command is on replay. Returns the twin's events on the way,
/// or why it must be rebuilt with `twin` instead; a twin already past
/// `now` is left where it is, for the caller to seek back.
pub fn follow(
    twin: &mut Session,
    original: &Session,
    variant: Variant,
    now: SimTime,
) -> std::result::Result<Vec<Event>, Diverged> {
    let theirs = twin.commands().len();
    let Some(new) = original.commands().get(theirs..) else {
        return Err(Diverged::Branched);
    };
    // A rewind and a new command replace the original's later ones: the
    // twin's commands are then no longer the original's, rewritten.
    let same = |(o, t): (&TimedCommand, &TimedCommand)| {
        o.at == t.at && variant.apply(&o.command) == t.command
    };
    if !original.commands().iter().zip(twin.commands()).all(same) {
        return Err(Diverged::Branched);
    }
    let mut events = Vec::new();
    for c in new {
        if SimTime(c.at) < twin.cluster().now() {
            return Err(Diverged::Behind);
        }
        events.extend(twin.run_until(SimTime(c.at)));
        if let Ok(more) = twin.apply(variant.apply(&c.command)) {
            events.extend(more);
        }
    }
    if twin.cluster().now() <= now {
        events.extend(twin.run_until(now));
    }
    Ok(events)
}

fn acks_name(a: Acks) -> &'static str {
    match a {
        Acks::None => "0",
        Acks::Leader => "1",
        Acks::All => "all",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ProducerId;
    use crate::run::presets;
    use crate::ProducerConfig;

    fn produce(i: u32) -> Command {
        Command::Produce {
            producer: ProducerId(1),
            topic: "orders".into(),
            key: None,
            value: format!("v{i}").into(),
            partition: Some(0),
        }
    }

    /// The durability question, asked of twins: the same slow follower and
    /// the same crash lose acknowledged records with acks=1, none with all.
    #[test]
    fn acks_1_loses_what_acks_all_keeps_on_the_same_clicks() {
        use crate::ids::{BrokerId, NodeId};
        let mut scene = presets::quickstart();
        scene.commands = vec![
            TimedCommand {
                at: 50,
                command: Command::CreateTopic {
                    name: "orders".into(),
                    partitions: None,
                    replication_factor: None,
                    assignment: Some(vec![vec![1, 2]]),
                    config: Default::default(),
                },
            },
            TimedCommand {
                at: 60,
                command: Command::CreateProducer {
                    id: Some(ProducerId(1)),
                    config: ProducerConfig {
                        acks: Acks::Leader,
                        enable_idempotence: Some(false),
                        ..ProducerConfig::default()
                    },
                },
            },
            TimedCommand {
                at: 70,
                command: Command::SetLinkLatency {
                    a: NodeId::Broker(BrokerId(1)),
                    b: NodeId::Broker(BrokerId(2)),
                    latency_ms: 1_500,
                },
            },
        ];
        let variant = Variant::Acks(Acks::All);
        let mut one = Session::new(scene.clone()).unwrap();
        let mut all = Session::new(variant.scenario(&scene)).unwrap();
        let clicks = [
            (2_000, produce(1)),
            (2_001, produce(2)),
            (
                2_300,
                Command::CrashBroker {
                    broker: BrokerId(1),
                },
            ),
        ];
        for (at, c) in clicks {
            one.run_until(SimTime(at));
            all.run_until(SimTime(at));
            one.apply(c.clone()).unwrap();
            all.apply(variant.apply(&c)).unwrap();
        }
        one.run_until(SimTime(60_000));
        all.run_until(SimTime(60_000));
        assert!(
            !one.cluster().view().lost.is_empty(),
            "acks=1 loses the acknowledged records"
        );
        let v = all.cluster().view();
        assert!(v.lost.is_empty(), "{:?}", v.lost);
        assert!(
            v.producers[0].acknowledged >= 2,
            "acks=all retried onto the new leader"
        );
        assert_eq!(variant.label(), "acks=all");
        assert_eq!(variant.original_label(&one.cluster().view()), "acks=1");
    }

    fn acks_1_scene() -> Session {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(50));
        s.apply(Command::CreateTopic {
            name: "orders".into(),
            partitions: None,
            replication_factor: None,
            assignment: Some(vec![vec![1, 2]]),
            config: Default::default(),
        })
        .unwrap();
        s.apply(Command::CreateProducer {
            id: Some(ProducerId(1)),
            config: ProducerConfig {
                acks: Acks::Leader,
                enable_idempotence: Some(false),
                ..ProducerConfig::default()
            },
        })
        .unwrap();
        s
    }

    #[test]
    fn a_twin_follows_each_click_of_its_original_rewritten() {
        let variant = Variant::Acks(Acks::All);
        let mut original = acks_1_scene();
        original.run_until(SimTime(1_000));
        let mut other = twin(&original, variant).unwrap();
        assert_eq!(other.cluster().now(), SimTime(1_000));
        assert_eq!(other.cluster().view().producers[0].acks, Acks::All);
        original.run_until(SimTime(2_000));
        original.apply(produce(1)).unwrap();
        original.run_until(SimTime(3_000));
        let events = follow(&mut other, &original, variant, SimTime(3_000)).unwrap();
        assert!(events
            .iter()
            .any(|e| matches!(e.kind, crate::event::EventKind::ProduceAcknowledged { .. })));
        assert_eq!(other.cluster().now(), SimTime(3_000));
        assert_eq!(other.commands().len(), original.commands().len());
        assert_eq!(
            other.commands().last().unwrap().command,
            variant.apply(&produce(1))
        );
        // Nothing new: the twin only keeps time.
        original.run_until(SimTime(3_500));
        follow(&mut other, &original, variant, SimTime(3_500)).unwrap();
        assert_eq!(other.cluster().now(), SimTime(3_500));
        // The same clicks made on a twin built afresh give the same cluster.
        let fresh = twin(&original, variant).unwrap();
        assert_eq!(fresh.cluster().view(), other.cluster().view());
    }

    #[test]
    fn a_twin_whose_original_branched_must_be_rebuilt() {
        let variant = Variant::Acks(Acks::All);
        let mut original = acks_1_scene();
        original.run_until(SimTime(2_000));
        original.apply(produce(1)).unwrap();
        let mut other = twin(&original, variant).unwrap();
        // Rewound and given another click in place of the first: as many
        // commands as the twin has, but not the same ones.
        original.seek(SimTime(1_500));
        original.apply(produce(2)).unwrap();
        assert_eq!(original.commands().len(), other.commands().len());
        assert_eq!(
            follow(&mut other, &original, variant, SimTime(1_500)),
            Err(Diverged::Branched)
        );
        // Rewound and branched with fewer commands than the twin.
        let mut original = acks_1_scene();
        original.run_until(SimTime(2_000));
        original.apply(produce(1)).unwrap();
        original.apply(produce(2)).unwrap();
        let mut other = twin(&original, variant).unwrap();
        original.seek(SimTime(1_000));
        original.apply(produce(3)).unwrap();
        assert_eq!(
            follow(&mut other, &original, variant, SimTime(1_000)),
            Err(Diverged::Branched)
        );
    }

    #[test]
    fn a_twin_already_past_a_new_command_must_be_rebuilt() {
        let variant = Variant::Acks(Acks::All);
        let mut original = acks_1_scene();
        original.run_until(SimTime(2_000));
        let mut other = twin(&original, variant).unwrap();
        other.run_until(SimTime(5_000));
        original.apply(produce(1)).unwrap();
        assert_eq!(
            follow(&mut other, &original, variant, SimTime(2_000)),
            Err(Diverged::Behind)
        );
    }

    #[test]
    fn an_acks_variant_keeps_idempotence_only_where_kafka_allows_it() {
        let c = Command::CreateProducer {
            id: None,
            config: ProducerConfig::default(),
        };
        let Command::CreateProducer { config, .. } = Variant::Acks(Acks::Leader).apply(&c) else {
            unreachable!()
        };
        assert_eq!((config.acks, config.idempotent()), (Acks::Leader, false));
        let Command::CreateProducer { config, .. } = Variant::Acks(Acks::All).apply(&c) else {
            unreachable!()
        };
        assert_eq!((config.acks, config.idempotent()), (Acks::All, true));
        // Explicitly on: the twin with acks=1 leaves it unset rather than
        // configure what Kafka would refuse.
        let c = Command::CreateProducer {
            id: None,
            config: ProducerConfig {
                enable_idempotence: Some(true),
                ..ProducerConfig::default()
            },
        };
        let Command::CreateProducer { config, .. } = Variant::Acks(Acks::Leader).apply(&c) else {
            unreachable!()
        };
        assert_eq!(
            (config.enable_idempotence, config.idempotent()),
            (None, false)
        );
    }
}
