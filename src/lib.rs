//! `function-release-pipeline`: a Crossplane composition function that gives platform
//! teams release pipelines with promotion gates approved through GitHub issues.
//!
//! One RunFunction call goes through these steps:
//!
//! 1. [`function`] starts the response from the request's desired state and context,
//!    reads the [`input::Input`] (through the function's own [`input::InputMemo`]) and
//!    the observed composite ([`xr::Composite`]), and dispatches on the XR's kind with a
//!    [`call::Call`]. A [`call::Fatal`] becomes a Fatal result with its reason, never a
//!    gRPC error.
//! 2. [`pipeline`] (XReleasePipeline) validates the spec ([`mod@pipeline::validate`]) and
//!    renders the pipeline's ConfigMap, ExternalSecret, ServiceAccount and RBAC
//!    ([`pipeline::render`]), named by [`names`].
//! 3. [`gate`] (XPromotionGate) validates the spec ([`xr::gate`]), looks the tenant's
//!    pipeline up as a required resource ([`gate::lookup`]), and unless the gate is
//!    settled reads GitHub through the [`github::GitHub`] trait (`gate::sync`: which
//!    issue counts is [`gate::select`]'s; the repository's shared view is
//!    [`github::view`]'s), decides
//!    ([`gate::decide`]), writes what the decision asks for, and renders status, the gate
//!    ConfigMap and, once approved, the promotion Job ([`gate::render`]).
//!
//! Rendering and deciding are pure; only [`github`] does I/O. The binary serves the
//! function with `function-sdk-rust`, and [`render_cli`] runs the same code in-process
//! on YAML files.

pub mod call;
pub mod cli;
pub mod desired;
pub mod freeze;
pub mod function;
pub mod gate;
pub mod github;
pub mod input;
pub mod metrics;
pub mod names;
pub mod pb;
pub mod pipeline;
pub mod pipeline_config;
pub mod render_cli;
pub mod required;
pub mod xr;
pub mod yaml;
