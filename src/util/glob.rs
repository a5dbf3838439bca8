//! Glob-style pattern matching with the exact semantics of Redis 7.0's
//! `stringmatchlen` (used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ...).
//!
//! Supported syntax:
//! * `*` any run of characters, `?` exactly one character;
//! * `[abc]`, `[^abc]` (negated), `[a-z]` ranges (reversed ranges such as
//!   `[z-a]` are accepted), `\x` inside a class escapes `x`;
//! * `\x` outside a class matches `x` literally (a trailing lone `\`
//!   matches a backslash);
//! * an unterminated `[` class ends at the end of the pattern.
//!
//! Quirks reproduced on purpose:
//! * a pattern consisting only of `*` does not match the empty string
//!   (Redis's KEYS/SCAN short-cut the single `*` pattern before calling
//!   the matcher; callers must do the same if they want that behaviour);
//! * range bounds and the tested character are compared as C `char`
//!   (signed on x86_64), so bytes >= 0x80 sort below ASCII in ranges;
//! * case folding (`nocase`) only folds ASCII `A-Z` (C locale `tolower`);
//! * Redis 7.0.9+ gives up (no match) once the matcher would recurse past
//!   1000 nested `*` groups; the same limit is applied here.
//!
//! Unlike the recursive C version this implementation is iterative and
//! runs in O(pattern * string) time in the worst case: Redis's
//! "skip longer matches" guard means only the most recent `*` ever needs
//! to be retried, which is exactly the classic single-star-restart
//! backtracking used here.

/// Maximum `*` nesting level Redis tolerates before failing the match.
const MAX_NESTING: usize = 1000;

#[inline]
fn lower(c: u8) -> u8 {
    c.to_ascii_lowercase()
}

/// Byte as the signed C `char` it is compared as in Redis.
#[inline]
fn schar(c: u8) -> i32 {
    c as i8 as i32
}

/// C-locale `tolower` applied to a (possibly negative) `char` value.
#[inline]
fn lower_i(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// Returns true if `string` matches the glob `pattern` (Redis
/// `stringmatchlen` semantics). With `nocase` ASCII letters are compared
/// case-insensitively.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // Bytes past the end of the pattern read as NUL, like the C code
    // reading the terminator of the sds string.
    let pat = |i: usize| -> u8 { pattern.get(i).copied().unwrap_or(0) };
    let plen = pattern.len();
    let slen = string.len();

    let mut p = 0usize; // pattern cursor
    let mut s = 0usize; // string cursor
    // Backtrack point: pattern index just after the last `*` and the
    // string index where the rest of the pattern is currently anchored.
    // The third field is the number of `*` groups walked so far (the C
    // recursion depth), which does not grow on retries.
    let mut star: Option<(usize, usize, usize)> = None;
    let mut stars_seen = 0usize;

    loop {
        // One attempt of the C loop body: returns false on "no match
        // without skip" (which backtracks to the last star).
        let mut failed = false;
        while p < plen && s < slen {
            match pattern[p] {
                b'*' => {
                    while p + 1 < plen && pattern[p + 1] == b'*' {
                        p += 1;
                    }
                    if p + 1 == plen {
                        return true;
                    }
                    stars_seen += 1;
                    if stars_seen > MAX_NESTING {
                        // Every deeper attempt fails, then the skip flag
                        // makes the whole match fail.
                        return false;
                    }
                    p += 1;
                    star = Some((p, s, stars_seen));
                    continue;
                }
                b'?' => {
                    s += 1;
                }
                b'[' => {
                    p += 1;
                    let not = pat(p) == b'^';
                    if not {
                        p += 1;
                    }
                    let c = string[s];
                    let mut matched = false;
                    loop {
                        if pat(p) == b'\\' && plen - p >= 2 {
                            p += 1;
                            if pattern[p] == c {
                                matched = true;
                            }
                        } else if pat(p) == b']' {
                            break;
                        } else if p >= plen {
                            p -= 1;
                            break;
                        } else if plen - p >= 3 && pattern[p + 1] == b'-' {
                            let mut start = schar(pattern[p]);
                            let mut end = schar(pattern[p + 2]);
                            let mut ch = schar(c);
                            if start > end {
                                std::mem::swap(&mut start, &mut end);
                            }
                            if nocase {
                                start = lower_i(start);
                                end = lower_i(end);
                                ch = lower_i(ch);
                            }
                            p += 2;
                            if ch >= start && ch <= end {
                                matched = true;
                            }
                        } else if nocase {
                            if lower(pattern[p]) == lower(c) {
                                matched = true;
                            }
                        } else if pattern[p] == c {
                            matched = true;
                        }
                        p += 1;
                    }
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        failed = true;
                        break;
                    }
                    s += 1;
                }
                b => {
                    let mut b = b;
                    if b == b'\\' && plen - p >= 2 {
                        p += 1;
                        b = pattern[p];
                    }
                    let c = string[s];
                    let eq = if nocase { lower(b) == lower(c) } else { b == c };
                    if !eq {
                        failed = true;
                        break;
                    }
                    s += 1;
                }
            }
            p += 1;
            if s == slen {
                while pat(p) == b'*' {
                    p += 1;
                }
                break;
            }
        }
        if !failed && p == plen && s == slen {
            return true;
        }
        // Backtrack: retry the rest of the pattern one byte further on.
        match star {
            Some((sp, ss, depth)) if ss + 1 < slen => {
                star = Some((sp, ss + 1, depth));
                p = sp;
                s = ss + 1;
                stars_seen = depth;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("a", "a"));
        assert!(!m("a", "b"));
        assert!(m("?", "x"));
        assert!(!m("?", ""));
        assert!(!m("?", "xy"));
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h*llo", "hllo"));
        assert!(m("*", "anything"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a", "a"));
        assert!(m("*a*", "bab"));
        assert!(!m("*a*", "bbb"));
        assert!(m("*.txt", "file.txt"));
        assert!(!m("*.txt", "file.txtx"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
    }

    #[test]
    fn star_does_not_match_empty_string() {
        // Verified against redis-server 7.0.15: SET "" 1; KEYS ** -> (empty)
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("", ""));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo")); // reversed range
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        // "a-]" is the range ']'..='a' (reversed), the class is unterminated.
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "^"));
        assert!(!m("[]", "]"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\a", "a"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"h[A-C]llo", b"hbllo", true));
        assert!(glob_match(b"h[a-c]llo", b"hBllo", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"[^A]", b"b", true));
        assert!(!glob_match(b"[^A]", b"a", true));
    }

    #[test]
    fn pathological_is_fast() {
        let pat = "a*".repeat(30) + "b";
        let s = "a".repeat(60);
        assert!(!m(&pat, &s));
        let pat = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!m(pat, &"a".repeat(10_000)));
    }

    #[test]
    fn nesting_limit() {
        let pat = "*a".repeat(1000);
        assert!(m(&pat, &"a".repeat(1000)));
        let pat = "*a".repeat(1001);
        assert!(!m(&pat, &"a".repeat(1001)));
        // trailing star after 1000 groups is still fine
        let pat = "a*".repeat(1001);
        assert!(m(&pat, &"a".repeat(1001)));
    }

    // Generated against redis-server 7.0.15: every STRING was SET as a key,
    // then `KEYS <pattern>` returned exactly the listed keys.
    const STRINGS: &[&[u8]] = &[
        b"",
        b"*",
        b"***b",
        b"*Zb",
        b"-",
        b"-*",
        b"-*-\xe9-",
        b"-b[^-",
        b"-\xe9",
        b"?",
        b"Z",
        b"Z[[Z",
        b"Z]",
        b"[",
        b"[-\xe9Z",
        b"[Z",
        b"[^",
        b"[^Z-b",
        b"[a\xe9",
        b"[\xe9z\xe9",
        b"\\",
        b"\\]Z",
        b"\\z[",
        b"]",
        b"]-Z[\xe9",
        b"][",
        b"]a",
        b"]b",
        b"]z]",
        b"]\xe9*[z",
        b"^",
        b"^*b",
        b"^]*^*",
        b"^a]-*",
        b"a",
        b"a*b",
        b"a-b",
        b"a[\\[z",
        b"a]",
        b"aa",
        b"aab",
        b"ab",
        b"abab",
        b"abc",
        b"abz",
        b"az",
        b"a\xe9",
        b"b",
        b"b**]",
        b"ba",
        b"baa]]",
        b"ba\xe9a",
        b"x",
        b"z",
        b"z[",
        b"za",
        b"z\xe9",
        b"\xe9",
        b"\xe9]\xe9^\\",
        b"\xe9zba-",
    ];
    const CASES: &[(&[u8], &[&[u8]])] = &[
        (b"[a-]", &[b"]", b"^", b"a"]),
        (b"[]", &[]),
        (b"[]]", &[]),
        (
            b"[^]",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"b", b"x", b"z", b"\xe9",
            ],
        ),
        (b"[", &[]),
        (
            b"[^",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"b", b"x", b"z", b"\xe9",
            ],
        ),
        (b"[a", &[b"a"]),
        (b"[\\", &[b"\\"]),
        (b"\\", &[b"\\"]),
        (b"a\\", &[]),
        (
            b"[a-\xff]",
            &[b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a"],
        ),
        (
            b"[\xe9-a]",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"\xe9",
            ],
        ),
        (b"[Z-a]", &[b"Z", b"[", b"\\", b"]", b"^", b"a"]),
        (b"[a-Z]", &[b"Z", b"[", b"\\", b"]", b"^", b"a"]),
        (
            b"[!-~]",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"b", b"x", b"z",
            ],
        ),
        (
            b"**",
            &[
                b"*",
                b"***b",
                b"*Zb",
                b"-",
                b"-*",
                b"-*-\xe9-",
                b"-b[^-",
                b"-\xe9",
                b"?",
                b"Z",
                b"Z[[Z",
                b"Z]",
                b"[",
                b"[-\xe9Z",
                b"[Z",
                b"[^",
                b"[^Z-b",
                b"[a\xe9",
                b"[\xe9z\xe9",
                b"\\",
                b"\\]Z",
                b"\\z[",
                b"]",
                b"]-Z[\xe9",
                b"][",
                b"]a",
                b"]b",
                b"]z]",
                b"]\xe9*[z",
                b"^",
                b"^*b",
                b"^]*^*",
                b"^a]-*",
                b"a",
                b"a*b",
                b"a-b",
                b"a[\\[z",
                b"a]",
                b"aa",
                b"aab",
                b"ab",
                b"abab",
                b"abc",
                b"abz",
                b"az",
                b"a\xe9",
                b"b",
                b"b**]",
                b"ba",
                b"baa]]",
                b"ba\xe9a",
                b"x",
                b"z",
                b"z[",
                b"za",
                b"z\xe9",
                b"\xe9",
                b"\xe9]\xe9^\\",
                b"\xe9zba-",
            ],
        ),
        (
            b"?*",
            &[
                b"*",
                b"***b",
                b"*Zb",
                b"-",
                b"-*",
                b"-*-\xe9-",
                b"-b[^-",
                b"-\xe9",
                b"?",
                b"Z",
                b"Z[[Z",
                b"Z]",
                b"[",
                b"[-\xe9Z",
                b"[Z",
                b"[^",
                b"[^Z-b",
                b"[a\xe9",
                b"[\xe9z\xe9",
                b"\\",
                b"\\]Z",
                b"\\z[",
                b"]",
                b"]-Z[\xe9",
                b"][",
                b"]a",
                b"]b",
                b"]z]",
                b"]\xe9*[z",
                b"^",
                b"^*b",
                b"^]*^*",
                b"^a]-*",
                b"a",
                b"a*b",
                b"a-b",
                b"a[\\[z",
                b"a]",
                b"aa",
                b"aab",
                b"ab",
                b"abab",
                b"abc",
                b"abz",
                b"az",
                b"a\xe9",
                b"b",
                b"b**]",
                b"ba",
                b"baa]]",
                b"ba\xe9a",
                b"x",
                b"z",
                b"z[",
                b"za",
                b"z\xe9",
                b"\xe9",
                b"\xe9]\xe9^\\",
                b"\xe9zba-",
            ],
        ),
        (b"[-a]", &[b"-", b"a"]),
        (b"[a-b-c]", &[b"-", b"a", b"b"]),
        (b"[\\]]", &[b"]"]),
        (
            b"[^\\]]",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"^", b"a", b"b", b"x", b"z", b"\xe9",
            ],
        ),
        (b"*[", &[]),
        (b"*\\", &[b"\\", b"\xe9]\xe9^\\"]),
        (b"[*]", &[b"*"]),
        (b"*a*b", &[b"a*b", b"a-b", b"aab", b"ab", b"abab"]),
        (
            b"a*b*",
            &[b"a*b", b"a-b", b"aab", b"ab", b"abab", b"abc", b"abz"],
        ),
        (
            b"[z-a]*",
            &[
                b"a", b"a*b", b"a-b", b"a[\\[z", b"a]", b"aa", b"aab", b"ab", b"abab", b"abc",
                b"abz", b"az", b"a\xe9", b"b", b"b**]", b"ba", b"baa]]", b"ba\xe9a", b"x", b"z",
                b"z[", b"za", b"z\xe9",
            ],
        ),
        (b"[z\\z", &[b"z"]),
        (b"*^a", &[]),
        (b"-[z", &[]),
        (b"-\xe9Z?\\az", &[]),
        (b"*-]*]", &[]),
        (b"aZ", &[]),
        (b"?b\\z]z^", &[]),
        (b"baaz\\?b", &[]),
        (b"-bz^", &[]),
        (b"\\]", &[b"]"]),
        (b"\\*\xe9a\\", &[]),
        (b"\\b", &[b"b"]),
        (b"Z^zZ", &[]),
        (b"-Z^\\", &[]),
        (b"z", &[b"z"]),
        (b"b?z[]]", &[]),
        (b"\xe9^z[b[?", &[]),
        (b"]]\\", &[]),
        (b"\\*a^^", &[]),
        (b"\\", &[b"\\"]),
        (
            b"?",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"b", b"x", b"z", b"\xe9",
            ],
        ),
        (b"^a^?Zb", &[]),
        (b"\\?*b\xe9[a", &[]),
        (b"[-]Z", &[]),
        (b"\xe9a\\-]?", &[]),
        (b"[--", &[b"-"]),
        (b"-?*-\\]", &[]),
        (b"?\xe9", &[b"-\xe9", b"a\xe9", b"z\xe9"]),
        (b"Za", &[]),
        (
            b"]*?",
            &[b"]-Z[\xe9", b"][", b"]a", b"]b", b"]z]", b"]\xe9*[z"],
        ),
        (b"a\\a?Zb]", &[]),
        (b"\\*a]z", &[]),
        (b"[zb?\\\\-", &[b"-", b"?", b"\\", b"b", b"z"]),
        (b"z][z", &[]),
        (b"\xe9*-[", &[]),
        (b"a[]\\z", &[]),
        (b"-\xe9?\xe9[\\", &[]),
        (b"aza", &[]),
        (b"a*\\[^*", &[]),
        (b"?^", &[b"[^"]),
        (b"a\\ZZ", &[]),
        (b"[a^^Zb", &[b"Z", b"^", b"a", b"b"]),
        (b"?Z\\]", &[]),
        (b"z\xe9^", &[]),
        (b"*a\xe9\xe9*", &[]),
        (b"a", &[b"a"]),
        (b"^", &[b"^"]),
        (b"?^b\xe9]", &[]),
        (b"[[", &[b"["]),
        (b"\xe9z\\-ZZb", &[]),
        (b"\\Z", &[b"Z"]),
        (b"z^Z?b^", &[]),
        (b"]bz", &[]),
        (b"*zb", &[]),
        (b"[[\xe9*zz", &[b"*", b"[", b"z", b"\xe9"]),
        (b"^]*a?-", &[]),
        (b"--*az", &[]),
        (b"]-?]b", &[]),
        (b"a]", &[b"a]"]),
        (b"[?\xe9", &[b"?", b"\xe9"]),
        (b"[?\\*", &[b"*", b"?"]),
        (b"\xe9]*\\-", &[]),
        (b"Z\\\xe9?", &[]),
        (b"-a?^", &[]),
        (b"\xe9^\\z-", &[]),
        (b"ab\\Zz[", &[]),
        (b"\xe9a]", &[]),
        (b"-]z[**-", &[]),
        (b"\\*", &[b"*"]),
        (b"-a^", &[]),
        (b"][^zZ[^", &[b"]a", b"]b"]),
        (b"Z]**[za", &[]),
        (b"zZ^^^Zz", &[]),
        (b"]^^", &[]),
        (b"^^**", &[]),
        (
            b"?[b[\\az",
            &[
                b"][", b"]a", b"]b", b"aa", b"ab", b"az", b"ba", b"z[", b"za",
            ],
        ),
        (b"\xe9\xe9]\xe9[*[", &[]),
        (b"?\xe9a\\[aa", &[]),
        (b"*?*?\xe9[?", &[]),
        (b"[\\", &[b"\\"]),
        (b"aZb]z-\\", &[]),
        (b"-b", &[]),
        (b"az*^\\", &[]),
        (b"z[-]", &[]),
        (b"^^\\a\xe9[", &[]),
        (b"]\xe9bz", &[]),
        (b"^\\^Z]b*", &[]),
        (b"a?b", &[b"a*b", b"a-b", b"aab"]),
        (b"baa?", &[]),
        (b"b", &[b"b"]),
        (b"zZZ\xe9z\xe9", &[]),
        (b"aZ?Z-z?", &[]),
        (b"]^z\\", &[]),
        (b"]?^bzZ]", &[]),
        (b"z", &[b"z"]),
        (
            b"*[b",
            &[
                b"***b", b"*Zb", b"[^Z-b", b"]b", b"^*b", b"a*b", b"a-b", b"aab", b"ab", b"abab",
                b"b",
            ],
        ),
        (b"Z*z[", &[]),
        (
            b"?",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"b", b"x", b"z", b"\xe9",
            ],
        ),
        (b"b-", &[]),
        (b"\xe9]^]", &[]),
        (b"Z^-", &[]),
        (b"?Zz", &[]),
        (b"Z]b?]", &[]),
        (b"[ZZ*", &[b"*", b"Z"]),
        (b"\\z-\xe9[[]", &[]),
        (b"bb\xe9Z", &[]),
        (b"-*]\\*Z", &[]),
        (b"Z[^][", &[]),
        (b"]]\\", &[]),
        (b"-b*Z^", &[]),
        (b"]Z", &[]),
        (b"Z]*", &[b"Z]"]),
        (b"]]z", &[]),
        (b"^a\\]z\\", &[]),
        (b"z", &[b"z"]),
        (b"b[*-b", &[b"ba"]),
        (b"[*-?[b", &[b"*", b"-", b"?", b"[", b"b"]),
        (b"\xe9???[zb", &[]),
        (b"?Z*-\xe9[", &[]),
        (b"*-^-", &[]),
        (b"^][\xe9", &[]),
        (b"??Z\\\xe9-\\", &[]),
        (b"z\xe9Z\xe9]]", &[]),
        (b"[*ab", &[b"*", b"a", b"b"]),
        (b"[^z[-*", &[b"\\", b"]", b"^", b"a", b"b", b"x", b"\xe9"]),
        (b"\\^Z]*[", &[]),
        (b"^a*a", &[]),
        (b"b\\[?", &[]),
        (b"?b", &[b"]b", b"ab"]),
        (b"\\^\\-[Zb", &[]),
        (
            b"*?",
            &[
                b"*",
                b"***b",
                b"*Zb",
                b"-",
                b"-*",
                b"-*-\xe9-",
                b"-b[^-",
                b"-\xe9",
                b"?",
                b"Z",
                b"Z[[Z",
                b"Z]",
                b"[",
                b"[-\xe9Z",
                b"[Z",
                b"[^",
                b"[^Z-b",
                b"[a\xe9",
                b"[\xe9z\xe9",
                b"\\",
                b"\\]Z",
                b"\\z[",
                b"]",
                b"]-Z[\xe9",
                b"][",
                b"]a",
                b"]b",
                b"]z]",
                b"]\xe9*[z",
                b"^",
                b"^*b",
                b"^]*^*",
                b"^a]-*",
                b"a",
                b"a*b",
                b"a-b",
                b"a[\\[z",
                b"a]",
                b"aa",
                b"aab",
                b"ab",
                b"abab",
                b"abc",
                b"abz",
                b"az",
                b"a\xe9",
                b"b",
                b"b**]",
                b"ba",
                b"baa]]",
                b"ba\xe9a",
                b"x",
                b"z",
                b"z[",
                b"za",
                b"z\xe9",
                b"\xe9",
                b"\xe9]\xe9^\\",
                b"\xe9zba-",
            ],
        ),
        (b"\\[\\]", &[]),
        (b"?*?\\b?[", &[]),
        (b"\\", &[b"\\"]),
        (b"-b-Z\\", &[]),
        (b"Zz", &[]),
        (b"^", &[b"^"]),
        (b"a-^", &[]),
        (b"^bb", &[]),
        (b"\\-\\\\^", &[]),
        (b"a\\]^*", &[]),
        (b"]", &[b"]"]),
        (b"b\\zZ[[?", &[]),
        (b"^[\\", &[]),
        (b"^\\bzza", &[]),
        (b"[z]\xe9[]b", &[]),
        (b"bab*bZ", &[]),
        (b"*\\", &[b"\\", b"\xe9]\xe9^\\"]),
        (b"**\\]?", &[b"\\]Z", b"][", b"]a", b"]b", b"baa]]"]),
        (b"^az*[-Z", &[]),
        (b"\xe9]*[", &[]),
        (b"a[^^?*a", &[b"a]", b"ab", b"az", b"a\xe9"]),
        (b"]][bZ", &[]),
        (b"]^]]", &[]),
        (b"Z", &[b"Z"]),
        (b"\\\\Z", &[]),
        (b"a[Z\\]", &[b"a]"]),
        (b"a]", &[b"a]"]),
        (b"\\z", &[b"z"]),
        (b"\xe9?bbbZ*", &[]),
        (b"^z][a^", &[]),
        (b"]]", &[]),
        (b"az]", &[]),
        (b"\xe9-??Zb", &[]),
        (b"bz--*\\?", &[]),
        (b"-\\^\xe9]?", &[]),
        (b"z*Zz*\\-", &[]),
        (b"-*b?z^", &[]),
        (b"*[", &[]),
        (b"b]-z-", &[]),
        (b"b^z^?", &[]),
        (b"Zz", &[]),
        (b"zZ", &[]),
        (b"b\\", &[]),
        (b"*\xe9]zZz", &[]),
        (b"a?", &[b"a]", b"aa", b"ab", b"az", b"a\xe9"]),
        (b"\xe9-\xe9*", &[]),
        (b"b-", &[]),
        (b"\xe9\\\\?*", &[]),
        (b"*[\\\\", &[b"\\", b"\xe9]\xe9^\\"]),
        (b"?\\z[[", &[b"\\z["]),
        (b"^", &[b"^"]),
        (b"\\[", &[b"["]),
        (b"Zza^Z", &[]),
        (b"-", &[b"-"]),
        (b"\\*?z^\\*", &[]),
        (b"azaab\xe9", &[]),
        (b"*^[\\?", &[]),
        (b"-", &[b"-"]),
        (b"\xe9\\b\\*[", &[]),
        (b"a]a*", &[]),
        (b"b", &[b"b"]),
        (b"[", &[]),
        (b"][[\xe9]bz", &[]),
        (b"*-Z\xe9b", &[]),
        (b"^^][]b", &[]),
        (b"]", &[b"]"]),
        (b"?\xe9]", &[]),
        (b"--]", &[]),
        (b"b", &[b"b"]),
        (b"^", &[b"^"]),
        (b"--", &[]),
        (b"\\^\xe9z^\xe9", &[]),
        (b"b", &[b"b"]),
        (b"Z-", &[]),
        (b"\xe9\xe9", &[]),
        (b"-[\\[\xe9?a", &[b"-\xe9"]),
        (
            b"?",
            &[
                b"*", b"-", b"?", b"Z", b"[", b"\\", b"]", b"^", b"a", b"b", b"x", b"z", b"\xe9",
            ],
        ),
        (b"-^\\", &[]),
        (b"\xe9**", &[b"\xe9", b"\xe9]\xe9^\\", b"\xe9zba-"]),
        (b"b^*bZ]^", &[]),
        (b"]", &[b"]"]),
        (b"[]b[", &[]),
        (b"]ab", &[]),
        (b"^?[", &[]),
        (b"a^", &[]),
        (b"?\xe9", &[b"-\xe9", b"a\xe9", b"z\xe9"]),
        (b"a\xe9?[b", &[]),
        (b"z", &[b"z"]),
    ];

    #[test]
    fn matches_redis_keys_table() {
        for (pat, expected) in CASES {
            for s in STRINGS {
                let want = expected.contains(s);
                assert_eq!(
                    glob_match(pat, s, false),
                    want,
                    "pattern {:?} string {:?}",
                    String::from_utf8_lossy(pat),
                    String::from_utf8_lossy(s)
                );
            }
        }
    }

    // Generated against redis-server 7.0.15: `CONFIG GET <pattern>` (which
    // matches case-insensitively; patterns without `*?[` are looked up
    // directly and so are not listed), restricted to CONFIG_NAMES.
    const CONFIG_NAMES: &[&str] = &[
        "enable-debug-command",
        "lazyfree-lazy-expire",
        "bind",
        "tls-session-caching",
        "no-appendfsync-on-rewrite",
        "repl-ping-replica-period",
        "cluster-announce-tls-port",
        "auto-aof-rewrite-min-size",
        "aof-use-rdb-preamble",
        "active-defrag-ignore-bytes",
        "notify-keyspace-events",
        "set-proc-title",
        "latency-tracking",
        "aof-rewrite-incremental-fsync",
        "dbfilename",
        "replica-serve-stale-data",
        "save",
        "maxmemory",
        "io-threads",
        "cluster-node-timeout",
        "bind-source-addr",
        "hll-sparse-max-bytes",
        "daemonize",
        "active-defrag-max-scan-fields",
        "timeout",
        "hash-max-ziplist-value",
        "ignore-warnings",
        "cluster-require-full-coverage",
        "cluster-link-sendbuf-limit",
        "lazyfree-lazy-user-del",
        "tls-prefer-server-ciphers",
        "syslog-facility",
        "maxmemory-policy",
        "appendonly",
        "stop-writes-on-bgsave-error",
        "logfile",
        "min-slaves-max-lag",
        "replica-ignore-maxmemory",
        "hash-max-listpack-entries",
        "cluster-port",
    ];
    const NOCASE: &[(&str, &[&str])] = &[
        ("rEpli?a-ser*e[^-]STaLe-d", &[]),
        ("*O-A[Z-z]?enDFSynC?O[^", &[]),
        ("io-ThRe[M-", &[]),
        ("cLUster-r?Q", &[]),
        ("Bind*sourcE-a*", &["bind-source-addr"]),
        ("sYsLOg-F?C*", &["syslog-facility"]),
        ("Clu[M-M]teR-A?n*uN*", &[]),
        ("APp[A-Z*", &[]),
        ("c[m-*", &[]),
        ("?[A-", &[]),
        ("tls-?r*fer?S?rve**cI*H*", &["tls-prefer-server-ciphers"]),
        ("haSH-max?ZIPlisT-VaL*", &["hash-max-ziplist-value"]),
        ("lAZY?REe-lazy-expir*", &["lazyfree-lazy-expire"]),
        ("ACt[A-m]", &[]),
        ("cl[Z-M]sTeR-a?no?nce", &[]),
        ("maxMemoRy-pO[*", &[]),
        ("BiNd*", &["bind", "bind-source-addr"]),
        ("a[^O]F-[^X]?wri*e-IN*re*", &[]),
        ("[^E]NAbLe-deb*", &[]),
        ("NOtify-key*", &["notify-keyspace-events"]),
        ("[A-z]e[z-", &[]),
        ("Hll-spArse-M[^A]x-bY*", &[]),
        ("saV*", &["save"]),
        ("tLs-PrE*", &["tls-prefer-server-ciphers"]),
        ("I?no", &[]),
        ("hAsh*?[A-z][M-A]-[^X]isTp", &[]),
        ("sT[*", &[]),
        ("[^N]ot??y-[M*", &[]),
        ("c?[z-a]s[^X]er-aN?OuncE-t*", &["cluster-announce-tls-port"]),
        ("daEM[m-z]", &[]),
        ("sy?log-faCiLi*", &["syslog-facility"]),
        (
            "Aof*",
            &["aof-rewrite-incremental-fsync", "aof-use-rdb-preamble"],
        ),
        ("?ind-?oURC*", &["bind-source-addr"]),
        (
            "Active-d*",
            &[
                "active-defrag-ignore-bytes",
                "active-defrag-max-scan-fields",
            ],
        ),
        ("?OTify-K[z-M]y[^X]p*", &[]),
        ("L[z-a]zyFrE[A-a]?l[*", &[]),
        ("Hll-Sp*[m-M][z-a][A", &[]),
        ("no-appEn[^X]fsyNC", &[]),
        (
            "lAZ?fRee*",
            &["lazyfree-lazy-expire", "lazyfree-lazy-user-del"],
        ),
        ("daEmoniZ*", &["daemonize"]),
        ("sa??*", &["save"]),
        ("l?Gfil*", &["logfile"]),
        ("io-*hr", &[]),
        ("TlS-pR[m-Z]fEr-S?", &[]),
        ("Se[^", &[]),
        ("dA[", &[]),
        ("aof-UsE-?Db-P?EAm*", &["aof-use-rdb-preamble"]),
        ("e[Z-m]aBle-", &[]),
        ("I*[A-Z]*r", &[]),
        ("dbfi*", &["dbfilename"]),
        ("hash-M[M-Z]x-zIplI", &[]),
        ("Logfi?", &[]),
        ("?lusT", &[]),
        ("daEm*", &["daemonize"]),
        ("la?YfR[z-A]e[A-m", &[]),
        ("AOF-[A-Z]se-rD*-pr", &[]),
        ("[^A]C?ive*defrag-max-sca*", &[]),
        ("tls-[M-Z]eSsi*", &["tls-session-caching"]),
        ("min-Slav?s[Z-", &[]),
        ("cLuSter-[A", &[]),
        (
            "Ao[a-z][^X]*",
            &["aof-rewrite-incremental-fsync", "aof-use-rdb-preamble"],
        ),
        (
            "ClUSt*R-rEQuIrE-FU[A-m]l*",
            &["cluster-require-full-coverage"],
        ),
        ("re*L-[M-M]INg*Rep?i*", &[]),
        ("?y?L[z-a][^", &[]),
        ("?ash-m?x-LIs?p", &[]),
        ("C*usTER?nODe-", &[]),
        ("l*g*", &["latency-tracking", "logfile"]),
        ("?o-tHr[^", &[]),
        ("?LUsT", &[]),
        ("A?tO-aof-rew?iT*", &["auto-aof-rewrite-min-size"]),
    ];

    #[test]
    fn nocase_matches_redis_config_get() {
        for (pat, expected) in NOCASE {
            for name in CONFIG_NAMES {
                assert_eq!(
                    glob_match(pat.as_bytes(), name.as_bytes(), true),
                    expected.contains(name),
                    "pattern {pat:?} name {name:?}"
                );
            }
        }
    }
}
