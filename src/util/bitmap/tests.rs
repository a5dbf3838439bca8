use super::*;

// Tables generated against redis-server 7.0.15 (SET k <bytes>, then
// BITCOUNT / BITPOS with the listed arguments, or a sequence of BITFIELD
// operations on one key followed by GET of the whole value).
include!("redis_cases.rs");

#[test]
fn bitcount_matches_redis() {
    for (s, range, bit, want) in BITCOUNT {
        assert_eq!(
            bitcount(s, *range, *bit),
            *want,
            "{s:?} {range:?} bit={bit}"
        );
    }
}

#[test]
fn bitpos_matches_redis() {
    for (s, bit, start, end, unit, want) in BITPOS {
        assert_eq!(
            bitpos(s, *bit, *start, *end, *unit),
            *want,
            "{s:?} bit={bit} {start:?} {end:?} bitunit={unit}"
        );
    }
}

#[test]
fn bitfield_sequence_matches_redis() {
    let mut v = Vec::new();
    for (i, (op, ty, off, ov, val, want, after)) in BITFIELD.iter().enumerate() {
        let ty = parse_bitfield_type(ty).unwrap();
        let got = match *op {
            "get" => Some(bitfield_get(&v, *off, ty)),
            "set" => bitfield_set_ov(&mut v, *off, ty, *val, *ov),
            "incrby" => bitfield_incrby(&mut v, *off, ty, *val, *ov),
            _ => unreachable!(),
        };
        assert_eq!(got, *want, "step {i}: {op} {ty:?} {off} {ov:?} {val}");
        assert_eq!(&v[..], *after, "step {i}: value after");
    }
}

#[test]
fn bitfield_set_wraps_by_default() {
    let mut v = Vec::new();
    assert_eq!(bitfield_set(&mut v, 0, BitfieldType::Unsigned(8), 300), 0);
    assert_eq!(v, [44]);
    assert_eq!(bitfield_set(&mut v, 0, BitfieldType::Signed(8), -1), 44);
    assert_eq!(bitfield_get(&v, 0, BitfieldType::Unsigned(8)), 255);
    assert_eq!(bitfield_get(&v, 0, BitfieldType::Signed(8)), -1);
    assert_eq!(
        bitfield_get(&v, 4, BitfieldType::Signed(64)),
        -1152921504606846976
    );
    let mut v = Vec::new();
    assert_eq!(
        bitfield_incrby(
            &mut v,
            0,
            BitfieldType::Signed(64),
            i64::MAX,
            Overflow::Wrap
        ),
        Some(i64::MAX)
    );
    assert_eq!(
        bitfield_incrby(&mut v, 0, BitfieldType::Signed(64), 1, Overflow::Wrap),
        Some(i64::MIN)
    );
    assert_eq!(
        bitfield_incrby(&mut v, 0, BitfieldType::Signed(64), -1, Overflow::Sat),
        Some(i64::MIN)
    );
    assert_eq!(
        bitfield_incrby(&mut v, 0, BitfieldType::Signed(64), -1, Overflow::Fail),
        None
    );
    // FAIL still grows the value.
    let mut v = Vec::new();
    assert_eq!(
        bitfield_incrby(&mut v, 100, BitfieldType::Unsigned(2), 5, Overflow::Fail),
        None
    );
    assert_eq!(v.len(), 13);
}

#[test]
fn bitfield_type_parsing() {
    use BitfieldType::*;
    assert_eq!(parse_bitfield_type(b"i1"), Some(Signed(1)));
    assert_eq!(parse_bitfield_type(b"i64"), Some(Signed(64)));
    assert_eq!(parse_bitfield_type(b"u63"), Some(Unsigned(63)));
    assert_eq!(parse_bitfield_type(b"u8"), Some(Unsigned(8)));
    assert_eq!(parse_bitfield_type(b"i8\0zz"), Some(Signed(8)));
    for bad in [
        &b"i0"[..],
        b"i65",
        b"u0",
        b"u64",
        b"I8",
        b"i08",
        b"i-1",
        b"i+8",
        b"u",
        b"i",
        b" i8",
        b"i8 ",
        b"x8",
        b"",
    ] {
        assert_eq!(parse_bitfield_type(bad), None, "{bad:?}");
    }
}

#[test]
fn offset_parsing() {
    let u8t = BitfieldType::Unsigned(8);
    assert_eq!(parse_bitfield_offset(b"#1", u8t), Some(8));
    assert_eq!(parse_bitfield_offset(b"0", u8t), Some(0));
    assert_eq!(parse_bitfield_offset(b"4294967295", u8t), Some(4294967295));
    assert_eq!(parse_bitfield_offset(b"#536870911", u8t), Some(4294967288));
    for bad in [
        &b"#-1"[..],
        b"-1",
        b"4294967296",
        b"#536870912",
        b"# 1",
        b"##1",
        b"#",
        b"+1",
        b"01",
    ] {
        assert_eq!(parse_bitfield_offset(bad, u8t), None, "{bad:?}");
    }
    // SETBIT/GETBIT: no '#' form.
    assert_eq!(parse_bit_offset(b"#1", 0, DEFAULT_PROTO_MAX_BULK_LEN), None);
    assert_eq!(
        parse_bit_offset(b"4294967295", 0, DEFAULT_PROTO_MAX_BULK_LEN),
        Some(4294967295)
    );
    assert_eq!(
        parse_bit_offset(b"4294967296", 0, DEFAULT_PROTO_MAX_BULK_LEN),
        None
    );
}

#[test]
fn setbit_getbit() {
    let mut v = Vec::new();
    assert!(!setbit(&mut v, 7, true));
    assert_eq!(v, [1]);
    assert!(setbit(&mut v, 7, true));
    assert!(!setbit(&mut v, 16, true));
    assert_eq!(v, [1, 0, 0x80]);
    assert!(getbit(&v, 16));
    assert!(!getbit(&v, 15));
    assert!(!getbit(&v, 1000));
    assert!(setbit(&mut v, 16, false));
    assert_eq!(v, [1, 0, 0]);
}

#[test]
fn bitop_matches_redis() {
    // SET a "\x0f\xf0\xaa"; SET b "\xff"; BITOP <op> d a b missing
    let a: &[u8] = b"\x0f\xf0\xaa";
    let b: &[u8] = b"\xff";
    let m: &[u8] = b"";
    assert_eq!(bitop(BitOp::And, &[a, b, m]), b"\x00\x00\x00");
    assert_eq!(bitop(BitOp::Or, &[a, b, m]), b"\xff\xf0\xaa");
    assert_eq!(bitop(BitOp::Xor, &[a, b, m]), b"\xf0\xf0\xaa");
    assert_eq!(bitop(BitOp::Not, &[a]), b"\xf0\x0fU");
    assert_eq!(bitop(BitOp::And, &[m]), b"");
    assert_eq!(bitop(BitOp::And, &[a, a]), a);
    assert_eq!(bitop(BitOp::And, &[b"\xf0\x0f", b"\x3c\xff"]), b"\x30\x0f");
}
