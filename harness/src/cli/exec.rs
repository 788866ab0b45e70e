//! `crossprobe exec BINARY ARGS...` and `crossprobe exec --install DIR`, and
//! crossprobe called as `go_GOOS_GOARCH_exec` (the name the installed
//! wrappers give it).

use std::path::{Path, PathBuf};

use crate::errors::Error;
use crate::model::exit;
use crate::run::exec::{self, ExecError};
use crate::toolchain::go as gotool;

pub const EXEC_HELP: &str = "\
Examples:
  GOARCH=arm64 go test -exec \"crossprobe exec\" ./...     the tests under qemu-aarch64
  crossprobe exec ./hello.exe -v                        a windows binary under wine
  crossprobe exec --install ~/.local/bin                go_GOOS_GOARCH_exec wrappers, so that
  GOOS=windows go test ./...                            runs under wine with no flag at all

The target is read from the binary. The exit status is the binary's own (128 + n when
signal n killed it); 2 with a message when crossprobe cannot run it.";

#[derive(clap::Args)]
#[command(after_help = EXEC_HELP)]
pub struct ExecArgs {
    /// Write go_GOOS_GOARCH_exec wrappers into DIR for every target this
    /// machine can run, instead of running a binary.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    install: Option<PathBuf>,
    /// Run the binary outside the sandbox a cell's probe gets (no network
    /// but loopback, a read-only filesystem, an empty $HOME). The wrappers
    /// read CROSSPROBE_NO_SANDBOX=1 instead.
    #[arg(long, conflicts_with = "install")]
    no_sandbox: bool,
    /// The binary and its arguments, passed on as they are.
    #[arg(
        value_name = "BINARY ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required_unless_present = "install"
    )]
    command: Vec<String>,
}

pub fn main(a: ExecArgs) -> miette::Result<i32> {
    match a.install {
        Some(dir) => install(&dir),
        None => {
            let (binary, args) = a.command.split_first().expect("clap requires BINARY");
            run(Path::new(binary), args, a.no_sandbox)
        }
    }
}

/// crossprobe started under a wrapper's name: everything after argv[0] is
/// the binary and its arguments, as cmd/go passes them. None when argv[0]
/// is not such a name.
pub fn as_wrapper(argv: &[String]) -> Option<i32> {
    exec::wrapper_target(argv.first()?)?;
    let code = match argv.get(1) {
        Some(binary) => run(Path::new(binary), &argv[2..], false),
        None => Err(usage(
            format!("{} needs a binary to run", argv[0]),
            "cmd/go calls it as `go_GOOS_GOARCH_exec BINARY ARGS...`",
        )
        .into()),
    };
    Some(code.unwrap_or_else(|report| {
        crate::errors::eprint(&report);
        crate::errors::Error::exit_code_of(&report)
    }))
}

fn run(binary: &Path, args: &[String], no_sandbox: bool) -> miette::Result<i32> {
    exec::exec(binary, args, no_sandbox).map_err(|e| report(e).into())
}

fn install(dir: &Path) -> miette::Result<i32> {
    let go = gotool::local().map_err(|e| Error::Toolchain {
        message: e.to_string(),
        help: Some("the targets come from `go tool dist list`".into()),
    })?;
    let exe = std::env::current_exe().map_err(|e| {
        usage(
            format!("cannot tell where the crossprobe binary is: {e}"),
            "run crossprobe by its path",
        )
    })?;
    let targets: Vec<(String, String)> = go
        .targets
        .values()
        .map(|t| (t.goos.clone(), t.goarch.clone()))
        .collect();
    let host = crate::host::detect();
    let tools = crate::host::discover(Some(&go.goroot));
    let installed = exec::install(dir, &exe, &targets, &host, &tools)
        .map_err(|e| miette::Report::from(report(e)))?;
    for i in &installed {
        println!("{}  {} under {}", i.path.display(), i.target, i.runner);
    }
    if installed.is_empty() {
        eprintln!("no wrapper written: this machine has no runner for any other target");
    } else if !on_path(dir) {
        eprintln!(
            "note: {} is not on PATH; cmd/go finds the wrappers only there",
            dir.display()
        );
    }
    Ok(exit::OK)
}

fn on_path(dir: &Path) -> bool {
    let want = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| std::fs::canonicalize(&d).unwrap_or(d) == want)
    })
}

fn report(e: ExecError) -> Error {
    Error::Usage {
        message: e.message,
        help: e.help,
    }
}

fn usage(message: String, help: &str) -> Error {
    Error::Usage {
        message,
        help: Some(help.to_string()),
    }
}
