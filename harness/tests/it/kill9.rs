//! kill -9 and the cache: a run SIGKILLed at a seeded random moment during
//! its builds, 20 times. After each, the result cache holds only whole
//! entries, every build directory's lock can be taken, and the next run's
//! results equal those of a clean run (`--no-cache`). Two warm linux/amd64
//! cells; each round builds anew (its own `-X main.round=N`).
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, CellExt, Test};
use crossprobe::cache::Entry;
use crossprobe::fsutil::Lock;

const ROUNDS: u64 = 20;

fn matrix(round: u64, token: &str) -> String {
    format!(
        "name: k9\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  ldflags: [\"-X main.round={round}\", \"-s -w -X main.round={round}\"]\n  env:\n    CP_TOKEN: [\"{token}\"]\n"
    )
}

/// Each cell as a clean run sees it: outcome, verdict, and the facts that do
/// not depend on the moment (no durations, no paths).
fn verdicts(dir: &Path, round: u64) -> BTreeMap<String, String> {
    let same = |s: &str| s.replace(&format!("main.round={round}"), "main.round=N");
    common::read_results(&dir.join("reports/k9"))
        .cells
        .iter()
        .map(|c| {
            (
                same(&c.cell.ldflags),
                same(&format!(
                    "{} {:?} {} {} {}",
                    c.outcome,
                    c.verdict.message,
                    c.fact("binary.format"),
                    c.fact("binary.stripped"),
                    c.fact("buildinfo.-ldflags")
                )),
            )
        })
        .collect()
}

/// Waits until no process of the killed run is left (its `go build` and
/// link carry the token in their environment).
fn await_orphans(token: &str) {
    let t0 = Instant::now();
    loop {
        let alive = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|env| String::from_utf8_lossy(&env).contains(token))
        });
        if !alive {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the killed run's builds never ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every entry in the result cache reads whole, and is one of a cell that
/// passed; no build directory is left locked.
fn cache_is_sound(xdg: &Path) {
    let root = xdg.join("crossprobe");
    let results = root.join("results");
    for shard in std::fs::read_dir(&results).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(shard.path()).unwrap().flatten() {
            let path = f.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let e: Entry = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{} is not a whole entry: {e}", path.display()));
            assert_eq!(e.result.outcome.as_str(), "pass", "{}", path.display());
        }
    }
    for f in std::fs::read_dir(root.join("builds"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = f.path();
        if path.extension().is_some_and(|e| e == "lock") {
            // A child forked just before the kill holds a copy of the lock's
            // descriptor until its exec closes it, and joining its cgroups
            // on the way (pre_exec) can take tens of milliseconds under
            // load: a lock is left only if nobody lets go of it.
            let t = Instant::now();
            while Lock::try_exclusive(&path).unwrap().is_none() {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "{} is still locked",
                    path.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn sigkill_during_builds_never_corrupts_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    // The result cache of the test's own (the user's warm GOCACHE); on or
    // off.
    let run = |args: &[&str], cache: bool| {
        let t = Test::at(dir.path()).args(args).result_cache(&xdg);
        if cache {
            t
        } else {
            t.env("CROSSPROBE_NO_CACHE", "1")
        }
    };
    // A clean run's results, once: each round's differ only in its number.
    std::fs::write(
        dir.path().join("matrix.yaml"),
        matrix(ROUNDS, "cp-k9-clean"),
    )
    .unwrap();
    run(&["run", "@", "-j2", "--no-cache"], false).run();
    // Kills land at a seeded fraction of how long a warm run takes on this
    // machine (the first one paid for the standard library): fixed delays
    // land after the end on a fast machine.
    let t0 = Instant::now();
    run(&["run", "@", "-j2", "--no-cache"], false).run();
    let whole = t0.elapsed();
    let clean = verdicts(dir.path(), ROUNDS);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills_during_builds = 0;
    for round in 0..ROUNDS {
        let token = format!("cp-k9-{}-{round}", std::process::id());
        std::fs::write(dir.path().join("matrix.yaml"), matrix(round, &token)).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = whole.mul_f64(0.05 + (seed % 1000) as f64 / 1000.0 * 0.6);

        let mut child = run(&["run", "@", "-j2"], true)
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        let finished = child.try_wait().unwrap().is_some();
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
        kills_during_builds += usize::from(!finished);
        await_orphans(&token);
        cache_is_sound(&xdg);

        // The next run, with what the killed one left, against a clean run.
        run(&["run", "@", "-j2"], true).run();
        assert_eq!(
            verdicts(dir.path(), round),
            clean,
            "round {round}, killed after {after:?}"
        );
        cache_is_sound(&xdg);
    }
    // Most kills must land while the run works, or the test proves nothing.
    assert!(
        kills_during_builds >= ROUNDS as usize / 2,
        "only {kills_during_builds} of {ROUNDS} kills landed before the run ended"
    );
}
