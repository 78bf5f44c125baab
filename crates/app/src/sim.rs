//! The one owner of the simulation. Components get this context: a read-only
//! view signal and `dispatch(Command)`; nothing else touches the engine.

use kafkasim_engine::scenario::Scenario;
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::{Cluster, Command, Event, KafkaError, NodeId, SimTime};
use leptos::prelude::*;

/// Virtual ms per real ms while messages travel, at speed 1×: a 5 ms hop
/// takes about half a second, slow enough to follow one record.
const BUSY_RATE: f64 = 0.012;
/// Virtual ms per real ms while nothing travels (waiting for timers) at 1×.
const IDLE_RATE: f64 = 4.0;
/// Lines kept in the event log.
const LOG_LINES: usize = 300;

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub time: SimTime,
    pub text: String,
    pub alarm: bool,
}

#[derive(Clone, Copy)]
pub struct Sim {
    cluster: StoredValue<Cluster>,
    scenario: StoredValue<Scenario>,
    /// Fraction of a virtual millisecond already played, for smooth chips.
    fraction: RwSignal<f64>,
    pub view: RwSignal<ClusterView>,
    pub log: RwSignal<Vec<LogLine>>,
    pub error: RwSignal<Option<KafkaError>>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    pub selected: RwSignal<Option<NodeId>>,
}

impl Sim {
    pub fn new(scenario: Scenario) -> Sim {
        let cluster = build(&scenario);
        Sim {
            view: RwSignal::new(cluster.view()),
            cluster: StoredValue::new(cluster),
            scenario: StoredValue::new(scenario),
            fraction: RwSignal::new(0.0),
            log: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            selected: RwSignal::new(None),
        }
    }

    /// Applies a user's command now. On error the state is unchanged and the
    /// error is shown.
    pub fn dispatch(&self, command: Command) -> bool {
        let result = self.cluster.try_update_value(|c| c.apply(command));
        match result {
            Some(Ok(events)) => {
                self.error.set(None);
                self.record(events);
                self.refresh();
                true
            }
            Some(Err(e)) => {
                self.error.set(Some(e));
                false
            }
            None => false,
        }
    }

    /// Processes the next scheduled event, whatever its time.
    pub fn step(&self) {
        let events = self
            .cluster
            .try_update_value(|c| c.step())
            .unwrap_or_default();
        self.fraction.set(0.0);
        self.record(events);
        self.refresh();
    }

    pub fn reset(&self) {
        let scenario = self.scenario.get_value();
        self.cluster.set_value(build(&scenario));
        self.fraction.set(0.0);
        self.log.set(Vec::new());
        self.error.set(None);
        self.playing.set(false);
        self.refresh();
    }

    /// Advances by `real_ms` of wall time at the current speed: slowly while
    /// messages travel, quickly (but never past the next event) while idle.
    pub fn tick(&self, real_ms: f64) {
        let speed = self.speed.get_untracked();
        let busy = self
            .view
            .with_untracked(|v| v.in_flight.iter().any(|m| !is_background(m)));
        let events = self
            .cluster
            .try_update_value(|c| {
                let now = c.now().0 as f64 + self.fraction.get_untracked();
                let target = if busy {
                    now + real_ms * BUSY_RATE * speed
                } else {
                    let next = c.next_event_time().map_or(f64::MAX, |t| t.0 as f64);
                    (now + real_ms * IDLE_RATE * speed).min(next.max(now))
                };
                c.run_until(SimTime(target.floor() as u64));
                self.fraction.set(target - target.floor());
                c.take_events()
            })
            .unwrap_or_default();
        self.record(events);
        self.refresh();
    }

    /// The topic the forms act on: the scene's first non-internal topic.
    pub fn scene_topic(&self) -> Option<String> {
        self.view.with(|v| {
            v.topics
                .iter()
                .find(|t| !t.internal)
                .map(|t| t.name.clone())
        })
    }

    /// Virtual time including the played fraction of a millisecond.
    pub fn display_time(&self) -> f64 {
        self.view.with(|v| v.time.0 as f64) + self.fraction.get()
    }

    fn refresh(&self) {
        if let Some(view) = self.cluster.try_with_value(|c| c.view()) {
            self.view.set(view);
        }
    }

    fn record(&self, events: Vec<Event>) {
        let lines: Vec<LogLine> = events
            .iter()
            .filter_map(|e| {
                e.kind.describe().map(|text| LogLine {
                    time: e.time,
                    alarm: matches!(e.kind, kafkasim_engine::EventKind::RecordLost { .. }),
                    text,
                })
            })
            .collect();
        if lines.is_empty() {
            return;
        }
        self.log.update(|log| {
            log.extend(lines);
            let excess = log.len().saturating_sub(LOG_LINES);
            log.drain(..excess);
        });
    }
}

/// Traffic that keeps the cluster alive without telling the lesson anything
/// (heartbeats, empty fetches, metadata lookups): time does not slow down
/// for it, so a quiet cluster does not crawl.
fn is_background(m: &kafkasim_engine::network::Message) -> bool {
    use kafkasim_engine::network::Body::*;
    match &m.body {
        FetchResponse { partitions } => partitions.iter().all(|p| p.records.is_empty()),
        Fetch { .. }
        | ConsumerFetch { .. }
        | Heartbeat { .. }
        | HeartbeatResponse { error: None }
        | BrokerHeartbeat { .. }
        | QuorumHeartbeat { .. }
        | Metadata { .. }
        | MetadataResponse { .. }
        | FindCoordinator { .. }
        | FindCoordinatorResponse { .. }
        | OffsetFetch { .. }
        | OffsetFetchResponse { .. }
        | ListOffsets { .. }
        | ListOffsetsResponse { .. } => true,
        _ => false,
    }
}

/// Builds the scenario's cluster; a scenario that fails falls back to its
/// cluster alone rather than leaving the page blank.
fn build(scenario: &Scenario) -> Cluster {
    match scenario.run(None) {
        Ok((cluster, _)) => cluster,
        Err(_) => Cluster::new(Default::default()).expect("the default cluster is valid"),
    }
}

/// Drives the simulation from `requestAnimationFrame` while playing.
pub fn start_clock(sim: Sim) {
    fn frame(sim: Sim, last: f64) {
        let now = window().performance().map_or(last + 16.0, |p| p.now());
        if sim.playing.get_untracked() {
            // Cap a frame's step so a backgrounded tab does not leap ahead.
            sim.tick((now - last).clamp(0.0, 100.0));
        }
        request_animation_frame(move || frame(sim, now));
    }
    let start = window().performance().map_or(0.0, |p| p.now());
    request_animation_frame(move || frame(sim, start));
}
