//! RunFunction, orchestrated: start from the request's desired state and context (so
//! nothing an earlier step desired is lost), read the Input and the observed XR,
//! dispatch on the XR's kind, and turn every failure into a Fatal result — a gRPC error
//! is reserved for a request that cannot be decoded (functions spec).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use function_sdk_rust::proto::v1::function_runner_service_server::FunctionRunnerService;
use function_sdk_rust::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use function_sdk_rust::{request, resource, response};
use tonic::{Request, Response, Status};

use crate::github::{Connector, Secret};
use crate::input::{Input, XrKind};
use crate::xr::Composite;

/// The time source; injected so tests and renders are reproducible.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What a handler sees of one RunFunction call.
pub struct Call<'a> {
    /// The whole request, for required resources, credentials and desired state.
    pub request: &'a RunFunctionRequest,
    /// The validated Input.
    pub input: &'a Input,
    /// The observed XR.
    pub composite: &'a Composite,
    /// The time of this call.
    pub now: DateTime<Utc>,
}

/// A failure that stops the pipeline: a Fatal result with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Fatal(pub String);

/// The release-pipeline composition function.
#[derive(Clone)]
pub struct ReleaseFunction {
    github: Arc<dyn Connector>,
    clock: Clock,
    env_token: Option<Secret>,
}

impl ReleaseFunction {
    /// A function using `github` to reach GitHub and `clock` for the time.
    pub fn new(github: Arc<dyn Connector>, clock: Clock) -> Self {
        ReleaseFunction {
            github,
            clock,
            env_token: None,
        }
    }

    /// Sets the token used when the step has no credentials (local runs).
    pub fn with_env_token(mut self, token: Option<String>) -> Self {
        self.env_token = token.filter(|t| !t.trim().is_empty()).map(Secret::new);
        self
    }

    /// The function as the server runs it: real GitHub, the system clock, and
    /// `GITHUB_TOKEN` from the environment as the fallback credential.
    pub fn from_env() -> Self {
        ReleaseFunction::new(crate::github::default_connector(), Arc::new(Utc::now))
            .with_env_token(std::env::var("GITHUB_TOKEN").ok())
    }

    /// Runs the function on one request.
    pub async fn run(&self, req: &RunFunctionRequest) -> RunFunctionResponse {
        let mut rsp = response::to(req, response::DEFAULT_TTL);
        let input =
            match Input::from_json(req.input.as_ref().map(resource::struct_to_json).as_ref()) {
                Ok(input) => input,
                Err(e) => {
                    response::fatal(&mut rsp, e.to_string()).reason = Some("InvalidInput".into());
                    return rsp;
                }
            };
        let composite = match request::observed_composite(req)
            .and_then(|r| r.resource.as_ref())
            .ok_or(crate::xr::CompositeError::Missing)
            .and_then(|s| Composite::from_json(&resource::struct_to_json(s)))
        {
            Ok(c) => c,
            Err(e) => {
                response::fatal(&mut rsp, e.to_string()).reason = Some("InvalidComposite".into());
                return rsp;
            }
        };
        let kind = match input.xr_kind.or_else(|| XrKind::from_kind(&composite.kind)) {
            Some(kind) => kind,
            None => {
                let message = format!(
                    "unsupported composite resource kind {:?}: expected XReleasePipeline or XPromotionGate (or set the input's xrKind)",
                    composite.kind
                );
                response::fatal(&mut rsp, message).reason = Some("UnsupportedKind".into());
                return rsp;
            }
        };
        let call = Call {
            request: req,
            input: &input,
            composite: &composite,
            now: (self.clock)(),
        };
        let outcome = match kind {
            XrKind::XReleasePipeline => crate::pipeline::compose(&call, &mut rsp),
            XrKind::XPromotionGate => {
                crate::gate::compose(
                    &call,
                    self.github.as_ref(),
                    self.env_token.as_ref(),
                    &mut rsp,
                )
                .await
            }
        };
        crate::metrics::record_run(kind, outcome.is_ok());
        if let Err(Fatal(message)) = outcome {
            response::fatal(&mut rsp, message).reason = Some("InvalidSpec".into());
        }
        rsp
    }
}

#[tonic::async_trait]
impl FunctionRunnerService for ReleaseFunction {
    async fn run_function(
        &self,
        request: Request<RunFunctionRequest>,
    ) -> Result<Response<RunFunctionResponse>, Status> {
        let req = request.into_inner();
        let rsp = self.run(&req).await;
        Ok(Response::new(rsp))
    }
}
