//! Every lesson that ships plays as its narration says, through the same
//! `Session` the page uses, and going back a step gives that step's state.

use kafkasim_engine::lesson::{builtin, Lesson, LessonView};
use kafkasim_engine::{Session, SimTime};

#[test]
fn every_lesson_checks() {
    let lessons = builtin();
    assert!(lessons.len() >= 10, "{} lessons", lessons.len());
    for l in &lessons {
        let points = l.check().unwrap_or_else(|e| panic!("{}: {e}", l.id));
        assert!(
            points >= l.steps.len() / 2,
            "{}: only {points} points",
            l.id
        );
    }
}

#[test]
fn lesson_ids_are_unique_and_every_lesson_asks_something() {
    let lessons = builtin();
    let mut ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), lessons.len());
    let with_prompts = lessons
        .iter()
        .filter(|l| l.steps.iter().any(|s| s.prompt.is_some()))
        .count();
    assert!(
        with_prompts >= lessons.len() / 2,
        "{with_prompts} lessons ask a question"
    );
}

/// The page plays a lesson on a `Session`: at each step's end the teaching
/// points hold there too.
fn points_hold_on_a_session(l: &Lesson) {
    let mut s = Session::new(l.timeline()).unwrap();
    for (i, (step, t)) in l.steps.iter().zip(l.times()).enumerate() {
        s.seek(SimTime(t.end));
        let view = s.cluster().view();
        for e in &step.expect {
            e.holds(s.cluster(), &view)
                .unwrap_or_else(|m| panic!("{} step {}: {m}", l.id, i + 1));
        }
    }
}

fn cluster_lessons() -> impl Iterator<Item = Lesson> {
    builtin()
        .into_iter()
        .filter(|l| l.view == LessonView::Cluster)
}

#[test]
fn teaching_points_hold_when_played_on_a_session() {
    for l in cluster_lessons() {
        points_hold_on_a_session(&l);
    }
}

/// The Messaging models page rebuilds a step by replaying the steps before
/// it; played on from there, each step's points hold.
#[test]
fn a_models_lesson_replays_to_any_step_and_its_points_hold() {
    let l = builtin()
        .into_iter()
        .find(|l| l.view == LessonView::Models)
        .expect("lesson 1 plays on the Messaging models page");
    let times = l.times();
    for (k, step) in l.steps.iter().enumerate() {
        let (mut classic, script) = l.models_at(k);
        assert_eq!(classic.now(), times[k].start, "step {}", k + 1);
        for (at, command) in script {
            classic.advance(at - classic.now());
            classic.apply(command).unwrap();
        }
        classic.advance(times[k].end - classic.now());
        let view = classic.view();
        for e in &step.expect {
            e.holds_classic(&view)
                .unwrap_or_else(|m| panic!("step {}: {m}", k + 1));
        }
    }
}

#[test]
fn going_back_a_step_restores_its_exact_state() {
    for l in cluster_lessons() {
        let times = l.times();
        let mut forward = Session::new(l.timeline()).unwrap();
        let starts: Vec<_> = times
            .iter()
            .map(|t| {
                forward.seek(SimTime(t.start));
                forward.cluster().view()
            })
            .collect();
        // From the end, step back one at a time.
        forward.seek(SimTime(times.last().unwrap().end));
        for (i, t) in times.iter().enumerate().rev() {
            forward.seek(SimTime(t.start));
            assert_eq!(
                forward.cluster().view(),
                starts[i],
                "{} step {}",
                l.id,
                i + 1
            );
        }
    }
}

#[test]
fn a_refusal_the_lesson_expects_is_shown_by_the_session() {
    let topics = builtin().into_iter().find(|l| l.id == "topics").unwrap();
    let mut s = Session::new(topics.timeline()).unwrap();
    s.seek(SimTime(topics.times().last().unwrap().end));
    let refused: Vec<String> = s.refusals().map(|(_, e)| e.code.to_string()).collect();
    assert_eq!(
        refused,
        vec!["TOPIC_ALREADY_EXISTS", "INVALID_TOPIC_EXCEPTION"]
    );
}

#[test]
fn the_documented_example_lesson_checks() {
    let text = include_str!("../../../docs/examples/my-failover-lesson.json");
    let lesson = Lesson::from_json(text).unwrap();
    assert_eq!(lesson.check(), Ok(1));
}
