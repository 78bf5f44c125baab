//! The page's clock: one requestAnimationFrame loop advancing the engine by
//! real time × speed.

use super::*;
use kafkasim_engine::run::scenario::Scenario;
use kafkasim_engine::{Session, SimTime};
use leptos::prelude::*;

/// Virtual time shown per real second at `speed`, in ms and in s.
pub fn virtual_per_real_second(speed: f64, busy: bool) -> (f64, f64) {
    let ms = 1000.0 * speed * if busy { BUSY_RATE } else { IDLE_RATE };
    (ms, ms / 1000.0)
}

/// A session of `scene` with the scene's own commands applied, so the
/// picture starts built. A scene whose cluster config is invalid falls back
/// to the default cluster rather than leaving the page blank.
pub(super) fn start(scene: Scenario) -> Session {
    let end = scene.commands.last().map_or(0, |c| c.at);
    let mut session = Session::new(scene).unwrap_or_else(|_| {
        Session::new(Scenario {
            name: "Default cluster".into(),
            description: String::new(),
            cluster: Default::default(),
            commands: Vec::new(),
        })
        .expect("the default cluster is valid")
    });
    session.run_until(SimTime(end));
    session
}

/// `performance.now()`. The `Performance` object is fetched once: asking
/// the window for it every frame showed up in busy frames' profiles.
pub fn now_ms() -> Option<f64> {
    thread_local! {
        static PERFORMANCE: Option<web_sys::Performance> =
            web_sys::window().and_then(|w| w.performance());
    }
    PERFORMANCE.with(|p| p.as_ref().map(web_sys::Performance::now))
}

/// Drives the simulation from `requestAnimationFrame` while playing.
pub fn start_clock(sim: Sim) {
    pub(super) fn frame(sim: Sim, last: f64) {
        let now = now_ms().unwrap_or(last + 16.0);
        if sim.playing.get_untracked() {
            // Cap a frame's step so a backgrounded tab does not leap ahead.
            let stepped = sim.tick((now - last).clamp(0.0, 100.0));
            sim.keep_beat(now, stepped);
        }
        request_animation_frame(move || frame(sim, now));
    }
    let start = now_ms().unwrap_or(0.0);
    request_animation_frame(move || frame(sim, start));
    // Playing saves every few virtual seconds; leaving the page saves the rest.
    let handle = window_event_listener(leptos::ev::pagehide, move |_| sim.save());
    std::mem::forget(handle);
}
