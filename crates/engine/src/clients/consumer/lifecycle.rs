//! What a user does to a consumer: create, crash, restart, close, pause, slow its
//! processing, commit and seek, each validated before anything changes.

use super::*;
use crate::config::ConsumerConfig;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::EventKind;
use crate::ids::{ConsumerId, NodeId, TopicPartition};
use crate::network::{Body, OffsetSpec};
use crate::sim::timer::Timer;
use crate::sim::{Cluster, Ctx};
use std::collections::{BTreeMap, VecDeque};

impl Cluster {
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
        if let Some(c) = self.consumers.get_mut(&cid) {
            c.start(&mut self.ctx);
        }
        Ok(())
    }

    pub(crate) fn crash_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let c = running(&mut self.consumers, id)?;
        c.crash(&mut self.ctx);
        Ok(())
    }

    /// Starts a crashed or closed consumer again with the same configuration;
    /// a static member keeps its `group.instance.id`.
    pub(crate) fn restart_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let c = existing(&mut self.consumers, id)?;
        if c.is_running() {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{id} is already running."),
            ));
        }
        self.ctx.emit(EventKind::ConsumerRestarted { consumer: id });
        c.start(&mut self.ctx);
        Ok(())
    }

    /// `commitAsync()` of the current positions. Kafka refuses it for a
    /// consumer without `group.id`; with nothing consumed yet it commits
    /// nothing.
    pub(crate) fn commit_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let c = running(&mut self.consumers, id)?;
        if c.group().is_none() {
            return Err(no_group_id());
        }
        c.commit_async(&mut self.ctx);
        Ok(())
    }

    /// `consumer.pause(consumer.assignment())` (`pause: true`) or
    /// `resume()`.
    pub(crate) fn pause_consumer(&mut self, id: ConsumerId, pause: bool) -> Result<()> {
        let c = running(&mut self.consumers, id)?;
        c.pause(&mut self.ctx, pause);
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
        let c = existing(&mut self.consumers, id)?;
        if processing_ms > MAX_PROCESSING_MS {
            return Err(KafkaError::new(
                ErrorCode::InvalidConfig,
                format!("The simulator's processing.ms is at most {MAX_PROCESSING_MS} ms (10 minutes); {processing_ms} was given."),
            ));
        }
        c.config.processing_ms = processing_ms;
        self.ctx.emit(EventKind::ConsumerProcessingSet {
            consumer: id,
            processing_ms,
        });
        Ok(())
    }

    /// `consumer.close()`: commit if auto-commit is on, leave the group.
    pub(crate) fn close_consumer(&mut self, id: ConsumerId) -> Result<()> {
        let c = running(&mut self.consumers, id)?;
        c.close(&mut self.ctx);
        Ok(())
    }

    /// `seek`, `seekToBeginning`, `seekToEnd` on an assigned partition.
    pub(crate) fn seek_consumer(
        &mut self,
        id: ConsumerId,
        tp: TopicPartition,
        to: SeekTo,
    ) -> Result<()> {
        let c = existing(&mut self.consumers, id)?;
        if !c.assigned.contains_key(&tp) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("No current assignment for partition {tp}: {id} can only seek partitions it owns."),
            ));
        }
        c.seek(&mut self.ctx, tp, to);
        Ok(())
    }
}

fn existing(
    consumers: &mut BTreeMap<ConsumerId, Consumer>,
    id: ConsumerId,
) -> Result<&mut Consumer> {
    consumers.get_mut(&id).ok_or_else(|| {
        KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("There is no consumer {}.", id.0),
        )
    })
}

/// The consumer `id`, if it exists and runs.
fn running(
    consumers: &mut BTreeMap<ConsumerId, Consumer>,
    id: ConsumerId,
) -> Result<&mut Consumer> {
    let c = existing(consumers, id)?;
    if c.is_running() {
        Ok(c)
    } else {
        Err(KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("{id} is not running."),
        ))
    }
}

/// What the application does to its consumer, once the command is checked.
impl Consumer {
    pub(super) fn start(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        let now = ctx.now;
        self.status = ConsumerStatus::Running;
        self.incarnation += 1;
        self.last_auto_commit = now;
        self.last_poll = now;
        let incarnation = self.incarnation;
        if let Subscription::Partitions(tps) = &self.subscription {
            self.assigned = tps
                .iter()
                .map(|tp| (tp.clone(), fresh_assigned()))
                .collect();
        }
        ctx.schedule_timer(
            self.config.heartbeat_interval_ms,
            Timer::ConsumerHeartbeat {
                consumer: cid,
                incarnation,
            },
        );
        self.request_metadata(ctx);
        self.find_coordinator(ctx);
        if !self.is_group_managed() {
            let tps = self.owned();
            ctx.emit(EventKind::PartitionsAssigned {
                consumer: cid,
                generation: -1,
                partitions: tps,
            });
            self.resolve_positions(ctx);
        }
    }

    fn crash(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        self.status = ConsumerStatus::Crashed;
        forget_session(self);
        let key = group_key(self);
        ctx.delivery
            .note_disruption(&key, format!("{cid} crashed before committing"));
        ctx.emit(EventKind::ConsumerCrashed { consumer: cid });
    }

    fn commit_async(&mut self, ctx: &mut Ctx) {
        let offsets = self.positions();
        if offsets.is_empty() {
            return;
        }
        let commit = self.next_commit;
        self.next_commit += 1;
        self.send_commit(ctx, commit, offsets);
    }

    /// A paused partition is not fetched and `poll()` returns none of its
    /// records, while the consumer goes on polling, so it keeps its place
    /// in the group.
    fn pause(&mut self, ctx: &mut Ctx, pause: bool) {
        let partitions: Vec<TopicPartition> = self
            .assigned
            .iter_mut()
            .filter(|(_, a)| a.paused != pause)
            .map(|(tp, a)| {
                a.paused = pause;
                tp.clone()
            })
            .collect();
        ctx.emit(EventKind::ConsumerPaused {
            consumer: self.id,
            paused: pause,
            partitions,
        });
        if !pause {
            self.fetch(ctx);
            if self.app == AppState::Idle {
                self.poll(ctx);
            }
        }
    }

    fn close(&mut self, ctx: &mut Ctx) {
        let cid = self.id;
        if let (Some(group), Some(coord)) = (self.group().map(str::to_string), self.coordinator) {
            let commit = (self.config.enable_auto_commit
                && self.member_state == MemberState::Stable)
                .then(|| {
                    Body::OffsetCommit(crate::network::OffsetCommitRequest {
                        group: group.clone(),
                        generation: self.generation,
                        member_id: self.member_id.clone().unwrap_or_default(),
                        offsets: self.positions(),
                        commit: u64::MAX,
                    })
                });
            // Static members stay in the group until their session times out.
            let leave = self
                .member_id
                .clone()
                .filter(|_| self.config.group_instance_id.is_none())
                .map(|member_id| Body::LeaveGroup { group, member_id });
            for body in commit.into_iter().chain(leave) {
                ctx.send(NodeId::Consumer(cid), NodeId::Broker(coord), body);
            }
        }
        self.status = ConsumerStatus::Closed;
        forget_session(self);
        let key = group_key(self);
        ctx.delivery.note_disruption(&key, format!("{cid} closed"));
        ctx.emit(EventKind::ConsumerClosed { consumer: cid });
    }

    fn seek(&mut self, ctx: &mut Ctx, tp: TopicPartition, to: SeekTo) {
        let cid = self.id;
        self.buffer.remove(&tp);
        let key = group_key(self);
        ctx.delivery
            .note_disruption(&key, format!("{cid} moved its position with seek"));
        let Some(a) = self.assigned.get_mut(&tp) else {
            return;
        };
        match to {
            SeekTo::Offset(o) => {
                a.position = Some(o);
                a.fetch_position = Some(o);
                a.out_of_range = false;
                *self.runs.entry(tp.clone()).or_default() += 1;
                ctx.emit(EventKind::PositionSeeked {
                    consumer: cid,
                    tp,
                    offset: o,
                });
                self.fetch(ctx);
            }
            SeekTo::Beginning | SeekTo::End => {
                a.position = None;
                a.fetch_position = None;
                a.resolving = true;
                a.resolving_since = Some(ctx.now);
                a.seeking = true;
                let spec = if to == SeekTo::Beginning {
                    OffsetSpec::Earliest
                } else {
                    OffsetSpec::Latest
                };
                self.list_offsets(ctx, tp, spec);
            }
        }
    }
}
