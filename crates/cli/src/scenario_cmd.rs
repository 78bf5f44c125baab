//! `kafkasim run` and `kafkasim check`: replay a scenario file headlessly, or
//! say whether it is valid and, if not, exactly what is wrong.

use crate::{usage_error, CliError};
use kafkasim_engine::lesson::{Lesson, LessonView};
use kafkasim_engine::run::scenario::{Scenario, MAX_SCENARIO_BYTES};
use kafkasim_engine::view::ClusterView;
use kafkasim_engine::{ErrorCode, Event, KafkaError};
use lexopt::prelude::*;
use std::fmt::Write as _;
use std::path::PathBuf;

struct ScenarioArgs {
    path: PathBuf,
    until: Option<u64>,
    json: bool,
}

fn parse_args(parser: &mut lexopt::Parser, allow_until: bool) -> Result<ScenarioArgs, CliError> {
    let (mut path, mut until, mut json) = (None, None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("until") if allow_until => {
                let v = parser.value()?.string()?;
                until = Some(v.parse().map_err(|_| {
                    usage_error(format!(
                        "invalid value '{v}' for --until: expected milliseconds"
                    ))
                })?);
            }
            Long("json") => json = true,
            Value(v) if path.is_none() => path = Some(PathBuf::from(v)),
            other => return Err(other.unexpected().into()),
        }
    }
    let path = path.ok_or_else(|| usage_error("missing SCENARIO.json"))?;
    Ok(ScenarioArgs { path, until, json })
}

/// Reads a scenario or lesson file, refusing oversized ones before reading.
fn read(path: &PathBuf) -> Result<String, KafkaError> {
    let invalid = |m: String| KafkaError::new(ErrorCode::InvalidScenario, m);
    let meta = std::fs::metadata(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > MAX_SCENARIO_BYTES as u64 {
        return Err(invalid(format!(
            "{} is {} bytes; the limit is {MAX_SCENARIO_BYTES}",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))
}

/// A lesson file is told from a scenario by its `kafkasim_lesson` field.
fn is_lesson(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("kafkasim_lesson").is_some())
}

/// A scenario file, or a lesson's whole timeline.
fn load(path: &PathBuf) -> Result<Scenario, KafkaError> {
    let text = read(path)?;
    if is_lesson(&text) {
        let lesson = Lesson::from_json(&text)?;
        if lesson.view == LessonView::Models {
            return Err(KafkaError::new(
                ErrorCode::InvalidScenario,
                format!(
                    "lesson '{}' plays on the Messaging models page, not on a cluster: `kafkasim check` plays it, `run` replays cluster lessons only",
                    lesson.id
                ),
            ));
        }
        let mut timeline = lesson.timeline();
        timeline.name = lesson.title;
        return Ok(timeline);
    }
    Scenario::from_json(&text)
}

pub fn cmd_run(parser: &mut lexopt::Parser) -> Result<String, CliError> {
    let args = parse_args(parser, true)?;
    let scenario = load(&args.path)?;
    let (cluster, events) = scenario.run(args.until)?;
    let view = cluster.view();
    Ok(if args.json {
        render_json_trace(&events, &view)
    } else {
        render_text_trace(&scenario, &events, &view)
    })
}

pub fn cmd_check(parser: &mut lexopt::Parser) -> Result<String, CliError> {
    let args = parse_args(parser, false)?;
    let text = read(&args.path)?;
    if is_lesson(&text) {
        return check_lesson(&text, args.json);
    }
    let scenario = Scenario::from_json(&text)?;
    let (cluster, _) = scenario.run(None)?;
    let view = cluster.view();
    let summary = serde_json::json!({
        "ok": true,
        "name": scenario.name,
        "commands": scenario.commands.len(),
        "ends_at_ms": view.time.0,
        "brokers": view.brokers.len(),
        "topics": view.topics.iter().map(|t| &t.name).collect::<Vec<_>>(),
    });
    Ok(if args.json {
        format!("{summary}\n")
    } else {
        format!(
            "ok: {} — {} command(s), {} broker(s), topics [{}], ends at {} ms\n",
            if scenario.name.is_empty() {
                args.path.display().to_string()
            } else {
                scenario.name.clone()
            },
            scenario.commands.len(),
            view.brokers.len(),
            view.topics
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            view.time.0
        )
    })
}

/// Plays a lesson: its shape, every command, highlight and teaching point.
fn check_lesson(text: &str, json: bool) -> Result<String, CliError> {
    let lesson = Lesson::from_json(text)?;
    let points = lesson.check()?;
    let end = lesson.times().last().map_or(0, |t| t.end);
    Ok(if json {
        let summary = serde_json::json!({
            "ok": true,
            "lesson": lesson.id,
            "title": lesson.title,
            "steps": lesson.steps.len(),
            "points_checked": points,
            "ends_at_ms": end,
        });
        format!("{summary}\n")
    } else {
        format!(
            "ok: lesson '{}' ({}) — {} step(s), {} teaching point(s) checked, ends at {} ms\n",
            lesson.id,
            lesson.title,
            lesson.steps.len(),
            points,
            end
        )
    })
}

/// One JSON object per event, then `{"view": ...}` with the final state.
fn render_json_trace(events: &[Event], view: &ClusterView) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e).expect("events serialise"));
        out.push('\n');
    }
    out.push_str(&serde_json::json!({ "view": view }).to_string());
    out.push('\n');
    out
}

fn render_text_trace(scenario: &Scenario, events: &[Event], view: &ClusterView) -> String {
    let mut out = String::new();
    if !scenario.name.is_empty() {
        let _ = writeln!(out, "# {}", scenario.name);
    }
    for e in events {
        if let Some(line) = e.kind.describe() {
            let _ = writeln!(out, "{:>9.3} s  {line}", e.time.0 as f64 / 1000.0);
        }
    }
    let _ = writeln!(out, "\nAt {:.3} s:", view.time.0 as f64 / 1000.0);
    for t in &view.topics {
        for p in &t.partitions {
            let ids = |v: &[kafkasim_engine::BrokerId]| {
                v.iter()
                    .map(|b| b.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let _ = writeln!(
                out,
                "  {}-{}  leader {}  replicas [{}]  isr [{}]  HW {}  LEO {}",
                t.name,
                p.partition,
                p.leader.map_or("none".to_string(), |l| l.0.to_string()),
                ids(&p.replicas),
                ids(&p.isr),
                p.high_watermark,
                p.log_end_offset
            );
        }
    }
    let _ = writeln!(
        out,
        "  acknowledged records: {}, lost: {}",
        view.acknowledged_total,
        view.lost.len()
    );
    for l in &view.lost {
        let at = l
            .record
            .offset
            .map_or(" (never written)".into(), |o| format!("@{o}"));
        let _ = writeln!(out, "  LOST {}{at}: {}", l.record.tp, l.reason);
    }
    out
}
