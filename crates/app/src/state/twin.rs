//! Compare: the twin session with one setting changed, kept at the original's
//! moment, and the classroom timings applied to both.

use super::*;
use kafkasim_engine::run::compare::{self, Variant};
use kafkasim_engine::run::scenario::Scenario;
use kafkasim_engine::{Session, SimTime};
use leptos::prelude::*;

/// The second cluster of a comparison.
#[derive(Clone, Copy)]
pub struct Twin {
    pub sim: Sim,
    pub variant: Variant,
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
    pub fn compare(&self, variant: Variant) {
        let session = match self.session.with_value(|s| compare::twin(s, variant)) {
            Ok(session) => session,
            Err(e) => {
                self.w.twin.set(None);
                self.error.set(Some(e));
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
        self.w.twin.set(Some(Twin {
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
                self.w.scene.set(scene);
                self.rebuild_log();
                if let Some(v) = twin {
                    self.compare(v);
                }
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    pub fn stop_comparing(&self) {
        self.w.twin.set(None);
    }

    /// Brings the twin to this session's commands and moment
    /// (`compare::follow`); a new session, or one the twin cannot follow,
    /// rebuilds it.
    pub(super) fn sync_twin(&self) {
        let Some(twin) = self.twin.get_untracked() else {
            return;
        };
        if twin.generation != self.generation.get_value() {
            self.compare(twin.variant);
            return;
        }
        let now = SimTime(self.now());
        let followed = self.session.with_value(|original| {
            twin.sim
                .session
                .try_update_value(|t| compare::follow(t, original, twin.variant, now))
        });
        let Some(Ok(events)) = followed else {
            self.compare(twin.variant);
            return;
        };
        if twin.sim.now() > now.0 {
            twin.sim.seek_to(now.0);
        }
        twin.sim.fraction.set(self.fraction.get_untracked());
        twin.sim.record(events);
        twin.sim.refresh();
    }
}
