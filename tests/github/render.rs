//! The local `render` with a real token, as a newcomer runs it on the promotion-gate
//! example: it reads GitHub (here the fake GitHub HTTP server) but writes nothing there
//! unless `--github-writes` is given, and says on stderr what it would have written.

use crate::fake_github;

use std::process::Command;

use fake_github::{FakeGitHub, OWNER, REPO, TOKEN};
use serde_json::Value;

fn example(file: &str) -> String {
    let folder = match file {
        "xr.yaml" | "composition.yaml" | "xrd.yaml" => "examples",
        _ => "render-inputs",
    };
    format!(
        "{}/{folder}/promotion-gate/{file}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs `render` on the example with its Input pointed at the fake, the token from the
/// environment (the example's credentials are left out).
async fn render(fake: &FakeGitHub, extra: &[&str]) -> (bool, String, String) {
    render_with(fake, extra, Some(TOKEN)).await
}

async fn render_with(
    fake: &FakeGitHub,
    extra: &[&str],
    env_token: Option<&str>,
) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.yaml");
    std::fs::write(
        &input,
        format!(
            "apiVersion: release.fn.zerotouch.dev/v1beta1\nkind: Input\nxrKind: XPromotionGate\n\
             github:\n  repository: {OWNER}/{REPO}\n  apiUrl: {}\n  labels: [release-gate]\n\
             approvals:\n  users: [alice, bob]\n",
            fake.url()
        ),
    )
    .unwrap();
    let mut args = vec![
        "render".to_owned(),
        example("xr.yaml"),
        example("composition.yaml"),
        "-e".into(),
        example("required.yaml"),
        "--input".into(),
        input.to_str().unwrap().to_owned(),
        "-r".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let env_token = env_token.map(str::to_owned);
    let out = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_function-release-pipeline"));
        command.args(&args).env_remove("GITHUB_TOKEN");
        if let Some(token) = env_token {
            command.env("GITHUB_TOKEN", token);
        }
        command.output().expect("run the binary")
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn results(stdout: &str) -> Vec<Value> {
    function_release_pipeline::yaml::from_str_multi(stdout)
        .unwrap()
        .into_iter()
        .filter(|d| d["kind"] == "Result")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_render_with_a_real_token_reads_github_and_writes_nothing() {
    let fake = FakeGitHub::start().await;
    let (ok, stdout, stderr) = render(&fake, &[]).await;
    assert!(ok, "{stderr}");

    let seen = fake.seen();
    assert!(!seen.is_empty(), "GitHub was read");
    assert!(
        seen.iter().all(|r| r.method == "GET"),
        "no write reached GitHub: {seen:#?}"
    );
    assert!(fake.issues().is_empty());
    assert!(
        stderr.contains("would have") && stderr.contains("open an approval issue"),
        "{stderr}"
    );
    let read_only = results(&stdout)
        .into_iter()
        .find(|r| r["reason"] == "ReadOnly")
        .expect("a result says the render only read GitHub");
    assert!(
        read_only["message"]
            .as_str()
            .unwrap()
            .contains("--github-writes"),
        "{read_only}"
    );

    // Asked to, it opens the issue.
    let (ok, _, stderr) = render(&fake, &["--github-writes"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(fake.issues().len(), 1);
    assert!(!stderr.contains("would have"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_credentials_reach_github_through_data_as_crossplane_render_sends_them() {
    use base64::Engine as _;
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The example Secret with a real token in it, base64-encoded under data.
    let example = std::fs::read_to_string(example("credentials.yaml")).unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode(TOKEN);
    let secret = example
        .lines()
        .map(|l| match l.trim_start().starts_with("token:") {
            true => format!("  token: {token}"),
            false => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = dir.path().join("credentials.yaml");
    std::fs::write(&file, secret).unwrap();

    let (ok, _, stderr) = render_with(
        &fake,
        &["--function-credentials", file.to_str().unwrap()],
        None,
    )
    .await;

    assert!(ok, "{stderr}");
    let seen = fake.seen();
    assert!(!seen.is_empty(), "{stderr}");
    assert!(
        seen.iter()
            .all(|r| r.authorization.as_deref() == Some(format!("Bearer {TOKEN}").as_str())),
        "{seen:#?}"
    );
    assert!(!stderr.contains("stringData"), "{stderr}");
}
