//! Shared harness for the integration tests.
//!
//! * [`Server`]: starts ferrodis or a real `redis-server` on a free port in a
//!   fresh temporary directory, waits until it answers PING, kills it (by PID)
//!   on drop.
//! * [`Raw`] / [`Reply`]: a raw RESP2/RESP3 client whose replies are parsed
//!   exactly, so two servers' answers can be compared with `==`.
//! * [`redis_cli`]: runs the real `redis-cli` against a port.
//! * [`corpus`]: the corpus format and the differential runner.
//!
//! Every integration test binary compiles this module but uses only part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod corpus;

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a server may take to answer its first PING.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(20);
/// Default read timeout of [`Raw`]: a silent server fails the test.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// When set to `1`, [`Server::subject`] starts a second real redis-server
/// instead of ferrodis, to prove the differential harness itself.
pub const SELFTEST_ENV: &str = "FERRODIS_DIFF_SELFTEST";

/// Base arguments given to both ferrodis and redis-server (after `--port`).
fn base_args(port: u16, dir: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        "--port".into(),
        port.to_string().into(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        "".into(),
        "--appendonly".into(),
        "no".into(),
        "--dir".into(),
    ];
    v.push(dir.as_os_str().to_owned());
    v.extend(["--enable-debug-command".into(), "yes".into()]);
    v
}

/// A running server process. Killed (by PID) and its directory removed on drop,
/// including when the test panics.
pub struct Server {
    pub port: u16,
    child: Child,
    pub dir: PathBuf,
    /// Human readable name ("ferrodis" / "redis-server"), used in messages.
    pub name: &'static str,
}

impl Server {
    /// Starts the ferrodis binary built by cargo for this test run.
    pub fn ferrodis(extra_args: &[&str]) -> Server {
        Server::start(
            "ferrodis",
            env!("CARGO_BIN_EXE_ferrodis").as_ref(),
            extra_args,
        )
    }

    /// Starts the real `redis-server` found on PATH.
    pub fn redis(extra_args: &[&str]) -> Server {
        Server::start("redis-server", "redis-server".as_ref(), extra_args)
    }

    /// The server under test for differential tests: ferrodis, or a second
    /// redis-server when `FERRODIS_DIFF_SELFTEST=1`.
    pub fn subject(extra_args: &[&str]) -> Server {
        if selftest() {
            Server::redis(extra_args)
        } else {
            Server::ferrodis(extra_args)
        }
    }

    /// Starts `bin` with the base arguments plus `extra_args` (a leading
    /// non-`--` argument is a config file and is passed first); retries with a
    /// new free port (and directory) when the server does not come up, which
    /// covers the race where another process grabbed the port.
    pub fn start(name: &'static str, bin: &std::ffi::OsStr, extra_args: &[&str]) -> Server {
        const ATTEMPTS: usize = 3;
        let mut failures = String::new();
        for attempt in 1..=ATTEMPTS {
            let port = free_port();
            let dir = unique_temp_dir(name);
            let log_path = dir.join("server.log");
            let log = std::fs::File::create(&log_path).expect("create server log");
            let log_err = log.try_clone().expect("clone log handle");
            // redis-server's grammar: `[configfile] [--option value ...]`;
            // a config file given in extra_args must stay the first argument.
            let (conf, options) = match extra_args.first() {
                Some(first) if !first.starts_with("--") => (Some(*first), &extra_args[1..]),
                _ => (None, extra_args),
            };
            let child = Command::new(bin)
                .args(conf)
                .args(base_args(port, &dir))
                .args(options)
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn();
            let child = match child {
                Ok(c) => c,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    panic!("cannot spawn {name} ({bin:?}): {e}");
                }
            };
            let mut server = Server {
                port,
                child,
                dir,
                name,
            };
            match server.wait_ready(STARTUP_DEADLINE) {
                Ok(()) => return server,
                Err(why) => {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    failures.push_str(&format!(
                        "attempt {attempt} on port {port}: {why}\n--- server log ---\n{log}\n"
                    ));
                    // `server` is dropped here: killed and directory removed.
                }
            }
        }
        panic!("{name} did not start after {ATTEMPTS} attempts:\n{failures}");
    }

    /// Polls PING until it answers PONG, the process exits, or the deadline.
    fn wait_ready(&mut self, deadline: Duration) -> Result<(), String> {
        let start = Instant::now();
        let mut last_err = String::from("no attempt made");
        while start.elapsed() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("process exited early with {status}"));
            }
            match ping_once(self.port) {
                Ok(()) => return Ok(()),
                Err(e) => last_err = e,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "no PONG within {deadline:?}; last error: {last_err}"
        ))
    }

    /// Waits for the process to exit by itself (SHUTDOWN), up to `deadline`.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Kills the process with SIGKILL (a crash) and reaps it; the directory stays until drop.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A connection from the `redis` crate (RESP2), with timeouts set.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("valid redis url");
        let con = client
            .get_connection_with_timeout(READ_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {} on port {}: {e}", self.name, self.port));
        con.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        con.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        con
    }

    /// A raw RESP connection.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// Runs the real redis-cli against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        redis_cli(self.port, args)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to exactly this PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// True when `FERRODIS_DIFF_SELFTEST=1`.
pub fn selftest() -> bool {
    std::env::var(SELFTEST_ENV).is_ok_and(|v| v == "1")
}

fn ping_once(port: u16) -> Result<(), String> {
    let addr = ("127.0.0.1", port);
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok();
    s.write_all(b"*1\r\n$4\r\nPING\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while got.len() < 7 {
        let n = s.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("closed after {:?}", String::from_utf8_lossy(&got)));
        }
        got.extend_from_slice(&buf[..n]);
    }
    // NOAUTH means the server is up and wants a password (requirepass).
    if got.starts_with(b"+PONG\r\n") || got.starts_with(b"-NOAUTH") {
        Ok(())
    } else {
        // e.g. "-LOADING": not ready yet.
        Err(format!("PING answered {:?}", String::from_utf8_lossy(&got)))
    }
}

/// Asks the OS for a free port: bind 127.0.0.1:0, read the port, close.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A fresh, empty, uniquely named directory under `std::env::temp_dir()`.
pub fn unique_temp_dir(tag: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "ferrodis-test-{tag}-{}-{n}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Runs the real `redis-cli -h 127.0.0.1 -p <port> args...`.
pub fn redis_cli(port: u16, args: &[&str]) -> Output {
    Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli (is redis-tools installed?)")
}

// ---------------------------------------------------------------------------
// RESP values
// ---------------------------------------------------------------------------

/// A RESP2/RESP3 reply, parsed exactly. Simple strings and errors are decoded
/// as UTF-8 (lossily: the protocol makes them CRLF-free text); everything that
/// may carry binary data keeps its bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reply {
    /// `+text`
    Simple(String),
    /// `-ERR text` (the whole line, including the error code)
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` / `$-1` (RESP2 null bulk is `Bulk(None)`)
    Bulk(Option<Vec<u8>>),
    /// `*n` / `*-1` (RESP2 null array is `Array(None)`)
    Array(Option<Vec<Reply>>),
    /// RESP3 `_`
    Null,
    /// RESP3 `,` with the exact text sent (e.g. `1.5`, `inf`, `-nan`)
    Double(String),
    /// RESP3 `#t` / `#f`
    Bool(bool),
    /// RESP3 `%`, in wire order
    Map(Vec<(Reply, Reply)>),
    /// RESP3 `~`, in wire order
    Set(Vec<Reply>),
    /// RESP3 `>`
    Push(Vec<Reply>),
    /// RESP3 `=`: three-letter format and the text
    Verbatim(String, Vec<u8>),
    /// RESP3 `(` with the exact digits
    BigNum(String),
    /// RESP3 `|` attributes together with the reply they annotate
    Attribute(Vec<(Reply, Reply)>, Box<Reply>),
    /// RESP3 `!` blob error
    BlobError(Vec<u8>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }
    pub fn simple(s: &str) -> Reply {
        Reply::Simple(s.into())
    }
    pub fn err(s: &str) -> Reply {
        Reply::Error(s.into())
    }
    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(Some(b.as_ref().to_vec()))
    }
    pub fn nil() -> Reply {
        Reply::Bulk(None)
    }
    pub fn array(items: Vec<Reply>) -> Reply {
        Reply::Array(Some(items))
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_) | Reply::BlobError(_))
    }
    /// A null of any protocol version ($-1, *-1 or RESP3 _).
    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::Null | Reply::Bulk(None) | Reply::Array(None))
    }
    /// Elements of an array / set / push reply.
    pub fn items(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(v)) | Reply::Set(v) | Reply::Push(v) => Some(v),
            _ => None,
        }
    }
    /// Bytes of a bulk / simple / verbatim string.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(Some(b)) | Reply::Verbatim(_, b) => Some(b),
            Reply::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// Recursively sorts the elements of arrays/sets (and the entries of maps
    /// by key) so order-insensitive replies can be compared.
    pub fn sorted(&self) -> Reply {
        match self {
            Reply::Array(Some(v)) => {
                let mut v: Vec<Reply> = v.iter().map(Reply::sorted).collect();
                v.sort();
                Reply::Array(Some(v))
            }
            Reply::Set(v) => {
                let mut v: Vec<Reply> = v.iter().map(Reply::sorted).collect();
                v.sort();
                Reply::Set(v)
            }
            Reply::Map(m) => {
                let mut m: Vec<(Reply, Reply)> =
                    m.iter().map(|(k, v)| (k.sorted(), v.sorted())).collect();
                m.sort();
                Reply::Map(m)
            }
            other => other.clone(),
        }
    }

    /// The keys of a map reply (or of a flat key/value RESP2 array), in order.
    pub fn map_keys(&self) -> Option<Vec<Reply>> {
        match self {
            Reply::Map(m) => Some(m.iter().map(|(k, _)| k.clone()).collect()),
            Reply::Array(Some(v)) if v.len() % 2 == 0 => {
                Some(v.iter().step_by(2).cloned().collect())
            }
            _ => None,
        }
    }

    /// Encodes this value back to RESP bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn agg(out: &mut Vec<u8>, t: u8, items: &[Reply]) {
            out.push(t);
            out.extend_from_slice(format!("{}\r\n", items.len()).as_bytes());
            for i in items {
                i.encode(out);
            }
        }
        fn pairs(out: &mut Vec<u8>, t: u8, m: &[(Reply, Reply)]) {
            out.push(t);
            out.extend_from_slice(format!("{}\r\n", m.len()).as_bytes());
            for (k, v) in m {
                k.encode(out);
                v.encode(out);
            }
        }
        match self {
            Reply::Simple(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Reply::Error(s) => out.extend_from_slice(format!("-{s}\r\n").as_bytes()),
            Reply::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Reply::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Reply::Bulk(Some(b)) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Array(None) => out.extend_from_slice(b"*-1\r\n"),
            Reply::Array(Some(v)) => agg(out, b'*', v),
            Reply::Null => out.extend_from_slice(b"_\r\n"),
            Reply::Double(d) => out.extend_from_slice(format!(",{d}\r\n").as_bytes()),
            Reply::Bool(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Reply::Map(m) => pairs(out, b'%', m),
            Reply::Set(v) => agg(out, b'~', v),
            Reply::Push(v) => agg(out, b'>', v),
            Reply::Verbatim(f, t) => {
                out.extend_from_slice(format!("={}\r\n{f}:", t.len() + 4).as_bytes());
                out.extend_from_slice(t);
                out.extend_from_slice(b"\r\n");
            }
            Reply::BigNum(n) => out.extend_from_slice(format!("({n}\r\n").as_bytes()),
            Reply::Attribute(a, r) => {
                pairs(out, b'|', a);
                r.encode(out);
            }
            Reply::BlobError(b) => {
                out.extend_from_slice(format!("!{}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// Writes bytes the way redis-cli's `--no-raw` output does: printable ASCII
/// as is, `"` and `\` escaped, everything else as `\n`, `\xHH`...
pub fn escape_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Compact, unambiguous, type-tagged rendering used in mismatch reports:
/// `+OK`, `-ERR ...`, `:1`, `"bulk"`, `(nil)`, `*[a, b]`, `(null)`, `,1.5`,
/// `#t`, `%{k => v}`, `~{a}`, `>[..]`, `=txt:"..."`, `(big)123`, `|{..} r`.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, items: &[Reply]) -> fmt::Result {
            for (i, r) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{r}")?;
            }
            Ok(())
        }
        fn pairs(f: &mut fmt::Formatter<'_>, m: &[(Reply, Reply)]) -> fmt::Result {
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k} => {v}")?;
            }
            Ok(())
        }
        match self {
            Reply::Simple(s) => write!(f, "+{s}"),
            Reply::Error(s) => write!(f, "-{s}"),
            Reply::Int(n) => write!(f, ":{n}"),
            Reply::Bulk(None) => f.write_str("(nil)"),
            Reply::Bulk(Some(b)) => write!(f, "\"{}\"", escape_bytes(b)),
            Reply::Array(None) => f.write_str("(nil-array)"),
            Reply::Array(Some(v)) => {
                f.write_str("*[")?;
                list(f, v)?;
                f.write_str("]")
            }
            Reply::Null => f.write_str("(null)"),
            Reply::Double(d) => write!(f, ",{d}"),
            Reply::Bool(b) => f.write_str(if *b { "#t" } else { "#f" }),
            Reply::Map(m) => {
                f.write_str("%{")?;
                pairs(f, m)?;
                f.write_str("}")
            }
            Reply::Set(v) => {
                f.write_str("~{")?;
                list(f, v)?;
                f.write_str("}")
            }
            Reply::Push(v) => {
                f.write_str(">[")?;
                list(f, v)?;
                f.write_str("]")
            }
            Reply::Verbatim(fmt_, t) => write!(f, "={fmt_}:\"{}\"", escape_bytes(t)),
            Reply::BigNum(n) => write!(f, "(big){n}"),
            Reply::Attribute(a, r) => {
                f.write_str("|{")?;
                pairs(f, a)?;
                write!(f, "}} {r}")
            }
            Reply::BlobError(b) => write!(f, "!\"{}\"", escape_bytes(b)),
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// Raw RESP client
// ---------------------------------------------------------------------------

/// A raw RESP client: sends exactly the bytes it is told to and parses
/// replies exactly. Reads time out (default [`READ_TIMEOUT`]) so a silent
/// server fails the test instead of hanging it.
pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    pub port: u16,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).ok();
        Raw {
            stream,
            buf: Vec::new(),
            pos: 0,
            port,
        }
    }

    pub fn set_read_timeout(&mut self, t: Duration) {
        self.stream.set_read_timeout(Some(t)).unwrap();
    }

    /// Sends one command encoded as a RESP multibulk.
    pub fn send(&mut self, args: &[&[u8]]) {
        self.send_raw(&encode_command(args));
    }

    /// Sends bytes verbatim.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes)
            .unwrap_or_else(|e| panic!("write to port {}: {e}", self.port));
    }

    pub fn try_send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        self.send(args);
        self.read_reply()
    }

    /// `cmd` for string arguments: `raw.cmd_str(&["SET", "k", "v"])`.
    pub fn cmd_str(&mut self, args: &[&str]) -> Reply {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd(&a)
    }

    /// Reads one reply; panics on timeout, EOF or a protocol violation.
    pub fn read_reply(&mut self) -> Reply {
        self.try_read_reply()
            .unwrap_or_else(|e| panic!("reading reply from port {}: {e}", self.port))
    }

    /// Reads one reply. Errors: `UnexpectedEof` when the server closed the
    /// connection, `WouldBlock`/`TimedOut` on timeout, `InvalidData` when the
    /// bytes are not valid RESP.
    pub fn try_read_reply(&mut self) -> io::Result<Reply> {
        loop {
            match parse_reply(&self.buf[self.pos..]) {
                Ok(Some((reply, used))) => {
                    self.pos += used;
                    if self.pos == self.buf.len() {
                        self.buf.clear();
                        self.pos = 0;
                    }
                    return Ok(reply);
                }
                Ok(None) => self.fill()?,
                Err(msg) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{msg}; buffer: \"{}\"",
                            escape_bytes(&self.buf[self.pos..self.buf.len().min(self.pos + 200)])
                        ),
                    ));
                }
            }
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "connection closed by server (unparsed: \"{}\")",
                    escape_bytes(&self.buf[self.pos..])
                ),
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Bytes received but not yet parsed into a reply.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Waits (up to `timeout`) for the server to close the connection.
    /// Returns Ok(()) on close (EOF or reset); Err with what arrived otherwise.
    pub fn expect_closed(&mut self, timeout: Duration) -> Result<(), String> {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        let res = loop {
            match self.fill() {
                Ok(()) => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break Ok(()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    break Ok(());
                }
                Err(e) => break Err(format!("connection still open ({e})")),
            }
        };
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        if !self.pending().is_empty() {
            return Err(format!(
                "unexpected extra bytes before close: \"{}\"",
                escape_bytes(self.pending())
            ));
        }
        res
    }

    /// Half-closes the write side (the server sees EOF on its read).
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Parses one RESP value from the start of `buf`.
/// `Ok(None)`: incomplete; `Ok(Some((value, bytes_used)))`; `Err`: not RESP.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(line_end) = find_crlf(buf) else {
        return Ok(None);
    };
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    let line = &buf[1..line_end];
    let after = line_end + 2;
    let text = || String::from_utf8_lossy(line).into_owned();
    let int = || -> Result<i64, String> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| format!("bad integer in {:?} line", tag as char))
    };
    match tag {
        b'+' => Ok(Some((Reply::Simple(text()), after))),
        b'-' => Ok(Some((Reply::Error(text()), after))),
        b':' => Ok(Some((Reply::Int(int()?), after))),
        b',' => Ok(Some((Reply::Double(text()), after))),
        b'(' => Ok(Some((Reply::BigNum(text()), after))),
        b'_' => {
            if !line.is_empty() {
                return Err("null with payload".into());
            }
            Ok(Some((Reply::Null, after)))
        }
        b'#' => match line {
            b"t" => Ok(Some((Reply::Bool(true), after))),
            b"f" => Ok(Some((Reply::Bool(false), after))),
            _ => Err("bad boolean".into()),
        },
        b'$' | b'=' | b'!' => {
            let n = int()?;
            if n < 0 {
                if tag == b'$' && n == -1 {
                    return Ok(Some((Reply::Bulk(None), after)));
                }
                return Err(format!("bad length {n}"));
            }
            let n = n as usize;
            if buf.len() < after + n + 2 {
                return Ok(None);
            }
            if &buf[after + n..after + n + 2] != b"\r\n" {
                return Err("blob not terminated by CRLF".into());
            }
            let data = buf[after..after + n].to_vec();
            let used = after + n + 2;
            let r = match tag {
                b'$' => Reply::Bulk(Some(data)),
                b'!' => Reply::BlobError(data),
                _ => {
                    if data.len() < 4 || data[3] != b':' {
                        return Err("verbatim string without format".into());
                    }
                    Reply::Verbatim(
                        String::from_utf8_lossy(&data[..3]).into_owned(),
                        data[4..].to_vec(),
                    )
                }
            };
            Ok(Some((r, used)))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = int()?;
            if n < 0 {
                if tag == b'*' && n == -1 {
                    return Ok(Some((Reply::Array(None), after)));
                }
                return Err(format!("bad aggregate length {n}"));
            }
            let count = if matches!(tag, b'%' | b'|') {
                n as usize * 2
            } else {
                n as usize
            };
            let mut items = Vec::with_capacity(count.min(4096));
            let mut pos = after;
            for _ in 0..count {
                match parse_reply(&buf[pos..])? {
                    None => return Ok(None),
                    Some((r, used)) => {
                        items.push(r);
                        pos += used;
                    }
                }
            }
            let pairs = |items: Vec<Reply>| -> Vec<(Reply, Reply)> {
                let mut it = items.into_iter();
                let mut v = Vec::new();
                while let (Some(k), Some(val)) = (it.next(), it.next()) {
                    v.push((k, val));
                }
                v
            };
            let r = match tag {
                b'*' => Reply::Array(Some(items)),
                b'~' => Reply::Set(items),
                b'>' => Reply::Push(items),
                b'%' => Reply::Map(pairs(items)),
                _ => {
                    // Attributes annotate the value that follows them.
                    let attrs = pairs(items);
                    match parse_reply(&buf[pos..])? {
                        None => return Ok(None),
                        Some((inner, used)) => {
                            pos += used;
                            Reply::Attribute(attrs, Box::new(inner))
                        }
                    }
                }
            };
            Ok(Some((r, pos)))
        }
        other => Err(format!("unknown RESP type byte 0x{other:02x}")),
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}
