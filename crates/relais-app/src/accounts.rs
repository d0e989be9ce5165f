//! Accounts: creating people, logging in, API tokens.

use crate::crypto::{hash_password, new_token, token_hash, verify_password};
use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::ids::{TokenId, UserId};
use relais_store::StoreError;
use relais_store::users::{TokenRecord, UserRecord};

/// How long a token made by logging in with a password lives (30 days).
const LOGIN_TOKEN_MS: i64 = 30 * 24 * 3600 * 1000;

/// How many failed logins an e-mail may have in [`FAILURE_WINDOW_MS`] before logins are refused.
pub const MAX_FAILURES: u32 = 10;
/// The window over which failed logins are counted (15 minutes).
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Failed logins per e-mail address, in memory (a restart forgets them).
#[derive(Debug, Default)]
pub struct LoginFailures(std::sync::Mutex<std::collections::HashMap<String, (u32, i64)>>);

impl LoginFailures {
    /// Whether `email` may try again at `now`.
    fn allowed(&self, email: &str, now: i64) -> bool {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(email).is_none_or(|(count, since)| *count < MAX_FAILURES || now - since > FAILURE_WINDOW_MS)
    }

    fn record(&self, email: &str, now: i64, success: bool) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if success {
            map.remove(email);
            return;
        }
        let entry = map.entry(email.to_owned()).or_insert((0, now));
        if now - entry.1 > FAILURE_WINDOW_MS {
            *entry = (0, now);
        }
        entry.0 += 1;
        // Bound the memory an attacker can make us use.
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now - *since <= FAILURE_WINDOW_MS);
        }
    }
}

/// A newly created token: the secret is shown once and never again.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NewToken {
    /// The secret to present as `Authorization: Bearer …`.
    pub token: String,
    /// Its metadata.
    pub record: TokenRecord,
}

/// Normalises and checks an e-mail address (a light check: one `@`, a dot in the domain).
pub fn normalize_email(email: &str) -> AppResult<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !e.chars().any(char::is_whitespace);
    if !ok {
        return Err(AppError::invalid(
            "email_invalid",
            Msg::new(
                format!("`{email}` is not an e-mail address"),
                format!("« {email} » n'est pas une adresse e-mail"),
            ),
        ));
    }
    Ok(e)
}

fn check_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if !(12..=256).contains(&n) {
        return Err(AppError::invalid(
            "password_too_weak",
            Msg::new(
                "the password must have 12 to 256 characters",
                "le mot de passe doit compter de 12 à 256 caractères",
            ),
        ));
    }
    Ok(())
}

fn check_name(name: &str, max: usize) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > max || n.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name_invalid",
            Msg::new(
                format!("the name must have 1 to {max} characters, without control characters"),
                format!("le nom doit compter de 1 à {max} caractères, sans caractère de contrôle"),
            ),
        ));
    }
    Ok(n.to_owned())
}

/// Checks a display name (1..=max characters, no control characters) and returns it trimmed.
pub fn valid_name(name: &str, max: usize) -> AppResult<String> {
    check_name(name, max)
}

impl App {
    /// Creates an account (CLI, first start, or an admin inviting someone).
    pub async fn create_user(&self, email: &str, name: &str, password: &str, locale: &str) -> AppResult<UserRecord> {
        let email = normalize_email(email)?;
        let name = check_name(name, 100)?;
        check_password(password)?;
        let locale = if locale.starts_with("en") { "en" } else { "fr" };
        let hash = hash_blocking(password.to_owned()).await?;
        self.store.create_user(&email, &name, &hash, locale, self.now_ms()).await.map_err(|e| match e {
            StoreError::Conflict(_) => AppError::conflict(
                "email_taken",
                Msg::new("this e-mail already has an account", "cette adresse e-mail a déjà un compte"),
            ),
            other => other.into(),
        })
    }

    /// Checks e-mail and password and returns a new login token valid for 30 days.
    pub async fn login(&self, email: &str, password: &str, ip: Option<String>) -> AppResult<NewToken> {
        let email = normalize_email(email).map_err(|_| AppError::unauthenticated())?;
        let now = self.now_ms();
        if !self.login_failures.allowed(&email, now) {
            return Err(AppError::new(
                crate::error::ErrorKind::RateLimited,
                "too_many_attempts",
                Msg::new(
                    "too many failed logins for this account: try again in 15 minutes",
                    "trop d'échecs de connexion pour ce compte : réessayez dans 15 minutes",
                ),
            ));
        }
        let user = self.store.user_by_email(&email).await?;
        // Verify even when the user does not exist, so timing does not tell which e-mails exist.
        let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = verify_blocking(password.to_owned(), hash).await?;
        let user = match (user, ok) {
            (Some(u), true) => u,
            _ => {
                self.login_failures.record(&email, now, false);
                return Err(AppError::unauthenticated());
            }
        };
        self.login_failures.record(&email, now, true);
        let actor = Actor { user: UserId(user.id), ip };
        let now = self.now_ms();
        self.issue_token(&actor, "login", Some(now + LOGIN_TOKEN_MS)).await
    }

    /// Creates an API token for the actor (shown once).
    pub async fn issue_token(&self, actor: &Actor, name: &str, expires_at: Option<i64>) -> AppResult<NewToken> {
        let name = check_name(name, 100)?;
        let token = new_token("rls_");
        let record = self.store.create_token(actor.user, &name, &token_hash(&token), self.now_ms(), expires_at).await?;
        self.audit(actor, None, "token.create", format!("token:{}", record.id), serde_json::json!({ "name": name }))
            .await?;
        Ok(NewToken { token, record })
    }

    /// Resolves a bearer token to its user.
    pub async fn authenticate(&self, token: &str) -> AppResult<UserRecord> {
        match self.store.authenticate_token(&token_hash(token), self.now_ms()).await? {
            Some((user, _)) => Ok(user),
            None => Err(AppError::unauthenticated()),
        }
    }

    /// The actor's tokens.
    pub async fn tokens(&self, actor: &Actor) -> AppResult<Vec<TokenRecord>> {
        Ok(self.store.tokens(actor.user).await?)
    }

    /// Revokes one of the actor's tokens.
    pub async fn revoke_token(&self, actor: &Actor, token: TokenId) -> AppResult<()> {
        self.store.revoke_token(actor.user, token, self.now_ms()).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("token"),
            other => other.into(),
        })?;
        self.audit(actor, None, "token.revoke", format!("token:{}", token.0), serde_json::json!({})).await
    }

    /// The actor's account.
    pub async fn me(&self, actor: &Actor) -> AppResult<UserRecord> {
        Ok(self.store.user(actor.user).await?)
    }
}

/// A valid Argon2id hash of a random password, verified against when the e-mail is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0HnrBgYl2Ie3r1DGRWR8w1pNd3JiI0xGCxHFa0F0H2E";

async fn hash_blocking(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(AppError::internal)?
}

async fn verify_blocking(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let check = |input: &str, expected: Option<&str>| {
            assert_eq!(normalize_email(input).ok().as_deref(), expected, "{input}")
        };
        check(" Alice@Example.FR ", Some("alice@example.fr"));
        check("alice", None);
        check("a@b", None);
        check("a b@c.fr", None);
        check("@c.fr", None);
        check("a@b@c.fr", None);
    }
}
