//! What `crossplane xpkg build --package-root=package`, run from the repository root,
//! puts in the package, checked without the Crossplane CLI or Docker:
//! - `package/` holds exactly one `meta.pkg.crossplane.io/v1` Function, valid against
//!   Crossplane's schema for it, and otherwise only CustomResourceDefinitions (the xpkg
//!   linter's rule for a Function package), each a well-formed structural CRD;
//! - `./examples`, the build's default `--examples-root`, holds only XRDs, Compositions
//!   and XRs of those XRDs: no Secret templates, no install manifests, no render inputs;
//! - every example states the Crossplane versions it needs, inside the package's range;
//! - the Dockerfile copies only what the repository has and builds the binary it ships.

use crate::common;

use std::path::Path;

use serde_json::Value;

/// The parsed documents of every YAML file under `dir`, with the file they came from.
fn documents(dir: &str) -> Vec<(String, Value)> {
    common::yaml_files(&common::repo_path(dir))
        .into_iter()
        .flat_map(|path| {
            let name = path
                .strip_prefix(common::repo_path(""))
                .unwrap()
                .display()
                .to_string();
            common::read_yaml(&path)
                .into_iter()
                .map(move |doc| (name.clone(), doc))
        })
        .collect()
}

// ---- crossplane.version ----------------------------------------------------------------

/// A version `vX.Y.Z` (the `v` and missing parts optional, as Masterminds/semver reads
/// them in Crossplane's constraints).
fn version(text: &str) -> Result<(u64, u64, u64), String> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    let core = bare.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(format!("{text:?} is not a version"));
    }
    let mut numbers = [0u64; 3];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        *slot = part
            .parse()
            .map_err(|_| format!("{text:?} is not a version"))?;
    }
    Ok((numbers[0], numbers[1], numbers[2]))
}

/// The lowest version a constraint admits, for a constraint made of `||`-separated
/// alternatives of comma- or space-separated comparisons. Only `>=`, `>`, `<`, `<=`,
/// `=`, `!=`, `~` and `^` are accepted; anything else is an error, as it is for Crossplane.
fn lower_bound(constraint: &str) -> Result<(u64, u64, u64), String> {
    let mut lowest: Option<(u64, u64, u64)> = None;
    for alternative in constraint.split("||") {
        let mut bound = (0, 0, 0);
        let comparisons: Vec<&str> = alternative
            .split([',', ' '])
            .filter(|c| !c.is_empty())
            .collect();
        if comparisons.is_empty() {
            return Err(format!("{constraint:?} has an empty alternative"));
        }
        for comparison in comparisons {
            let operator_len = comparison
                .find(|c: char| c == 'v' || c.is_ascii_digit())
                .ok_or_else(|| format!("{comparison:?} names no version"))?;
            let (operator, text) = comparison.split_at(operator_len);
            let v = version(text)?;
            match operator {
                ">=" | "=" | "" | "~" | "^" => bound = bound.max(v),
                ">" => bound = bound.max((v.0, v.1, v.2 + 1)),
                "<" | "<=" | "!=" => {}
                other => return Err(format!("{other:?} is not a comparison")),
            }
        }
        lowest = Some(lowest.map_or(bound, |l: (u64, u64, u64)| l.min(bound)));
    }
    lowest.ok_or_else(|| format!("{constraint:?} is empty"))
}

#[test]
fn constraints_read_as_crossplane_reads_them() {
    assert_eq!(lower_bound(">=v1.17.0"), Ok((1, 17, 0)));
    assert_eq!(lower_bound(">=v2.0.0-0, <v3"), Ok((2, 0, 0)));
    assert_eq!(lower_bound("~v1.18 || >=v2.1"), Ok((1, 18, 0)));
    assert_eq!(lower_bound(">v2.0.0"), Ok((2, 0, 1)));
    for bad in ["", "=>v1.17.0", "latest", ">=vX", ">=v1.2.3.4"] {
        assert!(lower_bound(bad).is_err(), "{bad:?} was accepted");
    }
}

fn package_meta() -> Value {
    let metas: Vec<Value> = documents("package")
        .into_iter()
        .map(|(_, doc)| doc)
        .filter(|doc| {
            doc["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .starts_with("meta.pkg.")
        })
        .collect();
    assert_eq!(
        metas.len(),
        1,
        "package/ must hold exactly one package meta"
    );
    metas.into_iter().next().unwrap()
}

// ---- package/ --------------------------------------------------------------------------

#[test]
fn package_root_holds_one_function_meta_valid_against_crossplanes_schema() {
    let meta = package_meta();
    let errors = common::schema_errors(
        &common::shared_schema("meta.pkg.crossplane.io_function_v1.json"),
        &meta,
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(meta["metadata"]["name"], "function-release-pipeline");
    let constraint = meta["spec"]["crossplane"]["version"].as_str().unwrap();
    // SPEC: the function serves Crossplane from v1.17 (the v1 proto) on.
    assert_eq!(lower_bound(constraint), Ok((1, 17, 0)), "{constraint}");
    assert_eq!(
        meta["spec"]["capabilities"],
        serde_json::json!(["composition"])
    );
}

#[test]
fn the_meta_schema_rejects_what_crossplane_would_drop_or_misread() {
    let validator = common::shared_schema("meta.pkg.crossplane.io_function_v1.json");
    let mut typo = package_meta();
    typo["spec"]["crossplane"] = serde_json::json!({"versions": ">=v1.17.0"});
    assert!(!common::schema_errors(&validator, &typo).is_empty());
    let mut provider = package_meta();
    provider["kind"] = "Provider".into();
    assert!(!common::schema_errors(&validator, &provider).is_empty());
}

#[test]
fn package_root_holds_otherwise_only_the_input_crd_as_generated() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let mut crds = 0;
    for (file, doc) in documents("package") {
        if doc["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .starts_with("meta.pkg.")
        {
            continue;
        }
        assert_eq!(
            (doc["apiVersion"].as_str(), doc["kind"].as_str()),
            (
                Some("apiextensions.k8s.io/v1"),
                Some("CustomResourceDefinition")
            ),
            "{file}: a Function package may hold only its meta and CRDs"
        );
        let typed: CustomResourceDefinition = serde_json::from_value(doc.clone())
            .unwrap_or_else(|e| panic!("{file}: not a CustomResourceDefinition: {e}"));
        assert_eq!(
            numbers_as_floats(serde_json::to_value(&typed).unwrap()),
            numbers_as_floats(doc.clone()),
            "{file}: fields the CRD type does not know, or values of the wrong type"
        );
        let spec = &typed.spec;
        assert_eq!(
            typed.metadata.name.as_deref(),
            Some(format!("{}.{}", spec.names.plural, spec.group).as_str()),
            "{file}: a CRD's name is <plural>.<group>"
        );
        let storage: Vec<_> = spec.versions.iter().filter(|v| v.storage).collect();
        assert_eq!(storage.len(), 1, "{file}: exactly one storage version");
        for v in &spec.versions {
            let schema = v
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .unwrap_or_else(|| panic!("{file}: version {} has no schema", v.name));
            assert_eq!(schema.type_.as_deref(), Some("object"), "{file}");
        }
        assert_eq!(spec.group, "release.fn.zerotouch.dev", "{file}");
        assert_eq!(spec.names.kind, "Input", "{file}");
        crds += 1;
    }
    assert_eq!(crds, 1, "package/ holds the Input CRD and nothing else");
}

/// `value` with every number as a float: the CRD type holds `minimum` and `maximum` as
/// floats, so `10` comes back as `10.0`.
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

// ---- examples/ -------------------------------------------------------------------------

/// Why `doc` may not be embedded as a package example, if it may not: only XRDs,
/// Compositions and XRs of the given XRDs (`group/version`, kind) may.
fn not_packageable(doc: &Value, xr_types: &[(String, String)]) -> Option<String> {
    let api_version = doc["apiVersion"].as_str().unwrap_or_default();
    let kind = doc["kind"].as_str().unwrap_or_default();
    let allowed = match (api_version, kind) {
        (
            "apiextensions.crossplane.io/v1" | "apiextensions.crossplane.io/v2",
            "CompositeResourceDefinition",
        ) => true,
        ("apiextensions.crossplane.io/v1", "Composition") => true,
        _ => xr_types.iter().any(|(v, k)| v == api_version && k == kind),
    };
    (!allowed).then(|| format!("{api_version} {kind} is not an XRD, a Composition or an XR"))
}

/// The XR types (apiVersion, kind) the XRDs among `docs` define.
fn xr_types(docs: &[(String, Value)]) -> Vec<(String, String)> {
    docs.iter()
        .filter(|(_, d)| d["kind"] == "CompositeResourceDefinition")
        .flat_map(|(_, xrd)| {
            let group = xrd["spec"]["group"].as_str().unwrap_or_default().to_owned();
            let kind = xrd["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            xrd["spec"]["versions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |v| {
                    (
                        format!("{group}/{}", v["name"].as_str().unwrap_or_default()),
                        kind.clone(),
                    )
                })
        })
        .collect()
}

#[test]
fn the_default_examples_root_holds_only_xrds_compositions_and_xrs() {
    let docs = documents("examples");
    let types = xr_types(&docs);
    assert_eq!(types.len(), 2, "{types:?}");
    let wrong: Vec<String> = docs
        .iter()
        .filter_map(|(file, doc)| not_packageable(doc, &types).map(|why| format!("{file}: {why}")))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing but YAML and the folder's README: xpkg build reads every YAML file there.
    let mut stack = vec![common::repo_path("examples")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert!(
                    name.ends_with(".yaml") || name == "README.md",
                    "{} does not belong in the package's examples",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn what_a_package_must_not_embed_is_refused() {
    let types = vec![(
        "platform.zerotouch.dev/v1alpha1".to_owned(),
        "XPromotionGate".to_owned(),
    )];
    for (api_version, kind) in [
        ("v1", "Secret"),
        ("pkg.crossplane.io/v1", "Function"),
        ("pkg.crossplane.io/v1beta1", "DeploymentRuntimeConfig"),
        ("platform.zerotouch.dev/v1alpha1", "XReleasePipeline"),
        ("v1", "ConfigMap"),
    ] {
        let doc = serde_json::json!({"apiVersion": api_version, "kind": kind});
        assert!(
            not_packageable(&doc, &types).is_some(),
            "{kind} was allowed"
        );
    }
    let xr = serde_json::json!({"apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": "XPromotionGate"});
    assert_eq!(not_packageable(&xr, &types), None);
}

/// The constraint an example states in its `# Crossplane: <constraint> (why)` line.
fn stated_range(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix("# Crossplane: "))
        .map(|rest| rest.split(" (").next().unwrap_or(rest).trim().to_owned())
}

/// Whether a document exists only from Crossplane v2: a v2 XRD, or a namespaced XR.
fn needs_crossplane_v2(doc: &Value, types: &[(String, String)]) -> bool {
    let api_version = doc["apiVersion"].as_str().unwrap_or_default();
    let is_xr = types
        .iter()
        .any(|(v, k)| v == api_version && doc["kind"] == k.as_str());
    api_version == "apiextensions.crossplane.io/v2"
        || (is_xr && doc["metadata"]["namespace"].is_string())
        || doc["spec"]["compositeTypeRef"]["kind"]
            .as_str()
            .is_some_and(|k| types.iter().any(|(_, kind)| kind == k))
}

#[test]
fn every_example_states_the_crossplane_versions_it_needs_inside_the_packages_range() {
    let package_lowest = lower_bound(
        package_meta()["spec"]["crossplane"]["version"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let docs = documents("examples");
    let types = xr_types(&docs);
    for file in common::yaml_files(&common::repo_path("examples")) {
        let range = stated_range(&file).unwrap_or_else(|| {
            panic!(
                "{}: no `# Crossplane: <constraint>` line in its header",
                file.display()
            )
        });
        let lowest = lower_bound(&range).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            lowest >= package_lowest,
            "{}: needs {range}, below the package's own range",
            file.display()
        );
        for doc in common::read_yaml(&file) {
            if needs_crossplane_v2(&doc, &types) {
                assert!(
                    lowest >= (2, 0, 0),
                    "{}: {} {} exists only from Crossplane v2, but the file states {range}",
                    file.display(),
                    doc["apiVersion"],
                    doc["kind"]
                );
            }
        }
    }
}

// ---- Dockerfile ------------------------------------------------------------------------

#[test]
fn the_dockerfile_copies_what_the_repository_has_and_ships_the_binary_it_builds() {
    let text = std::fs::read_to_string(common::repo_path("Dockerfile")).unwrap();
    let manifest = std::fs::read_to_string(common::repo_path("Cargo.toml")).unwrap();
    let package_name = manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .unwrap()
        .trim_matches('"');
    let mut copies = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("COPY ") else {
            continue;
        };
        if rest.starts_with("--from=") {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        for source in &words[..words.len() - 1] {
            assert!(
                common::repo_path(source).exists(),
                "the Dockerfile copies {source}, which the repository does not have"
            );
            copies += 1;
        }
    }
    assert!(copies >= 4, "only {copies} sources copied");
    assert!(
        text.contains(&format!("--bin {package_name}")),
        "the Dockerfile does not build the binary {package_name}"
    );
    assert!(
        text.contains(&format!("cp target/release/{package_name} /function")),
        "the Dockerfile does not ship the binary it builds"
    );
    assert!(text.contains("ENTRYPOINT [\"/function\"]"));
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        text.contains(&format!("FROM rust:{rust_version}-")),
        "the build image is not Rust {rust_version}, the crate's rust-version"
    );
}
