//! Passing marks: election pulses at the winner, and the dashed arrow of a
//! client following a partition to its new leader.

use crate::diagram::layout::Layout;
use crate::state::Sim;
use leptos::prelude::*;

/// A ring that spreads once from where an election just happened: the new
/// active controller, or a partition's new leader. (Still, under reduced
/// motion: the badges and the event log say the same.)
#[component]
pub(super) fn Pulses(layout: Memo<Layout>) -> impl IntoView {
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
pub(super) fn redirect_arrows(sim: Sim, layout: Memo<Layout>) -> Memo<Vec<Arrow>> {
    Memo::new(move |_| {
        let now = sim.view.with(|v| v.time.0);
        let layout = layout.get();
        sim.redirects.with(|redirects| {
            redirects
                .iter()
                .filter(|r| r.at <= now && now < r.at + crate::state::REDIRECT_SHOWN_MS)
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
pub(super) fn Redirects(arrows: Memo<Vec<Arrow>>, labels: bool) -> impl IntoView {
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
pub(super) fn redirect_label(r: &crate::state::Redirect) -> String {
    match r.tps.as_slice() {
        [one] => format!("{one} → {}", r.to),
        many => format!("{} partitions → {}", many.len(), r.to),
    }
}
