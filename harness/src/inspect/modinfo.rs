//! The modinfo text inside Go build info: `path`, `mod`, `dep`, `=>` and
//! `build` lines, parsed as `runtime/debug.ParseBuildInfo` parses them,
//! including the Go-quoted keys and values `BuildInfo.String` writes.

use serde_json::Value;

use super::Inspection;

#[derive(Debug, Default, PartialEq)]
struct Module {
    path: String,
    version: String,
    sum: String,
    replace: Option<Box<Module>>,
}

#[derive(Debug, Default, PartialEq)]
pub(super) struct BuildInfo {
    path: Option<String>,
    main: Option<Module>,
    deps: Vec<Module>,
    settings: Vec<(String, String)>,
}

impl BuildInfo {
    pub(super) fn into_facts(self, out: &mut Inspection) {
        if let Some(path) = self.path {
            out.set("buildinfo.path", path);
        }
        if let Some(main) = self.main {
            out.set("buildinfo.main", main.path);
            out.set("buildinfo.main_version", main.version);
            if !main.sum.is_empty() {
                out.set("buildinfo.main_sum", main.sum);
            }
        }
        if !self.deps.is_empty() {
            let deps = self
                .deps
                .iter()
                .map(|d| Value::from(d.to_string()))
                .collect::<Vec<_>>();
            out.set("buildinfo.deps", deps);
        }
        for (key, value) in self.settings {
            out.set(format!("buildinfo.{key}"), value);
        }
    }
}

impl std::fmt::Display for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.path, self.version)?;
        match &self.replace {
            Some(r) => write!(f, " => {r}"),
            None => Ok(()),
        }
    }
}

/// Parses modinfo as `runtime/debug.ParseBuildInfo` does, but keeps the
/// lines before an error instead of dropping everything.
pub(super) fn parse(data: &[u8]) -> (BuildInfo, Option<String>) {
    let mut bi = BuildInfo::default();
    // Index of the module a `=>` line replaces: None = main, Some(i) = deps[i].
    let mut last: Option<Option<usize>> = None;
    // As in Go, a final line without a newline is ignored.
    let lines = data
        .split_inclusive(|&b| b == b'\n')
        .filter_map(|l| l.strip_suffix(b"\n"));
    for (n, line) in lines.enumerate() {
        let err = |msg: String| Some(format!("line {}: {msg}", n + 1));
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if let Some(path) = line.strip_prefix(b"path\t") {
            bi.path = Some(text(path));
        } else if let Some(elem) = line.strip_prefix(b"mod\t") {
            match module_line(elem) {
                Ok(m) => bi.main = Some(m),
                Err(e) => return (bi, err(e)),
            }
            last = Some(None);
        } else if let Some(elem) = line.strip_prefix(b"dep\t") {
            match module_line(elem) {
                Ok(m) => bi.deps.push(m),
                Err(e) => return (bi, err(e)),
            }
            last = Some(Some(bi.deps.len() - 1));
        } else if let Some(elem) = line.strip_prefix(b"=>\t") {
            let cols: Vec<&[u8]> = elem.split(|&b| b == b'\t').collect();
            if cols.len() != 3 {
                return (
                    bi,
                    err(format!(
                        "expected 3 columns for replacement; got {}",
                        cols.len()
                    )),
                );
            }
            let target = match last.take() {
                Some(None) => bi.main.as_mut(),
                Some(Some(i)) => bi.deps.get_mut(i),
                None => None,
            };
            let Some(target) = target else {
                return (
                    bi,
                    err("replacement with no module on previous line".to_owned()),
                );
            };
            target.replace = Some(Box::new(Module {
                path: text(cols[0]),
                version: text(cols[1]),
                sum: text(cols[2]),
                replace: None,
            }));
        } else if let Some(kv) = line.strip_prefix(b"build\t") {
            match setting_line(kv) {
                Ok(kv) => bi.settings.push(kv),
                Err(e) => return (bi, err(e)),
            }
        }
    }
    (bi, None)
}

fn module_line(elem: &[u8]) -> Result<Module, String> {
    let cols: Vec<&[u8]> = elem.split(|&b| b == b'\t').collect();
    if cols.len() != 2 && cols.len() != 3 {
        return Err(format!("expected 2 or 3 columns; got {}", cols.len()));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(Module {
        path: text(cols[0]),
        version: text(cols[1]),
        sum: cols.get(2).map(|s| text(s)).unwrap_or_default(),
        replace: None,
    })
}

/// `key=value`, either side possibly a Go quoted string (strconv.Quote),
/// as `BuildInfo.String` writes them when they hold spaces, quotes or `=`.
fn setting_line(kv: &[u8]) -> Result<(String, String), String> {
    let (key, raw_value) = match kv.first() {
        None => return Err("build line missing '='".to_owned()),
        Some(b'=') => return Err("build line with missing key".to_owned()),
        Some(b'`' | b'"') => {
            let (key, used) = unquote_prefix(kv).ok_or("invalid quoted key in build line")?;
            match kv.get(used) {
                Some(b'=') => (key, &kv[used + 1..]),
                _ => return Err("build line missing '=' after quoted key".to_owned()),
            }
        }
        Some(_) => {
            let eq = kv
                .iter()
                .position(|&b| b == b'=')
                .ok_or("build line missing '=' after key")?;
            (kv[..eq].to_vec(), &kv[eq + 1..])
        }
    };
    let value = match raw_value.first() {
        Some(b'`' | b'"') => match unquote_prefix(raw_value) {
            Some((v, used)) if used == raw_value.len() => v,
            _ => return Err("invalid quoted value in build line".to_owned()),
        },
        _ => raw_value.to_vec(),
    };
    let text = |b: Vec<u8>| {
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    };
    Ok((text(key), text(value)))
}

/// Decodes the Go string literal at the start of `s` (`"..."` with Go's
/// escapes, or a raw `` `...` ``); returns it and the bytes it used.
fn unquote_prefix(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let quote = *s.first()?;
    if quote == b'`' {
        let end = 1 + s[1..].iter().position(|&b| b == b'`')?;
        // Go drops carriage returns inside raw strings.
        let body = s[1..end].iter().copied().filter(|&b| b != b'\r').collect();
        return Some((body, end + 1));
    }
    if quote != b'"' {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        match *s.get(i)? {
            b'"' => return Some((out, i + 1)),
            b'\n' => return None,
            b'\\' => {
                let esc = *s.get(i + 1)?;
                i += 2;
                let hex = |n: usize| -> Option<u32> {
                    let digits = std::str::from_utf8(s.get(i..i + n)?).ok()?;
                    u32::from_str_radix(digits, 16)
                        .ok()
                        .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
                };
                match esc {
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'v' => out.push(0x0b),
                    b'\\' | b'"' => out.push(esc),
                    b'x' => {
                        out.push(hex(2)? as u8);
                        i += 2;
                    }
                    b'u' | b'U' => {
                        let n = if esc == b'u' { 4 } else { 8 };
                        let c = char::from_u32(hex(n)?)?;
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        i += n;
                    }
                    b'0'..=b'7' => {
                        let digits = s.get(i - 1..i + 2)?;
                        if !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
                            return None;
                        }
                        let v = digits
                            .iter()
                            .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                        out.push(u8::try_from(v).ok()?);
                        i += 2;
                    }
                    _ => return None,
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_what_strconv_quote_writes() {
        let q =
            |s: &str| unquote_prefix(s.as_bytes()).map(|(v, n)| (String::from_utf8(v).unwrap(), n));
        assert_eq!(q(r#""-s -w""#), Some(("-s -w".into(), 7)));
        assert_eq!(
            q(r#""a\"b\\c\td\x41\101\u00e9\U0001F600""#).unwrap().0,
            "a\"b\\c\td\x41\x41é😀"
        );
        assert_eq!(q("`raw \\n`x"), Some(("raw \\n".into(), 8)));
        assert_eq!(q(r#""unterminated"#), None);
        assert_eq!(q(r#""bad \q""#), None);
        assert_eq!(q("\"\\400\""), None, "octal escape above 255");
    }

    #[test]
    fn parses_settings_like_parse_build_info() {
        // Lines as `go build -ldflags="-X 'main.v=1 \"b\"'"` records them.
        let text = "path\texample.com/p\nmod\texample.com/p\t(devel)\t\n\
                    dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n=>\t../sys\t(devel)\t\n\
                    build\t-ldflags=\"-X 'main.v=1 \\\"b\\\"'\"\nbuild\t\"we=ird\"=`x y`\n\
                    build\tGOOS=linux\nbuild\tno-newline=lost";
        let (bi, err) = parse(text.as_bytes());
        assert_eq!(err, None);
        assert_eq!(bi.path.as_deref(), Some("example.com/p"));
        assert_eq!(bi.main.unwrap().version, "(devel)");
        assert_eq!(
            bi.deps[0].to_string(),
            "golang.org/x/sys@v0.1.0 => ../sys@(devel)"
        );
        assert_eq!(
            bi.settings,
            [
                ("-ldflags".into(), "-X 'main.v=1 \"b\"'".into()),
                ("we=ird".into(), "x y".into()),
                ("GOOS".into(), "linux".into())
            ]
        );
    }

    #[test]
    fn keeps_lines_before_an_error() {
        let (bi, err) = parse(b"path\tp\nbuild\tA=1\nbuild\t=2\nbuild\tB=3\n");
        assert_eq!(err.as_deref(), Some("line 3: build line with missing key"));
        assert_eq!(bi.settings, [("A".into(), "1".into())]);
    }
}
