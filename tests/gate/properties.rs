//! Property tests over the gate's hostile input: OCI artifact references, `/approve`
//! and `/reject` comment parsing, and the escaping of user content in the approval
//! issue. Properties: no panic; accepted references read back to themselves; every
//! rejection is a Fatal result naming `spec.artifact_id`; only a line that is exactly a
//! command counts; the issue body carries no live mention, no HTML, no markdown
//! breakout, and a hidden marker that user content cannot forge.
//!
//! Longer runs: `PROPTEST_CASES=20000 cargo test --release --test properties_gate`.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::gate::issue::{self, Command};
use function_release_pipeline::gate::key::GateKey;
use function_release_pipeline::gate::marker;
use function_release_pipeline::gate::model::Gate;
use function_release_pipeline::gate::policy::Policy;
use function_release_pipeline::github::fake::FakeConnector;
use function_release_pipeline::github::{Issue, IssueState};
use function_release_pipeline::github::{Login, Team};
use function_release_pipeline::pipeline_config::Rule;
use function_release_pipeline::xr::gate::{Artifact, GateSpec};
use function_sdk_rust::proto::v1::{Resource, RunFunctionRequest, Severity, State};
use function_sdk_rust::resource::json_to_struct;
use proptest::prelude::*;
use serde_json::{Value, json};

// ----- artifact references -----

/// Strings near the OCI grammar: mostly valid pieces, sometimes a broken one.
fn near_reference() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        Just("ghcr.io".to_string()),
        Just("localhost".to_string()),
        Just("registry.local".to_string()),
        "[a-z0-9-]{1,6}(\\.[a-z0-9-]{1,6}){0,2}",
        "[A-Za-z0-9._:-]{0,10}",
    ];
    let port = prop_oneof![
        Just(String::new()),
        (0u32..70000).prop_map(|p| format!(":{p}")),
        "[:][a-z0-9]{0,4}",
    ];
    let path = prop_oneof![
        "[a-z0-9]{1,5}([._-]{1,2}[a-z0-9]{1,5}){0,2}(/[a-z0-9]{1,5}([._-][a-z0-9]{1,4}){0,1}){0,3}",
        "[A-Za-z0-9/._-]{0,16}",
    ];
    let tag = prop_oneof![
        Just(String::new()),
        Just(":latest".to_string()),
        "[:][A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        "[:][^@]{0,8}",
    ];
    let digest = prop_oneof![
        Just(String::new()),
        "@sha256:[0-9a-f]{64}",
        "@sha256:[0-9a-fA-F]{60,66}",
        "@[a-z0-9]{0,6}:[0-9a-f]{0,8}",
    ];
    (host, port, path, tag, digest)
        .prop_map(|(host, port, path, tag, digest)| format!("{host}{port}/{path}{tag}{digest}"))
}

/// References the grammar accepts.
fn valid_reference() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        Just("ghcr.io".to_string()),
        Just("localhost".to_string()),
        "[a-z][a-z0-9-]{0,5}[a-z0-9]\\.[a-z]{2,4}",
    ];
    let port =
        prop::option::of(1u16..).prop_map(|p| p.map(|p| format!(":{p}")).unwrap_or_default());
    let path = "[a-z0-9]{1,5}([._-][a-z0-9]{1,4})?(/[a-z0-9]{1,5}(__[a-z0-9]{1,3})?){0,2}";
    let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
    let digest = prop::option::of("[0-9a-f]{64}");
    (host, port, path, tag, digest).prop_map(|(host, port, path, tag, digest)| {
        let tag = match (&tag, &digest) {
            (None, None) => ":v1".to_string(),
            _ => tag.map(|t| format!(":{t}")).unwrap_or_default(),
        };
        let digest = digest.map(|d| format!("@sha256:{d}")).unwrap_or_default();
        format!("{host}{port}/{path}{tag}{digest}")
    })
}

fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => valid_reference(),
        3 => near_reference(),
        1 => any::<String>(),
        1 => "[ -~]{0,40}",
    ]
}

/// An accepted reference written back from its parts.
fn written(a: &Artifact) -> String {
    let mut out = a.registry.clone();
    if let Some(port) = a.port {
        out.push_str(&format!(":{port}"));
    }
    out.push('/');
    out.push_str(&a.repository);
    if let Some(tag) = &a.tag {
        out.push_str(&format!(":{tag}"));
    }
    if let Some(digest) = &a.digest {
        out.push_str(&format!("@{digest}"));
    }
    out
}

fn spec_with(artifact_id: &str) -> Value {
    json!({
        "tenant": "my-service",
        "artifact_id": artifact_id,
        "source_environment": "dev",
        "target_environment": "staging",
    })
}

fn gate_request(artifact_id: &str, allow_mutable_tags: bool) -> RunFunctionRequest {
    let xr = json!({
        "apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": "XPromotionGate",
        "metadata": {"name": "gate", "namespace": "platform-system"},
        "spec": spec_with(artifact_id),
    });
    let input = json!({
        "apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input",
        "allowMutableTags": allow_mutable_tags,
    });
    RunFunctionRequest {
        observed: Some(State {
            composite: Some(Resource {
                resource: xr.as_object().map(json_to_struct),
                ..Default::default()
            }),
            ..Default::default()
        }),
        input: input.as_object().map(json_to_struct),
        ..Default::default()
    }
}

proptest! {
    #[test]
    fn accepted_artifact_references_read_back_to_the_same_parts(reference in reference()) {
        if let Ok(artifact) = Artifact::parse(&reference) {
            // A port may be written with leading zeros; it reads back as its number.
            let host = reference.split('/').next().unwrap_or_default();
            if !host.split_once(':').is_some_and(|(_, port)| port.starts_with('0')) {
                prop_assert_eq!(written(&artifact), reference.clone());
            }
            prop_assert_eq!(Artifact::parse(&written(&artifact)), Ok(artifact.clone()));
            prop_assert!(artifact.tag.is_some() || artifact.digest.is_some());
            prop_assert!(!reference.chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn every_refused_artifact_names_spec_artifact_id_and_the_reference(
        reference in reference(),
        allow in any::<bool>(),
    ) {
        match GateSpec::from_json(&spec_with(&reference), allow) {
            Ok(spec) => prop_assert_eq!(spec.artifact_id, reference),
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("spec.artifact_id: "), "{}", message);
                if !reference.trim().is_empty() {
                    prop_assert!(message.contains(&format!("{reference:?}")), "{}", message);
                }
            }
        }
    }

    #[test]
    fn latest_without_a_digest_is_refused_unless_mutable_tags_are_allowed(
        host in prop_oneof![Just("ghcr.io"), Just("registry.local:5000"), Just("localhost")],
        path in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}",
        digest in prop::option::of("[0-9a-f]{64}"),
    ) {
        let digest = digest.map(|d| format!("@sha256:{d}")).unwrap_or_default();
        let reference = format!("{host}/{path}:latest{digest}");
        let strict = GateSpec::from_json(&spec_with(&reference), false);
        prop_assert!(GateSpec::from_json(&spec_with(&reference), true).is_ok());
        if digest.is_empty() {
            let message = strict.unwrap_err().to_string();
            prop_assert!(message.starts_with("spec.artifact_id: "), "{}", message);
            prop_assert!(message.contains("mutable tag \"latest\""), "{}", message);
        } else {
            prop_assert!(strict.is_ok(), "a digest pins latest");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn run_function_refuses_a_bad_artifact_with_one_fatal_result_naming_the_field(
        reference in reference(),
        allow in any::<bool>(),
    ) {
        let refused = GateSpec::from_json(&spec_with(&reference), allow).is_err();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let function =
            ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let rsp = runtime.block_on(function.run(&gate_request(&reference, allow)));
        let fatal: Vec<&str> = rsp
            .results
            .iter()
            .filter(|r| r.severity == Severity::Fatal as i32)
            .map(|r| r.message.as_str())
            .collect();
        if refused {
            prop_assert_eq!(fatal.len(), 1, "{:?}", rsp.results);
            prop_assert!(fatal[0].starts_with("spec.artifact_id: "), "{}", fatal[0]);
        } else {
            prop_assert!(fatal.is_empty(), "{:?}", fatal);
        }
    }
}

// ----- comment commands -----

/// A line that never is a command on its own.
fn other_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,30}",
        any::<String>(),
        Just("LGTM".to_string()),
        Just("> /approve".to_string()),
        Just("/approved".to_string()),
        Just("`/approve`".to_string()),
        Just("- /approve".to_string()),
    ]
    .prop_filter("not a command", |line| {
        !line.lines().any(|l| {
            let l = l.trim().to_ascii_lowercase();
            l == "/approve" || l == "/reject"
        })
    })
}

/// `/approve` or `/reject` with random case.
fn cased(word: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

fn padding() -> impl Strategy<Value = String> {
    "[ \t]{0,3}"
}

/// Non-blank text around a command on the same line.
fn surrounding() -> impl Strategy<Value = (String, String)> {
    ("[ -~]{0,10}", "[ -~]{0,10}").prop_filter("something besides blanks", |(before, after)| {
        !(before.trim().is_empty() && after.trim().is_empty())
    })
}

proptest! {
    #[test]
    fn text_without_a_command_line_is_no_answer(lines in prop::collection::vec(other_line(), 0..6)) {
        prop_assert_eq!(issue::parse_command(&lines.join("\n")), None);
    }

    #[test]
    fn a_command_inside_other_text_on_its_line_is_no_answer(
        word in prop_oneof![cased("/approve"), cased("/reject")],
        (before, after) in surrounding(),
        others in prop::collection::vec(other_line(), 0..4),
    ) {
        let mut lines = others;
        lines.push(format!("{before}{word}{after}"));
        let body = lines.join("\n");
        prop_assert_eq!(issue::parse_command(&body), None, "{:?}", body);
    }

    #[test]
    fn a_command_alone_on_a_line_counts_in_any_case_and_padding(
        word in cased("/approve"),
        (left, right) in (padding(), padding()),
        before in prop::collection::vec(other_line(), 0..4),
        after in prop::collection::vec(other_line(), 0..4),
        crlf in any::<bool>(),
    ) {
        let mut lines = before;
        lines.push(format!("{left}{word}{right}"));
        lines.extend(after);
        let body = lines.join(if crlf { "\r\n" } else { "\n" });
        prop_assert_eq!(issue::parse_command(&body), Some(Command::Approve), "{:?}", body);
    }

    #[test]
    fn a_rejection_line_wins_over_an_approval_line(
        approve in cased("/approve"),
        reject in cased("/reject"),
        reject_first in any::<bool>(),
        others in prop::collection::vec(other_line(), 0..4),
    ) {
        let mut lines = others;
        if reject_first {
            lines.insert(0, reject);
            lines.push(approve);
        } else {
            lines.insert(0, approve);
            lines.push(reject);
        }
        prop_assert_eq!(issue::parse_command(&lines.join("\n")), Some(Command::Reject));
    }
}

// ----- escaping -----

const ESCAPED: [char; 12] = ['\\', '`', '*', '_', '[', ']', '|', '#', '~', '!', '(', ')'];

/// Strings a hostile requester or tenant might write.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\n\r\t]{0,40}",
        prop::collection::vec(
            prop_oneof![
                Just("@alice"),
                Just("@acme/release-managers"),
                Just("<img src=x onerror=alert(1)>"),
                Just("<!-- release-gate:key=forged -->"),
                Just("-->"),
                Just("key=forged"),
                Just("`"),
                Just("```"),
                Just("\n# heading\n"),
                Just("\n\n- item"),
                Just("[link](https://evil.example)"),
                Just("</details>"),
                Just("&lt;b&gt;"),
                Just("\\"),
                Just("| a | b |"),
                Just("\u{200D}@"),
                Just(" "),
                Just("\r\n"),
                Just("x"),
            ],
            0..8
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Checks a text meant to be inert markdown outside a code span.
fn assert_inert(text: &str) -> Result<(), TestCaseError> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next();
                prop_assert!(
                    next.is_some_and(|n| ESCAPED.contains(&n)),
                    "a backslash escapes a markdown character: {text:?}"
                );
            }
            '@' => prop_assert_eq!(
                chars.next(),
                Some('\u{200D}'),
                "a live mention in {:?}",
                text
            ),
            '&' => {
                let rest: String = chars.clone().take(4).collect();
                prop_assert!(
                    rest.starts_with("amp;") || rest.starts_with("lt;") || rest.starts_with("gt;"),
                    "a raw entity in {text:?}"
                );
            }
            '<' | '>' => prop_assert!(false, "raw HTML in {text:?}"),
            c if c.is_control() => prop_assert!(false, "a control character in {text:?}"),
            c => prop_assert!(!ESCAPED.contains(&c), "unescaped {c:?} in {text:?}"),
        }
    }
    Ok(())
}

fn spec(tenant: &str, artifact: &str, source: &str, target: &str) -> GateSpec {
    GateSpec {
        tenant: tenant.to_owned(),
        artifact_id: artifact.to_owned(),
        artifact: Artifact {
            registry: "ghcr.io".into(),
            port: None,
            repository: "org/app".into(),
            tag: Some("v1".into()),
            digest: None,
        },
        source_environment: source.to_owned(),
        target_environment: target.to_owned(),
        approval_required: true,
        timeout_hours: 24,
        change: None,
    }
}

fn policy(allow_self_approval: bool) -> Policy {
    Policy {
        rule: Rule::Manual,
        users: vec![Login::new("alice"), Login::new("bob")],
        teams: vec![Team::parse("acme/release-managers").unwrap()],
        min_approvals: 2,
        rules: Vec::new(),
        min_permission: None,
        allow_self_approval,
        require_requester: false,
        missing_pipeline: false,
        freeze_override: None,
        seal: Default::default(),
        mention_teams: false,
        exclude_change_authors: false,
        reminders: Vec::new(),
        escalation: None,
    }
}

struct Rendered {
    title: String,
    body: String,
}

#[allow(clippy::too_many_arguments)]
fn render(
    spec: &GateSpec,
    key: &str,
    namespace: &str,
    name: &str,
    requester: Option<&str>,
    allow_self_approval: bool,
) -> Rendered {
    let gate = Gate {
        spec: spec.clone(),
        key: GateKey::from_recorded(key),
        namespace: namespace.into(),
        name: name.into(),
        uid: "6f1c2a4e-0000-4000-8000-000000000001".into(),
        requester: requester.map(Login::new),
    };
    let deadline = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
    let new = issue::new_issue(
        &gate,
        &policy(allow_self_approval),
        deadline,
        &["release-gate".into()],
        None,
    );
    Rendered {
        title: new.title,
        body: new.body,
    }
}

/// A line read as CommonMark inline text: how many backticks delimit code spans, and
/// the text outside them. A backslash escapes outside a code span, not inside one.
fn inline(line: &str) -> (usize, String) {
    let (mut ticks, mut outside, mut in_code) = (0, String::new(), false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (c, in_code) {
            ('`', _) => {
                ticks += 1;
                in_code = !in_code;
                outside.push(' ');
            }
            (_, true) => {}
            ('\\', false) => {
                outside.push(c);
                outside.extend(chars.next());
            }
            (c, false) => outside.push(c),
        }
    }
    (ticks, outside)
}

fn as_issue(body: &str) -> Issue {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    Issue {
        number: 1,
        title: String::new(),
        body: body.to_owned(),
        html_url: String::new(),
        author: "release-bot".into(),
        author_id: 1,
        state: IssueState::Open,
        state_reason: None,
        closed_by: None,
        closed_at: None,
        created_at: at,
        updated_at: at,
        labels: Vec::new(),
    }
}

proptest! {
    #[test]
    fn escaped_text_has_no_mention_html_markup_or_line_break(text in hostile()) {
        assert_inert(&issue::escape(&text))?;
    }

    #[test]
    fn escaping_loses_no_visible_character(text in hostile()) {
        let escaped = issue::escape(&text);
        let unescaped = escaped
            .replace("\u{200D}", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        let mut shown = String::new();
        let mut chars = unescaped.chars();
        while let Some(c) = chars.next() {
            shown.push(if c == '\\' { chars.next().unwrap() } else { c });
        }
        let shown = shown.replace("&amp;", "&");
        let expected: String = text
            .chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                '\u{200D}' => None,
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect();
        prop_assert_eq!(shown, expected);
    }

    #[test]
    fn hostile_names_cannot_break_out_of_the_issue_body_or_forge_its_marker(
        tenant in hostile(),
        artifact in hostile(),
        source in hostile(),
        target in hostile(),
        namespace in hostile(),
        name in hostile(),
        requester in prop::option::of(hostile()),
        allow_self_approval in any::<bool>(),
    ) {
        let key = "0123456789ab";
        let benign = render(
            &spec("t", "a", "s", "u"),
            key,
            "ns",
            "n",
            requester.as_ref().map(|_| "r"),
            allow_self_approval,
        );
        let hostile_spec = spec(&tenant, &artifact, &source, &target);
        let rendered = render(
            &hostile_spec,
            key,
            &namespace,
            &name,
            requester.as_deref(),
            allow_self_approval,
        );
        let lines: Vec<&str> = rendered.body.split('\n').collect();
        let benign_lines: Vec<&str> = benign.body.split('\n').collect();
        prop_assert_eq!(lines.len(), benign_lines.len(), "no new line: {}", rendered.body);
        for (line, benign_line) in lines.iter().zip(&benign_lines).skip(1) {
            let (ticks, outside) = inline(line);
            prop_assert_eq!(ticks, inline(benign_line).0, "no code span opened or closed: {}", line);
            prop_assert!(!line.contains('\r'), "{:?}", line);
            // Each line starts as the template wrote it: no new block.
            let head: String = benign_line.chars().take_while(|c| *c != '`').take(12).collect();
            prop_assert!(line.starts_with(&head), "{:?} starts as {:?}", line, head);
            prop_assert!(!outside.contains('<') && !outside.contains('>'), "raw HTML: {:?}", line);
            for (i, _) in outside.match_indices('@') {
                prop_assert!(
                    outside[i + 1..].starts_with('\u{200D}'),
                    "a live mention: {:?}",
                    line
                );
            }
        }
        // The marker is the first line, one HTML comment, closed where it ends.
        let marker_line = lines[0];
        prop_assert!(marker_line.starts_with("<!-- release-gate:"), "{:?}", marker_line);
        prop_assert_eq!(marker_line.matches("-->").count(), 1, "{:?}", marker_line);
        prop_assert!(marker_line.ends_with("-->"), "{:?}", marker_line);
        // The first marker is the genuine one, whole; text that looks like a marker
        // can only sit inside a code span further down, where it shows as text.
        let markers = marker::markers(&rendered.body);
        let genuine: std::collections::BTreeMap<String, String> = [
            ("key", key.to_string()),
            ("xr", format!("{namespace}/{name}")),
            ("uid", "6f1c2a4e-0000-4000-8000-000000000001".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        prop_assert_eq!(&markers[0], &genuine);
        prop_assert_eq!(marker::markers(marker_line), vec![genuine]);
        let issue = as_issue(&rendered.body);
        prop_assert_eq!(marker::body_key(&issue), Some(key.to_string()));
        prop_assert_eq!(
            marker::body_uid(&issue),
            Some("6f1c2a4e-0000-4000-8000-000000000001".to_string())
        );
        // The title is plain text: no mention, no control character.
        prop_assert!(!rendered.title.chars().any(char::is_control), "{:?}", rendered.title);
        for (i, _) in rendered.title.match_indices('@') {
            prop_assert!(rendered.title[i + 1..].starts_with('\u{200D}'), "{:?}", rendered.title);
        }
    }
}

/// The reference strategy must reach accepted references often, or the read-back
/// property above would hold vacuously.
#[test]
fn generated_references_are_often_accepted_and_often_refused() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = reference();
    let accepted = (0..1000)
        .filter(|_| {
            let reference = strategy.new_tree(&mut runner).unwrap().current();
            Artifact::parse(&reference).is_ok()
        })
        .count();
    assert!(
        (100..900).contains(&accepted),
        "{accepted} of 1000 accepted"
    );
}
