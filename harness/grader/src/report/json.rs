//! The JSON report: the `Report` as a pretty-printed document, keys in declaration order.

use super::Report;
use std::io::Write;

/// Writes the report as JSON, with a trailing newline.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
