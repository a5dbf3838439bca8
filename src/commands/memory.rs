//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE. Figures come from the counting allocator
//! (`memory::alloc`), jemalloc's statistics and the keyspace's tables.

use super::table::{CommandSpec, LOADING, READONLY, STALE};
use super::{Ctx, NOT_INT, SYNTAX_ERR, reply_help};
use crate::memory::{alloc, usage};
use crate::protocol::Args;
use crate::server::Server;
use crate::server::info::{allocator_stats, rss_bytes};

/// Nested values sampled by MEMORY USAGE without SAMPLES (OBJ_COMPUTE_SIZE_DEF_SAMPLES).
const DEFAULT_SAMPLES: usize = 5;

fn memory_usage(ctx: &mut Ctx, args: Args) {
    let mut samples = DEFAULT_SAMPLES;
    let mut i = 3;
    while i < args.len() {
        if !args.get(i).eq_ignore_ascii_case(b"samples") || i + 1 >= args.len() {
            return ctx.reply.error(SYNTAX_ERR);
        }
        let Some(n) = crate::util::num::parse_i64(args.get(i + 1)) else {
            return ctx.reply.error(NOT_INT);
        };
        if n < 0 {
            return ctx.reply.error(SYNTAX_ERR);
        }
        // 0 samples every element.
        samples = n as usize;
        i += 2;
    }
    match ctx.ks.peek(args.get(2)) {
        Some(e) => ctx.reply.int(usage::entry_bytes(e, samples) as i64),
        None => ctx.reply.null(),
    }
}

/// The figures MEMORY STATS and MEMORY DOCTOR work from (Redis's getMemoryOverheadData).
struct Overhead {
    peak: u64,
    total: u64,
    startup: u64,
    lua_caches: u64,
    functions_caches: u64,
    clients: u64,
    /// (db index, key table bytes, expires index bytes) of the databases holding keys.
    dbs: Vec<(usize, u64, u64)>,
    overhead_total: u64,
    keys: u64,
    allocated: u64,
    active: u64,
    resident: u64,
    rss: u64,
    cached_scripts: u64,
}

impl Overhead {
    fn measure(ctx: &mut Ctx) -> Overhead {
        let server: &Server = ctx.server;
        let total = alloc::used_memory();
        let peak = server.note_memory_peak(total);
        let lua = server.scripting.memory();
        let mut dbs = Vec::new();
        let mut keys = 0;
        for (i, size) in ctx.ks.db_sizes().into_iter().enumerate() {
            if size.keys > 0 {
                keys += size.keys as u64;
                dbs.push((i, size.table_bytes as u64, size.expires_bytes as u64));
            }
        }
        let startup = server.startup_memory;
        let clients = server
            .stats
            .clients_memory
            .load(std::sync::atomic::Ordering::Relaxed);
        let overhead_total = startup
            + clients
            + lua.scripts_eval
            + lua.functions_overhead
            + dbs.iter().map(|(_, m, e)| m + e).sum::<u64>();
        let (allocated, active, resident) = allocator_stats();
        Overhead {
            peak,
            total,
            startup,
            lua_caches: lua.scripts_eval,
            clients,
            functions_caches: lua.functions_overhead,
            dbs,
            overhead_total,
            keys,
            allocated,
            active,
            resident,
            rss: rss_bytes(),
            cached_scripts: lua.cached_scripts,
        }
    }

    fn net(&self) -> u64 {
        self.total.saturating_sub(self.startup)
    }

    fn dataset(&self) -> u64 {
        self.total.saturating_sub(self.overhead_total)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn memory_stats(ctx: &mut Ctx, _args: Args) {
    let o = Overhead::measure(ctx);
    let r = &mut *ctx.reply;
    r.map(27 + o.dbs.len());
    let mut int = |name: &str, v: u64| {
        r.bulk(name.as_bytes());
        r.int(v as i64);
    };
    int("peak.allocated", o.peak);
    int("total.allocated", o.total);
    int("startup.allocated", o.startup);
    int("replication.backlog", 0);
    int("clients.slaves", 0);
    int("clients.normal", o.clients);
    int("cluster.links", 0);
    int("aof.buffer", 0);
    int("lua.caches", o.lua_caches);
    int("functions.caches", o.functions_caches);
    for (db, main, expires) in &o.dbs {
        r.bulk(format!("db.{db}").as_bytes());
        r.map(3);
        r.bulk(b"overhead.hashtable.main");
        r.int(*main as i64);
        r.bulk(b"overhead.hashtable.expires");
        r.int(*expires as i64);
        r.bulk(b"overhead.hashtable.slot-to-keys");
        r.int(0);
    }
    let mut int = |name: &str, v: u64| {
        r.bulk(name.as_bytes());
        r.int(v as i64);
    };
    int("overhead.total", o.overhead_total);
    int("keys.count", o.keys);
    int(
        "keys.bytes-per-key",
        o.net().checked_div(o.keys).unwrap_or(0),
    );
    int("dataset.bytes", o.dataset());
    let mut double = |name: &str, v: f64| {
        r.bulk(name.as_bytes());
        r.double(v);
    };
    double("dataset.percentage", ratio(o.dataset(), o.net()) * 100.0);
    double("peak.percentage", ratio(o.total, o.peak) * 100.0);
    let mut int = |name: &str, v: i64| {
        r.bulk(name.as_bytes());
        r.int(v);
    };
    int("allocator.allocated", o.allocated as i64);
    int("allocator.active", o.active as i64);
    int("allocator.resident", o.resident as i64);
    let pairs: [(&[u8], &[u8], u64, u64); 3] = [
        (
            b"allocator-fragmentation.ratio",
            b"allocator-fragmentation.bytes",
            o.active,
            o.allocated,
        ),
        (
            b"allocator-rss.ratio",
            b"allocator-rss.bytes",
            o.resident,
            o.active,
        ),
        (
            b"rss-overhead.ratio",
            b"rss-overhead.bytes",
            o.rss,
            o.resident,
        ),
    ];
    for (ratio_name, bytes_name, a, b) in pairs {
        r.bulk(ratio_name);
        r.double(ratio(a, b));
        r.bulk(bytes_name);
        r.int(a as i64 - b as i64);
    }
    r.bulk(b"fragmentation");
    r.double(ratio(o.rss, o.total));
    r.bulk(b"fragmentation.bytes");
    r.int(o.rss as i64 - o.total as i64);
}

/// Below this much memory in use the doctor has nothing to say (as Redis).
const DOCTOR_MIN_BYTES: u64 = 5 << 20;

fn memory_doctor(ctx: &mut Ctx, _args: Args) {
    let o = Overhead::measure(ctx);
    let text = doctor_report(&o);
    ctx.reply.verbatim(text.as_bytes());
}

fn doctor_report(o: &Overhead) -> String {
    if o.total < DOCTOR_MIN_BYTES {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
    }
    const TEN_MB: u64 = 10 << 20;
    let mut issues = Vec::new();
    if ratio(o.peak, o.total) > 1.5 {
        issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
    }
    if ratio(o.active, o.allocated) > 1.1 && o.active - o.allocated > TEN_MB {
        issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
    }
    if ratio(o.resident, o.active) > 1.1 && o.resident - o.active > TEN_MB {
        issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
    }
    if ratio(o.rss, o.resident) > 1.1 && o.rss.saturating_sub(o.resident) > TEN_MB {
        issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
    }
    if o.cached_scripts > 1000 {
        issues.push(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n");
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    for i in issues {
        s.push_str(i);
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

fn memory_malloc_stats(ctx: &mut Ctx, _args: Args) {
    ctx.reply.verbatim(malloc_stats().as_bytes());
}

/// jemalloc's own report (malloc_stats_print), as Redis returns it.
fn malloc_stats() -> String {
    unsafe extern "C" fn append(out: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: `out` is the String passed below; jemalloc hands NUL-terminated text.
        let (out, text) = unsafe { (&mut *(out as *mut String), std::ffi::CStr::from_ptr(text)) };
        out.push_str(&text.to_string_lossy());
    }
    let mut out = String::new();
    // SAFETY: the callback only appends to `out`, which outlives the call.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            &mut out as *mut String as *mut std::ffi::c_void,
            std::ptr::null(),
        );
    }
    out
}

fn memory_purge(ctx: &mut Ctx, _args: Args) {
    crate::memory::alloc::purge();
    ctx.reply.ok();
}

fn memory_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
}

const ALL_SHARDS_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

pub static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, 0, 0, memory_doctor)
        .tips(ALL_SHARDS_TIPS)
        .doc("server", "4.0.0", "O(1)", "Outputs memory problems report."),
    CommandSpec::new("help", 2, LOADING | STALE, 0, memory_help).doc(
        "server",
        "4.0.0",
        "O(1)",
        "Show helpful text about the different subcommands.",
    ),
    CommandSpec::new("malloc-stats", 2, 0, 0, memory_malloc_stats)
        .tips(ALL_SHARDS_TIPS)
        .doc(
            "server",
            "4.0.0",
            "Depends on how much memory is allocated, could be slow",
            "Show allocator internal stats",
        ),
    CommandSpec::new("purge", 2, 0, 0, memory_purge)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            "server",
            "4.0.0",
            "Depends on how much memory is allocated, could be slow",
            "Ask the allocator to release memory",
        ),
    CommandSpec::new("stats", 2, 0, 0, memory_stats)
        .tips(ALL_SHARDS_TIPS)
        .doc("server", "4.0.0", "O(1)", "Show memory usage details"),
    CommandSpec::new("usage", -3, READONLY, 0, memory_usage)
        .keys(2, 2, 1)
        .doc(
            "server",
            "4.0.0",
            "O(N) where N is the number of samples.",
            "Estimate the memory usage of a key",
        ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn overhead(total: u64, peak: u64) -> Overhead {
        Overhead {
            peak,
            total,
            startup: 1 << 20,
            lua_caches: 0,
            functions_caches: 0,
            clients: 0,
            dbs: Vec::new(),
            overhead_total: 1 << 20,
            keys: 0,
            allocated: total,
            active: total,
            resident: total,
            rss: total,
            cached_scripts: 0,
        }
    }

    #[test]
    fn doctor_speaks_only_of_real_issues() {
        assert!(doctor_report(&overhead(1 << 20, 1 << 20)).contains("empty"));
        assert!(doctor_report(&overhead(64 << 20, 64 << 20)).contains("can't find any"));
        let peaked = doctor_report(&overhead(64 << 20, 128 << 20));
        assert!(peaked.contains("Peak memory"), "{peaked}");
    }

    #[test]
    fn malloc_stats_is_jemallocs_report() {
        // Unit tests run on the system allocator, but jemalloc is linked and reports itself.
        assert!(malloc_stats().contains("jemalloc statistics"));
    }
}
