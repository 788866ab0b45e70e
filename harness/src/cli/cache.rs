//! `crossprobe cache ...`: where crossprobe keeps what outlives a run, how
//! big it is, and clearing it.

use std::time::Duration;

use clap::Subcommand;

use crate::cache::prune_builds;
use crate::disk;
use crate::model::exit;

#[derive(Subcommand)]
pub enum CacheCmd {
    /// Print the cache directory.
    Dir,
    /// What the cache holds, part by part, with sizes.
    Info,
    /// Remove the result cache, the module records and the build
    /// directories (those another crossprobe is using are left). zig's libc
    /// builds and the wine prefix stay, since they take minutes to make
    /// again, unless --all.
    Clear {
        /// Everything: zig's libc builds, the wine prefix and wazero's cache too.
        #[arg(long)]
        all: bool,
    },
}

/// The parts of the cache, and what each is.
const PARTS: [(&str, &str); 8] = [
    ("results", "the result cache: one JSON file per cell result"),
    (
        "modules",
        "what go list and go mod download said of each module, used while it is unchanged",
    ),
    (
        "toolchains",
        "what each go said of itself (go env, dist list, buildmodes), used while it is unchanged",
    ),
    (
        "builds",
        "build directories: one per build plan, reused so go build need not link again",
    ),
    ("zig", "zig's libc builds (about 100 s per target to make)"),
    (
        "zig-darwin-stubs",
        "stub frameworks for linking darwin with zig",
    ),
    ("wine", "the wine prefix the windows runs share"),
    ("wazero", "wazero's compilation cache"),
];

pub fn main(cmd: CacheCmd) -> miette::Result<i32> {
    let root = crate::host::cache_dir();
    match cmd {
        CacheCmd::Dir => println!("{}", root.display()),
        CacheCmd::Info => {
            println!("{}", root.display());
            for (name, what) in PARTS {
                let u = disk::usage(&root.join(name), Duration::from_secs(60));
                let size = disk::human(u.bytes);
                println!("  {name:<17} {size:>10}  {:>7} files  {what}", u.files);
            }
        }
        CacheCmd::Clear { all } => {
            let mut failed = false;
            for part in ["results", "modules", "toolchains"] {
                let p = root.join(part);
                if p.exists() {
                    if let Err(e) = std::fs::remove_dir_all(&p) {
                        eprintln!("error: cannot remove {}: {e}", p.display());
                        failed = true;
                    }
                }
            }
            let builds = root.join("builds");
            let removed = prune_builds(&builds, Duration::ZERO);
            let left = std::fs::read_dir(&builds).map_or(0, |d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().is_dir())
                    .count()
            });
            println!("removed the result cache and {removed} build directories");
            if left > 0 {
                println!("{left} build directories are in use by a running crossprobe and stay");
            }
            if all {
                for name in ["zig", "zig-darwin-stubs", "wine", "wazero"] {
                    let p = root.join(name);
                    if p.exists() {
                        if let Err(e) = std::fs::remove_dir_all(&p) {
                            eprintln!("error: cannot remove {}: {e}", p.display());
                            failed = true;
                        }
                    }
                }
                println!("removed zig's libc builds, the wine prefix and wazero's cache");
            }
            if failed {
                return Ok(exit::IO);
            }
        }
    }
    Ok(exit::OK)
}
