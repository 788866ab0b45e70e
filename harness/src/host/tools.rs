//! The emulators and runtimes a runner can use, found once per run:
//! qemu-user (and the CPU models each knows), wine, node with Go's
//! wasm_exec_node.js, a WASI runtime, Rosetta. Only tools that answered
//! their `--version` ([`super::versions`]) count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::versions::{ask_all, Query};
use super::{cache_dir, SHARE_DIR};
use crate::fsutil::{file_name, is_executable, which};

/// A wine installation crossprobe can drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wine {
    /// The loader for 64-bit programs: `wine64`, or `wine` in builds that
    /// have no separate wine64.
    pub loader64: PathBuf,
    /// A loader that really runs 32-bit programs, when there is one.
    pub loader32: Option<PathBuf>,
    /// The wineserver that belongs to the loader.
    pub server: PathBuf,
    /// `wine --version`, e.g. `wine-8.0 (Debian 8.0~repack-4)`.
    pub version: String,
    /// crossprobe's own prefix, so the user's ~/.wine is never touched.
    pub prefix: PathBuf,
    /// ProcessPrng stubs built by scripts/setup (harness/templates/wine).
    pub stub_x86_64: Option<PathBuf>,
    pub stub_i686: Option<PathBuf>,
}

/// A WASI runtime: wazero or wasmtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wasi {
    /// `wazero` or `wasmtime`: what [`crate::model::Runner::Wasi`] names.
    pub name: String,
    pub path: PathBuf,
}

/// Everything the run phase may use, found once per run. Fields are public
/// so that a caller (or a test) can point one elsewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tools {
    /// qemu-user emulators by binary name (`qemu-aarch64`).
    pub qemu: BTreeMap<String, PathBuf>,
    /// The CPU models each qemu-user has (`qemu-riscv64 -cpu help`), read
    /// once per run; a qemu missing here could not be asked.
    pub qemu_cpus: BTreeMap<String, Vec<String>>,
    pub wine: Option<Wine>,
    pub node: Option<PathBuf>,
    /// `node --version`, e.g. `v20.20.2`.
    pub node_version: Option<String>,
    /// Go's wasm_exec_node.js for the GOROOT given to [`discover`]. It must
    /// come from the same Go release that built the binary.
    pub wasm_exec_node: Option<PathBuf>,
    pub wasi: Option<Wasi>,
    /// True when macOS can run x86_64 binaries through Rosetta 2.
    pub rosetta: bool,
    /// crossprobe's cache: wine prefix, wazero's compilation cache.
    pub cache_dir: PathBuf,
    pub(crate) versions: BTreeMap<String, String>,
}

impl Tools {
    /// Tool name (`qemu-aarch64`, `wine64`, `node`, ...) → first line of its
    /// version output: what results.json records under `tools`.
    pub fn versions(&self) -> BTreeMap<String, String> {
        self.versions.clone()
    }
}

/// Go's wasm_exec_node.js in a GOROOT: `lib/wasm` since Go 1.24, `misc/wasm`
/// before. It `require`s `./wasm_exec.js`, so it must run from where it is.
pub fn wasm_exec_node(goroot: &Path) -> Option<PathBuf> {
    ["lib/wasm/wasm_exec_node.js", "misc/wasm/wasm_exec_node.js"]
        .iter()
        .map(|p| goroot.join(p))
        .find(|p| p.is_file())
}

/// Finds every runner's tools. `goroot` locates wasm_exec_node.js; without
/// it, `$GOROOT` or the `go` on PATH is asked (by path, not by running it).
pub fn discover(goroot: Option<&Path>) -> Tools {
    discover_some(goroot, None)
}

/// [`discover`], asking only the tools a runner of `goos/goarch` could be
/// (qemu for that arch, or wine, or node, or a WASI runtime): a run of one
/// binary (`crossprobe exec`) need not start a dozen `--version`s.
pub fn discover_for(goroot: Option<&Path>, goos: &str, goarch: &str) -> Tools {
    let one = BTreeSet::from([(goos.to_string(), goarch.to_string())]);
    discover_some(goroot, Some(&one))
}

/// [`discover`], asking only the tools a runner of one of `targets`
/// (`goos`, `goarch`) could be: a run of a few linux targets need not start
/// every qemu, wine and node.
pub fn discover_targets(goroot: Option<&Path>, targets: &BTreeSet<(String, String)>) -> Tools {
    discover_some(goroot, Some(targets))
}

fn discover_some(goroot: Option<&Path>, only: Option<&BTreeSet<(String, String)>>) -> Tools {
    let wants = |os: &str, arch: Option<&str>| {
        only.is_none_or(|set| {
            set.iter()
                .any(|(o, a)| o == os && arch.is_none_or(|arch| arch == a))
        })
    };
    let mut queries: Vec<Query> = Vec::new();

    let mut qemu = BTreeMap::new();
    let arches = crate::target::ARCHES.iter();
    for arch in arches
        .filter(|a| wants("linux", Some(a.goarch)))
        .filter_map(|a| a.qemu)
    {
        let name = format!("qemu-{arch}");
        if let Some(path) = which(&name) {
            queries.push(Query::new(&name, &path, &["--version"]));
            // qemu-user 7.2 lists its models, then exits 1.
            let mut cpus = Query::new(&cpu_key(&name), &path, &["-cpu", "help"]);
            cpus.any_status = true;
            queries.push(cpus);
            qemu.insert(name, path);
        }
    }

    let wine = find_wine().filter(|_| wants("windows", None));
    if let Some(w) = &wine {
        for l in std::iter::once(&w.loader64).chain(&w.loader32_candidates) {
            queries.push(Query::new(&loader_key(l), l, &["--version"]));
        }
    }

    let node = which("node").filter(|_| wants("js", Some("wasm")));
    if let Some(n) = &node {
        queries.push(Query::new("node", n, &["--version"]));
    }

    // wazero first: it is what scripts/setup installs, and it caches
    // compiled modules across runs (-cachedir).
    let wasi = [("wazero", "version"), ("wasmtime", "--version")]
        .iter()
        .filter(|_| wants("wasip1", Some("wasm")))
        .find_map(|(name, arg)| {
            let path = which(name)?;
            queries.push(Query::new(name, &path, &[arg]));
            Some(Wasi {
                name: name.to_string(),
                path,
            })
        });

    let results = ask_all(queries);
    let ok = |key: &str| {
        let text = results.get(key)?.as_deref()?;
        let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        Some(line.to_string())
    };

    // Only tools that answered count, under the names runners use.
    qemu.retain(|name, _| ok(name).is_some());
    let qemu_cpus = qemu
        .keys()
        .filter_map(|name| {
            let text = results.get(&cpu_key(name))?.as_deref()?;
            Some((name.clone(), parse_cpu_models(text))).filter(|(_, m)| !m.is_empty())
        })
        .collect();
    let mut versions: BTreeMap<String, String> = qemu
        .keys()
        .filter_map(|k| Some((k.clone(), ok(k)?)))
        .collect();
    let node_version = node.as_ref().and_then(|_| ok("node"));
    if let Some(v) = &node_version {
        versions.insert("node".to_string(), v.clone());
    }

    let cache = cache_dir();
    let wine = wine.and_then(|w| {
        let version = ok(&loader_key(&w.loader64))?;
        versions.insert(file_name(&w.loader64), version.clone());
        // A 32-bit loader counts only if it really started: Debian's
        // /usr/lib/wine/wine is missing or unrunnable without wine32:i386.
        let loader32 = match w
            .loader32_candidates
            .iter()
            .find_map(|c| Some((c, ok(&loader_key(c))?)))
        {
            Some((c, v)) => {
                versions.insert("wine32".to_string(), v);
                Some(c.clone())
            }
            None => w.wow64.then(|| w.loader64.clone()),
        };
        let stub = |arch: &str| {
            let p = Path::new(SHARE_DIR)
                .join("wine")
                .join(arch)
                .join("bcryptprimitives.dll");
            p.is_file().then_some(p)
        };
        Some(Wine {
            loader64: w.loader64,
            loader32,
            server: w.server,
            version,
            prefix: cache.join("wine"),
            stub_x86_64: stub("x86_64"),
            stub_i686: stub("i686"),
        })
    });
    let wasi = wasi.and_then(|w| {
        versions.insert(w.name.clone(), ok(&w.name)?);
        Some(w)
    });

    let goroot = goroot.map(Path::to_path_buf).or_else(guess_goroot);
    Tools {
        qemu,
        qemu_cpus,
        wine,
        node_version,
        node,
        wasm_exec_node: goroot.as_deref().and_then(wasm_exec_node),
        wasi,
        rosetta: rosetta(),
        cache_dir: cache,
        versions,
    }
}

/// Query key of a qemu's `-cpu help`.
fn cpu_key(qemu: &str) -> String {
    format!("{qemu} -cpu help")
}

/// The model names in a qemu-user's `-cpu help`, whose form differs by
/// target: `  cortex-a53` (arm), `x86 Nehalem  Intel Core i7 ...`,
/// `MIPS '24Kc'`, `PowerPC power10  (alias for power10_v2.0)`, `rv64`. The
/// feature flags listed after the models end the list.
pub fn parse_cpu_models(text: &str) -> Vec<String> {
    const FAMILIES: [&str; 5] = ["x86", "PowerPC", "MIPS", "s390", "Sparc"];
    let mut models = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = words.first() else {
            if models.is_empty() {
                continue;
            }
            break;
        };
        if line.starts_with("Recognized") {
            break;
        }
        if line.trim_end().ends_with(':') {
            continue;
        }
        let name = match words.get(1) {
            Some(second) if !line.starts_with(' ') && FAMILIES.contains(first) => second,
            _ => first,
        };
        let name = name.trim_matches('\'');
        if !name.is_empty() && !models.iter().any(|m| m == name) {
            models.push(name.to_string());
        }
    }
    models
}

/// Query key of a wine loader: its path, since two loaders may share a name.
fn loader_key(p: &Path) -> String {
    format!("wine:{}", p.display())
}

fn guess_goroot() -> Option<PathBuf> {
    if let Some(g) = std::env::var_os("GOROOT").filter(|g| !g.is_empty()) {
        return Some(PathBuf::from(g));
    }
    // GOROOT/bin/go, through any symlink (/usr/bin/go → /usr/lib/go-1.x/bin/go).
    let go = std::fs::canonicalize(which("go")?).ok()?;
    Some(go.parent()?.parent()?.to_path_buf())
}

fn rosetta() -> bool {
    cfg!(target_os = "macos") && Path::new("/Library/Apple/usr/share/rosetta").exists()
}

struct FoundWine {
    loader64: PathBuf,
    loader32_candidates: Vec<PathBuf>,
    /// A WoW64 build: one 64-bit loader runs 32-bit programs too.
    wow64: bool,
    server: PathBuf,
}

fn find_wine() -> Option<FoundWine> {
    // Debian keeps wine64 in /usr/lib/wine, off PATH; its /usr/bin/wine is a
    // shell script that picks wine32 or wine64. Wine ≥ 9 WoW64 builds ship
    // only a 64-bit `wine`.
    let loader64 = which("wine64")
        .or_else(|| Some(PathBuf::from("/usr/lib/wine/wine64")).filter(|p| is_executable(p)))
        .or_else(|| which("wine").filter(|p| elf_class(p) == Some(64)))?;
    let real = std::fs::canonicalize(&loader64).unwrap_or_else(|_| loader64.clone());
    let dir = real.parent()?.to_path_buf();

    // Ask the binary next to the loader first: the Debian wrapper script
    // `wineserver` only adds -p0 in front of our own flags.
    let server = ["wineserver64", "wineserver"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| is_executable(p) && elf_class(p).is_some())
        .or_else(|| which("wineserver"))?;

    // A 32-bit loader: Debian's wine32:i386 puts it at /usr/lib/wine/wine,
    // WineHQ's packages at <prefix>/bin/wine. Only an ELF32 file counts;
    // Debian's /usr/bin/wine script would fall back to wine64, which then
    // exits 0 without running the program or printing anything.
    let mut loader32_candidates: Vec<PathBuf> = [Some(dir.join("wine")), which("wine")]
        .into_iter()
        .flatten()
        .filter(|p| elf_class(p) == Some(32))
        .collect();
    loader32_candidates.dedup();

    // WoW64 builds have the i386 PE DLLs but no i386 unix side. Debian's
    // wine64 8.0 has an i386-windows directory too, holding only zlib1.dll,
    // so look for kernel32.dll. Untested here: no such build on this machine.
    let libdirs = [
        dir.join("../lib/wine"),
        dir.join("../lib64/wine"),
        PathBuf::from("/usr/lib/x86_64-linux-gnu/wine"),
    ];
    let wow64 = loader32_candidates.is_empty()
        && libdirs.iter().any(|l| {
            l.join("i386-windows/kernel32.dll").is_file() && !l.join("i386-unix").exists()
        });

    Some(FoundWine {
        loader64,
        loader32_candidates,
        wow64,
        server,
    })
}

/// A file's ELF class (32 or 64), or None when it is not ELF (a script).
fn elf_class(p: &Path) -> Option<u8> {
    use std::io::Read;
    let mut head = [0u8; 5];
    std::fs::File::open(p).ok()?.read_exact(&mut head).ok()?;
    match head {
        [0x7f, b'E', b'L', b'F', 1] => Some(32),
        [0x7f, b'E', b'L', b'F', 2] => Some(64),
        _ => None,
    }
}
