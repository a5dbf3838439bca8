//! `bit`: LuaBitOp 1.0.2 (32-bit operations on Lua numbers), as Redis scripts see it.
//!
//! A number becomes 32 bits the LuaBitOp way: adding 2^52 + 2^51 puts the integer part,
//! rounded to nearest even, into the low mantissa bits, which are read modulo 2^32. Results
//! are signed 32-bit numbers.

use super::state::{Raise, Result, State, lua_c_functions};
use std::ffi::c_int;

/// The library's functions in LuaBitOp's registration order (it sets the table's layout).
pub(super) fn open(s: &State) {
    s.register_library(
        c"bit",
        &[
            (c"tobit", c_tobit),
            (c"bnot", c_bnot),
            (c"band", c_band),
            (c"bor", c_bor),
            (c"bxor", c_bxor),
            (c"lshift", c_lshift),
            (c"rshift", c_rshift),
            (c"arshift", c_arshift),
            (c"rol", c_rol),
            (c"ror", c_ror),
            (c"bswap", c_bswap),
            (c"tohex", c_tohex),
        ],
    );
    s.pop(1);
}

lua_c_functions! {
    c_tobit => tobit,
    c_bnot => bnot,
    c_band => band,
    c_bor => bor,
    c_bxor => bxor,
    c_lshift => lshift,
    c_rshift => rshift,
    c_arshift => arshift,
    c_rol => rol,
    c_ror => ror,
    c_bswap => bswap,
    c_tohex => tohex,
}

/// Argument `idx` as 32 bits; a value that is not a number is an error unless its low bits
/// happen to be non-zero (LuaBitOp only checks the type when the result is 0).
fn arg(s: &State, idx: c_int) -> Result<u32> {
    const TWO_POW_52_PLUS_51: f64 = 6_755_399_441_055_744.0;
    let bits = (s.to_number(idx) + TWO_POW_52_PLUS_51).to_bits() as u32;
    if bits == 0 && !s.is_number(idx) {
        return Err(Raise::Type(idx, c"number"));
    }
    Ok(bits)
}

fn ret(s: &State, bits: u32) -> Result<c_int> {
    s.push_number(f64::from(bits as i32));
    Ok(1)
}

fn tobit(s: &State) -> Result<c_int> {
    ret(s, arg(s, 1)?)
}

fn bnot(s: &State) -> Result<c_int> {
    ret(s, !arg(s, 1)?)
}

/// Folds the arguments from the last down to the second into the first (LuaBitOp's order,
/// which decides which bad argument is reported).
fn fold(s: &State, op: fn(u32, u32) -> u32) -> Result<c_int> {
    let mut acc = arg(s, 1)?;
    for idx in (2..=s.top()).rev() {
        acc = op(acc, arg(s, idx)?);
    }
    ret(s, acc)
}

fn band(s: &State) -> Result<c_int> {
    fold(s, |a, b| a & b)
}

fn bor(s: &State) -> Result<c_int> {
    fold(s, |a, b| a | b)
}

fn bxor(s: &State) -> Result<c_int> {
    fold(s, |a, b| a ^ b)
}

/// A shift or rotation by the second argument modulo 32.
fn shift(s: &State, op: fn(u32, u32) -> u32) -> Result<c_int> {
    let bits = arg(s, 1)?;
    let n = arg(s, 2)? & 31;
    ret(s, op(bits, n))
}

fn lshift(s: &State) -> Result<c_int> {
    shift(s, |b, n| b << n)
}

fn rshift(s: &State) -> Result<c_int> {
    shift(s, |b, n| b >> n)
}

fn arshift(s: &State) -> Result<c_int> {
    shift(s, |b, n| ((b as i32) >> n) as u32)
}

fn rol(s: &State) -> Result<c_int> {
    shift(s, u32::rotate_left)
}

fn ror(s: &State) -> Result<c_int> {
    shift(s, u32::rotate_right)
}

fn bswap(s: &State) -> Result<c_int> {
    ret(s, arg(s, 1)?.swap_bytes())
}

/// `tohex(x [, n])`: the low `|n|` hex digits (at most 8, default 8), upper case when n < 0.
fn tohex(s: &State) -> Result<c_int> {
    let mut bits = arg(s, 1)?;
    let n = if s.is_none(2) { 8 } else { arg(s, 2)? as i32 };
    let digits: &[u8; 16] = if n < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let len = n.unsigned_abs().min(8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf[..len].iter_mut().rev() {
        *slot = digits[(bits & 15) as usize];
        bits >>= 4;
    }
    s.push_bytes(&buf[..len]);
    Ok(1)
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::{eval, eval_error};

    #[test]
    fn conversions_wrap_to_signed_32_bits() {
        assert_eq!(eval("return bit.tobit(2^32 + 5)"), "5");
        assert_eq!(eval("return bit.tobit(2^31)"), "-2147483648");
        assert_eq!(eval("return bit.tobit(-1)"), "-1");
        assert_eq!(eval("return bit.tobit(1.5)"), "2");
        assert_eq!(eval("return bit.tobit(2.5)"), "2");
        assert_eq!(eval("return bit.tobit('0x10')"), "16");
        assert_eq!(eval("return bit.tobit(2^53 + 3)"), "2");
    }

    #[test]
    fn operations() {
        assert_eq!(eval("return bit.bnot(0)"), "-1");
        assert_eq!(eval("return bit.band(0xff, 0x0f, 0x3c)"), "12");
        assert_eq!(eval("return bit.bor(1, 2, 4)"), "7");
        assert_eq!(eval("return bit.bxor(0xff, 0x0f)"), "240");
        assert_eq!(eval("return bit.lshift(1, 31)"), "-2147483648");
        assert_eq!(eval("return bit.lshift(1, 33)"), "2");
        assert_eq!(eval("return bit.rshift(-1, 28)"), "15");
        assert_eq!(eval("return bit.arshift(-256, 4)"), "-16");
        assert_eq!(eval("return bit.rol(0x12345678, 8)"), "878082066");
        assert_eq!(eval("return bit.ror(0x12345678, 8)"), "2014458966");
        assert_eq!(eval("return bit.rol(5, 0)"), "5");
        assert_eq!(eval("return bit.bswap(0x12345678)"), "2018915346");
    }

    #[test]
    fn tohex_widths_and_case() {
        assert_eq!(eval("return bit.tohex(255)"), "000000ff");
        assert_eq!(eval("return bit.tohex(255, -4)"), "00FF");
        assert_eq!(eval("return bit.tohex(-1, 12)"), "ffffffff");
        assert_eq!(eval("return bit.tohex(255, 0)"), "");
        assert_eq!(eval("return bit.tohex(0x1234, 2)"), "34");
    }

    #[test]
    fn errors_name_the_argument() {
        assert_eq!(
            eval_error("return bit.tobit()"),
            "user_script:1: bad argument #1 to 'tobit' (number expected, got no value)"
        );
        assert_eq!(
            eval_error("return bit.band(1, 'x', nil)"),
            "user_script:1: bad argument #3 to 'band' (number expected, got nil)"
        );
        assert_eq!(
            eval_error("return bit.tohex(1, nil)"),
            "user_script:1: bad argument #2 to 'tohex' (number expected, got nil)"
        );
        assert_eq!(
            eval("return select(2, pcall(bit.bor, {}))"),
            "bad argument #1 to '?' (number expected, got table)"
        );
    }
}
