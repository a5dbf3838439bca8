//! The parameter table: every directive Redis 7.0 knows, with its type, default and flags. Parsing
//! (file and argv), CONFIG GET/SET and REWRITE are all driven by this one table.

/// How a parameter's value is read and printed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Bool,
    Int(i64, i64),
    /// A byte count with optional unit (1k, 1kb, 1m, 1mb, 1g, 1gb).
    Mem(i64, i64),
    /// A byte count or a percentage of maxmemory ("10%"), as maxmemory-clients takes.
    MemOrPercent,
    Enum(&'static [&'static str]),
    Str,
    /// Pairs of (seconds, changes); "" clears.
    Save,
    /// 1 to 16 addresses.
    Bind,
    /// class hard soft seconds, for the normal, replica and pubsub classes.
    OutputBufferLimit,
    /// notify-keyspace-events flag letters.
    NotifyFlags,
    /// A fixed number of integers (oom-score-adj-values).
    IntList(usize),
    /// A list of percentiles (latency-tracking-info-percentiles).
    Percentiles,
    /// "host port" or "no one".
    ReplicaOf,
}

pub const IMMUTABLE: u8 = 1;
/// ferrodis acts on this parameter; others are accepted, kept and reported, with a warning.
pub const IMPLEMENTED: u8 = 2;
/// Settable at run time only with enable-protected-configs.
pub const PROTECTED: u8 = 4;
/// Left out of CONFIG GET patterns (Redis's HIDDEN_CONFIG testing knobs).
pub const HIDDEN: u8 = 8;

pub struct Param {
    pub name: &'static str,
    /// The old name Redis still accepts (hash-max-ziplist-entries, slaveof...).
    pub alias: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub flags: u8,
}

const fn p(name: &'static str, kind: Kind, default: &'static str, flags: u8) -> Param {
    Param {
        name,
        alias: "",
        kind,
        default,
        flags,
    }
}

const fn a(
    name: &'static str,
    alias: &'static str,
    kind: Kind,
    default: &'static str,
    flags: u8,
) -> Param {
    Param {
        name,
        alias,
        kind,
        default,
        flags,
    }
}

const MAX_INT: i64 = i32::MAX as i64;
const MAX_LONG: i64 = i64::MAX;
const YN: Kind = Kind::Bool;
const UINT: Kind = Kind::Int(0, MAX_INT);
const ULONG: Kind = Kind::Int(0, MAX_LONG);
const MEM: Kind = Kind::Mem(0, MAX_LONG);
const I: u8 = IMPLEMENTED;
const IM: u8 = IMMUTABLE;

pub const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];
pub const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning", "nothing"];
pub const FSYNC: &[&str] = &["always", "everysec", "no"];
const YES_NO_LOCAL: &[&str] = &["no", "yes", "local"];

pub static PARAMS: &[Param] = &[
    p(
        "acl-pubsub-default",
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
        I,
    ),
    p("aclfile", Kind::Str, "", IM | I),
    p("acllog-max-len", ULONG, "128", I),
    p("active-defrag-cycle-max", Kind::Int(1, 99), "25", 0),
    p("active-defrag-cycle-min", Kind::Int(1, 99), "1", 0),
    p("active-defrag-ignore-bytes", MEM, "104857600", 0),
    p("active-defrag-max-scan-fields", ULONG, "1000", 0),
    p("active-defrag-threshold-lower", Kind::Int(0, 1000), "10", 0),
    p(
        "active-defrag-threshold-upper",
        Kind::Int(0, 1000),
        "100",
        0,
    ),
    p("active-expire-effort", Kind::Int(1, 10), "1", 0),
    p("activedefrag", YN, "no", 0),
    p("activerehashing", YN, "yes", 0),
    p("always-show-logo", YN, "no", IM),
    p("aof-disable-auto-gc", YN, "no", 0),
    p("aof-load-truncated", YN, "yes", I),
    p("aof-rewrite-incremental-fsync", YN, "yes", 0),
    p("aof-timestamp-enabled", YN, "no", I),
    p("aof-use-rdb-preamble", YN, "yes", I),
    p("aof_rewrite_cpulist", Kind::Str, "", IM),
    p("appenddirname", Kind::Str, "appendonlydir", IM | I),
    p("appendfilename", Kind::Str, "appendonly.aof", IM | I),
    p("appendfsync", Kind::Enum(FSYNC), "everysec", I),
    p("appendonly", YN, "no", I),
    p("auto-aof-rewrite-min-size", MEM, "67108864", I),
    p("auto-aof-rewrite-percentage", UINT, "100", I),
    p("bgsave_cpulist", Kind::Str, "", IM),
    p("bind", Kind::Bind, "127.0.0.1 -::1", I),
    p("bind-source-addr", Kind::Str, "", 0),
    p("bio_cpulist", Kind::Str, "", IM),
    a("busy-reply-threshold", "lua-time-limit", ULONG, "5000", I),
    p(
        "client-output-buffer-limit",
        Kind::OutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        I,
    ),
    p(
        "client-query-buffer-limit",
        Kind::Mem(1024 * 1024, MAX_LONG),
        "1073741824",
        I,
    ),
    p("cluster-allow-pubsubshard-when-down", YN, "yes", 0),
    p("cluster-allow-reads-when-down", YN, "no", 0),
    p("cluster-allow-replica-migration", YN, "yes", 0),
    p("cluster-announce-bus-port", Kind::Int(0, 65535), "0", 0),
    p("cluster-announce-hostname", Kind::Str, "", 0),
    p("cluster-announce-ip", Kind::Str, "", 0),
    p("cluster-announce-port", Kind::Int(0, 65535), "0", 0),
    p("cluster-announce-tls-port", Kind::Int(0, 65535), "0", 0),
    p("cluster-config-file", Kind::Str, "nodes.conf", IM),
    p("cluster-enabled", YN, "no", IM),
    p("cluster-link-sendbuf-limit", ULONG, "0", 0),
    p("cluster-migration-barrier", UINT, "1", 0),
    p("cluster-node-timeout", ULONG, "15000", 0),
    p("cluster-port", Kind::Int(0, 65535), "0", IM),
    p(
        "cluster-preferred-endpoint-type",
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
        0,
    ),
    a(
        "cluster-replica-no-failover",
        "cluster-slave-no-failover",
        YN,
        "no",
        0,
    ),
    a(
        "cluster-replica-validity-factor",
        "cluster-slave-validity-factor",
        UINT,
        "10",
        0,
    ),
    p("cluster-require-full-coverage", YN, "yes", 0),
    p("crash-log-enabled", YN, "yes", 0),
    p("crash-memcheck-enabled", YN, "yes", 0),
    p("daemonize", YN, "no", IM | I),
    p("databases", Kind::Int(1, MAX_INT), "16", IM | I),
    p("dbfilename", Kind::Str, "dump.rdb", PROTECTED),
    p("dir", Kind::Str, ".", PROTECTED | I),
    p("disable-thp", YN, "yes", IM),
    p("dynamic-hz", YN, "yes", 0),
    p(
        "enable-debug-command",
        Kind::Enum(YES_NO_LOCAL),
        "no",
        IM | I,
    ),
    p("enable-module-command", Kind::Enum(YES_NO_LOCAL), "no", IM),
    p(
        "enable-protected-configs",
        Kind::Enum(YES_NO_LOCAL),
        "no",
        IM | I,
    ),
    a(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        ULONG,
        "512",
        I,
    ),
    a(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        MEM,
        "64",
        I,
    ),
    p("hll-sparse-max-bytes", MEM, "3000", I),
    p("hz", UINT, "10", I),
    p("ignore-warnings", Kind::Str, "", 0),
    p("io-threads", Kind::Int(1, 128), "1", IM),
    p("io-threads-do-reads", YN, "no", IM),
    p("jemalloc-bg-thread", YN, "yes", 0),
    p("latency-monitor-threshold", ULONG, "0", I),
    p("latency-tracking", YN, "yes", I),
    p(
        "latency-tracking-info-percentiles",
        Kind::Percentiles,
        "50 99 99.9",
        I,
    ),
    p("lazyfree-lazy-eviction", YN, "no", 0),
    p("lazyfree-lazy-expire", YN, "no", 0),
    p("lazyfree-lazy-server-del", YN, "no", 0),
    p("lazyfree-lazy-user-del", YN, "no", 0),
    p("lazyfree-lazy-user-flush", YN, "no", 0),
    p("lfu-decay-time", UINT, "1", I),
    p("lfu-log-factor", UINT, "10", I),
    p("list-compress-depth", UINT, "0", 0),
    a(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        Kind::Int(i32::MIN as i64, MAX_INT),
        "-2",
        I,
    ),
    p("logfile", Kind::Str, "", IM | I),
    p("loglevel", Kind::Enum(LOGLEVELS), "notice", I),
    p("masterauth", Kind::Str, "", 0),
    p("masteruser", Kind::Str, "", 0),
    p("maxclients", Kind::Int(1, u32::MAX as i64), "10000", I),
    p("maxmemory", MEM, "0", 0),
    p("maxmemory-clients", Kind::MemOrPercent, "0", 0),
    p("maxmemory-eviction-tenacity", Kind::Int(0, 100), "10", 0),
    p("maxmemory-policy", Kind::Enum(POLICIES), "noeviction", I),
    p("maxmemory-samples", Kind::Int(1, MAX_INT), "5", 0),
    a("min-replicas-max-lag", "min-slaves-max-lag", UINT, "10", 0),
    a("min-replicas-to-write", "min-slaves-to-write", UINT, "0", 0),
    p("no-appendfsync-on-rewrite", YN, "no", I),
    p("notify-keyspace-events", Kind::NotifyFlags, "", I),
    p(
        "oom-score-adj",
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
        0,
    ),
    p("oom-score-adj-values", Kind::IntList(3), "0 200 800", 0),
    p("pidfile", Kind::Str, "", IM | I),
    p("port", Kind::Int(0, 65535), "6350", I),
    p(
        "proc-title-template",
        Kind::Str,
        "{title} {listen-addr} {server-mode}",
        0,
    ),
    p(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
        0,
    ),
    p("protected-mode", YN, "yes", I),
    p(
        "proto-max-bulk-len",
        Kind::Mem(1024 * 1024, MAX_LONG),
        "536870912",
        I,
    ),
    p("rdb-del-sync-files", YN, "no", 0),
    p(
        "rdb-key-save-delay",
        Kind::Int(i32::MIN as i64, MAX_INT),
        "0",
        I | HIDDEN,
    ),
    p("rdb-save-incremental-fsync", YN, "yes", 0),
    p("rdbchecksum", YN, "yes", IM),
    p("rdbcompression", YN, "yes", 0),
    p("repl-backlog-size", Kind::Mem(1, MAX_LONG), "1048576", 0),
    p("repl-backlog-ttl", ULONG, "3600", 0),
    p("repl-disable-tcp-nodelay", YN, "no", 0),
    p(
        "repl-diskless-load",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
        0,
    ),
    p("repl-diskless-sync", YN, "yes", 0),
    p("repl-diskless-sync-delay", UINT, "5", 0),
    p("repl-diskless-sync-max-replicas", UINT, "0", 0),
    a(
        "repl-ping-replica-period",
        "repl-ping-slave-period",
        Kind::Int(1, MAX_INT),
        "10",
        0,
    ),
    p("repl-timeout", Kind::Int(1, MAX_INT), "60", 0),
    a("replica-announce-ip", "slave-announce-ip", Kind::Str, "", 0),
    a(
        "replica-announce-port",
        "slave-announce-port",
        Kind::Int(0, 65535),
        "0",
        0,
    ),
    p("replica-announced", YN, "yes", 0),
    p("replica-ignore-disk-write-errors", YN, "no", 0),
    a(
        "replica-ignore-maxmemory",
        "slave-ignore-maxmemory",
        YN,
        "yes",
        0,
    ),
    a("replica-lazy-flush", "slave-lazy-flush", YN, "no", 0),
    a("replica-priority", "slave-priority", UINT, "100", 0),
    a("replica-read-only", "slave-read-only", YN, "yes", 0),
    a(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        YN,
        "yes",
        0,
    ),
    a("replicaof", "slaveof", Kind::ReplicaOf, "", IM),
    p("requirepass", Kind::Str, "", I),
    p(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
        0,
    ),
    p("save", Kind::Save, "3600 1 300 100 60 10000", 0),
    p("server_cpulist", Kind::Str, "", IM),
    a("set-max-intset-entries", "", ULONG, "512", I),
    p("set-proc-title", YN, "yes", IM),
    p("shutdown-on-sigint", Kind::Str, "default", 0),
    p("shutdown-on-sigterm", Kind::Str, "default", 0),
    p("shutdown-timeout", UINT, "10", 0),
    p(
        "slowlog-log-slower-than",
        Kind::Int(-1, MAX_LONG),
        "10000",
        I,
    ),
    p("slowlog-max-len", ULONG, "128", I),
    p("socket-mark-id", UINT, "0", 0),
    p("stop-writes-on-bgsave-error", YN, "yes", 0),
    p("stream-node-max-bytes", MEM, "4096", 0),
    p("stream-node-max-entries", ULONG, "100", 0),
    p(
        "supervised",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
        IM,
    ),
    p("syslog-enabled", YN, "no", IM),
    p(
        "syslog-facility",
        Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
        IM,
    ),
    p("syslog-ident", Kind::Str, "redis", IM),
    p("tcp-backlog", UINT, "511", IM),
    p("tcp-keepalive", UINT, "300", I),
    p("timeout", UINT, "0", I),
    p(
        "tls-auth-clients",
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
        I,
    ),
    p("tls-ca-cert-dir", Kind::Str, "", 0),
    p("tls-ca-cert-file", Kind::Str, "", I),
    p("tls-cert-file", Kind::Str, "", I),
    p("tls-ciphers", Kind::Str, "", 0),
    p("tls-ciphersuites", Kind::Str, "", I),
    p("tls-client-cert-file", Kind::Str, "", 0),
    p("tls-client-key-file", Kind::Str, "", 0),
    p("tls-client-key-file-pass", Kind::Str, "", 0),
    p("tls-cluster", YN, "no", 0),
    p("tls-dh-params-file", Kind::Str, "", 0),
    p("tls-key-file", Kind::Str, "", I),
    p("tls-key-file-pass", Kind::Str, "", 0),
    p("tls-port", Kind::Int(0, 65535), "0", I),
    p("tls-prefer-server-ciphers", YN, "no", 0),
    p("tls-protocols", Kind::Str, "", I),
    p("tls-replication", YN, "no", 0),
    p("tls-session-cache-size", UINT, "20480", 0),
    p("tls-session-cache-timeout", UINT, "300", 0),
    p("tls-session-caching", YN, "yes", 0),
    p("tracking-table-max-keys", ULONG, "1000000", 0),
    p("unixsocket", Kind::Str, "", IM),
    p("unixsocketperm", Kind::Int(0, 0o777), "0", IM),
    a(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        ULONG,
        "128",
        I,
    ),
    a(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        MEM,
        "64",
        I,
    ),
];

/// Finds a parameter by name or alias, case-insensitively.
pub fn find(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name)
            || (!p.alias.is_empty() && p.alias.eq_ignore_ascii_case(name))
    })
}
