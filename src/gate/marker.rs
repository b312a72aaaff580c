//! The function's own records on the approval issue: the hidden markers its comments
//! carry (`<!-- release-gate:... -->`), written so that no value can add a field or close
//! the marker early, and read back only from the function's own unedited comments: the
//! binding that ties an issue to one gate, the verdict, the retirement, the answered
//! closes. The issue body's marker is only a hint for finding issues.
//!
//! Pure: string building and parsing only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::github::{Comment, Identity, Issue};
use crate::xr::gate::{Approval, GateState, Via, rfc3339};

use super::model::Gate;

const MARKER_OPEN: &str = "<!-- release-gate:";
const MARKER_CLOSE: &str = "-->";

/// A hidden marker: `<!-- release-gate:<fields> -->`, fields as `name=value` or `name`.
pub fn marker(fields: &[(&str, &str)]) -> String {
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
    /// The requester's account when the gate started: its id survives a rename.
    pub requester: Option<Identity>,
    /// The seal of the issue's title and description as the function opened it
    /// ([`text_seal`](crate::gate::issue::text_seal)).
    pub text: Option<String>,
    /// The seal of the policy the request is asked under
    /// ([`Seal`](crate::gate::seal::Seal)).
    pub policy: Option<String>,
}

impl Binding {
    /// A binding of `gate` from `start` until `deadline`, sealing nothing else yet.
    pub fn of(gate: &Gate, start: DateTime<Utc>, deadline: DateTime<Utc>) -> Binding {
        Binding {
            key: gate.key.to_string(),
            uid: gate.uid.clone(),
            start,
            deadline,
            requester: None,
            text: None,
            policy: None,
        }
    }
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
                requester: m
                    .get("requester")
                    .zip(m.get("requester_id"))
                    .and_then(|(login, id)| {
                        Some(Identity {
                            login: login.clone(),
                            id: id.parse().ok()?,
                        })
                    }),
                text: m.get("text").cloned(),
                policy: m.get("policy").cloned(),
            })
        })
}

pub fn approvals_field(approvals: &[Approval]) -> String {
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
    /// The gate reached a terminal state, with the approvals it counted and when (not
    /// said by verdicts written before the function recorded it).
    Decided(GateState, Vec<Approval>, Option<DateTime<Utc>>),
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
                        m.get("decided_at")
                            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.with_timezone(&Utc)),
                    )
                }),
            None => None,
        })
        .last()
}

/// Whether the function recorded on the issue that `key`'s promotion Job started: the
/// key's promotion is spent, whatever the status says.
pub fn started(comments: &[Comment], identity: &Identity, key: &str) -> bool {
    records(comments, identity, "started", key)
}

/// Whether the function's own records on the issue hold a `kind` marker for `key`.
fn records(comments: &[Comment], identity: &Identity, kind: &str, key: &str) -> bool {
    records_count(comments, identity, kind, key) > 0
}

/// The function's restorations of the issue's title and description for `key`: when
/// (no approval given before then counts: approvers may have read another request), and
/// the seal of the text it wrote.
pub fn restorations(
    comments: &[Comment],
    identity: &Identity,
    key: &str,
) -> Vec<(DateTime<Utc>, Option<String>)> {
    own_records(comments, identity)
        .flat_map(|c| {
            markers(&c.body)
                .into_iter()
                .filter(|m| {
                    m.contains_key("restored") && m.get("key").map(String::as_str) == Some(key)
                })
                .map(|m| (c.created_at, m.get("text").cloned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// How many of `key`'s restorations listed the change under review again (caused by a
/// promotion into the target, not by someone's edit).
pub fn relistings(comments: &[Comment], identity: &Identity, key: &str) -> usize {
    records_count(comments, identity, "relisted", key)
}

/// How many of the function's unedited records of `kind` for `key` the comments hold.
fn records_count(comments: &[Comment], identity: &Identity, kind: &str, key: &str) -> usize {
    own_records(comments, identity)
        .flat_map(|c| markers(&c.body))
        .filter(|m| m.contains_key(kind) && m.get("key").map(String::as_str) == Some(key))
        .count()
}

/// Whether the function recorded on the issue that `key`'s approval was reused (the gate
/// switched back to this artifact).
pub fn reused(comments: &[Comment], identity: &Identity, key: &str) -> bool {
    records(comments, identity, "reused", key)
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

/// Whether the function already said on the issue that a close by `login` did not count.
pub fn close_undone(comments: &[Comment], identity: &Identity, login: &str) -> bool {
    let prefix = format!("{login}@");
    own_records(comments, identity)
        .flat_map(|c| markers(&c.body))
        .any(|m| m.get("close").is_some_and(|c| c.starts_with(&prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::issue::{binding_comment, counted_comment, verdict_comment};
    use crate::gate::model::Gate;
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
            Some(at("2026-01-01T02:00:00Z")),
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
            Some(WrittenVerdict::Decided(
                GateState::Approved,
                approvals,
                Some(at("2026-01-01T02:00:00Z"))
            ))
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
            None,
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
            spec,
            key: crate::gate::key::GateKey::from_recorded("k1"),
            namespace: "platform-system".into(),
            name: "gate <b>".into(),
            uid: "uid-1".into(),
            requester: None,
        };
        let start = at("2026-01-01T00:00:00Z");
        let deadline = at("2026-01-02T00:00:00Z");
        let rita = Identity {
            login: "rita".into(),
            id: 4242,
        };
        let comment = Comment {
            id: 1,
            author: "release-bot".into(),
            author_id: user_id("release-bot"),
            body: binding_comment(
                &gate,
                &Binding {
                    requester: Some(rita.clone()),
                    text: Some("0123456789abcdef".into()),
                    policy: Some("fedcba9876543210".into()),
                    ..Binding::of(&gate, start, deadline)
                },
            ),
            created_at: start,
            updated_at: start,
        };
        let expected = Binding {
            key: "k1".into(),
            uid: "uid-1".into(),
            start,
            deadline,
            requester: Some(rita),
            text: Some("0123456789abcdef".into()),
            policy: Some("fedcba9876543210".into()),
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
