//! Partial quicksort: orders only the positions `lo..=hi` of a slice (what the first k results
//! of GEOSEARCH COUNT and SORT LIMIT need), by Bentley and McIlroy's three-way partitioning as
//! Redis's pqsort does it. The algorithm is followed step for step (pivot choice, swaps, which
//! side recurses) because elements that compare equal end up in an order only it determines,
//! and replies must list them as Redis does.

use std::cmp::Ordering;

/// Sorts `v` enough that positions `lo..=hi` hold what a full sort would put there.
pub fn partial_sort<T>(
    v: &mut [T],
    lo: usize,
    hi: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    if !v.is_empty() {
        sort_range(v, 0, v.len(), lo, hi, cmp);
    }
}

/// The median of three positions.
fn med3<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) -> usize {
    if cmp(&v[a], &v[b]).is_lt() {
        if cmp(&v[b], &v[c]).is_lt() {
            b
        } else if cmp(&v[a], &v[c]).is_lt() {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]).is_gt() {
        b
    } else if cmp(&v[a], &v[c]).is_lt() {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements from `a` with the `n` elements from `b`, pairwise.
fn swap_blocks<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

/// Sorts the `n` elements from `a`, skipping sub-ranges that lie outside `lo..=hi`.
fn sort_range<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    lo: usize,
    hi: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    // Whether the sub-range `start..start + len` meets `lo..=hi`.
    let wanted = |start: usize, len: usize| {
        let last = start + len - 1;
        !((lo < start && hi < start) || (lo > last && hi > last))
    };
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]).is_gt() {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut m = a + n / 2;
        if n > 7 {
            let (mut l, mut r) = (a, a + n - 1);
            if n > 40 {
                let d = n / 8;
                l = med3(v, l, l + d, l + 2 * d, cmp);
                m = med3(v, m - d, m, m + d, cmp);
                r = med3(v, r - 2 * d, r - d, r, cmp);
            }
            m = med3(v, l, m, r, cmp);
        }
        v.swap(a, m);
        // [a] pivot | [a+1, pa) equal | [pa, pb) less | ... | (pc, pd] greater | (pd, end) equal
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c.is_gt() {
                    break;
                }
                if c.is_eq() {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c.is_lt() {
                    break;
                }
                if c.is_eq() {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = a + n;
        let r = (pa - a).min(pb - pa);
        swap_blocks(v, a, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        swap_blocks(v, pb, end - r, r);
        let less = pb - pa;
        if less > 1 && wanted(a, less) {
            sort_range(v, a, less, lo, hi, cmp);
        }
        let greater = pd - pc;
        if greater > 1 {
            a = end - greater;
            n = greater;
            if wanted(a, n) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_requested_positions() {
        let mut rng = fastrand::Rng::with_seed(3);
        for n in [0usize, 1, 5, 7, 8, 39, 41, 100, 1000] {
            for _ in 0..20 {
                let v: Vec<u32> = (0..n).map(|_| rng.u32(0..50)).collect();
                let mut sorted = v.clone();
                sorted.sort();
                let mut full = v.clone();
                if n > 0 {
                    partial_sort(&mut full, 0, n - 1, &mut |a, b| a.cmp(b));
                }
                assert_eq!(full, sorted);
                if n > 3 {
                    let (lo, hi) = (n / 4, n / 2);
                    let mut part = v.clone();
                    partial_sort(&mut part, lo, hi, &mut |a, b| a.cmp(b));
                    assert_eq!(part[lo..=hi], sorted[lo..=hi]);
                    let mut rest = part.clone();
                    rest.sort();
                    assert_eq!(rest, sorted, "a permutation");
                }
            }
        }
    }
}
