//! The closed sets a report stores: what a run ended in, why a part failed, what a part
//! expects, how a run sent. Reporters and advice tables match on these, never on strings, so a
//! new kind cannot be forgotten by one of them, and the JSON spells each as it always did.

pub use crate::config::Expect;
pub use crate::judge::outcome::OutcomeKind;
use crate::judge::part::Failure;
pub use mpi_grade_protocol::run::Mode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a part failed, as the report says it: the deciding cell's outcome, or a reason of the
/// part's own. Serialised as its name (`"deadlock"`, `"no-deadlock"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// A cell's outcome decided (never [`OutcomeKind::Pass`]).
    Outcome(OutcomeKind),
    /// A part expected to deadlock completed at every size of some rank count.
    NoDeadlock,
    /// The submission (or the part's function) does not build.
    BuildError,
    /// The part called an MPI function it may not use, or not one it must use.
    ForbiddenCall,
    /// The part was slower than its performance target allows.
    TooSlow,
}

impl FailureKind {
    /// The part was not graded: the grade was interrupted.
    pub const NOT_RUN: FailureKind = FailureKind::Outcome(OutcomeKind::NotRun);

    /// Every kind a report can give (every outcome but a pass), in the order the report's
    /// documentation lists them.
    pub const ALL: [FailureKind; 12] = [
        FailureKind::Outcome(OutcomeKind::Deadlock),
        FailureKind::Outcome(OutcomeKind::Hang),
        FailureKind::Outcome(OutcomeKind::CallMismatch),
        FailureKind::Outcome(OutcomeKind::Crash),
        FailureKind::Outcome(OutcomeKind::WrongResult),
        FailureKind::Outcome(OutcomeKind::NotImplemented),
        FailureKind::Outcome(OutcomeKind::Timeout),
        FailureKind::NoDeadlock,
        FailureKind::ForbiddenCall,
        FailureKind::BuildError,
        FailureKind::TooSlow,
        FailureKind::NOT_RUN,
    ];

    /// The name in reports and JSON (the serialised value).
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Outcome(outcome) => outcome.name(),
            FailureKind::NoDeadlock => "no-deadlock",
            FailureKind::BuildError => "build-error",
            FailureKind::ForbiddenCall => "forbidden-call",
            FailureKind::TooSlow => "too-slow",
        }
    }

    /// Whether a run that ended in `outcome` is one of the runs that decided this failure.
    pub fn decided_by(self, outcome: OutcomeKind) -> bool {
        self == FailureKind::Outcome(outcome)
    }
}

impl Serialize for FailureKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for FailureKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FailureKind, D::Error> {
        let name = String::deserialize(deserializer)?;
        FailureKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("no failure is named {name:?}")))
    }
}

impl From<&Failure> for FailureKind {
    fn from(failure: &Failure) -> FailureKind {
        match failure {
            Failure::Outcome(name) => FailureKind::Outcome(
                OutcomeKind::from_name(name).expect("a verdict names its outcome by its kind"),
            ),
            Failure::NoDeadlock => FailureKind::NoDeadlock,
            Failure::BuildError => FailureKind::BuildError,
            Failure::ForbiddenCall => FailureKind::ForbiddenCall,
            Failure::TooSlow => FailureKind::TooSlow,
        }
    }
}

/// Serialises what a part expects as `challenges.toml` writes it (`"complete"`, `"deadlock"`).
pub(super) fn expect_name<S: Serializer>(
    expect: &Expect,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(expect.as_str())
}

/// Reads what a part expects back from its name (a report read by `mpi-grade merge`).
pub(super) fn expect_from_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Expect, D::Error> {
    let name = String::deserialize(deserializer)?;
    [Expect::Complete, Expect::Deadlock]
        .into_iter()
        .find(|e| e.as_str() == name)
        .ok_or_else(|| serde::de::Error::custom(format!("a part expects no {name:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: &impl Serialize) -> String {
        serde_json::to_string(value).unwrap()
    }

    /// The strings the report wrote before it carried enums: a renamed variant must not change
    /// the JSON.
    #[test]
    fn every_kind_serialises_as_the_string_the_report_always_wrote() {
        let failures: Vec<String> = FailureKind::ALL.iter().map(json).collect();
        let expected = [
            "deadlock",
            "hang",
            "call-mismatch",
            "crash",
            "wrong-result",
            "not-implemented",
            "timeout",
            "no-deadlock",
            "forbidden-call",
            "build-error",
            "too-slow",
            "not-run",
        ];
        assert_eq!(failures, expected.map(|s| format!("\"{s}\"")));
        for kind in FailureKind::ALL {
            assert_eq!(json(&kind), format!("\"{}\"", kind.name()));
        }
        assert_eq!(json(&Mode::Standard), "\"standard\"");
        assert_eq!(json(&Mode::ZeroBuffer), "\"zero-buffer\"");
        #[derive(Serialize)]
        struct Part {
            #[serde(serialize_with = "expect_name")]
            expect: Expect,
        }
        let expect = |expect| json(&Part { expect });
        assert_eq!(expect(Expect::Complete), r#"{"expect":"complete"}"#);
        assert_eq!(expect(Expect::Deadlock), r#"{"expect":"deadlock"}"#);
    }

    #[test]
    fn a_verdicts_failure_becomes_the_same_kind() {
        let cases = [
            (Failure::Outcome("deadlock"), "deadlock"),
            (Failure::Outcome("not-run"), "not-run"),
            (Failure::NoDeadlock, "no-deadlock"),
            (Failure::BuildError, "build-error"),
            (Failure::ForbiddenCall, "forbidden-call"),
            (Failure::TooSlow, "too-slow"),
        ];
        for (failure, name) in cases {
            assert_eq!(FailureKind::from(&failure).name(), failure.name());
            assert_eq!(FailureKind::from(&failure).name(), name);
        }
        assert!(FailureKind::Outcome(OutcomeKind::Hang).decided_by(OutcomeKind::Hang));
        assert!(!FailureKind::NoDeadlock.decided_by(OutcomeKind::Pass));
    }
}
