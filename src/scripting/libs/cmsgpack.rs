//! `cmsgpack`: MessagePack for Lua values (lua-cmsgpack 0.4.0, as Redis ships it).
//!
//! Type mapping: numbers that are exact 64-bit integers pack as the smallest integer
//! encoding, other numbers as float 32 when that is exact, else float 64; strings as str
//! (never bin); booleans; a table whose keys are exactly 1..n (or none) as an array, any other
//! table as a map in `next` order; nil, functions, userdata (and cjson.null) as nil. Tables
//! nested 16 deep pack as nil, which stops reference cycles. Unpacking turns every integer
//! into a Lua number (uint 64 above 2^63 wraps negative), str/raw into strings, and refuses bin
//! and ext types as a bad format.

use super::num::{cast_i32, cast_i64};
use super::state::{Raise, Result, State, lua_c_functions};
use mlua::ffi;
use std::ffi::c_int;

/// Tables nested deeper than this pack as nil.
const MAX_NESTING: usize = 16;

pub(super) fn open(s: &State) {
    s.new_table();
    for (name, f) in [
        (c"pack", c_pack as ffi::lua_CFunction),
        (c"unpack", c_unpack),
        (c"unpack_one", c_unpack_one),
        (c"unpack_limit", c_unpack_limit),
    ] {
        s.push_closure(f, 0);
        s.set_field(-2, name);
    }
    for (name, value) in [
        (c"_NAME", "cmsgpack"),
        (c"_VERSION", "lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", "MessagePack C implementation for Lua"),
    ] {
        s.push_bytes(value.as_bytes());
        s.set_field(-2, name);
    }
    s.set_global(c"cmsgpack");
}

lua_c_functions! {
    c_pack => pack,
    c_unpack => unpack,
    c_unpack_one => unpack_one,
    c_unpack_limit => unpack_limit,
}

// ---------------------------------------------------------------- packing

/// `cmsgpack.pack(v1, v2, ...)`: the encodings of all arguments, concatenated.
fn pack(s: &State) -> Result<c_int> {
    let nargs = s.top();
    if nargs == 0 {
        return Err(Raise::arg(0, "MessagePack pack needs input."));
    }
    if !s.check_stack(nargs) {
        return Err(Raise::arg(0, "Too many arguments for MessagePack pack."));
    }
    let mut buf = Vec::new();
    for i in 1..=nargs {
        s.ensure_stack(1, "in function mp_check")?;
        s.push_copy(i);
        encode_value(s, &mut buf, 0)?;
        s.push_bytes(&buf);
        buf.clear();
    }
    s.concat(nargs);
    Ok(1)
}

/// Encodes the value on top of the stack and pops it.
fn encode_value(s: &State, buf: &mut Vec<u8>, level: usize) -> Result<()> {
    match s.kind(-1) {
        ffi::LUA_TSTRING => encode_bytes(buf, s.to_bytes(-1).unwrap_or_default()),
        ffi::LUA_TBOOLEAN => buf.push(if s.to_boolean(-1) { 0xc3 } else { 0xc2 }),
        ffi::LUA_TNUMBER => {
            let n = s.to_number(-1);
            if cast_i64(n) as f64 == n {
                encode_int(buf, s.to_integer(-1));
            } else {
                encode_double(buf, n);
            }
        }
        ffi::LUA_TTABLE if level < MAX_NESTING => {
            if table_is_array(s)? {
                encode_array(s, buf, level)?;
            } else {
                encode_map(s, buf, level)?;
            }
        }
        _ => buf.push(0xc0),
    }
    s.pop(1);
    Ok(())
}

fn encode_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(bytes);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if f64::from(f) == d {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => buf.push(n as u8),
        128..=0xff => buf.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => buf.push(n as u8),
        -128..=-33 => buf.extend_from_slice(&[0xd0, n as u8]),
        -32768..=-129 => {
            buf.push(0xd1);
            buf.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            buf.push(0xd2);
            buf.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            buf.push(0xd3);
            buf.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_container_header(buf: &mut Vec<u8>, n: usize, fix: u8, code16: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(code16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(code16 + 1);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// True when the keys of the table on top are exactly 1..n: positive numbers that are C
/// ints, their count equal to the largest.
fn table_is_array(s: &State) -> Result<bool> {
    s.ensure_stack(2, "in function table_is_an_array")?;
    let (mut count, mut max) = (0i32, 0i32);
    s.push_nil();
    while s.next(-2) {
        s.pop(1);
        let n = s.to_number(-1);
        let positive_int = n > 0.0 && f64::from(cast_i32(n)) == n;
        if s.kind(-1) != ffi::LUA_TNUMBER || !positive_int {
            s.pop(1);
            return Ok(false);
        }
        max = max.max(n as i32);
        count += 1;
    }
    Ok(max == count)
}

fn encode_array(s: &State, buf: &mut Vec<u8>, level: usize) -> Result<()> {
    let len = s.len(-1);
    encode_container_header(buf, len, 0x90, 0xdc);
    s.ensure_stack(1, "in function mp_encode_lua_table_as_array")?;
    for j in 1..=len {
        s.push_number(j as f64);
        s.get_table(-2);
        encode_value(s, buf, level + 1)?;
    }
    Ok(())
}

fn encode_map(s: &State, buf: &mut Vec<u8>, level: usize) -> Result<()> {
    s.ensure_stack(3, "in function mp_encode_lua_table_as_map")?;
    let mut len = 0;
    s.push_nil();
    while s.next(-2) {
        s.pop(1);
        len += 1;
    }
    encode_container_header(buf, len, 0x80, 0xde);
    s.push_nil();
    while s.next(-2) {
        s.push_copy(-2);
        encode_value(s, buf, level + 1)?; // the key copy
        encode_value(s, buf, level + 1)?; // the value
    }
    Ok(())
}

// -------------------------------------------------------------- unpacking

/// The unread part of the input.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Fails with lua-cmsgpack's EOF error unless `n` bytes remain.
    fn need(&self, n: usize) -> Result<()> {
        if self.left() < n {
            return Err(Raise::error("Missing bytes in input."));
        }
        Ok(())
    }

    /// The `n` bytes after the type byte, as a big-endian number.
    fn be(&self, n: usize) -> u64 {
        self.data[self.pos + 1..self.pos + 1 + n]
            .iter()
            .fold(0, |v, &b| (v << 8) | u64::from(b))
    }

    fn take(&mut self, n: usize) -> &[u8] {
        self.pos += n;
        &self.data[self.pos - n..self.pos]
    }
}

/// A table being filled while decoding.
struct Open {
    map: bool,
    len: u64,
    filled: u64,
    /// A map's key is on the stack, its value comes next.
    have_key: bool,
}

impl Open {
    /// Stores the value just decoded (a map's key waits for its value).
    fn attach(&mut self, s: &State) -> Result<()> {
        if self.map && !self.have_key {
            self.have_key = true;
            return Ok(());
        }
        if self.map {
            // What lua_settable raises for keys a table cannot hold.
            match s.kind(-2) {
                ffi::LUA_TNIL => return Err(Raise::Plain("table index is nil")),
                ffi::LUA_TNUMBER if s.to_number(-2).is_nan() => {
                    return Err(Raise::Plain("table index is NaN"));
                }
                _ => {}
            }
            self.have_key = false;
        }
        s.raw_set(-3);
        self.filled += 1;
        Ok(())
    }

    /// Whether another value belongs to this table; an array pushes that value's index.
    fn wants_more(&self, s: &State) -> bool {
        if self.map {
            return self.have_key || self.filled < self.len;
        }
        if self.filled < self.len {
            s.push_number((self.filled + 1) as f64);
            return true;
        }
        false
    }
}

/// Decodes one value onto the stack. Nested arrays and maps are kept in a list rather than
/// on the Rust stack: nesting is bounded only by Lua's stack (about 4000 levels).
fn decode_value(s: &State, c: &mut Cursor) -> Result<()> {
    let mut open: Vec<Open> = Vec::new();
    loop {
        let mut complete = match decode_item(s, c)? {
            Some(table) => {
                open.push(table);
                false
            }
            None => true,
        };
        loop {
            let Some(table) = open.last_mut() else {
                return Ok(());
            };
            if complete {
                table.attach(s)?;
            }
            if table.wants_more(s) {
                break;
            }
            open.pop();
            complete = true;
        }
    }
}

/// Decodes a scalar, or pushes an empty table and returns what will fill it.
fn decode_item(s: &State, c: &mut Cursor) -> Result<Option<Open>> {
    c.need(1)?;
    s.ensure_stack(
        1,
        "too many return values at once; use unpack_one or unpack_limit instead.",
    )?;
    let code = c.data[c.pos];
    match code {
        0xcc => decode_fixed(s, c, 1, |v| v as f64)?,
        0xcd => decode_fixed(s, c, 2, |v| v as f64)?,
        0xce => decode_fixed(s, c, 4, |v| v as f64)?,
        // lua_pushunsigned on 64-bit Lua 5.1 is lua_pushinteger: uint 64 wraps to signed.
        0xcf => decode_fixed(s, c, 8, |v| v as i64 as f64)?,
        0xd0 => decode_fixed(s, c, 1, |v| f64::from(v as i8))?,
        0xd1 => decode_fixed(s, c, 2, |v| f64::from(v as i16))?,
        0xd2 => decode_fixed(s, c, 4, |v| f64::from(v as i32))?,
        0xd3 => decode_fixed(s, c, 8, |v| v as i64 as f64)?,
        0xca => decode_fixed(s, c, 4, |v| f64::from(f32::from_bits(v as u32)))?,
        0xcb => decode_fixed(s, c, 8, f64::from_bits)?,
        0xc0 => {
            s.push_nil();
            c.pos += 1;
        }
        0xc2 | 0xc3 => {
            s.push_bool(code == 0xc3);
            c.pos += 1;
        }
        0xd9 | 0xda => {
            let width = if code == 0xd9 { 1 } else { 2 };
            c.need(1 + width)?;
            let len = c.be(width) as usize;
            c.need(1 + width + len)?;
            s.push_bytes(&c.take(1 + width + len)[1 + width..]);
        }
        0xdb => {
            c.need(5)?;
            let len = c.be(4) as usize;
            c.pos += 5;
            c.need(len)?;
            s.push_bytes(c.take(len));
        }
        0xdc..=0xdf => {
            let width = if code & 1 == 0 { 2 } else { 4 };
            c.need(1 + width)?;
            let len = c.be(width);
            c.pos += 1 + width;
            return open_table(s, code >= 0xde, len).map(Some);
        }
        0x00..=0x7f => {
            s.push_number(f64::from(code));
            c.pos += 1;
        }
        0xe0..=0xff => {
            s.push_number(f64::from(code as i8));
            c.pos += 1;
        }
        0xa0..=0xbf => {
            let len = usize::from(code & 0x1f);
            c.need(1 + len)?;
            s.push_bytes(&c.take(1 + len)[1..]);
        }
        0x80..=0x9f => {
            c.pos += 1;
            return open_table(s, code < 0x90, u64::from(code & 0xf)).map(Some);
        }
        _ => return Err(Raise::error("Bad data format in input.")),
    }
    Ok(None)
}

/// A number stored in the `width` bytes after the type byte.
fn decode_fixed(s: &State, c: &mut Cursor, width: usize, value: fn(u64) -> f64) -> Result<()> {
    c.need(1 + width)?;
    s.push_number(value(c.be(width)));
    c.pos += 1 + width;
    Ok(())
}

fn open_table(s: &State, map: bool, len: u64) -> Result<Open> {
    s.new_table();
    if !map {
        s.ensure_stack(1, "in function mp_decode_to_lua_array")?;
    }
    Ok(Open {
        map,
        len,
        filled: 0,
        have_key: false,
    })
}

/// Decodes up to `limit` values of argument 1 from byte `offset`; both 0 means every value
/// and no next offset. Otherwise the next offset (-1 at the end) comes first.
fn unpack_values(s: &State, limit: i64, offset: i64) -> Result<c_int> {
    let data = s.check_bytes(1)?;
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // lua-cmsgpack prints the input length where the limit belongs.
        return Err(Raise::error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32,
            data.len() as i32
        )));
    }
    if offset as u64 > data.len() as u64 {
        return Err(Raise::error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32,
            data.len() as i32
        )));
    }
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut c = Cursor {
        data,
        pos: offset as usize,
    };
    let mut count: c_int = 0;
    while c.left() > 0 && i64::from(count) < limit {
        decode_value(s, &mut c)?;
        count += 1;
    }
    if !decode_all {
        s.ensure_stack(1, "in function mp_unpack_full")?;
        s.push_integer(if c.left() == 0 { -1 } else { c.pos as i64 });
        s.insert(2);
        count += 1;
    }
    Ok(count)
}

/// `cmsgpack.unpack(msg)`: every value in the message.
fn unpack(s: &State) -> Result<c_int> {
    unpack_values(s, 0, 0)
}

/// `cmsgpack.unpack_one(msg [, offset])`: next offset, value.
fn unpack_one(s: &State) -> Result<c_int> {
    let offset = s.opt_integer(2, 0)?;
    s.set_top(s.top().min(1));
    unpack_values(s, 1, offset)
}

/// `cmsgpack.unpack_limit(msg, limit [, offset])`: next offset, up to `limit` values.
fn unpack_limit(s: &State) -> Result<c_int> {
    let limit = s.check_integer(2)?;
    let offset = s.opt_integer(3, 0)?;
    s.set_top(s.top().min(1));
    unpack_values(s, limit, offset)
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::eval;

    const HEX: &str = "local function hex(s) return (s:gsub('.', function(c) \
                       return string.format('%02x', c:byte()) end)) end ";

    fn hex(snippet: &str) -> String {
        eval(&format!("{HEX} return hex({snippet})"))
    }

    #[test]
    fn numbers_pick_the_smallest_encoding() {
        assert_eq!(
            hex("cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296)"),
            "007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000"
        );
        assert_eq!(
            hex("cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1)"),
            "ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffff"
        );
        assert_eq!(
            // Lua 5.1 shares the constants -0.0 and 0, so this 1/0 is 1/-0.
            hex("cmsgpack.pack(1.5, 0.1, -0.0, 2^63, -2^63, 1/0)"),
            "ca3fc00000cb3fb999999999999a00ca5f000000d38000000000000000caff800000"
        );
    }

    #[test]
    fn tables_strings_and_nil() {
        assert_eq!(
            hex("cmsgpack.pack({1,2,3}, {a=1}, {}, {[1]=1,[3]=3}, cjson.null, true, false, nil)"),
            "9301020381a16101908201010303c0c3c2c0"
        );
        assert_eq!(hex("cmsgpack.pack(string.rep('x', 32))").len(), 2 * 34);
        assert_eq!(&hex("cmsgpack.pack(string.rep('x', 256))")[..6], "da0100");
        let mut nested = "91".repeat(16);
        nested.push_str("c0");
        assert_eq!(
            hex(
                "(function() local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end \
                 return cmsgpack.pack(t) end)()"
            ),
            nested
        );
    }

    #[test]
    fn unpack_round_trips_and_wraps() {
        assert_eq!(
            eval(
                "local a, b, c = cmsgpack.unpack(cmsgpack.pack('x', {1, {y = 2}}, 3.5)) \
                  return a .. b[1] .. b[2].y .. c"
            ),
            "x123.5"
        );
        assert_eq!(
            eval(
                "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))"
            ),
            "-1"
        );
        assert_eq!(
            eval("return table.concat({cmsgpack.unpack_limit('\\1\\2\\3', 2)}, ',')"),
            "2,1,2"
        );
        assert_eq!(
            eval("return table.concat({cmsgpack.unpack_one('\\1\\2\\3', 2)}, ',')"),
            "-1,3"
        );
        assert_eq!(eval("return select('#', cmsgpack.unpack(''))"), "0");
        assert_eq!(eval("return cmsgpack.unpack(5)"), "53");
    }

    #[test]
    fn errors_match_redis() {
        let err = |snippet: &str| eval(&format!("return select(2, pcall({snippet}))"));
        assert_eq!(
            err("cmsgpack.pack"),
            "bad argument #0 to '?' (MessagePack pack needs input.)"
        );
        assert_eq!(err("cmsgpack.unpack, '\\145'"), "Missing bytes in input.");
        assert_eq!(
            err("cmsgpack.unpack, '\\196\\1a'"),
            "Bad data format in input."
        );
        assert_eq!(
            err("cmsgpack.unpack_one, '\\1\\2', -1"),
            "Invalid request to unpack with offset of -1 and limit of 2."
        );
        assert_eq!(
            err("cmsgpack.unpack_one, '\\1\\2', 5"),
            "Start offset 5 greater than input length 2."
        );
        assert_eq!(
            err("cmsgpack.unpack, '\\129\\192\\1'"),
            "table index is nil"
        );
        assert_eq!(
            err("cmsgpack.unpack, '\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1'"),
            "table index is NaN"
        );
        assert_eq!(
            err("cmsgpack.unpack_limit, '\\1'"),
            "bad argument #2 to '?' (number expected, got no value)"
        );
        assert_eq!(
            err("cmsgpack.unpack, string.rep('\\145', 9000)"),
            "stack overflow (in function mp_decode_to_lua_array)"
        );
    }
}
