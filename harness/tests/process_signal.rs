//! A real SIGTERM, through `interrupt::install`. A binary of its own: the
//! signal is process-wide.

mod process_support;

use std::time::{Duration, Instant};

use crossprobe::process::interrupt;
use process_support::{assert_gone, await_running, run_in_thread, sh};

#[test]
fn sigterm_kills_running_groups() {
    interrupt::install().unwrap();
    interrupt::install().unwrap();
    let c = sh("sleep 1000 & sleep 1000");
    let marker = c.marker.clone();
    let spec = c.spec.clone();
    let rx = run_in_thread(spec);
    await_running(&marker);

    let t = Instant::now();
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGTERM) }, 0);
    let cmd = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("run did not return after the interrupt")
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGKILL"));
    assert_eq!(interrupt::requested(), Some(libc::SIGTERM));
    assert_gone(&marker);
}
