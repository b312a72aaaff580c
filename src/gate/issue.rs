//! The approval issue's text: title, body, the function's comments, the hidden markers
//! that make the verdict re-derivable from GitHub alone, escaping of user content, and
//! parsing of `/approve` and `/reject` comments.
//!
//! Pure: string building and parsing only; never a secret, never a spec dump.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::github::{Comment, Identity, Issue, NewIssue};
use crate::xr::gate::{Approval, GateState, Via, rfc3339};

use super::model::{Gate, Policy};

const MARKER_OPEN: &str = "<!-- release-gate:";
const MARKER_CLOSE: &str = "-->";

/// An answer found in a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `/approve`.
    Approve,
    /// `/reject`.
    Reject,
}

/// The command in a comment: `/approve` or `/reject` alone on a line (trimmed,
/// case-insensitive). A comment holding both is a rejection, the stricter answer.
pub fn parse_command(body: &str) -> Option<Command> {
    let mut found = None;
    for line in body.lines() {
        match line.trim().to_ascii_lowercase().as_str() {
            "/reject" => return Some(Command::Reject),
            "/approve" => found = Some(Command::Approve),
            _ => {}
        }
    }
    found
}

/// The reason of an `/override-freeze <reason>` line (trimmed, case-insensitive command, a
/// reason required, at most 200 characters kept).
pub fn parse_override(body: &str) -> Option<String> {
    body.lines().find_map(|line| {
        let line = line.trim();
        let (command, reason) = line.split_once(char::is_whitespace)?;
        (command.eq_ignore_ascii_case("/override-freeze") && !reason.trim().is_empty())
            .then(|| reason.trim().chars().take(200).collect())
    })
}

/// Escapes user content for a markdown body: no HTML, no `@` mention pings (a
/// zero-width joiner follows every `@`), no markdown breakout, one line.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str("@\u{200D}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes user content for an issue title, which GitHub renders as plain text apart
/// from mentions.
fn escape_title(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '@' => vec!['@', '\u{200D}'],
            c => vec![c],
        })
        .collect()
}

/// A hidden marker: `<!-- release-gate:<fields> -->`, fields as `name=value` or `name`.
fn marker(fields: &[(&str, &str)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                (*k).to_owned()
            } else {
                format!("{k}={}", marker_value(v))
            }
        })
        .collect();
    format!("{MARKER_OPEN}{} {MARKER_CLOSE}", fields.join(" "))
}

/// Percent-encodes what would end a field (whitespace) or the comment (`>`), open
/// markup (`<`), or be misread when decoding (`%`), so no value (an XR name read
/// from a file, say) can add a field or close the marker early.
fn marker_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '%' || c == '<' || c == '>' || c.is_whitespace() || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`marker_value`]; a `%` not followed by two hex digits stays as it is.
fn decode_marker_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every marker in a text, as field maps.
pub fn markers(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(MARKER_OPEN) {
        let after = &rest[start + MARKER_OPEN.len()..];
        let Some(end) = after.find(MARKER_CLOSE) else {
            break;
        };
        out.push(
            after[..end]
                .split_whitespace()
                .map(|field| match field.split_once('=') {
                    Some((k, v)) => (k.to_owned(), decode_marker_value(v)),
                    None => (field.to_owned(), String::new()),
                })
                .collect(),
        );
        rest = &after[end..];
    }
    out
}

/// The gate key in an issue body's marker: a hint for finding issues, never trusted
/// (anyone with write access can edit a body); the binding comment is the truth.
pub fn body_key(issue: &Issue) -> Option<String> {
    markers(&issue.body)
        .into_iter()
        .find(|m| !m.contains_key("verdict"))
        .and_then(|m| m.get("key").cloned())
}

/// The uid of the XR an issue was opened for, from its body marker: a hint, like
/// [`body_key`].
pub fn body_uid(issue: &Issue) -> Option<String> {
    markers(&issue.body)
        .into_iter()
        .find(|m| !m.contains_key("verdict"))
        .and_then(|m| m.get("uid").cloned())
}

/// Whether a comment was edited after it was posted: GitHub moves `updated_at` on every
/// edit, by its author or by anyone with write access, and keeps naming the author.
pub fn edited(comment: &Comment) -> bool {
    comment.updated_at != comment.created_at
}

/// The function's own comments as it wrote them: authored by its identity (by id, which
/// a rename does not change) and never
/// edited (the function never edits a comment). Only their markers are records.
pub fn own_records<'c>(
    comments: &'c [Comment],
    identity: &'c Identity,
) -> impl Iterator<Item = &'c Comment> + 'c {
    own_comments(comments, identity, false)
}

/// The function's own comments that someone edited: their markers are ignored.
pub fn edited_records<'c>(
    comments: &'c [Comment],
    identity: &'c Identity,
) -> impl Iterator<Item = &'c Comment> + 'c {
    own_comments(comments, identity, true)
}

fn own_comments<'c>(
    comments: &'c [Comment],
    identity: &'c Identity,
    was_edited: bool,
) -> impl Iterator<Item = &'c Comment> + 'c {
    comments
        .iter()
        .filter(move |c| c.author_id == identity.id && edited(c) == was_edited)
}

/// What ties an issue to one gate: the marker of the comment the function posts on an
/// issue right after opening it. Unlike the issue body, nobody but the function can
/// write it unnoticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The gate key, in full.
    pub key: String,
    /// The XR's uid.
    pub uid: String,
    /// The gate's start: answers before it never count.
    pub start: DateTime<Utc>,
    /// The deadline: answers after it never count.
    pub deadline: DateTime<Utc>,
}

/// The issue's binding: the first binding marker among the function's own unedited
/// comments.
pub fn binding(comments: &[Comment], identity: &Identity) -> Option<Binding> {
    own_records(comments, identity)
        .flat_map(|c| markers(&c.body))
        .find(|m| m.contains_key("bind"))
        .and_then(|m| {
            let time = |f: &str| {
                m.get(f)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
            };
            Some(Binding {
                key: m.get("key")?.clone(),
                uid: m.get("uid").cloned().unwrap_or_default(),
                start: time("start")?,
                deadline: time("deadline")?,
            })
        })
}

/// The comment that binds a newly opened issue to its gate. It restates what the
/// approval is for, so approvers can see it even if someone edits the issue's body.
pub fn binding_comment(gate: &Gate<'_>, start: DateTime<Utc>, deadline: DateTime<Utc>) -> String {
    let spec = gate.spec;
    format!(
        "This request is for promoting {artifact} of tenant {tenant} from {source} to {target} \
         (gate {xr}), answers from {start} until {deadline}. Only answers in comments as their \
         authors posted them count: an edited comment is not an answer, so answer again in a \
         new comment rather than editing one. If this issue's title or description says \
         otherwise, it was edited.\n\n{marker}",
        artifact = code(&spec.artifact_id),
        tenant = code(&spec.tenant),
        source = code(&spec.source_environment),
        target = code(&spec.target_environment),
        xr = code(&format!("XPromotionGate {}/{}", gate.namespace, gate.name)),
        start = rfc3339(start),
        deadline = rfc3339(deadline),
        marker = marker(&[
            ("bind", ""),
            ("key", gate.key),
            ("xr", &format!("{}/{}", gate.namespace, gate.name)),
            ("uid", gate.uid),
            ("start", &rfc3339(start)),
            ("deadline", &rfc3339(deadline)),
        ]),
    )
}

fn approvals_field(approvals: &[Approval]) -> String {
    approvals
        .iter()
        .map(|a| format!("{}@{}/{}", a.login, rfc3339(a.at), a.via.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_approvals(field: &str) -> Vec<Approval> {
    field
        .split(',')
        .filter_map(|entry| {
            let (login, rest) = entry.split_once('@')?;
            let (at, via) = rest.rsplit_once('/')?;
            Some(Approval {
                login: login.to_owned(),
                at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
                via: Via::parse(via)?,
                rules: Vec::new(),
            })
        })
        .collect()
}

/// A verdict the function wrote in its summary comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenVerdict {
    /// The gate reached a terminal state, with the approvals it counted.
    Decided(GateState, Vec<Approval>),
    /// The issue was replaced by a newer one (new artifact) or was a duplicate.
    Retired,
}

/// The last verdict the function wrote on an issue for `key`, from its own comments as
/// it wrote them.
pub fn written_verdict(
    comments: &[Comment],
    identity: &Identity,
    key: &str,
) -> Option<WrittenVerdict> {
    own_records(comments, identity)
        .flat_map(|c| markers(&c.body))
        .filter(|m| m.get("key").map(String::as_str) == Some(key))
        .filter_map(|m| match m.get("verdict").map(String::as_str) {
            Some("superseded" | "duplicate") => Some(WrittenVerdict::Retired),
            Some(state) => GateState::parse(state)
                .filter(|s| s.is_terminal())
                .map(|s| {
                    WrittenVerdict::Decided(
                        s,
                        m.get("approvals")
                            .map(|a| parse_approvals(a))
                            .unwrap_or_default(),
                    )
                }),
            None => None,
        })
        .last()
}

/// Whether the function already answered the close by `login` at `at` (counted or
/// undone), so a retry does not comment twice.
pub fn close_answered(
    comments: &[Comment],
    identity: &Identity,
    login: &str,
    at: DateTime<Utc>,
) -> bool {
    let wanted = format!("{login}@{}", rfc3339(at));
    own_records(comments, identity)
        .flat_map(|c| markers(&c.body))
        .any(|m| {
            m.get("close").map(String::as_str) == Some(wanted.as_str())
                || m.get("approval")
                    .is_some_and(|a| a.starts_with(&format!("{wanted}/")))
        })
}

/// The issue to open for a gate.
pub fn new_issue(
    gate: &Gate<'_>,
    policy: &Policy,
    deadline: DateTime<Utc>,
    labels: &[String],
) -> NewIssue {
    let spec = gate.spec;
    let title = escape_title(&format!(
        "Promote {} {} from {} to {}",
        spec.tenant, spec.artifact_id, spec.source_environment, spec.target_environment
    ));
    let mut assignees: Vec<String> = Vec::new();
    for user in &policy.users {
        let is_requester = gate.requester.is_some_and(|r| r.eq_ignore_ascii_case(user));
        if !is_requester && !assignees.iter().any(|a| a.eq_ignore_ascii_case(user)) {
            assignees.push(user.clone());
        }
    }
    assignees.truncate(10);
    NewIssue {
        title,
        body: body(gate, policy, deadline),
        labels: labels.to_vec(),
        assignees,
    }
}

fn code(text: &str) -> String {
    // A code span cannot be broken out of when it holds no backtick or newline.
    let clean: String = text
        .chars()
        .filter(|c| *c != '`' && !c.is_control())
        .collect();
    format!("`{clean}`")
}

fn list(items: &[String]) -> String {
    items.iter().map(|i| code(i)).collect::<Vec<_>>().join(", ")
}

fn body(gate: &Gate<'_>, policy: &Policy, deadline: DateTime<Utc>) -> String {
    let spec = gate.spec;
    let mut who = Vec::new();
    if !policy.users.is_empty() {
        who.push(format!("- users: {}", list(&policy.users)));
    }
    if !policy.teams.is_empty() {
        who.push(format!("- members of the teams: {}", list(&policy.teams)));
    }
    if let Some(p) = policy.min_permission {
        who.push(format!(
            "- anyone with at least {} permission on this repository",
            code(&format!("{p:?}").to_ascii_lowercase())
        ));
    }
    if who.is_empty() {
        who.push("- nobody is configured as an approver yet: ask the platform team".into());
    }
    let needed = policy.min_approvals;
    let mut quorum = format!(
        "{needed} distinct approval{} needed.",
        if needed == 1 { " is" } else { "s are" }
    );
    // Named rules: each rule, whom it takes and how many; all must be met.
    if let Some(rules) = super::rules::describe(policy, code) {
        who = rules;
        quorum = "Every rule above must be met; an approval counts toward each rule that \
                  lists its author."
            .to_owned();
    }
    let requester = match gate.requester {
        Some(r) => format!("{} (who ", escape(r)),
        None => "the requester (who ".into(),
    };
    let self_approval = if policy.allow_self_approval {
        format!("{requester}may approve it too)")
    } else {
        format!("{requester}may not approve it)")
    };
    format!(
        "{marker}\n\
         ## Promotion approval requested\n\
         \n\
         - **Tenant:** {tenant}\n\
         - **Artifact:** {artifact}\n\
         - **From** {source} **to** {target}\n\
         - **Gate:** {xr}\n\
         - **Requested by:** {self_approval}\n\
         - **Deadline:** {deadline} ({hours} hours after the request)\n\
         \n\
         ### Who may approve\n\
         \n\
         {who}\n\
         \n\
         {quorum}\n\
         \n\
         ### How to answer\n\
         \n\
         - Comment `/approve` or `/reject` on a line of its own, or\n\
         - close this issue as **completed** to approve, or as **not planned** to reject.\n\
         \n\
         One rejection from an approver rejects the promotion. Answers after the deadline, \
         and closes by anyone who may not approve, do not count.\n",
        marker = marker(&[
            ("key", gate.key),
            ("xr", &format!("{}/{}", gate.namespace, gate.name)),
            ("uid", gate.uid),
        ]),
        tenant = code(&spec.tenant),
        artifact = code(&spec.artifact_id),
        source = code(&spec.source_environment),
        target = code(&spec.target_environment),
        xr = code(&format!("XPromotionGate {}/{}", gate.namespace, gate.name)),
        deadline = rfc3339(deadline),
        hours = spec.timeout_hours,
        who = who.join("\n"),
    )
}

fn names(approvals: &[Approval]) -> String {
    approvals
        .iter()
        .map(|a| {
            format!(
                "{} ({} at {})",
                escape(&a.login),
                a.via.as_str(),
                rfc3339(a.at)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary comment posted once on a verdict, carrying the verdict marker.
pub fn verdict_comment(
    key: &str,
    state: GateState,
    approvals: &[Approval],
    rejected_by: Option<&Approval>,
    deadline: DateTime<Utc>,
    needed: u32,
) -> String {
    let text = match state {
        GateState::Approved => format!(
            "**Approved** by {}. The promotion may proceed.",
            names(approvals)
        ),
        GateState::Rejected => match rejected_by {
            Some(r) => format!(
                "**Rejected** by {} ({} at {}). The promotion will not run.",
                escape(&r.login),
                if r.via == Via::Close {
                    "close"
                } else {
                    "comment"
                },
                rfc3339(r.at)
            ),
            None => "**Rejected.** The promotion will not run.".into(),
        },
        GateState::Timeout => format!(
            "**Timed out:** no verdict before the deadline {} ({} of {needed} approvals). The promotion will not run.",
            rfc3339(deadline),
            approvals.len()
        ),
        GateState::Pending => String::new(),
    };
    format!(
        "{text}\n\n{}",
        marker(&[
            ("verdict", state.as_str()),
            ("key", key),
            ("approvals", &approvals_field(approvals)),
        ])
    )
}

/// The comment closing an older issue of the same gate when the artifact changed.
pub fn superseded_comment(old_key: &str, new_issue: u64) -> String {
    format!(
        "Superseded by #{new_issue}: the gate now promotes a different artifact, so this request is closed.\n\n{}",
        marker(&[
            ("verdict", "superseded"),
            ("key", old_key),
            ("by", &new_issue.to_string())
        ])
    )
}

/// The comment closing an issue whose gate was then approved by policy: approval is no
/// longer required (the spec or the pipeline changed, or a new artifact needs none).
pub fn not_required_comment(key: &str) -> String {
    format!(
        "Approval is no longer required for this gate: it was approved by policy, so this request is closed.\n\n{}",
        marker(&[("verdict", "superseded"), ("key", key)])
    )
}

/// The comment closing a second issue opened for the same key.
pub fn duplicate_comment(key: &str, canonical: u64) -> String {
    format!(
        "Duplicate of #{canonical}, the approval request for this gate. Please answer there.\n\n{}",
        marker(&[
            ("verdict", "duplicate"),
            ("key", key),
            ("of", &canonical.to_string())
        ])
    )
}

/// The comment explaining why a close did not count (the issue is reopened).
pub fn undone_comment(key: &str, closer: &str, at: DateTime<Utc>, why: &str) -> String {
    format!(
        "Reopened: the close by {} did not count because {why}.\n\n{}",
        escape(closer),
        marker(&[
            ("undone", ""),
            ("key", key),
            ("close", &format!("{closer}@{}", rfc3339(at)))
        ])
    )
}

/// The comment counting a close as one approval below the quorum (the issue is
/// reopened for the rest).
pub fn counted_comment(key: &str, approval: &Approval, have: usize, needed: u32) -> String {
    let more = (needed as usize).saturating_sub(have);
    format!(
        "Counted the close by {} as an approval ({have} of {needed}). Reopened: {more} more approval{} needed.\n\n{}",
        escape(&approval.login),
        if more == 1 { " is" } else { "s are" },
        marker(&[
            ("counted", ""),
            ("key", key),
            ("approval", &approvals_field(std::slice::from_ref(approval)))
        ])
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::fake::user_id;

    fn bot() -> Identity {
        Identity {
            login: "release-bot".into(),
            id: user_id("release-bot"),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn commands_must_stand_alone_on_a_line() {
        assert_eq!(parse_command("/approve"), Some(Command::Approve));
        assert_eq!(
            parse_command("LGTM\n  /APPROVE  \n"),
            Some(Command::Approve)
        );
        assert_eq!(parse_command("/reject\nbecause"), Some(Command::Reject));
        assert_eq!(parse_command("/approve\n/reject"), Some(Command::Reject));
        assert_eq!(parse_command("I /approve this"), None);
        assert_eq!(parse_command("> /approve"), None);
        assert_eq!(parse_command("/approved"), None);
    }

    #[test]
    fn escaping_stops_mentions_html_and_markdown_breakout() {
        let escaped = escape("@alice <b>x</b> & [link](http://e) `code` | *a* _b_ #1\nnext");
        assert!(!escaped.contains("@a"), "{escaped}");
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('\n'));
        assert!(escaped.contains("&lt;b&gt;") && escaped.contains("&amp;"));
        for c in ['`', '[', ']', '|', '*', '_', '#', '(', ')'] {
            assert!(escaped.contains(&format!("\\{c}")), "{c} in {escaped}");
        }
    }

    #[test]
    fn marker_values_cannot_add_fields_or_close_the_marker() {
        let hostile = "a key=forged --> <b>x</b> 100%\n";
        let text = marker(&[("key", "k1"), ("xr", hostile)]);
        assert_eq!(text.matches(MARKER_CLOSE).count(), 1, "{text}");
        assert!(!text[MARKER_OPEN.len()..].contains('<'), "{text}");
        let read = markers(&text);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0]["key"], "k1");
        assert_eq!(read[0]["xr"], hostile);
        assert_eq!(read[0].len(), 2);
        assert_eq!(
            marker(&[("xr", "platform-system/gate-1")]),
            "<!-- release-gate:xr=platform-system/gate-1 -->",
            "plain names are written as they are"
        );
    }

    #[test]
    fn verdict_marker_reads_back_with_its_approvals() {
        let approvals = vec![
            Approval {
                login: "alice".into(),
                at: at("2026-01-01T01:00:00Z"),
                via: Via::Comment,
                rules: Vec::new(),
            },
            Approval {
                login: "bob".into(),
                at: at("2026-01-01T02:00:00Z"),
                via: Via::Close,
                rules: Vec::new(),
            },
        ];
        let body = verdict_comment(
            "k1",
            GateState::Approved,
            &approvals,
            None,
            at("2026-01-02T00:00:00Z"),
            2,
        );
        let comment = |author: &str| Comment {
            id: 1,
            author: author.into(),
            author_id: user_id(author),
            body: body.clone(),
            created_at: at("2026-01-01T02:00:00Z"),
            updated_at: at("2026-01-01T02:00:00Z"),
        };
        assert_eq!(
            written_verdict(&[comment("release-bot")], &bot(), "k1"),
            Some(WrittenVerdict::Decided(GateState::Approved, approvals))
        );
        assert_eq!(written_verdict(&[comment("mallory")], &bot(), "k1"), None);
        assert_eq!(
            written_verdict(&[comment("release-bot")], &bot(), "k2"),
            None
        );
    }

    #[test]
    fn markers_in_an_edited_comment_of_the_function_are_no_record() {
        let approvals = vec![Approval {
            login: "alice".into(),
            at: at("2026-01-01T01:00:00Z"),
            via: Via::Comment,
            rules: Vec::new(),
        }];
        let body = verdict_comment(
            "k1",
            GateState::Approved,
            &approvals,
            None,
            at("2026-01-02T00:00:00Z"),
            1,
        );
        let edited = Comment {
            id: 1,
            author: "release-bot".into(),
            author_id: user_id("release-bot"),
            body,
            created_at: at("2026-01-01T02:00:00Z"),
            updated_at: at("2026-01-01T02:05:00Z"),
        };
        let comments = [edited];
        assert_eq!(written_verdict(&comments, &bot(), "k1"), None);
        assert_eq!(edited_records(&comments, &bot()).count(), 1);
    }

    #[test]
    fn a_binding_reads_back_only_as_the_function_wrote_it() {
        let spec = crate::gate::test_support::spec();
        let gate = Gate {
            spec: &spec,
            key: "k1",
            namespace: "platform-system",
            name: "gate <b>",
            uid: "uid-1",
            requester: None,
        };
        let start = at("2026-01-01T00:00:00Z");
        let deadline = at("2026-01-02T00:00:00Z");
        let comment = Comment {
            id: 1,
            author: "release-bot".into(),
            author_id: user_id("release-bot"),
            body: binding_comment(&gate, start, deadline),
            created_at: start,
            updated_at: start,
        };
        let expected = Binding {
            key: "k1".into(),
            uid: "uid-1".into(),
            start,
            deadline,
        };
        assert_eq!(
            binding(std::slice::from_ref(&comment), &bot()),
            Some(expected)
        );
        let by_someone = Comment {
            author: "mallory".into(),
            author_id: user_id("mallory"),
            ..comment.clone()
        };
        assert_eq!(binding(&[by_someone], &bot()), None);
        let edited = Comment {
            updated_at: at("2026-01-01T00:00:01Z"),
            ..comment
        };
        assert_eq!(binding(&[edited], &bot()), None);
    }

    #[test]
    fn counted_close_marker_reads_back() {
        let approval = Approval {
            login: "alice".into(),
            at: at("2026-01-01T01:00:00Z"),
            via: Via::Close,
            rules: Vec::new(),
        };
        let comment = Comment {
            id: 1,
            author: "release-bot".into(),
            author_id: user_id("release-bot"),
            body: counted_comment("k1", &approval, 1, 2),
            created_at: at("2026-01-01T01:00:00Z"),
            updated_at: at("2026-01-01T01:00:00Z"),
        };
        let comments = [comment];
        assert!(close_answered(
            &comments,
            &bot(),
            "alice",
            at("2026-01-01T01:00:00Z")
        ));
        assert!(!close_answered(
            &comments,
            &bot(),
            "alice",
            at("2026-01-01T03:00:00Z")
        ));
    }
}
