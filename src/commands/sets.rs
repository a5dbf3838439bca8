//! Set commands (t_set.c): membership, random members, moves, and the set algebra with its
//! *STORE variants.

use std::ops::Range;

use super::keys::{parse_cursor, parse_scan_opts};
use super::{
    Ctx, Replied, SYNTAX_ERR, WRONGTYPE, arg_i64, create_typed, eq_ic, read_typed, remove_if_empty,
    reply_elem, write_typed,
};
use crate::protocol::{Args, Reply};
use crate::server::notify;
use crate::storage::set::{self, Elem};
use crate::storage::{DbView, SetValue, Value};
use crate::util::num::parse_i64;

/// A set reply with every member of `s`, in its order.
fn reply_members(reply: &mut Reply, s: &SetValue) {
    reply.set(s.len());
    for e in s.iter() {
        reply_elem(reply, e);
    }
}

pub fn sadd(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let max = ctx.server.hot.encoding_limits().set_max_intset_entries;
    let first = args.get(2);
    let make = || Value::Set(Box::new(SetValue::for_member(first)));
    let Ok(s) = create_typed(ctx.ks, ctx.reply, key, Value::as_set, make) else {
        return;
    };
    let mut added = 0;
    for member in args.iter().skip(2) {
        added += s.add(member, max) as i64;
    }
    if added > 0 {
        ctx.ks.mark_dirty(key, added as u64);
        ctx.ks.notify(notify::SET, "sadd", key);
    }
    ctx.reply.int(added);
}

pub fn srem(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let s = match write_typed(ctx.ks, ctx.reply, key, Value::as_set) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(s)) => s,
    };
    let mut removed = 0;
    for member in args.iter().skip(2) {
        if s.remove(member) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let empty = s.is_empty();
    if removed > 0 {
        ctx.ks.mark_dirty(key, removed as u64);
        ctx.ks.notify(notify::SET, "srem", key);
        remove_if_empty(ctx.ks, key, empty);
    }
    ctx.reply.int(removed);
}

pub fn smembers(ctx: &mut Ctx, args: Args) {
    if let Ok(s) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        match s {
            Some(s) => reply_members(ctx.reply, s),
            None => ctx.reply.set(0),
        }
    }
}

pub fn sismember(ctx: &mut Ctx, args: Args) {
    if let Ok(s) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        ctx.reply
            .int(s.is_some_and(|s| s.contains(args.get(2))) as i64);
    }
}

pub fn smismember(ctx: &mut Ctx, args: Args) {
    if let Ok(s) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        ctx.reply.array(args.len() - 2);
        for member in args.iter().skip(2) {
            ctx.reply
                .int(s.as_ref().is_some_and(|s| s.contains(member)) as i64);
        }
    }
}

pub fn scard(ctx: &mut Ctx, args: Args) {
    if let Ok(s) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        ctx.reply.int(s.map_or(0, |s| s.len() as i64));
    }
}

pub fn spop(ctx: &mut Ctx, args: Args) {
    match args.len() {
        2 => {}
        3 => return spop_count(ctx, args),
        _ => return ctx.reply.error(SYNTAX_ERR),
    }
    let key = args.get(1);
    let s = match write_typed(ctx.ks, ctx.reply, key, Value::as_set) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.null(),
        Ok(Some(s)) => s,
    };
    let popped = s.pop_random();
    let empty = s.is_empty();
    ctx.ks.mark_dirty(key, 1);
    ctx.ks.notify(notify::SET, "spop", key);
    reply_elem(ctx.reply, popped.as_elem());
    // A random pick propagates as what it removed.
    let mut scratch = itoa::Buffer::new();
    ctx.propagate(&[b"SREM", key, popped.as_elem().bytes(&mut scratch)]);
    remove_if_empty(ctx.ks, key, empty);
}

fn spop_count(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let Some(count) = parse_i64(args.get(2)).filter(|&n| n >= 0) else {
        return ctx
            .reply
            .error("ERR value is out of range, must be positive");
    };
    let max = ctx.server.hot.encoding_limits().set_max_intset_entries;
    let s = match write_typed(ctx.ks, ctx.reply, key, Value::as_set) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.set(0),
        Ok(Some(s)) => s,
    };
    if count == 0 {
        return ctx.reply.set(0);
    }
    if count as usize >= s.len() {
        // The whole set, in the order of the union Redis builds to reply it.
        reply_members(ctx.reply, &set::union(&[s], max));
        ctx.ks.notify(notify::SET, "spop", key);
        ctx.ks.remove(key);
        ctx.ks.notify(notify::GENERIC, "del", key);
        ctx.propagate(&[b"DEL", key]);
        return;
    }
    ctx.reply.set(count as usize);
    let mut popped = Vec::new();
    for _ in 0..count {
        let e = s.pop_random();
        reply_elem(ctx.reply, e.as_elem());
        if ctx.prop.on {
            popped.push(e);
        }
    }
    // One SREM per member, as Redis (several commands: wrapped in MULTI/EXEC).
    let mut scratch = itoa::Buffer::new();
    for e in &popped {
        ctx.propagate(&[b"SREM", key, e.as_elem().bytes(&mut scratch)]);
    }
    ctx.ks.mark_dirty(key, count as u64);
    ctx.ks.notify(notify::SET, "spop", key);
}

pub fn srandmember(ctx: &mut Ctx, args: Args) {
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx, args),
        _ => return ctx.reply.error(SYNTAX_ERR),
    }
    if let Ok(s) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        match s {
            Some(s) => reply_elem(ctx.reply, s.random()),
            None => ctx.reply.null(),
        }
    }
}

fn srandmember_count(ctx: &mut Ctx, args: Args) {
    let Some(count) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    if count == i64::MIN {
        return ctx.reply.error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    let s = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.array(0),
        Ok(Some(s)) => s,
    };
    let reply = &mut *ctx.reply;
    if count < 0 {
        // Negative counts may repeat members.
        let n = count.unsigned_abs() as usize;
        reply.array(n);
        for _ in 0..n {
            reply_elem(reply, s.random());
        }
    } else if count as usize >= s.len() {
        reply.array(s.len());
        for e in s.iter() {
            reply_elem(reply, e);
        }
    } else {
        let picked = s.sample(count as usize);
        reply.array(picked.len());
        for e in picked {
            reply_elem(reply, e);
        }
    }
}

/// Whether `key` holds a set (None when missing), looked up as a write.
fn is_set(ctx: &mut Ctx, key: &[u8]) -> Option<bool> {
    ctx.ks
        .get_write(key)
        .map(|e| matches!(e.value, Value::Set(_)))
}

pub fn smove(ctx: &mut Ctx, args: Args) {
    let (src, dst, member) = (args.get(1), args.get(2), args.get(3));
    let src_is_set = is_set(ctx, src);
    let dst_is_set = is_set(ctx, dst);
    match src_is_set {
        None => return ctx.reply.int(0),
        Some(false) => return ctx.reply.error(WRONGTYPE),
        Some(true) => {}
    }
    if dst_is_set == Some(false) {
        return ctx.reply.error(WRONGTYPE);
    }
    let Some(s) = ctx
        .ks
        .get_write(src)
        .and_then(|e| Value::as_set(&mut e.value))
    else {
        return;
    };
    if src == dst {
        return ctx.reply.int(s.contains(member) as i64);
    }
    if !s.remove(member) {
        return ctx.reply.int(0);
    }
    let empty = s.is_empty();
    ctx.ks.mark_dirty(src, 1);
    ctx.ks.notify(notify::SET, "srem", src);
    remove_if_empty(ctx.ks, src, empty);
    let max = ctx.server.hot.encoding_limits().set_max_intset_entries;
    let make = || Value::Set(Box::new(SetValue::for_member(member)));
    let Ok(d) = create_typed(ctx.ks, ctx.reply, dst, Value::as_set, make) else {
        return;
    };
    if d.add(member, max) {
        ctx.ks.mark_dirty(dst, 1);
        ctx.ks.notify(notify::SET, "sadd", dst);
    }
    ctx.reply.int(1);
}

/// Looks every key up as a set (lazy expiry and statistics; as a write for SINTERSTORE).
/// Ok(false) when one is missing; Err after replying WRONGTYPE for a key of another type.
fn lookup_sets(
    ctx: &mut Ctx,
    args: &Args,
    keys: Range<usize>,
    storing: bool,
) -> Result<bool, Replied> {
    let mut all = true;
    for key in keys.map(|i| args.get(i)) {
        let entry = if storing {
            ctx.ks.get_write(key)
        } else {
            ctx.ks.get_read(key)
        };
        match entry.map(|e| matches!(e.value, Value::Set(_))) {
            None => all = false,
            Some(true) => {}
            Some(false) => {
                ctx.reply.error(WRONGTYPE);
                return Err(Replied);
            }
        }
    }
    Ok(all)
}

/// The sets at `keys` (after `lookup_sets`), borrowed together; None for a missing key.
fn shared_sets<'v>(ks: &'v DbView, args: &Args, keys: Range<usize>) -> Vec<Option<&'v SetValue>> {
    keys.map(|i| match ks.get_shared(args.get(i)).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(&**s),
        _ => None,
    })
    .collect()
}

/// Stores a *STORE result (replacing any value and TTL), or deletes `dst` when it is empty.
fn store(ctx: &mut Ctx, dst: &[u8], result: SetValue, event: &'static str) {
    let n = result.len();
    if n > 0 {
        ctx.ks.set(dst, Value::Set(Box::new(result)), 0);
        ctx.ks.notify(notify::SET, event, dst);
    } else if ctx.ks.remove(dst).is_some() {
        ctx.ks.notify(notify::GENERIC, "del", dst);
    }
    ctx.reply.int(n as i64);
}

/// Sets sorted by size, smallest first, as Redis orders them (a stable sort).
fn by_size<'v>(sets: &[Option<&'v SetValue>]) -> Vec<&'v SetValue> {
    let mut sorted: Vec<&SetValue> = sets.iter().flatten().copied().collect();
    sorted.sort_by_key(|s| s.len());
    sorted
}

pub fn sinter(ctx: &mut Ctx, args: Args) {
    let keys = 1..args.len();
    match lookup_sets(ctx, &args, keys.clone(), false) {
        Err(Replied) => {}
        Ok(false) => ctx.reply.set(0),
        Ok(true) => {
            let sets = by_size(&shared_sets(ctx.ks, &args, keys));
            let found = set::intersection(&sets, 0);
            ctx.reply.set(found.len());
            for e in found {
                reply_elem(ctx.reply, e);
            }
        }
    }
}

pub fn sinterstore(ctx: &mut Ctx, args: Args) {
    let dst = args.get(1);
    let keys = 2..args.len();
    let result = match lookup_sets(ctx, &args, keys.clone(), true) {
        Err(Replied) => return,
        Ok(false) => SetValue::new(),
        Ok(true) => {
            let max = ctx.server.hot.encoding_limits().set_max_intset_entries;
            let sets = by_size(&shared_sets(ctx.ks, &args, keys));
            set::from_elems(set::intersection(&sets, 0), max)
        }
    };
    store(ctx, dst, result, "sinterstore");
}

pub fn sintercard(ctx: &mut Ctx, args: Args) {
    let numkeys = match parse_i64(args.get(1)) {
        Some(n) if n > 0 => n as u64,
        _ => return ctx.reply.error("ERR numkeys should be greater than 0"),
    };
    if numkeys > args.len() as u64 - 2 {
        return ctx
            .reply
            .error("ERR Number of keys can't be greater than number of args");
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if eq_ic(args.get(i), "limit") && i + 1 < args.len() {
            match parse_i64(args.get(i + 1)) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => return ctx.reply.error("ERR LIMIT can't be negative"),
            }
            i += 2;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
    }
    let keys = 2..2 + numkeys;
    match lookup_sets(ctx, &args, keys.clone(), false) {
        Err(Replied) => {}
        Ok(false) => ctx.reply.int(0),
        Ok(true) => {
            let sets = by_size(&shared_sets(ctx.ks, &args, keys));
            ctx.reply.int(set::intersection(&sets, limit).len() as i64);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Diff,
}

/// SUNION/SDIFF (and the sources of their *STORE forms, which Redis also looks up as reads),
/// computed into a new set as Redis does; None after replying WRONGTYPE.
fn union_or_diff(ctx: &mut Ctx, args: &Args, keys: Range<usize>, op: Op) -> Option<SetValue> {
    lookup_sets(ctx, args, keys.clone(), false).ok()?;
    let max = ctx.server.hot.encoding_limits().set_max_intset_entries;
    let sets = shared_sets(ctx.ks, args, keys);
    Some(match op {
        Op::Union => set::union(&sets.iter().flatten().copied().collect::<Vec<_>>(), max),
        Op::Diff => match sets.split_first() {
            Some((Some(first), rest)) => {
                let others: Vec<&SetValue> = rest.iter().flatten().copied().collect();
                set::difference(first, &others, max)
            }
            _ => SetValue::new(),
        },
    })
}

fn union_or_diff_reply(ctx: &mut Ctx, args: Args, op: Op) {
    if let Some(result) = union_or_diff(ctx, &args, 1..args.len(), op) {
        reply_members(ctx.reply, &result);
    }
}

fn union_or_diff_store(ctx: &mut Ctx, args: Args, op: Op, event: &'static str) {
    let dst = args.get(1);
    if let Some(result) = union_or_diff(ctx, &args, 2..args.len(), op) {
        store(ctx, dst, result, event);
    }
}

pub fn sunion(ctx: &mut Ctx, args: Args) {
    union_or_diff_reply(ctx, args, Op::Union);
}

pub fn sdiff(ctx: &mut Ctx, args: Args) {
    union_or_diff_reply(ctx, args, Op::Diff);
}

pub fn sunionstore(ctx: &mut Ctx, args: Args) {
    union_or_diff_store(ctx, args, Op::Union, "sunionstore");
}

pub fn sdiffstore(ctx: &mut Ctx, args: Args) {
    union_or_diff_store(ctx, args, Op::Diff, "sdiffstore");
}

pub fn sscan(ctx: &mut Ctx, args: Args) {
    let Some(cursor) = parse_cursor(args.get(2)) else {
        return ctx.reply.error("ERR invalid cursor");
    };
    // As Redis, the key is looked up before the options are checked.
    let s = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_set) {
        Err(Replied) => return,
        Ok(None) => {
            ctx.reply.array(2);
            ctx.reply.bulk(b"0");
            return ctx.reply.array(0);
        }
        Ok(Some(s)) => s,
    };
    let Some(opts) = parse_scan_opts(ctx.reply, &args, 3, false) else {
        return;
    };
    let mut found: Vec<Elem> = Vec::new();
    let mut scratch = itoa::Buffer::new();
    let next = s.scan(cursor, opts.count, |e| {
        if opts.matches(e.bytes(&mut scratch)) {
            found.push(e);
        }
    });
    ctx.reply.array(2);
    ctx.reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.reply.array(found.len());
    for e in found {
        reply_elem(ctx.reply, e);
    }
}
