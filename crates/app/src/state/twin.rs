//! Compare: the twin session with one setting changed, kept at the original's
//! moment, and the classroom timings applied to both.

use super::*;
use kafkasim_engine::run::scenario::Scenario;
use kafkasim_engine::{KafkaError, Session, SimTime};
use leptos::prelude::*;

/// The second cluster of a comparison.
#[derive(Clone, Copy)]
pub struct Twin {
    pub sim: Sim,
    pub variant: kafkasim_engine::run::compare::Variant,
    /// The original's `generation` it was built from.
    generation: u64,
}

impl Twin {
    /// The two sides' titles, in Kafka's words: this session's setting as it
    /// stands (`acks=1`) and the twin's (`acks=all`).
    pub fn labels(&self, original: Sim) -> (String, String) {
        let mine = original.structure.with(|v| self.variant.original_label(v));
        (mine, self.variant.label())
    }
}

impl Sim {
    /// Starts comparing this session with its `variant`, side by side.
    pub fn compare(&self, variant: kafkasim_engine::run::compare::Variant) {
        let file = self.session.with_value(|s| s.to_file());
        let twin_file = kafkasim_engine::run::session::SessionFile {
            scenario: variant.scenario(&file.scenario),
            commands: variant.commands(&file.commands),
            ..file
        };
        let opened = Session::from_file(twin_file);
        let session = match opened {
            Ok(session) => session,
            Err(e) => {
                self.twin.set(None);
                self.error.set(Some(KafkaError::new(
                    e.code,
                    format!("The comparison could not be built: {}", e.message),
                )));
                return;
            }
        };
        let make = move || Sim::with_session(session);
        let sim = match self.owner.get_value() {
            Some(owner) => owner.with(make),
            None => make(),
        };
        sim.persist.set_value(false);
        sim.fraction.set(self.fraction.get_untracked());
        self.twin.set(Some(Twin {
            sim,
            variant,
            generation: self.generation.get_value(),
        }));
    }

    /// Whether the scene runs on classroom timings (shorter failure
    /// detection; `kafkasim_engine::run::timings`).
    pub fn classroom_timings(&self) -> bool {
        self.acted.track();
        self.scene.track();
        self.session
            .with_value(|s| kafkasim_engine::run::timings::in_use(s.scenario()))
    }

    /// Switches classroom timings on or off: the session is replayed to
    /// this moment with its scene and every command rewritten, so what the
    /// class saw happens again with the other timeouts (sooner or later).
    pub fn set_classroom_timings(&self, on: bool) {
        use kafkasim_engine::run::timings;
        let rewrite = if on { timings::apply } else { timings::revert };
        let file = self.session.with_value(|s| s.to_file());
        let all = Scenario {
            commands: file.commands.clone(),
            ..file.scenario.clone()
        };
        let rewritten = kafkasim_engine::run::session::SessionFile {
            scenario: rewrite(&file.scenario),
            commands: rewrite(&all).commands,
            ..file
        };
        let opened = Session::from_file(rewritten);
        match opened {
            Ok(session) => {
                let twin = self.twin.get_untracked().map(|t| t.variant);
                let scene = self.scene.get_untracked();
                self.replace(session);
                self.scene.set(scene);
                self.rebuild_log();
                if let Some(v) = twin {
                    self.compare(v);
                }
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    pub fn stop_comparing(&self) {
        self.twin.set(None);
    }

    /// Brings the twin to this session's commands and moment: new commands
    /// are given to it rewritten by the variant; a rewind rewinds it; a
    /// branch or a new session rebuilds it.
    pub(super) fn sync_twin(&self) {
        let Some(twin) = self.twin.get_untracked() else {
            return;
        };
        let ours = self.session.with_value(|s| s.commands().len());
        let theirs = twin.sim.session.with_value(|s| s.commands().len());
        if twin.generation != self.generation.get_value() || theirs > ours {
            self.compare(twin.variant);
            return;
        }
        let new: Vec<kafkasim_engine::TimedCommand> =
            self.session.with_value(|s| s.commands()[theirs..].to_vec());
        let now = self.now();
        let mut events = Vec::new();
        let mut diverged = false;
        twin.sim.session.update_value(|t| {
            for c in &new {
                if c.at < t.cluster().now().0 {
                    diverged = true;
                    return;
                }
                events.extend(t.run_until(SimTime(c.at)));
                // A command the twin refuses (its setting forbids it) is
                // skipped there, as a recorded one is on replay.
                if let Ok(more) = t.apply(twin.variant.apply(&c.command)) {
                    events.extend(more);
                }
            }
            if t.cluster().now().0 <= now {
                events.extend(t.run_until(SimTime(now)));
            }
        });
        if diverged {
            self.compare(twin.variant);
            return;
        }
        if twin.sim.now() > now {
            twin.sim.seek_to(now);
        }
        twin.sim.fraction.set(self.fraction.get_untracked());
        twin.sim.record(events);
        twin.sim.refresh();
    }
}
