//! Go versions besides `local`: what a request means, and getting the
//! toolchain.
//!
//! `1.21.13` is that release; `1.22` is the latest 1.22 patch that the Go
//! module proxy lists. A release is fetched by the go on PATH itself, with
//! `GOTOOLCHAIN=go1.X.Y go env GOROOT`: it downloads
//! `golang.org/toolchain@v0.0.1-go1.X.Y.<os>-<arch>` into the module cache
//! (`go env GOMODCACHE`), which every later run and every other project
//! shares, so each release is downloaded once per machine. Builds then call
//! that GOROOT's `bin/go` directly with `GOTOOLCHAIN=local`.
//!
//! A release that cannot be had (no network, not published for this host)
//! is [`Resolved::Unavailable`]: its cells are skips that say why, never a
//! silent fallback to the local Go. A version that does not exist at all
//! (`1.99`) is an error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::go::{self as gotool, GoError, GoToolchain};
use crate::process;

/// The oldest release crossprobe builds with: its probes use `any` and its
/// go.mod carries a `go` line, both Go 1.18.
pub const OLDEST: (u32, u32) = (1, 18);

/// One Go release, `go1.22.12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// The name GOTOOLCHAIN and the proxy use. Before Go 1.21 the first
    /// release of a minor had no `.0` (`go1.20`).
    pub fn go_name(&self) -> String {
        if self.patch == 0 && (self.major, self.minor) < (1, 21) {
            format!("go{}.{}", self.major, self.minor)
        } else {
            format!("go{}.{}.{}", self.major, self.minor, self.patch)
        }
    }

    pub fn minor_pair(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// `go1.22.12`, `go1.20` → the release; `go1.23rc1` and the like → None.
    pub fn parse_go_name(s: &str) -> Option<Version> {
        let parts: Vec<u32> = s
            .strip_prefix("go")?
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        match parts[..] {
            [major, minor] => Some(Version {
                major,
                minor,
                patch: 0,
            }),
            [major, minor, patch] => Some(Version {
                major,
                minor,
                patch,
            }),
            _ => None,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.go_name())
    }
}

/// What a `go:` value asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Request {
    Local,
    /// `1.22`: the latest patch of that minor.
    Minor(u32, u32),
    /// `1.21.13`.
    Exact(Version),
}

/// Parses `local`, `1.22`, `1.21.13` (a `go` prefix is allowed).
pub fn parse_request(s: &str) -> Result<Request, (String, String)> {
    let s = s.trim();
    if s == "local" {
        return Ok(Request::Local);
    }
    let bad = || {
        (
            format!("invalid Go version {s:?}"),
            "expected `local`, a minor such as 1.22 (its latest patch), or a release such as 1.21.13"
                .to_string(),
        )
    };
    let nums: Vec<u32> = s
        .trim_start_matches("go")
        .split('.')
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse().ok()
            }
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let req = match nums[..] {
        [major, minor] => Request::Minor(major, minor),
        [major, minor, patch] => Request::Exact(Version {
            major,
            minor,
            patch,
        }),
        _ => return Err(bad()),
    };
    let pair = match req {
        Request::Minor(a, b) => (a, b),
        Request::Exact(v) => v.minor_pair(),
        Request::Local => unreachable!("handled above"),
    };
    if pair.0 != 1 {
        return Err((
            format!("Go version {s:?} does not exist"),
            "Go versions are 1.x; e.g. 1.22 or 1.21.13".into(),
        ));
    }
    if pair < OLDEST {
        return Err((
            format!("Go {s} is older than crossprobe supports"),
            format!(
                "crossprobe's probes and go.mod need Go {}.{} or later",
                OLDEST.0, OLDEST.1
            ),
        ));
    }
    Ok(req)
}

/// A request, resolved.
#[derive(Clone, Debug)]
pub enum Resolved {
    Ready(Box<GoToolchain>),
    /// Its cells are skipped with this reason.
    Unavailable {
        version: String,
        reason: String,
    },
}

/// Why a request cannot mean anything: an input error, not a skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoSuchVersion {
    pub message: String,
    pub help: String,
}

/// Long: the first fetch of a release downloads about 70 MB.
const FETCH_TIMEOUT: Duration = Duration::from_secs(600);
const LIST_TIMEOUT: Duration = Duration::from_secs(120);

/// Resolves Go version requests with the go on PATH. Lists the proxy's
/// releases at most once.
pub struct Resolver {
    local: Result<GoToolchain, GoError>,
    list: std::sync::OnceLock<Result<Vec<Version>, ReleaseError>>,
}

/// Why a release cannot be had (its cells are skips that say so), or the
/// proxy's list of them cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    /// The go on PATH, which fetches and lists every other release.
    #[error(transparent)]
    Local(#[from] GoError),
    /// `go list -m -versions golang.org/toolchain` failed: its last line.
    #[error("{0}")]
    List(String),
    /// `GOTOOLCHAIN=goX go env GOROOT` failed (no network, not published
    /// for this host): its last line.
    #[error("cannot get {version}: {why}")]
    Get { version: Version, why: String },
    /// The fetched release could not be described.
    #[error(transparent)]
    Describe(GoError),
    #[error("asked for {asked}, got {got} (the go on PATH, {local}, cannot switch toolchains: that needs Go 1.21 or later)")]
    NoSwitch {
        asked: Version,
        got: String,
        local: String,
    },
}

/// Why a request names no release without fetching one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unpicked {
    /// `local`: the Go on PATH, not a release.
    #[error("local")]
    Local,
    #[error("cannot list Go releases: {0}")]
    NoList(String),
    #[error("the module proxy lists no go{major}.{minor} release for {platform}")]
    NotListed {
        major: u32,
        minor: u32,
        platform: String,
    },
}

impl Resolver {
    pub fn new(local: Result<GoToolchain, GoError>) -> Resolver {
        Resolver {
            local,
            list: std::sync::OnceLock::new(),
        }
    }

    pub fn local(&self) -> Result<&GoToolchain, GoError> {
        self.local.as_ref().map_err(Clone::clone)
    }

    /// Stable releases the proxy lists for this host, ascending.
    pub fn listed(&self) -> Result<&Vec<Version>, ReleaseError> {
        self.list
            .get_or_init(|| {
                let local = self.local()?;
                list_releases(local)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The release a request names, without fetching it. `local` has none.
    pub fn pick(&self, req: Request) -> Result<Result<Version, Unpicked>, NoSuchVersion> {
        match req {
            Request::Local => Ok(Err(Unpicked::Local)),
            Request::Exact(v) => Ok(Ok(v)),
            Request::Minor(major, minor) => {
                let listed = match self.listed() {
                    Ok(l) => l,
                    Err(e) => return Ok(Err(Unpicked::NoList(e.to_string()))),
                };
                if let Some(v) = listed
                    .iter()
                    .rev()
                    .find(|v| v.minor_pair() == (major, minor))
                {
                    return Ok(Ok(*v));
                }
                self.check_exists((major, minor), None)?;
                Ok(Err(Unpicked::NotListed {
                    major,
                    minor,
                    platform: host_platform(),
                }))
            }
        }
    }

    /// An error when `pair` (or `exact`) lies past the newest listed
    /// release; Ok when it may exist. Without a list nothing is known.
    fn check_exists(&self, pair: (u32, u32), exact: Option<Version>) -> Result<(), NoSuchVersion> {
        let Ok(listed) = self.listed() else {
            return Ok(());
        };
        let Some(newest) = listed.last() else {
            return Ok(());
        };
        let asked = exact.map_or(format!("{}.{}", pair.0, pair.1), |v| {
            format!("{}.{}.{}", v.major, v.minor, v.patch)
        });
        if pair > newest.minor_pair() {
            return Err(NoSuchVersion {
                message: format!("Go {asked} does not exist"),
                help: format!(
                    "the newest release the Go module proxy lists is {newest}; \
                     ask for a minor such as {}.{} (its latest patch) or an exact release",
                    newest.major, newest.minor
                ),
            });
        }
        if let Some(v) = exact {
            let last = listed.iter().rev().find(|l| l.minor_pair() == pair);
            if let Some(last) = last.filter(|l| v.patch > l.patch) {
                return Err(NoSuchVersion {
                    message: format!("Go {asked} does not exist"),
                    help: format!(
                        "the latest {}.{} release the Go module proxy lists is {last}; \
                         or write {}.{} for the latest patch",
                        pair.0, pair.1, pair.0, pair.1
                    ),
                });
            }
        }
        Ok(())
    }

    /// Resolves a request: the toolchain, downloaded when needed, or why it
    /// cannot be had.
    pub fn resolve(&self, req: Request) -> Result<Resolved, NoSuchVersion> {
        let v = match req {
            Request::Local => {
                return Ok(match self.local() {
                    Ok(l) => Resolved::Ready(Box::new(l.clone())),
                    Err(reason) => Resolved::Unavailable {
                        version: "local".into(),
                        reason: reason.to_string(),
                    },
                })
            }
            req => match self.pick(req)? {
                Ok(v) => v,
                Err(reason) => {
                    return Ok(Resolved::Unavailable {
                        version: request_name(req),
                        reason: reason.to_string(),
                    })
                }
            },
        };
        match self.fetch(v) {
            Ok(tc) => Ok(Resolved::Ready(Box::new(tc))),
            Err(reason) => {
                self.check_exists(v.minor_pair(), Some(v))?;
                Ok(Resolved::Unavailable {
                    version: v.go_name(),
                    reason: reason.to_string(),
                })
            }
        }
    }

    /// Downloads (or finds in the module cache) one release.
    pub fn fetch(&self, v: Version) -> Result<GoToolchain, ReleaseError> {
        let local = self.local()?;
        let go = local.go.display().to_string();
        let mut env = BTreeMap::new();
        env.insert("GOTOOLCHAIN".to_string(), v.go_name());
        // A user's GOFLAGS (-mod=vendor, say) must not reach `go env`.
        env.insert("GOFLAGS".to_string(), String::new());
        let out = process::query(&[&go, "env", "GOROOT"], &env, FETCH_TIMEOUT).map_err(|e| {
            ReleaseError::Get {
                version: v,
                why: last_line(&e.to_string()),
            }
        })?;
        let goroot = PathBuf::from(out.trim());
        let bin = goroot
            .join("bin")
            .join(format!("go{}", std::env::consts::EXE_SUFFIX));
        let mut env = BTreeMap::new();
        env.insert("GOTOOLCHAIN".to_string(), "local".to_string());
        env.insert("GOWORK".to_string(), "off".to_string());
        let mut tc = gotool::describe(&request_name(Request::Exact(v)), bin, env)
            .map_err(ReleaseError::Describe)?;
        tc.request = format!("{}.{}.{}", v.major, v.minor, v.patch);
        // A go on PATH older than 1.21 ignores GOTOOLCHAIN and answers for
        // itself: that would be the silent fallback this module refuses.
        if tc.version != v.go_name() {
            return Err(ReleaseError::NoSwitch {
                asked: v,
                got: tc.version,
                local: local.version.clone(),
            });
        }
        Ok(tc)
    }
}

/// Resolves every request at once: first downloads run side by side (the
/// module cache locks each one, so two crossprobes never fetch a release
/// twice).
pub fn resolve_all(resolver: &Resolver, reqs: &[Request]) -> Vec<Result<Resolved, NoSuchVersion>> {
    const AT_ONCE: usize = 4;
    let mut out: Vec<Option<Result<Resolved, NoSuchVersion>>> = vec![None; reqs.len()];
    for (chunk_reqs, chunk_out) in reqs.chunks(AT_ONCE).zip(out.chunks_mut(AT_ONCE)) {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk_reqs
                .iter()
                .map(|r| s.spawn(move || resolver.resolve(*r)))
                .collect();
            for (h, slot) in handles.into_iter().zip(chunk_out.iter_mut()) {
                *slot = Some(h.join().unwrap_or_else(|_| {
                    Ok(Resolved::Unavailable {
                        version: String::new(),
                        reason: "resolving this version panicked".into(),
                    })
                }));
            }
        });
    }
    out.into_iter().flatten().collect()
}

/// The toolchain entry of a version that could not be had: it carries the
/// reason, and the local Go's targets so that expansion can check cells.
pub fn unavailable(version: &str, reason: &str, local: Option<&GoToolchain>) -> GoToolchain {
    GoToolchain {
        request: version.to_string(),
        go: PathBuf::from("go"),
        goroot: PathBuf::new(),
        version: version.to_string(),
        env: BTreeMap::new(),
        gocache: PathBuf::new(),
        gomodcache: PathBuf::new(),
        targets: local.map(|l| l.targets.clone()).unwrap_or_default(),
        unavailable: Some(reason.to_string()),
        buildmodes: local.map(|l| l.buildmodes.clone()).unwrap_or_default(),
    }
}

fn request_name(req: Request) -> String {
    match req {
        Request::Local => "local".into(),
        Request::Minor(a, b) => format!("go{a}.{b}"),
        Request::Exact(v) => v.go_name(),
    }
}

fn last_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(s)
        .to_string()
}

/// `linux-amd64`, the suffix of the proxy's toolchain module versions.
fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        o => o,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        a => a,
    };
    format!("{os}-{arch}")
}

/// `go list -m -versions golang.org/toolchain`, through the go command so
/// that GOPROXY, GONOPROXY and GOINSECURE apply as for any module.
fn list_releases(local: &GoToolchain) -> Result<Vec<Version>, ReleaseError> {
    let go = local.go.display().to_string();
    let mut env = local.env.clone();
    env.insert("GOFLAGS".to_string(), String::new());
    let out = process::query(
        &[&go, "list", "-m", "-versions", "golang.org/toolchain"],
        &env,
        LIST_TIMEOUT,
    )
    .map_err(|e| ReleaseError::List(last_line(&e.to_string())))?;
    Ok(parse_list(&out, &host_platform()))
}

/// The stable releases in `go list -m -versions` output for one platform.
pub fn parse_list(out: &str, platform: &str) -> Vec<Version> {
    let suffix = format!(".{platform}");
    let mut v: Vec<Version> = out
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("v0.0.1-")?.strip_suffix(&suffix))
        .filter_map(Version::parse_go_name)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// `1.21..1.26` → every minor in between, both ends included; `1.22`,
/// `1.21.13` and `local` alone; `a,b,c` as a list.
pub fn parse_range(s: &str) -> Result<Vec<Request>, (String, String)> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once("..") {
            None => out.push(parse_request(part)?),
            Some((a, b)) => {
                let (ra, rb) = (parse_request(a)?, parse_request(b)?);
                let (Request::Minor(ma, na), Request::Minor(mb, nb)) = (ra, rb) else {
                    return Err((
                        format!("invalid range {part:?}: both ends must be minors"),
                        "a range runs over minors, each at its latest patch: --go 1.21..1.26"
                            .into(),
                    ));
                };
                if (ma, na) > (mb, nb) {
                    return Err((
                        format!("the range {part:?} is backwards"),
                        format!("write the older version first: --go {b}..{a}"),
                    ));
                }
                out.extend((na..=nb).map(|n| Request::Minor(ma, n)));
            }
        }
    }
    if out.is_empty() {
        return Err((
            "no Go version given".into(),
            "e.g. --go 1.22, --go 1.21..1.26, or --go local,1.22".into(),
        ));
    }
    Ok(out)
}

/// The `go:` value a request is written as in a matrix: `1.22`, `1.21.13`.
pub fn request_value(req: Request) -> String {
    match req {
        Request::Local => "local".into(),
        Request::Minor(a, b) => format!("{a}.{b}"),
        Request::Exact(v) => format!("{}.{}.{}", v.major, v.minor, v.patch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(minor: u32, patch: u32) -> Version {
        Version {
            major: 1,
            minor,
            patch,
        }
    }

    #[test]
    fn requests() {
        assert_eq!(parse_request("local"), Ok(Request::Local));
        assert_eq!(parse_request("1.22"), Ok(Request::Minor(1, 22)));
        assert_eq!(parse_request("go1.21.13"), Ok(Request::Exact(v(21, 13))));
        assert!(parse_request("1.x").is_err());
        assert!(parse_request("1").is_err());
        assert!(parse_request("1.22.1.1").is_err());
        assert!(parse_request("2.0")
            .unwrap_err()
            .0
            .contains("does not exist"));
        assert!(parse_request("1.16").unwrap_err().0.contains("older"));
    }

    #[test]
    fn names() {
        assert_eq!(v(20, 0).go_name(), "go1.20");
        assert_eq!(v(21, 0).go_name(), "go1.21.0");
        assert_eq!(Version::parse_go_name("go1.20"), Some(v(20, 0)));
        assert_eq!(Version::parse_go_name("go1.26rc1"), None);
    }

    #[test]
    fn lists() {
        let out = "golang.org/toolchain v0.0.1-go1.20.linux-amd64 v0.0.1-go1.22.12.linux-amd64 \
                   v0.0.1-go1.22.2.linux-amd64 v0.0.1-go1.26rc1.linux-amd64 v0.0.1-go1.22.3.darwin-arm64\n";
        assert_eq!(
            parse_list(out, "linux-amd64"),
            vec![v(20, 0), v(22, 2), v(22, 12)]
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("1.21..1.23").unwrap(),
            vec![
                Request::Minor(1, 21),
                Request::Minor(1, 22),
                Request::Minor(1, 23)
            ]
        );
        assert_eq!(
            parse_range("local,1.22.3").unwrap(),
            vec![Request::Local, Request::Exact(v(22, 3))]
        );
        assert!(parse_range("1.26..1.21")
            .unwrap_err()
            .0
            .contains("backwards"));
        assert!(parse_range("1.21.1..1.22").is_err());
    }
}
