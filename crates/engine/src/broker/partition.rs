//! A partition's replicated state as the controller records it (Kafka's
//! `LeaderAndIsr` / `PartitionRegistration`), and the election rules that
//! change it (Kafka's `PartitionChangeBuilder` / `PartitionLeaderElectionAlgorithms`).

use crate::ids::{BrokerId, TopicPartition};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    pub tp: TopicPartition,
    /// Assignment order; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    pub leader: Option<BrokerId>,
    pub leader_epoch: u32,
    pub isr: Vec<BrokerId>,
    /// Bumped on every change (Kafka's partition epoch / ZK version).
    pub partition_epoch: u32,
}

impl PartitionState {
    pub fn preferred_leader(&self) -> Option<BrokerId> {
        self.replicas.first().copied()
    }
}

/// Why a leader changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionReason {
    /// A new partition got its first leader.
    NewPartition,
    /// The leader's broker failed (session expired / fenced).
    LeaderFailed,
    /// The partition was offline and a replica came back.
    OfflinePartition,
    /// Preferred leader election, on command or by the periodic rebalance.
    Preferred,
    /// The leader is shutting down gracefully.
    ControlledShutdown,
    /// The replica set changed (reassignment) and the leader left it.
    Reassignment,
}

/// Result of an election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    pub leader: Option<BrokerId>,
    pub isr: Vec<BrokerId>,
    pub unclean: bool,
}

/// Kafka's offline-partition election: the first replica in assignment order
/// that is alive and in the ISR; failing that, and only if unclean election is
/// enabled, the first alive replica, whose ISR becomes just itself.
pub fn elect_leader(
    replicas: &[BrokerId],
    isr: &[BrokerId],
    is_alive: impl Fn(BrokerId) -> bool,
    unclean_enabled: bool,
) -> Election {
    let live_isr: Vec<BrokerId> = isr.iter().copied().filter(|b| is_alive(*b)).collect();
    if let Some(leader) = replicas.iter().copied().find(|r| live_isr.contains(r)) {
        return Election {
            leader: Some(leader),
            isr: live_isr,
            unclean: false,
        };
    }
    if unclean_enabled {
        if let Some(leader) = replicas.iter().copied().find(|r| is_alive(*r)) {
            return Election {
                leader: Some(leader),
                isr: vec![leader],
                unclean: true,
            };
        }
    }
    // No leader: Kafka keeps the last ISR member recorded so it can return
    // as a clean leader.
    let kept = if isr.is_empty() {
        Vec::new()
    } else {
        isr.to_vec()
    };
    Election {
        leader: None,
        isr: kept,
        unclean: false,
    }
}

/// Controlled shutdown: the first live ISR replica other than the one leaving.
pub fn elect_for_shutdown(
    replicas: &[BrokerId],
    isr: &[BrokerId],
    leaving: BrokerId,
    is_alive: impl Fn(BrokerId) -> bool,
) -> Option<BrokerId> {
    replicas
        .iter()
        .copied()
        .find(|r| *r != leaving && isr.contains(r) && is_alive(*r))
}

/// Preferred election succeeds only if the preferred replica is alive and in sync.
pub fn elect_preferred(
    replicas: &[BrokerId],
    isr: &[BrokerId],
    is_alive: impl Fn(BrokerId) -> bool,
) -> Option<BrokerId> {
    let preferred = *replicas.first()?;
    (isr.contains(&preferred) && is_alive(preferred)).then_some(preferred)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ids: &[u32]) -> Vec<BrokerId> {
        ids.iter().map(|i| BrokerId(*i)).collect()
    }

    #[test]
    fn picks_first_live_isr_replica_in_assignment_order() {
        // Assignment order wins over ISR order.
        let e = elect_leader(&b(&[3, 1, 2]), &b(&[1, 2, 3]), |x| x != BrokerId(3), false);
        assert_eq!(e.leader, Some(BrokerId(1)));
        assert_eq!(e.isr, b(&[1, 2]));
        assert!(!e.unclean);
    }

    #[test]
    fn no_live_isr_means_offline_unless_unclean() {
        let alive = |x: BrokerId| x == BrokerId(2);
        let clean = elect_leader(&b(&[1, 2]), &b(&[1]), alive, false);
        assert_eq!(clean.leader, None);
        assert_eq!(clean.isr, b(&[1]));
        let unclean = elect_leader(&b(&[1, 2]), &b(&[1]), alive, true);
        assert_eq!(unclean.leader, Some(BrokerId(2)));
        assert_eq!(unclean.isr, b(&[2]));
        assert!(unclean.unclean);
    }

    #[test]
    fn controlled_shutdown_skips_the_leaving_broker() {
        let next = elect_for_shutdown(&b(&[1, 2, 3]), &b(&[1, 3]), BrokerId(1), |_| true);
        assert_eq!(next, Some(BrokerId(3)));
        assert_eq!(
            elect_for_shutdown(&b(&[1, 2]), &b(&[1]), BrokerId(1), |_| true),
            None
        );
    }

    #[test]
    fn preferred_needs_the_first_replica_in_sync() {
        assert_eq!(
            elect_preferred(&b(&[1, 2]), &b(&[2, 1]), |_| true),
            Some(BrokerId(1))
        );
        assert_eq!(elect_preferred(&b(&[1, 2]), &b(&[2]), |_| true), None);
    }
}
