//! Bitmap primitives behind SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and
//! BITFIELD, operating on a string value (`Vec<u8>` / `&[u8]`). Bit 0 is
//! the most significant bit of byte 0, as in Redis.
//!
//! Missing keys are the caller's business: e.g. BITPOS on a missing key
//! replies `-1` when looking for 1 and `0` when looking for 0, without
//! calling [`bitpos`].

use super::num::parse_i64;

/// Default `proto-max-bulk-len` (512MB); bit offsets must address a byte
/// below it.
pub const DEFAULT_PROTO_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Reads bit `bitoffset` (0 past the end of the string).
pub fn getbit(s: &[u8], bitoffset: u64) -> bool {
    let byte = (bitoffset >> 3) as usize;
    match s.get(byte) {
        Some(b) => (b >> (7 - (bitoffset & 7))) & 1 == 1,
        None => false,
    }
}

/// Sets or clears bit `bitoffset`, zero-growing the string as needed, and
/// returns the previous bit value.
pub fn setbit(s: &mut Vec<u8>, bitoffset: u64, on: bool) -> bool {
    let byte = (bitoffset >> 3) as usize;
    if s.len() <= byte {
        s.resize(byte + 1, 0);
    }
    let mask = 1u8 << (7 - (bitoffset & 7));
    let old = s[byte] & mask != 0;
    if on {
        s[byte] |= mask;
    } else {
        s[byte] &= !mask;
    }
    old
}

/// Parses a SETBIT/GETBIT/BITFIELD bit offset like Redis
/// `getBitOffsetFromArgument`: a `string2ll` integer, or with `hash_bits >
/// 0` also `#N` meaning `N * hash_bits`; negative offsets and offsets whose
/// byte (`offset >> 3`) is `>= proto_max_bulk_len` are rejected
/// ("ERR bit offset is not an integer or out of range").
pub fn parse_bit_offset(s: &[u8], hash_bits: u32, proto_max_bulk_len: u64) -> Option<u64> {
    let usehash = hash_bits > 0 && s.first() == Some(&b'#');
    let mut v = parse_i64(if usehash { &s[1..] } else { s })?;
    if usehash {
        v = v.wrapping_mul(hash_bits as i64);
    }
    if v < 0 || (v as u64 >> 3) >= proto_max_bulk_len {
        return None;
    }
    Some(v as u64)
}

/// Popcount of a byte slice.
fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n = 0u64;
    for c in &mut chunks {
        n += u64::from_ne_bytes(c.try_into().unwrap()).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// Resolved byte range plus edge masks (bits of the first/last byte that
/// are outside a BIT-unit range), as computed by Redis.
struct Range {
    start: i64,
    end: i64,
    first_neg: u8,
    last_neg: u8,
}

fn resolve(totlen_bytes: i64, mut start: i64, mut end: i64, bit_unit: bool) -> Range {
    let mut totlen = totlen_bytes;
    if bit_unit {
        totlen <<= 3;
    }
    if start < 0 {
        start = totlen.saturating_add(start);
    }
    if end < 0 {
        end = totlen.saturating_add(end);
    }
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = 0;
    }
    if end >= totlen {
        end = totlen - 1;
    }
    let mut r = Range {
        start,
        end,
        first_neg: 0,
        last_neg: 0,
    };
    if bit_unit && start <= end {
        r.first_neg = !((1u32 << (8 - (start & 7))) - 1) as u8;
        r.last_neg = ((1u32 << (7 - (end & 7))) - 1) as u8;
        r.start = start >> 3;
        r.end = end >> 3;
    }
    r
}

/// BITCOUNT. `range` is `(start, end)` in bytes, or bits when `bit_unit`
/// (BIT option); negative indexes count from the end; `None` counts the
/// whole string. Redis 7 semantics, including `start > end` -> 0 and the
/// early 0 for two negative indexes with `start > end`.
pub fn bitcount(s: &[u8], range: Option<(i64, i64)>, bit_unit: bool) -> u64 {
    let Some((start, end)) = range else {
        return popcount(s);
    };
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let r = resolve(s.len() as i64, start, end, bit_unit);
    if r.start > r.end {
        return 0;
    }
    let (a, b) = (r.start as usize, r.end as usize);
    let mut count = popcount(&s[a..=b]);
    if r.first_neg != 0 {
        count -= (s[a] & r.first_neg).count_ones() as u64;
    }
    if r.last_neg != 0 {
        count -= (s[b] & r.last_neg).count_ones() as u64;
    }
    count
}

/// Position of the first bit equal to `bit` in `s`, or -1 if there is
/// none; when looking for 0 and none is found, the bit right after the
/// buffer (`len * 8`) is returned (Redis `redisBitpos`).
fn raw_bitpos(s: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    for (i, &b) in s.iter().enumerate() {
        if b != skip {
            let v = if bit { b } else { !b };
            return i as i64 * 8 + v.leading_zeros() as i64;
        }
    }
    if bit { -1 } else { s.len() as i64 * 8 }
}

/// BITPOS. `start`/`end` are byte indexes (bit indexes with `bit_unit`),
/// negative counting from the end; `start == None` means the whole string
/// (`end` is then ignored). When searching for a clear bit with no
/// explicit `end`, a string made only of set bits yields the first bit
/// after the string; with an explicit `end` it yields -1. Empty ranges
/// (and empty strings) yield -1.
pub fn bitpos(s: &[u8], bit: bool, start: Option<i64>, end: Option<i64>, bit_unit: bool) -> i64 {
    let totlen = s.len() as i64;
    let (r, end_given) = match start {
        None => (
            Range {
                start: 0,
                end: totlen - 1,
                first_neg: 0,
                last_neg: 0,
            },
            false,
        ),
        Some(st) => {
            let (e, given) = match end {
                Some(e) => (e, true),
                None if bit_unit => ((totlen << 3) + 7, false),
                None => (totlen - 1, false),
            };
            (resolve(totlen, st, e, bit_unit), given)
        }
    };
    if r.start > r.end {
        return -1;
    }
    let mut start = r.start as usize;
    let end = r.end as usize;
    let mut bytes = end - start + 1;
    let pos: i64 = 'found: {
        if r.first_neg != 0 {
            let mut tmp = if bit {
                s[start] & !r.first_neg
            } else {
                s[start] | r.first_neg
            };
            if r.last_neg != 0 && bytes == 1 {
                tmp = if bit {
                    tmp & !r.last_neg
                } else {
                    tmp | r.last_neg
                };
            }
            let p = raw_bitpos(&[tmp], bit);
            if bytes == 1 || (p != -1 && p != 8) {
                break 'found p;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - usize::from(r.last_neg != 0);
        if cur > 0 {
            let p = raw_bitpos(&s[start..start + cur], bit);
            if bytes == cur || (p != -1 && p != (cur as i64) << 3) {
                break 'found p;
            }
            start += cur;
            bytes -= cur;
        }
        let tmp = if bit {
            s[end] & !r.last_neg
        } else {
            s[end] | r.last_neg
        };
        raw_bitpos(&[tmp], bit)
    };
    if end_given && !bit && pos == (bytes as i64) << 3 {
        return -1;
    }
    if pos != -1 {
        pos + ((start as i64) << 3)
    } else {
        pos
    }
}

/// BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP: combines the sources (missing keys passed as empty slices) into
/// a result as long as the longest source; shorter sources are
/// zero-padded. `Not` uses exactly the first source (the caller enforces
/// "BITOP NOT must be called with a single source key."). An empty
/// result means the destination key is deleted.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    match op {
        BitOp::Not => srcs
            .first()
            .map(|s| s.iter().map(|b| !b).collect())
            .unwrap_or_default(),
        BitOp::And => {
            let mut out = vec![0u8; maxlen];
            if srcs.iter().all(|s| s.len() == maxlen) {
                out.copy_from_slice(srcs[0]);
                for s in &srcs[1..] {
                    out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o &= b);
                }
            } else {
                // Some source is zero-padded: bytes past the shortest are 0.
                let minlen = srcs.iter().map(|s| s.len()).min().unwrap_or(0);
                out[..minlen].copy_from_slice(&srcs[0][..minlen]);
                for s in &srcs[1..] {
                    out[..minlen]
                        .iter_mut()
                        .zip(s.iter())
                        .for_each(|(o, b)| *o &= b);
                }
            }
            out
        }
        BitOp::Or | BitOp::Xor => {
            let mut out = vec![0u8; maxlen];
            for s in srcs {
                if op == BitOp::Or {
                    out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o |= b);
                } else {
                    out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o ^= b);
                }
            }
            out
        }
    }
}

/// A BITFIELD integer type: `i1`..`i64` or `u1`..`u63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitfieldType {
    Signed(u8),
    Unsigned(u8),
}

impl BitfieldType {
    /// Width in bits.
    pub fn bits(self) -> u8 {
        match self {
            BitfieldType::Signed(b) | BitfieldType::Unsigned(b) => b,
        }
    }
}

/// BITFIELD overflow behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    #[default]
    Wrap,
    Sat,
    Fail,
}

/// Parses a BITFIELD type (`i5`, `u63`; case-sensitive prefix; `u64` and
/// widths outside 1..=64 are invalid). On `None` reply "ERR Invalid
/// bitfield type. Use something like i16 u8. Note that u64 is not
/// supported but i64 is."
pub fn parse_bitfield_type(s: &[u8]) -> Option<BitfieldType> {
    // Redis measures the width with strlen(), so it stops at a NUL.
    let s = match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    };
    let (&kind, rest) = s.split_first()?;
    let bits = parse_i64(rest)?;
    match kind {
        b'i' if (1..=64).contains(&bits) => Some(BitfieldType::Signed(bits as u8)),
        b'u' if (1..=63).contains(&bits) => Some(BitfieldType::Unsigned(bits as u8)),
        _ => None,
    }
}

/// Parses a BITFIELD offset (`N` or `#N` = `N * width`) with the default
/// 512MB `proto-max-bulk-len`. On `None` reply "ERR bit offset is not an
/// integer or out of range".
pub fn parse_bitfield_offset(s: &[u8], ty: BitfieldType) -> Option<u64> {
    parse_bit_offset(s, ty.bits() as u32, DEFAULT_PROTO_MAX_BULK_LEN)
}

/// Highest byte index touched by a field, so callers can check sizes
/// before growing (`(offset + bits - 1) / 8`).
pub fn bitfield_last_byte(offset: u64, ty: BitfieldType) -> u64 {
    (offset + ty.bits() as u64 - 1) >> 3
}

fn get_raw(s: &[u8], offset: u64, bits: u8) -> u64 {
    let mut v = 0u64;
    for j in 0..bits as u64 {
        v = (v << 1) | getbit(s, offset + j) as u64;
    }
    v
}

fn set_raw(s: &mut [u8], offset: u64, bits: u8, value: u64) {
    for j in 0..bits as u64 {
        let on = (value >> (bits as u64 - 1 - j)) & 1 == 1;
        let o = offset + j;
        let mask = 1u8 << (7 - (o & 7));
        let b = &mut s[(o >> 3) as usize];
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

fn grow(s: &mut Vec<u8>, offset: u64, ty: BitfieldType) {
    let need = bitfield_last_byte(offset, ty) as usize + 1;
    if s.len() < need {
        s.resize(need, 0);
    }
}

/// BITFIELD GET: bits past the end of the string read as zero.
pub fn bitfield_get(s: &[u8], offset: u64, ty: BitfieldType) -> i64 {
    let raw = get_raw(s, offset, ty.bits());
    match ty {
        BitfieldType::Unsigned(_) => raw as i64,
        BitfieldType::Signed(64) => raw as i64,
        BitfieldType::Signed(b) => {
            if raw & (1u64 << (b - 1)) != 0 {
                (raw | (u64::MAX << b)) as i64
            } else {
                raw as i64
            }
        }
    }
}

/// Computes `value + incr` for the field type with Redis's overflow
/// checks (`checkSignedBitfieldOverflow` / `checkUnsignedBitfieldOverflow`,
/// including their wrapping intermediate arithmetic: e.g. `SET i8` of
/// `i64::MIN` under SAT saturates to +127, as in Redis); returns (new
/// value, overflowed). For unsigned types `value` is reinterpreted as u64
/// (a negative SET argument is a huge unsigned value).
fn apply(ty: BitfieldType, value: i64, incr: i64, ov: Overflow) -> (i64, bool) {
    let bits = ty.bits() as u32;
    match ty {
        BitfieldType::Signed(_) => {
            let max: i64 = if bits == 64 {
                i64::MAX
            } else {
                (1i64 << (bits - 1)) - 1
            };
            let min = -max - 1;
            let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
            let minincr = min.wrapping_sub(value);
            let high = value > max
                || (bits != 64 && incr > maxincr)
                || (value >= 0 && incr > 0 && incr > maxincr);
            let low = !high
                && (value < min
                    || (bits != 64 && incr < minincr)
                    || (value < 0 && incr < 0 && incr < minincr));
            if !high && !low {
                return (value.wrapping_add(incr), false);
            }
            let v = match ov {
                Overflow::Sat => {
                    if high {
                        max
                    } else {
                        min
                    }
                }
                _ => {
                    // Two's complement wrap to `bits` bits.
                    let c = (value as u64).wrapping_add(incr as u64);
                    if bits < 64 {
                        let mask = u64::MAX << bits;
                        if c & (1u64 << (bits - 1)) != 0 {
                            (c | mask) as i64
                        } else {
                            (c & !mask) as i64
                        }
                    } else {
                        c as i64
                    }
                }
            };
            (v, true)
        }
        BitfieldType::Unsigned(_) => {
            let value = value as u64;
            let max: u64 = (1u64 << bits) - 1;
            let maxincr = max.wrapping_sub(value) as i64;
            let minincr = 0u64.wrapping_sub(value) as i64;
            let high = value > max || (incr > 0 && incr > maxincr);
            let low = !high && incr < 0 && incr < minincr;
            if !high && !low {
                return (value.wrapping_add(incr as u64) as i64, false);
            }
            let v = match ov {
                Overflow::Sat => {
                    if high {
                        max
                    } else {
                        0
                    }
                }
                _ => value.wrapping_add(incr as u64) & max,
            };
            (v as i64, true)
        }
    }
}

/// BITFIELD SET with the default WRAP overflow: stores `value` (wrapped
/// to the field width) and returns the previous value. Grows the string.
pub fn bitfield_set(s: &mut Vec<u8>, offset: u64, ty: BitfieldType, value: i64) -> i64 {
    bitfield_set_ov(s, offset, ty, value, Overflow::Wrap).expect("wrap never fails")
}

/// BITFIELD SET honouring the current OVERFLOW mode (Redis applies it to
/// SET too: out-of-range values wrap, saturate, or with FAIL leave the
/// field untouched and reply nil = `None`). Returns the previous value.
/// The string is grown even when FAIL prevents the write (Redis creates
/// and sizes the value before running the operations).
pub fn bitfield_set_ov(
    s: &mut Vec<u8>,
    offset: u64,
    ty: BitfieldType,
    value: i64,
    ov: Overflow,
) -> Option<i64> {
    grow(s, offset, ty);
    let old = bitfield_get(s, offset, ty);
    let (new, overflow) = apply(ty, value, 0, ov);
    if overflow && ov == Overflow::Fail {
        return None;
    }
    set_raw(s, offset, ty.bits(), new as u64);
    Some(old)
}

/// BITFIELD INCRBY: adds `incr` to the field and returns the new value,
/// or `None` (reply nil, nothing written) on overflow with FAIL. The
/// string is grown in any case, like Redis.
pub fn bitfield_incrby(
    s: &mut Vec<u8>,
    offset: u64,
    ty: BitfieldType,
    incr: i64,
    ov: Overflow,
) -> Option<i64> {
    grow(s, offset, ty);
    let old = bitfield_get(s, offset, ty);
    let (new, overflow) = apply(ty, old, incr, ov);
    if overflow && ov == Overflow::Fail {
        return None;
    }
    set_raw(s, offset, ty.bits(), new as u64);
    Some(new)
}

#[cfg(test)]
mod tests;
