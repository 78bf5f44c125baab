//! Ready-made scenes: the seed document's pictures as scenarios.

use crate::command::Command;
use crate::config::{ClusterConfig, ProducerConfig, TopicConfig};
use crate::scenario::{Scenario, TimedCommand};

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
            at(60, Command::CreateProducer { id: Some(1), config: ProducerConfig::default() }),
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
                    id: Some(1),
                    config: ProducerConfig::default(),
                },
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_build() {
        for s in [quickstart(), my_topic_replication()] {
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
}
