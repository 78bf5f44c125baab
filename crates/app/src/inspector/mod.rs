//! The inspectors under the diagram: the event log, the partition table
//! with each partition's log, the group table (`kafka-consumer-groups
//! --describe`), and the lost-records ledger. Tabs, so the diagram keeps
//! the screen.

use crate::panels::controls::format_time;
use crate::state::{Area, LogLine, Sim};
use kafkasim_engine::view::{ClusterView, PartitionView};
use kafkasim_engine::BrokerId;
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Events,
    Partitions,
    Groups,
    Lost,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Events, Tab::Partitions, Tab::Groups, Tab::Lost];

    fn label(self) -> &'static str {
        match self {
            Tab::Events => "Events",
            Tab::Partitions => "Partitions",
            Tab::Groups => "Groups",
            Tab::Lost => "Lost records",
        }
    }
}

/// Rows of the event log shown at once, newest first, to scroll back
/// through while paused.
const EVENT_ROWS: usize = 80;
/// Rows shown while playing: a little more than the panel shows. Busy play
/// logs more lines per frame than `EVENT_ROWS`, so every patch would lay
/// out and paint all of them again (the slowest frames of busy play); the
/// rest come back when paused.
const EVENT_ROWS_PLAYING: usize = 16;
/// Records of a partition's log listed, ending at the log end.
const LOG_ROWS: usize = 40;

#[component]
pub fn Inspector() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let tab = RwSignal::new(Tab::Events);
    let folded = expect_context::<crate::toolbar::Ui>().inspector_folded;
    let lost = move || {
        sim.view.with(|v| v.lost.len())
            + sim
                .twin
                .with(|t| t.as_ref().map_or(0, |t| t.sim.view.with(|v| v.lost.len())))
    };
    // Comparing, the tab counts each side.
    let lost_label = move || match sim.twin.get() {
        Some(twin) => {
            let (mine, theirs) = twin.labels(sim);
            format!(
                "{} ({mine}: {}, {theirs}: {})",
                Tab::Lost.label(),
                sim.view.with(|v| v.lost.len()),
                twin.sim.view.with(|v| v.lost.len())
            )
        }
        None => format!("{} ({})", Tab::Lost.label(), lost()),
    };
    let tabs = Tab::ALL.map(|t| {
        let label = move || match t {
            Tab::Lost => lost_label(),
            _ => t.label().to_string(),
        };
        view! {
            <button role="tab" class="tab" aria-selected=move || (tab.get() == t).to_string()
                class:alarm=move || { t == Tab::Lost && lost() > 0 }
                on:click=move |_| {
                    tab.set(t);
                    folded.set(false);
                }>
                {label}
            </button>
        }
    });
    view! {
        <section class="panel inspector" class:is-folded=move || folded.get() aria-label="Inspector">
            <div class="inspector-bar">
                <div role="tablist" aria-label="Inspectors" class="tabs">{tabs}</div>
                <button class="btn btn-small fold" aria-expanded=move || (!folded.get()).to_string()
                    aria-keyshortcuts="i" on:click=move |_| folded.update(|f| *f = !*f)>
                    {move || if folded.get() { "Show inspector ▴" } else { "Hide inspector ▾" }}
                </button>
            </div>
            <div role="tabpanel" aria-label=move || tab.get().label() class="tab-body" hidden=move || folded.get()>
                {move || match tab.get() {
                    Tab::Events => view! { <EventLog /> }.into_any(),
                    Tab::Partitions => view! { <PartitionTable /> }.into_any(),
                    Tab::Groups => view! { <GroupTable /> }.into_any(),
                    Tab::Lost => match sim.twin.get() {
                        None => view! { <LostTable side=sim title=None /> }.into_any(),
                        Some(twin) => {
                            let (mine, theirs) = twin.labels(sim);
                            view! {
                                <LostTable side=sim title=Some(mine) />
                                <LostTable side=twin.sim title=Some(theirs) />
                            }.into_any()
                        }
                    },
                }}
            </div>
        </section>
    }
}

/// What the event log shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    /// Every word must appear in the line, in any case.
    pub words: String,
    pub problems_only: bool,
    pub area: Option<Area>,
    /// A node's name (`Broker 2`): the line must mention it, not `Broker 21`.
    pub node: String,
}

impl LogFilter {
    pub fn keeps(&self, line: &LogLine) -> bool {
        if self.problems_only && !line.alarm {
            return false;
        }
        if self.area.is_some_and(|a| a != line.area) {
            return false;
        }
        if !self.node.is_empty() && !mentions(&line.text, &self.node) {
            return false;
        }
        let text = line.text.to_lowercase();
        self.words
            .split_whitespace()
            .all(|w| text.contains(&w.to_lowercase()))
    }
}

/// Whether `text` names `node` itself: `Broker 2` but not `Broker 21`.
pub fn mentions(text: &str, node: &str) -> bool {
    text.match_indices(node).any(|(at, _)| {
        !text[at + node.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

#[component]
fn EventLog() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let filter = RwSignal::new(LogFilter::default());
    let list = NodeRef::<leptos::html::Ol>::new();
    // New lines arrive between the beats of the clock while playing: a
    // busy scene logs lines every few frames, and each patch costs the
    // frame a repaint. A change of filter shows at once.
    let arrived = sim.settled_between(Memo::new(move |_| {
        sim.log.with(|log| (log.len(), log.last().map(|l| l.seq)))
    }));
    let rows = Memo::new(move |_| {
        arrived.track();
        let f = filter.get();
        let rows = if sim.playing.get() {
            EVENT_ROWS_PLAYING
        } else {
            EVENT_ROWS
        };
        sim.log.with_untracked(|log| {
            log.iter()
                .rev()
                .filter(|l| f.keeps(l))
                .take(rows)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    render_log(list, move || rows.get());
    let nodes = Memo::new(move |_| {
        sim.structure.with(|v| {
            let mut names: Vec<String> = v.brokers.iter().map(|b| b.id.to_string()).collect();
            names.extend(v.producers.iter().map(|p| p.id.to_string()));
            names.extend(v.consumers.iter().map(|c| c.id.to_string()));
            names
        })
    });
    view! {
        <div class="filters">
            <input type="search" placeholder="Filter: e.g. MyTopic-0, lost" aria-label="Filter events"
                prop:value=move || filter.with(|f| f.words.clone())
                on:input=move |ev| filter.update(|f| f.words = event_target_value(&ev)) />
            <select aria-label="Kind of event" on:change=move |ev| {
                let i = event_target_value(&ev).parse::<usize>().ok();
                filter.update(|f| f.area = i.and_then(|i| Area::ALL.get(i).copied()));
            }>
                <option value="all">"All kinds"</option>
                {Area::ALL.iter().enumerate().map(|(i, a)| view! { <option value=i.to_string()>{a.label()}</option> }).collect_view()}
            </select>
            <select aria-label="Node" prop:value=move || filter.with(|f| f.node.clone()) on:change=move |ev| {
                let node = event_target_value(&ev);
                filter.update(|f| f.node = node);
            }>
                <option value="">"All nodes"</option>
                {move || nodes.get().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
            </select>
            <label class="check"><input type="checkbox" prop:checked=move || filter.with(|f| f.problems_only)
                on:change=move |ev| filter.update(|f| f.problems_only = event_target_checked(&ev)) />" Only problems"</label>
        </div>
        <ol class="event-lines" aria-label="Events, newest first" node_ref=list></ol>
    }
}

/// Keeps the event log's rows equal to `rows`, newest first, touching the
/// page as little as it can: new lines go in at the top as one piece of
/// HTML and the oldest rows leave from the bottom. A busy virtual
/// millisecond can log a hundred lines; built as components, rows cost
/// most of a busy frame's script time.
fn render_log(list: NodeRef<leptos::html::Ol>, rows: impl Fn() -> Vec<LogLine> + 'static) {
    // The sequence numbers of the rows on the page, newest first.
    let shown = StoredValue::new(Vec::<u64>::new());
    Effect::new(move |_| {
        let rows = rows();
        let Some(list) = list.get() else {
            return;
        };
        let want: Vec<u64> = rows.iter().map(|l| l.seq).collect();
        let (new, keep) = shown.with_value(|shown| log_patch(shown, &want));
        let html: String = rows[..new].iter().map(row_html).collect();
        if keep == 0 {
            list.set_inner_html(&html);
        } else {
            for _ in keep..shown.with_value(Vec::len) {
                if let Some(last) = list.last_element_child() {
                    last.remove();
                }
            }
            if new > 0 {
                let _ = list.insert_adjacent_html("afterbegin", &html);
            }
        }
        shown.set_value(want);
    });
}

/// How rows `shown` (sequence numbers, newest first) become `want`: the
/// number of new rows to add at the top, and how many shown rows stay
/// below them (the rest leave from the bottom). When the two do not line
/// up (a filter changed, the session was rewound) every row is new.
pub fn log_patch(shown: &[u64], want: &[u64]) -> (usize, usize) {
    let rebuild = (want.len(), 0);
    let Some(first) = shown.first() else {
        return rebuild;
    };
    let Some(new) = want.iter().position(|s| s == first) else {
        return rebuild;
    };
    let keep = want.len() - new;
    if shown.len() >= keep && want[new..] == shown[..keep] {
        (new, keep)
    } else {
        rebuild
    }
}

/// One row of the event log, as HTML.
fn row_html(l: &LogLine) -> String {
    format!(
        "<li{}><span class=\"event-time\">{}</span> {}</li>",
        if l.alarm { " class=\"alarm\"" } else { "" },
        format_time(l.time.0),
        escape_html(&l.text)
    )
}

/// `text` safe to place in HTML: keys and values are whatever a user typed.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn brokers(list: &[BrokerId]) -> String {
    let ids: Vec<String> = list.iter().map(|b| b.0.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// Each replica's log end offset, as `1:5 2:3`, from the brokers' views.
fn replica_leos(v: &ClusterView, topic: &str, p: &PartitionView) -> String {
    p.replicas
        .iter()
        .map(|b| {
            let leo = v
                .brokers
                .iter()
                .find(|x| x.id == *b)
                .and_then(|x| {
                    x.replicas
                        .iter()
                        .find(|r| &*r.tp.topic == topic && r.tp.partition == p.partition)
                })
                .map_or("–".to_string(), |r| r.log_end_offset.to_string());
            format!("{}:{leo}", b.0)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
fn PartitionTable() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let internal = RwSignal::new(false);
    let topic = RwSignal::new(sim.scene_topic().unwrap_or_default());
    let chosen = RwSignal::new(Some(0u32));
    let topics = move || {
        sim.structure.with(|v| {
            v.topics
                .iter()
                .filter(|t| internal.get() || !t.internal)
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let rows = move || {
        let name = topic.get();
        sim.view.with(|v| {
            let Some(t) = v.topics.iter().find(|t| t.name == name) else {
                return view! { <p class="panel-hint">"Choose a topic."</p> }.into_any();
            };
            let body = t
                .partitions
                .iter()
                .map(|p| {
                    let n = p.partition;
                    let leader = p.leader.map_or("none (offline)".to_string(), |b| b.0.to_string());
                    let moved = p.leader.is_some() && p.leader != p.preferred_leader;
                    let short = p.isr.len() < p.replicas.len();
                    view! {
                        <tr class:selected=move || chosen.get() == Some(n)>
                            <th scope="row">
                                <button class="link" on:click=move |_| chosen.set(Some(n))
                                    aria-label=format!("Show the log of {name}-{n}")>{format!("{name}-{n}")}</button>
                            </th>
                            <td class:warn=p.leader.is_none()>{leader}</td>
                            <td class:warn=moved>{p.preferred_leader.map_or("–".into(), |b| b.0.to_string())}</td>
                            <td>{brokers(&p.replicas)}</td>
                            <td class:warn=short>{brokers(&p.isr)}</td>
                            <td>{p.leader_epoch}</td>
                            <td>{p.high_watermark}</td>
                            <td>{replica_leos(v, &name, p)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <p class="panel-hint">{format!(
                    "min.insync.replicas={} · unclean.leader.election.enable={}",
                    t.min_insync_replicas, t.unclean_leader_election_enable
                )}</p>
                <table class="grid" aria-label=format!("Partitions of {name}")>
                    <thead><tr>
                        <th scope="col">"Partition"</th><th scope="col">"Leader"</th>
                        <th scope="col">"Preferred"</th><th scope="col">"Replicas"</th>
                        <th scope="col">"ISR"</th><th scope="col">"Epoch"</th>
                        <th scope="col" title="High watermark: the end of what consumers may read">"HW"</th>
                        <th scope="col" title="Log end offset of each replica">"LEO per replica"</th>
                    </tr></thead>
                    <tbody>{body}</tbody>
                </table>
            }
            .into_any()
        })
    };
    view! {
        <div class="filters">
            <label>"Topic "
                <select aria-label="Topic" prop:value=topic on:change=move |ev| { topic.set(event_target_value(&ev)); chosen.set(Some(0)); }>
                    {move || topics().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="check"><input type="checkbox" prop:checked=internal
                on:change=move |ev| internal.set(event_target_checked(&ev)) />" Show __consumer_offsets"</label>
        </div>
        {rows}
        {move || chosen.get().map(|p| view! { <PartitionLog topic=topic.get() partition=p /> })}
    }
}

/// The leader's log of one partition, newest last: committed records (below
/// the high watermark) and uncommitted ones, and which replicas hold each.
#[component]
fn PartitionLog(topic: String, partition: u32) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let name = format!("{topic}-{partition}");
    let label = format!("Log of {name}");
    let rows = move || {
        sim.view.track();
        sim.log_rows(&topic, partition, LOG_ROWS)
            .into_iter()
            .map(|r| {
                let held = r
                    .held_by
                    .iter()
                    .map(|b| b.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                view! {
                    <tr class:uncommitted=!r.committed>
                        <td>{r.offset}</td>
                        <td>{r.key.unwrap_or_else(|| "null".into())}</td>
                        <td>{r.value}</td>
                        <td>{r.leader_epoch}</td>
                        <td>{format!("Producer {}", r.producer)}</td>
                        <td>{if r.committed { "committed" } else { "uncommitted" }}</td>
                        <td>{format!("[{held}]")}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <h3 class="log-title">{format!("{label} (leader's copy, last {LOG_ROWS})")}</h3>
        <table class="grid log" aria-label=label>
            <thead><tr>
                <th scope="col">"Offset"</th><th scope="col">"Key"</th><th scope="col">"Value"</th>
                <th scope="col">"Epoch"</th><th scope="col">"From"</th><th scope="col">"State"</th>
                <th scope="col">"On brokers"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn GroupTable() -> impl IntoView {
    let sim = expect_context::<Sim>();
    move || {
        sim.view.with(|v| {
            if v.groups.is_empty() {
                return view! { <p class="panel-hint">"No consumer groups yet. Add a consumer to start one."</p> }.into_any();
            }
            v.groups
                .iter()
                .map(|g| {
                    let members = g
                        .members
                        .iter()
                        .map(|m| {
                            let parts: Vec<String> = m.assignment.iter().map(|tp| tp.to_string()).collect();
                            view! {
                                <tr>
                                    <td>{format!("Consumer {}", m.consumer.0)}</td>
                                    <td class="mono">{m.member_id.clone()}</td>
                                    <td>{m.instance_id.clone().unwrap_or_else(|| "–".into())}</td>
                                    <td>{if parts.is_empty() { "(idle)".to_string() } else { parts.join(", ") }}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    let partitions = g
                        .partitions
                        .iter()
                        .map(|p| {
                            let dup = p.duplicated_offsets.len();
                            let skip = p.skipped_offsets.len();
                            view! {
                                <tr>
                                    <td>{p.tp.to_string()}</td>
                                    <td>{p.committed.map_or("–".into(), |c| c.to_string())}</td>
                                    <td>{p.high_watermark}</td>
                                    <td>{p.lag.map_or("–".into(), |l| l.to_string())}</td>
                                    <td>{p.owner.map_or("–".into(), |c| format!("Consumer {}", c.0))}</td>
                                    <td class:warn={dup > 0}>{dup}</td>
                                    <td class:warn={skip > 0}>{skip}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    let title = format!(
                        "Group {} · {} · generation {} · {} · coordinator {}",
                        g.group,
                        g.state,
                        g.generation,
                        g.protocol.name(),
                        g.coordinator.map_or("none".into(), |b| format!("Broker {}", b.0))
                    );
                    view! {
                        <h3 class="log-title">{title}</h3>
                        <table class="grid" aria-label=format!("Members of group {}", g.group)>
                            <thead><tr><th scope="col">"Consumer"</th><th scope="col">"member.id"</th>
                                <th scope="col">"group.instance.id"</th><th scope="col">"Assignment"</th></tr></thead>
                            <tbody>{members}</tbody>
                        </table>
                        <table class="grid" aria-label=format!("Offsets of group {}", g.group)>
                            <thead><tr><th scope="col">"Partition"</th><th scope="col">"Committed"</th>
                                <th scope="col">"HW"</th><th scope="col">"Lag"</th><th scope="col">"Owner"</th>
                                <th scope="col" title="Offsets the group processed more than once">"Duplicates"</th>
                                <th scope="col" title="Offsets below the committed offset never processed">"Skipped"</th></tr></thead>
                            <tbody>{partitions}</tbody>
                        </table>
                    }
                    .into_any()
                })
                .collect_view()
                .into_any()
        })
    }
}

#[component]
fn LostTable(side: Sim, title: Option<String>) -> impl IntoView {
    let sim = side;
    let table_name = title.as_ref().map_or("Lost records".to_string(), |t| {
        format!("Lost records with {t}")
    });
    move || {
        let title = title.clone();
        let table_name = table_name.clone();
        sim.view.with(|v| {
            let summary = format!(
                "{}{} of {} acknowledged records lost.",
                title.as_ref().map_or(String::new(), |t| format!("{t}: ")),
                v.lost.len(),
                v.acknowledged_total
            );
            if v.lost.is_empty() {
                return view! { <p class="panel-hint">{summary} " A record the producer saw acknowledged and no replica still holds would be listed here."</p> }.into_any();
            }
            let rows = v
                .lost
                .iter()
                .map(|l| {
                    let r = &l.record;
                    view! {
                        <tr>
                            <td>{r.offset.map_or(format!("{} (never written)", r.tp), |o| format!("{}@{o}", r.tp))}</td>
                            <td>{r.key.as_deref().unwrap_or("null").to_string()}</td>
                            <td>{r.value.to_string()}</td>
                            <td>{format!("Producer {}, acks={}", r.producer.0, r.acks.label())}</td>
                            <td>{format_time(r.acked_at.0)}</td>
                            <td>{format_time(l.lost_at.0)}</td>
                            <td>{l.reason.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <p class="panel-hint alarm">{summary}</p>
                <table class="grid" aria-label=table_name>
                    <thead><tr><th scope="col">"Record"</th><th scope="col">"Key"</th><th scope="col">"Value"</th>
                        <th scope="col">"Sent by"</th><th scope="col">"Acknowledged"</th><th scope="col">"Lost"</th>
                        <th scope="col">"Why"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkasim_engine::SimTime;

    fn line(text: &str, area: Area, alarm: bool) -> LogLine {
        LogLine::new(SimTime(0), text.into(), alarm, area)
    }

    #[test]
    fn new_log_lines_go_on_top_and_the_oldest_leave_at_the_bottom() {
        // Nothing shown yet: every row is new.
        assert_eq!(log_patch(&[], &[3, 2, 1]), (3, 0));
        // Two new lines, room for four rows: two old rows stay.
        assert_eq!(log_patch(&[3, 2, 1], &[5, 4, 3, 2]), (2, 2));
        // Nothing new.
        assert_eq!(log_patch(&[3, 2, 1], &[3, 2, 1]), (0, 3));
        // More new lines than rows: all are replaced.
        assert_eq!(log_patch(&[3, 2, 1], &[9, 8, 7]), (3, 0));
        // A filter hid a line in the middle, or the log was rewound and
        // rewritten: the rows do not line up, so all are drawn afresh.
        assert_eq!(log_patch(&[3, 2, 1], &[3, 1]), (2, 0));
        assert_eq!(log_patch(&[9, 8], &[4, 3]), (2, 0));
        // Everything filtered out.
        assert_eq!(log_patch(&[3, 2, 1], &[]), (0, 0));
    }

    #[test]
    fn log_rows_escape_what_users_typed() {
        let l = LogLine::new(
            SimTime(1500),
            "Producer 1 sent key \"<b>&\"".into(),
            true,
            Area::Producers,
        );
        assert_eq!(
            row_html(&l),
            "<li class=\"alarm\"><span class=\"event-time\">1.500 s</span> Producer 1 sent key &quot;&lt;b&gt;&amp;&quot;</li>"
        );
    }

    #[test]
    fn a_node_is_mentioned_by_its_whole_name() {
        assert!(mentions("Broker 2 crashed.", "Broker 2"));
        assert!(mentions("ISR of t-0 shrank to [1] (Broker 2)", "Broker 2"));
        assert!(!mentions("Broker 21 crashed.", "Broker 2"));
        assert!(mentions("Broker 21 and Broker 2", "Broker 2"));
    }

    #[test]
    fn the_filter_keeps_lines_matching_all_its_parts() {
        let crash = line("Broker 2 crashed.", Area::Cluster, true);
        let produced = line("Producer 1 sent k to MyTopic-0.", Area::Producers, false);
        let all = LogFilter::default();
        assert!(all.keeps(&crash) && all.keeps(&produced));
        let problems = LogFilter {
            problems_only: true,
            ..LogFilter::default()
        };
        assert!(problems.keeps(&crash) && !problems.keeps(&produced));
        let producers = LogFilter {
            area: Some(Area::Producers),
            ..LogFilter::default()
        };
        assert!(!producers.keeps(&crash) && producers.keeps(&produced));
        let broker = LogFilter {
            node: "Broker 2".into(),
            ..LogFilter::default()
        };
        assert!(broker.keeps(&crash) && !broker.keeps(&produced));
        let words = LogFilter {
            words: "mytopic-0 SENT".into(),
            ..LogFilter::default()
        };
        assert!(!words.keeps(&crash) && words.keeps(&produced));
    }
}
