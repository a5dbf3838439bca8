//! The command table: the single source of truth for every command's name, arity, flags, key
//! positions, ACL categories, documentation and handler. COMMAND, key extraction, shard locking
//! and the arity/unknown-command errors all read it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Handler;
use crate::protocol::Args;

// Command flags, with the names COMMAND INFO reports.
pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const PUBSUB: u32 = 1 << 4;
pub const NOSCRIPT: u32 = 1 << 5;
pub const BLOCKING: u32 = 1 << 6;
pub const LOADING: u32 = 1 << 7;
pub const STALE: u32 = 1 << 8;
pub const SKIP_MONITOR: u32 = 1 << 9;
pub const SKIP_SLOWLOG: u32 = 1 << 10;
pub const FAST: u32 = 1 << 11;
pub const NO_AUTH: u32 = 1 << 12;
pub const MAY_REPLICATE: u32 = 1 << 13;
pub const NO_MULTI: u32 = 1 << 14;
pub const ALLOW_BUSY: u32 = 1 << 15;
pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
pub const SENTINEL: u32 = 1 << 17;
/// Keys found by parsing the arguments (SORT ... STORE dst): reported as "movablekeys".
pub const MOVABLE_KEYS: u32 = 1 << 18;
/// Not a Redis flag: the command reads or writes the whole keyspace, so it locks every shard.
pub const ALL_SHARDS: u32 = 1 << 30;

const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (MAY_REPLICATE, "may_replicate"),
    (NO_MULTI, "no_multi"),
    (ALLOW_BUSY, "allow_busy"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
];

// ACL categories, in Redis's order (ACL CAT).
pub const CAT_KEYSPACE: u32 = 1 << 0;
pub const CAT_READ: u32 = 1 << 1;
pub const CAT_WRITE: u32 = 1 << 2;
pub const CAT_SET: u32 = 1 << 3;
pub const CAT_SORTEDSET: u32 = 1 << 4;
pub const CAT_LIST: u32 = 1 << 5;
pub const CAT_HASH: u32 = 1 << 6;
pub const CAT_STRING: u32 = 1 << 7;
pub const CAT_BITMAP: u32 = 1 << 8;
pub const CAT_HYPERLOGLOG: u32 = 1 << 9;
pub const CAT_GEO: u32 = 1 << 10;
pub const CAT_STREAM: u32 = 1 << 11;
pub const CAT_PUBSUB: u32 = 1 << 12;
pub const CAT_ADMIN: u32 = 1 << 13;
pub const CAT_FAST: u32 = 1 << 14;
pub const CAT_SLOW: u32 = 1 << 15;
pub const CAT_BLOCKING: u32 = 1 << 16;
pub const CAT_DANGEROUS: u32 = 1 << 17;
pub const CAT_CONNECTION: u32 = 1 << 18;
pub const CAT_TRANSACTION: u32 = 1 << 19;
pub const CAT_SCRIPTING: u32 = 1 << 20;

pub const ACL_CATEGORIES: &[(u32, &str)] = &[
    (CAT_KEYSPACE, "keyspace"),
    (CAT_READ, "read"),
    (CAT_WRITE, "write"),
    (CAT_SET, "set"),
    (CAT_SORTEDSET, "sortedset"),
    (CAT_LIST, "list"),
    (CAT_HASH, "hash"),
    (CAT_STRING, "string"),
    (CAT_BITMAP, "bitmap"),
    (CAT_HYPERLOGLOG, "hyperloglog"),
    (CAT_GEO, "geo"),
    (CAT_STREAM, "stream"),
    (CAT_PUBSUB, "pubsub"),
    (CAT_ADMIN, "admin"),
    (CAT_FAST, "fast"),
    (CAT_SLOW, "slow"),
    (CAT_BLOCKING, "blocking"),
    (CAT_DANGEROUS, "dangerous"),
    (CAT_CONNECTION, "connection"),
    (CAT_TRANSACTION, "transaction"),
    (CAT_SCRIPTING, "scripting"),
];

// Key-spec flags that decide which ACL key permissions (%R~ / %W~) a command needs.
pub const KEY_ACCESS: u8 = 1;
pub const KEY_INSERT: u8 = 2;
pub const KEY_DELETE: u8 = 4;
pub const KEY_UPDATE: u8 = 8;
/// Not a key (shard channels of SPUBLISH/SSUBSCRIBE): ACL key patterns do not apply.
pub const KEY_NOT_KEY: u8 = 16;

// ACL key permissions a key needs (%R~ read, %W~ write; ~ grants both).
pub const ACL_READ: u8 = 1;
pub const ACL_WRITE: u8 = 2;
pub const ACL_RW: u8 = ACL_READ | ACL_WRITE;

/// Legacy key positions (first, last, step) as COMMAND INFO reports them; last < 0 counts from
/// the end. first == 0 means no keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPos {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

pub const NO_KEYS: KeyPos = KeyPos {
    first: 0,
    last: 0,
    step: 0,
};

pub const fn keys(first: i32, last: i32, step: i32) -> KeyPos {
    KeyPos { first, last, step }
}

/// Finds the key arguments of a command from its argument count and arguments.
pub type KeyFinder = for<'a> fn(usize, &dyn Fn(usize) -> &'a [u8]) -> std::ops::Range<usize>;

/// A "keyword" key spec: the keys follow `keyword`.
#[derive(Clone, Copy)]
pub struct KeywordKeys {
    pub keyword: &'static str,
    pub startfrom: i32,
    pub limit: i32,
    pub finder: KeyFinder,
}

pub struct CommandSpec {
    /// Lower case, as COMMAND reports it (for subcommands, just the subcommand part).
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// Categories beyond those implied by the flags (Redis adds @write, @read, @fast, @slow,
    /// @admin, @dangerous, @pubsub, @blocking from the flags).
    pub categories: u32,
    pub keys: KeyPos,
    /// Key-spec flags for COMMAND INFO when they differ from the default derived from the
    /// command flags (RO+access for reads, RW+update for writes).
    pub key_flags: Option<&'static [&'static str]>,
    /// For commands whose keys are counted by an argument (LMPOP numkeys key ...,
    /// ZUNIONSTORE dest numkeys key ...): the index of that count; the keys follow it.
    pub numkeys_at: Option<usize>,
    /// For commands whose keys follow a keyword (XREAD ... STREAMS key ... id ...).
    pub keyword_keys: Option<KeywordKeys>,
    /// Command tips (COMMAND INFO), e.g. "nondeterministic_output".
    pub tips: &'static [&'static str],
    /// For commands that write to a key named after a STORE or STOREDIST keyword (GEORADIUS):
    /// the index the keywords are searched from.
    pub store_key_from: Option<usize>,
    /// For commands whose keys have different key specs (SMOVE source and destination...):
    /// the ACL permissions of the first key and of the others.
    pub acl_key_perms: Option<(u8, u8)>,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
}

impl CommandSpec {
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        categories: u32,
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            categories,
            keys: NO_KEYS,
            key_flags: None,
            numkeys_at: None,
            keyword_keys: None,
            tips: &[],
            store_key_from: None,
            acl_key_perms: None,
            handler,
            subcommands: &[],
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "O(1)",
        }
    }

    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.keys = keys(first, last, step);
        self
    }

    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    /// Keys counted by the argument at `index` (the command has "movablekeys").
    pub const fn numkeys(mut self, index: usize) -> Self {
        self.numkeys_at = Some(index);
        self
    }

    /// Keys found after `keyword` (searched from argument `startfrom`) by `finder`; COMMAND INFO
    /// shows a keyword key spec whose range takes 1 argument in `limit`.
    pub const fn keys_after(
        mut self,
        keyword: &'static str,
        startfrom: i32,
        limit: i32,
        finder: KeyFinder,
    ) -> Self {
        self.keyword_keys = Some(KeywordKeys {
            keyword,
            startfrom,
            limit,
            finder,
        });
        self
    }

    /// A key after a STORE/STOREDIST keyword at `index` or later ("movablekeys").
    pub const fn store_key(mut self, index: usize) -> Self {
        self.store_key_from = Some(index);
        self
    }

    /// The ACL permissions of the first key and of the other keys, when they differ.
    pub const fn acl_keys(mut self, first: u8, rest: u8) -> Self {
        self.acl_key_perms = Some((first, rest));
        self
    }

    pub const fn key_flags(mut self, flags: &'static [&'static str]) -> Self {
        self.key_flags = Some(flags);
        self
    }

    pub const fn subs(mut self, subs: &'static [CommandSpec]) -> Self {
        self.subcommands = subs;
        self
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        complexity: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.complexity = complexity;
        self.summary = summary;
        self
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// All ACL categories: the declared ones plus those Redis derives from the flags.
    pub fn acl_categories(&self) -> u32 {
        let mut c = self.categories;
        if self.has(WRITE) {
            c |= CAT_WRITE;
        }
        if self.has(READONLY) && c & CAT_SCRIPTING == 0 {
            c |= CAT_READ;
        }
        if self.has(ADMIN) {
            c |= CAT_ADMIN | CAT_DANGEROUS;
        }
        if self.has(PUBSUB) {
            c |= CAT_PUBSUB;
        }
        if self.has(FAST) {
            c |= CAT_FAST;
        }
        if self.has(BLOCKING) {
            c |= CAT_BLOCKING;
        }
        if c & CAT_FAST == 0 {
            c |= CAT_SLOW;
        }
        c
    }

    /// Key-spec flags as COMMAND INFO reports them: the declared ones, else the common case
    /// (reads access, writes update).
    pub fn key_spec_flags(&self) -> &'static [&'static str] {
        if let Some(flags) = self.key_flags {
            flags
        } else if self.has(WRITE) {
            &["RW", "update"]
        } else {
            &["RO", "access"]
        }
    }

    /// The key-spec flags that matter to ACL key permissions (KEY_ACCESS...).
    pub fn key_spec_bits(&self) -> u8 {
        self.key_spec_flags()
            .iter()
            .map(|f| match *f {
                "access" => KEY_ACCESS,
                "insert" => KEY_INSERT,
                "delete" => KEY_DELETE,
                "update" => KEY_UPDATE,
                "not_key" => KEY_NOT_KEY,
                _ => 0,
            })
            .fold(0, |a, b| a | b)
    }

    pub fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        FLAG_NAMES
            .iter()
            .filter(|(f, _)| self.flags & f != 0)
            .map(|(_, n)| *n)
            .chain(
                (self.numkeys_at.is_some()
                    || self.keyword_keys.is_some()
                    || self.store_key_from.is_some()
                    || self.has(MOVABLE_KEYS))
                .then_some("movablekeys"),
            )
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// Indexes of the key arguments of a request: the legacy key positions, then the keys
    /// counted by a numkeys argument or named after STORE keywords (`arg` reads an argument by
    /// index).
    pub fn key_indexes<'a, F: Fn(usize) -> &'a [u8] + Copy>(
        &self,
        argc: usize,
        arg: F,
    ) -> impl Iterator<Item = usize> + use<F> {
        let counted = self.numkeys_at.and_then(|at| {
            if at >= argc {
                return None;
            }
            let n = crate::util::num::parse_i64(arg(at))?;
            let n = (n.max(0) as usize).min(argc - at - 1);
            Some(at + 1..at + 1 + n)
        });
        let after_keyword = self.keyword_keys.map(|k| (k.finder)(argc, &arg));
        // Every argument after a STORE/STOREDIST word may be the key: locking one too many
        // is harmless, missing one is not.
        let stored = self.store_key_from.map(|from| {
            (from..argc.saturating_sub(1))
                .filter(move |&i| {
                    let a = arg(i);
                    a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist")
                })
                .map(|i| i + 1)
        });
        self.legacy_key_indexes(argc)
            .chain(counted.into_iter().flatten())
            .chain(stored.into_iter().flatten())
            .chain(after_keyword.into_iter().flatten())
    }

    /// The keys COMMAND GETKEYS reports. Keys after a keyword come from Redis's keyword key
    /// spec (the first match of the keyword from `startfrom`, then one key per `limit`
    /// arguments), which may differ from what the command itself reads on odd input; without
    /// the keyword, from the finder.
    pub fn spec_key_indexes<'a, F: Fn(usize) -> &'a [u8] + Copy>(
        &self,
        argc: usize,
        arg: F,
    ) -> Vec<usize> {
        let Some(k) = self.keyword_keys else {
            return self.key_indexes(argc, arg).collect();
        };
        let keyword = (k.startfrom.max(1) as usize..argc)
            .find(|&i| arg(i).eq_ignore_ascii_case(k.keyword.as_bytes()));
        match keyword {
            Some(i) => {
                let first = i + 1;
                let n = (argc - first) / k.limit.max(1) as usize;
                (first..first + n).collect()
            }
            None => (k.finder)(argc, &arg).collect(),
        }
    }

    fn legacy_key_indexes(&self, argc: usize) -> impl Iterator<Item = usize> + use<> {
        let KeyPos { first, last, step } = self.keys;
        let (start, end, step) = if first <= 0 || first as usize >= argc {
            (1usize, 0usize, 1usize)
        } else {
            let end = if last < 0 {
                argc as i64 + last as i64
            } else {
                last as i64
            };
            (
                first as usize,
                end.clamp(0, argc as i64 - 1) as usize,
                step.max(1) as usize,
            )
        };
        (start..=end)
            .step_by(step)
            .filter(move |&i| i >= start && i <= end)
    }

    /// The keys of a request (for locking and COMMAND GETKEYS).
    pub fn request_keys<'a>(
        &self,
        args: &Args<'a>,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, '_> {
        let a = *args;
        self.key_indexes(args.len(), move |i| a.get(i))
            .map(move |i| a.get(i))
    }
}

/// Per-command counters (INFO commandstats).
#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

/// Commands by lower-case name, plus every command and subcommand with its statistics.
pub struct CommandTable {
    by_name: HashMap<&'static str, (&'static CommandSpec, usize), foldhash::fast::RandomState>,
    /// Top-level commands in table order.
    pub all: Vec<&'static CommandSpec>,
    /// Commands and subcommands: full name ("config|get"), spec, statistics.
    entries: Vec<(String, &'static CommandSpec, CommandStats)>,
}

impl CommandTable {
    pub fn new(specs: &'static [CommandSpec]) -> CommandTable {
        let mut by_name = HashMap::with_capacity_and_hasher(specs.len(), Default::default());
        let mut all = Vec::with_capacity(specs.len());
        let mut entries = Vec::new();
        for s in specs {
            by_name.insert(s.name, (s, entries.len()));
            all.push(s);
            entries.push((s.name.to_string(), s, CommandStats::default()));
            for sub in s.subcommands {
                entries.push((
                    format!("{}|{}", s.name, sub.name),
                    sub,
                    CommandStats::default(),
                ));
            }
        }
        CommandTable {
            by_name,
            all,
            entries,
        }
    }

    /// The command or subcommand at `index` (see `lookup`).
    pub fn spec_at(&self, index: usize) -> &'static CommandSpec {
        self.entries[index].1
    }

    /// Number of commands and subcommands (the size of ACL command bitmaps).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries of a container command's subcommands (empty for other entries).
    pub fn subcommand_indexes(&self, index: usize) -> std::ops::Range<usize> {
        let n = if self.is_subcommand(index) {
            0
        } else {
            self.entries[index].1.subcommands.len()
        };
        index + 1..index + 1 + n
    }

    pub fn is_subcommand(&self, index: usize) -> bool {
        self.entries[index].0.contains('|')
    }

    /// A command ("get") or subcommand ("config|get") by its original name, case-insensitively:
    /// ACL rules ignore rename-command, as in Redis.
    pub fn acl_lookup(&self, name: &[u8]) -> Option<usize> {
        if name.iter().filter(|&&c| c == b'|').count() > 1 {
            return None;
        }
        self.entries
            .iter()
            .position(|(full, _, _)| full.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Statistics of the command or subcommand at `index` (see `lookup`).
    pub fn stats(&self, index: usize) -> &CommandStats {
        &self.entries[index].2
    }

    /// Commands executed since start or CONFIG RESETSTAT (total_commands_processed).
    pub fn total_calls(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| e.2.calls.load(Ordering::Relaxed))
            .sum()
    }

    /// "get", "config|get"; empty for an index that names nothing (no command run yet).
    pub fn full_name(&self, index: usize) -> &str {
        self.entries.get(index).map_or("NULL", |e| e.0.as_str())
    }

    pub fn all_stats(&self) -> impl Iterator<Item = (&str, &CommandStats)> {
        self.entries.iter().map(|(n, _, st)| (n.as_str(), st))
    }

    pub fn reset_stats(&self) {
        for (_, _, st) in &self.entries {
            st.calls.store(0, Ordering::Relaxed);
            st.usec.store(0, Ordering::Relaxed);
            st.rejected.store(0, Ordering::Relaxed);
            st.failed.store(0, Ordering::Relaxed);
        }
    }

    /// Case-insensitive lookup without allocating for names of ordinary length.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.lookup(name).map(|(s, _)| s)
    }

    /// The command and its index in the statistics table.
    pub fn lookup(&self, name: &[u8]) -> Option<(&'static CommandSpec, usize)> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.by_name.get(lower).copied()
    }

    /// A subcommand of the command at `parent_index`, case-insensitively, with its index.
    pub fn lookup_sub(
        &self,
        parent_index: usize,
        name: &[u8],
    ) -> Option<(&'static CommandSpec, usize)> {
        let parent = self.entries[parent_index].1;
        parent
            .subcommands
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|i| (&parent.subcommands[i], parent_index + 1 + i))
    }

    /// Renames (rename-command): `to` empty disables the command.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        let Some(spec) = self.by_name.remove(from.to_ascii_lowercase().as_str()) else {
            return false;
        };
        if !to.is_empty() {
            let leaked: &'static str = Box::leak(to.to_ascii_lowercase().into_boxed_str());
            self.by_name.insert(leaked, spec);
        }
        true
    }

    /// The name a command is reachable under now (after renames), if any.
    pub fn is_reachable(&self, spec: &CommandSpec) -> bool {
        self.by_name.values().any(|(s, _)| std::ptr::eq(*s, spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nop(_: &mut crate::commands::Ctx, _: Args) {}

    #[test]
    fn key_positions() {
        let mset = CommandSpec::new("mset", -3, WRITE, 0, nop).keys(1, -1, 2);
        let none = |_| &b""[..];
        assert_eq!(mset.key_indexes(5, none).collect::<Vec<_>>(), vec![1, 3]);
        let get = CommandSpec::new("get", 2, READONLY, 0, nop).keys(1, 1, 1);
        assert_eq!(get.key_indexes(2, none).collect::<Vec<_>>(), vec![1]);
        let bitop = CommandSpec::new("bitop", -4, WRITE, 0, nop).keys(2, -1, 1);
        assert_eq!(
            bitop.key_indexes(5, none).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        let ping = CommandSpec::new("ping", -1, 0, 0, nop);
        assert_eq!(ping.key_indexes(2, none).count(), 0);
        // GEORADIUS src lon lat r unit COUNT 3 STORE dst: the destination follows STORE.
        let georadius = CommandSpec::new("georadius", -6, WRITE, 0, nop)
            .keys(1, 1, 1)
            .store_key(5);
        let args: [&[u8]; 10] = [
            b"georadius",
            b"src",
            b"1",
            b"2",
            b"3",
            b"km",
            b"COUNT",
            b"3",
            b"store",
            b"dst",
        ];
        let found: Vec<usize> = georadius.key_indexes(10, |i| args[i]).collect();
        assert_eq!(found, vec![1, 9]);
        assert_eq!(georadius.key_indexes(9, |i| args[i]).count(), 1);
        assert!(georadius.flag_names().any(|f| f == "movablekeys"));
    }

    #[test]
    fn derived_categories() {
        let get = CommandSpec::new("get", 2, READONLY | FAST, CAT_STRING, nop);
        let c = get.acl_categories();
        assert!(c & CAT_READ != 0 && c & CAT_FAST != 0 && c & CAT_SLOW == 0);
        let flushall = CommandSpec::new("flushall", -1, WRITE, CAT_KEYSPACE | CAT_DANGEROUS, nop);
        assert!(flushall.acl_categories() & CAT_SLOW != 0);
    }
}
