//! GitHub through the octocrab adapter against the HTTP fake: requests, cost, faults,
//! conformance with GitHub's REST description, and the local render reading it.

#[path = "../fake_github/client.rs"]
mod client;
#[path = "../fake_github/mod.rs"]
mod fake_github;
#[path = "../common/workloads.rs"]
mod workloads;

mod adapter;
mod change;
mod cost;
mod cost_by_repository;
mod faults;
mod memory;
mod openapi_conformance;
mod render;
mod restart_listing;
