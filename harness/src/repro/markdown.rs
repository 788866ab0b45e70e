//! The Markdown a bug report is saved as: its fenced code blocks, found as
//! CommonMark does, and the text YAML should read from one of them.

/// A fenced code block: the byte range of its content and whether its info
/// string names YAML.
pub struct Fence {
    pub start: usize,
    pub end: usize,
    pub yaml: bool,
}

/// Fenced blocks (``` or ~~~, up to three spaces in) in Markdown order. An
/// unclosed block runs to the end, as CommonMark says.
pub fn fences(md: &str) -> impl Iterator<Item = Fence> + '_ {
    let mut lines = Vec::new();
    let mut off = 0;
    for l in md.split_inclusive('\n') {
        lines.push((off, l));
        off += l.len();
    }
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < lines.len() {
            let (_, line) = lines[i];
            i += 1;
            let Some((ch, n, info)) = opener(line) else {
                continue;
            };
            let start = lines.get(i).map_or(md.len(), |(o, _)| *o);
            let lang = info
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let yaml = matches!(lang.as_str(), "yaml" | "yml");
            while i < lines.len() {
                let (o, l) = lines[i];
                i += 1;
                let t = l.trim_end();
                let t2 = t.trim_start_matches(' ');
                if t.len() - t2.len() <= 3 && t2.len() >= n && t2.chars().all(|c| c == ch) {
                    return Some(Fence {
                        start,
                        end: o,
                        yaml,
                    });
                }
            }
            return Some(Fence {
                start,
                end: md.len(),
                yaml,
            });
        }
        None
    })
}

/// A fence opener: its character, its length and its info string.
fn opener(line: &str) -> Option<(char, usize, &str)> {
    let t = line.trim_end_matches(['\n', '\r']);
    let body = t.trim_start_matches(' ');
    if t.len() - body.len() > 3 {
        return None;
    }
    let ch = body.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = body.chars().take_while(|c| *c == ch).count();
    if n < 3 {
        return None;
    }
    let info = &body[n..];
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((ch, n, info.trim()))
}

/// The text up to `end`, with every byte before `start` that is not a line
/// break made a space: the YAML parser sees only the block, at the block's
/// own offsets in the file.
pub fn blank_outside(text: &str, start: usize, end: usize) -> String {
    let mut out: String = text[..start]
        .bytes()
        .map(|b| if b == b'\n' { '\n' } else { ' ' })
        .collect();
    out.push_str(&text[start..end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_yaml_block() {
        let md =
            "# Bug\n\n```go\nx\n```\n\n  ```yaml title\ngoos: linux\n  ```\n```yaml\nno\n```\n";
        let f: Vec<Fence> = fences(md).collect();
        assert_eq!(f.len(), 3);
        let y = f.iter().find(|f| f.yaml).unwrap();
        assert_eq!(&md[y.start..y.end], "goos: linux\n");
        let blanked = blank_outside(md, y.start, y.end);
        assert_eq!(blanked.len(), y.end);
        assert_eq!(&blanked[y.start..], "goos: linux\n");
        assert!(blanked[..y.start].chars().all(|c| c == ' ' || c == '\n'));
    }

    #[test]
    fn unclosed_and_tilde_fences() {
        let md = "~~~~yml\na: 1\n~~~\nb: 2\n~~~~\n";
        let f: Vec<Fence> = fences(md).collect();
        assert_eq!(&md[f[0].start..f[0].end], "a: 1\n~~~\nb: 2\n");
        let f: Vec<Fence> = fences("```yaml\na: 1\n").collect();
        assert_eq!(f[0].end, 13);
        assert!(fences("``not a fence\n").next().is_none());
    }
}
