//! The cache's tests: keys, entries and pruning.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::key::*;
use super::*;
use crate::host::Tools;
use crate::model::{Cell, CellResult, Outcome, Runner};
use crate::probe::{Plan, Step};

fn identity() -> Identity {
    Identity {
        crossprobe: "0.1.0".into(),
        host: "linux/amd64 6.1 test".into(),
        go: BTreeMap::from([("local".into(), "go1.26.8 /usr/local/go".into())]),
        inherited: BTreeMap::new(),
        go_env_file: String::new(),
        tools: Tools::default(),
        versions: BTreeMap::new(),
        cc: Mutex::new(BTreeMap::from([("gcc".into(), "gcc 12".into())])),
        sandbox: crate::run::Sandbox::off(),
    }
}

fn cell() -> Cell {
    Cell {
        id: "linux/arm64/cgo0/hello".into(),
        goos: "linux".into(),
        goarch: "arm64".into(),
        go: "local".into(),
        cgo: "0".into(),
        runner: Runner::Qemu {
            binary: "qemu-aarch64".into(),
            cpu: None,
        },
        ..Cell::default()
    }
}

fn plan() -> Plan {
    Plan {
        steps: vec![Ok(Step {
            name: "build",
            argv: vec!["go".into(), "build".into(), ".".into()],
            env: BTreeMap::from([("GOARCH".into(), "arm64".into())]),
            env_remove: vec![],
        })],
        output: "/dir/probe".into(),
        no_run: None,
        facts: BTreeMap::new(),
        missing_cc: None,
        write: Vec::new(),
    }
}

/// The plan's one step, to change.
fn step(p: &mut Plan) -> &mut Step {
    p.steps[0].as_mut().unwrap()
}

fn sources() -> Vec<(String, String)> {
    vec![("main.go".into(), "package main".into())]
}

fn keys_of(id: &Identity, cell: &Cell, plan: &Plan, src: &[(String, String)]) -> Keys {
    keys(
        id,
        cell,
        src,
        plan,
        None,
        (Duration::from_secs(60), &[], &BTreeMap::new()),
        true,
    )
}

/// Each part of the key, changed alone, changes the result key; the
/// parts that say how a cell runs leave the build key alone.
#[test]
fn every_part_of_the_key_counts() {
    let base = keys_of(&identity(), &cell(), &plan(), &sources());
    assert_eq!(base, keys_of(&identity(), &cell(), &plan(), &sources()));

    let mut build_changes: Vec<(&str, Keys)> = Vec::new();
    let mut src = sources();
    src[0].1.push_str("\n// changed");
    build_changes.push(("sources", keys_of(&identity(), &cell(), &plan(), &src)));
    let mut p = plan();
    step(&mut p).argv.insert(2, "-ldflags=-s -w".into());
    build_changes.push(("argv", keys_of(&identity(), &cell(), &p, &sources())));
    let mut p = plan();
    step(&mut p).env.insert("GOARM".into(), "5".into());
    build_changes.push(("env", keys_of(&identity(), &cell(), &p, &sources())));
    let mut id = identity();
    id.go
        .insert("local".into(), "go1.22.12 /usr/local/go".into());
    build_changes.push(("go", keys_of(&id, &cell(), &plan(), &sources())));
    let mut id = identity();
    id.inherited.insert("GOAMD64".into(), "v3".into());
    build_changes.push(("inherited env", keys_of(&id, &cell(), &plan(), &sources())));
    let mut id = identity();
    id.go_env_file = "GOAMD64=v3\n".into();
    build_changes.push(("go env file", keys_of(&id, &cell(), &plan(), &sources())));
    let mut c = cell();
    c.cgo = "1".into();
    let cgo = keys_of(&identity(), &c, &plan(), &sources());
    let id = identity();
    id.cc.lock().unwrap().insert("gcc".into(), "gcc 13".into());
    let newer_gcc = keys_of(&id, &c, &plan(), &sources());
    assert_ne!(cgo.build, newer_gcc.build, "C compiler version");
    // A compiler crossprobe chose: its command and version count.
    let chosen = |version: &str| crate::toolchain::cc::Compiler {
        kind: crate::toolchain::cc::Kind::Gcc,
        cc: vec!["aarch64-linux-gnu-gcc".to_string()],
        cxx: None,
        version: version.to_string(),
        env: BTreeMap::new(),
        ldflags: vec![],
        go_ldflags: vec![],
    };
    let id = identity();
    let with = |version: &str| {
        keys(
            &id,
            &c,
            &sources(),
            &plan(),
            Some(&chosen(version)),
            (Duration::from_secs(60), &[], &BTreeMap::new()),
            true,
        )
    };
    let cross = with("gcc 12 cross");
    assert_ne!(cross.build, cgo.build, "the C compiler chosen");
    assert_ne!(
        with("gcc 13 cross").build,
        cross.build,
        "the chosen compiler's version"
    );
    let mut err = plan();
    err.steps
        .push(Err(crate::toolchain::cc::NoCompiler::Resolved(
            "no C compiler for linux/arm64".into(),
        )
        .into()));
    build_changes.push((
        "a step that cannot run",
        keys_of(&identity(), &cell(), &err, &sources()),
    ));
    for (what, k) in &build_changes {
        assert_ne!(k.build, base.build, "{what} must change the build key");
        assert_ne!(k.result, base.result, "{what} must change the result key");
    }

    let mut run_changes: Vec<(&str, Keys)> = Vec::new();
    let mut c = cell();
    c.runner = Runner::Qemu {
        binary: "qemu-aarch64".into(),
        cpu: Some("cortex-a53".into()),
    };
    run_changes.push(("qemu -cpu", keys_of(&identity(), &c, &plan(), &sources())));
    let mut c = cell();
    c.runner = Runner::Native;
    run_changes.push(("runner", keys_of(&identity(), &c, &plan(), &sources())));
    let mut id = identity();
    id.versions.insert("qemu-aarch64".into(), "qemu 9".into());
    run_changes.push((
        "emulator version",
        keys_of(&id, &cell(), &plan(), &sources()),
    ));
    let mut id = identity();
    id.host = "linux/amd64 6.2 test".into();
    run_changes.push(("host", keys_of(&id, &cell(), &plan(), &sources())));
    let mut id = identity();
    id.crossprobe = "0.2.0".into();
    run_changes.push(("crossprobe", keys_of(&id, &cell(), &plan(), &sources())));
    // The run's own inputs: its bound, a module probe's arguments and env,
    // the sandbox.
    let run_with = |timeout: u64, args: &[String], env: &BTreeMap<String, String>, sandboxed| {
        let run = (Duration::from_secs(timeout), args, env);
        keys(
            &identity(),
            &cell(),
            &sources(),
            &plan(),
            None,
            run,
            sandboxed,
        )
    };
    let (no_args, no_env) = (Vec::new(), BTreeMap::new());
    let args = vec!["-test.short".to_string()];
    let env = BTreeMap::from([("GREETING".to_string(), "hi".to_string())]);
    run_changes.push(("timeout", run_with(5, &no_args, &no_env, true)));
    run_changes.push(("sandbox", run_with(60, &no_args, &no_env, false)));
    run_changes.push((
        "a module probe's run arguments",
        run_with(60, &args, &no_env, true),
    ));
    run_changes.push(("a module probe's env", run_with(60, &no_args, &env, true)));
    for (what, k) in &run_changes {
        assert_eq!(k.build, base.build, "{what} must not change the build");
        assert_ne!(k.result, base.result, "{what} must change the result key");
    }
}

fn result(outcome: Outcome) -> CellResult {
    CellResult {
        cell: cell(),
        outcome,
        reason: None,
        verdict: crate::model::Verdict {
            met: true,
            message: String::new(),
        },
        facts: BTreeMap::new(),
        phases: vec![],
        duration_ms: 5,
        dir: Some("/tmp/x".into()),
        cached: false,
        build_of: None,
        attempts: Vec::new(),
        ran_on: None,
        missing: None,
        not_run: None,
        sandboxed: None,
        tests: Vec::new(),
        key: None,
    }
}

#[test]
fn what_is_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::at(dir.path().to_path_buf());
    let none = BTreeMap::new();
    for o in [Outcome::Timeout, Outcome::Interrupted] {
        assert!(
            Entry::of("k", &result(o), &none, None, false).is_none(),
            "{o}"
        );
    }
    assert!(Entry::of("k", &result(Outcome::RunFail), &none, None, true).is_none());
    let mut unmet = result(Outcome::RunFail);
    unmet.verdict.met = false;
    assert!(Entry::of("k", &unmet, &none, None, false).is_none());
    assert!(Entry::of("k", &result(Outcome::RunFail), &none, None, false).is_some());

    let key = "ab".repeat(32);
    let e = Entry::of(
        &key,
        &result(Outcome::Skip),
        &none,
        Some("no runner".into()),
        false,
    )
    .unwrap();
    assert_eq!(
        e.result.dir, None,
        "a build directory is not part of a result"
    );
    store.put(&e).unwrap();
    let back = store.get(&key).unwrap();
    let tests = back.tests(&cell());
    let obs = back.observed(&cell(), tests.as_ref());
    let r = crate::check::check(&cell(), &obs, &back.inspected);
    assert_eq!(r.outcome, Outcome::Skip);
    assert_eq!(r.reason.as_deref(), Some("no runner"));

    // A damaged entry, or one filed under another key, is a miss.
    std::fs::write(store.path(&key), "{\"format\": 1, \"key\":").unwrap();
    assert!(store.get(&key).is_none());
    let other = "cd".repeat(32);
    store
        .put(&Entry {
            key: other.clone(),
            ..e.clone()
        })
        .unwrap();
    std::fs::rename(store.path(&other), store.path(&key)).unwrap();
    assert!(store.get(&key).is_none());
}

#[test]
fn plan_overrides_hide_inherited_variables() {
    // The plan sets GOFLAGS to "", so the user's GOFLAGS cannot matter.
    let mut id = identity();
    id.inherited.insert("GOFLAGS".into(), "-race".into());
    let mut p = plan();
    step(&mut p).env.insert("GOFLAGS".into(), String::new());
    assert_eq!(
        keys_of(&id, &cell(), &p, &sources()),
        keys_of(&identity(), &cell(), &p, &sources())
    );
}

#[test]
fn which_variables_count() {
    for k in [
        "GOAMD64",
        "GOFLAGS",
        "CGO_CFLAGS",
        "CC",
        "CC_FOR_linux_arm",
        "QEMU_CPU",
        "WINEARCH",
        "GODEBUG",
    ] {
        assert!(relevant(k), "{k}");
    }
    for k in ["GOCACHE", "GOPATH", "HOME", "PATH", "TERM", "COLUMNS"] {
        assert!(!relevant(k), "{k}");
    }
}

#[test]
fn the_c_compiler_is_found_as_cmd_go_finds_it() {
    let c = cell();
    let none = BTreeMap::new();
    let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let default = if cfg!(target_os = "macos") {
        "clang"
    } else {
        "gcc"
    };
    assert_eq!(c_compiler(&c, &none, &none), default);
    let inh = env(&[
        ("CC_FOR_linux_arm64", "aarch64-linux-gnu-gcc"),
        ("CC_FOR_TARGET", "x"),
    ]);
    assert_eq!(c_compiler(&c, &none, &inh), "aarch64-linux-gnu-gcc");
    assert_eq!(
        c_compiler(
            &c,
            &env(&[("CC", "zig cc -target aarch64-linux-musl")]),
            &inh
        ),
        "zig cc -target aarch64-linux-musl"
    );
}

#[test]
fn unused_build_directories_are_pruned() {
    use crate::fsutil::Lock;
    let root = tempfile::tempdir().unwrap();
    let lock_of = |dir: &Path| {
        let name = dir.file_name().unwrap().to_str().unwrap();
        dir.with_file_name(format!("{name}.lock"))
    };
    let make = |name: &str, age_days: u64| {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("probe"), "binary").unwrap();
        let f = std::fs::File::create(lock_of(&dir)).unwrap();
        let t = std::time::SystemTime::now() - Duration::from_secs(age_days * 24 * 3600);
        f.set_modified(t).unwrap();
        dir
    };
    let old = make("linux_arm_go1.22_hello-0123456789abcdef", 30);
    let fresh = make("linux_arm64_go1.22_hello-0123456789abcdef", 1);
    let busy = make("linux_386_cgo0_hello-0123456789abcdef", 30);
    let held = Lock::exclusive(&lock_of(&busy)).unwrap();
    assert_eq!(prune_builds(root.path(), MAX_UNUSED_AGE), 1);
    assert!(!old.exists() && !lock_of(&old).exists());
    assert!(fresh.join("probe").is_file(), "used a day ago");
    assert!(busy.join("probe").is_file(), "in use by another run");
    drop(held);
    assert_eq!(prune_builds(root.path(), MAX_UNUSED_AGE), 1);
    assert!(!busy.exists());
    assert_eq!(
        prune_builds(&root.path().join("missing"), MAX_UNUSED_AGE),
        0
    );
}

#[test]
fn pruning_is_due_once_a_day() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("crossprobe");
    assert!(prune_due(&cache), "never pruned");
    assert!(!prune_due(&cache), "pruned a moment ago");
    let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(48 * 3600);
    std::fs::File::options()
        .append(true)
        .open(cache.join("pruned"))
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();
    assert!(prune_due(&cache), "pruned two days ago");
}

#[test]
fn unused_results_are_pruned_and_a_hit_counts_as_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::at(dir.path().to_path_buf());
    let key = |c: char| c.to_string().repeat(64);
    for c in ['a', 'b'] {
        let mut e = Entry::of(
            &key(c),
            &result(Outcome::Pass),
            &BTreeMap::new(),
            None,
            false,
        )
        .unwrap();
        e.key = key(c);
        store.put(&e).unwrap();
        let month_ago = std::time::SystemTime::now() - Duration::from_secs(30 * 24 * 3600);
        std::fs::File::options()
            .append(true)
            .open(store.path(&key(c)))
            .unwrap()
            .set_modified(month_ago)
            .unwrap();
    }
    assert!(store.get(&key('a')).is_some(), "a hit on a");
    assert_eq!(store.prune(MAX_UNUSED_AGE), 1);
    assert!(store.get(&key('a')).is_some(), "used, so kept");
    assert!(store.get(&key('b')).is_none(), "unused for a month");
    assert!(!dir.path().join("bb").exists(), "its empty shard went too");
}
