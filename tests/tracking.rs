//! CLIENT TRACKING (client-side caching) compared with redis-server: each
//! scenario runs on both servers and the transcripts (replies and the
//! invalidation messages in the order they arrive) must be identical.

mod common;

use std::time::Duration;

use common::{Raw, Reply, Server};

/// Everything the tracking client has received up to and including the reply to a PING.
fn drain(c: &mut Raw) -> Vec<Reply> {
    c.send(&[b"PING"]);
    let mut got = Vec::new();
    loop {
        let r = c.read_reply();
        let done = matches!(&r, Reply::Simple(s) if s == "PONG");
        got.push(r);
        if done {
            return got;
        }
    }
}

fn differential(scenario: fn(&Server) -> Vec<Reply>) {
    let want = scenario(&Server::redis(&[]));
    let got = scenario(&Server::subject(&[]));
    assert_eq!(got, want);
}

fn resp3(s: &Server) -> Raw {
    let mut c = s.raw();
    c.set_read_timeout(Duration::from_secs(10));
    c.cmd_str(&["HELLO", "3"]);
    c
}

#[test]
fn default_mode_invalidates_keys_read_once() {
    differential(|s| {
        let mut t = resp3(s);
        let mut w = s.raw();
        let mut out = vec![t.cmd_str(&["CLIENT", "TRACKING", "on"])];
        out.push(w.cmd_str(&["MSET", "a", "1", "b", "2"]));
        out.push(t.cmd_str(&["MGET", "a", "b", "c"]));
        out.push(w.cmd_str(&["SET", "a", "x"]));
        out.extend(drain(&mut t));
        // Not read again: no second message.
        out.push(w.cmd_str(&["SET", "a", "y"]));
        out.extend(drain(&mut t));
        out.push(w.cmd_str(&["DEL", "b", "c"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["GET", "a"]));
        out.push(w.cmd_str(&["EXPIRE", "a", "100"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["LRANGE", "l", "0", "-1"]));
        out.push(w.cmd_str(&["RPUSH", "l", "v"]));
        out.extend(drain(&mut t));
        // Own writes notify too, unless NOLOOP.
        out.push(t.cmd_str(&["GET", "own"]));
        out.push(t.cmd_str(&["SET", "own", "1"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["CLIENT", "TRACKING", "on", "NOLOOP"]));
        out.push(t.cmd_str(&["GET", "own"]));
        out.push(t.cmd_str(&["SET", "own", "2"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["GET", "f"]));
        out.push(w.cmd_str(&["FLUSHALL"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["CLIENT", "TRACKINGINFO"]));
        out.push(t.cmd_str(&["CLIENT", "TRACKING", "off"]));
        out.push(t.cmd_str(&["CLIENT", "TRACKINGINFO"]));
        out
    });
}

#[test]
fn bcast_optin_and_redirect() {
    differential(|s| {
        let mut out = Vec::new();
        // BCAST with prefixes: nothing recorded, every change under a prefix is sent.
        let mut t = resp3(s);
        let mut w = s.raw();
        out.push(t.cmd_str(&[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "job:",
        ]));
        out.push(w.cmd_str(&["SET", "user:1", "a"]));
        out.push(w.cmd_str(&["SET", "other", "a"]));
        out.push(w.cmd_str(&["SET", "job:9", "a"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["CLIENT", "TRACKINGINFO"]));
        out.push(t.cmd_str(&["CLIENT", "TRACKING", "off"]));
        // OPTIN: only reads after CLIENT CACHING yes are tracked.
        out.push(t.cmd_str(&["CLIENT", "TRACKING", "on", "OPTIN"]));
        out.push(t.cmd_str(&["GET", "k1"]));
        out.push(t.cmd_str(&["CLIENT", "CACHING", "yes"]));
        out.push(t.cmd_str(&["GET", "k2"]));
        out.push(w.cmd_str(&["MSET", "k1", "1", "k2", "2"]));
        out.extend(drain(&mut t));
        out.push(t.cmd_str(&["CLIENT", "TRACKING", "off"]));
        // RESP2 client redirecting to a subscriber of __redis__:invalidate.
        let mut sub = s.raw();
        sub.set_read_timeout(Duration::from_secs(10));
        let Reply::Int(sub_id) = sub.cmd_str(&["CLIENT", "ID"]) else {
            panic!("client id")
        };
        out.push(sub.cmd_str(&["SUBSCRIBE", "__redis__:invalidate"]));
        let mut r2 = s.raw();
        let id = sub_id.to_string();
        out.push(r2.cmd_str(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]));
        let redir = r2.cmd_str(&["CLIENT", "GETREDIR"]);
        out.push(Reply::Int((redir == Reply::Int(sub_id)) as i64));
        out.push(r2.cmd_str(&["GET", "r"]));
        out.push(w.cmd_str(&["SET", "r", "1"]));
        out.push(sub.read_reply());
        out
    });
}

#[test]
fn tracking_errors_match_redis() {
    differential(|s| {
        let mut c = s.raw();
        [
            &["CLIENT", "TRACKING", "maybe"][..],
            &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
            &["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a",
            ],
            &["CLIENT", "TRACKING", "on", "FOO"],
            &["CLIENT", "CACHING", "yes"],
            &["CLIENT", "GETREDIR"],
            &["CLIENT", "TRACKING", "on", "OPTOUT"],
            &["CLIENT", "CACHING", "yes"],
            &["CLIENT", "CACHING", "no"],
            &["CLIENT", "CACHING", "maybe"],
            &["CLIENT", "TRACKING", "on", "OPTIN"],
            &["CLIENT", "TRACKING", "on", "BCAST"],
            &["CLIENT", "GETREDIR"],
            &["CLIENT", "TRACKING", "off"],
        ]
        .iter()
        .map(|cmd| c.cmd_str(cmd))
        .collect()
    });
}

#[test]
fn expiry_invalidates_tracked_keys() {
    differential(|s| {
        let mut t = resp3(s);
        let mut w = s.raw();
        let mut out = vec![
            t.cmd_str(&["CLIENT", "TRACKING", "on"]),
            w.cmd_str(&["SET", "exp", "v", "PX", "100"]),
            t.cmd_str(&["GET", "exp"]),
        ];
        // Nobody touches the key: the active expiry cycle deletes it and tells the reader.
        out.push(t.read_reply());
        out
    });
}
