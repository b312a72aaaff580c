//! The fake's source repositories: one line of commits each, compared as GitHub's compare
//! API does (`GET /repos/{o}/{r}/compare/{base}...{head}`, commits paged with `page` and
//! `per_page`, a head behind its base `behind` with no commits) and read one at a time
//! (`GET /repos/{o}/{r}/commits/{ref}`, 422 for a sha it has no commit of).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::routes::{Answer, paginate, user_json};
use super::state::State;

/// A commit of a source repository.
#[derive(Debug, Clone)]
pub struct FakeCommit {
    /// Its sha.
    pub sha: String,
    /// Its message.
    pub message: String,
    /// Its author's name in git.
    pub author_name: String,
    /// The GitHub login of its author, if GitHub links one.
    pub author: Option<String>,
    /// The GitHub login of its committer, if GitHub links one.
    pub committer: Option<String>,
    /// The pull requests it came from: number and title.
    pub pulls: Vec<(u64, String)>,
}

fn commit_json(state: &State, repository: &str, c: &FakeCommit) -> Value {
    let person = |name: &str| json!({"name": name, "email": format!("{}@example.com", name.replace(' ', ".")), "date": "2026-12-01T10:00:00Z"});
    let account = |login: &Option<String>| {
        login
            .as_deref()
            .map_or(Value::Null, |l| user_json(state, l))
    };
    json!({
        "url": format!("https://api.github.example/repos/{repository}/commits/{}", c.sha),
        "sha": c.sha,
        "node_id": format!("C_fake{}", &c.sha[..8]),
        "html_url": format!("https://github.example/{repository}/commit/{}", c.sha),
        "comments_url": format!("https://api.github.example/repos/{repository}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("https://api.github.example/repos/{repository}/git/commits/{}", c.sha),
            "author": person(&c.author_name),
            "committer": person(c.committer.as_deref().unwrap_or(&c.author_name)),
            "message": c.message,
            "comment_count": 0,
            "tree": {"sha": "0".repeat(40), "url": format!("https://api.github.example/repos/{repository}/git/trees/{}", "0".repeat(40))},
        },
        "author": account(&c.author),
        "committer": account(&c.committer),
        "parents": [],
    })
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
pub(crate) fn compare(
    state: &State,
    repository: &str,
    basehead: &str,
    query: &BTreeMap<String, String>,
    link_base: &str,
) -> Answer {
    let history = state
        .history
        .get(repository)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let at = |sha: &str| history.iter().position(|c| c.sha == sha);
    let Some((base, head)) = basehead.split_once("...") else {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    };
    let (Some(from), Some(to)) = (at(base), at(head)) else {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    };
    let (status, ahead, behind) = match to.cmp(&from) {
        std::cmp::Ordering::Equal => ("identical", 0, 0),
        std::cmp::Ordering::Greater => ("ahead", to - from, 0),
        std::cmp::Ordering::Less => ("behind", 0, from - to),
    };
    let commits: Vec<&FakeCommit> = history[from + 1..=to.max(from)].iter().collect();
    let total = commits.len();
    let mut page = paginate(commits, query, link_base, |c| {
        commit_json(state, repository, c)
    });
    let commits = page.body.take().unwrap_or(Value::Array(Vec::new()));
    page.body = Some(json!({
        "url": format!("https://api.github.example/repos/{repository}/compare/{basehead}"),
        "html_url": format!("https://github.example/{repository}/compare/{basehead}"),
        "permalink_url": format!("https://github.example/{repository}/compare/{basehead}"),
        "diff_url": format!("https://github.example/{repository}/compare/{basehead}.diff"),
        "patch_url": format!("https://github.example/{repository}/compare/{basehead}.patch"),
        "base_commit": commit_json(state, repository, &history[from]),
        "merge_base_commit": commit_json(state, repository, &history[from.min(to)]),
        "status": status,
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": total,
        "commits": commits,
        "files": [],
    }));
    page
}

/// `GET /repos/{owner}/{repo}/commits/{ref}`.
pub(crate) fn commit(state: &State, repository: &str, sha: &str) -> Answer {
    let history = state
        .history
        .get(repository)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match history.iter().find(|c| c.sha == sha) {
        Some(c) => Answer::json(StatusCode::OK, commit_json(state, repository, c)),
        None => Answer::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {sha}"),
        ),
    }
}
