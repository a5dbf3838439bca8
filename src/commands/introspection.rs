//! COMMAND and its subcommands, answered from the command table.

use super::table::{
    ACL_CATEGORIES, CAT_CONNECTION, CommandSpec, LOADING, NO_MANDATORY_KEYS, STALE,
};
use super::{Ctx, SYNTAX_ERR, eq_ic, reply_help};
use crate::protocol::{Args, Reply};
use crate::util::glob::glob_match;

fn key_flags(spec: &CommandSpec) -> &'static [&'static str] {
    spec.key_spec_flags()
}

/// One COMMAND INFO entry: name, arity, flags, key positions, ACL categories, tips, key specs,
/// subcommands.
fn reply_info(reply: &mut Reply, spec: &CommandSpec, parent: Option<&CommandSpec>) {
    reply.array(10);
    match parent {
        Some(p) => reply.bulk(format!("{}|{}", p.name, spec.name).as_bytes()),
        None => reply.bulk(spec.name.as_bytes()),
    }
    reply.int(spec.arity as i64);
    let flags: Vec<&str> = spec.flag_names().collect();
    reply.set(flags.len());
    for f in flags {
        reply.simple(f.as_bytes());
    }
    reply.int(spec.keys.first as i64);
    reply.int(spec.keys.last as i64);
    reply.int(spec.keys.step as i64);
    let cats = spec.acl_categories();
    let names: Vec<&str> = ACL_CATEGORIES
        .iter()
        .filter(|(c, _)| cats & c != 0)
        .map(|(_, n)| *n)
        .collect();
    reply.set(names.len());
    for n in names {
        reply.simple(format!("@{n}").as_bytes());
    }
    reply.set(spec.tips.len());
    for t in spec.tips {
        reply.bulk(t.as_bytes());
    }
    let specs = (spec.keys.first > 0) as usize
        + spec.numkeys_at.is_some() as usize
        + spec.keyword_keys.is_some() as usize;
    reply.set(specs);
    let kflags = key_flags(spec);
    if spec.keys.first > 0 {
        let last = if spec.keys.last < 0 {
            spec.keys.last
        } else {
            spec.keys.last - spec.keys.first
        };
        reply_key_spec(
            reply,
            kflags,
            ("index", &[("index", Int(spec.keys.first as i64))]),
            (
                "range",
                &[
                    ("lastkey", Int(last as i64)),
                    ("keystep", Int(spec.keys.step as i64)),
                    ("limit", Int(0)),
                ],
            ),
        );
    }
    if let Some(at) = spec.numkeys_at {
        reply_key_spec(
            reply,
            kflags,
            ("index", &[("index", Int(at as i64))]),
            (
                "keynum",
                &[
                    ("keynumidx", Int(0)),
                    ("firstkey", Int(1)),
                    ("keystep", Int(1)),
                ],
            ),
        );
    }
    if let Some(k) = spec.keyword_keys {
        reply_key_spec(
            reply,
            kflags,
            (
                "keyword",
                &[
                    ("keyword", Text(k.keyword.as_bytes())),
                    ("startfrom", Int(k.startfrom as i64)),
                ],
            ),
            (
                "range",
                &[
                    ("lastkey", Int(-1)),
                    ("keystep", Int(1)),
                    ("limit", Int(k.limit as i64)),
                ],
            ),
        );
    }
    reply.set(spec.subcommands.len());
    for sub in spec.subcommands {
        reply_info(reply, sub, Some(spec));
    }
}

/// A value inside a key spec's begin_search / find_keys spec map.
enum SpecValue<'a> {
    Int(i64),
    Text(&'a [u8]),
}
use SpecValue::{Int, Text};

/// One COMMAND INFO key spec: its flags, then how the search begins and how keys are found,
/// each a type and a spec map.
fn reply_key_spec(
    reply: &mut Reply,
    flags: &[&str],
    begin_search: (&str, &[(&str, SpecValue)]),
    find_keys: (&str, &[(&str, SpecValue)]),
) {
    reply.map(3);
    reply.bulk(b"flags");
    reply.set(flags.len());
    for f in flags {
        reply.simple(f.as_bytes());
    }
    for (name, (kind, spec)) in [("begin_search", begin_search), ("find_keys", find_keys)] {
        reply.bulk(name.as_bytes());
        reply.map(2);
        reply.bulk(b"type");
        reply.bulk(kind.as_bytes());
        reply.bulk(b"spec");
        reply.map(spec.len());
        for (field, value) in spec {
            reply.bulk(field.as_bytes());
            match value {
                Int(n) => reply.int(*n),
                Text(t) => reply.bulk(t),
            }
        }
    }
}

fn reply_docs(reply: &mut Reply, spec: &CommandSpec) {
    let has_subs = !spec.subcommands.is_empty();
    reply.map(4 + has_subs as usize);
    reply.bulk(b"summary");
    reply.bulk(spec.summary.as_bytes());
    reply.bulk(b"since");
    reply.bulk(spec.since.as_bytes());
    reply.bulk(b"group");
    reply.bulk(spec.group.as_bytes());
    reply.bulk(b"complexity");
    reply.bulk(spec.complexity.as_bytes());
    if has_subs {
        reply.bulk(b"subcommands");
        reply.map(spec.subcommands.len());
        for sub in spec.subcommands {
            reply.bulk(format!("{}|{}", spec.name, sub.name).as_bytes());
            reply_docs(reply, sub);
        }
    }
}

/// Looks up "get" or "config|get".
fn find(ctx: &Ctx, name: &[u8]) -> Option<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    let text = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    match text.split_once('|') {
        None => ctx.server.commands.get(text.as_bytes()).map(|s| (s, None)),
        Some((p, sub)) => {
            let parent = ctx.server.commands.get(p.as_bytes())?;
            let s = parent.subcommands.iter().find(|s| s.name == sub)?;
            Some((s, Some(parent)))
        }
    }
}

fn reachable(ctx: &Ctx) -> Vec<&'static CommandSpec> {
    ctx.server
        .commands
        .all
        .iter()
        .copied()
        .filter(|s| ctx.server.commands.is_reachable(s))
        .collect()
}

pub fn command(ctx: &mut Ctx, _args: Args) {
    let all = reachable(ctx);
    ctx.reply.array(all.len());
    for s in all {
        reply_info(ctx.reply, s, None);
    }
}

fn command_count(ctx: &mut Ctx, _args: Args) {
    let n = reachable(ctx).len();
    ctx.reply.int(n as i64);
}

fn command_info(ctx: &mut Ctx, args: Args) {
    if args.len() == 2 {
        return command(ctx, args);
    }
    ctx.reply.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match find(ctx, name) {
            Some((s, parent)) => reply_info(ctx.reply, s, parent),
            None => ctx.reply.null(),
        }
    }
}

fn command_docs(ctx: &mut Ctx, args: Args) {
    let specs: Vec<&CommandSpec> = if args.len() == 2 {
        reachable(ctx)
    } else {
        args.iter()
            .skip(2)
            .filter_map(|n| find(ctx, n).filter(|(_, p)| p.is_none()).map(|(s, _)| s))
            .collect()
    };
    ctx.reply.map(specs.len());
    for s in specs {
        ctx.reply.bulk(s.name.as_bytes());
        reply_docs(ctx.reply, s);
    }
}

fn command_list(ctx: &mut Ctx, args: Args) {
    let mut names: Vec<String> = Vec::new();
    for s in reachable(ctx) {
        names.push(s.name.to_string());
        names.extend(
            s.subcommands
                .iter()
                .map(|sub| format!("{}|{}", s.name, sub.name)),
        );
    }
    if args.len() > 2 {
        if args.len() != 5 || !eq_ic(args.get(2), "filterby") {
            return ctx.reply.error(SYNTAX_ERR);
        }
        let (kind, value) = (args.get(3), args.get(4));
        if eq_ic(kind, "pattern") {
            names.retain(|n| glob_match(value, n.as_bytes(), true));
        } else if eq_ic(kind, "aclcat") {
            let Some((bit, _)) = ACL_CATEGORIES.iter().find(|(_, n)| eq_ic(value, n)) else {
                return ctx.reply.array(0);
            };
            names.retain(|n| {
                find(ctx, n.as_bytes()).is_some_and(|(s, _)| s.acl_categories() & bit != 0)
            });
        } else if eq_ic(kind, "module") {
            names.clear();
        } else {
            return ctx.reply.error(SYNTAX_ERR);
        }
    }
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
}

fn getkeys_generic(ctx: &mut Ctx, args: Args, with_flags: bool) {
    let Some(spec) = ctx.server.commands.get(args.get(2)) else {
        return ctx.reply.error("ERR Invalid command specified");
    };
    let argc = args.len() - 2;
    let mut spec = spec;
    if !spec.subcommands.is_empty()
        && argc >= 2
        && let Some(s) = spec.subcommands.iter().find(|s| eq_ic(args.get(3), s.name))
    {
        spec = s;
    }
    if !spec.arity_ok(argc) {
        return ctx
            .reply
            .error("ERR Invalid number of arguments specified for command");
    }
    let idx = spec.spec_key_indexes(argc, |i| args.get(i + 2));
    if idx.is_empty() && spec.has(NO_MANDATORY_KEYS) {
        // EVAL, FCALL...: no keys is a valid answer for them.
        return ctx.reply.array(0);
    }
    if idx.is_empty() {
        return ctx.reply.error(if spec.keyword_keys.is_some() {
            "ERR Invalid arguments specified for command"
        } else {
            "ERR The command has no key arguments"
        });
    }
    ctx.reply.array(idx.len());
    for i in idx {
        let key = args.get(i + 2);
        if with_flags {
            ctx.reply.array(2);
            ctx.reply.bulk(key);
            let flags = key_flags(spec);
            ctx.reply.set(flags.len());
            for f in flags {
                ctx.reply.simple(f.as_bytes());
            }
        } else {
            ctx.reply.bulk(key);
        }
    }
}

fn command_getkeys(ctx: &mut Ctx, args: Args) {
    getkeys_generic(ctx, args, false);
}

fn command_getkeysandflags(ctx: &mut Ctx, args: Args) {
    getkeys_generic(ctx, args, true);
}

fn command_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
}

const CMD: u32 = LOADING | STALE;

pub static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, CMD, CAT_CONNECTION, command_count).doc(
        "server",
        "2.8.13",
        "O(1)",
        "Returns a count of commands.",
    ),
    CommandSpec::new("info", -2, CMD, CAT_CONNECTION, command_info).doc(
        "server",
        "2.8.13",
        "O(N) where N is the number of commands to look up",
        "Returns information about one, multiple or all commands.",
    ),
    CommandSpec::new("docs", -2, CMD, CAT_CONNECTION, command_docs).doc(
        "server",
        "7.0.0",
        "O(N) where N is the number of commands to look up",
        "Returns documentary information about one, multiple or all commands.",
    ),
    CommandSpec::new("list", -2, CMD, CAT_CONNECTION, command_list).doc(
        "server",
        "7.0.0",
        "O(N) where N is the total number of Redis commands",
        "Returns a list of command names.",
    ),
    CommandSpec::new("getkeys", -4, CMD, CAT_CONNECTION, command_getkeys).doc(
        "server",
        "2.8.13",
        "O(N) where N is the number of arguments to the command",
        "Extracts the key names from an arbitrary command.",
    ),
    CommandSpec::new(
        "getkeysandflags",
        -4,
        CMD,
        CAT_CONNECTION,
        command_getkeysandflags,
    )
    .doc(
        "server",
        "7.0.0",
        "O(N) where N is the number of arguments to the command",
        "Extracts the key names and access flags for an arbitrary command.",
    ),
    CommandSpec::new("help", 2, CMD, CAT_CONNECTION, command_help).doc(
        "server",
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];
