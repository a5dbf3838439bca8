//! Data structures and the sharded keyspace that holds them.

pub mod access;
pub mod keyspace;
pub mod string;
pub mod table;

pub use keyspace::{DbSize, DbView, Entry, Keyspace, Locked};
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
