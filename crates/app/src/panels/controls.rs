//! The instructor's controls: the time bar (play, step, speed, reset), the
//! action panel for the selected node, the produce form and the error banner.

use crate::state::Sim;
use kafkasim_engine::broker::BrokerStatus;
use kafkasim_engine::clients::consumer::ConsumerStatus;
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::ProducerId;
use kafkasim_engine::{
    AssignorList, AutoOffsetReset, Command, ConsumerConfig, ErrorCode, KafkaError, NodeId,
};
use kafkasim_engine::{BrokerId, ConsumerId, ControllerId, ZkNodeId};
use leptos::prelude::*;

pub const SPEEDS: [f64; 7] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0];

#[component]
pub fn TimeBar() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let toggle = move |_| sim.playing.update(|p| *p = !*p);
    let on_speed = move |ev| {
        let v: f64 = event_target_value(&ev).parse().unwrap_or(1.0);
        sim.speed.set(v);
    };
    let on_scrub = move |ev| {
        if let Ok(t) = event_target_value(&ev).parse::<u64>() {
            sim.playing.set(false);
            sim.seek(t);
        }
    };
    // Busy play moves the clock with nearly every frame: it shows the time
    // a few times a second then, like the lag on the diagram.
    let time = sim.settled(Memo::new(move |_| sim.view.with(|v| v.time.0)));
    let horizon = sim.settled(Memo::new(move |_| sim.horizon.get()));
    let busy = sim.settled(Memo::new(move |_| sim.busy()));
    view! {
        <div class="timebar" role="toolbar" aria-label="Time">
            <button class="btn btn-primary play" on:click=toggle aria-keyshortcuts="Space">
                {move || if sim.playing.get() { "Pause" } else { "Play" }}
            </button>
            <button class="btn" on:click=move |_| sim.step() aria-keyshortcuts=". ArrowRight PageDown"
                title="On to the next event the diagram shows, passing over heartbeats and empty fetches">"Step"</button>
            <button class="btn" on:click=move |_| sim.skip() aria-keyshortcuts="n"
                aria-label="Skip ahead to what matters"
                title="Skip to the next crash, restart, election, ISR change, controller change, rebalance, loss, failed send, truncation or network change">"Skip »"</button>
            <button class="btn" on:click=move |_| sim.reset()>"Reset"</button>
            <label class="speed">
                "Speed "
                <select on:change=on_speed aria-label="Speed" aria-keyshortcuts="+ -"
                    prop:value=move || sim.speed.get().to_string()>
                    {SPEEDS
                        .iter()
                        .map(|s| view! { <option value=s.to_string()>{format!("{s}×")}</option> })
                        .collect_view()}
                </select>
            </label>
            <input class="scrubber" type="range" min="0" step="1" aria-label="Timeline"
                prop:max=move || horizon.get().max(1).to_string()
                prop:value=move || time.get().to_string()
                aria-valuetext=move || format_time(time.get())
                on:input=on_scrub />
            <span class="clock-box">
            <span class="clock" aria-label="Virtual time">
                {move || format_time(time.get())}
            </span>
            <span class="rate" aria-live="off" title="1× is not real time: while records travel the clock runs slowly enough to follow one hop (5 ms takes about ½ s); while the cluster only waits on its timers it runs 4× faster than real time.">
                {move || rate_caption(sim.speed.get(), busy.get())}
            </span>
            </span>
        </div>
    }
}

/// The next speed up or down the ladder from `speed`.
pub fn next_speed(speed: f64, up: bool) -> f64 {
    crate::diagram::layout::next_on_ladder(&SPEEDS, speed, up)
}

/// What one second on the wall shows of the cluster at `speed`: the speed
/// label's meaning, which changes when records are in flight.
pub fn rate_caption(speed: f64, busy: bool) -> String {
    let (ms, s) = crate::state::virtual_per_real_second(speed, busy);
    if s >= 1.0 {
        format!("1 s shows {}", format_seconds(s))
    } else {
        format!("slow motion: 1 s shows {ms:.0} ms")
    }
}

fn format_seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The calculation, step by step: murmur2, toPositive, the modulo.
pub fn key_math_text(key: &str, partitions: u32, partition: u32, topic: &str) -> String {
    use kafkasim_engine::clients::producer::partitioner::{murmur2, to_positive};
    let hash = murmur2(key.as_bytes());
    format!(
        "murmur2(\"{key}\") = {hash} → toPositive = {} → mod {partitions} = {partition} → {topic}-{partition}",
        to_positive(hash)
    )
}

/// The Partition field: blank for the partitioner, else a partition number.
pub fn parse_partition(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!(
            "Invalid partition: {n}. Partition number should always be non-negative or null (leave the field blank to let the partitioner choose). Nothing was sent."
        )),
        Ok(n) => u32::try_from(n).map(Some).map_err(|_| {
            format!("Invalid partition: {n} is larger than any topic's partition count. Nothing was sent.")
        }),
        Err(_) => Err(format!(
            "Invalid partition: '{text}' is not a number. Give a partition number (0, 1, 2…) or leave the field blank to let the partitioner choose. Nothing was sent."
        )),
    }
}

/// `12.345 s` of virtual time.
pub fn format_time(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

#[component]
pub fn ErrorBanner() -> impl IntoView {
    let sim = expect_context::<Sim>();
    // A notice is a confirmation: it leaves by itself after a few seconds.
    Effect::new(move |_| {
        if let Some(n) = sim.notice.get() {
            set_timeout(
                move || {
                    if sim.notice.get_untracked().as_deref() == Some(n.as_str()) {
                        sim.notice.set(None);
                    }
                },
                std::time::Duration::from_secs(5),
            );
        }
    });
    let notice = move || {
        sim.notice.get().map(|n| {
            view! {
                <div class="notice-banner" role="status">
                    <span>{n}</span>
                    <button class="btn btn-small" on:click=move |_| sim.notice.set(None) aria-label="Dismiss notice">"×"</button>
                </div>
            }
        })
    };
    let error = move || {
        sim.error.get().map(|e| {
            view! {
                <div class="error-banner" role="alert">
                    <strong class="error-code">{e.code.name()}</strong>
                    " "
                    <span>{e.message.clone()}</span>
                    <button class="btn btn-small" on:click=move |_| sim.error.set(None) aria-label="Dismiss error">"×"</button>
                </div>
            }
        })
    };
    view! { {notice} {error} }
}

#[component]
pub fn ProduceForm() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let key = RwSignal::new(String::from("user-42"));
    let value = RwSignal::new(String::from("hello"));
    let partition = RwSignal::new(String::new());
    let topic = move || sim.scene_topic();
    // Kafka's default partitioner for a keyed record, worked out on screen.
    let target = move || key.with(|k| key_target(sim, k).map(|(n, p)| (k.clone(), n, p)));
    let key_math = move || match target() {
        Some((k, n, p)) => key_math_text(&k, n, p, &topic().unwrap_or_default()),
        None => {
            "No key: the sticky partitioner picks a partition and keeps to it for a batch.".into()
        }
    };
    // While the key is being looked at (focused, or its line hovered), the
    // diagram lights its partition, following the key as it is typed.
    let looking = RwSignal::new(false);
    let light = move |on: bool| looking.set(on);
    Effect::new(move |_| {
        let lit = looking
            .get()
            .then(|| target().map(|(_, _, p)| format!("{}-{p}", topic().unwrap_or_default())))
            .flatten();
        if sim.key_partition.get_untracked() != lit {
            sim.key_partition.set(lit);
        }
    });
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        produce(
            sim,
            &key.get_untracked(),
            value.get_untracked(),
            &partition.get_untracked(),
        );
    };
    view! {
        <form class="panel produce-form" on:submit=send aria-label="Produce a record">
            <h2 class="panel-title">"Produce"</h2>
            <ProducerPick />
            <TopicPick />
            <label>"Key " <input prop:value=key on:input=move |ev| key.set(event_target_value(&ev))
                on:focus=move |_| light(true) on:blur=move |_| light(false) /></label>
            <p class="key-math" aria-label="Which partition this key goes to" aria-live="polite"
                on:mouseenter=move |_| light(true) on:mouseleave=move |_| light(false)>{key_math}</p>
            <label>"Value " <input prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) /></label>
            <label>"Partition " <input prop:value=partition placeholder="partitioner picks" inputmode="numeric"
                on:input=move |ev| partition.set(event_target_value(&ev)) /></label>
            <button type="submit" class="btn btn-primary">"Produce"</button>
            <AutoProduce />
            <crate::panels::forms::ProducerSettings />
        </form>
    }
}

/// Where Kafka's default partitioner sends a keyed record in the scene's
/// topic: `(partitions, partition)`; none for no key or no topic.
fn key_target(sim: Sim, key: &str) -> Option<(u32, u32)> {
    if key.is_empty() {
        return None;
    }
    let topic = sim.scene_topic()?;
    let n = sim.structure.with(|v| {
        v.topics
            .iter()
            .find(|x| x.name == topic)
            .map(|x| x.partitions.len() as u32)
    })?;
    (n > 0).then(|| {
        let p =
            kafkasim_engine::clients::producer::partitioner::partition_for_key(key.as_bytes(), n);
        (n, p)
    })
}

/// Sends one record from the picked producer to the scene's topic.
fn produce(sim: Sim, key: &str, value: String, partition: &str) {
    let (Some(topic), Some(producer)) = (sim.scene_topic(), sim.producer()) else {
        return;
    };
    // Blank: let the partitioner choose. A number names a partition (the
    // engine refuses one the topic lacks, with Kafka's error); anything
    // else is refused here, as Kafka's ProducerRecord refuses it.
    let partition = match parse_partition(partition) {
        Ok(p) => p,
        Err(message) => {
            sim.error
                .set(Some(KafkaError::new(ErrorCode::InvalidRequest, message)));
            return;
        }
    };
    sim.dispatch(Command::Produce {
        producer: ProducerId(producer),
        topic: topic.into(),
        key: (!key.is_empty()).then(|| key.into()),
        value: value.into(),
        partition,
    });
}

/// Auto-produce: a record every so often from the picked producer, with
/// the clock started.
#[component]
fn AutoProduce() -> impl IntoView {
    let sim = expect_context::<Sim>();
    view! {
        <label>"Auto-produce "
            <select aria-label="Auto-produce" on:change=move |ev| {
                let every = event_target_value(&ev).parse::<u64>().ok();
                sim.auto_every.set(every);
                if every.is_some() {
                    sim.playing.set(true);
                }
            }>
                <option value="off">"off"</option>
                <option value="10">"every 10 ms"</option>
                <option value="50">"every 50 ms"</option>
                <option value="250">"every 250 ms"</option>
                <option value="1000">"every 1 s"</option>
            </select>
        </label>
    }
}

/// Which producer the Produce panel sends from, and a new one.
#[component]
fn ProducerPick() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let ids = Memo::new(move |_| {
        sim.structure
            .with(|v| v.producers.iter().map(|p| p.id.0).collect::<Vec<_>>())
    });
    let add = move |_| {
        let before = ids.get_untracked();
        if sim.dispatch(Command::CreateProducer {
            id: None,
            config: kafkasim_engine::ProducerConfig::default(),
        }) {
            let new = ids
                .get_untracked()
                .into_iter()
                .find(|id| !before.contains(id));
            sim.picked_producer.set(new);
            if let Some(id) = new {
                sim.notice.set(Some(format!(
                    "Producer {id} joined with Kafka's defaults (acks=all, idempotent); the Produce panel sends from it."
                )));
            }
        }
    };
    view! {
        <div class="pick-row">
            <label>"From "
                <select aria-label="Producer" prop:value=move || sim.producer().map(|p| p.to_string()).unwrap_or_default()
                    on:change=move |ev| sim.picked_producer.set(event_target_value(&ev).parse().ok())>
                    {move || ids.get().into_iter().map(|id| view! { <option value=id.to_string()>{format!("Producer {id}")}</option> }).collect_view()}
                </select>
            </label>
            <button type="button" class="btn btn-small" on:click=add>"Add producer"</button>
        </div>
    }
}

/// Which topic the Produce and Consumers panels act on.
#[component]
fn TopicPick() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let names = Memo::new(move |_| {
        sim.structure.with(|v| {
            v.topics
                .iter()
                .filter(|t| !t.internal)
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        })
    });
    view! {
        <label class="pick-row">"Topic "
            <select aria-label="Topic" prop:value=move || sim.scene_topic().unwrap_or_default()
                on:change=move |ev| sim.picked_topic.set(Some(event_target_value(&ev)))>
                {move || names.get().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
            </select>
        </label>
    }
}

/// Adds a consumer that subscribes to the scene's topic in a chosen group,
/// with Kafka's consumer settings beside friendly labels.
#[component]
pub fn ConsumerForm() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let group = RwSignal::new(String::from("billing"));
    let reset = RwSignal::new(String::from("latest"));
    let assignor = RwSignal::new(String::from("range,cooperative-sticky"));
    let max_poll = RwSignal::new(String::from("500"));
    let processing = RwSignal::new(String::from("0"));
    let topic = move || sim.scene_topic();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(topic) = topic() else {
            return;
        };
        let whole = |s: RwSignal<String>, what: &str| {
            s.get_untracked().trim().parse::<u64>().map_err(|_| {
                KafkaError::new(
                    ErrorCode::InvalidConfig,
                    format!(
                        "{what} must be a whole number; '{}' is not. No consumer was added.",
                        s.get_untracked().trim()
                    ),
                )
            })
        };
        let (max_poll_records, processing_ms) = match (
            whole(max_poll, "max.poll.records"),
            whole(processing, "processing.ms"),
        ) {
            (Ok(m), Ok(p)) => (u32::try_from(m).unwrap_or(u32::MAX), p),
            (Err(e), _) | (_, Err(e)) => {
                sim.error.set(Some(e));
                return;
            }
        };
        let config = ConsumerConfig {
            max_poll_records,
            processing_ms,
            group_id: Some(group.get_untracked().trim().to_string()),
            auto_offset_reset: if reset.get_untracked() == "earliest" {
                AutoOffsetReset::Earliest
            } else {
                AutoOffsetReset::Latest
            },
            partition_assignment_strategy: AssignorList::parse(&assignor.get_untracked())
                .unwrap_or_default(),
            ..ConsumerConfig::default()
        };
        sim.dispatch(Command::CreateConsumer {
            id: None,
            config,
            topics: Some(vec![topic]),
            partitions: None,
        });
    };
    view! {
        <form class="panel consumer-form" on:submit=add aria-label="Add a consumer">
            <h2 class="panel-title">"Consumers"</h2>
            <TopicPick />
            <label><span>"Group " <small>"group.id"</small></span> <input prop:value=group on:input=move |ev| group.set(event_target_value(&ev)) /></label>
            <label><span>"Start at " <small>"auto.offset.reset"</small></span>
                <select prop:value=reset on:change=move |ev| reset.set(event_target_value(&ev))>
                    <option value="latest">"latest (default)"</option>
                    <option value="earliest">"earliest"</option>
                </select>
            </label>
            <label><span>"Assignor " <small>"partition.assignment.strategy"</small></span>
                <select prop:value=assignor on:change=move |ev| assignor.set(event_target_value(&ev))>
                    <option value="range,cooperative-sticky">"default (range, cooperative-sticky)"</option>
                    <option value="range">"range"</option>
                    <option value="roundrobin">"roundrobin"</option>
                    <option value="sticky">"sticky"</option>
                    <option value="cooperative-sticky">"cooperative-sticky"</option>
                    <option value="cooperative-sticky,range">"cooperative-sticky, range"</option>
                </select>
            </label>
            <label><span>"Records per poll " <small>"max.poll.records"</small></span>
                <input prop:value=max_poll inputmode="numeric" on:input=move |ev| max_poll.set(event_target_value(&ev)) /></label>
            <label><span>"Processing per record, ms " <small>"processing.ms (the simulator's)"</small></span>
                <input prop:value=processing inputmode="numeric" on:input=move |ev| processing.set(event_target_value(&ev)) /></label>
            <button type="submit" class="btn btn-primary">"Add consumer"</button>
        </form>
    }
}

/// What the action panel needs to know of its node: whether it runs, and
/// for a consumer the partitions it owns and whether it is in a group.
/// The panel is redrawn when these change, not at every engine step,
/// which in a busy scene cost the frame a rebuild of every button.
#[derive(Clone, PartialEq)]
struct Facts {
    running: bool,
    owned: Vec<(String, u32)>,
    in_group: bool,
    /// A consumer: every partition it owns is paused.
    paused: bool,
    /// The nodes it is cut off from, and every other node.
    cut_from: Vec<NodeId>,
    others: Vec<NodeId>,
}

impl Facts {
    fn of(v: &ClusterView, node: NodeId) -> Facts {
        let mut facts = Facts {
            running: false,
            owned: Vec::new(),
            in_group: false,
            paused: false,
            cut_from: v.cut_off_from(node),
            others: v.nodes().into_iter().filter(|n| *n != node).collect(),
        };
        match node {
            NodeId::Broker(b) => {
                facts.running = v
                    .brokers
                    .iter()
                    .any(|x| x.id == b && x.status == BrokerStatus::Running);
            }
            NodeId::ZooKeeper(_) | NodeId::Controller(_) => {
                facts.running = v.quorum.iter().any(|q| q.node == node && q.alive);
            }
            NodeId::Producer(_) => facts.running = true,
            NodeId::Consumer(c) => {
                if let Some(x) = v.consumers.iter().find(|x| x.id == c) {
                    facts.running = x.status == ConsumerStatus::Running;
                    facts.in_group = x.group.is_some();
                    facts.owned = x
                        .assigned
                        .iter()
                        .map(|a| (a.tp.topic.to_string(), a.tp.partition))
                        .collect();
                    facts.paused = !x.assigned.is_empty() && x.assigned.iter().all(|a| a.paused);
                }
            }
        }
        facts
    }
}

/// Times the simulated application may take per record, in ms.
const PROCESSING_TIMES: [u64; 6] = [0, 100, 500, 1_000, 2_000, 5_000];

/// How long the consumer's application takes per record: a slow consumer
/// falls behind (its lag grows), a very slow one risks `max.poll.interval.ms`.
#[component]
fn ProcessingPick(consumer: u32) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let current = Memo::new(move |_| sim.consumer_processing_ms(consumer).unwrap_or(0));
    view! {
        <label class="pick-row">
            <span>"Processing " <small>"processing.ms"</small></span>
            <select aria-label="Processing time per record" prop:value=move || current.get().to_string()
                on:change=move |ev| {
                    if let Ok(ms) = event_target_value(&ev).parse::<u64>() {
                        sim.dispatch(Command::SetConsumerProcessing { consumer: ConsumerId(consumer), processing_ms: ms });
                    }
                }>
                {PROCESSING_TIMES.iter().map(|ms| view! {
                    <option value=ms.to_string()>{if *ms == 0 { "none".to_string() } else { format!("{ms} ms per record") }}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// Isolate a node (cut it off from every other node, as a failed switch
/// port would) or reconnect it, in one click each.
fn network_buttons(
    sim: Sim,
    node: NodeId,
    cut_from: Vec<NodeId>,
    others: Vec<NodeId>,
) -> impl IntoView {
    let isolated = !others.is_empty() && others.iter().all(|o| cut_from.contains(o));
    let any_cut = !cut_from.is_empty();
    let isolate = move |_| {
        let mut cut = 0;
        for other in others.iter().filter(|o| !cut_from.contains(o)) {
            if !sim.dispatch(Command::PartitionNetwork { a: node, b: *other }) {
                return;
            }
            cut += 1;
        }
        sim.notice.set(Some(format!(
            "{node} is cut off from the network: {cut} link(s) cut. Its process still runs; nothing reaches it or leaves it."
        )));
    };
    let heal_these = cut_from_heal(sim, node);
    view! {
        <button class="btn" disabled=isolated on:click=isolate
            title="Cut every link between this node and the others">"Isolate from the network"</button>
        <button class="btn" disabled=!any_cut on:click=heal_these
            title="Heal every cut link of this node">"Reconnect to the network"</button>
    }
}

fn cut_from_heal(sim: Sim, node: NodeId) -> impl Fn(leptos::ev::MouseEvent) {
    move |_| {
        let cut = sim.structure.with_untracked(|v| v.cut_off_from(node));
        for other in &cut {
            if !sim.dispatch(Command::HealNetwork {
                a: Some(node),
                b: Some(*other),
            }) {
                return;
            }
        }
        sim.notice.set(Some(format!(
            "{node} is reconnected: {} link(s) healed.",
            cut.len()
        )));
    }
}

/// Actions for whatever node is selected in the diagram.
#[component]
pub fn ActionPanel() -> impl IntoView {
    let sim = expect_context::<Sim>();
    let facts = Memo::new(move |_| {
        sim.selected
            .get()
            .map(|node| (node, sim.structure.with(|v| Facts::of(v, node))))
    });
    move || {
        let Some((node, facts)) = facts.get() else {
            return view! { <div class="panel"><h2 class="panel-title">"Actions"</h2><p class="panel-hint">"Click a broker, producer, consumer, ZooKeeper node or KRaft controller to act on it."</p></div> }.into_any();
        };
        let title = node.to_string();
        let Facts {
            running,
            owned,
            in_group,
            paused,
            cut_from,
            others,
        } = facts;
        let network = network_buttons(sim, node, cut_from, others);
        let body = match node {
            NodeId::Broker(b) => view! {
                <button class="btn btn-danger" disabled=!running on:click=move |_| { sim.dispatch(Command::CrashBroker { broker: BrokerId(b.0) }); }>"Crash broker"</button>
                <button class="btn" disabled=!running on:click=move |_| { sim.dispatch(Command::ShutdownBroker { broker: BrokerId(b.0) }); }>"Shut down broker"</button>
                <button class="btn" disabled=running on:click=move |_| { sim.dispatch(Command::RestartBroker { broker: BrokerId(b.0) }); }>"Restart broker"</button>
            }
            .into_any(),
            NodeId::ZooKeeper(z) => view! {
                <button class="btn btn-danger" disabled=!running on:click=move |_| { sim.dispatch(Command::CrashZooKeeper { node: ZkNodeId(z.0) }); }>"Crash ZooKeeper node"</button>
                <button class="btn" disabled=running on:click=move |_| { sim.dispatch(Command::RestartZooKeeper { node: ZkNodeId(z.0) }); }>"Restart ZooKeeper node"</button>
            }
            .into_any(),
            NodeId::Controller(k) => view! {
                <button class="btn btn-danger" disabled=!running on:click=move |_| { sim.dispatch(Command::CrashController { node: ControllerId(k.0) }); }>"Crash controller"</button>
                <button class="btn" disabled=running on:click=move |_| { sim.dispatch(Command::RestartController { node: ControllerId(k.0) }); }>"Restart controller"</button>
            }
            .into_any(),
            NodeId::Producer(p) => view! { <ProducerStats producer=p /> }.into_any(),
            NodeId::Consumer(c) => view! {
                <ConsumerActions consumer=c running=running owned=owned in_group=in_group paused=paused />
            }
            .into_any(),
        };
        let aria = format!("Actions for {title}");
        // A click on the diagram brings its actions to where the eye is:
        // into view, the first one focused (Space still plays and pauses).
        let region = NodeRef::<leptos::html::Div>::new();
        region.on_load(move |el| {
            request_animation_frame(move || {
                if let Ok(Some(first)) = el.query_selector("button:not([disabled])") {
                    if let Ok(b) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(first) {
                        let _ = b.focus();
                    }
                }
                el.scroll_into_view_with_bool(false);
            });
        });
        view! {
            <div class="panel action-panel" role="region" aria-label=aria node_ref=region>
                <h2 class="panel-title">{title}</h2>
                <div class="panel-actions">{body}{network}</div>
            </div>
        }
        .into_any()
    }
}

/// A producer's settings and counters, on the beat while playing.
#[component]
fn ProducerStats(producer: ProducerId) -> impl IntoView {
    let sim = expect_context::<Sim>();
    // Its counters change with every acknowledgement: only this
    // line follows them, on the beat while playing.
    let stats = sim.settled(Memo::new(move |_| {
        sim.view.with(|v| {
            v.producers.iter().find(|x| x.id == producer).map(|s| {
                // acks=0: Kafka completes the send as it leaves,
                // with no reply from any broker.
                let acked = if s.acks == kafkasim_engine::Acks::None {
                    "completed at once"
                } else {
                    "acknowledged"
                };
                format!(
                    "acks={} · idempotence {} · sent {} · {acked} {} · failed {}",
                    s.acks.label(),
                    if s.idempotent { "on" } else { "off" },
                    s.sent,
                    s.acknowledged,
                    s.failed
                )
            })
        })
    }));
    view! { <p class="panel-hint">{stats}</p> }
}

/// What a consumer's application can do: commit, rewind, pause, slow its
/// processing, crash, close, restart.
#[component]
fn ConsumerActions(
    consumer: ConsumerId,
    running: bool,
    owned: Vec<(String, u32)>,
    in_group: bool,
    paused: bool,
) -> impl IntoView {
    let sim = expect_context::<Sim>();
    let can_rewind = running && !owned.is_empty();
    // seekToBeginning on every partition it owns: the records are
    // read again (Kafka keeps them; a queue would not).
    let rewind = move |_| {
        for (topic, partition) in owned.clone() {
            if !sim.dispatch(Command::SeekConsumer {
                consumer,
                topic,
                partition,
                to: kafkasim_engine::clients::consumer::SeekTo::Beginning,
            }) {
                break;
            }
        }
    };
    view! {
        <button class="btn" disabled=!(can_rewind && in_group) on:click=move |_| { sim.dispatch(Command::CommitConsumer { consumer }); } title="commitAsync: commit the position of every partition it owns now">"Commit offsets"</button>
        <button class="btn" disabled=!can_rewind on:click=rewind title="seekToBeginning on every partition it owns">"Read again from the beginning"</button>
        <button class="btn" disabled=!can_rewind on:click=move |_| { sim.dispatch(Command::PauseConsumer { consumer, pause: !paused }); }
            aria-label=if paused { "Fetch again" } else { "Stop fetching" }
            title="KafkaConsumer.pause() / resume() on every partition it owns: it keeps polling, so it stays in the group">
            {if paused { "Fetch again (resume())" } else { "Stop fetching (pause())" }}</button>
        <ProcessingPick consumer=consumer.0 />
        <button class="btn btn-danger" disabled=!running on:click=move |_| { sim.dispatch(Command::CrashConsumer { consumer }); }>"Crash consumer"</button>
        <button class="btn" disabled=!running on:click=move |_| { sim.dispatch(Command::CloseConsumer { consumer }); }>"Close consumer"</button>
        <button class="btn" disabled=running on:click=move |_| { sim.dispatch(Command::RestartConsumer { consumer }); }>"Restart consumer"</button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_field_refuses_what_is_not_a_partition_number() {
        // It once turned -1 and abc into "Partition 4294967295".
        assert_eq!(parse_partition(""), Ok(None));
        assert_eq!(parse_partition(" 2 "), Ok(Some(2)));
        let negative = parse_partition("-1").unwrap_err();
        assert!(negative.starts_with("Invalid partition: -1."), "{negative}");
        let word = parse_partition("abc").unwrap_err();
        assert!(word.contains("'abc' is not a number"), "{word}");
        assert!(parse_partition("99999999999").is_err());
    }

    #[test]
    fn the_key_calculator_shows_kafkas_steps() {
        // Kafka's UtilsTest: murmur2("21") = -973932308.
        let p = kafkasim_engine::clients::producer::partitioner::partition_for_key(b"21", 3);
        let text = key_math_text("21", 3, p, "MyTopic");
        assert_eq!(
            text,
            format!("murmur2(\"21\") = -973932308 → toPositive = 1173551340 → mod 3 = {p} → MyTopic-{p}")
        );
        assert_eq!(p, 1_173_551_340 % 3);
    }

    #[test]
    fn the_speed_caption_says_what_a_second_shows() {
        assert_eq!(rate_caption(1.0, false), "1 s shows 4 s");
        assert_eq!(rate_caption(1.0, true), "slow motion: 1 s shows 12 ms");
        assert_eq!(rate_caption(10.0, true), "slow motion: 1 s shows 120 ms");
        assert_eq!(rate_caption(0.25, false), "1 s shows 1 s");
    }
}
