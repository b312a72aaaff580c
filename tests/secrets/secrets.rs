//! No token, App key, App JWT or installation token reaches a log line or an error of
//! the GitHub adapter, even when GitHub echoes the Authorization header back. A test
//! binary of its own: it captures tracing output with a scoped subscriber, which tests
//! running on other threads of the same process could disturb.

use crate::client;
use crate::fake_github;

use std::io::Write;
use std::sync::{Arc, Mutex};

use client::{connect, new_issue, quick, target};
use fake_github::{FakeApp, FakeGitHub, Fault, LOGIN, TOKEN, app_keys};
use function_release_pipeline::github::{Connector, Credentials, Secret};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_and_keys_never_reach_a_log_line_or_an_error() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread (current-thread runtime), fake server included.
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeGitHub::start().await;
    fake.enable_app(FakeApp {
        id: 4242,
        slug: "release-gates".into(),
        installation_id: 77,
        token_ttl: chrono::TimeDelta::hours(1),
        public_key: app_keys().public.clone(),
    });
    let mut errors = Vec::new();

    let github = connect(&fake).await;
    let issue = github.open_issue(&new_issue()).await.unwrap();
    github.identity().await.unwrap();
    github.list_own_issues(LOGIN).await.unwrap();
    github.list_comments(issue.number).await.unwrap();
    fake.inject(None, Fault::EchoAuthorization(500), Some(1));
    errors.push(github.get_issue(issue.number).await.unwrap_err());
    fake.inject(None, Fault::EchoAuthorization(401), Some(1));
    errors.push(github.list_comments(issue.number).await.unwrap_err());

    let key = &app_keys().pkcs8;
    let app = quick()
        .connect(
            &target(fake.url()),
            &Credentials::App {
                app_id: 4242,
                private_key: Secret::new(key.clone()),
                installation_id: None,
            },
        )
        .await
        .unwrap();
    app.identity().await.unwrap();
    fake.inject(None, Fault::EchoAuthorization(502), Some(1));
    errors.push(app.list_own_issues("release-bot[bot]").await.unwrap_err());
    fake.inject(None, Fault::EchoAuthorization(403), Some(1));
    errors.push(app.add_comment(issue.number, "x").await.unwrap_err());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("github request"),
        "nothing was logged:\n{logs}"
    );
    // The echoed header made it into GitHub's messages: the scrub must have removed it.
    assert!(
        errors.iter().all(|e| e.to_string().contains("[redacted]")),
        "{errors:?}"
    );
    let key_body = key.lines().nth(1).unwrap();
    let secrets = [TOKEN, "ghs_fakeinstallation0001", key_body];
    for secret in secrets {
        assert!(!logs.contains(secret), "a secret is in the logs:\n{logs}");
        for e in &errors {
            assert!(!e.to_string().contains(secret), "{e}");
            assert!(!format!("{e:?}").contains(secret), "{e:?}");
        }
    }
}
