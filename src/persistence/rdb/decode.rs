//! Reading RDB files (versions 1 to 12) and DUMP payloads. Every read is bounds-checked: a
//! corrupt or truncated input gives a `LoadError` naming the byte offset, never a panic and
//! never a value built from garbage.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use super::listpack::{Elem, intset_members, listpack_elems, ziplist_elems, zipmap_elems};
use super::*;
use crate::persistence::lzf;
use crate::storage::intset::IntSet;
use crate::storage::list::{self, End};
use crate::storage::stream::{Consumer, ENTRY_DELETED, ENTRY_SAME_FIELDS, Group, Nack, StreamId};
use crate::storage::{EncodingLimits, HashValue, List, SetValue, StrValue, Stream, Value, ZSet};
use crate::util::num::parse_strtod;

const READ_BUFFER: usize = 1 << 20;

/// A buffered reader that tracks the offset and the CRC-64 of what it has consumed.
pub struct Reader<R: Read> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Offset in the input of `buf[0]`.
    base: u64,
    crc: crc_fast::Digest,
    /// `buf[..digested]` is already in `crc`.
    digested: usize,
}

type Res<T> = Result<T, LoadError>;

impl<R: Read> Reader<R> {
    pub fn new(src: R) -> Reader<R> {
        Reader::with_buffer(src, READ_BUFFER)
    }

    /// A reader with a smaller buffer, for inputs already in memory (DUMP payloads).
    pub fn with_buffer(src: R, capacity: usize) -> Reader<R> {
        Reader {
            src,
            // Room for the longest fixed-size field (a 16-byte stream id).
            buf: vec![0; capacity.clamp(64, READ_BUFFER)],
            pos: 0,
            end: 0,
            base: 0,
            crc: crc64_digest(),
            digested: 0,
        }
    }

    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn error(&self, message: impl Into<String>) -> LoadError {
        LoadError {
            offset: self.offset(),
            message: message.into(),
        }
    }

    fn digest_consumed(&mut self) {
        self.crc.update(&self.buf[self.digested..self.pos]);
        self.digested = self.pos;
    }

    /// Moves the unread bytes to the front and reads more; false at the end of the input.
    fn refill(&mut self) -> Res<bool> {
        self.digest_consumed();
        self.buf.copy_within(self.pos..self.end, 0);
        self.base += self.pos as u64;
        self.end -= self.pos;
        self.pos = 0;
        self.digested = 0;
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(format!("read error: {e}"))),
            }
        }
    }

    /// The next `n` bytes (n at most the buffer size).
    fn take(&mut self, n: usize) -> Res<&[u8]> {
        while self.end - self.pos < n {
            if !self.refill()? {
                return Err(self.error("unexpected end of file"));
            }
        }
        let at = self.pos;
        self.pos += n;
        Ok(&self.buf[at..at + n])
    }

    /// The next `n` bytes into a new vector, for any `n` the input really holds.
    fn take_vec(&mut self, n: u64) -> Res<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| self.error("string length out of range"))?;
        if n <= self.buf.len() {
            return Ok(self.take(n)?.to_vec());
        }
        // Big strings: grow as data arrives, so a corrupt length cannot make us allocate it.
        let mut out = Vec::with_capacity(READ_BUFFER);
        while out.len() < n {
            if self.pos == self.end && !self.refill()? {
                return Err(self.error("unexpected end of file"));
            }
            let chunk = (n - out.len()).min(self.end - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + chunk]);
            self.pos += chunk;
        }
        Ok(out)
    }

    pub fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Res<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A length, or (`true`, encoding) for a specially encoded string.
    fn len_or_encoding(&mut self) -> Res<(bool, u64)> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => (false, (first & 0x3f) as u64),
            1 => (false, (((first & 0x3f) as u64) << 8) | self.u8()? as u64),
            2 => match first {
                0x80 => (false, u32::from_be_bytes(self.array()?) as u64),
                0x81 => (false, u64::from_be_bytes(self.array()?)),
                _ => return Err(self.error(format!("unknown length encoding {first:#x}"))),
            },
            _ => (true, (first & 0x3f) as u64),
        })
    }

    pub fn length(&mut self) -> Res<u64> {
        match self.len_or_encoding()? {
            (false, n) => Ok(n),
            (true, _) => Err(self.error("encoded string where a length was expected")),
        }
    }

    /// A length used to size a collection: at most what the input could possibly describe.
    fn count(&mut self) -> Res<usize> {
        let n = self.length()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n < (1 << 40))
            .ok_or_else(|| self.error("collection length out of range"))
    }

    pub fn string(&mut self) -> Res<Vec<u8>> {
        match self.len_or_encoding()? {
            (false, n) => self.take_vec(n),
            (true, enc) => match enc as u8 {
                ENC_INT8 => Ok(itoa_vec(self.u8()? as i8 as i64)),
                ENC_INT16 => Ok(itoa_vec(i16::from_le_bytes(self.array()?) as i64)),
                ENC_INT32 => Ok(itoa_vec(i32::from_le_bytes(self.array()?) as i64)),
                ENC_LZF => {
                    let clen = self.length()?;
                    let len = self.length()?;
                    if len > (1 << 40) {
                        return Err(self.error("LZF string length out of range"));
                    }
                    let compressed = self.take_vec(clen)?;
                    lzf::decompress(&compressed, len as usize).map_err(|e| self.error(e))
                }
                other => Err(self.error(format!("unknown string encoding {other}"))),
            },
        }
    }

    /// A string value, keeping integer encodings as integers.
    fn string_value(&mut self) -> Res<StrValue> {
        Ok(StrValue::from_bytes(&self.string()?))
    }

    fn binary_double(&mut self) -> Res<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// The text doubles of RDB_TYPE_ZSET: a length byte (253 nan, 254 inf, 255 -inf), then text.
    fn text_double(&mut self) -> Res<f64> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let t = self.take(n as usize)?.to_vec();
                parse_strtod(&t).ok_or_else(|| self.error("bad double value"))
            }
        }
    }

    /// Checks the 8-byte trailer against the CRC of everything read before it.
    fn verify_checksum(&mut self) -> Res<()> {
        self.digest_consumed();
        let computed = self.crc.finalize();
        let stored = u64::from_le_bytes(self.array()?);
        if stored != 0 && stored != computed {
            return Err(self.error(format!(
                "RDB CRC error (stored {stored:#018x}, computed {computed:#018x})"
            )));
        }
        Ok(())
    }
}

fn itoa_vec(v: i64) -> Vec<u8> {
    itoa::Buffer::new().format(v).as_bytes().to_vec()
}

/// Reading values: the encoding thresholds of the server they are loaded into.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub encoding: EncodingLimits,
}

/// A value read, or a collection that turned out empty (Redis skips those keys).
pub enum Loaded {
    Value(Value),
    Empty,
}

fn elem_bytes(e: Elem) -> Vec<u8> {
    e.to_vec()
}

fn elem_score(e: Elem) -> Option<f64> {
    match e {
        Elem::Int(v) => Some(v as f64),
        Elem::Str(s) => parse_strtod(s).filter(|v| !v.is_nan()),
    }
}

/// A value of RDB type `t`.
pub fn read_object<R: Read>(r: &mut Reader<R>, t: u8, lim: &Limits) -> Res<Loaded> {
    let enc = lim.encoding;
    let blob_err = |r: &Reader<R>, e: String| r.error(e);
    let value = match t {
        TYPE_STRING => Value::Str(r.string_value()?),
        TYPE_LIST => {
            let n = r.count()?;
            let mut l = List::new();
            for _ in 0..n {
                l.push(End::Right, &r.string()?, enc.list_max_listpack_size);
            }
            Value::List(Box::new(l))
        }
        TYPE_LIST_ZIPLIST => {
            let blob = r.string()?;
            let elems = ziplist_elems(&blob).map_err(|e| blob_err(r, e))?;
            list_from(elems.into_iter().map(elem_bytes), &enc)
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.count()?;
            let mut l = List::new();
            for _ in 0..nodes {
                let container = if t == TYPE_LIST_QUICKLIST_2 {
                    r.length()?
                } else {
                    NODE_PACKED
                };
                let blob = r.string()?;
                match container {
                    NODE_PLAIN => l.push(End::Right, &blob, enc.list_max_listpack_size),
                    NODE_PACKED => {
                        let elems = if t == TYPE_LIST_QUICKLIST {
                            ziplist_elems(&blob)
                        } else {
                            listpack_elems(&blob)
                        }
                        .map_err(|e| blob_err(r, e))?;
                        let fill = enc.list_max_listpack_size;
                        for e in elems {
                            match e {
                                Elem::Int(n) => l.push_elem(End::Right, list::Elem::Int(n), fill),
                                Elem::Str(s) => l.push(End::Right, s, fill),
                            }
                        }
                    }
                    _ => return Err(r.error("unknown quicklist node container")),
                }
            }
            Value::List(Box::new(l))
        }
        TYPE_SET => {
            let n = r.count()?;
            let mut s = SetValue::new();
            for _ in 0..n {
                let m = r.string()?;
                if !s.add(&m, enc.set_max_intset_entries) {
                    return Err(r.error("duplicate set members detected"));
                }
            }
            Value::Set(Box::new(s))
        }
        TYPE_SET_INTSET => {
            let blob = r.string()?;
            let (width, members) = intset_members(&blob).map_err(|e| blob_err(r, e))?;
            if members.len() > enc.set_max_intset_entries {
                let mut s = SetValue::new();
                for m in members {
                    s.add(
                        itoa::Buffer::new().format(m).as_bytes(),
                        enc.set_max_intset_entries,
                    );
                }
                Value::Set(Box::new(s))
            } else {
                Value::Set(Box::new(SetValue::Ints(IntSet::from_sorted(
                    width, &members,
                ))))
            }
        }
        TYPE_SET_LISTPACK => {
            let blob = r.string()?;
            let elems = listpack_elems(&blob).map_err(|e| blob_err(r, e))?;
            let mut s = SetValue::new();
            let mut scratch = itoa::Buffer::new();
            for e in elems {
                if !s.add(e.bytes(&mut scratch), enc.set_max_intset_entries) {
                    return Err(r.error("duplicate set members detected"));
                }
            }
            Value::Set(Box::new(s))
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n.min(1 << 20));
            for _ in 0..n {
                let m = r.string()?;
                let score = if t == TYPE_ZSET_2 {
                    r.binary_double()?
                } else {
                    r.text_double()?
                };
                if score.is_nan() {
                    return Err(r.error("zset with NAN score detected"));
                }
                items.push((m.into_boxed_slice(), score));
            }
            zset_from(items, &enc, false).map_err(|e| r.error(e))?
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let blob = r.string()?;
            let elems = if t == TYPE_ZSET_ZIPLIST {
                ziplist_elems(&blob)
            } else {
                listpack_elems(&blob)
            }
            .map_err(|e| blob_err(r, e))?;
            if elems.len() % 2 != 0 {
                return Err(r.error("sorted set blob with an odd number of entries"));
            }
            let mut items = Vec::with_capacity(elems.len() / 2);
            for pair in elems.chunks_exact(2) {
                let score = elem_score(pair[1]).ok_or_else(|| r.error("bad sorted set score"))?;
                items.push((elem_bytes(pair[0]).into_boxed_slice(), score));
            }
            zset_from(items, &enc, true).map_err(|e| r.error(e))?
        }
        TYPE_HASH => {
            let n = r.count()?;
            let mut pairs = Vec::with_capacity(2 * n.min(1 << 20));
            for _ in 0..2 * n {
                pairs.push(r.string()?);
            }
            hash_from(pairs.iter().map(Vec::as_slice), &enc, false).map_err(|e| r.error(e))?
        }
        TYPE_HASH_ZIPMAP => {
            let blob = r.string()?;
            let elems = zipmap_elems(&blob).map_err(|e| blob_err(r, e))?;
            hash_from(elems.into_iter(), &enc, false).map_err(|e| r.error(e))?
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let blob = r.string()?;
            let elems = if t == TYPE_HASH_ZIPLIST {
                ziplist_elems(&blob)
            } else {
                listpack_elems(&blob)
            }
            .map_err(|e| blob_err(r, e))?;
            if elems.len() % 2 != 0 {
                return Err(r.error("hash blob with an odd number of entries"));
            }
            let texts: Vec<Vec<u8>> = elems.into_iter().map(elem_bytes).collect();
            hash_from(texts.iter().map(Vec::as_slice), &enc, true).map_err(|e| r.error(e))?
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            return read_stream(r, t).map(|s| Loaded::Value(Value::Stream(Box::new(s))));
        }
        TYPE_MODULE | TYPE_MODULE_2 => return Err(r.error("module data types are not supported")),
        TYPE_HASH_METADATA_PRE_GA..=TYPE_HASH_LISTPACK_EX => {
            return Err(r.error("hashes with field expiration (Redis 7.4) are not supported"));
        }
        other => return Err(r.error(format!("unknown object type {other}"))),
    };
    let empty = match &value {
        Value::List(l) => l.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Str(_) | Value::Stream(_) => false,
    };
    Ok(if empty {
        Loaded::Empty
    } else {
        Loaded::Value(value)
    })
}

fn list_from(elems: impl Iterator<Item = Vec<u8>>, enc: &EncodingLimits) -> Value {
    let mut l = List::new();
    for e in elems {
        l.push(End::Right, &e, enc.list_max_listpack_size);
    }
    Value::List(Box::new(l))
}

/// A sorted set from (member, score) pairs in any order. A compact blob stays compact unless
/// it has more entries than zset-max-listpack-entries (as Redis 7.0 loads them); a plain set
/// becomes compact when both thresholds allow.
fn zset_from(
    mut items: Vec<(Box<[u8]>, f64)>,
    enc: &EncodingLimits,
    from_blob: bool,
) -> Result<Value, &'static str> {
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    if items.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("duplicate sorted set members detected");
    }
    // Members are unique but may repeat after sorting by score: check all of them.
    let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    if !items.iter().all(|(m, _)| seen.insert(m)) {
        return Err("duplicate sorted set members detected");
    }
    let mut limits = *enc;
    if from_blob {
        limits.zset_max_listpack_value = usize::MAX;
    }
    Ok(Value::ZSet(ZSet::from_sorted(items, &limits)))
}

/// A hash from field, value, field, value... Blobs convert only past
/// hash-max-listpack-entries (as Redis 7.0 loads them); plain hashes as HSET would build them.
fn hash_from<'a>(
    mut items: impl Iterator<Item = &'a [u8]>,
    enc: &EncodingLimits,
    from_blob: bool,
) -> Result<Value, &'static str> {
    let mut limits = *enc;
    if from_blob {
        limits.hash_max_listpack_value = usize::MAX;
    }
    let mut h = HashValue::new();
    while let Some(f) = items.next() {
        let v = items.next().ok_or("hash with a field without value")?;
        if !h.set(f, v, &limits) {
            return Err("duplicate hash fields detected");
        }
    }
    Ok(Value::Hash(h))
}

fn id_from_key(k: &[u8]) -> Option<StreamId> {
    let k: &[u8; 16] = k.try_into().ok()?;
    Some(StreamId::new(
        u64::from_be_bytes(k[..8].try_into().ok()?),
        u64::from_be_bytes(k[8..].try_into().ok()?),
    ))
}

fn int_of(e: Option<&Elem>) -> Option<i64> {
    match e? {
        Elem::Int(v) => Some(*v),
        Elem::Str(_) => None,
    }
}

/// One node's listpack: master fields and entries, checked against its counters.
type NodeEntries<'a> = (Vec<&'a [u8]>, Vec<(bool, StreamId, Vec<&'a [u8]>)>);

fn parse_stream_node<'a>(
    master: StreamId,
    elems: &'a [Elem<'a>],
    scratch: &'a [Vec<u8>],
) -> Result<NodeEntries<'a>, &'static str> {
    // Integers inside are read as numbers; strings (field names, values) come from `scratch`,
    // which holds every element's text at the same index.
    const BAD: &str = "malformed stream node";
    let live = int_of(elems.first()).ok_or(BAD)?;
    let deleted = int_of(elems.get(1)).ok_or(BAD)?;
    let nmaster = usize::try_from(int_of(elems.get(2)).ok_or(BAD)?).map_err(|_| BAD)?;
    let mut at = 3;
    let text = |i: usize| scratch.get(i).map(Vec::as_slice).ok_or(BAD);
    let mut names = Vec::with_capacity(nmaster.min(1024));
    for _ in 0..nmaster {
        names.push(text(at)?);
        at += 1;
    }
    if int_of(elems.get(at)) != Some(0) {
        return Err(BAD);
    }
    at += 1;
    let mut entries = Vec::new();
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    while at < elems.len() {
        let flags = int_of(elems.get(at)).ok_or(BAD)?;
        let ms = int_of(elems.get(at + 1)).ok_or(BAD)?;
        let seq = int_of(elems.get(at + 2)).ok_or(BAD)?;
        at += 3;
        let id = StreamId::new(
            master.ms.wrapping_add(ms as u64),
            master.seq.wrapping_add(seq as u64),
        );
        let mut pairs = Vec::new();
        let same = flags & ENTRY_SAME_FIELDS as i64 != 0;
        let n = if same {
            for name in &names {
                pairs.push(*name);
                pairs.push(text(at)?);
                at += 1;
            }
            names.len()
        } else {
            let n = usize::try_from(int_of(elems.get(at)).ok_or(BAD)?).map_err(|_| BAD)?;
            at += 1;
            for _ in 0..2 * n {
                pairs.push(text(at)?);
                at += 1;
            }
            n
        };
        let want_count = if same { n + 3 } else { 2 * n + 4 };
        if int_of(elems.get(at)) != Some(want_count as i64) {
            return Err(BAD);
        }
        at += 1;
        let is_deleted = flags & ENTRY_DELETED as i64 != 0;
        if is_deleted {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        entries.push((is_deleted, id, pairs));
    }
    if seen_live != live || seen_deleted != deleted {
        return Err("stream node counters do not match its entries");
    }
    Ok((names, entries))
}

fn read_id<R: Read>(r: &mut Reader<R>) -> Res<StreamId> {
    Ok(StreamId::new(r.length()?, r.length()?))
}

fn read_stream<R: Read>(r: &mut Reader<R>, t: u8) -> Res<Stream> {
    let mut s = Stream::new();
    let nodes = r.count()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let master = id_from_key(&key).ok_or_else(|| r.error("stream node key is not 16 bytes"))?;
        let blob = r.string()?;
        let elems = listpack_elems(&blob).map_err(|e| r.error(e))?;
        if elems.is_empty() {
            return Err(r.error("empty listpack inside stream"));
        }
        let texts: Vec<Vec<u8>> = elems.iter().map(|e| e.to_vec()).collect();
        let (names, entries) = parse_stream_node(master, &elems, &texts).map_err(|e| r.error(e))?;
        s.load_node(master, &names, &entries)
            .map_err(|e| r.error(e))?;
    }
    let length = r.length()?;
    if length != s.len() {
        return Err(r.error("stream length does not match its entries"));
    }
    s.last_id = read_id(r)?;
    if t >= TYPE_STREAM_LISTPACKS_2 {
        s.first_id = read_id(r)?;
        s.max_deleted = read_id(r)?;
        s.entries_added = r.length()?;
    } else {
        s.first_id = s.first_entry().map_or(StreamId::ZERO, |e| e.id);
        s.entries_added = length;
    }
    if s.last_entry().is_some_and(|e| e.id > s.last_id) {
        return Err(r.error("stream last id is smaller than its last entry"));
    }
    let ngroups = r.count()?;
    for _ in 0..ngroups {
        let name = r.string()?;
        let last_id = read_id(r)?;
        let entries_read = if t >= TYPE_STREAM_LISTPACKS_2 {
            let v = r.length()? as i64;
            (v >= 0).then_some(v)
        } else {
            s.estimate_entries_read(last_id)
        };
        let npel = r.count()?;
        let mut pel: BTreeMap<StreamId, (i64, u64)> = BTreeMap::new();
        for _ in 0..npel {
            let id = id_from_key(r.take(16)?).ok_or_else(|| r.error("bad PEL id"))?;
            let time = i64::from_le_bytes(r.array()?);
            let count = r.length()?;
            if pel.insert(id, (time, count)).is_some() {
                return Err(r.error("duplicated global PEL entry loading stream consumer group"));
            }
        }
        let mut group = Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        };
        let nconsumers = r.count()?;
        for _ in 0..nconsumers {
            let cname: Arc<[u8]> = r.string()?.into();
            let seen_time = i64::from_le_bytes(r.array()?);
            if t >= TYPE_STREAM_LISTPACKS_3 {
                // Redis 7.2's active-time: ferrodis keeps only the seen time.
                r.array::<8>()?;
            }
            let npending = r.count()?;
            let mut pending = std::collections::BTreeSet::new();
            for _ in 0..npending {
                let id = id_from_key(r.take(16)?).ok_or_else(|| r.error("bad PEL id"))?;
                let Some((time, count)) = pel.remove(&id) else {
                    return Err(r.error("consumer PEL entry not found in the group PEL"));
                };
                group.pel.insert(
                    id,
                    Nack {
                        delivery_time: time,
                        delivery_count: count,
                        consumer: cname.clone(),
                    },
                );
                pending.insert(id);
            }
            if group
                .consumers
                .insert(cname, Consumer { seen_time, pending })
                .is_some()
            {
                return Err(r.error("duplicate stream consumer detected"));
            }
        }
        if !pel.is_empty() {
            return Err(r.error("stream group PEL entry without a consumer"));
        }
        if s.groups.insert(name.into_boxed_slice(), group).is_some() {
            return Err(r.error("duplicated consumer group name"));
        }
    }
    Ok(s)
}

/// RESTORE's payload check and decoding: Err(true) when the footer (version or CRC) is wrong,
/// Err(false) when the body is malformed or an empty collection.
pub fn decode_payload(payload: &[u8], lim: &Limits) -> Result<Value, bool> {
    if payload.len() < 10 {
        return Err(true);
    }
    let footer = payload.len() - 10;
    let version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    let stored = u64::from_le_bytes(payload[footer + 2..].try_into().map_err(|_| true)?);
    if version > RDB_VERSION || crc64(&payload[..footer + 2]) != stored {
        return Err(true);
    }
    let body = &payload[..footer];
    let mut r = Reader::with_buffer(body, body.len());
    let t = r.u8().map_err(|_| false)?;
    match read_object(&mut r, t, lim) {
        Ok(Loaded::Value(v)) => Ok(v),
        _ => Err(false),
    }
}

/// A key read from a file.
pub struct LoadedKey {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Unix ms, 0 when the key has no TTL.
    pub expire_at: i64,
    pub access: super::encode::Access,
}

/// What loading a file needs to know.
pub struct LoadContext {
    pub limits: Limits,
    pub databases: usize,
    pub now_ms: i64,
    /// Skip keys already expired (a master does; an AOF preamble keeps them).
    pub skip_expired: bool,
}

/// Figures of a finished load.
#[derive(Default, Debug)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub empty_keys_skipped: u64,
    pub version: u16,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Bytes of the input the RDB took (the AOF tail of a preamble file starts there).
    pub end_offset: u64,
}

/// Reads a whole file, handing each live key to `keys` and each function library's code to
/// `functions` (either may refuse with a message, e.g. a duplicate key), and RESIZEDB's hints
/// (database, keys, keys with a TTL) to `sizes`. Stops right after EOF and the checksum.
pub fn load<R: Read>(
    src: R,
    ctx: &LoadContext,
    keys: &mut dyn FnMut(LoadedKey) -> Result<(), String>,
    functions: &mut dyn FnMut(Vec<u8>) -> Result<(), String>,
    sizes: &mut dyn FnMut(usize, u64, u64),
) -> Result<LoadStats, LoadError> {
    let mut r = Reader::new(src);
    let magic = r.take(9)?.to_vec();
    if &magic[..5] != b"REDIS" {
        return Err(LoadError {
            offset: 0,
            message: "wrong signature trying to load DB from file".into(),
        });
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse::<u16>().ok())
        .filter(|v| (1..=RDB_MAX_READ_VERSION).contains(v))
        .ok_or_else(|| LoadError {
            offset: 5,
            message: format!(
                "can't handle RDB format version {}",
                String::from_utf8_lossy(&magic[5..])
            ),
        })?;
    let mut stats = LoadStats {
        version,
        ..LoadStats::default()
    };
    let mut db = 0usize;
    let mut expire_at: i64 = 0;
    let mut access = super::encode::Access::None;
    loop {
        let at = r.offset();
        let t = r.u8()?;
        match t {
            OP_EXPIRETIME => {
                expire_at = i32::from_le_bytes(r.array()?) as i64 * 1000;
                continue;
            }
            OP_EXPIRETIME_MS => {
                expire_at = i64::from_le_bytes(r.array()?);
                continue;
            }
            OP_IDLE => {
                access = super::encode::Access::IdleSeconds(r.length()?);
                continue;
            }
            OP_FREQ => {
                access = super::encode::Access::Freq(r.u8()?);
                continue;
            }
            OP_EOF => break,
            OP_SELECTDB => {
                let n = r.length()?;
                if n >= ctx.databases as u64 {
                    return Err(LoadError {
                        offset: at,
                        message: format!(
                            "FATAL: Data file was created with a Redis server configured to handle more than {} databases",
                            ctx.databases
                        ),
                    });
                }
                db = n as usize;
                continue;
            }
            OP_RESIZEDB => {
                let keys = r.length()?;
                let volatile = r.length()?;
                sizes(db, keys, volatile);
                continue;
            }
            OP_SLOT_INFO => {
                r.length()?;
                r.length()?;
                r.length()?;
                continue;
            }
            OP_AUX => {
                let k = r.string()?;
                let v = r.string()?;
                stats.aux.push((k, v));
                continue;
            }
            OP_MODULE_AUX => {
                return Err(LoadError {
                    offset: at,
                    message: "module auxiliary data found but modules are not supported".into(),
                });
            }
            OP_FUNCTION2 => {
                let code = r.string()?;
                functions(code).map_err(|e| LoadError {
                    offset: at,
                    message: format!("failed loading a function library: {e}"),
                })?;
                continue;
            }
            OP_FUNCTION_PRE_GA => {
                return Err(LoadError {
                    offset: at,
                    message: "pre-release function format (Redis 7.0 RC) is not supported".into(),
                });
            }
            _ => {}
        }
        let key = r.string()?;
        let loaded = read_object(&mut r, t, &ctx.limits)?;
        let (exp, acc) = (
            std::mem::take(&mut expire_at),
            std::mem::replace(&mut access, super::encode::Access::None),
        );
        let Loaded::Value(value) = loaded else {
            stats.empty_keys_skipped += 1;
            continue;
        };
        if ctx.skip_expired && exp != 0 && exp < ctx.now_ms {
            stats.keys_expired += 1;
            continue;
        }
        keys(LoadedKey {
            db,
            key,
            value,
            expire_at: exp,
            access: acc,
        })
        .map_err(|e| LoadError {
            offset: at,
            message: e,
        })?;
        stats.keys_loaded += 1;
    }
    if version >= 5 {
        r.verify_checksum()?;
    }
    // An AOF continues after its RDB preamble: say where the RDB ends.
    stats.end_offset = r.offset();
    Ok(stats)
}
