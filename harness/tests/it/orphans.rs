//! What a cell's command leaves behind, and what it costs: crossprobe is
//! the subreaper of everything it starts (process::orphans), so a sandboxed
//! cell's grandchildren count in results.json's `perf`, and a daemon that
//! left its session and cleared its environment is still ended with its
//! command under --no-sandbox; and a command's peak memory is its whole
//! tree's.

use crate::common::{self, Test};

use crossprobe::model::Outcome;

/// A Go probe that spends `burn_ms` of CPU in a grandchild (itself again,
/// started through /bin/sh) and waits for it.
fn burner(name: &str, burn_ms: u32) -> String {
    let src = format!(
        r#"package main
import ("fmt"; "os"; "os/exec"; "syscall")
func cpu() int64 {{
  var r syscall.Rusage
  syscall.Getrusage(syscall.RUSAGE_SELF, &r)
  return (r.Utime.Nano() + r.Stime.Nano()) / 1e6
}}
func main() {{
  if len(os.Args) > 1 {{
    x := 0
    for cpu() < {burn_ms} {{ for i := 0; i < 1000000; i++ {{ x += i }} }}
    fmt.Println("burnt", x > 0)
    return
  }}
  self, _ := os.Executable()
  c := exec.Command("/bin/sh", "-c", "\"$0\" burn; true", self)
  c.Stdout, c.Stderr = os.Stdout, os.Stderr
  if err := c.Run(); err != nil {{ fmt.Println(err); os.Exit(1) }}
  fmt.Println("CROSSPROBE-FACTS: {{}}")
}}
"#
    );
    let indented: String = src.lines().map(|l| format!("      {l}\n")).collect();
    format!("name: {name}\nprobes:\n  - name: {name}\n    source: |\n{indented}matrix:\n  goos: [linux]\n  goarch: [amd64]\n")
}

#[test]
fn a_sandboxed_cells_grandchildren_count_in_perf() {
    let dir = tempfile::tempdir().unwrap();
    let cpu = |name: &str, burn_ms: u32| {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            burner(name, burn_ms),
        )
        .unwrap();
        Test::at(dir.path())
            .args(["run", &format!("{name}.yaml"), "--no-cache", "--out", "r"])
            .run();
        let results = common::read_results(&dir.path().join(format!("r/{name}/results.json")));
        assert_eq!(results.cells[0].sandboxed, Some(true));
        assert_eq!(results.cells[0].outcome, Outcome::Pass);
        results.perf.unwrap().children_cpu_ms
    };
    // The same probe burning nothing: what the build and the rest cost.
    let idle = cpu("idle", 0);
    let burnt = cpu("burn", 1000);
    eprintln!("children_cpu_ms: idle {idle}, burn {burnt}");
    assert!(
        burnt >= idle + 800,
        "children_cpu_ms: {burnt} with a grandchild burning 1000 ms, {idle} without"
    );
}

/// A Go probe that holds `mib` MiB, every page touched: natively in a
/// grandchild (itself again, through /bin/sh), under qemu itself (a guest
/// cannot exec another guest binary without binfmt).
fn holder(name: &str, mib: u32) -> String {
    let src = format!(
        r#"package main
import ("fmt"; "os"; "os/exec"; "runtime")
func hold() {{
  b := make([]byte, {mib}<<20)
  for i := 0; i < len(b); i += 4096 {{ b[i] = 1 }}
  fmt.Println("held", len(b))
}}
func main() {{
  if len(os.Args) > 1 || runtime.GOARCH != "amd64" {{
    hold()
    if len(os.Args) > 1 {{ return }}
    fmt.Println("CROSSPROBE-FACTS: {{}}")
    return
  }}
  self, _ := os.Executable()
  c := exec.Command("/bin/sh", "-c", "\"$0\" hold", self)
  c.Stdout, c.Stderr = os.Stdout, os.Stderr
  if err := c.Run(); err != nil {{ fmt.Println(err); os.Exit(1) }}
  fmt.Println("CROSSPROBE-FACTS: {{}}")
}}
"#
    );
    let indented: String = src.lines().map(|l| format!("      {l}\n")).collect();
    format!("name: {name}\nprobes:\n  - name: {name}\n    source: |\n{indented}matrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n")
}

/// Each command's peak memory is its whole tree's (bwrap, qemu and the
/// guest, a grandchild), from the cgroup `run.memory` puts it in, natively
/// and under qemu; the run's perf names the largest.
#[test]
fn a_commands_peak_memory_is_its_whole_trees() {
    let dir = tempfile::tempdir().unwrap();
    let peaks = |name: &str, mib: u32| {
        std::fs::write(dir.path().join(format!("{name}.yaml")), holder(name, mib)).unwrap();
        Test::at(dir.path())
            .args(["run", &format!("{name}.yaml"), "--no-cache", "--out", "r"])
            .run();
        let results = common::read_results(&dir.path().join(format!("r/{name}/results.json")));
        let mut runs = Vec::new();
        for cell in &results.cells {
            assert_eq!(cell.outcome, Outcome::Pass, "{}", cell.cell.id);
            assert_eq!(cell.sandboxed, Some(true), "{}", cell.cell.id);
            for phase in &cell.phases {
                for command in &phase.commands {
                    let peak = command.peak_memory_kib;
                    assert!(peak.is_some(), "no peak for {:?}", command.argv);
                    if phase.name == crossprobe::model::PhaseName::Run {
                        runs.push(peak.unwrap());
                    }
                }
            }
        }
        let largest = results.perf.unwrap().commands_peak_memory_kib.unwrap();
        (runs, largest)
    };
    let (small, _) = peaks("small", 0);
    let (held, largest) = peaks("held", 300);
    eprintln!("run peaks KiB: nothing held {small:?}, 300 MiB held {held:?}; largest {largest}");
    assert_eq!(held.len(), 2);
    for (s, h) in small.iter().zip(&held) {
        assert!(
            *h >= 300 * 1024,
            "a 300 MiB grandchild's run peaked at {h} KiB"
        );
        assert!(
            h - s >= 250 * 1024,
            "{h} KiB holding 300 MiB, {s} KiB holding none"
        );
    }
    assert!(largest >= *held.iter().max().unwrap());
}

/// Live processes whose command line holds `token`: pid and command line.
fn holding(token: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if line.contains(token) {
            found.push((pid, line));
        }
    }
    found
}

#[test]
fn a_daemon_that_left_its_session_and_cleared_its_environment_ends_with_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!(
        "leftover{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let src = format!(
        r#"package main
import ("fmt"; "os"; "os/exec"; "syscall")
func main() {{
  c := exec.Command("/bin/sh", "-c", "sleep 300; : {token}")
  c.Env = []string{{}}
  c.SysProcAttr = &syscall.SysProcAttr{{Setsid: true}}
  if err := c.Start(); err != nil {{ fmt.Println(err); os.Exit(1) }}
  fmt.Println("CROSSPROBE-FACTS: {{}}")
}}
"#
    );
    let indented: String = src.lines().map(|l| format!("      {l}\n")).collect();
    let yaml = format!("name: daemon\nprobes:\n  - name: daemon\n    source: |\n{indented}matrix:\n  goos: [linux]\n  goarch: [amd64]\n");
    std::fs::write(dir.path().join("daemon.yaml"), yaml).unwrap();
    Test::at(dir.path())
        .args([
            "run",
            "daemon.yaml",
            "--no-sandbox",
            "--no-cache",
            "--out",
            "r",
        ])
        .run();
    let results = common::read_results(&dir.path().join("r/daemon/results.json"));
    assert_eq!(results.cells[0].outcome, Outcome::Pass);
    assert_eq!(results.cells[0].sandboxed, Some(false));
    let left = holding(&token);
    for (pid, _) in &left {
        // Its group too (setsid made it a leader): the sleep under it.
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(-(*pid as i32), libc::SIGKILL);
            libc::kill(*pid as i32, libc::SIGKILL);
        }
    }
    assert!(left.is_empty(), "left running after the run: {left:?}");
}
