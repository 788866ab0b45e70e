//! A repro bundle: everything about one failing cell that a person fixing
//! the bug needs, and a `replay.sh` that repeats the build and the run with
//! go, cc and qemu alone.
//!
//! ```text
//! reports/<name>/<cell slug>/
//!   README.txt     the cell, its outcome and verdict, how to replay
//!   replay.sh      build, run, and say whether the outcome is the same
//!   src/           the rendered sources, as built
//!   steps.json     each step's argv, env, cwd, exit and duration
//!   env.txt        the variables each step set (the rest is inherited)
//!   go-env.txt     `go env` as the build saw it
//!   tools.txt      go, and the cc, qemu, wine or node the cell used
//!   logs/          build.stdout, build.stderr, run.stdout, run.stderr
//!   result.json    the cell's whole result, as in results.json
//!   snippet.yaml   the snippet it came from
//! ```
//!
//! A bundle is written to a temporary directory beside its place and renamed
//! into it, so a reader never sees half of one.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::check::FACTS_MARKER;
use crate::errors::Error;
use crate::escape;
use crate::model::{CellResult, Command, Outcome, PhaseName, Runner};
use crate::probe;
use crate::process;
use crate::process::shown::quote;
use crate::toolchain::go::GoToolchain;

/// Whether a cell gets a bundle: it failed to build or run.
pub fn wanted(r: &CellResult) -> bool {
    matches!(
        r.outcome,
        Outcome::BuildFail | Outcome::RunFail | Outcome::Timeout
    ) && r.dir.is_some()
}

/// What the bundle needs of how its cell ran.
pub struct Cell<'a> {
    /// The files crossprobe rendered into the cell's directory.
    pub rendered: &'a [String],
    /// Where the toolchain is asked questions that may run the cell's CC.
    pub sandbox: &'a crate::run::Sandbox,
}

/// Writes the bundle of `r` under `parent` and returns its directory.
/// `how.rendered` names the files crossprobe wrote into the cell's directory
/// before its build (the rendered probe): only those, and the capture
/// files of its commands, are copied.
pub fn write(
    parent: &Path,
    r: &CellResult,
    how: &Cell,
    go: &GoToolchain,
    tools: &BTreeMap<String, String>,
    snippet: &str,
    timeout: Duration,
) -> Result<PathBuf, Error> {
    let dest = parent.join(&r.cell.slug);
    let fail = |path: &Path, source: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        error: source,
        help: Some("check the disk has space and the reports directory is writable".into()),
    };
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}-", r.cell.slug))
        .tempdir_in(parent)
        .map_err(|e| fail(parent, e))?;
    let t = tmp.path();
    let put = |rel: &str, text: &str| -> Result<(), Error> {
        let p = t.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| fail(d, e))?;
        }
        std::fs::write(&p, text).map_err(|e| fail(&p, e))
    };

    let built = r.dir.as_deref().map(Path::new);
    let output = probe::output_name(&r.cell);
    let mut sources = Vec::new();
    if let Some(dir) = built {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| fail(dir, e))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let is_capture = matches!(name.rsplit_once('.'), Some((_, "stdout" | "stderr")));
            let wrote =
                is_capture || how.rendered.contains(&name) || GO_FILES.contains(&name.as_str());
            if !wrote || name == output || !plain_file(&path) {
                continue;
            }
            let (sub, is_log) = match name.rsplit_once('.') {
                Some((_, "stdout" | "stderr")) => ("logs", true),
                _ => ("src", false),
            };
            let to = t.join(sub).join(&name);
            std::fs::create_dir_all(t.join(sub)).map_err(|e| fail(t, e))?;
            copy_plain(&path, &to).map_err(|e| fail(&path, e))?;
            if !is_log {
                sources.push(name);
            }
        }
    }

    let commands: Vec<(PhaseName, &Command)> = r.commands().collect();
    let steps: Vec<serde_json::Value> = commands
        .iter()
        .map(|(phase, c)| {
            serde_json::json!({
                "phase": phase,
                "argv": c.argv,
                "env": c.env,
                "cwd": c.cwd,
                "exit": c.exit,
                "duration_ms": c.duration_ms,
            })
        })
        .collect();
    put(
        "steps.json",
        &serde_json::to_string_pretty(&steps).expect("steps serialise"),
    )?;
    let mut env = String::new();
    for (phase, c) in &commands {
        let _ = writeln!(env, "# {phase:?}", phase = phase);
        for (k, v) in &c.env {
            let _ = writeln!(env, "{k}={v}");
        }
        if *phase == PhaseName::Build && r.cell.cgo == "default" {
            env.push_str("# CGO_ENABLED unset: cgo: default leaves Go to choose\n");
        }
    }
    put("env.txt", &env)?;
    // `go env` runs the cell's CC (GOGCCFLAGS), a command the snippet may
    // have named: it runs as the cell's build did.
    let query = |argv: &[&str], env: &BTreeMap<String, String>| {
        // `go env` opens the build cache, as the build did: the cache the
        // build was given, writable as it was (read-only, go env fails).
        let gocache = env
            .get("GOCACHE")
            .map_or_else(|| go.gocache.clone(), std::path::PathBuf::from);
        let argv = how.sandbox.wrap_build(
            argv.iter().map(|a| a.to_string()).collect(),
            Path::new("/"),
            &[gocache],
            &[go.goroot.clone(), go.gomodcache.clone()],
        );
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let confine = process::Confine {
            env_allowlist: true,
            memory: Some(crate::load::DEFAULT_MEMORY),
            processes: Some(crate::load::DEFAULT_PROCESSES),
            user: process::user::RunAs::for_strangers(),
            pass_env: Vec::new(),
            sandboxed: how.sandbox.enabled(),
        };
        process::query_confined(&argv, env, None, Duration::from_secs(30), confine)
    };
    put("tools.txt", &tool_lines(r, go, tools, &commands, &query))?;
    put("go-env.txt", &go_env(go, &commands, &query))?;
    put(
        "result.json",
        &serde_json::to_string_pretty(r).expect("results serialise"),
    )?;
    put("snippet.yaml", snippet)?;
    put("replay.sh", &replay_script(r, go, &commands, timeout))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = t.join("replay.sh");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| fail(&p, e))?;
    }
    put("README.txt", &readme(r, go, &sources))?;

    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| fail(&dest, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, &dest).map_err(|e| fail(&dest, e))?;
    Ok(dest)
}

/// What the snippet's go.mod completion writes beside its sources.
const GO_FILES: [&str; 2] = ["go.mod", "go.sum"];

/// A regular file with no other name: not a link a probe planted to a host
/// file (its target would be copied into a bundle that is handed to other
/// people), nor a hard link to one.
fn plain_file(path: &Path) -> bool {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if m.nlink() != 1 {
            return false;
        }
    }
    m.file_type().is_file()
}

/// Copies `from` without following a link at its name, should one have
/// replaced the file since it was looked at.
fn copy_plain(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    let mut src = o.open(from)?;
    let mut dst = std::fs::File::create(to)?;
    std::io::copy(&mut src, &mut dst).map(|_| ())
}

fn readme(r: &CellResult, go: &GoToolchain, sources: &[String]) -> String {
    format!(
        "crossprobe repro bundle\n\ncell:     {}\ngo:       {}\nrunner:   {}\noutcome:  {}{}\nverdict:  {}\nsources:  src/{}\n\n\
         Replay it without crossprobe (go, cc and qemu only):\n\n    sh replay.sh\n\n\
         It builds a copy of src/ with the same argv and environment, runs the\n\
         binary as crossprobe did, prints `replay: <outcome>`, and exits 0 when\n\
         that is the outcome crossprobe saw. GO=/path/to/go overrides the Go.\n\n\
         Where bubblewrap (bwrap) is installed, the build and the run are\n\
         sandboxed: no network, an empty $HOME, a private /tmp.\n\
         REPLAY_UNSANDBOXED=1 runs them bare: read src/ first.\n",
        r.cell.id,
        go.version,
        r.cell.runner.name(),
        r.outcome,
        r.reason
            .as_deref()
            .map(|s| format!(": {}", escape::line(s)))
            .unwrap_or_default(),
        escape::line(&r.verdict.message),
        sources.join(" src/"),
    )
}

/// `go env` as the build saw it (CC, CGO_CFLAGS, GOPROXY, ...). The rest of
/// the inherited environment stays out of the bundle: it is handed to other
/// people, and a shell's environment holds tokens.
/// How the bundle asks a question of the toolchain.
type Query<'a> =
    dyn Fn(&[&str], &BTreeMap<String, String>) -> Result<String, process::QueryError> + 'a;

fn go_env(go: &GoToolchain, commands: &[(PhaseName, &Command)], query: &Query) -> String {
    let env = commands
        .iter()
        .find(|(p, _)| *p == PhaseName::Build)
        .map(|(_, c)| c.env.clone())
        .unwrap_or_default();
    let gostr = go.go.display().to_string();
    query(&[&gostr, "env"], &env).unwrap_or_else(|e| format!("# cannot run go env: {e}\n"))
}

/// go, and the C compiler and runner the cell used, with their versions.
fn tool_lines(
    r: &CellResult,
    go: &GoToolchain,
    tools: &BTreeMap<String, String>,
    commands: &[(PhaseName, &Command)],
    query: &Query,
) -> String {
    let mut s = format!("go: {} ({})\n", go.version, go.go.display());
    if r.cell.cgo != "0" {
        let env = commands
            .iter()
            .find(|(p, _)| *p == PhaseName::Build)
            .map(|(_, c)| c.env.clone())
            .unwrap_or_default();
        let gostr = go.go.display().to_string();
        let cc = query(&[&gostr, "env", "CC"], &env)
            .map(|o| o.trim().to_string())
            .unwrap_or_else(|_| "gcc".into());
        let version = cc
            .split_whitespace()
            .next()
            .and_then(|bin| query(&[bin, "--version"], &BTreeMap::new()).ok())
            .and_then(|o| o.lines().next().map(str::to_string))
            .unwrap_or_else(|| "(cannot run it)".into());
        let _ = writeln!(s, "cc: {version} ({cc})");
    }
    let runner = match &r.cell.runner {
        Runner::Wine { .. } => Some("wine64".to_string()),
        Runner::Native | Runner::None { .. } => None,
        other => Some(other.name().to_string()),
    };
    if let Some(name) = runner {
        let v = tools
            .get(&name)
            .map_or("(version not read)", String::as_str);
        let _ = writeln!(s, "{name}: {v}");
    }
    s
}

/// replay.sh's sandbox: the snippet is a stranger's, and whoever replays
/// it should not have to read it first. Where bubblewrap is installed, the
/// build and the run see no network, an empty `$HOME` and a private `/tmp`,
/// and write only the copy of the sources and Go's build cache (as
/// crossprobe's own build sandbox lets them); the modules come down first,
/// outside it, by `go mod download`, which runs none of the snippet's code.
/// `boxed` runs its arguments inside; `REPLAY_UNSANDBOXED=1` runs them bare.
const SANDBOX: &str = r#"boxed() { "$@"; }
if [ -n "${REPLAY_UNSANDBOXED:-}" ]; then
  echo 'replay: REPLAY_UNSANDBOXED is set: the build and the run are not sandboxed'
elif command -v bwrap >/dev/null 2>&1; then
  GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" mod download >/dev/null 2>&1
  gocache=$(GOTOOLCHAIN=local "$GO" env GOCACHE)
  modcache=$(GOTOOLCHAIN=local "$GO" env GOMODCACHE)
  goroot=$(GOTOOLCHAIN=local "$GO" env GOROOT)
  mkdir -p "$gocache"
  home=${HOME:-/tmp}
  { [ -d "$home" ] && [ "$home" != / ]; } || home=/tmp
  boxed() {
    bwrap --unshare-all --die-with-parent --new-session --ro-bind / / --dev /dev --proc /proc \
      --tmpfs /tmp --tmpfs "$home" --ro-bind-try "$goroot" "$goroot" --ro-bind-try "$modcache" "$modcache" \
      --bind "$gocache" "$gocache" --bind "$work" "$work" --chdir "$work" -- "$@"
  }
  echo 'replay: sandboxed by bubblewrap: no network, an empty $HOME, writes only to its copy and the Go build cache (REPLAY_UNSANDBOXED=1 runs it bare)'
else
  echo 'replay: no bubblewrap here: the build and the run are NOT sandboxed; read src/ before you run this' >&2
fi

"#;

fn replay_script(
    r: &CellResult,
    go: &GoToolchain,
    commands: &[(PhaseName, &Command)],
    timeout: Duration,
) -> String {
    let cell = &r.cell;
    let output = probe::output_name(cell);
    // `go build` itself: a cgo-default cell's build phase starts with a
    // `go env CGO_ENABLED`.
    let build = commands.iter().find(|(p, c)| {
        let argv = crate::run::sandbox::inner(&c.argv);
        *p == PhaseName::Build && argv.get(1).map(String::as_str) == Some("build")
    });
    let run = commands.iter().find(|(p, _)| *p == PhaseName::Run);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "#!/bin/sh\n# Replays crossprobe's cell {} with go, cc and qemu alone.\n\
         # crossprobe saw: {}{}\n# Run it from anywhere: sh replay.sh. GO=/path/to/go overrides the Go.\nset -u\n",
        cell.id,
        r.outcome,
        // The reason quotes the program's output: escaped, it can neither
        // end the comment nor drive the terminal of whoever reads the file.
        r.reason
            .as_deref()
            .map(|s| format!(" — {}", escape::line(s)))
            .unwrap_or_default()
    );
    let _ = writeln!(s, "expected={}", r.outcome);
    s.push_str("here=$(cd \"$(dirname \"$0\")\" && pwd)\n");
    let gopath = quote(&go.go.display().to_string()).into_owned();
    if go.request == "local" {
        let _ = writeln!(s, "GO=${{GO:-{gopath}}}");
    } else {
        // Elsewhere the downloaded Go is not at this path: any Go 1.21+
        // fetches the same release into its module cache.
        let _ = writeln!(
            s,
            "if [ -z \"${{GO:-}}\" ]; then\n  if [ -x {gopath} ]; then GO={gopath}\n  \
             else GO=\"$(GOTOOLCHAIN={v} go env GOROOT)/bin/go\"; fi\nfi",
            v = go.version
        );
    }
    let _ = writeln!(
        s,
        "if [ ! -x \"$GO\" ]; then echo \"replay: no Go at $GO; set GO=/path/to/go ({v})\" >&2; exit 2; fi\n\
         echo \"replay: $(GOTOOLCHAIN=local \"$GO\" version) (crossprobe used {v})\"",
        v = go.version
    );
    s.push_str(
        "work=$(mktemp -d) || exit 2\ntrap 'rm -rf \"$work\"' EXIT\ncp -R \"$here/src/.\" \"$work/\"\ncd \"$work\" || exit 2\n\n",
    );
    s.push_str(SANDBOX);
    s.push_str(
        "verdict() {\n  if [ \"$1\" = \"$expected\" ]; then echo \"replay: $1, as crossprobe saw\"; exit 0; fi\n  \
         echo \"replay: $1, but crossprobe saw $expected\"; exit 1\n}\n\n",
    );

    // The build, as recorded: same env, same flags, the binary written here.
    let Some((_, b)) = build else {
        s.push_str("echo 'replay: crossprobe recorded no build step'\nexit 2\n");
        return s;
    };
    let mut line = String::from("boxed env");
    if cell.cgo == "default" {
        line.push_str(" -u CGO_ENABLED");
    }
    for (k, v) in &b.env {
        let _ = write!(line, " {}", quote(&format!("{k}={v}")));
    }
    line.push_str(" \"$GO\"");
    let mut args = crate::run::sandbox::inner(&b.argv)
        .iter()
        .skip(1)
        .peekable();
    while let Some(a) = args.next() {
        if a == "-o" {
            args.next();
            let _ = write!(line, " -o {output}");
        } else {
            let _ = write!(line, " {}", quote(a));
        }
    }
    let _ = writeln!(
        s,
        "echo 'replay: build'\n{line}\nstatus=$?\nif [ $status -ne 0 ]; then echo \"replay: the build exited with status $status\"; verdict build-fail; fi\n"
    );

    // The run, as the runner ran it, with the binary built here.
    let bin = format!("./{output}");
    let mut env: BTreeMap<String, String> = cell.env.clone();
    if let Some((_, c)) = run {
        env.extend(c.env.clone());
    }
    let argv: Option<Vec<String>> = match &cell.runner {
        Runner::Native => Some(vec![bin]),
        Runner::Qemu { binary, cpu } => {
            let mut v = vec![binary.clone()];
            if let Some(cpu) = cpu {
                v.extend(["-cpu".to_string(), cpu.clone()]);
            }
            v.push(bin);
            Some(v)
        }
        Runner::Node => {
            // The Go's own wasm_exec_node.js; fetched toolchains before 1.24
            // have none, and then the one crossprobe ran with.
            let used = run
                .and_then(|(_, c)| c.argv.iter().find(|a| a.ends_with("wasm_exec_node.js")))
                .map_or("''".to_string(), |a| quote(a).into_owned());
            let _ = writeln!(
                s,
                "root=$(GOTOOLCHAIN=local \"$GO\" env GOROOT)\nexec_js=\"$root/lib/wasm/wasm_exec_node.js\"\n\
                 [ -f \"$exec_js\" ] || exec_js=\"$root/misc/wasm/wasm_exec_node.js\"\n\
                 [ -f \"$exec_js\" ] || exec_js={used}\n\
                 if [ ! -f \"$exec_js\" ]; then echo 'replay: no wasm_exec_node.js for this Go' >&2; exit 2; fi"
            );
            Some(vec![
                "node".into(),
                "--stack-size=8192".into(),
                "$exec_js".into(),
                bin,
            ])
        }
        _ => None,
    };
    let Some(argv) = argv else {
        let recorded = run.map_or("(not run)".to_string(), |(_, c)| {
            c.argv
                .iter()
                .map(|a| quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        });
        let _ = writeln!(
            s,
            "echo 'replay: built. The run used {}, which replay.sh does not set up; crossprobe ran:'\n\
             echo {}\nif [ \"$expected\" = build-fail ]; then verdict pass; fi\nexit 3",
            cell.runner.name(),
            quote(&recorded)
        );
        return s;
    };
    let mut line = String::from("boxed $limit env");
    for (k, v) in &env {
        let _ = write!(line, " {}", quote(&format!("{k}={v}")));
    }
    for a in &argv {
        if a == "$exec_js" {
            line.push_str(" \"$exec_js\"");
        } else {
            let _ = write!(line, " {}", quote(a));
        }
    }
    let secs = timeout.as_secs().max(1);
    let _ = writeln!(
        s,
        "echo 'replay: run'\nlimit=''\ncommand -v timeout >/dev/null 2>&1 && limit='timeout {secs}'\n\
         {line} >run.stdout\nstatus=$?\ncat run.stdout\n\
         if [ -n \"$limit\" ] && [ $status -eq 124 ]; then verdict timeout; fi\n\
         if [ $status -ne 0 ]; then echo \"replay: the run exited with status $status\"; verdict run-fail; fi\n\
         if ! grep -q '{marker}' run.stdout; then echo 'replay: exited 0 but printed no facts'; verdict run-fail; fi\n\
         verdict pass",
        marker = FACTS_MARKER.trim_end()
    );
    s
}
