//! Options for CI fleets: `--shard` and `--durations` (run and plan), and
//! `--retries` (run).

use std::path::PathBuf;

use crate::errors::Error;
use crate::expand::shard::{self, Durations, Shard};
use crate::model::{Cell, ShardCost};
use crate::report;

#[derive(clap::Args, Clone, Default)]
pub struct RunFleetArgs {
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Try a cell that did not meet its expectation up to N more times. One
    /// that then does is flaky: reported as such, and not as a pass.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
}

#[derive(clap::Args, Clone, Default)]
pub struct ShardArgs {
    /// Run only shard I of N: every cell lands in one shard, the same one
    /// however the matrix is ordered.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Balance the shards by each cell's duration in a previous results.json.
    #[arg(long, value_name = "RESULTS", requires = "shard")]
    pub durations: Option<PathBuf>,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

impl ShardArgs {
    /// The cells this run takes, its shard as results.json records it, and
    /// what the cells are expected to cost (an unsharded run is shard 1/1).
    pub fn select(
        &self,
        cells: Vec<Cell>,
        runner: &str,
    ) -> Result<(Vec<Cell>, Option<String>, ShardCost), Error> {
        let durations = match &self.durations {
            Some(p) => Durations::from_results(&report::read_results(p)?, runner),
            None => Durations::default(),
        };
        let sh = self.shard.unwrap_or(Shard { index: 1, count: 1 });
        let (cells, cost) = shard::split(cells, sh, &durations);
        Ok((cells, self.shard.map(|s| s.to_string()), cost))
    }
}

/// What `plan --shard` says about a shard besides its cells: its families,
/// what it is expected to cost, and which families were split.
pub fn describe(cost: &ShardCost) -> String {
    use std::fmt::Write;
    let secs = |ms: u64| ms as f64 / 1000.0;
    let cells: usize = cost.families.iter().map(|f| f.cells.len()).sum();
    let mut s = format!(
        "shard {}: {} families, {cells} cells, expected {:.1} s of cell time\n",
        cost.shard,
        cost.families.len(),
        secs(cost.expected_ms)
    );
    for f in &cost.families {
        let part = f
            .part
            .as_deref()
            .map(|p| format!(" part {p}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:>7.1} s  {} cells  {}{part} ({})",
            secs(f.expected_ms),
            f.cells.len(),
            f.family,
            f.source
        );
    }
    for f in &cost.split {
        let _ = writeln!(
            s,
            "split family {f} across shards: it is bigger than a fair share, so each part builds its standard library"
        );
    }
    s
}
