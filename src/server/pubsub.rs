//! The pub/sub registry: channel and pattern subscribers, each reached through its connection's
//! message queue. A subscriber whose queue holds more than the pubsub class of
//! client-output-buffer-limit allows is disconnected, as Redis does, so a slow reader cannot
//! grow the server's memory without bound.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

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
    /// Unix ms since the queue has been above the soft limit; 0 when it is not.
    pub over_soft_since: Arc<AtomicI64>,
    pub info: Arc<ClientInfo>,
}

/// client-output-buffer-limit for the pubsub class: hard bytes, soft bytes, soft seconds.
#[derive(Clone, Copy, Default)]
pub struct Limits {
    pub hard: usize,
    pub soft: usize,
    pub soft_secs: i64,
}

impl Mailbox {
    /// Queues a message; disconnects the subscriber once it is over its limits. Returns
    /// whether the message was queued.
    pub fn deliver(&self, msg: Message, limits: Limits) -> bool {
        if self.info.killed.load(Ordering::Relaxed) {
            return false;
        }
        let total = self.queued.fetch_add(msg.size(), Ordering::Relaxed) + msg.size();
        if limits.hard > 0 && total > limits.hard {
            tracing::info!(
                "client {} closed for overcoming of output buffer limits",
                self.info.addr
            );
            self.info.kill();
            return false;
        }
        if limits.soft > 0 && total > limits.soft {
            let now = unix_ms();
            let since = self.over_soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.over_soft_since.store(now, Ordering::Relaxed);
            } else if now - since > limits.soft_secs * 1000 {
                tracing::info!(
                    "client {} closed for overcoming of output buffer limits",
                    self.info.addr
                );
                self.info.kill();
                return false;
            }
        } else {
            self.over_soft_since.store(0, Ordering::Relaxed);
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
