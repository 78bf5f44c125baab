//! What happens on the Messaging models page, and how the log says it.

use super::*;
use serde::{Deserialize, Serialize};

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

pub(super) fn id_list(ids: &[u64]) -> String {
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    ids.join(", ")
}

pub(super) fn name_list(names: &[Name]) -> String {
    let names: Vec<&str> = names.iter().map(|n| &**n).collect();
    names.join(", ")
}

impl ClassicEventKind {
    /// One plain sentence for the event log; `None` for hops that are only
    /// animated (deliveries and acknowledgements are logged on arrival).
    #[allow(clippy::too_many_lines)] // one arm per event kind: a table, read by looking one up
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
