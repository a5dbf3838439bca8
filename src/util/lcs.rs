//! Longest common subsequence exactly as Redis 7.0's LCS command computes
//! it: the classic O(len(a) * len(b)) dynamic-programming table, then a
//! walk backwards from the end of both strings. On a mismatch the walk
//! moves up in `a` only when that keeps a strictly longer LCS
//! (`LCS(i-1,j) > LCS(i,j-1)`), otherwise left in `b`; this tie-break
//! decides which of several equally long subsequences is returned and
//! where the match ranges fall. Ranges are produced from the end of the
//! strings towards the start.

/// One match range: `((a_start, a_end), (b_start, b_end), len)`, inclusive
/// byte indexes, as in `LCS ... IDX WITHMATCHLEN`.
pub type LcsMatch = ((usize, usize), (usize, usize), usize);

/// Result of [`lcs`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LcsResult {
    /// The common subsequence itself.
    pub lcs: Vec<u8>,
    /// Its length (`LCS ... LEN`, and the `len` field of IDX replies).
    pub len: usize,
    /// Match ranges (only filled when requested), last range first,
    /// already filtered by the minimum match length.
    pub matches: Vec<LcsMatch>,
}

/// Number of DP cells needed for `a` and `b`, so callers can refuse huge
/// inputs before calling [`lcs`] (Redis uses a `u32` per cell).
pub fn lcs_table_cells(a_len: usize, b_len: usize) -> Option<usize> {
    (a_len.checked_add(1)?).checked_mul(b_len.checked_add(1)?)
}

/// Computes the LCS of `a` and `b`. With `want_matches` the match ranges
/// are collected, keeping only ranges of at least `min_match_len` bytes
/// (0 keeps all; Redis turns a negative MINMATCHLEN into 0).
pub fn lcs(a: &[u8], b: &[u8], want_matches: bool, min_match_len: usize) -> LcsResult {
    let alen = a.len();
    let blen = b.len();
    let w = blen + 1;
    // dp[i * w + j] = LCS length of a[..i] and b[..j].
    let mut dp = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for j in 1..=blen {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[alen * w + blen] as usize;
    let mut result = vec![0u8; total];
    let mut matches = Vec::new();
    let mut idx = total;

    // `None` = no range currently being tracked.
    let mut range: Option<(usize, usize, usize, usize)> = None; // (a_start, a_end, b_start, b_end)
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            match &mut range {
                None => range = Some((i - 1, i - 1, j - 1, j - 1)),
                Some((as_, _, bs, _)) => {
                    if *as_ == i && *bs == j {
                        *as_ -= 1;
                        *bs -= 1;
                    } else {
                        emit = true;
                    }
                }
            }
            if let Some((as_, _, bs, _)) = range
                && (as_ == 0 || bs == 0)
            {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if range.is_some() {
                emit = true;
            }
        }
        if emit && let Some((as_, ae, bs, be)) = range.take() {
            let len = ae - as_ + 1;
            if want_matches && (min_match_len == 0 || len >= min_match_len) {
                matches.push(((as_, ae), (bs, be), len));
            }
        }
    }
    LcsResult {
        lcs: result,
        len: total,
        matches,
    }
}

#[cfg(test)]
mod tests;
