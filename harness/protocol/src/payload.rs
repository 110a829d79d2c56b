//! Payload values: keyed, so that no rank can predict what another sends.
//!
//! Each rank of a launch gets its own secret key ([`KEY_LEN`] bytes), and only that rank gets
//! it (see `docs/protocol.md`, "Keys"). The block that rank `s` sends to rank `d` in repetition
//! `r` of cell `c` is the output of BLAKE3 keyed with `key_s`, extended to the block's length,
//! of
//!
//! ```text
//! "mpi-grade block\0" || le32(c) || le32(r) || le32(d)
//! ```
//!
//! read as little-endian `i64`s, as many as the block is long. Without `key_s` the values of
//! rank `s` cannot be told from random: a receiver that did not receive a block cannot
//! compute it, a block from another cell or repetition or meant for another rank differs, and
//! knowing some elements of a block says nothing about the others. Python computes a block as
//! `numpy.frombuffer(blake3.blake3(prefix, key=key).digest(8 * n), "<i8")`.
//!
//! BLAKE3 rather than SHAKE128 (which still derives the keys and run ids) for its speed: every
//! element of a grade is hashed twice, by the rank that sends it and by the grader that checks
//! it, and BLAKE3's output is computed many blocks at a time with SIMD: 8 GB/s here against
//! SHAKE128's 0.6 GB/s.
//!
//! The grader derives the keys from the grade's seed ([`rank_key`]), so `--seed` reproduces a
//! grade exactly; the seed is random by default and never reaches a rank.

use crate::shake::Shake128;

/// Length of a rank's key in bytes.
pub const KEY_LEN: usize = 32;

/// A rank's secret key.
pub type Key = [u8; KEY_LEN];

/// Largest rank count a plan may have.
pub const MAX_RANKS: u32 = 1 << 16;

const KEY_DOMAIN: &[u8] = b"mpi-grade rank key\0";
const BLOCK_DOMAIN: &[u8] = b"mpi-grade block\0";
const RUN_ID_DOMAIN: &[u8] = b"mpi-grade run id\0";

/// The key of `rank` in the launch numbered `launch` of the grade with seed `grade_seed`.
pub fn rank_key(grade_seed: u64, launch: u64, rank: u32) -> Key {
    let mut input = KEY_DOMAIN.to_vec();
    input.extend_from_slice(&grade_seed.to_le_bytes());
    input.extend_from_slice(&launch.to_le_bytes());
    input.extend_from_slice(&rank.to_le_bytes());
    let mut key = [0u8; KEY_LEN];
    Shake128::new(&input).squeeze(&mut key);
    key
}

/// The identifier of a launch that its plan and events carry (so that events of another run
/// are told apart). A one-way function of the seed: it does not give the keys away.
pub fn run_id(grade_seed: u64, launch: u64) -> u64 {
    let mut input = RUN_ID_DOMAIN.to_vec();
    input.extend_from_slice(&grade_seed.to_le_bytes());
    input.extend_from_slice(&launch.to_le_bytes());
    let mut id = [0u64; 1];
    Shake128::new(&input).squeeze_words(&mut id);
    id[0]
}

/// The output stream whose first `8 * len` bytes are the block `key`'s rank sends to `dest` in
/// `cell`, `repetition` (read on with [`blake3::OutputReader::fill`]).
pub fn block_stream(key: &Key, cell: u32, repetition: u32, dest: u32) -> blake3::OutputReader {
    let mut input = [0u8; BLOCK_DOMAIN.len() + 12];
    let (domain, rest) = input.split_at_mut(BLOCK_DOMAIN.len());
    domain.copy_from_slice(BLOCK_DOMAIN);
    rest[..4].copy_from_slice(&cell.to_le_bytes());
    rest[4..8].copy_from_slice(&repetition.to_le_bytes());
    rest[8..].copy_from_slice(&dest.to_le_bytes());
    blake3::Hasher::new_keyed(key).update(&input).finalize_xof()
}

/// Bytes squeezed at a time: what the widest SIMD path (AVX-512, 16 output blocks of 64 bytes)
/// computes in one go, and a buffer that stays in L1: a third faster than one buffer for the
/// whole block, which is written to memory and read back.
const SQUEEZE: usize = 1024;

/// Fills `out` with the first `out.len()` elements of a block.
pub fn fill_block(key: &Key, cell: u32, repetition: u32, dest: u32, out: &mut [i64]) {
    let mut stream = block_stream(key, cell, repetition, dest);
    let mut buffer = [0u8; SQUEEZE];
    for chunk in out.chunks_mut(SQUEEZE / 8) {
        let bytes = &mut buffer[..8 * chunk.len()];
        stream.fill(bytes);
        for (o, b) in chunk.iter_mut().zip(bytes.chunks_exact(8)) {
            *o = i64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
    }
}

/// The block that the rank holding `key` sends to `dest`, `len` elements long.
pub fn block(key: &Key, cell: u32, repetition: u32, dest: u32, len: u64) -> Vec<i64> {
    let mut out = vec![0i64; len as usize];
    fill_block(key, cell, repetition, dest, &mut out);
    out
}

/// Key bytes as lowercase hex (as the grader writes them for a rank).
pub fn key_hex(key: &Key) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses [`key_hex`] (surrounding whitespace allowed).
pub fn parse_key_hex(text: &str) -> Option<Key> {
    let text = text.trim();
    if text.len() != 2 * KEY_LEN || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; KEY_LEN];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

/// The SplitMix64 finaliser: a cheap bijection of `u64` (for seeds and hashing, not payloads).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn blocks_differ_by_sender_receiver_cell_and_repetition() {
        let k0 = rank_key(42, 0, 0);
        let k1 = rank_key(42, 0, 1);
        assert_ne!(k0, k1);
        assert_ne!(k0, rank_key(43, 0, 0));
        assert_ne!(k0, rank_key(42, 1, 0));
        let mut seen = HashSet::new();
        for key in [k0, k1] {
            for cell in 0..3 {
                for rep in 0..3 {
                    for dest in 0..3 {
                        assert!(seen.insert(block(&key, cell, rep, dest, 4)));
                    }
                }
            }
        }
    }

    #[test]
    fn a_longer_block_extends_a_shorter_one() {
        let key = rank_key(9, 3, 2);
        let long = block(&key, 1, 0, 2, 500);
        assert_eq!(&long[..21], &block(&key, 1, 0, 2, 21)[..]);
    }

    #[test]
    fn a_block_filled_in_pieces_is_the_stream_read_in_one_go() {
        let key = rank_key(5, 1, 0);
        let piece = SQUEEZE / 8;
        for len in [1, piece, piece + 1, 3 * piece + 5] {
            let mut bytes = vec![0u8; 8 * len];
            block_stream(&key, 2, 1, 0).fill(&mut bytes);
            let whole: Vec<i64> = bytes
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                .collect();
            assert_eq!(block(&key, 2, 1, 0, len as u64), whole, "{len} elements");
        }
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let key = rank_key(1, 2, 3);
        assert_eq!(parse_key_hex(&format!("{}\n", key_hex(&key))), Some(key));
        assert_eq!(parse_key_hex("00"), None);
        assert_eq!(parse_key_hex(&"zz".repeat(KEY_LEN)), None);
    }

    /// Pins the formulas: a Python driver is checked against these numbers (computed with
    /// `hashlib.shake_128` for the key and the run id, the `blake3` package for the block).
    #[test]
    fn formula_is_stable() {
        let key = rank_key(1, 0, 0);
        assert_eq!(
            key_hex(&key),
            "c8f0181563fe252e57ce50d2a7f2f84dfc11ec0c46d7c0aece3f6edd430fa738"
        );
        let b: Vec<u64> = block(&key, 0, 0, 1, 3)
            .into_iter()
            .map(|v| v as u64)
            .collect();
        assert_eq!(
            b,
            [
                0xfd31_da40_4ba6_74d8,
                0x1eac_ba24_201f_b536,
                0x7780_6df3_d41d_a6b4
            ]
        );
        assert_eq!(run_id(1, 0), 0x3d28_0486_3d7b_a15d);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
    }
}
