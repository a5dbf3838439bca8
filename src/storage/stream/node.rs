//! One node of a stream: a run of consecutive entries in one allocation, the role of the
//! listpacks Redis keeps in its radix tree. The node starts with a "master" list of field names
//! (those of its first entry); an entry with exactly those fields stores only its values.
//!
//! Layout of `data`: the master field names, then the entries. Every string is a LEB128 length
//! followed by its bytes. An entry is
//!
//! ```text
//! flags(1) | ms - master.ms | seq part | [field count] | [field] value ...
//! ```
//!
//! where the seq part is `seq - master.seq` when the ms part is 0, else the plain seq (so it
//! never goes negative), both as LEB128; the field count and names are only there without
//! `SAME_FIELDS`. Deleted entries stay as tombstones (flag `DELETED`) until the whole node goes,
//! as in Redis, so node boundaries, trimming and XINFO's counters match Redis's.
//!
//! Besides its own bytes, a node tracks how large Redis's listpack for the same entries would
//! be (`redis_bytes`): Redis starts a new node when that size would pass
//! stream-node-max-bytes, and approximate trimming (`MAXLEN ~`) removes whole nodes only, so
//! the boundaries must fall where Redis puts them for trimming to remove what Redis removes.

use super::StreamId;
use crate::util::num::parse_i64;

pub const DELETED: u8 = 1;
pub const SAME_FIELDS: u8 = 2;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    data: Vec<u8>,
    /// Offset of the first entry (just past the master field names).
    entries_at: u32,
    master_fields: u32,
    /// Entries not deleted, and tombstones.
    pub live: u32,
    pub deleted: u32,
    /// Id of the last entry added, tombstone or not (MINID trimming drops a node when it is
    /// below the bound, as Redis does).
    pub last: StreamId,
    /// Redis's listpack size for this node, without the header, the end byte and the two
    /// counters (whose encoded size changes as they change).
    redis_bytes: u64,
}

/// An entry's decoded header.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub flags: u8,
    pub id: StreamId,
    pub fields: usize,
    /// Offset of the first field name (or value with `SAME_FIELDS`).
    pub body: usize,
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let b = data[*pos];
        *pos += 1;
        n |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

#[inline]
fn put_bytes(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// The string at `pos`, advancing past it.
#[inline]
pub fn get_bytes<'a>(data: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(data, pos) as usize;
    let s = &data[*pos..*pos + n];
    *pos += n;
    s
}

#[inline]
fn skip_bytes(data: &[u8], pos: &mut usize) {
    let n = get_varint(data, pos) as usize;
    *pos += n;
}

/// Bytes of a listpack back-length for an element whose encoding takes `len` bytes.
fn lp_backlen(len: u64) -> u64 {
    match len {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    }
}

/// Bytes Redis's listpack spends on the integer `v`.
pub fn lp_int_size(v: i64) -> u64 {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    };
    enc + lp_backlen(enc)
}

/// Bytes Redis's listpack spends on the string `s` (stored as an integer when it is one).
pub fn lp_str_size(s: &[u8]) -> u64 {
    if let Some(v) = parse_i64(s) {
        return lp_int_size(v);
    }
    let n = s.len() as u64;
    let enc = match n {
        0..64 => 1 + n,
        64..4096 => 2 + n,
        _ => 5 + n,
    };
    enc + lp_backlen(enc)
}

impl Node {
    /// A node whose master fields are the field names of `pairs` (field, value, field...).
    pub fn new(pairs: &[&[u8]]) -> Node {
        Node::with_master(pairs.iter().step_by(2).copied())
    }

    /// A node with these master field names.
    pub fn with_master<'a>(names: impl ExactSizeIterator<Item = &'a [u8]>) -> Node {
        let nfields = names.len();
        let mut data = Vec::with_capacity(64);
        let mut redis_bytes = lp_int_size(nfields as i64) + lp_int_size(0);
        for f in names {
            put_bytes(&mut data, f);
            redis_bytes += lp_str_size(f);
        }
        Node {
            entries_at: data.len() as u32,
            data,
            master_fields: nfields as u32,
            live: 0,
            deleted: 0,
            last: StreamId::ZERO,
            redis_bytes,
        }
    }

    /// The master field names.
    pub fn master_names(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        let mut pos = 0;
        (0..self.master_fields as usize).map(move |_| get_bytes(&self.data, &mut pos))
    }

    /// The size of Redis's listpack for this node (lpBytes).
    pub fn redis_size(&self) -> u64 {
        // 6 header bytes, the end byte, the live and deleted counters.
        7 + lp_int_size(self.live as i64) + lp_int_size(self.deleted as i64) + self.redis_bytes
    }

    pub fn entries(&self) -> u64 {
        self.live as u64 + self.deleted as u64
    }

    /// Whether `pairs` has exactly the master field names, in order.
    pub fn same_fields(&self, pairs: &[&[u8]]) -> bool {
        if pairs.len() / 2 != self.master_fields as usize {
            return false;
        }
        let mut pos = 0;
        pairs
            .iter()
            .step_by(2)
            .all(|f| get_bytes(&self.data, &mut pos) == *f)
    }

    /// Appends the entry `id` (greater than every entry of the node; `master` is the node's
    /// key).
    pub fn push(&mut self, master: StreamId, id: StreamId, pairs: &[&[u8]]) {
        let same = self.same_fields(pairs);
        let nfields = pairs.len() / 2;
        let ms_delta = id.ms.wrapping_sub(master.ms);
        let flags = if same { SAME_FIELDS } else { 0 };
        self.data.push(flags);
        put_varint(&mut self.data, ms_delta);
        put_varint(
            &mut self.data,
            if ms_delta == 0 {
                id.seq.wrapping_sub(master.seq)
            } else {
                id.seq
            },
        );
        // Redis: flags, ms and seq deltas, [count, names], values, element count.
        let mut redis = lp_int_size(flags as i64)
            + lp_int_size(ms_delta as i64)
            + lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
        let mut elements = 3 + nfields;
        if same {
            for v in pairs.iter().skip(1).step_by(2) {
                put_bytes(&mut self.data, v);
                redis += lp_str_size(v);
            }
        } else {
            put_varint(&mut self.data, nfields as u64);
            redis += lp_int_size(nfields as i64);
            elements += nfields + 1;
            for p in pairs {
                put_bytes(&mut self.data, p);
                redis += lp_str_size(p);
            }
        }
        redis += lp_int_size(elements as i64);
        self.redis_bytes += redis;
        self.live += 1;
        self.last = id;
    }

    /// Offset of the first entry.
    #[inline]
    pub fn first_offset(&self) -> usize {
        self.entries_at as usize
    }

    /// One past the last entry.
    #[inline]
    pub fn end(&self) -> usize {
        self.data.len()
    }

    #[inline]
    pub fn header(&self, master: StreamId, off: usize) -> Header {
        let flags = self.data[off];
        let mut pos = off + 1;
        let ms_delta = get_varint(&self.data, &mut pos);
        let seq_part = get_varint(&self.data, &mut pos);
        let id = if ms_delta == 0 {
            StreamId::new(master.ms, master.seq.wrapping_add(seq_part))
        } else {
            StreamId::new(master.ms.wrapping_add(ms_delta), seq_part)
        };
        let fields = if flags & SAME_FIELDS != 0 {
            self.master_fields as usize
        } else {
            get_varint(&self.data, &mut pos) as usize
        };
        Header {
            flags,
            id,
            fields,
            body: pos,
        }
    }

    /// Offset of the entry after the one `h` describes.
    #[inline]
    pub fn skip(&self, h: &Header) -> usize {
        let strings = if h.flags & SAME_FIELDS != 0 {
            h.fields
        } else {
            2 * h.fields
        };
        let mut pos = h.body;
        for _ in 0..strings {
            skip_bytes(&self.data, &mut pos);
        }
        pos
    }

    /// Marks the entry at `off` deleted (it must be live).
    pub fn mark_deleted(&mut self, off: usize) {
        self.data[off] |= DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    /// The field/value pairs of an entry.
    pub fn fields(&self, h: &Header) -> Fields<'_> {
        Fields {
            data: &self.data,
            names: (h.flags & SAME_FIELDS != 0).then_some(0),
            pos: h.body,
            left: h.fields,
        }
    }

    /// Bytes allocated (memory accounting).
    pub fn allocated(&self) -> usize {
        self.data.capacity() + std::mem::size_of::<Node>()
    }

    /// Gives back the spare capacity of a node that will not grow any more.
    pub fn shrink(&mut self) {
        self.data.shrink_to_fit();
    }
}

/// Iterates an entry's (field, value) pairs.
pub struct Fields<'a> {
    data: &'a [u8],
    /// Read position in the master names when the entry shares them.
    names: Option<usize>,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match &mut self.names {
            Some(at) => get_bytes(self.data, at),
            None => get_bytes(self.data, &mut self.pos),
        };
        let value = get_bytes(self.data, &mut self.pos);
        Some((field, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Fields<'_> {}
