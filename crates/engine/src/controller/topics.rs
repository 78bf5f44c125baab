//! Topic administration through the controller: create (with Kafka's
//! validation and placement), add partitions, and reassign replicas.

use crate::broker::partition::{ElectionReason, PartitionState};
use crate::config::TopicConfig;
use crate::controller::placement;
use crate::controller::topic_name;
use crate::controller::TopicMeta;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{BrokerId, TopicPartition};
use crate::sim::Cluster;
use std::collections::BTreeMap;

/// The most partitions one topic may have in the simulator.
pub const MAX_PARTITIONS: u32 = 1_000;

impl Cluster {
    pub(crate) fn create_topic(
        &mut self,
        name: String,
        partitions: Option<u32>,
        replication_factor: Option<u32>,
        assignment: Option<Vec<Vec<u32>>>,
        config: TopicConfig,
    ) -> Result<()> {
        topic_name::validate_topic_name(&name)?;
        if name == crate::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("Creation of internal topic {name} is prohibited."),
            ));
        }
        self.check_topic_is_new(&name)?;
        validate_topic_config(&config)?;
        self.require_controller()?;
        let assignment = match assignment {
            Some(a) => {
                let a: BTreeMap<u32, Vec<u32>> = a
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (i as u32, r))
                    .collect();
                if partitions.is_some_and(|p| p as usize != a.len()) {
                    return Err(KafkaError::new(
                        ErrorCode::InvalidRequest,
                        "Give either a partition count or a replica assignment, not both that disagree.",
                    ));
                }
                let known: Vec<u32> = self.brokers.keys().map(|b| b.0).collect();
                placement::validate_assignment(&a, &known)?;
                self.check_startable(&a)?;
                a
            }
            None => {
                let n = partitions.unwrap_or(self.config.broker.num_partitions);
                let rf =
                    replication_factor.unwrap_or(self.config.broker.default_replication_factor);
                self.place(n, rf, 0)?
            }
        };
        if assignment.len() as u32 > MAX_PARTITIONS {
            return Err(KafkaError::new(
                ErrorCode::InvalidPartitions,
                format!("This simulator allows at most {MAX_PARTITIONS} partitions per topic."),
            ));
        }
        let replicas: Vec<Vec<BrokerId>> = assignment
            .values()
            .map(|r| r.iter().map(|b| BrokerId(*b)).collect())
            .collect();
        self.controller.topics.insert(
            crate::ids::topic_name(&name),
            TopicMeta {
                name: name.clone(),
                partitions: replicas.len() as u32,
                config,
            },
        );
        self.emit(EventKind::TopicCreated {
            topic: name.clone(),
            assignment: replicas.clone(),
        });
        self.create_partitions(&name, 0, replicas);
        Ok(())
    }

    /// KRaft refuses a partition none of whose replicas is unfenced
    /// (`ReplicationControlManager.createTopic`); ZooKeeper mode accepts it
    /// and brings it online when a replica's broker registers.
    fn check_startable(&self, assignment: &BTreeMap<u32, Vec<u32>>) -> Result<()> {
        if self.controller.mode != crate::config::MetadataMode::Kraft {
            return Ok(());
        }
        let live = &self.controller.live_brokers;
        match assignment
            .iter()
            .find(|(_, reps)| !reps.iter().any(|b| live.contains(&BrokerId(*b))))
        {
            Some((p, _)) => Err(KafkaError::new(
                ErrorCode::InvalidReplicationFactor,
                format!("Unable to start partition {p} - all the replicas are fenced or in controlled shutdown."),
            )),
            None => Ok(()),
        }
    }

    fn check_topic_is_new(&self, name: &str) -> Result<()> {
        if self.controller.topics.contains_key(name) {
            return Err(KafkaError::new(
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ));
        }
        let unified = topic_name::unify_collision_chars(name);
        if let Some(other) = self
            .controller
            .topics
            .keys()
            .find(|t| topic_name::unify_collision_chars(t) == unified)
        {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!("Topic '{name}' collides with existing topic: {other} ('.' and '_' are interchangeable in metric names)."),
            ));
        }
        Ok(())
    }

    /// Kafka's rack-unaware placement over the live (registered) brokers.
    fn place(&mut self, n: u32, rf: u32, start_partition: u32) -> Result<BTreeMap<u32, Vec<u32>>> {
        if n == 0 || n > MAX_PARTITIONS {
            return Err(KafkaError::new(
                ErrorCode::InvalidPartitions,
                if n == 0 {
                    "Number of partitions must be larger than 0.".to_string()
                } else {
                    format!("This simulator allows at most {MAX_PARTITIONS} partitions per topic.")
                },
            ));
        }
        let live: Vec<u32> = self.controller.live_brokers.iter().map(|b| b.0).collect();
        let (start, shift) = placement::random_start(live.len().max(1), &mut self.ctx.rng);
        placement::assign_replicas(&live, n, rf, start, shift, start_partition)
    }

    /// New partitions get a leader at once: the first live replica, with the
    /// live replicas as ISR (Kafka's NewPartition → OnlinePartition).
    fn create_partitions(&mut self, topic: &str, first: u32, replicas: Vec<Vec<BrokerId>>) {
        let live = self.controller.live_brokers.clone();
        let mut states = Vec::new();
        for (i, reps) in replicas.into_iter().enumerate() {
            let tp = TopicPartition::new(topic, first + i as u32);
            let isr: Vec<BrokerId> = reps.iter().copied().filter(|b| live.contains(b)).collect();
            let state = PartitionState {
                tp: tp.clone(),
                leader: isr.first().copied(),
                leader_epoch: 0,
                isr,
                replicas: reps,
                partition_epoch: 0,
            };
            self.emit(EventKind::LeaderElected {
                tp: tp.clone(),
                leader: state.leader,
                previous: None,
                leader_epoch: 0,
                isr: state.isr.clone(),
                reason: ElectionReason::NewPartition,
                unclean: false,
            });
            self.controller.partitions.insert(tp, state.clone());
            states.push(state);
        }
        self.publish(states);
    }

    /// Creates a broker-internal topic (`__consumer_offsets`) with placement
    /// over the live brokers.
    pub(crate) fn create_internal_topic(&mut self, name: &str, n: u32, rf: u32) -> Result<()> {
        self.require_controller()?;
        let assignment = self.place(n, rf, 0)?;
        let replicas: Vec<Vec<BrokerId>> = assignment
            .values()
            .map(|r| r.iter().map(|b| BrokerId(*b)).collect())
            .collect();
        self.controller.topics.insert(
            crate::ids::topic_name(name),
            TopicMeta {
                name: name.to_string(),
                partitions: replicas.len() as u32,
                config: TopicConfig::default(),
            },
        );
        self.emit(EventKind::TopicCreated {
            topic: name.to_string(),
            assignment: replicas.clone(),
        });
        self.create_partitions(name, 0, replicas);
        Ok(())
    }

    pub(crate) fn add_partitions(&mut self, topic: &str, total: u32) -> Result<()> {
        if topic == crate::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "The simulator does not resize __consumer_offsets: every group's coordinator would move.",
            ));
        }
        let Some(meta) = self.controller.topics.get(topic) else {
            return Err(unknown_topic(topic));
        };
        let current = meta.partitions;
        if total <= current {
            return Err(KafkaError::new(
                ErrorCode::InvalidPartitions,
                format!(
                    "Topic currently has {current} partitions, {total} would not be an increase."
                ),
            ));
        }
        self.require_controller()?;
        let p0 = &self.controller.partitions[&TopicPartition::new(topic, 0)];
        let rf = p0.replicas.len() as u32;
        let live: Vec<u32> = self.controller.live_brokers.iter().map(|b| b.0).collect();
        // Kafka starts from partition 0's first replica for new partitions.
        let start = live
            .iter()
            .position(|b| Some(BrokerId(*b)) == p0.replicas.first().copied())
            .unwrap_or(0) as u32;
        let assignment =
            placement::assign_replicas(&live, total - current, rf, start, start, current)?;
        let replicas: Vec<Vec<BrokerId>> = assignment
            .values()
            .map(|r| r.iter().map(|b| BrokerId(*b)).collect())
            .collect();
        self.controller
            .topics
            .get_mut(topic)
            .expect("exists")
            .partitions = total;
        self.emit(EventKind::PartitionsAdded {
            topic: topic.to_string(),
            assignment: replicas.clone(),
        });
        self.create_partitions(topic, current, replicas);
        Ok(())
    }

    /// Starts a reassignment: new replicas are added and catch up; once all of
    /// them are in the ISR the old ones are dropped (Kafka's KIP-455 flow).
    pub(crate) fn reassign_partition(
        &mut self,
        topic: &str,
        partition: u32,
        target: Vec<u32>,
    ) -> Result<()> {
        let tp = TopicPartition::new(topic, partition);
        let Some(state) = self.controller.partitions.get(&tp).cloned() else {
            return Err(unknown_topic(&tp.to_string()));
        };
        let known: Vec<u32> = self.brokers.keys().map(|b| b.0).collect();
        placement::validate_assignment(&BTreeMap::from([(0, target.clone())]), &known)?;
        self.require_controller()?;
        let target: Vec<BrokerId> = target.into_iter().map(BrokerId).collect();
        let mut next = state.clone();
        next.replicas = target.clone();
        next.replicas.extend(
            state
                .replicas
                .iter()
                .copied()
                .filter(|b| !target.contains(b)),
        );
        next.partition_epoch += 1;
        self.emit(EventKind::ReassignmentStarted {
            tp: tp.clone(),
            from: state.replicas.clone(),
            to: target.clone(),
        });
        self.controller.reassignments.insert(tp.clone(), target);
        self.controller.partitions.insert(tp.clone(), next.clone());
        self.publish(vec![next]);
        self.maybe_complete_reassignment(&tp);
        Ok(())
    }

    /// Completes a reassignment once every target replica is in sync.
    pub(crate) fn maybe_complete_reassignment(&mut self, tp: &TopicPartition) {
        let Some(target) = self.controller.reassignments.get(tp).cloned() else {
            return;
        };
        let state = self.controller.partitions[tp].clone();
        if !target.iter().all(|b| state.isr.contains(b)) {
            return;
        }
        self.controller.reassignments.remove(tp);
        let mut next = state.clone();
        next.replicas = target.clone();
        next.isr.retain(|b| target.contains(b));
        next.partition_epoch += 1;
        if !state.leader.is_some_and(|l| target.contains(&l)) {
            let live = &self.controller.live_brokers;
            next.leader = target
                .iter()
                .copied()
                .find(|b| next.isr.contains(b) && live.contains(b));
            next.leader_epoch += 1;
            self.emit(EventKind::LeaderElected {
                tp: tp.clone(),
                leader: next.leader,
                previous: state.leader,
                leader_epoch: next.leader_epoch,
                isr: next.isr.clone(),
                reason: ElectionReason::Reassignment,
                unclean: false,
            });
        }
        self.emit(EventKind::ReassignmentCompleted {
            tp: tp.clone(),
            replicas: target,
        });
        self.controller.partitions.insert(tp.clone(), next.clone());
        self.publish(vec![next]);
    }
}

fn validate_topic_config(config: &TopicConfig) -> Result<()> {
    if config.min_insync_replicas == Some(0) {
        return Err(KafkaError::new(
            ErrorCode::InvalidConfig,
            "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1",
        ));
    }
    if let Some(r) = config.retention_ms {
        if r < -1 {
            return Err(KafkaError::new(
                ErrorCode::InvalidConfig,
                format!(
                    "Invalid value {r} for configuration retention.ms: Value must be at least -1"
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn unknown_topic(what: &str) -> KafkaError {
    KafkaError::new(
        ErrorCode::UnknownTopicOrPartition,
        format!("This server does not host this topic-partition: {what}."),
    )
}
