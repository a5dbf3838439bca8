//! The C number conversions Redis's library code relies on beyond `util::num` (which has
//! printf's `%.<p>g` and the rounding of hexadecimal floats): glibc's `strtod` on a prefix, and
//! the double-to-integer casts GCC emits on x86-64.

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

/// The value and end of the hexadecimal significand and binary exponent starting at `s[i]`
/// (after "0x"); rounded by `util::num::hex_to_f64`, which `parse_f64` uses too.
fn hex_float(s: &[u8], mut i: usize) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let start = i;
    let mut digits = 0;
    let mut after_point = false;
    loop {
        let c = at(i);
        if c == b'.' && !after_point {
            after_point = true;
        } else if c.is_ascii_hexdigit() {
            digits += 1;
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    let significand = &s[start..i];
    let mut exp2: i64 = 0;
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
            exp2 = if negative { -e } else { e };
            i = j;
        }
    }
    Some((crate::util::num::hex_to_f64(significand, exp2), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64, p: usize) -> String {
        let mut out = Vec::new();
        crate::util::num::fmt_printf_g(v, p, &mut out);
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
