//! AOF rewrite (BGREWRITEAOF, the automatic rewrite, CONFIG SET appendonly yes, the first
//! start): a new base file holding the dataset as of one instant, a new incremental file for
//! the writes after that instant, the manifest swapped atomically, the old files removed.
//!
//! Point in time without fork: the base is a `persistence::snapshot` (an RDB preamble under
//! aof-use-rdb-preamble yes, AOF commands under no). Its instant, with every shard locked, is
//! the cut-over: the writer switches to the new incremental file there (no request is between
//! executing and appending while every shard is held), so the writes after it belong to the
//! new incremental file and never to the base; nothing needs a rewrite buffer. As a fork would,
//! the rewrite occupies the one snapshot slot: BGSAVE and rewrites wait for each other
//! (`persistence::Job`).

use std::fs::{File, OpenOptions};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::manifest::{self, BaseFormat, FileEntry, Kind, Manifest};
use super::propagate::select_db;
use crate::persistence::Job;
use crate::persistence::snapshot::{self, Format};
use crate::protocol::encode_command;
use crate::server::{Server, unix_ms};
use crate::storage::Value;
use crate::storage::keyspace::Shard;
use crate::storage::stream::StreamId;

/// Redis puts at most this many elements in one command of a rewritten base
/// (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_COMMAND: usize = 64;

/// Emits `head` followed by `items`, at most ITEMS_PER_COMMAND items per command.
fn batched(out: &mut Vec<u8>, head: &[&[u8]], items: &mut dyn Iterator<Item = Vec<&[u8]>>) {
    let mut batch: Vec<&[u8]> = Vec::new();
    let mut n = 0;
    loop {
        let next = items.next();
        if let Some(item) = &next {
            if n == 0 {
                batch.clear();
                batch.extend_from_slice(head);
            }
            batch.extend_from_slice(item);
            n += 1;
        }
        if n > 0 && (n == ITEMS_PER_COMMAND || next.is_none()) {
            encode_command(out, batch.iter().copied());
            n = 0;
        }
        if next.is_none() {
            return;
        }
    }
}

fn write_value(out: &mut Vec<u8>, key: &[u8], value: &Value) {
    match value {
        Value::Str(s) => {
            let mut scratch = itoa::Buffer::new();
            encode_command(
                out,
                [&b"SET"[..], key, s.as_bytes(&mut scratch)].into_iter(),
            );
        }
        Value::List(l) => {
            let mut scratch = itoa::Buffer::new();
            let elements: Vec<Vec<u8>> = l.iter().map(|e| e.bytes(&mut scratch).to_vec()).collect();
            batched(
                out,
                &[b"RPUSH", key],
                &mut elements.iter().map(|e| vec![e.as_slice()]),
            );
        }
        Value::Set(set) => {
            let mut scratch = itoa::Buffer::new();
            let members: Vec<Vec<u8>> =
                set.iter().map(|e| e.bytes(&mut scratch).to_vec()).collect();
            batched(
                out,
                &[b"SADD", key],
                &mut members.iter().map(|m| vec![m.as_slice()]),
            );
        }
        Value::ZSet(z) => {
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            z.for_each(|member, score| {
                let mut text = Vec::with_capacity(24);
                crate::util::num::fmt_double_resp(score, &mut text);
                pairs.push((text, member.to_vec()));
            });
            batched(
                out,
                &[b"ZADD", key],
                &mut pairs.iter().map(|(s, m)| vec![s.as_slice(), m.as_slice()]),
            );
        }
        Value::Hash(h) => {
            let pairs: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            batched(
                out,
                &[b"HMSET", key],
                &mut pairs.iter().map(|(f, v)| vec![f.as_slice(), v.as_slice()]),
            );
        }
        Value::Stream(s) => write_stream(out, key, s),
    }
}

/// A stream as Redis rewrites it: its entries (an empty stream as one XADD trimmed to nothing),
/// XSETID with its counters, then each group, its pending entries and idle consumers.
fn write_stream(out: &mut Vec<u8>, key: &[u8], s: &crate::storage::Stream) {
    let mut n = itoa::Buffer::new();
    if s.is_empty() {
        encode_command(
            out,
            [&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"].into_iter(),
        );
    }
    for e in s.range(StreamId::ZERO, StreamId::MAX) {
        let id = e.id.text();
        let mut args: Vec<&[u8]> = vec![b"XADD", key, &id];
        for (f, v) in e.fields() {
            args.push(f);
            args.push(v);
        }
        encode_command(out, args.into_iter());
    }
    let last = s.last_id.text();
    let added = n.format(s.entries_added).to_string();
    let max_deleted = s.max_deleted.text();
    encode_command(
        out,
        [
            &b"XSETID"[..],
            key,
            &last,
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &max_deleted,
        ]
        .into_iter(),
    );
    for (name, g) in &s.groups {
        let last = g.last_id.text();
        let read = n.format(g.entries_read.unwrap_or(-1)).to_string();
        encode_command(
            out,
            [
                &b"XGROUP"[..],
                b"CREATE",
                key,
                name,
                &last,
                b"ENTRIESREAD",
                read.as_bytes(),
            ]
            .into_iter(),
        );
        for (id, nack) in &g.pel {
            let id = id.text();
            let time = n.format(nack.delivery_time).to_string();
            let count = n.format(nack.delivery_count).to_string();
            encode_command(
                out,
                [
                    &b"XCLAIM"[..],
                    key,
                    name,
                    &nack.consumer,
                    b"0",
                    &id,
                    b"TIME",
                    time.as_bytes(),
                    b"RETRYCOUNT",
                    count.as_bytes(),
                    b"JUSTID",
                    b"FORCE",
                ]
                .into_iter(),
            );
        }
        for (consumer, c) in &g.consumers {
            if c.pending.is_empty() {
                encode_command(
                    out,
                    [&b"XGROUP"[..], b"CREATECONSUMER", key, name, consumer].into_iter(),
                );
            }
        }
    }
}

/// The start of a base of commands: the `#TS:` annotation (aof-timestamp-enabled) and the
/// function libraries, as Redis's rewrite begins.
pub fn write_header(out: &mut Vec<u8>, functions: &[Vec<u8>], now_ms: i64, timestamps: bool) {
    if timestamps {
        out.extend_from_slice(format!("#TS:{}\r\n", now_ms / 1000).as_bytes());
    }
    for code in functions {
        encode_command(out, [&b"FUNCTION"[..], b"LOAD", code].into_iter());
    }
}

/// The keys of one snapshot chunk of a shard as commands (a base without an RDB preamble),
/// leaving out keys expired at `now_ms`. Chunks reach the file in any order, so each
/// database's part starts with its SELECT. Returns the number of keys written.
pub fn write_chunk(out: &mut Vec<u8>, shard: &Shard, chunk: u32, now_ms: i64) -> u64 {
    let mut n = itoa::Buffer::new();
    let mut keys = 0;
    for db in 0..shard.db_count() {
        if shard.db(db).is_empty() {
            continue;
        }
        let mut selected = None;
        shard.for_each_in_chunk(db, chunk, |e, expire| {
            if expire.is_some_and(|t| t <= now_ms) {
                return;
            }
            select_db(out, &mut selected, db);
            write_value(out, e.key(), &e.value);
            if let Some(at) = expire {
                encode_command(
                    out,
                    [&b"PEXPIREAT"[..], e.key(), n.format(at).as_bytes()].into_iter(),
                );
            }
            keys += 1;
        });
    }
    keys
}

/// Why a rewrite runs; decides how the writer is switched at the cut-over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reason {
    /// BGREWRITEAOF or the automatic rewrite: the AOF is on, the writer rotates.
    Rewrite,
    /// CONFIG SET appendonly yes, or a first start without AOF files: recording starts at
    /// the cut-over, and the files count once the base is complete.
    Enable,
    /// BGREWRITEAOF with the AOF off: a base alone, as Redis writes one.
    BaseOnly,
}

/// What a rewrite started now does: rotate a recording AOF, start one that is turned on and
/// waits for its base (Redis's AOF_WAIT_REWRITE), or write a base alone.
fn reason_now(server: &Server) -> Reason {
    if server.aof.feeding() {
        Reason::Rewrite
    } else if server.config.read().appendonly {
        Reason::Enable
    } else {
        Reason::BaseOnly
    }
}

/// Starts a rewrite in the background. Err: the job holding the snapshot slot (a rewrite
/// already running, or a BGSAVE: the caller schedules the rewrite for later).
pub fn start_background(server: &Arc<Server>) -> Result<(), Job> {
    server.persistence.claim(Job::Rewrite)?;
    let stats = &server.aof.stats;
    stats.rewrite_in_progress.store(true, Ordering::Release);
    *stats.rewrite_started.lock() = Some(Instant::now());
    let reason = reason_now(server);
    stats
        .writing_first_base
        .store(reason == Reason::Enable, Ordering::Release);
    let srv = server.clone();
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || run_and_record(&srv, reason));
    if let Err(e) = spawned {
        tracing::warn!("Can't start the AOF rewrite thread: {e}");
        stats.rewrite_in_progress.store(false, Ordering::Release);
        *stats.rewrite_started.lock() = None;
        server.persistence.release();
        // A failed start is retried by the cron, as Redis retries a failed fork.
        stats.rewrite_scheduled.store(true, Ordering::Release);
    }
    Ok(())
}

/// Writes the first base in this thread at start-up; like Redis's, it is no rewrite for the
/// statistics.
pub fn create_at_start(server: &Arc<Server>) -> Result<(), String> {
    tracing::info!("Creating AOF base file on server start");
    if server.persistence.claim(Job::Rewrite).is_err() {
        return Err("a background job runs during start-up".into());
    }
    let result = rewrite(server, Reason::Enable);
    server.persistence.release();
    result
}

fn run_and_record(server: &Arc<Server>, reason: Reason) -> Result<(), String> {
    let stats = &server.aof.stats;
    let started = Instant::now();
    let result = rewrite(server, reason);
    stats
        .last_rewrite_secs
        .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
    match &result {
        Ok(()) => {
            stats.last_rewrite_ok.store(true, Ordering::Relaxed);
            stats.rewrites.fetch_add(1, Ordering::Relaxed);
            stats.rewrite_failures.store(0, Ordering::Relaxed);
            tracing::info!("Background AOF rewrite finished successfully");
        }
        // Stopped on purpose (CONFIG SET appendonly no, SHUTDOWN): not a failure, as in Redis.
        Err(e) if e == crate::persistence::snapshot::ABORTED => {
            tracing::warn!("Background AOF rewrite stopped")
        }
        Err(e) => {
            stats.last_rewrite_ok.store(false, Ordering::Relaxed);
            stats.rewrite_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("Background AOF rewrite failed: {e}");
            if reason == Reason::Enable {
                // No complete base: the AOF is not on.
                server.aof.stop();
            }
        }
    }
    *stats.rewrite_started.lock() = None;
    stats.writing_first_base.store(false, Ordering::Release);
    stats.rewrite_in_progress.store(false, Ordering::Release);
    server.persistence.release();
    result
}

fn io_err(what: &str, path: &std::path::Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

/// The temporary name of a base being written.
pub fn temp_base_path(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()))
}

fn rewrite(server: &Arc<Server>, reason: Reason) -> Result<(), String> {
    let aof = &server.aof;
    let mut files = aof.files.lock();
    let (dir, name) = (files.dir.clone(), files.filename.clone());
    std::fs::create_dir_all(&dir).map_err(|e| io_err("Can't create the AOF directory", &dir, e))?;
    let (base_seq, incr_seq) = (
        files.manifest.next_base_seq(),
        files.manifest.next_incr_seq(),
    );
    let incr = FileEntry {
        name: manifest::incr_name(&name, incr_seq),
        seq: incr_seq,
        kind: Kind::Incr,
    };
    let incr_path = dir.join(&incr.name);
    let incr_file = if reason == Reason::BaseOnly {
        None
    } else {
        tracing::info!(
            "Creating AOF incr file {} on {}",
            incr.name,
            if reason == Reason::Rewrite {
                "background rewrite"
            } else {
                "AOF start"
            }
        );
        let f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&incr_path)
            .map_err(|e| io_err("Can't open the AOF file", &incr_path, e))?;
        Some(f)
    };
    if reason == Reason::Rewrite {
        // Listed after the old files before the writer moves to it (it is still empty), so a
        // crash at any point replays old base, old increments, then the new one; persisted
        // here rather than at the instant, where it would stall every client for two fsyncs.
        let mut during = files.manifest.clone();
        during.incrs.push(incr.clone());
        during
            .persist(&dir, &name)
            .map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
        files.manifest = during;
    }
    let tmp_path = temp_base_path(&dir);
    let tmp =
        File::create(&tmp_path).map_err(|e| io_err("Can't create the AOF file", &tmp_path, e))?;
    let (timestamps, preamble) = {
        let c = server.config.read();
        (c.aof.timestamps, c.aof.use_rdb_preamble)
    };
    let (format, base_format) = if preamble {
        (Format::Rdb { aof_base: true }, BaseFormat::Rdb)
    } else {
        let now_ms = unix_ms();
        (Format::Commands { now_ms, timestamps }, BaseFormat::Aof)
    };
    let snap = snapshot::begin(server, tmp, format, || match (reason, incr_file) {
        (Reason::Rewrite, Some(file)) => aof.rotate(file),
        // CONFIG SET appendonly no may have come before the snapshot could be stopped.
        (Reason::Enable, Some(file)) if !server.persistence.stop_asked() => aof.begin(server, file),
        _ => {}
    });
    let finished = snap
        .map_err(|e| io_err("Can't write the AOF file", &tmp_path, e))
        .and_then(|snap| {
            server.persistence.set_abort(snap.abort_handle());
            snap.complete(&server.keyspace)
        })
        .and_then(|_| {
            tracing::info!(
                "Successfully created the temporary AOF base file {}",
                tmp_path.display()
            );
            let base = FileEntry {
                name: manifest::base_name(&name, base_seq, base_format),
                seq: base_seq,
                kind: Kind::Base,
            };
            let base_path = dir.join(&base.name);
            std::fs::rename(&tmp_path, &base_path)
                .map_err(|e| io_err("Can't rename the AOF file", &tmp_path, e))?;
            tracing::info!(
                "Successfully renamed the temporary AOF base file {} into {}",
                tmp_path.display(),
                base.name
            );
            let done = Manifest {
                base: Some(base),
                incrs: if reason == Reason::BaseOnly {
                    Vec::new()
                } else {
                    vec![incr.clone()]
                },
                history: Vec::new(),
            };
            done.persist(&dir, &name)
                .map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
            let old = std::mem::replace(&mut files.manifest, done);
            for e in old.load_order().chain(&old.history) {
                if !files.manifest.load_order().any(|n| n.name == e.name) {
                    tracing::info!("Removing the history file {} in the background", e.name);
                    let _ = std::fs::remove_file(dir.join(&e.name));
                }
            }
            let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
            let base_size = size(&base_path);
            aof.stats.base_size.store(base_size, Ordering::Relaxed);
            aof.stats
                .current_size
                .store(base_size + size(&incr_path), Ordering::Relaxed);
            Ok(())
        });
    if finished.is_err() {
        let _ = std::fs::remove_file(&tmp_path);
    }
    finished
}

/// The automatic rewrite (auto-aof-rewrite-percentage / -min-size), checked by the cron when
/// no background job runs.
pub fn maybe_start_automatic(server: &Arc<Server>) {
    let aof = &server.aof;
    if !aof.feeding() {
        return;
    }
    let (percentage, min_size) = {
        let c = server.config.read();
        (c.aof.rewrite_percentage, c.aof.rewrite_min_size)
    };
    let current = aof.stats.current_size.load(Ordering::Relaxed);
    let base = aof.stats.base_size.load(Ordering::Relaxed).max(1);
    if percentage == 0 || current <= min_size {
        return;
    }
    let growth = (current.saturating_sub(base)) * 100 / base;
    if growth >= percentage {
        tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
        let _ = start_background(server);
    }
}

/// Starts a rewrite scheduled while another job ran (BGREWRITEAOF during a BGSAVE or inside
/// MULTI, CONFIG SET appendonly yes meanwhile), once the slot is free. Checked by the cron.
pub fn start_scheduled(server: &Arc<Server>) -> bool {
    let scheduled = &server.aof.stats.rewrite_scheduled;
    if !scheduled.swap(false, Ordering::AcqRel) {
        return false;
    }
    if start_background(server).is_err() {
        scheduled.store(true, Ordering::Release);
        return false;
    }
    true
}
