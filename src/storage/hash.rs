//! The hash value, encoded as Redis 7.0 does: a listpack of alternating fields and values (in
//! insertion order) while the hash has at most hash-max-listpack-entries fields and no field or
//! value longer than hash-max-listpack-value bytes, otherwise a hash table. Conversion only
//! ever goes from listpack to table.

use super::packed::{Form, FormMut, Packed};
use super::smallpack::{self, Offset, SmallPack};
use super::table::{Hashed, OrdTable, member_hash};
use super::{Either, EncodingLimits};

/// A field of the table encoding: the field's bytes followed by the value's, in one allocation.
#[derive(Clone)]
pub struct Field {
    hash: u64,
    data: Box<[u8]>,
    field_len: u32,
}

impl Hashed for Field {
    #[inline]
    fn hash(&self) -> u64 {
        self.hash
    }
}

impl Field {
    fn new(hash: u64, field: &[u8], value: &[u8]) -> Field {
        let mut data = Vec::with_capacity(field.len() + value.len());
        data.extend_from_slice(field);
        data.extend_from_slice(value);
        Field {
            hash,
            data: data.into_boxed_slice(),
            field_len: field.len() as u32,
        }
    }

    #[inline]
    fn field(&self) -> &[u8] {
        &self.data[..self.field_len as usize]
    }

    #[inline]
    fn value(&self) -> &[u8] {
        &self.data[self.field_len as usize..]
    }

    fn pair(&self) -> (&[u8], &[u8]) {
        self.data.split_at(self.field_len as usize)
    }
}

/// The compact pack or the table (only for big hashes), in one tagged word (`Packed`): inline
/// in the key's `Value`, a small hash costs its one compact allocation and nothing more.
#[derive(Clone)]
pub struct HashValue(Packed<OrdTable<Field>>);

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

/// Equal fields and values, whatever the encodings.
impl PartialEq for HashValue {
    fn eq(&self, other: &HashValue) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

/// Fields and values of a listpack, pairwise.
struct Pairs<'a>(smallpack::Iter<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some((self.0.next()?, self.0.next()?))
    }
}

/// Offsets of a field's entry and of its value's entry in a listpack.
fn lp_find<'a>(lp: &'a SmallPack, field: &[u8]) -> Option<(Offset, Offset, &'a [u8])> {
    let mut entries = lp.iter_offsets();
    while let (Some((off, f)), Some((value_off, v))) = (entries.next(), entries.next()) {
        if f == field {
            return Some((off, value_off, v));
        }
    }
    None
}

fn table_find(t: &OrdTable<Field>, field: &[u8]) -> Option<usize> {
    t.find(member_hash(field), |e| e.field() == field)
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::new()
    }
}

impl HashValue {
    /// Heap bytes (MEMORY USAGE), field and value bytes sampled for the table form.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self.0.form() {
            Form::Small(lp) => lp.allocated(),
            Form::Big(t) => {
                std::mem::size_of_val(t)
                    + t.allocated()
                    + super::sampled_total(t.len(), samples, t.iter().map(|f| f.data.len()))
            }
        }
    }

    pub fn new() -> HashValue {
        HashValue(Packed::small(SmallPack::new()))
    }

    pub fn len(&self) -> usize {
        match self.0.form() {
            Form::Small(lp) => lp.len() / 2,
            Form::Big(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The compact pack, while the hash is in its listpack encoding.
    pub fn small_pack(&self) -> Option<&SmallPack> {
        match self.0.form() {
            Form::Small(lp) => Some(lp),
            Form::Big(_) => None,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self.0.form() {
            Form::Small(_) => "listpack",
            Form::Big(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self.0.form() {
            Form::Small(lp) => lp_find(lp, field).map(|(_, _, v)| v),
            Form::Big(t) => table_find(t, field).map(|i| t.at(i).value()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self.0.form() {
            Form::Small(lp) => lp_find(lp, field).is_some(),
            Form::Big(t) => table_find(t, field).is_some(),
        }
    }

    /// Sets a field; true if it is new. Converts to a table when the field or value is longer
    /// than hash-max-listpack-value or the hash outgrows hash-max-listpack-entries.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        if let Form::Small(_) = self.0.form()
            && (field.len() > limits.hash_max_listpack_value
                || value.len() > limits.hash_max_listpack_value)
        {
            self.convert();
        }
        match self.0.form_mut() {
            FormMut::Small(lp) => {
                let created = match lp_find(lp, field) {
                    Some((_, value_off, _)) => {
                        lp.replace_at(value_off, value);
                        false
                    }
                    None => {
                        lp.push_back(&[field, value]);
                        true
                    }
                };
                // Checked on updates too (the limit may have been lowered since), as Redis.
                if lp.len() / 2 > limits.hash_max_listpack_entries {
                    self.convert();
                }
                created
            }
            FormMut::Big(t) => {
                let hash = member_hash(field);
                match t.find(hash, |e| e.field() == field) {
                    Some(i) => {
                        *t.at_mut(i) = Field::new(hash, field, value);
                        false
                    }
                    None => {
                        t.insert_new(Field::new(hash, field, value));
                        true
                    }
                }
            }
        }
    }

    fn convert(&mut self) {
        if let FormMut::Small(lp) = self.0.form_mut() {
            let mut t = OrdTable::new();
            for (f, v) in Pairs(lp.iter()) {
                t.insert_new(Field::new(member_hash(f), f, v));
            }
            *self = HashValue(Packed::big(Box::new(t)));
        }
    }

    /// Deletes a field; false if it was not there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.0.form_mut() {
            FormMut::Small(lp) => match lp_find(lp, field) {
                Some((off, _, _)) => {
                    lp.remove_range_at(off, 2);
                    true
                }
                None => false,
            },
            FormMut::Big(t) => match table_find(t, field) {
                Some(i) => {
                    t.remove_at(i);
                    true
                }
                None => false,
            },
        }
    }

    /// Fields with their values: insertion order for a listpack, table order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        match self.0.form() {
            Form::Small(lp) => Either::Left(Pairs(lp.iter())),
            Form::Big(t) => Either::Right(t.iter().map(Field::pair)),
        }
    }

    /// A field picked uniformly at random, with its value (the hash must not be empty).
    pub fn random(&self) -> (&[u8], &[u8]) {
        match self.0.form() {
            Form::Small(lp) => {
                let n = fastrand::usize(..lp.len() / 2);
                Pairs(lp.iter()).nth(n).expect("index below the length")
            }
            Form::Big(t) => t.at(t.random_index_uniform().expect("non-empty")).pair(),
        }
    }

    /// `count` distinct fields picked at random with their values, in random order
    /// (count < len).
    pub fn sample(&self, count: usize) -> Vec<(&[u8], &[u8])> {
        let t = match self.0.form() {
            Form::Big(t) if count * 3 <= t.len() => t,
            _ => {
                // A listpack (walked anyway) or a large share: shuffle all, keep a prefix.
                return super::shuffled_prefix(self.iter().collect(), count);
            }
        };
        super::distinct_picks(count, || t.random_index_uniform().expect("non-empty"))
            .map(|i| t.at(i).pair())
            .collect()
    }

    /// HSCAN: visits about `count` fields from `cursor` and returns the next cursor (0 at the
    /// end). A listpack is small by definition and is returned whole, as Redis does.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(&'a [u8], &'a [u8]),
    ) -> u64 {
        match self.0.form() {
            Form::Small(lp) => {
                Pairs(lp.iter()).for_each(|(f, v)| visit(f, v));
                0
            }
            Form::Big(t) => {
                let mut seen = 0;
                t.scan_from(cursor, |e| {
                    visit(e.field(), e.value());
                    seen += 1;
                    seen < count
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: usize, value: usize) -> EncodingLimits {
        EncodingLimits {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..EncodingLimits::default()
        }
    }

    #[test]
    fn one_pointer_with_a_niche() {
        assert_eq!(std::mem::size_of::<HashValue>(), 8);
        assert_eq!(
            std::mem::size_of::<Option<HashValue>>(),
            std::mem::size_of::<HashValue>()
        );
    }

    #[test]
    fn small_hash_is_one_exact_allocation() {
        // Ten 7-byte fields with 16-byte values: 10 * (1 + 7 + 1 + 16) bytes of entries and a
        // 3-byte header (jemalloc's 256-byte class).
        let mut h = HashValue::new();
        for f in 0..10 {
            h.set(
                format!("field:{f}").as_bytes(),
                &[b'v'; 16],
                &limits(128, 64),
            );
        }
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.heap_bytes(0), 253);
    }

    #[test]
    fn listpack_keeps_insertion_order_until_limits() {
        let l = limits(3, 5);
        let mut h = HashValue::new();
        assert!(h.set(b"b", b"1", &l));
        assert!(h.set(b"a", b"2", &l));
        assert!(!h.set(b"b", b"33", &l));
        assert_eq!(h.encoding(), "listpack");
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"b"[..], &b"33"[..]), (&b"a"[..], &b"2"[..])]);
        assert!(h.set(b"c", b"", &l));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"d", b"4", &l));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get(b"b"), Some(&b"33"[..]));
        assert_eq!(h.get(b"c"), Some(&b""[..]));
        assert!(h.remove(b"b") && !h.remove(b"b"));
        assert_eq!(h.len(), 3);

        let mut long = HashValue::new();
        long.set(b"f", b"12345", &l);
        assert_eq!(long.encoding(), "listpack");
        long.set(b"f", b"123456", &l);
        assert_eq!(long.encoding(), "hashtable");
        let mut long_field = HashValue::new();
        long_field.set(b"field6", b"1", &l);
        assert_eq!(long_field.encoding(), "hashtable");
        assert_eq!(long_field.get(b"field6"), Some(&b"1"[..]));

        let mut lowered = HashValue::new();
        lowered.set(b"a", b"1", &l);
        lowered.set(b"b", b"1", &l);
        assert!(!lowered.set(b"a", b"2", &limits(1, 5)));
        assert_eq!(lowered.encoding(), "hashtable");
    }

    #[test]
    fn equal_across_encodings() {
        let mut a = HashValue::new();
        let mut b = HashValue::new();
        for i in 0..10 {
            let (f, v) = (format!("f{i}"), format!("v{i}"));
            a.set(f.as_bytes(), v.as_bytes(), &limits(128, 64));
            b.set(f.as_bytes(), v.as_bytes(), &limits(2, 64));
        }
        assert_eq!((a.encoding(), b.encoding()), ("listpack", "hashtable"));
        assert_eq!(a, b);
        b.remove(b"f3");
        assert_ne!(a, b);
        assert!(a.remove(b"f0") && a.remove(b"f9") && !a.contains(b"f0"));
        assert_eq!(a.iter().next(), Some((&b"f1"[..], &b"v1"[..])));
    }

    #[test]
    fn sampling_is_distinct_and_roughly_uniform() {
        for max in [128, 2] {
            let mut h = HashValue::new();
            for i in 0..8 {
                h.set(format!("f{i}").as_bytes(), b"v", &limits(max, 64));
            }
            for count in [1, 2, 7] {
                let s = h.sample(count);
                let mut fields: Vec<_> = s.iter().map(|p| p.0).collect();
                fields.sort();
                fields.dedup();
                assert_eq!(fields.len(), count);
            }
            let mut counts = std::collections::HashMap::new();
            for _ in 0..16000 {
                *counts.entry(h.random().0).or_insert(0) += 1;
            }
            assert!(
                counts.values().all(|&c| (1500..2500).contains(&c)),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn scan_walks_a_table_and_returns_a_listpack_whole() {
        let mut h = HashValue::new();
        for i in 0..500 {
            h.set(format!("f{i}").as_bytes(), b"v", &limits(128, 64));
        }
        assert_eq!(h.encoding(), "hashtable");
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = h.scan(cursor, 7, |f, _| {
                seen.insert(f.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 500);
        let mut small = HashValue::new();
        small.set(b"a", b"1", &limits(128, 64));
        let mut n = 0;
        assert_eq!(small.scan(99, 1, |_, _| n += 1), 0);
        assert_eq!(n, 1);
    }
}
