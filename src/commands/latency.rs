//! LATENCY: the latency monitor's events (LATEST, HISTORY, GRAPH, DOCTOR, RESET) and the
//! per-command latency histograms (HISTOGRAM). The data lives in `server::latency`.

use std::sync::atomic::Ordering;

use super::table::{ADMIN, CommandSpec, LOADING, NOSCRIPT, STALE};
use super::{Ctx, reply_help};
use crate::protocol::{Args, Reply};
use crate::server::latency::{self, DoctorContext};
use crate::server::{Server, unix_ms};

fn latency_latest(ctx: &mut Ctx, _args: Args) {
    let events = ctx.server.latency_events.lock();
    ctx.reply.array(events.len());
    for (name, series) in events.iter() {
        let last = series.latest();
        ctx.reply.array(4);
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.int(last.unix_secs);
        ctx.reply.int(last.ms as i64);
        ctx.reply.int(series.max_ms as i64);
    }
}

fn latency_history(ctx: &mut Ctx, args: Args) {
    let events = ctx.server.latency_events.lock();
    let Some((_, series)) = events.get(args.get(2)) else {
        return ctx.reply.array(0);
    };
    let samples: Vec<_> = series.samples().collect();
    ctx.reply.array(samples.len());
    for s in samples {
        ctx.reply.array(2);
        ctx.reply.int(s.unix_secs);
        ctx.reply.int(s.ms as i64);
    }
}

fn latency_graph(ctx: &mut Ctx, args: Args) {
    let events = ctx.server.latency_events.lock();
    match events.get(args.get(2)) {
        Some((name, series)) => {
            let text = latency::graph(name, series, unix_ms() / 1000);
            ctx.reply.verbatim(text.as_bytes());
        }
        None => ctx.reply.error(&format!(
            "ERR No samples available for event '{}'",
            String::from_utf8_lossy(args.get(2))
        )),
    }
}

fn latency_doctor(ctx: &mut Ctx, _args: Args) {
    let server = ctx.server;
    let cx = DoctorContext {
        threshold_ms: server.hot.latency_threshold_ms.load(Ordering::Relaxed),
        slowlog_slower_than_us: server.hot.slowlog_slower_than.load(Ordering::Relaxed),
        hz: server.config.read().hz,
        huge_pages: latency::uses_huge_pages(),
    };
    let text = latency::doctor_report(&server.latency_events.lock(), unix_ms() / 1000, &cx);
    ctx.reply.verbatim(text.as_bytes());
}

fn latency_reset(ctx: &mut Ctx, args: Args) {
    let mut events = ctx.server.latency_events.lock();
    let resets = if args.len() == 2 {
        events.reset(None)
    } else {
        args.iter().skip(2).map(|e| events.reset(Some(e))).sum()
    };
    ctx.reply.int(resets as i64);
}

/// LATENCY HISTOGRAM [command ...]: a map of command name to its calls and cumulative
/// histogram, for every command with calls, or for the named ones (a container stands for its
/// subcommands; unknown names are skipped).
fn latency_histogram(ctx: &mut Ctx, args: Args) {
    let table = &ctx.server.commands;
    let indexes: Vec<usize> = if args.len() == 2 {
        (0..table.all_stats().count()).collect()
    } else {
        args.iter()
            .skip(2)
            .filter_map(|name| command_indexes(ctx.server, name))
            .flatten()
            .collect()
    };
    let with_data: Vec<_> = indexes
        .into_iter()
        .filter_map(|i| Some((i, ctx.server.histograms.snapshot(i)?)))
        .collect();
    ctx.reply.map(with_data.len());
    for (i, h) in with_data {
        ctx.reply.bulk(table.full_name(i).as_bytes());
        reply_histogram(ctx.reply, &h);
    }
}

/// The table indexes a LATENCY HISTOGRAM argument names: "get", "config|get", or a container
/// and all its subcommands.
fn command_indexes(server: &Server, name: &[u8]) -> Option<Vec<usize>> {
    let table = &server.commands;
    let (parent, sub) = match name.iter().position(|&c| c == b'|') {
        Some(at) => (&name[..at], Some(&name[at + 1..])),
        None => (name, None),
    };
    let (spec, index) = table.lookup(parent)?;
    match sub {
        Some(sub) => table.lookup_sub(index, sub).map(|(_, i)| vec![i]),
        None => Some((index..=index + spec.subcommands.len()).collect()),
    }
}

fn reply_histogram(reply: &mut Reply, h: &latency::HistogramSnapshot) {
    reply.map(2);
    reply.bulk(b"calls");
    reply.int(h.total as i64);
    reply.bulk(b"histogram_usec");
    let buckets = h.cumulative_buckets();
    reply.map(buckets.len());
    for (usec, count) in buckets {
        reply.int(usec as i64);
        reply.int(count as i64);
    }
}

fn latency_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
}

const CMD: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// In the order Redis 7.0's COMMAND INFO lists them.
pub static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("reset", -2, CMD, 0, latency_reset).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Reset latency data for one or more events.",
    ),
    CommandSpec::new("graph", 3, CMD, 0, latency_graph).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Return a latency graph for the event.",
    ),
    CommandSpec::new("histogram", -2, CMD, 0, latency_histogram).doc(
        "server",
        "7.0.0",
        "O(N) where N is the number of commands with latency information being retrieved.",
        "Return the cumulative distribution of latencies of a subset of commands or all.",
    ),
    CommandSpec::new("latest", 2, CMD, 0, latency_latest).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Return the latest latency samples for all events.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, 0, latency_help).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Show helpful text about the different subcommands.",
    ),
    CommandSpec::new("history", 3, CMD, 0, latency_history).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Return timestamp-latency samples for the event.",
    ),
    CommandSpec::new("doctor", 2, CMD, 0, latency_doctor).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Return a human readable latency analysis report.",
    ),
];
