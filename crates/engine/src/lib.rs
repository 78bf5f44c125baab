//! kafkasim-engine: a deterministic, pure-Rust simulation of an Apache Kafka
//! cluster. Commands go in, events and a serialisable view come out; the
//! engine never reads a wall clock and never knows about pixels.
//!
//! ```
//! use kafkasim_engine::{Cluster, ClusterConfig, Command};
//! let mut cluster = Cluster::new(ClusterConfig::default()).unwrap();
//! cluster.advance(100); // brokers register, a controller is elected
//! cluster.apply(Command::CreateTopic {
//!     name: "MyTopic".into(), partitions: Some(3), replication_factor: Some(2),
//!     assignment: None, config: Default::default(),
//! }).unwrap();
//! assert_eq!(cluster.view().topics[0].partitions.len(), 3);
//! ```

pub mod assignor;
pub mod broker;
pub mod classic;
pub mod cluster;
pub mod command;
pub mod compare;
pub mod config;
pub mod consumer;
pub mod controller;
pub mod error;
pub mod event;
pub mod group;
pub mod ids;
pub mod invariants;
pub mod ledger;
pub mod lesson;
pub mod log;
pub mod network;
pub mod partition;
pub mod partitioner;
pub mod placement;
pub mod prediction;
pub mod presets;
pub mod producer;
pub mod replication;
pub mod scenario;
pub mod scheduler;
pub mod session;
pub mod timer;
pub mod timings;
pub mod topic;
pub mod topic_name;
pub mod view;
pub mod workload;

pub use assignor::AssignorKind;
pub use cluster::Cluster;
pub use command::Command;
pub use config::{
    Acks, AutoOffsetReset, ClusterConfig, ConsumerConfig, ManualCommit, MetadataMode,
    ProducerConfig, TopicConfig,
};
pub use consumer::SeekTo;
pub use error::{ErrorCode, KafkaError, Result};
pub use event::{Event, EventKind};
pub use ids::{BrokerId, ConsumerId, NodeId, ProducerId, RecordId, SimTime, TopicPartition};
pub use scenario::{Scenario, TimedCommand};
pub use session::Session;
pub use view::ClusterView;
