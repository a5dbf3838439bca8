//! Point-in-time snapshots of the keyspace without fork, and the files made from them.
//!
//! A snapshot starts by locking every shard at once (its instant) and marking each one. Each
//! shard is captured in 64 chunks (keys grouped by the top bits of their hashes): a chunk is
//! serialized the first time anyone takes its shard to access one of its keys (whole-shard
//! operations such as flushes and active expiry take every remaining chunk), before that
//! access, or by the snapshot's background walk, whichever comes first; either way it is
//! written exactly as it was at the instant, and a client pays at most a chunk's serialization
//! (a few hundred keys with a million keys). Chunks are serialized in memory and queued to a
//! writer thread that alone touches the file (no lock is held across disk I/O); the walk
//! pauses, holding nothing, while more than 4 MiB wait, so the extra memory is that queue, the
//! writer's 1 MiB buffer and the encoding of the largest single value, never a copy of the
//! dataset. A database's keys span many sections (one per chunk): RDB allows SELECTDB to
//! repeat.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use parking_lot::Mutex;

use super::rdb::encode::{self, Access, Options, Preamble, RdbOut};
use crate::server::Server;
use crate::storage::Keyspace;
use crate::storage::access::lfu_decayed;
use crate::storage::keyspace::{CAPTURE_CHUNKS, SHARD_COUNT, Shard, ShardCapture};

/// How a key's access data is recorded, after the maxmemory policy at the snapshot's start.
#[derive(Clone, Copy, Debug)]
pub enum AccessMode {
    None,
    /// LRU policies: idle seconds against this LRU clock.
    Lru(u32),
    /// LFU policies: the counter decayed to these unix minutes.
    Lfu {
        minutes: u32,
        decay_minutes: u32,
    },
}

impl AccessMode {
    fn of(self, access: u32) -> Access {
        match self {
            AccessMode::None => Access::None,
            AccessMode::Lru(clock) => {
                Access::IdleSeconds(clock.wrapping_sub(access) as u64 & 0xFF_FFFF)
            }
            AccessMode::Lfu {
                minutes,
                decay_minutes,
            } => Access::Freq(lfu_decayed(access, minutes, decay_minutes) as u8),
        }
    }
}

/// What a save takes from the configuration, read once when it starts.
#[derive(Clone, Copy, Debug)]
pub struct SaveSettings {
    pub opts: Options,
    pub checksum: bool,
    pub access: AccessMode,
}

impl SaveSettings {
    pub fn of(server: &Server) -> SaveSettings {
        let c = server.config.read();
        let now = crate::server::unix_ms();
        let access = match server.access_clock(now) {
            _ if !c.maxmemory_policy.is_lru() && !c.maxmemory_policy.is_lfu() => AccessMode::None,
            crate::storage::access::AccessClock::Lru(clock) => AccessMode::Lru(clock),
            crate::storage::access::AccessClock::Lfu {
                minutes,
                decay_minutes,
                ..
            } => AccessMode::Lfu {
                minutes,
                decay_minutes,
            },
        };
        SaveSettings {
            opts: Options {
                compress: c.rdbcompression,
                list_fill: c.encoding.list_max_listpack_size,
            },
            checksum: c.rdbchecksum,
            access,
        }
    }
}

/// What writing some keys took: how many, and the encoded size of the largest value (the
/// scratch memory a save needs beyond its output buffer is at most about that).
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub keys: u64,
    pub largest_value: u64,
}

/// Writes the keys of one capture chunk of a shard: a database section (SELECTDB; RDB allows
/// them to repeat) for each database that has keys in it.
pub fn write_chunk(
    out: &mut Vec<u8>,
    shard: &Shard,
    chunk: u32,
    s: &SaveSettings,
) -> io::Result<Written> {
    let mut w = Written::default();
    for db in 0..shard.db_count() {
        if shard.db(db).is_empty() {
            continue;
        }
        let mut selected = false;
        shard.for_each_in_chunk(db, chunk, |e, expire| {
            if !selected {
                encode::write_select(out, db).expect("writing to memory cannot fail");
                selected = true;
            }
            let before = out.len();
            encode::write_key_value(
                out,
                e.key(),
                &e.value,
                expire,
                s.access.of(e.access()),
                s.opts,
            )
            .expect("writing to memory cannot fail");
            w.keys += 1;
            w.largest_value = w.largest_value.max((out.len() - before) as u64);
        });
    }
    Ok(w)
}

/// The walk waits (holding no lock) while this many serialized bytes wait for the disk, so a
/// slow disk slows the snapshot, never the clients, and memory stays bounded.
const QUEUE_LIMIT: u64 = 4 << 20;

/// What a snapshot's file holds.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    /// An RDB file: the dump (BGSAVE) or an AOF base's preamble (`aof-base` aux field set).
    Rdb { aof_base: bool },
    /// An AOF base of commands (aof-use-rdb-preamble no); keys already expired at `now_ms`
    /// are left out, as Redis's rewrite leaves them out.
    Commands { now_ms: i64, timestamps: bool },
}

/// A running snapshot's output: chunks are serialized (by the walk, or by the client thread
/// that touches them first) into memory under their shard's lock and queued to a writer
/// thread, which alone does the file I/O and the checksum, so no lock is ever held across a
/// write to disk.
struct Sink {
    queue: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    format: Format,
    settings: SaveSettings,
    aborted: AtomicBool,
    keys_written: AtomicU64,
    queued: AtomicU64,
    peak_queued: AtomicU64,
}

impl Sink {
    fn send(&self, bytes: Vec<u8>) {
        let n = bytes.len() as u64;
        let queued = self.queued.fetch_add(n, Ordering::Relaxed) + n;
        self.peak_queued.fetch_max(queued, Ordering::Relaxed);
        if let Some(q) = self.queue.lock().as_ref() {
            // A closed queue means the writer failed; `complete` reports its error.
            let _ = q.send(bytes);
        }
    }
}

impl ShardCapture for Sink {
    fn capture(&self, _index: usize, shard: &Shard, chunk: u32) {
        if self.aborted.load(Ordering::Relaxed) {
            return;
        }
        let mut bytes = Vec::new();
        let keys = match self.format {
            Format::Rdb { .. } => match write_chunk(&mut bytes, shard, chunk, &self.settings) {
                Ok(w) => w.keys,
                Err(_) => return,
            },
            Format::Commands { now_ms, .. } => {
                super::aof::rewrite::write_chunk(&mut bytes, shard, chunk, now_ms)
            }
        };
        if bytes.is_empty() {
            return;
        }
        self.keys_written.fetch_add(keys, Ordering::Relaxed);
        self.send(bytes);
    }
}

/// A point-in-time snapshot being written to a file (BGSAVE; the AOF rewrite's RDB preamble).
pub struct Snapshot {
    sink: Arc<Sink>,
    writer: std::thread::JoinHandle<io::Result<File>>,
    /// rdb-key-save-delay: microseconds the walk waits (holding nothing) per key written.
    key_save_delay: i64,
    /// Writes counted by the keyspace at the instant (rdb_changes_since_last_save's base).
    pub dirty_at_instant: u64,
    pub keys_at_instant: u64,
}

/// The error of a snapshot stopped on purpose (`abort`): its file is discarded, and nothing
/// is reported as failed.
pub const ABORTED: &str = "aborted";

/// A handle to stop a running snapshot early (FLUSHALL, SHUTDOWN); it then fails with
/// "aborted" and its file should be discarded.
#[derive(Clone)]
pub struct AbortHandle(Arc<Sink>);

impl AbortHandle {
    pub fn abort(&self) {
        self.0.aborted.store(true, Ordering::Relaxed);
    }

    /// Keys serialized so far (INFO current_save_keys_processed).
    pub fn keys_written(&self) -> u64 {
        self.0.keys_written.load(Ordering::Relaxed)
    }

    /// Memory the snapshot has held beyond the dataset at most: serialized chunks waiting
    /// for the disk plus the writer's buffer (INFO's cow sizes: there is no copy on write).
    pub fn extra_bytes(&self) -> u64 {
        encode::OUT_BUFFER as u64 + self.0.peak_queued.load(Ordering::Relaxed)
    }
}

/// Starts a point-in-time snapshot into `file` in `format`. The instant is fixed with every
/// shard locked; `at_instant` runs then (the AOF rewrite switches its incremental file there),
/// and the header (the function libraries of that instant, size hints) is taken there too.
/// Then call `Snapshot::complete`, normally on another thread.
pub fn begin(
    server: &Server,
    file: File,
    format: Format,
    at_instant: impl FnOnce(),
) -> io::Result<Snapshot> {
    let settings = SaveSettings::of(server);
    let used_mem = crate::server::info::allocator_stats().0;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let sink = Arc::new(Sink {
        queue: Mutex::new(Some(tx)),
        format,
        settings,
        aborted: AtomicBool::new(false),
        keys_written: AtomicU64::new(0),
        queued: AtomicU64::new(0),
        peak_queued: AtomicU64::new(0),
    });
    let writer_sink = sink.clone();
    let writer = std::thread::Builder::new()
        .name("rdb-writer".into())
        .spawn(move || {
            lower_priority();
            let mut out = RdbOut::new(file);
            for chunk in rx {
                let r = out.write_all(&chunk);
                writer_sink
                    .queued
                    .fetch_sub(chunk.len() as u64, Ordering::Relaxed);
                r?;
            }
            let file = match format {
                Format::Rdb { .. } => out.finish(settings.checksum)?,
                Format::Commands { .. } => out.into_inner()?,
            };
            file.sync_all()?;
            Ok(file)
        })?;
    let (dirty, keys) = server.keyspace.begin_capture(sink.clone(), |dirty, sizes| {
        at_instant();
        let functions = server.scripting.library_codes();
        let mut header = Vec::new();
        match format {
            Format::Rdb { aof_base } => {
                encode::write_preamble(
                    &mut header,
                    &Preamble {
                        used_mem,
                        aof_base,
                        functions: &functions,
                    },
                    settings.opts.compress,
                )
                .expect("writing to memory cannot fail");
                // Size hints first, as Redis gives them (its loader presizes its tables); the
                // chunks' own sections then only select their database.
                for (db, size) in sizes.iter().enumerate().filter(|(_, s)| s.keys > 0) {
                    encode::write_select_db(&mut header, db, size.keys, size.volatile)
                        .expect("writing to memory cannot fail");
                }
            }
            Format::Commands { now_ms, timestamps } => {
                super::aof::rewrite::write_header(&mut header, &functions, now_ms, timestamps)
            }
        }
        sink.send(header);
        (dirty, sizes.iter().map(|s| s.keys).sum::<usize>())
    });
    Ok(Snapshot {
        sink,
        writer,
        key_save_delay: server.config.read().rdb_key_save_delay,
        dirty_at_instant: dirty,
        keys_at_instant: keys as u64,
    })
}

impl Snapshot {
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle(self.sink.clone())
    }

    /// Captures every chunk not captured yet, one at a time (each under its shard's lock only
    /// for its own serialization, pausing while too much waits for the disk), then lets the
    /// writer finish: EOF, checksum, fsync. Returns the file, positioned at its end.
    pub fn complete(self, keyspace: &Keyspace) -> Result<File, String> {
        // The walk keeps its normal priority: it serializes chunks holding their shard's lock,
        // and a low-priority thread preempted there on a busy machine would hold up every
        // client of that shard until the scheduler came back to it (priority inversion).
        for index in 0..SHARD_COUNT {
            for chunk in 0..CAPTURE_CHUNKS {
                while self.sink.queued.load(Ordering::Relaxed) > QUEUE_LIMIT
                    && !self.writer.is_finished()
                {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                let before = self.sink.keys_written.load(Ordering::Relaxed);
                keyspace.capture_chunk(index, chunk);
                if self.key_save_delay > 0 {
                    let keys = self.sink.keys_written.load(Ordering::Relaxed) - before;
                    std::thread::sleep(std::time::Duration::from_micros(
                        self.key_save_delay as u64 * keys,
                    ));
                }
            }
        }
        // Every chunk has been captured: no more bytes can come.
        drop(self.sink.queue.lock().take());
        let written = self
            .writer
            .join()
            .map_err(|_| "the RDB writer thread panicked".to_string())?;
        if self.sink.aborted.load(Ordering::Relaxed) {
            return Err(ABORTED.into());
        }
        written.map_err(|e| e.to_string())
    }
}

/// Gives the calling (background) thread a lower CPU priority, so that on a busy machine the
/// threads serving clients run first and the snapshot's file output takes the spare cycles
/// (only for threads that hold no keyspace lock).
fn lower_priority() {
    // SAFETY: plain system calls on the calling thread; failure only leaves the priority as is.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Writes a whole RDB file from shards the caller holds locked (SAVE, SHUTDOWN, FLUSHALL,
/// DEBUG RELOAD), database by database as redis-server lays them out.
pub fn write_file(server: &Server, file: File, shards: &[&Shard]) -> io::Result<File> {
    let settings = SaveSettings::of(server);
    let mut out = RdbOut::new(file);
    let functions = server.scripting.library_codes();
    encode::write_preamble(
        &mut out,
        &Preamble {
            used_mem: crate::server::info::allocator_stats().0,
            aof_base: false,
            functions: &functions,
        },
        settings.opts.compress,
    )?;
    let databases = shards.first().map_or(0, |s| s.db_count());
    for db in 0..databases {
        let keys: usize = shards.iter().map(|s| s.db(db).len()).sum();
        if keys == 0 {
            continue;
        }
        let volatile: usize = shards.iter().map(|s| s.db(db).volatile_len()).sum();
        encode::write_select_db(&mut out, db, keys, volatile)?;
        for s in shards {
            let d = s.db(db);
            for e in d.entries() {
                encode::write_key_value(
                    &mut out,
                    e.key(),
                    &e.value,
                    d.expire_of(e),
                    settings.access.of(e.access()),
                    settings.opts,
                )?;
            }
        }
    }
    let file = out.finish(settings.checksum)?;
    file.sync_all()?;
    Ok(file)
}

/// Moves a finished temporary file over `target` and syncs the directory, so a crash at any
/// moment leaves either the old file or the new one.
pub fn install(temp: &Path, target: &Path) -> io::Result<()> {
    std::fs::rename(temp, target)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    File::open(dir)?.sync_all()
}
