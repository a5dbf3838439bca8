//! Which script runs now, and what other clients do meanwhile (Redis's busy scripts).
//!
//! A script holds every keyspace shard for its whole run. Other clients' commands wait at the
//! dispatcher's gate instead of on the shard locks: while a script is announced or running they
//! wait for it to end, and once it has run for busy-reply-threshold they get BUSY (commands
//! flagged allow-busy, like SCRIPT KILL, run instead). Waiting never holds a tokio worker for
//! long, so a 2-worker runtime still reads SCRIPT KILL while a script loops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub const EVAL_BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const FUNCTION_BUSY: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The script being executed (FUNCTION STATS, SCRIPT KILL).
pub struct Running {
    pub started: Instant,
    /// EVAL/EVALSHA rather than FCALL.
    pub eval: bool,
    /// The script's sha or the function's name.
    pub name: String,
    /// The caller's command line.
    pub command: Vec<Vec<u8>>,
}

#[derive(Default)]
pub struct RunState {
    /// Script commands dispatched and not finished (announced before they lock the keyspace).
    announced: AtomicUsize,
    running: Mutex<Option<Running>>,
    changed: Condvar,
    /// SCRIPT KILL / FUNCTION KILL asked the running script to stop (read by its Lua hook).
    pub killed: Arc<AtomicBool>,
    /// The running script has called a write command: it can no longer be killed.
    pub wrote: AtomicBool,
}

/// Whether a command may run now.
pub enum Admission {
    Run,
    Busy(&'static str),
}

/// Keeps a script command announced until dropped.
pub struct Announcement<'a>(&'a RunState);

impl Drop for Announcement<'_> {
    fn drop(&mut self) {
        self.0.announced.fetch_sub(1, Ordering::AcqRel);
        let _g = self.0.running.lock();
        self.0.changed.notify_all();
    }
}

/// Marks a script as running until dropped.
pub struct RunGuard<'a>(&'a RunState);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock();
        *running = None;
        self.0.killed.store(false, Ordering::Relaxed);
        self.0.wrote.store(false, Ordering::Relaxed);
        self.0.changed.notify_all();
    }
}

impl RunState {
    /// Cheap check for the dispatcher: is any script command in flight?
    pub fn active(&self) -> bool {
        self.announced.load(Ordering::Acquire) > 0
    }

    /// Announces a script command (EVAL, FCALL, or EXEC of a transaction holding one) before it
    /// locks the keyspace, so other clients wait at the gate rather than on the locks.
    pub fn announce(&self) -> Announcement<'_> {
        self.announced.fetch_add(1, Ordering::AcqRel);
        Announcement(self)
    }

    pub fn start(&self, running: Running) -> RunGuard<'_> {
        self.killed.store(false, Ordering::Relaxed);
        self.wrote.store(false, Ordering::Relaxed);
        *self.running.lock() = Some(running);
        RunGuard(self)
    }

    /// The dispatcher's gate for another client's command while a script is in flight: waits
    /// until no script is, or the running one has been busy for `threshold_ms` (0: never busy).
    pub fn admit(&self, allow_busy: bool, threshold_ms: u64) -> Admission {
        // Most scripts are short: wait for them on this thread first, and only hand the worker
        // over to the runtime when the wait gets long.
        let quick = Instant::now() + Duration::from_millis(1);
        if let Some(a) = self.wait(allow_busy, threshold_ms, Some(quick)) {
            return a;
        }
        off_worker(|| {
            self.wait(allow_busy, threshold_ms, None)
                .unwrap_or(Admission::Run)
        })
    }

    /// Waits for an outcome, or until `until` (then None).
    fn wait(
        &self,
        allow_busy: bool,
        threshold_ms: u64,
        until: Option<Instant>,
    ) -> Option<Admission> {
        let mut running = self.running.lock();
        loop {
            if !self.active() {
                return Some(Admission::Run);
            }
            let mut wake = until;
            if let Some(r) = running.as_ref().filter(|_| threshold_ms > 0) {
                let busy_at = r.started + Duration::from_millis(threshold_ms);
                if Instant::now() >= busy_at {
                    return Some(if allow_busy {
                        Admission::Run
                    } else if r.eval {
                        Admission::Busy(EVAL_BUSY)
                    } else {
                        Admission::Busy(FUNCTION_BUSY)
                    });
                }
                wake = Some(wake.map_or(busy_at, |w| w.min(busy_at)));
            }
            let now = Instant::now();
            if until.is_some_and(|u| now >= u) {
                return None;
            }
            // Announced scripts not started yet have no start time: look again shortly.
            let wake = wake.unwrap_or(now + Duration::from_millis(10));
            self.changed.wait_until(&mut running, wake);
        }
    }

    /// Whether a script is executing now (commands allowed while it is busy lock off-worker).
    pub fn is_running(&self) -> bool {
        self.active() && self.running.lock().is_some()
    }

    /// SCRIPT KILL (`eval`) / FUNCTION KILL.
    pub fn kill(&self, eval: bool) -> Result<(), &'static str> {
        let running = self.running.lock();
        let Some(r) = running.as_ref() else {
            return Err("NOTBUSY No scripts in execution right now.");
        };
        if self.wrote.load(Ordering::Relaxed) {
            return Err(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            );
        }
        if eval && !r.eval {
            return Err(FUNCTION_BUSY);
        }
        if !eval && r.eval {
            return Err(EVAL_BUSY);
        }
        self.killed.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Reads the running script's state.
    pub fn with_running<R>(&self, f: impl FnOnce(Option<&Running>) -> R) -> R {
        f(self.running.lock().as_ref())
    }
}

/// Runs `f`, which may block for long, without holding a tokio worker: on the multi-threaded
/// runtime the worker's other tasks move to another thread meanwhile.
pub fn off_worker<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Lets go of the tokio worker a long script runs on (from the script's Lua hook, every 100000
/// instructions). Scripts start in place because `off_worker` costs a thread hand-off per call
/// (it made EVALSHA of a one-line script 3 to 4 times slower); but a task waiting in the
/// worker's LIFO slot cannot be stolen by other workers and would wait for the whole script.
/// `block_in_place` moves it to the stealable queue and hands the worker's core to a new
/// thread; the spawned no-op wakes a parked worker to take what is queued in case this thread
/// takes the core back. Once the core is gone, later calls only spawn the no-op.
pub fn release_worker() {
    if let Ok(h) = tokio::runtime::Handle::try_current()
        && h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(|| drop(h.spawn(async {})));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(eval: bool, ago_ms: u64) -> Running {
        Running {
            started: Instant::now() - Duration::from_millis(ago_ms),
            eval,
            name: "x".into(),
            command: Vec::new(),
        }
    }

    #[test]
    fn idle_admits_at_once() {
        let s = RunState::default();
        assert!(matches!(s.admit(false, 5000), Admission::Run));
    }

    #[test]
    fn busy_past_threshold() {
        let s = RunState::default();
        let _a = s.announce();
        let _r = s.start(running(true, 100));
        assert!(matches!(s.admit(false, 50), Admission::Busy(EVAL_BUSY)));
        assert!(matches!(s.admit(true, 50), Admission::Run));
        assert!(s.kill(false).is_err());
        assert!(s.kill(true).is_ok());
    }

    #[test]
    fn waits_for_a_short_script() {
        let s = Arc::new(RunState::default());
        let a = s.announce();
        let r = s.start(running(false, 0));
        let s2 = s.clone();
        let t = std::thread::spawn(move || matches!(s2.admit(false, 60_000), Admission::Run));
        drop(r);
        drop(a);
        assert!(t.join().unwrap());
    }

    #[test]
    fn unkillable_after_a_write() {
        let s = RunState::default();
        let _a = s.announce();
        let _r = s.start(running(true, 0));
        s.wrote.store(true, Ordering::Relaxed);
        assert!(s.kill(true).unwrap_err().starts_with("UNKILLABLE"));
    }
}
