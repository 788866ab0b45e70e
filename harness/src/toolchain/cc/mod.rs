//! C compilers: which one a cell builds with, from its `cc` axis (`auto`,
//! `gcc`, `clang`, `zig` or a compiler command) and its target.
//!
//! [`Compilers::discover`] resolves every (target, request) the cells need
//! once per run and reads each compiler's version once; build reads the
//! answer. `auto` means:
//! - linux: the Debian cross gcc for the target (`aarch64-linux-gnu-gcc`,
//!   ...; the host's own `gcc` for the host's target);
//! - windows: mingw-w64 (`x86_64-w64-mingw32-gcc`, `i686-w64-mingw32-gcc`);
//! - darwin: `zig cc -target <arch>-macos` (clang on a Mac).
//!
//! `zig` targets musl on linux, mingw on windows and macOS on darwin.
//! `default` leaves CC unset, so Go picks its own (`go env CC`, the host's
//! gcc), as in a user's shell: that is how golang/go#16801 happens.
//! A compiler that is missing is an `Err` holding the hint a user needs:
//! "no C compiler for linux/riscv64: install gcc-riscv64-linux-gnu, or use
//! cc: zig". Never a raw gcc error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::axis::cc::Request;
use crate::fsutil::which;
use crate::host::Host;
use crate::model::{Cell, Lang};
use crate::process;

mod targets;
use targets::{clang_triple, debian_triples, zig_triple};
pub use targets::{
    debian_gcc, dumpmachine, dumpmachine_in, go_env_cc, serves, set_cc_hint, triple_target,
    zig_target,
};

/// What kind of compiler a cell got; decides the flags crossprobe adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Gcc,
    Clang,
    Zig,
    /// A command the matrix named.
    Command,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gcc => "gcc",
            Kind::Clang => "clang",
            Kind::Zig => "zig",
            Kind::Command => "command",
        }
    }
}

/// A resolved C compiler for one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiler {
    pub kind: Kind,
    /// CC as an argv: `["aarch64-linux-gnu-gcc"]`,
    /// `["zig", "cc", "-target", "aarch64-macos"]`. Go splits CC on spaces,
    /// so `cc.join(" ")` is what CC is set to.
    pub cc: Vec<String>,
    /// CXX to match, when one exists.
    pub cxx: Option<Vec<String>>,
    /// The first line of its version output.
    pub version: String,
    /// Set for every build with it (zig's cache).
    pub env: BTreeMap<String, String>,
    /// Linker flags it needs, for cgo (CGO_LDFLAGS) and for C links.
    pub ldflags: Vec<String>,
    /// Words Go's `-ldflags` needs with this compiler as external linker.
    pub go_ldflags: Vec<String>,
}

/// The compilers of a run, by target and request.
#[derive(Clone, Debug, Default)]
pub struct Compilers {
    map: BTreeMap<Key, Result<Compiler, String>>,
    /// For each missing compiler, the CC it would be once installed: what
    /// Go is asked to build with, so that Go speaks first.
    would: BTreeMap<Key, Vec<String>>,
    /// Where there is none because a compiler doctor can install is
    /// missing: its program (a Debian cross gcc, zig).
    missing: BTreeMap<Key, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    goos: String,
    goarch: String,
    request: Request,
    /// GOARM=5 or GOMIPS=softfloat: the C side must be soft-float too.
    soft_float: bool,
    /// MACOSX_DEPLOYMENT_TARGET, for a darwin cell: the oldest macOS its
    /// binary must load on. clang reads the variable; zig does not (0.17
    /// links for macOS 15 unless its `-target` names a version, and ignores
    /// `-mmacosx-version-min` too), so crossprobe puts it in zig's target.
    macos_min: Option<String>,
}

impl Key {
    fn of(cell: &Cell) -> Key {
        let soft_float = cell.env.get("GOARM").is_some_and(|v| v.starts_with('5'))
            || cell.env.get("GOMIPS").is_some_and(|v| v == "softfloat");
        Key {
            goos: cell.goos.clone(),
            goarch: cell.goarch.clone(),
            request: request(cell),
            soft_float,
            macos_min: match cell.goos.as_str() {
                "darwin" => cell.env.get("MACOSX_DEPLOYMENT_TARGET").cloned(),
                _ => None,
            },
        }
    }
}

/// The compiler a cell asks for. A CC env axis is a compiler command too:
/// it reaches the build after the cc axis, so it is what really runs.
pub fn request(cell: &Cell) -> Request {
    match (cell.cc.as_str(), cell.env.get("CC")) {
        ("auto" | "", Some(cc)) if !cc.trim().is_empty() => Request::Command(words(cc)),
        (cc, _) => Request::of_checked(cc),
    }
}

/// True when crossprobe chooses the cell's C compiler and the cell may use
/// one: C probes, cgo other than 0, and the host program of c-archive and
/// c-shared.
pub fn wanted(cell: &Cell) -> bool {
    request(cell) != Request::Default && chooses(cell)
}

fn chooses(cell: &Cell) -> bool {
    cell.lang == Lang::C
        || cell.cgo != "0"
        || matches!(cell.buildmode.as_str(), "c-archive" | "c-shared")
}

const VERSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a cell has no C compiler.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoCompiler {
    /// What resolving the cell's `cc` found: no such program, one for
    /// another target, one that does not run; with the hint.
    #[error("{0}")]
    Resolved(String),
    /// `cc: default` where crossprobe itself compiles C.
    #[error("cc: default leaves the C compiler to Go, and {needs} needs one named: use cc: auto")]
    Default { needs: &'static str },
    #[error("no C compiler was resolved for {target} (cc: {cc})")]
    Unresolved { target: String, cc: String },
}

impl Compilers {
    /// Resolves the compiler of every cell that may use one. Runs one
    /// version query per distinct compiler; writes zig's darwin stubs under
    /// `cache` when a darwin cell needs them.
    pub fn discover(cells: &[Cell], host: &Host, cache: &Path) -> Compilers {
        let mut map = BTreeMap::new();
        let mut would = BTreeMap::new();
        let mut missing = BTreeMap::new();
        let mut versions: BTreeMap<Vec<String>, Result<String, String>> = BTreeMap::new();
        for cell in cells.iter().filter(|c| wanted(c)) {
            let key = Key::of(cell);
            if map.contains_key(&key) {
                continue;
            }
            let resolved = resolve(&key, host, &|name| which(name));
            if resolved.is_err() {
                if let Some(tool) = installable(&key, host).filter(|t| which(t).is_none()) {
                    missing.insert(key.clone(), tool);
                }
            }
            let found = resolved.and_then(|c| {
                let version = versions
                    .entry(version_argv(&c))
                    .or_insert_with_key(|argv| read_version(argv))
                    .clone()?;
                finish(c, version, cache)
            });
            if found.is_err() {
                if let Ok(c) = resolve(&key, host, &|name| Some(PathBuf::from(name))) {
                    would.insert(key.clone(), c.cc);
                }
            }
            map.insert(key, found);
        }
        Compilers {
            map,
            would,
            missing,
        }
    }

    /// The CC a cell whose compiler is missing would build with once it is
    /// installed (`mips64el-linux-gnuabi64-gcc`); None when it has one, or
    /// when no compiler is known for its target.
    pub fn would_use(&self, cell: &Cell) -> Option<&[String]> {
        self.would.get(&Key::of(cell)).map(Vec::as_slice)
    }

    /// The compiler program whose absence is why the cell has none, when
    /// doctor can install it (host::install).
    pub fn missing(&self, cell: &Cell) -> Option<&str> {
        self.missing.get(&Key::of(cell)).map(String::as_str)
    }

    /// The cell's compiler, or why it has none.
    pub fn for_cell(&self, cell: &Cell) -> Result<&Compiler, NoCompiler> {
        match self.map.get(&Key::of(cell)) {
            Some(Ok(c)) => Ok(c),
            Some(Err(why)) => Err(NoCompiler::Resolved(why.clone())),
            None if request(cell) == Request::Default => Err(NoCompiler::Default {
                needs: if cell.lang == Lang::C {
                    "a C probe"
                } else {
                    "the C host program of c-archive and c-shared"
                },
            }),
            None => Err(NoCompiler::Unresolved {
                target: cell.target(),
                cc: request(cell).to_string(),
            }),
        }
    }

    /// CC → version, for results.json's `tools`.
    pub fn versions(&self) -> BTreeMap<String, String> {
        self.map
            .values()
            .filter_map(|c| c.as_ref().ok())
            .map(|c| (c.cc.join(" "), c.version.clone()))
            .collect()
    }
}

/// A compiler chosen but not yet asked for its version.
#[derive(Debug, PartialEq, Eq)]
struct Choice {
    kind: Kind,
    cc: Vec<String>,
    cxx: Option<Vec<String>>,
    darwin_stubs: bool,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// What `auto` means for a key on this host.
fn effective<'a>(key: &'a Key, host: &Host) -> &'a Request {
    match &key.request {
        Request::Auto if key.goos == "darwin" && host.goos != "darwin" => &Request::Zig,
        Request::Auto if key.goos == "darwin" => &Request::Clang,
        Request::Auto => &Request::Gcc,
        other => other,
    }
}

/// The program that would serve a gcc or zig request once installed.
fn installable(key: &Key, host: &Host) -> Option<String> {
    match effective(key, host) {
        Request::Gcc if key.goos == "linux" => debian_triples(&key.goarch, key.soft_float)
            .first()
            .map(|t| format!("{t}-gcc")),
        Request::Gcc => debian_gcc(&key.goos, &key.goarch).map(|(bin, _)| bin),
        Request::Zig => {
            zig_triple(&key.goos, &key.goarch, key.soft_float).map(|_| "zig".to_string())
        }
        _ => None,
    }
}

/// Picks the compiler for a key. `which` finds a program on PATH.
fn resolve(
    key: &Key,
    host: &Host,
    which: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<Choice, String> {
    let target = format!("{}/{}", key.goos, key.goarch);
    let native = key.goos == host.goos && key.goarch == host.goarch;
    let request = effective(key, host);
    let have = |name: &str| which(name).is_some();
    match request {
        Request::Gcc => {
            let (candidates, package): (Vec<String>, String) = match key.goos.as_str() {
                "linux" => {
                    let triples = debian_triples(&key.goarch, key.soft_float);
                    let Some(first) = triples.first() else {
                        return Err(format!(
                            "no C compiler for {target}: Debian has no gcc for it; use cc: zig"
                        ));
                    };
                    let mut c: Vec<String> = triples.iter().map(|t| format!("{t}-gcc")).collect();
                    if native {
                        c.push("gcc".into());
                    }
                    let package = if native {
                        "gcc".to_string()
                    } else {
                        crate::host::install::cross_gcc_package(first)
                    };
                    (c, package)
                }
                "windows" => match debian_gcc(&key.goos, &key.goarch) {
                    Some((bin, package)) => (vec![bin], package),
                    None => {
                        return Err(format!(
                            "no C compiler for {target}: mingw-w64's gcc has no {} target; use cc: zig",
                            key.goarch
                        ))
                    }
                },
                "darwin" => {
                    return Err(format!(
                        "no C compiler for {target}: gcc does not target macOS here; use cc: zig (or auto)"
                    ))
                }
                _ if native => (vec!["gcc".into(), "cc".into()], "gcc".into()),
                _ => {
                    return Err(format!(
                        "no C compiler known for {target}: name one with cc: COMMAND"
                    ))
                }
            };
            let Some(cc) = candidates.iter().find(|c| have(c)) else {
                return Err(format!(
                    "no C compiler for {target}: install {package}, or use cc: zig"
                ));
            };
            let cxx = cc
                .strip_suffix("gcc")
                .map(|p| format!("{p}g++"))
                .filter(|x| have(x))
                .map(|x| vec![x]);
            Ok(Choice {
                kind: Kind::Gcc,
                cc: vec![cc.clone()],
                cxx,
                darwin_stubs: false,
            })
        }
        Request::Clang => {
            if !have("clang") {
                return Err(format!(
                    "no C compiler for {target}: clang is not on PATH (Debian: install clang), or use cc: zig"
                ));
            }
            let mut cc = vec!["clang".to_string()];
            if !native {
                let triple =
                    clang_triple(&key.goos, &key.goarch, key.soft_float).ok_or_else(|| {
                        format!("no C compiler for {target}: no clang target known for it")
                    })?;
                cc.push(format!("--target={triple}"));
            }
            let mut cxx = cc.clone();
            cxx[0] = "clang++".into();
            Ok(Choice {
                kind: Kind::Clang,
                cxx: have("clang++").then_some(cxx),
                cc,
                darwin_stubs: false,
            })
        }
        Request::Zig => {
            let mut triple = zig_triple(&key.goos, &key.goarch, key.soft_float)
                .ok_or_else(|| format!("no C compiler for {target}: zig cc has no libc for it"))?;
            if let Some(min) = key.macos_min.as_deref().filter(|v| !v.is_empty()) {
                triple = format!("{triple}.{min}");
            }
            if !have("zig") {
                return Err(format!(
                    "no C compiler for {target}: zig is not on PATH; `crossprobe doctor --fix` installs it"
                ));
            }
            let argv = |mode: &str| words(&format!("zig {mode} -target {triple}"));
            Ok(Choice {
                kind: Kind::Zig,
                cc: argv("cc"),
                cxx: Some(argv("c++")),
                darwin_stubs: key.goos == "darwin",
            })
        }
        // Never resolved: `wanted` leaves cc: default to Go.
        Request::Auto | Request::Default => Err(format!(
            "no C compiler for {target}: cc: default leaves it to Go"
        )),
        Request::Command(cc) => {
            let cc = cc.clone();
            let Some(first) = cc.first() else {
                return Err(format!("no C compiler for {target}: cc is empty"));
            };
            let found = if first.contains('/') {
                Path::new(first).is_file()
            } else {
                have(first)
            };
            if !found {
                return Err(format!(
                    "no C compiler for {target}: `{first}` is not on PATH"
                ));
            }
            let cxx_name = [("gcc", "g++"), ("clang", "clang++"), ("cc", "c++")]
                .iter()
                .find_map(|(c, x)| first.strip_suffix(c).map(|p| format!("{p}{x}")));
            let cxx = cxx_name.filter(|x| have(x)).map(|x| {
                let mut v = cc.clone();
                v[0] = x;
                v
            });
            Ok(Choice {
                kind: Kind::Command,
                cc,
                cxx,
                darwin_stubs: false,
            })
        }
    }
}

fn version_argv(c: &Choice) -> Vec<String> {
    match c.kind {
        Kind::Zig => vec!["zig".into(), "version".into()],
        _ => vec![c.cc[0].clone(), "--version".into()],
    }
}

fn read_version(argv: &[String]) -> Result<String, String> {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out =
        process::query(&args, &BTreeMap::new(), VERSION_TIMEOUT).map_err(|e| e.to_string())?;
    Ok(out.lines().next().unwrap_or("").trim().to_string())
}

fn finish(c: Choice, version: String, cache: &Path) -> Result<Compiler, String> {
    let mut env = BTreeMap::new();
    let mut ldflags = Vec::new();
    let mut go_ldflags = Vec::new();
    if c.kind == Kind::Zig {
        // zig builds each target's libc into this cache on first use
        // (~100 s); a stable place keeps that to once per machine.
        let zig_cache = cache.join("zig").display().to_string();
        env.insert("ZIG_GLOBAL_CACHE_DIR".to_string(), zig_cache.clone());
        env.insert("ZIG_LOCAL_CACHE_DIR".to_string(), zig_cache);
    }
    if c.darwin_stubs {
        let dir = darwin_stubs(&cache.join("zig-darwin-stubs"))?;
        ldflags.push(format!("-L{dir}"));
        ldflags.push(format!("-F{dir}"));
        // Go runs dsymutil and strip on a darwin external link unless DWARF
        // is off; neither understands zig's output (ziglang/zig#11303).
        go_ldflags.push("-w".to_string());
    }
    Ok(Compiler {
        kind: c.kind,
        cc: c.cc,
        cxx: c.cxx,
        version,
        env,
        ldflags,
        go_ldflags,
    })
}

/// Writes the text stubs that let zig link Go for macOS: Go's runtime asks
/// for `-framework CoreFoundation` and `-lresolv` (golang/go#58159), which
/// zig does not ship (ziglang/zig#11041). The binary still binds them from
/// the real macOS at run time. Returns the directory.
fn darwin_stubs(dir: &Path) -> Result<String, String> {
    let files = [
        ("libresolv.tbd", "/usr/lib/libresolv.9.dylib"),
        (
            "CoreFoundation.framework/CoreFoundation.tbd",
            "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
        ),
    ];
    for (rel, install_name) in files {
        let path = dir.join(rel);
        let text = format!(
            "--- !tapi-tbd\ntbd-version: 4\ntargets: [ x86_64-macos, arm64-macos ]\n\
             install-name: '{install_name}'\ncurrent-version: 1\ncompatibility-version: 1\n...\n"
        );
        if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
            continue;
        }
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        // Whole or not at all: another crossprobe may be linking with it.
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(dir.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            goos: "linux".into(),
            goarch: "amd64".into(),
            kernel: String::new(),
            cpu: String::new(),
            runner: String::new(),
        }
    }

    fn key(goos: &str, goarch: &str, request: &str) -> Key {
        Key {
            goos: goos.into(),
            goarch: goarch.into(),
            request: Request::of_checked(request),
            soft_float: false,
            macos_min: None,
        }
    }

    /// The development machine: Debian cross gccs for four targets, mingw,
    /// zig; no clang.
    fn debian(name: &str) -> Option<PathBuf> {
        let have = [
            "gcc",
            "x86_64-linux-gnu-gcc",
            "aarch64-linux-gnu-gcc",
            "aarch64-linux-gnu-g++",
            "arm-linux-gnueabihf-gcc",
            "i686-linux-gnu-gcc",
            "riscv64-linux-gnu-gcc",
            "x86_64-w64-mingw32-gcc",
            "i686-w64-mingw32-gcc",
            "zig",
        ];
        have.contains(&name)
            .then(|| PathBuf::from("/usr/bin").join(name))
    }

    fn cc(goos: &str, goarch: &str, request: &str) -> Result<String, String> {
        resolve(&key(goos, goarch, request), &host(), &debian).map(|c| c.cc.join(" "))
    }

    /// The hint names Debian's package, whose name has `-` where the
    /// triple has `_` (gcc-x86-64-linux-gnu).
    #[test]
    fn a_missing_cross_gcc_names_debians_package() {
        let arm64 = Host {
            goarch: "arm64".into(),
            ..host()
        };
        let err = resolve(&key("linux", "amd64", "gcc"), &arm64, &|_| None).unwrap_err();
        assert_eq!(
            err,
            "no C compiler for linux/amd64: install gcc-x86-64-linux-gnu, or use cc: zig"
        );
    }

    #[test]
    fn auto_picks_the_cross_compiler() {
        assert_eq!(
            cc("linux", "amd64", "auto").unwrap(),
            "x86_64-linux-gnu-gcc"
        );
        assert_eq!(
            cc("linux", "arm64", "auto").unwrap(),
            "aarch64-linux-gnu-gcc"
        );
        assert_eq!(
            cc("linux", "arm", "auto").unwrap(),
            "arm-linux-gnueabihf-gcc"
        );
        assert_eq!(cc("linux", "386", "auto").unwrap(), "i686-linux-gnu-gcc");
        assert_eq!(
            cc("windows", "amd64", "auto").unwrap(),
            "x86_64-w64-mingw32-gcc"
        );
        assert_eq!(cc("windows", "386", "gcc").unwrap(), "i686-w64-mingw32-gcc");
        assert_eq!(
            cc("darwin", "arm64", "auto").unwrap(),
            "zig cc -target aarch64-macos"
        );
        let arm64 = resolve(&key("linux", "arm64", "auto"), &host(), &debian).unwrap();
        assert_eq!(arm64.cxx, Some(vec!["aarch64-linux-gnu-g++".to_string()]));
        assert!(!arm64.darwin_stubs);
    }

    #[test]
    fn zig_targets_musl_mingw_and_macos() {
        assert_eq!(
            cc("linux", "arm64", "zig").unwrap(),
            "zig cc -target aarch64-linux-musl"
        );
        assert_eq!(
            cc("linux", "arm", "zig").unwrap(),
            "zig cc -target arm-linux-musleabihf"
        );
        assert_eq!(
            cc("windows", "arm64", "zig").unwrap(),
            "zig cc -target aarch64-windows-gnu"
        );
        assert_eq!(
            cc("darwin", "amd64", "zig").unwrap(),
            "zig cc -target x86_64-macos"
        );
        let soft = Key {
            soft_float: true,
            ..key("linux", "arm", "zig")
        };
        assert_eq!(
            resolve(&soft, &host(), &debian).unwrap().cc.join(" "),
            "zig cc -target arm-linux-musleabi"
        );
        assert!(
            resolve(&key("darwin", "arm64", "zig"), &host(), &debian)
                .unwrap()
                .darwin_stubs
        );
        // MACOSX_DEPLOYMENT_TARGET, which zig itself ignores, names the
        // macOS in zig's target.
        let floor = Key {
            macos_min: Some("12.0".into()),
            ..key("darwin", "arm64", "auto")
        };
        assert_eq!(
            resolve(&floor, &host(), &debian).unwrap().cc.join(" "),
            "zig cc -target aarch64-macos.12.0"
        );
    }

    #[test]
    fn missing_compilers_say_what_to_install() {
        insta::assert_snapshot!(cc("linux", "ppc64le", "auto").unwrap_err(), @"no C compiler for linux/ppc64le: install gcc-powerpc64le-linux-gnu, or use cc: zig");
        insta::assert_snapshot!(cc("windows", "arm64", "auto").unwrap_err(), @"no C compiler for windows/arm64: mingw-w64's gcc has no arm64 target; use cc: zig");
        insta::assert_snapshot!(cc("linux", "arm64", "clang").unwrap_err(), @"no C compiler for linux/arm64: clang is not on PATH (Debian: install clang), or use cc: zig");
        insta::assert_snapshot!(cc("linux", "arm64", "my-cross-gcc -O1").unwrap_err(), @"no C compiler for linux/arm64: `my-cross-gcc` is not on PATH");
        insta::assert_snapshot!(cc("darwin", "arm64", "gcc").unwrap_err(), @"no C compiler for darwin/arm64: gcc does not target macOS here; use cc: zig (or auto)");
        insta::assert_snapshot!(cc("freebsd", "amd64", "zig").unwrap_err(), @"no C compiler for freebsd/amd64: zig cc has no libc for it");
        let nozig = |n: &str| debian(n).filter(|_| n != "zig");
        insta::assert_snapshot!(resolve(&key("darwin", "arm64", "auto"), &host(), &nozig).unwrap_err(), @"no C compiler for darwin/arm64: zig is not on PATH; `crossprobe doctor --fix` installs it");
    }

    #[test]
    fn explicit_commands_keep_their_words() {
        let c = resolve(
            &key("linux", "arm64", "aarch64-linux-gnu-gcc -O1"),
            &host(),
            &debian,
        )
        .unwrap();
        assert_eq!(c.kind, Kind::Command);
        assert_eq!(c.cc, ["aarch64-linux-gnu-gcc", "-O1"]);
        assert_eq!(c.cxx.unwrap(), ["aarch64-linux-gnu-g++", "-O1"]);
    }

    #[test]
    fn requests() {
        for ok in [
            "auto",
            "default",
            "zig",
            "aarch64-linux-gnu-gcc",
            "clang-17",
            "gcc-12",
            "/opt/cross/bin/arm-gcc",
            "zig cc -target x86_64-linux-musl",
            "cc",
        ] {
            assert!(Request::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["zgi", "gnu", "msvc", "gcc-twelve", "zig c++"] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
        assert!(Request::parse("zgi")
            .unwrap_err()
            .to_string()
            .ends_with("did you mean \"zig\"?"));
    }

    #[test]
    fn darwin_stubs_are_written_once_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let d = darwin_stubs(dir.path()).unwrap();
        let tbd = Path::new(&d).join("libresolv.tbd");
        let text = std::fs::read_to_string(&tbd).unwrap();
        assert!(text.contains("/usr/lib/libresolv.9.dylib"));
        assert!(Path::new(&d)
            .join("CoreFoundation.framework/CoreFoundation.tbd")
            .is_file());
        assert_eq!(darwin_stubs(dir.path()).unwrap(), d);
    }
}
