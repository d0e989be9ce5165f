//! Posts: their content, their lifecycle statuses and the approval rules.

use serde::{Deserialize, Serialize};

/// Where a post is in its life before publishing (the publishing states come with the engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    /// Being written; not scheduled.
    Draft,
    /// Written by a contributor; waits for an editor's approval.
    PendingApproval,
    /// Approved or written by an editor, waiting for its due time.
    Scheduled,
    /// Refused by a reviewer, with a note.
    Rejected,
    /// Not approved by its due time: never published.
    Expired,
    /// Delivered to every channel.
    Published,
    /// At least one channel refused it or it ran out of attempts.
    Failed,
    /// Too late to publish under the workspace's policy (after downtime).
    Missed,
}

impl PostStatus {
    /// Every status.
    pub const ALL: [PostStatus; 8] = [
        PostStatus::Draft,
        PostStatus::PendingApproval,
        PostStatus::Scheduled,
        PostStatus::Rejected,
        PostStatus::Expired,
        PostStatus::Published,
        PostStatus::Failed,
        PostStatus::Missed,
    ];

    /// The stable identifier stored in the database and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::PendingApproval => "pending_approval",
            PostStatus::Scheduled => "scheduled",
            PostStatus::Rejected => "rejected",
            PostStatus::Expired => "expired",
            PostStatus::Published => "published",
            PostStatus::Failed => "failed",
            PostStatus::Missed => "missed",
        }
    }

    /// Whether the post may still be edited (published or expired posts are history).
    pub fn editable(self) -> bool {
        matches!(self, PostStatus::Draft | PostStatus::PendingApproval | PostStatus::Scheduled | PostStatus::Rejected)
    }
}

impl std::str::FromStr for PostStatus {
    type Err = crate::Msg;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PostStatus::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            crate::Msg::new(format!("unknown post status `{s}`"), format!("statut de publication inconnu « {s} »"))
        })
    }
}

/// The content of a post: the base text and everything attached to it. Per-channel variants
/// replace `text` for one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    /// The base text, used on every channel without a variant.
    pub text: String,
    /// An optional link attached to the post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Further parts of a thread, published as replies in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thread: Vec<String>,
    /// A first comment published right after the post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<String>,
    /// Title (YouTube, Pinterest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Pinterest board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
    /// The language of the text (BCP 47, e.g. `fr`, `en-GB`), sent to networks that tag posts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Who may see the post, on networks that let the author choose (Mastodon). Absent: the
    /// account's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// A content warning shown before the text, which stays hidden until opened (Mastodon's
    /// `spoiler_text`; it also marks the media sensitive). Repeated on every part of a thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_warning: Option<String>,
    /// An image to attach, by URL (bulk import). It is downloaded through the SSRF-guarded
    /// client when the post is prepared for publishing, never by the API request itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

/// Who may see a post (Mastodon's four levels; the other networks publish publicly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone, on public timelines.
    Public,
    /// Everyone, but kept off public timelines and trends ("quiet public").
    Unlisted,
    /// Followers only (Mastodon calls it `private`).
    Private,
    /// Only the mentioned accounts.
    Direct,
}

impl Visibility {
    /// The value the Mastodon API expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// The approval decision a reviewer may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The post goes to the schedule.
    Approve,
    /// The post goes back to its author with a note.
    Reject,
}

/// Checks that `reviewer` may decide on a post written by `author` that is in `status`.
/// Returns the status the post moves to.
pub fn review(
    status: PostStatus,
    author: crate::ids::UserId,
    reviewer: crate::ids::UserId,
    decision: Decision,
) -> Result<PostStatus, crate::Msg> {
    if status != PostStatus::PendingApproval {
        return Err(crate::Msg::new(
            format!("only a post pending approval can be reviewed (this one is {})", status.as_str()),
            format!(
                "seule une publication en attente d'approbation peut être examinée (celle-ci est {})",
                status.as_str()
            ),
        ));
    }
    if author == reviewer {
        return Err(crate::Msg::new(
            "nobody approves or rejects their own post",
            "personne ne peut approuver ou refuser sa propre publication",
        ));
    }
    Ok(match decision {
        Decision::Approve => PostStatus::Scheduled,
        Decision::Reject => PostStatus::Rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;

    #[test]
    fn review_rules() {
        let (a, b) = (UserId(1), UserId(2));
        let check = |status, author, reviewer, decision, expected: Option<PostStatus>| {
            assert_eq!(review(status, author, reviewer, decision).ok(), expected);
        };
        check(PostStatus::PendingApproval, a, b, Decision::Approve, Some(PostStatus::Scheduled));
        check(PostStatus::PendingApproval, a, b, Decision::Reject, Some(PostStatus::Rejected));
        check(PostStatus::PendingApproval, a, a, Decision::Approve, None);
        check(PostStatus::Draft, a, b, Decision::Approve, None);
        check(PostStatus::Expired, a, b, Decision::Approve, None);
    }

    #[test]
    fn status_round_trip() {
        for s in PostStatus::ALL {
            assert_eq!(s.as_str().parse::<PostStatus>().ok(), Some(s));
        }
    }
}
