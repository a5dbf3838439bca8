//! `KeyBytes`: a key's bytes in 16 bytes plus a one-byte `KeyTag` that the keyspace `Entry`
//! keeps in its metadata word. Keys of up to 16 bytes (most real keys: "user:1234",
//! "bull:q:42:lock") are stored inline with no allocation; longer ones sit behind a thin
//! pointer. A `Box<[u8]>` would take 16 bytes plus an allocation for every key.
//!
//! The tag is `INLINE | len` for an inline key (bytes 0..len) and 0 for a heap key (bytes 0..8
//! the pointer, 8..16 the length). Because the tag lives outside, the owner frees the key
//! (`KeyBytes::free`) rather than a `Drop` impl.

pub const INLINE_MAX: usize = 16;
const INLINE: u8 = 0x20;

/// How to read a `KeyBytes` (5 bits used, so it packs beside other flags).
pub type KeyTag = u8;

pub struct KeyBytes {
    raw: [u8; 16],
}

impl KeyBytes {
    /// Copies `bytes`; returns the key and the tag to read it back with.
    pub fn new(bytes: &[u8]) -> (KeyBytes, KeyTag) {
        let mut raw = [0u8; 16];
        if bytes.len() <= INLINE_MAX {
            raw[..bytes.len()].copy_from_slice(bytes);
            return (KeyBytes { raw }, INLINE | bytes.len() as u8);
        }
        let boxed: Box<[u8]> = bytes.into();
        let ptr = Box::into_raw(boxed) as *mut u8;
        raw[..8].copy_from_slice(&(ptr.expose_provenance() as u64).to_le_bytes());
        raw[8..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        (KeyBytes { raw }, 0)
    }

    /// (pointer, length) of a heap key.
    #[inline]
    fn heap_parts(&self) -> (*mut u8, usize) {
        let addr = u64::from_le_bytes(self.raw[..8].try_into().expect("8 bytes")) as usize;
        let len = u64::from_le_bytes(self.raw[8..].try_into().expect("8 bytes")) as usize;
        (std::ptr::with_exposed_provenance_mut(addr), len)
    }

    #[inline]
    pub fn as_slice(&self, tag: KeyTag) -> &[u8] {
        if tag & INLINE != 0 {
            &self.raw[..(tag & !INLINE) as usize]
        } else {
            let (ptr, len) = self.heap_parts();
            // SAFETY: ptr/len come from a Box<[u8]> this value owns.
            unsafe { std::slice::from_raw_parts(ptr, len) }
        }
    }

    /// Heap bytes of a key too long to be kept inline.
    pub fn heap_bytes(&self, tag: KeyTag) -> usize {
        if tag & INLINE != 0 {
            0
        } else {
            self.heap_parts().1
        }
    }

    /// Frees a heap key; the value must not be read afterwards.
    pub fn free(&mut self, tag: KeyTag) {
        if tag & INLINE == 0 {
            let (ptr, len) = self.heap_parts();
            // SAFETY: rebuilds the Box<[u8]> `new` leaked; callers free each key once.
            unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len))) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_any_bytes_inline_or_not() {
        let long = vec![b'x'; 100_000];
        for k in [
            &b""[..],
            b"k",
            &[0u8, 255, 10][..],
            b"exactly sixteen!",
            b"seventeen bytes!!",
            &[0xff; 16][..],
            &long[..],
        ] {
            let (mut key, tag) = KeyBytes::new(k);
            assert_eq!(key.as_slice(tag), k);
            assert_eq!(key.heap_bytes(tag) > 0, k.len() > INLINE_MAX);
            key.free(tag);
        }
        assert_eq!(std::mem::size_of::<KeyBytes>(), 16);
    }
}
