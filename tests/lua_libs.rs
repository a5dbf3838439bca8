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

/// What redis-server would answer to `EVAL script 0`, computed locally.
fn run_locally(lua: &Lua, script: &[u8]) -> Reply {
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
        let got = run_locally(&lua, &args[1]);
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
