//! The lesson beside the diagram: narration, the question and its reveal,
//! Back and Next, and the free-play banner.

use super::*;
use crate::state::Sim;
use crate::toolbar::{Page, Ui};
use kafkasim_engine::lesson::{self, LessonView, Prompt};
use leptos::prelude::*;

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
            view! { <Question prompt=p after_answer=step.after_answer.clone() k=k /> }
        });
        let refusals = (lesson.view == LessonView::Cluster).then(|| {
            view! { <Refusals from=times.start to=times.end /> }
        });
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

/// A step's question: the choices, Skip, and once answered the verdict
/// and the explanation (the rest of the choices give way to it).
#[component]
fn Question(prompt: Prompt, after_answer: Option<String>, k: usize) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let player = expect_context::<Player>();
    let phase = move || player.phase(sim);
    let p = prompt;
    let question = p.question.clone();
    let choices = p.choices.clone();
    let answer = p.answer;
    let explanation = p.explanation.clone();
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
            let shown =
                move || phase() != Phase::Done || i == answer || asked() == Some(Answer::Chose(i));
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
        (phase() == Phase::Playing)
            .then(|| view! { <p class="panel-hint">"Watch the cluster for the answer…"</p> })
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
}

/// A refusal the step is about (a duplicate topic, say), once it happened
/// between the step's start `from` and its end `to`.
#[component]
fn Refusals(from: u64, to: u64) -> impl IntoView {
    let sim = expect_context::<Sim>();
    move || {
        let now = sim.view.with(|v| v.time.0);
        sim.refusals_between(from, now.min(to))
            .into_iter()
            .map(|e| {
                view! {
                    <p class="refusal" role="status">
                        "Kafka answered "<strong class="error-code">{e.code.name()}</strong>": "{e.message}
                    </p>
                }
            })
            .collect_view()
    }
}

/// On a built-in lesson's last step: the way on to the next lesson.
pub(super) fn next_lesson(
    sim: Sim,
    ui: Ui,
    player: Player,
    last: bool,
    id: String,
) -> Option<impl IntoView> {
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
