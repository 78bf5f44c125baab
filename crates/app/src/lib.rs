//! kafkasim's browser front end: a view of the engine, nothing more. `Sim`
//! owns the engine; components read its view and dispatch commands.

pub mod diagram;
pub mod inspector;
pub mod lessons;
pub mod models;
pub mod panels;
pub mod state;
pub mod toolbar;

use diagram::Diagram;
use inspector::Inspector;
use leptos::prelude::*;
use lessons::{FreePlayBanner, LessonPanel, LessonsPage, Player};
use panels::controls::{ActionPanel, ConsumerForm, ErrorBanner, ProduceForm, TimeBar};
use panels::forms::ClusterMenu;
use state::Sim;
use toolbar::{HelpOverlay, Page, SessionMenu, Ui};

/// The whole page: the top bar, then the page shown (the cluster, the
/// messaging models or the lessons).
#[component]
pub fn App() -> impl IntoView {
    let (ui, player) = set_up();
    view! {
        <TopBar />
        <HelpOverlay />
        <ErrorBanner />
        {move || match ui.page.get() {
            Page::Models => view! { <ModelsStage player=player /> }.into_any(),
            Page::Lessons => view! { <LessonsPage /> }.into_any(),
            Page::Cluster => view! { <ClusterStage /> }.into_any(),
        }}
    }
}

/// Builds the page's state, provides it to every component and starts what
/// runs by itself: the clocks, the lesson player's followers, the keyboard
/// shortcuts.
fn set_up() -> (Ui, Player) {
    // A lesson link is read before the session restore clears the address.
    let lesson_link = Player::link();
    let sim = Sim::restore_or(kafkasim_engine::run::presets::quickstart());
    let ui = Ui::new();
    let models = models::Models::new();
    let player = Player::new(models, ui.inspector_folded);
    provide_context(sim);
    provide_context(ui);
    provide_context(models);
    provide_context(player);
    player.restore(sim, ui, lesson_link);
    lessons::follow_user(player, sim);
    lessons::follow_address(player, sim, ui);
    lessons::follow_clock(player, sim);
    state::start_clock(sim);
    models::start_clock(
        models,
        Signal::derive(move || ui.page.get() == Page::Models),
        sim.speed.into(),
    );
    toolbar::install_shortcuts(sim, ui, player);
    // Another page starts at its top, not where the last one was scrolled
    // to: on a phone, a lesson opened from far down the list otherwise
    // opened scrolled past its narration.
    Effect::new(move |before: Option<Page>| {
        let page = ui.page.get();
        if before.is_some_and(|b| b != page) {
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
        page
    });
    (ui, player)
}

/// The brand and what is open, the page buttons, the time bar (on the
/// cluster page) and the menus.
#[component]
fn TopBar() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<Ui>();
    let player = expect_context::<Player>();
    // The lesson's title while one is open, else the scene's name.
    let heading = move || {
        player
            .lesson
            .with(|l| l.as_ref().map(|l| l.title.clone()))
            .unwrap_or_else(|| sim.scene.get())
    };
    let page_button = move |page: Page, label: &'static str, name: &'static str| {
        view! {
            <button class="btn" aria-pressed=move || (ui.page.get() == page).to_string()
                on:click=move |_| ui.page.set(page) aria-label=name>{label}</button>
        }
    };
    view! {
        <header class="topbar">
            <h1 class="brand" title=move || format!("kafkasim · {}", heading())>"kafkasim" <span class="scene">{heading}</span></h1>
            <nav class="pages" aria-label="Views">
                {page_button(Page::Cluster, "Kafka", "Kafka cluster")}
                {page_button(Page::Models, "Models", "Messaging models")}
                {page_button(Page::Lessons, "Lessons", "Lessons")}
            </nav>
            <Show when=move || ui.page.get() == Page::Cluster>
                <TimeBar />
            </Show>
            <div class="menus">
                <ClusterMenu />
                <SessionMenu />
            </div>
        </header>
    }
}

/// The messaging models page, with the lesson beside it while one is
/// presented there.
#[component]
fn ModelsStage(player: Player) -> impl IntoView {
    view! {
        <main class="stage-models">
            <models::MessagingModels />
            <Show when=move || player.presenting() && player.page() == Page::Models>
                <aside class="side"><LessonPanel /></aside>
            </Show>
            <Show when=move || player.free_play.get() && player.page() == Page::Models>
                <aside class="side"><FreePlayBanner /></aside>
            </Show>
        </main>
    }
}

/// The cluster page: the diagram (or a comparison of two), the side panel
/// with the lesson or the free-play forms, and the inspector.
#[component]
fn ClusterStage() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<Ui>();
    let player = expect_context::<Player>();
    view! {
        <main class="stage" class:side-folded=move || ui.side_folded.get()>
            {move || match sim.twin.get() {
                None => view! { <Diagram /> }.into_any(),
                Some(twin) => view! { <Comparison twin=twin /> }.into_any(),
            }}
            <button class="btn btn-small fold side-fold" aria-controls="side-panel"
                aria-expanded=move || (!ui.side_folded.get()).to_string()
                aria-label=move || if ui.side_folded.get() { "Show side panel" } else { "Hide side panel" }
                aria-keyshortcuts="s"
                on:click=move |_| ui.side_folded.update(|f| *f = !*f)>
                {move || if ui.side_folded.get() { "◂" } else { "▸" }}
            </button>
            <aside class="side" id="side-panel" hidden=move || ui.side_folded.get()>
                <Show
                    when=move || player.presenting() && player.page() == Page::Cluster
                    fallback=|| view! {
                        <FreePlayBanner />
                        <ActionPanel />
                        <ProduceForm />
                        <ConsumerForm />
                    }
                >
                    <LessonPanel />
                </Show>
            </aside>
        </main>
        <Inspector />
    }
}

/// Two clusters, one above the other: this session and its twin with one
/// setting changed, driven by the same clicks and the same clock. Each is
/// headed with its setting and, large, what it lost.
#[component]
fn Comparison(twin: state::Twin) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let lost = |s: Sim| {
        let n = Memo::new(move |_| s.view.with(|v| v.lost.len()));
        let text = move || match n.get() {
            0 => "no acknowledged record lost".to_string(),
            1 => "1 acknowledged record lost".to_string(),
            n => format!("{n} acknowledged records lost"),
        };
        view! { <span class="compare-lost" class:is-lost=move || { n.get() > 0 }>{text}</span> }
    };
    let labels = Memo::new(move |_| twin.labels(sim));
    view! {
        <div class="compare">
            <section class="compare-side" aria-label=move || labels.get().0>
                <h2 class="compare-title">{move || labels.get().0} " " {lost(sim)}</h2>
                <Diagram />
            </section>
            <section class="compare-side" aria-label=move || labels.get().1>
                <h2 class="compare-title">{move || labels.get().1} " " {lost(twin.sim)}</h2>
                <leptos::context::Provider value=twin.sim>
                    <Diagram />
                </leptos::context::Provider>
            </section>
        </div>
    }
}

/// Runs the engine's standard benchmark workload in the browser and returns
/// the milliseconds it took, or -1 if a record went unacknowledged
/// (tests/bench/engine-wasm.mjs). Freeing the cluster happens after the
/// clock stops, as in the native measurement and criterion's.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_standard_workload(records: u32) -> f64 {
    let cluster = kafkasim_engine::run::workload::standard_cluster();
    let clock = web_sys::window().and_then(|w| w.performance());
    let start = clock.as_ref().map_or(0.0, |p| p.now());
    let done = kafkasim_engine::run::workload::run_workload(cluster, records, 200);
    let ms = clock.as_ref().map_or(0.0, |p| p.now()) - start;
    if done.view().acknowledged_total == u64::from(records) {
        ms
    } else {
        -1.0
    }
}

/// Entry point used by `main.rs`.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
