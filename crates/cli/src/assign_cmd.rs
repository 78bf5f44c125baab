//! `kafkasim assign`: Kafka's consumer partition assignors on a group
//! described in JSON on stdin, the way a group leader would run them.

use crate::{usage_error, CliError};
use kafkasim_engine::clients::assignor::{assign, AssignorKind, MemberSubscription};
use kafkasim_engine::TopicPartition;
use lexopt::prelude::*;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

/// The most stdin `assign` reads: a group description is small.
const MAX_INPUT_BYTES: u64 = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    topics: BTreeMap<String, u32>,
    members: Vec<Member>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Member {
    id: String,
    topics: Vec<String>,
    #[serde(default)]
    instance_id: Option<String>,
    #[serde(default)]
    owned: Vec<(String, u32)>,
    #[serde(default)]
    generation: Option<i32>,
}

pub(crate) fn cmd_assign(parser: &mut lexopt::Parser) -> Result<String, CliError> {
    let (mut strategy, mut json) = (None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("strategy") => strategy = Some(parser.value()?.string()?),
            Long("json") => json = true,
            Short('h') | Long("help") => return Ok(crate::USAGE.to_owned()),
            other => return Err(other.unexpected().into()),
        }
    }
    let strategy = strategy.ok_or_else(|| {
        usage_error("assign needs --strategy range|roundrobin|sticky|cooperative-sticky")
    })?;
    let mut input = String::new();
    std::io::stdin()
        .take(MAX_INPUT_BYTES)
        .read_to_string(&mut input)
        .map_err(|e| usage_error(format!("cannot read the group from stdin: {e}")))?;
    assign_document(&strategy, &input, json)
}

/// Runs the named assignor on the document; the whole command minus stdin.
pub(crate) fn assign_document(strategy: &str, input: &str, json: bool) -> Result<String, CliError> {
    let kind = AssignorKind::parse(strategy).ok_or_else(|| {
        usage_error(format!(
            "unknown --strategy '{strategy}': use range, roundrobin, sticky or cooperative-sticky"
        ))
    })?;
    let input: Input = serde_json::from_str(input).map_err(|e| {
        usage_error(format!(
            "invalid group on stdin: {e} (expected {{\"topics\": {{\"t1\": 3}}, \"members\": [{{\"id\": \"c1\", \"topics\": [\"t1\"]}}]}})"
        ))
    })?;
    let mut seen = BTreeSet::new();
    if let Some(dup) = input.members.iter().find(|m| !seen.insert(m.id.as_str())) {
        return Err(usage_error(format!(
            "invalid group on stdin: member id '{}' appears twice",
            dup.id
        )));
    }
    if input.topics.len() > 1_000
        || input.topics.values().any(|n| *n > 10_000)
        || input.members.len() > 1_000
    {
        return Err(usage_error(
            "invalid group on stdin: at most 1000 topics of 10000 partitions and 1000 members",
        ));
    }
    let members: Vec<MemberSubscription> = input
        .members
        .into_iter()
        .map(|m| MemberSubscription {
            member_id: m.id,
            instance_id: m.instance_id,
            topics: m.topics,
            owned: m
                .owned
                .into_iter()
                .map(|(t, p)| TopicPartition::new(t, p))
                .collect(),
            generation: m.generation,
        })
        .collect();
    let assignment = assign(kind, &input.topics, &members);
    Ok(if json {
        let out: BTreeMap<&String, Vec<(&str, u32)>> = assignment
            .iter()
            .map(|(m, tps)| (m, tps.iter().map(|tp| (&*tp.topic, tp.partition)).collect()))
            .collect();
        crate::render_json(&out)
    } else {
        assignment
            .iter()
            .map(|(m, tps)| {
                if tps.is_empty() {
                    format!("{m}: (idle: no partition)\n")
                } else {
                    let list: Vec<String> = tps.iter().map(|tp| tp.to_string()).collect();
                    format!("{m}: {}\n", list.join(", "))
                }
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_TOPICS: &str = r#"{"topics": {"t1": 3, "t2": 3},
        "members": [{"id": "c1", "topics": ["t1", "t2"]}, {"id": "c2", "topics": ["t1", "t2"]}]}"#;

    fn json(strategy: &str, input: &str) -> serde_json::Value {
        serde_json::from_str(&assign_document(strategy, input, true).unwrap()).unwrap()
    }

    /// Kafka's RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions.
    #[test]
    fn range_matches_kafka() {
        assert_eq!(
            json("range", TWO_TOPICS),
            serde_json::json!({
                "c1": [["t1", 0], ["t1", 1], ["t2", 0], ["t2", 1]],
                "c2": [["t1", 2], ["t2", 2]]
            })
        );
    }

    /// Kafka's RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions.
    #[test]
    fn roundrobin_matches_kafka() {
        assert_eq!(
            json("roundrobin", TWO_TOPICS),
            serde_json::json!({
                "c1": [["t1", 0], ["t1", 2], ["t2", 1]],
                "c2": [["t1", 1], ["t2", 0], ["t2", 2]]
            })
        );
    }

    #[test]
    fn idle_members_are_listed() {
        let input = r#"{"topics": {"t": 1}, "members": [{"id": "a", "topics": ["t"]}, {"id": "b", "topics": ["t"]}]}"#;
        let text = assign_document("range", input, false).unwrap();
        assert_eq!(text, "a: t-0\nb: (idle: no partition)\n");
    }

    #[test]
    fn cooperative_withholds_a_moving_partition_for_one_round() {
        let input = r#"{"topics": {"t": 2}, "members": [
            {"id": "a", "topics": ["t"], "owned": [["t", 0], ["t", 1]], "generation": 1},
            {"id": "b", "topics": ["t"]}]}"#;
        let out = json("cooperative-sticky", input);
        assert_eq!(out["b"], serde_json::json!([]), "{out}");
        assert_eq!(out["a"].as_array().unwrap().len(), 1, "{out}");
        let eager = json("sticky", input);
        assert_eq!(eager["b"].as_array().unwrap().len(), 1, "{eager}");
    }

    #[test]
    fn bad_documents_are_refused() {
        for (strategy, input, says) in [
            ("range", "not json", "invalid group"),
            (
                "range",
                r#"{"topics": {"t": -1}, "members": []}"#,
                "invalid group",
            ),
            (
                "range",
                r#"{"topics": {}, "members": [{"id": "a", "topics": []}, {"id": "a", "topics": []}]}"#,
                "appears twice",
            ),
            (
                "range",
                r#"{"topics": {}, "members": [], "extra": 1}"#,
                "unknown field",
            ),
            (
                "fancy",
                r#"{"topics": {}, "members": []}"#,
                "unknown --strategy",
            ),
        ] {
            let err = match assign_document(strategy, input, true) {
                Err(CliError::Usage(m)) => m,
                other => panic!("{input}: {other:?}"),
            };
            assert!(err.contains(says), "{err}");
        }
    }
}
