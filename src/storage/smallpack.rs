//! The compact encoding of small hashes and sorted sets (what Redis calls their listpack): a
//! sequence of byte strings in one exact-size allocation behind a thin pointer, so the value
//! inline in a key's entry is 8 bytes and a small collection costs one allocation with a byte
//! of overhead per short entry.
//!
//! The allocation holds the body's byte length and the entry count as LEB128 varints, then the
//! entries, each its length as a varint followed by its bytes. Unlike `Listpack` (which list
//! nodes keep) there is no back-length: these collections are bounded by the
//! *-max-listpack-* configs, so a backward walk is a forward pass collecting offsets, and the
//! bytes saved keep a typical small hash or sorted set one jemalloc size class lower.
//! Every edit writes a fresh exact-size allocation, as `Listpack`'s shrink-to-fit does.

use std::ops::Range;
use std::ptr::NonNull;

/// The byte offset of an entry inside a pack's body.
pub type Offset = usize;

/// The header of the empty pack (body length 0, no entries): an empty pack points here and
/// owns no allocation. Never written through.
static EMPTY: EmptyHeader = EmptyHeader([0, 0]);

/// Aligned so that a pack's pointer always has its low bit clear (`packed::Packed` tags it).
#[repr(align(8))]
struct EmptyHeader([u8; 2]);

/// Transparent over its pointer, which `packed::Packed` relies on.
#[repr(transparent)]
pub struct SmallPack {
    ptr: NonNull<u8>,
}

// SAFETY: a SmallPack owns its allocation exclusively (like a Box<[u8]>); the shared empty
// header is immutable.
unsafe impl Send for SmallPack {}
// SAFETY: as above; `&SmallPack` only ever reads.
unsafe impl Sync for SmallPack {}

/// The allocation of a pack of `bytes` bytes.
fn pack_layout(bytes: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(bytes, 2).expect("a pack's size fits a layout")
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Writes a pack's bytes into its fresh allocation.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn varint(&mut self, mut n: usize) {
        while n >= 0x80 {
            self.out[self.at] = (n as u8) | 0x80;
            self.at += 1;
            n >>= 7;
        }
        self.out[self.at] = n as u8;
        self.at += 1;
    }

    fn bytes(&mut self, b: &[u8]) {
        self.out[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }
}

/// The encoded size of an entry holding `n` bytes.
#[inline]
pub fn entry_size(n: usize) -> usize {
    varint_len(n) + n
}

/// The entry at `off` of `body` and the offset of the next one.
#[inline]
fn entry_in(body: &[u8], off: Offset) -> (&[u8], Offset) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = off;
    loop {
        let b = body[i];
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    (&body[i..i + n], i + n)
}

impl SmallPack {
    pub fn new() -> SmallPack {
        SmallPack {
            ptr: NonNull::from(&EMPTY.0).cast(),
        }
    }

    /// Builds a pack from its entries in one allocation.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> SmallPack {
        let mut body = Vec::new();
        let mut count = 0;
        for e in entries {
            push_varint(&mut body, e.len());
            body.extend_from_slice(e);
            count += 1;
        }
        SmallPack::build(body.len(), count, |w| w.bytes(&body))
    }

    /// A pack of `count` entries whose body of `body_len` bytes `write_body` writes after the
    /// header, in one allocation of exactly its size aligned to 2: `packed::Packed` uses the
    /// pointer's low bit, and a byte buffer's own allocation promises no alignment.
    fn build(body_len: usize, count: usize, write_body: impl FnOnce(&mut Writer)) -> SmallPack {
        if count == 0 {
            return SmallPack::new();
        }
        let total = varint_len(body_len) + varint_len(count) + body_len;
        let layout = pack_layout(total);
        // SAFETY: the layout has a non-zero size (a pack with entries has a header).
        let Some(ptr) = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) }) else {
            std::alloc::handle_alloc_error(layout)
        };
        // SAFETY: a fresh, initialised allocation of `total` bytes, owned here.
        let out = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), total) };
        let mut w = Writer { out, at: 0 };
        w.varint(body_len);
        w.varint(count);
        write_body(&mut w);
        // `Drop` frees by the size the header gives: it must be what was allocated.
        assert_eq!(w.at, total, "a pack's body is the size its header says");
        SmallPack { ptr }
    }

    fn is_shared_empty(&self) -> bool {
        std::ptr::eq(self.ptr.as_ptr(), EMPTY.0.as_ptr())
    }

    /// (header bytes, body bytes, entry count).
    #[inline]
    fn header(&self) -> (usize, usize, usize) {
        let p = self.ptr.as_ptr();
        let read = |at: &mut usize| {
            let mut n = 0usize;
            let mut shift = 0;
            loop {
                // SAFETY: the header is two complete varints at the start of the allocation.
                let b = unsafe { *p.add(*at) };
                *at += 1;
                n |= ((b & 0x7f) as usize) << shift;
                if b < 0x80 {
                    return n;
                }
                shift += 7;
            }
        };
        let mut at = 0;
        let body = read(&mut at);
        let count = read(&mut at);
        (at, body, count)
    }

    /// The entries' bytes, as one slice.
    #[inline]
    fn body(&self) -> &[u8] {
        let (hdr, len, _) = self.header();
        // SAFETY: the allocation holds `hdr` header bytes followed by `len` body bytes.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(hdr), len) }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.header().2
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded size of the entries in bytes.
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.header().1
    }

    /// Bytes allocated (memory accounting): the header and the entries.
    pub fn allocated(&self) -> usize {
        if self.is_shared_empty() {
            return 0;
        }
        let (hdr, len, _) = self.header();
        hdr + len
    }

    /// Offset one past the last entry.
    #[inline]
    pub fn end(&self) -> Offset {
        self.byte_len()
    }

    /// The entry at `off` and the offset of the next one.
    #[inline]
    pub fn entry_at(&self, off: Offset) -> (&[u8], Offset) {
        entry_in(self.body(), off)
    }

    pub fn iter(&self) -> Iter<'_> {
        self.iter_at(0)
    }

    /// Entries with their offsets.
    pub fn iter_offsets(&self) -> impl Iterator<Item = (Offset, &[u8])> {
        let body = self.body();
        let mut off = 0;
        std::iter::from_fn(move || {
            if off >= body.len() {
                return None;
            }
            let (e, next) = entry_in(body, off);
            let at = off;
            off = next;
            Some((at, e))
        })
    }

    /// The entries from offset `off` on.
    pub fn iter_at(&self, off: Offset) -> Iter<'_> {
        Iter {
            body: self.body(),
            off,
        }
    }

    /// Offset of the entry at `index` (or `end()` when index == len). Reads lengths only,
    /// with a shortcut for the one-byte ones, as backward walks over sorted sets start here.
    pub fn offset_of(&self, index: usize) -> Offset {
        let body = self.body();
        let mut off = 0;
        for _ in 0..index {
            let b = body[off];
            off = if b < 0x80 {
                off + 1 + b as usize
            } else {
                entry_in(body, off).1
            };
        }
        off
    }

    /// Replaces the `removed` entries in the body bytes `range` with `new`, in a fresh
    /// exact-size allocation.
    fn splice(&mut self, range: Range<Offset>, removed: usize, new: &[&[u8]]) {
        let body = self.body();
        let count = self.len() - removed + new.len();
        let added: usize = new.iter().map(|e| entry_size(e.len())).sum();
        let body_len = body.len() - range.len() + added;
        let fresh = SmallPack::build(body_len, count, |w| {
            w.bytes(&body[..range.start]);
            for e in new {
                w.varint(e.len());
                w.bytes(e);
            }
            w.bytes(&body[range.end..]);
        });
        *self = fresh;
    }

    /// Inserts `entries` before the entry at `off` (or at the end when off == end()).
    pub fn insert_at(&mut self, off: Offset, entries: &[&[u8]]) {
        self.splice(off..off, 0, entries);
    }

    pub fn push_back(&mut self, entries: &[&[u8]]) {
        self.insert_at(self.end(), entries);
    }

    /// Removes `count` entries starting at `off`.
    pub fn remove_range_at(&mut self, off: Offset, count: usize) {
        let body = self.body();
        let mut end = off;
        for _ in 0..count {
            end = entry_in(body, end).1;
        }
        self.splice(off..end, count, &[]);
    }

    /// Replaces the entry at `off` with `value`.
    pub fn replace_at(&mut self, off: Offset, value: &[u8]) {
        let next = self.entry_at(off).1;
        self.splice(off..next, 1, &[value]);
    }
}

impl Drop for SmallPack {
    fn drop(&mut self) {
        if self.is_shared_empty() {
            return;
        }
        let (hdr, len, _) = self.header();
        // SAFETY: a non-empty pack owns an allocation of hdr + len bytes made by `build`
        // with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), pack_layout(hdr + len)) };
    }
}

impl Default for SmallPack {
    fn default() -> SmallPack {
        SmallPack::new()
    }
}

impl Clone for SmallPack {
    fn clone(&self) -> SmallPack {
        if self.is_shared_empty() {
            return SmallPack::new();
        }
        let (_, len, count) = self.header();
        SmallPack::build(len, count, |w| w.bytes(self.body()))
    }
}

impl std::fmt::Debug for SmallPack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

pub struct Iter<'a> {
    body: &'a [u8],
    off: Offset,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.off >= self.body.len() {
            return None;
        }
        let (e, next) = entry_in(self.body, self.off);
        self.off = next;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(p: &SmallPack) -> Vec<Vec<u8>> {
        p.iter().map(|e| e.to_vec()).collect()
    }

    fn check(p: &SmallPack, model: &[Vec<u8>]) {
        assert_eq!(items(p), model);
        assert_eq!(p.len(), model.len());
        let body: usize = model.iter().map(|e| entry_size(e.len())).sum();
        assert_eq!(p.byte_len(), body);
        let hdr = if model.is_empty() {
            0
        } else {
            varint_len(body) + varint_len(model.len())
        };
        assert_eq!(p.allocated(), hdr + body);
        let offs: Vec<_> = p.iter_offsets().map(|(o, _)| o).collect();
        assert_eq!(
            offs,
            (0..model.len()).map(|i| p.offset_of(i)).collect::<Vec<_>>()
        );
        assert_eq!(p.offset_of(model.len()), p.end());
        for i in [0, model.len() / 2, model.len()] {
            assert!(
                p.iter_at(p.offset_of(i))
                    .eq(model[i..].iter().map(|v| v.as_slice()))
            );
        }
    }

    #[test]
    fn thin_and_exact() {
        assert_eq!(std::mem::size_of::<SmallPack>(), 8);
        assert_eq!(std::mem::size_of::<Option<SmallPack>>(), 8);
        let p = SmallPack::from_entries([&b"field:1"[..], &[b'v'; 16][..]]);
        // Two header bytes, then 1 + 7 and 1 + 16.
        assert_eq!(p.allocated(), 2 + 8 + 17);
        assert_eq!(SmallPack::new().allocated(), 0);
    }

    #[test]
    fn random_edits_match_a_model() {
        fastrand::seed(7);
        let mut p = SmallPack::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        let lens = [0usize, 1, 5, 16, 127, 128, 300, 20000];
        for _ in 0..3000 {
            let value = || vec![fastrand::u8(..); lens[fastrand::usize(..lens.len())]];
            match fastrand::u8(..6) {
                0 | 1 => {
                    let at = fastrand::usize(..=model.len());
                    let new = [value(), value()];
                    let n = fastrand::usize(1..=2);
                    let refs: Vec<&[u8]> = new[..n].iter().map(|v| v.as_slice()).collect();
                    p.insert_at(p.offset_of(at), &refs);
                    model.splice(at..at, new[..n].iter().cloned());
                }
                2 if !model.is_empty() => {
                    let at = fastrand::usize(..model.len());
                    let n = fastrand::usize(1..=(model.len() - at).min(3));
                    p.remove_range_at(p.offset_of(at), n);
                    model.drain(at..at + n);
                }
                3 if !model.is_empty() => {
                    let at = fastrand::usize(..model.len());
                    let v = value();
                    p.replace_at(p.offset_of(at), &v);
                    model[at] = v;
                }
                4 => {
                    let v = value();
                    p.push_back(&[&v]);
                    model.push(v);
                }
                _ => {
                    let copy = p.clone();
                    check(&copy, &model);
                    let rebuilt = SmallPack::from_entries(model.iter().map(|v| v.as_slice()));
                    check(&rebuilt, &model);
                }
            }
            check(&p, &model);
            if model.len() > 40 {
                p.remove_range_at(0, model.len());
                model.clear();
                check(&p, &model);
            }
        }
    }
}
