//! Blocking commands with real clients, each scenario run against redis-server
//! and ferrodis with the replies compared: FIFO order of blocked clients,
//! timeouts, wake-ups by pushes, transactions, LMOVE, RENAME and chained
//! BLMOVEs, CLIENT UNBLOCK, and a disconnecting blocked client leaving nothing
//! behind; XREAD and XREADGROUP woken by XADD, consumer groups sharing new
//! entries, groups and streams going away. Waits are on conditions (INFO
//! blocked_clients), never on sleeps.

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

#[test]
fn xread_is_woken_by_entries_added_after_it_blocked() {
    differential(|s| {
        let mut admin = s.raw();
        let mut out = vec![admin.cmd_str(&["XADD", "s", "1-1", "f", "old"])];
        // `$` means entries added after blocking: the existing one is not returned.
        let mut latest = block(
            s,
            &mut admin,
            0,
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        );
        let mut two = block(
            s,
            &mut admin,
            1,
            &["XREAD", "BLOCK", "0", "STREAMS", "other", "s", "0", "$"],
        );
        let mut r3 = s.raw();
        r3.set_read_timeout(Duration::from_secs(10));
        r3.cmd_str(&["HELLO", "3"]);
        r3.send(&[
            b"XREAD", b"COUNT", b"1", b"BLOCK", b"0", b"STREAMS", b"s", b"$",
        ]);
        wait_blocked(&mut admin, 3);
        out.push(admin.cmd_str(&["XADD", "other", "5-0", "f", "x"]));
        out.push(two.read_reply());
        out.push(admin.cmd_str(&["XADD", "s", "2-1", "f", "new"]));
        out.push(latest.read_reply());
        out.push(r3.read_reply());
        // A transaction's entries all arrive at once, COUNT permitting.
        let mut all = block(
            s,
            &mut admin,
            0,
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        );
        let mut one = block(
            s,
            &mut admin,
            1,
            &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "$"],
        );
        for cmd in [
            &["MULTI"][..],
            &["XADD", "s", "3-0", "a", "1"],
            &["XADD", "s", "3-1", "b", "2"],
            &["EXEC"],
        ] {
            out.push(admin.cmd_str(cmd));
        }
        out.push(all.read_reply());
        out.push(one.read_reply());
        // Entries added and deleted before the client is served: an empty answer.
        let mut c = block(
            s,
            &mut admin,
            0,
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        );
        for cmd in [
            &["MULTI"][..],
            &["XADD", "s", "4-0", "a", "1"],
            &["XDEL", "s", "4-0"],
            &["EXEC"],
        ] {
            out.push(admin.cmd_str(cmd));
        }
        out.push(c.read_reply());
        // Creating the stream without entries does not wake anyone.
        let mut c = block(
            s,
            &mut admin,
            0,
            &["XREAD", "BLOCK", "0", "STREAMS", "t", "$"],
        );
        out.push(admin.cmd_str(&["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"]));
        out.push(admin.cmd_str(&["XADD", "t", "1-0", "f", "v"]));
        out.push(c.read_reply());
        out
    });
}

#[test]
fn stream_reads_time_out_with_a_null_and_never_block_in_multi() {
    differential(|s| {
        let mut admin = s.raw();
        let mut c = s.raw();
        let started = Instant::now();
        let mut out = vec![c.cmd_str(&["XREAD", "BLOCK", "150", "STREAMS", "s", "$"])];
        assert!(started.elapsed() >= Duration::from_millis(150));
        out.push(admin.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]));
        out.push(c.cmd_str(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "50",
            "STREAMS",
            "s",
            ">",
        ]));
        // A consumer that timed out without reading was never created.
        out.push(admin.cmd_str(&["XINFO", "GROUPS", "s"]));
        let mut r3 = s.raw();
        r3.cmd_str(&["HELLO", "3"]);
        out.push(r3.cmd_str(&["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]));
        for cmd in [
            &["MULTI"][..],
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
            &["EXEC"],
        ] {
            out.push(c.cmd_str(cmd));
        }
        let id = c.cmd_str(&["CLIENT", "ID"]);
        let Reply::Int(id) = id else { panic!("{id:?}") };
        let id = id.to_string();
        c.send(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]);
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id]));
        out.push(c.read_reply());
        c.send(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]);
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]));
        out.push(c.read_reply());
        out
    });
}

#[test]
fn consumer_groups_share_new_entries_between_blocked_readers() {
    differential(|s| {
        let mut admin = s.raw();
        let mut out = vec![admin.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])];
        out.push(admin.cmd_str(&["XGROUP", "CREATE", "s", "h", "$"]));
        let read = |consumer: &'static str, group: &'static str| {
            move |noack: bool| {
                let mut v = vec!["XREADGROUP", "GROUP", group, consumer];
                if noack {
                    v.push("NOACK");
                }
                v.extend(["BLOCK", "0", "STREAMS", "s", ">"]);
                v
            }
        };
        let mut c1 = block(s, &mut admin, 0, &read("c1", "g")(false));
        let mut c2 = block(s, &mut admin, 1, &read("c2", "g")(false));
        let mut h1 = block(s, &mut admin, 2, &read("h1", "h")(true));
        let mut plain = block(
            s,
            &mut admin,
            3,
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        );
        out.push(admin.cmd_str(&["XADD", "s", "1-0", "f", "one"]));
        out.push(c1.read_reply());
        out.push(h1.read_reply());
        out.push(plain.read_reply());
        // c2 is still waiting: the group already delivered the entry.
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["XADD", "s", "2-0", "f", "two"]));
        out.push(c2.read_reply());
        out.push(admin.cmd_str(&["XPENDING", "s", "g"]));
        out.push(admin.cmd_str(&["XPENDING", "s", "h"]));
        out.push(admin.cmd_str(&["XINFO", "GROUPS", "s"]));
        // Moving the group back does not wake a reader; the next entry does.
        let mut c3 = block(s, &mut admin, 0, &read("c3", "g")(false));
        out.push(admin.cmd_str(&["XGROUP", "SETID", "s", "g", "0"]));
        out.push(admin.cmd_str(&["XADD", "s", "3-0", "f", "three"]));
        out.push(c3.read_reply());
        out
    });
}

#[test]
fn blocked_group_readers_learn_their_group_or_stream_is_gone() {
    differential(|s| {
        let mut admin = s.raw();
        let mut out = vec![admin.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])];
        out.push(admin.cmd_str(&["XGROUP", "CREATE", "s", "other", "$"]));
        let group = |g: &'static str| {
            [
                "XREADGROUP",
                "GROUP",
                g,
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ]
        };
        let mut c = block(s, &mut admin, 0, &group("g"));
        let mut kept = block(s, &mut admin, 1, &group("other"));
        out.push(admin.cmd_str(&["XGROUP", "DESTROY", "s", "g"]));
        out.push(c.read_reply());
        wait_blocked(&mut admin, 1);
        // Deleting the stream unblocks group readers with an error; plain readers stay.
        let mut plain = block(
            s,
            &mut admin,
            1,
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        );
        out.push(admin.cmd_str(&["DEL", "s"]));
        out.push(kept.read_reply());
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["XADD", "s", "1-0", "f", "v"]));
        out.push(plain.read_reply());
        // Overwritten by another type, or recreated without the group.
        out.push(admin.cmd_str(&["XGROUP", "CREATE", "s", "g", "$"]));
        let mut c = block(s, &mut admin, 0, &group("g"));
        out.push(admin.cmd_str(&["SET", "s", "x"]));
        out.push(c.read_reply());
        out.push(admin.cmd_str(&["DEL", "s"]));
        out.push(admin.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]));
        let mut c = block(s, &mut admin, 0, &group("g"));
        for cmd in [
            &["MULTI"][..],
            &["DEL", "s"],
            &["XADD", "s", "2-0", "f", "v"],
            &["EXEC"],
        ] {
            out.push(admin.cmd_str(cmd));
        }
        out.push(c.read_reply());
        out
    });
}

fn memory(admin: &mut Raw) -> i64 {
    let info = admin.cmd_str(&["INFO", "memory"]);
    let text = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory")
}

#[test]
fn sorted_set_pops_block_and_wake_like_redis() {
    differential(|s| {
        let mut admin = s.raw();
        let mut c1 = block(s, &mut admin, 0, &["BZPOPMIN", "z", "0"]);
        let mut c2 = block(s, &mut admin, 1, &["BZPOPMAX", "other", "z", "0"]);
        let mut c3 = block(
            s,
            &mut admin,
            2,
            &["BZMPOP", "0", "2", "z", "x", "MAX", "COUNT", "5"],
        );
        let mut out = vec![admin.cmd_str(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"])];
        out.push(c1.read_reply());
        out.push(c2.read_reply());
        out.push(c3.read_reply());
        out.push(admin.cmd_str(&["EXISTS", "z"]));
        // Data already there: no blocking, in RESP2 and RESP3 shapes.
        let mut c = s.raw();
        out.push(c.cmd_str(&["ZADD", "r", "1.5", "m", "2", "n", "3", "o"]));
        out.push(c.cmd_str(&["BZPOPMAX", "missing", "r", "0"]));
        out.push(c.cmd_str(&["BZMPOP", "0", "1", "r", "MIN"]));
        c.cmd_str(&["HELLO", "3"]);
        out.push(c.cmd_str(&["BZPOPMIN", "r", "0"]));
        out.push(c.cmd_str(&["ZADD", "r", "7", "p", "8", "q"]));
        out.push(c.cmd_str(&["BZMPOP", "0", "1", "r", "MAX", "COUNT", "9"]));
        out.push(c.cmd_str(&["BZPOPMIN", "r", "0.01"]));
        c.cmd_str(&["HELLO", "2"]);
        out.push(c.cmd_str(&["BZMPOP", "0.01", "1", "r", "MIN"]));
        // Errors come before blocking.
        out.push(c.cmd_str(&["SET", "str", "v"]));
        out.push(c.cmd_str(&["BZPOPMIN", "missing", "str", "0"]));
        out.push(c.cmd_str(&["BZPOPMIN", "r", "-1"]));
        out.push(c.cmd_str(&["BZPOPMIN", "r", "abc"]));
        out.push(c.cmd_str(&["BZMPOP", "abc", "0", "r", "MIN"]));
        out.push(c.cmd_str(&["BZMPOP", "-1", "1", "r", "MIN"]));
        out.push(c.cmd_str(&["BZMPOP", "0", "1", "r", "MIDDLE"]));
        out.push(c.cmd_str(&["BZMPOP", "0", "1", "str", "MIN"]));
        // Inside MULTI nothing blocks.
        out.push(c.cmd_str(&["MULTI"]));
        out.push(c.cmd_str(&["BZPOPMIN", "r", "0"]));
        out.push(c.cmd_str(&["BZMPOP", "0", "1", "r", "MIN"]));
        out.push(c.cmd_str(&["EXEC"]));
        out
    });
}

#[test]
fn sorted_set_waiters_wake_on_stores_and_ignore_lists() {
    differential(|s| {
        let mut admin = s.raw();
        let mut out = Vec::new();
        // A list waiter ahead of a sorted set waiter on the same key: the set serves the
        // second, the first stays blocked until a list shows up.
        let mut lister = block(s, &mut admin, 0, &["BLPOP", "k", "0"]);
        let mut zpopper = block(s, &mut admin, 1, &["BZPOPMIN", "k", "0"]);
        out.push(admin.cmd_str(&["ZADD", "k", "5", "five"]));
        out.push(zpopper.read_reply());
        wait_blocked(&mut admin, 1);
        out.push(admin.cmd_str(&["RPUSH", "k", "item"]));
        out.push(lister.read_reply());
        // Stores create the key and wake the waiter.
        let mut c = block(s, &mut admin, 0, &["BZPOPMAX", "dst", "0"]);
        out.push(admin.cmd_str(&["ZADD", "src", "1", "a", "2", "b"]));
        out.push(admin.cmd_str(&["ZUNIONSTORE", "dst", "1", "src"]));
        out.push(c.read_reply());
        let mut c = block(
            s,
            &mut admin,
            0,
            &["BZMPOP", "0", "1", "dst2", "MIN", "COUNT", "2"],
        );
        out.push(admin.cmd_str(&["ZRANGESTORE", "dst2", "src", "0", "-1"]));
        out.push(c.read_reply());
        // A transaction that creates and empties the set wakes nobody.
        let mut c = block(s, &mut admin, 0, &["BZPOPMIN", "t", "0"]);
        out.push(admin.cmd_str(&["MULTI"]));
        out.push(admin.cmd_str(&["ZADD", "t", "1", "x"]));
        out.push(admin.cmd_str(&["ZREM", "t", "x"]));
        out.push(admin.cmd_str(&["EXEC"]));
        out.push(admin.cmd_str(&["ZADD", "t", "2", "y"]));
        out.push(c.read_reply());
        out
    });
}
