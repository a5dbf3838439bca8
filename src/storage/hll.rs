//! HyperLogLog in Redis's exact byte format, so values move between ferrodis and Redis with GET
//! and SET unchanged.
//!
//! Layout: a 16-byte header ("HYLL", the encoding byte, 3 unused bytes, the cached cardinality as
//! a little-endian u64 whose top bit marks the cache stale), then the 16384 registers:
//! - dense: 6 bits per register, packed from the least significant bit of each byte upwards;
//! - sparse: run-length opcodes, ZERO `00xxxxxx` (1..64 zero registers), XZERO
//!   `01xxxxxx yyyyyyyy` (1..16384 zero registers) and VAL `1vvvvvxx` (1..4 registers of value
//!   1..32).
//!
//! Sparse values grow opcode by opcode and turn dense once they would pass
//! `hll-sparse-max-bytes` or a register needs a value above 32. Edits follow Redis's in-place
//! algorithm step by step (same split and same merge of neighbouring VALs), because the bytes
//! are visible to clients and must be identical. The estimator is Ertl's improved one
//! ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284), as in
//! Redis 5 and later.

pub const HEADER_LEN: usize = 16;
pub const REGISTERS: usize = 1 << P;
/// Length of a dense value: the header and 16384 6-bit registers.
pub const DENSE_LEN: usize = HEADER_LEN + REGISTERS * BITS / 8;

/// Register index bits of the hash.
const P: u32 = 14;
/// Hash bits left for the run of zeroes.
const Q: usize = 64 - P as usize;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
const MAGIC: &[u8; 4] = b"HYLL";
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// Byte of the cached cardinality holding the "stale" bit.
const CARD_TOP: usize = 15;
const STALE_BIT: u8 = 0x80;
const HASH_SEED: u64 = 0xadc8_3b19;
/// 0.5 / ln(2): the estimator's constant for an unbounded number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

/// A HyperLogLog whose sparse opcodes do not describe exactly 16384 registers.
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

/// Whether a string is a HyperLogLog as far as Redis checks before using one: the magic, a known
/// encoding and, when dense, the exact length. Sparse opcodes are checked when walked.
pub fn is_hll(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN
        && &bytes[..4] == MAGIC
        && bytes[4] <= SPARSE
        && (bytes[4] != DENSE || bytes.len() == DENSE_LEN)
}

/// The encoding of a value accepted by `is_hll`.
pub fn encoding(hll: &[u8]) -> Encoding {
    if hll[4] == DENSE {
        Encoding::Dense
    } else {
        Encoding::Sparse
    }
}

/// An empty HyperLogLog as Redis creates it: sparse, one XZERO per 16384 registers, cached
/// cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + 2);
    v.extend_from_slice(MAGIC);
    v.push(SPARSE);
    v.resize(HEADER_LEN, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_MAX_LEN);
        v.extend_from_slice(&xzero(run));
        left -= run;
    }
    v
}

/// The cached cardinality, unless it is marked stale.
pub fn cached_cardinality(hll: &[u8]) -> Option<u64> {
    if hll[CARD_TOP] & STALE_BIT != 0 {
        return None;
    }
    Some(u64::from_le_bytes(hll[8..16].try_into().expect("8 bytes")))
}

pub fn store_cardinality(hll: &mut [u8], card: u64) {
    hll[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(hll: &mut [u8]) {
    hll[CARD_TOP] |= STALE_BIT;
}

/// MurmurHash64A, reading 8-byte blocks little-endian (Redis's endian-neutral variant).
pub fn murmur_hash64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its "000..1" pattern (1..=Q+1).
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur_hash64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The sentinel bit bounds the run at Q zeroes.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Adds an element; true when a register grew (the estimate may have changed).
pub fn add(hll: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    set(hll, index, count, sparse_max)
}

/// Raises register `index` to `count` if it is lower; true when it did.
pub fn set(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    match encoding(hll) {
        Encoding::Dense => Ok(dense_set(&mut hll[HEADER_LEN..], index, count)),
        Encoding::Sparse => sparse_set(hll, index, count, sparse_max),
    }
}

/// The estimated cardinality (ignores the cache).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histogram = [0u32; 64];
    match encoding(hll) {
        Encoding::Dense => dense_histogram(&hll[HEADER_LEN..], &mut histogram),
        Encoding::Sparse => for_each_run(&hll[HEADER_LEN..], |_, len, value| {
            histogram[value as usize] += len as u32;
        })?,
    }
    Ok(estimate(&histogram))
}

/// Converts a sparse value to dense in place, keeping the header; true when it converted.
pub fn to_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if encoding(hll) == Encoding::Dense {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&hll[..HEADER_LEN]);
    dense[4] = DENSE;
    let registers = &mut dense[HEADER_LEN..];
    for_each_run(&hll[HEADER_LEN..], |start, len, value| {
        if value != 0 {
            for i in start..start + len {
                dense_write(registers, i, value);
            }
        }
    })?;
    *hll = dense;
    Ok(true)
}

/// Register `index` of a dense value.
pub fn dense_register(hll: &[u8], index: usize) -> u8 {
    dense_read(&hll[HEADER_LEN..], index)
}

/// PFDEBUG DECODE's text for a sparse value: "Z:n" (XZERO), "z:n" (ZERO), "v:value,len" (VAL).
pub fn decode_sparse(hll: &[u8]) -> String {
    let parts: Vec<String> = SparseOps::new(&hll[HEADER_LEN..])
        .map(|(_, op)| match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        })
        .collect();
    parts.join(" ")
}

/// One byte per register: the union of several HyperLogLogs (PFCOUNT of several keys, PFMERGE).
pub struct Registers(Vec<u8>);

impl Default for Registers {
    fn default() -> Self {
        Registers(vec![0; REGISTERS])
    }
}

impl Registers {
    /// Takes the register-wise maximum with `hll`.
    pub fn merge(&mut self, hll: &[u8]) -> Result<(), Corrupt> {
        let max = &mut self.0;
        match encoding(hll) {
            Encoding::Dense => {
                let registers = &hll[HEADER_LEN..];
                for (i, m) in max.iter_mut().enumerate() {
                    *m = (*m).max(dense_read(registers, i));
                }
                Ok(())
            }
            Encoding::Sparse => for_each_run(&hll[HEADER_LEN..], |start, len, value| {
                for m in &mut max[start..start + len] {
                    *m = (*m).max(value);
                }
            }),
        }
    }

    pub fn count(&self) -> u64 {
        let mut histogram = [0u32; 64];
        for &r in &self.0 {
            histogram[r as usize] += 1;
        }
        estimate(&histogram)
    }

    /// Raises the registers of `hll` to these, register by register as Redis's PFMERGE does
    /// (a sparse value may turn dense on the way).
    pub fn store_into(&self, hll: &mut Vec<u8>, sparse_max: usize) -> Result<(), Corrupt> {
        for (i, &r) in self.0.iter().enumerate() {
            if r != 0 {
                set(hll, i, r, sparse_max)?;
            }
        }
        Ok(())
    }
}

// ---- dense registers ------------------------------------------------------------------------

fn dense_read(registers: &[u8], index: usize) -> u8 {
    let byte = index * BITS / 8;
    let shift = (index * BITS) & 7;
    let lo = (registers[byte] >> shift) as u16;
    let hi = registers
        .get(byte + 1)
        .map_or(0, |&b| (b as u16) << (8 - shift));
    ((lo | hi) & REGISTER_MAX as u16) as u8
}

fn dense_write(registers: &mut [u8], index: usize, value: u8) {
    let byte = index * BITS / 8;
    let shift = (index * BITS) & 7;
    let v = value as u16;
    registers[byte] &= !((REGISTER_MAX as u16) << shift) as u8;
    registers[byte] |= (v << shift) as u8;
    if shift > 8 - BITS {
        let rest = 8 - shift;
        registers[byte + 1] &= !(REGISTER_MAX >> rest);
        registers[byte + 1] |= (v >> rest) as u8;
    }
}

fn dense_set(registers: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_read(registers, index) {
        dense_write(registers, index, count);
        true
    } else {
        false
    }
}

fn dense_histogram(registers: &[u8], histogram: &mut [u32; 64]) {
    // Four registers in every three bytes.
    for b in registers.chunks_exact(3) {
        let (b0, b1, b2) = (b[0], b[1], b[2]);
        histogram[(b0 & 63) as usize] += 1;
        histogram[((b0 >> 6 | b1 << 2) & 63) as usize] += 1;
        histogram[((b1 >> 4 | b2 << 4) & 63) as usize] += 1;
        histogram[(b2 >> 2) as usize] += 1;
    }
}

// ---- estimator ------------------------------------------------------------------------------

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// The cardinality from the histogram of register values (same operations in the same order
/// as Redis, so the rounded result is identical).
fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histogram[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histogram[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histogram[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    // Redis rounds with llroundl: an estimate past i64 (infinite when every register is at
    // its maximum) comes out as i64::MIN's bit pattern.
    if e < 9_223_372_036_854_775_808.0 {
        e as u64
    } else {
        1 << 63
    }
}

// ---- sparse opcodes -------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    /// Value, run length.
    Val(u8, usize),
}

impl Op {
    /// The opcode at `p`. A truncated XZERO reads its missing byte as 0, as Redis reads the
    /// string's terminator.
    fn at(body: &[u8], p: usize) -> Op {
        let b = body[p];
        if b & 0x80 != 0 {
            Op::Val(((b >> 2) & 0x1f) + 1, (b & 3) as usize + 1)
        } else if b & 0x40 != 0 {
            let low = body.get(p + 1).copied().unwrap_or(0) as usize;
            Op::XZero((((b & 0x3f) as usize) << 8 | low) + 1)
        } else {
            Op::Zero((b & 0x3f) as usize + 1)
        }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    fn len(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

fn val(value: u8, len: usize) -> u8 {
    0x80 | (value - 1) << 2 | (len as u8 - 1)
}

fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, l as u8]
}

/// A run of `len` zero registers as ZERO or XZERO.
fn push_zeroes(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero(len));
    } else {
        seq.push((len - 1) as u8);
    }
}

/// The opcodes of a sparse body with their offsets.
struct SparseOps<'a> {
    body: &'a [u8],
    p: usize,
}

impl<'a> SparseOps<'a> {
    fn new(body: &'a [u8]) -> Self {
        SparseOps { body, p: 0 }
    }
}

impl Iterator for SparseOps<'_> {
    type Item = (usize, Op);

    fn next(&mut self) -> Option<(usize, Op)> {
        if self.p >= self.body.len() {
            return None;
        }
        let op = Op::at(self.body, self.p);
        let at = self.p;
        self.p += op.len();
        Some((at, op))
    }
}

/// Calls `f(first_register, len, value)` for every run of a sparse body; fails unless the runs
/// cover exactly the 16384 registers.
fn for_each_run(body: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut index = 0;
    for (_, op) in SparseOps::new(body) {
        let len = op.span();
        if index + len > REGISTERS {
            return Err(Corrupt);
        }
        let value = match op {
            Op::Val(v, _) => v,
            _ => 0,
        };
        f(index, len, value);
        index += len;
    }
    if index == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Raises register `index` of a sparse value to `count`, editing the opcodes in place, or turns
/// the value dense when the sparse form cannot hold the result within `sparse_max` bytes.
fn sparse_set(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Find the opcode covering `index`, the first register it covers and the opcode before it.
    let (mut p, mut first, mut prev) = (HEADER_LEN, 0, None);
    let mut found = None;
    while p < hll.len() {
        let op = Op::at(hll, p);
        if index < first + op.span() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.len();
        first += op.span();
    }
    let Some(op) = found else {
        return Err(Corrupt);
    };
    let in_place = match op {
        Op::Val(v, _) if v >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => true,
        _ => false,
    };
    if in_place {
        hll[p] = val(count, 1);
    } else {
        // Split the run: what precedes `index`, the new value, what follows it.
        let last = first + op.span() - 1;
        let mut seq = Vec::with_capacity(5);
        match op {
            Op::Val(v, _) => {
                if index != first {
                    seq.push(val(v, index - first));
                }
                seq.push(val(count, 1));
                if index != last {
                    seq.push(val(v, last - index));
                }
            }
            _ => {
                if index != first {
                    push_zeroes(&mut seq, index - first);
                }
                seq.push(val(count, 1));
                if index != last {
                    push_zeroes(&mut seq, last - index);
                }
            }
        }
        let new_len = (hll.len() + seq.len())
            .checked_sub(op.len())
            .expect("an opcode is at most 2 bytes");
        if new_len > hll.len() && new_len > sparse_max {
            return promote(hll, index, count);
        }
        let replaced = p..(p + op.len()).min(hll.len());
        hll.splice(replaced, seq);
        // A truncated XZERO: Redis keeps the length arithmetic, which drops the last byte.
        hll.truncate(new_len);
    }
    merge_vals(hll, prev.unwrap_or(HEADER_LEN));
    invalidate_cache(hll);
    Ok(true)
}

/// Merges neighbouring VAL opcodes of equal value, looking at up to five opcodes from `p`.
fn merge_vals(hll: &mut Vec<u8>, mut p: usize) {
    for _ in 0..5 {
        if p >= hll.len() {
            return;
        }
        match Op::at(hll, p) {
            Op::Val(v1, l1) => {
                if p + 1 < hll.len()
                    && let Op::Val(v2, l2) = Op::at(hll, p + 1)
                    && v1 == v2
                    && l1 + l2 <= VAL_MAX_LEN
                {
                    hll[p + 1] = val(v1, l1 + l2);
                    hll.remove(p);
                    // Stay on the merged opcode: it may merge with the next one too.
                } else {
                    p += 1;
                }
            }
            op => p += op.len(),
        }
    }
}

fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(hll)?;
    Ok(dense_set(&mut hll[HEADER_LEN..], index, count))
}

// ---- PFSELFTEST -----------------------------------------------------------------------------

/// PFSELFTEST: dense register access, then the estimate of up to 10 million distinct elements
/// on a dense and a sparse value side by side (they must agree, and stay within six standard
/// errors). The error text is Redis's.
pub fn self_test(sparse_max: usize) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_LEN];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = fastrand::u8(..) & REGISTER_MAX;
            dense_write(&mut dense[HEADER_LEN..], i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = dense_register(&dense, i);
            if got != e {
                return Err(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                ));
            }
        }
    }

    dense[HEADER_LEN..].fill(0);
    let mut sparse = new_sparse();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let seed = fastrand::u64(..);
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_le_bytes();
        let (index, run) = pattern(&element);
        dense_set(&mut dense[HEADER_LEN..], index, run);
        set(&mut sparse, index, run, sparse_max).map_err(|_| "TESTFAILED corrupt sparse")?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && encoding(&sparse) != Encoding::Sparse {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let estimate = count(&dense).expect("dense values are always valid");
        if count(&sparse) != Ok(estimate) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        // Collisions make larger errors likely at 10 elements.
        let max_error = if j == 10 {
            1
        } else {
            (relative_error * 6.0 * j as f64).ceil() as u64
        };
        let error = j.abs_diff(estimate);
        if error > max_error {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{error}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 3000;

    fn registers_of(hll: &[u8]) -> Vec<u8> {
        let mut r = Registers::default();
        r.merge(hll).unwrap();
        r.0
    }

    #[test]
    fn patterns_match_redis() {
        // Register and run length of PFADD's element, read back from redis-server with
        // PFDEBUG DECODE (covers the 8-byte blocks and every tail length used here).
        assert_eq!(pattern(b"hello"), (9216, 1));
        assert_eq!(pattern(b"a"), (12711, 2));
        assert_eq!(pattern(b""), (5938, 2));
        assert_eq!(pattern(b"foobar123456789"), (4215, 1));
    }

    #[test]
    fn empty_value_layout() {
        let h = new_sparse();
        assert_eq!(&h[..], b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert!(is_hll(&h));
        assert_eq!(count(&h), Ok(0));
        assert_eq!(cached_cardinality(&h), Some(0));
        assert_eq!(decode_sparse(&h), "Z:16384");
    }

    #[test]
    fn validity_checks() {
        let mut h = new_sparse();
        assert!(!is_hll(&h[..15]));
        h[0] = b'h';
        assert!(!is_hll(&h));
        let mut h = new_sparse();
        h[4] = 2;
        assert!(!is_hll(&h));
        h[4] = DENSE;
        assert!(!is_hll(&h));
        to_dense(&mut new_sparse()).unwrap();
        let mut d = new_sparse();
        assert_eq!(to_dense(&mut d), Ok(true));
        assert_eq!(d.len(), DENSE_LEN);
        assert!(is_hll(&d));
        assert_eq!(to_dense(&mut d), Ok(false));
    }

    #[test]
    fn sparse_split_and_merge() {
        let mut h = new_sparse();
        assert_eq!(sparse_set(&mut h, 1000, 2, MAX), Ok(true));
        assert_eq!(decode_sparse(&h), "Z:1000 v:2,1 Z:15383");
        assert_eq!(sparse_set(&mut h, 1000, 2, MAX), Ok(false));
        assert_eq!(sparse_set(&mut h, 1020, 3, MAX), Ok(true));
        assert_eq!(sparse_set(&mut h, 1021, 3, MAX), Ok(true));
        assert_eq!(decode_sparse(&h), "Z:1000 v:2,1 z:19 v:3,2 Z:15362");
        // Filling the gap merges neighbouring equal values.
        assert_eq!(sparse_set(&mut h, 1001, 2, MAX), Ok(true));
        assert_eq!(decode_sparse(&h), "Z:1000 v:2,2 z:18 v:3,2 Z:15362");
        assert_eq!(sparse_set(&mut h, 0, 1, MAX), Ok(true));
        assert_eq!(sparse_set(&mut h, 16383, 5, MAX), Ok(true));
        assert_eq!(
            decode_sparse(&h),
            "v:1,1 Z:999 v:2,2 z:18 v:3,2 Z:15361 v:5,1"
        );
        assert_eq!(cached_cardinality(&h), None);
        let r = registers_of(&h);
        assert_eq!(
            (r[0], r[1000], r[1001], r[1002], r[1021], r[16383]),
            (1, 2, 2, 0, 3, 5)
        );
    }

    #[test]
    fn sparse_turns_dense_past_the_limit_or_above_32() {
        let mut h = new_sparse();
        assert_eq!(sparse_set(&mut h, 5, 33, MAX), Ok(true));
        assert_eq!(encoding(&h), Encoding::Dense);
        assert_eq!(dense_register(&h, 5), 33);

        let mut h = new_sparse();
        for i in 0..100 {
            set(&mut h, i * 100, 1 + (i % 7) as u8, 40).unwrap();
        }
        assert_eq!(encoding(&h), Encoding::Dense);
        let r = registers_of(&h);
        assert_eq!(r[9900], 1 + (99 % 7) as u8);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_LEN - HEADER_LEN];
        for i in 0..REGISTERS {
            dense_write(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_read(&regs, i), (i % 64) as u8);
        }
        let mut histogram = [0u32; 64];
        dense_histogram(&regs, &mut histogram);
        assert!(histogram.iter().all(|&n| n == 256));
    }

    #[test]
    fn sparse_and_dense_counts_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for i in 0..5000u32 {
            let e = format!("element:{i}");
            let a = add(&mut sparse, e.as_bytes(), MAX).unwrap();
            let b = add(&mut dense, e.as_bytes(), MAX).unwrap();
            assert_eq!(a, b);
            if i % 500 == 0 {
                assert_eq!(count(&sparse), count(&dense));
            }
        }
        assert_eq!(encoding(&sparse), Encoding::Dense);
        assert_eq!(sparse[HEADER_LEN..], dense[HEADER_LEN..]);
        let n = count(&dense).unwrap();
        assert!((4900..=5100).contains(&n), "{n}");
    }

    #[test]
    fn corrupt_sparse_is_detected() {
        let mut h = new_sparse();
        h.truncate(HEADER_LEN + 1); // XZERO missing its second byte: 16129 registers
        assert_eq!(count(&h), Err(Corrupt));
        assert_eq!(to_dense(&mut h.clone()), Err(Corrupt));
        let mut h = new_sparse();
        h.push(0x00); // one register too many
        assert_eq!(count(&h), Err(Corrupt));
        assert!(Registers::default().merge(&h).is_err());
        let mut h = new_sparse();
        h.truncate(HEADER_LEN);
        assert_eq!(set(&mut h, 3, 1, MAX), Err(Corrupt));
    }

    #[test]
    fn estimator_edges() {
        let mut histogram = [0u32; 64];
        histogram[0] = REGISTERS as u32;
        assert_eq!(estimate(&histogram), 0);
        histogram[0] -= 1;
        histogram[1] = 1;
        assert_eq!(estimate(&histogram), 1);
        let mut full = [0u32; 64];
        full[Q + 1] = REGISTERS as u32;
        assert_eq!(estimate(&full), 1 << 63);
    }
}
