//! Lessons on the Messaging models page: replaying the steps before one, and
//! checking their points.

use super::*;
use crate::error::Result;
use crate::messaging_models::{Classic, ClassicCommand, ClassicView};
use crate::run::scenario::invalid;

impl Lesson {
    /// The Messaging models page at the start of step `k` (0-based), and
    /// the commands of step `k` at their times: what the page plays.
    pub fn models_at(&self, k: usize) -> (Classic, Vec<(u64, ClassicCommand)>) {
        let mut classic = crate::messaging_models::scene::build();
        let times = self.times();
        let mut script = Vec::new();
        for (i, (step, t)) in self.steps.iter().zip(&times).enumerate().take(k + 1) {
            advance_to(&mut classic, t.start);
            script = step
                .classic
                .iter()
                .map(|c| (t.start + 1 + c.after, c.command.clone()))
                .collect();
            if i == k {
                break;
            }
            for (at, command) in script.drain(..) {
                advance_to(&mut classic, at);
                // Checked by `check`; a refused one changes nothing.
                let _ = classic.apply(command);
            }
            advance_to(&mut classic, t.end);
        }
        (classic, script)
    }

    pub(super) fn check_models(&self) -> Result<usize> {
        let fail = |n: usize, m: String| invalid(format!("Step {n}: {m}"));
        let mut classic = crate::messaging_models::scene::build();
        let mut points = 0;
        for (i, (step, t)) in self.steps.iter().zip(self.times()).enumerate() {
            let n = i + 1;
            advance_to(&mut classic, t.start);
            let before = classic.view();
            for c in &step.classic {
                advance_to(&mut classic, t.start + 1 + c.after);
                classic
                    .apply(c.command.clone())
                    .map_err(|e| fail(n, format!("a command was refused: {e}")))?;
            }
            advance_to(&mut classic, t.end);
            let view = classic.view();
            for h in &step.highlight {
                if !on_models_page(&before, h) && !on_models_page(&view, h) {
                    return Err(fail(n, format!("'{h}' is not on the Messaging models page (name a client, 'Queue jobs' or 'Topic news').")));
                }
            }
            for e in &step.expect {
                e.holds_classic(&view).map_err(|m| fail(n, m))?;
                points += 1;
            }
        }
        Ok(points)
    }
}

pub(super) fn advance_to(classic: &mut Classic, t: u64) {
    let now = classic.now();
    if t > now {
        classic.advance(t - now);
    }
}

/// A client's name, or a destination as `Queue jobs` / `Topic news`.
pub(super) fn on_models_page(view: &ClassicView, name: &str) -> bool {
    view.clients.iter().any(|c| &*c.name == name)
        || view.destinations.iter().any(|d| {
            let kind = match d.kind {
                crate::messaging_models::DestinationKind::Queue => "Queue",
                crate::messaging_models::DestinationKind::Topic => "Topic",
            };
            format!("{kind} {}", d.name) == name
        })
}
