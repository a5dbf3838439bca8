//! The string value: an integer when the text is a canonical 64-bit integer (as Redis's "int"
//! encoding), otherwise bytes. `raw` tells "raw" from "embstr" for OBJECT ENCODING: Redis turns a
//! string raw once it is modified in place (APPEND, SETRANGE, SETBIT).

use crate::util::num::parse_i64;

/// Longest string Redis stores as embstr.
const EMBSTR_MAX: usize = 44;

#[derive(Clone, Debug, PartialEq)]
pub enum StrValue {
    Int(i64),
    Bytes { data: Vec<u8>, raw: bool },
}

impl StrValue {
    /// A value as SET stores it (tryObjectEncoding): integers become "int".
    pub fn from_bytes(b: &[u8]) -> StrValue {
        if b.len() <= 20
            && let Some(n) = parse_i64(b)
        {
            return StrValue::Int(n);
        }
        StrValue::Bytes {
            data: b.to_vec(),
            raw: false,
        }
    }

    /// The value as bytes; integers are written into `scratch`.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> &'a [u8] {
        match self {
            StrValue::Int(n) => scratch.format(*n).as_bytes(),
            StrValue::Bytes { data, .. } => data,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => itoa::Buffer::new().format(*n).len(),
            StrValue::Bytes { data, .. } => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes (MEMORY USAGE): integers live in the entry itself.
    pub fn heap_bytes(&self) -> usize {
        match self {
            StrValue::Int(_) => 0,
            StrValue::Bytes { data, .. } => data.capacity(),
        }
    }

    /// For in-place modification: the bytes, converting an integer and marking the value raw.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if let StrValue::Int(n) = *self {
            *self = StrValue::Bytes {
                data: itoa::Buffer::new().format(n).as_bytes().to_vec(),
                raw: true,
            };
        }
        match self {
            StrValue::Bytes { data, raw } => {
                *raw = true;
                data
            }
            StrValue::Int(_) => unreachable!("converted above"),
        }
    }

    /// The integer value if the string holds one (INCR and friends).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            StrValue::Int(n) => Some(*n),
            StrValue::Bytes { data, .. } => {
                if data.len() <= 20 {
                    parse_i64(data)
                } else {
                    None
                }
            }
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Bytes { data, raw } => {
                if !raw && data.len() <= EMBSTR_MAX {
                    "embstr"
                } else {
                    "raw"
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(StrValue::from_bytes(b"123").encoding(), "int");
        assert_eq!(StrValue::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let mut v = StrValue::from_bytes(b"12");
        v.make_raw().push(b'3');
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.as_int(), Some(123));
    }
}
