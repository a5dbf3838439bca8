//! Raw protocol cases, compared between a real redis-server and ferrodis (or a
//! second redis-server with `FERRODIS_DIFF_SELFTEST=1`): inline commands,
//! pipelining, empty lines, malformed multibulk. For every case the replies
//! must be identical (including the exact `-ERR Protocol error: ...` text) and
//! both servers must agree on whether the connection was closed.

mod common;

use common::{Raw, Reply, Server};
use std::time::Duration;

/// What must happen after the case's replies were read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum After {
    /// The connection stays usable: a following PING answers PONG.
    Open,
    /// The server closes the connection.
    Closed,
}

struct Case {
    name: &'static str,
    /// Chunks written one after another (to exercise partial reads).
    chunks: Vec<Vec<u8>>,
    replies: usize,
    after: After,
}

fn case(name: &'static str, bytes: &[u8], replies: usize, after: After) -> Case {
    Case {
        name,
        chunks: vec![bytes.to_vec()],
        replies,
        after,
    }
}

fn cases() -> Vec<Case> {
    use After::*;
    let mut v = vec![
        case("inline ping", b"PING\r\n", 1, Open),
        case("inline ping, LF only", b"PING\n", 1, Open),
        case("inline set/get", b"SET k v\r\nGET k\r\n", 2, Open),
        case(
            "inline lowercase",
            b"set k2 \"two words\"\r\nget k2\r\n",
            2,
            Open,
        ),
        case(
            "inline quoting and escapes",
            b"SET k3 \"a\\x41\\n\" \r\nGET k3\r\nECHO 'it\\'s'\r\n",
            3,
            Open,
        ),
        case("inline many spaces", b"   ECHO    spaced    \r\n", 1, Open),
        case("inline tabs", b"ECHO\tx\r\n", 1, Open),
        case("empty lines ignored", b"\r\n\r\n\n\nPING\r\n", 1, Open),
        case("blank inline line", b"   \r\nPING\r\n", 1, Open),
        case("inline unknown command", b"NOSUCH a b\r\n", 1, Open),
        case("inline wrong arity", b"GET\r\n", 1, Open),
        case("inline unbalanced quotes", b"ECHO \"abc\r\n", 1, Closed),
        case(
            "inline unbalanced single quote",
            b"ECHO 'abc\r\n",
            1,
            Closed,
        ),
        case(
            "inline closing quote followed by char",
            b"ECHO \"a\"b\r\n",
            1,
            Closed,
        ),
        case("multibulk ping", b"*1\r\n$4\r\nPING\r\n", 1, Open),
        case(
            "multibulk lowercase command",
            b"*2\r\n$4\r\necho\r\n$2\r\nhi\r\n",
            1,
            Open,
        ),
        case(
            "multibulk binary arg",
            b"*2\r\n$4\r\nECHO\r\n$3\r\n\x00\r\n\r\n",
            1,
            Open,
        ),
        case(
            "multibulk empty arg",
            b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
            1,
            Open,
        ),
        case("multibulk *0 ignored", b"*0\r\nPING\r\n", 1, Open),
        case("multibulk *-1 ignored", b"*-1\r\nPING\r\n", 1, Open),
        case("multibulk *-5 ignored", b"*-5\r\nPING\r\n", 1, Open),
        case("multibulk invalid count", b"*abc\r\n", 1, Closed),
        case("multibulk count with garbage", b"*1x\r\n", 1, Closed),
        case("multibulk count too large", b"*2147483648\r\n", 1, Closed),
        case("multibulk count empty", b"*\r\n", 1, Closed),
        case("bulk length negative", b"*1\r\n$-5\r\n", 1, Closed),
        case("bulk length -1", b"*1\r\n$-1\r\n", 1, Closed),
        case("bulk length not a number", b"*1\r\n$abc\r\n", 1, Closed),
        case("bulk length empty", b"*1\r\n$\r\n", 1, Closed),
        case("bulk length too big", b"*1\r\n$600000000\r\n", 1, Closed),
        case(
            "bulk length huge",
            b"*1\r\n$99999999999999999999\r\n",
            1,
            Closed,
        ),
        case("expected $ got other", b"*1\r\nPING\r\n", 1, Closed),
        case(
            "expected $ got colon",
            b"*2\r\n$4\r\nECHO\r\n:1\r\n",
            1,
            Closed,
        ),
        case(
            "missing CRLF after bulk (bytes skipped unchecked)",
            b"*1\r\n$4\r\nPINGxx",
            1,
            Open,
        ),
        case(
            "bulk followed by LF only",
            b"*2\r\n$4\r\nECHO\r\n$1\r\na\n*1\r\n$4\r\nPING\r\n",
            // "a", then the two bytes after it are skipped unchecked, so
            // "1", "$4" and "PING" are read as inline commands.
            4,
            Open,
        ),
        case("multibulk header LF only", b"*1\n$4\r\nPING\r\n", 1, Closed),
        case("too big inline request", &[b'a'; 70 * 1024], 1, Closed),
        case(
            "too big mbulk count string",
            &mbulk_long_header(b'*'),
            1,
            Closed,
        ),
        case(
            "too big bulk count string",
            &mbulk_long_header(b'$'),
            1,
            Closed,
        ),
        case(
            "error then valid command in same write",
            b"NOSUCH\r\n*1\r\n$4\r\nPING\r\n",
            2,
            Open,
        ),
        case(
            "pipeline with protocol error in the middle",
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n",
            3,
            Closed,
        ),
    ];
    // Commands split at awkward places across writes.
    v.push(Case {
        name: "split across writes",
        chunks: vec![
            b"*2\r".to_vec(),
            b"\n$4\r\nEC".to_vec(),
            b"HO\r\n$5\r\nhel".to_vec(),
            b"lo\r\n".to_vec(),
            b"PI".to_vec(),
            b"NG\r\n".to_vec(),
        ],
        replies: 2,
        after: Open,
    });
    // Large bulk strings (crossing the servers' read-buffer sizes), sent in
    // one write and in awkward pieces.
    let big: Vec<u8> = (0..1_048_576u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut set_get = common::encode_command(&[b"SET", b"big", &big]);
    set_get.extend(common::encode_command(&[b"GET", b"big"]));
    set_get.extend(common::encode_command(&[b"STRLEN", b"big"]));
    v.push(Case {
        name: "1 MiB value in one write",
        chunks: vec![set_get.clone()],
        replies: 3,
        after: Open,
    });
    v.push(Case {
        name: "1 MiB value in 7 KiB pieces",
        chunks: set_get.chunks(7 * 1024).map(<[u8]>::to_vec).collect(),
        replies: 3,
        after: Open,
    });
    let mut inline_big = b"ECHO ".to_vec();
    inline_big.extend(std::iter::repeat_n(b'x', 60 * 1024));
    inline_big.extend_from_slice(b"\r\n");
    v.push(Case {
        name: "inline command just under the 64 KiB limit",
        chunks: vec![inline_big],
        replies: 1,
        after: Open,
    });
    // 1000 commands in a single write.
    let mut pipeline = Vec::new();
    for i in 0..1000 {
        let key = format!("p{}", i % 10);
        match i % 4 {
            0 => pipeline.extend(common::encode_command(&[b"INCR", key.as_bytes()])),
            1 => pipeline.extend(format!("GET {key}\r\n").into_bytes()),
            2 => pipeline.extend(common::encode_command(&[b"APPEND", b"log", key.as_bytes()])),
            _ => pipeline.extend(common::encode_command(&[b"STRLEN", b"log"])),
        }
    }
    v.push(Case {
        name: "pipeline of 1000 commands in one write",
        chunks: vec![pipeline],
        replies: 1000,
        after: Open,
    });
    v
}

/// A header line of 70000 digits with no CRLF yet.
fn mbulk_long_header(kind: u8) -> Vec<u8> {
    let mut v = Vec::new();
    if kind == b'$' {
        v.extend_from_slice(b"*1\r\n");
    }
    v.push(kind);
    v.extend(std::iter::repeat_n(b'1', 70 * 1024));
    v
}

/// Prefix of a case error caused by a read timeout (the run then stops: every
/// further case would wait for the timeout too).
const TIMEOUT_TAG: &str = "TIMEOUT: ";

/// Runs a case on one server; returns the replies and whether it closed.
fn run_case(server: &Server, c: &Case) -> Result<(Vec<Reply>, After), String> {
    let mut raw = Raw::connect(server.port);
    for chunk in &c.chunks {
        if let Err(e) = raw.try_send_raw(chunk) {
            // The server may already have closed the connection (e.g. on a
            // too big request); what was received still counts.
            if c.after != After::Closed {
                return Err(format!("write failed: {e}"));
            }
        }
    }
    let mut replies = Vec::new();
    for i in 0..c.replies {
        match raw.try_read_reply() {
            Ok(r) => replies.push(r),
            Err(e) => {
                let timeout = matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
                return Err(format!(
                    "{}reply #{} of {}: {e}",
                    if timeout { TIMEOUT_TAG } else { "" },
                    i + 1,
                    c.replies
                ));
            }
        }
    }
    let after = match c.after {
        After::Closed => match raw.expect_closed(Duration::from_secs(10)) {
            Ok(()) => After::Closed,
            Err(e) => return Err(format!("expected the connection to be closed: {e}")),
        },
        After::Open => {
            raw.send(&[b"PING"]);
            match raw.try_read_reply() {
                Ok(Reply::Simple(s)) if s == "PONG" => After::Open,
                Ok(other) => return Err(format!("PING after the case answered {other}")),
                Err(e) => return Err(format!("connection unusable after the case: {e}")),
            }
        }
    };
    Ok((replies, after))
}

#[test]
fn raw_protocol_cases_match_redis() {
    let reference = Server::redis(&[]);
    let subject = Server::subject(&[]);
    let mut failures = Vec::new();
    for c in cases() {
        let a = run_case(&reference, &c);
        let b = run_case(&subject, &c);
        let a = match a {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!(
                    "[{}] reference {} does not behave as the case expects: {e}",
                    c.name, reference.name
                ));
                continue;
            }
        };
        match b {
            Ok(b) if b == a => {}
            Ok(b) => failures.push(format!(
                "[{}]\n    {} (reference): {:?}\n    {} (subject)  : {:?}",
                c.name, reference.name, a, subject.name, b
            )),
            Err(e) => {
                let timed_out = e.starts_with(TIMEOUT_TAG);
                failures.push(format!(
                    "[{}]\n    {} (reference): {:?}\n    {} (subject)  : {e}",
                    c.name, reference.name, a, subject.name
                ));
                if timed_out {
                    failures
                        .push("(remaining cases skipped: the subject stopped answering)".into());
                    break;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} protocol case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Sanity check of the harness itself against the reference server: protocol
/// errors carry the exact texts we expect.
#[test]
fn reference_protocol_error_texts() {
    let server = Server::redis(&[]);
    let mut raw = server.raw();
    raw.send_raw(b"*abc\r\n");
    assert_eq!(
        raw.read_reply(),
        Reply::err("ERR Protocol error: invalid multibulk length")
    );
    raw.expect_closed(Duration::from_secs(10)).unwrap();
    let mut raw = server.raw();
    raw.send_raw(b"*1\r\n$-5\r\n");
    assert_eq!(
        raw.read_reply(),
        Reply::err("ERR Protocol error: invalid bulk length")
    );
    raw.expect_closed(Duration::from_secs(10)).unwrap();
}

/// The redis-cli helper and the `redis` crate client work against the server
/// under test.
#[test]
fn clients_can_talk_to_the_subject() {
    let server = Server::subject(&[]);
    let out = server.cli(&["SET", "cli", "value"]);
    assert!(out.status.success(), "redis-cli failed: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
    let mut con = server.client();
    let v: String = redis::cmd("GET").arg("cli").query(&mut con).unwrap();
    assert_eq!(v, "value");
    let n: i64 = redis::cmd("INCRBY")
        .arg("n")
        .arg(5)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 5);
}

/// The RESP parser of the harness: every RESP2/RESP3 type round-trips, and
/// incomplete input asks for more bytes instead of guessing.
#[test]
fn harness_reply_parser_roundtrips() {
    use common::parse_reply;
    let all = Reply::array(vec![
        Reply::simple("OK"),
        Reply::err("ERR x y"),
        Reply::Int(-42),
        Reply::bulk(b"a\r\nb\x00"),
        Reply::nil(),
        Reply::Array(None),
        Reply::array(vec![]),
        Reply::Null,
        Reply::Double("-inf".into()),
        Reply::Bool(true),
        Reply::Bool(false),
        Reply::Map(vec![(Reply::bulk("k"), Reply::Int(1))]),
        Reply::Set(vec![Reply::Int(1), Reply::Int(2)]),
        Reply::Push(vec![Reply::bulk("message")]),
        Reply::Verbatim("txt".into(), b"hello\nworld".to_vec()),
        Reply::BigNum("-123456789012345678901234567890".into()),
        Reply::Attribute(
            vec![(Reply::bulk("ttl"), Reply::Int(3))],
            Box::new(Reply::bulk("v")),
        ),
        Reply::BlobError(b"SYNTAX invalid".to_vec()),
    ]);
    let mut wire = Vec::new();
    all.encode(&mut wire);
    let (parsed, used) = parse_reply(&wire).unwrap().unwrap();
    assert_eq!(used, wire.len());
    assert_eq!(parsed, all);
    for cut in 0..wire.len() {
        assert_eq!(
            parse_reply(&wire[..cut]).unwrap(),
            None,
            "prefix of {cut} bytes"
        );
    }
    assert!(parse_reply(b"?what\r\n").is_err());
    assert!(parse_reply(b"$3\r\nabcd\r\n").is_err());
    assert!(parse_reply(b":12x\r\n").is_err());
}

/// A config file given as the first extra argument is passed first, as
/// redis-server's grammar requires, and options after it still apply.
#[test]
fn server_accepts_config_file_first() {
    let dir = common::unique_temp_dir("conf");
    let conf = dir.join("test.conf");
    std::fs::write(&conf, "maxmemory 1234567\n").unwrap();
    let server = Server::redis(&[conf.to_str().unwrap(), "--hz", "17"]);
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd_str(&["CONFIG", "GET", "maxmemory"]),
        Reply::array(vec![Reply::bulk("maxmemory"), Reply::bulk("1234567")])
    );
    assert_eq!(
        raw.cmd_str(&["CONFIG", "GET", "hz"]),
        Reply::array(vec![Reply::bulk("hz"), Reply::bulk("17")])
    );
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
