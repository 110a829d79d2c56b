//! Payload values and block digests.
//!
//! Element `k` of the block that rank `s` sends to rank `d` in a cell is
//! `mix64(pack(s, d, k) ^ cell_seed)` reinterpreted as `i64`, where
//! `pack(s, d, k) = s << 48 | d << 32 | k`. `mix64` (the SplitMix64 finaliser) and XOR with a
//! constant are both bijections of `u64`, so within a cell every `(s, d, k)` has its own value:
//! a misrouted, reordered or truncated element cannot look right. Cells get different seeds, so
//! a stale block left over from an earlier cell cannot look right either.
//!
//! The digest of a block is `mix64(len) + Σ_k mix64(v_k ^ k·φ)` with wrapping arithmetic
//! (`φ` = 0x9e3779b97f4a7c15). It depends on every element and its position, and it is a plain
//! sum of independent terms, so it vectorises (NumPy computes it with `uint64` arrays).

/// Largest rank count the packing supports (ranks are packed in 16 bits).
pub const MAX_RANKS: u32 = 1 << 16;
/// Largest block length the packing supports (indices are packed in 32 bits).
pub const MAX_BLOCK_LEN: u64 = 1 << 32;

const PHI: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 finaliser: a bijection of `u64` that mixes every input bit into every output bit.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of one cell, derived from the grade's seed and a key unique to the cell within
/// the grade. The grader derives it and writes it into the plan; ranks only read it.
pub fn cell_seed(grade_seed: u64, cell_key: u64) -> u64 {
    mix64(grade_seed ^ mix64(cell_key.wrapping_add(PHI)))
}

/// Element `k` of the block that rank `source` sends to rank `dest`.
#[inline]
pub fn element(cell_seed: u64, source: u32, dest: u32, k: u64) -> i64 {
    debug_assert!(source < MAX_RANKS && dest < MAX_RANKS && k < MAX_BLOCK_LEN);
    let packed = (u64::from(source) << 48) | (u64::from(dest) << 32) | k;
    mix64(packed ^ cell_seed) as i64
}

/// The block that rank `source` sends to rank `dest`, `len` elements long.
pub fn block(cell_seed: u64, source: u32, dest: u32, len: u64) -> Vec<i64> {
    (0..len)
        .map(|k| element(cell_seed, source, dest, k))
        .collect()
}

/// The digest of a block of received values.
pub fn digest(block: &[i64]) -> u64 {
    let terms = block
        .iter()
        .enumerate()
        .fold(0u64, |sum, (k, &v)| sum.wrapping_add(term(k as u64, v)));
    mix64(block.len() as u64).wrapping_add(terms)
}

/// The digest that a correct block from `source` to `dest` has, computed without allocating it.
pub fn expected_digest(cell_seed: u64, source: u32, dest: u32, len: u64) -> u64 {
    let terms = (0..len).fold(0u64, |sum, k| {
        sum.wrapping_add(term(k, element(cell_seed, source, dest, k)))
    });
    mix64(len).wrapping_add(terms)
}

#[inline]
fn term(k: u64, v: i64) -> u64 {
    mix64((v as u64) ^ k.wrapping_mul(PHI))
}

/// A digest as it appears in the run-directory files: 16 lowercase hex digits.
pub fn digest_hex(digest: u64) -> String {
    format!("{digest:016x}")
}

/// Parses a digest written by [`digest_hex`].
pub fn parse_digest_hex(text: &str) -> Option<u64> {
    (text.len() == 16).then(|| u64::from_str_radix(text, 16).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn elements_are_unique_per_source_dest_and_index() {
        let seed = cell_seed(42, 7);
        let mut seen = HashSet::new();
        for s in 0..5 {
            for d in 0..5 {
                for k in 0..200 {
                    assert!(
                        seen.insert(element(seed, s, d, k)),
                        "collision at {s} {d} {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn cells_have_different_values() {
        let a = cell_seed(42, 1);
        let b = cell_seed(42, 2);
        assert_ne!(block(a, 0, 1, 8), block(b, 0, 1, 8));
        assert_ne!(cell_seed(42, 1), cell_seed(43, 1));
    }

    #[test]
    fn digest_matches_expected_and_detects_damage() {
        let seed = cell_seed(9, 3);
        let good = block(seed, 2, 1, 1000);
        let want = expected_digest(seed, 2, 1, 1000);
        assert_eq!(digest(&good), want);

        let mut swapped = good.clone();
        swapped.swap(10, 11);
        assert_ne!(digest(&swapped), want, "reordering must change the digest");

        let truncated = &good[..999];
        assert_ne!(digest(truncated), want, "truncation must change the digest");

        let misrouted = block(seed, 1, 2, 1000);
        assert_ne!(
            digest(&misrouted),
            want,
            "a block meant for another rank must differ"
        );

        let stale = block(cell_seed(9, 2), 2, 1, 1000);
        assert_ne!(
            digest(&stale),
            want,
            "a block from another cell must differ"
        );
    }

    #[test]
    fn empty_block_digest_is_defined() {
        assert_eq!(digest(&[]), expected_digest(1, 0, 0, 0));
    }

    #[test]
    fn digest_hex_round_trips() {
        for d in [0, 1, u64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(parse_digest_hex(&digest_hex(d)), Some(d));
        }
        assert_eq!(parse_digest_hex("xyz"), None);
        assert_eq!(parse_digest_hex("00000000000000000"), None);
    }

    /// Pins the formula: a Python driver is checked against these numbers.
    #[test]
    fn formula_is_stable() {
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
        let seed = cell_seed(1, 0);
        assert_eq!(seed, 0x9e01_6029_3a33_aaf7);
        assert_eq!(element(seed, 0, 1, 0) as u64, 0xcdde_5e62_9bd6_0a03);
        assert_eq!(expected_digest(seed, 0, 1, 3), 0xd1b9_0136_32b3_b383);
    }
}
