//! The event log and the diagram's passing marks: log lines by area, election
//! pulses, redirect arrows, and what a skip says it jumped over.

use kafkasim_engine::event::Weight;
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::{Event, NodeId, SimTime};

/// An election to mark on the diagram: a new active controller, or a new
/// leader for a partition (at its replica).
#[derive(Debug, Clone, PartialEq)]
pub struct Pulse {
    pub id: u64,
    pub node: NodeId,
    pub tp: Option<kafkasim_engine::TopicPartition>,
}

/// Pulses kept: more than can be seen at once.
pub(super) const PULSES_KEPT: usize = 12;

impl Pulse {
    /// The elections among `events`, numbered on from `next`.
    pub fn from_events(events: &[Event], next: u64) -> Vec<Pulse> {
        use kafkasim_engine::EventKind::{ControllerElected, LeaderElected};
        events
            .iter()
            .filter_map(|e| match &e.kind {
                ControllerElected { controller, .. } => Some((*controller, None)),
                LeaderElected {
                    tp,
                    leader: Some(b),
                    ..
                } => Some((NodeId::Broker(*b), Some(tp.clone()))),
                _ => None,
            })
            .zip(next..)
            .map(|((node, tp), id)| Pulse { id, node, tp })
            .collect()
    }
}

/// A client that found a partition's leader moved: an arrow from it to the
/// replica it now talks to, drawn for a few virtual seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub client: NodeId,
    pub to: kafkasim_engine::BrokerId,
    pub tps: Vec<kafkasim_engine::TopicPartition>,
    /// Virtual time of the latest refresh that moved one of `tps`.
    pub at: u64,
}

/// How long a redirect arrow stays, in virtual ms: paused, it stays.
pub const REDIRECT_SHOWN_MS: u64 = 4_000;

impl Redirect {
    /// Folds the metadata updates among `events` into `kept`: one arrow per
    /// client and new leader. A partition that moves again leaves its old
    /// arrow; arrows older than `REDIRECT_SHOWN_MS` go.
    pub fn fold(kept: &mut Vec<Redirect>, events: &[Event]) {
        use kafkasim_engine::EventKind::MetadataUpdated;
        for e in events {
            let MetadataUpdated {
                client, tp, leader, ..
            } = &e.kind
            else {
                continue;
            };
            for r in kept.iter_mut().filter(|r| r.client == *client) {
                r.tps.retain(|t| t != tp);
            }
            match kept
                .iter_mut()
                .find(|r| r.client == *client && r.to == *leader)
            {
                Some(r) => {
                    r.tps.push(tp.clone());
                    r.at = e.time.0;
                }
                None => kept.push(Redirect {
                    client: *client,
                    to: *leader,
                    tps: vec![tp.clone()],
                    at: e.time.0,
                }),
            }
        }
        if let Some(now) = events.last().map(|e| e.time.0) {
            kept.retain(|r| !r.tps.is_empty() && now < r.at + REDIRECT_SHOWN_MS);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Unique on the page, and larger for later lines: the event log tells
    /// by it which rows are new, so a new line adds one row instead of
    /// redrawing them all.
    pub seq: u64,
    pub time: SimTime,
    pub text: String,
    /// Something went wrong or was lost: shown in red, kept by "Only problems".
    pub alarm: bool,
    pub area: Area,
}

impl LogLine {
    pub fn new(time: SimTime, text: String, alarm: bool, area: Area) -> LogLine {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        LogLine {
            seq: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            time,
            text,
            alarm,
            area,
        }
    }
}

/// What part of Kafka an event is about, for the event log's picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Cluster,
    Topics,
    Replication,
    Producers,
    Consumers,
    Network,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Cluster,
        Area::Topics,
        Area::Replication,
        Area::Producers,
        Area::Consumers,
        Area::Network,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Area::Cluster => "Brokers and controller",
            Area::Topics => "Topics",
            Area::Replication => "Replication",
            Area::Producers => "Producers",
            Area::Consumers => "Consumers and groups",
            Area::Network => "Network",
        }
    }

    /// Where `kind` belongs, and whether it is a problem. Every kind is named,
    /// so a new one must be placed here before the app compiles.
    pub fn of(kind: &kafkasim_engine::EventKind) -> (Area, bool) {
        use kafkasim_engine::EventKind::*;
        match kind {
            BrokerCrashed { .. }
            | BrokerFenced { clean: false, .. }
            | ZooKeeperNodeCrashed { .. }
            | QuorumLost { .. }
            | ControllerNodeCrashed { .. } => (Area::Cluster, true),
            BrokerAdded { .. }
            | BrokerRestarted { .. }
            | BrokerShutDown { .. }
            | BrokerFenced { clean: true, .. }
            | BrokerRegistered { .. }
            | ZooKeeperNodeRestarted { .. }
            | QuorumRestored { .. }
            | ControllerNodeRestarted { .. }
            | ElectionStarted { .. }
            | ControllerElected { .. }
            | ControllerResigned { .. }
            | LeaderElected { .. }
            | ReplicaRoleChanged { .. } => (Area::Cluster, false),
            TopicCreated { .. }
            | PartitionsAdded { .. }
            | ReassignmentStarted { .. }
            | ReassignmentCompleted { .. } => (Area::Topics, false),
            IsrShrunk { .. } | LogTruncated { .. } => (Area::Replication, true),
            IsrExpanded { .. } | RecordsAppended { .. } | HighWatermarkAdvanced { .. } => {
                (Area::Replication, false)
            }
            ProduceFailed { .. } | RecordLost { .. } => (Area::Producers, true),
            MetadataUpdated {
                client: NodeId::Consumer(_),
                ..
            } => (Area::Consumers, false),
            MetadataUpdated { .. } => (Area::Producers, false),
            ProducerCreated { .. }
            | RecordProduced { .. }
            | ProduceAcknowledged { .. }
            | ProduceRetried { .. } => (Area::Producers, false),
            ConsumerCrashed { .. }
            | PartitionsLost { .. }
            | CommitFailed { .. }
            | ConsumerError { .. } => (Area::Consumers, true),
            RecordProcessed { again, .. } => (Area::Consumers, again.is_some()),
            ConsumerCreated { .. }
            | ConsumerPaused { .. }
            | ConsumerProcessingSet { .. }
            | ConsumerRestarted { .. }
            | ConsumerClosed { .. }
            | CoordinatorFound { .. }
            | GroupRebalancing { .. }
            | GroupStable { .. }
            | GroupEmpty { .. }
            | MemberRemoved { .. }
            | StaticMemberRejoined { .. }
            | GroupLoaded { .. }
            | PartitionsAssigned { .. }
            | PartitionsRevoked { .. }
            | OffsetsCommitted { .. }
            | OffsetReset { .. }
            | PositionSeeked { .. } => (Area::Consumers, false),
            MessageDropped { .. } | NetworkPartitioned { .. } => (Area::Network, true),
            MessageSent(_)
            | MessageDelivered { .. }
            | LinkLatencyChanged { .. }
            | NetworkHealed { .. } => (Area::Network, false),
        }
    }
}

/// The scene's first non-internal topic.
pub(super) fn scene_topic(v: &ClusterView) -> Option<String> {
    v.topics
        .iter()
        .find(|t| !t.internal)
        .map(|t| t.name.clone())
}

/// The event log's lines for `events` (the logged ones), with the events
/// alike about an internal topic's partitions at one moment folded into
/// one line ("Broker 1 left the ISR of 17 partitions of __consumer_offsets").
pub fn log_lines<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = Vec::new();
    // Per fold: the line it writes, how many events it holds, one of them.
    let mut folds: std::collections::BTreeMap<(SimTime, String), (usize, usize, &Event)> =
        std::collections::BTreeMap::new();
    for e in events {
        let (area, alarm) = Area::of(&e.kind);
        match e.kind.describe_many(1) {
            Some(key) => {
                let fold = folds.entry((e.time, key)).or_insert_with(|| {
                    lines.push(LogLine::new(e.time, String::new(), alarm, area));
                    (lines.len() - 1, 0, e)
                });
                fold.1 += 1;
            }
            None => {
                if let Some(text) = e.kind.describe() {
                    lines.push(LogLine::new(e.time, text, alarm, area));
                }
            }
        }
    }
    for (line, n, e) in folds.into_values() {
        let text = if n == 1 {
            e.kind.describe()
        } else {
            e.kind.describe_many(n)
        };
        if let Some(text) = text {
            lines[line].text = text;
        }
    }
    lines.retain(|l| !l.text.is_empty());
    lines
}

/// What a Skip landed on: the first thing that matters and, when the same
/// moment also elected a leader, that election (what a class waits for),
/// with a count of the rest.
pub(super) fn skip_notice(waited: &str, events: &[Event]) -> String {
    let milestones: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind.weight() == Weight::Milestone && e.kind.describe().is_some())
        .collect();
    let Some(first) = milestones.first() else {
        return format!("Skipped {waited}: nothing of note happened.");
    };
    let election = milestones.iter().skip(1).find(|e| {
        matches!(
            &e.kind,
            kafkasim_engine::EventKind::LeaderElected { tp, leader: Some(_), .. } if !tp.topic.starts_with("__")
        )
    });
    let mut text = format!(
        "Skipped {waited}: {}",
        first.kind.describe().unwrap_or_default()
    );
    let mut told = 1;
    if let Some(e) = election {
        text.push(' ');
        text.push_str(&e.kind.describe().unwrap_or_default());
        told += 1;
    }
    if milestones.len() > told {
        text.push_str(&format!(
            " (+{} more in the event log)",
            milestones.len() - told
        ));
    }
    text
}
