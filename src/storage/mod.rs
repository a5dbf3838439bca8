//! Data structures and the sharded keyspace that holds them.

pub mod access;
pub mod hash;
pub mod intset;
pub mod keyspace;
pub mod listpack;
pub mod set;
pub mod string;
pub mod table;

pub use hash::HashValue;
pub use keyspace::{DbSize, DbView, Entry, KeyEvent, Keyspace, Locked};
pub use set::SetValue;
pub use string::StrValue;

/// A value stored under a key. Collection types join this enum as their modules land.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
    Hash(Box<HashValue>),
    Set(Box<SetValue>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
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
    #[test]
    fn value_stays_small() {
        assert!(std::mem::size_of::<super::Value>() <= 32);
    }
}
