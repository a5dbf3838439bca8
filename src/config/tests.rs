use super::*;

fn args(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn get1(c: &Config, name: &str) -> String {
    c.get(&[name.as_bytes()])[0].1.clone()
}

#[test]
fn defaults_are_redis_defaults_except_port_and_bind() {
    let c = Config::from_args(&[]).unwrap();
    assert_eq!(c.port, 6350);
    assert_eq!(c.bind, vec!["127.0.0.1", "-::1"]);
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&c, "maxmemory-policy"), "noeviction");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
}

#[test]
fn argv_directives_and_units() {
    let c = Config::from_args(&args(&[
        "--port",
        "7000",
        "--maxmemory",
        "256mb",
        "--save",
        "900",
        "1",
        "--appendonly",
        "yes",
    ]))
    .unwrap();
    assert_eq!(c.port, 7000);
    assert_eq!(c.maxmemory, 256 << 20);
    assert_eq!(c.save, vec![(900, 1)]);
    assert!(c.appendonly);
    assert_eq!(parse_memory("1k"), Some(1000));
    assert_eq!(parse_memory("1KB"), Some(1024));
    assert_eq!(parse_memory("2gb"), Some(2 << 30));
    assert_eq!(parse_memory("1x"), None);
    let c = Config::from_args(&args(&["--save", ""])).unwrap();
    assert!(c.save.is_empty());
}

#[test]
fn file_syntax_quotes_save_lines_and_rename() {
    let c = Config::from_str_for_tests(
        "# comment\n  port 7001  \nrequirepass \"p a\\x41ss\"\nsave 900 1\nsave 300 10\nrename-command FLUSHALL \"\"\nlogfile 'my log'\n",
    )
    .unwrap();
    assert_eq!(c.port, 7001);
    assert_eq!(c.requirepass.as_deref(), Some(&b"p aAss"[..]));
    assert_eq!(c.save, vec![(900, 1), (300, 10)]);
    assert_eq!(
        c.rename_commands,
        vec![("FLUSHALL".to_string(), String::new())]
    );
    assert_eq!(c.logfile, "my log");
    let c = Config::from_str_for_tests("save \"\"\n").unwrap();
    assert!(c.save.is_empty());
}

#[test]
fn errors_name_the_line_and_reason_like_redis() {
    let e = Config::from_str_for_tests("port 7000\nnosuch yes\n").unwrap_err();
    assert_eq!(e.line_no, 2);
    assert_eq!(e.line, "nosuch yes");
    assert_eq!(e.reason, "Bad directive or wrong number of arguments");
    let text = e.to_string();
    assert!(text.contains("*** FATAL CONFIG FILE ERROR"));
    assert!(text.contains(">>> 'nosuch yes'"));
    let e = Config::from_args(&args(&["--port", "99999"])).unwrap_err();
    assert_eq!((e.line_no, e.line.as_str()), (2, "port \"99999\""));
    assert_eq!(e.reason, "argument must be between 0 and 65535 inclusive");
    let reason = |t: &str| Config::from_str_for_tests(t).unwrap_err().reason;
    assert_eq!(reason("maxmemory abc"), "argument must be a memory value");
    assert_eq!(reason("appendonly maybe"), "argument must be 'yes' or 'no'");
    assert_eq!(
        reason("hz x"),
        "argument couldn't be parsed into an integer"
    );
    assert_eq!(
        reason("maxmemory-policy bogus"),
        "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    assert_eq!(
        reason("requirepass \"abc"),
        "Unbalanced quotes in configuration line"
    );
}

#[test]
fn debian_stock_redis_conf_loads() {
    // Debian's redis-server package installs it; scripts/test.sh installs that package.
    let text = std::fs::read_to_string("/etc/redis/redis.conf").expect(
        "/etc/redis/redis.conf from Debian's redis-server package (scripts/test.sh installs it)",
    );
    let c = Config::from_str_for_tests(&text).unwrap();
    assert!(c.daemonize);
    assert_eq!(get1(&c, "hash-max-listpack-entries"), "512");
    assert_eq!(get1(&c, "hash-max-ziplist-entries"), "512");
    assert_eq!(c.logfile, "/var/log/redis/redis-server.log");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
}

#[test]
fn include_reads_another_file() {
    let dir = std::env::temp_dir().join(format!("ferrodis-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inc = dir.join("inc.conf");
    std::fs::write(&inc, "hz 42\n").unwrap();
    let c = Config::from_str_for_tests(&format!("include {}\n", inc.display())).unwrap();
    assert_eq!(c.hz, 42);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_get_globs_aliases_and_exact_names() {
    let c = Config::from_args(&[]).unwrap();
    let mut names: Vec<String> = c.get(&[b"maxmemory*"]).into_iter().map(|p| p.0).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ]
    );
    assert_eq!(
        c.get(&[b"MAXMEMORY"]),
        vec![("MAXMEMORY".to_string(), "0".to_string())]
    );
    assert_eq!(c.get(&[b"hash-max-ziplist-entries"])[0].1, "512");
    assert!(c.get(&[b"nosuch"]).is_empty());
    assert_eq!(c.get(&[b"hz", b"h?"]).len(), 1);
}

#[test]
fn config_set_is_all_or_nothing_with_redis_errors() {
    let mut c = Config::from_args(&[]).unwrap();
    assert_eq!(
        c.set(&[(b"hz", b"20"), (b"maxmemory", b"1mb")]).unwrap(),
        vec!["hz", "maxmemory"]
    );
    assert_eq!((c.hz, c.maxmemory), (20, 1 << 20));
    let e = c
        .set(&[(b"hz", b"30"), (b"maxmemory", b"lots")])
        .unwrap_err();
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(c.hz, 20, "nothing applied");
    assert_eq!(
        c.set(&[(b"nosuch", b"1")]).unwrap_err(),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(
        c.set(&[(b"daemonize", b"yes")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
    c.set(&[(b"save", b"100 1 200 2")]).unwrap();
    assert_eq!(c.save, vec![(100, 1), (200, 2)]);
    c.set(&[(b"client-output-buffer-limit", b"pubsub 1mb 2mb 3")])
        .unwrap();
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3"
    );
    c.set(&[(b"notify-keyspace-events", b"KEA")]).unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
}

#[test]
fn rewrite_updates_lines_and_appends_new_ones() {
    let dir = std::env::temp_dir().join(format!("ferrodis-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("r.conf");
    std::fs::write(&file, "# keep me\nport 7002\nhz 10\n").unwrap();
    let mut c = Config::from_args(&[file.display().to_string()]).unwrap();
    c.set(&[(b"hz", b"33"), (b"maxmemory", b"2mb")]).unwrap();
    c.rewrite(&[]).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# keep me\nport \"7002\"\nhz \"33\"\n"),
        "{text}"
    );
    assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("maxmemory \"2097152\""), "{text}");
    let again = Config::from_args(&[file.display().to_string()]).unwrap();
    assert_eq!((again.hz, again.maxmemory), (33, 2 << 20));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shipped_redis_conf_loads_with_the_production_settings() {
    let c = Config::from_str_for_tests(include_str!("../../redis.conf")).unwrap();
    assert_eq!(c.port, 6350);
    assert!(c.appendonly);
    assert_eq!(c.appendfsync, AppendFsync::Everysec);
    assert_eq!(c.save, vec![(900, 1), (300, 10), (60, 10000)]);
    assert_eq!(c.maxmemory, 256 << 20);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert_eq!(c.dir, PathBuf::from("/data"));
}
