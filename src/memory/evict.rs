//! maxmemory: before a command runs, keys are evicted under the configured policy until used
//! memory is back under the limit (Redis's performEvictions).
//!
//! LRU, LFU and TTL policies approximate the ideal choice the way Redis does: each round samples
//! `maxmemory-samples` keys (here from one shard's databases) into a pool of the 16 best
//! candidates seen so far, then evicts the best candidate that still exists. The pool outlives
//! rounds, so the choice improves with every sample. One evictor runs at a time (the pool's
//! lock); other clients over the limit wait for it and then find memory freed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::config::MaxmemoryPolicy;
use crate::memory::alloc::{flush_thread, used_memory};
use crate::server::{Server, notify, unix_ms};
use crate::storage::access::{AccessClock, lfu_decayed};
use crate::storage::keyspace::SHARD_COUNT;
use crate::storage::{DbView, Entry};

/// Redis's EVPOOL_SIZE.
const POOL_SIZE: usize = 16;

/// A key that may be evicted; the higher the score, the better a victim it is.
struct Candidate {
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

/// The eviction pool, kept between rounds (sorted by ascending score).
#[derive(Default)]
pub struct Evictor {
    pool: Mutex<Vec<Candidate>>,
}

/// Whether memory is within maxmemory after trying to evict (Redis's EVICT_OK / EVICT_FAIL;
/// a pass cut short by its time limit counts as within, as Redis's EVICT_RUNNING does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Within,
    OverLimit,
}

/// Evicts keys until used memory is within maxmemory, or nothing more can be evicted.
pub fn perform(server: &Arc<Server>) -> Outcome {
    let limit = server.hot.maxmemory.load(Ordering::Relaxed);
    if limit == 0 || used_memory() <= limit {
        return Outcome::Within;
    }
    let (policy, samples, tenacity) = {
        let c = server.config.read();
        (
            c.maxmemory_policy,
            c.maxmemory_samples.max(1) as usize,
            c.maxmemory_eviction_tenacity,
        )
    };
    if policy == MaxmemoryPolicy::Noeviction {
        return Outcome::OverLimit;
    }
    let mut pool = server.evictor.pool.lock();
    let started = Instant::now();
    let budget = time_budget(tenacity);
    let mut evicted = 0u64;
    while used_memory() > limit {
        let Some((db, key)) = pick(server, &mut pool, policy, samples) else {
            return Outcome::OverLimit;
        };
        if evict(server, db, &key) {
            evicted += 1;
            // Frees on this thread count at once, so eviction stops as soon as it is enough.
            flush_thread();
        }
        if evicted.is_multiple_of(16) && budget.is_some_and(|b| started.elapsed() > b) {
            break;
        }
    }
    Outcome::Within
}

/// How long one pass may evict (Redis's evictionTimeLimitUs): 50 µs per tenacity step up to
/// 10, then growing 15% a step; 100 means no limit.
fn time_budget(tenacity: i64) -> Option<Duration> {
    match tenacity {
        t if t <= 10 => Some(Duration::from_micros(50 * t.max(0) as u64 + 1)),
        t if t < 100 => Some(Duration::from_micros(
            (500.0 * 1.15f64.powi((t - 10) as i32)) as u64,
        )),
        _ => None,
    }
}

/// The next victim: the pool's best candidate that still exists, refilling the pool from a
/// fresh sample each round; a random key for the random policies.
fn pick(
    server: &Server,
    pool: &mut Vec<Candidate>,
    policy: MaxmemoryPolicy,
    samples: usize,
) -> Option<(usize, Box<[u8]>)> {
    let volatile = policy.is_volatile();
    let databases = server.keyspace.databases();
    let now_ms = unix_ms();
    let clock = server.access_clock(now_ms);
    let start = fastrand::usize(..SHARD_COUNT);
    // Shards that turn out empty are skipped; a whole lap without a key means nothing is left.
    for step in 0..SHARD_COUNT {
        let shard = (start + step) % SHARD_COUNT;
        if policy.is_random() {
            let db0 = fastrand::usize(..databases);
            for d in 0..databases {
                let db = (db0 + d) % databases;
                let mut found = None;
                server.keyspace.sample_keys(shard, db, volatile, 1, |e, _| {
                    found = Some(Box::from(e.key()));
                });
                if let Some(key) = found {
                    return Some((db, key));
                }
            }
            continue;
        }
        for db in 0..databases {
            server
                .keyspace
                .sample_keys(shard, db, volatile, samples, |e, expire| {
                    let score = score(policy, clock, now_ms, e, expire);
                    offer(pool, score, db, e.key());
                });
        }
        if let Some(best) = pool.pop() {
            return Some((best.db, best.key));
        }
    }
    None
}

/// How good a victim `e` is under `policy`: idle time, inverse frequency or nearness of expiry.
fn score(
    policy: MaxmemoryPolicy,
    clock: AccessClock,
    now_ms: i64,
    e: &Entry,
    expire: Option<i64>,
) -> u64 {
    if policy == MaxmemoryPolicy::VolatileTtl {
        return u64::MAX - expire.unwrap_or(now_ms).max(0) as u64;
    }
    match clock {
        AccessClock::Lru(now) => (now.wrapping_sub(e.access()) & 0xFF_FFFF) as u64,
        AccessClock::Lfu {
            minutes,
            decay_minutes,
            ..
        } => 255 - lfu_decayed(e.access(), minutes, decay_minutes) as u64,
    }
}

/// Adds a sampled key to the pool unless the pool is full of better victims.
fn offer(pool: &mut Vec<Candidate>, score: u64, db: usize, key: &[u8]) {
    if pool.iter().any(|c| c.db == db && &*c.key == key) {
        return;
    }
    let at = pool.partition_point(|c| c.score < score);
    if pool.len() == POOL_SIZE {
        if at == 0 {
            return;
        }
        // Full: the worst candidate makes room.
        pool.remove(0);
        pool.insert(
            at - 1,
            Candidate {
                score,
                db,
                key: key.into(),
            },
        );
    } else {
        pool.insert(
            at,
            Candidate {
                score,
                db,
                key: key.into(),
            },
        );
    }
}

/// Deletes `key` as an eviction: watchers, tracking, blocked clients and "evicted" events see
/// it like any delete. False if the key is gone already.
fn evict(server: &Arc<Server>, db: usize, key: &[u8]) -> bool {
    let locked = server.keyspace.lock_keys(std::iter::once(key));
    let now_ms = unix_ms();
    let mut view = DbView::new(
        &server.keyspace,
        locked,
        db,
        now_ms,
        server.access_clock(now_ms),
    );
    view.notify_flags = server.hot.notify_flags.load(Ordering::Relaxed);
    let tracking = server.tracking.active();
    if tracking {
        view.track_changes();
    }
    // Read with the shard locked (exact at an AOF rewrite's cut-over).
    let feeding = server.aof.feeding();
    view.log_expired = feeding;
    let removed = view.evict_in(db, key);
    // Recorded before the shard is released, as any write: a key found expired, or the
    // eviction itself, reaches the AOF as a DEL (as Redis propagates evictions).
    for (db, key) in std::mem::take(&mut view.expired) {
        server.aof.append_command(db, &[b"DEL", &key]);
    }
    let Some(entry) = removed else {
        return false;
    };
    if feeding {
        server.aof.append_command(db, &[b"DEL", key]);
    }
    view.notify_in(db, notify::EVICTED, "evicted", key);
    server.stats.evicted_keys.fetch_add(1, Ordering::Relaxed);
    let changes = if tracking {
        view.take_changes()
    } else {
        Vec::new()
    };
    let mut events = std::mem::take(&mut view.events);
    let ready = std::mem::take(&mut view.ready);
    drop(view);
    // The value is freed outside the shard lock.
    drop(entry);
    if !changes.is_empty() {
        server
            .tracking
            .invalidate(server, 0, &changes, server.pubsub_limits());
    }
    if !events.is_empty() {
        let flags = server.hot.notify_flags.load(Ordering::Relaxed);
        notify::publish(server, flags, &mut events);
    }
    if !ready.is_empty() {
        crate::server::blocking::serve_ready(server, ready);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_keeps_the_best_victims_sorted() {
        let mut pool = Vec::new();
        for score in [5u64, 1, 9, 3] {
            offer(&mut pool, score, 0, format!("k{score}").as_bytes());
        }
        let scores: Vec<u64> = pool.iter().map(|c| c.score).collect();
        assert_eq!(scores, [1, 3, 5, 9]);
        // A key already pooled is not added twice.
        offer(&mut pool, 7, 0, b"k9");
        assert_eq!(pool.len(), 4);
        for score in 10..30u64 {
            offer(&mut pool, score, 0, format!("k{score}").as_bytes());
        }
        assert_eq!(pool.len(), POOL_SIZE);
        assert_eq!(pool.first().unwrap().score, 14);
        assert_eq!(pool.last().unwrap().score, 29);
        // Worse than every pooled key: ignored when full.
        offer(&mut pool, 2, 0, b"low");
        assert!(pool.iter().all(|c| &*c.key != b"low"));
    }

    #[test]
    fn tenacity_sets_the_time_budget() {
        assert_eq!(time_budget(10), Some(Duration::from_micros(501)));
        assert!(time_budget(50).unwrap() > Duration::from_micros(500));
        assert_eq!(time_budget(100), None);
    }
}
