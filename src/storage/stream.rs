//! Streams (t_stream.c): entries ordered by id in nodes of consecutive entries (Redis's radix
//! tree of listpacks, here a B-tree keyed by each node's first id), and consumer groups with
//! their pending entries lists.
//!
//! Redis behaviour that is observable and kept here: node boundaries (stream-node-max-bytes
//! against Redis's own listpack size, stream-node-max-entries counting tombstones), deleted
//! entries kept as tombstones until their node empties, trimming by whole nodes for `~`, the
//! bookkeeping behind XINFO (first/last/max-deleted ids, entries added, the radix tree's node
//! count) and the consumer groups' logical read counters and lag.

mod node;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, btree_map};
use std::sync::Arc;

pub use node::{DELETED as ENTRY_DELETED, Fields, SAME_FIELDS as ENTRY_SAME_FIELDS, lp_str_size};
use node::{DELETED, Header, Node};

/// An entry id: milliseconds and sequence number, ordered as a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// Redis's `LONG_STR_SIZE`-bounded buffer for "<ms>-<seq>".
pub struct IdText {
    buf: [u8; 41],
    len: u8,
}

impl std::ops::Deref for IdText {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        *self == StreamId::ZERO
    }

    /// The next id (streamIncrID); None past the largest.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous id (streamDecrID); None before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// "<ms>-<seq>", as replies show ids.
    pub fn text(&self) -> IdText {
        let mut t = IdText {
            buf: [0; 41],
            len: 0,
        };
        let mut b = itoa::Buffer::new();
        let ms = b.format(self.ms).as_bytes();
        t.buf[..ms.len()].copy_from_slice(ms);
        let mut n = ms.len();
        t.buf[n] = b'-';
        n += 1;
        let seq = b.format(self.seq).as_bytes();
        t.buf[n..n + seq.len()].copy_from_slice(seq);
        t.len = (n + seq.len()) as u8;
        t
    }

    /// The 16 bytes Redis keys its radix tree with (both halves big-endian).
    fn key_bytes(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }
}

/// An id argument as written: `<ms>-<seq>`, `<ms>` (the sequence defaults), `-`, `+`, or (for
/// XADD) `<ms>-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdArg {
    Exact(StreamId),
    /// `<ms>-*`: the sequence is picked when adding.
    AnySeq(u64),
}

/// C `isspace` in the C locale.
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Redis's `string2ull`: a strict integer, else whatever `strtoull` accepts entirely (leading
/// spaces, a sign, leading zeros; a minus negates modulo 2^64).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = s.iter().take_while(|&&c| c_isspace(c)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v = 0u64;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

use crate::util::num::parse_i64;

/// Parses an id argument like streamGenericParseIDOrReply. `missing_seq` fills in a bare
/// `<ms>`; `strict` refuses `-` and `+`; `any_seq` accepts `<ms>-*`.
pub fn parse_id(arg: &[u8], missing_seq: u64, strict: bool, any_seq: bool) -> Option<IdArg> {
    if arg.len() > 127 {
        return None;
    }
    // Redis parses a C string copy: an embedded NUL ends it.
    let arg = &arg[..arg.iter().position(|&c| c == 0).unwrap_or(arg.len())];
    match arg {
        b"-" | b"+" if strict => None,
        b"-" => Some(IdArg::Exact(StreamId::ZERO)),
        b"+" => Some(IdArg::Exact(StreamId::MAX)),
        _ => {
            let (ms, seq) = match arg.iter().position(|&c| c == b'-') {
                Some(i) => (&arg[..i], Some(&arg[i + 1..])),
                None => (arg, None),
            };
            let ms = string2ull(ms)?;
            match seq {
                Some(b"*") if any_seq => Some(IdArg::AnySeq(ms)),
                Some(seq) => Some(IdArg::Exact(StreamId::new(ms, string2ull(seq)?))),
                None => Some(IdArg::Exact(StreamId::new(ms, missing_seq))),
            }
        }
    }
}

/// Node size limits (stream-node-max-bytes, stream-node-max-entries).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
}

/// Redis never lets a node's listpack grow past 1 GiB, whatever the configuration says.
const NODE_MAX_SIZE: u64 = 1 << 30;

/// How XADD/XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// A pending entry: delivered to `consumer`, not acknowledged yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Arc<[u8]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Unix ms of the consumer's last read or claim attempt.
    pub seen_time: i64,
    /// Ids of its pending entries (their details live in the group's PEL).
    pub pending: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    /// How many entries the group has read counting from the first one ever added; None when
    /// it cannot be known (Redis's SCG_INVALID_ENTRIES_READ).
    pub entries_read: Option<i64>,
    pub pel: BTreeMap<StreamId, Nack>,
    /// By name, in Redis's (byte) order.
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

impl Group {
    /// Adds consumer `name` unless it exists; true when created.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            name.into(),
            Consumer {
                seen_time: now,
                pending: BTreeSet::new(),
            },
        );
        true
    }

    /// Looks consumer `name` up for a read or claim, creating it if needed, and stamps its seen
    /// time; true when created.
    pub fn touch_consumer(&mut self, name: &[u8], now: i64) -> bool {
        let created = self.create_consumer(name, now);
        if let Some(c) = self.consumers.get_mut(name) {
            c.seen_time = now;
        }
        created
    }

    /// Removes a consumer and its pending entries; returns how many it had, None when absent.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pending {
            self.pel.remove(id);
        }
        Some(c.pending.len())
    }

    /// XACK of one id: true when it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pending.remove(&id);
        }
        true
    }

    /// Makes `id` pending for `consumer` (which must exist), delivered at `time` with
    /// `count` deliveries, taking it from its previous owner if any.
    fn assign(&mut self, id: StreamId, consumer: &Arc<[u8]>, time: i64, count: Option<u64>) {
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            delivery_time: time,
            delivery_count: 0,
            consumer: consumer.clone(),
        });
        if nack.consumer != *consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pending.remove(&id);
            }
            nack.consumer = consumer.clone();
        }
        nack.delivery_time = time;
        if let Some(n) = count {
            nack.delivery_count = n;
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pending.insert(id);
        }
    }

    /// The shared name of an existing consumer.
    fn consumer_name(&self, name: &[u8]) -> Option<Arc<[u8]>> {
        self.consumers.get_key_value(name).map(|(k, _)| k.clone())
    }
}

/// An entry found in the stream.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub id: StreamId,
    node: &'a Node,
    header: Header,
}

impl<'a> Entry<'a> {
    /// Number of field/value pairs.
    pub fn len(&self) -> usize {
        self.header.fields
    }

    pub fn is_empty(&self) -> bool {
        self.header.fields == 0
    }

    pub fn fields(&self) -> Fields<'a> {
        self.node.fields(&self.header)
    }
}

/// A node as an RDB file holds it (one of Redis's listpacks): its key, its counters, its
/// master field names and every entry with its flags, tombstones included.
pub struct RawNode<'a> {
    pub master: StreamId,
    node: &'a Node,
}

/// One entry of a `RawNode`: `SAME_FIELDS` / `DELETED` flags, id and field/value pairs.
pub struct RawEntry<'a> {
    pub flags: u8,
    pub id: StreamId,
    pub fields: Fields<'a>,
}

impl<'a> RawNode<'a> {
    pub fn live(&self) -> u64 {
        self.node.live as u64
    }

    pub fn deleted(&self) -> u64 {
        self.node.deleted as u64
    }

    pub fn master_names(&self) -> impl ExactSizeIterator<Item = &'a [u8]> {
        self.node.master_names()
    }

    pub fn entries(&self) -> impl Iterator<Item = RawEntry<'a>> {
        let (node, master) = (self.node, self.master);
        let mut off = node.first_offset();
        std::iter::from_fn(move || {
            if off >= node.end() {
                return None;
            }
            let h = node.header(master, off);
            off = node.skip(&h);
            Some(RawEntry {
                flags: h.flags,
                id: h.id,
                fields: node.fields(&h),
            })
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    pub last_id: StreamId,
    /// The first live entry's id when the stream has entries (Redis keeps it for lag math).
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The nodes in id order, as RDB files store them.
    pub fn raw_nodes(&self) -> impl Iterator<Item = RawNode<'_>> {
        self.nodes
            .iter()
            .map(|(&master, node)| RawNode { master, node })
    }

    /// Adds a node read from a file, after every node added so far: its key, master field
    /// names and entries (deleted flag, id, field/value pairs) in id order. Err when the ids
    /// are not ascending past the previous node's or the node has no entry.
    pub fn load_node(
        &mut self,
        master: StreamId,
        master_names: &[&[u8]],
        entries: &[(bool, StreamId, Vec<&[u8]>)],
    ) -> Result<(), &'static str> {
        if entries.is_empty() {
            return Err("empty stream node");
        }
        if self
            .nodes
            .last_key_value()
            .is_some_and(|(_, n)| n.last >= master)
        {
            return Err("stream nodes out of order");
        }
        let mut node = Node::with_master(master_names.iter().copied());
        let mut prev: Option<StreamId> = None;
        for (deleted, id, pairs) in entries {
            if *id < master || prev.is_some_and(|p| p >= *id) {
                return Err("stream entries out of order");
            }
            prev = Some(*id);
            let off = node.end();
            node.push(master, *id, pairs);
            if *deleted {
                node.mark_deleted(off);
            }
        }
        self.length += node.live as u64;
        self.nodes.insert(master, node);
        Ok(())
    }

    /// Number of nodes (XINFO's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes allocated (memory accounting).
    pub fn allocated(&self) -> usize {
        self.nodes.values().map(Node::allocated).sum::<usize>()
    }

    /// The id XADD picks for `arg` (None for `*`), or None when no valid id follows the last
    /// one (Redis's EDOM error).
    pub fn next_id(&self, arg: Option<IdArg>, now_ms: u64) -> Option<StreamId> {
        let id = match arg {
            Some(IdArg::Exact(id)) => id,
            Some(IdArg::AnySeq(ms)) if ms == self.last_id.ms => {
                StreamId::new(ms, self.last_id.seq.checked_add(1)?)
            }
            Some(IdArg::AnySeq(ms)) => StreamId::new(ms, 0),
            None if now_ms > self.last_id.ms => StreamId::new(now_ms, 0),
            None => self.last_id.next()?,
        };
        // An id at or below the top is refused; the automatic ones can wrap to 0-0.
        (id > self.last_id).then_some(id)
    }

    /// Appends an entry with an id greater than `last_id` (see `next_id`); `pairs` is field,
    /// value, field, value...
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], limits: NodeLimits) {
        let payload: u64 = pairs.iter().map(|p| p.len() as u64).sum();
        let max_bytes = match limits.max_bytes {
            0 => NODE_MAX_SIZE,
            n => n.min(NODE_MAX_SIZE),
        };
        let mut tail = self.nodes.last_entry();
        let full = tail.as_ref().is_none_or(|t| {
            let n = t.get();
            n.redis_size() + payload >= max_bytes
                || (limits.max_entries != 0 && n.entries() >= limits.max_entries)
        });
        if full {
            if let Some(t) = tail.as_mut() {
                t.get_mut().shrink();
            }
            let mut node = Node::new(pairs);
            node.push(id, id, pairs);
            self.nodes.insert(id, node);
        } else if let Some(mut t) = tail {
            let master = *t.key();
            t.get_mut().push(master, id, pairs);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Entries from `start` to `end` inclusive, in order (tombstones skipped).
    pub fn range(&self, start: StreamId, end: StreamId) -> Range<'_> {
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(StreamId::ZERO, |(k, _)| *k);
        Range {
            nodes: self.nodes.range(from..),
            cur: None,
            start,
            end,
            done: false,
        }
    }

    /// Entries from `end` down to `start` inclusive.
    pub fn range_rev(&self, start: StreamId, end: StreamId) -> RevRange<'_> {
        RevRange {
            nodes: self.nodes.range(..=end).rev(),
            cur: None,
            offsets: Vec::new(),
            start,
            end,
            done: false,
        }
    }

    pub fn get(&self, id: StreamId) -> Option<Entry<'_>> {
        self.range(id, id).next()
    }

    /// The first and last live entries.
    pub fn first_entry(&self) -> Option<Entry<'_>> {
        self.range(StreamId::ZERO, StreamId::MAX).next()
    }

    pub fn last_entry(&self) -> Option<Entry<'_>> {
        self.range_rev(StreamId::ZERO, StreamId::MAX).next()
    }

    /// The last live entry's id (streamLastValidID), 0-0 when empty.
    pub fn last_valid_id(&self) -> StreamId {
        // Trimming never marks the newest entry, so it is live unless XDEL (or XSETID's
        // MAXDELETEDID) reached it; only then walk the last node.
        match self.nodes.last_key_value() {
            Some((_, n)) if n.last > self.max_deleted && n.live > 0 => n.last,
            _ => self.last_entry().map_or(StreamId::ZERO, |e| e.id),
        }
    }

    /// Deletes one entry; false when it is not in the stream.
    fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let mut off = node.first_offset();
        while off < node.end() {
            let h = node.header(master, off);
            if h.id > id {
                return false;
            }
            if h.id == id {
                if h.flags & DELETED != 0 {
                    return false;
                }
                if node.live == 1 {
                    self.nodes.remove(&master);
                } else {
                    node.mark_deleted(off);
                }
                self.length -= 1;
                return true;
            }
            off = node.skip(&h);
        }
        false
    }

    /// XDEL: deletes the entries that exist; returns how many.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_gone = false;
        for &id in ids {
            if self.delete(id) {
                first_gone |= id == self.first_id;
                if id > self.max_deleted {
                    self.max_deleted = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::ZERO;
            } else if first_gone {
                self.first_id = self.first_entry().map_or(StreamId::MAX, |e| e.id);
            }
        }
        deleted
    }

    /// Trims from the oldest entries (streamTrim); `approx` removes whole nodes only, `limit`
    /// (0: none) caps the entries removed. Returns how many were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some(mut first) = self.nodes.first_entry() {
            if let Trim::MaxLen(max) = how
                && self.length <= max
            {
                break;
            }
            let master = *first.key();
            let node = first.get_mut();
            let entries = node.live as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let whole = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last < min,
            };
            if whole {
                first.remove();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut off = node.first_offset();
            while off < node.end() {
                let h = node.header(master, off);
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => h.id >= min,
                };
                if stop {
                    break;
                }
                let next = node.skip(&h);
                if h.flags & DELETED == 0 {
                    node.mark_deleted(off);
                    self.length -= 1;
                    deleted += 1;
                }
                off = next;
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::ZERO;
        } else if deleted > 0 {
            self.first_id = self.first_entry().map_or(StreamId::MAX, |e| e.id);
        }
        deleted
    }

    /// The number of nodes of Redis's radix tree holding this stream's node keys (XINFO's
    /// radix-tree-nodes). Redis's rax keeps itself compressed: a node starts at the root, at
    /// every key, at every branching prefix and at every child of one.
    pub fn radix_tree_nodes(&self) -> u64 {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(StreamId::key_bytes).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_nodes(&keys, 0)
    }

    // ----- consumer groups -----

    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.get_mut(name)
    }

    /// XGROUP CREATE: false when the group exists.
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<i64>,
    ) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups.insert(
            name.into(),
            Group {
                last_id,
                entries_read,
                pel: BTreeMap::new(),
                consumers: BTreeMap::new(),
            },
        );
        true
    }

    /// Whether the range from `start` on holds a tombstone (streamRangeHasTombstones with an
    /// open end).
    fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// An id's logical read counter: its distance from the first entry ever added, when it can
    /// be known (streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(added);
        }
        if id == self.last_id {
            return Some(added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return Some(added - self.length as i64);
            }
            if id == self.first_id {
                return Some(added - self.length as i64 + 1);
            }
        }
        None
    }

    /// A group's lag: entries added after its last delivered one, when known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = g.entries_read
            && !self.has_tombstones_from(g.last_id)
        {
            return Some(added.wrapping_sub(read));
        }
        self.estimate_entries_read(g.last_id)
            .map(|read| added.wrapping_sub(read))
    }

    /// XREADGROUP with `>`: delivers up to `count` (0: all) entries after the group's last
    /// delivered id to `consumer` (which must exist), advancing the group and, unless `noack`,
    /// making them pending. `write` gets the delivered entries before the group changes.
    pub fn deliver_new(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        count: usize,
        noack: bool,
        now: i64,
        write: impl FnOnce(&[Entry<'_>]),
    ) {
        let Some(g) = self.groups.get(group) else {
            return;
        };
        let Some(start) = g.last_id.next() else {
            write(&[]);
            return;
        };
        let limit = if count == 0 { usize::MAX } else { count };
        let entries: Vec<Entry<'_>> = self.range(start, StreamId::MAX).take(limit).collect();
        write(&entries);
        let ids: Vec<StreamId> = entries.iter().map(|e| e.id).collect();
        drop(entries);
        self.advance_group(group, &ids, consumer, noack, now);
    }

    fn advance_group(
        &mut self,
        group: &[u8],
        ids: &[StreamId],
        consumer: &[u8],
        noack: bool,
        now: i64,
    ) {
        for &id in ids {
            let last = self.groups[group].last_id;
            if id > last {
                let read = self.groups[group].entries_read;
                let next_read = match read {
                    Some(r) if !self.has_tombstones_from(id) => Some(r + 1),
                    _ if self.entries_added > 0 => self.estimate_entries_read(id),
                    _ => read,
                };
                let g = self.groups.get_mut(group).expect("group checked above");
                g.entries_read = next_read;
                g.last_id = id;
            }
            if !noack {
                let g = self.groups.get_mut(group).expect("group checked above");
                if let Some(name) = g.consumer_name(consumer) {
                    g.assign(id, &name, now, Some(1));
                }
            }
        }
    }

    /// XREADGROUP with an id: the consumer's own pending entries from `start`, up to `count`
    /// (0: all). Entries deleted since delivery come as None. `write` gets them before their
    /// delivery counters change.
    pub fn deliver_history(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: usize,
        now: i64,
        write: impl FnOnce(&[(StreamId, Option<Entry<'_>>)]),
    ) {
        let Some(c) = self
            .groups
            .get(group)
            .and_then(|g| g.consumers.get(consumer))
        else {
            write(&[]);
            return;
        };
        let limit = if count == 0 { usize::MAX } else { count };
        let found: Vec<(StreamId, Option<Entry<'_>>)> = c
            .pending
            .range(start..)
            .take(limit)
            .map(|&id| (id, self.get(id)))
            .collect();
        write(&found);
        let served: Vec<StreamId> = found
            .iter()
            .filter(|(_, e)| e.is_some())
            .map(|(id, _)| *id)
            .collect();
        drop(found);
        if let Some(g) = self.groups.get_mut(group) {
            for id in served {
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time = now;
                    n.delivery_count += 1;
                }
            }
        }
    }

    /// XCLAIM: moves the given pending entries idle for at least `min_idle` ms to `consumer`,
    /// created at the first claim. Pending entries whose stream entry is gone are dropped from
    /// the PEL. Returns the claimed ids, in argument order, and whether the consumer was
    /// created.
    pub fn claim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        ids: &[StreamId],
        opts: ClaimOptions,
    ) -> (Vec<StreamId>, bool) {
        let mut claimed = Vec::new();
        let mut created = false;
        for &id in ids {
            let exists = self.get(id).is_some();
            let Some(g) = self.groups.get_mut(group) else {
                break;
            };
            if !exists {
                if g.pel.contains_key(&id) {
                    g.ack(id);
                }
                continue;
            }
            let fresh = !g.pel.contains_key(&id);
            if fresh && !opts.force {
                continue;
            }
            if !fresh && opts.min_idle > 0 {
                let idle = opts.now - g.pel[&id].delivery_time;
                if idle < opts.min_idle {
                    continue;
                }
            }
            created |= g.touch_consumer(consumer, opts.now);
            let Some(name) = g.consumer_name(consumer) else {
                break;
            };
            // A pending entry FORCE creates starts as delivered once, as in Redis.
            let previous = g.pel.get(&id).map_or(1, |n| n.delivery_count);
            let count = match opts.retry_count {
                Some(n) => n,
                None if opts.just_id => previous,
                None => previous + 1,
            };
            g.assign(id, &name, opts.delivery_time, Some(count));
            claimed.push(id);
        }
        (claimed, created)
    }

    /// XAUTOCLAIM: scans the group's PEL from `start`, claiming up to `count` entries idle for
    /// at least `min_idle` ms (looking at most at 10 × count) for `consumer`, created at the
    /// first claim. Returns the claimed ids, the cursor for the next call (0-0 when the scan is
    /// over), the ids dropped from the PEL because their entry is gone, and whether the
    /// consumer was created.
    pub fn auto_claim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: u64,
        opts: ClaimOptions,
    ) -> AutoClaimed {
        let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
        let mut created = false;
        let mut attempts = count.saturating_mul(10);
        let mut left = count;
        let mut cursor = start;
        let mut next = None;
        while let Some(g) = self.groups.get(group) {
            let Some((&id, nack)) = g.pel.range(cursor..).next() else {
                break;
            };
            if attempts == 0 || left == 0 {
                next = Some(id);
                break;
            }
            attempts -= 1;
            cursor = id;
            let idle = opts.now - nack.delivery_time;
            let exists = self.get(id).is_some();
            let g = self.groups.get_mut(group).expect("group checked above");
            if !exists {
                g.ack(id);
                deleted.push(id);
                left -= 1;
                continue;
            }
            let Some(after) = id.next() else {
                break;
            };
            cursor = after;
            if opts.min_idle > 0 && idle < opts.min_idle {
                continue;
            }
            created |= g.touch_consumer(consumer, opts.now);
            let Some(name) = g.consumer_name(consumer) else {
                break;
            };
            let previous = g.pel[&id].delivery_count;
            let n = if opts.just_id { previous } else { previous + 1 };
            g.assign(id, &name, opts.now, Some(n));
            claimed.push(id);
            left -= 1;
        }
        AutoClaimed {
            claimed,
            next: next.unwrap_or(StreamId::ZERO),
            deleted,
            created,
        }
    }
}

/// What XAUTOCLAIM did (see `Stream::auto_claim`).
pub struct AutoClaimed {
    pub claimed: Vec<StreamId>,
    pub next: StreamId,
    pub deleted: Vec<StreamId>,
    pub created: bool,
}

/// What XCLAIM was asked to do.
#[derive(Clone, Copy, Debug)]
pub struct ClaimOptions {
    pub min_idle: i64,
    /// The delivery time to record (from IDLE or TIME, else now).
    pub delivery_time: i64,
    pub retry_count: Option<u64>,
    pub force: bool,
    pub just_id: bool,
    pub now: i64,
}

/// Counts the nodes of a compressed radix tree over sorted, distinct, equal-length `keys` that
/// share their first `depth` bytes, starting with the node at `depth`.
fn rax_nodes(keys: &[[u8; 16]], depth: usize) -> u64 {
    let common = if keys.len() == 1 {
        16
    } else {
        let (a, b) = (&keys[0], &keys[keys.len() - 1]);
        (depth..16).find(|&i| a[i] != b[i]).unwrap_or(16)
    };
    // A compressed node covering depth..common, then the node at `common`.
    let mut n = (common > depth) as u64 + 1;
    if keys.len() > 1 {
        let mut i = 0;
        while i < keys.len() {
            let byte = keys[i][common];
            let j = i + keys[i..].iter().take_while(|k| k[common] == byte).count();
            n += rax_nodes(&keys[i..j], common + 1);
            i = j;
        }
    }
    n
}

/// Entries in id order within a range (see `Stream::range`).
pub struct Range<'a> {
    nodes: btree_map::Range<'a, StreamId, Node>,
    /// The node being read: its key, the node and the offset of the next entry.
    cur: Option<(StreamId, &'a Node, usize)>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        while !self.done {
            let Some((master, node, off)) = &mut self.cur else {
                let (k, n) = self.nodes.next()?;
                if *k > self.end {
                    self.done = true;
                    return None;
                }
                self.cur = Some((*k, n, n.first_offset()));
                continue;
            };
            if *off >= node.end() {
                self.cur = None;
                continue;
            }
            let h = node.header(*master, *off);
            *off = node.skip(&h);
            if h.id < self.start || h.flags & DELETED != 0 {
                continue;
            }
            if h.id > self.end {
                self.done = true;
                return None;
            }
            return Some(Entry {
                id: h.id,
                node,
                header: h,
            });
        }
        None
    }
}

/// Entries in reverse id order within a range (see `Stream::range_rev`).
pub struct RevRange<'a> {
    nodes: std::iter::Rev<btree_map::Range<'a, StreamId, Node>>,
    cur: Option<&'a Node>,
    /// Headers of the current node's live entries, consumed from the back.
    offsets: Vec<Header>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> Iterator for RevRange<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        while !self.done {
            let Some(node) = self.cur else {
                let (&master, node) = self.nodes.next()?;
                self.offsets.clear();
                let mut off = node.first_offset();
                while off < node.end() {
                    let h = node.header(master, off);
                    off = node.skip(&h);
                    if h.flags & DELETED == 0 {
                        self.offsets.push(h);
                    }
                }
                self.cur = Some(node);
                continue;
            };
            let Some(h) = self.offsets.pop() else {
                self.cur = None;
                continue;
            };
            if h.id > self.end {
                continue;
            }
            if h.id < self.start {
                self.done = true;
                return None;
            }
            return Some(Entry {
                id: h.id,
                node,
                header: h,
            });
        }
        None
    }
}
