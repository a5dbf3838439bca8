//! List commands (t_list.c): pushes and pops at both ends, index and range access, LINSERT,
//! LREM, LTRIM, LPOS, LMOVE, LMPOP, and the blocking forms (served by `server::blocking`).

use super::{
    Ctx, NOT_INT, Replied, SYNTAX_ERR, arg_i64, create_typed, eq_ic, read_typed, remove_if_empty,
    reply_elem, write_typed,
};
use crate::protocol::{Args, Reply};
use crate::server::blocking::{self, BlockedOp};
use crate::server::notify;
use crate::storage::list::{Elem, End, Needle, OwnedElem};
use crate::storage::{DbView, Value};
use crate::util::num::parse_i64;

fn new_list() -> Value {
    Value::List(Box::default())
}

fn fill(ctx: &Ctx) -> i64 {
    ctx.server.hot.encoding_limits().list_max_listpack_size
}

fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// LEFT or RIGHT (case-insensitive).
fn parse_end(a: &[u8]) -> Option<End> {
    if eq_ic(a, "left") {
        Some(End::Left)
    } else if eq_ic(a, "right") {
        Some(End::Right)
    } else {
        None
    }
}

fn push_generic(ctx: &mut Ctx, args: Args, end: End, only_existing: bool) {
    let key = args.get(1);
    let fill = fill(ctx);
    let list = if only_existing {
        match write_typed(ctx.ks, ctx.reply, key, Value::as_list) {
            Err(Replied) => return,
            Ok(None) => return ctx.reply.int(0),
            Ok(Some(l)) => l,
        }
    } else {
        match create_typed(ctx.ks, ctx.reply, key, Value::as_list, new_list) {
            Err(Replied) => return,
            Ok(l) => l,
        }
    };
    for v in args.iter().skip(2) {
        list.push(end, v, fill);
    }
    let len = list.len();
    ctx.ks.mark_dirty(key, (args.len() - 2) as u64);
    ctx.ks.notify(notify::LIST, push_event(end), key);
    ctx.reply.int(len as i64);
}

pub fn lpush(ctx: &mut Ctx, args: Args) {
    push_generic(ctx, args, End::Left, false);
}

pub fn rpush(ctx: &mut Ctx, args: Args) {
    push_generic(ctx, args, End::Right, false);
}

pub fn lpushx(ctx: &mut Ctx, args: Args) {
    push_generic(ctx, args, End::Left, true);
}

pub fn rpushx(ctx: &mut Ctx, args: Args) {
    push_generic(ctx, args, End::Right, true);
}

/// Pops up to `count` elements from one end of the list at `key` (which must be a non-empty
/// list), notifying and deleting the key once empty. Shared by the pops, LMPOP and the blocked
/// clients served by `server::blocking`.
pub fn pop_elements(ks: &mut DbView, key: &[u8], end: End, count: usize) -> Vec<OwnedElem> {
    let Some(Some(list)) = ks.get_write(key).map(|e| e.value.as_list()) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(count.min(list.len()));
    while out.len() < count {
        match list.pop(end) {
            Some(v) => out.push(v),
            None => break,
        }
    }
    let empty = list.is_empty();
    ks.mark_dirty(key, out.len() as u64);
    ks.notify(notify::LIST, pop_event(end), key);
    remove_if_empty(ks, key, empty);
    out
}

fn pop_generic(ctx: &mut Ctx, args: Args, end: End) {
    if args.len() > 3 {
        return ctx.reply.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            pop_event(end)
        ));
    }
    let count = if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                return ctx
                    .reply
                    .error("ERR value is out of range, must be positive");
            }
        }
    } else {
        None
    };
    let key = args.get(1);
    match write_typed(ctx.ks, ctx.reply, key, Value::as_list) {
        Err(Replied) => return,
        Ok(None) => {
            return match count {
                Some(_) => ctx.reply.null_array(),
                None => ctx.reply.null(),
            };
        }
        Ok(Some(_)) => {}
    }
    match count {
        None => {
            let v = pop_elements(ctx.ks, key, end, 1);
            reply_elem(ctx.reply, v[0].as_elem());
        }
        Some(0) => ctx.reply.array(0),
        Some(n) => {
            let vs = pop_elements(ctx.ks, key, end, n);
            ctx.reply.array(vs.len());
            for v in &vs {
                reply_elem(ctx.reply, v.as_elem());
            }
        }
    }
}

pub fn lpop(ctx: &mut Ctx, args: Args) {
    pop_generic(ctx, args, End::Left);
}

pub fn rpop(ctx: &mut Ctx, args: Args) {
    pop_generic(ctx, args, End::Right);
}

pub fn llen(ctx: &mut Ctx, args: Args) {
    if let Ok(l) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_list) {
        ctx.reply.int(l.map_or(0, |l| l.len() as i64));
    }
}

/// A Redis list index (negative counts from the tail) resolved against `len`.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { index + len as i64 } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

pub fn lindex(ctx: &mut Ctx, args: Args) {
    let list = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.null(),
        Ok(Some(l)) => l,
    };
    let Some(index) = parse_i64(args.get(2)) else {
        return ctx.reply.error(NOT_INT);
    };
    match resolve_index(index, list.len()).and_then(|i| list.get(i)) {
        Some(v) => reply_elem(ctx.reply, v),
        None => ctx.reply.null(),
    }
}

pub fn lset(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let fill = fill(ctx);
    let list = match write_typed(ctx.ks, ctx.reply, key, Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.error("ERR no such key"),
        Ok(Some(l)) => l,
    };
    let Some(index) = parse_i64(args.get(2)) else {
        return ctx.reply.error(NOT_INT);
    };
    let Some(i) = resolve_index(index, list.len()) else {
        return ctx.reply.error("ERR index out of range");
    };
    list.set(i, args.get(3), fill);
    ctx.ks.mark_dirty(key, 1);
    ctx.ks.notify(notify::LIST, "lset", key);
    ctx.reply.ok();
}

/// Start and end (inclusive) of a LRANGE/LTRIM range over `len` elements; None when empty.
fn resolve_range(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

pub fn lrange(ctx: &mut Ctx, args: Args) {
    let Some(start) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    let Some(end) = arg_i64(ctx, args.get(3)) else {
        return;
    };
    let list = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.array(0),
        Ok(Some(l)) => l,
    };
    match resolve_range(start, end, list.len()) {
        None => ctx.reply.array(0),
        Some((s, e)) => {
            ctx.reply.array(e - s + 1);
            for v in list.range(s, e + 1) {
                reply_elem(ctx.reply, v);
            }
        }
    }
}

pub fn ltrim(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let Some(start) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    let Some(end) = arg_i64(ctx, args.get(3)) else {
        return;
    };
    let list = match write_typed(ctx.ks, ctx.reply, key, Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.ok(),
        Ok(Some(l)) => l,
    };
    match resolve_range(start, end, list.len()) {
        None => list.clear(),
        Some((s, e)) => list.retain_range(s, e),
    }
    let empty = list.is_empty();
    ctx.ks.mark_dirty(key, 1);
    ctx.ks.notify(notify::LIST, "ltrim", key);
    remove_if_empty(ctx.ks, key, empty);
    ctx.reply.ok();
}

pub fn linsert(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let after = if eq_ic(args.get(2), "after") {
        true
    } else if eq_ic(args.get(2), "before") {
        false
    } else {
        return ctx.reply.error(SYNTAX_ERR);
    };
    let fill = fill(ctx);
    let list = match write_typed(ctx.ks, ctx.reply, key, Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(l)) => l,
    };
    let pivot = Needle::new(args.get(3));
    let Some(at) = list.iter().position(|e| pivot.matches(e)) else {
        return ctx.reply.int(-1);
    };
    list.insert(at + after as usize, args.get(4), fill);
    let len = list.len();
    ctx.ks.mark_dirty(key, 1);
    ctx.ks.notify(notify::LIST, "linsert", key);
    ctx.reply.int(len as i64);
}

pub fn lrem(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let Some(count) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    let list = match write_typed(ctx.ks, ctx.reply, key, Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(l)) => l,
    };
    let removed = list.remove_matching(args.get(3), count.unsigned_abs() as usize, count < 0);
    let empty = list.is_empty();
    if removed > 0 {
        ctx.ks.mark_dirty(key, removed as u64);
        ctx.ks.notify(notify::LIST, "lrem", key);
        remove_if_empty(ctx.ks, key, empty);
    }
    ctx.reply.int(removed as i64);
}

pub fn lpos(ctx: &mut Ctx, args: Args) {
    let element = args.get(2);
    let (mut rank, mut count, mut maxlen) = (1i64, None::<usize>, 0usize);
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        if j + 1 >= args.len() {
            return ctx.reply.error(SYNTAX_ERR);
        }
        // COUNT and MAXLEN take "a positive integer": any other text gets their own error.
        let parsed = parse_i64(args.get(j + 1));
        let v = if eq_ic(opt, "rank") {
            let Some(v) = arg_i64(ctx, args.get(j + 1)) else {
                return;
            };
            v
        } else {
            parsed.unwrap_or(-1)
        };
        if eq_ic(opt, "rank") {
            if v == 0 {
                return ctx.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
            rank = v;
        } else if eq_ic(opt, "count") {
            if v < 0 {
                return ctx.reply.error("ERR COUNT can't be negative");
            }
            count = Some(v as usize);
        } else if eq_ic(opt, "maxlen") {
            if v < 0 {
                return ctx.reply.error("ERR MAXLEN can't be negative");
            }
            maxlen = v as usize;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 2;
    }
    let list = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_list) {
        Err(Replied) => return,
        Ok(None) => {
            return if count.is_some() {
                ctx.reply.array(0)
            } else {
                ctx.reply.null()
            };
        }
        Ok(Some(l)) => l,
    };
    let len = list.len();
    let scan = if maxlen == 0 { len } else { maxlen.min(len) };
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    // Redis negates the rank in a 64-bit integer: i64::MIN stays negative and matches first.
    let mut skip = if rank == i64::MIN {
        0
    } else {
        rank.unsigned_abs() as usize - 1
    };
    let mut found: Vec<usize> = Vec::new();
    let needle = Needle::new(element);
    let matches = |(i, e): (usize, Elem)| needle.matches(e).then_some(i);
    let positions: Box<dyn Iterator<Item = usize>> = if rank > 0 {
        Box::new(list.iter().take(scan).enumerate().filter_map(matches))
    } else {
        Box::new(
            list.iter()
                .rev()
                .take(scan)
                .enumerate()
                .filter_map(matches)
                .map(|i| len - 1 - i),
        )
    };
    for i in positions {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        found.push(i);
        if found.len() >= want {
            break;
        }
    }
    if count.is_some() {
        ctx.reply.array(found.len());
        for i in found {
            ctx.reply.int(i as i64);
        }
    } else {
        match found.first() {
            Some(&i) => ctx.reply.int(i as i64),
            None => ctx.reply.null(),
        }
    }
}

/// Moves one element from `src` to `dst` (both checked to be lists or missing, `src`
/// non-empty), with Redis's notifications: the push first, then the pop. Returns the element.
pub fn move_element(
    ks: &mut DbView,
    reply: &mut Reply,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    fill: i64,
) -> Result<OwnedElem, Replied> {
    // The destination's type is checked before anything moves.
    write_typed(ks, reply, dst, Value::as_list)?;
    let Some(list) = write_typed(ks, reply, src, Value::as_list)? else {
        return Err(Replied);
    };
    let Some(value) = list.pop(from) else {
        return Err(Replied);
    };
    let src_empty = list.is_empty();
    ks.mark_dirty(src, 1);
    // Redis deletes an emptied source only after the push, so LMOVE k k on a one-element list
    // keeps it.
    let dst_list = create_typed(ks, reply, dst, Value::as_list, new_list)?;
    dst_list.push_elem(to, value.as_elem(), fill);
    ks.mark_dirty(dst, 1);
    ks.notify(notify::LIST, push_event(to), dst);
    ks.notify(notify::LIST, pop_event(from), src);
    let src_empty = src_empty
        && ks
            .get_write(src)
            .and_then(|e| e.value.as_list())
            .is_some_and(|l| l.is_empty());
    remove_if_empty(ks, src, src_empty);
    Ok(value)
}

fn lmove_generic(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) {
    let fill = fill(ctx);
    match write_typed(ctx.ks, ctx.reply, src, Value::as_list) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.null(),
        Ok(Some(_)) => {}
    }
    if let Ok(v) = move_element(ctx.ks, ctx.reply, src, dst, from, to, fill) {
        reply_elem(ctx.reply, v.as_elem());
    }
}

pub fn lmove(ctx: &mut Ctx, args: Args) {
    let (Some(from), Some(to)) = (parse_end(args.get(3)), parse_end(args.get(4))) else {
        return ctx.reply.error(SYNTAX_ERR);
    };
    lmove_generic(ctx, args.get(1), args.get(2), from, to);
}

pub fn rpoplpush(ctx: &mut Ctx, args: Args) {
    lmove_generic(ctx, args.get(1), args.get(2), End::Right, End::Left);
}

/// The options of LMPOP/BLMPOP after the keys: (end, count).
fn parse_mpop(ctx: &mut Ctx, args: &Args, keys_end: usize) -> Option<(End, usize)> {
    let Some(end) = (keys_end < args.len())
        .then(|| parse_end(args.get(keys_end)))
        .flatten()
    else {
        ctx.reply.error(SYNTAX_ERR);
        return None;
    };
    let count = super::parse_mpop_count(ctx.reply, args, keys_end + 1)?;
    Some((end, count))
}

/// numkeys and the index one past the last key, with Redis's errors.
fn parse_numkeys(ctx: &mut Ctx, args: &Args, at: usize) -> Option<usize> {
    let n = match parse_i64(args.get(at)) {
        Some(n) if n > 0 && n <= i32::MAX as i64 => n as usize,
        _ => {
            ctx.reply.error("ERR numkeys should be greater than 0");
            return None;
        }
    };
    if n > args.len() - at - 1 {
        ctx.reply.error(SYNTAX_ERR);
        return None;
    }
    Some(at + 1 + n)
}

/// The first of `keys` holding a non-empty list.
fn first_nonempty<'k>(
    ks: &mut DbView,
    reply: &mut Reply,
    keys: impl Iterator<Item = &'k [u8]>,
) -> Result<Option<&'k [u8]>, Replied> {
    super::first_nonempty(
        ks,
        reply,
        keys,
        Value::as_list,
        crate::storage::List::is_empty,
    )
}

/// Writes LMPOP's reply for a pop of up to `count` from `key`: [key, [elements]]. Returns
/// how many it popped.
pub fn reply_mpop(ks: &mut DbView, reply: &mut Reply, key: &[u8], end: End, count: usize) -> usize {
    let vs = pop_elements(ks, key, end, count);
    reply.array(2);
    reply.bulk(key);
    reply.array(vs.len());
    for v in &vs {
        reply_elem(reply, v.as_elem());
    }
    vs.len()
}

pub fn lmpop(ctx: &mut Ctx, args: Args) {
    let Some(keys_end) = parse_numkeys(ctx, &args, 1) else {
        return;
    };
    let Some((end, count)) = parse_mpop(ctx, &args, keys_end) else {
        return;
    };
    let keys = (2..keys_end).map(|i| args.get(i));
    match first_nonempty(ctx.ks, ctx.reply, keys) {
        Err(Replied) => {}
        Ok(None) => ctx.reply.null_array(),
        Ok(Some(key)) => {
            let count = reply_mpop(ctx.ks, ctx.reply, key, end, count);
            ctx.propagate_served(&BlockedOp::MPop { end, count }, key);
        }
    }
}

/// Parses a blocking timeout in seconds (a float) into an absolute unix ms deadline, 0 for
/// none, with Redis's errors.
pub fn parse_timeout(ctx: &mut Ctx, a: &[u8]) -> Option<i64> {
    // Redis reads a long double: values past f64's range are still numbers (and too large).
    let parsed = crate::util::num::parse_f64(a).or_else(|| {
        std::str::from_utf8(a)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|v| v.is_infinite() && !has_letters(a))
    });
    let Some(secs) = parsed.filter(|v| !v.is_nan()) else {
        ctx.reply
            .error("ERR timeout is not a float or out of range");
        return None;
    };
    let ms = (secs * 1000.0).ceil();
    // Redis converts to a 64-bit integer, so anything past its range wraps negative.
    if ms < 0.0 || ms >= i64::MAX as f64 {
        ctx.reply.error("ERR timeout is negative");
        return None;
    }
    Some(if ms == 0.0 {
        0
    } else {
        ctx.ks.now_ms.saturating_add(ms as i64)
    })
}

/// "inf", "infinity" and the like, which Rust's float parser takes but Redis's parse does not
/// produce from digits.
fn has_letters(a: &[u8]) -> bool {
    a.iter()
        .any(|c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E'))
}

fn blocking_pop(ctx: &mut Ctx, args: Args, end: End) {
    let Some(deadline) = parse_timeout(ctx, args.get(args.len() - 1)) else {
        return;
    };
    let keys = (1..args.len() - 1).map(|i| args.get(i));
    match first_nonempty(ctx.ks, ctx.reply, keys.clone()) {
        Err(Replied) => {}
        Ok(Some(key)) => {
            let v = pop_elements(ctx.ks, key, end, 1);
            ctx.reply.array(2);
            ctx.reply.bulk(key);
            reply_elem(ctx.reply, v[0].as_elem());
            ctx.propagate_served(&BlockedOp::Pop(end), key);
        }
        Ok(None) => blocking::block(ctx, keys, deadline, BlockedOp::Pop(end)),
    }
}

pub fn blpop(ctx: &mut Ctx, args: Args) {
    blocking_pop(ctx, args, End::Left);
}

pub fn brpop(ctx: &mut Ctx, args: Args) {
    blocking_pop(ctx, args, End::Right);
}

pub fn blmpop(ctx: &mut Ctx, args: Args) {
    let Some(deadline) = parse_timeout(ctx, args.get(1)) else {
        return;
    };
    let Some(keys_end) = parse_numkeys(ctx, &args, 2) else {
        return;
    };
    let Some((end, count)) = parse_mpop(ctx, &args, keys_end) else {
        return;
    };
    let keys = (3..keys_end).map(|i| args.get(i));
    match first_nonempty(ctx.ks, ctx.reply, keys.clone()) {
        Err(Replied) => {}
        Ok(Some(key)) => {
            let count = reply_mpop(ctx.ks, ctx.reply, key, end, count);
            ctx.propagate_served(&BlockedOp::MPop { end, count }, key);
        }
        Ok(None) => blocking::block(ctx, keys, deadline, BlockedOp::MPop { end, count }),
    }
}

/// BLMOVE and BRPOPLPUSH (`op` is their `BlockedOp::Move`).
fn blocking_move(ctx: &mut Ctx, src: &[u8], op: BlockedOp, deadline: i64) {
    let BlockedOp::Move { from, to, dest, .. } = &op else {
        unreachable!("blocking_move is given a move");
    };
    let (from, to) = (*from, *to);
    let fill = fill(ctx);
    match write_typed(ctx.ks, ctx.reply, src, Value::as_list) {
        Err(Replied) => {}
        Ok(Some(l)) if !l.is_empty() => {
            if let Ok(v) = move_element(ctx.ks, ctx.reply, src, dest, from, to, fill) {
                reply_elem(ctx.reply, v.as_elem());
                ctx.propagate_served(&op, src);
            }
        }
        Ok(_) => blocking::block(ctx, std::iter::once(src), deadline, op),
    }
}

pub fn blmove(ctx: &mut Ctx, args: Args) {
    let (Some(from), Some(to)) = (parse_end(args.get(3)), parse_end(args.get(4))) else {
        return ctx.reply.error(SYNTAX_ERR);
    };
    let Some(deadline) = parse_timeout(ctx, args.get(5)) else {
        return;
    };
    let op = BlockedOp::Move {
        from,
        to,
        dest: args.get(2).to_vec(),
        rpoplpush: false,
    };
    blocking_move(ctx, args.get(1), op, deadline);
}

pub fn brpoplpush(ctx: &mut Ctx, args: Args) {
    let Some(deadline) = parse_timeout(ctx, args.get(3)) else {
        return;
    };
    let op = BlockedOp::Move {
        from: End::Right,
        to: End::Left,
        dest: args.get(2).to_vec(),
        rpoplpush: true,
    };
    blocking_move(ctx, args.get(1), op, deadline);
}

/// Serves one blocked list client from `key`, if it holds a non-empty list (called by
/// `server::blocking` with the key's shard, and a move's destination shard, locked).
/// Returns false when the key has nothing for it (it stays blocked).
pub fn serve_blocked(
    ks: &mut DbView,
    reply: &mut Reply,
    key: &[u8],
    op: &BlockedOp,
    fill: i64,
) -> bool {
    let has_elements = ks
        .get_write(key)
        .and_then(|e| e.value.as_list())
        .is_some_and(|l| !l.is_empty());
    if !has_elements {
        return false;
    }
    match op {
        BlockedOp::Pop(end) => {
            let v = pop_elements(ks, key, *end, 1);
            reply.array(2);
            reply.bulk(key);
            reply_elem(reply, v[0].as_elem());
        }
        BlockedOp::MPop { end, count } => {
            reply_mpop(ks, reply, key, *end, *count);
        }
        BlockedOp::Move { from, to, dest, .. } => {
            if let Ok(v) = move_element(ks, reply, key, dest, *from, *to, fill) {
                reply_elem(reply, v.as_elem());
            }
        }
        BlockedOp::ZPop(_) | BlockedOp::ZMPop { .. } => {
            unreachable!("sorted set waiters are served by sorted_sets")
        }
        BlockedOp::XRead { .. } | BlockedOp::XReadGroup { .. } => {
            unreachable!("stream readers are served by streams")
        }
    }
    true
}
