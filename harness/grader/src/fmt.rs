//! Numbers as every report and message writes them: sizes with thousands separated, durations
//! with a unit, points and seconds without trailing zeros, byte counts.
//!
//! A leaf: it imports nothing of the grader, so any module may use it without a cycle.

/// `1234567` as `"1 234 567"`: sizes read at a glance in tables.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `1` as `"1st"`, `12` as `"12th"`, `23` as `"23rd"`.
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `3 ranks, 1 000 elements per block`: a cell's rank count and size, for people.
pub fn ranks_and_size(ranks: u32, scaling_factor: u64) -> String {
    let elements = if scaling_factor == 1 {
        "element"
    } else {
        "elements"
    };
    format!(
        "{ranks} ranks, {} {elements} per block",
        thousands(scaling_factor)
    )
}

/// A number to two decimals without trailing zeros: `10`, `0.5`, `1.25`.
pub fn trimmed(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Seconds without trailing zeros, as limits are written: `10`, `0.5`.
pub fn seconds_text(seconds: f64) -> String {
    trimmed(seconds)
}

/// Points as people write them: `2`, `1.5`.
pub fn points(points: f64) -> String {
    trimmed(points)
}

/// A measured duration with its unit, to two or three significant digits: `12µs`, `1.2ms`,
/// `34ms`, `2.50s`, `12.5s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 1e-3 {
        format!("{:.0}µs", seconds * 1e6)
    } else if seconds < 1e-2 {
        format!("{:.1}ms", seconds * 1e3)
    } else if seconds < 1.0 {
        format!("{:.0}ms", seconds * 1e3)
    } else {
        format!("{}s", seconds_fixed(seconds))
    }
}

/// Seconds without a unit, two decimals below ten and one above: `2.50`, `12.5`.
pub fn seconds_fixed(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.2}")
    } else {
        format!("{seconds:.1}")
    }
}

/// A byte count in the largest unit that keeps two digits: `512 B`, `12 KiB`, `40 MiB`.
pub fn bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 10 << 20 => format!("{} MiB", b >> 20),
        b if b >= 10 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 103, 111]
            .map(ordinal)
            .into();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd",
                "111th"
            ]
        );
    }

    #[test]
    fn sizes_and_seconds_read_well() {
        assert_eq!(thousands(1), "1");
        assert_eq!(thousands(1000), "1 000");
        assert_eq!(thousands(100000), "100 000");
        assert_eq!(thousands(1234567), "1 234 567");
        assert_eq!(seconds_text(10.0), "10");
        assert_eq!(seconds_text(0.5), "0.5");
        assert_eq!(points(1.25), "1.25");
        assert_eq!(points(0.0), "0");
        assert_eq!(ranks_and_size(2, 1), "2 ranks, 1 element per block");
        assert_eq!(
            ranks_and_size(3, 10000),
            "3 ranks, 10 000 elements per block"
        );
    }

    #[test]
    fn durations_keep_two_or_three_digits() {
        assert_eq!(duration(12e-6), "12µs");
        assert_eq!(duration(1.25e-3), "1.2ms");
        assert_eq!(duration(0.034), "34ms");
        assert_eq!(duration(2.5), "2.50s");
        assert_eq!(duration(12.34), "12.3s");
        assert_eq!(seconds_fixed(3.0), "3.00");
    }

    #[test]
    fn bytes_take_the_largest_unit_with_two_digits() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(10 << 10), "10 KiB");
        assert_eq!(bytes((10 << 10) - 1), "10239 B");
        assert_eq!(bytes(40 << 20), "40 MiB");
    }
}
