//! Property tests over hostile input: protobuf Struct <-> JSON conversion (and the
//! serializer straight to protobuf against the JSON route), the YAML
//! emitter (read back by our reader and by a YAML 1.1 reader), Input parsing, and whole
//! RunFunction calls on arbitrary specs. Properties: no panic, integers survive, every
//! rejection is a Fatal result with a message.
//!
//! Longer runs: `PROPTEST_CASES=20000 cargo test --release --test properties`.

use crate::common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use function_release_pipeline::input::Input;
use function_release_pipeline::{pb, yaml};
use function_sdk_rust::proto::v1::{Resource, RunFunctionRequest, Severity, State};
use function_sdk_rust::resource::{json_to_pb, json_to_struct, struct_to_json};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Strings that stress YAML and Kubernetes tooling.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("yes".to_string()),
        Just("on".to_string()),
        Just("0777".to_string()),
        Just("1:20".to_string()),
        Just("y".to_string()),
        Just("0o17".to_string()),
        Just("0x1F".to_string()),
        Just("1_000".to_string()),
        Just(".5".to_string()),
        Just("1e3".to_string()),
        Just("+.inf".to_string()),
        Just("-Infinity".to_string()),
        Just("2001-12-14".to_string()),
        Just("2001-12-14t21:59:43.10-05:00".to_string()),
        Just("<<".to_string()),
        Just("=".to_string()),
        Just("190:20:30.15".to_string()),
        Just("~".to_string()),
        Just("".to_string()),
        Just("- item".to_string()),
        Just("a: b".to_string()),
        Just("#comment".to_string()),
        Just("line\nbreak\n".to_string()),
        Just(" lead".to_string()),
        Just("\u{feff}bom".to_string()),
        Just("\u{2028}".to_string()),
        Just("next\u{85}line\u{2029}".to_string()),
        Just("multi\nline\u{2028}\n".to_string()),
        "[a-zA-Z0-9 _./:@-]{0,12}",
        any::<String>(),
    ]
}

/// JSON values as Kubernetes objects hold them: integers in the exact f64 range, finite
/// floats, tricky strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(|n| json!(n)),
        prop::num::f64::NORMAL.prop_map(|f| json!(f)),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(tricky_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// What the Struct round trip is expected to give: integral floats come back as integers.
fn normalised(v: &Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= (1u64 << 53) as f64 => json!(f as i64),
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(normalised).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalised(v))).collect())
        }
        _ => v.clone(),
    }
}

proptest! {
    #[test]
    fn struct_round_trip_keeps_values_and_integers(value in prop::collection::btree_map(tricky_string(), json_value(), 0..8)) {
        let object: Map<String, Value> = value.into_iter().collect();
        let back = struct_to_json(&json_to_struct(&object));
        prop_assert_eq!(back, normalised(&Value::Object(object)));
    }

    #[test]
    fn serializing_straight_to_protobuf_equals_the_json_route(value in json_value()) {
        prop_assert_eq!(pb::to_value(&value).unwrap(), json_to_pb(&value));
        if let Value::Object(object) = &value {
            let s = pb::to_struct(&value).unwrap();
            prop_assert_eq!(struct_to_json(&s), struct_to_json(&json_to_struct(object)));
        }
    }

    #[test]
    fn emitted_yaml_reads_back_identically(value in json_value()) {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": value});
        let text = yaml::to_yaml_stream(std::slice::from_ref(&doc));
        let back = yaml::from_str_multi(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, vec![doc], "{}", text);
    }

    #[test]
    fn input_parsing_never_panics_and_errors_have_messages(value in json_value()) {
        if let Err(e) = Input::from_json(Some(&value)) {
            prop_assert!(e.to_string().len() > "invalid function input: ".len());
        }
    }
}

fn request(xr: Value, input: Option<Value>) -> RunFunctionRequest {
    RunFunctionRequest {
        observed: Some(State {
            composite: Some(Resource {
                resource: xr.as_object().map(json_to_struct),
                ..Default::default()
            }),
            ..Default::default()
        }),
        input: input
            .as_ref()
            .and_then(Value::as_object)
            .map(json_to_struct),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn run_function_never_panics_on_arbitrary_specs(
        kind in prop_oneof![Just("XReleasePipeline"), Just("XPromotionGate"), Just("XOther")],
        spec in json_value(),
        status in json_value(),
        namespace in prop::option::of("[a-z]{1,8}"),
    ) {
        let mut metadata = json!({"name": "x"});
        if let Some(ns) = namespace {
            metadata["namespace"] = json!(ns);
        }
        let xr = json!({"apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": kind,
                        "metadata": metadata, "spec": spec, "status": status});
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let rsp = runtime.block_on(function.run(&request(xr, None)));
        for result in &rsp.results {
            prop_assert!(!result.message.trim().is_empty(), "every result has a message");
        }
        if kind == "XOther" {
            prop_assert!(rsp.results.iter().any(|r| r.severity == Severity::Fatal as i32));
        }
    }
}

/// A batch of random documents read by a YAML 1.1 reader must equal ours.
#[test]
fn emitted_yaml_reads_back_identically_through_a_yaml_11_reader() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let docs: Vec<Value> = (0..300)
        .map(|_| {
            let value = json_value().new_tree(&mut runner).unwrap().current();
            json!({"apiVersion": "v1", "kind": "ConfigMap", "data": value})
        })
        .collect();
    let text = yaml::to_yaml_stream(&docs);
    let theirs = common::yaml11::read(&text);
    assert_eq!(theirs.len(), docs.len());
    for (i, (theirs, ours)) in theirs.iter().zip(&docs).enumerate() {
        // YAML 1.1 reads integral floats back as ints only when they print without a dot.
        assert_eq!(normalised(theirs), normalised(ours), "document {i}");
    }
}

/// The read-back check is only as good as its reader: plain scalars that YAML 1.1 (or
/// go-yaml v2, which Kubernetes tooling used) types are not read as strings, quoted ones
/// are, and the function's emitter quotes every one of them.
#[test]
fn the_yaml_11_reader_types_what_yaml_11_types() {
    use common::yaml11::{read, resolve_plain};
    let typed = [
        ("yes", json!(true)),
        ("Y", json!(true)),
        ("On", json!(true)),
        ("n", json!(false)),
        ("OFF", json!(false)),
        ("~", Value::Null),
        ("", Value::Null),
        ("0777", json!(511)),
        ("0o17", json!(15)),
        ("0b101", json!(5)),
        ("0x1F", json!(31)),
        ("-0x1F", json!(-31)),
        ("1_000", json!(1000)),
        ("1:20", json!(80)),
        ("190:20:30", json!(685_230)),
        ("190:20:30.15", json!(685_230.15)),
        (".5", json!(0.5)),
        ("1.", json!(1.0)),
        ("08", json!(8.0)),
        ("1e3", json!(1000.0)),
        ("-1.5E-2", json!(-0.015)),
        ("+.inf", json!("!float +.inf")),
        ("-Infinity", json!("!float -Infinity")),
        (".NaN", json!("!float .NaN")),
        ("2001-12-14", json!("!timestamp 2001-12-14")),
        (
            "2001-1-2 21:59:43.10 -5",
            json!("!timestamp 2001-1-2 21:59:43.10 -5"),
        ),
        ("<<", json!("!merge <<")),
    ];
    for (text, want) in &typed {
        assert_eq!(&resolve_plain(text), want, "plain {text:?}");
        let quoted = yaml::to_yaml(&json!({ "k": text }));
        assert_eq!(
            read(&quoted),
            vec![json!({ "k": text })],
            "emitted {quoted:?}"
        );
    }
    for text in [
        "1.2.3",
        "v1",
        "12abc",
        "0x",
        "0b2",
        "1:60",
        "e3",
        ".",
        "inf",
        "yess",
        "2001-12",
        "ghcr.io/org/app:v1",
        "a: b",
    ] {
        let want = if text == "a: b" {
            json!({"a": "b"})
        } else {
            json!(text)
        };
        assert_eq!(resolve_plain(text), json!(text), "plain {text:?}");
        if text != "a: b" {
            assert_eq!(read(&format!("k: {text}\n")), vec![json!({ "k": want })]);
        }
    }
    assert_eq!(
        read("yes: 1\n'on': \"0777\"\n---\n---\n- [a, 08]\n"),
        vec![json!({"!bool true": 1, "on": "0777"}), json!([["a", 8.0]])]
    );
}
