//! Blocking commands with real clients, each scenario run against redis-server
//! and ferrodis with the replies compared: FIFO order of blocked clients,
//! timeouts, wake-ups by pushes, transactions, LMOVE, RENAME and chained
//! BLMOVEs, CLIENT UNBLOCK, and a disconnecting blocked client leaving nothing
//! behind. Waits are on conditions (INFO blocked_clients), never on sleeps.

mod common;

use std::time::{Duration, Instant};

use common::{Raw, Reply, Server};

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(admin: &mut Raw, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = admin.cmd_str(&["INFO", "clients"]);
        let text = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
        if text.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {n} blocked clients:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends a blocking command without reading its reply.
fn block(s: &Server, admin: &mut Raw, blocked_before: usize, args: &[&str]) -> Raw {
    let mut c = s.raw();
    c.set_read_timeout(Duration::from_secs(10));
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    c.send(&a);
    wait_blocked(admin, blocked_before + 1);
    c
}

/// Runs `scenario` on redis-server and on ferrodis; the transcripts must match.
fn differential(scenario: fn(&Server) -> Vec<Reply>) {
    let want = scenario(&Server::redis(&[]));
    let got = scenario(&Server::subject(&[]));
    assert_eq!(got, want);
    assert!(!want.is_empty());
}

#[test]
fn clients_are_served_in_the_order_they_blocked() {
    differential(|s| {
        let mut admin = s.raw();
        let mut c1 = block(s, &mut admin, 0, &["BLPOP", "q", "0"]);
        let mut c2 = block(s, &mut admin, 1, &["BRPOP", "other", "q", "0"]);
        let mut c3 = block(
            s,
            &mut admin,
            2,
            &["BLMPOP", "0", "2", "q", "x", "LEFT", "COUNT", "5"],
        );
        let mut out = vec![admin.cmd_str(&["RPUSH", "q", "a", "b", "c", "d"])];
        out.push(c1.read_reply());
        out.push(c2.read_reply());
        out.push(c3.read_reply());
        out.push(admin.cmd_str(&["EXISTS", "q"]));
        out
    });
}

#[test]
fn timeouts_answer_null_and_leave_nothing_behind() {
    differential(|s| {
        let mut admin = s.raw();
        let mut c = s.raw();
        let started = Instant::now();
        let mut out = vec![c.cmd_str(&["BLPOP", "nothing", "0.2"])];
        assert!(started.elapsed() >= Duration::from_millis(200));
        out.push(c.cmd_str(&["BLMOVE", "nothing", "dst", "LEFT", "RIGHT", "0.05"]));
        out.push(admin.cmd_str(&["RPUSH", "nothing", "v"]));
        out.push(admin.cmd_str(&["LRANGE", "nothing", "0", "-1"]));
        let mut r3 = s.raw();
        r3.cmd_str(&["HELLO", "3"]);
        out.push(r3.cmd_str(&["BLPOP", "none", "0.05"]));
        out
    });
}

#[test]
fn transactions_wake_blocked_clients_after_exec() {
    differential(|s| {
        let mut admin = s.raw();
        let mut c = block(s, &mut admin, 0, &["BLPOP", "t", "0"]);
        let mut out = vec![
            admin.cmd_str(&["MULTI"]),
            admin.cmd_str(&["LPUSH", "t", "first"]),
            admin.cmd_str(&["LPUSH", "t", "second"]),
            admin.cmd_str(&["RPUSH", "t", "third"]),
            admin.cmd_str(&["EXEC"]),
        ];
        out.push(c.read_reply());
        out.push(admin.cmd_str(&["LRANGE", "t", "0", "-1"]));
        // A transaction that creates and empties the key wakes nobody.
        let mut c2 = block(s, &mut admin, 0, &["BLPOP", "u", "0"]);
        out.push(admin.cmd_str(&["MULTI"]));
        out.push(admin.cmd_str(&["LPUSH", "u", "x"]));
        out.push(admin.cmd_str(&["LPOP", "u"]));
        out.push(admin.cmd_str(&["EXEC"]));
        out.push(admin.cmd_str(&["RPUSH", "u", "y"]));
        out.push(c2.read_reply());
        out
    });
}

#[test]
fn moves_renames_and_chained_blmoves_wake_clients() {
    differential(|s| {
        let mut admin = s.raw();
        let mut out = Vec::new();
        // LMOVE into a key someone waits on.
        let mut c = block(s, &mut admin, 0, &["BLPOP", "dst", "0"]);
        out.push(admin.cmd_str(&["RPUSH", "src", "a", "b"]));
        out.push(admin.cmd_str(&["LMOVE", "src", "dst", "LEFT", "LEFT"]));
        out.push(c.read_reply());
        // RENAME onto it.
        let mut c = block(s, &mut admin, 0, &["BRPOP", "dst", "0"]);
        out.push(admin.cmd_str(&["RENAME", "src", "dst"]));
        out.push(c.read_reply());
        // BLMOVE chain: a -> b -> c.
        let mut mover1 = block(
            s,
            &mut admin,
            0,
            &["BLMOVE", "a", "b", "RIGHT", "LEFT", "0"],
        );
        let mut mover2 = block(s, &mut admin, 1, &["BRPOPLPUSH", "b", "c", "0"]);
        let mut reader = block(s, &mut admin, 2, &["BLPOP", "c", "0"]);
        out.push(admin.cmd_str(&["LPUSH", "a", "v"]));
        out.push(mover1.read_reply());
        out.push(mover2.read_reply());
        out.push(reader.read_reply());
        out.push(admin.cmd_str(&["EXISTS", "a", "b", "c"]));
        // Pushing a non-list onto the key leaves the client blocked.
        let mut c = block(s, &mut admin, 0, &["BLPOP", "k", "0"]);
        out.push(admin.cmd_str(&["SET", "k", "string"]));
        out.push(admin.cmd_str(&["DEL", "k"]));
        out.push(admin.cmd_str(&["RPUSH", "k", "finally"]));
        out.push(c.read_reply());
        out
    });
}

#[test]
fn client_unblock_and_disconnects() {
    differential(|s| {
        let mut admin = s.raw();
        let mut out = Vec::new();
        let mut c = s.raw();
        c.set_read_timeout(Duration::from_secs(10));
        let id = c.cmd_str(&["CLIENT", "ID"]);
        let Reply::Int(id) = id else { panic!("{id:?}") };
        let id = id.to_string();
        c.send(&[b"BLPOP", b"w", b"0"]);
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]));
        out.push(c.read_reply());
        c.send(&[b"BLMOVE", b"w", b"x", b"LEFT", b"LEFT", b"0"]);
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]));
        out.push(c.read_reply());
        out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id]));
        out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id, "MAYBE"]));
        // A blocked client that disconnects is forgotten: the element stays.
        let gone = block(s, &mut admin, 0, &["BLPOP", "w", "0"]);
        drop(gone);
        wait_blocked(&mut admin, 0);
        out.push(admin.cmd_str(&["RPUSH", "w", "kept"]));
        out.push(admin.cmd_str(&["LRANGE", "w", "0", "-1"]));
        out
    });
}

#[test]
fn pipelined_commands_after_a_blocking_one_wait_for_it() {
    differential(|s| {
        let mut admin = s.raw();
        let mut c = s.raw();
        c.set_read_timeout(Duration::from_secs(10));
        let mut bytes = common::encode_command(&[b"BLPOP", b"p", b"0"]);
        bytes.extend(common::encode_command(&[b"RPUSH", b"p2", b"after"]));
        c.send_raw(&bytes);
        wait_blocked(&mut admin, 1);
        let mut out = vec![admin.cmd_str(&["EXISTS", "p2"])];
        out.push(admin.cmd_str(&["RPUSH", "p", "v"]));
        out.push(c.read_reply());
        out.push(c.read_reply());
        out.push(admin.cmd_str(&["EXISTS", "p2"]));
        out
    });
}

#[test]
fn many_idle_blocked_clients_are_cheap() {
    let s = Server::ferrodis(&["--maxclients", "5000"]);
    let mut admin = s.raw();
    let before = memory(&mut admin);
    let clients: Vec<Raw> = (0..2000)
        .map(|i| {
            let mut c = s.raw();
            c.send(&[b"BLPOP", format!("idle:{i}").as_bytes(), b"0"]);
            c
        })
        .collect();
    wait_blocked(&mut admin, clients.len());
    let per_client = (memory(&mut admin) - before) / clients.len() as i64;
    // Connection buffers dominate; the blocking registration itself is small.
    assert!(
        per_client < 64 * 1024,
        "{per_client} bytes per blocked client"
    );
    drop(clients);
    wait_blocked(&mut admin, 0);
}

fn memory(admin: &mut Raw) -> i64 {
    let info = admin.cmd_str(&["INFO", "memory"]);
    let text = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory")
}
