//! ACL users and their rules (Redis 7.0's acl.c semantics): parsing the rules of ACL SETUSER,
//! `user` config lines and the ACL file, describing users back as ACL LIST renders them,
//! checking a command against a user's selectors, and the ACL LOG.
//!
//! A user's command permissions are a bitmap indexed like the command table's entries
//! (commands and subcommands), so a check is one bit test. Clients hold an `Arc<User>`; rule
//! changes are made in place, as in Redis, so connected clients see them at once.

pub mod file;
pub mod log;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

use crate::commands::table::{
    ACL_CATEGORIES, ACL_READ as READ, ACL_RW as READ_WRITE, ACL_WRITE as WRITE, CommandSpec,
    CommandTable, KEY_ACCESS, KEY_DELETE, KEY_INSERT, KEY_NOT_KEY, KEY_UPDATE, NO_AUTH,
};
use crate::protocol::Args;
use crate::util::glob::glob_match;

/// Why a rule was refused; the text is Redis's (ACLSetUserStringError).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    Syntax,
    UnknownCommand,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::KeysAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelsAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
        }
    }
}

/// What a rule needs from the server: the command table and acl-pubsub-default.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub table: &'a CommandTable,
    /// acl-pubsub-default is allchannels: new selectors start with every channel.
    pub all_channels_default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyPattern {
    pattern: Vec<u8>,
    perms: u8,
}

/// A set of permissions: the user's root selector or one of its `(...)` selectors.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    all_keys: bool,
    all_channels: bool,
    /// Every command, skipping the bitmap test (cleared by any removal).
    all_commands: bool,
    /// Allowed command table entries, one bit each.
    allowed: Vec<u64>,
    /// Set by +@all only: the rules start from +@all (ACL LIST renders "+@all ..." then).
    from_all: bool,
    /// First arguments allowed for an otherwise denied command (+select|0), by entry index.
    first_args: Vec<(usize, Vec<Vec<u8>>)>,
    keys: Vec<KeyPattern>,
    channels: Vec<Vec<u8>>,
}

impl Selector {
    fn new(env: Env) -> Selector {
        Selector {
            all_channels: env.all_channels_default,
            allowed: vec![0; env.table.len().div_ceil(64)],
            ..Selector::default()
        }
    }

    fn bit(&self, index: usize) -> bool {
        self.allowed
            .get(index / 64)
            .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    fn set_bit(&mut self, index: usize, allow: bool) {
        let Some(w) = self.allowed.get_mut(index / 64) else {
            return;
        };
        if allow {
            *w |= 1 << (index % 64);
        } else {
            *w &= !(1 << (index % 64));
            self.all_commands = false;
        }
    }

    fn clear_first_args(&mut self, index: usize) {
        self.first_args.retain(|(i, _)| *i != index);
    }

    /// Allows or denies a command, and with a container command all its subcommands.
    fn change_perm(&mut self, table: &CommandTable, index: usize, allow: bool) {
        self.set_bit(index, allow);
        self.clear_first_args(index);
        for sub in table.subcommand_indexes(index) {
            self.set_bit(sub, allow);
        }
    }

    fn set_category(&mut self, table: &CommandTable, category: u32, allow: bool) {
        for i in 0..table.len() {
            if table.spec_at(i).acl_categories() & category != 0 {
                self.change_perm(table, i, allow);
            }
        }
    }

    fn set_all(&mut self, allow: bool) {
        let word = if allow { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = word);
        self.all_commands = allow;
        self.from_all = allow;
        self.first_args.clear();
    }

    /// Applies one selector rule (ACLSetSelector).
    fn apply(&mut self, op: &[u8], env: Env) -> Result<(), RuleError> {
        let is = |s: &str| op.eq_ignore_ascii_case(s.as_bytes());
        if op.is_empty() {
            // An empty word inside a selector's parentheses ("(\"\")").
            return Err(RuleError::Syntax);
        }
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if op.len() >= 2 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let name = &op[2..];
            let category = ACL_CATEGORIES
                .iter()
                .find(|(_, n)| name.eq_ignore_ascii_case(n.as_bytes()))
                .ok_or(RuleError::UnknownCommand)?
                .0;
            self.set_category(env.table, category, op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow_command(&op[1..], env.table)?;
        } else if op[0] == b'-' {
            let index = env
                .table
                .acl_lookup(&op[1..])
                .ok_or(RuleError::UnknownCommand)?;
            self.change_perm(env.table, index, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeysAfterAll);
        }
        let mut perms = 0;
        let mut offset = 1;
        if op[0] == b'%' {
            while offset < op.len() {
                match op[offset].to_ascii_uppercase() {
                    b'R' if perms & READ == 0 => perms |= READ,
                    b'W' if perms & WRITE == 0 => perms |= WRITE,
                    b'~' => {
                        offset += 1;
                        break;
                    }
                    _ => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
            if perms == 0 {
                return Err(RuleError::Syntax);
            }
        } else {
            perms = READ_WRITE;
        }
        let pattern = &op[offset.min(op.len())..];
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(k) => k.perms |= perms,
            None => self.keys.push(KeyPattern {
                pattern: pattern.to_vec(),
                perms,
            }),
        }
        self.all_keys = false;
        Ok(())
    }

    /// +command, +container|subcommand, or +command|first-arg.
    fn allow_command(&mut self, name: &[u8], table: &CommandTable) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&c| c == b'|') else {
            let index = table.acl_lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(table, index, true);
            return Ok(());
        };
        let (base, first_arg) = (&name[..bar], &name[bar + 1..]);
        let index = table.acl_lookup(base).ok_or(RuleError::UnknownCommand)?;
        if table.is_subcommand(index) {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if first_arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !table.spec_at(index).subcommands.is_empty() {
            let sub = table.acl_lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(table, sub, true);
            return Ok(());
        }
        match self.first_args.iter_mut().find(|(i, _)| *i == index) {
            Some((_, args)) => {
                if !args.iter().any(|a| a.eq_ignore_ascii_case(first_arg)) {
                    args.push(first_arg.to_vec());
                }
            }
            None => self.first_args.push((index, vec![first_arg.to_vec()])),
        }
        Ok(())
    }

    fn count_category(&self, table: &CommandTable, category: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for i in 0..table.len() {
            if table.spec_at(i).acl_categories() & category != 0 {
                if self.bit(i) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules as ACL LIST shows them: +@all or -@all, then the categories that best
    /// approximate the bitmap, then single commands for the remaining differences (Redis 7.0's
    /// ACLDescribeSelectorCommandRules, over this server's command table).
    pub fn describe_commands(&self, env: Env) -> String {
        let table = env.table;
        let additive = !self.from_all;
        let mut rules = String::from(if additive { "-@all " } else { "+@all " });
        let mut fake = Selector::new(env);
        fake.set_all(!additive);
        let mut temp = self.clone();
        let mut applied = [false; 32];
        loop {
            let mut best = None;
            let (mut min_diff, mut max_same) = (usize::MAX, 0);
            for (j, (cat, _)) in ACL_CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(table, *cat);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < min_diff || (diff == min_diff && same > max_same)) {
                    best = Some(j);
                    min_diff = diff;
                    max_same = same;
                }
            }
            let Some(j) = best else { break };
            let (cat, name) = ACL_CATEGORIES[j];
            fake.set_category(table, cat, additive);
            temp.set_category(table, cat, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(name);
            rules.push(' ');
            applied[j] = true;
        }
        for i in 0..table.len() {
            let mine = self.bit(i);
            if mine != fake.bit(i) {
                rules.push(if mine { '+' } else { '-' });
                rules.push_str(table.full_name(i));
                rules.push(' ');
                fake.change_perm(table, i, mine);
            }
            if !mine && let Some((_, args)) = self.first_args.iter().find(|(x, _)| *x == i) {
                for a in args {
                    rules.push('+');
                    rules.push_str(table.full_name(i));
                    rules.push('|');
                    rules.push_str(&String::from_utf8_lossy(a));
                    rules.push(' ');
                }
            }
        }
        rules.pop();
        rules
    }

    /// Key patterns as GETUSER shows them ("~*", or the patterns separated by spaces).
    fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let parts: Vec<String> = self.keys.iter().map(pattern_string).collect();
        parts.join(" ")
    }

    fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let parts: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        parts.join(" ")
    }

    /// The whole selector as ACL LIST renders it (ACLDescribeSelector).
    fn describe(&self, env: Env) -> String {
        let mut out = String::new();
        if self.all_keys {
            out.push_str("~* ");
        } else {
            for k in &self.keys {
                out.push_str(&pattern_string(k));
                out.push(' ');
            }
        }
        if self.all_channels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push('&');
                out.push_str(&String::from_utf8_lossy(c));
                out.push(' ');
            }
        }
        out.push_str(&self.describe_commands(env));
        out
    }

    fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    /// ACLSelectorCheckCmd: the command bit (or an allowed first argument), every key against
    /// the patterns that grant what the key spec needs, and the channels of pub/sub commands.
    fn check(&self, req: &Request, keys: &mut Option<Vec<usize>>) -> Result<(), Denial> {
        let spec = req.spec;
        if !self.all_commands && !spec.has(NO_AUTH) && !self.bit(req.index) {
            let allowed_first = req.args.len() >= 2
                && self
                    .first_args
                    .iter()
                    .find(|(i, _)| *i == req.index)
                    .is_some_and(|(_, a)| {
                        a.iter().any(|a| a.eq_ignore_ascii_case(req.args.get(1)))
                    });
            if !allowed_first {
                return Err(Denial::Command);
            }
        }
        if !self.all_keys && spec.key_spec_bits() & KEY_NOT_KEY == 0 {
            let keys = keys.get_or_insert_with(|| request_keys(spec, req.args));
            if !keys.is_empty() {
                let common = key_perms(spec, req.args);
                for (nth, &pos) in keys.iter().enumerate() {
                    let needed = match spec.acl_key_perms {
                        Some((first, _)) if nth == 0 => first,
                        Some((_, rest)) => rest,
                        None => common,
                    };
                    let key = req.args.get(pos);
                    let ok = self
                        .keys
                        .iter()
                        .any(|p| p.perms & needed == needed && glob_match(&p.pattern, key, false));
                    if !ok {
                        return Err(Denial::Key(pos));
                    }
                }
            }
        }
        if !self.all_channels
            && let Some((range, literal)) = channel_args(spec, req.args.len())
        {
            for pos in range {
                let channel = req.args.get(pos);
                let ok = self.channels.iter().any(|p| {
                    if literal {
                        p == channel
                    } else {
                        glob_match(p, channel, false)
                    }
                });
                if !ok {
                    return Err(Denial::Channel(pos));
                }
            }
        }
        Ok(())
    }
}

fn pattern_string(k: &KeyPattern) -> String {
    let prefix = match k.perms {
        READ => "%R~",
        WRITE => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(&k.pattern))
}

/// Redis refuses spaces and NUL bytes in user names and patterns (isspace or 0).
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == 0 || c == b' ' || (b'\t'..=b'\r').contains(&c))
}

/// The key permissions a command's key spec flags need: access reads, insert/delete/update
/// write. SET and BITFIELD have variable flags: they read only with GET (Redis's
/// setGetKeys, bitfieldGetKeys).
fn key_perms(spec: &CommandSpec, args: &Args) -> u8 {
    match spec.name {
        "set" => {
            let get = (3..args.len()).any(|i| args.get(i).eq_ignore_ascii_case(b"get"));
            return if get { READ_WRITE } else { WRITE };
        }
        "bitfield" => {
            return if bitfield_reads_only(args) {
                READ
            } else {
                READ_WRITE
            };
        }
        _ => {}
    }
    let flags = spec.key_spec_bits();
    let mut perms = 0;
    if flags & KEY_ACCESS != 0 {
        perms |= READ;
    }
    if flags & (KEY_INSERT | KEY_DELETE | KEY_UPDATE) != 0 {
        perms |= WRITE;
    }
    perms
}

/// The key arguments ACL checks: the table's key positions, plus SORT's STORE destination
/// (found as Redis's sortGetKeys does: LIMIT, GET and BY skip their arguments, the last STORE
/// wins).
fn request_keys(spec: &CommandSpec, args: &Args) -> Vec<usize> {
    let mut keys: Vec<usize> = spec.key_indexes(args.len(), |i| args.get(i)).collect();
    if spec.name == "sort" {
        let mut store = None;
        let mut i = 2;
        while i < args.len() {
            let a = args.get(i);
            if a.eq_ignore_ascii_case(b"limit") {
                i += 2;
            } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
                i += 1;
            } else if a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
                store = Some(i + 1);
            }
            i += 1;
        }
        keys.extend(store);
    }
    keys
}

/// BITFIELD with only GET (and OVERFLOW) operations, well formed.
fn bitfield_reads_only(args: &Args) -> bool {
    let mut i = 2;
    while i < args.len() {
        let rest = args.len() - i - 1;
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"get") && rest >= 2 {
            i += 3;
        } else if a.eq_ignore_ascii_case(b"overflow") && rest >= 1 {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

/// The channel arguments of a pub/sub command, and whether they are patterns compared
/// literally (PSUBSCRIBE) rather than channels matched against the user's patterns.
fn channel_args(spec: &CommandSpec, argc: usize) -> Option<(std::ops::Range<usize>, bool)> {
    match spec.name {
        "publish" | "spublish" => Some((1..2, false)),
        "subscribe" | "ssubscribe" => Some((1..argc, false)),
        "psubscribe" => Some((1..argc, true)),
        _ => None,
    }
}

/// A command about to run, as the checks see it.
pub struct Request<'a, 'b> {
    pub spec: &'static CommandSpec,
    /// The command's (or subcommand's) entry in the command table.
    pub index: usize,
    pub args: &'a Args<'b>,
}

/// Why a command was refused, with the argument position of the key or channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denial {
    fn rank(self) -> (u8, usize) {
        match self {
            Denial::Command => (1, 0),
            Denial::Key(p) => (2, p),
            Denial::Channel(p) => (4, p),
        }
    }

    /// The dispatcher's NOPERM reply.
    pub fn error(self, table: &CommandTable, index: usize) -> String {
        match self {
            Denial::Command => format!(
                "NOPERM this user has no permissions to run the '{}' command",
                table.full_name(index)
            ),
            Denial::Key(_) => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .into()
            }
            Denial::Channel(_) => {
                "NOPERM this user has no permissions to access one of the channels used as arguments"
                    .into()
            }
        }
    }
}

/// A user's rules: flags, password hashes and selectors (the root one first).
#[derive(Clone, Debug)]
pub struct Rules {
    enabled: bool,
    nopass: bool,
    /// sanitize-payload (Some(true)) or skip-sanitize-payload (Some(false)), once set.
    sanitize: Option<bool>,
    passwords: Vec<[u8; 32]>,
    selectors: Vec<Selector>,
}

impl Rules {
    /// A new user: off, no password, no keys, no commands.
    pub fn new(env: Env) -> Rules {
        Rules {
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(env)],
        }
    }

    /// Applies one rule (ACLSetUser). An empty rule does nothing.
    pub fn apply(&mut self, op: &[u8], env: Env) -> Result<(), RuleError> {
        let is = |s: &str| op.eq_ignore_ascii_case(s.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                parse_hash(&op[1..]).ok_or(RuleError::BadHash)?
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                parse_hash(&op[1..]).ok_or(RuleError::BadHash)?
            };
            let at = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut selector = Selector::new(env);
            for rule in split_rules(&op[1..op.len() - 1]) {
                selector.apply(&rule, env)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.all_keys = false;
            root.keys.clear();
            root.all_channels = env.all_channels_default;
            root.channels.clear();
            self.enabled = false;
            self.sanitize = Some(true);
            self.selectors.truncate(1);
            self.selectors[0].set_all(false);
        } else {
            self.selectors[0].apply(op, env)?;
        }
        Ok(())
    }

    /// The flags GETUSER and ACL LIST show, in Redis's order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize {
            Some(false) => flags.push("skip-sanitize-payload"),
            Some(true) => flags.push("sanitize-payload"),
            None => {}
        }
        flags
    }

    /// Everything but the name, as ACL LIST renders it (ACLDescribeUser).
    pub fn describe(&self, env: Env) -> String {
        let mut out = String::new();
        for f in self.flags() {
            out.push_str(f);
            out.push(' ');
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(&hex(p));
            out.push(' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.push_str(&s.describe(env));
            } else {
                out.push_str(&format!(" ({})", s.describe(env)));
            }
        }
        out
    }

    /// Whether the password is one of the user's (digests compared in constant time).
    fn password_matches(&self, password: &[u8]) -> bool {
        let hash = hash_password(password);
        let mut matched = false;
        for p in &self.passwords {
            matched |= constant_time_eq(p, &hash);
        }
        matched
    }

    /// GETUSER's fields of one selector: commands, keys, channels.
    pub fn selector_fields(&self, i: usize, env: Env) -> [String; 3] {
        let s = &self.selectors[i];
        [
            s.describe_commands(env),
            s.describe_keys(),
            s.describe_channels(),
        ]
    }

    pub fn selector_count(&self) -> usize {
        self.selectors.len()
    }

    pub fn password_hashes(&self) -> Vec<String> {
        self.passwords.iter().map(|p| hex(p)).collect()
    }

    /// ACLCheckAllUserCommandPerm: allowed when one selector allows; otherwise the most
    /// relevant refusal (a channel over a key over the command; the later argument on a tie).
    pub fn check(&self, req: &Request) -> Result<(), Denial> {
        let mut keys = None;
        let mut worst = Denial::Command;
        for s in &self.selectors {
            match s.check(req, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    let (rank, pos) = d.rank();
                    let (best_rank, best_pos) = worst.rank();
                    if rank > best_rank || (rank == best_rank && pos > best_pos) {
                        worst = d;
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether a subscription (a channel, or a pattern compared literally) is allowed to this
    /// user (ACL SETUSER disconnects subscribers that lose one).
    fn channel_allowed(&self, channel: &[u8], literal: bool) -> bool {
        self.selectors.iter().any(|s| {
            s.all_channels
                || s.channels.iter().any(|p| {
                    if literal {
                        p == channel
                    } else {
                        glob_match(p, channel, false)
                    }
                })
        })
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

fn hash_password(password: &[u8]) -> [u8; 32] {
    Sha256::digest(password).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A #hash rule's argument: exactly 64 lowercase hex digits.
fn parse_hash(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// The rules inside a selector's parentheses, split like sdssplitargs (an unbalanced quote
/// gives no rules, as in Redis).
fn split_rules(text: &[u8]) -> Vec<Vec<u8>> {
    let mut data = Vec::new();
    let mut bounds = Vec::new();
    if !crate::protocol::parse::split_args(text, &mut data, &mut bounds) {
        return Vec::new();
    }
    bounds.into_iter().map(|r| data[r].to_vec()).collect()
}

/// Joins a selector spread over several arguments ("(+get" "~k*)") into one rule
/// (ACLMergeSelectorArguments). Err gives the index of an unclosed selector's first argument.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if let Some((_, sel)) = &mut open {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// A user: its name and rules. Shared by the user table and the clients authenticated as it.
pub struct User {
    pub name: Vec<u8>,
    rules: RwLock<Rules>,
    /// Every command, key and channel allowed: the dispatcher then skips the checks.
    unrestricted: AtomicBool,
}

impl User {
    fn new(name: &[u8], rules: Rules) -> User {
        User {
            name: name.to_vec(),
            unrestricted: AtomicBool::new(rules.selectors[0].unrestricted()),
            rules: RwLock::new(rules),
        }
    }

    /// The hot-path test: one load.
    #[inline]
    pub fn unrestricted(&self) -> bool {
        self.unrestricted.load(Ordering::Relaxed)
    }

    pub fn is_nopass(&self) -> bool {
        self.rules.read().nopass
    }

    pub fn rules(&self) -> Rules {
        self.rules.read().clone()
    }

    pub fn check(&self, req: &Request) -> Result<(), Denial> {
        self.rules.read().check(req)
    }

    /// Whether a selector that allows this command may also read every key (ACL
    /// ACLUserCheckCmdWithUnrestrictedKeyAccess: allkeys, or a `*` pattern with read permission).
    pub fn reads_every_key(&self, req: &Request) -> bool {
        let rules = self.rules.read();
        let mut keys = None;
        rules.selectors.iter().any(|s| {
            s.check(req, &mut keys).is_ok()
                && (s.all_keys
                    || s.keys
                        .iter()
                        .any(|k| k.perms & READ != 0 && k.pattern == b"*"))
        })
    }

    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    fn replace(&self, rules: Rules) {
        let free = rules.selectors[0].unrestricted();
        *self.rules.write() = rules;
        self.unrestricted.store(free, Ordering::Relaxed);
    }
}

/// ACL LOG reasons, also the INFO acl_access_denied_* counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Auth = 0,
    Command = 1,
    Key = 2,
    Channel = 3,
}

/// All users, the default one, the ACL LOG and the denial counters.
pub struct Acl {
    users: RwLock<BTreeMap<Vec<u8>, Arc<User>>>,
    /// The default user is never replaced (ACL LOAD copies into it), so clients keep it.
    pub default: Arc<User>,
    /// New connections must authenticate: the default user has a password or is off.
    default_needs_auth: AtomicBool,
    all_channels_default: AtomicBool,
    pub log: Mutex<log::AclLog>,
    pub denied: [AtomicU64; 4],
    /// Held by every read-modify-write of the users (SETUSER, DELUSER, LOAD, requirepass), which
    /// Redis's single thread makes atomic.
    pub edit: Mutex<()>,
}

impl Acl {
    /// The default user (on, nopass, everything allowed), its password from requirepass.
    pub fn new(table: &CommandTable, requirepass: Option<&[u8]>, all_channels: bool) -> Acl {
        let env = Env {
            table,
            all_channels_default: all_channels,
        };
        let default = Arc::new(User::new(b"default", default_rules(env, requirepass)));
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), default.clone());
        let acl = Acl {
            users: RwLock::new(users),
            default,
            default_needs_auth: AtomicBool::new(false),
            all_channels_default: AtomicBool::new(all_channels),
            log: Mutex::new(log::AclLog::default()),
            denied: Default::default(),
            edit: Mutex::new(()),
        };
        acl.refresh_default_auth();
        acl
    }

    pub fn env<'a>(&self, table: &'a CommandTable) -> Env<'a> {
        Env {
            table,
            all_channels_default: self.all_channels_default.load(Ordering::Relaxed),
        }
    }

    pub fn set_all_channels_default(&self, all: bool) {
        self.all_channels_default.store(all, Ordering::Relaxed);
    }

    /// New connections start unauthenticated (authRequired in Redis).
    #[inline]
    pub fn default_needs_auth(&self) -> bool {
        self.default_needs_auth.load(Ordering::Relaxed)
    }

    fn refresh_default_auth(&self) {
        let r = self.default.rules.read();
        self.default_needs_auth
            .store(!r.nopass || !r.enabled, Ordering::Relaxed);
    }

    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    pub fn users(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// requirepass: the default user's only password, or nopass when empty.
    pub fn set_default_password(&self, table: &CommandTable, password: Option<&[u8]>) {
        let _edit = self.edit.lock();
        let mut rules = self.default.rules();
        set_only_password(&mut rules, password, self.env(table));
        self.default.replace(rules);
        self.refresh_default_auth();
    }

    /// Creates a user or replaces its rules (ACL SETUSER, once every rule applied cleanly).
    pub fn set_user(&self, name: &[u8], rules: Rules) {
        let mut users = self.users.write();
        match users.get(name) {
            Some(u) => u.replace(rules),
            None => {
                users.insert(name.to_vec(), Arc::new(User::new(name, rules)));
            }
        }
        drop(users);
        if name == b"default" {
            self.refresh_default_auth();
        }
    }

    /// Removes a user (never called for "default"); false when there was none.
    pub fn delete_user(&self, name: &[u8]) -> bool {
        self.users.write().remove(name).is_some()
    }

    /// Replaces every user (ACL LOAD, startup): the default user keeps its identity and takes
    /// the new default rules (or the stock ones when the set has none).
    pub fn replace_all(&self, env: Env, mut set: BTreeMap<Vec<u8>, Rules>) {
        let default_rules = set
            .remove(&b"default"[..])
            .unwrap_or_else(|| default_rules(env, None));
        self.default.replace(default_rules);
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), self.default.clone());
        for (name, rules) in set {
            users.insert(name.clone(), Arc::new(User::new(&name, rules)));
        }
        *self.users.write() = users;
        self.refresh_default_auth();
    }

    /// AUTH: the user when it exists, is on, and the password matches (or it is nopass).
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<Arc<User>> {
        let user = self.get(name)?;
        let ok = {
            let r = user.rules.read();
            r.enabled && (r.nopass || r.password_matches(password))
        };
        ok.then_some(user)
    }
}

/// The default user's stock rules: everything allowed, on, nopass (or requirepass).
fn default_rules(env: Env, requirepass: Option<&[u8]>) -> Rules {
    let mut rules = Rules::new(env);
    for op in [&b"+@all"[..], b"~*", b"&*", b"on"] {
        let _ = rules.apply(op, env);
    }
    set_only_password(&mut rules, requirepass, env);
    rules
}

/// `password` as the only password, or nopass without one (ACLUpdateDefaultUserPassword).
fn set_only_password(rules: &mut Rules, password: Option<&[u8]>, env: Env) {
    let _ = rules.apply(b"resetpass", env);
    match password {
        Some(p) => {
            let mut op = b">".to_vec();
            op.extend_from_slice(p);
            let _ = rules.apply(&op, env);
        }
        None => {
            let _ = rules.apply(b"nopass", env);
        }
    }
}

/// After SETUSER changed a user's channels: whether a subscriber with these subscriptions
/// (channels, patterns, shard channels) may keep them (ACLKillPubsubClientsIfNeeded).
pub fn subscriptions_allowed(rules: &Rules, subscribed: &[Vec<Vec<u8>>; 3]) -> bool {
    subscribed[1].iter().all(|p| rules.channel_allowed(p, true))
        && subscribed[0]
            .iter()
            .all(|c| rules.channel_allowed(c, false))
        && subscribed[2]
            .iter()
            .all(|c| rules.channel_allowed(c, false))
}

#[cfg(test)]
mod tests;
