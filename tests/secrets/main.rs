//! No secret reaches a log line or an error of the GitHub adapter. A test binary of its
//! own: it captures `tracing` output with a scoped subscriber, and tests running on other
//! threads of the same process (under `cargo test`) decide first whether a log site is
//! enabled, so that a line it waits for may never come.

#[path = "../fake_github/client.rs"]
mod client;
#[path = "../fake_github/mod.rs"]
mod fake_github;

mod secrets;
