//! Client-side caching (CLIENT TRACKING): the server remembers which clients read which keys
//! and sends them an "invalidate" message when one of those keys changes.
//!
//! - Default mode: the keys a tracking client reads are recorded in the shard of each key
//!   (`Shard::tracked`); a change takes the key's readers out of the table and notifies them
//!   once (as Redis, a client must read the key again to be told again).
//! - BCAST mode: nothing is recorded; every change to a key under one of the client's prefixes
//!   is sent.
//!
//! Changes are collected by the shards only while some client tracks (`Tracking::active`), so
//! the common case costs one relaxed load per command.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::Server;
use super::pubsub::{Limits, Mailbox, Message};

/// The channel a RESP2 client subscribes to for redirected invalidations.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

#[derive(Clone, Default)]
pub struct Options {
    pub redirect: u64,
    pub bcast: bool,
    pub prefixes: Vec<Vec<u8>>,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
}

struct Tracker {
    options: Options,
    /// Where this client's own invalidations go (only RESP3 can take them in-band).
    mailbox: Mailbox,
    resp3: bool,
}

#[derive(Default)]
pub struct Tracking {
    clients: Mutex<HashMap<u64, Tracker>>,
    active: AtomicBool,
}

impl Tracking {
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub fn enable(&self, id: u64, options: Options, mailbox: Mailbox, resp3: bool) {
        let mut clients = self.clients.lock();
        clients.insert(
            id,
            Tracker {
                options,
                mailbox,
                resp3,
            },
        );
        self.active.store(true, Ordering::Relaxed);
    }

    pub fn disable(&self, id: u64) {
        let mut clients = self.clients.lock();
        clients.remove(&id);
        self.active.store(!clients.is_empty(), Ordering::Relaxed);
    }

    pub fn options(&self, id: u64) -> Option<Options> {
        self.clients.lock().get(&id).map(|t| t.options.clone())
    }

    /// (tracking clients, prefixes of BCAST clients) for INFO.
    pub fn counts(&self) -> (usize, usize) {
        let clients = self.clients.lock();
        let prefixes = clients
            .values()
            .filter(|t| t.options.bcast)
            .map(|t| t.options.prefixes.len().max(1))
            .sum();
        (clients.len(), prefixes)
    }

    /// Sends the invalidations for `keys` changed by client `by`: to the readers recorded in
    /// `readers` (key -> client ids) and to the BCAST clients whose prefixes match.
    pub fn invalidate(
        &self,
        server: &Server,
        by: u64,
        keys: &[crate::storage::keyspace::KeyReaders],
        limits: Limits,
    ) {
        let clients = self.clients.lock();
        let mut bcast: HashMap<u64, Vec<Box<[u8]>>> = HashMap::new();
        for (key, readers) in keys {
            for &id in readers {
                if let Some(t) = clients.get(&id)
                    && !(t.options.noloop && id == by)
                {
                    self.send(server, &clients, t, Some(vec![key.clone()]), limits);
                }
            }
            for (&id, t) in clients.iter() {
                if t.options.bcast
                    && !(t.options.noloop && id == by)
                    && (t.options.prefixes.is_empty()
                        || t.options.prefixes.iter().any(|p| key.starts_with(p)))
                {
                    bcast.entry(id).or_default().push(key.clone());
                }
            }
        }
        for (id, keys) in bcast {
            if let Some(t) = clients.get(&id) {
                self.send(server, &clients, t, Some(keys), limits);
            }
        }
    }

    /// FLUSHDB/FLUSHALL: every tracking client is told to drop everything (a null key list).
    pub fn invalidate_all(&self, server: &Server, limits: Limits) {
        let clients = self.clients.lock();
        for t in clients.values() {
            self.send(server, &clients, t, None, limits);
        }
    }

    fn send(
        &self,
        server: &Server,
        clients: &HashMap<u64, Tracker>,
        t: &Tracker,
        keys: Option<Vec<Box<[u8]>>>,
        limits: Limits,
    ) {
        let msg = Message::Invalidate(keys.map(Arc::from));
        if t.options.redirect == 0 {
            // A RESP2 connection cannot take pushes in-band: Redis sends it nothing.
            if t.resp3 {
                t.mailbox.deliver(msg, limits);
            }
            return;
        }
        // The redirect target gets it if it subscribes to the invalidation channel, or as a
        // push if it speaks RESP3 and tracks itself.
        let target = server
            .pubsub
            .lock()
            .mailbox_of(CHANNEL, t.options.redirect)
            .or_else(|| {
                clients
                    .get(&t.options.redirect)
                    .filter(|r| r.resp3)
                    .map(|r| r.mailbox.clone())
            });
        if let Some(target) = target {
            target.deliver(msg, limits);
        }
    }
}
