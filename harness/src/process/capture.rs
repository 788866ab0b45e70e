//! Output captured to files, and the capped text kept of it.
//!
//! Files, not pipes: wine leaves helper processes holding the inherited
//! stdout and stderr open, so reading a pipe to EOF would hang until they
//! quit. A file needs no reader, and its size can be watched for runaways.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::model::Captured;

/// Creates a capture file afresh. The handle we keep is also read from
/// later, so it is opened for reading too.
///
/// Never through a link: the directory may be a probe's run directory, and
/// a probe that replaced `run.stdout` with a link to
/// `~/.ssh/authorized_keys` would otherwise have the next run write its
/// output there. Whatever holds the name is removed (a link itself, not its
/// target), and the file is created exclusively without following links, so
/// a link planted between the two fails the command instead.
pub(super) fn create(path: &Path) -> io::Result<File> {
    let fail =
        |e: io::Error| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()));
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(fail(e)),
        _ => {}
    }
    let mut o = OpenOptions::new();
    o.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    o.open(path).map_err(fail)
}

/// Bytes written so far. An unreadable size counts as zero: the run goes on
/// and the cap is enforced when the final read happens.
pub(super) fn len(file: &File) -> u64 {
    file.metadata().map(|m| m.len()).unwrap_or(0)
}

/// The head and tail of what was written, `cap` bytes in all.
///
/// Reads with `read_at`, which leaves the file offset alone: the child's
/// descriptor shares it, and a straggler outside the process group (a
/// daemonised wineserver, say) may still be writing.
pub(super) fn read(file: &File, cap: usize) -> io::Result<Captured> {
    let bytes = len(file);
    let cap64 = u64::try_from(cap).unwrap_or(u64::MAX);
    if bytes <= cap64 {
        let all = read_range(file, 0, cap)?;
        return Ok(Captured {
            text: String::from_utf8_lossy(&all).into_owned(),
            bytes,
            dropped: 0,
        });
    }
    let head_len = cap / 2;
    let tail_len = cap - head_len;
    let head = read_range(file, 0, head_len)?;
    let tail = read_range(file, bytes - tail_len as u64, tail_len)?;
    let dropped = bytes - cap64;
    Ok(Captured {
        text: join(&head, dropped, &tail),
        bytes,
        dropped,
    })
}

/// Up to `want` bytes from `offset`; fewer if the file is shorter.
fn read_range(file: &File, offset: u64, want: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; want];
    let mut got = 0;
    while got < want {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// Each side is decoded on its own, so a character cut at either edge turns
/// into U+FFFD instead of failing.
fn join(head: &[u8], dropped: u64, tail: &[u8]) -> String {
    format!(
        "{}\n[... {dropped} bytes dropped ...]\n{}",
        String::from_utf8_lossy(head),
        String::from_utf8_lossy(tail)
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn captured(content: &[u8], cap: usize) -> Captured {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut file = create(&path).unwrap();
        file.write_all(content).unwrap();
        read(&file, cap).unwrap()
    }

    #[test]
    fn a_capture_file_replaced_by_a_link_is_made_afresh_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let path = dir.path().join("run.stdout");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let mut file = create(&path).unwrap();
        file.write_all(b"probe output").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "probe output");
    }

    #[test]
    fn keeps_everything_up_to_the_cap() {
        let c = captured(b"hello\n", 6);
        assert_eq!(c.text, "hello\n");
        assert_eq!((c.bytes, c.dropped), (6, 0));
    }

    #[test]
    fn keeps_head_and_tail_over_the_cap() {
        let c = captured(b"0123456789abcdefghij", 8);
        assert_eq!(c.text, "0123\n[... 12 bytes dropped ...]\nghij");
        assert_eq!((c.bytes, c.dropped), (20, 12));
    }

    #[test]
    fn an_odd_cap_gives_the_extra_byte_to_the_tail() {
        let c = captured(b"0123456789", 5);
        assert_eq!(c.text, "01\n[... 5 bytes dropped ...]\n789");
    }

    #[test]
    fn a_character_cut_in_two_becomes_replacement_characters() {
        // "é" is two bytes; a cap of 4 cuts the first one after its first byte
        // and keeps only the last byte of the second.
        let c = captured("aé-xyz-éb".as_bytes(), 4);
        assert!(c.text.starts_with("a\u{FFFD}\n[... "), "{:?}", c.text);
        assert!(c.text.ends_with("]\n\u{FFFD}b"), "{:?}", c.text);
        assert_eq!(c.bytes, 11);
        assert_eq!(c.dropped, 7);
    }

    #[test]
    fn a_zero_cap_keeps_only_the_note() {
        let c = captured(b"abc", 0);
        assert_eq!(c.text, "\n[... 3 bytes dropped ...]\n");
        assert_eq!(captured(b"", 0).text, "");
    }
}
