//! `mpi-grade check`: what a verdict means to a student, what to look at next, and where the
//! tutorial ("An Introduction to MPI in Python", part 1) covers it.

use crate::report::{Expect, FailureKind, Mode, OutcomeKind, PartReport};

/// Advice on one failed part.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// What the verdict means, in a sentence or two.
    pub meaning: &'static str,
    /// What to look at or try next.
    pub next: &'static str,
    /// The tutorial section that covers it.
    pub tutorial: &'static str,
}

const BLOCKING: &str =
    "\"Blocking and non-blocking calls\", then the \"Challenge\" (parts 2 and 3)";

/// A part that must complete deadlocked only with nothing buffered (zero-buffer mode).
const ONLY_WITHOUT_BUFFERING: Advice = Advice {
    meaning: "Your part completes at every size here, but only because this MPI buffers \
              small messages: with every send made synchronous (zero-buffer mode), its \
              sends wait for receives that are never posted. Another MPI, or a larger \
              message, would deadlock.",
    next: "Follow the cycle in the diagnosis: two ranks send to each other first. Order \
           each exchange so that one side receives while the other sends (for example, \
           the lower rank sends first), or use non-blocking sends (part 3).",
    tutorial: BLOCKING,
};

/// A part that must deadlock completed at every size.
const NO_DEADLOCK: Advice = Advice {
    meaning: "Part 1 must deadlock once messages are large, and yours completed at every \
              size: something in it lets every send finish before its receive is posted.",
    next: "Send every block with a blocking send first (comm.process_at_rank(d).send(..)), \
           then receive them all. Blocking sends of large messages only return once the \
           receiver takes them, so every rank ends up waiting in a send. Avoid \
           non-blocking calls and Sendrecv here.",
    tutorial: "\"Challenge\", part 1: \"WITH a deadlock ... for sufficiently large messages\"",
};

/// A part that must deadlock did so already at the smallest size.
const EARLY_DEADLOCK: Advice = Advice {
    meaning: "Part 1 must work for small messages and deadlock only for large ones; yours \
              deadlocked already at the smallest size.",
    next: "Small messages are buffered by MPI, so a send-everything-then-receive \
           alltoall completes with them. A deadlock at one element usually means a \
           receive is posted before the matching send (receive first on every rank).",
    tutorial: BLOCKING,
};

/// A part deadlocked (for a part that must deadlock: not only at the smallest size).
const DEADLOCK: Advice = Advice {
    meaning: "Every rank in the cycle waits in a blocking call for another rank that is \
              itself waiting: none can go on.",
    next: "Read the cycle in the diagnosis (which rank waits for which, at which line). \
           Pair the ranks so that in every exchange one side receives while the other \
           sends, and check it for odd and even rank counts.",
    tutorial: BLOCKING,
};

/// A rank stayed outside MPI.
const HANG: Advice = Advice {
    meaning: "One rank stayed outside MPI (a loop, a sleep, waiting for input) while the \
              others waited for it.",
    next: "Look at the line named for that rank: a loop whose end depends on a message \
           that never comes, or a rank that skipped a send the others expect.",
    tutorial: "\"The Basic Terminology\": every send needs a matching receive",
};

/// Ranks' calls do not match: collectives called differently, a message larger than its
/// receive, a send and receive of different datatypes, or a message never received.
const CALL_MISMATCH: Advice = Advice {
    meaning: "The ranks' calls do not match, although the library let them pass: two ranks \
              made different collective calls at the same point (another function, root, \
              operation or amount of data), or a message and its receive disagree (the \
              receive's buffer is too small, or its datatype is another one), or a message \
              was sent and never received. The explanation says which.",
    next: "Every rank must call the same collectives on a communicator in the same order \
           (look for a collective inside an `if` on the rank) with the root, operation and \
           counts alike; every send needs one receive with the same datatype and a buffer \
           at least as large, before MPI_Finalize.",
    tutorial: "the MPI standard, \"Collective Communication\" and \"Type Matching Rules\"",
};

/// A rank stopped before returning.
const CRASH: Advice = Advice {
    meaning: "A rank stopped before returning: a panic, an exit, or an MPI error. MPI \
              then takes the other ranks down.",
    next: "Read the output below the verdict: the panic message and its line. Indexing \
           out of range with the rank or the size is a common cause.",
    tutorial: "\"The Basic Terminology\"",
};

/// Some block is wrong.
const WRONG_RESULT: Advice = Advice {
    meaning: "The function returned, but some block is not what its sender sent: \
              misrouted, reordered, truncated or from an earlier call.",
    next: "values[i] is the block this rank sends to rank i, and the result's element i \
           must be the block received from rank i (the rank's own block included). \
           Receive from a specific source rather than any source.",
    tutorial: "\"Challenge\": the scaffolding's ground_truth",
};

/// The function is still `todo!()`.
const NOT_IMPLEMENTED: Advice = Advice {
    meaning: "The function still calls todo!().",
    next: "Replace the todo!() with your alltoall; the doc comment above it restates the \
           task.",
    tutorial: "\"Challenge\"",
};

/// Slower than the time limit, but making progress.
const TIMEOUT: Advice = Advice {
    meaning: "A call took longer than the time limit while ranks kept making progress: \
              too slow rather than stuck.",
    next: "Look for work that grows with the square of the message size, or exchanges \
           done one pair at a time while the other ranks wait.",
    tutorial: "\"Blocking and non-blocking calls\" (the timing example)",
};

/// An MPI call the rules do not allow, or a missing one.
const FORBIDDEN_CALL: Advice = Advice {
    meaning: "The part uses an MPI call its rules do not allow, or misses one it must use.",
    next: "Part 1 and 2: blocking send and receive only (send, receive, receive_vec). \
           Part 3: immediate_send (MPI_Isend) to every peer, blocking receives, then wait \
           for the sends. The verdict names the call and its line.",
    tutorial: "\"Challenge\": \"while only using Send/Recv\", \"using Isend/Recv\"",
};

/// The crate does not build.
const BUILD_ERROR: Advice = Advice {
    meaning: "The crate does not compile, or a part's function is missing or has another \
              signature.",
    next: "Read the compiler's message; each part must be `pub fn partN(comm: \
           &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>>` in src/lib.rs.",
    tutorial: "the starter crate (mpi-grade new DIR)",
};

/// A Python part still raises `NotImplementedError`.
const NOT_IMPLEMENTED_PYTHON: Advice = Advice {
    meaning: "The function still raises NotImplementedError.",
    next: "Replace the raise with your alltoall; the comment above it restates the task.",
    tutorial: "\"Challenge\"",
};

/// A Python call the part does not allow.
const FORBIDDEN_CALL_PYTHON: Advice = Advice {
    meaning: "The part uses an MPI call its rules do not allow, or misses one it must use.",
    next: "Part 1 and 2: comm.Send / comm.Recv (or send / recv) only. Part 3: comm.Isend to \
           every peer, blocking comm.Recv, then MPI.Request.Waitall on the sends. The verdict \
           names the MPI function behind the mpi4py call.",
    tutorial: "\"Challenge\": \"while only using Send/Recv\", \"using Isend/Recv\"",
};

/// A Python submission that cannot be imported or lacks a part.
const BUILD_ERROR_PYTHON: Advice = Advice {
    meaning: "A file does not parse, imports a module that is not there, runs the exchange \
              when imported, or a part's function is missing or takes other parameters.",
    next: "Fix the file and line the verdict names; each part must be `def partN(comm, \
           values)` at the top level of alltoall.py (or `def alltoall(comm, values)` in \
           partN.py), with test code under `if __name__ == \"__main__\":`.",
    tutorial: "the starter (mpi-grade new --python DIR)",
};

/// Slower than the performance target.
const TOO_SLOW: Advice = Advice {
    meaning: "The part is correct but slower than the course's target against a baseline.",
    next: "Compare your times with the references in the comparison table: exchanges \
           that keep every rank busy at once are faster than one pair at a time.",
    tutorial: "\"Blocking and non-blocking calls\"",
};

/// Advice for a failed part of a submission in `language` (`rust` or `python`): `None` when it
/// passed or the failure is not the student's.
pub fn advise_in(part: &PartReport, language: &str) -> Option<&'static Advice> {
    let advice = advise(part)?;
    if language != "python" {
        return Some(advice);
    }
    Some(match part.failure? {
        FailureKind::Outcome(OutcomeKind::NotImplemented) => &NOT_IMPLEMENTED_PYTHON,
        FailureKind::ForbiddenCall => &FORBIDDEN_CALL_PYTHON,
        FailureKind::BuildError => &BUILD_ERROR_PYTHON,
        _ => advice,
    })
}

/// Advice for a failed part (`None` when it passed or the failure is not the student's).
pub fn advise(part: &PartReport) -> Option<&'static Advice> {
    let failure = part.failure?;
    let must_deadlock = part.expect == Expect::Deadlock;
    let only_without_buffering = !must_deadlock
        && failure == FailureKind::Outcome(OutcomeKind::Deadlock)
        && part
            .runs
            .iter()
            .filter(|r| r.outcome == OutcomeKind::Deadlock)
            .all(|r| r.mode == Mode::ZeroBuffer);
    if only_without_buffering {
        return Some(&ONLY_WITHOUT_BUFFERING);
    }
    // Every kind is named: a new one must be given its advice (or none, said so) here.
    let advice = match failure {
        FailureKind::NoDeadlock if must_deadlock => &NO_DEADLOCK,
        FailureKind::Outcome(OutcomeKind::Deadlock) if must_deadlock => &EARLY_DEADLOCK,
        FailureKind::Outcome(OutcomeKind::Deadlock) => &DEADLOCK,
        FailureKind::Outcome(OutcomeKind::Hang) => &HANG,
        FailureKind::Outcome(OutcomeKind::CallMismatch) => &CALL_MISMATCH,
        FailureKind::Outcome(OutcomeKind::Crash) => &CRASH,
        FailureKind::Outcome(OutcomeKind::WrongResult) => &WRONG_RESULT,
        FailureKind::Outcome(OutcomeKind::NotImplemented) => &NOT_IMPLEMENTED,
        FailureKind::Outcome(OutcomeKind::Timeout) => &TIMEOUT,
        FailureKind::ForbiddenCall => &FORBIDDEN_CALL,
        FailureKind::BuildError => &BUILD_ERROR,
        FailureKind::TooSlow => &TOO_SLOW,
        // A part that must complete cannot fail for not deadlocking; an interrupted grade and
        // a pass are not the student's failures.
        FailureKind::NoDeadlock
        | FailureKind::Outcome(OutcomeKind::NotRun)
        | FailureKind::Outcome(OutcomeKind::Pass) => return None,
    };
    Some(advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    const DEADLOCK_FAILURE: Option<FailureKind> = Some(FailureKind::Outcome(OutcomeKind::Deadlock));

    fn part(
        expect: Expect,
        failure: Option<FailureKind>,
        runs: &[(Mode, OutcomeKind)],
    ) -> PartReport {
        let mut part = sample::part("part2", "", expect, 1.0);
        part.passed = failure.is_none();
        part.failure = failure;
        part.runs = runs
            .iter()
            .map(|&(mode, outcome)| sample::run(2, 1, mode, outcome))
            .collect();
        part
    }

    #[test]
    fn advice_follows_the_failure_and_what_the_part_expects() {
        assert_eq!(advise(&part(Expect::Complete, None, &[])), None);
        let no_deadlock =
            advise(&part(Expect::Deadlock, Some(FailureKind::NoDeadlock), &[])).unwrap();
        assert!(no_deadlock.next.contains("blocking send first"));
        let early = advise(&part(Expect::Deadlock, DEADLOCK_FAILURE, &[])).unwrap();
        assert!(early.meaning.contains("smallest size"));
        let cycle = advise(&part(
            Expect::Complete,
            DEADLOCK_FAILURE,
            &[
                (Mode::Standard, OutcomeKind::Deadlock),
                (Mode::ZeroBuffer, OutcomeKind::Deadlock),
            ],
        ))
        .unwrap();
        assert!(cycle.meaning.contains("Every rank in the cycle"));
        let buffered = advise(&part(
            Expect::Complete,
            DEADLOCK_FAILURE,
            &[
                (Mode::Standard, OutcomeKind::Pass),
                (Mode::ZeroBuffer, OutcomeKind::Deadlock),
            ],
        ))
        .unwrap();
        assert!(buffered.meaning.contains("only because this MPI buffers"));
    }

    #[test]
    fn every_failure_a_report_can_give_has_advice() {
        for failure in FailureKind::ALL {
            for expect in [Expect::Complete, Expect::Deadlock] {
                let advice = advise(&part(expect, Some(failure), &[]));
                let none = failure == FailureKind::NOT_RUN
                    || (failure == FailureKind::NoDeadlock && expect == Expect::Complete);
                assert_eq!(advice.is_none(), none, "{failure:?} {expect:?}");
            }
        }
    }
}
