//! `kafkasim`, the simulator's Kafka rules from a shell: `partition` shows
//! where keys land (Kafka's murmur2 partitioner), `place` shows Kafka's
//! replica placement for a new topic. Each prints aligned text for people or
//! JSON (`--json`) for scripts and tests.
//!
//! Every subcommand is a `cmd_*` function from its arguments to the text it
//! prints, built by pure `render_*` functions; `main` only dispatches and
//! turns errors into one line on stderr and exit status 2. New subcommands
//! (`run`, `check`, `assign`) live in their own modules and plug into
//! `dispatch`.

mod assign_cmd;
mod scenario_cmd;

use kafkasim_engine::clients::producer::partitioner::{murmur2, partition_for_key};
use kafkasim_engine::controller::placement::{assign_replicas, fixed_start, random_start};
use kafkasim_engine::{ErrorCode, KafkaError};
use lexopt::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::process::ExitCode;

pub(crate) const USAGE: &str = "\
kafkasim: Kafka's rules, computed the way Kafka computes them.

Usage:
  kafkasim partition --partitions N [--hex] [--json] KEY...
      Where each KEY lands with Kafka's default partitioner: its murmur2
      hash and partition = (murmur2(key) & 0x7fffffff) % N. A KEY is hashed
      as its UTF-8 bytes, or decoded from hex digits with --hex.

  kafkasim place --brokers IDS --partitions N --replication-factor RF
                 [--start-index K | --seed S] [--json]
      Kafka's rack-unaware replica placement for a new topic. IDS is a
      comma-separated list of broker ids; the first replica of each
      partition is its preferred leader. --start-index K fixes the start
      and the shift to K, as Kafka's own tests do; otherwise both are drawn
      at random, as Kafka does, from a generator seeded with S (default 0).

  kafkasim run SCENARIO.json [--until MS] [--json]
      Replays a scenario (see docs/scenarios.md) and prints what happened,
      in plain words, or as JSON lines ending with {\"view\": ...}. Given
      a lesson file, replays the lesson's whole timeline.

  kafkasim check SCENARIO.json [--json]
      Validates a scenario: it must parse and every command must be accepted.
      Given a lesson (docs/lessons.md), also plays it: every highlight must
      name something on the diagram and every teaching point must happen.

  kafkasim assign --strategy range|roundrobin|sticky|cooperative-sticky [--json]
      Kafka's consumer partition assignor, run on a group described as JSON
      on stdin: {\"topics\": {\"t1\": 3}, \"members\": [{\"id\": \"c1\",
      \"topics\": [\"t1\"], \"instance_id\": null, \"owned\": [[\"t1\", 0]],
      \"generation\": 1}]} (instance_id, owned and generation optional).
      Prints each member's partitions; members left without one sit idle.

  kafkasim help
      This text.

Errors exit with status 2 and print one line on stderr, naming Kafka's error
code when Kafka would refuse the same request.
";

/// Why a command failed: either the command line is wrong, or Kafka itself
/// would refuse the request, in which case the student should see Kafka's
/// error code.
#[derive(Debug)]
pub(crate) enum CliError {
    Usage(String),
    Kafka(KafkaError),
}

impl CliError {
    /// The single line printed on stderr.
    fn line(&self) -> String {
        match self {
            CliError::Usage(message) => format!("error: {message} (see `kafkasim help`)"),
            CliError::Kafka(err) => format!("error: {err}"),
        }
    }
}

impl From<lexopt::Error> for CliError {
    fn from(err: lexopt::Error) -> Self {
        CliError::Usage(err.to_string())
    }
}

impl From<KafkaError> for CliError {
    fn from(err: KafkaError) -> Self {
        CliError::Kafka(err)
    }
}

pub(crate) fn usage_error(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1)) {
        Ok(output) => write_out(&output),
        Err(err) => {
            eprintln!("{}", err.line());
            ExitCode::from(2)
        }
    }
}

/// Prints the output as a Unix tool does: a reader that stops early
/// (`kafkasim run … --json | head`) ends the program quietly; any other
/// failure to write is an error on stderr.
fn write_out(output: &str) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}

/// Parses the subcommand name and hands the rest of the line to it.
fn run(args: impl IntoIterator<Item = OsString>) -> Result<String, CliError> {
    let mut parser = lexopt::Parser::from_args(args);
    match parser.next()? {
        None => Err(usage_error("missing subcommand")),
        Some(Short('h') | Long("help")) => Ok(USAGE.to_owned()),
        Some(Value(command)) => dispatch(&command.string()?, &mut parser),
        Some(arg) => Err(arg.unexpected().into()),
    }
}

fn dispatch(command: &str, parser: &mut lexopt::Parser) -> Result<String, CliError> {
    match command {
        "help" => Ok(USAGE.to_owned()),
        "partition" => cmd_partition(parser),
        "place" => cmd_place(parser),
        "run" => scenario_cmd::cmd_run(parser),
        "check" => scenario_cmd::cmd_check(parser),
        "assign" => assign_cmd::cmd_assign(parser),
        other => Err(usage_error(format!("unknown subcommand '{other}'"))),
    }
}

/// Reads a count flag's value as Kafka's `int`. Negative counts become 0 so
/// that the engine answers with Kafka's own "must be larger than 0" error.
fn parse_count(flag: &str, parser: &mut lexopt::Parser) -> Result<u32, CliError> {
    let value = parser.value()?.string()?;
    let count: i32 = value.trim().parse().map_err(|_| {
        usage_error(format!(
            "invalid value '{value}' for {flag}: expected a whole number"
        ))
    })?;
    Ok(count.max(0) as u32)
}

/// Reads a flag's value as an unsigned number (ids, seeds).
fn parse_unsigned<T: std::str::FromStr>(
    flag: &str,
    parser: &mut lexopt::Parser,
) -> Result<T, CliError> {
    let value = parser.value()?.string()?;
    value.trim().parse().map_err(|_| {
        usage_error(format!(
            "invalid value '{value}' for {flag}: expected a number >= 0"
        ))
    })
}

// ---- partition -------------------------------------------------------------

#[derive(Debug, Default)]
struct PartitionArgs {
    partitions: Option<u32>,
    hex: bool,
    json: bool,
    help: bool,
    keys: Vec<String>,
}

/// One key's result, in the order and with the names the JSON output uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct KeyRow {
    key: String,
    murmur2: i32,
    partition: u32,
}

fn parse_partition_args(parser: &mut lexopt::Parser) -> Result<PartitionArgs, CliError> {
    let mut args = PartitionArgs::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('p') | Long("partitions") => {
                args.partitions = Some(parse_count("--partitions", parser)?)
            }
            Long("hex") => args.hex = true,
            Long("json") => args.json = true,
            Short('h') | Long("help") => args.help = true,
            Value(key) => args.keys.push(key.string()?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(args)
}

/// `kafkasim partition`: each key's murmur2 and partition.
fn cmd_partition(parser: &mut lexopt::Parser) -> Result<String, CliError> {
    let args = parse_partition_args(parser)?;
    if args.help {
        return Ok(USAGE.to_owned());
    }
    let partitions = args
        .partitions
        .ok_or_else(|| usage_error("partition needs --partitions N"))?;
    if partitions == 0 {
        return Err(KafkaError::new(
            ErrorCode::InvalidPartitions,
            "Number of partitions must be larger than 0.",
        )
        .into());
    }
    if args.keys.is_empty() {
        return Err(usage_error("partition needs at least one KEY"));
    }
    let rows = key_rows(&args.keys, partitions, args.hex)?;
    Ok(if args.json {
        render_json(&rows)
    } else {
        render_key_table(&rows)
    })
}

/// Hashes each key the way a Java producer would hash its serialised bytes.
fn key_rows(keys: &[String], partitions: u32, hex: bool) -> Result<Vec<KeyRow>, KafkaError> {
    keys.iter()
        .map(|key| {
            let bytes = if hex {
                decode_hex(key)?
            } else {
                key.as_bytes().to_vec()
            };
            Ok(KeyRow {
                key: key.clone(),
                murmur2: murmur2(&bytes),
                partition: partition_for_key(&bytes, partitions),
            })
        })
        .collect()
}

/// Decodes hex digits (either case) into bytes; an empty string is the empty
/// key, which Kafka hashes like any other (only a null key is sticky).
fn decode_hex(text: &str) -> Result<Vec<u8>, KafkaError> {
    let invalid = |why: String| {
        KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("Key \"{text}\" is not valid hex: {why}."),
        )
    };
    if text.len() % 2 != 0 {
        return Err(invalid("it has an odd number of digits".to_owned()));
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |b: u8| {
                (b as char)
                    .to_digit(16)
                    .ok_or_else(|| invalid(format!("'{}' is not a hex digit", b as char)))
            };
            Ok((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

/// Aligned columns: keys left-aligned, numbers right-aligned.
fn render_key_table(rows: &[KeyRow]) -> String {
    let key_width = rows
        .iter()
        .map(|r| r.key.chars().count())
        .chain([3])
        .max()
        .unwrap_or(3);
    let hash_width = rows
        .iter()
        .map(|r| r.murmur2.to_string().len())
        .chain([7])
        .max()
        .unwrap_or(7);
    let mut out = format!(
        "{:<key_width$}  {:>hash_width$}  partition\n",
        "key", "murmur2"
    );
    for row in rows {
        out += &format!(
            "{:<key_width$}  {:>hash_width$}  {:>9}\n",
            row.key, row.murmur2, row.partition
        );
    }
    out
}

// ---- place -----------------------------------------------------------------

#[derive(Debug, Default)]
struct PlaceArgs {
    brokers: Option<Vec<u32>>,
    partitions: Option<u32>,
    replication_factor: Option<u32>,
    start_index: Option<u32>,
    seed: Option<u64>,
    json: bool,
    help: bool,
}

fn parse_place_args(parser: &mut lexopt::Parser) -> Result<PlaceArgs, CliError> {
    let mut args = PlaceArgs::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('b') | Long("brokers") => {
                args.brokers = Some(parse_broker_list(&parser.value()?.string()?)?)
            }
            Short('p') | Long("partitions") => {
                args.partitions = Some(parse_count("--partitions", parser)?)
            }
            Short('r') | Long("replication-factor") => {
                args.replication_factor = Some(parse_count("--replication-factor", parser)?)
            }
            Long("start-index") => {
                args.start_index = Some(parse_unsigned("--start-index", parser)?)
            }
            Long("seed") => args.seed = Some(parse_unsigned("--seed", parser)?),
            Long("json") => args.json = true,
            Short('h') | Long("help") => args.help = true,
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(args)
}

/// `0,1,2` into broker ids; an empty list is allowed (Kafka then refuses
/// the replication factor).
fn parse_broker_list(text: &str) -> Result<Vec<u32>, CliError> {
    text.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse().map_err(|_| {
                usage_error(format!(
                    "invalid broker id '{id}' in --brokers: expected a number >= 0"
                ))
            })
        })
        .collect()
}

/// `kafkasim place`: Kafka's placement for a new topic.
fn cmd_place(parser: &mut lexopt::Parser) -> Result<String, CliError> {
    let args = parse_place_args(parser)?;
    if args.help {
        return Ok(USAGE.to_owned());
    }
    let brokers = args
        .brokers
        .as_deref()
        .ok_or_else(|| usage_error("place needs --brokers IDS"))?;
    let partitions = args
        .partitions
        .ok_or_else(|| usage_error("place needs --partitions N"))?;
    let rf = args
        .replication_factor
        .ok_or_else(|| usage_error("place needs --replication-factor RF"))?;
    let (start_index, shift) = placement_start(brokers, args.start_index, args.seed)?;
    let assignment = assign_replicas(brokers, partitions, rf, start_index, shift, 0)?;
    Ok(if args.json {
        render_json(&assignment)
    } else {
        render_assignment(&assignment)
    })
}

/// Kafka's start values: fixed when asked for, else random from the seed.
fn placement_start(
    brokers: &[u32],
    start_index: Option<u32>,
    seed: Option<u64>,
) -> Result<(u32, u32), CliError> {
    match (start_index, seed) {
        (Some(_), Some(_)) => Err(usage_error("use --start-index or --seed, not both")),
        (Some(k), None) => Ok(fixed_start(k)),
        (None, seed) => {
            let distinct = brokers.iter().collect::<BTreeSet<_>>().len();
            let mut rng = ChaCha8Rng::seed_from_u64(seed.unwrap_or(0));
            Ok(random_start(distinct, &mut rng))
        }
    }
}

/// One line per partition: `0: [0, 1, 2]  leader 0`.
fn render_assignment(assignment: &BTreeMap<u32, Vec<u32>>) -> String {
    assignment
        .iter()
        .map(|(partition, replicas)| {
            let list: Vec<String> = replicas.iter().map(u32::to_string).collect();
            let leader = replicas.first().map_or("none".to_owned(), u32::to_string);
            format!("{partition}: [{}]  leader {leader}\n", list.join(", "))
        })
        .collect()
}

// ---- output ----------------------------------------------------------------

/// Pretty JSON with a final newline. Map keys (partition ids) come out as
/// strings in numeric order, since the maps are `BTreeMap<u32, _>`.
pub(crate) fn render_json(value: &impl Serialize) -> String {
    let mut out =
        serde_json::to_string_pretty(value).expect("plain data always serialises to JSON");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> Result<String, CliError> {
        run(args.iter().map(OsString::from))
    }

    fn error_line(args: &[&str]) -> String {
        run_args(args).unwrap_err().line()
    }

    #[test]
    fn key_rows_match_kafka() {
        let rows = key_rows(&["21".into(), "foobar".into()], 10, false).unwrap();
        assert_eq!(
            rows,
            vec![
                KeyRow {
                    key: "21".into(),
                    murmur2: -973932308,
                    partition: 0
                },
                KeyRow {
                    key: "foobar".into(),
                    murmur2: -790332482,
                    partition: 6
                },
            ]
        );
    }

    #[test]
    fn hex_keys_hash_their_bytes() {
        let rows = key_rows(&["3231".into(), "".into()], 10, true).unwrap();
        assert_eq!(rows[0].murmur2, -973932308);
        assert_eq!(rows[0].key, "3231");
        assert_eq!(rows[1].murmur2, murmur2(b""));
    }

    #[test]
    fn decode_hex_cases() {
        assert_eq!(decode_hex("00ffAb").unwrap(), vec![0, 255, 0xab]);
        let odd = decode_hex("abc").unwrap_err();
        assert_eq!(odd.code, ErrorCode::InvalidRequest);
        assert_eq!(
            odd.message,
            "Key \"abc\" is not valid hex: it has an odd number of digits."
        );
        let bad = decode_hex("zz").unwrap_err();
        assert_eq!(
            bad.message,
            "Key \"zz\" is not valid hex: 'z' is not a hex digit."
        );
    }

    #[test]
    fn key_table_is_aligned() {
        let rows = key_rows(&["21".into(), "abc".into()], 10, false).unwrap();
        let table = render_key_table(&rows);
        assert_eq!(
            table,
            "key     murmur2  partition\n\
             21   -973932308          0\n\
             abc   479470107          7\n"
        );
    }

    #[test]
    fn assignment_text() {
        let assignment = assign_replicas(&[1, 2], 3, 2, 0, 0, 0).unwrap();
        assert_eq!(
            render_assignment(&assignment),
            "0: [1, 2]  leader 1\n1: [2, 1]  leader 2\n2: [1, 2]  leader 1\n"
        );
    }

    #[test]
    fn assignment_json_keys_are_numeric_order() {
        let assignment = assign_replicas(&[0, 1, 2, 3, 4], 12, 1, 0, 0, 0).unwrap();
        let json = render_json(&assignment);
        let p2 = json.find("\"2\"").unwrap();
        let p10 = json.find("\"10\"").unwrap();
        assert!(p2 < p10, "{json}");
    }

    #[test]
    fn broker_list_parsing() {
        assert_eq!(parse_broker_list("0, 1,2").unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_broker_list("").unwrap(), Vec::<u32>::new());
        assert!(matches!(parse_broker_list("1,x"), Err(CliError::Usage(_))));
    }

    #[test]
    fn seeded_start_is_deterministic() {
        let a = placement_start(&[0, 1, 2], None, Some(5)).unwrap();
        assert_eq!(a, placement_start(&[0, 1, 2], None, Some(5)).unwrap());
        assert_eq!(placement_start(&[0, 1, 2], Some(2), None).unwrap(), (2, 2));
        assert!(placement_start(&[0], Some(1), Some(1)).is_err());
    }

    #[test]
    fn errors_name_kafka_codes() {
        assert_eq!(
            error_line(&["place", "--brokers", "0,1,2", "--partitions", "3", "--replication-factor", "4"]),
            "error: INVALID_REPLICATION_FACTOR: Replication factor: 4 larger than available brokers: 3."
        );
        assert_eq!(
            error_line(&["partition", "--partitions", "-1", "k"]),
            "error: INVALID_PARTITIONS: Number of partitions must be larger than 0."
        );
        assert!(
            error_line(&["partition", "--partitions", "3", "--hex", "xyz"])
                .starts_with("error: INVALID_REQUEST: ")
        );
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            error_line(&[]),
            "error: missing subcommand (see `kafkasim help`)"
        );
        assert!(error_line(&["frobnicate"]).contains("unknown subcommand 'frobnicate'"));
        assert!(error_line(&["partition", "k"]).contains("--partitions"));
        assert!(error_line(&["partition", "--partitions", "3"]).contains("KEY"));
        assert!(error_line(&["partition", "--partitions", "x", "k"]).contains("invalid value 'x'"));
        assert!(
            error_line(&["place", "--brokers", "0", "--partitions", "1"])
                .contains("--replication-factor")
        );
        assert!(error_line(&["place", "--bogus"]).contains("--bogus"));
    }

    #[test]
    fn help_everywhere() {
        for args in [
            &["help"][..],
            &["--help"],
            &["-h"],
            &["partition", "--help"],
            &["place", "-h"],
        ] {
            assert!(
                run_args(args).unwrap().starts_with("kafkasim: "),
                "{args:?}"
            );
        }
    }

    #[test]
    fn keys_after_double_dash_may_start_with_a_dash() {
        let out = run_args(&["partition", "--partitions", "10", "--", "-1"]).unwrap();
        assert!(out.lines().nth(1).unwrap().starts_with("-1 "), "{out}");
    }
}
