//! INFO: Redis's sections and field names, so redis-cli --stat, BullMQ and monitoring read
//! ferrodis as they read Redis.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::Server;
use crate::storage::DbView;

/// Every section, in the order Redis 7.0 prints them whatever order they are asked in.
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];
/// Sections only printed when asked for (or by "all"/"everything").
const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats"];

/// Bytes in Redis's human form (bytesToHuman): 1.50K, 2.00M...
pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    const UNITS: [(&str, f64); 5] = [
        ("P", 1024f64 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("T", 1024f64 * 1024.0 * 1024.0 * 1024.0),
        ("G", 1024f64 * 1024.0 * 1024.0),
        ("M", 1024f64 * 1024.0),
        ("K", 1024f64),
    ];
    for (u, size) in UNITS {
        if n >= size {
            return format!("{:.2}{}", n / size, u);
        }
    }
    format!("{}B", n as u64)
}

/// (allocated, active, resident) bytes from jemalloc.
pub fn allocator_stats() -> (u64, u64, u64) {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    (
        stats::allocated::read().unwrap_or(0) as u64,
        stats::active::read().unwrap_or(0) as u64,
        stats::resident::read().unwrap_or(0) as u64,
    )
}

/// Resident set size from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// (user, system) CPU seconds of this process.
fn cpu_times() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = 100.0;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (get(11), get(12))
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

pub fn render(server: &Server, ks: &mut DbView, requested: &[&[u8]]) -> String {
    let defaults = || {
        ALL_SECTIONS
            .iter()
            .filter(|s| !NOT_DEFAULT.contains(s))
            .map(|s| s.to_string())
    };
    let mut wanted: Vec<String> = Vec::new();
    if requested.is_empty() {
        wanted.extend(defaults());
    }
    for r in requested {
        let r = String::from_utf8_lossy(r).to_ascii_lowercase();
        match r.as_str() {
            "default" => wanted.extend(defaults()),
            "all" | "everything" => wanted.extend(ALL_SECTIONS.iter().map(|s| s.to_string())),
            _ => wanted.push(r),
        }
    }
    let mut out = String::with_capacity(4096);
    for section in ALL_SECTIONS {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match *section {
            "server" => server_section(server, &mut out),
            "clients" => clients_section(server, &mut out),
            "memory" => memory_section(server, &mut out),
            "persistence" => persistence_section(server, ks, &mut out),
            "stats" => stats_section(server, ks, &mut out),
            "replication" => replication_section(server, &mut out),
            "cpu" => cpu_section(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "errorstats" => errorstats_section(server, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace_section(ks, &mut out),
            "commandstats" => commandstats_section(server, &mut out),
            "latencystats" => latencystats_section(server, &mut out),
            _ => {}
        }
    }
    out
}

macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
        $out.push_str("\r\n");
    }};
}

fn server_section(server: &Server, out: &mut String) {
    let cfg = server.config.read();
    let uptime = server.started.elapsed().as_secs();
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let hz = server.hot.hz.load(Ordering::Relaxed);
    out.push_str("# Server\r\n");
    line!(out, "redis_version:{}", crate::REDIS_VERSION);
    line!(out, "redis_git_sha1:00000000");
    line!(out, "redis_git_dirty:0");
    line!(out, "redis_build_id:0");
    line!(out, "redis_mode:standalone");
    line!(out, "ferrodis_version:{}", crate::VERSION);
    line!(
        out,
        "os:{} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    line!(out, "arch_bits:{}", usize::BITS);
    line!(out, "monotonic_clock:POSIX clock_gettime");
    line!(out, "multiplexing_api:epoll");
    line!(out, "atomicvar_api:c11-builtin");
    line!(out, "gcc_version:0.0.0");
    line!(out, "process_id:{}", std::process::id());
    line!(out, "process_supervised:no");
    line!(out, "run_id:{}", server.run_id);
    line!(out, "tcp_port:{}", server.tcp_port.load(Ordering::Relaxed));
    line!(out, "server_time_usec:{}", now_us);
    line!(out, "uptime_in_seconds:{}", uptime);
    line!(out, "uptime_in_days:{}", uptime / 86400);
    line!(out, "hz:{}", hz);
    line!(out, "configured_hz:{}", cfg.hz);
    line!(out, "lru_clock:{}", server.lru_clock());
    line!(out, "executable:{}", server.executable);
    line!(
        out,
        "config_file:{}",
        cfg.config_file()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    line!(out, "io_threads_active:0");
}

fn clients_section(server: &Server, out: &mut String) {
    let clients: Vec<_> = server.clients.lock().values().cloned().collect();
    let max_in = clients
        .iter()
        .map(|c| c.query_buf.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let max_out = clients
        .iter()
        .map(|c| c.output_buf.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    out.push_str("# Clients\r\n");
    line!(out, "connected_clients:{}", clients.len());
    line!(out, "cluster_connections:0");
    line!(
        out,
        "maxclients:{}",
        server.hot.maxclients.load(Ordering::Relaxed)
    );
    line!(out, "client_recent_max_input_buffer:{}", max_in);
    line!(out, "client_recent_max_output_buffer:{}", max_out);
    line!(out, "blocked_clients:{}", server.blocked.lock().len());
    line!(out, "tracking_clients:{}", server.tracking.counts().0);
    line!(out, "clients_in_timeout_table:0");
}

fn memory_section(server: &Server, out: &mut String) {
    let (allocated, active, resident) = allocator_stats();
    let used = crate::memory::alloc::used_memory();
    let rss = rss_bytes();
    let peak = server.note_memory_peak(used);
    let startup = server.startup_memory;
    let cfg = server.config.read();
    let overhead = startup;
    let dataset = used.saturating_sub(overhead);
    let pct = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    let sysmem = total_system_memory();
    out.push_str("# Memory\r\n");
    line!(out, "used_memory:{}", used);
    line!(out, "used_memory_human:{}", human_bytes(used));
    line!(out, "used_memory_rss:{}", rss);
    line!(out, "used_memory_rss_human:{}", human_bytes(rss));
    line!(out, "used_memory_peak:{}", peak);
    line!(out, "used_memory_peak_human:{}", human_bytes(peak));
    line!(out, "used_memory_peak_perc:{:.2}%", pct(used, peak));
    line!(out, "used_memory_overhead:{}", overhead);
    line!(out, "used_memory_startup:{}", startup);
    line!(out, "used_memory_dataset:{}", dataset);
    line!(out, "used_memory_dataset_perc:{:.2}%", pct(dataset, used));
    line!(out, "allocator_allocated:{}", allocated);
    line!(out, "allocator_active:{}", active);
    line!(out, "allocator_resident:{}", resident);
    line!(out, "total_system_memory:{}", sysmem);
    line!(out, "total_system_memory_human:{}", human_bytes(sysmem));
    let lua = server.scripting.memory();
    line!(out, "used_memory_lua:{}", lua.vm_eval);
    line!(out, "used_memory_vm_eval:{}", lua.vm_eval);
    line!(out, "used_memory_lua_human:{}", human_bytes(lua.vm_eval));
    line!(out, "used_memory_scripts_eval:{}", lua.scripts_eval);
    line!(out, "number_of_cached_scripts:{}", lua.cached_scripts);
    line!(out, "number_of_functions:{}", lua.functions);
    line!(out, "number_of_libraries:{}", lua.libraries);
    line!(out, "used_memory_vm_functions:{}", lua.vm_functions);
    let vm_total = lua.vm_eval + lua.vm_functions;
    line!(out, "used_memory_vm_total:{}", vm_total);
    line!(out, "used_memory_vm_total_human:{}", human_bytes(vm_total));
    line!(out, "used_memory_functions:{}", lua.functions_overhead);
    let scripts = lua.scripts_eval + lua.functions_overhead;
    line!(out, "used_memory_scripts:{}", scripts);
    line!(out, "used_memory_scripts_human:{}", human_bytes(scripts));
    line!(out, "maxmemory:{}", cfg.maxmemory);
    line!(out, "maxmemory_human:{}", human_bytes(cfg.maxmemory));
    line!(out, "maxmemory_policy:{}", cfg.maxmemory_policy.name());
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    line!(out, "allocator_frag_ratio:{:.2}", ratio(active, allocated));
    line!(
        out,
        "allocator_frag_bytes:{}",
        active.saturating_sub(allocated)
    );
    line!(out, "allocator_rss_ratio:{:.2}", ratio(resident, active));
    line!(
        out,
        "allocator_rss_bytes:{}",
        resident.saturating_sub(active)
    );
    line!(out, "rss_overhead_ratio:{:.2}", ratio(rss, resident));
    line!(out, "rss_overhead_bytes:{}", rss as i64 - resident as i64);
    line!(out, "mem_fragmentation_ratio:{:.2}", ratio(rss, used));
    line!(out, "mem_fragmentation_bytes:{}", rss as i64 - used as i64);
    line!(out, "mem_not_counted_for_evict:0");
    line!(out, "mem_replication_backlog:0");
    line!(out, "mem_total_replication_buffers:0");
    line!(out, "mem_clients_slaves:0");
    line!(
        out,
        "mem_clients_normal:{}",
        server.stats.clients_memory.load(Ordering::Relaxed)
    );
    line!(out, "mem_cluster_links:0");
    line!(out, "mem_aof_buffer:{}", server.aof.buffered());
    line!(out, "mem_allocator:jemalloc-5.3.0");
    line!(out, "active_defrag_running:0");
    line!(out, "lazyfree_pending_objects:0");
    line!(out, "lazyfreed_objects:0");
}

fn persistence_section(server: &Server, ks: &mut DbView, out: &mut String) {
    let dirty = ks.stats().dirty;
    let aof = server.config.read().appendonly;
    let st = &server.aof.stats;
    let loading = st.loading.load(Ordering::Relaxed);
    out.push_str("# Persistence\r\n");
    crate::persistence::info_lines(server, dirty, out);
    let status = |ok: bool| if ok { "ok" } else { "err" };
    let rewriting = st.rewrite_in_progress.load(Ordering::Relaxed);
    line!(out, "aof_enabled:{}", aof as u8);
    line!(out, "aof_rewrite_in_progress:{}", rewriting as u8);
    line!(
        out,
        "aof_rewrite_scheduled:{}",
        st.rewrite_scheduled.load(Ordering::Relaxed) as u8
    );
    line!(
        out,
        "aof_last_rewrite_time_sec:{}",
        st.last_rewrite_secs.load(Ordering::Relaxed)
    );
    let current = st
        .rewrite_started
        .lock()
        .map_or(-1, |t| t.elapsed().as_secs() as i64);
    line!(out, "aof_current_rewrite_time_sec:{}", current);
    line!(
        out,
        "aof_last_bgrewrite_status:{}",
        status(st.last_rewrite_ok.load(Ordering::Relaxed))
    );
    line!(out, "aof_rewrites:{}", st.rewrites.load(Ordering::Relaxed));
    line!(
        out,
        "aof_rewrites_consecutive_failures:{}",
        st.rewrite_failures.load(Ordering::Relaxed)
    );
    line!(
        out,
        "aof_last_write_status:{}",
        status(st.last_write_ok.load(Ordering::Relaxed))
    );
    // No fork, so no copy-on-write.
    line!(out, "aof_last_cow_size:0");
    line!(out, "module_fork_in_progress:0");
    line!(out, "module_fork_last_cow_size:0");
    if aof {
        line!(
            out,
            "aof_current_size:{}",
            st.current_size.load(Ordering::Relaxed)
        );
        line!(
            out,
            "aof_base_size:{}",
            st.base_size.load(Ordering::Relaxed)
        );
        line!(out, "aof_pending_rewrite:0");
        line!(out, "aof_buffer_length:{}", server.aof.buffered());
        line!(
            out,
            "aof_pending_bio_fsync:{}",
            st.fsync_in_progress.load(Ordering::Relaxed) as u8
        );
        line!(
            out,
            "aof_delayed_fsync:{}",
            st.delayed_fsync.load(Ordering::Relaxed)
        );
    }
    if loading {
        let total = st.loading_total_bytes.load(Ordering::Relaxed);
        let loaded = st.loading_loaded_bytes.load(Ordering::Relaxed);
        let started = st.loading_started_unix.load(Ordering::Relaxed);
        let elapsed = (super::unix_ms() / 1000 - started).max(0);
        let perc = if total > 0 {
            loaded as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let eta = if loaded > 0 && total > loaded {
            (elapsed as f64 * (total - loaded) as f64 / loaded as f64) as i64
        } else {
            1
        };
        line!(out, "loading_start_time:{}", started);
        line!(out, "loading_total_bytes:{}", total);
        line!(out, "loading_rdb_used_mem:0");
        line!(out, "loading_loaded_bytes:{}", loaded);
        line!(out, "loading_loaded_perc:{:.2}", perc);
        line!(out, "loading_eta_seconds:{}", eta);
    }
}

fn stats_section(server: &Server, ks: &mut DbView, out: &mut String) {
    let st = &server.stats;
    let k = ks.stats();
    let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    out.push_str("# Stats\r\n");
    line!(
        out,
        "total_connections_received:{}",
        g(&st.connections_received)
    );
    let total = server.commands.total_calls();
    line!(out, "total_commands_processed:{}", total);
    line!(out, "instantaneous_ops_per_sec:{}", g(&st.ops_per_sec));
    line!(out, "total_net_input_bytes:{}", g(&st.net_input_bytes));
    line!(out, "total_net_output_bytes:{}", g(&st.net_output_bytes));
    line!(out, "total_net_repl_input_bytes:0");
    line!(out, "total_net_repl_output_bytes:0");
    line!(
        out,
        "instantaneous_input_kbps:{:.2}",
        g(&st.input_kbps_x100) as f64 / 100.0
    );
    line!(
        out,
        "instantaneous_output_kbps:{:.2}",
        g(&st.output_kbps_x100) as f64 / 100.0
    );
    line!(out, "instantaneous_input_repl_kbps:0.00");
    line!(out, "instantaneous_output_repl_kbps:0.00");
    line!(out, "rejected_connections:{}", g(&st.rejected_connections));
    line!(out, "sync_full:0");
    line!(out, "sync_partial_ok:0");
    line!(out, "sync_partial_err:0");
    line!(out, "expired_keys:{}", k.expired);
    line!(out, "expired_stale_perc:0.00");
    line!(out, "expired_time_cap_reached_count:0");
    line!(out, "expire_cycle_cpu_milliseconds:0");
    line!(
        out,
        "evicted_keys:{}",
        server.stats.evicted_keys.load(Ordering::Relaxed)
    );
    line!(
        out,
        "evicted_clients:{}",
        server.stats.evicted_clients.load(Ordering::Relaxed)
    );
    line!(out, "total_eviction_exceeded_time:0");
    line!(out, "current_eviction_exceeded_time:0");
    line!(out, "keyspace_hits:{}", k.hits);
    line!(out, "keyspace_misses:{}", k.misses);
    {
        let ps = server.pubsub.lock();
        line!(out, "pubsub_channels:{}", ps.channel_count());
        line!(out, "pubsub_patterns:{}", ps.pattern_count());
        line!(out, "pubsubshard_channels:{}", ps.shard_channel_count());
    }
    line!(out, "latest_fork_usec:0");
    line!(out, "total_forks:0");
    line!(out, "migrate_cached_sockets:0");
    line!(out, "slave_expires_tracked_keys:0");
    line!(out, "active_defrag_hits:0");
    line!(out, "active_defrag_misses:0");
    line!(out, "active_defrag_key_hits:0");
    line!(out, "active_defrag_key_misses:0");
    line!(out, "total_active_defrag_time:0");
    line!(out, "current_active_defrag_time:0");
    let (keys, items) = ks.tracking_counts();
    line!(out, "tracking_total_keys:{keys}");
    line!(out, "tracking_total_items:{items}");
    line!(
        out,
        "tracking_total_prefixes:{}",
        server.tracking.counts().1
    );
    line!(
        out,
        "unexpected_error_replies:{}",
        g(&st.unexpected_error_replies)
    );
    line!(out, "total_error_replies:{}", g(&st.errors));
    line!(out, "dump_payload_sanitizations:0");
    line!(out, "total_reads_processed:{}", g(&st.reads_processed));
    line!(out, "total_writes_processed:{}", g(&st.writes_processed));
    line!(out, "io_threaded_reads_processed:0");
    line!(out, "io_threaded_writes_processed:0");
    line!(out, "reply_buffer_shrinks:0");
    line!(out, "reply_buffer_expands:0");
    // Redis 7.2's ACL denial counters (7.0 has none; asked for here).
    let denied = &server.acl.denied;
    line!(out, "acl_access_denied_auth:{}", g(&denied[0]));
    line!(out, "acl_access_denied_cmd:{}", g(&denied[1]));
    line!(out, "acl_access_denied_key:{}", g(&denied[2]));
    line!(out, "acl_access_denied_channel:{}", g(&denied[3]));
}

fn replication_section(server: &Server, out: &mut String) {
    out.push_str("# Replication\r\n");
    line!(out, "role:master");
    line!(out, "connected_slaves:0");
    line!(out, "master_failover_state:no-failover");
    line!(out, "master_replid:{}", server.run_id);
    line!(
        out,
        "master_replid2:0000000000000000000000000000000000000000"
    );
    line!(out, "master_repl_offset:0");
    line!(out, "second_repl_offset:-1");
    line!(out, "repl_backlog_active:0");
    line!(out, "repl_backlog_size:1048576");
    line!(out, "repl_backlog_first_byte_offset:0");
    line!(out, "repl_backlog_histlen:0");
}

fn cpu_section(out: &mut String) {
    let (user, sys) = cpu_times();
    out.push_str("# CPU\r\n");
    line!(out, "used_cpu_sys:{:.6}", sys);
    line!(out, "used_cpu_user:{:.6}", user);
    line!(out, "used_cpu_sys_children:0.000000");
    line!(out, "used_cpu_user_children:0.000000");
    line!(out, "used_cpu_sys_main_thread:{:.6}", sys);
    line!(out, "used_cpu_user_main_thread:{:.6}", user);
}

fn errorstats_section(server: &Server, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    for (code, n) in server.stats.error_counts.lock().iter() {
        line!(out, "errorstat_{}:count={}", code, n);
    }
}

fn keyspace_section(ks: &mut DbView, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for (i, size) in ks.db_sizes().into_iter().enumerate() {
        if size.keys > 0 {
            line!(
                out,
                "db{}:keys={},expires={},avg_ttl={}",
                i,
                size.keys,
                size.volatile,
                size.avg_ttl_ms
            );
        }
    }
}

fn commandstats_section(server: &Server, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for (name, st) in server.commands.all_stats() {
        let calls = st.calls.load(Ordering::Relaxed);
        let rejected = st.rejected.load(Ordering::Relaxed);
        let failed = st.failed.load(Ordering::Relaxed);
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let usec = st.usec.load(Ordering::Relaxed);
        let per = if calls == 0 {
            0.0
        } else {
            usec as f64 / calls as f64
        };
        line!(
            out,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
            name,
            calls,
            usec,
            per,
            rejected,
            failed
        );
    }
}

fn latencystats_section(server: &Server, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    let percentiles = server
        .config
        .read()
        .latency_tracking_info_percentiles
        .clone();
    for (index, (name, _)) in server.commands.all_stats().enumerate() {
        if let Some(h) = server.histograms.snapshot(index) {
            line!(
                out,
                "latency_percentiles_usec_{}:{}",
                name,
                super::latency::percentiles_line(&h, &percentiles)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human() {
        assert_eq!(super::human_bytes(1023), "1023B");
        assert_eq!(super::human_bytes(1536), "1.50K");
        assert_eq!(super::human_bytes(3 * 1024 * 1024), "3.00M");
    }
}
