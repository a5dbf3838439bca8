//! Lists (t_list.c's quicklist): a deque of listpack nodes. Each node holds as many elements as
//! `list-max-listpack-size` allows (a byte budget when negative, an element count when
//! positive), so a list of short elements costs a byte or two per element, and pushes and pops
//! at either end touch one small node.

use std::collections::VecDeque;

use super::listpack::{Listpack, entry_size};

/// Redis's safety limit on a node's size when the fill is given as an element count.
const SIZE_SAFETY_LIMIT: usize = 8192;

#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct List {
    nodes: VecDeque<Listpack>,
    len: usize,
}

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    Left,
    Right,
}

/// Whether a node may take one more element of `size` bytes under `fill`
/// (list-max-listpack-size). A node always takes its first element.
fn node_has_room(node: &Listpack, size: usize, fill: i64) -> bool {
    if node.is_empty() {
        return true;
    }
    let bytes = node.byte_len() + entry_size(size);
    if fill >= 0 {
        node.len() < fill.max(1) as usize && bytes <= SIZE_SAFETY_LIMIT
    } else {
        let budget = 4096usize << ((-fill - 1).min(4));
        bytes <= budget
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
        self.nodes.iter().map(|n| n.allocated()).sum::<usize>()
            + self.nodes.capacity() * std::mem::size_of::<Listpack>()
    }

    pub fn push(&mut self, end: End, value: &[u8], fill: i64) {
        match end {
            End::Left => {
                if !self
                    .nodes
                    .front()
                    .is_some_and(|n| node_has_room(n, value.len(), fill))
                {
                    self.nodes.push_front(Listpack::new());
                }
                self.nodes[0].push_front(value);
            }
            End::Right => {
                if !self
                    .nodes
                    .back()
                    .is_some_and(|n| node_has_room(n, value.len(), fill))
                {
                    self.nodes.push_back(Listpack::new());
                }
                let last = self.nodes.len() - 1;
                self.nodes[last].push_back(value);
            }
        }
        self.len += 1;
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let last = self.nodes.len().checked_sub(1)?;
        let ni = match end {
            End::Left => 0,
            End::Right => last,
        };
        let node = &mut self.nodes[ni];
        let value = match end {
            End::Left => {
                let v = node.first()?.to_vec();
                node.remove_at(0);
                v
            }
            End::Right => {
                let off = node.last_offset()?;
                let v = node.entry_at(off).0.to_vec();
                node.remove_at(off);
                v
            }
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

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.len {
            return None;
        }
        let (ni, i) = self.locate(index);
        self.nodes[ni].get(i)
    }

    /// Replaces element `index` (which must exist).
    pub fn set(&mut self, index: usize, value: &[u8], fill: i64) {
        let (ni, i) = self.locate(index);
        let node = &mut self.nodes[ni];
        let off = node.offset_of(i);
        node.replace_at(off, value);
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
        self.nodes[ni].insert(i, value);
        self.len += 1;
        self.split_if_oversized(ni, fill);
    }

    /// Splits a node that grew past the fill limit into two halves.
    fn split_if_oversized(&mut self, ni: usize, fill: i64) {
        let node = &self.nodes[ni];
        if node.len() < 2 {
            return;
        }
        let over = if fill >= 0 {
            node.len() > fill.max(1) as usize || node.byte_len() > SIZE_SAFETY_LIMIT
        } else {
            node.byte_len() > 4096usize << ((-fill - 1).min(4))
        };
        if over {
            let half = node.len() / 2;
            let tail = self.nodes[ni].split_off(half);
            self.nodes.insert(ni + 1, tail);
        }
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
                self.nodes[0].remove_range_at(0, drop_front);
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
                let node = &mut self.nodes[last];
                let off = node.offset_of(n - drop_back);
                node.remove_range_at(off, drop_back);
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
        let mut removed = 0;
        let node_order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        for ni in node_order {
            if limit != 0 && removed == limit {
                break;
            }
            let node = &mut self.nodes[ni];
            let mut offsets: Vec<usize> = node
                .iter_offsets()
                .filter(|(_, e)| *e == value)
                .map(|(o, _)| o)
                .collect();
            if from_tail {
                offsets.reverse();
            } else {
                // Removing from the back keeps earlier offsets valid.
                if limit != 0 {
                    offsets.truncate(limit - removed);
                }
                offsets.reverse();
            }
            for off in offsets {
                if limit != 0 && removed == limit {
                    break;
                }
                node.remove_at(off);
                removed += 1;
            }
        }
        self.nodes.retain(|n| !n.is_empty());
        self.len -= removed;
        removed
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> {
        self.range(0, self.len)
    }

    /// Elements `start..end` (valid bounds), walked from either end.
    pub fn range(&self, start: usize, end: usize) -> Range<'_> {
        Range {
            list: self,
            front: start,
            back: end,
            front_pos: None,
            back_pos: None,
        }
    }
}

/// Elements `front..back` of a list, with the (node, entry offset) reached from each end.
pub struct Range<'a> {
    list: &'a List,
    front: usize,
    back: usize,
    front_pos: Option<(usize, usize)>,
    /// The node and offset of the last entry returned from the back.
    back_pos: Option<(usize, usize)>,
}

impl<'a> Iterator for Range<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let nodes = &self.list.nodes;
        let (mut ni, mut off) = match self.front_pos {
            Some(p) => p,
            None => {
                let (ni, i) = self.list.locate(self.front);
                (ni, nodes[ni].offset_of(i))
            }
        };
        if off >= nodes[ni].end() {
            ni += 1;
            off = 0;
        }
        let (entry, next) = nodes[ni].entry_at(off);
        self.front_pos = Some((ni, next));
        self.front += 1;
        Some(entry)
    }
}

impl<'a> DoubleEndedIterator for Range<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let nodes = &self.list.nodes;
        let (ni, off) = match self.back_pos {
            Some((ni, off)) => match nodes[ni].prev_offset(off) {
                Some(prev) => (ni, prev),
                None => (ni - 1, nodes[ni - 1].last_offset()?),
            },
            None => {
                let (ni, i) = self.list.locate(self.back - 1);
                (ni, nodes[ni].offset_of(i))
            }
        };
        self.back_pos = Some((ni, off));
        self.back -= 1;
        Some(nodes[ni].entry_at(off).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random operations against a VecDeque model, with small nodes so that splitting,
    /// node removal and cross-node walks all happen.
    #[test]
    fn matches_a_simple_model() {
        let mut rng = fastrand::Rng::with_seed(7);
        for fill in [1i64, 3, 5, -1] {
            let mut list = List::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..4000 {
                let v = format!("v{}", rng.u32(..30)).into_bytes();
                match rng.u8(..10) {
                    0 => {
                        list.push(End::Left, &v, fill);
                        model.push_front(v);
                    }
                    1 | 2 => {
                        list.push(End::Right, &v, fill);
                        model.push_back(v);
                    }
                    3 => assert_eq!(list.pop(End::Left), model.pop_front()),
                    4 => assert_eq!(list.pop(End::Right), model.pop_back()),
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
                    _ => {}
                }
                assert_eq!(list.len(), model.len());
                if step % 50 == 0 {
                    let got: Vec<&[u8]> = list.iter().collect();
                    let want: Vec<&[u8]> = model.iter().map(|v| v.as_slice()).collect();
                    assert_eq!(got, want, "fill {fill} step {step}");
                    let back: Vec<&[u8]> = list.iter().rev().collect();
                    let want_back: Vec<&[u8]> = model.iter().rev().map(|v| v.as_slice()).collect();
                    assert_eq!(back, want_back);
                    if !model.is_empty() {
                        let i = rng.usize(..model.len());
                        assert_eq!(list.get(i), Some(model[i].as_slice()));
                        let j = rng.usize(i..model.len());
                        let mid: Vec<&[u8]> = list.range(i, j + 1).rev().collect();
                        let want_mid: Vec<&[u8]> =
                            model.range(i..=j).rev().map(|v| v.as_slice()).collect();
                        assert_eq!(mid, want_mid);
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
}
