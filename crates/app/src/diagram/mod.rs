//! The cluster picture, laid out like the seed document: metadata quorum on
//! top, producers on the left, one column per broker with its replicas,
//! consumer groups on the right, and every message in flight as a chip
//! moving along its path.

mod chips;
mod groups;
pub mod layout;
mod marks;
mod network_links;
mod nodes;
use chips::*;
use groups::*;
use marks::*;
use network_links::*;
use nodes::*;

use crate::diagram::layout::{Layout, Shape, Title};
use crate::state::Sim;
use kafkasim_engine::view::ConsumerView;
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
    let title = move |pick: fn(&crate::diagram::layout::Titles) -> &Title| {
        let t = layout.with(|l| pick(&l.titles).clone());
        (t.x, t.y, t.anchor)
    };
    let size = eased_size(layout);
    // Zoomed in (`]`, `[`, a pinch), the viewBox is the part shown.
    let shown = Memo::new(move |_| {
        crate::diagram::layout::zoomed(size.get(), ui.zoom.get(), ui.zoom_focus.get())
    });
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

/// How long the picture takes to zoom to a new size (ms of wall time).
const RESIZE_MS: f64 = 450.0;

/// The viewBox's size: the layout's, eased to a new one over `RESIZE_MS`.
/// When the first consumer group joins, the canvas widens by a quarter;
/// the picture then zooms out smoothly instead of jumping. A change of
/// shape (portrait and back) or reduced motion takes effect at once.
fn eased_size(layout: Memo<Layout>) -> RwSignal<(f64, f64)> {
    /// Eases `size` from `from` to `to` in the page's frame loop, until
    /// done or a newer change (or the diagram's end) takes over.
    fn zoom(size: RwSignal<(f64, f64)>, run: StoredValue<u64>, from: (f64, f64), to: (f64, f64)) {
        let this = run.get_value();
        let start = crate::state::now_ms().unwrap_or(0.0);
        crate::state::on_frame(move |now, _| {
            if run.try_get_value() != Some(this) {
                return false; // disposed, or a newer change took over
            }
            let t = (now - start) / RESIZE_MS;
            size.set(ease_out(from, to, t));
            t < 1.0
        });
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
            zoom(size, run, from, to);
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
