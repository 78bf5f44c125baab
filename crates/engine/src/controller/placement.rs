//! Replica placement: which brokers hold the replicas of each new partition,
//! and the checks on an assignment the user writes by hand.
//!
//! The automatic rule is the classic rack-unaware one of Kafka's
//! `AdminUtils.assignReplicasToBrokersRackUnaware` (ZooKeeper-era
//! controllers and `kafka-reassign-partitions --generate`), because it is
//! deterministic given its start values and the seed documents' layouts come
//! from it. KRaft controllers place with the newer `StripedReplicaPlacer`,
//! which shuffles brokers randomly and gives other layouts; we do not model it.

use crate::error::{ErrorCode, KafkaError, Result};
use std::collections::{BTreeMap, BTreeSet};

/// Kafka's classic rack-unaware placement, exactly.
///
/// Brokers are sorted by id (as Kafka's `getBrokerMetadatas` does) and
/// de-duplicated. Partition `p`'s first replica, its preferred leader, is
/// broker `(p + start_index) % n`, so leaders rotate over all brokers. The
/// followers sit at a gap of `1 + (shift + j) % (n - 1)` after it, and the
/// shift grows by one each time `p` wraps around the brokers, so the
/// followers of one broker's partitions also spread over the others.
///
/// `start_partition_id` is where numbering starts (Kafka uses the current
/// partition count when partitions are added to a topic); the shift check
/// uses the partition id, not the loop count, as Kafka's does.
pub fn assign_replicas(
    brokers: &[u32],
    n_partitions: u32,
    replication_factor: u32,
    start_index: u32,
    shift: u32,
    start_partition_id: u32,
) -> Result<BTreeMap<u32, Vec<u32>>> {
    let sorted = sorted_brokers(brokers);
    check_placement_args(sorted.len(), n_partitions, replication_factor)?;
    let n = sorted.len() as u64;
    let mut shift = u64::from(shift);
    let mut assignment = BTreeMap::new();
    for p in (0..n_partitions).map(|i| u64::from(start_partition_id) + u64::from(i)) {
        if p > 0 && p % n == 0 {
            shift += 1;
        }
        let first = (p + u64::from(start_index)) % n;
        let replicas = replica_indexes(first, shift, replication_factor, n)
            .map(|index| sorted[index as usize])
            .collect();
        // Partition ids past u32::MAX cannot be requested in Kafka (i32 ids).
        assignment.insert(p as u32, replicas);
    }
    Ok(assignment)
}

/// Broker ids in ascending order, each once.
fn sorted_brokers(brokers: &[u32]) -> Vec<u32> {
    brokers
        .iter()
        .copied()
        .collect::<BTreeSet<u32>>()
        .into_iter()
        .collect()
}

/// Kafka's argument checks, in Kafka's order and with Kafka's sentences.
fn check_placement_args(brokers: usize, n_partitions: u32, replication_factor: u32) -> Result<()> {
    if n_partitions == 0 {
        return Err(KafkaError::new(
            ErrorCode::InvalidPartitions,
            "Number of partitions must be larger than 0.",
        ));
    }
    if replication_factor == 0 {
        return Err(KafkaError::new(
            ErrorCode::InvalidReplicationFactor,
            "Replication factor must be larger than 0.",
        ));
    }
    if replication_factor as usize > brokers {
        return Err(KafkaError::new(
            ErrorCode::InvalidReplicationFactor,
            format!("Replication factor: {replication_factor} larger than available brokers: {brokers}."),
        ));
    }
    Ok(())
}

/// Indexes into the sorted broker list of one partition's replicas: the
/// first replica, then Kafka's `replicaIndex(first, shift, j, n)` for each
/// follower. With one broker there are no followers, so `n - 1` is never 0
/// where it is used.
fn replica_indexes(
    first: u64,
    shift: u64,
    replication_factor: u32,
    n: u64,
) -> impl Iterator<Item = u64> {
    let followers = (0..u64::from(replication_factor) - 1)
        .map(move |j| (first + 1 + (shift + j) % (n - 1)) % n);
    std::iter::once(first).chain(followers)
}

/// Random `(start_index, shift)`, each uniform in `[0, brokers)`, drawn in
/// the order Kafka draws them. Kafka uses this when creating a topic, so two
/// topics do not all start their leaders on the lowest broker id.
/// With no brokers it returns `(0, 0)` (placement will then refuse anyway).
pub fn random_start(brokers: usize, rng: &mut impl rand::RngCore) -> (u32, u32) {
    if brokers == 0 {
        return (0, 0);
    }
    let n = brokers.min(u32::MAX as usize) as u32;
    let start_index = crate::sim::random::below(rng, n);
    let shift = crate::sim::random::below(rng, n);
    (start_index, shift)
}

/// Kafka's `fixedStartIndex` semantics: one number sets both the start index
/// and the initial shift. Kafka's tests use it for reproducible layouts.
pub fn fixed_start(k: u32) -> (u32, u32) {
    (k, k)
}

/// Checks a hand-written assignment (`--replica-assignment`, or a
/// `CreateTopics` request with manual assignments) the way a KRaft
/// controller does, with its sentences and `INVALID_REPLICA_ASSIGNMENT`:
/// every partition lists at least one broker, each broker once, all of them
/// known, all partitions with the same replication factor, and the partition
/// ids are `0..n` without gaps.
pub fn validate_assignment(
    assignment: &BTreeMap<u32, Vec<u32>>,
    live_or_known_brokers: &[u32],
) -> Result<()> {
    if assignment.is_empty() {
        return Err(invalid_assignment(
            "The manual partition assignment includes no partitions.",
        ));
    }
    let known: BTreeSet<u32> = live_or_known_brokers.iter().copied().collect();
    let mut replication_factor = None;
    for replicas in assignment.values() {
        validate_partition_replicas(replicas, &known, replication_factor)?;
        replication_factor = Some(replicas.len());
    }
    let contiguous = assignment.keys().copied().eq(0..assignment.len() as u32);
    if !contiguous {
        return Err(invalid_assignment(
            "partitions should be a consecutive 0-based integer sequence",
        ));
    }
    Ok(())
}

/// Kafka's `validateManualPartitionAssignment` for one partition's list:
/// brokers are checked in ascending id order, so the reported broker is the
/// lowest offending one.
fn validate_partition_replicas(
    replicas: &[u32],
    known: &BTreeSet<u32>,
    replication_factor: Option<usize>,
) -> Result<()> {
    if replicas.is_empty() {
        return Err(invalid_assignment(
            "The manual partition assignment includes an empty replica list.",
        ));
    }
    let mut sorted = replicas.to_vec();
    sorted.sort_unstable();
    for (i, broker) in sorted.iter().enumerate() {
        if !known.contains(broker) {
            return Err(invalid_assignment(format!(
                "The manual partition assignment includes broker {broker}, but no such broker is registered."
            )));
        }
        if i > 0 && sorted[i - 1] == *broker {
            return Err(invalid_assignment(format!(
                "The manual partition assignment includes the broker {broker} more than once."
            )));
        }
    }
    match replication_factor {
        Some(rf) if rf != replicas.len() => Err(invalid_assignment(format!(
            "The manual partition assignment includes a partition with {} replica(s), but this is not consistent with previous partitions, which have {rf} replica(s).",
            replicas.len()
        ))),
        _ => Ok(()),
    }
}

fn invalid_assignment(message: impl Into<String>) -> KafkaError {
    KafkaError::new(ErrorCode::InvalidReplicaAssignment, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn layout(pairs: &[(u32, &[u32])]) -> BTreeMap<u32, Vec<u32>> {
        pairs.iter().map(|(p, r)| (*p, r.to_vec())).collect()
    }

    #[test]
    fn kafka_admin_test_replica_assignment() {
        // Kafka's AdminTest/AdminZkClientTest testReplicaAssignment.
        let (start, shift) = fixed_start(0);
        let got = assign_replicas(&[0, 1, 2, 3, 4], 10, 3, start, shift, 0).unwrap();
        let expected = layout(&[
            (0, &[0, 1, 2]),
            (1, &[1, 2, 3]),
            (2, &[2, 3, 4]),
            (3, &[3, 4, 0]),
            (4, &[4, 0, 1]),
            (5, &[0, 2, 3]),
            (6, &[1, 3, 4]),
            (7, &[2, 4, 0]),
            (8, &[3, 0, 1]),
            (9, &[4, 1, 2]),
        ]);
        assert_eq!(got, expected);
    }

    #[test]
    fn seed_document_my_topic_layout() {
        // MyTopic: broker 1 leads P0 and P2, broker 2 leads P1.
        let got = assign_replicas(&[1, 2], 3, 2, 0, 0, 0).unwrap();
        assert_eq!(got, layout(&[(0, &[1, 2]), (1, &[2, 1]), (2, &[1, 2])]));
    }

    #[test]
    fn brokers_are_sorted_by_id_first() {
        let unsorted = assign_replicas(&[4, 0, 3, 1, 2], 10, 3, 0, 0, 0).unwrap();
        let sorted = assign_replicas(&[0, 1, 2, 3, 4], 10, 3, 0, 0, 0).unwrap();
        assert_eq!(unsorted, sorted);
    }

    #[test]
    fn broker_ids_are_used_not_indexes() {
        let got = assign_replicas(&[10, 20, 30], 3, 2, 0, 0, 0).unwrap();
        assert_eq!(
            got,
            layout(&[(0, &[10, 20]), (1, &[20, 30]), (2, &[30, 10])])
        );
    }

    #[test]
    fn single_broker() {
        let got = assign_replicas(&[7], 3, 1, 0, 0, 0).unwrap();
        assert_eq!(got, layout(&[(0, &[7]), (1, &[7]), (2, &[7])]));
        let got = assign_replicas(&[7], 2, 1, 5, 9, 0).unwrap();
        assert_eq!(got, layout(&[(0, &[7]), (1, &[7])]));
    }

    #[test]
    fn replication_factor_equal_to_broker_count() {
        let got = assign_replicas(&[0, 1, 2], 4, 3, 0, 0, 0).unwrap();
        assert_eq!(
            got,
            layout(&[
                (0, &[0, 1, 2]),
                (1, &[1, 2, 0]),
                (2, &[2, 0, 1]),
                (3, &[0, 2, 1])
            ])
        );
    }

    #[test]
    fn start_index_and_shift_move_the_layout() {
        let got = assign_replicas(&[0, 1, 2, 3], 2, 2, 2, 1, 0).unwrap();
        // p0: first (0+2)%4 = 2, follower (2+1+1%3)%4 = 0.
        assert_eq!(got, layout(&[(0, &[2, 0]), (1, &[3, 1])]));
    }

    #[test]
    fn start_partition_id_continues_numbering_and_shift() {
        // Adding partitions 10..12 to the 5-broker topic: ids and the shift
        // bump at p = 10 follow the partition id, as in Kafka.
        let got = assign_replicas(&[0, 1, 2, 3, 4], 2, 3, 0, 0, 10).unwrap();
        assert_eq!(got, layout(&[(10, &[0, 2, 3]), (11, &[1, 3, 4])]));
    }

    #[test]
    fn zero_partitions_is_invalid_partitions() {
        let err = assign_replicas(&[0, 1], 0, 1, 0, 0, 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPartitions);
        assert_eq!(err.message, "Number of partitions must be larger than 0.");
    }

    #[test]
    fn zero_replication_factor_is_invalid() {
        let err = assign_replicas(&[0, 1], 3, 0, 0, 0, 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidReplicationFactor);
        assert_eq!(err.message, "Replication factor must be larger than 0.");
    }

    #[test]
    fn replication_factor_above_brokers_is_invalid() {
        let err = assign_replicas(&[0, 1], 3, 3, 0, 0, 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidReplicationFactor);
        assert_eq!(
            err.message,
            "Replication factor: 3 larger than available brokers: 2."
        );
        let err = assign_replicas(&[], 1, 1, 0, 0, 0).unwrap_err();
        assert_eq!(
            err.message,
            "Replication factor: 1 larger than available brokers: 0."
        );
    }

    #[test]
    fn partitions_checked_before_replication_factor() {
        let err = assign_replicas(&[], 0, 0, 0, 0, 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPartitions);
    }

    fn check_spread(brokers: u32, partitions: u32, rf: u32, start: (u32, u32)) {
        let ids: Vec<u32> = (0..brokers).collect();
        let got = assign_replicas(&ids, partitions, rf, start.0, start.1, 0).unwrap();
        assert_eq!(got.len(), partitions as usize);
        let mut leads = vec![0u32; brokers as usize];
        for replicas in got.values() {
            let distinct: BTreeSet<u32> = replicas.iter().copied().collect();
            assert_eq!(distinct.len(), rf as usize, "{replicas:?}");
            leads[replicas[0] as usize] += 1;
        }
        let even = partitions / brokers;
        assert!(
            leads.iter().all(|&l| l == even || l == even + 1),
            "{leads:?}"
        );
    }

    #[test]
    fn every_partition_gets_distinct_brokers_and_leaders_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for brokers in 1..=7 {
            for rf in 1..=brokers {
                for partitions in [1, 2, 3, 5, 10, 17, 50] {
                    check_spread(brokers, partitions, rf, fixed_start(0));
                    check_spread(
                        brokers,
                        partitions,
                        rf,
                        random_start(brokers as usize, &mut rng),
                    );
                }
            }
        }
    }

    #[test]
    fn random_start_is_in_range_and_seeded() {
        let mut a = ChaCha8Rng::seed_from_u64(3);
        let mut b = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100 {
            let (start, shift) = random_start(5, &mut a);
            assert!(start < 5 && shift < 5);
            assert_eq!((start, shift), random_start(5, &mut b));
        }
        assert_eq!(random_start(0, &mut a), (0, 0));
    }

    #[test]
    fn fixed_start_sets_both() {
        assert_eq!(fixed_start(3), (3, 3));
    }

    fn invalid(assignment: &[(u32, &[u32])], brokers: &[u32]) -> String {
        let err = validate_assignment(&layout(assignment), brokers).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidReplicaAssignment);
        err.message
    }

    #[test]
    fn valid_assignment_passes() {
        let assignment = layout(&[(0, &[1, 2]), (1, &[2, 1]), (2, &[1, 2])]);
        assert_eq!(validate_assignment(&assignment, &[1, 2, 3]), Ok(()));
    }

    #[test]
    fn assignment_errors() {
        assert_eq!(
            invalid(&[], &[1]),
            "The manual partition assignment includes no partitions."
        );
        assert_eq!(
            invalid(&[(0, &[])], &[1]),
            "The manual partition assignment includes an empty replica list."
        );
        assert_eq!(
            invalid(&[(0, &[1, 1])], &[1]),
            "The manual partition assignment includes the broker 1 more than once."
        );
        assert_eq!(
            invalid(&[(0, &[1, 9])], &[1, 2]),
            "The manual partition assignment includes broker 9, but no such broker is registered."
        );
        assert_eq!(
            invalid(&[(0, &[1, 2]), (1, &[1])], &[1, 2]),
            "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s)."
        );
        assert_eq!(
            invalid(&[(0, &[1]), (2, &[2])], &[1, 2]),
            "partitions should be a consecutive 0-based integer sequence"
        );
        assert_eq!(
            invalid(&[(1, &[1])], &[1, 2]),
            "partitions should be a consecutive 0-based integer sequence"
        );
    }
}
