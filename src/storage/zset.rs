//! Sorted sets: distinct members ordered by (score, member bytes).
//!
//! Two encodings, switched where Redis 7.0 switches them:
//! - `Listpack`: member, score pairs in order in one `SmallPack`, below
//!   zset-max-listpack-entries members of at most zset-max-listpack-value bytes. Every operation
//!   is a walk, as in Redis, and cheap at those sizes.
//! - `Skiplist`: a skiplist whose links carry spans (the number of elements they jump), so rank
//!   lookups and range boundaries are O(log n), plus a member -> node table for O(1) scores.
//!
//! Ranks are 0-based positions in (score, member) order. Range queries follow Redis's walks
//! exactly (first element >= min, then on while <= max), which matters for lexicographic ranges
//! over members with different scores, where the walk is not a simple interval.

use super::packed::{Form, FormMut, Packed};
use super::smallpack::{Offset, SmallPack};
use super::table::{Hashed, OrdTable, member_hash};
use super::{Either, EncodingLimits};

/// How ZADD treats a member (its NX/XX/GT/LT/INCR options).
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What ZADD did with one member.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// Processed, but the score was already that value.
    Unchanged(f64),
    /// Skipped by NX/XX/GT/LT.
    Skipped,
    /// INCR would have produced NaN; nothing changed.
    NotANumber,
}

/// A range over a sorted set: which elements are past its lower and upper bounds.
pub trait ZRange {
    /// Ranges that can hold nothing whatever the set (min above max).
    fn is_empty(&self) -> bool;
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
}

/// A score interval, each end inclusive or exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_ex: bool,
    pub max_ex: bool,
}

impl ScoreRange {
    /// Parses ZRANGEBYSCORE-style bounds: a number, "(" + number for an exclusive end, with
    /// C strtod's syntax (so "inf", "-inf", "1e400" and "" are accepted), never NaN.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, min_ex) = parse_score_bound(min)?;
        let (max, max_ex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            min_ex,
            max_ex,
        })
    }
}

fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.split_first() {
        Some((b'(', rest)) => Some((crate::util::num::parse_strtod(rest)?, true)),
        _ => Some((crate::util::num::parse_strtod(arg)?, false)),
    }
}

impl ZRange for ScoreRange {
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }

    #[inline]
    fn gte_min(&self, score: f64, _: &[u8]) -> bool {
        if self.min_ex {
            score > self.min
        } else {
            score >= self.min
        }
    }

    #[inline]
    fn lte_max(&self, score: f64, _: &[u8]) -> bool {
        if self.max_ex {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

/// One end of a lexicographic range: "-", "+", "[member" or "(member".
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LexBound<'a> {
    Min,
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

impl<'a> LexBound<'a> {
    pub fn parse(arg: &'a [u8]) -> Option<LexBound<'a>> {
        match arg.split_first()? {
            (b'+', []) => Some(LexBound::Max),
            (b'-', []) => Some(LexBound::Min),
            (b'[', rest) => Some(LexBound::Incl(rest)),
            (b'(', rest) => Some(LexBound::Excl(rest)),
            _ => None,
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }

    /// Where a member stands against this bound ("-" is below and "+" above everything).
    fn cmp_member(&self, member: &[u8]) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match self {
            LexBound::Min => Greater,
            LexBound::Max => Less,
            LexBound::Incl(b) | LexBound::Excl(b) => member.cmp(b),
        }
    }
}

/// A lexicographic range over members (ZRANGEBYLEX).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LexRange<'a> {
    pub min: LexBound<'a>,
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }
}

impl ZRange for LexRange<'_> {
    fn is_empty(&self) -> bool {
        use LexBound::*;
        use std::cmp::Ordering::*;
        let cmp = match (self.min, self.max) {
            (Min, Min) | (Max, Max) => Equal,
            (Min, _) | (_, Max) => Less,
            (Max, _) | (_, Min) => Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        };
        cmp == Greater || (cmp == Equal && (self.min.exclusive() || self.max.exclusive()))
    }

    #[inline]
    fn gte_min(&self, _: f64, member: &[u8]) -> bool {
        let c = self.min.cmp_member(member);
        if self.min.exclusive() {
            c.is_gt()
        } else {
            c.is_ge()
        }
    }

    #[inline]
    fn lte_max(&self, _: f64, member: &[u8]) -> bool {
        let c = self.max.cmp_member(member);
        if self.max.exclusive() {
            c.is_lt()
        } else {
            c.is_le()
        }
    }
}

/// Whether a score sorts before (score, member) in set order.
#[inline]
fn before(score: f64, member: &[u8], than_score: f64, than_member: &[u8]) -> bool {
    score < than_score || (score == than_score && member < than_member)
}

// ---------------------------------------------------------------------------------------------
// Listpack encoding: member entry, then the score entry. As in Redis, an integral score is
// stored as an integer (here: little-endian, sign-extended, in as few bytes as it needs, 0 for
// zero), anything else as the 8 raw bytes of the double. The length tells them apart.

/// Largest magnitude stored as an integer: 7 bytes signed.
const LP_INT_LIMIT: f64 = (1u64 << 55) as f64;

/// A score's entry bytes and their length. Like Redis's, this loses the sign of -0.
#[inline]
fn lp_score_bytes(score: f64) -> ([u8; 8], usize) {
    if score.fract() == 0.0 && score.abs() < LP_INT_LIMIT {
        let v = score as i64;
        // The fewest bytes that sign-extend back to v.
        let fits = |len: u32| len > 0 && (v << (64 - 8 * len)) >> (64 - 8 * len) == v;
        let len = if v == 0 {
            0
        } else {
            (1..=7).find(|&l| fits(l)).unwrap_or(7)
        };
        (v.to_le_bytes(), len as usize)
    } else {
        (score.to_le_bytes(), 8)
    }
}

#[inline]
fn lp_score(entry: &[u8]) -> f64 {
    if entry.len() == 8 {
        return f64::from_le_bytes(entry.try_into().expect("8 bytes"));
    }
    let mut v: i64 = 0;
    for (i, b) in entry.iter().enumerate() {
        v |= (*b as i64) << (8 * i);
    }
    if let Some(&last) = entry.last()
        && last & 0x80 != 0
    {
        v |= -1i64 << (8 * entry.len());
    }
    v as f64
}

/// (offset of the member entry, member, score) of each pair, in order.
fn lp_pairs(lp: &SmallPack) -> impl Iterator<Item = (Offset, &[u8], f64)> {
    let mut entries = lp.iter_offsets();
    std::iter::from_fn(move || {
        let (at, member) = entries.next()?;
        let (_, score) = entries.next()?;
        Some((at, member, lp_score(score)))
    })
}

/// (member, score) of each pair from rank `start` on (none past the end), skipping the ones
/// before by their lengths alone.
fn lp_pairs_from(lp: &SmallPack, start: usize) -> impl Iterator<Item = (&[u8], f64)> {
    let mut entries = lp.iter_at(lp.offset_of(2 * start.min(lp.len() / 2)));
    std::iter::from_fn(move || Some((entries.next()?, lp_score(entries.next()?))))
}

/// The pairs in descending order. The encoding is walked forwards only; it holds at most
/// zset-max-listpack-entries pairs, so collecting them is a walk like any other.
fn lp_pairs_rev(lp: &SmallPack) -> impl Iterator<Item = (Offset, &[u8], f64)> {
    lp_pairs(lp).collect::<Vec<_>>().into_iter().rev()
}

fn lp_find(lp: &SmallPack, member: &[u8]) -> Option<(Offset, f64)> {
    lp_pairs(lp)
        .find(|(_, m, _)| *m == member)
        .map(|(off, _, s)| (off, s))
}

fn lp_insert(lp: &mut SmallPack, member: &[u8], score: f64) {
    let at = lp_pairs(lp)
        .find(|(_, m, s)| before(score, member, *s, m))
        .map_or(lp.end(), |(off, _, _)| off);
    let (bytes, len) = lp_score_bytes(score);
    lp.insert_at(at, &[member, &bytes[..len]]);
}

// ---------------------------------------------------------------------------------------------
// Skiplist encoding.

const MAX_LEVEL: usize = 32;
/// No node (end of a level).
const NIL: u32 = u32::MAX;
/// The head of the list, before the first node.
const HEAD: u32 = u32::MAX - 1;

#[derive(Clone, Copy, Debug, Default)]
struct Link {
    next: u32,
    /// Elements this link jumps over, counting its target (for a link to NIL: the elements
    /// left after its node).
    span: u32,
}

#[derive(Clone, Debug)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    /// The previous node at level 0 (NIL for the first); threads the free list of unused slots.
    prev: u32,
    /// This node's links (one per level) live at `links[links_at..links_at + height]`.
    links_at: u32,
    height: u8,
}

/// A member -> node entry of the member table.
#[derive(Clone, Copy, Debug)]
struct Slot {
    hash: u64,
    node: u32,
}

impl Hashed for Slot {
    #[inline]
    fn hash(&self) -> u64 {
        self.hash
    }
}

/// A descent's result: the last node visited on each level and its rank (1-based, the head
/// being rank 0).
struct Path {
    update: [u32; MAX_LEVEL],
    rank: [usize; MAX_LEVEL],
}

pub struct SkipList {
    head: [Link; MAX_LEVEL],
    /// Levels in use (at least 1).
    level: usize,
    tail: u32,
    len: usize,
    /// Node slots; freed ones are chained from `free_node` through `prev`.
    nodes: Vec<Node>,
    free_node: u32,
    /// Every node's links in one pool; freed blocks are chained per height through `next`.
    links: Vec<Link>,
    free_links: [u32; MAX_LEVEL],
    index: OrdTable<Slot>,
}

/// A level for a new node: k+1 with probability 4^-k (Redis's p = 1/4), at most 32.
fn random_height() -> usize {
    let zeros = (fastrand::u64(..) | (1 << 62)).trailing_zeros() as usize;
    (1 + zeros / 2).min(MAX_LEVEL)
}

impl SkipList {
    /// Bytes of the skiplist's structure: nodes, links and the member index (members' own
    /// bytes not included).
    pub fn structure_bytes(&self) -> usize {
        std::mem::size_of::<SkipList>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.links.capacity() * std::mem::size_of::<Link>()
            + self.index.allocated()
    }

    fn new() -> SkipList {
        SkipList {
            head: [Link { next: NIL, span: 0 }; MAX_LEVEL],
            level: 1,
            tail: NIL,
            len: 0,
            nodes: Vec::new(),
            free_node: NIL,
            links: Vec::new(),
            free_links: [NIL; MAX_LEVEL],
            index: OrdTable::new(),
        }
    }

    #[inline]
    fn link(&self, x: u32, level: usize) -> Link {
        if x == HEAD {
            self.head[level]
        } else {
            self.links[self.nodes[x as usize].links_at as usize + level]
        }
    }

    #[inline]
    fn link_mut(&mut self, x: u32, level: usize) -> &mut Link {
        if x == HEAD {
            &mut self.head[level]
        } else {
            let at = self.nodes[x as usize].links_at as usize;
            &mut self.links[at + level]
        }
    }

    #[inline]
    fn node(&self, x: u32) -> &Node {
        &self.nodes[x as usize]
    }

    /// Walks down from the top level, moving forward while `advance(next node, its rank)`.
    fn descend(&self, mut advance: impl FnMut(&Node, usize) -> bool) -> Path {
        let mut path = Path {
            update: [HEAD; MAX_LEVEL],
            rank: [0; MAX_LEVEL],
        };
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || !advance(self.node(l.next), rank + l.span as usize) {
                    break;
                }
                rank += l.span as usize;
                x = l.next;
            }
            path.update[i] = x;
            path.rank[i] = rank;
        }
        path
    }

    fn alloc_links(&mut self, height: usize) -> u32 {
        let free = self.free_links[height - 1];
        if free != NIL {
            self.free_links[height - 1] = self.links[free as usize].next;
            return free;
        }
        let at = self.links.len() as u32;
        self.links
            .resize(self.links.len() + height, Link { next: NIL, span: 0 });
        at
    }

    fn release_links(&mut self, at: u32, height: usize) {
        self.links[at as usize].next = self.free_links[height - 1];
        self.free_links[height - 1] = at;
    }

    fn alloc_node(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let node = Node {
            member,
            score,
            prev: NIL,
            links_at: 0,
            height: 0,
        };
        if self.free_node != NIL {
            let x = self.free_node;
            self.free_node = self.nodes[x as usize].prev;
            self.nodes[x as usize] = node;
            x
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    /// Links node `x` (already holding its member and score) in after the path's position.
    fn link_in(&mut self, x: u32, path: &mut Path) {
        let height = random_height();
        if height > self.level {
            for i in self.level..height {
                path.update[i] = HEAD;
                path.rank[i] = 0;
                self.head[i].span = self.len as u32;
            }
            self.level = height;
        }
        let at = self.alloc_links(height);
        {
            let n = &mut self.nodes[x as usize];
            n.links_at = at;
            n.height = height as u8;
        }
        let r0 = path.rank[0];
        for i in 0..height {
            let up = self.link(path.update[i], i);
            let crossed = (r0 - path.rank[i]) as u32;
            self.links[at as usize + i] = Link {
                next: up.next,
                span: up.span - crossed,
            };
            *self.link_mut(path.update[i], i) = Link {
                next: x,
                span: crossed + 1,
            };
        }
        for i in height..self.level {
            self.link_mut(path.update[i], i).span += 1;
        }
        let prev = path.update[0];
        self.nodes[x as usize].prev = if prev == HEAD { NIL } else { prev };
        let next = self.links[at as usize].next;
        if next != NIL {
            self.nodes[next as usize].prev = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
    }

    /// Unlinks node `x`, `path` holding its predecessor on every level.
    fn unlink(&mut self, x: u32, path: &Path) {
        let (at, height, prev) = {
            let n = self.node(x);
            (n.links_at as usize, n.height as usize, n.prev)
        };
        for i in 0..self.level {
            let own = if i < height {
                self.links[at + i]
            } else {
                Link { next: NIL, span: 0 }
            };
            let up = self.link_mut(path.update[i], i);
            if up.next == x {
                up.span += own.span;
                up.span -= 1;
                up.next = own.next;
            } else {
                up.span -= 1;
            }
        }
        let next = self.links[at].next;
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
        while self.level > 1 && self.head[self.level - 1].next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.release_links(at as u32, height);
    }

    fn path_to(&self, score: f64, member: &[u8]) -> Path {
        self.descend(|n, _| before(n.score, &n.member, score, member))
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let h = member_hash(member);
        self.index
            .find(h, |s| *self.nodes[s.node as usize].member == *member)
            .map(|i| self.index.at(i).node)
    }

    fn insert(&mut self, member: &[u8], score: f64) {
        let mut path = self.path_to(score, member);
        let x = self.alloc_node(member.into(), score);
        self.link_in(x, &mut path);
        self.index.insert_new(Slot {
            hash: member_hash(member),
            node: x,
        });
    }

    /// Appends an element known to sort after every present one (building from sorted input).
    fn push_back(&mut self, member: Box<[u8]>, score: f64) {
        let mut path = self.descend(|_, _| true);
        let hash = member_hash(&member);
        let x = self.alloc_node(member, score);
        self.link_in(x, &mut path);
        self.index.insert_new(Slot { hash, node: x });
    }

    /// Moves node `x` to a new score, relinking it only when its position changes.
    fn update_score(&mut self, x: u32, score: f64) {
        let (prev, next) = {
            let n = self.node(x);
            (n.prev, self.links[n.links_at as usize].next)
        };
        if (prev == NIL || self.node(prev).score < score)
            && (next == NIL || self.node(next).score > score)
        {
            self.nodes[x as usize].score = score;
            return;
        }
        let path = {
            let n = self.node(x);
            self.path_to(n.score, &n.member)
        };
        self.unlink(x, &path);
        self.nodes[x as usize].score = score;
        let mut path = {
            let n = self.node(x);
            self.path_to(score, &n.member)
        };
        self.link_in(x, &mut path);
    }

    fn free_node(&mut self, x: u32) {
        let n = &mut self.nodes[x as usize];
        n.member = Box::default();
        n.prev = self.free_node;
        self.free_node = x;
    }

    fn unindex(&mut self, x: u32) {
        let h = member_hash(&self.nodes[x as usize].member);
        let i = self.index.find(h, |s| s.node == x).expect("indexed member");
        self.index.remove_at(i);
    }

    fn remove_node(&mut self, x: u32) {
        let path = {
            let n = self.node(x);
            self.path_to(n.score, &n.member)
        };
        self.unlink(x, &path);
        self.unindex(x);
        self.free_node(x);
        self.maybe_compact();
    }

    /// Removes `count` elements from rank `start` on, in one descent.
    fn remove_ranks(&mut self, start: usize, count: usize) {
        let path = self.descend(|_, r| r <= start);
        let mut x = self.link(path.update[0], 0).next;
        for _ in 0..count {
            let next = self.link(x, 0).next;
            self.unlink(x, &path);
            self.unindex(x);
            self.free_node(x);
            x = next;
        }
        self.maybe_compact();
    }

    /// The node at 0-based `rank`.
    fn at_rank(&self, rank: usize) -> u32 {
        let path = self.descend(|_, r| r <= rank + 1);
        path.update[0]
    }

    fn rank_of(&self, x: u32) -> usize {
        let n = self.node(x);
        let path = self.descend(|m, _| !before(n.score, &n.member, m.score, &m.member));
        path.rank[0] - 1
    }

    /// Rebuilds the node and link pools once most of their slots are free, so deletions give
    /// memory back (amortized O(1) per deletion).
    fn maybe_compact(&mut self) {
        if self.nodes.len() <= 64 || self.len * 4 > self.nodes.len() {
            return;
        }
        let mut fresh = SkipList::new();
        let mut x = self.head[0].next;
        while x != NIL {
            let n = &mut self.nodes[x as usize];
            fresh.push_back(std::mem::take(&mut n.member), n.score);
            x = self.links[n.links_at as usize].next;
        }
        *self = fresh;
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        let mut x = self.head[0].next;
        std::iter::from_fn(move || {
            if x == NIL {
                return None;
            }
            let n = self.node(x);
            x = self.links[n.links_at as usize].next;
            Some((&*n.member, n.score))
        })
    }
}

impl Clone for SkipList {
    fn clone(&self) -> SkipList {
        let mut index = OrdTable::new();
        for s in self.index.iter() {
            index.insert_new(*s);
        }
        SkipList {
            head: self.head,
            level: self.level,
            tail: self.tail,
            len: self.len,
            nodes: self.nodes.clone(),
            free_node: self.free_node,
            links: self.links.clone(),
            free_links: self.free_links,
            index,
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// A sorted set in either encoding: the compact pack or the skiplist, in one tagged word
/// (`Packed`) inline in the key's `Value`.
#[derive(Clone)]
pub struct ZSet(Packed<SkipList>);

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        self.for_each(|m, s| {
            l.entry(&(String::from_utf8_lossy(m), s));
        });
        l.finish()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        if self.encoding() != other.encoding() || self.len() != other.len() {
            return false;
        }
        let mut a = Vec::with_capacity(self.len());
        self.for_each(|m, s| a.push((m.to_vec(), s.to_bits())));
        let mut i = 0;
        let mut same = true;
        other.for_each(|m, s| {
            same &= a[i].0 == m && a[i].1 == s.to_bits();
            i += 1;
        });
        same
    }
}

impl ZSet {
    /// Heap bytes (MEMORY USAGE), member bytes sampled for the skiplist form.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self.0.form() {
            Form::Small(lp) => lp.allocated(),
            Form::Big(sl) => {
                sl.structure_bytes()
                    + super::sampled_total(sl.len, samples, sl.iter().map(|(m, _)| m.len()))
            }
        }
    }

    /// An empty set in the encoding ZADD creates for a first member of `first_len` bytes.
    pub fn for_first_member(first_len: usize, limits: &EncodingLimits) -> ZSet {
        if limits.zset_max_listpack_entries == 0 || first_len > limits.zset_max_listpack_value {
            ZSet(Packed::big(Box::new(SkipList::new())))
        } else {
            ZSet(Packed::small(SmallPack::new()))
        }
    }

    /// A set holding `items`, which must be in order with distinct members, in the encoding
    /// Redis gives results of ZUNIONSTORE, ZRANGESTORE and the like.
    pub fn from_sorted(items: Vec<(Box<[u8]>, f64)>, limits: &EncodingLimits) -> ZSet {
        let compact = items.len() <= limits.zset_max_listpack_entries
            && items
                .iter()
                .all(|(m, _)| m.len() <= limits.zset_max_listpack_value);
        if compact {
            let scores: Vec<_> = items.iter().map(|(_, s)| lp_score_bytes(*s)).collect();
            ZSet(Packed::small(SmallPack::from_entries(
                items
                    .iter()
                    .zip(&scores)
                    .flat_map(|((m, _), (bytes, len))| [&m[..], &bytes[..*len]]),
            )))
        } else {
            let mut sl = SkipList::new();
            for (m, s) in items {
                sl.push_back(m, s);
            }
            ZSet(Packed::big(Box::new(sl)))
        }
    }

    /// Whether the set is in its compact (listpack) encoding.
    pub fn is_listpack(&self) -> bool {
        matches!(self.0.form(), Form::Small(_))
    }

    pub fn len(&self) -> usize {
        match self.0.form() {
            Form::Small(lp) => lp.len() / 2,
            Form::Big(sl) => sl.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match self.0.form() {
            Form::Small(_) => "listpack",
            Form::Big(_) => "skiplist",
        }
    }

    /// DEBUG OBJECT's serializedlength: roughly what an RDB file would hold (Redis writes a
    /// listpack as one blob, a skiplist as members and 8-byte scores).
    pub fn serialized_len_estimate(&self) -> usize {
        match self.0.form() {
            Form::Small(lp) => lp.byte_len() + 7,
            Form::Big(sl) => sl.iter().map(|(m, _)| m.len() + 9).sum::<usize>() + 1,
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self.0.form() {
            Form::Small(lp) => lp_find(lp, member).map(|(_, s)| s),
            Form::Big(sl) => sl.find(member).map(|x| sl.node(x).score),
        }
    }

    /// Switches a listpack to the skiplist encoding (SORT does, as in Redis).
    pub fn convert_to_skiplist(&mut self) {
        if let FormMut::Small(lp) = self.0.form_mut() {
            let mut sl = SkipList::new();
            for (_, m, s) in lp_pairs(lp) {
                sl.push_back(m.into(), s);
            }
            *self = ZSet(Packed::big(Box::new(sl)));
        }
    }

    /// ZADD for one member (Redis's zsetAdd), converting to a skiplist when the set outgrows
    /// its listpack.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: &EncodingLimits,
    ) -> AddOutcome {
        // One lookup: where the member is, if present.
        enum Found {
            Listpack(Offset),
            Skiplist(u32),
        }
        let found = match self.0.form_mut() {
            FormMut::Small(lp) => lp_find(lp, member).map(|(off, s)| (Found::Listpack(off), s)),
            FormMut::Big(sl) => sl
                .find(member)
                .map(|x| (Found::Skiplist(x), sl.node(x).score)),
        };
        let Some((at, cur)) = found else {
            if flags.xx {
                return AddOutcome::Skipped;
            }
            self.insert_new(member, score, limits);
            return AddOutcome::Added(score);
        };
        if flags.nx {
            return AddOutcome::Skipped;
        }
        let score = if flags.incr { score + cur } else { score };
        if score.is_nan() {
            return AddOutcome::NotANumber;
        }
        if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
            return AddOutcome::Skipped;
        }
        if score == cur {
            return AddOutcome::Unchanged(score);
        }
        match (self.0.form_mut(), at) {
            (FormMut::Small(lp), Found::Listpack(off)) => {
                lp.remove_range_at(off, 2);
                lp_insert(lp, member, score);
            }
            (FormMut::Big(sl), Found::Skiplist(x)) => sl.update_score(x, score),
            _ => unreachable!("found in this encoding"),
        }
        AddOutcome::Updated(score)
    }

    /// Inserts a member known to be absent.
    fn insert_new(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) {
        if let Form::Small(lp) = self.0.form()
            && (lp.len() / 2 + 1 > limits.zset_max_listpack_entries
                || member.len() > limits.zset_max_listpack_value)
        {
            self.convert_to_skiplist();
        }
        match self.0.form_mut() {
            FormMut::Small(lp) => lp_insert(lp, member, score),
            FormMut::Big(sl) => sl.insert(member, score),
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.0.form_mut() {
            FormMut::Small(lp) => match lp_find(lp, member) {
                Some((off, _)) => {
                    lp.remove_range_at(off, 2);
                    true
                }
                None => false,
            },
            FormMut::Big(sl) => match sl.find(member) {
                Some(x) => {
                    sl.remove_node(x);
                    true
                }
                None => false,
            },
        }
    }

    /// The 0-based rank of a member in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self.0.form() {
            Form::Small(lp) => lp_pairs(lp).position(|(_, m, _)| m == member),
            Form::Big(sl) => sl.find(member).map(|x| sl.rank_of(x)),
        }
    }

    /// The elements a range selects, as (rank of the first element visited, count): walking up
    /// from the first element >= min while <= max, or with `rev` down from the last <= max
    /// while >= min, after skipping `offset` elements and taking at most `limit` (negative:
    /// no limit). A negative offset selects nothing, as in Redis.
    pub fn resolve_range(
        &self,
        range: &impl ZRange,
        rev: bool,
        offset: i64,
        limit: i64,
    ) -> Option<(usize, usize)> {
        if range.is_empty() || self.is_empty() || offset < 0 {
            return None;
        }
        let offset = offset as usize;
        let limit = if limit < 0 {
            usize::MAX
        } else {
            limit as usize
        };
        match self.0.form() {
            Form::Small(lp) => {
                let (_, fm, fs) = lp_pairs(lp).next()?;
                let (_, lm, ls) = lp_pairs(lp).last()?;
                if !range.gte_min(ls, lm) || !range.lte_max(fs, fm) {
                    return None;
                }
                if rev {
                    let mut down = lp_pairs_rev(lp);
                    let mut above = 0;
                    let top = loop {
                        let p = down.next()?;
                        if range.lte_max(p.2, p.1) {
                            break p;
                        }
                        above += 1;
                    };
                    if !range.gte_min(top.2, top.1) {
                        return None;
                    }
                    let start = (self.len() - 1 - above).checked_sub(offset)?;
                    let count = std::iter::once(top)
                        .chain(down)
                        .skip(offset)
                        .take(limit)
                        .take_while(|(_, m, s)| range.gte_min(*s, m))
                        .count();
                    Some((start, count))
                } else {
                    let begin = lp_pairs(lp).position(|(_, m, s)| range.gte_min(s, m))?;
                    let (_, m, s) = lp_pairs(lp).nth(begin)?;
                    if !range.lte_max(s, m) {
                        return None;
                    }
                    let start = begin + offset;
                    if start >= self.len() {
                        return None;
                    }
                    let count = lp_pairs(lp)
                        .skip(start)
                        .take(limit)
                        .take_while(|(_, m, s)| range.lte_max(*s, m))
                        .count();
                    Some((start, count))
                }
            }
            Form::Big(sl) => {
                let tail = sl.node(sl.tail);
                let head = sl.node(sl.head[0].next);
                if !range.gte_min(tail.score, &tail.member)
                    || !range.lte_max(head.score, &head.member)
                {
                    return None;
                }
                let below = sl.descend(|n, _| !range.gte_min(n.score, &n.member));
                let first = below.rank[0];
                let next = sl.link(below.update[0], 0).next;
                if next == NIL {
                    return None;
                }
                let n = sl.node(next);
                if !range.lte_max(n.score, &n.member) {
                    return None;
                }
                let upto = sl.descend(|n, _| range.lte_max(n.score, &n.member));
                let last = upto.rank[0].checked_sub(1)?;
                let n = sl.node(upto.update[0]);
                if !range.gte_min(n.score, &n.member) || last < first {
                    return None;
                }
                if rev {
                    let start = last.checked_sub(offset).filter(|&s| s >= first)?;
                    Some((start, (start - first + 1).min(limit)))
                } else {
                    let start = first + offset;
                    if start > last {
                        return None;
                    }
                    Some((start, (last - start + 1).min(limit)))
                }
            }
        }
    }

    /// Visits `count` elements from rank `start`, upwards or (`rev`) downwards.
    pub fn visit<'a>(
        &'a self,
        start: usize,
        count: usize,
        rev: bool,
        mut f: impl FnMut(&'a [u8], f64),
    ) {
        if count == 0 {
            return;
        }
        match self.0.form() {
            Form::Small(lp) => {
                if rev {
                    // From the lowest rank visited, collected to be visited backwards.
                    let pairs: Vec<_> = lp_pairs_from(lp, start + 1 - count).take(count).collect();
                    for &(m, s) in pairs.iter().rev() {
                        f(m, s);
                    }
                } else {
                    for (m, s) in lp_pairs_from(lp, start).take(count) {
                        f(m, s);
                    }
                }
            }
            Form::Big(sl) => {
                let mut x = sl.at_rank(start);
                for _ in 0..count {
                    let n = sl.node(x);
                    f(&n.member, n.score);
                    x = if rev { n.prev } else { sl.link(x, 0).next };
                }
            }
        }
    }

    /// The elements from rank `start` upwards, lazily (for walks that may stop early).
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = (&[u8], f64)> {
        match self.0.form() {
            Form::Small(lp) => Either::Left(lp_pairs_from(lp, start)),
            Form::Big(sl) => {
                let mut x = if start < sl.len {
                    sl.at_rank(start)
                } else {
                    NIL
                };
                Either::Right(std::iter::from_fn(move || {
                    if x == NIL {
                        return None;
                    }
                    let n = sl.node(x);
                    x = sl.link(x, 0).next;
                    Some((&*n.member, n.score))
                }))
            }
        }
    }

    /// Every element in descending order (the order RDB files list skiplist sets in).
    pub fn for_each_rev<'a>(&'a self, mut f: impl FnMut(&'a [u8], f64)) {
        match self.0.form() {
            Form::Small(lp) => lp_pairs_rev(lp).for_each(|(_, m, s)| f(m, s)),
            Form::Big(sl) => {
                let mut x = sl.tail;
                while x != NIL {
                    let n = sl.node(x);
                    f(&n.member, n.score);
                    x = n.prev;
                }
            }
        }
    }

    /// Every element in ascending order.
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(&'a [u8], f64)) {
        match self.0.form() {
            Form::Small(lp) => lp_pairs(lp).for_each(|(_, m, s)| f(m, s)),
            Form::Big(sl) => sl.iter().for_each(|(m, s)| f(m, s)),
        }
    }

    /// Removes `count` elements from rank `start` on.
    pub fn remove_ranks(&mut self, start: usize, count: usize) {
        if count == 0 {
            return;
        }
        match self.0.form_mut() {
            FormMut::Small(lp) => {
                let off = lp.offset_of(2 * start);
                lp.remove_range_at(off, 2 * count);
            }
            FormMut::Big(sl) => sl.remove_ranks(start, count),
        }
    }

    /// Elements at the given ranks, each visited in the order given (ranks may repeat).
    pub fn visit_ranks<'a>(&'a self, ranks: &[usize], mut f: impl FnMut(&'a [u8], f64)) {
        match self.0.form() {
            Form::Small(lp) => {
                let pairs: Vec<(&[u8], f64)> = lp_pairs(lp).map(|(_, m, s)| (m, s)).collect();
                for &r in ranks {
                    f(pairs[r].0, pairs[r].1);
                }
            }
            Form::Big(sl) => {
                for &r in ranks {
                    let n = sl.node(sl.at_rank(r));
                    f(&n.member, n.score);
                }
            }
        }
    }

    /// One step of ZSCAN: a listpack answers everything with cursor 0; a skiplist visits about
    /// `count` members from `cursor` (a hash value, so a member present for the whole scan is
    /// returned exactly once even while the set changes) and returns the next cursor.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match self.0.form() {
            Form::Small(_) => {
                self.for_each(f);
                0
            }
            Form::Big(sl) => {
                let mut budget = count;
                sl.index.scan_from(cursor, |s| {
                    let n = sl.node(s.node);
                    f(&n.member, n.score);
                    budget -= 1;
                    budget > 0
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
