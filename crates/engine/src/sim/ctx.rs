//! What a handler may touch besides its own node: the clock, the seeded
//! random numbers, the network it sends on, the timers it sets and the
//! events it reports. A handler written as a node's method takes
//! `&mut Ctx` beside `&mut self` (stateright's `out`, A/B Street's `Ctx`),
//! so a broker sees only its own state and what arrives on the wire.

use crate::audit::delivery::Delivery;
use crate::event::{Event, EventKind};
use crate::ids::{BrokerId, NodeId, SimTime, TopicPartition};
use crate::network::{Body, Network};
use crate::sim::scheduler::{Item, Scheduler};
use crate::sim::timer::Timer;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// The simulation's shared machinery, owned by `Cluster` beside its nodes so
/// that both can be borrowed at once.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub(crate) now: SimTime,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) scheduler: Scheduler,
    pub(crate) network: Network,
    /// Events produced since the caller last took them.
    pub(crate) out: Vec<Event>,
    /// Teaching bookkeeping that nodes report to and no node reads to
    /// decide anything: duplicates and gaps per group.
    pub(crate) delivery: Delivery,
    /// The last batch id handed out: a producer's batch is named by it on
    /// the wire and in the ledger.
    last_batch: u64,
}

impl Ctx {
    pub(crate) fn new(rng: ChaCha8Rng, network: Network) -> Ctx {
        Ctx {
            now: SimTime(0),
            rng,
            scheduler: Scheduler::default(),
            network,
            out: Vec::new(),
            delivery: Delivery::default(),
            last_batch: 0,
        }
    }

    /// A new producer batch's id, unique in the cluster.
    pub(crate) fn next_batch_id(&mut self) -> u64 {
        self.last_batch += 1;
        self.last_batch
    }

    /// Reports that something happened now.
    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.out.push(Event {
            time: self.now,
            kind,
        });
    }

    /// Reports each partition whose leader a client found moved:
    /// `(partition, leader, previous)`.
    pub(crate) fn emit_leader_moves(
        &mut self,
        client: NodeId,
        moved: Vec<(TopicPartition, BrokerId, BrokerId)>,
    ) {
        for (tp, leader, previous) in moved {
            self.emit(EventKind::MetadataUpdated {
                client,
                tp,
                leader,
                previous,
            });
        }
    }

    /// Sets a timer that fires `after_ms` from now.
    pub(crate) fn schedule_timer(&mut self, after_ms: u64, timer: Timer) {
        self.scheduler
            .schedule(self.now.plus(after_ms), Item::Timer(timer));
    }

    /// Sends a message now; it is delivered (or dropped) later.
    pub(crate) fn send(&mut self, from: NodeId, to: NodeId, body: Body) {
        let msg = self
            .network
            .message(self.now, from, to, body, &mut self.rng);
        let at = msg.arrives_at;
        let msg = Arc::new(msg);
        self.emit(EventKind::MessageSent(msg.clone()));
        self.scheduler.schedule(at, Item::Deliver(msg));
    }
}
