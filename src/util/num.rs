//! Number parsing and formatting with Redis 7.0's exact rules.
//!
//! * [`parse_i64`] is `string2ll`.
//! * [`parse_f64`] is `string2d` (ZADD scores, ZRANGEBYSCORE bounds,
//!   INCRBYFLOAT-free double arguments, ...).
//! * [`fmt_double_resp`] is `addReplyDouble` (`"%.17g"`).
//! * [`incrbyfloat`] performs a whole INCRBYFLOAT step in emulated x87
//!   80-bit `long double` arithmetic and is byte-exact with Redis.

use std::io::Write;

/// Longest accepted integer text (Redis `LONG_STR_SIZE` is 21 including
/// the terminator).
const MAX_I64_LEN: usize = 20;

/// Redis `MAX_LONG_DOUBLE_CHARS`: `string2ld` rejects inputs this long.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Parses a signed 64-bit integer exactly like Redis `string2ll`: optional
/// `-` (no `+`), no leading zeros except the string `"0"`, no spaces,
/// `"-0"` rejected, at most 20 characters, overflow rejected.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_I64_LEN {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v = (first - b'0') as u64;
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// C `isspace` in the C locale.
#[inline]
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Syntax classes `strtod` recognises (after an optional sign).
enum FloatSyntax<'a> {
    /// Decimal literal; `nonzero` tells whether any mantissa digit is
    /// non-zero and `sci_exp` is the decimal exponent of the leading
    /// non-zero digit (meaningless when `nonzero` is false).
    Decimal {
        nonzero: bool,
        sci_exp: i64,
    },
    /// Hexadecimal literal: mantissa digits (with optional `.`) and
    /// binary exponent text.
    Hex {
        mant: &'a [u8],
        exp: i64,
    },
    Inf,
    Nan,
}

/// Validates that the whole of `s` is one `strtod` literal (glibc syntax,
/// no leading whitespace) and classifies it. Returns the sign and class.
fn classify_float(s: &[u8]) -> Option<(bool, FloatSyntax<'_>)> {
    let (neg, body) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some((neg, FloatSyntax::Inf));
    }
    if body.len() >= 3 && body[..3].eq_ignore_ascii_case(b"nan") {
        let rest = &body[3..];
        if rest.is_empty() {
            return Some((neg, FloatSyntax::Nan));
        }
        // nan(n-char-sequence)
        if rest.len() >= 2
            && rest[0] == b'('
            && rest[rest.len() - 1] == b')'
            && rest[1..rest.len() - 1]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            return Some((neg, FloatSyntax::Nan));
        }
        return None;
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        let h = &body[2..];
        let mut i = 0;
        let mut ndig = 0;
        while i < h.len() && h[i].is_ascii_hexdigit() {
            i += 1;
            ndig += 1;
        }
        if i < h.len() && h[i] == b'.' {
            i += 1;
            while i < h.len() && h[i].is_ascii_hexdigit() {
                i += 1;
                ndig += 1;
            }
        }
        if ndig == 0 {
            return None;
        }
        let mant = &h[..i];
        let mut exp = 0i64;
        if i < h.len() {
            if (h[i] | 0x20) != b'p' {
                return None;
            }
            exp = parse_exp_digits(&h[i + 1..])?;
        }
        return Some((neg, FloatSyntax::Hex { mant, exp }));
    }
    // Decimal.
    let mut i = 0;
    let mut ndig = 0usize;
    let mut nonzero = false;
    let mut sci_exp = 0i64;
    let mut int_digits = 0i64; // digits before '.' once a non-zero was seen
    let mut lead_frac_zeros = 0i64; // zeros after '.' before the first non-zero
    while i < body.len() && body[i].is_ascii_digit() {
        if body[i] != b'0' || nonzero {
            nonzero = true;
            int_digits += 1;
        }
        i += 1;
        ndig += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            if !nonzero {
                if body[i] == b'0' {
                    lead_frac_zeros += 1;
                } else {
                    nonzero = true;
                }
            }
            i += 1;
            ndig += 1;
        }
    }
    if ndig == 0 {
        return None;
    }
    let mut exp = 0i64;
    if i < body.len() {
        if (body[i] | 0x20) != b'e' {
            return None;
        }
        exp = parse_exp_digits(&body[i + 1..])?;
    }
    if nonzero {
        sci_exp = if int_digits > 0 {
            int_digits - 1 + exp
        } else {
            -(lead_frac_zeros + 1) + exp
        };
    }
    Some((neg, FloatSyntax::Decimal { nonzero, sci_exp }))
}

/// `[+-]digits` exponent, saturated far beyond any float range.
fn parse_exp_digits(s: &[u8]) -> Option<i64> {
    let (neg, d) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d {
        v = (v * 10 + (c - b'0') as i64).min(1 << 40);
    }
    Some(if neg { -v } else { v })
}

/// Builds the `f64` nearest to `mant * 2^exp2` (round half to even),
/// `sticky` meaning "plus a non-zero amount below the last bit of mant".
fn make_f64(mant: u64, sticky: bool, exp2: i64) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let lz = mant.leading_zeros() as i64;
    let m = mant << lz;
    let e = exp2 - lz; // value = m * 2^e, m in [2^63, 2^64)
    let top = e + 63; // value in [2^top, 2^(top+1))
    let lsb = (top - 52).max(-1074);
    let sh = lsb - e;
    let kept: u64;
    if sh <= 0 {
        // Only possible for huge exponents: certainly overflow.
        return f64::INFINITY;
    } else if sh > 64 {
        return 0.0;
    } else {
        let (k, rem, half) = if sh == 64 {
            (0u64, m, 1u64 << 63)
        } else {
            (m >> sh, m & ((1u64 << sh) - 1), 1u64 << (sh - 1))
        };
        let up = rem > half || (rem == half && (sticky || k & 1 == 1));
        kept = k + up as u64;
    }
    if lsb == -1074 && kept < (1 << 52) {
        return f64::from_bits(kept);
    }
    let (kept, lsb) = if kept == 1 << 53 {
        (kept >> 1, lsb + 1)
    } else {
        (kept, lsb)
    };
    let biased = lsb + 52 + 1023;
    if lsb == -1074 {
        // Rounded up from the subnormal range into the first binade.
        return f64::from_bits(kept);
    }
    if biased >= 2047 {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (kept & ((1 << 52) - 1)))
}

/// Value of a hexadecimal literal body (mantissa digits with optional
/// `.`, binary exponent), correctly rounded to `f64`.
pub(crate) fn hex_to_f64(mant: &[u8], pexp: i64) -> f64 {
    let mut m: u64 = 0;
    let mut exp: i64 = pexp;
    let mut sticky = false;
    let mut after_point = false;
    for &c in mant {
        if c == b'.' {
            after_point = true;
            continue;
        }
        let d = (c as char).to_digit(16).unwrap() as u64;
        if m >> 60 == 0 {
            m = m * 16 + d;
            if after_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !after_point {
                exp += 4;
            }
        }
    }
    make_f64(m, sticky, exp)
}

/// Parses a double exactly like Redis `string2d` (glibc `strtod` plus
/// Redis's checks): the whole input must be one literal; leading
/// whitespace, trailing garbage, empty input and NaN are rejected;
/// `inf`/`infinity` (any case, optional sign) are accepted; hexadecimal
/// floats (`0x1p-2`) are accepted; overflow (`1e400`) and underflow to
/// zero (`1e-400`) are rejected while subnormal results are accepted.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || c_isspace(s[0]) {
        return None;
    }
    let (neg, class) = classify_float(s)?;
    let v = match class {
        FloatSyntax::Nan => return None,
        FloatSyntax::Inf => f64::INFINITY,
        FloatSyntax::Hex { mant, exp } => {
            let v = hex_to_f64(mant, exp);
            let nonzero = mant.iter().any(|c| *c != b'0' && *c != b'.');
            if v.is_infinite() || (v == 0.0 && nonzero) {
                return None;
            }
            v
        }
        FloatSyntax::Decimal { nonzero, .. } => {
            // The syntax was validated above; Rust's parser is correctly
            // rounded and accepts the same decimal grammar.
            let txt = std::str::from_utf8(s).ok()?;
            let v: f64 = txt.parse().ok()?;
            if v.is_infinite() || (v == 0.0 && nonzero) {
                return None;
            }
            return Some(v);
        }
    };
    Some(if neg { -v } else { v })
}

/// Parses a double as Redis's score-range bounds do: C `strtod` over the argument (up to a NUL
/// byte), which must consume all of it. Unlike [`parse_f64`], leading whitespace is skipped,
/// overflow gives ±inf, underflow gives 0, and the empty string is 0. NaN is rejected.
pub fn parse_strtod(s: &[u8]) -> Option<f64> {
    let s = s.iter().position(|&c| c == 0).map_or(s, |end| &s[..end]);
    if s.is_empty() {
        return Some(0.0);
    }
    let body = &s[s.iter().position(|&c| !c_isspace(c))?..];
    let (neg, class) = classify_float(body)?;
    let v = match class {
        FloatSyntax::Nan => return None,
        FloatSyntax::Inf => f64::INFINITY,
        FloatSyntax::Hex { mant, exp } => hex_to_f64(mant, exp),
        // Rust's parser rounds correctly and saturates to inf / 0 like strtod.
        FloatSyntax::Decimal { .. } => {
            return std::str::from_utf8(body).ok()?.parse().ok();
        }
    };
    Some(if neg { -v } else { v })
}

/// Appends `v` formatted like C `printf("%.17g")`, the way Redis 7.0's
/// `addReplyDouble` prints doubles (RESP2 bulk body and RESP3 `,` body),
/// with `inf`/`-inf` for infinities (and glibc's `nan`/`-nan`).
pub fn fmt_double_resp(v: f64, out: &mut Vec<u8>) {
    fmt_printf_g(v, 17, out);
}

/// Appends `v` as C `printf("%.<precision>g", v)` with glibc's spelling of non-finite values
/// ("inf", "-inf", "nan", "-nan"). A precision of 0 counts as 1, as in C; at most 40 digits.
pub fn fmt_printf_g(v: f64, precision: usize, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    let p = precision.clamp(1, 40);
    // Integers of at most `p` digits print as themselves: no digit string to build.
    if p <= 18
        && v.fract() == 0.0
        && v.abs() < 10f64.powi(p as i32)
        && !(v == 0.0 && v.is_sign_negative())
    {
        fmt_i64(v as i64, out);
        return;
    }
    fmt_g(v, p, out);
}

/// Appends the decimal form of `v`.
pub fn fmt_i64(v: i64, out: &mut Vec<u8>) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Formats `v` as `{:.(p-1)e}` into `buf` and splits it into (negative,
/// digits, digit count, decimal exponent, text length). `digits` holds
/// exactly `p` ASCII digits.
fn sci_digits(v: f64, p: usize, buf: &mut [u8; 48]) -> (bool, [u8; 40], usize, i32, usize) {
    let len = {
        let mut cur = std::io::Cursor::new(&mut buf[..]);
        write!(cur, "{:.*e}", p - 1, v).expect("buffer large enough");
        cur.position() as usize
    };
    let s = &buf[..len];
    let neg = s[0] == b'-';
    let s = if neg { &s[1..] } else { s };
    let epos = s.iter().position(|&c| c == b'e').unwrap();
    let mut digits = [0u8; 40];
    let mut n = 0;
    for &c in &s[..epos] {
        if c.is_ascii_digit() {
            digits[n] = c;
            n += 1;
        }
    }
    let exp: i32 = std::str::from_utf8(&s[epos + 1..])
        .unwrap()
        .parse()
        .unwrap();
    (neg, digits, n, exp, len)
}

/// C `%.<p>g` for finite `v` (no `#` flag).
fn fmt_g(v: f64, p: usize, out: &mut Vec<u8>) {
    let mut buf = [0u8; 48];
    let (neg, digits, n, x, _) = sci_digits(v, p, &mut buf);
    // Strip trailing zeros of the significand.
    let mut nd = n;
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    let digits = &digits[..nd];
    if neg {
        out.push(b'-');
    }
    if x < -4 || x >= p as i32 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if x < 0 { b'-' } else { b'+' });
        let ax = x.unsigned_abs();
        if ax < 10 {
            out.push(b'0');
        }
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(ax).as_bytes());
    } else {
        push_positional(digits, x, out);
    }
}

/// Writes `0.d1d2.. * 10^(x+1)` (i.e. `d1.d2.. e x`) positionally,
/// without exponent; `digits` carries no trailing zeros.
fn push_positional(digits: &[u8], x: i32, out: &mut Vec<u8>) {
    if x < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-x - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let int_len = x as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            for _ in digits.len()..int_len {
                out.push(b'0');
            }
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// Error of an [`incrbyfloat`] step, mapping to Redis's replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrFloatError {
    /// `ERR value is not a valid float`
    NotAFloat,
    /// `ERR increment would produce NaN or Infinity`
    NanOrInfinity,
}

/// One INCRBYFLOAT / HINCRBYFLOAT step, byte-exact with Redis 7.0 on
/// x86_64: parses the current value (`b"0"` for a missing key/field) and
/// the increment with `strtold` semantics, adds them in emulated 80-bit
/// `long double` and appends the `LD_STR_HUMAN` text of the result to
/// `out`.
pub fn incrbyfloat(value: &[u8], incr: &[u8], out: &mut Vec<u8>) -> Result<(), IncrFloatError> {
    let a = ld::Ld::parse(value).ok_or(IncrFloatError::NotAFloat)?;
    let b = ld::Ld::parse(incr).ok_or(IncrFloatError::NotAFloat)?;
    let sum = a.add(b);
    if !sum.is_finite() {
        return Err(IncrFloatError::NanOrInfinity);
    }
    sum.fmt_human(out);
    Ok(())
}

/// Appends a double as Redis's addReplyHumanLongDouble prints it (GEOPOS coordinates): the
/// value as a long double in "%.17Lf" with trailing zeros dropped.
pub fn fmt_human_f64(v: f64, out: &mut Vec<u8>) {
    ld::Ld::from_f64(v).fmt_human(out);
}

/// Parses a number as Redis's `string2ld` does (HINCRBYFLOAT's arguments and field values):
/// None when it is not one, otherwise whether it is finite.
pub fn long_double_is_finite(s: &[u8]) -> Option<bool> {
    ld::Ld::parse(s).map(|v| v.is_finite())
}

mod ld;

#[cfg(test)]
mod tests;
