//! redis.call / redis.pcall: a script's commands run through the dispatcher's `run` against the
//! keyspace view the script holds (every shard), as a client of their own: Redis's Lua client,
//! with the caller's database, a reply in RESP2 unless redis.setresp(3).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use mlua::{Lua, MultiValue, Value};

use super::convert::{error_table, reply_to_lua};
use super::engine::{Host, to_argv};
use crate::commands::table::{CommandSpec, DENYOOM, NOSCRIPT, WRITE};
use crate::commands::{Ctx, run};
use crate::protocol::{Args, OwnedArgs, Reply, RespVersion};
use crate::server::client::{Client, ClientInfo};

pub struct ScriptHost<'r, 'a, 'k> {
    pub ctx: &'r mut Ctx<'a, 'k>,
    /// The Lua client the script's commands run as.
    client: Client,
    scratch: Reply,
    pub resp3: bool,
    read_only: bool,
    /// Denyoom commands are refused: the script started over maxmemory, without allow-oom.
    refuse_denyoom: bool,
    wrote: &'r AtomicBool,
}

impl<'r, 'a, 'k> ScriptHost<'r, 'a, 'k> {
    pub fn new(
        ctx: &'r mut Ctx<'a, 'k>,
        read_only: bool,
        allow_oom: bool,
        wrote: &'r AtomicBool,
    ) -> Self {
        let refuse_denyoom = ctx.client.oom_at_start && !allow_oom;
        // Redis's Lua client is a fake client: no address ("?:0" in SLOWLOG, "lua" in
        // MONITOR), and no tracking: Redis 7.0 does not track the keys scripts read.
        let info = Arc::new(ClientInfo::new(
            ctx.client.id(),
            "?:0".into(),
            String::new(),
            -1,
            ctx.ks.now_ms,
        ));
        let mut client = Client::new(info, ctx.client.user.clone(), true);
        client.in_script = true;
        client.select(ctx.ks.db);
        client.no_touch = ctx.client.no_touch;
        ScriptHost {
            ctx,
            client,
            // Reply::new reserves a connection-sized buffer; command replies here are small.
            scratch: Reply {
                out: Vec::new(),
                resp: RespVersion::Resp2,
                errors: 0,
                last_error_at: 0,
            },
            resp3: false,
            read_only,
            refuse_denyoom,
            wrote,
        }
    }

    /// Resolves a script's command line to a command, or Redis's error for it.
    fn resolve(
        &self,
        argv: &[Vec<u8>],
        args: &Args,
    ) -> Result<(&'static CommandSpec, usize), &'static str> {
        let commands = &self.ctx.server.commands;
        let unknown = "Unknown Redis command called from script";
        let (mut spec, mut index) = commands.lookup(&argv[0]).ok_or(unknown)?;
        if !spec.subcommands.is_empty() && argv.len() >= 2 {
            (spec, index) = commands.lookup_sub(index, &argv[1]).ok_or(unknown)?;
        }
        if !spec.arity_ok(argv.len()) {
            return Err("Wrong number of args calling Redis command from script");
        }
        if spec.has(NOSCRIPT) {
            return Err("This Redis command is not allowed from script");
        }
        if !self.client.user.unrestricted()
            && let Err(denial) = self
                .client
                .user
                .check(&crate::acl::Request { spec, index, args })
        {
            let server = self.ctx.server;
            let (reason, object) =
                crate::commands::acl_cmd::denial_object(server, denial, index, args);
            crate::commands::acl_cmd::record(
                server,
                &self.ctx.client.info,
                reason,
                crate::acl::log::Context::Lua,
                object,
                &self.client.user.name,
            );
            return Err(match denial {
                crate::acl::Denial::Command => {
                    "The user executing the script can't run this command or subcommand"
                }
                crate::acl::Denial::Key(_) => {
                    "The user executing the script can't access at least one of the keys mentioned in the command arguments"
                }
                crate::acl::Denial::Channel(_) => {
                    "The user executing the script can't publish to the channel mentioned in the command"
                }
            });
        }
        if spec.has(WRITE) && self.read_only {
            return Err("Write commands are not allowed from read-only scripts.");
        }
        // Once a script has written it runs to the end, as Redis lets it.
        if spec.has(DENYOOM) && self.refuse_denyoom && !self.wrote.load(Ordering::Relaxed) {
            return Err("-OOM command not allowed when used memory > 'maxmemory'.");
        }
        Ok((spec, index))
    }
}

/// Hands `v` back to the script: raised (redis.call) or returned (redis.pcall).
fn fail(lua: &Lua, v: Value, raise: bool) -> mlua::Result<Value> {
    if raise {
        super::engine::raise(lua, v)
    } else {
        Ok(v)
    }
}

impl Host for ScriptHost<'_, '_, '_> {
    fn call(&mut self, lua: &Lua, args: MultiValue, raise: bool) -> mlua::Result<Value> {
        if args.is_empty() {
            let e = error_table(
                lua,
                b"Please specify at least one argument for this redis lib call",
            )?;
            return fail(lua, Value::Table(e), raise);
        }
        let Some(argv) = to_argv(&args) else {
            let e = error_table(
                lua,
                b"Lua redis lib command arguments must be strings or integers",
            )?;
            return fail(lua, Value::Table(e), raise);
        };
        let mut owned = OwnedArgs::default();
        for a in &argv {
            owned.push(a);
        }
        let (spec, index) = match self.resolve(&argv, &owned.args()) {
            Ok(found) => found,
            Err(msg) => {
                let e = error_table(lua, msg.as_bytes())?;
                return fail(lua, Value::Table(e), raise);
            }
        };
        if spec.has(WRITE) {
            self.wrote.store(true, Ordering::Relaxed);
        }
        self.scratch.out.clear();
        self.scratch.resp = if self.resp3 {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        };
        let mut inner = Ctx {
            ks: self.ctx.ks,
            reply: &mut self.scratch,
            client: &mut self.client,
            server: self.ctx.server,
            prop: self.ctx.prop,
        };
        run(&mut inner, spec, index, owned.args(), Instant::now());
        let v = reply_to_lua(lua, &self.scratch.out)?;
        if self.scratch.out.first() == Some(&b'-') {
            return fail(lua, v, raise);
        }
        Ok(v)
    }

    fn set_resp3(&mut self, resp3: bool) {
        self.resp3 = resp3;
    }

    fn acl_check(&self, argv: &[Vec<u8>]) -> Option<bool> {
        let commands = &self.ctx.server.commands;
        let (spec, index) = match commands.lookup(&argv[0])? {
            (spec, index) if !spec.subcommands.is_empty() && argv.len() >= 2 => {
                commands.lookup_sub(index, &argv[1])?
            }
            found => found,
        };
        let user = &self.client.user;
        if user.unrestricted() {
            return Some(true);
        }
        let mut owned = OwnedArgs::default();
        for a in argv {
            owned.push(a);
        }
        let args = owned.args();
        Some(
            user.check(&crate::acl::Request {
                spec,
                index,
                args: &args,
            })
            .is_ok(),
        )
    }
}
