//! Step and Skip: the instructor's time controls pass over heartbeats and
//! empty fetches, and Skip lands on the next thing a class stops to look at.

use kafkasim_engine::event::Weight;
use kafkasim_engine::run::{presets, timings};
use kafkasim_engine::{BrokerId, ProducerId};
use kafkasim_engine::{Command, EventKind, Session, SimTime};

fn quickstart(scene: kafkasim_engine::Scenario) -> Session {
    let mut s = Session::new(scene).expect("the quick start is valid");
    s.run_until(SimTime(5_000));
    s
}

#[test]
fn skip_after_a_crash_lands_on_the_failover_not_on_a_heartbeat() {
    let mut s = quickstart(presets::quickstart());
    s.apply(Command::CrashBroker {
        broker: BrokerId(1),
    })
    .unwrap();
    let crashed_at = s.cluster().now().0;
    let events = s.step_until(Weight::Milestone, 120_000);
    // One scheduled item can cause several events; the skip stops after
    // the item that caused the first milestone.
    let first = events
        .iter()
        .position(|e| e.kind.weight() == Weight::Milestone)
        .expect("the skip found a milestone");
    let landed = &events[first];
    // Broker 1's ZooKeeper session (18 s) expires: the controller declares
    // it dead, with nothing of weight before it.
    assert!(
        matches!(
            landed.kind,
            EventKind::BrokerFenced { .. } | EventKind::ControllerElected { .. }
        ),
        "{:?}",
        landed.kind
    );
    let waited = landed.time.0 - crashed_at;
    assert!((17_000..=19_000).contains(&waited), "{waited} ms");
    assert_eq!(s.cluster().now(), landed.time);
    // The next skip finds the elections that follow.
    let next = s.step_until(Weight::Milestone, 120_000);
    assert!(next
        .iter()
        .any(|e| matches!(e.kind, EventKind::LeaderElected { .. })));
}

#[test]
fn classroom_timings_make_the_same_failover_three_times_sooner() {
    let mut s = quickstart(timings::apply(&presets::quickstart()));
    s.apply(Command::CrashBroker {
        broker: BrokerId(1),
    })
    .unwrap();
    let crashed_at = s.cluster().now().0;
    let events = s.step_until(Weight::Milestone, 120_000);
    let landed = events
        .iter()
        .find(|e| e.kind.weight() == Weight::Milestone)
        .expect("the skip found a milestone");
    let waited = landed.time.0 - crashed_at;
    assert!((5_000..=7_000).contains(&waited), "{waited} ms");
}

#[test]
fn step_passes_over_routine_chatter_and_stops_at_what_the_diagram_shows() {
    let mut s = quickstart(presets::quickstart());
    s.apply(Command::Produce {
        producer: ProducerId(1),
        topic: "MyTopic".into(),
        key: Some("alice".into()),
        value: "v".into(),
        partition: None,
    })
    .unwrap();
    let mut appended = false;
    for _ in 0..20 {
        let from = s.cluster().now();
        let events = s.step_until(Weight::Picture, 60_000);
        if events.iter().all(|e| e.kind.weight() == Weight::Routine) {
            // An idle cluster: nothing to show within the minute looked at.
            assert_eq!(s.cluster().now().0, from.0 + 60_000);
            continue;
        }
        // Everything before the last scheduled item was routine: the step
        // stopped at the first item the diagram shows.
        let last_time = events.last().unwrap().time;
        assert!(events
            .iter()
            .filter(|e| e.time < last_time)
            .all(|e| e.kind.weight() == Weight::Routine));
        appended |= events
            .iter()
            .any(|e| matches!(e.kind, EventKind::RecordsAppended { .. }));
    }
    assert!(appended, "the steps saw the record appended");
}

#[test]
fn a_skip_with_nothing_ahead_stops_at_its_limit() {
    let mut s = quickstart(presets::quickstart());
    // Settle the scene's own start-up.
    s.step_until(Weight::Milestone, 60_000);
    s.run_until(SimTime(90_000));
    let events = s.step_until(Weight::Milestone, 30_000);
    assert!(events.iter().all(|e| e.kind.weight() < Weight::Milestone));
    assert_eq!(s.cluster().now(), SimTime(120_000));
}
