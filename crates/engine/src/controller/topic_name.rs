//! Topic names: Kafka's rules for a legal name (`Topic.validate`), the
//! `.`/`_` collision rule, and which names belong to Kafka's internal topics.

use crate::error::{ErrorCode, KafkaError, Result};

/// Kafka's `MAX_NAME_LENGTH`: a partition's directory is named
/// `<topic>-<partition>` and must fit a 255-byte file name.
pub const MAX_NAME_LENGTH: usize = 249;

/// The topic that stores committed offsets and group metadata.
pub const GROUP_METADATA_TOPIC_NAME: &str = "__consumer_offsets";

/// The topic that stores transaction coordinator state.
pub const TRANSACTION_STATE_TOPIC_NAME: &str = "__transaction_state";

/// Kafka's `Topic.validate`: the checks in Kafka's order, with Kafka's
/// sentences, all as `INVALID_TOPIC_EXCEPTION`.
pub fn validate_topic_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(
            "Topic name is illegal, it can't be empty".to_owned(),
        ));
    }
    if name == "." || name == ".." {
        return Err(invalid("Topic name cannot be \".\" or \"..\"".to_owned()));
    }
    if java_length(name) > MAX_NAME_LENGTH {
        return Err(invalid(format!(
            "Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, Topic name: {name}"
        )));
    }
    if !name.bytes().all(is_legal_byte) {
        return Err(invalid(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// Java's `String.length()`, in UTF-16 code units: Kafka checks the length
/// before the characters, so a long non-ASCII name gets the length error.
fn java_length(name: &str) -> usize {
    name.encode_utf16().count()
}

/// `[a-zA-Z0-9._-]`. Any byte of a multi-byte UTF-8 character is >= 0x80,
/// so checking bytes rejects exactly the names Java's char check rejects.
fn is_legal_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-'
}

fn invalid(message: String) -> KafkaError {
    KafkaError::new(ErrorCode::InvalidTopicException, message)
}

/// Whether the name contains `.` or `_`. Kafka's metric names turn `.` into
/// `_`, so such a name could collide with another; `kafka-topics --create`
/// warns about any such name.
pub fn has_collision_chars(name: &str) -> bool {
    name.contains('.') || name.contains('_')
}

/// The form two names are compared in for collisions (`.` replaced by `_`);
/// never used as the topic's real name.
pub fn unify_collision_chars(name: &str) -> String {
    name.replace('.', "_")
}

/// Whether two distinct names would collide in metric names, like
/// `my.topic` and `my_topic`. Kafka refuses to create the second one with
/// `INVALID_TOPIC_EXCEPTION` ("Topic 'my_topic' collides with existing
/// topic: my.topic"); it does not merely warn.
pub fn has_collision(a: &str, b: &str) -> bool {
    unify_collision_chars(a) == unify_collision_chars(b)
}

/// Kafka's `Topic.isInternal`: topics Kafka creates and manages itself.
/// (Kafka 4.x adds `__share_group_state` for share groups, which the
/// simulator does not model.)
pub fn is_internal(name: &str) -> bool {
    name == GROUP_METADATA_TOPIC_NAME || name == TRANSACTION_STATE_TOPIC_NAME
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(name: &str) -> String {
        let err = validate_topic_name(name).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTopicException);
        err.message
    }

    #[test]
    fn legal_names_pass() {
        for name in [
            "MyTopic",
            "orders",
            "a",
            "A-b_c.d-9",
            "__consumer_offsets",
            "...",
            "-",
        ] {
            assert_eq!(validate_topic_name(name), Ok(()), "{name}");
        }
        assert_eq!(validate_topic_name(&"x".repeat(249)), Ok(()));
    }

    #[test]
    fn empty_name() {
        assert_eq!(message(""), "Topic name is illegal, it can't be empty");
    }

    #[test]
    fn dot_and_dot_dot() {
        assert_eq!(message("."), "Topic name cannot be \".\" or \"..\"");
        assert_eq!(message(".."), "Topic name cannot be \".\" or \"..\"");
    }

    #[test]
    fn longer_than_249() {
        let name = "x".repeat(250);
        assert_eq!(
            message(&name),
            format!(
                "Topic name is illegal, it can't be longer than 249 characters, Topic name: {name}"
            )
        );
    }

    #[test]
    fn length_counts_utf16_units_and_comes_before_characters() {
        // 125 emoji are 250 UTF-16 units: Java reports the length first.
        let name = "😀".repeat(125);
        assert!(message(&name).contains("can't be longer than 249"));
        let short = "😀".repeat(124);
        assert!(message(&short).contains("contains a character other than"));
    }

    #[test]
    fn illegal_characters() {
        assert_eq!(
            message("x y"),
            "Topic name \"x y\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        );
        for name in ["a/b", "a:b", "é", "tab\t", "a+b"] {
            assert!(
                message(name).contains("is illegal, it contains a character"),
                "{name}"
            );
        }
    }

    #[test]
    fn collision_chars() {
        assert!(has_collision_chars("my.topic"));
        assert!(has_collision_chars("my_topic"));
        assert!(!has_collision_chars("my-topic"));
        assert_eq!(unify_collision_chars("a.b_c.d"), "a_b_c_d");
        assert!(has_collision("my.topic", "my_topic"));
        assert!(!has_collision("my.topic", "my-topic"));
    }

    #[test]
    fn internal_topics() {
        assert!(is_internal("__consumer_offsets"));
        assert!(is_internal("__transaction_state"));
        assert!(!is_internal("__consumer_offsets2"));
        assert!(!is_internal("MyTopic"));
    }
}
