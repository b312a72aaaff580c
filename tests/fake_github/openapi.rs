//! Checks a request against GitHub's published REST API description (the subset of
//! operations the function uses, `tests/openapi/github-subset.json`, extracted from the
//! npm package `@octokit/openapi` by `tests/openapi/extract.py`): the method and path,
//! the query parameters (names, types, enums, required ones) and the JSON body
//! (properties, types, enums, required ones).

use std::sync::OnceLock;

use serde_json::Value;

use super::decode;

/// The description.
pub struct Description {
    /// Where it came from (package and version).
    pub source: String,
    operations: Vec<Value>,
}

/// The vendored description, read once.
pub fn github() -> &'static Description {
    static DESCRIPTION: OnceLock<Description> = OnceLock::new();
    DESCRIPTION.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/openapi/github-subset.json"
        );
        let text = std::fs::read_to_string(path).expect("the vendored API description");
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        Description {
            source: doc["source"].as_str().unwrap_or_default().to_owned(),
            operations: doc["operations"].as_array().cloned().unwrap_or_default(),
        }
    })
}

fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || decode(p) == *t
        })
}

/// Why `value` does not fit `schema` (at `at`), if it does not.
fn check_value(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(alternatives) = schema["anyOf"].as_array()
        && !alternatives.is_empty()
    {
        return alternatives
            .iter()
            .find_map(|a| check_value(a, value, at).ok())
            .ok_or_else(|| format!("{at}: {value} fits none of the allowed shapes"));
    }
    if let Some(types) = schema["type"].as_array() {
        let fits = |t: &str| match t {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            "null" => value.is_null(),
            _ => true,
        };
        if !types.iter().filter_map(Value::as_str).any(fits) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !value.is_null()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            check_value(items, v, &format!("{at}[{i}]"))?;
        }
    }
    if let (Some(properties), Some(object)) = (schema["properties"].as_object(), value.as_object())
    {
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required property {name:?} is missing"));
            }
        }
        for (name, v) in object {
            match properties.get(name) {
                Some(s) => check_value(s, v, &format!("{at}.{name}"))?,
                None if schema["additionalProperties"] == Value::Bool(false) => {
                    return Err(format!("{at}: unknown property {name:?}"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// A query value (text) against its parameter's schema.
fn check_query_value(schema: &Value, name: &str, text: &str) -> Result<(), String> {
    let types: Vec<&str> = schema["type"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let value = if types.contains(&"integer") {
        match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => return Err(format!("query {name}={text:?} is not an integer")),
        }
    } else if types.contains(&"boolean") {
        match text {
            "true" | "false" => Value::Bool(text == "true"),
            _ => return Err(format!("query {name}={text:?} is not a boolean")),
        }
    } else {
        Value::String(text.to_owned())
    };
    check_value(schema, &value, &format!("query {name}"))
}

impl Description {
    /// Whether GitHub's description accepts this request: `uri` is the path and query as
    /// sent (an API root's path prefix such as `/api/v3` removed), `body` the JSON body.
    pub fn check(&self, method: &str, uri: &str, body: Option<&Value>) -> Result<(), String> {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        // A literal segment wins over a parameter, as in GitHub's router:
        // `/issues/comments` is not issue number "comments".
        let op = self
            .operations
            .iter()
            .filter(|op| op["method"] == method && path_matches(op["path"].as_str().unwrap(), path))
            .min_by_key(|op| op["path"].as_str().unwrap().matches('{').count())
            .ok_or_else(|| format!("{method} {path} is no operation the function may use"))?;
        let what = format!("{} ({})", op["operationId"].as_str().unwrap(), self.source);
        let params = op["query"].as_object().cloned().unwrap_or_default();
        let mut seen = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(name), decode(value));
            let schema = params
                .get(&name)
                .ok_or_else(|| format!("{what}: unknown query parameter {name:?}"))?;
            check_query_value(schema, &name, &value).map_err(|e| format!("{what}: {e}"))?;
            seen.push(name);
        }
        for (name, schema) in &params {
            if schema["required"] == Value::Bool(true) && !seen.contains(name) {
                return Err(format!(
                    "{what}: required query parameter {name:?} is missing"
                ));
            }
        }
        match (&op["body"], body) {
            (Value::Null, None | Some(Value::Null)) => Ok(()),
            (Value::Null, Some(b)) => Err(format!("{what}: takes no body, got {b}")),
            (schema, Some(b)) => check_value(schema, b, "body").map_err(|e| format!("{what}: {e}")),
            (_, None) => Ok(()),
        }
    }
}
