//! The real GitHub, through octocrab: the only file that imports octocrab.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Connector, Credentials, GitHub, GitHubError, Result, Target};

/// Connects to GitHub's REST API.
#[derive(Debug, Default)]
pub struct OctocrabConnector {}

#[async_trait]
impl Connector for OctocrabConnector {
    async fn connect(
        &self,
        _target: &Target,
        _credentials: &Credentials,
    ) -> Result<Arc<dyn GitHub>> {
        Err(GitHubError::Transport(
            "the GitHub REST adapter is not built yet".into(),
        ))
    }
}
