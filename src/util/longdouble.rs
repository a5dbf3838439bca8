//! INCRBYFLOAT's arithmetic, done in C long double by csrc/longdouble.c exactly as Redis does.

use std::ffi::c_char;

unsafe extern "C" {
    fn ferrodis_ld_incr(
        cur: *const c_char,
        cur_len: usize,
        incr: *const c_char,
        incr_len: usize,
        out: *mut c_char,
        out_len: usize,
    ) -> std::ffi::c_long;
}

#[derive(Debug, PartialEq, Eq)]
pub enum IncrFloatError {
    /// The stored value or the increment is not a valid float.
    NotAFloat,
    /// The result would be NaN or infinite.
    NotFinite,
}

/// `current` (None for a missing key) plus `incr`, formatted as Redis stores the result.
pub fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    // MAX_LONG_DOUBLE_CHARS in Redis.
    let mut out = vec![0u8; 5 * 1024];
    let (cur_ptr, cur_len) = match current {
        Some(c) => (c.as_ptr() as *const c_char, c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer is valid for the length passed with it; the C side writes at most
    // out.len() bytes and reads at most the given lengths.
    let n = unsafe {
        ferrodis_ld_incr(
            cur_ptr,
            cur_len,
            incr.as_ptr() as *const c_char,
            incr.len(),
            out.as_mut_ptr() as *mut c_char,
            out.len(),
        )
    };
    match n {
        -1 | -2 | -4 => Err(IncrFloatError::NotAFloat),
        -3 => Err(IncrFloatError::NotFinite),
        n => {
            out.truncate(n as usize);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(cur: Option<&str>, by: &str) -> Result<String, IncrFloatError> {
        incr_by_float(cur.map(str::as_bytes), by.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn matches_redis_long_double_output() {
        // Expected values are redis-server 7.0's replies on x86_64.
        assert_eq!(incr(Some("10.50"), "0.1").unwrap(), "10.6");
        assert_eq!(incr(Some("5000.6"), "5.0e3").unwrap(), "10000.59999999999999964");
        assert_eq!(incr(None, "5.0e3").unwrap(), "5000");
        assert_eq!(incr(Some("0.60000000000000009"), "5.0e3").unwrap(), "5000.60000000000000009");
        assert_eq!(incr(None, "1.23456789012345678").unwrap(), "1.23456789012345678");
        assert_eq!(incr(Some("1"), "-1").unwrap(), "0");
        assert_eq!(incr(None, "0x10").unwrap(), "16");
        assert!(incr(None, "1e400").unwrap().starts_with("100000000000000000002818806839"));
    }

    #[test]
    fn errors() {
        assert_eq!(incr(None, "nan"), Err(IncrFloatError::NotAFloat));
        assert_eq!(incr(None, " 1"), Err(IncrFloatError::NotAFloat));
        assert_eq!(incr(Some("abc"), "1"), Err(IncrFloatError::NotAFloat));
        assert_eq!(incr(None, "inf"), Err(IncrFloatError::NotFinite));
        assert_eq!(incr(None, ""), Err(IncrFloatError::NotAFloat));
    }
}
