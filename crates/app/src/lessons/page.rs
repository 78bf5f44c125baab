//! The Lessons page: every lesson as a card with its picture, and opening a
//! lesson file.

use super::*;
use crate::state::Sim;
use crate::toolbar::Ui;
use kafkasim_engine::lesson::{self, Lesson, LessonView};
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::{ErrorCode, KafkaError, Session, SimTime};
use leptos::prelude::*;

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

/// The Messaging models page in miniature: a queue and a topic with their
/// clients.
pub(super) fn models_thumbnail() -> impl IntoView {
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
pub(super) fn scene_at_start(l: &Lesson) -> Option<ClusterView> {
    if l.view != LessonView::Cluster {
        return None;
    }
    let mut s = Session::new(l.timeline()).ok()?;
    s.seek(SimTime(l.times().first()?.start));
    Some(s.cluster().view())
}

/// A small picture of a scene: quorum above, brokers with their replicas,
/// producers left, consumers right.
pub(super) fn thumbnail(v: &ClusterView) -> impl IntoView {
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
                            style=format!("--partition: {}", crate::diagram::layout::partition_colour(r.tp.partition)) />
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
pub(super) fn OpenLessonFile() -> impl IntoView {
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
