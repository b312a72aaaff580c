//! `function-release-pipeline`: a Crossplane composition function that gives platform
//! teams release pipelines with promotion gates approved through GitHub issues.
//!
//! One RunFunction call goes through these steps:
//!
//! 1. [`function`] starts the response from the request's desired state and context,
//!    reads the [`input::Input`] and the observed composite ([`xr::Composite`]), and
//!    dispatches on the XR's kind. Any failure becomes a Fatal result, never a gRPC error.
//! 2. [`pipeline`] (XReleasePipeline) validates the spec and renders the pipeline's
//!    ConfigMap, ExternalSecret, ServiceAccount and RBAC.
//! 3. [`gate`] (XPromotionGate) finds or opens the approval issue through the
//!    [`github::GitHub`] trait, decides the gate from it, and renders the gate ConfigMap
//!    and, once approved, the promotion Job.
//!
//! Rendering and deciding are pure; only [`github`] does I/O. The binary serves the
//! function with `function-sdk-rust`, and [`render_cli`] runs the same code in-process
//! on YAML files.

pub mod call;
pub mod cli;
pub mod desired;
pub mod function;
pub mod gate;
pub mod github;
pub mod input;
pub mod metrics;
pub mod names;
pub mod pb;
pub mod pipeline;
pub mod policy;
pub mod render_cli;
pub mod xr;
pub mod yaml;
