//! Prediction questions in lessons, and the rule that keeps them honest: the
//! text a class reads before answering must not give the answer away.
//!
//! A question step shows its title, narration and question first; what
//! happened and why (`Step::after_answer`, `Prompt::explanation`) shows only
//! once the simulation has answered. Each question has spoilers: words or
//! phrases that would reveal the right answer. By default they are the right
//! choice's content words that neither the question nor a wrong choice uses
//! (the words that tell the right answer apart); a lesson can list its own.
//! [`Prompt::spoiled_by`] finds a spoiler in the before-text, case-insensitively,
//! as a whole word or phrase (a plural `s`/`es` still counts).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub question: String,
    pub choices: Vec<String>,
    /// Index of the right choice.
    pub answer: usize,
    /// Shown once the simulation has given the answer.
    pub explanation: String,
    /// Words or phrases the text before the answer must not contain; by
    /// default the right choice's distinguishing content words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoilers: Option<Vec<String>>,
}

/// Words too common to give an answer away.
const STOP_WORDS: &[&str] = &[
    "a", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "being", "both",
    "but", "by", "can", "could", "did", "do", "does", "down", "each", "few", "for", "from", "had",
    "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "may", "might", "more", "most", "must", "no", "nor", "not", "of", "on", "once", "one", "only",
    "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "to", "too", "under", "until", "up", "us", "very", "was", "we", "were", "what", "when",
    "where", "which", "who", "whom", "whose", "why", "will", "with", "would", "you", "your",
];

impl Prompt {
    /// The spoilers in force: the lesson's own list, or the default.
    pub fn spoilers(&self) -> Vec<String> {
        if let Some(own) = &self.spoilers {
            return own.clone();
        }
        let Some(right) = self.choices.get(self.answer) else {
            return Vec::new();
        };
        let mut taken: Vec<String> = words(&self.question);
        for (i, c) in self.choices.iter().enumerate() {
            if i != self.answer {
                taken.extend(words(c));
            }
        }
        let mut out: Vec<String> = Vec::new();
        for w in words(right) {
            if !STOP_WORDS.contains(&w.as_str()) && !taken.contains(&w) && !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }

    /// The first spoiler that `text` contains, if any.
    pub fn spoiled_by(&self, text: &str) -> Option<String> {
        let text = words(text);
        self.spoilers()
            .into_iter()
            .find(|s| contains_phrase(&text, &words(s)))
    }
}

/// Lowercase words; `MyTopic-0`, `session.timeout.ms` and `NOT_ENOUGH_REPLICAS`
/// stay whole, and sentence punctuation around them goes.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || "-._'".contains(c)))
        .map(|w| w.trim_matches(|c: char| "-._'".contains(c)))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn contains_phrase(text: &[String], phrase: &[String]) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let same = |t: &String, p: &String| {
        t == p
            || t.strip_prefix(p.as_str())
                .is_some_and(|s| s == "s" || s == "es")
    };
    text.windows(phrase.len())
        .any(|w| w.iter().zip(phrase).all(|(t, p)| same(t, p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(question: &str, choices: &[&str], answer: usize) -> Prompt {
        Prompt {
            question: question.into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            answer,
            explanation: String::new(),
            spoilers: None,
        }
    }

    #[test]
    fn the_default_spoilers_are_the_words_that_tell_the_right_answer_apart() {
        let p = prompt(
            "Consumer 2 joins group billing. What happens to the three partitions?",
            &[
                "Both consumers read all three",
                "They are divided between the two consumers",
                "Consumer 2 waits until consumer 1 leaves",
            ],
            1,
        );
        assert_eq!(p.spoilers(), vec!["divided", "between", "two"]);
    }

    #[test]
    fn a_spoiler_matches_whole_words_in_any_case_and_plurals() {
        let p = prompt("Which way?", &["The queue waits", "Nothing"], 0);
        assert_eq!(p.spoiled_by("It sits in the Queue."), Some("queue".into()));
        assert_eq!(p.spoiled_by("Two queues."), Some("queue".into()));
        assert_eq!(p.spoiled_by("A queuecard"), None);
        assert_eq!(p.spoiled_by("Nothing to see."), None);
    }

    #[test]
    fn a_lesson_may_name_its_own_spoilers_and_phrases_match_as_a_whole() {
        let mut p = prompt("Who leads MyTopic-0 next?", &["Broker 2", "Nobody"], 0);
        p.spoilers = Some(vec!["broker 2".into()]);
        assert_eq!(p.spoiled_by("Broker 1 leads, broker 3 follows."), None);
        assert_eq!(
            p.spoiled_by("Then broker 2 takes over."),
            Some("broker 2".into())
        );
    }

    #[test]
    fn dotted_and_dashed_names_are_one_word() {
        let p = prompt(
            "What does the producer get?",
            &["NOT_ENOUGH_REPLICAS", "Success"],
            0,
        );
        assert_eq!(
            p.spoiled_by("It may answer NOT_ENOUGH_REPLICAS."),
            Some("not_enough_replicas".into())
        );
        assert_eq!(p.spoiled_by("Enough replicas are there."), None);
    }
}
