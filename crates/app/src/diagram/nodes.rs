//! The cluster's nodes as SVG: controllers or ZooKeeper, producers, and brokers
//! with their replicas.

use crate::diagram::layout::{partition_colour, BrokerBox, NodeCircle};
use crate::state::Sim;
use kafkasim_engine::broker::BrokerStatus;
use kafkasim_engine::view::{BrokerView, ClusterView, ReplicaView};
use kafkasim_engine::NodeId;
use leptos::prelude::*;

/// The numbers on the diagram that change with every record, gathered in
/// one pass per view: the texts showing them read these (and redraw only
/// when they change, and while playing at most every `SETTLE_EVERY_MS`)
/// instead of each searching the view every frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Live {
    /// Per group: its lag and how many records it has not read yet.
    pub(super) lag: std::collections::BTreeMap<String, GroupLag>,
    /// Records processed, and how many of them again, per consumer.
    pub(super) processed: std::collections::BTreeMap<kafkasim_engine::ConsumerId, (usize, usize)>,
}

impl Live {
    pub(super) fn of(v: &ClusterView) -> Live {
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

pub(super) fn quorum_title(v: &ClusterView) -> String {
    match v.mode {
        kafkasim_engine::MetadataMode::Zookeeper => "ZooKeeper ensemble".into(),
        kafkasim_engine::MetadataMode::Kraft => "KRaft controller quorum".into(),
    }
}

/// Click or Enter on a node selects it for the action panel, unfolding the
/// side panel if it was folded away. (Space stays Play / Pause.)
pub(super) fn select_handlers(
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
pub(super) fn parts<T, V>(
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

pub(super) fn quorum_node(
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

pub(super) fn producer_node(sim: Sim, c: &NodeCircle) -> impl IntoView {
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

pub(super) fn broker_column(sim: Sim, bx: &BrokerBox, bv: &BrokerView) -> impl IntoView {
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
                    if large() && r.w >= crate::diagram::layout::NARROW && !header_fits_large(&format!("Broker {}", id.0), &tag, r.w) {
                        // Presenter mode's title fills the header: the tag
                        // goes to the foot of the column, under the replicas.
                        view! {
                            <text x=r.x + 14.0 y=r.y + 30.0 class="broker-title">{format!("Broker {}", id.0)}</text>
                            <text x=r.x + 14.0 y=r.y + r.h - 7.0 class="state-tag">{tag}</text>
                        }.into_any()
                    } else if !header_fits(&format!("Broker {}", id.0), &tag, r.w) || r.w < crate::diagram::layout::NARROW {
                        // Title and tag do not fit side by side: the tag goes
                        // below, left-aligned like its neighbours' titles; a
                        // narrow column says `B7` and one word, centred.
                        let narrow = r.w < crate::diagram::layout::NARROW;
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
pub(super) fn offsets_tooltip(
    sim: Sim,
    broker: u32,
) -> impl Fn(leptos::ev::PointerEvent) + 'static {
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
pub(super) fn set_tooltip(ev: &leptos::ev::PointerEvent, text: &str) {
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
pub(super) fn processed_tooltip(
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

/// The tag for a narrow column: one word.
pub(super) fn short_tag(up: bool, controller: bool, status: &str) -> &str {
    match (up, controller) {
        (true, true) => "ctrl",
        (true, false) if status == "starting" => "start",
        (true, false) => "",
        (false, _) => status,
    }
}

/// The broker's header tag: what is wrong first, then its controller role.
pub(super) fn broker_tag(up: bool, controller: bool, status: &str) -> String {
    match (up, controller) {
        (true, true) => "controller".into(),
        (true, false) if status == "starting" => status.into(),
        (true, false) => String::new(),
        (false, true) => format!("{status} · controller"),
        (false, false) => status.into(),
    }
}

pub(super) fn replica_pill(
    p: &crate::diagram::layout::PillBox,
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
pub(super) fn header_fits(title: &str, tag: &str, w: f64) -> bool {
    let width = |text: &str, px: f64| text.chars().count() as f64 * px * 0.6;
    tag.is_empty() || 14.0 + width(title, 18.0) + 12.0 + width(tag, 14.0) + 12.0 <= w
}

/// The same in presenter mode's type (web/style.css: 27 and 18 units).
pub(super) fn header_fits_large(title: &str, tag: &str, w: f64) -> bool {
    let width = |text: &str, px: f64| text.chars().count() as f64 * px * 0.6;
    tag.is_empty() || 14.0 + width(title, 27.0) + 12.0 + width(tag, 18.0) + 12.0 <= w
}

/// Whether presenter mode is on (its larger type changes a few placements).
pub(super) fn presenter_mode() -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let presenter = use_context::<crate::toolbar::Ui>().map(|ui| ui.presenter);
    move || presenter.is_some_and(|p| p.get())
}

/// Where a group's lag gauge sits in its header, and how thick it is.
pub(super) const GAUGE_Y: f64 = 68.0;
pub(super) const GAUGE_H: f64 = 3.5;

/// Rectangles shorter than this are tiles, drawn without text.
pub(super) const PILL_MIN_H: f64 = 20.0;
