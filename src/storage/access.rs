//! Per-key access data, the 24 bits Redis keeps in every object: the LRU clock (seconds) under
//! LRU policies, or under LFU policies a logarithmic access counter (8 bits) and the minute it
//! was last decremented (16 bits). OBJECT IDLETIME/FREQ and eviction read the same field.

/// A new key's LFU counter (LFU_INIT_VAL), so fresh keys are not evicted at once.
pub const LFU_INIT_VAL: u32 = 5;

/// What a command stamps on the keys it touches.
#[derive(Clone, Copy, Debug)]
pub enum AccessClock {
    /// Seconds on the server's LRU clock.
    Lru(u32),
    Lfu {
        /// Unix minutes modulo 2^16.
        minutes: u32,
        log_factor: u32,
        /// Minutes per decrement of the counter; 0 disables decay.
        decay_minutes: u32,
    },
}

impl AccessClock {
    /// The access field of a key created now.
    pub fn new_key(self) -> u32 {
        match self {
            AccessClock::Lru(clock) => clock,
            AccessClock::Lfu { minutes, .. } => (minutes << 8) | LFU_INIT_VAL,
        }
    }

    /// Records one access (Redis's updateLFU, or stamping the LRU clock).
    pub fn touch(self, access: &mut u32) {
        match self {
            AccessClock::Lru(clock) => *access = clock,
            AccessClock::Lfu {
                minutes,
                log_factor,
                decay_minutes,
            } => {
                let counter = lfu_decayed(*access, minutes, decay_minutes);
                *access = (minutes << 8) | log_incr(counter, log_factor);
            }
        }
    }
}

/// The counter after the decay owed since it was last touched (LFUDecrAndReturn).
pub fn lfu_decayed(access: u32, now_minutes: u32, decay_minutes: u32) -> u32 {
    let ldt = access >> 8;
    let counter = access & 0xFF;
    if decay_minutes == 0 {
        return counter;
    }
    let elapsed = if now_minutes >= ldt {
        now_minutes - ldt
    } else {
        65535 - ldt + now_minutes
    };
    counter.saturating_sub(elapsed / decay_minutes)
}

/// Logarithmic increment: the higher the counter, the less likely it grows (LFULogIncr).
fn log_incr(counter: u32, log_factor: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if fastrand::f64() < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counts_up_logarithmically_and_decays() {
        let clock = AccessClock::Lfu {
            minutes: 100,
            log_factor: 10,
            decay_minutes: 1,
        };
        let mut a = clock.new_key();
        assert_eq!(lfu_decayed(a, 100, 1), LFU_INIT_VAL);
        for _ in 0..1000 {
            clock.touch(&mut a);
        }
        let c = lfu_decayed(a, 100, 1);
        assert!(c > LFU_INIT_VAL + 3 && c < 60, "counter {c}");
        assert_eq!(lfu_decayed(a, 103, 1), c - 3);
        assert_eq!(lfu_decayed(a, 100 + 1000, 1), 0);
    }
}
