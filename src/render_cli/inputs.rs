//! What the render reads: the Composition step that calls this function, the XR,
//! observed and required resources and credentials from YAML files, and the answers to
//! the function's requirements from the required resources, as Crossplane selects them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use function_sdk_rust::proto::v1::{
    CredentialData, Credentials, Resource, ResourceSelector, Resources, credentials,
    resource_selector,
};
use function_sdk_rust::resource::json_to_struct;
use serde_json::Value;

use super::{RESOURCE_NAME_ANNOTATION, RenderError};
use crate::yaml;

/// The step of a Composition that calls this function.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) name: String,
    pub(super) input: Option<Value>,
    pub(super) credentials: Vec<Value>,
}

pub(super) fn find_step(
    path: &Path,
    composition: &Value,
    function: &str,
) -> Result<Step, RenderError> {
    let invalid = |message: String| RenderError::Invalid {
        path: path.to_owned(),
        message,
    };
    if composition.get("kind").and_then(Value::as_str) != Some("Composition") {
        return Err(invalid(
            "not a Composition (kind must be Composition)".into(),
        ));
    }
    let spec = composition.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(mode) = spec.get("mode").and_then(Value::as_str)
        && mode != "Pipeline"
    {
        return Err(invalid(format!(
            "spec.mode is {mode:?}; only Pipeline runs functions"
        )));
    }
    let steps = spec
        .get("pipeline")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("spec.pipeline is missing".into()))?;
    let step = steps
        .iter()
        .find(|s| s.pointer("/functionRef/name").and_then(Value::as_str) == Some(function))
        .ok_or_else(|| {
            invalid(format!(
                "no spec.pipeline step has functionRef.name {function:?}"
            ))
        })?;
    Ok(Step {
        name: step
            .get("step")
            .and_then(Value::as_str)
            .unwrap_or(function)
            .to_owned(),
        input: step.get("input").cloned(),
        credentials: step
            .get("credentials")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    })
}

pub(super) fn read_text(path: &Path) -> Result<String, RenderError> {
    std::fs::read_to_string(path).map_err(|source| RenderError::Read {
        path: path.to_owned(),
        source,
    })
}

pub(super) fn parse_docs(path: &Path, text: &str) -> Result<Vec<Value>, RenderError> {
    let docs = yaml::from_str_multi(text).map_err(|e| RenderError::Invalid {
        path: path.to_owned(),
        message: format!("not valid YAML: {e}"),
    })?;
    for doc in &docs {
        if !doc.is_object() || doc.get("kind").and_then(Value::as_str).is_none() {
            return Err(RenderError::Invalid {
                path: path.to_owned(),
                message: "every document must be a Kubernetes object with a kind".into(),
            });
        }
    }
    Ok(docs)
}

pub(super) fn read_one(path: &Path) -> Result<Value, RenderError> {
    let mut docs = parse_docs(path, &read_text(path)?)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        n => Err(RenderError::Invalid {
            path: path.to_owned(),
            message: format!("expected exactly one YAML document, found {n}"),
        }),
    }
}

/// Every object in a file, or in every `.yaml`/`.yml` file of a directory (by name).
pub(super) fn read_many(path: &Path) -> Result<Vec<Value>, RenderError> {
    if !path.is_dir() {
        return parse_docs(path, &read_text(path)?);
    }
    let entries = std::fs::read_dir(path).map_err(|source| RenderError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        out.extend(parse_docs(&file, &read_text(&file)?)?);
    }
    Ok(out)
}

pub(super) fn observed_resources(path: &Path) -> Result<BTreeMap<String, Value>, RenderError> {
    let mut out = BTreeMap::new();
    for doc in read_many(path)? {
        let name = doc
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(RESOURCE_NAME_ANNOTATION))
            .and_then(Value::as_str)
            .ok_or_else(|| RenderError::Invalid {
                path: path.to_owned(),
                message: format!(
                    "observed resource {} {:?} has no {RESOURCE_NAME_ANNOTATION} annotation",
                    doc["kind"].as_str().unwrap_or_default(),
                    doc.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ),
            })?;
        out.insert(name.to_owned(), doc.clone());
    }
    Ok(out)
}

/// Matches Secrets to the step's credentials by `secretRef` name and namespace. Without
/// a Composition each Secret becomes a credential named after it. Only a Secret's `data`
/// is read (base64), as `crossplane render` reads it; `stringData` is ignored, with a
/// warning.
pub(super) fn step_credentials(
    path: &Path,
    step: Option<&Step>,
) -> Result<BTreeMap<String, Credentials>, RenderError> {
    let secrets = read_many(path)?;
    let data_of = |secret: &Value| -> Result<Credentials, RenderError> {
        let mut data = BTreeMap::new();
        if let Some(map) = secret.get("data").and_then(Value::as_object) {
            for (k, v) in map {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(v.as_str().unwrap_or_default().trim())
                    .map_err(|e| RenderError::Invalid {
                        path: path.to_owned(),
                        message: format!("Secret data {k:?} is not base64: {e}"),
                    })?;
                data.insert(k.clone(), decoded);
            }
        }
        // As `crossplane render --function-credentials` does: only `data` is sent.
        if secret
            .get("stringData")
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
        {
            eprintln!(
                "warning: {}: Secret {:?} has stringData, which crossplane render ignores and so does this render: put the values base64-encoded under data",
                path.display(),
                secret
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
        }
        Ok(Credentials {
            source: Some(credentials::Source::CredentialData(CredentialData {
                data: data.into_iter().collect(),
            })),
        })
    };
    let named = |value: &Value, key: &str| {
        value
            .pointer(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut out = BTreeMap::new();
    match step {
        Some(step) => {
            for credential in &step.credentials {
                let Some(name) = named(credential, "/name") else {
                    continue;
                };
                if named(credential, "/source").as_deref() != Some("Secret") {
                    continue;
                }
                let (want_name, want_ns) = (
                    named(credential, "/secretRef/name"),
                    named(credential, "/secretRef/namespace"),
                );
                if let Some(secret) = secrets.iter().find(|s| {
                    named(s, "/metadata/name") == want_name
                        && named(s, "/metadata/namespace") == want_ns
                }) {
                    out.insert(name, data_of(secret)?);
                }
            }
        }
        None => {
            for secret in &secrets {
                if let Some(name) = named(secret, "/metadata/name") {
                    out.insert(name, data_of(secret)?);
                }
            }
        }
    }
    Ok(out)
}

pub(super) fn resource_of(value: &Value) -> Resource {
    Resource {
        resource: value.as_object().map(json_to_struct),
        ..Default::default()
    }
}

/// Answers each requirement with the available objects it selects, sorted by
/// namespace and name like Crossplane's list.
pub(super) fn answer(
    selectors: &std::collections::HashMap<String, ResourceSelector>,
    available: &[Value],
) -> std::collections::HashMap<String, Resources> {
    selectors
        .iter()
        .map(|(name, selector)| {
            let mut items: Vec<&Value> =
                available.iter().filter(|o| selects(selector, o)).collect();
            items.sort_by_key(|o| {
                (
                    o.pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    o.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                )
            });
            let items = items.into_iter().map(resource_of).collect();
            (name.clone(), Resources { items })
        })
        .collect()
}

pub(super) fn selects(selector: &ResourceSelector, object: &Value) -> bool {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    if text("/apiVersion") != Some(selector.api_version.as_str())
        || text("/kind") != Some(selector.kind.as_str())
    {
        return false;
    }
    if let Some(ns) = &selector.namespace
        && text("/metadata/namespace") != Some(ns.as_str())
    {
        return false;
    }
    match &selector.r#match {
        None => true,
        Some(resource_selector::Match::MatchName(name)) => {
            text("/metadata/name") == Some(name.as_str())
        }
        Some(resource_selector::Match::MatchLabels(labels)) => {
            labels.labels.iter().all(|(k, v)| {
                object
                    .pointer("/metadata/labels")
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_str)
                    == Some(v.as_str())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::proto::v1::MatchLabels;
    use function_sdk_rust::resource::struct_to_json;
    use serde_json::json;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config_map(ns: &str, name: &str, tenant: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": ns, "labels": {"tenant": tenant}}})
    }

    #[test]
    fn label_selector_matches_kind_namespace_and_labels() {
        let selector = ResourceSelector {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            r#match: Some(resource_selector::Match::MatchLabels(MatchLabels {
                labels: [("tenant".to_string(), "a".to_string())].into(),
            })),
            namespace: Some("team".into()),
        };
        assert!(selects(&selector, &config_map("team", "x", "a")));
        assert!(!selects(&selector, &config_map("other", "x", "a")));
        assert!(!selects(&selector, &config_map("team", "x", "b")));
        let mut secret = config_map("team", "x", "a");
        secret["kind"] = json!("Secret");
        assert!(!selects(&selector, &secret));
    }

    #[test]
    fn requirements_are_answered_sorted_by_namespace_and_name() {
        let selector = ResourceSelector {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            r#match: None,
            namespace: None,
        };
        let available = vec![
            config_map("b", "z", "t"),
            config_map("a", "y", "t"),
            config_map("a", "x", "t"),
        ];
        let answered = answer(
            &[("cms".to_string(), selector)].into_iter().collect(),
            &available,
        );
        let names: Vec<String> = answered["cms"]
            .items
            .iter()
            .map(|r| {
                struct_to_json(r.resource.as_ref().unwrap())["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["x", "y", "z"]);
    }

    #[test]
    fn composition_without_this_function_names_the_file_and_function() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "comp.yaml",
            "apiVersion: apiextensions.crossplane.io/v1\nkind: Composition\nmetadata: {name: c}\nspec:\n  mode: Pipeline\n  pipeline:\n  - step: other\n    functionRef: {name: function-auto-ready}\n",
        );
        let err = find_step(
            &path,
            &read_one(&path).unwrap(),
            "function-release-pipeline",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("comp.yaml")
                && text.contains("functionRef.name \"function-release-pipeline\""),
            "{text}"
        );
    }

    #[test]
    fn step_credentials_come_from_the_matching_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = write(
            dir.path(),
            "secrets.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: gh, namespace: crossplane-system}\ndata: {token: dG9rZW4=}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: gh, namespace: elsewhere}\nstringData: {token: wrong}\n",
        );
        let step = Step {
            name: "release".into(),
            input: None,
            credentials: vec![json!({"name": "github", "source": "Secret",
                                     "secretRef": {"name": "gh", "namespace": "crossplane-system"}})],
        };
        let creds = step_credentials(&secrets, Some(&step)).unwrap();
        let Some(credentials::Source::CredentialData(data)) = &creds["github"].source else {
            panic!("credential data expected");
        };
        assert_eq!(data.data["token"], b"token");
        // stringData is not sent, as crossplane render does not send it.
        let only_string = write(
            dir.path(),
            "string.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: gh, namespace: crossplane-system}\nstringData: {token: plain}\n",
        );
        let creds = step_credentials(&only_string, Some(&step)).unwrap();
        let Some(credentials::Source::CredentialData(data)) = &creds["github"].source else {
            panic!("credential data expected");
        };
        assert!(data.data.is_empty(), "{:?}", data.data.keys());
    }

    #[test]
    fn unreadable_and_malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        assert!(
            read_one(&missing)
                .unwrap_err()
                .to_string()
                .contains("nope.yaml")
        );
        let bad = write(dir.path(), "bad.yaml", "kind: [unclosed\n");
        let text = read_one(&bad).unwrap_err().to_string();
        assert!(
            text.contains("bad.yaml") && text.contains("not valid YAML"),
            "{text}"
        );
        let kindless = write(dir.path(), "kindless.yaml", "metadata: {name: x}\n");
        assert!(
            read_one(&kindless)
                .unwrap_err()
                .to_string()
                .contains("must be a Kubernetes object with a kind")
        );
        let two = write(dir.path(), "two.yaml", "kind: A\n---\nkind: B\n");
        assert!(
            read_one(&two)
                .unwrap_err()
                .to_string()
                .contains("expected exactly one YAML document, found 2")
        );
        let observed = write(
            dir.path(),
            "observed.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        );
        let text = observed_resources(&observed).unwrap_err().to_string();
        assert!(
            text.contains("crossplane.io/composition-resource-name"),
            "{text}"
        );
    }
}
