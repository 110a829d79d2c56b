//! The alltoall challenge: what each rank sends, and how what it received is checked.

use mpi_grade_protocol::payload;
use mpi_grade_protocol::run::{BlockReport, ResultError};

/// The blocks rank `rank` sends: element `d` is the block for rank `d`.
pub fn payload(seed: u64, rank: u32, size: u32, len: u64) -> Vec<Vec<i64>> {
    (0..size)
        .map(|dest| payload::block(seed, rank, dest, len))
        .collect()
}

/// Summarises what rank `rank` received: a digest per block, and the first wrong thing found.
///
/// The digests are what the grader decides on; the error only explains a mismatch.
pub fn check_result(
    result: &[Vec<i64>],
    seed: u64,
    rank: u32,
    size: u32,
    len: u64,
) -> (Vec<BlockReport>, Option<ResultError>) {
    let blocks = result
        .iter()
        .map(|block| BlockReport {
            len: block.len() as u64,
            digest: payload::digest_hex(payload::digest(block)),
        })
        .collect();
    (blocks, first_error(result, seed, rank, size, len))
}

fn first_error(
    result: &[Vec<i64>],
    seed: u64,
    rank: u32,
    size: u32,
    len: u64,
) -> Option<ResultError> {
    if result.len() != size as usize {
        return Some(ResultError::WrongBlockCount {
            expected: size,
            got: result.len() as u32,
        });
    }
    for (source, block) in (0..size).zip(result) {
        if block.len() as u64 != len {
            return Some(ResultError::WrongLength {
                source,
                expected: len,
                got: block.len() as u64,
            });
        }
        for (index, &got) in (0..len).zip(block) {
            let expected = payload::element(seed, source, rank, index);
            if got != expected {
                return Some(ResultError::WrongElement {
                    source,
                    index,
                    expected,
                    got,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What rank `rank` should receive: the block each source built for it.
    fn correct(seed: u64, rank: u32, size: u32, len: u64) -> Vec<Vec<i64>> {
        (0..size)
            .map(|s| payload::block(seed, s, rank, len))
            .collect()
    }

    #[test]
    fn a_correct_result_has_no_error_and_the_expected_digests() {
        let result = correct(5, 1, 3, 10);
        let (blocks, error) = check_result(&result, 5, 1, 3, 10);
        assert_eq!(error, None);
        for (s, b) in blocks.iter().enumerate() {
            assert_eq!(b.len, 10);
            assert_eq!(
                b.digest,
                payload::digest_hex(payload::expected_digest(5, s as u32, 1, 10))
            );
        }
    }

    #[test]
    fn the_first_wrong_element_is_reported() {
        let mut result = correct(5, 0, 2, 10);
        result[1][7] = 0;
        let (_, error) = check_result(&result, 5, 0, 2, 10);
        assert_eq!(
            error,
            Some(ResultError::WrongElement {
                source: 1,
                index: 7,
                expected: payload::element(5, 1, 0, 7),
                got: 0
            })
        );
    }

    #[test]
    fn sending_back_ones_own_blocks_is_wrong() {
        let result = payload(5, 0, 2, 4);
        let (_, error) = check_result(&result, 5, 0, 2, 4);
        assert!(matches!(
            error,
            Some(ResultError::WrongElement {
                source: 1,
                index: 0,
                ..
            })
        ));
    }

    #[test]
    fn wrong_lengths_and_counts_are_reported() {
        let mut result = correct(5, 0, 3, 4);
        result[2].pop();
        assert_eq!(
            check_result(&result, 5, 0, 3, 4).1,
            Some(ResultError::WrongLength {
                source: 2,
                expected: 4,
                got: 3
            })
        );
        result.pop();
        assert_eq!(
            check_result(&result, 5, 0, 3, 4).1,
            Some(ResultError::WrongBlockCount {
                expected: 3,
                got: 2
            })
        );
    }
}
