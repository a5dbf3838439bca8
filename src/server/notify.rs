//! Keyspace notifications (notify-keyspace-events): commands record events on their `DbView`
//! while they run; `publish` turns them into messages on `__keyspace@<db>__:<key>` and
//! `__keyevent@<db>__:<event>` once the command is done, in the order they happened.

use super::Server;
use crate::storage::KeyEvent;

/// Channel kinds (K, E) and event classes, as the letters of notify-keyspace-events.
pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 12;
pub const NEW: u32 = 1 << 13;

/// What "A" stands for: every class except key-miss and new (as in Redis).
const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The flags of a notify-keyspace-events value. Events are only recorded when at least one
/// channel kind (K or E) is on, so the result is 0 (nothing to do) otherwise.
pub fn parse_flags(text: &str) -> u32 {
    let mut flags = 0;
    for c in text.chars() {
        flags |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => 0,
        };
    }
    if flags & (KEYSPACE | KEYEVENT) == 0 {
        0
    } else {
        flags
    }
}

/// Publishes recorded events (and empties the list).
pub fn publish(server: &Server, flags: u32, events: &mut Vec<KeyEvent>) {
    let limits = server.pubsub_limits();
    let pubsub = server.pubsub.lock();
    let mut channel = Vec::with_capacity(64);
    for ev in events.drain(..) {
        if flags & KEYSPACE != 0 {
            channel.clear();
            channel.extend_from_slice(b"__keyspace@");
            channel.extend_from_slice(itoa::Buffer::new().format(ev.db).as_bytes());
            channel.extend_from_slice(b"__:");
            channel.extend_from_slice(&ev.key);
            pubsub.publish(false, &channel, ev.event.as_bytes(), limits);
        }
        if flags & KEYEVENT != 0 {
            channel.clear();
            channel.extend_from_slice(b"__keyevent@");
            channel.extend_from_slice(itoa::Buffer::new().format(ev.db).as_bytes());
            channel.extend_from_slice(b"__:");
            channel.extend_from_slice(ev.event.as_bytes());
            pubsub.publish(false, &channel, &ev.key, limits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_need_a_channel_kind() {
        assert_eq!(parse_flags("A"), 0);
        assert_eq!(parse_flags(""), 0);
        assert_eq!(parse_flags("Kg"), KEYSPACE | GENERIC);
        let all = parse_flags("AKE");
        assert_eq!(all & (KEY_MISS | NEW), 0);
        assert_ne!(all & EXPIRED, 0);
        assert_eq!(parse_flags("Em") & KEY_MISS, KEY_MISS);
    }
}
