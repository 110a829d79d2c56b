//! Submissions that attack the grader, graded by the real `mpi-grade` under real MPI with the
//! sandbox on: each must get the verdict `tests/adversarial/expected.toml` gives it, the grader
//! must exit normally, and after all of them nothing any of them started may still run, no file
//! may have appeared outside the scratch area, no secret may have reached a report, and the
//! listener on the grader's loopback must never have been reached.
//!
//! These fixtures are only safe inside the sandbox (a fork loop or a memory hog as root would
//! take the machine down): without the full sandbox the suite says so and runs none of them.

#[path = "support/mod.rs"]
mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

const GRADE_LIMIT: Duration = Duration::from_secs(600);
const CONFIG: &str = "tests/adversarial/challenges.toml";
/// The port `tests/adversarial/network` connects to.
const PORT: u16 = 40817;

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let _lock = mpi_lock();
    let sandbox = mpi_grade::sandbox::Sandbox::detect();
    let full = sandbox
        .as_ref()
        .is_ok_and(|s| s.net && s.mounts && s.pid && s.account.is_some());
    let secrets = Secrets::new();
    let listener = Listener::start();
    let runs_before = scratch_dirs();
    clean_escapes();
    let planted = planted::Planted::new();

    let mut trials: Vec<Trial> = Vec::new();
    for mpi in IMPLEMENTATIONS {
        for (name, expected) in expectations() {
            let secrets = secrets.clone();
            let listener = listener.clone();
            trials.push(
                Trial::test(format!("{mpi}::adversarial::{name}"), move || {
                    check(&name, &expected, mpi, &secrets, &listener)
                })
                .with_ignored_flag(!full),
            );
        }
    }
    trials.push(
        Trial::test("a_killed_grader_leaves_no_sandboxed_process", killed_grader)
            .with_ignored_flag(!full),
    );
    let control = listener.clone();
    trials.push(
        Trial::test(
            "without_the_sandbox_the_network_fixture_reaches_the_listener",
            move || network_control(&control),
        )
        .with_ignored_flag(!full),
    );
    {
        let secrets = secrets.clone();
        trials.push(
            Trial::test(
                "a_batch_attacker_cannot_touch_the_next_submission",
                move || batch_attack(&secrets),
            )
            .with_ignored_flag(!full),
        );
    }
    for mpi in IMPLEMENTATIONS {
        let (s1, s2) = (secrets.clone(), secrets.clone());
        trials.push(
            Trial::test(format!("{mpi}::root_without_cap_sys_admin"), move || {
                degraded(mpi, &s1, Degraded::NoSysAdmin)
            })
            .with_ignored_flag(!full),
        );
        trials.push(
            Trial::test(format!("{mpi}::as_an_ordinary_user"), move || {
                teacher::as_an_ordinary_user(mpi, &s2)
            })
            .with_ignored_flag(!full),
        );
    }
    trials.push(Trial::test(
        "without_namespaces_the_grader_refuses",
        refuses_without_isolation,
    ));
    if !full {
        eprintln!(
            "adversarial fixtures not run: this machine gives no full sandbox ({})",
            sandbox
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
    }
    let conclusion = libtest_mimic::run(&args, trials);

    let mut problems = Vec::new();
    let sandboxed = sandbox_processes();
    if !sandboxed.is_empty() {
        problems.push(format!(
            "processes of the sandbox user are still running: {}",
            sandboxed.join(", ")
        ));
    }
    let left = leftovers();
    if !left.is_empty() {
        problems.push(format!(
            "processes started by the tests are still running: {}",
            left.join(", ")
        ));
    }
    let escaped: Vec<String> = escapes()
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !escaped.is_empty() {
        problems.push(format!(
            "files outside the scratch area: {}",
            escaped.join(", ")
        ));
    }
    problems.extend(planted.check());
    let given = owned_by_sandbox(&cache_dir());
    if !given.is_empty() {
        problems.push(format!(
            "files of the build cache owned by the sandbox user: {}",
            given.join(", ")
        ));
    }
    let new_runs: Vec<String> = scratch_dirs()
        .difference(&runs_before)
        .map(|p| p.display().to_string())
        .collect();
    if !new_runs.is_empty() {
        problems.push(format!(
            "scratch directories left behind: {}",
            new_runs.join(", ")
        ));
    }
    drop(planted);
    if problems.is_empty() {
        eprintln!(
            "nothing left running, no file outside the scratch area, no scratch directory left"
        );
        conclusion.exit();
    }
    eprintln!("{}", problems.join("\n"));
    std::process::exit(101);
}

/// Live processes of the sandbox user. Some fixtures start processes that drop the test's
/// marker from their environment, so they are looked for by user too (the MPI lock keeps other
/// graders' sandboxed jobs out of this window).
fn sandbox_processes() -> Vec<String> {
    let Some(account) = mpi_grade::sandbox::account(mpi_grade::sandbox::SANDBOX_USER) else {
        return Vec::new();
    };
    use std::os::unix::fs::MetadataExt;
    mpi_grade::run::procs::scan()
        .into_iter()
        .filter(|p| p.is_alive())
        .filter(|p| {
            std::fs::metadata(format!("/proc/{}", p.pid)).is_ok_and(|m| m.uid() == account.uid)
        })
        .map(|p| format!("{} ({})", p.pid, p.comm))
        .collect()
}

/// One fixture's row of `expected.toml`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Expected {
    /// The challenges file in tests/adversarial, when not challenges.toml.
    #[serde(default)]
    config: Option<String>,
    exit: i32,
    #[serde(default)]
    mentions: BTreeMap<String, Vec<String>>,
    #[serde(flatten)]
    parts: BTreeMap<String, String>,
}

fn expectations() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(repo().join("tests/adversarial/expected.toml")).unwrap();
    toml::from_str(&text).expect("expected.toml parses")
}

/// Secret values set in the grader's environment: none may appear in what it reports.
#[derive(Clone)]
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn new() -> Secrets {
        let nonce = format!("{:x}{:x}", std::process::id(), rand_u64());
        // World-readable files outside the scratch area (secret-reader looks for them), and a
        // copy of the config whose path carries a token (it is on the grader's command line).
        let planted = format!("planted-{nonce}");
        for dir in planted_dirs() {
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(PLANTED);
            if std::fs::write(&path, &planted).is_ok() {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
            }
        }
        let config_dir = tmp().join(format!("secret-{nonce}"));
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::copy(repo().join(CONFIG), config_dir.join("challenges.toml")).unwrap();
        Secrets(vec![
            ("MPI_GRADE_PLANTED", planted),
            ("MPI_GRADE_CONFIG_TOKEN", format!("secret-{nonce}")),
            ("MPI_GRADE_ADVERSARIAL_TOKEN", format!("tok-{nonce}")),
            ("GITHUB_TOKEN", format!("ghp-{nonce}")),
            ("DEPLOY_SECRET", format!("sec-{nonce}")),
            ("AWS_SECRET_ACCESS_KEY", format!("aws-{nonce}")),
        ])
    }

    fn leaked_in(&self, text: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, v)| text.contains(v.as_str()))
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The name of the files the test plants outside the scratch area.
const PLANTED: &str = "mpi-grade-adversarial-planted";

/// Where they are planted: fixed places, and next to the grader's cache and its scratch
/// directories.
fn planted_dirs() -> Vec<PathBuf> {
    vec![
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/opt"),
        tmp(),
        cache_dir(),
        cache_dir().join("runs"),
        // The memo of builds: other submissions' drivers (env-secret's build.rs and
        // secret-reader's ranks look there).
        cache_dir().join("memo"),
    ]
}

impl Secrets {
    /// The copy of the config whose path carries a secret token.
    fn config(&self) -> String {
        match self.0.iter().find(|(k, _)| *k == "MPI_GRADE_CONFIG_TOKEN") {
            Some((_, token)) => tmp()
                .join(token)
                .join("challenges.toml")
                .display()
                .to_string(),
            None => CONFIG.to_string(),
        }
    }
}

fn rand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    nanos.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A TCP listener on the grader's loopback, counting the connections it accepts.
#[derive(Clone)]
struct Listener(Arc<AtomicUsize>);

impl Listener {
    fn start() -> Listener {
        let count = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind(("127.0.0.1", PORT))
            .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{PORT}: {e}"));
        let seen = Arc::clone(&count);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stream.is_ok() {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Listener(count)
    }

    fn connections(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Every place the fixtures try to write outside their scratch area.
fn escapes() -> Vec<PathBuf> {
    let name = "mpi-grade-adversarial-escape";
    let build = "mpi-grade-adversarial-build-escape";
    let cache = cache_dir();
    let mut paths = vec![
        PathBuf::from("/tmp").join(name),
        PathBuf::from("/tmp").join(build),
        PathBuf::from("/var/tmp").join(name),
        PathBuf::from("/dev/shm").join(name),
        PathBuf::from("/run/lock").join(name),
        PathBuf::from("/").join(name),
        cache.join(name),
        cache.join("runs").join(name),
        cache.join("runs").join("escape"),
        repo().join("tests/adversarial/write-outside/escape"),
        repo().join("tests/adversarial/write-outside/build-escape"),
        repo().join("tests/adversarial").join(build),
        repo().join(name),
        // The rustc wrapper of build-config-wrapper and cargo-config.
        PathBuf::from(planted::WRAPPER_MARKER),
        cache.join(".cargo/config.toml"),
        repo().join("tests/adversarial/.cargo/config.toml"),
    ];
    for mpi in IMPLEMENTATIONS {
        paths.push(cache.join(mpi).join(build));
        paths.push(cache.join(mpi).join(name));
        paths.push(cache.join(mpi).join(".cargo/config.toml"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        paths.push(Path::new(&home).join(name));
        paths.push(Path::new(&home).join(build));
        paths.push(Path::new(&home).join(".cargo").join(build));
    }
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        paths.push(Path::new(&cargo_home).join(build));
    }
    paths
}

fn clean_escapes() {
    for path in escapes() {
        let _ = std::fs::remove_file(path);
    }
}

/// The grade scratch directories in the test cache.
fn scratch_dirs() -> std::collections::BTreeSet<PathBuf> {
    std::fs::read_dir(cache_dir().join("runs"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Grades one fixture; returns the exit code, the JSON report, the human report and stderr,
/// and the grader's peak resident memory in KiB.
fn grade(
    name: &str,
    mpi: &str,
    secrets: &Secrets,
    extra: &[&str],
) -> Result<(i32, Value, String, String, u64), Failed> {
    grade_wrapped(name, mpi, secrets, extra, &[])
}

/// [`grade`], with the grader started through `wrap` (a program and its arguments, the
/// grader's command line appended).
fn grade_wrapped(
    name: &str,
    mpi: &str,
    secrets: &Secrets,
    extra: &[&str],
    wrap: &[&str],
) -> Result<(i32, Value, String, String, u64), Failed> {
    let json = tempfile::NamedTempFile::new().unwrap();
    let json_path = json.path().to_str().unwrap().to_string();
    let crate_dir = format!("tests/adversarial/{name}");
    let secret_config = secrets.config();
    let config = if name == "secret-reader" {
        secret_config.clone()
    } else {
        expectations()
            .get(name)
            .and_then(|e| e.config.clone())
            .map_or(CONFIG.to_string(), |c| format!("tests/adversarial/{c}"))
    };
    let mut args = vec![
        "grade",
        &crate_dir,
        "--config",
        &config,
        "--mpi",
        mpi,
        "--seed",
        "1",
        "--json",
        &json_path,
        "--color",
        "never",
        "-q",
        "--no-compare",
    ];
    args.extend_from_slice(extra);
    let mut cmd = wrapped(mpi_grade(&args), wrap);
    // `--classroom` prints its line on stdout then.
    cmd.env_remove("GITHUB_OUTPUT");
    for (k, v) in &secrets.0 {
        cmd.env(k, v);
    }
    let (out, peak_kib) = run_measured(cmd, GRADE_LIMIT);
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&json_path).map_err(|e| {
        format!("no JSON report ({e}); exit {code}\nstdout:\n{human}\nstderr:\n{stderr}")
    })?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| format!("bad JSON report: {e}\n{text}"))?;
    // The report names the config it was graded with (`config.path`, the human header), by
    // design: the secret config's path is the teacher's, and is only a secret to the ranks. What
    // the ranks found is in the part's message (secret-reader: "found: []").
    let all = format!("{text}{human}{stderr}");
    let all = match report["config"]["path"].as_str() {
        Some(path) => all
            .replace(path, "<config>")
            .replace(&path.replace('/', "\\/"), "<config>"),
        None => all,
    };
    let leaked = secrets.leaked_in(&all);
    if !leaked.is_empty() {
        return Err(format!("the report shows the values of {leaked:?}").into());
    }
    if [&text, &human, &stderr]
        .iter()
        .any(|t| t.contains(planted::token()))
    {
        return Err("the report shows the token of the planted root-only file".into());
    }
    Ok((code, report, human, stderr, peak_kib))
}

/// Runs `cmd` like `support::run`, and samples its peak resident memory (VmHWM) meanwhile.
fn run_measured(mut cmd: std::process::Command, limit: Duration) -> (std::process::Output, u64) {
    use std::process::Stdio;
    use wait_timeout::ChildExt;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the grader starts");
    let pid = child.id();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let mut peak = 0;
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.wait_timeout(Duration::from_millis(50)).unwrap() {
            break status;
        }
        let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            });
        peak = peak.max(hwm.unwrap_or(0));
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
    };
    let output = std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, peak)
}

fn part_of<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["parts"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

fn check(
    name: &str,
    expected: &Expected,
    mpi: &str,
    secrets: &Secrets,
    listener: &Listener,
) -> Result<(), Failed> {
    let connections = listener.connections();
    // The report-hygiene fixtures are graded into every format.
    let formats = tempfile::tempdir().unwrap();
    let junit = formats.path().join("junit.xml");
    let gradescope = formats.path().join("gradescope");
    std::fs::create_dir(&gradescope).unwrap();
    let every_format = [
        "--junit",
        junit.to_str().unwrap(),
        "--gradescope",
        gradescope.to_str().unwrap(),
        "--classroom",
    ];
    let hygiene = HYGIENE.contains(&name);
    let extra: &[&str] = if hygiene { &every_format } else { &[] };
    let (code, report, human, stderr, peak_kib) = grade(name, mpi, secrets, extra)?;
    let context = || format!("\n--- report of {name} ---\n{human}\n--- stderr ---\n{stderr}");
    let mut problems = Vec::new();
    if code != expected.exit {
        problems.push(format!("exit code {code}, expected {}", expected.exit));
    }
    let isolation = report["isolation"].as_str().unwrap_or("");
    if !isolation.contains("own network") || !isolation.contains("user ") {
        problems.push(format!("graded without the full sandbox: {isolation}"));
    }
    for (part, want) in &expected.parts {
        let Some(p) = part_of(&report, part) else {
            problems.push(format!("{part}: missing from the report"));
            continue;
        };
        let got = p["failure"].as_str().unwrap_or("pass");
        if got != want {
            problems.push(format!("{part}: {got}, expected {want} ({})", p["summary"]));
        }
    }
    for (part, needles) in &expected.mentions {
        let p = part_of(&report, part).ok_or(format!("{part} missing"))?;
        let runs: Vec<String> = p["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| format!("{} {}", r["detail"], r["output"]))
            .collect();
        let text = format!(
            "{} {} {} {}",
            p["summary"],
            p["details"].as_str().unwrap_or(""),
            report["build"]["details"].as_str().unwrap_or(""),
            runs.join(" ")
        );
        for needle in needles {
            if !text.contains(needle.as_str()) {
                problems.push(format!("{part}: the report does not mention {needle:?}"));
            }
        }
    }
    let warnings = report["warnings"].to_string();
    if warnings.contains("could not be stopped") {
        problems.push(format!("processes survived: {warnings}"));
    }
    match name {
        "infinite-output" => {
            let size = report.to_string().len();
            if size > 512 * 1024 {
                problems.push(format!("the JSON report is {size} bytes"));
            }
            let output = report.to_string();
            let total = flooded_bytes(&output);
            if total < 1 << 30 {
                problems.push(format!(
                    "the flood carried only {total} bytes, not the 1 GiB this test is about"
                ));
            }
            eprintln!(
                "{mpi}: the grader drained {} MiB of output with a peak of {} MiB",
                total >> 20,
                peak_kib >> 10
            );
            if !output.contains("bytes dropped") {
                problems.push("the report does not say what was dropped".into());
            }
            // The grader drained a gigabyte or more: it must have kept no more than a little.
            if peak_kib > 256 * 1024 {
                problems.push(format!(
                    "the grader's peak memory was {} MiB",
                    peak_kib / 1024
                ));
            }
        }
        "network" if listener.connections() != connections => {
            problems.push("the listener on the grader's loopback was reached".into());
        }
        "write-outside" => {
            let escaped: Vec<String> = escapes()
                .into_iter()
                .filter(|p| p.exists())
                .map(|p| p.display().to_string())
                .collect();
            if !escaped.is_empty() {
                problems.push(format!("written outside: {}", escaped.join(", ")));
            }
        }
        _ => {}
    }
    if hygiene {
        problems.extend(hygiene_problems(
            name,
            &report,
            &human,
            &stderr,
            &junit,
            &gradescope.join("results.json"),
        ));
    }
    let mut left = leftovers();
    left.extend(sandbox_processes());
    if !left.is_empty() {
        problems.push(format!("left running: {}", left.join(", ")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}{}", problems.join("\n"), context()).into())
    }
}

/// The fixtures that attack the report itself: graded with `--junit`, `--gradescope` and
/// `--classroom` too, every output checked by [`hygiene_problems`].
const HYGIENE: &[&str] = &["escape-sequences", "huge-panic"];
/// No output of a grade may be larger, whatever the submission printed or panicked with.
const OUTPUT_BOUND: usize = 1 << 20;

/// Characters no report may carry: C0 controls but `\n` and `\t`, DEL, C1 controls, bidi
/// controls, zero-width characters.
fn forbidden(text: &str) -> Vec<char> {
    let mut found: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{61c}' | '\u{feff}')
        })
        .collect();
    found.dedup();
    found
}

/// Every string of a JSON document, decoded.
fn json_strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push_str(k);
            out.push('\n');
            json_strings(v, out);
        }),
        _ => {}
    }
}

/// A line a submission wrote that would pass for one of the grader's own: a verdict or a score.
fn fake_verdicts(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            (l.starts_with("part2") && l.contains("PASS"))
                || l.starts_with("PASS")
                || l.starts_with("score: 3/3")
        })
        .map(String::from)
        .collect()
}

/// What is wrong with the outputs of a report-hygiene fixture's grade: a character of
/// [`forbidden`] in any of them (the JSON report, JUnit, Gradescope's `results.json`, GitHub
/// Classroom's result, the human report, stderr), a file over [`OUTPUT_BOUND`], a format that
/// does not parse or departs from its schema, a verdict other than the crash, a fake verdict
/// line, or the start of the panic message lost.
fn hygiene_problems(
    name: &str,
    report: &Value,
    human: &str,
    stderr: &str,
    junit: &Path,
    gradescope: &Path,
) -> Vec<String> {
    assert!(
        !forbidden("\x1b[2J \u{9b} \u{202e}").is_empty(),
        "the check can fail"
    );
    let mut problems = Vec::new();
    // What the formats carry, and (apart) what they show people as the grader's text: there a
    // line the submission wrote must not start a line.
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut decoded = String::new();
    json_strings(report, &mut decoded);
    texts.push(("the JSON report".into(), decoded));
    texts.push(("the human report".into(), human.to_string()));
    shown.push(("the human report".into(), human.to_string()));
    texts.push(("stderr".into(), stderr.to_string()));
    let errors = schema_errors(report);
    if !errors.is_empty() {
        problems.push(format!(
            "the JSON report departs from its schema: {errors:?}"
        ));
    }
    let size = report.to_string().len();
    if size > OUTPUT_BOUND || human.len() > OUTPUT_BOUND {
        problems.push(format!(
            "the JSON report is {size} bytes, the human one {}",
            human.len()
        ));
    }
    match std::fs::read(junit) {
        Err(e) => problems.push(format!("no JUnit file: {e}")),
        Ok(bytes) => {
            if bytes.len() > OUTPUT_BOUND {
                problems.push(format!("the JUnit file is {} bytes", bytes.len()));
            }
            let xml = String::from_utf8_lossy(&bytes).into_owned();
            match junit_parser::from_reader(std::io::Cursor::new(&bytes)) {
                Err(e) => problems.push(format!("junit-parser rejects the XML: {e}")),
                Ok(parsed) => {
                    let case = parsed.suites.first().and_then(|s| s.cases.first());
                    match case {
                        Some(case) if !case.status.is_success() => {
                            let f = case.status.failure_as_ref();
                            if f.failure_type != "crash" {
                                problems.push(format!("JUnit says {}", f.failure_type));
                            }
                            shown.push(("the JUnit failure".into(), f.text.clone()));
                        }
                        _ => problems.push("JUnit has no failed case".into()),
                    }
                }
            }
            texts.push(("the JUnit file".into(), xml));
        }
    }
    match std::fs::read(gradescope) {
        Err(e) => problems.push(format!("no Gradescope results.json: {e}")),
        Ok(bytes) => {
            if bytes.len() > OUTPUT_BOUND {
                problems.push(format!("results.json is {} bytes", bytes.len()));
            }
            match serde_json::from_slice::<Value>(&bytes) {
                Err(e) => problems.push(format!("results.json does not parse: {e}")),
                Ok(results) => {
                    if results["score"].as_f64() != Some(0.0) {
                        problems.push(format!("Gradescope score {}", results["score"]));
                    }
                    let mut decoded = String::new();
                    json_strings(&results, &mut decoded);
                    texts.push(("Gradescope's results.json".into(), decoded));
                    for test in results["tests"].as_array().into_iter().flatten() {
                        let output = test["output"].as_str().unwrap_or_default();
                        shown.push(("Gradescope's test output".into(), output.into()));
                    }
                }
            }
        }
    }
    let classroom = human
        .lines()
        .find_map(|l| l.strip_prefix("result="))
        .map(|encoded| {
            use base64::Engine;
            let json = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| e.to_string())?;
            serde_json::from_slice::<Value>(&json).map_err(|e| e.to_string())
        });
    match classroom {
        None => problems.push("no GitHub Classroom result= line".into()),
        Some(Err(e)) => problems.push(format!("the Classroom result does not decode: {e}")),
        Some(Ok(result)) => {
            if result["status"] != "fail" {
                problems.push(format!("Classroom status {}", result["status"]));
            }
            let mut decoded = String::new();
            json_strings(&result, &mut decoded);
            texts.push(("the Classroom result".into(), decoded));
            for test in result["tests"].as_array().into_iter().flatten() {
                let message = test["message"].as_str().unwrap_or_default();
                shown.push(("the Classroom message".into(), message.into()));
            }
        }
    }
    for (what, text) in &texts {
        let bad = forbidden(text);
        if !bad.is_empty() {
            problems.push(format!("{what} carries {bad:?}"));
        }
    }
    if shown.len() < 4 {
        problems.push(format!(
            "only {} texts shown to people were found",
            shown.len()
        ));
    }
    for (what, text) in &shown {
        let fakes = fake_verdicts(text);
        if !fakes.is_empty() {
            problems.push(format!("{what} has lines passing for verdicts: {fakes:?}"));
        }
    }
    let start = match name {
        "huge-panic" => "huge-panic fixture: the useful start of the message",
        _ => "escape-sequences fixture panicked",
    };
    for (what, text) in &texts[..2] {
        if !text.contains(start) {
            problems.push(format!("{what} lost the panic's start {start:?}"));
        }
    }
    problems
}

/// The bytes of output the report's runs say their jobs wrote (`--- stdout (N bytes) ---`),
/// all streams of all runs together.
fn flooded_bytes(report: &str) -> u64 {
    let re = regex::Regex::new(r"--- std(?:out|err) \((\d+) bytes\)").unwrap();
    re.captures_iter(report)
        .filter_map(|c| c[1].parse::<u64>().ok())
        .sum()
}

/// SIGKILL to the grader while the sandboxed ranks flood their output: nothing survives it (the
/// parent-death signal is asked for again after the change of user, which clears it).
fn killed_grader() -> Result<(), Failed> {
    let before = scratch_dirs();
    let mut cmd = mpi_grade(&[
        "grade",
        "tests/adversarial/infinite-output",
        "--config",
        CONFIG,
        "-q",
        "--no-compare",
    ]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut grader = cmd.spawn().unwrap();
    // Until the ranks run (the build first), at most a minute.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sandbox_processes().len() < 3 {
        if std::time::Instant::now() > deadline {
            let _ = grader.kill();
            let _ = grader.wait();
            return Err("the sandboxed ranks never started".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    grader.kill().unwrap();
    grader.wait().unwrap();
    // The killed grader could not remove its scratch directory: this test does.
    for dir in scratch_dirs().difference(&before) {
        let _ = std::fs::remove_dir_all(dir);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut left = leftovers();
        left.extend(sandbox_processes());
        if left.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "still running 10 s after the grader was killed: {}",
                left.join(", ")
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The same network fixture with `--no-sandbox` reaches the listener and fails: the network
/// check above can fail.
fn network_control(listener: &Listener) -> Result<(), Failed> {
    let before = listener.connections();
    let (code, report, _, _, _) = grade("network", "openmpi", &Secrets(vec![]), &["--no-sandbox"])?;
    let part = part_of(&report, "part2").ok_or("no part2")?;
    if code != 1 || part["failure"] != "wrong-result" {
        return Err(format!(
            "expected a wrong result, got exit {code}: {}",
            part["summary"]
        )
        .into());
    }
    if listener.connections() == before {
        return Err("the unsandboxed fixture did not reach the listener".into());
    }
    if report["isolation"] != "off" {
        return Err(format!("isolation is {}", report["isolation"]).into());
    }
    Ok(())
}

/// Files and directories under `root` (not following links) the sandbox user owns: the
/// trusted build cache must hold none after a sandboxed build. Its `runs/` holds the grades'
/// scratch areas, which are the sandbox's to write (and gone after each grade, unless kept
/// with `--keep-runs`; the scratch check of this suite sees to that).
fn owned_by_sandbox(root: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let Some(account) = mpi_grade::sandbox::account(mpi_grade::sandbox::SANDBOX_USER) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path == root.join("runs") {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.uid() == account.uid {
            found.push(path.display().to_string());
        }
        if meta.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    found.sort();
    found.truncate(10);
    found
}

/// What the intake fixtures reach for on the grading host, planted by the suite: a file only
/// root may read (symlink-root-only), a classmate's crate (classmate-path), a git repository
/// (git-dependency). Removed when dropped.
mod planted {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    pub const ROOT_ONLY: &str = "/tmp/mpi-grade-adversarial-root-token";
    pub const CLASSMATE: &str = "/tmp/mpi-grade-adversarial-classmate";
    pub const GIT_REPO: &str = "/tmp/mpi-grade-adversarial-git";
    pub const WRAPPER_MARKER: &str = "/tmp/mpi-grade-adversarial-wrapper-ran";

    /// The secret in the root-only file.
    pub fn token() -> &'static str {
        static TOKEN: OnceLock<String> = OnceLock::new();
        TOKEN.get_or_init(|| format!("root-only-{:x}", super::rand_u64()))
    }

    pub struct Planted;

    impl Planted {
        pub fn new() -> Planted {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::remove_file(ROOT_ONLY);
            std::fs::write(ROOT_ONLY, token()).unwrap();
            std::fs::set_permissions(ROOT_ONLY, std::fs::Permissions::from_mode(0o600)).unwrap();

            let _ = std::fs::remove_dir_all(CLASSMATE);
            std::fs::create_dir_all(Path::new(CLASSMATE).join("src")).unwrap();
            std::fs::write(
                Path::new(CLASSMATE).join("Cargo.toml"),
                "[package]\nname = \"classmate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nmpi = { version = \"0.8\", default-features = false }\n",
            )
            .unwrap();
            let reference = super::repo().join("solutions/reference/src/lib.rs");
            std::fs::copy(reference, Path::new(CLASSMATE).join("src/lib.rs")).unwrap();

            let _ = std::fs::remove_dir_all(GIT_REPO);
            std::fs::create_dir_all(Path::new(GIT_REPO).join("src")).unwrap();
            std::fs::write(
                Path::new(GIT_REPO).join("Cargo.toml"),
                "[package]\nname = \"planted\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            )
            .unwrap();
            std::fs::write(
                Path::new(GIT_REPO).join("src/lib.rs"),
                "pub const PLANTED: u8 = 1;\n",
            )
            .unwrap();
            let git = |args: &[&str]| {
                let status = std::process::Command::new("git")
                    .args(["-c", "user.name=t", "-c", "user.email=t@t", "-C", GIT_REPO])
                    .args(args)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
                assert!(status.is_ok_and(|s| s.success()), "git {args:?}");
            };
            git(&["init", "-q"]);
            git(&["add", "."]);
            git(&["commit", "-q", "-m", "planted"]);
            for dir in git_copies() {
                let _ = std::fs::remove_dir_all(dir);
            }
            Planted
        }

        /// What went wrong with what was planted.
        pub fn check(&self) -> Vec<String> {
            let mut problems = Vec::new();
            let copies = git_copies();
            if !copies.is_empty() {
                problems.push(format!(
                    "the planted git repository was fetched into {copies:?}"
                ));
            }
            problems
        }
    }

    impl Drop for Planted {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(ROOT_ONLY);
            let _ = std::fs::remove_dir_all(CLASSMATE);
            let _ = std::fs::remove_dir_all(GIT_REPO);
        }
    }

    /// Cargo's clones of the planted repository (`$CARGO_HOME/git/{db,checkouts}/<name>-<hash>`).
    fn git_copies() -> Vec<PathBuf> {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
        let Some(home) = home else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for sub in ["git/db", "git/checkouts"] {
            for entry in std::fs::read_dir(home.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with("mpi-grade-adversarial-git")
                {
                    found.push(entry.path());
                }
            }
        }
        found
    }
}

/// `cmd` started through `wrap` (nothing to wrap: `cmd` itself).
fn wrapped(cmd: std::process::Command, wrap: &[&str]) -> std::process::Command {
    let Some((program, args)) = wrap.split_first() else {
        return cmd;
    };
    let mut outer = std::process::Command::new(program);
    outer.args(args).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => outer.env(k, v),
            None => outer.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        outer.current_dir(dir);
    }
    outer.stdin(std::process::Stdio::null());
    outer
}

/// Copies a crate (its manifest and sources, not `target/`).
fn copy_crate(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_crate(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A batch whose first submission's rank leaves a daemon that attacks every process started
/// after it (their memory, their event files): the next submission, a correct one, still
/// passes, and so does the attacker (its exchange is correct).
fn batch_attack(secrets: &Secrets) -> Result<(), Failed> {
    let root = tempfile::tempdir_in(tmp()).unwrap();
    copy_crate(
        &repo().join("tests/adversarial/hopping-daemon"),
        &root.path().join("a-attacker"),
    );
    copy_crate(
        &repo().join("solutions/reference"),
        &root.path().join("b-victim"),
    );
    let out = tempfile::tempdir_in(tmp()).unwrap();
    let (batch, out_dir) = (
        root.path().display().to_string(),
        out.path().display().to_string(),
    );
    let mut cmd = mpi_grade(&[
        "grade",
        "--batch",
        &batch,
        "--config",
        CONFIG,
        "--mpi",
        "openmpi",
        "--seed",
        "1",
        "--out",
        &out_dir,
        "--color",
        "never",
        "-q",
        "--no-compare",
    ]);
    for (k, v) in &secrets.0 {
        cmd.env(k, v);
    }
    let (output, _) = run_measured(cmd, GRADE_LIMIT * 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    for name in ["a-attacker", "b-victim"] {
        let path = out.path().join(format!("{name}.json"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("no report for {name}; stderr:\n{stderr}"));
            continue;
        };
        let report: Value = serde_json::from_str(&text).unwrap();
        match part_of(&report, "part2") {
            Some(p) if p["failure"].is_null() => {}
            Some(p) => problems.push(format!("{name}: part2 {} ({})", p["failure"], p["summary"])),
            None => problems.push(format!("{name}: no part2")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

#[derive(Clone, Copy)]
enum Degraded {
    /// Root without CAP_SYS_ADMIN (a default container). (The ordinary user has its own
    /// set-up: `teacher::as_an_ordinary_user`.)
    NoSysAdmin,
}

/// A representative subset of the fixtures, graded by a grader in a degraded environment: each
/// gets its verdict, with the isolation the environment allows said in the report.
fn degraded(mpi: &str, secrets: &Secrets, how: Degraded) -> Result<(), Failed> {
    let wrap: Vec<String> = match how {
        Degraded::NoSysAdmin => [
            "setpriv",
            "--inh-caps=-sys_admin",
            "--bounding-set=-sys_admin",
            "--",
        ]
        .map(String::from)
        .to_vec(),
    };
    let wrap: Vec<&str> = wrap.iter().map(String::as_str).collect();
    let expected = expectations();
    let mut problems = Vec::new();
    for name in [
        "hopping-daemon",
        "secret-reader",
        "fork-loop",
        "fill-scratch",
    ] {
        let want = &expected[name];
        let (code, report, human, stderr, _) = grade_wrapped(name, mpi, secrets, &[], &wrap)?;
        let isolation = report["isolation"].as_str().unwrap_or("");
        let needed = match how {
            Degraded::NoSysAdmin => "in a user namespace (root without CAP_SYS_ADMIN)",
        };
        if !isolation.contains(needed) || !isolation.contains("own PID namespace") {
            problems.push(format!("{name}: isolation {isolation:?}"));
        }
        if code != want.exit {
            problems.push(format!(
                "{name}: exit {code}, expected {}\n{human}\n{stderr}",
                want.exit
            ));
        }
        let got = part_of(&report, "part2")
            .and_then(|p| p["failure"].as_str())
            .unwrap_or("pass");
        if got != want.parts["part2"] {
            problems.push(format!(
                "{name}: part2 {got}, expected {}\n{human}",
                want.parts["part2"]
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// Where no namespace can be had (here: a user namespace that may not hold another, and
/// whose only user is its root, so the grader can neither set namespaces up itself nor become
/// an unprivileged user), the grader refuses: exit 2, one clear message, no report, nothing
/// built. `--no-sandbox` is the explicit way out.
fn refuses_without_isolation() -> Result<(), Failed> {
    let config = repo().join(CONFIG).display().to_string();
    let cmd = mpi_grade(&[
        "grade",
        "tests/adversarial/hopping-daemon",
        "--config",
        &config,
        "--mpi",
        "openmpi",
        "--color",
        "never",
        "-q",
    ]);
    let script = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"";
    let mut outer = wrapped(
        cmd,
        &[
            "unshare",
            "--user",
            "--map-root-user",
            "--",
            "sh",
            "-c",
            script,
            "sh",
        ],
    );
    let out = run(
        std::mem::replace(&mut outer, std::process::Command::new("true")),
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if code != Some(2) || !stderr.contains("cannot isolate the submission") {
        return Err(format!("exit {code:?}, stderr:\n{stderr}").into());
    }
    if stderr.contains("Compiling") {
        return Err(format!("the grader built before refusing:\n{stderr}").into());
    }
    Ok(())
}

/// The grader run by an ordinary user, a teacher without root: the adversarial fixtures that
/// attack the host, the grader and its secrets, and a cheat, graded by the real binary as
/// `mpi-grade-teacher` (scripts/install-deps creates it; `nobody` where it does not exist), so
/// through the sandbox's user-namespace path.
///
/// The toolchain of this machine (and CI's) is root's, under a home only root may enter. The
/// test, as root, gives the grader a private mount namespace with a tmpfs over `/mnt` in which
/// the toolchain is bound read-only and the user's own state directory (its home, a
/// `CARGO_HOME` whose `bin/` is root's bound read-only and whose registry is a copy, the grade
/// cache, the fixtures) is bound from the test's scratch area; then it drops to the user with
/// `setpriv` and a clean environment (the planted secrets in it). Nothing of that shows on the
/// host, and the grade cache is kept between runs at the same paths, so cargo finds it fresh.
mod teacher {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// The ordinary user.
    const TEACHER: &str = "mpi-grade-teacher";
    /// The tmpfs over `/mnt`, in the grader's mount namespace only.
    const MNT: &str = "/mnt";
    /// The user's world, as the grader sees it.
    const WORLD: &str = "/mnt/mpi-grade-teacher";

    /// The fixtures graded as the ordinary user: (fixture directory, its challenges file, its
    /// row of expectations, grader arguments).
    fn fixtures() -> Vec<(PathBuf, PathBuf, String, Expected, Vec<&'static str>)> {
        let adversarial = expectations();
        let mut list = Vec::new();
        // A daemon that hops pids, and reads and writes other processes: nothing left running.
        // Every secret it can look for: none found. A fork loop: stopped by the limits. A rank
        // killing its ancestors, the grader among them: the grader survives. Writes everywhere:
        // nothing outside the scratch area.
        for name in [
            "hopping-daemon",
            "secret-reader",
            "fork-loop",
            "kill-parent",
            "write-outside",
        ] {
            let want = adversarial[name].clone();
            assert!(want.config.is_none(), "{name}: its config is not copied");
            list.push((
                repo().join("tests/adversarial").join(name),
                repo().join(CONFIG),
                name.to_string(),
                want,
                vec![],
            ));
        }
        // The seed-inverting cheat (tests/fixtures), its part 2 only: it fails.
        let text = std::fs::read_to_string(repo().join("tests/fixtures/expected.toml")).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let mut want: Expected = table["cheat-local"].clone().try_into().unwrap();
        want.parts.retain(|part, _| part == "part2");
        want.mentions.retain(|part, _| part == "part2");
        list.push((
            repo().join("tests/fixtures/cheat-local"),
            repo().join("tests/fixtures/challenges.toml"),
            "cheat-local".to_string(),
            want,
            vec!["--part", "part2"],
        ));
        list
    }

    /// The ordinary user's state on the host, and what is bound into its world.
    struct World {
        user: mpi_grade::sandbox::Account,
        /// `tmp()/ordinary-user`: bound at `WORLD/state`.
        state: PathBuf,
        /// Root's toolchain: `RUSTUP_HOME` (bound at `WORLD/rustup`) and `CARGO_HOME/bin`
        /// (bound at `WORLD/state/cargo/bin`).
        rustup: PathBuf,
        cargo_bin: PathBuf,
        /// The user's processes before any grade (none, for `mpi-grade-teacher`).
        before: std::collections::BTreeSet<i32>,
    }

    /// `path` (under the state directory) as the grader sees it.
    fn inner(world: &World, path: &Path) -> PathBuf {
        Path::new(WORLD)
            .join("state")
            .join(path.strip_prefix(&world.state).unwrap())
    }

    /// Changes the owner of everything under `path` (links themselves, not their targets).
    fn chown_tree(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(path)?.is_dir() {
            for entry in std::fs::read_dir(path)? {
                chown_tree(&entry?.path(), uid, gid)?;
            }
        }
        Ok(())
    }

    /// Live processes whose owner is `uid`.
    fn processes_of(uid: u32) -> Vec<(i32, String)> {
        mpi_grade::run::procs::scan()
            .into_iter()
            .filter(|p| p.is_alive())
            .filter(|p| std::fs::metadata(format!("/proc/{}", p.pid)).is_ok_and(|m| m.uid() == uid))
            .map(|p| (p.pid, p.comm))
            .collect()
    }

    /// Sets the user's world up: its state directory (kept between runs for the grade cache),
    /// the planted secrets in it.
    fn world(secrets: &Secrets) -> Result<World, String> {
        let user = mpi_grade::sandbox::account(TEACHER)
            .or_else(|| {
                eprintln!("no user {TEACHER} (scripts/install-deps creates it): grading as nobody");
                mpi_grade::sandbox::account("nobody")
            })
            .ok_or(format!("neither {TEACHER} nor nobody exists"))?;
        if user.uid == 0
            || Some(user.uid)
                == mpi_grade::sandbox::account(mpi_grade::sandbox::SANDBOX_USER).map(|a| a.uid)
        {
            return Err(format!("{} is root or the sandbox user", user.name));
        }
        let dirs: BTreeMap<String, PathBuf> =
            mpi_grade::sandbox::toolchain_dirs().into_iter().collect();
        let rustup = dirs
            .get("RUSTUP_HOME")
            .ok_or("no RUSTUP_HOME directory")?
            .clone();
        let cargo_home = dirs
            .get("CARGO_HOME")
            .ok_or("no CARGO_HOME directory")?
            .clone();
        let state = tmp().join("ordinary-user");
        let (uid, gid) = (user.uid, user.gid);
        for sub in ["bin", "cargo/bin", "home", "cache", "work"] {
            std::fs::create_dir_all(state.join(sub)).map_err(|e| e.to_string())?;
        }
        // The registry cargo fetches into: a copy of root's (offline, fast), made once.
        let registry = state.join("cargo/registry");
        if !registry.exists() && cargo_home.join("registry").is_dir() {
            let status = std::process::Command::new("cp")
                .arg("-a")
                .arg(cargo_home.join("registry"))
                .arg(&registry)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("cannot copy {}/registry", cargo_home.display()));
            }
        }
        // Old runs' secret configs.
        for entry in std::fs::read_dir(&state)
            .map_err(|e| e.to_string())?
            .flatten()
        {
            if entry.file_name().to_string_lossy().starts_with("secret-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let value = |key: &str| secrets.0.iter().find(|(k, _)| *k == key).unwrap().1.clone();
        // The teacher's secrets: registry credentials in its CARGO_HOME, files planted in its
        // home, next to its cache and its scratch directories (secret-reader looks there), and
        // the config under a path that carries a token.
        std::fs::write(
            state.join("cargo/credentials.toml"),
            format!("[registry]\ntoken = \"{}\"\n", value("DEPLOY_SECRET")),
        )
        .map_err(|e| e.to_string())?;
        let config_dir = state.join(value("MPI_GRADE_CONFIG_TOKEN"));
        std::fs::create_dir_all(&config_dir).map_err(|e| e.to_string())?;
        std::fs::copy(repo().join(CONFIG), config_dir.join("challenges.toml"))
            .map_err(|e| e.to_string())?;
        std::fs::create_dir_all(state.join("cache/runs")).map_err(|e| e.to_string())?;
        for dir in ["", "home", "cargo", "cache", "cache/runs"] {
            std::fs::write(state.join(dir).join(PLANTED), value("MPI_GRADE_PLANTED"))
                .map_err(|e| e.to_string())?;
        }
        chown_tree(&state, uid, gid).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| e.to_string())?;
        std::fs::set_permissions(
            state.join("cargo/credentials.toml"),
            std::fs::Permissions::from_mode(0o600),
        )
        .map_err(|e| e.to_string())?;
        // The grader itself, root's and read-only to the user.
        let exe = state.join("bin/mpi-grade");
        let _ = std::fs::remove_file(&exe);
        std::fs::copy(env!("CARGO_BIN_EXE_mpi-grade"), &exe).map_err(|e| e.to_string())?;
        std::os::unix::fs::lchown(&exe, Some(0), Some(0)).map_err(|e| e.to_string())?;
        std::os::unix::fs::lchown(state.join("bin"), Some(0), Some(0))
            .map_err(|e| e.to_string())?;
        let before = processes_of(uid).into_iter().map(|(pid, _)| pid).collect();
        Ok(World {
            user,
            state,
            rustup,
            cargo_bin: cargo_home.join("bin"),
            before,
        })
    }

    /// The command that runs `args` as the user in its world, with `secrets` in its
    /// environment, in `cwd` (under the state directory).
    fn as_user(
        world: &World,
        secrets: &Secrets,
        cwd: &Path,
        args: &[&str],
    ) -> std::process::Command {
        let script = r#"set -e
mkdir -p "$MNT"
mount -t tmpfs -o mode=755,size=1m mpi-grade-teacher "$MNT"
mkdir -p "$WORLD/rustup" "$WORLD/state"
mount --bind -o ro "$1" "$WORLD/rustup"
mount --bind "$2" "$WORLD/state"
mount --bind -o ro "$3" "$WORLD/state/cargo/bin"
cd "$4"
user="$5"
shift 5
unset MNT WORLD
exec setpriv --reuid="${user%:*}" --regid="${user#*:}" --clear-groups -- "$@""#;
        let mut cmd = std::process::Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c", script, "sh"])
            .arg(&world.rustup)
            .arg(&world.state)
            .arg(&world.cargo_bin)
            .arg(inner(world, cwd))
            .arg(format!("{}:{}", world.user.uid, world.user.gid))
            .arg(inner(world, &world.state.join("bin/mpi-grade")))
            .args(args)
            .env_clear()
            .env("MNT", MNT)
            .env("WORLD", WORLD)
            .env(
                "PATH",
                format!("{WORLD}/state/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            )
            .env("HOME", inner(world, &world.state.join("home")))
            .env("RUSTUP_HOME", format!("{WORLD}/rustup"))
            .env("CARGO_HOME", inner(world, &world.state.join("cargo")))
            .env("MPI_GRADE_CACHE", inner(world, &world.state.join("cache")))
            .env(TEST_MARKER_VAR, marker())
            .stdin(std::process::Stdio::null());
        for (k, v) in &secrets.0 {
            cmd.env(k, v);
        }
        cmd
    }

    /// Whether the user may create the namespaces a grade needs (unprivileged user namespaces
    /// may be switched off: `kernel.unprivileged_userns_clone`, AppArmor's restriction).
    fn user_namespaces(world: &World) -> bool {
        std::process::Command::new("setpriv")
            .arg(format!("--reuid={}", world.user.uid))
            .arg(format!("--regid={}", world.user.gid))
            .args([
                "--clear-groups",
                "--",
                "unshare",
                "--user",
                "--map-current-user",
            ])
            .args(["--mount", "--pid", "--net", "--fork", "--", "true"])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Files the fixtures try to write, in the user's world.
    fn escapes_of(world: &World, name: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for dir in [
            "",
            "home",
            "cargo",
            "cache",
            "cache/runs",
            "cache/openmpi",
            "cache/mpich",
            "work",
        ] {
            for file in [
                "escape",
                "build-escape",
                "mpi-grade-adversarial-escape",
                "mpi-grade-adversarial-build-escape",
            ] {
                found.push(world.state.join(dir).join(file));
            }
        }
        for file in ["escape", "build-escape"] {
            found.push(world.state.join("work").join(name).join(file));
        }
        found.extend(escapes());
        found.into_iter().filter(|p| p.exists()).collect()
    }

    /// One fixture graded as the user: exit code, JSON report, human report, stderr, after the
    /// checks that no secret reached them.
    fn grade(
        world: &World,
        secrets: &Secrets,
        fixture: &Path,
        config: &Path,
        name: &str,
        mpi: &str,
        extra: &[&str],
    ) -> Result<(i32, Value, String, String), Failed> {
        let work = world.state.join("work");
        let _ = std::fs::remove_dir_all(&work);
        copy_crate(fixture, &work.join(name));
        std::fs::copy(config, work.join("challenges.toml")).unwrap();
        chown_tree(&work, world.user.uid, world.user.gid).unwrap();
        // secret-reader looks for the config whose path carries a token.
        let config = if name == "secret-reader" {
            let token = &secrets
                .0
                .iter()
                .find(|(k, _)| *k == "MPI_GRADE_CONFIG_TOKEN")
                .unwrap()
                .1;
            inner(world, &world.state.join(token).join("challenges.toml"))
        } else {
            PathBuf::from("challenges.toml")
        };
        let json = work.join("report.json");
        let (config, json_arg) = (
            config.display().to_string(),
            inner(world, &json).display().to_string(),
        );
        let mut args = vec![
            "grade",
            name,
            "--config",
            &config,
            "--mpi",
            mpi,
            "--seed",
            "1",
            "--json",
            &json_arg,
            "--color",
            "never",
            "-q",
            "--no-compare",
        ];
        args.extend_from_slice(extra);
        let cmd = as_user(world, secrets, &work, &args);
        let (out, _) = run_measured(cmd, GRADE_LIMIT);
        let human = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().unwrap_or(-1);
        let text = std::fs::read_to_string(&json).map_err(|e| {
            format!("no JSON report ({e}); exit {code}\nstdout:\n{human}\nstderr:\n{stderr}")
        })?;
        let report: Value =
            serde_json::from_str(&text).map_err(|e| format!("bad JSON report: {e}\n{text}"))?;
        // The report names the config it was graded with (`config.path`, the human header), by
        // design: the secret config's path is the teacher's, and is only a secret to the ranks. What
        // the ranks found is in the part's message (secret-reader: "found: []").
        let all = format!("{text}{human}{stderr}");
        let all = match report["config"]["path"].as_str() {
            Some(path) => all
                .replace(path, "<config>")
                .replace(&path.replace('/', "\\/"), "<config>"),
            None => all,
        };
        let leaked = secrets.leaked_in(&all);
        if !leaked.is_empty() {
            return Err(format!("{name}: the report shows the values of {leaked:?}").into());
        }
        if [&text, &human, &stderr]
            .iter()
            .any(|t| t.contains(planted::token()))
        {
            return Err(
                format!("{name}: the report shows the planted root-only file's token").into(),
            );
        }
        Ok((code, report, human, stderr))
    }

    /// What is wrong with one fixture's grade as the user.
    fn problems_of(
        name: &str,
        want: &Expected,
        code: i32,
        report: &Value,
        human: &str,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let isolation = report["isolation"].as_str().unwrap_or("");
        if !isolation.contains("user namespace")
            || !isolation.contains("own PID namespace")
            || !isolation.contains("own network")
        {
            problems.push(format!("{name}: isolation {isolation:?}"));
        }
        if code != want.exit {
            problems.push(format!(
                "{name}: exit {code}, expected {}\n{human}",
                want.exit
            ));
        }
        for (part, verdict) in &want.parts {
            let got = part_of(report, part)
                .map(|p| p["failure"].as_str().unwrap_or("pass"))
                .unwrap_or("missing");
            if got != verdict {
                problems.push(format!("{name}: {part} {got}, expected {verdict}\n{human}"));
            }
        }
        for (part, needles) in &want.mentions {
            let Some(p) = part_of(report, part) else {
                continue;
            };
            let text = p.to_string() + &report["build"].to_string();
            for needle in needles {
                if !text.contains(needle.as_str()) {
                    problems.push(format!(
                        "{name}: {part} does not mention {needle:?}\n{human}"
                    ));
                }
            }
        }
        if report["warnings"]
            .to_string()
            .contains("could not be stopped")
        {
            problems.push(format!(
                "{name}: processes survived: {}",
                report["warnings"]
            ));
        }
        problems
    }

    /// Whether this process has CAP_SYS_ADMIN (to mount in a mount namespace of its own).
    fn cap_sys_admin() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("CapEff:"))
                    .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            })
            // CAP_SYS_ADMIN is capability 21.
            .is_some_and(|caps| caps & (1 << 21) != 0)
    }

    pub fn as_an_ordinary_user(mpi: &str, secrets: &Secrets) -> Result<(), Failed> {
        if !cap_sys_admin() {
            // Root in a container without CAP_SYS_ADMIN: the toolchain cannot be bound for the
            // user (root_without_cap_sys_admin covers that environment).
            eprintln!(
                "skipped: this test process has no CAP_SYS_ADMIN, which binding the toolchain \
                 read-only for the ordinary user in a private mount namespace needs"
            );
            return Ok(());
        }
        let world = world(secrets)?;
        let mut problems = Vec::new();
        let fixtures = fixtures();
        if !user_namespaces(&world) {
            // Not a skip: where the kernel gives an ordinary user no namespaces, the grader
            // must refuse (fail closed), and that is what is checked then.
            eprintln!(
                "{} may not create user namespaces on this machine: checking that the grader refuses",
                world.user.name
            );
            let (fixture, config, name, _, _) = &fixtures[0];
            let work = world.state.join("work");
            let _ = std::fs::remove_dir_all(&work);
            copy_crate(fixture, &work.join(name));
            std::fs::copy(config, work.join("challenges.toml")).unwrap();
            chown_tree(&work, world.user.uid, world.user.gid).unwrap();
            let cmd = as_user(
                &world,
                secrets,
                &work,
                &[
                    "grade",
                    name,
                    "--config",
                    "challenges.toml",
                    "--mpi",
                    mpi,
                    "-q",
                ],
            );
            let out = run(cmd, Duration::from_secs(120));
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2) || !stderr.contains("cannot isolate the submission") {
                return Err(format!("exit {:?}, stderr:\n{stderr}", out.status.code()).into());
            }
            return Ok(());
        }
        for (fixture, config, name, want, extra) in &fixtures {
            let (code, report, human, _stderr) =
                grade(&world, secrets, fixture, config, name, mpi, extra)?;
            problems.extend(problems_of(name, want, code, &report, &human));
            // Nothing the grade started may outlive it (the grader waits for its launches).
            let mut left = Vec::new();
            for _ in 0..20 {
                left = processes_of(world.user.uid)
                    .into_iter()
                    .filter(|(pid, _)| !world.before.contains(pid))
                    .map(|(pid, comm)| format!("{pid} ({comm})"))
                    .collect();
                if left.is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if !left.is_empty() {
                problems.push(format!(
                    "{name}: processes of {} still running: {}",
                    world.user.name,
                    left.join(", ")
                ));
            }
            let escaped = escapes_of(&world, name);
            if !escaped.is_empty() {
                problems.push(format!(
                    "{name}: files outside the scratch area: {escaped:?}"
                ));
            }
            let runs: Vec<_> = std::fs::read_dir(world.state.join("cache/runs"))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_name() != PLANTED)
                .map(|e| e.path())
                .collect();
            if !runs.is_empty() {
                problems.push(format!("{name}: scratch directories left behind: {runs:?}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n").into())
        }
    }
}
