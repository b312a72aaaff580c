//! The connector of the in-memory GitHub: every connection is the same fake.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::FakeGitHub;
use crate::github::{Connector, Credentials, GitHub, Result, Target};

/// A [`Connector`] that hands out one [`FakeGitHub`] whatever the credentials, and
/// records the targets it was asked for.
#[derive(Debug, Clone, Default)]
pub struct FakeConnector {
    /// The fake every connection returns.
    pub github: FakeGitHub,
    targets: Arc<Mutex<Vec<Target>>>,
}

impl FakeConnector {
    /// A connector serving `github`.
    pub fn new(github: FakeGitHub) -> Self {
        FakeConnector {
            github,
            targets: Arc::default(),
        }
    }

    /// The targets connected to so far.
    pub fn targets(&self) -> Vec<Target> {
        self.targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl Connector for FakeConnector {
    async fn connect(
        &self,
        target: &Target,
        _credentials: &Credentials,
    ) -> Result<Arc<dyn GitHub>> {
        self.targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(target.clone());
        Ok(Arc::new(self.github.clone()))
    }
}
