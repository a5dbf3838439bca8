//! String commands (t_string.c): GET/SET and their variants, counters, ranges, LCS.

use super::{Ctx, NOT_FLOAT, NOT_INT, Replied, SYNTAX_ERR, WRONGTYPE, arg_i64, eq_ic};
use crate::protocol::{Args, Reply};
use crate::server::notify;
use crate::storage::{DbView, StrRef, StrValue, Value};
use crate::util::num::{self, IncrFloatError};

const MAX_STRING_ERR: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// Reads a key that must hold a string: Ok(None) when missing, Err(Replied) after replying WRONGTYPE.
pub fn read_str<'a>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
) -> Result<Option<&'a StrValue>, Replied> {
    match ks.get_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s)),
            _ => {
                reply.error(WRONGTYPE);
                Err(Replied)
            }
        },
    }
}

fn reply_str(reply: &mut Reply, s: &StrValue) {
    match s.view() {
        StrRef::Int(n) => reply.bulk_int(n),
        StrRef::Bytes(data) => reply.bulk(data),
    }
}

pub fn get(ctx: &mut Ctx, args: Args) {
    if let Ok(v) = read_str(ctx.ks, ctx.reply, args.get(1)) {
        match v {
            Some(s) => reply_str(ctx.reply, s),
            None => ctx.reply.null(),
        }
    }
}

/// Expiry options shared by SET and GETEX.
#[derive(Default, Clone, Copy)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// Absolute expiry in unix ms, once resolved.
    expire_at: Option<i64>,
    /// The expiry option's unit and argument index, before it is resolved.
    expire_arg: Option<(Unit, usize)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Parses SET/GETEX options like Redis's parseExtendedStringArgumentsOrReply and resolves the
/// expiry as getExpireMillisecondsOrReply does.
fn parse_set_opts(
    ctx: &mut Ctx,
    args: &Args,
    from: usize,
    is_set: bool,
    cmd: &str,
) -> Option<SetOpts> {
    let mut o = SetOpts::default();
    let mut expire: Option<(Unit, usize)> = None;
    let mut j = from;
    while j < args.len() {
        let opt = args.get(j);
        let next = (j + 1 < args.len()).then(|| args.get(j + 1));
        let has_exp = expire.is_some();
        let exp_is = |u: Unit| expire.is_some_and(|(x, _)| x == u);
        if is_set && eq_ic(opt, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && eq_ic(opt, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && eq_ic(opt, "get") {
            o.get = true;
        } else if is_set && eq_ic(opt, "keepttl") && !o.persist && !has_exp {
            o.keepttl = true;
        } else if !is_set && eq_ic(opt, "persist") && !has_exp && !o.keepttl {
            o.persist = true;
        } else if let Some(unit) = [
            ("ex", Unit::Ex),
            ("px", Unit::Px),
            ("exat", Unit::ExAt),
            ("pxat", Unit::PxAt),
        ]
        .iter()
        .find(|(n, _)| eq_ic(opt, n))
        .map(|(_, u)| *u)
            && !o.keepttl
            && !o.persist
            && (!has_exp || exp_is(unit))
            && next.is_some()
        {
            expire = Some((unit, j + 1));
            j += 1;
        } else {
            ctx.reply.error(SYNTAX_ERR);
            return None;
        }
        j += 1;
    }
    o.expire_arg = expire;
    // SET validates the expiry before looking at the key; GETEX after (see getex).
    if is_set && let Some((unit, at)) = expire {
        o.expire_at = Some(resolve_expire(ctx, args.get(at), unit, cmd)?);
    }
    Some(o)
}

fn resolve_expire(ctx: &mut Ctx, text: &[u8], unit: Unit, cmd: &str) -> Option<i64> {
    let v = arg_i64(ctx, text)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        ctx.reply
            .error(&format!("ERR invalid expire time in '{cmd}' command"));
        return None;
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(unit, Unit::Ex | Unit::Px) {
        if ms > i64::MAX - ctx.ks.now_ms {
            ctx.reply
                .error(&format!("ERR invalid expire time in '{cmd}' command"));
            return None;
        }
        ms += ctx.ks.now_ms;
    }
    Some(ms)
}

pub fn set(ctx: &mut Ctx, args: Args) {
    let Some(o) = parse_set_opts(ctx, &args, 3, true, "set") else {
        return;
    };
    set_generic(ctx, args.get(1), args.get(2), o);
}

fn set_generic(ctx: &mut Ctx, key: &[u8], value: &[u8], o: SetOpts) {
    let mut old_ttl = 0;
    if o.get {
        match read_str(ctx.ks, ctx.reply, key) {
            Err(Replied) => return,
            Ok(Some(s)) => reply_str(ctx.reply, s),
            Ok(None) => ctx.reply.null(),
        }
    }
    let found = match ctx.ks.get_write(key) {
        Some(_) => {
            old_ttl = ctx.ks.expire_of(key).unwrap_or(0);
            true
        }
        None => false,
    };
    if (o.nx && found) || (o.xx && !found) {
        if !o.get {
            ctx.reply.null();
        }
        return;
    }
    let expire_at = match o.expire_at {
        Some(at) => at,
        None if o.keepttl => old_ttl,
        None => 0,
    };
    ctx.ks
        .set(key, Value::Str(StrValue::from_bytes(value)), expire_at);
    ctx.ks.notify(notify::STRING, "set", key);
    if let Some(at) = o.expire_at {
        ctx.ks.notify(notify::GENERIC, "expire", key);
        ctx.propagate_set_pxat(key, value, at);
    }
    if !o.get {
        ctx.reply.ok();
    }
}

pub fn setnx(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    if ctx.ks.exists(key) {
        ctx.reply.int(0);
    } else {
        ctx.ks
            .set(key, Value::Str(StrValue::from_bytes(args.get(2))), 0);
        ctx.ks.notify(notify::STRING, "set", key);
        ctx.reply.int(1);
    }
}

fn setex_generic(ctx: &mut Ctx, args: Args, unit: Unit, cmd: &str) {
    let Some(at) = resolve_expire(ctx, args.get(2), unit, cmd) else {
        return;
    };
    let key = args.get(1);
    ctx.ks
        .set(key, Value::Str(StrValue::from_bytes(args.get(3))), at);
    ctx.ks.notify(notify::STRING, "set", key);
    ctx.ks.notify(notify::GENERIC, "expire", key);
    ctx.propagate_set_pxat(key, args.get(3), at);
    ctx.reply.ok();
}

pub fn setex(ctx: &mut Ctx, args: Args) {
    setex_generic(ctx, args, Unit::Ex, "setex");
}

pub fn psetex(ctx: &mut Ctx, args: Args) {
    setex_generic(ctx, args, Unit::Px, "psetex");
}

pub fn getset(ctx: &mut Ctx, args: Args) {
    let o = SetOpts {
        get: true,
        ..SetOpts::default()
    };
    let dirty = ctx.ks.dirty;
    set_generic(ctx, args.get(1), args.get(2), o);
    if ctx.ks.dirty != dirty {
        // As Redis: the write is a plain SET.
        ctx.propagate(&[b"SET", args.get(1), args.get(2)]);
    }
}

pub fn getdel(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    match read_str(ctx.ks, ctx.reply, key) {
        Err(Replied) => {}
        Ok(None) => ctx.reply.null(),
        Ok(Some(s)) => {
            reply_str(ctx.reply, s);
            ctx.ks.remove(key);
            ctx.ks.notify(notify::GENERIC, "del", key);
            ctx.propagate(&[b"DEL", key]);
        }
    }
}

pub fn getex(ctx: &mut Ctx, args: Args) {
    let Some(o) = parse_set_opts(ctx, &args, 2, false, "getex") else {
        return;
    };
    let key = args.get(1);
    match read_str(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(None) => {
            ctx.reply.null();
            return;
        }
        Ok(Some(_)) => {}
    }
    let expire_at = match o.expire_arg {
        Some((unit, at)) => match resolve_expire(ctx, args.get(at), unit, "getex") {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    if let Some(Value::Str(s)) = ctx.ks.peek(key).map(|e| &e.value) {
        reply_str(ctx.reply, s);
    }
    if let Some(at) = expire_at {
        if at <= ctx.ks.now_ms {
            ctx.ks.remove(key);
            ctx.ks.notify(notify::GENERIC, "del", key);
            ctx.propagate(&[b"DEL", key]);
        } else {
            ctx.ks.set_expire(key, at);
            ctx.ks.notify(notify::GENERIC, "expire", key);
            ctx.propagate_pexpireat(key, at, &[]);
        }
    } else if o.persist && ctx.ks.peek(key).is_some_and(|e| e.is_volatile()) {
        ctx.ks.set_expire(key, 0);
        ctx.ks.notify(notify::GENERIC, "persist", key);
        ctx.propagate(&[b"PERSIST", key]);
    }
}

pub fn mget(ctx: &mut Ctx, args: Args) {
    ctx.reply.array(args.len() - 1);
    for key in args.iter().skip(1) {
        match ctx.ks.get_read(key).map(|e| &e.value) {
            Some(Value::Str(s)) => reply_str(ctx.reply, s),
            _ => ctx.reply.null(),
        }
    }
}

fn mset_generic(ctx: &mut Ctx, args: Args, nx: bool, name: &str) {
    if args.len().is_multiple_of(2) {
        ctx.reply.error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
        return;
    }
    if nx {
        for i in (1..args.len()).step_by(2) {
            if ctx.ks.exists(args.get(i)) {
                ctx.reply.int(0);
                return;
            }
        }
    }
    for i in (1..args.len()).step_by(2) {
        let key = args.get(i);
        ctx.ks
            .set(key, Value::Str(StrValue::from_bytes(args.get(i + 1))), 0);
        ctx.ks.notify(notify::STRING, "set", key);
    }
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
}

pub fn mset(ctx: &mut Ctx, args: Args) {
    mset_generic(ctx, args, false, "mset");
}

pub fn msetnx(ctx: &mut Ctx, args: Args) {
    mset_generic(ctx, args, true, "msetnx");
}

/// The string at `key` for in-place modification, created empty if missing when `create`.
/// Replies WRONGTYPE and returns None when the key holds another type.
pub fn string_for_update<'a>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
    create: bool,
) -> Result<Option<&'a mut Vec<u8>>, Replied> {
    if !ks.exists(key) {
        if !create {
            return Ok(None);
        }
        ks.set(key, Value::Str(StrValue::raw(Vec::new())), 0);
    } else {
        ks.mark_dirty(key, 1);
    }
    match ks.get_write(key).map(|e| &mut e.value) {
        Some(Value::Str(s)) => Ok(Some(s.make_raw())),
        Some(_) => {
            reply.error(WRONGTYPE);
            Err(Replied)
        }
        None => Ok(None),
    }
}

fn max_len(ctx: &Ctx) -> u64 {
    ctx.server
        .hot
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed)
}

pub fn append(ctx: &mut Ctx, args: Args) {
    let (key, tail) = (args.get(1), args.get(2));
    match ctx.ks.get_write(key).map(|e| &e.value) {
        None => {
            ctx.ks.set(key, Value::Str(StrValue::from_bytes(tail)), 0);
            ctx.ks.notify(notify::STRING, "append", key);
            ctx.reply.int(tail.len() as i64);
        }
        Some(Value::Str(s)) => {
            if (s.len() + tail.len()) as u64 > max_len(ctx) {
                ctx.reply.error(MAX_STRING_ERR);
                return;
            }
            if let Ok(Some(data)) = string_for_update(ctx.ks, ctx.reply, key, false) {
                data.extend_from_slice(tail);
                let n = data.len();
                ctx.ks.notify(notify::STRING, "append", key);
                ctx.reply.int(n as i64);
            }
        }
        Some(_) => ctx.reply.error(WRONGTYPE),
    }
}

pub fn strlen(ctx: &mut Ctx, args: Args) {
    if let Ok(v) = read_str(ctx.ks, ctx.reply, args.get(1)) {
        ctx.reply.int(v.map_or(0, |s| s.len() as i64));
    }
}

pub fn getrange(ctx: &mut Ctx, args: Args) {
    let Some(mut start) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    let Some(mut end) = arg_i64(ctx, args.get(3)) else {
        return;
    };
    let mut scratch = itoa::Buffer::new();
    let s = match read_str(ctx.ks, ctx.reply, args.get(1)) {
        Err(Replied) => return,
        Ok(None) => {
            ctx.reply.bulk(b"");
            return;
        }
        Ok(Some(s)) => s.as_bytes(&mut scratch),
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.reply.bulk(b"");
        return;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.reply.bulk(b"");
    } else {
        ctx.reply.bulk(&s[start as usize..=end as usize]);
    }
}

pub fn setrange(ctx: &mut Ctx, args: Args) {
    let (key, value) = (args.get(1), args.get(3));
    let Some(offset) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    if offset < 0 {
        ctx.reply.error("ERR offset is out of range");
        return;
    }
    let current = match read_str_write(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(len) => len,
    };
    if value.is_empty() {
        ctx.reply.int(current.unwrap_or(0) as i64);
        return;
    }
    if offset as u64 + value.len() as u64 > max_len(ctx) {
        ctx.reply.error(MAX_STRING_ERR);
        return;
    }
    if let Ok(Some(data)) = string_for_update(ctx.ks, ctx.reply, key, true) {
        let end = offset as usize + value.len();
        if data.len() < end {
            data.resize(end, 0);
        }
        data[offset as usize..end].copy_from_slice(value);
        let n = data.len();
        ctx.ks.notify(notify::STRING, "setrange", key);
        ctx.reply.int(n as i64);
    }
}

/// Length of the string at `key` for a write command (None when missing); WRONGTYPE replied.
fn read_str_write(
    ks: &mut DbView,
    reply: &mut Reply,
    key: &[u8],
) -> Result<Option<usize>, Replied> {
    match ks.get_write(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.len())),
        Some(_) => {
            reply.error(WRONGTYPE);
            Err(Replied)
        }
    }
}

fn incr_generic(ctx: &mut Ctx, key: &[u8], by: i64) {
    let current = match ctx.ks.get_write(key).map(|e| &e.value) {
        None => 0,
        Some(Value::Str(s)) => match s.as_int() {
            Some(n) => n,
            None => {
                ctx.reply.error(NOT_INT);
                return;
            }
        },
        Some(_) => {
            ctx.reply.error(WRONGTYPE);
            return;
        }
    };
    let Some(new) = current.checked_add(by) else {
        ctx.reply.error("ERR increment or decrement would overflow");
        return;
    };
    ctx.ks.set_keep_ttl(key, Value::Str(StrValue::int(new)));
    ctx.ks.notify(notify::STRING, "incrby", key);
    ctx.reply.int(new);
}

pub fn incr(ctx: &mut Ctx, args: Args) {
    incr_generic(ctx, args.get(1), 1);
}

pub fn decr(ctx: &mut Ctx, args: Args) {
    incr_generic(ctx, args.get(1), -1);
}

pub fn incrby(ctx: &mut Ctx, args: Args) {
    if let Some(by) = arg_i64(ctx, args.get(2)) {
        incr_generic(ctx, args.get(1), by);
    }
}

pub fn decrby(ctx: &mut Ctx, args: Args) {
    if let Some(by) = arg_i64(ctx, args.get(2)) {
        if by == i64::MIN {
            ctx.reply.error("ERR decrement would overflow");
            return;
        }
        incr_generic(ctx, args.get(1), -by);
    }
}

pub fn incrbyfloat(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let mut scratch = itoa::Buffer::new();
    let mut text = Vec::with_capacity(32);
    let result = match ctx.ks.get_write(key).map(|e| &e.value) {
        None => num::incrbyfloat(b"0", args.get(2), &mut text),
        Some(Value::Str(s)) => num::incrbyfloat(s.as_bytes(&mut scratch), args.get(2), &mut text),
        Some(_) => return ctx.reply.error(WRONGTYPE),
    };
    match result {
        Ok(()) => {}
        Err(IncrFloatError::NotAFloat) => return ctx.reply.error(NOT_FLOAT),
        Err(IncrFloatError::NanOrInfinity) => {
            return ctx
                .reply
                .error("ERR increment would produce NaN or Infinity");
        }
    };
    ctx.reply.bulk(&text);
    // As Redis: the result, so that replaying never depends on float formatting.
    ctx.propagate(&[b"SET", key, &text, b"KEEPTTL"]);
    let v = Value::Str(StrValue::text(text));
    ctx.ks.set_keep_ttl(key, v);
    ctx.ks.notify(notify::STRING, "incrbyfloat", key);
}

pub fn lcs(ctx: &mut Ctx, args: Args) {
    let mut sa = itoa::Buffer::new();
    let mut sb = itoa::Buffer::new();
    let mut values: [Option<StrValue>; 2] = [None, None];
    for (slot, key) in values.iter_mut().zip([args.get(1), args.get(2)]) {
        match ctx.ks.get_read(key).map(|e| e.value.clone()) {
            None => {}
            Some(Value::Str(s)) => *slot = Some(s),
            Some(_) => {
                return ctx
                    .reply
                    .error("ERR The specified keys must contain string values");
            }
        }
    }
    let [a, b] = values;
    let (mut idx, mut len, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        let more = args.len() - 1 - j;
        if eq_ic(opt, "idx") {
            idx = true;
        } else if eq_ic(opt, "len") {
            len = true;
        } else if eq_ic(opt, "withmatchlen") {
            withmatchlen = true;
        } else if eq_ic(opt, "minmatchlen") && more > 0 {
            let Some(v) = arg_i64(ctx, args.get(j + 1)) else {
                return;
            };
            minmatchlen = v.max(0);
            j += 1;
        } else {
            ctx.reply.error(SYNTAX_ERR);
            return;
        }
        j += 1;
    }
    if idx && len {
        ctx.reply
            .error("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let a = a.as_ref().map_or(&b""[..], |s| s.as_bytes(&mut sa));
    let b = b.as_ref().map_or(&b""[..], |s| s.as_bytes(&mut sb));
    // Redis refuses a DP table (4 bytes a cell) larger than proto-max-bulk-len.
    let table_bytes =
        crate::util::lcs::lcs_table_cells(a.len(), b.len()).and_then(|c| c.checked_mul(4));
    if table_bytes.is_none_or(|n| n as u64 > max_len(ctx)) {
        return ctx
            .reply
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let r = crate::util::lcs::lcs(a, b, idx, minmatchlen as usize);
    if idx {
        ctx.reply.map(2);
        ctx.reply.bulk(b"matches");
        ctx.reply.array(r.matches.len());
        for ((a0, a1), (b0, b1), mlen) in &r.matches {
            ctx.reply.array(if withmatchlen { 3 } else { 2 });
            ctx.reply.array(2);
            ctx.reply.int(*a0 as i64);
            ctx.reply.int(*a1 as i64);
            ctx.reply.array(2);
            ctx.reply.int(*b0 as i64);
            ctx.reply.int(*b1 as i64);
            if withmatchlen {
                ctx.reply.int(*mlen as i64);
            }
        }
        ctx.reply.bulk(b"len");
        ctx.reply.int(r.len as i64);
    } else if len {
        ctx.reply.int(r.len as i64);
    } else {
        ctx.reply.bulk(&r.lcs);
    }
}
