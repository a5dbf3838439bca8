//! RDB persistence with the real binaries: round trips through SHUTDOWN SAVE and restart,
//! files exchanged with redis-server (and checked by redis-check-rdb), DUMP/RESTORE across
//! servers, crashes during BGSAVE, point-in-time BGSAVE under concurrent writes, corrupt and
//! truncated files, save points, MISCONF, FLUSHALL and DEBUG RELOAD. Every wait polls a
//! condition with a deadline.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Raw, Reply, Server};

const DEADLINE: Duration = Duration::from_secs(120);

fn cmd(r: &mut Raw, args: &[&str]) -> Reply {
    r.cmd_str(args)
}

fn ok(r: &mut Raw, args: &[&str]) {
    let reply = cmd(r, args);
    assert!(!reply.is_error(), "{args:?} failed: {reply:?}");
}

fn text(reply: &Reply) -> String {
    match reply {
        Reply::Simple(s) | Reply::Error(s) => s.clone(),
        Reply::Int(n) => n.to_string(),
        other => String::from_utf8_lossy(other.bytes().unwrap_or_default()).into_owned(),
    }
}

fn info(r: &mut Raw, section: &str) -> String {
    text(&cmd(r, &["INFO", section]))
}

fn info_field(r: &mut Raw, section: &str, field: &str) -> String {
    let body = info(r, section);
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}: {body}"))
        .trim()
        .to_string()
}

/// Polls until `cond` holds, failing after the deadline.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_bgsave_done(r: &mut Raw) {
    wait_for("the background save to finish", || {
        info_field(r, "persistence", "rdb_bgsave_in_progress") == "0"
    });
}

fn digest(r: &mut Raw) -> String {
    text(&cmd(r, &["DEBUG", "DIGEST"]))
}

/// INFO keyspace without avg_ttl (an estimate that moves).
fn keyspace(r: &mut Raw) -> Vec<String> {
    info(r, "keyspace")
        .lines()
        .filter(|l| l.starts_with("db"))
        .map(|l| l.split(",avg_ttl").next().unwrap_or(l).to_string())
        .collect()
}

fn own_dir(tag: &str) -> PathBuf {
    common::unique_temp_dir(tag)
}

fn ferrodis_in(dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::ferrodis(&args)
}

fn redis_in(dir: &Path) -> Server {
    Server::redis(&["--dir", dir.to_str().unwrap()])
}

/// Every type in its compact and full encodings, expiries, a function library and keys in all
/// 16 databases. `big` elements for the large collections.
fn populate(r: &mut Raw, big: usize) {
    ok(r, &["SET", "s:small", "hello"]);
    ok(r, &["SET", "s:int", "12345"]);
    ok(r, &["SET", "s:long", &"abc".repeat(1000)]);
    ok(r, &["SET", "s:ttl", "v", "PX", "100000000"]);
    ok(r, &["RPUSH", "l:small", "a", "1", "b"]);
    ok(r, &["HSET", "h:small", "f", "v", "n", "7"]);
    ok(r, &["SADD", "set:ints", "1", "2", "300000"]);
    ok(r, &["SADD", "set:strs", "a", "b"]);
    ok(r, &["ZADD", "z:small", "1", "a", "2.5", "b"]);
    ok(r, &["XADD", "x:small", "1-1", "f", "v"]);
    let chunk = 5000;
    for start in (0..big).step_by(chunk) {
        let end = (start + chunk).min(big);
        let mut list = vec!["RPUSH".to_string(), "l:big".into()];
        let mut ints = vec!["RPUSH".to_string(), "l:ints".into()];
        let mut hash = vec!["HSET".to_string(), "h:big".into()];
        let mut set = vec!["SADD".to_string(), "set:big".into()];
        let mut zset = vec!["ZADD".to_string(), "z:big".into()];
        for i in start..end {
            list.push(format!("element-{i}"));
            // Integers of every listpack encoding, with a few non-canonical texts among them.
            ints.push(match i {
                _ if i % 997 == 0 => (i64::MAX - i as i64).to_string(),
                _ if i % 1009 == 0 => format!("0{i}"),
                _ if i % 499 == 0 => (i as i64 * -1_000_003).to_string(),
                _ => ((i as i64 * 37) % 20011 - 10000).to_string(),
            });
            hash.push(format!("field-{i}"));
            hash.push(i.to_string());
            set.push(format!("member-{i}"));
            zset.push(format!("{}", i as f64 / 7.0));
            zset.push(format!("m{i}"));
        }
        for c in [list, ints, hash, set, zset] {
            let refs: Vec<&str> = c.iter().map(String::as_str).collect();
            ok(r, &refs);
        }
    }
    for i in 0..(big / 10).max(10) {
        ok(
            r,
            &["XADD", "x:big", "*", "field", &i.to_string(), "other", "x"],
        );
    }
    ok(r, &["XGROUP", "CREATE", "x:big", "g1", "0"]);
    ok(r, &["XGROUP", "CREATE", "x:big", "g2", "$"]);
    ok(
        r,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "5",
            "STREAMS",
            "x:big",
            ">",
        ],
    );
    ok(
        r,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "3",
            "STREAMS",
            "x:big",
            ">",
        ],
    );
    let gone = text(&cmd(r, &["XADD", "x:big", "*", "gone", "1"]));
    ok(r, &["XDEL", "x:big", &gone]);
    ok(
        r,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        ],
    );
    for db in 1..16 {
        ok(r, &["SELECT", &db.to_string()]);
        ok(r, &["SET", &format!("db{db}"), &db.to_string()]);
        ok(r, &["SET", "ttl", "x", "EX", "100000"]);
    }
    ok(r, &["SELECT", "0"]);
}

#[test]
fn shutdown_save_and_restart_keeps_every_type() {
    let dir = own_dir("rdb-roundtrip");
    let mut server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    // Debug builds digest 100 MB slowly.
    r.set_read_timeout(DEADLINE);
    populate(&mut r, 100_000);
    // A 100 MB string.
    ok(&mut r, &["SETRANGE", "s:huge", "104857599", "end"]);
    let (d, ks) = (digest(&mut r), keyspace(&mut r));
    let encodings: Vec<String> = [
        "l:big", "h:big", "h:small", "set:big", "set:ints", "z:big", "z:small",
    ]
    .iter()
    .map(|k| text(&cmd(&mut r, &["OBJECT", "ENCODING", k])))
    .collect();
    r.send(&[b"SHUTDOWN", b"SAVE"]);
    let status = server
        .wait_exit(DEADLINE)
        .expect("ferrodis exits after SHUTDOWN SAVE");
    assert!(status.success(), "{status}");
    let restarted = ferrodis_in(&dir, &[]);
    let mut r = restarted.raw();
    r.set_read_timeout(DEADLINE);
    assert_eq!(digest(&mut r), d);
    assert_eq!(keyspace(&mut r), ks);
    let after: Vec<String> = [
        "l:big", "h:big", "h:small", "set:big", "set:ints", "z:big", "z:small",
    ]
    .iter()
    .map(|k| text(&cmd(&mut r, &["OBJECT", "ENCODING", k])))
    .collect();
    assert_eq!(after, encodings);
    let total: usize = ks
        .iter()
        .filter_map(|l| {
            l.split("keys=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(
        info_field(&mut r, "persistence", "rdb_last_load_keys_loaded"),
        total.to_string()
    );
    assert_eq!(text(&cmd(&mut r, &["FCALL", "f", "0"])), "1");
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_interoperate_with_redis_server() {
    let fdir = own_dir("rdb-ferrodis");
    let rdir = own_dir("rdb-redis");
    let ferrodis = ferrodis_in(&fdir, &[]);
    let mut f = ferrodis.raw();
    populate(&mut f, 5_000);
    let d = digest(&mut f);
    let ks = keyspace(&mut f);
    ok(&mut f, &["SAVE"]);
    let file = fdir.join("dump.rdb");
    let check = Command::new("redis-check-rdb")
        .arg(&file)
        .output()
        .expect("run redis-check-rdb");
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && out.contains("RDB looks OK"),
        "{out}"
    );

    // redis-server loads ferrodis's file...
    std::fs::copy(&file, rdir.join("dump.rdb")).unwrap();
    let redis = redis_in(&rdir);
    let mut rr = redis.raw();
    assert_eq!(digest(&mut rr), d);
    assert_eq!(keyspace(&mut rr), ks);
    assert_eq!(text(&cmd(&mut rr, &["FCALL", "f", "0"])), "1");

    // ...and ferrodis loads redis-server's.
    ok(&mut rr, &["SET", "written-by", "redis"]);
    let d2 = digest(&mut rr);
    ok(&mut rr, &["SAVE"]);
    let f2dir = own_dir("rdb-from-redis");
    std::fs::copy(rdir.join("dump.rdb"), f2dir.join("dump.rdb")).unwrap();
    let ferrodis2 = ferrodis_in(&f2dir, &[]);
    let mut f2 = ferrodis2.raw();
    assert_eq!(digest(&mut f2), d2);
    drop((ferrodis, ferrodis2, redis));
    for dir in [fdir, rdir, f2dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn dump_restores_across_servers() {
    let ferrodis = Server::ferrodis(&[]);
    let redis = Server::redis(&[]);
    let (mut f, mut r) = (ferrodis.raw(), redis.raw());
    populate(&mut f, 300);
    populate(&mut r, 300);
    let keys = [
        "s:small", "s:int", "s:long", "l:small", "l:big", "l:ints", "h:small", "h:big", "set:ints",
        "set:big", "z:small", "z:big", "x:small", "x:big",
    ];
    for k in keys {
        copy_value(&mut f, &mut r, k, &format!("f2r:{k}"));
        copy_value(&mut r, &mut f, k, &format!("r2f:{k}"));
    }
}

/// DUMP `key` on one server, RESTORE it as `target` on the other, compare their digests.
fn copy_value(from: &mut Raw, to: &mut Raw, key: &str, target: &str) {
    let payload = from.cmd(&[b"DUMP", key.as_bytes()]);
    let payload = payload.bytes().expect("a payload").to_vec();
    let reply = to.cmd(&[b"RESTORE", target.as_bytes(), b"0", &payload]);
    assert_eq!(reply, Reply::ok(), "RESTORE {target}");
    let a = text(&from.cmd_str(&["DEBUG", "DIGEST-VALUE", key]));
    let b = text(&to.cmd_str(&["DEBUG", "DIGEST-VALUE", target]));
    assert_eq!(a, b, "{target}");
}

#[test]
fn kill_during_bgsave_leaves_the_previous_file() {
    let dir = own_dir("rdb-crash");
    let mut server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    populate(&mut r, 1000);
    ok(&mut r, &["SAVE"]);
    let saved = digest(&mut r);
    ok(&mut r, &["DEBUG", "POPULATE", "400000", "crash", "100"]);
    // Serializing 400k keys takes far longer than the round trip to the kill.
    assert_eq!(text(&cmd(&mut r, &["BGSAVE"])), "Background saving started");
    server.kill9();
    assert!(
        dir.join(format!("temp-bgsave-{}.rdb", server.pid()))
            .exists(),
        "the save was interrupted half-way"
    );
    drop(server);
    let restarted = ferrodis_in(&dir, &[]);
    let mut r = restarted.raw();
    assert_eq!(digest(&mut r), saved);
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bgsave_holds_one_instant_while_clients_write() {
    let dir = own_dir("rdb-instant");
    let server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    ok(&mut r, &["DEBUG", "POPULATE", "200000", "bulk", "50"]);
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut w = Raw::connect(port);
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Two keys in different shards and a counter, written atomically.
                let n = i.to_string();
                w.send(&[b"MULTI"]);
                w.send(&[b"SET", format!("pair-a-{i}").as_bytes(), n.as_bytes()]);
                w.send(&[b"SET", format!("pair-b-{i}").as_bytes(), n.as_bytes()]);
                w.send(&[b"INCR", b"counter"]);
                w.send(&[b"EXEC"]);
                for _ in 0..4 {
                    w.read_reply();
                }
                let exec = w.read_reply();
                assert!(exec.items().is_some(), "{exec:?}");
                i += 1;
            }
            i
        })
    };
    wait_for("some writes", || {
        text(&cmd(&mut r, &["GET", "counter"]))
            .parse::<u64>()
            .unwrap_or(0)
            > 20
    });
    assert_eq!(text(&cmd(&mut r, &["BGSAVE"])), "Background saving started");
    wait_bgsave_done(&mut r);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert_eq!(
        info_field(&mut r, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );

    // The file's sections repeat per captured chunk: redis-check-rdb and redis-server read it.
    let checked = Command::new("redis-check-rdb")
        .arg(dir.join("dump.rdb"))
        .output()
        .expect("run redis-check-rdb");
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && out.contains("RDB looks OK"),
        "{out}"
    );
    let rdir = own_dir("rdb-instant-redis");
    std::fs::copy(dir.join("dump.rdb"), rdir.join("dump.rdb")).unwrap();
    let redis = redis_in(&rdir);
    let redis_counter = text(&cmd(&mut redis.raw(), &["GET", "counter"]));
    drop(redis);
    let _ = std::fs::remove_dir_all(&rdir);

    let check = own_dir("rdb-instant-load");
    std::fs::copy(dir.join("dump.rdb"), check.join("dump.rdb")).unwrap();
    let loaded = ferrodis_in(&check, &[]);
    let mut l = loaded.raw();
    let counter: u64 = text(&cmd(&mut l, &["GET", "counter"])).parse().unwrap();
    assert_eq!(redis_counter, counter.to_string());
    assert!(counter > 0 && counter <= written, "{counter} of {written}");
    // Exactly the first `counter` pairs, each complete: one instant.
    let pairs: Vec<String> = match cmd(&mut l, &["KEYS", "pair-*"]) {
        Reply::Array(Some(items)) => items.iter().map(text).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(pairs.len() as u64, 2 * counter);
    for i in 0..counter {
        for side in ["a", "b"] {
            let v = text(&cmd(&mut l, &["GET", &format!("pair-{side}-{i}")]));
            assert_eq!(v, i.to_string());
        }
    }
    assert_eq!(
        text(&cmd(&mut l, &["DBSIZE"])),
        (200_001 + 2 * counter).to_string()
    );
    drop((server, loaded));
    for d in [dir, check] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Starts the binary on a prepared directory and expects it to refuse the file: a non-zero
/// exit with a message naming the byte offset, and no panic.
fn expect_refused(dir: &Path, what: &str) {
    let port = common::free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrodis"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run ferrodis");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "{what}: loaded instead of refusing:\n{log}"
    );
    assert!(log.contains("offset"), "{what}: no offset named:\n{log}");
    assert!(!log.contains("panicked"), "{what}: panic:\n{log}");
}

#[test]
fn corrupt_and_truncated_files_are_refused() {
    let dir = own_dir("rdb-good");
    let server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    populate(&mut r, 300);
    ok(&mut r, &["SAVE"]);
    let good = std::fs::read(dir.join("dump.rdb")).unwrap();
    drop(server);
    let bad = own_dir("rdb-bad");
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for round in 0..25 {
        let mut data = good.clone();
        let at = rng.usize(..data.len());
        data[at] ^= 1 << rng.u32(..8);
        std::fs::write(bad.join("dump.rdb"), &data).unwrap();
        expect_refused(&bad, &format!("round {round}: bit flipped at {at}"));
    }
    for round in 0..15 {
        let cut = rng.usize(..good.len());
        std::fs::write(bad.join("dump.rdb"), &good[..cut]).unwrap();
        expect_refused(&bad, &format!("round {round}: truncated to {cut} bytes"));
    }
    for d in [dir, bad] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn info_persistence_has_redis_fields_in_order() {
    let ferrodis = Server::ferrodis(&[]);
    let redis = Server::redis(&[]);
    let names = |r: &mut Raw| -> Vec<String> {
        info(r, "persistence")
            .lines()
            .filter_map(|l| l.split(':').next())
            .filter(|n| !n.is_empty() && !n.starts_with('#'))
            .map(String::from)
            .collect()
    };
    assert_eq!(names(&mut ferrodis.raw()), names(&mut redis.raw()));
}

#[test]
fn bgsave_inside_multi_is_scheduled() {
    let dir = own_dir("rdb-scheduled");
    let server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    ok(&mut r, &["SET", "k", "v"]);
    ok(&mut r, &["MULTI"]);
    assert_eq!(cmd(&mut r, &["BGSAVE"]), Reply::simple("QUEUED"));
    assert_eq!(
        cmd(&mut r, &["EXEC"]),
        Reply::array(vec![Reply::simple("Background saving scheduled")])
    );
    wait_for("the scheduled save", || {
        info_field(&mut r, "persistence", "rdb_saves") == "1"
            && info_field(&mut r, "persistence", "rdb_bgsave_in_progress") == "0"
    });
    assert!(dir.join("dump.rdb").exists());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_points_trigger_bgsave() {
    let dir = own_dir("rdb-savepoints");
    let server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    ok(&mut r, &["SET", "a", "1"]);
    ok(&mut r, &["SET", "b", "2"]);
    assert_eq!(
        info_field(&mut r, "persistence", "rdb_changes_since_last_save"),
        "2"
    );
    ok(&mut r, &["CONFIG", "SET", "save", "1 2"]);
    wait_for("a save point to save", || {
        info_field(&mut r, "persistence", "rdb_changes_since_last_save") == "0"
            && info_field(&mut r, "persistence", "rdb_saves") == "1"
    });
    assert!(dir.join("dump.rdb").exists());
    assert_eq!(
        info_field(&mut r, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failed_bgsave_refuses_writes_with_misconf() {
    let dir = own_dir("rdb-misconf");
    let server = ferrodis_in(&dir, &["--save", "3600 1"]);
    let mut r = server.raw();
    // A directory where the temporary file should go makes the save fail.
    let blocker = dir.join(format!("temp-bgsave-{}.rdb", server.pid()));
    std::fs::create_dir(&blocker).unwrap();
    ok(&mut r, &["SET", "k", "v"]);
    let reply = cmd(&mut r, &["BGSAVE"]);
    assert!(reply.is_error(), "{reply:?}");
    wait_bgsave_done(&mut r);
    assert_eq!(
        info_field(&mut r, "persistence", "rdb_last_bgsave_status"),
        "err"
    );
    let misconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
    assert_eq!(cmd(&mut r, &["SET", "k", "w"]), Reply::err(misconf));
    assert_eq!(cmd(&mut r, &["PING"]), Reply::err(misconf));
    assert_eq!(text(&cmd(&mut r, &["GET", "k"])), "v");
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(text(&cmd(&mut r, &["BGSAVE"])), "Background saving started");
    wait_bgsave_done(&mut r);
    ok(&mut r, &["SET", "k", "w"]);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flushall_debug_reload_and_shutdown_nosave() {
    let dir = own_dir("rdb-misc");
    let mut server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    populate(&mut r, 500);
    let d = digest(&mut r);
    let before = text(&cmd(&mut r, &["LASTSAVE"]));
    ok(&mut r, &["DEBUG", "RELOAD"]);
    assert_eq!(digest(&mut r), d);
    assert!(text(&cmd(&mut r, &["LASTSAVE"])) >= before);
    assert_eq!(text(&cmd(&mut r, &["FCALL", "f", "0"])), "1");
    // FLUSHALL with save points writes the empty dataset at once.
    ok(&mut r, &["CONFIG", "SET", "save", "3600 1"]);
    ok(&mut r, &["FLUSHALL"]);
    ok(&mut r, &["SET", "after-flush", "1"]);
    r.send(&[b"SHUTDOWN", b"NOSAVE"]);
    server
        .wait_exit(DEADLINE)
        .expect("exit after SHUTDOWN NOSAVE");
    drop(server);
    let restarted = ferrodis_in(&dir, &[]);
    let mut r = restarted.raw();
    assert_eq!(text(&cmd(&mut r, &["DBSIZE"])), "0");
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clients_get_loading_while_the_file_loads() {
    let dir = own_dir("rdb-loading");
    let server = ferrodis_in(&dir, &[]);
    let mut r = server.raw();
    ok(&mut r, &["DEBUG", "POPULATE", "1000000"]);
    ok(&mut r, &["SAVE"]);
    drop(server);
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrodis"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ferrodis");
    let mut conn = None;
    wait_for("the listener", || {
        conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok();
        conn.is_some()
    });
    drop(conn);
    let mut c = Raw::connect(port);
    let mut seen_loading = false;
    let mut info_loading = false;
    wait_for("the load to finish", || match c.cmd_str(&["PING"]) {
        Reply::Error(e) => {
            assert_eq!(e, "LOADING Redis is loading the dataset in memory");
            seen_loading = true;
            info_loading |= info_field(&mut c, "persistence", "loading") == "1";
            false
        }
        reply => {
            assert_eq!(reply, Reply::simple("PONG"));
            true
        }
    });
    assert!(
        seen_loading && info_loading,
        "a million keys load in no time?"
    );
    assert_eq!(text(&c.cmd_str(&["DBSIZE"])), "1000000");
    assert_eq!(info_field(&mut c, "persistence", "loading"), "0");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The lines of a server's log holding `needle`.
fn log_count(s: &Server, needle: &str) -> usize {
    std::fs::read_to_string(s.dir.join("server.log"))
        .unwrap_or_default()
        .matches(needle)
        .count()
}

/// A shutdown whose save fails (the temporary file's name is taken by a directory) leaves the
/// server running, as redis-server: SHUTDOWN and SHUTDOWN SAVE answer an error, SIGTERM and
/// SIGINT are logged and ignored, and the data stays; SHUTDOWN FORCE exits anyway, without a
/// dump. The same replies and log lines on both servers.
#[test]
fn failed_shutdown_save_keeps_the_server_running() {
    const GAVE_UP: &str = "Error trying to save the DB, can't exit.";
    let run = |redis: bool| {
        let dir = own_dir("rdb-failed-shutdown");
        let args = ["--dir", dir.to_str().unwrap(), "--save", "3600 1"];
        let mut s = if redis {
            Server::redis(&args)
        } else {
            Server::ferrodis(&args)
        };
        std::fs::create_dir(dir.join(format!("temp-{}.rdb", s.pid()))).unwrap();
        let mut r = s.raw();
        let mut out = Vec::new();
        ok(&mut r, &["SET", "k", "v"]);
        out.push(format!("{:?}", cmd(&mut r, &["SHUTDOWN"])));
        out.push(format!("{:?}", cmd(&mut r, &["SHUTDOWN", "SAVE"])));
        for (n, signal) in [(3, "-TERM"), (4, "-INT")] {
            let sent = Command::new("kill")
                .args([signal, &s.pid().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
            wait_for("the shutdown attempt", || log_count(&s, GAVE_UP) == n);
            out.push(format!("{signal}: {:?}", cmd(&mut r, &["GET", "k"])));
        }
        out.push(format!(
            "{} {}",
            log_count(
                &s,
                "Errors trying to shut down the server. Check the logs for more information."
            ),
            log_count(&s, GAVE_UP)
        ));
        r.send(&[b"SHUTDOWN", b"FORCE"]);
        let status = s
            .wait_exit(Duration::from_secs(30))
            .expect("SHUTDOWN FORCE exits");
        out.push(format!(
            "exit {status:?}, forced: {}, dump: {}",
            log_count(&s, "Error trying to save the DB. Exit anyway."),
            dir.join("dump.rdb").exists()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        out
    };
    assert_eq!(run(false), run(true));
}
