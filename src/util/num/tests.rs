use super::*;

fn g17(v: f64) -> String {
    let mut o = Vec::new();
    fmt_double_resp(v, &mut o);
    String::from_utf8(o).unwrap()
}

fn ibf_f64(v: f64) -> String {
    let mut o = Vec::new();
    fmt_incrbyfloat(v, &mut o);
    String::from_utf8(o).unwrap()
}

/// INCRBYFLOAT via the exact long double path.
fn ibf(value: &str, incr: &str) -> Result<String, IncrFloatError> {
    let mut o = Vec::new();
    incrbyfloat(value.as_bytes(), incr.as_bytes(), &mut o)?;
    Ok(String::from_utf8(o).unwrap())
}

#[test]
fn i64_parsing() {
    assert_eq!(parse_i64(b"0"), Some(0));
    assert_eq!(parse_i64(b"1"), Some(1));
    assert_eq!(parse_i64(b"-1"), Some(-1));
    assert_eq!(parse_i64(b"123456789"), Some(123456789));
    assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    assert_eq!(parse_i64(b"9223372036854775808"), None);
    assert_eq!(parse_i64(b"-9223372036854775809"), None);
    assert_eq!(parse_i64(b"18446744073709551616"), None);
    assert_eq!(parse_i64(b"99999999999999999999"), None);
    assert_eq!(parse_i64(b"-0"), None);
    assert_eq!(parse_i64(b"00"), None);
    assert_eq!(parse_i64(b"01"), None);
    assert_eq!(parse_i64(b"+1"), None);
    assert_eq!(parse_i64(b" 1"), None);
    assert_eq!(parse_i64(b"1 "), None);
    assert_eq!(parse_i64(b""), None);
    assert_eq!(parse_i64(b"-"), None);
    assert_eq!(parse_i64(b"1a"), None);
    assert_eq!(parse_i64(b"1.0"), None);
    assert_eq!(parse_i64(b"000000000000000000001"), None);
    assert_eq!(parse_i64(b"-0000000000000000001"), None);
}

#[test]
fn f64_parsing() {
    // Accepted/rejected as observed with ZADD on redis 7.0.15.
    assert_eq!(parse_f64(b"0.1"), Some(0.1));
    assert_eq!(parse_f64(b"1"), Some(1.0));
    assert_eq!(parse_f64(b"-1.5e-10"), Some(-1.5e-10));
    assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
    assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
    assert_eq!(parse_f64(b"-INF"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_f64(b"Infinity"), Some(f64::INFINITY));
    assert_eq!(parse_f64(b"0x10"), Some(16.0));
    assert_eq!(parse_f64(b"0x1p-2"), Some(0.25));
    assert_eq!(parse_f64(b"0X1.8P1"), Some(3.0));
    assert_eq!(parse_f64(b"1e308"), Some(1e308));
    assert_eq!(parse_f64(b"3e-324"), Some(5e-324));
    assert_eq!(parse_f64(b".5"), Some(0.5));
    assert_eq!(parse_f64(b"5."), Some(5.0));
    assert_eq!(parse_f64(b"+.5e1"), Some(5.0));
    assert_eq!(parse_f64(b"0e-500"), Some(0.0));
    assert_eq!(parse_f64(b"-0.0").map(f64::is_sign_negative), Some(true));
    for bad in [
        &b" 1"[..],
        b"1 ",
        b"nan",
        b"-nan",
        b"nan(123)",
        b"1e400",
        b"1e-400",
        b"",
        b"2e-324",
        b"1e",
        b"1e+",
        b".",
        b"e5",
        b"0x",
        b"0xg",
        b"infinit",
        b"1\x002",
        b"--1",
        b"1.2.3",
        b"\t1",
    ] {
        assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn long_double_parsing() {
    assert_eq!(parse_long_double(b"1.5"), Some(1.5));
    assert_eq!(parse_long_double(b"inf"), Some(f64::INFINITY));
    assert_eq!(parse_long_double(b"-infinity"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_long_double(b"0x1p-2"), Some(0.25));
    assert_eq!(parse_long_double(b"1e400"), Some(f64::INFINITY));
    assert_eq!(parse_long_double(b"1e-400"), Some(0.0));
    assert_eq!(parse_long_double(b"1e5000"), None);
    assert_eq!(parse_long_double(b"1e-5000"), None);
    assert_eq!(parse_long_double(b"nan"), None);
    assert_eq!(parse_long_double(b" 1"), None);
    assert_eq!(parse_long_double(b"1 "), None);
    assert_eq!(parse_long_double(b"1\x002"), None);
    assert_eq!(parse_long_double(b""), None);
    let mut long = vec![b'0'; 5120];
    long[5119] = b'1';
    assert_eq!(parse_long_double(&long), None);
    assert_eq!(parse_long_double(&long[1..]), Some(1.0));
    let mut o = Vec::new();
    assert_eq!(incrbyfloat(b"0", &long[1..], &mut o), Ok(()));
    assert_eq!(o, b"1");
}

#[test]
fn g17_matches_redis() {
    // ZADD z <v> a; ZSCORE z a on redis 7.0.15.
    let cases: &[(f64, &str)] = &[
        (0.1, "0.10000000000000001"),
        (1.0, "1"),
        (1.5, "1.5"),
        (1e20, "1e+20"),
        (1e16, "10000000000000000"),
        (1e17, "1e+17"),
        (-0.0, "-0"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (0.000001, "9.9999999999999995e-07"),
        (0.0001, "0.0001"),
        (1e-5, "1.0000000000000001e-05"),
        (3000.0, "3000"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "4.9406564584124654e-324"),
        (100.0, "100"),
        (-1.5e-10, "-1.5e-10"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (1e15, "1000000000000000"),
        (0.3, "0.29999999999999999"),
        (1e308, "1e+308"),
        (-2.5, "-2.5"),
        (-1e-300, "-1e-300"),
        (12345678901234567.0, "12345678901234568"),
        (0.3333333333333333, "0.33333333333333331"),
        (-2.5, "-2.5"),
        (123.456, "123.456"),
        (1e-4, "0.0001"),
        (1e-4_f64.next_down().next_up(), "0.0001"),
        (1e21, "1e+21"),
        (4.5e15, "4500000000000000"),
        (0.5, "0.5"),
        (1234567.875, "1234567.875"),
        (-99999999999999999.0, "-1e+17"),
        (1e-310, "9.9999999999999694e-311"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (-1.989032661366619e+244, "-1.989032661366619e+244"),
        (7.761117632285041e+178, "7.761117632285041e+178"),
        (3.980498358697587e-249, "3.980498358697587e-249"),
        (-1.5432835417340557e+88, "-1.5432835417340557e+88"),
        (1.3647584518757569e-192, "1.3647584518757569e-192"),
        (-1.3701135617873088e-206, "-1.3701135617873088e-206"),
        (-1.7160537630466207e+197, "-1.7160537630466207e+197"),
        (6.294675241195386e-44, "6.2946752411953861e-44"),
        (1.0613447212142254e-202, "1.0613447212142254e-202"),
        (4.708325160387546e+207, "4.7083251603875462e+207"),
        (6.387016158513563e-12, "6.3870161585135632e-12"),
        (-9.973130378568733e-246, "-9.9731303785687331e-246"),
        (8.779753225680271e-236, "8.7797532256802712e-236"),
        (-5.795503248498993e-228, "-5.7955032484989932e-228"),
        (-5.988180159386011e+243, "-5.9881801593860111e+243"),
        (-1.306052388527796e-147, "-1.3060523885277959e-147"),
        (-2.436117699484841e-206, "-2.4361176994848409e-206"),
        (2.233386999150174e-232, "2.2333869991501741e-232"),
        (-3.51527970626667e-203, "-3.5152797062666699e-203"),
        (1.5987381841032883e-247, "1.5987381841032883e-247"),
        (952.51021118584, "952.51021118584003"),
        (-906.8346387644874, "-906.83463876448741"),
        (716.936918097359, "716.93691809735901"),
        (-420.7814273366474, "-420.78142733664743"),
        (-711.4898332851249, "-711.48983328512486"),
        (-764.4155238432633, "-764.41552384326326"),
        (-383.03635179613127, "-383.03635179613127"),
        (632.2527182400629, "632.2527182400629"),
        (-638.547240152125, "-638.54724015212503"),
        (163.20032732493246, "163.20032732493246"),
        (-5.667989099026951e+17, "-5.667989099026951e+17"),
        (-7.753403866796887e+17, "-7.753403866796887e+17"),
        (6.420156322554171e+17, "6.4201563225541709e+17"),
        (3.013446825892209e+17, "3.0134468258922093e+17"),
        (4.273389483630279e+17, "4.273389483630279e+17"),
        (1.4465388242519395e+17, "1.4465388242519395e+17"),
    ];
    for (v, want) in cases {
        assert_eq!(g17(*v), *want, "{v:e}");
    }
}

#[test]
fn i64_fmt() {
    let mut o = Vec::new();
    fmt_i64(-9223372036854775808, &mut o);
    o.push(b' ');
    fmt_i64(42, &mut o);
    assert_eq!(o, b"-9223372036854775808 42");
}

#[test]
fn incrbyfloat_f64_formatting() {
    assert_eq!(ibf_f64(10.5 + 0.1), "10.6");
    assert_eq!(ibf_f64(3.0e3), "3000");
    assert_eq!(ibf_f64(5.0e3), "5000");
    assert_eq!(ibf_f64(1e20), "100000000000000000000");
    assert_eq!(ibf_f64(0.1 + 0.2), "0.3");
    assert_eq!(ibf_f64(1.1 + 2.2), "3.3");
    assert_eq!(ibf_f64(-1.5), "-1.5");
    assert_eq!(ibf_f64(-0.1), "-0.1");
    assert_eq!(ibf_f64(std::f64::consts::PI), "3.141592653589793");
    assert_eq!(ibf_f64(17179869184.0 + 1.5), "17179869185.5");
    assert_eq!(ibf_f64(16.0), "16");
    assert_eq!(ibf_f64(5.0 - 5.0), "0");
    assert_eq!(ibf_f64(-0.0), "0");
    assert_eq!(ibf_f64(0.5), "0.5");
    assert_eq!(ibf_f64(0.25), "0.25");
    assert_eq!(ibf_f64(1.5e-7), "0.00000015");
    assert_eq!(ibf_f64(1e-20), "0");
    assert_eq!(ibf_f64(-1e-20), "0");
    assert_eq!(ibf_f64(100000000000000016.0), "100000000000000016");
    assert_eq!(ibf_f64(2.5e-17), "0.00000000000000002");
    assert_eq!(ibf_f64(1.5e-17), "0.00000000000000002");
    let mut x = 0.0;
    for _ in 0..10 {
        x += 0.1;
    }
    assert_eq!(ibf_f64(x), "1");
}

#[test]
fn incrbyfloat_exact_matches_redis() {
    // (initial value, increment, redis 7.0.15 reply); "0" = missing key.
    let ok: &[(&str, &str, &str)] = &[
        ("10.5", "0.1", "10.6"),
        ("0", "3.0e3", "3000"),
        ("0", "5.0e3", "5000"),
        ("0", "1e20", "100000000000000000000"),
        ("0.1", "0.2", "0.3"),
        ("1.1", "2.2", "3.3"),
        ("0", "-1.5", "-1.5"),
        ("0", "-0.1", "-0.1"),
        ("0", "1.0000000000000002", "1.0000000000000002"),
        ("0", "3.141592653589793", "3.141592653589793"),
        ("17179869184", "1.5", "17179869185.5"),
        ("0", "0x10", "16"),
        ("0", "1e-400", "0"),
        ("0", "0.000003814697265625", "0.00000381469726562"),
        ("0", "100000000000000016", "100000000000000016"),
        ("0", "0.0000000000000000001", "0"),
        ("0", "-0.00000000000000000001", "0"),
        ("5", "-5", "0"),
        ("0", "+1.5", "1.5"),
        ("0", ".5", "0.5"),
        ("0", "5.", "5"),
        ("0", "0x1p-2", "0.25"),
        ("0", "12345678.123456789", "12345678.12345678899964696"),
        ("0", "1.5e-7", "0.00000015"),
        ("1e15", "0.3", "1000000000000000.29998779296875"),
        ("0", "0.30000000000000004", "0.30000000000000004"),
        ("0", "2.5e-17", "0.00000000000000002"),
        ("0", "1.5e-17", "0.00000000000000002"),
        (
            "0",
            "1e400",
            "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880",
        ),
    ];
    for (v, i, want) in ok {
        assert_eq!(ibf(v, i).as_deref(), Ok(*want), "{v} + {i}");
    }
    let bad: &[(&str, &str, IncrFloatError)] = &[
        ("0", " 1", IncrFloatError::NotAFloat),
        ("0", "1 ", IncrFloatError::NotAFloat),
        ("0", "nan", IncrFloatError::NotAFloat),
        ("1\u{0}2", "1", IncrFloatError::NotAFloat),
        ("0", "1e-5000", IncrFloatError::NotAFloat),
        ("0", "1e5000", IncrFloatError::NotAFloat),
        ("0", "1e", IncrFloatError::NotAFloat),
        ("0", "", IncrFloatError::NotAFloat),
        ("0", "inf", IncrFloatError::NanOrInfinity),
        ("0", "-inf", IncrFloatError::NanOrInfinity),
        ("0", "infinity", IncrFloatError::NanOrInfinity),
        ("0", "INF", IncrFloatError::NanOrInfinity),
    ];
    for (v, i, want) in bad {
        assert_eq!(ibf(v, i), Err(*want), "{v:?} + {i:?}");
    }
}

// Random cases generated against redis-server 7.0.15.
include!("redis_cases.rs");

#[test]
fn incrbyfloat_random_matches_redis() {
    for (v, i, want) in INCRBYFLOAT {
        let got = ibf(v, i).ok();
        assert_eq!(got.as_deref(), *want, "{v:?} + {i:?}");
    }
}

#[test]
fn zadd_random_matches_redis() {
    for (s, want) in ZADD {
        let got = parse_f64(s.as_bytes()).map(g17);
        assert_eq!(got.as_deref(), *want, "{s:?}");
    }
}
