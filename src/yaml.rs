//! YAML in and out.
//!
//! Reading uses `serde_norway` (the maintained successor of `serde_yaml`). Writing uses
//! the small emitter below instead of a serializer, because what we print is read by
//! Kubernetes and Crossplane tooling whose YAML readers follow YAML 1.1: there `yes`,
//! `on`, `no`, `0777` and `1:20` are not strings unless quoted. The emitter prints a
//! string plain only when it is unambiguous under both YAML 1.1 and 1.2, and
//! double-quotes (with JSON escapes, which YAML accepts) everything else. Pure: no I/O.

use serde_json::Value;

/// Errors reading YAML.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(String);

/// Parses a stream of YAML documents into JSON values, skipping empty documents.
pub fn from_str_multi(text: &str) -> Result<Vec<Value>, YamlError> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| YamlError(e.to_string()))?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// Renders JSON values as a YAML stream, one document each, separated by `---`.
/// Top-level objects print `apiVersion`, `kind` and `metadata` first.
pub fn to_yaml_stream(documents: &[Value]) -> String {
    let mut out = String::new();
    for document in documents {
        out.push_str("---\n");
        out.push_str(&to_yaml(document));
    }
    out
}

/// Renders one JSON value as a YAML document (without a leading `---`).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(k, _)| match k.as_str() {
                "apiVersion" => 0,
                "kind" => 1,
                "metadata" => 2,
                _ => 3,
            });
            write_entries(&mut out, entries.into_iter(), 0);
        }
        Value::Array(items) if !items.is_empty() => write_items(&mut out, items, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_entries<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    level: usize,
) {
    for (key, value) in entries {
        indent(out, level);
        write_string(out, key, level, true);
        out.push(':');
        write_nested(out, value, level);
    }
}

fn write_items(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first entry shares the dash's line; the rest align under it.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 1);
                    }
                    write_string(out, key, level + 1, true);
                    out.push(':');
                    write_nested(out, value, level + 1);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_items(out, inner, level + 1);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, level + 1);
                out.push('\n');
            }
        }
    }
}

/// Writes what follows `key:` — a nested block on the next lines, or a scalar.
fn write_nested(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_entries(out, map.iter(), level + 1);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_items(out, items, level + 1);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, level + 1);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let text = n.to_string();
            // YAML 1.1 floats need a dot and a signed exponent: `1e-7` or `1.5e300`
            // would read back as strings.
            match text.find(['e', 'E']) {
                Some(at) if n.is_f64() => {
                    let (mantissa, exponent) = (&text[..at], &text[at + 1..]);
                    out.push_str(mantissa);
                    if !mantissa.contains('.') {
                        out.push_str(".0");
                    }
                    out.push('e');
                    if !exponent.starts_with(['+', '-']) {
                        out.push('+');
                    }
                    out.push_str(exponent);
                }
                _ => out.push_str(&text),
            }
        }
        Value::String(s) => write_string(out, s, level, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str, level: usize, is_key: bool) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if !is_key && is_literal_block_safe(s) {
        let trailing = s.len() - s.trim_end_matches('\n').len();
        out.push('|');
        match trailing {
            0 => out.push('-'),
            1 => {}
            _ => out.push('+'),
        }
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                indent(out, level);
                out.push_str(line);
            }
        }
    } else {
        write_double_quoted(out, s);
    }
}

/// Writes a double-quoted scalar. JSON's escapes are YAML's, but JSON leaves characters
/// raw that YAML readers treat as line breaks (U+0085, U+2028, U+2029) or reject as
/// unprintable (C1 controls, U+FEFF, U+FFFE, U+FFFF), so every one of those is escaped.
fn write_double_quoted(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters a YAML reader does not take literally inside a quoted or block scalar:
/// controls (C0, DEL, C1 including NEL), the Unicode line and paragraph separators, the
/// byte order mark and the two noncharacters YAML excludes from its printable set.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Words that YAML 1.1 resolves to booleans or null when plain.
const YAML11_KEYWORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
];

/// A string may be printed plain when it starts with a letter or `/`, uses only
/// characters that cannot start an indicator mid-scalar, and is no YAML 1.1 keyword.
/// Anything starting with a digit, sign or dot is quoted, which covers every YAML 1.1
/// and 1.2 number, octal, sexagesimal and timestamp form.
pub fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/') || YAML11_KEYWORDS.contains(&s) {
        return false;
    }
    if s.ends_with(':') || s.ends_with(' ') {
        return false;
    }
    // One pass over the bytes: only these ASCII characters (so no `#` to start a
    // comment), and no `: ` (a mapping) or two spaces in a row.
    let bytes = s.as_bytes();
    bytes.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'.' | b'/' | b'-' | b':' | b'@' | b'+' | b'=' | b' '
            )
    }) && !bytes
        .windows(2)
        .any(|w| w[1] == b' ' && matches!(w[0], b':' | b' '))
}

/// A multi-line string prints as a literal block when that keeps it exact: printable,
/// no carriage returns or tabs, no line starting with a space (that would need an
/// indentation indicator), no trailing spaces.
fn is_literal_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with('\n')
        && s.chars().all(|c| c == '\n' || !needs_escape(c))
        && s.split('\n')
            .all(|line| !line.starts_with(' ') && !line.ends_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_are_exactly_the_safe_ones() {
        for plain in ["a", "a:b", "a b", "ghcr.io/org/x:v1", "x=y+z@w", "/path/to"] {
            assert!(is_plain_safe(plain), "{plain:?}");
        }
        for quoted in [
            "a: b", "a:", "a ", "a  b", "a #b", "a#b", "a\tb", "é", "-a", "1a", "", "a\nb",
        ] {
            assert!(!is_plain_safe(quoted), "{quoted:?}");
        }
    }

    #[test]
    fn yaml_11_ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "on",
            "no",
            "off",
            "y",
            "N",
            "0777",
            "1:20",
            "12",
            "1.5",
            "1e3",
            "0x1F",
            ".inf",
            "~",
            "",
            "null",
            "2026-01-01",
            "-",
            "- a",
            "a: b",
            "a #b",
            "@x",
            "*a",
            "&a",
            "!a",
            "%a",
            "|",
            ">",
            "'",
            "\"",
            "#",
            "[a]",
            "{a}",
            " lead",
            "trail ",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
            let doc = to_yaml(&json!({ "k": s }));
            assert!(doc.starts_with("k: \"") || doc.starts_with("k: |"), "{doc}");
        }
    }

    #[test]
    fn ordinary_kubernetes_strings_stay_plain() {
        for s in [
            "ConfigMap",
            "release.zerotouch.dev/tenant",
            "ghcr.io/org/my-service:main-abc123",
            "https://api.github.com",
            "my-service-release-pipeline",
        ] {
            assert!(is_plain_safe(s), "{s:?} should be plain");
        }
    }

    #[test]
    fn unicode_line_breaks_and_unprintables_are_escaped() {
        for s in [
            "\u{2028}",
            "a\u{2029}b",
            "\u{85}",
            "x\u{9f}",
            "\u{7f}",
            "\u{feff}bom",
            "\u{fffe}",
            "a\nb\u{2028}c\n",
            "a\u{0}b",
        ] {
            let doc = json!({ s: s, "list": [s] });
            let text = to_yaml(&doc);
            for raw in [
                '\u{2028}', '\u{2029}', '\u{85}', '\u{9f}', '\u{7f}', '\u{0}',
            ] {
                assert!(!text.contains(raw), "{raw:?} written raw in {text:?}");
            }
            assert_eq!(from_str_multi(&text).unwrap(), vec![doc], "{text:?}");
        }
    }

    #[test]
    fn floats_in_exponent_form_keep_a_dot_for_yaml_11() {
        let doc = to_yaml(&json!({"small": 1e-7, "big": 1e300, "plain": 2.5}));
        assert!(doc.contains("small: 1.0e-7"), "{doc}");
        assert!(doc.contains("big: 1.0e+300"), "{doc}");
        assert_eq!(from_str_multi(&doc).unwrap()[0]["small"], json!(1e-7));
    }

    #[test]
    fn documents_read_back_identically() {
        let doc = json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"name": "x", "labels": {"a/b": "yes"}},
            "data": {
                "pipeline.yaml": "environments:\n- dev\n- staging\n",
                "no_newline": "a\nb",
                "two_newlines": "a\n\n",
                "tabbed": "a\tb\nc",
                "mode": "0777",
                "empty": "",
            },
            "list": [{"a": 1, "b": [true, null, 2.5]}, [], {}, ["x", ["y"]]],
            "n": 9007199254740991i64,
        });
        let text = to_yaml_stream(std::slice::from_ref(&doc));
        assert!(
            text.starts_with("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"),
            "{text}"
        );
        let back = from_str_multi(&text).expect("emitted YAML parses");
        assert_eq!(back, vec![doc]);
    }
}
