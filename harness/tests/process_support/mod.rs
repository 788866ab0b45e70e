//! Shared by the process test binaries: specs for /bin/sh children carrying a
//! unique marker, and a check that nothing carrying it is left running.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossprobe::model::Command;
use crossprobe::process::Spec;

/// Every child gets this variable; grandchildren inherit it, so /proc can
/// find them even when their argv says only `sleep 1000`.
pub const MARKER_VAR: &str = "CROSSPROBE_TEST_MARKER";

/// A string no other process on the machine carries.
pub fn token() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "cpt{}x{nanos:x}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub struct Case {
    pub marker: String,
    pub spec: Spec,
    pub dir: tempfile::TempDir,
}

/// A spec for `argv`, with the marker in its environment and logs in a
/// fresh temp dir.
pub fn case(argv: &[&str]) -> Case {
    let marker = token();
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: BTreeMap::from([(MARKER_VAR.to_string(), marker.clone())]),
        env_remove: Vec::new(),
        cwd: None,
        timeout: Duration::from_secs(30),
        log_dir: dir.path().join("logs"),
        log_name: "child".to_string(),
        cap: 64 * 1024,
        daemons: false,
        confine: crossprobe::process::Confine::default(),
    };
    Case { marker, spec, dir }
}

/// `/bin/sh -c script marker`: the marker is also `$0`, so it shows in the
/// shell's command line.
pub fn sh(script: &str) -> Case {
    let mut c = case(&["/bin/sh", "-c", script]);
    c.spec.argv.push(c.marker.clone());
    c
}

impl Case {
    pub fn log(&self, stream: &str) -> PathBuf {
        self.spec.log_dir.join(format!("child.{stream}"))
    }
}

/// Pids of live processes whose command line or environment holds `marker`.
#[cfg(target_os = "linux")]
pub fn carrying(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    let needle = marker.as_bytes();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Zombies read as empty here, which is right: they run nothing.
        let hit = ["cmdline", "environ"].iter().any(|f| {
            std::fs::read(entry.path().join(f))
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        });
        if hit {
            found.push(pid);
        }
    }
    found
}

/// Without /proc there is nothing to look at.
#[cfg(not(target_os = "linux"))]
pub fn carrying(_marker: &str) -> Vec<u32> {
    Vec::new()
}

/// Fails if a process carrying `marker` is still alive. SIGKILL is not
/// instantaneous, so a process gets a moment to finish dying; one that was
/// never killed (a `sleep 1000`) outlasts it.
pub fn assert_gone(marker: &str) {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        let left = carrying(marker);
        if left.is_empty() {
            return;
        }
        if Instant::now() > until {
            panic!("processes carrying {marker} still running: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until some process carrying `marker` runs, so that a test acts on
/// a child that really started. Off Linux, a fixed pause stands in.
pub fn await_running(marker: &str) {
    if !cfg!(target_os = "linux") {
        std::thread::sleep(Duration::from_millis(500));
        return;
    }
    let until = Instant::now() + Duration::from_secs(10);
    while carrying(marker).is_empty() {
        assert!(
            Instant::now() < until,
            "child carrying {marker} never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `spec` on another thread, so a test can act while it runs and give
/// up on a `run` that never returns instead of hanging.
pub fn run_in_thread(spec: Spec) -> mpsc::Receiver<io::Result<Command>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The receiver is gone only if the test already failed.
        let _ = tx.send(crossprobe::process::run(&spec));
    });
    rx
}
