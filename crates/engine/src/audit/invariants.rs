//! Named invariants of a Kafka cluster, checked after every event in the
//! property tests. Each is a small function returning what broke, if anything.
//! Some need memory of the past (the high watermark never moves backwards in
//! an epoch, one leader per epoch): `Checker` carries that between checks.

use crate::broker::Role;
use crate::ids::{BrokerId, TopicPartition};
use crate::sim::Cluster;
use std::collections::BTreeMap;

/// Which rule broke, where, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

fn violation(invariant: &'static str, detail: String) -> Violation {
    Violation { invariant, detail }
}

/// The controller's leader is always a member of the ISR (unclean elections
/// make the ISR exactly the new leader, so this holds for them too).
pub fn leader_is_in_isr(c: &Cluster) -> Result<(), Violation> {
    for s in c.controller.partitions.values() {
        if let Some(l) = s.leader {
            if !s.isr.contains(&l) {
                return Err(violation(
                    "leader_is_in_isr",
                    format!("{}: leader {} not in ISR {:?}", s.tp, l.0, s.isr),
                ));
            }
        }
    }
    Ok(())
}

/// No replica's high watermark is beyond its log end offset.
pub fn high_watermark_le_log_end(c: &Cluster) -> Result<(), Violation> {
    for b in c.brokers.values() {
        for (tp, r) in &b.replicas {
            if r.high_watermark > r.log.log_end_offset() {
                return Err(violation(
                    "high_watermark_le_log_end",
                    format!(
                        "{tp} on broker {}: HW {} > LEO {}",
                        b.id.0,
                        r.high_watermark,
                        r.log.log_end_offset()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// An idempotent producer's records appear in every replica's log in the
/// order it sent them: their sequence numbers only rise (Kafka keeps that
/// order across retries and failovers on the client,
/// `RecordAccumulator.shouldStopDrainBatchesForPartition`).
pub fn idempotent_records_in_order(c: &Cluster) -> Result<(), Violation> {
    for b in c.brokers.values() {
        for (tp, r) in &b.replicas {
            let mut last: BTreeMap<crate::ids::ProducerId, (u64, u64)> = BTreeMap::new();
            for rec in r.log.records() {
                let Some(seq) = rec.sequence else {
                    continue;
                };
                if let Some((before, at)) = last.insert(rec.producer, (seq, rec.offset)) {
                    if before >= seq {
                        return Err(violation(
                            "idempotent_records_in_order",
                            format!(
                                "{tp} on broker {}: {} sequence {seq} at offset {} after sequence {before} at offset {at}",
                                b.id.0, rec.producer, rec.offset
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Every log holds offsets 0, 1, 2, ... with no gap or repeat.
pub fn offsets_contiguous(c: &Cluster) -> Result<(), Violation> {
    for b in c.brokers.values() {
        for (tp, r) in &b.replicas {
            if let Some((i, rec)) = r
                .log
                .records()
                .enumerate()
                .find(|(i, rec)| rec.offset != *i as u64)
            {
                return Err(violation(
                    "offsets_contiguous",
                    format!(
                        "{tp} on broker {}: position {i} holds offset {}",
                        b.id.0, rec.offset
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Below the leader's high watermark, every live in-sync replica holds the
/// same records as the leader (what it has of them).
pub fn replicas_agree_below_high_watermark(c: &Cluster) -> Result<(), Violation> {
    for s in c.controller.partitions.values() {
        let Some(leader) = s.leader else { continue };
        let Some(lr) = acting_leader_replica(c, leader, &s.tp) else {
            continue;
        };
        for f in s.isr.iter().filter(|b| **b != leader) {
            let Some(fr) = c
                .brokers
                .get(f)
                .filter(|b| b.is_running())
                .and_then(|b| b.replicas.get(&s.tp))
            else {
                continue;
            };
            let upto = lr.high_watermark.min(fr.log.log_end_offset());
            for o in 0..upto {
                let (a, b) = (lr.log.get(o).map(|r| r.id), fr.log.get(o).map(|r| r.id));
                if a != b {
                    return Err(violation(
                        "replicas_agree_below_high_watermark",
                        format!(
                            "{}: offset {o} differs between leader {} and follower {}",
                            s.tp, leader.0, f.0
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn acting_leader_replica<'a>(
    c: &'a Cluster,
    leader: BrokerId,
    tp: &TopicPartition,
) -> Option<&'a crate::broker::Replica> {
    c.brokers
        .get(&leader)
        .filter(|b| b.is_running())
        .and_then(|b| b.replicas.get(tp))
        .filter(|r| matches!(r.role, Role::Leader(_)))
}

/// Within a group, no partition is owned by two running members that
/// believe they are in the same generation.
pub fn no_partition_owned_twice_in_a_generation(c: &Cluster) -> Result<(), Violation> {
    let mut owner: BTreeMap<(&str, i32, &TopicPartition), u32> = BTreeMap::new();
    for consumer in c.consumers.values() {
        if consumer.status != crate::clients::consumer::ConsumerStatus::Running
            || !matches!(
                consumer.subscription,
                crate::clients::consumer::Subscription::Topics(_)
            )
        {
            continue;
        }
        let Some(group) = consumer.config.group_id.as_deref() else {
            continue;
        };
        for tp in consumer.assigned.keys() {
            if let Some(other) = owner.insert((group, consumer.generation, tp), consumer.id.0) {
                return Err(violation(
                    "no_partition_owned_twice_in_a_generation",
                    format!(
                        "{tp}: consumers {other} and {} of group {group} both own it in generation {}",
                        consumer.id.0, consumer.generation
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A consumer processes each partition in offset order without skipping
/// or repeating, except where its position was set anew (committed offset,
/// reset, seek): within one such run, offsets are consecutive.
pub fn consumers_read_in_order(c: &Cluster) -> Result<(), Violation> {
    for consumer in c.consumers.values() {
        let mut last: BTreeMap<(&TopicPartition, u32), u64> = BTreeMap::new();
        for p in &consumer.processed {
            if let Some(prev) = last.insert((&p.tp, p.run), p.offset) {
                if p.offset != prev + 1 {
                    return Err(violation(
                        "consumers_read_in_order",
                        format!(
                            "consumer {} processed {}@{} right after offset {prev}",
                            consumer.id.0, p.tp, p.offset
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A record processed twice by one group always follows a crash, rebalance,
/// seek, failed commit or coordinator move, and is reported as a duplicate.
pub fn duplicates_are_explained(c: &Cluster) -> Result<(), Violation> {
    for consumer in c.consumers.values() {
        if let Some(p) = consumer.processed.iter().find(|p| p.again && !p.explained) {
            return Err(violation(
                "duplicates_are_explained",
                format!(
                    "consumer {} processed {}@{} again with nothing to explain it",
                    consumer.id.0, p.tp, p.offset
                ),
            ));
        }
    }
    Ok(())
}

/// The loss ledger loses nothing itself: every record a producer counted as
/// acknowledged is still held, on its way (`acks=0`), or listed as lost.
pub fn acknowledged_records_are_accounted_for(c: &Cluster) -> Result<(), Violation> {
    match c.ledger.unbalanced() {
        None => Ok(()),
        Some((held, on_the_way, lost)) => Err(violation(
            "acknowledged_records_are_accounted_for",
            format!(
                "{} acknowledged, but {held} held + {on_the_way} on the way + {lost} lost",
                c.ledger.acknowledged_total
            ),
        )),
    }
}

/// Invariants that need memory of earlier states.
#[derive(Debug, Default, Clone)]
pub struct Checker {
    /// (partition, leader epoch) → the one broker that led it.
    leaders: BTreeMap<(TopicPartition, u32), BrokerId>,
    /// (partition, leader epoch) → highest HW the leader reached.
    leader_hw: BTreeMap<(TopicPartition, u32), u64>,
    /// Highest HW any leader of the partition ever reached.
    max_hw: BTreeMap<TopicPartition, u64>,
}

impl Checker {
    /// Runs every invariant; the first broken one is returned.
    pub fn check(&mut self, c: &Cluster) -> Result<(), Violation> {
        leader_is_in_isr(c)?;
        high_watermark_le_log_end(c)?;
        offsets_contiguous(c)?;
        idempotent_records_in_order(c)?;
        replicas_agree_below_high_watermark(c)?;
        self.one_leader_per_partition_per_epoch(c)?;
        self.high_watermark_never_decreases_for_a_leader_epoch(c)?;
        no_partition_owned_twice_in_a_generation(c)?;
        consumers_read_in_order(c)?;
        duplicates_are_explained(c)?;
        acknowledged_records_are_accounted_for(c)?;
        self.committed_offsets_within_high_watermark(c)
    }

    /// A group never commits past what consumers could read: the highest
    /// high watermark the partition has had.
    fn committed_offsets_within_high_watermark(&mut self, c: &Cluster) -> Result<(), Violation> {
        for b in c.brokers.values().filter(|b| b.is_running()) {
            for (tp, r) in &b.replicas {
                if matches!(r.role, Role::Leader(_)) {
                    let m = self.max_hw.entry(tp.clone()).or_default();
                    *m = (*m).max(r.high_watermark);
                }
            }
        }
        for b in c.brokers.values().filter(|b| b.is_running()) {
            for g in b.groups.values() {
                for (tp, committed) in &g.offsets {
                    let hw = self.max_hw.get(tp).copied().unwrap_or(0);
                    if *committed > hw {
                        return Err(violation(
                            "committed_offsets_within_high_watermark",
                            format!(
                                "group {} committed {tp} at {committed}, beyond HW {hw}",
                                g.id
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn one_leader_per_partition_per_epoch(&mut self, c: &Cluster) -> Result<(), Violation> {
        for b in c.brokers.values().filter(|b| b.is_running()) {
            for (tp, r) in &b.replicas {
                if !matches!(r.role, Role::Leader(_)) {
                    continue;
                }
                let key = (tp.clone(), r.leader_epoch);
                let first = *self.leaders.entry(key).or_insert(b.id);
                if first != b.id {
                    return Err(violation(
                        "one_leader_per_partition_per_epoch",
                        format!(
                            "{tp} epoch {}: brokers {} and {} both led",
                            r.leader_epoch, first.0, b.id.0
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn high_watermark_never_decreases_for_a_leader_epoch(
        &mut self,
        c: &Cluster,
    ) -> Result<(), Violation> {
        for b in c.brokers.values().filter(|b| b.is_running()) {
            for (tp, r) in &b.replicas {
                if !matches!(r.role, Role::Leader(_)) {
                    continue;
                }
                let seen = self
                    .leader_hw
                    .entry((tp.clone(), r.leader_epoch))
                    .or_insert(r.high_watermark);
                if r.high_watermark < *seen {
                    return Err(violation(
                        "high_watermark_never_decreases",
                        format!(
                            "{tp} epoch {}: HW went from {} to {}",
                            r.leader_epoch, seen, r.high_watermark
                        ),
                    ));
                }
                *seen = r.high_watermark;
            }
        }
        Ok(())
    }
}

impl Cluster {
    /// Acknowledged records the ledger has marked lost, so far.
    pub fn lost_records(&self) -> &[crate::audit::ledger::LostRecord] {
        &self.ledger.lost
    }
}
