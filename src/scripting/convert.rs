//! Conversions between replies and Lua values, as Redis's script_lua.c does them: a command's
//! RESP2/RESP3 reply becomes what `redis.call` returns, and a script's return value becomes the
//! caller's reply.

use mlua::{Lua, Table, Value};

use crate::protocol::Reply;

/// Redis converts Lua numbers to integers with a C cast; on x86-64 a NaN or out-of-range value
/// becomes i64::MIN.
pub fn lua_number_to_i64(n: f64) -> i64 {
    // 2^63: the first value past i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// The number a Lua value holds, if it is one.
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// The text of an error as Redis stores it in an error table: "CODE message". `text` starting
/// with '-' carries its own code (up to the first space); otherwise the code is ERR.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let trim = |c: &u8| *c == b'\r' || *c == b'\n';
    let start = msg.iter().position(|c| !trim(c)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|c| !trim(c)).map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end]);
    out
}

/// `{err = "CODE message"}` (see `error_text`).
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("err", lua.create_string(error_text(text))?)?;
    Ok(t)
}

/// Converts a complete reply (as written by a command) into a Lua value. Errors become error
/// tables marked as already counted in the error statistics.
pub fn reply_to_lua(lua: &Lua, resp: &[u8]) -> mlua::Result<Value> {
    let mut pos = 0;
    parse(lua, resp, &mut pos)
}

fn line<'b>(buf: &'b [u8], pos: &mut usize) -> &'b [u8] {
    let start = *pos;
    let end = start
        + buf[start..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(buf.len() - start);
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn int(text: &[u8]) -> i64 {
    crate::util::num::parse_i64(text).unwrap_or(0)
}

fn parse(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    let Some(&kind) = buf.get(*pos) else {
        return Ok(Value::Nil);
    };
    *pos += 1;
    let head = line(buf, pos);
    Ok(match kind {
        b'+' => {
            let t = lua.create_table()?;
            t.set("ok", lua.create_string(head)?)?;
            Value::Table(t)
        }
        b'-' => {
            let mut text = Vec::with_capacity(head.len() + 1);
            text.push(b'-');
            text.extend_from_slice(head);
            let t = error_table(lua, &text)?;
            t.set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        b':' => Value::Number(int(head) as f64),
        b'$' | b'=' => {
            let n = int(head);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let body = &buf[*pos..*pos + n as usize];
            *pos += n as usize + 2;
            if kind == b'$' {
                Value::String(lua.create_string(body)?)
            } else {
                let (format, text) = body.split_at(body.len().min(4));
                let inner = lua.create_table()?;
                inner.set("string", lua.create_string(text)?)?;
                inner.set("format", lua.create_string(&format[..format.len().min(3)])?)?;
                let t = lua.create_table()?;
                t.set("verbatim_string", inner)?;
                Value::Table(t)
            }
        }
        b'*' | b'>' => {
            let n = int(head);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let t = lua.create_table()?;
            for i in 1..=n {
                let v = parse(lua, buf, pos)?;
                t.set(i, v)?;
            }
            Value::Table(t)
        }
        b'%' => {
            let inner = lua.create_table()?;
            for _ in 0..int(head) {
                let k = parse(lua, buf, pos)?;
                let v = parse(lua, buf, pos)?;
                inner.set(k, v)?;
            }
            let t = lua.create_table()?;
            t.set("map", inner)?;
            Value::Table(t)
        }
        b'~' => {
            let inner = lua.create_table()?;
            for _ in 0..int(head) {
                let k = parse(lua, buf, pos)?;
                inner.set(k, true)?;
            }
            let t = lua.create_table()?;
            t.set("set", inner)?;
            Value::Table(t)
        }
        b'|' => {
            // Attributes are not shown to scripts: skip them, convert what they annotate.
            for _ in 0..2 * int(head) {
                skip(buf, pos);
            }
            return parse(lua, buf, pos);
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let d = match head {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                b"nan" | b"-nan" => f64::NAN,
                _ => crate::util::num::parse_f64(head).unwrap_or(0.0),
            };
            let t = lua.create_table()?;
            t.set("double", d)?;
            Value::Table(t)
        }
        b'(' => {
            let t = lua.create_table()?;
            t.set("big_number", lua.create_string(head)?)?;
            Value::Table(t)
        }
        _ => Value::Nil,
    })
}

/// Steps over one complete reply.
fn skip(buf: &[u8], pos: &mut usize) {
    let Some(&kind) = buf.get(*pos) else {
        return;
    };
    *pos += 1;
    let head = line(buf, pos);
    let n = int(head);
    match kind {
        b'$' | b'=' if n >= 0 => *pos += n as usize + 2,
        b'*' | b'>' | b'~' => (0..n.max(0)).for_each(|_| skip(buf, pos)),
        b'%' | b'|' => (0..2 * n.max(0)).for_each(|_| skip(buf, pos)),
        _ => {}
    }
}

/// Redis converts with the Lua stack, which has room for this many slots: a value that would
/// sit deeper (in a table containing itself, say) becomes an error reply. An array element
/// sits one slot above its table, a map value three and a map key four, a set member three.
const LUA_STACK_SLOTS: usize = 7995;

/// How a script's return value is written back.
pub struct ReplyWriter<'r> {
    pub reply: &'r mut Reply,
    /// The script switched to RESP3 (redis.setresp(3)): booleans stay booleans.
    pub script_resp3: bool,
    /// An error reply was written without counting it (it was counted when the command that
    /// produced it failed).
    pub uncounted_error: bool,
}

impl ReplyWriter<'_> {
    /// Writes `v` and everything nested in it, depth first, with an explicit stack (nesting can
    /// be thousands of levels deep).
    pub fn write(&mut self, v: &Value) -> mlua::Result<()> {
        let mut pending = vec![(v.clone(), 0)];
        while let Some((v, slot)) = pending.pop() {
            if slot >= LUA_STACK_SLOTS {
                self.reply.error("ERR reached lua stack limit");
                continue;
            }
            let children = match &v {
                Value::Table(t) => self.table(t)?,
                other => {
                    self.scalar(other);
                    continue;
                }
            };
            pending.extend(children.into_iter().rev().map(|(c, up)| (c, slot + up)));
        }
        Ok(())
    }

    fn scalar(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.reply.bulk(&s.as_bytes()),
            Value::Boolean(b) => {
                if self.script_resp3 {
                    self.reply.bool(*b)
                } else if *b {
                    self.reply.int(1)
                } else {
                    self.reply.null()
                }
            }
            Value::Integer(i) => self.reply.int(*i),
            Value::Number(n) => self.reply.int(lua_number_to_i64(*n)),
            _ => self.reply.null(),
        }
    }

    /// Writes a table's own reply (or the header of its aggregate) and returns the values
    /// nested in it, in reply order, with how many Lua stack slots above the table each sits.
    fn table(&mut self, t: &Table) -> mlua::Result<Vec<(Value, usize)>> {
        if let Value::String(e) = t.raw_get::<Value>("err")? {
            let counted = !matches!(
                t.raw_get::<Value>("ignore_error_stats_update")?,
                Value::Boolean(true)
            );
            self.error(&e.as_bytes(), counted);
            return Ok(Vec::new());
        }
        if let Value::String(s) = t.raw_get::<Value>("ok")? {
            let mut text = s.as_bytes().to_vec();
            no_newlines(&mut text);
            self.reply.simple(&text);
            return Ok(Vec::new());
        }
        if let Some(d) = as_number(&t.raw_get::<Value>("double")?) {
            self.reply.double(d);
            return Ok(Vec::new());
        }
        if let Value::String(s) = t.raw_get::<Value>("big_number")? {
            let mut digits = s.as_bytes().to_vec();
            no_newlines(&mut digits);
            self.reply.big_number(&digits);
            return Ok(Vec::new());
        }
        if let Value::Table(v) = t.raw_get::<Value>("verbatim_string")?
            && let (Value::String(format), Value::String(text)) =
                (v.raw_get::<Value>("format")?, v.raw_get::<Value>("string")?)
        {
            self.verbatim(&format.as_bytes(), &text.as_bytes());
            return Ok(Vec::new());
        }
        if let Value::Table(m) = t.raw_get::<Value>("map")? {
            let mut items = Vec::new();
            for pair in m.pairs::<Value, Value>() {
                let (k, v) = pair?;
                items.push((k, 4));
                items.push((v, 3));
            }
            self.reply.map(items.len() / 2);
            return Ok(items);
        }
        if let Value::Table(s) = t.raw_get::<Value>("set")? {
            let members: Vec<(Value, usize)> = s
                .pairs::<Value, Value>()
                .map(|kv| kv.map(|(k, _)| (k, 3)))
                .collect::<mlua::Result<_>>()?;
            self.reply.set(members.len());
            return Ok(members);
        }
        let mut items = Vec::new();
        loop {
            match t.raw_get::<Value>(items.len() + 1)? {
                Value::Nil => break,
                v => items.push((v, 1)),
            }
        }
        self.reply.array(items.len());
        Ok(items)
    }

    /// An error reply; `counted` false writes it without touching the error statistics.
    pub fn error(&mut self, text: &[u8], counted: bool) {
        let msg = String::from_utf8_lossy(text);
        if counted {
            self.reply.error(&msg);
        } else {
            let out = &mut self.reply.out;
            out.push(b'-');
            out.extend(
                msg.bytes()
                    .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
            );
            out.extend_from_slice(b"\r\n");
            self.uncounted_error = true;
        }
    }

    fn verbatim(&mut self, format: &[u8], text: &[u8]) {
        if !self.reply.is_resp3() {
            return self.reply.bulk(text);
        }
        let mut fmt = [b' '; 3];
        for (d, s) in fmt.iter_mut().zip(format) {
            *d = *s;
        }
        let out = &mut self.reply.out;
        out.push(b'=');
        crate::util::num::fmt_i64(text.len() as i64 + 4, out);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&fmt);
        out.push(b':');
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    }
}

fn no_newlines(text: &mut [u8]) {
    for c in text.iter_mut() {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::RespVersion;

    #[test]
    fn error_texts() {
        assert_eq!(error_text(b"-MY err"), b"MY err");
        assert_eq!(error_text(b"-nospace"), b"ERR nospace");
        assert_eq!(error_text(b"plain"), b"ERR plain");
        assert_eq!(error_text(b"-"), b"ERR ");
        assert_eq!(error_text(b"- x"), b" x");
        assert_eq!(error_text(b"-ERR x\r\n"), b"ERR x");
    }

    #[test]
    fn c_casts() {
        assert_eq!(lua_number_to_i64(3.9), 3);
        assert_eq!(lua_number_to_i64(-3.9), -3);
        assert_eq!(lua_number_to_i64(1e20), i64::MIN);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
    }

    fn roundtrip(resp: &[u8], client: RespVersion, script_resp3: bool) -> Vec<u8> {
        let lua = Lua::new();
        let v = reply_to_lua(&lua, resp).unwrap();
        let mut reply = Reply::new();
        reply.resp = client;
        ReplyWriter {
            reply: &mut reply,
            script_resp3,
            uncounted_error: false,
        }
        .write(&v)
        .unwrap();
        reply.out
    }

    #[test]
    fn a_table_containing_itself_ends_where_redis_runs_out_of_stack() {
        let lua = Lua::new();
        let t: Table = lua.load("local t = {} t[1] = t return t").eval().unwrap();
        let mut reply = Reply::new();
        ReplyWriter {
            reply: &mut reply,
            script_resp3: false,
            uncounted_error: false,
        }
        .write(&Value::Table(t))
        .unwrap();
        assert_eq!(
            reply.out.len(),
            7995 * 4 + b"-ERR reached lua stack limit\r\n".len()
        );
        assert!(
            reply
                .out
                .ends_with(b"*1\r\n-ERR reached lua stack limit\r\n")
        );
    }

    #[test]
    fn replies_round_trip() {
        let r2 = RespVersion::Resp2;
        let r3 = RespVersion::Resp3;
        assert_eq!(roundtrip(b":5\r\n", r2, false), b":5\r\n");
        assert_eq!(roundtrip(b"$-1\r\n", r2, false), b"$-1\r\n");
        assert_eq!(roundtrip(b"$-1\r\n", r3, false), b"_\r\n");
        assert_eq!(roundtrip(b"+OK\r\n", r2, false), b"+OK\r\n");
        assert_eq!(
            roundtrip(b"*3\r\n$1\r\na\r\n:1\r\n*-1\r\n", r2, false),
            b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n"
        );
        assert_eq!(
            roundtrip(b"%1\r\n$1\r\na\r\n:1\r\n", r3, true),
            b"%1\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(
            roundtrip(b"%1\r\n$1\r\na\r\n:1\r\n", r2, true),
            b"*2\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(roundtrip(b"#t\r\n", r3, true), b"#t\r\n");
        assert_eq!(roundtrip(b"#f\r\n", r2, true), b":0\r\n");
        assert_eq!(roundtrip(b",1.5\r\n", r3, true), b",1.5\r\n");
        assert_eq!(roundtrip(b"(123\r\n", r2, true), b"$3\r\n123\r\n");
        assert_eq!(
            roundtrip(b"=7\r\ntxt:abc\r\n", r3, true),
            b"=7\r\ntxt:abc\r\n"
        );
        assert_eq!(roundtrip(b"|1\r\n+a\r\n+b\r\n:7\r\n", r3, true), b":7\r\n");
        assert_eq!(
            roundtrip(b"-WRONGTYPE Operation\r\n", r2, false),
            b"-WRONGTYPE Operation\r\n"
        );
    }
}
