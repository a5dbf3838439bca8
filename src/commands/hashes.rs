//! Hash commands (t_hash.c): HSET and friends, counters, HRANDFIELD, HSCAN.

use super::keys::{parse_cursor, parse_scan_opts};
use super::{
    Ctx, NOT_FLOAT, Replied, SYNTAX_ERR, arg_i64, create_typed, eq_ic, read_typed, remove_if_empty,
    write_typed,
};
use crate::protocol::{Args, Reply};
use crate::server::notify;
use crate::storage::Value;
use crate::util::num;

fn new_hash() -> Value {
    Value::Hash(crate::storage::HashValue::default())
}

fn hset_generic(ctx: &mut Ctx, args: Args, name: &str) {
    if args.len() % 2 == 1 {
        return ctx.reply.error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
    }
    let key = args.get(1);
    let limits = ctx.server.hot.encoding_limits();
    let Ok(h) = create_typed(ctx.ks, ctx.reply, key, Value::as_hash, new_hash) else {
        return;
    };
    let mut created = 0;
    for i in (2..args.len()).step_by(2) {
        created += h.set(args.get(i), args.get(i + 1), &limits) as i64;
    }
    ctx.ks.mark_dirty(key, (args.len() as u64 - 2) / 2);
    ctx.ks.notify(notify::HASH, "hset", key);
    if name == "hset" {
        ctx.reply.int(created);
    } else {
        ctx.reply.ok();
    }
}

pub fn hset(ctx: &mut Ctx, args: Args) {
    hset_generic(ctx, args, "hset");
}

pub fn hmset(ctx: &mut Ctx, args: Args) {
    hset_generic(ctx, args, "hmset");
}

pub fn hsetnx(ctx: &mut Ctx, args: Args) {
    let (key, field) = (args.get(1), args.get(2));
    let limits = ctx.server.hot.encoding_limits();
    let Ok(h) = create_typed(ctx.ks, ctx.reply, key, Value::as_hash, new_hash) else {
        return;
    };
    if h.contains(field) {
        return ctx.reply.int(0);
    }
    h.set(field, args.get(3), &limits);
    ctx.ks.mark_dirty(key, 1);
    ctx.ks.notify(notify::HASH, "hset", key);
    ctx.reply.int(1);
}

pub fn hget(ctx: &mut Ctx, args: Args) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        ctx.reply.bulk_or_null(h.and_then(|h| h.get(args.get(2))));
    }
}

pub fn hmget(ctx: &mut Ctx, args: Args) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        ctx.reply.array(args.len() - 2);
        for field in args.iter().skip(2) {
            ctx.reply
                .bulk_or_null(h.as_ref().and_then(|h| h.get(field)));
        }
    }
}

pub fn hgetall(ctx: &mut Ctx, args: Args) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        let Some(h) = h else {
            return ctx.reply.map(0);
        };
        ctx.reply.map(h.len());
        for (field, value) in h.iter() {
            ctx.reply.bulk(field);
            ctx.reply.bulk(value);
        }
    }
}

/// HKEYS (values: false) and HVALS (values: true).
fn hkeys_or_vals(ctx: &mut Ctx, args: Args, values: bool) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        let Some(h) = h else {
            return ctx.reply.array(0);
        };
        ctx.reply.array(h.len());
        for (field, value) in h.iter() {
            ctx.reply.bulk(if values { value } else { field });
        }
    }
}

pub fn hkeys(ctx: &mut Ctx, args: Args) {
    hkeys_or_vals(ctx, args, false);
}

pub fn hvals(ctx: &mut Ctx, args: Args) {
    hkeys_or_vals(ctx, args, true);
}

pub fn hlen(ctx: &mut Ctx, args: Args) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        ctx.reply.int(h.map_or(0, |h| h.len() as i64));
    }
}

pub fn hexists(ctx: &mut Ctx, args: Args) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        ctx.reply
            .int(h.is_some_and(|h| h.contains(args.get(2))) as i64);
    }
}

pub fn hstrlen(ctx: &mut Ctx, args: Args) {
    if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        let len = h.and_then(|h| h.get(args.get(2))).map_or(0, <[u8]>::len);
        ctx.reply.int(len as i64);
    }
}

pub fn hdel(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let h = match write_typed(ctx.ks, ctx.reply, key, Value::as_hash) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(h)) => h,
    };
    let mut deleted = 0;
    for field in args.iter().skip(2) {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let empty = h.is_empty();
    if deleted > 0 {
        ctx.ks.mark_dirty(key, deleted as u64);
        ctx.ks.notify(notify::HASH, "hdel", key);
        remove_if_empty(ctx.ks, key, empty);
    }
    ctx.reply.int(deleted);
}

pub fn hincrby(ctx: &mut Ctx, args: Args) {
    let (key, field) = (args.get(1), args.get(2));
    let Some(incr) = arg_i64(ctx, args.get(3)) else {
        return;
    };
    let limits = ctx.server.hot.encoding_limits();
    let Ok(h) = create_typed(ctx.ks, ctx.reply, key, Value::as_hash, new_hash) else {
        return;
    };
    let current = match h.get(field) {
        None => 0,
        Some(v) => match num::parse_i64(v) {
            Some(n) => n,
            None => return ctx.reply.error("ERR hash value is not an integer"),
        },
    };
    let Some(new) = current.checked_add(incr) else {
        return ctx.reply.error("ERR increment or decrement would overflow");
    };
    h.set(field, itoa::Buffer::new().format(new).as_bytes(), &limits);
    ctx.ks.mark_dirty(key, 1);
    ctx.ks.notify(notify::HASH, "hincrby", key);
    ctx.reply.int(new);
}

pub fn hincrbyfloat(ctx: &mut Ctx, args: Args) {
    let (key, field, incr) = (args.get(1), args.get(2), args.get(3));
    match num::long_double_is_finite(incr) {
        None => return ctx.reply.error(NOT_FLOAT),
        Some(false) => return ctx.reply.error("ERR value is NaN or Infinity"),
        Some(true) => {}
    }
    let limits = ctx.server.hot.encoding_limits();
    let Ok(h) = create_typed(ctx.ks, ctx.reply, key, Value::as_hash, new_hash) else {
        return;
    };
    let current = h.get(field).unwrap_or(b"0");
    if num::long_double_is_finite(current).is_none() {
        return ctx.reply.error("ERR hash value is not a float");
    }
    let mut text = Vec::with_capacity(32);
    if num::incrbyfloat(current, incr, &mut text).is_err() {
        return ctx
            .reply
            .error("ERR increment would produce NaN or Infinity");
    }
    h.set(field, &text, &limits);
    ctx.ks.mark_dirty(key, 1);
    ctx.propagate(&[b"HSET", key, field, &text]);
    ctx.ks.notify(notify::HASH, "hincrbyfloat", key);
    ctx.reply.bulk(&text);
}

/// One HRANDFIELD result: the field, and its value WITHVALUES (a pair in RESP3).
fn reply_field(reply: &mut Reply, (field, value): (&[u8], &[u8]), with_values: bool) {
    if with_values && reply.is_resp3() {
        reply.array(2);
    }
    reply.bulk(field);
    if with_values {
        reply.bulk(value);
    }
}

/// The reply header for `n` HRANDFIELD results (flat field/value pairs in RESP2).
fn reply_fields_header(reply: &mut Reply, n: usize, with_values: bool) {
    let flat = with_values && !reply.is_resp3();
    reply.array(if flat { n * 2 } else { n });
}

pub fn hrandfield(ctx: &mut Ctx, args: Args) {
    if args.len() == 2 {
        if let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
            match h {
                Some(h) => ctx.reply.bulk(h.random().0),
                None => ctx.reply.null(),
            }
        }
        return;
    }
    let Some(count) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    if count == i64::MIN {
        return ctx.reply.error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    if args.len() > 4 || (args.len() == 4 && !eq_ic(args.get(3), "withvalues")) {
        return ctx.reply.error(SYNTAX_ERR);
    }
    let with_values = args.len() == 4;
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return ctx.reply.error("ERR value is out of range");
    }
    let Ok(h) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) else {
        return;
    };
    let Some(h) = h else {
        return ctx.reply.array(0);
    };
    let reply = &mut *ctx.reply;
    if count < 0 {
        // Negative counts may repeat fields.
        let n = count.unsigned_abs() as usize;
        reply_fields_header(reply, n, with_values);
        for _ in 0..n {
            reply_field(reply, h.random(), with_values);
        }
    } else if count as usize >= h.len() {
        reply_fields_header(reply, h.len(), with_values);
        for pair in h.iter() {
            reply_field(reply, pair, with_values);
        }
    } else {
        let picked = h.sample(count as usize);
        reply_fields_header(reply, picked.len(), with_values);
        for pair in picked {
            reply_field(reply, pair, with_values);
        }
    }
}

pub fn hscan(ctx: &mut Ctx, args: Args) {
    let Some(cursor) = parse_cursor(args.get(2)) else {
        return ctx.reply.error("ERR invalid cursor");
    };
    // As Redis, the key is looked up before the options are checked.
    let h = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_hash) {
        Err(Replied) => return,
        Ok(None) => {
            ctx.reply.array(2);
            ctx.reply.bulk(b"0");
            return ctx.reply.array(0);
        }
        Ok(Some(h)) => h,
    };
    let Some(opts) = parse_scan_opts(ctx.reply, &args, 3, false) else {
        return;
    };
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, opts.count, |f, v| {
        if opts.matches(f) {
            found.push((f, v));
        }
    });
    ctx.reply.array(2);
    ctx.reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.reply.array(found.len() * 2);
    for (f, v) in found {
        ctx.reply.bulk(f);
        ctx.reply.bulk(v);
    }
}
