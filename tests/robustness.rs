//! Bad input from the network never takes the server down: random bytes and malformed frames
//! over many connections, then the server must still answer and hold its data.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Reply, Server};

const FRAGMENTS: &[&[u8]] = &[
    b"*",
    b"$",
    b"\r\n",
    b"-1",
    b"0",
    b"3",
    b"99999999999",
    b"*2\r\n",
    b"$3\r\nGET\r\n",
    b"$-2\r\n",
    b"*-5\r\n",
    b"SET",
    b"\"",
    b"'",
    b"\\x",
    b"\n",
    b" ",
    b"*1\r\n$4\r\nPING\r\n",
    b"\x00",
    b"\xff",
    b"$2147483648\r\n",
    b"*2147483648\r\n",
    b"CONFIG",
    b"DEBUG",
    b"HELLO 3\r\n",
    b"*3\r\n$3\r\nSET\r\n",
];

#[test]
fn random_and_malformed_frames_never_hurt_the_server() {
    let s = Server::ferrodis(&[]);
    let mut keeper = s.raw();
    assert_eq!(keeper.cmd_str(&["SET", "precious", "data"]), Reply::ok());
    // Seeded so a failure can be replayed.
    let mut rng = fastrand::Rng::with_seed(0xBAD_1DEA);
    for round in 0..300 {
        let Ok(mut c) = TcpStream::connect(("127.0.0.1", s.port)) else {
            panic!("connection {round} refused: the server died");
        };
        c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut frame = Vec::new();
        for _ in 0..rng.usize(1..41) {
            if rng.u8(..3) == 0 {
                for _ in 0..rng.usize(..16) {
                    frame.push(rng.u8(..));
                }
            } else {
                frame.extend_from_slice(FRAGMENTS[rng.usize(..FRAGMENTS.len())]);
            }
        }
        let _ = c.write_all(&frame);
        let mut sink = [0u8; 4096];
        let _ = c.read(&mut sink);
    }
    // A fresh client is served and nothing was lost.
    let mut after = s.raw();
    assert_eq!(after.cmd_str(&["PING"]), Reply::simple("PONG"));
    assert_eq!(after.cmd_str(&["GET", "precious"]), Reply::bulk("data"));
    assert_eq!(keeper.cmd_str(&["GET", "precious"]), Reply::bulk("data"));
}

#[test]
fn a_huge_declared_bulk_is_refused_without_allocating_it() {
    let s = Server::ferrodis(&["--proto-max-bulk-len", "1mb"]);
    let mut r = s.raw();
    r.send_raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n");
    assert_eq!(
        r.read_reply(),
        Reply::err("ERR Protocol error: invalid bulk length")
    );
    r.expect_closed(Duration::from_secs(10)).unwrap();
    let mut ok = s.raw();
    assert_eq!(ok.cmd_str(&["PING"]), Reply::simple("PONG"));
}

/// Argument-parsing fuzz over the real protocol: every command of the table (and each of its
/// subcommands) with random arguments (numbers at the edges, garbage, keys of every type),
/// thousands of requests. Each must be answered, and afterwards the server still answers and
/// holds its data. Commands that would end the connection, block, change the server's
/// identity or take it down on purpose are left out.
#[test]
fn every_command_survives_random_arguments() {
    const SKIP: &[&str] = &[
        "shutdown",
        "debug",
        "monitor",
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "quit",
        "reset",
        "multi",
        "exec",
        "discard",
        "watch",
        "config",
        "acl",
        "auth",
        "hello",
        "client",
        "failover",
        "replicaof",
        "slaveof",
        "sync",
        "psync",
        "wait",
        "waitaof",
        "blpop",
        "brpop",
        "blmove",
        "brpoplpush",
        "blmpop",
        "bzpopmin",
        "bzpopmax",
        "bzmpop",
        "xread",
        "xreadgroup",
        "save",
        "bgsave",
        "bgrewriteaof",
        "select",
        "swapdb",
        "script",
        "function",
        "pfselftest",
        "eval",
        "evalsha",
        "eval_ro",
        "evalsha_ro",
        "fcall",
        "fcall_ro",
    ];
    const WORDS: &[&str] = &[
        "0",
        "1",
        "-1",
        "2",
        "100",
        "-100",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "1.5",
        "-inf",
        "+inf",
        "nan",
        "1e400",
        "(1",
        "[a",
        "-",
        "+",
        "*",
        "$",
        "0-0",
        "0-1",
        "9999999999999-1",
        "str",
        "list",
        "hash",
        "set",
        "zset",
        "stream",
        "nokey",
        "",
        "COUNT",
        "LIMIT",
        "MATCH",
        "WITHSCORES",
        "BYSCORE",
        "REV",
        "NX",
        "XX",
        "GT",
        "LT",
        "EX",
        "PX",
        "KEEPTTL",
        "GET",
        "MAXLEN",
        "~",
        "=",
        "BLOCK",
        "STORE",
        "AGGREGATE",
        "SUM",
        "WEIGHTS",
        "LEFT",
        "RIGHT",
        "BEFORE",
        "AFTER",
        "\u{0}",
        "\u{ff}",
        "FIELDS",
        "SAMPLES",
        "TYPE",
        "ID",
        "MKSTREAM",
        "GROUP",
        "g",
        "c",
    ];
    let s = Server::ferrodis(&[]);
    let mut r = s.raw();
    let setup: &[&[&str]] = &[
        &["SET", "str", "12"],
        &["RPUSH", "list", "a", "b", "c"],
        &["HSET", "hash", "f", "1", "g", "x"],
        &["SADD", "set", "1", "2", "m"],
        &["ZADD", "zset", "1", "a", "2.5", "b"],
        &["XADD", "stream", "1-1", "f", "v"],
        &["XGROUP", "CREATE", "stream", "g", "0"],
        &["SET", "precious", "data"],
    ];
    for cmd in setup {
        r.cmd_str(cmd);
    }
    let names = match r.cmd_str(&["COMMAND", "LIST"]) {
        Reply::Array(Some(items)) => items,
        other => panic!("{other:?}"),
    };
    let mut rng = fastrand::Rng::with_seed(0xA11_C0DE);
    let mut sent = 0;
    for name in names {
        let Reply::Bulk(Some(name)) = name else {
            continue;
        };
        let name = String::from_utf8(name).unwrap();
        let base = name.split('|').next().unwrap();
        if SKIP.contains(&base) {
            continue;
        }
        let prefix: Vec<&str> = name.split('|').collect();
        for _ in 0..25 {
            let mut args: Vec<&str> = prefix.clone();
            for _ in 0..rng.usize(0..7) {
                args.push(WORDS[rng.usize(..WORDS.len())]);
            }
            // Every request gets a reply: a stall or a dead server fails here.
            r.cmd_str(&args);
            sent += 1;
        }
    }
    assert!(sent > 3000, "{sent} requests");
    let mut after = s.raw();
    assert_eq!(after.cmd_str(&["PING"]), Reply::simple("PONG"));
    let precious = after.cmd_str(&["GET", "precious"]);
    // Random FLUSHALL/DEL/RENAME calls may have removed it; they must not have corrupted it.
    assert!(
        precious == Reply::bulk("data") || precious == Reply::Bulk(None),
        "{precious:?}"
    );
}
