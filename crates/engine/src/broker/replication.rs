//! Replication between brokers: leaders and followers change roles on the
//! controller's word (LeaderAndIsr), followers fetch from leaders, leaders
//! track each follower's log end offset, advance the high watermark, and ask
//! the controller to shrink or expand the ISR (AlterPartition).

use crate::broker::log::Log;
use crate::broker::partition::PartitionState;
use crate::broker::{FollowerProgress, LeaderState, ParkedFetch, Replica, Role};
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::ids::{BrokerId, NodeId, TopicPartition};
use crate::network::{Body, FetchPartition, FetchedData};
use crate::sim::timer::Timer;
use crate::sim::Cluster;

/// Kafka's `replica.fetch.backoff.ms`.
pub(super) const REPLICA_FETCH_BACKOFF_MS: u64 = 1_000;
/// Follower fetch timeout (Kafka's `replica.socket.timeout.ms`).
pub(super) const REPLICA_SOCKET_TIMEOUT_MS: u64 = 30_000;
/// Records per partition in one fetch response (stands in for `replica.fetch.max.bytes`).
pub(super) const MAX_FETCH_RECORDS: usize = 500;

impl Cluster {
    pub(crate) fn handle_leader_and_isr(
        &mut self,
        id: BrokerId,
        controller_epoch: u32,
        partitions: Vec<PartitionState>,
    ) {
        let broker = self.brokers.get_mut(&id).expect("live");
        if controller_epoch < broker.controller_epoch_seen {
            return; // a deposed controller's message (Kafka: STALE_CONTROLLER_EPOCH)
        }
        broker.controller_epoch_seen = controller_epoch;
        for state in partitions {
            let broker = self.brokers.get_mut(&id).expect("live");
            broker.metadata.insert(state.tp.clone(), state.clone());
            if state.replicas.contains(&id) {
                self.apply_partition_state(id, state);
            } else if let Some(replica) = broker.replicas.remove(&state.tp) {
                // Reassigned away: Kafka's StopReplica with delete.
                if let Role::Leader(ls) = replica.role {
                    self.fail_delayed_produces(id, ls.pending, &state.tp);
                    if *state.tp.topic == *crate::coordinator::OFFSETS_TOPIC {
                        self.unload_groups(id, &state.tp);
                    }
                }
            }
        }
        self.ensure_fetchers(id);
    }

    /// Acts on one partition's new state: become leader, follower, or update the ISR.
    fn apply_partition_state(&mut self, id: BrokerId, state: PartitionState) {
        let now = self.ctx.now;
        let broker = self.brokers.get_mut(&id).expect("live");
        let replica = broker
            .replicas
            .entry(state.tp.clone())
            .or_insert_with(|| Replica {
                log: Log::default(),
                high_watermark: 0,
                leader_epoch: 0,
                role: Role::Follower { leader: None },
            });
        if state.leader_epoch < replica.leader_epoch {
            return; // stale
        }
        let same_epoch = state.leader_epoch == replica.leader_epoch;
        match (&mut replica.role, state.leader == Some(id)) {
            (Role::Leader(ls), true) if same_epoch => {
                // ISR change only.
                if state.partition_epoch >= ls.partition_epoch {
                    ls.isr = state.isr.clone();
                    ls.partition_epoch = state.partition_epoch;
                    ls.alter_sent_at = None;
                    ls.proposed_isr.clear();
                    // Reassignment may add or remove followers.
                    ls.followers.retain(|b, _| state.replicas.contains(b));
                    for r in state.replicas.iter().filter(|r| **r != id) {
                        ls.followers.entry(*r).or_insert(FollowerProgress {
                            log_end_offset: 0,
                            last_caught_up: crate::ids::SimTime(0),
                            last_fetch_time: now,
                            last_fetch_leader_leo: 0,
                            high_watermark_sent: None,
                        });
                    }
                }
                self.update_high_watermark(id, &state.tp);
                self.complete_delayed_produces(id, &state.tp);
            }
            (_, true) => {
                let leo = replica.log.log_end_offset();
                let old = std::mem::replace(
                    &mut replica.role,
                    Role::Leader(new_leader_state(id, &state, leo, now)),
                );
                debug_assert!(
                    state.leader_epoch >= replica.leader_epoch,
                    "{}: a leader epoch never goes back ({} after {})",
                    state.tp,
                    state.leader_epoch,
                    replica.leader_epoch
                );
                replica.leader_epoch = state.leader_epoch;
                debug_assert!(!matches!(old, Role::Leader(_)) || !same_epoch);
                self.emit(EventKind::ReplicaRoleChanged {
                    tp: state.tp.clone(),
                    broker: id,
                    leader: true,
                    leader_epoch: state.leader_epoch,
                });
                self.check_for_lost_records(&state.tp);
                self.update_high_watermark(id, &state.tp);
                if *state.tp.topic == *crate::coordinator::OFFSETS_TOPIC {
                    self.load_groups(id, &state.tp);
                }
            }
            (role, false) => {
                let was_leader = matches!(role, Role::Leader(_));
                let old = std::mem::replace(
                    role,
                    Role::Follower {
                        leader: state.leader,
                    },
                );
                debug_assert!(
                    state.leader_epoch >= replica.leader_epoch,
                    "{}: a leader epoch never goes back",
                    state.tp
                );
                replica.leader_epoch = state.leader_epoch;
                if let Role::Leader(ls) = old {
                    self.fail_delayed_produces(id, ls.pending, &state.tp);
                    if *state.tp.topic == *crate::coordinator::OFFSETS_TOPIC {
                        self.unload_groups(id, &state.tp);
                    }
                }
                if was_leader || !same_epoch {
                    self.emit(EventKind::ReplicaRoleChanged {
                        tp: state.tp.clone(),
                        broker: id,
                        leader: false,
                        leader_epoch: state.leader_epoch,
                    });
                }
            }
        }
    }

    /// Starts a fetch to every leader this broker follows, if none is in flight.
    pub(crate) fn ensure_fetchers(&mut self, id: BrokerId) {
        let Some(broker) = self.brokers.get(&id).filter(|b| b.is_running()) else {
            return;
        };
        // One fetch per leader, in leader order; a broker follows few leaders,
        // so a list searched in place beats a map.
        let mut by_leader: Vec<(BrokerId, Vec<FetchPartition>)> = Vec::new();
        for (tp, replica) in &broker.replicas {
            if let Role::Follower {
                leader: Some(leader),
            } = replica.role
            {
                if leader != id && !broker.fetch_in_flight.contains_key(&leader) {
                    let i = match by_leader.iter().position(|(l, _)| *l == leader) {
                        Some(i) => i,
                        None => {
                            let capacity = broker.replicas.len();
                            by_leader.push((leader, Vec::with_capacity(capacity)));
                            by_leader.len() - 1
                        }
                    };
                    by_leader[i].1.push(FetchPartition {
                        tp: tp.clone(),
                        fetch_offset: replica.log.log_end_offset(),
                        last_fetched_epoch: replica.log.latest_epoch(),
                        current_leader_epoch: replica.leader_epoch,
                    });
                }
            }
        }
        by_leader.sort_unstable_by_key(|(leader, _)| *leader);
        for (leader, partitions) in by_leader {
            self.send_fetch(id, leader, partitions);
        }
    }

    fn send_fetch(&mut self, id: BrokerId, leader: BrokerId, partitions: Vec<FetchPartition>) {
        let broker = self.brokers.get_mut(&id).expect("live");
        broker.next_fetch_id += 1;
        let fetch = broker.next_fetch_id;
        let inc = broker.incarnation;
        broker.fetch_in_flight.insert(leader, fetch);
        self.send(
            NodeId::Broker(id),
            NodeId::Broker(leader),
            Body::Fetch {
                replica: id,
                partitions,
            },
        );
        self.schedule_timer(
            REPLICA_SOCKET_TIMEOUT_MS,
            Timer::FetchTimeout {
                broker: id,
                incarnation: inc,
                leader,
                fetch,
            },
        );
    }

    pub(crate) fn on_fetch_timeout(
        &mut self,
        id: BrokerId,
        inc: u32,
        leader: BrokerId,
        fetch: u64,
    ) {
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        if broker.incarnation == inc && broker.fetch_in_flight.get(&leader) == Some(&fetch) {
            broker.fetch_in_flight.remove(&leader);
            self.ensure_fetchers(id);
        }
    }

    pub(crate) fn on_fetch_backoff(&mut self, id: BrokerId, inc: u32, leader: BrokerId) {
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        if broker.incarnation != inc || !broker.is_running() {
            return;
        }
        if broker.fetch_in_flight.remove(&leader).is_some() {
            // Connection refused: wait the backoff before trying again.
            let inc = broker.incarnation;
            broker.fetch_in_flight.insert(leader, u64::MAX);
            self.schedule_timer(
                REPLICA_FETCH_BACKOFF_MS,
                Timer::FetchTimeout {
                    broker: id,
                    incarnation: inc,
                    leader,
                    fetch: u64::MAX,
                },
            );
        }
    }

    /// The leader's side of a follower fetch (Kafka's `ReplicaManager.fetchMessages`
    /// for a follower, with `Partition.updateFollowerFetchState`).
    pub(crate) fn handle_fetch(
        &mut self,
        id: BrokerId,
        follower: BrokerId,
        partitions: Vec<FetchPartition>,
    ) {
        let mut any_data = false;
        // Record the follower's positions first, then act on what moved,
        // in partition order: the reads below see the new high watermarks.
        let now = self.ctx.now;
        let broker = self.brokers.get_mut(&id).expect("live");
        let mut moved = Vec::new();
        for p in &partitions {
            let replica = broker.replicas.get_mut(&p.tp);
            if let Some(next) = replica.and_then(|r| follower_fetched(r, follower, p, now)) {
                moved.push((&p.tp, next));
            }
        }
        for (tp, next) in moved {
            if let FollowerMoved::JoinsIsr(new_isr) = next {
                self.propose_isr(id, tp, new_isr);
            }
            self.update_high_watermark(id, tp);
        }
        let data = self.read_session(id, follower, &partitions);
        any_data |= !data.is_empty();
        if any_data {
            self.send(
                NodeId::Broker(id),
                NodeId::Broker(follower),
                Body::FetchResponse { partitions: data },
            );
            return;
        }
        // Long poll: park until data arrives or replica.fetch.wait.max.ms passes.
        let broker = self.brokers.get_mut(&id).expect("live");
        broker.next_fetch_id += 1;
        let fetch = broker.next_fetch_id;
        let inc = broker.incarnation;
        broker.parked.insert(
            fetch,
            ParkedFetch {
                follower,
                partitions,
            },
        );
        let wait = self.config.broker.replica_fetch_wait_max_ms;
        self.schedule_timer(
            wait,
            Timer::FetchWait {
                broker: id,
                incarnation: inc,
                fetch,
            },
        );
    }

    /// Reads a follower's fetch session. Like Kafka's incremental fetch
    /// sessions (KIP-227), the response carries only the partitions with
    /// news for the follower (records, an error, a divergence or a new high
    /// watermark); idle partitions are left out.
    fn read_session(
        &mut self,
        id: BrokerId,
        follower: BrokerId,
        partitions: &[FetchPartition],
    ) -> Vec<FetchedData> {
        let broker = self.brokers.get_mut(&id).expect("live");
        let mut out = Vec::new();
        for p in partitions {
            let mut replica = broker.replicas.get_mut(&p.tp);
            let d = read_for_follower(replica.as_deref(), p);
            let news =
                !d.records.is_empty() || d.error.is_some() || d.diverging_end_offset.is_some();
            let progress = replica.as_mut().and_then(|r| match &mut r.role {
                Role::Leader(s) => s.followers.get_mut(&follower),
                Role::Follower { .. } => None,
            });
            match progress {
                Some(p) if !news && p.high_watermark_sent == Some(d.high_watermark) => {}
                Some(p) => {
                    p.high_watermark_sent = Some(d.high_watermark);
                    out.push(d);
                }
                None => out.push(d),
            }
        }
        out
    }

    /// HW = smallest LEO over the ISR, held while the ISR is below
    /// the effective `min.insync.replicas` (Kafka 3.7+). Never moves
    /// backwards.
    pub(crate) fn update_high_watermark(&mut self, id: BrokerId, tp: &TopicPartition) {
        let Some(isr_len) = self.leader_isr_len(id, tp) else {
            return;
        };
        if self.under_min_isr(tp, isr_len) {
            return;
        }
        let Some(replica) = self.replica_mut(id, tp) else {
            return;
        };
        let leo = replica.log.log_end_offset();
        let Role::Leader(state) = &replica.role else {
            return;
        };
        let new_hw = state
            .isr
            .iter()
            .chain(&state.proposed_isr)
            .filter(|b| **b != id)
            .map(|b| state.followers.get(b).map_or(0, |f| f.log_end_offset))
            .fold(leo, u64::min);
        if new_hw > replica.high_watermark {
            debug_assert!(new_hw <= leo, "{tp}: the leader's HW stays within its log");
            replica.high_watermark = new_hw;
            self.emit(EventKind::HighWatermarkAdvanced {
                tp: tp.clone(),
                broker: id,
                high_watermark: new_hw,
            });
            self.complete_delayed_produces(id, tp);
            self.on_high_watermark_advanced(id, tp);
        }
    }

    /// New data on a leader: single-replica ISRs move the HW at once, and parked
    /// follower fetches for the partition are answered.
    pub(crate) fn on_leader_append(&mut self, id: BrokerId, tp: &TopicPartition) {
        self.update_high_watermark(id, tp);
        let parked: Vec<u64> = self.brokers[&id]
            .parked
            .iter()
            .filter(|(_, f)| f.partitions.iter().any(|p| &p.tp == tp))
            .map(|(k, _)| *k)
            .collect();
        for fetch in parked {
            self.answer_parked_fetch(id, fetch);
        }
    }

    /// Parked consumer fetches and pending offset commits wait for the HW.
    fn on_high_watermark_advanced(&mut self, id: BrokerId, tp: &TopicPartition) {
        let parked: Vec<u64> = self.brokers[&id]
            .parked_consumers
            .iter()
            .filter(|(_, f)| f.partitions.iter().any(|p| &p.tp == tp))
            .map(|(k, _)| *k)
            .collect();
        for fetch in parked {
            self.answer_parked_fetch(id, fetch);
        }
        if *tp.topic == *crate::coordinator::OFFSETS_TOPIC {
            self.complete_pending_writes(id, tp);
        }
    }

    fn answer_parked_fetch(&mut self, id: BrokerId, fetch: u64) {
        if let Some(parked) = self
            .brokers
            .get_mut(&id)
            .and_then(|b| b.parked_consumers.remove(&fetch))
        {
            let data: Vec<FetchedData> = parked
                .partitions
                .iter()
                .map(|p| self.brokers[&id].read_for_consumer(p))
                .collect();
            return self.send(
                NodeId::Broker(id),
                NodeId::Consumer(parked.consumer),
                Body::FetchResponse { partitions: data },
            );
        }
        let Some(parked) = self
            .brokers
            .get_mut(&id)
            .and_then(|b| b.parked.remove(&fetch))
        else {
            return;
        };
        let data = self.read_session(id, parked.follower, &parked.partitions);
        self.send(
            NodeId::Broker(id),
            NodeId::Broker(parked.follower),
            Body::FetchResponse { partitions: data },
        );
    }

    pub(crate) fn on_fetch_wait(&mut self, id: BrokerId, inc: u32, fetch: u64) {
        if self
            .brokers
            .get(&id)
            .is_some_and(|b| b.incarnation == inc && b.is_running())
        {
            self.answer_parked_fetch(id, fetch);
        }
    }

    /// The follower's side: truncate on divergence, append, take the leader's HW.
    pub(crate) fn handle_fetch_response(
        &mut self,
        id: BrokerId,
        leader: BrokerId,
        partitions: Vec<FetchedData>,
    ) {
        let broker = self.brokers.get_mut(&id).expect("live");
        broker.fetch_in_flight.remove(&leader);
        let mut all_failed = !partitions.is_empty();
        for data in partitions {
            all_failed &= data.error.is_some();
            self.apply_fetched(id, leader, data);
        }
        if all_failed {
            let inc = self.brokers[&id].incarnation;
            self.brokers
                .get_mut(&id)
                .expect("live")
                .fetch_in_flight
                .insert(leader, u64::MAX);
            self.schedule_timer(
                REPLICA_FETCH_BACKOFF_MS,
                Timer::FetchTimeout {
                    broker: id,
                    incarnation: inc,
                    leader,
                    fetch: u64::MAX,
                },
            );
        } else {
            self.ensure_fetchers(id);
        }
    }

    fn apply_fetched(&mut self, id: BrokerId, leader: BrokerId, data: FetchedData) {
        let Some(replica) = self.replica_mut(id, &data.tp) else {
            return;
        };
        if !matches!(replica.role, Role::Follower { leader: Some(l) } if l == leader)
            || data.error.is_some()
        {
            return;
        }
        if let Some(end) = data.diverging_end_offset {
            let leo = replica.log.log_end_offset();
            let to = end.min(leo);
            replica.log.truncate_to(to);
            replica.high_watermark = replica.high_watermark.min(to);
            debug_assert_eq!(replica.log.log_end_offset(), to, "{}: truncated", data.tp);
            if to < leo {
                self.emit(EventKind::LogTruncated {
                    tp: data.tp.clone(),
                    broker: id,
                    from_offset: leo,
                    to_offset: to,
                });
                self.check_for_lost_records(&data.tp);
            }
            return;
        }
        let base = replica.log.log_end_offset();
        let count = replica.log.append_fetched(&data.records);
        let new_hw = data.high_watermark.min(replica.log.log_end_offset());
        let hw_moved = new_hw > replica.high_watermark;
        if hw_moved {
            replica.high_watermark = new_hw;
        }
        debug_assert!(
            replica.high_watermark <= replica.log.log_end_offset(),
            "{}: a follower's HW stays within its log",
            data.tp
        );
        if count > 0 {
            self.emit(EventKind::RecordsAppended {
                tp: data.tp.clone(),
                broker: id,
                base_offset: base,
                count,
                leader: false,
            });
        }
        if hw_moved {
            self.emit(EventKind::HighWatermarkAdvanced {
                tp: data.tp,
                broker: id,
                high_watermark: new_hw,
            });
        }
    }
}

/// An AlterPartition is awaiting its answer; after 5 s Kafka would have
/// retried, so the leader may propose again.
pub(super) fn alter_pending(state: &LeaderState, now: crate::ids::SimTime) -> bool {
    state.alter_sent_at.is_some_and(|t| now.since(t) < 5_000)
}

/// What a follower's fetch changed on the leader's replica.
pub(super) enum FollowerMoved {
    /// Its log end offset moved, or an ISR change is pending: the high
    /// watermark may move.
    Offset,
    /// It caught up: propose this ISR with it, then see the high watermark.
    JoinsIsr(Vec<BrokerId>),
}

/// Records the follower's position on the leader's replica, per Kafka's
/// `Replica.updateFetchStateOrThrow`, and says what may follow. `None`
/// when nothing the high watermark depends on changed: every other change
/// (leader append, ISR committed or proposed, new leadership) recomputes it
/// where it happens. Most partitions of a fetch session are idle, so that
/// is the common case.
pub(super) fn follower_fetched(
    replica: &mut Replica,
    follower: BrokerId,
    p: &FetchPartition,
    now: crate::ids::SimTime,
) -> Option<FollowerMoved> {
    if p.current_leader_epoch != replica.leader_epoch || diverging_offset(&replica.log, p).is_some()
    {
        return None;
    }
    let leader_leo = replica.log.log_end_offset();
    let hw = replica.high_watermark;
    let Role::Leader(state) = &mut replica.role else {
        return None;
    };
    let progress = state.followers.get_mut(&follower)?;
    let offset = p.fetch_offset.min(leader_leo);
    if offset >= leader_leo {
        progress.last_caught_up = progress.last_caught_up.max(now);
    } else if offset >= progress.last_fetch_leader_leo {
        progress.last_caught_up = progress.last_caught_up.max(progress.last_fetch_time);
    }
    progress.last_fetch_leader_leo = leader_leo;
    progress.last_fetch_time = now;
    let moved = progress.log_end_offset != offset;
    progress.log_end_offset = offset;
    // Kafka's isFollowerInSync: caught up to the HW and to this epoch's start.
    let wants_in = !state.isr.contains(&follower)
        && offset >= hw
        && offset >= state.epoch_start_offset
        && !alter_pending(state, now);
    if wants_in {
        let mut new_isr = state.isr.clone();
        new_isr.push(follower);
        Some(FollowerMoved::JoinsIsr(new_isr))
    } else if moved || !state.proposed_isr.is_empty() {
        Some(FollowerMoved::Offset)
    } else {
        None
    }
}

/// The leader replica a fetch may read, or Kafka's error: not the leader,
/// or a leader epoch older (fenced) or newer (unknown) than the leader's.
pub(super) fn fetch_target(
    replica: Option<&Replica>,
    current_leader_epoch: u32,
) -> Result<&Replica, ErrorCode> {
    let replica = replica
        .filter(|r| r.is_leader())
        .ok_or(ErrorCode::NotLeaderOrFollower)?;
    match current_leader_epoch.cmp(&replica.leader_epoch) {
        std::cmp::Ordering::Equal => Ok(replica),
        std::cmp::Ordering::Less => Err(ErrorCode::FencedLeaderEpoch),
        std::cmp::Ordering::Greater => Err(ErrorCode::UnknownLeaderEpoch),
    }
}

/// The leader's read for one partition of a follower's fetch.
pub(super) fn read_for_follower(replica: Option<&Replica>, p: &FetchPartition) -> FetchedData {
    let mut out = FetchedData::empty(&p.tp);
    let replica = match fetch_target(replica, p.current_leader_epoch) {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    out.high_watermark = replica.high_watermark;
    if let Some(diverging) = diverging_offset(&replica.log, p) {
        out.diverging_end_offset = Some(diverging);
        return out;
    }
    out.records = replica.log.read_from(p.fetch_offset, MAX_FETCH_RECORDS);
    out
}

/// Where a follower's log diverges from the leader's, using the follower's
/// last fetched epoch (Kafka's fetch-with-divergence, KIP-320 / KIP-595).
pub(super) fn diverging_offset(leader_log: &Log, p: &FetchPartition) -> Option<u64> {
    let epoch = p.last_fetched_epoch?;
    match leader_log.end_offset_for_epoch(epoch) {
        None => (p.fetch_offset > 0).then_some(0),
        Some((found, end)) => {
            (found != epoch || end < p.fetch_offset).then_some(end.min(p.fetch_offset))
        }
    }
}

/// A new leader's state: the ISR and partition epoch it was given, its log
/// end as where the epoch starts, and a clock for each follower. Kafka
/// starts the ISR members' "caught up" clocks at now on a new leader.
fn new_leader_state(
    id: BrokerId,
    state: &PartitionState,
    leo: u64,
    now: crate::ids::SimTime,
) -> LeaderState {
    let followers = state
        .replicas
        .iter()
        .filter(|r| **r != id)
        .map(|r| {
            let progress = FollowerProgress {
                log_end_offset: 0,
                last_caught_up: if state.isr.contains(r) {
                    now
                } else {
                    crate::ids::SimTime(0)
                },
                last_fetch_time: now,
                last_fetch_leader_leo: 0,
                high_watermark_sent: None,
            };
            (*r, progress)
        })
        .collect();
    LeaderState {
        isr: state.isr.clone(),
        partition_epoch: state.partition_epoch,
        epoch_start_offset: leo,
        followers,
        pending: Vec::new(),
        alter_sent_at: None,
        proposed_isr: Vec::new(),
    }
}
