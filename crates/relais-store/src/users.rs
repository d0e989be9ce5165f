//! People and their API tokens.

use crate::{Store, StoreResult, found};
use relais_domain::ids::{TokenId, UserId};
use serde::Serialize;

/// A person's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UserRecord {
    /// Identifier.
    pub id: i64,
    /// Login e-mail, unique, lower-case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string; never serialised.
    #[serde(skip)]
    pub password_hash: String,
    /// Preferred language (`fr` or `en`).
    pub locale: String,
    /// Creation time (UTC ms).
    pub created_at: i64,
}

/// An API token's metadata (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TokenRecord {
    /// Identifier.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Label given by its owner.
    pub name: String,
    /// Creation time (UTC ms).
    pub created_at: i64,
    /// Expiry (UTC ms), if any.
    pub expires_at: Option<i64>,
    /// Revocation time (UTC ms), if revoked.
    pub revoked_at: Option<i64>,
    /// Last time it authenticated a request (UTC ms).
    pub last_used_at: Option<i64>,
}

const USER_COLUMNS: &str = "id, email, name, password_hash, locale, created_at";
const TOKEN_COLUMNS: &str = "id, user_id, name, created_at, expires_at, revoked_at, last_used_at";

impl Store {
    /// Creates a user; a second user with the same e-mail is a conflict.
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        locale: &str,
        now: i64,
    ) -> StoreResult<UserRecord> {
        let sql = format!(
            "INSERT INTO users (email, name, password_hash, locale, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .bind(name)
            .bind(password_hash)
            .bind(locale)
            .bind(now)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Counts users (the first start creates an owner when there is none).
    pub async fn count_users(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Finds a user by e-mail.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email).fetch_optional(&self.pool).await?)
    }

    /// Finds a user by id.
    pub async fn user(&self, id: UserId) -> StoreResult<UserRecord> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_one(&self.pool).await?)
    }

    /// Replaces a user's password hash.
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Stores a new token's hash.
    pub async fn create_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<TokenRecord> {
        let sql = format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.0)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Resolves a token hash to its user, if the token is live at `now`, and records the use.
    pub async fn authenticate_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<(UserRecord, TokenId)>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some((token_id, user_id)) = row else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(Some((self.user(UserId(user_id)).await?, TokenId(token_id))))
    }

    /// Lists a user's tokens, newest first.
    pub async fn tokens(&self, user: UserId) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.0).fetch_all(&self.pool).await?)
    }

    /// Revokes one of a user's tokens; another user's token is not found.
    pub async fn revoke_token(&self, user: UserId, token: TokenId, now: i64) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(token.0)
                .bind(user.0)
                .execute(&self.pool)
                .await?,
        )
    }
}
