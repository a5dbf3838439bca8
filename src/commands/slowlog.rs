//! SLOWLOG: commands slower than slowlog-log-slower-than microseconds, newest first, at most
//! slowlog-max-len of them (slowlog.c).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use super::table::{ADMIN, CommandSpec, LOADING, STALE};
use super::{Ctx, reply_help};
use crate::protocol::Args;
use crate::server::{Server, unix_ms};

/// Redis keeps at most this many arguments and this many bytes of each.
const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

pub struct SlowlogEntry {
    id: u64,
    unix_secs: i64,
    micros: u64,
    args: Vec<Vec<u8>>,
    client_addr: String,
    client_name: Vec<u8>,
}

#[derive(Default)]
pub struct Slowlog {
    entries: VecDeque<SlowlogEntry>,
    next_id: u64,
}

/// Whether argument `i` of a request is a secret Redis never shows (AUTH's arguments, the
/// credentials of HELLO ... AUTH, ACL SETUSER's arguments).
pub fn is_redacted(args: &Args, i: usize) -> bool {
    let name = args.get(0);
    if name.eq_ignore_ascii_case(b"auth") {
        return i >= 1;
    }
    if name.eq_ignore_ascii_case(b"acl") && args.len() > 1 {
        // ACL SETUSER's name and rules may hold passwords.
        return i >= 2 && args.get(1).eq_ignore_ascii_case(b"setuser");
    }
    if name.eq_ignore_ascii_case(b"hello") {
        return args
            .iter()
            .position(|a| a.eq_ignore_ascii_case(b"auth"))
            .is_some_and(|at| i > at && i <= at + 2);
    }
    false
}

/// Arguments as Redis records them: truncated, and passwords redacted.
fn recorded_args(args: &Args) -> Vec<Vec<u8>> {
    let argc = args.len();
    let kept = argc.min(MAX_ARGC);
    let mut out = Vec::with_capacity(kept);
    for (i, a) in args.iter().enumerate().take(kept) {
        if kept < argc && i == kept - 1 {
            out.push(format!("... ({} more arguments)", argc - kept + 1).into_bytes());
        } else if is_redacted(args, i) {
            out.push(b"(redacted)".to_vec());
        } else if a.len() > MAX_STRING {
            let mut s = a[..MAX_STRING].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
            out.push(s);
        } else {
            out.push(a.to_vec());
        }
    }
    out
}

/// Records a command if it took longer than the threshold.
pub fn maybe_record(ctx: &Ctx, args: &Args, micros: u64) {
    let threshold = ctx.server.hot.slowlog_slower_than.load(Ordering::Relaxed);
    if threshold < 0 || micros < threshold as u64 {
        return;
    }
    let max_len = ctx.server.hot.slowlog_max_len.load(Ordering::Relaxed) as usize;
    let name = ctx.client.info.meta.lock().name.clone().unwrap_or_default();
    let mut log = ctx.server.slowlog.lock();
    let id = log.next_id;
    log.next_id += 1;
    log.entries.push_front(SlowlogEntry {
        id,
        unix_secs: unix_ms() / 1000,
        micros,
        args: recorded_args(args),
        client_addr: ctx.client.info.addr.clone(),
        client_name: name,
    });
    log.entries.truncate(max_len);
}

/// Applies a smaller slowlog-max-len at once.
pub fn trim(server: &Server) {
    let max_len = server.hot.slowlog_max_len.load(Ordering::Relaxed) as usize;
    server.slowlog.lock().entries.truncate(max_len);
}

fn slowlog_get(ctx: &mut Ctx, args: Args) {
    if args.len() > 3 {
        return ctx.reply.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
            String::from_utf8_lossy(args.get(1))
        ));
    }
    let count = if args.len() == 3 {
        match crate::util::num::parse_i64(args.get(2)) {
            Some(n) if n >= -1 => n,
            _ => {
                return ctx
                    .reply
                    .error("ERR count should be greater than or equal to -1");
            }
        }
    } else {
        10
    };
    let log = ctx.server.slowlog.lock();
    let n = if count == -1 {
        log.entries.len()
    } else {
        (count as usize).min(log.entries.len())
    };
    ctx.reply.array(n);
    for e in log.entries.iter().take(n) {
        ctx.reply.array(6);
        ctx.reply.int(e.id as i64);
        ctx.reply.int(e.unix_secs);
        ctx.reply.int(e.micros as i64);
        ctx.reply.array(e.args.len());
        for a in &e.args {
            ctx.reply.bulk(a);
        }
        ctx.reply.bulk(e.client_addr.as_bytes());
        ctx.reply.bulk(&e.client_name);
    }
}

fn slowlog_len(ctx: &mut Ctx, _args: Args) {
    let n = ctx.server.slowlog.lock().entries.len();
    ctx.reply.int(n as i64);
}

fn slowlog_reset(ctx: &mut Ctx, _args: Args) {
    ctx.server.slowlog.lock().entries.clear();
    ctx.reply.ok();
}

fn slowlog_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
}

const CMD: u32 = ADMIN | LOADING | STALE;

pub static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, CMD, 0, slowlog_get).doc(
        "server",
        "2.2.12",
        "O(N) where N is the number of entries returned",
        "Returns the slow log's entries.",
    ),
    CommandSpec::new("len", 2, CMD, 0, slowlog_len).doc(
        "server",
        "2.2.12",
        "O(1)",
        "Returns the number of entries in the slow log.",
    ),
    CommandSpec::new("reset", 2, CMD, 0, slowlog_reset).doc(
        "server",
        "2.2.12",
        "O(N) where N is the number of entries in the slowlog",
        "Clears all entries from the slow log.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, 0, slowlog_help).doc(
        "server",
        "6.2.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
];
