//! Consumer groups on the right: each group's box, its members and their
//! partitions, lag and the add-member button.

use super::*;
use crate::diagram::layout::{partition_colour, ConsumerBox, GroupBox};
use crate::state::Sim;
use kafkasim_engine::clients::consumer::{ConsumerStatus, MemberState};
use kafkasim_engine::view::ConsumerView;
use kafkasim_engine::{Command, NodeId};
use leptos::prelude::*;

/// A consumer group's box: its name, state and coordinator, then one row per
/// consumer with the partitions it owns.
pub(super) fn group_box(
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
pub(super) fn add_member_button(
    sim: Sim,
    gv: &kafkasim_engine::view::GroupView,
    r: &crate::diagram::layout::Rect,
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
                partition_assignment_strategy: assignor.into(),
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

pub(super) fn consumer_row(
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
