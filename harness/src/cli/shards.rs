//! Options for CI fleets: `--shard` and `--durations` (run and plan), and
//! `--retries` (run).

use std::path::PathBuf;

use crate::errors::Error;
use crate::expand::shard::{self, Durations, Shard};
use crate::model::Cell;
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
    /// The cells this run takes, and its shard as results.json records it.
    pub fn select(
        &self,
        cells: Vec<Cell>,
        runner: &str,
    ) -> Result<(Vec<Cell>, Option<String>), Error> {
        let Some(sh) = self.shard else {
            return Ok((cells, None));
        };
        let durations = match &self.durations {
            Some(p) => Durations::from_results(&report::read_results(p)?, runner),
            None => Durations::default(),
        };
        Ok((shard::split(cells, sh, &durations), Some(sh.to_string())))
    }
}
