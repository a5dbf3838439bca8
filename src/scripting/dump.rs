//! FUNCTION DUMP / RESTORE payloads in Redis's format: for each library the RDB function opcode
//! and its code as an RDB string, then the RDB version (2 bytes, little endian) and a CRC-64
//! (Jones polynomial, little endian) of everything before it. Redis may LZF-compress the
//! strings; ferrodis reads compressed strings and writes plain ones, which Redis reads too.

/// RDB_OPCODE_FUNCTION2.
const OPCODE_FUNCTION: u8 = 245;
/// RDB_OPCODE_FUNCTION_PRE_GA (release candidates of 7.0).
const OPCODE_FUNCTION_PRE_GA: u8 = 246;
/// The RDB version of Redis 7.0.
const RDB_VERSION: u16 = 10;

pub fn encode<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION);
        write_len(&mut out, code.len() as u64);
        out.extend_from_slice(code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a payload, or Redis's error text.
pub fn decode(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    const BAD: &str = "DUMP payload version or checksum are wrong";
    if payload.len() < 10 {
        return Err(BAD);
    }
    let footer = payload.len() - 10;
    let version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&payload[footer + 2..]);
    if version > RDB_VERSION || crc64(0, &payload[..footer + 2]) != u64::from_le_bytes(crc) {
        return Err(BAD);
    }
    let body = &payload[..footer];
    let mut pos = 0;
    let mut codes = Vec::new();
    while pos < body.len() {
        match body[pos] {
            OPCODE_FUNCTION => {}
            OPCODE_FUNCTION_PRE_GA => return Err("Pre-GA function format not supported"),
            _ => return Err("given type is not a function"),
        }
        pos += 1;
        codes.push(read_string(body, &mut pos).ok_or("Failed loading library payload")?);
    }
    Ok(codes)
}

fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// An RDB length, or the special encoding it announces (`Err(kind)`).
fn read_len(buf: &[u8], pos: &mut usize) -> Option<Result<u64, u8>> {
    let first = *buf.get(*pos)?;
    *pos += 1;
    Some(match first >> 6 {
        0 => Ok((first & 0x3f) as u64),
        1 => {
            let next = *buf.get(*pos)?;
            *pos += 1;
            Ok((((first & 0x3f) as u64) << 8) | next as u64)
        }
        2 if first == 0x80 => {
            let b = buf.get(*pos..*pos + 4)?;
            *pos += 4;
            Ok(u32::from_be_bytes(b.try_into().ok()?) as u64)
        }
        2 if first == 0x81 => {
            let b = buf.get(*pos..*pos + 8)?;
            *pos += 8;
            Ok(u64::from_be_bytes(b.try_into().ok()?))
        }
        2 => return None,
        _ => Err(first & 0x3f),
    })
}

fn read_string(buf: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    match read_len(buf, pos)? {
        Ok(n) => {
            let s = buf.get(*pos..*pos + n as usize)?.to_vec();
            *pos += n as usize;
            Some(s)
        }
        // Integers stored as 1, 2 or 4 little-endian bytes.
        Err(k @ 0..=2) => {
            let width = 1usize << k;
            let b = buf.get(*pos..*pos + width)?;
            *pos += width;
            let v = match k {
                0 => b[0] as i8 as i64,
                1 => i16::from_le_bytes([b[0], b[1]]) as i64,
                _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            };
            Some(v.to_string().into_bytes())
        }
        Err(3) => {
            let clen = read_len(buf, pos)?.ok()? as usize;
            let len = read_len(buf, pos)?.ok()? as usize;
            let data = buf.get(*pos..*pos + clen)?;
            *pos += clen;
            lzf_decompress(data, len)
        }
        Err(_) => None,
    }
}

/// LZF decompression (liblzf's format, which Redis uses for RDB strings).
fn lzf_decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            out.extend_from_slice(input.get(i..i + run)?);
            i += run;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *input.get(i)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..n + 2 {
                let c = out[start + k];
                out.push(c);
            }
        }
    }
    (out.len() == len).then_some(out)
}

/// CRC-64 with the Jones polynomial, reflected, as Redis's crc64.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u64; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u64;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    for &b in data {
        crc = table[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_check_value() {
        // Redis's crc64 test vector.
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn round_trip() {
        let codes: Vec<&[u8]> = vec![b"#!lua name=a\nx", &[b'y'; 300]];
        let payload = encode(codes.iter().copied());
        assert_eq!(decode(&payload).unwrap(), codes);
        let mut broken = payload.clone();
        broken[3] ^= 1;
        assert!(decode(&broken).is_err());
    }

    #[test]
    fn reads_a_redis_payload() {
        // FUNCTION DUMP of redis-server 7.0 with one library.
        let code = b"#!lua name=e1\nredis.register_function('g', function() return 2 end)";
        let mut p = vec![0xf5, 0x40, code.len() as u8];
        p.extend_from_slice(code);
        p.extend_from_slice(&[10, 0]);
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&p).unwrap(), vec![code.to_vec()]);
    }

    #[test]
    fn lzf() {
        // "aaaaaaaaaa": a literal 'a' then a back-reference of length 9 at distance 1.
        assert_eq!(lzf_decompress(&[0, b'a', (7 << 5), 0, 0], 11), None);
        assert_eq!(
            lzf_decompress(&[0, b'a', (7 << 5), 0, 0], 10),
            Some(b"aaaaaaaaaa".to_vec())
        );
    }
}
