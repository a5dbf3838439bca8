//! The pub/sub registry: channel and pattern subscribers, each reached through its connection's
//! message queue. A subscriber whose queue holds more than the pubsub class of
//! client-output-buffer-limit allows is disconnected, as Redis does, so a slow reader cannot
//! grow the server's memory without bound. The limit check itself (`Limits`) is shared with the
//! connection, which applies it to the replies a client leaves unread.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc::UnboundedSender;

use super::client::ClientInfo;
use super::unix_ms;
use crate::util::glob::glob_match;

/// A message on its way to one subscriber.
pub enum Message {
    Message {
        channel: Arc<[u8]>,
        payload: Arc<[u8]>,
    },
    PMessage {
        pattern: Arc<[u8]>,
        channel: Arc<[u8]>,
        payload: Arc<[u8]>,
    },
    SMessage {
        channel: Arc<[u8]>,
        payload: Arc<[u8]>,
    },
    /// A MONITOR line (a status reply).
    Monitor(Arc<[u8]>),
    /// CLIENT TRACKING: keys to drop from the client's cache (None: all of them).
    Invalidate(Option<Arc<[Box<[u8]>]>>),
}

impl Message {
    pub fn size(&self) -> usize {
        match self {
            Message::Message { channel, payload } | Message::SMessage { channel, payload } => {
                channel.len() + payload.len() + 32
            }
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => pattern.len() + channel.len() + payload.len() + 48,
            Message::Monitor(line) => line.len() + 3,
            Message::Invalidate(keys) => {
                48 + keys
                    .as_ref()
                    .map_or(0, |k| k.iter().map(|k| k.len() + 16).sum())
            }
        }
    }
}

/// A connection's mailbox, with the bytes queued in it for output-buffer limits.
#[derive(Clone)]
pub struct Mailbox {
    pub tx: UnboundedSender<Message>,
    pub queued: Arc<AtomicUsize>,
    pub info: Arc<ClientInfo>,
}

/// client-output-buffer-limit of one client class: hard bytes, soft bytes, soft seconds
/// (0 bytes: no such limit).
#[derive(Clone, Copy, Default, Debug)]
pub struct Limits {
    pub hard: usize,
    pub soft: usize,
    pub soft_secs: i64,
}

impl Limits {
    pub fn from_config(values: &[AtomicU64; 3]) -> Limits {
        let v = |i: usize| values[i].load(Ordering::Relaxed);
        Limits {
            hard: v(0) as usize,
            soft: v(1) as usize,
            soft_secs: v(2) as i64,
        }
    }

    pub fn is_unlimited(&self) -> bool {
        self.hard == 0 && self.soft == 0
    }

    /// Whether a client with `used` bytes of pending output must be closed (Redis's
    /// checkClientOutputBufferLimits): at or past the hard limit, or at or past the soft limit
    /// for more than its seconds. Tracks when the soft limit was first reached in the client's
    /// `obuf_soft_since` (unix seconds, 0 while under it).
    pub fn reached(&self, used: usize, info: &ClientInfo) -> bool {
        let hard = self.hard > 0 && used >= self.hard;
        if self.soft == 0 || used < self.soft {
            info.obuf_soft_since.store(0, Ordering::Relaxed);
            return hard;
        }
        let now = unix_ms() / 1000;
        let since = info.obuf_soft_since.load(Ordering::Relaxed);
        if since == 0 {
            info.obuf_soft_since.store(now, Ordering::Relaxed);
            return hard;
        }
        hard || now - since > self.soft_secs
    }

    /// Checks `used` against the limits and closes the client if they are reached; returns
    /// whether it was closed.
    pub fn enforce(&self, used: usize, info: &ClientInfo) -> bool {
        if !self.reached(used, info) {
            return false;
        }
        tracing::warn!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            info.id,
            info.addr
        );
        info.kill();
        true
    }
}

impl Mailbox {
    /// Queues a message; disconnects the subscriber once its output (queued messages plus
    /// replies it has not read) is over its limits. Returns whether the message was queued.
    pub fn deliver(&self, msg: Message, limits: Limits) -> bool {
        if self.info.killed.load(Ordering::Relaxed) {
            return false;
        }
        let queued = self.queued.fetch_add(msg.size(), Ordering::Relaxed) + msg.size();
        let used = queued + self.info.output_buf.load(Ordering::Relaxed);
        if limits.enforce(used, &self.info) {
            return false;
        }
        self.tx.send(msg).is_ok()
    }
}

#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, HashMap<u64, Mailbox>>,
    patterns: HashMap<Vec<u8>, HashMap<u64, Mailbox>>,
    shard_channels: HashMap<Vec<u8>, HashMap<u64, Mailbox>>,
}

/// Which kind of subscription.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    fn table(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, HashMap<u64, Mailbox>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// The channels, patterns and shard channels of each subscriber `wanted` accepts (ACL
    /// SETUSER checks them against a user's new channel rules).
    pub fn subscriptions_of(
        &self,
        wanted: impl Fn(u64) -> bool,
    ) -> HashMap<u64, [Vec<Vec<u8>>; 3]> {
        let mut out: HashMap<u64, [Vec<Vec<u8>>; 3]> = HashMap::new();
        for (slot, table) in [&self.channels, &self.patterns, &self.shard_channels]
            .into_iter()
            .enumerate()
        {
            for (name, subs) in table {
                for id in subs.keys().filter(|id| wanted(**id)) {
                    out.entry(*id).or_default()[slot].push(name.clone());
                }
            }
        }
        out
    }

    pub fn subscribe(&mut self, kind: Kind, name: &[u8], mailbox: &Mailbox) {
        self.table(kind)
            .entry(name.to_vec())
            .or_default()
            .insert(mailbox.info.id, mailbox.clone());
    }

    pub fn unsubscribe(&mut self, kind: Kind, name: &[u8], client_id: u64) {
        let table = self.table(kind);
        if let Some(subs) = table.get_mut(name) {
            subs.remove(&client_id);
            if subs.is_empty() {
                table.remove(name);
            }
        }
    }

    /// PUBLISH / SPUBLISH: the number of clients that received the message.
    pub fn publish(&self, shard: bool, channel: &[u8], payload: &[u8], limits: Limits) -> usize {
        let channel: Arc<[u8]> = channel.into();
        let payload: Arc<[u8]> = payload.into();
        let mut receivers = 0;
        let direct = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        if let Some(subs) = direct.get(&*channel) {
            for m in subs.values() {
                let msg = if shard {
                    Message::SMessage {
                        channel: channel.clone(),
                        payload: payload.clone(),
                    }
                } else {
                    Message::Message {
                        channel: channel.clone(),
                        payload: payload.clone(),
                    }
                };
                receivers += m.deliver(msg, limits) as usize;
            }
        }
        if !shard {
            for (pattern, subs) in &self.patterns {
                if !glob_match(pattern, &channel, false) {
                    continue;
                }
                let pattern: Arc<[u8]> = pattern.as_slice().into();
                for m in subs.values() {
                    let msg = Message::PMessage {
                        pattern: pattern.clone(),
                        channel: channel.clone(),
                        payload: payload.clone(),
                    };
                    receivers += m.deliver(msg, limits) as usize;
                }
            }
        }
        receivers
    }

    /// The mailbox of client `id` if it subscribes to `channel`.
    pub fn mailbox_of(&self, channel: &[u8], id: u64) -> Option<Mailbox> {
        self.channels.get(channel)?.get(&id).cloned()
    }

    /// Channels with at least one subscriber, optionally matching a pattern (PUBSUB CHANNELS).
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let table = match kind {
            Kind::Shard => &self.shard_channels,
            _ => &self.channels,
        };
        table
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    pub fn subscribers(&self, kind: Kind, channel: &[u8]) -> usize {
        let table = match kind {
            Kind::Shard => &self.shard_channels,
            _ => &self.channels,
        };
        table.get(channel).map_or(0, HashMap::len)
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.len()
    }
}
