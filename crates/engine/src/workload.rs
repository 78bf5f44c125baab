//! The standard benchmark workload, shared by the native criterion benchmark,
//! the native timing example and the in-browser (wasm) measurement, so the
//! figures compare the same work.

use crate::{Cluster, ClusterConfig, Command, ProducerConfig, TopicConfig};

/// 3 brokers (ZooKeeper mode), topic `events` with 6 partitions and
/// replication factor 3, one idempotent acks=all producer, controller elected.
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
        id: Some(1),
        config: ProducerConfig::default(),
    })
    .expect("producer");
    c.advance(500);
    c
}

/// Sends `records` keyed records, `per_tick` every 10 ms of virtual time,
/// lets replication finish, and returns how many were acknowledged.
pub fn produce_and_replicate(mut c: Cluster, records: u32, per_tick: u32) -> u64 {
    let mut i = 0;
    while i < records {
        for _ in 0..per_tick.min(records - i) {
            let _ = c.apply(Command::Produce {
                producer: 1,
                topic: "events".into(),
                key: Some(format!("user-{}", i % 1_000)),
                value: "payload".into(),
                partition: None,
            });
            i += 1;
        }
        c.advance(10);
    }
    c.advance(2_000);
    c.view().acknowledged_total
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_record_is_acknowledged() {
        assert_eq!(
            super::produce_and_replicate(super::standard_cluster(), 1_000, 200),
            1_000
        );
    }
}
