//! The keyspace: `SHARD_COUNT` shards, each a mutex over all databases' tables for the keys whose
//! hash falls in it. A command locks the shards of the keys it declares (in shard order, so two
//! commands can never deadlock); MULTI/EXEC, scripts and whole-keyspace commands lock every shard.
//! See DESIGN.md.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, MutexGuard};

use super::Value;
use super::access::AccessClock;
use super::key::{KeyBytes, KeyTag};
use super::table::{Hashed, OrdTable};
use crate::server::blocking::Waiter;
use crate::server::notify;

pub const SHARD_BITS: u32 = 6;
pub const SHARD_COUNT: usize = 1 << SHARD_BITS;

/// Active expiry samples this many volatile keys per round (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const EXPIRE_SAMPLE: usize = 20;

/// A key and its value, in 24 bytes plus the value: every byte here is paid by every key.
/// - The table orders entries by the top 32 bits of the key's hash (see `key_hash`): the shard
///   bits are implied by the shard, and equal top bits are told apart by the key itself.
/// - A TTL lives in the database's expires index, not here: most keys have none.
pub struct Entry {
    hash_hi: u32,
    /// The access data (low 24 bits: LRU clock or LFU counter, see `access.rs`), the key's
    /// `KeyTag` (bits 24..30) and the `VOLATILE` flag.
    meta: u32,
    key: KeyBytes,
    pub value: Value,
}

/// `Entry::meta` bit: the key has a TTL in its database's expires index.
const VOLATILE: u32 = 1 << 31;
const ACCESS_BITS: u32 = 0xFF_FFFF;
const KEY_TAG_SHIFT: u32 = 24;

/// The part of a key hash the keys table orders by.
const STORED_BITS: u64 = !0xFFFF_FFFF;

impl Hashed for Entry {
    #[inline]
    fn hash(&self) -> u64 {
        (self.hash_hi as u64) << 32
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let tag = self.key_tag();
        self.key.free(tag);
    }
}

impl Entry {
    fn new(hash: u64, key: &[u8], value: Value, access: u32) -> Entry {
        let (key, tag) = KeyBytes::new(key);
        Entry {
            hash_hi: (hash >> 32) as u32,
            meta: (access & ACCESS_BITS) | (tag as u32) << KEY_TAG_SHIFT,
            key,
            value,
        }
    }

    #[inline]
    fn key_tag(&self) -> KeyTag {
        ((self.meta >> KEY_TAG_SHIFT) & 0x3F) as KeyTag
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        self.key.as_slice(self.key_tag())
    }

    /// The value, for a key taken out of the keyspace (RENAME, MOVE).
    pub fn into_value(mut self) -> Value {
        std::mem::replace(&mut self.value, Value::Str(super::StrValue::int(0)))
    }

    /// Heap bytes of the key (MEMORY USAGE): 0 when it is stored inline.
    pub fn key_heap_bytes(&self) -> usize {
        self.key.heap_bytes(self.key_tag())
    }

    /// The LRU clock (24 bits) or LFU counter and decrement time of the key.
    #[inline]
    pub fn access(&self) -> u32 {
        self.meta & ACCESS_BITS
    }

    #[inline]
    pub fn set_access(&mut self, access: u32) {
        self.meta = (self.meta & !ACCESS_BITS) | (access & ACCESS_BITS);
    }

    /// Records an access under the current policy.
    #[inline]
    fn touch(&mut self, clock: AccessClock) {
        let mut access = self.access();
        clock.touch(&mut access);
        self.set_access(access);
    }

    /// Whether the key has a TTL (kept in the database's expires index).
    #[inline]
    pub fn is_volatile(&self) -> bool {
        self.meta & VOLATILE != 0
    }

    #[inline]
    fn set_volatile(&mut self, on: bool) {
        self.meta = if on {
            self.meta | VOLATILE
        } else {
            self.meta & !VOLATILE
        };
    }
}

/// A member of a database's expires index: the full hash of a key that has a TTL and its
/// absolute expiry in unix milliseconds. Two keys of one shard with the same 64-bit hash that
/// both have a TTL would share an index slot; at one such pair per ~10^19 this is accepted.
#[derive(Clone, Copy)]
struct Volatile {
    hash: u64,
    at: i64,
}

impl Hashed for Volatile {
    #[inline]
    fn hash(&self) -> u64 {
        self.hash
    }
}

#[derive(Default)]
pub struct Db {
    keys: OrdTable<Entry>,
    expires: OrdTable<Volatile>,
    /// Running estimate of the remaining TTL of volatile keys, from active-expiry samples
    /// (Redis's avg_ttl in INFO keyspace).
    avg_ttl_ms: i64,
}

/// One database's figures for INFO keyspace.
#[derive(Clone, Copy, Default, Debug)]
pub struct DbSize {
    pub keys: usize,
    pub volatile: usize,
    pub avg_ttl_ms: i64,
    /// Bytes of the key table and of the expires index (MEMORY STATS overheads).
    pub table_bytes: usize,
    pub expires_bytes: usize,
}

impl Db {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.keys.iter()
    }

    /// Index of `key`, whose full hash is `hash`.
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        self.keys.find(hash & STORED_BITS, |e| e.key() == key)
    }

    /// The expiry of the volatile key whose full hash is `hash`.
    #[inline]
    fn expire_by_hash(&self, hash: u64) -> Option<i64> {
        let i = self.expires.find(hash, |_| true)?;
        Some(self.expires.at(i).at)
    }

    /// The absolute expiry (unix ms) of a key of this database, if it has a TTL.
    #[inline]
    pub fn expire_of(&self, e: &Entry) -> Option<i64> {
        if !e.is_volatile() {
            return None;
        }
        self.expire_by_hash(key_hash(e.key()))
    }

    /// `expire_of` for a key whose full hash the caller has already computed.
    #[inline]
    fn expire_of_hashed(&self, e: &Entry, hash: u64) -> Option<i64> {
        e.is_volatile().then(|| self.expire_by_hash(hash)).flatten()
    }

    /// Index of the key with a TTL whose full hash is `hash` (an expires index member).
    fn find_volatile(&self, hash: u64) -> Option<usize> {
        self.keys.find(hash & STORED_BITS, |e| {
            e.is_volatile() && key_hash(e.key()) == hash
        })
    }

    /// Whether a key of this database is alive at `now_ms`.
    #[inline]
    fn is_live(&self, e: &Entry, now_ms: i64) -> bool {
        self.expire_of(e).is_none_or(|at| at > now_ms)
    }

    /// Gives the key at index `i`, whose full hash is `hash`, the expiry `at` (0: none), keeping
    /// the expires index in step.
    fn set_ttl(&mut self, i: usize, hash: u64, at: i64) {
        let e = self.keys.at_mut(i);
        let had = e.is_volatile();
        e.set_volatile(at != 0);
        match (had, at != 0) {
            (true, false) => self.unindex_expire(hash),
            (false, true) => {
                self.expires.insert_new(Volatile { hash, at });
            }
            (true, true) => {
                if let Some(v) = self.expires.find(hash, |_| true) {
                    self.expires.at_mut(v).at = at;
                }
            }
            (false, false) => {}
        }
    }

    fn unindex_expire(&mut self, hash: u64) {
        if let Some(i) = self.expires.find(hash, |_| true) {
            self.expires.remove_at(i);
        }
    }

    /// Adds a key known not to be present.
    fn insert_new(&mut self, hash: u64, key: &[u8], value: Value, expire_at: i64, access: u32) {
        let i = self.keys.insert_new(Entry::new(hash, key, value, access));
        if expire_at != 0 {
            self.set_ttl(i, hash, expire_at);
        }
    }

    fn reserve(&mut self, keys: usize, volatile: usize) {
        self.keys.reserve(keys);
        self.expires.reserve(volatile);
    }

    fn insert_loaded(
        &mut self,
        h: u64,
        key: &[u8],
        value: Value,
        expire_at: i64,
        access: u32,
    ) -> bool {
        if self.find(h, key).is_some() {
            return false;
        }
        self.insert_new(h, key, value, expire_at, access);
        true
    }

    fn remove_index(&mut self, i: usize) -> Entry {
        let e = self.keys.remove_at(i);
        if e.is_volatile() {
            self.unindex_expire(key_hash(e.key()));
        }
        e
    }
}

/// Counters kept per shard (summed for INFO) so hot paths never share a cache line.
#[derive(Default, Clone, Copy)]
pub struct ShardStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    /// Writes since the last successful save (rdb_changes_since_last_save).
    pub dirty: u64,
}

/// A snapshot captures each shard in this many chunks: the keys whose stored hashes share
/// their top 6 bits (a few hundred keys per chunk with a million keys).
pub const CAPTURE_CHUNKS: u32 = 64;

#[inline]
fn chunk_of(stored_hash: u64) -> u32 {
    (stored_hash >> 58) as u32
}

/// Receives a chunk of a shard as it was at a snapshot's instant (see
/// `persistence::snapshot`): called with the shard locked, before the first access that could
/// change a key of that chunk after the instant, or by the snapshot's own walk, whichever
/// comes first.
pub trait ShardCapture: Send + Sync {
    fn capture(&self, index: usize, shard: &Shard, chunk: u32);
}

/// A snapshot's progress over one shard.
struct PendingCapture {
    sink: Arc<dyn ShardCapture>,
    /// Bit c: chunk c has been captured.
    done: u64,
}

pub struct Shard {
    dbs: Box<[Db]>,
    /// A snapshot that has not captured all of this shard yet.
    capture: Option<Box<PendingCapture>>,
    pub stats: ShardStats,
    /// WATCHed keys of this shard: key -> (database, the watching client's dirty flag).
    watchers: Watchers,
    /// Clients blocked on keys of this shard, in the order they blocked (any database).
    blocked: HashMap<Box<[u8]>, VecDeque<Arc<Waiter>>, foldhash::fast::RandomState>,
    /// CLIENT TRACKING: key -> ids of the clients that read it since it last changed (key
    /// names of every database share one table, as in Redis).
    tracked: HashMap<Box<[u8]>, Vec<u64>, foldhash::fast::RandomState>,
    /// While a command runs with tracking active: the keys it changed in this shard.
    modified: Option<Vec<Box<[u8]>>>,
}

impl Shard {
    pub fn db(&self, db: usize) -> &Db {
        &self.dbs[db]
    }

    pub fn db_count(&self) -> usize {
        self.dbs.len()
    }

    /// Hands every chunk not yet captured to a pending snapshot before the shard can change
    /// (whole-shard operations: flushes, SWAPDB, active expiry).
    #[inline]
    fn settle(&mut self, index: usize) -> &mut Shard {
        if self.capture.is_some() {
            self.capture_rest(index);
        }
        self
    }

    /// Hands the chunk of the key whose stored hash is `h` to a pending snapshot before that
    /// key can change (copy on first access, per chunk).
    #[inline]
    fn settle_hash(&mut self, index: usize, h: u64) -> &mut Shard {
        if self.capture.is_some() {
            self.capture_chunk(index, chunk_of(h));
        }
        self
    }

    #[cold]
    fn capture_rest(&mut self, index: usize) {
        for c in 0..CAPTURE_CHUNKS {
            self.capture_chunk(index, c);
        }
    }

    #[cold]
    fn capture_chunk(&mut self, index: usize, chunk: u32) {
        let Some(p) = self.capture.as_mut() else {
            return;
        };
        if p.done & (1 << chunk) != 0 {
            return;
        }
        p.done |= 1 << chunk;
        let sink = p.sink.clone();
        if p.done == u64::MAX {
            self.capture = None;
        }
        sink.capture(index, self, chunk);
    }

    /// The entries of database `db` in capture chunk `chunk`, each with its expiry.
    pub fn for_each_in_chunk<'a>(
        &'a self,
        db: usize,
        chunk: u32,
        mut f: impl FnMut(&'a Entry, Option<i64>),
    ) {
        let d = &self.dbs[db];
        d.keys.scan_from((chunk as u64) << 58, |e| {
            if chunk_of(e.hash()) != chunk {
                return false;
            }
            f(e, d.expire_of(e));
            true
        });
    }

    /// Index of a live key, deleting it first if it has expired (lazy expiry).
    #[inline]
    fn live_index(&mut self, db: usize, hash: u64, key: &[u8], now_ms: i64) -> Lookup {
        let Some(i) = self.dbs[db].find(hash, key) else {
            return Lookup::Missing;
        };
        let d = &self.dbs[db];
        if d.expire_of_hashed(d.keys.at(i), hash)
            .is_some_and(|at| at <= now_ms)
        {
            self.dbs[db].remove_index(i);
            self.stats.expired += 1;
            self.touch_watched(db, key);
            return Lookup::Expired;
        }
        Lookup::Live(i)
    }

    fn unwatch(&mut self, db: usize, key: &[u8], flag: &Arc<AtomicBool>) {
        if let Some(list) = self.watchers.get_mut(key) {
            list.retain(|(d, f)| !(*d == db && Arc::ptr_eq(f, flag)));
            if list.is_empty() {
                self.watchers.remove(key);
            }
        }
    }

    /// Signals a change to `key` in `db`: the clients watching it are marked dirty (any
    /// change invalidates WATCH, expiry included) and, while tracking is on, the key is noted
    /// for invalidation messages.
    #[inline]
    fn touch_watched(&mut self, db: usize, key: &[u8]) {
        watchers_touch(&self.watchers, db, key);
        if let Some(m) = &mut self.modified {
            m.push(key.into());
        }
    }

    /// Marks dirty the watchers in `dbs` of keys that exist in any of `dbs` (FLUSHDB and
    /// FLUSHALL pass one database, SWAPDB both), as Redis's touchAllWatchedKeysInDb does.
    fn touch_watched_existing(&self, dbs: &[usize]) {
        for (key, list) in &self.watchers {
            let h = key_hash(key);
            if !dbs.iter().any(|&d| self.dbs[d].find(h, key).is_some()) {
                continue;
            }
            for (d, flag) in list {
                if dbs.contains(d) {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// What a lookup found: a live entry's index, nothing, or a key it just deleted as expired.
enum Lookup {
    Live(usize),
    Missing,
    Expired,
}

/// A changed key and the CLIENT TRACKING clients that read it.
pub type KeyReaders = (Box<[u8]>, Vec<u64>);

/// A keyspace notification recorded while a command runs (see `server::notify`).
pub struct KeyEvent {
    pub event: &'static str,
    pub db: usize,
    pub key: Box<[u8]>,
}

impl Shard {
    #[inline]
    fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        !self.blocked.is_empty()
            && self
                .blocked
                .get(key)
                .is_some_and(|q| q.iter().any(|w| w.db == db))
    }

    /// The keys of database `db` that exist and have clients blocked on them.
    fn waited_keys_in(&self, db: usize, out: &mut Vec<(usize, Box<[u8]>)>) {
        for (key, waiters) in &self.blocked {
            let h = key_hash(key);
            if waiters.iter().any(|w| w.db == db) && self.dbs[db].find(h, key).is_some() {
                out.push((db, key.clone()));
            }
        }
    }

    fn drop_waiter(&mut self, key: &[u8], waiter: &Arc<Waiter>) {
        if let Some(q) = self.blocked.get_mut(key) {
            q.retain(|w| !Arc::ptr_eq(w, waiter));
            if q.is_empty() {
                self.blocked.remove(key);
            }
        }
    }
}

type Watchers = HashMap<Box<[u8]>, Vec<(usize, Arc<AtomicBool>)>, foldhash::fast::RandomState>;

#[inline]
fn watchers_touch(watchers: &Watchers, db: usize, key: &[u8]) {
    if watchers.is_empty() {
        return;
    }
    if let Some(list) = watchers.get(key) {
        for (d, flag) in list {
            if *d == db {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Where active expiry reports its deletions: "expired" events (when `notify_flags` asks for
/// them), CLIENT TRACKING invalidations, keys blocked clients wait on, and `deleted`, called
/// under the shard's lock (the AOF records a DEL there).
pub struct ExpiryOutputs<'a> {
    pub events: &'a mut Vec<KeyEvent>,
    pub tracking: Option<&'a mut Vec<KeyReaders>>,
    pub ready: &'a mut Vec<(usize, Box<[u8]>)>,
    pub deleted: &'a dyn Fn(usize, &[u8]),
}

pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    databases: usize,
}

/// A key's hash, rotated so the shard bits are at the bottom: foldhash seeded once per process,
/// so clients cannot choose keys that collide.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    static STATE: std::sync::LazyLock<foldhash::fast::FixedState> =
        std::sync::LazyLock::new(|| foldhash::fast::FixedState::with_seed(fastrand::u64(..)));
    STATE.hash_one(key).rotate_left(SHARD_BITS)
}

/// The shard guards one command holds.
enum Guards<'a> {
    None,
    One(usize, MutexGuard<'a, Shard>),
    Many(Vec<(usize, MutexGuard<'a, Shard>)>),
    All(Vec<MutexGuard<'a, Shard>>),
}

/// Shards locked for one command (or a whole transaction / script).
pub struct Locked<'a> {
    guards: Guards<'a>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let shards = (0..SHARD_COUNT)
            .map(|_| {
                Mutex::new(Shard {
                    dbs: (0..databases).map(|_| Db::default()).collect(),
                    capture: None,
                    stats: ShardStats::default(),
                    watchers: HashMap::default(),
                    blocked: HashMap::default(),
                    tracked: HashMap::default(),
                    modified: None,
                })
            })
            .collect();
        Keyspace { shards, databases }
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    /// (shard index, hash) of a key.
    #[inline]
    pub fn locate(&self, key: &[u8]) -> (usize, u64) {
        let h = key_hash(key);
        ((h & (SHARD_COUNT as u64 - 1)) as usize, h)
    }

    /// Locks the shards of these keys, in shard order.
    pub fn lock_keys<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> Locked<'_> {
        let mut idx: [usize; 8] = [0; 8];
        let mut n = 0;
        let mut many: Vec<usize> = Vec::new();
        for k in keys {
            let s = self.locate(k).0;
            if n < idx.len() {
                if !idx[..n].contains(&s) {
                    idx[n] = s;
                    n += 1;
                }
            } else {
                if many.is_empty() {
                    many.extend_from_slice(&idx);
                }
                many.push(s);
            }
        }
        let guards = if !many.is_empty() {
            many.sort_unstable();
            many.dedup();
            Guards::Many(
                many.into_iter()
                    .map(|i| (i, self.shards[i].lock()))
                    .collect(),
            )
        } else if n == 0 {
            Guards::None
        } else if n == 1 {
            Guards::One(idx[0], self.shards[idx[0]].lock())
        } else {
            let mut v = idx[..n].to_vec();
            v.sort_unstable();
            Guards::Many(v.into_iter().map(|i| (i, self.shards[i].lock())).collect())
        };
        Locked { guards }
    }

    /// Forgets the write counters (after loading a dataset, as Redis zeroes its dirty count).
    pub fn reset_dirty(&self) {
        for s in self.shards.iter() {
            s.lock().stats.dirty = 0;
        }
    }

    pub fn lock_all(&self) -> Locked<'_> {
        Locked {
            guards: Guards::All(self.shards.iter().map(|s| s.lock()).collect()),
        }
    }

    /// The first client blocked on `key` in `db` that nobody has answered yet, other than the
    /// `passed` ones.
    pub fn front_waiter(
        &self,
        db: usize,
        key: &[u8],
        passed: &[Arc<Waiter>],
    ) -> Option<Arc<Waiter>> {
        let shard = self.lock_outside_command(self.locate(key).0);
        shard
            .blocked
            .get(key)?
            .iter()
            .find(|w| w.db == db && !w.is_claimed() && !passed.iter().any(|p| Arc::ptr_eq(p, w)))
            .cloned()
    }

    /// The clients blocked on `key` in `db` that nobody has answered yet, in the order they
    /// blocked.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<Arc<Waiter>> {
        let shard = self.lock_outside_command(self.locate(key).0);
        shard.blocked.get(key).map_or(Vec::new(), |q| {
            q.iter()
                .filter(|w| w.db == db && !w.is_claimed())
                .cloned()
                .collect()
        })
    }

    /// Drops a blocked client's registrations, locking one shard at a time (no lock may be
    /// held).
    pub fn remove_waiter(&self, waiter: &Arc<Waiter>) {
        for key in &waiter.keys {
            self.lock_outside_command(self.locate(key).0)
                .drop_waiter(key, waiter);
        }
    }

    /// Drops every watch of one client, locking one shard at a time (no lock may be held).
    pub fn unwatch_all(&self, watched: &[(usize, Vec<u8>)], flag: &Arc<AtomicBool>) {
        for (db, key) in watched {
            let (s, _) = self.locate(key);
            self.lock_outside_command(s).unwatch(*db, key, flag);
        }
    }

    /// Eviction sampling: up to `count` random keys of database `db` in shard `shard` (only
    /// keys with a TTL when `volatile`), each passed to `visit` with its expiry, the shard locked.
    pub fn sample_keys(
        &self,
        shard: usize,
        db: usize,
        volatile: bool,
        count: usize,
        mut visit: impl FnMut(&Entry, Option<i64>),
    ) {
        let shard = self.lock_outside_command(shard);
        let d = &shard.dbs[db];
        for _ in 0..count {
            let entry = if volatile {
                let Some(vi) = d.expires.random_index_uniform() else {
                    return;
                };
                let Volatile { hash, at } = *d.expires.at(vi);
                d.find_volatile(hash).map(|i| (d.keys.at(i), Some(at)))
            } else {
                d.keys
                    .random_index_uniform()
                    .map(|i| (d.keys.at(i), d.expire_of(d.keys.at(i))))
            };
            match entry {
                Some((e, expire)) => visit(e, expire),
                None => return,
            }
        }
    }

    /// Locks one shard for work outside a command (blocked clients, unwatching). Such work does
    /// not pass the script gate, so it may meet a running script, which holds every shard for
    /// as long as it runs on its tokio worker: past a short wait, waiting moves off this
    /// worker so the runtime keeps reading connections (SCRIPT KILL) meanwhile.
    fn lock_outside_command(&self, shard: usize) -> MutexGuard<'_, Shard> {
        let mutex = &self.shards[shard];
        mutex
            .try_lock_for(std::time::Duration::from_millis(1))
            .unwrap_or_else(|| crate::scripting::busy::off_worker(|| mutex.lock()))
    }

    /// Starts a point-in-time snapshot: with every shard locked at once (the snapshot's
    /// instant), marks each for `capture` and runs `at_instant` with the writes counted so far
    /// and each database's (keys, keys with a TTL). From then on each chunk of each shard is
    /// captured before its first change, or by `capture_chunk`.
    pub fn begin_capture<T>(
        &self,
        capture: Arc<dyn ShardCapture>,
        at_instant: impl FnOnce(u64, &[DbSize]) -> T,
    ) -> T {
        let mut guards: Vec<MutexGuard<'_, Shard>> = self.shards.iter().map(|s| s.lock()).collect();
        let mut dirty = 0;
        let mut sizes = vec![DbSize::default(); self.databases];
        for g in guards.iter_mut() {
            g.capture = Some(Box::new(PendingCapture {
                sink: capture.clone(),
                done: 0,
            }));
            dirty += g.stats.dirty;
            for (size, db) in sizes.iter_mut().zip(g.dbs.iter()) {
                size.keys += db.len();
                size.volatile += db.volatile_len();
            }
        }
        at_instant(dirty, &sizes)
    }

    /// Captures chunk `chunk` of shard `index` for its pending snapshot, if nobody has yet.
    pub fn capture_chunk(&self, index: usize, chunk: u32) {
        self.shards[index].lock().capture_chunk(index, chunk);
    }

    /// Sizes database `db`'s tables for `keys` more keys, `volatile` of them with a TTL (an
    /// RDB file's RESIZEDB hint), so a load does not grow them step by step. Each shard gets its
    /// share plus two standard deviations of the hash spread; a fuller shard grows as usual.
    pub fn reserve(&self, db: usize, keys: u64, volatile: u64) {
        let share = |n: u64| {
            let mean = n as f64 / self.shards.len() as f64;
            (mean + 2.0 * mean.sqrt()).ceil() as usize
        };
        let (keys, volatile) = (share(keys), share(volatile));
        for shard in self.shards.iter() {
            shard.lock().dbs[db].reserve(keys, volatile);
        }
    }

    /// Adds a key read from a file; false when the database already has it.
    pub fn insert_loaded(
        &self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_at: i64,
        access: u32,
    ) -> bool {
        let (s, h) = self.locate(key);
        let mut shard = self.shards[s].lock();
        shard.settle_hash(s, h).dbs[db].insert_loaded(h, key, value, expire_at, access)
    }

    /// Writes counted since start-up (all shards).
    pub fn dirty_total(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().stats.dirty).sum()
    }

    pub fn reset_stats(&self) {
        for s in self.shards.iter() {
            let mut g = s.lock();
            g.stats.hits = 0;
            g.stats.misses = 0;
            g.stats.expired = 0;
        }
    }

    /// One step of active expiry over every shard: samples volatile keys and deletes the expired
    /// ones, repeating on a shard while more than a quarter of a sample had expired, until
    /// `deadline`. Locks one shard at a time so clients are never stalled for the whole pass.
    /// Returns the keys removed; what else each deletion causes goes to `out`.
    pub fn active_expire(
        &self,
        now_ms: i64,
        deadline: std::time::Instant,
        notify_flags: u32,
        out: ExpiryOutputs,
    ) -> u64 {
        let ExpiryOutputs {
            events,
            mut tracking,
            ready,
            deleted,
        } = out;
        let mut removed = 0;
        let start = fastrand::usize(..SHARD_COUNT);
        for k in 0..SHARD_COUNT {
            let index = (start + k) % SHARD_COUNT;
            let mut shard = self.shards[index].lock();
            let shard = &mut *shard;
            for db_index in 0..shard.dbs.len() {
                loop {
                    if shard.dbs[db_index].expires.is_empty() {
                        break;
                    }
                    let mut expired = 0;
                    let (mut ttl_sum, mut ttl_count) = (0i64, 0i64);
                    let sample = EXPIRE_SAMPLE.min(shard.dbs[db_index].expires.len());
                    for _ in 0..sample {
                        let Some(vi) = shard.dbs[db_index].expires.random_index() else {
                            break;
                        };
                        let Volatile { hash: h, at } = *shard.dbs[db_index].expires.at(vi);
                        if at > now_ms {
                            ttl_sum += at - now_ms;
                            ttl_count += 1;
                            continue;
                        }
                        // A running snapshot takes this key's chunk before it goes.
                        shard.settle_hash(index, h);
                        if let Some(i) = shard.dbs[db_index].find_volatile(h) {
                            let e = shard.dbs[db_index].remove_index(i);
                            // Recorded (AOF) while the shard is held, before any later write
                            // to the key.
                            deleted(db_index, e.key());
                            watchers_touch(&shard.watchers, db_index, e.key());
                            if shard
                                .blocked
                                .get(e.key())
                                .is_some_and(|q| q.iter().any(|w| w.db == db_index))
                            {
                                ready.push((db_index, Box::from(e.key())));
                            }
                            if let Some(changed) = tracking.as_deref_mut() {
                                let readers = shard.tracked.remove(e.key()).unwrap_or_default();
                                changed.push((Box::from(e.key()), readers));
                            }
                            if notify_flags & notify::EXPIRED != 0 {
                                events.push(KeyEvent {
                                    event: "expired",
                                    db: db_index,
                                    key: Box::from(e.key()),
                                });
                            }
                            expired += 1;
                        }
                    }
                    if ttl_count > 0 {
                        // Smoothed like Redis's estimate: each round weighs 2%.
                        let avg = ttl_sum / ttl_count;
                        shard.dbs[db_index].avg_ttl_ms = if shard.dbs[db_index].avg_ttl_ms == 0 {
                            avg
                        } else {
                            shard.dbs[db_index].avg_ttl_ms / 50 * 49 + avg / 50
                        };
                    }
                    shard.stats.expired += expired;
                    removed += expired;
                    if expired * 4 <= sample as u64 || std::time::Instant::now() >= deadline {
                        break;
                    }
                }
            }
            if std::time::Instant::now() >= deadline {
                break;
            }
        }
        removed
    }
}

/// Shards are released in the reverse of locking order: a command waiting for the first shard
/// then finds all the others free, instead of waking on each shard only to block on the next
/// (two whole-keyspace commands in a row, say two scripts, would otherwise park up to 64 times).
impl Drop for Locked<'_> {
    fn drop(&mut self) {
        match &mut self.guards {
            Guards::All(v) => while v.pop().is_some() {},
            Guards::Many(v) => while v.pop().is_some() {},
            _ => {}
        }
    }
}

impl<'a> Locked<'a> {
    /// Shard `idx` for a change to the key whose stored hash is `h`.
    #[inline]
    fn shard_key(&mut self, idx: usize, h: u64) -> &mut Shard {
        self.locked_shard(idx).settle_hash(idx, h)
    }

    /// Shard `idx` for changes to any of its keys.
    #[inline]
    fn shard(&mut self, idx: usize) -> &mut Shard {
        self.locked_shard(idx).settle(idx)
    }

    #[inline]
    fn locked_shard(&mut self, idx: usize) -> &mut Shard {
        match &mut self.guards {
            Guards::One(i, g) if *i == idx => g,
            Guards::Many(v) => {
                let pos = v
                    .iter()
                    .position(|(i, _)| *i == idx)
                    .expect("command touched a key it did not declare");
                &mut v[pos].1
            }
            Guards::All(v) => &mut v[idx],
            _ => panic!("command touched a key it did not declare"),
        }
    }

    #[inline]
    fn shard_ref(&self, idx: usize) -> &Shard {
        match &self.guards {
            Guards::One(i, g) if *i == idx => g,
            Guards::Many(v) => {
                let pos = v
                    .iter()
                    .position(|(i, _)| *i == idx)
                    .expect("command touched a key it did not declare");
                &v[pos].1
            }
            Guards::All(v) => &v[idx],
            _ => panic!("command touched a key it did not declare"),
        }
    }

    pub fn holds_all(&self) -> bool {
        matches!(self.guards, Guards::All(_))
    }

    /// Every locked shard, for reading (a pending snapshot need not capture them first).
    pub fn shards_ref(&self) -> Vec<&Shard> {
        match &self.guards {
            Guards::None => Vec::new(),
            Guards::One(_, g) => vec![&**g],
            Guards::Many(v) => v.iter().map(|(_, g)| &**g).collect(),
            Guards::All(v) => v.iter().map(|g| &**g).collect(),
        }
    }

    /// Every locked shard (whole-keyspace commands hold them all).
    pub fn shards_mut(&mut self) -> impl Iterator<Item = &mut Shard> {
        let v: Vec<&mut Shard> = match &mut self.guards {
            Guards::None => Vec::new(),
            Guards::One(i, g) => vec![g.settle(*i)],
            Guards::Many(v) => v.iter_mut().map(|(i, g)| g.settle(*i)).collect(),
            Guards::All(v) => v.iter_mut().enumerate().map(|(i, g)| g.settle(i)).collect(),
        };
        v.into_iter()
    }
}

/// The keyspace as one command sees it: its locked shards, its selected database and the time
/// the command started (so one command sees one instant, as in Redis).
pub struct DbView<'a> {
    pub keyspace: &'a Keyspace,
    pub locked: Locked<'a>,
    pub db: usize,
    pub now_ms: i64,
    /// What is stamped on the keys the command touches (LRU clock or LFU counter).
    pub clock: AccessClock,
    /// When false (CLIENT NO-TOUCH), reads leave the access time alone.
    pub touch: bool,
    /// notify-keyspace-events flags (0: none) and the events recorded so far.
    pub notify_flags: u32,
    pub events: Vec<KeyEvent>,
    /// Keys created while clients were blocked on them (database, key): served once the
    /// command is done (see `server::blocking`).
    pub ready: Vec<(usize, Box<[u8]>)>,
    /// Changes made through this view (Redis's server.dirty increments): a command that
    /// raised it is propagated to the AOF.
    pub dirty: u64,
    /// While the AOF is fed: keys this view deleted because they had expired, (database,
    /// key), propagated as DEL.
    pub log_expired: bool,
    pub expired: Vec<(usize, Box<[u8]>)>,
}

impl<'a> DbView<'a> {
    pub fn new(
        keyspace: &'a Keyspace,
        locked: Locked<'a>,
        db: usize,
        now_ms: i64,
        clock: AccessClock,
    ) -> DbView<'a> {
        DbView {
            keyspace,
            locked,
            db,
            now_ms,
            clock,
            touch: true,
            notify_flags: 0,
            events: Vec::new(),
            ready: Vec::new(),
            dirty: 0,
            log_expired: false,
            expired: Vec::new(),
        }
    }

    /// Notes a key deleted by lazy expiry.
    #[inline]
    fn expired_in(&mut self, db: usize, key: &[u8]) {
        if self.log_expired {
            self.expired.push((db, key.into()));
        }
    }

    #[inline]
    fn parts(&mut self, key: &[u8]) -> (&mut Shard, u64) {
        let (s, h) = self.keyspace.locate(key);
        (self.locked.shard_key(s, h), h)
    }

    /// Records a keyspace notification of `class` (a `server::notify` flag) if enabled.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        let db = self.db;
        self.notify_in(db, class, event, key);
    }

    #[inline]
    pub fn notify_in(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        if self.notify_flags & class != 0 {
            self.events.push(KeyEvent {
                event,
                db,
                key: key.into(),
            });
        }
    }

    /// Finds a live key in database `db`, deleting it first if it has expired.
    fn find_live(&mut self, db: usize, key: &[u8]) -> Option<(usize, &mut Shard)> {
        let now = self.now_ms;
        let (s, h) = self.keyspace.locate(key);
        match self.locked.shard_key(s, h).live_index(db, h, key, now) {
            Lookup::Live(i) => Some((i, self.locked.shard_key(s, h))),
            Lookup::Missing => None,
            Lookup::Expired => {
                self.expired_in(db, key);
                self.notify_in(db, notify::EXPIRED, "expired", key);
                self.signal_ready_in(db, key);
                None
            }
        }
    }

    /// A key for reading: counts a keyspace hit or miss and stamps the access time.
    pub fn get_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (db, clock, touch, now) = (self.db, self.clock, self.touch, self.now_ms);
        let (s, h) = self.keyspace.locate(key);
        match self.locked.shard_key(s, h).live_index(db, h, key, now) {
            Lookup::Live(i) => {
                let shard = self.locked.shard_key(s, h);
                shard.stats.hits += 1;
                let e = shard.dbs[db].keys.at_mut(i);
                if touch {
                    e.touch(clock);
                }
                Some(e)
            }
            found => {
                if matches!(found, Lookup::Expired) {
                    self.expired_in(db, key);
                    self.notify_in(db, notify::EXPIRED, "expired", key);
                    self.signal_ready_in(db, key);
                }
                self.notify_in(db, notify::KEY_MISS, "keymiss", key);
                self.locked.shard_key(s, h).stats.misses += 1;
                None
            }
        }
    }

    /// A live key through a shared borrow, with no side effects, so that several values can be
    /// read at once (SINTER and friends look each key up with `get_read` first, which does the
    /// lazy expiry, statistics and access time).
    pub fn get_shared(&self, key: &[u8]) -> Option<&Entry> {
        let (s, h) = self.keyspace.locate(key);
        let d = &self.locked.shard_ref(s).dbs[self.db];
        let e = d.keys.at(d.find(h, key)?);
        d.expire_of_hashed(e, h)
            .is_none_or(|at| at > self.now_ms)
            .then_some(e)
    }

    /// A key for writing (no hit/miss accounting).
    pub fn get_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        self.get_in(db, key)
    }

    /// A key in any database, without statistics.
    pub fn get_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (clock, touch) = (self.clock, self.touch);
        let (i, shard) = self.find_live(db, key)?;
        let e = shard.dbs[db].keys.at_mut(i);
        if touch {
            e.touch(clock);
        }
        Some(e)
    }

    /// Looks a key up without touching its access time or statistics (OBJECT, TYPE-like peeks).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        let db = self.db;
        let (i, shard) = self.find_live(db, key)?;
        Some(shard.dbs[db].keys.at(i))
    }

    /// The absolute expiry (unix ms) of `key` in the current database, if it exists and has a
    /// TTL. No lazy expiry: callers have looked the key up already.
    pub fn expire_of(&self, key: &[u8]) -> Option<i64> {
        let (s, h) = self.keyspace.locate(key);
        let d = &self.locked.shard_ref(s).dbs[self.db];
        d.expire_of_hashed(d.keys.at(d.find(h, key)?), h)
    }

    /// The expiry of `key` (`Some(None)`: no TTL) once it is looked up as a read (`get_read`:
    /// statistics, access time) or a write; `None` when it does not exist.
    pub fn live_expiry(&mut self, key: &[u8], read: bool) -> Option<Option<i64>> {
        let live = if read {
            self.get_read(key).is_some()
        } else {
            self.get_write(key).is_some()
        };
        live.then(|| self.expire_of(key))
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        let db = self.db;
        self.find_live(db, key).is_some()
    }

    /// Stores a value, replacing any previous one and its TTL. `expire_at` 0 means no TTL.
    pub fn set(&mut self, key: &[u8], value: Value, expire_at: i64) {
        let db = self.db;
        self.set_in(db, key, value, expire_at);
    }

    pub fn set_in(&mut self, db: usize, key: &[u8], value: Value, expire_at: i64) {
        let clock = self.clock;
        self.dirty += 1;
        let (shard, h) = self.parts(key);
        shard.stats.dirty += 1;
        shard.touch_watched(db, key);
        let d = &mut shard.dbs[db];
        if let Some(i) = d.find(h, key) {
            let e = d.keys.at_mut(i);
            e.value = value;
            e.touch(clock);
            d.set_ttl(i, h, expire_at);
            // Overwritten: a stream's group readers must learn it is gone.
            if shard.has_waiters(db, key) {
                self.push_ready(db, key);
            }
        } else {
            d.insert_new(h, key, value, expire_at, clock.new_key());
            let waited_on = shard.has_waiters(db, key);
            if waited_on {
                self.ready.push((db, key.into()));
            }
            self.notify_in(db, notify::NEW, "new", key);
        }
    }

    /// Stores a value; an existing key keeps its TTL (Redis's dbOverwrite: INCR and friends).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value) {
        match self.get_write(key) {
            Some(e) => {
                e.value = value;
                self.mark_dirty(key, 1);
            }
            None => self.set(key, value, 0),
        }
    }

    /// Records `key` as ready for the clients blocked on it (a stream got entries, a group
    /// went away): they are served once the command is done.
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.db;
        self.signal_ready_in(db, key);
    }

    /// `signal_ready` in database `db`; also called when a key leaves a database (deleted,
    /// expired, overwritten), so that clients reading a stream through a group learn that it
    /// is gone, as Redis's signalDeletedKeyAsReady does.
    fn signal_ready_in(&mut self, db: usize, key: &[u8]) {
        let (shard, _) = self.parts(key);
        if shard.has_waiters(db, key) {
            self.push_ready(db, key);
        }
    }

    /// Queues `key` in `db` as ready, once.
    fn push_ready(&mut self, db: usize, key: &[u8]) {
        if !self.ready.iter().any(|(d, k)| *d == db && **k == *key) {
            self.ready.push((db, key.into()));
        }
    }

    /// Counts `n` changes against the shard of `key` without signalling a modification: WATCH
    /// and client tracking ignore them (stream group bookkeeping, as in Redis).
    pub fn count_changes(&mut self, key: &[u8], n: u64) {
        self.dirty += n;
        let (shard, _) = self.parts(key);
        shard.stats.dirty += n;
    }

    /// Counts `n` changes against the shard of `key` (for in-place modifications).
    pub fn mark_dirty(&mut self, key: &[u8], n: u64) {
        let db = self.db;
        self.dirty += n;
        let (shard, _) = self.parts(key);
        shard.stats.dirty += n;
        shard.touch_watched(db, key);
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let db = self.db;
        self.remove_in(db, key)
    }

    pub fn remove_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.delete_in(db, key, true)
    }

    /// Deletes `key` for maxmemory: seen by WATCH, tracking and blocked clients like any delete,
    /// but not a change to save (Redis's evictions leave rdb_changes_since_last_save alone).
    pub fn evict_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.delete_in(db, key, false)
    }

    fn delete_in(&mut self, db: usize, key: &[u8], count_change: bool) -> Option<Entry> {
        let (i, shard) = self.find_live(db, key)?;
        if count_change {
            shard.stats.dirty += 1;
        }
        shard.touch_watched(db, key);
        let e = shard.dbs[db].remove_index(i);
        if shard.has_waiters(db, key) {
            self.push_ready(db, key);
        }
        if count_change {
            self.dirty += 1;
        }
        Some(e)
    }

    /// Sets (at > 0) or clears (at == 0) the TTL of an existing key. Returns false if absent.
    pub fn set_expire(&mut self, key: &[u8], at: i64) -> bool {
        let db = self.db;
        let Some((i, shard)) = self.find_live(db, key) else {
            return false;
        };
        shard.stats.dirty += 1;
        shard.touch_watched(db, key);
        let h = key_hash(key);
        shard.dbs[db].set_ttl(i, h, at);
        self.dirty += 1;
        true
    }

    /// Visits every shard: through the guards when this command holds them all (inside a
    /// transaction), otherwise locking one shard at a time.
    pub fn visit_shards(&mut self, mut f: impl FnMut(&Shard)) {
        if self.locked.holds_all() {
            for s in self.locked.shards_ref() {
                f(s);
            }
        } else {
            for s in self.keyspace.shards.iter() {
                f(&s.lock());
            }
        }
    }

    /// CLIENT TRACKING table size: (keys, key-client pairs) for INFO.
    pub fn tracking_counts(&mut self) -> (usize, usize) {
        let (mut keys, mut items) = (0, 0);
        self.visit_shards(|s| {
            keys += s.tracked.len();
            items += s.tracked.values().map(Vec::len).sum::<usize>();
        });
        (keys, items)
    }

    /// Summed per-shard counters (INFO stats).
    pub fn stats(&mut self) -> ShardStats {
        let mut t = ShardStats::default();
        self.visit_shards(|s| {
            t.hits += s.stats.hits;
            t.misses += s.stats.misses;
            t.expired += s.stats.expired;
            t.dirty += s.stats.dirty;
        });
        t
    }

    /// Keys, keys with a TTL and the average TTL per database (INFO keyspace); the average
    /// weighs each shard's estimate by its number of volatile keys.
    pub fn db_sizes(&mut self) -> Vec<DbSize> {
        let mut sizes = vec![DbSize::default(); self.keyspace.databases];
        let mut weighted = vec![0i128; self.keyspace.databases];
        self.visit_shards(|s| {
            for (i, db) in s.dbs.iter().enumerate() {
                sizes[i].keys += db.len();
                sizes[i].volatile += db.volatile_len();
                sizes[i].table_bytes += db.keys.allocated();
                sizes[i].expires_bytes += db.expires.allocated();
                weighted[i] += db.avg_ttl_ms as i128 * db.volatile_len() as i128;
            }
        });
        for (size, w) in sizes.iter_mut().zip(weighted) {
            if size.volatile > 0 {
                size.avg_ttl_ms = (w / size.volatile as i128) as i64;
            }
        }
        sizes
    }

    /// Whether `key` is alive in `db`; an expired key is deleted on the way (and so counts as
    /// a change for its watchers, as Redis's isWatchedKeyExpired does at EXEC).
    pub fn probe_in(&mut self, db: usize, key: &[u8]) -> bool {
        self.find_live(db, key).is_some()
    }

    /// CLIENT TRACKING is on somewhere: collect the keys this command changes.
    pub fn track_changes(&mut self) {
        for s in self.locked.shards_mut() {
            s.modified = Some(Vec::new());
        }
    }

    /// The keys changed since `track_changes`, each with the clients that read it (taken out
    /// of the table: they are told once).
    pub fn take_changes(&mut self) -> Vec<KeyReaders> {
        let mut out: Vec<KeyReaders> = Vec::new();
        for s in self.locked.shards_mut() {
            for key in s.modified.take().unwrap_or_default() {
                if out.iter().any(|(k, _)| *k == key) {
                    continue;
                }
                let readers = s.tracked.remove(&key).unwrap_or_default();
                out.push((key, readers));
            }
        }
        out
    }

    /// CLIENT TRACKING: client `id` read `key`.
    pub fn track_read(&mut self, key: &[u8], id: u64) {
        let (shard, _) = self.parts(key);
        let readers = shard.tracked.entry(key.into()).or_default();
        if !readers.contains(&id) {
            readers.push(id);
        }
    }

    /// Registers a blocked client on `key` (whose shard this command holds).
    pub fn block_on(&mut self, key: &[u8], waiter: &Arc<Waiter>) {
        let (shard, _) = self.parts(key);
        shard
            .blocked
            .entry(key.into())
            .or_default()
            .push_back(waiter.clone());
    }

    pub fn drop_waiter(&mut self, key: &[u8], waiter: &Arc<Waiter>) {
        let (shard, _) = self.parts(key);
        shard.drop_waiter(key, waiter);
    }

    /// WATCH: `flag` is set by any later change to `key` in the current database.
    pub fn watch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) {
        let db = self.db;
        let (shard, _) = self.parts(key);
        shard
            .watchers
            .entry(key.into())
            .or_default()
            .push((db, flag.clone()));
    }

    /// Drops every watch of one client: through the held guards inside a transaction,
    /// otherwise shard by shard.
    pub fn unwatch_all(&mut self, watched: &[(usize, Vec<u8>)], flag: &Arc<AtomicBool>) {
        if !self.locked.holds_all() {
            self.keyspace.unwatch_all(watched, flag);
            return;
        }
        for (db, key) in watched {
            let (shard, _) = self.parts(key);
            shard.unwatch(*db, key, flag);
        }
    }

    /// Every shard, for reading (all shards must be locked: saves in the foreground).
    pub fn all_shards(&self) -> Vec<&Shard> {
        self.locked.shards_ref()
    }

    /// Adds a key read from a file (DEBUG RELOAD); false when the database already has it.
    pub fn insert_loaded(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_at: i64,
        access: u32,
    ) -> bool {
        let (shard, h) = self.parts(key);
        shard.dbs[db].insert_loaded(h, key, value, expire_at, access)
    }

    /// Number of keys in the current database (all shards must be locked).
    pub fn dbsize(&mut self) -> usize {
        let db = self.db;
        self.locked
            .shards_ref()
            .iter()
            .map(|s| s.dbs[db].len())
            .sum()
    }

    /// Empties a database (`None`: all of them). Returns the number of keys removed.
    pub fn flush(&mut self, db: Option<usize>) -> usize {
        let mut n = 0;
        self.dirty += 1;
        let mut gone = Vec::new();
        for s in self.locked.shards_mut() {
            for i in 0..s.dbs.len() {
                if db.is_none_or(|x| x == i) {
                    s.touch_watched_existing(&[i]);
                    s.waited_keys_in(i, &mut gone);
                }
            }
            for (i, d) in s.dbs.iter_mut().enumerate() {
                if db.is_none_or(|x| x == i) {
                    n += d.len();
                    *d = Db::default();
                }
            }
            // Tracking clients are told to drop everything (see `server::tracking`).
            s.tracked.clear();
            s.stats.dirty += 1;
        }
        self.ready.extend(gone);
        n
    }

    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.dirty += 1;
        let mut ready = Vec::new();
        for s in self.locked.shards_mut() {
            s.touch_watched_existing(&[a, b]);
            s.dbs.swap(a, b);
            s.stats.dirty += 1;
            // Clients blocked in either database may now find their key there, or find it gone.
            for (key, waiters) in &s.blocked {
                let h = key_hash(key);
                let in_either = [a, b].iter().any(|&db| s.dbs[db].find(h, key).is_some());
                for db in [a, b] {
                    if in_either && waiters.iter().any(|w| w.db == db) {
                        ready.push((db, key.clone()));
                    }
                }
            }
        }
        self.ready.extend(ready);
    }

    /// Visits live keys of the current database (all shards locked), in no particular order.
    pub fn for_each_key(&mut self, mut f: impl FnMut(&Entry)) {
        let (db, now) = (self.db, self.now_ms);
        for s in self.locked.shards_ref() {
            let d = &s.dbs[db];
            for e in d.keys.iter() {
                if d.is_live(e, now) {
                    f(e);
                }
            }
        }
    }

    /// SCAN over the current database: the cursor is a key hash (see table.rs), so the whole
    /// keyspace is walked in hash order shard by shard. `visit` returns false to stop.
    pub fn scan(&mut self, cursor: u64, mut visit: impl FnMut(&Entry) -> bool) -> u64 {
        let (db, now) = (self.db, self.now_ms);
        let mut shard_idx = (cursor >> (64 - SHARD_BITS)) as usize;
        // The cursor is a stored hash with its shard's index in the low bits, rotated so that
        // the shard comes first.
        let mut in_shard = cursor.rotate_left(SHARD_BITS) & STORED_BITS;
        let mut stopped = false;
        while shard_idx < SHARD_COUNT {
            let d = &self.locked.shard_ref(shard_idx).dbs[db];
            let next = d.keys.scan_from(in_shard, |e| {
                if stopped {
                    // Finishing entries that share the stopping hash.
                    if d.is_live(e, now) {
                        visit(e);
                    }
                    return false;
                }
                if d.is_live(e, now) && !visit(e) {
                    stopped = true;
                    return false;
                }
                true
            });
            if next != 0 {
                return (next | shard_idx as u64).rotate_right(SHARD_BITS);
            }
            if stopped {
                // The stop fell on the shard's last hash: continue at the next shard.
                shard_idx += 1;
                return if shard_idx < SHARD_COUNT {
                    ((shard_idx as u64) << (64 - SHARD_BITS)).max(1)
                } else {
                    0
                };
            }
            shard_idx += 1;
            in_shard = 0;
        }
        0
    }

    /// A random live key of the current database (all shards locked).
    pub fn random_key(&mut self) -> Option<Vec<u8>> {
        let (db, now) = (self.db, self.now_ms);
        let total: usize = self
            .locked
            .shards_ref()
            .iter()
            .map(|s| s.dbs[db].len())
            .sum();
        if total == 0 {
            return None;
        }
        // Bounded tries: a database of only expired keys answers nil rather than spinning.
        for _ in 0..100 {
            let mut pick = fastrand::usize(..total);
            let mut found: Option<(usize, usize)> = None;
            for (si, s) in self.locked.shards_ref().into_iter().enumerate() {
                let n = s.dbs[db].len();
                if pick < n {
                    found = s.dbs[db].keys.random_index().map(|i| (si, i));
                    break;
                }
                pick -= n;
            }
            let (si, i) = found?;
            let shard = self.locked.shard(si);
            let e = shard.dbs[db].keys.at(i);
            if shard.dbs[db].is_live(e, now) {
                return Some(e.key().to_vec());
            }
            let e = shard.dbs[db].remove_index(i);
            shard.stats.expired += 1;
            shard.touch_watched(db, e.key());
            self.expired_in(db, e.key());
            self.signal_ready_in(db, e.key());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 40);
        // A table slot is an Option<Entry>: the Value's tag leaves a niche for None.
        assert_eq!(std::mem::size_of::<Option<Entry>>(), 40);
    }

    #[test]
    fn keys_and_ttls_survive_table_moves() {
        let mut d = Db::default();
        let keys: Vec<Vec<u8>> = (0..3000)
            .map(|i| format!("{}{i}", "k".repeat(i % 40)).into_bytes())
            .collect();
        for (i, k) in keys.iter().enumerate() {
            let at = if i % 3 == 0 { 1_000 + i as i64 } else { 0 };
            let value = Value::Str(crate::storage::StrValue::int(i as i64));
            d.insert_new(key_hash(k), k, value, at, 7);
        }
        for (i, k) in keys.iter().enumerate() {
            let e = d.keys.at(d.find(key_hash(k), k).expect("present"));
            assert_eq!(e.key(), &k[..]);
            assert_eq!(e.access(), 7);
            let want = (i % 3 == 0).then_some(1_000 + i as i64);
            assert_eq!(d.expire_of(e), want);
        }
        for k in keys.iter().step_by(2) {
            let i = d.find(key_hash(k), k).expect("present");
            d.remove_index(i);
        }
        assert_eq!(d.len(), 1500);
        assert_eq!(d.volatile_len(), 500);
    }
}
