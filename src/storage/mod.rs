//! Data structures and the sharded keyspace that holds them.

pub mod access;
pub mod hash;
pub mod hll;
pub mod intpack;
pub mod intset;
pub mod key;
pub mod keyspace;
pub mod list;
pub mod listpack;
pub mod packed;
pub mod set;
pub mod smallpack;
pub mod stream;
pub mod string;
pub mod table;
pub mod zset;

pub use hash::HashValue;
pub use keyspace::{DbSize, DbView, Entry, KeyEvent, Keyspace, Locked};
pub use list::List;
pub use set::SetValue;
pub use stream::Stream;
pub use string::{StrRef, StrValue};
pub use zset::ZSet;

/// A value stored under a key. Collection types join this enum as their modules land.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
    List(Box<List>),
    Hash(HashValue),
    Set(Box<SetValue>),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            // Redis 7.0 reports every list as a quicklist (of listpack nodes).
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }
}

/// When collections switch from their compact encoding to the full structure (the
/// `*-max-listpack-*` and `set-max-intset-entries` configs), read once per command.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncodingLimits {
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub hll_sparse_max_bytes: usize,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: u64,
}

impl Value {
    /// Roughly what the value takes in an RDB file (DEBUG OBJECT's serializedlength).
    pub fn serialized_len_estimate(&self) -> usize {
        match self {
            Value::Str(s) => s.len() + 1,
            Value::List(l) => {
                let mut scratch = itoa::Buffer::new();
                1 + l
                    .iter()
                    .map(|e| e.bytes(&mut scratch).len() + 1)
                    .sum::<usize>()
            }
            Value::Hash(h) => 1 + h.iter().map(|(f, v)| f.len() + v.len() + 2).sum::<usize>(),
            Value::Set(s) => 1 + s.len() * 8,
            Value::ZSet(z) => z.serialized_len_estimate(),
            Value::Stream(s) => 1 + s.allocated(),
        }
    }

    /// `commands::Extract` for lists.
    pub fn as_list(&mut self) -> Option<&mut List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// `commands::Extract` for hashes.
    pub fn as_hash(&mut self) -> Option<&mut HashValue> {
        match self {
            Value::Hash(h) => Some(h),
            _ => None,
        }
    }

    /// `commands::Extract` for sets.
    pub fn as_set(&mut self) -> Option<&mut SetValue> {
        match self {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }

    /// `commands::Extract` for sorted sets.
    pub fn as_zset(&mut self) -> Option<&mut ZSet> {
        match self {
            Value::ZSet(z) => Some(z),
            _ => None,
        }
    }

    /// `commands::Extract` for streams.
    pub fn as_stream(&mut self) -> Option<&mut Stream> {
        match self {
            Value::Stream(s) => Some(s),
            _ => None,
        }
    }
}

/// The total of `len` elements' sizes estimated from the first `samples` of them (0: all), as
/// MEMORY USAGE samples nested values.
pub(crate) fn sampled_total(
    len: usize,
    samples: usize,
    sizes: impl Iterator<Item = usize>,
) -> usize {
    let take = if samples == 0 { len } else { samples.min(len) };
    if take == 0 {
        return 0;
    }
    let seen: usize = sizes.take(take).sum();
    seen * len / take
}

/// `count` elements of `all` chosen at random, in random order (a partial Fisher-Yates shuffle).
pub fn shuffled_prefix<T>(mut all: Vec<T>, count: usize) -> Vec<T> {
    for i in 0..count {
        let j = fastrand::usize(i..all.len());
        all.swap(i, j);
    }
    all.truncate(count);
    all
}

/// `count` distinct positions drawn with `pick` (retrying repeats), in the order drawn: for a
/// count small against the collection, so few draws repeat.
pub fn distinct_picks(
    count: usize,
    mut pick: impl FnMut() -> usize,
) -> impl Iterator<Item = usize> {
    let mut picked = std::collections::HashSet::with_capacity(count);
    std::iter::from_fn(move || {
        (picked.len() < count).then(|| {
            loop {
                let p = pick();
                if picked.insert(p) {
                    break p;
                }
            }
        })
    })
}

/// One of two iterators (collections iterate their compact or their table encoding).
pub(crate) enum Either<L, R> {
    Left(L),
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(l) => l.next(),
            Either::Right(r) => r.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_small() {
        // Every key's entry holds a Value inline: a 12-byte string or one pointer, and a tag.
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }
}
