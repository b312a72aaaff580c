//! Realistic RunFunction inputs for benchmarks: the example XRs with their observed
//! resources and Composition input, read from `examples/`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// One request's content, as JSON.
pub struct Request {
    /// The observed XR.
    pub composite: Value,
    /// Observed composed resources by composition resource name.
    pub observed: BTreeMap<String, Value>,
    /// The step's input.
    pub input: Option<Value>,
}

fn read(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    function_release_pipeline::yaml::from_str_multi(&text).unwrap()
}

/// The example in `examples/<dir>`: its XR, observed resources and Composition input.
pub fn example(dir: &str) -> Request {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(dir);
    let composite = read(&root.join("xr.yaml")).remove(0);
    let composition = read(&root.join("composition.yaml")).remove(0);
    let input = composition["spec"]["pipeline"]
        .as_array()
        .and_then(|steps| {
            steps
                .iter()
                .find(|s| s["functionRef"]["name"] == "function-release-pipeline")
        })
        .map(|s| s["input"].clone());
    let observed_path = root.join("observed.yaml");
    let observed = if observed_path.exists() {
        read(&observed_path)
            .into_iter()
            .filter_map(|o| {
                let name = o["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
                    .as_str()?
                    .to_owned();
                Some((name, o))
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    Request {
        composite,
        observed,
        input,
    }
}

/// Every workload the load generator drives, by name.
pub fn all() -> Vec<(&'static str, Request)> {
    vec![("pipeline", example("release-pipeline"))]
}
