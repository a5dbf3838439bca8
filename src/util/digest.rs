//! Building blocks of Redis's `DEBUG DIGEST` / `DEBUG DIGEST-VALUE`
//! (SHA-1 based, order-independent across keys).
//!
//! Definitions (Redis `debug.c`):
//! * `xorDigest(d, data)`: `d ^= SHA1(data)` (order-independent);
//! * `mixDigest(d, data)`: `d = SHA1(d ^ SHA1(data))` (order-dependent).
//!
//! A string key's digest, as computed for `DEBUG DIGEST`:
//! 1. `kd = [0; 20]`;
//! 2. `mixDigest(kd, key)`;
//! 3. `mixDigest(kd, htonl(type))` – the object type as a 4-byte
//!    big-endian integer, 0 for strings;
//! 4. `mixDigest(kd, value)` – the value's bytes; integer-encoded strings
//!    are digested as their decimal text;
//! 5. if the key has an expire: `xorDigest(kd, "!!expire!!")` – only the
//!    presence of a TTL counts, not its value.
//!
//! `DEBUG DIGEST-VALUE key` replies steps 3-5 only (no key mix), or 40
//! zeros for a missing key.
//!
//! The dataset digest starts as 20 zero bytes; for every non-empty
//! database (in index order) `mixDigest(total, htonl(db_index))`, then
//! for every key `xorDigest(total, kd)` (i.e. `total ^= SHA1(kd)`). An
//! empty dataset therefore digests to 40 zeros.

use sha1_smol::Sha1;

/// Redis object type codes as mixed into digests.
pub const OBJ_STRING: u32 = 0;
pub const OBJ_LIST: u32 = 1;
pub const OBJ_SET: u32 = 2;
pub const OBJ_ZSET: u32 = 3;
pub const OBJ_HASH: u32 = 4;
pub const OBJ_STREAM: u32 = 6;

fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::from(data).digest().bytes()
}

/// `xorDigest`: XORs SHA1(`data`) into `digest`.
pub fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    for (d, h) in digest.iter_mut().zip(h) {
        *d ^= h;
    }
}

/// `mixDigest`: `digest = SHA1(digest ^ SHA1(data))`.
pub fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(&digest[..]);
}

/// Lowercase hex rendering (the `DEBUG DIGEST` reply text).
pub fn digest_hex(d: &[u8; 20]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(40);
    for b in d {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Starts an object digest: mixes in the object type (`htonl(type)`).
/// Follow with the type-specific mixing and finish with
/// [`digest_add_expire`] if the key has a TTL.
pub fn object_digest_begin(digest: &mut [u8; 20], obj_type: u32) {
    mix_digest(digest, &obj_type.to_be_bytes());
}

/// Marks a key with an expire (`xorDigest(d, "!!expire!!")`).
pub fn digest_add_expire(digest: &mut [u8; 20]) {
    xor_digest(digest, b"!!expire!!");
}

/// `DEBUG DIGEST-VALUE` of a string value (no key mixed in). Only the
/// presence of an expire matters.
pub fn string_value_digest(value: &[u8], has_expire: bool) -> [u8; 20] {
    let mut d = [0u8; 20];
    object_digest_begin(&mut d, OBJ_STRING);
    mix_digest(&mut d, value);
    if has_expire {
        digest_add_expire(&mut d);
    }
    d
}

/// Per-key digest of a string key as used by `DEBUG DIGEST` (key mixed,
/// then type, then value, then the expire marker). `expire_ms` is the
/// absolute expire time; its value does not affect the digest, only its
/// presence.
pub fn string_key_digest(key: &[u8], value: &[u8], expire_ms: Option<i64>) -> [u8; 20] {
    let mut d = [0u8; 20];
    mix_digest(&mut d, key);
    object_digest_begin(&mut d, OBJ_STRING);
    mix_digest(&mut d, value);
    if expire_ms.is_some() {
        digest_add_expire(&mut d);
    }
    d
}

/// Call once per non-empty database, in index order, before adding its
/// keys (`mixDigest(total, htonl(db))`).
pub fn dataset_digest_db(total: &mut [u8; 20], db_index: u32) {
    mix_digest(total, &db_index.to_be_bytes());
}

/// Adds one key digest to the dataset digest (`xorDigest(total, kd)`).
pub fn dataset_digest_add(total: &mut [u8; 20], key_digest: &[u8; 20]) {
    xor_digest(total, key_digest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 20]) -> String {
        digest_hex(&d)
    }

    #[test]
    fn primitives() {
        let mut d = [0u8; 20];
        xor_digest(&mut d, b"abc");
        assert_eq!(digest_hex(&d), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let mut m = [0u8; 20];
        mix_digest(&mut m, b"abc");
        assert_eq!(m, sha1(&d));
        assert_eq!(digest_hex(&[0; 20]), "0".repeat(40));
    }

    // Expected values from redis-server 7.0.15 (--enable-debug-command yes).
    #[test]
    fn matches_redis_two_keys() {
        // SET a 1; SET b hello; PEXPIREAT b 4000000000000
        let a = string_key_digest(b"a", b"1", None);
        let b = string_key_digest(b"b", b"hello", Some(4_000_000_000_000));
        let mut total = [0u8; 20];
        dataset_digest_db(&mut total, 0);
        dataset_digest_add(&mut total, &a);
        dataset_digest_add(&mut total, &b);
        assert_eq!(
            digest_hex(&total),
            "669dc7955c0119edb82e7cfeb40ea4a28f89f902"
        );
        // DEBUG DIGEST-VALUE a b
        assert_eq!(
            hex(string_value_digest(b"1", false)),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );
        assert_eq!(
            hex(string_value_digest(b"hello", true)),
            "d037c4eb8a8b36b602fbced4000daeab0714c1e3"
        );
        // Order independence.
        let mut t2 = [0u8; 20];
        dataset_digest_db(&mut t2, 0);
        dataset_digest_add(&mut t2, &b);
        dataset_digest_add(&mut t2, &a);
        assert_eq!(t2, total);
        // Expire value is irrelevant (PEXPIREAT b 4000000000001: same).
        let b2 = string_key_digest(b"b", b"hello", Some(4_000_000_000_001));
        assert_eq!(b2, b);
    }

    #[test]
    fn matches_redis_single_and_persist() {
        // SET a 1 only.
        let mut total = [0u8; 20];
        dataset_digest_db(&mut total, 0);
        dataset_digest_add(&mut total, &string_key_digest(b"a", b"1", None));
        assert_eq!(
            digest_hex(&total),
            "943d800368fb9c0e951138f1bc0e313ac769d91f"
        );
        // After PERSIST b.
        dataset_digest_add(&mut total, &string_key_digest(b"b", b"hello", None));
        assert_eq!(
            digest_hex(&total),
            "2539797405e828ad7a3aa48c536b3eaf2803a421"
        );
        assert_eq!(
            hex(string_value_digest(b"hello", false)),
            "36b23a1456b2dce2c3ed252c456761301dba8060"
        );
    }

    #[test]
    fn matches_redis_multi_db() {
        // db0: "" -> "", big -> "x"*100, n -> "-12345678901"; db1: k -> v
        let big = vec![b'x'; 100];
        let db0 = [
            string_key_digest(b"", b"", None),
            string_key_digest(b"big", &big, None),
            string_key_digest(b"n", b"-12345678901", None),
        ];
        let mut total = [0u8; 20];
        dataset_digest_db(&mut total, 0);
        for k in &db0 {
            dataset_digest_add(&mut total, k);
        }
        assert_eq!(
            digest_hex(&total),
            "d57b87951f99f2e5ab3f6ccd00634e3aceafc5e1"
        );
        assert_eq!(
            hex(string_value_digest(b"", false)),
            "8b3447c33a834b810e3e181b6fd6a2ee1020921c"
        );
        assert_eq!(
            hex(string_value_digest(&big, false)),
            "6942b9b71aaff9a398b7a2f898756f5e28dd3cd1"
        );
        assert_eq!(
            hex(string_value_digest(b"-12345678901", false)),
            "f92e6c31b87d186bc0e3afea81091891331923db"
        );
        dataset_digest_db(&mut total, 1);
        dataset_digest_add(&mut total, &string_key_digest(b"k", b"v", None));
        assert_eq!(
            digest_hex(&total),
            "176c1ecbbc34eea35f115a9791f633d6f908372e"
        );
        // db1 only (db0 flushed).
        let mut only1 = [0u8; 20];
        dataset_digest_db(&mut only1, 1);
        dataset_digest_add(&mut only1, &string_key_digest(b"k", b"v", None));
        assert_eq!(
            digest_hex(&only1),
            "3efb24844f90383a755c8c3b3dd4be484730a360"
        );
    }
}
