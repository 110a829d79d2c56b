//! Writes 5 GiB into OUT_DIR, in files below any per-file limit.
use std::io::Write;

fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let block = vec![0x5au8; 1 << 20];
    for i in 0..80 {
        let Ok(mut file) = std::fs::File::create(format!("{out}/fill-{i}")) else {
            return;
        };
        for _ in 0..64 {
            if file.write_all(&block).is_err() {
                return;
            }
        }
    }
}
