//! Redis 7's multi-part AOF layout: `appenddirname/` holds a base file, incremental files and a
//! manifest listing them, one `file <name> seq <n> type b|h|i` line each (aof.c's syntax).

use std::fs::File;
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Base,
    History,
    Incr,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Base => 'b',
            Kind::History => 'h',
            Kind::Incr => 'i',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub seq: u64,
    pub kind: Kind,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileEntry>,
    /// Incremental files in the order they are replayed.
    pub incrs: Vec<FileEntry>,
    /// Files a finished rewrite made obsolete and that are not deleted yet.
    pub history: Vec<FileEntry>,
}

/// The format of a base file: Redis names RDB-preamble bases `.base.rdb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseFormat {
    Aof,
    Rdb,
}

pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}

pub fn base_name(appendfilename: &str, seq: u64, format: BaseFormat) -> String {
    let ext = match format {
        BaseFormat::Aof => "aof",
        BaseFormat::Rdb => "rdb",
    };
    format!("{appendfilename}.{seq}.base.{ext}")
}

pub fn incr_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

/// Splits a manifest line into its words, honouring the double quotes Redis puts around names
/// with spaces or special characters (sdssplitargs).
fn split_words(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut bytes = line.bytes();
    buf.clear();
    while let Some(c) = bytes.next() {
        if c == b' ' || c == b'\t' {
            continue;
        }
        if c == b'"' {
            loop {
                match bytes.next()? {
                    b'"' => break,
                    b'\\' => match bytes.next()? {
                        b'n' => buf.push(b'\n'),
                        b'r' => buf.push(b'\r'),
                        b't' => buf.push(b'\t'),
                        other => buf.push(other),
                    },
                    other => buf.push(other),
                }
            }
        } else {
            buf.push(c);
            for c in bytes.by_ref() {
                if c == b' ' || c == b'\t' {
                    break;
                }
                buf.push(c);
            }
        }
        out.push(String::from_utf8(std::mem::take(&mut buf)).ok()?);
    }
    Some(out)
}

impl Manifest {
    /// Parses a manifest; the error says what is wrong, as Redis refuses such a manifest.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_words(line)
                .ok_or_else(|| format!("Invalid AOF manifest file format (line {})", n + 1))?;
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                let [k, v] = pair else {
                    return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
                };
                match k.as_str() {
                    "file" => name = Some(v.clone()),
                    "seq" => seq = v.parse::<u64>().ok(),
                    "type" => {
                        kind = match v.as_str() {
                            "b" => Some(Kind::Base),
                            "h" => Some(Kind::History),
                            "i" => Some(Kind::Incr),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
            };
            let entry = FileEntry { name, seq, kind };
            match kind {
                Kind::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(entry);
                }
                Kind::History => m.history.push(entry),
                Kind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(entry);
                }
            }
        }
        Ok(m)
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for e in self.base.iter().chain(&self.history).chain(&self.incrs) {
            let name = if e.name.bytes().all(|c| c.is_ascii_graphic() && c != b'"') {
                e.name.clone()
            } else {
                format!("{:?}", e.name)
            };
            s.push_str(&format!(
                "file {name} seq {} type {}\n",
                e.seq,
                e.kind.letter()
            ));
        }
        s
    }

    /// Files replayed at load: the base, then the incremental files in order.
    pub fn load_order(&self) -> impl Iterator<Item = &FileEntry> {
        self.base.iter().chain(&self.incrs)
    }

    pub fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |b| b.seq + 1)
    }

    pub fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(1, |i| i.seq + 1)
    }

    /// Reads `dir/<appendfilename>.manifest`; Ok(None) when there is none.
    pub fn read(dir: &Path, appendfilename: &str) -> Result<Option<Manifest>, String> {
        let path = dir.join(manifest_name(appendfilename));
        match std::fs::read_to_string(&path) {
            Ok(text) => Manifest::parse(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "Can't open the AOF manifest {}: {e}",
                path.display()
            )),
        }
    }

    /// Replaces the manifest atomically: a temporary file, fsynced, renamed over the old one,
    /// then the directory fsynced so the rename itself survives a power loss.
    pub fn persist(&self, dir: &Path, appendfilename: &str) -> std::io::Result<()> {
        let tmp = dir.join(format!("temp-{}", manifest_name(appendfilename)));
        let mut f = File::create(&tmp)?;
        f.write_all(self.render().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(manifest_name(appendfilename)))?;
        sync_dir(dir)
    }
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_redis_syntax() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().seq, 2);
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.render(), text);
        assert_eq!(m.next_base_seq(), 3);
        assert_eq!(m.next_incr_seq(), 4);
    }

    #[test]
    fn quoted_names_and_bad_lines() {
        let m = Manifest::parse("file \"a b.aof\" seq 1 type b\n").unwrap();
        assert_eq!(m.base.unwrap().name, "a b.aof");
        assert!(Manifest::parse("file x seq 1\n").is_err());
        assert!(Manifest::parse("file x seq 2 type i\nfile y seq 1 type i\n").is_err());
    }
}
