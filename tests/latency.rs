//! Live introspection against redis-server: the latency monitor with a command made slow on
//! purpose (DEBUG SLEEP), LATENCY HISTOGRAM and INFO latencystats shapes, the normal client
//! class of client-output-buffer-limit with a client that never reads, and redis-cli's
//! --latency-history and --scan run against ferrodis. Deterministic replies are in
//! corpus/latency.redis.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Reply, Server, encode_command};

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Polls `f` until it returns true or the deadline passes.
fn wait_for(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn int(r: &Reply) -> i64 {
    match r {
        Reply::Int(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

fn text(r: &Reply) -> String {
    String::from_utf8(
        r.bytes()
            .unwrap_or_else(|| panic!("not a string: {r:?}"))
            .to_vec(),
    )
    .unwrap()
}

/// The entries of a map reply: RESP3 map or RESP2 flat array.
fn pairs(r: &Reply) -> Vec<(Reply, Reply)> {
    match r {
        Reply::Map(m) => m.clone(),
        Reply::Array(Some(v)) => v.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

/// LATENCY HISTOGRAM as (command, calls, [(µs bucket, cumulative calls)]).
type Histograms = Vec<(String, i64, Vec<(i64, i64)>)>;

fn histograms(r: &Reply) -> Histograms {
    pairs(r)
        .iter()
        .map(|(name, body)| {
            let fields = pairs(body);
            assert_eq!(text(&fields[0].0), "calls");
            assert_eq!(text(&fields[1].0), "histogram_usec");
            let buckets = pairs(&fields[1].1)
                .iter()
                .map(|(k, v)| (int(k), int(v)))
                .collect();
            (text(name), int(&fields[0].1), buckets)
        })
        .collect()
}

/// The labels Redis's power-of-two buckets can carry (µs).
fn bucket_labels() -> Vec<i64> {
    let mut labels: Vec<i64> = (0..20)
        .map(|k: u32| {
            let level = 1024u64 << k;
            let step = 1u64 << (63 - level.leading_zeros() - 7);
            ((level + step - 1) / 1000) as i64
        })
        .collect();
    labels.push(1_073_741);
    labels
}

fn check_histogram_shape(h: &Histograms) {
    let labels = bucket_labels();
    for (name, calls, buckets) in h {
        assert!(!buckets.is_empty(), "{name}: no buckets");
        let mut prev = (0, 0);
        for &(label, count) in buckets {
            assert!(labels.contains(&label), "{name}: bucket {label}");
            assert!(label > prev.0 && count > prev.1, "{name}: {buckets:?}");
            prev = (label, count);
        }
        assert_eq!(prev.1, *calls, "{name}: last bucket holds every call");
    }
}

/// The same slow commands on redis-server and ferrodis: what LATENCY reports about them.
fn monitor_run(s: &Server) -> Vec<String> {
    let mut r = s.raw();
    let mut seen = Vec::new();
    r.cmd_str(&["LATENCY", "RESET"]);
    // The monitor is off by default: nothing is recorded.
    assert_eq!(r.cmd_str(&["DEBUG", "SLEEP", "0.03"]), Reply::ok());
    assert_eq!(r.cmd_str(&["LATENCY", "LATEST"]), Reply::array(vec![]));

    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "latency-monitor-threshold", "250"]),
        Reply::ok()
    );
    // Far above the threshold, which is far above any stall of an ordinary command.
    let before = unix_secs();
    r.cmd_str(&["DEBUG", "SLEEP", "0.3"]);
    r.cmd_str(&["GET", "fast-and-below-the-threshold"]);
    let after = unix_secs();
    let latest = r.cmd_str(&["LATENCY", "LATEST"]);
    let events = latest.items().unwrap();
    assert_eq!(events.len(), 1, "{latest}");
    let e = events[0].items().unwrap();
    assert_eq!(text(&e[0]), "command");
    let (t, ms, max) = (int(&e[1]), int(&e[2]), int(&e[3]));
    assert!((before..=after).contains(&t), "{latest}");
    assert!((300..5000).contains(&ms) && max == ms, "{latest}");

    let history = r.cmd_str(&["LATENCY", "HISTORY", "command"]);
    assert_eq!(
        history,
        Reply::array(vec![Reply::array(vec![Reply::Int(t), Reply::Int(ms)])])
    );
    // Event names are exact for HISTORY and GRAPH.
    assert_eq!(
        r.cmd_str(&["LATENCY", "HISTORY", "COMMAND"]),
        Reply::array(vec![])
    );

    let doctor = text(&r.cmd_str(&["LATENCY", "DOCTOR"]));
    assert!(doctor.starts_with("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n1. command: 1 latency spikes (average "), "{doctor}");
    assert!(
        doctor.contains(&format!(
            "Worst all time event {ms}ms.\n\nI have a few advices for you:\n\n- Check your Slow Log"
        )),
        "{doctor}"
    );
    seen.push(
        doctor
            .lines()
            .nth(2)
            .unwrap()
            .split('(')
            .next()
            .unwrap()
            .into(),
    );

    let graph = text(&r.cmd_str(&["LATENCY", "GRAPH", "command"]));
    let lines: Vec<&str> = graph.lines().collect();
    assert_eq!(
        lines[0],
        format!("command - high {ms} ms, low {ms} ms (all time high {ms} ms)")
    );
    assert_eq!(lines[1], "-".repeat(80));
    // One sample: a bottom-row bar, a spacer, then its "<n>s" label written downwards.
    assert_eq!(&lines[2..7], &[" ", " ", " ", "_", " "]);
    assert!(lines[7].chars().all(|c| c.is_ascii_digit()), "{graph}");
    assert_eq!(*lines.last().unwrap(), "s");
    seen.push(graph.lines().skip(1).take(5).collect::<Vec<_>>().join("\n"));

    // Case-insensitive RESET, counted once per event.
    assert_eq!(
        r.cmd_str(&["LATENCY", "RESET", "COMMAND", "command", "nosuch"]),
        Reply::Int(1)
    );
    assert_eq!(r.cmd_str(&["LATENCY", "LATEST"]), Reply::array(vec![]));
    assert_eq!(
        r.cmd_str(&["LATENCY", "GRAPH", "command"]),
        Reply::err("ERR No samples available for event 'command'")
    );
    let doctor = text(&r.cmd_str(&["LATENCY", "DOCTOR"]));
    seen.push(doctor.lines().next().unwrap().chars().take(30).collect());

    // 0 turns the monitor off again.
    r.cmd_str(&["CONFIG", "SET", "latency-monitor-threshold", "0"]);
    r.cmd_str(&["DEBUG", "SLEEP", "0.03"]);
    assert_eq!(r.cmd_str(&["LATENCY", "LATEST"]), Reply::array(vec![]));
    seen
}

#[test]
fn latency_monitor_records_slow_commands_like_redis() {
    let reference = monitor_run(&Server::redis(&[]));
    let subject = monitor_run(&Server::ferrodis(&[]));
    assert_eq!(reference, subject);
}

#[test]
fn latency_monitor_threshold_from_the_config_file_and_expire_cycle_events() {
    let s = Server::ferrodis(&["--latency-monitor-threshold", "1", "--hz", "100"]);
    let mut r = s.raw();
    r.cmd_str(&["DEBUG", "SLEEP", "0.01"]);
    let latest = r.cmd_str(&["LATENCY", "LATEST"]);
    assert_eq!(
        text(&latest.items().unwrap()[0].items().unwrap()[0]),
        "command"
    );

    // Many keys expiring at once make the active expiry pass in the cron slow.
    let mut batch = Vec::new();
    for i in 0..60_000 {
        batch.extend(encode_command(&[
            b"SET",
            format!("k{i}").as_bytes(),
            b"v",
            b"PX",
            b"50",
        ]));
    }
    r.send_raw(&batch);
    for _ in 0..60_000 {
        assert_eq!(r.read_reply(), Reply::ok());
    }
    wait_for("an expire-cycle event", Duration::from_secs(20), || {
        r.cmd_str(&["LATENCY", "LATEST"])
            .items()
            .unwrap()
            .iter()
            .any(|e| text(&e.items().unwrap()[0]) == "expire-cycle")
    });
    let doctor = text(&r.cmd_str(&["LATENCY", "DOCTOR"]));
    assert!(doctor.contains(". expire-cycle: "), "{doctor}");
    assert!(
        doctor.contains("- Deleting, expiring or evicting"),
        "{doctor}"
    );
}

/// The same commands on both servers; their histograms and INFO latencystats.
fn histogram_run(s: &Server, resp3: bool) -> (Histograms, Vec<String>) {
    let mut r = s.raw();
    if resp3 {
        r.cmd_str(&["HELLO", "3"]);
    }
    assert_eq!(r.cmd_str(&["CONFIG", "RESETSTAT"]), Reply::ok());
    for _ in 0..3 {
        r.cmd_str(&["SET", "a", "b"]);
    }
    for _ in 0..2 {
        r.cmd_str(&["GET", "a"]);
    }
    r.cmd_str(&["DEBUG", "SLEEP", "0.04"]);
    let h = histograms(&r.cmd_str(&[
        "LATENCY",
        "HISTOGRAM",
        "set",
        "GET",
        "nosuch",
        "debug",
        "config|resetstat",
    ]));
    check_histogram_shape(&h);
    let names: Vec<&str> = h.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["set", "get", "debug", "config|resetstat"]);
    let calls: Vec<i64> = h.iter().map(|(_, c, _)| *c).collect();
    assert_eq!(calls, [3, 2, 1, 1]);
    // 40 ms falls in the bucket that ends at 2^26 ns + its width (67.6 ms).
    assert_eq!(h[2].2, vec![(67633, 1)]);

    let all = histograms(&r.cmd_str(&["LATENCY", "HISTOGRAM"]));
    check_histogram_shape(&all);
    let mut all_names: Vec<String> = all.into_iter().map(|(n, _, _)| n).collect();
    all_names.sort();

    let info = text(&r.cmd_str(&["INFO", "latencystats"]));
    let mut lines = info.lines();
    assert_eq!(lines.next(), Some("# Latencystats"));
    let mut info_names = Vec::new();
    for line in lines {
        let (name, values) = line
            .strip_prefix("latency_percentiles_usec_")
            .and_then(|l| l.split_once(':'))
            .unwrap_or_else(|| panic!("{line}"));
        let keys: Vec<&str> = values
            .split(',')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                let (whole, frac) = v.split_once('.').unwrap();
                assert!(whole.parse::<u64>().is_ok() && frac.len() == 3, "{line}");
                k
            })
            .collect();
        assert_eq!(keys, ["p50", "p99", "p99.9"], "{line}");
        info_names.push(name.to_string());
    }
    info_names.sort();
    all_names.push("latency|histogram".into());
    all_names.sort();
    all_names.dedup();
    assert_eq!(info_names, all_names);

    // Percentile labels are printed like Redis's %f with the zeros trimmed.
    r.cmd_str(&[
        "CONFIG",
        "SET",
        "latency-tracking-info-percentiles",
        "0 12.5 100",
    ]);
    let info = text(&r.cmd_str(&["INFO", "latencystats"]));
    let debug_line = info
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_debug:"))
        .unwrap()
        .to_string();
    assert!(
        debug_line.contains(":p0=")
            && debug_line.contains(",p12.5=")
            && debug_line.contains(",p100=")
    );
    r.cmd_str(&[
        "CONFIG",
        "SET",
        "latency-tracking-info-percentiles",
        "50 99 99.9",
    ]);

    // latency-tracking no keeps what was recorded and records nothing new.
    r.cmd_str(&["CONFIG", "SET", "latency-tracking", "no"]);
    r.cmd_str(&["SET", "a", "b"]);
    let set = histograms(&r.cmd_str(&["LATENCY", "HISTOGRAM", "set"]));
    assert_eq!(set[0].1, 3);
    r.cmd_str(&["CONFIG", "SET", "latency-tracking", "yes"]);

    // CONFIG RESETSTAT forgets every histogram.
    r.cmd_str(&["CONFIG", "RESETSTAT"]);
    assert!(histograms(&r.cmd_str(&["LATENCY", "HISTOGRAM", "set", "get"])).is_empty());
    (h, info_names)
}

#[test]
fn latency_histogram_and_info_latencystats_match_redis() {
    let redis = Server::redis(&[]);
    let ferrodis = Server::ferrodis(&[]);
    for resp3 in [false, true] {
        let (rh, rinfo) = histogram_run(&redis, resp3);
        let (fh, finfo) = histogram_run(&ferrodis, resp3);
        let shape = |h: &Histograms| -> Vec<(String, i64)> {
            h.iter().map(|(n, c, _)| (n.clone(), *c)).collect()
        };
        assert_eq!(shape(&rh), shape(&fh));
        assert_eq!(rinfo, finfo);
    }
    // INFO all lists its sections in Redis's order.
    let headers = |s: &Server| -> Vec<String> {
        text(&s.raw().cmd_str(&["INFO", "all"]))
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(headers(&redis), headers(&ferrodis));
    let default_has_latencystats =
        |s: &Server| text(&s.raw().cmd_str(&["INFO"])).contains("# Latencystats");
    assert!(!default_has_latencystats(&redis) && !default_has_latencystats(&ferrodis));
}

/// Pipelines GETs of a big value on a fresh connection and never reads a reply, until the
/// server closes the connection. Returns how long that took.
fn pipeline_without_reading(s: &Server, value_len: usize, per_write: usize) -> Duration {
    let mut setup = s.raw();
    assert_eq!(
        setup.cmd(&[b"SET", b"big", &vec![b'x'; value_len]]),
        Reply::ok()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let batch = encode_command(&[b"GET", b"big"]).repeat(per_write);
    let start = Instant::now();
    let err = loop {
        if let Err(e) = stream.write_all(&batch) {
            break e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}: a client that never reads was never closed",
            s.name
        );
        // Pace the writer so the unread output grows steadily rather than by gigabytes.
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ),
        "{}: the server did not close the connection: {err}",
        s.name
    );
    start.elapsed()
}

fn log_mentions_output_limits(s: &Server) -> bool {
    std::fs::read_to_string(s.dir.join("server.log"))
        .unwrap_or_default()
        .contains("scheduled to be closed ASAP for overcoming of output buffer limits")
}

#[test]
fn a_normal_client_that_does_not_read_is_closed_at_the_hard_limit() {
    for s in [
        Server::redis(&["--client-output-buffer-limit", "normal 1mb 0 0"]),
        Server::ferrodis(&["--client-output-buffer-limit", "normal 1mb 0 0"]),
    ] {
        pipeline_without_reading(&s, 100 * 1024, 10);
        wait_for("the close to be logged", Duration::from_secs(10), || {
            log_mentions_output_limits(&s)
        });
        let mut other = s.raw();
        wait_for("the client to be gone", Duration::from_secs(10), || {
            text(&other.cmd_str(&["CLIENT", "LIST"])).lines().count() == 1
        });
        assert_eq!(other.cmd_str(&["GET", "nosuch"]), Reply::nil());
    }
}

#[test]
fn a_normal_client_over_the_soft_limit_for_its_seconds_is_closed() {
    for s in [
        Server::redis(&["--client-output-buffer-limit", "normal 256mb 256kb 1"]),
        Server::ferrodis(&["--client-output-buffer-limit", "normal 256mb 256kb 1"]),
    ] {
        // Over the soft limit within the first writes; Redis closes once more than one whole
        // second has passed since it was first seen there.
        let took = pipeline_without_reading(&s, 10 * 1024, 10);
        assert!(
            took >= Duration::from_secs(1),
            "{}: closed after {took:?}",
            s.name
        );
        wait_for(
            &format!("{} to log the close", s.name),
            Duration::from_secs(10),
            || log_mentions_output_limits(&s),
        );
    }
}

#[test]
fn without_limits_a_big_pipeline_is_answered_in_full() {
    for s in [Server::redis(&[]), Server::ferrodis(&[])] {
        let value = vec![b'v'; 100 * 1024];
        s.raw().cmd(&[b"SET", b"big", &value]);
        let mut reader = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        reader
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut writer = reader.try_clone().unwrap();
        // 20 MB of replies to one pipeline, read only while it is being sent.
        let n = 200;
        let sender = std::thread::spawn(move || {
            writer.write_all(&encode_command(&[b"GET", b"big"]).repeat(n))
        });
        let mut expected = format!("${}\r\n", value.len()).into_bytes();
        expected.extend_from_slice(&value);
        expected.extend_from_slice(b"\r\n");
        let mut got = vec![0u8; expected.len() * n];
        std::io::Read::read_exact(&mut reader, &mut got)
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert!(got == expected.repeat(n), "{}: replies differ", s.name);
        sender.join().unwrap().unwrap();
    }
}

#[test]
fn redis_cli_latency_history_against_ferrodis() {
    let s = Server::ferrodis(&[]);
    let mut child = Command::new("timeout")
        .args([
            "20",
            "stdbuf",
            "-oL",
            "redis-cli",
            "-p",
            &s.port.to_string(),
        ])
        .args(["--latency-history", "-i", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut samples = Vec::new();
    let mut range = None;
    for line in lines {
        let line = line.unwrap();
        if let Some(r) = line.strip_prefix(" -- ") {
            range = Some(r.to_string());
            break;
        }
        samples.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    let range = range.expect("a history interval was reported");
    assert!(range.ends_with(" seconds range"), "{range}");
    assert!(!samples.is_empty());
    for (i, line) in samples.iter().enumerate() {
        // Raw output: min max avg samples.
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 4, "{line}");
        assert_eq!(f[3].parse::<usize>().unwrap(), i + 1, "{line}");
        assert!(f[0].parse::<u64>().unwrap() <= f[1].parse::<u64>().unwrap());
    }
}

#[test]
fn redis_cli_scan_with_pattern_against_ferrodis() {
    let s = Server::ferrodis(&[]);
    let mut r = s.raw();
    let mut batch = Vec::new();
    for i in 0..1500 {
        batch.extend(encode_command(&[
            b"SET",
            format!("user:{i}").as_bytes(),
            b"1",
        ]));
        batch.extend(encode_command(&[
            b"SET",
            format!("order:{i}").as_bytes(),
            b"1",
        ]));
    }
    batch.extend(encode_command(&[b"SET", b"user\n:odd", b"1"]));
    r.send_raw(&batch);
    for _ in 0..3001 {
        assert_eq!(r.read_reply(), Reply::ok());
    }
    let scan = |args: &[&str]| -> Vec<String> {
        let out = Command::new("timeout")
            .args(["20", "redis-cli", "-p", &s.port.to_string(), "--scan"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let mut keys: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        keys.sort();
        keys
    };
    let mut users: Vec<String> = (0..1500).map(|i| format!("user:{i}")).collect();
    users.sort();
    assert_eq!(scan(&["--pattern", "user:*"]), users);
    assert_eq!(scan(&["--pattern", "order:1??"]).len(), 100);
    assert_eq!(scan(&["--pattern", "order:1*"]).len(), 611);
    assert_eq!(
        scan(&["--no-raw", "--quoted-pattern", "\"user\\n:*\""]),
        ["\"user\\n:odd\""]
    );
    assert_eq!(scan(&["--no-raw"]).len(), 3001);
}
