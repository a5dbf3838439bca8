//! A list node of integers: every element is a canonical 64-bit integer (text Redis's
//! string2ll reads and formats back identically), stored as its offset from a per-node base in
//! a fixed number of little-endian bytes (1 to 8), in one exact-size allocation. Redis's
//! listpack spends 2 to 10 bytes on such an element; a node of nearby values spends 1 to 3 here,
//! and any element is reached in O(1) by its index.
//!
//! A value outside the node's range re-packs it: the width becomes the smallest that spans the
//! node's values, and the base leaves the spare range evenly on both sides, so runs that grow
//! in either direction re-pack at most once per halving of the spare range (8 times per byte
//! of width).

/// Elements of a node: `len * width` bytes, element `i` at `i * width`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IntPack {
    data: Box<[u8]>,
    /// What every stored offset is relative to.
    base: i64,
    len: u32,
    /// Bytes per element (1..=8); 0 while empty.
    width: u8,
}

impl std::fmt::Debug for IntPack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries((0..self.len()).map(|i| self.get(i)))
            .finish()
    }
}

/// The number of distinct offsets `width` bytes hold.
#[inline]
fn range_of(width: u8) -> i128 {
    1i128 << (8 * width as u32)
}

/// The narrowest width and a base holding every value in `lo..=hi`, centred in the width's
/// range so later values on either side fit too.
fn layout(lo: i64, hi: i64) -> (u8, i64) {
    let span = hi as i128 - lo as i128;
    let width = (1..=8u8).find(|&w| span < range_of(w)).unwrap_or(8);
    let slack = (range_of(width) - 1 - span) / 2;
    let base = (lo as i128 - slack).max(i64::MIN as i128);
    (width, base as i64)
}

impl IntPack {
    /// A node holding `v`.
    pub fn single(v: i64) -> IntPack {
        let mut p = IntPack::default();
        p.insert(0, v);
        p
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Encoded size in bytes (what the node size limits compare against).
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// Bytes allocated (memory accounting).
    pub fn allocated(&self) -> usize {
        self.data.len()
    }

    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        let at = i * w;
        let off = match w {
            1 => self.data[at] as u64,
            2 => u16::from_le_bytes([self.data[at], self.data[at + 1]]) as u64,
            4 => u32::from_le_bytes(self.data[at..at + 4].try_into().unwrap()) as u64,
            8 => u64::from_le_bytes(self.data[at..at + 8].try_into().unwrap()),
            _ => {
                let mut b = [0u8; 8];
                b[..w].copy_from_slice(&self.data[at..at + w]);
                u64::from_le_bytes(b)
            }
        };
        self.base.wrapping_add(off as i64)
    }

    #[inline]
    fn put(&mut self, i: usize, v: i64) {
        let w = self.width as usize;
        let off = v.wrapping_sub(self.base) as u64;
        self.data[i * w..(i + 1) * w].copy_from_slice(&off.to_le_bytes()[..w]);
    }

    #[inline]
    fn fits(&self, v: i64) -> bool {
        self.width > 0 && (0..range_of(self.width)).contains(&(v as i128 - self.base as i128))
    }

    /// The smallest and largest element, with `v`.
    fn bounds_with(&self, v: i64) -> (i64, i64) {
        (0..self.len()).fold((v, v), |(lo, hi), i| {
            let x = self.get(i);
            (lo.min(x), hi.max(x))
        })
    }

    /// The node's byte size once it also holds `v`.
    pub fn byte_len_with(&self, v: i64) -> usize {
        let width = if self.fits(v) {
            self.width
        } else {
            let (lo, hi) = self.bounds_with(v);
            layout(lo, hi).0
        };
        (self.len() + 1) * width as usize
    }

    /// Re-packs the node, if needed, so that it can hold `v`.
    fn make_room_for(&mut self, v: i64) {
        if self.fits(v) {
            return;
        }
        let (lo, hi) = self.bounds_with(v);
        let (width, base) = layout(lo, hi);
        let mut fresh = IntPack {
            data: vec![0; self.len() * width as usize].into_boxed_slice(),
            base,
            len: self.len,
            width,
        };
        for i in 0..self.len() {
            fresh.put(i, self.get(i));
        }
        *self = fresh;
    }

    /// Edits the elements' bytes as a Vec and stores them back at their exact size.
    fn edit(&mut self, f: impl FnOnce(&mut Vec<u8>, usize)) {
        let mut v = std::mem::take(&mut self.data).into_vec();
        f(&mut v, self.width as usize);
        self.data = v.into_boxed_slice();
    }

    /// Inserts `v` so that it becomes element `i` (i == len appends).
    pub fn insert(&mut self, i: usize, v: i64) {
        self.make_room_for(v);
        self.edit(|buf, w| {
            let old = buf.len();
            buf.reserve_exact(w);
            buf.resize(old + w, 0);
            buf.copy_within(i * w..old, (i + 1) * w);
        });
        self.len += 1;
        self.put(i, v);
    }

    pub fn push_back(&mut self, v: i64) {
        self.insert(self.len(), v);
    }

    pub fn push_front(&mut self, v: i64) {
        self.insert(0, v);
    }

    pub fn set(&mut self, i: usize, v: i64) {
        self.make_room_for(v);
        self.put(i, v);
    }

    /// Removes `count` elements from element `i` on.
    pub fn remove_range(&mut self, i: usize, count: usize) {
        self.edit(|buf, w| buf.drain(i * w..(i + count) * w).for_each(drop));
        self.len -= count as u32;
    }

    pub fn remove(&mut self, i: usize) {
        self.remove_range(i, 1);
    }

    /// Moves the elements from `i` on into a new node of the same layout.
    pub fn split_off(&mut self, i: usize) -> IntPack {
        let w = self.width as usize;
        let tail = IntPack {
            data: self.data[i * w..].into(),
            base: self.base,
            len: self.len - i as u32,
            width: self.width,
        };
        self.edit(|buf, w| buf.truncate(i * w));
        self.len = i as u32;
        tail
    }

    /// Removes up to `limit` elements equal to `v` (0: all), the first ones or the last ones.
    /// Returns how many it removed.
    pub fn remove_value(&mut self, v: i64, limit: usize, from_tail: bool) -> usize {
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut matches: Vec<usize> = (0..self.len()).filter(|&i| self.get(i) == v).collect();
        if matches.len() > limit {
            if from_tail {
                matches.drain(..matches.len() - limit);
            } else {
                matches.truncate(limit);
            }
        }
        if matches.is_empty() {
            return 0;
        }
        self.edit(|buf, w| {
            let mut kept = 0;
            let mut gone = matches.iter().peekable();
            for i in 0..buf.len() / w {
                if gone.peek() == Some(&&i) {
                    gone.next();
                    continue;
                }
                buf.copy_within(i * w..(i + 1) * w, kept * w);
                kept += 1;
            }
            buf.truncate(kept * w);
        });
        self.len -= matches.len() as u32;
        matches.len()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_grow_with_the_span() {
        let mut p = IntPack::single(1000);
        assert_eq!(p.width, 1);
        p.push_back(1100);
        assert_eq!(p.width, 1);
        p.push_back(1300);
        assert_eq!((p.width, p.byte_len()), (2, 6));
        p.push_front(-1_000_000);
        assert_eq!(p.width, 3);
        p.push_back(i64::MAX);
        assert_eq!(p.width, 8);
        p.push_back(i64::MIN);
        assert_eq!(p.width, 8);
        let want = [-1_000_000, 1000, 1100, 1300, i64::MAX, i64::MIN];
        assert_eq!(p.iter().collect::<Vec<_>>(), want);
        assert_eq!(p.iter().rev().collect::<Vec<_>>(), {
            let mut r = want.to_vec();
            r.reverse();
            r
        });
    }

    #[test]
    fn extremes_fit_in_every_width() {
        for (lo, hi, width) in [
            (i64::MIN, i64::MIN + 255, 1),
            (i64::MAX - 255, i64::MAX, 1),
            (i64::MIN, i64::MIN + 65536, 3),
            (-1, 0xFF_FFFF_FFFF, 6),
            (i64::MIN, i64::MAX, 8),
        ] {
            let mut p = IntPack::single(lo);
            p.push_back(hi);
            p.push_front(hi);
            assert_eq!(p.width, width, "{lo}..{hi}");
            assert_eq!(p.iter().collect::<Vec<_>>(), [hi, lo, hi]);
            assert_eq!(p.byte_len_with(lo), 4 * width as usize);
        }
    }

    #[test]
    fn ascending_runs_repack_rarely() {
        let mut p = IntPack::default();
        let mut repacks = 0;
        for v in 0..10_000i64 {
            let before = (p.width, p.base);
            p.push_back(v * 3);
            repacks += (p.len() > 1 && before != (p.width, p.base)) as usize;
        }
        // At most one per halving of the spare range, at each of the two widths used.
        assert!(repacks <= 8 + 16, "{repacks} re-packs");
        assert_eq!(p.width, 2);
        assert!(p.iter().enumerate().all(|(i, v)| v == i as i64 * 3));
    }

    #[test]
    fn remove_split_and_remove_value() {
        let mut p = IntPack::default();
        for v in [5, 7, 5, 9, 5, 5, 300] {
            p.push_back(v);
        }
        assert_eq!(p.remove_value(5, 2, true), 2);
        assert_eq!(p.iter().collect::<Vec<_>>(), [5, 7, 5, 9, 300]);
        assert_eq!(p.remove_value(5, 1, false), 1);
        assert_eq!(p.iter().collect::<Vec<_>>(), [7, 5, 9, 300]);
        assert_eq!(p.remove_value(42, 0, false), 0);
        let tail = p.split_off(1);
        assert_eq!(p.iter().collect::<Vec<_>>(), [7]);
        assert_eq!(tail.iter().collect::<Vec<_>>(), [5, 9, 300]);
        let mut tail = tail;
        tail.remove(1);
        tail.set(0, -70000);
        assert_eq!(tail.iter().collect::<Vec<_>>(), [-70000, 300]);
        tail.remove_range(0, 2);
        assert!(tail.is_empty());
        assert_eq!(tail.byte_len(), 0);
    }
}
