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

// The vocabulary every part speaks.
pub mod command;
pub mod config;
pub mod error;
pub mod event;
pub mod ids;

// Who does the work, by Kafka's names.
pub mod audit;
pub mod broker;
pub mod clients;
pub mod controller;
pub mod coordinator;
pub mod network;
pub mod sim;

// What is drawn, played and taught.
pub mod lesson;
pub mod messaging_models;
pub mod run;
pub mod view;

pub use clients::assignor::{AssignorKind, AssignorList};
pub use clients::consumer::SeekTo;
pub use command::Command;
pub use config::{
    Acks, AutoOffsetReset, ClusterConfig, ConsumerConfig, ManualCommit, MetadataMode,
    ProducerConfig, TopicConfig,
};
pub use error::{ErrorCode, KafkaError, Result};
pub use event::{Event, EventKind};
pub use ids::{
    BrokerId, ConsumerId, ControllerId, NodeId, ProducerId, RecordId, SimTime, TopicPartition,
    ZkNodeId,
};
pub use run::scenario::{Scenario, TimedCommand};
pub use run::session::Session;
pub use sim::Cluster;
pub use view::ClusterView;
