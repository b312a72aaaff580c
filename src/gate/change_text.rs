//! How the approval issue shows the change under review: the commits the promotion brings
//! (or takes out), their authors, links and pull requests, capped so that the issue stays
//! within what GitHub takes; a hidden line naming the change it lists, so that a change
//! that moved is listed again; and the comment saying it was.
//!
//! Pure: renders what was read.

use chrono::{DateTime, Utc};

use crate::xr::gate::rfc3339;

use super::change::{ChangeRead, ChangeView, LISTED, short};
use super::issue::escape;
use super::marker::marker;

/// The comment saying the function listed the change under review again: it changed
/// since the issue listed it (the target now holds another revision, or the gate's
/// revision became readable), with the seal of the text it wrote.
pub fn relisted_comment(key: &str, at: DateTime<Utc>, seal: &str) -> String {
    format!(
        "What this promotion changes is not what this issue listed: the target environment holds another revision now, or the change could not be read before. The function listed it again; approvals given before this comment no longer count, so approvers answer again. Rejections still count.\n\n{}",
        marker(&[
            ("restored", ""),
            ("relisted", ""),
            ("key", key),
            ("at", &rfc3339(at)),
            ("text", seal)
        ])
    )
}

/// The hidden line of the issue's change section that says which change it lists.
pub fn change_marker(view: &ChangeView) -> String {
    marker(&[
        ("change", ""),
        ("base", view.base.as_deref().unwrap_or("none")),
        ("head", &view.head),
        ("commits", &view.total.to_string()),
    ])
}

/// The issue's section on the change: the commits (at most [`LISTED`], each with its
/// first line escaped, its author and a link), or why there is no list.
pub fn change_section(change: &ChangeRead, exclude: bool) -> String {
    let mut out = String::from("### The change\n\n");
    let view = match change {
        ChangeRead::Unreadable(why) => {
            out.push_str(&format!(
                "The list of commits is missing: {}.{}\n",
                escape(why),
                if exclude {
                    " Their authors cannot approve, and nobody can tell who they are: no approval counts until the change can be read."
                } else {
                    ""
                }
            ));
            return out;
        }
        ChangeRead::Read(view) => view,
    };
    let range = match &view.base {
        Some(base) if view.taken_out => format!(
            "This promotion goes back from `{}` to `{}` in {}: it takes out {}.",
            short(base),
            short(&view.head),
            escape(&view.repository),
            commits(view.total)
        ),
        Some(base) => format!(
            "This promotion brings {} of {} into the target, `{}`...`{}`.",
            commits(view.total),
            escape(&view.repository),
            short(base),
            short(&view.head)
        ),
        None => format!(
            "The target holds no revision yet: this promotion brings `{}` of {}.",
            short(&view.head),
            escape(&view.repository)
        ),
    };
    out.push_str(&range);
    out.push_str("\n\n");
    let mut listed = 0;
    for commit in view.commits.iter().take(LISTED) {
        // GitHub takes bodies of at most 65,536 characters: the list stops well before.
        if out.len() > SECTION_MAX {
            break;
        }
        listed += 1;
        let who = match &commit.author {
            Some(a) => format!("@\u{200D}{}", escape(&a.login)),
            None => format!("{} (no GitHub account)", escape(&commit.author_name)),
        };
        let pulls: Vec<String> = view
            .pulls
            .get(&commit.sha)
            .into_iter()
            .flatten()
            .map(|p| format!("[#{}]({})", p.number, link(&p.url)))
            .collect();
        let from = if pulls.is_empty() {
            String::new()
        } else {
            format!(" (from {})", pulls.join(", "))
        };
        let title: String = commit.title.chars().take(TITLE_MAX).collect();
        out.push_str(&format!(
            "- [`{}`]({}) {who}: {}{}\n",
            short(&commit.sha),
            link(&commit.html_url),
            escape(&title),
            from
        ));
    }
    let unlisted = view.total.saturating_sub(listed);
    if unlisted > 0 {
        out.push_str(&format!("- … and {unlisted} more\n"));
    }
    if view.dropped > 0 {
        out.push_str(&format!(
            "\nThe gate's revision is not a descendant of the target's: the promotion also takes out {} the target holds.\n",
            commits(view.dropped)
        ));
    }
    if exclude {
        out.push_str("\nThe authors and committers of these commits cannot approve this promotion; their /reject counts.");
        if view.unlinked() > 0 {
            out.push_str(" Authors without a GitHub account cannot be told apart, so they are not kept from approving.");
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&change_marker(view));
    out.push('\n');
    out
}

/// A URL GitHub gave, for a markdown link: only `https://` (or `http://`) with no
/// character that could end the link.
fn link(url: &str) -> String {
    let safe = (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '[' | ']' | '"'));
    if safe { url.to_owned() } else { "#".to_owned() }
}

/// The most characters of a commit's first line the issue shows.
const TITLE_MAX: usize = 100;

/// The change section stops listing commits past this many bytes.
const SECTION_MAX: usize = 30_000;

/// `n commits`, or `1 commit`.
fn commits(n: u64) -> String {
    if n == 1 {
        "1 commit".into()
    } else {
        format!("{n} commits")
    }
}
