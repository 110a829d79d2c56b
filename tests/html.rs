//! The HTML report in a real browser: real grades under real MPI (`--html`) of a deadlocking
//! fixture and of a small batch, whose pages headless Chromium loads, lays out and
//! screenshots. A check script, injected into a copy of each page (the pages themselves carry
//! none, and their Content-Security-Policy forbids scripts), writes the bounding boxes of the
//! graphs, the grids and the plots into the DOM, which `--dump-dom` returns; the browser's
//! console must stay silent.
//!
//! Without Chromium (Debian's `chromium`, installed by scripts/install-deps) the trials are
//! skipped with a message, except under CI (`CI` set), where that is a failure.
//! `MPI_GRADE_UPDATE_SCREENSHOTS=1` also copies the two screenshots to docs/.
//!
//! Like tests/grading.rs: one trial at a time under the workspace's MPI lock, and no process
//! left behind at the end.

#[path = "support/mod.rs"]
mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::*;

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let browser = chromium();
    if browser.is_none() {
        if std::env::var_os("CI").is_some() {
            eprintln!("tests/html: chromium is not installed, and CI must run the browser tests");
            std::process::exit(101);
        }
        eprintln!(
            "tests/html: SKIPPED, chromium is not installed (scripts/install-deps installs it)"
        );
    }
    let _lock = mpi_lock();
    std::env::set_var(TEST_MARKER_VAR, marker());
    let with = |name: &'static str, test: fn(&Path) -> Result<(), Failed>| {
        let missing = browser.is_none();
        let browser = browser.clone();
        Trial::test(name, move || test(browser.as_deref().expect("not ignored")))
            .with_ignored_flag(missing)
    };
    let trials = vec![
        with(
            "the_console_check_sees_a_script_error",
            the_console_check_sees_an_error,
        ),
        with(
            "a_deadlock_page_draws_the_cycle_the_grid_and_the_plots",
            a_deadlock_page,
        ),
        with(
            "a_batch_writes_a_class_page_linking_every_submission",
            a_class_page,
        ),
        with("run_and_check_write_their_pages", run_and_check_pages),
        with(
            "a_submission_s_markup_stays_text_in_the_browser",
            hostile_markup,
        ),
    ];
    let conclusion = libtest_mimic::run(&args, trials);
    conclude(conclusion);
}

/// `$MPI_GRADE_CHROMIUM`, else the first of Debian's and other distributions' names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MPI_GRADE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// What one headless load of a page gave: the DOM after load, and the browser's log.
struct Load {
    dom: String,
    log: String,
}

impl Load {
    /// The console's messages (`INFO:CONSOLE` lines), which a clean page does not produce.
    fn console(&self) -> Vec<&str> {
        self.log
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
            .collect()
    }
}

/// Headless Chromium on `page` with `extra` flags; fails when it does not exit successfully.
fn browse(browser: &Path, page: &Path, extra: &[&str]) -> Result<Load, Failed> {
    let profile = tempfile::tempdir()?;
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    // Not a child of the grade: the leftover check looks for MPI processes only.
    .env_remove(TEST_MARKER_VAR)
    .env("HOME", profile.path());
    let out = run(cmd, Duration::from_secs(120));
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!(
            "chromium failed ({}) on {}:\n{log}",
            out.status,
            page.display()
        )
        .into());
    }
    Ok(Load {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        log,
    })
}

/// Measures the page in the browser: for each selector, the boxes of the matching elements
/// that are rendered (inside an open `<details>` or none), written as JSON into `#boxes`.
const CHECK: &str = r#"<script>
window.addEventListener("load", () => {
  const selectors = ["table.grid", "svg.wait-for", "svg.wait-for .edge.cycle",
    "svg.wait-for .node", "svg.plot", "svg.plot .series", "svg.histogram",
    "table.failures a", "details.stall[open]"];
  const out = {};
  for (const s of selectors) {
    out[s] = [...document.querySelectorAll(s)].filter(e => e.getClientRects().length > 0)
      .map(e => { const r = e.getBoundingClientRect();
        const svg = e.closest("svg"); const o = svg ? svg.getBoundingClientRect() : r;
        return {w: r.width, h: r.height, inside: r.left >= o.left - 1 && r.right <= o.right + 1
          && r.top >= o.top - 1 && r.bottom <= o.bottom + 1}; });
  }
  out.markup = {scripts: document.scripts.length, images: document.images.length,
    svgHandlers: document.querySelectorAll("[onload],[onerror]").length,
    refresh: document.querySelectorAll("meta[http-equiv=refresh]").length,
    styles: document.querySelectorAll("style").length, pwned: window.pwned || null,
    shown: getComputedStyle(document.body).display !== "none"};
  const pre = document.createElement("pre");
  pre.id = "boxes";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"#;

/// The boxes `CHECK` measured on a copy of `page` (its policy widened to the check script).
fn measure(browser: &Path, page: &Path) -> Result<Value, Failed> {
    let html = std::fs::read_to_string(page)?;
    let policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
    if !html.contains(policy) {
        return Err(format!("{} lacks its policy: {html}", page.display()).into());
    }
    let checked = html
        .replace(policy, &format!("{policy}; script-src 'unsafe-inline'"))
        .replace("</body>", &format!("{CHECK}</body>"));
    let copy = page.with_extension("checked.html");
    std::fs::write(&copy, checked)?;
    let load = browse(browser, &copy, &["--dump-dom"])?;
    if !load.console().is_empty() {
        return Err(format!("console messages: {:?}", load.console()).into());
    }
    let json = load
        .dom
        .split("<pre id=\"boxes\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .ok_or_else(|| format!("the check did not run:\n{}", load.dom))?;
    let json = json.replace("&quot;", "\"").replace("&amp;", "&");
    Ok(serde_json::from_str(&json)?)
}

/// How many `selector` elements are rendered with a non-zero size, failing when one is
/// rendered empty or outside its SVG.
fn rendered(boxes: &Value, selector: &str) -> Result<usize, Failed> {
    let list = boxes[selector]
        .as_array()
        .ok_or_else(|| format!("no {selector} measured: {boxes}"))?;
    for b in list {
        let (w, h) = (
            b["w"].as_f64().unwrap_or(0.0),
            b["h"].as_f64().unwrap_or(0.0),
        );
        if w <= 0.0 || h <= 0.0 || b["inside"] != Value::Bool(true) {
            return Err(format!("{selector} rendered as {b}").into());
        }
    }
    Ok(list.len())
}

/// Loads `page` as it is: no console message (the policy refuses nothing, no script errs),
/// and a screenshot that is a real PNG, kept in the test's scratch (and in docs/ on request).
fn screenshot(browser: &Path, page: &Path, name: &str, size: &str) -> Result<(), Failed> {
    let png = tmp().join(format!("html-{name}.png"));
    let _ = std::fs::remove_file(&png);
    let load = browse(
        browser,
        page,
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={size}"),
        ],
    )?;
    if !load.console().is_empty() {
        return Err(format!("console messages on {name}: {:?}", load.console()).into());
    }
    let bytes = std::fs::read(&png)?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.len() < 10_000 {
        return Err(format!("{} is no screenshot ({} bytes)", png.display(), bytes.len()).into());
    }
    eprintln!("screenshot: {}", png.display());
    if std::env::var_os("MPI_GRADE_UPDATE_SCREENSHOTS").is_some() {
        std::fs::copy(&png, repo().join(format!("docs/html-{name}.png")))?;
    }
    Ok(())
}

fn the_console_check_sees_an_error(browser: &Path) -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>notAFunction();</script></body></html>",
    )?;
    let load = browse(browser, &page, &["--dump-dom"])?;
    let console = load.console();
    if !console
        .iter()
        .any(|l| l.contains("Uncaught ReferenceError"))
    {
        return Err(format!("the error went unseen:\n{}", load.log).into());
    }
    Ok(())
}

/// Grades with `args` into a fresh `--html` directory; the grade must end with exit code 1
/// (some part fails).
fn grade_into(name: &str, args: &[&str]) -> Result<PathBuf, Failed> {
    let dir = tmp().join(format!("html-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir.to_string_lossy().into_owned();
    let mut all = args.to_vec();
    all.extend([
        "--config",
        "tests/fixtures/challenges.toml",
        "--seed",
        "7",
        "--html",
        &dir_text,
    ]);
    let out = run(mpi_grade(&all), Duration::from_secs(600));
    if out.status.code() != Some(1) {
        return Err(format!(
            "grade {args:?} ended with {}:\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(dir)
}

fn a_deadlock_page(browser: &Path) -> Result<(), Failed> {
    // Part 2 of this fixture deadlocks in the cycle 0 → 2 → 0 (among others).
    let results = tmp().join("html-gradescope/results.json");
    let results_text = results.to_string_lossy().into_owned();
    let dir = grade_into(
        "deadlock",
        &[
            "grade",
            "tests/fixtures/rank-count-deadlock",
            "--part",
            "2",
            "--gradescope",
            &results_text,
            "--gradescope-html",
        ],
    )?;
    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page)?;
    for wanted in [
        "<svg class=\"wait-for\"",
        "src/lib.rs:",
        "reference-part3",
        "seed",
    ] {
        if !html.contains(wanted) {
            return Err(format!("the page lacks {wanted}").into());
        }
    }
    let boxes = measure(browser, &page)?;
    let open = rendered(&boxes, "details.stall[open]")?;
    let graphs = rendered(&boxes, "svg.wait-for")?;
    if open == 0 || graphs != open {
        return Err(format!("{open} open stalls, {graphs} graphs drawn: {boxes}").into());
    }
    if rendered(&boxes, "svg.wait-for .edge.cycle")? < 2 {
        return Err(format!("no cycle drawn: {boxes}").into());
    }
    if rendered(&boxes, "svg.wait-for .node")? < 2 * graphs {
        return Err(format!("ranks missing: {boxes}").into());
    }
    if rendered(&boxes, "table.grid")? != 1 {
        return Err(format!("one part, one grid: {boxes}").into());
    }
    let plots = rendered(&boxes, "svg.plot")?;
    // The part beside the references and MPI_Alltoall: more lines than plots.
    if plots == 0 || rendered(&boxes, "svg.plot .series")? <= plots {
        return Err(format!("plots: {boxes}").into());
    }
    screenshot(browser, &page, "deadlock", "1000,1500")?;
    gradescope_html(browser, &results)
}

/// `--gradescope-html`: every output is HTML, and a test's output, as Gradescope would embed
/// it in its page, renders its grid and the cycle.
fn gradescope_html(browser: &Path, results: &Path) -> Result<(), Failed> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(results)?)?;
    if value["output_format"] != "html" || value["test_output_format"] != "html" {
        return Err(format!("not HTML: {value:#}").into());
    }
    let output = value["tests"][0]["output"]
        .as_str()
        .ok_or_else(|| format!("no test output: {value:#}"))?;
    let page = results.with_file_name("part2.html");
    std::fs::write(&page, mpi_grade::report::html::document("part2", output))?;
    let boxes = measure(browser, &page)?;
    if rendered(&boxes, "table.grid")? != 1 || rendered(&boxes, "svg.wait-for .edge.cycle")? < 2 {
        return Err(format!("the Gradescope output: {boxes}").into());
    }
    Ok(())
}

/// `mpi-grade run --html` on a two-rank receive-receive deadlock, and `check --html`.
fn run_and_check_pages(browser: &Path) -> Result<(), Failed> {
    let program = tmp().join("html-exchanges");
    let status = Command::new("mpicc.openmpi")
        .args(["-g", "-O0", "-o"])
        .arg(&program)
        .arg(repo().join("tests/programs/exchanges.c"))
        .status()?;
    if !status.success() {
        return Err("mpicc.openmpi failed".into());
    }
    let dir = tmp().join("html-run");
    let _ = std::fs::remove_dir_all(&dir);
    let (dir_text, program_text) = (dir.to_string_lossy(), program.to_string_lossy());
    let out = run(
        mpi_grade(&[
            "run",
            "--mpi",
            "openmpi",
            "-n",
            "2",
            "--html",
            &dir_text,
            "--",
            &program_text,
            "recv-recv",
        ]),
        Duration::from_secs(120),
    );
    if out.status.code() != Some(241) {
        return Err(format!(
            "run: {}
{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let boxes = measure(browser, &dir.join("index.html"))?;
    if rendered(&boxes, "svg.wait-for .edge.cycle")? != 2
        || rendered(&boxes, "svg.wait-for .node")? != 2
    {
        return Err(format!("the run's page: {boxes}").into());
    }
    let dir = tmp().join("html-check");
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir.to_string_lossy();
    let out = run(
        mpi_grade(&[
            "check",
            "tests/fixtures/rank-count-deadlock",
            "--config",
            "tests/fixtures/challenges.toml",
            "--part",
            "2",
            "--html",
            &dir_text,
        ]),
        Duration::from_secs(600),
    );
    if out.status.code() != Some(1) {
        return Err(format!(
            "check: {}
{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let boxes = measure(browser, &dir.join("index.html"))?;
    if rendered(&boxes, "table.grid")? != 1 || rendered(&boxes, "svg.wait-for .edge.cycle")? < 2 {
        return Err(format!("the check's page: {boxes}").into());
    }
    Ok(())
}

fn a_class_page(browser: &Path) -> Result<(), Failed> {
    let submissions = [
        "solutions/reference",
        "tests/fixtures/slow-correct",
        "tests/fixtures/rank-count-deadlock",
        "tests/fixtures/wrong-element",
        "tests/fixtures/compile-error",
    ];
    let mut args = vec!["grade"];
    args.extend(submissions);
    args.extend(["--part", "2", "--no-compare", "--quiet"]);
    let dir = grade_into("class", &args)?;
    for name in submissions {
        let base = Path::new(name).file_name().unwrap().to_string_lossy();
        let own = dir.join(format!("{base}.html"));
        if !own.is_file() {
            return Err(format!("no page for {name}").into());
        }
    }
    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page)?;
    for wanted in [
        "5 of 5 submissions graded, 2 passed every part.",
        "<a href=\"rank-count-deadlock.html\">rank-count-deadlock</a> (part2)",
        "<a href=\"wrong-element.html\">wrong-element</a> (part2)",
        "<a href=\"compile-error.html\">compile-error</a> (part2)",
        // Its ranks nap 40 ms and more before they receive: a thousand times the reference.
        "<h3>Fastest</h3><ol><li><a href=\"reference.html\">",
        "<h3>Slowest</h3><ol><li><a href=\"slow-correct.html\">",
    ] {
        if !html.contains(wanted) {
            return Err(format!("the class page lacks {wanted}:\n{html}").into());
        }
    }
    let boxes = measure(browser, &page)?;
    if rendered(&boxes, "svg.histogram")? != 1 || rendered(&boxes, "table.failures a")? != 3 {
        return Err(format!("class page: {boxes}").into());
    }
    screenshot(browser, &page, "class", "1000,900")?;
    // A submission's page from the batch renders too.
    let boxes = measure(browser, &dir.join("rank-count-deadlock.html"))?;
    if rendered(&boxes, "svg.wait-for .edge.cycle")? < 2 {
        return Err(format!("the batch's deadlock page: {boxes}").into());
    }
    Ok(())
}

/// Markup a submission prints and panics with (tests/adversarial/html-injection) reaches the
/// browser as text, on the page and in Gradescope's HTML output: no script of it runs (the
/// checked copy allows inline scripts, so escaping alone stops them), no element of it exists.
fn hostile_markup(browser: &Path) -> Result<(), Failed> {
    let results = tmp().join("html-hostile-gradescope/results.json");
    let results_text = results.to_string_lossy().into_owned();
    let dir = tmp().join("html-hostile");
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir.to_string_lossy().into_owned();
    let out = run(
        mpi_grade(&[
            "grade",
            "tests/adversarial/html-injection",
            "--config",
            "tests/adversarial/challenges.toml",
            "--html",
            &dir_text,
            "--gradescope",
            &results_text,
            "--gradescope-html",
        ]),
        Duration::from_secs(600),
    );
    if out.status.code() != Some(1) {
        return Err(format!(
            "grade: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page)?;
    if !html.contains("html-injection fixture panicked")
        || !html.contains("&lt;script&gt;window.pwned")
    {
        return Err(format!("the attack is not shown as text:\n{html}").into());
    }
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&results)?)?;
    let output = value["tests"][0]["output"].as_str().unwrap_or_default();
    let gradescope = results.with_file_name("part2.html");
    std::fs::write(
        &gradescope,
        mpi_grade::report::html::document("part2", output),
    )?;
    for page in [&page, &gradescope] {
        let markup = &measure(browser, page)?["markup"];
        // The one script is the check's, the one style the page's.
        let clean = serde_json::json!({"scripts": 1, "images": 0, "svgHandlers": 0,
            "refresh": 0, "styles": 1, "pwned": null, "shown": true});
        let styles_ok = markup["styles"].as_u64().unwrap_or(0) >= 1;
        let mut seen = markup.clone();
        seen["styles"] = Value::from(1);
        if seen != clean || !styles_ok {
            return Err(format!("{}: {markup}", page.display()).into());
        }
    }
    Ok(())
}
