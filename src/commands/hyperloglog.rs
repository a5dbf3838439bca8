//! HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST. The
//! values are plain strings in Redis's byte format; the structure lives in `storage::hll`.

use super::{Ctx, Replied, WRONGTYPE, eq_ic};
use crate::protocol::Args;
use crate::server::notify;
use crate::storage::hll::{self, Encoding, Registers};
use crate::storage::{StrValue, Value};

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The HyperLogLog bytes of a value, or the error Redis replies (isHLLObjectOrReply). Integer
/// strings are never HyperLogLogs.
fn hll_bytes(value: &Value) -> Result<&[u8], &'static str> {
    match value {
        Value::Str(s) if s.bytes().is_some_and(hll::is_hll) => Ok(s.bytes().expect("checked")),
        Value::Str(_) => Err(NOT_HLL),
        _ => Err(WRONGTYPE),
    }
}

/// Like `hll_bytes`, for changing the value in place: the string becomes "raw" as Redis's
/// dbUnshareStringValue makes it.
fn hll_bytes_mut(value: &mut Value) -> Result<&mut Vec<u8>, &'static str> {
    hll_bytes(value)?;
    match value {
        Value::Str(s) => Ok(s.make_raw()),
        _ => unreachable!("checked by hll_bytes"),
    }
}

fn sparse_max(ctx: &Ctx) -> usize {
    ctx.server.hot.encoding_limits().hll_sparse_max_bytes
}

fn new_hll() -> Value {
    Value::Str(StrValue::raw(hll::new_sparse()))
}

pub fn pfadd(ctx: &mut Ctx, args: Args) {
    let key = args.get(1);
    let sparse_max = sparse_max(ctx);
    let created = !ctx.ks.exists(key);
    if created {
        ctx.ks.set(key, new_hll(), 0);
    }
    let Some(entry) = ctx.ks.get_write(key) else {
        unreachable!("created above")
    };
    let data = match hll_bytes_mut(&mut entry.value) {
        Ok(d) => d,
        Err(e) => return ctx.reply.error(e),
    };
    let mut updated = created as u64;
    for element in args.iter().skip(2) {
        match hll::add(data, element, sparse_max) {
            Ok(grew) => updated += grew as u64,
            Err(hll::Corrupt) => return ctx.reply.error(CORRUPT),
        }
    }
    if updated > 0 {
        hll::invalidate_cache(data);
        // Creating the key already counted one change.
        ctx.ks.mark_dirty(key, updated - created as u64);
        ctx.ks.notify(notify::STRING, "pfadd", key);
    }
    ctx.reply.int((updated > 0) as i64);
}

pub fn pfcount(ctx: &mut Ctx, args: Args) {
    if args.len() > 2 {
        return pfcount_union(ctx, args);
    }
    let key = args.get(1);
    let Some(entry) = ctx.ks.get_read(key) else {
        return ctx.reply.int(0);
    };
    let data = match hll_bytes_mut(&mut entry.value) {
        Ok(d) => d,
        Err(e) => return ctx.reply.error(e),
    };
    if let Some(card) = hll::cached_cardinality(data) {
        return ctx.reply.int(card as i64);
    }
    match hll::count(data) {
        Ok(card) => {
            // Refreshing the cache changes the string: a write, as in Redis.
            hll::store_cardinality(data, card);
            ctx.ks.mark_dirty(key, 1);
            ctx.reply.int(card as i64);
        }
        Err(hll::Corrupt) => ctx.reply.error(CORRUPT),
    }
}

/// The register-wise maximum of the HyperLogLogs at `keys` (missing keys are empty), with
/// whether any of them is dense.
fn union<'a>(
    ctx: &mut Ctx,
    keys: impl Iterator<Item = &'a [u8]>,
) -> Result<(Registers, bool), Replied> {
    let mut registers = Registers::default();
    let mut any_dense = false;
    for key in keys {
        let Some(entry) = ctx.ks.get_read(key) else {
            continue;
        };
        let merged = hll_bytes(&entry.value).and_then(|data| {
            any_dense |= hll::encoding(data) == Encoding::Dense;
            registers.merge(data).map_err(|_| CORRUPT)
        });
        if let Err(e) = merged {
            ctx.reply.error(e);
            return Err(Replied);
        }
    }
    Ok((registers, any_dense))
}

fn pfcount_union(ctx: &mut Ctx, args: Args) {
    if let Ok((registers, _)) = union(ctx, args.iter().skip(1)) {
        ctx.reply.int(registers.count() as i64);
    }
}

pub fn pfmerge(ctx: &mut Ctx, args: Args) {
    // The destination is one of the inputs.
    let Ok((registers, any_dense)) = union(ctx, args.iter().skip(1)) else {
        return;
    };
    let dest = args.get(1);
    let sparse_max = sparse_max(ctx);
    if ctx.ks.exists(dest) {
        ctx.ks.mark_dirty(dest, 1);
    } else {
        ctx.ks.set(dest, new_hll(), 0);
    }
    let Some(entry) = ctx.ks.get_write(dest) else {
        unreachable!("created above")
    };
    let data = match hll_bytes_mut(&mut entry.value) {
        Ok(d) => d,
        Err(e) => return ctx.reply.error(e),
    };
    // With a dense input the result is dense anyway: convert once instead of growing.
    let stored = if any_dense {
        hll::to_dense(data).map(|_| ())
    } else {
        Ok(())
    }
    .and_then(|()| registers.store_into(data, sparse_max));
    if stored.is_err() {
        return ctx.reply.error(CORRUPT);
    }
    hll::invalidate_cache(data);
    ctx.ks.notify(notify::STRING, "pfadd", dest);
    ctx.reply.ok();
}

pub fn pfselftest(ctx: &mut Ctx, _args: Args) {
    match hll::self_test(sparse_max(ctx)) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => ctx.reply.error(&e),
    }
}

pub fn pfdebug(ctx: &mut Ctx, args: Args) {
    let (sub, key) = (args.get(1), args.get(2));
    let Some(entry) = ctx.ks.get_write(key) else {
        return ctx.reply.error("ERR The specified key does not exist");
    };
    let data = match hll_bytes_mut(&mut entry.value) {
        Ok(d) => d,
        Err(e) => return ctx.reply.error(e),
    };
    if eq_ic(sub, "getreg") || eq_ic(sub, "todense") {
        let converted = match hll::to_dense(data) {
            Ok(c) => c,
            Err(hll::Corrupt) => return ctx.reply.error(CORRUPT),
        };
        if eq_ic(sub, "getreg") {
            ctx.reply.array(hll::REGISTERS);
            for i in 0..hll::REGISTERS {
                ctx.reply.int(hll::dense_register(data, i) as i64);
            }
        } else {
            ctx.reply.int(converted as i64);
        }
        if converted {
            ctx.ks.mark_dirty(key, 1);
        }
    } else if eq_ic(sub, "decode") {
        if hll::encoding(data) != Encoding::Sparse {
            return ctx.reply.error("ERR HLL encoding is not sparse");
        }
        let text = hll::decode_sparse(data);
        ctx.reply.bulk(text.as_bytes());
    } else if eq_ic(sub, "encoding") {
        ctx.reply.simple(match hll::encoding(data) {
            Encoding::Dense => b"dense",
            Encoding::Sparse => b"sparse",
        });
    } else {
        // Redis prints the name as a C string: up to the first NUL byte.
        let name = sub.split(|&b| b == 0).next().unwrap_or_default();
        ctx.reply.error(&format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(name)
        ));
    }
}
