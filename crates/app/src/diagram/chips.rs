//! Messages in flight: one chip per request or response, drawn on a canvas
//! over the diagram and moved along its path each frame.

use super::*;
use crate::diagram::layout::{along, partition_colour, Layout};
use crate::state::Sim;
use kafkasim_engine::network::Message;
use kafkasim_engine::view::MessageKind;
use leptos::prelude::*;

/// Every message in flight, drawn on one canvas over the diagram: the
/// picture underneath stays still while chips move, so a frame repaints
/// the canvas alone instead of laying out and painting the whole SVG
/// (DESIGN.md: "move chips in one place per frame").
#[component]
pub(super) fn Chips(
    layout: Memo<Layout>,
    shown: Memo<(f64, f64, f64, f64)>,
    svg: NodeRef<leptos::svg::Svg>,
) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let still = prefers_reduced_motion();
    let chips = Memo::new(move |_| {
        let layout = layout.get();
        sim.view.with(|v| {
            v.in_flight
                .iter()
                .filter_map(|m| ChipPath::new(&layout, m))
                .collect::<Vec<_>>()
        })
    });
    // A paused picture still redraws when the window or the diagram
    // changes size; that is also when the stage is measured again.
    let resized = RwSignal::new(0u32);
    let handle = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || handle.remove());
    observe_size(svg, move || resized.update(|n| *n += 1));
    let presenter = use_context::<crate::toolbar::Ui>().map(|ui| ui.presenter);
    let dark = window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten();
    let stage = StoredValue::new_local(None::<(StageKey, Stage)>);
    Effect::new(move |_| {
        let key = StageKey {
            resized: resized.get(),
            shown: shown.get(),
            dark: dark.as_ref().is_some_and(web_sys::MediaQueryList::matches),
        };
        let thick = presenter.is_some_and(|p| p.get());
        let time = sim.display_time();
        let (Some(canvas), Some(svg)) = (canvas.get(), svg.get()) else {
            return;
        };
        if stage.with_value(|s| s.as_ref().is_none_or(|(k, _)| *k != key)) {
            stage.set_value(Some((key, Stage::measure(&canvas, &svg, key.shown))));
        }
        stage.with_value(|s| {
            let Some((_, stage)) = s else {
                return;
            };
            chips.with(|chips| {
                let placed = chips.iter().map(|c| {
                    let at = if still {
                        along(c.from, c.to, 0.0, 1.0, 0.85)
                    } else {
                        along(c.from, c.to, c.sent, c.arrives, time)
                    };
                    (c, at)
                });
                paint_chips(&canvas, stage, thick, placed);
            });
        });
    });
    view! { <canvas node_ref=canvas class="chip-layer" aria-hidden="true"></canvas> }
}

/// What a frame of chips needs to know of the page: the canvas's size
/// in device pixels, where the diagram's viewBox lies on it, and the
/// stylesheet's colours and type. Reading these makes the browser lay
/// the page out (and restyle it) there and then, which in a busy frame
/// came on top of laying it out for the frame; so they are measured when
/// something they follow changes, not every frame.
pub(super) struct Stage {
    /// Canvas size in device pixels.
    pub(super) pixels: (u32, u32),
    /// viewBox units to device pixels: scale, then offset.
    pub(super) scale: f64,
    pub(super) offset: (f64, f64),
    pub(super) ink: String,
    pub(super) bg: String,
    pub(super) line: String,
    pub(super) edge: String,
    pub(super) ok: String,
    pub(super) metadata: String,
    pub(super) danger: String,
    pub(super) font: String,
}

/// What a measured `Stage` depends on.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct StageKey {
    /// Window or diagram resizes so far.
    pub(super) resized: u32,
    /// The diagram's viewBox: `(x, y, w, h)`.
    pub(super) shown: (f64, f64, f64, f64),
    /// The colour scheme.
    pub(super) dark: bool,
}

impl Stage {
    /// Sizes `canvas` to cover `svg` (whose viewBox is `x y width height`,
    /// fitted as SVG's default `xMidYMid meet`) and reads the stylesheet.
    pub(super) fn measure(
        canvas: &web_sys::HtmlCanvasElement,
        svg: &web_sys::SvgElement,
        (x, y, width, height): (f64, f64, f64, f64),
    ) -> Stage {
        let (w, h) = (
            f64::from(svg.client_width()),
            f64::from(svg.client_height()),
        );
        let ratio = window().device_pixel_ratio().max(1.0);
        let (pw, ph) = ((w * ratio).round() as u32, (h * ratio).round() as u32);
        if canvas.width() != pw || canvas.height() != ph {
            canvas.set_width(pw);
            canvas.set_height(ph);
            let style = web_sys::HtmlElement::style(canvas);
            let _ = style.set_property("width", &format!("{w}px"));
            let _ = style.set_property("height", &format!("{h}px"));
        }
        let (left, top) = (
            svg.get_bounding_client_rect(),
            canvas.get_bounding_client_rect(),
        );
        let scale = (w / width).min(h / height.max(1.0));
        let dx = left.left() - top.left() + (w - width * scale) / 2.0 - x * scale;
        let dy = left.top() - top.top() + (h - height * scale) / 2.0 - y * scale;
        let css = window().get_computed_style(canvas).ok().flatten();
        let var = |name: &str| {
            css.as_ref()
                .and_then(|c| c.get_property_value(name).ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "#888".into())
        };
        Stage {
            pixels: (pw, ph),
            scale: scale * ratio,
            offset: (dx * ratio, dy * ratio),
            ink: var("--ink"),
            bg: var("--bg"),
            line: var("--line"),
            edge: var("--broker-line"),
            ok: var("--ok"),
            metadata: var("--metadata"),
            danger: var("--danger"),
            font: css
                .as_ref()
                .and_then(|c| c.get_property_value("font-family").ok())
                .unwrap_or_default(),
        }
    }
}

/// Calls `changed` whenever `node`'s box changes size (and once when it
/// is first laid out), until the component goes away.
pub(super) fn observe_size<E>(node: NodeRef<E>, changed: impl Fn() + 'static)
where
    E: leptos::tachys::html::element::ElementType + 'static,
    E::Output: wasm_bindgen::JsCast + Clone + 'static,
{
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let observer = StoredValue::new_local(None::<(web_sys::ResizeObserver, Closure<dyn FnMut()>)>);
    let changed = std::rc::Rc::new(changed);
    Effect::new(move |_| {
        let Some(node) = node.get() else {
            return;
        };
        if observer.with_value(Option::is_some) {
            return;
        }
        let changed = changed.clone();
        let callback = Closure::<dyn FnMut()>::new(move || changed());
        let Ok(ro) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
            return;
        };
        ro.observe(node.unchecked_ref());
        observer.set_value(Some((ro, callback)));
    });
    on_cleanup(move || {
        observer.try_update_value(|o| {
            if let Some((ro, _)) = o.take() {
                ro.disconnect();
            }
        });
    });
}

/// Draws `chips` at their places on `canvas`, as `stage` measured it;
/// `thick` outlines for presenter mode.
pub(super) fn paint_chips<'a>(
    canvas: &web_sys::HtmlCanvasElement,
    stage: &Stage,
    thick: bool,
    chips: impl Iterator<Item = (&'a ChipPath, (f64, f64))>,
) {
    use wasm_bindgen::JsCast;
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let Stage {
        pixels: (pw, ph),
        scale: k,
        offset: (dx, dy),
        ink,
        bg,
        line,
        edge,
        ok,
        metadata,
        danger,
        font,
    } = stage;
    let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, f64::from(*pw), f64::from(*ph));
    let _ = ctx.set_transform(*k, 0.0, 0.0, *k, *dx, *dy);
    ctx.set_font(&format!("700 13px {font}"));
    ctx.set_text_align("center");
    ctx.set_line_join("round");
    // Chips of one look are drawn as one path: a fill and an outline per
    // kind and colour instead of per chip, and each colour string crosses
    // from wasm to the canvas once a frame.
    let mut looks: Vec<(ChipLook, Vec<(f64, f64)>)> = Vec::new();
    let mut labels = Vec::new();
    let mut drawn = 0;
    for (c, (x, y)) in chips {
        drawn += 1;
        // Each kind of message: radius, fill and outline.
        let (r, fill, stroke) = match c.class {
            "chip-fetch" => (4.0, line.as_str(), None),
            "chip-metadata" | "chip-election" | "chip-commit" => (6.0, metadata.as_str(), None),
            "chip-group" => (4.0, metadata.as_str(), None),
            "chip-ack" => (7.0, ok.as_str(), None),
            "chip-error" => (9.0, danger.as_str(), Some(edge.as_str())),
            "chip-replicate" => (7.0, c.colour, Some(edge.as_str())),
            "chip-consume" => (8.0, c.colour, Some(edge.as_str())),
            _ => (9.0, c.colour, Some(edge.as_str())),
        };
        let look = ChipLook {
            r,
            fill,
            stroke,
            faint: c.class == "chip-group",
        };
        match looks.iter_mut().find(|(l, _)| *l == look) {
            Some((_, at)) => at.push((x, y)),
            None => looks.push((look, vec![(x, y)])),
        }
        if let Some(label) = &c.label {
            labels.push((label, x, y - 13.0, c.class == "chip-error"));
        }
    }
    ctx.set_line_width(if thick { 3.0 } else { 1.5 });
    for (look, at) in &looks {
        ctx.begin_path();
        for &(x, y) in at {
            ctx.move_to(x + look.r, y);
            let _ = ctx.arc(x, y, look.r, 0.0, std::f64::consts::TAU);
        }
        ctx.set_global_alpha(if look.faint { 0.8 } else { 1.0 });
        ctx.set_fill_style_str(look.fill);
        ctx.fill();
        if let Some(stroke) = look.stroke {
            ctx.set_stroke_style_str(stroke);
            ctx.stroke();
        }
    }
    // Labels above every chip, each on a halo of the background: halos
    // first, so no halo covers another label's letters. A swarm of chips
    // goes unlabelled: its keys would overprint one another (and drawing
    // them is most of the canvas's work); the log and inspectors name them.
    if labels.len() > CHIP_LABELS_MAX {
        labels.clear();
    }
    ctx.set_global_alpha(1.0);
    ctx.set_line_width(3.0);
    ctx.set_stroke_style_str(bg);
    for (label, x, y, _) in &labels {
        let _ = ctx.stroke_text(label, *x, *y);
    }
    for error in [false, true] {
        ctx.set_fill_style_str(if error { danger } else { ink });
        for (label, x, y, _) in labels.iter().filter(|l| l.3 == error) {
            let _ = ctx.fill_text(label, *x, *y);
        }
    }
    // How many are drawn, for tests and the frame-time benchmark.
    let drawn = drawn.to_string();
    if canvas.get_attribute("data-chips").as_deref() != Some(drawn.as_str()) {
        let _ = canvas.set_attribute("data-chips", &drawn);
    }
}

/// More labelled chips in flight than this, and none is labelled.
pub(super) const CHIP_LABELS_MAX: usize = 40;

/// How a kind of chip is drawn: radius, fill, outline, and whether it is
/// drawn faint.
#[derive(PartialEq)]
pub(super) struct ChipLook<'a> {
    pub(super) r: f64,
    pub(super) fill: &'a str,
    pub(super) stroke: Option<&'a str>,
    pub(super) faint: bool,
}

/// Where one message's chip travels, and how it looks.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ChipPath {
    pub(super) from: (f64, f64),
    pub(super) to: (f64, f64),
    pub(super) sent: f64,
    pub(super) arrives: f64,
    pub(super) class: &'static str,
    pub(super) colour: &'static str,
    pub(super) label: Option<String>,
}

impl ChipPath {
    pub(super) fn new(layout: &Layout, m: &Message) -> Option<ChipPath> {
        let (class, colour) = chip_style(m.kind(), m.partition())?;
        let tp = m.partition();
        Some(ChipPath {
            from: layout.anchor(m.from, tp)?,
            to: layout.anchor(m.to, tp)?,
            sent: m.sent_at.0 as f64,
            arrives: m.arrives_at.0 as f64,
            class,
            colour,
            label: m.label().map(|l| l.into_owned()),
        })
    }
}

/// A chip's class and colour for each kind of message, or none for the
/// kinds not drawn: heartbeats, quorum chatter and empty fetches would
/// bury the picture. Records take their partition's colour.
pub(super) fn chip_style(
    kind: MessageKind,
    tp: Option<&kafkasim_engine::TopicPartition>,
) -> Option<(&'static str, &'static str)> {
    const GREY: &str = "#999";
    const PURPLE: &str = "#6a4c93";
    let records = || tp.map_or(GREY, |tp| partition_colour(tp.partition));
    Some(match kind {
        MessageKind::Produce => ("chip-produce", records()),
        MessageKind::ProduceAck => ("chip-ack", records()),
        MessageKind::ProduceError(_) => ("chip-error", records()),
        MessageKind::Replicate => ("chip-replicate", records()),
        MessageKind::Deliver => ("chip-consume", records()),
        MessageKind::ReplicaFetch | MessageKind::ConsumerFetch | MessageKind::Metadata => {
            ("chip-fetch", GREY)
        }
        MessageKind::PartitionState => ("chip-metadata", PURPLE),
        MessageKind::Election => ("chip-election", PURPLE),
        MessageKind::Commit => ("chip-commit", PURPLE),
        MessageKind::Join
        | MessageKind::Sync
        | MessageKind::Leave
        | MessageKind::CommitResponse
        | MessageKind::Group => ("chip-group", PURPLE),
        MessageKind::EmptyFetch
        | MessageKind::ControllerChatter
        | MessageKind::ListOffsets
        | MessageKind::Disconnected => return None,
    })
}
