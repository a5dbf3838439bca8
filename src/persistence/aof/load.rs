//! Loading the AOF at start-up (aof.c's loadAppendOnlyFiles): a legacy single file is moved
//! into the AOF directory first; then the manifest's base and incremental files are replayed
//! in order through the command handlers. A last file cut in the middle of a command is
//! truncated and loaded when aof-load-truncated is yes; anything else malformed is refused
//! with the file and offset.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::manifest::{self, FileEntry, Kind, Manifest};
use super::rewrite;
use crate::protocol::{OwnedArgs, Reply};
use crate::server::Server;
use crate::server::client::{Client, ClientInfo};

/// How a file failed to load.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file ends inside a command (or an unfinished MULTI); the commands before
    /// `valid_up_to` are complete.
    Truncated {
        valid_up_to: u64,
    },
    /// Not the AOF format at `offset`.
    Format {
        offset: u64,
        what: String,
    },
    /// A command the server refuses to replay.
    Command {
        offset: u64,
        what: String,
    },
    Io(String),
}

impl LoadError {
    /// The same error with its offset counted from the start of the file, when the commands
    /// begin `start` bytes in (after an RDB preamble).
    fn after(self, start: u64) -> LoadError {
        match self {
            LoadError::Truncated { valid_up_to } => LoadError::Truncated {
                valid_up_to: valid_up_to + start,
            },
            LoadError::Format { offset, what } => LoadError::Format {
                offset: offset + start,
                what,
            },
            LoadError::Command { offset, what } => LoadError::Command {
                offset: offset + start,
                what,
            },
            LoadError::Io(e) => LoadError::Io(e),
        }
    }
}

/// What reading a file gives: one command, the end of the file, or an error.
enum Next {
    Command(OwnedArgs),
    /// A `#...` annotation line (aof-timestamp-enabled's `#TS:`): skipped.
    Annotation,
    End,
}

/// Reads commands out of an AOF file, keeping the offset of the last complete one.
struct CommandReader<R> {
    input: R,
    offset: u64,
    line: Vec<u8>,
}

impl<R: BufRead> CommandReader<R> {
    /// One `\r\n`-terminated line (without it); Truncated at end of file.
    fn read_line(&mut self, start: u64) -> Result<&[u8], LoadError> {
        self.line.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.line)
            .map_err(|e| LoadError::Io(e.to_string()))?;
        self.offset += n as u64;
        if !self.line.ends_with(b"\n") {
            return Err(LoadError::Truncated { valid_up_to: start });
        }
        if !self.line.ends_with(b"\r\n") {
            return Err(LoadError::Format {
                offset: self.offset - n as u64,
                what: "line not terminated by CRLF".into(),
            });
        }
        Ok(&self.line[..self.line.len() - 2])
    }

    fn number(&mut self, start: u64, marker: u8) -> Result<usize, LoadError> {
        let at = self.offset;
        let line = self.read_line(start)?;
        let bad = |what: &str| LoadError::Format {
            offset: at,
            what: what.into(),
        };
        if line.first() != Some(&marker) {
            return Err(bad(if marker == b'*' {
                "expected '*'"
            } else {
                "expected '$'"
            }));
        }
        std::str::from_utf8(&line[1..])
            .ok()
            .and_then(|t| t.parse::<usize>().ok())
            .ok_or_else(|| bad("invalid length"))
    }

    fn next(&mut self) -> Result<Next, LoadError> {
        let start = self.offset;
        let first = match self.input.fill_buf() {
            Ok([]) => return Ok(Next::End),
            Ok(b) => b[0],
            Err(e) => return Err(LoadError::Io(e.to_string())),
        };
        if first == b'#' {
            self.read_line(start)?;
            return Ok(Next::Annotation);
        }
        let argc = self.number(start, b'*')?;
        if argc < 1 {
            return Err(LoadError::Format {
                offset: start,
                what: "command without arguments".into(),
            });
        }
        let mut args = OwnedArgs::default();
        let mut bulk = Vec::new();
        for _ in 0..argc {
            let len = self.number(start, b'$')?;
            bulk.resize(len + 2, 0);
            let mut got = 0;
            while got < bulk.len() {
                match self.input.read(&mut bulk[got..]) {
                    Ok(0) => {
                        self.offset += got as u64;
                        return Err(LoadError::Truncated { valid_up_to: start });
                    }
                    Ok(n) => got += n,
                    Err(e) => return Err(LoadError::Io(e.to_string())),
                }
            }
            self.offset += bulk.len() as u64;
            if &bulk[len..] != b"\r\n" {
                return Err(LoadError::Format {
                    offset: self.offset - 2,
                    what: "bulk string not terminated by CRLF".into(),
                });
            }
            args.push(&bulk[..len]);
        }
        Ok(Next::Command(args))
    }
}

/// Replays one AOF file (no RDB preamble) through the command handlers.
pub fn replay(server: &Arc<Server>, input: impl BufRead) -> Result<u64, LoadError> {
    let mut reader = CommandReader {
        input,
        offset: 0,
        line: Vec::new(),
    };
    let info = Arc::new(ClientInfo::new(0, "aof".into(), String::new(), -1, 0));
    // Replayed commands skip the permission checks (as Redis's AOF client): the user is moot.
    let mut client = Client::new(info, server.acl.default.clone(), true);
    let mut reply = Reply::new();
    // Commands of a MULTI are applied at its EXEC: an unfinished one at the end is dropped.
    let mut multi: Option<(u64, Vec<OwnedArgs>)> = None;
    let mut commands = 0u64;
    let mut reported = 0u64;
    loop {
        let start = reader.offset;
        let args = match reader.next()? {
            Next::End => break,
            Next::Annotation => continue,
            Next::Command(args) => args,
        };
        let name = args.args().get(0);
        if name.eq_ignore_ascii_case(b"multi") {
            multi = Some((start, Vec::new()));
            continue;
        }
        if name.eq_ignore_ascii_case(b"exec")
            && let Some((_, queued)) = multi.take()
        {
            for q in &queued {
                execute(server, &mut client, &mut reply, q, start)?;
            }
            commands += queued.len() as u64;
            continue;
        }
        if let Some((_, queued)) = &mut multi {
            queued.push(args);
            continue;
        }
        execute(server, &mut client, &mut reply, &args, start)?;
        commands += 1;
        if commands.is_multiple_of(1024) {
            server
                .aof
                .stats
                .loading_loaded_bytes
                .fetch_add(reader.offset - reported, Ordering::Relaxed);
            reported = reader.offset;
        }
    }
    if let Some((begin, _)) = multi {
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file");
        return Err(LoadError::Truncated { valid_up_to: begin });
    }
    Ok(commands)
}

fn execute(
    server: &Arc<Server>,
    client: &mut Client,
    reply: &mut Reply,
    args: &OwnedArgs,
    offset: u64,
) -> Result<(), LoadError> {
    reply.out.clear();
    crate::commands::execute_loaded(server, client, reply, args.args())
        .map_err(|what| LoadError::Command { offset, what })
}

/// Loads one file of the manifest; `last` files may be truncated.
fn load_file(
    server: &Arc<Server>,
    dir: &Path,
    entry: &FileEntry,
    last: bool,
    load_truncated: bool,
) -> Result<(), String> {
    let path = dir.join(&entry.name);
    let started = Instant::now();
    let file = File::open(&path)
        .map_err(|e| format!("Fatal error: can't open the AOF file {}: {e}", entry.name))?;
    let len = file.metadata().map_or(0, |m| m.len());
    let mut input = BufReader::with_capacity(1 << 16, file);
    let head = input.fill_buf().map_err(|e| e.to_string())?;
    // A base written with aof-use-rdb-preamble: an RDB file, then AOF commands.
    let mut preamble = 0;
    if head.starts_with(b"REDIS") {
        let stats = crate::persistence::load_rdb(server, &mut input, len, false).map_err(|e| {
            format!(
                "Bad file format reading the RDB preamble of the append only file {}: {e}",
                entry.name
            )
        })?;
        preamble = stats.end_offset;
        // The RDB reader reads ahead: go back to where its data ended.
        input
            .seek(SeekFrom::Start(preamble))
            .map_err(|e| e.to_string())?;
        tracing::info!(
            "Reading RDB base file on AOF loading... ({} keys)",
            stats.keys_loaded
        );
    }
    let outcome = replay(server, input).map_err(|e| e.after(preamble));
    let what = match entry.kind {
        Kind::Base => "base",
        _ => "incr",
    };
    match outcome {
        Ok(_) => {}
        Err(LoadError::Truncated { valid_up_to }) if last && load_truncated => {
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!!",
                entry.name
            );
            tracing::warn!(
                "!!! Truncating the AOF {} at offset {valid_up_to} !!!",
                entry.name
            );
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(valid_up_to).and_then(|()| f.sync_all()))
                .map_err(|e| format!("Error truncating the AOF file {}: {e}", entry.name))?;
            tracing::warn!(
                "AOF {} loaded anyway because aof-load-truncated is enabled",
                entry.name
            );
        }
        Err(LoadError::Truncated { valid_up_to }) if !last => {
            return Err(format!(
                "Fatal error: the truncated file {} is not the last file (complete commands end at offset {valid_up_to})",
                entry.name
            ));
        }
        Err(LoadError::Truncated { valid_up_to }) => {
            return Err(format!(
                "Unexpected end of file reading the append only file {} (complete commands end at offset {valid_up_to}). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                entry.name
            ));
        }
        Err(LoadError::Format { offset, what }) => {
            return Err(format!(
                "Bad file format reading the append only file {} at offset {offset} ({what}): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
                entry.name
            ));
        }
        Err(LoadError::Command { offset, what }) => {
            return Err(format!(
                "{what} reading the append only file {} at offset {offset}",
                entry.name
            ));
        }
        Err(LoadError::Io(e)) => {
            return Err(format!(
                "Unrecoverable error reading the append only file {}: {e}",
                entry.name
            ));
        }
    }
    tracing::info!(
        "DB loaded from {what} file {}: {:.3} seconds",
        entry.name,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Redis 6's single appendonly.aof in `dir` becomes the base of a new AOF directory.
fn upgrade_legacy(dir: &Path, filename: &str) -> Result<Option<Manifest>, String> {
    let legacy = Path::new(filename);
    if !legacy.is_file() || dir.join(manifest::manifest_name(filename)).exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    std::fs::rename(legacy, dir.join(filename))
        .map_err(|e| format!("Error moving {filename} into {}: {e}", dir.display()))?;
    let m = Manifest {
        base: Some(FileEntry {
            name: filename.to_string(),
            seq: 1,
            kind: Kind::Base,
        }),
        incrs: Vec::new(),
        history: Vec::new(),
    };
    m.persist(dir, filename)
        .map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
    tracing::info!(
        "Successfully migrated an old-style AOF file ({filename}) into the AOF directory ({}).",
        dir.display()
    );
    Ok(Some(m))
}

/// Start-up with appendonly yes: loads the AOF (or creates it), then starts recording.
/// Clients get -LOADING meanwhile.
pub fn boot(server: &Arc<Server>) -> Result<(), String> {
    let aof = &server.aof;
    let started = Instant::now();
    let load_truncated = server.config.read().aof.load_truncated;
    let mut files = aof.files.lock();
    let dir = files.dir.clone();
    let name = files.filename.clone();
    let manifest = match upgrade_legacy(&dir, &name)? {
        Some(m) => Some(m),
        None => Manifest::read(&dir, &name)?,
    };
    let manifest = match manifest {
        Some(m) if m.base.is_some() || !m.incrs.is_empty() => m,
        _ => {
            // Nothing to load: the first base is the (empty) dataset, as Redis creates one,
            // complete before clients may write.
            drop(files);
            let created = rewrite::create_at_start(server);
            aof.stats.loading.store(false, Ordering::Release);
            return created;
        }
    };
    let entries: Vec<&FileEntry> = manifest.load_order().collect();
    let size = |e: &FileEntry| std::fs::metadata(dir.join(&e.name)).map_or(0, |m| m.len());
    aof.stats
        .loading_total_bytes
        .store(entries.iter().map(|e| size(e)).sum(), Ordering::Relaxed);
    for (i, e) in entries.iter().enumerate() {
        if !dir.join(&e.name).exists() {
            return Err(format!("The AOF file {} doesn't exist", e.name));
        }
        load_file(server, &dir, e, i + 1 == entries.len(), load_truncated)?;
    }
    server.keyspace.reset_dirty();
    tracing::info!(
        "DB loaded from append only file: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    let mut manifest = manifest;
    // Appends continue in the last incremental file, or a first one.
    let incr = match manifest.incrs.last() {
        Some(i) => i.clone(),
        None => {
            let seq = manifest.next_incr_seq();
            let entry = FileEntry {
                name: manifest::incr_name(&name, seq),
                seq,
                kind: Kind::Incr,
            };
            tracing::info!("Creating AOF incr file {} on server start", entry.name);
            File::create(dir.join(&entry.name))
                .map_err(|e| format!("Can't create the AOF file {}: {e}", entry.name))?;
            manifest.incrs.push(entry.clone());
            manifest
                .persist(&dir, &name)
                .map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
            entry
        }
    };
    let file = OpenOptions::new()
        .append(true)
        .open(dir.join(&incr.name))
        .map_err(|e| format!("Can't open the AOF file {}: {e}", incr.name))?;
    aof.stats
        .base_size
        .store(manifest.base.as_ref().map_or(0, size), Ordering::Relaxed);
    aof.stats
        .current_size
        .store(manifest.load_order().map(size).sum(), Ordering::Relaxed);
    files.manifest = manifest;
    drop(files);
    aof.begin(server, file);
    aof.stats.loading.store(false, Ordering::Release);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, LoadError> {
        let mut r = CommandReader {
            input: bytes,
            offset: 0,
            line: Vec::new(),
        };
        let mut out = Vec::new();
        loop {
            match r.next()? {
                Next::End => return Ok(out),
                Next::Annotation => {}
                Next::Command(a) => out.push(a.args().to_owned_vec()),
            }
        }
    }

    #[test]
    fn reads_commands_and_annotations() {
        let cmds =
            read_all(b"#TS:1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0], vec![b"SELECT".to_vec(), b"0".to_vec()]);
    }

    #[test]
    fn a_cut_command_is_truncation_at_its_start() {
        let full = b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
        for cut in 15..full.len() {
            assert_eq!(
                read_all(&full[..cut]).unwrap_err(),
                LoadError::Truncated { valid_up_to: 14 },
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn garbage_is_a_format_error_with_its_offset() {
        match read_all(b"*1\r\n$4\r\nPING\r\nhello\r\n").unwrap_err() {
            LoadError::Format { offset, .. } => assert_eq!(offset, 14),
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            read_all(b"*1\r\n$4\r\nPINGxx\r\n").unwrap_err(),
            LoadError::Format { .. }
        ));
    }
}
