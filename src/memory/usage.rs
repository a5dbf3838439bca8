//! MEMORY USAGE: the bytes a key and its value take. Compact encodings are measured exactly;
//! for hash tables and skiplists the structure is exact and the elements' own bytes are
//! extrapolated from `samples` of them (0: all), as Redis's objectComputeSize does.

use crate::storage::{Entry, Value};

/// Bytes of a key's entry: its table slot, a name too long to be inline, and the value.
pub fn entry_bytes(e: &Entry, samples: usize) -> usize {
    std::mem::size_of::<Entry>() + e.key_heap_bytes() + value_bytes(&e.value, samples)
}

/// Heap bytes of a value, beyond the entry that holds it.
pub fn value_bytes(v: &Value, samples: usize) -> usize {
    match v {
        Value::Str(s) => s.heap_bytes(),
        Value::List(l) => std::mem::size_of_val(&**l) + l.allocated(),
        Value::Hash(h) => h.heap_bytes(samples),
        Value::Set(s) => std::mem::size_of_val(&**s) + s.heap_bytes(samples),
        Value::ZSet(z) => z.heap_bytes(samples),
        Value::Stream(s) => std::mem::size_of_val(&**s) + s.allocated(),
    }
}
