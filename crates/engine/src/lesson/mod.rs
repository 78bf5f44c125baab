//! Lessons: a scene plus steps an instructor advances, as JSON data.
//!
//! A lesson compiles to one timeline. The scene's commands run first; step 1
//! starts when the scene is ready (`starts_at`, or the scene's last command);
//! each step then runs its commands `after` ms into the step and lasts
//! `run_ms`. So every step starts at a fixed virtual time, and going back a
//! step is a seek on a [`Session`](crate::run::session::Session): deterministic
//! replay gives the step's exact state.
//!
//! `expect` lines state a step's teaching point ("after the crash broker 2
//! leads MyTopic-0; no acknowledged record is lost"). [`Lesson::check`] plays
//! the lesson and fails naming the step whose point did not happen, so a
//! lesson cannot quietly teach something the simulator no longer does.

mod expect;
mod models;
pub mod prediction;
mod target;
pub use target::Target;
use target::*;

use crate::command::Command;
use crate::error::{ErrorCode, Result};
use crate::ids::SimTime;
pub use crate::lesson::prediction::Prompt;
use crate::messaging_models::ClassicCommand;
use crate::run::compare::Variant;
use crate::run::scenario::{check_size, invalid, Scenario, TimedCommand};
use crate::run::session::MAX_SESSION_MS;
use serde::{Deserialize, Serialize};

/// Most steps one lesson may hold.
pub const MAX_STEPS: usize = 60;
/// Longest narration, in characters: two or three sentences.
pub const MAX_NARRATION: usize = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Format version; 1.
    pub kafkasim_lesson: u32,
    /// Short name for links (`#lesson=replication`): lowercase letters,
    /// digits and dashes.
    pub id: String,
    pub title: String,
    /// One line for the lessons list.
    pub summary: String,
    /// The page the lesson plays on.
    #[serde(default)]
    pub view: LessonView,
    /// The scene the lesson starts from (cluster lessons).
    #[serde(default)]
    pub scenario: Scenario,
    /// When step 1 starts, in virtual ms; default: the scene's last command.
    #[serde(default)]
    pub starts_at: Option<u64>,
    /// Cluster lessons: draw a twin beside the cluster with this one setting
    /// changed (`{"acks": "all"}`, `{"unclean_election": true}`), driven by
    /// the same commands.
    #[serde(default)]
    pub compare: Option<Variant>,
    pub steps: Vec<Step>,
}

/// Where a lesson plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonView {
    /// The Kafka cluster, built from `scenario`; steps give `commands`.
    #[default]
    Cluster,
    /// The Messaging models page: a queue and a topic on a classic broker
    /// (`classic::scene`); steps give `classic` commands.
    Models,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// What the student reads while the step plays.
    pub narration: String,
    /// Nodes to draw attention to, by their names on the diagram:
    /// `Broker 1`, `Producer 1`, `Consumer 3`, `Group G1`, `ZooKeeper 2`,
    /// `Controller 1`, `MyTopic-0` (every replica) or `MyTopic-0 on broker 2`.
    #[serde(default)]
    pub highlight: Vec<String>,
    /// A question asked before the step's commands run. The title and
    /// narration are then the set-up only: they must not give the answer
    /// away ([`Prompt::spoiled_by`]).
    #[serde(default)]
    pub prompt: Option<Prompt>,
    /// Question steps: what happened and why, shown once the simulation has
    /// answered (after the prompt's explanation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_answer: Option<String>,
    #[serde(default)]
    pub commands: Vec<StepCommand>,
    /// Models lessons: commands to the classic broker, `after` ms into the step.
    #[serde(default)]
    pub classic: Vec<ClassicStep>,
    /// How long the step plays, in virtual ms (at least past its last command).
    #[serde(default)]
    pub run_ms: u64,
    /// What must be true when the step ends.
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// What must be true of the twin when the step ends (with `compare`).
    #[serde(default)]
    pub expect_twin: Vec<Expect>,
}

impl Step {
    /// A question's shape, and that the text read before it does not answer it.
    fn check_prediction(&self, n: usize) -> Result<()> {
        let Some(p) = &self.prompt else {
            return match &self.after_answer {
                Some(_) => Err(invalid(format!(
                    "Step {n}: after_answer is shown after a question's answer, but this step asks none."
                ))),
                None => Ok(()),
            };
        };
        if !(2..=5).contains(&p.choices.len()) || p.answer >= p.choices.len() {
            return Err(invalid(format!(
                "Step {n}: a prompt needs 2 to 5 choices and an answer among them (0 to {}).",
                p.choices.len().saturating_sub(1)
            )));
        }
        if let Some(text) = &self.after_answer {
            let chars = text.chars().count();
            if text.trim().is_empty() || chars > MAX_NARRATION {
                return Err(invalid(format!(
                    "Step {n}: after_answer must be 1 to {MAX_NARRATION} characters; it has {chars}."
                )));
            }
        }
        for (part, text) in [("title", &self.title), ("narration", &self.narration)] {
            if let Some(word) = p.spoiled_by(text) {
                return Err(invalid(format!(
                    "Step {n}: its {part} gives the question's answer away ('{word}'). Move what happens to after_answer, or list the prompt's own spoilers."
                )));
            }
        }
        Ok(())
    }
}

/// A command of a step: `after` ms into the step. `refused` names the error
/// Kafka answers with when the point of the step is the refusal (a duplicate
/// topic, say); any other refusal fails the lesson's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCommand {
    #[serde(default)]
    pub after: u64,
    #[serde(default)]
    pub refused: Option<ErrorCode>,
    #[serde(flatten)]
    pub command: Command,
}

/// A command to the classic broker of the Messaging models page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicStep {
    #[serde(default)]
    pub after: u64,
    #[serde(flatten)]
    pub command: ClassicCommand,
}

/// A teaching point, checked at the end of its step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// The partition's leader is this broker (`null`: offline).
    Leader {
        partition: String,
        broker: Option<u32>,
    },
    /// The partition's in-sync replicas, in any order.
    Isr {
        partition: String,
        brokers: Vec<u32>,
    },
    /// The partition's high watermark (records consumers may read) is in range.
    Records {
        partition: String,
        #[serde(default)]
        min: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
    },
    /// Every record with this key in the topic sits in this partition (and
    /// there is at least one).
    KeyIn {
        topic: String,
        key: String,
        partition: u32,
    },
    /// How many acknowledged records the cluster has lost.
    Lost {
        #[serde(default)]
        min: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
    },
    /// The active controller is (or is not) this node, by its diagram name.
    Controller {
        #[serde(default)]
        is: Option<String>,
        #[serde(default)]
        is_not: Option<String>,
    },
    /// Whether the ZooKeeper ensemble or KRaft quorum has a majority.
    Quorum { ok: bool },
    /// The consumer owns exactly these partitions (`MyTopic-0`, ...).
    Owns {
        consumer: u32,
        partitions: Vec<String>,
    },
    /// The group has this many members.
    Members { group: String, count: usize },
    /// The consumer has processed at least this many records.
    Processed { consumer: u32, min: usize },
    /// Records with these values were first processed in this order, by
    /// whichever consumers processed them.
    ProcessedInOrder { values: Vec<String> },
    /// Models lessons: how many messages a receiver or subscriber got
    /// (a redelivery counts again).
    Got {
        client: String,
        #[serde(default)]
        min: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
    },
    /// Models lessons: how many topic messages a subscriber missed.
    Missed {
        client: String,
        #[serde(default)]
        min: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
    },
    /// Models lessons: how many messages wait in a queue for a receiver.
    Waiting { destination: String, count: usize },
    /// At its last metadata refresh the client (`Producer 1`, `Consumer 2`)
    /// found this broker leading the partition: it sends its records (or
    /// fetches) there. What the diagram's dashed redirect arrow shows.
    Route {
        client: String,
        partition: String,
        broker: u32,
    },
    /// A producer's counts: acknowledged and failed records.
    Producer {
        producer: u32,
        #[serde(default)]
        acknowledged_min: Option<u64>,
        #[serde(default)]
        failed_min: Option<u64>,
    },
}

/// When each step starts and ends on the lesson's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTimes {
    pub start: u64,
    pub end: u64,
}

impl Lesson {
    /// Parses a lesson document and checks its shape (not yet its play).
    pub fn from_json(text: &str) -> Result<Lesson> {
        check_size(text, "lesson")?;
        let lesson: Lesson = serde_json::from_str(text)
            .map_err(|e| crate::run::scenario::unreadable("lesson", &e))?;
        lesson.check_shape()?;
        Ok(lesson)
    }

    fn check_shape(&self) -> Result<()> {
        if self.kafkasim_lesson != 1 {
            return Err(invalid(format!(
                "Lesson format version {} is not supported; this kafkasim reads version 1.",
                self.kafkasim_lesson
            )));
        }
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 40
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(invalid(format!(
                "Lesson id '{}' must be 1 to 40 lowercase letters, digits or dashes.",
                self.id
            )));
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(invalid(format!(
                "A lesson has 1 to {MAX_STEPS} steps; this one has {}.",
                self.steps.len()
            )));
        }
        crate::run::scenario::check_commands(&self.scenario.commands, "lesson scene")?;
        for (i, step) in self.steps.iter().enumerate() {
            let n = i + 1;
            let chars = step.narration.chars().count();
            if step.narration.trim().is_empty() || chars > MAX_NARRATION {
                return Err(invalid(format!(
                    "Step {n}: narration must be 1 to {MAX_NARRATION} characters; it has {chars}."
                )));
            }
            step.check_prediction(n)?;
            let (own, other) = match self.view {
                LessonView::Cluster => (!step.classic.is_empty(), "classic"),
                LessonView::Models => (!step.commands.is_empty(), "commands"),
            };
            if own {
                return Err(invalid(
                    format!(
                        "Step {n}: a {:?} lesson's steps cannot give '{other}'.",
                        self.view
                    )
                    .to_lowercase(),
                ));
            }
            if !step.expect_twin.is_empty() && self.compare.is_none() {
                return Err(invalid(format!(
                    "Step {n}: expect_twin needs a lesson with compare (the twin it checks)."
                )));
            }
            if let Some(e) = step
                .expect
                .iter()
                .chain(&step.expect_twin)
                .find(|e| e.is_classic() != (self.view == LessonView::Models))
            {
                return Err(invalid(format!(
                    "Step {n}: the teaching point {e:?} does not apply to a {} lesson.",
                    if self.view == LessonView::Models {
                        "models"
                    } else {
                        "cluster"
                    }
                )));
            }
            if self.view == LessonView::Cluster {
                for h in &step.highlight {
                    Target::parse(h).map_err(|m| invalid(format!("Step {n}: {m}")))?;
                }
            }
            let last = step
                .commands
                .iter()
                .map(|c| c.after)
                .chain(step.classic.iter().map(|c| c.after))
                .max();
            if let Some(late) = last.filter(|a| *a > step.run_ms) {
                return Err(invalid(format!(
                    "Step {n}: a command runs {late} ms into the step but the step lasts only {} ms (run_ms).",
                    step.run_ms
                )));
            }
        }
        let end = self.times().last().map_or(0, |t| t.end);
        if end > MAX_SESSION_MS {
            return Err(invalid(format!(
                "The lesson runs to {end} ms of virtual time; the limit is {MAX_SESSION_MS} ms."
            )));
        }
        Ok(())
    }

    /// When step 1 starts.
    fn first_start(&self) -> u64 {
        self.starts_at
            .unwrap_or_else(|| self.scenario.commands.last().map_or(0, |c| c.at))
    }

    /// Each step's start and end on the timeline. A step's commands run at
    /// `start + 1 + after`, so seeking to `start` shows the state before them.
    pub fn times(&self) -> Vec<StepTimes> {
        let mut start = self.first_start();
        self.steps
            .iter()
            .map(|s| {
                let acts = !s.commands.is_empty() || !s.classic.is_empty();
                let end = start + s.run_ms + u64::from(acts);
                let t = StepTimes { start, end };
                start = end;
                t
            })
            .collect()
    }

    /// The whole lesson as one scenario: the scene's commands, then every
    /// step's at its time. A session on it plays the lesson.
    pub fn timeline(&self) -> Scenario {
        let mut s = self.scenario.clone();
        for (step, t) in self.steps.iter().zip(self.times()) {
            s.commands
                .extend(step.commands.iter().map(|c| TimedCommand {
                    at: t.start + 1 + c.after,
                    command: c.command.clone(),
                }));
        }
        s
    }

    /// Plays the lesson: every highlight names something on the diagram,
    /// every command is accepted (or refused exactly as the step says), and
    /// every `expect` holds at its step's end. Returns how many teaching
    /// points were checked.
    pub fn check(&self) -> Result<usize> {
        self.check_shape()?;
        if self.view == LessonView::Models {
            if self.compare.is_some() {
                return Err(invalid(
                    "A models lesson cannot compare: compare is for cluster lessons.".into(),
                ));
            }
            return self.check_models();
        }
        let mut points = self.check_cluster()?;
        if let Some(v) = self.compare {
            points += self
                .twin(v)
                .check_cluster()
                .map_err(|e| invalid(format!("On the side with {}: {}", v.label(), e.message)))?;
        }
        Ok(points)
    }

    /// The lesson as its twin plays it: the variant's scene and commands,
    /// checked against `expect_twin`.
    fn twin(&self, v: Variant) -> Lesson {
        Lesson {
            scenario: v.scenario(&self.scenario),
            compare: None,
            steps: self
                .steps
                .iter()
                .map(|s| Step {
                    commands: s
                        .commands
                        .iter()
                        .map(|c| StepCommand {
                            command: v.apply(&c.command),
                            ..c.clone()
                        })
                        .collect(),
                    expect: s.expect_twin.clone(),
                    expect_twin: Vec::new(),
                    ..s.clone()
                })
                .collect(),
            ..self.clone()
        }
    }

    fn check_cluster(&self) -> Result<usize> {
        let fail = |n: usize, m: String| invalid(format!("Step {n}: {m}"));
        let (mut cluster, _) = Scenario {
            commands: self
                .scenario
                .commands
                .iter()
                .filter(|c| c.at <= self.first_start())
                .cloned()
                .collect(),
            ..self.scenario.clone()
        }
        .run(Some(self.first_start()))?;
        let mut points = 0;
        for (i, (step, t)) in self.steps.iter().zip(self.times()).enumerate() {
            let n = i + 1;
            cluster.run_until(SimTime(t.start));
            let before = cluster.view();
            for c in &step.commands {
                cluster.run_until(SimTime(t.start + 1 + c.after));
                match (cluster.apply(c.command.clone()), c.refused) {
                    (Ok(_), None) => {}
                    (Err(e), Some(code)) if e.code == code => points += 1,
                    (Ok(_), Some(code)) => {
                        return Err(fail(n, format!("expected the cluster to refuse a command with {code}, but it accepted it.")))
                    }
                    (Err(e), _) => return Err(fail(n, format!("a command was refused: {e}"))),
                }
            }
            cluster.run_until(SimTime(t.end));
            let view = cluster.view();
            // A highlight may name what the step creates or removes.
            for h in &step.highlight {
                let target = Target::parse(h).map_err(|m| fail(n, m))?;
                if !target.exists(&before) && !target.exists(&view) {
                    return Err(fail(
                        n,
                        format!("'{h}' is not on the diagram at this step."),
                    ));
                }
            }
            for e in &step.expect {
                e.holds(&cluster, &view).map_err(|m| fail(n, m))?;
                points += 1;
            }
        }
        Ok(points)
    }
}

/// The lessons that ship with kafkasim, in the order of the source document.
pub fn builtin() -> Vec<Lesson> {
    // Parsed once: the page asks on every lesson it opens.
    static PARSED: std::sync::OnceLock<Vec<Lesson>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            BUILTIN
                .iter()
                .map(|text| Lesson::from_json(text).expect("built-in lessons are checked by tests"))
                .collect()
        })
        .clone()
}

const BUILTIN: &[&str] = &[
    include_str!("../../../../lessons/01-messaging-systems.json"),
    include_str!("../../../../lessons/02-kafka-at-a-glance.json"),
    include_str!("../../../../lessons/03-cluster-architecture.json"),
    include_str!("../../../../lessons/04-topics.json"),
    include_str!("../../../../lessons/05-partitions-and-ordering.json"),
    include_str!("../../../../lessons/06-replication.json"),
    include_str!("../../../../lessons/07-consumer-groups.json"),
    include_str!("../../../../lessons/08-producing.json"),
    include_str!("../../../../lessons/09-brokers-and-zookeeper.json"),
    include_str!("../../../../lessons/10-kraft.json"),
    include_str!("../../../../lessons/11-durability.json"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(steps: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "kafkasim_lesson": 1,
            "id": "replication",
            "title": "Replication",
            "summary": "MyTopic on two brokers.",
            "scenario": {
                "cluster": { "brokers": [1, 2], "broker": { "offsets.topic.replication.factor": 2 } },
                "commands": [
                    { "at": 100, "command": "create_topic", "name": "MyTopic",
                      "assignment": [[1, 2], [2, 1], [1, 2]] },
                    { "at": 150, "command": "create_producer", "id": 1, "config": { "acks": "all" } }
                ]
            },
            "steps": steps
        })
    }

    fn failover() -> serde_json::Value {
        lesson(serde_json::json!([
            { "title": "The scene", "narration": "Two brokers share MyTopic.",
              "highlight": ["Broker 1", "MyTopic-0", "MyTopic-2 on broker 1"],
              "commands": [
                { "command": "produce", "producer": 1, "topic": "MyTopic", "value": "a", "partition": 0 }
              ],
              "run_ms": 1000,
              "expect": [{ "expect": "records", "partition": "MyTopic-0", "min": 1 }] },
            { "title": "Crash", "narration": "Broker 1 dies.",
              "prompt": { "question": "Who leads MyTopic-0 next?", "choices": ["Broker 2", "Nobody"],
                          "answer": 0, "explanation": "Broker 2 was in sync.",
                          "spoilers": ["broker 2"] },
              "after_answer": "Broker 2 took over once broker 1's session expired.",
              "commands": [{ "command": "crash_broker", "broker": 1 }],
              "run_ms": 25000,
              "expect": [
                { "expect": "leader", "partition": "MyTopic-0", "broker": 2 },
                { "expect": "lost", "max": 0 }
              ] },
            { "title": "Duplicate", "narration": "Names are unique.",
              "commands": [{ "command": "create_topic", "name": "MyTopic", "partitions": 1,
                             "refused": "TOPIC_ALREADY_EXISTS" }] }
        ]))
    }

    #[test]
    fn steps_start_where_the_previous_one_ended() {
        let l = Lesson::from_json(&failover().to_string()).unwrap();
        let t = l.times();
        assert_eq!(
            t[0],
            StepTimes {
                start: 150,
                end: 1151
            }
        );
        assert_eq!(
            t[1],
            StepTimes {
                start: 1151,
                end: 26152
            }
        );
        assert_eq!(t[2].start, 26152);
        let timeline = l.timeline();
        let ats: Vec<u64> = timeline.commands.iter().map(|c| c.at).collect();
        assert_eq!(ats, vec![100, 150, 151, 1152, 26153]);
    }

    #[test]
    fn a_question_whose_narration_gives_the_answer_away_is_refused() {
        let mut doc = failover();
        doc["steps"][1]["narration"] = "Broker 1 dies and broker 2 takes over.".into();
        let e = Lesson::from_json(&doc.to_string()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScenario);
        assert!(
            e.message
                .contains("Step 2: its narration gives the question's answer away ('broker 2')"),
            "{}",
            e.message
        );
        // Without its own list the right choice's distinguishing words count,
        // in the title too and in any case.
        doc["steps"][1]["narration"] = "Broker 1 dies.".into();
        doc["steps"][1]["title"] = "NOBODY leads".into();
        doc["steps"][1]["prompt"]["answer"] = 1.into();
        doc["steps"][1]["prompt"]
            .as_object_mut()
            .unwrap()
            .remove("spoilers");
        let e = Lesson::from_json(&doc.to_string()).unwrap_err();
        assert!(e.message.contains("its title gives"), "{}", e.message);
    }

    #[test]
    fn after_answer_belongs_to_a_question_step() {
        let mut doc = failover();
        doc["steps"][0]["after_answer"] = "Nothing was asked.".into();
        let e = Lesson::from_json(&doc.to_string()).unwrap_err();
        assert!(e.message.contains("Step 1: after_answer"), "{}", e.message);
    }

    #[test]
    fn a_good_lesson_checks_every_point() {
        let l = Lesson::from_json(&failover().to_string()).unwrap();
        assert_eq!(l.check(), Ok(4));
    }

    #[test]
    fn a_point_that_does_not_happen_names_its_step() {
        let mut v = failover();
        v["steps"][1]["expect"][0]["broker"] = 1.into();
        let e = Lesson::from_json(&v.to_string())
            .unwrap()
            .check()
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScenario);
        assert!(
            e.message
                .starts_with("Step 2: expected MyTopic-0 to be led by broker 1"),
            "{e}"
        );
    }

    #[test]
    fn an_unexpected_refusal_or_acceptance_fails_the_check() {
        let mut v = failover();
        v["steps"][2]["commands"][0]["refused"] = "INVALID_PARTITIONS".into();
        let e = Lesson::from_json(&v.to_string())
            .unwrap()
            .check()
            .unwrap_err();
        assert!(e.message.contains("refused: TOPIC_ALREADY_EXISTS"), "{e}");
        v["steps"][2]["commands"][0]["name"] = "Other".into();
        let e = Lesson::from_json(&v.to_string())
            .unwrap()
            .check()
            .unwrap_err();
        assert!(e.message.contains("accepted it"), "{e}");
    }

    #[test]
    fn malformed_lessons_are_refused_with_a_reason() {
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = failover();
            f(&mut v);
            Lesson::from_json(&v.to_string()).unwrap_err()
        };
        for (e, says) in [
            (
                Lesson::from_json("[]").unwrap_err(),
                "Not a kafkasim lesson",
            ),
            (with(&|v| v["kafkasim_lesson"] = 2.into()), "version 2"),
            (with(&|v| v["id"] = "Has Spaces".into()), "lowercase"),
            (
                with(&|v| v["steps"] = serde_json::json!([])),
                "1 to 60 steps",
            ),
            (
                with(&|v| v["steps"][0]["narration"] = "".into()),
                "narration",
            ),
            (
                with(&|v| v["steps"][0]["highlight"][0] = "Brkr 1".into()),
                "cannot highlight 'Brkr 1'",
            ),
            (
                with(&|v| v["steps"][1]["prompt"]["answer"] = 5.into()),
                "2 to 5 choices",
            ),
            (
                with(&|v| v["steps"][0]["commands"][0]["after"] = 2000.into()),
                "lasts only 1000 ms",
            ),
            (with(&|v| v["steps"][0]["oops"] = 0.into()), "unknown field"),
            (
                with(&|v| v["steps"][0]["expect"][0]["expect"] = "nonsense".into()),
                "unknown variant",
            ),
            (
                with(&|v| v["steps"][1]["run_ms"] = 4_000_000.into()),
                "limit",
            ),
            (
                with(&|v| {
                    v["steps"][0]["expect_twin"] =
                        serde_json::json!([{ "expect": "lost", "max": 0 }])
                }),
                "expect_twin needs a lesson with compare",
            ),
        ] {
            assert_eq!(e.code, ErrorCode::InvalidScenario, "{says}");
            assert!(e.message.contains(says), "{says}: {e}");
        }
    }

    #[test]
    fn processing_order_is_checked_across_consumers() {
        let mut v = failover();
        v["steps"][0]["commands"] = serde_json::json!([
            { "command": "create_consumer", "id": 1, "config": { "auto.offset.reset": "earliest" },
              "partitions": [{ "topic": "MyTopic", "partition": 0 }] },
            { "after": 10, "command": "produce", "producer": 1, "topic": "MyTopic", "value": "a", "partition": 0 },
            { "after": 300, "command": "produce", "producer": 1, "topic": "MyTopic", "value": "b", "partition": 0 }
        ]);
        v["steps"][0]["expect"] =
            serde_json::json!([{ "expect": "processed_in_order", "values": ["a", "b"] }]);
        assert!(Lesson::from_json(&v.to_string()).unwrap().check().is_ok());
        v["steps"][0]["expect"][0]["values"] = serde_json::json!(["b", "a"]);
        let e = Lesson::from_json(&v.to_string())
            .unwrap()
            .check()
            .unwrap_err();
        assert!(e.message.contains(r#"the order was ["a", "b"]"#), "{e}");
    }

    #[test]
    fn a_highlight_must_be_on_the_diagram() {
        let mut v = failover();
        v["steps"][0]["highlight"][0] = "Broker 7".into();
        let e = Lesson::from_json(&v.to_string())
            .unwrap()
            .check()
            .unwrap_err();
        assert!(
            e.message.contains("'Broker 7' is not on the diagram"),
            "{e}"
        );
    }

    #[test]
    fn targets_read_and_print_as_the_diagram_names_them() {
        for name in [
            "Broker 1",
            "Producer 2",
            "Consumer 3",
            "Group G1",
            "ZooKeeper 2",
            "Controller 1",
            "My-Topic-0",
            "MyTopic-10 on broker 3",
        ] {
            assert_eq!(Target::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            Target::parse("My-Topic-0").unwrap(),
            Target::Partition("My-Topic".into(), 0)
        );
        for bad in [
            "",
            "Broker",
            "Broker x",
            "MyTopic",
            "-0",
            "MyTopic-0 on broker",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_builtin_lesson_parses() {
        assert_eq!(builtin().len(), BUILTIN.len());
    }
}
