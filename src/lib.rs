//! `function-release-pipeline`: a Crossplane composition function that gives platform
//! teams release pipelines with promotion gates approved through GitHub issues.
//!
//! One RunFunction call, in the order a reader can follow it:
//!
//! ```text
//! function ─┬─ pipeline: validate -> render -> respond                (no I/O)
//!           └─ gate:     validate -> plan -> read -> decide -> write -> render -> respond
//!                                    │       │                 │
//!                                    └─ no GitHub needed       github::Repo (the only I/O)
//! ```
//!
//! 1. [`function`] starts the response from the request's desired state and context,
//!    reads the [`input::Input`] (through the function's own [`input::InputMemo`]) and
//!    the observed composite ([`xr::Composite`]), and dispatches on the XR's kind with a
//!    [`call::Call`]. A [`call::Fatal`] becomes a Fatal result with its reason, never a
//!    gRPC error.
//! 2. [`pipeline`] (XReleasePipeline) validates the spec ([`mod@pipeline::validate`]),
//!    renders the pipeline's ConfigMap, ExternalSecret, ServiceAccount and RBAC
//!    ([`pipeline::render`]) and, from its tenant's gates, where each artifact is
//!    ([`pipeline::progress`]).
//! 3. [`gate`] (XPromotionGate), each step one call in [`gate::compose`]:
//!    - [`gate::validate`]: the spec, the key ([`gate::key`]), the requester;
//!      [`gate::lookup`] asks Crossplane for the tenant's pipeline, which yields who may
//!      approve ([`gate::policy`]) and what holds the gate now ([`gate::situation`]);
//!    - [`gate::decide::plan`]: what the gate can be told without GitHub (a recorded
//!      verdict, an automatic approval, a hold);
//!    - [`gate::read`]: the function's issues for the gate, their comments and events, who
//!      may answer, through a [`github::Repo`] (remembered from the repository's shared
//!      [`github::view`], or fresh);
//!    - [`gate::decide::decide`]: which issue counts ([`gate::select`]), what its answers
//!      say ([`gate::decide::judge`]), the state and the actions; a decision that changes
//!      anything is taken again on fresh reads;
//!    - [`gate::write`]: the actions, on GitHub;
//!    - [`gate::render`] and [`gate::respond`]: status, conditions, the gate ConfigMap and
//!      the promotion Job, results, TTL.
//!
//! Names, labels and reasons live in [`names`]. Rendering and deciding are pure; only
//! [`github`] does I/O. The binary serves the function with `function-sdk-rust`, and
//! [`render_cli`] runs the same code in-process on YAML files.

pub mod call;
pub mod carrier;
pub mod cli;
pub mod desired;
pub mod freeze;
pub mod function;
pub mod gate;
pub mod github;
pub mod input;
pub mod memory;
pub mod metrics;
pub mod names;
pub mod notify;
pub mod openapi;
pub mod pb;
pub mod pipeline;
pub mod pipeline_config;
pub mod render_cli;
pub mod required;
pub mod xr;
pub mod yaml;
