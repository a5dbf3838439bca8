//! An open-addressing hash table kept in hash order ("ordered linear probing").
//!
//! Every entry sits at or after its home slot and the occupied slots are sorted by hash. The home
//! is the hash scaled to the number of homes (`hash * homes / 2^64`), which keeps hash order for
//! any table size: tables grow by a sixteenth rather than doubling, so they stay 82-88% full and
//! a large keyspace wastes far fewer slots than a power-of-two table would. That gives three things the keyspace needs:
//! - lookups stop early, at the first slot whose hash is larger than the one sought;
//! - SCAN can use a hash value as its cursor: every entry present for the whole scan is returned
//!   exactly once even if the table grows or shrinks in between, because growing keeps hash order;
//! - resizing is one sequential pass (entries are re-placed in order), with no rehash per entry.
//!
//! The table does not wrap around: a few slack slots after the last home absorb the tail cluster,
//! and the table grows when they run out.

/// What a table stores: anything that knows its (full 64-bit) hash.
pub trait Hashed {
    fn hash(&self) -> u64;
}

const MIN_HOMES: usize = 4;
const SLACK: usize = 32;

#[derive(Clone)]
pub struct OrdTable<E> {
    slots: Vec<Option<E>>,
    /// Number of home slots; 0 means no storage allocated.
    homes: usize,
    len: usize,
}

/// The next size up: a sixteenth more homes (a quarter while small, an eighth while under
/// 1024 homes), so a big table stays 82-88% full. Growing in small steps costs more moves per
/// insert on average, but each resize is no longer than a doubling one would be. (The keyspace's
/// shards grow in step, so every table sits at the same point of this cycle: its low end is
/// what a dataset may see.)
fn grown(homes: usize) -> usize {
    let step = match homes {
        0..64 => homes / 4,
        64..1024 => homes / 8,
        _ => homes / 16,
    };
    (homes + step).max(homes + 1).max(MIN_HOMES)
}

impl<E: Hashed> Default for OrdTable<E> {
    fn default() -> Self {
        OrdTable::new()
    }
}

impl<E: Hashed> OrdTable<E> {
    pub const fn new() -> Self {
        OrdTable {
            slots: Vec::new(),
            homes: 0,
            len: 0,
        }
    }

    /// Bytes of the slot array (entries' own heap data not included).
    pub fn allocated(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Option<E>>()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        home_of(hash, self.homes)
    }

    /// Index of the entry with this hash for which `is_it` holds.
    #[inline]
    pub fn find(&self, hash: u64, mut is_it: impl FnMut(&E) -> bool) -> Option<usize> {
        if self.homes == 0 {
            return None;
        }
        let mut i = self.home(hash);
        while let Some(Some(e)) = self.slots.get(i) {
            let h = e.hash();
            if h == hash && is_it(e) {
                return Some(i);
            }
            if h > hash {
                return None;
            }
            i += 1;
        }
        None
    }

    #[inline]
    pub fn at(&self, index: usize) -> &E {
        self.slots[index].as_ref().expect("occupied slot")
    }

    #[inline]
    pub fn at_mut(&mut self, index: usize) -> &mut E {
        self.slots[index].as_mut().expect("occupied slot")
    }

    /// Makes room for `additional` more entries without growing step by step (a file being
    /// loaded announces its size).
    pub fn reserve(&mut self, additional: usize) {
        let want = self.len + additional;
        if want * 8 > self.homes * 7 {
            self.resize((want * 8 / 7 + 1).max(MIN_HOMES));
        }
    }

    /// Inserts an entry known not to be present (callers look it up first). Returns its index.
    pub fn insert_new(&mut self, entry: E) -> usize {
        // Ordered probing stops unsuccessful lookups early, so the table can run fuller than
        // classic linear probing: grow past 7/8.
        if self.homes == 0 || (self.len + 1) * 8 > self.homes * 7 {
            self.resize(grown(self.homes));
        }
        let mut entry = entry;
        loop {
            match self.try_place(entry) {
                Ok(i) => {
                    self.len += 1;
                    return i;
                }
                Err(back) => {
                    entry = back;
                    self.resize(grown(self.homes));
                }
            }
        }
    }

    /// Puts the entry in hash order, shifting the run after it right by one.
    fn try_place(&mut self, entry: E) -> Result<usize, E> {
        let hash = entry.hash();
        let mut pos = self.home(hash);
        while let Some(Some(e)) = self.slots.get(pos) {
            if e.hash() > hash {
                break;
            }
            pos += 1;
        }
        let mut free = pos;
        while let Some(Some(_)) = self.slots.get(free) {
            free += 1;
        }
        if free >= self.slots.len() {
            return Err(entry);
        }
        // Shift [pos, free) one slot right; entries only move away from home, keeping order.
        self.slots[pos..=free].rotate_right(1);
        self.slots[pos] = Some(entry);
        Ok(pos)
    }

    /// Removes and returns the entry at `index`, closing the gap by shifting displaced entries
    /// back (no tombstones).
    pub fn remove_at(&mut self, index: usize) -> E {
        let removed = self.slots[index].take().expect("occupied slot");
        let mut hole = index;
        loop {
            let next = hole + 1;
            match self.slots.get(next) {
                Some(Some(e)) if self.home(e.hash()) <= hole => {
                    self.slots.swap(hole, next);
                    hole = next;
                }
                _ => break,
            }
        }
        self.len -= 1;
        if self.len == 0 {
            *self = OrdTable::new();
        } else if self.homes > MIN_HOMES && self.len * 10 < self.homes {
            // Shrink below 10% fill, as Redis does, so deleted keys give memory back.
            self.resize((self.len * 2).max(MIN_HOMES));
        }
        removed
    }

    fn resize(&mut self, homes: usize) {
        let mut homes = homes;
        let mut pending = std::mem::take(&mut self.slots);
        loop {
            match Self::place_all(pending, homes) {
                Ok(slots) => {
                    self.slots = slots;
                    self.homes = homes;
                    return;
                }
                // The tail cluster outgrew the slack: try again one size up.
                Err(entries) => {
                    pending = entries;
                    homes = grown(homes);
                }
            }
        }
    }

    /// Lays out entries (given in hash order) in a table of `homes` homes, or gives them back
    /// if they do not fit.
    fn place_all(entries: Vec<Option<E>>, homes: usize) -> Result<Vec<Option<E>>, Vec<Option<E>>> {
        let mut slots: Vec<Option<E>> = Vec::new();
        slots.resize_with(homes + SLACK, || None);
        let mut next_free = 0usize;
        let mut iter = entries.into_iter().flatten();
        while let Some(e) = iter.next() {
            let at = home_of(e.hash(), homes).max(next_free);
            if at >= slots.len() {
                let mut back: Vec<Option<E>> = slots.into_iter().filter(Option::is_some).collect();
                back.push(Some(e));
                back.extend(iter.map(Some));
                return Err(back);
            }
            slots[at] = Some(e);
            next_free = at + 1;
        }
        Ok(slots)
    }

    /// Entries in hash order starting at the first one whose hash is >= `cursor`; `visit`
    /// returns false to stop. Returns the hash of the first entry not visited (0 at the end).
    /// Entries sharing a hash are never split across calls.
    pub fn scan_from<'a>(&'a self, cursor: u64, mut visit: impl FnMut(&'a E) -> bool) -> u64 {
        if self.homes == 0 {
            return 0;
        }
        let mut i = self.home(cursor);
        let mut stopped_at: Option<u64> = None;
        while i < self.slots.len() {
            if let Some(e) = &self.slots[i] {
                let h = e.hash();
                if h >= cursor {
                    if let Some(stop) = stopped_at
                        && h != stop
                    {
                        return h;
                    }
                    if !visit(e) && stopped_at.is_none() {
                        stopped_at = Some(h);
                    }
                }
            }
            i += 1;
        }
        0
    }

    /// Index of an entry picked at random (biased by cluster shape, like Redis's sampling).
    pub fn random_index(&self) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let n = self.slots.len();
        let start = fastrand::usize(..n);
        (start..n)
            .chain(0..start)
            .find(|&i| self.slots[i].is_some())
    }

    /// Index of an entry picked uniformly at random: random slots until one is occupied (the
    /// table is kept at least 10% full, so this takes a few tries).
    pub fn random_index_uniform(&self) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        loop {
            let i = fastrand::usize(..self.slots.len());
            if self.slots[i].is_some() {
                return Some(i);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().filter_map(|s| s.as_ref())
    }
}

/// The home slot of `hash` among `homes`: the hash scaled down, so homes follow hash order.
#[inline]
fn home_of(hash: u64, homes: usize) -> usize {
    ((hash as u128 * homes as u128) >> 64) as usize
}

/// The hash of a collection member (hash field, set member): foldhash seeded once per process,
/// so clients cannot choose members that collide.
pub fn member_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    static STATE: std::sync::LazyLock<foldhash::fast::FixedState> =
        std::sync::LazyLock::new(|| foldhash::fast::FixedState::with_seed(fastrand::u64(..)));
    STATE.hash_one(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct E(u64, u32);
    impl Hashed for E {
        fn hash(&self) -> u64 {
            self.0
        }
    }

    fn check_invariants(t: &OrdTable<E>) {
        let mut last = 0u64;
        let mut count = 0;
        for (i, s) in t.slots.iter().enumerate() {
            if let Some(e) = s {
                assert!(e.0 >= last, "hash order");
                last = e.0;
                let home = t.home(e.0);
                assert!(home <= i);
                for j in home..i {
                    assert!(t.slots[j].is_some(), "no gap between home and position");
                }
                count += 1;
            }
        }
        assert_eq!(count, t.len());
    }

    #[test]
    fn reserve_sizes_once_and_keeps_entries() {
        let mut t = OrdTable::new();
        let mut rng = fastrand::Rng::with_seed(3);
        let first: Vec<u64> = (0..100).map(|_| rng.u64(..)).collect();
        for (n, &k) in first.iter().enumerate() {
            t.insert_new(E(k, n as u32));
        }
        t.reserve(10_000);
        let homes = t.homes;
        assert!(homes * 7 >= 10_100 * 8, "{homes} homes");
        for n in 0..10_000 {
            t.insert_new(E(rng.u64(..), 1000 + n));
        }
        // At most one step (the last slots' cluster may outgrow the slack), not one per 1/16.
        assert!(t.homes <= grown(homes), "{} homes after {homes}", t.homes);
        check_invariants(&t);
        for (n, &k) in first.iter().enumerate() {
            assert!(t.find(k, |e| e.1 == n as u32).is_some());
        }
        // A reservation of what already fits changes nothing.
        let homes = t.homes;
        t.reserve(0);
        assert_eq!(t.homes, homes);
    }

    #[test]
    fn insert_find_remove_many() {
        let mut t = OrdTable::new();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut keys: Vec<u64> = (0..5000).map(|_| rng.u64(..)).collect();
        for (n, &k) in keys.iter().enumerate() {
            t.insert_new(E(k, n as u32));
        }
        // Duplicate hashes are allowed (distinct keys that collide).
        t.insert_new(E(keys[3], 99999));
        check_invariants(&t);
        assert_eq!(t.len(), 5001);
        for (n, &k) in keys.iter().enumerate() {
            let i = t.find(k, |e| e.1 == n as u32).unwrap();
            assert_eq!(t.at(i).0, k);
        }
        rng.shuffle(&mut keys);
        for &k in keys.iter().take(4900) {
            let i = t.find(k, |e| e.1 != 99999).unwrap();
            t.remove_at(i);
        }
        check_invariants(&t);
        assert_eq!(t.len(), 101);
    }

    #[test]
    fn scan_returns_each_stable_entry_once_across_growth() {
        let mut t = OrdTable::new();
        let mut rng = fastrand::Rng::with_seed(1);
        for n in 0..1000u32 {
            t.insert_new(E(rng.u64(..), n));
        }
        let mut seen = std::collections::HashMap::new();
        let mut cursor = 0u64;
        let mut extra = 1000u32;
        loop {
            let mut budget = 10;
            cursor = t.scan_from(cursor, |e| {
                *seen.entry(e.1).or_insert(0) += 1;
                budget -= 1;
                budget > 0
            });
            // Grow the table while the scan is under way.
            for _ in 0..50 {
                t.insert_new(E(rng.u64(..), extra));
                extra += 1;
            }
            if cursor == 0 {
                break;
            }
        }
        for n in 0..1000u32 {
            assert_eq!(seen.get(&n), Some(&1), "entry {n} returned exactly once");
        }
    }

    #[test]
    fn random_index_finds_an_entry() {
        let mut t = OrdTable::new();
        assert_eq!(t.random_index(), None);
        for n in 0..100u64 {
            t.insert_new(E(n.wrapping_mul(0x9E37_79B9_7F4A_7C15), n as u32));
        }
        check_invariants(&t);
        for _ in 0..10 {
            let i = t.random_index().unwrap();
            assert!(t.at(i).1 < 100);
        }
    }
}
