//! A YAML 1.1 reader for tests, independent of the function's own YAML code: yaml-rust2's
//! event parser (which reports how each scalar was written) and the YAML 1.1 type
//! repository's resolution of plain scalars (<https://yaml.org/type/>), as Kubernetes
//! tooling built on go-yaml v2 and PyYAML apply it. There a plain `yes`, `y`, `on`,
//! `0777`, `0o17`, `0x1F`, `1_000`, `1:20`, `.5`, `~` or `2001-12-14` is not a string.
//!
//! Where YAML 1.1 and 1.2 readers disagree, the stricter reading wins: a plain `1e3` is a
//! float (YAML 1.2, go-yaml) although YAML 1.1's float needs a dot. Plain scalars that
//! resolve to types JSON has not (timestamps, merge keys, `=`) and non-string keys read
//! as `!<type> <text>`, so a comparison with the intended value fails and shows them.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, EventReceiver, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Reads a YAML stream; empty documents are skipped. Panics on a parse error, an alias
/// or a tag other than `!!str` (the function's output has none).
pub fn read(text: &str) -> Vec<Value> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .unwrap_or_else(|e| panic!("YAML 1.1 reader: {e}"));
    builder
        .documents
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// How YAML 1.1 reads a plain scalar.
pub fn resolve_plain(text: &str) -> Value {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        "<<" => return Value::String("!merge <<".into()),
        "=" => return Value::String("!value =".into()),
        _ => {}
    }
    if let Some(n) = int(text) {
        return Value::Number(n.into());
    }
    if let Some(f) = float(text) {
        return Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(format!("!float {text}")));
    }
    if timestamp(text) {
        return Value::String(format!("!timestamp {text}"));
    }
    Value::String(text.to_owned())
}

fn sign(text: &str) -> (i64, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    }
}

fn all(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(allowed)
}

/// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
/// [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
fn int(text: &str) -> Option<i64> {
    let (sign, body) = sign(text);
    let digits = |s: &str, radix: u32| {
        let cleaned: String = s.chars().filter(|c| *c != '_').collect();
        i64::from_str_radix(&cleaned, radix).ok()
    };
    let value = if let Some(bin) = body.strip_prefix("0b") {
        all(bin, |c| matches!(c, '0' | '1' | '_')).then(|| digits(bin, 2))??
    } else if let Some(oct) = body.strip_prefix("0o") {
        // Go's base-0 integers, as go-yaml v2 reads them.
        all(oct, |c| matches!(c, '0'..='7' | '_')).then(|| digits(oct, 8))??
    } else if let Some(hex) = body.strip_prefix("0x") {
        all(hex, |c| c.is_ascii_hexdigit() || c == '_').then(|| digits(hex, 16))??
    } else if body == "0" {
        0
    } else if let Some(oct) = body.strip_prefix('0') {
        all(oct, |c| matches!(c, '0'..='7' | '_')).then(|| digits(oct, 8))??
    } else if body.contains(':') {
        sexagesimal(body)?.try_into().ok()?
    } else if body.starts_with(|c: char| c.is_ascii_digit()) {
        all(body, |c| c.is_ascii_digit() || c == '_').then(|| digits(body, 10))??
    } else {
        return None;
    };
    Some(sign * value)
}

/// `[1-9][0-9_]*(:[0-5]?[0-9])+`, as an integer of base 60.
fn sexagesimal(body: &str) -> Option<u64> {
    let mut parts = body.split(':');
    let first = parts.next()?;
    if !first.starts_with(|c: char| ('1'..='9').contains(&c))
        || !all(first, |c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let mut value: u64 = first.replace('_', "").parse().ok()?;
    for part in parts {
        let ok = matches!(part.len(), 1 | 2)
            && all(part, |c| c.is_ascii_digit())
            && (part.len() == 1 || part.as_bytes()[0] <= b'5');
        if !ok {
            return None;
        }
        value = value.checked_mul(60)?.checked_add(part.parse().ok()?)?;
    }
    Some(value)
}

/// `[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)? | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* |
/// [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)`, and go-yaml v2's `[-+]?[0-9]+([eE][-+]?[0-9]+)?`.
fn float(text: &str) -> Option<f64> {
    let (sign, body) = sign(text);
    let sign = sign as f64;
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return Some(sign * f64::INFINITY);
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    // go-yaml v2 hands a scalar starting with a sign to Go's float parser, which takes
    // `+Inf`, `-infinity` and `+NaN`.
    if text.starts_with(['-', '+'])
        && let Ok(f) = text.parse::<f64>()
        && !f.is_finite()
    {
        return Some(f);
    }
    if let Some((whole, fraction)) = body.split_once('.')
        && whole.contains(':')
    {
        let whole = sexagesimal(whole)? as f64;
        if !fraction.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        let fraction: f64 = format!("0.{}", fraction.replace('_', "")).parse().ok()?;
        return Some(sign * (whole + fraction));
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        if !all(digits, |c| c.is_ascii_digit()) {
            return None;
        }
    }
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        // go-yaml v2 reads digits that are no integer (`08`) with its float pattern.
        None if exponent.is_some() || all(mantissa, |c| c.is_ascii_digit()) => (mantissa, None),
        None => return None,
    };
    let whole_ok = whole.is_empty()
        || (whole.starts_with(|c: char| c.is_ascii_digit())
            && all(whole, |c| c.is_ascii_digit() || c == '_'));
    let fraction_ok = fraction.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit() || c == '_'));
    if !whole_ok || !fraction_ok || (whole.is_empty() && fraction.is_none_or(str::is_empty)) {
        return None;
    }
    body.replace('_', "").parse::<f64>().ok().map(|f| sign * f)
}

/// `[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}` alone or followed by a time (`T`, `t` or spaces).
fn timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |from: usize, to: usize| to <= b.len() && b[from..to].iter().all(u8::is_ascii_digit);
    if !(digits(0, 4) && b.get(4) == Some(&b'-')) {
        return false;
    }
    let month = if digits(5, 7) {
        7
    } else if digits(5, 6) {
        6
    } else {
        return false;
    };
    if b.get(month) != Some(&b'-') {
        return false;
    }
    let day = if digits(month + 1, month + 3) {
        month + 3
    } else if digits(month + 1, month + 2) {
        month + 2
    } else {
        return false;
    };
    day == b.len() || matches!(b[day], b'T' | b't' | b' ' | b'\t')
}

#[derive(Default)]
struct Builder {
    documents: Vec<Value>,
    /// Open collections: a sequence, or a mapping with the key waiting for its value.
    stack: Vec<(Value, Option<String>)>,
}

impl Builder {
    fn push(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.documents.push(value),
            Some((Value::Array(items), _)) => items.push(value),
            Some((Value::Object(map), key)) => match key.take() {
                Some(k) => {
                    map.insert(k, value);
                }
                None => {
                    *key = Some(match value {
                        Value::String(s) => s,
                        other => format!("!{} {other}", type_name(&other)),
                    });
                }
            },
            Some(_) => unreachable!(),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        _ => "collection",
    }
}

impl EventReceiver for Builder {
    fn on_event(&mut self, event: Event) {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                assert_eq!(anchor, 0, "YAML 1.1 reader: unexpected anchor on {text:?}");
                let value = match tag {
                    Some(tag) if tag.handle == "!!" && tag.suffix == "str" => Value::String(text),
                    Some(tag) => panic!("YAML 1.1 reader: unexpected tag {tag:?}"),
                    None if style == TScalarStyle::Plain => resolve_plain(&text),
                    None => Value::String(text),
                };
                self.push(value);
            }
            Event::SequenceStart(_, _) => self.stack.push((Value::Array(Vec::new()), None)),
            Event::MappingStart(_, _) => self.stack.push((Value::Object(Map::new()), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, key) = self.stack.pop().expect("balanced collections");
                assert!(key.is_none(), "YAML 1.1 reader: a key without a value");
                self.push(value);
            }
            Event::Alias(_) => panic!("YAML 1.1 reader: unexpected alias"),
            Event::DocumentStart
            | Event::DocumentEnd
            | Event::StreamStart
            | Event::StreamEnd
            | Event::Nothing => {}
        }
    }
}
