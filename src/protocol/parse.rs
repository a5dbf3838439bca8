//! Request parsing: RESP multibulk and inline commands, straight out of the connection's read
//! buffer. Arguments are recorded as ranges so a command is executed without copying them.

use std::ops::Range;

/// Redis refuses multibulk headers above INT_MAX arguments.
const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// Before authentication Redis accepts only small requests, so a stranger cannot make it allocate.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16384;
/// An inline request or a header line longer than this is a protocol error (PROTO_INLINE_MAX_SIZE).
const MAX_INLINE_LEN: usize = 64 * 1024;
/// Bulk arguments at least this large get their whole buffer reserved up front (PROTO_MBULK_BIG_ARG).
const BIG_ARG: usize = 32 * 1024;

/// A malformed request; the text is what Redis answers before closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

fn perr(msg: &str) -> ParseError {
    ParseError(msg.to_string())
}

/// The outcome of looking at the read buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request occupying this many bytes; its arguments are in the parser's ranges.
    Request(usize),
    /// Not enough bytes yet; at least this many more bytes are needed to progress (hint).
    Incomplete(usize),
    /// A line of only whitespace (inline) or an empty multibulk: skip this many bytes.
    Empty(usize),
}

/// Parses one request at a time and keeps the argument ranges of the last one.
#[derive(Default)]
pub struct RequestParser {
    ranges: Vec<Range<usize>>,
    /// Inline arguments may need unescaping, so they are copied here.
    inline: Vec<u8>,
    inline_used: bool,
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\r') {
        let at = i + p;
        if at + 1 >= buf.len() {
            return None;
        }
        if buf[at + 1] == b'\n' {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Parses the decimal number of a header line the way Redis's string2ll does.
fn parse_header_int(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let (neg, digits) = match bytes[0] {
        b'-' => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

impl RequestParser {
    /// Looks for one complete request at the start of `buf`. `max_bulk` is proto-max-bulk-len.
    /// `authenticated` is false while a password is required and not yet given.
    pub fn parse(
        &mut self,
        buf: &[u8],
        max_bulk: u64,
        authenticated: bool,
    ) -> Result<Parsed, ParseError> {
        self.ranges.clear();
        self.inline_used = false;
        if buf.is_empty() {
            return Ok(Parsed::Incomplete(1));
        }
        if buf[0] == b'*' {
            self.parse_multibulk(buf, max_bulk, authenticated)
        } else {
            self.parse_inline(buf)
        }
    }

    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        max_bulk: u64,
        authenticated: bool,
    ) -> Result<Parsed, ParseError> {
        let Some(eol) = find_crlf(buf, 1) else {
            if buf.len() > MAX_INLINE_LEN {
                return Err(perr("too big mbulk count string"));
            }
            return Ok(Parsed::Incomplete(1));
        };
        let count = match parse_header_int(&buf[1..eol]) {
            Some(n) if n <= MAX_MULTIBULK_LEN => n,
            _ => return Err(perr("invalid multibulk length")),
        };
        if count > UNAUTH_MAX_MULTIBULK && !authenticated {
            return Err(perr("unauthenticated multibulk length"));
        }
        let mut pos = eol + 2;
        if count <= 0 {
            return Ok(Parsed::Empty(pos));
        }
        for _ in 0..count {
            if pos >= buf.len() {
                return Ok(Parsed::Incomplete(1));
            }
            if buf[pos] != b'$' {
                return Err(ParseError(format!(
                    "expected '$', got '{}'",
                    buf[pos] as char
                )));
            }
            let Some(eol) = find_crlf(buf, pos + 1) else {
                if buf.len() - pos > MAX_INLINE_LEN {
                    return Err(perr("too big bulk count string"));
                }
                return Ok(Parsed::Incomplete(1));
            };
            let len = match parse_header_int(&buf[pos + 1..eol]) {
                Some(n) if n >= 0 && (n as u64) <= max_bulk => n,
                _ => return Err(perr("invalid bulk length")),
            };
            if len > UNAUTH_MAX_BULK && !authenticated {
                return Err(perr("unauthenticated bulk length"));
            }
            let len = len as usize;
            let start = eol + 2;
            let end = start + len;
            if end + 2 > buf.len() {
                let missing = end + 2 - buf.len();
                return Ok(Parsed::Incomplete(if len >= BIG_ARG { missing } else { 1 }));
            }
            // Like Redis, the two bytes after a bulk are skipped without checking for CRLF.
            self.ranges.push(start..end);
            pos = end + 2;
        }
        Ok(Parsed::Request(pos))
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<Parsed, ParseError> {
        let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
            if buf.len() > MAX_INLINE_LEN {
                return Err(perr("too big inline request"));
            }
            return Ok(Parsed::Incomplete(1));
        };
        let consumed = nl + 1;
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        self.inline.clear();
        let mut bounds: Vec<Range<usize>> = Vec::new();
        if !split_args(line, &mut self.inline, &mut bounds) {
            return Err(perr("unbalanced quotes in request"));
        }
        if bounds.is_empty() {
            return Ok(Parsed::Empty(consumed));
        }
        self.ranges = bounds;
        self.inline_used = true;
        Ok(Parsed::Request(consumed))
    }

    /// The arguments of the request last returned by `parse`, borrowed from `buf`.
    pub fn args<'a>(&'a self, buf: &'a [u8]) -> Args<'a> {
        Args {
            data: if self.inline_used { &self.inline } else { buf },
            ranges: &self.ranges,
        }
    }
}

/// Splits an inline line the way Redis's sdssplitargs does: spaces separate arguments,
/// double quotes allow escapes, single quotes allow only \'. Returns false on unbalanced quotes.
pub fn split_args(line: &[u8], out: &mut Vec<u8>, bounds: &mut Vec<Range<usize>>) -> bool {
    // Redis splits a C string: a NUL byte ends the line.
    let line = &line[..line.iter().position(|&c| c == 0).unwrap_or(line.len())];
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return true;
        }
        let start = out.len();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return false;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    out.push(hex_val(line[i + 2]) * 16 + hex_val(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    out.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return false;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => out.push(c),
                }
            }
            i += 1;
        }
        bounds.push(start..out.len());
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// The arguments of one request (argument 0 is the command name).
#[derive(Clone, Copy)]
pub struct Args<'a> {
    data: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.data[self.ranges[i].clone()]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + '_ {
        self.ranges.iter().map(|r| &self.data[r.clone()])
    }

    /// Copies the arguments out, for commands that outlive the read buffer (MULTI queues).
    pub fn to_owned_vec(&self) -> Vec<Vec<u8>> {
        self.iter().map(|a| a.to_vec()).collect()
    }
}

/// Arguments copied out of the read buffer, for a command that runs later (MULTI queues), or
/// built by the server itself (commands called from scripts).
#[derive(Default)]
pub struct OwnedArgs {
    data: Vec<u8>,
    ranges: Vec<Range<usize>>,
}

impl OwnedArgs {
    pub fn from_args(args: &Args) -> OwnedArgs {
        let mut data = Vec::new();
        let mut ranges = Vec::with_capacity(args.len());
        for a in args.iter() {
            let start = data.len();
            data.extend_from_slice(a);
            ranges.push(start..data.len());
        }
        OwnedArgs { data, ranges }
    }

    pub fn push(&mut self, arg: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(arg);
        self.ranges.push(start..self.data.len());
    }

    pub fn args(&self) -> Args<'_> {
        Args {
            data: &self.data,
            ranges: &self.ranges,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(buf: &[u8]) -> Result<(Parsed, Vec<Vec<u8>>), ParseError> {
        let mut p = RequestParser::default();
        let r = p.parse(buf, 512 * 1024 * 1024, true)?;
        let args = p.args(buf).to_owned_vec();
        Ok((r, args))
    }

    /// Fuzzing without cargo-fuzz (it needs a nightly toolchain): valid requests cut, spliced
    /// and flipped at random, plus random bytes. The parser must never panic, must consume
    /// only what it was given, and whatever it accepts must re-encode to the same bytes (but
    /// the two after each bulk, which Redis skips unchecked, and so do we).
    #[test]
    fn fuzzed_input_never_panics_and_accepted_requests_round_trip() {
        let seeds: &[&[u8]] = &[
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n",
            b"*1\r\n$4\r\nPING\r\n",
            b"*0\r\n",
            b"GET key\r\n",
            b"set \"a b\" 'c\\'d'\r\n",
            b"*2\r\n$0\r\n\r\n$-1\r\n",
            b"\r\n",
        ];
        let mut rng = fastrand::Rng::with_seed(0x5EED);
        let mut parser = RequestParser::default();
        for _ in 0..200_000 {
            let mut input: Vec<u8> = seeds[rng.usize(..seeds.len())].to_vec();
            for _ in 0..rng.usize(0..4) {
                match rng.u8(..4) {
                    0 if !input.is_empty() => {
                        let at = rng.usize(..input.len());
                        input[at] = rng.u8(..);
                    }
                    1 => input.truncate(rng.usize(..=input.len())),
                    2 => input.extend_from_slice(seeds[rng.usize(..seeds.len())]),
                    _ => input.extend((0..rng.usize(..8)).map(|_| rng.u8(..))),
                }
            }
            let max_bulk = [8u64, 512 << 20][rng.usize(..2)];
            match parser.parse(&input, max_bulk, rng.bool()) {
                Ok(Parsed::Request(len)) => {
                    assert!(len > 0 && len <= input.len(), "{input:?}");
                    let args = parser.args(&input).to_owned_vec();
                    if input[0] == b'*' {
                        let mut encoded = format!("*{}\r\n", args.len()).into_bytes();
                        for a in &args {
                            encoded.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                            encoded.extend_from_slice(a);
                            let at = encoded.len();
                            encoded.extend_from_slice(input.get(at..at + 2).unwrap_or(b"??"));
                        }
                        assert_eq!(&encoded[..], &input[..len], "{input:?}");
                    }
                }
                Ok(Parsed::Empty(len)) => assert!(len > 0 && len <= input.len()),
                Ok(Parsed::Incomplete(need)) => assert!(need > 0),
                Err(_) => {}
            }
        }
    }

    #[test]
    fn multibulk() {
        let (r, a) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nrest").unwrap();
        assert_eq!(r, Parsed::Request(20));
        assert_eq!(a, vec![b"GET".to_vec(), b"k".to_vec()]);
    }

    #[test]
    fn incomplete_and_errors() {
        assert_eq!(
            parse_all(b"*2\r\n$3\r\nGE").unwrap().0,
            Parsed::Incomplete(1)
        );
        assert_eq!(
            parse_all(b"*abc\r\n").unwrap_err().0,
            "invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n").unwrap_err().0,
            "invalid bulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n+x\r\n").unwrap_err().0,
            "expected '$', got '+'"
        );
        assert_eq!(parse_all(b"*0\r\n").unwrap().0, Parsed::Empty(4));
        assert_eq!(parse_all(b"*-1\r\n").unwrap().0, Parsed::Empty(5));
    }

    #[test]
    fn inline() {
        let (r, a) = parse_all(b"set k \"a b\\n\" 'c'\r\n").unwrap();
        assert_eq!(r, Parsed::Request(19));
        assert_eq!(
            a,
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"a b\n".to_vec(),
                b"c".to_vec()
            ]
        );
        assert_eq!(parse_all(b"   \r\n").unwrap().0, Parsed::Empty(5));
        assert_eq!(
            parse_all(b"set \"a\r\n").unwrap_err().0,
            "unbalanced quotes in request"
        );
    }

    #[test]
    fn big_bulk_hint() {
        let mut buf = b"*2\r\n$3\r\nSET\r\n$100000\r\n".to_vec();
        buf.extend_from_slice(&[b'x'; 10]);
        assert_eq!(
            parse_all(&buf).unwrap().0,
            Parsed::Incomplete(100000 - 10 + 2)
        );
    }
}
