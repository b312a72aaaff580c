//! The function as a server and as the local `render`: gRPC, mTLS, metrics, and parity
//! between the built-in render and `crossplane render` against the server.

#[path = "../common/mod.rs"]
mod common;

mod grpc;
mod metrics;
mod mtls;
mod readme;
mod render_cli;
mod render_parity;
