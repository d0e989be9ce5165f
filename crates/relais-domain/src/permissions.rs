//! Workspace roles and the permission matrix: the one table that decides who may do what.
//!
//! The matrix is data ([`MATRIX`]) so that it can be shown in the docs (`relais docs permissions`
//! prints it) and tested exhaustively. The service layer calls [`Role::can`] before every read and
//! write; nothing else decides authorisation.

use serde::{Deserialize, Serialize};

/// A member's role in one workspace, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Owns the workspace: everything, including deleting it and managing admins.
    Owner,
    /// Manages members, channels and settings.
    Admin,
    /// Writes, schedules and approves posts.
    Editor,
    /// Writes posts that an editor must approve before they are published.
    Contributor,
    /// Reads everything, changes nothing.
    Viewer,
}

/// Something a member may want to do in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See the workspace, its channels, posts, calendar.
    Read,
    /// Create and edit posts (a contributor's posts need approval).
    WritePosts,
    /// Schedule or queue a post directly, without approval.
    PublishWithoutApproval,
    /// Approve or reject someone else's post.
    ApprovePosts,
    /// Connect, edit and remove channels and their queue slots.
    ManageChannels,
    /// Invite members, change roles (up to one's own), remove members.
    ManageMembers,
    /// Rename, change time zone, pause and resume the schedule, rotate the calendar feed.
    ManageWorkspace,
    /// Create, change and delete listening queries and sources; send posts to the ingest endpoint.
    ManageListening,
    /// Read the audit log.
    ReadAudit,
    /// Delete the workspace.
    DeleteWorkspace,
}

impl Action {
    /// Every action, in the order of the documented table.
    pub const ALL: [Action; 10] = [
        Action::Read,
        Action::WritePosts,
        Action::PublishWithoutApproval,
        Action::ApprovePosts,
        Action::ManageChannels,
        Action::ManageMembers,
        Action::ManageWorkspace,
        Action::ManageListening,
        Action::ReadAudit,
        Action::DeleteWorkspace,
    ];
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 5] = [Role::Owner, Role::Admin, Role::Editor, Role::Contributor, Role::Viewer];

    /// The stable identifier stored in the database and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Contributor => "contributor",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may perform `action`, according to [`MATRIX`].
    pub fn can(self, action: Action) -> bool {
        MATRIX.iter().any(|(a, roles)| *a == action && roles.contains(&self))
    }

    /// Whether a member with this role may give `other` to someone (nobody grants above their own
    /// role, and only an owner makes owners).
    pub fn may_grant(self, other: Role) -> bool {
        self.can(Action::ManageMembers) && self <= other
    }
}

impl std::str::FromStr for Role {
    type Err = crate::Msg;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            crate::Msg::new(
                format!("unknown role `{s}` (owner, admin, editor, contributor, viewer)"),
                format!("rôle inconnu « {s} » (owner, admin, editor, contributor, viewer)"),
            )
        })
    }
}

use Role::{Admin, Contributor, Editor, Owner, Viewer};

/// The permission matrix: for each action, the roles allowed to perform it.
pub const MATRIX: [(Action, &[Role]); 10] = [
    (Action::Read, &[Owner, Admin, Editor, Contributor, Viewer]),
    (Action::WritePosts, &[Owner, Admin, Editor, Contributor]),
    (Action::PublishWithoutApproval, &[Owner, Admin, Editor]),
    (Action::ApprovePosts, &[Owner, Admin, Editor]),
    (Action::ManageChannels, &[Owner, Admin]),
    (Action::ManageMembers, &[Owner, Admin]),
    (Action::ManageWorkspace, &[Owner, Admin]),
    (Action::ManageListening, &[Owner, Admin, Editor]),
    (Action::ReadAudit, &[Owner, Admin]),
    (Action::DeleteWorkspace, &[Owner]),
];

/// The matrix as a Markdown table, as printed in the docs.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| action |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    for (action, _) in MATRIX {
        let name = serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned));
        out.push_str(&format!("\n| {} |", name.unwrap_or_default()));
        for role in Role::ALL {
            out.push_str(if role.can(action) { " ✓ |" } else { " — |" });
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_row() {
        for action in Action::ALL {
            assert_eq!(MATRIX.iter().filter(|(a, _)| *a == action).count(), 1, "{action:?}");
        }
    }

    #[test]
    fn matrix_is_monotonic_in_rank() {
        // A more powerful role can do everything a less powerful one can.
        for action in Action::ALL {
            for (i, weaker) in Role::ALL.iter().enumerate() {
                for stronger in &Role::ALL[..i] {
                    assert!(!weaker.can(action) || stronger.can(action), "{action:?} {stronger:?} {weaker:?}");
                }
            }
        }
    }

    #[test]
    fn key_cells() {
        let check =
            |role: Role, action: Action, expected: bool| assert_eq!(role.can(action), expected, "{role:?} {action:?}");
        check(Viewer, Action::Read, true);
        check(Viewer, Action::WritePosts, false);
        check(Contributor, Action::WritePosts, true);
        check(Contributor, Action::PublishWithoutApproval, false);
        check(Contributor, Action::ApprovePosts, false);
        check(Editor, Action::ApprovePosts, true);
        check(Editor, Action::ManageChannels, false);
        check(Admin, Action::ManageMembers, true);
        check(Admin, Action::DeleteWorkspace, false);
        check(Owner, Action::DeleteWorkspace, true);
    }

    #[test]
    fn granting() {
        assert!(Owner.may_grant(Owner));
        assert!(Admin.may_grant(Admin));
        assert!(!Admin.may_grant(Owner));
        assert!(!Editor.may_grant(Viewer));
    }

    #[test]
    fn markdown_has_a_row_per_action() {
        let md = matrix_markdown();
        assert_eq!(md.lines().count(), 2 + Action::ALL.len());
        assert!(md.contains("| approve_posts | ✓ | ✓ | ✓ | — | — |"));
    }
}
