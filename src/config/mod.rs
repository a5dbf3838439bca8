//! Configuration like redis-server: redis.conf syntax, `--directive value` arguments, CONFIG
//! GET/SET/REWRITE. Every value is kept as its canonical text per parameter (what CONFIG GET
//! prints) and mirrored into typed fields that the server reads.

pub mod params;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use params::{HIDDEN, IMMUTABLE, IMPLEMENTED, Kind, PARAMS, PROTECTED, Param};

use crate::storage::EncodingLimits;
use crate::util::repr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    Noeviction,
}

impl MaxmemoryPolicy {
    const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::Noeviction,
    ];

    pub fn name(self) -> &'static str {
        params::POLICIES[self as usize]
    }

    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLfu | MaxmemoryPolicy::AllkeysLfu
        )
    }

    pub fn is_lru(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru | MaxmemoryPolicy::AllkeysLru
        )
    }

    /// Only keys with a TTL may be evicted.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }

    pub fn is_random(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileRandom | MaxmemoryPolicy::AllkeysRandom
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    Always,
    Everysec,
    No,
}

/// The append-only file's settings besides appendonly and appendfsync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AofConfig {
    pub dirname: String,
    pub filename: String,
    pub load_truncated: bool,
    /// aof-timestamp-enabled: `#TS:` annotations in the incremental file.
    pub timestamps: bool,
    pub use_rdb_preamble: bool,
    pub no_fsync_on_rewrite: bool,
    pub rewrite_percentage: u64,
    pub rewrite_min_size: u64,
}

/// enable-debug-command / enable-protected-configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enablement {
    No,
    Yes,
    Local,
}

/// A fatal configuration error, printed as redis-server prints it.
#[derive(Debug)]
pub struct ConfigError {
    pub line_no: usize,
    pub line: String,
    pub reason: String,
    pub file: Option<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (ferrodis {}) ***",
            crate::VERSION
        )?;
        match &self.file {
            Some(file) => writeln!(
                f,
                "Reading the configuration file {file}, at line {}",
                self.line_no
            )?,
            None => writeln!(
                f,
                "Reading the configuration file, at line {}",
                self.line_no
            )?,
        }
        writeln!(f, ">>> '{}'", self.line)?;
        writeln!(f, "{}", self.reason)
    }
}

#[derive(Debug)]
pub struct Config {
    /// Canonical text of every parameter, by canonical name.
    values: BTreeMap<&'static str, String>,
    file: Option<PathBuf>,
    unimplemented: Vec<(String, String)>,
    /// Whether a `save` line was read yet (the first one replaces the default save points).
    save_loaded: bool,
    pub rename_commands: Vec<(String, String)>,
    /// The arguments of each `user` line (name, rules...).
    pub users: Vec<Vec<String>>,

    pub port: u16,
    pub tls_port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: Option<Vec<u8>>,
    pub maxclients: u32,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub databases: u32,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub daemonize: bool,
    pub pidfile: String,
    pub dir: PathBuf,
    pub hz: u32,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub save: Vec<(u64, u64)>,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
    pub aof: AofConfig,
    pub dbfilename: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// rdb-key-save-delay (a testing knob, as in Redis): microseconds a background save waits
    /// per key it writes.
    pub rdb_key_save_delay: i64,
    pub stop_writes_on_bgsave_error: bool,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: i64,
    /// maxmemory-clients in bytes (a percentage is of maxmemory); 0: no client eviction.
    pub maxmemory_clients: u64,
    pub maxmemory_eviction_tenacity: i64,
    pub lfu_log_factor: i64,
    pub lfu_decay_time: i64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub enable_debug_command: Enablement,
    pub enable_protected_configs: Enablement,
    /// notify-keyspace-events, canonical letters.
    pub notify_keyspace_events: String,
    pub encoding: EncodingLimits,
    pub latency_monitor_threshold: u64,
    pub busy_reply_threshold: u64,
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
}

/// Parses a memory value like Redis's memtoll: digits with an optional unit.
pub fn parse_memory(s: &str) -> Option<i64> {
    let lower = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1i64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(u, m)| lower.strip_suffix(u).map(|n| (n.to_string(), *m)))
    .unwrap_or((lower.clone(), 1));
    let n = crate::util::num::parse_i64(num.as_bytes())?;
    n.checked_mul(mul)
}

fn enum_error(values: &[&str]) -> String {
    format!(
        "argument(s) must be one of the following: {}",
        values.join(", ")
    )
}

/// The canonical text of a value for `param`, or Redis's reason why it is invalid.
fn normalize(param: &Param, args: &[String]) -> Result<String, String> {
    let one = || -> Result<&str, String> {
        if args.len() == 1 {
            Ok(args[0].as_str())
        } else {
            Err("wrong number of arguments".into())
        }
    };
    match param.kind {
        Kind::Bool => match one()?.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int(min, max) => {
            let v = crate::util::num::parse_i64(one()?.as_bytes())
                .ok_or("argument couldn't be parsed into an integer")?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Mem(min, max) => {
            let v = parse_memory(one()?).ok_or("argument must be a memory value")?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::MemOrPercent => {
            let s = one()?;
            if let Some(pct) = s.strip_suffix('%') {
                let v = crate::util::num::parse_i64(pct.as_bytes())
                    .filter(|v| *v >= 0)
                    .ok_or("argument must be a memory or percent value")?;
                return Ok(format!("{v}%"));
            }
            let v = parse_memory(s)
                .filter(|v| *v >= 0)
                .ok_or("argument must be a memory or percent value")?;
            Ok(v.to_string())
        }
        Kind::Enum(values) => {
            let s = one()?.to_ascii_lowercase();
            values
                .iter()
                .find(|v| **v == s)
                .map(|v| v.to_string())
                .ok_or_else(|| enum_error(values))
        }
        Kind::Str => Ok(one()?.to_string()),
        Kind::Save => {
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if words.is_empty() {
                return Ok(String::new());
            }
            if !words.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            for w in &words {
                if crate::util::num::parse_i64(w.as_bytes()).is_none_or(|v| v < 0) {
                    return Err("Invalid save parameters".into());
                }
            }
            Ok(words.join(" "))
        }
        Kind::Bind => {
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if words.is_empty() || words.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(words.join(" "))
        }
        Kind::OutputBufferLimit => {
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if words.is_empty() || !words.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut out = Vec::new();
            for c in words.chunks(4) {
                let class = match c[0].to_ascii_lowercase().as_str() {
                    "normal" => "normal",
                    "replica" | "slave" => "slave",
                    "pubsub" => "pubsub",
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        );
                    }
                };
                let hard = parse_memory(c[1]).filter(|v| *v >= 0);
                let soft = parse_memory(c[2]).filter(|v| *v >= 0);
                let secs = crate::util::num::parse_i64(c[3].as_bytes()).filter(|v| *v >= 0);
                let (Some(h), Some(s), Some(t)) = (hard, soft, secs) else {
                    return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
                };
                out.push(format!("{class} {h} {s} {t}"));
            }
            Ok(out.join(" "))
        }
        Kind::NotifyFlags => {
            let s = one()?;
            if s.bytes().any(|c| !b"AKEg$lshzxetdmn".contains(&c)) {
                return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into());
            }
            Ok(notify_canonical(s))
        }
        Kind::IntList(n) => {
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if words.len() != n
                || words
                    .iter()
                    .any(|w| crate::util::num::parse_i64(w.as_bytes()).is_none())
            {
                return Err("Invalid oom-score-adj-values".into());
            }
            Ok(words.join(" "))
        }
        Kind::Percentiles => {
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            for w in &words {
                match w.parse::<f64>() {
                    Ok(v) if v.is_nan() => {}
                    Ok(v) if (0.0..=100.0).contains(&v) => continue,
                    Ok(_) => {
                        return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                    }
                    Err(_) => {}
                }
                return Err("Invalid latency-tracking-info-percentiles parameters".into());
            }
            Ok(words.join(" "))
        }
        Kind::ReplicaOf => {
            if args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                return Ok(String::new());
            }
            Ok(format!("{} {}", args[0], args[1]))
        }
    }
}

/// notify-keyspace-events in Redis's canonical order ("A" standing for all the type classes).
fn notify_canonical(s: &str) -> String {
    let has = |c: char| s.contains(c);
    let all = has('A');
    let mut out = String::new();
    if all || "g$lshzxetd".chars().all(has) {
        out.push('A');
    } else {
        for c in "g$lshzxetd".chars() {
            if has(c) {
                out.push(c);
            }
        }
    }
    for c in "KEmn".chars() {
        if has(c) {
            out.push(c);
        }
    }
    out
}

/// Splits a config line like sdssplitargs; None on unbalanced quotes.
fn split_line(line: &str) -> Option<Vec<String>> {
    let mut data = Vec::new();
    let mut bounds = Vec::new();
    if !crate::protocol::parse::split_args(line.as_bytes(), &mut data, &mut bounds) {
        return None;
    }
    Some(
        bounds
            .into_iter()
            .map(|r| String::from_utf8_lossy(&data[r]).into_owned())
            .collect(),
    )
}

impl Config {
    fn defaults() -> Config {
        let mut c = Config {
            values: PARAMS
                .iter()
                .map(|p| (p.name, p.default.to_string()))
                .collect(),
            file: None,
            unimplemented: Vec::new(),
            save_loaded: false,
            rename_commands: Vec::new(),
            users: Vec::new(),
            port: 6350,
            tls_port: 0,
            bind: Vec::new(),
            protected_mode: true,
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            databases: 16,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            daemonize: false,
            pidfile: String::new(),
            dir: PathBuf::from("."),
            hz: 10,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            save: Vec::new(),
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            aof: AofConfig::default(),
            dbfilename: "dump.rdb".into(),
            rdbcompression: true,
            rdbchecksum: true,
            rdb_key_save_delay: 0,
            stop_writes_on_bgsave_error: true,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::Noeviction,
            maxmemory_samples: 5,
            maxmemory_clients: 0,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            enable_debug_command: Enablement::No,
            enable_protected_configs: Enablement::No,
            notify_keyspace_events: String::new(),
            encoding: EncodingLimits::default(),
            latency_monitor_threshold: 0,
            busy_reply_threshold: 5000,
            latency_tracking: true,
            latency_tracking_info_percentiles: Vec::new(),
        };
        c.refresh();
        c
    }

    /// redis-server's command line: `[config-file] [--name value ...]`.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut config = Config::defaults();
        let mut rest = args;
        let mut text = String::new();
        if let Some(first) = args.first()
            && !first.starts_with("--")
        {
            let path = PathBuf::from(first);
            text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                line_no: 0,
                line: first.clone(),
                reason: format!("Fatal error, can't open config file '{first}': {e}"),
                file: None,
            })?;
            config.file = Some(std::fs::canonicalize(&path).unwrap_or(path));
            rest = &args[1..];
        }
        let mut options = String::new();
        for a in rest {
            if let Some(name) = a.strip_prefix("--") {
                if !options.is_empty() {
                    options.push('\n');
                }
                options.push_str(name);
                options.push(' ');
            } else {
                options.push_str(&repr(a.as_bytes()));
                options.push(' ');
            }
        }
        text.push('\n');
        text.push_str(&options);
        config.load_text(&text, None)?;
        Ok(config)
    }

    pub fn from_str_for_tests(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::defaults();
        config.load_text(text, None)?;
        Ok(config)
    }

    fn load_text(&mut self, text: &str, file: Option<&str>) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| ConfigError {
                line_no: i + 1,
                line: line.to_string(),
                reason,
                file: file.map(str::to_string),
            };
            let Some(words) = split_line(line) else {
                return Err(err("Unbalanced quotes in configuration line".into()));
            };
            if words.is_empty() {
                continue;
            }
            let name = words[0].to_ascii_lowercase();
            let args = &words[1..];
            let at = format!("{}:{}", file.unwrap_or("config"), i + 1);
            match name.as_str() {
                "include" if args.len() == 1 => {
                    let inc = std::fs::read_to_string(&args[0]).map_err(|e| {
                        err(format!(
                            "Fatal error, can't open config file '{}': {e}",
                            args[0]
                        ))
                    })?;
                    self.load_text(&inc, Some(&args[0]))?;
                }
                "rename-command" if args.len() == 2 => {
                    self.rename_commands
                        .push((args[0].clone(), args[1].clone()));
                }
                "user" if !args.is_empty() => self.users.push(args.to_vec()),
                "loadmodule" => return Err(err("ferrodis does not load Redis modules".into())),
                "sentinel" => {
                    return Err(err(
                        "sentinel directives are not supported by ferrodis".into()
                    ));
                }
                _ => {
                    let param = params::find(&name)
                        .ok_or_else(|| err("Bad directive or wrong number of arguments".into()))?;
                    let mut value = normalize(param, args).map_err(err)?;
                    if param.kind == Kind::OutputBufferLimit {
                        // Each line sets its own class and keeps the others.
                        value = merge_output_limits(&self.values[param.name], &value);
                    }
                    if param.kind == Kind::Save {
                        // The first save line replaces the default points; later ones add to them.
                        if self.save_loaded && !value.is_empty() {
                            let prev = &self.values[param.name];
                            if !prev.is_empty() {
                                value = format!("{prev} {value}");
                            }
                        }
                        self.save_loaded = true;
                    }
                    if param.flags & IMPLEMENTED == 0 && value != param.default {
                        self.unimplemented.push((param.name.to_string(), at));
                    }
                    self.values.insert(param.name, value);
                }
            }
        }
        self.refresh();
        Ok(())
    }

    /// A parameter's current value as CONFIG GET shows it ("" for an unknown name).
    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// Re-derives the typed fields from the canonical values.
    fn refresh(&mut self) {
        let v = |n: &str| self.values[n].as_str();
        let int = |n: &str| v(n).parse::<i64>().unwrap_or(0);
        let yes = |n: &str| v(n) == "yes";
        let enablement = |n: &str| match v(n) {
            "yes" => Enablement::Yes,
            "local" => Enablement::Local,
            _ => Enablement::No,
        };
        self.port = int("port") as u16;
        self.tls_port = int("tls-port") as u16;
        self.bind = v("bind").split_whitespace().map(str::to_string).collect();
        self.protected_mode = yes("protected-mode");
        self.requirepass = Some(v("requirepass").as_bytes().to_vec()).filter(|p| !p.is_empty());
        self.maxclients = int("maxclients") as u32;
        self.timeout = int("timeout") as u64;
        self.tcp_keepalive = int("tcp-keepalive") as u64;
        self.databases = int("databases") as u32;
        self.loglevel = match v("loglevel") {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "warning" => LogLevel::Warning,
            "nothing" => LogLevel::Nothing,
            _ => LogLevel::Notice,
        };
        self.logfile = v("logfile").to_string();
        self.daemonize = yes("daemonize");
        self.pidfile = v("pidfile").to_string();
        self.dir = PathBuf::from(v("dir"));
        self.hz = int("hz") as u32;
        self.proto_max_bulk_len = int("proto-max-bulk-len") as u64;
        self.client_query_buffer_limit = int("client-query-buffer-limit") as u64;
        let nums: Vec<u64> = v("save")
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        self.save = nums.chunks(2).map(|c| (c[0], c[1])).collect();
        self.appendonly = yes("appendonly");
        self.appendfsync = match v("appendfsync") {
            "always" => AppendFsync::Always,
            "no" => AppendFsync::No,
            _ => AppendFsync::Everysec,
        };
        self.aof = AofConfig {
            dirname: v("appenddirname").to_string(),
            filename: v("appendfilename").to_string(),
            load_truncated: yes("aof-load-truncated"),
            timestamps: yes("aof-timestamp-enabled"),
            use_rdb_preamble: yes("aof-use-rdb-preamble"),
            no_fsync_on_rewrite: yes("no-appendfsync-on-rewrite"),
            rewrite_percentage: int("auto-aof-rewrite-percentage") as u64,
            rewrite_min_size: int("auto-aof-rewrite-min-size") as u64,
        };
        self.dbfilename = v("dbfilename").to_string();
        self.rdbcompression = yes("rdbcompression");
        self.rdbchecksum = yes("rdbchecksum");
        self.rdb_key_save_delay = int("rdb-key-save-delay");
        self.stop_writes_on_bgsave_error = yes("stop-writes-on-bgsave-error");
        self.maxmemory = int("maxmemory") as u64;
        let policy = v("maxmemory-policy");
        self.maxmemory_policy = MaxmemoryPolicy::ALL
            .into_iter()
            .find(|p| p.name() == policy)
            .unwrap_or(MaxmemoryPolicy::Noeviction);
        self.maxmemory_samples = int("maxmemory-samples");
        self.maxmemory_clients = match v("maxmemory-clients").strip_suffix('%') {
            Some(pct) => self.maxmemory * pct.parse::<u64>().unwrap_or(0) / 100,
            None => int("maxmemory-clients") as u64,
        };
        self.maxmemory_eviction_tenacity = int("maxmemory-eviction-tenacity");
        self.lfu_log_factor = int("lfu-log-factor");
        self.lfu_decay_time = int("lfu-decay-time");
        self.slowlog_log_slower_than = int("slowlog-log-slower-than");
        self.slowlog_max_len = int("slowlog-max-len") as u64;
        self.enable_debug_command = enablement("enable-debug-command");
        self.enable_protected_configs = enablement("enable-protected-configs");
        self.notify_keyspace_events = v("notify-keyspace-events").to_string();
        self.latency_monitor_threshold = int("latency-monitor-threshold") as u64;
        self.busy_reply_threshold = int("busy-reply-threshold") as u64;
        self.latency_tracking = yes("latency-tracking");
        self.latency_tracking_info_percentiles = v("latency-tracking-info-percentiles")
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        self.encoding = EncodingLimits {
            list_max_listpack_size: int("list-max-listpack-size"),
            hash_max_listpack_entries: int("hash-max-listpack-entries") as usize,
            hash_max_listpack_value: int("hash-max-listpack-value") as usize,
            set_max_intset_entries: int("set-max-intset-entries") as usize,
            zset_max_listpack_entries: int("zset-max-listpack-entries") as usize,
            zset_max_listpack_value: int("zset-max-listpack-value") as usize,
            hll_sparse_max_bytes: int("hll-sparse-max-bytes") as usize,
            stream_node_max_bytes: int("stream-node-max-bytes") as u64,
            stream_node_max_entries: int("stream-node-max-entries") as u64,
        };
    }

    /// What CONFIG GET prints for a parameter.
    fn shown(&self, param: &Param) -> String {
        if param.name == "dir" {
            // Redis answers with the working directory it chdir'ed into.
            return std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| self.values["dir"].clone());
        }
        self.values[param.name].clone()
    }

    /// CONFIG GET: values for one or more glob patterns (case-insensitive). A pattern without
    /// glob characters is looked up directly and answered under the name as given.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for pat in patterns {
            let text = String::from_utf8_lossy(pat);
            if !pat.iter().any(|c| b"*?[\\".contains(c)) {
                if let Some(p) = params::find(&text)
                    && seen.insert(text.to_ascii_lowercase())
                {
                    out.push((text.into_owned(), self.shown(p)));
                }
                continue;
            }
            // Hidden parameters (testing knobs) answer only to their exact name, as in Redis.
            for p in PARAMS.iter().filter(|p| p.flags & HIDDEN == 0) {
                for name in [p.name, p.alias] {
                    if !name.is_empty()
                        && crate::util::glob::glob_match(pat, name.as_bytes(), true)
                        && seen.insert(name.to_string())
                    {
                        out.push((name.to_string(), self.shown(p)));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET with one or more pairs, all or nothing. Returns the canonical names changed.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        let mut staged: Vec<(&'static Param, String)> = Vec::new();
        for (name, value) in pairs {
            let name = String::from_utf8_lossy(name);
            let Some(param) = params::find(&name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
            };
            let fail = |why: &str| {
                format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
            };
            if staged.iter().any(|(p, _)| std::ptr::eq(*p, param)) {
                return Err(fail("duplicate parameter"));
            }
            if param.flags & IMMUTABLE != 0 {
                return Err(fail("can't set immutable config"));
            }
            if param.flags & PROTECTED != 0 && self.enable_protected_configs == Enablement::No {
                return Err(fail("can't set protected config"));
            }
            let value = String::from_utf8_lossy(value).into_owned();
            let args = match param.kind {
                Kind::Save
                | Kind::Bind
                | Kind::OutputBufferLimit
                | Kind::IntList(_)
                | Kind::Percentiles => value
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
                _ => vec![value],
            };
            let mut canonical = normalize(param, &args).map_err(|e| fail(&e))?;
            if param.kind == Kind::OutputBufferLimit {
                // Setting one class keeps the others.
                canonical = merge_output_limits(&self.values[param.name], &canonical);
            }
            if param.name == "dir" {
                std::fs::metadata(&canonical)
                    .ok()
                    .filter(|m| m.is_dir())
                    .ok_or_else(|| fail("No such file or directory"))?;
            }
            staged.push((param, canonical));
        }
        let changed = staged.iter().map(|(p, _)| p.name).collect();
        for (p, v) in staged {
            self.values.insert(p.name, v);
        }
        self.refresh();
        Ok(changed)
    }

    /// CONFIG REWRITE: updates the file's lines in place, appends non-default values that the
    /// file does not set, keeps comments and everything else. `users` replaces the file's
    /// `user` lines (ACL users, unless they live in an ACL file).
    pub fn rewrite(&self, users: &[String]) -> Result<(), String> {
        let Some(path) = &self.file else {
            return Err("ERR The server is running without a config file".into());
        };
        let original = std::fs::read_to_string(path).unwrap_or_default();
        let mut written = std::collections::HashSet::new();
        let mut out: Vec<String> = Vec::new();
        for line in original.lines() {
            let words = split_line(line.trim()).unwrap_or_default();
            let param = words
                .first()
                .filter(|w| !w.starts_with('#'))
                .and_then(|w| params::find(w));
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("user"))
            {
                if written.insert("user") {
                    out.extend(users.iter().cloned());
                }
                continue;
            }
            match param {
                Some(p) if written.contains(p.name) => {}
                Some(p) => {
                    written.insert(p.name);
                    out.extend(self.rewrite_lines(p));
                }
                None => out.push(line.to_string()),
            }
        }
        let mut appended = false;
        for p in PARAMS {
            if written.contains(p.name) || self.values[p.name] == p.default {
                continue;
            }
            if !appended {
                out.push("# Generated by CONFIG REWRITE".into());
                appended = true;
            }
            out.extend(self.rewrite_lines(p));
        }
        if !written.contains("user") && !users.is_empty() {
            if !appended {
                out.push("# Generated by CONFIG REWRITE".into());
            }
            out.extend(users.iter().cloned());
        }
        let mut text = out.join("\n");
        text.push('\n');
        let tmp = path.with_extension("rewrite.tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("ERR Rewriting config file: {e}"))
    }

    fn rewrite_lines(&self, p: &Param) -> Vec<String> {
        let v = &self.values[p.name];
        match p.kind {
            Kind::Save if v.is_empty() => vec!["save \"\"".into()],
            Kind::Save => v
                .split_whitespace()
                .collect::<Vec<_>>()
                .chunks(2)
                .map(|c| format!("save {} {}", c[0], c[1]))
                .collect(),
            Kind::OutputBufferLimit => v
                .split_whitespace()
                .collect::<Vec<_>>()
                .chunks(4)
                .map(|c| format!("{} {}", p.name, c.join(" ")))
                .collect(),
            Kind::Bind | Kind::IntList(_) | Kind::Percentiles | Kind::ReplicaOf => {
                vec![format!("{} {}", p.name, v)]
            }
            _ => vec![format!("{} {}", p.name, repr(v.as_bytes()))],
        }
    }

    /// (hard, soft, soft seconds) of one client-output-buffer-limit class
    /// ("normal", "slave" or "pubsub").
    pub fn output_buffer_limit(&self, class: &str) -> [u64; 3] {
        let words: Vec<&str> = self.values["client-output-buffer-limit"]
            .split_whitespace()
            .collect();
        words
            .chunks(4)
            .find(|c| c[0] == class)
            .map(|c| [1, 2, 3].map(|i| c[i].parse().unwrap_or(0)))
            .unwrap_or([0; 3])
    }

    pub fn config_file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Directives set to a non-default value that ferrodis does not act on yet, with where.
    pub fn unimplemented_directives(&self) -> &[(String, String)] {
        &self.unimplemented
    }
}

fn merge_output_limits(current: &str, update: &str) -> String {
    let mut classes: Vec<Vec<String>> = current
        .split_whitespace()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    for c in update.split_whitespace().collect::<Vec<_>>().chunks(4) {
        match classes.iter_mut().find(|x| x[0] == c[0]) {
            Some(x) => *x = c.iter().map(|s| s.to_string()).collect(),
            None => classes.push(c.iter().map(|s| s.to_string()).collect()),
        }
    }
    classes
        .iter()
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
