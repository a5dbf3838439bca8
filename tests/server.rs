//! Integration tests of the running server: start-up and configuration like redis-server,
//! authentication, expiry, SCAN guarantees, client management, and redis-cli's tools.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Raw, Reply, Server, free_port, unique_temp_dir};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferrodis")
}

/// Polls `f` until it returns true or the deadline passes.
fn wait_for(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ping_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[test]
fn starts_daemonized_from_debian_stock_redis_conf() {
    let dir = unique_temp_dir("stockconf");
    let port = free_port();
    // Installed by Debian's redis-server package, which scripts/test.sh installs.
    let conf = "/etc/redis/redis.conf";
    let pidfile = dir.join("ferrodis.pid");
    // Only what would touch system paths is redirected into the test's directory.
    let status = Command::new(bin())
        .args([conf, "--port", &port.to_string()])
        .args(["--pidfile", pidfile.to_str().unwrap()])
        .args(["--logfile", dir.join("log").to_str().unwrap()])
        .args(["--dir", dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the foreground process exits 0 after daemonizing"
    );
    wait_for("pidfile", Duration::from_secs(20), || pidfile.exists());
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for("PING", Duration::from_secs(20), || ping_ok(port));
    let mut r = Raw::connect(port);
    assert_eq!(
        r.cmd_str(&["CONFIG", "GET", "databases"]),
        Reply::array(vec![Reply::bulk("databases"), Reply::bulk("16")])
    );
    assert_eq!(
        r.cmd_str(&["CONFIG", "GET", "hash-max-listpack-entries"]),
        Reply::array(vec![
            Reply::bulk("hash-max-listpack-entries"),
            Reply::bulk("512")
        ])
    );
    // SAFETY: plain kill(2) of the daemon we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_for("shutdown", Duration::from_secs(20), || !ping_ok(port));
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    assert!(log.contains("ready to accept connections"), "log: {log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_config_stops_startup_with_file_line_and_reason() {
    let dir = unique_temp_dir("badconf");
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "port 7000\nnosuchdirective yes\n").unwrap();
    let out = Command::new(bin()).arg(&conf).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at line 2"), "{err}");
    assert!(err.contains(">>> 'nosuchdirective yes'"), "{err}");
    assert!(
        err.contains("Bad directive or wrong number of arguments"),
        "{err}"
    );

    let out = Command::new(bin())
        .args(["--port", "99999"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("argument must be between 0 and 65535 inclusive")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_and_version() {
    let out = Command::new(bin()).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ferrodis v="));
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: ./ferrodis"));
}

#[test]
fn requirepass_gates_every_command_until_auth() {
    let s = Server::ferrodis(&["--requirepass", "s3cret"]);
    let mut r = s.raw();
    assert_eq!(
        r.cmd_str(&["GET", "k"]),
        Reply::err("NOAUTH Authentication required.")
    );
    assert_eq!(
        r.cmd_str(&["AUTH", "wrong"]),
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(r.cmd_str(&["AUTH", "s3cret"]), Reply::ok());
    assert_eq!(r.cmd_str(&["SET", "k", "v"]), Reply::ok());
    let mut r3 = s.raw();
    match r3.cmd_str(&[
        "HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "worker",
    ]) {
        Reply::Map(m) => assert!(m.contains(&(Reply::bulk("proto"), Reply::Int(3)))),
        other => panic!("HELLO 3 answered {other:?}"),
    }
    assert_eq!(r3.cmd_str(&["CLIENT", "GETNAME"]), Reply::bulk("worker"));
    assert_eq!(r3.cmd_str(&["GET", "k"]), Reply::bulk("v"));
}

#[test]
fn redis_crate_works_over_resp2_and_resp3() {
    let s = Server::ferrodis(&[]);
    let mut c = s.client();
    let _: () = redis::cmd("SET").arg("n").arg(41).query(&mut c).unwrap();
    let n: i64 = redis::cmd("INCR").arg("n").query(&mut c).unwrap();
    assert_eq!(n, 42);
    let url = format!("redis://127.0.0.1:{}/?protocol=resp3", s.port);
    let mut c3 = redis::Client::open(url).unwrap().get_connection().unwrap();
    let v: Option<String> = redis::cmd("GET").arg("n").query(&mut c3).unwrap();
    assert_eq!(v.as_deref(), Some("42"));
    let missing: Option<String> = redis::cmd("GET").arg("nope").query(&mut c3).unwrap();
    assert_eq!(missing, None);
}

#[test]
fn active_expiry_reclaims_keys_nobody_touches() {
    let s = Server::ferrodis(&["--hz", "50"]);
    let mut r = s.raw();
    for i in 0..2000 {
        r.send(&[b"SET", format!("k{i}").as_bytes(), b"v", b"PX", b"30"]);
    }
    for _ in 0..2000 {
        assert_eq!(r.read_reply(), Reply::ok());
    }
    r.cmd_str(&["SET", "keeper", "v"]);
    // Only DBSIZE (which never expires keys itself) is asked: the cron must do the work.
    wait_for("active expiry", Duration::from_secs(30), || {
        r.cmd_str(&["DBSIZE"]) == Reply::Int(1)
    });
    let info = match r.cmd_str(&["INFO", "stats"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(info.contains("expired_keys:2000\r\n"), "{info}");
}

#[test]
fn scan_returns_every_key_present_for_the_whole_scan_while_the_table_grows() {
    let s = Server::ferrodis(&[]);
    let mut r = s.raw();
    for i in 0..3000 {
        r.send(&[b"SET", format!("orig:{i}").as_bytes(), b"v"]);
    }
    for _ in 0..3000 {
        r.read_reply();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = b"0".to_vec();
    let mut added = 0;
    loop {
        let reply = r.cmd(&[b"SCAN", &cursor, b"COUNT", b"25"]);
        let items = reply.items().unwrap().to_vec();
        cursor = items[0].bytes().unwrap().to_vec();
        for k in items[1].items().unwrap() {
            seen.insert(k.bytes().unwrap().to_vec());
        }
        // Grow the keyspace between calls, forcing table resizes mid-scan.
        for _ in 0..40 {
            r.cmd(&[b"SET", format!("new:{added}").as_bytes(), b"v"]);
            added += 1;
        }
        if cursor == b"0" {
            break;
        }
    }
    for i in 0..3000 {
        assert!(
            seen.contains(format!("orig:{i}").as_bytes()),
            "orig:{i} missing from SCAN"
        );
    }
}

#[test]
fn client_list_kill_and_idle_timeout() {
    let s = Server::ferrodis(&["--timeout", "1"]);
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(a.cmd_str(&["CLIENT", "SETNAME", "alpha"]), Reply::ok());
    let b_id = match b.cmd_str(&["CLIENT", "ID"]) {
        Reply::Int(i) => i,
        other => panic!("{other:?}"),
    };
    let list = match a.cmd_str(&["CLIENT", "LIST"]) {
        Reply::Bulk(Some(v)) => String::from_utf8(v).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(
        list.lines()
            .any(|l| l.contains(" name=alpha ") && l.contains(" cmd=client|list ")),
        "{list}"
    );
    assert!(
        list.lines().any(|l| l.starts_with(&format!("id={b_id} "))),
        "{list}"
    );
    assert_eq!(
        a.cmd_str(&["CLIENT", "KILL", "ID", &b_id.to_string()]),
        Reply::Int(1)
    );
    b.expect_closed(Duration::from_secs(10)).unwrap();
    // timeout 1: an idle connection is closed by the server.
    a.expect_closed(Duration::from_secs(10)).unwrap();
}

#[test]
fn client_pause_write_holds_writes_but_not_reads() {
    let s = Server::ferrodis(&[]);
    let mut admin = s.raw();
    let mut w = s.raw();
    assert_eq!(
        admin.cmd_str(&["CLIENT", "PAUSE", "100000", "WRITE"]),
        Reply::ok()
    );
    w.send(&[b"SET", b"k", b"v"]);
    assert_eq!(admin.cmd_str(&["GET", "k"]), Reply::nil());
    w.set_read_timeout(Duration::from_millis(300));
    assert!(
        w.try_read_reply().is_err(),
        "the write must wait while paused"
    );
    assert_eq!(admin.cmd_str(&["CLIENT", "UNPAUSE"]), Reply::ok());
    w.set_read_timeout(Duration::from_secs(10));
    assert_eq!(w.read_reply(), Reply::ok());
}

#[test]
fn redis_cli_stat_and_latency_work() {
    let s = Server::ferrodis(&[]);
    let mut child = Command::new("stdbuf")
        .args([
            "-oL",
            "redis-cli",
            "-p",
            &s.port.to_string(),
            "--stat",
            "-i",
            "0.2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = lines.next().unwrap().unwrap();
    assert!(
        header.contains("data") && header.contains("load"),
        "{header}"
    );
    lines.next();
    let row = lines.next().unwrap().unwrap();
    assert!(row.split_whitespace().count() >= 6, "{row}");
    let _ = child.kill();
    let _ = child.wait();

    let out = Command::new("timeout")
        .args([
            "-s",
            "INT",
            "3",
            "redis-cli",
            "-p",
            &s.port.to_string(),
            "--latency",
            "--raw",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.len(), 4, "min max avg samples: {text}");
    assert!(fields[3].parse::<u64>().unwrap() > 0);

    assert_eq!(s.cli(&["ping"]).stdout, b"PONG\n");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let port = free_port();
    let mut child = Command::new(bin())
        .args(["--port", &port.to_string(), "--save", ""])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("PING", Duration::from_secs(20), || ping_ok(port));
    // SAFETY: plain kill(2) of our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn config_set_port_rebinds_live() {
    let s = Server::ferrodis(&[]);
    let mut r = s.raw();
    let new_port = free_port();
    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "port", &new_port.to_string()]),
        Reply::ok()
    );
    wait_for("new port", Duration::from_secs(20), || ping_ok(new_port));
    wait_for("old port closed", Duration::from_secs(20), || {
        !ping_ok(s.port)
    });
    // The connection that asked keeps working, and a port in use is refused.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "port", &busy_port]),
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"
        )
    );
    assert_eq!(
        r.cmd_str(&["CONFIG", "GET", "port"]).items().unwrap()[1],
        Reply::bulk(new_port.to_string())
    );
    assert!(ping_ok(new_port));
}

#[test]
fn info_keyspace_reports_keys_expires_and_an_avg_ttl_estimate() {
    let s = Server::ferrodis(&[]);
    let mut r = s.raw();
    for i in 0..100 {
        r.cmd(&[b"SET", format!("v{i}").as_bytes(), b"x", b"EX", b"1000"]);
    }
    r.cmd_str(&["SET", "plain", "x"]);
    wait_for("avg_ttl estimate", Duration::from_secs(20), || {
        let Reply::Bulk(Some(text)) = r.cmd_str(&["INFO", "keyspace"]) else {
            return false;
        };
        let text = String::from_utf8(text).unwrap();
        let Some(line) = text.lines().find(|l| l.starts_with("db0:")) else {
            return false;
        };
        assert!(
            line.starts_with("db0:keys=101,expires=100,avg_ttl="),
            "{line}"
        );
        let avg: i64 = line.rsplit('=').next().unwrap().parse().unwrap();
        (900_000..=1_000_000).contains(&avg)
    });
}

#[test]
fn slowlog_records_truncates_and_redacts_like_redis() {
    let s = Server::ferrodis(&[]);
    let mut r = s.raw();
    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        Reply::ok()
    );
    r.cmd_str(&["SLOWLOG", "RESET"]);
    let long = "x".repeat(200);
    r.cmd_str(&["SET", "k", &long]);
    let newest = |r: &mut Raw| r.cmd_str(&["SLOWLOG", "GET", "1"]).items().unwrap()[0].clone();
    let e = newest(&mut r);
    let f = e.items().unwrap();
    assert_eq!(f.len(), 6);
    let args = f[3].items().unwrap();
    assert_eq!(args[0], Reply::bulk("SET"));
    assert_eq!(
        args[2],
        Reply::bulk(format!("{}... (72 more bytes)", "x".repeat(128)))
    );
    assert!(matches!(f[2], Reply::Int(us) if us >= 0));
    let info = match r.cmd_str(&["CLIENT", "INFO"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap()
        .to_string();
    assert_eq!(f[4], Reply::bulk(addr));

    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut cmd = vec!["DEL"];
    cmd.extend(many.iter().map(|s| s.as_str()));
    r.cmd_str(&cmd);
    let e = newest(&mut r);
    let args = e.items().unwrap()[3].items().unwrap().to_vec();
    assert_eq!(args.len(), 32);
    assert_eq!(args[31], Reply::bulk("... (10 more arguments)"));

    r.cmd_str(&["AUTH", "secret-password"]);
    let e = newest(&mut r);
    assert_eq!(
        e.items().unwrap()[3],
        Reply::array(vec![Reply::bulk("AUTH"), Reply::bulk("(redacted)")])
    );

    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "slowlog-max-len", "2"]),
        Reply::ok()
    );
    assert_eq!(r.cmd_str(&["SLOWLOG", "LEN"]), Reply::Int(2));
    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]),
        Reply::ok()
    );
    assert_eq!(r.cmd_str(&["SLOWLOG", "RESET"]), Reply::ok());
    r.cmd_str(&["SET", "a", "b"]);
    assert_eq!(r.cmd_str(&["SLOWLOG", "LEN"]), Reply::Int(0));
}

#[test]
fn monitor_shows_every_command_in_redis_format_with_secrets_redacted() {
    let s = Server::ferrodis(&[]);
    let mut mon = s.raw();
    assert_eq!(mon.cmd_str(&["MONITOR"]), Reply::ok());
    let mut c = s.raw();
    c.cmd_str(&["SET", "a b", "x\"y"]);
    c.cmd_str(&["CONFIG", "GET", "port"]);
    c.cmd_str(&["AUTH", "secret"]);
    c.cmd_str(&["SELECT", "3"]);
    c.cmd_str(&["GET", "k"]);
    let lines: Vec<String> = (0..4)
        .map(|_| match mon.read_reply() {
            Reply::Simple(l) => l,
            other => panic!("{other:?}"),
        })
        .collect();
    let addr = lines[0]
        .split(['[', ']'])
        .nth(1)
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    let body = |l: &str| l.split_once(' ').unwrap().1.to_string();
    assert!(
        lines[0]
            .split(' ')
            .next()
            .unwrap()
            .split_once('.')
            .unwrap()
            .1
            .len()
            == 6,
        "{}",
        lines[0]
    );
    assert_eq!(
        body(&lines[0]),
        format!("[0 {addr}] \"SET\" \"a b\" \"x\\\"y\"")
    );
    // CONFIG is an admin command: Redis does not show it. AUTH's password is redacted.
    assert_eq!(
        body(&lines[1]),
        format!("[0 {addr}] \"AUTH\" \"(redacted)\"")
    );
    assert_eq!(body(&lines[2]), format!("[3 {addr}] \"SELECT\" \"3\""));
    assert_eq!(body(&lines[3]), format!("[3 {addr}] \"GET\" \"k\""));
}

#[test]
fn monitor_clients_show_flag_o_and_reset_ends_monitoring_as_in_redis() {
    for s in [Server::redis(&[]), Server::ferrodis(&[])] {
        let mut mon = s.raw();
        let mut other = s.raw();
        let mon_id = match mon.cmd_str(&["CLIENT", "ID"]) {
            Reply::Int(id) => id,
            r => panic!("{}: CLIENT ID {r:?}", s.name),
        };
        let flags_of_mon = |other: &mut Raw| {
            let list = other.cmd_str(&["CLIENT", "LIST", "ID", &mon_id.to_string()]);
            let line = String::from_utf8(list.bytes().expect("CLIENT LIST").to_vec()).unwrap();
            line.split(' ')
                .find_map(|f| f.strip_prefix("flags="))
                .expect("flags field")
                .to_string()
        };
        assert_eq!(mon.cmd_str(&["MONITOR"]), Reply::ok(), "{}", s.name);
        assert_eq!(
            flags_of_mon(&mut other),
            "O",
            "{}: flags of a MONITOR client",
            s.name
        );
        assert_eq!(
            mon.cmd_str(&["RESET"]),
            Reply::simple("RESET"),
            "{}",
            s.name
        );
        assert_eq!(
            flags_of_mon(&mut other),
            "N",
            "{}: flags after RESET",
            s.name
        );
        // Nothing is fed any more: the next reply is PING's, not a monitor line.
        other.cmd_str(&["SET", "k", "v"]);
        assert_eq!(
            mon.cmd_str(&["PING"]),
            Reply::simple("PONG"),
            "{}: after RESET",
            s.name
        );
    }
}

#[test]
fn client_list_shows_multi_watch_and_last_command_as_redis() {
    // Each step: a request from the observed client, then its CLIENT LIST flags=, multi=, cmd=
    // seen from another connection.
    let steps: &[&[&str]] = &[
        &["GET"],
        &["NOSUCHCOMMAND"],
        &["CONFIG", "NOPE"],
        &["WATCH", "k"],
        &["MULTI"],
        &["SET", "k", "1"],
        &["GET", "k"],
        &["SET", "other", "1"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "k"],
        &["INCR", "k"],
        &["DISCARD"],
        &["PING"],
    ];
    let mut seen = Vec::new();
    for s in [Server::redis(&[]), Server::ferrodis(&[])] {
        let mut observed = s.raw();
        let mut other = s.raw();
        observed.cmd_str(&["CLIENT", "SETNAME", "observed"]);
        let mut fields = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            observed.cmd_str(step);
            if i == 6 {
                // Touch the watched key between queuing and EXEC: flag d, EXEC fails.
                other.cmd_str(&["SET", "k", "2"]);
            }
            let list = other.cmd_str(&["CLIENT", "LIST"]);
            let list = String::from_utf8(list.bytes().expect("CLIENT LIST").to_vec()).unwrap();
            let line = list
                .lines()
                .find(|l| l.contains(" name=observed "))
                .unwrap();
            let picked: Vec<&str> = line
                .split(' ')
                .filter(|f| {
                    ["flags=", "multi=", "cmd="]
                        .iter()
                        .any(|p| f.starts_with(p))
                })
                .collect();
            fields.push(format!("{}: {}", step.join(" "), picked.join(" ")));
        }
        seen.push((s.name, fields));
    }
    assert_eq!(seen[0].1, seen[1].1, "{} vs {}", seen[0].0, seen[1].0);
}
