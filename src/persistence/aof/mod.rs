//! The append-only file, in Redis 7's on-disk format and multi-part layout (see DESIGN.md,
//! "Persistence: the AOF").
//!
//! Commands never touch the file. The dispatcher appends each request's executed writes to an
//! in-memory stream (`append`, under a short mutex, while the request still holds its shard
//! locks, so writes to one key reach the stream in execution order). Before a connection sends
//! the replies of writes, the stream up to them is written to the current incremental file
//! (group commit: one write(2), and under always one fsync, covers everything that arrived
//! meanwhile, from any number of clients), so as in Redis an acknowledged write is in the file
//! before its reply leaves:
//! - always: a writer thread writes and fsyncs (a slow disk holds up the replies of writes
//!   only, not the connection tasks' workers); replies wait for the fsync;
//! - everysec: the connection waiting for its writes writes the stream itself (no thread
//!   hand-off per reply) unless another writer holds the file, whose waiters it wakes when
//!   done; the writer thread asks a third thread for an fsync once a second. A write waits up
//!   to 2 s behind an fsync still running (replies then go out without waiting for it), then
//!   goes ahead and counts as a delayed fsync, as in Redis;
//! - no: written as under everysec; the OS decides when the data reaches the disk.
//!
//! Whoever writes holds the `Sink` while it takes a chunk from the stream and writes it, so
//! chunks reach the file in stream order. Rotations (a rewrite's cut-over), stops and failed
//! writes are left to the writer thread.

pub mod load;
pub mod manifest;
pub mod propagate;
pub mod rewrite;

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::config::AppendFsync;
use crate::server::Server;
use manifest::Manifest;
pub use propagate::Propagation;

/// A write waits this long behind a running background fsync before going ahead (aof.c).
const MAX_FSYNC_POSTPONE: Duration = Duration::from_secs(2);

pub struct Aof {
    /// Executed writes are being recorded. Read by the dispatcher once its shards are locked:
    /// switching it under every shard lock gives an exact cut-over point.
    feeding: AtomicBool,
    policy: AtomicU8,
    stream: Mutex<Stream>,
    /// Wakes the writer thread: data under appendfsync always, a rotation, a stop, a failed
    /// write, a write held back behind an fsync.
    wake: Condvar,
    /// The file being written; taken before `stream` by whoever writes.
    sink: Mutex<Sink>,
    /// The stream offset of everything appended (a lock-free copy of `Stream::appended`).
    appended: AtomicU64,
    /// Stream offsets handed to the kernel (written) and known to be on disk (fsynced).
    written: AtomicU64,
    synced: AtomicU64,
    /// The writer holds writes back behind a slow fsync (everysec): replies do not wait.
    postponing: AtomicBool,
    /// DEBUG AOF-FSYNC-DELAY: milliseconds each background fsync waits first, standing for a
    /// stalled disk in tests (0: off).
    pub fsync_delay_ms: AtomicU64,
    /// Wakes connections waiting for `written` / `synced` to move.
    progress: tokio::sync::Notify,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The directory and manifest; held by whoever changes the set of files.
    pub files: Mutex<Files>,
    pub stats: AofStats,
}

pub struct Files {
    pub dir: PathBuf,
    pub filename: String,
    pub manifest: Manifest,
}

/// What INFO persistence reports.
pub struct AofStats {
    pub loading: AtomicBool,
    pub loading_started_unix: AtomicI64,
    pub loading_total_bytes: AtomicU64,
    pub loading_loaded_bytes: AtomicU64,
    pub rewrite_in_progress: AtomicBool,
    /// The running rewrite writes the first base of an AOF being turned on (Redis's
    /// AOF_WAIT_REWRITE): until it is done the files hold nothing.
    pub writing_first_base: AtomicBool,
    /// A rewrite asked for while another background job ran (BGREWRITEAOF during a BGSAVE
    /// or in MULTI, CONFIG SET appendonly yes meanwhile): the cron starts it once the job is
    /// done (aof_rewrite_scheduled).
    pub rewrite_scheduled: AtomicBool,
    pub rewrite_started: Mutex<Option<Instant>>,
    pub last_rewrite_secs: AtomicI64,
    pub last_rewrite_ok: AtomicBool,
    pub rewrites: AtomicU64,
    pub rewrite_failures: AtomicU64,
    pub last_write_ok: AtomicBool,
    /// Bytes of the base and incremental files; the base alone at the last rewrite.
    pub current_size: AtomicU64,
    pub base_size: AtomicU64,
    pub fsync_in_progress: AtomicBool,
    pub delayed_fsync: AtomicU64,
}

/// The current incremental file and what was taken from the stream for it.
#[derive(Default)]
struct Sink {
    file: Option<File>,
    /// Taken from the stream but not written (the rest of a failed write): the writer thread
    /// retries it before anything else.
    pending: Vec<u8>,
    /// The stream offset `pending` ends at.
    pending_end: u64,
    /// An empty buffer swapped with the stream's, so taking a chunk allocates nothing.
    spare: Vec<u8>,
}

struct Stream {
    /// Appended, not yet taken by a writer.
    buf: Vec<u8>,
    /// The database the stream's last command runs in (None: the next one needs a SELECT).
    db: Option<usize>,
    /// Bytes appended since the AOF was opened: the stream offset.
    appended: u64,
    /// aof-timestamp-enabled, and the second of the last `#TS:` annotation.
    timestamps: bool,
    last_ts: i64,
    /// A rewrite opened a new incremental file: the writer moves to it at this offset.
    rotate: Option<(File, u64)>,
    stop: bool,
}

fn policy_code(p: AppendFsync) -> u8 {
    match p {
        AppendFsync::Always => 0,
        AppendFsync::Everysec => 1,
        AppendFsync::No => 2,
    }
}

fn unix_secs() -> i64 {
    crate::server::unix_ms() / 1000
}

impl Aof {
    pub fn new(dir: PathBuf, filename: String, policy: AppendFsync) -> Aof {
        Aof {
            feeding: AtomicBool::new(false),
            policy: AtomicU8::new(policy_code(policy)),
            stream: Mutex::new(Stream {
                buf: Vec::new(),
                db: None,
                appended: 0,
                timestamps: false,
                last_ts: 0,
                rotate: None,
                stop: false,
            }),
            wake: Condvar::new(),
            sink: Mutex::new(Sink::default()),
            appended: AtomicU64::new(0),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            postponing: AtomicBool::new(false),
            fsync_delay_ms: AtomicU64::new(0),
            progress: tokio::sync::Notify::new(),
            writer: Mutex::new(None),
            files: Mutex::new(Files {
                dir,
                filename,
                manifest: Manifest::default(),
            }),
            stats: AofStats {
                loading: AtomicBool::new(false),
                loading_started_unix: AtomicI64::new(0),
                loading_total_bytes: AtomicU64::new(0),
                loading_loaded_bytes: AtomicU64::new(0),
                rewrite_in_progress: AtomicBool::new(false),
                writing_first_base: AtomicBool::new(false),
                rewrite_scheduled: AtomicBool::new(false),
                rewrite_started: Mutex::new(None),
                last_rewrite_secs: AtomicI64::new(-1),
                last_rewrite_ok: AtomicBool::new(true),
                rewrites: AtomicU64::new(0),
                rewrite_failures: AtomicU64::new(0),
                last_write_ok: AtomicBool::new(true),
                current_size: AtomicU64::new(0),
                base_size: AtomicU64::new(0),
                fsync_in_progress: AtomicBool::new(false),
                delayed_fsync: AtomicU64::new(0),
            },
        }
    }

    /// Whether executed writes are recorded (read with the request's shards locked).
    #[inline]
    pub fn feeding(&self) -> bool {
        self.feeding.load(Ordering::Acquire)
    }

    fn policy(&self) -> AppendFsync {
        match self.policy.load(Ordering::Relaxed) {
            0 => AppendFsync::Always,
            1 => AppendFsync::Everysec,
            _ => AppendFsync::No,
        }
    }

    pub fn set_policy(&self, p: AppendFsync) {
        self.policy.store(policy_code(p), Ordering::Relaxed);
        self.wake.notify_one();
    }

    pub fn set_timestamps(&self, on: bool) {
        self.stream.lock().timestamps = on;
    }

    /// Appends one request's writes to the stream; returns the stream offset they end at.
    pub fn append(&self, prop: &mut Propagation) -> u64 {
        let mut s = self.stream.lock();
        let s = &mut *s;
        let before = s.buf.len();
        annotate_time(s);
        prop.drain_into(&mut s.buf, &mut s.db);
        s.appended += (s.buf.len() - before) as u64;
        let end = s.appended;
        self.appended.store(end, Ordering::Release);
        // Under everysec and no the connection waiting for it writes it (`wait_durable`).
        if before == 0 && self.policy() == AppendFsync::Always {
            self.wake.notify_one();
        }
        end
    }

    /// Appends one command outside any request (active expiry's deletions).
    pub fn append_command(&self, db: usize, args: &[&[u8]]) {
        let mut s = self.stream.lock();
        let s = &mut *s;
        let before = s.buf.len();
        annotate_time(s);
        propagate::select_db(&mut s.buf, &mut s.db, db);
        crate::protocol::encode_command(&mut s.buf, args.iter().copied());
        s.appended += (s.buf.len() - before) as u64;
        self.appended.store(s.appended, Ordering::Release);
        // Nobody waits for it: under everysec and no the next writer, or the writer thread's
        // round within a second, takes it.
        if before == 0 && self.policy() == AppendFsync::Always {
            self.wake.notify_one();
        }
    }

    /// Offset of everything appended so far.
    pub fn appended(&self) -> u64 {
        self.appended.load(Ordering::Acquire)
    }

    /// Waits until the writes up to stream offset `offset` may be acknowledged: fsynced under
    /// appendfsync always, written otherwise (or held back behind a slow fsync); at once when
    /// the AOF is turned off (its last fsync covered everything).
    pub async fn wait_durable(&self, offset: u64) {
        loop {
            let notified = self.progress.notified();
            let always = self.policy() == AppendFsync::Always;
            let reached = if always {
                self.synced.load(Ordering::Acquire) >= offset
            } else {
                self.written.load(Ordering::Acquire) >= offset
                    || self.postponing.load(Ordering::Acquire)
            };
            if reached || !self.feeding() {
                return;
            }
            if !always && self.write_out() {
                continue;
            }
            notified.await;
        }
    }

    /// Writes the stream to the file from the calling connection (everysec, no). False when
    /// it has to wait instead: another writer holds the file (it wakes the waiters when done),
    /// or the writer thread has to act (a rotation, a stop, a failed write to retry, an fsync
    /// running that writes wait behind).
    fn write_out(&self) -> bool {
        let Some(mut sink) = self.sink.try_lock() else {
            return false;
        };
        let sink = &mut *sink;
        let fsync_running = self.policy() == AppendFsync::Everysec
            && self.stats.fsync_in_progress.load(Ordering::Acquire);
        let mut s = self.stream.lock();
        let Some(file) = sink.file.as_mut() else {
            return false;
        };
        if fsync_running || !sink.pending.is_empty() || s.rotate.is_some() || s.stop {
            drop(s);
            self.wake.notify_one();
            return false;
        }
        std::mem::swap(&mut s.buf, &mut sink.spare);
        let end = s.appended;
        drop(s);
        let chunk = &sink.spare;
        match write_some(file, chunk) {
            Ok(()) => {
                self.wrote(chunk.len());
                self.mark_written(end);
            }
            Err((done, e)) => {
                self.wrote(done);
                self.write_failed(&e);
                sink.pending = chunk[done..].to_vec();
                sink.pending_end = end;
                self.wake.notify_one();
            }
        }
        sink.spare.clear();
        true
    }

    /// Counts bytes that reached the file; a write after failed ones is logged as Redis does.
    fn wrote(&self, bytes: usize) {
        self.stats
            .current_size
            .fetch_add(bytes as u64, Ordering::Relaxed);
        if bytes > 0 && !self.stats.last_write_ok.swap(true, Ordering::Relaxed) {
            tracing::warn!("AOF write error looks solved, Redis can write again.");
        }
    }

    fn write_failed(&self, e: &std::io::Error) {
        if self.stats.last_write_ok.swap(false, Ordering::Relaxed) {
            tracing::warn!("Error writing to the AOF file: {e}");
        }
    }

    fn mark_written(&self, offset: u64) {
        self.written.fetch_max(offset, Ordering::AcqRel);
        self.progress.notify_waiters();
    }

    fn mark_synced(&self, offset: u64) {
        self.written.fetch_max(offset, Ordering::AcqRel);
        self.synced.fetch_max(offset, Ordering::AcqRel);
        self.progress.notify_waiters();
    }

    /// Starts recording into `file` (an incremental file open for append). Called with every
    /// shard locked, or before clients are served.
    pub fn begin(&self, server: &Arc<Server>, file: File) {
        {
            let mut s = self.stream.lock();
            s.buf.clear();
            s.db = None;
            s.rotate = None;
            s.stop = false;
            s.last_ts = 0;
            self.written.store(s.appended, Ordering::Release);
            self.synced.store(s.appended, Ordering::Release);
        }
        *self.sink.lock() = Sink {
            file: Some(file),
            ..Sink::default()
        };
        let srv = server.clone();
        let handle = std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || writer_loop(srv))
            .expect("spawn the AOF writer thread");
        *self.writer.lock() = Some(handle);
        self.feeding.store(true, Ordering::Release);
    }

    /// Moves the writer to a new incremental file at the current stream offset (a rewrite
    /// starting). Called with every shard locked, so the offset is an exact cut-over point.
    pub fn rotate(&self, file: File) {
        let mut s = self.stream.lock();
        let at = s.appended;
        s.rotate = Some((file, at));
        // Each file is replayed from database 0: the new one starts with a SELECT.
        s.db = None;
        s.last_ts = 0;
        drop(s);
        self.wake.notify_one();
    }

    /// Stops recording: the writer writes and fsyncs what is left, then exits.
    pub fn stop(&self) {
        self.feeding.store(false, Ordering::Release);
        self.stream.lock().stop = true;
        self.wake.notify_one();
        if let Some(h) = self.writer.lock().take() {
            let _ = h.join();
        }
        self.progress.notify_waiters();
    }

    /// Bytes appended but not yet written to the file (aof_buffer_length).
    pub fn buffered(&self) -> u64 {
        self.appended()
            .saturating_sub(self.written.load(Ordering::Acquire))
    }
}

/// CONFIG SET appendonly: turning it on writes a base first (recording starts at its
/// cut-over), scheduled while another background job runs; turning it off stops a running
/// rewrite (as Redis kills its child), flushes and fsyncs what was appended, then stops.
pub fn apply_appendonly(server: &Arc<Server>) {
    let on = server.config.read().appendonly;
    let scheduled = &server.aof.stats.rewrite_scheduled;
    if on && !server.aof.feeding() {
        match rewrite::start_background(server) {
            Ok(()) => {}
            // A base alone is being written (BGREWRITEAOF with the AOF off): start after it.
            Err(crate::persistence::Job::Rewrite) => scheduled.store(true, Ordering::Release),
            Err(crate::persistence::Job::Save) => {
                tracing::warn!(
                    "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible."
                );
                scheduled.store(true, Ordering::Release);
            }
        }
    } else if !on {
        scheduled.store(false, Ordering::Release);
        server.persistence.abort(crate::persistence::Job::Rewrite);
        if server.aof.feeding() {
            server.aof.stop();
        }
    }
}

/// `#TS:<unix seconds>` before the first command of each second (aof-timestamp-enabled).
fn annotate_time(s: &mut Stream) {
    if s.timestamps {
        let now = unix_secs();
        if now > s.last_ts {
            s.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            s.last_ts = now;
        }
    }
}

/// Writes as much of `bytes` as the file takes; on an error, how much was written.
fn write_some(file: &mut File, bytes: &[u8]) -> Result<(), (usize, std::io::Error)> {
    let mut done = 0;
    while done < bytes.len() {
        match file.write(&bytes[done..]) {
            Ok(0) => return Err((done, std::io::ErrorKind::WriteZero.into())),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err((done, e)),
        }
    }
    Ok(())
}

/// Writes `bytes` completely; a failing disk is retried each second from where it stopped
/// (Redis keeps the data and retries), except under appendfsync always where Redis exits
/// rather than acknowledge writes it cannot persist.
fn write_fully(aof: &Aof, file: &mut File, mut bytes: &[u8]) {
    loop {
        match write_some(file, bytes) {
            Ok(()) => {
                aof.wrote(bytes.len());
                return;
            }
            Err((done, e)) => {
                aof.wrote(done);
                bytes = &bytes[done..];
                if aof.policy() == AppendFsync::Always {
                    tracing::error!(
                        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... ({e})"
                    );
                    std::process::exit(1);
                }
                aof.write_failed(&e);
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// The thread that fsyncs for appendfsync everysec, so writes never wait for the disk flush
/// (Redis's bio fsync job).
fn spawn_fsyncer(server: Arc<Server>) -> std::sync::mpsc::Sender<File> {
    let (tx, rx) = std::sync::mpsc::channel::<File>();
    std::thread::Builder::new()
        .name("aof-fsync".into())
        .spawn(move || {
            for f in rx {
                let delay = server.aof.fsync_delay_ms.load(Ordering::Relaxed);
                if delay > 0 {
                    std::thread::sleep(Duration::from_millis(delay));
                }
                if let Err(e) = f.sync_data() {
                    tracing::warn!("AOF fsync failed: {e}");
                }
                server
                    .aof
                    .stats
                    .fsync_in_progress
                    .store(false, Ordering::Release);
            }
        })
        .expect("spawn the AOF fsync thread");
    tx
}

fn writer_loop(server: Arc<Server>) {
    let aof = &server.aof;
    let fsyncer = spawn_fsyncer(server.clone());
    let mut last_fsync = Instant::now();
    // The stream offset the last fsync (asked for or done) covers.
    let mut fsynced_to = aof.written.load(Ordering::Acquire);
    loop {
        let mut s = aof.stream.lock();
        let mut postponed: Option<Instant> = None;
        loop {
            if s.stop || s.rotate.is_some() {
                break;
            }
            if postponed.is_some() && !aof.stats.fsync_in_progress.load(Ordering::Acquire) {
                // The fsync is done: replies wait for their writes again (a connection may
                // have written the stream meanwhile, leaving nothing here to write).
                postponed = None;
                aof.postponing.store(false, Ordering::Release);
            }
            let policy = aof.policy();
            if !s.buf.is_empty() {
                if policy == AppendFsync::Everysec
                    && aof.stats.fsync_in_progress.load(Ordering::Acquire)
                {
                    let since = *postponed.get_or_insert_with(|| {
                        aof.postponing.store(true, Ordering::Release);
                        aof.progress.notify_waiters();
                        Instant::now()
                    });
                    if since.elapsed() < MAX_FSYNC_POSTPONE {
                        aof.wake.wait_for(&mut s, Duration::from_millis(5));
                        continue;
                    }
                    aof.stats.delayed_fsync.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis."
                    );
                }
                break;
            }
            if !aof.stats.last_write_ok.load(Ordering::Relaxed) {
                // A connection's write failed: its rest waits in the sink.
                break;
            }
            // everysec: written data is fsynced a second after the last fsync, once the
            // previous one has finished.
            let everysec_pending =
                policy == AppendFsync::Everysec && aof.written.load(Ordering::Acquire) > fsynced_to;
            let fsync_running = aof.stats.fsync_in_progress.load(Ordering::Acquire);
            if everysec_pending && !fsync_running && last_fsync.elapsed() >= Duration::from_secs(1)
            {
                break;
            }
            let wait = if everysec_pending && fsync_running {
                Duration::from_millis(10)
            } else if everysec_pending {
                Duration::from_secs(1).saturating_sub(last_fsync.elapsed())
            } else {
                // Under everysec and no, connections write: this round picks up what was
                // appended with nobody waiting (active expiry's deletions).
                Duration::from_secs(1)
            };
            aof.wake
                .wait_for(&mut s, wait.max(Duration::from_millis(1)));
        }
        if postponed.is_some() {
            aof.postponing.store(false, Ordering::Release);
        }
        drop(s);

        // Sink, then stream: the order every writer takes them in.
        let mut sink = aof.sink.lock();
        let sink = &mut *sink;
        let Some(mut file) = sink.file.take() else {
            return;
        };
        if !sink.pending.is_empty() {
            write_fully(aof, &mut file, &sink.pending);
            sink.pending.clear();
            aof.mark_written(sink.pending_end);
        }
        let mut s = aof.stream.lock();
        std::mem::swap(&mut s.buf, &mut sink.spare);
        let end = s.appended;
        let rotate = s.rotate.take();
        let stop = s.stop;
        drop(s);

        let chunk = std::mem::take(&mut sink.spare);
        let start = end - chunk.len() as u64;
        let mut rest: &[u8] = &chunk;
        if let Some((next, at)) = rotate {
            let (old, new) = rest.split_at((at - start) as usize);
            write_fully(aof, &mut file, old);
            // The old file is complete and durable before it can become history.
            let _ = file.sync_data();
            file = next;
            rest = new;
        }
        if !rest.is_empty() {
            write_fully(aof, &mut file, rest);
        }
        sink.spare = chunk;
        sink.spare.clear();
        if stop {
            let _ = file.sync_data();
            aof.mark_synced(end);
            return;
        }
        let policy = aof.policy();
        // no-appendfsync-on-rewrite: no fsync while a rewrite or a BGSAVE writes (Redis:
        // while any child runs).
        let skip_fsync =
            server.config.read().aof.no_fsync_on_rewrite && server.persistence.running().is_some();
        match policy {
            AppendFsync::Always => {
                // Whatever is not known to be on disk, including what connections wrote
                // before the policy became always.
                if end > aof.synced.load(Ordering::Acquire) && !skip_fsync {
                    if let Err(e) = file.sync_data() {
                        tracing::error!(
                            "Can't persist the AOF (fsync failed) with appendfsync always: {e}. Exiting..."
                        );
                        std::process::exit(1);
                    }
                    last_fsync = Instant::now();
                }
                fsynced_to = end;
                aof.mark_synced(end);
            }
            AppendFsync::Everysec => {
                aof.mark_written(end);
                if end > fsynced_to
                    && !skip_fsync
                    && last_fsync.elapsed() >= Duration::from_secs(1)
                    && !aof.stats.fsync_in_progress.load(Ordering::Acquire)
                    && let Ok(dup) = file.try_clone()
                {
                    aof.stats.fsync_in_progress.store(true, Ordering::Release);
                    if fsyncer.send(dup).is_err() {
                        aof.stats.fsync_in_progress.store(false, Ordering::Release);
                    }
                    last_fsync = Instant::now();
                    fsynced_to = end;
                }
            }
            AppendFsync::No => {
                aof.mark_written(end);
                fsynced_to = end;
            }
        }
        sink.file = Some(file);
    }
}
