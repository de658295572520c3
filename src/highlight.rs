//! Light YAML colouring for the editor overlay, and text-position helpers for the textarea.
//!
//! The tokenizer is line based and forgiving: it only classifies, it never validates (the
//! engine does that), and the tokens of a line always concatenate back to exactly that line, so
//! the coloured overlay stays aligned with the transparent textarea above it. Pure; no Yew.

/// What a piece of a line is, as a CSS class suffix (`tok-<class>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Plain,
    Comment,
    Key,
    Punct,
    Str,
    Num,
    Keyword,
    DocSep,
}

impl Class {
    pub fn css(self) -> &'static str {
        match self {
            Class::Plain => "tok-plain",
            Class::Comment => "tok-comment",
            Class::Key => "tok-key",
            Class::Punct => "tok-punct",
            Class::Str => "tok-str",
            Class::Num => "tok-num",
            Class::Keyword => "tok-kw",
            Class::DocSep => "tok-docsep",
        }
    }
}

/// Splits one line (without its `\n`) into classified pieces covering all of it.
pub fn tokenize_line(line: &str) -> Vec<(Class, &str)> {
    let mut res = Vec::new();
    let trimmed = line.trim_end();
    if trimmed == "---" || trimmed == "..." || line.starts_with("--- ") {
        res.push((Class::DocSep, line));
        return res;
    }
    let (code, comment) = split_comment(line);
    let mut rest = code;
    // Indentation and sequence dashes.
    let indent = rest.len() - rest.trim_start().len();
    push(&mut res, Class::Plain, &rest[..indent]);
    rest = &rest[indent..];
    while let Some(after) = rest.strip_prefix('-') {
        if after.is_empty() || after.starts_with(' ') {
            push(&mut res, Class::Punct, &rest[..1]);
            rest = after;
            let ws = rest.len() - rest.trim_start().len();
            push(&mut res, Class::Plain, &rest[..ws]);
            rest = &rest[ws..];
        } else {
            break;
        }
    }
    // `key:` (plain or quoted), then the value.
    if let Some(colon) = key_colon(rest) {
        push(&mut res, Class::Key, &rest[..colon]);
        push(&mut res, Class::Punct, &rest[colon..colon + 1]);
        rest = &rest[colon + 1..];
        let ws = rest.len() - rest.trim_start().len();
        push(&mut res, Class::Plain, &rest[..ws]);
        rest = &rest[ws..];
    }
    let value = rest.trim_end();
    push(&mut res, classify_value(value), value);
    push(&mut res, Class::Plain, &rest[value.len()..]);
    push(&mut res, Class::Comment, comment);
    res
}

/// UTF-16 code-unit offset of a byte offset (browsers count selection positions in UTF-16).
/// Offsets inside a character or past the end are clamped to the previous boundary / the end.
pub fn utf16_offset(text: &str, byte: usize) -> u32 {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text.get(..byte)
        .map_or(0, |s| s.encode_utf16().count() as u32)
}

/// 1-based line numbers from `start` to `end` (byte offsets), inclusive, for marking lines.
pub fn line_range(text: &str, start: usize, end: usize) -> (u32, u32) {
    let line_of = |offset: usize| {
        let offset = offset.min(text.len());
        text.as_bytes()
            .get(..offset)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) as u32
            + 1
    };
    let first = line_of(start);
    // A span ending right after a newline does not cover the next line.
    let last_byte = if end > start { end - 1 } else { start };
    (first, line_of(last_byte).max(first))
}

fn push<'a>(res: &mut Vec<(Class, &'a str)>, class: Class, text: &'a str) {
    if !text.is_empty() {
        res.push((class, text));
    }
}

/// Splits off a `# comment` that starts at the line start or after whitespace, outside quotes.
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    let mut prev_ws = true;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => (),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && prev_ws => return (&line[..i], &line[i..]),
            None => (),
        }
        prev_ws = c.is_whitespace();
    }
    (line, "")
}

/// Byte index of the `:` ending a mapping key at the start of `s`, if there is one.
fn key_colon(s: &str) -> Option<usize> {
    let first = s.chars().next()?;
    if matches!(
        first,
        '{' | '[' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`'
    ) {
        return None;
    }
    if first == '"' || first == '\'' {
        let close = s[1..].find(first)? + 1;
        let after = &s[close + 1..];
        return (after.starts_with(':')
            && (after.len() == 1 || after[1..].starts_with([' ', '\t'])))
        .then_some(close + 1);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':'
            && (i + 1 == bytes.len() || bytes[i + 1] == b' ' || bytes[i + 1] == b'\t')
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn classify_value(v: &str) -> Class {
    if v.is_empty() {
        return Class::Plain;
    }
    if v.starts_with('"') || v.starts_with('\'') {
        return Class::Str;
    }
    if matches!(
        v,
        "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "null" | "Null" | "NULL" | "~"
    ) {
        return Class::Keyword;
    }
    if v.starts_with(['{', '[', '|', '>']) {
        return Class::Punct;
    }
    let numeric = v
        .strip_prefix('-')
        .unwrap_or(v)
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.')
        && v.bytes().any(|b| b.is_ascii_digit());
    if numeric {
        Class::Num
    } else {
        Class::Plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(line: &str) -> Vec<(Class, &str)> {
        tokenize_line(line)
    }

    #[test]
    fn tokens_always_concatenate_to_the_line() {
        let lines = [
            "",
            "   ",
            "---",
            "--- # doc",
            "kind: NetworkPolicy",
            "  - port: 9090 # app",
            "  - - nested: 'x' # y",
            "  podSelector: {}  # Apply to all pods",
            "key: \"a # not comment\" # comment",
            "\"quoted key\": value",
            "'q': 1",
            "url: http://x:80/a",
            "- ",
            "-",
            "-x: 1",
            "é: ü # 🚀",
            "    cidr: 169.254.7.127/32",
            "weird: \"unterminated",
            "\t tab: true",
            "a:b",
            "::",
            "\"",
            "'a' b: c",
        ];
        for line in lines {
            let joined: String = tokenize_line(line).iter().map(|(_, t)| *t).collect();
            assert_eq!(joined, line);
        }
    }

    #[test]
    fn classifies_the_usual_pieces() {
        assert_eq!(
            classes("  - port: 9090 # app"),
            vec![
                (Class::Plain, "  "),
                (Class::Punct, "-"),
                (Class::Plain, " "),
                (Class::Key, "port"),
                (Class::Punct, ":"),
                (Class::Plain, " "),
                (Class::Num, "9090"),
                (Class::Plain, " "),
                (Class::Comment, "# app"),
            ]
        );
        assert_eq!(classes("---"), vec![(Class::DocSep, "---")]);
        assert_eq!(
            classes("evil: \"<img src=x onerror=alert(1)>\""),
            vec![
                (Class::Key, "evil"),
                (Class::Punct, ":"),
                (Class::Plain, " "),
                (Class::Str, "\"<img src=x onerror=alert(1)>\""),
            ]
        );
        assert_eq!(classes("url: http://x:80/a")[0], (Class::Key, "url"));
        assert_eq!(classes("enabled: true")[3], (Class::Keyword, "true"));
    }

    #[test]
    fn utf16_offsets_count_code_units() {
        let text = "a: é\nb: 🚀x";
        assert_eq!(utf16_offset(text, 0), 0);
        assert_eq!(utf16_offset(text, 3), 3); // before é
        assert_eq!(utf16_offset(text, 5), 4); // after é (2 bytes, 1 unit)
        let rocket = text.find('🚀').unwrap_or(0);
        assert_eq!(
            utf16_offset(text, rocket + 4),
            utf16_offset(text, rocket) + 2
        );
        assert_eq!(utf16_offset(text, rocket + 1), utf16_offset(text, rocket)); // inside: clamp
        assert_eq!(utf16_offset(text, 999), text.encode_utf16().count() as u32);
    }

    #[test]
    fn line_ranges_are_inclusive_and_one_based() {
        let text = "a\nbb\nccc\n";
        assert_eq!(line_range(text, 0, 1), (1, 1));
        assert_eq!(line_range(text, 2, 9), (2, 3));
        assert_eq!(line_range(text, 2, 5), (2, 2)); // ends right after the newline
        assert_eq!(line_range(text, 50, 60), (4, 4));
    }
}
