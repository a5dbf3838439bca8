//! Redis's RDB format: the file written by SAVE/BGSAVE and read at start-up, and the object
//! serialization DUMP and RESTORE share with it.
//!
//! - `encode`: values and whole files, as redis-server 7.0 writes them (RDB version 10).
//! - `decode`: files and payloads of RDB versions 1 to 12, every encoding Redis has written.
//! - `listpack`: Redis's listpack (written and read) and the older ziplist, zipmap and intset
//!   blobs (read).
//!
//! Lengths use Redis's variable encoding: two top bits 00 (6-bit length), 01 (14-bit, big
//! endian), 10 (0x80: 32-bit, 0x81: 64-bit big endian) or 11 (a special string encoding:
//! 8/16/32-bit integer or LZF). Integers inside values are little endian.

pub mod decode;
pub mod encode;
pub mod listpack;

/// The version written (Redis 7.0) and the newest one read (Redis 7.4).
pub const RDB_VERSION: u16 = 10;
pub const RDB_MAX_READ_VERSION: u16 = 12;

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;
/// Redis 7.4's hashes with field expiration (types 22 to 25), recognised to be refused clearly.
pub const TYPE_HASH_METADATA_PRE_GA: u8 = 22;
pub const TYPE_HASH_LISTPACK_EX: u8 = 25;

pub const OP_FUNCTION2: u8 = 245;
pub const OP_FUNCTION_PRE_GA: u8 = 246;
pub const OP_MODULE_AUX: u8 = 247;
pub const OP_IDLE: u8 = 248;
pub const OP_FREQ: u8 = 249;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_EXPIRETIME: u8 = 253;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;
/// Redis 7.4's cluster slot info (read and skipped).
pub const OP_SLOT_INFO: u8 = 244;

/// Special string encodings (length byte 11xxxxxx).
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// Quicklist node containers.
pub const NODE_PLAIN: u64 = 1;
pub const NODE_PACKED: u64 = 2;

/// Why a file or payload was refused, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for LoadError {}

/// CRC-64 as Redis computes it (Jones polynomial, reflected, no final xor).
pub fn crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Redis, data)
}

/// An incremental CRC-64 of Redis's flavour.
pub fn crc64_digest() -> crc_fast::Digest {
    crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis)
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc64_is_redis_flavour() {
        // The check value from Redis's crc64.c self-test.
        assert_eq!(super::crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
    }
}
