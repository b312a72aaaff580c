//! A GitHub App's side of the connector: the JWT client, the installation for a
//! repository's owner, and installation tokens kept until five minutes before they expire.

use std::sync::Arc;

use chrono::Utc;
use http::Method;

use super::super::credentials::fingerprint;
use super::super::rest::{self, WireAccessToken, WireInstallation};
use super::super::{GitHub, GitHubError, Result, Secret, Target};
use super::repo::{LoginSource, RestGitHub};
use super::wire::{Wire, chain_message};
use super::{InstallationToken, OctocrabConnector, lock};

impl OctocrabConnector {
    pub(super) async fn connect_app(
        &self,
        target: &Target,
        app_id: u64,
        private_key: &Secret,
        installation_id: Option<u64>,
    ) -> Result<Arc<dyn GitHub>> {
        let app_identity = fingerprint(
            &target.api_url,
            &["app", &app_id.to_string(), private_key.expose()],
        );
        let crab = self.client(&app_identity, || {
            let key = octocrab::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
                .map_err(|_| {
                    GitHubError::BadCredentials(
                        "private_key is not an RSA private key in PKCS#1 or PKCS#8 PEM".into(),
                    )
                })?;
            // The key is only used when signing: sign once now so a broken key is
            // reported as bad credentials rather than as a failed request.
            octocrab::auth::create_jwt(octocrab::models::AppId(app_id), &key).map_err(|_| {
                GitHubError::BadCredentials(
                    "private_key cannot sign a GitHub App token (expected an RSA key)".into(),
                )
            })?;
            self.builder(&target.api_url)?
                .app(octocrab::models::AppId(app_id), key)
                .build()
                .map_err(|e| GitHubError::Transport(chain_message(&e)))
        })?;
        let app = Wire {
            crab,
            timeouts: self.timeouts,
            secrets: vec![private_key.clone()],
        };
        let installation = match installation_id {
            Some(id) => id,
            None => self.installation_for(&app, &app_identity, target).await?,
        };
        let token = self
            .installation_token(&app, &app_identity, installation)
            .await?;
        let crab = app
            .crab
            .user_access_token(token.expose().to_owned())
            .map_err(|e| GitHubError::Transport(chain_message(&e)))?;
        let secrets = vec![token.clone(), private_key.clone()];
        let graphql = self.graphql_wire(&target.api_url, None, &token, secrets.clone())?;
        Ok(Arc::new(RestGitHub {
            wire: Wire {
                crab,
                timeouts: self.timeouts,
                secrets,
            },
            graphql,
            identity: format!("{app_identity}/{installation}"),
            login_source: LoginSource::App {
                app: Box::new(app),
                identity: app_identity,
            },
            target: target.clone(),
            caches: self.caches.clone(),
            etags: self.etags.clone(),
        }))
    }

    /// The App's installation on the target repository, looked up once.
    async fn installation_for(
        &self,
        app: &Wire,
        app_identity: &str,
        target: &Target,
    ) -> Result<u64> {
        let key = format!("{app_identity}/{}/{}", target.owner, target.repo);
        if let Some(id) = lock(&self.caches.installations).get(&key) {
            return Ok(*id);
        }
        let what = "cannot find the GitHub App's installation";
        let path = format!(
            "/repos/{}/{}/installation",
            rest::encode(&target.owner),
            rest::encode(&target.repo)
        );
        let reply = app.send(what, Method::GET, &path, None, None).await?;
        if !reply.status.is_success() {
            return Err(match app.fail(what, &reply) {
                GitHubError::NotFound(_) => GitHubError::NotFound(format!(
                    "{what}: the App is not installed on {}/{}",
                    target.owner, target.repo
                )),
                other => other,
            });
        }
        let installation: WireInstallation = rest::parse(what, &reply.body)?;
        lock(&self.caches.installations).insert(key, installation.id);
        Ok(installation.id)
    }

    /// A token for the installation, reused until five minutes before it expires.
    async fn installation_token(
        &self,
        app: &Wire,
        app_identity: &str,
        installation: u64,
    ) -> Result<Secret> {
        // The same key names the installation client's identity (see `failed`).
        let key = format!("{app_identity}/{installation}");
        if let Some(token) = lock(&self.caches.tokens)
            .get(&key)
            .filter(|t| t.fresh(Utc::now()))
        {
            return Ok(token.token.clone());
        }
        let what = "cannot get a GitHub App installation token";
        let path = format!("/app/installations/{installation}/access_tokens");
        let reply = app.send(what, Method::POST, &path, None, None).await?;
        if !reply.status.is_success() {
            return Err(app.fail(what, &reply));
        }
        let answer: WireAccessToken = rest::parse(what, &reply.body)?;
        let token = InstallationToken {
            token: Secret::new(answer.token),
            expires_at: answer.expires_at,
        };
        lock(&self.caches.tokens).insert(key, token.clone());
        Ok(token.token)
    }
}
