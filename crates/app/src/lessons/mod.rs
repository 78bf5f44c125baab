//! Guided lessons on the live simulator: the lessons list, the step player
//! (narration, highlights, prediction prompts, Back and Next) and the
//! hand-over to free play and back.
//!
//! A lesson is one timeline (`Lesson::timeline`); every step starts at a
//! fixed virtual time, so showing step k is a seek there, and Back is
//! deterministic replay. While a step plays the clock stops at its end.

mod page;
mod panel;
pub use page::*;
pub use panel::*;

use crate::models::Models;
use crate::state::Sim;
use crate::toolbar::{Page, Ui};
use kafkasim_engine::lesson::{self, Lesson, LessonView, StepTimes};
use kafkasim_engine::{ErrorCode, KafkaError, Session, SimTime};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const STORAGE_KEY: &str = "kafkasim.lesson";
/// Built-in lessons are numbered from 1, in the source document's order.
const FIRST_NUMBER: usize = 1;
const LINK_PREFIX: &str = "#lesson=";

/// What the student did with a step's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    Chose(usize),
    Skipped,
}

/// Where a step is: asking its question, playing, or played to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Asking,
    Playing,
    Done,
}

/// The lesson being presented, if any, and where in it we are.
#[derive(Clone, Copy)]
pub struct Player {
    pub lesson: RwSignal<Option<Arc<Lesson>>>,
    /// The lesson's place in the built-in list (1-based), or `None` for a
    /// lesson opened from a file.
    pub number: RwSignal<Option<usize>>,
    /// The lesson file's text, for a lesson opened from a file (so a reload
    /// can reopen it).
    file: StoredValue<Option<String>>,
    /// 0-based.
    pub step: RwSignal<usize>,
    pub answers: RwSignal<Vec<Option<Answer>>>,
    /// The student took over ("Try it yourself").
    pub free_play: RwSignal<bool>,
    /// The Messaging models page, for lessons that play there.
    models: Models,
    /// The inspector folded (`Ui::inspector_folded`): a lesson opens with
    /// it folded, so the narration and the question have the room.
    inspector_folded: RwSignal<bool>,
}

/// What is remembered across a reload.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    id: String,
    step: usize,
    free_play: bool,
    #[serde(default)]
    file: Option<String>,
}

impl Player {
    pub fn new(models: Models, inspector_folded: RwSignal<bool>) -> Player {
        Player {
            models,
            inspector_folded,
            lesson: RwSignal::new(None),
            number: RwSignal::new(None),
            file: StoredValue::new(None),
            step: RwSignal::new(0),
            answers: RwSignal::new(Vec::new()),
            free_play: RwSignal::new(false),
        }
    }

    /// A lesson is being presented (not handed over to free play).
    pub fn presenting(&self) -> bool {
        self.lesson.with(Option::is_some) && !self.free_play.get()
    }

    /// The page the current lesson plays on.
    pub fn page(&self) -> Page {
        match self.view() {
            LessonView::Models => Page::Models,
            LessonView::Cluster => Page::Cluster,
        }
    }

    fn view(&self) -> LessonView {
        self.lesson
            .with(|l| l.as_ref().map(|l| l.view))
            .unwrap_or_default()
    }

    fn times(&self) -> Vec<StepTimes> {
        self.lesson
            .with_untracked(|l| l.as_ref().map(|l| l.times()))
            .unwrap_or_default()
    }

    /// Opens `lesson` on the simulator at `step` (0-based).
    pub fn open(&self, sim: Sim, lesson: Lesson, step: usize, file: Option<String>) {
        if lesson.view == LessonView::Cluster {
            let Ok(session) = Session::new(lesson.timeline()) else {
                return;
            };
            sim.present(session);
            match lesson.compare {
                Some(v) => sim.compare(v),
                None => sim.stop_comparing(),
            }
        }
        let number = lesson::builtin().iter().position(|l| *l == lesson);
        let steps = lesson.steps.len();
        self.number.set(number.map(|n| n + FIRST_NUMBER));
        self.file.set_value(file);
        self.answers.set(vec![None; steps]);
        self.lesson.set(Some(Arc::new(lesson)));
        self.free_play.set(false);
        // The narration and the question get the inspector's room; the
        // event log is one click (or i) away.
        self.inspector_folded.set(true);
        self.go(sim, step.min(steps - 1));
    }

    /// Shows step `k`: its starting state, then its question or its play.
    pub fn go(&self, sim: Sim, k: usize) {
        let times = self.times();
        let Some(t) = times.get(k).copied() else {
            return;
        };
        self.step.set(k);
        if untrack(|| self.view()) == LessonView::Models {
            let models_at = self
                .lesson
                .with_untracked(|l| l.as_ref().map(|l| l.models_at(k)));
            if let Some((classic, script)) = models_at {
                self.models.present(classic, script, t.end);
            }
            self.models
                .paused
                .set(self.phase_untracked(sim) == Phase::Asking);
        } else {
            sim.playing.set(false);
            sim.pause_at.set(Some(t.end));
            sim.seek(t.start);
            sim.error.set(None);
            // The event log starts the step with its title, not a bare time.
            let title = self
                .lesson
                .with_untracked(|l| l.as_ref().map(|l| l.steps[k].title.clone()));
            if let Some(title) = title {
                sim.start_log(crate::state::LogLine::new(
                    SimTime(t.start),
                    format!("Lesson step {}: {title}.", k + 1),
                    false,
                    crate::state::Area::Cluster,
                ));
            }
            if self.phase_untracked(sim) != Phase::Asking {
                sim.playing.set(true);
            }
        }
        self.save();
        self.show_in_address_bar(k);
    }

    /// Keeps the address bar on the step shown (`#lesson=ID&step=N`), so a
    /// copied address or a reload opens it; replacing the entry, so Back in
    /// the browser leaves the page rather than walking the steps.
    pub(crate) fn show_in_address_bar(&self, k: usize) {
        let id = self
            .lesson
            .with_untracked(|l| l.as_ref().map(|l| l.id.clone()));
        let (Some(id), Some(_)) = (id, self.number.get_untracked()) else {
            return;
        };
        if let Some(w) = web_sys::window() {
            let hash = format!("{LINK_PREFIX}{id}&step={}", k + 1);
            if w.location().hash().ok().as_deref() != Some(hash.as_str()) {
                if let Ok(h) = w.history() {
                    let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&hash));
                }
            }
        }
    }

    fn phase_untracked(&self, sim: Sim) -> Phase {
        untrack(|| self.phase(sim))
    }

    /// Where the current step is.
    pub fn phase(&self, sim: Sim) -> Phase {
        let k = self.step.get();
        let asks = self
            .lesson
            .with(|l| l.as_ref().is_some_and(|l| l.steps[k].prompt.is_some()));
        let answered = self.answers.with(|a| a.get(k).copied().flatten().is_some());
        if asks && !answered {
            return Phase::Asking;
        }
        let end = self.lesson.with(|l| l.as_ref().map(|l| l.times()[k].end));
        let now = match self.view() {
            LessonView::Models => self.models.time.get() as u64,
            LessonView::Cluster => sim.view.with(|v| v.time.0),
        };
        if end.is_some_and(|end| now >= end) {
            Phase::Done
        } else {
            Phase::Playing
        }
    }

    /// Answers (or skips) the current step's question: the step plays.
    pub fn answer(&self, sim: Sim, answer: Answer) {
        let k = self.step.get_untracked();
        self.answers.update(|a| {
            if let Some(slot) = a.get_mut(k) {
                *slot = Some(answer);
            }
        });
        match untrack(|| self.view()) {
            LessonView::Models => self.models.paused.set(false),
            LessonView::Cluster => sim.playing.set(true),
        }
    }

    /// Next: skips an open question, else moves to the next step.
    pub fn next(&self, sim: Sim) {
        if self.phase_untracked(sim) == Phase::Asking {
            self.answer(sim, Answer::Skipped);
            return;
        }
        let k = self.step.get_untracked();
        if k + 1 < self.times().len() {
            self.go(sim, k + 1);
        }
    }

    pub fn back(&self, sim: Sim) {
        let k = self.step.get_untracked();
        self.go(sim, k.saturating_sub(1));
    }

    /// Hands the simulator to the student from this moment.
    pub fn try_it(&self, sim: Sim) {
        self.free_play.set(true);
        sim.pause_at.set(None);
        self.models.release();
        self.save();
    }

    /// From free play back to the step where the student left.
    pub fn back_to_lesson(&self, sim: Sim) {
        let Some(lesson) = self.lesson.get_untracked() else {
            return;
        };
        if lesson.view == LessonView::Models {
            self.free_play.set(false);
            self.go(sim, self.step.get_untracked());
            return;
        }
        let Ok(session) = Session::new(lesson.timeline()) else {
            return;
        };
        let answers = self.answers.get_untracked();
        sim.present(session);
        if let Some(v) = lesson.compare {
            sim.compare(v);
        }
        self.answers.set(answers);
        self.free_play.set(false);
        self.go(sim, self.step.get_untracked());
    }

    /// Leaves the lesson; the cluster stays as it is, to play with.
    pub fn leave(&self, sim: Sim) {
        crate::state::store::clear_link();
        self.lesson.set(None);
        self.free_play.set(false);
        sim.pause_at.set(None);
        self.models.release();
        if let Some(s) = crate::state::store::storage() {
            let _ = s.remove_item(STORAGE_KEY);
        }
    }

    /// Names of what the current step points at (empty in free play).
    pub fn highlights(&self) -> Vec<String> {
        if self.free_play.get() {
            return Vec::new();
        }
        let k = self.step.get();
        self.lesson
            .with(|l| l.as_ref().map(|l| l.steps[k].highlight.clone()))
            .unwrap_or_default()
    }

    fn save(&self) {
        let Some(id) = self
            .lesson
            .with_untracked(|l| l.as_ref().map(|l| l.id.clone()))
        else {
            return;
        };
        let saved = Saved {
            id,
            step: self.step.get_untracked(),
            free_play: self.free_play.get_untracked(),
            file: self.file.get_value(),
        };
        if let (Some(s), Ok(text)) = (
            crate::state::store::storage(),
            serde_json::to_string(&saved),
        ) {
            let _ = s.set_item(STORAGE_KEY, &text);
        }
    }

    /// A lesson link in the address bar, read before anything clears it:
    /// `#lesson=replication&step=3` (steps count from 1).
    pub fn link() -> Option<(String, usize)> {
        let hash = web_sys::window()?.location().hash().ok()?;
        parse_link(&hash)
    }

    /// Reopens what the address bar or the last visit asks for. A link
    /// naming no lesson is reported and changes nothing.
    pub fn restore(&self, sim: Sim, ui: Ui, link: Option<(String, usize)>) {
        if let Some((id, step)) = link {
            crate::state::store::clear_link();
            match lesson::builtin().into_iter().find(|l| l.id == id) {
                Some(l) => {
                    self.open(sim, l, step.saturating_sub(1), None);
                    ui.page.set(self.page());
                }
                None => sim.error.set(Some(KafkaError::new(
                    ErrorCode::InvalidScenario,
                    format!("The link asks for lesson '{id}', which does not exist; the current session was kept."),
                ))),
            }
            return;
        }
        let Some(saved) = crate::state::store::storage()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|t| serde_json::from_str::<Saved>(&t).ok())
        else {
            return;
        };
        let lesson = match &saved.file {
            Some(text) => Lesson::from_json(text).ok(),
            None => lesson::builtin().into_iter().find(|l| l.id == saved.id),
        };
        let Some(lesson) = lesson else {
            return;
        };
        if saved.free_play && lesson.view == LessonView::Cluster {
            // The session itself was restored from storage: keep it.
            let steps = lesson.steps.len();
            self.number.set(
                lesson::builtin()
                    .iter()
                    .position(|l| *l == lesson)
                    .map(|n| n + FIRST_NUMBER),
            );
            self.file.set_value(saved.file);
            self.answers.set(vec![None; steps]);
            self.step.set(saved.step.min(steps - 1));
            self.lesson.set(Some(Arc::new(lesson)));
            self.free_play.set(true);
        } else {
            self.open(sim, lesson, saved.step, saved.file);
        }
        ui.page.set(self.page());
    }
}

/// `#lesson=ID&step=N` → (ID, N); step defaults to 1.
pub fn parse_link(hash: &str) -> Option<(String, usize)> {
    let rest = hash.strip_prefix(LINK_PREFIX)?;
    let (id, step) = match rest.split_once("&step=") {
        Some((id, step)) => (id, step.parse().ok()?),
        None => (rest, 1),
    };
    (!id.is_empty()).then(|| (id.to_string(), step))
}

/// The address of a built-in lesson at a step (1-based).
fn link_to(id: &str, step: usize) -> String {
    let base = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default();
    format!("{base}{LINK_PREFIX}{id}&step={step}")
}

/// Opens what a changed address asks for while the page is open: another
/// lesson step (typed or pasted after the `#`), or a shared session (the
/// page reloads to open it as it opens any link).
pub fn follow_address(player: Player, sim: Sim, ui: Ui) {
    let handle = window_event_listener(leptos::ev::hashchange, move |_| {
        let Some(hash) = web_sys::window().and_then(|w| w.location().hash().ok()) else {
            return;
        };
        if let Some(link) = parse_link(&hash) {
            let here = player
                .lesson
                .with_untracked(|l| l.as_ref().map(|l| l.id.clone()));
            if here.as_deref() == Some(link.0.as_str()) && player.number.get_untracked().is_some() {
                player.go(
                    sim,
                    link.1
                        .saturating_sub(1)
                        .min(player.times().len().saturating_sub(1)),
                );
                ui.page.set(player.page());
            } else {
                player.restore(sim, ui, Some(link));
            }
        } else if crate::state::store::is_session_link(&hash) {
            let _ = web_sys::window().map(|w| w.location().reload());
        }
    });
    std::mem::forget(handle);
}

/// Hands the lesson to free play when the user acts on the cluster.
pub fn follow_user(player: Player, sim: Sim) {
    Effect::new(move |previous: Option<u64>| {
        let acted = sim.acted.get() + player.models.acted.get();
        if previous.is_some_and(|p| p != acted) && untrack(|| player.presenting()) {
            player.try_it(sim);
        }
        acted
    });
}

/// The step follows the clock: rewound (the timeline slider, ←) to before
/// the step began, the panel shows the step that moment belongs to, as it
/// was then, rather than waiting on "Watch the cluster…" with the clock
/// behind it.
pub fn follow_clock(player: Player, sim: Sim) {
    let now = Memo::new(move |_| sim.view.with(|v| v.time.0));
    Effect::new(move |_| {
        let now = now.get();
        let presenting = untrack(|| player.presenting() && player.view() == LessonView::Cluster);
        if !presenting {
            return;
        }
        let k = player.step.get_untracked();
        let times = player.times();
        let Some(here) = times.get(k) else {
            return;
        };
        if now >= here.start {
            return;
        }
        // Before the first step: the first.
        let j = times.iter().rposition(|t| t.start <= now).unwrap_or(0);
        player.step.set(j);
        sim.pause_at.set(Some(times[j].end));
        player.show_in_address_bar(j);
    });
}

/// Whether a node answering to any of `names` is among `highlights`.
pub fn matches(highlights: &[String], names: &[String]) -> bool {
    highlights.iter().any(|h| names.contains(h))
}

/// A reactive "is this node highlighted by the lesson?" for a node that
/// answers to `name`.
pub fn lit(name: String) -> impl Fn() -> bool + Send + Sync + 'static {
    lit_any(vec![name])
}

/// As `lit`, for a node with several names: a replica is lit by its
/// partition (`MyTopic-0`) or by itself (`MyTopic-0 on broker 2`).
pub fn lit_any(names: Vec<String>) -> impl Fn() -> bool + Send + Sync + 'static {
    let player = use_context::<Player>();
    // The key calculator lights the partition a key goes to.
    let keyed = use_context::<Sim>().map(|s| s.key_partition);
    move || {
        player.is_some_and(|p| matches(&p.highlights(), &names))
            || keyed.is_some_and(|k| k.with(|k| k.as_ref().is_some_and(|k| names.contains(k))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_highlight_lights_the_nodes_that_answer_to_its_name() {
        let h = vec!["Broker 1".to_string(), "MyTopic-0".to_string()];
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(&h, &names(&["Broker 1"])));
        assert!(!matches(&h, &names(&["Broker 10"])));
        assert!(matches(&h, &names(&["MyTopic-0", "MyTopic-0 on broker 2"])));
        assert!(!matches(
            &h,
            &names(&["MyTopic-01", "MyTopic-01 on broker 2"])
        ));
        assert!(!matches(&h, &names(&["Producer 1"])));
    }

    #[test]
    fn lesson_links_name_a_lesson_and_a_step() {
        assert_eq!(
            parse_link("#lesson=replication&step=3"),
            Some(("replication".into(), 3))
        );
        assert_eq!(parse_link("#lesson=topics"), Some(("topics".into(), 1)));
        assert_eq!(parse_link("#lesson=topics&step=x"), None);
        assert_eq!(parse_link("#lesson="), None);
        assert_eq!(parse_link("#session=abc"), None);
    }
}
