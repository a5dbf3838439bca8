//! Data structures and the sharded keyspace that holds them.

pub mod access;
pub mod keyspace;
pub mod listpack;
pub mod string;
pub mod table;
pub mod zset;

pub use keyspace::{DbSize, DbView, Entry, KeyEvent, Keyspace, Locked};
pub use string::StrValue;
pub use zset::ZSet;

/// A value stored under a key. Collection types join this enum as their modules land.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
    ZSet(Box<ZSet>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
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

#[cfg(test)]
mod tests {
    #[test]
    fn values_stay_small() {
        assert!(std::mem::size_of::<super::Value>() <= 32);
    }
}
