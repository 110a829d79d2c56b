//! The performance rule: a part that works but is too slow against its baseline fails as
//! `too-slow`. The measuring is `run::compare`'s; this decides.

use crate::judge::outcome::thousands;
use crate::run::compare::Comparison;

/// A part's performance failure: its time over the baseline's above `max_ratio` at the largest
/// size of some rank count (smaller sizes are dominated by noise).
pub fn too_slow(
    comparison: &Comparison,
    part: &str,
    baseline: &str,
    max_ratio: f64,
) -> Option<String> {
    let largest = comparison
        .rows
        .iter()
        .filter(|r| r.part == part)
        .map(|r| r.scaling_factor)
        .max()?;
    comparison
        .rows
        .iter()
        .filter(|r| r.part == part && r.scaling_factor == largest)
        .find_map(|r| {
            let a = r.against.iter().find(|a| a.baseline == baseline)?;
            (a.ratio > max_ratio).then(|| {
                format!(
                    "at {} ranks, {} elements per block, it took {:.1}× as long as {baseline} (at most {max_ratio}×)",
                    r.ranks,
                    thousands(r.scaling_factor),
                    a.ratio
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::compare::{Against, Row};

    fn row(ranks: u32, sf: u64, ratio: f64) -> Row {
        Row {
            part: "part2".into(),
            ranks,
            scaling_factor: sf,
            seconds: ratio,
            messages: Some(4),
            bytes: Some(32),
            against: vec![Against {
                baseline: "MPI_Alltoall".into(),
                seconds: 1.0,
                ratio,
                messages: 0,
                bytes: 32,
            }],
        }
    }

    #[test]
    fn only_the_largest_size_decides_a_performance_failure() {
        let comparison = Comparison {
            repetitions: 3,
            baselines: vec![],
            rows: vec![row(2, 10, 9.0), row(2, 1000, 1.5), row(4, 1000, 3.5)],
        };
        assert_eq!(too_slow(&comparison, "part2", "MPI_Alltoall", 4.0), None);
        let why = too_slow(&comparison, "part2", "MPI_Alltoall", 3.0).unwrap();
        assert!(
            why.starts_with(
                "at 4 ranks, 1 000 elements per block, it took 3.5× as long as MPI_Alltoall"
            ),
            "{why}"
        );
        assert_eq!(too_slow(&comparison, "part3", "MPI_Alltoall", 3.0), None);
    }
}
