//! The set value, encoded as Redis 7.0 does: an intset while every member is an integer and
//! there are at most set-max-intset-entries of them, otherwise a hash table of byte strings.
//! Conversion only ever goes from intset to table.

use super::Either;
use super::intset::IntSet;
use super::table::{Hashed, OrdTable, member_hash};
use crate::util::num::parse_i64;

/// Redis caps set-max-intset-entries at 2^30 (intset internals).
const INTSET_MAX_CAP: usize = 1 << 30;

/// A member of the table encoding, with its hash.
#[derive(Clone)]
pub struct Member {
    hash: u64,
    bytes: Box<[u8]>,
}

impl Hashed for Member {
    #[inline]
    fn hash(&self) -> u64 {
        self.hash
    }
}

/// A member as it is stored: integers of an intset are not text until they are replied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Elem<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The member's text; integers are formatted into `scratch`.
    pub fn bytes<'b>(&'b self, scratch: &'b mut itoa::Buffer) -> &'b [u8] {
        match self {
            Elem::Int(n) => scratch.format(*n).as_bytes(),
            Elem::Bytes(b) => b,
        }
    }
}

/// A member taken out of a set (SPOP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedElem {
    Int(i64),
    Bytes(Box<[u8]>),
}

impl OwnedElem {
    pub fn as_elem(&self) -> Elem<'_> {
        match self {
            OwnedElem::Int(n) => Elem::Int(*n),
            OwnedElem::Bytes(b) => Elem::Bytes(b),
        }
    }
}

#[derive(Clone)]
pub enum SetValue {
    Ints(IntSet),
    Table(OrdTable<Member>),
}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut scratch = itoa::Buffer::new();
        let mut list = f.debug_set();
        for e in self.iter() {
            list.entry(&String::from_utf8_lossy(e.bytes(&mut scratch)));
        }
        list.finish()
    }
}

/// Equal members, whatever the encodings.
impl PartialEq for SetValue {
    fn eq(&self, other: &SetValue) -> bool {
        self.len() == other.len() && self.iter().all(|e| other.contains_elem(e))
    }
}

fn find(table: &OrdTable<Member>, member: &[u8]) -> Option<usize> {
    table.find(member_hash(member), |m| &*m.bytes == member)
}

impl SetValue {
    /// Heap bytes (MEMORY USAGE), member bytes sampled for the table form.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            SetValue::Ints(ints) => ints.allocated(),
            SetValue::Table(t) => {
                t.allocated()
                    + super::sampled_total(t.len(), samples, t.iter().map(|m| m.bytes.len()))
            }
        }
    }

    /// An empty set in the encoding Redis starts results in (SINTERSTORE and friends).
    pub fn new() -> SetValue {
        SetValue::Ints(IntSet::new())
    }

    /// An empty set in the encoding its first member calls for (setTypeCreate).
    pub fn for_member(member: &[u8]) -> SetValue {
        if parse_i64(member).is_some() {
            SetValue::new()
        } else {
            SetValue::Table(OrdTable::new())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(s) => s.len(),
            SetValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Ints(_) => "intset",
            SetValue::Table(_) => "hashtable",
        }
    }

    /// Adds a member; false if it was already there. Converts to a table when the member is
    /// not an integer or the intset grows past `max_intset` entries.
    pub fn add(&mut self, member: &[u8], max_intset: usize) -> bool {
        match self {
            SetValue::Ints(s) => match parse_i64(member) {
                Some(n) => {
                    let added = s.insert(n);
                    if added && s.len() > max_intset.min(INTSET_MAX_CAP) {
                        self.convert();
                    }
                    added
                }
                None => {
                    self.convert();
                    self.add(member, max_intset)
                }
            },
            SetValue::Table(t) => {
                let hash = member_hash(member);
                if t.find(hash, |m| &*m.bytes == member).is_some() {
                    return false;
                }
                t.insert_new(Member {
                    hash,
                    bytes: member.into(),
                });
                true
            }
        }
    }

    /// `add` for a member of another set (integers need no parsing).
    pub fn add_elem(&mut self, e: Elem, max_intset: usize) -> bool {
        match (&mut *self, e) {
            (SetValue::Ints(s), Elem::Int(n)) => {
                let added = s.insert(n);
                if added && s.len() > max_intset.min(INTSET_MAX_CAP) {
                    self.convert();
                }
                added
            }
            (_, e) => self.add(e.bytes(&mut itoa::Buffer::new()), max_intset),
        }
    }

    fn convert(&mut self) {
        if let SetValue::Ints(s) = self {
            let mut table = OrdTable::new();
            let mut scratch = itoa::Buffer::new();
            for n in s.iter() {
                let bytes = scratch.format(n).as_bytes();
                table.insert_new(Member {
                    hash: member_hash(bytes),
                    bytes: bytes.into(),
                });
            }
            *self = SetValue::Table(table);
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(s) => parse_i64(member).is_some_and(|n| s.remove(n)),
            SetValue::Table(t) => match find(t, member) {
                Some(i) => {
                    t.remove_at(i);
                    true
                }
                None => false,
            },
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(s) => parse_i64(member).is_some_and(|n| s.contains(n)),
            SetValue::Table(t) => find(t, member).is_some(),
        }
    }

    pub fn contains_elem(&self, e: Elem) -> bool {
        match (self, e) {
            (SetValue::Ints(s), Elem::Int(n)) => s.contains(n),
            (_, e) => self.contains(e.bytes(&mut itoa::Buffer::new())),
        }
    }

    /// Members: ascending for an intset, table order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = Elem<'_>> {
        match self {
            SetValue::Ints(s) => Either::Left(s.iter().map(Elem::Int)),
            SetValue::Table(t) => Either::Right(t.iter().map(|m| Elem::Bytes(&m.bytes))),
        }
    }

    /// A position picked uniformly at random (the set must not be empty).
    fn random_position(&self) -> usize {
        match self {
            SetValue::Ints(s) => fastrand::usize(..s.len()),
            SetValue::Table(t) => t.random_index_uniform().expect("non-empty set"),
        }
    }

    fn at(&self, position: usize) -> Elem<'_> {
        match self {
            SetValue::Ints(s) => Elem::Int(s.get(position)),
            SetValue::Table(t) => Elem::Bytes(&t.at(position).bytes),
        }
    }

    /// A member picked uniformly at random (the set must not be empty).
    pub fn random(&self) -> Elem<'_> {
        self.at(self.random_position())
    }

    /// `count` distinct members picked at random, in random order (count < len).
    pub fn sample(&self, count: usize) -> Vec<Elem<'_>> {
        if count * 3 > self.len() {
            // A large share of the set: shuffle a copy of all and keep a prefix.
            return super::shuffled_prefix(self.iter().collect(), count);
        }
        super::distinct_picks(count, || self.random_position())
            .map(|p| self.at(p))
            .collect()
    }

    /// Removes and returns a member picked uniformly at random (the set must not be empty).
    pub fn pop_random(&mut self) -> OwnedElem {
        let p = self.random_position();
        match self {
            SetValue::Ints(s) => {
                let n = s.get(p);
                s.remove(n);
                OwnedElem::Int(n)
            }
            SetValue::Table(t) => OwnedElem::Bytes(t.remove_at(p).bytes),
        }
    }

    /// SSCAN: visits about `count` members from `cursor` and returns the next cursor (0 at the
    /// end). An intset is small by definition and is returned whole, as Redis does.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(Elem<'a>)) -> u64 {
        match self {
            SetValue::Ints(s) => {
                s.iter().for_each(|n| visit(Elem::Int(n)));
                0
            }
            SetValue::Table(t) => {
                let mut seen = 0;
                t.scan_from(cursor, |m| {
                    visit(Elem::Bytes(&m.bytes));
                    seen += 1;
                    seen < count
                })
            }
        }
    }
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::new()
    }
}

/// The members of the first set that are in every other one (SINTER), in the first set's
/// order; `limit` > 0 stops after that many (SINTERCARD LIMIT). Redis walks the smallest set
/// (stable sort by size) and replies in that set's order, so callers pass them sorted.
pub fn intersection<'a>(sets: &[&'a SetValue], limit: usize) -> Vec<Elem<'a>> {
    let Some((first, rest)) = sets.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in first.iter() {
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains_elem(e))
        {
            out.push(e);
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// The union of the sets, built as Redis builds it (starting from an intset).
pub fn union(sets: &[&SetValue], max_intset: usize) -> SetValue {
    let mut out = SetValue::new();
    for s in sets {
        for e in s.iter() {
            out.add_elem(e, max_intset);
        }
    }
    out
}

/// The members of the first set in none of the others.
pub fn difference(first: &SetValue, others: &[&SetValue], max_intset: usize) -> SetValue {
    let mut out = SetValue::new();
    for e in first.iter() {
        if !others.iter().any(|s| s.contains_elem(e)) {
            out.add_elem(e, max_intset);
        }
    }
    out
}

/// A set built from members (the results of SINTERSTORE), as Redis builds it.
pub fn from_elems<'a>(elems: impl IntoIterator<Item = Elem<'a>>, max_intset: usize) -> SetValue {
    let mut out = SetValue::new();
    for e in elems {
        out.add_elem(e, max_intset);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &SetValue) -> Vec<String> {
        let mut scratch = itoa::Buffer::new();
        s.iter()
            .map(|e| String::from_utf8_lossy(e.bytes(&mut scratch)).into_owned())
            .collect()
    }

    fn set_of(items: &[&str], max: usize) -> SetValue {
        let mut s = SetValue::for_member(items[0].as_bytes());
        for i in items {
            s.add(i.as_bytes(), max);
        }
        s
    }

    #[test]
    fn intset_until_a_string_or_too_many() {
        let mut s = set_of(&["3", "1", "2", "1"], 4);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(members(&s), ["1", "2", "3"]);
        assert!(s.add(b"4", 4));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"5", 4));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"5") && s.contains(b"1") && !s.contains(b"01"));
        let mut t = set_of(&["1", "2"], 512);
        assert!(t.add(b"x", 512));
        assert_eq!(t.encoding(), "hashtable");
        assert!(!t.add(b"1", 512));
        assert!(t.remove(b"1") && !t.remove(b"1"));
        assert_eq!(t.len(), 2);
        assert_eq!(SetValue::for_member(b"a").encoding(), "hashtable");
        assert_eq!(SetValue::for_member(b"-12").encoding(), "intset");
        assert!(!SetValue::for_member(b"7").remove(b"x"));
    }

    #[test]
    fn algebra_follows_redis_encodings() {
        let a = set_of(&["1", "2", "3", "x"], 512);
        let b = set_of(&["3", "2", "9"], 512);
        assert_eq!(intersection(&[&b, &a], 0), vec![Elem::Int(2), Elem::Int(3)]);
        assert_eq!(intersection(&[&b, &a], 1).len(), 1);
        let u = union(&[&b, &b], 512);
        assert_eq!(u.encoding(), "intset");
        assert_eq!(members(&u), ["2", "3", "9"]);
        assert_eq!(union(&[&a, &b], 512).len(), 5);
        assert_eq!(union(&[&b], 2).encoding(), "hashtable");
        let d = difference(&a, &[&b], 512);
        assert_eq!(d, set_of(&["1", "x"], 512));
        assert!(difference(&a, &[&a], 512).is_empty());
        assert_eq!(members(&from_elems(b.iter(), 512)), ["2", "3", "9"]);
    }

    #[test]
    fn sampling_and_popping() {
        for s in [
            set_of(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], 512),
            set_of(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], 512),
        ] {
            for count in [1, 2, 5, 9] {
                let got = s.sample(count);
                assert_eq!(got.len(), count);
                let mut distinct = got.clone();
                distinct.sort_by_key(|e| format!("{e:?}"));
                distinct.dedup();
                assert_eq!(distinct.len(), count);
                assert!(got.iter().all(|e| s.contains_elem(*e)));
            }
            let mut t = s.clone();
            let mut popped = Vec::new();
            while !t.is_empty() {
                popped.push(t.pop_random());
            }
            assert_eq!(popped.len(), 10);
            assert!(popped.iter().all(|e| s.contains_elem(e.as_elem())));
        }
    }

    #[test]
    fn random_members_are_roughly_uniform() {
        let s = set_of(&["a", "b", "c", "d", "e", "f", "g", "h"], 512);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..16000 {
            *counts.entry(s.random()).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 8);
        assert!(
            counts.values().all(|&c| (1500..2500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn scan_covers_a_table_across_calls() {
        let mut s = SetValue::Table(OrdTable::new());
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, 10, |e| {
                seen.insert(format!("{e:?}"));
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        let ints = set_of(&["5", "1"], 512);
        let mut all = Vec::new();
        assert_eq!(ints.scan(123, 1, |e| all.push(e)), 0);
        assert_eq!(all, vec![Elem::Int(1), Elem::Int(5)]);
    }
}
