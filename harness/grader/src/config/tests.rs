use super::*;
use crate::error::{Error, Result};
use crate::mpi::{Choice, Runner};
use mpi_grade_protocol::run::Mode;
use mpi_grade_protocol::trace::Func;
use std::path::Path;

fn parse(text: &str) -> Result<Config> {
    Config::parse(text, Path::new("challenges.toml"))
}

fn error_at(text: &str) -> (usize, usize, String) {
    match parse(text) {
        Err(Error::Config {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected a config error, got {other:?}"),
    }
}

const MINIMAL: &str = r#"
format_version = 1
[[challenge]]
name = "alltoall"
kind = "alltoall"
ranks = [4, 2]
scaling_factors = [10, 1]
[[challenge.part]]
name = "part1"
expect = "deadlock"
points = 1
"#;

#[test]
fn the_bundled_file_is_valid_and_has_the_three_parts() {
    let config = Config::bundled();
    let c = config.challenge(None).unwrap();
    assert_eq!(c.kind, Kind::Alltoall);
    assert_eq!(c.ranks, vec![2, 3, 4, 5, 8]);
    assert_eq!(c.scaling_factors, vec![1, 10, 100, 1000, 10000, 100000]);
    let names: Vec<_> = c.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["part1", "part2", "part3"]);
    assert_eq!(c.parts[0].expect, Expect::Deadlock);
    assert_eq!(c.parts[1].expect, Expect::Complete);
    assert!(c.zero_buffer);
    let allowed = |i: usize| c.parts[i].allowed_calls.clone().unwrap();
    assert!(allowed(1).contains(&Func::Send) && !allowed(1).contains(&Func::Sendrecv));
    assert!(!allowed(2).contains(&Func::Alltoall) && !allowed(2).contains(&Func::Send));
    assert_eq!(c.parts[2].required_calls, vec![Func::Isend]);
}

#[test]
fn submission_policies_default_and_are_checked_where_written() {
    let c = parse(MINIMAL).unwrap().challenges.remove(0);
    assert_eq!(c.submission, crate::build::intake::Policy::default());
    assert_eq!(
        Config::bundled().challenges[0].submission,
        crate::build::intake::Policy::default()
    );
    let with = |table: &str| {
        MINIMAL.replace(
            "[[challenge.part]]",
            &format!("[challenge.submission]\n{table}\n[[challenge.part]]"),
        )
    };
    let c = parse(&with(
        "dependencies = [\"mpi\", \"rayon\"]\nbuild_script = true",
    ))
    .unwrap()
    .challenges
    .remove(0);
    assert_eq!(c.submission.dependencies, ["mpi", "rayon"]);
    assert!(c.submission.build_script && c.submission.forbid_unsafe);
    let (line, column, message) = error_at(&with("dependencies = [\"rayon\"]"));
    assert_eq!((line, column), (9, 16), "{message}");
    assert!(message.contains("must include \"mpi\""), "{message}");
    let (line, _, message) = error_at(&with("dependencies = [\"mpi\", \"no way\"]"));
    assert_eq!(line, 9);
    assert!(
        message.contains("`no way` is not a crate name"),
        "{message}"
    );
    let (line, _, message) = error_at(&with("unsafe = true"));
    assert_eq!(line, 9);
    assert!(message.contains("unsafe"), "{message}");
}

#[test]
fn unknown_call_names_are_rejected_where_they_are() {
    let text = MINIMAL.replace(
        "points = 1",
        "points = 1\nallowed_calls = [\"MPI_Send\", \"MPI_Snd\"]",
    );
    let (line, column, message) = error_at(&text);
    assert_eq!((line, column), (12, 30), "{message}");
    assert!(message.contains("`MPI_Snd`"), "{message}");
    let text = MINIMAL.replace(
        "points = 1",
        "points = 1\nallowed_calls = [\"MPI_Send\"]\nrequired_calls = [\"MPI_Isend\"]",
    );
    let (_, _, message) = error_at(&text);
    assert!(
        message.contains("requires MPI_Isend but does not allow it"),
        "{message}"
    );
}

#[test]
fn a_minimal_file_gets_defaults_and_sorted_lists() {
    let config = parse(MINIMAL).unwrap();
    let c = &config.challenges[0];
    assert_eq!(c.ranks, vec![2, 4]);
    assert_eq!(c.scaling_factors, vec![1, 10]);
    assert_eq!(c.limits, Limits::default());
    assert_eq!(c.parts[0].function, "part1");
    assert_eq!(c.select_part("1").unwrap().name, "part1");
    assert_eq!(c.select_part("part1").unwrap().name, "part1");
    assert!(c.select_part("7").is_none());
}

#[test]
fn syntax_errors_have_line_and_column() {
    let (line, column, message) = error_at("format_version = 1\n[[challenge]\nname = 1\n");
    assert_eq!((line, column), (2, 13), "{message}");
}

#[test]
fn unknown_keys_are_errors_at_the_key() {
    let text = MINIMAL.replace("points = 1", "points = 1\npionts = 2");
    let (line, _, message) = error_at(&text);
    assert_eq!(line, 12);
    assert!(message.contains("pionts"), "{message}");
}

#[test]
fn rank_counts_below_two_are_rejected_where_they_are() {
    let (line, column, message) = error_at(&MINIMAL.replace("[4, 2]", "[4, 1]"));
    assert_eq!((line, column), (6, 9));
    assert!(message.contains("rank count 1"), "{message}");
    let (_, _, message) = error_at(&MINIMAL.replace("[4, 2]", "[]"));
    assert!(message.contains("at least one"), "{message}");
}

#[test]
fn bad_values_are_rejected() {
    for (from, to, needle) in [
        (
            "kind = \"alltoall\"",
            "kind = \"ring\"",
            "unknown challenge kind",
        ),
        (
            "expect = \"deadlock\"",
            "expect = \"hang\"",
            "expect must be",
        ),
        ("points = 1", "points = -1", "points must be"),
        ("[10, 1]", "[10, 0]", "out of range"),
        ("[10, 1]", "[10]", "at least two scaling factors"),
        ("format_version = 1", "format_version = 2", "not supported"),
        ("name = \"part1\"", "name = \"part 1\"", "identifier"),
    ] {
        let (_, _, message) = error_at(&MINIMAL.replace(from, to));
        assert!(message.contains(needle), "{to}: {message}");
    }
    let (_, _, message) = error_at(&format!("{MINIMAL}[challenge.limits]\ncell_seconds = -3\n"));
    assert!(message.contains("positive"), "{message}");
}

#[test]
fn visibility_defaults_to_visible_and_bad_values_are_located() {
    assert_eq!(
        parse(MINIMAL).unwrap().challenges[0].parts[0].visibility,
        Visibility::Visible
    );
    for v in Visibility::ALL {
        let text = MINIMAL.replace(
            "points = 1",
            &format!("points = 1\nvisibility = \"{}\"", v.as_str()),
        );
        assert_eq!(parse(&text).unwrap().challenges[0].parts[0].visibility, v);
    }
    let text = MINIMAL.replace("points = 1", "points = 1\nvisibility = \"secret\"");
    let (line, column, message) = error_at(&text);
    assert_eq!((line, column), (12, 14), "{message}");
    assert!(
        message.contains("visibility must be one of \"visible\", \"hidden\", \"after_due_date\", \"after_published\", not \"secret\""),
        "{message}"
    );
}

#[test]
fn sandbox_limits_have_defaults_and_are_checked_where_they_are() {
    let c = &parse(MINIMAL).unwrap().challenges[0];
    assert_eq!(c.sandbox, crate::sandbox::limits::SandboxLimits::default());
    let text = format!(
        "{MINIMAL}[challenge.sandbox.ranks]\nmemory_mb = 1024\n[challenge.sandbox.build]\ncpu_seconds = 60\n"
    );
    let c = &parse(&text).unwrap().challenges[0];
    assert_eq!(c.sandbox.ranks.memory_mb, 1024);
    assert_eq!(c.sandbox.build.cpu_seconds, 60);
    assert_eq!(c.sandbox.ranks.cpu_seconds, 600);
    let (line, column, message) = error_at(&text.replace("1024", "-5"));
    assert_eq!((line, column), (13, 13), "{message}");
    assert!(message.contains("sandbox.ranks.memory_mb must be a positive integer"));
    let (_, _, message) = error_at(&text.replace("1024", "16"));
    assert!(message.contains("too small"), "{message}");
    let (_, _, message) = error_at(&text.replace("memory_mb", "memroy_mb"));
    assert!(message.contains("memroy_mb"), "{message}");
}

#[test]
fn performance_targets_name_a_baseline() {
    let text = MINIMAL.replace("expect = \"deadlock\"", "expect = \"complete\"")
        + "[challenge.part.performance]\nbaseline = \"MPI_Alltoall\"\nmax_ratio = 3\n";
    let part = &parse(&text).unwrap().challenges[0].parts[0];
    assert_eq!(
        part.performance,
        Some(Performance {
            baseline: Baseline::MpiAlltoall,
            max_ratio: 3.0
        })
    );
    let (_, _, message) = error_at(&text.replace("MPI_Alltoall", "MPI_Bcast"));
    assert!(
        message.contains("unknown baseline `MPI_Bcast`"),
        "{message}"
    );
    let (_, _, message) = error_at(&text.replace("max_ratio = 3", "max_ratio = 0.5"));
    assert!(message.contains("max_ratio must be"), "{message}");
}

#[test]
fn credit_groups_are_checked_against_the_matrix() {
    let text = MINIMAL.replace("points = 1", "points = 3")
        + "[[challenge.part.credit]]\nranks = [2]\npoints = 1\n"
        + "[[challenge.part.credit]]\nname = \"no buffering\"\nmode = \"zero-buffer\"\npoints = 0.5\n";
    let part = &parse(&text).unwrap().challenges[0].parts[0];
    let names: Vec<&str> = part.credit.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["2 ranks", "no buffering"]);
    assert!(part.credit[0].covers(2, 10, Mode::ZeroBuffer));
    assert!(!part.credit[0].covers(4, 10, Mode::Standard));
    assert!(!part.credit[1].covers(2, 1, Mode::Standard));

    for (from, to, needle, line) in [
        (
            "ranks = [2]",
            "ranks = [3]",
            "3 ranks, which the challenge does not run",
            13,
        ),
        (
            "points = 0.5",
            "points = 2.5",
            "give 3.5 points, more than its 3",
            11,
        ),
        ("\"zero-buffer\"", "\"eager\"", "mode must be", 17),
        ("ranks = [2]", "ranks = []", "covers no run", 14),
        ("ranks = [2]", "scaling_factors = [10]", "not sizes", 13),
    ] {
        let (at_line, _, message) = error_at(&text.replace(from, to));
        assert!(message.contains(needle), "{to}: {message}");
        assert_eq!(at_line, line, "{to}: {message}");
    }
}

#[test]
fn the_mpi_implementation_can_be_chosen() {
    assert_eq!(parse(MINIMAL).unwrap().mpi, Choice::Auto);
    let text = MINIMAL.replace(
        "format_version = 1",
        "format_version = 1\n[launch]\nmpi = \"mpich\"",
    );
    assert_eq!(
        parse(&text).unwrap().mpi,
        Choice::Only(crate::mpi::Implementation::Mpich)
    );
    let (_, _, message) = error_at(&text.replace("\"mpich\"", "\"lam\""));
    assert!(message.contains("mpi must be"), "{message}");
}

#[test]
fn launchers_for_clusters_are_configured() {
    let text = MINIMAL.replace(
        "format_version = 1",
        "format_version = 1\n[launch]\nlauncher = \"srun\"",
    );
    assert_eq!(parse(&text).unwrap().runner, Runner::Srun);
    let text = MINIMAL.replace(
        "format_version = 1",
        "format_version = 1\n[launch]\nhostfile = \"hosts\"",
    );
    assert_eq!(
        parse(&text).unwrap().runner,
        Runner::Hostfile("hosts".into())
    );
    let text = MINIMAL.replace(
        "format_version = 1",
        "format_version = 1\n[launch]\nlauncher = \"qsub\"",
    );
    assert!(error_at(&text).2.contains("launcher must be"));
}

#[test]
fn several_challenges_need_a_choice() {
    let two = format!(
        "{MINIMAL}{}",
        MINIMAL
            .replace("format_version = 1", "")
            .replace("\"alltoall\"\nkind", "\"other\"\nkind")
    );
    let config = parse(&two).unwrap();
    assert_eq!(config.challenges.len(), 2);
    assert!(config.challenge(None).is_err());
    assert_eq!(config.challenge(Some("other")).unwrap().name, "other");
    assert!(config.challenge(Some("nope")).is_err());
}

#[test]
fn baselines_keep_the_names_reports_and_files_use() {
    let named: Vec<(&str, &str)> = Baseline::ALL
        .iter()
        .map(|b| (b.name(), b.description()))
        .collect();
    assert_eq!(
        named,
        [
            (
                "reference-part2",
                "ordered Send/Recv pairs (reference part 2)"
            ),
            (
                "reference-part3",
                "Isend to all, then Recv (reference part 3)"
            ),
            ("MPI_Alltoall", "the library's MPI_Alltoall"),
            (
                "python-reference-part2",
                "the same pairs in Python (mpi4py, Python reference part 2)"
            ),
            (
                "python-reference-part3",
                "Isend to all in Python (mpi4py, Python reference part 3)"
            ),
        ]
    );
    for b in Baseline::ALL {
        assert_eq!(Baseline::parse(b.name()), Some(b));
    }
    assert_eq!(Baseline::parse("mpi_alltoall"), None);
}

#[test]
fn kinds_sections_and_the_default_challenge() {
    let text = format!(
        "{}{}",
        MINIMAL.replace("format_version = 1", "format_version = 1\ndefault = \"sr\""),
        r#"
[[challenge]]
name = "sr"
kind = "send-recv"
section = "send and recv"
ranks = [2]
scaling_factors = [1]
[[challenge.part]]
name = "plain"
expect = "complete"
points = 1
[[challenge.part]]
name = "reduced"
kind = "bcast-reduce-max"
expect = "complete"
points = 1
"#
    );
    let config = parse(&text).unwrap();
    // Several challenges: the default is the one graded without --challenge.
    let c = config.challenge(None).unwrap();
    assert_eq!((c.name.as_str(), c.kind), ("sr", Kind::SendRecv));
    assert_eq!(c.section, "send and recv");
    assert_eq!(c.parts[0].kind, Kind::SendRecv);
    assert_eq!(c.parts[1].kind, Kind::BcastReduce(Op::Max));
    let (_, _, message) = error_at(&text.replace("default = \"sr\"", "default = \"nope\""));
    assert!(message.contains("default names no challenge"), "{message}");
    let (_, _, message) = error_at(&text.replace("\"bcast-reduce-max\"", "\"ring\""));
    assert!(
        message.contains("known: alltoall, send-recv, bcast-reduce"),
        "{message}"
    );
    let (_, _, message) = error_at(&text.replace("name = \"sr\"", "name = \"s r\""));
    assert!(message.contains("challenge name `s r`"), "{message}");
    // Without a default, a file of several challenges needs --challenge.
    let without = parse(&text.replace("default = \"sr\"\n", "")).unwrap();
    assert!(without.challenge(None).is_err());
    assert_eq!(without.challenge(Some("sr")).unwrap().name, "sr");
}
