//! `KeyBytes`: a key's bytes in 12 bytes, so a keyspace `Entry` fits in 64. Keys of up to 11
//! bytes (most real keys: "user:1234", "bull:q:id") are stored inline with no allocation;
//! longer ones sit behind a thin pointer with a 31-bit length. A `Box<[u8]>` would take 16 bytes
//! plus an allocation for every key.
//!
//! Layout (little endian): inline, bytes 0..11 hold the key and byte 11 is 0x80 | length; on the
//! heap, bytes 0..8 hold the pointer and bytes 8..12 the length, whose top bit is clear.

const INLINE_MAX: usize = 11;
const INLINE_TAG: u8 = 0x80;

#[repr(C, packed)]
pub struct KeyBytes {
    raw: [u8; 12],
}

impl KeyBytes {
    /// Copies `bytes`. Keys are bounded by proto-max-bulk-len; one of 2 GiB or more cannot be
    /// stored.
    pub fn new(bytes: &[u8]) -> KeyBytes {
        let mut raw = [0u8; 12];
        if bytes.len() <= INLINE_MAX {
            raw[..bytes.len()].copy_from_slice(bytes);
            raw[11] = INLINE_TAG | bytes.len() as u8;
        } else {
            let len = u32::try_from(bytes.len())
                .ok()
                .filter(|l| l & 0x8000_0000 == 0)
                .expect("key of 2 GiB or more");
            let boxed: Box<[u8]> = bytes.into();
            let ptr = Box::into_raw(boxed) as *mut u8;
            raw[..8].copy_from_slice(&(ptr.expose_provenance() as u64).to_le_bytes());
            raw[8..].copy_from_slice(&len.to_le_bytes());
        }
        KeyBytes { raw }
    }

    /// Heap bytes of a key too long to be kept inline.
    pub fn heap_bytes(&self) -> usize {
        if self.is_inline() {
            0
        } else {
            self.heap_parts().1
        }
    }

    #[inline]
    fn is_inline(&self) -> bool {
        self.raw[11] & INLINE_TAG != 0
    }

    /// (pointer, length) of a heap key.
    #[inline]
    fn heap_parts(&self) -> (*mut u8, usize) {
        let addr = u64::from_le_bytes(self.raw[..8].try_into().expect("8 bytes")) as usize;
        let len = u32::from_le_bytes(self.raw[8..].try_into().expect("4 bytes")) as usize;
        (std::ptr::with_exposed_provenance_mut(addr), len)
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        if self.is_inline() {
            let len = (self.raw[11] & !INLINE_TAG) as usize;
            &self.raw[..len]
        } else {
            let (ptr, len) = self.heap_parts();
            // SAFETY: ptr/len come from a Box<[u8]> this value owns.
            unsafe { std::slice::from_raw_parts(ptr, len) }
        }
    }
}

impl std::ops::Deref for KeyBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        if !self.is_inline() {
            let (ptr, len) = self.heap_parts();
            // SAFETY: rebuilds the Box<[u8]> `new` leaked, exactly once.
            unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len))) }
        }
    }
}

impl Clone for KeyBytes {
    fn clone(&self) -> KeyBytes {
        KeyBytes::new(self)
    }
}

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
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
            b"exactly11by",
            b"twelve bytes",
            &[0xff; 11][..],
            &long[..],
        ] {
            let key = KeyBytes::new(k);
            assert_eq!(&*key, k);
            assert_eq!(&*key.clone(), k);
        }
        assert!(KeyBytes::new(b"exactly11by").is_inline());
        assert!(!KeyBytes::new(b"twelve bytes").is_inline());
        assert_eq!(std::mem::size_of::<KeyBytes>(), 12);
    }
}
