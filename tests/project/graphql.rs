//! Every GraphQL query the function sends is valid against GitHub's published GraphQL
//! schema (`tests/graphql/schema.graphql`, from `@octokit/graphql-schema`, version in
//! `tests/graphql/README.md`). The fake GitHub validates every query it is sent against
//! the same schema; this checks the queries themselves, and that the check can fail.

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use function_release_pipeline::github::graphql::EDITS_QUERY;

fn schema() -> Valid<Schema> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/graphql/schema.graphql");
    let text = std::fs::read_to_string(path).expect("tests/graphql/schema.graphql");
    // The published schema declares two fields of EnterpriseOwnerInfo twice, which a
    // strict validator refuses; nothing the function asks touches them.
    let schema = match Schema::parse(text, "schema.graphql") {
        Ok(schema) => schema,
        Err(with_errors) => {
            let errors = with_errors.errors.to_string();
            assert!(
                errors.contains("EnterpriseOwnerInfo"),
                "the schema has other errors: {errors}"
            );
            with_errors.partial
        }
    };
    Valid::assume_valid(schema)
}

#[test]
fn every_query_the_function_sends_is_valid_against_github_s_schema() {
    let schema = schema();
    let shas: Vec<String> = ["a", "b", "c"].iter().map(|c| c.repeat(40)).collect();
    let pulls = function_release_pipeline::github::pulls::pulls_query(&shas);
    for query in [EDITS_QUERY, pulls.as_str()] {
        if let Err(e) = ExecutableDocument::parse_and_validate(&schema, query, "query.graphql") {
            panic!("{query}\n{}", e.errors);
        }
    }
}

#[test]
fn a_query_github_would_refuse_fails_the_check() {
    let schema = schema();
    for wrong in [
        // A field IssueComment does not have.
        EDITS_QUERY.replace("lastEditedAt", "editedAt"),
        // databaseId is an Int, not a connection.
        EDITS_QUERY.replace("fullDatabaseId", "fullDatabaseId { id }"),
        // A timeline item type that does not exist.
        EDITS_QUERY.replace("COMMENT_DELETED_EVENT", "COMMENT_REMOVED_EVENT"),
        // A commit's pull requests are not a field of that name.
        function_release_pipeline::github::pulls::pulls_query(&["a".repeat(40)])
            .replace("associatedPullRequests", "pullRequests"),
    ] {
        assert!(
            ExecutableDocument::parse_and_validate(&schema, wrong.as_str(), "query.graphql")
                .is_err(),
            "accepted: {wrong}"
        );
    }
}
