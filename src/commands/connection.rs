//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO.

use super::{Ctx, SYNTAX_ERR};
use crate::protocol::{Args, RespVersion};
use crate::server::client::ReplyMode;

pub fn ping(ctx: &mut Ctx, args: Args) {
    if ctx.client.is_subscribed() && !ctx.reply.is_resp3() && args.len() <= 2 {
        // A subscribed RESP2 client gets PING's answer shaped like a message.
        ctx.reply.array(2);
        ctx.reply.bulk(b"pong");
        ctx.reply
            .bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return;
    }
    match args.len() {
        1 => ctx.reply.simple(b"PONG"),
        2 => ctx.reply.bulk(args.get(1)),
        _ => ctx
            .reply
            .error("ERR wrong number of arguments for 'ping' command"),
    }
}

pub fn echo(ctx: &mut Ctx, args: Args) {
    ctx.reply.bulk(args.get(1));
}

pub fn quit(ctx: &mut Ctx, _args: Args) {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
}

pub fn reset(ctx: &mut Ctx, _args: Args) {
    // RESET ends MONITOR mode too, as in Redis (before this command is fed to monitors).
    ctx.server.stop_monitor(ctx.client.id());
    ctx.client.end_multi();
    super::transactions::unwatch_all(ctx);
    super::pubsub::unsubscribe_all(ctx);
    ctx.client.select(0);
    ctx.ks.db = 0;
    ctx.reply.resp = RespVersion::Resp2;
    ctx.client.set_resp(RespVersion::Resp2);
    ctx.client.reply_mode = ReplyMode::On;
    ctx.client.no_touch = false;
    {
        let mut meta = ctx.client.info.meta.lock();
        meta.name = None;
        meta.no_evict = false;
        meta.no_touch = false;
    }
    ctx.client.set_user(ctx.server.acl.default.clone());
    ctx.client.authenticated = !ctx.server.acl.default_needs_auth();
    ctx.reply.simple(b"RESET");
}

/// ACLAuthenticateUser: on success the connection runs as `user`; a failure is answered with
/// WRONGPASS and recorded in ACL LOG.
fn check_auth(ctx: &mut Ctx, command: &[u8], user: &[u8], pass: &[u8]) -> bool {
    match ctx.server.acl.authenticate(user, pass) {
        Some(u) => {
            ctx.client.set_user(u);
            true
        }
        None => {
            super::acl_cmd::log_denial(
                ctx.server,
                ctx.client,
                crate::acl::Reason::Auth,
                command,
                Some(user),
            );
            ctx.reply
                .error("WRONGPASS invalid username-password pair or user is disabled.");
            false
        }
    }
}

pub fn auth(ctx: &mut Ctx, args: Args) {
    if args.len() > 3 {
        return ctx.reply.error(SYNTAX_ERR);
    }
    if args.len() == 2 {
        if ctx.server.acl.default.is_nopass() {
            return ctx.reply.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
        if check_auth(ctx, args.get(0), b"default", args.get(1)) {
            ctx.reply.ok();
        }
    } else if check_auth(ctx, args.get(0), args.get(1), args.get(2)) {
        ctx.reply.ok();
    }
}

/// CLIENT SETNAME's rule: printable ASCII without spaces.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

pub fn hello(ctx: &mut Ctx, args: Args) {
    let mut version = None;
    let mut j = 1;
    if args.len() >= 2 {
        match crate::util::num::parse_i64(args.get(1)) {
            None => {
                return ctx
                    .reply
                    .error("ERR Protocol version is not an integer or out of range");
            }
            Some(v) if !(2..=3).contains(&v) => {
                return ctx.reply.error("NOPROTO unsupported protocol version");
            }
            Some(v) => version = Some(v),
        }
        j = 2;
    }
    let mut credentials = None;
    let mut name = None;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
            credentials = Some((args.get(j + 1), args.get(j + 2)));
            j += 3;
        } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
            name = Some(args.get(j + 1));
            j += 2;
        } else {
            return ctx.reply.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
    }
    if let Some((user, pass)) = credentials
        && !check_auth(ctx, args.get(0), user, pass)
    {
        return;
    }
    if !ctx.client.authenticated {
        return ctx.reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = name {
        if !valid_client_name(n) {
            return ctx
                .reply
                .error("ERR Client names cannot contain spaces, newlines or special characters.");
        }
        ctx.client.info.meta.lock().name = (!n.is_empty()).then(|| n.to_vec());
    }
    if let Some(v) = version {
        let resp = if v == 3 {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        };
        ctx.reply.resp = resp;
        ctx.client.set_resp(resp);
    }
    let r = &mut *ctx.reply;
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(if r.is_resp3() { 3 } else { 2 });
    r.bulk(b"id");
    r.int(ctx.client.id() as i64);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
}
