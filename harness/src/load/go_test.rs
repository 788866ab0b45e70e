//! A module probe's go test keys: `go_test:` (go test's flags by name),
//! `vet:` and `run:`, checked where they are written.

use super::schema::{GoTest, InlineProbe, Scalar};
use super::*;
use crate::model::{GoTestFlags, ModuleKind};

/// What a module probe's `run`, `vet` and `go_test` keys say.
pub(super) struct TestKeys {
    pub run: bool,
    pub vet: bool,
    pub go_test: GoTestFlags,
}

impl Checker<'_> {
    pub(super) fn test_keys(
        &self,
        p: &InlineProbe,
        kind: &ModuleKind,
        span: SourceSpan,
    ) -> miette::Result<TestKeys> {
        let name = &p.name.value;
        let test = matches!(kind, ModuleKind::Test(_));
        let at = |loc: &Location| within(span_of(loc), span);
        if let (Some(g), false) = (&p.go_test, test) {
            return Err(self
                .err(
                    at(&g.referenced),
                    format!("probe {name:?}: go_test is for a `test:` probe"),
                    "go test's flags",
                    Some("give go test's flags to a probe with `test: PATTERN`; a command's own flags go in `args:`".into()),
                )
                .into());
        }
        if let (Some(v), ModuleKind::Source) = (&p.vet, kind) {
            return Err(self
                .err(
                    at(&v.referenced),
                    format!("probe {name:?}: vet is for a `package:` or `test:` probe"),
                    "here",
                    Some("vet the packages the inline source imports with a `test:` probe of them and `vet: true`".into()),
                )
                .into());
        }
        let go_test = match &p.go_test {
            Some(g) => self.go_test_flags(&g.value, at(&g.referenced))?,
            None => GoTestFlags::default(),
        };
        Ok(TestKeys {
            run: p.run.as_ref().is_none_or(|r| r.value),
            vet: p.vet.as_ref().is_some_and(|v| v.value),
            go_test,
        })
    }

    fn go_test_flags(&self, g: &GoTest, span: SourceSpan) -> miette::Result<GoTestFlags> {
        let at = |loc: &Location| within(span_of(loc), span);
        let regex = |v: &Option<Spanned<String>>, key: &str| -> miette::Result<Option<String>> {
            let Some(v) = v else { return Ok(None) };
            // go test splits -run and -skip at unbracketed slashes, one
            // expression per level of subtests; each must compile.
            for part in v.value.split('/') {
                if let Err(e) = Regex::new(part) {
                    // The last line of the regex crate's error says what
                    // is wrong; the lines above repeat the pattern.
                    let e = e.to_string();
                    let why = e.lines().last().unwrap_or("").trim_start_matches("error: ");
                    return Err(self
                        .err(
                            at(&v.referenced),
                            format!("go_test {key}: {:?} is not a regular expression: {why}", v.value),
                            "here",
                            Some(format!("`{key}` is go test's -{key}: a regular expression such as ^TestParse$ or TestA|TestB")),
                        )
                        .into());
                }
            }
            Ok(Some(v.value.clone()))
        };
        let count = match &g.count {
            None => None,
            Some(c) => Some(positive(&c.value).ok_or_else(|| {
                self.err(
                    at(&c.referenced),
                    format!("go_test count: {:?} is not a count", c.value.0),
                    "here",
                    Some("a whole number, 1 or more: `count: 1` runs each test once, uncached as -count=1 does".into()),
                )
            })?),
        };
        let mut cpu = Vec::new();
        for c in g.cpu.iter().flat_map(|c| &c.0) {
            cpu.push(positive(&c.value).ok_or_else(|| {
                self.err(
                    at(&c.referenced),
                    format!("go_test cpu: {:?} is not a number of CPUs", c.value.0),
                    "here",
                    Some("list GOMAXPROCS values, each 1 or more: `cpu: [1, 4]`".into()),
                )
            })?);
        }
        let shuffle = match &g.shuffle {
            None => None,
            Some(s) => {
                let v = s.value.0.as_str();
                match v {
                    "on" | "off" | "true" | "false" => Some(match v {
                        "true" => "on".to_string(),
                        "false" => "off".to_string(),
                        v => v.to_string(),
                    }),
                    v if v.parse::<i64>().is_ok() => Some(v.to_string()),
                    _ => {
                        return Err(self
                            .err(
                                at(&s.referenced),
                                format!("go_test shuffle: {v:?} is not on, off or a seed"),
                                "here",
                                Some("`shuffle: on` (a new seed each run, printed in the output), `off`, or an integer seed to repeat an order".into()),
                            )
                            .into())
                    }
                }
            }
        };
        let timeout = match &g.timeout {
            None => None,
            Some(t) => Some(parse_duration(&t.value.0).map_err(|why| {
                self.err(
                    at(&t.referenced),
                    format!("go_test timeout {:?}: {why}", t.value.0),
                    "here",
                    Some("a duration such as 90s, 10m or 1h".into()),
                )
            })?),
        };
        let benchtime = match &g.benchtime {
            None => None,
            Some(b) => {
                let v = b.value.0.as_str();
                let times = v
                    .strip_suffix('x')
                    .and_then(|n| positive(&Scalar(n.into())));
                if times.is_none() && parse_duration(v).is_err() {
                    return Err(self
                        .err(
                            at(&b.referenced),
                            format!("go_test benchtime: {v:?} is neither a duration nor a count"),
                            "here",
                            Some(
                                "a duration (`1s`, `500ms`) or a number of iterations (`100x`)"
                                    .into(),
                            ),
                        )
                        .into());
                }
                Some(v.to_string())
            }
        };
        Ok(GoTestFlags {
            run: regex(&g.run, "run")?,
            skip: regex(&g.skip, "skip")?,
            short: g.short.unwrap_or(false),
            count,
            cpu,
            shuffle,
            failfast: g.failfast.unwrap_or(false),
            timeout,
            bench: regex(&g.bench, "bench")?,
            benchtime,
            cover: g.cover.unwrap_or(false),
        })
    }
}

fn positive(s: &Scalar) -> Option<u32> {
    s.0.parse::<u32>().ok().filter(|n| *n > 0)
}
