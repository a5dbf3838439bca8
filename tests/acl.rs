//! ACL with several connections, each authenticated as its own user: every scenario runs on
//! redis-server and on ferrodis and the transcripts must be identical. Also the ACL file, `user`
//! lines in a config file, ACL CAT against the command table, and real clients (redis-cli,
//! redis-py) logging in with a user name.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Raw, Reply, Server};

fn differential(extra_args: &[&str], scenario: fn(&Server) -> Vec<Reply>) {
    let want = scenario(&Server::redis(extra_args));
    let got = scenario(&Server::subject(extra_args));
    assert_same(&got, &want);
}

/// Transcripts compared step by step, reporting every differing step with the one before it
/// (the matrix labels each cell with a status line).
fn assert_same(got: &[Reply], want: &[Reply]) {
    let mut report = String::new();
    for i in 0..got.len().max(want.len()) {
        if got.get(i) != want.get(i) {
            report.push_str(&format!(
                "step {i} (after {:?}):\n  redis-server: {:?}\n  subject:      {:?}\n",
                want.get(i.wrapping_sub(1)),
                want.get(i),
                got.get(i)
            ));
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// A connection authenticated as `user` (password "pw").
fn login(s: &Server, user: &str) -> Raw {
    let mut c = s.raw();
    c.set_read_timeout(Duration::from_secs(10));
    assert_eq!(c.cmd_str(&["AUTH", user, "pw"]), Reply::ok(), "AUTH {user}");
    c
}

fn closed(c: &mut Raw) -> Reply {
    match c.expect_closed(Duration::from_secs(2)) {
        Ok(()) => Reply::simple("closed"),
        Err(e) => Reply::err(&format!("still open: {e}")),
    }
}

/// Users of the permission matrix: key patterns (all, read-only, write-only), channels,
/// categories, single commands and first arguments, and selectors.
const USERS: &[&[&str]] = &[
    &["reader", "on", ">pw", "~*", "&*", "+@read"],
    &["writer", "on", ">pw", "~*", "&*", "+@write", "-del"],
    &["keys", "on", ">pw", "~app:*", "%R~ro:*", "%W~wo:*", "+@all"],
    &[
        "chans",
        "on",
        ">pw",
        "resetchannels",
        "&news.*",
        "&alerts",
        "+@all",
        "allkeys",
    ],
    &[
        "admin",
        "on",
        ">pw",
        "allkeys",
        "allchannels",
        "+@all",
        "-@dangerous",
        "+config|get",
        "+select|0",
    ],
    &[
        "selectors",
        "on",
        ">pw",
        "-@all",
        "(+get ~r:*)",
        "(+@write %W~w:* &w.*)",
        "(+@hash ~h:*)",
    ],
];

/// Commands of the matrix: every user runs every one.
const COMMANDS: &[&[&str]] = &[
    &["GET", "app:1"],
    &["GET", "ro:1"],
    &["GET", "wo:1"],
    &["GET", "r:1"],
    &["SET", "app:1", "v"],
    &["SET", "ro:1", "v"],
    &["SET", "wo:1", "v"],
    &["SET", "wo:1", "v", "GET"],
    &["SET", "w:1", "v"],
    &["APPEND", "wo:2", "x"],
    &["STRLEN", "wo:1"],
    &["EXISTS", "wo:1", "ro:1"],
    &["DEL", "wo:2"],
    &["MSET", "app:2", "a", "wo:3", "b"],
    &["MSET", "app:2", "a", "ro:3", "b"],
    &["RPUSH", "wo:l", "a", "b"],
    &["LMOVE", "wo:l", "app:l", "LEFT", "RIGHT"],
    &["LMOVE", "app:l", "wo:l", "LEFT", "RIGHT"],
    &["SADD", "ro:s", "a"],
    &["SINTERSTORE", "wo:d", "ro:s", "app:s"],
    &["SINTERSTORE", "ro:d", "wo:s"],
    &["COPY", "ro:1", "wo:c"],
    &["BITFIELD", "ro:b", "GET", "u8", "0"],
    &["BITFIELD", "ro:b", "SET", "u8", "0", "1"],
    &["SORT", "app:l", "BY", "x_*"],
    &["SORT", "app:l", "GET", "#"],
    &["SORT_RO", "r:l", "BY", "nosort"],
    &["SORT", "app:l", "BY", "store", "STORE", "wo:sorted"],
    &["SORT", "app:l", "STORE", "ro:sorted"],
    &["HSET", "h:1", "f", "v"],
    &["HGET", "h:1", "f"],
    &["PUBLISH", "news.today", "m"],
    &["PUBLISH", "alerts", "m"],
    &["PUBLISH", "w.x", "m"],
    &["PUBLISH", "other", "m"],
    &["SPUBLISH", "news.x", "m"],
    &["CONFIG", "GET", "maxmemory"],
    &["CONFIG", "SET", "maxmemory", "0"],
    &["SELECT", "0"],
    &["SELECT", "1"],
    &["FLUSHALL"],
    &["KEYS", "nomatch*"],
    &["PING"],
    &["ACL", "WHOAMI"],
    &["EVAL", "return redis.call('get', KEYS[1])", "1", "app:1"],
    &[
        "EVAL",
        "return redis.call('set', KEYS[1], 'x')",
        "1",
        "app:9",
    ],
    &["EVAL", "return redis.pcall('get', 'ro:1')", "0"],
    &["EVAL", "return redis.pcall('set', 'ro:1', 'x')", "0"],
    &["EVAL", "return redis.pcall('publish', 'other', 'x')", "0"],
    &[
        "EVAL",
        "local c = redis.acl_check_cmd return table.concat({tostring(c('set', 'app:1', 'v')), tostring(c('get', 'ro:1')), tostring(c('get', 'wo:1')), tostring(c('publish', 'news.x', 'm')), tostring(c('config', 'get', 'x')), tostring(c('flushall'))}, ',')",
        "0",
    ],
];

#[test]
fn permission_matrix() {
    differential(&[], |s| {
        let mut root = s.raw();
        for u in USERS {
            let mut args = vec!["ACL", "SETUSER"];
            args.extend_from_slice(u);
            assert_eq!(root.cmd_str(&args), Reply::ok(), "{u:?}");
        }
        let mut out = Vec::new();
        for u in USERS {
            let mut c = login(s, u[0]);
            for cmd in COMMANDS {
                out.push(Reply::simple(&format!("{} {}", u[0], cmd.join(" "))));
                let mut dry = vec!["ACL", "DRYRUN", u[0]];
                dry.extend_from_slice(cmd);
                out.push(root.cmd_str(&dry));
                out.push(c.cmd_str(cmd));
            }
            // Patterns subscribe only when the user has exactly that channel pattern.
            for (kind, ch) in [
                ("PSUBSCRIBE", "news.*"),
                ("PSUBSCRIBE", "news.a*"),
                ("SUBSCRIBE", "alerts"),
                ("SUBSCRIBE", "w.1"),
                ("SSUBSCRIBE", "news.1"),
            ] {
                out.push(c.cmd_str(&[kind, ch]));
                out.push(c.cmd_str(&["RESET"]));
                out.push(c.cmd_str(&["AUTH", u[0], "pw"]));
            }
        }
        out
    });
}

#[test]
fn auth_and_hello() {
    differential(&[], |s| {
        let mut root = s.raw();
        root.cmd_str(&["ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*"]);
        let mut c = s.raw();
        let mut early = s.raw();
        let mut out = vec![
            c.cmd_str(&["AUTH", "pw"]),
            c.cmd_str(&["AUTH", "u", "bad"]),
            c.cmd_str(&["AUTH", "nobody", "pw"]),
            c.cmd_str(&["AUTH", "a", "b", "c"]),
            c.cmd_str(&["HELLO", "3", "AUTH", "u", "bad"]),
            c.cmd_str(&["HELLO", "2", "AUTH", "u", "pw", "SETNAME", "worker"])
                .items()
                .map_or(0, |i| i.len())
                .into_reply(),
            c.cmd_str(&["ACL", "WHOAMI"]),
            c.cmd_str(&["CLIENT", "GETNAME"]),
            c.cmd_str(&["RESET"]),
            c.cmd_str(&["ACL", "WHOAMI"]),
            // requirepass: the default user's password; new connections must authenticate.
            root.cmd_str(&["CONFIG", "SET", "requirepass", "sekret"]),
            s.raw().cmd_str(&["GET", "x"]),
            s.raw().cmd_str(&["HELLO", "3"]),
            s.raw().cmd_str(&["AUTH", "wrong"]),
            s.raw().cmd_str(&["AUTH", "sekret"]),
            s.raw().cmd_str(&["AUTH", "default", "sekret"]),
            root.cmd_str(&["ACL", "SETUSER", "default", "off"]),
            s.raw().cmd_str(&["AUTH", "sekret"]),
            root.cmd_str(&["ACL", "SETUSER", "default", "on", "nopass"]),
            s.raw().cmd_str(&["GET", "x"]),
        ];
        // A connection opened while a password was needed runs once none is.
        out.push(root.cmd_str(&["CONFIG", "SET", "requirepass", "again"]));
        let mut late = s.raw();
        out.push(late.cmd_str(&["GET", "x"]));
        out.push(early.cmd_str(&["GET", "x"]));
        out.push(root.cmd_str(&["CONFIG", "SET", "requirepass", ""]));
        out.push(late.cmd_str(&["GET", "x"]));
        out
    });
}

/// ACL LOG entries with the parts that differ by nature masked: the age and the client
/// description (only its cmd= and user= fields are kept).
fn masked_log(c: &mut Raw) -> Reply {
    let log = c.cmd_str(&["ACL", "LOG"]);
    let entries = log.items().expect("ACL LOG is an array").to_vec();
    Reply::array(
        entries
            .iter()
            .map(|e| {
                let fields = e.items().expect("an entry is a flat map").to_vec();
                let mut kept = Vec::new();
                for pair in fields.chunks(2) {
                    let key = String::from_utf8_lossy(pair[0].bytes().unwrap()).into_owned();
                    kept.push(pair[0].clone());
                    kept.push(match key.as_str() {
                        "age-seconds" => Reply::simple("age"),
                        "client-info" => {
                            let info =
                                String::from_utf8_lossy(pair[1].bytes().unwrap()).into_owned();
                            let parts: Vec<&str> = info
                                .split(' ')
                                .filter(|f| f.starts_with("cmd=") || f.starts_with("user="))
                                .collect();
                            Reply::bulk(parts.join(" "))
                        }
                        _ => pair[1].clone(),
                    });
                }
                Reply::array(kept)
            })
            .collect(),
    )
}

#[test]
fn acl_log_records_denials() {
    differential(&[], |s| {
        let mut root = s.raw();
        root.cmd_str(&[
            "ACL",
            "SETUSER",
            "u",
            "on",
            ">pw",
            "~k*",
            "&ch",
            "+@all",
            "-flushall",
        ]);
        let mut c = login(s, "u");
        let mut out = vec![
            c.cmd_str(&["GET", "other"]),
            c.cmd_str(&["GET", "other"]),
            c.cmd_str(&["FLUSHALL"]),
            c.cmd_str(&["PUBLISH", "nope", "m"]),
            c.cmd_str(&["MULTI"]),
            c.cmd_str(&["GET", "other2"]),
            c.cmd_str(&["DISCARD"]),
            c.cmd_str(&["EVAL", "return redis.pcall('get', 'luakey')", "0"]),
            c.cmd_str(&["MULTI"]),
            c.cmd_str(&["AUTH", "u", "wrong"]),
            c.cmd_str(&["EXEC"]),
            s.raw().cmd_str(&["AUTH", "u", "wrong"]),
            s.raw().cmd_str(&["AUTH", "ghost", "pw"]),
        ];
        out.push(masked_log(&mut root));
        out.push(
            root.cmd_str(&["ACL", "LOG", "2"])
                .items()
                .map_or(0, |i| i.len())
                .into_reply(),
        );
        out.push(root.cmd_str(&["ACL", "LOG", "-1"]));
        out.push(root.cmd_str(&["ACL", "LOG", "RESET"]));
        out.push(root.cmd_str(&["ACL", "LOG"]));
        out
    });
}

trait IntoReply {
    fn into_reply(self) -> Reply;
}

impl IntoReply for usize {
    fn into_reply(self) -> Reply {
        Reply::Int(self as i64)
    }
}

/// Redis 7.0 has no ACL counters in INFO; ferrodis reports Redis 7.2's.
#[test]
fn info_counts_denials() {
    let s = Server::ferrodis(&[]);
    let mut root = s.raw();
    root.cmd_str(&[
        "ACL",
        "SETUSER",
        "u",
        "on",
        ">pw",
        "~k*",
        "&ch",
        "+@all",
        "-flushall",
    ]);
    let mut c = login(&s, "u");
    c.cmd_str(&["FLUSHALL"]);
    c.cmd_str(&["GET", "x"]);
    c.cmd_str(&["GET", "y"]);
    c.cmd_str(&["PUBLISH", "x", "m"]);
    s.raw().cmd_str(&["AUTH", "u", "bad"]);
    let info = root.cmd_str(&["INFO", "stats"]);
    let text = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
    for want in [
        "acl_access_denied_auth:1",
        "acl_access_denied_cmd:1",
        "acl_access_denied_key:2",
        "acl_access_denied_channel:1",
    ] {
        assert!(text.contains(want), "{want} missing in:\n{text}");
    }
}

#[test]
fn exec_rechecks_permissions() {
    differential(&[], |s| {
        let mut root = s.raw();
        root.cmd_str(&["ACL", "SETUSER", "u", "on", ">pw", "~*", "&*", "+@all"]);
        let mut c = login(s, "u");
        let mut out = vec![
            c.cmd_str(&["MULTI"]),
            c.cmd_str(&["SET", "a", "1"]),
            c.cmd_str(&["SET", "b", "1"]),
            c.cmd_str(&["PUBLISH", "ch", "m"]),
            c.cmd_str(&["GET", "a"]),
        ];
        out.push(root.cmd_str(&[
            "ACL",
            "SETUSER",
            "u",
            "resetkeys",
            "~a",
            "resetchannels",
            "-get",
        ]));
        out.push(c.cmd_str(&["EXEC"]));
        out.push(masked_log(&mut root));
        out
    });
}

#[test]
fn changed_users_lose_their_connections() {
    differential(&[], |s| {
        let mut root = s.raw();
        for u in ["gone", "stays", "sub"] {
            root.cmd_str(&["ACL", "SETUSER", u, "on", ">pw", "allkeys", "&*", "+@all"]);
        }
        let mut gone = login(s, "gone");
        let mut gone2 = login(s, "gone");
        let mut stays = login(s, "stays");
        let mut sub = login(s, "sub");
        let mut psub = login(s, "sub");
        let mut out = vec![
            sub.cmd_str(&["SUBSCRIBE", "news"]),
            psub.cmd_str(&["PSUBSCRIBE", "n*"]),
            root.cmd_str(&["ACL", "DELUSER", "gone"]),
        ];
        out.push(closed(&mut gone));
        out.push(closed(&mut gone2));
        // Turning a user off or changing its password keeps its connections.
        out.push(root.cmd_str(&["ACL", "SETUSER", "stays", "off", "resetpass"]));
        out.push(stays.cmd_str(&["ACL", "WHOAMI"]));
        // Losing the channel of a subscription closes that subscriber only.
        out.push(root.cmd_str(&["ACL", "SETUSER", "sub", "resetchannels", "&n*"]));
        out.push(closed(&mut sub));
        out.push(psub.cmd_str(&["PING"]));
        out.push(root.cmd_str(&["ACL", "SETUSER", "sub", "resetchannels", "&news"]));
        out.push(closed(&mut psub));
        // Deleting the user a connection runs as closes it after the reply.
        out.push(root.cmd_str(&["ACL", "SETUSER", "stays", "on", ">pw"]));
        let mut me = login(s, "stays");
        let mut me2 = login(s, "stays");
        out.push(me2.cmd_str(&["ACL", "DELUSER", "stays"]));
        out.push(closed(&mut me2));
        out.push(closed(&mut me));
        out.push(root.cmd_str(&["ACL", "USERS"]));
        out
    });
}

fn write(path: &PathBuf, text: &str) {
    std::fs::write(path, text).expect("write test file");
}

/// A server whose config file names an ACL file (created empty) in its own directory.
fn start_with_acl_file(redis: bool) -> (Server, PathBuf) {
    let dir = common::unique_temp_dir("aclfile");
    let file = dir.join("users.acl");
    write(&file, "");
    let conf = dir.join("acl.conf");
    write(&conf, &format!("aclfile {}\n", file.display()));
    let conf = conf.display().to_string();
    let s = if redis {
        Server::redis(&[&conf])
    } else {
        Server::subject(&[&conf])
    };
    (s, dir)
}

fn acl_file_scenario(s: &Server, dir: &std::path::Path) -> Vec<Reply> {
    let file = dir.join("users.acl");
    let mut c = s.raw();
    let mut out = vec![
        c.cmd_str(&["ACL", "LIST"]),
        c.cmd_str(&[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">pw",
            "~app:*",
            "&app.*",
            "+@all",
            "-@dangerous",
        ]),
        c.cmd_str(&[
            "ACL",
            "SETUSER",
            "ro",
            "on",
            "nopass",
            "%R~*",
            "+@read",
            "(+set ~w*)",
        ]),
        c.cmd_str(&["ACL", "SAVE"]),
    ];
    out.push(Reply::bulk(std::fs::read(&file).unwrap()));
    // Nothing is applied unless the whole file is valid; every problem is listed.
    let mut ro = s.raw();
    ro.cmd_str(&["AUTH", "ro", "x"]);
    write(
        &file,
        "user a on +nosuch\n# comment\nuser b on nopass\nuser b off\nuser c (+get ~x\nuser\n\nuser d %X~q bogus\nuser e\ton\n",
    );
    out.push(c.cmd_str(&["ACL", "LOAD"]));
    out.push(ro.cmd_str(&["ACL", "WHOAMI"]));
    write(
        &file,
        "user default on nopass ~* &* +@all\nuser new on >pw +@read ~*\n",
    );
    out.push(c.cmd_str(&["ACL", "LOAD"]));
    out.push(c.cmd_str(&["ACL", "LIST"]));
    // Connections of the replaced users are closed.
    out.push(closed(&mut ro));
    out.push(c.cmd_str(&["ACL", "WHOAMI"]));
    std::fs::remove_file(&file).unwrap();
    out.push(c.cmd_str(&["ACL", "LOAD"]));
    // Error texts name the file: make them independent of the directory.
    let dir = dir.display().to_string();
    out.into_iter()
        .map(|r| match r {
            Reply::Error(e) => Reply::Error(e.replace(&dir, "DIR")),
            r => r,
        })
        .collect()
}

#[test]
fn acl_file_save_load_and_restart() {
    let (redis, rdir) = start_with_acl_file(true);
    let (subject, sdir) = start_with_acl_file(false);
    let want = acl_file_scenario(&redis, &rdir);
    let got = acl_file_scenario(&subject, &sdir);
    assert_same(&got, &want);

    // A restart loads the saved users.
    let (s, dir) = start_with_acl_file(false);
    let mut c = s.raw();
    c.cmd_str(&["ACL", "SETUSER", "kept", "on", ">pw", "~k*", "+@read"]);
    assert_eq!(c.cmd_str(&["ACL", "SAVE"]), Reply::ok());
    let before = c.cmd_str(&["ACL", "LIST"]);
    drop(c);
    drop(s);
    let conf = dir.join("acl.conf").display().to_string();
    let s = Server::ferrodis(&[&conf]);
    assert_eq!(s.raw().cmd_str(&["ACL", "LIST"]), before);
    assert_eq!(login(&s, "kept").cmd_str(&["GET", "k1"]), Reply::nil());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&rdir);
    let _ = std::fs::remove_dir_all(&sdir);
}

#[test]
fn user_lines_in_the_config_file() {
    let conf_for = || {
        let dir = common::unique_temp_dir("userconf");
        let conf = dir.join("users.conf");
        write(
            &conf,
            "user default on nopass ~* &* +@all\nuser app on >pw ~app:* (+get ~x*) +@read\nuser \"quoted\" on nopass allkeys +@string\n",
        );
        conf.display().to_string()
    };
    differential(&[&conf_for()], |s| {
        let mut c = s.raw();
        vec![
            c.cmd_str(&["ACL", "LIST"]),
            login(s, "app").cmd_str(&["GET", "app:1"]),
            login(s, "app").cmd_str(&["GET", "other"]),
        ]
    });
}

#[test]
fn config_rewrite_writes_users_and_slowlog_redacts_rules() {
    let conf_for = || {
        let dir = common::unique_temp_dir("rewrite");
        let conf = dir.join("redis.conf");
        write(
            &conf,
            "user default on nopass ~* &* +@all\nuser old on nopass +@read\n",
        );
        conf.display().to_string()
    };
    // Each server rewrites its own copy of the file.
    let scenario = |s: &Server| {
        let mut c = s.raw();
        let mut out = vec![
            c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
            c.cmd_str(&["ACL", "SETUSER", "new", "on", ">secret", "~n*", "+@write"]),
        ];
        // Only the recorded arguments: ids, times and addresses differ by nature.
        let log = c.cmd_str(&["SLOWLOG", "GET", "1"]);
        out.push(log.items().unwrap()[0].items().unwrap()[3].clone());
        out.push(c.cmd_str(&["ACL", "DELUSER", "old"]));
        out.push(c.cmd_str(&["CONFIG", "REWRITE"]));
        out
    };
    let want = scenario(&Server::redis(&[&conf_for()]));
    let got = scenario(&Server::subject(&[&conf_for()]));
    assert_same(&got, &want);
    // The rewritten file holds the users; a restart from it has them.
    let conf = conf_for();
    let s = Server::ferrodis(&[&conf]);
    let mut c = s.raw();
    c.cmd_str(&["ACL", "SETUSER", "new", "on", ">secret", "~n*", "+@write"]);
    c.cmd_str(&["ACL", "DELUSER", "old"]);
    assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), Reply::ok());
    let before = c.cmd_str(&["ACL", "LIST"]);
    let text = std::fs::read_to_string(&conf).unwrap();
    let users: Vec<Reply> = text
        .lines()
        .filter(|l| l.starts_with("user "))
        .map(Reply::bulk)
        .collect();
    assert_eq!(Reply::array(users), before);
    drop(c);
    drop(s);
    let s = Server::ferrodis(&[&conf]);
    assert_eq!(s.raw().cmd_str(&["ACL", "LIST"]), before);
}

/// Exit status and output of a server started on `conf` that is expected to refuse it.
fn refused_start(bin: &str, conf: &std::path::Path) -> (bool, String) {
    let mut child = std::process::Command::new(bin)
        .arg(conf)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the server");
    let started = std::time::Instant::now();
    while child.try_wait().expect("poll").is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn startup_refuses_bad_user_definitions() {
    let dir = common::unique_temp_dir("badusers");
    let acl = dir.join("users.acl");
    write(&acl, "");
    let port = common::free_port();
    let cases = [
        (
            format!("user a on nopass\naclfile {}\n", acl.display()),
            "please define either an ACL file or declare users directly in your redis.conf, but not both",
        ),
        (
            "user a on +nosuch\n".to_string(),
            "Error loading ACL rule '+nosuch' for the user named 'a': Unknown command or category name in ACL",
        ),
        ("user a on bogus\n".to_string(), "Syntax error"),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let conf = dir.join(format!("bad{i}.conf"));
        write(&conf, &format!("port {port}\nbind 127.0.0.1\n{text}"));
        let (redis_ok, _) = refused_start("redis-server", &conf);
        let (ours_ok, output) = refused_start(env!("CARGO_BIN_EXE_ferrodis"), &conf);
        assert!(!redis_ok && !ours_ok, "{text}: both must refuse to start");
        assert!(output.contains(message), "{text}: {output}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The full names of every command (and subcommand) a server knows: every command is @fast
/// or @slow.
fn all_names(c: &mut Raw) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for cat in ["fast", "slow"] {
        for n in c.cmd_str(&["ACL", "CAT", cat]).items().unwrap() {
            names.insert(String::from_utf8_lossy(n.bytes().unwrap()).into_owned());
        }
    }
    names
}

#[test]
fn acl_cat_agrees_with_redis_for_every_shared_command() {
    let redis = Server::redis(&[]);
    let subject = Server::subject(&[]);
    let (mut r, mut f) = (redis.raw(), subject.raw());
    assert_eq!(f.cmd_str(&["ACL", "CAT"]), r.cmd_str(&["ACL", "CAT"]));
    let shared: std::collections::BTreeSet<String> = all_names(&mut r)
        .intersection(&all_names(&mut f))
        .cloned()
        .collect();
    assert!(shared.len() > 300, "only {} shared commands", shared.len());
    let categories = r.cmd_str(&["ACL", "CAT"]);
    let mut report = String::new();
    for cat in categories.items().unwrap() {
        let cat = String::from_utf8_lossy(cat.bytes().unwrap()).into_owned();
        let members = |c: &mut Raw| -> Vec<String> {
            let mut v: Vec<String> = c
                .cmd_str(&["ACL", "CAT", &cat])
                .items()
                .unwrap()
                .iter()
                .map(|n| String::from_utf8_lossy(n.bytes().unwrap()).into_owned())
                .filter(|n| shared.contains(n))
                .collect();
            v.sort();
            v
        };
        let (theirs, ours) = (members(&mut r), members(&mut f));
        let missing: Vec<&String> = theirs.iter().filter(|n| !ours.contains(n)).collect();
        let extra: Vec<&String> = ours.iter().filter(|n| !theirs.contains(n)).collect();
        if !missing.is_empty() || !extra.is_empty() {
            report.push_str(&format!("@{cat}: missing {missing:?}, extra {extra:?}\n"));
        }
    }
    // COMMAND INFO's categories come from the same table entries.
    for name in &shared {
        let categories = |c: &mut Raw| match c.cmd_str(&["COMMAND", "INFO", name]) {
            Reply::Array(Some(v)) => v[0].items().map(|info| info[6].sorted()),
            other => panic!("COMMAND INFO {name}: {other:?}"),
        };
        let (theirs, ours) = (categories(&mut r), categories(&mut f));
        if theirs != ours {
            report.push_str(&format!("COMMAND INFO {name}: {theirs:?} vs {ours:?}\n"));
        }
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn redis_cli_logs_in_with_user_and_password() {
    let s = Server::ferrodis(&[]);
    s.raw()
        .cmd_str(&["ACL", "SETUSER", "cli", "on", ">clipass", "~*", "+@all"]);
    let out = s.cli(&[
        "--user",
        "cli",
        "--pass",
        "clipass",
        "--no-auth-warning",
        "ACL",
        "WHOAMI",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "cli");
    let out = s.cli(&[
        "--user",
        "cli",
        "--pass",
        "wrong",
        "--no-auth-warning",
        "PING",
    ]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("WRONGPASS"), "{text}");
    // The redis crate's URL form sends AUTH user pass.
    let client = redis::Client::open(format!("redis://cli:clipass@127.0.0.1:{}/", s.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let who: String = redis::cmd("ACL").arg("WHOAMI").query(&mut con).unwrap();
    assert_eq!(who, "cli");
}

#[test]
fn redis_py_logs_in_with_user_and_password() {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let python = target.join("client-venv/bin/python");
    assert!(
        python.exists(),
        "{python:?} is missing: run `bash scripts/test.sh`"
    );
    let s = Server::ferrodis(&[]);
    s.raw()
        .cmd_str(&["ACL", "SETUSER", "py", "on", ">pypass", "~py:*", "+@all"]);
    let script = r#"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), username="py", password="pypass")
assert r.acl_whoami() == "py"
r.set("py:k", "v")
assert r.get("py:k") == b"v"
try:
    r.set("other", "v")
    raise SystemExit("write outside ~py:* allowed")
except redis.exceptions.NoPermissionError:
    pass
try:
    redis.Redis(port=int(sys.argv[1]), username="py", password="bad").ping()
    raise SystemExit("bad password accepted")
except redis.exceptions.AuthenticationError:
    pass
print("OK")
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(s.port.to_string())
        .output()
        .expect("run python");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "OK",
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
