//! Persistence commands: SAVE, BGSAVE, DUMP, RESTORE (the codec lives in `persistence`).

use super::{Ctx, NOT_INT, SYNTAX_ERR, eq_ic};
use crate::persistence::{self, rdb};
use crate::protocol::Args;
use crate::server::notify;
use crate::util::num::parse_i64;

pub fn save(ctx: &mut Ctx, _args: Args) {
    if ctx.server.persistence.bgsave_in_progress() {
        return ctx.reply.error("ERR Background save already in progress");
    }
    match persistence::save_locked(ctx.server, &ctx.ks.all_shards(), true) {
        Ok(()) => ctx.reply.ok(),
        Err(_) => ctx.reply.error("ERR"),
    }
}

pub fn bgsave(ctx: &mut Ctx, args: Args) {
    if args.len() > 2 || (args.len() == 2 && !eq_ic(args.get(1), "schedule")) {
        return ctx.reply.error(SYNTAX_ERR);
    }
    // Inside MULTI/EXEC every shard is held here: the snapshot's instant must wait (Redis
    // schedules BGSAVE inside EXEC too).
    let in_exec = ctx.ks.locked.holds_all();
    match persistence::bgsave_command(ctx.server, args.len() == 2, in_exec) {
        Ok(text) => ctx.reply.simple(text.as_bytes()),
        Err(e) => ctx.reply.error(&e),
    }
}

fn encode_options(ctx: &Ctx) -> rdb::encode::Options {
    rdb::encode::Options {
        compress: ctx.server.config.read().rdbcompression,
        list_fill: ctx.server.hot.encoding_limits().list_max_listpack_size,
    }
}

pub fn dump(ctx: &mut Ctx, args: Args) {
    let opts = encode_options(ctx);
    match ctx.ks.get_read(args.get(1)) {
        Some(e) => {
            let payload = rdb::encode::dump_payload(&e.value, opts);
            ctx.reply.bulk(&payload);
        }
        None => ctx.reply.null(),
    }
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], with
/// Redis's checks in Redis's order.
pub fn restore(ctx: &mut Ctx, args: Args) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let a = args.get(j);
        let more = j + 1 < args.len();
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "absttl") {
            absttl = true;
        } else if eq_ic(a, "idletime") && more && freq.is_none() {
            let Some(v) = parse_i64(args.get(j + 1)) else {
                return ctx.reply.error(NOT_INT);
            };
            if v < 0 {
                return ctx.reply.error("ERR Invalid IDLETIME value, must be >= 0");
            }
            idle = Some(v);
            j += 1;
        } else if eq_ic(a, "freq") && more && idle.is_none() {
            let Some(v) = parse_i64(args.get(j + 1)) else {
                return ctx.reply.error(NOT_INT);
            };
            if !(0..=255).contains(&v) {
                return ctx
                    .reply
                    .error("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            freq = Some(v);
            j += 1;
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
        j += 1;
    }
    let key = args.get(1);
    if !replace && ctx.ks.get_write(key).is_some() {
        return ctx.reply.error("BUSYKEY Target key name already exists.");
    }
    let Some(ttl) = parse_i64(args.get(2)) else {
        return ctx.reply.error(NOT_INT);
    };
    if ttl < 0 {
        return ctx.reply.error("ERR Invalid TTL value, must be >= 0");
    }
    let limits = rdb::decode::Limits {
        encoding: ctx.server.hot.encoding_limits(),
    };
    let value = match rdb::decode::decode_payload(args.get(3), &limits) {
        Ok(v) => v,
        Err(true) => {
            return ctx
                .reply
                .error("ERR DUMP payload version or checksum are wrong");
        }
        Err(false) => return ctx.reply.error("ERR Bad data format"),
    };
    let deleted = replace && ctx.ks.remove(key).is_some();
    let expire_at = match (ttl, absttl) {
        (0, _) => 0,
        (t, true) => t,
        (t, false) => ctx.ks.now_ms.saturating_add(t),
    };
    if expire_at != 0 && expire_at <= ctx.ks.now_ms {
        if deleted {
            ctx.ks.notify(notify::GENERIC, "del", key);
        }
        return ctx.reply.ok();
    }
    ctx.ks.set(key, value, expire_at);
    let access = match (idle, freq) {
        (Some(s), _) => Some(rdb::encode::Access::IdleSeconds(s as u64)),
        (_, Some(f)) => Some(rdb::encode::Access::Freq(f as u8)),
        _ => None,
    };
    if let Some(a) = access {
        let field = persistence::access_field(ctx.server, a);
        if let Some(e) = ctx.ks.get_write(key) {
            e.set_access(field);
        }
    }
    ctx.ks.notify(notify::GENERIC, "restore", key);
    ctx.reply.ok();
}
