//! Scripts with real clients: busy scripts (BUSY replies, SCRIPT KILL / FUNCTION KILL,
//! UNKILLABLE, FUNCTION STATS), what scripts' writes do to other clients (blocked clients,
//! keyspace notifications, WATCH, MONITOR), each compared with redis-server; and atomicity: no
//! client ever sees a half-applied script, even one writing keys it did not declare.
//! ferrodis runs with two tokio workers, so a looping script must not keep other connections
//! from being read. Waits are on conditions, not sleeps.

mod common;

use std::sync::Once;
use std::time::{Duration, Instant};

use common::{Raw, Reply, Server};

const THRESHOLD_MS: &str = "200";

fn start(subject: bool) -> Server {
    static WORKERS: Once = Once::new();
    WORKERS.call_once(|| {
        // SAFETY: set once, before any server of this test binary is spawned; the tests read
        // no environment variables.
        unsafe { std::env::set_var("TOKIO_WORKER_THREADS", "2") };
    });
    let args = ["--busy-reply-threshold", THRESHOLD_MS];
    if subject {
        Server::subject(&args)
    } else {
        Server::redis(&args)
    }
}

/// Runs `scenario` on redis-server and on ferrodis; the transcripts must match.
fn differential(scenario: fn(&Server) -> Vec<Reply>) {
    let want = scenario(&start(false));
    let got = scenario(&start(true));
    assert_eq!(got, want);
    assert!(!want.is_empty());
}

fn connect(s: &Server) -> Raw {
    let mut c = s.raw();
    c.set_read_timeout(Duration::from_secs(20));
    c
}

/// Sends a command without reading its reply.
fn send(c: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    c.send(&a);
}

/// Waits until the script sent by another client runs: PING answers BUSY once it has run for
/// the threshold (and PONG while no script runs yet).
fn wait_busy(c: &mut Raw) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = c.cmd_str(&["PING"]);
        if r.is_error() {
            return r;
        }
        assert!(Instant::now() < deadline, "the script never got busy");
    }
}

const SPIN: &str = "local i = 0 while true do i = i + 1 end";

#[test]
fn busy_script_answers_busy_and_is_killed() {
    differential(|s| {
        let mut runner = connect(s);
        send(&mut runner, &["EVAL", SPIN, "0"]);
        let mut other = connect(s);
        let mut out = vec![wait_busy(&mut other)];
        // Several clients at once: every one is read and answered while the script loops.
        let mut clients: Vec<Raw> = (0..4).map(|_| connect(s)).collect();
        for c in &mut clients {
            send(c, &["GET", "k"]);
        }
        for c in &mut clients {
            out.push(c.read_reply());
        }
        out.push(other.cmd_str(&["MULTI"]));
        out.push(other.cmd_str(&["SET", "k", "v"]));
        out.push(other.cmd_str(&["EXEC"]));
        out.push(other.cmd_str(&["DISCARD"]));
        out.push(other.cmd_str(&["FUNCTION", "KILL"]));
        out.push(other.cmd_str(&["FUNCTION", "STATS"]));
        out.push(other.cmd_str(&["SCRIPT", "KILL"]));
        out.push(runner.read_reply());
        out.push(other.cmd_str(&["PING"]));
        out.push(runner.cmd_str(&["SCRIPT", "KILL"]));
        out
    });
}

#[test]
fn clients_timing_out_or_leaving_during_a_busy_script_do_not_stall_the_server() {
    differential(|s| {
        // A BLPOP timing out and watchers disconnecting clean up shard state outside the
        // script gate while the script holds every shard: their connections' workers must
        // not block on the shards, or no worker is left to read SCRIPT KILL.
        let mut other = connect(s);
        let mut blocked: Vec<Raw> = (0..2).map(|_| connect(s)).collect();
        for (i, c) in blocked.iter_mut().enumerate() {
            send(c, &["BLPOP", &format!("list{i}"), "0.2"]);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !matches!(other.cmd_str(&["INFO", "clients"]).bytes(),
            Some(info) if String::from_utf8_lossy(info).contains("blocked_clients:2"))
        {
            assert!(Instant::now() < deadline, "the BLPOPs never blocked");
        }
        let mut watchers: Vec<Raw> = (0..2).map(|_| connect(s)).collect();
        let mut out = Vec::new();
        for (i, c) in watchers.iter_mut().enumerate() {
            out.push(c.cmd_str(&["WATCH", &format!("w{i}")]));
        }
        let mut runner = connect(s);
        send(&mut runner, &["EVAL", SPIN, "0"]);
        let blocked_at = Instant::now();
        out.push(wait_busy(&mut other));
        drop(watchers);
        // The BLPOP timeouts fall inside the script's run, which lasts until SCRIPT KILL.
        std::thread::sleep(Duration::from_millis(400).saturating_sub(blocked_at.elapsed()));
        let mut clients: Vec<Raw> = (0..4).map(|_| connect(s)).collect();
        for c in &mut clients {
            send(c, &["GET", "k"]);
        }
        for c in &mut clients {
            out.push(c.read_reply());
        }
        out.push(other.cmd_str(&["SCRIPT", "KILL"]));
        out.push(runner.read_reply());
        for c in &mut blocked {
            out.push(c.read_reply());
        }
        out.push(other.cmd_str(&["PING"]));
        out
    });
}

#[test]
fn a_script_that_wrote_cannot_be_killed() {
    differential(|s| {
        let mut runner = connect(s);
        // Writes, then spins for 600 ms of server time before returning.
        let script = "redis.call('set', 'written', '1') \
                      local t = redis.call('time') \
                      local stop = t[1] * 1000000 + t[2] + 600000 \
                      while true do \
                        local n = redis.call('time') \
                        if n[1] * 1000000 + n[2] > stop then break end \
                      end \
                      return 'done'";
        send(&mut runner, &["EVAL", script, "0"]);
        let mut other = connect(s);
        let mut out = vec![wait_busy(&mut other)];
        out.push(other.cmd_str(&["SCRIPT", "KILL"]));
        out.push(runner.read_reply());
        out.push(other.cmd_str(&["GET", "written"]));
        out
    });
}

#[test]
fn busy_function_is_killed_with_function_kill() {
    differential(|s| {
        let mut runner = connect(s);
        let lib =
            "#!lua name=spinlib\nredis.register_function('spin', function() while true do end end)";
        let mut out = vec![runner.cmd_str(&["FUNCTION", "LOAD", lib])];
        send(&mut runner, &["FCALL", "spin", "1", "somekey", "arg"]);
        let mut other = connect(s);
        out.push(wait_busy(&mut other));
        out.push(other.cmd_str(&["SCRIPT", "KILL"]));
        // The running function: its name and command (the duration varies).
        let stats = other.cmd_str(&["FUNCTION", "STATS"]);
        let running = stats.items().unwrap()[1].clone();
        let running = running.items().unwrap();
        out.extend_from_slice(&running[..4]);
        out.push(other.cmd_str(&["FUNCTION", "KILL"]));
        out.push(runner.read_reply());
        out.push(other.cmd_str(&["FUNCTION", "STATS"]));
        out
    });
}

#[test]
fn script_writes_wake_blocked_clients_and_break_watches() {
    differential(|s| {
        let mut admin = connect(s);
        let mut blocked = connect(s);
        send(&mut blocked, &["BLPOP", "queue", "0"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info = admin.cmd_str(&["INFO", "clients"]);
            if String::from_utf8_lossy(info.bytes().unwrap()).contains("blocked_clients:1\r\n") {
                break;
            }
            assert!(Instant::now() < deadline, "the client never blocked");
        }
        let mut watcher = connect(s);
        let mut out = vec![watcher.cmd_str(&["WATCH", "watched"])];
        // Keys named at run time, not declared.
        let script = "redis.call('rpush', 'qu' .. 'eue', 'job') \
                      redis.call('set', 'watch' .. 'ed', 'x') return 'pushed'";
        out.push(admin.cmd_str(&["EVAL", script, "0"]));
        out.push(blocked.read_reply());
        out.push(watcher.cmd_str(&["MULTI"]));
        out.push(watcher.cmd_str(&["GET", "watched"]));
        out.push(watcher.cmd_str(&["EXEC"]));
        out
    });
}

#[test]
fn script_writes_notify_keyspace_events_in_order() {
    differential(|s| {
        let mut admin = connect(s);
        admin.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        let mut sub = connect(s);
        sub.cmd_str(&["PSUBSCRIBE", "__key*__:*"]);
        let script = "redis.call('set', 'a', '1') redis.call('rpush', 'l', 'x', 'y') \
                      redis.call('lpop', 'l') redis.call('expire', 'a', 100) \
                      redis.call('del', 'a') return 1";
        let mut out = vec![admin.cmd_str(&["EVAL", script, "0"])];
        admin.cmd_str(&["PUBLISH", "end", "x"]);
        for _ in 0..10 {
            out.push(sub.read_reply());
        }
        out
    });
}

/// MONITOR lines without their timestamp and client address.
fn monitor_line(r: &Reply) -> String {
    let text = match r {
        Reply::Simple(t) => t.clone(),
        other => format!("{other}"),
    };
    let (_, rest) = text.split_once(' ').unwrap_or(("", &text));
    let rest = rest.replace("[0 lua]", "[0 LUA]");
    match rest.split_once("] ") {
        Some((who, cmd)) if who.ends_with("LUA") => format!("lua: {cmd}"),
        Some((_, cmd)) => format!("client: {cmd}"),
        None => rest,
    }
}

#[test]
fn monitor_shows_the_script_then_its_commands() {
    differential(|s| {
        let mut mon = connect(s);
        let mut out = vec![mon.cmd_str(&["MONITOR"])];
        let mut c = connect(s);
        out.push(c.cmd_str(&[
            "EVAL",
            "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])",
            "1",
            "mk",
        ]));
        out.push(c.cmd_str(&["FCALL", "nosuch", "0"]));
        out.push(c.cmd_str(&["PING"]));
        for _ in 0..5 {
            out.push(Reply::Simple(monitor_line(&mon.read_reply())));
        }
        out
    });
}

/// A script incrementing two keys it names at run time, in a loop, while other clients read
/// both: every read must see them equal.
#[test]
fn no_client_sees_a_half_applied_script() {
    let s = start(true);
    let mut writer = connect(&s);
    let script = "for i = 1, 200 do \
                    redis.call('incr', 'left' .. ARGV[1]) \
                    redis.call('incr', 'right' .. ARGV[1]) \
                  end return redis.call('get', 'left' .. ARGV[1])";
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let mut r = connect(&s);
            std::thread::spawn(move || {
                let mut seen = 0;
                for _ in 0..300 {
                    let v = r.cmd_str(&["MGET", "left1", "right1"]);
                    let items = v.items().unwrap();
                    assert_eq!(items[0], items[1], "a reader saw a half-applied script");
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    for n in 1..=50 {
        let r = writer.cmd_str(&["EVAL", script, "0", "1"]);
        assert_eq!(r, Reply::bulk((n * 200).to_string()));
    }
    for r in readers {
        assert_eq!(r.join().unwrap(), 300);
    }
}

/// Redis 7.0 tracks the keys EVAL_RO declares for the caller, not the keys a script reads.
#[test]
fn tracking_sees_declared_keys_of_read_only_scripts_only() {
    differential(|s| {
        let mut tracked = connect(s);
        let mut writer = connect(s);
        tracked.cmd_str(&["HELLO", "3"]);
        let mut out = vec![tracked.cmd_str(&["CLIENT", "TRACKING", "on"])];
        out.push(tracked.cmd_str(&["EVAL", "return redis.call('get', 'read')", "0"]));
        out.push(tracked.cmd_str(&[
            "EVAL_RO",
            "return redis.call('get', KEYS[1])",
            "1",
            "declared",
        ]));
        out.push(writer.cmd_str(&["MSET", "read", "1", "declared", "2"]));
        // An invalidation for a tracked key arrives before the PING's reply.
        out.push(tracked.cmd_str(&["PING"]));
        out.push(tracked.read_reply());
        out
    });
}

/// The commands a script calls are logged by SLOWLOG after the script's own entry, with Redis's
/// Lua client address ("?:0"). Times and real clients' addresses are masked.
#[test]
fn slowlog_records_script_commands() {
    differential(|s| {
        let mut c = connect(s);
        c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        c.cmd_str(&["SLOWLOG", "RESET"]);
        let mut out = vec![c.cmd_str(&[
            "EVAL",
            "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])",
            "1",
            "sk",
        ])];
        let log = c.cmd_str(&["SLOWLOG", "GET"]);
        for entry in log.items().unwrap() {
            let fields = entry.items().unwrap();
            let addr = match &fields[4] {
                Reply::Bulk(Some(a)) if a.as_slice() == b"?:0" => Reply::bulk("?:0"),
                _ => Reply::bulk("client"),
            };
            out.push(Reply::array(vec![
                fields[3].clone(),
                addr,
                fields[5].clone(),
            ]));
        }
        out
    });
}
