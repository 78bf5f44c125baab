//! Ready-made scenes: the seed document's pictures as scenarios.

use crate::clients::assignor::AssignorKind;
use crate::command::Command;
use crate::config::{
    AutoOffsetReset, BrokerConfig, ClusterConfig, ConsumerConfig, ProducerConfig, TopicConfig,
};
use crate::ids::{ConsumerId, ProducerId};
use crate::run::scenario::{Scenario, TimedCommand};

fn at(at: u64, command: Command) -> TimedCommand {
    TimedCommand { at, command }
}

/// The quick-start scene: three brokers, a ZooKeeper ensemble, `MyTopic`
/// with three partitions of two replicas spread over the brokers, and one
/// producer with Kafka's defaults.
pub fn quickstart() -> Scenario {
    let assignment = vec![vec![1, 2], vec![2, 3], vec![3, 1]];
    Scenario {
        name: "Quick start".into(),
        description: "Three brokers, ZooKeeper, MyTopic (3 partitions, replication factor 2) and one producer.".into(),
        cluster: ClusterConfig::default(),
        commands: vec![
            at(
                50,
                Command::CreateTopic {
                    name: "MyTopic".into(),
                    partitions: None,
                    replication_factor: None,
                    assignment: Some(assignment),
                    config: TopicConfig::default(),
                },
            ),
            at(60, Command::CreateProducer { id: Some(ProducerId(1)), config: ProducerConfig::default() }),
            at(200, Command::ElectPreferredLeaders { topic: None }),
        ],
    }
}

/// The seed's replication picture: `MyTopic`, 3 partitions, replication
/// factor 2 on brokers 1 and 2; broker 1 leads P0 and P2, broker 2 leads P1.
pub fn my_topic_replication() -> Scenario {
    let assignment = vec![vec![1, 2], vec![2, 1], vec![1, 2]];
    Scenario {
        name: "Replication: MyTopic".into(),
        description: "The document's MyTopic on brokers 1 and 2.".into(),
        cluster: ClusterConfig {
            brokers: vec![1, 2],
            // Two brokers cannot hold three copies of the offsets topic.
            broker: BrokerConfig {
                offsets_topic_replication_factor: 2,
                ..BrokerConfig::default()
            },
            ..ClusterConfig::default()
        },
        commands: vec![
            at(
                50,
                Command::CreateTopic {
                    name: "MyTopic".into(),
                    partitions: None,
                    replication_factor: None,
                    assignment: Some(assignment),
                    config: TopicConfig::default(),
                },
            ),
            at(
                60,
                Command::CreateProducer {
                    id: Some(ProducerId(1)),
                    config: ProducerConfig::default(),
                },
            ),
        ],
    }
}

/// Consumer groups: `MyTopic` with three partitions read by group
/// `billing` (two members share the partitions) and group `audit` (one
/// member reads everything): a queue and a publish-subscribe at once.
pub fn consumer_groups() -> Scenario {
    let mut s = quickstart();
    s.name = "Consumer groups".into();
    s.description = "MyTopic read by two groups: billing (2 consumers share the partitions) and audit (1 consumer reads them all).".into();
    let member = |group: &str| ConsumerConfig {
        group_id: Some(group.into()),
        auto_offset_reset: AutoOffsetReset::Earliest,
        partition_assignment_strategy: AssignorKind::Range.into(),
        ..ConsumerConfig::default()
    };
    for (id, group) in [(1, "billing"), (2, "billing"), (3, "audit")] {
        s.commands.push(at(
            300,
            Command::CreateConsumer {
                id: Some(ConsumerId(id)),
                config: member(group),
                topics: Some(vec!["MyTopic".into()]),
                partitions: None,
            },
        ));
    }
    s
}

/// The quick-start scene without ZooKeeper: a KRaft controller quorum of
/// three elects the active controller.
pub fn kraft_quickstart() -> Scenario {
    let mut s = quickstart();
    s.name = "Quick start (KRaft)".into();
    s.description = "Three brokers and a KRaft quorum of three controllers instead of ZooKeeper, MyTopic and one producer.".into();
    s.cluster.metadata_mode = crate::config::MetadataMode::Kraft;
    // The quorum elects its active controller first (a randomised election
    // timeout), so the topic is created once there is one to ask.
    for c in &mut s.commands {
        c.at += 5_000;
    }
    // The scene ends once brokers have registered and leaders are chosen.
    if let Some(last) = s.commands.last_mut() {
        last.at = 8_000;
    }
    s
}

/// Every scene the page offers, in menu order.
pub fn scenes() -> Vec<Scenario> {
    vec![
        quickstart(),
        my_topic_replication(),
        consumer_groups(),
        kraft_quickstart(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_build() {
        for s in scenes() {
            let (cluster, _) = s.run(None).expect("preset runs");
            let v = cluster.view();
            assert!(v.active_controller.is_some(), "{}: no controller", s.name);
            let t = &v.topics[0];
            assert!(
                t.partitions.iter().all(|p| p.leader.is_some()),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn the_consumer_groups_preset_settles_into_two_stable_groups() {
        let (mut cluster, _) = consumer_groups().run(None).expect("preset runs");
        cluster.advance(10_000);
        let v = cluster.view();
        assert_eq!(v.groups.len(), 2);
        assert!(
            v.groups.iter().all(|g| g.state == "Stable"),
            "{:?}",
            v.groups
        );
        let billing = v.groups.iter().find(|g| g.group == "billing").unwrap();
        assert_eq!(billing.members.len(), 2);
    }
}
