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
