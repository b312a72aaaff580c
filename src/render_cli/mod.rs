//! The `render` subcommand: what `crossplane render` does for this one function, run
//! in-process. It reads the XR, the Composition step that calls this function, observed
//! and required resources, credentials and context from YAML files; builds the
//! RunFunctionRequest Crossplane would build (answering requirements for up to six
//! calls, as Crossplane does); and prints the XR with its desired status, the composed
//! resources, and optionally results and context, as one YAML stream.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use function_sdk_rust::proto::v1::{
    RequestMeta, RunFunctionRequest, RunFunctionResponse, Severity, State,
};
use function_sdk_rust::resource::json_to_struct;
use serde_json::{Map, Value};

use crate::cli::RenderArgs;
use crate::function::ReleaseFunction;
use crate::github::Skipped;
use crate::yaml;

mod inputs;
mod output;

use inputs::{
    answer, find_step, observed_resources, read_many, read_one, resource_of, step_credentials,
};
use output::assemble;

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
    let repos = match args.github_writes {
        true => crate::gate::server_repos(crate::memory::CEILING),
        false => crate::gate::server_repos(crate::memory::CEILING).read_only(skipped.clone()),
    };
    let notifier = match args.github_writes {
        true => crate::notify::deliver::Notifier::new(),
        false => crate::notify::deliver::Notifier::read_only(skipped.clone()),
    };
    let function = ReleaseFunction::with_repos(repos, Arc::new(move || now))
        .with_env_token(std::env::var("GITHUB_TOKEN").ok())
        .with_notifier(notifier);
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
