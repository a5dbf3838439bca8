//! The append-only file: what ferrodis writes compared with redis-server's own AOF, round trips
//! through restarts and rewrites, interoperability with redis-server and redis-check-aof,
//! crashes (SIGKILL) under each fsync policy and during a rewrite, and damaged files.
//! Every wait polls a condition with a deadline.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Raw, Reply, Server, unique_temp_dir};

const DEADLINE: Duration = Duration::from_secs(30);

/// A directory the test owns across server restarts; removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        Dir(unique_temp_dir(tag))
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn aof_dir(&self) -> PathBuf {
        self.0.join("appendonlydir")
    }
    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ferrodis_in(dir: &Dir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.s(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    Server::ferrodis(&args)
}

fn redis_in(dir: &Dir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.s(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    Server::redis(&args)
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(r.bytes().unwrap_or_default()).into_owned()
}

fn info_field(s: &Server, field: &str) -> String {
    let info = text(&s.raw().cmd_str(&["INFO", "persistence"]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .to_string()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_rewrite_done(s: &Server) {
    wait_until("the AOF rewrite to finish", || {
        info_field(s, "aof_rewrite_in_progress") == "0"
    });
    assert_eq!(info_field(s, "aof_last_bgrewrite_status"), "ok");
}

/// The dataset's digest, once every executed write is in the AOF file: under everysec both
/// servers hold writes back (acknowledged) while a slow background fsync runs, and tests end
/// servers with SIGKILL right after taking the digest they expect to reload.
fn digest(s: &Server) -> String {
    wait_until("the AOF buffer to reach the file", || {
        matches!(info_field(s, "aof_buffer_length").as_str(), "" | "0")
    });
    text(&s.raw().cmd_str(&["DEBUG", "DIGEST"]))
}

fn cmd(raw: &mut Raw, args: &[&str]) -> Reply {
    let r = raw.cmd_str(args);
    assert!(!r.is_error(), "{args:?} failed: {r:?}");
    r
}

/// The commands of an AOF file, `#` annotations skipped.
fn parse_aof(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    let line = |i: &mut usize| {
        let end = bytes[*i..].windows(2).position(|w| w == b"\r\n").unwrap() + *i;
        let l = String::from_utf8_lossy(&bytes[*i..end]).into_owned();
        *i = end + 2;
        l
    };
    while i < bytes.len() {
        let header = line(&mut i);
        if header.starts_with('#') {
            continue;
        }
        let n: usize = header[1..].parse().unwrap();
        let mut cmd = Vec::new();
        for _ in 0..n {
            let len: usize = line(&mut i)[1..].parse().unwrap();
            cmd.push(String::from_utf8_lossy(&bytes[i..i + len]).into_owned());
            i += len + 2;
        }
        out.push(cmd);
    }
    out
}

fn manifest_files(dir: &Path) -> Vec<(String, String)> {
    let m = std::fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap();
    m.lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            (w[1].to_string(), w[5].to_string())
        })
        .collect()
}

fn incr_commands(dir: &Path) -> Vec<Vec<String>> {
    let incr = manifest_files(dir)
        .into_iter()
        .rfind(|(_, t)| t == "i")
        .unwrap()
        .0;
    parse_aof(&std::fs::read(dir.join(incr)).unwrap())
}

/// Absolute times (unix ms) differ between two runs: masked.
fn mask_times(cmds: Vec<Vec<String>>) -> Vec<Vec<String>> {
    cmds.into_iter()
        .map(|c| {
            c.into_iter()
                .map(|a| {
                    if a.len() >= 12 && a.chars().all(|c| c.is_ascii_digit()) {
                        "<ms>".to_string()
                    } else {
                        a
                    }
                })
                .collect()
        })
        .collect()
}

const LIBRARY: &str = "#!lua name=lib\nredis.register_function('f1', function() return 1 end)";

/// Commands whose propagation is deterministic (no random picks), as one client runs them.
fn corpus() -> Vec<Vec<&'static str>> {
    let lines: &[&[&str]] = &[
        &["SET", "s1", "v"],
        &["SET", "s2", "v", "EX", "100"],
        &["SET", "s3", "v", "PX", "100000", "GET"],
        &["SET", "s4", "v", "EXAT", "99999999999"],
        &["SET", "s5", "v", "PXAT", "99999999999999"],
        &["SET", "s5", "w", "KEEPTTL"],
        &["SET", "s5", "x", "NX"],
        &["SETEX", "s7", "100", "v"],
        &["PSETEX", "s8", "100000", "v"],
        &["GETEX", "s2", "EX", "200"],
        &["GETEX", "s2", "PERSIST"],
        &["GETEX", "s3", "PXAT", "99999999999999"],
        &["GETEX", "s3"],
        &["EXPIRE", "s1", "100"],
        &["EXPIRE", "nosuchkey", "100"],
        &["PEXPIRE", "s7", "100000", "XX"],
        &["EXPIREAT", "s8", "99999999999"],
        &["PEXPIREAT", "s8", "99999999998000"],
        &["PERSIST", "s8"],
        &["EXPIRE", "s8", "-1"],
        &["INCR", "n"],
        &["INCRBY", "n", "5"],
        &["DECR", "n"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["INCRBYFLOAT", "f", "2.25"],
        &["APPEND", "s1", "x"],
        &["SETRANGE", "s1", "0", "y"],
        &["GETSET", "s1", "z"],
        &["GETDEL", "s1"],
        &["GETDEL", "s1"],
        &["MSET", "a", "1", "b", "2"],
        &["MSETNX", "c", "3"],
        &["DEL", "a", "b", "c", "nosuchkey"],
        &["RPUSH", "l", "a", "b", "c", "d", "e", "f", "g"],
        &["LPUSH", "l", "z"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LMOVE", "l", "l2", "LEFT", "RIGHT"],
        &["BLPOP", "l", "1"],
        &["BRPOP", "l", "1"],
        &["BLMOVE", "l", "l3", "RIGHT", "LEFT", "1"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "5"],
        &["RPUSH", "l", "p", "q"],
        &["BRPOPLPUSH", "l", "l4", "1"],
        &["RPOPLPUSH", "l", "l4"],
        &["LPOP", "nosuchkey"],
        &["HSET", "h", "f", "v", "g", "w"],
        &["HINCRBYFLOAT", "h", "fl", "1.5"],
        &["HINCRBY", "h", "n", "3"],
        &["HDEL", "h", "f"],
        &["SADD", "set1", "a"],
        &["SPOP", "set1"],
        &["SADD", "set2", "a", "b"],
        &["SPOP", "set2", "5"],
        &["SADD", "set3", "a", "b"],
        &["SREM", "set3", "a"],
        &["SRANDMEMBER", "set3"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZINCRBY", "z", "2.5", "a"],
        &["ZPOPMIN", "z"],
        &["BZPOPMAX", "z", "1"],
        &["ZMPOP", "1", "z", "MIN", "COUNT", "1"],
        &["XADD", "x", "1-1", "f", "v"],
        &["XADD", "x", "2-*", "f", "v"],
        &["XADD", "x", "MAXLEN", "5", "3-1", "f", "v"],
        &["XDEL", "x", "1-1"],
        &["XTRIM", "x", "MAXLEN", "1"],
        &["XGROUP", "CREATE", "x", "g", "0"],
        &["XSETID", "x", "5-5"],
        &["SELECT", "3"],
        &["SET", "d3", "v"],
        &["MOVE", "d3", "4"],
        &["SWAPDB", "3", "4"],
        &["SELECT", "0"],
        &[
            "EVAL",
            "redis.call('set','e1','1'); redis.call('incr','e1')",
            "0",
        ],
        &["EVAL", "redis.call('set','e2','1')", "0"],
        &["EVAL", "return redis.call('get','e1')", "0"],
        &["MULTI"],
        &["SET", "m1", "1"],
        &["INCR", "m1"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "m2", "1"],
        &["EXEC"],
        &["MULTI"],
        &["GET", "m2"],
        &["EXEC"],
        &["FUNCTION", "LOAD", LIBRARY],
        &["FCALL", "f1", "0"],
        &["COPY", "m1", "m3"],
        &["RENAME", "m3", "m4"],
        &["PFADD", "hll", "a", "b", "c"],
        &["SELECT", "5"],
        &["SET", "d5", "v"],
        &["FLUSHDB"],
        &["SELECT", "0"],
    ];
    lines.iter().map(|l| l.to_vec()).collect()
}

/// Runs the corpus on one connection; replies must not be errors.
fn run_corpus(s: &Server) {
    let mut raw = s.raw();
    for c in corpus() {
        let r = raw.cmd_str(&c);
        assert!(!r.is_error(), "{}: {c:?} failed: {r:?}", s.name);
    }
}

/// The incremental AOF ferrodis writes for the corpus is redis-server's (times masked), and
/// redis-server replays ferrodis's files to the same dataset.
#[test]
fn propagation_matches_redis_server() {
    let (fd, rd) = (Dir::new("aof-diff-f"), Dir::new("aof-diff-r"));
    let args = ["--appendfsync", "always", "--aof-use-rdb-preamble", "no"];
    let reference = redis_in(&rd, &args);
    let subject = ferrodis_in(&fd, &args);
    run_corpus(&reference);
    run_corpus(&subject);
    let expected = mask_times(incr_commands(&rd.aof_dir()));
    let got = mask_times(incr_commands(&fd.aof_dir()));
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(
            g, e,
            "command {i} differs (expected, then ferrodis, follow)\n{expected:?}\n{got:?}"
        );
    }
    assert_eq!(got.len(), expected.len(), "{expected:?}\n{got:?}");
    assert_eq!(digest(&subject), digest(&reference));

    // redis-server loads what ferrodis wrote.
    let want = digest(&subject);
    drop(subject);
    let copy = Dir::new("aof-diff-copy");
    copy_dir(&fd.aof_dir(), &copy.aof_dir());
    let loaded = redis_in(&copy, &[]);
    assert_eq!(digest(&loaded), want);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn check_aof(dir: &Path) {
    let out = Command::new("redis-check-aof")
        .arg(dir.join("appendonly.aof.manifest"))
        .output()
        .expect("run redis-check-aof");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("All AOF files and manifest are valid"),
        "redis-check-aof refused:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes of every type with expiries in several databases, random pops, a script and a
/// transaction survive a SIGKILL, then a rewrite and another SIGKILL; redis-check-aof and
/// redis-server accept the files.
#[test]
fn round_trip_through_restarts_and_rewrite() {
    let dir = Dir::new("aof-roundtrip");
    let s = ferrodis_in(&dir, &["--appendfsync", "always"]);
    run_corpus(&s);
    let mut raw = s.raw();
    for i in 0..300 {
        let k = format!("k{i}");
        cmd(&mut raw, &["SET", &k, &"x".repeat(i % 50)]);
        cmd(&mut raw, &["RPUSH", "biglist", &k]);
        cmd(&mut raw, &["SADD", "bigset", &k]);
        cmd(&mut raw, &["SADD", "intset", &i.to_string()]);
        cmd(&mut raw, &["HSET", "bighash", &k, &i.to_string()]);
        cmd(&mut raw, &["ZADD", "bigzset", &format!("{}.5", i), &k]);
        cmd(&mut raw, &["XADD", "bigstream", "*", "i", &k]);
    }
    cmd(&mut raw, &["SPOP", "bigset", "7"]);
    cmd(&mut raw, &["SPOP", "intset"]);
    cmd(&mut raw, &["EXPIRE", "k1", "1000"]);
    cmd(&mut raw, &["XGROUP", "CREATE", "bigstream", "grp", "0"]);
    cmd(
        &mut raw,
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "bigstream",
            ">",
        ],
    );
    cmd(
        &mut raw,
        &["XGROUP", "CREATECONSUMER", "bigstream", "grp", "bob"],
    );
    cmd(&mut raw, &["SELECT", "7"]);
    cmd(&mut raw, &["SET", "in7", "v", "EX", "1000"]);
    let before = digest(&s);
    drop(s);

    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), before, "after SIGKILL and restart");
    cmd(&mut s.raw(), &["BGREWRITEAOF"]);
    wait_rewrite_done(&s);
    let files = manifest_files(&dir.aof_dir());
    assert_eq!(
        files,
        vec![
            ("appendonly.aof.2.base.rdb".to_string(), "b".to_string()),
            ("appendonly.aof.2.incr.aof".to_string(), "i".to_string())
        ]
    );
    assert!(!dir.aof_dir().join("appendonly.aof.1.incr.aof").exists());
    cmd(&mut s.raw(), &["INCR", "after-rewrite"]);
    let before = digest(&s);
    drop(s);

    check_aof(&dir.aof_dir());
    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), before, "after rewrite and restart");
    drop(s);
    let copy = Dir::new("aof-roundtrip-copy");
    copy_dir(&dir.aof_dir(), &copy.aof_dir());
    let r = redis_in(&copy, &[]);
    assert_eq!(
        digest(&r),
        before,
        "redis-server loading ferrodis's rewritten AOF"
    );
}

/// ferrodis loads redis-server's multi-part AOF (with an AOF-format base) and a Redis 6
/// single appendonly.aof, which it moves into appendonlydir as the base.
#[test]
fn loads_redis_server_files_and_legacy_layout() {
    let rd = Dir::new("aof-from-redis");
    let r = redis_in(&rd, &["--aof-use-rdb-preamble", "no"]);
    run_corpus(&r);
    cmd(&mut r.raw(), &["BGREWRITEAOF"]);
    wait_rewrite_done(&r);
    cmd(&mut r.raw(), &["RPUSH", "after", "1", "2"]);
    let want = digest(&r);
    drop(r);
    let s = ferrodis_in(&rd, &[]);
    assert_eq!(digest(&s), want);
    drop(s);

    // Legacy: one appendonly.aof in `dir`, as Redis 6 wrote it.
    let legacy = Dir::new("aof-legacy");
    let mut bytes = Vec::new();
    for (name, _) in manifest_files(&rd.aof_dir()) {
        bytes.extend(std::fs::read(rd.aof_dir().join(name)).unwrap());
    }
    std::fs::write(legacy.path().join("appendonly.aof"), bytes).unwrap();
    let s = ferrodis_in(&legacy, &[]);
    assert_eq!(digest(&s), want);
    assert!(!legacy.path().join("appendonly.aof").exists());
    assert_eq!(
        manifest_files(&legacy.aof_dir()),
        vec![
            ("appendonly.aof".to_string(), "b".to_string()),
            ("appendonly.aof.1.incr.aof".to_string(), "i".to_string())
        ]
    );
    cmd(&mut s.raw(), &["SET", "new", "1"]);
    let want = digest(&s);
    drop(s);
    let s = ferrodis_in(&legacy, &[]);
    assert_eq!(digest(&s), want);
}

/// Redis's default layout (aof-use-rdb-preamble yes): the base after a rewrite is an RDB file,
/// the writes after it AOF commands in the incremental file; ferrodis loads both.
#[test]
fn loads_redis_server_files_with_an_rdb_preamble() {
    let rd = Dir::new("aof-preamble-from-redis");
    let r = redis_in(&rd, &["--aof-use-rdb-preamble", "yes"]);
    run_corpus(&r);
    cmd(&mut r.raw(), &["BGREWRITEAOF"]);
    wait_rewrite_done(&r);
    cmd(&mut r.raw(), &["RPUSH", "after", "1", "2"]);
    cmd(&mut r.raw(), &["SET", "later", "x"]);
    let want = digest(&r);
    drop(r);
    let files = manifest_files(&rd.aof_dir());
    assert!(
        files
            .iter()
            .any(|(name, kind)| kind == "b" && name.ends_with(".base.rdb")),
        "{files:?}"
    );
    let s = ferrodis_in(&rd, &[]);
    assert_eq!(digest(&s), want);
}

/// CONFIG SET appendonly yes writes a base of the dataset first; later writes follow in the
/// incremental file; CONFIG SET appendonly no stops recording.
#[test]
fn config_set_appendonly_at_run_time() {
    let dir = Dir::new("aof-config");
    let s = Server::ferrodis(&["--dir", dir.s()]);
    let mut raw = s.raw();
    cmd(&mut raw, &["SET", "before", "1"]);
    cmd(&mut raw, &["RPUSH", "list", "a", "b"]);
    cmd(&mut raw, &["CONFIG", "SET", "appendonly", "yes"]);
    wait_until("the base written by CONFIG SET appendonly yes", || {
        info_field(&s, "aof_rewrites") == "1" && info_field(&s, "aof_rewrite_in_progress") == "0"
    });
    cmd(&mut raw, &["INCR", "after"]);
    let want = digest(&s);
    assert_eq!(info_field(&s, "aof_enabled"), "1");
    cmd(&mut raw, &["CONFIG", "SET", "appendonly", "no"]);
    cmd(&mut raw, &["SET", "unrecorded", "1"]);
    drop(s);
    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), want);
    drop(s);

    // Turned on while BGREWRITEAOF (AOF off) runs: scheduled, then started.
    let dir = Dir::new("aof-config-scheduled");
    let s = Server::ferrodis(&["--dir", dir.s()]);
    let mut raw = s.raw();
    let mut batch = Vec::new();
    for i in 0..100_000 {
        batch.extend(encode(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
    }
    raw.send_raw(&batch);
    for _ in 0..100_000 {
        raw.read_reply();
    }
    cmd(&mut raw, &["BGREWRITEAOF"]);
    cmd(&mut raw, &["CONFIG", "SET", "appendonly", "yes"]);
    wait_until("the scheduled AOF start", || {
        info_field(&s, "aof_rewrites") == "2" && info_field(&s, "aof_rewrite_in_progress") == "0"
    });
    assert_eq!(info_field(&s, "aof_rewrite_scheduled"), "0");
    cmd(&mut raw, &["SET", "last", "1"]);
    let want = digest(&s);
    drop(s);
    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), want);
}

/// aof-timestamp-enabled writes `#TS:` annotations that redis-check-aof and the loader accept.
#[test]
fn timestamp_annotations() {
    let dir = Dir::new("aof-ts");
    let s = ferrodis_in(
        &dir,
        &["--aof-timestamp-enabled", "yes", "--appendfsync", "always"],
    );
    cmd(&mut s.raw(), &["SET", "a", "1"]);
    cmd(&mut s.raw(), &["SET", "b", "2"]);
    let want = digest(&s);
    drop(s);
    let incr = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.1.incr.aof")).unwrap();
    assert!(incr.starts_with("#TS:"), "{incr:?}");
    check_aof(&dir.aof_dir());
    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), want);
}

/// Acknowledged writes of several clients, checked after SIGKILLs at random moments: all of
/// them with appendfsync always; with everysec the loss is bounded in time.
fn crash_rounds(policy: &str) {
    let dir = Dir::new(&format!("aof-crash-{policy}"));
    const CLIENTS: usize = 4;
    for round in 0..5 {
        let s = ferrodis_in(&dir, &["--appendfsync", policy]);
        let port = s.port;
        let stop = Arc::new(AtomicBool::new(false));
        // Per client: (acknowledged counter value, when), and acknowledged SET keys.
        let acked: Arc<Mutex<Vec<(i64, Instant)>>> =
            Arc::new(Mutex::new(vec![(0, Instant::now()); CLIENTS]));
        let sets: Arc<Mutex<Vec<(String, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (stop, acked, sets) = (stop.clone(), acked.clone(), sets.clone());
                std::thread::spawn(move || {
                    let mut raw = Raw::connect(port);
                    let counter = format!("counter:{c}");
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(r) = raw_cmd(&mut raw, &["INCR", &counter]) else {
                            return;
                        };
                        if let Reply::Int(v) = r {
                            acked.lock().unwrap()[c] = (v, Instant::now());
                        }
                        n += 1;
                        let key = format!("set:{round}:{c}:{n}");
                        if raw_cmd(&mut raw, &["SET", &key, "v"]).is_err() {
                            return;
                        }
                        sets.lock().unwrap().push((key, Instant::now()));
                    }
                })
            })
            .collect();
        // Kill at a random moment once some writes are in.
        wait_until("writes", || {
            acked.lock().unwrap().iter().all(|(v, _)| *v > 0)
        });
        std::thread::sleep(Duration::from_millis(fastrand_ms(round)));
        let killed_at = Instant::now();
        drop(s); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
        let s = ferrodis_in(&dir, &["--appendfsync", policy]);
        let mut raw = s.raw();
        // everysec and no may lose up to ~2 s before the kill (what the OS has not written
        // is lost only on power failure, and writes are handed to it before their replies);
        // always loses nothing.
        let slack = if policy == "always" {
            Duration::ZERO
        } else {
            Duration::from_secs(2)
        };
        for (c, (v, at)) in acked.lock().unwrap().iter().enumerate() {
            let got = match raw.cmd_str(&["GET", &format!("counter:{c}")]) {
                Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap().parse::<i64>().unwrap(),
                other => panic!("counter:{c} after restart: {other:?}"),
            };
            if killed_at.duration_since(*at) >= slack {
                assert!(
                    got >= *v,
                    "{policy} round {round}: counter:{c} is {got}, {v} was acknowledged"
                );
            }
        }
        let sets = sets.lock().unwrap();
        let mut lost = 0;
        for (key, at) in sets.iter() {
            let present = raw.cmd_str(&["EXISTS", key]) == Reply::Int(1);
            lost += usize::from(!present);
            assert!(
                present || killed_at.duration_since(*at) < slack,
                "{policy} round {round}: acknowledged {key} lost"
            );
        }
        // Shown with --nocapture: what a SIGKILL actually cost.
        println!(
            "appendfsync {policy}, round {round}: {} SETs acknowledged, {lost} lost",
            sets.len()
        );
    }
}

fn fastrand_ms(round: usize) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    50 + (nanos
        .wrapping_mul(2654435761)
        .wrapping_add(round as u64 * 97))
        % 400
}

fn raw_cmd(raw: &mut Raw, args: &[&str]) -> std::io::Result<Reply> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    raw.try_send_raw(&encode(&a))?;
    raw.try_read_reply()
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n", a.len()).bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[test]
fn crash_with_appendfsync_always_loses_nothing_acknowledged() {
    crash_rounds("always");
}

#[test]
fn crash_with_appendfsync_everysec_loses_at_most_two_seconds() {
    crash_rounds("everysec");
}

/// Connections write the stream themselves under everysec and no, the writer thread under
/// always, and rewrites move the writing to new files: clients write while the policy changes
/// every few milliseconds and rewrites start back to back, then, a moment after the policy
/// settles on always, SIGKILL. redis-check-aof accepts the files and the server restarts with
/// every acknowledged write.
#[test]
fn crash_while_switching_policies_and_rewriting() {
    const CLIENTS: usize = 4;
    let dir = Dir::new("aof-crash-switching");
    let s = ferrodis_in(&dir, &[]);
    let port = s.port;
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(i64, Instant)>>> =
        Arc::new(Mutex::new(vec![(0, Instant::now()); CLIENTS]));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut raw = Raw::connect(port);
                let counter = format!("counter:{c}");
                while !stop.load(Ordering::Relaxed) {
                    match raw_cmd(&mut raw, &["INCR", &counter]) {
                        Ok(Reply::Int(v)) => acked.lock().unwrap()[c] = (v, Instant::now()),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    let mut admin = s.raw();
    let (mut rewrites, started) = (0, Instant::now());
    for policy in ["always", "everysec", "no"].iter().cycle() {
        if started.elapsed() > Duration::from_secs(3) && rewrites >= 3 {
            break;
        }
        cmd(&mut admin, &["CONFIG", "SET", "appendfsync", policy]);
        // Refused while one runs ("already in progress"): the next try starts one.
        if !admin.cmd_str(&["BGREWRITEAOF"]).is_error() {
            rewrites += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Each client's last acknowledgements come under always: everything before them in the
    // stream is on disk too, whichever policy it was written under.
    cmd(&mut admin, &["CONFIG", "SET", "appendfsync", "always"]);
    let switched = acked
        .lock()
        .unwrap()
        .iter()
        .map(|(v, _)| *v)
        .collect::<Vec<_>>();
    wait_until("acknowledgements under always", || {
        let now = acked.lock().unwrap();
        now.iter()
            .zip(&switched)
            .all(|((v, _), before)| *v > before + 2)
    });
    drop(s);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    check_aof(&dir.aof_dir());
    let s = ferrodis_in(&dir, &[]);
    let mut raw = s.raw();
    for (c, (v, _)) in acked.lock().unwrap().iter().enumerate() {
        let got = match raw.cmd_str(&["GET", &format!("counter:{c}")]) {
            Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap().parse::<i64>().unwrap(),
            other => panic!("counter:{c} after restart: {other:?}"),
        };
        // One INCR may have been executed (and even written) without its reply arriving.
        assert!(
            (*v..=v + 1).contains(&got),
            "counter:{c} is {got} after restart, {v} was acknowledged"
        );
    }
}

/// SIGKILL while BGREWRITEAOF runs, with an RDB-preamble base (Redis's default) and with a base
/// of commands: the files left are valid and hold every acknowledged write.
#[test]
fn crash_during_rewrite() {
    crash_during_rewrite_with("yes");
    crash_during_rewrite_with("no");
}

fn crash_during_rewrite_with(preamble: &str) {
    let dir = Dir::new("aof-crash-rewrite");
    let s = ferrodis_in(
        &dir,
        &[
            "--appendfsync",
            "always",
            "--aof-use-rdb-preamble",
            preamble,
        ],
    );
    let mut raw = s.raw();
    // Enough data that the rewrite takes a while.
    let mut batch = Vec::new();
    for i in 0..200_000 {
        batch.extend(encode(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            b"some value here",
        ]));
    }
    raw.send_raw(&batch);
    for _ in 0..200_000 {
        raw.read_reply();
    }
    let mut last = 0;
    let mut killed_during_rewrite = false;
    cmd(&mut raw, &["BGREWRITEAOF"]);
    for _ in 0..100_000 {
        if let Reply::Int(v) = cmd(&mut raw, &["INCR", "counter"]) {
            last = v;
        }
        if info_field(&s, "aof_rewrite_in_progress") == "1" && last > 3 {
            killed_during_rewrite = true;
            break;
        }
        if info_field(&s, "aof_rewrite_in_progress") == "0" {
            cmd(&mut raw, &["BGREWRITEAOF"]);
        }
    }
    assert!(killed_during_rewrite, "never caught the rewrite running");
    drop(s);
    let s = ferrodis_in(&dir, &[]);
    let got = text(&s.raw().cmd_str(&["GET", "counter"]))
        .parse::<i64>()
        .unwrap();
    assert!(got >= last, "counter {got}, {last} acknowledged");
    assert_eq!(s.raw().cmd_str(&["DBSIZE"]), Reply::Int(200_001));
    drop(s);
    check_aof(&dir.aof_dir());
}

/// Keys of every type in two databases, some with expiries.
fn fill_mixed(raw: &mut Raw, n: usize) {
    for db in ["0", "3"] {
        cmd(raw, &["SELECT", db]);
        let mut batch = Vec::new();
        for i in 0..n {
            let k = format!("mix:k{db}:{i}");
            let v = i.to_string();
            let b = |args: &[&str]| encode(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
            batch.extend(b(&["SET", &k, &v]));
            batch.extend(b(&["RPUSH", &format!("mix:l{}", i % 50), &k]));
            batch.extend(b(&["HSET", &format!("mix:h{}", i % 30), &k, &v]));
            batch.extend(b(&["SADD", &format!("mix:s{}", i % 20), &k]));
            batch.extend(b(&["ZADD", &format!("mix:z{}", i % 10), &v, &k]));
            if i % 7 == 0 {
                batch.extend(b(&["PEXPIRE", &k, "5000000"]));
            }
        }
        raw.send_raw(&batch);
        for _ in 0..n * 5 + n.div_ceil(7) {
            assert!(!raw.read_reply().is_error());
        }
    }
    cmd(raw, &["SELECT", "0"]);
}

/// The base follows aof-use-rdb-preamble, named as redis-server names it: `.base.rdb` (an RDB
/// file flagged aof-base) with yes, `.base.aof` (commands) with no, from the first start and
/// from BGREWRITEAOF; the writes after the rewrite go to the new incremental file; ferrodis
/// restarted and redis-server started on a copy load the same dataset, and redis-check-aof
/// accepts the files.
#[test]
fn rewrite_base_follows_aof_use_rdb_preamble() {
    for (preamble, ext) in [("yes", "rdb"), ("no", "aof")] {
        let dir = Dir::new("aof-base-format");
        let s = ferrodis_in(&dir, &["--aof-use-rdb-preamble", preamble]);
        let base = |seq: u32| (format!("appendonly.aof.{seq}.base.{ext}"), "b".to_string());
        let incr = |seq: u32| (format!("appendonly.aof.{seq}.incr.aof"), "i".to_string());
        assert_eq!(manifest_files(&dir.aof_dir()), vec![base(1), incr(1)]);
        run_corpus(&s);
        let mut raw = s.raw();
        fill_mixed(&mut raw, 3000);
        cmd(&mut raw, &["BGREWRITEAOF"]);
        wait_rewrite_done(&s);
        cmd(&mut raw, &["INCR", "after"]);
        cmd(&mut raw, &["DEL", "mix:k0:1"]);
        cmd(&mut raw, &["SELECT", "3"]);
        cmd(&mut raw, &["HSET", "mix:h1", "new", "field"]);
        let want = digest(&s);
        drop(s);
        assert_eq!(manifest_files(&dir.aof_dir()), vec![base(2), incr(2)]);
        let head = std::fs::read(dir.aof_dir().join(&base(2).0)).unwrap();
        if ext == "rdb" {
            assert!(
                head.starts_with(b"REDIS0010"),
                "{preamble}: not an RDB base"
            );
        } else {
            assert!(head.starts_with(b"*"), "{preamble}: not a base of commands");
        }
        let after = incr_commands(&dir.aof_dir());
        assert!(after.iter().any(|c| c == &["INCR", "after"]), "{after:?}");
        assert!(!after.iter().any(|c| c[0] == "RPUSH"), "{after:?}");
        check_aof(&dir.aof_dir());
        let s = ferrodis_in(&dir, &[]);
        assert_eq!(digest(&s), want, "{preamble}: ferrodis after restart");
        drop(s);
        let copy = Dir::new("aof-base-format-copy");
        copy_dir(&dir.aof_dir(), &copy.aof_dir());
        let r = redis_in(&copy, &[]);
        assert_eq!(
            digest(&r),
            want,
            "{preamble}: redis-server on ferrodis's files"
        );
    }
}

/// BGSAVE, BGREWRITEAOF and BGSAVE SCHEDULE while the other job runs, and inside MULTI: the
/// replies and INFO flags seen.
fn scheduling_script(s: &Server) -> Vec<String> {
    let mut raw = s.raw();
    let mut out = Vec::new();
    let run = |raw: &mut Raw, out: &mut Vec<String>, args: &[&str]| {
        let r = raw.cmd_str(args);
        let shown = match &r {
            Reply::Error(e) => format!("{args:?} -> -{e}"),
            other => format!("{args:?} -> {}", text(other)),
        };
        out.push(shown);
    };
    let fields = |s: &Server| {
        [
            "rdb_bgsave_in_progress",
            "aof_rewrite_in_progress",
            "aof_rewrite_scheduled",
        ]
        .map(|f| info_field(s, f))
        .join(",")
    };
    // BGSAVE runs; a rewrite waits for it.
    run(&mut raw, &mut out, &["BGSAVE"]);
    run(&mut raw, &mut out, &["BGREWRITEAOF"]);
    run(&mut raw, &mut out, &["BGREWRITEAOF"]);
    run(&mut raw, &mut out, &["BGSAVE"]);
    run(&mut raw, &mut out, &["BGSAVE", "SCHEDULE"]);
    out.push(fields(s));
    wait_until("the scheduled rewrite to start", || fields(s) == "0,1,0");
    // The rewrite runs; a BGSAVE waits for it only when scheduled.
    run(&mut raw, &mut out, &["BGSAVE"]);
    run(&mut raw, &mut out, &["BGREWRITEAOF"]);
    run(&mut raw, &mut out, &["BGSAVE", "SCHEDULE"]);
    wait_until("the scheduled BGSAVE to start", || fields(s) == "1,0,0");
    wait_until("the BGSAVE to finish", || fields(s) == "0,0,0");
    // Inside MULTI both are scheduled, then run one after the other.
    run(&mut raw, &mut out, &["MULTI"]);
    run(&mut raw, &mut out, &["BGREWRITEAOF"]);
    run(&mut raw, &mut out, &["BGSAVE"]);
    let r = raw.cmd_str(&["EXEC"]);
    out.push(format!("EXEC -> {r:?}"));
    wait_until("both scheduled jobs", || {
        info_field(s, "aof_rewrites") == "2" && fields(s) == "0,0,0"
    });
    out.push(info_field(s, "rdb_last_bgsave_status"));
    out.push(info_field(s, "aof_last_bgrewrite_status"));
    out
}

/// BGSAVE and the AOF rewrite never run at once (the snapshot slot, Redis's one child): each
/// waits for the other with redis-server's replies (scheduled, refused, already in progress),
/// aof_rewrite_scheduled, and BGSAVE SCHEDULE; the same script on both servers, slowed by
/// rdb-key-save-delay so every job is still running when the next command arrives.
#[test]
fn bgsave_and_rewrite_take_turns_like_redis() {
    let run = |redis: bool| {
        let dir = Dir::new("aof-turns");
        let args = ["--rdb-key-save-delay", "1500"];
        let s = if redis {
            redis_in(&dir, &args)
        } else {
            ferrodis_in(&dir, &args)
        };
        let mut raw = s.raw();
        cmd(&mut raw, &["DEBUG", "POPULATE", "1000"]);
        scheduling_script(&s)
    };
    assert_eq!(run(false), run(true));
}

/// Runs ferrodis on `dir` expecting it to refuse to start; returns its log.
fn failed_start(dir: &Dir, extra: &[&str]) -> String {
    start_outcome(dir, extra).expect("ferrodis started instead of refusing the damaged AOF")
}

/// Builds an AOF with `n` acknowledged SETs and returns the incremental file's path and, for
/// each SET, the offset its command ends at.
fn sample_aof(dir: &Dir, n: usize) -> (PathBuf, Vec<u64>) {
    let s = ferrodis_in(dir, &["--appendfsync", "always"]);
    let mut raw = s.raw();
    for i in 0..n {
        cmd(&mut raw, &["SET", &format!("k{i}"), &"v".repeat(i)]);
    }
    drop(s);
    let path = dir.aof_dir().join("appendonly.aof.1.incr.aof");
    let bytes = std::fs::read(&path).unwrap();
    let mut ends = Vec::new();
    let mut offset = 0;
    for c in parse_aof(&bytes) {
        let mut enc = encode(&c.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
        offset += enc.len() as u64;
        enc.clear();
        if c[0] == "SET" {
            ends.push(offset);
        }
    }
    assert_eq!(offset, bytes.len() as u64);
    (path, ends)
}

/// A file cut anywhere: loaded up to the last complete command (and truncated there) with
/// aof-load-truncated yes; refused, naming the file and offset, with no.
#[test]
fn truncated_tail_follows_aof_load_truncated() {
    let mut seed = std::process::id() as u64;
    for _ in 0..4 {
        let dir = Dir::new("aof-truncated");
        let (path, ends) = sample_aof(&dir, 20);
        let full = std::fs::read(&path).unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let cut = ends[0] + 1 + (seed >> 33) % (full.len() as u64 - ends[0] - 1);
        std::fs::write(&path, &full[..cut as usize]).unwrap();
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        let boundary = ends.iter().copied().filter(|&e| e <= cut).max().unwrap();

        if cut != boundary {
            let log = failed_start(&dir, &["--aof-load-truncated", "no"]);
            assert!(
                log.contains(
                    "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
                ) && log.contains(&format!("offset {boundary}")),
                "{log}"
            );
            assert!(!log.contains("panicked"), "{log}");
        }
        let s = ferrodis_in(&dir, &["--aof-load-truncated", "yes"]);
        assert_eq!(s.raw().cmd_str(&["DBSIZE"]), Reply::Int(complete as i64));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), boundary);
        // Appends continue after the cut.
        cmd(&mut s.raw(), &["SET", "later", "1"]);
        let want = digest(&s);
        drop(s);
        let s = ferrodis_in(&dir, &[]);
        assert_eq!(digest(&s), want);
    }
}

/// Damage inside the file is refused with the file and offset, whatever aof-load-truncated
/// says, and never loads part of the data or panics.
#[test]
fn corruption_is_refused_with_file_and_offset() {
    let dir = Dir::new("aof-corrupt");
    let (path, ends) = sample_aof(&dir, 20);
    let mut bytes = std::fs::read(&path).unwrap();
    // The '*' starting the 6th SET becomes garbage.
    let at = ends[4] as usize;
    bytes[at] = b'x';
    std::fs::write(&path, &bytes).unwrap();
    for truncated in ["yes", "no"] {
        let log = failed_start(&dir, &["--aof-load-truncated", truncated]);
        assert!(
            log.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof")
                && log.contains(&format!("offset {at}")),
            "{log}"
        );
        assert!(!log.contains("panicked"), "{log}");
    }
    // A bulk length that does not match its bytes.
    let other = Dir::new("aof-corrupt-len");
    let (p, e) = sample_aof(&other, 5);
    let mut b = std::fs::read(&p).unwrap();
    // After "*3\r\n" of the third SET: its "$3" becomes "$9".
    let at = e[1] as usize + 4;
    assert_eq!(&b[at..at + 2], b"$3");
    b[at + 1] = b'9';
    std::fs::write(&p, &b).unwrap();
    let log = failed_start(&other, &[]);
    assert!(
        log.contains("Bad file format") && log.contains(&format!("offset {}", at + 4 + 9)),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    // A manifest listing a missing file.
    std::fs::remove_file(&path).unwrap();
    let log = failed_start(&dir, &[]);
    assert!(log.contains("appendonly.aof.1.incr.aof"), "{log}");
}

fn blocked_clients(s: &Server) -> String {
    let info = text(&s.raw().cmd_str(&["INFO", "clients"]));
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap_or("")
        .to_string()
}

/// Expired keys become DELs; blocked clients served by another client's push are recorded as
/// their non-blocking pops; the same as redis-server writes.
fn run_expiry_and_blocking(s: &Server) {
    let mut raw = s.raw();
    cmd(&mut raw, &["SET", "other", "v"]);
    // The last write before its expiry: nothing else can land between it and its DEL.
    cmd(&mut raw, &["SET", "short", "v", "PX", "30"]);
    // Lazy or active expiry: either way one DEL.
    wait_until("the key to expire", || {
        raw.cmd_str(&["EXISTS", "short"]) == Reply::Int(0)
    });
    for (block, push) in [
        (vec!["BLPOP", "bl", "0"], vec!["RPUSH", "bl", "a", "b"]),
        (
            vec!["BLMOVE", "bm", "dst", "LEFT", "RIGHT", "0"],
            vec!["LPUSH", "bm", "x"],
        ),
        (vec!["BZPOPMIN", "bz", "0"], vec!["ZADD", "bz", "1", "m"]),
        (
            vec!["BLMPOP", "0", "1", "bmp", "RIGHT", "COUNT", "2"],
            vec!["RPUSH", "bmp", "1", "2", "3"],
        ),
    ] {
        let mut waiter = s.raw();
        let args: Vec<&[u8]> = block.iter().map(|a| a.as_bytes()).collect();
        waiter.send(&args);
        wait_until("the client to block", || blocked_clients(s) == "1");
        cmd(&mut raw, &push);
        assert!(!waiter.read_reply().is_error());
    }
}

#[test]
fn expiry_and_served_blocked_clients_match_redis_server() {
    let (fd, rd) = (Dir::new("aof-exp-f"), Dir::new("aof-exp-r"));
    let args = ["--appendfsync", "always"];
    let reference = redis_in(&rd, &args);
    let subject = ferrodis_in(&fd, &args);
    run_expiry_and_blocking(&reference);
    run_expiry_and_blocking(&subject);
    // A served BLMOVE: Redis reuses the blocked client's spelling of LEFT/RIGHT, ferrodis
    // writes them in capitals; the only difference allowed.
    let sides = |cmds: Vec<Vec<String>>| -> Vec<Vec<String>> {
        cmds.into_iter()
            .map(|c| {
                let lmove = c[0] == "LMOVE";
                c.into_iter()
                    .map(|a| if lmove { a.to_ascii_uppercase() } else { a })
                    .collect()
            })
            .collect()
    };
    let expected = sides(mask_times(incr_commands(&rd.aof_dir())));
    let got = sides(mask_times(incr_commands(&fd.aof_dir())));
    assert_eq!(got, expected);
    assert_eq!(digest(&subject), digest(&reference));
}

/// Clients get -LOADING while a long AOF loads, then the data.
#[test]
fn loading_answers_loading_then_serves() {
    let dir = Dir::new("aof-loading");
    std::fs::create_dir_all(dir.aof_dir()).unwrap();
    let mut bytes = Vec::new();
    const KEYS: usize = 300_000;
    for i in 0..KEYS {
        bytes.extend(encode(&[b"SET", format!("key:{i}").as_bytes(), b"value"]));
    }
    std::fs::write(dir.aof_dir().join("appendonly.aof.1.base.aof"), bytes).unwrap();
    std::fs::write(
        dir.aof_dir().join("appendonly.aof.manifest"),
        "file appendonly.aof.1.base.aof seq 1 type b\n",
    )
    .unwrap();
    let port = common::free_port();
    let port_s = port.to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrodis"))
        .args([
            "--port",
            &port_s,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            dir.s(),
            "--appendonly",
            "yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut saw_loading = false;
    let start = Instant::now();
    let outcome = loop {
        if start.elapsed() > DEADLINE {
            break Err("no answer".to_string());
        }
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        use std::io::{Read, Write};
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.write_all(&encode(&[b"DBSIZE"])).unwrap();
        let mut buf = [0u8; 128];
        let n = stream.read(&mut buf).unwrap_or(0);
        let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
        if answer.starts_with("-LOADING") {
            saw_loading = true;
            continue;
        }
        break Ok(answer);
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(outcome, Ok(format!(":{KEYS}\r\n")));
    assert!(saw_loading, "never answered -LOADING during the load");
}

/// Consumer groups: deliveries of new entries (at once, NOACK, and to a blocked reader),
/// XCLAIM and XAUTOCLAIM propagate as Redis's XCLAIM / XGROUP SETID forms; history reads
/// propagate nothing.
fn run_stream_groups(s: &Server) {
    let mut raw = s.raw();
    for c in [
        vec!["XADD", "s", "1-1", "f", "v"],
        vec!["XADD", "s", "2-1", "f", "v"],
        vec!["XGROUP", "CREATE", "s", "g", "0"],
        vec!["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
        vec!["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g",
            "d",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ],
    ] {
        cmd(&mut raw, &c);
    }
    let mut waiter = s.raw();
    waiter.send(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"e",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]);
    wait_until("the reader to block", || blocked_clients(s) == "1");
    cmd(&mut raw, &["XADD", "s", "3-1", "f", "v"]);
    assert!(!waiter.read_reply().is_error());
    cmd(&mut raw, &["XAUTOCLAIM", "s", "g", "z", "0", "0"]);
    cmd(&mut raw, &["XCLAIM", "s", "g", "y", "0", "1-1"]);
}

#[test]
fn stream_group_propagation_matches_redis_server() {
    let (fd, rd) = (Dir::new("aof-groups-f"), Dir::new("aof-groups-r"));
    let args = ["--appendfsync", "always"];
    let reference = redis_in(&rd, &args);
    let subject = ferrodis_in(&fd, &args);
    run_stream_groups(&reference);
    run_stream_groups(&subject);
    let expected = mask_times(incr_commands(&rd.aof_dir()));
    let got = mask_times(incr_commands(&fd.aof_dir()));
    assert_eq!(got, expected);
    // Replayed, ferrodis's files give the groups redis-server gets from them (XCLAIM's LASTID
    // carries no entries-read, in Redis too).
    let info = |s: &Server| format!("{:?}", s.raw().cmd_str(&["XINFO", "GROUPS", "s"]));
    // The summary form: no idle times, which differ between two servers.
    let pending = |s: &Server| format!("{:?}", s.raw().cmd_str(&["XPENDING", "s", "g"]));
    drop(subject);
    let copy = Dir::new("aof-groups-copy");
    copy_dir(&fd.aof_dir(), &copy.aof_dir());
    let r = redis_in(&copy, &[]);
    let s = ferrodis_in(&fd, &[]);
    assert_eq!(info(&s), info(&r));
    assert_eq!(pending(&s), pending(&r));
}

/// Starts ferrodis on `dir`: None once it answers PING (then stopped), or the log of its
/// refusal.
fn start_outcome(dir: &Dir, extra: &[&str]) -> Option<String> {
    let port = common::free_port();
    let port_s = port.to_string();
    let log = dir.path().join("outcome.log");
    let mut args = vec![
        "--port",
        &port_s,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        dir.s(),
        "--appendonly",
        "yes",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrodis"))
        .args(&args)
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            return Some(std::fs::read_to_string(&log).unwrap());
        }
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = s.write_all(b"*1\r\n$4\r\nPING\r\n");
            let mut buf = [0u8; 16];
            if s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
            {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "ferrodis neither started nor refused"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Random bytes overwritten anywhere: the server either loads a file that is still well
/// formed or refuses it naming the file and an offset; it never panics.
#[test]
fn random_corruption_never_panics() {
    let dir = Dir::new("aof-random-corrupt");
    let (path, _) = sample_aof(&dir, 30);
    let original = std::fs::read(&path).unwrap();
    let mut seed = std::process::id() as u64 | 1;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut refused, mut loaded) = (0, 0);
    for _ in 0..12 {
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = (next() % 256) as u8;
        }
        std::fs::write(&path, &bytes).unwrap();
        let truncated = if next() % 2 == 0 { "yes" } else { "no" };
        match start_outcome(&dir, &["--aof-load-truncated", truncated]) {
            None => loaded += 1,
            Some(log) => {
                refused += 1;
                assert!(!log.contains("panicked"), "{log}");
                assert!(
                    log.contains("appendonly.aof.1.incr.aof") && log.contains("offset"),
                    "refusal without file and offset:\n{log}"
                );
            }
        }
    }
    println!("random corruption: {refused} refused, {loaded} still well formed");
}

#[test]
fn crash_with_appendfsync_no_loses_at_most_two_seconds() {
    crash_rounds("no");
}

/// auto-aof-rewrite-percentage / -min-size start a rewrite once the files have grown enough.
#[test]
fn automatic_rewrite_on_growth() {
    let dir = Dir::new("aof-auto");
    let s = ferrodis_in(
        &dir,
        &[
            "--auto-aof-rewrite-min-size",
            "4096",
            "--auto-aof-rewrite-percentage",
            "100",
        ],
    );
    let mut raw = s.raw();
    for i in 0..200 {
        cmd(&mut raw, &["SET", &format!("k{i}"), &"x".repeat(64)]);
    }
    wait_until("the automatic rewrite", || {
        info_field(&s, "aof_rewrites") != "0" && info_field(&s, "aof_rewrite_in_progress") == "0"
    });
    let base: u64 = info_field(&s, "aof_base_size").parse().unwrap();
    assert!(base > 4096, "base of {base} bytes");
    assert!(dir.aof_dir().join("appendonly.aof.2.base.rdb").exists());
    let want = digest(&s);
    drop(s);
    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), want);
}

/// Keys evicted under maxmemory reach the AOF as DELs: the reloaded dataset is the one that
/// was left.
#[test]
fn evictions_are_recorded() {
    let dir = Dir::new("aof-evict");
    let s = ferrodis_in(
        &dir,
        &["--maxmemory", "8mb", "--maxmemory-policy", "allkeys-random"],
    );
    let mut raw = s.raw();
    let value = "v".repeat(1000);
    for i in 0..20_000 {
        cmd(&mut raw, &["SET", &format!("key:{i}"), &value]);
    }
    let evicted = text(&raw.cmd_str(&["INFO", "stats"]))
        .lines()
        .find_map(|l| l.strip_prefix("evicted_keys:").map(str::to_string))
        .unwrap();
    assert_ne!(evicted, "0", "nothing was evicted");
    let want = digest(&s);
    drop(s);
    let s = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s), want);
}

/// While the first base of an AOF being turned on is written, SHUTDOWN (even NOSAVE) is
/// refused, as redis-server refuses it ("Writing initial AOF, can't exit."): the files would
/// hold nothing yet; SHUTDOWN NOSAVE FORCE exits anyway.
#[test]
fn shutdown_waits_for_the_first_base() {
    let run = |redis: bool| {
        let dir = Dir::new("aof-first-base-shutdown");
        let args = ["--dir", dir.s(), "--rdb-key-save-delay", "2000"];
        let mut s = if redis {
            Server::redis(&args)
        } else {
            Server::ferrodis(&args)
        };
        let mut raw = s.raw();
        cmd(&mut raw, &["DEBUG", "POPULATE", "2000"]);
        cmd(&mut raw, &["CONFIG", "SET", "appendonly", "yes"]);
        let refused = raw.cmd_str(&["SHUTDOWN", "NOSAVE"]);
        let log_path = s.dir.join("server.log");
        let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        let logged = log().contains("Writing initial AOF, can't exit.");
        raw.send(&[b"SHUTDOWN", b"NOSAVE", b"FORCE"]);
        let status = s.wait_exit(DEADLINE).expect("SHUTDOWN FORCE exits");
        let forced = log().contains("Writing initial AOF. Exit anyway.");
        (format!("{refused:?}"), logged, status.success(), forced)
    };
    let want = (
        format!(
            "{:?}",
            Reply::err("ERR Errors trying to SHUTDOWN. Check logs.")
        ),
        true,
        true,
        true,
    );
    assert_eq!(run(true), want, "redis-server");
    assert_eq!(run(false), want, "ferrodis");
}

/// A stalled disk under appendfsync everysec (DEBUG AOF-FSYNC-DELAY makes the background fsync
/// hang): writes wait behind the running fsync for up to 2 seconds, then go ahead, counted in
/// aof_delayed_fsync and logged with Redis's line; meanwhile replies keep flowing (Redis, too,
/// answers while it postpones), and nothing acknowledged is lost.
#[test]
fn stalled_fsync_is_reported_without_blocking_clients() {
    let dir = Dir::new("aof-stalled");
    let s = ferrodis_in(&dir, &["--appendfsync", "everysec"]);
    let mut raw = s.raw();
    cmd(&mut raw, &["DEBUG", "AOF-FSYNC-DELAY", "6000"]);
    let started = Instant::now();
    let mut worst = Duration::ZERO;
    let mut n = 0u64;
    let mut saw_pending = false;
    while info_field(&s, "aof_delayed_fsync") == "0" {
        assert!(started.elapsed() < DEADLINE, "no delayed fsync counted");
        for _ in 0..20 {
            let t = Instant::now();
            cmd(
                &mut raw,
                &["SET", &format!("k{}", n % 1000), &n.to_string()],
            );
            worst = worst.max(t.elapsed());
            n += 1;
        }
        saw_pending |= info_field(&s, "aof_pending_bio_fsync") == "1";
    }
    assert!(saw_pending, "the fsync never showed as in progress");
    // Writes were held back for up to 2 seconds; their replies were not.
    assert!(
        worst < Duration::from_millis(1500),
        "a reply took {worst:?} behind the stalled fsync"
    );
    // The counter moves before the line reaches the log file.
    wait_until("Redis's delayed-fsync line in the log", || {
        std::fs::read_to_string(s.dir.join("server.log")).unwrap_or_default().contains(
            "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.",
        )
    });
    cmd(&mut raw, &["DEBUG", "AOF-FSYNC-DELAY", "0"]);
    cmd(&mut raw, &["SET", "last", "1"]);
    let want = digest(&s);
    drop(raw);
    // SHUTDOWN fsyncs what was written: the restart sees every write.
    let mut shut = s.raw();
    shut.send(&[b"SHUTDOWN"]);
    let mut s = s;
    s.wait_exit(DEADLINE).expect("SHUTDOWN exits");
    let s2 = ferrodis_in(&dir, &[]);
    assert_eq!(digest(&s2), want);
}
