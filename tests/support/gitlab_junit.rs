//! What GitLab keeps of a JUnit report and shows in its test report: a port of
//! `lib/gitlab/ci/parsers/test/junit.rb` (gitlabhq at commit
//! d23f0cff3ca412a36fcefbb25dc4b36d2941a7de), as its documentation ("Unit test reports", JUnit
//! XML format specification) describes it: `message` and `type` of a `<failure>` are not kept,
//! its text is the "System output" shown, followed by the case's `<system-out>` and
//! `<system-err>`; the case's `file` attribute links the source.
//!
//! The XML is read with a strict parser (roxmltree) instead of the parser's hash conversion;
//! for the elements mpi-grade writes (a failure always has text) the two give the same values.
//! Used by the grader's unit tests (`report/junit.rs`) and by `tests/formats.rs`.

#![allow(dead_code)]

/// One test case as GitLab records it (`Gitlab::Ci::Reports::TestCase`).
#[derive(Debug, Clone, PartialEq)]
pub struct GitlabCase {
    /// The suite's `name` (`each_case`: `tc['suite_name'] = testsuite_name`).
    pub suite_name: String,
    /// `classname`.
    pub classname: Option<String>,
    /// `name`.
    pub name: String,
    /// `file`.
    pub file: Option<String>,
    /// `"failed"`, `"error"`, `"skipped"` or `"success"` (`create_test_case`).
    pub status: &'static str,
    /// What the test report shows for the case.
    pub system_output: Option<String>,
}

/// The cases of a JUnit document, as GitLab parses them (`parse!`, `all_cases`, `each_case`):
/// under one top-level `<testsuites>` or directly under `<testsuite>`s, nested suites included.
pub fn parse(xml: &str) -> Result<Vec<GitlabCase>, String> {
    let doc =
        roxmltree::Document::parse(xml).map_err(|e| format!("JUnit XML parsing failed: {e}"))?;
    let mut cases = Vec::new();
    for suite in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            cases.push(create_test_case(
                case,
                suite.attribute("name").unwrap_or(""),
            ));
        }
    }
    Ok(cases)
}

/// The text of the first child element `name` (`data['failure']`, ...), `Some("")` for an
/// empty one.
fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    let child = node.children().find(|n| n.has_tag_name(name))?;
    Some(
        child
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect(),
    )
}

/// `create_test_case`: the status from the first of `failure`, `error`, `skipped`; the shown
/// output is that element's text, then `System Out:` and `System Err:` sections.
fn create_test_case(case: roxmltree::Node<'_, '_>, suite_name: &str) -> GitlabCase {
    let system_out = child_text(case, "system-out").map(|t| format!("System Out:\n\n{t}"));
    let system_err = child_text(case, "system-err").map(|t| format!("System Err:\n\n{t}"));
    let joined = |first: String| {
        [Some(first), system_out.clone(), system_err.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let (status, system_output) = if let Some(text) = child_text(case, "failure") {
        ("failed", Some(joined(text)))
    } else if let Some(text) = child_text(case, "error") {
        ("error", Some(joined(text)))
    } else if let Some(text) = child_text(case, "skipped") {
        ("skipped", Some(text))
    } else {
        ("success", None)
    };
    GitlabCase {
        suite_name: suite_name.to_string(),
        classname: case.attribute("classname").map(str::to_string),
        name: case.attribute("name").unwrap_or("").to_string(),
        file: case.attribute("file").map(str::to_string),
        status,
        system_output,
    }
}
