//! Messages in flight as the diagram draws them: what kind each is, which
//! partition it belongs to and its short label. The app matches on
//! `MessageKind`, never on the wire's `Body`, so a new request type is
//! placed here once, where the compiler asks for it.

use crate::error::ErrorCode;
use crate::ids::{NodeId, TopicPartition};
use crate::network::{Body, Message, ProduceRequest};
use serde::Serialize;
use std::borrow::Cow;

/// What a message in flight does, in the words a class uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Records on their way to a partition leader (ProduceRequest).
    Produce,
    /// The leader's answer: the records are written as `acks` asked.
    ProduceAck,
    /// The leader's refusal (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS…).
    ProduceError(ErrorCode),
    /// A follower asking its leader for what follows its log end.
    ReplicaFetch,
    /// Records a leader sends a follower.
    Replicate,
    /// Records a leader sends a consumer.
    Deliver,
    /// A fetch answered with no records: the fetcher is caught up.
    EmptyFetch,
    /// A consumer asking a leader for records.
    ConsumerFetch,
    /// A client asking where partitions lead, and the answer.
    Metadata,
    /// The controller's decisions reaching brokers (LeaderAndIsr) and a
    /// leader asking it to change the ISR (AlterPartition).
    PartitionState,
    /// Choosing a controller: ZooKeeper registrations, KRaft votes.
    Election,
    /// A controller's routine traffic: heartbeats, quorum epochs, a
    /// broker's controlled shutdown.
    ControllerChatter,
    /// A consumer's earliest/latest offset look-up.
    ListOffsets,
    /// A consumer committing its position, and the coordinator's answer.
    Commit,
    CommitResponse,
    /// A member joining, syncing or leaving its group.
    Join,
    Sync,
    Leave,
    /// The rest of a group's traffic: finding the coordinator, heartbeats,
    /// join and sync answers, committed-offset look-ups.
    Group,
    /// A client's connection to a broker failed.
    Disconnected,
}

impl Message {
    /// What this message is, as the diagram draws it.
    pub fn kind(&self) -> MessageKind {
        use MessageKind as K;
        match &self.body {
            Body::Produce(_) => K::Produce,
            Body::ProduceResponse(r) => r.error.map_or(K::ProduceAck, K::ProduceError),
            Body::Fetch { .. } => K::ReplicaFetch,
            Body::FetchResponse { partitions }
                if partitions.iter().all(|p| p.records.is_empty()) =>
            {
                K::EmptyFetch
            }
            Body::FetchResponse { .. } => match self.to {
                NodeId::Consumer(_) => K::Deliver,
                _ => K::Replicate,
            },
            Body::ConsumerFetch { .. } => K::ConsumerFetch,
            Body::Metadata { .. } | Body::MetadataResponse { .. } => K::Metadata,
            Body::LeaderAndIsr { .. } | Body::AlterPartition { .. } => K::PartitionState,
            Body::RegisterBroker { .. }
            | Body::CreateControllerNode { .. }
            | Body::Vote { .. }
            | Body::VoteResponse { .. } => K::Election,
            Body::ControlledShutdown { .. }
            | Body::BrokerHeartbeat { .. }
            | Body::BeginQuorumEpoch { .. }
            | Body::QuorumHeartbeat { .. } => K::ControllerChatter,
            Body::ListOffsets { .. } | Body::ListOffsetsResponse { .. } => K::ListOffsets,
            Body::OffsetCommit(_) => K::Commit,
            Body::OffsetCommitResponse { .. } => K::CommitResponse,
            Body::JoinGroup(_) => K::Join,
            Body::SyncGroup { .. } => K::Sync,
            Body::LeaveGroup { .. } => K::Leave,
            Body::FindCoordinator { .. }
            | Body::FindCoordinatorResponse { .. }
            | Body::JoinGroupResponse(_)
            | Body::SyncGroupResponse { .. }
            | Body::Heartbeat { .. }
            | Body::HeartbeatResponse { .. }
            | Body::OffsetFetch { .. }
            | Body::OffsetFetchResponse { .. } => K::Group,
            Body::Disconnected => K::Disconnected,
        }
    }

    /// The partition a message is drawn beside: a produce request's and
    /// its answer's, and the first partition a fetch brings records of.
    pub fn partition(&self) -> Option<&TopicPartition> {
        match &self.body {
            Body::Produce(ProduceRequest { tp, .. }) => Some(tp),
            Body::ProduceResponse(r) => Some(&r.tp),
            Body::FetchResponse { partitions } => partitions
                .iter()
                .find(|p| !p.records.is_empty())
                .map(|p| &p.tp),
            _ => None,
        }
    }

    /// The few words a chip carries: a record's key (∅ without one), "ack"
    /// or the error's name, and the group steps a class follows.
    pub fn label(&self) -> Option<Cow<'_, str>> {
        match (&self.body, self.kind()) {
            (Body::Produce(p), _) => p
                .records
                .first()
                .map(|r| Cow::Borrowed(r.key.as_deref().unwrap_or("∅"))),
            (_, MessageKind::ProduceAck) => Some(Cow::Borrowed("ack")),
            (_, MessageKind::ProduceError(e)) => Some(Cow::Borrowed(e.name())),
            (_, MessageKind::Commit) => Some(Cow::Borrowed("commit")),
            (_, MessageKind::Join) => Some(Cow::Borrowed("join")),
            (_, MessageKind::Sync) => Some(Cow::Borrowed("sync")),
            (_, MessageKind::Leave) => Some(Cow::Borrowed("leave")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::presets;
    use crate::run::session::Session;
    use crate::{Command, ProducerId, SimTime};

    /// Every message a busy minute sends has a kind, and the ones a class
    /// follows carry their partition and label.
    #[test]
    fn records_in_flight_are_drawn_by_kind_with_their_partition_and_key() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        s.apply(Command::Produce {
            producer: ProducerId(1),
            topic: "MyTopic".into(),
            key: Some("k1".into()),
            value: "v".into(),
            partition: Some(1),
        })
        .unwrap();
        let mut seen = Vec::new();
        for _ in 0..2_000 {
            for m in s.cluster().view().in_flight {
                seen.push((
                    m.kind(),
                    m.partition().cloned(),
                    m.label().map(|l| l.into_owned()),
                ));
            }
            s.step();
        }
        let tp = TopicPartition::new("MyTopic", 1);
        assert!(seen.contains(&(MessageKind::Produce, Some(tp.clone()), Some("k1".into()))));
        assert!(seen.contains(&(
            MessageKind::ProduceAck,
            Some(tp.clone()),
            Some("ack".into())
        )));
        assert!(seen.contains(&(MessageKind::Replicate, Some(tp), None)));
        assert!(seen.iter().any(|(k, ..)| *k == MessageKind::ReplicaFetch));
        assert!(seen.iter().any(|(k, ..)| *k == MessageKind::EmptyFetch));
    }
}
