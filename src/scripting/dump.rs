//! FUNCTION DUMP / RESTORE payloads in Redis's format: for each library the RDB function opcode
//! and its code as an RDB string (LZF-compressed like Redis's when rdbcompression is on), then
//! the RDB version (2 bytes, little endian) and a CRC-64 of everything before it. The RDB codec
//! of `persistence::rdb` does the strings and the checksum.

use crate::persistence::rdb::{self, OP_FUNCTION_PRE_GA, OP_FUNCTION2, RDB_VERSION};

pub fn encode<'a>(codes: impl Iterator<Item = &'a [u8]>, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OP_FUNCTION2);
        rdb::encode::write_string(&mut out, code, compress).expect("writing to memory cannot fail");
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = rdb::crc64(&out);
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
    if version > RDB_VERSION || rdb::crc64(&payload[..footer + 2]) != u64::from_le_bytes(crc) {
        return Err(BAD);
    }
    let body = &payload[..footer];
    let mut r = rdb::decode::Reader::with_buffer(body, body.len());
    let mut codes = Vec::new();
    while r.offset() < body.len() as u64 {
        match r.u8().map_err(|_| "Failed loading library payload")? {
            OP_FUNCTION2 => {}
            OP_FUNCTION_PRE_GA => return Err("Pre-GA function format not supported"),
            _ => return Err("given type is not a function"),
        }
        codes.push(r.string().map_err(|_| "Failed loading library payload")?);
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let codes: Vec<&[u8]> = vec![b"#!lua name=a\nx", &[b'y'; 300]];
        for compress in [false, true] {
            let payload = encode(codes.iter().copied(), compress);
            assert_eq!(decode(&payload).unwrap(), codes);
            let mut broken = payload.clone();
            broken[3] ^= 1;
            assert!(decode(&broken).is_err());
        }
    }

    #[test]
    fn reads_a_redis_payload() {
        // FUNCTION DUMP of redis-server 7.0 with one library.
        let code = b"#!lua name=e1\nredis.register_function('g', function() return 2 end)";
        let mut p = vec![0xf5, 0x40, code.len() as u8];
        p.extend_from_slice(code);
        p.extend_from_slice(&[10, 0]);
        let crc = rdb::crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&p).unwrap(), vec![code.to_vec()]);
    }

    #[test]
    fn truncated_bodies_are_refused() {
        let mut p = vec![0xf5, 0x20, b'x'];
        p.extend_from_slice(&[10, 0]);
        let crc = rdb::crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&p), Err("Failed loading library payload"));
    }
}
