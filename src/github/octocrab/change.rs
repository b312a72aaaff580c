//! The change under review through the REST API: `GET /repos/{o}/{r}/compare/{base}...{head}`
//! a page of 100 commits at a time (conditional, like every read), and
//! `GET /repos/{o}/{r}/commits/{sha}`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use http::Method;
use serde::Deserialize;

use super::super::change::{Account, ChangeCommit, Changes, Comparison, PullRef};
use super::super::pulls::{PULLS_PER_QUERY, parse_pulls, pulls_request};
use super::super::{GitHubError, Result, rest};
use super::PER_PAGE;
use super::repo::RestGitHub;

/// A commit as the compare and commit endpoints give it.
#[derive(Debug, Deserialize)]
struct WireCommit {
    sha: String,
    #[serde(default)]
    html_url: String,
    commit: WireGitCommit,
    #[serde(default)]
    author: Option<WireAccount>,
    #[serde(default)]
    committer: Option<WireAccount>,
}

#[derive(Debug, Deserialize)]
struct WireGitCommit {
    #[serde(default)]
    message: String,
    #[serde(default)]
    author: Option<WireGitPerson>,
}

#[derive(Debug, Deserialize)]
struct WireGitPerson {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireAccount {
    login: String,
    id: u64,
}

#[derive(Debug, Deserialize)]
struct WireComparison {
    status: String,
    ahead_by: u64,
    behind_by: u64,
    #[serde(default)]
    commits: Vec<WireCommit>,
}

impl WireCommit {
    fn into_commit(self) -> ChangeCommit {
        let account = |a: Option<WireAccount>| {
            a.map(|a| Account {
                login: a.login,
                id: a.id,
            })
        };
        ChangeCommit {
            title: self
                .commit
                .message
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            author_name: self.commit.author.and_then(|a| a.name).unwrap_or_default(),
            sha: self.sha,
            html_url: self.html_url,
            author: account(self.author),
            committer: account(self.committer),
        }
    }
}

#[async_trait]
impl Changes for RestGitHub {
    async fn compare(
        &self,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> Result<Option<Comparison>> {
        let what = "cannot compare the change's revisions";
        let mut comparison: Option<Comparison> = None;
        for page in 1.. {
            let path = format!(
                "{}/compare/{}...{}?per_page={PER_PAGE}&page={page}",
                self.repo_path(),
                rest::encode(base),
                rest::encode(head)
            );
            let body = match self.get(what, &path).await {
                Ok(page) => page.body,
                Err(GitHubError::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let wire: WireComparison = rest::parse(what, &body)?;
            let got = wire.commits.len();
            let found = comparison.get_or_insert_with(|| Comparison {
                status: wire.status.clone(),
                ahead_by: wire.ahead_by,
                behind_by: wire.behind_by,
                commits: Vec::new(),
            });
            found
                .commits
                .extend(wire.commits.into_iter().map(WireCommit::into_commit));
            let read = found.commits.len();
            if got < PER_PAGE || read as u64 >= found.ahead_by || read >= max_commits {
                found.commits.truncate(max_commits);
                break;
            }
        }
        Ok(comparison)
    }

    async fn commit(&self, sha: &str) -> Result<Option<ChangeCommit>> {
        let what = "cannot read the change's commit";
        let path = format!("{}/commits/{}", self.repo_path(), rest::encode(sha));
        match self.get(what, &path).await {
            Ok(page) => {
                let wire: WireCommit = rest::parse(what, &page.body)?;
                Ok(Some(wire.into_commit()))
            }
            // A sha GitHub has no commit of is a 422, an error like any other: the change
            // is unreadable either way.
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn pull_requests(&self, shas: &[String]) -> Result<BTreeMap<String, Vec<PullRef>>> {
        let what = "cannot read the pull requests of the change's commits";
        let mut out = BTreeMap::new();
        for chunk in shas.chunks(PULLS_PER_QUERY) {
            let body = pulls_request(&self.target.owner, &self.target.repo, chunk);
            let answer = self.graphql_post(what, &body).await?;
            out.extend(parse_pulls(what, &answer, chunk)?);
        }
        Ok(out)
    }
}

impl RestGitHub {
    /// Sends a GraphQL query (to the GraphQL endpoint of the API root, GitHub Enterprise
    /// Server's included); the answer's body when GitHub took it.
    pub(super) async fn graphql_post(
        &self,
        what: &str,
        body: &serde_json::Value,
    ) -> Result<String> {
        let wire = self.graphql.as_ref().unwrap_or(&self.wire);
        let reply = wire
            .send(what, Method::POST, "/graphql", Some(body), None)
            .await?;
        if !reply.status.is_success() {
            return Err(self.failed(what, &reply));
        }
        Ok(reply.body)
    }
}
