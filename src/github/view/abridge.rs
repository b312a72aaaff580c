//! What a view keeps of a comment: the function's own comments whole (their markers are
//! its records), and of anyone else's long comment only the lines an answer can be on.
//! An answer (`/approve`, `/reject`, `/override-freeze <reason>`) is a line that begins
//! with `/` once trimmed; pasted logs, long discussions and padding are not kept, so a
//! view holds what a gate decides by, not what people wrote around it. Remembered reads
//! never decide; a gate that would decide reads the comments whole from GitHub.

use crate::github::Comment;

/// A comment by someone else longer than this (bytes) is kept abridged.
pub const ABRIDGE_ABOVE: usize = 2048;

/// `comment` as a view keeps it: whole when `me` (the function's account id) wrote it or
/// it is short; else only its lines that begin with `/`, trimmed (as the answers' readers
/// trim them), each whole: a line cut would read differently (whitespace inside it would
/// become trailing).
pub fn abridged(mut comment: Comment, me: u64) -> Comment {
    if comment.author_id == me || comment.body.len() <= ABRIDGE_ABOVE {
        return comment;
    }
    let mut kept = String::new();
    for line in comment.body.lines().map(str::trim) {
        if line.starts_with('/') {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    comment.body = kept;
    comment
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::gate::issue::{parse_command, parse_override};

    fn comment(author_id: u64, body: &str) -> Comment {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Comment {
            id: 1,
            author: "alice".into(),
            author_id,
            body: body.into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_long_comment_keeps_its_answers_and_the_functions_own_stays_whole() {
        let log = "error: something failed at line 12\n".repeat(2_000);
        let body = format!("{log}\r\n  /approve  \r\n{log}/override-freeze hotfix for INC-7\n");
        let kept = abridged(comment(7, &body), 99);
        assert_eq!(kept.body, "/approve\n/override-freeze hotfix for INC-7\n");
        assert_eq!(parse_command(&kept.body), parse_command(&body));
        assert_eq!(parse_override(&kept.body), parse_override(&body));
        // The function's own records, and short comments, are kept as written.
        assert_eq!(abridged(comment(99, &body), 99).body, body);
        assert_eq!(
            abridged(comment(7, "LGTM\n/approve"), 99).body,
            "LGTM\n/approve"
        );
        // A long line is kept whole: whitespace inside it stays inside.
        let padded = format!(
            "/approve{}x\n/override-freeze{}hotfix",
            " ".repeat(2_100),
            "\u{3000}".repeat(900)
        );
        let kept = abridged(comment(7, &padded), 99).body;
        assert_eq!(kept.trim_end(), padded);
        assert_eq!(parse_command(&kept), None);
        assert_eq!(parse_override(&kept), Some("hotfix".into()));
    }

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("/approve".to_owned()),
            Just(" /REJECT\t".to_owned()),
            Just("/approve please".to_owned()),
            "/override-freeze [ a-z]{0,300}",
            "[ a-z/]{0,80}",
            "[a-z]{500,3000}",
            (
                "/approve|/reject|/override-freeze",
                "[ \t\u{3000}]{1,3000}",
                "[a-z]{0,3}"
            )
                .prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        ]
    }

    proptest! {
        /// Whatever the comment, its answers read the same abridged.
        #[test]
        fn an_abridged_comment_answers_as_the_whole(
            lines in prop::collection::vec(line(), 0..40),
            crlf in any::<bool>(),
        ) {
            let body = lines.join(if crlf { "\r\n" } else { "\n" });
            let kept = abridged(comment(7, &body), 99);
            prop_assert!(kept.body.len() <= body.len() + lines.len());
            prop_assert_eq!(parse_command(&kept.body), parse_command(&body));
            prop_assert_eq!(parse_override(&kept.body), parse_override(&body));
        }
    }
}
