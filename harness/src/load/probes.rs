//! Checking a matrix's probes: shipped ones by name, inline ones with
//! their source, files and module, into [`Probe`]s.

use std::path::PathBuf;

use super::*;
use crate::fsutil;
use crate::model::{ModuleKind, ModuleProbe, ProbeKind};

impl Checker<'_> {
    pub(super) fn probes(&self, refs: &[Spanned<ProbeRef>]) -> miette::Result<Vec<Probe>> {
        let mut out: Vec<Probe> = Vec::new();
        if refs.is_empty() {
            return Err(Error::Usage {
                message: format!("{}: `probes` is empty", self.source.name),
                help: Some(format!(
                    "name at least one probe: {}",
                    templates::names(self.templates).join(", ")
                )),
            }
            .into());
        }
        for r in refs {
            let span = span_of(&r.referenced);
            let probe = match &r.value {
                ProbeRef::Named(n) => templates::find(n, self.templates)
                    .map_err(|e| Error::Usage {
                        message: e.to_string(),
                        help: None,
                    })?
                    .ok_or_else(|| {
                        let names = templates::names(self.templates);
                        self.err(
                            span,
                            format!("unknown probe {n:?}"),
                            "not a shipped probe",
                            Some(format!(
                                "shipped probes: {}{}",
                                names.join(", "),
                                did_you_mean(n, names.iter().map(String::as_str))
                            )),
                        )
                    })?,
                ProbeRef::Inline(p) => {
                    let nspan = within(span_of(&p.name.referenced), span);
                    check_name(&p.name.value).map_err(|why| {
                        self.err(
                            nspan,
                            format!("invalid probe name {:?}: {why}", p.name.value),
                            "here",
                            Some("use letters, digits, '-', '_' and '.' only".into()),
                        )
                    })?;
                    let lang = match p.lang.value.as_str() {
                        "go" => Lang::Go,
                        "c" => Lang::C,
                        other => {
                            return Err(self
                                .err(
                                    within(span_of(&p.lang.referenced), span),
                                    format!("unknown probe language {other:?}"),
                                    "here",
                                    Some("expected go or c".into()),
                                )
                                .into())
                        }
                    };
                    self.inline_probe(p, lang, span)?
                }
            };
            if out.iter().any(|p| p.name == probe.name) {
                return Err(self
                    .err(
                        span,
                        format!("probe {:?} is listed twice", probe.name),
                        "again here",
                        Some("remove one: each probe runs once per cell; for other settings, add an axis value".into()),
                    )
                    .into());
            }
            out.push(probe);
        }
        Ok(out)
    }

    /// An inline probe: a `source:`, or the user's own code (`package:`,
    /// `test:`, or a `source:` with `module:`).
    fn inline_probe(
        &self,
        p: &schema::InlineProbe,
        lang: Lang,
        span: SourceSpan,
    ) -> miette::Result<Probe> {
        let at =
            |s: &Option<Spanned<String>>| s.as_ref().map(|v| within(span_of(&v.referenced), span));
        let test_span = p.test.as_ref().map(|t| match &t.value {
            schema::Patterns::Many(v) if !v.is_empty() => within(span_of(&v[0].referenced), span),
            _ => within(span_of(&t.referenced), span),
        });
        let kinds: Vec<(&str, SourceSpan)> = [
            ("package", at(&p.package)),
            ("test", test_span),
            ("source", p.source.as_ref().map(|_| span)),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect();
        let name = &p.name.value;
        match kinds.as_slice() {
            // A C probe has only a source to give; a Go one may name the
            // user's own package or tests instead.
            [] if lang == Lang::C => {
                return Err(self
                    .err(
                        span,
                        format!("inline probe {name:?} has no source"),
                        "this probe",
                        Some("add `source: |` with the program text".into()),
                    )
                    .into())
            }
            [] => {
                return Err(self
                    .err(
                        span,
                        format!("probe {name:?} has none of source, package or test"),
                        "this probe",
                        Some("add `source: |` with a program, `package: ./cmd/NAME` for a command of your module, or `test: ./...` for its tests".into()),
                    )
                    .into())
            }
            [_] => {}
            [(a, _), (b, s), ..] => {
                return Err(self
                    .err(
                        *s,
                        format!("probe {name:?} has both {a} and {b}"),
                        "one too many",
                        Some("a probe is one of: `source:` (a program), `package:` (a main package of the module) or `test:` (a go test pattern); make two probes".into()),
                    )
                    .into())
            }
        }
        let args = match &p.args {
            None => Vec::new(),
            Some(serde_json::Value::Array(a)) if a.iter().all(|v| v.is_string()) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(other) => {
                return Err(self
                    .err(
                        span,
                        format!("args of probe {name:?} must be a list of strings, not {other}"),
                        "in this probe",
                        Some("write `args: [-greet, hello]`; quote numbers and booleans: `args: [\"-n\", \"3\"]`".into()),
                    )
                    .into())
            }
        };
        let mut env = std::collections::BTreeMap::new();
        match &p.env {
            None => {}
            Some(serde_json::Value::Object(m)) => {
                for (k, v) in m {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => String::from("\0"),
                    };
                    if !is_env_name(k) || v.contains('\0') {
                        return Err(self.err(span, format!("env of probe {name:?}: {k:?} must be a variable name with a plain value"), "in this probe", Some("write `env: {GREETING: hello}`".into())).into());
                    }
                    env.insert(k.clone(), v);
                }
            }
            Some(other) => {
                return Err(self
                    .err(
                        span,
                        format!("env of probe {name:?} must be a mapping, not {other}"),
                        "in this probe",
                        Some("write `env: {GREETING: hello}`".into()),
                    )
                    .into())
            }
        }
        let (kind, kspan) = match (&p.package, &p.test) {
            (Some(pkg), _) => (ModuleKind::Package(pkg.value.clone()), kinds[0].1),
            (_, Some(t)) => {
                let patterns: Vec<String> = match &t.value {
                    schema::Patterns::One(p) => vec![p.clone()],
                    schema::Patterns::Many(v) => v.iter().map(|p| p.value.clone()).collect(),
                };
                if patterns.is_empty() || patterns.iter().any(String::is_empty) {
                    return Err(self
                        .err(
                            kinds[0].1,
                            format!("probe {name:?}: test names no package pattern"),
                            "here",
                            Some("write `test: ./...`, or a list: `test: [./fse, ./zlib]`".into()),
                        )
                        .into());
                }
                (ModuleKind::Test(patterns), kinds[0].1)
            }
            _ => (ModuleKind::Source, at(&p.module).unwrap_or(span)),
        };
        let source = p.source.as_deref().unwrap_or("");
        let mut probe = Probe::inline(name, lang, source);
        if let Some(files) = &p.files {
            if kind != ModuleKind::Source || p.module.is_some() {
                return Err(self.err(within(span_of(&files.referenced), span), format!("probe {name:?}: files are for a standalone source"), "this probe's files", Some("a probe of your module builds what the module holds: add the files to the module, or drop `module:`".into())).into());
            }
            add_files(&mut probe, &files.value).map_err(|why| {
                self.err(
                    within(span_of(&files.referenced), span),
                    why,
                    "this probe's files",
                    Some(
                        "name each file by a plain name such as lib.c, lib.h, go.mod or go.sum"
                            .into(),
                    ),
                )
            })?;
        }
        if kind == ModuleKind::Source && p.module.is_none() {
            if !args.is_empty()
                || !env.is_empty()
                || p.run.is_some()
                || p.go_test.is_some()
                || p.vet.is_some()
            {
                return Err(self.err(span, format!("probe {name:?}: args, env, run, vet and go_test are for probes of your module"), "in this probe", Some("add `module: .` (the module root, relative to the matrix file) to build the source inside your module".into())).into());
            }
            return Ok(probe);
        }
        if lang != Lang::Go {
            return Err(self
                .err(
                    span,
                    format!("probe {name:?}: package, test and module are for Go"),
                    "in this probe",
                    Some("remove `lang: c`".into()),
                )
                .into());
        }
        let matrix_dir = Path::new(&self.source.name)
            .parent()
            .unwrap_or(Path::new("."));
        let matrix_dir = if matrix_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            matrix_dir
        };
        let root = find_root(matrix_dir, p.module.as_ref().map(|m| m.value.as_str()))
            .map_err(|why| {
                self.err(
                    at(&p.module).unwrap_or(span),
                    why.to_string(),
                    "no module here",
                    Some("`module:` is the directory of a go.mod, relative to the matrix file; without it the nearest go.mod at or above the matrix is used".into()),
                )
            })?;
        if kind == ModuleKind::Source {
            probe.files.clear();
            probe.files.push(("main.go".into(), source.to_string()));
        }
        probe.summary = match &kind {
            ModuleKind::Package(p) => format!("package {p}"),
            ModuleKind::Test(t) => format!("go test {}", t.join(" ")),
            ModuleKind::Source => "inline probe inside the module".into(),
        };
        let keys = self.test_keys(p, &kind, span)?;
        probe.kind = ProbeKind::Module(Box::new(ModuleProbe {
            kind,
            root,
            args,
            env,
            span: kspan,
            path: String::new(),
            packages: Vec::new(),
            vendor: false,
            manifest: String::new(),
            download_errors: Default::default(),
            run: keys.run,
            vet: keys.vet,
            go_test: keys.go_test,
            outside: Vec::new(),
        }));
        Ok(probe)
    }
}

/// Adds files beside an inline probe's source (its `files:`). A name must
/// be a plain file name, and not one the probe already has.
fn add_files(probe: &mut Probe, files: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, text) in files {
        if let Err(why) = check_name(name) {
            return Err(format!("invalid file name {name:?} under files: {why}"));
        }
        if probe.files.iter().any(|(n, _)| n == name) {
            return Err(format!(
                "{name:?} under files would replace the probe's own {name}"
            ));
        }
        if name == crate::templates::started::file_name(probe.lang) {
            return Err(format!(
                "{name:?} under files is the name of crossprobe's own started proof"
            ));
        }
        probe.files.push((name.clone(), text.clone()));
    }
    Ok(())
}

/// The module root for a probe: `module:` relative to the matrix file's
/// directory, else the nearest directory at or above it with a go.mod.
pub fn find_root(matrix_dir: &Path, module: Option<&str>) -> Result<PathBuf, NoModule> {
    let base = std::path::absolute(matrix_dir).unwrap_or_else(|_| matrix_dir.to_path_buf());
    match module {
        Some(m) => {
            let root = base.join(m);
            if root.join("go.mod").is_file() {
                Ok(fsutil::lexical(&root))
            } else if root.is_dir() {
                Err(NoModule::NoGoMod(m.to_string()))
            } else {
                Err(NoModule::NoDirectory(m.to_string()))
            }
        }
        None => base
            .ancestors()
            .find(|d| d.join("go.mod").is_file())
            .map(Path::to_path_buf)
            .ok_or_else(|| NoModule::NoneAbove(base.clone())),
    }
}

/// Why a probe of the user's code has no module.
#[derive(Debug, thiserror::Error)]
pub enum NoModule {
    #[error("`module: {0}` names a directory with no go.mod")]
    NoGoMod(String),
    #[error("`module: {0}` names no directory")]
    NoDirectory(String),
    #[error("no go.mod in {} or any directory above it", .0.display())]
    NoneAbove(PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("go.mod"), "module x\n").unwrap();
        std::fs::create_dir_all(t.path().join("a/b")).unwrap();
        assert_eq!(find_root(&t.path().join("a/b"), None).unwrap(), t.path());
        assert_eq!(
            find_root(&t.path().join("a/b"), Some("../..")).unwrap(),
            t.path()
        );
        assert!(find_root(&t.path().join("a"), Some("b"))
            .unwrap_err()
            .to_string()
            .ends_with("a directory with no go.mod"));
    }
}
