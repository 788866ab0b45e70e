//! Go build info: the blob `go version -m` reads, decoded without Go.
//!
//! Follows Go 1.26's `debug/buildinfo` in finding and decoding the blob;
//! `modinfo` parses the text inside it. Unlike Go,
//! a corrupt candidate does not end the search: hostile or truncated files
//! still yield whatever a later candidate holds.

use super::{modinfo, Inspection};

/// `\xff` is invalid UTF-8, which keeps the magic out of ordinary strings.
const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
const ALIGN: u64 = 16;
/// Flag bit 0x2: version and modinfo follow the header inline (Go >= 1.18);
/// without it the header holds pointers to two Go strings.
const FLAG_INLINE: u8 = 0x2;
const FLAG_BIG_ENDIAN: u8 = 0x1;

/// The sentinels that frame `runtime.modinfo`
/// (cmd/go/internal/modload: infoStart, infoEnd).
const INFO_START: [u8; 16] = [
    0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6,
];
const INFO_END: [u8; 16] = [
    0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2,
];

/// Bytes of the file that the program sees at `addr` once loaded.
#[derive(Clone, Copy, Debug)]
pub(super) struct Region<'a> {
    pub addr: u64,
    pub bytes: &'a [u8],
}

/// What a format reader tells this module about a binary.
#[derive(Default)]
pub(super) struct Image<'a> {
    /// Loadable ranges, so the pre-1.18 pointer format can be followed.
    pub regions: Vec<Region<'a>>,
    /// Where this format's Go linker puts the blob: `.go.buildinfo`,
    /// `__go_buildinfo`, or the first writable data segment or section.
    pub preferred: Option<Region<'a>>,
    /// Set for wasm, where Go's linker never writes the blob
    /// (cmd/link/internal/wasm.asmb copies only rodata..data sections), so
    /// `runtime.modinfo` is found by its sentinels instead.
    pub blobless: bool,
    /// wasm: the toolchain named in the `producers` section.
    pub toolchain: Option<String>,
}

impl Image<'_> {
    /// Up to `len` bytes at `addr`, stopping at the end of its region, as
    /// Go's `readData` does.
    fn read(&self, addr: u64, len: u64) -> Option<&[u8]> {
        self.regions.iter().find_map(|r| {
            let off = usize::try_from(addr.checked_sub(r.addr)?).ok()?;
            let rest = r.bytes.get(off..).filter(|b| !b.is_empty())?;
            let len = usize::try_from(len).unwrap_or(usize::MAX).min(rest.len());
            Some(&rest[..len])
        })
    }
}

/// Adds `buildinfo.*` facts, or a note saying why there are none.
pub(super) fn read(file: &[u8], img: &Image, out: &mut Inspection) {
    let whole = Region {
        addr: 0,
        bytes: file,
    };
    let (version, modinfo) = match find_blob(img, whole) {
        Ok(Found {
            version,
            modinfo,
            preferred,
        }) => {
            if !preferred {
                out.note(
                    "Go build info found only by scanning the whole file: \
                     it is not where Go's linker puts it (damaged or repacked binary?)",
                );
            }
            (version, modinfo)
        }
        Err(why) => match img.blobless.then(|| find_modinfo(img)).flatten() {
            Some(modinfo) => {
                out.note(match &img.toolchain {
                    Some(_) => "no Go build info blob (Go's linker writes none for wasm): \
                                go_version is from the producers section, the rest from runtime.modinfo",
                    None => "no Go build info blob (Go's linker writes none for wasm) and no producers \
                             section: no go_version; the rest is from runtime.modinfo",
                });
                (img.toolchain.clone().unwrap_or_default(), modinfo)
            }
            None => {
                out.note(format!("no Go build info ({why})"));
                return;
            }
        },
    };
    if !version.is_empty() {
        out.set("buildinfo.go_version", version);
    }
    if modinfo.is_empty() {
        out.note("Go build info has no module info (built outside module mode)");
        return;
    }
    let (info, err) = modinfo::parse(modinfo);
    if let Some(err) = err {
        out.note(format!(
            "Go module info is malformed: {err}; kept the lines before it"
        ));
    }
    info.into_facts(out);
}

struct Found<'a> {
    version: String,
    modinfo: &'a [u8],
    preferred: bool,
}

fn find_blob<'a>(img: &'a Image<'a>, whole: Region<'a>) -> Result<Found<'a>, String> {
    let mut first_err = None;
    // With no preferred place known, anywhere loadable is as good.
    let expected = |r| img.preferred.is_none() && !std::ptr::eq(r, &whole);
    let candidates = img.preferred.iter().map(|r| (r, true));
    let candidates = candidates.chain(img.regions.iter().chain([&whole]).map(|r| (r, expected(r))));
    for (region, preferred) in candidates {
        // A plain loop: this runs over whole files, and iterator adaptors
        // cost ten times as much in the unoptimised builds tests use.
        let bytes = region.bytes;
        let mut off = ((ALIGN - region.addr % ALIGN) % ALIGN) as usize;
        while off < bytes.len() {
            if bytes[off] == MAGIC[0] && bytes[off..].starts_with(MAGIC) {
                match decode(img, region, off) {
                    Ok((version, modinfo)) => {
                        return Ok(Found {
                            version,
                            modinfo,
                            preferred,
                        })
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            off += ALIGN as usize;
        }
    }
    Err(first_err.unwrap_or_else(|| "not a Go binary".to_owned()))
}

fn decode<'a>(
    img: &'a Image<'a>,
    region: &Region<'a>,
    off: usize,
) -> Result<(String, &'a [u8]), String> {
    let header = region
        .bytes
        .get(off..off + HEADER_LEN)
        .ok_or("Go build info header is truncated")?;
    let flags = header[15];
    let (version, modinfo): (&[u8], &[u8]) = if flags & FLAG_INLINE != 0 {
        let rest = &region.bytes[off + HEADER_LEN..];
        let (version, rest) = varint_string(rest).ok_or("Go version string is truncated")?;
        let (modinfo, _) = varint_string(rest).ok_or("Go module info string is truncated")?;
        (version, modinfo)
    } else {
        let ptr_size = usize::from(header[14]);
        let big = flags & FLAG_BIG_ENDIAN != 0;
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("Go build info has pointer size {ptr_size}"));
        }
        let ptr = |b: &[u8]| read_uint(b, ptr_size, big);
        let at = |i: usize| header.get(16 + i * ptr_size..).and_then(ptr);
        let string = |addr: Option<u64>| -> Option<&'a [u8]> {
            let hdr = img.read(addr?, 2 * ptr_size as u64)?;
            let (data, len) = (ptr(hdr)?, ptr(hdr.get(ptr_size..)?)?);
            img.read(data, len).filter(|b| b.len() as u64 == len)
        };
        let version = string(at(0)).ok_or("Go version pointer leads nowhere")?;
        (version, string(at(1)).unwrap_or_default())
    };
    if version.is_empty() {
        return Err("Go build info has an empty Go version".to_owned());
    }
    Ok((
        String::from_utf8_lossy(version).into_owned(),
        strip_sentinels(modinfo),
    ))
}

fn read_uint(b: &[u8], size: usize, big: bool) -> Option<u64> {
    let b = b.get(..size)?;
    let fold = |acc: u64, &byte: &u8| acc << 8 | u64::from(byte);
    Some(if big {
        b.iter().fold(0, fold)
    } else {
        b.iter().rev().fold(0, fold)
    })
}

/// A uvarint length (Go's `encoding/binary`) then that many bytes.
fn varint_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        len |= u64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte < 0x80 {
            let rest = &b[i + 1..];
            let len = usize::try_from(len).ok().filter(|&l| l <= rest.len())?;
            return Some(rest.split_at(len));
        }
    }
    None
}

/// Go checks for the newline before the end sentinel, not the sentinels
/// themselves; do the same so the two readers agree.
fn strip_sentinels(m: &[u8]) -> &[u8] {
    if m.len() >= 33 && m[m.len() - 17] == b'\n' {
        &m[16..m.len() - 16]
    } else {
        &[]
    }
}

/// `runtime.modinfo` framed by its sentinels, in the loaded data.
fn find_modinfo<'a>(img: &Image<'a>) -> Option<&'a [u8]> {
    img.regions.iter().find_map(|r| {
        let start = find(r.bytes, &INFO_START)?;
        let body = &r.bytes[start + INFO_START.len()..];
        let end = find(body, &INFO_END)?;
        let body = &body[..end];
        body.ends_with(b"\n").then_some(body)
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|b| b == first) {
        let at = from + i;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lays out what Go 1.17's linker wrote: a header pointing at two Go
    /// string headers, each pointing at the bytes, spread over regions.
    fn pointer_format(ptr_size: usize, big: bool) -> Inspection {
        let ptr = |v: u64| {
            let b = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            if big {
                b[8 - ptr_size..].to_vec()
            } else {
                b[..ptr_size].to_vec()
            }
        };
        let modinfo = [
            &INFO_START[..],
            b"path\tex/old\nbuild\tGOARCH=mips\n",
            &INFO_END,
        ]
        .concat();
        let mut header = MAGIC.to_vec();
        header.push(ptr_size as u8);
        header.push(u8::from(big));
        header.extend(ptr(0x2000));
        header.extend(ptr(0x2000 + 2 * ptr_size as u64));
        header.resize(HEADER_LEN, 0);
        let strings = [ptr(0x3000), ptr(8), ptr(0x3010), ptr(modinfo.len() as u64)].concat();
        let mut data = b"go1.17.1".to_vec();
        data.resize(0x10, 0);
        data.extend(&modinfo);
        let regions = vec![
            Region {
                addr: 0x1000,
                bytes: &header,
            },
            Region {
                addr: 0x2000,
                bytes: &strings,
            },
            Region {
                addr: 0x3000,
                bytes: &data,
            },
        ];
        let img = Image {
            preferred: Some(regions[0]),
            regions,
            ..Image::default()
        };
        let mut out = Inspection::default();
        read(&[], &img, &mut out);
        out
    }

    #[test]
    fn follows_pre_go1_18_pointers() {
        for (ptr_size, big) in [(8, false), (4, true)] {
            let out = pointer_format(ptr_size, big);
            assert_eq!(out.notes, Vec::<String>::new());
            assert_eq!(out.facts["buildinfo.go_version"], "go1.17.1");
            assert_eq!(out.facts["buildinfo.path"], "ex/old");
            assert_eq!(out.facts["buildinfo.GOARCH"], "mips");
        }
    }

    #[test]
    fn varint_lengths_cannot_overrun() {
        assert_eq!(
            varint_string(&[3, b'a', b'b', b'c', b'd']),
            Some((&b"abc"[..], &b"d"[..]))
        );
        assert_eq!(varint_string(&[4, b'a']), None);
        assert_eq!(varint_string(&[0xff; 11]), None);
        assert_eq!(
            varint_string(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]),
            None
        );
    }
}
