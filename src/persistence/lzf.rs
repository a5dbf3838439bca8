//! LZF compression as Redis uses it for RDB strings and DUMP payloads.
//!
//! The decompressor accepts any valid LZF stream. The compressor makes the same choices as the
//! liblzf build inside Redis (16-bit hash table indexed by a hash of the next three bytes,
//! "very fast" mode: after a back-reference only its last two positions are hashed), so that
//! DUMP payloads and RDB files carry the same bytes as redis-server's. The bit format:
//! a control byte below 32 starts a run of `ctrl + 1` literal bytes; otherwise its top 3 bits
//! are the match length - 2 (7 meaning "add the next byte"), its low 5 bits and the next byte
//! the distance - 1 back into the output.

/// Literal runs hold at most this many bytes.
const MAX_LIT: usize = 1 << 5;
/// Back-references reach at most this far.
const MAX_OFF: usize = 1 << 13;
/// Longest back-reference: 7 + 255 + 2 bytes.
const MAX_REF: usize = (1 << 8) + (1 << 3);
const HASH_BITS: u32 = 16;

/// Table slot of the three bytes whose big-endian value is `v` (only its low 24 bits count).
#[inline]
fn slot(v: u32) -> usize {
    ((v >> (24 - HASH_BITS)).wrapping_sub(v.wrapping_mul(5)) & ((1 << HASH_BITS) - 1)) as usize
}

thread_local! {
    /// The hash table, kept per thread and all zeros between calls: allocating and zeroing
    /// its 256 KiB for every string cost far more than compressing a short value (a save's
    /// time, and the time a client capturing a snapshot chunk holds its shard).
    static TABLE: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Compresses `input` into at most `max_out` bytes; None when it would not fit (the caller
/// then stores the data as is, as Redis does).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.len() < 3 {
        return None;
    }
    TABLE.with_borrow_mut(|table| {
        if table.is_empty() {
            table.resize(1 << HASH_BITS, 0);
        }
        let out = compress_with(input, max_out, table);
        // Only the slots of the input's 3-byte windows were written: zero them again.
        for w in input.windows(3) {
            table[slot(u32::from_be_bytes([0, w[0], w[1], w[2]]))] = 0;
        }
        out
    })
}

/// `compress` with `table` (all zeros) as the hash table. Each slot holds the latest position
/// with that hash; 0 means none (position 0 is never a usable reference, as in liblzf).
fn compress_with(input: &[u8], max_out: usize, table: &mut [u32]) -> Option<Vec<u8>> {
    let n = input.len();
    // Room for the few bytes the final literal run may add past the checked limit.
    let mut out = vec![0u8; max_out + 8];
    let out_end = max_out;
    let (mut ip, mut op, mut lit) = (0usize, 1usize, 0usize);
    let mut h: u32 = ((input[0] as u32) << 8) | input[1] as u32;
    while ip + 2 < n {
        h = (h << 8) | input[ip + 2] as u32;
        let s = slot(h);
        let r = table[s] as usize;
        table[s] = ip as u32;
        if r > 0
            && r < ip
            && ip - r - 1 < MAX_OFF
            && input[r + 2] == input[ip + 2]
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1]
        {
            let off = ip - r - 1;
            let maxlen = (n - ip - 2).min(MAX_REF);
            if op + 4 >= out_end && op - usize::from(lit == 0) + 4 >= out_end {
                return None;
            }
            // Close the literal run (or drop its unused header byte).
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            let mut len = 2;
            'extend: {
                // liblzf compares the first 16 bytes past the third without the length
                // bound when more than 16 remain; its matches can end one or two bytes past
                // `maxlen` that way, and so do ours.
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            break 'extend;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2; // the offset byte, then the header of the next literal run
            lit = 0;
            ip += len + 1;
            if ip + 2 >= n {
                break;
            }
            // Hash the last two positions of the match.
            ip -= 2;
            h = ((input[ip] as u32) << 8) | input[ip + 1] as u32;
            for _ in 0..2 {
                h = (h << 8) | input[ip + 2] as u32;
                table[slot(h)] = ip as u32;
                ip += 1;
            }
        } else {
            if op >= out_end {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < n {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Decompresses `input`, which must expand to exactly `expected` bytes.
pub fn decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, &'static str> {
    let mut out: Vec<u8> = Vec::with_capacity(expected);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < MAX_LIT {
            let run = ctrl + 1;
            if ip + run > input.len() {
                return Err("LZF literal run past the end of the input");
            }
            if out.len() + run > expected {
                return Err("LZF data longer than announced");
            }
            out.extend_from_slice(&input[ip..ip + run]);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or("LZF back-reference cut short")? as usize;
                ip += 1;
            }
            len += 2;
            let low = *input.get(ip).ok_or("LZF back-reference cut short")? as usize;
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            if back > out.len() {
                return Err("LZF back-reference before the start of the data");
            }
            if out.len() + len > expected {
                return Err("LZF data longer than announced");
            }
            let from = out.len() - back;
            // Overlapping copies repeat bytes, so copy one at a time.
            for i in 0..len {
                let b = out[from + i];
                out.push(b);
            }
        }
    }
    if out.len() != expected {
        return Err("LZF data shorter than announced");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let samples: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"hello world hello world hello world hello world".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            (0..70000u32).map(|i| (i * 7 % 13) as u8).collect(),
            (0..3000u32).map(|_| fastrand::u8(..4)).collect(),
        ];
        for s in samples {
            let c = compress(&s, s.len() - 4).expect("compressible");
            assert!(c.len() < s.len());
            assert_eq!(decompress(&c, s.len()).unwrap(), s);
        }
    }

    #[test]
    fn the_shared_table_is_left_clean() {
        let noise: Vec<u8> = (0..3000u32).map(|_| fastrand::u8(..4)).collect();
        let text = b"hello world hello world hello world hello world".to_vec();
        let fresh = compress_with(&text, text.len() - 4, &mut vec![0; 1 << HASH_BITS]);
        assert!(compress(&noise, noise.len() - 4).is_some());
        let random: Vec<u8> = (0..100).map(|_| fastrand::u8(..)).collect();
        assert!(compress(&random, 96).is_none());
        assert_eq!(compress(&text, text.len() - 4), fresh);
        TABLE.with_borrow(|t| assert!(t.iter().all(|&x| x == 0)));
    }

    #[test]
    fn incompressible_data_is_refused() {
        let s: Vec<u8> = (0..100).map(|_| fastrand::u8(..)).collect();
        assert!(compress(&s, s.len() - 4).is_none());
    }

    #[test]
    fn known_redis_output() {
        // redis-server 7.0 stores "a" x 30 as this LZF blob in DUMP.
        let c = compress(&[b'a'; 30], 26).unwrap();
        assert_eq!(
            c,
            vec![0x01, b'a', b'a', 0xe0, 0x11, 0x00, 0x01, b'a', b'a']
        );
    }

    #[test]
    fn corrupt_input_is_an_error() {
        assert!(decompress(&[0x20, 0x05], 10).is_err());
        assert!(decompress(&[0x05, b'a'], 6).is_err());
        assert!(decompress(&[0x00, b'a'], 2).is_err());
    }
}
