//! What the inspector and the diagram read beside the live view: a
//! partition's log as rows, and the view without what changes every
//! millisecond.

use super::ClusterView;
use crate::clients::consumer::AppState;
use crate::ids::{BrokerId, SimTime, TopicPartition};
use crate::sim::Cluster;

/// One record of a partition's log, for the inspector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    pub offset: u64,
    pub key: Option<String>,
    pub value: String,
    pub leader_epoch: u32,
    pub producer: u32,
    /// Below the high watermark: replicated to the whole ISR, readable.
    pub committed: bool,
    /// The replicas holding this very record at this offset.
    pub held_by: Vec<BrokerId>,
}

impl Cluster {
    /// The last `limit` records of a partition's log as its leader holds it
    /// (or, while it has no leader, the longest replica's), and which
    /// replicas hold each record.
    pub fn log_rows(&self, tp: &TopicPartition, limit: usize) -> Vec<LogRow> {
        let Some(p) = self.controller.partitions.get(tp) else {
            return Vec::new();
        };
        let logs: Vec<_> = p
            .replicas
            .iter()
            .filter_map(|b| self.replica_log(*b, tp).map(|l| (*b, l)))
            .collect();
        let source = p
            .leader
            .and_then(|l| logs.iter().find(|(b, _)| *b == l))
            .or_else(|| logs.iter().max_by_key(|(_, l)| l.log_end_offset()));
        let Some((_, log)) = source else {
            return Vec::new();
        };
        let hw = self.partition_high_watermark(tp);
        let end = log.log_end_offset();
        (end.saturating_sub(limit as u64)..end)
            .filter_map(|o| log.get(o))
            .map(|r| LogRow {
                offset: r.offset,
                key: r.key.as_deref().map(str::to_string),
                value: r.value.to_string(),
                leader_epoch: r.leader_epoch,
                producer: r.producer.0,
                committed: r.offset < hw,
                held_by: logs
                    .iter()
                    .filter(|(_, l)| l.contains_at(r.offset, r.id))
                    .map(|(b, _)| *b)
                    .collect(),
            })
            .collect()
    }
}

impl ClusterView {
    pub fn structure(&self) -> ClusterView {
        let v = self;
        // Field by field, so the messages in flight and the lost records are
        // not copied only to be dropped.
        let mut v = ClusterView {
            time: SimTime(0),
            mode: v.mode,
            active_controller: v.active_controller,
            controller_epoch: v.controller_epoch,
            quorum_ok: v.quorum_ok,
            brokers: v.brokers.clone(),
            quorum: v.quorum.clone(),
            topics: v.topics.clone(),
            producers: v.producers.clone(),
            in_flight: Vec::new(),
            network_cuts: v.network_cuts.clone(),
            slow_links: v.slow_links.clone(),
            lost: Vec::new(),
            acknowledged_total: 0,
            consumers: v.consumers.clone(),
            groups: v.groups.clone(),
        };
        for r in v.brokers.iter_mut().flat_map(|b| &mut b.replicas) {
            r.log_end_offset = 0;
            r.high_watermark = 0;
            // The countdown is drawn in whole seconds.
            r.isr_expires_in = r.isr_expires_in.map(|ms| ms.div_ceil(1000) * 1000);
        }
        for p in v.topics.iter_mut().flat_map(|t| &mut t.partitions) {
            p.high_watermark = 0;
            p.log_end_offset = 0;
        }
        for p in &mut v.producers {
            (p.sent, p.acknowledged, p.failed, p.in_flight) = (0, 0, 0, 0);
        }
        for c in &mut v.consumers {
            for a in &mut c.assigned {
                a.position = None;
                a.high_watermark = 0;
            }
            (c.buffered, c.in_hand, c.processed_total, c.duplicates) = (0, 0, 0, 0);
            c.app = AppState::Idle;
        }
        for g in &mut v.groups {
            for p in &mut g.partitions {
                p.committed = None;
                p.high_watermark = 0;
                p.lag = None;
                p.duplicated_offsets = Vec::new();
                p.skipped_offsets = Vec::new();
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::presets;
    use crate::run::session::Session;
    use crate::{BrokerId, Command, NodeId, ProducerId};

    fn produce(s: &mut Session, key: &str) {
        s.apply(Command::Produce {
            producer: ProducerId(1),
            topic: "MyTopic".into(),
            key: Some(key.into()),
            value: "v".into(),
            partition: Some(0),
        })
        .unwrap();
    }

    /// A record on the leader only is neither committed nor held by the
    /// follower; once the follower has fetched it, it is both.
    #[test]
    fn log_rows_show_which_replicas_hold_each_record_and_what_is_committed() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        let tp = TopicPartition::new("MyTopic", 0);
        // Partition 0 is on brokers 1 and 2; slow the follower's link.
        s.apply(Command::SetLinkLatency {
            a: NodeId::Broker(BrokerId(1)),
            b: NodeId::Broker(BrokerId(2)),
            latency_ms: 2_000,
        })
        .unwrap();
        produce(&mut s, "a");
        s.run_until(SimTime(1_200));
        let rows = s.cluster().log_rows(&tp, 10);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].offset, rows[0].key.as_deref()), (0, Some("a")));
        assert_eq!(rows[0].held_by, vec![BrokerId(1)]);
        assert!(!rows[0].committed);
        s.run_until(SimTime(8_000));
        let rows = s.cluster().log_rows(&tp, 10);
        assert_eq!(rows[0].held_by, vec![BrokerId(1), BrokerId(2)]);
        assert!(rows[0].committed);
        assert!(s
            .cluster()
            .log_rows(&TopicPartition::new("Nope", 0), 10)
            .is_empty());
    }

    #[test]
    fn log_rows_keep_the_last_records_only() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        for k in ["a", "b", "c"] {
            produce(&mut s, k);
        }
        s.run_until(SimTime(5_000));
        let rows = s.cluster().log_rows(&TopicPartition::new("MyTopic", 0), 2);
        let keys: Vec<_> = rows.iter().map(|r| r.key.as_deref().unwrap()).collect();
        assert_eq!(keys, ["b", "c"]);
        assert_eq!(rows[1].offset, 2);
    }

    /// Records flowing change the live view but not its structure: the
    /// diagram's shapes are not rebuilt for every record.
    #[test]
    fn the_structure_leaves_out_what_changes_with_every_record() {
        let mut s = Session::new(presets::quickstart()).unwrap();
        s.run_until(SimTime(1_000));
        let before = s.cluster().view();
        produce(&mut s, "a");
        s.run_until(SimTime(5_000));
        let after = s.cluster().view();
        assert_ne!(before, after);
        assert_eq!(before.structure(), after.structure());
        assert!(after.structure().in_flight.is_empty());
    }
}
