//! SORT and SORT_RO (sort.c): sort a list, set or sorted set numerically or lexically, by its
//! own elements or by external keys (BY pattern), fetch related keys (GET pattern), page with
//! LIMIT, and optionally STORE the result as a list. BY and GET patterns name keys the request
//! does not declare, so both commands lock every shard.

use std::cmp::Ordering;

use super::{Ctx, NOT_INT, Replied, SYNTAX_ERR, WRONGTYPE, eq_ic, remove_if_empty};
use crate::protocol::Args;
use crate::server::notify;
use crate::storage::list::End;
use crate::storage::{DbView, List, Value};
use crate::util::num::parse_i64;

struct SortOpts<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    /// BY a pattern without '*': keep the collection's own order.
    dont_sort: bool,
    get: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse<'a>(ctx: &mut Ctx, args: &Args<'a>, read_only: bool) -> Option<SortOpts<'a>> {
    let mut o = SortOpts {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        dont_sort: false,
        get: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if eq_ic(a, "asc") {
            o.desc = false;
        } else if eq_ic(a, "desc") {
            o.desc = true;
        } else if eq_ic(a, "alpha") {
            o.alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let (Some(start), Some(count)) =
                (parse_i64(args.get(j + 1)), parse_i64(args.get(j + 2)))
            else {
                ctx.reply.error(NOT_INT);
                return None;
            };
            o.limit = Some((start, count));
            j += 2;
        } else if eq_ic(a, "store") && left >= 1 && !read_only {
            o.store = Some(args.get(j + 1));
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            let pattern = args.get(j + 1);
            o.by = Some(pattern);
            // Without '*' every element maps to the same key: nothing to sort by.
            o.dont_sort = !pattern.contains(&b'*');
            if !o.dont_sort && !reads_any_key(ctx, args) {
                ctx.reply
                    .error("ERR BY option of SORT denied due to insufficient ACL permissions.");
                return None;
            }
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            if !reads_any_key(ctx, args) {
                ctx.reply
                    .error("ERR GET option of SORT denied due to insufficient ACL permissions.");
                return None;
            }
            o.get.push(args.get(j + 1));
            j += 1;
        } else {
            ctx.reply.error(SYNTAX_ERR);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// BY and GET patterns read keys the user's patterns cannot be checked against: Redis
/// allows them only to a selector that may run this SORT and read every key.
fn reads_any_key(ctx: &Ctx, args: &Args) -> bool {
    let user = &ctx.client.user;
    if user.unrestricted() {
        return true;
    }
    let commands = &ctx.server.commands;
    let name: &[u8] = if args.get(0).eq_ignore_ascii_case(b"sort_ro") {
        b"sort_ro"
    } else {
        b"sort"
    };
    commands.acl_lookup(name).is_some_and(|index| {
        user.reads_every_key(&crate::acl::Request {
            spec: commands.spec_at(index),
            index,
            args,
        })
    })
}

/// The value a BY/GET pattern names for `element`: "#" is the element itself; otherwise the
/// first '*' is replaced by the element and the key read as a string, or with "->field" as a
/// hash field. None when the key (or field) is missing or of another type.
fn lookup_pattern(ks: &mut DbView, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(element.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let arrow = pattern[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|p| star + 1 + p)
        .filter(|&p| p + 2 < pattern.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let entry = ks.get_read(&key)?;
    match (arrow, &entry.value) {
        (Some(a), Value::Hash(h)) => h.get(&pattern[a + 2..]).map(<[u8]>::to_vec),
        (None, Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            Some(s.as_bytes(&mut scratch).to_vec())
        }
        _ => None,
    }
}

/// The elements of the collection at `key` in its natural order (sorted sets by score), or
/// None for a missing key; WRONGTYPE replied for other types.
fn load(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, Replied> {
    let Some(e) = ctx.ks.get_read(key) else {
        return Ok(None);
    };
    let elements = match &mut e.value {
        Value::List(l) => {
            let mut scratch = itoa::Buffer::new();
            l.iter().map(|e| e.bytes(&mut scratch).to_vec()).collect()
        }
        Value::Set(s) => {
            let mut scratch = itoa::Buffer::new();
            s.iter().map(|m| m.bytes(&mut scratch).to_vec()).collect()
        }
        Value::ZSet(z) => {
            // Redis converts a sorted set it sorts to the skiplist encoding, for good.
            z.convert_to_skiplist();
            let mut out = Vec::with_capacity(z.len());
            z.for_each(|m, _| out.push(m.to_vec()));
            out
        }
        _ => {
            ctx.reply.error(WRONGTYPE);
            return Err(Replied);
        }
    };
    Ok(Some(elements))
}

/// A score as Redis's SORT reads it with strtod: leading white space is skipped, the whole
/// rest must be the number, and an empty string is 0.
fn strtod_whole(text: &[u8]) -> Option<f64> {
    let start = text
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(text.len());
    if start == text.len() {
        // Nothing but (maybe) blanks: strtod consumes nothing and points at the end.
        return (start == 0).then_some(0.0);
    }
    crate::util::num::parse_f64(&text[start..]).filter(|v| !v.is_nan())
}

/// What an element is sorted by.
enum SortKey {
    Score(f64),
    Text(Option<Vec<u8>>),
}

fn sort_generic(ctx: &mut Ctx, args: Args, read_only: bool) {
    let Some(mut o) = parse(ctx, &args, read_only) else {
        return;
    };
    let key = args.get(1);
    let is_set = matches!(ctx.ks.peek(key).map(|e| &e.value), Some(Value::Set(_)));
    let Ok(loaded) = load(ctx, key) else {
        return;
    };
    let mut elements = loaded.unwrap_or_default();
    // Lists and sorted sets keep their own order unsorted, read from the end for DESC.
    if o.dont_sort && o.desc && !is_set {
        elements.reverse();
    }
    // A set's own order is arbitrary: when it is stored, sort it so the result is stable.
    if o.dont_sort && is_set && o.store.is_some() {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = elements.len() as i64;
    let (mut start, mut end) = match o.limit {
        Some((s, c)) => {
            let s = s.max(0);
            // Redis adds in 64 bits and lets it wrap.
            (
                s,
                if c < 0 {
                    len - 1
                } else {
                    s.wrapping_add(c).wrapping_sub(1)
                },
            )
        }
        None => (0, len - 1),
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    if !o.dont_sort {
        let mut keys = Vec::with_capacity(elements.len());
        let mut conversion_error = false;
        for el in &elements {
            let by = match o.by {
                Some(p) => lookup_pattern(ctx.ks, p, el),
                None => Some(el.clone()),
            };
            keys.push(if o.alpha {
                SortKey::Text(if o.by.is_some() { by } else { None })
            } else {
                let score = match by {
                    None => 0.0,
                    Some(text) => match strtod_whole(&text) {
                        Some(v) => v,
                        None => {
                            conversion_error = true;
                            0.0
                        }
                    },
                };
                SortKey::Score(score)
            });
        }
        if conversion_error {
            return ctx
                .reply
                .error("ERR One or more scores can't be converted into double");
        }
        let by_pattern = o.by.is_some();
        let mut order: Vec<usize> = (0..elements.len()).collect();
        order.sort_by(|&a, &b| {
            let cmp = match (&keys[a], &keys[b]) {
                (SortKey::Score(x), SortKey::Score(y)) => x
                    .partial_cmp(y)
                    .unwrap_or(Ordering::Equal)
                    // Equal scores: by the elements, so the result is deterministic.
                    .then_with(|| elements[a].cmp(&elements[b])),
                (SortKey::Text(x), SortKey::Text(y)) if by_pattern => x.cmp(y),
                _ => elements[a].cmp(&elements[b]),
            };
            if o.desc { cmp.reverse() } else { cmp }
        });
        elements = order
            .into_iter()
            .map(|i| std::mem::take(&mut elements[i]))
            .collect();
    }
    let range: &[Vec<u8>] = if start <= end && start >= 0 {
        &elements[start as usize..=end as usize]
    } else {
        &[]
    };
    let gets = o.get.len().max(1);
    match o.store {
        None => {
            ctx.reply
                .array(range.len() * if o.get.is_empty() { 1 } else { gets });
            for el in range {
                if o.get.is_empty() {
                    ctx.reply.bulk(el);
                }
                for p in &o.get {
                    match lookup_pattern(ctx.ks, p, el) {
                        Some(v) => ctx.reply.bulk(&v),
                        None => ctx.reply.null(),
                    }
                }
            }
        }
        Some(dest) => {
            let fill = ctx.server.hot.encoding_limits().list_max_listpack_size;
            let mut list = List::new();
            for el in range {
                if o.get.is_empty() {
                    list.push(End::Right, el, fill);
                }
                for p in &o.get {
                    let v = lookup_pattern(ctx.ks, p, el).unwrap_or_default();
                    list.push(End::Right, &v, fill);
                }
            }
            let n = list.len();
            if n > 0 {
                ctx.ks.set(dest, Value::List(Box::new(list)), 0);
                ctx.ks.notify(notify::LIST, "sortstore", dest);
            } else {
                remove_if_empty(ctx.ks, dest, true);
            }
            ctx.reply.int(n as i64);
        }
    }
}

pub fn sort(ctx: &mut Ctx, args: Args) {
    sort_generic(ctx, args, false);
}

pub fn sort_ro(ctx: &mut Ctx, args: Args) {
    sort_generic(ctx, args, true);
}
