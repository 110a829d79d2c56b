//! The alltoall challenge: what each rank sends, and how what it received is handed to the
//! grader.
//!
//! The runtime does not judge the result (it could not: it does not know what the other ranks
//! sent). It appends the received blocks, raw, to the rank's results file, and the `done`
//! event says where each block is; the grader, which knows every rank's key, checks them.

use mpi_grade_protocol::payload::{self, Key};
use mpi_grade_protocol::run::BlockReport;
use std::fs::File;
use std::io::Write;

/// The blocks this rank is given in one repetition of a cell: `count` of them (for the
/// alltoall, one per rank: element `d` is the block for rank `d`), each value shifted right by
/// `shift` bits.
pub fn payload(
    key: &Key,
    cell: u32,
    repetition: u32,
    count: u32,
    len: u64,
    shift: u32,
) -> Vec<Vec<i64>> {
    (0..count)
        .map(|dest| {
            let mut block = payload::block(key, cell, repetition, dest, len);
            if shift > 0 {
                block.iter_mut().for_each(|v| *v >>= shift);
            }
            block
        })
        .collect()
}

/// Appends a result to the results file; returns where each block went.
///
/// Only blocks the grader can check element by element are written (one of the first `size`
/// blocks, `size` being the number of blocks the contract expects, exactly `len` long): for the others, the count and the length already say what is
/// wrong, and a submission returning huge blocks does not fill the disk.
pub struct Results {
    file: File,
    offset: u64,
    buffer: Vec<u8>,
}

impl Results {
    /// Results written to `file` (the rank's results file), from its start.
    pub fn new(file: File) -> Results {
        Results {
            file,
            offset: 0,
            buffer: Vec::new(),
        }
    }

    pub fn append(&mut self, result: &[Vec<i64>], size: u32, len: u64) -> Vec<BlockReport> {
        self.buffer.clear();
        let mut reports = Vec::with_capacity(result.len());
        for (i, block) in result.iter().enumerate() {
            let offset = self.offset + self.buffer.len() as u64;
            if i < size as usize && block.len() as u64 == len {
                for v in block {
                    self.buffer.extend_from_slice(&v.to_le_bytes());
                }
            }
            reports.push(BlockReport {
                len: block.len() as u64,
                offset,
            });
        }
        if let Err(e) = self.file.write_all(&self.buffer) {
            // The grader notices: the blocks are not where the event says.
            eprintln!("mpi-grade runtime: cannot write the results file: {e}");
        }
        self.offset += self.buffer.len() as u64;
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_written_raw_where_the_reports_say() {
        let path = std::env::temp_dir().join(format!("mpi-grade-results-{}", std::process::id()));
        let file = File::create(&path).unwrap();
        let mut results = Results::new(file);
        let first = results.append(&[vec![1, 2], vec![-3, 4]], 2, 2);
        assert_eq!(
            first,
            [
                BlockReport { len: 2, offset: 0 },
                BlockReport { len: 2, offset: 16 }
            ]
        );
        // A block of the wrong length and a block too many are not written.
        let second = results.append(&[vec![5], vec![6, 7], vec![8, 9]], 2, 2);
        assert_eq!(
            second,
            [
                BlockReport { len: 1, offset: 32 },
                BlockReport { len: 2, offset: 32 },
                BlockReport { len: 2, offset: 48 }
            ]
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let values: Vec<i64> = bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(values, [1, 2, -3, 4, 6, 7]);
    }

    #[test]
    fn payloads_are_the_protocol_blocks() {
        let key = payload::rank_key(5, 0, 1);
        let values = payload(&key, 2, 1, 3, 10, 0);
        assert_eq!(values.len(), 3);
        assert_eq!(values[2], payload::block(&key, 2, 1, 2, 10));
        let shifted = payload(&key, 2, 1, 1, 10, 33);
        assert_eq!(shifted.len(), 1);
        assert_eq!(shifted[0][4], payload::block(&key, 2, 1, 0, 10)[4] >> 33);
    }
}
