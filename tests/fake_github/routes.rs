//! The fake's HTTP routes: which request is which operation, the answers GitHub gives (with
//! pagination, conditional requests and faults), and the JSON it writes.

use super::*;

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<Value>,
    pub(crate) raw: Option<String>,
}

impl Answer {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: Some(body),
            raw: None,
        }
    }

    pub(crate) fn message(status: StatusCode, message: &str) -> Self {
        Self::json(
            status,
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        )
    }
}

pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn query_map(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub(crate) fn route_of(method: &Method, segments: &[String]) -> Route {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let repo = |o: &str, r: &str| o == OWNER && r == REPO;
    match (method.as_str(), s.as_slice()) {
        ("GET", ["user"]) => Route::User,
        ("GET", ["users", _]) => Route::UserByLogin,
        ("GET", ["app"]) => Route::App,
        ("POST", ["app", "installations", _, "access_tokens"]) => Route::AccessToken,
        ("GET", ["repos", o, r, "installation"]) if repo(o, r) => Route::RepoInstallation,
        ("GET", ["repos", o, r, "issues"]) if repo(o, r) => Route::ListIssues,
        ("POST", ["repos", o, r, "issues"]) if repo(o, r) => Route::CreateIssue,
        ("GET", ["repos", o, r, "issues", "comments"]) if repo(o, r) => Route::ListRepoComments,
        ("GET", ["repos", o, r, "issues", "events"]) if repo(o, r) => Route::ListRepoEvents,
        ("GET", ["repos", o, r, "issues", _]) if repo(o, r) => Route::GetIssue,
        ("PATCH", ["repos", o, r, "issues", _]) if repo(o, r) => Route::UpdateIssue,
        ("GET", ["repos", o, r, "issues", _, "comments"]) if repo(o, r) => Route::ListComments,
        ("POST", ["repos", o, r, "issues", _, "comments"]) if repo(o, r) => Route::CreateComment,
        ("POST", ["repos", o, r, "issues", _, "assignees"]) if repo(o, r) => Route::AddAssignees,
        ("GET", ["repos", o, r, "issues", _, "events"]) if repo(o, r) => Route::ListEvents,
        ("GET", ["repos", _, _, "compare", _]) => Route::Compare,
        ("GET", ["repos", _, _, "commits", _]) => Route::Commit,
        ("GET", ["orgs", _, "teams", _, "memberships", _]) => Route::TeamMembership,
        ("GET", ["repos", o, r, "collaborators", _, "permission"]) if repo(o, r) => {
            Route::Permission
        }
        ("POST", ["graphql"]) => Route::Graphql,
        _ => Route::Unknown,
    }
}

pub(crate) async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    request: Request,
) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    // GitHub Enterprise Server serves the API under /api/v3.
    let full_path = uri.path().to_owned();
    let (prefix, path) = match full_path.strip_prefix("/api/v3") {
        Some(rest) => ("/api/v3", rest.to_owned()),
        None => ("", full_path.clone()),
    };
    let segments: Vec<String> = path.trim_matches('/').split('/').map(decode).collect();
    // Like GitHub: GraphQL is at /graphql on GitHub.com, and at /api/graphql (not under
    // the REST root /api/v3) on GitHub Enterprise Server.
    let route = match (prefix, route_of(&method, &segments)) {
        ("/api/v3", Route::Graphql) => Route::Unknown,
        (_, Route::Unknown) if method == Method::POST && full_path == "/api/graphql" => {
            Route::Graphql
        }
        (_, route) => route,
    };
    let query = query_map(uri.query().unwrap_or(""));
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let fault = shared.state.lock().unwrap().take_fault(route);
    let fault = match fault {
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        other => other,
    };

    let mut state = shared.state.lock().unwrap();
    let mut answer = match &fault {
        Some(Fault::Status(code)) => Some(Answer::message(
            StatusCode::from_u16(*code).unwrap(),
            "injected fault",
        )),
        Some(Fault::RateLimit403 { reset_in }) => {
            let mut a = Answer::message(StatusCode::FORBIDDEN, "API rate limit exceeded for user");
            a.headers = vec![
                ("x-ratelimit-limit", "5000".into()),
                ("x-ratelimit-remaining", "0".into()),
                (
                    "x-ratelimit-reset",
                    (Utc::now().timestamp() + *reset_in as i64).to_string(),
                ),
            ];
            Some(a)
        }
        Some(Fault::SecondaryRateLimit) => Some(Answer::message(
            StatusCode::FORBIDDEN,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )),
        Some(Fault::TooManyRequests { retry_after }) => {
            let mut a = Answer::message(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded a secondary rate limit",
            );
            a.headers = vec![("retry-after", retry_after.to_string())];
            Some(a)
        }
        Some(Fault::EchoAuthorization(code)) => {
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Some(Answer::message(
                StatusCode::from_u16(*code).unwrap(),
                &format!("upstream refused Authorization: {sent}"),
            ))
        }
        Some(Fault::GraphqlRateLimited) => Some(Answer::json(
            StatusCode::OK,
            json!({
                "data": {"rateLimit": {"cost": 1, "remaining": 0,
                    "resetAt": time(Utc::now() + chrono::TimeDelta::minutes(10))}},
                "errors": [{"type": "RATE_LIMITED", "message": "API rate limit already exceeded for user ID 1."}],
            }),
        )),
        Some(Fault::MalformedJson) => Some(Answer {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: None,
            raw: Some("{\"number\": 1, \"title\": \"trunc".into()),
        }),
        _ => None,
    };
    if answer.is_none() {
        let link_base = format!("{}{}{}", shared.base, prefix, path);
        let mut a = serve(
            &mut state, route, &method, &segments, &query, &headers, &body, &link_base,
        );
        if let Some(Fault::AfterEffect(code)) = fault {
            a = Answer::message(
                StatusCode::from_u16(code).unwrap(),
                "injected fault after the work",
            );
        }
        answer = Some(a);
    }
    let answer = answer.unwrap();

    let text = answer
        .raw
        .clone()
        .or_else(|| answer.body.as_ref().map(|b| b.to_string()))
        .unwrap_or_default();
    let mut status = answer.status;
    let mut response_headers: Vec<(&'static str, String)> = answer.headers.clone();
    let mut send_body = text.clone();
    if method == Method::GET && status == StatusCode::OK && answer.raw.is_none() {
        // Like GitHub's, the ETag covers the body only, not the `Link` header.
        let digest = Sha256::digest(text.as_bytes());
        let etag = format!(
            "W/\"{}\"",
            digest[..10]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        if if_none_match.as_deref() == Some(etag.as_str()) {
            status = StatusCode::NOT_MODIFIED;
            send_body.clear();
        }
        response_headers.push(("etag", etag));
    }
    state.seen.push(Seen {
        method: method.to_string(),
        route,
        uri: uri.to_string(),
        status: status.as_u16(),
        conditional: if_none_match.is_some(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).ok(),
    });
    // Like GitHub, the fake only accepts what GitHub's API description allows: a request
    // it would refuse is remembered, and fails the test when the fake is dropped.
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let json_body: Option<Value> = serde_json::from_slice(&body).ok();
    // GraphQL is checked against GitHub's GraphQL schema instead, as it is served.
    let checked = match route {
        Route::Graphql => Ok(()),
        _ => openapi::github().check(method.as_str(), &path_and_query, json_body.as_ref()),
    };
    if let Err(why) = checked {
        state.violations.push(why);
    }
    drop(state);

    let mut builder = Response::builder().status(status);
    if !send_body.is_empty() {
        builder = builder.header(header::CONTENT_TYPE, "application/json; charset=utf-8");
    }
    for (k, v) in response_headers {
        builder = builder.header(k, HeaderValue::from_str(&v).unwrap());
    }
    builder.body(Body::from(send_body)).unwrap()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn serve(
    state: &mut State,
    route: Route,
    method: &Method,
    segments: &[String],
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    link_base: &str,
) -> Answer {
    if route == Route::Unknown {
        return Answer::message(
            StatusCode::NOT_FOUND,
            &format!(
                "Not Found (fake has no route for {method} /{})",
                segments.join("/")
            ),
        );
    }
    let caller = caller(state, headers);
    let needs_app = matches!(
        route,
        Route::App | Route::RepoInstallation | Route::AccessToken
    );
    let login = match (&caller, needs_app) {
        (Caller::App, true) => String::new(),
        (Caller::User(login), false) => login.clone(),
        (Caller::Nobody, _) => return Answer::message(StatusCode::UNAUTHORIZED, "Bad credentials"),
        (Caller::App, false) | (Caller::User(_), true) => {
            return Answer::message(
                StatusCode::UNAUTHORIZED,
                "A JSON web token could not be decoded",
            );
        }
    };
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let number = || segments.get(4).and_then(|n| n.parse::<u64>().ok());
    match route {
        Route::User => Answer::json(StatusCode::OK, user_json(state, &login)),
        Route::UserByLogin if state.gone.contains(&segments[1].to_ascii_lowercase()) => {
            Answer::json(StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
        }
        Route::UserByLogin => Answer::json(StatusCode::OK, user_json(state, &segments[1])),
        Route::App => {
            let app = state.app.as_ref().unwrap();
            Answer::json(
                StatusCode::OK,
                json!({ "id": app.id, "slug": app.slug, "name": app.slug }),
            )
        }
        Route::RepoInstallation => {
            let app = state.app.as_ref().unwrap();
            Answer::json(
                StatusCode::OK,
                json!({ "id": app.installation_id, "app_id": app.id }),
            )
        }
        Route::AccessToken => {
            let app = state.app.clone().unwrap();
            if segments[2] != app.installation_id.to_string() {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            }
            let token = format!(
                "ghs_fakeinstallation{:04}",
                state.installation_tokens.len() + 1
            );
            let expires = Utc::now() + app.token_ttl;
            state.installation_tokens.insert(token.clone(), expires);
            Answer::json(
                StatusCode::CREATED,
                json!({ "token": token, "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) }),
            )
        }
        Route::ListIssues => list_issues(state, query, link_base),
        Route::Compare => {
            let repository = format!("{}/{}", segments[1], segments[2]);
            super::history::compare(state, &repository, &segments[4], query, link_base)
        }
        Route::Commit => {
            let repository = format!("{}/{}", segments[1], segments[2]);
            super::history::commit(state, &repository, &segments[4])
        }
        Route::CreateIssue => {
            let Some(title) = input["title"].as_str() else {
                return Answer::message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
            };
            let strings = |v: &Value| -> Vec<String> {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let number = state.create_issue(
                &login,
                title,
                input["body"].as_str().unwrap_or(""),
                strings(&input["labels"]),
                strings(&input["assignees"]),
                false,
            );
            let issue = state.issues[&number].clone();
            Answer::json(StatusCode::CREATED, issue_json(state, &issue, true))
        }
        Route::GetIssue => match number().and_then(|n| state.issues.get(&n)).cloned() {
            None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
            Some(i) if i.deleted => Answer::message(StatusCode::GONE, "This issue was deleted"),
            Some(i) => Answer::json(StatusCode::OK, issue_json(state, &i, true)),
        },
        Route::UpdateIssue => {
            let Some(n) = number().filter(|n| state.issues.get(n).is_some_and(|i| !i.deleted))
            else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            match input["state"].as_str() {
                Some("closed") => {
                    let reason = input["state_reason"].as_str().unwrap_or("completed");
                    state.close(n, &login, reason);
                }
                Some("open") => state.reopen(n, &login),
                _ => {}
            }
            let (title, body) = (input["title"].as_str(), input["body"].as_str());
            if title.is_some() || body.is_some() {
                state.retext(n, &login, title, body);
            }
            let issue = state.issues[&n].clone();
            Answer::json(StatusCode::OK, issue_json(state, &issue, true))
        }
        Route::AddAssignees => {
            let Some(n) = number().filter(|n| state.issues.get(n).is_some_and(|i| !i.deleted))
            else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            // Like GitHub: those who cannot be assigned (no access to the repository) are
            // left out without an error; an issue keeps at most ten assignees.
            let asked = input["assignees"].as_array().cloned().unwrap_or_default();
            for assignee in asked.iter().filter_map(|a| a.as_str().map(str::to_owned)) {
                let assignable = state.permissions.contains_key(&assignee);
                let issue = &state.issues[&n];
                if assignable && !issue.assignees.contains(&assignee) && issue.assignees.len() < 10
                {
                    let at = state.tick();
                    let issue = state.issues.get_mut(&n).unwrap();
                    issue.assignees.push(assignee.clone());
                    issue.updated_at = at;
                    state.record(n, &login, "assigned", None);
                }
            }
            let issue = state.issues[&n].clone();
            Answer::json(StatusCode::CREATED, issue_json(state, &issue, true))
        }
        Route::ListComments => {
            let Some(n) = number().filter(|n| state.issues.contains_key(n)) else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            if state.issues[&n].deleted {
                return Answer::message(StatusCode::GONE, "This issue was deleted");
            }
            let items: Vec<&FakeComment> =
                state.comments.values().filter(|c| c.issue == n).collect();
            paginate(items, query, link_base, |c| comment_json(state, c))
        }
        Route::ListRepoComments => {
            // Like GitHub: `since` keeps what changed after it; sorted by `created` unless
            // asked otherwise; comments of deleted issues are gone.
            let since = match query.get("since").map(|s| DateTime::parse_from_rfc3339(s)) {
                None => None,
                Some(Ok(t)) => Some(t.with_timezone(&Utc)),
                Some(Err(_)) => {
                    return Answer::message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
                }
            };
            let mut comments: Vec<&FakeComment> = state
                .comments
                .values()
                .filter(|c| state.issues.get(&c.issue).is_some_and(|i| !i.deleted))
                .filter(|c| since.is_none_or(|s| c.updated_at > s))
                .collect();
            if query.get("sort").map(String::as_str) == Some("updated") {
                comments.sort_by_key(|c| (c.updated_at, c.id));
            } else {
                comments.sort_by_key(|c| (c.created_at, c.id));
            }
            if query.get("direction").map(String::as_str) == Some("desc") {
                comments.reverse();
            }
            paginate(comments, query, link_base, |c| comment_json(state, c))
        }
        Route::ListRepoEvents => {
            // Like GitHub: newest first, each with its issue, without the close's reason
            // (GitHub's `issue-event`); the events of deleted issues are gone.
            let mut events: Vec<&FakeEvent> = state
                .events
                .iter()
                .filter(|e| state.issues.get(&e.issue).is_some_and(|i| !i.deleted))
                .collect();
            events.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
            paginate(events, query, link_base, |e| {
                let mut v = event_json(state, e);
                if let Some(o) = v.as_object_mut() {
                    o.remove("state_reason");
                }
                v["issue"] = issue_json(state, &state.issues[&e.issue], false);
                v
            })
        }
        Route::ListEvents => {
            let Some(n) = number().filter(|n| state.issues.contains_key(n)) else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            if state.issues[&n].deleted {
                return Answer::message(StatusCode::GONE, "This issue was deleted");
            }
            let items: Vec<&FakeEvent> = state.events.iter().filter(|e| e.issue == n).collect();
            paginate(items, query, link_base, |e| event_json(state, e))
        }
        Route::CreateComment => {
            let Some(n) = number().filter(|n| state.issues.get(n).is_some_and(|i| !i.deleted))
            else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            let id = state.add_comment(n, &login, input["body"].as_str().unwrap_or(""));
            Answer::json(
                StatusCode::CREATED,
                comment_json(state, &state.comments[&id]),
            )
        }
        Route::TeamMembership => {
            let key = (segments[1].clone(), segments[3].clone());
            match state.teams.get(&key).and_then(|m| m.get(&segments[5])) {
                Some(s) => Answer::json(
                    StatusCode::OK,
                    json!({ "state": s, "role": "member", "url": "" }),
                ),
                None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        Route::Permission => match state.permissions.get(&segments[4]) {
            Some(role) => {
                let legacy = match role.as_str() {
                    "admin" => "admin",
                    "maintain" | "write" => "write",
                    "triage" | "read" => "read",
                    "none" => "none",
                    _ => "read",
                };
                Answer::json(
                    StatusCode::OK,
                    json!({ "permission": legacy, "role_name": role, "user": { "login": segments[4] } }),
                )
            }
            None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
        },
        Route::Graphql => graphql::serve(state, &input),
        Route::Unknown => unreachable!(),
    }
}

pub(crate) fn list_issues(
    state: &State,
    query: &BTreeMap<String, String>,
    link_base: &str,
) -> Answer {
    let wanted: Vec<&str> = query
        .get("labels")
        .map(|l| l.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let which = query.get("state").map(String::as_str).unwrap_or("open");
    let creator = query.get("creator");
    let since = match query.get("since").map(|s| DateTime::parse_from_rfc3339(s)) {
        None => None,
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
        Some(Err(_)) => {
            return Answer::message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
        }
    };
    let mut issues: Vec<&FakeIssue> = state
        .issues
        .values()
        .filter(|i| !i.deleted)
        .filter(|i| creator.is_none_or(|c| i.user.eq_ignore_ascii_case(c)))
        .filter(|i| wanted.iter().all(|w| i.labels.iter().any(|l| l == w)))
        .filter(|i| which == "all" || i.state == which)
        .filter(|i| since.is_none_or(|s| i.updated_at > s))
        .collect();
    match query.get("sort").map(String::as_str) {
        Some("updated") => issues.sort_by_key(|i| (i.updated_at, i.number)),
        _ => issues.sort_by_key(|i| (i.created_at, i.number)),
    }
    if query.get("direction").map(String::as_str) != Some("asc") {
        issues.reverse();
    }
    paginate(issues, query, link_base, |i| issue_json(state, i, false))
}

/// The page of `items` the query asks for, each made JSON by `json` (only those of the
/// page), with GitHub's `link` header.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    query: &BTreeMap<String, String>,
    link_base: &str,
    json: impl Fn(T) -> Value,
) -> Answer {
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let pages = items.len().div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(json)
        .collect();
    let url = |p: usize| {
        let mut q = query.clone();
        q.insert("page".into(), p.to_string());
        let qs: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20").replace(',', "%2C")))
            .collect();
        format!("<{link_base}?{}>", qs.join("&"))
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    let mut answer = Answer::json(StatusCode::OK, Value::Array(chunk));
    if !links.is_empty() {
        answer.headers.push(("link", links.join(", ")));
    }
    answer
}

/// A user as GitHub shows it; its id stays the same for the same login.
pub(crate) fn user_json(state: &State, login: &str) -> Value {
    json!({
        "login": login,
        "id": state.id_of(login),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" },
    })
}

pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An issue as GitHub shows it; the single-issue endpoint adds `closed_by`, listings
/// do not carry it.
pub(crate) fn issue_json(state: &State, i: &FakeIssue, single: bool) -> Value {
    let mut v = json!({
        "id": 100_000 + i.number,
        "node_id": format!("I_fake{}", i.number),
        "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/{}", i.number),
        "html_url": format!("https://github.example/{OWNER}/{REPO}/issues/{}", i.number),
        "number": i.number,
        "title": i.title,
        "body": if i.body.is_empty() { Value::Null } else { Value::String(i.body.clone()) },
        "state": i.state,
        "state_reason": i.state_reason,
        "locked": false,
        "labels": i.labels.iter().enumerate().map(|(n, l)| json!({ "id": n, "name": l, "color": "ededed", "default": false })).collect::<Vec<_>>(),
        "assignees": i.assignees.iter().map(|a| user_json(state, a)).collect::<Vec<_>>(),
        "user": user_json(state, &i.user),
        "comments": state.comment_count(i.number),
        "created_at": time(i.created_at),
        "updated_at": time(i.updated_at),
        "closed_at": i.closed_at.map(time),
        "author_association": "MEMBER",
    });
    if single {
        v["closed_by"] = i
            .closed_by
            .as_deref()
            .map(|l| user_json(state, l))
            .unwrap_or(Value::Null);
    }
    if i.pull_request {
        v["pull_request"] = json!({ "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/pulls/{}", i.number) });
    }
    v
}

/// A close or reopen as the issue events endpoint lists it (GitHub's
/// `state-change-issue-event`).
pub(crate) fn event_json(state: &State, e: &FakeEvent) -> Value {
    json!({
        "id": e.id,
        "node_id": format!("SE_fake{}", e.id),
        "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/events/{}", e.id),
        "actor": user_json(state, &e.actor),
        "event": e.event,
        "commit_id": Value::Null,
        "commit_url": Value::Null,
        "created_at": time(e.created_at),
        "performed_via_github_app": Value::Null,
        "state_reason": e.state_reason,
    })
}

pub(crate) fn comment_json(state: &State, c: &FakeComment) -> Value {
    json!({
        "id": c.id,
        "node_id": format!("IC_fake{}", c.id),
        "user": user_json(state, &c.user),
        "body": c.body,
        "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/comments/{}", c.id),
        "html_url": format!("https://github.example/{OWNER}/{REPO}/issues/{}#issuecomment-{}", c.issue, c.id),
        "issue_url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/{}", c.issue),
        "created_at": time(c.created_at),
        "updated_at": time(c.updated_at),
        "author_association": "MEMBER",
    })
}
