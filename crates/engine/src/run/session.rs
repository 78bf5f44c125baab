//! A session: a scenario plus the commands a user gave since, with periodic
//! snapshots so the timeline can be scrubbed. Seeking restores the nearest
//! earlier snapshot and replays only from there; giving a command after
//! seeking back branches the timeline (later commands are dropped).

use crate::command::Command;
use crate::error::{KafkaError, Result};
use crate::event::{Event, Weight};
use crate::ids::SimTime;
use crate::run::scenario::{check_commands, check_size, invalid, Scenario, TimedCommand};
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};

/// The latest virtual time a saved session may ask for (one hour): opening
/// one replays it, and a class session is far shorter.
pub const MAX_SESSION_MS: u64 = 3_600_000;

/// A session written down: what the browser keeps in local storage, puts in
/// a share link and exports as a file. Opening it replays the commands, so
/// it reproduces the state exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    /// Format version; 1.
    pub kafkasim_session: u32,
    /// The scene as it was set up; Reset returns to it.
    pub scenario: Scenario,
    /// Every command of the timeline: the scene's own and the user's.
    pub commands: Vec<TimedCommand>,
    /// The moment being shown, in virtual ms.
    pub at: u64,
}

/// Events between snapshots, at first; doubles when there are too many.
const FIRST_INTERVAL: u64 = 500;
/// Most snapshots kept; past this every other one is dropped.
const MAX_SNAPSHOTS: usize = 64;

#[derive(Debug, Clone)]
struct Snapshot {
    cluster: Cluster,
    /// Commands of `Session::commands` already applied in `cluster`.
    applied: usize,
    /// Events processed before this snapshot.
    events: u64,
}

#[derive(Debug, Clone)]
pub struct Session {
    scenario: Scenario,
    /// The scenario's commands followed by the user's, in time order.
    commands: Vec<TimedCommand>,
    cluster: Cluster,
    applied: usize,
    events: u64,
    snapshots: Vec<Snapshot>,
    interval: u64,
    /// The latest moment this timeline has been played to; a command given
    /// earlier than it branches the timeline and brings it back.
    reached: SimTime,
    /// Recorded commands the cluster refused on replay, by index into
    /// `commands`: a lesson step whose point is Kafka's refusal shows it.
    refused: std::collections::BTreeMap<usize, KafkaError>,
    /// Snapshots falling due in `run_until` and `step` wait for
    /// `take_due_snapshot`; see `defer_snapshots`.
    defer_snapshots: bool,
    /// A deferred snapshot is waiting.
    snapshot_due: bool,
}

impl Session {
    /// Starts a session at time zero (nothing of the scenario run yet).
    pub fn new(scenario: Scenario) -> Result<Session> {
        let cluster = Cluster::new(scenario.cluster.clone())?;
        let commands = scenario.commands.clone();
        let first = Snapshot {
            cluster: cluster.clone(),
            applied: 0,
            events: 0,
        };
        Ok(Session {
            scenario,
            commands,
            cluster,
            applied: 0,
            events: 0,
            snapshots: vec![first],
            interval: FIRST_INTERVAL,
            reached: SimTime(0),
            refused: Default::default(),
            defer_snapshots: false,
            snapshot_due: false,
        })
    }

    /// Reopens a saved session at its moment. A file that is too large,
    /// malformed, out of time order or beyond `MAX_SESSION_MS` is refused
    /// with INVALID_SCENARIO; commands the cluster refuses on replay are
    /// skipped, as they were when first given.
    pub fn open(text: &str) -> Result<Session> {
        check_size(text, "session")?;
        let file: SessionFile = serde_json::from_str(text)
            .map_err(|e| crate::run::scenario::unreadable("session", &e))?;
        Session::from_file(file)
    }

    /// Opens a session from its file's contents, checked as `open` checks
    /// them: the app's comparison and classroom timings rewrite a session
    /// this way without a round trip through JSON text.
    pub fn from_file(file: SessionFile) -> Result<Session> {
        if file.kafkasim_session != 1 {
            return Err(invalid(format!(
                "Session format version {} is not supported; this kafkasim reads version 1.",
                file.kafkasim_session
            )));
        }
        check_commands(&file.commands, "session")?;
        let last = file.commands.last().map_or(0, |c| c.at);
        if file.at.max(last) > MAX_SESSION_MS {
            return Err(invalid(format!(
                "The session reaches {} ms of virtual time; the limit is {MAX_SESSION_MS} ms.",
                file.at.max(last)
            )));
        }
        let mut session = Session::new(file.scenario)?;
        session.commands = file.commands;
        session.run_until(SimTime(file.at));
        Ok(session)
    }

    /// This session written down at its current moment.
    pub fn to_file(&self) -> SessionFile {
        SessionFile {
            kafkasim_session: 1,
            scenario: self.scenario.clone(),
            commands: self.commands.clone(),
            at: self.cluster.now().0,
        }
    }

    /// When the next thing happens: a scheduled event or a recorded command.
    pub fn next_time(&self) -> Option<SimTime> {
        let cmd = self.commands.get(self.applied).map(|c| SimTime(c.at));
        match (self.cluster.next_event_time(), cmd) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The time of the last recorded command, if any is still ahead.
    pub fn recorded_until(&self) -> Option<SimTime> {
        self.commands[self.applied..].last().map(|c| SimTime(c.at))
    }

    /// The end of the timeline, for a scrubber: the furthest moment played
    /// or the last recorded command, whichever is later.
    pub fn horizon(&self) -> SimTime {
        self.recorded_until()
            .map_or(self.reached, |t| t.max(self.reached))
            .max(self.cluster.now())
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Every command of the session so far: the scenario's and the user's.
    pub fn commands(&self) -> &[TimedCommand] {
        &self.commands
    }

    /// Recorded commands refused when replayed, with Kafka's answer.
    pub fn refusals(&self) -> impl Iterator<Item = (&TimedCommand, &KafkaError)> {
        self.refused.iter().map(|(i, e)| (&self.commands[*i], e))
    }

    /// Applies a user command now and records it. Commands recorded later
    /// than now (after a seek back) are dropped: the timeline branches here.
    pub fn apply(&mut self, command: Command) -> Result<Vec<Event>> {
        let events = self.cluster.apply(command.clone())?;
        let now = self.cluster.now();
        self.commands.truncate(self.applied);
        self.refused.retain(|i, _| *i < self.applied);
        self.snapshots
            .retain(|s| s.cluster.now() <= now && s.applied <= self.applied);
        self.commands.push(TimedCommand { at: now.0, command });
        self.applied += 1;
        self.reached = now;
        Ok(events)
    }

    /// Runs to `until`, applying recorded commands on the way.
    pub fn run_until(&mut self, until: SimTime) -> Vec<Event> {
        let mut out = Vec::new();
        loop {
            let next_cmd = self
                .commands
                .get(self.applied)
                .map(|c| SimTime(c.at))
                .filter(|t| *t <= until);
            let next_item = self.cluster.next_event_time().filter(|t| *t <= until);
            match (next_item, next_cmd) {
                (Some(item), Some(cmd)) if item <= cmd => self.step_into(&mut out),
                (Some(_), None) => self.step_into(&mut out),
                (_, Some(cmd)) => {
                    self.cluster.run_until(cmd);
                    let tc = self.commands[self.applied].clone();
                    self.applied += 1;
                    // A recorded command that fails now failed then too: skip it.
                    match self.cluster.apply(tc.command) {
                        Ok(events) => out.extend(events),
                        Err(e) => {
                            self.refused.insert(self.applied - 1, e);
                        }
                    }
                }
                (None, None) => break,
            }
        }
        self.cluster.run_until(until);
        self.reached = self.reached.max(self.cluster.now());
        out
    }

    /// Processes one scheduled item, wherever it lies in time.
    pub fn step(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some(t) = self.cluster.next_event_time() {
            out = self.run_until_commands_before(t);
            self.step_into(&mut out);
        }
        out
    }

    /// Runs item by item until an event of at least `weight` happens, and
    /// stops right after it: Step (`Weight::Picture`) and Skip
    /// (`Weight::Milestone`). Nothing of that weight within `within_ms`:
    /// runs to that limit. Recorded commands on the way are applied.
    pub fn step_until(&mut self, weight: Weight, within_ms: u64) -> Vec<Event> {
        let limit = SimTime(self.cluster.now().0.saturating_add(within_ms));
        let mut out = Vec::new();
        while let Some(t) = self.next_time().filter(|t| *t <= limit) {
            let from = out.len();
            let before = (self.cluster.now(), self.events, self.applied);
            if self.cluster.next_event_time() == Some(t) {
                out.extend(self.step());
            } else {
                // Only a recorded command is due.
                out.extend(self.run_until(t));
            }
            if out[from..].iter().any(|e| e.kind.weight() >= weight) {
                return out;
            }
            if (self.cluster.now(), self.events, self.applied) == before {
                break;
            }
        }
        out.extend(self.run_until(limit));
        out
    }

    fn run_until_commands_before(&mut self, t: SimTime) -> Vec<Event> {
        let mut out = Vec::new();
        while self
            .commands
            .get(self.applied)
            .is_some_and(|c| SimTime(c.at) < t)
        {
            let target = SimTime(self.commands[self.applied].at);
            out.extend(self.run_until(target));
        }
        out
    }

    fn step_into(&mut self, out: &mut Vec<Event>) {
        out.extend(self.cluster.step());
        self.reached = self.reached.max(self.cluster.now());
        self.events += 1;
        if self.events % self.interval == 0 {
            if self.defer_snapshots && !self.snapshot_due {
                self.snapshot_due = true;
            } else {
                // Not deferred, or the last deferred one was never taken:
                // keep the spacing by taking this one now.
                self.take_snapshot();
            }
        }
    }

    /// Lets a caller that draws frames take snapshots between them. A
    /// snapshot copies the whole cluster, milliseconds in a busy scene: one
    /// falling due in `run_until` or `step` then waits for
    /// `take_due_snapshot` (the app calls it when the browser is idle). A
    /// snapshot only speeds up later seeks; where it is taken changes no
    /// event. `seek` still takes its own at once.
    pub fn defer_snapshots(&mut self, on: bool) {
        self.defer_snapshots = on;
        if !on {
            self.take_due_snapshot();
        }
    }

    /// Whether a deferred snapshot is waiting for `take_due_snapshot`.
    pub fn snapshot_due(&self) -> bool {
        self.snapshot_due
    }

    /// Takes the waiting snapshot, if any, of the cluster as it is now.
    pub fn take_due_snapshot(&mut self) {
        if self.snapshot_due {
            self.take_snapshot();
        }
    }

    fn take_snapshot(&mut self) {
        self.snapshot_due = false;
        if self
            .snapshots
            .last()
            .is_some_and(|s| s.events >= self.events)
        {
            return;
        }
        self.snapshots.push(Snapshot {
            cluster: self.cluster.clone(),
            applied: self.applied,
            events: self.events,
        });
        if self.snapshots.len() > MAX_SNAPSHOTS {
            // Keep the first and every other one after it; space them wider.
            let mut i = 0;
            self.snapshots.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.interval *= 2;
        }
    }

    /// Moves to virtual time `t`, backwards or forwards, deterministically.
    pub fn seek(&mut self, t: SimTime) {
        if t < self.cluster.now() {
            // The waiting snapshot was of a moment being left.
            self.snapshot_due = false;
            let snap = self
                .snapshots
                .iter()
                .rev()
                .find(|s| s.cluster.now() <= t)
                .expect("the first snapshot is at time zero")
                .clone();
            self.cluster = snap.cluster;
            self.applied = snap.applied;
            self.events = snap.events;
        }
        let defer = std::mem::replace(&mut self.defer_snapshots, false);
        self.run_until(t);
        self.defer_snapshots = defer;
    }

    pub fn snapshot_count(&self) -> usize {
        self.snapshots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::ids::{BrokerId, ProducerId};
    use crate::run::presets;
    use crate::run::scenario::MAX_SCENARIO_BYTES;

    fn produce(i: u32) -> Command {
        Command::Produce {
            producer: ProducerId(1),
            topic: "MyTopic".into(),
            key: Some(format!("k{i}").into()),
            value: format!("v{i}").into(),
            partition: None,
        }
    }

    #[test]
    fn seeking_back_and_forth_reproduces_the_same_state() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        for i in 0..50 {
            s.apply(produce(i)).unwrap();
            s.run_until(SimTime(s.cluster().now().0 + 700));
        }
        s.apply(Command::CrashBroker {
            broker: BrokerId(2),
        })
        .unwrap();
        s.run_until(SimTime(120_000));
        let end = s.cluster().view();
        s.seek(SimTime(20_000));
        let middle = s.cluster().view();
        assert_eq!(middle.time, SimTime(20_000));
        assert!(middle
            .brokers
            .iter()
            .all(|b| b.status == crate::broker::BrokerStatus::Running));
        s.seek(SimTime(120_000));
        assert_eq!(
            s.cluster().view(),
            end,
            "replaying forward gives the same end state"
        );
        assert!(
            s.snapshot_count() > 1,
            "{} snapshots after {} events",
            s.snapshot_count(),
            s.events
        );
    }

    #[test]
    fn deferred_snapshots_wait_for_the_caller_and_change_no_event() {
        let play = |defer: bool| {
            let mut s = Session::new(presets::quickstart()).unwrap();
            s.defer_snapshots(defer);
            let mut trace = s.run_until(SimTime(1_000));
            let mut waited = 0;
            for i in 0..150 {
                s.apply(produce(i)).unwrap();
                let before = s.snapshot_count();
                trace.extend(s.run_until(SimTime(s.cluster().now().0 + 700)));
                if defer && s.snapshot_due() {
                    waited += 1;
                    // At most the second snapshot due in one run is taken
                    // in it; the first waits.
                    assert!(s.snapshot_count() <= before + 1);
                    s.take_due_snapshot();
                    assert!(!s.snapshot_due());
                }
            }
            (s, trace, waited)
        };
        let (mut deferred, deferred_trace, waited) = play(true);
        let (mut inline, inline_trace, _) = play(false);
        assert!(waited > 3, "only {waited} snapshots were deferred");
        assert_eq!(deferred_trace, inline_trace);
        assert!(deferred.snapshot_count() > 3);
        // Seeking from either set of snapshots reaches the same states.
        for t in [100_000, 3_000, 50_000, 77_777] {
            deferred.seek(SimTime(t));
            inline.seek(SimTime(t));
            assert_eq!(deferred.cluster().view(), inline.cluster().view(), "at {t}");
        }
    }

    #[test]
    fn a_command_after_seeking_back_branches_the_timeline() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        s.apply(Command::CrashBroker {
            broker: BrokerId(1),
        })
        .unwrap();
        s.run_until(SimTime(5_000));
        s.seek(SimTime(500));
        s.apply(Command::CrashBroker {
            broker: BrokerId(3),
        })
        .unwrap();
        s.run_until(SimTime(5_000));
        let v = s.cluster().view();
        let down: Vec<u32> = v
            .brokers
            .iter()
            .filter(|b| b.status != crate::broker::BrokerStatus::Running)
            .map(|b| b.id.0)
            .collect();
        assert_eq!(down, vec![3], "the old future (broker 1 crashing) is gone");
        assert_eq!(
            s.commands()
                .iter()
                .filter(|c| matches!(c.command, Command::CrashBroker { .. }))
                .count(),
            1
        );
    }

    #[test]
    fn a_saved_session_reopens_at_the_same_state() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        s.apply(produce(1)).unwrap();
        s.run_until(SimTime(2_000));
        s.apply(Command::CrashBroker {
            broker: BrokerId(2),
        })
        .unwrap();
        s.run_until(SimTime(9_000));
        let text = serde_json::to_string(&s.to_file()).unwrap();
        let reopened = Session::open(&text).unwrap();
        assert_eq!(reopened.cluster().view(), s.cluster().view());
        assert_eq!(reopened.commands(), s.commands());
        // Reset goes to the scene, not to the user's commands.
        assert_eq!(reopened.scenario(), &presets::quickstart());
    }

    #[test]
    fn bad_session_files_are_refused_with_a_reason() {
        let good =
            serde_json::to_value(Session::new(presets::quickstart()).unwrap().to_file()).unwrap();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            Session::open(&v.to_string()).unwrap_err()
        };
        for (e, says) in [
            (
                Session::open("not json").unwrap_err(),
                "This file is not a kafkasim session: it is not JSON text. Not a kafkasim session: expected",
            ),
            (
                Session::open("{\"kafkasim_session\": 1, \"scen").unwrap_err(),
                "This file is cut short",
            ),
            (
                Session::open("{\"hello\": 1}").unwrap_err(),
                "This file is JSON but not a kafkasim session: a field is missing",
            ),
            (with(&|v| v["kafkasim_session"] = 7.into()), "version 7"),
            (with(&|v| v["at"] = (MAX_SESSION_MS + 1).into()), "limit"),
            (with(&|v| v["extra"] = 1.into()), "unknown field"),
            (
                with(&|v| {
                    v["commands"] = serde_json::json!([
                        {"at": 10, "command": "crash_broker", "broker": 1},
                        {"at": 5, "command": "restart_broker", "broker": 1}
                    ])
                }),
                "time order",
            ),
            (
                Session::open(&" ".repeat(MAX_SCENARIO_BYTES + 1)).unwrap_err(),
                "bytes",
            ),
        ] {
            assert_eq!(e.code, ErrorCode::InvalidScenario);
            assert!(e.message.contains(says), "{says}: {e}");
        }
    }

    #[test]
    fn next_time_includes_recorded_commands_after_a_seek_back() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(3_000));
        s.apply(Command::CrashBroker {
            broker: BrokerId(1),
        })
        .unwrap();
        s.run_until(SimTime(4_000));
        s.seek(SimTime(1_000));
        assert_eq!(s.recorded_until(), Some(SimTime(3_000)));
        assert_eq!(s.horizon(), SimTime(4_000), "rewinding keeps the horizon");
        assert!(s.next_time().is_some_and(|t| t <= SimTime(3_000)));
    }
}
