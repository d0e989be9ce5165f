//! Workspaces, their members and settings, the calendar feed token and the audit log.

use crate::accounts::{normalize_email, valid_name};
use crate::crypto::{new_token, token_hash};
use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::ids::{UserId, WorkspaceId};
use relais_domain::permissions::{Action, Role};
use relais_domain::schedule::parse_time_zone;
use relais_store::audit::AuditRecord;
use relais_store::workspaces::{MemberRecord, WorkspaceRecord};
use serde_json::json;

fn check_tz(tz: &str) -> AppResult<()> {
    parse_time_zone(tz).map(|_| ()).map_err(|m| AppError::invalid("timezone_invalid", m))
}

impl App {
    /// Creates a workspace owned by the actor.
    pub async fn create_workspace(&self, actor: &Actor, name: &str, timezone: &str) -> AppResult<WorkspaceRecord> {
        let name = valid_name(name, 100)?;
        check_tz(timezone)?;
        let ws = self.store.create_workspace(&name, timezone, actor.user, self.now_ms()).await?;
        self.audit(
            actor,
            Some(WorkspaceId(ws.id)),
            "workspace.create",
            format!("workspace:{}", ws.id),
            json!({ "name": name, "timezone": timezone }),
        )
        .await?;
        Ok(ws)
    }

    /// The workspaces the actor belongs to, with their role.
    pub async fn my_workspaces(&self, actor: &Actor) -> AppResult<Vec<(WorkspaceRecord, String)>> {
        Ok(self.store.workspaces_of(actor.user).await?)
    }

    /// One workspace the actor belongs to.
    pub async fn workspace(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<WorkspaceRecord> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.workspace(ws).await?)
    }

    /// Renames a workspace or changes its time zone (fields left `None` keep their value).
    pub async fn update_workspace(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        name: Option<&str>,
        timezone: Option<&str>,
        late_publish_secs: Option<i64>,
    ) -> AppResult<WorkspaceRecord> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        let current = self.store.workspace(ws).await?;
        let name = match name {
            Some(n) => valid_name(n, 100)?,
            None => current.name,
        };
        let timezone = timezone.unwrap_or(&current.timezone).to_owned();
        check_tz(&timezone)?;
        let late = late_publish_secs.unwrap_or(current.late_publish_secs);
        if !(0..=7 * 24 * 3600).contains(&late) {
            return Err(AppError::invalid(
                "late_policy_invalid",
                Msg::new(
                    "late_publish_secs must be between 0 and 604,800 (7 days)",
                    "late_publish_secs doit être compris entre 0 et 604 800 (7 jours)",
                ),
            ));
        }
        let updated = self.store.update_workspace(ws, &name, &timezone, late, self.now_ms()).await?;
        self.audit(
            actor,
            Some(ws),
            "workspace.update",
            format!("workspace:{}", ws.0),
            json!({ "name": name, "timezone": timezone }),
        )
        .await?;
        Ok(updated)
    }

    /// Pauses (`true`) or resumes the workspace's whole schedule.
    pub async fn set_paused(&self, actor: &Actor, ws: WorkspaceId, paused: bool) -> AppResult<WorkspaceRecord> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        self.store.set_paused(ws, paused, self.now_ms()).await?;
        let action = if paused { "workspace.pause" } else { "workspace.resume" };
        self.audit(actor, Some(ws), action, format!("workspace:{}", ws.0), json!({})).await?;
        Ok(self.store.workspace(ws).await?)
    }

    /// Deletes a workspace and everything in it.
    pub async fn delete_workspace(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<()> {
        self.authorize(actor, ws, Action::DeleteWorkspace).await?;
        self.store.delete_workspace(ws, self.now_ms()).await?;
        // The workspace's audit rows go with it; the deletion itself is kept outside it.
        self.audit(actor, None, "workspace.delete", format!("workspace:{}", ws.0), json!({})).await
    }

    /// The members of a workspace.
    pub async fn members(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<Vec<MemberRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.members(ws).await?)
    }

    /// Adds an existing account to the workspace, or changes a member's role.
    pub async fn set_member(&self, actor: &Actor, ws: WorkspaceId, email: &str, role: Role) -> AppResult<MemberRecord> {
        let my_role = self.authorize(actor, ws, Action::ManageMembers).await?;
        if !my_role.may_grant(role) {
            return Err(AppError::forbidden(Action::ManageMembers));
        }
        let email = normalize_email(email)?;
        let user = self.store.user_by_email(&email).await?.ok_or_else(|| AppError::not_found("user"))?;
        let target = UserId(user.id);
        if let Some(current) = self.store.role_of(ws, target).await? {
            let current: Role = current.parse().map_err(AppError::internal_msg)?;
            if current < my_role {
                return Err(AppError::forbidden(Action::ManageMembers));
            }
            if current == Role::Owner && role != Role::Owner {
                self.ensure_another_owner(ws).await?;
            }
        }
        self.store.upsert_member(ws, target, role.as_str(), self.now_ms()).await?;
        self.audit(actor, Some(ws), "member.set", format!("user:{}", user.id), json!({ "role": role.as_str() }))
            .await?;
        Ok(MemberRecord { user_id: user.id, email: user.email, name: user.name, role: role.as_str().to_owned() })
    }

    /// Removes a member (never the last owner).
    pub async fn remove_member(&self, actor: &Actor, ws: WorkspaceId, user: UserId) -> AppResult<()> {
        let my_role = self.authorize(actor, ws, Action::ManageMembers).await?;
        let current = self.store.role_of(ws, user).await?.ok_or_else(|| AppError::not_found("member"))?;
        let current: Role = current.parse().map_err(AppError::internal_msg)?;
        if current < my_role {
            return Err(AppError::forbidden(Action::ManageMembers));
        }
        if current == Role::Owner {
            self.ensure_another_owner(ws).await?;
        }
        self.store.remove_member(ws, user).await?;
        self.audit(actor, Some(ws), "member.remove", format!("user:{}", user.0), json!({})).await
    }

    async fn ensure_another_owner(&self, ws: WorkspaceId) -> AppResult<()> {
        if self.store.owner_count(ws).await? <= 1 {
            return Err(AppError::conflict(
                "last_owner",
                Msg::new("a workspace keeps at least one owner", "un espace de travail garde au moins un propriétaire"),
            ));
        }
        Ok(())
    }

    /// Creates (or replaces) the secret token of the workspace's private calendar feed and
    /// returns it; the previous feed URL stops working.
    pub async fn rotate_calendar_token(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<String> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        let token = new_token("cal_");
        self.store.set_ical_token_hash(ws, Some(&token_hash(&token)), self.now_ms()).await?;
        self.audit(actor, Some(ws), "calendar.rotate", format!("workspace:{}", ws.0), json!({})).await?;
        Ok(token)
    }

    /// Turns the calendar feed off.
    pub async fn disable_calendar(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<()> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        self.store.set_ical_token_hash(ws, None, self.now_ms()).await?;
        self.audit(actor, Some(ws), "calendar.disable", format!("workspace:{}", ws.0), json!({})).await
    }

    /// The newest audit entries of a workspace.
    pub async fn audit_log(&self, actor: &Actor, ws: WorkspaceId, limit: i64) -> AppResult<Vec<AuditRecord>> {
        self.authorize(actor, ws, Action::ReadAudit).await?;
        Ok(self.store.audit_log(ws, limit.clamp(1, 1000)).await?)
    }
}
