//! The teaching points a step checks at its end, one kind per Kafka fact.

use super::*;
use crate::ids::SimTime;
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
    #[allow(clippy::too_many_lines)] // longer than the house limit; to split (issue 21)
    pub fn holds(&self, cluster: &Cluster, view: &ClusterView) -> std::result::Result<(), String> {
        let partition = |name: &str| {
            let (t, p) = split_partition(name)
                .ok_or_else(|| format!("'{name}' is not a partition name like 'MyTopic-0'."))?;
            view.topics
                .iter()
                .find(|x| x.name == t)
                .and_then(|x| x.partitions.iter().find(|x| x.partition == p))
                .ok_or_else(|| format!("there is no partition {name}."))
        };
        let broker_name =
            |b: Option<u32>| b.map_or("none (offline)".to_string(), |b| format!("broker {b}"));
        match self {
            Expect::Leader {
                partition: name,
                broker,
            } => {
                let p = partition(name)?;
                let is = p.leader.map(|b| b.0);
                (is == *broker).then_some(()).ok_or_else(|| {
                    format!(
                        "expected {name} to be led by {}, but its leader is {}.",
                        broker_name(*broker),
                        broker_name(is)
                    )
                })
            }
            Expect::Isr {
                partition: name,
                brokers,
            } => {
                let p = partition(name)?;
                let mut is: Vec<u32> = p.isr.iter().map(|b| b.0).collect();
                let mut want = brokers.clone();
                is.sort_unstable();
                want.sort_unstable();
                (is == want).then_some(()).ok_or_else(|| {
                    format!("expected {name}'s ISR to be {want:?}, but it is {is:?}.")
                })
            }
            Expect::Records {
                partition: name,
                min,
                max,
            } => {
                let p = partition(name)?;
                bounds(
                    format!("committed records in {name}"),
                    p.high_watermark,
                    *min,
                    *max,
                )
            }
            Expect::KeyIn {
                topic,
                key,
                partition: want,
            } => {
                let t = view
                    .topics
                    .iter()
                    .find(|x| &x.name == topic)
                    .ok_or_else(|| format!("there is no topic {topic}."))?;
                let mut found = std::collections::BTreeSet::new();
                for p in &t.partitions {
                    let tp = crate::ids::TopicPartition::new(topic, p.partition);
                    let log = p.leader.and_then(|b| cluster.replica_log(b, &tp));
                    if log.is_some_and(|l| l.records().any(|r| r.key.as_deref() == Some(key))) {
                        found.insert(p.partition);
                    }
                }
                (found.len() == 1 && found.contains(want)).then_some(()).ok_or_else(|| {
                    format!("expected every record with key '{key}' in {topic}-{want}, but they are in partitions {found:?}.")
                })
            }
            Expect::Lost { min, max } => bounds(
                "acknowledged records lost".into(),
                view.lost.len() as u64,
                *min,
                *max,
            ),
            Expect::Controller { is, is_not } => {
                let active = view.active_controller.map(|n| n.to_string());
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
            Expect::Quorum { ok } => (view.quorum_ok == *ok).then_some(()).ok_or_else(|| {
                format!(
                    "expected the quorum {} a majority.",
                    if *ok { "to have" } else { "to have lost" }
                )
            }),
            Expect::Owns {
                consumer,
                partitions,
            } => {
                let c = view
                    .consumers
                    .iter()
                    .find(|c| c.id.0 == *consumer)
                    .ok_or_else(|| format!("there is no consumer {consumer}."))?;
                let mut is: Vec<String> = c.assigned.iter().map(|a| a.tp.to_string()).collect();
                let mut want = partitions.clone();
                is.sort();
                want.sort();
                (is == want).then_some(()).ok_or_else(|| {
                    format!("expected consumer {consumer} to own {want:?}, but it owns {is:?}.")
                })
            }
            Expect::Members { group, count } => {
                let g = view
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
            Expect::Route {
                client,
                partition: name,
                broker,
            } => {
                let (t, p) = split_partition(name)
                    .ok_or_else(|| format!("'{name}' is not a partition name like 'MyTopic-0'."))?;
                let tp = crate::ids::TopicPartition::new(t, p);
                // Clients by their diagram names, as `controller` names nodes.
                let named = |node: crate::ids::NodeId| node.to_string() == *client;
                let routes = cluster
                    .producers
                    .values()
                    .find(|p| named(crate::ids::NodeId::Producer(p.id)))
                    .map(|p| &p.routes)
                    .or_else(|| {
                        cluster
                            .consumers
                            .values()
                            .find(|c| named(crate::ids::NodeId::Consumer(c.id)))
                            .map(|c| &c.routes)
                    })
                    .ok_or_else(|| format!("there is no client '{client}'."))?;
                let is = routes.get(&tp).map(|b| b.0);
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
            Expect::Processed { consumer, min } => {
                let c = view
                    .consumers
                    .iter()
                    .find(|c| c.id.0 == *consumer)
                    .ok_or_else(|| format!("there is no consumer {consumer}."))?;
                bounds(
                    format!("records processed by consumer {consumer}"),
                    c.processed_total as u64,
                    Some(*min as u64),
                    None,
                )
            }
            Expect::ProcessedInOrder { values } => {
                let value_of = |tp: &crate::ids::TopicPartition, offset: u64| {
                    let p = view.topics.iter().find(|t| *t.name == *tp.topic)?;
                    let leader = p
                        .partitions
                        .iter()
                        .find(|x| x.partition == tp.partition)?
                        .leader?;
                    let record = cluster.replica_log(leader, tp)?.get(offset)?;
                    Some(record.value.to_string())
                };
                let mut done: Vec<(SimTime, String)> = view
                    .consumers
                    .iter()
                    .flat_map(|c| cluster.processed(c.id))
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
            Expect::Producer {
                producer,
                acknowledged_min,
                failed_min,
            } => {
                let p = view
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
            Expect::Got { .. } | Expect::Missed { .. } | Expect::Waiting { .. } => {
                Err("this point is about the Messaging models page.".into())
            }
        }
    }
}
