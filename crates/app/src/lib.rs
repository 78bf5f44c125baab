//! kafkasim's browser front end: a view of the engine, nothing more. `Sim`
//! owns the engine; components read its view and dispatch commands.

pub mod controls;
pub mod diagram;
pub mod forms;
pub mod inspect;
pub mod layout;
pub mod sim;
pub mod store;
pub mod toolbar;

use controls::{ActionPanel, ConsumerForm, ErrorBanner, ProduceForm, TimeBar};
use diagram::Diagram;
use forms::ClusterMenu;
use inspect::Inspector;
use leptos::prelude::*;
use sim::Sim;
use toolbar::{HelpOverlay, SessionMenu, Ui};

/// The whole page: time bar, diagram, panels.
#[component]
pub fn App() -> impl IntoView {
    let sim = Sim::restore_or(kafkasim_engine::presets::quickstart());
    let ui = Ui::new();
    provide_context(sim);
    provide_context(ui);
    sim::start_clock(sim);
    toolbar::install_shortcuts(sim, ui);
    view! {
        <header class="topbar">
            <h1 class="brand">"kafkasim" <span class="scene">{move || format!(" · {}", sim.scene.get())}</span></h1>
            <TimeBar />
            <div class="menus">
                <ClusterMenu />
                <SessionMenu />
            </div>
        </header>
        <HelpOverlay />
        <ErrorBanner />
        <main class="stage">
            <Diagram />
            <aside class="side">
                <ProduceForm />
                <ConsumerForm />
                <ActionPanel />
            </aside>
        </main>
        <Inspector />
    }
}

/// Runs the engine's standard benchmark workload in the browser; the caller
/// times it (tests/bench/engine-wasm.mjs). Returns records acknowledged.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_standard_workload(records: u32) -> f64 {
    let cluster = kafkasim_engine::workload::standard_cluster();
    kafkasim_engine::workload::produce_and_replicate(cluster, records, 200) as f64
}

/// Entry point used by `main.rs`.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
