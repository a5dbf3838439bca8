//! `struct`: pack, unpack and size binary records (Roberto Ierusalimschy's struct library, in
//! the version Redis ships with its bound checks), as Redis scripts see it.
//!
//! Format options: `>` big endian, `<` little endian, `![n]` maximum alignment (default 8),
//! `x` a zero byte, `b`/`B` signed/unsigned char, `h`/`H` short, `l`/`L` long, `T` size_t,
//! `i[n]`/`I[n]` integer of n bytes (default 4, at most 32), `f` float, `d` double, `c[n]`
//! n chars (n = 0: the whole string when packing, the previous number when unpacking), `s` a
//! zero-terminated string, space ignored. Sizes are those of C on x86-64 (long = 8); the
//! default byte order is the machine's, little endian.

use super::num::{cast_i64, cast_u64};
use super::state::{Raise, Result, State, lua_c_functions};
use std::ffi::c_int;

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;

pub(super) fn open(s: &State) {
    s.register_library(
        c"struct",
        &[(c"pack", c_pack), (c"unpack", c_unpack), (c"size", c_size)],
    );
    s.pop(1);
}

lua_c_functions! {
    c_pack => pack,
    c_unpack => unpack,
    c_size => size,
}

/// Byte order and maximum alignment, changed by `<`, `>` and `!` as the format goes.
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            little: cfg!(target_endian = "little"),
            align: 1,
        }
    }
}

/// A format string read one option at a time; it ends at its first NUL byte, as in C.
struct Format<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Format<'a> {
    fn new(text: &'a [u8]) -> Format<'a> {
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        Format {
            text: &text[..end],
            at: 0,
        }
    }

    fn next_option(&mut self) -> Option<u8> {
        let opt = *self.text.get(self.at)?;
        self.at += 1;
        Some(opt)
    }

    /// The decimal number after an option, or `default`; numbers past `INT_MAX` are refused
    /// before they wrap.
    fn number(&mut self, default: usize) -> Result<usize> {
        let mut value: Option<i32> = None;
        while let Some(&c) = self.text.get(self.at).filter(|c| c.is_ascii_digit()) {
            let digit = i32::from(c - b'0');
            value = Some(
                value
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(digit))
                    .ok_or_else(|| Raise::error("integral size overflow"))?,
            );
            self.at += 1;
        }
        Ok(value.map_or(default, |v| v as usize))
    }

    /// How many bytes option `opt` takes (0 for options that are not data).
    fn size_of(&mut self, opt: u8) -> Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(Raise::error(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                size
            }
            _ => 0,
        })
    }

    /// Applies a control option (`>`, `<`, `!n`, space); anything else is a bad format.
    fn control(&mut self, opt: u8, header: &mut Header) -> Result<()> {
        match opt {
            b' ' => {}
            b'>' => header.little = false,
            b'<' => header.little = true,
            b'!' => {
                let align = self.number(MAX_ALIGN)?;
                if !align.is_power_of_two() {
                    return Err(Raise::error(format!(
                        "alignment {align} is not a power of 2"
                    )));
                }
                header.align = align;
            }
            other => {
                let mut message = b"invalid format option '".to_vec();
                message.extend_from_slice(&[other, b'\'']);
                return Err(Raise::Arg(1, message));
            }
        }
        Ok(())
    }
}

/// Padding that aligns an item of `size` bytes at offset `len` (C's arithmetic, also for
/// sizes that are not powers of two).
fn padding(len: usize, header: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(header.align);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

fn push_ordered(out: &mut Vec<u8>, bytes: &[u8], little: bool) {
    if little == cfg!(target_endian = "little") {
        out.extend_from_slice(bytes);
    } else {
        out.extend(bytes.iter().rev());
    }
}

/// `struct.pack(fmt, v1, v2, ...)`.
fn pack(s: &State) -> Result<c_int> {
    let mut fmt = Format::new(s.check_bytes(1)?);
    let mut header = Header::default();
    let mut arg: c_int = 2;
    // The C code pushes a nil above the arguments (a missing last argument reads as nil).
    s.push_nil();
    let mut out = Vec::new();
    while let Some(opt) = fmt.next_option() {
        let mut size = fmt.size_of(opt)?;
        let pad = padding(out.len(), &header, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            _ if is_integer_option(opt) => {
                let n = s.check_number(arg)?;
                arg += 1;
                // Negative numbers go through long, others through unsigned long.
                let mut value = if n < 0.0 {
                    cast_i64(n) as u64
                } else {
                    cast_u64(n)
                };
                let mut bytes = [0u8; MAX_INT_SIZE];
                for byte in &mut bytes[..size] {
                    *byte = value as u8;
                    value >>= 8;
                }
                if header.little {
                    out.extend_from_slice(&bytes[..size]);
                } else {
                    out.extend(bytes[..size].iter().rev());
                }
            }
            b'x' => out.push(0),
            b'f' => {
                let f = s.check_number(arg)? as f32;
                arg += 1;
                push_ordered(&mut out, &f.to_ne_bytes(), header.little);
            }
            b'd' => {
                let d = s.check_number(arg)?;
                arg += 1;
                push_ordered(&mut out, &d.to_ne_bytes(), header.little);
            }
            b'c' | b's' => {
                let text = s.check_bytes(arg)?;
                arg += 1;
                if size == 0 {
                    size = text.len();
                }
                // The C code reports the argument after the string.
                s.arg_check(text.len() >= size, arg, "string too short")?;
                out.extend_from_slice(&text[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(opt, &mut header)?,
        }
    }
    s.push_bytes(&out);
    Ok(1)
}

/// An integer of `bytes.len()` bytes; only the last 8 bytes read count, and a sign is
/// extended with C's shift (its count taken modulo 64, as x86-64 does).
fn read_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let mut value: u64 = 0;
    let mut add = |b: &u8| value = (value << 8) | u64::from(*b);
    if little {
        bytes.iter().rev().for_each(&mut add);
    } else {
        bytes.iter().for_each(&mut add);
    }
    if !signed {
        return value as f64;
    }
    let shift = (bytes.len() as u32).wrapping_mul(8).wrapping_sub(1);
    let mask = u64::MAX.wrapping_shl(shift);
    if value & mask != 0 {
        value |= mask;
    }
    value as i64 as f64
}

fn ordered<const N: usize>(bytes: &[u8], little: bool) -> [u8; N] {
    let mut raw: [u8; N] = bytes[..N].try_into().expect("N bytes");
    if little != cfg!(target_endian = "little") {
        raw.reverse();
    }
    raw
}

/// `struct.unpack(fmt, data [, pos])`: the values, then the position after them.
fn unpack(s: &State) -> Result<c_int> {
    let mut fmt = Format::new(s.check_bytes(1)?);
    let data = s.check_bytes(2)?;
    let len = data.len();
    let mut pos = s.opt_integer(3, 1)? as usize;
    s.arg_check(pos > 0, 3, "offset must be 1 or greater")?;
    pos -= 1;
    let mut header = Header::default();
    let mut results: c_int = 0;
    let fits = |pos: usize, size: usize| size <= len && pos <= len - size;
    while let Some(opt) = fmt.next_option() {
        let mut size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(padding(pos, &header, opt, size));
        s.arg_check(fits(pos, size), 2, "data string too short")?;
        s.ensure_stack(2, "too many results")?;
        match opt {
            _ if is_integer_option(opt) => {
                let signed = opt.is_ascii_lowercase();
                s.push_number(read_integer(&data[pos..pos + size], header.little, signed));
                results += 1;
            }
            b'x' => {}
            b'f' => {
                let f = f32::from_ne_bytes(ordered(&data[pos..], header.little));
                s.push_number(f64::from(f));
                results += 1;
            }
            b'd' => {
                s.push_number(f64::from_ne_bytes(ordered(&data[pos..], header.little)));
                results += 1;
            }
            b'c' => {
                if size == 0 {
                    if results == 0 || !s.is_number(-1) {
                        return Err(Raise::error("format 'c0' needs a previous size"));
                    }
                    size = cast_u64(s.to_number(-1)) as usize;
                    s.pop(1);
                    results -= 1;
                    s.arg_check(fits(pos, size), 2, "data string too short")?;
                }
                s.push_bytes(&data[pos..pos + size]);
                results += 1;
            }
            b's' => {
                let Some(nul) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(Raise::error("unfinished string in data"));
                };
                size = nul + 1;
                s.push_bytes(&data[pos..pos + nul]);
                results += 1;
            }
            _ => fmt.control(opt, &mut header)?,
        }
        pos = pos.wrapping_add(size);
    }
    s.push_integer(pos.wrapping_add(1) as i64);
    Ok(results + 1)
}

/// `struct.size(fmt)`: the bytes `pack` makes for a format of fixed size. Unknown letters and
/// digits count as nothing here.
fn size(s: &State) -> Result<c_int> {
    let mut fmt = Format::new(s.check_bytes(1)?);
    let mut header = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next_option() {
        let size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(padding(pos, &header, opt, size));
        if opt == b's' {
            return Err(Raise::arg(1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(Raise::arg(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut header)?;
        }
        pos = pos.wrapping_add(size);
    }
    s.push_integer(pos as i64);
    Ok(1)
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::{eval, eval_error};

    const HEX: &str = "local function hex(s) return (s:gsub('.', function(c) \
                       return string.format('%02x', c:byte()) end)) end ";

    fn hex(snippet: &str) -> String {
        eval(&format!("{HEX} return hex({snippet})"))
    }

    #[test]
    fn pack_layouts() {
        assert_eq!(hex("struct.pack('>i2<i2', 258, 258)"), "01020201");
        assert_eq!(hex("struct.pack('>!4bi3', -1, -2)"), "ff0000fffffe");
        assert_eq!(
            hex("struct.pack('!8bd', 1, 0)"),
            "01000000000000000000000000000000"
        );
        assert_eq!(
            hex("struct.pack('>I5i9', 300, -7)"),
            "000000012c00fffffffffffffff9"
        );
        assert_eq!(
            hex("struct.pack('sc2c0x', 'str', 'abc', 'whole')"),
            "73747200616277686f6c6500"
        );
        assert_eq!(hex("struct.pack('>f', 0.1)"), "3dcccccd");
        assert_eq!(hex("struct.pack('s\\0i', 'ab', 5)"), "616200");
        assert_eq!(hex("struct.pack('>L', 2^64)"), "0000000000000000");
        assert_eq!(hex("struct.pack('>L', 0/0)"), "8000000000000000");
        assert_eq!(hex("struct.pack('>L', -1.5)"), "ffffffffffffffff");
        assert_eq!(hex("struct.pack('s', 12)"), "313200");
    }

    #[test]
    fn unpack_values_and_next_position() {
        let all = |snippet: &str| eval(&format!("return table.concat({{{snippet}}}, ',')"));
        assert_eq!(all("struct.unpack('>i2<i2', '\\1\\2\\1\\2')"), "258,513,5");
        assert_eq!(all("struct.unpack('bc0', '\\3abcd')"), "abc,5");
        assert_eq!(
            all("struct.unpack('>!8bd', string.rep('\\0', 16))"),
            "0,0,17"
        );
        assert_eq!(all("struct.unpack('i9', string.rep('\\255', 9))"), "-1,10");
        assert_eq!(all("struct.unpack('s', 'ab\\0cd')"), "ab,4");
        assert_eq!(all("struct.unpack('B', 'xyz', 2)"), "121,3");
        assert_eq!(all("struct.unpack('<H>H', '\\1\\0\\0\\1')"), "1,1,5");
    }

    #[test]
    fn sizes() {
        assert_eq!(eval("return struct.size('z!8bd')"), "16");
        assert_eq!(eval("return struct.size('!8bi3i5')"), "11");
        assert_eq!(eval("return struct.size('bT')"), "9");
    }

    #[test]
    fn errors_match_redis() {
        let err = |snippet: &str| eval(&format!("return select(2, pcall({snippet}))"));
        assert_eq!(
            err("struct.pack, 'i40', 1"),
            "integral size 40 is larger than limit of 32"
        );
        assert_eq!(
            err("struct.pack, 'i99999999999', 1"),
            "integral size overflow"
        );
        assert_eq!(
            err("struct.pack, '!3i', 1"),
            "alignment 3 is not a power of 2"
        );
        assert_eq!(
            err("struct.pack, 'z', 1"),
            "bad argument #1 to '?' (invalid format option 'z')"
        );
        assert_eq!(
            err("struct.pack, 'c5', 'abc'"),
            "bad argument #3 to '?' (string too short)"
        );
        assert_eq!(
            err("struct.pack, 'i'"),
            "bad argument #2 to '?' (number expected, got nil)"
        );
        assert_eq!(
            err("struct.unpack, 'i', 'abcd', 0"),
            "bad argument #3 to '?' (offset must be 1 or greater)"
        );
        assert_eq!(
            err("struct.unpack, 'B', 'abcd', -1"),
            "bad argument #2 to '?' (data string too short)"
        );
        assert_eq!(
            err("struct.unpack, 'c0', 'abcd'"),
            "format 'c0' needs a previous size"
        );
        assert_eq!(
            err("struct.unpack, 's', 'abcd'"),
            "unfinished string in data"
        );
        assert_eq!(
            err("struct.size, 's'"),
            "bad argument #1 to '?' (option 's' has no fixed size)"
        );
        assert_eq!(
            eval_error("return struct.size('c0')"),
            "user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)"
        );
    }
}
