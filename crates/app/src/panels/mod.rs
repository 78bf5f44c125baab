//! The side panels and forms that act on the cluster: produce, add a
//! consumer, the action panel for what is selected, the time bar, and the
//! Cluster menu's forms.

pub mod controls;
pub mod forms;
