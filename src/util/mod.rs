//! Pure helper routines shared by command handlers: glob matching, Redis
//! number parsing/formatting, bitmap operations, LCS, DEBUG DIGEST, geohash maths
//! and partial sorting.

pub mod bitmap;
pub mod digest;
pub mod geo;
pub mod glob;
pub mod lcs;
pub mod num;
pub mod pqsort;

/// Redis's sdscatrepr: bytes quoted for humans (MONITOR lines, config text from argv).
pub fn repr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// C's strerror text of an I/O error ("No such file or directory"), without Rust's
/// " (os error N)" suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
