//! Replication scenarios, each checked the way a Kafka operator would.

mod common;
use common::*;
use kafkasim_engine::*;

#[test]
fn my_topic_matches_the_seed_document() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    let v = c.view();
    let t = &v.topics[0];
    assert_eq!(t.partitions[0].leader, Some(BrokerId(1)));
    assert_eq!(t.partitions[1].leader, Some(BrokerId(2)));
    assert_eq!(t.partitions[2].leader, Some(BrokerId(1)));
    for p in &t.partitions {
        assert_eq!(p.isr.len(), 2, "{p:?}");
    }
}

#[test]
fn records_replicate_and_the_high_watermark_follows() {
    let mut c = cluster(&[1, 2], MetadataMode::Zookeeper);
    my_topic(&mut c);
    producer(&mut c, 1, Acks::All);
    for i in 0..5 {
        produce_to(&mut c, 1, "MyTopic", 0, &format!("v{i}"));
    }
    let events = c.advance(2_000);
    let acks = events_of(&events, |k| {
        matches!(k, EventKind::ProduceAcknowledged { .. })
    });
    assert!(!acks.is_empty(), "no ack in {events:#?}");
    let p0 = partition(&c, "MyTopic", 0);
    assert_eq!(p0.log_end_offset, 5);
    assert_eq!(p0.high_watermark, 5);
    let follower = c
        .replica_log(BrokerId(2), &TopicPartition::new("MyTopic", 0))
        .unwrap();
    assert_eq!(follower.log_end_offset(), 5);
}
