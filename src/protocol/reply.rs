//! Reply encoding straight into the connection's write buffer, in RESP2 or RESP3.
//! Handlers describe the reply's shape (map, set, double, null); this module picks the
//! wire form the client negotiated with HELLO.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespVersion {
    Resp2,
    Resp3,
}

/// The write buffer of one connection plus the protocol it speaks.
pub struct Reply {
    pub out: Vec<u8>,
    pub resp: RespVersion,
    /// Errors written so far; the dispatcher compares it around a command for error stats.
    pub errors: u64,
    /// Offset in `out` of the last error written, so its code can be counted.
    pub last_error_at: usize,
}

impl Reply {
    pub fn new() -> Reply {
        Reply {
            out: Vec::with_capacity(16 * 1024),
            resp: RespVersion::Resp2,
            errors: 0,
            last_error_at: 0,
        }
    }

    pub fn is_resp3(&self) -> bool {
        self.resp == RespVersion::Resp3
    }

    fn header(&mut self, prefix: u8, n: i64) {
        self.out.push(prefix);
        let mut b = itoa::Buffer::new();
        self.out.extend_from_slice(b.format(n).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply. The text must not contain CR or LF.
    pub fn simple(&mut self, s: &[u8]) {
        self.out.push(b'+');
        self.out.extend_from_slice(s);
        self.out.extend_from_slice(b"\r\n");
    }

    /// An error reply; `msg` is the whole text including its code, e.g. "ERR syntax error".
    /// Newlines are replaced by spaces so the reply can never break the protocol, as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.errors += 1;
        self.last_error_at = self.out.len();
        self.out.push(b'-');
        self.out.extend(
            msg.bytes()
                .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, v: i64) {
        self.header(b':', v);
    }

    pub fn bulk(&mut self, s: &[u8]) {
        self.header(b'$', s.len() as i64);
        self.out.extend_from_slice(s);
        self.out.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (list elements, set members), framed on the stack and
    /// copied once: it is at most 20 characters, so its length is one or two digits.
    pub fn bulk_int(&mut self, v: i64) {
        let mut b = itoa::Buffer::new();
        let digits = b.format(v).as_bytes();
        let n = digits.len();
        let mut frame = [0u8; 27];
        frame[0] = b'$';
        let mut at = 1;
        if n >= 10 {
            frame[at] = b'0' + (n / 10) as u8;
            at += 1;
        }
        frame[at] = b'0' + (n % 10) as u8;
        frame[at + 1..at + 3].copy_from_slice(b"\r\n");
        at += 3;
        frame[at..at + n].copy_from_slice(digits);
        frame[at + n..at + n + 2].copy_from_slice(b"\r\n");
        self.out.extend_from_slice(&frame[..at + n + 2]);
    }

    pub fn bulk_or_null(&mut self, s: Option<&[u8]>) {
        match s {
            Some(s) => self.bulk(s),
            None => self.null(),
        }
    }

    /// The null of a missing bulk string.
    pub fn null(&mut self) {
        match self.resp {
            RespVersion::Resp2 => self.out.extend_from_slice(b"$-1\r\n"),
            RespVersion::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    /// The null of a missing array (e.g. a timed-out blocking pop).
    pub fn null_array(&mut self) {
        match self.resp {
            RespVersion::Resp2 => self.out.extend_from_slice(b"*-1\r\n"),
            RespVersion::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: a flat array of 2n items in RESP2.
    pub fn map(&mut self, n: usize) {
        match self.resp {
            RespVersion::Resp2 => self.header(b'*', 2 * n as i64),
            RespVersion::Resp3 => self.header(b'%', n as i64),
        }
    }

    pub fn set(&mut self, n: usize) {
        match self.resp {
            RespVersion::Resp2 => self.header(b'*', n as i64),
            RespVersion::Resp3 => self.header(b'~', n as i64),
        }
    }

    /// An out-of-band push message (pub/sub, invalidation); an array in RESP2.
    pub fn push(&mut self, n: usize) {
        match self.resp {
            RespVersion::Resp2 => self.header(b'*', n as i64),
            RespVersion::Resp3 => self.header(b'>', n as i64),
        }
    }

    pub fn bool(&mut self, v: bool) {
        match self.resp {
            RespVersion::Resp2 => self.int(v as i64),
            RespVersion::Resp3 => self
                .out
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A double: a bulk string in RESP2, a ',' double in RESP3, formatted as Redis does.
    pub fn double(&mut self, v: f64) {
        let mut text = Vec::with_capacity(24);
        crate::util::num::fmt_double_resp(v, &mut text);
        self.double_text(&text);
    }

    /// A double already written out (GEOPOS's long-double text): a bulk string in RESP2, a ','
    /// double in RESP3.
    pub fn double_text(&mut self, text: &[u8]) {
        match self.resp {
            RespVersion::Resp2 => self.bulk(text),
            RespVersion::Resp3 => {
                self.out.push(b',');
                self.out.extend_from_slice(text);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Verbatim text (INFO, CLIENT INFO...): `=len\r\ntxt:...` in RESP3, a bulk string in RESP2.
    pub fn verbatim(&mut self, s: &[u8]) {
        match self.resp {
            RespVersion::Resp2 => self.bulk(s),
            RespVersion::Resp3 => {
                self.header(b'=', s.len() as i64 + 4);
                self.out.extend_from_slice(b"txt:");
                self.out.extend_from_slice(s);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number: `(` in RESP3, a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.resp {
            RespVersion::Resp2 => self.bulk(digits),
            RespVersion::Resp3 => {
                self.out.push(b'(');
                self.out.extend_from_slice(digits);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// An attribute map of `n` pairs preceding a reply; RESP2 clients do not see attributes,
    /// so the caller must skip writing the pairs there (`is_resp3`).
    pub fn attribute(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'|', n as i64);
        }
    }

    /// The error code (first word) of the last error written, for error statistics.
    pub fn last_error_code(&self) -> &[u8] {
        let text = &self.out[self.last_error_at + 1..];
        let end = text
            .iter()
            .position(|&c| c == b' ' || c == b'\r')
            .unwrap_or(text.len());
        &text[..end]
    }
}

impl Default for Reply {
    fn default() -> Self {
        Reply::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_per_protocol() {
        let mut r = Reply::new();
        r.map(2);
        r.null();
        r.bool(true);
        assert_eq!(r.out, b"*4\r\n$-1\r\n:1\r\n");
        let mut r = Reply::new();
        r.resp = RespVersion::Resp3;
        r.map(2);
        r.null();
        r.bool(true);
        assert_eq!(r.out, b"%2\r\n_\r\n#t\r\n");
    }

    #[test]
    fn integers_frame_like_bulk_strings() {
        for v in [0, 7, -7, 123456789, 1234567890, i64::MAX, i64::MIN] {
            let (mut a, mut b) = (Reply::new(), Reply::new());
            a.bulk_int(v);
            b.bulk(v.to_string().as_bytes());
            assert_eq!(a.out, b.out, "{v}");
        }
    }

    #[test]
    fn errors_get_a_code_and_no_newlines() {
        let mut r = Reply::new();
        r.error("ERR syntax error\nx");
        assert_eq!(r.out, b"-ERR syntax error x\r\n");
        assert_eq!(r.last_error_code(), b"ERR");
        r.error("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(r.last_error_code(), b"WRONGTYPE");
        assert_eq!(r.errors, 2);
    }
}
