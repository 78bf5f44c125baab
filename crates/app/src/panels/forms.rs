//! Changing the cluster itself: add a broker, create a topic, cut and heal
//! the network, and the producer's settings. Kafka's config names sit
//! beside the friendly labels; the engine checks everything and its error
//! (with Kafka's code) is shown, leaving the state as it was.

use crate::state::Sim;
use kafkasim_engine::clients::producer::partitioner::PartitionerKind;
use kafkasim_engine::ProducerId;
use kafkasim_engine::{Acks, Command, NodeId, TopicConfig};
use leptos::prelude::*;

/// The "Cluster" menu in the top bar.
#[component]
pub fn ClusterMenu() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ui = expect_context::<crate::toolbar::Ui>();
    let add_broker = move |_| {
        if sim.dispatch(Command::AddBroker { id: None }) {
            sim.notice.set(Some(
                "A new broker registered. It holds no replicas until a topic is created or partitions are reassigned to it."
                    .into(),
            ));
        }
    };
    view! {
        <details class="menu">
            <summary class="btn">"Cluster"</summary>
            <div class="session-menu cluster-menu" role="group" aria-label="Cluster">
                <button class="btn" on:click=add_broker>"Add broker"</button>
                <label class="check"><input type="checkbox" prop:checked=ui.show_internal
                    on:change=move |ev| ui.show_internal.set(event_target_checked(&ev)) />
                    <span>"Show " <code>"__consumer_offsets"</code> " on the brokers"</span></label>
                <ClassroomTimings />
                <CreateTopicForm />
                <NetworkForm />
                <CompareForm />
            </div>
        </details>
    }
}

/// Classroom timings: Kafka's failure-detection timeouts shortened so a
/// failover happens while the class watches; Kafka's defaults beside them.
#[component]
fn ClassroomTimings() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let on = Memo::new(move |_| sim.classroom_timings());
    let toggle = move |ev: leptos::ev::Event| {
        let want = event_target_checked(&ev);
        sim.set_classroom_timings(want);
        sim.notice.set(Some(if want {
            "Classroom timings on: the session was replayed with shorter timeouts, so failures are noticed sooner.".into()
        } else {
            "Kafka's default timings again: the session was replayed with them.".to_string()
        }));
    };
    let rows = kafkasim_engine::run::timings::CLASSROOM
        .iter()
        .map(|t| {
            view! {
                <li><code>{t.key}</code> " " <strong>{format!("{} s", t.classroom / 1000)}</strong>
                    <span class="kafka-default">{format!(" (Kafka: {} s)", t.kafka_default / 1000)}</span></li>
            }
        })
        .collect_view();
    view! {
        <div class="menu-form" role="group" aria-label="Timings">
            <h3>"Timings"</h3>
            <label class="check"><input type="checkbox" prop:checked=move || on.get() on:change=toggle />
                <span>"Classroom timings"</span></label>
            <p class="panel-hint timings-hint">"Failovers in seconds, not half a minute:"</p>
            <ul class="timings" aria-label="Classroom timings and Kafka's defaults">{rows}</ul>
        </div>
    }
}

/// Side by side: the same session with one setting changed, for "what does
/// acks=1 lose?" asked of the same clicks.
#[component]
fn CompareForm() -> impl IntoView {
    use kafkasim_engine::run::compare::Variant;
    let sim = expect_context::<Sim>();
    const CHOICES: [(&str, Variant); 5] = [
        (
            "every producer with acks=all",
            Variant::Acks(kafkasim_engine::Acks::All),
        ),
        (
            "every producer with acks=1",
            Variant::Acks(kafkasim_engine::Acks::Leader),
        ),
        (
            "every producer with acks=0",
            Variant::Acks(kafkasim_engine::Acks::None),
        ),
        ("unclean leader election on", Variant::UncleanElection(true)),
        (
            "unclean leader election off",
            Variant::UncleanElection(false),
        ),
    ];
    // The first choice sets the scene up so a crash shows the difference on
    // its own: with replication as fast as a quiet network makes it, a
    // follower is never behind long enough for acks=1 to lose anything.
    const SLOW_FOLLOWERS: usize = CHOICES.len();
    let choice = RwSignal::new(SLOW_FOLLOWERS);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The menu would hide the twin it just opened.
        crate::toolbar::close_menus(None);
        let picked = choice.get_untracked();
        if picked == SLOW_FOLLOWERS {
            if slow_followers_with_acks_1(sim) {
                sim.compare(Variant::Acks(kafkasim_engine::Acks::All));
                sim.notice.set(Some(
                    "Comparing acks=1 (top) with acks=all (below). Every link between brokers now takes 1.5 s: produce a few records, then crash their leader at once. The acks=1 side loses what it was told was safe.".into(),
                ));
            }
            return;
        }
        sim.compare(CHOICES[picked].1);
        sim.notice.set(Some(format!(
            "Comparing side by side with {}: every command and moment is shared.",
            CHOICES[picked].1.label()
        )));
    };
    view! {
        <form class="menu-form" on:submit=start aria-label="Compare side by side">
            <h3>"Compare side by side"</h3>
            <label class="stacked">"The same session with "
                <select aria-label="Setting to compare" on:change=move |ev| {
                    choice.set(event_target_value(&ev).parse().unwrap_or(0));
                }>
                    <option value=SLOW_FOLLOWERS.to_string()>"acks=1 against acks=all, with slow followers"</option>
                    {CHOICES.iter().enumerate().map(|(i, (name, _))| view! { <option value=i.to_string()>{*name}</option> }).collect_view()}
                </select>
            </label>
            <div class="lesson-more">
                <button class="btn btn-small" type="submit">"Compare"</button>
                {move || sim.twin.get().is_some().then(|| view! {
                    <button class="btn btn-small" type="button" on:click=move |_| sim.stop_comparing()>"Stop comparing"</button>
                })}
            </div>
        </form>
    }
}

/// Sets every producer to acks=1 and every link between two brokers to
/// 1.5 s, as ordinary commands (so the twin replays them): the scene in
/// which acks=all keeps what acks=1 loses.
fn slow_followers_with_acks_1(sim: Sim) -> bool {
    let (producers, brokers) = sim.structure.with_untracked(|v| {
        (
            v.producers.iter().map(|p| p.id.0).collect::<Vec<_>>(),
            v.brokers.iter().map(|b| b.id).collect::<Vec<_>>(),
        )
    });
    for p in producers {
        let Some(mut config) = sim.producer_config(p) else {
            continue;
        };
        config.acks = Acks::Leader;
        config.enable_idempotence = None;
        if !sim.dispatch(Command::ConfigureProducer {
            producer: ProducerId(p),
            config,
        }) {
            return false;
        }
    }
    for (i, a) in brokers.iter().enumerate() {
        for b in &brokers[i + 1..] {
            let link = Command::SetLinkLatency {
                a: NodeId::Broker(*a),
                b: NodeId::Broker(*b),
                latency_ms: 1_500,
            };
            if !sim.dispatch(link) {
                return false;
            }
        }
    }
    true
}

#[component]
fn CreateTopicForm() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let name = RwSignal::new(String::from("Orders"));
    let partitions = RwSignal::new(String::from("3"));
    let rf = RwSignal::new(String::from("2"));
    let min_isr = RwSignal::new(String::from("1"));
    let unclean = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Anything that is not a whole number goes to the engine as 0,
        // which it refuses with Kafka's own error.
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().unwrap_or(0);
        let topic = name.get_untracked();
        if sim.dispatch(Command::CreateTopic {
            name: topic.clone(),
            partitions: Some(number(partitions)),
            replication_factor: Some(number(rf)),
            assignment: None,
            config: TopicConfig {
                min_insync_replicas: Some(number(min_isr)),
                unclean_leader_election_enable: Some(unclean.get_untracked()),
                ..TopicConfig::default()
            },
        }) {
            sim.notice.set(Some(format!(
                "Created topic {topic}. The Produce and Consumers panels now act on it."
            )));
            sim.picked_topic.set(Some(topic.clone()));
        }
    };
    let field = |label: &'static str, key: &'static str, value: RwSignal<String>| {
        view! {
            <label><span>{label} " " <small>{key}</small></span>
                <input prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <form class="menu-form" on:submit=create aria-label="Create a topic">
            <h3>"Create topic"</h3>
            {field("Name", "topic", name)}
            {field("Partitions", "--partitions", partitions)}
            {field("Replication factor", "--replication-factor", rf)}
            {field("Min in-sync replicas", "min.insync.replicas", min_isr)}
            <label class="check"><input type="checkbox" prop:checked=unclean
                on:change=move |ev| unclean.set(event_target_checked(&ev)) />
                " Unclean election " <small>"unclean.leader.election.enable"</small></label>
            <button type="submit" class="btn btn-primary">"Create topic"</button>
        </form>
    }
}

/// Every node a network cut can separate, as the view lists them.
fn nodes(sim: Sim) -> Vec<NodeId> {
    sim.structure
        .with(kafkasim_engine::view::ClusterView::nodes)
}

#[component]
fn NetworkForm() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let a = RwSignal::new(0usize);
    let b = RwSignal::new(1usize);
    let cut = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let all = nodes(sim);
        if let (Some(x), Some(y)) = (all.get(a.get_untracked()), all.get(b.get_untracked())) {
            if sim.dispatch(Command::PartitionNetwork { a: *x, b: *y }) {
                sim.notice
                    .set(Some(format!("Cut the network between {x} and {y}.")));
            }
        }
    };
    let heal = move |_| {
        if sim.dispatch(Command::HealNetwork { a: None, b: None }) {
            sim.notice.set(Some("Healed every network cut.".into()));
        }
    };
    let options = move |selected: RwSignal<usize>| {
        nodes(sim)
            .into_iter()
            .enumerate()
            .map(|(i, n)| view! { <option value=i.to_string() selected=move || selected.get() == i>{n.to_string()}</option> })
            .collect_view()
    };
    let cuts = move || sim.structure.with(|v| v.network_cuts.len());
    view! {
        <form class="menu-form" on:submit=cut aria-label="Network partition">
            <h3>"Network partition"</h3>
            <label><span>"Between"</span>
                <select aria-label="First node" on:change=move |ev| a.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {move || options(a)}
                </select>
            </label>
            <label><span>"and"</span>
                <select aria-label="Second node" on:change=move |ev| b.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {move || options(b)}
                </select>
            </label>
            <div class="row">
                <button type="submit" class="btn btn-danger">"Cut network"</button>
                <button type="button" class="btn" disabled=move || cuts() == 0 on:click=heal>"Heal network"</button>
            </div>
        </form>
    }
}

/// The first producer's settings: `acks`, idempotence and partitioner.
#[component]
pub fn ProducerSettings() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let current = move || sim.structure.with(|v| v.producers.first().cloned());
    let apply = move |change: &dyn Fn(&mut kafkasim_engine::ProducerConfig)| {
        let Some(p) = current() else {
            return;
        };
        let mut config = sim.producer_config(p.id.0).unwrap_or_default();
        change(&mut config);
        sim.dispatch(Command::ConfigureProducer {
            producer: ProducerId(p.id.0),
            config,
        });
    };
    let on_acks = move |ev| {
        let acks = match event_target_value(&ev).as_str() {
            "0" => Acks::None,
            "1" => Acks::Leader,
            _ => Acks::All,
        };
        // An explicit enable.idempotence=true would make Kafka refuse acks
        // 0 or 1: leave it unset, and Kafka's rule (on only with acks=all)
        // decides, also when acks goes back to all.
        apply(&|c| {
            c.acks = acks;
            if acks != Acks::All && c.enable_idempotence == Some(true) {
                c.enable_idempotence = None;
            }
        });
    };
    let on_idem = move |ev| {
        let on = event_target_checked(&ev);
        apply(&|c| c.enable_idempotence = Some(on));
    };
    let on_partitioner = move |ev| {
        let kind = if event_target_value(&ev) == "round-robin" {
            PartitionerKind::RoundRobin
        } else {
            PartitionerKind::Default
        };
        apply(&|c| c.partitioner = kind.clone());
    };
    view! {
        <details class="settings">
            <summary>"Producer settings"</summary>
            <label><span>"Acknowledgement " <small>"acks"</small></span>
                <select aria-label="acks" prop:value=move || current().map_or("all", |p| p.acks.label()).to_string() on:change=on_acks>
                    <option value="0">"0 — don't wait"</option>
                    <option value="1">"1 — leader only"</option>
                    <option value="all">"all — every in-sync replica (default)"</option>
                </select>
            </label>
            <label class="check"><input type="checkbox" aria-label="Idempotence"
                prop:checked=move || current().is_some_and(|p| p.idempotent) on:change=on_idem />
                <span>"No duplicates on retry " <small>"enable.idempotence"</small></span></label>
            <label><span>"Partitioner " <small>"partitioner.class"</small></span>
                <select aria-label="Partitioner" on:change=on_partitioner
                    prop:value=move || if current().is_some_and(|p| p.partitioner == PartitionerKind::RoundRobin) { "round-robin" } else { "default" }>
                    <option value="default">"default — murmur2 of the key, sticky without"</option>
                    <option value="round-robin">"RoundRobinPartitioner"</option>
                </select>
            </label>
        </details>
    }
}
