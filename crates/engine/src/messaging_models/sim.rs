//! The point-to-point queue and the publish/subscribe topic at work: sending,
//! dispatching to one receiver or fanning out to every subscriber, delivery
//! and acknowledgement.

use super::*;
use std::collections::{BTreeMap, VecDeque};

impl Classic {
    /// An empty broker whose every network hop takes `latency_ms`.
    pub fn new(latency_ms: u64) -> Self {
        Classic {
            now: 0,
            latency_ms,
            destinations: BTreeMap::new(),
            clients: BTreeMap::new(),
            agenda: BTreeMap::new(),
            next_seq: 0,
            next_message: 0,
            next_hop: 0,
        }
    }

    /// Current virtual time in ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Latency of each network hop in ms.
    pub fn latency_ms(&self) -> u64 {
        self.latency_ms
    }

    /// When the next scheduled thing happens, if anything is pending.
    pub fn next_event_time(&self) -> Option<u64> {
        self.agenda.keys().next().map(|&(t, _)| t)
    }

    /// Applies one command at the current time. A refused command returns an
    /// error and leaves the state exactly as it was.
    pub fn apply(&mut self, cmd: ClassicCommand) -> Result<Vec<ClassicEvent>, ClassicError> {
        let mut ev = Vec::new();
        match cmd {
            ClassicCommand::CreateQueue { name } => {
                self.create(&name, DestinationKind::Queue, &mut ev)?
            }
            ClassicCommand::CreateTopic { name } => {
                self.create(&name, DestinationKind::Topic, &mut ev)?
            }
            ClassicCommand::AddClient {
                name,
                destination,
                role,
                processing_ms,
            } => self.add_client(&name, &destination, role, processing_ms, &mut ev)?,
            ClassicCommand::Send { client, body } => self.send(&client, body, &mut ev)?,
            ClassicCommand::SetOnline { client, online } => {
                self.set_online(&client, online, &mut ev)?
            }
        }
        Ok(ev)
    }

    /// Moves virtual time forward by `ms`, running everything due on the way
    /// in `(time, sequence)` order.
    pub fn advance(&mut self, ms: u64) -> Vec<ClassicEvent> {
        let target = self.now.saturating_add(ms);
        let mut ev = Vec::new();
        loop {
            match self.agenda.keys().next() {
                Some(&(t, _)) if t <= target => {}
                _ => break,
            }
            let Some(((t, _), item)) = self.agenda.pop_first() else {
                break;
            };
            self.now = t;
            match item {
                Item::Arrive { hop, token } => self.arrive(hop, token, &mut ev),
                Item::Finish { client, hop } => self.finish(&client, hop, &mut ev),
            }
        }
        self.now = target;
        ev
    }

    /// Runs until nothing is pending (every hop arrived, every message that
    /// can be processed was), and returns what happened.
    pub fn settle(&mut self) -> Vec<ClassicEvent> {
        let mut ev = Vec::new();
        while let Some(&(t, _)) = self.agenda.keys().next_back() {
            ev.extend(self.advance(t.saturating_sub(self.now)));
        }
        ev
    }

    /// A snapshot for the UI.
    pub fn view(&self) -> ClassicView {
        let destinations = self
            .destinations
            .iter()
            .map(|(name, d)| DestinationView {
                name: name.clone(),
                kind: d.kind,
                waiting: d.waiting.iter().map(Msg::view).collect(),
                unacked: d
                    .unacked
                    .iter()
                    .map(|(r, u)| UnackedView {
                        message: u.msg.view(),
                        receiver: r.clone(),
                    })
                    .collect(),
                removed: d.removed.clone(),
                published: d.published,
            })
            .collect();
        let clients = self
            .clients
            .iter()
            .map(|(name, c)| ClientView {
                name: name.clone(),
                destination: c.destination.clone(),
                kind: c.kind,
                role: c.role,
                online: c.online,
                processing_ms: (c.role == Role::Receiver).then_some(c.processing_ms),
                sent: c.sent.clone(),
                received: c.received.clone(),
                processed: c.processed.clone(),
                missed: c.missed.clone(),
                working_on: c.working.as_ref().map(|w| w.message),
                inbox: c.inbox.iter().map(|w| w.message).collect(),
            })
            .collect();
        let in_transit = self
            .agenda
            .values()
            .filter_map(|item| match item {
                Item::Arrive { hop, .. } => Some(hop.clone()),
                Item::Finish { .. } => None,
            })
            .collect();
        ClassicView {
            now: self.now,
            latency_ms: self.latency_ms,
            destinations,
            clients,
            in_transit,
        }
    }

    // -- commands ----------------------------------------------------------

    pub(super) fn create(
        &mut self,
        name: &str,
        kind: DestinationKind,
        ev: &mut Vec<ClassicEvent>,
    ) -> Result<(), ClassicError> {
        let name = check_name(kind.noun(), name)?;
        if let Some(existing) = self.destinations.get(&name) {
            return Err(ClassicError::new(
                ClassicError::DESTINATION_ALREADY_EXISTS,
                format!("A {} named {name} already exists.", existing.kind.noun()),
            ));
        }
        self.destinations.insert(
            name.clone(),
            Destination {
                kind,
                waiting: VecDeque::new(),
                unacked: BTreeMap::new(),
                last_served: None,
                removed: Vec::new(),
                published: 0,
            },
        );
        self.emit(
            ev,
            ClassicEventKind::DestinationCreated {
                destination: name,
                kind,
            },
        );
        Ok(())
    }

    pub(super) fn add_client(
        &mut self,
        name: &str,
        destination: &str,
        role: Role,
        processing_ms: Option<u64>,
        ev: &mut Vec<ClassicEvent>,
    ) -> Result<(), ClassicError> {
        let name = check_name("client", name)?;
        if self.clients.contains_key(&name) {
            return Err(ClassicError::new(
                ClassicError::CLIENT_ALREADY_EXISTS,
                format!("A client named {name} already exists."),
            ));
        }
        let Some((dest_name, dest)) = self.destinations.get_key_value(destination) else {
            return Err(ClassicError::new(
                ClassicError::UNKNOWN_DESTINATION,
                format!("There is no queue or topic named {destination}."),
            ));
        };
        let (dest_name, kind) = (dest_name.clone(), dest.kind);
        let processing = match (role, processing_ms) {
            (Role::Sender, Some(_)) => {
                return Err(ClassicError::invalid(format!(
                    "Only a {} processes messages; a {} needs no processing time.",
                    kind.receiver_word(),
                    kind.sender_word()
                )))
            }
            (_, Some(ms)) if ms > MAX_PROCESSING_MS => {
                return Err(ClassicError::invalid(format!(
                    "Processing time can be at most {MAX_PROCESSING_MS} ms."
                )))
            }
            (_, ms) => ms.unwrap_or(DEFAULT_PROCESSING_MS),
        };
        self.clients.insert(
            name.clone(),
            Client {
                destination: dest_name.clone(),
                kind,
                role,
                processing_ms: processing,
                online: true,
                session: 0,
                sent: Vec::new(),
                received: Vec::new(),
                processed: Vec::new(),
                missed: Vec::new(),
                working: None,
                inbox: VecDeque::new(),
            },
        );
        self.emit(
            ev,
            ClassicEventKind::ClientAdded {
                client: name,
                destination: dest_name.clone(),
                kind,
                role,
                processing_ms: (role == Role::Receiver).then_some(processing),
            },
        );
        if role == Role::Receiver {
            self.dispatch(&dest_name, ev);
        }
        Ok(())
    }

    pub(super) fn client_key(&self, client: &str) -> Result<(Name, &Client), ClassicError> {
        match self.clients.get_key_value(client) {
            Some((name, c)) => Ok((name.clone(), c)),
            None => Err(ClassicError::new(
                ClassicError::UNKNOWN_CLIENT,
                format!("There is no client named {client}."),
            )),
        }
    }

    pub(super) fn send(
        &mut self,
        client: &str,
        body: String,
        ev: &mut Vec<ClassicEvent>,
    ) -> Result<(), ClassicError> {
        let (name, c) = self.client_key(client)?;
        if c.role != Role::Sender {
            return Err(ClassicError::invalid(format!(
                "{name} is a {}: only a {} can send messages.",
                c.kind.receiver_word(),
                c.kind.sender_word()
            )));
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(ClassicError::invalid(format!(
                "A message body can have at most {MAX_BODY_CHARS} characters."
            )));
        }
        let destination = c.destination.clone();
        self.next_message += 1;
        let message = self.next_message;
        if let Some(c) = self.clients.get_mut(&name) {
            c.sent.push(message);
        }
        self.send_hop(
            Outgoing {
                packet: Packet::Send,
                message,
                body: Some(Name::from(body)),
                destination: destination.clone(),
                from: Node::Client(name),
                to: Node::Broker,
                redelivered: false,
            },
            0,
            ev,
        );
        Ok(())
    }

    pub(super) fn set_online(
        &mut self,
        client: &str,
        online: bool,
        ev: &mut Vec<ClassicEvent>,
    ) -> Result<(), ClassicError> {
        let (name, c) = self.client_key(client)?;
        if c.role != Role::Receiver {
            return Err(ClassicError::invalid(format!(
                "{name} is a {}; in this lesson only a {} goes offline and comes back.",
                c.kind.sender_word(),
                c.kind.receiver_word()
            )));
        }
        if c.online == online {
            return Err(ClassicError::invalid(format!(
                "{name} is already {}.",
                if online { "online" } else { "offline" }
            )));
        }
        let (destination, kind) = (c.destination.clone(), c.kind);
        let Some(c) = self.clients.get_mut(&name) else {
            return Ok(());
        };
        c.online = online;
        if online {
            c.session += 1;
            self.emit(
                ev,
                ClassicEventKind::ClientOnline {
                    client: name,
                    destination: destination.clone(),
                    kind,
                },
            );
            self.dispatch(&destination, ev);
            return Ok(());
        }
        let mut dropped: Vec<u64> = c.working.take().into_iter().map(|w| w.message).collect();
        dropped.extend(c.inbox.drain(..).map(|w| w.message));
        self.emit(
            ev,
            ClassicEventKind::ClientOffline {
                client: name.clone(),
                destination: destination.clone(),
                kind,
                unfinished: if kind == DestinationKind::Topic {
                    dropped
                } else {
                    Vec::new()
                },
            },
        );
        if kind == DestinationKind::Queue {
            let taken = self
                .destinations
                .get_mut(&destination)
                .and_then(|d| d.unacked.remove(&name).map(|u| (d, u.msg)));
            if let Some((d, mut msg)) = taken {
                msg.redelivered = true;
                let message = msg.id;
                let pos = d.waiting.partition_point(|m| m.id < message);
                d.waiting.insert(pos, msg);
                self.emit(
                    ev,
                    ClassicEventKind::Redelivering {
                        queue: destination.clone(),
                        message,
                        from: name,
                        reason: "the receiver went offline before acknowledging it".into(),
                    },
                );
            }
            self.dispatch(&destination, ev);
        }
        Ok(())
    }

    // -- machinery -----------------------------------------------------------

    pub(super) fn emit(&self, ev: &mut Vec<ClassicEvent>, kind: ClassicEventKind) {
        ev.push(ClassicEvent {
            time: self.now,
            kind,
        });
    }

    pub(super) fn schedule(&mut self, time: u64, item: Item) {
        self.next_seq += 1;
        self.agenda.insert((time, self.next_seq), item);
    }

    /// Puts a hop on the wire: `MessageSent` now, its arrival after the
    /// page's latency. `token` is what the arrival must still match (a
    /// subscriber's session, the delivery an ack answers).
    pub(super) fn send_hop(
        &mut self,
        out: Outgoing,
        token: u64,
        ev: &mut Vec<ClassicEvent>,
    ) -> u64 {
        let Outgoing {
            packet,
            message,
            body,
            destination,
            from,
            to,
            redelivered,
        } = out;
        self.next_hop += 1;
        let hop = Hop {
            hop: self.next_hop,
            packet,
            message,
            body,
            destination,
            from,
            to,
            sent_at: self.now,
            arrives_at: self.now.saturating_add(self.latency_ms),
            redelivered,
        };
        self.emit(ev, ClassicEventKind::MessageSent(hop.clone()));
        self.schedule(hop.arrives_at, Item::Arrive { hop, token });
        self.next_hop
    }

    /// Receivers of `destination`, in name order.
    pub(super) fn receivers<'a>(
        &'a self,
        destination: &'a Name,
    ) -> impl Iterator<Item = (&'a Name, &'a Client)> {
        self.clients
            .iter()
            .filter(move |(_, c)| c.role == Role::Receiver && &c.destination == destination)
    }

    /// Hands waiting queue messages to free online receivers, round robin.
    pub(super) fn dispatch(&mut self, queue: &Name, ev: &mut Vec<ClassicEvent>) {
        loop {
            let Some(d) = self.destinations.get(queue) else {
                return;
            };
            if d.kind != DestinationKind::Queue || d.waiting.is_empty() {
                return;
            }
            let free: Vec<&Name> = self
                .receivers(queue)
                .filter(|(n, c)| c.online && !d.unacked.contains_key(*n))
                .map(|(n, _)| n)
                .collect();
            let after_last = free
                .iter()
                .find(|n| d.last_served.as_ref().is_none_or(|l| **n > l));
            let Some(receiver) = after_last.or(free.first()).map(|n| (*n).clone()) else {
                return;
            };
            let Some(d) = self.destinations.get_mut(queue) else {
                return;
            };
            let Some(msg) = d.waiting.pop_front() else {
                return;
            };
            d.last_served = Some(receiver.clone());
            let (message, body, redelivered) = (msg.id, msg.body.clone(), msg.redelivered);
            self.emit(
                ev,
                ClassicEventKind::Dispatched {
                    queue: queue.clone(),
                    message,
                    to: receiver.clone(),
                    redelivered,
                },
            );
            let hop = self.send_hop(
                Outgoing {
                    packet: Packet::Deliver,
                    message,
                    body: Some(body),
                    destination: queue.clone(),
                    from: Node::Broker,
                    to: Node::Client(receiver.clone()),
                    redelivered,
                },
                0,
                ev,
            );
            if let Some(d) = self.destinations.get_mut(queue) {
                d.unacked.insert(receiver, Unacked { msg, hop });
            }
        }
    }

    pub(super) fn arrive(&mut self, hop: Hop, token: u64, ev: &mut Vec<ClassicEvent>) {
        let Some(kind) = self.destinations.get(&hop.destination).map(|d| d.kind) else {
            return;
        };
        match (hop.packet, kind) {
            (Packet::Send, DestinationKind::Queue) => self.enqueue(hop, ev),
            (Packet::Send, DestinationKind::Topic) => self.fan_out(hop, ev),
            (Packet::Deliver, _) => self.deliver(hop, kind, token, ev),
            (Packet::Ack, _) => self.acknowledge(hop, token, ev),
        }
    }

    pub(super) fn enqueue(&mut self, hop: Hop, ev: &mut Vec<ClassicEvent>) {
        let queue = hop.destination.clone();
        let sender = match &hop.from {
            Node::Client(n) => n.clone(),
            Node::Broker => return,
        };
        let receivers_online = self.receivers(&queue).filter(|(_, c)| c.online).count();
        let Some(d) = self.destinations.get_mut(&queue) else {
            return;
        };
        d.waiting.push_back(Msg {
            id: hop.message,
            sender,
            body: hop.body.clone().unwrap_or_else(|| Name::from("")),
            redelivered: false,
        });
        let waiting = d.waiting.len();
        self.emit(
            ev,
            ClassicEventKind::Enqueued {
                hop: hop.hop,
                queue: queue.clone(),
                message: hop.message,
                waiting,
                receivers_online,
            },
        );
        self.dispatch(&queue, ev);
    }

    pub(super) fn fan_out(&mut self, hop: Hop, ev: &mut Vec<ClassicEvent>) {
        let topic = hop.destination.clone();
        let (online, offline): (Vec<_>, Vec<_>) = self
            .receivers(&topic)
            .map(|(n, c)| (n.clone(), c.online, c.session))
            .partition(|(_, on, _)| *on);
        if let Some(d) = self.destinations.get_mut(&topic) {
            d.published += 1;
        }
        self.emit(
            ev,
            ClassicEventKind::FannedOut {
                hop: hop.hop,
                topic: topic.clone(),
                message: hop.message,
                to: online.iter().map(|(n, _, _)| n.clone()).collect(),
            },
        );
        for (subscriber, _, _) in offline {
            self.miss(
                &topic,
                hop.message,
                subscriber,
                MissReason::OfflineAtPublish,
                ev,
            );
        }
        for (subscriber, _, session) in online {
            self.send_hop(
                Outgoing {
                    packet: Packet::Deliver,
                    message: hop.message,
                    body: hop.body.clone(),
                    destination: topic.clone(),
                    from: Node::Broker,
                    to: Node::Client(subscriber),
                    redelivered: false,
                },
                session,
                ev,
            );
        }
    }

    pub(super) fn miss(
        &mut self,
        topic: &Name,
        message: u64,
        subscriber: Name,
        reason: MissReason,
        ev: &mut Vec<ClassicEvent>,
    ) {
        if let Some(c) = self.clients.get_mut(&subscriber) {
            c.missed.push(message);
        }
        self.emit(
            ev,
            ClassicEventKind::Missed {
                topic: topic.clone(),
                message,
                subscriber,
                reason,
            },
        );
    }

    pub(super) fn deliver(
        &mut self,
        hop: Hop,
        kind: DestinationKind,
        token: u64,
        ev: &mut Vec<ClassicEvent>,
    ) {
        let Node::Client(to) = hop.to.clone() else {
            return;
        };
        let Some(c) = self.clients.get(&to) else {
            return;
        };
        let current = match kind {
            DestinationKind::Queue => {
                c.online
                    && self
                        .destinations
                        .get(&hop.destination)
                        .and_then(|d| d.unacked.get(&to))
                        .is_some_and(|u| u.hop == hop.hop)
            }
            DestinationKind::Topic => c.online && c.session == token,
        };
        if !current {
            match kind {
                DestinationKind::Queue => self.emit(
                    ev,
                    ClassicEventKind::Discarded {
                        hop: hop.hop,
                        packet: hop.packet,
                        queue: hop.destination.clone(),
                        message: hop.message,
                        client: to,
                    },
                ),
                DestinationKind::Topic => self.miss(
                    &hop.destination,
                    hop.message,
                    to,
                    MissReason::OfflineBeforeArrival,
                    ev,
                ),
            }
            return;
        }
        let body = hop.body.clone().unwrap_or_else(|| Name::from(""));
        let now = self.now;
        if let Some(c) = self.clients.get_mut(&to) {
            c.received.push(ReceivedView {
                id: hop.message,
                body,
                redelivered: hop.redelivered,
                at: now,
            });
            c.inbox.push_back(Work {
                message: hop.message,
                hop: hop.hop,
            });
        }
        self.emit(
            ev,
            ClassicEventKind::Delivered {
                hop: hop.hop,
                destination: hop.destination.clone(),
                kind,
                message: hop.message,
                to: to.clone(),
                redelivered: hop.redelivered,
            },
        );
        self.start_next(&to);
    }

    /// If the client is idle, it starts on the next message of its inbox.
    pub(super) fn start_next(&mut self, client: &Name) {
        let Some(c) = self.clients.get_mut(client) else {
            return;
        };
        if c.working.is_some() {
            return;
        }
        let Some(work) = c.inbox.pop_front() else {
            return;
        };
        let hop = work.hop;
        let done = self.now.saturating_add(c.processing_ms);
        c.working = Some(work);
        self.schedule(
            done,
            Item::Finish {
                client: client.clone(),
                hop,
            },
        );
    }

    pub(super) fn finish(&mut self, client: &Name, hop: u64, ev: &mut Vec<ClassicEvent>) {
        let Some(c) = self.clients.get_mut(client) else {
            return;
        };
        if !c.online || c.working.as_ref().is_none_or(|w| w.hop != hop) {
            return; // it went offline meanwhile: this work was abandoned
        }
        let Some(work) = c.working.take() else {
            return;
        };
        c.processed.push(work.message);
        let (destination, kind) = (c.destination.clone(), c.kind);
        self.emit(
            ev,
            ClassicEventKind::Processed {
                destination: destination.clone(),
                kind,
                message: work.message,
                client: client.clone(),
            },
        );
        if kind == DestinationKind::Queue {
            self.send_hop(
                Outgoing {
                    packet: Packet::Ack,
                    message: work.message,
                    body: None,
                    destination: destination.clone(),
                    from: Node::Client(client.clone()),
                    to: Node::Broker,
                    redelivered: false,
                },
                work.hop,
                ev,
            );
        }
        self.start_next(client);
    }

    pub(super) fn acknowledge(&mut self, hop: Hop, delivery: u64, ev: &mut Vec<ClassicEvent>) {
        let Node::Client(by) = hop.from.clone() else {
            return;
        };
        let queue = hop.destination.clone();
        let Some(d) = self.destinations.get_mut(&queue) else {
            return;
        };
        if d.unacked.get(&by).is_none_or(|u| u.hop != delivery) {
            self.emit(
                ev,
                ClassicEventKind::Discarded {
                    hop: hop.hop,
                    packet: hop.packet,
                    queue,
                    message: hop.message,
                    client: by,
                },
            );
            return;
        }
        d.unacked.remove(&by);
        d.removed.push(hop.message);
        self.emit(
            ev,
            ClassicEventKind::Acknowledged {
                hop: hop.hop,
                queue: queue.clone(),
                message: hop.message,
                by,
            },
        );
        self.emit(
            ev,
            ClassicEventKind::Removed {
                queue: queue.clone(),
                message: hop.message,
            },
        );
        self.dispatch(&queue, ev);
    }
}
