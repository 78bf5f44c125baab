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

/// A part of the page animated frame by frame: called with the frame's
/// time and the ms since the last frame; returning `false` ends it.
type FrameFn = Box<dyn FnMut(f64, f64) -> bool>;

thread_local! {
    /// Whether the loop is running, and what it animates, in the order
    /// they asked.
    static FRAMES: std::cell::RefCell<(bool, Vec<FrameFn>)> = Default::default();
}

/// Runs `f(now, elapsed_ms)` in every animation frame until it returns
/// `false`. The whole page shares this one `requestAnimationFrame` loop,
/// started by the first caller and stopped when nothing is left to animate.
pub fn on_frame(f: impl FnMut(f64, f64) -> bool + 'static) {
    let start = FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        frames.1.push(Box::new(f));
        !std::mem::replace(&mut frames.0, true)
    });
    if start {
        let now = now_ms().unwrap_or(0.0);
        request_animation_frame(move || frame(now));
    }
}

fn frame(last: f64) {
    let now = now_ms().unwrap_or(last + 16.0);
    // Taken out while they run, so one of them may add another.
    let mut running = FRAMES.with(|frames| std::mem::take(&mut frames.borrow_mut().1));
    running.retain_mut(|f| f(now, now - last));
    let more = FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        running.append(&mut frames.1);
        frames.1 = running;
        frames.0 = !frames.1.is_empty();
        frames.0
    });
    if more {
        request_animation_frame(move || frame(now));
    }
}

/// Drives the simulation frame by frame while playing.
pub fn start_clock(sim: Sim) {
    on_frame(move |now, elapsed| {
        if sim.playing.get_untracked() {
            // Cap a frame's step so a backgrounded tab does not leap ahead.
            let stepped = sim.tick(elapsed.clamp(0.0, 100.0));
            sim.keep_beat(now, stepped);
        }
        true
    });
    // Playing saves every few virtual seconds; leaving the page saves the rest.
    let handle = window_event_listener(leptos::ev::pagehide, move |_| sim.save());
    std::mem::forget(handle);
}
