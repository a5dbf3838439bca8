//! Geo commands. A geo set is a sorted set whose scores are 52-bit geohashes (`util::geo`);
//! these handlers parse options in Redis's order, collect candidates box by box as Redis
//! does, and sort them the same way so ties come out in the same order.

use std::cmp::Ordering;

use super::sorted_sets::{add_checked, store_result};
use super::{Ctx, NOT_FLOAT, NOT_INT, Replied, SYNTAX_ERR, eq_ic, read_typed};
use crate::protocol::{Args, Reply};
use crate::storage::zset::{AddFlags, ScoreRange, ZRange};
use crate::storage::{Value, ZSet};
use crate::util::geo::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN, Search, Shape, box_scores};
use crate::util::num::{fmt_human_f64, parse_f64, parse_i64};
use crate::util::pqsort::partial_sort;

/// Parses a longitude, latitude pair, replying Redis's errors.
fn lon_lat(reply: &mut Reply, lon: &[u8], lat: &[u8]) -> Result<(f64, f64), Replied> {
    let (Some(x), Some(y)) = (parse_f64(lon), parse_f64(lat)) else {
        reply.error(NOT_FLOAT);
        return Err(Replied);
    };
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        reply.error(&format!(
            "ERR invalid longitude,latitude pair {x:.6},{y:.6}"
        ));
        return Err(Replied);
    }
    Ok((x, y))
}

/// Meters per unit.
fn unit(reply: &mut Reply, u: &[u8]) -> Result<f64, Replied> {
    match u {
        _ if eq_ic(u, "m") => Ok(1.0),
        _ if eq_ic(u, "km") => Ok(1000.0),
        _ if eq_ic(u, "ft") => Ok(0.3048),
        _ if eq_ic(u, "mi") => Ok(1609.34),
        _ => {
            reply.error("ERR unsupported unit provided. please use M, KM, FT, MI");
            Err(Replied)
        }
    }
}

/// A non-negative size (`what` names it in the error for a non-number).
fn size(reply: &mut Reply, a: &[u8], what: &str) -> Result<f64, Replied> {
    match parse_f64(a) {
        Some(v) => Ok(v),
        None => {
            reply.error(&format!("ERR need numeric {what}"));
            Err(Replied)
        }
    }
}

/// BYRADIUS's radius and unit: (radius, meters per unit).
fn radius(reply: &mut Reply, r: &[u8], u: &[u8]) -> Result<(f64, f64), Replied> {
    let r = size(reply, r, "radius")?;
    if r < 0.0 {
        reply.error("ERR radius cannot be negative");
        return Err(Replied);
    }
    Ok((r, unit(reply, u)?))
}

/// BYBOX's width, height and unit.
fn rectangle(reply: &mut Reply, w: &[u8], h: &[u8], u: &[u8]) -> Result<(Shape, f64), Replied> {
    let width = size(reply, w, "width")?;
    let height = size(reply, h, "height")?;
    if width < 0.0 || height < 0.0 {
        reply.error("ERR height or width cannot be negative");
        return Err(Replied);
    }
    Ok((Shape::Box { width, height }, unit(reply, u)?))
}

/// A coordinate as Redis prints positions (long double text; a double in RESP3).
fn coordinate(reply: &mut Reply, v: f64) {
    let mut text = Vec::with_capacity(24);
    fmt_human_f64(v, &mut text);
    reply.double_text(&text);
}

/// A distance with four decimals, always a bulk string.
fn distance_reply(reply: &mut Reply, d: f64) {
    reply.bulk(format!("{d:.4}").as_bytes());
}

pub fn geoadd(ctx: &mut Ctx, args: Args) {
    let mut flags = AddFlags::default();
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
        } else {
            break;
        }
        first += 1;
    }
    if !(args.len() - first).is_multiple_of(3) || (flags.nx && flags.xx) {
        return ctx.reply.error(SYNTAX_ERR);
    }
    let mut scores = Vec::with_capacity((args.len() - first) / 3);
    for i in (first..args.len()).step_by(3) {
        let Ok((lon, lat)) = lon_lat(ctx.reply, args.get(i), args.get(i + 1)) else {
            return;
        };
        let score = geo::encode_score(lon, lat).expect("checked coordinates encode");
        scores.push((score as f64, args.get(i + 2)));
    }
    add_checked(ctx, args.get(1), flags, ch, scores.into_iter());
}

pub fn geopos(ctx: &mut Ctx, args: Args) {
    let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) else {
        return;
    };
    ctx.reply.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(score) => {
                let (lon, lat) = geo::decode_score(score);
                ctx.reply.array(2);
                coordinate(ctx.reply, lon);
                coordinate(ctx.reply, lat);
            }
            None => ctx.reply.null_array(),
        }
    }
}

pub fn geodist(ctx: &mut Ctx, args: Args) {
    let to_meters = match args.len() {
        4 => 1.0,
        5 => match unit(ctx.reply, args.get(4)) {
            Ok(u) => u,
            Err(Replied) => return,
        },
        _ => return ctx.reply.error(SYNTAX_ERR),
    };
    let z = match read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.null(),
        Ok(Some(z)) => z,
    };
    match (z.score(args.get(2)), z.score(args.get(3))) {
        (Some(a), Some(b)) => {
            let (a, b) = (geo::decode_score(a), geo::decode_score(b));
            distance_reply(ctx.reply, geo::distance(a.0, a.1, b.0, b.1) / to_meters);
        }
        _ => ctx.reply.null(),
    }
}

pub fn geohash(ctx: &mut Ctx, args: Args) {
    let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(1), Value::as_zset) else {
        return;
    };
    ctx.reply.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(score) => ctx.reply.bulk(&geo::geohash_string(score)),
            None => ctx.reply.null(),
        }
    }
}

/// Which search command runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// GEORADIUS[_RO]: center and radius as arguments.
    Radius {
        store: bool,
    },
    /// GEORADIUSBYMEMBER[_RO]: around a member.
    ByMember {
        store: bool,
    },
    Search,
    SearchStore,
}

impl Form {
    fn is_search(self) -> bool {
        matches!(self, Form::Search | Form::SearchStore)
    }

    fn allows_store(self) -> bool {
        matches!(
            self,
            Form::Radius { store: true } | Form::ByMember { store: true }
        )
    }
}

pub fn georadius(ctx: &mut Ctx, args: Args) {
    search(ctx, args, Form::Radius { store: true });
}

pub fn georadius_ro(ctx: &mut Ctx, args: Args) {
    search(ctx, args, Form::Radius { store: false });
}

pub fn georadiusbymember(ctx: &mut Ctx, args: Args) {
    search(ctx, args, Form::ByMember { store: true });
}

pub fn georadiusbymember_ro(ctx: &mut Ctx, args: Args) {
    search(ctx, args, Form::ByMember { store: false });
}

pub fn geosearch(ctx: &mut Ctx, args: Args) {
    search(ctx, args, Form::Search);
}

pub fn geosearchstore(ctx: &mut Ctx, args: Args) {
    search(ctx, args, Form::SearchStore);
}

/// A member found by a search.
struct Found<'a> {
    member: &'a [u8],
    score: f64,
    lon: f64,
    lat: f64,
    /// In meters until the reply converts it.
    dist: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Order {
    None,
    Asc,
    Desc,
}

/// The position of `member` in the set, replying Redis's error when it has none.
fn member_position(reply: &mut Reply, z: &ZSet, member: &[u8]) -> Result<(f64, f64), Replied> {
    match z.score(member) {
        Some(score) => Ok(geo::decode_score(score)),
        None => {
            reply.error("ERR could not decode requested zset member");
            Err(Replied)
        }
    }
}

/// Redis's georadiusGeneric: every search command.
fn search(ctx: &mut Ctx, args: Args, form: Form) {
    let src_at = if form == Form::SearchStore { 2 } else { 1 };
    let Ok(z) = read_typed(ctx.ks, ctx.reply, args.get(src_at), Value::as_zset) else {
        return;
    };
    let z: Option<&ZSet> = z.map(|z| &*z);
    let reply = &mut *ctx.reply;
    let mut center: Option<(f64, f64)> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let base = match form {
        Form::Radius { .. } => {
            let Ok(c) = lon_lat(reply, args.get(2), args.get(3)) else {
                return;
            };
            center = Some(c);
            let Ok((r, to_m)) = radius(reply, args.get(4), args.get(5)) else {
                return;
            };
            shape = Some((Shape::Radius(r), to_m));
            6
        }
        Form::ByMember { .. } => {
            // A missing key still has its options parsed, to know which empty reply to give.
            if let Some(z) = z {
                let Ok(c) = member_position(reply, z, args.get(2)) else {
                    return;
                };
                center = Some(c);
                let Ok((r, to_m)) = radius(reply, args.get(3), args.get(4)) else {
                    return;
                };
                shape = Some((Shape::Radius(r), to_m));
            }
            5
        }
        Form::Search => 2,
        Form::SearchStore => 3,
    };
    let mut store: Option<&[u8]> = (form == Form::SearchStore).then(|| args.get(1));
    let (mut withdist, mut withhash, mut withcoord, mut any, mut storedist) =
        (false, false, false, false, false);
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) =
        (false, false, false, false);
    let mut order = Order::None;
    let mut count: i64 = 0;
    let mut i = base;
    while i < args.len() {
        let a = args.get(i);
        let left = args.len() - i - 1;
        if eq_ic(a, "withdist") {
            withdist = true;
        } else if eq_ic(a, "withhash") {
            withhash = true;
        } else if eq_ic(a, "withcoord") {
            withcoord = true;
        } else if eq_ic(a, "any") {
            any = true;
        } else if eq_ic(a, "asc") {
            order = Order::Asc;
        } else if eq_ic(a, "desc") {
            order = Order::Desc;
        } else if eq_ic(a, "count") && left >= 1 {
            match parse_i64(args.get(i + 1)) {
                None => return reply.error(NOT_INT),
                Some(c) if c <= 0 => return reply.error("ERR COUNT must be > 0"),
                Some(c) => count = c,
            }
            i += 1;
        } else if (eq_ic(a, "store") || eq_ic(a, "storedist")) && left >= 1 && form.allows_store() {
            store = Some(args.get(i + 1));
            storedist = eq_ic(a, "storedist");
            i += 1;
        } else if eq_ic(a, "storedist") && form == Form::SearchStore {
            storedist = true;
        } else if eq_ic(a, "frommember") && left >= 1 && form.is_search() && !from_lonlat {
            if let Some(z) = z {
                let Ok(c) = member_position(reply, z, args.get(i + 1)) else {
                    return;
                };
                center = Some(c);
            }
            from_member = true;
            i += 1;
        } else if eq_ic(a, "fromlonlat") && left >= 2 && form.is_search() && !from_member {
            let Ok(c) = lon_lat(reply, args.get(i + 1), args.get(i + 2)) else {
                return;
            };
            center = Some(c);
            from_lonlat = true;
            i += 2;
        } else if eq_ic(a, "byradius") && left >= 2 && form.is_search() && !by_box {
            let Ok((r, to_m)) = radius(reply, args.get(i + 1), args.get(i + 2)) else {
                return;
            };
            shape = Some((Shape::Radius(r), to_m));
            by_radius = true;
            i += 2;
        } else if eq_ic(a, "bybox") && left >= 3 && form.is_search() && !by_radius {
            let Ok(s) = rectangle(reply, args.get(i + 1), args.get(i + 2), args.get(i + 3)) else {
                return;
            };
            shape = Some(s);
            by_box = true;
            i += 3;
        } else {
            return reply.error(SYNTAX_ERR);
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        return reply.error(&format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if form == Form::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        ));
    }
    let name = || String::from_utf8_lossy(args.get(0)).into_owned();
    if form.is_search() && !(from_member || from_lonlat) {
        return reply.error(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name()
        ));
    }
    if form.is_search() && !(by_radius || by_box) {
        return reply.error(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            name()
        ));
    }
    if any && count == 0 {
        return reply.error("ERR the ANY argument requires COUNT argument");
    }
    let (Some(z), Some((lon, lat)), Some((shape, to_meters))) = (z, center, shape) else {
        // The key does not exist.
        return match store {
            Some(dst) => store_result(ctx, dst, Vec::new(), ""),
            None => reply.array(0),
        };
    };
    if count != 0 && order == Order::None && !any {
        order = Order::Asc;
    }
    let search = Search {
        lon,
        lat,
        shape,
        to_meters,
    };
    let limit = if any { count as usize } else { 0 };
    let mut found = collect(z, &search, limit);
    let total = found.len();
    let returned = if count == 0 || (total as i64) < count {
        total
    } else {
        count as usize
    };
    if order != Order::None {
        let mut by_dist = |a: &Found, b: &Found| {
            let o = a.dist.partial_cmp(&b.dist).unwrap_or(Ordering::Equal);
            if order == Order::Desc { o.reverse() } else { o }
        };
        if returned == total {
            // glibc's qsort is a merge sort: equal distances keep their order.
            found.sort_by(&mut by_dist);
        } else {
            partial_sort(&mut found, 0, returned - 1, &mut by_dist);
        }
    }
    found.truncate(returned);
    match store {
        None => {
            let extras = withdist as usize + withhash as usize + withcoord as usize;
            reply.array(returned);
            for f in &found {
                if extras > 0 {
                    reply.array(extras + 1);
                }
                reply.bulk(f.member);
                if withdist {
                    distance_reply(reply, f.dist / to_meters);
                }
                if withhash {
                    reply.int(f.score as i64);
                }
                if withcoord {
                    reply.array(2);
                    coordinate(reply, f.lon);
                    coordinate(reply, f.lat);
                }
            }
        }
        Some(dst) => {
            let mut items: Vec<(Box<[u8]>, f64)> = found
                .iter()
                .map(|f| {
                    let score = if storedist {
                        f.dist / to_meters
                    } else {
                        f.score
                    };
                    (f.member.into(), score)
                })
                .collect();
            items.sort_by(|a, b| {
                a.1.partial_cmp(&b.1)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.0.cmp(&b.0))
            });
            let event = if form.is_search() {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            store_result(ctx, dst, items, event);
        }
    }
}

/// The members inside the search shape, box by box in Redis's order and in score order
/// within a box, stopping once `limit` are found (0: no limit).
fn collect<'a>(z: &'a ZSet, search: &Search, limit: usize) -> Vec<Found<'a>> {
    let boxes = search.boxes();
    let mut found = Vec::new();
    let full = |found: &Vec<Found>| limit > 0 && found.len() >= limit;
    let mut last_done = 0;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        // Huge radii make neighbours coincide; Redis skips a box equal to the last one
        // scanned (never comparing with the center).
        if last_done != 0 && *b == boxes[last_done] {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = box_scores(*b);
        let range = ScoreRange {
            min,
            max,
            min_ex: false,
            max_ex: true,
        };
        if let Some((start, _)) = z.resolve_range(&range, false, 0, -1) {
            for (member, score) in z.iter_from(start) {
                if !range.lte_max(score, member) {
                    break;
                }
                let (lon, lat) = geo::decode_score(score);
                if let Some(dist) = search.distance_if_within(lon, lat) {
                    found.push(Found {
                        member,
                        score,
                        lon,
                        lat,
                        dist,
                    });
                }
                if full(&found) {
                    break;
                }
            }
        }
        last_done = i;
    }
    found
}
