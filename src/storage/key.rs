//! `KeyBytes`: a key's bytes behind a thin pointer with a 32-bit length. A `Box<[u8]>` takes 16
//! bytes; this takes 12 and packs next to the entry's 4-byte access clock, which brings a
//! keyspace `Entry` down to 64 bytes (one cache line, and less memory per key).

use std::ptr::NonNull;

#[repr(C, packed)]
pub struct KeyBytes {
    ptr: NonNull<u8>,
    len: u32,
}

// SAFETY: KeyBytes owns its heap buffer exclusively, like a Box<[u8]>.
unsafe impl Send for KeyBytes {}
unsafe impl Sync for KeyBytes {}

impl KeyBytes {
    /// Copies `bytes`. Keys are bounded by proto-max-bulk-len; one of 4 GiB or more cannot be
    /// stored.
    pub fn new(bytes: &[u8]) -> KeyBytes {
        let len = u32::try_from(bytes.len()).expect("key of 4 GiB or more");
        let boxed: Box<[u8]> = bytes.into();
        let ptr = NonNull::new(Box::into_raw(boxed) as *mut u8).expect("Box is never null");
        KeyBytes { ptr, len }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        let (ptr, len) = (self.ptr, self.len);
        // SAFETY: ptr/len come from a Box<[u8]> this value owns.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len as usize) }
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
        let (ptr, len) = (self.ptr, self.len);
        // SAFETY: rebuilds the Box<[u8]> `new` leaked, exactly once.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                ptr.as_ptr(),
                len as usize,
            )));
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
    fn holds_any_bytes() {
        for k in [
            &b""[..],
            b"k",
            &[0u8, 255, 10][..],
            &vec![b'x'; 100_000][..],
        ] {
            let key = KeyBytes::new(k);
            assert_eq!(&*key, k);
            assert_eq!(&*key.clone(), k);
        }
        assert_eq!(std::mem::size_of::<KeyBytes>(), 12);
    }
}
