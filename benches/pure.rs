//! Criterion benchmarks of the in-process paths on realistic inputs (the examples' XRs
//! with their observed resources and Composition input): a whole pipeline RunFunction,
//! a decided gate's RunFunction (no GitHub call), and protobuf Struct <-> JSON conversion.
//!
//! `cargo bench --bench pure`

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use function_sdk_rust::proto::v1::{RequestMeta, Resource, RunFunctionRequest, State};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::Value;

#[path = "../tests/common/workloads.rs"]
mod workloads;

fn resource(value: &Value) -> Resource {
    Resource {
        resource: value.as_object().map(json_to_struct),
        ..Default::default()
    }
}

fn request(w: &workloads::Request) -> RunFunctionRequest {
    RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "bench".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(resource(&w.composite)),
            resources: w
                .observed
                .iter()
                .map(|(k, v)| (k.clone(), resource(v)))
                .collect(),
        }),
        desired: Some(State::default()),
        input: w
            .input
            .as_ref()
            .and_then(Value::as_object)
            .map(json_to_struct),
        ..Default::default()
    }
}

fn benchmarks(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, workload) in workloads::all() {
        let req = request(&workload);
        c.bench_function(&format!("run_function/{name}"), |b| {
            b.iter(|| runtime.block_on(function.run(std::hint::black_box(&req))))
        });
        let composite = req
            .observed
            .as_ref()
            .unwrap()
            .composite
            .as_ref()
            .unwrap()
            .resource
            .clone()
            .unwrap();
        c.bench_function(&format!("struct_to_json/{name}"), |b| {
            b.iter(|| struct_to_json(std::hint::black_box(&composite)))
        });
        let json = struct_to_json(&composite);
        let map = json.as_object().unwrap().clone();
        c.bench_function(&format!("json_to_struct/{name}"), |b| {
            b.iter(|| json_to_struct(std::hint::black_box(&map)))
        });
    }
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
