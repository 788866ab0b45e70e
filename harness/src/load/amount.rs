//! A cell's bounds as a matrix writes them: `run.memory`, `run.processes`,
//! and durations (`run.timeout`, `go_test.timeout`), with their defaults.

use std::time::Duration;

/// What a cell may use when its matrix does not say (`run.memory`): room
/// for a Go test binary or a large package's compile, not for a probe that
/// would take the machine's memory from the others.
pub const DEFAULT_MEMORY: u64 = 4 << 30;

/// What each command of a cell may hold at once when its matrix does not
/// say (`run.processes`): room for a parallel `go build` or a Go test
/// binary's threads, far below a host's pid_max (32768 by default).
pub const DEFAULT_PROCESSES: u64 = 4096;

/// A number of processes and threads (at least 16: bwrap, qemu and the Go
/// runtime take a few before the probe's own), or `none`.
pub fn parse_processes(s: &str) -> Result<Option<u64>, BadAmount> {
    let s = s.trim();
    if s == "none" {
        return Ok(None);
    }
    let n: u64 = s.parse().map_err(|_| BadAmount::NotWhole)?;
    match n {
        16..=4_194_304 => Ok(Some(n)),
        _ => Err(BadAmount::Processes),
    }
}

/// `4GiB`, `512MiB`, `2GB`, `1.5G`, a number of bytes, or `none`.
pub fn parse_memory(s: &str) -> Result<Option<u64>, BadAmount> {
    let s = s.trim();
    if s == "none" {
        return Ok(None);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| BadAmount::NoNumber)?;
    let scale: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KiB" => 1024.0,
        "M" | "MiB" => 1024.0 * 1024.0,
        "G" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        u => return Err(BadAmount::Unit(u.to_string())),
    };
    let bytes = n * scale;
    // Below that, no Go program starts: the runtime alone maps more.
    if !(bytes.is_finite() && (64.0 * 1024.0 * 1024.0..1e15).contains(&bytes)) {
        return Err(BadAmount::TooLittleMemory);
    }
    Ok(Some(bytes as u64))
}

/// `90s`, `2m`, `500ms`, `1h`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, BadAmount> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| BadAmount::NoNumber)?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(BadAmount::Unit(u.to_string())),
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 7.0 * 86400.0) {
        return Err(BadAmount::Duration);
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Why a memory size, a process count or a duration cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadAmount {
    #[error("no number")]
    NoNumber,
    #[error("unknown unit {0:?}")]
    Unit(String),
    #[error("must be at least 64MiB")]
    TooLittleMemory,
    #[error("must be more than zero and less than a week")]
    Duration,
    #[error("not a whole number")]
    NotWhole,
    #[error("must be between 16 and 4194304")]
    Processes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("4GiB").unwrap(), Some(4 << 30));
        assert_eq!(parse_memory("512MiB").unwrap(), Some(512 << 20));
        assert_eq!(parse_memory("2GB").unwrap(), Some(2_000_000_000));
        assert_eq!(parse_memory("none").unwrap(), None);
        assert!(parse_memory("1MiB").is_err());
        assert!(parse_memory("lots").is_err());
    }

    #[test]
    fn process_counts() {
        assert_eq!(parse_processes("4096").unwrap(), Some(4096));
        assert_eq!(parse_processes(" 64 ").unwrap(), Some(64));
        assert_eq!(parse_processes("none").unwrap(), None);
        assert!(parse_processes("8").is_err());
        assert!(parse_processes("-1").is_err());
        assert!(parse_processes("4k").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
