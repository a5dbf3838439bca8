//! Redis's compact blobs as they appear in RDB files: listpacks (written and read), and the
//! ziplists, zipmaps and intsets of older versions (read).
//!
//! A listpack is `total bytes (u32 LE) | count (u16 LE, 65535 = unknown) | entries | 0xFF`.
//! An entry is an encoding byte (small integers, 13/16/24/32/64-bit integers, 6/12/32-bit
//! string lengths), its data, and the entry's length written so it can be read backwards.
//! Strings that are canonical integers are stored as integers, as Redis does.

use crate::util::num::parse_i64;

/// An element of a blob: Redis stores integral strings as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element's text (integers formatted into `scratch`).
    pub fn bytes<'b>(&'b self, scratch: &'b mut itoa::Buffer) -> &'b [u8] {
        match self {
            Elem::Int(v) => scratch.format(*v).as_bytes(),
            Elem::Str(s) => s,
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Elem::Int(v) => itoa::Buffer::new().format(v).as_bytes().to_vec(),
            Elem::Str(s) => s.to_vec(),
        }
    }
}

const HEADER: usize = 6;
const END: u8 = 0xFF;

/// Builds a listpack byte for byte as Redis's lpAppend would.
pub struct LpBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpBuilder {
    fn default() -> Self {
        LpBuilder::new()
    }
}

impl LpBuilder {
    pub fn new() -> LpBuilder {
        LpBuilder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Bytes the finished listpack would have (lpBytes).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends a string, as an integer when it is a canonical one.
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(v) if s.len() <= 20 => self.push_int(v),
            _ => self.push_str(s),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        match v {
            0..=127 => self.buf.push(v as u8),
            -4096..=4095 => {
                let u = (v as u16) & 0x1fff;
                self.buf
                    .extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
            }
            -32768..=32767 => {
                self.buf.push(0xF1);
                self.buf.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8388608..=8388607 => {
                self.buf.push(0xF2);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2147483648..=2147483647 => {
                self.buf.push(0xF3);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                self.buf.push(0xF4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.end_entry(start);
    }

    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf
                .extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.end_entry(start);
    }

    fn end_entry(&mut self, start: usize) {
        let l = self.buf.len() - start;
        let mut back = [0u8; 5];
        let n = encode_backlen(l, &mut back);
        self.buf.extend_from_slice(&back[..n]);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// The bytes of an entry length `l` read backwards from its last byte.
fn encode_backlen(l: usize, out: &mut [u8; 5]) -> usize {
    let n = match l {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    };
    // High group first, unflagged; every later byte flagged with 0x80.
    for (i, b) in out[..n].iter_mut().enumerate() {
        let shift = 7 * (n - 1 - i);
        *b = ((l >> shift) & 127) as u8 | if i > 0 { 128 } else { 0 };
    }
    n
}

fn take(b: &[u8], at: usize, n: usize) -> Result<&[u8], String> {
    b.get(at..at.checked_add(n).ok_or("length overflow")?)
        .ok_or_else(|| "entry past the end of the blob".to_string())
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    }
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Every element of a listpack, checked against its header; Err names the problem.
pub fn listpack_elems(b: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if b.len() < HEADER + 1 {
        return Err("listpack shorter than its header".into());
    }
    let total = u32::from_le_bytes(b[..4].try_into().unwrap_or_default()) as usize;
    if total != b.len() {
        return Err("listpack size does not match its header".into());
    }
    if b[b.len() - 1] != END {
        return Err("listpack without its end byte".into());
    }
    let count = u16::from_le_bytes([b[4], b[5]]) as usize;
    let mut out = Vec::with_capacity(count.min(65535));
    let mut at = HEADER;
    let end = b.len() - 1;
    while at < end {
        let enc = b[at];
        let (elem, len) = if enc & 0x80 == 0 {
            (Elem::Int(enc as i64), 1)
        } else if enc & 0xC0 == 0x80 {
            let n = (enc & 0x3f) as usize;
            (Elem::Str(take(b, at + 1, n)?), 1 + n)
        } else if enc & 0xE0 == 0xC0 {
            let lo = *take(b, at + 1, 1)?.first().unwrap_or(&0);
            let v = (((enc & 0x1f) as u64) << 8) | lo as u64;
            (Elem::Int(sign_extend(v, 13)), 2)
        } else if enc & 0xF0 == 0xE0 {
            let lo = *take(b, at + 1, 1)?.first().unwrap_or(&0);
            let n = (((enc & 0x0f) as usize) << 8) | lo as usize;
            (Elem::Str(take(b, at + 2, n)?), 2 + n)
        } else {
            match enc {
                0xF0 => {
                    let n = u32::from_le_bytes(take(b, at + 1, 4)?.try_into().unwrap_or_default())
                        as usize;
                    (Elem::Str(take(b, at + 5, n)?), 5 + n)
                }
                0xF1..=0xF4 => {
                    let (n, bits) = match enc {
                        0xF1 => (2, 16),
                        0xF2 => (3, 24),
                        0xF3 => (4, 32),
                        _ => (8, 64),
                    };
                    let mut v = [0u8; 8];
                    v[..n].copy_from_slice(take(b, at + 1, n)?);
                    (Elem::Int(sign_extend(u64::from_le_bytes(v), bits)), 1 + n)
                }
                _ => return Err(format!("listpack entry with unknown encoding {enc:#x}")),
            }
        };
        let blen = backlen_size(len);
        let back = take(b, at + len, blen)?;
        let mut expect = [0u8; 5];
        encode_backlen(len, &mut expect);
        if back != &expect[..blen] {
            return Err("listpack entry with a wrong back-length".into());
        }
        at += len + blen;
        if at > end {
            return Err("listpack entry past the end byte".into());
        }
        out.push(elem);
    }
    if count != 65535 && count != out.len() {
        return Err("listpack count does not match its entries".into());
    }
    Ok(out)
}

/// Every element of a ziplist (RDB versions before 10).
pub fn ziplist_elems(b: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if b.len() < 11 {
        return Err("ziplist shorter than its header".into());
    }
    let total = u32::from_le_bytes(b[..4].try_into().unwrap_or_default()) as usize;
    if total != b.len() || b[b.len() - 1] != END {
        return Err("ziplist size or end byte wrong".into());
    }
    let mut out = Vec::new();
    let mut at = 10;
    let end = b.len() - 1;
    while at < end {
        at += if b[at] < 254 { 1 } else { 5 };
        let enc = *b.get(at).ok_or("ziplist entry cut short")?;
        let (elem, len) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                (Elem::Str(take(b, at + 1, n)?), 1 + n)
            }
            1 => {
                let lo = take(b, at + 1, 1)?[0];
                let n = (((enc & 0x3f) as usize) << 8) | lo as usize;
                (Elem::Str(take(b, at + 2, n)?), 2 + n)
            }
            2 => {
                let n =
                    u32::from_be_bytes(take(b, at + 1, 4)?.try_into().unwrap_or_default()) as usize;
                (Elem::Str(take(b, at + 5, n)?), 5 + n)
            }
            _ => {
                let (n, bits) = match enc {
                    0xC0 => (2, 16),
                    0xD0 => (4, 32),
                    0xE0 => (8, 64),
                    0xF0 => (3, 24),
                    0xFE => (1, 8),
                    0xF1..=0xFD => (0, 0),
                    _ => return Err(format!("ziplist entry with unknown encoding {enc:#x}")),
                };
                if n == 0 {
                    (Elem::Int((enc & 0x0f) as i64 - 1), 1)
                } else {
                    let mut v = [0u8; 8];
                    v[..n].copy_from_slice(take(b, at + 1, n)?);
                    (Elem::Int(sign_extend(u64::from_le_bytes(v), bits)), 1 + n)
                }
            }
        };
        at += len;
        if at > end {
            return Err("ziplist entry past the end byte".into());
        }
        out.push(elem);
    }
    Ok(out)
}

/// Field, value, field, value... of a zipmap (hashes of RDB versions before 4).
pub fn zipmap_elems(b: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut at = 1;
    let read_len = |at: &mut usize| -> Result<usize, String> {
        let first = *b.get(*at).ok_or("zipmap cut short")?;
        match first {
            0..=253 => {
                *at += 1;
                Ok(first as usize)
            }
            254 => {
                let n = u32::from_le_bytes(take(b, *at + 1, 4)?.try_into().unwrap_or_default());
                *at += 5;
                Ok(n as usize)
            }
            _ => Err("zipmap length marker where an entry was expected".into()),
        }
    };
    loop {
        match b.get(at) {
            None => return Err("zipmap without its end byte".into()),
            Some(&END) if at + 1 == b.len() => return Ok(out),
            Some(_) => {}
        }
        let n = read_len(&mut at)?;
        out.push(take(b, at, n)?);
        at += n;
        let n = read_len(&mut at)?;
        let free = *b.get(at).ok_or("zipmap cut short")? as usize;
        at += 1;
        out.push(take(b, at, n)?);
        at += n + free;
    }
}

/// An intset: (member width in bytes, members in the stored order).
pub fn intset_members(b: &[u8]) -> Result<(usize, Vec<i64>), String> {
    if b.len() < 8 {
        return Err("intset shorter than its header".into());
    }
    let width = u32::from_le_bytes(b[..4].try_into().unwrap_or_default()) as usize;
    let len = u32::from_le_bytes(b[4..8].try_into().unwrap_or_default()) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err("intset with an unknown width".into());
    }
    if len.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(b.len()) {
        return Err("intset size does not match its header".into());
    }
    let members: Vec<i64> = b[8..]
        .chunks_exact(width)
        .map(|c| {
            let mut v = [0u8; 8];
            v[..width].copy_from_slice(c);
            sign_extend(u64::from_le_bytes(v), 8 * width as u32)
        })
        .collect();
    if members.windows(2).any(|w| w[0] >= w[1]) {
        return Err("intset members out of order".into());
    }
    Ok((width, members))
}

/// An intset blob of `width`-byte members.
pub fn intset_bytes(width: usize, len: usize, members: impl Iterator<Item = i64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + width * len);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    for m in members {
        out.extend_from_slice(&m.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trip() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 100];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"4096",
            b"-32768",
            b"100000",
            b"-8388609",
            b"3000000000",
            b"-9223372036854775808",
            b"abc",
            b"",
            b"007",
            &mid,
            &long,
        ];
        let mut b = LpBuilder::new();
        for i in &items {
            b.push(i);
        }
        let lp = b.finish();
        let back: Vec<Vec<u8>> = listpack_elems(&lp)
            .unwrap()
            .into_iter()
            .map(Elem::to_vec)
            .collect();
        let want: Vec<Vec<u8>> = items.iter().map(|i| i.to_vec()).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn listpack_matches_redis_bytes() {
        // RPUSH l a 1 from redis-server 7.0: header, "a", 1, end.
        let mut b = LpBuilder::new();
        b.push(b"a");
        b.push(b"1");
        assert_eq!(
            b.finish(),
            vec![12, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xFF]
        );
    }

    #[test]
    fn corrupt_listpacks_are_errors() {
        let mut b = LpBuilder::new();
        b.push(b"hello");
        let lp = b.finish();
        for cut in 0..lp.len() {
            assert!(listpack_elems(&lp[..cut]).is_err());
        }
        let mut bad = lp.clone();
        bad[6] = 0x86;
        assert!(listpack_elems(&bad).is_err());
    }

    #[test]
    fn intsets() {
        let blob = intset_bytes(4, 3, [-5i64, 7, 70000].into_iter());
        assert_eq!(intset_members(&blob).unwrap(), (4, vec![-5, 7, 70000]));
        assert!(intset_members(&blob[..10]).is_err());
    }
}
