//! The one owner of the simulation. Components get this context: a read-only
//! view signal and `dispatch(Command)`; nothing else touches the engine.

mod clock;
mod log;
pub mod store;
mod twin;
pub use clock::*;
pub use log::*;
pub use twin::*;

use kafkasim_engine::event::Weight;
use kafkasim_engine::run::scenario::Scenario;
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::view::LogRow;
use kafkasim_engine::ProducerId;
use kafkasim_engine::{Command, Event, KafkaError, NodeId, Session, SimTime};
use leptos::prelude::*;

/// Virtual ms per real ms while messages travel, at speed 1×: a 5 ms hop
/// takes about half a second, slow enough to follow one record.
const BUSY_RATE: f64 = 0.012;
/// Virtual ms per real ms while nothing travels (waiting for timers) at 1×.
const IDLE_RATE: f64 = 4.0;
/// How far Step looks for something the diagram shows (virtual ms).
const STEP_WITHIN_MS: u64 = 60_000;
/// How far Skip looks for something that matters: past any of Kafka's
/// default timeouts in play here (`delivery.timeout.ms`, 120 s, is the
/// longest).
const SKIP_WITHIN_MS: u64 = 300_000;
/// Virtual ms between saves while playing (commands save at once).
const SAVE_EVERY_MS: u64 = 2_000;
/// Lines kept in the event log.
const LOG_LINES: usize = 300;
/// While playing, figures that change with nearly every engine step (the
/// clock, the timeline, a group's lag) are shown at most this often
/// (wall-clock ms), all in the same frame, and the event log half a beat
/// later; paused or stepping, at once. Rewritten thirty times a second
/// such a figure cannot be read, and every frame that changes the page
/// pays for a restyle, layout and repaint: about 5 ms on the development
/// VM, on top of the engine step's own script. Figures and log together
/// made one frame too many (~13 ms there), so they take turns.
pub const SETTLE_EVERY_MS: f64 = 250.0;
/// A beat that falls due in a frame whose engine step handled something
/// waits for a frame whose step did not, but not longer than this (wall ms).
const BEAT_GRACE_MS: f64 = 50.0;

#[derive(Clone, Copy)]
pub struct Sim {
    session: StoredValue<Session>,
    /// Fraction of a virtual millisecond already played, for smooth chips.
    fraction: RwSignal<f64>,
    pub view: ReadSignal<ClusterView>,
    /// The view without what changes as time passes and records flow
    /// (offsets, counters, lag, messages in flight): what most of the page
    /// is drawn from, so an engine step leaves it alone.
    pub structure: Memo<ClusterView>,
    pub log: ReadSignal<Vec<LogLine>>,
    /// Recent elections, for a ring that pulses once where each happened.
    pub pulses: ReadSignal<Vec<Pulse>>,
    /// Clients that just followed a partition to its new leader.
    pub redirects: ReadSignal<Vec<Redirect>>,
    pub error: RwSignal<Option<KafkaError>>,
    /// A short confirmation ("Link copied"), shown politely.
    pub notice: RwSignal<Option<String>>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    pub selected: RwSignal<Option<NodeId>>,
    /// The scene's name, for the header.
    pub scene: ReadSignal<String>,
    /// The furthest moment this timeline has reached: the scrubber's end.
    pub horizon: ReadSignal<u64>,
    /// Auto-produce: a record every this many virtual ms, or off.
    pub auto_every: RwSignal<Option<u64>>,
    /// The topic and producer the forms act on, as picked in them (a new
    /// topic is picked when created); see `topic` and `producer`.
    pub picked_topic: RwSignal<Option<String>>,
    pub picked_producer: RwSignal<Option<u32>>,
    /// The partition the Produce panel's key goes to (`MyTopic-1`), lit on
    /// the diagram while the key is being looked at.
    pub key_partition: RwSignal<Option<String>>,
    auto_next: StoredValue<u64>,
    auto_count: StoredValue<u64>,
    /// Times before each Step, so Back (PageUp) can return to them.
    steps_back: StoredValue<Vec<u64>>,
    /// Virtual time of the last save, to save at most every few seconds
    /// while playing.
    saved_at: StoredValue<u64>,
    /// Playing stops here (a lesson step's end).
    pub pause_at: RwSignal<Option<u64>>,
    /// How many commands the user has given: a lesson hands over to free
    /// play when it changes.
    pub acted: ReadSignal<u64>,
    /// A side-by-side comparison: the same session with one setting changed,
    /// following this one's every command and moment.
    pub twin: ReadSignal<Option<Twin>>,
    /// Changes whenever the session is replaced (a twin then starts over).
    generation: StoredValue<u64>,
    /// Saved to local storage (a twin is not).
    persist: StoredValue<bool>,
    /// The owner this Sim was made under (the app's): a twin made from a
    /// click on a page that then closes must outlive that page.
    owner: StoredValue<Option<Owner>>,
    /// A deferred snapshot is waiting for the browser to be idle.
    snapshot_asked: StoredValue<bool>,
    /// Counts the half beats of play at which settled figures (even) and
    /// the event log (odd) show their news (see `SETTLE_EVERY_MS`), and
    /// when the next is due (wall ms).
    beat: RwSignal<u64>,
    next_beat: StoredValue<f64>,
    /// The write halves of what the engine's state fills in: components
    /// read the view, the log and the rest, and only `state/` writes them.
    w: Writers,
}

#[derive(Clone, Copy)]
struct Writers {
    view: WriteSignal<ClusterView>,
    log: WriteSignal<Vec<LogLine>>,
    pulses: WriteSignal<Vec<Pulse>>,
    redirects: WriteSignal<Vec<Redirect>>,
    scene: WriteSignal<String>,
    horizon: WriteSignal<u64>,
    acted: WriteSignal<u64>,
    twin: WriteSignal<Option<Twin>>,
}

impl Sim {
    /// Opens a share link if there is one, else the last visit's session,
    /// else `scene`. A link or saved session that cannot be opened is
    /// reported and the scene shown instead.
    pub fn restore_or(scene: Scenario) -> Sim {
        // A compressed link opens once the browser has unpacked it; until
        // then the page shows what it would have shown without one.
        let packed = crate::state::store::packed_link();
        let found = match packed {
            Some(_) => crate::state::store::from_storage(),
            None => crate::state::store::from_link().or_else(crate::state::store::from_storage),
        };
        let (opened, error) = match found {
            Some(Ok(session)) => (Some(session), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        crate::state::store::clear_link();
        let sim = match opened {
            Some(session) => {
                let sim = Sim::with_session(session);
                sim.rebuild_log();
                sim
            }
            None => Sim::new(scene),
        };
        sim.error.set(error);
        sim.save();
        if let Some(encoded) = packed {
            wasm_bindgen_futures::spawn_local(async move {
                match crate::state::store::unpack_link(&encoded).await {
                    Ok(text) => {
                        sim.open(&text);
                    }
                    Err(e) => sim.error.set(Some(e)),
                }
            });
        }
        sim
    }

    /// A new session of `scene`, built up to its last command.
    pub fn new(scene: Scenario) -> Sim {
        Sim::with_session(start(scene))
    }

    fn with_session(mut session: Session) -> Sim {
        session.defer_snapshots(true);
        let now = session.cluster().now().0;
        let horizon = session.horizon().0;
        let (scene, scene_w) = signal(session.scenario().name.clone());
        let (view, view_w) = signal(session.cluster().view());
        let (log, log_w) = signal(Vec::new());
        let (pulses, pulses_w) = signal(Vec::new());
        let (redirects, redirects_w) = signal(Vec::new());
        let (horizon, horizon_w) = signal(horizon);
        let (acted, acted_w) = signal(0);
        let (twin, twin_w) = signal(None);
        Sim {
            view,
            structure: Memo::new(move |_| view.with(ClusterView::structure)),
            scene,
            session: StoredValue::new(session),
            fraction: RwSignal::new(0.0),
            log,
            pulses,
            redirects,
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            selected: RwSignal::new(None),
            horizon,
            auto_every: RwSignal::new(None),
            picked_topic: RwSignal::new(None),
            picked_producer: RwSignal::new(None),
            key_partition: RwSignal::new(None),
            auto_next: StoredValue::new(0),
            auto_count: StoredValue::new(0),
            steps_back: StoredValue::new(Vec::new()),
            saved_at: StoredValue::new(now),
            pause_at: RwSignal::new(None),
            acted,
            twin,
            generation: StoredValue::new(0),
            persist: StoredValue::new(true),
            owner: StoredValue::new(Owner::current()),
            snapshot_asked: StoredValue::new(false),
            beat: RwSignal::new(0),
            next_beat: StoredValue::new(f64::NEG_INFINITY),
            w: Writers {
                view: view_w,
                log: log_w,
                pulses: pulses_w,
                redirects: redirects_w,
                scene: scene_w,
                horizon: horizon_w,
                acted: acted_w,
                twin: twin_w,
            },
        }
    }

    /// Applies a user's command now. On error the state is unchanged and the
    /// error is shown. After a rewind this branches the timeline: the old
    /// future is dropped.
    pub fn dispatch(&self, command: Command) -> bool {
        // Under classroom timings a new client gets them too.
        let result = self.session.try_update_value(|s| {
            let command = kafkasim_engine::run::timings::command_for(s.scenario(), command);
            s.apply(command)
        });
        match result {
            Some(Ok(events)) => {
                self.error.set(None);
                self.w.acted.update(|n| *n += 1);
                self.record(events);
                self.refresh();
                self.save();
                true
            }
            Some(Err(e)) => {
                self.error.set(Some(e));
                false
            }
            None => false,
        }
    }

    /// Step (`.`): on to the next event the diagram shows (a record sent or
    /// appended, a high watermark, an assignment…), passing over heartbeats
    /// and empty fetches.
    pub fn step(&self) {
        let before = self.now();
        self.steps_back.update_value(|v| v.push(before));
        let events = self.run_until_weight(Weight::Picture, STEP_WITHIN_MS);
        if events.iter().all(|e| e.kind.weight() == Weight::Routine) {
            let waited = crate::panels::controls::format_time(self.now().saturating_sub(before));
            self.notice.set(Some(format!(
                "Stepped {waited}: nothing on the diagram changed, only heartbeats and empty fetches."
            )));
        }
        self.record(events);
        self.refresh();
        self.save();
    }

    /// Skip (`n`): on to the next thing a class stops to look at (a crash,
    /// an election, an ISR change, a rebalance, a loss…; `Weight::Milestone`),
    /// however long the cluster waits for it. Stops at a lesson step's end.
    pub fn skip(&self) {
        let before = self.now();
        self.steps_back.update_value(|v| v.push(before));
        let events = self.run_until_weight(Weight::Milestone, SKIP_WITHIN_MS);
        let waited = crate::panels::controls::format_time(self.now().saturating_sub(before));
        self.notice.set(Some(skip_notice(&waited, &events)));
        // What was in flight before the jump is long gone.
        self.w.pulses.set(Vec::new());
        self.w.redirects.set(Vec::new());
        self.record(events);
        self.refresh();
        self.save();
    }

    fn run_until_weight(&self, weight: Weight, within_ms: u64) -> Vec<Event> {
        let now = self.now();
        let within = self
            .pause_at
            .get_untracked()
            .filter(|stop| *stop > now)
            .map_or(within_ms, |stop| within_ms.min(stop - now));
        self.fraction.set(0.0);
        self.session
            .try_update_value(|s| s.step_until(weight, within))
            .unwrap_or_default()
    }

    /// Returns to where the last Step started (PageUp on a clicker).
    pub fn step_back(&self) {
        if let Some(t) = self.steps_back.try_update_value(|v| v.pop()).flatten() {
            self.seek_to(t);
        }
    }

    /// Rewinds or fast-forwards to `t` by deterministic replay.
    pub fn seek(&self, t: u64) {
        self.steps_back.set_value(Vec::new());
        self.seek_to(t);
    }

    fn seek_to(&self, t: u64) {
        self.auto_next.set_value(0);
        self.session.update_value(|s| s.seek(SimTime(t)));
        self.fraction.set(0.0);
        self.w.pulses.set(Vec::new());
        self.w.redirects.set(Vec::new());
        self.w.log.set(vec![LogLine::new(
            SimTime(t),
            format!(
                "Timeline moved to {}.",
                crate::panels::controls::format_time(t)
            ),
            false,
            Area::Cluster,
        )]);
        self.refresh();
        self.save();
    }

    /// Back to the scene as it was set up; the user's commands are gone.
    pub fn reset(&self) {
        let scene = self.session.with_value(|s| s.scenario().clone());
        self.replace(start(scene));
    }

    /// Shows `session` (a lesson's timeline, say) from its current moment.
    pub fn present(&self, session: Session) {
        self.replace(session);
    }

    /// Commands on the timeline between `from` and `to` (virtual ms) that
    /// the cluster refused when they were replayed, with Kafka's answer.
    pub fn refusals_between(&self, from: u64, to: u64) -> Vec<KafkaError> {
        self.session
            .try_with_value(|s| {
                s.refusals()
                    .filter(|(c, _)| (from..=to).contains(&c.at))
                    .map(|(_, e)| e.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Shows `session` from its current moment, paused, with a fresh log.
    fn replace(&self, session: Session) {
        // Auto-produce goes on from the new session's moment (its next
        // record was due at the old one's, maybe far ahead).
        self.auto_next.set_value(0);
        self.generation.update_value(|g| *g += 1);
        self.w.scene.set(session.scenario().name.clone());
        self.session.set_value(session);
        self.session.update_value(|s| s.defer_snapshots(true));
        self.fraction.set(0.0);
        self.w.log.set(Vec::new());
        self.w.pulses.set(Vec::new());
        self.w.redirects.set(Vec::new());
        self.error.set(None);
        self.playing.set(false);
        self.steps_back.set_value(Vec::new());
        self.refresh();
        self.save();
    }

    /// Starts a new session on `scene`, after asking if the current one
    /// holds anything the user did (it would be replaced).
    pub fn load_scene(&self, scene: Scenario) {
        let has_work = self
            .session
            .with_value(|s| s.commands().len() > s.scenario().commands.len());
        if has_work {
            let ok = window()
                .confirm_with_message(
                    "Open a new scene? This session will be replaced (export it first to keep it).",
                )
                .unwrap_or(false);
            if !ok {
                return;
            }
        }
        self.replace(start(scene));
    }

    /// Replaces the session with one opened from a file or link; on error
    /// the current session stays and the error is shown.
    pub fn open(&self, text: &str) -> bool {
        match Session::open(text) {
            Ok(session) => {
                self.replace(session);
                self.rebuild_log();
                true
            }
            Err(e) => {
                self.error.set(Some(e));
                false
            }
        }
    }

    /// Starts the event log afresh with `line` (a lesson step's title).
    pub fn start_log(&self, line: LogLine) {
        self.w.log.set(vec![line]);
    }

    /// Writes the event log again for a session that was opened rather
    /// than played here (a share link, an import, a reload): the session is
    /// a replay, so a second copy replays it to this moment, a second of
    /// virtual time at a go, and keeps the newest lines.
    pub fn rebuild_log(&self) {
        let Some(file) = self.session.try_with_value(|s| s.to_file()) else {
            return;
        };
        let at = file.at;
        let Ok(mut replay) = Session::new(kafkasim_engine::Scenario {
            commands: file.commands,
            ..file.scenario
        }) else {
            return;
        };
        let mut lines: std::collections::VecDeque<LogLine> = std::collections::VecDeque::new();
        let mut t = 0;
        while t < at {
            t = (t + 1_000).min(at);
            let events = replay.run_until(SimTime(t));
            lines.extend(log_lines(events.iter().filter(|e| e.kind.logged())));
            let excess = lines.len().saturating_sub(LOG_LINES);
            lines.drain(..excess);
        }
        self.w.log.set(lines.into());
    }

    /// The session as a file's text.
    pub fn export(&self) -> String {
        self.session
            .with_value(|s| serde_json::to_string_pretty(&s.to_file()))
            .unwrap_or_default()
    }

    /// The session's file, as a share link carries it.
    pub fn share_text(&self) -> String {
        self.session
            .with_value(|s| serde_json::to_string(&s.to_file()))
            .unwrap_or_default()
    }

    /// Whether records are on their way (the clock runs slowly to show them).
    /// Offset commits are drawn but do not slow the clock: a group's members
    /// auto-commit every 5 s, and waiting on each made a lesson's step after
    /// a question take half a minute.
    pub fn busy(&self) -> bool {
        use kafkasim_engine::view::MessageKind;
        self.view.with(|v| {
            v.in_flight.iter().any(|m| {
                !m.is_background()
                    && !matches!(m.kind(), MessageKind::Commit | MessageKind::CommitResponse)
            })
        })
    }

    /// Advances by `real_ms` of wall time at the current speed: slowly while
    /// messages travel, quickly (but never past the next event) while idle.
    /// Returns whether the engine handled anything (an event, a command).
    pub fn tick(&self, real_ms: f64) -> bool {
        let speed = self.speed.get_untracked();
        let busy = untrack(|| self.busy());
        let every = self.auto_every.get_untracked();
        let state = |s: &Session| (s.cluster().changes(), s.cluster().now());
        let before = self.session.try_with_value(state);
        let events = self
            .session
            .try_update_value(|s| {
                let now = s.cluster().now().0 as f64 + self.fraction.get_untracked();
                let next = s.next_time().map_or(f64::MAX, |t| t.0 as f64);
                let mut target = if busy {
                    now + real_ms * BUSY_RATE * speed
                } else {
                    (now + real_ms * IDLE_RATE * speed).min(next.max(now))
                };
                if let Some(stop) = self.pause_at.get_untracked() {
                    target = target.min(stop as f64);
                }
                let mut events = Vec::new();
                // Auto-produce: a record every `every` virtual ms, each a
                // recorded command like a click, so replay reproduces it.
                if let Some(every) = every {
                    let due = self.auto_next.get_value().max(s.cluster().now().0);
                    if let Some(command) = ((due as f64) <= target)
                        .then(|| self.auto_produce_command())
                        .flatten()
                    {
                        events.extend(s.run_until(SimTime(due)));
                        if let Ok(more) = s.apply(command) {
                            events.extend(more);
                        }
                        self.auto_next.set_value(due + every);
                        self.auto_count.update_value(|n| *n += 1);
                        // Let the new record be seen leaving before time runs on.
                        target = target.min(due as f64 + 1.0);
                    }
                }
                events.extend(s.run_until(SimTime(target.floor() as u64)));
                self.fraction.set(target - target.floor());
                events
            })
            .unwrap_or_default();
        self.record(events);
        // Most frames of busy play move time by a fraction of a millisecond
        // and handle nothing: the view would come out the same.
        let after = self.session.try_with_value(state);
        if after != before {
            self.refresh();
        }
        // Whether the engine handled anything: time alone moving costs the
        // frame next to nothing, and is not what the beat avoids.
        let stepped = after.map(|a| a.0) != before.map(|b| b.0);
        let now = self.now();
        if self
            .pause_at
            .get_untracked()
            .is_some_and(|stop| now >= stop)
        {
            self.playing.set(false);
        }
        if now >= self.saved_at.get_value() + SAVE_EVERY_MS {
            self.save();
        }
        stepped
    }

    /// The next auto-produced record: from the first producer to the scene's
    /// topic, keys cycling through ten customers.
    fn auto_produce_command(&self) -> Option<Command> {
        let (producer, topic) = untrack(|| (self.producer(), self.scene_topic()));
        let n = self.auto_count.get_value();
        Some(Command::Produce {
            producer: ProducerId(producer?),
            topic: topic?.into(),
            key: Some(format!("customer-{}", n % 10).into()),
            value: format!("auto-{n}").into(),
            partition: None,
        })
    }

    /// The topic the forms act on: the one picked, while it exists, else
    /// the scene's first non-internal topic.
    pub fn scene_topic(&self) -> Option<String> {
        let picked = self.picked_topic.get();
        self.structure.with(|v| {
            picked
                .filter(|t| v.topics.iter().any(|x| !x.internal && &x.name == t))
                .or_else(|| scene_topic(v))
        })
    }

    /// The producer the forms act on: the one picked, while it exists, else
    /// the first.
    pub fn producer(&self) -> Option<u32> {
        let picked = self.picked_producer.get();
        self.structure.with(|v| {
            picked
                .filter(|p| v.producers.iter().any(|x| x.id.0 == *p))
                .or_else(|| v.producers.first().map(|p| p.id.0))
        })
    }

    /// Virtual time including the played fraction of a millisecond.
    pub fn display_time(&self) -> f64 {
        self.view.with(|v| v.time.0 as f64) + self.fraction.get()
    }

    /// Virtual time now, in whole ms.
    pub fn now(&self) -> u64 {
        self.session
            .try_with_value(|s| s.cluster().now().0)
            .unwrap_or(0)
    }

    /// The last `limit` records of a partition's log (`Cluster::log_rows`).
    pub fn log_rows(&self, topic: &str, partition: u32, limit: usize) -> Vec<LogRow> {
        let tp = kafkasim_engine::TopicPartition::new(topic, partition);
        self.session
            .try_with_value(|s| s.cluster().log_rows(&tp, limit))
            .unwrap_or_default()
    }

    /// A consumer's `processing.ms` (the simulated application's).
    pub fn consumer_processing_ms(&self, consumer: u32) -> Option<u64> {
        self.acted.track();
        self.session
            .try_with_value(|s| {
                s.cluster()
                    .consumer_config(kafkasim_engine::ConsumerId(consumer))
                    .map(|c| c.processing_ms)
            })
            .flatten()
    }

    /// A producer's whole configuration, to change one setting of it.
    pub fn producer_config(&self, producer: u32) -> Option<kafkasim_engine::ProducerConfig> {
        self.session
            .try_with_value(|s| {
                s.cluster()
                    .producer_config(kafkasim_engine::ProducerId(producer))
                    .cloned()
            })
            .flatten()
    }

    /// `source`, shown at once while paused and on the beat while playing
    /// (see `SETTLE_EVERY_MS`). While playing, `source` is not even
    /// computed between beats.
    pub fn settled<T>(&self, source: Memo<T>) -> Signal<T>
    where
        T: Clone + PartialEq + Send + Sync + 'static,
    {
        self.settled_on(source, 0)
    }

    /// `settled`, but half a beat later: the event log's turn.
    pub fn settled_between<T>(&self, source: Memo<T>) -> Signal<T>
    where
        T: Clone + PartialEq + Send + Sync + 'static,
    {
        self.settled_on(source, 1)
    }

    fn settled_on<T>(&self, source: Memo<T>, half: u64) -> Signal<T>
    where
        T: Clone + PartialEq + Send + Sync + 'static,
    {
        let shown = RwSignal::new(source.get_untracked());
        let (playing, beat) = (self.playing, self.beat);
        // `try_`: an effect still runs once if its owner (say, a panel
        // redrawn within the same tick) is already gone.
        Effect::new(move |_| {
            let turn = beat.try_get().is_some_and(|b| b % 2 == half);
            let next = if playing.try_get() != Some(true) {
                source.try_get()
            } else if turn {
                source.try_get_untracked()
            } else {
                return;
            };
            let Some(next) = next else {
                return;
            };
            if shown.try_with_untracked(|s| *s != next) == Some(true) {
                shown.try_set(next);
            }
        });
        shown.into()
    }

    /// Called every frame of play after the engine's step, which handled
    /// something or not (`stepped`): sounds the half beat when it is due.
    fn keep_beat(&self, now: f64, stepped: bool) {
        if beat_due(now, self.next_beat.get_value(), stepped) {
            self.next_beat.set_value(now + SETTLE_EVERY_MS / 2.0);
            self.beat.update(|n| *n = n.wrapping_add(1));
        }
    }

    /// Takes the session's due snapshot (a copy of the whole cluster, for
    /// fast seeking) when the browser is next idle, not inside the frame
    /// whose step made it due: in a busy scene the copy takes milliseconds.
    fn snapshot_when_idle(&self) {
        let due = self
            .session
            .try_with_value(Session::snapshot_due)
            .unwrap_or(false);
        if !due || self.snapshot_asked.get_value() {
            return;
        }
        self.snapshot_asked.set_value(true);
        let sim = *self;
        let take = move || {
            sim.snapshot_asked.try_set_value(false);
            sim.session.try_update_value(Session::take_due_snapshot);
        };
        // Safari has no requestIdleCallback: a task after the frame will do.
        let idle = wasm_bindgen::closure::Closure::once_into_js(take);
        let asked = window()
            .request_idle_callback(wasm_bindgen::JsCast::unchecked_ref(&idle))
            .is_ok();
        if !asked {
            set_timeout(take, std::time::Duration::ZERO);
        }
    }

    pub fn save(&self) {
        if !self.persist.get_value() {
            return;
        }
        self.session.with_value(crate::state::store::save);
        self.saved_at.set_value(self.now());
    }

    /// Publishes the engine's view. Most animation frames move time by a
    /// fraction of a millisecond and change nothing: then the diagram is
    /// left alone and only the chips move.
    fn refresh(&self) {
        let Some((view, horizon)) = self
            .session
            .try_with_value(|s| (s.cluster().view(), s.horizon().0))
        else {
            return;
        };
        if self.view.with_untracked(|v| v != &view) {
            self.w.view.set(view);
        }
        if self.horizon.get_untracked() != horizon {
            self.w.horizon.set(horizon);
        }
        self.snapshot_when_idle();
        self.sync_twin();
    }

    fn record(&self, events: Vec<Event>) {
        let next = self
            .pulses
            .with_untracked(|p| p.last().map_or(0, |p| p.id + 1));
        if events
            .iter()
            .any(|e| matches!(e.kind, kafkasim_engine::EventKind::MetadataUpdated { .. }))
        {
            self.w.redirects.update(|r| Redirect::fold(r, &events));
        }
        let pulses = Pulse::from_events(&events, next);
        if !pulses.is_empty() {
            self.w.pulses.update(|p| {
                p.extend(pulses);
                let excess = p.len().saturating_sub(PULSES_KEPT);
                p.drain(..excess);
            });
        }
        // A busy step logs hundreds of lines; only the newest `LOG_LINES`
        // are kept, so only they are written out.
        let mut newest: Vec<&Event> = events
            .iter()
            .rev()
            .filter(|e| e.kind.logged())
            .take(LOG_LINES)
            .collect();
        newest.reverse();
        let lines = log_lines(newest);
        if lines.is_empty() {
            return;
        }
        self.w.log.update(|log| {
            log.extend(lines);
            let excess = log.len().saturating_sub(LOG_LINES);
            log.drain(..excess);
        });
    }
}

/// Whether the (half) beat sounds in this frame (wall-clock ms `now`),
/// the next one due at `due`: once due, in the first frame whose engine
/// step handled nothing (`!stepped`), so the figures' repaint does not
/// come on top of the step's work; after `BEAT_GRACE_MS`, in any frame.
fn beat_due(now: f64, due: f64, stepped: bool) -> bool {
    now >= due && (!stepped || now >= due + BEAT_GRACE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkasim_engine::broker::partition::ElectionReason;
    use kafkasim_engine::{BrokerId, EventKind, TopicPartition};

    #[test]
    fn a_failovers_fifty_internal_isr_changes_fold_into_one_line() {
        // "Only problems" used to list one ISR line per __consumer_offsets
        // partition after a crash.
        let shrunk = |topic: &str, p: u32| Event {
            time: SimTime(18_000),
            kind: EventKind::IsrShrunk {
                tp: TopicPartition::new(topic, p),
                removed: vec![BrokerId(1)],
                isr: vec![BrokerId(2)],
                reason: "the controller marked the broker offline".into(),
            },
        };
        let mut events: Vec<Event> = (0..50).map(|p| shrunk("__consumer_offsets", p)).collect();
        events.insert(10, shrunk("MyTopic", 0));
        let lines = log_lines(&events);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "Broker 1 left the ISR of 50 partitions of __consumer_offsets (the controller marked the broker offline).",
                "Broker 1 left the ISR of MyTopic-0 (the controller marked the broker offline); ISR is now [2].",
            ]
        );
        assert!(lines[0].alarm);
        // One alone reads as it always did.
        let one = log_lines(&events[..1]);
        assert!(one[0].text.ends_with("ISR of __consumer_offsets-0 (the controller marked the broker offline); ISR is now [2]."));
    }

    #[test]
    fn the_beat_waits_for_a_frame_whose_step_changed_nothing_but_not_long() {
        let due = 1_000.0;
        assert!(!beat_due(due - 1.0, due, false));
        // Due in a quiet frame: now.
        assert!(beat_due(due, due, false));
        // Due in a frame whose step changed the view: the next quiet one...
        assert!(!beat_due(due + 16.0, due, true));
        assert!(beat_due(due + 33.0, due, false));
        // ...or any frame once the grace is over.
        assert!(beat_due(due + BEAT_GRACE_MS, due, true));
        // The first beat of a session is due at once.
        assert!(beat_due(0.0, f64::NEG_INFINITY, true));
    }

    #[test]
    fn redirects_group_by_client_and_new_leader_and_expire() {
        let moved = |t, client, p, to| Event {
            time: SimTime(t),
            kind: EventKind::MetadataUpdated {
                client,
                tp: TopicPartition::new("t", p),
                leader: BrokerId(to),
                previous: BrokerId(1),
            },
        };
        let producer = NodeId::Producer(kafkasim_engine::ProducerId(1));
        let consumer = NodeId::Consumer(kafkasim_engine::ConsumerId(1));
        let mut kept = Vec::new();
        Redirect::fold(
            &mut kept,
            &[
                moved(10, producer, 0, 2),
                moved(10, producer, 2, 2),
                moved(11, consumer, 0, 2),
            ],
        );
        assert_eq!(kept.len(), 2);
        assert_eq!(
            kept[0].tps,
            [TopicPartition::new("t", 0), TopicPartition::new("t", 2)]
        );
        // t-0 moves again: it leaves the Broker 2 arrow for a Broker 3 one.
        Redirect::fold(&mut kept, &[moved(500, producer, 0, 3)]);
        assert_eq!(kept[0].tps, [TopicPartition::new("t", 2)]);
        assert_eq!((kept[2].to, kept[2].at), (BrokerId(3), 500));
        // Later news drops arrows older than REDIRECT_SHOWN_MS.
        Redirect::fold(&mut kept, &[moved(4_400, consumer, 1, 3)]);
        let left: Vec<_> = kept.iter().map(|r| (r.client, r.to)).collect();
        assert_eq!(left, [(producer, BrokerId(3)), (consumer, BrokerId(3))]);
    }

    #[test]
    fn elections_become_numbered_pulses_at_the_winner() {
        let at = |kind| Event {
            time: SimTime(5),
            kind,
        };
        let events = [
            at(EventKind::ControllerElected {
                controller: NodeId::Broker(BrokerId(2)),
                epoch: 3,
            }),
            at(EventKind::ConsumerCrashed {
                consumer: kafkasim_engine::ConsumerId(1),
            }),
            at(EventKind::LeaderElected {
                tp: TopicPartition::new("t", 0),
                leader: Some(BrokerId(3)),
                previous: Some(BrokerId(1)),
                leader_epoch: 1,
                isr: vec![BrokerId(3)],
                reason: ElectionReason::LeaderFailed,
                unclean: false,
            }),
            at(EventKind::LeaderElected {
                tp: TopicPartition::new("t", 1),
                leader: None,
                previous: Some(BrokerId(1)),
                leader_epoch: 1,
                isr: vec![],
                reason: ElectionReason::LeaderFailed,
                unclean: false,
            }),
        ];
        let pulses = Pulse::from_events(&events, 7);
        assert_eq!(
            pulses,
            [
                Pulse {
                    id: 7,
                    node: NodeId::Broker(BrokerId(2)),
                    tp: None
                },
                Pulse {
                    id: 8,
                    node: NodeId::Broker(BrokerId(3)),
                    tp: Some(TopicPartition::new("t", 0))
                },
            ],
            "an offline partition has no winner to mark"
        );
    }
}
