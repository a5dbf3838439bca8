//! A compact sequence of byte strings in one allocation: the role of Redis's listpack in the
//! text nodes of lists (small hashes and sorted sets use `smallpack::SmallPack`, which walks
//! forwards only and so needs no back-lengths), so a node of a few short elements costs one
//! allocation and a byte or two of overhead per element.
//!
//! Each entry is its length as a LEB128 varint, its bytes, and its length again written to be
//! read backwards (Redis's "backlen"), so the list can be walked from either end: popping the
//! last entry of a list node is O(1). Access in the middle is by a walk, which is what Redis
//! does too below its listpack thresholds (a few hundred entries or a few KiB), and is
//! cache-friendly at those sizes.

/// The byte offset of an entry inside a `Listpack`.
pub type Offset = usize;

/// The buffer is kept at its exact size (a boxed slice, 16 bytes instead of a Vec's 24), so a
/// listpack is 24 bytes and fits inline in a key's `Value`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Box<[u8]>,
    len: u32,
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn write_varint(out: &mut [u8], mut n: usize) {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
}

/// Writes `n` so it can be read from its last byte backwards: the least significant group
/// last, every byte but the first flagged with 0x80 ("more before me").
fn write_backlen(out: &mut [u8], n: usize) {
    let len = out.len();
    let mut v = n;
    for i in (0..len).rev() {
        out[i] = (v as u8 & 0x7f) | if i > 0 { 0x80 } else { 0 };
        v >>= 7;
    }
}

/// The encoded size of an entry holding `n` bytes.
#[inline]
pub fn entry_size(n: usize) -> usize {
    2 * varint_len(n) + n
}

/// Encodes one entry into `out` (which has exactly `entry_size(value.len())` bytes).
fn write_entry(out: &mut [u8], value: &[u8]) {
    let hdr = varint_len(value.len());
    write_varint(&mut out[..hdr], value.len());
    out[hdr..hdr + value.len()].copy_from_slice(value);
    write_backlen(&mut out[hdr + value.len()..], value.len());
}

impl Listpack {
    pub fn new() -> Listpack {
        Listpack::default()
    }

    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Listpack {
        let mut lp = Listpack::new();
        for e in entries {
            lp.push_back(e);
        }
        lp
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Encoded size in bytes (what the byte-size thresholds compare against).
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// Bytes allocated (memory accounting).
    pub fn allocated(&self) -> usize {
        self.buf.len()
    }

    /// Edits the buffer as a Vec and stores it back at its exact size.
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let r = f(&mut v);
        self.buf = v.into_boxed_slice();
        r
    }

    /// The entry at `off` and the offset of the next one.
    #[inline]
    pub fn entry_at(&self, off: Offset) -> (&[u8], Offset) {
        let mut n = 0usize;
        let mut shift = 0;
        let mut i = off;
        loop {
            let b = self.buf[i];
            n |= ((b & 0x7f) as usize) << shift;
            i += 1;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        (&self.buf[i..i + n], i + n + varint_len(n))
    }

    /// The offset of the entry before the one at `off` (None at the start).
    #[inline]
    pub fn prev_offset(&self, off: Offset) -> Option<Offset> {
        if off == 0 {
            return None;
        }
        let mut i = off - 1;
        let mut n = (self.buf[i] & 0x7f) as usize;
        let mut shift = 7;
        while self.buf[i] & 0x80 != 0 {
            i -= 1;
            n |= ((self.buf[i] & 0x7f) as usize) << shift;
            shift += 7;
        }
        Some(off - entry_size(n))
    }

    /// The offset of the last entry.
    #[inline]
    pub fn last_offset(&self) -> Option<Offset> {
        self.prev_offset(self.buf.len())
    }

    /// Offset one past the last entry (where `push_back` writes).
    #[inline]
    pub fn end(&self) -> Offset {
        self.buf.len()
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { lp: self, off: 0 }
    }

    /// Entries with their offsets.
    pub fn iter_offsets(&self) -> impl Iterator<Item = (Offset, &[u8])> {
        let mut off = 0;
        std::iter::from_fn(move || {
            if off >= self.buf.len() {
                return None;
            }
            let (e, next) = self.entry_at(off);
            let at = off;
            off = next;
            Some((at, e))
        })
    }

    /// Offset of the entry at `index` (or `end()` when index == len).
    pub fn offset_of(&self, index: usize) -> Offset {
        let mut off = 0;
        for _ in 0..index {
            off = self.entry_at(off).1;
        }
        off
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        (index < self.len()).then(|| self.entry_at(self.offset_of(index)).0)
    }

    pub fn first(&self) -> Option<&[u8]> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&[u8]> {
        self.last_offset().map(|off| self.entry_at(off).0)
    }

    /// Inserts `value` as a new entry at byte offset `off` (an entry boundary).
    pub fn insert_at(&mut self, off: Offset, value: &[u8]) {
        let size = entry_size(value.len());
        self.edit(|buf| {
            let old = buf.len();
            buf.reserve_exact(size);
            buf.resize(old + size, 0);
            buf.copy_within(off..old, off + size);
            write_entry(&mut buf[off..off + size], value);
        });
        self.len += 1;
    }

    /// Removes the entry at `off`; returns the offset now holding the following entry.
    pub fn remove_at(&mut self, off: Offset) -> Offset {
        let next = self.entry_at(off).1;
        self.edit(|buf| buf.drain(off..next).for_each(drop));
        self.len -= 1;
        off
    }

    /// Removes `count` entries starting at `off`.
    pub fn remove_range_at(&mut self, off: Offset, count: usize) {
        let mut end = off;
        for _ in 0..count {
            end = self.entry_at(end).1;
        }
        self.edit(|buf| buf.drain(off..end).for_each(drop));
        self.len -= count as u32;
    }

    /// Replaces the entry at `off` with `value`.
    pub fn replace_at(&mut self, off: Offset, value: &[u8]) {
        let next = self.entry_at(off).1;
        let mut entry = vec![0; entry_size(value.len())];
        write_entry(&mut entry, value);
        self.edit(|buf| buf.splice(off..next, entry).for_each(drop));
    }

    pub fn insert(&mut self, index: usize, value: &[u8]) {
        let off = self.offset_of(index);
        self.insert_at(off, value);
    }

    pub fn remove(&mut self, index: usize) {
        let off = self.offset_of(index);
        self.remove_at(off);
    }

    pub fn push_back(&mut self, value: &[u8]) {
        self.insert_at(self.buf.len(), value);
    }

    pub fn push_front(&mut self, value: &[u8]) {
        self.insert_at(0, value);
    }

    /// Moves the entries from `index` on into a new listpack.
    pub fn split_off(&mut self, index: usize) -> Listpack {
        let off = self.offset_of(index);
        let tail = Listpack {
            buf: self.buf[off..].into(),
            len: self.len - index as u32,
        };
        self.edit(|buf| buf.truncate(off));
        self.len = index as u32;
        tail
    }

    /// Appends every entry of `other`.
    pub fn append(&mut self, other: &Listpack) {
        self.edit(|buf| {
            buf.reserve_exact(other.buf.len());
            buf.extend_from_slice(&other.buf);
        });
        self.len += other.len;
    }
}

pub struct Iter<'a> {
    lp: &'a Listpack,
    off: Offset,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.off >= self.lp.buf.len() {
            return None;
        }
        let (e, next) = self.lp.entry_at(self.off);
        self.off = next;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn push_insert_remove_replace() {
        let mut lp = Listpack::new();
        lp.push_back(b"b");
        lp.push_front(b"a");
        lp.push_back(b"");
        let big = vec![b'x'; 300];
        lp.insert(2, &big);
        assert_eq!(lp.len(), 4);
        assert_eq!(
            items(&lp),
            vec![b"a".to_vec(), b"b".to_vec(), big.clone(), vec![]]
        );
        assert_eq!(lp.byte_len(), 3 + 3 + 304 + 2);
        lp.replace_at(lp.offset_of(2), b"short");
        assert_eq!(lp.get(2), Some(&b"short"[..]));
        lp.replace_at(lp.offset_of(0), &big);
        assert_eq!(lp.first(), Some(&big[..]));
        lp.remove(0);
        assert_eq!(items(&lp), vec![b"b".to_vec(), b"short".to_vec(), vec![]]);
        assert_eq!(lp.last(), Some(&b""[..]));
        lp.remove_range_at(0, 2);
        assert_eq!(items(&lp), vec![Vec::<u8>::new()]);
        assert_eq!(lp.get(1), None);
    }

    #[test]
    fn split_and_append() {
        let entries: Vec<Vec<u8>> = (0..50).map(|i| format!("e{i}").into_bytes()).collect();
        let mut lp = Listpack::from_entries(entries.iter().map(|e| e.as_slice()));
        let tail = lp.split_off(20);
        assert_eq!(lp.len(), 20);
        assert_eq!(tail.len(), 30);
        assert_eq!(tail.first(), Some(&b"e20"[..]));
        lp.append(&tail);
        assert_eq!(items(&lp), entries);
        let offs: Vec<_> = lp.iter_offsets().map(|(o, _)| o).collect();
        assert_eq!(offs[1], lp.offset_of(1));
    }

    #[test]
    fn varint_lengths_roundtrip() {
        for n in [0usize, 1, 127, 128, 16383, 16384, 70000] {
            let v = vec![7u8; n];
            let mut lp = Listpack::new();
            lp.push_back(&v);
            lp.push_back(b"z");
            assert_eq!(lp.get(0).unwrap().len(), n);
            assert_eq!(lp.get(1), Some(&b"z"[..]));
            assert_eq!(lp.byte_len(), entry_size(n) + 3);
            assert_eq!(lp.last_offset(), Some(entry_size(n)));
            assert_eq!(lp.prev_offset(entry_size(n)), Some(0));
            assert_eq!(lp.prev_offset(0), None);
        }
    }
}
