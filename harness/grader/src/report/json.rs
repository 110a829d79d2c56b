//! The JSON report: the `Report` as a pretty-printed document, keys in declaration order.
//! `docs/report.schema.json` describes it (JSON Schema, draft 2020-12). The schema allows
//! fields it does not describe (fields are added within a format version); the tests here and
//! the end-to-end tests validate reports against [`strict_schema`], which refuses them, so the
//! schema describes every field mpi-grade writes.

use super::Report;
use std::io::Write;

/// The JSON Schema of the report (`docs/report.schema.json`).
pub const SCHEMA: &str = include_str!("../../../../docs/report.schema.json");

/// The schema with every object it describes closed (`additionalProperties: false` beside each
/// `properties`): what mpi-grade checks its own reports against, so that a field the code
/// writes and the schema does not describe fails a test. Readers use [`SCHEMA`] itself.
pub fn strict_schema() -> serde_json::Value {
    fn close(node: &mut serde_json::Value) {
        match node {
            serde_json::Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), false.into());
                }
                map.values_mut().for_each(close);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    let mut schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    close(&mut schema);
    schema
}

/// Writes the report as JSON, with a trailing newline.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use serde_json::Value;

    fn schema() -> Value {
        serde_json::from_str(SCHEMA).expect("the schema is JSON")
    }

    fn errors_against(schema: &Value, instance: &Value) -> Vec<String> {
        let validator = jsonschema::draft202012::new(schema).expect("the schema is valid");
        validator
            .iter_errors(instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    /// Departures from the strict schema (what mpi-grade writes must all be described).
    fn errors(instance: &Value) -> Vec<String> {
        errors_against(&strict_schema(), instance)
    }

    fn json(report: &Report) -> Value {
        let mut out = Vec::new();
        write(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn every_kind_of_report_matches_the_schema() {
        for report in [
            sample::graded(),
            sample::build_failure(),
            sample::interrupted(),
        ] {
            let value = json(&report);
            let errors = errors(&value);
            assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
        }
    }

    #[test]
    fn the_schema_catches_a_field_it_does_not_describe_or_a_wrong_value() {
        let good = json(&sample::graded());
        let mut added = good.clone();
        added["parts"][0]["runs"][0]["rank_seconds"] = Value::from(1.0);
        added["grader"]["built_on"] = Value::from("a later v1 field");
        assert!(!errors(&added).is_empty());
        // A reader's schema accepts what a later mpi-grade of format version 1 adds.
        let published = errors_against(&schema(), &added);
        assert!(published.is_empty(), "{published:#?}");
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("seed_string");
        assert!(!errors_against(&schema(), &missing).is_empty());
        let mut renamed = good.clone();
        let diagnosis = renamed["parts"][0]["runs"][2]["diagnosis"]
            .as_object_mut()
            .unwrap();
        let cycle = diagnosis.remove("cycle").unwrap();
        diagnosis.insert("cycles".into(), cycle);
        assert!(!errors(&renamed).is_empty());
        let mut outcome = good.clone();
        outcome["parts"][1]["runs"][0]["outcome"] = Value::from("passed");
        assert!(!errors(&outcome).is_empty());
        let mut version = good;
        version["format_version"] = Value::from(2);
        assert!(!errors(&version).is_empty());
    }

    /// Every field a report has is always written (`null` when absent), so the schema requires
    /// every property it describes: one it documents as optional would be one the code lost.
    /// And no object of it is closed: a v1 reader must accept later v1 fields.
    #[test]
    fn the_schema_requires_every_property_it_describes() {
        fn check(path: &str, node: &Value, problems: &mut Vec<String>) {
            if let Some(properties) = node.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = node["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let described: Vec<&str> = properties.keys().map(String::as_str).collect();
                let mut sorted = required.clone();
                sorted.sort_unstable();
                let mut keys = described.clone();
                keys.sort_unstable();
                if node.get("additionalProperties") == Some(&Value::Bool(false)) {
                    problems.push(format!("{path}: refuses fields it does not describe"));
                }
                if sorted != keys {
                    problems.push(format!("{path}: requires {sorted:?}, describes {keys:?}"));
                }
            }
            match node {
                Value::Object(map) => {
                    for (key, child) in map {
                        check(&format!("{path}/{key}"), child, problems);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        check(&format!("{path}/{i}"), child, problems);
                    }
                }
                _ => {}
            }
        }
        let mut problems = Vec::new();
        check("", &schema(), &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
