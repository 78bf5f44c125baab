//! Kafka's clients: the producer with its partitioner, the consumer with its
//! group membership, and the consumer partition assignors.

pub mod assignor;
pub mod consumer;
pub mod producer;
