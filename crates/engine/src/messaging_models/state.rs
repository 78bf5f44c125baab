//! The simulated broker's state: destinations, stored and unacknowledged
//! messages, clients and what is in flight.

use super::*;
use std::collections::{BTreeMap, VecDeque};

// ---------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(super) struct Msg {
    pub(super) id: u64,
    pub(super) sender: Name,
    pub(super) body: Name,
    pub(super) redelivered: bool,
}

impl Msg {
    pub(super) fn view(&self) -> StoredMessageView {
        StoredMessageView {
            id: self.id,
            body: self.body.clone(),
            sender: self.sender.clone(),
            redelivered: self.redelivered,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Unacked {
    pub(super) msg: Msg,
    /// The delivery hop: only an ack for this exact delivery counts.
    pub(super) hop: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Destination {
    pub(super) kind: DestinationKind,
    pub(super) waiting: VecDeque<Msg>,
    pub(super) unacked: BTreeMap<Name, Unacked>,
    pub(super) last_served: Option<Name>,
    pub(super) removed: Vec<u64>,
    pub(super) published: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Work {
    pub(super) message: u64,
    pub(super) hop: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Client {
    pub(super) destination: Name,
    pub(super) kind: DestinationKind,
    pub(super) role: Role,
    pub(super) processing_ms: u64,
    pub(super) online: bool,
    /// Incremented on every reconnect; topic copies belong to one session.
    pub(super) session: u64,
    pub(super) sent: Vec<u64>,
    pub(super) received: Vec<ReceivedView>,
    pub(super) processed: Vec<u64>,
    pub(super) missed: Vec<u64>,
    pub(super) working: Option<Work>,
    pub(super) inbox: VecDeque<Work>,
}

#[derive(Debug, Clone)]
pub(super) enum Item {
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
    pub(super) now: u64,
    pub(super) latency_ms: u64,
    pub(super) destinations: BTreeMap<Name, Destination>,
    pub(super) clients: BTreeMap<Name, Client>,
    pub(super) agenda: BTreeMap<(u64, u64), Item>,
    pub(super) next_seq: u64,
    pub(super) next_message: u64,
    pub(super) next_hop: u64,
}

impl Default for Classic {
    fn default() -> Self {
        Classic::new(DEFAULT_LATENCY_MS)
    }
}

pub(super) fn check_name(what: &str, name: &str) -> Result<Name, ClassicError> {
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

/// A hop about to be sent: what it carries, about which message, between
/// whom.
pub(super) struct Outgoing {
    pub(super) packet: Packet,
    pub(super) message: u64,
    pub(super) body: Option<Name>,
    pub(super) destination: Name,
    pub(super) from: Node,
    pub(super) to: Node,
    pub(super) redelivered: bool,
}
