//! Server commands: TIME, INFO, LASTSAVE, SHUTDOWN, DEBUG.

use std::sync::atomic::Ordering;

use super::{Ctx, SYNTAX_ERR, eq_ic};
use crate::config::Enablement;
use crate::protocol::Args;
use crate::server::pubsub::Message;
use crate::storage::stream::StreamId;
use crate::storage::{DbView, Value};
use crate::util::digest::{
    OBJ_HASH, OBJ_LIST, OBJ_SET, OBJ_STREAM, OBJ_STRING, OBJ_ZSET, dataset_digest_add,
    dataset_digest_db, digest_add_expire, digest_hex, mix_digest, object_digest_begin, xor_digest,
};
use crate::util::num::fmt_double_resp;

pub fn time(ctx: &mut Ctx, _args: Args) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.reply.array(2);
    ctx.reply.bulk_int(now.as_secs() as i64);
    ctx.reply.bulk_int(now.subsec_micros() as i64);
}

pub fn info(ctx: &mut Ctx, args: Args) {
    let sections: Vec<&[u8]> = args.iter().skip(1).collect();
    let text = crate::server::info::render(ctx.server, ctx.ks, &sections);
    ctx.reply.verbatim(text.as_bytes());
}

pub fn lastsave(ctx: &mut Ctx, _args: Args) {
    ctx.reply
        .int(ctx.server.last_save_unix.load(Ordering::Relaxed));
}

/// BGREWRITEAOF: a new base (and incremental file) in the background; scheduled while a
/// BGSAVE runs or inside MULTI/EXEC, as Redis does.
pub fn bgrewriteaof(ctx: &mut Ctx, _args: Args) {
    use crate::persistence::Job;
    use crate::persistence::aof::rewrite::start_background;
    const IN_PROGRESS: &str = "ERR Background append only file rewriting already in progress";
    let server = ctx.server;
    let schedule = || {
        server
            .aof
            .stats
            .rewrite_scheduled
            .store(true, Ordering::Release);
        server
            .aof
            .stats
            .rewrite_failures
            .store(0, Ordering::Relaxed);
    };
    let running = server.persistence.running();
    if running == Some(Job::Rewrite) {
        return ctx.reply.error(IN_PROGRESS);
    }
    if running.is_none() && !ctx.ks.locked.holds_all() {
        match start_background(server) {
            Ok(()) => {
                return ctx
                    .reply
                    .simple(b"Background append only file rewriting started");
            }
            Err(Job::Rewrite) => return ctx.reply.error(IN_PROGRESS),
            Err(Job::Save) => {}
        }
    }
    schedule();
    ctx.reply
        .simple(b"Background append only file rewriting scheduled")
}

pub fn shutdown(ctx: &mut Ctx, args: Args) {
    let (mut nosave, mut save, mut force) = (false, false, false);
    for a in args.iter().skip(1) {
        if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "force") {
            force = true;
        } else if eq_ic(a, "now") {
            // No replicas to wait for.
        } else if eq_ic(a, "abort") {
            return ctx.reply.error("ERR No shutdown in progress.");
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
    }
    if nosave && save {
        return ctx.reply.error(SYNTAX_ERR);
    }
    let wants_save = save || (!nosave && !ctx.server.config.read().save.is_empty());
    tracing::warn!("User requested shutdown...");
    if !crate::persistence::prepare_shutdown(ctx.server, wants_save, force) {
        return ctx
            .reply
            .error("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    ctx.server.request_shutdown();
    ctx.client.close_after_reply = true;
}

/// Redis's type ids, which DEBUG DIGEST mixes in.
fn type_id(v: &Value) -> u32 {
    match v {
        Value::Str(_) => OBJ_STRING,
        Value::List(_) => OBJ_LIST,
        Value::Hash(_) => OBJ_HASH,
        Value::Set(_) => OBJ_SET,
        Value::ZSet(_) => OBJ_ZSET,
        Value::Stream(_) => OBJ_STREAM,
    }
}

/// The digest of one value (Redis's xorObjectDigest): type, contents, and a marker if volatile.
fn value_digest(v: &Value, volatile: bool) -> [u8; 20] {
    let mut d = [0u8; 20];
    mix_value(&mut d, v, volatile);
    d
}

/// A key's share of DEBUG DIGEST: the key mixed first, then the value on top of that state.
fn key_value_digest(key: &[u8], v: &Value, volatile: bool) -> [u8; 20] {
    let mut d = [0u8; 20];
    mix_digest(&mut d, key);
    mix_value(&mut d, v, volatile);
    d
}

fn mix_value(d: &mut [u8; 20], v: &Value, volatile: bool) {
    object_digest_begin(d, type_id(v));
    match v {
        Value::Str(s) => {
            let mut scratch = itoa::Buffer::new();
            mix_digest(d, s.as_bytes(&mut scratch));
        }
        Value::List(l) => {
            let mut scratch = itoa::Buffer::new();
            for e in l.iter() {
                mix_digest(d, e.bytes(&mut scratch));
            }
        }
        // Hashes and sets are order-independent: each member (a hash's field mixed with its
        // value) is xored in.
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut pair = [0u8; 20];
                mix_digest(&mut pair, field);
                mix_digest(&mut pair, value);
                xor_digest(d, &pair);
            }
        }
        Value::Set(set) => {
            let mut scratch = itoa::Buffer::new();
            for e in set.iter() {
                xor_digest(d, e.bytes(&mut scratch));
            }
        }
        Value::ZSet(z) => {
            // Each element digests on its own (member, then "%.17g" score), xored in.
            let mut text = Vec::with_capacity(24);
            z.for_each(|member, score| {
                let mut element = [0u8; 20];
                mix_digest(&mut element, member);
                text.clear();
                fmt_double_resp(score, &mut text);
                mix_digest(&mut element, &text);
                xor_digest(d, &element);
            });
        }
        Value::Stream(s) => {
            // Each entry: "<ms>.<seq>", then its fields and values; groups are not digested.
            let mut id = Vec::with_capacity(41);
            for e in s.range(StreamId::ZERO, StreamId::MAX) {
                id.clear();
                id.extend_from_slice(itoa::Buffer::new().format(e.id.ms).as_bytes());
                id.push(b'.');
                id.extend_from_slice(itoa::Buffer::new().format(e.id.seq).as_bytes());
                mix_digest(d, &id);
                for (field, value) in e.fields() {
                    mix_digest(d, field);
                    mix_digest(d, value);
                }
            }
        }
    }
    if volatile {
        digest_add_expire(d);
    }
}

/// DEBUG DIGEST: the same dataset gives the same digest here and in redis-server.
fn dataset_digest(ks: &mut DbView) -> [u8; 20] {
    let mut total = [0u8; 20];
    let now = ks.now_ms;
    for db in 0..ks.keyspace.databases() {
        let mut any = false;
        let mut acc = [0u8; 20];
        for shard in ks.locked.shards_mut() {
            let d = shard.db(db);
            for e in d.entries() {
                let expire = d.expire_of(e);
                if expire.is_some_and(|t| t <= now) {
                    continue;
                }
                any = true;
                let kd = key_value_digest(e.key(), &e.value, expire.is_some());
                dataset_digest_add(&mut acc, &kd);
            }
        }
        if any {
            // Redis mixes the db id into the running digest, then xors each key in.
            dataset_digest_db(&mut total, db as u32);
            for (a, b) in total.iter_mut().zip(acc.iter()) {
                *a ^= b;
            }
        }
    }
    total
}

pub fn debug(ctx: &mut Ctx, args: Args) {
    let allowed = match ctx.server.config.read().enable_debug_command {
        Enablement::Yes => true,
        Enablement::Local => ctx.client.is_local(),
        Enablement::No => false,
    };
    if !allowed {
        return ctx.reply.error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
    }
    let sub = args.get(1);
    let argc = args.len();
    if eq_ic(sub, "digest") && argc == 2 {
        let d = dataset_digest(ctx.ks);
        ctx.reply.simple(digest_hex(&d).as_bytes());
    } else if eq_ic(sub, "digest-value") {
        ctx.reply.array(args.len() - 2);
        for key in args.iter().skip(2) {
            let d = ctx
                .ks
                .peek(key)
                .map(|e| value_digest(&e.value, e.is_volatile()))
                .unwrap_or([0u8; 20]);
            ctx.reply.simple(digest_hex(&d).as_bytes());
        }
    } else if eq_ic(sub, "sleep") && argc == 3 {
        let secs: f64 = std::str::from_utf8(args.get(2))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0.0);
        if secs > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        }
        ctx.reply.ok();
    } else if eq_ic(sub, "set-active-expire") && argc == 3 {
        let on = args.get(2) != b"0";
        ctx.server
            .active_expire_enabled
            .store(on, Ordering::Relaxed);
        ctx.reply.ok();
    } else if eq_ic(sub, "aof-fsync-delay") && argc == 3 {
        // ferrodis's own test hook (Redis has test-only DEBUG subcommands too): a stalled disk
        // without root tricks, to check aof_delayed_fsync and that clients are not held up.
        match crate::util::num::parse_i64(args.get(2)) {
            Some(ms) if ms >= 0 => {
                ctx.server
                    .aof
                    .fsync_delay_ms
                    .store(ms as u64, Ordering::Relaxed);
                ctx.reply.ok();
            }
            _ => ctx
                .reply
                .error("ERR value is out of range, must be positive"),
        }
    } else if eq_ic(sub, "object") && argc == 3 {
        let clock = ctx.server.lru_clock();
        match ctx.ks.peek(args.get(2)) {
            None => ctx.reply.error("ERR no such key"),
            Some(e) => {
                let line = format!(
                    "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                    &e.value,
                    e.value.encoding(),
                    e.value.serialized_len_estimate(),
                    e.access(),
                    clock.saturating_sub(e.access())
                );
                ctx.reply.simple(line.as_bytes());
            }
        }
    } else if eq_ic(sub, "protocol") && argc == 3 {
        debug_protocol(ctx, args.get(2));
    } else if eq_ic(sub, "reload") {
        debug_reload(ctx, &args);
    } else if eq_ic(sub, "populate") && (3..=5).contains(&argc) {
        debug_populate(ctx, &args);
    } else if eq_ic(sub, "help") && argc == 2 {
        super::reply_help(
            ctx.reply,
            "DEBUG",
            &[
                "AOF-FSYNC-DELAY <milliseconds>",
                "    (ferrodis) Make every background AOF fsync wait this long first, as a",
                "    stalled disk would; 0 turns it off. For tests.",
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type. <type> can be: string,",
                "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                "    true, false.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception and kill the server.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "    Examples:",
                "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                "      the database.",
                "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                "      existing RDB file.",
                "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                "      file to the database.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
    } else {
        ctx.reply.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&sub[..sub.len().min(128)])
        ));
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE].
fn debug_reload(ctx: &mut Ctx, args: &Args) {
    let mut opts = crate::persistence::ReloadOptions {
        save: true,
        flush: true,
        merge: false,
    };
    for a in args.iter().skip(2) {
        if eq_ic(a, "merge") {
            opts.merge = true;
        } else if eq_ic(a, "noflush") {
            opts.flush = false;
        } else if eq_ic(a, "nosave") {
            opts.save = false;
        } else {
            return ctx
                .reply
                .error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
        }
    }
    match crate::persistence::debug_reload(ctx.server, ctx.ks, opts) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => ctx.reply.error(&e),
    }
}

/// DEBUG POPULATE count [prefix] [size]: keys "<prefix>:<n>" holding "value:<n>" (cut or
/// zero-padded to `size` bytes), skipping keys that exist, in the selected database.
fn debug_populate(ctx: &mut Ctx, args: &Args) {
    let Some(count) = crate::util::num::parse_i64(args.get(2)).filter(|n| *n >= 0) else {
        return ctx
            .reply
            .error("ERR value is out of range, must be positive");
    };
    let prefix = if args.len() > 3 { args.get(3) } else { b"key" };
    let size = match args.len() > 4 {
        true => match crate::util::num::parse_i64(args.get(4)).filter(|n| *n >= 0) {
            Some(n) => Some(n as usize),
            None => {
                return ctx
                    .reply
                    .error("ERR value is out of range, must be positive");
            }
        },
        false => None,
    };
    let mut key = Vec::new();
    let mut num = itoa::Buffer::new();
    for j in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(num.format(j).as_bytes());
        if ctx.ks.get_write(&key).is_some() {
            continue;
        }
        let mut value = b"value:".to_vec();
        value.extend_from_slice(num.format(j).as_bytes());
        if let Some(n) = size {
            value.resize(n, 0);
        }
        ctx.ks.set(
            &key,
            Value::Str(crate::storage::StrValue::from_bytes(&value)),
            0,
        );
    }
    ctx.reply.ok();
}

/// DEBUG PROTOCOL <type>: a sample reply of each RESP3 type, as Redis sends them.
fn debug_protocol(ctx: &mut Ctx, kind: &[u8]) {
    let r = &mut *ctx.reply;
    let name = String::from_utf8_lossy(kind).to_ascii_lowercase();
    match name.as_str() {
        "string" => r.bulk(b"Hello World"),
        "integer" => r.int(12345),
        // Redis's own sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        "double" => r.double(3.141),
        "bignum" => r.big_number(b"1234567999999999999999999999999999999"),
        "null" => r.null(),
        "array" | "set" => {
            if name == "array" {
                r.array(3);
            } else {
                r.set(3);
            }
            for i in 0..3 {
                r.int(i);
            }
        }
        "map" => {
            r.map(3);
            for i in 0..3 {
                r.int(i);
                r.bool(i == 1);
            }
        }
        "attrib" => {
            if r.is_resp3() {
                r.attribute(1);
                r.bulk(b"key-popularity");
                r.array(2);
                r.bulk(b"key:123");
                r.int(90);
            }
            r.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !r.is_resp3() {
                return r.error("ERR RESP2 is not supported by this command");
            }
            r.push(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            r.bulk(b"Some real reply following the push reply");
        }
        "verbatim" => r.verbatim(b"This is a verbatim\nstring"),
        "true" => r.bool(true),
        "false" => r.bool(false),
        _ => r.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

pub fn monitor(ctx: &mut Ctx, _args: Args) {
    let mailbox = ctx.client.mailbox();
    let mut monitors = ctx.server.monitors.lock();
    if !monitors.iter().any(|m| m.info.id == mailbox.info.id) {
        mailbox.info.monitor.store(true, Ordering::Relaxed);
        monitors.push(mailbox);
        ctx.server
            .monitor_count
            .store(monitors.len(), Ordering::Relaxed);
    }
    ctx.reply.ok();
}

/// Sends an executed command to the MONITOR clients, in Redis's line format.
pub fn feed_monitors(ctx: &Ctx, args: &Args) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Commands called by scripts come from Redis's Lua client, shown as "lua".
    let origin = if ctx.client.in_script {
        "lua"
    } else {
        &ctx.client.info.addr
    };
    let mut line = format!(
        "{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        ctx.ks.db,
        origin
    );
    for (i, a) in args.iter().enumerate() {
        line.push(' ');
        if super::slowlog::is_redacted(args, i) {
            line.push_str("\"(redacted)\"");
        } else {
            line.push_str(&crate::util::repr(a));
        }
    }
    let line: std::sync::Arc<[u8]> = line.into_bytes().into();
    // MONITOR clients are limited as normal clients, as in Redis.
    let limits = ctx.server.normal_limits();
    for m in ctx.server.monitors.lock().iter() {
        m.deliver(Message::Monitor(line.clone()), limits);
    }
}
