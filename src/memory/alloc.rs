//! The global allocator: jemalloc, counting the bytes it hands out so `used_memory` (INFO, the
//! maxmemory check before every write) is a relaxed atomic load instead of a jemalloc stats
//! refresh. Counts are jemalloc's size classes (what `allocator_allocated` reports), kept per
//! thread and folded into the shared total every `FLUSH_BYTES`, so threads do not contend on one
//! cache line for every allocation. The total is exact to within `FLUSH_BYTES` per thread.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tikv_jemallocator::Jemalloc;

/// Bytes allocated and not yet freed, as of the last flush of every thread.
static USED: AtomicI64 = AtomicI64::new(0);

/// A thread's unflushed change; folded into `USED` once it reaches this size either way.
const FLUSH_BYTES: i64 = 64 * 1024;

/// The thread's unflushed change, handed to `USED` when the thread ends so nothing drifts.
struct Pending(Cell<i64>);

impl Drop for Pending {
    fn drop(&mut self) {
        USED.fetch_add(self.0.replace(0), Ordering::Relaxed);
    }
}

/// Bumped by MEMORY PURGE: every thread hands its cache of freed blocks back at its next flush.
static PURGE_EPOCH: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static PENDING: Pending = const { Pending(Cell::new(0)) };
    /// The last `PURGE_EPOCH` this thread acted on.
    static PURGED: Cell<u64> = const { Cell::new(0) };
}

#[inline]
fn account(delta: i64) {
    let flushed = PENDING.try_with(|p| {
        let v = p.0.get() + delta;
        if v.abs() >= FLUSH_BYTES {
            USED.fetch_add(v, Ordering::Relaxed);
            p.0.set(0);
        } else {
            p.0.set(v);
        }
    });
    // During thread teardown the thread-local is gone: count straight into the total.
    if flushed.is_err() {
        USED.fetch_add(delta, Ordering::Relaxed);
    }
}

/// The size class jemalloc really reserves for `layout` (its `nallocx`).
#[inline]
fn class_size(layout: Layout) -> i64 {
    // MALLOCX_ALIGN(a) is log2(a); alignments up to 16 are what plain malloc gives.
    let flags = if layout.align() <= 16 {
        0
    } else {
        layout.align().trailing_zeros() as i32
    };
    // SAFETY: nallocx only computes a size class; a size of 0 is never passed by GlobalAlloc
    // callers (Layout sizes of 0 are not allocated through it).
    let size = unsafe { tikv_jemalloc_sys::nallocx(layout.size().max(1), flags) };
    size as i64
}

/// jemalloc's start-up options (read by jemalloc under its prefixed symbol name): purge freed
/// pages from a background thread (Redis's jemalloc-bg-thread) after one second rather than
/// ten, so memory freed by deletes and by table resizes leaves the RSS promptly.
#[repr(transparent)]
pub struct MallocConf(*const std::ffi::c_char);

// SAFETY: a pointer to a static, immutable C string.
unsafe impl Sync for MallocConf {}

#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: MallocConf =
    MallocConf(c"background_thread:true,dirty_decay_ms:1000".as_ptr());

/// The process's global allocator (set in main.rs).
pub struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to jemalloc; the accounting only reads layouts.
unsafe impl GlobalAlloc for CountingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { Jemalloc.alloc(layout) };
        if !p.is_null() {
            account(class_size(layout));
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { Jemalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            account(class_size(layout));
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-class_size(layout));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { Jemalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // SAFETY: realloc's contract makes this a valid layout.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            account(class_size(new_layout) - class_size(layout));
        }
        p
    }
}

/// Folds this thread's unflushed change into the total, so the next `used_memory` sees what
/// this thread just freed (the eviction loop stops as soon as enough is freed).
pub fn flush_thread() {
    let _ = PENDING.try_with(|p| {
        // Skipped when nothing is pending: every worker would write the one shared line.
        let pending = p.0.replace(0);
        if pending != 0 {
            USED.fetch_add(pending, Ordering::Relaxed);
        }
    });
    let epoch = PURGE_EPOCH.load(Ordering::Relaxed);
    if epoch != 0 && PURGED.try_with(|seen| seen.replace(epoch)) != Ok(epoch) {
        mallctl_void(c"thread.tcache.flush");
    }
}

/// MEMORY PURGE: this thread's cache of freed blocks goes back to its arena now (every other
/// thread's at its next batch of requests: a worker's cache can hold megabytes of free small
/// blocks, which keep their slabs' pages resident), then every arena's dirty pages go back to
/// the OS (MALLCTL_ARENAS_ALL, as Redis's jemalloc_purge).
pub fn purge() {
    let epoch = PURGE_EPOCH.fetch_add(1, Ordering::Relaxed) + 1;
    let _ = PURGED.try_with(|seen| seen.set(epoch));
    mallctl_void(c"thread.tcache.flush");
    mallctl_void(c"arena.4096.purge");
}

/// A jemalloc control without input or output.
fn mallctl_void(name: &std::ffi::CStr) {
    // SAFETY: `name` is one of jemalloc's void controls: nothing is read or written.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

/// Bytes the server has allocated (Redis's `used_memory`); 0 when another allocator is in use
/// (unit tests).
pub fn used_memory() -> u64 {
    USED.load(Ordering::Relaxed).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purge_reaches_every_thread_at_its_next_flush() {
        purge();
        let epoch = PURGE_EPOCH.load(Ordering::Relaxed);
        assert!(
            PURGED.with(Cell::get) >= epoch,
            "the purging thread flushed at once"
        );
        std::thread::spawn(move || {
            assert_eq!(PURGED.with(Cell::get), 0);
            flush_thread();
            assert!(PURGED.with(Cell::get) >= epoch);
        })
        .join()
        .unwrap();
    }
}
