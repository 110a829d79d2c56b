//! SHAKE128 (FIPS 202), which derives the rank keys and run ids from a grade's seed (the
//! payloads themselves are BLAKE3, see [`crate::payload`]).
//!
//! Written out here (Keccak-f\[1600\] and the sponge, about a hundred lines). Python's
//! `hashlib.shake_128` computes the same bytes; the tests pin them.

const RATE: usize = 168; // SHAKE128: 1344-bit rate

const RC: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// The rotation offset of ρ for lane `(x, y)`, at `x + 5 * y`.
const RHO: [u32; 25] = [
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
];

/// The Keccak-f[1600] permutation; lane `(x, y)` is `a[x + 5 * y]`.
///
/// Every index below is a constant once the loops are unrolled, so the state stays in
/// registers: a third faster than following π's cycle through a table of lanes.
#[inline(always)]
fn keccak_f(a: &mut [u64; 25]) {
    for rc in RC {
        // θ
        let mut c = [0u64; 5];
        for x in 0..5 {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
        // θ's column parities applied, then ρ and π: lane (x, y) moves to (y, 2x + 3y).
        let mut b = [0u64; 25];
        for x in 0..5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            for y in 0..5 {
                b[y + 5 * ((2 * x + 3 * y) % 5)] = (a[x + 5 * y] ^ d).rotate_left(RHO[x + 5 * y]);
            }
        }
        // χ
        for y in 0..5 {
            for x in 0..5 {
                a[x + 5 * y] = b[x + 5 * y] ^ (!b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
            }
        }
        // ι
        a[0] ^= rc;
    }
}

/// A SHAKE128 sponge after absorbing its whole input: read output with [`Shake128::squeeze`].
#[derive(Clone)]
pub struct Shake128 {
    state: [u64; 25],
    /// Bytes of the current output block already handed out.
    used: usize,
}

impl Shake128 {
    /// Absorbs `input` (all of it: there is no incremental update).
    pub fn new(input: &[u8]) -> Shake128 {
        let mut state = [0u64; 25];
        let mut chunks = input.chunks_exact(RATE);
        for chunk in &mut chunks {
            xor_block(&mut state, chunk);
            keccak_f(&mut state);
        }
        let rest = chunks.remainder();
        let mut last = [0u8; RATE];
        last[..rest.len()].copy_from_slice(rest);
        last[rest.len()] ^= 0x1f; // SHAKE domain bits and the first padding bit
        last[RATE - 1] ^= 0x80;
        xor_block(&mut state, &last);
        keccak_f(&mut state);
        Shake128 { state, used: 0 }
    }

    /// Fills `out` with the next output bytes.
    pub fn squeeze(&mut self, out: &mut [u8]) {
        let mut out = out;
        while !out.is_empty() {
            if self.used == RATE {
                keccak_f(&mut self.state);
                self.used = 0;
            }
            let take = (RATE - self.used).min(out.len());
            let mut block = [0u8; RATE];
            for (i, lane) in self.state[..RATE / 8].iter().enumerate() {
                block[8 * i..8 * i + 8].copy_from_slice(&lane.to_le_bytes());
            }
            out[..take].copy_from_slice(&block[self.used..self.used + take]);
            self.used += take;
            out = &mut out[take..];
        }
    }

    /// Fills `out` with the next output read as little-endian 64-bit words (`out.len() * 8`
    /// bytes). Faster than [`squeeze`](Self::squeeze) when the position is word-aligned.
    pub fn squeeze_words(&mut self, out: &mut [u64]) {
        if !self.used.is_multiple_of(8) {
            for w in out.iter_mut() {
                let mut b = [0u8; 8];
                self.squeeze(&mut b);
                *w = u64::from_le_bytes(b);
            }
            return;
        }
        let mut out = out;
        while !out.is_empty() {
            if self.used == RATE {
                keccak_f(&mut self.state);
                self.used = 0;
            }
            let lane = self.used / 8;
            let take = (RATE / 8 - lane).min(out.len());
            out[..take].copy_from_slice(&self.state[lane..lane + take]);
            self.used += 8 * take;
            out = &mut out[take..];
        }
    }
}

fn xor_block(state: &mut [u64; 25], block: &[u8]) {
    for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
        *lane ^= u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    }
}

/// `n` bytes of SHAKE128 of `input`.
pub fn shake128(input: &[u8], n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    Shake128::new(input).squeeze(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Values from Python's `hashlib.shake_128`.
    #[test]
    fn matches_fips_202() {
        assert_eq!(
            hex(&shake128(b"", 32)),
            "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26"
        );
        assert_eq!(
            hex(&shake128(b"abc", 200)[168..]),
            "6aa01b3f5af057805f973ff8ecb8b226ac32ada6f01c1fcd4818cb006aa5b4cd"
        );
        let long: Vec<u8> = (0..768).map(|i| i as u8).collect();
        assert_eq!(
            hex(&shake128(&long, 400)[368..]),
            "230ed26168bace7ef0f666b6f36502a8a288a29a6eb5a3fa797a834520964a3d"
        );
    }

    #[test]
    fn words_and_bytes_agree_at_any_position() {
        let all = shake128(b"words", 8 * 100);
        let mut sponge = Shake128::new(b"words");
        let mut first = [0u8; 8];
        sponge.squeeze(&mut first);
        let mut words = vec![0u64; 99];
        sponge.squeeze_words(&mut words);
        for (i, w) in words.iter().enumerate() {
            let at = 8 * (i + 1);
            assert_eq!(*w, u64::from_le_bytes(all[at..at + 8].try_into().unwrap()));
        }
        let mut odd = Shake128::new(b"words");
        let mut three = [0u8; 3];
        odd.squeeze(&mut three);
        let mut w = [0u64; 1];
        odd.squeeze_words(&mut w);
        assert_eq!(w[0], u64::from_le_bytes(all[3..11].try_into().unwrap()));
    }
}
