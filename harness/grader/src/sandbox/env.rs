//! The environment a sandboxed process gets: an allow-list of what MPI, cargo, rustc and the
//! runtime need, never a secret.

/// Variables passed on as they are.
const ALLOWED: &[&str] = &[
    "PATH",
    "LANG",
    "LANGUAGE",
    "TZ",
    "RUSTUP_TOOLCHAIN",
    "OMPI_ALLOW_RUN_AS_ROOT",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM",
];

/// Prefixes of variables passed on: locale, and the tuning knobs of the MPI libraries.
const ALLOWED_PREFIXES: &[&str] = &[
    "LC_",
    "OMPI_MCA_",
    "PMIX_MCA_",
    "MPICH_",
    "MPIR_CVAR_",
    "HYDRA_",
    "UCX_",
];

/// Whether a variable's name says it holds a secret (or CI credentials): never passed on,
/// whatever the allow-list says.
pub fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const MARKS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "_KEY",
        "APIKEY",
        "API_KEY",
        "AUTH",
        "COOKIE",
        "SESSION",
    ];
    const PREFIXES: &[&str] = &[
        "GITHUB_",
        "ACTIONS_",
        "RUNNER_",
        "GITLAB_",
        "CI_",
        "AWS_",
        "AZURE_",
        "GOOGLE_",
        "GCP_",
        "SSH_",
        "GPG_",
        "NPM_",
        "DOCKER_",
        "JENKINS_",
        "BUILDKITE_",
        "CIRCLE_",
        "TRAVIS_",
    ];
    upper.ends_with("KEY")
        || MARKS.iter().any(|m| upper.contains(m))
        || PREFIXES.iter().any(|p| upper.starts_with(p))
}

/// Whether the grader's variable `name` may reach a sandboxed process.
pub fn is_allowed(name: &str) -> bool {
    !is_secret(name)
        && (ALLOWED.contains(&name) || ALLOWED_PREFIXES.iter().any(|p| name.starts_with(p)))
}

/// The variables of `vars` a sandboxed process may inherit.
pub fn inherited(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    vars.filter(|(name, _)| is_allowed(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_pass() {
        for name in [
            "GITHUB_TOKEN",
            "CI_JOB_TOKEN",
            "MY_API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "OMPI_MCA_SECRET",
            "SSH_AUTH_SOCK",
            "CARGO_REGISTRY_TOKEN",
            "DEPLOY_KEY",
        ] {
            assert!(!is_allowed(name), "{name}");
        }
    }

    #[test]
    fn what_mpi_and_cargo_need_passes() {
        for name in [
            "PATH",
            "LC_ALL",
            "OMPI_MCA_btl",
            "RUSTUP_TOOLCHAIN",
            "UCX_TLS",
        ] {
            assert!(is_allowed(name), "{name}");
        }
        for name in [
            "HOME",
            "USER",
            "SHELL",
            "LD_PRELOAD",
            "RUSTFLAGS",
            "http_proxy",
        ] {
            assert!(!is_allowed(name), "{name}");
        }
        let vars = vec![
            ("PATH".to_string(), "/usr/bin".to_string()),
            ("GITHUB_TOKEN".to_string(), "x".to_string()),
        ];
        assert_eq!(
            inherited(vars.into_iter()),
            vec![("PATH".to_string(), "/usr/bin".to_string())]
        );
    }
}
