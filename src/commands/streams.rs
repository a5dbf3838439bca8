//! Stream commands (t_stream.c): XADD XTRIM XDEL XLEN XRANGE XREVRANGE, XREAD and XREADGROUP
//! (blocking forms served by `server::blocking`), consumer groups (XGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM), XINFO and XSETID.

use super::table::{CAT_STREAM, CommandSpec, DENYOOM, LOADING, READONLY, STALE, WRITE};
use super::{Ctx, Replied, SYNTAX_ERR, arg_i64, eq_ic, reply_help};
use crate::persistence::aof::Propagation;
use crate::protocol::{Args, Reply};
use crate::server::blocking::{self, BlockedOp, Waiter};
use crate::server::notify;
use crate::storage::stream::{
    ClaimOptions, Entry, IdArg, NodeLimits, Stream, StreamId, Trim, parse_id,
};
use crate::storage::{DbView, Value};
use crate::util::num::parse_i64;

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const INVALID_START: &str = "ERR invalid start ID for the interval";
const INVALID_END: &str = "ERR invalid end ID for the interval";

fn limits(ctx: &Ctx) -> NodeLimits {
    let l = ctx.server.hot.encoding_limits();
    NodeLimits {
        max_bytes: l.stream_node_max_bytes,
        max_entries: l.stream_node_max_entries,
    }
}

fn reply_id(reply: &mut Reply, id: StreamId) {
    reply.bulk(&id.text());
}

/// One entry: [id, [field, value, ...]].
fn reply_entry(reply: &mut Reply, e: &Entry) {
    reply.array(2);
    reply_id(reply, e.id);
    reply.array(2 * e.len());
    for (f, v) in e.fields() {
        reply.bulk(f);
        reply.bulk(v);
    }
}

fn reply_entries(reply: &mut Reply, entries: &[Entry]) {
    reply.array(entries.len());
    for e in entries {
        reply_entry(reply, e);
    }
}

/// An id argument (`-` and `+` allowed unless `strict`), replying Redis's error when invalid.
fn arg_id(ctx: &mut Ctx, a: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    match parse_id(a, missing_seq, strict, false) {
        Some(IdArg::Exact(id)) => Some(id),
        _ => {
            ctx.reply.error(INVALID_ID);
            None
        }
    }
}

/// A range bound: `(` makes it exclusive (then `-`/`+` are refused). Returns the inclusive id.
fn arg_bound(ctx: &mut Ctx, a: &[u8], start: bool) -> Option<StreamId> {
    let missing_seq = if start { 0 } else { u64::MAX };
    if a.len() > 1 && a[0] == b'(' {
        let id = arg_id(ctx, &a[1..], missing_seq, true)?;
        let moved = if start { id.next() } else { id.prev() };
        if moved.is_none() {
            ctx.reply
                .error(if start { INVALID_START } else { INVALID_END });
        }
        moved
    } else {
        arg_id(ctx, a, missing_seq, false)
    }
}

/// The stream at `key` for reading (WRONGTYPE replied as Err).
fn read_stream<'a>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, Replied> {
    super::read_typed(ks, reply, key, Value::as_stream)
}

fn write_stream<'a>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, Replied> {
    super::write_typed(ks, reply, key, Value::as_stream)
}

// ----- XADD / XTRIM -----

/// The options XADD and XTRIM share (streamParseAddOrTrimArgsOrReply).
struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    no_mkstream: bool,
    /// XADD's id (None: `*`) and its position.
    id: Option<IdArg>,
    id_at: usize,
}

fn parse_add_trim(ctx: &mut Ctx, args: &Args, xadd: bool) -> Option<AddTrim> {
    let mut o = AddTrim {
        trim: None,
        approx: false,
        limit: 0,
        no_mkstream: false,
        id: None,
        id_at: args.len(),
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let a = args.get(i);
        if xadd && a == b"*" {
            o.id_at = i;
            break;
        } else if (eq_ic(a, "maxlen") || eq_ic(a, "minid")) && more > 0 {
            if o.trim.is_some() {
                ctx.reply.error(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                );
                return None;
            }
            o.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && next == b"~" {
                o.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let v = args.get(i + 1);
            o.trim = Some(if eq_ic(a, "maxlen") {
                let n = arg_i64(ctx, v)?;
                if n < 0 {
                    ctx.reply.error("ERR The MAXLEN argument must be >= 0.");
                    return None;
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(arg_id(ctx, v, 0, true)?)
            });
            i += 1;
        } else if eq_ic(a, "limit") && more > 0 {
            let n = arg_i64(ctx, args.get(i + 1))?;
            if n < 0 {
                ctx.reply.error("ERR The LIMIT argument must be >= 0.");
                return None;
            }
            o.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(a, "nomkstream") {
            o.no_mkstream = true;
        } else if xadd {
            match parse_id(a, 0, true, true) {
                Some(id) => o.id = Some(id),
                None => {
                    ctx.reply.error(INVALID_ID);
                    return None;
                }
            }
            o.id_at = i;
            break;
        } else {
            ctx.reply.error(SYNTAX_ERR);
            return None;
        }
        i += 1;
    }
    if o.limit != 0 && o.trim.is_none() {
        ctx.reply
            .error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && o.trim.is_none() {
        ctx.reply
            .error("ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    if limit_given {
        if !o.approx {
            ctx.reply
                .error("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
    } else if o.approx {
        // At most 100 nodes' worth by default, clamped as Redis does.
        let l = (limits(ctx).max_entries as i64).wrapping_mul(100);
        o.limit = if l <= 0 {
            10_000
        } else {
            l.min(1_000_000) as u64
        };
    } else {
        o.limit = 0;
    }
    Some(o)
}

pub fn xadd(ctx: &mut Ctx, args: Args) {
    let Some(o) = parse_add_trim(ctx, &args, true) else {
        return;
    };
    let fields_at = o.id_at + 1;
    let nargs = args.len().saturating_sub(fields_at);
    if fields_at > args.len() || nargs < 2 || nargs % 2 == 1 {
        return ctx
            .reply
            .error("ERR wrong number of arguments for 'xadd' command");
    }
    if o.id == Some(IdArg::Exact(StreamId::ZERO)) {
        return ctx
            .reply
            .error("ERR The ID specified in XADD must be greater than 0-0");
    }
    // The field/value arguments, on the stack for the usual few.
    let mut small: [&[u8]; 16] = [&[]; 16];
    let heap: Vec<&[u8]>;
    let pairs: &[&[u8]] = if nargs <= small.len() {
        for (slot, i) in small.iter_mut().zip(fields_at..args.len()) {
            *slot = args.get(i);
        }
        &small[..nargs]
    } else {
        heap = (fields_at..args.len()).map(|i| args.get(i)).collect();
        &heap
    };
    if pairs.iter().map(|p| p.len() as u64).sum::<u64>() > 1 << 30 {
        return ctx.reply.error("ERR Elements are too large to be stored");
    }
    let key = args.get(1);
    let now = ctx.ks.now_ms.max(0) as u64;
    let limits = limits(ctx);
    let too_small =
        "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    let (id, trimmed) = match write_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(None) if o.no_mkstream => return ctx.reply.null(),
        Ok(None) => {
            let mut s = Stream::new();
            let Some(id) = s.next_id(o.id, now) else {
                return ctx.reply.error(too_small);
            };
            s.append(id, pairs, limits);
            let trimmed = o.trim.map_or(0, |t| s.trim(t, o.approx, o.limit));
            ctx.ks.set(key, Value::Stream(Box::new(s)), 0);
            (id, trimmed)
        }
        Ok(Some(s)) => {
            if s.last_id == StreamId::MAX {
                return ctx.reply.error(
                    "ERR The stream has exhausted the last possible ID, unable to add more items",
                );
            }
            // Redis 7.0 words a `<ms>-*` with no sequence left after the top id this way.
            if o.id == Some(IdArg::AnySeq(s.last_id.ms)) && s.last_id.seq == u64::MAX {
                return ctx.reply.error("ERR Elements are too large to be stored");
            }
            let Some(id) = s.next_id(o.id, now) else {
                return ctx.reply.error(too_small);
            };
            s.append(id, pairs, limits);
            (id, o.trim.map_or(0, |t| s.trim(t, o.approx, o.limit)))
        }
    };
    reply_id(ctx.reply, id);
    ctx.ks.mark_dirty(key, 1);
    if ctx.propagating() {
        // The id as chosen (`*` and `<ms>-*` depend on the clock), as Redis rewrites it.
        let text = id.text();
        let mut v: Vec<&[u8]> = args.iter().collect();
        v[o.id_at] = &text;
        ctx.propagate(&v);
    }
    ctx.ks.notify(notify::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.ks.notify(notify::STREAM, "xtrim", key);
    }
    ctx.ks.signal_ready(key);
}

pub fn xtrim(ctx: &mut Ctx, args: Args) {
    let Some(o) = parse_add_trim(ctx, &args, false) else {
        return;
    };
    let key = args.get(1);
    let s = match write_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(s)) => s,
    };
    let trim = o.trim.expect("XTRIM options require a strategy");
    let deleted = s.trim(trim, o.approx, o.limit);
    if deleted > 0 {
        ctx.ks.notify(notify::STREAM, "xtrim", key);
        ctx.ks.mark_dirty(key, deleted);
    }
    ctx.reply.int(deleted as i64);
}

// ----- reading -----

fn range_generic(ctx: &mut Ctx, args: Args, rev: bool) {
    let (start_arg, end_arg) = if rev {
        (args.get(3), args.get(2))
    } else {
        (args.get(2), args.get(3))
    };
    let Some(start) = arg_bound(ctx, start_arg, true) else {
        return;
    };
    let Some(end) = arg_bound(ctx, end_arg, false) else {
        return;
    };
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < args.len() {
        if eq_ic(args.get(j), "count") && j + 1 < args.len() {
            let Some(n) = arg_i64(ctx, args.get(j + 1)) else {
                return;
            };
            count = Some(n.max(0) as usize);
            j += 2;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
    }
    let s = match read_stream(ctx.ks, ctx.reply, args.get(1)) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.array(0),
        Ok(Some(s)) => s,
    };
    let take = match count {
        Some(0) => return ctx.reply.null_array(),
        Some(n) => n,
        None => usize::MAX,
    };
    let entries: Vec<Entry> = if rev {
        s.range_rev(start, end).take(take).collect()
    } else {
        s.range(start, end).take(take).collect()
    };
    reply_entries(ctx.reply, &entries);
}

pub fn xrange(ctx: &mut Ctx, args: Args) {
    range_generic(ctx, args, false);
}

pub fn xrevrange(ctx: &mut Ctx, args: Args) {
    range_generic(ctx, args, true);
}

pub fn xlen(ctx: &mut Ctx, args: Args) {
    if let Ok(s) = read_stream(ctx.ks, ctx.reply, args.get(1)) {
        ctx.reply.int(s.map_or(0, |s| s.len() as i64));
    }
}

pub fn xdel(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    match write_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in args.iter().skip(2) {
        let Some(id) = arg_id(ctx, a, 0, true) else {
            return;
        };
        ids.push(id);
    }
    let Ok(Some(s)) = write_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    let deleted = s.delete_ids(&ids);
    if deleted > 0 {
        ctx.ks.mark_dirty(key, deleted);
        ctx.ks.notify(notify::STREAM, "xdel", key);
    }
    ctx.reply.int(deleted as i64);
}

/// XREAD/XREADGROUP's parsed request.
struct ReadRequest<'a> {
    block: Option<i64>,
    count: usize,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
    keys_at: usize,
    nkeys: usize,
}

/// The keys of XREAD and XREADGROUP: half of the arguments after STREAMS, found by scanning
/// the options the way the commands parse them (so a COUNT value or group named "STREAMS" is
/// not the keyword). Empty when the command fails before looking at any key.
pub fn read_keys<'a>(argc: usize, arg: &dyn Fn(usize) -> &'a [u8]) -> std::ops::Range<usize> {
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let a = arg(i);
        if (eq_ic(a, "block") || eq_ic(a, "count")) && more > 0 {
            i += 2;
        } else if eq_ic(a, "streams") && more > 0 {
            if !more.is_multiple_of(2) {
                break;
            }
            return i + 1..i + 1 + more / 2;
        } else if eq_ic(a, "group") && more >= 2 {
            i += 3;
        } else if eq_ic(a, "noack") {
            i += 1;
        } else {
            break;
        }
    }
    0..0
}

fn parse_read<'a>(ctx: &mut Ctx, args: &Args<'a>, xreadgroup: bool) -> Option<ReadRequest<'a>> {
    let mut r = ReadRequest {
        block: None,
        count: 0,
        group: None,
        noack: false,
        keys_at: 0,
        nkeys: 0,
    };
    let argc = args.len();
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let a = args.get(i);
        if eq_ic(a, "block") && more > 0 {
            if ctx.client.in_script {
                // Redis refuses BLOCK in scripts outright rather than answering at once.
                ctx.reply.error(&format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(args.get(0))
                ));
                return None;
            }
            i += 1;
            let Some(ms) = parse_i64(args.get(i)) else {
                ctx.reply
                    .error("ERR timeout is not an integer or out of range");
                return None;
            };
            if ms < 0 {
                ctx.reply.error("ERR timeout is negative");
                return None;
            }
            r.block = Some(if ms == 0 {
                0
            } else {
                ctx.ks.now_ms.saturating_add(ms)
            });
        } else if eq_ic(a, "count") && more > 0 {
            i += 1;
            let n = arg_i64(ctx, args.get(i))?;
            r.count = n.max(0) as usize;
        } else if eq_ic(a, "streams") && more > 0 {
            r.keys_at = i + 1;
            let n = argc - r.keys_at;
            if !n.is_multiple_of(2) {
                // Redis 7.0 words it the same for XREADGROUP.
                ctx.reply.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                return None;
            }
            r.nkeys = n / 2;
            break;
        } else if eq_ic(a, "group") && more >= 2 {
            if !xreadgroup {
                ctx.reply.error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                );
                return None;
            }
            r.group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if eq_ic(a, "noack") {
            if !xreadgroup {
                ctx.reply.error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                );
                return None;
            }
            r.noack = true;
        } else {
            ctx.reply.error(SYNTAX_ERR);
            return None;
        }
        i += 1;
    }
    if r.keys_at == 0 {
        ctx.reply.error(SYNTAX_ERR);
        return None;
    }
    if xreadgroup && r.group.is_none() {
        ctx.reply.error("ERR Missing GROUP option for XREADGROUP");
        return None;
    }
    Some(r)
}

pub fn xread(ctx: &mut Ctx, args: Args) {
    read_generic(ctx, args, false);
}

pub fn xreadgroup(ctx: &mut Ctx, args: Args) {
    read_generic(ctx, args, true);
}

/// The id XREADGROUP's `>` stands for, as in Redis: "entries never delivered to the group".
const NEW_ENTRIES: StreamId = StreamId::MAX;

/// A scratch reply in the client's protocol, for parts whose count is known only at the end.
fn scratch(reply: &Reply) -> Reply {
    Reply {
        out: Vec::new(),
        resp: reply.resp,
        errors: 0,
        last_error_at: 0,
    }
}

/// Starts one stream's part of an XREAD reply: [key, entries] (a map entry in RESP3).
fn reply_read_key(reply: &mut Reply, key: &[u8]) {
    if !reply.is_resp3() {
        reply.array(2);
    }
    reply.bulk(key);
}

/// The top of an XREAD reply holding `n` streams.
fn reply_read_header(reply: &mut Reply, n: usize) {
    if reply.is_resp3() {
        reply.map(n);
    } else {
        reply.array(n);
    }
}

fn read_generic(ctx: &mut Ctx, args: Args, xreadgroup: bool) {
    let Some(r) = parse_read(ctx, &args, xreadgroup) else {
        return;
    };
    let keys = r.keys_at..r.keys_at + r.nkeys;
    let mut ids = Vec::with_capacity(r.nkeys);
    for i in keys.clone() {
        let key = args.get(i);
        let (last, has_group) = match read_stream(ctx.ks, ctx.reply, key) {
            Err(Replied) => return,
            Ok(s) => (
                s.as_ref().map(|s| s.last_id),
                s.zip(r.group)
                    .is_some_and(|(s, (g, _))| s.group(g).is_some()),
            ),
        };
        if let Some((group, _)) = r.group
            && !has_group
        {
            return ctx.reply.error(&format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(group)
            ));
        }
        let id_arg = args.get(i + r.nkeys);
        if id_arg == b"$" {
            if xreadgroup {
                return ctx.reply.error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            }
            ids.push(last.unwrap_or(StreamId::ZERO));
        } else if id_arg == b">" {
            if !xreadgroup {
                return ctx.reply.error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
            }
            ids.push(NEW_ENTRIES);
        } else {
            let Some(id) = arg_id(ctx, id_arg, 0, true) else {
                return;
            };
            ids.push(id);
        }
    }
    let served = match r.group {
        None => serve_read(ctx, &args, keys.clone(), &ids, r.count),
        Some((group, consumer)) => {
            serve_read_group(ctx, &args, keys.clone(), &ids, &r, group, consumer)
        }
    };
    if served {
        return;
    }
    let Some(deadline) = r.block else {
        return ctx.reply.null_array();
    };
    let op = match r.group {
        Some((group, consumer)) => BlockedOp::XReadGroup {
            group: group.into(),
            consumer: consumer.into(),
            count: r.count,
            noack: r.noack,
        },
        None => BlockedOp::XRead {
            ids,
            count: r.count,
        },
    };
    blocking::block(ctx, keys.map(|i| args.get(i)), deadline, op);
}

/// XREAD's synchronous answer: the streams holding entries after their ids. Which they are is
/// known up front, so the reply is written directly. False when there is nothing to answer.
fn serve_read(
    ctx: &mut Ctx,
    args: &Args,
    keys: std::ops::Range<usize>,
    ids: &[StreamId],
    count: usize,
) -> bool {
    let has_news = |s: &Stream, after: StreamId| !s.is_empty() && s.last_valid_id() > after;
    let served = keys
        .clone()
        .zip(ids)
        .filter(|&(i, &after)| peek_stream(ctx.ks, args.get(i)).is_some_and(|s| has_news(s, after)))
        .count();
    if served > 0 {
        reply_read_header(ctx.reply, served);
    }
    let take = if count == 0 { usize::MAX } else { count };
    for (i, &after) in keys.zip(ids) {
        let key = args.get(i);
        // Looked up again as Redis does (keyspace hits and misses count twice).
        let Some(s) = ctx.ks.get_read(key).and_then(|e| e.value.as_stream()) else {
            continue;
        };
        if has_news(s, after) {
            reply_read_key(ctx.reply, key);
            let from = after.next().unwrap_or(StreamId::MAX);
            let entries: Vec<Entry> = s.range(from, StreamId::MAX).take(take).collect();
            reply_entries(ctx.reply, &entries);
        }
    }
    served > 0
}

/// XREADGROUP's synchronous answer: for each stream, the consumer's history for an id, new
/// entries for `>`. Delivering changes the group, so which streams are answered is only known
/// at the end: the streams' parts go to a scratch reply first.
fn serve_read_group(
    ctx: &mut Ctx,
    args: &Args,
    keys: std::ops::Range<usize>,
    ids: &[StreamId],
    r: &ReadRequest,
    group: &[u8],
    consumer: &[u8],
) -> bool {
    let now = ctx.ks.now_ms;
    // Only deliveries of new entries propagate (history reads do not, as in Redis 7.0).
    ctx.propagate_effects_only();
    let mut body = scratch(ctx.reply);
    let mut served = 0;
    for (i, &after) in keys.zip(ids) {
        let key = args.get(i);
        let Some(s) = ctx.ks.get_read(key).and_then(|e| e.value.as_stream()) else {
            continue;
        };
        let history = after != NEW_ENTRIES;
        let group_last = s.group(group).map_or(StreamId::MAX, |g| g.last_id);
        let serve = history || (!s.is_empty() && s.last_valid_id() > group_last);
        if !serve {
            continue;
        }
        let Some(g) = s.group_mut(group) else {
            continue;
        };
        // Redis creates (and stamps) the consumer only when it serves it.
        let created = g.touch_consumer(consumer, now);
        let mut delivered = 0;
        served += 1;
        reply_read_key(&mut body, key);
        if history {
            let from = after.next().unwrap_or(StreamId::MAX);
            s.deliver_history(group, consumer, from, r.count, now, |found| {
                body.array(found.len());
                for (id, e) in found {
                    match e {
                        Some(e) => reply_entry(&mut body, e),
                        None => {
                            body.array(2);
                            reply_id(&mut body, *id);
                            body.null_array();
                        }
                    }
                }
            });
        } else {
            let mut ids = Vec::new();
            s.deliver_new(group, consumer, r.count, r.noack, now, |entries| {
                delivered = entries.len();
                ids.extend(entries.iter().map(|e| e.id));
                reply_entries(&mut body, entries);
            });
            if ctx.prop.on {
                for form in delivery_forms(s, key, group, consumer, &ids, r.noack, created) {
                    let args: Vec<&[u8]> = form.iter().map(Vec::as_slice).collect();
                    ctx.propagate(&args);
                }
            }
        }
        if created {
            ctx.ks.notify(notify::STREAM, "xgroup-createconsumer", key);
            ctx.ks.count_changes(key, 1);
        }
        if delivered > 0 {
            ctx.ks.count_changes(key, 1);
        }
    }
    if served > 0 {
        reply_read_header(ctx.reply, served);
        ctx.reply.out.extend_from_slice(&body.out);
    }
    served > 0
}

/// Serves a client blocked in XREAD or XREADGROUP on `key` (its shard locked, `ks` on the
/// client's database) when the stream has entries past the ones it waits after. An XREADGROUP
/// client whose stream or group is gone gets an error. Returns false when it stays blocked.
pub fn serve_blocked(
    ks: &mut DbView,
    reply: &mut Reply,
    key: &[u8],
    waiter: &Waiter,
    prop: &mut Propagation,
) -> bool {
    match &waiter.op {
        BlockedOp::XRead { ids, count } => {
            let Some(at) = waiter.keys.iter().position(|k| &**k == key) else {
                return false;
            };
            let after = ids[at];
            let Some(s) = ks.get_write(key).and_then(|e| e.value.as_stream()) else {
                return false;
            };
            if s.last_id <= after {
                return false;
            }
            reply_read_header(reply, 1);
            reply_read_key(reply, key);
            let take = if *count == 0 { usize::MAX } else { *count };
            let from = after.next().unwrap_or(StreamId::MAX);
            let entries: Vec<Entry> = s.range(from, StreamId::MAX).take(take).collect();
            reply_entries(reply, &entries);
            true
        }
        BlockedOp::XReadGroup {
            group,
            consumer,
            count,
            noack,
        } => {
            let now = ks.now_ms;
            let Some(s) = ks.get_write(key).and_then(|e| e.value.as_stream()) else {
                reply.error("UNBLOCKED the stream key no longer exists");
                return true;
            };
            let Some(group_last) = s.group(group).map(|g| g.last_id) else {
                reply.error(
                    "NOGROUP the consumer group this client was blocked on no longer exists",
                );
                return true;
            };
            if s.last_id <= group_last {
                return false;
            }
            let Some(g) = s.group_mut(group) else {
                return false;
            };
            let created = g.touch_consumer(consumer, now);
            reply_read_header(reply, 1);
            reply_read_key(reply, key);
            let mut ids = Vec::new();
            s.deliver_new(group, consumer, *count, *noack, now, |entries| {
                ids.extend(entries.iter().map(|e| e.id));
                reply_entries(reply, entries)
            });
            if prop.on {
                // The consumer counts as created when the client blocked, as in Redis.
                for form in delivery_forms(s, key, group, consumer, &ids, *noack, false) {
                    prop.push(ks.db, form.iter().map(Vec::as_slice));
                }
            }
            if created {
                ks.notify(notify::STREAM, "xgroup-createconsumer", key);
            }
            ks.count_changes(key, 1);
            true
        }
        _ => false,
    }
}

// ----- consumer groups -----

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax_error(ctx: &mut Ctx, args: &Args) {
    let sub = args.get(1);
    ctx.reply.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(args.get(0)).to_ascii_uppercase()
    ));
}

fn no_such_group(ctx: &mut Ctx, group: &[u8], key: &[u8]) {
    ctx.reply.error(&format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ));
}

fn no_key_or_group(ctx: &mut Ctx, key: &[u8], group: &[u8]) {
    ctx.reply.error(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ));
}

/// The options and checks every XGROUP subcommand but HELP starts with (MKSTREAM,
/// ENTRIESREAD; the key must exist unless MKSTREAM; SETID and the consumer subcommands need
/// the group). Returns (mkstream, entries_read), entries_read None meaning unknown (-1).
fn xgroup_prelude(
    ctx: &mut Ctx,
    args: &Args,
    create: bool,
    setid: bool,
    needs_group: bool,
) -> Option<(bool, Option<i64>)> {
    let (mut mkstream, mut entries_read) = (false, None);
    let mut i = 5;
    while i < args.len() {
        if create && eq_ic(args.get(i), "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && eq_ic(args.get(i), "entriesread") && i + 1 < args.len() {
            let n = arg_i64(ctx, args.get(i + 1))?;
            if n < 0 && n != -1 {
                ctx.reply
                    .error("ERR value for ENTRIESREAD must be positive or -1");
                return None;
            }
            entries_read = (n >= 0).then_some(n);
            i += 2;
        } else {
            subcommand_syntax_error(ctx, args);
            return None;
        }
    }
    let (key, group) = (args.get(2), args.get(3));
    let has_group = match write_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return None,
        Ok(None) if !mkstream => {
            ctx.reply.error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            return None;
        }
        Ok(s) => s.is_some_and(|s| s.group(group).is_some()),
    };
    if needs_group && !mkstream && !has_group {
        no_such_group(ctx, group, key);
        return None;
    }
    Some((mkstream, entries_read))
}

pub fn xgroup_create(ctx: &mut Ctx, args: Args) {
    let Some((_, entries_read)) = xgroup_prelude(ctx, &args, true, false, false) else {
        return;
    };
    if args.len() > 8 {
        return subcommand_syntax_error(ctx, &args);
    }
    let (key, group) = (args.get(2), args.get(3));
    let existing = ctx
        .ks
        .get_write(key)
        .and_then(|e| e.value.as_stream())
        .map(|s| s.last_id);
    let id = if args.get(4) == b"$" {
        existing.unwrap_or(StreamId::ZERO)
    } else {
        let Some(id) = arg_id(ctx, args.get(4), 0, true) else {
            return;
        };
        id
    };
    if existing.is_none() {
        // MKSTREAM, now that nothing can fail any more.
        ctx.ks.set(key, Value::Stream(Box::default()), 0);
    }
    let Ok(Some(s)) = write_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    if s.create_group(group, id, entries_read) {
        ctx.reply.ok();
        ctx.ks.count_changes(key, 1);
        ctx.ks.notify(notify::STREAM, "xgroup-create", key);
    } else {
        ctx.reply
            .error("BUSYGROUP Consumer Group name already exists");
    }
}

pub fn xgroup_setid(ctx: &mut Ctx, args: Args) {
    let Some((_, entries_read)) = xgroup_prelude(ctx, &args, false, true, true) else {
        return;
    };
    if args.len() != 5 && args.len() != 7 {
        return subcommand_syntax_error(ctx, &args);
    }
    let (key, group) = (args.get(2), args.get(3));
    let id = if args.get(4) == b"$" {
        None
    } else {
        let Some(id) = arg_id(ctx, args.get(4), 0, false) else {
            return;
        };
        Some(id)
    };
    let Ok(Some(s)) = write_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    let last = s.last_id;
    if let Some(g) = s.group_mut(group) {
        g.last_id = id.unwrap_or(last);
        g.entries_read = entries_read;
    }
    ctx.reply.ok();
    ctx.ks.count_changes(key, 1);
    ctx.ks.notify(notify::STREAM, "xgroup-setid", key);
}

pub fn xgroup_destroy(ctx: &mut Ctx, args: Args) {
    if xgroup_prelude(ctx, &args, false, false, false).is_none() {
        return;
    }
    let (key, group) = (args.get(2), args.get(3));
    let Ok(Some(s)) = write_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    if s.groups.remove(group).is_some() {
        ctx.reply.int(1);
        ctx.ks.count_changes(key, 1);
        ctx.ks.notify(notify::STREAM, "xgroup-destroy", key);
        // Clients blocked reading through this group now get an error.
        ctx.ks.signal_ready(key);
    } else {
        ctx.reply.int(0);
    }
}

pub fn xgroup_createconsumer(ctx: &mut Ctx, args: Args) {
    if xgroup_prelude(ctx, &args, false, false, true).is_none() {
        return;
    }
    let (key, group, consumer) = (args.get(2), args.get(3), args.get(4));
    let now = ctx.ks.now_ms;
    let Ok(Some(s)) = write_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    let created = s
        .group_mut(group)
        .is_some_and(|g| g.create_consumer(consumer, now));
    ctx.reply.int(created as i64);
    if created {
        ctx.ks.count_changes(key, 1);
        ctx.ks.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
}

pub fn xgroup_delconsumer(ctx: &mut Ctx, args: Args) {
    if xgroup_prelude(ctx, &args, false, false, true).is_none() {
        return;
    }
    let (key, group, consumer) = (args.get(2), args.get(3), args.get(4));
    let Ok(Some(s)) = write_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    match s.group_mut(group).and_then(|g| g.delete_consumer(consumer)) {
        Some(pending) => {
            ctx.reply.int(pending as i64);
            ctx.ks.count_changes(key, 1);
            ctx.ks.notify(notify::STREAM, "xgroup-delconsumer", key);
        }
        None => ctx.reply.int(0),
    }
}

pub fn xgroup_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
}

pub fn xsetid(ctx: &mut Ctx, args: Args) {
    let Some(id) = arg_id(ctx, args.get(2), 0, true) else {
        return;
    };
    let mut entries_added = None;
    let mut max_deleted = StreamId::ZERO;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let a = args.get(i);
        if eq_ic(a, "entriesadded") && more > 0 {
            let Some(n) = arg_i64(ctx, args.get(i + 1)) else {
                return;
            };
            if n < 0 {
                return ctx.reply.error("ERR entries_added must be positive");
            }
            entries_added = Some(n as u64);
        } else if eq_ic(a, "maxdeletedid") && more > 0 {
            let Some(m) = arg_id(ctx, args.get(i + 1), 0, true) else {
                return;
            };
            if id < m {
                return ctx.reply.error(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                );
            }
            max_deleted = m;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        i += 2;
    }
    let key = args.get(1);
    let s = match write_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.error("ERR no such key"),
        Ok(Some(s)) => s,
    };
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return ctx.reply.error(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added.is_some_and(|n| s.len() > n) {
            return ctx.reply.error(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            );
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_deleted.is_zero() {
        s.max_deleted = max_deleted;
    }
    ctx.reply.ok();
    ctx.ks.count_changes(key, 1);
    ctx.ks.notify(notify::STREAM, "xsetid", key);
}

pub fn xack(ctx: &mut Ctx, args: Args) {
    let (key, group) = (args.get(1), args.get(2));
    match read_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(s) if s.as_ref().is_none_or(|s| s.group(group).is_none()) => return ctx.reply.int(0),
        Ok(_) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in args.iter().skip(3) {
        let Some(id) = arg_id(ctx, a, 0, true) else {
            return;
        };
        ids.push(id);
    }
    let Some(g) = ctx
        .ks
        .get_write(key)
        .and_then(|e| e.value.as_stream())
        .and_then(|s| s.group_mut(group))
    else {
        return;
    };
    let acked = ids.iter().filter(|&&id| g.ack(id)).count();
    ctx.ks.count_changes(key, acked as u64);
    ctx.reply.int(acked as i64);
}

pub fn xpending(ctx: &mut Ctx, args: Args) {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return ctx.reply.error(SYNTAX_ERR);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if eq_ic(args.get(3), "idle") {
            let Some(n) = arg_i64(ctx, args.get(4)) else {
                return;
            };
            if argc < 8 {
                return ctx.reply.error(SYNTAX_ERR);
            }
            min_idle = n;
            at += 2;
        }
        let Some(count) = arg_i64(ctx, args.get(at + 2)) else {
            return;
        };
        let Some(start) = arg_bound(ctx, args.get(at), true) else {
            return;
        };
        let Some(end) = arg_bound(ctx, args.get(at + 1), false) else {
            return;
        };
        let consumer = (at + 3 < argc).then(|| args.get(at + 3));
        range = Some((min_idle, count.max(0) as usize, start, end, consumer));
    }
    let (key, group) = (args.get(1), args.get(2));
    let now = ctx.ks.now_ms;
    let g = match read_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => return,
        Ok(s) => match s.and_then(|s| s.group(group)) {
            Some(g) => g,
            None => return no_key_or_group(ctx, key, group),
        },
    };
    let r = &mut *ctx.reply;
    let Some((min_idle, count, start, end, consumer)) = range else {
        r.array(4);
        r.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((first, _)), Some((last, _))) => {
                reply_id(r, *first);
                reply_id(r, *last);
                let owners: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pending.is_empty())
                    .collect();
                r.array(owners.len());
                for (name, c) in owners {
                    r.array(2);
                    r.bulk(name);
                    r.bulk_int(c.pending.len() as i64);
                }
            }
            _ => {
                r.null();
                r.null();
                r.null_array();
            }
        }
        return;
    };
    let ids: Box<dyn Iterator<Item = &StreamId>> = match consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) => Box::new(c.pending.range(start..)),
            None => return r.array(0),
        },
        None => Box::new(g.pel.range(start..).map(|(id, _)| id)),
    };
    let mut found = Vec::new();
    if start <= end {
        for id in ids {
            if found.len() >= count || *id > end {
                break;
            }
            let nack = &g.pel[id];
            if min_idle != 0 && now - nack.delivery_time < min_idle {
                continue;
            }
            found.push((*id, nack));
        }
    }
    r.array(found.len());
    for (id, nack) in found {
        r.array(4);
        reply_id(r, id);
        r.bulk(&nack.consumer);
        r.int((now - nack.delivery_time).max(0));
        r.int(nack.delivery_count as i64);
    }
}

/// The group named in argument 2 of XCLAIM/XAUTOCLAIM exists on the stream at argument 1;
/// NOGROUP replied otherwise.
fn claim_target(ctx: &mut Ctx, args: &Args) -> bool {
    let (key, group) = (args.get(1), args.get(2));
    match read_stream(ctx.ks, ctx.reply, key) {
        Err(Replied) => false,
        Ok(s) if s.as_ref().is_some_and(|s| s.group(group).is_some()) => true,
        Ok(_) => {
            no_key_or_group(ctx, key, group);
            false
        }
    }
}

pub fn xclaim(ctx: &mut Ctx, args: Args) {
    if !claim_target(ctx, &args) {
        return;
    }
    let Some(min_idle) = parse_i64(args.get(4)) else {
        return ctx
            .reply
            .error("ERR Invalid min-idle-time argument for XCLAIM");
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_id(args.get(j), 0, true, false) {
            Some(IdArg::Exact(id)) => ids.push(id),
            _ => break,
        }
        j += 1;
    }
    let now = ctx.ks.now_ms;
    let (mut delivery, mut retry, mut force, mut just_id) = (None, None, false, false);
    let mut last_id = StreamId::ZERO;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        let mut number = |ctx: &mut Ctx, what: &str| {
            j += 1;
            let v = parse_i64(args.get(j));
            if v.is_none() {
                ctx.reply
                    .error(&format!("ERR Invalid {what} option argument for XCLAIM"));
            }
            v
        };
        if eq_ic(a, "force") {
            force = true;
        } else if eq_ic(a, "justid") {
            just_id = true;
        } else if eq_ic(a, "idle") && more > 0 {
            let Some(ms) = number(ctx, "IDLE") else {
                return;
            };
            delivery = Some(now.wrapping_sub(ms));
        } else if eq_ic(a, "time") && more > 0 {
            let Some(t) = number(ctx, "TIME") else {
                return;
            };
            delivery = Some(t);
        } else if eq_ic(a, "retrycount") && more > 0 {
            let Some(n) = number(ctx, "RETRYCOUNT") else {
                return;
            };
            retry = Some(n);
        } else if eq_ic(a, "lastid") && more > 0 {
            j += 1;
            let Some(id) = arg_id(ctx, args.get(j), 0, true) else {
                return;
            };
            last_id = id;
        } else {
            return ctx.reply.error(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(a)
            ));
        }
        j += 1;
    }
    let (group, consumer) = (args.get(2), args.get(3));
    if let Some(g) = ctx
        .ks
        .get_write(args.get(1))
        .and_then(|e| e.value.as_stream())
        .and_then(|s| s.group_mut(group))
        && last_id > g.last_id
    {
        g.last_id = last_id;
    }
    // A delivery time in the future or before the epoch is taken as now, as Redis does.
    let delivery_time = delivery.filter(|t| (0..=now).contains(t)).unwrap_or(now);
    let opts = ClaimOptions {
        min_idle: min_idle.max(0),
        delivery_time,
        retry_count: retry.and_then(|n| u64::try_from(n).ok()),
        force,
        just_id,
        now,
    };
    let key = args.get(1);
    let db = ctx.ks.db;
    let Some(s) = ctx.ks.get_write(key).and_then(|e| e.value.as_stream()) else {
        return;
    };
    let (claimed, created) = s.claim(group, consumer, &ids, opts);
    // Only the XCLAIMs below reach the AOF, never the command as sent.
    ctx.prop.replaced = true;
    if ctx.prop.on {
        for form in claim_forms(s, key, group, &claimed) {
            ctx.prop.push(db, form.iter().map(Vec::as_slice));
        }
    }
    let r = &mut *ctx.reply;
    r.array(claimed.len());
    for id in &claimed {
        match (just_id, s.get(*id)) {
            (false, Some(e)) => reply_entry(r, &e),
            _ => reply_id(r, *id),
        }
    }
    if created {
        ctx.ks.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    ctx.ks
        .count_changes(key, claimed.len() as u64 + created as u64);
}

pub fn xautoclaim(ctx: &mut Ctx, args: Args) {
    let Some(min_idle) = parse_i64(args.get(4)) else {
        return ctx
            .reply
            .error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    };
    let Some(start) = arg_bound(ctx, args.get(5), true) else {
        return;
    };
    let (mut count, mut just_id) = (100u64, false);
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        if eq_ic(a, "count") && more > 0 {
            // At most LONG_MAX / 16 so the scan budget (10 × count) cannot overflow.
            match parse_i64(args.get(j + 1)) {
                Some(n) if (1..=i64::MAX / 16).contains(&n) => count = n as u64,
                _ => return ctx.reply.error("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if eq_ic(a, "justid") {
            just_id = true;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 1;
    }
    if !claim_target(ctx, &args) {
        return;
    }
    // Redis allocates 16 bytes per COUNT up front; past what the address space allows (64
    // TiB on the Linux x86-64 machines it runs on) the allocation fails.
    if count >= 1 << 42 {
        return ctx
            .reply
            .error("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
    }
    let now = ctx.ks.now_ms;
    let (group, consumer) = (args.get(2), args.get(3));
    let key = args.get(1);
    let db = ctx.ks.db;
    let Some(s) = ctx.ks.get_write(key).and_then(|e| e.value.as_stream()) else {
        return;
    };
    let opts = ClaimOptions {
        min_idle: min_idle.max(0),
        delivery_time: now,
        retry_count: None,
        force: false,
        just_id,
        now,
    };
    let done = s.auto_claim(group, consumer, start, count, opts);
    // Only the XCLAIMs below reach the AOF, never the command as sent.
    ctx.prop.replaced = true;
    if ctx.prop.on {
        let mut forms = claim_forms(s, key, group, &done.claimed);
        // Entries deleted from the stream leave the PEL.
        for id in &done.deleted {
            let id = id.text().to_vec();
            forms.push(vec![b"XACK".to_vec(), key.to_vec(), group.to_vec(), id]);
        }
        for form in forms {
            ctx.prop.push(db, form.iter().map(Vec::as_slice));
        }
    }
    let r = &mut *ctx.reply;
    r.array(3);
    reply_id(r, done.next);
    r.array(done.claimed.len());
    for id in &done.claimed {
        match (just_id, s.get(*id)) {
            (false, Some(e)) => reply_entry(r, &e),
            _ => reply_id(r, *id),
        }
    }
    r.array(done.deleted.len());
    for id in &done.deleted {
        reply_id(r, *id);
    }
    if done.created {
        ctx.ks.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    let changes = done.claimed.len() + done.deleted.len() + done.created as usize;
    ctx.ks.count_changes(key, changes as u64);
}

/// How Redis propagates claims and group deliveries (streamPropagateXCLAIM): one XCLAIM per
/// pending entry, with its final owner, delivery time and count, and the group's last id.
fn claim_forms(s: &Stream, key: &[u8], group: &[u8], ids: &[StreamId]) -> Vec<Vec<Vec<u8>>> {
    let Some(g) = s.group(group) else {
        return Vec::new();
    };
    let last = g.last_id.text().to_vec();
    ids.iter()
        .filter_map(|id| {
            let nack = g.pel.get(id)?;
            Some(vec![
                b"XCLAIM".to_vec(),
                key.to_vec(),
                group.to_vec(),
                nack.consumer.to_vec(),
                b"0".to_vec(),
                id.text().to_vec(),
                b"TIME".to_vec(),
                nack.delivery_time.to_string().into_bytes(),
                b"RETRYCOUNT".to_vec(),
                nack.delivery_count.to_string().into_bytes(),
                b"FORCE".to_vec(),
                b"JUSTID".to_vec(),
                b"LASTID".to_vec(),
                last.clone(),
            ])
        })
        .collect()
}

/// What delivering new entries `ids` to `consumer` propagates: their XCLAIMs, or with NOACK
/// the group's new last id (XGROUP SETID ... ENTRIESREAD), after the consumer's creation when
/// this read `created` it.
fn delivery_forms(
    s: &Stream,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    ids: &[StreamId],
    noack: bool,
    created: bool,
) -> Vec<Vec<Vec<u8>>> {
    let mut forms = Vec::new();
    if created && noack {
        forms.push(
            [&b"XGROUP"[..], b"CREATECONSUMER", key, group, consumer]
                .map(<[u8]>::to_vec)
                .to_vec(),
        );
    }
    if ids.is_empty() {
        return forms;
    }
    if !noack {
        forms.extend(claim_forms(s, key, group, ids));
    } else if let Some(g) = s.group(group) {
        forms.push(vec![
            b"XGROUP".to_vec(),
            b"SETID".to_vec(),
            key.to_vec(),
            group.to_vec(),
            g.last_id.text().to_vec(),
            b"ENTRIESREAD".to_vec(),
            g.entries_read.unwrap_or(-1).to_string().into_bytes(),
        ]);
    }
    forms
}

// ----- XINFO -----

/// The stream at `key` without touching statistics or access time.
fn peek_stream<'a>(ks: &'a mut DbView, key: &[u8]) -> Option<&'a Stream> {
    match &ks.peek(key)?.value {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// The stream XINFO looks at ("no such key" when missing).
fn info_stream<'a>(ks: &'a mut DbView, reply: &mut Reply, key: &[u8]) -> Option<&'a mut Stream> {
    match read_stream(ks, reply, key) {
        Err(Replied) => None,
        Ok(None) => {
            reply.error("ERR no such key");
            None
        }
        Ok(Some(s)) => Some(s),
    }
}

fn reply_lag(reply: &mut Reply, lag: Option<i64>) {
    match lag {
        Some(n) => reply.int(n),
        None => reply.null(),
    }
}

pub fn xinfo_stream(ctx: &mut Ctx, args: Args) {
    let key = args.get(2);
    if info_stream(ctx.ks, ctx.reply, key).is_none() {
        return;
    }
    let optc = args.len() - 3;
    let full = optc > 0;
    let mut count = 10i64;
    if full {
        let ok = (optc == 1 || optc == 3)
            && eq_ic(args.get(3), "full")
            && (optc == 1 || eq_ic(args.get(4), "count"));
        if !ok {
            return subcommand_syntax_error(ctx, &args);
        }
        if optc == 3 {
            let Some(n) = arg_i64(ctx, args.get(5)) else {
                return;
            };
            count = if n < 0 { 10 } else { n };
        }
    }
    let Some(s) = peek_stream(ctx.ks, key) else {
        return;
    };
    let r = &mut *ctx.reply;
    r.map(if full { 9 } else { 10 });
    r.bulk(b"length");
    r.int(s.len() as i64);
    r.bulk(b"radix-tree-keys");
    r.int(s.node_count() as i64);
    r.bulk(b"radix-tree-nodes");
    r.int(s.radix_tree_nodes() as i64);
    r.bulk(b"last-generated-id");
    reply_id(r, s.last_id);
    r.bulk(b"max-deleted-entry-id");
    reply_id(r, s.max_deleted);
    r.bulk(b"entries-added");
    r.int(s.entries_added as i64);
    r.bulk(b"recorded-first-entry-id");
    reply_id(r, s.first_id);
    if !full {
        r.bulk(b"groups");
        r.int(s.groups.len() as i64);
        r.bulk(b"first-entry");
        match s.first_entry() {
            Some(e) => reply_entry(r, &e),
            None => r.null(),
        }
        r.bulk(b"last-entry");
        match s.last_entry() {
            Some(e) => reply_entry(r, &e),
            None => r.null(),
        }
        return;
    }
    let take = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    r.bulk(b"entries");
    let entries: Vec<Entry> = s.range(StreamId::ZERO, StreamId::MAX).take(take).collect();
    reply_entries(r, &entries);
    r.bulk(b"groups");
    r.array(s.groups.len());
    for (name, g) in &s.groups {
        r.map(7);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_lag(r, g.entries_read);
        r.bulk(b"lag");
        reply_lag(r, s.lag(g));
        r.bulk(b"pel-count");
        r.int(g.pel.len() as i64);
        r.bulk(b"pending");
        r.array(g.pel.len().min(take));
        for (id, nack) in g.pel.iter().take(take) {
            r.array(4);
            reply_id(r, *id);
            r.bulk(&nack.consumer);
            r.int(nack.delivery_time);
            r.int(nack.delivery_count as i64);
        }
        r.bulk(b"consumers");
        r.array(g.consumers.len());
        for (name, c) in &g.consumers {
            r.map(4);
            r.bulk(b"name");
            r.bulk(name);
            r.bulk(b"seen-time");
            r.int(c.seen_time);
            r.bulk(b"pel-count");
            r.int(c.pending.len() as i64);
            r.bulk(b"pending");
            r.array(c.pending.len().min(take));
            for id in c.pending.iter().take(take) {
                let nack = &g.pel[id];
                r.array(3);
                reply_id(r, *id);
                r.int(nack.delivery_time);
                r.int(nack.delivery_count as i64);
            }
        }
    }
}

pub fn xinfo_groups(ctx: &mut Ctx, args: Args) {
    let Some(s) = info_stream(ctx.ks, ctx.reply, args.get(2)) else {
        return;
    };
    let s: &Stream = s;
    let r = &mut *ctx.reply;
    r.array(s.groups.len());
    for (name, g) in &s.groups {
        r.map(6);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"consumers");
        r.int(g.consumers.len() as i64);
        r.bulk(b"pending");
        r.int(g.pel.len() as i64);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_lag(r, g.entries_read);
        r.bulk(b"lag");
        reply_lag(r, s.lag(g));
    }
}

pub fn xinfo_consumers(ctx: &mut Ctx, args: Args) {
    let (key, group) = (args.get(2), args.get(3));
    let now = ctx.ks.now_ms;
    let Some(s) = info_stream(ctx.ks, ctx.reply, key) else {
        return;
    };
    let Some(g) = s.group(group) else {
        return no_such_group(ctx, group, key);
    };
    let r = &mut *ctx.reply;
    r.array(g.consumers.len());
    for (name, c) in &g.consumers {
        r.map(3);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"pending");
        r.int(c.pending.len() as i64);
        r.bulk(b"idle");
        r.int((now - c.seen_time).max(0));
    }
}

pub fn xinfo_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
}

const STREAM: u32 = CAT_STREAM;

pub static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, WRITE | DENYOOM, STREAM, xgroup_create)
        .keys(2, 2, 1)
        .key_flags(&["RW", "insert"])
        .doc("stream", "5.0.0", "O(1)", "Create a consumer group."),
    CommandSpec::new("setid", -5, WRITE, STREAM, xgroup_setid)
        .keys(2, 2, 1)
        .doc(
            "stream",
            "5.0.0",
            "O(1)",
            "Set a consumer group to an arbitrary last delivered ID value.",
        ),
    CommandSpec::new("destroy", 4, WRITE, STREAM, xgroup_destroy)
        .keys(2, 2, 1)
        .key_flags(&["RW", "delete"])
        .doc(
            "stream",
            "5.0.0",
            "O(N) where N is the number of entries in the group's pending entries list (PEL).",
            "Destroy a consumer group.",
        ),
    CommandSpec::new(
        "createconsumer",
        5,
        WRITE | DENYOOM,
        STREAM,
        xgroup_createconsumer,
    )
    .keys(2, 2, 1)
    .key_flags(&["RW", "insert"])
    .doc(
        "stream",
        "6.2.0",
        "O(1)",
        "Create a consumer in a consumer group.",
    ),
    CommandSpec::new("delconsumer", 5, WRITE, STREAM, xgroup_delconsumer)
        .keys(2, 2, 1)
        .key_flags(&["RW", "delete"])
        .doc(
            "stream",
            "5.0.0",
            "O(1)",
            "Delete a consumer from a consumer group.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, STREAM, xgroup_help).doc(
        "stream",
        "5.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
];

pub static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("stream", -3, READONLY, STREAM, xinfo_stream)
        .keys(2, 2, 1)
        .doc("stream", "5.0.0", "O(1)", "Get information about a stream"),
    CommandSpec::new("groups", 3, READONLY, STREAM, xinfo_groups)
        .keys(2, 2, 1)
        .doc(
            "stream",
            "5.0.0",
            "O(1)",
            "List the consumer groups of a stream",
        ),
    CommandSpec::new("consumers", 4, READONLY, STREAM, xinfo_consumers)
        .keys(2, 2, 1)
        .tips(&["nondeterministic_output"])
        .doc(
            "stream",
            "5.0.0",
            "O(1)",
            "List the consumers in a consumer group",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, STREAM, xinfo_help).doc(
        "stream",
        "5.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
];
