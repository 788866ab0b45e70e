//! `interrupt::request` stops running children and refuses new ones. A
//! binary of its own: the request is global and cannot be taken back.

mod process_support;

use std::time::{Duration, Instant};

use crossprobe::model::Exit;
use crossprobe::process::{interrupt, run, started};
use process_support::{assert_gone, await_running, run_in_thread, sh};

#[test]
fn request_kills_running_groups_and_refuses_new_runs() {
    let c = sh("sleep 1000 & sleep 1000");
    let marker = c.marker.clone();
    let spec = c.spec.clone();
    let rx = run_in_thread(spec);
    await_running(&marker);

    assert_eq!(interrupt::requested(), None);
    let t = Instant::now();
    interrupt::request(libc::SIGINT);
    let cmd = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("run did not return after the interrupt")
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(started(&cmd));
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGKILL"));
    assert!(!cmd.exit.timed_out);
    assert_eq!(interrupt::requested(), Some(libc::SIGINT));
    assert_gone(&marker);

    let flag = c.dir.path().join("ran");
    let later = sh(&format!("touch {}", flag.display()));
    let cmd = run(&later.spec).unwrap();
    assert!(!started(&cmd));
    assert_eq!(cmd.exit, Exit::default());
    assert_eq!(cmd.argv, later.spec.argv);
    assert_eq!(cmd.duration_ms, 0);
    assert!(!flag.exists());
    assert!(!later.spec.log_dir.exists());

    // The first request is the one reported.
    interrupt::request(libc::SIGTERM);
    assert_eq!(interrupt::requested(), Some(libc::SIGINT));
}
