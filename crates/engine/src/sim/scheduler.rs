//! The only thing that moves virtual time: a queue of deliveries and timers
//! ordered by `(time, seq)`, so equal times resolve in the order they were
//! scheduled, the same way on every run.

use crate::ids::SimTime;
use crate::network::Message;
use crate::sim::timer::Timer;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    /// Behind a pointer: the queue moves entries on every push and pop, and
    /// a message is several times the size of a timer. Shared with the
    /// message's `MessageSent` event, so sending copies no request body.
    Deliver(std::sync::Arc<Message>),
    Timer(Timer),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    time: SimTime,
    seq: u64,
    item: Item,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scheduler {
    queue: BinaryHeap<Entry>,
    next_seq: u64,
}

impl Scheduler {
    pub fn schedule(&mut self, time: SimTime, item: Item) {
        self.next_seq += 1;
        self.queue.push(Entry {
            time,
            seq: self.next_seq,
            item,
        });
    }

    pub fn next_time(&self) -> Option<SimTime> {
        self.queue.peek().map(|e| e.time)
    }

    /// Pops the earliest item if it is due at or before `limit`.
    pub fn pop_due(&mut self, limit: SimTime) -> Option<(SimTime, Item)> {
        if self.queue.peek()?.time > limit {
            return None;
        }
        self.queue.pop().map(|e| (e.time, e.item))
    }

    /// Messages still travelling, for the view (earliest first), shared
    /// rather than copied.
    pub fn in_flight(&self) -> Vec<&std::sync::Arc<Message>> {
        let mut msgs: Vec<(&SimTime, u64, &std::sync::Arc<Message>)> = self
            .queue
            .iter()
            .filter_map(|e| match &e.item {
                Item::Deliver(m) => Some((&e.time, e.seq, m)),
                Item::Timer(_) => None,
            })
            .collect();
        msgs.sort_by_key(|(t, s, _)| (**t, *s));
        msgs.into_iter().map(|(_, _, m)| m).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::BrokerId;

    #[test]
    fn equal_times_pop_in_scheduling_order() {
        let mut s = Scheduler::default();
        s.schedule(
            SimTime(5),
            Item::Timer(Timer::IsrCheck {
                broker: BrokerId(2),
                incarnation: 0,
            }),
        );
        s.schedule(
            SimTime(3),
            Item::Timer(Timer::IsrCheck {
                broker: BrokerId(9),
                incarnation: 0,
            }),
        );
        s.schedule(
            SimTime(5),
            Item::Timer(Timer::IsrCheck {
                broker: BrokerId(1),
                incarnation: 0,
            }),
        );
        let order: Vec<u32> = std::iter::from_fn(|| s.pop_due(SimTime(10)))
            .map(|(_, item)| match item {
                Item::Timer(Timer::IsrCheck { broker, .. }) => broker.0,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(order, vec![9, 2, 1]);
    }
}
