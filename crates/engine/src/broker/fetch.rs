//! Serving consumers: Fetch up to the high watermark (parked until data or
//! `fetch.max.wait.ms`) and ListOffsets. These are the broker's own
//! methods: what they read is the broker's state and the request; what they
//! do goes through `Ctx` (a response sent, a timer set).

use super::replication::*;
use crate::broker::{Broker, ParkedConsumerFetch};
use crate::error::ErrorCode;
use crate::ids::{ConsumerId, NodeId, TopicPartition};
use crate::network::{Body, ConsumerFetchPartition, FetchedData, OffsetSpec};
use crate::sim::timer::Timer;
use crate::sim::Ctx;

impl Broker {
    /// The leader's side of a consumer fetch: records below the high
    /// watermark only; parked for `fetch.max.wait.ms` when there are none.
    pub(crate) fn handle_consumer_fetch(
        &mut self,
        ctx: &mut Ctx,
        consumer: ConsumerId,
        partitions: Vec<ConsumerFetchPartition>,
        max_wait_ms: u64,
    ) {
        let data: Vec<FetchedData> = partitions
            .iter()
            .map(|p| self.read_for_consumer(p))
            .collect();
        if data
            .iter()
            .any(|d| !d.records.is_empty() || d.error.is_some())
            || max_wait_ms == 0
        {
            return ctx.send(
                NodeId::Broker(self.id),
                NodeId::Consumer(consumer),
                Body::FetchResponse { partitions: data },
            );
        }
        self.next_fetch_id += 1;
        let fetch = self.next_fetch_id;
        self.parked_consumers.insert(
            fetch,
            ParkedConsumerFetch {
                consumer,
                partitions,
            },
        );
        ctx.schedule_timer(
            max_wait_ms,
            Timer::FetchWait {
                broker: self.id,
                incarnation: self.incarnation,
                fetch,
            },
        );
    }

    /// One partition of a consumer's fetch, read from this broker's log.
    pub(super) fn read_for_consumer(&self, p: &ConsumerFetchPartition) -> FetchedData {
        let mut out = FetchedData::empty(&p.tp);
        let replica = match fetch_target(self.replicas.get(&p.tp), p.current_leader_epoch) {
            Ok(r) => r,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        let hw = replica.high_watermark;
        out.high_watermark = hw;
        if p.fetch_offset > replica.log.log_end_offset() {
            out.error = Some(ErrorCode::OffsetOutOfRange);
            return out;
        }
        let max = hw
            .saturating_sub(p.fetch_offset)
            .min(MAX_FETCH_RECORDS as u64) as usize;
        out.records = replica.log.read_from(p.fetch_offset, max);
        out
    }

    /// `ListOffsets`: the log start offset (0: nothing is deleted) or the
    /// high watermark (the latest offset a consumer may read).
    pub(crate) fn handle_list_offsets(
        &self,
        ctx: &mut Ctx,
        from: NodeId,
        tp: TopicPartition,
        spec: OffsetSpec,
    ) {
        let replica = self.replicas.get(&tp).filter(|r| r.is_leader());
        let (error, offset) = match (replica, spec) {
            (None, _) => (Some(ErrorCode::NotLeaderOrFollower), 0),
            (Some(_), OffsetSpec::Earliest) => (None, 0),
            (Some(r), OffsetSpec::Latest) => (None, r.high_watermark),
        };
        ctx.send(
            NodeId::Broker(self.id),
            from,
            Body::ListOffsetsResponse { tp, error, offset },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::{Replica, Role};
    use crate::config::NetworkConfig;
    use crate::event::EventKind;
    use crate::ids::BrokerId;
    use crate::network::Network;
    use rand::SeedableRng;

    /// A broker answers from its own state and the request alone: no
    /// cluster, no knowledge of who sent it (as for a real client later).
    #[test]
    fn a_broker_answers_a_request_from_a_sender_it_knows_nothing_of() {
        let mut broker = Broker::new(BrokerId(1));
        let tp = TopicPartition::new("orders", 0);
        broker.replicas.insert(
            tp.clone(),
            Replica {
                log: Default::default(),
                high_watermark: 0,
                leader_epoch: 3,
                role: Role::Follower { leader: None },
            },
        );
        let mut ctx = Ctx::new(
            rand_chacha::ChaCha8Rng::seed_from_u64(0),
            Network::new(NetworkConfig::default()),
        );
        let stranger = NodeId::Consumer(crate::ids::ConsumerId(99));
        broker.handle_list_offsets(&mut ctx, stranger, tp.clone(), OffsetSpec::Latest);
        let [event] = ctx.out.as_slice() else {
            panic!("one message sent: {:?}", ctx.out);
        };
        let EventKind::MessageSent(msg) = &event.kind else {
            panic!("a message: {event:?}");
        };
        assert_eq!((msg.from, msg.to), (NodeId::Broker(BrokerId(1)), stranger));
        assert_eq!(
            msg.body,
            Body::ListOffsetsResponse {
                tp,
                error: Some(ErrorCode::NotLeaderOrFollower),
                offset: 0
            },
            "a follower refuses as Kafka's does"
        );
    }
}
