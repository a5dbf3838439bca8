//! Minimal software emulation of the x86_64 80-bit `long double`
//! (64-bit explicit mantissa, exponent range of IEEE extended precision,
//! round-half-even) sufficient for INCRBYFLOAT: correctly rounded
//! `strtold`, addition and `"%.17Lf"` formatting.

use super::{FloatSyntax, MAX_LONG_DOUBLE_CHARS, c_isspace, classify_float};

/// Lowest exponent of the last mantissa bit (subnormal LSB is 2^-16445).
const MIN_LSB: i64 = -16445;
/// Highest exponent of the leading mantissa bit.
const MAX_TOP: i64 = 16383;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Zero,
    Inf,
    /// value = m * 2^e (m != 0; normalized with the top bit set unless
    /// subnormal).
    Finite {
        m: u64,
        e: i64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ld {
    neg: bool,
    kind: Kind,
    nan: bool,
}

/// Little-endian arbitrary precision unsigned integer.
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut w = Vec::new();
        while v != 0 {
            w.push(v as u32);
            v >>= 32;
        }
        Big(w)
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
    fn bitlen(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }
    fn bit(&self, i: u64) -> bool {
        let w = (i / 32) as usize;
        w < self.0.len() && (self.0[w] >> (i % 32)) & 1 == 1
    }
    fn mul_add_small(&mut self, mul: u32, add: u32) {
        let mut carry = add as u64;
        for w in self.0.iter_mut() {
            let v = *w as u64 * mul as u64 + carry;
            *w = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }
    fn mul_pow10(&mut self, mut n: u64) {
        while n >= 9 {
            self.mul_add_small(1_000_000_000, 0);
            n -= 9;
        }
        if n > 0 {
            self.mul_add_small(10u32.pow(n as u32), 0);
        }
    }
    fn shl(&mut self, bits: u64) {
        if self.is_zero() {
            return;
        }
        let words = (bits / 32) as usize;
        let b = (bits % 32) as u32;
        if b != 0 {
            let mut carry = 0u32;
            for w in self.0.iter_mut() {
                let nv = (*w << b) | carry;
                carry = *w >> (32 - b);
                *w = nv;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if words > 0 {
            self.0.splice(0..0, std::iter::repeat_n(0, words));
        }
    }
    /// Shifts right, returning whether any non-zero bit was dropped.
    fn shr_sticky(&mut self, bits: u64) -> bool {
        let mut sticky = false;
        for i in 0..bits.min(self.bitlen()) {
            if self.bit(i) {
                sticky = true;
                break;
            }
        }
        let words = (bits / 32) as usize;
        if words >= self.0.len() {
            self.0.clear();
            return sticky;
        }
        self.0.drain(0..words);
        let b = (bits % 32) as u32;
        if b != 0 {
            let n = self.0.len();
            for i in 0..n {
                let hi = if i + 1 < n {
                    self.0[i + 1] << (32 - b)
                } else {
                    0
                };
                self.0[i] = (self.0[i] >> b) | hi;
            }
        }
        self.trim();
        sticky
    }
    fn cmp(&self, o: &Big) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let r = self.0[i] as i64 - borrow - *o.0.get(i).unwrap_or(&0) as i64;
            if r < 0 {
                self.0[i] = (r + (1 << 32)) as u32;
                borrow = 1;
            } else {
                self.0[i] = r as u32;
                borrow = 0;
            }
        }
        self.trim();
    }
    /// Divides in place by a small divisor and returns the remainder.
    fn divrem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for w in self.0.iter_mut().rev() {
            let cur = (rem << 32) | *w as u64;
            *w = (cur / d as u64) as u32;
            rem = cur % d as u64;
        }
        self.trim();
        rem as u32
    }
    /// Returns (floor(self / d), remainder != 0), bit-serial long division.
    fn div_sticky(&self, d: &Big) -> (Big, bool) {
        let n = self.bitlen();
        let dl = d.bitlen();
        if n < dl {
            return (Big(Vec::new()), !self.is_zero());
        }
        let mut q = Big(vec![0; (n as usize).div_ceil(32)]);
        // The top dl-1 bits of the dividend are always smaller than d:
        // start from them instead of shifting them in one at a time.
        let mut rem = self.clone();
        rem.shr_sticky(n - dl + 1);
        for i in (0..=n - dl).rev() {
            rem.shl(1);
            if self.bit(i) {
                if rem.0.is_empty() {
                    rem.0.push(1);
                } else {
                    rem.0[0] |= 1;
                }
            }
            if rem.cmp(d) != std::cmp::Ordering::Less {
                rem.sub_assign(d);
                q.0[(i / 32) as usize] |= 1 << (i % 32);
            }
        }
        q.trim();
        (q, !rem.is_zero())
    }
    fn to_decimal(&self) -> Vec<u8> {
        if self.is_zero() {
            return b"0".to_vec();
        }
        let mut x = self.clone();
        let mut chunks = Vec::new();
        while !x.is_zero() {
            chunks.push(x.divrem_small(1_000_000_000));
        }
        let mut out = Vec::new();
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(*chunks.last().unwrap()).as_bytes());
        for c in chunks.iter().rev().skip(1) {
            let s = b.format(*c);
            out.extend(std::iter::repeat_n(b'0', 9 - s.len()));
            out.extend_from_slice(s.as_bytes());
        }
        out
    }
}

impl Ld {
    const NAN: Ld = Ld {
        neg: false,
        kind: Kind::Zero,
        nan: true,
    };

    pub(crate) fn is_finite(&self) -> bool {
        !self.nan && self.kind != Kind::Inf
    }

    /// Rounds `m * 2^exp (+ sticky)` to long double precision.
    fn round(neg: bool, m: u128, sticky: bool, exp: i64) -> Ld {
        if m == 0 {
            return Ld {
                neg,
                kind: Kind::Zero,
                nan: false,
            };
        }
        let lz = m.leading_zeros() as i64;
        let m = m << lz;
        let e = exp - lz; // value = m * 2^e, m in [2^127, 2^128)
        let top = e + 127;
        let lsb = (top - 63).max(MIN_LSB);
        let sh = lsb - e; // >= 64
        let kept: u128 = if sh > 128 {
            0
        } else {
            let (k, rem, half) = if sh == 128 {
                (0u128, m, 1u128 << 127)
            } else {
                (m >> sh, m & ((1u128 << sh) - 1), 1u128 << (sh - 1))
            };
            let up = rem > half || (rem == half && (sticky || k & 1 == 1));
            k + up as u128
        };
        if kept == 0 {
            return Ld {
                neg,
                kind: Kind::Zero,
                nan: false,
            };
        }
        let (kept, lsb) = if kept == 1u128 << 64 {
            (1u128 << 63, lsb + 1)
        } else {
            (kept, lsb)
        };
        let topbit = lsb + 127 - kept.leading_zeros() as i64;
        if topbit > MAX_TOP {
            return Ld {
                neg,
                kind: Kind::Inf,
                nan: false,
            };
        }
        Ld {
            neg,
            kind: Kind::Finite {
                m: kept as u64,
                e: lsb,
            },
            nan: false,
        }
    }

    /// The exact long double value of a double (every double is one).
    pub(crate) fn from_f64(v: f64) -> Ld {
        if v.is_nan() {
            return Ld::NAN;
        }
        let neg = v.is_sign_negative();
        if v.is_infinite() {
            return Ld {
                neg,
                kind: Kind::Inf,
                nan: false,
            };
        }
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), exp - 1075)
        };
        Ld::round(neg, m as u128, false, e)
    }

    /// Rounds a big integer times 2^exp.
    fn round_big(neg: bool, mut x: Big, sticky: bool, exp: i64) -> Ld {
        let len = x.bitlen();
        if len <= 128 {
            let mut v = 0u128;
            for (i, w) in x.0.iter().enumerate() {
                v |= (*w as u128) << (32 * i);
            }
            return Ld::round(neg, v, sticky, exp);
        }
        let drop = len - 128;
        let s = x.shr_sticky(drop);
        Ld::round_big(neg, x, sticky || s, exp + drop as i64)
    }

    /// `strtold` + Redis `string2ld` checks. `None` = "not a valid float".
    pub(crate) fn parse(s: &[u8]) -> Option<Ld> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS || c_isspace(s[0]) {
            return None;
        }
        let (neg, class) = classify_float(s)?;
        let ld = match class {
            FloatSyntax::Nan => return None,
            FloatSyntax::Inf => Ld {
                neg,
                kind: Kind::Inf,
                nan: false,
            },
            FloatSyntax::Hex { mant, exp } => {
                let mut m = Big(Vec::new());
                let mut frac = 0i64;
                let mut after = false;
                for &c in mant {
                    if c == b'.' {
                        after = true;
                        continue;
                    }
                    m.mul_add_small(16, (c as char).to_digit(16).unwrap());
                    if after {
                        frac += 4;
                    }
                }
                let nonzero = !m.is_zero();
                let lead = m.bitlen() as i64 - 1 - frac + exp;
                if nonzero && lead > MAX_TOP + 1 {
                    return None;
                }
                if nonzero && lead < MIN_LSB - 2 {
                    return None;
                }
                Ld::round_big(neg, m, false, exp - frac)
            }
            FloatSyntax::Decimal { nonzero, sci_exp } => {
                if nonzero && sci_exp > 4933 {
                    return None;
                }
                if nonzero && sci_exp < -4952 {
                    return None;
                }
                let mut n = Big(Vec::new());
                let mut e10 = 0i64;
                let mut after = false;
                let mut i = 0;
                let body = match s[0] {
                    b'+' | b'-' => &s[1..],
                    _ => s,
                };
                while i < body.len() {
                    let c = body[i];
                    if c == b'.' {
                        after = true;
                    } else if c.is_ascii_digit() {
                        if !(n.is_zero() && c == b'0') {
                            n.mul_add_small(10, (c - b'0') as u32);
                        }
                        if after {
                            e10 -= 1;
                        }
                    } else {
                        break;
                    }
                    i += 1;
                }
                if i < body.len() {
                    e10 += super::parse_exp_digits(&body[i + 1..])?;
                }
                if n.is_zero() {
                    Ld::round(neg, 0, false, 0)
                } else if e10 >= 0 {
                    n.mul_pow10(e10 as u64);
                    Ld::round_big(neg, n, false, 0)
                } else {
                    let mut d = Big::from_u128(1);
                    d.mul_pow10((-e10) as u64);
                    let k = (d.bitlen() as i64 - n.bitlen() as i64 + 130).max(0) as u64;
                    n.shl(k);
                    let (q, rem) = n.div_sticky(&d);
                    Ld::round_big(neg, q, rem, -(k as i64))
                }
            }
        };
        if let Kind::Zero = ld.kind {
            if let FloatSyntax::Decimal { nonzero: true, .. } = class {
                return None; // underflow to zero: ERANGE
            }
            if let FloatSyntax::Hex { mant, .. } = class
                && mant.iter().any(|c| *c != b'0' && *c != b'.')
            {
                return None;
            }
        }
        if ld.kind == Kind::Inf && !matches!(class, FloatSyntax::Inf) {
            return None; // overflow: ERANGE with HUGE_VAL
        }
        Some(ld)
    }

    /// Correctly rounded sum.
    pub(crate) fn add(self, o: Ld) -> Ld {
        if self.nan || o.nan {
            return Ld::NAN;
        }
        match (self.kind, o.kind) {
            (Kind::Inf, Kind::Inf) => {
                if self.neg == o.neg {
                    self
                } else {
                    Ld::NAN
                }
            }
            (Kind::Inf, _) => self,
            (_, Kind::Inf) => o,
            (Kind::Zero, Kind::Zero) => Ld {
                neg: self.neg && o.neg,
                kind: Kind::Zero,
                nan: false,
            },
            (Kind::Zero, _) => o,
            (_, Kind::Zero) => self,
            (Kind::Finite { m: ma, e: ea }, Kind::Finite { m: mb, e: eb }) => {
                // Normalize so both mantissas have the top bit set.
                let (ma, ea) = (ma << ma.leading_zeros(), ea - ma.leading_zeros() as i64);
                let (mb, eb) = (mb << mb.leading_zeros(), eb - mb.leading_zeros() as i64);
                let (a, b, ea, eb, na, nb) = if (ea, ma) >= (eb, mb) {
                    (ma, mb, ea, eb, self.neg, o.neg)
                } else {
                    (mb, ma, eb, ea, o.neg, self.neg)
                };
                let d = (ea - eb) as u64;
                if d >= 128 {
                    return Ld::round(na, (a as u128) << 63, true, ea - 63);
                }
                let big_a = (a as u128) << 63;
                let full_b = (b as u128) << 63;
                let big_b = full_b >> d;
                let lost = d > 0 && full_b & ((1u128 << d) - 1) != 0;
                if na == nb {
                    Ld::round(na, big_a + big_b, lost, ea - 63)
                } else if lost {
                    Ld::round(na, big_a - big_b - 1, true, ea - 63)
                } else {
                    let r = big_a - big_b;
                    if r == 0 {
                        return Ld {
                            neg: false,
                            kind: Kind::Zero,
                            nan: false,
                        };
                    }
                    Ld::round(na, r, false, ea - 63)
                }
            }
        }
    }

    /// `"%.17Lf"` followed by Redis's trailing-zero / `-0` clean-up.
    pub(crate) fn fmt_human(&self, out: &mut Vec<u8>) {
        let (m, e) = match self.kind {
            Kind::Inf => {
                out.extend_from_slice(if self.neg { b"-inf" } else { b"inf" });
                return;
            }
            Kind::Zero => {
                out.push(b'0');
                return;
            }
            Kind::Finite { m, e } => (m, e),
        };
        let start = out.len();
        if self.neg {
            out.push(b'-');
        }
        if e >= 0 {
            let mut x = Big::from_u128(m as u128);
            x.shl(e as u64);
            out.extend_from_slice(&x.to_decimal());
            return;
        }
        let s = (-e) as u64;
        let int_part: u128 = if s >= 64 { 0 } else { (m >> s) as u128 };
        let mut frac = Big::from_u128(m as u128);
        if s < 64 {
            frac = Big::from_u128((m & ((1u64 << s) - 1)) as u128);
        }
        let mut digits = [0u8; 17];
        for d in digits.iter_mut() {
            frac.mul_add_small(10, 0);
            let mut hi = frac.clone();
            hi.shr_sticky(s);
            *d = hi.0.first().copied().unwrap_or(0) as u8;
            // frac %= 2^s
            let mut mask_hi = hi;
            mask_hi.shl(s);
            frac.sub_assign(&mask_hi);
        }
        // Round half to even on the remaining fraction.
        let mut half = Big::from_u128(1);
        half.shl(s - 1);
        let up = match frac.cmp(&half) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => digits[16] % 2 == 1,
        };
        let mut int_part = int_part;
        if up {
            let mut i = 17;
            loop {
                if i == 0 {
                    int_part += 1;
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(int_part).as_bytes());
        let mut nd = 17;
        while nd > 0 && digits[nd - 1] == 0 {
            nd -= 1;
        }
        if nd > 0 {
            out.push(b'.');
            out.extend(digits[..nd].iter().map(|d| b'0' + d));
        }
        if &out[start..] == b"-0" {
            out.truncate(start);
            out.push(b'0');
        }
    }
}

/// Binary exponent of the most significant set bit of a hexadecimal
/// mantissa (`"1.8"` -> 0, `"10"` -> 4); 0 for an all-zero mantissa.
#[cfg(test)]
pub(super) fn hex_msb_exp(mant: &[u8]) -> i64 {
    let int_digits = mant.iter().take_while(|c| **c != b'.').count() as i64;
    let mut pos = 0i64;
    for &c in mant {
        if c == b'.' {
            continue;
        }
        let d = (c as char).to_digit(16).unwrap();
        if d != 0 {
            let bits = 32 - d.leading_zeros() as i64;
            return 4 * (int_digits - 1 - pos) + bits - 1;
        }
        pos += 1;
    }
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_msb() {
        assert_eq!(super::hex_msb_exp(b"1.8"), 0);
        assert_eq!(super::hex_msb_exp(b"10"), 4);
        assert_eq!(super::hex_msb_exp(b"0.08"), -5);
        assert_eq!(super::hex_msb_exp(b"0"), 0);
    }
}
