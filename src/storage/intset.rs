//! A set of integers kept as a sorted array of the narrowest width (16, 32 or 64 bits) that
//! holds every member, like Redis's intset: small sets of integers cost 2-8 bytes per member,
//! membership is a binary search and iteration is in ascending order.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntSet {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::I16(Vec::new())
    }
}

/// Runs `$body` with `$v` bound to the member array, whatever its width.
macro_rules! each_width {
    ($set:expr, $v:ident => $body:expr) => {
        match $set {
            IntSet::I16($v) => $body,
            IntSet::I32($v) => $body,
            IntSet::I64($v) => $body,
        }
    };
}

impl IntSet {
    /// Bytes of the member array.
    pub fn allocated(&self) -> usize {
        each_width!(self, v => std::mem::size_of_val(v.as_slice()))
    }
}

/// Position of `n` in a sorted array of a width that may not be able to hold it.
fn search<T: Ord + Copy + TryFrom<i64>>(v: &[T], n: i64) -> Option<usize> {
    let n = T::try_from(n).ok()?;
    v.binary_search(&n).ok()
}

/// Inserts `n` (which fits the width) in order; false if present.
fn insert_sorted<T: Ord + Copy + TryFrom<i64>>(v: &mut Vec<T>, n: i64) -> bool {
    let Ok(n) = T::try_from(n) else {
        unreachable!("the set was widened for this member")
    };
    match v.binary_search(&n) {
        Ok(_) => false,
        Err(at) => {
            // Exact growth, as Redis reallocates its intset per insert: small sets stay tight.
            v.reserve_exact(1);
            v.insert(at, n);
            true
        }
    }
}

/// Gives back spare capacity once it is a large share of the array.
fn shrink<T>(v: &mut Vec<T>) {
    if v.capacity() > 8 && v.capacity() > v.len() * 2 {
        v.shrink_to_fit();
    }
}

/// The width class a value needs: 0 for 16 bits, 1 for 32, 2 for 64.
fn width_of(n: i64) -> u8 {
    if i16::try_from(n).is_ok() {
        0
    } else if i32::try_from(n).is_ok() {
        1
    } else {
        2
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet::default()
    }

    pub fn len(&self) -> usize {
        each_width!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn width(&self) -> u8 {
        match self {
            IntSet::I16(_) => 0,
            IntSet::I32(_) => 1,
            IntSet::I64(_) => 2,
        }
    }

    /// The member at `index` in ascending order.
    #[inline]
    pub fn get(&self, index: usize) -> i64 {
        match self {
            IntSet::I16(v) => v[index].into(),
            IntSet::I32(v) => v[index].into(),
            IntSet::I64(v) => v[index],
        }
    }

    pub fn contains(&self, n: i64) -> bool {
        each_width!(self, v => search(v, n).is_some())
    }

    /// Adds `n`; false if it was already a member.
    pub fn insert(&mut self, n: i64) -> bool {
        if width_of(n) > self.width() {
            self.widen(width_of(n));
        }
        each_width!(self, v => insert_sorted(v, n))
    }

    fn widen(&mut self, width: u8) {
        let members: Vec<i64> = self.iter().collect();
        *self = match width {
            1 => IntSet::I32(members.iter().map(|&n| n as i32).collect()),
            _ => IntSet::I64(members),
        };
    }

    /// Removes `n`; false if it was not a member. The width never narrows (as in Redis).
    pub fn remove(&mut self, n: i64) -> bool {
        each_width!(self, v => match search(v, n) {
            Some(i) => {
                v.remove(i);
                shrink(v);
                true
            }
            None => false,
        })
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_widening() {
        let mut s = IntSet::new();
        for n in [5, -3, 5, 100, 0] {
            s.insert(n);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 0, 5, 100]);
        assert!(matches!(s, IntSet::I16(_)));
        assert!(s.insert(70_000));
        assert!(matches!(s, IntSet::I32(_)));
        assert!(s.insert(i64::MIN));
        assert!(matches!(s, IntSet::I64(_)));
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![i64::MIN, -3, 0, 5, 100, 70_000]
        );
        assert!(s.contains(70_000) && s.contains(i64::MIN) && !s.contains(1));
        assert!(!s.insert(100));
        assert!(s.remove(i64::MIN));
        assert!(!s.remove(i64::MIN));
        assert!(matches!(s, IntSet::I64(_)), "never narrows");
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn narrow_sets_reject_wide_lookups() {
        let mut s = IntSet::new();
        s.insert(1);
        assert!(!s.contains(1 << 40));
        assert!(!s.remove(1 << 40));
        assert_eq!(s.get(0), 1);
    }
}
