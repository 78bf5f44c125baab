//! Guided lessons on the live simulator: the lessons list, the step player
//! (narration, highlights, prediction prompts, Back and Next) and the
//! hand-over to free play and back.
//!
//! A lesson is one timeline (`Lesson::timeline`); every step starts at a
//! fixed virtual time, so showing step k is a seek there, and Back is
//! deterministic replay. While a step plays the clock stops at its end.

use crate::models::Models;
use crate::sim::Sim;
use crate::toolbar::{Page, Ui};
use kafkasim_engine::lesson::{self, Lesson, LessonView, StepTimes};
use kafkasim_engine::view::ClusterView;
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
                sim.log.set(vec![crate::sim::LogLine::new(
                    SimTime(t.start),
                    format!("Lesson step {}: {title}.", k + 1),
                    false,
                    crate::sim::Area::Cluster,
                )]);
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
        crate::store::clear_link();
        self.lesson.set(None);
        self.free_play.set(false);
        sim.pause_at.set(None);
        self.models.release();
        if let Some(s) = crate::store::storage() {
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
        if let (Some(s), Ok(text)) = (crate::store::storage(), serde_json::to_string(&saved)) {
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
            crate::store::clear_link();
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
        let Some(saved) = crate::store::storage()
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
        } else if crate::store::is_session_link(&hash) {
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

/// The lessons page: every lesson with its summary and a picture of its
/// scene, and a way to open a lesson file.
#[component]
pub fn LessonsPage() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<Ui>();
    let player = expect_context::<Player>();
    let lessons = lesson::builtin();
    let cards = lessons
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let scene = scene_at_start(&l);
            let title = l.title.clone();
            let open_label = format!("Open lesson {}: {}", i + FIRST_NUMBER, l.title);
            let steps = l.steps.len();
            let summary = l.summary.clone();
            let models = l.view == LessonView::Models;
            let open = move |_| {
                player.open(sim, l.clone(), 0, None);
                ui.page.set(player.page());
            };
            view! {
                <li class="lesson-card">
                    <button class="lesson-open" on:click=open aria-label=open_label>
                        {if models { models_thumbnail().into_any() } else { scene.map(|v| thumbnail(&v)).into_any() }}
                        <span class="lesson-number">{format!("Lesson {}", i + FIRST_NUMBER)}</span>
                        <span class="lesson-title">{title}</span>
                    </button>
                    <p class="lesson-summary">{summary}</p>
                    <p class="lesson-meta">{format!("{steps} steps")}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <main class="stage-lessons">
            <section class="lessons" aria-labelledby="lessons-heading">
                <div class="lessons-head">
                    <h2 id="lessons-heading">"Lessons"</h2>
                    <p class="panel-hint">
                        "Each lesson follows one section of the source document on the live cluster. Advance with Next, → or a presentation clicker; "
                        "Try it yourself hands you the cluster at any step."
                    </p>
                    <OpenLessonFile />
                </div>
                <ol class="lesson-list">
                    {cards}
                </ol>
            </section>
        </main>
    }
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

/// The Messaging models page in miniature: a queue and a topic with their
/// clients.
fn models_thumbnail() -> impl IntoView {
    view! {
        <svg class="thumb" viewBox="0 0 160 90" aria-hidden="true">
            <rect x="58" y="12" width="44" height="26" rx="5" class="thumb-broker" />
            <rect x="58" y="52" width="44" height="26" rx="5" class="thumb-broker" />
            <circle cx="22" cy="25" r="7" class="thumb-client" />
            <circle cx="22" cy="65" r="7" class="thumb-client" />
            <circle cx="136" cy="18" r="6" class="thumb-client" />
            <circle cx="136" cy="32" r="6" class="thumb-client" />
            <circle cx="136" cy="54" r="6" class="thumb-client" />
            <circle cx="136" cy="66" r="6" class="thumb-client" />
            <circle cx="136" cy="78" r="6" class="thumb-client" />
        </svg>
    }
}

/// The lesson's cluster as step 1 shows it (cluster lessons only).
fn scene_at_start(l: &Lesson) -> Option<ClusterView> {
    if l.view != LessonView::Cluster {
        return None;
    }
    let mut s = Session::new(l.timeline()).ok()?;
    s.seek(SimTime(l.times().first()?.start));
    Some(s.cluster().view())
}

/// A small picture of a scene: quorum above, brokers with their replicas,
/// producers left, consumers right.
fn thumbnail(v: &ClusterView) -> impl IntoView {
    let n = v.brokers.len().max(1) as f64;
    let w = (90.0 / n).min(30.0);
    let x0 = 80.0 - (n * (w + 4.0) - 4.0) / 2.0;
    let brokers = v
        .brokers
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = x0 + i as f64 * (w + 4.0);
            let pills = b
                .replicas
                .iter()
                .filter(|r| !r.tp.topic.starts_with("__"))
                .take(6)
                .enumerate()
                .map(|(j, r)| {
                    let class = if r.leader { "thumb-pill is-leader" } else { "thumb-pill" };
                    view! {
                        <rect x=x + 3.0 y=34.0 + j as f64 * 8.0 width=w - 6.0 height="6" rx="3" class=class
                            style=format!("--partition: {}", crate::layout::partition_colour(r.tp.partition)) />
                    }
                })
                .collect_view();
            view! {
                <rect x=x y="26" width=w height="58" rx="4" class="thumb-broker" />
                {pills}
            }
        })
        .collect_view();
    let q = v.quorum.len();
    let quorum = (0..q)
        .map(|i| {
            let cx = 80.0 - (q as f64 - 1.0) * 7.0 + i as f64 * 14.0;
            view! { <circle cx=cx cy="12" r="5" class="thumb-quorum" /> }
        })
        .collect_view();
    let column = |count: usize, cx: f64, class: &'static str| {
        (0..count.min(6))
            .map(|i| {
                let cy = 55.0 - (count.min(6) as f64 - 1.0) * 6.0 + i as f64 * 12.0;
                view! { <circle cx=cx cy=cy r="5" class=class /> }
            })
            .collect_view()
    };
    view! {
        <svg class="thumb" viewBox="0 0 160 90" aria-hidden="true">
            {quorum}
            {brokers}
            {column(v.producers.len(), 12.0, "thumb-client")}
            {column(v.consumers.len(), 148.0, "thumb-client")}
        </svg>
    }
}

/// Opens a lesson someone wrote (docs/lessons.md). It is played through
/// once (`Lesson::check`) before it replaces anything.
#[component]
fn OpenLessonFile() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<Ui>();
    let player = expect_context::<Player>();
    let refuse = move |m: String| {
        sim.error.set(Some(KafkaError::new(
            ErrorCode::InvalidScenario,
            format!("{m} Nothing was opened."),
        )))
    };
    let on_file = move |ev: leptos::ev::Event| {
        crate::toolbar::read_picked_file(&ev, "lesson", refuse, move |name, text| {
            match Lesson::from_json(&text).and_then(|l| l.check().map(|_| l)) {
                Ok(l) => {
                    player.open(sim, l, 0, Some(text));
                    ui.page.set(player.page());
                    sim.notice.set(Some(format!("Opened {name}.")));
                }
                Err(e) => refuse(format!("{name}: {}", e.message)),
            }
        });
    };
    view! {
        <label class="btn file-btn">
            "Open a lesson file…"
            <input type="file" accept=".json,application/json" aria-label="Open a lesson file" on:change=on_file />
        </label>
    }
}

/// The lesson beside the diagram: where we are, what to read, the
/// question, and the buttons to move on.
#[component]
pub fn LessonPanel() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<Ui>();
    let player = expect_context::<Player>();
    let body = move || {
        let lesson = player.lesson.get()?;
        let k = player.step.get();
        let step = lesson.steps.get(k)?.clone();
        let total = lesson.steps.len();
        let times = lesson.times()[k];
        let heading = match player.number.get() {
            Some(n) => format!("Lesson {n} · {}", lesson.title),
            None => lesson.title.clone(),
        };
        let id = lesson.id.clone();
        let builtin = player.number.get().is_some();
        let phase = move || player.phase(sim);
        let prompt = step.prompt.clone().map(|p| {
            let question = p.question.clone();
            let choices = p.choices.clone();
            let answer = p.answer;
            let explanation = p.explanation.clone();
            let after_answer = step.after_answer.clone();
            let asked = move || player.answers.with(|a| a.get(k).copied().flatten());
            let buttons = choices
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let c = c.clone();
                    let name = format!("Answer: {c}");
                    let class = move || {
                        let mut class = String::from("btn choice");
                        if asked() == Some(Answer::Chose(i)) {
                            class.push_str(" is-chosen");
                        }
                        if phase() == Phase::Done && i == answer {
                            class.push_str(" is-right");
                        }
                        class
                    };
                    // Once answered, only the right choice and the one
                    // chosen stay: the explanation needs the room.
                    let shown = move || {
                        phase() != Phase::Done || i == answer || asked() == Some(Answer::Chose(i))
                    };
                    view! {
                        <li hidden=move || !shown()>
                            <button class=class aria-label=name disabled=move || asked().is_some()
                                on:click=move |_| player.answer(sim, Answer::Chose(i))>{c}</button>
                        </li>
                    }
                })
                .collect_view();
            let verdict = move || {
                (phase() == Phase::Done).then(|| {
                    let lead = match asked() {
                        Some(Answer::Chose(i)) if i == answer => "Right. ",
                        Some(Answer::Chose(_)) => "Not quite. ",
                        _ => "",
                    };
                    // On a projector the panel may scroll: back to its top,
                    // where the step's title and the explanation now fit.
                    let shown = NodeRef::<leptos::html::P>::new();
                    Effect::new(move |_| {
                        if let Some(side) = shown.get().and_then(|p| p.closest(".side").ok().flatten()) {
                            side.set_scroll_top(0);
                        }
                    });
                    view! {
                        <p class="explanation" role="status" node_ref=shown><strong>{lead}</strong>{explanation.clone()}</p>
                        {after_answer.clone().map(|t| view! { <p class="narration after-answer">{t}</p> })}
                    }
                })
            };
            let waiting = move || {
                (phase() == Phase::Playing).then(|| view! { <p class="panel-hint">"Watch the cluster for the answer…"</p> })
            };
            view! {
                <div class="prompt" role="group" aria-label="Question">
                    <p class="question">{question}</p>
                    <ol class="choices">{buttons}</ol>
                    {move || (phase() == Phase::Asking).then(|| view! {
                        <button class="btn btn-small link" on:click=move |_| player.answer(sim, Answer::Skipped)>"Skip question"</button>
                    })}
                    {waiting}
                    {verdict}
                </div>
            }
        });
        // A refusal the step is about (a duplicate topic, say), once it happened.
        let cluster = lesson.view == LessonView::Cluster;
        let refusals = move || {
            if !cluster {
                return None;
            }
            let now = sim.view.with(|v| v.time.0);
            sim.refusals_between(times.start, now.min(times.end))
                .into_iter()
                .map(|e| {
                    view! {
                        <p class="refusal" role="status">
                            "Kafka answered "<strong class="error-code">{e.code.name()}</strong>": "{e.message}
                        </p>
                    }
                })
                .collect_view()
                .into()
        };
        let copy_link = move |_| {
            let url = link_to(&id, k + 1);
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&url);
            }
            sim.notice
                .set(Some(format!("Link to step {} copied: {url}", k + 1)));
        };
        let percent = 100.0 * (k + 1) as f64 / total as f64;
        Some(view! {
            <section class="panel lesson-panel" aria-label="Lesson">
                <p class="lesson-heading">{heading}</p>
                <div class="lesson-progress" role="progressbar" aria-label="Lesson progress"
                    aria-valuemin="1" aria-valuemax=total.to_string() aria-valuenow=(k + 1).to_string()
                    aria-valuetext=format!("Step {} of {total}", k + 1)>
                    <span class="lesson-progress-bar" style=format!("width: {percent:.0}%")></span>
                </div>
                <div class="lesson-nav">
                    <button class="btn" on:click=move |_| player.back(sim) disabled=k == 0
                        aria-keyshortcuts="ArrowLeft PageUp">"Back"</button>
                    <span class="lesson-step-count">{format!("Step {} of {total}", k + 1)}</span>
                    <button class="btn btn-primary" on:click=move |_| player.next(sim)
                        disabled=move || k + 1 == total && phase() != Phase::Asking
                        aria-keyshortcuts="ArrowRight PageDown Space">"Next"</button>
                </div>
                <h2 class="lesson-step-title">{step.title.clone()}</h2>
                // The set-up gives way to what happened once a question is answered.
                {
                    let asks = step.prompt.is_some();
                    let narration = step.narration.clone();
                    move || (!(asks && phase() == Phase::Done)).then(|| view! { <p class="narration">{narration.clone()}</p> })
                }
                {prompt}
                {refusals}
                {next_lesson(sim, ui, player, builtin && k + 1 == total, lesson.id.clone())}
                <div class="lesson-more">
                    <button class="btn btn-small" on:click=move |_| player.try_it(sim)>"Try it yourself"</button>
                    {builtin.then(|| view! { <button class="btn btn-small" on:click=copy_link>"Copy link to this step"</button> })}
                    <button class="btn btn-small" on:click=move |_| {
                        player.leave(sim);
                        ui.page.set(Page::Lessons);
                    }>"All lessons"</button>
                </div>
            </section>
        })
    };
    view! { {body} }
}

/// On a built-in lesson's last step: the way on to the next lesson.
fn next_lesson(sim: Sim, ui: Ui, player: Player, last: bool, id: String) -> Option<impl IntoView> {
    if !last {
        return None;
    }
    let all = lesson::builtin();
    let next = all
        .iter()
        .position(|l| l.id == id)
        .and_then(|i| all.get(i + 1))?
        .clone();
    let name = format!("Next lesson: {}", next.title);
    Some(view! {
        <button class="btn btn-primary next-lesson" on:click=move |_| {
            player.open(sim, next.clone(), 0, None);
            ui.page.set(player.page());
        }>{name}</button>
    })
}

/// In free play during a lesson: the way back to the step.
#[component]
pub fn FreePlayBanner() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let player = expect_context::<Player>();
    move || {
        let lesson = player.lesson.get()?;
        player.free_play.get().then(|| {
            let k = player.step.get();
            view! {
                <section class="panel free-play" aria-label="Free play">
                    <p>{format!("Free play from step {} of {}. The cluster is yours.", k + 1, lesson.title)}</p>
                    <div class="lesson-more">
                        <button class="btn btn-primary btn-small" on:click=move |_| player.back_to_lesson(sim)>"Back to lesson"</button>
                        <button class="btn btn-small" on:click=move |_| player.leave(sim)>"End lesson"</button>
                    </div>
                </section>
            }
        })
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
