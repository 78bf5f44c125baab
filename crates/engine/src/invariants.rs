//! Named invariants of a Kafka cluster, checked after every event in the
//! property tests. Each is a small function returning what broke, if anything.
//! Some need memory of the past (the high watermark never moves backwards in
//! an epoch, one leader per epoch): `Checker` carries that between checks.

use crate::broker::Role;
use crate::cluster::Cluster;
use crate::ids::{BrokerId, TopicPartition};
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

/// Every log holds offsets 0, 1, 2, ... with no gap or repeat.
pub fn offsets_contiguous(c: &Cluster) -> Result<(), Violation> {
    for b in c.brokers.values() {
        for (tp, r) in &b.replicas {
            if let Some((i, rec)) = r
                .log
                .records()
                .iter()
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

/// Invariants that need memory of earlier states.
#[derive(Debug, Default, Clone)]
pub struct Checker {
    /// (partition, leader epoch) → the one broker that led it.
    leaders: BTreeMap<(TopicPartition, u32), BrokerId>,
    /// (partition, leader epoch) → highest HW the leader reached.
    leader_hw: BTreeMap<(TopicPartition, u32), u64>,
}

impl Checker {
    /// Runs every invariant; the first broken one is returned.
    pub fn check(&mut self, c: &Cluster) -> Result<(), Violation> {
        leader_is_in_isr(c)?;
        high_watermark_le_log_end(c)?;
        offsets_contiguous(c)?;
        replicas_agree_below_high_watermark(c)?;
        self.one_leader_per_partition_per_epoch(c)?;
        self.high_watermark_never_decreases_for_a_leader_epoch(c)
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
    pub fn lost_records(&self) -> &[crate::ledger::LostRecord] {
        &self.ledger.lost
    }
}
