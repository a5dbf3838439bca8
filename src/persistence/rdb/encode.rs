//! Writing values and files in the RDB format, as redis-server 7.0 writes them, so that DUMP
//! payloads are byte for byte Redis's and files load in redis-server.

use std::io::{self, Write};

use super::listpack::{LpBuilder, intset_bytes};
use super::*;
use crate::persistence::lzf;
use crate::storage::list::Elem;
use crate::storage::stream::{ENTRY_SAME_FIELDS, Stream, lp_str_size};
use crate::storage::{List, SetValue, StrRef, Value};
use crate::util::num::{fmt_double_resp, parse_i64};

/// Redis stores list elements this large (packed_threshold, 1 GiB) in nodes of their own.
const PLAIN_NODE_THRESHOLD: usize = 1 << 30;
/// Byte budgets of list nodes for list-max-listpack-size -1 to -5.
const NODE_BYTE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A list node never passes this size when the fill is an element count.
const NODE_SAFETY_LIMIT: usize = 8192;
/// Redis's allowance for an element's listpack overhead when sizing a node.
const NODE_SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Bytes of an empty listpack (header and end byte).
const EMPTY_LISTPACK: usize = 7;

/// How values are written: rdbcompression, and list-max-listpack-size (lists are cut into
/// nodes exactly where Redis's quicklist would cut them when built by pushes at the tail).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub compress: bool,
    pub list_fill: i64,
}

pub fn write_len<W: Write + ?Sized>(w: &mut W, n: u64) -> io::Result<()> {
    if n < 64 {
        w.write_all(&[n as u8])
    } else if n < 16384 {
        w.write_all(&[0x40 | (n >> 8) as u8, n as u8])
    } else if n <= u32::MAX as u64 {
        let mut b = [0x80u8; 5];
        b[1..].copy_from_slice(&(n as u32).to_be_bytes());
        w.write_all(&b)
    } else {
        let mut b = [0x81u8; 9];
        b[1..].copy_from_slice(&n.to_be_bytes());
        w.write_all(&b)
    }
}

/// The special encoding of an integer that fits 32 bits.
fn int_encoding(v: i64) -> Option<([u8; 5], usize)> {
    let mut b = [0u8; 5];
    if let Ok(x) = i8::try_from(v) {
        b[0] = 0xC0 | ENC_INT8;
        b[1] = x as u8;
        Some((b, 2))
    } else if let Ok(x) = i16::try_from(v) {
        b[0] = 0xC0 | ENC_INT16;
        b[1..3].copy_from_slice(&x.to_le_bytes());
        Some((b, 3))
    } else if let Ok(x) = i32::try_from(v) {
        b[0] = 0xC0 | ENC_INT32;
        b[1..5].copy_from_slice(&x.to_le_bytes());
        Some((b, 5))
    } else {
        None
    }
}

/// A string as rdbSaveRawString writes it: short canonical integers as integers, longer
/// strings LZF-compressed when that saves at least 4 bytes, otherwise length and bytes.
pub fn write_string<W: Write + ?Sized>(w: &mut W, s: &[u8], compress: bool) -> io::Result<()> {
    if s.len() <= 11
        && let Some(v) = parse_i64(s)
        && let Some((b, n)) = int_encoding(v)
    {
        return w.write_all(&b[..n]);
    }
    if compress
        && s.len() > 20
        && let Some(c) = lzf::compress(s, s.len() - 4)
    {
        w.write_all(&[0xC0 | ENC_LZF])?;
        write_len(w, c.len() as u64)?;
        write_len(w, s.len() as u64)?;
        return w.write_all(&c);
    }
    write_len(w, s.len() as u64)?;
    w.write_all(s)
}

/// An integer-encoded string value (rdbSaveLongLongAsStringObject).
fn write_int_value<W: Write + ?Sized>(w: &mut W, v: i64) -> io::Result<()> {
    match int_encoding(v) {
        Some((b, n)) => w.write_all(&b[..n]),
        None => {
            let mut buf = itoa::Buffer::new();
            let t = buf.format(v).as_bytes();
            write_len(w, t.len() as u64)?;
            w.write_all(t)
        }
    }
}

/// A score as Redis 7.0's d2string writes it into a listpack: integral values in the exactly
/// representable range as integers, others with %.17g.
fn score_text(v: f64, out: &mut Vec<u8>) {
    out.clear();
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
    } else if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else if v > -4503599627370495.0 && v < 4503599627370496.0 && v == (v as i64) as f64 {
        out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
    } else {
        fmt_double_resp(v, out);
    }
}

/// The RDB type byte of a value in its current encoding.
pub fn object_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST_QUICKLIST_2,
        Value::Hash(h) if h.small_pack().is_some() => TYPE_HASH_LISTPACK,
        Value::Hash(_) => TYPE_HASH,
        Value::Set(s) => match **s {
            SetValue::Ints(_) => TYPE_SET_INTSET,
            SetValue::Table(_) => TYPE_SET,
        },
        Value::ZSet(z) if z.is_listpack() => TYPE_ZSET_LISTPACK,
        Value::ZSet(_) => TYPE_ZSET_2,
        Value::Stream(_) => TYPE_STREAM_LISTPACKS_2,
    }
}

/// A value's body (after its type byte), as rdbSaveObject writes it.
pub fn write_object<W: Write + ?Sized>(w: &mut W, v: &Value, opts: Options) -> io::Result<()> {
    let compress = opts.compress;
    match v {
        Value::Str(s) => match s.view() {
            StrRef::Int(n) => write_int_value(w, n),
            StrRef::Bytes(data) => write_string(w, data, compress),
        },
        Value::List(l) => write_list(w, l, opts),
        Value::Hash(h) if let Some(lp) = h.small_pack() => {
            let mut b = LpBuilder::new();
            lp.iter().for_each(|e| b.push(e));
            write_string(w, &b.finish(), compress)
        }
        Value::Hash(h) => {
            write_len(w, h.len() as u64)?;
            for (f, v) in h.iter() {
                write_string(w, f, compress)?;
                write_string(w, v, compress)?;
            }
            Ok(())
        }
        Value::Set(s) => match &**s {
            SetValue::Ints(ints) => write_string(
                w,
                &intset_bytes(ints.width_bytes(), ints.len(), ints.iter()),
                compress,
            ),
            table => {
                write_len(w, table.len() as u64)?;
                let mut scratch = itoa::Buffer::new();
                for m in table.iter() {
                    write_string(w, m.bytes(&mut scratch), compress)?;
                }
                Ok(())
            }
        },
        Value::ZSet(z) if z.is_listpack() => {
            let mut b = LpBuilder::new();
            let mut text = Vec::new();
            z.for_each(|m, s| {
                b.push(m);
                score_text(s, &mut text);
                b.push(&text);
            });
            write_string(w, &b.finish(), compress)
        }
        Value::ZSet(z) => {
            write_len(w, z.len() as u64)?;
            let mut result = Ok(());
            z.for_each_rev(|m, s| {
                if result.is_ok() {
                    result =
                        write_string(w, m, compress).and_then(|_| w.write_all(&s.to_le_bytes()));
                }
            });
            result
        }
        Value::Stream(s) => write_stream(w, s, compress),
    }
}

/// Whether Redis's quicklist puts an element of `sz` bytes into a node of `node_bytes` bytes
/// and `node_count` elements under list-max-listpack-size `fill`: Redis estimates the new size
/// as the node's plus the element's plus 8, against the byte budget of a negative fill, or
/// against the safety limit and the element count of a positive one.
fn node_takes(node_bytes: usize, node_count: usize, fill: i64, sz: usize) -> bool {
    let new_sz = node_bytes + sz + NODE_SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        let level = ((-fill - 1) as usize).min(NODE_BYTE_LEVELS.len() - 1);
        new_sz <= NODE_BYTE_LEVELS[level]
    } else {
        new_sz <= NODE_SAFETY_LIMIT && node_count < fill.max(1) as usize
    }
}

/// A list as a quicklist of listpack nodes, cut where Redis cuts a list pushed at the tail.
fn write_list<W: Write + ?Sized>(w: &mut W, l: &List, opts: Options) -> io::Result<()> {
    // First pass: how many elements go in each node (a plain node holds one huge element).
    let mut nodes: Vec<(bool, usize)> = Vec::new();
    let (mut bytes, mut count) = (0usize, 0usize);
    let mut scratch = itoa::Buffer::new();
    for e in l.iter() {
        let e = e.bytes(&mut scratch);
        if e.len() >= PLAIN_NODE_THRESHOLD {
            if count > 0 {
                nodes.push((false, count));
            }
            nodes.push((true, 1));
            count = 0;
            continue;
        }
        if count > 0 && node_takes(bytes, count, opts.list_fill, e.len()) {
            bytes += lp_str_size(e) as usize;
            count += 1;
        } else {
            if count > 0 {
                nodes.push((false, count));
            }
            bytes = EMPTY_LISTPACK + lp_str_size(e) as usize;
            count = 1;
        }
    }
    if count > 0 {
        nodes.push((false, count));
    }
    write_len(w, nodes.len() as u64)?;
    let mut elems = l.iter();
    for (plain, count) in nodes {
        if plain {
            write_len(w, NODE_PLAIN)?;
            let e = elems.next().unwrap_or(Elem::Bytes(b""));
            write_string(w, e.bytes(&mut scratch), opts.compress)?;
            continue;
        }
        let mut b = LpBuilder::new();
        for e in elems.by_ref().take(count) {
            match e {
                Elem::Int(n) => b.push_int(n),
                Elem::Bytes(s) => b.push(s),
            }
        }
        write_len(w, NODE_PACKED)?;
        write_string(w, &b.finish(), opts.compress)?;
    }
    Ok(())
}

/// A stream id as Redis's radix tree keys it: both halves big-endian.
pub fn id_key(ms: u64, seq: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&ms.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// A stream as STREAM_LISTPACKS_2: each node's listpack exactly as t_stream.c builds it, then
/// the stream's metadata and its consumer groups with their pending entries.
fn write_stream<W: Write + ?Sized>(w: &mut W, s: &Stream, compress: bool) -> io::Result<()> {
    write_len(w, s.node_count() as u64)?;
    for node in s.raw_nodes() {
        let m = node.master;
        write_string(w, &id_key(m.ms, m.seq), compress)?;
        let mut b = LpBuilder::new();
        b.push_int(node.live() as i64);
        b.push_int(node.deleted() as i64);
        let names = node.master_names();
        b.push_int(names.len() as i64);
        names.for_each(|f| b.push(f));
        b.push_int(0);
        for e in node.entries() {
            b.push_int(e.flags as i64);
            b.push_int(e.id.ms.wrapping_sub(m.ms) as i64);
            b.push_int(e.id.seq.wrapping_sub(m.seq) as i64);
            let n = e.fields.len();
            if e.flags & ENTRY_SAME_FIELDS != 0 {
                e.fields.for_each(|(_, v)| b.push(v));
                b.push_int(n as i64 + 3);
            } else {
                b.push_int(n as i64);
                e.fields.for_each(|(f, v)| {
                    b.push(f);
                    b.push(v);
                });
                b.push_int(2 * n as i64 + 4);
            }
        }
        write_string(w, &b.finish(), compress)?;
    }
    write_len(w, s.len())?;
    for id in [s.last_id, s.first_id, s.max_deleted] {
        write_len(w, id.ms)?;
        write_len(w, id.seq)?;
    }
    write_len(w, s.entries_added)?;
    write_len(w, s.groups.len() as u64)?;
    for (name, g) in &s.groups {
        write_string(w, name, compress)?;
        write_len(w, g.last_id.ms)?;
        write_len(w, g.last_id.seq)?;
        // Unknown read counters are stored as -1 (all bits set).
        write_len(w, g.entries_read.unwrap_or(-1) as u64)?;
        write_len(w, g.pel.len() as u64)?;
        for (id, nack) in &g.pel {
            w.write_all(&id_key(id.ms, id.seq))?;
            w.write_all(&nack.delivery_time.to_le_bytes())?;
            write_len(w, nack.delivery_count)?;
        }
        write_len(w, g.consumers.len() as u64)?;
        for (cname, c) in &g.consumers {
            write_string(w, cname, compress)?;
            w.write_all(&c.seen_time.to_le_bytes())?;
            write_len(w, c.pending.len() as u64)?;
            for id in &c.pending {
                w.write_all(&id_key(id.ms, id.seq))?;
            }
        }
    }
    Ok(())
}

/// A DUMP payload: type, body, RDB version and CRC-64, all little endian.
pub fn dump_payload(v: &Value, opts: Options) -> Vec<u8> {
    let mut out = vec![object_type(v)];
    write_object(&mut out, v, opts).expect("writing to memory cannot fail");
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// What an RDB file records about a key's last access, under the maxmemory policy in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    /// LRU policies: seconds since the last access.
    IdleSeconds(u64),
    /// LFU policies: the access counter.
    Freq(u8),
}

/// One key of a database section: expiry, access data, type, key and value.
pub fn write_key_value<W: Write + ?Sized>(
    w: &mut W,
    key: &[u8],
    value: &Value,
    expire_at_ms: Option<i64>,
    access: Access,
    opts: Options,
) -> io::Result<()> {
    if let Some(ms) = expire_at_ms {
        w.write_all(&[OP_EXPIRETIME_MS])?;
        w.write_all(&ms.to_le_bytes())?;
    }
    match access {
        Access::None => {}
        Access::IdleSeconds(s) => {
            w.write_all(&[OP_IDLE])?;
            write_len(w, s)?;
        }
        Access::Freq(f) => w.write_all(&[OP_FREQ, f])?,
    }
    w.write_all(&[object_type(value)])?;
    write_string(w, key, opts.compress)?;
    write_object(w, value, opts)
}

/// What a file starts with besides the data.
pub struct Preamble<'a> {
    pub used_mem: u64,
    /// An AOF's RDB preamble (aof-base 1).
    pub aof_base: bool,
    pub functions: &'a [Vec<u8>],
}

/// The magic, the aux fields Redis 7.0 writes, and the function libraries.
pub fn write_preamble<W: Write + ?Sized>(
    w: &mut W,
    p: &Preamble,
    compress: bool,
) -> io::Result<()> {
    w.write_all(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut int = itoa::Buffer::new();
    let aux: [(&str, Vec<u8>); 5] = [
        ("redis-ver", crate::REDIS_VERSION.as_bytes().to_vec()),
        ("redis-bits", int.format(usize::BITS).as_bytes().to_vec()),
        ("ctime", int.format(now).as_bytes().to_vec()),
        ("used-mem", int.format(p.used_mem).as_bytes().to_vec()),
        ("aof-base", int.format(p.aof_base as u8).as_bytes().to_vec()),
    ];
    for (k, v) in &aux {
        w.write_all(&[OP_AUX])?;
        write_string(w, k.as_bytes(), compress)?;
        write_string(w, v, compress)?;
    }
    for code in p.functions {
        w.write_all(&[OP_FUNCTION2])?;
        write_string(w, code, compress)?;
    }
    Ok(())
}

/// Starts a database section (SELECTDB, then RESIZEDB's size hints).
pub fn write_select_db<W: Write + ?Sized>(
    w: &mut W,
    db: usize,
    keys: usize,
    volatile: usize,
) -> io::Result<()> {
    w.write_all(&[OP_SELECTDB])?;
    write_len(w, db as u64)?;
    w.write_all(&[OP_RESIZEDB])?;
    write_len(w, keys as u64)?;
    write_len(w, volatile as u64)
}

/// Starts a database section without size hints (sections written by a background snapshot,
/// which repeat per chunk).
pub fn write_select<W: Write + ?Sized>(w: &mut W, db: usize) -> io::Result<()> {
    w.write_all(&[OP_SELECTDB])?;
    write_len(w, db as u64)
}

/// A file being written: buffers output, keeps the CRC-64 of everything written and counts
/// bytes. `finish` writes EOF and the checksum (zero with rdbchecksum off, as Redis).
pub struct RdbOut<W: Write> {
    inner: W,
    buf: Vec<u8>,
    crc: crc_fast::Digest,
    written: u64,
}

/// Bytes buffered before they go to the file.
pub const OUT_BUFFER: usize = 1 << 20;

impl<W: Write> RdbOut<W> {
    pub fn new(inner: W) -> RdbOut<W> {
        RdbOut {
            inner,
            buf: Vec::with_capacity(OUT_BUFFER),
            crc: crc64_digest(),
            written: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    fn drain(&mut self) -> io::Result<()> {
        self.crc.update(&self.buf);
        self.inner.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// The destination with everything written to it, without the RDB ending (an AOF base
    /// of commands goes through the same buffer).
    pub fn into_inner(mut self) -> io::Result<W> {
        self.drain()?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    pub fn finish(mut self, checksum: bool) -> io::Result<W> {
        self.buf.push(OP_EOF);
        self.drain()?;
        let crc = if checksum { self.crc.finalize() } else { 0 };
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for RdbOut<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > OUT_BUFFER {
            self.drain()?;
            if data.len() >= OUT_BUFFER {
                self.crc.update(data);
                self.inner.write_all(data)?;
                self.written += data.len() as u64;
                return Ok(data.len());
            }
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StrValue;

    fn opts() -> Options {
        Options {
            compress: true,
            list_fill: -2,
        }
    }

    #[test]
    fn lengths() {
        let mut v = Vec::new();
        for n in [
            0u64,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
        ] {
            v.clear();
            write_len(&mut v, n).unwrap();
            let want = match n {
                0..64 => 1,
                64..16384 => 2,
                16384..=0xFFFF_FFFF => 5,
                _ => 9,
            };
            assert_eq!(v.len(), want, "{n}");
        }
    }

    #[test]
    fn dump_of_strings_matches_redis() {
        // DUMP of SET k hello / SET k 12345 / SET k "a" x 30 on redis-server 7.0.15.
        let p = dump_payload(&Value::Str(StrValue::from_bytes(b"hello")), opts());
        assert_eq!(&p[..7], b"\x00\x05hello");
        assert_eq!(&p[7..9], &[10, 0]);
        let p = dump_payload(&Value::Str(StrValue::from_bytes(b"12345")), opts());
        assert_eq!(&p[..4], b"\x00\xc1\x39\x30");
        let p = dump_payload(&Value::Str(StrValue::from_bytes(&[b'a'; 30])), opts());
        assert_eq!(
            p,
            b"\x00\xc3\t\x1e\x01aa\xe0\x11\x00\x01aa\n\x00Es|\xbb+d{\xbb".to_vec()
        );
    }

    #[test]
    fn score_texts() {
        let mut t = Vec::new();
        for (v, want) in [
            (1.0, "1"),
            (-3.0, "-3"),
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (f64::INFINITY, "inf"),
            (-0.0, "-0"),
            (1e20, "1e+20"),
        ] {
            score_text(v, &mut t);
            assert_eq!(t, want.as_bytes(), "{v}");
        }
    }
}
