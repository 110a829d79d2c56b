//! Submission intake: the student's `Cargo.toml` read as data (never by cargo), checked against
//! the challenge's submission policy (`[challenge.submission]`), and replaced by a manifest the
//! grader writes for the submission's copy.
//!
//! What the grader's manifest takes from the student's is validated data only: the package
//! name and edition, whether the library is a proc macro (when the policy allows it), and the
//! allowed dependencies' names, version requirements (the grader's own for `mpi`) and
//! features. Cargo therefore never reads a manifest, lock file or `.cargo/config.toml` the
//! student wrote, and nothing it fetches comes from anything but crates.io and the allowed
//! crates.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::io::Read;
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use toml::Spanned;

/// The grader's rsmpi: the runtime's requirement, written for a submission's `mpi` too.
pub const MPI_REQUIREMENT: &str = "0.8";
/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 256 << 10;

/// What a submission may be made of (`[challenge.submission]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Crate names the submission may depend on (crates.io versions only). Always holds `mpi`.
    pub dependencies: Vec<String>,
    /// A `build.rs` (or `package.build`) is allowed.
    pub build_script: bool,
    /// `[lib] proc-macro = true` is allowed.
    pub proc_macros: bool,
    /// The grader's manifest forbids the `unsafe_code` lint in the student's crate: `unsafe`
    /// blocks, `#[no_mangle]`, `#[export_name]`, `#[link_section]`, `global_asm!` all fail
    /// the build (and `forbid` cannot be lifted by an `#[allow]` in the crate).
    pub forbid_unsafe: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            dependencies: vec!["mpi".to_string()],
            build_script: false,
            proc_macros: false,
            forbid_unsafe: true,
        }
    }
}

/// `[challenge.submission]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    dependencies: Option<Spanned<Vec<Spanned<String>>>>,
    build_script: Option<bool>,
    proc_macros: Option<bool>,
    forbid_unsafe: Option<bool>,
}

/// Validates `[challenge.submission]`; the defaults when it is absent.
pub fn validate(
    raw: Option<RawPolicy>,
    at: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<Policy> {
    let mut policy = Policy::default();
    let Some(raw) = raw else {
        return Ok(policy);
    };
    if let Some(list) = raw.dependencies {
        let span = list.span();
        let mut names: Vec<String> = Vec::new();
        for name in list.into_inner() {
            let n = name.get_ref();
            if !is_crate_name(n) {
                return Err(at(name.span(), format!("`{n}` is not a crate name")));
            }
            if names.contains(n) {
                return Err(at(name.span(), format!("`{n}` is listed twice")));
            }
            names.push(n.clone());
        }
        if !names.iter().any(|n| n == "mpi") {
            return Err(at(
                span,
                "dependencies must include \"mpi\": the parts' signature uses it".into(),
            ));
        }
        policy.dependencies = names;
    }
    policy.build_script = raw.build_script.unwrap_or(policy.build_script);
    policy.proc_macros = raw.proc_macros.unwrap_or(policy.proc_macros);
    policy.forbid_unsafe = raw.forbid_unsafe.unwrap_or(policy.forbid_unsafe);
    Ok(policy)
}

/// Cargo's rule for package names (ASCII only here), at most 64 characters.
fn is_crate_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 64
}

/// Reads `dir/Cargo.toml` without following a link, as a regular file of bounded size.
pub fn read_manifest(dir: &Path) -> std::result::Result<String, String> {
    let path = dir.join("Cargo.toml");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path);
    let file = match file {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err("Cargo.toml is a symbolic link: the manifest must be a regular file".into())
        }
        Err(_) => {
            return Err(
                "no Cargo.toml here: not a Rust crate (and no .py file: not a Python submission either)"
                    .into(),
            )
        }
    };
    let meta = file
        .metadata()
        .map_err(|_| "Cargo.toml cannot be read".to_string())?;
    if !meta.is_file() {
        return Err("Cargo.toml is not a regular file".into());
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "Cargo.toml is larger than {} KiB",
            MAX_MANIFEST_BYTES >> 10
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|_| "Cargo.toml cannot be read".to_string())?;
    String::from_utf8(bytes).map_err(|_| "Cargo.toml is not UTF-8".to_string())
}

/// What the grader's manifest takes from a student's manifest that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The package name.
    pub name: String,
    /// The Rust edition (2015 when not given).
    pub edition: String,
    /// The library is a proc macro (the policy allows it).
    pub proc_macro: bool,
    /// `build.rs` is built and run (the policy allows it and the crate has one).
    pub build_script: bool,
    /// Allowed `[dependencies]`.
    pub dependencies: Vec<Dependency>,
    /// Allowed `[build-dependencies]` (only with a build script).
    pub build_dependencies: Vec<Dependency>,
}

/// One allowed dependency, as the grader writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The crate's name on crates.io.
    pub name: String,
    /// Its version requirement (rsmpi's is the grader's own).
    pub version: String,
    /// `default-features`.
    pub default_features: bool,
    /// `features`.
    pub features: Vec<String>,
}

const EDITIONS: [&str; 4] = ["2015", "2018", "2021", "2024"];

/// The violations found so far, each one line of the error.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    /// A violation in the manifest: `Cargo.toml: {p}`.
    fn cargo(&mut self, p: String) {
        self.0.push(format!("Cargo.toml: {p}"));
    }
}

/// Checks a student's manifest (`text`) against `policy`. `has_build_rs`: the crate has a
/// `build.rs` at its root (cargo would build it even without `package.build`). Every
/// violation is one line of the error, `Cargo.toml: ...` or `build.rs: ...`.
pub fn check(
    text: &str,
    policy: &Policy,
    has_build_rs: bool,
) -> std::result::Result<Manifest, Vec<String>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        vec![format!(
            "Cargo.toml cannot be parsed: {}",
            e.message().trim()
        )]
    })?;
    let mut problems = Problems::default();
    forbidden_tables(&table, &mut problems);
    let package = table.get("package").and_then(|p| p.as_table());
    let name = package_name(package, &mut problems);
    let edition = match package.and_then(|p| p.get("edition")) {
        None => "2015".to_string(),
        Some(toml::Value::String(e)) if EDITIONS.contains(&e.as_str()) => e.clone(),
        Some(_) => {
            problems.cargo(format!(
                "`package.edition` must be one of {}",
                EDITIONS.join(", ")
            ));
            String::new()
        }
    };
    if package.is_some_and(|p| p.contains_key("workspace")) {
        problems.cargo("`package.workspace` is not allowed in a submission".into());
    }
    let wants_build = build_script(package, policy, has_build_rs, &mut problems);
    let proc_macro = lib_section(&table, policy, &mut problems);
    let dependencies = check_dependencies(&table, "dependencies", policy, &mut problems);
    let build_dependencies = if wants_build && policy.build_script {
        check_dependencies(&table, "build-dependencies", policy, &mut problems)
    } else {
        Vec::new()
    };
    if !dependencies.iter().any(|d| d.name == "mpi")
        && !problems.0.iter().any(|p| p.contains("dependency `mpi`"))
    {
        problems.cargo("the crate must depend on `mpi` (the parts' signature uses it)".into());
    }
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(Manifest {
        name,
        edition,
        proc_macro,
        build_script: wants_build,
        dependencies,
        build_dependencies,
    })
}

/// Tables that would change how cargo builds the grader's driver.
fn forbidden_tables(table: &toml::Table, problems: &mut Problems) {
    for (key, what) in [
        ("workspace", "a `[workspace]`"),
        ("patch", "`[patch]`"),
        ("replace", "`[replace]`"),
        ("cargo-features", "`cargo-features`"),
    ] {
        if table.contains_key(key) {
            problems.cargo(format!("{what} is not allowed in a submission"));
        }
    }
    if table.contains_key("target") {
        problems
            .cargo("`[target.*]` tables (platform-specific dependencies) are not allowed".into());
    }
}

/// `package.name`: a crate name not reserved for the grader (empty when it is wrong).
fn package_name(package: Option<&toml::Table>, problems: &mut Problems) -> String {
    match package.and_then(|p| p.get("name")) {
        None => {
            problems.cargo("there is no `[package]` name".into());
            String::new()
        }
        Some(toml::Value::String(n)) if is_crate_name(n) => {
            if n.starts_with("mpi-grade") || n.starts_with("mpi_grade") {
                problems.cargo(format!("the package name `{n}` is reserved for the grader"));
            }
            n.clone()
        }
        Some(_) => {
            problems
                .cargo("`package.name` must be a crate name (letters, digits, `-`, `_`)".into());
            String::new()
        }
    }
}

/// Whether the crate has a build script cargo would run (`package.build`, or a `build.rs`),
/// and whether the policy lets it.
fn build_script(
    package: Option<&toml::Table>,
    policy: &Policy,
    has_build_rs: bool,
    problems: &mut Problems,
) -> bool {
    let wants_build = match package.and_then(|p| p.get("build")) {
        None => has_build_rs,
        Some(toml::Value::Boolean(b)) => *b,
        Some(toml::Value::String(s)) if s == "build.rs" => true,
        Some(_) if !policy.build_script => true,
        Some(_) => {
            problems.cargo("`package.build` must be \"build.rs\" (or false)".into());
            false
        }
    };
    if wants_build && !policy.build_script {
        problems.0.push(if has_build_rs {
            "build.rs: build scripts are not allowed in this challenge".to_string()
        } else {
            "Cargo.toml: `package.build`: build scripts are not allowed in this challenge"
                .to_string()
        });
    }
    if wants_build && policy.build_script && !has_build_rs {
        problems.cargo("`package.build` names no build.rs at the crate's root".into());
    }
    wants_build
}

/// `[lib]`: its path, and whether it is a proc macro (which the policy must allow).
fn lib_section(table: &toml::Table, policy: &Policy, problems: &mut Problems) -> bool {
    let mut proc_macro = false;
    if let Some(lib) = table.get("lib").and_then(|l| l.as_table()) {
        for key in ["proc-macro", "proc_macro"] {
            if lib.get(key).and_then(|v| v.as_bool()) == Some(true) {
                proc_macro = true;
            }
        }
        if let Some(path) = lib.get("path") {
            if path.as_str() != Some("src/lib.rs") {
                problems.cargo("`[lib] path` must be src/lib.rs (where the parts are)".into());
            }
        }
    }
    if proc_macro && !policy.proc_macros {
        problems.cargo("`[lib] proc-macro`: proc macros are not allowed in this challenge".into());
    }
    proc_macro
}

/// The dependencies of `section` the policy allows, as the grader writes them.
fn check_dependencies(
    table: &toml::Table,
    section: &str,
    policy: &Policy,
    problems: &mut Problems,
) -> Vec<Dependency> {
    let Some(deps) = table.get(section) else {
        return Vec::new();
    };
    let Some(deps) = deps.as_table() else {
        problems.cargo(format!("`[{section}]` must be a table"));
        return Vec::new();
    };
    deps.iter()
        .filter_map(|(name, spec)| {
            let mut problem = |what: String| problems.cargo(format!("dependency `{name}` {what}"));
            let spec = admitted_spec(name, spec, policy, &mut problem)?;
            dependency(name, &spec, &mut problem)
        })
        .collect()
}

/// A dependency's table (`"1.0"` is `{ version = "1.0" }`) when it comes from crates.io, the
/// policy allows it, and it has no key but version and features. `problem` gets what follows
/// "dependency `name`".
fn admitted_spec(
    name: &str,
    spec: &toml::Value,
    policy: &Policy,
    problem: &mut dyn FnMut(String),
) -> Option<toml::Table> {
    let allowed = policy.dependencies.join(", ");
    let spec = match spec {
        toml::Value::String(v) => {
            let mut t = toml::Table::new();
            t.insert("version".into(), toml::Value::String(v.clone()));
            t
        }
        toml::Value::Table(t) => t.clone(),
        _ => {
            problem("must be a version or a table".into());
            return None;
        }
    };
    let sources = [
        ("path", "is a path dependency"),
        ("git", "is a git dependency"),
        ("registry", "comes from another registry"),
        ("registry-index", "comes from another registry"),
        ("workspace", "is inherited from a workspace"),
        ("package", "is renamed (`package = ...`)"),
    ];
    if let Some((_, what)) = sources.iter().find(|(k, _)| spec.contains_key(*k)) {
        problem(format!(
            "{what}: only crates.io versions of {allowed} are allowed in this challenge"
        ));
        return None;
    }
    if !policy.dependencies.iter().any(|a| a == name) {
        problem(format!(
            "is not allowed in this challenge; allowed: {allowed}"
        ));
        return None;
    }
    let keys = [
        "version",
        "features",
        "default-features",
        "default_features",
    ];
    if let Some(key) = spec.keys().find(|k| !keys.contains(&k.as_str())) {
        problem(format!(
            "has the key `{key}`, which submissions may not use"
        ));
        return None;
    }
    Some(spec)
}

/// An admitted dependency's version (rsmpi's is the grader's own), default features and
/// features, each checked.
fn dependency(
    name: &str,
    spec: &toml::Table,
    problem: &mut dyn FnMut(String),
) -> Option<Dependency> {
    let Some(version) = spec.get("version").and_then(|v| v.as_str()) else {
        problem("needs a version".into());
        return None;
    };
    let version = if name == "mpi" {
        if !compatible_with_mpi(version) {
            problem(format!(
                "asks for version `{version}`; the grader builds with rsmpi {MPI_REQUIREMENT}: ask for \"{MPI_REQUIREMENT}\""
            ));
            return None;
        }
        MPI_REQUIREMENT.to_string()
    } else {
        if !is_version_requirement(version) {
            problem(format!(
                "has a version requirement `{version}` that cannot be read"
            ));
            return None;
        }
        version.to_string()
    };
    let default_features = ["default-features", "default_features"]
        .iter()
        .find_map(|k| spec.get(*k))
        .map(|v| v.as_bool().ok_or(()));
    let default_features = match default_features {
        None => true,
        Some(Ok(b)) => b,
        Some(Err(())) => {
            problem("has a `default-features` that is not true or false".into());
            return None;
        }
    };
    let features: Option<Vec<String>> = match spec.get("features") {
        None => Some(Vec::new()),
        Some(toml::Value::Array(list)) => list
            .iter()
            .map(|f| {
                f.as_str()
                    .filter(|f| is_feature_name(f))
                    .map(str::to_string)
            })
            .collect(),
        Some(_) => None,
    };
    let Some(features) = features else {
        problem("has `features` that are not a list of feature names".into());
        return None;
    };
    Some(Dependency {
        name: name.to_string(),
        version,
        default_features,
        features,
    })
}

fn is_feature_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'))
}

/// Characters of a semver requirement, and at least one digit or `*`.
fn is_version_requirement(req: &str) -> bool {
    !req.is_empty()
        && req.len() <= 64
        && req.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '.' | '*' | '^' | '~' | '=' | '<' | '>' | ',' | ' ' | '-' | '+'
                )
        })
        && req.chars().any(|c| c.is_ascii_digit() || c == '*')
}

/// Whether the requirement `req` accepts some rsmpi 0.8.x.
fn compatible_with_mpi(req: &str) -> bool {
    (0..100).any(|patch| matches_version(req, (0, 8, patch)) == Some(true))
}

/// Cargo's semantics of a version requirement (comparators separated by commas), without
/// pre-releases. `None` when it cannot be read.
fn matches_version(req: &str, v: (u64, u64, u64)) -> Option<bool> {
    let mut all = true;
    for comparator in req.split(',') {
        let c = comparator.trim();
        let (op, rest) = ["<=", ">=", "<", ">", "=", "^", "~"]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("^", c));
        let parts: Vec<&str> = rest.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        // Numbers until the first wildcard.
        let mut numbers: Vec<u64> = Vec::new();
        for p in &parts {
            if matches!(*p, "*" | "x" | "X") {
                break;
            }
            numbers.push(p.parse().ok()?);
        }
        let (lower, upper) = bounds(op, &numbers)?;
        all &= lower.is_none_or(|l| v >= l) && upper.is_none_or(|u| v < u);
    }
    Some(all)
}

type Version = (u64, u64, u64);

/// The half-open range `[lower, upper)` of a comparator.
fn bounds(op: &str, n: &[u64]) -> Option<(Option<Version>, Option<Version>)> {
    let full = |n: &[u64]| (n[0], *n.get(1).unwrap_or(&0), *n.get(2).unwrap_or(&0));
    // The first version past every version the partial `n` names.
    let past = |n: &[u64]| match n.len() {
        1 => (n[0] + 1, 0, 0),
        2 => (n[0], n[1] + 1, 0),
        _ => (n[0], n[1], n[2] + 1),
    };
    if n.is_empty() {
        return match op {
            "^" | "=" | "~" | ">=" | "<=" => Some((None, None)),
            _ => None,
        };
    }
    let at = full(n);
    Some(match op {
        "=" => (Some(at), Some(past(n))),
        ">=" => (Some(at), None),
        ">" => (Some(past(n)), None),
        "<" => (None, Some(at)),
        "<=" => (None, Some(past(n))),
        "~" => (
            Some(at),
            Some(if n.len() == 1 {
                (n[0] + 1, 0, 0)
            } else {
                (n[0], n[1] + 1, 0)
            }),
        ),
        _ => {
            // Caret: the leftmost non-zero number named may not change.
            let upper = match n {
                [m, ..] if *m > 0 => (m + 1, 0, 0),
                [0] => (1, 0, 0),
                [0, m] | [0, m, _] if *m > 0 => (0, m + 1, 0),
                [0, 0] => (0, 1, 0),
                _ => past(n),
            };
            (Some(at), Some(upper))
        }
    })
}

/// The manifest the grader writes for a submission's copy.
pub fn manifest_text(m: &Manifest, policy: &Policy) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut text = format!(
        "# Written by mpi-grade from the submission's Cargo.toml, checked against the challenge's\n\
         # submission policy: cargo never reads the student's own manifest.\n\
         [package]\nname = {}\nversion = \"0.0.0\"\nedition = {}\npublish = false\n\
         build = {}\nautolib = false\nautobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\n\
         [lib]\npath = \"src/lib.rs\"\n",
        quote(&m.name),
        quote(&m.edition),
        if m.build_script { "\"build.rs\"" } else { "false" },
    );
    if m.proc_macro {
        text.push_str("proc-macro = true\n");
    }
    for (section, deps) in [
        ("dependencies", &m.dependencies),
        ("build-dependencies", &m.build_dependencies),
    ] {
        if deps.is_empty() {
            continue;
        }
        text.push_str(&format!("\n[{section}]\n"));
        for d in deps {
            let features: Vec<String> = d.features.iter().map(|f| quote(f)).collect();
            text.push_str(&format!(
                "{} = {{ version = {}, default-features = {}, features = [{}] }}\n",
                d.name,
                quote(&d.version),
                d.default_features,
                features.join(", ")
            ));
        }
    }
    if policy.forbid_unsafe {
        text.push_str("\n[lints.rust]\nunsafe_code = \"forbid\"\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Manifest {
        check(text, &Policy::default(), false).unwrap_or_else(|p| panic!("{p:?}"))
    }

    fn problems(text: &str, build_rs: bool) -> String {
        check(text, &Policy::default(), build_rs)
            .expect_err("rejected")
            .join("\n")
    }

    const HEAD: &str = "[package]\nname = \"s\"\nedition = \"2021\"\n";

    #[test]
    fn the_template_manifest_passes_and_is_rewritten() {
        let m = ok(&format!(
            "{HEAD}\n[dependencies]\nmpi = {{ version = \"0.8\", default-features = false }}\n[dev-dependencies]\nrand = \"0.9\"\n[[bin]]\nname = \"x\"\npath = \"src/main.rs\"\n[profile.release]\nopt-level = 0\n"
        ));
        assert_eq!(m.name, "s");
        assert_eq!(m.edition, "2021");
        let text = manifest_text(&m, &Policy::default());
        let table: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(table["package"]["build"].as_bool(), Some(false));
        assert_eq!(table["lib"]["path"].as_str(), Some("src/lib.rs"));
        assert_eq!(
            table["lints"]["rust"]["unsafe_code"].as_str(),
            Some("forbid")
        );
        let mpi = &table["dependencies"]["mpi"];
        assert_eq!(mpi["version"].as_str(), Some(MPI_REQUIREMENT));
        assert_eq!(mpi["default-features"].as_bool(), Some(false));
        assert!(table.get("dev-dependencies").is_none() && table.get("bin").is_none());
        assert!(table.get("profile").is_none());
    }

    #[test]
    fn violations_name_what_is_wrong() {
        let with = |deps: &str| format!("{HEAD}[dependencies]\nmpi = \"0.8\"\n{deps}\n");
        let p = problems(&with("libc = \"0.2\""), false);
        assert_eq!(
            p,
            "Cargo.toml: dependency `libc` is not allowed in this challenge; allowed: mpi"
        );
        assert!(problems(&with("x = { path = \"../x\" }"), false)
            .contains("dependency `x` is a path dependency"));
        assert!(problems(&with("x = { git = \"file:///tmp/x\" }"), false)
            .contains("dependency `x` is a git dependency"));
        assert!(
            problems(&with("x = { version = \"1\", registry = \"r\" }"), false)
                .contains("another registry")
        );
        // Even an allowed name is refused from elsewhere.
        let p = problems(
            &format!("{HEAD}[dependencies]\nmpi = {{ path = \"/tmp/mpi\" }}\n"),
            false,
        );
        assert!(p.contains("dependency `mpi` is a path dependency"), "{p}");
        assert!(
            problems(&with("[patch.crates-io]\nmpi = { path = \"m\" }"), false)
                .contains("`[patch]`")
        );
        assert!(
            problems(&with("[replace]\n\"mpi:0.8.2\" = { path = \"m\" }"), false)
                .contains("`[replace]`")
        );
        assert!(problems(&with("[workspace]"), false).contains("`[workspace]`"));
        assert!(problems(&with("[lib]\nproc-macro = true"), false)
            .contains("proc macros are not allowed"));
        assert!(problems(&with("[lib]\npath = \"lib.rs\""), false).contains("src/lib.rs"));
        assert!(problems(&with(""), true).contains("build.rs: build scripts are not allowed"));
        let p = problems(
            "[package]\nname = \"s\"\nbuild = \"gen.rs\"\n[dependencies]\nmpi = \"0.8\"\n",
            false,
        );
        assert!(
            p.contains("`package.build`: build scripts are not allowed"),
            "{p}"
        );
        assert!(problems(
            &with("[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\""),
            false
        )
        .contains("[target.*]"));
        assert!(
            problems(&format!("{HEAD}[dependencies]\nmpi = \"0.7\"\n"), false)
                .contains("asks for version `0.7`")
        );
        assert!(problems(HEAD, false).contains("must depend on `mpi`"));
        assert!(problems("[package\n", false).contains("cannot be parsed"));
        assert!(problems(
            "[package]\nname = \"mpi-grade-runtime\"\n[dependencies]\nmpi = \"0.8\"\n",
            false
        )
        .contains("reserved"));
        assert!(problems(
            &format!("{HEAD}[dependencies]\nmpi = {{ version = \"0.8\", optional = true }}\n"),
            false
        )
        .contains("`optional`"));
        // A build script allowed by the policy is kept.
        let policy = Policy {
            build_script: true,
            ..Policy::default()
        };
        let m = check(&with(""), &policy, true).unwrap();
        assert!(m.build_script);
        assert!(manifest_text(&m, &policy).contains("build = \"build.rs\""));
    }

    #[test]
    fn mpi_requirements_must_accept_rsmpi_0_8() {
        for req in [
            "0.8",
            "0.8.2",
            "^0.8",
            "~0.8.1",
            "=0.8.2",
            "0.8.*",
            "*",
            ">=0.7, <0.9",
            ">=0.8",
        ] {
            assert!(compatible_with_mpi(req), "{req}");
        }
        for req in [
            "0.7", "0.9", "1", "^0.9.1", "=0.7.0", "<0.8", ">0.8", "0.8.x.y", "nonsense",
        ] {
            assert!(!compatible_with_mpi(req), "{req}");
        }
    }

    #[test]
    fn manifests_are_never_read_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("Cargo.toml")).unwrap();
        assert!(read_manifest(dir.path())
            .unwrap_err()
            .contains("symbolic link"));
        std::fs::remove_file(dir.path().join("Cargo.toml")).unwrap();
        std::fs::create_dir(dir.path().join("Cargo.toml")).unwrap();
        assert!(read_manifest(dir.path())
            .unwrap_err()
            .contains("not a regular file"));
    }
}
