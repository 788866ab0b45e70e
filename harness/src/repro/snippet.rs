//! A snippet: the YAML a bug report carries, read from a file, stdin, or the
//! first ```yaml block of a Markdown file, and turned into a [`Matrix`].
//!
//! Two shapes are accepted. A full matrix (it has `probes:` or `matrix:`)
//! goes to `load` unchanged. Anything else is the shorthand, with axes at the
//! top level and one program:
//!
//! ```yaml
//! goos: linux
//! goarch: arm
//! cgo: 1
//! expect: {outcome: build-fail, match: "unrecognized command.line option '-marm'"}
//! source: |
//!   package main
//!   import "C"
//!   func main() {}
//! ```
//!
//! Positions in errors are those of the file the user gave, Markdown
//! included: the text before the block is blanked, byte for byte, so YAML
//! offsets are the file's.

use std::path::Path;
use std::sync::Arc;

use miette::SourceSpan;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::axis;
use crate::errors::{Error, InputError, Source};
use crate::load::{self, limits, Located, Matrix, RunnerOverride};
use crate::model::RunnerKind;
use crate::toolchain::flags::program_flag;

use super::{markdown, shorthand};

/// A first build with a newly downloaded Go compiles its standard library
/// for the target: minutes on a busy machine, not seconds.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// What the user handed over, read whole.
pub struct Input {
    /// As shown in errors: the path, or `<stdin>`.
    pub name: String,
    pub stem: String,
    /// The whole text, Markdown included.
    pub text: String,
    /// What YAML reads: the text with everything outside the snippet
    /// blanked to spaces, offsets kept.
    pub yaml: String,
}

/// A loaded snippet.
pub struct Loaded {
    pub matrix: Matrix,
    /// What loading changed of the snippet, said before the run.
    pub notes: Vec<String>,
    /// The YAML itself, for the repro bundle.
    pub yaml: String,
    pub title: Option<String>,
}

/// Reads `arg`: a file, `-` for stdin; Markdown (`.md`, or stdin holding a
/// fence) gives its first ```yaml block.
pub fn read(arg: &str) -> miette::Result<Input> {
    // Read as a matrix is: with its bound, as UTF-8.
    let (name, stem, text) = if arg == "-" {
        let text = limits::read_stdin()?;
        ("<stdin>".to_string(), "snippet".to_string(), text)
    } else {
        let p = Path::new(arg);
        let text = limits::read_as(p, "a snippet")?;
        let stem = p
            .file_stem()
            .map_or("snippet".into(), |s| s.to_string_lossy().into_owned());
        (arg.to_string(), stem, text)
    };
    let markdown = Path::new(arg)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
        || (arg == "-" && markdown::fences(&text).next().is_some());
    let yaml = if markdown {
        let Some(block) = markdown::fences(&text).find(|f| f.yaml) else {
            let other = markdown::fences(&text).next().is_some();
            return Err(Error::Usage {
                message: format!("{name} has no fenced yaml block"),
                help: Some(if other {
                    "its code blocks name no yaml language: mark the snippet's block as ```yaml"
                        .into()
                } else {
                    "put the snippet in a fenced block that opens with ```yaml and closes with ```"
                        .into()
                }),
            }
            .into());
        };
        markdown::blank_outside(&text, block.start, block.end)
    } else {
        text.clone()
    };
    Ok(Input {
        name,
        stem,
        text,
        yaml,
    })
}

/// Loads a snippet or a full matrix. Unless `trust`, one that names a
/// program to run at build time is refused ([`runs_no_program`]).
pub fn load(input: &Input, templates: Option<&Path>, trust: bool) -> miette::Result<Loaded> {
    let yaml_only = input.yaml.trim_start().to_string();
    if input.yaml.trim().is_empty() {
        return Err(Error::Usage {
            message: format!("{}: the snippet is empty", input.name),
            help: Some(
                "a snippet needs at least goos, goarch and source; see `crossprobe repro --help`"
                    .into(),
            ),
        }
        .into());
    }
    #[derive(Deserialize)]
    struct Peek {
        probes: Option<IgnoredAny>,
        matrix: Option<IgnoredAny>,
    }
    let full = serde_saphyr::from_str::<Peek>(&input.yaml)
        .map(|p| p.probes.is_some() || p.matrix.is_some())
        .unwrap_or(false);
    if full {
        let mut matrix = load::load_str(&input.name, &input.stem, input.yaml.clone(), templates)?;
        let mut notes = Vec::new();
        if !trust {
            runs_no_program(&matrix)?;
            asks_no_variables(&matrix)?;
            notes.extend(no_wine(&mut matrix));
        }
        confined(&matrix)?;
        // A stranger's matrix cannot opt out; only --no-sandbox can.
        matrix.sandbox = true;
        matrix.processes = at_most(matrix.processes, load::DEFAULT_PROCESSES);
        matrix.memory = at_most(matrix.memory, load::DEFAULT_MEMORY);
        return Ok(Loaded {
            matrix,
            notes,
            yaml: yaml_only,
            title: None,
        });
    }
    let source = Source {
        name: input.name.clone(),
        text: Arc::new(input.yaml.clone()),
    };
    let raw: shorthand::SnippetFile =
        serde_saphyr::from_str_with_options(&input.yaml, limits::options())
            .map_err(|e| snippet_yaml_error(&source, &e))?;
    let title = raw.title.clone();
    let timeout_given = raw.timeout.is_some();
    let file = shorthand::spell(raw, &source)?;
    let mut matrix = load::check(
        &source,
        file,
        &load::safe_name(&input.stem, "snippet"),
        templates,
    )?;
    snippet_defaults(&mut matrix, timeout_given);
    let mut notes = Vec::new();
    if !trust {
        runs_no_program(&matrix)?;
        notes.extend(no_wine(&mut matrix));
    }
    confined(&matrix)?;
    Ok(Loaded {
        matrix,
        notes,
        yaml: yaml_only,
        title,
    })
}

/// Where a snippet differs from the matrix file it spells, because a bug
/// report needs it (the README's "Reproducing a bug report" lists the same):
/// - its axes take one value as well as a list (`goarch: arm`);
/// - `cc` left out with cgo on is `default`: CC unset, Go's own choice of
///   compiler, as in the reporter's shell (golang/go#16801 needs exactly
///   that); a matrix's is `auto`;
/// - the timeout is 5 minutes, not 60s: a first build with a newly fetched
///   Go compiles its standard library;
/// - an expectation's `reason` defaults to `issue` (or "the reported
///   failure"), in `shorthand::spell`.
fn snippet_defaults(m: &mut Matrix, timeout_given: bool) {
    if !timeout_given {
        m.timeout = DEFAULT_TIMEOUT;
    }
    if !m.listed.contains("cc") && m.values("cgo").iter().any(|c| c.value != "0") {
        m.axes.insert(
            "cc",
            vec![Located {
                value: axis::cc::Request::Default.to_string(),
                span: SourceSpan::new(0.into(), 0),
            }],
        );
    }
}

/// load's YAML error, with the hint about variables made true of snippets,
/// where they sit under a top-level `env:`.
fn snippet_yaml_error(source: &Source, e: &serde_saphyr::Error) -> Error {
    match load::yaml_error(source, e) {
        Error::Input(mut ie) if ie.help.as_deref().is_some_and(|h| h.contains("matrix.env")) => {
            let var = ie
                .message
                .split('`')
                .nth(1)
                .unwrap_or("GOARM")
                .to_ascii_uppercase();
            ie.help = Some(format!(
                "variables such as {var} go under `env:`, e.g. `env: {{{var}: \"...\"}}`"
            ));
            Error::Input(ie)
        }
        other => other,
    }
}

/// A stranger's bound (`run.processes`, `run.memory`; `None` is `none`):
/// it may lower the default, never raise or lift it, with or without
/// --trust, which vouches for what the snippet runs, not for how much of
/// the host it may take (a fork flood would starve the host of pids, a hog
/// of memory).
fn at_most(asked: Option<u64>, most: u64) -> Option<u64> {
    Some(asked.map_or(most, |n| n.min(most)))
}

/// Refuses a snippet whose build would read a file outside the cell's
/// directory: an absolute or `..` path in its flags, ldflags, tags or env
/// values, or in a `#include`, `#cgo` or `//go:embed` line of its sources.
/// A stranger's `-extldflags=@/home/you/.ssh/id_rsa` would have the linker
/// quote the file in its error, into the report.
fn confined(m: &Matrix) -> miette::Result<()> {
    let help = || {
        Some(
            "a snippet's build reads only its own files: put the file under `files:` and \
             name it relatively (in cgo, as ${SRCDIR}/name)"
                .to_string(),
        )
    };
    let values = ["ldflags", "tags", "flags"]
        .iter()
        .filter_map(|k| m.axes.get(k))
        .chain(m.env.values())
        .flatten();
    for v in values {
        if let Some(path) = outside_path(&v.value) {
            let msg = format!("the snippet names {path:?}, outside the cell's directory");
            let e = InputError::new(&m.source, v.span, msg, "this value", help());
            return Err(Error::from(e).into());
        }
    }
    // A go.mod's `replace X => DIR`: `go mod tidy`, which completes the
    // go.sum outside the sandbox, would read DIR's go.mod and sources.
    let replaced = own_files(m)
        .filter(|(name, _)| name.as_str() == "go.mod")
        .flat_map(|(_, text)| text.lines())
        .filter_map(|l| l.split_once("=>").map(|(_, dir)| dir));
    for line in directives(m).chain(replaced) {
        if let Some(path) = outside_path(line) {
            let at = m.source.text.find(path).unwrap_or(0);
            let span = SourceSpan::new(at.into(), path.len());
            let msg = format!("the snippet's source names {path:?}, outside the cell's directory");
            let e = InputError::new(&m.source, span, msg, "here", help());
            return Err(Error::from(e).into());
        }
    }
    Ok(())
}

/// Variables that choose a program the build or the runner starts, or
/// where the toolchain reads and writes: a snippet sets them only with
/// `--trust`. (The cc axis says which compiler; the go axis which Go.)
const PROGRAM_VARS: [&str; 27] = [
    "CC",
    "CXX",
    "FC",
    "AR",
    "CPP",
    "LD",
    "PKG_CONFIG",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOROOT",
    "GOPATH",
    "GOENV",
    "GOCACHE",
    "GOMODCACHE",
    "GOPROXY",
    "GOSUMDB",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GONOPROXY",
    "GOPRIVATE",
    "GOINSECURE",
    "GOWORK",
    "GOAUTH",
    "GOTMPDIR",
    "PATH",
    "BASH_ENV",
    "ENV",
];

/// Prefixes of such variables: the dynamic loader's, the runners'.
const PROGRAM_PREFIXES: [&str; 5] = ["LD_", "DYLD_", "WINE", "QEMU_", "ZIG_"];

/// Refuses a snippet that names a program to run at build time: a `cc`
/// that is a command rather than a compiler of the known set (auto,
/// default, gcc, clang, zig, or a cross gcc found on PATH), a variable of
/// [`PROGRAM_VARS`], or a flag of [`PROGRAM_FLAGS`](crate::toolchain::flags::PROGRAM_FLAGS) in its flags, ldflags,
/// CGO_*FLAGS or `#cgo` lines. Such a program would run whatever the
/// snippet's author chose; `--trust` lets it, inside the build's sandbox.
/// The sandbox is the first line; this says early and clearly why.
fn runs_no_program(m: &Matrix) -> miette::Result<()> {
    let refuse = |span: SourceSpan, what: String| -> miette::Result<()> {
        let msg = format!("the snippet {what}, which would run a program of its choosing");
        let help = Some(
            "a snippet builds with the known compilers (auto, default, gcc, clang, zig, or \
             a cross gcc on PATH); if you have read it and mean to run it, pass --trust \
             (it still runs in the sandbox)"
                .to_string(),
        );
        Err(Error::from(InputError::new(&m.source, span, msg, "here", help)).into())
    };
    for v in m.axes.get("cc").into_iter().flatten() {
        if !known_compiler(&v.value) {
            return refuse(v.span, format!("names the compiler command {:?}", v.value));
        }
    }
    for (name, values) in &m.env {
        // CGO_CFLAGS_ALLOW and its kin lift go's own check of `#cgo` flags
        // (cmd/go/internal/work/security.go), which refuses -wrapper, -B,
        // -fplugin: with it, a `#cgo` line runs what it names.
        let lifts_gos_check = name.starts_with("CGO_") && name.ends_with("_ALLOW");
        let steers = PROGRAM_VARS.contains(&name.as_str())
            || PROGRAM_PREFIXES.iter().any(|p| name.starts_with(p))
            || lifts_gos_check;
        if let (true, Some(v)) = (steers, values.first()) {
            return refuse(v.span, format!("sets {name}"));
        }
    }
    let flag_values = ["ldflags", "flags"]
        .iter()
        .filter_map(|k| m.axes.get(k))
        .chain(
            m.env
                .iter()
                .filter(|(k, _)| k.starts_with("CGO_") && k.ends_with("FLAGS"))
                .map(|(_, v)| v),
        )
        .flatten();
    for v in flag_values {
        if let Some(flag) = program_flag(&v.value) {
            return refuse(v.span, format!("passes {flag}"));
        }
    }
    for line in directives(m).filter(|l| l.starts_with("#cgo")) {
        if let Some(flag) = program_flag(line) {
            let at = m.source.text.find(line).unwrap_or(0);
            return refuse(
                SourceSpan::new(at.into(), line.len()),
                format!("passes {flag}"),
            );
        }
    }
    Ok(())
}

/// Refuses a snippet whose `run.pass_env` asks for the caller's variables
/// (a stranger's snippet must not be handed GITHUB_TOKEN); `--trust` lets it.
fn asks_no_variables(m: &Matrix) -> miette::Result<()> {
    let Some(n) = m.pass_env.first() else {
        return Ok(());
    };
    let msg = format!(
        "the snippet asks for your environment variable{} {:?} (run.pass_env)",
        if n.value.ends_with('*') { "s" } else { "" },
        n.value
    );
    let help = Some(
        "a snippet's builds and probes inherit only what the toolchains read; if you have \
         read it and mean to hand it these variables, pass --trust"
            .to_string(),
    );
    Err(Error::from(InputError::new(&m.source, n.span, msg, "here", help)).into())
}

/// Without `--trust`, as root, a snippet's windows cells are built, not
/// run: its other cells run as nobody (process::user), but wine's server,
/// in the run's jail, runs as the caller, and a root-owned file readable
/// by its owner only (/etc/shadow) would be readable to a windows probe.
/// The build runs in the build's sandbox as every other, so a compile
/// error still reproduces. Returns the note repro prints, when there are
/// such cells.
fn no_wine(m: &mut Matrix) -> Option<String> {
    crate::process::user::RunAs::for_strangers()?;
    let windows = m.values("goos").iter().any(|v| v.value == "windows")
        || m.include
            .iter()
            .any(|e| e.value.get("goos").is_some_and(|v| v.value == "windows"));
    if !windows {
        return None;
    }
    // Last, so that it wins over the snippet's own choice of runner.
    m.runners.push(RunnerOverride {
        pattern: "windows/*".into(),
        runner: RunnerKind::None,
        span: SourceSpan::new(0.into(), 0),
    });
    Some(
        "windows cells are built, not run: as root, wine's jail would run a stranger's \
         windows program as root (see the book's security page); --trust runs them"
            .into(),
    )
}

/// The files of the snippet's own probes, as (name, text).
fn own_files(m: &Matrix) -> impl Iterator<Item = &(String, String)> {
    m.probes
        .iter()
        .filter(|p| !p.shipped())
        .flat_map(|p| p.files.iter())
}

/// The lines of the snippet's files that the preprocessor, cgo or go:embed
/// read, from their directive on: `#include`, `#cgo` and `//go:embed`, also
/// where they sit in a cgo preamble's comment (`// #cgo LDFLAGS: ...`,
/// ` * #include ...`) or with blanks after the `#` (`#  include`).
fn directives(m: &Matrix) -> impl Iterator<Item = &str> {
    own_files(m)
        .flat_map(|(_, text)| text.lines())
        .filter_map(directive)
}

fn directive(line: &str) -> Option<&str> {
    let line = line.trim_start();
    if line.starts_with("//go:embed") {
        return Some(line);
    }
    let code = line.trim_start_matches(|c: char| c == '/' || c == '*' || c.is_whitespace());
    let word = code.strip_prefix('#')?.trim_start();
    ["include", "import", "embed", "cgo"]
        .iter()
        .any(|d| word.starts_with(d))
        .then_some(code)
}

/// A `cc` value of the known set: the names, or one word that is a gcc or
/// clang found on PATH (`aarch64-linux-gnu-gcc`, `clang-17`).
fn known_compiler(value: &str) -> bool {
    match axis::cc::Request::parse(value) {
        Ok(axis::cc::Request::Command(words)) => {
            let [one] = words.as_slice() else {
                return false;
            };
            let compiler = |c: &str| {
                one == c
                    || one.ends_with(&format!("-{c}"))
                    || one
                        .strip_prefix(&format!("{c}-"))
                        .is_some_and(|v| v.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
            };
            !one.contains('/')
                && (compiler("gcc") || compiler("clang"))
                && crate::fsutil::which(one).is_some()
        }
        Ok(_) => true,
        Err(_) => false,
    }
}

/// The first piece of `text` that names a path outside the directory it is
/// read in: absolute, from `~`, or through `..`.
fn outside_path(text: &str) -> Option<&str> {
    let seps = |c: char| c.is_whitespace() || matches!(c, '=' | ',' | '@' | '"' | '\'' | '<' | '>');
    // A C compiler's directory options take the path glued on: -I/usr/x.
    const GLUED: [&str; 9] = [
        "-isystem",
        "-iquote",
        "-idirafter",
        "-include",
        "-imacros",
        "-I",
        "-L",
        "-B",
        "-F",
    ];
    text.split(seps).find(|p| {
        let path = GLUED.iter().find_map(|o| p.strip_prefix(o)).unwrap_or(p);
        path.starts_with('/')
            || path.starts_with('~')
            || path.split(['/', '\\']).any(|segment| segment == "..")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_may_lower_its_bounds_never_raise_or_lift_them() {
        for most in [load::DEFAULT_PROCESSES, load::DEFAULT_MEMORY] {
            assert_eq!(at_most(Some(64), most), Some(64));
            assert_eq!(at_most(Some(most * 8), most), Some(most));
            assert_eq!(at_most(None, most), Some(most));
        }
    }

    #[test]
    fn the_known_compilers_and_nothing_else() {
        for ok in ["auto", "default", "gcc", "clang", "zig"] {
            assert!(known_compiler(ok), "{ok}");
        }
        assert!(known_compiler("gcc-12") || crate::fsutil::which("gcc-12").is_none());
        assert!(!known_compiler("/usr/bin/env sh -c x"));
        assert!(!known_compiler("zig cc -target x86_64-linux-musl"));
        assert!(!known_compiler("/usr/bin/gcc"));
        assert!(!known_compiler("nosuch-linux-gnu-gcc"));
    }

    #[test]
    fn directives_in_a_cgo_preamble_comment_are_directives() {
        assert_eq!(
            directive("// #cgo CFLAGS: -wrapper x"),
            Some("#cgo CFLAGS: -wrapper x")
        );
        assert_eq!(directive(" * #include \"/x\""), Some("#include \"/x\""));
        assert_eq!(directive("#  include <a.h>"), Some("#  include <a.h>"));
        assert_eq!(directive("//go:embed a.txt"), Some("//go:embed a.txt"));
        assert_eq!(directive("// #define X 1"), None);
        assert_eq!(directive("// cgo is off"), None);
    }

    #[test]
    fn paths_outside_the_cells_directory_are_found() {
        assert_eq!(
            outside_path("-extldflags=@/root/.ssh/id_rsa"),
            Some("/root/.ssh/id_rsa")
        );
        assert_eq!(outside_path("-overlay=../x.json"), Some("../x.json"));
        assert_eq!(
            outside_path("#include \"/etc/passwd\""),
            Some("/etc/passwd")
        );
        assert_eq!(outside_path("#cgo CFLAGS: -I~/inc"), Some("-I~/inc"));
        assert_eq!(
            outside_path("#cgo LDFLAGS: -L/opt/lib -lx"),
            Some("-L/opt/lib")
        );
        assert_eq!(outside_path("#cgo CFLAGS: -Iinclude/x"), None);
        assert_eq!(outside_path("-Wl,-rpath,/opt/lib"), Some("/opt/lib"));
        assert_eq!(
            outside_path("-s -w -X main.url=https://example.com/a"),
            None
        );
        assert_eq!(outside_path("#cgo CFLAGS: -I${SRCDIR}/include"), None);
        assert_eq!(outside_path("#include <stdio.h>"), None);
        assert_eq!(outside_path("a..b"), None);
    }
}
