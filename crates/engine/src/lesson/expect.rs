//! The teaching points a step checks at its end, one kind per Kafka fact.

use super::*;
use crate::ids::{NodeId, SimTime};
use crate::messaging_models::ClassicView;
use crate::sim::Cluster;
use crate::view::ClusterView;

impl Expect {
    /// A point about the Messaging models page rather than the cluster.
    pub fn is_classic(&self) -> bool {
        matches!(
            self,
            Expect::Got { .. } | Expect::Missed { .. } | Expect::Waiting { .. }
        )
    }

    /// `Ok` when a models point holds on `view`.
    pub fn holds_classic(&self, view: &ClassicView) -> std::result::Result<(), String> {
        let client = |name: &str| {
            view.clients
                .iter()
                .find(|c| &*c.name == name)
                .ok_or_else(|| format!("there is no client {name}."))
        };
        match self {
            Expect::Got {
                client: name,
                min,
                max,
            } => {
                let n = client(name)?.received.len() as u64;
                bounds(format!("messages received by {name}"), n, *min, *max)
            }
            Expect::Missed {
                client: name,
                min,
                max,
            } => {
                let n = client(name)?.missed.len() as u64;
                bounds(format!("messages missed by {name}"), n, *min, *max)
            }
            Expect::Waiting { destination, count } => {
                let d = view
                    .destinations
                    .iter()
                    .find(|d| &*d.name == destination)
                    .ok_or_else(|| format!("there is no queue {destination}."))?;
                (d.waiting.len() == *count).then_some(()).ok_or_else(|| {
                    format!(
                        "expected {count} messages waiting in {destination}, found {}.",
                        d.waiting.len()
                    )
                })
            }
            _ => Err("this point is about the Kafka cluster.".into()),
        }
    }

    /// `Ok` when the point holds; otherwise what was expected and what is.
    /// One function per kind of point, on `Facts`.
    pub fn holds(&self, cluster: &Cluster, view: &ClusterView) -> Outcome {
        let facts = Facts { cluster, view };
        match self {
            Expect::Leader {
                partition: name,
                broker,
            } => facts.leader(name, broker),
            Expect::Isr {
                partition: name,
                brokers,
            } => facts.isr(name, brokers),
            Expect::Records {
                partition: name,
                min,
                max,
            } => facts.records(name, min, max),
            Expect::KeyIn {
                topic,
                key,
                partition: want,
            } => facts.key_in(topic, key, want),
            Expect::Lost { min, max } => facts.lost(min, max),
            Expect::Controller { is, is_not } => facts.controller(is, is_not),
            Expect::Quorum { ok } => facts.quorum(ok),
            Expect::Owns {
                consumer,
                partitions,
            } => facts.owns(consumer, partitions),
            Expect::Members { group, count } => facts.members(group, count),
            Expect::Route {
                client,
                partition: name,
                broker,
            } => facts.route(client, name, broker),
            Expect::Processed { consumer, min } => facts.processed(consumer, min),
            Expect::ProcessedInOrder { values } => facts.processed_in_order(values),
            Expect::Producer {
                producer,
                acknowledged_min,
                failed_min,
            } => facts.producer(producer, acknowledged_min, failed_min),
            Expect::Got { .. } | Expect::Missed { .. } | Expect::Waiting { .. } => {
                Err("this point is about the Messaging models page.".into())
            }
        }
    }
}

/// Whether a point holds, or what was expected and what is.
type Outcome = std::result::Result<(), String>;

/// The cluster and its view at a step's end, as the points read them.
struct Facts<'a> {
    cluster: &'a Cluster,
    view: &'a ClusterView,
}

fn broker_name(b: Option<u32>) -> String {
    b.map_or("none (offline)".to_string(), |b| format!("broker {b}"))
}

impl Facts<'_> {
    fn partition(&self, name: &str) -> std::result::Result<&crate::view::PartitionView, String> {
        let (t, p) = split_partition(name)
            .ok_or_else(|| format!("'{name}' is not a partition name like 'MyTopic-0'."))?;
        self.view
            .topics
            .iter()
            .find(|x| x.name == t)
            .and_then(|x| x.partitions.iter().find(|x| x.partition == p))
            .ok_or_else(|| format!("there is no partition {name}."))
    }

    fn consumer(&self, id: u32) -> std::result::Result<&crate::view::ConsumerView, String> {
        self.view
            .consumers
            .iter()
            .find(|c| c.id.0 == id)
            .ok_or_else(|| format!("there is no consumer {id}."))
    }

    fn leader(&self, name: &String, broker: &Option<u32>) -> Outcome {
        let p = self.partition(name)?;
        let is = p.leader.map(|b| b.0);
        (is == *broker).then_some(()).ok_or_else(|| {
            format!(
                "expected {name} to be led by {}, but its leader is {}.",
                broker_name(*broker),
                broker_name(is)
            )
        })
    }

    fn isr(&self, name: &String, brokers: &[u32]) -> Outcome {
        let p = self.partition(name)?;
        let mut is: Vec<u32> = p.isr.iter().map(|b| b.0).collect();
        let mut want = brokers.to_vec();
        is.sort_unstable();
        want.sort_unstable();
        (is == want)
            .then_some(())
            .ok_or_else(|| format!("expected {name}'s ISR to be {want:?}, but it is {is:?}."))
    }

    fn records(&self, name: &String, min: &Option<u64>, max: &Option<u64>) -> Outcome {
        let p = self.partition(name)?;
        bounds(
            format!("committed records in {name}"),
            p.high_watermark,
            *min,
            *max,
        )
    }

    fn key_in(&self, topic: &String, key: &String, want: &u32) -> Outcome {
        let t = self
            .view
            .topics
            .iter()
            .find(|x| &x.name == topic)
            .ok_or_else(|| format!("there is no topic {topic}."))?;
        let mut found = std::collections::BTreeSet::new();
        for p in &t.partitions {
            let tp = crate::ids::TopicPartition::new(topic, p.partition);
            let log = p.leader.and_then(|b| self.cluster.replica_log(b, &tp));
            if log.is_some_and(|l| l.records().any(|r| r.key.as_deref() == Some(key))) {
                found.insert(p.partition);
            }
        }
        (found.len() == 1 && found.contains(want)).then_some(()).ok_or_else(|| {
            format!("expected every record with key '{key}' in {topic}-{want}, but they are in partitions {found:?}.")
        })
    }

    fn lost(&self, min: &Option<u64>, max: &Option<u64>) -> Outcome {
        bounds(
            "acknowledged records lost".into(),
            self.view.lost.len() as u64,
            *min,
            *max,
        )
    }

    fn controller(&self, is: &Option<String>, is_not: &Option<String>) -> Outcome {
        let active = self.view.active_controller.map(|n| n.to_string());
        let shown = active.clone().unwrap_or_else(|| "none".into());
        if let Some(want) = is {
            if active.as_deref() != Some(want.as_str()) {
                return Err(format!(
                    "expected {want} to be the active controller, but it is {shown}."
                ));
            }
        }
        if let Some(other) = is_not {
            if active.as_deref() == Some(other.as_str()) {
                return Err(format!("expected a controller other than {other}."));
            }
        }
        Ok(())
    }

    fn quorum(&self, ok: &bool) -> Outcome {
        (self.view.quorum_ok == *ok).then_some(()).ok_or_else(|| {
            format!(
                "expected the quorum {} a majority.",
                if *ok { "to have" } else { "to have lost" }
            )
        })
    }

    fn owns(&self, consumer: &u32, partitions: &[String]) -> Outcome {
        let c = self.consumer(*consumer)?;
        let mut is: Vec<String> = c.assigned.iter().map(|a| a.tp.to_string()).collect();
        let mut want = partitions.to_vec();
        is.sort();
        want.sort();
        (is == want).then_some(()).ok_or_else(|| {
            format!("expected consumer {consumer} to own {want:?}, but it owns {is:?}.")
        })
    }

    fn members(&self, group: &String, count: &usize) -> Outcome {
        let g = self
            .view
            .groups
            .iter()
            .find(|g| &g.group == group)
            .ok_or_else(|| format!("there is no group {group}."))?;
        (g.members.len() == *count).then_some(()).ok_or_else(|| {
            format!(
                "expected group {group} to have {count} members, but it has {}.",
                g.members.len()
            )
        })
    }

    fn route(&self, client: &String, name: &String, broker: &u32) -> Outcome {
        let (t, p) = split_partition(name)
            .ok_or_else(|| format!("'{name}' is not a partition name like 'MyTopic-0'."))?;
        let tp = crate::ids::TopicPartition::new(t, p);
        // Clients by their diagram names, as `controller` names nodes.
        let node = self
            .view
            .nodes()
            .into_iter()
            .filter(|n| matches!(n, NodeId::Producer(_) | NodeId::Consumer(_)))
            .find(|n| n.to_string() == *client)
            .ok_or_else(|| format!("there is no client '{client}'."))?;
        let is = self.view.route(node, &tp).map(|b| b.0);
        let (goes, does) = if client.starts_with("Producer") {
            ("send", "sends them to")
        } else {
            ("fetch", "fetches them from")
        };
        let want = format!("expected {client} to {goes} {name}'s records");
        (is == Some(*broker)).then_some(()).ok_or_else(|| match is {
            Some(b) => format!("{want} via broker {broker}, but it {does} broker {b}."),
            None => {
                format!("{want} via broker {broker}, but it has not looked up its leader.")
            }
        })
    }

    fn processed(&self, consumer: &u32, min: &usize) -> Outcome {
        let c = self.consumer(*consumer)?;
        bounds(
            format!("records processed by consumer {consumer}"),
            c.processed_total as u64,
            Some(*min as u64),
            None,
        )
    }

    fn processed_in_order(&self, values: &[String]) -> Outcome {
        let value_of = |tp: &crate::ids::TopicPartition, offset: u64| {
            let p = self.view.topics.iter().find(|t| *t.name == *tp.topic)?;
            let leader = p
                .partitions
                .iter()
                .find(|x| x.partition == tp.partition)?
                .leader?;
            let record = self.cluster.replica_log(leader, tp)?.get(offset)?;
            Some(record.value.to_string())
        };
        let mut done: Vec<(SimTime, String)> = self
            .view
            .consumers
            .iter()
            .flat_map(|c| self.cluster.processed(c.id))
            .filter_map(|p| Some((p.at, value_of(&p.tp, p.offset)?)))
            .collect();
        done.sort();
        let order: Vec<&String> = values
            .iter()
            .filter_map(|v| done.iter().find(|(_, d)| d == v).map(|(_, d)| d))
            .collect();
        let mut seen: Vec<&String> = done
            .iter()
            .map(|(_, d)| d)
            .filter(|d| values.contains(d))
            .collect();
        seen.dedup();
        (order.len() == values.len() && seen.iter().take(values.len()).eq(order.iter()))
            .then_some(())
            .ok_or_else(|| {
                format!("expected records {values:?} to be processed in that order, but the order was {seen:?}.")
            })
    }

    fn producer(
        &self,
        producer: &u32,
        acknowledged_min: &Option<u64>,
        failed_min: &Option<u64>,
    ) -> Outcome {
        let p = self
            .view
            .producers
            .iter()
            .find(|p| p.id.0 == *producer)
            .ok_or_else(|| format!("there is no producer {producer}."))?;
        bounds(
            format!("records acknowledged to producer {producer}"),
            p.acknowledged,
            *acknowledged_min,
            None,
        )?;
        bounds(
            format!("records failed at producer {producer}"),
            p.failed,
            *failed_min,
            None,
        )
    }
}
