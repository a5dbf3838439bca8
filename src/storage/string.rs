//! The string value in 12 bytes, so a key's `Value` stays small: an integer when the text is a
//! canonical 64-bit integer (Redis's "int" encoding), short text inline, longer text behind a
//! thin pointer to exactly its bytes, and text changed in place (APPEND, SETRANGE, SETBIT: Redis
//! then calls it "raw") in a growable buffer.
//!
//! Layout: byte 11 says which form the other bytes hold.
//! - `0x80 | len` (len <= 11): the bytes inline in 0..len;
//! - `INT_TAG`: an i64 in 0..8 (little endian);
//! - `RAW_TAG`: a `Box<Vec<u8>>` pointer in 0..8;
//! - top bit clear: a `Box<[u8]>` pointer in 0..8 and its length (< 2^31) in 8..12.

use crate::util::num::parse_i64;

/// Longest string Redis stores as embstr.
const EMBSTR_MAX: usize = 44;
const INLINE_MAX: usize = 11;
const INLINE_TAG: u8 = 0x80;
const INT_TAG: u8 = 0xC0;
const RAW_TAG: u8 = 0xC1;

pub struct StrValue {
    raw: [u8; 12],
}

/// A string's contents: its integer, or its bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StrRef<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl StrValue {
    /// A value as SET stores it (tryObjectEncoding): integers become "int".
    pub fn from_bytes(b: &[u8]) -> StrValue {
        if b.len() <= 20
            && let Some(n) = parse_i64(b)
        {
            return StrValue::int(n);
        }
        StrValue::copied(b)
    }

    pub fn int(n: i64) -> StrValue {
        let mut raw = [0u8; 12];
        raw[..8].copy_from_slice(&n.to_le_bytes());
        raw[11] = INT_TAG;
        StrValue { raw }
    }

    /// Text kept as text (no integer detection), "embstr" while short.
    pub fn text(data: Vec<u8>) -> StrValue {
        if data.len() <= INLINE_MAX {
            StrValue::copied(&data)
        } else {
            StrValue::boxed(data.into_boxed_slice())
        }
    }

    /// Text in the growable form Redis calls "raw" (built or changed in place).
    pub fn raw(data: Vec<u8>) -> StrValue {
        let ptr = Box::into_raw(Box::new(data));
        let mut raw = [0u8; 12];
        raw[..8].copy_from_slice(&(ptr.expose_provenance() as u64).to_le_bytes());
        raw[11] = RAW_TAG;
        StrValue { raw }
    }

    fn copied(b: &[u8]) -> StrValue {
        if b.len() <= INLINE_MAX {
            let mut raw = [0u8; 12];
            raw[..b.len()].copy_from_slice(b);
            raw[11] = INLINE_TAG | b.len() as u8;
            StrValue { raw }
        } else {
            StrValue::boxed(b.into())
        }
    }

    fn boxed(data: Box<[u8]>) -> StrValue {
        if data.len() >= 1 << 31 {
            // Past what the 31-bit length holds: the growable form has a full length.
            return StrValue::raw(data.into_vec());
        }
        let len = data.len() as u32;
        let ptr = Box::into_raw(data) as *mut u8;
        let mut raw = [0u8; 12];
        raw[..8].copy_from_slice(&(ptr.expose_provenance() as u64).to_le_bytes());
        raw[8..].copy_from_slice(&len.to_le_bytes());
        StrValue { raw }
    }

    #[inline]
    fn tag(&self) -> u8 {
        self.raw[11]
    }

    #[inline]
    fn word(&self) -> u64 {
        u64::from_le_bytes(self.raw[..8].try_into().expect("8 bytes"))
    }

    #[inline]
    fn is_boxed(&self) -> bool {
        self.tag() & 0x80 == 0
    }

    #[inline]
    fn boxed_parts(&self) -> (*mut u8, usize) {
        let len = u32::from_le_bytes(self.raw[8..].try_into().expect("4 bytes")) as usize;
        (
            std::ptr::with_exposed_provenance_mut(self.word() as usize),
            len,
        )
    }

    #[inline]
    fn raw_vec(&self) -> *mut Vec<u8> {
        std::ptr::with_exposed_provenance_mut(self.word() as usize)
    }

    /// The integer or the bytes.
    #[inline]
    pub fn view(&self) -> StrRef<'_> {
        let tag = self.tag();
        if self.is_boxed() {
            let (ptr, len) = self.boxed_parts();
            // SAFETY: ptr/len come from a Box<[u8]> this value owns.
            StrRef::Bytes(unsafe { std::slice::from_raw_parts(ptr, len) })
        } else if tag == INT_TAG {
            StrRef::Int(self.word() as i64)
        } else if tag == RAW_TAG {
            // SAFETY: the pointer comes from a Box<Vec<u8>> this value owns.
            StrRef::Bytes(unsafe { &*self.raw_vec() })
        } else {
            StrRef::Bytes(&self.raw[..(tag & !INLINE_TAG) as usize])
        }
    }

    /// The value as bytes; integers are written into `scratch`.
    #[inline]
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> &'a [u8] {
        match self.view() {
            StrRef::Int(n) => scratch.format(n).as_bytes(),
            StrRef::Bytes(b) => b,
        }
    }

    /// The bytes of a value not held as an integer.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self.view() {
            StrRef::Int(_) => None,
            StrRef::Bytes(b) => Some(b),
        }
    }

    /// The integer of a value held as one ("int" encoding).
    pub fn int_encoded(&self) -> Option<i64> {
        match self.view() {
            StrRef::Int(n) => Some(n),
            StrRef::Bytes(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        match self.view() {
            StrRef::Int(n) => itoa::Buffer::new().format(n).len(),
            StrRef::Bytes(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes (MEMORY USAGE): integers and short text live in the entry itself.
    pub fn heap_bytes(&self) -> usize {
        if self.is_boxed() {
            self.boxed_parts().1
        } else if self.tag() == RAW_TAG {
            // SAFETY: see `view`.
            std::mem::size_of::<Vec<u8>>() + unsafe { &*self.raw_vec() }.capacity()
        } else {
            0
        }
    }

    /// For in-place modification: the bytes in the growable form, converting the value (which
    /// Redis then reports as "raw").
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if self.tag() != RAW_TAG {
            let data = match self.view() {
                StrRef::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
                StrRef::Bytes(b) => b.to_vec(),
            };
            *self = StrValue::raw(data);
        }
        // SAFETY: the value is in the growable form, whose Box<Vec<u8>> it owns uniquely.
        unsafe { &mut *self.raw_vec() }
    }

    /// The integer value if the string holds one (INCR and friends).
    pub fn as_int(&self) -> Option<i64> {
        match self.view() {
            StrRef::Int(n) => Some(n),
            StrRef::Bytes(b) if b.len() <= 20 => parse_i64(b),
            StrRef::Bytes(_) => None,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self.view() {
            StrRef::Int(_) => "int",
            StrRef::Bytes(b) if self.tag() != RAW_TAG && b.len() <= EMBSTR_MAX => "embstr",
            StrRef::Bytes(_) => "raw",
        }
    }
}

impl Drop for StrValue {
    fn drop(&mut self) {
        if self.is_boxed() {
            let (ptr, len) = self.boxed_parts();
            // SAFETY: rebuilds the Box<[u8]> `boxed` leaked, exactly once.
            unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len))) }
        } else if self.tag() == RAW_TAG {
            // SAFETY: rebuilds the Box<Vec<u8>> `raw` leaked, exactly once.
            unsafe { drop(Box::from_raw(self.raw_vec())) }
        }
    }
}

impl Clone for StrValue {
    fn clone(&self) -> StrValue {
        match self.view() {
            StrRef::Int(n) => StrValue::int(n),
            StrRef::Bytes(b) if self.tag() == RAW_TAG => StrValue::raw(b.to_vec()),
            StrRef::Bytes(b) => StrValue::copied(b),
        }
    }
}

/// Equal contents in the same encoding.
impl PartialEq for StrValue {
    fn eq(&self, other: &StrValue) -> bool {
        self.view() == other.view() && self.encoding() == other.encoding()
    }
}

impl std::fmt::Debug for StrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.view() {
            StrRef::Int(n) => write!(f, "Int({n})"),
            StrRef::Bytes(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
        }
    }
}

// SAFETY: a StrValue owns its heap data exclusively, like the Box and Vec it stands for.
unsafe impl Send for StrValue {}
unsafe impl Sync for StrValue {}

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
        assert_eq!(StrValue::text(b"7".to_vec()).encoding(), "embstr");
    }

    #[test]
    fn every_form_holds_its_bytes() {
        let long = vec![b'x'; 100_000];
        for b in [
            &b""[..],
            b"k",
            b"exactly11by",
            b"twelve bytes",
            b"-9223372036854775808",
            b"9223372036854775808",
            &[0u8, 255, 10][..],
            &long[..],
        ] {
            for v in [
                StrValue::from_bytes(b),
                StrValue::text(b.to_vec()),
                StrValue::raw(b.to_vec()),
            ] {
                let mut scratch = itoa::Buffer::new();
                assert_eq!(v.as_bytes(&mut scratch), b);
                assert_eq!(v.len(), b.len());
                let c = v.clone();
                assert_eq!(c, v);
                let mut m = c;
                m.make_raw().extend_from_slice(b"!");
                assert_eq!(m.as_bytes(&mut scratch), [b, b"!"].concat());
            }
        }
        assert_eq!(StrValue::from_bytes(b"-42").int_encoded(), Some(-42));
        assert_eq!(StrValue::from_bytes(b"twelve bytes").heap_bytes(), 12);
        assert_eq!(StrValue::from_bytes(b"short").heap_bytes(), 0);
        assert_eq!(std::mem::size_of::<StrValue>(), 12);
    }
}
