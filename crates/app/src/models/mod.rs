//! The two classic messaging models side by side, as the seed document's
//! first section contrasts them: a point-to-point queue and a
//! publish-subscribe topic on one classic broker (the engine's
//! `messaging_models`), each drawn with its clients and every message on the wire.

use kafkasim_engine::messaging_models::{
    Classic, ClassicCommand, ClassicView, ClientView, DestinationKind, Hop, Node, Packet, Role,
};
use leptos::prelude::*;

pub use kafkasim_engine::messaging_models::scene::{
    LATENCY_MS, QUEUE, RECEIVERS, SUBSCRIBERS, TOPIC,
};

/// The classic broker's state for the page, and what it last showed.
#[derive(Clone, Copy)]
pub struct Models {
    classic: StoredValue<Classic>,
    pub view: RwSignal<ClassicView>,
    /// Virtual time with its fraction of a ms, for smooth dots.
    pub time: RwSignal<f64>,
    pub log: RwSignal<Vec<String>>,
    pub error: RwSignal<Option<String>>,
    /// A lesson's commands still to come, at their virtual times.
    script: StoredValue<Vec<(u64, ClassicCommand)>>,
    /// The clock stops here (a lesson step's end).
    pub stop_at: RwSignal<Option<u64>>,
    /// A lesson is waiting for an answer: time stands still.
    pub paused: RwSignal<bool>,
    /// How many commands the user has given (a lesson then hands over).
    pub acted: RwSignal<u64>,
}

fn scene() -> Classic {
    kafkasim_engine::messaging_models::scene::build()
}

impl Models {
    pub fn new() -> Models {
        let classic = scene();
        let view = classic.view();
        Models {
            classic: StoredValue::new(classic),
            view: RwSignal::new(view),
            time: RwSignal::new(0.0),
            log: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            script: StoredValue::new(Vec::new()),
            stop_at: RwSignal::new(None),
            paused: RwSignal::new(false),
            acted: RwSignal::new(0),
        }
    }

    /// Shows a lesson step: the page as the step starts, and its commands
    /// to run as the clock reaches them, up to `stop_at`.
    pub fn present(&self, classic: Classic, script: Vec<(u64, ClassicCommand)>, stop_at: u64) {
        self.time.set(classic.now() as f64);
        self.classic.set_value(classic);
        self.script.set_value(script);
        self.stop_at.set(Some(stop_at));
        self.log.set(Vec::new());
        self.error.set(None);
        self.refresh();
    }

    /// Ends a lesson's hold on the page: the user drives it.
    pub fn release(&self) {
        self.script.set_value(Vec::new());
        self.stop_at.set(None);
        self.paused.set(false);
    }

    /// A command from the page's own buttons.
    fn act(&self, command: ClassicCommand) {
        self.acted.update(|n| *n += 1);
        self.run(command);
    }

    fn run(&self, command: ClassicCommand) {
        let result = self
            .classic
            .try_update_value(|c| c.apply(command))
            .unwrap_or(Ok(Vec::new()));
        match result {
            Ok(events) => {
                self.error.set(None);
                self.note(events.iter().filter_map(|e| e.describe()));
                self.refresh();
            }
            Err(e) => self.error.set(Some(e.to_string())),
        }
    }

    /// The sender puts a new message on the queue, or the publisher on the topic.
    /// Messages are numbered by how many their sender has sent.
    pub fn send(&self, kind: DestinationKind) {
        let (client, noun) = match kind {
            DestinationKind::Queue => ("Sender", "job"),
            DestinationKind::Topic => ("Publisher", "news"),
        };
        let sent = self.view.with_untracked(|v| {
            v.clients
                .iter()
                .find(|c| &*c.name == client)
                .map_or(0, |c| c.sent.len())
        });
        self.act(ClassicCommand::Send {
            client: client.into(),
            body: format!("{noun} {}", sent + 1),
        });
    }

    pub fn set_online(&self, client: &str, online: bool) {
        self.act(ClassicCommand::SetOnline {
            client: client.into(),
            online,
        });
    }

    /// Back to the opening scene.
    pub fn reset(&self) {
        self.acted.update(|n| *n += 1);
        self.classic.set_value(scene());
        self.log.set(Vec::new());
        self.error.set(None);
        self.time.set(0.0);
        self.refresh();
    }

    /// Moves time on by `ms` virtual milliseconds, running a lesson's
    /// commands as their times come and stopping at a lesson step's end.
    pub fn tick(&self, ms: f64) {
        if self.paused.get_untracked() {
            return;
        }
        let before = self.time.get_untracked();
        let mut target = before + ms;
        if let Some(stop) = self.stop_at.get_untracked() {
            target = target.min(stop as f64);
        }
        let whole = target.floor() as u64;
        let mut lines = Vec::new();
        let mut refused = None;
        self.classic.update_value(|c| {
            self.script.update_value(|script| {
                while script.first().is_some_and(|(at, _)| *at <= whole) {
                    let (at, command) = script.remove(0);
                    lines.extend(
                        c.advance(at.saturating_sub(c.now()))
                            .iter()
                            .filter_map(|e| e.describe()),
                    );
                    match c.apply(command) {
                        Ok(events) => lines.extend(events.iter().filter_map(|e| e.describe())),
                        Err(e) => refused = Some(e.to_string()),
                    }
                }
            });
            let step = whole.saturating_sub(c.now());
            lines.extend(c.advance(step).iter().filter_map(|e| e.describe()));
        });
        self.time.set(target);
        if refused.is_some() {
            self.error.set(refused);
        }
        if !lines.is_empty() {
            self.note(lines.into_iter());
            self.refresh();
        }
    }

    fn refresh(&self) {
        if let Some(v) = self.classic.try_with_value(Classic::view) {
            self.view.set(v);
        }
    }

    fn note(&self, lines: impl Iterator<Item = String>) {
        let at = self.time.get_untracked() / 1000.0;
        self.log.update(|log| {
            log.extend(lines.map(|l| format!("{at:.1} s  {l}")));
            let excess = log.len().saturating_sub(200);
            log.drain(..excess);
        });
    }
}

impl Default for Models {
    fn default() -> Self {
        Models::new()
    }
}

/// Runs the page's clock while it is shown, at the instructor's speed. The
/// page has no timeline: nothing happens until someone clicks.
pub fn start_clock(models: Models, shown: Signal<bool>, speed: Signal<f64>) {
    crate::state::on_frame(move |_, elapsed| {
        if shown.get_untracked() {
            models.tick(elapsed.clamp(0.0, 100.0) * speed.get_untracked());
        }
        true
    });
}

// ---------------------------------------------------------------------------
// Geometry (viewBox 1200 × 500): queue on the left half, topic on the right.
// ---------------------------------------------------------------------------

pub const WIDTH: f64 = 1200.0;
pub const HEIGHT: f64 = 560.0;
const BOX_W: f64 = 190.0;
const BOX_TOP: f64 = 150.0;
const BOX_H: f64 = 290.0;

/// Where a client's circle sits.
pub fn client_at(name: &str) -> Option<(f64, f64)> {
    // Far enough apart for each client's name and three caption lines.
    let spread = |i: usize, n: usize| 290.0 + (i as f64 - (n as f64 - 1.0) / 2.0) * 160.0;
    match name {
        "Sender" => Some((80.0, 290.0)),
        "Publisher" => Some((680.0, 290.0)),
        _ => RECEIVERS
            .iter()
            .position(|r| *r == name)
            .map(|i| (510.0, spread(i, RECEIVERS.len())))
            .or_else(|| {
                SUBSCRIBERS
                    .iter()
                    .position(|s| *s == name)
                    .map(|i| (1110.0, spread(i, SUBSCRIBERS.len())))
            }),
    }
}

/// The left edge x of a destination's box.
fn box_left(destination: &str) -> f64 {
    if destination == TOPIC {
        805.0
    } else {
        205.0
    }
}

/// Where a dot enters or leaves the broker: the box's side facing `other`.
fn broker_edge(destination: &str, other: (f64, f64)) -> (f64, f64) {
    let left = box_left(destination);
    let x = if other.0 < left { left } else { left + BOX_W };
    (x, other.1.clamp(BOX_TOP + 30.0, BOX_TOP + BOX_H - 20.0))
}

/// A hop's two ends.
pub fn hop_ends(hop: &Hop) -> Option<((f64, f64), (f64, f64))> {
    let client = |n: &Node| match n {
        Node::Client(name) => client_at(name),
        Node::Broker => None,
    };
    match (&hop.from, &hop.to) {
        (Node::Client(_), Node::Broker) => {
            let from = client(&hop.from)?;
            Some((from, broker_edge(&hop.destination, from)))
        }
        (Node::Broker, Node::Client(_)) => {
            let to = client(&hop.to)?;
            Some((broker_edge(&hop.destination, to), to))
        }
        _ => None,
    }
}

fn lerp(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    let t = t.clamp(0.0, 1.0);
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

/// Where a hop's dot is at virtual time `now`.
pub fn hop_position(hop: &Hop, now: f64) -> Option<(f64, f64)> {
    let (from, to) = hop_ends(hop)?;
    let span = (hop.arrives_at - hop.sent_at).max(1) as f64;
    Some(lerp(from, to, (now - hop.sent_at as f64) / span))
}

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

#[component]
pub fn MessagingModels() -> impl IntoView {
    let models = expect_context::<Models>();
    view! {
        <section class="models" aria-label="Messaging models">
            <div class="models-sides">
                <figure class="models-side">
                    <h2>"Point-to-point: a queue"</h2>
                    <div class="models-buttons">
                        <button class="btn btn-primary" on:click=move |_| models.send(DestinationKind::Queue)>"Send to queue"</button>
                        {RECEIVERS.map(|r| online_toggle(models, r)).collect_view()}
                    </div>
                    <ModelDiagram kind=DestinationKind::Queue />
                    <figcaption>"Each message goes to exactly one receiver. The queue keeps it until that receiver acknowledges it, so a receiver that was offline still gets its share later."</figcaption>
                </figure>
                <figure class="models-side">
                    <h2>"Publish-subscribe: a topic"</h2>
                    <div class="models-buttons">
                        <button class="btn btn-primary" on:click=move |_| models.send(DestinationKind::Topic)>"Publish to topic"</button>
                        {SUBSCRIBERS.map(|s| online_toggle(models, s)).collect_view()}
                    </div>
                    <ModelDiagram kind=DestinationKind::Topic />
                    <figcaption>"Each message is copied to every subscriber online at that moment, and no one acknowledges it. The broker keeps nothing, so a subscriber that was offline misses it for good."</figcaption>
                </figure>
            </div>
            {move || models.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p class="models-kafka">
                <strong>"Kafka does both. "</strong>
                "Consumers in one group share a topic's partitions, so each record reaches one of them, as with a queue. Every group gets every record, as with subscribers. And the log keeps records for the retention period whether or not anyone has read them, so a consumer that was away reads on from its committed offset."
            </p>
            <div class="models-buttons">
                <button class="btn" on:click=move |_| models.reset()>"Start over"</button>
            </div>
            <details class="models-log">
                <summary>"What happened"</summary>
                <ol>{move || models.log.get().into_iter().rev().take(30).map(|l| view! { <li>{l}</li> }).collect_view()}</ol>
            </details>
        </section>
    }
}

/// One model's half of the picture: the queue's (left) or the topic's (right).
#[component]
fn ModelDiagram(kind: DestinationKind) -> impl IntoView {
    let models = expect_context::<Models>();
    let (left, name) = match kind {
        DestinationKind::Queue => (0.0, QUEUE),
        DestinationKind::Topic => (WIDTH / 2.0, TOPIC),
    };
    let hatch = format!("models-hatch-{}", kind.noun());
    let fill = format!("url(#{hatch})");
    view! {
        <svg class="diagram models-diagram" viewBox=format!("{left} 60 {} {}", WIDTH / 2.0, HEIGHT - 60.0)
            role="group" aria-label=format!("{} diagram", if kind == DestinationKind::Queue { "Queue" } else { "Topic" })>
            <defs>
                <pattern id=hatch width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                    <line x1="0" y1="0" x2="0" y2="8" class="hatch-line" />
                </pattern>
            </defs>
            {move || models.view.with(|v| {
                let boxes = v.destinations.iter().filter(|d| &*d.name == name).map(destination_box).collect_view();
                let clients = v
                    .clients
                    .iter()
                    .filter(|c| &*c.destination == name)
                    .map(|c| client_node(c, &fill))
                    .collect_view();
                view! { <g>{boxes}</g> <g>{clients}</g> }
            })}
            <Dots destination=name />
        </svg>
    }
}

fn online_toggle(models: Models, name: &'static str) -> impl IntoView {
    let online = move || {
        models.view.with(|v| {
            v.clients
                .iter()
                .find(|c| &*c.name == name)
                .is_some_and(|c| c.online)
        })
    };
    let label = move || {
        if online() {
            format!("Take {name} offline")
        } else {
            format!("Bring {name} online")
        }
    };
    view! {
        <button class="btn" on:click=move |_| models.set_online(name, !online())>{label}</button>
    }
}

fn destination_box(d: &kafkasim_engine::messaging_models::DestinationView) -> impl IntoView {
    let left = box_left(&d.name);
    let queue = d.kind == DestinationKind::Queue;
    let title = format!("{} {}", if queue { "Queue" } else { "Topic" }, d.name);
    // One entry per message: its line, and for an unacked one a note on a
    // line of its own ("(unacked)" beside it ran out of the box).
    let entries: Vec<(String, Option<&str>)> = if queue {
        let mut l: Vec<(String, Option<&str>)> = d
            .unacked
            .iter()
            .map(|u| {
                (
                    format!("{} → {}", u.message.body, u.receiver),
                    Some("not acked yet"),
                )
            })
            .collect();
        l.extend(d.waiting.iter().map(|m| {
            let state = if m.redelivered {
                "(redelivery)"
            } else {
                "waiting"
            };
            (format!("{} {state}", m.body), None)
        }));
        if l.is_empty() {
            l.push(("empty".into(), None));
        }
        l
    } else {
        vec![
            (format!("{} published", d.published), None),
            ("stored: none".into(), None),
        ]
    };
    // Nine rows fit; a message is shown whole or counted under "+N more".
    let mut rows = 0;
    let shown = entries
        .iter()
        .take_while(|(_, note)| {
            rows += 1 + usize::from(note.is_some());
            rows <= 9
        })
        .count();
    let more = entries.len() - shown;
    let spoken: Vec<String> = entries
        .iter()
        .map(|(l, note)| note.map_or_else(|| l.clone(), |n| format!("{l} ({n})")))
        .collect();
    let label = format!("{title}: {}", spoken.join(", "));
    let lit = crate::lessons::lit(title.clone());
    let mut y = BOX_TOP + 60.0;
    let drawn = entries
        .into_iter()
        .take(shown)
        .map(|(l, note)| {
            let at = y;
            y += if note.is_some() { 48.0 } else { 24.0 };
            view! {
                <text x=left + 14.0 y=at class="models-line">{l}</text>
                {note.map(|n| view! { <text x=left + 26.0 y=at + 24.0 class="models-line">{n}</text> })}
            }
        })
        .collect_view();
    view! {
        <g class="models-box" class:is-lit=lit role="img" aria-label=label>
            <rect x=left y=BOX_TOP width=BOX_W height=BOX_H rx="10" class="broker-shape" />
            <text x=left + BOX_W / 2.0 y=BOX_TOP + 28.0 text-anchor="middle" class="broker-title">{title}</text>
            {drawn}
            {(more > 0).then(|| view! {
                <text x=left + 14.0 y=y class="models-line">{format!("+{more} more")}</text>
            })}
        </g>
    }
}

/// What a client's caption says: messages got, missed or being processed.
pub fn client_caption(c: &ClientView) -> Vec<String> {
    if c.role == Role::Sender {
        return vec![format!("sent {}", c.sent.len())];
    }
    let mut lines = Vec::new();
    let got: Vec<String> = c
        .received
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|r| {
            if r.redelivered {
                format!("{} again", r.body)
            } else {
                r.body.to_string()
            }
        })
        .collect();
    lines.push(format!("got {}", c.received.len()));
    if !got.is_empty() {
        lines.push(got.join(", "));
    }
    if !c.missed.is_empty() {
        lines.push(format!("missed {}", c.missed.len()));
    }
    lines
}

fn client_node(c: &ClientView, hatch: &str) -> impl IntoView {
    let Some((x, y)) = client_at(&c.name) else {
        return ().into_any();
    };
    let state = if c.role == Role::Sender {
        ""
    } else if c.online {
        " (online)"
    } else {
        " (offline)"
    };
    let caption = client_caption(c);
    let label = format!("{}{state}: {}", c.name, caption.join("; "));
    let class = if c.online { "node" } else { "node is-down" };
    let busy = c.working_on.is_some();
    view! {
        <g class=class class:is-lit=crate::lessons::lit(c.name.to_string()) role="img" aria-label=label>
            <circle cx=x cy=y r="30" class="node-shape" />
            {(!c.online).then(|| view! { <circle cx=x cy=y r="30" fill=hatch.to_string() class="broker-hatch" /> })}
            {busy.then(|| view! { <circle cx=x cy=y r="36" class="models-busy" /> })}
            <text x=x y=y - 40.0 text-anchor="middle" class="node-label">{c.name.to_string()}</text>
            {caption.into_iter().enumerate().map(|(i, l)| view! {
                <text x=x y=y + 50.0 + i as f64 * 18.0 text-anchor="middle" class="node-caption">{l}</text>
            }).collect_view()}
        </g>
    }
    .into_any()
}

#[component]
fn Dots(destination: &'static str) -> impl IntoView {
    let models = expect_context::<Models>();
    let dots = move || {
        let now = models.time.get();
        models.view.with(|v| {
            v.in_transit
                .iter()
                .filter(|h| &*h.destination == destination)
                .filter_map(|h| {
                    let (x, y) = hop_position(h, now)?;
                    let class = match h.packet {
                        Packet::Send => "chip chip-send",
                        Packet::Deliver => "chip chip-deliver",
                        Packet::Ack => "chip chip-ack",
                    };
                    let label = h.body.as_ref().map(|b| b.to_string());
                    Some(view! {
                        <g class=class transform=format!("translate({x:.1},{y:.1})")>
                            <circle r="9" class="chip-shape" />
                            {label.map(|l| view! { <text y="-13" text-anchor="middle" class="chip-label">{l}</text> })}
                        </g>
                    })
                })
                .collect_view()
        })
    };
    view! { <g class="chips">{dots}</g> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_of_the_scene_has_a_place_and_every_hop_two_ends() {
        let mut c = scene();
        for name in ["Sender", "Publisher"]
            .iter()
            .chain(&RECEIVERS)
            .chain(&SUBSCRIBERS)
        {
            assert!(client_at(name).is_some(), "{name}");
        }
        c.apply(ClassicCommand::Send {
            client: "Publisher".into(),
            body: "n".into(),
        })
        .unwrap();
        c.advance(LATENCY_MS + 1);
        let v = c.view();
        assert_eq!(v.in_transit.len(), 3, "one copy per subscriber");
        for hop in &v.in_transit {
            let (from, to) = hop_ends(hop).unwrap();
            assert!(from.0 > 805.0 && to.0 == 1110.0, "{from:?} → {to:?}");
            let mid = hop_position(hop, (hop.sent_at + hop.arrives_at) as f64 / 2.0).unwrap();
            assert!(mid.0 > from.0 && mid.0 < to.0);
        }
    }

    #[test]
    fn a_subscriber_that_was_offline_is_captioned_with_what_it_missed() {
        let mut c = scene();
        c.apply(ClassicCommand::SetOnline {
            client: "Subscriber 2".into(),
            online: false,
        })
        .unwrap();
        c.apply(ClassicCommand::Send {
            client: "Publisher".into(),
            body: "n1".into(),
        })
        .unwrap();
        c.settle();
        let v = c.view();
        let caption =
            |name: &str| client_caption(v.clients.iter().find(|c| &*c.name == name).unwrap());
        assert_eq!(caption("Subscriber 1"), ["got 1", "n1"]);
        assert_eq!(caption("Subscriber 2"), ["got 0", "missed 1"]);
    }
}
