//! maxmemory with real clients: what each eviction policy keeps, that used memory stays near
//! the limit under a storm of large writes, "evicted" events, noeviction's refusals, and
//! `redis-cli --memkeys`. The policy tests run on redis-server too, which proves the
//! expectations are Redis's.

mod common;

use std::time::{Duration, Instant};

use common::Server;
use redis::Connection;

const VALUE: usize = 1000;

fn info_field(con: &mut Connection, section: &str, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg(section).query(con).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .parse()
        .unwrap()
}

fn used_memory(con: &mut Connection) -> u64 {
    info_field(con, "memory", "used_memory")
}

/// Writes `n` keys `{prefix}{i}` of VALUE bytes, with a TTL of `ttl(i)` seconds when given.
fn fill(con: &mut Connection, prefix: &str, n: usize, ttl: impl Fn(usize) -> Option<u64>) {
    let value = vec![b'v'; VALUE];
    let mut pipe = redis::pipe();
    for i in 0..n {
        let key = format!("{prefix}{i}");
        match ttl(i) {
            Some(secs) => pipe.cmd("SET").arg(&key).arg(&value).arg("EX").arg(secs),
            None => pipe.cmd("SET").arg(&key).arg(&value),
        };
        pipe.ignore();
    }
    pipe.query::<()>(con).unwrap();
}

fn present(con: &mut Connection, prefix: &str, range: std::ops::Range<usize>) -> usize {
    let mut pipe = redis::pipe();
    for i in range {
        pipe.cmd("EXISTS").arg(format!("{prefix}{i}"));
    }
    let found: Vec<usize> = pipe.query(con).unwrap();
    found.iter().sum()
}

/// Sets maxmemory so that about `evict_share` of the data must go, then writes one more key
/// so the server evicts; returns the limit.
fn squeeze(con: &mut Connection, data_bytes: u64, evict_share: f64) -> u64 {
    let limit = used_memory(con) - (data_bytes as f64 * evict_share) as u64;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(limit)
        .query::<()>(con)
        .unwrap();
    // Any command makes Redis evict; a read keeps the key sets as they are.
    redis::cmd("GET").arg("trigger").query::<()>(con).unwrap();
    limit
}

/// Waits until the server's LRU clock has moved `secs` past the keys written so far.
fn wait_idle(con: &mut Connection, key: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let idle: u64 = redis::cmd("OBJECT")
            .arg("IDLETIME")
            .arg(key)
            .query(con)
            .unwrap();
        if idle >= secs {
            return;
        }
        assert!(Instant::now() < deadline, "OBJECT IDLETIME stuck at {idle}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn both(extra: &[&str], check: impl Fn(&Server)) {
    for server in [Server::ferrodis(extra), Server::redis(extra)] {
        check(&server);
    }
}

#[test]
fn lru_keeps_the_recently_read_keys() {
    both(&["--maxmemory-policy", "allkeys-lru"], |server| {
        let mut con = server.client();
        fill(&mut con, "k", 2000, |_| None);
        wait_idle(&mut con, "k0", 2);
        let mut pipe = redis::pipe();
        for i in 0..200 {
            pipe.cmd("GET").arg(format!("k{i}")).ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
        squeeze(&mut con, 2000 * VALUE as u64, 0.4);
        let hot = present(&mut con, "k", 0..200);
        let cold = present(&mut con, "k", 200..2000);
        assert!(
            hot >= 195,
            "{}: {hot}/200 recently read keys kept",
            server.name
        );
        assert!(cold < 1300, "{}: {cold}/1800 idle keys kept", server.name);
        assert!(info_field(&mut con, "stats", "evicted_keys") >= 500);
    });
}

#[test]
fn lfu_keeps_the_frequently_read_keys() {
    both(&["--maxmemory-policy", "allkeys-lfu"], |server| {
        let mut con = server.client();
        fill(&mut con, "k", 2000, |_| None);
        let mut pipe = redis::pipe();
        for _ in 0..20 {
            for i in 0..200 {
                pipe.cmd("GET").arg(format!("k{i}")).ignore();
            }
        }
        pipe.query::<()>(&mut con).unwrap();
        let freq: u64 = redis::cmd("OBJECT")
            .arg("FREQ")
            .arg("k0")
            .query(&mut con)
            .unwrap();
        assert!(freq > 5, "{}: k0 freq {freq}", server.name);
        squeeze(&mut con, 2000 * VALUE as u64, 0.4);
        let hot = present(&mut con, "k", 0..200);
        let cold = present(&mut con, "k", 200..2000);
        assert!(hot >= 195, "{}: {hot}/200 frequent keys kept", server.name);
        assert!(cold < 1300, "{}: {cold}/1800 rare keys kept", server.name);
    });
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        both(&["--maxmemory-policy", policy], |server| {
            let mut con = server.client();
            fill(&mut con, "p", 1000, |_| None);
            // TTLs grow with the index: volatile-ttl must take the nearest expiries first.
            fill(&mut con, "t", 1000, |i| Some(1000 + i as u64 * 10));
            squeeze(&mut con, 2000 * VALUE as u64, 0.3);
            let name = server.name;
            assert_eq!(present(&mut con, "p", 0..1000), 1000, "{name} {policy}");
            let volatile = present(&mut con, "t", 0..1000);
            assert!(volatile < 600, "{name} {policy}: {volatile} volatile kept");
            if policy == "volatile-ttl" {
                let near = present(&mut con, "t", 0..300);
                let far = present(&mut con, "t", 700..1000);
                assert!(near < 100 && far > 200, "{name}: near {near} far {far}");
            }
        });
    }
}

#[test]
fn random_policy_evicts_and_noeviction_refuses() {
    both(&["--maxmemory-policy", "allkeys-random"], |server| {
        let mut con = server.client();
        fill(&mut con, "k", 2000, |_| None);
        let changes = info_field(&mut con, "persistence", "rdb_changes_since_last_save");
        squeeze(&mut con, 2000 * VALUE as u64, 0.4);
        // Evictions are not changes to save (they would trigger save points).
        assert_eq!(
            info_field(&mut con, "persistence", "rdb_changes_since_last_save"),
            changes,
            "{}",
            server.name
        );
        let kept = present(&mut con, "k", 0..2000);
        assert!((900..1500).contains(&kept), "{}: {kept} kept", server.name);
    });
    both(&[], |server| {
        let mut con = server.client();
        fill(&mut con, "k", 500, |_| None);
        squeeze(&mut con, 500 * VALUE as u64, 0.2);
        let err = redis::cmd("SET")
            .arg("new")
            .arg("value")
            .query::<()>(&mut con)
            .unwrap_err();
        assert_eq!(err.code(), Some("OOM"), "{err}");
        assert_eq!(
            err.detail(),
            Some("command not allowed when used memory > 'maxmemory'.")
        );
        let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(size, 500, "{}: noeviction dropped keys", server.name);
        // Deletes free memory, and then writes go through again.
        let mut pipe = redis::pipe();
        for i in 0..250 {
            pipe.cmd("DEL").arg(format!("k{i}")).ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
        let _: () = redis::cmd("SET")
            .arg("new")
            .arg("value")
            .query(&mut con)
            .unwrap();
    });
}

#[test]
fn evictions_publish_evicted_events() {
    let server = Server::ferrodis(&[
        "--maxmemory-policy",
        "allkeys-lru",
        "--notify-keyspace-events",
        "Ee",
    ]);
    let mut sub = server.client();
    let mut pubsub = sub.as_pubsub();
    pubsub.subscribe("__keyevent@0__:evicted").unwrap();
    let mut con = server.client();
    fill(&mut con, "k", 500, |_| None);
    // Buffers of the filling pipeline may be given back meanwhile, so how many keys go varies:
    // aim at 40% of the data and ask for a tenth.
    squeeze(&mut con, 500 * VALUE as u64, 0.4);
    let evicted = info_field(&mut con, "stats", "evicted_keys");
    assert!(evicted > 50, "{evicted} evicted");
    for _ in 0..evicted {
        let msg = pubsub.get_message().unwrap();
        let key: String = msg.get_payload().unwrap();
        assert!(key.starts_with('k'), "{key}");
    }
}

/// 50 clients write 20 KB values as fast as they can: used memory stays within the limit
/// plus what is in flight (the values being written and the clients' buffers).
#[test]
fn used_memory_stays_near_the_limit_under_a_write_storm() {
    const LIMIT: u64 = 32 << 20;
    const MARGIN: u64 = 4 << 20;
    let server = Server::ferrodis(&[
        "--maxmemory",
        "33554432",
        "--maxmemory-policy",
        "allkeys-lru",
    ]);
    let writers: Vec<_> = (0..50)
        .map(|w| {
            let mut con = server.client();
            std::thread::spawn(move || {
                let value = vec![b'x'; 20 << 10];
                for i in 0..100 {
                    let _: () = redis::cmd("SET")
                        .arg(format!("w{w}:{i}"))
                        .arg(&value)
                        .query(&mut con)
                        .unwrap();
                }
            })
        })
        .collect();
    let mut con = server.client();
    let mut peak = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        peak = peak.max(used_memory(&mut con));
    }
    for w in writers {
        w.join().unwrap();
    }
    peak = peak.max(used_memory(&mut con));
    println!("limit {LIMIT}, peak used_memory {peak}");
    assert!(peak <= LIMIT + MARGIN, "peak used_memory {peak}");
    // 100 MB were written into 32 MB.
    assert!(info_field(&mut con, "stats", "evicted_keys") > 2000);
}

#[test]
fn redis_cli_memkeys_reads_memory_usage() {
    let server = Server::ferrodis(&[]);
    let mut con = server.client();
    fill(&mut con, "k", 10, |_| None);
    let _: () = redis::cmd("RPUSH")
        .arg("list")
        .arg(&[1, 2, 3])
        .query(&mut con)
        .unwrap();
    let out = server.cli(&["--memkeys"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Biggest string found '\"k"), "{text}");
    assert!(text.contains("Biggest   list found '\"list\"'"), "{text}");
    assert!(text.contains("Sampled 11 keys"), "{text}");
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
fn deleting_data_gives_memory_back() {
    let server = Server::ferrodis(&[]);
    let mut con = server.client();
    let (used0, rss0) = (used_memory(&mut con), rss_of(server.pid()));
    fill(&mut con, "k", 30_000, |_| None);
    let full = used_memory(&mut con) - used0;
    assert!(full > 30_000 * VALUE as u64, "{full}");
    let mut pipe = redis::pipe();
    for i in 0..15_000 {
        pipe.cmd("DEL").arg(format!("k{i}")).ignore();
    }
    pipe.query::<()>(&mut con).unwrap();
    let half = used_memory(&mut con) - used0;
    assert!(
        half * 10 < full * 6 && half * 10 > full * 4,
        "half the keys deleted: {half} of {full} bytes still used"
    );
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    let after = used_memory(&mut con);
    assert!(
        after < used0 + (1 << 20),
        "after FLUSHALL {after}, at start {used0}"
    );
    // Freed pages go back to the system within about a second (jemalloc's decay).
    let deadline = Instant::now() + Duration::from_secs(20);
    while rss_of(server.pid()) > rss0 + (8 << 20) {
        assert!(
            Instant::now() < deadline,
            "RSS {} did not fall back towards {rss0}",
            rss_of(server.pid())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A client streaming a 200 MB value past maxmemory-clients is closed; the server, its other
/// clients and its data carry on.
#[test]
fn maxmemory_clients_closes_a_client_sending_a_huge_value() {
    use std::io::Write;
    both(&["--maxmemory-clients", "32mb"], |server| {
        let mut con = server.client();
        let _: () = redis::cmd("SET")
            .arg("kept")
            .arg("yes")
            .query(&mut con)
            .unwrap();
        let mut victim = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        victim
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let size = 200usize << 20;
        let header = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${size}\r\n");
        victim.write_all(header.as_bytes()).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0;
        while sent < size && victim.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        assert!(sent < size, "{}: the whole value was accepted", server.name);
        assert_eq!(info_field(&mut con, "stats", "evicted_clients"), 1);
        let kept: String = redis::cmd("GET").arg("kept").query(&mut con).unwrap();
        assert_eq!(kept, "yes");
        let big: Option<String> = redis::cmd("GET").arg("big").query(&mut con).unwrap();
        assert_eq!(big, None);
    });
}
