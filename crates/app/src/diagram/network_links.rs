//! Cut and slow network links drawn on the diagram: a broken or dashed line
//! between two nodes, pinned inside the frame.

use super::*;
use crate::diagram::layout::Layout;
use crate::state::Sim;
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::NodeId;
use leptos::prelude::*;

/// Cut and slow links, drawn between the nodes they join: a cut as a red
/// dashed line marked "cut", a slow link as a dotted one with its latency.
/// Between two brokers the line arcs above the columns, clear of the
/// partitions. (A network cut used to be invisible on the diagram.)
#[component]
pub(super) fn NetworkLinks(layout: Memo<Layout>) -> impl IntoView {
    let sim = expect_context::<Sim>();
    // A node cut off from all the others is marked once, not by a star of
    // lines to every node.
    let isolated = Memo::new(move |_| sim.structure.with(isolated_nodes));
    let marks = move || {
        let l = layout.get();
        isolated
            .get()
            .into_iter()
            .filter_map(|n| {
                let (x, y) = match n {
                    NodeId::Broker(id) => l
                        .brokers
                        .iter()
                        .find(|b| b.id == id)
                        .map(|b| (b.rect.x + b.rect.w / 2.0, b.rect.y - 8.0))?,
                    _ => {
                        let c = l.producers.iter().chain(&l.quorum).find(|c| c.node == n);
                        match c {
                            Some(c) => (c.cx, c.cy - c.r - 6.0),
                            None => l.anchor(n, None).map(|(x, y)| (x + 30.0, y - 26.0))?,
                        }
                    }
                };
                Some(view! {
                    <text x=x y=y text-anchor="middle" class="net-link is-cut net-link-label" role="img"
                        aria-label=format!("{n} is isolated from the network")>"✕ isolated"</text>
                })
            })
            .collect_view()
    };
    let links = Memo::new(move |_| {
        let l = layout.get();
        let alone = isolated.get();
        sim.structure.with(|v| {
            let cuts = v
                .network_cuts
                .iter()
                .filter(|(a, b)| !alone.contains(a) && !alone.contains(b))
                .map(|(a, b)| (*a, *b, None));
            let slow = v
                .slow_links
                .iter()
                .filter(|(a, b, _)| {
                    !v.network_cuts.contains(&(*a, *b)) && !v.network_cuts.contains(&(*b, *a))
                })
                .map(|(a, b, ms)| (*a, *b, Some(*ms)));
            cuts.chain(slow)
                .filter_map(|(a, b, ms)| Some(((a, b, ms), link_path(&l, a, b)?)))
                .collect::<Vec<_>>()
        })
    });
    let lines = move || {
        links
            .get()
            .into_iter()
            .map(|((a, b, ms), (d, (lx, ly)))| {
                let (class, label) = match ms {
                    None => ("net-link is-cut", "✕ cut".to_string()),
                    Some(ms) if ms >= 1000 => {
                        ("net-link is-slow", format!("{:.1} s", ms as f64 / 1000.0))
                    }
                    Some(ms) => ("net-link is-slow", format!("{ms} ms")),
                };
                let name = match ms {
                    None => format!("Network cut between {a} and {b}"),
                    Some(_) => format!("Slow link between {a} and {b}: {label} each way"),
                };
                let tip = name.clone();
                view! {
                    <g class=class role="img" aria-label=name>
                        <title>{tip}</title>
                        <path d=d class="net-link-line" />
                        <text x=lx y=ly text-anchor="middle" class="net-link-label">{label}</text>
                    </g>
                }
            })
            .collect_view()
    };
    view! { <g class="net-links">{lines}{marks}</g> }
}

/// Nodes cut off from every other node.
pub(super) fn isolated_nodes(v: &ClusterView) -> Vec<NodeId> {
    let all = v.nodes();
    all.iter()
        .copied()
        .filter(|n| all.len() > 1 && v.cut_off_from(*n).len() == all.len() - 1)
        .collect()
}

/// The path of a link between two nodes and where its label goes.
pub(super) fn link_path(l: &Layout, a: NodeId, b: NodeId) -> Option<(String, (f64, f64))> {
    let end = |n: NodeId| match n {
        NodeId::Broker(id) => l
            .brokers
            .iter()
            .find(|x| x.id == id)
            .map(|x| (x.rect.x + x.rect.w / 2.0, x.rect.y)),
        _ => l.anchor(n, None),
    };
    let ((x1, y1), (x2, y2)) = (end(a)?, end(b)?);
    if matches!((a, b), (NodeId::Broker(_), NodeId::Broker(_))) {
        let top = y1.min(y2) - 60.0;
        let mid = (x1 + x2) / 2.0;
        Some((
            format!("M{x1},{y1} Q{mid},{top} {x2},{y2}"),
            (mid, (y1.min(y2) + top) / 2.0 - 4.0),
        ))
    } else {
        Some((
            format!("M{x1},{y1} L{x2},{y2}"),
            ((x1 + x2) / 2.0, (y1 + y2) / 2.0 - 6.0),
        ))
    }
}

/// A pinch on a trackpad (the browser sends it as a wheel with Ctrl held)
/// zooms at the pointer; a plain wheel scrolls the page as usual.
pub(super) fn pinch(
    ui: crate::toolbar::Ui,
    ev: &leptos::ev::WheelEvent,
    svg: NodeRef<leptos::svg::Svg>,
    shown: Memo<(f64, f64, f64, f64)>,
) {
    if !ev.ctrl_key() {
        return;
    }
    ev.prevent_default();
    // A pinch arrives as many small deltas: one zoom step per 60 of them.
    thread_local!(static PINCHED: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) });
    let total = PINCHED.with(|p| p.get()) + ev.delta_y();
    if total.abs() < 60.0 {
        PINCHED.with(|p| p.set(total));
        return;
    }
    PINCHED.with(|p| p.set(0.0));
    let Some(svg) = svg.get_untracked() else {
        return;
    };
    let r = svg.get_bounding_client_rect();
    let (x, y, w, h) = shown.get_untracked();
    let scale = (r.width() / w).min(r.height() / h.max(1.0));
    if scale <= 0.0 {
        return;
    }
    let left = r.left() + (r.width() - w * scale) / 2.0;
    let top = r.top() + (r.height() - h * scale) / 2.0;
    let at = (
        x + (f64::from(ev.client_x()) - left) / scale,
        y + (f64::from(ev.client_y()) - top) / scale,
    );
    ui.zoom_at(total < 0.0, Some(at));
}

/// On a laptop the diagram fills its frame. Sized in percentages, Chrome
/// lays out every shape in it again whenever the page around it is laid
/// out while any text in it has changed: 5–9 ms on the busy bench scene,
/// every virtual millisecond (a group's lag and the clock change together).
/// Sized in pixels, the same change lays out in under half a millisecond.
/// So the diagram is pinned to its frame's size in pixels, kept up to date
/// by a `ResizeObserver`. On a phone the frame scrolls and the diagram
/// keeps its own size (the stylesheet's).
pub(super) fn pin_to_frame(frame: NodeRef<leptos::html::Div>, svg: NodeRef<leptos::svg::Svg>) {
    observe_size(frame, move || {
        let (Some(frame), Some(svg)) = (frame.get_untracked(), svg.get_untracked()) else {
            return;
        };
        let style = web_sys::SvgElement::style(&svg);
        let laptop = window()
            .match_media("(min-width: 801px)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches());
        if laptop {
            let _ = style.set_property("width", &format!("{}px", frame.client_width()));
            let _ = style.set_property("height", &format!("{}px", frame.client_height()));
        } else {
            let _ = style.remove_property("width");
            let _ = style.remove_property("height");
        }
    });
}
