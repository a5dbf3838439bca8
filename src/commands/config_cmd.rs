//! CONFIG GET/SET/RESETSTAT/REWRITE. The parameters themselves live in `crate::config`; this
//! module applies changes to the running server.

use super::table::{ADMIN, CommandSpec, LOADING, NOSCRIPT, STALE};
use super::{Ctx, reply_help};
use crate::protocol::Args;

fn config_get(ctx: &mut Ctx, args: Args) {
    let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
    let pairs = ctx.server.config.read().get(&patterns);
    ctx.reply.map(pairs.len());
    for (k, v) in &pairs {
        ctx.reply.bulk(k.as_bytes());
        ctx.reply.bulk(v.as_bytes());
    }
}

fn config_set(ctx: &mut Ctx, args: Args) {
    if !args.len().is_multiple_of(2) {
        return ctx
            .reply
            .error("ERR wrong number of arguments for 'config|set' command");
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)))
        .collect();
    let (old_port, old_bind, old_tls) = {
        let c = ctx.server.config.read();
        let tls: Vec<(&'static str, String)> = crate::config::params::PARAMS
            .iter()
            .filter(|p| p.name.starts_with("tls-"))
            .map(|p| (p.name, c.value(p.name).to_string()))
            .collect();
        (c.port.to_string(), c.bind.join(" "), tls)
    };
    let result = ctx.server.config.write().set(&pairs);
    match result {
        Ok(changed) => {
            if let Some(name) = changed.iter().find(|n| n.starts_with("tls-"))
                && let Err(e) = ctx.server.reload_tls().and_then(|()| {
                    if changed.contains(&"tls-port") {
                        ctx.server.start_listeners()
                    } else {
                        Ok(())
                    }
                })
            {
                // Certificates that do not load leave the running TLS settings in force.
                tracing::warn!("{e}");
                let restore: Vec<(&[u8], &[u8])> = old_tls
                    .iter()
                    .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
                    .collect();
                let _ = ctx.server.config.write().set(&restore);
                let _ = ctx.server.reload_tls();
                return ctx.reply.error(&format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - Unable to update TLS configuration. Check server logs."
                ));
            }
            if changed.iter().any(|n| *n == "port" || *n == "bind")
                && let Err(e) = ctx.server.start_listeners()
            {
                // Like Redis, a port that cannot be bound leaves the old setting in force.
                tracing::warn!("{e}");
                let restore = [
                    (&b"port"[..], old_port.as_bytes()),
                    (&b"bind"[..], old_bind.as_bytes()),
                ];
                let _ = ctx.server.config.write().set(&restore);
                let name = if changed.contains(&"port") {
                    "port"
                } else {
                    "bind"
                };
                return ctx.reply.error(&format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - Unable to listen on this port"
                ));
            }
            ctx.server.apply_config(&changed);
            if changed.contains(&"appendonly") {
                crate::persistence::aof::apply_appendonly(ctx.server);
            }
            ctx.reply.ok();
        }
        Err(e) => ctx.reply.error(&e),
    }
}

fn config_resetstat(ctx: &mut Ctx, _args: Args) {
    ctx.server.reset_stats();
    ctx.reply.ok();
}

fn config_rewrite(ctx: &mut Ctx, _args: Args) {
    // Users go to the config file unless an ACL file holds them (ACL SAVE writes that).
    let users = if ctx.server.config.read().value("aclfile").is_empty() {
        super::acl_cmd::user_lines(ctx.server)
    } else {
        Vec::new()
    };
    let result = ctx.server.config.read().rewrite(&users);
    match result {
        Ok(()) => ctx.reply.ok(),
        Err(e) => {
            tracing::warn!("CONFIG REWRITE failed: {e}");
            ctx.reply.error(&e)
        }
    }
}

fn config_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
}

const CFG: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, CFG, 0, config_get).doc(
        "server",
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Returns the effective values of configuration parameters.",
    ),
    CommandSpec::new("set", -4, CFG, 0, config_set).doc(
        "server",
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Sets configuration parameters in-flight.",
    ),
    CommandSpec::new("resetstat", 2, CFG, 0, config_resetstat).doc(
        "server",
        "2.0.0",
        "O(1)",
        "Resets the server's statistics.",
    ),
    CommandSpec::new("rewrite", 2, CFG, 0, config_rewrite).doc(
        "server",
        "2.8.0",
        "O(1)",
        "Persists the effective configuration to file.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, 0, config_help).doc(
        "server",
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];
