//! The cluster picture, laid out like the seed document: metadata quorum on
//! top, producers on the left, one column per broker with its replicas,
//! consumer groups on the right, and every message in flight as a chip
//! moving along its path.

use crate::layout::{
    along, partition_colour, BrokerBox, ConsumerBox, GroupBox, Layout, NodeCircle, Shape, Title,
};
use crate::sim::Sim;
use kafkasim_engine::broker::BrokerStatus;
use kafkasim_engine::clients::consumer::{ConsumerStatus, MemberState};
use kafkasim_engine::network::{Body, Message};
use kafkasim_engine::view::{BrokerView, ClusterView, ConsumerView, ReplicaView};
use kafkasim_engine::{Command, NodeId};
use leptos::prelude::*;

#[component]
pub fn Diagram() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<crate::toolbar::Ui>();
    // The nodes are redrawn only when what they show changes: not as time
    // passes, messages travel or records are appended and processed. Those
    // move the chips, or update the few texts that read them directly.
    let nodes = sim.structure;
    let live = sim.settled(Memo::new(move |_| sim.view.with(Live::of)));
    // Placement depends on the structure alone, so it is not recomputed
    // for every virtual millisecond of traffic.
    // A phone held upright gets the picture stacked in one column.
    let portrait = media_query(PORTRAIT_QUERY);
    let layout = Memo::new(move |_| {
        let internal = ui.show_internal.get();
        let shape = if portrait.get() {
            Shape::Portrait
        } else {
            Shape::Landscape
        };
        let large = ui.presenter.get();
        nodes.with(|v| Layout::compute_for(v, internal, shape, large))
    });
    let title = move |pick: fn(&crate::layout::Titles) -> &Title| {
        let t = layout.with(|l| pick(&l.titles).clone());
        (t.x, t.y, t.anchor)
    };
    let size = eased_size(layout);
    // Zoomed in (`]`, `[`, a pinch), the viewBox is the part shown.
    let shown =
        Memo::new(move |_| crate::layout::zoomed(size.get(), ui.zoom.get(), ui.zoom_focus.get()));
    let view_box = move || shown.with(|(x, y, w, h)| format!("{x} {y} {w} {h}"));
    let redirects = redirect_arrows(sim, layout);
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let frame = NodeRef::<leptos::html::Div>::new();
    pin_to_frame(frame, svg);
    view! {
        <div class="diagram-frame" node_ref=frame>
        <svg node_ref=svg class="diagram" viewBox=view_box role="group" aria-label="Cluster diagram"
            on:wheel=move |ev| pinch(ui, &ev, svg, shown)>
            <defs>
                <marker id="redirect-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" class="redirect-head" />
                </marker>
                <pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                    <line x1="0" y1="0" x2="0" y2="8" class="hatch-line" />
                </pattern>
            </defs>
            <text x=move || title(|t| &t.producers).0 y=move || title(|t| &t.producers).1 class="column-title" text-anchor="middle">"Producers"</text>
            {move || nodes.with(|v| (!v.consumers.is_empty()).then(|| {
                let (x, y, anchor) = title(|t| &t.groups);
                view! { <text x=x y=y text-anchor=anchor class="column-title">"Consumer groups"</text> }
            }))}
            <text x=move || title(|t| &t.quorum).0 y=move || title(|t| &t.quorum).1 class="column-title" text-anchor="middle">
                {move || nodes.with(quorum_title)}
            </text>
            <g class="quorum">{parts(
                move || layout.with(|l| l.quorum.len()),
                move |i| {
                    let c = layout.with(|l| l.quorum.get(i).cloned())?;
                    let (q, active) = nodes.with(|v| {
                        (v.quorum.iter().find(|q| q.node == c.node).cloned(), v.active_controller == Some(c.node))
                    });
                    Some((c, q, active))
                },
                move |(c, q, active)| quorum_node(sim, &c, q.as_ref(), active),
            )}</g>
            <g class="producers">{parts(
                move || layout.with(|l| l.producers.len()),
                move |i| layout.with(|l| l.producers.get(i).cloned()),
                move |c| producer_node(sim, &c),
            )}</g>
            // Redirect arrows pass behind the brokers they cross, not over
            // their partitions' names; their labels are drawn on top.
            <Redirects arrows=redirects labels=false />
            <g class="brokers">{parts(
                move || layout.with(|l| l.brokers.len()),
                move |i| Some((layout.with(|l| l.brokers.get(i).cloned())?, nodes.with(|v| v.brokers.get(i).cloned())?)),
                move |(bx, bv)| broker_column(sim, &bx, &bv),
            )}</g>
            <g class="groups">{parts(
                move || layout.with(|l| l.groups.len()),
                move |i| {
                    let g = layout.with(|l| l.groups.get(i).cloned())?;
                    let (gv, members) = nodes.with(|v| {
                        let gv = g.name.as_ref().and_then(|n| v.groups.iter().find(|x| &x.group == n)).cloned();
                        let members: Vec<ConsumerView> = g
                            .consumers
                            .iter()
                            .filter_map(|cb| v.consumers.iter().find(|c| c.id == cb.id).cloned())
                            .collect();
                        (gv, members)
                    });
                    Some((g, gv, members))
                },
                move |(g, gv, members)| group_box(sim, live, &g, gv.as_ref(), &members),
            )}</g>
            <NetworkLinks layout=layout />
            <Pulses layout=layout />
            <Redirects arrows=redirects labels=true />
        </svg>
        <Chips layout=layout shown=shown svg=svg />
        </div>
    }
}

/// Cut and slow links, drawn between the nodes they join: a cut as a red
/// dashed line marked "cut", a slow link as a dotted one with its latency.
/// Between two brokers the line arcs above the columns, clear of the
/// partitions. (A network cut used to be invisible on the diagram.)
#[component]
fn NetworkLinks(layout: Memo<Layout>) -> impl IntoView {
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
fn isolated_nodes(v: &ClusterView) -> Vec<NodeId> {
    let all = v.nodes();
    all.iter()
        .copied()
        .filter(|n| all.len() > 1 && v.cut_off_from(*n).len() == all.len() - 1)
        .collect()
}

/// The path of a link between two nodes and where its label goes.
fn link_path(l: &Layout, a: NodeId, b: NodeId) -> Option<(String, (f64, f64))> {
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
fn pinch(
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
fn pin_to_frame(frame: NodeRef<leptos::html::Div>, svg: NodeRef<leptos::svg::Svg>) {
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

/// The numbers on the diagram that change with every record, gathered in
/// one pass per view: the texts showing them read these (and redraw only
/// when they change, and while playing at most every `SETTLE_EVERY_MS`)
/// instead of each searching the view every frame.
#[derive(Debug, Clone, PartialEq, Default)]
struct Live {
    /// Per group: its lag and how many records it has not read yet.
    lag: std::collections::BTreeMap<String, GroupLag>,
    /// Records processed, and how many of them again, per consumer.
    processed: std::collections::BTreeMap<kafkasim_engine::ConsumerId, (usize, usize)>,
}

impl Live {
    fn of(v: &ClusterView) -> Live {
        Live {
            lag: v
                .groups
                .iter()
                .map(|g| (g.group.clone(), GroupLag::of(v, g)))
                .collect(),
            processed: v
                .consumers
                .iter()
                .map(|c| (c.id, (c.processed_total, c.duplicates)))
                .collect(),
        }
    }
}

/// A group's lag as `kafka-consumer-groups` reports it (high watermark less
/// the committed offset, summed; `None`, printed `-`, where nothing is
/// committed), and the records it has not read yet: past its members'
/// positions, or past the committed offset (the start of the log if none)
/// where no running member reads the partition. A crashed member that
/// committed nothing has lag `-` and every record unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupLag {
    pub lag: Option<u64>,
    /// Partitions with no committed offset (their lag is `-`).
    pub uncommitted: usize,
    pub unread: u64,
    /// Records readable in the group's partitions (the high watermarks).
    pub readable: u64,
}

impl GroupLag {
    pub fn of(v: &ClusterView, g: &kafkasim_engine::view::GroupView) -> GroupLag {
        let mut out = GroupLag::default();
        for p in &g.partitions {
            if let Some(l) = p.lag {
                out.lag = Some(out.lag.unwrap_or(0) + l);
            } else {
                out.uncommitted += 1;
            }
            // The group's own owner of the partition: another group's
            // member reading it says nothing of this group.
            let position = p
                .owner
                .and_then(|owner| v.consumers.iter().find(|c| c.id == owner))
                .filter(|c| c.status == kafkasim_engine::clients::consumer::ConsumerStatus::Running)
                .and_then(|c| c.assigned.iter().find(|a| a.tp == p.tp))
                .and_then(|a| a.position);
            let read_to = position.or(p.committed).unwrap_or(0).min(p.high_watermark);
            out.unread += p.high_watermark - read_to;
            out.readable += p.high_watermark;
        }
        out
    }

    /// "lag 73", "lag -", or "lag 40 + -" (some partitions have no committed
    /// offset).
    pub fn lag_text(&self) -> String {
        match (self.lag, self.uncommitted) {
            (None, _) => "lag -".into(),
            (Some(l), 0) => format!("lag {l}"),
            // Some partitions print `-`: their part of the lag is unknown.
            (Some(l), _) => format!("lag {l} + -"),
        }
    }
}

fn quorum_title(v: &ClusterView) -> String {
    match v.mode {
        kafkasim_engine::MetadataMode::Zookeeper => "ZooKeeper ensemble".into(),
        kafkasim_engine::MetadataMode::Kraft => "KRaft controller quorum".into(),
    }
}

/// Click or Enter on a node selects it for the action panel, unfolding the
/// side panel if it was folded away. (Space stays Play / Pause.)
fn select_handlers(
    sim: Sim,
    node: NodeId,
) -> (
    impl Fn(leptos::ev::MouseEvent),
    impl Fn(leptos::ev::KeyboardEvent),
) {
    let folded = use_context::<crate::toolbar::Ui>().map(|ui| ui.side_folded);
    let select = move || {
        sim.selected.set(Some(node));
        if let Some(f) = folded {
            f.set(false);
        }
    };
    let click = move |_| select();
    let key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            select();
        }
    };
    (click, key)
}

/// The diagram's parts of one kind (brokers, groups…), the `i`th drawn
/// from `part(i)`: when the structure changes, only the parts whose own
/// slice of it changed are drawn again, instead of the whole picture.
/// Type-erased (`AnyView`): without it the release build's LTO failed
/// with "Invalid Wasm linking symbol" (rustc 1.95, wasm32).
fn parts<T, V>(
    count: impl Fn() -> usize + Send + Sync + 'static,
    part: impl Fn(usize) -> Option<T> + Clone + Send + Sync + 'static,
    draw: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> AnyView
where
    T: Clone + PartialEq + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <For
            each=move || 0..count()
            key=|i| *i
            children=move |i| {
                let part = part.clone();
                let draw = draw.clone();
                let slice = Memo::new(move |_| part(i));
                move || slice.get().map(|t| draw(t).into_any())
            }
        />
    }
    .into_any()
}

fn quorum_node(
    sim: Sim,
    c: &NodeCircle,
    q: Option<&kafkasim_engine::view::QuorumNodeView>,
    active: bool,
) -> impl IntoView {
    let alive = q.is_some_and(|q| q.alive);
    let label = c.node.to_string();
    let short = match c.node {
        NodeId::ZooKeeper(z) => format!("ZK {}", z.0),
        NodeId::Controller(k) => format!("C{}", k.0),
        _ => label.clone(),
    };
    let (click, key) = select_handlers(sim, c.node);
    let class = format!(
        "node quorum-node{}{}",
        if alive { "" } else { " is-down" },
        if active { " is-active" } else { "" }
    );
    view! {
        <g class=class class:is-lit=crate::lessons::lit(label.clone()) role="button" tabindex="0" aria-label=label on:click=click on:keydown=key>
            <circle cx=c.cx cy=c.cy r=c.r class="node-shape" />
            <text x=c.cx y=c.cy text-anchor="middle" dominant-baseline="central" class="node-label">{short}</text>
            {(!alive).then(|| view! { <text x=c.cx y=c.cy + c.r + 16.0 text-anchor="middle" class="state-tag">"down"</text> })}
            {active.then(|| view! { <text x=c.cx y=c.cy + c.r + 16.0 text-anchor="middle" class="state-tag is-active">"active"</text> })}
        </g>
    }
}

fn producer_node(sim: Sim, c: &NodeCircle) -> impl IntoView {
    let label = c.node.to_string();
    let short = match c.node {
        NodeId::Producer(p) => format!("P{}", p.0),
        _ => label.clone(),
    };
    let (click, key) = select_handlers(sim, c.node);
    let aria = label.clone();
    // Sends that failed for good (a timeout, a refusal): counted at the
    // producer, in red, so the class sees where a failure surfaced.
    let id = c.node;
    let failed = sim.settled(Memo::new(move |_| {
        sim.view.with(|v| {
            v.producers
                .iter()
                .find(|p| NodeId::Producer(p.id) == id)
                .map_or(0, |p| p.failed)
        })
    }));
    // Beside the circle, towards the brokers: under it is the next producer.
    let (fx, fy) = (c.cx + c.r * 0.7 + 4.0, c.cy - c.r * 0.7);
    view! {
        <g class="node producer" class:is-lit=crate::lessons::lit(aria.clone()) role="button" tabindex="0" aria-label=aria on:click=click on:keydown=key>
            <circle cx=c.cx cy=c.cy r=c.r class="node-shape" class:has-failed=move || { failed.get() > 0 } />
            <text x=c.cx y=c.cy text-anchor="middle" dominant-baseline="central" class="node-label">{short}</text>
            <text x=c.cx y=c.cy + c.r + 16.0 text-anchor="middle" class="node-caption">{label}</text>
            {move || (failed.get() > 0).then(|| view! {
                <text x=fx y=fy class="producer-failed">{format!("× {} failed", failed.get())}</text>
            })}
        </g>
    }
}

fn broker_column(sim: Sim, bx: &BrokerBox, bv: &BrokerView) -> impl IntoView {
    let up = bv.status == BrokerStatus::Running;
    let status = match bv.status {
        BrokerStatus::Running if !bv.registered => "starting",
        BrokerStatus::Running => "up",
        BrokerStatus::Crashed => "down",
        BrokerStatus::Stopped => "stopped",
    };
    let node = NodeId::Broker(bx.id);
    let (click, key) = select_handlers(sim, node);
    let r = bx.rect.clone();
    let class = format!("node broker{}", if up { "" } else { " is-down" });
    let large = presenter_mode();
    let (id, is_controller) = (bx.id, bv.is_controller);
    let pills = bx
        .pills
        .iter()
        .filter_map(|p| {
            bv.replicas
                .iter()
                .find(|rv| rv.tp == p.tp)
                .map(|rv| replica_pill(p, rv, bx.id.0, up))
        })
        .collect_view();
    let more = (bx.hidden > 0).then(|| {
        view! { <text x=r.x + r.w / 2.0 y=r.y + r.h - 8.0 text-anchor="middle" class="node-caption">{format!("+{} more", bx.hidden)}</text> }
    });
    view! {
        <g class=class data-status=status>
            <g role="button" tabindex="0" aria-label=format!("Broker {}", bx.id.0) on:click=click on:keydown=key
                on:pointerenter=offsets_tooltip(sim, bx.id.0)
                class:is-lit=crate::lessons::lit(format!("Broker {}", bx.id.0))>
                <title>{format!("Broker {}", bx.id.0)}</title>
                <rect x=r.x y=r.y width=r.w height=r.h rx="12" class="broker-shape" />
                {(!up).then(|| view! { <rect x=r.x y=r.y width=r.w height=r.h rx="12" fill="url(#hatch)" class="broker-hatch" /> })}
                {move || {
                    let r = r.clone();
                    let tag = broker_tag(up, is_controller, status);
                    if large() && r.w >= crate::layout::NARROW && !header_fits_large(&format!("Broker {}", id.0), &tag, r.w) {
                        // Presenter mode's title fills the header: the tag
                        // goes to the foot of the column, under the replicas.
                        view! {
                            <text x=r.x + 14.0 y=r.y + 30.0 class="broker-title">{format!("Broker {}", id.0)}</text>
                            <text x=r.x + 14.0 y=r.y + r.h - 7.0 class="state-tag">{tag}</text>
                        }.into_any()
                    } else if !header_fits(&format!("Broker {}", id.0), &tag, r.w) || r.w < crate::layout::NARROW {
                        // Title and tag do not fit side by side: the tag goes
                        // below, left-aligned like its neighbours' titles; a
                        // narrow column says `B7` and one word, centred.
                        let narrow = r.w < crate::layout::NARROW;
                        let (title, tag) = if narrow {
                            (format!("B{}", id.0), short_tag(up, is_controller, status).to_string())
                        } else {
                            (format!("Broker {}", id.0), tag)
                        };
                        let (x, anchor) = if narrow { (r.x + r.w / 2.0, "middle") } else { (r.x + 14.0, "start") };
                        view! {
                            <text x=x y=r.y + 22.0 text-anchor=anchor class="broker-title">{title}</text>
                            <text x=x y=r.y + 38.0 text-anchor=anchor class="state-tag">{tag}</text>
                        }.into_any()
                    } else {
                        view! {
                            <text x=r.x + 14.0 y=r.y + 28.0 class="broker-title">{format!("Broker {}", id.0)}</text>
                            <text x=r.x + r.w - 12.0 y=r.y + 28.0 text-anchor="end" class="state-tag">{tag}</text>
                        }.into_any()
                    }
                }}
            </g>
            {pills}
            {more}
        </g>
    }
}

/// Fills a broker's tooltip, when the pointer arrives, with each replica's
/// log end offset and high watermark. Read then rather than kept current:
/// a shown tooltip does not change, and a few hundred texts following every
/// record cost busy frames dearly.
fn offsets_tooltip(sim: Sim, broker: u32) -> impl Fn(leptos::ev::PointerEvent) + 'static {
    move |ev| {
        let text = sim.view.with_untracked(|v| {
            let replicas = v
                .brokers
                .iter()
                .filter(|b| b.id.0 == broker)
                .flat_map(|b| &b.replicas);
            std::iter::once(format!("Broker {broker}"))
                .chain(replicas.map(|r| {
                    format!(
                        "{}: LEO {} · HW {}",
                        r.tp, r.log_end_offset, r.high_watermark
                    )
                }))
                .collect::<Vec<_>>()
                .join("\n")
        });
        set_tooltip(&ev, &text);
    }
}

/// Writes `text` into the `<title>` (first child) of the node `ev` is on.
fn set_tooltip(ev: &leptos::ev::PointerEvent, text: &str) {
    use wasm_bindgen::JsCast;
    let title = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|g| g.first_element_child());
    if let Some(title) = title {
        title.set_text_content(Some(text));
    }
}

/// Writes a consumer's tooltip, with its records processed so far, when the
/// pointer comes over it: kept live, the tooltip's text changed with every
/// record processed, and each change cost the frame a repaint.
fn processed_tooltip(
    live: Signal<Live>,
    id: kafkasim_engine::ConsumerId,
    detail: String,
) -> impl Fn(leptos::ev::PointerEvent) + 'static {
    move |ev| {
        let (done, again) =
            live.with_untracked(|l| l.processed.get(&id).copied().unwrap_or_default());
        let text = format!(
            "Consumer {}: {detail}; processed {done} records ({again} again)",
            id.0
        );
        set_tooltip(&ev, &text);
    }
}

/// A consumer group's box: its name, state and coordinator, then one row per
/// consumer with the partitions it owns.
fn group_box(
    sim: Sim,
    live: Signal<Live>,
    g: &GroupBox,
    gv: Option<&kafkasim_engine::view::GroupView>,
    members: &[ConsumerView],
) -> impl IntoView {
    let title = match &g.name {
        Some(n) => format!("Group {n}"),
        None => "No group (assign)".to_string(),
    };
    // The lag changes with every record: read live. The state has a line
    // of its own: "PreparingRebalance" beside the rest ran out of the box.
    let lag = {
        let group = gv.map(|gv| gv.group.clone());
        Memo::new(move |_| {
            group
                .as_ref()
                .and_then(|g| live.with(|l| l.lag.get(g).copied()))
                .unwrap_or_default()
        })
    };
    let caption = gv.map(|_| {
        move || {
            let lag = lag.get();
            format!("{} · unread {}", lag.lag_text(), lag.unread)
        }
    });
    let generation = gv.map_or(0, |gv| gv.generation.max(0));
    let state = gv.map(|gv| gv.state.to_string());
    let state_gen = state.clone().map(|s| format!("{s} · gen {generation}"));
    // The unread records as a gauge along the header's foot: empty when
    // the group has read everything, full when it has read nothing.
    let gauge = gv.map(|_| {
        let (x, y, w) = (g.rect.x + 12.0, g.rect.y + GAUGE_Y, g.rect.w - 24.0);
        let filled = move || {
            let lag = lag.get();
            if lag.readable == 0 {
                0.0
            } else {
                w * lag.unread as f64 / lag.readable as f64
            }
        };
        view! {
            <g class="lag-gauge" class:is-behind=move || { lag.get().unread > 0 }>
                <title>{move || {
                    let lag = lag.get();
                    format!("{} of {} records not read yet by the group; Kafka's {}", lag.unread, lag.readable, lag.lag_text())
                }}</title>
                <rect x=x y=y width=w height=GAUGE_H rx="2" class="lag-gauge-track" />
                <rect x=x y=y width=filled height=GAUGE_H rx="2" class="lag-gauge-fill" />
            </g>
        }
    });
    let coordinator = gv.map(|gv| {
        gv.coordinator
            .map_or("no coordinator yet".to_string(), |b| {
                format!("coordinator: {b}")
            })
    });
    let r = g.rect.clone();
    let consumers = g
        .consumers
        .iter()
        .filter_map(|cb| {
            members
                .iter()
                .find(|c| c.id == cb.id)
                .map(|cv| consumer_row(sim, live, cb, cv))
        })
        .collect_view();
    let aria = title.clone();
    let add = gv.map(|gv| add_member_button(sim, gv, &r));
    let large = presenter_mode();
    let (head, name) = (r.clone(), aria.clone());
    view! {
        <g class="group" class:is-lit=crate::lessons::lit(aria.clone()) role="group" aria-label=aria>
            <rect x=r.x y=r.y width=r.w height=r.h rx="12" class="group-shape" />
            {move || if large() {
                // Presenter mode's larger type has room for two lines under
                // the title: the coordinator is in the tooltip and the
                // Groups tab.
                view! {
                    <title>{format!("{name}: {}", coordinator.clone().unwrap_or_default())}</title>
                    <text x=head.x + 12.0 y=head.y + 24.0 class="group-title">{title.clone()}</text>
                    <text x=head.x + 12.0 y=head.y + 44.0 class="group-caption">{caption}</text>
                    <text x=head.x + 12.0 y=head.y + 61.0 class="group-caption">{state.clone()}</text>
                }.into_any()
            } else {
                view! {
                    <text x=head.x + 12.0 y=head.y + 20.0 class="group-title">{title.clone()}</text>
                    <text x=head.x + 12.0 y=head.y + 36.0 class="group-caption">{caption}</text>
                    <text x=head.x + 12.0 y=head.y + 51.0 class="group-caption">{state_gen.clone()}</text>
                    <text x=head.x + 12.0 y=head.y + 64.0 class="group-caption">{coordinator.clone()}</text>
                }.into_any()
            }}
            {gauge}
            {add}
            {consumers}
        </g>
    }
}

/// The `+` in a group's corner: one more member, subscribed to what the
/// group's members read, with the group's assignor (scaling out).
fn add_member_button(
    sim: Sim,
    gv: &kafkasim_engine::view::GroupView,
    r: &crate::layout::Rect,
) -> impl IntoView {
    let group = gv.group.clone();
    let assignor = gv.protocol;
    let topics: Vec<String> = gv
        .partitions
        .iter()
        .map(|p| p.tp.topic.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let add = move || {
        let topics = if topics.is_empty() {
            sim.scene_topic().into_iter().collect()
        } else {
            topics.clone()
        };
        sim.dispatch(Command::CreateConsumer {
            id: None,
            config: kafkasim_engine::ConsumerConfig {
                group_id: Some(group.clone()),
                partition_assignment_strategy: assignor,
                ..Default::default()
            },
            topics: Some(topics),
            partitions: None,
        });
    };
    let add_key = add.clone();
    let (cx, cy) = (r.x + r.w - 18.0, r.y + 18.0);
    view! {
        <g class="group-add" role="button" tabindex="0" aria-label=format!("Add consumer to group {}", gv.group)
            on:click=move |_| add()
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Enter" || ev.key() == " " {
                    ev.prevent_default();
                    add_key();
                }
            }>
            <title>"Add a consumer to this group"</title>
            <circle cx=cx cy=cy r="11" class="group-add-shape" />
            <text x=cx y=cy + 5.0 text-anchor="middle" class="group-add-label">"+"</text>
        </g>
    }
}

fn consumer_row(
    sim: Sim,
    live: Signal<Live>,
    cb: &ConsumerBox,
    cv: &ConsumerView,
) -> impl IntoView {
    let node = NodeId::Consumer(cv.id);
    let (click, key) = select_handlers(sim, node);
    let r = cb.rect.clone();
    let up = cv.status == ConsumerStatus::Running;
    let state = match (cv.status, cv.member_state) {
        (ConsumerStatus::Crashed, _) => "down",
        (ConsumerStatus::Closed, _) => "closed",
        (_, MemberState::Joining | MemberState::Syncing) if cv.group.is_some() => "rebalancing",
        _ if cv.idle => "idle",
        _ => "",
    };
    let owned: Vec<String> = cv.assigned.iter().map(|a| a.tp.to_string()).collect();
    let detail = if owned.is_empty() {
        "owns no partition".to_string()
    } else {
        format!("owns {}", owned.join(", "))
    };
    // As many partition chips as fit before the state tag; the rest as +N.
    let fit = (((r.w - 122.0) / 30.0).floor().max(1.0)) as usize;
    let fit = if cv.assigned.len() > fit {
        fit - 1
    } else {
        fit
    }
    .max(1);
    let extra = cv.assigned.len().saturating_sub(fit);
    let more = (extra > 0).then(|| {
        let x = r.x + 52.0 + fit as f64 * 30.0;
        view! { <text x=x + 2.0 y=r.y + 27.0 class="owned-more">{format!("+{extra}")}</text> }
    });
    let dots = cv
        .assigned
        .iter()
        .take(fit)
        .enumerate()
        .map(|(i, a)| {
            let x = r.x + 52.0 + i as f64 * 30.0;
            view! {
                <g class="owned" style=format!("--partition: {}", partition_colour(a.tp.partition))>
                    <rect x=x y=r.y + 10.0 width="26" height="24" rx="6" class="owned-shape" />
                    <text x=x + 13.0 y=r.y + 27.0 text-anchor="middle" class="owned-label">{format!("P{}", a.tp.partition)}</text>
                </g>
            }
        })
        .collect_view();
    let class = format!("node consumer{}", if up { "" } else { " is-down" });
    view! {
        <g class=class class:is-lit=crate::lessons::lit(format!("Consumer {}", cv.id.0)) data-state=state role="button" tabindex="0" aria-label=format!("Consumer {}", cv.id.0) on:click=click on:keydown=key
            on:pointerenter=processed_tooltip(live, cv.id, detail.clone())>
            <title>{format!("Consumer {}: {detail}", cv.id.0)}</title>
            <rect x=r.x y=r.y width=r.w height=r.h rx="10" class="consumer-shape" />
            <text x=r.x + 10.0 y=r.y + 27.0 class="node-label">{format!("C{}", cv.id.0)}</text>
            {dots}
            {more}
            <text x=r.x + r.w - 8.0 y=r.y + 27.0 text-anchor="end" class="state-tag">{state}</text>
        </g>
    }
}

/// The tag for a narrow column: one word.
fn short_tag(up: bool, controller: bool, status: &str) -> &str {
    match (up, controller) {
        (true, true) => "ctrl",
        (true, false) if status == "starting" => "start",
        (true, false) => "",
        (false, _) => status,
    }
}

/// The broker's header tag: what is wrong first, then its controller role.
fn broker_tag(up: bool, controller: bool, status: &str) -> String {
    match (up, controller) {
        (true, true) => "controller".into(),
        (true, false) if status == "starting" => status.into(),
        (true, false) => String::new(),
        (false, true) => format!("{status} · controller"),
        (false, false) => status.into(),
    }
}

fn replica_pill(
    p: &crate::layout::PillBox,
    rv: &ReplicaView,
    broker: u32,
    broker_up: bool,
) -> impl IntoView {
    let role = if rv.leader {
        "leader".to_string()
    } else if rv.offline {
        "no leader: offline".to_string()
    } else if rv.in_sync {
        "follower, in sync".to_string()
    } else {
        "follower, out of sync".to_string()
    };
    let label = format!("{} on broker {broker} ({role})", rv.tp);
    let colour = partition_colour(rv.tp.partition);
    let r = p.rect.clone();
    let mut class = String::from("replica");
    if rv.leader {
        class.push_str(" is-leader");
    } else if !rv.in_sync {
        class.push_str(" is-out-of-sync");
    }
    if !broker_up {
        class.push_str(" is-offline");
    }
    if rv.offline {
        class.push_str(" is-leaderless");
    }
    let short = format!("{} P{}", rv.tp.topic, rv.tp.partition);
    let badge = if rv.leader {
        "L"
    } else if rv.offline {
        // No leader anywhere: a red cross on every replica of it.
        "×"
    } else if rv.in_sync {
        "F"
    } else {
        "F!"
    };
    let name = rv.tp.to_string();
    // A follower falling behind: the countdown to leaving the ISR.
    let timer = rv.isr_expires_in.map(|ms| {
        view! {
            <text x=r.x + r.w / 2.0 + 30.0 y=r.y + 20.0 text-anchor="middle" class="isr-timer">
                <title>"replica.lag.time.max.ms: the leader drops this follower from the ISR if it has not caught up by then"</title>
                {format!("◔ {}s", ms.div_ceil(1000))}
            </text>
        }
    });
    if r.h < PILL_MIN_H {
        // A tile: colour is the partition, fill the leader, dashes out of sync.
        return view! {
            <g class=class class:is-lit=crate::lessons::lit_any(vec![rv.tp.to_string(), format!("{} on broker {broker}", rv.tp)]) role="img" aria-label=label style=format!("--partition: {colour}")>
                <title>{format!("{name} — {role}")}</title>
                <rect x=r.x y=r.y width=r.w height=r.h rx="3" class="replica-shape" />
            </g>
        }
        .into_any();
    }
    view! {
        <g class=class class:is-lit=crate::lessons::lit_any(vec![rv.tp.to_string(), format!("{} on broker {broker}", rv.tp)]) role="img" aria-label=label style=format!("--partition: {colour}")>
            <title>{name}</title>
            <rect x=r.x y=r.y width=r.w height=r.h rx=r.h / 2.0 class="replica-shape" />
            <text x=r.x + 12.0 y=r.y + 20.0 class="replica-label">{short}</text>
            <text x=r.x + r.w - 12.0 y=r.y + 20.0 text-anchor="end" class="replica-badge">{badge}</text>
            {(rv.preferred && !rv.leader).then(|| view! { <text x=r.x + r.w - 34.0 y=r.y + 20.0 text-anchor="end" class="replica-star">"☆"</text> })}
            {timer}
        </g>
    }
    .into_any()
}

/// Whether a broker's title and state tag fit side by side in its column,
/// `w` wide, judged by average glyph widths of the title's 18 px bold and
/// the tag's 14 px type (bold in presenter mode). "Broker 1" beside
/// "down · controller" needs about 270 units; beside "controller", 215.
fn header_fits(title: &str, tag: &str, w: f64) -> bool {
    let width = |text: &str, px: f64| text.chars().count() as f64 * px * 0.6;
    tag.is_empty() || 14.0 + width(title, 18.0) + 12.0 + width(tag, 14.0) + 12.0 <= w
}

/// The same in presenter mode's type (web/style.css: 27 and 18 units).
fn header_fits_large(title: &str, tag: &str, w: f64) -> bool {
    let width = |text: &str, px: f64| text.chars().count() as f64 * px * 0.6;
    tag.is_empty() || 14.0 + width(title, 27.0) + 12.0 + width(tag, 18.0) + 12.0 <= w
}

/// Whether presenter mode is on (its larger type changes a few placements).
fn presenter_mode() -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let presenter = use_context::<crate::toolbar::Ui>().map(|ui| ui.presenter);
    move || presenter.is_some_and(|p| p.get())
}

/// Where a group's lag gauge sits in its header, and how thick it is.
const GAUGE_Y: f64 = 68.0;
const GAUGE_H: f64 = 3.5;

/// Rectangles shorter than this are tiles, drawn without text.
const PILL_MIN_H: f64 = 20.0;

/// Every message in flight, drawn on one canvas over the diagram: the
/// picture underneath stays still while chips move, so a frame repaints
/// the canvas alone instead of laying out and painting the whole SVG
/// (DESIGN.md: "move chips in one place per frame").
#[component]
fn Chips(
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
struct Stage {
    /// Canvas size in device pixels.
    pixels: (u32, u32),
    /// viewBox units to device pixels: scale, then offset.
    scale: f64,
    offset: (f64, f64),
    ink: String,
    bg: String,
    line: String,
    edge: String,
    ok: String,
    metadata: String,
    danger: String,
    font: String,
}

/// What a measured `Stage` depends on.
#[derive(Clone, Copy, PartialEq)]
struct StageKey {
    /// Window or diagram resizes so far.
    resized: u32,
    /// The diagram's viewBox: `(x, y, w, h)`.
    shown: (f64, f64, f64, f64),
    /// The colour scheme.
    dark: bool,
}

impl Stage {
    /// Sizes `canvas` to cover `svg` (whose viewBox is `x y width height`,
    /// fitted as SVG's default `xMidYMid meet`) and reads the stylesheet.
    fn measure(
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
fn observe_size<E>(node: NodeRef<E>, changed: impl Fn() + 'static)
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
fn paint_chips<'a>(
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
const CHIP_LABELS_MAX: usize = 40;

/// How a kind of chip is drawn: radius, fill, outline, and whether it is
/// drawn faint.
#[derive(PartialEq)]
struct ChipLook<'a> {
    r: f64,
    fill: &'a str,
    stroke: Option<&'a str>,
    faint: bool,
}

/// A ring that spreads once from where an election just happened: the new
/// active controller, or a partition's new leader. (Still, under reduced
/// motion: the badges and the event log say the same.)
#[component]
fn Pulses(layout: Memo<Layout>) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let rings = move || {
        let layout = layout.get();
        sim.pulses.with(|pulses| {
            pulses
                .iter()
                .filter_map(|p| {
                    let (x, y) = layout.anchor(p.node, p.tp.as_ref())?;
                    let class = if p.tp.is_some() {
                        "pulse pulse-leader"
                    } else {
                        "pulse pulse-controller"
                    };
                    Some((p.id, x, y, class))
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <g class="pulses" aria-hidden="true">
            <For each=rings key=|(id, x, y, _)| (*id, (*x * 10.0) as i64, (*y * 10.0) as i64) let:r>
                <circle cx=r.1 cy=r.2 r="12" class=r.3 />
            </For>
        </g>
    }
}

/// A redirect arrow: its key, its path, and (the first of a group) its
/// label's x, y, anchor and text.
type Arrow = (String, String, Option<(f64, f64, &'static str, String)>);

/// Clients that found a partition's leader moved: a dashed arrow from the
/// client to the replica it now talks to, labelled with what moved, for a
/// few virtual seconds (so a paused picture keeps it). Computed once for
/// both layers that draw them.
fn redirect_arrows(sim: Sim, layout: Memo<Layout>) -> Memo<Vec<Arrow>> {
    Memo::new(move |_| {
        let now = sim.view.with(|v| v.time.0);
        let layout = layout.get();
        sim.redirects.with(|redirects| {
            redirects
                .iter()
                .filter(|r| r.at <= now && now < r.at + crate::sim::REDIRECT_SHOWN_MS)
                .flat_map(|r| {
                    let layout = &layout;
                    r.tps.iter().enumerate().filter_map(move |(i, tp)| {
                        let (from, to) = layout.redirect_ends(r.client, r.to, tp)?;
                        let dx = (to.0 - from.0) / 2.0;
                        let d = format!(
                            "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                            from.0,
                            from.1,
                            from.0 + dx,
                            from.1,
                            to.0 - dx,
                            to.1,
                            to.0,
                            to.1
                        );
                        // The first arrow of a group carries the label, beside the client.
                        let text = (i == 0).then(|| {
                            let x = if dx >= 0.0 {
                                from.0 + 6.0
                            } else {
                                from.0 - 6.0
                            };
                            let anchor = if dx >= 0.0 { "start" } else { "end" };
                            (x, from.1 - 10.0, anchor, redirect_label(r))
                        });
                        Some((format!("{}>{}:{tp}", r.client, r.to), d, text))
                    })
                })
                .collect()
        })
    })
}

/// One layer of the redirects: the arrows (drawn under the brokers they
/// cross) or their labels (drawn over everything).
#[component]
fn Redirects(arrows: Memo<Vec<Arrow>>, labels: bool) -> impl IntoView {
    let shown = move || {
        arrows.with(|a| {
            a.iter()
                .filter(|a| !labels || a.2.is_some())
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <g class="redirects" aria-hidden="true">
            <For each=shown key=|a| (a.0.clone(), a.1.clone()) let:a>
                {(!labels).then(|| view! { <path d=a.1 class="redirect" marker-end="url(#redirect-head)" /> })}
                {a.2.filter(|_| labels).map(|(x, y, anchor, text)| {
                    // A callout over whatever lies beneath, for its few seconds.
                    let w = text.chars().count() as f64 * 8.4 + 14.0;
                    let left = if anchor == "start" { x } else { x - w };
                    view! {
                        <g class="redirect-callout">
                            <rect x=left y=y - 17.0 width=w height="23" rx="6" />
                            <text x=left + 7.0 y=y class="redirect-label">{text}</text>
                        </g>
                    }
                })}
            </For>
        </g>
    }
}

/// "MyTopic-0 → Broker 2", or "3 partitions → Broker 2".
fn redirect_label(r: &crate::sim::Redirect) -> String {
    match r.tps.as_slice() {
        [one] => format!("{one} → {}", r.to),
        many => format!("{} partitions → {}", many.len(), r.to),
    }
}

/// How long the picture takes to zoom to a new size (ms of wall time).
const RESIZE_MS: f64 = 450.0;

/// The viewBox's size: the layout's, eased to a new one over `RESIZE_MS`.
/// When the first consumer group joins, the canvas widens by a quarter;
/// the picture then zooms out smoothly instead of jumping. A change of
/// shape (portrait and back) or reduced motion takes effect at once.
fn eased_size(layout: Memo<Layout>) -> RwSignal<(f64, f64)> {
    fn frame(
        size: RwSignal<(f64, f64)>,
        run: StoredValue<u64>,
        this: u64,
        from: (f64, f64),
        to: (f64, f64),
        start: f64,
    ) {
        if run.try_get_value() != Some(this) {
            return; // disposed, or a newer change took over
        }
        let t = (crate::sim::now_ms().unwrap_or(start + RESIZE_MS) - start) / RESIZE_MS;
        size.set(ease_out(from, to, t));
        if t < 1.0 {
            request_animation_frame(move || frame(size, run, this, from, to, start));
        }
    }
    let target = move |l: &Layout| (l.width(), l.height());
    let size = RwSignal::new(layout.with_untracked(target));
    // The size being eased to (or shown), and a count of zooms begun.
    let goal = StoredValue::new(size.get_untracked());
    let run = StoredValue::new(0u64);
    let still = prefers_reduced_motion();
    Effect::new(move |before: Option<Shape>| {
        // Gone already (an effect's first run can come after its owner's
        // end): nothing to draw.
        let (Some((to, shape)), Some(from)) = (
            layout.try_with(|l| (target(l), l.shape)),
            size.try_get_untracked(),
        ) else {
            return before.unwrap_or_default();
        };
        if before == Some(shape) && goal.get_value() == to {
            // Another change with the same size: let a zoom run on.
            return shape;
        }
        goal.set_value(to);
        run.update_value(|n| *n += 1);
        if before != Some(shape) || still || from == to {
            if from != to {
                size.set(to);
            }
        } else {
            let start = crate::sim::now_ms().unwrap_or(0.0);
            frame(size, run, run.get_value(), from, to, start);
        }
        shape
    });
    size
}

/// Between `from` and `to` at `t` (0 to 1) of the way, quick at first and
/// settling gently (cubic ease-out).
fn ease_out(from: (f64, f64), to: (f64, f64), t: f64) -> (f64, f64) {
    let e = 1.0 - (1.0 - t.clamp(0.0, 1.0)).powi(3);
    (from.0 + (to.0 - from.0) * e, from.1 + (to.1 - from.1) * e)
}

/// Phones held upright (and windows as narrow): the picture stacks.
const PORTRAIT_QUERY: &str = "(max-width: 560px)";

/// Whether the media `query` matches, following the window's resizes
/// until the component goes away.
fn media_query(query: &'static str) -> RwSignal<bool> {
    let matches = move || {
        window()
            .match_media(query)
            .ok()
            .flatten()
            .is_some_and(|m| m.matches())
    };
    let now = RwSignal::new(matches());
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        let m = matches();
        if now.try_get_untracked() != Some(m) {
            now.try_set(m);
        }
    });
    on_cleanup(move || handle.remove());
    now
}

/// `prefers-reduced-motion: reduce`: messages then wait, still, beside
/// where they are going instead of travelling there.
fn prefers_reduced_motion() -> bool {
    window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// Where one message's chip travels, and how it looks.
#[derive(Debug, Clone, PartialEq)]
struct ChipPath {
    from: (f64, f64),
    to: (f64, f64),
    sent: f64,
    arrives: f64,
    class: &'static str,
    colour: &'static str,
    label: Option<String>,
}

impl ChipPath {
    fn new(layout: &Layout, m: &Message) -> Option<ChipPath> {
        let (tp, class, colour, label) = chip_style(m)?;
        let class = match (class, m.to) {
            ("chip-replicate", NodeId::Consumer(_)) => "chip-consume",
            (c, _) => c,
        };
        Some(ChipPath {
            from: layout.anchor(m.from, tp.as_ref())?,
            to: layout.anchor(m.to, tp.as_ref())?,
            sent: m.sent_at.0 as f64,
            arrives: m.arrives_at.0 as f64,
            class,
            colour,
            label,
        })
    }
}

type ChipStyle = (
    Option<kafkasim_engine::TopicPartition>,
    &'static str,
    &'static str,
    Option<String>,
);

fn chip_style(m: &Message) -> Option<ChipStyle> {
    Some(match &m.body {
        Body::Produce { tp, records, .. } => {
            let label = records
                .first()
                .map(|r| r.key.as_deref().unwrap_or("∅").to_string());
            (
                Some(tp.clone()),
                "chip-produce",
                partition_colour(tp.partition),
                label,
            )
        }
        Body::ProduceResponse(r) => {
            let (class, label) = match r.error {
                None => ("chip-ack", "ack".to_string()),
                Some(e) => ("chip-error", e.name().to_string()),
            };
            (
                Some(r.tp.clone()),
                class,
                partition_colour(r.tp.partition),
                Some(label),
            )
        }
        Body::FetchResponse { partitions } => {
            let with_data = partitions.iter().find(|p| !p.records.is_empty())?;
            (
                Some(with_data.tp.clone()),
                "chip-replicate",
                partition_colour(with_data.tp.partition),
                None,
            )
        }
        Body::Fetch { .. } => (None, "chip-fetch", "#999", None),
        Body::LeaderAndIsr { .. } | Body::AlterPartition { .. } => {
            (None, "chip-metadata", "#6a4c93", None)
        }
        Body::RegisterBroker { .. }
        | Body::CreateControllerNode { .. }
        | Body::Vote { .. }
        | Body::VoteResponse { .. } => (None, "chip-election", "#6a4c93", None),
        Body::Metadata { .. } | Body::MetadataResponse { .. } | Body::ConsumerFetch { .. } => {
            (None, "chip-fetch", "#999", None)
        }
        Body::OffsetCommit { .. } => (None, "chip-commit", "#6a4c93", Some("commit".into())),
        Body::JoinGroup { .. } => (None, "chip-group", "#6a4c93", Some("join".into())),
        Body::SyncGroup { .. } => (None, "chip-group", "#6a4c93", Some("sync".into())),
        Body::LeaveGroup { .. } => (None, "chip-group", "#6a4c93", Some("leave".into())),
        Body::FindCoordinator { .. }
        | Body::FindCoordinatorResponse { .. }
        | Body::JoinGroupResponse { .. }
        | Body::SyncGroupResponse { .. }
        | Body::Heartbeat { .. }
        | Body::HeartbeatResponse { .. }
        | Body::OffsetCommitResponse { .. }
        | Body::OffsetFetch { .. }
        | Body::OffsetFetchResponse { .. } => (None, "chip-group", "#6a4c93", None),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{ease_out, header_fits};

    #[test]
    fn a_resize_eases_from_the_old_size_to_the_new_and_stops_there() {
        let (from, to) = ((922.0, 340.0), (1200.0, 340.0));
        assert_eq!(ease_out(from, to, 0.0), from);
        assert_eq!(ease_out(from, to, 1.0), to);
        assert_eq!(ease_out(from, to, 7.0), to, "a late frame lands on the end");
        let steps: Vec<f64> = (0..=10)
            .map(|i| ease_out(from, to, f64::from(i) / 10.0).0)
            .collect();
        assert!(
            steps.windows(2).all(|w| w[0] <= w[1]),
            "never overshoots back"
        );
        // Ease-out: more than half the way in the first third of the time.
        assert!(ease_out(from, to, 1.0 / 3.0).0 > (from.0 + to.0) / 2.0);
    }

    #[test]
    fn a_broker_tag_goes_under_the_title_when_they_would_overlap() {
        assert!(header_fits("Broker 1", "", 100.0));
        assert!(header_fits("Broker 1", "controller", 230.0));
        assert!(!header_fits("Broker 1", "down · controller", 230.0));
        assert!(header_fits("Broker 1", "down · controller", 280.0));
        assert!(!header_fits("Broker 12", "controller", 190.0));
    }
}
