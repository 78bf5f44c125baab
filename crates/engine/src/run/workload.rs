//! The standard benchmark workload, shared by the native criterion benchmark,
//! the native timing example and the in-browser (wasm) measurement, so the
//! figures compare the same work.

use crate::broker::log::Text;
use crate::ids::{ConsumerId, ProducerId};
use crate::{
    AutoOffsetReset, Cluster, ClusterConfig, Command, ConsumerConfig, ProducerConfig, TopicConfig,
};

/// The consumer groups reading `events`, two members each.
pub const GROUPS: [&str; 2] = ["billing", "audit"];

/// 3 brokers (ZooKeeper mode), topic `events` with 6 partitions and
/// replication factor 3, one idempotent acks=all producer, and two consumer
/// groups of two members each (auto-commit, range), all settled.
pub fn standard_cluster() -> Cluster {
    let mut c = Cluster::new(ClusterConfig::default()).expect("default config is valid");
    c.advance(200);
    c.apply(Command::CreateTopic {
        name: "events".into(),
        partitions: Some(6),
        replication_factor: Some(3),
        assignment: None,
        config: TopicConfig::default(),
    })
    .expect("topic");
    c.apply(Command::CreateProducer {
        id: Some(ProducerId(1)),
        config: ProducerConfig::default(),
    })
    .expect("producer");
    let mut id = 0;
    for group in GROUPS {
        for _ in 0..2 {
            id += 1;
            c.apply(Command::CreateConsumer {
                id: Some(ConsumerId(id)),
                config: ConsumerConfig {
                    group_id: Some(group.into()),
                    auto_offset_reset: AutoOffsetReset::Earliest,
                    ..ConsumerConfig::default()
                },
                topics: Some(vec!["events".into()]),
                partitions: None,
            })
            .expect("consumer");
        }
    }
    c.advance(6_000); // group.initial.rebalance.delay.ms, then join and sync
    c
}

/// Records each group has processed.
pub fn consumed_per_group(c: &Cluster) -> Vec<usize> {
    let v = c.view();
    GROUPS
        .iter()
        .map(|g| {
            v.consumers
                .iter()
                .filter(|x| x.group.as_deref() == Some(*g))
                .map(|x| x.processed_total)
                .sum()
        })
        .collect()
}

/// Sends `records` keyed records, `per_tick` every 10 ms of virtual time,
/// lets replication and consumption finish, and returns how many were
/// acknowledged.
pub fn produce_and_replicate(c: Cluster, records: u32, per_tick: u32) -> u64 {
    run_workload(c, records, per_tick).view().acknowledged_total
}

/// The workload itself; returns the cluster for inspection.
pub fn run_workload(mut c: Cluster, records: u32, per_tick: u32) -> Cluster {
    // A thousand users' keys, made once: the figure is the simulator's
    // cost, not the harness formatting strings.
    let topic: Text = "events".into();
    let value: Text = "payload".into();
    let keys: Vec<Text> = (0..1_000).map(|u| format!("user-{u}").into()).collect();
    let mut i = 0;
    while i < records {
        for _ in 0..per_tick.min(records - i) {
            let _ = c.apply(Command::Produce {
                producer: ProducerId(1),
                topic: topic.clone(),
                key: Some(keys[(i % 1_000) as usize].clone()),
                value: value.clone(),
                partition: None,
            });
            i += 1;
        }
        c.advance(10);
    }
    c.advance(2_000);
    c
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_record_is_acknowledged_and_read_by_both_groups() {
        let c = super::run_workload(super::standard_cluster(), 1_000, 200);
        assert_eq!(c.view().acknowledged_total, 1_000);
        assert_eq!(super::consumed_per_group(&c), vec![1_000, 1_000]);
    }
}
