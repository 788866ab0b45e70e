//! The whole of `results.json`: the run's host and tools, its cells, and
//! what it cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CellResult;

/// A cell as results.json writes it: its standing first, then its fields.
#[derive(Serialize)]
struct Written<'a> {
    standing: &'static str,
    #[serde(flatten)]
    result: &'a CellResult,
}

fn with_standings<S: serde::Serializer>(cells: &[CellResult], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(cells.iter().map(|r| Written {
        standing: r.standing().as_str(),
        result: r,
    }))
}

/// The machine a run happens on, named the way Go names targets: what
/// `host::detect` reads once per run, and what results.json records (as
/// `os` and `arch`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    #[serde(rename = "os")]
    pub goos: String,
    /// GOARCH spelling: `amd64`, `arm64`, `386`, ...
    #[serde(rename = "arch")]
    pub goarch: String,
    /// Kernel release (`uname -r`, `kern.osrelease`).
    #[serde(default)]
    pub kernel: String,
    /// CPU model, as the OS reports it.
    #[serde(default)]
    pub cpu: String,
    /// `--runner NAME` or `CROSSPROBE_RUNNER`, else the host name: the
    /// session names it for a run's results; empty as detected.
    #[serde(default)]
    pub runner: String,
}

impl Host {
    pub fn target(&self) -> String {
        format!("{}/{}", self.goos, self.goarch)
    }
}

/// The whole of `results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub schema: u32,
    pub crossprobe_version: String,
    pub matrices: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub host: Host,
    /// `go`, `qemu-aarch64`, `wine`, `node`, ... to the first line of their
    /// version output; read once per run.
    pub tools: BTreeMap<String, String>,
    /// True when the run was stopped before every cell finished.
    pub interrupted: bool,
    /// Each cell as written with its `standing` ([`super::Standing::as_str`]), so
    /// that a reader of the file need not re-derive it; it is derived again
    /// when the file is read, never trusted.
    #[serde(serialize_with = "with_standings")]
    pub cells: Vec<CellResult>,
    /// What the run cost, when it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perf: Option<Perf>,
    /// `i/n` when the run was one shard of its cells (`--shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// In merged results: each run that went in. `host` and `tools` above
    /// are then the first run's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<Source>,
    /// What the shard planner expected the run's cells to cost, beside what
    /// they did: the check on its cost model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<ShardCost>,
    /// The names of the caller's environment variables that no build or
    /// probe inherited (the sandbox's allowlist), never their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_dropped: Vec<String>,
    /// The names of the caller's variables the cells inherited only because
    /// the matrix's `run.pass_env` named them, never their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_passed: Vec<String>,
}

/// A shard's expected cost, family by family (`plan --shard --json`), and
/// once run, what it cost. Milliseconds are cell durations summed, the unit
/// `--durations` reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCost {
    /// `i/n`; `1/1` for an unsharded run.
    pub shard: String,
    pub expected_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_ms: Option<u64>,
    /// `actual_ms - expected_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ms: Option<i64>,
    /// Families too big for one shard, split across several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<String>,
    pub families: Vec<FamilyCost>,
}

/// One build family's share of a shard: the cells that compile the same
/// standard library, and what they are expected to cost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyCost {
    pub family: String,
    /// `k/n` when the family was split into n parts across shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// `durations` when a previous run timed its cells, else `estimate`.
    pub source: String,
    /// The cold standard-library build included in `expected_ms`.
    pub cold_ms: u64,
    pub expected_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ms: Option<i64>,
    pub cells: Vec<String>,
}

/// What a whole run cost, from getrusage: crossprobe's own CPU time beside
/// its children's (go build, qemu, ...), and the work it did not do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Perf {
    /// crossprobe's own CPU time, user + system.
    pub self_cpu_ms: u64,
    /// The CPU time of every child it waited for, and of their children.
    pub children_cpu_ms: u64,
    /// crossprobe's own peak resident set, in KiB.
    pub self_max_rss_kib: u64,
    /// The most memory one command's process tree held at once, over every
    /// command of the run (each command's `peak_memory_kib`), in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands_peak_memory_kib: Option<u64>,
    /// Cells whose result came from the result cache.
    pub cached_cells: usize,
    /// `go build`s run, and those saved because cells shared a build plan.
    pub builds: usize,
    pub builds_shared: usize,
}

/// One run that went into merged results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The results.json it was read from, as given.
    pub file: String,
    pub host: Host,
    pub started_at: String,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub tools: BTreeMap<String, String>,
    pub interrupted: bool,
}
