//! Checking a matrix's `expect` entries: their `when` keys and values,
//! outcome, regex, reason and fact expressions.

use super::*;

impl Checker<'_> {
    pub(super) fn expect(&self, e: &Spanned<schema::ExpectEntry>) -> miette::Result<Expect> {
        let span = span_of(&e.referenced);
        let mut when: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut test = None;
        for (k, v) in &e.value.when {
            match v {
                WhenValue::Values(vals) if k == "test" => {
                    let kspan = vals
                        .0
                        .first()
                        .map_or(span, |s| within(span_of(&s.referenced), span));
                    let names: Vec<String> = vals.0.iter().map(|s| s.value.0.clone()).collect();
                    let re = format!("^(?:{})$", names.join("|"));
                    test = Some(Regex::new(&re).map_err(|err| {
                        let detail = err.to_string();
                        let last = detail.lines().last().unwrap_or("").trim().to_string();
                        self.err(kspan, format!("invalid test pattern {:?}: {last}", names.join("|")), "this pattern", Some("`test` is a test name or a Rust regex matched against the whole name, e.g. TestX or TestX/.*".into()))
                    })?);
                }
                WhenValue::Values(vals) => {
                    let kspan = vals
                        .0
                        .first()
                        .map_or(span, |s| within(span_of(&s.referenced), span));
                    // `package` names the package of a `test:` cell.
                    if k != "package" {
                        self.check_key(k, kspan, "expect.when")?;
                    }
                    when.insert(
                        k.clone(),
                        vals.0.iter().map(|s| s.value.0.clone()).collect(),
                    );
                }
                WhenValue::Env(m) if k == "env" => {
                    for (ek, ev) in m {
                        if !is_env_name(ek) {
                            return Err(self.err(span, format!("invalid environment variable name {ek:?} in expect.when.env"), "in this entry", None).into());
                        }
                        when.insert(ek.clone(), ev.0.iter().map(|s| s.value.0.clone()).collect());
                    }
                }
                WhenValue::Env(_) => {
                    return Err(self
                        .err(
                            span,
                            format!("expect.when.{k} must be a value or a list"),
                            "in this entry",
                            Some("only `env:` takes a mapping".into()),
                        )
                        .into());
                }
            }
        }
        let outcome = match &e.value.outcome {
            None => None,
            Some(o) => Some(parse_outcome(&o.value).ok_or_else(|| {
                self.err(
                    span_of(&o.referenced),
                    format!("unknown outcome {:?}", o.value),
                    "here",
                    Some(format!(
                        "expected one of: pass, build-fail, run-fail, timeout, skip{}",
                        did_you_mean(
                            &o.value,
                            ["pass", "build-fail", "run-fail", "timeout", "skip"]
                        )
                    )),
                )
            })?),
        };
        let pattern = match &e.value.r#match {
            None => None,
            Some(m) => Some(Regex::new(&m.value).map_err(|err| {
                let detail = err.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                self.err(span_of(&m.referenced), format!("invalid regex {:?}: {last}", m.value), "this pattern", Some("`match` is a Rust regex (no look-around or backreferences); escape ( ) [ ] . * + ? with \\".into()))
            })?),
        };
        let mut facts = BTreeMap::new();
        for (k, v) in &e.value.facts {
            let expr = crate::model::FactExpr::parse(&v.value.0).map_err(|why| {
                self.err(span_of(&v.referenced), format!("invalid fact expectation for {k}: {why}"), "this expression", Some("write a value (`true`, `\"0\"`), a comparison (`<= 2.31`, `!= soft`) or a regex (`~ ^go1\\.2`)".into()))
            })?;
            facts.insert(k.clone(), expr);
        }
        if outcome.is_some_and(|o| o != Outcome::Pass && o != Outcome::Skip)
            && e.value.reason.is_none()
        {
            return Err(self.err(span, "an expected failure needs a `reason`", "this entry", Some("give the issue URL or a sentence that explains the failure, so an unexpected pass can say what may be fixed".into())).into());
        }
        if test.is_some()
            && !matches!(
                outcome,
                None | Some(Outcome::Pass | Outcome::RunFail | Outcome::Skip)
            )
        {
            return Err(self.err(span, "an expectation for Go tests takes outcome pass, run-fail or skip", "this entry", Some("a test fails (run-fail), passes or is skipped; a build-fail or timeout is the cell's: drop `test:` from `when`".into())).into());
        }
        Ok(Expect {
            when,
            test,
            outcome,
            pattern,
            reason: e.value.reason.clone(),
            facts,
            position: self.source.position(span.offset()),
            span,
        })
    }
}
