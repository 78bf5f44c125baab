//! Scenarios: a seed, an initial cluster and timed commands, as JSON.
//! Replaying a scenario reproduces the session exactly.

use crate::command::Command;
use crate::config::ClusterConfig;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::Event;
use crate::ids::SimTime;
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};

/// Largest scenario file accepted, in bytes.
pub const MAX_SCENARIO_BYTES: usize = 2 * 1024 * 1024;
/// Most commands one scenario may hold.
pub const MAX_COMMANDS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedCommand {
    /// Virtual time in ms at which the command is applied.
    pub at: u64,
    #[serde(flatten)]
    pub command: Command,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub cluster: ClusterConfig,
    #[serde(default)]
    pub commands: Vec<TimedCommand>,
}

impl Scenario {
    /// Parses and checks a scenario document.
    pub fn from_json(text: &str) -> Result<Scenario> {
        check_size(text, "scenario")?;
        let scenario: Scenario =
            serde_json::from_str(text).map_err(|e| unreadable("scenario", &e))?;
        scenario.check_shape()?;
        Ok(scenario)
    }

    fn check_shape(&self) -> Result<()> {
        check_commands(&self.commands, "scenario")
    }

    /// Runs every command at its time and stops at the last one (or `until`).
    /// A command the cluster refuses fails the whole run, naming the command.
    pub fn run(&self, until: Option<u64>) -> Result<(Cluster, Vec<Event>)> {
        self.check_shape()?;
        let mut cluster = Cluster::new(self.cluster.clone())?;
        let mut trace = Vec::new();
        for (i, tc) in self.commands.iter().enumerate() {
            if until.is_some_and(|u| tc.at > u) {
                break;
            }
            cluster.run_until(SimTime(tc.at));
            trace.extend(cluster.take_events());
            let events = cluster.apply(tc.command.clone()).map_err(|e| {
                KafkaError::new(
                    e.code,
                    format!("command {} (at {} ms): {}", i + 1, tc.at, e.message),
                )
            })?;
            trace.extend(events);
        }
        let end = until.unwrap_or_else(|| self.commands.last().map_or(0, |c| c.at));
        cluster.run_until(SimTime(end));
        trace.extend(cluster.take_events());
        Ok((cluster, trace))
    }
}

/// A scenario or session document (`what`) must fit in `MAX_SCENARIO_BYTES`.
pub(crate) fn check_size(text: &str, what: &str) -> Result<()> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(invalid(format!(
            "The {what} is {} bytes; the limit is {MAX_SCENARIO_BYTES}.",
            text.len()
        )));
    }
    Ok(())
}

/// At most `MAX_COMMANDS` commands, in time order.
pub(crate) fn check_commands(commands: &[TimedCommand], what: &str) -> Result<()> {
    if commands.len() > MAX_COMMANDS {
        return Err(invalid(format!(
            "{} commands; a {what} may hold at most {MAX_COMMANDS}.",
            commands.len()
        )));
    }
    if let Some(w) = commands.windows(2).position(|w| w[1].at < w[0].at) {
        return Err(invalid(format!(
            "Command {} (at {} ms) comes before the previous one (at {} ms): commands must be in time order.",
            w + 2,
            commands[w + 1].at,
            commands[w].at
        )));
    }
    Ok(())
}

pub(crate) fn invalid(message: String) -> KafkaError {
    KafkaError::new(ErrorCode::InvalidScenario, message)
}

/// A document that did not parse as a `what` ("session", "lesson",
/// "scenario"): what is wrong in plain words first, the parser's detail
/// after it.
pub(crate) fn unreadable(what: &str, e: &serde_json::Error) -> KafkaError {
    use serde_json::error::Category;
    let plain = match e.classify() {
        Category::Eof => format!("This file is cut short: it ends before the {what} does (was it copied whole?)"),
        Category::Syntax | Category::Io => format!("This file is not a kafkasim {what}: it is not JSON text"),
        Category::Data => format!("This file is JSON but not a kafkasim {what}: a field is missing, unknown or of the wrong kind"),
    };
    invalid(format!("{plain}. Not a kafkasim {what}: {e}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_fields_and_disorder() {
        assert!(Scenario::from_json(r#"{"nmae": "x"}"#).is_err());
        let typo = r#"{"commands": [{"at": 1, "command": "crash_broker", "brokr": 1}]}"#;
        assert!(Scenario::from_json(typo).is_err());
        let disordered = r#"{"commands": [
            {"at": 10, "command": "crash_broker", "broker": 1},
            {"at": 5, "command": "restart_broker", "broker": 1}]}"#;
        let e = Scenario::from_json(disordered).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScenario);
        assert!(e.message.contains("time order"), "{e}");
    }

    #[test]
    fn a_refused_command_names_itself() {
        let s = r#"{"commands": [{"at": 100, "command": "crash_broker", "broker": 9}]}"#;
        let e = Scenario::from_json(s).unwrap().run(None).unwrap_err();
        assert_eq!(e.code, ErrorCode::BrokerNotAvailable);
        assert!(e.message.starts_with("command 1 (at 100 ms)"), "{e}");
    }
}
