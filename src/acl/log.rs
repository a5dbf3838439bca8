//! ACL LOG: recent denials, newest first. A denial like one of the last 10 entries (same
//! reason, context, object and user, within a minute) bumps that entry's count instead.

use std::collections::VecDeque;

use super::Reason;
use crate::protocol::Reply;

/// Where the denied command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

struct Entry {
    count: u64,
    reason: Reason,
    context: Context,
    object: Vec<u8>,
    username: Vec<u8>,
    time_ms: i64,
    client_info: String,
}

#[derive(Default)]
pub struct AclLog {
    entries: VecDeque<Entry>,
}

/// Entries within this many milliseconds of each other may be grouped.
const GROUPING_MS: i64 = 60_000;
/// How many recent entries a new denial is compared with.
const GROUPING_SCAN: usize = 10;

/// One denial to record.
pub struct Denied<'a> {
    pub reason: Reason,
    pub context: Context,
    pub object: &'a [u8],
    pub username: &'a [u8],
    pub client_info: String,
}

impl AclLog {
    pub fn add(&mut self, d: Denied, now_ms: i64, max_len: usize) {
        let similar = self.entries.iter().take(GROUPING_SCAN).position(|e| {
            e.reason == d.reason
                && e.context == d.context
                && (e.time_ms - now_ms).abs() <= GROUPING_MS
                && e.object == d.object
                && e.username == d.username
        });
        if let Some(i) = similar
            && let Some(mut e) = self.entries.remove(i)
        {
            e.count += 1;
            e.time_ms = now_ms;
            e.client_info = d.client_info;
            self.entries.push_front(e);
            return;
        }
        self.entries.push_front(Entry {
            count: 1,
            reason: d.reason,
            context: d.context,
            object: d.object.to_vec(),
            username: d.username.to_vec(),
            time_ms: now_ms,
            client_info: d.client_info,
        });
        self.entries.truncate(max_len);
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// ACL LOG [count]: the newest `count` entries as Redis's maps.
    pub fn reply(&self, reply: &mut Reply, count: usize, now_ms: i64) {
        let n = count.min(self.entries.len());
        reply.array(n);
        for e in self.entries.iter().take(n) {
            reply.map(7);
            reply.bulk(b"count");
            reply.int(e.count as i64);
            reply.bulk(b"reason");
            reply.bulk(match e.reason {
                Reason::Command => b"command",
                Reason::Key => b"key",
                Reason::Channel => b"channel",
                Reason::Auth => b"auth",
            });
            reply.bulk(b"context");
            reply.bulk(match e.context {
                Context::Toplevel => &b"toplevel"[..],
                Context::Multi => b"multi",
                Context::Lua => b"lua",
            });
            reply.bulk(b"object");
            reply.bulk(&e.object);
            reply.bulk(b"username");
            reply.bulk(&e.username);
            reply.bulk(b"age-seconds");
            reply.double((now_ms - e.time_ms) as f64 / 1000.0);
            reply.bulk(b"client-info");
            reply.bulk(e.client_info.as_bytes());
        }
    }
}
