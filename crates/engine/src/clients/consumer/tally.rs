//! Per group and partition, how often each offset was processed: the
//! bookkeeping that tells at-least-once duplicates from at-most-once gaps.

use crate::ids::{ConsumerId, TopicPartition};
use std::collections::BTreeMap;

/// What a group processed of one partition. Beside the count per offset
/// it keeps what the view reports, so drawing a frame does not walk every
/// offset ever processed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTally {
    /// By offset.
    pub by_offset: Tallies,
    /// Offsets processed more than once.
    pub duplicated: std::collections::BTreeSet<u64>,
    /// From where the group started reading up to here, every offset was
    /// processed at least once (a count never returns to zero): gaps can
    /// only lie above it.
    pub processed_through: u64,
}

impl GroupTally {
    /// Offsets from `start` below `end` the group never processed, the
    /// first `limit` of them.
    pub fn gaps(&self, start: u64, end: u64, limit: usize) -> Vec<u64> {
        (start.max(self.processed_through)..end)
            .filter(|o| self.by_offset.get(*o).is_none_or(|t| t.count == 0))
            .take(limit)
            .collect()
    }

    /// Moves `processed_through` past what is now processed from `start`.
    /// `advance_from` the group's consumption start for `tp`, if known.
    pub(super) fn advance_from_start(
        &mut self,
        starts: Option<&BTreeMap<TopicPartition, u64>>,
        tp: &TopicPartition,
    ) {
        if let Some(start) = starts.and_then(|m| m.get(tp)) {
            self.advance_from(*start);
        }
    }

    pub(super) fn advance_from(&mut self, start: u64) {
        let mut through = self.processed_through.max(start);
        while self.by_offset.get(through).is_some_and(|t| t.count > 0) {
            through += 1;
        }
        self.processed_through = through;
    }
}

/// A group's tallies of one partition, by offset, in fixed-size pages: a
/// partition's tallies grow in place, never copied to a larger block as
/// the log grows. Pages are shared copy-on-write, so the session's
/// snapshots of the cluster share every page not written since: a snapshot
/// copies none of them, and a later write copies only its own page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies {
    pages: Vec<std::sync::Arc<[Tally]>>,
}

impl Tallies {
    const PAGE: usize = 1024;

    pub(super) fn locate(offset: u64) -> (usize, usize) {
        let o = usize::try_from(offset).unwrap_or(usize::MAX);
        (o / Self::PAGE, o % Self::PAGE)
    }

    pub fn get(&self, offset: u64) -> Option<&Tally> {
        let (page, i) = Self::locate(offset);
        self.pages.get(page).map(|p| &p[i])
    }

    /// The tally of `offset`, made (with a count of 0) if need be.
    pub fn entry(&mut self, offset: u64) -> &mut Tally {
        let (page, i) = Self::locate(offset);
        while self.pages.len() <= page {
            self.pages.push(vec![Tally::default(); Self::PAGE].into());
        }
        &mut std::sync::Arc::make_mut(&mut self.pages[page])[i]
    }
}

/// How often a group processed one offset, and the last time it did. One
/// is kept per offset of every partition a group reads, so it is packed:
/// while `count` is 0 the other fields mean nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The record processed at this offset.
    pub record: crate::ids::RecordId,
    pub count: u32,
    /// The group's disruption count at the last processing.
    pub disruptions: u32,
    /// Who processed it last, in which generation.
    pub consumer: ConsumerId,
    pub generation: i32,
}

// Packed as the comment above says; a field that grows it should be a choice.
const _: () = assert!(std::mem::size_of::<Tally>() == 24);

impl Default for Tally {
    fn default() -> Self {
        Tally {
            record: crate::ids::RecordId(0),
            count: 0,
            disruptions: 0,
            consumer: ConsumerId(0),
            generation: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(counts: &[u32]) -> GroupTally {
        let mut t = GroupTally::default();
        for (offset, &count) in (0..).zip(counts) {
            t.by_offset.entry(offset).count = count;
        }
        t
    }

    #[test]
    fn gaps_are_the_unprocessed_offsets_from_the_start() {
        let mut t = tally(&[0, 0, 1, 1, 0, 1, 2]);
        // Reading started at offset 2: offsets 0 and 1 were never the
        // group's to process.
        t.advance_from(2);
        assert_eq!(t.processed_through, 4);
        assert_eq!(t.gaps(2, 7, 10), vec![4]);
        // Past the tally's end nothing was processed.
        assert_eq!(t.gaps(2, 9, 10), vec![4, 7, 8]);
        assert!(t.by_offset.get(2_000).is_none());
        assert_eq!(t.by_offset.entry(2_000).count, 0);
        assert_eq!(t.gaps(1_999, 2_001, 10), vec![1_999, 2_000]);
        assert_eq!(t.gaps(2, 9, 2), vec![4, 7]);
        // Offset 4 processed at last: the watermark moves past the run.
        t.by_offset.entry(4).count = 1;
        t.advance_from(2);
        assert_eq!(t.processed_through, 7);
        assert_eq!(t.gaps(2, 7, 10), Vec::<u64>::new());
    }

    #[test]
    fn a_copy_shares_tally_pages_until_one_side_writes() {
        let mut live = tally(&[1; 1_500]);
        let snapshot = live.clone();
        assert!(std::sync::Arc::ptr_eq(
            &live.by_offset.pages[0],
            &snapshot.by_offset.pages[0]
        ));
        // A write copies only its own page, and the copy keeps the old count.
        live.by_offset.entry(1_200).count = 2;
        assert!(std::sync::Arc::ptr_eq(
            &live.by_offset.pages[0],
            &snapshot.by_offset.pages[0]
        ));
        assert!(!std::sync::Arc::ptr_eq(
            &live.by_offset.pages[1],
            &snapshot.by_offset.pages[1]
        ));
        assert_eq!(live.by_offset.get(1_200).map(|t| t.count), Some(2));
        assert_eq!(snapshot.by_offset.get(1_200).map(|t| t.count), Some(1));
        assert_eq!(live.by_offset.get(1_199), snapshot.by_offset.get(1_199));
    }
}
