//! Everything the Messaging models page draws, at one moment.

use super::*;
use serde::{Deserialize, Serialize};

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
