//! The script libraries (`cjson`, `cmsgpack`, `bit`, `struct`) compared with redis-server
//! without a ferrodis server: every `EVAL <script> 0` of `corpus/scripting_libs.redis` runs
//! on redis-server and in a local Lua 5.1 state holding `ferrodis::scripting::libs`, and the
//! replies must be equal. The local reply is made from the script's first return value with
//! Redis's Lua-to-RESP2 rules; an error the script raises becomes Redis's error reply
//! without its " script: <sha>, on @user_script:<line>." suffix, which is removed from the
//! reference too.

mod common;

use common::corpus::{StepKind, corpus_dir, parse_corpus, render_args};
use common::{Reply, Server};
use mlua::{Lua, LuaOptions, StdLib, Value};

const CORPUS: &str = "scripting_libs.redis";

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// A Lua state with the libraries Redis gives scripts (base, table, string, math and ours).
/// One state runs every script in order, as one redis-server does.
fn redis_like_lua() -> Lua {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )
    .expect("lua state");
    ferrodis::scripting::libs::register_all(&lua).expect("register the libraries");
    lua
}

/// Redis's conversion of a script's result to a RESP2 reply.
fn to_reply(value: &Value) -> Reply {
    match value {
        Value::Nil => Reply::Bulk(None),
        Value::Boolean(true) => Reply::Int(1),
        Value::Boolean(false) => Reply::Bulk(None),
        Value::Integer(i) => Reply::Int(*i),
        // C's (long long) cast on x86-64: out of range (or NaN) is the minimum.
        Value::Number(n) if (-TWO_POW_63..TWO_POW_63).contains(n) => Reply::Int(*n as i64),
        Value::Number(_) => Reply::Int(i64::MIN),
        Value::String(s) => Reply::Bulk(Some(s.as_bytes().to_vec())),
        Value::Table(t) => {
            if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
                return Reply::Error(e.to_string_lossy());
            }
            if let Ok(Value::String(ok)) = t.raw_get::<Value>("ok") {
                return Reply::Simple(ok.to_string_lossy());
            }
            let mut items = Vec::new();
            for i in 1.. {
                match t.raw_get::<Value>(i) {
                    Ok(Value::Nil) | Err(_) => break,
                    Ok(v) => items.push(to_reply(&v)),
                }
            }
            Reply::Array(Some(items))
        }
        _ => Reply::Bulk(None),
    }
}

/// What redis-server would answer to `EVAL script 0 args...`, computed locally.
fn run_locally(lua: &Lua, script: &[u8], args: &[Vec<u8>]) -> Reply {
    let argv = lua
        .create_sequence_from(args.iter().map(|a| lua.create_string(a).expect("string")))
        .expect("ARGV");
    lua.globals().set("ARGV", argv).expect("set ARGV");
    let chunk = lua.load(script).set_name("@user_script");
    match chunk.eval::<mlua::MultiValue>() {
        Ok(values) => to_reply(values.front().unwrap_or(&Value::Nil)),
        Err(mlua::Error::RuntimeError(message)) => {
            // mlua appends a traceback to the message.
            let message = message
                .split_once("\nstack traceback:")
                .map_or(message.as_str(), |(m, _)| m);
            Reply::Error(format!("ERR {message}"))
        }
        Err(other) => Reply::Error(format!("unexpected mlua error: {other}")),
    }
}

/// Drops the part of a script error that names the script.
fn without_script_suffix(reply: Reply) -> Reply {
    match reply {
        Reply::Error(e) => match e.rsplit_once(" script: ") {
            Some((message, _)) => Reply::Error(message.to_string()),
            None => Reply::Error(e),
        },
        other => other,
    }
}

fn eval_scripts() -> Vec<(usize, Vec<Vec<u8>>)> {
    let text = std::fs::read_to_string(corpus_dir().join(CORPUS)).expect("read the corpus");
    parse_corpus(&text)
        .expect("parse the corpus")
        .into_iter()
        .filter_map(|step| match step.kind {
            StepKind::Command { args, .. } if args[0].eq_ignore_ascii_case(b"EVAL") => {
                Some((step.line, args))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn script_libraries_answer_like_redis() {
    let scripts = eval_scripts();
    let redis = Server::redis(&[]);
    let mut conn = redis.raw();
    let lua = redis_like_lua();
    let mut mismatches = Vec::new();
    for (line, args) in &scripts {
        assert_eq!(args.len(), 3, "{CORPUS}:{line}: EVAL <script> 0 expected");
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let want = without_script_suffix(conn.cmd(&argv));
        let got = run_locally(&lua, &args[1], &[]);
        if std::env::var_os("FERRODIS_DIFF_VERBOSE").is_some() {
            println!("{CORPUS}:{line}: {}\n    -> {want}", render_args(args));
        }
        if got != want {
            mismatches.push(format!(
                "{CORPUS}:{line}: {}\n    redis-server: {want}\n    ferrodis libs: {got}",
                render_args(args)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} scripts differ:\n{}",
        mismatches.len(),
        scripts.len(),
        mismatches.join("\n")
    );
}

/// The corpus covers each library with dozens of scripts.
#[test]
fn corpus_covers_every_library() {
    let scripts = eval_scripts();
    for lib in ["cjson.", "cmsgpack.", "bit.", "struct."] {
        let n = scripts
            .iter()
            .filter(|(_, args)| {
                String::from_utf8_lossy(&args[1]).contains(lib)
                    && !String::from_utf8_lossy(&args[1]).contains("in pairs(")
            })
            .count();
        assert!(n >= 24, "only {n} scripts use {lib}");
    }
}

/// splitmix64: small, seedable and stable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Lua that prints any value canonically (tables with sorted keys, numbers with 17 digits),
/// prepended to the random scripts.
const SHOW: &str = r##"local function show(v, depth)
  local t = type(v)
  if t == "number" then return string.format("%.17g", v) end
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if depth > 50 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return show(a, 51) < show(b, 51) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = show(k, 51) .. "=" .. show(v[k], depth + 1) end
  return "{" .. table.concat(out, ",") .. "}"
end
local function show_all(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = show((select(i, ...)), 0) end
  return table.concat(out, " ")
end
"##;

/// Decodes random JSON-like text, and encodes what it gets back.
const JSON_SCRIPT: &str = r##"
local ok, v = pcall(cjson.decode, ARGV[1])
if not ok then return "error " .. v end
return show(v, 0) .. " | " .. show_all(pcall(cjson.encode, v))
"##;

/// Unpacks random MessagePack, packs the values again and encodes the first as JSON.
const MSGPACK_SCRIPT: &str = r##"
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local r = {pcall(cmsgpack.unpack, ARGV[1])}
local n = select("#", pcall(cmsgpack.unpack, ARGV[1]))
if not r[1] then return "error " .. r[2] end
local ok, packed = pcall(cmsgpack.pack, unpack(r, 2, n))
return show_all(unpack(r, 2, n)) .. " | " .. (ok and hex(packed) or packed) .. " | "
  .. show_all(pcall(cjson.encode, r[2]))
  .. " | " .. show_all(pcall(cmsgpack.unpack_limit, ARGV[1], 2, 1))
"##;

/// Runs a random format through struct.size, unpack (random data) and pack (given values).
const STRUCT_SCRIPT: &str = r##"
local fmt = ARGV[1]
return show_all(pcall(struct.size, fmt)) .. " | "
  .. show_all(pcall(struct.unpack, fmt, ARGV[2]))
  .. " | " .. show_all(pcall(struct.pack, fmt, tonumber(ARGV[3]) or ARGV[3], tonumber(ARGV[4]) or ARGV[4], ARGV[5]))
"##;

/// A random bit operation on random numbers.
const BIT_SCRIPT: &str = r##"
local f = bit[ARGV[1]]
return show_all(pcall(f, tonumber(ARGV[2]) or ARGV[2], tonumber(ARGV[3]) or ARGV[3], tonumber(ARGV[4])))
"##;

fn random_json(rng: &mut Rng, depth: usize, out: &mut Vec<u8>) {
    const SCALARS: &[&str] = &[
        "0",
        "-1",
        "12.5",
        "1e3",
        "-0",
        "1E-2",
        "123456789012345678901",
        "0.1",
        "true",
        "false",
        "null",
        r#""""#,
        r#""a""#,
        r#""\u00e9\ud83d\ude00""#,
        r#""\n\t\"\\\/""#,
        "0x1f",
        "nan",
        "-Infinity",
        "+3",
        "007",
        r#""\u0000""#,
    ];
    match rng.below(if depth > 4 { 3 } else { 6 }) {
        0..=2 => out.extend_from_slice(rng.pick(SCALARS).as_bytes()),
        3 | 4 => {
            out.push(b'[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(b',');
                }
                random_json(rng, depth + 1, out);
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(
                    rng.pick(&[r#""k""#, r#""a""#, r#""b""#, r#""1""#])
                        .as_bytes(),
                );
                out.push(b':');
                random_json(rng, depth + 1, out);
            }
            out.push(b'}');
        }
    }
}

/// Text that is JSON, or nearly: valid documents, cut or changed at a random byte, or
/// random tokens.
fn json_input(rng: &mut Rng) -> Vec<u8> {
    const TOKENS: &[&str] = &[
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\"k\"", "1", "-", ".", "e", "x", "u", "t",
        "true", "nul", "inf", "NaN", " ", "\t", "\n", "\0", "\u{e9}", "\\u12", "\\ud800",
    ];
    let mut text = Vec::new();
    match rng.below(4) {
        0 => {
            for _ in 0..rng.below(10) {
                text.extend_from_slice(rng.pick(TOKENS).as_bytes());
            }
        }
        _ => {
            random_json(rng, 0, &mut text);
            if rng.below(3) == 0 && !text.is_empty() {
                let at = rng.below(text.len());
                match rng.below(3) {
                    0 => text.truncate(at),
                    1 => text[at] = rng.pick(TOKENS).as_bytes()[0],
                    _ => text.insert(at, b' '),
                }
            }
        }
    }
    text
}

/// A random MessagePack value; `depth` 99 asks for a map key: a scalar (tables as keys
/// iterate in address order), and a string under 32 bytes (Redis's Lua hashes every byte of
/// a string, stock Lua 5.1 only some of a long one's, so long keys iterate differently).
fn random_msgpack(rng: &mut Rng, depth: usize, out: &mut Vec<u8>) {
    let kinds = if depth > 3 { 9 } else { 12 };
    match rng.below(kinds) {
        0 => out.push(rng.below(0x80) as u8),
        1 => out.push(0xe0 | rng.below(32) as u8),
        2 => {
            let code = [0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xca, 0xcb][rng.below(10)];
            let width = match code {
                0xcc | 0xd0 => 1,
                0xcd | 0xd1 => 2,
                0xce | 0xd2 | 0xca => 4,
                _ => 8,
            };
            out.push(code);
            let bits = rng.next().to_be_bytes();
            out.extend_from_slice(&bits[8 - width..]);
        }
        3 => out.push([0xc0, 0xc2, 0xc3][rng.below(3)]),
        4 | 5 => {
            let len = rng.below(if depth == 99 { 32 } else { 40 });
            if len < 32 && rng.below(2) == 0 {
                out.push(0xa0 | len as u8);
            } else {
                out.extend_from_slice(&[0xd9, len as u8]);
            }
            out.extend((0..len).map(|i| b'a' + (i % 26) as u8));
        }
        6 => {
            out.extend_from_slice(&[0xda, 0, 3]);
            out.extend_from_slice(b"xyz");
        }
        7 => out.push([0xc1, 0xc4, 0xc7, 0xd4, 0xdb][rng.below(5)]),
        8 => out.extend_from_slice(&[0xdb, 0, 0, 0, 2, b'h', b'i']),
        9 | 10 => {
            let n = rng.below(5);
            if rng.below(2) == 0 {
                out.push(0x90 | n as u8);
            } else {
                out.extend_from_slice(&[0xdc, 0, n as u8]);
            }
            for _ in 0..n {
                random_msgpack(rng, depth + 1, out);
            }
        }
        _ => {
            let n = rng.below(4);
            if rng.below(2) == 0 {
                out.push(0x80 | n as u8);
            } else {
                out.extend_from_slice(&[0xdf, 0, 0, 0, n as u8]);
            }
            for _ in 0..n {
                random_msgpack(rng, 99, out);
                random_msgpack(rng, depth + 1, out);
            }
        }
    }
}

fn msgpack_input(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..1 + rng.below(3) {
        random_msgpack(rng, 0, &mut bytes);
    }
    if rng.below(4) == 0 && !bytes.is_empty() {
        let at = rng.below(bytes.len());
        if rng.below(2) == 0 {
            bytes.truncate(at);
        } else {
            bytes[at] = rng.next() as u8;
        }
    }
    bytes
}

fn struct_args(rng: &mut Rng) -> Vec<Vec<u8>> {
    const OPTIONS: &[&str] = &[
        "b", "B", "h", "H", "l", "L", "T", "i", "I", "i3", "I5", "i9", "f", "d", "x", "c", "c0",
        "c2", "s", "<", ">", "!", "!2", "!4", "!3", " ", "z", "0",
    ];
    const VALUES: &[&str] = &[
        "0",
        "1",
        "-1",
        "255",
        "65536",
        "-129",
        "1.5",
        "1e20",
        "-1e20",
        "abc",
        "",
        "nan",
        "4294967296",
        "9007199254740993",
    ];
    let fmt: String = (0..1 + rng.below(4)).map(|_| rng.pick(OPTIONS)).collect();
    let data: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
    vec![
        fmt.into_bytes(),
        data,
        rng.pick(VALUES).into(),
        rng.pick(VALUES).into(),
        rng.pick(VALUES).into(),
    ]
}

fn bit_args(rng: &mut Rng) -> Vec<Vec<u8>> {
    const OPS: &[&str] = &[
        "tobit", "bnot", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror",
        "bswap", "tohex",
    ];
    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "-1",
        "31",
        "32",
        "33",
        "-5",
        "255",
        "0x7fffffff",
        "2147483648",
        "4294967295",
        "4294967296",
        "1.5",
        "2.5",
        "-2.5",
        "1e15",
        "-1e300",
        "9007199254740993",
        "x",
        "",
    ];
    vec![
        rng.pick(OPS).into(),
        rng.pick(NUMBERS).into(),
        rng.pick(NUMBERS).into(),
        rng.pick(NUMBERS).into(),
    ]
}

/// Random (mostly malformed) inputs through every library, compared with redis-server.
/// `FERRODIS_SEED` picks another seed, `FERRODIS_RANDOM_SCRIPTS` another count per library.
#[test]
fn random_inputs_answer_like_redis() {
    let seed: u64 = std::env::var("FERRODIS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_240_601);
    let count: usize = std::env::var("FERRODIS_RANDOM_SCRIPTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng(seed);
    let redis = Server::redis(&[]);
    let mut conn = redis.raw();
    let lua = redis_like_lua();
    type Inputs = fn(&mut Rng) -> Vec<Vec<u8>>;
    let kinds: [(&str, Inputs); 4] = [
        (JSON_SCRIPT, |rng| vec![json_input(rng)]),
        (MSGPACK_SCRIPT, |rng| vec![msgpack_input(rng)]),
        (STRUCT_SCRIPT, struct_args),
        (BIT_SCRIPT, bit_args),
    ];
    for (body, inputs) in kinds {
        let script = format!("{SHOW}{body}").into_bytes();
        for i in 0..count {
            let args = inputs(&mut rng);
            let mut argv: Vec<&[u8]> = vec![b"EVAL", &script, b"0"];
            argv.extend(args.iter().map(Vec::as_slice));
            if std::env::var_os("FERRODIS_DIFF_VERBOSE").is_some() {
                println!("#{i} ARGV {args:?}");
            }
            let want = without_script_suffix(conn.cmd(&argv));
            let got = run_locally(&lua, &script, &args);
            assert_eq!(
                got,
                want,
                "script #{i} (FERRODIS_SEED={seed}) with ARGV {:?}:\n{body}",
                args.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
            );
        }
    }
}
