//! The `render` subcommand: what `crossplane render` does for this one function, run
//! in-process. It reads the XR, the Composition step that calls this function, observed
//! and required resources, credentials and context from YAML files; builds the
//! RunFunctionRequest Crossplane would build (answering requirements for up to six
//! calls, as Crossplane does); and prints the XR with its desired status, the composed
//! resources, and optionally results and context, as one YAML stream.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use function_sdk_rust::proto::v1::{
    CredentialData, Credentials, Ready, RequestMeta, Resource, ResourceSelector, Resources,
    RunFunctionRequest, RunFunctionResponse, Severity, State, Status, credentials,
    resource_selector,
};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::{Map, Value, json};

use crate::cli::RenderArgs;
use crate::function::ReleaseFunction;
use crate::github::read_only::{ReadOnlyConnector, Skipped};
use crate::yaml;

/// Crossplane calls a step at most this many times per reconcile while its
/// requirements change (`MaxRequirementsIterations` + 1).
const MAX_CALLS: usize = 6;

const RESOURCE_NAME_ANNOTATION: &str = "crossplane.io/composition-resource-name";

/// A render that could not be done; each names the file or flag at fault.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not the YAML expected.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A flag has a bad value.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The function returned a Fatal result.
    #[error("{0}")]
    Fatal(String),
    /// The function's requirements did not settle within six calls.
    #[error("the function's requirements did not settle after {MAX_CALLS} calls")]
    Unsettled,
    /// The function could not be called.
    #[error("cannot run the function: {0}")]
    Call(String),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Write(#[from] std::io::Error),
}

/// Renders with the function as the server runs it (real GitHub, and `GITHUB_TOKEN` when
/// the step has no credentials). GitHub is only read unless `--github-writes` is given;
/// what would have been written is said on stderr.
pub async fn run(args: &RenderArgs, out: &mut dyn Write) -> Result<(), RenderError> {
    let now = parse_now(args)?;
    let skipped = Skipped::default();
    let connector = match args.github_writes {
        true => crate::github::default_connector(),
        false => Arc::new(ReadOnlyConnector::new(
            crate::github::default_connector(),
            skipped.clone(),
        )),
    };
    let function = ReleaseFunction::new(connector, Arc::new(move || now))
        .with_env_token(std::env::var("GITHUB_TOKEN").ok());
    let result = run_with(args, &function, now, out).await;
    let skipped = skipped.lock().unwrap_or_else(|e| e.into_inner());
    if !skipped.is_empty() {
        eprintln!("GitHub was only read (pass --github-writes to write); the function would have:");
        for write in skipped.iter() {
            eprintln!("  - {write}");
        }
    }
    result
}

fn parse_now(args: &RenderArgs) -> Result<DateTime<Utc>, RenderError> {
    match &args.now {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| RenderError::Flag {
                flag: "--now",
                message: format!("{text:?} is not an RFC 3339 time: {e}"),
            }),
    }
}

/// Renders with the given function; `now` stamps condition transition times.
pub async fn run_with(
    args: &RenderArgs,
    function: &ReleaseFunction,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    let rendered = render(args, function, now).await?;
    // Like `crossplane render` (v2.3+): a Fatal result prints nothing and fails.
    if let Some(message) = rendered.fatal {
        return Err(RenderError::Fatal(message));
    }
    out.write_all(yaml::to_yaml_stream(&rendered.documents).as_bytes())?;
    Ok(())
}

/// What a render produced: the documents to print, and the first Fatal message.
#[derive(Debug)]
pub struct Rendered {
    /// XR, composed resources, then results and context when asked for.
    pub documents: Vec<Value>,
    /// The first Fatal result's message, if any.
    pub fatal: Option<String>,
    /// The last response, for tests.
    pub response: RunFunctionResponse,
}

/// What runs the function for a render: in-process, or (in tests and tools) a server
/// reached over gRPC, so both can be compared on the same files.
#[async_trait::async_trait]
pub trait Runner: Sync {
    /// Runs the function on one request.
    async fn run_function(
        &self,
        req: &RunFunctionRequest,
    ) -> Result<RunFunctionResponse, RenderError>;
}

#[async_trait::async_trait]
impl Runner for ReleaseFunction {
    async fn run_function(
        &self,
        req: &RunFunctionRequest,
    ) -> Result<RunFunctionResponse, RenderError> {
        Ok(self.run(req).await)
    }
}

/// Runs the render in-process and returns the documents without printing them.
pub async fn render(
    args: &RenderArgs,
    function: &ReleaseFunction,
    now: DateTime<Utc>,
) -> Result<Rendered, RenderError> {
    render_with(args, function, now).await
}

/// Runs the render with any [`Runner`] and returns the documents without printing them.
pub async fn render_with(
    args: &RenderArgs,
    function: &dyn Runner,
    now: DateTime<Utc>,
) -> Result<Rendered, RenderError> {
    let xr = read_one(&args.xr)?;
    let step = match &args.composition {
        Some(path) => Some(find_step(path, &read_one(path)?, &args.function_name)?),
        None => None,
    };
    let input = match (&args.input, &step) {
        (Some(path), _) => Some(read_one(path)?),
        (None, Some(step)) => step.input.clone(),
        (None, None) => None,
    };
    let observed = match &args.observed_resources {
        Some(path) => observed_resources(path)?,
        None => BTreeMap::new(),
    };
    let available = match &args.required_resources {
        Some(path) => read_many(path)?,
        None => Vec::new(),
    };
    let credentials = match &args.function_credentials {
        Some(path) => step_credentials(path, step.as_ref())?,
        None => BTreeMap::new(),
    };
    let mut context = Map::new();
    for pair in &args.context_values {
        let (key, value) = pair.split_once('=').ok_or_else(|| RenderError::Flag {
            flag: "--context-values",
            message: format!("{pair:?} is not KEY=JSON"),
        })?;
        let value: Value = serde_json::from_str(value).map_err(|e| RenderError::Flag {
            flag: "--context-values",
            message: format!("the value of {key:?} is not JSON: {e}"),
        })?;
        context.insert(key.to_owned(), value);
    }

    let mut req = RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "render".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(resource_of(&xr)),
            resources: observed
                .iter()
                .map(|(name, value)| (name.clone(), resource_of(value)))
                .collect(),
        }),
        desired: Some(State::default()),
        input: input
            .as_ref()
            .and_then(Value::as_object)
            .map(json_to_struct),
        context: Some(json_to_struct(&context)),
        credentials: credentials.into_iter().collect(),
        ..Default::default()
    };

    let mut last_requirements = None;
    let mut response = None;
    for _ in 0..MAX_CALLS {
        let rsp = function.run_function(&req).await?;
        let requirements = rsp.requirements.clone().unwrap_or_default();
        let fatal = rsp
            .results
            .iter()
            .any(|r| r.severity == Severity::Fatal as i32);
        let settled = last_requirements.as_ref() == Some(&requirements);
        if settled || fatal {
            response = Some(rsp);
            break;
        }
        req.required_resources = answer(&requirements.resources, &available);
        req.extra_resources = answer(&requirements.extra_resources, &available);
        req.context = rsp.context.clone();
        last_requirements = Some(requirements);
        if last_requirements
            .as_ref()
            .is_some_and(|r| r.resources.is_empty() && r.extra_resources.is_empty())
        {
            response = Some(rsp);
            break;
        }
    }
    let response = response.ok_or(RenderError::Unsettled)?;
    Ok(assemble(args, &xr, step.as_ref(), response, now))
}

/// The step of a Composition that calls this function.
#[derive(Debug, Clone)]
struct Step {
    name: String,
    input: Option<Value>,
    credentials: Vec<Value>,
}

fn find_step(path: &Path, composition: &Value, function: &str) -> Result<Step, RenderError> {
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

fn read_text(path: &Path) -> Result<String, RenderError> {
    std::fs::read_to_string(path).map_err(|source| RenderError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse_docs(path: &Path, text: &str) -> Result<Vec<Value>, RenderError> {
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

fn read_one(path: &Path) -> Result<Value, RenderError> {
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
fn read_many(path: &Path) -> Result<Vec<Value>, RenderError> {
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

fn observed_resources(path: &Path) -> Result<BTreeMap<String, Value>, RenderError> {
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
fn step_credentials(
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

fn resource_of(value: &Value) -> Resource {
    Resource {
        resource: value.as_object().map(json_to_struct),
        ..Default::default()
    }
}

/// Answers each requirement with the available objects it selects, sorted by
/// namespace and name like Crossplane's list.
fn answer(
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

fn selects(selector: &ResourceSelector, object: &Value) -> bool {
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

fn condition_status(status: i32) -> &'static str {
    match Status::try_from(status) {
        Ok(Status::ConditionTrue) => "True",
        Ok(Status::ConditionFalse) => "False",
        _ => "Unknown",
    }
}

/// Builds the printed documents from the final response, like `crossplane render`.
fn assemble(
    args: &RenderArgs,
    xr: &Value,
    step: Option<&Step>,
    response: RunFunctionResponse,
    now: DateTime<Utc>,
) -> Rendered {
    let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let desired = response.desired.clone().unwrap_or_default();
    let step_name = step.map(|s| s.name.as_str()).unwrap_or(&args.function_name);
    let fatal = response
        .results
        .iter()
        .find(|r| r.severity == Severity::Fatal as i32)
        .map(|r| {
            format!(
                "pipeline step {step_name:?} returned a fatal result: {}",
                r.message
            )
        });

    // The XR: its identity with the desired status and conditions (with `-x`, merged into
    // the whole input XR below).
    let mut out_xr = {
        let mut metadata = Map::new();
        for key in ["name", "namespace"] {
            if let Some(v) = xr.pointer(&format!("/metadata/{key}")) {
                metadata.insert(key.into(), v.clone());
            }
        }
        json!({"apiVersion": xr["apiVersion"], "kind": xr["kind"], "metadata": metadata})
    };
    let mut status = desired
        .composite
        .as_ref()
        .and_then(|c| c.resource.as_ref())
        .map(struct_to_json)
        .and_then(|v| v.get("status").cloned())
        .unwrap_or_else(|| json!({}));
    let mut conditions: Vec<Value> = response
        .conditions
        .iter()
        .map(|c| {
            let mut cond = json!({
                "type": c.r#type,
                "status": condition_status(c.status),
                "reason": c.reason,
                "lastTransitionTime": at,
            });
            if let Some(m) = &c.message {
                cond["message"] = json!(m);
            }
            cond
        })
        .collect();
    let unready: Vec<&String> = {
        let mut names: Vec<&String> = desired
            .resources
            .iter()
            .filter(|(_, r)| r.ready != Ready::True as i32)
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names
    };
    conditions.push(if fatal.is_some() {
        json!({"type": "Synced", "status": "False", "reason": "ReconcileError", "lastTransitionTime": at,
               "message": fatal.as_deref().unwrap_or_default()})
    } else if unready.is_empty() {
        json!({"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": at})
    } else {
        json!({"type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": at,
               "message": format!("Unready resources: {}", unready.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))})
    });
    status["conditions"] = Value::Array(conditions);
    out_xr["status"] = status;
    if args.include_full_xr {
        // As `crossplane render -x` (v2.3+): the output merged into the full input XR, the
        // output's values winning, the input's kept where the output has none.
        let mut full = xr.clone();
        merge_override(&mut full, out_xr);
        out_xr = full;
    }

    let mut documents = vec![out_xr];
    if fatal.is_none() {
        let xr_name = xr
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut names: Vec<&String> = desired.resources.keys().collect();
        names.sort();
        for name in names {
            let Some(object) = desired.resources[name]
                .resource
                .as_ref()
                .map(struct_to_json)
            else {
                continue;
            };
            documents.push(decorate(object, name, xr, xr_name));
        }
    }
    if args.include_function_results {
        // As `crossplane render` (v2.3+) prints them: the events Crossplane records for the
        // results, with the event type as severity.
        for result in &response.results {
            let severity = match Severity::try_from(result.severity) {
                Ok(Severity::Warning) => "Warning",
                Ok(Severity::Normal) => "Normal",
                _ => continue,
            };
            documents.push(json!({
                "apiVersion": "render.crossplane.io/v1beta1",
                "kind": "Result",
                "severity": severity,
                "reason": result.reason.as_deref().unwrap_or(DEFAULT_EVENT_REASON),
                "message": result.message,
            }));
        }
    }
    if args.include_context {
        documents.push(json!({
            "apiVersion": "render.crossplane.io/v1beta1",
            "kind": "Context",
            "fields": response.context.as_ref().map(struct_to_json).unwrap_or_else(|| json!({})),
        }));
    }
    Rendered {
        documents,
        fatal,
        response,
    }
}

/// The event reason Crossplane gives a function result that names none.
const DEFAULT_EVENT_REASON: &str = "ComposeResources";

/// Merges `src` into `dst` as Go's `mergo.Merge(dst, src, WithOverride)` does on JSON:
/// objects merge key by key; any other value of `src` replaces `dst`'s unless it is
/// empty (null, false, 0, "", [] or {}).
fn merge_override(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(existing) => merge_override(existing, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (d, s) => {
            let empty = match &s {
                Value::Null => true,
                Value::Bool(b) => !b,
                Value::Number(n) => n.as_f64() == Some(0.0),
                Value::String(t) => t.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
            };
            if !empty {
                *d = s;
            }
        }
    }
}

/// Adds what Crossplane adds to a composed resource: the resource-name annotation, the
/// composite label, a generateName and the controller reference.
fn decorate(mut object: Value, name: &str, xr: &Value, xr_name: &str) -> Value {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    let metadata = &mut object["metadata"];
    if !metadata.get("annotations").is_some_and(Value::is_object) {
        metadata["annotations"] = json!({});
    }
    metadata["annotations"][RESOURCE_NAME_ANNOTATION] = json!(name);
    if metadata.get("name").is_none() {
        metadata["generateName"] = json!(format!("{xr_name}-"));
    }
    if !metadata.get("labels").is_some_and(Value::is_object) {
        metadata["labels"] = json!({});
    }
    metadata["labels"]["crossplane.io/composite"] = json!(xr_name);
    let mut owner = json!({
        "apiVersion": xr["apiVersion"],
        "kind": xr["kind"],
        "name": xr_name,
        "controller": true,
        "blockOwnerDeletion": true,
    });
    owner["uid"] = xr
        .pointer("/metadata/uid")
        .cloned()
        .unwrap_or_else(|| json!(""));
    metadata["ownerReferences"] = json!([owner]);
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::proto::v1::MatchLabels;

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
