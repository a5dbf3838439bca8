//! Bitmap commands (bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD(_RO).
//! The bit arithmetic lives in `util::bitmap`; these handlers parse, look up and reply.

use super::strings::{read_str, string_for_update};
use super::{Ctx, Replied, SYNTAX_ERR, WRONGTYPE, arg_i64, eq_ic};
use crate::protocol::Args;
use crate::server::notify;
use crate::storage::{StrValue, Value};
use crate::util::bitmap::{self, BitOp, BitfieldType, Overflow};

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

fn max_bytes(ctx: &Ctx) -> u64 {
    ctx.server
        .hot
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// A bit offset argument; `hash_bits` > 0 also allows BITFIELD's `#N` form.
fn bit_offset(ctx: &mut Ctx, a: &[u8], hash_bits: u32) -> Option<u64> {
    let v = bitmap::parse_bit_offset(a, hash_bits, max_bytes(ctx));
    if v.is_none() {
        ctx.reply.error(BAD_OFFSET);
    }
    v
}

pub fn setbit(ctx: &mut Ctx, args: Args) {
    let Some(offset) = bit_offset(ctx, args.get(2), 0) else {
        return;
    };
    let on = match args.get(3) {
        b"0" => false,
        b"1" => true,
        _ => return ctx.reply.error("ERR bit is not an integer or out of range"),
    };
    if let Ok(Some(data)) = string_for_update(ctx.ks, ctx.reply, args.get(1), true) {
        let old = bitmap::setbit(data, offset, on);
        ctx.ks.notify(notify::STRING, "setbit", args.get(1));
        ctx.reply.int(old as i64);
    }
}

pub fn getbit(ctx: &mut Ctx, args: Args) {
    let Some(offset) = bit_offset(ctx, args.get(2), 0) else {
        return;
    };
    let mut scratch = itoa::Buffer::new();
    if let Ok(v) = read_str(ctx.ks, ctx.reply, args.get(1)) {
        let bit = v.is_some_and(|s| bitmap::getbit(s.as_bytes(&mut scratch), offset));
        ctx.reply.int(bit as i64);
    }
}

/// BYTE|BIT unit argument; true for BIT.
fn unit(ctx: &mut Ctx, a: &[u8]) -> Option<bool> {
    if eq_ic(a, "bit") {
        Some(true)
    } else if eq_ic(a, "byte") {
        Some(false)
    } else {
        ctx.reply.error(SYNTAX_ERR);
        None
    }
}

pub fn bitcount(ctx: &mut Ctx, args: Args) {
    let value = match read_str(ctx.ks, ctx.reply, args.get(1)) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(s)) => s.clone(),
    };
    let mut scratch = itoa::Buffer::new();
    let bytes = value.as_bytes(&mut scratch);
    let (range, bits) = match args.len() {
        2 => (None, false),
        4 | 5 => {
            let Some(start) = arg_i64(ctx, args.get(2)) else {
                return;
            };
            let Some(end) = arg_i64(ctx, args.get(3)) else {
                return;
            };
            // Redis answers an empty negative range before looking at the unit.
            if start < 0 && end < 0 && start > end {
                return ctx.reply.int(0);
            }
            let bits = if args.len() == 5 {
                match unit(ctx, args.get(4)) {
                    Some(b) => b,
                    None => return,
                }
            } else {
                false
            };
            (Some((start, end)), bits)
        }
        _ => return ctx.reply.error(SYNTAX_ERR),
    };
    ctx.reply.int(bitmap::bitcount(bytes, range, bits) as i64);
}

pub fn bitpos(ctx: &mut Ctx, args: Args) {
    let Some(bit) = arg_i64(ctx, args.get(2)) else {
        return;
    };
    if bit != 0 && bit != 1 {
        return ctx.reply.error("ERR The bit argument must be 1 or 0.");
    }
    let value = match read_str(ctx.ks, ctx.reply, args.get(1)) {
        Err(Replied) => return,
        Ok(None) => return ctx.reply.int(if bit == 1 { -1 } else { 0 }),
        Ok(Some(s)) => s.clone(),
    };
    let mut scratch = itoa::Buffer::new();
    let bytes = value.as_bytes(&mut scratch);
    let (mut start, mut end, mut bits) = (None, None, false);
    match args.len() {
        3 => {}
        4..=6 => {
            let Some(s) = arg_i64(ctx, args.get(3)) else {
                return;
            };
            start = Some(s);
            if args.len() == 6 {
                match unit(ctx, args.get(5)) {
                    Some(b) => bits = b,
                    None => return,
                }
            }
            if args.len() >= 5 {
                let Some(e) = arg_i64(ctx, args.get(4)) else {
                    return;
                };
                end = Some(e);
            }
        }
        _ => return ctx.reply.error(SYNTAX_ERR),
    }
    ctx.reply
        .int(bitmap::bitpos(bytes, bit == 1, start, end, bits));
}

pub fn bitop(ctx: &mut Ctx, args: Args) {
    let op = args.get(1);
    let op = if eq_ic(op, "and") {
        BitOp::And
    } else if eq_ic(op, "or") {
        BitOp::Or
    } else if eq_ic(op, "xor") {
        BitOp::Xor
    } else if eq_ic(op, "not") {
        BitOp::Not
    } else {
        return ctx.reply.error(SYNTAX_ERR);
    };
    if op == BitOp::Not && args.len() != 4 {
        return ctx
            .reply
            .error("ERR BITOP NOT must be called with a single source key.");
    }
    let mut sources: Vec<Vec<u8>> = Vec::with_capacity(args.len() - 3);
    for key in args.iter().skip(3) {
        let mut scratch = itoa::Buffer::new();
        match read_str(ctx.ks, ctx.reply, key) {
            Err(Replied) => return,
            Ok(v) => sources.push(v.map_or(Vec::new(), |s| s.as_bytes(&mut scratch).to_vec())),
        }
    }
    let refs: Vec<&[u8]> = sources.iter().map(|s| s.as_slice()).collect();
    let result = bitmap::bitop(op, &refs);
    let dest = args.get(2);
    let len = result.len();
    if len == 0 {
        if ctx.ks.remove(dest).is_some() {
            ctx.ks.notify(notify::GENERIC, "del", dest);
        }
    } else {
        ctx.ks.set(dest, Value::Str(StrValue::raw(result)), 0);
        ctx.ks.notify(notify::STRING, "set", dest);
    }
    ctx.reply.int(len as i64);
}

enum FieldOp {
    Get,
    Set(i64),
    Incr(i64),
}

struct Field {
    op: FieldOp,
    ty: BitfieldType,
    offset: u64,
    overflow: Overflow,
}

fn bitfield_generic(ctx: &mut Ctx, args: Args, read_only_cmd: bool) {
    let mut ops: Vec<Field> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rest = args.len() - j - 1;
        let sub = args.get(j);
        let kind = if eq_ic(sub, "get") && rest >= 2 {
            0
        } else if eq_ic(sub, "set") && rest >= 3 {
            1
        } else if eq_ic(sub, "incrby") && rest >= 3 {
            2
        } else if eq_ic(sub, "overflow") && rest >= 1 {
            let o = args.get(j + 1);
            overflow = if eq_ic(o, "wrap") {
                Overflow::Wrap
            } else if eq_ic(o, "sat") {
                Overflow::Sat
            } else if eq_ic(o, "fail") {
                Overflow::Fail
            } else {
                return ctx.reply.error("ERR Invalid OVERFLOW type specified");
            };
            j += 2;
            continue;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        };
        let Some(ty) = bitmap::parse_bitfield_type(args.get(j + 1)) else {
            return ctx.reply.error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
        };
        let Some(offset) = bit_offset(ctx, args.get(j + 2), ty.bits() as u32) else {
            return;
        };
        let op = match kind {
            0 => FieldOp::Get,
            _ => {
                let Some(v) = arg_i64(ctx, args.get(j + 3)) else {
                    return;
                };
                if kind == 1 {
                    FieldOp::Set(v)
                } else {
                    FieldOp::Incr(v)
                }
            }
        };
        ops.push(Field {
            op,
            ty,
            offset,
            overflow,
        });
        j += if kind == 0 { 3 } else { 4 };
    }
    let writes = ops.iter().any(|f| !matches!(f.op, FieldOp::Get));
    let key = args.get(1);
    if !writes {
        let mut scratch = itoa::Buffer::new();
        let value = match read_str(ctx.ks, ctx.reply, key) {
            Err(Replied) => return,
            Ok(v) => v.map_or(Vec::new(), |s| s.as_bytes(&mut scratch).to_vec()),
        };
        ctx.reply.array(ops.len());
        for f in &ops {
            ctx.reply.int(bitmap::bitfield_get(&value, f.offset, f.ty));
        }
        return;
    }
    if read_only_cmd {
        return ctx
            .reply
            .error("ERR BITFIELD_RO only supports the GET subcommand");
    }
    if matches!(ctx.ks.get_write(key).map(|e| &e.value), Some(v) if !matches!(v, Value::Str(_))) {
        return ctx.reply.error(WRONGTYPE);
    }
    let Ok(Some(data)) = string_for_update(ctx.ks, ctx.reply, key, true) else {
        return;
    };
    // Like Redis, the string grows to cover the highest field written even if it fails.
    let needed = ops
        .iter()
        .filter(|f| !matches!(f.op, FieldOp::Get))
        .map(|f| (f.offset + f.ty.bits() as u64).div_ceil(8) as usize)
        .max()
        .unwrap_or(0);
    if data.len() < needed {
        data.resize(needed, 0);
    }
    ctx.reply.array(ops.len());
    for f in &ops {
        match f.op {
            FieldOp::Get => ctx.reply.int(bitmap::bitfield_get(data, f.offset, f.ty)),
            FieldOp::Set(v) => match bitmap::bitfield_set_ov(data, f.offset, f.ty, v, f.overflow) {
                Some(old) => ctx.reply.int(old),
                None => ctx.reply.null(),
            },
            FieldOp::Incr(by) => {
                match bitmap::bitfield_incrby(data, f.offset, f.ty, by, f.overflow) {
                    Some(new) => ctx.reply.int(new),
                    None => ctx.reply.null(),
                }
            }
        }
    }
    if ops.iter().any(|f| !matches!(f.op, FieldOp::Get)) {
        ctx.ks.notify(notify::STRING, "setbit", key);
    }
}

pub fn bitfield(ctx: &mut Ctx, args: Args) {
    bitfield_generic(ctx, args, false);
}

pub fn bitfield_ro(ctx: &mut Ctx, args: Args) {
    bitfield_generic(ctx, args, true);
}
