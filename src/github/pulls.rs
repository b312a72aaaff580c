//! The pull requests a change's commits came from: one GraphQL query per
//! [`PULLS_PER_QUERY`] commits (REST would need a request per commit), each commit an
//! alias of `object(oid:)` with its `associatedPullRequests`. Not finding them never holds
//! a gate: they only tell approvers more.
//!
//! Pure: the query text and the answer's parsing. The octocrab adapter sends it; the
//! tests check it against GitHub's published schema.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::change::PullRef;
use super::{GitHubError, Result};

/// Commits asked about in one query.
pub const PULLS_PER_QUERY: usize = 100;

/// Pull requests named per commit (a commit is rarely in more than one).
const PULLS_PER_COMMIT: usize = 3;

/// The query for the commits `shas` (full hex shas, at most [`PULLS_PER_QUERY`]) of
/// `owner/name`.
pub fn pulls_query(shas: &[String]) -> String {
    let mut query = String::from(
        "query ChangePullRequests($owner: String!, $name: String!) {\n  repository(owner: $owner, name: $name) {\n",
    );
    for (i, sha) in shas.iter().enumerate() {
        // A sha is 40 hex characters (validated), so it cannot break out of the string.
        let sha: String = sha.chars().filter(char::is_ascii_hexdigit).collect();
        query.push_str(&format!(
            "    c{i}: object(oid: \"{sha}\") {{ ... on Commit {{ associatedPullRequests(first: {PULLS_PER_COMMIT}) {{ nodes {{ number url title }} }} }} }}\n"
        ));
    }
    query.push_str("  }\n  rateLimit { cost remaining resetAt }\n}");
    query
}

/// The request body for [`pulls_query`].
pub fn pulls_request(owner: &str, name: &str, shas: &[String]) -> Value {
    json!({"query": pulls_query(shas), "variables": {"owner": owner, "name": name}})
}

#[derive(Deserialize)]
struct Answer {
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<Value>,
}

#[derive(Deserialize)]
struct Data {
    repository: Option<BTreeMap<String, Option<Commit>>>,
}

#[derive(Deserialize)]
struct Commit {
    #[serde(rename = "associatedPullRequests")]
    pulls: Option<Pulls>,
}

#[derive(Deserialize)]
struct Pulls {
    #[serde(default)]
    nodes: Vec<Option<PullRef>>,
}

/// The pull requests of each of `shas` the answer `body` names.
pub fn parse_pulls(
    what: &str,
    body: &str,
    shas: &[String],
) -> Result<BTreeMap<String, Vec<PullRef>>> {
    let answer: Answer =
        serde_json::from_str(body).map_err(|e| GitHubError::Malformed(format!("{what}: {e}")))?;
    let Some(repository) = answer.data.and_then(|d| d.repository) else {
        return Err(GitHubError::Malformed(format!(
            "{what}: no repository in the answer ({} errors)",
            answer.errors.len()
        )));
    };
    let mut out = BTreeMap::new();
    for (alias, commit) in repository {
        let Some(sha) = alias
            .strip_prefix('c')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| shas.get(i))
        else {
            continue;
        };
        let pulls: Vec<PullRef> = commit
            .and_then(|c| c.pulls)
            .map(|p| p.nodes.into_iter().flatten().collect())
            .unwrap_or_default();
        if !pulls.is_empty() {
            out.insert(sha.clone(), pulls);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_commit_is_an_alias_and_the_answer_reads_back_by_sha() {
        let shas = vec!["a".repeat(40), "b".repeat(40)];
        let query = pulls_query(&shas);
        assert!(query.contains(&format!("c1: object(oid: \"{}\")", "b".repeat(40))));
        let body = json!({"data": {"repository": {
            "c0": {"associatedPullRequests": {"nodes": [{"number": 12, "url": "https://github.com/a/b/pull/12", "title": "Add <b>"}]}},
            "c1": null,
        }, "rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2026-12-07T02:00:00Z"}}});
        let pulls = parse_pulls("pulls", &body.to_string(), &shas).unwrap();
        assert_eq!(pulls.len(), 1);
        assert_eq!(pulls[&shas[0]][0].number, 12);
        assert!(parse_pulls("pulls", "{\"errors\": [{}]}", &shas).is_err());
    }
}
