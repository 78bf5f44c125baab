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

mod event;
mod sim;
mod state;
mod view;
pub use event::*;
pub use state::Classic;
use state::*;
pub use view::*;

use serde::{Deserialize, Serialize};
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

#[cfg(test)]
mod tests;

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
