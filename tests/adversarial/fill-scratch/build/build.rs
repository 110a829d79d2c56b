//! Writes 1 MiB files (below the per-file limit) into OUT_DIR, on disk in the build's target
//! directory, and /tmp in turn, up to 3 GiB; once nothing takes a byte more, waits: only the
//! build's total scratch cap can end it before the build time limit.
use std::io::Write;

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let places = [out, std::env::temp_dir()];
    let block = vec![0x5au8; 1 << 20];
    let mut open = [true; 2];
    let mut i = 0usize;
    while open.iter().any(|&o| o) && i < 3072 {
        let at = i % places.len();
        i += 1;
        if !open[at] {
            continue;
        }
        let path = places[at].join(format!("fill-{i}"));
        if std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&block))
            .is_err()
        {
            open[at] = false;
        }
    }
    if open.iter().any(|&o| o) {
        return;
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
