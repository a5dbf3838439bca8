//! Latency introspection (Redis's latency.c): the latency monitor, which keeps for each event
//! ("command", "fast-command", "expire-cycle") the worst latency of each of its last 160 seconds
//! with a spike, and the per-command latency histograms behind LATENCY HISTOGRAM and INFO
//! latencystats, bucketed exactly like the HdrHistogram Redis uses so that percentiles and
//! bucket labels print the same.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Server, unix_ms};

/// Samples kept per event: one per second with a spike.
pub const HISTORY_LEN: usize = 160;

#[derive(Clone, Copy, Default, PartialEq, Debug)]
pub struct Sample {
    /// Unix seconds; 0 marks an unused slot.
    pub unix_secs: i64,
    pub ms: u64,
}

/// The history of one event: a ring of the worst sample of each second.
#[derive(Clone)]
pub struct EventSeries {
    samples: [Sample; HISTORY_LEN],
    /// The slot the next new second goes to.
    next: usize,
    /// The worst latency ever seen (until LATENCY RESET).
    pub max_ms: u64,
}

/// The figures LATENCY DOCTOR reports for one event.
#[derive(Debug, PartialEq)]
pub struct EventStats {
    pub samples: u64,
    pub avg: u64,
    /// Mean absolute deviation from the average.
    pub mad: u64,
    /// Seconds from the oldest sample to now (at least 1).
    pub period: i64,
}

impl EventSeries {
    fn new() -> EventSeries {
        EventSeries {
            samples: [Sample::default(); HISTORY_LEN],
            next: 0,
            max_ms: 0,
        }
    }

    fn add(&mut self, unix_secs: i64, ms: u64) {
        self.max_ms = self.max_ms.max(ms);
        let last = &mut self.samples[(self.next + HISTORY_LEN - 1) % HISTORY_LEN];
        if last.unix_secs == unix_secs {
            last.ms = last.ms.max(ms);
            return;
        }
        self.samples[self.next] = Sample { unix_secs, ms };
        self.next = (self.next + 1) % HISTORY_LEN;
    }

    /// The kept samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..HISTORY_LEN)
            .map(|i| self.samples[(self.next + i) % HISTORY_LEN])
            .filter(|s| s.unix_secs != 0)
    }

    pub fn latest(&self) -> Sample {
        self.samples[(self.next + HISTORY_LEN - 1) % HISTORY_LEN]
    }

    pub fn stats(&self, now_secs: i64) -> EventStats {
        let (mut n, mut sum, mut oldest) = (0u64, 0u64, i64::MAX);
        for s in self.samples() {
            n += 1;
            sum += s.ms;
            oldest = oldest.min(s.unix_secs);
        }
        if n == 0 {
            return EventStats {
                samples: 0,
                avg: 0,
                mad: 0,
                period: 0,
            };
        }
        let avg = sum / n;
        let deviation: u64 = self.samples().map(|s| s.ms.abs_diff(avg)).sum();
        EventStats {
            samples: n,
            avg,
            mad: deviation / n,
            period: (now_secs - oldest).max(1),
        }
    }
}

/// Every event seen since start (or LATENCY RESET), in the order they first happened.
#[derive(Default)]
pub struct LatencyEvents {
    events: Vec<(&'static str, EventSeries)>,
}

impl LatencyEvents {
    pub fn add(&mut self, event: &'static str, unix_secs: i64, ms: u64) {
        match self.events.iter_mut().find(|(name, _)| *name == event) {
            Some((_, series)) => series.add(unix_secs, ms),
            None => {
                let mut series = EventSeries::new();
                series.add(unix_secs, ms);
                self.events.push((event, series));
            }
        }
    }

    /// The series of an event, by its exact name (as Redis's HISTORY and GRAPH look it up).
    pub fn get(&self, event: &[u8]) -> Option<(&'static str, &EventSeries)> {
        self.events
            .iter()
            .find(|(name, _)| name.as_bytes() == event)
            .map(|(name, s)| (*name, s))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &EventSeries)> {
        self.events.iter().map(|(name, s)| (*name, s))
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// LATENCY RESET: forgets the named event (case-insensitively), or all of them; returns how
    /// many were reset.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match event {
            None => self.events.clear(),
            Some(e) => self
                .events
                .retain(|(name, _)| !name.as_bytes().eq_ignore_ascii_case(e)),
        }
        before - self.events.len()
    }
}

/// Records one executed command: its latency histogram (latency-tracking) and, when it took at
/// least latency-monitor-threshold milliseconds, a "command" or "fast-command" spike.
#[inline]
pub fn record_command(server: &Server, index: usize, fast: bool, micros: u64) {
    if server.hot.latency_tracking.load(Ordering::Relaxed) {
        server.histograms.record(index, micros);
    }
    record_event(
        server,
        if fast { "fast-command" } else { "command" },
        micros / 1000,
    );
}

/// Adds a spike of `event` when monitoring is on and `ms` reaches the threshold.
#[inline]
pub fn record_event(server: &Server, event: &'static str, ms: u64) {
    let threshold = server.hot.latency_threshold_ms.load(Ordering::Relaxed);
    if threshold > 0 && ms >= threshold {
        server
            .latency_events
            .lock()
            .add(event, unix_ms() / 1000, ms);
    }
}

// ---- Histograms -------------------------------------------------------------------------
//
// Redis records each command's duration in nanoseconds into an HdrHistogram tracking 1 ns to
// 1 s with 2 significant digits: 256 sub-buckets, so values below 256 are exact and each
// power-of-two range above is split into 128 steps. We keep the same counts layout (as atomic
// counters, so recording is one relaxed add) and read percentiles and buckets the same way.

/// log2 of half the sub-bucket count (128 = 2^7).
const HALF_MAGNITUDE: u32 = 7;
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
/// 23 power-of-two ranges cover 1 s, plus the first: (23 + 1) * 128 counters.
const COUNTS_LEN: usize = 24 * HALF_COUNT;
const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 1_000_000_000;

/// The power-of-two range of a value (0 for values below 256).
fn bucket_of(ns: u64) -> u32 {
    (u64::BITS - (ns | 0xFF).leading_zeros()) - (HALF_MAGNITUDE + 1)
}

fn index_of(ns: u64) -> usize {
    let bucket = bucket_of(ns);
    let sub = (ns >> bucket) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub - HALF_COUNT
}

/// The lowest value counted at `index`.
fn value_at(index: usize) -> u64 {
    let bucket = (index >> HALF_MAGNITUDE) as i64 - 1;
    let sub = (index & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        (sub - HALF_COUNT) as u64
    } else {
        (sub as u64) << bucket
    }
}

fn lowest_equivalent(ns: u64) -> u64 {
    let bucket = bucket_of(ns);
    (ns >> bucket) << bucket
}

fn highest_equivalent(ns: u64) -> u64 {
    lowest_equivalent(ns) + (1 << bucket_of(ns)) - 1
}

struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: (0..COUNTS_LEN).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// A histogram's counts read at one instant.
pub struct HistogramSnapshot {
    counts: Vec<u64>,
    pub total: u64,
}

impl HistogramSnapshot {
    /// The value (ns) below which `percentile` % of the calls fall, as hdr_value_at_percentile
    /// computes it: the count rank is rounded half up, the value is the top of its bucket (the
    /// bottom for percentile 0).
    pub fn percentile_ns(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let rank = ((p / 100.0 * self.total as f64 + 0.5) as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let v = value_at(i);
                return if percentile == 0.0 {
                    lowest_equivalent(v)
                } else {
                    highest_equivalent(v)
                };
            }
        }
        0
    }

    /// LATENCY HISTOGRAM's buckets: for each power of two from 1024 ns, the calls up to it
    /// (the top of its bucket, in µs), listed only where the count grew.
    pub fn cumulative_buckets(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let (mut seen, mut reported, mut upto) = (0u64, 0u64, 0usize);
        let mut level = 1024u64;
        while seen < self.total && upto < COUNTS_LEN {
            // The last power of two lies past the tracked range: Redis's iteration then ends
            // on the last counter, labelled with its top value.
            let index = index_of(level).min(COUNTS_LEN - 1);
            seen += self.counts[upto..=index].iter().sum::<u64>();
            upto = index + 1;
            if seen > reported {
                out.push((highest_equivalent(value_at(index)) / 1000, seen));
                reported = seen;
            }
            level *= 2;
        }
        out
    }
}

/// One lazily created histogram per command and subcommand, indexed like the command table's
/// statistics. Empty histograms count as absent (CONFIG RESETSTAT zeroes them).
pub struct CommandHistograms {
    slots: Box<[OnceLock<Histogram>]>,
}

impl CommandHistograms {
    pub fn new(commands: usize) -> CommandHistograms {
        CommandHistograms {
            slots: (0..commands).map(|_| OnceLock::new()).collect(),
        }
    }

    #[inline]
    pub fn record(&self, index: usize, micros: u64) {
        let ns = micros.saturating_mul(1000).clamp(LOWEST_NS, HIGHEST_NS);
        let h = self.slots[index].get_or_init(Histogram::new);
        h.counts[index_of(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts of a command that has recorded calls.
    pub fn snapshot(&self, index: usize) -> Option<HistogramSnapshot> {
        let h = self.slots.get(index)?.get()?;
        let counts: Vec<u64> = h.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total = counts.iter().sum();
        (total > 0).then_some(HistogramSnapshot { counts, total })
    }

    pub fn reset(&self) {
        for h in self.slots.iter().filter_map(OnceLock::get) {
            for c in h.counts.iter() {
                c.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// INFO latencystats' value list: `p50=1.003,p99=2.007,p99.9=3.007` (µs, 3 decimals), each
/// percentile printed as Redis does (%f with trailing zeros trimmed).
pub fn percentiles_line(h: &HistogramSnapshot, percentiles: &[f64]) -> String {
    let mut out = String::new();
    for (i, p) in percentiles.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut label = format!("{p:.6}");
        while label.ends_with('0') {
            label.pop();
        }
        if label.ends_with('.') {
            label.pop();
        }
        out.push_str(&format!(
            "p{label}={:.3}",
            h.percentile_ns(*p) as f64 / 1000.0
        ));
    }
    out
}

// ---- DOCTOR and GRAPH ---------------------------------------------------------------------

/// What LATENCY DOCTOR's advice depends on besides the events.
pub struct DoctorContext {
    pub threshold_ms: u64,
    pub slowlog_slower_than_us: i64,
    pub hz: u32,
    /// The process has transparent huge pages mapped.
    pub huge_pages: bool,
}

/// LATENCY DOCTOR's report, in Redis's layout: a line per event, then advice.
pub fn doctor_report(events: &LatencyEvents, now_secs: i64, cx: &DoctorContext) -> String {
    if events.is_empty() && cx.threshold_ms == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    }
    let mut report = String::new();
    let mut advices = 0;
    let (mut slowlog_enable, mut slowlog_tune, mut slowlog_inspect) = (false, false, false);
    let (mut scheduler, mut hz, mut large_objects) = (false, false, false);
    for (n, (name, series)) in events.iter().enumerate() {
        if n == 0 {
            report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let st = series.stats(now_secs);
        report.push_str(&format!(
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            n + 1,
            name,
            st.samples,
            st.avg,
            st.mad,
            st.period as f64 / st.samples.max(1) as f64,
            series.max_ms
        ));
        match name {
            "command" => {
                if cx.slowlog_slower_than_us < 0 {
                    slowlog_enable = true;
                    advices += 1;
                } else if cx.slowlog_slower_than_us as u64 / 1000 > cx.threshold_ms {
                    slowlog_tune = true;
                    advices += 1;
                }
                slowlog_inspect = true;
                large_objects = true;
                advices += 2;
            }
            "fast-command" => {
                scheduler = true;
                advices += 1;
            }
            "expire-cycle" => {
                hz = true;
                large_objects = true;
                advices += 2;
            }
            _ => {}
        }
        report.push('\n');
    }
    if cx.huge_pages {
        advices += 1;
    }
    if events.is_empty() && advices == 0 {
        report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return report;
    }
    if advices == 0 {
        report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return report;
    }
    report.push_str("\nI have a few advices for you:\n\n");
    let threshold_us = cx.threshold_ms * 1000;
    // Redis's advice texts, except the allocator hint (ferrodis always runs on jemalloc).
    if slowlog_enable {
        report.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
    }
    if slowlog_tune {
        report.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.\n"));
    }
    if slowlog_inspect {
        report.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if scheduler {
        report.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n");
    }
    if hz && cx.hz < 100 {
        report.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if large_objects {
        report.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    if cx.huge_pages {
        report.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
    }
    report
}

/// Whether the process has anonymous transparent huge pages mapped (Linux; false elsewhere).
pub fn uses_huge_pages() -> bool {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("AnonHugePages:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .is_some_and(|kb| kb > 0)
}

const GRAPH_COLUMNS: usize = 80;
const GRAPH_ROWS: usize = 4;

/// LATENCY GRAPH: a header line, a rule, and an ASCII sparkline of the samples (oldest first),
/// each labelled with how long ago it happened, as Redis draws it.
pub fn graph(event: &str, series: &EventSeries, now_secs: i64) -> String {
    let samples: Vec<Sample> = series.samples().collect();
    let high = samples.iter().map(|s| s.ms).max().unwrap_or(0);
    let low = samples.iter().map(|s| s.ms).min().unwrap_or(0);
    let mut out = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n",
        series.max_ms
    );
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    let points: Vec<(f64, String)> = samples
        .iter()
        .map(|s| (s.ms as f64, ago_label(now_secs - s.unix_secs)))
        .collect();
    for (i, chunk) in points.chunks(GRAPH_COLUMNS).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        sparkline_rows(&mut out, chunk, low as f64, high as f64);
    }
    out
}

/// "12s", "5m", "3h", "2d".
fn ago_label(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Draws `points` as GRAPH_ROWS rows of filled bars ('_', 'o', '#' for the top of a bar, '|'
/// below it), a blank spacer row, then the labels written vertically.
fn sparkline_rows(out: &mut String, points: &[(f64, String)], min: f64, max: f64) {
    const TOPS: [char; 3] = ['_', 'o', '#'];
    let levels = TOPS.len() * GRAPH_ROWS;
    let range = if max - min == 0.0 { 1.0 } else { max - min };
    let steps: Vec<usize> = points
        .iter()
        .map(|(v, _)| {
            let scaled = ((v - min) * levels as f64).trunc() / range;
            (scaled as usize).min(levels - 1)
        })
        .collect();
    for row in 0..GRAPH_ROWS {
        let floor = (GRAPH_ROWS - row - 1) * TOPS.len();
        let line: String = steps
            .iter()
            .map(|&step| match step.checked_sub(floor) {
                Some(i) if i < TOPS.len() => TOPS[i],
                Some(_) => '|',
                None => ' ',
            })
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
    let tallest = points.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    if tallest == 0 {
        return;
    }
    out.push_str(&" ".repeat(points.len()));
    out.push('\n');
    for row in 0..tallest {
        let line: String = points
            .iter()
            .map(|(_, l)| l.as_bytes().get(row).map_or(' ', |&b| b as char))
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_keeps_the_worst_sample_of_each_second_and_160_seconds() {
        let mut s = EventSeries::new();
        s.add(100, 5);
        s.add(100, 9);
        s.add(100, 3);
        s.add(101, 4);
        assert_eq!(
            s.samples().collect::<Vec<_>>(),
            vec![
                Sample {
                    unix_secs: 100,
                    ms: 9
                },
                Sample {
                    unix_secs: 101,
                    ms: 4
                }
            ]
        );
        assert_eq!(s.max_ms, 9);
        for t in 0..200 {
            s.add(1000 + t, t as u64);
        }
        let kept: Vec<_> = s.samples().collect();
        assert_eq!(kept.len(), HISTORY_LEN);
        assert_eq!(kept[0].unix_secs, 1040);
        assert_eq!(s.latest().unix_secs, 1199);
        assert_eq!(s.max_ms, 199);
    }

    #[test]
    fn stats_average_deviation_and_period() {
        let mut s = EventSeries::new();
        s.add(10, 10);
        s.add(12, 20);
        s.add(14, 30);
        assert_eq!(
            s.stats(20),
            EventStats {
                samples: 3,
                avg: 20,
                mad: 6,
                period: 10
            }
        );
    }

    #[test]
    fn reset_is_case_insensitive_and_counts() {
        let mut ev = LatencyEvents::default();
        ev.add("command", 1, 5);
        ev.add("expire-cycle", 1, 5);
        assert_eq!(ev.reset(Some(b"COMMAND")), 1);
        assert_eq!(ev.reset(Some(b"command")), 0);
        assert!(ev.get(b"expire-cycle").is_some());
        assert!(ev.get(b"EXPIRE-CYCLE").is_none());
        assert_eq!(ev.reset(None), 1);
    }

    #[test]
    fn hdr_layout_matches_redis() {
        // 1 µs is recorded as 1000 ns, whose bucket spans 1000..=1003 ns: INFO prints p50=1.003.
        assert_eq!(highest_equivalent(1000), 1003);
        assert_eq!(lowest_equivalent(9000), 8960);
        assert_eq!(highest_equivalent(9000), 9023);
        for v in [
            0u64,
            1,
            100,
            255,
            256,
            300,
            1000,
            65_536,
            999_999_999,
            HIGHEST_NS,
        ] {
            let i = index_of(v);
            assert!(i < COUNTS_LEN);
            assert_eq!(value_at(i), lowest_equivalent(v), "{v}");
        }
        // The bucket labels of LATENCY HISTOGRAM.
        let labels: Vec<u64> = (0..8)
            .map(|k| highest_equivalent(1024 << k) / 1000)
            .collect();
        assert_eq!(labels, vec![1, 2, 4, 8, 16, 33, 66, 132]);
    }

    fn snapshot_of(micros: &[u64]) -> HistogramSnapshot {
        let h = CommandHistograms::new(1);
        for &m in micros {
            h.record(0, m);
        }
        h.snapshot(0).unwrap()
    }

    #[test]
    fn percentiles_round_the_rank_half_up() {
        let h = snapshot_of(&[1, 2, 3, 4]);
        // rank = 0.5 * 4 + 0.5 = 2.5 -> 2: the second value.
        assert_eq!(h.percentile_ns(50.0), 2007);
        assert_eq!(h.percentile_ns(100.0), 4015);
        assert_eq!(h.percentile_ns(0.0), 1000);
        assert_eq!(
            percentiles_line(&h, &[50.0, 99.0, 99.9]),
            "p50=2.007,p99=4.015,p99.9=4.015"
        );
        assert_eq!(percentiles_line(&h, &[12.5]), "p12.5=1.003");
    }

    #[test]
    fn cumulative_buckets_like_latency_histogram() {
        let h = snapshot_of(&[0, 1, 1, 3, 20, 20]);
        assert_eq!(h.cumulative_buckets(), vec![(1, 3), (4, 4), (33, 6)]);
        // As redis-server shows DEBUG SLEEP 0.2 and 0.7.
        let slow = snapshot_of(&[200_000, 700_000]);
        assert_eq!(slow.cumulative_buckets(), vec![(270532, 1), (1073741, 2)]);
        let empty = CommandHistograms::new(1);
        assert!(empty.snapshot(0).is_none());
    }

    #[test]
    fn doctor_texts() {
        let cx = DoctorContext {
            threshold_ms: 0,
            slowlog_slower_than_us: 10000,
            hz: 10,
            huge_pages: false,
        };
        let mut ev = LatencyEvents::default();
        assert!(doctor_report(&ev, 0, &cx).starts_with("I'm sorry, Dave"));
        let cx = DoctorContext {
            threshold_ms: 1,
            ..cx
        };
        assert!(doctor_report(&ev, 0, &cx).starts_with("Dave, no latency spike"));
        ev.add("command", 100, 50);
        let text = doctor_report(&ev, 101, &cx);
        assert!(text.starts_with("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n1. command: 1 latency spikes (average 50ms, mean deviation 0ms, period 1.00 sec). Worst all time event 50ms.\n\nI have a few advices for you:\n\n"), "{text}");
        assert!(text.contains("slowlog-log-slower-than 1000'"), "{text}");
    }

    #[test]
    fn graph_draws_bars_and_vertical_labels() {
        let mut s = EventSeries::new();
        s.add(100, 10);
        s.add(101, 40);
        let g = graph("command", &s, 112);
        let expected = "command - high 40 ms, low 10 ms (all time high 40 ms)\n".to_string()
            + &"-".repeat(80)
            + "\n #\n |\n |\n_|\n  \n11\n21\nss\n";
        assert_eq!(g, expected);
    }
}
