//! AOF rewrite (BGREWRITEAOF, the automatic rewrite, CONFIG SET appendonly yes, the first
//! start): a new base file holding the dataset as of one instant, a new incremental file for
//! the writes after that instant, the manifest swapped atomically, the old files removed.
//!
//! Point in time without fork: the rewrite locks every shard, switches the writer to the new
//! incremental file (no request is between executing and appending while it holds them all),
//! then serializes the shards one by one, releasing each once written. A request reaches a
//! shard only after the rewrite is done with it, so its writes belong to the new incremental
//! file and never to the base; nothing needs a rewrite buffer.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::manifest::{self, BaseFormat, FileEntry, Kind, Manifest};
use super::propagate::select_db;
use crate::protocol::encode_command;
use crate::server::{Server, unix_ms};
use crate::storage::Value;
use crate::storage::keyspace::Shard;
use crate::storage::stream::StreamId;

/// Redis puts at most this many elements in one command of a rewritten base
/// (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_COMMAND: usize = 64;

/// Writes a base file: the dataset of one instant. Called with the function libraries and then
/// with each shard under its lock; what it appends to `out` goes to the file. An RDB-preamble
/// writer implements the same calls with the RDB codec (see DESIGN.md).
pub trait BaseWriter {
    fn format(&self) -> BaseFormat;
    /// Called at the cut-over instant (every shard locked), before any shard.
    fn begin(&mut self, function_libraries: &[Vec<u8>], out: &mut Vec<u8>);
    fn shard(&mut self, shard: &Shard, out: &mut Vec<u8>);
    fn end(&mut self, out: &mut Vec<u8>);
}

/// The base as AOF commands (aof-use-rdb-preamble no), as Redis's rewriteAppendOnlyFileRio.
pub struct CommandsBase {
    now_ms: i64,
    databases: usize,
    timestamps: bool,
    db: Option<usize>,
}

impl CommandsBase {
    pub fn new(now_ms: i64, databases: usize, timestamps: bool) -> CommandsBase {
        CommandsBase {
            now_ms,
            databases,
            timestamps,
            db: None,
        }
    }
}

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

impl BaseWriter for CommandsBase {
    fn format(&self) -> BaseFormat {
        BaseFormat::Aof
    }

    fn begin(&mut self, function_libraries: &[Vec<u8>], out: &mut Vec<u8>) {
        if self.timestamps {
            out.extend_from_slice(format!("#TS:{}\r\n", self.now_ms / 1000).as_bytes());
        }
        for code in function_libraries {
            encode_command(out, [&b"FUNCTION"[..], b"LOAD", code].into_iter());
        }
    }

    fn shard(&mut self, shard: &Shard, out: &mut Vec<u8>) {
        let mut n = itoa::Buffer::new();
        for db in 0..self.databases {
            let d = shard.db(db);
            for e in d.entries() {
                let expire = d.expire_of(e);
                if expire.is_some_and(|t| t <= self.now_ms) {
                    continue;
                }
                select_db(out, &mut self.db, db);
                write_value(out, e.key(), &e.value);
                if let Some(at) = expire {
                    encode_command(
                        out,
                        [&b"PEXPIREAT"[..], e.key(), n.format(at).as_bytes()].into_iter(),
                    );
                }
            }
        }
    }

    fn end(&mut self, _out: &mut Vec<u8>) {}
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

/// Starts a rewrite in the background; Err with Redis's reply when one already runs.
pub fn start_background(server: &Arc<Server>, reason: Reason) -> Result<(), &'static str> {
    let stats = &server.aof.stats;
    if stats.rewrite_in_progress.swap(true, Ordering::AcqRel) {
        return Err("ERR Background append only file rewriting already in progress");
    }
    *stats.rewrite_started.lock() = Some(Instant::now());
    let srv = server.clone();
    std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || run_and_record(&srv, reason))
        .map_err(|_| {
            stats.rewrite_in_progress.store(false, Ordering::Release);
            "ERR Can't start the AOF rewrite thread"
        })?;
    Ok(())
}

/// Writes the first base in this thread at start-up; like Redis's, it is no rewrite for the
/// statistics.
pub fn create_at_start(server: &Arc<Server>) -> Result<(), String> {
    tracing::info!("Creating AOF base file on server start");
    rewrite(server, Reason::Enable)
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
    stats.rewrite_in_progress.store(false, Ordering::Release);
    result
}

fn io_err(what: &str, path: &std::path::Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
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
    let tmp_path = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let mut tmp =
        File::create(&tmp_path).map_err(|e| io_err("Can't create the AOF file", &tmp_path, e))?;
    let (timestamps, preamble) = {
        let c = server.config.read();
        (c.aof.timestamps, c.aof.use_rdb_preamble)
    };
    if preamble {
        tracing::info!(
            "aof-use-rdb-preamble yes: writing the base as AOF commands until the RDB codec is available"
        );
    }
    let now = unix_ms();
    let mut writer = CommandsBase::new(now, server.keyspace.databases(), timestamps);
    let format = writer.format();
    // While the rewrite runs the manifest lists the new incremental file after the old ones,
    // so a crash meanwhile replays old base, old increments, then the new one.
    let mut during = files.manifest.clone();
    during.incrs.push(incr.clone());
    let mut out = Vec::with_capacity(64 * 1024);
    let shards = server.keyspace.lock_every_shard();
    let cut_over = match (reason, incr_file) {
        (Reason::Rewrite, Some(file)) => during
            .persist(&dir, &name)
            .map(|()| aof.rotate(file))
            .map_err(|e| format!("Can't persist the AOF manifest: {e}")),
        (Reason::Enable, Some(file)) => {
            aof.begin(server, file);
            Ok(())
        }
        _ => Ok(()),
    };
    let mut result = cut_over.map(|()| writer.begin(&server.scripting.library_codes(), &mut out));
    // Each shard is released as soon as it is written: requests wait only for the shards
    // the rewrite has not reached yet.
    for shard in shards {
        if result.is_err() {
            break;
        }
        writer.shard(&shard, &mut out);
        drop(shard);
        result = tmp
            .write_all(&out)
            .map_err(|e| io_err("Can't write the AOF file", &tmp_path, e));
        out.clear();
    }
    writer.end(&mut out);
    let finished = result
        .and_then(|()| {
            tmp.write_all(&out)
                .and_then(|()| tmp.sync_all())
                .map_err(|e| io_err("Can't write the AOF file", &tmp_path, e))
        })
        .and_then(|()| {
            tracing::info!(
                "Successfully created the temporary AOF base file {}",
                tmp_path.display()
            );
            let base = FileEntry {
                name: manifest::base_name(&name, base_seq, format),
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

/// The automatic rewrite (auto-aof-rewrite-percentage / -min-size) and a scheduled AOF start,
/// checked by the cron.
pub fn maybe_start_automatic(server: &Arc<Server>) {
    let aof = &server.aof;
    if aof.stats.enable_scheduled.load(Ordering::Acquire)
        && !aof.stats.rewrite_in_progress.load(Ordering::Acquire)
        && start_background(server, Reason::Enable).is_ok()
    {
        aof.stats.enable_scheduled.store(false, Ordering::Release);
        return;
    }
    if !aof.feeding() || aof.stats.rewrite_in_progress.load(Ordering::Relaxed) {
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
        let _ = start_background(server, Reason::Rewrite);
    }
}
