//! `cjson`: JSON for Lua values (lua-cjson 2.1.0, as Redis ships it).
//!
//! Encoding: strings are escaped as lua-cjson does (control characters, `"`, `\`, `/` and DEL;
//! other bytes pass through, UTF-8 or not); numbers print as `%.14g` (precision settable);
//! a table whose keys are all positive integers is an array (holes become null) unless it is
//! "excessively sparse"; any other table, including the empty one, is an object in `next`
//! order with number keys printed as strings. Decoding follows lua-cjson's tokenizer: numbers
//! go through `strtod` (so hex, inf and nan are accepted by default and big integers lose
//! precision), null becomes the `cjson.null` light userdata, and the input ends at its first
//! NUL byte. Each module table (`cjson` and every `cjson.new()`) has its own configuration.

use super::num::{cast_i32, strtod};
use super::state::{Raise, Result, State, lua_c_functions};
use crate::util::num::fmt_printf_g;
use mlua::ffi;
use std::ffi::c_int;

/// One module's settings, kept in a userdata that is upvalue 1 of each of its functions.
#[derive(Clone, Copy)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0: refuse NaN and Inf; 1: write them ("nan", "inf"); 2: write null.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
    /// Only reported back: Rust's buffers need no keeping.
    keep_buffer: i32,
    number_precision: i32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            keep_buffer: 1,
            number_precision: 14,
        }
    }
}

/// Sets the global `cjson`.
pub(super) fn open(s: &State) {
    push_module(s);
    s.set_global(c"cjson");
}

/// Pushes a new module table with its own configuration.
fn push_module(s: &State) {
    s.new_table();
    s.push_userdata(Config::default());
    // Registration order as in lua-cjson (it decides the table's iteration order).
    for (name, f) in [
        (c"encode", c_encode as ffi::lua_CFunction),
        (c"decode", c_decode),
        (c"encode_sparse_array", c_encode_sparse_array),
        (c"encode_max_depth", c_encode_max_depth),
        (c"decode_max_depth", c_decode_max_depth),
        (c"encode_number_precision", c_encode_number_precision),
        (c"encode_keep_buffer", c_encode_keep_buffer),
        (c"encode_invalid_numbers", c_encode_invalid_numbers),
        (c"decode_invalid_numbers", c_decode_invalid_numbers),
        (c"new", c_new),
    ] {
        s.push_copy(-1);
        s.push_closure(f, 1);
        s.set_field(-3, name);
    }
    s.pop(1);
    s.push_null();
    s.set_field(-2, c"null");
    s.push_bytes(b"cjson");
    s.set_field(-2, c"_NAME");
    s.push_bytes(b"2.1.0");
    s.set_field(-2, c"_VERSION");
}

lua_c_functions! {
    c_encode => encode,
    c_decode => decode,
    c_encode_sparse_array => encode_sparse_array,
    c_encode_max_depth => encode_max_depth,
    c_decode_max_depth => decode_max_depth,
    c_encode_number_precision => encode_number_precision,
    c_encode_keep_buffer => encode_keep_buffer,
    c_encode_invalid_numbers => encode_invalid_numbers,
    c_decode_invalid_numbers => decode_invalid_numbers,
    c_new => new,
}

/// Runs `f` on the configuration of the running function's module.
fn with_config<R>(s: &State, f: impl FnOnce(&mut Config) -> R) -> R {
    // SAFETY: every function of the module is a closure over a userdata made by
    // `push_userdata(Config)`, and no other reference to it exists during the call.
    f(unsafe { &mut *s.upvalue_userdata::<Config>(1) })
}

fn new(s: &State) -> Result<c_int> {
    push_module(s);
    Ok(1)
}

// ------------------------------------------------------------ configuration

/// Checks the argument count, pads missing arguments with nil, then lets `f` read and set
/// the configuration (settings made before an error stay made, as in lua-cjson).
fn config_args(s: &State, nargs: c_int, f: impl FnOnce(&mut Config) -> Result<()>) -> Result<()> {
    s.arg_check(s.top() <= nargs, nargs + 1, "found too many arguments")?;
    while s.top() < nargs {
        s.push_nil();
    }
    with_config(s, f)
}

/// Sets `setting` from argument `idx` unless it is nil, then pushes the value in force.
fn integer_option(s: &State, idx: c_int, setting: &mut i32, min: i32, max: i32) -> Result<()> {
    if !s.is_none_or_nil(idx) {
        let value = s.check_integer(idx)? as i32;
        // lua-cjson names argument 1 whichever argument is out of range.
        s.arg_check(
            (min..=max).contains(&value),
            1,
            &format!("expected integer between {min} and {max}"),
        )?;
        *setting = value;
    }
    s.push_integer(i64::from(*setting));
    Ok(())
}

/// Sets `setting` from a boolean (true = 1) or one of `options` (by index), then pushes it
/// back: a boolean for 0 and 1, else the option's name.
fn enum_option(s: &State, idx: c_int, setting: &mut i32, options: &[&str]) -> Result<()> {
    if !s.is_none_or_nil(idx) {
        *setting = if s.kind(idx) == ffi::LUA_TBOOLEAN {
            i32::from(s.to_boolean(idx))
        } else {
            s.check_option(idx, options)? as i32
        };
    }
    match *setting {
        0 | 1 => s.push_bool(*setting == 1),
        n => s.push_bytes(options[n as usize].as_bytes()),
    }
    Ok(())
}

const OFF_ON: &[&str] = &["off", "on"];

/// `encode_sparse_array([convert [, ratio [, safe]]])`: a table whose largest index exceeds
/// both `safe` and `ratio` times its number of items is an error, or an object if `convert`.
fn encode_sparse_array(s: &State) -> Result<c_int> {
    config_args(s, 3, |cfg| {
        enum_option(s, 1, &mut cfg.sparse_convert, OFF_ON)?;
        integer_option(s, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
        integer_option(s, 3, &mut cfg.sparse_safe, 0, i32::MAX)
    })?;
    Ok(3)
}

fn encode_max_depth(s: &State) -> Result<c_int> {
    config_args(s, 1, |cfg| {
        integer_option(s, 1, &mut cfg.encode_max_depth, 1, i32::MAX)
    })?;
    Ok(1)
}

fn decode_max_depth(s: &State) -> Result<c_int> {
    config_args(s, 1, |cfg| {
        integer_option(s, 1, &mut cfg.decode_max_depth, 1, i32::MAX)
    })?;
    Ok(1)
}

fn encode_number_precision(s: &State) -> Result<c_int> {
    config_args(s, 1, |cfg| {
        integer_option(s, 1, &mut cfg.number_precision, 1, 14)
    })?;
    Ok(1)
}

fn encode_keep_buffer(s: &State) -> Result<c_int> {
    config_args(s, 1, |cfg| enum_option(s, 1, &mut cfg.keep_buffer, OFF_ON))?;
    Ok(1)
}

fn encode_invalid_numbers(s: &State) -> Result<c_int> {
    config_args(s, 1, |cfg| {
        enum_option(
            s,
            1,
            &mut cfg.encode_invalid_numbers,
            &["off", "on", "null"],
        )
    })?;
    Ok(1)
}

fn decode_invalid_numbers(s: &State) -> Result<c_int> {
    config_args(s, 1, |cfg| {
        enum_option(s, 1, &mut cfg.decode_invalid_numbers, OFF_ON)
    })?;
    Ok(1)
}

// ----------------------------------------------------------------- encoding

fn encode(s: &State) -> Result<c_int> {
    let cfg = with_config(s, |cfg| *cfg);
    s.arg_check(s.top() == 1, 1, "expected 1 argument")?;
    let mut out = Vec::new();
    Encoder { s, cfg: &cfg }.value(&mut out)?;
    s.push_bytes(&out);
    Ok(1)
}

fn cannot_serialise(s: &State, idx: c_int, reason: &str) -> Raise {
    Raise::error(format!("Cannot serialise {}: {reason}", s.type_name(idx)))
}

struct Encoder<'a> {
    s: &'a State,
    cfg: &'a Config,
}

/// A table being written: an array and the next index, or an object (its current key on
/// the stack).
enum Writing {
    Array { len: i32, next: i32 },
    Object { first: bool },
}

impl Encoder<'_> {
    /// Appends the value on top of the stack (left there). Nested tables are kept in a list
    /// rather than on the Rust stack; their depth is bounded by `encode_max_depth` and Lua's
    /// stack.
    fn value(&self, out: &mut Vec<u8>) -> Result<()> {
        let s = self.s;
        let mut open: Vec<Writing> = Vec::new();
        loop {
            // Write the value on top, or open it if it is a table.
            let mut written = true;
            if s.kind(-1) == ffi::LUA_TTABLE {
                let depth = open.len() as i32 + 1;
                if depth > self.cfg.encode_max_depth || !s.check_stack(3) {
                    return Err(Raise::error(format!(
                        "Cannot serialise, excessive nesting ({depth})"
                    )));
                }
                match self.array_length()? {
                    Some(len) if len > 0 => {
                        out.push(b'[');
                        open.push(Writing::Array { len, next: 1 });
                    }
                    _ => {
                        out.push(b'{');
                        s.push_nil();
                        open.push(Writing::Object { first: true });
                    }
                }
                written = false;
            } else {
                self.scalar(out)?;
            }
            // Move to the next value to write, closing the tables that are done.
            loop {
                let Some(table) = open.last_mut() else {
                    return Ok(());
                };
                if written {
                    s.pop(1);
                }
                match table {
                    Writing::Array { len, next } => {
                        if next <= len {
                            if *next > 1 {
                                out.push(b',');
                            }
                            s.raw_get_index(-1, i64::from(*next));
                            *next += 1;
                            break;
                        }
                        out.push(b']');
                    }
                    Writing::Object { first } => {
                        if s.next(-2) {
                            if !*first {
                                out.push(b',');
                            }
                            *first = false;
                            self.key(out)?;
                            break;
                        }
                        out.push(b'}');
                    }
                }
                open.pop();
                written = true;
            }
        }
    }

    /// Appends the non-table value on top of the stack.
    fn scalar(&self, out: &mut Vec<u8>) -> Result<()> {
        let s = self.s;
        match s.kind(-1) {
            ffi::LUA_TSTRING => append_string(out, s.to_bytes(-1).unwrap_or_default()),
            ffi::LUA_TNUMBER => self.number(-1, out)?,
            ffi::LUA_TBOOLEAN => {
                out.extend_from_slice(if s.to_boolean(-1) { b"true" } else { b"false" })
            }
            ffi::LUA_TNIL => out.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if s.to_userdata(-1).is_null() => {
                out.extend_from_slice(b"null")
            }
            _ => return Err(cannot_serialise(s, -1, "type not supported")),
        }
        Ok(())
    }

    /// Appends the object key below the value on top, and the colon.
    fn key(&self, out: &mut Vec<u8>) -> Result<()> {
        let s = self.s;
        match s.kind(-2) {
            ffi::LUA_TNUMBER => {
                out.push(b'"');
                self.number(-2, out)?;
                out.extend_from_slice(b"\":");
            }
            ffi::LUA_TSTRING => {
                append_string(out, s.to_bytes(-2).unwrap_or_default());
                out.push(b':');
            }
            _ => {
                return Err(cannot_serialise(
                    s,
                    -2,
                    "table key must be a number or string",
                ));
            }
        }
        Ok(())
    }

    fn number(&self, idx: c_int, out: &mut Vec<u8>) -> Result<()> {
        let n = self.s.to_number(idx);
        if !n.is_finite() {
            match self.cfg.encode_invalid_numbers {
                0 => return Err(cannot_serialise(self.s, idx, "must not be NaN or Inf")),
                // Spelled out here: printf would write "-nan" for some NaNs.
                1 if n.is_nan() => {
                    out.extend_from_slice(b"nan");
                    return Ok(());
                }
                1 => {}
                _ => {
                    out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        }
        fmt_printf_g(n, self.cfg.number_precision as usize, out);
        Ok(())
    }

    /// For a table whose keys are all positive integers, the largest (as a C int); `None`
    /// for any other table or, when sparse conversion is on, an excessively sparse one.
    fn array_length(&self) -> Result<Option<i32>> {
        let s = self.s;
        let (mut max, mut items) = (0i32, 0i32);
        s.push_nil();
        while s.next(-2) {
            let k = s.to_number(-2);
            if s.kind(-2) == ffi::LUA_TNUMBER && k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > f64::from(max) {
                    max = cast_i32(k);
                }
                items += 1;
                s.pop(1);
                continue;
            }
            s.pop(2);
            return Ok(None);
        }
        let cfg = self.cfg;
        if cfg.sparse_ratio > 0
            && max > items.wrapping_mul(cfg.sparse_ratio)
            && max > cfg.sparse_safe
        {
            if cfg.sparse_convert == 0 {
                return Err(cannot_serialise(s, -1, "excessively sparse array"));
            }
            return Ok(None);
        }
        Ok(Some(max))
    }
}

/// A JSON string literal: lua-cjson escapes control characters, `"`, `\`, `/` and DEL.
fn append_string(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

// ----------------------------------------------------------------- decoding

fn decode(s: &State) -> Result<c_int> {
    let cfg = with_config(s, |cfg| *cfg);
    s.arg_check(s.top() == 1, 1, "expected 1 argument")?;
    let data = s.check_bytes(1)?;
    // JSON text starts with an ASCII character; a NUL among the first two means UTF-16/32.
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Raise::error(
            "JSON parser does not support UTF-16 or UTF-32",
        ));
    }
    let mut parser = Parser {
        s,
        cfg: &cfg,
        data,
        pos: 0,
        depth: 0,
        text: Vec::new(),
    };
    let token = parser.next_token();
    parser.value(token)?;
    let token = parser.next_token();
    if token.kind != Kind::End {
        return Err(parse_error("the end", &token));
    }
    Ok(1)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    /// The unescaped text is in `Parser::text`.
    String,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

struct Token {
    kind: Kind,
    /// Byte offset where the token (or the error) starts.
    index: usize,
}

fn parse_error(expected: &str, token: &Token) -> Raise {
    let found = match token.kind {
        Kind::ObjBegin => "T_OBJ_BEGIN",
        Kind::ObjEnd => "T_OBJ_END",
        Kind::ArrBegin => "T_ARR_BEGIN",
        Kind::ArrEnd => "T_ARR_END",
        Kind::String => "T_STRING",
        Kind::Number(_) => "T_NUMBER",
        Kind::Boolean(_) => "T_BOOLEAN",
        Kind::Null => "T_NULL",
        Kind::Colon => "T_COLON",
        Kind::Comma => "T_COMMA",
        Kind::End => "T_END",
        Kind::Error(what) => what,
    };
    Raise::error(format!(
        "Expected {expected} but found {found} at character {}",
        token.index + 1
    ))
}

struct Parser<'a> {
    s: &'a State,
    cfg: &'a Config,
    data: &'a [u8],
    pos: usize,
    depth: i32,
    /// The last string token, unescaped.
    text: Vec<u8>,
}

impl Parser<'_> {
    /// The byte at `i`, 0 past the end (Lua strings are NUL-terminated).
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let token = |kind| Token { kind, index };
        let single = match self.at(index) {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            0 => return token(Kind::End),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return token(kind);
        }
        match self.at(index) {
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return token(Kind::Error("invalid number"));
                }
                self.number_token()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                for (word, kind) in [
                    (&b"true"[..], Kind::Boolean(true)),
                    (b"false", Kind::Boolean(false)),
                    (b"null", Kind::Null),
                ] {
                    if self.data[index..].starts_with(word) {
                        self.pos += word.len();
                        return token(kind);
                    }
                }
                if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    return self.number_token();
                }
                token(Kind::Error("invalid token"))
            }
            _ => token(Kind::Error("invalid token")),
        }
    }

    /// What strict JSON refuses but `strtod` reads: a leading `+`, hex, leading zeros,
    /// inf and nan.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.at(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        match self.at(p) {
            b'0' => {
                let next = self.at(p + 1);
                next | 0x20 == b'x' || next.is_ascii_digit()
            }
            c if c <= b'9' => false,
            _ => {
                let rest = &self.data[p.min(self.data.len())..];
                rest.len() >= 3
                    && (rest[..3].eq_ignore_ascii_case(b"inf")
                        || rest[..3].eq_ignore_ascii_case(b"nan"))
            }
        }
    }

    fn number_token(&mut self) -> Token {
        let index = self.pos;
        match strtod(&self.data[index..]) {
            Some((n, used)) => {
                self.pos += used;
                Token {
                    kind: Kind::Number(n),
                    index,
                }
            }
            None => Token {
                kind: Kind::Error("invalid number"),
                index,
            },
        }
    }

    fn string_token(&mut self) -> Token {
        let start = self.pos;
        let error = |what, index| Token {
            kind: Kind::Error(what),
            index,
        };
        self.pos += 1;
        self.text.clear();
        loop {
            let c = self.at(self.pos);
            match c {
                b'"' => break,
                0 => return error("unexpected end of string", self.pos),
                b'\\' => {
                    let unescaped = match self.at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 0x0c,
                        b'r' => b'\r',
                        b'u' => {
                            if !self.unicode_escape() {
                                return error("invalid unicode escape code", self.pos);
                            }
                            continue;
                        }
                        _ => return error("invalid escape code", self.pos),
                    };
                    self.text.push(unescaped);
                    self.pos += 2;
                }
                _ => {
                    self.text.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        Token {
            kind: Kind::String,
            index: start,
        }
    }

    /// Four hex digits at `i`, if they are.
    fn hex4(&self, i: usize) -> Option<u32> {
        (i..i + 4).try_fold(0, |acc, j| {
            Some(acc << 4 | (self.at(j) as char).to_digit(16)?)
        })
    }

    /// Appends the UTF-8 of the `\uXXXX` escape (or surrogate pair) at `pos` and moves past
    /// it; false when it is malformed.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut code) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if code & 0xf800 == 0xd800 {
            // A high surrogate followed by an escaped low one.
            if code & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u'
            {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            code = (((code & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            len = 12;
        }
        let Some(ch) = char::from_u32(code) else {
            return false;
        };
        let mut utf8 = [0u8; 4];
        self.text
            .extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        self.pos += len;
        true
    }

    /// Pushes the value that starts with `token`. Nested objects and arrays are kept in a
    /// list rather than on the Rust stack; their depth is bounded by `decode_max_depth` and
    /// Lua's stack.
    fn value(&mut self, mut token: Token) -> Result<()> {
        let s = self.s;
        let mut open: Vec<Filling> = Vec::new();
        loop {
            match token.kind {
                Kind::String => s.push_bytes(&self.text),
                Kind::Number(n) => s.push_number(n),
                Kind::Boolean(b) => s.push_bool(b),
                Kind::Null => s.push_null(),
                Kind::ObjBegin | Kind::ArrBegin => {
                    let object = token.kind == Kind::ObjBegin;
                    // Room for the table, a key and a value (an array needs no key).
                    self.descend(if object { 3 } else { 2 })?;
                    s.new_table();
                    token = self.next_token();
                    let empty = if object { Kind::ObjEnd } else { Kind::ArrEnd };
                    if token.kind == empty {
                        self.depth -= 1;
                    } else if object {
                        open.push(Filling::Object);
                        token = self.key(token)?;
                        continue;
                    } else {
                        open.push(Filling::Array(1));
                        continue;
                    }
                }
                _ => return Err(parse_error("value", &token)),
            }
            // A value is complete: store it, then find the next one or close the table.
            loop {
                let Some(table) = open.last_mut() else {
                    return Ok(());
                };
                let separator = self.next_token();
                let (end, expected) = match table {
                    Filling::Object => {
                        s.raw_set(-3);
                        (Kind::ObjEnd, "comma or object end")
                    }
                    Filling::Array(i) => {
                        s.raw_set_index(-2, *i);
                        *i += 1;
                        (Kind::ArrEnd, "comma or array end")
                    }
                };
                if separator.kind == end {
                    self.depth -= 1;
                    open.pop();
                    continue;
                }
                if separator.kind != Kind::Comma {
                    return Err(parse_error(expected, &separator));
                }
                token = self.next_token();
                if matches!(table, Filling::Object) {
                    token = self.key(token)?;
                }
                break;
            }
        }
    }

    /// Pushes the object key `token` and reads past its colon; returns the value's token.
    fn key(&mut self, token: Token) -> Result<Token> {
        if token.kind != Kind::String {
            return Err(parse_error("object key string", &token));
        }
        self.s.push_bytes(&self.text);
        let colon = self.next_token();
        if colon.kind != Kind::Colon {
            return Err(parse_error("colon", &colon));
        }
        Ok(self.next_token())
    }

    /// One level deeper, with `slots` free stack slots for it.
    fn descend(&mut self, slots: c_int) -> Result<()> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth || !self.s.check_stack(slots) {
            return Err(Raise::error(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            )));
        }
        Ok(())
    }
}

/// A table being filled while decoding: an object, or an array and its next index.
enum Filling {
    Object,
    Array(i64),
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::{eval, eval_error};

    fn err(snippet: &str) -> String {
        eval(&format!("return select(2, pcall({snippet}))"))
    }

    #[test]
    fn encode_scalars_and_strings() {
        assert_eq!(eval("return cjson.encode(-0.0)"), "-0");
        assert_eq!(eval("return cjson.encode(1e-20)"), "1e-20");
        assert_eq!(eval("return cjson.encode(1/3)"), "0.33333333333333");
        assert_eq!(eval("return cjson.encode(1e15)"), "1e+15");
        assert_eq!(
            eval("return cjson.encode(123456789012345678)"),
            "1.2345678901235e+17"
        );
        assert_eq!(eval("return cjson.encode(cjson.null)"), "null");
        assert_eq!(eval("return cjson.encode(true)"), "true");
        assert_eq!(
            eval(r#"return cjson.encode("/\\\"\n\1\127\200\0")"#),
            // \200 passes through (shown here as U+FFFD by the lossy conversion).
            "\"\\/\\\\\\\"\\n\\u0001\\u007f\u{fffd}\\u0000\""
        );
    }

    #[test]
    fn encode_tables() {
        assert_eq!(eval("return cjson.encode({})"), "{}");
        assert_eq!(
            eval("return cjson.encode({1, 2, {a = 1}})"),
            r#"[1,2,{"a":1}]"#
        );
        assert_eq!(
            eval("return cjson.encode({[1] = 1, [3] = 3})"),
            "[1,null,3]"
        );
        assert_eq!(eval("return cjson.encode({[1.5] = 1})"), r#"{"1.5":1}"#);
        assert_eq!(eval("return cjson.encode({[-1] = 1})"), r#"{"-1":1}"#);
        assert_eq!(
            err("cjson.encode, {[1] = 1, [30] = 3}"),
            "Cannot serialise table: excessively sparse array"
        );
        assert_eq!(
            err("cjson.encode, {[true] = 1}"),
            "Cannot serialise boolean: table key must be a number or string"
        );
        assert_eq!(
            err("cjson.encode, {f = function() end}"),
            "Cannot serialise function: type not supported"
        );
        assert_eq!(
            eval("local t = {} t[1] = t return select(2, pcall(cjson.encode, t))"),
            "Cannot serialise, excessive nesting (1001)"
        );
        assert_eq!(
            err("cjson.encode, 1/0"),
            "Cannot serialise number: must not be NaN or Inf"
        );
    }

    #[test]
    fn decode_values() {
        assert_eq!(
            eval(
                r#"local t = cjson.decode('{"a":[1,2.5,"x",true,null]}') return t.a[1] + t.a[2] .. t.a[3] .. tostring(t.a[4]) .. tostring(t.a[5] == cjson.null)"#
            ),
            "3.5xtruetrue"
        );
        assert_eq!(
            eval(r#"return cjson.decode('"\\u00e9\\ud83d\\ude00\\/\\t"')"#),
            "é😀/\t"
        );
        assert_eq!(
            eval(r#"return tostring(cjson.decode("12345678901234567890"))"#),
            "1.2345678901235e+19"
        );
        assert_eq!(eval(r#"return tostring(cjson.decode("0x10"))"#), "16");
        assert_eq!(
            eval(r#"return tostring(cjson.decode("-Infinity"))"#),
            "-inf"
        );
        assert_eq!(eval(r#"return tostring(cjson.decode("+5"))"#), "5");
        assert_eq!(eval(r#"return tostring(cjson.decode("[1]\0x")[1])"#), "1");
    }

    #[test]
    fn decode_errors() {
        assert_eq!(
            err(r#"cjson.decode, "[1,2""#),
            "Expected comma or array end but found T_END at character 5"
        );
        assert_eq!(
            err(r#"cjson.decode, '{"a":}'"#),
            "Expected value but found T_OBJ_END at character 6"
        );
        assert_eq!(
            err(r#"cjson.decode, "nul""#),
            "Expected value but found invalid token at character 1"
        );
        assert_eq!(
            err(r#"cjson.decode, '"\\x"'"#),
            "Expected value but found invalid escape code at character 2"
        );
        assert_eq!(
            err(r#"cjson.decode, '"abc'"#),
            "Expected value but found unexpected end of string at character 5"
        );
        assert_eq!(
            err(r#"cjson.decode, '"\\ud800"'"#),
            "Expected value but found invalid unicode escape code at character 2"
        );
        assert_eq!(
            err(r#"cjson.decode, "[1]x""#),
            "Expected the end but found invalid token at character 4"
        );
        assert_eq!(
            err(r#"cjson.decode, "\0[1]""#),
            "JSON parser does not support UTF-16 or UTF-32"
        );
        assert_eq!(
            eval_error(r#"return cjson.decode("{1:2}")"#),
            "user_script:1: Expected object key string but found T_NUMBER at character 2"
        );
    }

    #[test]
    fn configuration() {
        assert_eq!(
            err("cjson.encode_max_depth, 0"),
            "bad argument #1 to '?' (expected integer between 1 and 2147483647)"
        );
        assert_eq!(
            err("cjson.encode_max_depth, 1, 2"),
            "bad argument #2 to '?' (found too many arguments)"
        );
        assert_eq!(
            err("cjson.encode_sparse_array, true, -1"),
            "bad argument #1 to '?' (expected integer between 0 and 2147483647)"
        );
        assert_eq!(
            err("cjson.encode_keep_buffer, 1"),
            "bad argument #1 to '?' (invalid option '1')"
        );
        assert_eq!(
            eval(
                "local a, b, c = cjson.encode_sparse_array(true, 2, 3) \
                  return tostring(a) .. b .. c .. cjson.encode({[1] = 1, [30] = 3})"
            ),
            r#"true23{"1":1,"30":3}"#
        );
        assert_eq!(
            eval(
                "local a = cjson.encode_invalid_numbers('null') \
                  return a .. cjson.encode({1/0, 0/0})"
            ),
            "null[null,null]"
        );
        assert_eq!(
            eval("cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0})"),
            "[inf,-inf,nan]"
        );
        assert_eq!(
            eval("cjson.decode_max_depth(2) return select(2, pcall(cjson.decode, '[[[1]]]'))"),
            "Found too many nested data structures (3) at character 3"
        );
        assert_eq!(
            eval("cjson.encode_max_depth(2) return select(2, pcall(cjson.encode, {{{1}}}))"),
            "Cannot serialise, excessive nesting (3)"
        );
        assert_eq!(
            eval(
                "local c = cjson.new() c.encode_number_precision(3) \
                  return cjson.encode(math.pi) .. ' ' .. c.encode(math.pi)"
            ),
            "3.1415926535898 3.14"
        );
        assert_eq!(
            eval(
                "cjson.decode_invalid_numbers(false) return select(2, pcall(cjson.decode, '0x10'))"
            ),
            "Expected value but found invalid number at character 1"
        );
    }
}
