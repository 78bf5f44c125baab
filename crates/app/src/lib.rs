//! kafkasim's browser front end: a view of the engine, nothing more. `Sim`
//! owns the engine; components read its view and dispatch commands.

pub mod controls;
pub mod diagram;
pub mod layout;
pub mod sim;

use controls::{ActionPanel, ConsumerForm, ErrorBanner, EventLog, ProduceForm, TimeBar};
use diagram::Diagram;
use leptos::prelude::*;
use sim::Sim;

/// The whole page: time bar, diagram, panels.
#[component]
pub fn App() -> impl IntoView {
    let sim = Sim::new(kafkasim_engine::presets::quickstart());
    provide_context(sim);
    sim::start_clock(sim);
    view! {
        <header class="topbar">
            <h1 class="brand">"kafkasim" <span class="scene">" · Quick start"</span></h1>
            <TimeBar />
        </header>
        <ErrorBanner />
        <main class="stage">
            <Diagram />
            <aside class="side">
                <ProduceForm />
                <ConsumerForm />
                <ActionPanel />
            </aside>
        </main>
        <EventLog />
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
