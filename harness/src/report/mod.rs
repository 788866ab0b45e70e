//! The report phase: turns a run's [`Results`](crate::model::Results) into
//! output for people and for other tools. Every reporter reads the same
//! results and computes nothing another reporter already did.

pub mod junit;
