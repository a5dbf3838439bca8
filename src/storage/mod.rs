//! Data structures and the sharded keyspace that holds them.

pub mod access;
pub mod hll;
pub mod keyspace;
pub mod listpack;
pub mod string;
pub mod table;

pub use keyspace::{DbSize, DbView, Entry, KeyEvent, Keyspace, Locked};
pub use string::StrValue;

/// A value stored under a key. Collection types join this enum as their modules land.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
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
