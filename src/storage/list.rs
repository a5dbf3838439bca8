//! Lists (t_list.c's quicklist): a deque of nodes. Each node holds as many elements as
//! `list-max-listpack-size` allows (a byte budget when negative, an element count when
//! positive), so pushes and pops at either end touch one small node. A node of canonical
//! integers only is an `IntPack` (a byte or a few per element); any other node is a
//! `Listpack` of texts, which also takes integers once it exists.

use std::collections::VecDeque;

use super::intpack::IntPack;
use super::listpack::{Listpack, Offset, entry_size};
pub use super::set::{Elem, OwnedElem};
use crate::util::num::parse_i64;

/// Redis's safety limit on a node's size when the fill is given as an element count.
const SIZE_SAFETY_LIMIT: usize = 8192;

#[derive(Clone, Debug)]
enum Node {
    Bytes(Listpack),
    Ints(IntPack),
}

#[derive(Clone, Default, Debug)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    Left,
    Right,
}

/// An element as it arrives: canonical integer texts (what Redis's string2ll accepts, so
/// they format back identically) are integers.
#[inline]
fn classify(value: &[u8]) -> Elem<'_> {
    match parse_i64(value) {
        Some(n) => Elem::Int(n),
        None => Elem::Bytes(value),
    }
}

/// Whether two elements have the same text.
fn same_text(a: Elem, b: Elem) -> bool {
    match (a, b) {
        (Elem::Int(x), Elem::Int(y)) => x == y,
        (Elem::Bytes(x), Elem::Bytes(y)) => x == y,
        (Elem::Int(n), Elem::Bytes(t)) | (Elem::Bytes(t), Elem::Int(n)) => parse_i64(t) == Some(n),
    }
}

/// An element searched for (LINSERT's pivot, LREM's and LPOS's element): integer elements
/// match by value, text elements by text.
#[derive(Clone, Copy)]
pub struct Needle<'a> {
    text: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    pub fn new(text: &'a [u8]) -> Needle<'a> {
        Needle {
            text,
            int: parse_i64(text),
        }
    }

    #[inline]
    pub fn matches(&self, e: Elem) -> bool {
        match e {
            Elem::Int(n) => self.int == Some(n),
            Elem::Bytes(t) => t == self.text,
        }
    }
}

/// Whether a node of `count` elements and `bytes` bytes is within `fill`
/// (list-max-listpack-size).
fn within_fill(bytes: usize, count: usize, fill: i64) -> bool {
    if fill >= 0 {
        count <= fill.max(1) as usize && bytes <= SIZE_SAFETY_LIMIT
    } else {
        bytes <= 4096usize << ((-fill - 1).min(4))
    }
}

/// A position inside a node: a byte offset in a `Listpack`, an index in an `IntPack`.
type Pos = usize;

impl Node {
    fn new(e: Elem) -> Node {
        match e {
            Elem::Int(n) => Node::Ints(IntPack::single(n)),
            Elem::Bytes(b) => Node::Bytes(Listpack::from_entries([b])),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        match self {
            Node::Bytes(lp) => lp.len(),
            Node::Ints(p) => p.len(),
        }
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn byte_len(&self) -> usize {
        match self {
            Node::Bytes(lp) => lp.byte_len(),
            Node::Ints(p) => p.byte_len(),
        }
    }

    fn allocated(&self) -> usize {
        match self {
            Node::Bytes(lp) => lp.allocated(),
            Node::Ints(p) => p.allocated(),
        }
    }

    /// Whether the node can take `e` at one end and stay within `fill`. An integer node
    /// takes only integers (another element starts a node of its own).
    fn takes(&self, e: Elem, fill: i64) -> bool {
        let bytes = match (self, e) {
            (Node::Ints(p), Elem::Int(n)) => p.byte_len_with(n),
            (Node::Ints(_), Elem::Bytes(_)) => return false,
            (Node::Bytes(lp), Elem::Bytes(b)) => lp.byte_len() + entry_size(b.len()),
            (Node::Bytes(lp), Elem::Int(n)) => {
                lp.byte_len() + entry_size(itoa::Buffer::new().format(n).len())
            }
        };
        within_fill(bytes, self.len() + 1, fill)
    }

    fn over_fill(&self, fill: i64) -> bool {
        !within_fill(self.byte_len(), self.len(), fill)
    }

    fn push(&mut self, end: End, e: Elem) {
        match (self, e) {
            (Node::Ints(p), Elem::Int(n)) => match end {
                End::Left => p.push_front(n),
                End::Right => p.push_back(n),
            },
            (Node::Bytes(lp), e) => {
                let mut scratch = itoa::Buffer::new();
                let b = e.bytes(&mut scratch);
                match end {
                    End::Left => lp.push_front(b),
                    End::Right => lp.push_back(b),
                }
            }
            (Node::Ints(_), Elem::Bytes(_)) => unreachable!("checked by Node::takes"),
        }
    }

    /// The node as texts, so that it can take any element.
    fn make_bytes(&mut self) -> &mut Listpack {
        if let Node::Ints(p) = self {
            let mut lp = Listpack::new();
            let mut scratch = itoa::Buffer::new();
            for n in p.iter() {
                lp.push_back(scratch.format(n).as_bytes());
            }
            *self = Node::Bytes(lp);
        }
        match self {
            Node::Bytes(lp) => lp,
            Node::Ints(_) => unreachable!("just converted"),
        }
    }

    /// Makes `e` element `i` (which must exist), in place of the old one.
    fn set(&mut self, i: usize, e: Elem) {
        match (&mut *self, e) {
            (Node::Ints(p), Elem::Int(n)) => p.set(i, n),
            _ => {
                let lp = self.make_bytes();
                let mut scratch = itoa::Buffer::new();
                lp.replace_at(lp.offset_of(i), e.bytes(&mut scratch));
            }
        }
    }

    /// Inserts `e` so that it becomes element `i`.
    fn insert(&mut self, i: usize, e: Elem) {
        match (&mut *self, e) {
            (Node::Ints(p), Elem::Int(n)) => p.insert(i, n),
            _ => {
                let mut scratch = itoa::Buffer::new();
                self.make_bytes().insert(i, e.bytes(&mut scratch));
            }
        }
    }

    fn remove(&mut self, i: usize) {
        match self {
            Node::Bytes(lp) => lp.remove(i),
            Node::Ints(p) => p.remove(i),
        }
    }

    /// Removes `count` elements from element `i` on.
    fn remove_range(&mut self, i: usize, count: usize) {
        match self {
            Node::Bytes(lp) => lp.remove_range_at(lp.offset_of(i), count),
            Node::Ints(p) => p.remove_range(i, count),
        }
    }

    fn split_off(&mut self, i: usize) -> Node {
        match self {
            Node::Bytes(lp) => Node::Bytes(lp.split_off(i)),
            Node::Ints(p) => Node::Ints(p.split_off(i)),
        }
    }

    /// The first element, removed.
    fn pop_front(&mut self) -> OwnedElem {
        match self {
            Node::Bytes(lp) => {
                let v = lp.entry_at(0).0.into();
                lp.remove_at(0);
                OwnedElem::Bytes(v)
            }
            Node::Ints(p) => {
                let v = p.get(0);
                p.remove(0);
                OwnedElem::Int(v)
            }
        }
    }

    /// The last element, removed.
    fn pop_back(&mut self) -> OwnedElem {
        match self {
            Node::Bytes(lp) => {
                let off = lp.last_offset().expect("nodes are never empty");
                let v = lp.entry_at(off).0.into();
                lp.remove_at(off);
                OwnedElem::Bytes(v)
            }
            Node::Ints(p) => {
                let i = p.len() - 1;
                let v = p.get(i);
                p.remove(i);
                OwnedElem::Int(v)
            }
        }
    }

    /// The position of element `i` (or `end_pos()` when i == len).
    fn pos_of(&self, i: usize) -> Pos {
        match self {
            Node::Bytes(lp) => lp.offset_of(i),
            Node::Ints(_) => i,
        }
    }

    /// The position one past the last element.
    #[inline]
    fn end_pos(&self) -> Pos {
        match self {
            Node::Bytes(lp) => lp.end(),
            Node::Ints(p) => p.len(),
        }
    }

    fn get(&self, i: usize) -> Elem<'_> {
        match self {
            Node::Bytes(lp) => Elem::Bytes(lp.entry_at(lp.offset_of(i)).0),
            Node::Ints(p) => Elem::Int(p.get(i)),
        }
    }

    /// Position `pos`, with the node resolved (the start of a walk).
    fn at_pos(&self, pos: Pos) -> At<'_> {
        match self {
            Node::Bytes(lp) => At::Bytes(lp, pos),
            Node::Ints(p) => At::Ints(p, pos),
        }
    }

    /// Removes up to `limit` elements matching `needle` (0: all), the first or the last ones.
    fn remove_matching(&mut self, needle: Needle, limit: usize, from_tail: bool) -> usize {
        match self {
            Node::Ints(p) => match needle.int {
                Some(n) => p.remove_value(n, limit, from_tail),
                None => 0,
            },
            Node::Bytes(lp) => {
                let mut offsets: Vec<Offset> = lp
                    .iter_offsets()
                    .filter(|&(_, e)| needle.matches(Elem::Bytes(e)))
                    .map(|(o, _)| o)
                    .collect();
                if limit != 0 && offsets.len() > limit {
                    if from_tail {
                        offsets.drain(..offsets.len() - limit);
                    } else {
                        offsets.truncate(limit);
                    }
                }
                // Removing from the back keeps earlier offsets valid.
                for &off in offsets.iter().rev() {
                    lp.remove_at(off);
                }
                offsets.len()
            }
        }
    }
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held by the nodes (memory accounting).
    pub fn allocated(&self) -> usize {
        self.nodes.iter().map(Node::allocated).sum::<usize>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
    }

    /// Adds `node` at one end; a list's first node gets a table of one slot, so a short list
    /// does not pay for a deque's default four.
    fn add_node(&mut self, end: End, node: Node) {
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
        match end {
            End::Left => self.nodes.push_front(node),
            End::Right => self.nodes.push_back(node),
        }
    }

    pub fn push(&mut self, end: End, value: &[u8], fill: i64) {
        self.push_elem(end, Elem::Bytes(value), fill);
    }

    /// Pushes an element (an integer needs no parsing: RPOPLPUSH, RDB loading). Text that is a
    /// canonical integer (popped from a text node, say) is stored as one.
    pub fn push_elem(&mut self, end: End, e: Elem, fill: i64) {
        let e = match e {
            Elem::Bytes(b) => classify(b),
            int => int,
        };
        let node = match end {
            End::Left => self.nodes.front_mut(),
            End::Right => self.nodes.back_mut(),
        };
        match node {
            Some(node) if node.takes(e, fill) => node.push(end, e),
            _ => self.add_node(end, Node::new(e)),
        }
        self.len += 1;
    }

    pub fn pop(&mut self, end: End) -> Option<OwnedElem> {
        let ni = match end {
            End::Left => 0,
            End::Right => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(ni)?;
        let value = match end {
            End::Left => node.pop_front(),
            End::Right => node.pop_back(),
        };
        if node.is_empty() {
            self.nodes.remove(ni);
        }
        self.len -= 1;
        Some(value)
    }

    /// The node holding element `index` and the element's index inside it.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.len / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.len() {
                    return (ni, i);
                }
                i -= n.len();
            }
        } else {
            let mut from_end = self.len - 1 - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_end < n.len() {
                    return (ni, n.len() - 1 - from_end);
                }
                from_end -= n.len();
            }
        }
        unreachable!("index {index} checked against len {}", self.len)
    }

    pub fn get(&self, index: usize) -> Option<Elem<'_>> {
        if index >= self.len {
            return None;
        }
        let (ni, i) = self.locate(index);
        Some(self.nodes[ni].get(i))
    }

    /// Replaces element `index` (which must exist).
    pub fn set(&mut self, index: usize, value: &[u8], fill: i64) {
        let (ni, i) = self.locate(index);
        self.nodes[ni].set(i, classify(value));
        self.split_if_oversized(ni, fill);
    }

    /// Inserts `value` so that it becomes element `index` (index == len appends).
    pub fn insert(&mut self, index: usize, value: &[u8], fill: i64) {
        if index == 0 {
            return self.push(End::Left, value, fill);
        }
        if index == self.len {
            return self.push(End::Right, value, fill);
        }
        let (ni, i) = self.locate(index);
        self.nodes[ni].insert(i, classify(value));
        self.len += 1;
        self.split_if_oversized(ni, fill);
    }

    /// Splits a node that grew past the fill limit in halves, and those again if they are
    /// still over (an integer node re-packed wider can grow up to eightfold).
    fn split_if_oversized(&mut self, ni: usize, fill: i64) {
        let node = &self.nodes[ni];
        if node.len() < 2 || !node.over_fill(fill) {
            return;
        }
        let half = node.len() / 2;
        let tail = self.nodes[ni].split_off(half);
        self.nodes.insert(ni + 1, tail);
        self.split_if_oversized(ni + 1, fill);
        self.split_if_oversized(ni, fill);
    }

    /// Removes element `index` (which must exist).
    pub fn remove(&mut self, index: usize) {
        let (ni, i) = self.locate(index);
        self.nodes[ni].remove(i);
        if self.nodes[ni].is_empty() {
            self.nodes.remove(ni);
        }
        self.len -= 1;
    }

    /// Keeps elements `start..=end` (valid indexes), dropping the rest (LTRIM).
    pub fn retain_range(&mut self, start: usize, end: usize) {
        let mut drop_front = start;
        while drop_front > 0 {
            let n = self.nodes[0].len();
            if n <= drop_front {
                self.nodes.pop_front();
                drop_front -= n;
            } else {
                self.nodes[0].remove_range(0, drop_front);
                drop_front = 0;
            }
        }
        let mut drop_back = self.len - 1 - end;
        while drop_back > 0 {
            let last = self.nodes.len() - 1;
            let n = self.nodes[last].len();
            if n <= drop_back {
                self.nodes.pop_back();
                drop_back -= n;
            } else {
                self.nodes[last].remove_range(n - drop_back, drop_back);
                drop_back = 0;
            }
        }
        self.len = end - start + 1;
    }

    /// Empties the list.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.len = 0;
    }

    /// Removes up to `limit` elements equal to `value` (0: all), from the head or from the
    /// tail (LREM). Returns how many were removed.
    pub fn remove_matching(&mut self, value: &[u8], limit: usize, from_tail: bool) -> usize {
        let needle = Needle::new(value);
        let mut removed = 0;
        for k in 0..self.nodes.len() {
            if limit != 0 && removed == limit {
                break;
            }
            let ni = if from_tail {
                self.nodes.len() - 1 - k
            } else {
                k
            };
            let left = if limit == 0 { 0 } else { limit - removed };
            removed += self.nodes[ni].remove_matching(needle, left, from_tail);
        }
        self.nodes.retain(|n| !n.is_empty());
        self.len -= removed;
        removed
    }

    pub fn iter(&self) -> Range<'_> {
        self.range(0, self.len)
    }

    /// Elements `start..end` (valid bounds), walked from either end.
    pub fn range(&self, start: usize, end: usize) -> Range<'_> {
        Range {
            list: self,
            front: start,
            back: end,
            front_at: None,
            back_at: None,
        }
    }
}

/// Equal elements in the same order, whatever the nodes.
impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len == other.len && self.iter().zip(other.iter()).all(|(a, b)| same_text(a, b))
    }
}

/// Elements `front..back` of a list, walked from either end.
pub struct Range<'a> {
    list: &'a List,
    front: usize,
    back: usize,
    /// The next element from the front.
    front_at: Option<Cursor<'a>>,
    /// The last element returned from the back.
    back_at: Option<Cursor<'a>>,
}

/// A node of a walk and a position in it, resolved to the node's kind once so that each step
/// is one match.
#[derive(Clone, Copy)]
struct Cursor<'a> {
    ni: usize,
    at: At<'a>,
}

#[derive(Clone, Copy)]
enum At<'a> {
    Bytes(&'a Listpack, Offset),
    Ints(&'a IntPack, usize),
}

impl<'a> Range<'a> {
    /// A cursor at element `index`.
    fn cursor(&self, index: usize) -> Cursor<'a> {
        let (ni, i) = self.list.locate(index);
        let node = &self.list.nodes[ni];
        Cursor {
            ni,
            at: node.at_pos(node.pos_of(i)),
        }
    }
}

impl<'a> Iterator for Range<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.front >= self.back {
            return None;
        }
        let c = match &mut self.front_at {
            Some(c) => c,
            None => self.front_at.insert(self.cursor(self.front)),
        };
        let e = loop {
            match &mut c.at {
                At::Bytes(lp, off) if *off < lp.end() => {
                    let (e, next) = lp.entry_at(*off);
                    *off = next;
                    break Elem::Bytes(e);
                }
                At::Ints(p, i) if *i < p.len() => {
                    *i += 1;
                    break Elem::Int(p.get(*i - 1));
                }
                _ => {
                    c.ni += 1;
                    c.at = self.list.nodes[c.ni].at_pos(0);
                }
            }
        };
        self.front += 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Range<'_> {}

impl<'a> DoubleEndedIterator for Range<'a> {
    #[inline]
    fn next_back(&mut self) -> Option<Elem<'a>> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        let Some(c) = &mut self.back_at else {
            let c = self.back_at.insert(self.cursor(self.back));
            return Some(match c.at {
                At::Bytes(lp, off) => Elem::Bytes(lp.entry_at(off).0),
                At::Ints(p, i) => Elem::Int(p.get(i)),
            });
        };
        Some(loop {
            match &mut c.at {
                At::Bytes(lp, off) => {
                    if let Some(prev) = lp.prev_offset(*off) {
                        *off = prev;
                        break Elem::Bytes(lp.entry_at(prev).0);
                    }
                }
                At::Ints(p, i) => {
                    if *i > 0 {
                        *i -= 1;
                        break Elem::Int(p.get(*i));
                    }
                }
            }
            c.ni -= 1;
            let node = &self.list.nodes[c.ni];
            c.at = node.at_pos(node.end_pos());
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: Elem) -> Vec<u8> {
        e.bytes(&mut itoa::Buffer::new()).to_vec()
    }

    fn owned_text(e: OwnedElem) -> Vec<u8> {
        text(e.as_elem())
    }

    /// Integers of several widths and texts that look like integers but are not canonical.
    fn random_value(rng: &mut fastrand::Rng) -> Vec<u8> {
        match rng.u8(..12) {
            0..=3 => rng.i64(-20..300).to_string().into_bytes(),
            4 => rng.i64(-70_000..70_000).to_string().into_bytes(),
            5 => rng.i64(..).to_string().into_bytes(),
            6 => [i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1][rng.usize(..4)]
                .to_string()
                .into_bytes(),
            7 => [
                "-0",
                "007",
                " 1",
                "+1",
                "1 ",
                "9223372036854775808",
                "-",
                "",
            ][rng.usize(..8)]
            .as_bytes()
            .to_vec(),
            8 => vec![b'x'; rng.usize(..200)],
            _ => format!("v{}", rng.u32(..30)).into_bytes(),
        }
    }

    fn check_nodes(list: &List, fill: i64) {
        let mut total = 0;
        for n in &list.nodes {
            assert!(!n.is_empty());
            assert!(n.len() == 1 || !n.over_fill(fill), "{n:?} over fill {fill}");
            total += n.len();
        }
        assert_eq!(total, list.len());
    }

    /// Random operations against a VecDeque of texts, with small nodes so that splitting,
    /// re-packing, conversion, node removal and cross-node walks all happen.
    #[test]
    fn matches_a_simple_model() {
        let mut rng = fastrand::Rng::with_seed(7);
        for fill in [1i64, 3, 5, 40, -1] {
            let mut list = List::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..6000 {
                let v = random_value(&mut rng);
                match rng.u8(..11) {
                    0 => {
                        list.push(End::Left, &v, fill);
                        model.push_front(v);
                    }
                    1 | 2 => {
                        list.push(End::Right, &v, fill);
                        model.push_back(v);
                    }
                    3 => assert_eq!(list.pop(End::Left).map(owned_text), model.pop_front()),
                    4 => assert_eq!(list.pop(End::Right).map(owned_text), model.pop_back()),
                    5 if !model.is_empty() => {
                        let i = rng.usize(..=model.len());
                        list.insert(i, &v, fill);
                        model.insert(i, v);
                    }
                    6 if !model.is_empty() => {
                        let i = rng.usize(..model.len());
                        list.set(i, &v, fill);
                        model[i] = v;
                    }
                    7 if !model.is_empty() => {
                        let i = rng.usize(..model.len());
                        list.remove(i);
                        model.remove(i);
                    }
                    8 => {
                        // Mostly an element already there, so that removals happen.
                        let v = if model.is_empty() || rng.u8(..4) == 0 {
                            v
                        } else {
                            model[rng.usize(..model.len())].clone()
                        };
                        let limit = rng.usize(..3);
                        let tail = rng.bool();
                        let want = {
                            let mut n = 0;
                            let mut keep: Vec<Vec<u8>> = Vec::new();
                            let items: Vec<Vec<u8>> = if tail {
                                model.iter().rev().cloned().collect()
                            } else {
                                model.iter().cloned().collect()
                            };
                            for x in items {
                                if x == v && (limit == 0 || n < limit) {
                                    n += 1;
                                } else {
                                    keep.push(x);
                                }
                            }
                            if tail {
                                keep.reverse();
                            }
                            model = keep.into();
                            n
                        };
                        assert_eq!(list.remove_matching(&v, limit, tail), want);
                    }
                    9 if model.len() > 4 && step % 7 == 0 => {
                        let s = rng.usize(..model.len() / 2);
                        let e = rng.usize(s..model.len());
                        list.retain_range(s, e);
                        model = model.range(s..=e).cloned().collect();
                    }
                    10 if !model.is_empty() => {
                        let i = rng.usize(..model.len());
                        let needle = Needle::new(&model[i]);
                        let at = list.iter().position(|e| needle.matches(e));
                        assert_eq!(at, model.iter().position(|x| *x == model[i]));
                    }
                    _ => {}
                }
                assert_eq!(list.len(), model.len());
                if step % 50 == 0 {
                    check_nodes(&list, fill);
                    let got: Vec<Vec<u8>> = list.iter().map(text).collect();
                    assert_eq!(got, Vec::from(model.clone()), "fill {fill} step {step}");
                    let back: Vec<Vec<u8>> = list.iter().rev().map(text).collect();
                    let want_back: Vec<Vec<u8>> = model.iter().rev().cloned().collect();
                    assert_eq!(back, want_back);
                    if !model.is_empty() {
                        let i = rng.usize(..model.len());
                        assert_eq!(list.get(i).map(text), Some(model[i].clone()));
                        let j = rng.usize(i..model.len());
                        let mid: Vec<Vec<u8>> = list.range(i, j + 1).rev().map(text).collect();
                        let want_mid: Vec<Vec<u8>> = model.range(i..=j).rev().cloned().collect();
                        assert_eq!(mid, want_mid);
                        // Alternating ends meet in the middle exactly once.
                        let mut r = list.range(i, j + 1);
                        let mut seen = 0;
                        while let Some(e) = if seen % 2 == 0 {
                            r.next()
                        } else {
                            r.next_back()
                        } {
                            let k = if seen % 2 == 0 {
                                i + seen / 2
                            } else {
                                j - seen / 2
                            };
                            assert_eq!(text(e), model[k]);
                            seen += 1;
                        }
                        assert_eq!(seen, j + 1 - i);
                    }
                }
            }
        }
    }

    #[test]
    fn nodes_respect_the_fill() {
        let mut list = List::new();
        for i in 0..1000 {
            list.push(End::Right, format!("element-{i}").as_bytes(), -2);
        }
        assert!(list.nodes.iter().all(|n| n.byte_len() <= 8192));
        assert!(list.nodes.len() < 5);
        let mut counted = List::new();
        for i in 0..10 {
            counted.push(End::Left, format!("{i}").as_bytes(), 3);
        }
        assert!(counted.nodes.iter().all(|n| n.len() <= 3));
    }

    #[test]
    fn integer_nodes_respect_the_fill_by_their_bytes() {
        for (fill, per_node_max) in [(-1i64, 4096), (-2, 8192), (128, 128 * 8)] {
            let mut list = List::new();
            for i in 0..100_000i64 {
                list.push(End::Right, (i * 7).to_string().as_bytes(), fill);
            }
            assert!(list.nodes.iter().all(|n| matches!(n, Node::Ints(_))));
            assert!(list.nodes.iter().all(|n| n.byte_len() <= per_node_max));
            if fill < 0 {
                // Two bytes per element once a node spans more than 256.
                assert!(list.allocated() < 100_000 * 2 + 4096);
            } else {
                assert!(list.nodes.iter().all(|n| n.len() <= 128));
            }
        }
        // A value needing 8 bytes in the middle of a full one-byte-wide node splits it
        // until every piece fits again.
        let mut narrow = List::new();
        for i in 0..4096 {
            narrow.push(End::Right, (i % 200).to_string().as_bytes(), -1);
        }
        assert_eq!(narrow.nodes.len(), 1);
        narrow.insert(2000, i64::MAX.to_string().as_bytes(), -1);
        check_nodes(&narrow, -1);
        assert_eq!(narrow.len(), 4097);
        assert_eq!(narrow.get(2000), Some(Elem::Int(i64::MAX)));
        // So does a new end value: it starts a node rather than widen a full one.
        narrow.push(End::Left, i64::MIN.to_string().as_bytes(), -1);
        check_nodes(&narrow, -1);
        assert_eq!(narrow.get(0), Some(Elem::Int(i64::MIN)));
    }

    #[test]
    fn texts_and_integers_share_a_list() {
        let mut list = List::new();
        for v in ["1", "2", "007", "3", "-0", "4"] {
            list.push(End::Right, v.as_bytes(), -2);
        }
        // An integer node stays integers; a text starts a text node, which takes what follows.
        assert!(matches!(list.nodes[0], Node::Ints(_)));
        assert!(matches!(list.nodes[1], Node::Bytes(_)));
        assert_eq!(list.nodes.len(), 2);
        let texts: Vec<Vec<u8>> = list.iter().map(text).collect();
        assert_eq!(
            texts,
            ["1", "2", "007", "3", "-0", "4"].map(|s| s.as_bytes().to_vec())
        );
        assert_eq!(list.get(3), Some(Elem::Bytes(b"3")));
        // Text elements that are integers still match integer needles.
        assert_eq!(list.remove_matching(b"3", 0, false), 1);
        assert_eq!(list.remove_matching(b"1", 0, false), 1);
        // A text set or inserted into an integer node turns it into text.
        list.set(0, b"x", -2);
        assert!(matches!(list.nodes[0], Node::Bytes(_)));
        assert_eq!(list.pop(End::Left), Some(OwnedElem::Bytes(b"x"[..].into())));
        assert_eq!(
            list.pop(End::Right),
            Some(OwnedElem::Bytes(b"4"[..].into()))
        );
        let mut ints = List::new();
        for v in ["5", "6", "7"] {
            ints.push(End::Left, v.as_bytes(), -2);
        }
        ints.insert(1, b" 6", -2);
        let texts: Vec<Vec<u8>> = ints.iter().map(text).collect();
        assert_eq!(texts, ["7", " 6", "6", "5"].map(|s| s.as_bytes().to_vec()));
        // Lists compare by their elements' text, whatever the nodes.
        let mut same = List::new();
        for v in ["7", " 6", "6", "5"] {
            same.push(End::Right, v.as_bytes(), -2);
        }
        assert_eq!(same, ints);
        same.set(0, b"8", -2);
        assert_ne!(same, ints);
    }

    #[test]
    fn a_short_list_holds_one_node_slot() {
        let mut list = List::new();
        list.push(End::Right, b"1", -2);
        assert_eq!(list.nodes.capacity(), 1);
        assert_eq!(list.allocated(), 1 + std::mem::size_of::<Node>());
    }
}
