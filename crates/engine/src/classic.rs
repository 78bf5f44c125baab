//! A minimal *classic* message broker, to contrast with Kafka in the first
//! lesson. One broker holds named destinations of the two classic kinds:
//!
//! - a **point-to-point queue** (like a JMS queue): the broker stores each
//!   message and hands it to exactly ONE online receiver (competing consumers,
//!   round robin in name order, at most one unacknowledged message per
//!   receiver). The message leaves the queue only when the receiver's
//!   acknowledgement reaches the broker; if the receiver goes offline first,
//!   the message goes back into the queue and is redelivered, flagged
//!   `redelivered` (JMS's `JMSRedelivered`). A queue never loses a message and
//!   has no time dependency: a receiver that connects later still gets it.
//! - a **publish-subscribe topic** with non-durable subscriptions: the broker
//!   copies each message to every subscriber online at the moment it arrives
//!   (its publish time) and keeps nothing. A subscriber offline at that moment
//!   misses the message for good (time dependency), and no acknowledgement
//!   flows back to anyone.
//!
//! Time is virtual (milliseconds) and the simulation is deterministic: work
//! happens in `(time, sequence number)` order and all collections iterate in
//! a fixed order. Every network hop (sender to broker, broker to receiver,
//! receiver to broker) takes `latency_ms`. Nothing here panics on bad input:
//! a refused command returns a [`ClassicError`] and changes nothing.
//!
//! This module is self-contained (std + serde only).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;

/// Default one-way network latency of every hop, in ms.
pub const DEFAULT_LATENCY_MS: u64 = 5;
/// Default time a receiver or subscriber needs to process one message, in ms.
pub const DEFAULT_PROCESSING_MS: u64 = 400;
/// Longest processing time a client may be given, in ms (one hour).
pub const MAX_PROCESSING_MS: u64 = 3_600_000;
/// Longest destination or client name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 1000;

/// A shared, cheaply cloned name.
pub type Name = Arc<str>;

/// Which of the two classic messaging models a destination follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// Point-to-point: each message goes to exactly one receiver.
    Queue,
    /// Publish-subscribe: each message is copied to every online subscriber.
    Topic,
}

impl DestinationKind {
    /// "queue" or "topic".
    pub fn noun(self) -> &'static str {
        match self {
            DestinationKind::Queue => "queue",
            DestinationKind::Topic => "topic",
        }
    }

    /// What a sending client is called here: "sender" or "publisher".
    pub fn sender_word(self) -> &'static str {
        match self {
            DestinationKind::Queue => "sender",
            DestinationKind::Topic => "publisher",
        }
    }

    /// What a receiving client is called here: "receiver" or "subscriber".
    pub fn receiver_word(self) -> &'static str {
        match self {
            DestinationKind::Queue => "receiver",
            DestinationKind::Topic => "subscriber",
        }
    }
}

/// What a client does with its destination. On a topic a sender is a
/// publisher and a receiver is a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sends (publishes) messages to the destination.
    Sender,
    /// Receives (subscribes to) messages from the destination.
    Receiver,
}

/// A command from the UI or a script. Commands act at the current virtual time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClassicCommand {
    /// Create a point-to-point queue.
    CreateQueue {
        /// Unique destination name.
        name: String,
    },
    /// Create a publish-subscribe topic (non-durable subscriptions).
    CreateTopic {
        /// Unique destination name.
        name: String,
    },
    /// Connect a new client to an existing destination. Clients start online.
    AddClient {
        /// Unique client name.
        name: String,
        /// The queue or topic this client uses.
        destination: String,
        /// Sender (publisher) or receiver (subscriber).
        role: Role,
        /// Receivers only: ms to process one message (default 400).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        processing_ms: Option<u64>,
    },
    /// A sender sends one message to its destination.
    Send {
        /// The sending client.
        client: String,
        /// Message text.
        body: String,
    },
    /// A receiver (subscriber) disconnects or reconnects.
    SetOnline {
        /// The receiving client.
        client: String,
        /// `false` to go offline, `true` to come back.
        online: bool,
    },
}

/// A refused command: a Kafka-style code plus a sentence for the student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassicError {
    /// One of the `ClassicError::*` code constants, e.g. `UNKNOWN_CLIENT`.
    pub code: &'static str,
    /// What went wrong, in plain words.
    pub message: String,
}

impl ClassicError {
    /// No destination has that name.
    pub const UNKNOWN_DESTINATION: &'static str = "UNKNOWN_DESTINATION";
    /// A queue or topic with that name already exists.
    pub const DESTINATION_ALREADY_EXISTS: &'static str = "DESTINATION_ALREADY_EXISTS";
    /// No client has that name.
    pub const UNKNOWN_CLIENT: &'static str = "UNKNOWN_CLIENT";
    /// A client with that name already exists.
    pub const CLIENT_ALREADY_EXISTS: &'static str = "CLIENT_ALREADY_EXISTS";
    /// The command is malformed or not allowed for this client.
    pub const INVALID_REQUEST: &'static str = "INVALID_REQUEST";

    /// Builds an error from a code constant and a sentence.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ClassicError {
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        ClassicError::new(Self::INVALID_REQUEST, message)
    }
}

impl fmt::Display for ClassicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClassicError {}

/// A node a message dot travels between: the broker or a named client.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Node {
    /// The single broker holding all destinations.
    Broker,
    /// A sender or receiver, by name.
    Client(Name),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Broker => f.write_str("the broker"),
            Node::Client(name) => f.write_str(name),
        }
    }
}

/// What a hop on the network carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Packet {
    /// A new message from a sender to the broker.
    Send,
    /// A message (or a topic copy) from the broker to a receiver.
    Deliver,
    /// A receiver's acknowledgement back to the broker (queues only).
    Ack,
}

/// One message travelling over the network: enough to animate a dot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// Unique id of this hop.
    pub hop: u64,
    /// What it carries.
    pub packet: Packet,
    /// The message it is about.
    pub message: u64,
    /// The message text (absent on acknowledgements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Name>,
    /// The queue or topic the message belongs to.
    pub destination: Name,
    /// Where the dot starts.
    pub from: Node,
    /// Where the dot ends.
    pub to: Node,
    /// When it left.
    pub sent_at: u64,
    /// When it arrives.
    pub arrives_at: u64,
    /// Deliveries only: the queue is delivering this message again.
    #[serde(default)]
    pub redelivered: bool,
}

/// Why a subscriber did not get a topic message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissReason {
    /// It was offline when the message was published.
    OfflineAtPublish,
    /// It went offline while its copy was on the way.
    OfflineBeforeArrival,
}

/// Something that happened at a moment of virtual time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicEvent {
    /// Virtual time in ms.
    pub time: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: ClassicEventKind,
}

impl ClassicEvent {
    /// One plain sentence for the event log; `None` for pure animation.
    pub fn describe(&self) -> Option<String> {
        self.kind.describe()
    }
}

/// The kinds of event, in the past tense (or the present for hand-overs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum ClassicEventKind {
    /// A queue or topic was created.
    DestinationCreated {
        /// Its name.
        destination: Name,
        /// Queue or topic.
        kind: DestinationKind,
    },
    /// A client connected to a destination (online).
    ClientAdded {
        /// The client.
        client: Name,
        /// Its destination.
        destination: Name,
        /// Queue or topic.
        kind: DestinationKind,
        /// Sender or receiver.
        role: Role,
        /// Receivers only: ms per message.
        processing_ms: Option<u64>,
    },
    /// A receiver or subscriber came back online.
    ClientOnline {
        /// The client.
        client: Name,
        /// Its destination.
        destination: Name,
        /// Queue or topic.
        kind: DestinationKind,
    },
    /// A receiver or subscriber went offline.
    ClientOffline {
        /// The client.
        client: Name,
        /// Its destination.
        destination: Name,
        /// Queue or topic.
        kind: DestinationKind,
        /// Topic copies it had received but not finished: gone for good.
        unfinished: Vec<u64>,
    },
    /// A dot left a node (see [`Hop`]).
    MessageSent(Hop),
    /// A queue stored a message that reached the broker.
    Enqueued {
        /// The hop that brought it.
        hop: u64,
        /// The queue.
        queue: Name,
        /// The message.
        message: u64,
        /// Messages waiting in the queue, this one included.
        waiting: usize,
        /// Receivers of the queue online right now.
        receivers_online: usize,
    },
    /// The queue handed a message to one receiver (round robin).
    Dispatched {
        /// The queue.
        queue: Name,
        /// The message.
        message: u64,
        /// The chosen receiver.
        to: Name,
        /// Whether this is a second (or later) delivery.
        redelivered: bool,
    },
    /// A message (or topic copy) reached a receiver.
    Delivered {
        /// The hop that brought it.
        hop: u64,
        /// Queue or topic name.
        destination: Name,
        /// Queue or topic.
        kind: DestinationKind,
        /// The message.
        message: u64,
        /// The receiver or subscriber.
        to: Name,
        /// Whether the queue had delivered it before.
        redelivered: bool,
    },
    /// A receiver or subscriber finished processing a message.
    Processed {
        /// Queue or topic name.
        destination: Name,
        /// Queue or topic.
        kind: DestinationKind,
        /// The message.
        message: u64,
        /// Who processed it.
        client: Name,
    },
    /// A receiver's acknowledgement reached the queue.
    Acknowledged {
        /// The ack hop.
        hop: u64,
        /// The queue.
        queue: Name,
        /// The message.
        message: u64,
        /// The receiver that acknowledged.
        by: Name,
    },
    /// The queue deleted an acknowledged message.
    Removed {
        /// The queue.
        queue: Name,
        /// The message.
        message: u64,
    },
    /// The queue took an unacknowledged message back to deliver it again.
    Redelivering {
        /// The queue.
        queue: Name,
        /// The message.
        message: u64,
        /// The receiver that had it.
        from: Name,
        /// Why, in plain words.
        reason: String,
    },
    /// A topic copied a message to every online subscriber and kept nothing.
    FannedOut {
        /// The hop that brought the message to the broker.
        hop: u64,
        /// The topic.
        topic: Name,
        /// The message.
        message: u64,
        /// Subscribers that get a copy (may be empty).
        to: Vec<Name>,
    },
    /// A subscriber will never get a topic message.
    Missed {
        /// The topic.
        topic: Name,
        /// The message.
        message: u64,
        /// The subscriber.
        subscriber: Name,
        /// Why.
        reason: MissReason,
    },
    /// A stale hop arrived and was thrown away (a delivery to a receiver that
    /// went offline, or an acknowledgement that came too late).
    Discarded {
        /// The hop.
        hop: u64,
        /// What it carried.
        packet: Packet,
        /// The queue.
        queue: Name,
        /// The message.
        message: u64,
        /// The receiver involved.
        client: Name,
    },
}

fn id_list(ids: &[u64]) -> String {
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    ids.join(", ")
}

fn name_list(names: &[Name]) -> String {
    let names: Vec<&str> = names.iter().map(|n| &**n).collect();
    names.join(", ")
}

impl ClassicEventKind {
    /// One plain sentence for the event log; `None` for hops that are only
    /// animated (deliveries and acknowledgements are logged on arrival).
    pub fn describe(&self) -> Option<String> {
        use ClassicEventKind::*;
        Some(match self {
            DestinationCreated { destination, kind } => match kind {
                DestinationKind::Queue => format!(
                    "Queue {destination} created: each message sent to it will go to exactly one receiver."
                ),
                DestinationKind::Topic => format!(
                    "Topic {destination} created: each message published to it will be copied to every subscriber online at that moment."
                ),
            },
            ClientAdded {
                client,
                destination,
                kind,
                role,
                processing_ms,
            } => match role {
                Role::Sender => format!(
                    "{client} connected as a {} to {} {destination}.",
                    kind.sender_word(),
                    kind.noun()
                ),
                Role::Receiver => format!(
                    "{client} connected as a {} to {} {destination}; it needs {} ms per message.",
                    kind.receiver_word(),
                    kind.noun(),
                    processing_ms.unwrap_or(DEFAULT_PROCESSING_MS)
                ),
            },
            ClientOnline {
                client,
                destination,
                kind,
            } => match kind {
                DestinationKind::Queue => format!(
                    "Receiver {client} is back online on queue {destination}; messages that waited can now reach it."
                ),
                DestinationKind::Topic => format!(
                    "Subscriber {client} is back online on topic {destination}; it will get only messages published from now on."
                ),
            },
            ClientOffline {
                client,
                destination,
                kind,
                unfinished,
            } => match kind {
                DestinationKind::Queue => {
                    format!("Receiver {client} went offline from queue {destination}.")
                }
                DestinationKind::Topic if unfinished.is_empty() => format!(
                    "Subscriber {client} went offline from topic {destination}; it will miss everything published while it is away."
                ),
                DestinationKind::Topic => format!(
                    "Subscriber {client} went offline from topic {destination} before finishing message(s) {}; nobody will send them again.",
                    id_list(unfinished)
                ),
            },
            MessageSent(hop) => match hop.packet {
                Packet::Send => format!(
                    "{} sent message {} to {}.",
                    hop.from, hop.message, hop.destination
                ),
                Packet::Deliver | Packet::Ack => return None,
            },
            Enqueued {
                queue,
                message,
                waiting,
                receivers_online,
                ..
            } => {
                if *receivers_online == 0 {
                    format!(
                        "Queue {queue}: message {message} waits — no receiver is online; it stays until one connects."
                    )
                } else {
                    format!(
                        "Queue {queue} stored message {message}; it is number {waiting} in line for a free receiver."
                    )
                }
            }
            Dispatched {
                queue,
                message,
                to,
                redelivered,
            } => {
                if *redelivered {
                    format!(
                        "Queue {queue} hands message {message} to receiver {to} again, marked as redelivered."
                    )
                } else {
                    format!(
                        "Queue {queue} hands message {message} to {to}, the next free receiver in turn; no other receiver gets it."
                    )
                }
            }
            Delivered {
                destination,
                kind,
                message,
                to,
                redelivered,
                ..
            } => match kind {
                DestinationKind::Queue => format!(
                    "Receiver {to} got message {message}{} from queue {destination} and starts processing it.",
                    if *redelivered { " (redelivered)" } else { "" }
                ),
                DestinationKind::Topic => {
                    format!("Subscriber {to} got its own copy of message {message} from topic {destination}.")
                }
            },
            Processed {
                destination,
                kind,
                message,
                client,
            } => match kind {
                DestinationKind::Queue => format!(
                    "Receiver {client} finished message {message} and sends an acknowledgement to queue {destination}."
                ),
                DestinationKind::Topic => format!(
                    "Subscriber {client} finished message {message} from topic {destination}; no acknowledgement goes back."
                ),
            },
            Acknowledged {
                queue, message, by, ..
            } => format!("Queue {queue} got {by}'s acknowledgement for message {message}."),
            Removed { queue, message } => format!(
                "Queue {queue} deleted message {message}: it was processed and acknowledged, so its job is done."
            ),
            Redelivering {
                queue,
                message,
                from,
                reason,
            } => format!(
                "Queue {queue} takes message {message} back from {from} ({reason}); it will be delivered again."
            ),
            FannedOut {
                topic, message, to, ..
            } => {
                if to.is_empty() {
                    format!(
                        "Topic {topic}: message {message} arrived but no subscriber is online, so nobody gets it and it is gone."
                    )
                } else {
                    format!(
                        "Topic {topic} copies message {message} to {} online subscriber(s) ({}) and keeps nothing.",
                        to.len(),
                        name_list(to)
                    )
                }
            }
            Missed {
                topic,
                message,
                subscriber,
                reason,
            } => match reason {
                MissReason::OfflineAtPublish => format!(
                    "Subscriber {subscriber} was offline when message {message} was published on topic {topic}: it will never get it."
                ),
                MissReason::OfflineBeforeArrival => format!(
                    "Subscriber {subscriber} went offline before its copy of message {message} from topic {topic} arrived: that copy is lost."
                ),
            },
            Discarded {
                packet,
                queue,
                message,
                client,
                ..
            } => match packet {
                Packet::Ack => format!(
                    "{client}'s acknowledgement for message {message} came too late: queue {queue} had already taken the message back, so it may be processed twice."
                ),
                Packet::Send | Packet::Deliver => format!(
                    "Message {message} reached {client} after it had gone offline and was thrown away; queue {queue} still has it."
                ),
            },
        })
    }
}

// ---------------------------------------------------------------------------
// View
// ---------------------------------------------------------------------------

/// Everything the UI draws, at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicView {
    /// Current virtual time in ms.
    pub now: u64,
    /// Latency of each hop in ms.
    pub latency_ms: u64,
    /// Destinations in name order.
    pub destinations: Vec<DestinationView>,
    /// Clients in name order.
    pub clients: Vec<ClientView>,
    /// Hops on the wire, earliest arrival first.
    pub in_transit: Vec<Hop>,
}

/// A message stored by a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessageView {
    /// Message id.
    pub id: u64,
    /// Message text.
    pub body: Name,
    /// Who sent it.
    pub sender: Name,
    /// Whether it was taken back from a receiver at least once.
    pub redelivered: bool,
}

/// A queue message handed to a receiver and not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnackedView {
    /// The message (still stored by the queue).
    pub message: StoredMessageView,
    /// The only receiver that holds it.
    pub receiver: Name,
}

/// One queue or topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationView {
    /// Its name.
    pub name: Name,
    /// Queue or topic.
    pub kind: DestinationKind,
    /// Queue: messages waiting for a receiver, in delivery order. Topic: always empty.
    pub waiting: Vec<StoredMessageView>,
    /// Queue: messages delivered but not yet acknowledged. Topic: always empty.
    pub unacked: Vec<UnackedView>,
    /// Queue: ids of messages acknowledged and deleted, in order.
    pub removed: Vec<u64>,
    /// Topic: how many messages were fanned out (the broker kept none of them).
    pub published: u64,
}

/// A message as a receiver got it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedView {
    /// Message id.
    pub id: u64,
    /// Message text.
    pub body: Name,
    /// Whether the queue had delivered it before.
    pub redelivered: bool,
    /// When it arrived.
    pub at: u64,
}

/// One client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    /// Its name.
    pub name: Name,
    /// Its destination.
    pub destination: Name,
    /// Queue or topic.
    pub kind: DestinationKind,
    /// Sender or receiver.
    pub role: Role,
    /// Connected or not (senders are always online).
    pub online: bool,
    /// Receivers only: ms per message.
    pub processing_ms: Option<u64>,
    /// Senders: ids of messages sent.
    pub sent: Vec<u64>,
    /// Receivers: every message received, in order (a redelivery appears again).
    pub received: Vec<ReceivedView>,
    /// Receivers: ids of messages fully processed, in order.
    pub processed: Vec<u64>,
    /// Subscribers: ids of topic messages it never got.
    pub missed: Vec<u64>,
    /// The message it is processing right now.
    pub working_on: Option<u64>,
    /// Topic copies received and waiting to be processed.
    pub inbox: Vec<u64>,
}

// ---------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Msg {
    id: u64,
    sender: Name,
    body: Name,
    redelivered: bool,
}

impl Msg {
    fn view(&self) -> StoredMessageView {
        StoredMessageView {
            id: self.id,
            body: self.body.clone(),
            sender: self.sender.clone(),
            redelivered: self.redelivered,
        }
    }
}

#[derive(Debug, Clone)]
struct Unacked {
    msg: Msg,
    /// The delivery hop: only an ack for this exact delivery counts.
    hop: u64,
}

#[derive(Debug, Clone)]
struct Destination {
    kind: DestinationKind,
    waiting: VecDeque<Msg>,
    unacked: BTreeMap<Name, Unacked>,
    last_served: Option<Name>,
    removed: Vec<u64>,
    published: u64,
}

#[derive(Debug, Clone)]
struct Work {
    message: u64,
    hop: u64,
}

#[derive(Debug, Clone)]
struct Client {
    destination: Name,
    kind: DestinationKind,
    role: Role,
    processing_ms: u64,
    online: bool,
    /// Incremented on every reconnect; topic copies belong to one session.
    session: u64,
    sent: Vec<u64>,
    received: Vec<ReceivedView>,
    processed: Vec<u64>,
    missed: Vec<u64>,
    working: Option<Work>,
    inbox: VecDeque<Work>,
}

#[derive(Debug, Clone)]
enum Item {
    /// A hop reaches its `to` node. `token` is the receiver session for topic
    /// copies and the delivery hop id for acknowledgements.
    Arrive { hop: Hop, token: u64 },
    /// A client finishes processing the delivery `hop`.
    Finish { client: Name, hop: u64 },
}

/// The classic broker simulator: one broker, its queues and topics, and the
/// clients around it.
#[derive(Debug, Clone)]
pub struct Classic {
    now: u64,
    latency_ms: u64,
    destinations: BTreeMap<Name, Destination>,
    clients: BTreeMap<Name, Client>,
    agenda: BTreeMap<(u64, u64), Item>,
    next_seq: u64,
    next_message: u64,
    next_hop: u64,
}

impl Default for Classic {
    fn default() -> Self {
        Classic::new(DEFAULT_LATENCY_MS)
    }
}

fn check_name(what: &str, name: &str) -> Result<Name, ClassicError> {
    if name.trim().is_empty() {
        return Err(ClassicError::invalid(format!(
            "A {what} name cannot be empty."
        )));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ClassicError::invalid(format!(
            "A {what} name can have at most {MAX_NAME_CHARS} characters."
        )));
    }
    Ok(Name::from(name))
}

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

    fn create(
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

    fn add_client(
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

    fn client_key(&self, client: &str) -> Result<(Name, &Client), ClassicError> {
        match self.clients.get_key_value(client) {
            Some((name, c)) => Ok((name.clone(), c)),
            None => Err(ClassicError::new(
                ClassicError::UNKNOWN_CLIENT,
                format!("There is no client named {client}."),
            )),
        }
    }

    fn send(
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
            Packet::Send,
            message,
            Some(Name::from(body)),
            &destination,
            Node::Client(name),
            Node::Broker,
            false,
            0,
            ev,
        );
        Ok(())
    }

    fn set_online(
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

    fn emit(&self, ev: &mut Vec<ClassicEvent>, kind: ClassicEventKind) {
        ev.push(ClassicEvent {
            time: self.now,
            kind,
        });
    }

    fn schedule(&mut self, time: u64, item: Item) {
        self.next_seq += 1;
        self.agenda.insert((time, self.next_seq), item);
    }

    #[allow(clippy::too_many_arguments)]
    fn send_hop(
        &mut self,
        packet: Packet,
        message: u64,
        body: Option<Name>,
        destination: &Name,
        from: Node,
        to: Node,
        redelivered: bool,
        token: u64,
        ev: &mut Vec<ClassicEvent>,
    ) -> u64 {
        self.next_hop += 1;
        let hop = Hop {
            hop: self.next_hop,
            packet,
            message,
            body,
            destination: destination.clone(),
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
    fn receivers<'a>(
        &'a self,
        destination: &'a Name,
    ) -> impl Iterator<Item = (&'a Name, &'a Client)> {
        self.clients
            .iter()
            .filter(move |(_, c)| c.role == Role::Receiver && &c.destination == destination)
    }

    /// Hands waiting queue messages to free online receivers, round robin.
    fn dispatch(&mut self, queue: &Name, ev: &mut Vec<ClassicEvent>) {
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
                Packet::Deliver,
                message,
                Some(body),
                queue,
                Node::Broker,
                Node::Client(receiver.clone()),
                redelivered,
                0,
                ev,
            );
            if let Some(d) = self.destinations.get_mut(queue) {
                d.unacked.insert(receiver, Unacked { msg, hop });
            }
        }
    }

    fn arrive(&mut self, hop: Hop, token: u64, ev: &mut Vec<ClassicEvent>) {
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

    fn enqueue(&mut self, hop: Hop, ev: &mut Vec<ClassicEvent>) {
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

    fn fan_out(&mut self, hop: Hop, ev: &mut Vec<ClassicEvent>) {
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
                Packet::Deliver,
                hop.message,
                hop.body.clone(),
                &topic,
                Node::Broker,
                Node::Client(subscriber),
                false,
                session,
                ev,
            );
        }
    }

    fn miss(
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

    fn deliver(&mut self, hop: Hop, kind: DestinationKind, token: u64, ev: &mut Vec<ClassicEvent>) {
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
    fn start_next(&mut self, client: &Name) {
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

    fn finish(&mut self, client: &Name, hop: u64, ev: &mut Vec<ClassicEvent>) {
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
                Packet::Ack,
                work.message,
                None,
                &destination,
                Node::Client(client.clone()),
                Node::Broker,
                false,
                work.hop,
                ev,
            );
        }
        self.start_next(client);
    }

    fn acknowledge(&mut self, hop: Hop, delivery: u64, ev: &mut Vec<ClassicEvent>) {
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

#[cfg(test)]
mod tests {
    use super::*;
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
        let names =
            || prop::sample::select(vec!["s1", "s2", "r1", "r2", "r3", "r4", "r5", "s3", "r6"]);
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
                                && Self::kind_of(before, &hop.destination)
                                    == DestinationKind::Topic)
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
}

/// The Messaging models scene (the seed's first diagram and lesson 1): a
/// queue `jobs` with a Sender and Receivers 1 and 2, and a topic `news` with
/// a Publisher and Subscribers 1 to 3, on one classic broker.
pub mod scene {
    use super::{Classic, ClassicCommand, Role};

    /// Virtual ms per hop: slower than a real network, so a room can follow
    /// each message; both sides share it, which is all the comparison needs.
    pub const LATENCY_MS: u64 = 700;
    pub const RECEIVER_MS: u64 = 1_500;
    pub const SUBSCRIBER_MS: u64 = 600;
    pub const QUEUE: &str = "jobs";
    pub const TOPIC: &str = "news";
    pub const RECEIVERS: [&str; 2] = ["Receiver 1", "Receiver 2"];
    pub const SUBSCRIBERS: [&str; 3] = ["Subscriber 1", "Subscriber 2", "Subscriber 3"];

    /// The scene at time zero.
    pub fn build() -> Classic {
        let mut c = Classic::new(LATENCY_MS);
        let mut run = |command| {
            c.apply(command).expect("the scene's commands are valid");
        };
        run(ClassicCommand::CreateQueue { name: QUEUE.into() });
        run(ClassicCommand::CreateTopic { name: TOPIC.into() });
        let clients = [("Sender", QUEUE, Role::Sender, None)]
            .into_iter()
            .chain(RECEIVERS.map(|r| (r, QUEUE, Role::Receiver, Some(RECEIVER_MS))))
            .chain([("Publisher", TOPIC, Role::Sender, None)])
            .chain(SUBSCRIBERS.map(|s| (s, TOPIC, Role::Receiver, Some(SUBSCRIBER_MS))));
        for (name, destination, role, processing_ms) in clients {
            run(ClassicCommand::AddClient {
                name: name.into(),
                destination: destination.into(),
                role,
                processing_ms,
            });
        }
        c
    }
}
