//! Toolchains: which Go and which C compiler a cell builds with, and what
//! they can target. Queried once per run, never once per cell.

pub mod cc;
pub mod flags;
pub mod go;
pub mod known;
pub mod versions;
