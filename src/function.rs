//! RunFunction, orchestrated: start from the request's desired state and context (so
//! nothing an earlier step desired is lost), read the Input and the observed XR,
//! dispatch on the XR's kind, and turn every failure into a Fatal result — a gRPC error
//! is reserved for a request that cannot be decoded (functions spec).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use function_sdk_rust::proto::v1::function_runner_service_server::FunctionRunnerService;
use function_sdk_rust::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use function_sdk_rust::{request, response};
use tonic::{Request, Response, Status};

use crate::call::{Call, Clock, Fatal};
use crate::github::{Connector, Repos, Secret};
use crate::input::{InputMemo, XrKind};
use crate::notify::deliver::Notifier;
use crate::xr::Composite;

/// Kept back from a caller's deadline to render and send the response.
const RESPONSE_MARGIN: Duration = Duration::from_secs(1);

/// The deadline a gRPC caller set: `grpc-timeout`, up to eight digits and a unit.
fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The release-pipeline composition function.
///
/// Its state lives as long as the server: the GitHub connector (clients, caches and
/// budgets, see [`crate::github`]), the clock, and the Inputs already read
/// ([`InputMemo`]). Clones share it.
#[derive(Clone)]
pub struct ReleaseFunction {
    github: Repos,
    clock: Clock,
    env_token: Option<Secret>,
    notifier: Notifier,
    inputs: Arc<InputMemo>,
}

impl ReleaseFunction {
    /// A function reaching GitHub through clients from `connector` (every read sent to
    /// GitHub), with `clock` for the time.
    pub fn new(connector: Arc<dyn Connector>, clock: Clock) -> Self {
        Self::with_repos(Repos::new(connector, crate::gate::select::tags), clock)
    }

    /// A function reaching GitHub's repositories through `repos`, with `clock` for the time.
    pub fn with_repos(github: Repos, clock: Clock) -> Self {
        ReleaseFunction {
            github,
            clock,
            env_token: None,
            notifier: Notifier::new(),
            inputs: Arc::default(),
        }
    }

    /// Sends notifications through `notifier` (a local render's lists what it would send).
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = notifier;
        self
    }

    /// Sets the token used when the step has no credentials (local runs).
    pub fn with_env_token(mut self, token: Option<String>) -> Self {
        self.env_token = token.filter(|t| !t.trim().is_empty()).map(Secret::new);
        self
    }

    /// The function as the server runs it: real GitHub and the system clock. Credentials
    /// come only from the pipeline step: `GITHUB_TOKEN` from the environment serves the
    /// local `render` alone, so a Composition can never send the server's own token to an
    /// `apiUrl` it chose.
    /// Its repository views hold at most `view_bytes` together
    /// ([`memory::view_budget`](crate::memory::view_budget)).
    pub fn for_server(view_bytes: usize) -> Self {
        ReleaseFunction::with_repos(crate::gate::server_repos(view_bytes), Arc::new(Utc::now))
    }

    /// Runs the function on one request.
    pub async fn run(&self, req: &RunFunctionRequest) -> RunFunctionResponse {
        self.run_within(req, None).await
    }

    /// Runs the function on one request that must be answered within `deadline`.
    pub async fn run_within(
        &self,
        req: &RunFunctionRequest,
        deadline: Option<Duration>,
    ) -> RunFunctionResponse {
        let mut rsp = response::to(req, response::DEFAULT_TTL);
        let fatal = |rsp: &mut RunFunctionResponse, f: Fatal| {
            response::fatal(rsp, f.message).reason = Some(f.reason.into());
        };
        let input = match self.inputs.read(req.input.as_ref()) {
            Ok(input) => input,
            Err(e) => {
                fatal(&mut rsp, Fatal::invalid_input(e.to_string()));
                return rsp;
            }
        };
        let composite = match request::observed_composite(req)
            .and_then(|r| r.resource.as_ref())
            .ok_or(crate::xr::CompositeError::Missing)
            .and_then(Composite::from_struct)
        {
            Ok(c) => c,
            Err(e) => {
                fatal(&mut rsp, Fatal::invalid_composite(e.to_string()));
                return rsp;
            }
        };
        let Some(kind) = input.xr_kind.or_else(|| XrKind::from_kind(&composite.kind)) else {
            fatal(&mut rsp, Fatal::unsupported_kind(&composite.kind));
            return rsp;
        };
        let call = Call {
            request: req,
            input: &input,
            composite: &composite,
            now: (self.clock)(),
            time_left: deadline.map(|d| d.saturating_sub(RESPONSE_MARGIN)),
            started: std::time::Instant::now(),
        };
        let outcome = match kind {
            XrKind::XReleasePipeline => crate::pipeline::compose(&call, &mut rsp),
            XrKind::XPromotionGate => {
                let reach = crate::gate::Reach {
                    repos: &self.github,
                    env_token: self.env_token.as_ref(),
                    notifier: &self.notifier,
                };
                crate::gate::compose(&call, reach, &mut rsp).await
            }
        };
        crate::metrics::record_run(kind, outcome.is_ok());
        if let Err(Fatal { reason, message }) = outcome {
            response::fatal(&mut rsp, message).reason = Some(reason.into());
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
        let deadline = grpc_timeout(request.metadata());
        let req = request.into_inner();
        let rsp = self.run_within(&req, deadline).await;
        Ok(Response::new(rsp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(value: &str) -> Option<Duration> {
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert("grpc-timeout", value.parse().unwrap());
        grpc_timeout(&metadata)
    }

    #[test]
    fn grpc_timeout_is_read_in_every_unit() {
        assert_eq!(timeout("10S"), Some(Duration::from_secs(10)));
        assert_eq!(timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(timeout("119999m"), Some(Duration::from_millis(119_999)));
        assert_eq!(timeout("9999999u"), Some(Duration::from_micros(9_999_999)));
        assert_eq!(timeout("5n"), Some(Duration::from_nanos(5)));
    }

    #[test]
    fn malformed_grpc_timeout_is_no_deadline() {
        for bad in ["", "S", "10", "10s", "123456789S", "-1S", "1.5S"] {
            assert_eq!(timeout(bad), None, "{bad:?}");
        }
        assert_eq!(grpc_timeout(&tonic::metadata::MetadataMap::new()), None);
    }
}
