//! Persistence in Redis's own formats.
//!
//! - `aof`: the append-only file (Redis 7's multi-part layout), fed from the dispatcher.
//! - `rdb`: the codec (files of RDB versions 1-12 read, version 10 written as redis-server 7.0
//!   writes it; DUMP/RESTORE payloads), `lzf`: Redis's LZF.
//! - `snapshot`: point-in-time snapshots without fork (see its docs and DESIGN.md).
//! - This module: SAVE/BGSAVE and their bookkeeping (INFO persistence, LASTSAVE, save points,
//!   stop-writes-on-bgsave-error), the start-up load and DEBUG RELOAD.
//!
//! ## One background job at a time
//! The keyspace has one snapshot slot, so BGSAVE and the AOF rewrite (whose base is a snapshot
//! too) run one at a time, as Redis runs one child process: `State::claim` takes the slot, and
//! a job that finds it taken is refused or scheduled with Redis's replies, then started by the
//! cron (`cron`) once the slot is free.
//!
//! Loading an AOF base with an RDB preamble: `rdb::decode::load` stops right after the RDB
//! checksum and reports `LoadStats::end_offset`, where the AOF commands start; pass
//! `skip_expired: false`.

pub mod aof;
pub mod lzf;
pub mod rdb;
pub mod snapshot;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::server::{Server, unix_ms};
use crate::storage::keyspace::Shard;
use crate::storage::{DbView, Keyspace};
use rdb::decode::{self, Limits, LoadContext, LoadStats, LoadedKey};
use rdb::encode::Access;

/// Redis's reply to writes while the last background save failed.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Redis waits this long after a failed BGSAVE before a save point may try again.
const BGSAVE_RETRY_DELAY_SECS: i64 = 5;

/// A background job holding the keyspace's snapshot slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Save,
    Rewrite,
}

struct Running {
    job: Job,
    /// Set once the job's snapshot has started.
    abort: Option<snapshot::AbortHandle>,
    /// Stopping was asked for, maybe before the snapshot started: it stops as soon as it can.
    stop_asked: bool,
}

/// Redis's reply to BGSAVE while an AOF rewrite runs.
const OTHER_CHILD: &str = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";

/// The bookkeeping behind INFO persistence, LASTSAVE and the save points.
pub struct State {
    pub loading: AtomicBool,
    running: Mutex<Option<Running>>,
    /// BGSAVE inside MULTI/EXEC (which holds every shard): started by the cron afterwards.
    bgsave_scheduled: AtomicBool,
    bgsave_started_ms: AtomicI64,
    keys_total: AtomicU64,
    last_bgsave_ok: AtomicBool,
    last_bgsave_secs: AtomicI64,
    last_bgsave_try: AtomicI64,
    saves: AtomicU64,
    /// Writes counted by the keyspace when the data on disk was taken.
    dirty_at_save: AtomicU64,
    /// Extra memory of the last background save: the snapshot's output buffer.
    last_snapshot_bytes: AtomicU64,
    load_keys_loaded: AtomicU64,
    load_keys_expired: AtomicU64,
}

impl Default for State {
    fn default() -> Self {
        State {
            loading: AtomicBool::new(false),
            running: Mutex::new(None),
            bgsave_scheduled: AtomicBool::new(false),
            bgsave_started_ms: AtomicI64::new(0),
            keys_total: AtomicU64::new(0),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            last_bgsave_try: AtomicI64::new(0),
            saves: AtomicU64::new(0),
            dirty_at_save: AtomicU64::new(0),
            last_snapshot_bytes: AtomicU64::new(0),
            load_keys_loaded: AtomicU64::new(0),
            load_keys_expired: AtomicU64::new(0),
        }
    }
}

impl State {
    /// The background job holding the snapshot slot.
    pub fn running(&self) -> Option<Job> {
        self.running.lock().as_ref().map(|r| r.job)
    }

    /// Takes the snapshot slot for `job`; Err names the job that holds it.
    pub fn claim(&self, job: Job) -> Result<(), Job> {
        let mut r = self.running.lock();
        match r.as_ref() {
            Some(other) => Err(other.job),
            None => {
                *r = Some(Running {
                    job,
                    abort: None,
                    stop_asked: false,
                });
                Ok(())
            }
        }
    }

    /// The running job's snapshot has started: it can be aborted from now on (at once if
    /// that was asked for before).
    pub fn set_abort(&self, handle: snapshot::AbortHandle) {
        if let Some(r) = self.running.lock().as_mut() {
            if r.stop_asked {
                handle.abort();
            }
            r.abort = Some(handle);
        }
    }

    /// Whether the running job was asked to stop (read at a rewrite's cut-over, which must not
    /// start an AOF that was turned off meanwhile).
    pub fn stop_asked(&self) -> bool {
        self.running.lock().as_ref().is_some_and(|r| r.stop_asked)
    }

    pub fn release(&self) {
        *self.running.lock() = None;
    }

    /// Stops the running job if it is `job` (its file is discarded; the status is unchanged).
    pub fn abort(&self, job: Job) {
        if let Some(r) = self.running.lock().as_mut()
            && r.job == job
        {
            r.stop_asked = true;
            if let Some(h) = &r.abort {
                h.abort();
            }
        }
    }

    pub fn bgsave_in_progress(&self) -> bool {
        self.running() == Some(Job::Save)
    }

    /// Writes are refused (MISCONF): the last background save failed, save points are set and
    /// stop-writes-on-bgsave-error is on.
    pub fn writes_refused(&self, server: &Server) -> bool {
        if self.last_bgsave_ok.load(Ordering::Relaxed) {
            return false;
        }
        let c = server.config.read();
        c.stop_writes_on_bgsave_error && !c.save.is_empty()
    }

    /// Stops a running background save (its file is discarded; the status is unchanged).
    pub fn abort_bgsave(&self) {
        if self.bgsave_in_progress() {
            tracing::warn!("Background saving aborted");
        }
        self.abort(Job::Save);
    }
}

/// The INFO persistence lines owned by RDB, in Redis's order, up to the aof_* ones.
pub fn info_lines(server: &Server, dirty_total: u64, out: &mut String) {
    use std::fmt::Write;
    let st = &server.persistence;
    let now = unix_ms();
    let in_progress = st.bgsave_in_progress();
    let (current, buffer) = match st.running.lock().as_ref() {
        Some(Running {
            job: Job::Save,
            abort: Some(h),
            ..
        }) => (Some(h.keys_written()), h.extra_bytes()),
        _ => (None, 0),
    };
    let changes = dirty_total.saturating_sub(st.dirty_at_save.load(Ordering::Relaxed));
    let cur_secs = if in_progress {
        (now - st.bgsave_started_ms.load(Ordering::Relaxed)) / 1000
    } else {
        -1
    };
    let _ = write!(
        out,
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:{buffer}\r\ncurrent_cow_size:{buffer}\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:{:.2}\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\n",
        st.loading.load(Ordering::Relaxed) as u8,
        match (current, st.keys_total.load(Ordering::Relaxed)) {
            (Some(done), total) if total > 0 => done as f64 * 100.0 / total as f64,
            _ => 0.0,
        },
        current.unwrap_or(0),
        if in_progress {
            st.keys_total.load(Ordering::Relaxed)
        } else {
            0
        },
    );
    let _ = write!(
        out,
        "rdb_changes_since_last_save:{changes}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{cur_secs}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
        in_progress as u8,
        server.last_save_unix.load(Ordering::Relaxed),
        if st.last_bgsave_ok.load(Ordering::Relaxed) {
            "ok"
        } else {
            "err"
        },
        st.last_bgsave_secs.load(Ordering::Relaxed),
        st.saves.load(Ordering::Relaxed),
        st.last_snapshot_bytes.load(Ordering::Relaxed),
        st.load_keys_expired.load(Ordering::Relaxed),
        st.load_keys_loaded.load(Ordering::Relaxed),
    );
}

fn rdb_path(server: &Server) -> PathBuf {
    PathBuf::from(&server.config.read().dbfilename)
}

fn temp_path(background: bool) -> PathBuf {
    let pid = std::process::id();
    if background {
        PathBuf::from(format!("temp-bgsave-{pid}.rdb"))
    } else {
        PathBuf::from(format!("temp-{pid}.rdb"))
    }
}

/// Records a successful save of the data as of `dirty` writes.
fn saved(server: &Server, dirty: u64) {
    server
        .last_save_unix
        .store(unix_ms() / 1000, Ordering::Relaxed);
    let st = &server.persistence;
    st.dirty_at_save.store(dirty, Ordering::Relaxed);
    st.saves.fetch_add(1, Ordering::Relaxed);
    st.last_bgsave_ok.store(true, Ordering::Relaxed);
}

/// Saves in the foreground from shards the caller holds locked (SAVE, SHUTDOWN, FLUSHALL,
/// DEBUG RELOAD). `reset_dirty`: the saved data counts as the last save for
/// rdb_changes_since_last_save (not for FLUSHALL's save, as in Redis).
pub fn save_locked(server: &Server, shards: &[&Shard], reset_dirty: bool) -> Result<(), String> {
    let temp = temp_path(false);
    let target = rdb_path(server);
    let result = File::create(&temp)
        .and_then(|f| snapshot::write_file(server, f, shards))
        .and_then(|_| snapshot::install(&temp, &target));
    match result {
        Ok(()) => {
            let dirty: u64 = shards.iter().map(|s| s.stats.dirty).sum();
            let base = if reset_dirty {
                dirty
            } else {
                server.persistence.dirty_at_save.load(Ordering::Relaxed)
            };
            saved(server, base);
            tracing::info!("DB saved on disk");
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            tracing::warn!("Failed saving the DB: {e}");
            Err(e.to_string())
        }
    }
}

/// BGSAVE [SCHEDULE] (`in_exec`: inside MULTI/EXEC, which holds every shard, so the
/// snapshot's instant must wait): Redis's reply text, or its error.
pub fn bgsave_command(
    server: &Arc<Server>,
    schedule: bool,
    in_exec: bool,
) -> Result<&'static str, String> {
    let st = &server.persistence;
    let scheduled = |st: &State| {
        st.bgsave_scheduled.store(true, Ordering::Relaxed);
        Ok("Background saving scheduled")
    };
    match st.running() {
        Some(Job::Save) => return Err("ERR Background save already in progress".into()),
        Some(Job::Rewrite) if schedule || in_exec => return scheduled(st),
        Some(Job::Rewrite) => return Err(OTHER_CHILD.into()),
        None if in_exec => return scheduled(st),
        None => {}
    }
    match bgsave(server) {
        Ok(()) => Ok("Background saving started"),
        // Another job took the slot meanwhile: answer as if it had been there first.
        Err(Some(job)) => match job {
            Job::Save => Err("ERR Background save already in progress".into()),
            Job::Rewrite if schedule => scheduled(st),
            Job::Rewrite => Err(OTHER_CHILD.into()),
        },
        Err(None) => Err("ERR".into()),
    }
}

/// Starts a background save. Err(Some(job)): the snapshot slot is taken; Err(None): the
/// save could not start (logged).
pub fn bgsave(server: &Arc<Server>) -> Result<(), Option<Job>> {
    let st = &server.persistence;
    st.claim(Job::Save).map_err(Some)?;
    let now = unix_ms();
    st.last_bgsave_try.store(now / 1000, Ordering::Relaxed);
    let temp = temp_path(true);
    let target = rdb_path(server);
    let started = File::create(&temp)
        .and_then(|f| snapshot::begin(server, f, snapshot::Format::Rdb { aof_base: false }, || ()));
    let snap = match started {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("Can't save in background: {e}");
            let _ = std::fs::remove_file(&temp);
            st.last_bgsave_ok.store(false, Ordering::Relaxed);
            st.release();
            return Err(None);
        }
    };
    st.keys_total.store(snap.keys_at_instant, Ordering::Relaxed);
    st.bgsave_started_ms.store(now, Ordering::Relaxed);
    st.set_abort(snap.abort_handle());
    tracing::info!("Background saving started");
    let srv = server.clone();
    std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let server = srv;
            let dirty = snap.dirty_at_instant;
            let handle = snap.abort_handle();
            let result = snap
                .complete(&server.keyspace)
                .and_then(|_| snapshot::install(&temp, &target).map_err(|e| e.to_string()));
            let st = &server.persistence;
            match result {
                Ok(()) => {
                    saved(&server, dirty);
                    st.last_snapshot_bytes
                        .store(handle.extra_bytes(), Ordering::Relaxed);
                    tracing::info!("Background saving terminated with success");
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&temp);
                    if e != snapshot::ABORTED {
                        tracing::warn!("Background saving error: {e}");
                        st.last_bgsave_ok.store(false, Ordering::Relaxed);
                    }
                }
            }
            st.last_bgsave_secs.store(
                (unix_ms() - st.bgsave_started_ms.load(Ordering::Relaxed)) / 1000,
                Ordering::Relaxed,
            );
            st.release();
        })
        .expect("spawn the background save thread");
    Ok(())
}

/// The background jobs the cron starts, in Redis's serverCron order, when none runs: a
/// scheduled AOF rewrite, the save points, the automatic AOF rewrite, a scheduled BGSAVE.
pub fn cron(server: &Arc<Server>) {
    let st = &server.persistence;
    if st.running().is_some() || st.loading.load(Ordering::Relaxed) {
        return;
    }
    if aof::rewrite::start_scheduled(server) || check_save_points(server) {
        return;
    }
    aof::rewrite::maybe_start_automatic(server);
    let now = unix_ms() / 1000;
    let retry_ok = now - st.last_bgsave_try.load(Ordering::Relaxed) > BGSAVE_RETRY_DELAY_SECS
        || st.last_bgsave_ok.load(Ordering::Relaxed);
    if st.running().is_none() && retry_ok && st.bgsave_scheduled.load(Ordering::Relaxed) {
        // Cleared only once started: a slot taken meanwhile leaves it for the next tick.
        if bgsave(server).is_ok() {
            st.bgsave_scheduled.store(false, Ordering::Relaxed);
        }
    }
}

/// The save points: BGSAVE once a point's seconds have passed since the last save with at
/// least its number of changes (after a failure, retry every 5 seconds). True if one started.
fn check_save_points(server: &Arc<Server>) -> bool {
    let st = &server.persistence;
    let points = server.config.read().save.clone();
    if points.is_empty() {
        return false;
    }
    let now = unix_ms() / 1000;
    let changes = server
        .keyspace
        .dirty_total()
        .saturating_sub(st.dirty_at_save.load(Ordering::Relaxed));
    let since_save = now - server.last_save_unix.load(Ordering::Relaxed);
    let retry_ok = now - st.last_bgsave_try.load(Ordering::Relaxed) > BGSAVE_RETRY_DELAY_SECS
        || st.last_bgsave_ok.load(Ordering::Relaxed);
    for (secs, min_changes) in points {
        if changes >= min_changes && since_save > secs as i64 && retry_ok {
            tracing::info!("{min_changes} changes in {secs} seconds. Saving...");
            return bgsave(server).is_ok();
        }
    }
    false
}

fn load_context(server: &Server, skip_expired: bool) -> LoadContext {
    LoadContext {
        limits: Limits {
            encoding: server.hot.encoding_limits(),
        },
        databases: server.keyspace.databases(),
        now_ms: unix_ms(),
        skip_expired,
    }
}

/// The access field of a loaded or restored key: idle seconds apply under non-LFU policies,
/// a frequency under LFU ones (Redis's objectSetLRUOrLFU); otherwise a fresh stamp.
pub fn access_field(server: &Server, access: Access) -> u32 {
    let clock = server.access_clock(unix_ms());
    let fresh = clock.new_key();
    match (access, clock) {
        (Access::IdleSeconds(idle), crate::storage::access::AccessClock::Lru(now)) => {
            now.wrapping_sub(idle as u32) & 0xFF_FFFF
        }
        (Access::Freq(f), crate::storage::access::AccessClock::Lfu { .. }) => {
            (fresh & !0xFF) | f as u32
        }
        _ => fresh,
    }
}

fn note_loaded(server: &Server, stats: &LoadStats) {
    let st = &server.persistence;
    st.load_keys_loaded
        .store(stats.keys_loaded, Ordering::Relaxed);
    st.load_keys_expired
        .store(stats.keys_expired, Ordering::Relaxed);
}

/// Loads dir/dbfilename at start-up, if it exists, while clients get -LOADING. Err names the
/// problem and its byte offset; the server must then exit, as redis-server does.
pub fn load_at_startup(server: &Server) -> Result<(), String> {
    let path = rdb_path(server);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let started = std::time::Instant::now();
    let len = file.metadata().map_or(0, |m| m.len());
    let stats = load_rdb(server, file, len, true)
        .map_err(|e| format!("Short read or corrupt RDB file {}: {e}", path.display()))?;
    note_loaded(server, &stats);
    // What was just loaded is what is on disk.
    server
        .persistence
        .dirty_at_save
        .store(server.keyspace.dirty_total(), Ordering::Relaxed);
    tracing::info!(
        "DB loaded from disk: {:.3} seconds ({} keys, {} expired skipped)",
        started.elapsed().as_secs_f64(),
        stats.keys_loaded,
        stats.keys_expired
    );
    Ok(())
}

/// Loads an RDB stream into the keyspace and the function libraries (the dump file, or the
/// preamble of an AOF base, where expired keys are kept: later AOF commands may touch them).
/// `file_len` bounds the RESIZEDB hints believed: a key takes at least 3 bytes of the file, so a
/// corrupt hint cannot make the tables huge.
pub fn load_rdb(
    server: &Server,
    src: impl std::io::Read,
    file_len: u64,
    skip_expired: bool,
) -> Result<LoadStats, rdb::LoadError> {
    let ctx = load_context(server, skip_expired);
    let ks: &Keyspace = &server.keyspace;
    let mut keys = |k: LoadedKey| {
        let access = access_field(server, k.access);
        if ks.insert_loaded(k.db, &k.key, k.value, k.expire_at, access) {
            Ok(())
        } else {
            Err(format!(
                "RDB has duplicated key '{}' in DB {}",
                String::from_utf8_lossy(&k.key),
                k.db
            ))
        }
    };
    decode::load(
        src,
        &ctx,
        &mut keys,
        &mut |code| server.scripting.function_load(&code, false).map(|_| ()),
        &mut |db, keys, volatile| {
            let most = file_len / 3;
            ks.reserve(db, keys.min(most), volatile.min(most));
        },
    )
}

/// DEBUG RELOAD's options.
#[derive(Clone, Copy, Debug)]
pub struct ReloadOptions {
    pub save: bool,
    pub flush: bool,
    /// Keys of the file replace existing ones instead of failing the load.
    pub merge: bool,
}

/// DEBUG RELOAD: save, empty the dataset and the function libraries, load the file back, all
/// under the caller's locks on every shard.
pub fn debug_reload(server: &Server, ks: &mut DbView, opts: ReloadOptions) -> Result<(), String> {
    if server.persistence.bgsave_in_progress() {
        return Err("ERR Background save already in progress".into());
    }
    if opts.save {
        save_locked(server, &ks.all_shards(), true)
            .map_err(|_| "ERR Error trying to save the DB".to_string())?;
    }
    if opts.flush {
        ks.flush(None);
        server.scripting.function_flush();
    }
    let path = rdb_path(server);
    let file =
        File::open(&path).map_err(|e| format!("ERR Error trying to load the RDB dump: {e}"))?;
    let ctx = load_context(server, true);
    let mut keys = |k: LoadedKey| {
        let access = access_field(server, k.access);
        if opts.merge {
            ks.remove_in(k.db, &k.key);
        }
        if ks.insert_loaded(k.db, &k.key, k.value, k.expire_at, access) {
            Ok(())
        } else {
            Err(format!(
                "RDB has duplicated key '{}' in DB {}",
                String::from_utf8_lossy(&k.key),
                k.db
            ))
        }
    };
    let mut functions = |code: Vec<u8>| {
        server
            .scripting
            .function_load(&code, opts.merge)
            .map(|_| ())
    };
    // The shards are locked here: the tables grow as keys arrive.
    let stats =
        decode::load(file, &ctx, &mut keys, &mut functions, &mut |_, _, _| {}).map_err(|e| {
            tracing::warn!("Error loading the RDB dump: {e}");
            "ERR Error trying to load the RDB dump, check server logs.".to_string()
        })?;
    note_loaded(server, &stats);
    Ok(())
}

/// Redis's prepareForShutdown (SHUTDOWN, SIGTERM, SIGINT): stops a running BGSAVE and AOF
/// rewrite, then saves when `save` (SHUTDOWN SAVE, or save points without NOSAVE) with every
/// shard locked. False: the server must keep running (the save failed, or the AOF's first base
/// is still being written), unless `force`; the reasons are logged as Redis logs them.
pub fn prepare_shutdown(server: &Server, save: bool, force: bool) -> bool {
    let ready = shutdown_steps(server, save, force);
    if !ready {
        tracing::warn!(
            "Errors trying to shut down the server. Check the logs for more information."
        );
    }
    ready
}

fn shutdown_steps(server: &Server, save: bool, force: bool) -> bool {
    let st = &server.persistence;
    if st.bgsave_in_progress() {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        st.abort(Job::Save);
        let _ = std::fs::remove_file(temp_path(true));
    }
    if st.running() == Some(Job::Rewrite) {
        // Without its first base the AOF holds nothing: stopping now would lose the dataset.
        if server.aof.stats.writing_first_base.load(Ordering::Acquire) {
            if !force {
                tracing::warn!("Writing initial AOF, can't exit.");
                return false;
            }
            tracing::warn!("Writing initial AOF. Exit anyway.");
        }
        tracing::warn!("There is a child rewriting the AOF. Killing it!");
        st.abort(Job::Rewrite);
        let dir = PathBuf::from(&server.config.read().aof.dirname);
        let _ = std::fs::remove_file(aof::rewrite::temp_base_path(&dir));
    }
    if save {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        let locked = server.keyspace.lock_all();
        if save_locked(server, &locked.shards_ref(), true).is_err() {
            if !force {
                tracing::warn!("Error trying to save the DB, can't exit.");
                return false;
            }
            tracing::warn!("Error trying to save the DB. Exit anyway.");
        }
    }
    true
}

/// FLUSHALL's file reset: with save points configured Redis 7.0 writes the now empty dataset
/// right away (a running BGSAVE is dropped first, before the flush, so it does not serialize
/// what is being deleted).
pub fn flushall_save(server: &Server, shards: &[&Shard]) {
    if !server.config.read().save.is_empty() {
        let _ = save_locked(server, shards, false);
    }
}
