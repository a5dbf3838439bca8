//! The ACL file (aclfile) and `user` lines of the config file: one user per line,
//! `user <name> <rule> ...`, as ACL LIST prints them.

use std::collections::BTreeMap;

use super::{Env, Rules, has_spaces, merge_selector_args};

/// Parses an ACL file (ACLLoadFromFile). Nothing is applied unless the whole file is valid;
/// the error lists every problem, worded as Redis words them.
pub fn parse(text: &[u8], filename: &str, env: Env) -> Result<BTreeMap<Vec<u8>, Rules>, String> {
    let mut users = BTreeMap::new();
    let mut errors = String::new();
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{filename}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = argv[1];
        if has_spaces(name) {
            errors.push_str(&format!(
                "'{filename}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut rules = Rules::new(env);
        let ops = merge_selector_args(&argv[2..]).unwrap_or_else(|_| {
            errors.push_str(&format!(
                "{filename}:{linenum}: Unmatched parenthesis in selector definition."
            ));
            Vec::new()
        });
        // Unknown commands are reported with the rule (it holds nothing secret); of other
        // errors only the first of the line, since it may explain the ones after it.
        let mut syntax_error = false;
        for op in ops {
            let op = trim(&op, b"\t\r\n");
            match rules.apply(op, env) {
                Ok(()) => {}
                Err(e @ super::RuleError::UnknownCommand) => errors.push_str(&format!(
                    "{filename}:{linenum}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(op),
                    e.message()
                )),
                Err(e) if !syntax_error => {
                    errors.push_str(&format!("{filename}:{linenum}: {}. ", e.message()));
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.insert(name.to_vec(), rules);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

/// Reads and parses the ACL file; a file that cannot be opened is an error too.
pub fn load(filename: &str, env: Env) -> Result<BTreeMap<Vec<u8>, Rules>, String> {
    let text = std::fs::read(filename).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{filename}': {}",
            crate::util::strerror(&e)
        )
    })?;
    parse(&text, filename, env)
}

/// The users from the config file's `user` lines (ACLLoadConfiguredUsers): a later line for
/// the same user is refused, as in Redis.
pub fn from_config(lines: &[Vec<String>], env: Env) -> Result<BTreeMap<Vec<u8>, Rules>, String> {
    let mut users = BTreeMap::new();
    for args in lines {
        let name = args[0].as_bytes();
        if has_spaces(name) {
            return Err("Spaces not allowed in ACL usernames".into());
        }
        if users.contains_key(name) {
            return Err(format!(
                "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                args[0]
            ));
        }
        let raw: Vec<&[u8]> = args[1..].iter().map(|a| a.as_bytes()).collect();
        let ops = merge_selector_args(&raw).map_err(|j| {
            format!(
                "Error in user declaration '{}': Unmatched parenthesis in selector definition",
                args[1 + j]
            )
        })?;
        let mut rules = Rules::new(env);
        if name == b"default" {
            // Redis resets the existing default user before applying its line.
            let _ = rules.apply(b"reset", env);
        }
        for op in ops {
            rules.apply(&op, env).map_err(|e| match e {
                super::RuleError::UnknownCommand => format!(
                    "Error loading ACL rule '{}' for the user named '{}': {}",
                    String::from_utf8_lossy(&op),
                    args[0],
                    e.message()
                ),
                _ => format!(
                    "Error in user declaration '{}': {}",
                    String::from_utf8_lossy(&op),
                    e.message()
                ),
            })?;
        }
        users.insert(name.to_vec(), rules);
    }
    Ok(users)
}

/// ACL SAVE: every user as a `user` line, written to a temporary file renamed over the old
/// one so a crash never leaves half a file.
pub fn save(filename: &str, lines: &[String]) -> std::io::Result<()> {
    let mut text = String::new();
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    let tmp = format!(
        "{filename}.tmp-{}-{}",
        std::process::id(),
        crate::server::unix_ms()
    );
    let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, filename));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |e| e + 1);
    &s[start..end]
}
