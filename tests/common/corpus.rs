//! Corpus format and differential runner.
//!
//! A corpus file (`tests/corpus/*.redis`) holds one command per line, quoted
//! like redis-cli does (sdssplitargs: `"..."` with `\n \r \t \b \a \\ \" \xHH`
//! escapes, `'...'` with `\'` only). Blank lines and lines starting with `#`
//! are ignored. Directives:
//!
//! * `@resp3` / `@resp2` — send `HELLO 3` / `HELLO 2` on both servers; only
//!   the keys of HELLO's map are compared (server/version fields differ).
//! * `@flush` — `FLUSHALL` on both.
//! * `@skip-reply <why>` — the next command is sent to both, its reply is not
//!   compared (TIME, RANDOMKEY, ...). The reason is printed.
//! * `@sorted` — the next command's reply is compared order-insensitively
//!   (arrays/sets sorted recursively, maps sorted by key).
//! * `@keys-only` — for the next command only the keys of the map reply (or
//!   of a flat key/value array) are compared.
//! * `@sleep-ms N` — wait N milliseconds (expiry tests only).
//! * `@scan-all [SCAN|SSCAN key|HSCAN key|ZSCAN key] [MATCH p] [COUNT n] [TYPE t]`
//!   — iterate from cursor 0 until the cursor is 0 again on each server and
//!   compare the sorted, de-duplicated union of returned elements (cursors
//!   themselves are implementation specific). Without a command, SCAN.
//!
//! Everything after the directive name on `@resp3`/`@resp2`/`@flush`/`@sorted`/
//! `@keys-only` lines is ignored, so they may carry a comment.

use super::{Raw, Reply, Server, escape_bytes};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// When set, every command and the reference reply are printed.
pub const VERBOSE_ENV: &str = "FERRODIS_DIFF_VERBOSE";

/// Prefix of errors caused by a read timeout: the run is aborted then, as
/// every following command would wait for the timeout again.
const TIMEOUT_TAG: &str = "TIMEOUT: ";

/// After this many consecutive steps with a broken connection the run stops.
const MAX_CONSECUTIVE_BROKEN: usize = 5;

/// How the next command's replies are compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Compare {
    Exact,
    Skip(String),
    Sorted,
    KeysOnly,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Command {
        args: Vec<Vec<u8>>,
        compare: Compare,
    },
    Hello(u8),
    Flush,
    SleepMs(u64),
    /// Start of a block that needs these commands; the block runs only when the subject
    /// server has all of them (COMMAND INFO), so command families not built yet are reported
    /// as skipped rather than failing every line that depends on them.
    Requires(Vec<String>),
    EndRequires,
    /// The full SCAN-family command without the cursor, and where the cursor goes.
    ScanAll {
        args: Vec<Vec<u8>>,
        cursor_at: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based line number in the corpus file.
    pub line: usize,
    pub text: String,
    pub kind: StepKind,
}

/// Splits a line like redis-cli does (`sdssplitargs`). `None` on unbalanced
/// quotes or a closing quote not followed by a space.
pub fn split_args(line: &str) -> Option<Vec<Vec<u8>>> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false; // inside "double quotes"
        let mut insq = false; // inside 'single quotes'
        loop {
            if inq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && b[i + 2].is_ascii_hexdigit()
                    && b[i + 3].is_ascii_hexdigit()
                {
                    let h = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    cur.push(u8::from_str_radix(h, 16).unwrap());
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() {
                    break;
                }
                match b[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

/// Renders arguments back as a redis-cli style line (quoted when needed).
pub fn render_args(args: &[Vec<u8>]) -> String {
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let plain = !a.is_empty()
            && a.iter()
                .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
        if plain {
            s.push_str(&String::from_utf8_lossy(a));
        } else {
            let _ = write!(s, "\"{}\"", escape_bytes(a));
        }
    }
    s
}

/// Parses a corpus text. Errors carry `line: message`.
pub fn parse_corpus(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut pending: Option<(usize, Compare)> = None;
    for (idx, raw_line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let step = |kind| Step {
            line: line_no,
            text: line.to_string(),
            kind,
        };
        if let Some(rest) = line.strip_prefix('@') {
            let (name, arg) = match rest.split_once(char::is_whitespace) {
                Some((n, a)) => (n, a.trim()),
                None => (rest, ""),
            };
            let set_pending = |pending: &mut Option<(usize, Compare)>, c: Compare| {
                if let Some((l, _)) = pending {
                    return Err(format!(
                        "{line_no}: directive follows the directive on line {l} that expects a command"
                    ));
                }
                *pending = Some((line_no, c));
                Ok(())
            };
            match name {
                "resp3" | "resp2" | "flush" | "sleep-ms" | "scan-all" | "requires"
                | "end-requires" => {
                    if let Some((l, _)) = pending {
                        return Err(format!(
                            "{line_no}: @{name} follows the directive on line {l} that expects a command"
                        ));
                    }
                }
                _ => {}
            }
            match name {
                "requires" => {
                    if arg.is_empty() {
                        return Err(format!("{line_no}: @requires needs command names"));
                    }
                    steps.push(step(StepKind::Requires(
                        arg.split_whitespace().map(str::to_string).collect(),
                    )));
                }
                "end-requires" => steps.push(step(StepKind::EndRequires)),
                "resp3" => steps.push(step(StepKind::Hello(3))),
                "resp2" => steps.push(step(StepKind::Hello(2))),
                "flush" => steps.push(step(StepKind::Flush)),
                "sleep-ms" => {
                    let ms = arg
                        .parse()
                        .map_err(|_| format!("{line_no}: @sleep-ms needs a number"))?;
                    steps.push(step(StepKind::SleepMs(ms)));
                }
                "skip-reply" => {
                    if arg.is_empty() {
                        return Err(format!("{line_no}: @skip-reply needs a reason"));
                    }
                    set_pending(&mut pending, Compare::Skip(arg.to_string()))?;
                }
                "sorted" => set_pending(&mut pending, Compare::Sorted)?,
                "keys-only" => set_pending(&mut pending, Compare::KeysOnly)?,
                "scan-all" => {
                    let mut args =
                        split_args(arg).ok_or_else(|| format!("{line_no}: unbalanced quotes"))?;
                    let first = args
                        .first()
                        .map(|a| a.to_ascii_uppercase())
                        .unwrap_or_default();
                    let cursor_at = match first.as_slice() {
                        b"SCAN" => 1,
                        b"SSCAN" | b"HSCAN" | b"ZSCAN" => 2,
                        _ => {
                            args.insert(0, b"SCAN".to_vec());
                            1
                        }
                    };
                    if args.len() < cursor_at {
                        return Err(format!("{line_no}: @scan-all {arg}: missing key"));
                    }
                    steps.push(step(StepKind::ScanAll { args, cursor_at }));
                }
                other => return Err(format!("{line_no}: unknown directive @{other}")),
            }
            continue;
        }
        let args = split_args(line).ok_or_else(|| {
            format!(
                "{line_no}: invalid quoting (unbalanced or closing quote not followed by space)"
            )
        })?;
        let compare = pending.take().map(|(_, c)| c).unwrap_or(Compare::Exact);
        steps.push(step(StepKind::Command { args, compare }));
    }
    if let Some((l, _)) = pending {
        return Err(format!("{l}: directive at end of file without a command"));
    }
    Ok(steps)
}

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
}

/// One side of the comparison.
pub struct Side {
    pub server: Server,
    pub conn: Raw,
}

impl Side {
    pub fn new(server: Server) -> Side {
        let conn = server.raw();
        Side { server, conn }
    }
    fn reconnect(&mut self) {
        self.conn = self.server.raw();
    }
    fn exec(&mut self, args: &[Vec<u8>]) -> Result<Reply, String> {
        let a: Vec<&[u8]> = args.iter().map(|v| v.as_slice()).collect();
        self.conn
            .try_send_raw(&super::encode_command(&a))
            .map_err(|e| format!("write failed: {e}"))?;
        // RESP3 push messages may precede the reply (e.g. DEBUG PROTOCOL push):
        // fold them and the reply into one array so they are compared too.
        let mut pushes = Vec::new();
        loop {
            let r = self.conn.try_read_reply().map_err(|e| {
                let timeout = matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
                format!("{}read failed: {e}", if timeout { TIMEOUT_TAG } else { "" })
            })?;
            match r {
                Reply::Push(_) => pushes.push(r),
                r if pushes.is_empty() => return Ok(r),
                r => {
                    pushes.push(r);
                    return Ok(Reply::array(pushes));
                }
            }
        }
    }

    /// Iterates a SCAN-family command to completion; returns the sorted
    /// union of elements (pairs for HSCAN/ZSCAN), or the first non-scan reply.
    fn scan_all(&mut self, args: &[Vec<u8>], cursor_at: usize) -> Result<Reply, String> {
        let pairs = matches!(args[0].to_ascii_uppercase().as_slice(), b"HSCAN" | b"ZSCAN");
        let mut cursor = b"0".to_vec();
        let mut all: Vec<Reply> = Vec::new();
        for _ in 0..100_000 {
            let mut cmd = args.to_vec();
            cmd.insert(cursor_at, cursor.clone());
            let reply = self.exec(&cmd)?;
            let (next, items) = match &reply {
                Reply::Array(Some(v)) if v.len() == 2 => match (&v[0], v[1].items()) {
                    (Reply::Bulk(Some(c)), Some(items)) => (c.clone(), items.to_vec()),
                    _ => return Ok(reply),
                },
                _ => return Ok(reply),
            };
            if pairs {
                for kv in items.chunks(2) {
                    all.push(Reply::array(kv.to_vec()));
                }
            } else {
                all.extend(items);
            }
            if next == b"0" {
                all.sort();
                all.dedup();
                return Ok(Reply::array(all));
            }
            cursor = next;
        }
        Err("SCAN did not terminate after 100000 calls".into())
    }
}

/// One divergence between the reference and the subject.
#[derive(Debug, Clone)]
pub struct Mismatch {
    pub file: String,
    pub line: usize,
    pub command: String,
    pub reference: String,
    pub subject: String,
}

/// Outcome of running one corpus against two servers.
pub struct RunReport {
    pub reference_name: String,
    pub subject_name: String,
    pub mismatches: Vec<Mismatch>,
    pub commands: usize,
    pub skipped: usize,
}

impl RunReport {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let w = self.reference_name.len().max(self.subject_name.len());
        for m in &self.mismatches {
            let _ = writeln!(s, "{}:{}: {}", m.file, m.line, m.command);
            let _ = writeln!(
                s,
                "    {:w$} (reference): {}",
                self.reference_name, m.reference
            );
            let _ = writeln!(s, "    {:w$} (subject)  : {}", self.subject_name, m.subject);
        }
        let _ = writeln!(
            s,
            "{} mismatch(es) in {} compared command(s), {} reply(ies) skipped",
            self.mismatches.len(),
            self.commands,
            self.skipped
        );
        s
    }
}

fn show(r: &Result<Reply, String>) -> String {
    match r {
        Ok(r) => r.to_string(),
        Err(e) => format!("<{e}>"),
    }
}

/// Runs `steps` on `reference` and `subject`, collecting every mismatch.
pub fn run_steps(
    file: &str,
    steps: &[Step],
    reference: &mut Side,
    subject: &mut Side,
) -> RunReport {
    let mut report = RunReport {
        reference_name: reference.server.name.to_string(),
        subject_name: subject.server.name.to_string(),
        mismatches: Vec::new(),
        commands: 0,
        skipped: 0,
    };
    let verbose = std::env::var_os(VERBOSE_ENV).is_some();
    let mut consecutive_broken = 0usize;
    let mut skipping_block = false;
    for step in steps {
        match &step.kind {
            StepKind::Requires(cmds) => {
                let missing: Vec<&String> = cmds
                    .iter()
                    .filter(|c| {
                        let args = vec![b"COMMAND".to_vec(), b"INFO".to_vec(), c.as_bytes().to_vec()];
                        !matches!(subject.exec(&args), Ok(Reply::Array(Some(v))) if v.first().is_some_and(|r| !r.is_nil()))
                    })
                    .collect();
                if !missing.is_empty() {
                    println!(
                        "{file}:{}: block skipped: {} has no {} yet",
                        step.line,
                        report.subject_name,
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    skipping_block = true;
                }
                continue;
            }
            StepKind::EndRequires => {
                skipping_block = false;
                continue;
            }
            _ if skipping_block => {
                report.skipped += 1;
                continue;
            }
            _ => {}
        }
        let mut found: Vec<Mismatch> = Vec::new();
        let mut mismatch = |step: &Step, command: String, a: String, b: String| {
            found.push(Mismatch {
                file: file.to_string(),
                line: step.line,
                command,
                reference: a,
                subject: b,
            })
        };
        let (ra, rb, compare, command) = match &step.kind {
            StepKind::SleepMs(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                continue;
            }
            StepKind::Requires(_) | StepKind::EndRequires => continue,
            StepKind::Hello(v) => {
                let args = vec![b"HELLO".to_vec(), v.to_string().into_bytes()];
                let command = render_args(&args);
                (
                    reference.exec(&args),
                    subject.exec(&args),
                    Compare::KeysOnly,
                    command,
                )
            }
            StepKind::Flush => {
                let args = vec![b"FLUSHALL".to_vec()];
                (
                    reference.exec(&args),
                    subject.exec(&args),
                    Compare::Exact,
                    "FLUSHALL".to_string(),
                )
            }
            StepKind::ScanAll { args, cursor_at } => (
                reference.scan_all(args, *cursor_at),
                subject.scan_all(args, *cursor_at),
                Compare::Exact,
                format!("@scan-all {}", render_args(args)),
            ),
            StepKind::Command { args, compare } => (
                reference.exec(args),
                subject.exec(args),
                compare.clone(),
                render_args(args),
            ),
        };
        if verbose {
            println!("{file}:{}: {command}\n    -> {}", step.line, show(&ra));
        }
        let broken = ra.is_err() || rb.is_err();
        match (&compare, &ra, &rb) {
            (_, Err(_), _) | (_, _, Err(_)) => {
                // Keep the error visible even for skipped replies.
                if ra.is_err() != rb.is_err() || ra.is_err() {
                    mismatch(step, command, show(&ra), show(&rb));
                }
            }
            (Compare::Skip(why), Ok(_), Ok(_)) => {
                report.skipped += 1;
                println!(
                    "{file}:{}: reply not compared ({why}): {command}",
                    step.line
                );
            }
            (Compare::Exact, Ok(a), Ok(b)) => {
                report.commands += 1;
                if a != b {
                    mismatch(step, command, a.to_string(), b.to_string());
                }
            }
            (Compare::Sorted, Ok(a), Ok(b)) => {
                report.commands += 1;
                if a.sorted() != b.sorted() {
                    mismatch(
                        step,
                        format!("(sorted) {command}"),
                        a.sorted().to_string(),
                        b.sorted().to_string(),
                    );
                }
            }
            (Compare::KeysOnly, Ok(a), Ok(b)) => {
                report.commands += 1;
                let (ka, kb) = (a.map_keys(), b.map_keys());
                let same_shape = std::mem::discriminant(a) == std::mem::discriminant(b);
                if ka.is_none() || ka != kb || !same_shape {
                    // Not a map on both sides (e.g. an error): compare in full.
                    if a != b {
                        mismatch(
                            step,
                            format!("(keys-only) {command}"),
                            a.to_string(),
                            b.to_string(),
                        );
                    }
                }
            }
        }
        report.mismatches.append(&mut found);
        let timed_out = [&ra, &rb]
            .iter()
            .any(|r| matches!(r, Err(e) if e.starts_with(TIMEOUT_TAG)));
        consecutive_broken = if broken { consecutive_broken + 1 } else { 0 };
        if timed_out || consecutive_broken >= MAX_CONSECUTIVE_BROKEN {
            report.mismatches.push(Mismatch {
                file: file.to_string(),
                line: step.line,
                command: "(run aborted)".to_string(),
                reference: String::new(),
                subject: if timed_out {
                    "a server stopped answering (read timeout); remaining steps skipped".into()
                } else {
                    format!("{consecutive_broken} consecutive connection failures; remaining steps skipped")
                },
            });
            break;
        }
        if broken {
            // A side closed the connection or timed out: start from a new
            // connection (RESP2, DB 0) on both so the rest stays comparable.
            reference.reconnect();
            subject.reconnect();
        }
    }
    report
}

/// Runs one corpus file (name relative to `tests/corpus`) against a fresh
/// redis-server (reference) and a fresh subject server; panics with every
/// mismatch (file:line, command, both replies).
pub fn run_corpus_file(name: &str) {
    let path = corpus_dir().join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let steps = parse_corpus(&text).unwrap_or_else(|e| panic!("{name}:{e}"));
    let mut reference = Side::new(Server::redis(&[]));
    let mut subject = Side::new(Server::subject(&[]));
    let report = run_steps(name, &steps, &mut reference, &mut subject);
    println!(
        "{name}: {} commands compared, {} skipped, {} mismatches",
        report.commands,
        report.skipped,
        report.mismatches.len()
    );
    if !report.mismatches.is_empty() {
        panic!("differential test {name} failed:\n{}", report.render());
    }
}
