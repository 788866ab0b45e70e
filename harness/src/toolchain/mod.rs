//! Toolchains: which Go (and later which C compiler) a cell builds with, and
//! what they can target. Queried once per run, never once per cell.

pub mod go;
pub mod versions;
