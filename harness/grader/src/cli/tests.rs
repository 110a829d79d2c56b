use super::args::{parse_seconds, parse_seed, Cli, ColorChoice, Command};
use super::output::use_color;
use super::request;
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use std::path::Path;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("mpi-grade").chain(args.iter().copied()))
}

/// The kind of error the command line `args` gets, from clap or from the request step.
fn refused(args: &[&str]) -> ErrorKind {
    match parse(args) {
        Err(e) => e.kind(),
        Ok(cli) => request::usage(&cli).expect_err("accepted").kind(),
    }
}

fn accepted(args: &[&str]) {
    let cli = parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    request::usage(&cli).unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

#[test]
fn seeds_parse_in_decimal_and_hex() {
    assert_eq!(parse_seed("42"), Ok(42));
    assert_eq!(parse_seed("0xff"), Ok(255));
    assert!(parse_seed("x").is_err());
    // The report's seed_string, bare or as jq prints a JSON string; above 2^53 exactly.
    assert_eq!(parse_seed("16045690984503098046"), Ok(16045690984503098046));
    assert_eq!(
        parse_seed("\"16045690984503098046\""),
        Ok(16045690984503098046)
    );
    assert!(parse_seed("\"42").is_err());
    assert!(parse_seed("18446744073709551616").is_err());
    // What a double-rounding reader prints for a seed above 2^53 is refused, not truncated.
    assert!(parse_seed("1.6045690984503098e19").is_err());
}

#[test]
fn seconds_must_be_positive_and_finite() {
    assert_eq!(parse_seconds("2.5"), Ok(2.5));
    for bad in ["0", "-1", "inf", "NaN", "soon"] {
        assert!(parse_seconds(bad).is_err(), "{bad}");
    }
}

#[test]
fn colour_follows_the_choice_and_no_color() {
    assert!(use_color(ColorChoice::Always, false));
    assert!(!use_color(ColorChoice::Never, true));
    assert!(!use_color(ColorChoice::Auto, false));
}

#[test]
fn the_command_line_parses() {
    let cli = parse(&["grade", "x", "--part", "2", "--seed", "0x10", "--json", "-"]).unwrap();
    let Command::Grade(args) = cli.command else {
        panic!()
    };
    assert_eq!(args.selection.parts, ["2"]);
    assert_eq!(args.seed, Some(16));
    assert_eq!(args.json.as_deref(), Some(Path::new("-")));
}

#[test]
fn the_clap_declarations_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn out_of_range_values_are_refused_by_clap() {
    let range = ErrorKind::ValueValidation;
    assert_eq!(refused(&["compare", "x", "--repetitions", "0"]), range);
    assert_eq!(refused(&["compare", "x", "--repetitions", "1001"]), range);
    accepted(&["compare", "x", "--repetitions", "1000"]);
    assert_eq!(refused(&["run", "-n", "0", "--", "prog"]), range);
    accepted(&["run", "-n", "1", "--", "prog"]);
    assert_eq!(
        refused(&["run", "-n", "2", "--timeout", "0", "--", "p"]),
        range
    );
    assert_eq!(
        refused(&["run", "-n", "2", "--hang-after=-1", "--", "p"]),
        range
    );
}

#[test]
fn flags_about_one_submission_conflict_with_a_batch() {
    for flag in [
        &["--json", "-"][..],
        &["--dot", "g.dot"],
        &["--gradescope", "out"],
        &["--classroom"],
    ] {
        let with_root = [&["grade", "--batch", "root"][..], flag].concat();
        assert_eq!(refused(&with_root), ErrorKind::ArgumentConflict, "{flag:?}");
        let with_two = [&["grade", "a", "b"][..], flag].concat();
        assert_eq!(refused(&with_two), ErrorKind::ArgumentConflict, "{flag:?}");
        accepted(&[&["grade", "a"][..], flag].concat());
    }
    assert_eq!(
        refused(&["grade", "a", "--batch", "root"]),
        ErrorKind::ArgumentConflict
    );
}

#[test]
fn batch_outputs_need_a_batch() {
    for flag in ["--out", "--csv"] {
        assert_eq!(
            refused(&["grade", "a", flag, "x"]),
            ErrorKind::MissingRequiredArgument
        );
        accepted(&["grade", "a", "b", flag, "x"]);
        accepted(&["grade", "--batch", "root", flag, "x"]);
    }
    assert_eq!(refused(&["grade"]), ErrorKind::MissingRequiredArgument);
}

/// The help of a flag of `subcommand`, as `--help` shows it.
fn help_of(subcommand: &str, id: &str) -> String {
    let mut command = Cli::command();
    command.build();
    let sub = command.find_subcommand(subcommand).unwrap();
    let arg = sub.get_arguments().find(|a| a.get_id() == id).unwrap();
    arg.get_help().unwrap().to_string()
}

#[test]
fn shared_flags_keep_each_subcommands_wording() {
    assert_eq!(
        help_of("grade", "parts"),
        "Grade only this part (`2` or `part2`); repeat for several"
    );
    assert_eq!(
        help_of("check", "parts"),
        "Check only this part (`2` or `part2`); repeat for several"
    );
    assert_eq!(
        help_of("compare", "parts"),
        "Compare only this part (`2` or `part2`); repeat for several"
    );
    assert_eq!(
        help_of("grade", "challenge"),
        "Which challenge of the file to grade (needed when it has several)"
    );
    assert_eq!(
        help_of("check", "challenge"),
        "Which challenge of the file (needed when it has several)"
    );
    assert_eq!(help_of("check", "color"), "Colour the report");
    assert_eq!(help_of("compare", "color"), "Colour the table");
    assert_eq!(
        help_of("probe", "mpi"),
        "MPI implementation: openmpi, mpich or auto"
    );
    assert_eq!(
        help_of("run", "cache_dir"),
        "Where the tracer is built and runs are kept"
    );
}

#[test]
fn html_goes_with_one_submission_or_a_batch_and_gradescope_html_needs_gradescope() {
    accepted(&["grade", "a", "--html", "out"]);
    accepted(&["grade", "a", "b", "--html", "out"]);
    accepted(&["grade", "--batch", "root", "--html", "out"]);
    accepted(&["check", "a", "--html", "out"]);
    accepted(&["run", "-n", "2", "--html", "out", "--", "prog"]);
    accepted(&["grade", "a", "--gradescope", "g", "--gradescope-html"]);
    assert_eq!(
        refused(&["grade", "a", "--gradescope-html"]),
        ErrorKind::MissingRequiredArgument
    );
}
