//! The Messaging models simulator: queues deliver to one receiver, topics to every subscriber, and refusals change nothing.

use super::*;
use std::collections::BTreeMap;
use std::collections::BTreeSet;

fn queue(name: &str) -> ClassicCommand {
    ClassicCommand::CreateQueue { name: name.into() }
}
fn topic(name: &str) -> ClassicCommand {
    ClassicCommand::CreateTopic { name: name.into() }
}
fn sender(name: &str, dest: &str) -> ClassicCommand {
    ClassicCommand::AddClient {
        name: name.into(),
        destination: dest.into(),
        role: Role::Sender,
        processing_ms: None,
    }
}
fn receiver(name: &str, dest: &str, processing_ms: Option<u64>) -> ClassicCommand {
    ClassicCommand::AddClient {
        name: name.into(),
        destination: dest.into(),
        role: Role::Receiver,
        processing_ms,
    }
}
fn send(client: &str, body: &str) -> ClassicCommand {
    ClassicCommand::Send {
        client: client.into(),
        body: body.into(),
    }
}
fn online(client: &str, online: bool) -> ClassicCommand {
    ClassicCommand::SetOnline {
        client: client.into(),
        online,
    }
}

fn ok(sim: &mut Classic, cmd: ClassicCommand) -> Vec<ClassicEvent> {
    match sim.apply(cmd.clone()) {
        Ok(ev) => ev,
        Err(e) => panic!("{cmd:?} refused: {e}"),
    }
}

fn client<'a>(view: &'a ClassicView, name: &str) -> &'a ClientView {
    view.clients
        .iter()
        .find(|c| &*c.name == name)
        .expect("client")
}

fn dest<'a>(view: &'a ClassicView, name: &str) -> &'a DestinationView {
    view.destinations
        .iter()
        .find(|d| &*d.name == name)
        .expect("destination")
}

fn received_ids(c: &ClientView) -> Vec<u64> {
    c.received.iter().map(|r| r.id).collect()
}

/// Queue `q`, sender `p`, and the given receivers.
fn queue_sim(receivers: &[(&str, u64)]) -> Classic {
    let mut sim = Classic::default();
    ok(&mut sim, queue("q"));
    ok(&mut sim, sender("p", "q"));
    for (name, ms) in receivers {
        ok(&mut sim, receiver(name, "q", Some(*ms)));
    }
    sim
}

/// Topic `t`, publisher `p`, and the given subscribers.
fn topic_sim(subscribers: &[&str]) -> Classic {
    let mut sim = Classic::default();
    ok(&mut sim, topic("t"));
    ok(&mut sim, sender("p", "t"));
    for name in subscribers {
        ok(&mut sim, receiver(name, "t", None));
    }
    sim
}

/// Rule: a queue delivers each message to exactly ONE of its competing
/// receivers, taking turns in name order (round robin).
#[test]
fn queue_delivers_each_message_to_exactly_one_of_two_competing_receivers() {
    let mut sim = queue_sim(&[("a", 400), ("b", 400)]);
    for i in 1..=4 {
        ok(&mut sim, send("p", &format!("order {i}")));
    }
    sim.settle();
    let view = sim.view();
    let (a, b) = (client(&view, "a"), client(&view, "b"));
    assert_eq!(received_ids(a), vec![1, 3]);
    assert_eq!(received_ids(b), vec![2, 4]);
    let mut all: Vec<u64> = received_ids(a).into_iter().chain(received_ids(b)).collect();
    all.sort_unstable();
    assert_eq!(all, vec![1, 2, 3, 4], "each message exactly once");
    let q = dest(&view, "q");
    assert_eq!(q.removed, vec![1, 2, 3, 4]);
    assert!(q.waiting.is_empty() && q.unacked.is_empty());
}

/// Rule: a delivered message stays in the queue (unacknowledged, held by
/// one receiver) until the receiver's acknowledgement reaches the broker.
#[test]
fn queue_message_is_not_removed_until_acknowledged() {
    let mut sim = queue_sim(&[("a", 400)]);
    ok(&mut sim, send("p", "hello"));
    sim.advance(5); // reached the broker
    assert_eq!(dest(&sim.view(), "q").unacked.len(), 1);
    sim.advance(200); // being processed
    let view = sim.view();
    let q = dest(&view, "q");
    assert_eq!(q.unacked[0].receiver.as_ref(), "a");
    assert_eq!(q.unacked[0].message.id, 1);
    assert!(q.removed.is_empty());
    assert_eq!(client(&view, "a").working_on, Some(1));
    // Processing ends at 10 + 400 = 410; the ack is on the wire until 415.
    sim.advance(410 - sim.now());
    let view = sim.view();
    assert_eq!(client(&view, "a").processed, vec![1]);
    assert!(dest(&view, "q").removed.is_empty(), "ack still travelling");
    assert_eq!(view.in_transit[0].packet, Packet::Ack);
    let ev = sim.advance(5);
    assert!(ev
        .iter()
        .any(|e| matches!(e.kind, ClassicEventKind::Removed { message: 1, .. })));
    assert_eq!(dest(&sim.view(), "q").removed, vec![1]);
}

/// Rule: prefetch 1 — a receiver holds at most one unacknowledged message,
/// so a single receiver takes messages one after another.
#[test]
fn queue_receiver_holds_one_unacknowledged_message_at_a_time() {
    let mut sim = queue_sim(&[("a", 100)]);
    ok(&mut sim, send("p", "1"));
    ok(&mut sim, send("p", "2"));
    sim.advance(50);
    let view = sim.view();
    let q = dest(&view, "q");
    assert_eq!(q.unacked.len(), 1);
    assert_eq!(q.waiting.len(), 1);
    sim.settle();
    assert_eq!(dest(&sim.view(), "q").removed, vec![1, 2]);
}

/// Rule: a receiver that goes offline with an unacknowledged message gives
/// it back; the queue redelivers it, flagged `redelivered`, to another one.
#[test]
fn offline_receivers_unacked_message_is_redelivered_to_the_other() {
    let mut sim = queue_sim(&[("a", 400), ("b", 400)]);
    ok(&mut sim, send("p", "pay"));
    sim.advance(100); // "a" (first in name order) is processing message 1
    assert_eq!(client(&sim.view(), "a").working_on, Some(1));
    let ev = ok(&mut sim, online("a", false));
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        ClassicEventKind::Redelivering { message: 1, from, .. } if &**from == "a"
    )));
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        ClassicEventKind::Dispatched { message: 1, to, redelivered: true, .. } if &**to == "b"
    )));
    sim.settle();
    let view = sim.view();
    let b = client(&view, "b");
    assert_eq!(b.received.len(), 1);
    assert!(b.received[0].redelivered);
    assert_eq!(b.processed, vec![1]);
    assert!(client(&view, "a").processed.is_empty());
    assert_eq!(dest(&view, "q").removed, vec![1]);
}

/// Rule: only the broker's receipt of the ack counts. If the receiver
/// disconnects while its ack is on the wire, the message is redelivered
/// and processed twice (at-least-once).
#[test]
fn ack_that_arrives_after_disconnect_is_discarded_and_message_redelivered() {
    let mut sim = queue_sim(&[("a", 400), ("b", 400)]);
    ok(&mut sim, send("p", "pay"));
    sim.advance(412); // a finished at 410; its ack arrives at 415
    ok(&mut sim, online("a", false));
    let ev = sim.settle();
    assert!(ev.iter().any(|e| matches!(
        e.kind,
        ClassicEventKind::Discarded {
            packet: Packet::Ack,
            message: 1,
            ..
        }
    )));
    let view = sim.view();
    assert_eq!(client(&view, "a").processed, vec![1]);
    assert_eq!(client(&view, "b").processed, vec![1]);
    assert_eq!(dest(&view, "q").removed, vec![1]);
}

/// Rule: no time dependency — messages sent while no receiver is online
/// wait in the queue, however long, and reach a receiver that connects.
#[test]
fn messages_sent_with_no_receiver_online_wait_and_reach_a_later_receiver() {
    let mut sim = queue_sim(&[("a", 400)]);
    ok(&mut sim, online("a", false));
    for i in 1..=3 {
        ok(&mut sim, send("p", &format!("m{i}")));
    }
    let ev = sim.advance(10_000);
    let waits = ev
        .iter()
        .filter_map(ClassicEvent::describe)
        .filter(|s| s.contains("no receiver is online"))
        .count();
    assert_eq!(waits, 3);
    let view = sim.view();
    let waiting: Vec<u64> = dest(&view, "q").waiting.iter().map(|m| m.id).collect();
    assert_eq!(waiting, vec![1, 2, 3]);
    assert!(client(&view, "a").received.is_empty());

    ok(&mut sim, online("a", true));
    // A receiver that did not even exist when the messages were sent.
    ok(&mut sim, receiver("late", "q", Some(100)));
    sim.settle();
    let view = sim.view();
    let mut got: Vec<u64> = received_ids(client(&view, "a"));
    got.extend(received_ids(client(&view, "late")));
    got.sort_unstable();
    assert_eq!(got, vec![1, 2, 3]);
    assert_eq!(dest(&view, "q").removed.len(), 3);
}

/// Rule: a topic copies each message to every subscriber online at that
/// moment; nothing is stored and nothing is acknowledged.
#[test]
fn every_online_subscriber_gets_each_message() {
    let mut sim = topic_sim(&["x", "y", "z"]);
    ok(&mut sim, send("p", "news 1"));
    ok(&mut sim, send("p", "news 2"));
    let ev = sim.settle();
    let view = sim.view();
    for s in ["x", "y", "z"] {
        assert_eq!(received_ids(client(&view, s)), vec![1, 2], "{s}");
        assert_eq!(client(&view, s).processed, vec![1, 2], "{s}");
    }
    let t = dest(&view, "t");
    assert!(t.waiting.is_empty() && t.unacked.is_empty());
    assert_eq!(t.published, 2);
    let fanned = ev
        .iter()
        .filter(|e| matches!(&e.kind, ClassicEventKind::FannedOut { to, .. } if to.len() == 3))
        .count();
    assert_eq!(fanned, 2);
}

/// Rule: a non-durable subscriber offline at publish time never gets that
/// message (it is recorded as missed); after returning it gets new ones.
#[test]
fn offline_subscriber_misses_messages_and_gets_later_ones_after_returning() {
    let mut sim = topic_sim(&["x", "y"]);
    ok(&mut sim, online("x", false));
    ok(&mut sim, send("p", "while away"));
    let ev = sim.settle();
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        ClassicEventKind::Missed { message: 1, subscriber, reason: MissReason::OfflineAtPublish, .. }
            if &**subscriber == "x"
    )));
    ok(&mut sim, online("x", true));
    ok(&mut sim, send("p", "after return"));
    sim.settle();
    let view = sim.view();
    let x = client(&view, "x");
    assert_eq!(received_ids(x), vec![2]);
    assert_eq!(x.missed, vec![1]);
    assert_eq!(received_ids(client(&view, "y")), vec![1, 2]);
}

/// Rule: a copy on its way to a subscriber that disconnects is lost too.
#[test]
fn subscriber_going_offline_while_copy_travels_misses_it() {
    let mut sim = topic_sim(&["x"]);
    ok(&mut sim, send("p", "m"));
    sim.advance(7); // fanned out at 5, copy arrives at 10
    ok(&mut sim, online("x", false));
    ok(&mut sim, online("x", true)); // a new connection does not revive it
    let ev = sim.settle();
    assert!(ev.iter().any(|e| matches!(
        e.kind,
        ClassicEventKind::Missed {
            reason: MissReason::OfflineBeforeArrival,
            ..
        }
    )));
    let view = sim.view();
    assert_eq!(client(&view, "x").missed, vec![1]);
    assert!(client(&view, "x").received.is_empty());
}

/// Rule: the publisher gets no acknowledgement; no ack flows at all on a topic.
#[test]
fn publisher_gets_no_acknowledgement() {
    let mut sim = topic_sim(&["x", "y"]);
    let mut ev = ok(&mut sim, send("p", "fire and forget"));
    ev.extend(sim.settle());
    for e in &ev {
        if let ClassicEventKind::MessageSent(hop) = &e.kind {
            assert_ne!(hop.packet, Packet::Ack);
            assert_ne!(hop.to, Node::Client("p".into()));
        }
        assert!(!matches!(e.kind, ClassicEventKind::Acknowledged { .. }));
    }
    let view = sim.view();
    assert!(client(&view, "p").received.is_empty());
    assert_eq!(client(&view, "p").sent, vec![1]);
}

fn scenario() -> Vec<ClassicEvent> {
    let mut sim = Classic::new(7);
    let mut ev = Vec::new();
    let cmds = [
        queue("orders"),
        topic("news"),
        sender("shop", "orders"),
        sender("press", "news"),
        receiver("ann", "orders", Some(300)),
        receiver("bob", "orders", None),
        receiver("sub1", "news", Some(50)),
        receiver("sub2", "news", Some(50)),
    ];
    for c in cmds {
        ev.extend(ok(&mut sim, c));
    }
    for i in 0..6 {
        ev.extend(ok(&mut sim, send("shop", &format!("order {i}"))));
        ev.extend(ok(&mut sim, send("press", &format!("story {i}"))));
        ev.extend(sim.advance(130));
        if i == 2 {
            ev.extend(ok(&mut sim, online("bob", false)));
            ev.extend(ok(&mut sim, online("sub2", false)));
        }
        if i == 4 {
            ev.extend(ok(&mut sim, online("bob", true)));
            ev.extend(ok(&mut sim, online("sub2", true)));
        }
    }
    ev.extend(sim.settle());
    ev
}

/// Rule: the simulation is deterministic — same commands, same events.
#[test]
fn same_commands_give_identical_events() {
    let a = serde_json::to_string(&scenario()).expect("json");
    let b = serde_json::to_string(&scenario()).expect("json");
    assert_eq!(a, b);
    assert!(a.len() > 1000);
}

#[test]
fn refused_commands_carry_codes_and_change_nothing() {
    let mut sim = queue_sim(&[("a", 400)]);
    ok(&mut sim, topic("t"));
    let long = "x".repeat(MAX_NAME_CHARS + 1);
    let cases = [
        (queue("q"), ClassicError::DESTINATION_ALREADY_EXISTS),
        (topic("q"), ClassicError::DESTINATION_ALREADY_EXISTS),
        (queue(""), ClassicError::INVALID_REQUEST),
        (topic("   "), ClassicError::INVALID_REQUEST),
        (queue(&long), ClassicError::INVALID_REQUEST),
        (sender("a", "q"), ClassicError::CLIENT_ALREADY_EXISTS),
        (sender("n", "nowhere"), ClassicError::UNKNOWN_DESTINATION),
        (sender("", "q"), ClassicError::INVALID_REQUEST),
        (
            ClassicCommand::AddClient {
                name: "n".into(),
                destination: "q".into(),
                role: Role::Sender,
                processing_ms: Some(5),
            },
            ClassicError::INVALID_REQUEST,
        ),
        (
            receiver("n", "q", Some(MAX_PROCESSING_MS + 1)),
            ClassicError::INVALID_REQUEST,
        ),
        (send("ghost", "x"), ClassicError::UNKNOWN_CLIENT),
        (send("a", "x"), ClassicError::INVALID_REQUEST),
        (
            send("p", &"y".repeat(MAX_BODY_CHARS + 1)),
            ClassicError::INVALID_REQUEST,
        ),
        (online("p", false), ClassicError::INVALID_REQUEST),
        (online("a", true), ClassicError::INVALID_REQUEST),
        (online("ghost", true), ClassicError::UNKNOWN_CLIENT),
    ];
    for (cmd, code) in cases {
        let before = format!("{sim:?}");
        let err = sim.apply(cmd.clone()).expect_err("must be refused");
        assert_eq!(err.code, code, "{cmd:?}");
        assert!(!err.message.is_empty());
        assert_eq!(before, format!("{sim:?}"), "{cmd:?} changed state");
    }
    assert!(sim.apply(send("p", &"y".repeat(MAX_BODY_CHARS))).is_ok());
}

#[test]
fn commands_and_events_have_a_stable_json_shape() {
    let cmd: ClassicCommand = serde_json::from_str(
        r#"{"command":"add_client","name":"a","destination":"q","role":"receiver"}"#,
    )
    .expect("parse");
    assert_eq!(cmd, receiver("a", "q", None));
    let cmd: ClassicCommand =
        serde_json::from_str(r#"{"command":"set_online","client":"a","online":false}"#)
            .expect("parse");
    assert_eq!(cmd, online("a", false));
    assert!(serde_json::from_str::<ClassicCommand>(
        r#"{"command":"create_queue","name":"q","extra":1}"#
    )
    .is_err());

    let mut sim = queue_sim(&[]);
    let ev = ok(&mut sim, send("p", "hi"));
    let json = serde_json::to_value(&ev[0]).expect("json");
    assert_eq!(json["event"], "MessageSent");
    assert_eq!(json["time"], 0);
    assert_eq!(json["arrives_at"], 5);
    assert_eq!(json["from"]["name"], "p");
    assert_eq!(json["to"]["kind"], "broker");
    let ev = sim.advance(5);
    assert_eq!(
        ev[0].describe().as_deref(),
        Some("Queue q: message 1 waits — no receiver is online; it stays until one connects.")
    );
    let _ = serde_json::to_string(&sim.view()).expect("view json");
}

#[test]
fn huge_times_do_not_overflow() {
    let mut sim = Classic::new(u64::MAX);
    ok(&mut sim, queue("q"));
    ok(&mut sim, sender("p", "q"));
    ok(&mut sim, receiver("r", "q", Some(MAX_PROCESSING_MS)));
    ok(&mut sim, send("p", "x"));
    sim.advance(u64::MAX);
    sim.advance(u64::MAX);
    sim.settle();
    assert_eq!(sim.now(), u64::MAX);
    assert_eq!(dest(&sim.view(), "q").removed, vec![1]);
}

// -- property test ---------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Cmd(ClassicCommand),
    Advance(u64),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let dests = || prop::sample::select(vec!["q1", "q2", "t1", "t2", "nope", ""]);
    let names = || prop::sample::select(vec!["s1", "s2", "r1", "r2", "r3", "r4", "r5", "s3", "r6"]);
    prop_oneof![
        1 => dests().prop_map(|n| Op::Cmd(queue(n))),
        1 => dests().prop_map(|n| Op::Cmd(topic(n))),
        2 => (names(), dests(), any::<bool>(), prop::option::of(0u64..900)).prop_map(
            |(n, d, is_sender, ms)| Op::Cmd(ClassicCommand::AddClient {
                name: n.into(),
                destination: d.into(),
                role: if is_sender { Role::Sender } else { Role::Receiver },
                processing_ms: ms,
            })
        ),
        6 => names().prop_map(|c| Op::Cmd(send(c, "m"))),
        5 => (names(), any::<bool>()).prop_map(|(c, on)| Op::Cmd(online(c, on))),
        6 => (0u64..700).prop_map(Op::Advance),
    ]
}

#[derive(Default)]
struct TopicAudit {
    expected: BTreeSet<Name>,
    reached: BTreeSet<Name>,
    missed: BTreeSet<Name>,
}

#[derive(Default)]
struct Checker {
    queue_messages: BTreeSet<u64>,
    ever_redelivered: BTreeSet<u64>,
    topic: BTreeMap<u64, TopicAudit>,
}

impl Checker {
    fn kind_of(view: &ClassicView, d: &Name) -> DestinationKind {
        view.destinations
            .iter()
            .find(|x| &x.name == d)
            .map(|x| x.kind)
            .expect("known destination")
    }

    fn absorb(&mut self, before: &ClassicView, events: &[ClassicEvent]) {
        for e in events {
            assert!(serde_json::to_string(e).is_ok());
            let _ = e.describe();
            match &e.kind {
                ClassicEventKind::MessageSent(hop) if hop.packet == Packet::Send => {
                    match Self::kind_of(before, &hop.destination) {
                        DestinationKind::Queue => {
                            assert!(self.queue_messages.insert(hop.message))
                        }
                        DestinationKind::Topic => {
                            assert!(self
                                .topic
                                .insert(hop.message, TopicAudit::default())
                                .is_none())
                        }
                    }
                }
                ClassicEventKind::MessageSent(hop) => {
                    assert!(
                        !(hop.packet == Packet::Ack
                            && Self::kind_of(before, &hop.destination) == DestinationKind::Topic)
                    );
                }
                ClassicEventKind::Redelivering { message, .. } => {
                    self.ever_redelivered.insert(*message);
                }
                ClassicEventKind::Dispatched {
                    message,
                    redelivered,
                    ..
                } => {
                    assert_eq!(*redelivered, self.ever_redelivered.contains(message));
                }
                ClassicEventKind::FannedOut {
                    topic, message, to, ..
                } => {
                    let audit = self.topic.get_mut(message).expect("published");
                    assert!(audit.expected.is_empty(), "fanned out twice");
                    // Subscribers existing at publish time (clients never
                    // change during one step's processing).
                    audit.expected = before
                        .clients
                        .iter()
                        .filter(|c| &c.destination == topic && c.role == Role::Receiver)
                        .map(|c| c.name.clone())
                        .collect();
                    for s in to {
                        assert!(audit.expected.contains(s));
                    }
                }
                ClassicEventKind::Delivered {
                    kind: DestinationKind::Topic,
                    message,
                    to,
                    ..
                } => {
                    let audit = self.topic.get_mut(message).expect("published");
                    assert!(audit.expected.contains(to));
                    assert!(!audit.missed.contains(to));
                    assert!(audit.reached.insert(to.clone()), "copy delivered twice");
                }
                ClassicEventKind::Missed {
                    message,
                    subscriber,
                    ..
                } => {
                    let audit = self.topic.get_mut(message).expect("published");
                    assert!(audit.expected.contains(subscriber));
                    assert!(!audit.reached.contains(subscriber));
                    assert!(audit.missed.insert(subscriber.clone()), "missed twice");
                }
                _ => {}
            }
        }
    }

    fn check(&self, view: &ClassicView) {
        // Queue: a message is in exactly one place, never lost, never held
        // by two receivers at once.
        let mut places: Vec<u64> = Vec::new();
        for hop in &view.in_transit {
            if hop.packet == Packet::Send
                && Self::kind_of(view, &hop.destination) == DestinationKind::Queue
            {
                places.push(hop.message);
            }
        }
        for d in &view.destinations {
            if d.kind == DestinationKind::Topic {
                assert!(d.waiting.is_empty() && d.unacked.is_empty() && d.removed.is_empty());
                continue;
            }
            places.extend(d.waiting.iter().map(|m| m.id));
            places.extend(d.unacked.iter().map(|u| u.message.id));
            places.extend(d.removed.iter().copied());
            for u in &d.unacked {
                let holder = view
                    .clients
                    .iter()
                    .find(|c| c.name == u.receiver)
                    .expect("holder exists");
                assert!(holder.online, "an offline receiver holds a message");
                assert_eq!(holder.destination, d.name);
            }
        }
        places.sort_unstable();
        let sent: Vec<u64> = self.queue_messages.iter().copied().collect();
        assert_eq!(
            places, sent,
            "sent = in transit + waiting + unacked + removed"
        );
        for c in &view.clients {
            if c.kind == DestinationKind::Queue {
                assert!(c.inbox.is_empty(), "prefetch 1");
                if let Some(m) = c.working_on {
                    let d = view
                        .destinations
                        .iter()
                        .find(|d| d.name == c.destination)
                        .expect("d");
                    assert!(d
                        .unacked
                        .iter()
                        .any(|u| u.receiver == c.name && u.message.id == m));
                }
            }
        }
        // Topic: delivered + missed (+ copies still travelling) equals the
        // subscribers that existed at publish time, for every message.
        for (m, audit) in &self.topic {
            if audit.expected.is_empty() {
                assert!(audit.reached.is_empty() && audit.missed.is_empty());
                continue;
            }
            let travelling = view
                .in_transit
                .iter()
                .filter(|h| h.packet == Packet::Deliver && h.message == *m)
                .count();
            assert_eq!(
                audit.reached.len() + audit.missed.len() + travelling,
                audit.expected.len(),
                "topic message {m}"
            );
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_for_random_command_sequences(
        latency in 0u64..20,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let mut sim = Classic::new(latency);
        // A starting cast, so most random commands do something.
        for c in [queue("q1"), topic("t1"), sender("s1", "q1"), sender("s2", "t1"),
                  receiver("r1", "q1", Some(100)), receiver("r2", "q1", Some(300)),
                  receiver("r3", "t1", Some(50)), receiver("r4", "t1", Some(250))] {
            ok(&mut sim, c);
        }
        let mut checker = Checker::default();
        for op in ops {
            let before = sim.view();
            let events = match op {
                Op::Advance(ms) => sim.advance(ms),
                Op::Cmd(cmd) => {
                    let snapshot = format!("{sim:?}");
                    match sim.apply(cmd) {
                        Ok(ev) => ev,
                        Err(_) => {
                            assert_eq!(snapshot, format!("{sim:?}"), "refusal changed state");
                            Vec::new()
                        }
                    }
                }
            };
            for w in events.windows(2) {
                assert!(w[0].time <= w[1].time, "events out of order");
            }
            checker.absorb(&before, &events);
            checker.check(&sim.view());
        }
        let before = sim.view();
        let events = sim.settle();
        checker.absorb(&before, &events);
        let view = sim.view();
        checker.check(&view);
        assert!(view.in_transit.is_empty());
        for d in &view.destinations {
            assert!(d.unacked.is_empty(), "everything processed and acknowledged");
            if !d.waiting.is_empty() {
                assert!(!view.clients.iter().any(|c| c.destination == d.name
                    && c.role == Role::Receiver && c.online),
                    "a message waits although a receiver is online");
            }
        }
        for (m, audit) in &checker.topic {
            assert_eq!(audit.reached.len() + audit.missed.len(), audit.expected.len(), "topic message {m}");
        }
    }
}
