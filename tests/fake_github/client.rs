//! The octocrab adapter pointed at the fake GitHub, with short timeouts, for the tests
//! that exercise the adapter directly.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use function_release_pipeline::github::octocrab::{OctocrabConnector, Timeouts};
use function_release_pipeline::github::{Connector, Credentials, GitHub, NewIssue, Secret, Target};

use super::fake_github::{FakeGitHub, OWNER, REPO, TOKEN};

pub const LABEL: &str = "release-gate";

/// Short timeouts so a slow answer fails fast; the whole exchange gets 500 ms.
pub fn quick() -> OctocrabConnector {
    OctocrabConnector::with_timeouts(Timeouts {
        connect: Duration::from_millis(200),
        read: Duration::from_millis(300),
    })
}

pub fn target(api_url: String) -> Target {
    Target {
        api_url,
        owner: OWNER.into(),
        repo: REPO.into(),
    }
}

pub async fn connect(fake: &FakeGitHub) -> Arc<dyn GitHub> {
    quick()
        .connect(&target(fake.url()), &Credentials::Token(Secret::new(TOKEN)))
        .await
        .expect("connect")
}

pub fn new_issue() -> NewIssue {
    NewIssue {
        title: "Promote api".into(),
        body: "<!-- gate-key: k1 -->".into(),
        labels: vec![LABEL.into()],
        assignees: vec!["alice".into()],
    }
}
