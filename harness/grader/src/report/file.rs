//! Where reports reach files: results files written whole or not at all (a batch that is
//! killed, or a grader that dies, leaves each file as it was last completed, never
//! half-written), and the one line appended to a file another program collects
//! (`GITHUB_OUTPUT`). The exporters themselves only write to a `Write` they are given.

use std::io::Write;
use std::path::Path;

/// Writes `path` through `write`, into a temporary file beside it that is then renamed over
/// it. Creates the parent directory when it is missing.
pub fn write(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)?;
    let mut file = tempfile::NamedTempFile::new_in(parent)?;
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        write(&mut out)?;
        out.flush()?;
    }
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Appends `line` and a newline to `path`, creating the file when it is missing: for files
/// that several steps add to, such as GitHub Actions' `GITHUB_OUTPUT`.
pub fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/results.json");
        write(&path, |out: &mut dyn Write| out.write_all(b"first\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        let failed = write(&path, |out: &mut dyn Write| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("the grader died"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["results.json"], "no temporary file is left");
    }
}
