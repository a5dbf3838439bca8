//! The server: shared state, listeners, the periodic cron (active expiry, stats sampling,
//! LRU clock) and shutdown.

pub mod blocking;
pub mod client;
pub mod connection;
pub mod info;
pub mod latency;
pub mod notify;
pub mod pubsub;
pub mod tls;
pub mod tracking;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};

use crate::commands::table::CommandTable;
use crate::config::Config;
use crate::storage::access::AccessClock;
use crate::storage::{EncodingLimits, Keyspace};
use client::ClientInfo;

/// The users at start-up: the default user (with requirepass), then either the config file's
/// `user` lines or the ACL file; both at once is refused, as in Redis.
fn load_users(commands: &CommandTable, config: &Config) -> Result<crate::acl::Acl, String> {
    let all_channels = config.value("acl-pubsub-default") == "allchannels";
    let acl = crate::acl::Acl::new(commands, config.requirepass.as_deref(), all_channels);
    let env = acl.env(commands);
    let aclfile = config.value("aclfile");
    if !aclfile.is_empty() && !config.users.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    if !config.users.is_empty() {
        let mut users = crate::acl::file::from_config(&config.users, env)?;
        if !users.contains_key(&b"default"[..]) {
            users.insert(b"default".to_vec(), acl.default.rules());
        }
        acl.replace_all(env, users);
    }
    if !aclfile.is_empty() {
        let users = crate::acl::file::load(aclfile, env)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        acl.replace_all(env, users);
    }
    Ok(acl)
}

pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Server-wide counters (INFO stats). Relaxed atomics: they are statistics.
#[derive(Default)]
pub struct ServerStats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub errors: AtomicU64,
    /// Reads from and writes to client sockets (one per batch of pipelined commands).
    pub reads_processed: AtomicU64,
    pub writes_processed: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub evicted_keys: AtomicU64,
    pub evicted_clients: AtomicU64,
    /// Memory of all normal clients' buffers (mem_clients_normal).
    pub clients_memory: AtomicU64,
    /// instantaneous_ops_per_sec, sampled by the cron.
    pub ops_per_sec: AtomicU64,
    pub input_kbps_x100: AtomicU64,
    pub output_kbps_x100: AtomicU64,
    pub error_counts: Mutex<BTreeMap<String, u64>>,
}

/// CLIENT PAUSE state.
#[derive(Clone, Copy, Default)]
pub struct Pause {
    /// Unix ms until which clients are paused; 0 = not paused.
    pub until_ms: i64,
    /// Only writes are paused (WRITE mode) rather than all commands.
    pub writes_only: bool,
}

pub struct Server {
    pub keyspace: Keyspace,
    pub config: RwLock<Config>,
    pub commands: CommandTable,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    pub next_client_id: AtomicU64,
    pub stats: ServerStats,
    pub started: Instant,
    pub started_unix_ms: i64,
    /// Seconds since start, the clock stamped on keys for OBJECT IDLETIME.
    pub lru_clock: AtomicU32,
    pub pause: Mutex<Pause>,
    pub unpaused: tokio::sync::Notify,
    pub shutdown: tokio::sync::Notify,
    pub shutting_down: AtomicBool,
    pub active_expire_enabled: AtomicBool,
    pub run_id: String,
    pub tcp_port: AtomicU32,
    pub executable: String,
    pub last_save_unix: AtomicI64,
    /// Mirrors of hot configuration values, refreshed whenever CONFIG SET changes them.
    pub hot: HotConfig,
    /// Allocated bytes right after start-up (used_memory_startup).
    pub startup_memory: u64,
    memory_peak: AtomicU64,
    log_reload: std::sync::OnceLock<Box<dyn Fn(crate::config::LogLevel) + Send + Sync>>,
    /// The accept loops now serving, so a port or bind change can replace them.
    listeners: Mutex<Vec<tokio::task::AbortHandle>>,
    pub slowlog: Mutex<crate::commands::slowlog::Slowlog>,
    pub pubsub: Mutex<pubsub::PubSub>,
    /// MONITOR clients, and their number for a lock-free check on every command.
    pub monitors: Mutex<Vec<pubsub::Mailbox>>,
    pub tracking: tracking::Tracking,
    /// Blocked clients by client id (CLIENT UNBLOCK, INFO blocked_clients).
    pub blocked: Mutex<std::collections::HashMap<u64, Arc<blocking::Waiter>>>,
    pub monitor_count: std::sync::atomic::AtomicUsize,
    /// LATENCY's event history (latency-monitor-threshold).
    pub latency_events: Mutex<latency::LatencyEvents>,
    /// Per-command latency histograms (latency-tracking), indexed like command statistics.
    pub histograms: latency::CommandHistograms,
    /// Lua scripts, functions and the state of the running script.
    pub scripting: crate::scripting::Scripting,
    /// The append-only file: its stream, writer and files.
    pub aof: crate::persistence::aof::Aof,
    /// maxmemory's eviction pool.
    pub evictor: crate::memory::evict::Evictor,
    /// TLS settings for tls-port connections (None without a certificate); replaced by CONFIG
    /// SET of a tls-* parameter, for new connections.
    tls: RwLock<Option<Arc<rustls::ServerConfig>>>,
    /// RDB saves and loads (INFO persistence).
    pub persistence: crate::persistence::State,
    /// ACL users, the ACL LOG and denial counters.
    pub acl: crate::acl::Acl,
}

#[derive(Default)]
pub struct HotConfig {
    pub proto_max_bulk_len: AtomicU64,
    pub client_query_buffer_limit: AtomicU64,
    pub timeout_secs: AtomicU64,
    pub maxclients: AtomicU64,
    pub hz: AtomicU32,
    /// maxmemory in bytes (0: no limit), checked before every command.
    pub maxmemory: AtomicU64,
    /// maxmemory-clients in bytes (0: clients are never evicted).
    pub maxmemory_clients: AtomicU64,
    /// An LFU maxmemory policy is in force: keys carry LFU counters instead of LRU stamps.
    pub lfu: AtomicBool,
    pub lfu_log_factor: AtomicU32,
    pub lfu_decay_time: AtomicU32,
    pub slowlog_slower_than: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    /// client-output-buffer-limit of the normal and pubsub classes: hard bytes, soft bytes,
    /// soft seconds.
    pub normal_limits: [AtomicU64; 3],
    pub pubsub_limits: [AtomicU64; 3],
    /// latency-monitor-threshold in ms (0: the monitor is off) and latency-tracking.
    pub latency_threshold_ms: AtomicU64,
    pub latency_tracking: AtomicBool,
    /// notify-keyspace-events as `notify` flags (0: off).
    pub notify_flags: AtomicU32,
    /// busy-reply-threshold in ms: scripts running longer make other clients get BUSY.
    pub busy_reply_threshold: AtomicU64,
    /// Encoding thresholds of collections (list-max-listpack-size...).
    encoding: [AtomicI64; 9],
}

impl HotConfig {
    pub fn refresh(&self, c: &Config) {
        self.proto_max_bulk_len
            .store(c.proto_max_bulk_len, Ordering::Relaxed);
        self.client_query_buffer_limit
            .store(c.client_query_buffer_limit, Ordering::Relaxed);
        self.timeout_secs.store(c.timeout, Ordering::Relaxed);
        self.maxclients
            .store(c.maxclients as u64, Ordering::Relaxed);
        self.hz.store(c.hz.clamp(1, 500), Ordering::Relaxed);
        self.maxmemory.store(c.maxmemory, Ordering::Relaxed);
        self.maxmemory_clients
            .store(c.maxmemory_clients, Ordering::Relaxed);
        self.lfu
            .store(c.maxmemory_policy.is_lfu(), Ordering::Relaxed);
        self.lfu_log_factor
            .store(c.lfu_log_factor as u32, Ordering::Relaxed);
        self.lfu_decay_time
            .store(c.lfu_decay_time as u32, Ordering::Relaxed);
        self.slowlog_slower_than
            .store(c.slowlog_log_slower_than, Ordering::Relaxed);
        self.slowlog_max_len
            .store(c.slowlog_max_len, Ordering::Relaxed);
        for (class, slots) in [
            ("normal", &self.normal_limits),
            ("pubsub", &self.pubsub_limits),
        ] {
            for (slot, v) in slots.iter().zip(c.output_buffer_limit(class)) {
                slot.store(v, Ordering::Relaxed);
            }
        }
        self.latency_threshold_ms
            .store(c.latency_monitor_threshold, Ordering::Relaxed);
        self.latency_tracking
            .store(c.latency_tracking, Ordering::Relaxed);
        self.busy_reply_threshold
            .store(c.busy_reply_threshold, Ordering::Relaxed);
        self.notify_flags.store(
            notify::parse_flags(&c.notify_keyspace_events),
            Ordering::Relaxed,
        );
        let e = &c.encoding;
        for (slot, v) in self.encoding.iter().zip([
            e.list_max_listpack_size,
            e.hash_max_listpack_entries as i64,
            e.hash_max_listpack_value as i64,
            e.set_max_intset_entries as i64,
            e.zset_max_listpack_entries as i64,
            e.zset_max_listpack_value as i64,
            e.hll_sparse_max_bytes as i64,
            e.stream_node_max_bytes as i64,
            e.stream_node_max_entries as i64,
        ]) {
            slot.store(v, Ordering::Relaxed);
        }
    }

    /// The current collection encoding thresholds.
    pub fn encoding_limits(&self) -> EncodingLimits {
        let v = |i: usize| self.encoding[i].load(Ordering::Relaxed);
        EncodingLimits {
            list_max_listpack_size: v(0),
            hash_max_listpack_entries: v(1) as usize,
            hash_max_listpack_value: v(2) as usize,
            set_max_intset_entries: v(3) as usize,
            zset_max_listpack_entries: v(4) as usize,
            zset_max_listpack_value: v(5) as usize,
            hll_sparse_max_bytes: v(6) as usize,
            stream_node_max_bytes: v(7) as u64,
            stream_node_max_entries: v(8) as u64,
        }
    }
}

impl Server {
    pub fn new(config: Config) -> Result<Arc<Server>, String> {
        let mut commands = CommandTable::new(crate::commands::COMMANDS);
        for (from, to) in &config.rename_commands {
            if !commands.rename(from, to) {
                return Err(format!("No such command in rename-command: {from}"));
            }
        }
        let hot = HotConfig::default();
        hot.refresh(&config);
        let tls = tls::server_config(&config)?;
        let acl = load_users(&commands, &config)?;
        let histograms = latency::CommandHistograms::new(commands.all_stats().count());
        let aof = crate::persistence::aof::Aof::new(
            config.aof.dirname.clone().into(),
            config.aof.filename.clone(),
            config.appendfsync,
        );
        aof.set_timestamps(config.aof.timestamps);
        // Clients are answered -LOADING until the AOF is loaded (see main.rs).
        aof.stats
            .loading
            .store(config.appendonly, Ordering::Relaxed);
        let now = unix_ms();
        let mut id = [0u8; 20];
        for b in id.iter_mut() {
            *b = fastrand::u8(..);
        }
        Ok(Arc::new(Server {
            keyspace: Keyspace::new(config.databases as usize),
            tcp_port: AtomicU32::new(config.port as u32),
            config: RwLock::new(config),
            commands,
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            stats: ServerStats::default(),
            started: Instant::now(),
            started_unix_ms: now,
            lru_clock: AtomicU32::new(0),
            pause: Mutex::new(Pause::default()),
            unpaused: tokio::sync::Notify::new(),
            shutdown: tokio::sync::Notify::new(),
            shutting_down: AtomicBool::new(false),
            active_expire_enabled: AtomicBool::new(true),
            run_id: id.iter().map(|b| format!("{b:02x}")).collect(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            last_save_unix: AtomicI64::new(now / 1000),
            hot,
            startup_memory: crate::memory::alloc::used_memory(),
            memory_peak: AtomicU64::new(0),
            log_reload: std::sync::OnceLock::new(),
            listeners: Mutex::new(Vec::new()),
            slowlog: Mutex::new(Default::default()),
            pubsub: Mutex::new(Default::default()),
            monitors: Mutex::new(Vec::new()),
            blocked: Mutex::new(Default::default()),
            tracking: Default::default(),
            monitor_count: std::sync::atomic::AtomicUsize::new(0),
            latency_events: Mutex::new(Default::default()),
            histograms,
            scripting: crate::scripting::Scripting::new(),
            aof,
            evictor: Default::default(),
            tls: RwLock::new(tls),
            persistence: Default::default(),
            acl,
        }))
    }

    pub fn set_log_reload(&self, f: Box<dyn Fn(crate::config::LogLevel) + Send + Sync>) {
        let _ = self.log_reload.set(f);
    }

    /// Records a used-memory reading and returns the peak so far (used_memory_peak).
    pub fn note_memory_peak(&self, used: u64) -> u64 {
        self.memory_peak
            .fetch_max(used, Ordering::Relaxed)
            .max(used)
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&self) {
        let st = &self.stats;
        for c in [
            &st.connections_received,
            &st.rejected_connections,
            &st.net_input_bytes,
            &st.net_output_bytes,
            &st.errors,
            &st.unexpected_error_replies,
            &st.evicted_keys,
            &st.evicted_clients,
            &st.reads_processed,
            &st.writes_processed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        st.error_counts.lock().clear();
        for c in &self.acl.denied {
            c.store(0, Ordering::Relaxed);
        }
        self.commands.reset_stats();
        self.histograms.reset();
        self.keyspace.reset_stats();
        self.memory_peak.store(0, Ordering::Relaxed);
    }

    pub fn tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.read().clone()
    }

    /// Rebuilds the TLS settings after CONFIG SET changed a tls-* parameter (certificates are
    /// reloaded this way); on error the running settings stay.
    pub fn reload_tls(&self) -> Result<(), String> {
        let fresh = tls::server_config(&self.config.read())?;
        *self.tls.write() = fresh;
        Ok(())
    }

    /// Applies configuration changed by CONFIG SET to the running server.
    pub fn apply_config(&self, changed: &[&str]) {
        let cfg = self.config.read();
        self.hot.refresh(&cfg);
        if changed.contains(&"requirepass") {
            self.acl
                .set_default_password(&self.commands, cfg.requirepass.as_deref());
        }
        if changed.contains(&"acl-pubsub-default") {
            self.acl
                .set_all_channels_default(cfg.value("acl-pubsub-default") == "allchannels");
        }
        if changed.contains(&"dir")
            && let Err(e) = std::env::set_current_dir(&cfg.dir)
        {
            tracing::warn!("Can't chdir to '{}': {e}", cfg.dir.display());
        }
        self.aof.set_policy(cfg.appendfsync);
        self.aof.set_timestamps(cfg.aof.timestamps);
        if changed.contains(&"slowlog-max-len") {
            crate::commands::slowlog::trim(self);
        }
        if changed.contains(&"loglevel")
            && let Some(f) = self.log_reload.get()
        {
            f(cfg.loglevel);
        }
    }

    pub fn pubsub_limits(&self) -> pubsub::Limits {
        pubsub::Limits::from_config(&self.hot.pubsub_limits)
    }

    /// client-output-buffer-limit of the normal class (also MONITOR clients, as in Redis).
    pub fn normal_limits(&self) -> pubsub::Limits {
        pubsub::Limits::from_config(&self.hot.normal_limits)
    }

    pub fn lru_clock(&self) -> u32 {
        self.lru_clock.load(Ordering::Relaxed)
    }

    /// What commands stamp on the keys they touch under the current policy.
    pub fn access_clock(&self, now_ms: i64) -> AccessClock {
        if self.hot.lfu.load(Ordering::Relaxed) {
            AccessClock::Lfu {
                minutes: ((now_ms / 60_000) & 0xFFFF) as u32,
                log_factor: self.hot.lfu_log_factor.load(Ordering::Relaxed),
                decay_minutes: self.hot.lfu_decay_time.load(Ordering::Relaxed),
            }
        } else {
            AccessClock::Lru(self.lru_clock())
        }
    }

    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }

    /// The periodic task (Redis's serverCron): LRU clock, active expiry, ops/sec sampling,
    /// pause expiry. Runs `hz` times per second.
    pub async fn cron(self: Arc<Server>) {
        let mut last_sample = Instant::now();
        let mut last_cmds = 0u64;
        let mut last_in = 0u64;
        let mut last_out = 0u64;
        let mut samples: [(u64, u64, u64); 16] = [(0, 0, 0); 16];
        let mut sample_idx = 0usize;
        loop {
            let hz = self.hot.hz.load(Ordering::Relaxed).max(1);
            let period = Duration::from_millis(1000 / hz as u64);
            tokio::time::sleep(period).await;
            if self.shutting_down.load(Ordering::Relaxed) {
                return;
            }
            self.lru_clock
                .store(self.started.elapsed().as_secs() as u32, Ordering::Relaxed);
            if self.active_expire_enabled.load(Ordering::Relaxed) {
                // Like Redis's slow cycle: at most 25% of the period per pass.
                let budget = period / 4;
                let server = self.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let flags = server.hot.notify_flags.load(Ordering::Relaxed);
                    let mut events = Vec::new();
                    let mut changed = Vec::new();
                    let mut ready = Vec::new();
                    let tracking = server.tracking.active();
                    let started = Instant::now();
                    let aof = &server.aof;
                    // Read under each shard's lock: exact at the AOF's cut-over.
                    let record_deletion = |db: usize, key: &[u8]| {
                        if aof.feeding() {
                            aof.append_command(db, &[b"DEL", key]);
                        }
                    };
                    server.keyspace.active_expire(
                        unix_ms(),
                        started + budget,
                        flags,
                        crate::storage::keyspace::ExpiryOutputs {
                            events: &mut events,
                            tracking: tracking.then_some(&mut changed),
                            ready: &mut ready,
                            deleted: &record_deletion,
                        },
                    );
                    let ms = started.elapsed().as_millis() as u64;
                    latency::record_event(&server, "expire-cycle", ms);
                    if !events.is_empty() {
                        notify::publish(&server, flags, &mut events);
                    }
                    if !changed.is_empty() {
                        let limits = server.pubsub_limits();
                        server.tracking.invalidate(&server, 0, &changed, limits);
                    }
                    if !ready.is_empty() {
                        blocking::serve_ready(&server, ready);
                    }
                })
                .await;
            }
            self.expire_pause();
            crate::persistence::cron(&self);
            // instantaneous_* are averages over the last 16 samples, taken every 100 ms.
            if last_sample.elapsed() >= Duration::from_millis(100) {
                let dt = last_sample.elapsed().as_secs_f64();
                last_sample = Instant::now();
                let cmds = self.commands.total_calls();
                let input = self.stats.net_input_bytes.load(Ordering::Relaxed);
                let output = self.stats.net_output_bytes.load(Ordering::Relaxed);
                samples[sample_idx % 16] = (
                    ((cmds - last_cmds) as f64 / dt) as u64,
                    ((input - last_in) as f64 / dt) as u64,
                    ((output - last_out) as f64 / dt) as u64,
                );
                sample_idx += 1;
                (last_cmds, last_in, last_out) = (cmds, input, output);
                let n = sample_idx.min(16) as u64;
                let sum = samples
                    .iter()
                    .fold((0, 0, 0), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
                self.stats.ops_per_sec.store(sum.0 / n, Ordering::Relaxed);
                self.stats
                    .input_kbps_x100
                    .store(sum.1 * 100 / n / 1024, Ordering::Relaxed);
                self.stats
                    .output_kbps_x100
                    .store(sum.2 * 100 / n / 1024, Ordering::Relaxed);
            }
        }
    }

    fn expire_pause(&self) {
        let mut p = self.pause.lock();
        if p.until_ms != 0 && p.until_ms <= unix_ms() {
            *p = Pause::default();
            drop(p);
            self.unpaused.notify_waiters();
        }
    }

    pub fn unpause(&self) {
        *self.pause.lock() = Pause::default();
        self.unpaused.notify_waiters();
    }

    pub fn register_client(&self, info: Arc<ClientInfo>) {
        self.clients.lock().insert(info.id, info);
    }

    pub fn unregister_client(&self, id: u64) {
        if let Some(info) = self.clients.lock().remove(&id) {
            let counted = info.memory.swap(0, Ordering::Relaxed);
            self.stats
                .clients_memory
                .fetch_sub(counted as u64, Ordering::Relaxed);
        }
        self.tracking.disable(id);
        self.stop_monitor(id);
    }

    /// Records the memory a client's buffers now take; past maxmemory-clients, the clients
    /// taking the most are closed (never one marked CLIENT NO-EVICT) until the rest fit.
    pub fn note_client_memory(&self, info: &ClientInfo, bytes: usize) {
        let before = info.memory.swap(bytes, Ordering::Relaxed);
        if before == bytes {
            return;
        }
        let total = if bytes > before {
            self.stats
                .clients_memory
                .fetch_add((bytes - before) as u64, Ordering::Relaxed)
                + (bytes - before) as u64
        } else {
            self.stats
                .clients_memory
                .fetch_sub((before - bytes) as u64, Ordering::Relaxed)
                - (before - bytes) as u64
        };
        let limit = self.hot.maxmemory_clients.load(Ordering::Relaxed);
        if limit != 0 && total > limit {
            self.evict_clients(total, limit);
        }
    }

    fn evict_clients(&self, total: u64, limit: u64) {
        let mut candidates: Vec<(usize, Arc<ClientInfo>)> = self
            .clients
            .lock()
            .values()
            .filter(|c| !c.killed.load(Ordering::Relaxed) && !c.meta.lock().no_evict)
            .map(|c| (c.memory.load(Ordering::Relaxed), c.clone()))
            .collect();
        candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mut left = total;
        for (bytes, client) in candidates {
            if left <= limit {
                break;
            }
            tracing::info!(
                "Evicting client: id={} addr={} tot-mem={bytes}",
                client.id,
                client.addr
            );
            client.kill();
            self.stats.evicted_clients.fetch_add(1, Ordering::Relaxed);
            left = left.saturating_sub(bytes as u64);
        }
    }

    /// Ends MONITOR mode of client `id` (disconnect, RESET), if it was on.
    pub fn stop_monitor(&self, id: u64) {
        let mut monitors = self.monitors.lock();
        monitors.retain(|m| {
            let keep = m.info.id != id;
            if !keep {
                m.info.monitor.store(false, Ordering::Relaxed);
            }
            keep
        });
        self.monitor_count.store(monitors.len(), Ordering::Relaxed);
    }
}

/// Binds every `bind` address on `port`. An address prefixed with '-' is optional (as in
/// Redis: skipped when unavailable); "*" means all IPv4 addresses and "::*" all IPv6 ones.
fn bind_addresses(addrs: &[String], port: u16) -> Result<Vec<std::net::TcpListener>, String> {
    let mut listeners = Vec::new();
    for a in addrs {
        let (optional, addr) = match a.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, a.as_str()),
        };
        let host = match addr {
            "*" => "0.0.0.0",
            "::*" => "::",
            other => other,
        };
        let sock = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        match std::net::TcpListener::bind(&sock).and_then(|l| l.set_nonblocking(true).map(|_| l)) {
            Ok(l) => listeners.push(l),
            Err(e) if optional => {
                tracing::warn!("Could not create server TCP listening socket {sock}: {e} (skipped)")
            }
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {sock}: {e}"
                ));
            }
        }
    }
    if listeners.is_empty() {
        return Err("Failed listening on port (tcp), aborting.".into());
    }
    Ok(listeners)
}

impl Server {
    /// (Re)binds the listening sockets from `bind` and `port` and serves them, replacing the
    /// previous ones (CONFIG SET port/bind applies live, as in Redis). On failure the old
    /// sockets stay in service. Must run inside the runtime.
    pub fn start_listeners(self: &Arc<Server>) -> Result<(), String> {
        let (addrs, port, tls_port) = {
            let c = self.config.read();
            (c.bind.clone(), c.port, c.tls_port)
        };
        // Port 0 turns a listener off (a TLS-only server sets port 0 and tls-port).
        let mut fresh = Vec::new();
        for (p, tls) in [(port, false), (tls_port, true)] {
            if p != 0 {
                fresh.extend(bind_addresses(&addrs, p)?.into_iter().map(|l| (l, tls)));
            }
        }
        if tls_port != 0 && self.tls_config().is_none() {
            return Err("tls-port is set but tls-cert-file is not".into());
        }
        let mut tasks = Vec::with_capacity(fresh.len());
        for (l, tls) in fresh {
            let listener = tokio::net::TcpListener::from_std(l).map_err(|e| e.to_string())?;
            tasks.push(tokio::spawn(connection::serve(self.clone(), listener, tls)).abort_handle());
        }
        for old in std::mem::replace(&mut *self.listeners.lock(), tasks) {
            old.abort();
        }
        self.tcp_port.store(port as u32, Ordering::Relaxed);
        Ok(())
    }
}
