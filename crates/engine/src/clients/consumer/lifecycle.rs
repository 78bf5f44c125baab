//! What a user does to a consumer: create, crash, restart, close, pause, slow its
//! processing, commit and seek, each validated before anything changes.

use super::*;
use crate::config::ConsumerConfig;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{ConsumerId, NodeId, TopicPartition};
use crate::network::{Body, OffsetSpec};
use crate::sim::timer::Timer;
use crate::sim::Cluster;
use std::collections::{BTreeMap, VecDeque};

impl Cluster {
    pub(super) fn existing_consumer(&self, id: ConsumerId) -> Result<ConsumerId> {
        if self.consumers.contains_key(&id) {
            Ok(id)
        } else {
            Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("There is no consumer {}.", id.0),
            ))
        }
    }

    /// The consumer `id`, if it exists and runs.
    pub(super) fn running_consumer(&self, id: ConsumerId) -> Result<ConsumerId> {
        let cid = self.existing_consumer(id)?;
        if self.consumers[&cid].is_running() {
            Ok(cid)
        } else {
            Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{cid} is not running."),
            ))
        }
    }

    pub(crate) fn create_consumer(
        &mut self,
        id: Option<ConsumerId>,
        config: ConsumerConfig,
        subscription: Subscription,
    ) -> Result<()> {
        let id = match id {
            Some(id) => id,
            None => ConsumerId(self.consumers.keys().map(|c| c.0 + 1).max().unwrap_or(1)),
        };
        if self.consumers.contains_key(&id) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("Consumer {id} already exists."),
            ));
        }
        if self.consumers.len() >= 64 {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "This simulator runs at most 64 consumers.",
            ));
        }
        validate_consumer(&config, &subscription, |t| {
            self.controller.topics.contains_key(t)
        })?;
        let cid = id;
        let group_key = config.group_id.clone().unwrap_or_else(|| cid.to_string());
        let known_brokers = self.brokers.keys().copied().collect();
        let group = config.group_id.clone();
        self.consumers.insert(
            cid,
            Consumer {
                id: cid,
                config,
                subscription,
                status: ConsumerStatus::Running,
                incarnation: 0,
                known_brokers,
                next_bootstrap: 0,
                metadata: BTreeMap::new(),
                routes: BTreeMap::new(),
                metadata_in_flight: None,
                coordinator: None,
                find_in_flight: None,
                member_id: None,
                generation: -1,
                member_state: MemberState::Unjoined,
                group_request_at: None,
                leader: false,
                needs_rejoin: false,
                pending_assignment: None,
                assigned: BTreeMap::new(),
                fetch_in_flight: BTreeMap::new(),
                buffer: BTreeMap::new(),
                in_hand: VecDeque::new(),
                app: AppState::Idle,
                after_commit: AfterCommit::Poll,
                next_commit: 0,
                commit_to_retry: None,
                commit_in_flight: None,
                commit_sent_at: None,
                last_auto_commit: self.ctx.now,
                last_poll: self.ctx.now,
                processed: Default::default(),
                processed_total: 0,
                duplicates: 0,
                processing: false,
                runs: BTreeMap::new(),
                bootstrap_target: None,
                retry_pending: false,
                last_coordinator: None,
                group_key,
                group_name: group.as_deref().map(Into::into),
                assigned_counts: BTreeMap::new(),
            },
        );
        self.emit(EventKind::ConsumerCreated {
            consumer: cid,
            group,
        });
        self.start_consumer(cid);
        Ok(())
    }

    pub(super) fn start_consumer(&mut self, cid: ConsumerId) {
        let now = self.ctx.now;
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.status = ConsumerStatus::Running;
        c.incarnation += 1;
        c.last_auto_commit = now;
        c.last_poll = now;
        let inc = c.incarnation;
        let heartbeat = c.config.heartbeat_interval_ms;
        if let Subscription::Partitions(tps) = &c.subscription {
            c.assigned = tps
                .iter()
                .map(|tp| (tp.clone(), fresh_assigned()))
                .collect();
        }
        self.schedule_timer(
            heartbeat,
            Timer::ConsumerHeartbeat {
                consumer: cid,
                incarnation: inc,
            },
        );
        self.consumer_request_metadata(cid);
        self.consumer_find_coordinator(cid);
        if !self.consumers[&cid].is_group_managed() {
            let tps = self.consumers[&cid].owned();
            self.emit(EventKind::PartitionsAssigned {
                consumer: cid,
                generation: -1,
                partitions: tps,
            });
            self.resolve_positions(cid);
        }
    }

    pub(crate) fn crash_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.status = ConsumerStatus::Crashed;
        forget_session(c);
        let key = group_key(c);
        self.note_disruption(&key, format!("{cid} crashed before committing"));
        self.emit(EventKind::ConsumerCrashed { consumer: cid });
        Ok(())
    }

    /// Starts a crashed or closed consumer again with the same configuration;
    /// a static member keeps its `group.instance.id`.
    pub(crate) fn restart_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let cid = self.existing_consumer(id)?;
        if self.consumers[&cid].is_running() {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{cid} is already running."),
            ));
        }
        self.emit(EventKind::ConsumerRestarted { consumer: cid });
        self.start_consumer(cid);
        Ok(())
    }

    /// `commitAsync()` of the current positions. Kafka refuses it for a
    /// consumer without `group.id`; with nothing consumed yet it commits
    /// nothing.
    pub(crate) fn commit_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = &self.consumers[&cid];
        if c.group().is_none() {
            return Err(no_group_id());
        }
        let offsets = c.positions();
        if offsets.is_empty() {
            return Ok(());
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        let commit = c.next_commit;
        c.next_commit += 1;
        self.send_commit(cid, commit, offsets);
        Ok(())
    }

    /// `consumer.pause(consumer.assignment())` (`pause: true`) or
    /// `resume()`: a paused partition is not fetched and `poll()` returns
    /// none of its records, while the consumer goes on polling, so it keeps
    /// its place in the group.
    pub(crate) fn pause_consumer(&mut self, id: ConsumerId, pause: bool) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = self.consumers.get_mut(&cid).expect("exists");
        let partitions: Vec<TopicPartition> = c
            .assigned
            .iter_mut()
            .filter(|(_, a)| a.paused != pause)
            .map(|(tp, a)| {
                a.paused = pause;
                tp.clone()
            })
            .collect();
        self.emit(EventKind::ConsumerPaused {
            consumer: cid,
            paused: pause,
            partitions,
        });
        if !pause {
            self.consumer_fetch(cid);
            if self.consumers[&cid].app == AppState::Idle {
                self.consumer_poll(cid);
            }
        }
        Ok(())
    }

    /// How long the simulated application takes per record
    /// (`processing.ms`, the simulator's; not a Kafka setting), from the
    /// next record on.
    pub(crate) fn set_consumer_processing(
        &mut self,
        id: ConsumerId,
        processing_ms: u64,
    ) -> Result<()> {
        let cid = self.existing_consumer(id)?;
        if processing_ms > MAX_PROCESSING_MS {
            return Err(KafkaError::new(
                ErrorCode::InvalidConfig,
                format!("The simulator's processing.ms is at most {MAX_PROCESSING_MS} ms (10 minutes); {processing_ms} was given."),
            ));
        }
        self.consumers
            .get_mut(&cid)
            .expect("exists")
            .config
            .processing_ms = processing_ms;
        self.emit(EventKind::ConsumerProcessingSet {
            consumer: cid,
            processing_ms,
        });
        Ok(())
    }

    /// `consumer.close()`: commit if auto-commit is on, leave the group.
    pub(crate) fn close_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let cid = self.running_consumer(id)?;
        let c = &self.consumers[&cid];
        if let (Some(group), Some(coord)) = (c.group().map(str::to_string), c.coordinator) {
            let commit = (c.config.enable_auto_commit && c.member_state == MemberState::Stable)
                .then(|| {
                    Body::OffsetCommit(crate::network::OffsetCommitRequest {
                        group: group.clone(),
                        generation: c.generation,
                        member_id: c.member_id.clone().unwrap_or_default(),
                        offsets: c.positions(),
                        commit: u64::MAX,
                    })
                });
            // Static members stay in the group until their session times out.
            let leave = c
                .member_id
                .clone()
                .filter(|_| c.config.group_instance_id.is_none())
                .map(|member_id| Body::LeaveGroup { group, member_id });
            for body in commit.into_iter().chain(leave) {
                self.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
            }
        }
        let c = self.consumers.get_mut(&cid).expect("exists");
        c.status = ConsumerStatus::Closed;
        forget_session(c);
        let key = group_key(c);
        self.note_disruption(&key, format!("{cid} closed"));
        self.emit(EventKind::ConsumerClosed { consumer: cid });
        Ok(())
    }

    /// `seek`, `seekToBeginning`, `seekToEnd` on an assigned partition.
    pub(crate) fn seek_consumer(
        &mut self,
        id: ConsumerId,
        tp: TopicPartition,
        to: SeekTo,
    ) -> Result<()> {
        let cid = self.existing_consumer(id)?;
        let c = self.consumers.get_mut(&cid).expect("exists");
        if !c.assigned.contains_key(&tp) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("No current assignment for partition {tp}: {cid} can only seek partitions it owns."),
            ));
        }
        c.buffer.remove(&tp);
        let key = group_key(c);
        self.note_disruption(&key, format!("{cid} moved its position with seek"));
        let c = self.consumers.get_mut(&cid).expect("exists");
        let a = c.assigned.get_mut(&tp).expect("checked");
        match to {
            SeekTo::Offset(o) => {
                a.position = Some(o);
                a.fetch_position = Some(o);
                a.out_of_range = false;
                *c.runs.entry(tp.clone()).or_default() += 1;
                self.emit(EventKind::PositionSeeked {
                    consumer: cid,
                    tp,
                    offset: o,
                });
                self.consumer_fetch(cid);
            }
            SeekTo::Beginning | SeekTo::End => {
                a.position = None;
                a.fetch_position = None;
                a.resolving = true;
                a.resolving_since = Some(self.ctx.now);
                a.seeking = true;
                let spec = if to == SeekTo::Beginning {
                    OffsetSpec::Earliest
                } else {
                    OffsetSpec::Latest
                };
                self.list_offsets(cid, tp, spec);
            }
        }
        Ok(())
    }
}
