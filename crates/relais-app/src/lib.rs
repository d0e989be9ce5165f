//! Relais services: every use case (accounts, workspaces, members, channels, posts, calendar,
//! import, media) as a method of [`App`], shared by the REST API and the CLI.
//!
//! Each method takes the acting member ([`Actor`]), checks their role in the workspace with the
//! permission matrix before reading or writing anything, validates its input completely before
//! the first write, writes the audit log for every change made by a person, and returns
//! [`AppError`]s with a stable code and a French and English message.

pub mod accounts;
pub mod channels;
pub mod crypto;
pub mod error;
pub mod import;
pub mod listening;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod posts;
pub mod publisher;
pub mod sandbox;
pub mod workspaces;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::{AppError, AppResult};
use relais_domain::ids::{UserId, WorkspaceId};
use relais_domain::permissions::{Action, Role};
use relais_store::Store;

/// Where the current time comes from: the system clock in production, a fake in tests.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// The system clock: the only place outside tests that reads the time.
pub fn system_clock() -> Clock {
    Arc::new(jiff::Timestamp::now)
}

/// The person (or token) performing a request.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Who.
    pub user: UserId,
    /// From where (client address), when known.
    pub ip: Option<String>,
}

/// The application: the store, the secrets box, the media directory and the clock.
#[derive(Clone)]
pub struct App {
    /// The storage.
    pub store: Store,
    /// Encrypts channel credentials at rest.
    pub secrets: Arc<crypto::SecretBox>,
    /// Where uploaded media files are kept.
    pub media_dir: PathBuf,
    /// The clock.
    pub clock: Clock,
    /// The only HTTP client: SSRF-guarded, size- and time-limited.
    pub http: relais_networks::GuardedClient,
    /// Failed logins per e-mail, to slow down password guessing.
    pub login_failures: Arc<accounts::LoginFailures>,
    /// Listening: the enricher, the compiled matchers, the pipeline.
    pub listening: Arc<listening::Listening>,
}

impl App {
    /// The current time.
    pub fn now(&self) -> jiff::Timestamp {
        (self.clock)()
    }

    /// The current time in UTC milliseconds, as stored.
    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// The actor's role in `workspace`, after checking they may perform `action` there. A person
    /// who is not a member gets "not found", so workspace ids of other tenants reveal nothing.
    pub async fn authorize(&self, actor: &Actor, workspace: WorkspaceId, action: Action) -> AppResult<Role> {
        let role = self.store.role_of(workspace, actor.user).await?.ok_or_else(|| AppError::not_found("workspace"))?;
        let role: Role = role.parse().map_err(AppError::internal_msg)?;
        if !role.can(action) {
            return Err(AppError::forbidden(action));
        }
        Ok(role)
    }

    /// Records a change made by a person.
    pub(crate) async fn audit(
        &self,
        actor: &Actor,
        workspace: Option<WorkspaceId>,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) -> AppResult<()> {
        self.store
            .audit(relais_store::audit::AuditEntry {
                workspace,
                actor: Some(actor.user),
                action,
                target,
                detail,
                ip: actor.ip.as_deref(),
                at: self.now_ms(),
            })
            .await?;
        Ok(())
    }
}
