//! The one boundary where text a submission controls becomes report text.
//!
//! Everything a submission can put into a report (its output, panic messages and their
//! locations, compiler messages quoting its source, what a rank reports, its directory's name)
//! passes [`report`] once, when the grade's [`Report`] is finished, so that every format (the
//! human report, JSON, JUnit, Gradescope, GitHub Classroom, the gradebook CSV, DOT) gets text
//! that is
//!
//! - stripped ([`strip`]): no C0 control character but `\n` and `\t`, no DEL, no C1 control,
//!   no escape sequence (CSI, OSC with its window titles and clipboard writes, DCS, SOS, PM,
//!   APC, the single-character ones: the whole sequence goes, not only its ESC), no bidi
//!   control and no invisible format character that could make text read as something else,
//!   no character XML cannot hold; a carriage return that would overwrite a line becomes a
//!   line break; invalid UTF-8 was already replaced where the bytes were decoded;
//! - capped ([`cap`]): every item to a few KiB, keeping its start (and a little of its end)
//!   and saying how many bytes were cut, and the whole report to a budget
//!   ([`REPORT_BUDGET`]), beyond which items keep only their first [`FLOOR_BYTES`].
//!
//! Stripping cannot stop a line that imitates the grader's own (`part2 ... PASS 1/1`): the
//! renderers show such text behind a gutter ([`GUTTER`]), never at the start of a line. The
//! terminal renderer also filters what it writes once more ([`terminal`]), keeping only the
//! colour sequences it makes itself.

/// A message, a detail, a summary: one item of text.
pub const ITEM_BYTES: usize = 4 << 10;
/// A job's captured output, a compiler's messages (already capped where they were captured).
pub const OUTPUT_BYTES: usize = 16 << 10;
/// A name or a location: a path, `src/lib.rs:12 (part2)`.
pub const NAME_BYTES: usize = 1 << 10;
/// Student-controlled text in one report, all items together.
pub const REPORT_BUDGET: usize = 128 << 10;
/// What an item keeps once the budget is spent: its start, which says what happened.
pub const FLOOR_BYTES: usize = 256;
/// What precedes each line of a submission's text in the text formats.
pub const GUTTER: &str = "│ ";

/// `text` without control characters, escape sequences, bidi controls or invisible
/// formatting; `\r\n` and a lone `\r` become `\n`.
pub fn strip(text: &str) -> String {
    filter(text, false)
}

/// For a terminal: like [`strip`], but the colour sequences (SGR: `ESC [ digits;... m`) stay.
/// The last line of defence of the human renderer, which makes such sequences itself.
pub fn terminal(text: &str) -> String {
    filter(text, true)
}

/// [`strip`], then [`cap`]. A text far over the cap is stripped only where it is kept (a
/// window at each end), so that a huge message costs little.
pub fn clean(text: &str, max_bytes: usize) -> String {
    let window = 2 * max_bytes + 64;
    if text.len() <= 4 * window {
        return cap(&strip(text), max_bytes);
    }
    let head = strip(&text[..floor_boundary(text, window)]);
    let tail = strip(&text[ceil_boundary(text, text.len() - window)..]);
    let head = &head[..floor_boundary(&head, max_bytes * 3 / 4)];
    let tail = &tail[ceil_boundary(&tail, tail.len().saturating_sub(max_bytes / 4))..];
    joined(
        head,
        tail,
        text.len() - head.len() - tail.len(),
        text.contains('\n'),
    )
}

/// A job's output as the grader composes it (`--- stderr (N bytes) ---`, its text, then the
/// same for stdout): [`clean`] on each stream's text, in an equal share of `max_bytes`, so that
/// every stream keeps its header and its end.
pub fn output(text: &str, max_bytes: usize) -> String {
    let is_header = |line: &str| {
        (line.starts_with("--- stderr (") || line.starts_with("--- stdout ("))
            && line.ends_with(" bytes) ---")
            && line.len() < 64
    };
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if is_header(line.trim_end_matches('\n')) {
            starts.push(at);
        }
        at += line.len();
    }
    if starts.len() < 2 || starts.len() > 4 {
        return clean(text, max_bytes);
    }
    starts[0] = 0;
    starts.push(text.len());
    let share = max_bytes / (starts.len() - 1);
    let mut out = String::new();
    for w in starts.windows(2) {
        let section = &text[w[0]..w[1]];
        let (header, body) = section.split_at(section.find('\n').map_or(section.len(), |i| i + 1));
        out.push_str(&strip(header));
        out.push_str(&stream(body.trim_end_matches('\n'), share));
        out.push('\n');
    }
    out
}

/// One stream's captured text in `max_bytes`: when the capture already dropped its middle
/// (`[... N bytes dropped ...]`), its head keeps its start and its tail its end, and one
/// marker says what both cuts dropped.
fn stream(body: &str, max_bytes: usize) -> String {
    let marker = body.find("\n[... ").and_then(|at| {
        let rest = &body[at + 6..];
        let end = rest.find(" bytes dropped ...]\n")?;
        let dropped: u64 = rest[..end].parse().ok()?;
        Some((at, at + 6 + end + " bytes dropped ...]\n".len(), dropped))
    });
    let Some((at, after, dropped)) = marker else {
        return clean(body, max_bytes);
    };
    let head = strip(&body[..at]);
    let tail = strip(&body[after..]);
    let head_kept = &head[..floor_boundary(&head, (max_bytes * 3 / 4).min(head.len()))];
    let from = ceil_boundary(&tail, tail.len().saturating_sub(max_bytes / 4));
    let tail_kept = &tail[from..];
    let cut = (head.len() - head_kept.len() + from) as u64;
    format!(
        "{head_kept}\n[... {} bytes dropped ...]\n{tail_kept}",
        dropped + cut
    )
}

/// [`clean`] on one line: line breaks and tabs become spaces (names, paths, CSV cells).
pub fn line(text: &str, max_bytes: usize) -> String {
    let one: String = strip(text)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    cap(&one, max_bytes)
}

/// `text` in at most about `max_bytes` (the marker aside): its first three quarters and its
/// last quarter, cut at character boundaries, with `… [12 345 678 bytes cut]` between.
pub fn cap(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let head = floor_boundary(text, max_bytes * 3 / 4);
    let tail = ceil_boundary(text, text.len() - (max_bytes - head));
    joined(
        &text[..head],
        &text[tail..],
        tail - head,
        text.contains('\n'),
    )
}

fn joined(head: &str, tail: &str, cut: usize, lines: bool) -> String {
    let cut = crate::fmt::thousands(cut as u64);
    if lines {
        format!("{head}\n… [{cut} bytes cut]\n{tail}")
    } else {
        format!("{head} … [{cut} bytes cut] … {tail}")
    }
}

/// Every line of `text` after the first behind `prefix`: a submission's text that goes on
/// over several lines never starts a line of a report.
pub fn continued(text: &str, prefix: &str) -> String {
    text.trim_end_matches('\n')
        .replace('\n', &format!("\n{prefix}"))
}

/// A CSV cell that a spreadsheet will not run as a formula: a cell starting with `=`, `+`,
/// `-`, `@` (or a tab or carriage return) gets a leading `'`. For text cells only.
pub fn csv_cell(text: &str) -> String {
    let one = line(text, ITEM_BYTES);
    match one.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{one}"),
        _ => one,
    }
}

/// Text inside a double-quoted DOT label: `"` and `\` escaped, one line.
pub fn dot_label(text: &str) -> String {
    line(text, NAME_BYTES)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn filter(text: &str, keep_sgr: bool) -> String {
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\n' | '\t' => out.push(c),
            // `\r\n` is a line break; a lone `\r` would overwrite the line: a break too.
            '\r' if it.peek() == Some(&'\n') => {}
            // For a terminal (text the renderer laid out already, behind its gutters): a new
            // line would escape the gutter, so a stray `\r` just goes.
            '\r' if keep_sgr => {}
            '\r' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\u{1b}' => escape(&mut it, &mut out, keep_sgr),
            // C1 CSI, and C1 DCS, SOS, OSC, PM, APC: as their ESC forms.
            '\u{9b}' => {
                csi(&mut it);
            }
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => string_sequence(&mut it),
            c if dropped(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// After an ESC: the rest of its sequence is consumed; an SGR sequence is kept with `keep_sgr`.
fn escape(it: &mut Chars, out: &mut String, keep_sgr: bool) {
    match it.peek().copied() {
        Some('[') => {
            it.next();
            if let Some(params) = csi(it) {
                if keep_sgr {
                    out.push_str("\u{1b}[");
                    out.push_str(&params);
                    out.push('m');
                }
            }
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            it.next();
            string_sequence(it);
        }
        // `ESC ( B`, `ESC # 8`, ...: intermediates, then a final character.
        Some(' '..='/') => {
            while it.next_if(|c| (' '..='/').contains(c)).is_some() {}
            it.next_if(|c| ('0'..='~').contains(c));
        }
        // `ESC 7`, `ESC c`, `ESC M`, `ESC =`, ...
        Some('0'..='~') => {
            it.next();
        }
        // A lone ESC.
        _ => {}
    }
}

/// The parameters and final byte of a control sequence (after `ESC [`); the parameters when
/// it is a plain SGR (`digits;digits m`).
fn csi(it: &mut Chars) -> Option<String> {
    let mut params = String::new();
    let mut plain = true;
    while let Some(c) = it.next_if(|c| (' '..='?').contains(c)) {
        plain &= c.is_ascii_digit() || c == ';';
        if params.len() < 64 {
            params.push(c);
        } else {
            plain = false;
        }
    }
    let last = it.next_if(|c| ('@'..='~').contains(c));
    (plain && last == Some('m')).then_some(params)
}

/// A string sequence (OSC, DCS, SOS, PM, APC) up to its terminator: BEL, ST (`ESC \` or C1
/// ST), or (not consumed) another ESC or the end of the line, so that an unterminated one
/// cannot swallow the rest of a text.
fn string_sequence(it: &mut Chars) {
    while let Some(&c) = it.peek() {
        match c {
            '\u{7}' | '\u{9c}' => {
                it.next();
                return;
            }
            '\u{1b}' => {
                it.next();
                // ST; any other ESC starts the next sequence.
                if it.next_if_eq(&'\\').is_none() {
                    // Put nothing back: what follows the ESC is judged as an escape of its own.
                    let mut scratch = String::new();
                    escape(it, &mut scratch, false);
                }
                return;
            }
            '\n' => return,
            _ => {
                it.next();
            }
        }
    }
}

/// Characters that never reach a report: controls, bidi controls, invisible formatting,
/// noncharacters (which XML cannot hold).
fn dropped(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || (u & 0xfffe) == 0xfffe
        || (0xfdd0..=0xfdef).contains(&u)
        || matches!(
            c,
            '\u{ad}'
                | '\u{34f}'
                | '\u{61c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{600}'..='\u{605}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{8e2}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nasty inputs and what is left of them.
    const TABLE: &[(&str, &str)] = &[
        ("plain text, ünïcode ✓ 漢字", "plain text, ünïcode ✓ 漢字"),
        ("tabs\tand\nlines\n", "tabs\tand\nlines\n"),
        // Clear screen, cursor home, erase line, cursor up.
        ("a\x1b[2J\x1b[Hb\x1b[2K\x1b[1Ac\x1b[3;1H", "abc"),
        // Colours, bold, 256 and true colour.
        ("\x1b[32;1mPASS\x1b[0m \x1b[38;5;82mx\x1b[38;2;1;2;3my", "PASS xy"),
        // Private modes: hide cursor, alternate screen, bracketed paste.
        ("\x1b[?25l\x1b[?1049h\x1b[?2004hz", "z"),
        // Window title (BEL and ST terminated), OSC 52 clipboard write, hyperlink.
        ("\x1b]0;pwned\x07t\x1b]2;title\x1b\\u", "tu"),
        ("\x1b]52;c;Y3VybCBldmlsfHNo\x07v", "v"),
        ("\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", "link"),
        // An unterminated OSC ends at the line's end, not the text's.
        ("\x1b]0;no end\nnext line", "\nnext line"),
        // DCS (sixel, DECRQSS), SOS, PM, APC.
        ("\x1bPq#0;2;0;0;0#0~~@@\x1b\\d", "d"),
        ("\x1bX sos \x1b\\\x1b^ pm \x1b\\\x1b_ apc \x1b\\e", "e"),
        // Single-character escapes: save/restore cursor, reset, reverse index, charsets, DECALN.
        ("\x1b7f\x1b8\x1bc\x1bMg\x1b(B\x1b#8h", "fgh"),
        // ESC ESC, a lone ESC, one at the end; ESC and a letter is a sequence.
        ("\x1b\x1b\n i\x1b", "\n i"),
        ("\x1bi", ""),
        // C1 forms: CSI, OSC, DCS, ST, NEL, and other C1 controls.
        ("\u{9b}2Jj\u{9d}0;title\u{9c}k\u{90}dcs\u{9c}l\u{85}\u{84}m", "jklm"),
        // C0 controls: BEL, backspace (which overwrites), form feed, vertical tab, NUL, DEL.
        ("n\x07\x08\x08\x0c\x0b\0o\x7fp", "nop"),
        // Carriage returns: CRLF is a break, a lone CR would overwrite the line.
        ("win\r\nline", "win\nline"),
        ("real result\rfake PASS 1/1", "real result\nfake PASS 1/1"),
        // Bidi embeddings, overrides, isolates, marks, the Arabic letter mark.
        (
            "a\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}b\u{2066}\u{2067}\u{2068}\u{2069}c\u{200e}\u{200f}\u{61c}d",
            "abcd",
        ),
        // Zero-width characters, word joiner, BOM, soft hyphen, invisible operators, tags.
        (
            "q\u{200b}\u{200c}\u{200d}\u{2060}\u{2062}\u{feff}\u{ad}r\u{e0041}\u{e007f}s",
            "qrs",
        ),
        // Characters XML cannot hold; line and paragraph separators.
        ("x\u{fffe}\u{ffff}\u{fdd0}\u{1fffe}y\u{2028}z\u{2029}", "xy\nz\n"),
        // The replacement character of invalid UTF-8 stays: it says something was there.
        ("bad \u{fffd} byte", "bad \u{fffd} byte"),
    ];

    #[test]
    fn nasty_inputs_lose_every_control_escape_and_bidi_character() {
        for (input, want) in TABLE {
            assert_eq!(strip(input), *want, "input {input:?}");
            let kept = strip(input);
            assert!(
                !kept
                    .chars()
                    .any(|c| c == '\u{1b}' || (c.is_control() && c != '\n' && c != '\t')),
                "{kept:?}"
            );
        }
    }

    #[test]
    fn the_terminal_filter_keeps_only_colours() {
        let painted = "\x1b[1;32mPASS\x1b[0m\x1b[2J\x1b]0;t\x07\x1b[1A\x1b[38;5;1mx";
        assert_eq!(terminal(painted), "\x1b[1;32mPASS\x1b[0m\x1b[38;5;1mx");
        assert_eq!(terminal("\x1b[?25lq\x1b[>0m"), "q");
        assert_eq!(
            terminal("    │ real\rpart2 PASS\r\n"),
            "    │ realpart2 PASS\n"
        );
    }

    #[test]
    fn long_items_keep_their_start_and_say_how_much_was_cut() {
        let message = format!("index out of bounds: {}", "x".repeat(10_000_000));
        let kept = clean(&message, ITEM_BYTES);
        assert!(kept.len() < ITEM_BYTES + 64, "{}", kept.len());
        assert!(kept.starts_with("index out of bounds: xxx"), "{kept}");
        assert!(kept.contains(" … [9 995 925 bytes cut] … "), "{kept}");
        assert!(kept.ends_with("xxx"));
        // Multi-byte characters are never split.
        let wide = "漢".repeat(5000);
        let kept = cap(&wide, 1001);
        assert!(kept.starts_with('漢') && kept.ends_with('漢'), "{kept}");
        let lines = "line\n".repeat(10_000);
        assert!(cap(&lines, 100).contains("\n… [49 900 bytes cut]\n"));
        assert_eq!(cap("short", 100), "short");
    }

    #[test]
    fn each_stream_of_an_output_keeps_its_header_and_its_end() {
        let flood = "x".repeat(100_000);
        let text = format!(
            "--- stderr (9999999 bytes) ---\n{flood}\nlast err\n--- stdout (8888 bytes) ---\n\x1b[2J{flood}\nlast out\n"
        );
        let kept = output(&text, OUTPUT_BYTES);
        assert!(kept.len() < OUTPUT_BYTES + 128, "{}", kept.len());
        assert!(
            kept.starts_with("--- stderr (9999999 bytes) ---\nxxx"),
            "{kept}"
        );
        assert!(
            kept.contains("last err\n--- stdout (8888 bytes) ---\nxxx"),
            "{kept}"
        );
        assert!(
            kept.ends_with("last out\n") && !kept.contains('\x1b'),
            "{kept}"
        );
        assert_eq!(output("short", 100), "short");
        // What the capture dropped and what the report cuts are said once, together.
        let captured = format!(
            "--- stderr (1000000 bytes) ---\nstart{flood}\n[... 700000 bytes dropped ...]\n{flood}end\n--- stdout (3 bytes) ---\nok\n"
        );
        let kept = output(&captured, OUTPUT_BYTES);
        assert!(kept.len() < OUTPUT_BYTES + 128, "{}", kept.len());
        assert!(
            kept.starts_with("--- stderr (1000000 bytes) ---\nstartxxx"),
            "{kept}"
        );
        let cut = (100_005 - OUTPUT_BYTES / 2 * 3 / 4) + (100_003 - OUTPUT_BYTES / 2 / 4);
        assert!(
            kept.contains(&format!("\n[... {} bytes dropped ...]\n", 700_000 + cut)),
            "{kept}"
        );
        assert!(
            kept.ends_with("xxxend\n--- stdout (3 bytes) ---\nok\n"),
            "{kept}"
        );
    }

    #[test]
    fn continuation_lines_go_behind_the_gutter() {
        assert_eq!(
            continued("panicked: x\npart2 ... PASS 1/1\nscore: 3/3\n", "  │ "),
            "panicked: x\n  │ part2 ... PASS 1/1\n  │ score: 3/3"
        );
    }

    #[test]
    fn csv_cells_cannot_be_formulas_and_dot_labels_cannot_break_out() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for start in ["+1", "-1", "@SUM(A1)"] {
            assert!(csv_cell(start).starts_with('\''), "{start}");
        }
        assert_eq!(csv_cell("alice"), "alice");
        assert_eq!(csv_cell("a\nb\x1b[2J"), "a b");
        assert_eq!(
            dot_label("src/\"]; x [label=\"\\"),
            "src/\\\"]; x [label=\\\"\\\\"
        );
    }
}
