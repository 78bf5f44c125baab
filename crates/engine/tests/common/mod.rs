//! Shared scenario builders for the engine's scenario tests.
#![allow(dead_code)]

use kafkasim_engine::*;

pub fn cluster(brokers: &[u32], mode: MetadataMode) -> Cluster {
    let config = ClusterConfig {
        brokers: brokers.to_vec(),
        metadata_mode: mode,
        ..ClusterConfig::default()
    };
    let mut c = Cluster::new(config).expect("valid config");
    c.advance(5_000);
    c
}

pub fn cluster_with(config: ClusterConfig) -> Cluster {
    let mut c = Cluster::new(config).expect("valid config");
    c.advance(5_000);
    c
}

/// The seed document's MyTopic: P0 [1,2], P1 [2,1], P2 [1,2].
pub fn my_topic(c: &mut Cluster) {
    let assignment = vec![vec![1, 2], vec![2, 1], vec![1, 2]];
    c.apply(Command::CreateTopic {
        name: "MyTopic".into(),
        partitions: None,
        replication_factor: None,
        assignment: Some(assignment),
        config: TopicConfig::default(),
    })
    .expect("create MyTopic");
    c.advance(1_000);
}

pub fn topic(c: &mut Cluster, name: &str, partitions: u32, rf: u32, config: TopicConfig) {
    c.apply(Command::CreateTopic {
        name: name.into(),
        partitions: Some(partitions),
        replication_factor: Some(rf),
        assignment: None,
        config,
    })
    .expect("create topic");
    c.advance(1_000);
}

pub fn producer(c: &mut Cluster, id: u32, acks: Acks) {
    let config = ProducerConfig {
        acks,
        enable_idempotence: Some(acks == Acks::All),
        ..ProducerConfig::default()
    };
    c.apply(Command::CreateProducer {
        id: Some(ProducerId(id)),
        config,
    })
    .expect("producer");
    c.advance(100);
}

pub fn produce(c: &mut Cluster, producer: u32, topic: &str, key: &str, value: &str) {
    c.apply(Command::Produce {
        producer: ProducerId(producer),
        topic: topic.into(),
        key: Some(key.into()),
        value: value.into(),
        partition: None,
    })
    .expect("produce");
}

pub fn produce_to(c: &mut Cluster, producer: u32, topic: &str, partition: u32, value: &str) {
    c.apply(Command::Produce {
        producer: ProducerId(producer),
        topic: topic.into(),
        key: None,
        value: value.into(),
        partition: Some(partition),
    })
    .expect("produce");
}

pub fn partition(c: &Cluster, topic: &str, p: u32) -> kafkasim_engine::view::PartitionView {
    c.view()
        .topics
        .into_iter()
        .find(|t| t.name == topic)
        .expect("topic")
        .partitions
        .into_iter()
        .find(|x| x.partition == p)
        .expect("partition")
}

pub fn b(ids: &[u32]) -> Vec<BrokerId> {
    ids.iter().map(|i| BrokerId(*i)).collect()
}

pub fn crash(c: &mut Cluster, broker: u32) {
    c.apply(Command::CrashBroker {
        broker: BrokerId(broker),
    })
    .expect("crash");
}

pub fn restart(c: &mut Cluster, broker: u32) {
    c.apply(Command::RestartBroker {
        broker: BrokerId(broker),
    })
    .expect("restart");
}

pub fn events_of<'a>(
    events: &'a [Event],
    pred: impl Fn(&EventKind) -> bool + 'a,
) -> Vec<&'a Event> {
    events.iter().filter(|e| pred(&e.kind)).collect()
}

/// Steps the cluster until an event matches or `max_ms` of virtual time pass.
pub fn run_until(c: &mut Cluster, max_ms: u64, pred: impl Fn(&Event) -> bool) -> Option<Event> {
    let deadline = SimTime(c.now().0 + max_ms);
    while let Some(t) = c.next_event_time() {
        if t > deadline {
            break;
        }
        if let Some(e) = c.step().into_iter().find(|e| pred(e)) {
            return Some(e);
        }
    }
    c.run_until(deadline);
    None
}

/// Advances and returns everything that happened.
pub fn advance(c: &mut Cluster, ms: u64) -> Vec<Event> {
    c.advance(ms)
}

pub fn topic_with(c: &mut Cluster, name: &str, assignment: &[&[u32]], config: TopicConfig) {
    let assignment = assignment.iter().map(|r| r.to_vec()).collect::<Vec<_>>();
    c.apply(Command::CreateTopic {
        name: name.into(),
        partitions: None,
        replication_factor: None,
        assignment: Some(assignment),
        config,
    })
    .expect("create topic");
    c.advance(1_000);
}

pub fn producer_with(c: &mut Cluster, id: u32, config: ProducerConfig) {
    c.apply(Command::CreateProducer {
        id: Some(ProducerId(id)),
        config,
    })
    .expect("producer");
    c.advance(100);
}

pub fn lost(events: &[Event]) -> Vec<&Event> {
    events_of(events, |k| matches!(k, EventKind::RecordLost { .. }))
}

pub fn leader_log_len(c: &Cluster, topic: &str, p: u32) -> u64 {
    partition(c, topic, p).log_end_offset
}

pub fn values_on(c: &Cluster, broker: u32, topic: &str, p: u32) -> Vec<String> {
    c.replica_log(BrokerId(broker), &TopicPartition::new(topic, p))
        .map(|l| l.records().map(|r| r.value.to_string()).collect())
        .unwrap_or_default()
}
