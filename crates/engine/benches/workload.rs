//! The standard workload: 3 brokers, 1 topic × 6 partitions, RF 3, acks=all,
//! keyed records read by two consumer groups; scrubbing a 30-minute
//! session; and the view the page draws from, once per virtual millisecond
//! of play. Run with `make bench`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafkasim_engine::run::presets;
use kafkasim_engine::run::scenario::{Scenario, TimedCommand};
use kafkasim_engine::*;

use kafkasim_engine::run::workload::{consumed_per_group, run_workload, standard_cluster};

const RECORDS: u32 = 60_000;
const PER_TICK: u32 = 200;

fn throughput(cr: &mut Criterion) {
    let base = standard_cluster();
    let check = run_workload(base.clone(), RECORDS, PER_TICK);
    assert_eq!(
        check.view().acknowledged_total,
        RECORDS as u64,
        "every record acknowledged"
    );
    assert_eq!(
        consumed_per_group(&check),
        vec![RECORDS as usize; 2],
        "every record read by both groups"
    );
    let mut g = cr.benchmark_group("workload");
    g.sample_size(10);
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("produce_replicate_consume_2_groups_6p_rf3", |b| {
        b.iter_batched(
            || base.clone(),
            |c| run_workload(c, RECORDS, PER_TICK),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A 30-minute class session: two consumer groups, a record every 100 ms,
/// a crash and a restart.
fn thirty_minutes() -> Scenario {
    let mut s = presets::consumer_groups();
    let mut at = 1_000;
    let mut i = 0;
    while at < 1_800_000 {
        s.commands.push(TimedCommand {
            at,
            command: Command::Produce {
                producer: ProducerId(1),
                topic: "MyTopic".into(),
                key: Some(format!("k{}", i % 50).into()),
                value: format!("v{i}").into(),
                partition: None,
            },
        });
        at += 100;
        i += 1;
    }
    s.commands.push(TimedCommand {
        at: 600_000,
        command: Command::CrashBroker {
            broker: BrokerId(2),
        },
    });
    s.commands.push(TimedCommand {
        at: 900_000,
        command: Command::RestartBroker {
            broker: BrokerId(2),
        },
    });
    s.commands.sort_by_key(|c| c.at);
    s
}

fn seek(cr: &mut Criterion) {
    let mut session = Session::new(thirty_minutes()).unwrap();
    let events = session.run_until(SimTime(1_800_000)).len();
    eprintln!(
        "30-minute session: {events} events, {} snapshots",
        session.snapshot_count()
    );
    assert!(events >= 100_000);
    let mut g = cr.benchmark_group("seek");
    g.sample_size(20);
    for target in [1_000u64, 450_000, 899_000, 1_799_000] {
        g.bench_with_input(BenchmarkId::new("from_end_to", target), &target, |b, &t| {
            b.iter_batched(
                || session.clone(),
                |mut s| {
                    s.seek(SimTime(t));
                    s
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// `Cluster::view()` after a session's worth of records: what the live
/// view pays each virtual millisecond it plays. It should not grow with
/// the records processed so far.
fn view(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("view");
    g.sample_size(20);
    for records in [1_000u32, 60_000] {
        let c = run_workload(standard_cluster(), records, PER_TICK);
        g.bench_with_input(BenchmarkId::new("after_records", records), &c, |b, c| {
            b.iter(|| c.view())
        });
    }
    g.finish();
}

criterion_group!(benches, throughput, seek, view);
criterion_main!(benches);
