//! ACL and its subcommands, plus the helpers the dispatcher, EXEC and scripts use to refuse a
//! command and record the denial in ACL LOG.

use std::sync::atomic::Ordering;

use super::table::{ACL_CATEGORIES, ADMIN, CommandSpec, LOADING, NOSCRIPT, STALE};
use super::{Ctx, NOT_INT, reply_help};
use crate::acl::log::{Context, Denied};
use crate::acl::{Denial, Reason, Request, Rules, has_spaces, merge_selector_args};
use crate::protocol::{Args, OwnedArgs};
use crate::server::client::{Client, ClientInfo};
use crate::server::{Server, unix_ms};

/// Records a denial in ACL LOG and the INFO counters. `info` is the client to describe (for a
/// script, its caller).
pub fn record(
    server: &Server,
    info: &ClientInfo,
    reason: Reason,
    context: Context,
    object: &[u8],
    username: &[u8],
) {
    server.acl.denied[reason as usize].fetch_add(1, Ordering::Relaxed);
    let now = unix_ms();
    let max_len = server
        .config
        .read()
        .value("acllog-max-len")
        .parse()
        .unwrap_or(128);
    let client_info = super::client_cmd::client_line(server, info, now);
    server.acl.log.lock().add(
        Denied {
            reason,
            context,
            object,
            username,
            client_info,
        },
        now,
        max_len,
    );
}

/// Logs a denial for a connection's own command; `username` defaults to the client's user.
pub fn log_denial(
    server: &Server,
    client: &Client,
    reason: Reason,
    object: &[u8],
    username: Option<&[u8]>,
) {
    let context = if client.multi.is_some() || client.in_exec {
        Context::Multi
    } else {
        Context::Toplevel
    };
    let name = username.unwrap_or(&client.user.name);
    record(server, &client.info, reason, context, object, name);
}

/// What a denial logs: its reason and the command name, key or channel.
pub fn denial_object<'a>(
    server: &'a Server,
    denial: Denial,
    index: usize,
    args: &Args<'a>,
) -> (Reason, &'a [u8]) {
    match denial {
        Denial::Command => (Reason::Command, server.commands.full_name(index).as_bytes()),
        Denial::Key(p) => (Reason::Key, args.get(p)),
        Denial::Channel(p) => (Reason::Channel, args.get(p)),
    }
}

/// The dispatcher's refusal: NOPERM, logged (CLIENT LIST's cmd= names the refused command,
/// as in Redis).
pub fn refuse(
    server: &Server,
    client: &Client,
    reply: &mut crate::protocol::Reply,
    denial: Denial,
    index: usize,
    args: &Args,
) {
    client.info.last_cmd.store(index, Ordering::Relaxed);
    let (reason, object) = denial_object(server, denial, index, args);
    log_denial(server, client, reason, object, None);
    reply.error(&denial.error(&server.commands, index));
}

/// Closes the connections authenticated as `name` (the current one after its reply), as Redis
/// does when their user is deleted or replaced.
fn disconnect_users(ctx: &mut Ctx, matches: impl Fn(&[u8]) -> bool) {
    let me = ctx.client.id();
    let clients: Vec<_> = ctx.server.clients.lock().values().cloned().collect();
    for info in clients {
        if !matches(&info.meta.lock().user) {
            continue;
        }
        if info.id == me {
            ctx.client.close_after_reply = true;
        } else {
            info.kill();
        }
    }
}

/// Redis's reply to extra arguments of a subcommand that takes optional ones.
fn subcommand_syntax_error(ctx: &mut Ctx, args: &Args) {
    ctx.reply.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&args.get(1)[..args.get(1).len().min(128)]),
        lossy(args.get(0)).to_ascii_uppercase()
    ));
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn setuser(ctx: &mut Ctx, args: Args) {
    let name = args.get(2);
    if has_spaces(name) {
        return ctx
            .reply
            .error("ERR Usernames can't contain spaces or null characters");
    }
    let raw: Vec<&[u8]> = args.iter().skip(3).collect();
    let ops = match merge_selector_args(&raw) {
        Ok(ops) => ops,
        Err(j) => {
            return ctx.reply.error(&format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                lossy(raw[j])
            ));
        }
    };
    let env = ctx.server.acl.env(&ctx.server.commands);
    let _edit = ctx.server.acl.edit.lock();
    let existing = ctx.server.acl.get(name);
    let mut rules = existing
        .as_ref()
        .map_or_else(|| Rules::new(env), |u| u.rules());
    for op in &ops {
        if let Err(e) = rules.apply(op, env) {
            return ctx.reply.error(&format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                lossy(op),
                e.message()
            ));
        }
    }
    if existing.is_some() {
        disconnect_lost_subscribers(ctx, name, &rules);
    }
    ctx.server.acl.set_user(name, rules);
    ctx.reply.ok();
}

/// Subscribers authenticated as the user that lost access to one of their channels are
/// disconnected (ACLKillPubsubClientsIfNeeded).
fn disconnect_lost_subscribers(ctx: &mut Ctx, name: &[u8], rules: &Rules) {
    let ids: std::collections::HashSet<u64> = ctx
        .server
        .clients
        .lock()
        .values()
        .filter(|c| c.meta.lock().user == name)
        .map(|c| c.id)
        .collect();
    if ids.is_empty() {
        return;
    }
    let subs = ctx
        .server
        .pubsub
        .lock()
        .subscriptions_of(|id| ids.contains(&id));
    let me = ctx.client.id();
    for (id, subscribed) in subs {
        if crate::acl::subscriptions_allowed(rules, &subscribed) {
            continue;
        }
        if id == me {
            ctx.client.close_after_reply = true;
        } else if let Some(info) = ctx.server.clients.lock().get(&id) {
            info.kill();
        }
    }
}

fn deluser(ctx: &mut Ctx, args: Args) {
    let names: Vec<&[u8]> = args.iter().skip(2).collect();
    if names.contains(&&b"default"[..]) {
        return ctx.reply.error("ERR The 'default' user cannot be removed");
    }
    let _edit = ctx.server.acl.edit.lock();
    let mut deleted = 0;
    for name in names {
        if ctx.server.acl.delete_user(name) {
            deleted += 1;
            disconnect_users(ctx, |u| u == name);
        }
    }
    ctx.reply.int(deleted);
}

fn getuser(ctx: &mut Ctx, args: Args) {
    let Some(user) = ctx.server.acl.get(args.get(2)) else {
        return ctx.reply.null();
    };
    let env = ctx.server.acl.env(&ctx.server.commands);
    let rules = user.rules();
    let r = &mut *ctx.reply;
    r.map(6);
    r.bulk(b"flags");
    let flags = rules.flags();
    r.set(flags.len());
    for f in flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"passwords");
    let hashes = rules.password_hashes();
    r.array(hashes.len());
    for h in hashes {
        r.bulk(h.as_bytes());
    }
    let field_names: [&[u8]; 3] = [b"commands", b"keys", b"channels"];
    for (name, value) in field_names.iter().zip(rules.selector_fields(0, env)) {
        r.bulk(name);
        r.bulk(value.as_bytes());
    }
    r.bulk(b"selectors");
    r.array(rules.selector_count() - 1);
    for i in 1..rules.selector_count() {
        r.map(3);
        for (name, value) in field_names.iter().zip(rules.selector_fields(i, env)) {
            r.bulk(name);
            r.bulk(value.as_bytes());
        }
    }
}

/// `user <name> <rules>` for every user, by name (ACL LIST, ACL SAVE, CONFIG REWRITE).
pub fn user_lines(server: &Server) -> Vec<String> {
    let env = server.acl.env(&server.commands);
    server
        .acl
        .users()
        .iter()
        .map(|u| format!("user {} {}", u.name_lossy(), u.rules().describe(env)))
        .collect()
}

fn list(ctx: &mut Ctx, _args: Args) {
    let lines = user_lines(ctx.server);
    ctx.reply.array(lines.len());
    for l in lines {
        ctx.reply.bulk(l.as_bytes());
    }
}

fn users(ctx: &mut Ctx, _args: Args) {
    let users = ctx.server.acl.users();
    ctx.reply.array(users.len());
    for u in users {
        ctx.reply.bulk(&u.name);
    }
}

fn whoami(ctx: &mut Ctx, _args: Args) {
    let name = ctx.client.user.name.clone();
    ctx.reply.bulk(&name);
}

fn cat(ctx: &mut Ctx, args: Args) {
    if args.len() > 3 {
        return subcommand_syntax_error(ctx, &args);
    }
    if args.len() == 2 {
        ctx.reply.array(ACL_CATEGORIES.len());
        for (_, name) in ACL_CATEGORIES {
            ctx.reply.bulk(name.as_bytes());
        }
        return;
    }
    let wanted = args.get(2);
    let Some((category, _)) = ACL_CATEGORIES
        .iter()
        .find(|(_, n)| wanted.eq_ignore_ascii_case(n.as_bytes()))
    else {
        return ctx.reply.error(&format!(
            "ERR Unknown category '{}'",
            lossy(&wanted[..wanted.len().min(128)])
        ));
    };
    let table = &ctx.server.commands;
    let names: Vec<&str> = (0..table.len())
        .filter(|&i| table.spec_at(i).acl_categories() & category != 0)
        .map(|i| table.full_name(i))
        .collect();
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
}

const GENPASS_MAX_BITS: i64 = 4096;

fn genpass(ctx: &mut Ctx, args: Args) {
    if args.len() > 3 {
        return subcommand_syntax_error(ctx, &args);
    }
    let bits = if args.len() == 3 {
        match crate::util::num::parse_i64(args.get(2)) {
            Some(b) => b,
            None => return ctx.reply.error(NOT_INT),
        }
    } else {
        256
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return ctx.reply.error(&format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}"
        ));
    }
    let chars = ((bits + 3) / 4) as usize;
    match random_hex(chars) {
        Ok(hex) => ctx.reply.bulk(hex.as_bytes()),
        Err(e) => ctx.reply.error(&format!("ERR {e}")),
    }
}

/// `n` hex digits from the operating system's secure random source.
fn random_hex(n: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = vec![0u8; n.div_ceil(2)];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(n);
    Ok(hex)
}

fn log(ctx: &mut Ctx, args: Args) {
    if args.len() > 3 {
        return subcommand_syntax_error(ctx, &args);
    }
    let mut count = 10;
    if args.len() == 3 {
        let a = args.get(2);
        if a.eq_ignore_ascii_case(b"reset") {
            ctx.server.acl.log.lock().reset();
            return ctx.reply.ok();
        }
        match crate::util::num::parse_i64(a) {
            Some(n) => count = n.max(0) as usize,
            None => return ctx.reply.error(NOT_INT),
        }
    }
    ctx.server.acl.log.lock().reply(ctx.reply, count, unix_ms());
}

fn dryrun(ctx: &mut Ctx, args: Args) {
    let Some(user) = ctx.server.acl.get(args.get(2)) else {
        return ctx
            .reply
            .error(&format!("ERR User '{}' not found", lossy(args.get(2))));
    };
    let mut owned = OwnedArgs::default();
    for a in args.iter().skip(3) {
        owned.push(a);
    }
    let cmd_args = owned.args();
    let table = &ctx.server.commands;
    let found = table.lookup(cmd_args.get(0)).and_then(|(spec, index)| {
        if cmd_args.len() == 1 || spec.subcommands.is_empty() {
            Some((spec, index))
        } else {
            table.lookup_sub(index, cmd_args.get(1))
        }
    });
    let Some((spec, index)) = found else {
        return ctx.reply.error(&format!(
            "ERR Command '{}' not found",
            lossy(cmd_args.get(0))
        ));
    };
    if !spec.arity_ok(cmd_args.len()) {
        return ctx.reply.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            table.full_name(index)
        ));
    }
    let req = Request {
        spec,
        index,
        args: &cmd_args,
    };
    match user.check(&req) {
        Ok(()) => ctx.reply.ok(),
        Err(Denial::Command) => ctx.reply.bulk(
            format!(
                "This user has no permissions to run the '{}' command",
                table.full_name(index)
            )
            .as_bytes(),
        ),
        Err(Denial::Key(p)) => ctx.reply.bulk(
            format!(
                "This user has no permissions to access the '{}' key",
                lossy(cmd_args.get(p))
            )
            .as_bytes(),
        ),
        Err(Denial::Channel(p)) => ctx.reply.bulk(
            format!(
                "This user has no permissions to access the '{}' channel",
                lossy(cmd_args.get(p))
            )
            .as_bytes(),
        ),
    }
}

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn acl_file(ctx: &Ctx) -> Option<String> {
    let path = ctx.server.config.read().value("aclfile").to_string();
    (!path.is_empty()).then_some(path)
}

fn load(ctx: &mut Ctx, _args: Args) {
    let Some(path) = acl_file(ctx) else {
        return ctx.reply.error(NO_ACL_FILE);
    };
    let env = ctx.server.acl.env(&ctx.server.commands);
    let _edit = ctx.server.acl.edit.lock();
    match crate::acl::file::load(&path, env) {
        Ok(users) => {
            ctx.server.acl.replace_all(env, users);
            // Every user but the default one was replaced: their clients go, as in Redis.
            disconnect_users(ctx, |u| u != b"default");
            ctx.reply.ok();
        }
        Err(e) => ctx.reply.error(&format!("ERR {e}")),
    }
}

fn save(ctx: &mut Ctx, _args: Args) {
    let Some(path) = acl_file(ctx) else {
        return ctx.reply.error(NO_ACL_FILE);
    };
    match crate::acl::file::save(&path, &user_lines(ctx.server)) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => {
            tracing::warn!("Saving ACL file {path}: {e}");
            ctx.reply.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
        }
    }
}

fn help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
}

const SUB: u32 = NOSCRIPT | LOADING | STALE;
const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static ACL_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cat", -2, SUB, 0, cat).doc(
        "server",
        "6.0.0",
        "O(1) since the categories and commands are a fixed set.",
        "List the ACL categories or the commands inside a category",
    ),
    CommandSpec::new("deluser", -3, ADMIN_SUB, 0, deluser).doc(
        "server",
        "6.0.0",
        "O(1) amortized time considering the typical user.",
        "Remove the specified ACL users and the associated rules",
    ),
    CommandSpec::new("dryrun", -4, ADMIN_SUB, 0, dryrun).doc(
        "server",
        "7.0.0",
        "O(1).",
        "Returns whether the user can execute the given command without executing the command.",
    ),
    CommandSpec::new("genpass", -2, SUB, 0, genpass).doc(
        "server",
        "6.0.0",
        "O(1)",
        "Generate a pseudorandom secure password to use for ACL users",
    ),
    CommandSpec::new("getuser", 3, ADMIN_SUB, 0, getuser).doc(
        "server",
        "6.0.0",
        "O(N). Where N is the number of password, command and pattern rules that the user has.",
        "Get the rules for a specific ACL user",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, 0, help).doc(
        "server",
        "6.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
    CommandSpec::new("list", 2, ADMIN_SUB, 0, list).doc(
        "server",
        "6.0.0",
        "O(N). Where N is the number of configured users.",
        "List the current ACL rules in ACL config file format",
    ),
    CommandSpec::new("load", 2, ADMIN_SUB, 0, load).doc(
        "server",
        "6.0.0",
        "O(N). Where N is the number of configured users.",
        "Reload the ACLs from the configured ACL file",
    ),
    CommandSpec::new("log", -2, ADMIN_SUB, 0, log).doc(
        "server",
        "6.0.0",
        "O(N) with N being the number of entries shown.",
        "List latest events denied because of ACLs in place",
    ),
    CommandSpec::new("save", 2, ADMIN_SUB, 0, save).doc(
        "server",
        "6.0.0",
        "O(N). Where N is the number of configured users.",
        "Save the current ACL rules in the configured ACL file",
    ),
    CommandSpec::new("setuser", -3, ADMIN_SUB, 0, setuser).doc(
        "server",
        "6.0.0",
        "O(N). Where N is the number of rules provided.",
        "Modify or create the rules for a specific ACL user",
    ),
    CommandSpec::new("users", 2, ADMIN_SUB, 0, users).doc(
        "server",
        "6.0.0",
        "O(N). Where N is the number of configured users.",
        "List the username of all the configured ACL rules",
    ),
    CommandSpec::new("whoami", 2, SUB, 0, whoami).doc(
        "server",
        "6.0.0",
        "O(1)",
        "Return the name of the user associated to the current connection",
    ),
];
