//! CLIENT subcommands: identity, listing and killing connections, reply modes, pausing.

use crate::server::tracking::Options;
use std::sync::atomic::Ordering;

use super::connection::valid_client_name;
use super::table::{ADMIN, CAT_CONNECTION, CommandSpec, LOADING, NOSCRIPT, STALE};
use super::{Ctx, SYNTAX_ERR, eq_ic, reply_help};
use crate::protocol::Args;
use crate::server::client::{ClientInfo, ReplyMode};
use crate::server::{Pause, Server, unix_ms};

const CONN: u32 = CAT_CONNECTION;

/// One CLIENT LIST line, in Redis 7.2's field order (7.2 because of lib-name/lib-ver).
pub fn client_line(server: &Server, c: &ClientInfo, now_ms: i64) -> String {
    let meta = c.meta.lock().clone();
    let cmd = server
        .commands
        .full_name(c.last_cmd.load(Ordering::Relaxed));
    // Flag letters in Redis's order.
    let mut flags = String::new();
    if c.monitor.load(Ordering::Relaxed) {
        flags.push('O');
    }
    let subs = c
        .subscriptions
        .each_ref()
        .map(|n| n.load(Ordering::Relaxed));
    if subs.iter().any(|n| *n > 0) {
        flags.push('P');
    }
    let multi = c.multi_queued.load(Ordering::Relaxed);
    if multi >= 0 {
        flags.push('x');
    }
    if c.blocked.load(Ordering::Relaxed) {
        flags.push('b');
    }
    if c.tracking.load(Ordering::Relaxed) {
        flags.push('t');
    }
    if c.tracking_bcast.load(Ordering::Relaxed) {
        flags.push('B');
    }
    if c.watch_dirty.lock().load(Ordering::Relaxed) {
        flags.push('d');
    }
    if meta.no_evict {
        flags.push('e');
    }
    if meta.no_touch {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let qbuf = c.query_buf.load(Ordering::Relaxed);
    let lossy = |v: &Option<Vec<u8>>| {
        v.as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .into_owned()
    };
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        lossy(&meta.name),
        (now_ms - c.created_ms) / 1000,
        (now_ms - c.last_interaction_ms.load(Ordering::Relaxed)).max(0) / 1000,
        flags,
        c.db.load(Ordering::Relaxed),
        subs[0],
        subs[1],
        subs[2],
        multi,
        qbuf,
        16384usize.saturating_sub(qbuf),
        c.output_buf.load(Ordering::Relaxed),
        c.memory.load(Ordering::Relaxed) + std::mem::size_of::<crate::server::client::Client>(),
        cmd,
        String::from_utf8_lossy(&meta.user),
        meta.resp,
        lossy(&meta.lib_name),
        lossy(&meta.lib_ver),
    )
}

fn client_id(ctx: &mut Ctx, _args: Args) {
    ctx.reply.int(ctx.client.id() as i64);
}

fn client_setname(ctx: &mut Ctx, args: Args) {
    let name = args.get(2);
    if !valid_client_name(name) {
        return ctx
            .reply
            .error("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    ctx.client.info.meta.lock().name = (!name.is_empty()).then(|| name.to_vec());
    ctx.reply.ok();
}

fn client_getname(ctx: &mut Ctx, _args: Args) {
    let name = ctx.client.info.meta.lock().name.clone();
    ctx.reply.bulk_or_null(name.as_deref());
}

fn client_setinfo(ctx: &mut Ctx, args: Args) {
    let (attr, value) = (args.get(2), args.get(3));
    if value.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return ctx.reply.error(&format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr).to_ascii_lowercase()
        ));
    }
    let v = (!value.is_empty()).then(|| value.to_vec());
    let mut meta = ctx.client.info.meta.lock();
    if eq_ic(attr, "lib-name") {
        meta.lib_name = v;
    } else if eq_ic(attr, "lib-ver") {
        meta.lib_ver = v;
    } else {
        drop(meta);
        return ctx.reply.error(&format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        ));
    }
    drop(meta);
    ctx.reply.ok();
}

/// The CLIENT LIST/KILL type of a connection: "pubsub" while it has subscriptions.
fn client_type(c: &ClientInfo) -> &'static [u8] {
    if c.subscriptions
        .iter()
        .any(|n| n.load(Ordering::Relaxed) > 0)
    {
        b"pubsub"
    } else {
        b"normal"
    }
}

fn client_list(ctx: &mut Ctx, args: Args) {
    let mut ids: Option<Vec<u64>> = None;
    let mut typ: Option<Vec<u8>> = None;
    let mut j = 2;
    while j < args.len() {
        if eq_ic(args.get(j), "type") && j + 1 < args.len() {
            let t = args.get(j + 1);
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| eq_ic(t, n))
            {
                return ctx.reply.error(&format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(t)
                ));
            }
            // There are no master or replica connections (no replication).
            typ = Some(if eq_ic(t, "slave") {
                b"replica".to_vec()
            } else {
                t.to_ascii_lowercase()
            });
            j += 2;
        } else if eq_ic(args.get(j), "id") && j + 1 < args.len() {
            let mut v = Vec::new();
            for a in args.iter().skip(j + 1) {
                match crate::util::num::parse_i64(a) {
                    Some(id) if id > 0 => v.push(id as u64),
                    _ => return ctx.reply.error("ERR Invalid client ID"),
                }
            }
            ids = Some(v);
            j = args.len();
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
    }
    let now = unix_ms();
    let clients: Vec<_> = ctx.server.clients.lock().values().cloned().collect();
    let mut out = String::new();
    for c in clients
        .iter()
        .filter(|c| ids.as_ref().is_none_or(|v| v.contains(&c.id)))
        .filter(|c| typ.as_deref().is_none_or(|t| t == client_type(c)))
    {
        out.push_str(&client_line(ctx.server, c, now));
        out.push('\n');
    }
    ctx.reply.verbatim(out.as_bytes());
}

fn client_info(ctx: &mut Ctx, _args: Args) {
    let mut line = client_line(ctx.server, &ctx.client.info, unix_ms());
    line.push('\n');
    ctx.reply.verbatim(line.as_bytes());
}

fn client_kill(ctx: &mut Ctx, args: Args) {
    let clients: Vec<_> = ctx.server.clients.lock().values().cloned().collect();
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = args.get(2);
        match clients.iter().find(|c| c.addr.as_bytes() == addr) {
            Some(c) => {
                kill(ctx, c);
                ctx.reply.ok();
            }
            None => ctx.reply.error("ERR No such client"),
        }
        return;
    }
    let (mut id, mut addr, mut laddr, mut user, mut typ) = (None, None, None, None, None);
    let mut skipme = true;
    let mut j = 2;
    while j < args.len() {
        if j + 1 >= args.len() {
            return ctx.reply.error(SYNTAX_ERR);
        }
        let (opt, val) = (args.get(j), args.get(j + 1));
        if eq_ic(opt, "id") {
            match crate::util::num::parse_i64(val) {
                Some(v) if v > 0 => id = Some(v as u64),
                _ => return ctx.reply.error("ERR client-id should be greater than 0"),
            }
        } else if eq_ic(opt, "type") {
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| eq_ic(val, n))
            {
                return ctx.reply.error(&format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(val)
                ));
            }
            typ = Some(if eq_ic(val, "slave") {
                b"replica".to_vec()
            } else {
                val.to_ascii_lowercase()
            });
        } else if eq_ic(opt, "addr") {
            addr = Some(val);
        } else if eq_ic(opt, "laddr") {
            laddr = Some(val);
        } else if eq_ic(opt, "user") {
            if ctx.server.acl.get(val).is_none() {
                return ctx.reply.error(&format!(
                    "ERR No such user '{}'",
                    String::from_utf8_lossy(val)
                ));
            }
            user = Some(val);
        } else if eq_ic(opt, "skipme") {
            if eq_ic(val, "yes") {
                skipme = true;
            } else if eq_ic(val, "no") {
                skipme = false;
            } else {
                return ctx.reply.error(SYNTAX_ERR);
            }
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 2;
    }
    let mut killed = 0;
    for c in &clients {
        let matches = id.is_none_or(|i| i == c.id)
            && addr.is_none_or(|a| a == c.addr.as_bytes())
            && laddr.is_none_or(|a| a == c.laddr.as_bytes())
            && user.is_none_or(|u| u == c.meta.lock().user.as_slice())
            && typ.as_deref().is_none_or(|t| t == client_type(c));
        if matches && !(skipme && c.id == ctx.client.id()) {
            kill(ctx, c);
            killed += 1;
        }
    }
    ctx.reply.int(killed);
}

fn kill(ctx: &mut Ctx, c: &ClientInfo) {
    if c.id == ctx.client.id() {
        ctx.client.close_after_reply = true;
    } else {
        c.kill();
    }
}

fn on_off(ctx: &mut Ctx, a: &[u8]) -> Option<bool> {
    if eq_ic(a, "on") {
        Some(true)
    } else if eq_ic(a, "off") {
        Some(false)
    } else {
        ctx.reply.error(SYNTAX_ERR);
        None
    }
}

fn client_no_evict(ctx: &mut Ctx, args: Args) {
    if let Some(v) = on_off(ctx, args.get(2)) {
        ctx.client.info.meta.lock().no_evict = v;
        ctx.reply.ok();
    }
}

fn client_no_touch(ctx: &mut Ctx, args: Args) {
    if let Some(v) = on_off(ctx, args.get(2)) {
        ctx.client.info.meta.lock().no_touch = v;
        ctx.client.no_touch = v;
        ctx.reply.ok();
    }
}

fn client_reply(ctx: &mut Ctx, args: Args) {
    let a = args.get(2);
    if eq_ic(a, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply.ok();
    } else if eq_ic(a, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ic(a, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        ctx.reply.error(SYNTAX_ERR);
    }
}

fn client_pause(ctx: &mut Ctx, args: Args) {
    let Some(ms) = crate::util::num::parse_i64(args.get(2)) else {
        return ctx
            .reply
            .error("ERR timeout is not an integer or out of range");
    };
    if ms < 0 {
        return ctx.reply.error("ERR timeout is negative");
    }
    let writes_only = match args.len() {
        3 => false,
        4 if eq_ic(args.get(3), "write") => true,
        4 if eq_ic(args.get(3), "all") => false,
        _ => return ctx.reply.error(SYNTAX_ERR),
    };
    let until = unix_ms().saturating_add(ms);
    {
        let mut p = ctx.server.pause.lock();
        // A pause never shortens one in force, and ALL wins over WRITE, as in Redis.
        let writes_only = if p.until_ms != 0 {
            p.writes_only && writes_only
        } else {
            writes_only
        };
        *p = Pause {
            until_ms: p.until_ms.max(until),
            writes_only,
        };
    }
    ctx.reply.ok();
}

fn client_unpause(ctx: &mut Ctx, _args: Args) {
    ctx.server.unpause();
    ctx.reply.ok();
}

fn client_getredir(ctx: &mut Ctx, _args: Args) {
    match &ctx.client.tracking {
        Some(t) => ctx.reply.int(t.redirect as i64),
        None => ctx.reply.int(-1),
    }
}

fn client_tracking(ctx: &mut Ctx, args: Args) {
    let mut o = Options::default();
    let mut redirect_given = false;
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        let more = j + 1 < args.len();
        if eq_ic(opt, "redirect") && more {
            j += 1;
            if redirect_given {
                return ctx
                    .reply
                    .error("ERR A client can only redirect to a single other client");
            }
            let Some(id) = crate::util::num::parse_i64(args.get(j)) else {
                return ctx.reply.error(super::NOT_INT);
            };
            if !u64::try_from(id).is_ok_and(|id| ctx.server.clients.lock().contains_key(&id)) {
                return ctx
                    .reply
                    .error("ERR The client ID you want redirect to does not exist");
            }
            redirect_given = true;
            o.redirect = id as u64;
        } else if eq_ic(opt, "bcast") {
            o.bcast = true;
        } else if eq_ic(opt, "optin") {
            o.optin = true;
        } else if eq_ic(opt, "optout") {
            o.optout = true;
        } else if eq_ic(opt, "noloop") {
            o.noloop = true;
        } else if eq_ic(opt, "prefix") && more {
            j += 1;
            o.prefixes.push(args.get(j).to_vec());
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 1;
    }
    let mode = args.get(2);
    if eq_ic(mode, "off") {
        ctx.server.tracking.disable(ctx.client.id());
        ctx.client.tracking = None;
        ctx.client.caching = None;
        ctx.client.info.tracking.store(false, Ordering::Relaxed);
        ctx.client
            .info
            .tracking_bcast
            .store(false, Ordering::Relaxed);
        return ctx.reply.ok();
    }
    if !eq_ic(mode, "on") {
        return ctx.reply.error(SYNTAX_ERR);
    }
    if !o.bcast && !o.prefixes.is_empty() {
        return ctx
            .reply
            .error("ERR PREFIX option requires BCAST mode to be enabled");
    }
    let current = ctx.client.tracking.clone();
    if current.as_ref().is_some_and(|c| c.bcast != o.bcast) {
        return ctx.reply.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if o.bcast && (o.optin || o.optout) {
        return ctx
            .reply
            .error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if o.optin && o.optout {
        return ctx
            .reply
            .error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if current
        .as_ref()
        .is_some_and(|c| (o.optin && c.optout) || (o.optout && c.optin))
    {
        return ctx.reply.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if o.bcast {
        let existing = current.as_ref().map_or(&[][..], |c| c.prefixes.as_slice());
        for (i, p) in o.prefixes.iter().enumerate() {
            let overlaps = |q: &Vec<u8>| p.starts_with(q) || q.starts_with(p);
            if let Some(q) = existing.iter().find(|q| overlaps(q) && *q != p) {
                return ctx.reply.error(&format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                ));
            }
            if let Some(q) = o.prefixes[i + 1..].iter().find(|q| overlaps(q)) {
                return ctx.reply.error(&format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                ));
            }
        }
        // Prefixes add up over several CLIENT TRACKING ON calls.
        for p in existing.iter().rev() {
            if !o.prefixes.contains(p) {
                o.prefixes.insert(0, p.clone());
            }
        }
    }
    let mailbox = ctx.client.mailbox();
    let resp3 = ctx.reply.is_resp3();
    ctx.server
        .tracking
        .enable(ctx.client.id(), o.clone(), mailbox, resp3);
    ctx.client.info.tracking.store(true, Ordering::Relaxed);
    ctx.client
        .info
        .tracking_bcast
        .store(o.bcast, Ordering::Relaxed);
    ctx.client.tracking = Some(o);
    ctx.reply.ok();
}

fn client_caching(ctx: &mut Ctx, args: Args) {
    let Some(t) = &ctx.client.tracking else {
        return ctx.reply.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    };
    let opt = args.get(2);
    if eq_ic(opt, "yes") {
        if !t.optin {
            return ctx.reply.error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
        ctx.client.caching = Some(true);
    } else if eq_ic(opt, "no") {
        if !t.optout {
            return ctx.reply.error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
        ctx.client.caching = Some(false);
    } else {
        return ctx.reply.error(SYNTAX_ERR);
    }
    ctx.reply.ok();
}

fn client_trackinginfo(ctx: &mut Ctx, _args: Args) {
    let t = ctx.client.tracking.clone();
    let mut flags: Vec<&str> = vec![if t.is_some() { "on" } else { "off" }];
    if let Some(t) = &t {
        if t.bcast {
            flags.push("bcast");
        }
        if t.optin {
            flags.push("optin");
            if ctx.client.caching == Some(true) {
                flags.push("caching-yes");
            }
        }
        if t.optout {
            flags.push("optout");
            if ctx.client.caching == Some(false) {
                flags.push("caching-no");
            }
        }
        if t.noloop {
            flags.push("noloop");
        }
    }
    ctx.reply.map(3);
    ctx.reply.bulk(b"flags");
    ctx.reply.set(flags.len());
    for f in flags {
        ctx.reply.bulk(f.as_bytes());
    }
    ctx.reply.bulk(b"redirect");
    ctx.reply.int(t.as_ref().map_or(-1, |t| t.redirect as i64));
    ctx.reply.bulk(b"prefixes");
    // Redis keeps prefixes in a radix tree: they come out sorted.
    let mut prefixes = t.map(|t| t.prefixes).unwrap_or_default();
    prefixes.sort();
    ctx.reply.array(prefixes.len());
    for p in &prefixes {
        ctx.reply.bulk(p);
    }
}

fn client_unblock(ctx: &mut Ctx, args: Args) {
    let Some(id) = crate::util::num::parse_i64(args.get(2)) else {
        return ctx.reply.error(super::NOT_INT);
    };
    let with_error = match (args.len() == 4).then(|| args.get(3)) {
        None => false,
        Some(r) if eq_ic(r, "timeout") => false,
        Some(r) if eq_ic(r, "error") => true,
        Some(_) => {
            return ctx
                .reply
                .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        }
    };
    let done = u64::try_from(id)
        .is_ok_and(|id| crate::server::blocking::unblock_client(ctx.server, id, with_error));
    ctx.reply.int(done as i64);
}

fn client_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    );
}

const CMD: u32 = NOSCRIPT | LOADING | STALE;

pub static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("tracking", -3, CMD, CONN, client_tracking).doc(
        "connection",
        "6.0.0",
        "O(1). Some options may introduce additional complexity.",
        "Controls server-assisted client-side caching for the connection.",
    ),
    CommandSpec::new("caching", 3, CMD, CONN, client_caching).doc(
        "connection",
        "6.0.0",
        "O(1)",
        "Instructs the server whether to track the keys in the next request.",
    ),
    CommandSpec::new("trackinginfo", 2, CMD, CONN, client_trackinginfo).doc(
        "connection",
        "6.2.0",
        "O(1)",
        "Returns information about server-assisted client-side caching for the connection.",
    ),
    CommandSpec::new("unblock", -3, ADMIN | CMD, CONN, client_unblock).doc(
        "connection",
        "5.0.0",
        "O(log N) where N is the number of client connections",
        "Unblocks a client blocked by a blocking command from a different connection.",
    ),
    CommandSpec::new("id", 2, CMD, CONN, client_id).doc(
        "connection",
        "5.0.0",
        "O(1)",
        "Returns the unique client ID of the connection.",
    ),
    CommandSpec::new("setname", 3, CMD, CONN, client_setname).doc(
        "connection",
        "2.6.9",
        "O(1)",
        "Sets the connection name.",
    ),
    CommandSpec::new("getname", 2, CMD, CONN, client_getname).doc(
        "connection",
        "2.6.9",
        "O(1)",
        "Returns the name of the connection.",
    ),
    CommandSpec::new("setinfo", 4, CMD, CONN, client_setinfo).doc(
        "connection",
        "7.2.0",
        "O(1)",
        "Sets information specific to the client or connection.",
    ),
    CommandSpec::new("list", -2, ADMIN | CMD, CONN, client_list).doc(
        "connection",
        "2.4.0",
        "O(N) where N is the number of client connections",
        "Lists open connections.",
    ),
    CommandSpec::new("info", 2, CMD, CONN, client_info).doc(
        "connection",
        "6.2.0",
        "O(1)",
        "Returns information about the connection.",
    ),
    CommandSpec::new("kill", -3, ADMIN | CMD, CONN, client_kill).doc(
        "connection",
        "2.4.0",
        "O(N) where N is the number of client connections",
        "Terminates open connections.",
    ),
    CommandSpec::new("no-evict", 3, ADMIN | CMD, CONN, client_no_evict).doc(
        "connection",
        "7.0.0",
        "O(1)",
        "Sets the client eviction mode of the connection.",
    ),
    CommandSpec::new("no-touch", 3, CMD, CONN, client_no_touch).doc(
        "connection",
        "7.2.0",
        "O(1)",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
    ),
    CommandSpec::new("reply", 3, CMD, CONN, client_reply).doc(
        "connection",
        "3.2.0",
        "O(1)",
        "Instructs the server whether to reply to commands.",
    ),
    CommandSpec::new("pause", -3, ADMIN | CMD, CONN, client_pause).doc(
        "connection",
        "3.0.0",
        "O(1)",
        "Suspends commands processing.",
    ),
    CommandSpec::new("unpause", 2, ADMIN | CMD, CONN, client_unpause).doc(
        "connection",
        "6.2.0",
        "O(N) Where N is the number of paused clients",
        "Resumes processing commands from paused clients.",
    ),
    CommandSpec::new("getredir", 2, CMD, CONN, client_getredir).doc(
        "connection",
        "6.0.0",
        "O(1)",
        "Returns the client ID to which the connection's tracking notifications are redirected.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, CONN, client_help).doc(
        "connection",
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];
