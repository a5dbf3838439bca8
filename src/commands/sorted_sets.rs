//! Sorted set commands (Z*). The data structure and its range walks live in `storage::zset`;
//! these handlers parse options, check them in Redis's order and shape the replies.

use super::lists;
use super::{
    Ctx, NOT_FLOAT, Replied, SYNTAX_ERR, WRONGTYPE, arg_i64, create_typed, eq_ic, read_typed,
    remove_if_empty, write_typed,
};
use crate::protocol::{Args, Reply};
use crate::server::blocking::{self, BlockedOp};
use crate::server::notify;
use crate::storage::zset::{AddFlags, AddOutcome, LexRange, ScoreRange, ZRange};
use crate::storage::{DbView, EncodingLimits, SetValue, Value, ZSet};
use crate::util::num::{fmt_double_resp, fmt_i64, parse_f64, parse_i64};

const SCORE_RANGE_ERR: &str = "ERR min or max is not a float";
const LEX_RANGE_ERR: &str = "ERR min or max not valid string range item";
const POSITIVE_ERR: &str = "ERR value is out of range, must be positive";

fn limits(ctx: &Ctx) -> EncodingLimits {
    ctx.server.hot.encoding_limits()
}

/// The array header of `count` elements, with scores: flat pairs in RESP2, [member, score]
/// arrays in RESP3.
fn elements_header(reply: &mut Reply, count: usize, withscores: bool) {
    if withscores && !reply.is_resp3() {
        reply.array(count * 2);
    } else {
        reply.array(count);
    }
}

fn element(reply: &mut Reply, member: &[u8], score: f64, withscores: bool) {
    if withscores {
        if reply.is_resp3() {
            reply.array(2);
        }
        reply.bulk(member);
        reply.double(score);
    } else {
        reply.bulk(member);
    }
}

/// Parses a long that must not be negative (getPositiveLongFromObjectOrReply).
fn positive(reply: &mut Reply, arg: &[u8], err: &str) -> Option<i64> {
    match parse_i64(arg) {
        Some(v) if v >= 0 => Some(v),
        _ => {
            reply.error(err);
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY

pub fn zadd(ctx: &mut Ctx, args: Args) {
    zadd_generic(ctx, args, false);
}

pub fn zincrby(ctx: &mut Ctx, args: Args) {
    zadd_generic(ctx, args, true);
}

/// ZADD and ZINCRBY (ZADD INCR with the increment first), option parsing included: like Redis,
/// ZINCRBY's increment is taken as an option when it spells one.
fn zadd_generic(ctx: &mut Ctx, args: Args, incr: bool) {
    let mut flags = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut first = 2;
    while first < args.len() {
        let a = args.get(first);
        if eq_ic(a, "nx") {
            flags.nx = true;
        } else if eq_ic(a, "xx") {
            flags.xx = true;
        } else if eq_ic(a, "ch") {
            ch = true;
        } else if eq_ic(a, "incr") {
            flags.incr = true;
        } else if eq_ic(a, "gt") {
            flags.gt = true;
        } else if eq_ic(a, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        first += 1;
    }
    let pairs = args.len() - first;
    if pairs == 0 || !pairs.is_multiple_of(2) {
        return ctx.reply.error(SYNTAX_ERR);
    }
    if flags.nx && flags.xx {
        return ctx
            .reply
            .error("ERR XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return ctx
            .reply
            .error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && pairs > 2 {
        return ctx
            .reply
            .error("ERR INCR option supports a single increment-element pair");
    }
    if (first..args.len())
        .step_by(2)
        .any(|i| parse_f64(args.get(i)).is_none())
    {
        return ctx.reply.error(NOT_FLOAT);
    }
    let items = (first..args.len()).step_by(2).map(|i| {
        (
            parse_f64(args.get(i)).expect("checked above"),
            args.get(i + 1),
        )
    });
    add_checked(ctx, args.get(1), flags, ch, items);
}

/// ZADD's work once its arguments are checked (shared with GEOADD): creates the key unless XX
/// (its encoding chosen by the first member, as Redis does), adds the members, replies and
/// notifies.
pub fn add_checked<'a>(
    ctx: &mut Ctx,
    key: &[u8],
    flags: AddFlags,
    ch: bool,
    mut items: impl Iterator<Item = (f64, &'a [u8])>,
) {
    let lim = limits(ctx);
    let Some(first) = items.next() else {
        return ctx.reply.error(SYNTAX_ERR);
    };
    let z = if flags.xx {
        match write_typed(ctx.ks, ctx.reply, key, Value::as_zset) {
            Err(Replied) => return,
            Ok(Some(z)) => z,
            Ok(None) => {
                return if flags.incr {
                    ctx.reply.null()
                } else {
                    ctx.reply.int(0)
                };
            }
        }
    } else {
        let make = || Value::ZSet(ZSet::for_first_member(first.1.len(), &lim));
        match create_typed(ctx.ks, ctx.reply, key, Value::as_zset, make) {
            Ok(z) => z,
            Err(Replied) => return,
        }
    };
    let (mut added, mut updated) = (0, 0);
    let mut last = None;
    for (score, member) in std::iter::once(first).chain(items) {
        match z.add(member, score, flags, &lim) {
            AddOutcome::Added(s) => {
                added += 1;
                last = Some(s);
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                last = Some(s);
            }
            AddOutcome::Unchanged(s) => last = Some(s),
            AddOutcome::Skipped => {}
            AddOutcome::NotANumber => {
                // Only INCR gets here, with its single member: nothing was changed.
                return ctx.reply.error("ERR resulting score is not a number (NaN)");
            }
        }
    }
    if flags.incr {
        match last {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    } else {
        ctx.reply.int(if ch { added + updated } else { added });
    }
    if added + updated > 0 {
        ctx.ks.mark_dirty(key, (added + updated) as u64);
        let event = if flags.incr { "zincr" } else { "zadd" };
        ctx.ks.notify(notify::ZSET, event, key);
    }
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT

pub fn zrem(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let z = match write_typed(ctx.ks, ctx.reply, key, Value::as_zset) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(z)) => z,
    };
    let mut deleted = 0;
    for m in args.iter().skip(2) {
        deleted += z.remove(m) as i64;
        if z.is_empty() {
            break;
        }
    }
    let empty = z.is_empty();
    if deleted > 0 {
        ctx.ks.mark_dirty(key, deleted as u64);
        ctx.ks.notify(notify::ZSET, "zrem", key);
        remove_if_empty(ctx.ks, key, empty);
    }
    ctx.reply.int(deleted);
}

pub fn zcard(ctx: &mut Ctx, args: Args) {
    if let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) {
        ctx.reply.int(z.map_or(0, |z| z.len() as i64));
    }
}

pub fn zscore(ctx: &mut Ctx, args: Args) {
    if let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) {
        match z.and_then(|z| z.score(args.get(2))) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
}

pub fn zmscore(ctx: &mut Ctx, args: Args) {
    let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) else {
        return;
    };
    ctx.reply.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
}

pub fn zrank(ctx: &mut Ctx, args: Args) {
    rank_generic(ctx, args, false);
}

pub fn zrevrank(ctx: &mut Ctx, args: Args) {
    rank_generic(ctx, args, true);
}

fn rank_generic(ctx: &mut Ctx, args: Args, rev: bool) {
    let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) else {
        return;
    };
    match z.and_then(|z| z.rank(args.get(2)).map(|r| (r, z.len()))) {
        Some((r, len)) => ctx.reply.int(if rev { len - 1 - r } else { r } as i64),
        None => ctx.reply.null(),
    }
}

pub fn zcount(ctx: &mut Ctx, args: Args) {
    let Some(range) = ScoreRange::parse(args.get(2), args.get(3)) else {
        return ctx.reply.error(SCORE_RANGE_ERR);
    };
    count_generic(ctx, args.get(1), &range);
}

pub fn zlexcount(ctx: &mut Ctx, args: Args) {
    let Some(range) = LexRange::parse(args.get(2), args.get(3)) else {
        return ctx.reply.error(LEX_RANGE_ERR);
    };
    count_generic(ctx, args.get(1), &range);
}

fn count_generic(ctx: &mut Ctx, key: &[u8], range: &impl ZRange) {
    if let Ok(z) = read_typed(ctx.ks, ctx.reply, key, Value::as_zset) {
        let n = z.and_then(|z| z.resolve_range(range, false, 0, -1));
        ctx.reply.int(n.map_or(0, |(_, count)| count as i64));
    }
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and friends, ZRANGESTORE

#[derive(Clone, Copy, PartialEq)]
enum RangeBy {
    Rank,
    Score,
    Lex,
}

/// What a ZRANGE-like command selects, parsed and validated before the key is looked up.
enum Selection<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

pub fn zrange(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, None, None, None);
}

pub fn zrangestore(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, Some(args.get(1)), None, None);
}

pub fn zrevrange(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, None, Some(RangeBy::Rank), Some(true));
}

pub fn zrangebyscore(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, None, Some(RangeBy::Score), Some(false));
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, None, Some(RangeBy::Score), Some(true));
}

pub fn zrangebylex(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, None, Some(RangeBy::Lex), Some(false));
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: Args) {
    zrange_generic(ctx, args, None, Some(RangeBy::Lex), Some(true));
}

/// Redis's zrangeGenericCommand: `by` and `rev` are fixed by the older commands and chosen by
/// options (once each) for ZRANGE and ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    args: Args,
    store: Option<&[u8]>,
    by: Option<RangeBy>,
    rev: Option<bool>,
) {
    let src_at = if store.is_some() { 2 } else { 1 };
    let (mut by, mut rev) = (by, rev);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src_at + 3;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if store.is_none() && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let Some(o) = arg_i64(ctx, args.get(j + 1)) else {
                return;
            };
            let Some(l) = arg_i64(ctx, args.get(j + 2)) else {
                return;
            };
            (offset, limit) = (o, l);
            j += 2;
        } else if rev.is_none() && eq_ic(a, "rev") {
            rev = Some(true);
        } else if by.is_none() && eq_ic(a, "bylex") {
            by = Some(RangeBy::Lex);
        } else if by.is_none() && eq_ic(a, "byscore") {
            by = Some(RangeBy::Score);
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 1;
    }
    let by = by.unwrap_or(RangeBy::Rank);
    let rev = rev.unwrap_or(false);
    if limit != -1 && by == RangeBy::Rank {
        return ctx.reply.error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && by == RangeBy::Lex {
        return ctx
            .reply
            .error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut lo, mut hi) = (args.get(src_at + 1), args.get(src_at + 2));
    if rev && by != RangeBy::Rank {
        // The reverse forms take max before min.
        std::mem::swap(&mut lo, &mut hi);
    }
    let selection = match by {
        RangeBy::Rank => {
            let Some(start) = arg_i64(ctx, lo) else {
                return;
            };
            let Some(end) = arg_i64(ctx, hi) else {
                return;
            };
            Selection::Rank(start, end)
        }
        RangeBy::Score => match ScoreRange::parse(lo, hi) {
            Some(r) => Selection::Score(r),
            None => return ctx.reply.error(SCORE_RANGE_ERR),
        },
        RangeBy::Lex => match LexRange::parse(lo, hi) {
            Some(r) => Selection::Lex(r),
            None => return ctx.reply.error(LEX_RANGE_ERR),
        },
    };
    let src = args.get(src_at);
    let Ok(z) = read_typed(ctx.ks, ctx.reply, src, Value::as_zset) else {
        return;
    };
    let picked = z.and_then(|z| {
        let span = match &selection {
            Selection::Rank(start, end) => rank_span(z.len(), *start, *end, rev),
            Selection::Score(r) => z.resolve_range(r, rev, offset, limit),
            Selection::Lex(r) => z.resolve_range(r, rev, offset, limit),
        };
        span.map(|(start, count)| (&*z, start, count))
    });
    match store {
        None => {
            let Some((z, start, count)) = picked else {
                return ctx.reply.array(0);
            };
            elements_header(ctx.reply, count, withscores);
            z.visit(start, count, rev, |m, s| {
                element(ctx.reply, m, s, withscores)
            });
        }
        Some(dst) => {
            let mut items: Vec<(Box<[u8]>, f64)> = Vec::new();
            if let Some((z, start, count)) = picked {
                items.reserve_exact(count);
                z.visit(start, count, rev, |m, s| items.push((m.into(), s)));
                if rev {
                    items.reverse();
                }
            }
            store_result(ctx, dst, items, "zrangestore");
        }
    }
}

/// A rank range as ZRANGE reads it (negative ranks count from the end), as (first rank
/// visited, count), or None when empty.
fn rank_span(len: usize, start: i64, end: i64, rev: bool) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    let count = (end - start + 1) as usize;
    let first = if rev { len - 1 - start } else { start };
    Some((first as usize, count))
}

/// Stores a result set (sorted, distinct) at `dst` and replies its size: an empty result
/// deletes `dst` instead, as Redis's *STORE commands do.
pub fn store_result(ctx: &mut Ctx, dst: &[u8], items: Vec<(Box<[u8]>, f64)>, event: &'static str) {
    if items.is_empty() {
        ctx.reply.int(0);
        if ctx.ks.remove(dst).is_some() {
            ctx.ks.notify(notify::GENERIC, "del", dst);
        }
        return;
    }
    let n = items.len();
    let z = ZSet::from_sorted(items, &limits(ctx));
    ctx.ks.set(dst, Value::ZSet(z), 0);
    ctx.reply.int(n as i64);
    ctx.ks.notify(notify::ZSET, event, dst);
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX

pub fn zremrangebyrank(ctx: &mut Ctx, args: Args) {
    let Some(start) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    let Some(end) = arg_i64(ctx, args.get(3)) else {
        return;
    };
    remrange_generic(ctx, args.get(1), "zremrangebyrank", |z| {
        rank_span(z.len(), start, end, false)
    });
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: Args) {
    let Some(range) = ScoreRange::parse(args.get(2), args.get(3)) else {
        return ctx.reply.error(SCORE_RANGE_ERR);
    };
    remrange_generic(ctx, args.get(1), "zremrangebyscore", |z| {
        z.resolve_range(&range, false, 0, -1)
    });
}

pub fn zremrangebylex(ctx: &mut Ctx, args: Args) {
    let Some(range) = LexRange::parse(args.get(2), args.get(3)) else {
        return ctx.reply.error(LEX_RANGE_ERR);
    };
    remrange_generic(ctx, args.get(1), "zremrangebylex", |z| {
        z.resolve_range(&range, false, 0, -1)
    });
}

fn remrange_generic(
    ctx: &mut Ctx,
    key: &[u8],
    event: &'static str,
    span: impl FnOnce(&ZSet) -> Option<(usize, usize)>,
) {
    let z = match write_typed(ctx.ks, ctx.reply, key, Value::as_zset) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(z)) => z,
    };
    let (start, count) = span(z).unwrap_or((0, 0));
    z.remove_ranks(start, count);
    let empty = z.is_empty();
    if count > 0 {
        ctx.ks.mark_dirty(key, count as u64);
        ctx.ks.notify(notify::ZSET, event, key);
        remove_if_empty(ctx.ks, key, empty);
    }
    ctx.reply.int(count as i64);
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP (and the pops the blocking forms perform)

/// Which end a pop takes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    Min,
    Max,
}

/// The reply shape of a pop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PopShape {
    /// member, score, member, score... (ZPOPMIN, and with a count in RESP2).
    Flat,
    /// [member, score] pairs (ZPOPMIN with a count in RESP3).
    Nested,
    /// key, member, score (BZPOPMIN).
    KeyFlat,
    /// [key, [[member, score]...]] (ZMPOP, BZMPOP).
    KeyNested,
}

/// Pops up to `count` elements from the sorted set at `key`, which must exist and hold a
/// sorted set, and writes the reply in `shape`; notifies as Redis and deletes the emptied key.
/// The blocking forms call this once a key is ready.
pub fn pop_reply(
    ks: &mut DbView,
    reply: &mut Reply,
    key: &[u8],
    side: Side,
    count: usize,
    shape: PopShape,
) -> usize {
    let Some(Some(z)) = ks.get_write(key).map(|e| e.value.as_zset()) else {
        unreachable!("pop_reply needs a sorted set at the key");
    };
    let n = count.min(z.len());
    match shape {
        PopShape::Flat => reply.array(n * 2),
        PopShape::Nested => reply.array(n),
        PopShape::KeyFlat => {
            reply.array(n * 2 + 1);
            reply.bulk(key);
        }
        PopShape::KeyNested => {
            reply.array(2);
            reply.bulk(key);
            reply.array(n);
        }
    }
    let nested = matches!(shape, PopShape::Nested | PopShape::KeyNested);
    let emit = |m: &[u8], s: f64| {
        if nested {
            reply.array(2);
        }
        reply.bulk(m);
        reply.double(s);
    };
    let start = match side {
        Side::Min => {
            z.visit(0, n, false, emit);
            0
        }
        Side::Max => {
            let last = z.len() - 1;
            z.visit(last, n, true, emit);
            z.len() - n
        }
    };
    z.remove_ranks(start, n);
    let empty = z.is_empty();
    ks.mark_dirty(key, n as u64);
    let event = match side {
        Side::Min => "zpopmin",
        Side::Max => "zpopmax",
    };
    ks.notify(notify::ZSET, event, key);
    remove_if_empty(ks, key, empty);
    n
}

pub fn zpopmin(ctx: &mut Ctx, args: Args) {
    zpop_generic(ctx, args, Side::Min);
}

pub fn zpopmax(ctx: &mut Ctx, args: Args) {
    zpop_generic(ctx, args, Side::Max);
}

fn zpop_generic(ctx: &mut Ctx, args: Args, side: Side) {
    if args.len() > 3 {
        return ctx.reply.error(SYNTAX_ERR);
    }
    let count = if args.len() == 3 {
        match positive(ctx.reply, args.get(2), POSITIVE_ERR) {
            Some(c) => Some(c as usize),
            None => return,
        }
    } else {
        None
    };
    let key = args.get(1);
    match write_typed(ctx.ks, ctx.reply, key, Value::as_zset) {
        Err(Replied) => {}
        Ok(None) => ctx.reply.array(0),
        Ok(Some(_)) if count == Some(0) => ctx.reply.array(0),
        Ok(Some(_)) => {
            let shape = if count.is_some() && ctx.reply.is_resp3() {
                PopShape::Nested
            } else {
                PopShape::Flat
            };
            pop_reply(ctx.ks, ctx.reply, key, side, count.unwrap_or(1), shape);
        }
    }
}

/// ZMPOP's arguments after the key count (and BZMPOP's after its timeout): the side, then
/// COUNT at most once. Replies the error and returns None when invalid.
pub fn parse_mpop(ctx: &mut Ctx, args: Args, numkeys_at: usize) -> Option<(usize, Side, usize)> {
    let numkeys = match parse_i64(args.get(numkeys_at)) {
        Some(n) if n >= 1 => n as usize,
        _ => {
            ctx.reply.error("ERR numkeys should be greater than 0");
            return None;
        }
    };
    let side_at = numkeys_at + 1 + numkeys;
    if numkeys >= args.len() || side_at >= args.len() {
        ctx.reply.error(SYNTAX_ERR);
        return None;
    }
    let side = match args.get(side_at) {
        a if eq_ic(a, "min") => Side::Min,
        a if eq_ic(a, "max") => Side::Max,
        _ => {
            ctx.reply.error(SYNTAX_ERR);
            return None;
        }
    };
    let count = super::parse_mpop_count(ctx.reply, &args, side_at + 1)?;
    Some((numkeys, side, count))
}

pub fn zmpop(ctx: &mut Ctx, args: Args) {
    let Some((numkeys, side, count)) = parse_mpop(ctx, args, 1) else {
        return;
    };
    match first_nonempty(ctx.ks, ctx.reply, args.iter().skip(2).take(numkeys)) {
        Err(Replied) => {}
        Ok(None) => ctx.reply.null_array(),
        Ok(Some(key)) => {
            let count = pop_reply(ctx.ks, ctx.reply, key, side, count, PopShape::KeyNested);
            ctx.propagate_served(&BlockedOp::ZMPop { side, count }, key);
        }
    }
}

/// The first of `keys` holding a non-empty sorted set; WRONGTYPE replied for another type.
fn first_nonempty<'a>(
    ks: &mut DbView,
    reply: &mut Reply,
    keys: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<&'a [u8]>, Replied> {
    super::first_nonempty(ks, reply, keys, Value::as_zset, ZSet::is_empty)
}

pub fn bzpopmin(ctx: &mut Ctx, args: Args) {
    blocking_zpop(ctx, args, Side::Min);
}

pub fn bzpopmax(ctx: &mut Ctx, args: Args) {
    blocking_zpop(ctx, args, Side::Max);
}

fn blocking_zpop(ctx: &mut Ctx, args: Args, side: Side) {
    let Some(deadline) = lists::parse_timeout(ctx, args.get(args.len() - 1)) else {
        return;
    };
    let keys = (1..args.len() - 1).map(|i| args.get(i));
    match first_nonempty(ctx.ks, ctx.reply, keys.clone()) {
        Err(Replied) => {}
        Ok(Some(key)) => {
            pop_reply(ctx.ks, ctx.reply, key, side, 1, PopShape::KeyFlat);
            ctx.propagate_served(&BlockedOp::ZPop(side), key);
        }
        Ok(None) => blocking::block(ctx, keys, deadline, BlockedOp::ZPop(side)),
    }
}

pub fn bzmpop(ctx: &mut Ctx, args: Args) {
    // Unlike the other blocking pops, the timeout is read after the other arguments.
    let Some((numkeys, side, count)) = parse_mpop(ctx, args, 2) else {
        return;
    };
    let Some(deadline) = lists::parse_timeout(ctx, args.get(1)) else {
        return;
    };
    let keys = (3..3 + numkeys).map(|i| args.get(i));
    match first_nonempty(ctx.ks, ctx.reply, keys.clone()) {
        Err(Replied) => {}
        Ok(Some(key)) => {
            let count = pop_reply(ctx.ks, ctx.reply, key, side, count, PopShape::KeyNested);
            ctx.propagate_served(&BlockedOp::ZMPop { side, count }, key);
        }
        Ok(None) => blocking::block(ctx, keys, deadline, BlockedOp::ZMPop { side, count }),
    }
}

/// Serves one client blocked by BZPOPMIN/BZPOPMAX (`count` None) or BZMPOP from `key`, if it
/// holds a non-empty sorted set (called by `server::blocking` with the key's shard locked).
/// Returns false when the key has nothing for it (it stays blocked).
pub fn serve_blocked(
    ks: &mut DbView,
    reply: &mut Reply,
    key: &[u8],
    side: Side,
    count: Option<usize>,
) -> bool {
    let ready = ks
        .get_write(key)
        .and_then(|e| e.value.as_zset())
        .is_some_and(|z| !z.is_empty());
    if ready {
        match count {
            None => pop_reply(ks, reply, key, side, 1, PopShape::KeyFlat),
            Some(n) => pop_reply(ks, reply, key, side, n, PopShape::KeyNested),
        };
    }
    ready
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

/// ZRANDMEMBER's repeated picks go out in chunks of this many ranks.
const RANDOM_CHUNK: usize = 1000;

pub fn zrandmember(ctx: &mut Ctx, args: Args) {
    if args.len() == 2 {
        let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) else {
            return;
        };
        return match z {
            None => ctx.reply.null(),
            Some(z) => z.visit(fastrand::usize(..z.len()), 1, false, |m, _| {
                ctx.reply.bulk(m)
            }),
        };
    }
    let Some(n) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    let withscores = match args.len() {
        3 => false,
        4 if eq_ic(args.get(3), "withscores") => true,
        _ => return ctx.reply.error(SYNTAX_ERR),
    };
    if withscores && !(i64::MIN / 2..=i64::MAX / 2).contains(&n) {
        return ctx.reply.error("ERR value is out of range");
    }
    let z = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.array(0),
        Ok(Some(z)) => z,
    };
    if n == 0 {
        return ctx.reply.array(0);
    }
    let size = z.len();
    let reply = &mut *ctx.reply;
    if n < 0 || n == 1 {
        // Independent picks: members may repeat.
        let count = n.unsigned_abs() as usize;
        elements_header(reply, count, withscores);
        let mut ranks = Vec::with_capacity(count.min(RANDOM_CHUNK));
        let mut left = count;
        while left > 0 {
            ranks.clear();
            ranks.extend((0..left.min(RANDOM_CHUNK)).map(|_| fastrand::usize(..size)));
            left -= ranks.len();
            z.visit_ranks(&ranks, |m, s| element(reply, m, s, withscores));
        }
        return;
    }
    let count = n as usize;
    if count >= size {
        // The whole set, walked from the highest score down as Redis iterates it.
        elements_header(reply, size, withscores);
        return z.visit(size - 1, size, true, |m, s| {
            element(reply, m, s, withscores)
        });
    }
    // Distinct picks: a partial shuffle when most of the set is wanted, else rejection.
    let mut ranks: Vec<usize> = if count * 3 > size {
        crate::storage::shuffled_prefix((0..size).collect(), count)
    } else {
        crate::storage::distinct_picks(count, || fastrand::usize(..size)).collect()
    };
    if z.is_listpack() {
        // Redis samples a listpack's distinct members in set order.
        ranks.sort_unstable();
    }
    elements_header(reply, count, withscores);
    z.visit_ranks(&ranks, |m, s| element(reply, m, s, withscores));
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (+STORE), ZINTERCARD

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                // inf + -inf: Redis settles on 0.
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *target {
                    *target = v;
                }
            }
            Aggregate::Max => {
                if v > *target {
                    *target = v;
                }
            }
        }
    }
}

/// One input of a set operation: its key, weight and contents (sorted sets, and plain sets
/// read with score 1), all borrowed at once.
struct Source<'a> {
    key: &'a [u8],
    weight: f64,
    input: Input<'a>,
}

#[derive(Clone, Copy)]
enum Input<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a SetValue),
}

impl<'a> Input<'a> {
    fn of(value: Option<&'a Value>) -> Input<'a> {
        match value {
            Some(Value::ZSet(z)) => Input::ZSet(z),
            Some(Value::Set(s)) => Input::Set(s),
            _ => Input::Missing,
        }
    }

    fn len(&self) -> usize {
        match self {
            Input::Missing => 0,
            Input::ZSet(z) => z.len(),
            Input::Set(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::Missing => None,
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    /// Every member with its score (set members as text, integers formatted on the way).
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Input::Missing => {}
            Input::ZSet(z) => z.for_each(f),
            Input::Set(s) => {
                let mut scratch = itoa::Buffer::new();
                for e in s.iter() {
                    f(e.bytes(&mut scratch), 1.0);
                }
            }
        }
    }
}

pub fn zunion(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, None, SetOp::Union, false);
}

pub fn zinter(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, None, SetOp::Inter, false);
}

pub fn zdiff(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, None, SetOp::Diff, false);
}

pub fn zintercard(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, None, SetOp::Inter, true);
}

pub fn zunionstore(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, Some(args.get(1)), SetOp::Union, false);
}

pub fn zinterstore(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, Some(args.get(1)), SetOp::Inter, false);
}

pub fn zdiffstore(ctx: &mut Ctx, args: Args) {
    setop_generic(ctx, args, Some(args.get(1)), SetOp::Diff, false);
}

/// Redis's zunionInterDiffGenericCommand: key count, input lookups (type errors come before
/// option errors), options, then the operation.
fn setop_generic(ctx: &mut Ctx, args: Args, dst: Option<&[u8]>, op: SetOp, cardinality_only: bool) {
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let Some(numkeys) = arg_i64(ctx, args.get(numkeys_at)) else {
        return;
    };
    if numkeys < 1 {
        let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
        return ctx.reply.error(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    if numkeys as usize > args.len() - numkeys_at - 1 {
        return ctx.reply.error(SYNTAX_ERR);
    }
    let numkeys = numkeys as usize;
    let keys = (numkeys_at + 1..numkeys_at + 1 + numkeys).map(|i| args.get(i));
    // Look each input up for real first (lazy expiry, statistics); then borrow them all.
    for key in keys.clone() {
        if let Some(v) = ctx.ks.get_read(key).map(|e| &e.value)
            && !matches!(v, Value::ZSet(_) | Value::Set(_))
        {
            return ctx.reply.error(WRONGTYPE);
        }
    }
    let ks = &*ctx.ks;
    let mut sources: Vec<Source> = keys
        .map(|key| Source {
            key,
            weight: 1.0,
            input: Input::of(ks.get_shared(key).map(|e| &e.value)),
        })
        .collect();
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = numkeys_at + 1 + numkeys;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j;
        let combining = op != SetOp::Diff && !cardinality_only;
        if combining && left > numkeys && eq_ic(a, "weights") {
            for (i, s) in sources.iter_mut().enumerate() {
                match parse_f64(args.get(j + 1 + i)) {
                    Some(w) => s.weight = w,
                    None => return ctx.reply.error("ERR weight value is not a float"),
                }
            }
            j += 1 + numkeys;
        } else if combining && left >= 2 && eq_ic(a, "aggregate") {
            aggregate = match args.get(j + 1) {
                x if eq_ic(x, "sum") => Aggregate::Sum,
                x if eq_ic(x, "min") => Aggregate::Min,
                x if eq_ic(x, "max") => Aggregate::Max,
                _ => return ctx.reply.error(SYNTAX_ERR),
            };
            j += 2;
        } else if dst.is_none() && !cardinality_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if cardinality_only && left >= 2 && eq_ic(a, "limit") {
            match positive(ctx.reply, args.get(j + 1), "ERR LIMIT can't be negative") {
                Some(l) => limit = l as usize,
                None => return,
            }
            j += 2;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
    }
    if op != SetOp::Diff {
        // Smallest first (a stable sort, as glibc's qsort is here): the order inputs are
        // combined in, which decides floating-point sums.
        sources.sort_by_key(|s| s.input.len());
    }
    if cardinality_only {
        let mut n = 0usize;
        inter(&sources, aggregate, |_, _| {
            n += 1;
            limit == 0 || n < limit
        });
        return ctx.reply.int(n as i64);
    }
    let mut result: Vec<(Box<[u8]>, f64)> = Vec::new();
    match op {
        SetOp::Union => result = union(&sources, aggregate),
        SetOp::Inter => inter(&sources, aggregate, |m, s| {
            result.push((m.into(), s));
            true
        }),
        SetOp::Diff => result = diff(&sources),
    }
    result.sort_unstable_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .expect("scores are never NaN")
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(dst) => {
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_result(ctx, dst, result, event);
        }
        None => {
            elements_header(ctx.reply, result.len(), withscores);
            for (m, s) in &result {
                element(ctx.reply, m, *s, withscores);
            }
        }
    }
}

/// A weighted score; inf * 0 counts as 0, as in Redis.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() { 0.0 } else { v }
}

fn union(sources: &[Source], aggregate: Aggregate) -> Vec<(Box<[u8]>, f64)> {
    let mut acc: std::collections::HashMap<Box<[u8]>, f64, foldhash::fast::RandomState> =
        Default::default();
    acc.reserve(sources.last().map_or(0, |s| s.input.len()));
    for s in sources {
        s.input.for_each(|m, score| {
            let v = weighted(score, s.weight);
            match acc.get_mut(m) {
                Some(t) => aggregate.apply(t, v),
                None => {
                    acc.insert(m.into(), v);
                }
            }
        });
    }
    acc.into_iter().collect()
}

/// Members of the first (smallest) input found in every other one, with their aggregated
/// scores, given to `found` until it returns false.
fn inter(sources: &[Source], aggregate: Aggregate, mut found: impl FnMut(&[u8], f64) -> bool) {
    let (first, rest) = sources.split_first().expect("at least one input");
    let mut more = true;
    first.input.for_each(|m, score| {
        if !more {
            return;
        }
        let mut total = weighted(score, first.weight);
        for s in rest {
            // The same key twice is read once, as Redis does.
            let value = if s.key == first.key {
                Some(score)
            } else {
                s.input.score(m)
            };
            match value {
                Some(v) => aggregate.apply(&mut total, v * s.weight),
                None => return,
            }
        }
        more = found(m, total);
    });
}

/// Members of the first input in no other one, with their scores.
fn diff(sources: &[Source]) -> Vec<(Box<[u8]>, f64)> {
    let (first, rest) = sources.split_first().expect("at least one input");
    let mut out = Vec::new();
    if rest.iter().any(|s| s.key == first.key) {
        return out;
    }
    first.input.for_each(|m, score| {
        if rest.iter().all(|s| s.input.score(m).is_none()) {
            out.push((m.into(), score));
        }
    });
    out
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

/// How ZSCAN prints a score: from a listpack, the stored form (integers up to 2^62 as
/// integers); from a skiplist, Redis's d2string (integers below 2^52 as integers).
fn scan_score(score: f64, listpack: bool, out: &mut Vec<u8>) {
    let as_integer = score == score.trunc()
        && if listpack {
            score.abs() <= (1u64 << 62) as f64
        } else {
            score > -4503599627370495.0 && score < 4503599627370496.0
        };
    if score == 0.0 && score.is_sign_negative() && !listpack {
        out.extend_from_slice(b"-0");
    } else if as_integer {
        fmt_i64(score as i64, out);
    } else {
        fmt_double_resp(score, out);
    }
}

pub fn zscan(ctx: &mut Ctx, args: Args) {
    let Some(cursor) = super::keys::parse_cursor(args.get(2)) else {
        return ctx.reply.error("ERR invalid cursor");
    };
    let z = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) {
        Err(Replied) => return,
        Ok(None) => {
            ctx.reply.array(2);
            ctx.reply.bulk(b"0");
            return ctx.reply.array(0);
        }
        Ok(Some(z)) => z,
    };
    let Some(opts) = super::keys::parse_scan_opts(ctx.reply, &args, 3, false) else {
        return;
    };
    let listpack = z.is_listpack();
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s| {
        if opts.matches(m) {
            found.push((m, s));
        }
    });
    let reply = &mut *ctx.reply;
    reply.array(2);
    reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    reply.array(found.len() * 2);
    let mut text = Vec::with_capacity(24);
    for (m, s) in found {
        reply.bulk(m);
        text.clear();
        scan_score(s, listpack, &mut text);
        reply.bulk(&text);
    }
}
