//! The fake's GraphQL endpoint: every query is validated against GitHub's published schema
//! (`tests/graphql/schema.graphql`, from `@octokit/graphql-schema`), then answered field by
//! field from the fake's state for the objects the function reads (an issue's comments,
//! whether GitHub recorded an edit, the rate limit). A query that is not valid is answered
//! as GitHub answers it (`200` with `errors`) and remembered as a violation; a field the
//! fake does not serve is a violation too, never a silent `null`.

use std::sync::OnceLock;

use apollo_compiler::ast::Value as Literal;
use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

use super::*;

/// GitHub's GraphQL schema, parsed once. The published schema declares two fields twice
/// (on `EnterpriseOwnerInfo`), which a strict validator refuses: the parse is kept.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/graphql/schema.graphql");
        let text = std::fs::read_to_string(path).expect("tests/graphql/schema.graphql");
        let schema = match Schema::parse(text, "schema.graphql") {
            Ok(schema) => schema,
            Err(with_errors) => with_errors.partial,
        };
        Valid::assume_valid(schema)
    })
}

/// The query, validated against GitHub's schema.
pub fn validate(query: &str) -> Result<Valid<ExecutableDocument>, String> {
    ExecutableDocument::parse_and_validate(schema(), query, "query.graphql")
        .map_err(|e| e.errors.to_string())
}

/// Answers `POST /graphql` (the caller is already authenticated).
pub(crate) fn serve(state: &mut State, input: &Value) -> Answer {
    let query = input["query"].as_str().unwrap_or_default();
    let document = match validate(query) {
        Ok(document) => document,
        Err(why) => {
            state.violations.push(format!(
                "GraphQL query invalid against GitHub's schema: {why}"
            ));
            return Answer::json(StatusCode::OK, json!({"errors": [{"message": why}]}));
        }
    };
    let Ok(operation) = document.operations.get(None) else {
        return Answer::json(
            StatusCode::OK,
            json!({"errors": [{"message": "one operation, please"}]}),
        );
    };
    let run = Run {
        state,
        variables: &input["variables"],
        errors: Vec::new(),
    };
    run.answer(&operation.selection_set)
}

struct Run<'a> {
    state: &'a mut State,
    variables: &'a Value,
    errors: Vec<Value>,
}

/// What a field resolves to in the fake's state.
#[derive(Clone, Copy)]
enum Node {
    Query,
    Repository,
    Issue(u64),
    Comments {
        issue: u64,
        from: usize,
        first: usize,
    },
    PageInfo {
        more: bool,
        end: usize,
    },
    Comment(u64),
    /// The editor (or else the author) of a comment.
    Actor {
        comment: u64,
        editor: bool,
    },
    /// An issue's timeline, its last `last` comment deletions.
    Timeline {
        issue: u64,
        last: usize,
    },
    /// The timeline's page.
    TimelinePage {
        earlier: bool,
    },
    /// A comment deletion (`CommentDeletedEvent`), by its index in the fake's record.
    Deletion(usize),
    /// The author of a deleted comment.
    DeletedAuthor(usize),
    /// Who last edited an issue's body.
    IssueEditor(u64),
    RateLimit,
    /// A source repository with a history, by its place among the fake's histories.
    Source(usize),
    /// A commit of a source repository's history.
    Commit {
        repo: usize,
        at: usize,
    },
    /// The first `first` pull requests a commit came from.
    Pulls {
        repo: usize,
        at: usize,
        first: usize,
    },
    /// One of them.
    Pull {
        repo: usize,
        at: usize,
        i: usize,
    },
}

impl Run<'_> {
    fn answer(mut self, selection: &SelectionSet) -> Answer {
        let data = self.object(Node::Query, selection);
        let mut body = json!({ "data": data });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors);
        }
        Answer::json(StatusCode::OK, body)
    }

    fn object(&mut self, node: Node, selection: &SelectionSet) -> Value {
        let mut out = serde_json::Map::new();
        self.select(node, selection, &mut out);
        Value::Object(out)
    }

    fn select(
        &mut self,
        node: Node,
        selection: &SelectionSet,
        out: &mut serde_json::Map<String, Value>,
    ) {
        for s in &selection.selections {
            match s {
                Selection::Field(field) => {
                    let value = self.field(node, field);
                    out.insert(field.response_key().to_string(), value);
                }
                // A fragment on the node's own type applies; on another type, nothing.
                Selection::InlineFragment(fragment) => {
                    let applies = fragment
                        .type_condition
                        .as_ref()
                        .is_none_or(|t| Some(t.as_str()) == type_name(self.state, node));
                    if applies {
                        self.select(node, &fragment.selection_set, out);
                    }
                }
                Selection::FragmentSpread(_) => self
                    .state
                    .violations
                    .push("the fake serves no named GraphQL fragments".into()),
            }
        }
    }

    fn argument(&self, field: &Field, name: &str) -> Value {
        let Some(arg) = field.arguments.iter().find(|a| a.name == name) else {
            return Value::Null;
        };
        self.literal(&arg.value)
    }

    fn literal(&self, value: &Literal) -> Value {
        match value {
            Literal::Variable(v) => self.variables[v.as_str()].clone(),
            Literal::Int(i) => json!(i.try_to_i32().unwrap_or_default()),
            Literal::String(s) => json!(s),
            Literal::Enum(e) => json!(e.as_str()),
            Literal::List(items) => Value::Array(items.iter().map(|i| self.literal(i)).collect()),
            _ => Value::Null,
        }
    }

    fn field(&mut self, node: Node, field: &Field) -> Value {
        let name = field.name.as_str();
        let child = |run: &mut Self, n: Node| run.object(n, &field.selection_set);
        match (node, name) {
            (Node::Query, "repository") => {
                let (owner, repo) = (self.argument(field, "owner"), self.argument(field, "name"));
                let source = format!(
                    "{}/{}",
                    owner.as_str().unwrap_or_default(),
                    repo.as_str().unwrap_or_default()
                );
                if owner == json!(OWNER) && repo == json!(REPO) {
                    child(self, Node::Repository)
                } else if let Some(i) = self.state.history.keys().position(|k| *k == source) {
                    child(self, Node::Source(i))
                } else {
                    self.not_found(&format!(
                        "Could not resolve to a Repository with the name '{owner}/{repo}'."
                    ));
                    Value::Null
                }
            }
            (Node::Query, "rateLimit") => child(self, Node::RateLimit),
            (Node::Repository, "issue") => {
                let number = self.argument(field, "number").as_u64().unwrap_or(0);
                match self.state.issues.get(&number) {
                    Some(i) if !i.deleted => child(self, Node::Issue(number)),
                    _ => {
                        self.not_found(&format!(
                            "Could not resolve to an Issue with the number of {number}."
                        ));
                        Value::Null
                    }
                }
            }
            (Node::Issue(issue), "lastEditedAt") => {
                json!(
                    self.state.issues[&issue]
                        .last_edited
                        .as_ref()
                        .map(|(at, _)| time(*at))
                )
            }
            (Node::Issue(issue), "editor") => match &self.state.issues[&issue].last_edited {
                Some(_) => child(self, Node::IssueEditor(issue)),
                None => Value::Null,
            },
            (Node::IssueEditor(issue), _) => {
                let by = self.state.issues[&issue]
                    .last_edited
                    .clone()
                    .map(|(_, by)| by);
                self.actor(by.as_deref(), name)
            }
            (Node::Issue(issue), "comments") => {
                let first = self.argument(field, "first").as_u64().unwrap_or(0) as usize;
                let from = match self.argument(field, "after") {
                    Value::String(cursor) => cursor_offset(&cursor) + 1,
                    _ => 0,
                };
                child(self, Node::Comments { issue, from, first })
            }
            (Node::Comments { issue, from, first }, _) => {
                let ids: Vec<u64> = self
                    .state
                    .comments
                    .values()
                    .filter(|c| c.issue == issue)
                    .map(|c| c.id)
                    .collect();
                let page: Vec<u64> = ids.iter().skip(from).take(first).copied().collect();
                let end = from + page.len().max(1) - 1;
                match name {
                    "totalCount" => json!(ids.len()),
                    "pageInfo" => child(
                        self,
                        Node::PageInfo {
                            more: from + page.len() < ids.len(),
                            end,
                        },
                    ),
                    "nodes" => Value::Array(
                        page.into_iter()
                            .map(|id| child(self, Node::Comment(id)))
                            .collect(),
                    ),
                    _ => self.unserved(name),
                }
            }
            (Node::Issue(issue), "timelineItems") => {
                let types = self.argument(field, "itemTypes");
                if types != json!(["COMMENT_DELETED_EVENT"]) {
                    return self.unserved(&format!("timelineItems of {types}"));
                }
                let last = self.argument(field, "last").as_u64().unwrap_or(0) as usize;
                child(self, Node::Timeline { issue, last })
            }
            (Node::Timeline { issue, last }, _) => {
                let all: Vec<usize> = (0..self.state.deletions.len())
                    .filter(|i| self.state.deletions[*i].0 == issue)
                    .collect();
                let page: Vec<usize> = all.iter().rev().take(last).rev().copied().collect();
                match name {
                    "pageInfo" => child(
                        self,
                        Node::TimelinePage {
                            earlier: all.len() > last,
                        },
                    ),
                    "nodes" => Value::Array(
                        page.into_iter()
                            .map(|i| child(self, Node::Deletion(i)))
                            .collect(),
                    ),
                    _ => self.unserved(name),
                }
            }
            (Node::TimelinePage { earlier }, "hasPreviousPage") => json!(earlier),
            (Node::Deletion(i), "createdAt") => json!(time(self.state.deletions[i].1)),
            (Node::Deletion(i), "deletedCommentAuthor") => child(self, Node::DeletedAuthor(i)),
            (Node::DeletedAuthor(i), _) => {
                let author = self.state.deletions[i].2.clone();
                self.actor(Some(&author), name)
            }
            (Node::PageInfo { more, .. }, "hasNextPage") => json!(more),
            (Node::PageInfo { end, .. }, "endCursor") => json!(cursor(end)),
            (Node::Comment(id), _) => {
                let c = self.state.comments[&id].clone();
                match name {
                    "fullDatabaseId" => json!(id.to_string()),
                    "databaseId" => json!(id),
                    "createdAt" => json!(time(c.created_at)),
                    "lastEditedAt" => json!(c.last_edited_at.map(time)),
                    "includesCreatedEdit" => json!(c.last_edited_at.is_some()),
                    "body" => json!(c.body),
                    "editor" if c.editor.is_none() => Value::Null,
                    "editor" => child(
                        self,
                        Node::Actor {
                            comment: id,
                            editor: true,
                        },
                    ),
                    "author" => child(
                        self,
                        Node::Actor {
                            comment: id,
                            editor: false,
                        },
                    ),
                    _ => self.unserved(name),
                }
            }
            (Node::Actor { comment, editor }, "login") => {
                let c = &self.state.comments[&comment];
                json!(if editor {
                    c.editor.clone()
                } else {
                    Some(c.user.clone())
                })
            }
            (Node::Source(repo), "object") => {
                let oid = self.argument(field, "oid");
                let history = self.state.history.values().nth(repo).unwrap();
                match history.iter().position(|c| json!(c.sha) == oid) {
                    Some(at) => child(self, Node::Commit { repo, at }),
                    None => Value::Null,
                }
            }
            (Node::Commit { repo, at }, "associatedPullRequests") => {
                let first = self.argument(field, "first").as_u64().unwrap_or(0) as usize;
                child(self, Node::Pulls { repo, at, first })
            }
            (Node::Pulls { repo, at, first }, "nodes") => {
                let count = self.state.history.values().nth(repo).unwrap()[at]
                    .pulls
                    .len();
                Value::Array(
                    (0..count.min(first))
                        .map(|i| child(self, Node::Pull { repo, at, i }))
                        .collect(),
                )
            }
            (Node::Pull { repo, at, i }, _) => {
                let (repository, commits) = self.state.history.iter().nth(repo).unwrap();
                let (number, title) = commits[at].pulls[i].clone();
                match name {
                    "number" => json!(number),
                    "title" => json!(title),
                    "url" => json!(format!("https://github.example/{repository}/pull/{number}")),
                    _ => self.unserved(name),
                }
            }
            (Node::RateLimit, "cost") => json!(1),
            (Node::RateLimit, "limit") => json!(5000),
            (Node::RateLimit, "remaining") => json!(4999),
            (Node::RateLimit, "resetAt") => {
                json!(time(self.state.now + chrono::TimeDelta::hours(1)))
            }
            _ => self.unserved(name),
        }
    }

    /// A field of an actor, as GitHub's GraphQL names it: a bot without its `[bot]`.
    fn actor(&mut self, login: Option<&str>, name: &str) -> Value {
        let Some(login) = login else {
            return Value::Null;
        };
        match name {
            "login" => json!(login.strip_suffix("[bot]").unwrap_or(login)),
            "databaseId" => json!(self.state.id_of(login)),
            _ => self.unserved(name),
        }
    }

    fn not_found(&mut self, message: &str) {
        self.errors
            .push(json!({"type": "NOT_FOUND", "message": message}));
    }

    fn unserved(&mut self, name: &str) -> Value {
        self.state
            .violations
            .push(format!("the fake serves no GraphQL field {name:?} there"));
        Value::Null
    }
}

/// The GraphQL type of a node, for inline fragments.
fn type_name(state: &State, node: Node) -> Option<&'static str> {
    let account = |login: Option<&str>| match login {
        Some(l) if l.ends_with("[bot]") => Some("Bot"),
        Some(_) => Some("User"),
        None => None,
    };
    match node {
        Node::DeletedAuthor(i) => account(Some(&state.deletions[i].2)),
        Node::IssueEditor(issue) => account(
            state.issues[&issue]
                .last_edited
                .as_ref()
                .map(|(_, by)| by.as_str()),
        ),
        Node::Deletion(_) => Some("CommentDeletedEvent"),
        Node::Comment(_) => Some("IssueComment"),
        Node::Issue(_) => Some("Issue"),
        Node::Commit { .. } => Some("Commit"),
        _ => None,
    }
}

fn cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{offset}"))
}

fn cursor_offset(cursor: &str) -> usize {
    base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("cursor:v2:").and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}
