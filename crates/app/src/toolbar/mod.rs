//! The instructor's page-level controls: share, export and import a
//! session, presenter mode, and the keyboard (including a presentation
//! clicker, which sends PageDown / PageUp).

use crate::panels::controls::next_speed;
use crate::state::Sim;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Share link, export, import, presenter mode and the shortcut help.
#[component]
pub fn SessionMenu() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<Ui>();
    let link = RwSignal::new(None::<String>);
    let share = move |_| {
        let text = sim.share_text();
        wasm_bindgen_futures::spawn_local(async move {
            let url = crate::state::store::share_link(text).await;
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&url);
            }
            sim.notice.set(Some(format!(
                "Share link copied ({} characters). It opens this session, as it is now, in any browser.",
                url.len()
            )));
            link.set(Some(url));
        });
    };
    let export = move |_| download("kafkasim-session.json", &sim.export());
    let import = move |ev: leptos::ev::Event| {
        let refuse = move |m: String| {
            sim.error.set(Some(kafkasim_engine::KafkaError::new(
                kafkasim_engine::ErrorCode::InvalidScenario,
                format!("{m} The current session was kept."),
            )))
        };
        read_picked_file(&ev, "session", refuse, move |name, text| {
            if sim.open(&text) {
                sim.notice.set(Some(format!("Opened {name}.")));
            }
        });
    };
    view! {
        <details class="menu">
        <summary class="btn">"Session"</summary>
        <div class="session-menu" role="group" aria-label="Session">
            <label class="scene-pick">"New session from a scene"
                <select aria-label="Scene" on:change=move |ev| {
                    let name = event_target_value(&ev);
                    if let Some(scene) = kafkasim_engine::run::presets::scenes().into_iter().find(|s| s.name == name) {
                        sim.load_scene(scene);
                    }
                    if let Some(select) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
                        select.set_value("");
                    }
                }>
                    <option value="">"Choose…"</option>
                    {kafkasim_engine::run::presets::scenes()
                        .into_iter()
                        .map(|s| view! { <option value=s.name.clone() title=s.description.clone()>{s.name.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            <button class="btn" on:click=share>"Share link"</button>
            <button class="btn" on:click=export>"Export"</button>
            <label class="btn file-btn">
                "Import"
                <input type="file" accept=".json,application/json" aria-label="Import session file" on:change=import />
            </label>
            <button class="btn" aria-pressed=move || ui.presenter.get().to_string()
                on:click=move |_| ui.presenter.update(|p| *p = !*p) aria-keyshortcuts="p">
                "Presenter mode"
            </button>
            <button class="btn" on:click=move |_| ui.help.set(true) aria-keyshortcuts="?">"Shortcuts"</button>
            {move || link.get().map(|url| view! {
                <input class="share-link" readonly aria-label="Share link" prop:value=url />
            })}
        </div>
        </details>
    }
}

/// Page-level view state that is not the simulation's.
#[derive(Clone, Copy)]
pub struct Ui {
    pub presenter: RwSignal<bool>,
    /// Draw `__consumer_offsets` replicas in the broker columns.
    pub show_internal: RwSignal<bool>,
    pub help: RwSignal<bool>,
    /// Which page is shown.
    pub page: RwSignal<Page>,
    /// The diagram's zoom (1: the whole picture) and the point, in diagram
    /// units, it is centred on (`None`: the middle).
    pub zoom: RwSignal<f64>,
    pub zoom_focus: RwSignal<Option<(f64, f64)>>,
    /// The side panel folded to the right edge.
    pub side_folded: RwSignal<bool>,
    /// The inspector (event log and tables) folded to the bottom edge.
    pub inspector_folded: RwSignal<bool>,
}

/// The pages of the top bar's switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The Kafka cluster, live (and the lesson being presented on it).
    Cluster,
    /// Point-to-point and publish-subscribe on a classic broker.
    Models,
    /// The list of lessons.
    Lessons,
}

impl Ui {
    pub fn new() -> Ui {
        let presenter = RwSignal::new(stored_flag("kafkasim.presenter"));
        let inspector_folded = RwSignal::new(false);
        Effect::new(move |before: Option<bool>| {
            let on = presenter.get();
            // On a projector the diagram gets the inspector's room; it is
            // one key (i) or click away. Turning presenter mode off gives
            // it back; opening the page without it leaves it as it is.
            if before.is_some() || on {
                inspector_folded.set(on);
            }
            if let Some(body) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.body())
            {
                let _ = body.class_list().toggle_with_force("presenter", on);
            }
            if let Some(s) = crate::state::store::storage() {
                let _ = s.set_item("kafkasim.presenter", if on { "1" } else { "0" });
            }
            on
        });
        Ui {
            presenter,
            show_internal: RwSignal::new(false),
            help: RwSignal::new(false),
            page: RwSignal::new(Page::Cluster),
            zoom: RwSignal::new(1.0),
            zoom_focus: RwSignal::new(None),
            side_folded: RwSignal::new(false),
            inspector_folded,
        }
    }

    /// One step closer or further, centred on `at` (diagram units) when
    /// given; all the way out forgets the centre.
    pub fn zoom_at(&self, closer: bool, at: Option<(f64, f64)>) {
        let z = crate::diagram::layout::next_zoom(self.zoom.get_untracked(), closer);
        if at.is_some() && closer {
            self.zoom_focus.set(at);
        }
        if z <= 1.0 {
            self.zoom_focus.set(None);
        }
        self.zoom.set(z);
    }

    /// Diagram only: both the side panel and the inspector folded away,
    /// or both back.
    pub fn toggle_diagram_only(&self) {
        let only = self.side_folded.get_untracked() && self.inspector_folded.get_untracked();
        self.side_folded.set(!only);
        self.inspector_folded.set(!only);
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui::new()
    }
}

fn stored_flag(key: &str) -> bool {
    crate::state::store::storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .is_some_and(|v| v == "1")
}

/// The shortcuts, as the help overlay lists them.
pub const SHORTCUTS: [(&str, &str); 14] = [
    ("Space", "Play / pause"),
    (
        ". → PageDown",
        "Step to the next event the diagram shows (not a heartbeat)",
    ),
    (
        "n",
        "Skip to the next thing that matters: a crash, election, ISR change, rebalance, loss…",
    ),
    ("← PageUp", "Back to before the last step or skip"),
    (
        "Space → PageDown",
        "In a lesson: next step (or skip the question)",
    ),
    ("← PageUp", "In a lesson: the step before, as it was"),
    ("+ −", "Faster / slower"),
    ("] [", "Zoom the diagram in / out (a pinch too)"),
    ("0", "The whole diagram again"),
    ("d", "Diagram only: fold the side panel and the inspector"),
    ("s  i", "Fold or show the side panel / the inspector"),
    ("p", "Presenter mode: large type, thick lines"),
    ("?", "This help"),
    ("Esc", "Close this help"),
];

/// Listens for the shortcuts on the whole page, except while the user types
/// in a field or presses a focused button's own key.
pub fn install_shortcuts(sim: Sim, ui: Ui, player: crate::lessons::Player) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let escape = ev.key() == "Escape";
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || (typing(&ev) && !escape) {
            return;
        }
        let key = ev.key();
        // Presenting a lesson, the clicker's keys move through its steps.
        let lesson = untrack(|| player.presenting() && ui.page.get() == player.page());
        let handled = match key.as_str() {
            " " | "Spacebar" | "ArrowRight" | "PageDown" if lesson => {
                player.next(sim);
                true
            }
            "ArrowLeft" | "PageUp" if lesson => {
                player.back(sim);
                true
            }
            " " | "Spacebar" => {
                sim.playing.update(|p| *p = !*p);
                true
            }
            "." | "ArrowRight" | "PageDown" => {
                sim.playing.set(false);
                sim.step();
                true
            }
            "ArrowLeft" | "PageUp" => {
                sim.playing.set(false);
                sim.step_back();
                true
            }
            "+" | "=" => {
                sim.speed.update(|s| *s = next_speed(*s, true));
                true
            }
            "-" | "_" => {
                sim.speed.update(|s| *s = next_speed(*s, false));
                true
            }
            "p" | "P" => {
                ui.presenter.update(|p| *p = !*p);
                true
            }
            "n" | "N" => {
                sim.skip();
                true
            }
            "]" => {
                ui.zoom_at(true, None);
                true
            }
            "[" => {
                ui.zoom_at(false, None);
                true
            }
            "0" => {
                ui.zoom.set(1.0);
                ui.zoom_focus.set(None);
                true
            }
            "d" | "D" => {
                ui.toggle_diagram_only();
                true
            }
            "s" | "S" => {
                ui.side_folded.update(|f| *f = !*f);
                true
            }
            "i" | "I" => {
                ui.inspector_folded.update(|f| *f = !*f);
                true
            }
            "?" => {
                ui.help.update(|h| *h = !*h);
                true
            }
            "Escape" => {
                ui.help.set(false);
                close_menus(None);
                false
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    });
    // A click outside an open menu closes it, as menus do.
    let clicks = window_event_listener(leptos::ev::click, move |ev| {
        let inside = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("details.menu").ok().flatten());
        close_menus(inside.as_ref());
    });
    // The page lives as long as the app; keep the listeners.
    std::mem::forget(handle);
    std::mem::forget(clicks);
}

/// Reads the file picked in the file input of `ev` as text and hands it,
/// with the file's name, to `open`. A file larger than a scenario may be
/// (`what` names the kind: "session", "lesson") or not readable as text is
/// refused through `refuse`, and `open` is not called.
pub fn read_picked_file(
    ev: &leptos::ev::Event,
    what: &'static str,
    refuse: impl Fn(String) + 'static,
    open: impl FnOnce(String, String) + 'static,
) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    // The same file may be picked again after a fix.
    input.set_value("");
    let limit = kafkasim_engine::run::scenario::MAX_SCENARIO_BYTES;
    if file.size() > limit as f64 {
        refuse(format!(
            "{} is {:.0} KB; a {what} file may be at most {} KB.",
            file.name(),
            file.size() / 1024.0,
            limit / 1024
        ));
        return;
    }
    leptos::task::spawn_local(async move {
        let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
        match text.ok().and_then(|t| t.as_string()) {
            Some(text) => open(file.name(), text),
            None => refuse("The file could not be read as text.".into()),
        }
    });
}

/// Closes every open top-bar menu except `keep`.
pub(crate) fn close_menus(keep: Option<&web_sys::Element>) {
    let Some(open) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector_all("details.menu[open]").ok())
    else {
        return;
    };
    for i in 0..open.length() {
        if let Some(el) = open
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        {
            if keep != Some(&el) {
                let _ = el.remove_attribute("open");
            }
        }
    }
}

/// A key aimed at a text field or a select belongs to it, and so does
/// Enter on a focused button. Space does not: after a click on a node or a
/// button, Space still means Play / Pause (Enter presses the button).
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    let tag = el.tag_name().to_ascii_lowercase();
    let kind = el.get_attribute("type");
    let key = ev.key();
    match tag.as_str() {
        "textarea" | "select" => true,
        // The timeline slider keeps its arrows.
        "input" if kind.as_deref() == Some("range") => key != " ",
        "input"
            if !matches!(
                kind.as_deref(),
                Some("checkbox" | "radio" | "button" | "submit" | "file")
            ) =>
        {
            true
        }
        _ => key == "Enter",
    }
}

/// The keyboard help, over the page until closed.
#[component]
pub fn HelpOverlay() -> impl IntoView {
    let ui = expect_context::<Ui>();
    move || {
        ui.help.get().then(|| {
            view! {
                <div class="overlay" on:click=move |_| ui.help.set(false)>
                    <div class="dialog" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts"
                        on:click=|ev| ev.stop_propagation()>
                        <h2>"Keyboard shortcuts"</h2>
                        <p class="panel-hint">"A presentation clicker works too: it sends PageDown and PageUp."</p>
                        <dl class="shortcuts">
                            {SHORTCUTS
                                .iter()
                                .map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> })
                                .collect_view()}
                        </dl>
                        <button class="btn btn-primary" on:click=move |_| ui.help.set(false)>"Close"</button>
                    </div>
                </div>
            }
        })
    }
}

/// Offers `text` as a file download.
fn download(name: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = document.create_element("a") {
        let _ = a.set_attribute("href", &url);
        let _ = a.set_attribute("download", name);
        if let Some(a) = a.dyn_ref::<web_sys::HtmlElement>() {
            a.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
