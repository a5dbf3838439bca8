//! The C number conversions Redis's library code relies on: printf's `%.<p>g`, glibc's
//! `strtod`, and the double-to-integer casts GCC emits on x86-64.

use std::io::Write as _;

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// `(int64_t)d` on x86-64 (`cvttsd2si`): truncation, `i64::MIN` when out of range or NaN.
pub(super) fn cast_i64(d: f64) -> i64 {
    if (-TWO_POW_63..TWO_POW_63).contains(&d) {
        d as i64
    } else {
        i64::MIN
    }
}

/// `(int)d` on x86-64: truncation, `i32::MIN` when out of range or NaN.
pub(super) fn cast_i32(d: f64) -> i32 {
    if d > -2_147_483_649.0 && d < 2_147_483_648.0 {
        d as i32
    } else {
        i32::MIN
    }
}

/// `(uint64_t)d` as GCC compiles it on x86-64: values from 2^63 up are converted after
/// subtracting 2^63; everything else (negatives, NaN) goes through the signed conversion.
pub(super) fn cast_u64(d: f64) -> u64 {
    if d >= TWO_POW_63 {
        (cast_i64(d - TWO_POW_63) as u64) ^ (1 << 63)
    } else {
        cast_i64(d) as u64
    }
}

/// Appends `v` as C `printf("%.<precision>g", v)` with glibc's spelling of non-finite values
/// ("inf", "-inf", "nan", "-nan").
pub(super) fn format_g(out: &mut Vec<u8>, v: f64, precision: usize) {
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    let p = precision.clamp(1, 40);
    // Integers with at most `p` digits print as themselves.
    if p <= 18
        && v.fract() == 0.0
        && v.abs() < 10f64.powi(p as i32)
        && !(v == 0.0 && v.is_sign_negative())
    {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(v as i64).as_bytes());
        return;
    }
    // Rust's exact formatting rounds half to even on the exact binary value, as glibc does.
    let mut buf = [0u8; 64];
    let len = {
        let mut cur = std::io::Cursor::new(&mut buf[..]);
        write!(cur, "{:.*e}", p - 1, v).expect("64 bytes hold 40 digits and an exponent");
        cur.position() as usize
    };
    let text = &buf[..len];
    let e_at = text.iter().position(|&c| c == b'e').expect("exponent");
    let exp: i32 = std::str::from_utf8(&text[e_at + 1..])
        .ok()
        .and_then(|e| e.parse().ok())
        .expect("decimal exponent");
    let negative = text[0] == b'-';
    let mut digits = [0u8; 48];
    let mut n = 0;
    for &c in text[..e_at].iter().filter(|c| c.is_ascii_digit()) {
        digits[n] = c;
        n += 1;
    }
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    if negative {
        out.push(b'-');
    }
    if exp < -4 || exp >= p as i32 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        if exp.unsigned_abs() < 10 {
            out.push(b'0');
        }
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(exp.unsigned_abs()).as_bytes());
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// glibc `strtod` on the start of `s` (which ends where the C string would, at the slice end):
/// the value and the number of bytes it spans, or `None` when no number starts there.
/// Accepts what glibc accepts: leading white space, a sign, decimal and hexadecimal (`0x1.8p3`)
/// forms, `inf`, `infinity` and `nan(chars)` in any case.
pub(super) fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while matches!(at(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = at(i) == b'-';
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    let starts_with = |i: usize, word: &[u8]| {
        s.len() >= i + word.len() && s[i..i + word.len()].eq_ignore_ascii_case(word)
    };
    if starts_with(i, b"inf") {
        let end = if starts_with(i, b"infinity") {
            i + 8
        } else {
            i + 3
        };
        return Some((sign(f64::INFINITY), end));
    }
    if starts_with(i, b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((sign(f64::NAN), end));
    }
    if at(i) == b'0' && (at(i + 1) | 0x20) == b'x' {
        if let Some((v, end)) = hex_float(s, i + 2) {
            return Some((sign(v), end));
        }
        // "0x" without hex digits is the number 0 followed by garbage.
        return Some((sign(0.0), i + 1));
    }
    let start = i;
    let mut digits = 0;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if (at(i) | 0x20) == b'e' {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    // The syntax is checked; Rust's parser is correctly rounded like glibc's.
    let text = std::str::from_utf8(&s[start..i]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign(v), i))
}

/// The hexadecimal significand and binary exponent starting at `s[i]` (after "0x").
fn hex_float(s: &[u8], mut i: usize) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut mantissa: u64 = 0;
    let mut exp2: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut after_point = false;
    loop {
        let c = at(i);
        if c == b'.' && !after_point {
            after_point = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            digits += 1;
            if mantissa >> 60 == 0 {
                mantissa = mantissa * 16 + u64::from(d);
                if after_point {
                    exp2 -= 4;
                }
            } else {
                sticky |= d != 0;
                if !after_point {
                    exp2 += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if (at(i) | 0x20) == b'p' {
        let mut j = i + 1;
        let negative = at(j) == b'-';
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(j) - b'0')).min(1 << 40);
                j += 1;
            }
            exp2 += if negative { -e } else { e };
            i = j;
        }
    }
    Some((scale_binary(mantissa, sticky, exp2), i))
}

/// The double nearest to `mantissa * 2^exp2` (ties to even), `sticky` standing for non-zero
/// bits below the mantissa.
fn scale_binary(mantissa: u64, sticky: bool, exp2: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let shift_in = mantissa.leading_zeros();
    let m = mantissa << shift_in;
    let e = exp2 - i64::from(shift_in); // value = m * 2^e, m in [2^63, 2^64)
    let top = e + 63;
    if top > 1023 {
        return f64::INFINITY;
    }
    let lsb = (top - 52).max(-1074);
    let drop = lsb - e; // low bits of m that do not fit, at least 11
    if drop > 64 {
        return 0.0;
    }
    let wide = u128::from(m);
    let kept = (wide >> drop) as u64;
    let rest = wide & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
    let kept = kept + u64::from(up);
    let scale = if lsb >= -1022 {
        f64::from_bits(((lsb + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (lsb + 1074))
    };
    // Exact: `kept` has at most 54 bits and the product is representable (or overflows).
    kept as f64 * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64, p: usize) -> String {
        let mut out = Vec::new();
        format_g(&mut out, v, p);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn format_g_matches_printf() {
        let cases: &[(f64, usize, &str)] = &[
            (0.0, 14, "0"),
            (-0.0, 14, "-0"),
            (1.0, 14, "1"),
            (-12345.0, 14, "-12345"),
            (0.1, 14, "0.1"),
            (1.0 / 3.0, 14, "0.33333333333333"),
            (1e14, 14, "1e+14"),
            (99999999999999.0, 14, "99999999999999"),
            (123456789012345678.0, 14, "1.2345678901235e+17"),
            (1e-5, 14, "1e-05"),
            (0.0001, 14, "0.0001"),
            (0.00012345, 14, "0.00012345"),
            (1e-20, 14, "1e-20"),
            (1e300, 14, "1e+300"),
            (5e-324, 14, "4.9406564584125e-324"),
            (std::f64::consts::PI, 3, "3.14"),
            (1.125, 3, "1.12"),
            (0.375, 2, "0.38"),
            (9.99995, 5, "10"),
            (2.5, 1, "2"),
            (150.0, 2, "1.5e+02"),
            (123.456, 14, "123.456"),
            (f64::INFINITY, 14, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
            (f64::NAN, 14, "nan"),
            (-f64::NAN, 14, "-nan"),
        ];
        for &(v, p, want) in cases {
            assert_eq!(g(v, p), want, "%.{p}g of {v:e}");
        }
    }

    #[test]
    fn strtod_accepts_glibc_forms() {
        let cases: &[(&str, f64, usize)] = &[
            ("0", 0.0, 1),
            ("-12.5e2,", -1250.0, 7),
            ("1e", 1.0, 1),
            ("1e+", 1.0, 1),
            (".5", 0.5, 2),
            ("5.", 5.0, 2),
            ("+5", 5.0, 2),
            ("007", 7.0, 3),
            ("1e400", f64::INFINITY, 5),
            ("12345678901234567890", 12345678901234567890.0, 20),
            ("0x10", 16.0, 4),
            ("0x1.8p1", 3.0, 7),
            ("0X1P-2", 0.25, 6),
            ("0xg", 0.0, 1),
            ("inf", f64::INFINITY, 3),
            ("-Infinity", f64::NEG_INFINITY, 9),
            ("infinit", f64::INFINITY, 3),
            ("  7", 7.0, 3),
        ];
        for &(s, want, used) in cases {
            assert_eq!(strtod(s.as_bytes()), Some((want, used)), "{s}");
        }
        let (nan, used) = strtod(b"nan(abc)x").unwrap();
        assert!(nan.is_nan() && nan.is_sign_positive() && used == 8);
        let (nan, used) = strtod(b"-NaN(").unwrap();
        assert!(nan.is_nan() && nan.is_sign_negative() && used == 4);
        for s in ["", "-", ".", "x", "-.e5", "e5"] {
            assert_eq!(strtod(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn hex_floats_round_to_nearest_even() {
        assert_eq!(strtod(b"0x1.fffffffffffff8p0").unwrap().0, 2.0);
        assert_eq!(
            strtod(b"0x1.fffffffffffff7p0").unwrap().0,
            f64::from_bits(0x3fff_ffff_ffff_ffff)
        );
        assert_eq!(strtod(b"0x1p-1074").unwrap().0, 5e-324);
        assert_eq!(strtod(b"0x1p-1076").unwrap().0, 0.0);
        assert_eq!(strtod(b"0x1p1024").unwrap().0, f64::INFINITY);
        assert_eq!(
            strtod(b"0x123456789abcdef123").unwrap().0,
            0x123456789abcdef123u128 as f64
        );
    }

    #[test]
    fn casts_follow_x86_64() {
        assert_eq!(cast_i64(-1.5), -1);
        assert_eq!(cast_i64(1e30), i64::MIN);
        assert_eq!(cast_i64(f64::NAN), i64::MIN);
        assert_eq!(cast_i32(2147483648.0), i32::MIN);
        assert_eq!(cast_i32(-2147483648.9), -2147483648);
        assert_eq!(cast_u64(f64::NAN), 1 << 63);
        assert_eq!(cast_u64(TWO_POW_63), 1 << 63);
        assert_eq!(cast_u64(18446744073709551616.0), 0);
        assert_eq!(cast_u64(f64::INFINITY), 0);
        assert_eq!(cast_u64(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(cast_u64(-1.5), u64::MAX);
    }
}
