//! The approval issue's text: title, body and the function's comments (each carrying its
//! hidden [`marker`](super::marker)), escaping of user content, and parsing of
//! `/approve`, `/reject` and `/override-freeze` comments.
//!
//! Pure: string building and parsing only; never a secret, never a spec dump.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::github::{Login, NewIssue};
use crate::xr::gate::{Approval, GateState, Via, rfc3339};

use super::marker::{Binding, approvals_field, marker};
use super::model::Gate;
use super::policy::Policy;

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
            // Bidirectional overrides and invisible characters would make what approvers
            // read differ from what it says (a name or title shown reversed or joined).
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {}
            '\u{FEFF}' => {}
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

/// The comment that binds a newly opened issue to its gate. It restates what the
/// approval is for, so approvers can see it even if someone edits the issue's body, and
/// seals the requester's account (its numeric id, which a rename keeps) and the issue's
/// text as the function wrote it.
pub fn binding_comment(gate: &Gate, binding: &Binding) -> String {
    let spec = &gate.spec;
    let requested_by = binding
        .requester
        .as_ref()
        .map(|r| format!(", requested by {}", code(&r.login)))
        .unwrap_or_default();
    let xr = format!("{}/{}", gate.namespace, gate.name);
    let (start, deadline) = (rfc3339(binding.start), rfc3339(binding.deadline));
    let id = binding.requester.as_ref().map(|r| r.id.to_string());
    let mut fields = vec![
        ("bind", ""),
        ("key", binding.key.as_str()),
        ("xr", &xr),
        ("uid", &binding.uid),
        ("start", &start),
        ("deadline", &deadline),
    ];
    if let (Some(r), Some(id)) = (&binding.requester, &id) {
        fields.push(("requester", &r.login));
        fields.push(("requester_id", id));
    }
    if let Some(text) = &binding.text {
        fields.push(("text", text));
    }
    if let Some(policy) = &binding.policy {
        fields.push(("policy", policy));
    }
    format!(
        "This request is for promoting {artifact} of tenant {tenant} from {source} to {target} \
         (gate {xr}{requested_by}), answers from {start} until {deadline}. Only answers in \
         comments as their authors posted them count: an edited comment is not an answer, so \
         answer again in a new comment rather than editing one. If this issue's title or \
         description says otherwise, it was edited: the function restores them, and \
         approvals given before it did no longer count.\n\n{marker}",
        artifact = code(&spec.artifact_id),
        tenant = code(&spec.tenant),
        source = code(&spec.source_environment),
        target = code(&spec.target_environment),
        xr = code(&format!("XPromotionGate {xr}")),
        marker = marker(&fields),
    )
}

/// The seal of an issue's title and description: 16 hex characters of their sha256.
pub fn text_seal(title: &str, body: &str) -> String {
    let digest = Sha256::new()
        .chain_update(title.as_bytes())
        .chain_update([0u8])
        .chain_update(body.as_bytes())
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The comment saying the function restored the issue's title and description.
/// The comment saying the function restored the issue's title and description, with the
/// seal of the text it wrote.
pub fn restored_comment(key: &str, at: DateTime<Utc>, seal: &str) -> String {
    format!(
        "Someone changed this issue's title or description at or before {}, so approvers may have read a request other than this one. The function restored them; approvals given before this comment no longer count, so approvers answer again. Rejections still count.\n\n{}",
        rfc3339(at),
        marker(&[
            ("restored", ""),
            ("key", key),
            ("at", &rfc3339(at)),
            ("text", seal)
        ])
    )
}

/// The issue to open for a gate.
pub fn new_issue(
    gate: &Gate,
    policy: &Policy,
    deadline: DateTime<Utc>,
    labels: &[String],
    change: Option<&str>,
) -> NewIssue {
    let spec = &gate.spec;
    let title = escape_title(&format!(
        "Promote {} {} from {} to {}",
        spec.tenant, spec.artifact_id, spec.source_environment, spec.target_environment
    ));
    let mut assignees: Vec<&Login> = Vec::new();
    for user in &policy.users {
        if !gate.is_requester(user.as_str()) && !assignees.contains(&user) {
            assignees.push(user);
        }
    }
    assignees.truncate(10);
    let mut body = body(gate, policy, deadline);
    if let Some(section) = change {
        body.push('\n');
        body.push_str(section);
    }
    NewIssue {
        title,
        body,
        labels: labels.to_vec(),
        assignees: assignees.iter().map(|a| a.to_string()).collect(),
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

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| code(&i.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn body(gate: &Gate, policy: &Policy, deadline: DateTime<Utc>) -> String {
    let spec = &gate.spec;
    let mut who = Vec::new();
    if !policy.users.is_empty() {
        who.push(format!("- users: {}", list(&policy.users)));
    }
    if !policy.teams.is_empty() {
        who.push(format!("- members of the teams: {}", list(&policy.teams)));
        // A mention of exactly those teams whose names are plain (letters, digits, `.`,
        // `-`, `_`), nothing else.
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let mentions: Vec<String> = policy
            .teams
            .iter()
            .filter(|t| policy.mention_teams && plain(&t.org) && plain(&t.slug))
            .map(|t| format!("@{t}"))
            .collect();
        if !mentions.is_empty() {
            who.push(format!("  (asked of {})", mentions.join(" ")));
        }
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
    if let Some(e) = &policy.escalation {
        let mut whom: Vec<String> = Vec::new();
        if !e.users.is_empty() {
            whom.push(format!("users {}", list(&e.users)));
        }
        if !e.teams.is_empty() {
            whom.push(format!("members of the teams {}", list(&e.teams)));
        }
        quorum.push_str(&format!(
            "\n\nIf this request still waits for answers {} after it opened, it escalates: {} may answer too, and their answers posted after that count toward every rule.",
            code(&crate::input::GoDuration(e.after.to_std().unwrap_or_default()).to_string()),
            whom.join(" and ")
        ));
    }
    let requester = match &gate.requester {
        Some(r) => format!("{} (who ", escape(r.as_str())),
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
            ("key", gate.key.as_str()),
            ("xr", &format!("{}/{}", gate.namespace, gate.name)),
            ("uid", &gate.uid),
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

/// The summary comment posted once on a verdict, carrying the verdict marker: the state,
/// the approvals counted, and when the gate reached it.
pub fn verdict_comment(
    key: &str,
    state: GateState,
    approvals: &[Approval],
    rejected_by: Option<&Approval>,
    deadline: DateTime<Utc>,
    needed: u32,
    decided_at: Option<DateTime<Utc>>,
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
            ("decided_at", &decided_at.map(rfc3339).unwrap_or_default()),
        ])
    )
}

/// The comment recording that the key's promotion Job started: from then on the key's
/// promotion is spent, and its Job never runs again, even if the status is lost.
pub fn started_comment(key: &str, job: &str, at: DateTime<Utc>) -> String {
    format!(
        "The promotion Job {} started at {}. It runs once for this request: a Job that is deleted is not created again.\n\n{}",
        code(job),
        rfc3339(at),
        marker(&[
            ("started", ""),
            ("key", key),
            ("job", job),
            ("at", &rfc3339(at))
        ])
    )
}

/// The comment saying that the gate switched back to this artifact and reuses this
/// approval: it passes the artifact's soak and freeze windows again before it runs, and
/// runs only if its Job never started.
pub fn reused_comment(key: &str, at: DateTime<Utc>) -> String {
    format!(
        "Reused at {}: the gate switched back to this artifact, so this approval applies again. The promotion still waits for the artifact's soak and for freeze windows, and does not run if it ran before.\n\n{}",
        rfc3339(at),
        marker(&[("reused", ""), ("key", key), ("at", &rfc3339(at))])
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

/// The comment closing a request asked under another policy seal: the approvals
/// repository, the Composition or the Input's approvers or promotion changed before what
/// it asked for ran, so the gate asks again.
pub fn resealed_comment(key: &str, new_issue: u64) -> String {
    format!(
        "Asked again in #{new_issue}: the gate's approval policy (its approvals repository, Composition, approvers or promotion) changed before this request's promotion ran, so this request is closed and approvals given here no longer count. A rejection given here still counts.\n\n{}",
        marker(&[
            ("verdict", "superseded"),
            ("key", key),
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

    #[test]
    fn escaped_text_carries_no_bidirectional_override_or_invisible_character() {
        let shown = escape("fix\u{202E}lanigiro\u{202C} by \u{200B}alice\u{2066}x\u{2069}\u{FEFF}");
        assert_eq!(shown, "fixlanigiro by alicex");
        // The joiner the function puts after `@` itself stays: it keeps mentions silent.
        assert_eq!(escape("@bob"), "@\u{200D}bob");
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
    fn approver_teams_are_mentioned_only_when_asked_and_only_plain_names() {
        use crate::gate::test_support;
        let spec = test_support::spec();
        let gate = test_support::gate(&spec, None);
        let mut policy = crate::gate::policy::Policy::for_gate(
            &spec,
            None,
            &crate::input::ApprovalsInput {
                teams: vec!["acme/release-managers".into(), "acme/x *y*".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let deadline = test_support::at(1, 0);
        let quiet = new_issue(&gate, &policy, deadline, &[], None).body;
        assert!(!quiet.contains('@'), "{quiet}");
        policy.mention_teams = true;
        let asked = new_issue(&gate, &policy, deadline, &[], None).body;
        assert!(
            asked.contains("(asked of @acme/release-managers)"),
            "{asked}"
        );
        assert_eq!(asked.matches('@').count(), 1, "{asked}");
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
}
