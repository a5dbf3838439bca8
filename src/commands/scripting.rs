//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FUNCTION, FCALL, FCALL_RO. The work is in
//! `crate::scripting`; these parse arguments and pick the reply.

use std::sync::atomic::Ordering;

use super::table::*;
use super::{Ctx, eq_ic, reply_help, server_cmd};
use crate::protocol::Args;
use crate::scripting::RestorePolicy;

/// Scripts are fed to MONITOR before the commands they call (they skip the usual feed).
fn feed_monitors(ctx: &Ctx, args: &Args) {
    if ctx.server.monitor_count.load(Ordering::Relaxed) > 0 {
        server_cmd::feed_monitors(ctx, args);
    }
}

pub fn eval(ctx: &mut Ctx, args: Args) {
    feed_monitors(ctx, &args);
    ctx.server.scripting.eval(ctx, args, false, false);
}

pub fn evalsha(ctx: &mut Ctx, args: Args) {
    feed_monitors(ctx, &args);
    ctx.server.scripting.eval(ctx, args, true, false);
}

pub fn eval_ro(ctx: &mut Ctx, args: Args) {
    feed_monitors(ctx, &args);
    ctx.server.scripting.eval(ctx, args, false, true);
}

pub fn evalsha_ro(ctx: &mut Ctx, args: Args) {
    feed_monitors(ctx, &args);
    ctx.server.scripting.eval(ctx, args, true, true);
}

pub fn fcall(ctx: &mut Ctx, args: Args) {
    feed_monitors(ctx, &args);
    ctx.server.scripting.fcall(ctx, args, false);
}

pub fn fcall_ro(ctx: &mut Ctx, args: Args) {
    feed_monitors(ctx, &args);
    ctx.server.scripting.fcall(ctx, args, true);
}

fn script_load(ctx: &mut Ctx, args: Args) {
    match ctx.server.scripting.script_load(args.get(2)) {
        Ok(sha) => ctx.reply.bulk(sha.as_bytes()),
        Err(e) => ctx.reply.error(&e),
    }
}

fn script_exists(ctx: &mut Ctx, args: Args) {
    ctx.reply.array(args.len() - 2);
    for sha in args.iter().skip(2) {
        let found = ctx.server.scripting.script_exists(sha);
        ctx.reply.int(found as i64);
    }
}

/// SYNC, ASYNC or nothing (both flush at once here).
fn flush_mode_ok(args: &Args) -> bool {
    args.len() == 2
        || (args.len() == 3 && (eq_ic(args.get(2), "sync") || eq_ic(args.get(2), "async")))
}

fn script_flush(ctx: &mut Ctx, args: Args) {
    if !flush_mode_ok(&args) {
        return ctx
            .reply
            .error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    ctx.server.scripting.script_flush();
    ctx.reply.ok();
}

fn script_kill(ctx: &mut Ctx, _args: Args) {
    match ctx.server.scripting.run.kill(true) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => ctx.reply.error(e),
    }
}

fn script_debug(ctx: &mut Ctx, args: Args) {
    let mode = args.get(2);
    if eq_ic(mode, "no") {
        ctx.reply.ok();
    } else if eq_ic(mode, "yes") || eq_ic(mode, "sync") {
        // The Lua debugger (LDB) is not implemented.
        ctx.reply
            .error("ERR SCRIPT DEBUG is not supported by this server");
    } else {
        ctx.reply.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
}

fn script_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
}

fn function_load(ctx: &mut Ctx, args: Args) {
    let mut replace = false;
    for opt in args.iter().take(args.len() - 1).skip(2) {
        if !eq_ic(opt, "replace") {
            return ctx.reply.error(&format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(opt)
            ));
        }
        replace = true;
    }
    match ctx
        .server
        .scripting
        .function_load(args.get(args.len() - 1), replace)
    {
        Ok(name) => {
            ctx.propagate_received(&args);
            ctx.reply.bulk(name.as_bytes())
        }
        Err(e) => ctx.reply.error(&format!("ERR {e}")),
    }
}

fn function_delete(ctx: &mut Ctx, args: Args) {
    if ctx.server.scripting.function_delete(args.get(2)) {
        ctx.propagate_received(&args);
        ctx.reply.ok();
    } else {
        ctx.reply.error("ERR Library not found");
    }
}

fn function_flush(ctx: &mut Ctx, args: Args) {
    if args.len() > 3 {
        return subcommand_syntax_error(ctx, &args);
    }
    if !flush_mode_ok(&args) {
        return ctx
            .reply
            .error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    ctx.server.scripting.function_flush();
    ctx.propagate_received(&args);
    ctx.reply.ok();
}

fn function_list(ctx: &mut Ctx, args: Args) {
    let (mut with_code, mut pattern) = (false, None);
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if !with_code && eq_ic(a, "withcode") {
            with_code = true;
        } else if pattern.is_none() && eq_ic(a, "libraryname") {
            if i + 1 >= args.len() {
                return ctx.reply.error("ERR library name argument was not given");
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            return ctx.reply.error(&format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            ));
        }
        i += 1;
    }
    ctx.server
        .scripting
        .function_list(ctx.reply, pattern, with_code);
}

fn function_stats(ctx: &mut Ctx, _args: Args) {
    ctx.server.scripting.function_stats(ctx.reply);
}

fn function_kill(ctx: &mut Ctx, _args: Args) {
    match ctx.server.scripting.run.kill(false) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => ctx.reply.error(e),
    }
}

fn function_dump(ctx: &mut Ctx, _args: Args) {
    let compress = ctx.server.config.read().rdbcompression;
    let payload = ctx.server.scripting.function_dump(compress);
    ctx.reply.bulk(&payload);
}

fn function_restore(ctx: &mut Ctx, args: Args) {
    if args.len() > 4 {
        return subcommand_syntax_error(ctx, &args);
    }
    let policy = match args.len() {
        4 if eq_ic(args.get(3), "append") => RestorePolicy::Append,
        4 if eq_ic(args.get(3), "replace") => RestorePolicy::Replace,
        4 if eq_ic(args.get(3), "flush") => RestorePolicy::Flush,
        4 => {
            return ctx.reply.error(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            );
        }
        _ => RestorePolicy::Append,
    };
    match ctx.server.scripting.function_restore(args.get(2), policy) {
        Ok(()) => {
            ctx.propagate_received(&args);
            ctx.reply.ok()
        }
        Err(e) => ctx.reply.error(&format!("ERR {e}")),
    }
}

fn subcommand_syntax_error(ctx: &mut Ctx, args: &Args) {
    ctx.reply.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(args.get(1)),
        String::from_utf8_lossy(args.get(0)).to_ascii_uppercase()
    ));
}

fn function_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
}

const SCRIPT: u32 = CAT_SCRIPTING;

pub static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("debug", 3, NOSCRIPT, SCRIPT, script_debug).doc("scripting", "3.2.0", "O(1)", "Set the debug mode for executed scripts."),
    CommandSpec::new("exists", -3, NOSCRIPT, SCRIPT, script_exists).tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]).doc("scripting", "2.6.0", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).", "Check existence of scripts in the script cache."),
    CommandSpec::new("flush", -2, NOSCRIPT, SCRIPT, script_flush).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("scripting", "2.6.0", "O(N) with N being the number of scripts in cache", "Remove all the scripts from the script cache."),
    CommandSpec::new("help", 2, LOADING | STALE, SCRIPT, script_help).doc("scripting", "5.0.0", "O(1)", "Show helpful text about the different subcommands"),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, SCRIPT, script_kill).tips(&["request_policy:all_shards", "response_policy:one_succeeded"]).doc("scripting", "2.6.0", "O(1)", "Kill the script currently in execution."),
    CommandSpec::new("load", 3, NOSCRIPT | STALE, SCRIPT, script_load).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("scripting", "2.6.0", "O(N) with N being the length in bytes of the script body.", "Load the specified Lua script into the script cache."),
];

/// The subcommands that change the libraries lock every shard: an AOF rewrite, which holds
/// them all while it switches files and copies the libraries, then sees each change exactly
/// once (in its base or in the new incremental file).
pub static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "delete",
        3,
        WRITE | NOSCRIPT | ALL_SHARDS,
        SCRIPT,
        function_delete,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .doc("scripting", "7.0.0", "O(1)", "Delete a function by name"),
    CommandSpec::new("dump", 2, NOSCRIPT, SCRIPT, function_dump).doc(
        "scripting",
        "7.0.0",
        "O(N) where N is the number of functions",
        "Dump all functions into a serialized binary payload",
    ),
    CommandSpec::new(
        "flush",
        -2,
        WRITE | NOSCRIPT | ALL_SHARDS,
        SCRIPT,
        function_flush,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .doc(
        "scripting",
        "7.0.0",
        "O(N) where N is the number of functions deleted",
        "Deleting all functions",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, SCRIPT, function_help).doc(
        "scripting",
        "7.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, SCRIPT, function_kill)
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .doc(
            "scripting",
            "7.0.0",
            "O(1)",
            "Kill the function currently in execution.",
        ),
    CommandSpec::new("list", -2, NOSCRIPT, SCRIPT, function_list)
        .tips(&["nondeterministic_output_order"])
        .doc(
            "scripting",
            "7.0.0",
            "O(N) where N is the number of functions",
            "List information about all the functions",
        ),
    CommandSpec::new(
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT | ALL_SHARDS,
        SCRIPT,
        function_load,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .doc(
        "scripting",
        "7.0.0",
        "O(1) (considering compilation time is redundant)",
        "Create a function with the given arguments (name, code, description)",
    ),
    CommandSpec::new(
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT | ALL_SHARDS,
        SCRIPT,
        function_restore,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .doc(
        "scripting",
        "7.0.0",
        "O(N) where N is the number of functions on the payload",
        "Restore all the functions on the given payload",
    ),
    CommandSpec::new("stats", 2, NOSCRIPT | ALLOW_BUSY, SCRIPT, function_stats)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .doc(
            "scripting",
            "7.0.0",
            "O(1)",
            "Return information about the function currently running (name, description, duration)",
        ),
];
