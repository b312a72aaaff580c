//! What the in-memory GitHub does when the function writes: as the function's identity.

use async_trait::async_trait;

use super::{Call, FakeGitHub};
use crate::github::{CloseReason, GitHubError, Issue, NewIssue, Result, Writes};

#[async_trait]
impl Writes for FakeGitHub {
    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let mut s = self.enter(Call::OpenIssue(issue.title.clone()))?;
        s.opened.push(issue.clone());
        let author = s.identity.clone();
        Ok(Self::insert_issue(&mut s, &author, issue))
    }

    async fn add_comment(&self, number: u64, body: &str) -> Result<()> {
        let mut s = self.enter(Call::AddComment(number, body.to_owned()))?;
        if !s.issues.contains_key(&number) {
            return Err(GitHubError::NotFound(format!("issue #{number}")));
        }
        let (login, at) = (s.identity.clone(), Self::now(&s));
        Self::push_comment(&mut s, number, &login, body, at);
        Ok(())
    }

    async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()> {
        let mut s = self.enter(Call::CloseIssue(number, reason.clone()))?;
        let login = s.identity.clone();
        if Self::close(&mut s, number, &login, reason) {
            Ok(())
        } else {
            Err(GitHubError::NotFound(format!("issue #{number}")))
        }
    }

    async fn reopen_issue(&self, number: u64) -> Result<()> {
        let mut s = self.enter(Call::ReopenIssue(number))?;
        let login = s.identity.clone();
        if Self::reopen(&mut s, number, &login) {
            Ok(())
        } else {
            Err(GitHubError::NotFound(format!("issue #{number}")))
        }
    }

    async fn restore_issue(&self, number: u64, title: &str, body: &str) -> Result<()> {
        let mut s = self.enter(Call::RestoreIssue(number))?;
        let login = s.identity.clone();
        Self::retitle(&mut s, number, &login, title, body)
            .then_some(())
            .ok_or_else(|| GitHubError::NotFound(format!("issue #{number}")))
    }

    async fn add_assignees(&self, number: u64, logins: &[String]) -> Result<()> {
        let s = self.enter(Call::AddAssignees(number, logins.to_vec()))?;
        if !s.issues.contains_key(&number) {
            return Err(GitHubError::NotFound(format!("issue #{number}")));
        }
        Ok(())
    }
}
