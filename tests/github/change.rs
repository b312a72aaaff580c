//! The change under review through the octocrab adapter, against the fake GitHub HTTP
//! server: a comparison read across pages of 100 commits, oldest first, capped; a head
//! behind its base; unknown revisions; one commit by sha. Every request is checked
//! against GitHub's REST description by the fake.

use crate::fake_github;

use fake_github::{FakeGitHub, Route, TOKEN};
use function_release_pipeline::github::octocrab::OctocrabConnector;
use function_release_pipeline::github::{Connector, Credentials, Secret, Target};

const SOURCE: &str = "acme/my-service";

#[tokio::test]
async fn a_change_is_compared_across_pages_and_an_unknown_revision_reads_as_none() {
    let fake = FakeGitHub::start().await;
    let shas: Vec<String> = (0..=150)
        .map(|i| {
            let author = if i % 2 == 0 { "carol" } else { "dan" };
            let message = format!("change {i}\n\nwhy it was made");
            fake.push_commit(SOURCE, &message, Some(author), Some("web-flow"))
        })
        .collect();
    let target = Target {
        api_url: fake.url(),
        owner: "acme".into(),
        repo: "my-service".into(),
    };
    let github = OctocrabConnector::default()
        .connect(&target, &Credentials::Token(Secret::new(TOKEN)))
        .await
        .unwrap();

    let change = github.compare(&shas[0], &shas[150], 1_000).await.unwrap();
    let change = change.expect("both revisions known");
    assert_eq!((change.status.as_str(), change.ahead_by), ("ahead", 150));
    assert_eq!(change.commits.len(), 150, "two pages of 100");
    assert_eq!(fake.count(Route::Compare), 2);
    let first = &change.commits[0];
    assert_eq!(
        (first.sha.as_str(), first.title.as_str()),
        (shas[1].as_str(), "change 1")
    );
    assert_eq!(first.author.as_ref().map(|a| a.login.as_str()), Some("dan"));
    assert_eq!(
        first.committer.as_ref().map(|a| a.login.as_str()),
        Some("web-flow")
    );
    assert!(first.html_url.ends_with(&shas[1]), "{}", first.html_url);
    assert_eq!(change.commits[149].sha, shas[150], "oldest first");

    let capped = github.compare(&shas[0], &shas[150], 120).await.unwrap();
    assert_eq!(capped.unwrap().commits.len(), 120);

    let back = github.compare(&shas[150], &shas[0], 1_000).await.unwrap();
    let back = back.unwrap();
    assert_eq!((back.status.as_str(), back.behind_by), ("behind", 150));
    assert!(back.commits.is_empty());

    let unknown = "f".repeat(40);
    assert_eq!(
        github.compare(&shas[0], &unknown, 1_000).await.unwrap(),
        None
    );
    let commit = github.commit(&shas[3]).await.unwrap().unwrap();
    assert_eq!(
        (commit.title.as_str(), commit.author_name.as_str()),
        ("change 3", "dan")
    );
    assert!(github.commit(&unknown).await.is_err(), "GitHub answers 422");

    fake.merge_pull_request(SOURCE, &shas[2], 17, "Session timeouts");
    let asked: Vec<String> = shas[1..=150].to_vec();
    let pulls = github.pull_requests(&asked).await.unwrap();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let pull = &pulls[&shas[2]][0];
    assert_eq!((pull.number, pull.title.as_str()), (17, "Session timeouts"));
    assert!(
        pull.url.ends_with("/acme/my-service/pull/17"),
        "{}",
        pull.url
    );
    assert_eq!(
        fake.count(Route::Graphql),
        2,
        "two queries of at most 100 commits"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
