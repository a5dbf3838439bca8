//! Generic key commands (db.c, expire.c, object.c): existence, renaming, copying, expiry,
//! iteration and database selection.

use super::table::{CAT_KEYSPACE, CommandSpec, LOADING, READONLY, STALE};
use super::{Ctx, NOT_INT, SYNTAX_ERR, arg_i64, eq_ic, reply_help};
use crate::protocol::{Args, Reply};
use crate::server::notify;
use crate::storage::Value;
use crate::storage::access::{AccessClock, lfu_decayed};
use crate::util::glob::glob_match;
use crate::util::num::parse_i64;

pub fn del(ctx: &mut Ctx, args: Args) {
    let mut n = 0;
    for key in args.iter().skip(1) {
        if ctx.ks.remove(key).is_some() {
            ctx.ks.notify(notify::GENERIC, "del", key);
            n += 1;
        }
    }
    ctx.reply.int(n);
}

pub fn exists(ctx: &mut Ctx, args: Args) {
    let n = args
        .iter()
        .skip(1)
        .filter(|k| ctx.ks.get_read(k).is_some())
        .count();
    ctx.reply.int(n as i64);
}

pub fn touch(ctx: &mut Ctx, args: Args) {
    exists(ctx, args);
}

pub fn type_cmd(ctx: &mut Ctx, args: Args) {
    let t = ctx
        .ks
        .peek(args.get(1))
        .map_or("none", |e| e.value.type_name());
    ctx.reply.simple(t.as_bytes());
}

fn rename_generic(ctx: &mut Ctx, args: Args, nx: bool) {
    let (from, to) = (args.get(1), args.get(2));
    if ctx.ks.get_write(from).is_none() {
        ctx.reply.error("ERR no such key");
        return;
    }
    if from == to {
        if nx {
            ctx.reply.int(0);
        } else {
            ctx.reply.ok();
        }
        return;
    }
    if nx && ctx.ks.get_write(to).is_some() {
        ctx.reply.int(0);
        return;
    }
    let ttl = ctx.ks.expire_of(from).unwrap_or(0);
    let Some(e) = ctx.ks.remove(from) else {
        return;
    };
    // Like Redis, an overwritten destination is deleted first, so the key is new again.
    ctx.ks.remove(to);
    ctx.ks.set(to, e.into_value(), ttl);
    ctx.ks.notify(notify::GENERIC, "rename_from", from);
    ctx.ks.notify(notify::GENERIC, "rename_to", to);
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
}

pub fn rename(ctx: &mut Ctx, args: Args) {
    rename_generic(ctx, args, false);
}

pub fn renamenx(ctx: &mut Ctx, args: Args) {
    rename_generic(ctx, args, true);
}

/// Parses a database index argument: Err(message) with Redis's text for each failure.
fn parse_db(ctx: &Ctx, a: &[u8], not_int: &'static str) -> Result<usize, &'static str> {
    let n = crate::util::num::parse_i64(a);
    match n {
        None => Err(not_int),
        Some(v) if v < i32::MIN as i64 || v > i32::MAX as i64 => Err(if not_int == NOT_INT {
            "ERR value is out of range, value must between -2147483648 and 2147483647"
        } else {
            not_int
        }),
        Some(v) if v < 0 || v as usize >= ctx.ks.keyspace.databases() => {
            Err("ERR DB index is out of range")
        }
        Some(v) => Ok(v as usize),
    }
}

pub fn copy(ctx: &mut Ctx, args: Args) {
    let (src, dst) = (args.get(1), args.get(2));
    let mut replace = false;
    let mut dst_db = ctx.ks.db;
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "db") && j + 1 < args.len() {
            match parse_db(ctx, args.get(j + 1), NOT_INT) {
                Ok(db) => dst_db = db,
                Err(e) => return ctx.reply.error(e),
            }
            j += 1;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 1;
    }
    if dst_db == ctx.ks.db && src == dst {
        return ctx
            .reply
            .error("ERR source and destination objects are the same");
    }
    let Some((value, ttl)) = ctx
        .ks
        .get_read(src)
        .map(|e| e.value.clone())
        .map(|value| (value, ctx.ks.expire_of(src).unwrap_or(0)))
    else {
        return ctx.reply.int(0);
    };
    if ctx.ks.get_in(dst_db, dst).is_some() {
        if !replace {
            return ctx.reply.int(0);
        }
        ctx.ks.remove_in(dst_db, dst);
    }
    ctx.ks.set_in(dst_db, dst, value, ttl);
    ctx.ks.notify_in(dst_db, notify::GENERIC, "copy_to", dst);
    ctx.reply.int(1);
}

pub fn move_cmd(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let dst = match parse_db(ctx, args.get(2), NOT_INT) {
        Ok(db) => db,
        Err(e) => return ctx.reply.error(e),
    };
    if dst == ctx.ks.db {
        return ctx
            .reply
            .error("ERR source and destination objects are the same");
    }
    if ctx.ks.get_write(key).is_none() || ctx.ks.get_in(dst, key).is_some() {
        return ctx.reply.int(0);
    }
    let ttl = ctx.ks.expire_of(key).unwrap_or(0);
    let Some(e) = ctx.ks.remove(key) else {
        return ctx.reply.int(0);
    };
    ctx.ks.set_in(dst, key, e.into_value(), ttl);
    ctx.ks.notify(notify::GENERIC, "move_from", key);
    ctx.ks.notify_in(dst, notify::GENERIC, "move_to", key);
    ctx.reply.int(1);
}

pub fn keys(ctx: &mut Ctx, args: Args) {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let mut found: Vec<Vec<u8>> = Vec::new();
    ctx.ks.for_each_key(|e| {
        if all || glob_match(pattern, e.key(), false) {
            found.push(e.key().to_vec());
        }
    });
    ctx.reply.array(found.len());
    for k in &found {
        ctx.reply.bulk(k);
    }
}

/// SCAN's cursor: strtoul semantics, as Redis parses it.
pub fn parse_cursor(a: &[u8]) -> Option<u64> {
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The options of the SCAN family: COUNT and MATCH, and TYPE for SCAN itself.
pub struct ScanOpts<'a> {
    pub count: usize,
    /// None for no pattern (or "*", which matches everything).
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

impl ScanOpts<'_> {
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, item, false))
    }
}

/// Parses the options from argument `from` on; replies with Redis's error on a bad one.
pub fn parse_scan_opts<'a>(
    reply: &mut Reply,
    args: &Args<'a>,
    from: usize,
    allow_type: bool,
) -> Option<ScanOpts<'a>> {
    let mut opts = ScanOpts {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut i = from;
    while i < args.len() {
        let rest = args.len() - i;
        let a = args.get(i);
        if eq_ic(a, "count") && rest >= 2 {
            let Some(c) = parse_i64(args.get(i + 1)) else {
                reply.error(NOT_INT);
                return None;
            };
            if c < 1 {
                reply.error(SYNTAX_ERR);
                return None;
            }
            opts.count = usize::try_from(c).unwrap_or(usize::MAX);
        } else if eq_ic(a, "match") && rest >= 2 {
            let p = args.get(i + 1);
            opts.pattern = (p != b"*").then_some(p);
        } else if allow_type && eq_ic(a, "type") && rest >= 2 {
            opts.type_name = Some(args.get(i + 1));
        } else {
            reply.error(SYNTAX_ERR);
            return None;
        }
        i += 2;
    }
    Some(opts)
}

pub fn scan(ctx: &mut Ctx, args: Args) {
    let Some(cursor) = parse_cursor(args.get(1)) else {
        return ctx.reply.error("ERR invalid cursor");
    };
    let Some(opts) = parse_scan_opts(ctx.reply, &args, 2, true) else {
        return;
    };
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut visited = 0usize;
    let next = ctx.ks.scan(cursor, |e| {
        visited += 1;
        let type_ok = opts
            .type_name
            .is_none_or(|t| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()));
        if type_ok && opts.matches(e.key()) {
            found.push(e.key().to_vec());
        }
        visited < opts.count
    });
    ctx.reply.array(2);
    ctx.reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.reply.array(found.len());
    for k in &found {
        ctx.reply.bulk(k);
    }
}

pub fn randomkey(ctx: &mut Ctx, _args: Args) {
    match ctx.ks.random_key() {
        Some(k) => ctx.reply.bulk(&k),
        None => ctx.reply.null(),
    }
}

pub fn dbsize(ctx: &mut Ctx, _args: Args) {
    let n = ctx.ks.dbsize();
    ctx.reply.int(n as i64);
}

#[derive(Clone, Copy, PartialEq)]
enum ExpireUnit {
    Seconds,
    Millis,
}

fn expire_generic(ctx: &mut Ctx, args: Args, unit: ExpireUnit, absolute: bool) {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in args.iter().skip(3) {
        if eq_ic(a, "nx") {
            nx = true;
        } else if eq_ic(a, "xx") {
            xx = true;
        } else if eq_ic(a, "gt") {
            gt = true;
        } else if eq_ic(a, "lt") {
            lt = true;
        } else {
            return ctx.reply.error(&format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            ));
        }
    }
    if nx && (xx || gt || lt) {
        return ctx
            .reply
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return ctx
            .reply
            .error("ERR GT and LT options at the same time are not compatible");
    }
    let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
    let Some(mut when) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    if unit == ExpireUnit::Seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return ctx
                .reply
                .error(&format!("ERR invalid expire time in '{name}' command"));
        }
        when *= 1000;
    }
    let base = if absolute { 0 } else { ctx.ks.now_ms };
    if when > i64::MAX - base {
        return ctx
            .reply
            .error(&format!("ERR invalid expire time in '{name}' command"));
    }
    when += base;
    let key = args.get(1);
    let Some(current) = ctx.ks.live_expiry(key, false) else {
        return ctx.reply.int(0);
    };
    let rejected = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if rejected {
        return ctx.reply.int(0);
    }
    if when <= ctx.ks.now_ms {
        ctx.ks.remove(key);
        ctx.ks.notify(notify::GENERIC, "del", key);
        ctx.propagate(&[b"DEL", key]);
    } else {
        ctx.ks.set_expire(key, when);
        ctx.ks.notify(notify::GENERIC, "expire", key);
        // As Redis: an absolute time in milliseconds, the options kept; PEXPIREAT as sent.
        if !(absolute && unit == ExpireUnit::Millis) && ctx.propagating() {
            let options: Vec<&[u8]> = args.iter().skip(3).collect();
            ctx.propagate_pexpireat(key, when, &options);
        }
    }
    ctx.reply.int(1);
}

pub fn expire(ctx: &mut Ctx, args: Args) {
    expire_generic(ctx, args, ExpireUnit::Seconds, false);
}

pub fn pexpire(ctx: &mut Ctx, args: Args) {
    expire_generic(ctx, args, ExpireUnit::Millis, false);
}

pub fn expireat(ctx: &mut Ctx, args: Args) {
    expire_generic(ctx, args, ExpireUnit::Seconds, true);
}

pub fn pexpireat(ctx: &mut Ctx, args: Args) {
    expire_generic(ctx, args, ExpireUnit::Millis, true);
}

fn ttl_generic(ctx: &mut Ctx, args: Args, millis: bool, absolute: bool) {
    let now = ctx.ks.now_ms;
    let key = args.get(1);
    let Some(exp) = ctx.ks.live_expiry(key, true) else {
        return ctx.reply.int(-2);
    };
    match exp {
        None => ctx.reply.int(-1),
        Some(at) => {
            let t = if absolute { at } else { (at - now).max(0) };
            // Redis rounds in 64 bits and lets a far-future time wrap.
            ctx.reply.int(if millis {
                t
            } else {
                t.wrapping_add(500) / 1000
            });
        }
    }
}

pub fn ttl(ctx: &mut Ctx, args: Args) {
    ttl_generic(ctx, args, false, false);
}

pub fn pttl(ctx: &mut Ctx, args: Args) {
    ttl_generic(ctx, args, true, false);
}

pub fn expiretime(ctx: &mut Ctx, args: Args) {
    ttl_generic(ctx, args, false, true);
}

pub fn pexpiretime(ctx: &mut Ctx, args: Args) {
    ttl_generic(ctx, args, true, true);
}

pub fn persist(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    match ctx.ks.live_expiry(key, false) {
        Some(Some(_)) => {
            ctx.ks.set_expire(key, 0);
            ctx.ks.notify(notify::GENERIC, "persist", key);
            ctx.reply.int(1);
        }
        _ => ctx.reply.int(0),
    }
}

pub fn select(ctx: &mut Ctx, args: Args) {
    match parse_db(ctx, args.get(1), NOT_INT) {
        Ok(db) => {
            ctx.client.select(db);
            ctx.ks.db = db;
            ctx.reply.ok();
        }
        Err(e) => ctx.reply.error(e),
    }
}

pub fn swapdb(ctx: &mut Ctx, args: Args) {
    let a = match parse_db(ctx, args.get(1), "ERR invalid first DB index") {
        Ok(a) => a,
        Err(e) => return ctx.reply.error(e),
    };
    let b = match parse_db(ctx, args.get(2), "ERR invalid second DB index") {
        Ok(b) => b,
        Err(e) => return ctx.reply.error(e),
    };
    ctx.ks.swap_dbs(a, b);
    ctx.reply.ok();
}

/// FLUSHDB/FLUSHALL's optional SYNC|ASYNC (both free memory at once here; see DESIGN.md).
fn flush_mode_ok(ctx: &mut Ctx, args: &Args) -> bool {
    if args.len() > 2
        || (args.len() == 2 && !eq_ic(args.get(1), "sync") && !eq_ic(args.get(1), "async"))
    {
        ctx.reply.error(SYNTAX_ERR);
        return false;
    }
    true
}

pub fn flushdb(ctx: &mut Ctx, args: Args) {
    if flush_mode_ok(ctx, &args) {
        let db = ctx.ks.db;
        ctx.ks.flush(Some(db));
        invalidate_tracking_on_flush(ctx);
        ctx.reply.ok();
    }
}

pub fn flushall(ctx: &mut Ctx, args: Args) {
    if flush_mode_ok(ctx, &args) {
        ctx.server.persistence.abort_bgsave();
        ctx.ks.flush(None);
        invalidate_tracking_on_flush(ctx);
        crate::persistence::flushall_save(ctx.server, &ctx.ks.all_shards());
        ctx.reply.ok();
    }
}

/// Tracking clients drop their whole cache on a flush (Redis sends them a null invalidation).
fn invalidate_tracking_on_flush(ctx: &mut Ctx) {
    if ctx.server.tracking.active() {
        ctx.server
            .tracking
            .invalidate_all(ctx.server, ctx.server.pubsub_limits());
    }
}

/// Redis shares the integers 0..9999 between keys (OBJ_SHARED_INTEGERS) and reports them with
/// this refcount, unless an LRU/LFU policy needs per-key access data.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
const SHARED_INTEGERS: i64 = 10000;

pub fn object_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
}

fn object_encoding(ctx: &mut Ctx, args: Args) {
    match ctx.ks.peek(args.get(2)) {
        Some(e) => {
            let enc = e.value.encoding();
            ctx.reply.bulk(enc.as_bytes());
        }
        None => ctx.reply.null(),
    }
}

fn object_refcount(ctx: &mut Ctx, args: Args) {
    let shared_ok = {
        let cfg = ctx.server.config.read();
        // Redis stops sharing integers when a policy needs per-key access data.
        !(cfg.maxmemory > 0 && (cfg.maxmemory_policy.is_lru() || cfg.maxmemory_policy.is_lfu()))
    };
    match ctx.ks.peek(args.get(2)).map(|e| &e.value) {
        Some(Value::Str(s))
            if shared_ok
                && s.int_encoded()
                    .is_some_and(|n| (0..SHARED_INTEGERS).contains(&n)) =>
        {
            ctx.reply.int(SHARED_REFCOUNT)
        }
        Some(_) => ctx.reply.int(1),
        None => ctx.reply.null(),
    }
}

fn object_idletime(ctx: &mut Ctx, args: Args) {
    let clock = ctx.server.lru_clock();
    let Some(access) = ctx.ks.peek(args.get(2)).map(|e| e.access()) else {
        return ctx.reply.null();
    };
    if let AccessClock::Lfu { .. } = ctx.ks.clock {
        return ctx.reply.error("ERR An LRU maxmemory policy is not selected, access time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    ctx.reply.int(clock.saturating_sub(access) as i64);
}

fn object_freq(ctx: &mut Ctx, args: Args) {
    let Some(access) = ctx.ks.peek(args.get(2)).map(|e| e.access()) else {
        return ctx.reply.null();
    };
    let AccessClock::Lfu {
        minutes,
        decay_minutes,
        ..
    } = ctx.ks.clock
    else {
        return ctx.reply.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    };
    ctx.reply
        .int(lfu_decayed(access, minutes, decay_minutes) as i64);
}

pub static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, READONLY, CAT_KEYSPACE, object_encoding)
        .keys(2, 2, 1)
        .doc(
            "generic",
            "2.2.3",
            "O(1)",
            "Returns the internal encoding of a Redis object.",
        ),
    CommandSpec::new("freq", 3, READONLY, CAT_KEYSPACE, object_freq)
        .keys(2, 2, 1)
        .doc(
            "generic",
            "4.0.0",
            "O(1)",
            "Returns the logarithmic access frequency counter of a Redis object.",
        ),
    CommandSpec::new("idletime", 3, READONLY, CAT_KEYSPACE, object_idletime)
        .keys(2, 2, 1)
        .doc(
            "generic",
            "2.2.3",
            "O(1)",
            "Returns the time since the last access to a Redis object.",
        ),
    CommandSpec::new("refcount", 3, READONLY, CAT_KEYSPACE, object_refcount)
        .keys(2, 2, 1)
        .doc(
            "generic",
            "2.2.3",
            "O(1)",
            "Returns the reference count of a value of a key.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, CAT_KEYSPACE, object_help).doc(
        "generic",
        "6.2.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];
