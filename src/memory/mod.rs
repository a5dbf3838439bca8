//! Memory: the counting allocator behind `used_memory`, maxmemory eviction, and the sizes
//! MEMORY USAGE reports.

pub mod alloc;
pub mod evict;
pub mod usage;
