//! The sentence a part 1 verdict gets from the probe: what this MPI buffers, which is why the
//! naive alltoall deadlocks where it does. The probe measures (`run::probe`); this explains.

use crate::judge::outcome::thousands;
use crate::run::probe::{EagerLimit, ProbeReport};

/// The sentence a part 1 verdict gets: what this MPI buffers, between ranks and to itself.
pub fn explain_buffering(report: &ProbeReport) -> String {
    let t = thousands;
    let limit = |e: &EagerLimit| match e.deadlocks {
        Some(_) => format!("{} B ({} elements)", t(e.bytes), t(e.completes)),
        None => format!("at least {} B", t(e.bytes)),
    };
    format!(
        "{} {} buffers a standard send of up to {} to another rank here, and of up to {} to itself; a larger one waits for its matching receive",
        report.implementation,
        report.version,
        limit(&report.eager_between_ranks),
        limit(&report.eager)
    )
}

/// The probe of Open MPI 4.1.4 on a small machine, for tests.
#[cfg(test)]
pub(crate) fn sample() -> ProbeReport {
    ProbeReport {
        format_version: 1,
        implementation: "Open MPI".into(),
        version: "4.1.4".into(),
        library: None,
        startup_seconds: 0.1,
        eager: EagerLimit {
            completes: 121,
            deadlocks: Some(122),
            bytes: 968,
            launches: 3,
        },
        eager_between_ranks: EagerLimit {
            completes: 505,
            deadlocks: Some(506),
            bytes: 4040,
            launches: 4,
        },
        zero_buffer: EagerLimit {
            completes: 0,
            deadlocks: Some(1),
            bytes: 0,
            launches: 1,
        },
        key: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffering_sentence_names_bytes_and_elements() {
        assert_eq!(
            explain_buffering(&sample()),
            "Open MPI 4.1.4 buffers a standard send of up to 4 040 B (505 elements) to another rank here, and of up to 968 B (121 elements) to itself; a larger one waits for its matching receive"
        );
        let mut unlimited = sample();
        unlimited.eager.deadlocks = None;
        assert!(explain_buffering(&unlimited).contains("of up to at least 968 B to itself"));
    }
}
