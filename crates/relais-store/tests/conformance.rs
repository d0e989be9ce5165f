//! One conformance suite for the storage API, run against both backends: embedded SQLite (always)
//! and PostgreSQL (when `RELAIS_TEST_DATABASE_URL` is set; required when `CI` is set).
//!
//! Each check is an `async fn check(store: &Store)`; the `conformance!` macro turns it into one
//! `#[tokio::test]` per backend, each on a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_domain::ids::{ChannelId, MediaId, PostId, TokenId, UserId, WorkspaceId};
use relais_store::audit::AuditEntry;
use relais_store::channels::NewChannel;
use relais_store::media::MediaRecord;
use relais_store::posts::{PostFilter, PostMediaRecord, PostRecord, PostWrite, TargetRecord};
use relais_store::testing::{fresh_store, postgres_admin_url};
use relais_store::{Backend, Store, StoreError};

macro_rules! conformance {
    ($($check:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test]
        async fn $sqlite() {
            let dir = tempfile::tempdir().expect("temporary directory");
            let store = fresh_store(None, dir.path()).await.expect("fresh SQLite store");
            assert_eq!(store.backend(), Backend::Sqlite);
            $check(&store).await;
            store.close().await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(url) = postgres_admin_url(stringify!($postgres)) else { return };
            let dir = tempfile::tempdir().expect("temporary directory");
            let store = fresh_store(Some(&url), dir.path()).await.expect("fresh PostgreSQL database");
            assert_eq!(store.backend(), Backend::Postgres);
            $check(&store).await;
            store.close().await;
        }
    )*};
}

conformance! {
    users_unique_email => users_unique_email_sqlite, users_unique_email_postgres;
    tokens_authenticate_revoke_expire => tokens_authenticate_revoke_expire_sqlite, tokens_authenticate_revoke_expire_postgres;
    workspace_creator_is_owner => workspace_creator_is_owner_sqlite, workspace_creator_is_owner_postgres;
    tenant_isolation => tenant_isolation_sqlite, tenant_isolation_postgres;
    create_posts_cross_tenant_writes_nothing => create_posts_cross_tenant_writes_nothing_sqlite, create_posts_cross_tenant_writes_nothing_postgres;
    create_posts_is_atomic => create_posts_is_atomic_sqlite, create_posts_is_atomic_postgres;
    transition_post_conflicts => transition_post_conflicts_sqlite, transition_post_conflicts_postgres;
    expire_pending_only_due_pending => expire_pending_only_due_pending_sqlite, expire_pending_only_due_pending_postgres;
    taken_times_of_a_channel => taken_times_of_a_channel_sqlite, taken_times_of_a_channel_postgres;
    posts_filters_and_order => posts_filters_and_order_sqlite, posts_filters_and_order_postgres;
    queue_slots_replace => queue_slots_replace_sqlite, queue_slots_replace_postgres;
    audit_newest_first => audit_newest_first_sqlite, audit_newest_first_postgres;
    membership_changes => membership_changes_sqlite, membership_changes_postgres;
    credentials_bytes_round_trip => credentials_bytes_round_trip_sqlite, credentials_bytes_round_trip_postgres;
    replace_post_children => replace_post_children_sqlite, replace_post_children_postgres;
    delivery_batch_and_crash_repair => delivery_batch_and_crash_repair_sqlite, delivery_batch_and_crash_repair_postgres;
    oauth_pending_taken_once_in_its_workspace => oauth_pending_taken_once_in_its_workspace_sqlite, oauth_pending_taken_once_in_its_workspace_postgres;
    mention_ids_follow_commits => mention_ids_follow_commits_sqlite, mention_ids_follow_commits_postgres;
    mentions_outlive_deleted_queries => mentions_outlive_deleted_queries_sqlite, mentions_outlive_deleted_queries_postgres;
    deleted_ids_are_never_handed_out_again => deleted_ids_are_never_handed_out_again_sqlite, deleted_ids_are_never_handed_out_again_postgres;
    ids_created_at_once_are_distinct => ids_created_at_once_are_distinct_sqlite, ids_created_at_once_are_distinct_postgres;
    rows_written_beside_the_marks_are_not_collided_with => rows_written_beside_the_marks_are_not_collided_with_sqlite, rows_written_beside_the_marks_are_not_collided_with_postgres;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const NOW: i64 = 1_700_000_000_000;

async fn user(store: &Store, email: &str) -> UserId {
    UserId(store.create_user(email, "Someone", "$argon2id$fake", "fr", NOW).await.expect("create user").id)
}

async fn workspace(store: &Store, owner: UserId, name: &str) -> WorkspaceId {
    WorkspaceId(store.create_workspace(name, "Europe/Paris", owner, NOW).await.expect("create workspace").id)
}

async fn channel(store: &Store, ws: WorkspaceId, handle: &str) -> ChannelId {
    let c = NewChannel {
        workspace: ws,
        network: "bluesky",
        handle,
        display_name: handle,
        instance_url: None,
        credentials: None,
        limits: None,
        now: NOW,
    };
    ChannelId(store.create_channel(c).await.expect("create channel").id)
}

async fn media(store: &Store, ws: WorkspaceId) -> MediaId {
    let m = MediaRecord {
        id: 0,
        workspace_id: ws.0,
        file_name: "photo.png".into(),
        stored_path: "ab/cd.png".into(),
        mime: "image/png".into(),
        kind: "image".into(),
        bytes: 1234,
        width: Some(10),
        height: Some(20),
        sha256: "00".repeat(32),
        created_at: NOW,
    };
    MediaId(store.create_media(&m).await.expect("create media").id)
}

fn write(ws: WorkspaceId, author: UserId, channels: &[ChannelId], status: &str, due_at: Option<i64>) -> PostWrite {
    PostWrite {
        workspace: ws,
        author,
        status: status.into(),
        body: format!(r#"{{"text":"due {due_at:?}"}}"#),
        due_at,
        local_time: due_at.map(|_| "2027-03-28T09:30".into()),
        timezone: "Europe/Paris".into(),
        queue_channel: None,
        evergreen_secs: None,
        targets: channels.iter().map(|c| TargetRecord { channel_id: c.0, variant: None }).collect(),
        media: Vec::new(),
        now: NOW,
    }
}

async fn create_one(store: &Store, p: PostWrite) -> PostId {
    let ids = store.create_posts(&[p]).await.expect("create post");
    assert_eq!(ids.len(), 1);
    ids[0]
}

fn everything() -> PostFilter {
    PostFilter { include_undated: true, limit: 10_000, ..Default::default() }
}

async fn all_posts(store: &Store, ws: WorkspaceId) -> Vec<PostRecord> {
    store.posts(ws, &everything()).await.expect("list posts")
}

fn ids(posts: &[PostRecord]) -> Vec<i64> {
    posts.iter().map(|p| p.id).collect()
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

async fn users_unique_email(store: &Store) {
    let a = store.create_user("a@example.fr", "A", "hash-a", "fr", NOW).await.unwrap();
    assert_eq!(a.email, "a@example.fr");
    assert_eq!(a.name, "A");
    assert_eq!(a.password_hash, "hash-a");
    assert_eq!(a.locale, "fr");
    assert_eq!(a.created_at, NOW);
    assert_conflict(store.create_user("a@example.fr", "Other", "hash-b", "en", NOW).await, "same e-mail twice");
    assert_eq!(store.count_users().await.unwrap(), 1, "the refused user must not be written");
    let b = store.create_user("b@example.fr", "B", "hash-b", "en", NOW).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.count_users().await.unwrap(), 2);
    assert_eq!(store.user_by_email("a@example.fr").await.unwrap(), Some(a.clone()));
    assert_eq!(store.user_by_email("nobody@example.fr").await.unwrap(), None);
    assert_eq!(store.user(UserId(a.id)).await.unwrap(), a);
    assert_not_found(store.user(UserId(a.id + 1000)).await, "unknown user");
    store.set_password_hash(UserId(a.id), "hash-new").await.unwrap();
    assert_eq!(store.user(UserId(a.id)).await.unwrap().password_hash, "hash-new");
    assert_not_found(store.set_password_hash(UserId(a.id + 1000), "x").await, "password of unknown user");
}

async fn tokens_authenticate_revoke_expire(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let b = user(store, "b@example.fr").await;
    let expiring = store.create_token(a, "expiring", "hash-expiring", NOW, Some(NOW + 1000)).await.unwrap();
    let forever = store.create_token(a, "forever", "hash-forever", NOW, None).await.unwrap();
    assert_eq!(expiring.user_id, a.0);
    assert_eq!(expiring.expires_at, Some(NOW + 1000));
    assert_eq!(forever.expires_at, None);
    assert_eq!(forever.revoked_at, None);
    assert_conflict(store.create_token(b, "dup", "hash-forever", NOW, None).await, "same token hash twice");

    // Live before expiry, and the use is recorded.
    let (u, t) = store.authenticate_token("hash-expiring", NOW + 500).await.unwrap().expect("live token");
    assert_eq!(u.id, a.0);
    assert_eq!(t, TokenId(expiring.id));
    let listed = store.tokens(a).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![forever.id, expiring.id], "newest first");
    assert_eq!(listed[1].last_used_at, Some(NOW + 500));
    // Dead at and after its expiry.
    assert!(store.authenticate_token("hash-expiring", NOW + 1000).await.unwrap().is_none(), "expired at expires_at");
    assert!(store.authenticate_token("hash-expiring", NOW + 5000).await.unwrap().is_none(), "expired after");
    // Unknown hash.
    assert!(store.authenticate_token("hash-unknown", NOW).await.unwrap().is_none());

    // Revocation: another user cannot revoke it; the owner can, once.
    assert!(store.authenticate_token("hash-forever", NOW + 10).await.unwrap().is_some());
    assert_not_found(store.revoke_token(b, TokenId(forever.id), NOW + 20).await, "revoke another user's token");
    assert!(store.authenticate_token("hash-forever", NOW + 30).await.unwrap().is_some(), "still live");
    store.revoke_token(a, TokenId(forever.id), NOW + 40).await.unwrap();
    assert!(store.authenticate_token("hash-forever", NOW + 50).await.unwrap().is_none(), "revoked");
    assert_not_found(store.revoke_token(a, TokenId(forever.id), NOW + 60).await, "revoke twice");
    let listed = store.tokens(a).await.unwrap();
    assert_eq!(listed[0].revoked_at, Some(NOW + 40));
    assert!(store.tokens(b).await.unwrap().is_empty());
}

async fn workspace_creator_is_owner(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let b = user(store, "b@example.fr").await;
    let w = store.create_workspace("Brand", "America/Montreal", a, NOW).await.unwrap();
    assert_eq!(w.name, "Brand");
    assert_eq!(w.timezone, "America/Montreal");
    assert!(!w.paused);
    assert!(!w.calendar_feed);
    let ws = WorkspaceId(w.id);
    assert_eq!(store.workspace(ws).await.unwrap(), w);
    assert_eq!(store.role_of(ws, a).await.unwrap().as_deref(), Some("owner"));
    assert_eq!(store.role_of(ws, b).await.unwrap(), None);
    assert_eq!(store.owner_count(ws).await.unwrap(), 1);
    let mine = store.workspaces_of(a).await.unwrap();
    assert_eq!(mine, vec![(w.clone(), "owner".to_owned())]);
    assert!(store.workspaces_of(b).await.unwrap().is_empty());
    let members = store.members(ws).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!((members[0].user_id, members[0].role.as_str()), (a.0, "owner"));
    assert_not_found(store.workspace(WorkspaceId(w.id + 1000)).await, "unknown workspace");

    store.set_paused(ws, true, NOW + 1).await.unwrap();
    assert!(store.workspace(ws).await.unwrap().paused);
    store.set_ical_token_hash(ws, Some("ical-hash"), NOW + 2).await.unwrap();
    assert!(store.workspace(ws).await.unwrap().calendar_feed);
    assert_eq!(store.workspace_by_ical_hash("ical-hash").await.unwrap().map(|w| w.id), Some(ws.0));
    assert_not_found(store.set_paused(WorkspaceId(w.id + 1000), true, NOW).await, "pause unknown workspace");
    store.delete_workspace(ws, 1).await.unwrap();
    assert_not_found(store.workspace(ws).await, "deleted workspace");
    assert_eq!(store.role_of(ws, a).await.unwrap(), None, "memberships go with the workspace");
}

async fn tenant_isolation(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let b = user(store, "b@example.fr").await;
    let ws_a = workspace(store, a, "A").await;
    let ws_b = workspace(store, b, "B").await;
    let ch = channel(store, ws_a, "a.example").await;
    let m = media(store, ws_a).await;
    let mut p = write(ws_a, a, &[ch], "scheduled", Some(NOW + 10_000));
    p.media = vec![PostMediaRecord { media_id: m.0, alt: "alt".into() }];
    let post = create_one(store, p.clone()).await;
    store.set_queue_slots(ws_a, ch, &[(1, 540)]).await.unwrap();

    // Reads from workspace B find nothing.
    assert_not_found(store.channel(ws_b, ch).await, "channel() of another workspace");
    assert_not_found(store.post(ws_b, post).await, "post() of another workspace");
    assert_not_found(store.media(ws_b, m).await, "media() of another workspace");
    assert!(store.channels(ws_b).await.unwrap().is_empty());
    assert!(all_posts(store, ws_b).await.is_empty());
    assert!(store.queue_slots(ws_b, ch).await.unwrap().is_empty(), "queue_slots() of another workspace");
    assert!(store.taken_times(ws_b, ch, 0).await.unwrap().is_empty(), "taken_times() of another workspace");
    let filtered = PostFilter { channel: Some(ch), ..everything() };
    assert!(store.posts(ws_b, &filtered).await.unwrap().is_empty());

    // Writes from workspace B change nothing.
    assert_not_found(store.set_queue_slots(ws_b, ch, &[(2, 600)]).await, "set_queue_slots() of another workspace");
    assert_not_found(store.delete_channel(ws_b, ch).await, "delete_channel() of another workspace");
    assert_not_found(store.delete_post(ws_b, post).await, "delete_post() of another workspace");
    assert_conflict(
        store.transition_post(ws_b, post, "scheduled", "draft", None, NOW).await,
        "transition_post() of another workspace",
    );
    let mut hijack = write(ws_b, b, &[], "draft", None);
    hijack.body = r#"{"text":"hijacked"}"#.into();
    assert!(store.replace_post(post, "scheduled", &hijack).await.is_err(), "replace_post() from another workspace");

    // Workspace A's data is intact.
    let c = store.channel(ws_a, ch).await.unwrap();
    assert_eq!(c.workspace_id, ws_a.0);
    assert_eq!(store.queue_slots(ws_a, ch).await.unwrap(), vec![(1, 540)]);
    let got = store.post(ws_a, post).await.unwrap();
    assert_eq!(got.status, "scheduled");
    assert_eq!(got.body, p.body);
    assert_eq!(got.workspace_id, ws_a.0);
    assert_eq!(got.targets, vec![TargetRecord { channel_id: ch.0, variant: None }]);
    assert_eq!(got.media, vec![PostMediaRecord { media_id: m.0, alt: "alt".into() }]);
    assert_eq!(store.media(ws_a, m).await.unwrap().workspace_id, ws_a.0);

    // And the owner can delete them.
    store.delete_post(ws_a, post).await.unwrap();
    assert_not_found(store.post(ws_a, post).await, "deleted post");
    store.delete_channel(ws_a, ch).await.unwrap();
    assert_not_found(store.channel(ws_a, ch).await, "deleted channel");
}

async fn create_posts_cross_tenant_writes_nothing(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let b = user(store, "b@example.fr").await;
    let ws_a = workspace(store, a, "A").await;
    let ws_b = workspace(store, b, "B").await;
    let ch_a = channel(store, ws_a, "a.example").await;
    let ch_b = channel(store, ws_b, "b.example").await;
    let m_a = media(store, ws_a).await;
    create_one(store, write(ws_b, b, &[ch_b], "scheduled", Some(NOW + 1))).await;
    let before_a = ids(&all_posts(store, ws_a).await);
    let before_b = ids(&all_posts(store, ws_b).await);

    // A post of B aimed at A's channel.
    assert_not_found(
        store.create_posts(&[write(ws_b, b, &[ch_a], "scheduled", Some(NOW + 2))]).await,
        "create_posts() with another workspace's channel",
    );
    // A valid post of B followed by one aimed at A's channel, and one with both channels.
    let batch = [
        write(ws_b, b, &[ch_b], "scheduled", Some(NOW + 3)),
        write(ws_b, b, &[ch_b, ch_a], "scheduled", Some(NOW + 4)),
    ];
    assert_not_found(store.create_posts(&batch).await, "create_posts() mixing workspaces");
    // A post of B with A's media.
    let mut with_media = write(ws_b, b, &[ch_b], "scheduled", Some(NOW + 5));
    with_media.media = vec![PostMediaRecord { media_id: m_a.0, alt: String::new() }];
    assert_not_found(store.create_posts(&[with_media]).await, "create_posts() with another workspace's media");

    assert_eq!(ids(&all_posts(store, ws_a).await), before_a, "nothing written in A");
    assert_eq!(ids(&all_posts(store, ws_b).await), before_b, "nothing written in B");
    assert!(store.taken_times(ws_b, ch_b, 0).await.unwrap().len() == 1);
}

async fn create_posts_is_atomic(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let ch = channel(store, ws, "a.example").await;
    let batch = [
        write(ws, a, &[ch], "scheduled", Some(NOW + 1)),
        write(ws, a, &[ch], "draft", None),
        write(ws, a, &[ch, ChannelId(ch.0 + 999)], "scheduled", Some(NOW + 3)),
    ];
    assert_not_found(store.create_posts(&batch).await, "third post names an unknown channel");
    assert!(all_posts(store, ws).await.is_empty(), "an atomic batch writes none of its posts");
    assert!(store.taken_times(ws, ch, 0).await.unwrap().is_empty(), "nor any target");

    let good = [
        write(ws, a, &[ch], "scheduled", Some(NOW + 1)),
        write(ws, a, &[ch], "draft", None),
        write(ws, a, &[ch], "scheduled", Some(NOW + 3)),
    ];
    let created = store.create_posts(&good).await.unwrap();
    assert_eq!(created.len(), 3);
    assert!(created.windows(2).all(|w| w[0].0 < w[1].0), "ids in order: {created:?}");
    for (id, w) in created.iter().zip(&good) {
        let p = store.post(ws, *id).await.unwrap();
        assert_eq!((p.status.as_str(), p.due_at, p.body.as_str()), (w.status.as_str(), w.due_at, w.body.as_str()));
    }
    assert_eq!(all_posts(store, ws).await.len(), 3);
    assert!(store.create_posts(&[]).await.unwrap().is_empty());
}

async fn transition_post_conflicts(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let reviewer = user(store, "r@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let ch = channel(store, ws, "a.example").await;
    let post = create_one(store, write(ws, a, &[ch], "pending_approval", Some(NOW + 10_000))).await;

    assert_conflict(
        store.transition_post(ws, post, "draft", "scheduled", None, NOW + 1).await,
        "transition from a status the post is not in",
    );
    assert_eq!(store.post(ws, post).await.unwrap().status, "pending_approval", "unchanged after a conflict");

    store
        .transition_post(ws, post, "pending_approval", "scheduled", Some((reviewer, Some("looks good"))), NOW + 2)
        .await
        .unwrap();
    let p = store.post(ws, post).await.unwrap();
    assert_eq!(p.status, "scheduled");
    assert_eq!(p.reviewed_by, Some(reviewer.0));
    assert_eq!(p.review_note.as_deref(), Some("looks good"));
    assert_eq!(p.updated_at, NOW + 2);

    // Someone else already acted: the same transition again is a conflict.
    assert_conflict(
        store.transition_post(ws, post, "pending_approval", "rejected", Some((reviewer, None)), NOW + 3).await,
        "second reviewer",
    );
    assert_eq!(store.post(ws, post).await.unwrap().status, "scheduled");
    // A transition without reviewer keeps the recorded review.
    store.transition_post(ws, post, "scheduled", "draft", None, NOW + 4).await.unwrap();
    let p = store.post(ws, post).await.unwrap();
    assert_eq!((p.status.as_str(), p.reviewed_by), ("draft", Some(reviewer.0)));
    assert_conflict(
        store.transition_post(ws, PostId(post.0 + 999), "draft", "scheduled", None, NOW).await,
        "unknown post",
    );
}

async fn expire_pending_only_due_pending(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let b = user(store, "b@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let ws_b = workspace(store, b, "B").await;
    let ch = channel(store, ws, "a.example").await;
    let ch_b = channel(store, ws_b, "b.example").await;
    let now = NOW + 1_000;
    let past = create_one(store, write(ws, a, &[ch], "pending_approval", Some(now - 500))).await;
    let exactly = create_one(store, write(ws, a, &[ch], "pending_approval", Some(now))).await;
    let future = create_one(store, write(ws, a, &[ch], "pending_approval", Some(now + 1))).await;
    let scheduled = create_one(store, write(ws, a, &[ch], "scheduled", Some(now - 500))).await;
    let draft = create_one(store, write(ws, a, &[ch], "draft", Some(now - 500))).await;
    let undated = create_one(store, write(ws, a, &[ch], "pending_approval", None)).await;
    let other_ws = create_one(store, write(ws_b, b, &[ch_b], "pending_approval", Some(now - 1))).await;

    let mut expired = store.expire_pending(now).await.unwrap();
    expired.sort();
    let mut expected = vec![(ws, past), (ws, exactly), (ws_b, other_ws)];
    expected.sort();
    assert_eq!(expired, expected);

    let status = async |w: WorkspaceId, p: PostId| store.post(w, p).await.unwrap().status;
    assert_eq!(status(ws, past).await, "expired");
    assert_eq!(status(ws, exactly).await, "expired");
    assert_eq!(status(ws_b, other_ws).await, "expired");
    assert_eq!(status(ws, future).await, "pending_approval");
    assert_eq!(status(ws, scheduled).await, "scheduled");
    assert_eq!(status(ws, draft).await, "draft");
    assert_eq!(status(ws, undated).await, "pending_approval");
    assert_eq!(store.post(ws, past).await.unwrap().updated_at, now);

    assert!(store.expire_pending(now).await.unwrap().is_empty(), "nothing left to expire");
    assert_eq!(store.expire_pending(now + 1).await.unwrap(), vec![(ws, future)]);
}

async fn taken_times_of_a_channel(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let c1 = channel(store, ws, "one.example").await;
    let c2 = channel(store, ws, "two.example").await;
    let t = NOW;
    create_one(store, write(ws, a, &[c1], "scheduled", Some(t + 1000))).await;
    create_one(store, write(ws, a, &[c1, c2], "pending_approval", Some(t + 2000))).await;
    create_one(store, write(ws, a, &[c1], "draft", Some(t + 3000))).await;
    create_one(store, write(ws, a, &[c1], "expired", Some(t + 4000))).await;
    create_one(store, write(ws, a, &[c1], "rejected", Some(t + 4500))).await;
    create_one(store, write(ws, a, &[c1], "scheduled", Some(t + 500))).await;
    create_one(store, write(ws, a, &[c2], "scheduled", Some(t + 1500))).await;
    create_one(store, write(ws, a, &[c1], "draft", None)).await;

    let mut got = store.taken_times(ws, c1, t + 1000).await.unwrap();
    got.sort_unstable();
    assert_eq!(got, vec![t + 1000, t + 2000]);
    let mut got = store.taken_times(ws, c2, 0).await.unwrap();
    got.sort_unstable();
    assert_eq!(got, vec![t + 1500, t + 2000]);
    assert!(store.taken_times(ws, c1, t + 2001).await.unwrap().is_empty());
}

async fn posts_filters_and_order(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let c1 = channel(store, ws, "one.example").await;
    let c2 = channel(store, ws, "two.example").await;
    let t = NOW;
    // Created out of order on purpose.
    let p300 = create_one(store, write(ws, a, &[c1], "scheduled", Some(t + 300))).await;
    let undated = create_one(store, write(ws, a, &[c1], "draft", None)).await;
    let p100 = create_one(store, write(ws, a, &[c2], "pending_approval", Some(t + 100))).await;
    let p200 = create_one(store, write(ws, a, &[c1, c2], "scheduled", Some(t + 200))).await;
    let negative = create_one(store, write(ws, a, &[c2], "draft", Some(-5))).await;
    let list = async |f: PostFilter| ids(&store.posts(ws, &f).await.unwrap());

    let all = PostFilter { limit: 100, ..Default::default() };
    assert_eq!(list(all.clone()).await, vec![negative.0, p100.0, p200.0, p300.0], "by due time, undated left out");
    assert_eq!(
        list(PostFilter { include_undated: true, ..all.clone() }).await,
        vec![negative.0, p100.0, p200.0, p300.0, undated.0],
        "undated last"
    );
    assert_eq!(
        list(PostFilter { from: Some(t + 100), to: Some(t + 300), ..all.clone() }).await,
        vec![p100.0, p200.0],
        "[from, to)"
    );
    assert_eq!(list(PostFilter { from: Some(t + 101), ..all.clone() }).await, vec![p200.0, p300.0]);
    assert_eq!(list(PostFilter { to: Some(t + 200), ..all.clone() }).await, vec![negative.0, p100.0]);
    assert_eq!(
        list(PostFilter { from: Some(t + 250), include_undated: true, ..all.clone() }).await,
        vec![p300.0, undated.0],
        "undated posts are kept by include_undated whatever the range"
    );
    assert_eq!(list(PostFilter { channel: Some(c1), ..all.clone() }).await, vec![p200.0, p300.0]);
    assert_eq!(
        list(PostFilter { channel: Some(c1), include_undated: true, ..all.clone() }).await,
        vec![p200.0, p300.0, undated.0]
    );
    assert_eq!(list(PostFilter { channel: Some(c2), ..all.clone() }).await, vec![negative.0, p100.0, p200.0]);
    assert_eq!(list(PostFilter { status: Some("scheduled".into()), ..all.clone() }).await, vec![p200.0, p300.0]);
    assert_eq!(
        list(PostFilter { status: Some("draft".into()), include_undated: true, ..all.clone() }).await,
        vec![negative.0, undated.0]
    );
    assert_eq!(
        list(PostFilter { status: Some("scheduled".into()), channel: Some(c2), ..all.clone() }).await,
        vec![p200.0]
    );
    assert_eq!(
        list(PostFilter { limit: 2, include_undated: true, ..all.clone() }).await,
        vec![negative.0, p100.0],
        "limit"
    );
    assert!(list(PostFilter { status: Some("expired".into()), include_undated: true, ..all.clone() }).await.is_empty());
    let hydrated =
        store.posts(ws, &PostFilter { channel: Some(c2), status: Some("scheduled".into()), ..all }).await.unwrap();
    assert_eq!(
        hydrated[0].targets,
        vec![TargetRecord { channel_id: c1.0, variant: None }, TargetRecord { channel_id: c2.0, variant: None }],
        "listed posts carry all their targets"
    );
}

async fn queue_slots_replace(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let c1 = channel(store, ws, "one.example").await;
    let c2 = channel(store, ws, "two.example").await;
    assert!(store.queue_slots(ws, c1).await.unwrap().is_empty());
    store.set_queue_slots(ws, c1, &[(3, 600), (1, 540), (1, 480), (1, 540)]).await.unwrap();
    store.set_queue_slots(ws, c2, &[(7, 1439)]).await.unwrap();
    assert_eq!(
        store.queue_slots(ws, c1).await.unwrap(),
        vec![(1, 480), (1, 540), (3, 600)],
        "ordered, duplicates once"
    );
    store.set_queue_slots(ws, c1, &[(5, 0)]).await.unwrap();
    assert_eq!(store.queue_slots(ws, c1).await.unwrap(), vec![(5, 0)], "replaced, not added");
    assert_eq!(store.queue_slots(ws, c2).await.unwrap(), vec![(7, 1439)], "other channel untouched");
    store.set_queue_slots(ws, c1, &[]).await.unwrap();
    assert!(store.queue_slots(ws, c1).await.unwrap().is_empty());
    assert_not_found(store.set_queue_slots(ws, ChannelId(c2.0 + 999), &[(1, 1)]).await, "unknown channel");
    store.delete_channel(ws, c2).await.unwrap();
    assert!(store.queue_slots(ws, c2).await.unwrap().is_empty(), "slots go with their channel");
}

async fn audit_newest_first(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let ws_b = workspace(store, a, "B").await;
    let entry = |ws: Option<WorkspaceId>, action: &'static str, at: i64| AuditEntry {
        workspace: ws,
        actor: Some(a),
        action,
        target: format!("post:{at}"),
        detail: serde_json::json!({ "n": at, "text": "é\"'" }),
        ip: Some("203.0.113.7"),
        at,
    };
    store.audit(entry(Some(ws), "post.create", 1)).await.unwrap();
    store.audit(entry(Some(ws_b), "channel.create", 2)).await.unwrap();
    store.audit(entry(Some(ws), "post.update", 3)).await.unwrap();
    store.audit(entry(None, "user.login", 4)).await.unwrap();
    store
        .audit(AuditEntry {
            workspace: Some(ws),
            actor: None,
            action: "post.expire",
            target: "post:5".into(),
            detail: serde_json::json!({}),
            ip: None,
            at: 5,
        })
        .await
        .unwrap();

    let log = store.audit_log(ws, 10).await.unwrap();
    assert_eq!(
        log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        vec!["post.expire", "post.update", "post.create"]
    );
    assert!(log.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let newest = &log[0];
    assert_eq!((newest.actor_id, newest.ip.as_deref(), newest.workspace_id), (None, None, Some(ws.0)));
    let oldest = &log[2];
    assert_eq!(oldest.actor_id, Some(a.0));
    assert_eq!(oldest.target, "post:1");
    assert_eq!(oldest.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(oldest.at, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&oldest.detail).unwrap(),
        serde_json::json!({ "n": 1, "text": "é\"'" })
    );
    assert_eq!(
        store.audit_log(ws, 2).await.unwrap().iter().map(|r| r.at).collect::<Vec<_>>(),
        vec![5, 3],
        "limit keeps the newest"
    );
    assert_eq!(store.audit_log(ws_b, 10).await.unwrap().len(), 1);
}

async fn membership_changes(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let b = user(store, "b@example.fr").await;
    let ws = workspace(store, a, "A").await;
    store.upsert_member(ws, b, "editor", NOW).await.unwrap();
    assert_eq!(store.role_of(ws, b).await.unwrap().as_deref(), Some("editor"));
    let members = store.members(ws).await.unwrap();
    assert_eq!(
        members.iter().map(|m| (m.user_id, m.role.as_str())).collect::<Vec<_>>(),
        vec![(a.0, "owner"), (b.0, "editor")]
    );
    assert_eq!(members[1].email, "b@example.fr");
    assert_eq!(store.owner_count(ws).await.unwrap(), 1);

    store.upsert_member(ws, b, "owner", NOW + 1).await.unwrap();
    assert_eq!(store.role_of(ws, b).await.unwrap().as_deref(), Some("owner"));
    assert_eq!(store.owner_count(ws).await.unwrap(), 2);
    assert_eq!(store.members(ws).await.unwrap().len(), 2, "upsert changes the role, adds no row");

    store.upsert_member(ws, a, "viewer", NOW + 2).await.unwrap();
    assert_eq!(store.owner_count(ws).await.unwrap(), 1);
    assert_eq!(store.workspaces_of(a).await.unwrap()[0].1, "viewer");

    store.remove_member(ws, b).await.unwrap();
    assert_eq!(store.role_of(ws, b).await.unwrap(), None);
    assert_eq!(store.owner_count(ws).await.unwrap(), 0);
    assert_not_found(store.remove_member(ws, b).await, "remove twice");
    assert!(store.workspaces_of(b).await.unwrap().is_empty());
}

async fn credentials_bytes_round_trip(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let mut bytes: Vec<u8> = vec![0x00, 0xFF, 0x00, 0x00, 0xFF, 0x80, 0x7F];
    bytes.extend(0..=255u8);
    bytes.extend((0..=255u8).rev());
    bytes.push(0x00);
    let new = |handle: &'static str, credentials: Option<Vec<u8>>| NewChannel {
        workspace: ws,
        network: "mastodon",
        handle,
        display_name: "Display ✨",
        instance_url: Some("https://example.social"),
        credentials,
        limits: Some(r#"{"max_characters":500}"#.into()),
        now: NOW,
    };
    let created = store.create_channel(new("@a@example.social", Some(bytes.clone()))).await.unwrap();
    assert_eq!(created.credentials.as_deref(), Some(bytes.as_slice()), "RETURNING gives the bytes back");
    let id = ChannelId(created.id);
    let read = store.channel(ws, id).await.unwrap();
    assert_eq!(read.credentials.as_deref(), Some(bytes.as_slice()), "bytes read back exactly");
    assert_eq!(read, created);
    assert_eq!(read.instance_url.as_deref(), Some("https://example.social"));
    assert_eq!(read.limits.as_deref(), Some(r#"{"max_characters":500}"#));
    assert_eq!(read.display_name, "Display ✨");
    assert_eq!(store.channels(ws).await.unwrap()[0].credentials.as_deref(), Some(bytes.as_slice()));

    let none = store.create_channel(new("@b@example.social", None)).await.unwrap();
    assert_eq!(store.channel(ws, ChannelId(none.id)).await.unwrap().credentials, None);
    let zeros = vec![0u8; 64];
    let z = store.create_channel(new("@c@example.social", Some(zeros.clone()))).await.unwrap();
    assert_eq!(store.channel(ws, ChannelId(z.id)).await.unwrap().credentials, Some(zeros));

    assert_conflict(store.create_channel(new("@a@example.social", None)).await, "same handle twice on one network");
}

async fn replace_post_children(store: &Store) {
    let a = user(store, "a@example.fr").await;
    let ws = workspace(store, a, "A").await;
    let c1 = channel(store, ws, "one.example").await;
    let c2 = channel(store, ws, "two.example").await;
    let m = media(store, ws).await;
    let mut first = write(ws, a, &[c1], "draft", None);
    first.media = vec![PostMediaRecord { media_id: m.0, alt: "one".into() }];
    let post = create_one(store, first).await;

    let mut second = write(ws, a, &[c2], "scheduled", Some(NOW + 100));
    second.targets[0].variant = Some("variant".into());
    second.now = NOW + 1;
    store.replace_post(post, "draft", &second).await.unwrap();
    let p = store.post(ws, post).await.unwrap();
    assert_eq!(p.status, "scheduled");
    assert_eq!(p.due_at, Some(NOW + 100));
    assert_eq!(p.targets, vec![TargetRecord { channel_id: c2.0, variant: Some("variant".into()) }]);
    assert!(p.media.is_empty());
    assert_eq!(p.updated_at, NOW + 1);

    assert_conflict(store.replace_post(post, "draft", &second).await, "replace with a stale status");
    // A replacement naming an unknown channel fails and leaves the post as it was.
    let mut bad = write(ws, a, &[ChannelId(c2.0 + 999)], "draft", None);
    bad.body = r#"{"text":"bad"}"#.into();
    assert_not_found(store.replace_post(post, "scheduled", &bad).await, "replace with an unknown channel");
    let after = store.post(ws, post).await.unwrap();
    assert_eq!(after, p, "a failed replace changes nothing");
}

/// A claimed batch loads its posts, channels, policies and parts at once; a post whose targets
/// all ended but whose own status was never written (the worker died in between) is settled by
/// the repair, and only that one.
async fn delivery_batch_and_crash_repair(store: &Store) {
    use relais_store::delivery::TargetUpdate;
    let owner = user(store, "cm@example.fr").await;
    let ws = workspace(store, owner, "Brand").await;
    let (a, b) = (channel(store, ws, "a").await, channel(store, ws, "b").await);
    let both = create_one(store, write(ws, owner, &[a, b], "scheduled", Some(NOW))).await;
    let single = create_one(store, write(ws, owner, &[a], "scheduled", Some(NOW))).await;
    let later = create_one(store, write(ws, owner, &[a], "scheduled", Some(NOW + 60_000))).await;
    let claimed = store.claim_due(NOW, "w1", NOW + 60_000, 10).await.expect("claim");
    assert_eq!(claimed.len(), 3);
    store.store_part_key(both, a, 0, "key-0", "w1").await.expect("store key");

    let batch = store.delivery_batch(&claimed).await.expect("batch");
    let mut posts: Vec<i64> = batch.posts.keys().copied().collect();
    posts.sort_unstable();
    assert_eq!(posts, vec![both.0, single.0]);
    assert_eq!(batch.posts[&both.0].targets.len(), 2);
    assert_eq!(batch.channels.len(), 2);
    assert_eq!(batch.late_publish_secs.get(&ws.0), Some(&3600));
    assert_eq!(batch.parts[&(both.0, a.0)].iter().map(|p| p.idempotency_key.as_str()).collect::<Vec<_>>(), ["key-0"]);
    assert!(!batch.parts.contains_key(&(both.0, b.0)));

    // Both targets of `both` end, one target of `single` ends; nobody settles (a crash).
    let done = |state| TargetUpdate { state, ..Default::default() };
    store.update_target(both, a, "w1", done("published")).await.expect("a published");
    store.update_target(both, b, "w1", done("failed")).await.expect("b failed");
    assert_eq!(store.settle_finished_posts(NOW).await.expect("repair").len(), 1, "only `both` has ended");
    store.update_target(single, a, "w1", done("published")).await.expect("single published");
    let settled = store.settle_finished_posts(NOW).await.expect("repair");
    assert_eq!(settled.iter().map(|s| (s.id, s.status.as_str())).collect::<Vec<_>>(), [(single.0, "published")]);
    let statuses: Vec<(i64, String)> = all_posts(store, ws).await.into_iter().map(|p| (p.id, p.status)).collect();
    assert!(statuses.contains(&(both.0, "failed".into())), "{statuses:?}");
    assert!(statuses.contains(&(later.0, "scheduled".into())), "{statuses:?}");
    assert!(store.settle_finished_posts(NOW).await.expect("repair").is_empty(), "idempotent");
}

/// An OAuth request in flight is taken once, only in its workspace, and only before it expires.
async fn oauth_pending_taken_once_in_its_workspace(store: &Store) {
    use relais_store::oauth::OauthPending;
    let owner = user(store, "cm@example.fr").await;
    let (a, b) = (workspace(store, owner, "A").await, workspace(store, owner, "B").await);
    let pending = |state: &str, expires_at| OauthPending {
        state: state.into(),
        workspace_id: a.0,
        network: "mastodon".into(),
        instance_url: "https://m.example".into(),
        redirect_uri: "urn:ietf:wg:oauth:2.0:oob".into(),
        client_id: "id".into(),
        client_secret_sealed: vec![1, 2, 3, 0, 255],
        created_by: owner.0,
        expires_at,
    };
    store.create_oauth_pending(&pending("s1", NOW + 1_000), NOW).await.expect("create");
    store.create_oauth_pending(&pending("s2", NOW + 1_000), NOW).await.expect("create");
    assert_not_found(store.take_oauth_pending(b, "s1", NOW).await, "another workspace");
    let taken = store.take_oauth_pending(a, "s1", NOW).await.expect("take");
    assert_eq!(taken, pending("s1", NOW + 1_000));
    assert_not_found(store.take_oauth_pending(a, "s1", NOW).await, "used once");
    assert_not_found(store.take_oauth_pending(a, "s2", NOW + 1_000).await, "expired");
    // Creating a request forgets the expired ones.
    store.create_oauth_pending(&pending("s3", NOW + 1_000), NOW).await.expect("create");
    store.create_oauth_pending(&pending("s4", NOW + 5_000), NOW + 2_000).await.expect("create");
    assert_not_found(store.take_oauth_pending(a, "s3", NOW).await, "purged");
}

/// The search index follows mentions and erasures by id: a new mention's id is above every id
/// handed out before, even after the newest mention was erased (SQLite alone would give its rowid
/// again), and a deleted workspace's mentions are logged as erased.
async fn mention_ids_follow_commits(store: &Store) {
    use relais_store::listen::Erase;
    let owner = user(store, "cm@example.fr").await;
    let (a, b) = (workspace(store, owner, "A").await, workspace(store, owner, "B").await);
    let mention = |ws: WorkspaceId, external_id: &str| relais_store::testing::mention(ws.0, external_id, NOW, vec![]);
    let first = store.insert_mentions(&[mention(a, "1"), mention(a, "2"), mention(b, "3")]).await.expect("insert");
    let first: Vec<i64> = first.into_iter().map(|id| id.expect("stored")).collect();
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    // Already stored: skipped, and the next new one still gets a higher id.
    let again = store.insert_mentions(&[mention(b, "3"), mention(a, "4")]).await.expect("insert");
    assert_eq!(again[0], None);
    let four = again[1].expect("stored");
    assert!(four > first[2], "{four} after {first:?}");
    assert_eq!(store.erase_mentions(a, Erase::Ids(&[four]), NOW).await.expect("erase"), vec![four]);
    let five = store.insert_mentions(&[mention(a, "5")]).await.expect("insert")[0].expect("stored");
    assert!(five > four, "the id {four} of an erased mention was handed out again as {five}");
    let log = store.mention_erasures_after(0, 10).await.expect("erasures");
    assert_eq!(log.iter().map(|e| e.1).collect::<Vec<_>>(), vec![four]);
    assert_eq!(
        store.mentions_after(four, 10).await.expect("after").iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![five]
    );
    // Each mention comes with the queries it matched, in order.
    let fields = |name| relais_store::listen::QueryFields { name, query: "relais", sensitivity: "off", min_volume: 1 };
    let q1 = store.create_listen_query(b, &fields("un"), None, NOW).await.expect("query").id;
    let q2 = store.create_listen_query(b, &fields("deux"), None, NOW).await.expect("query").id;
    let linked = [
        relais_store::testing::mention(b.0, "6", NOW, vec![q2, q1]),
        relais_store::testing::mention(b.0, "7", NOW, vec![]),
        relais_store::testing::mention(b.0, "8", NOW, vec![q2]),
    ];
    let ids = store.insert_mentions(&linked).await.expect("insert");
    let after = store.mentions_after(five, 10).await.expect("after");
    let got: Vec<(i64, Vec<i64>)> = after.into_iter().map(|m| (m.id, m.query_ids)).collect();
    let expected: Vec<(i64, Vec<i64>)> =
        ids.into_iter().map(Option::unwrap).zip([vec![q1.min(q2), q1.max(q2)], vec![], vec![q2]]).collect();
    assert_eq!(got, expected);

    // Batches of several full statements (the cached ones) and a shorter last one, twice over
    // the same connection (on SQLite, the store's one bulk connection), the second half
    // duplicates: every new mention stored once, with its links.
    let bulk = |from: usize, to: usize| -> Vec<_> {
        (from..to).map(|i| relais_store::testing::mention(b.0, &format!("bulk-{i}"), NOW, vec![q1, q2])).collect()
    };
    let mut stored = Vec::new();
    for (from, to) in [(0, 2_100), (1_050, 3_150), (3_150, 4_200)] {
        let ids = store.insert_mentions(&bulk(from, to)).await.expect("bulk insert");
        let new: Vec<i64> = ids.iter().flatten().copied().collect();
        assert_eq!(new.len(), to - from.max(stored.len()), "{from}..{to}");
        stored.extend(new);
    }
    assert_eq!(stored.len(), 4_200);
    assert!(stored.windows(2).all(|w| w[0] < w[1]));
    let linked_last = expected.iter().map(|(id, _)| *id).max().expect("linked mentions");
    let read = store.mentions_after(linked_last, 5_000).await.expect("after");
    assert_eq!(read.iter().map(|m| m.id).collect::<Vec<_>>(), stored);
    assert!(read.iter().all(|m| m.query_ids == vec![q1.min(q2), q1.max(q2)]));
    assert_eq!(store.mention_count_in(stored[0]..=stored[stored.len() - 1]).await.expect("count"), 4_200);

    // Deleting workspace A logs its remaining mentions as erased, after the erasure before.
    store.delete_workspace(a, NOW).await.expect("delete");
    let log = store.mention_erasures_after(log[0].0, 10).await.expect("erasures");
    let mut erased: Vec<i64> = log.iter().map(|e| e.1).collect();
    erased.sort_unstable();
    assert_eq!(erased, vec![first[0], first[1], five]);
    assert!(store.mentions_after(0, 10).await.expect("after").iter().all(|m| m.workspace_id == b.0));
    assert_not_found(store.delete_workspace(a, NOW).await, "deleted twice");
}

/// The pipeline matches a post against the queries it knew, then stores it: a query (or a whole
/// workspace) deleted in between must not make the batch fail, or the writer would retry it
/// forever. The mention is stored with the links of the queries that still exist in its own
/// workspace (and counted in their series only); a deleted workspace's mentions are not stored.
/// The batch handed to the index loses the same links.
async fn mentions_outlive_deleted_queries(store: &Store) {
    let owner = user(store, "cm@example.fr").await;
    let (a, b) = (workspace(store, owner, "A").await, workspace(store, owner, "B").await);
    let c = workspace(store, owner, "C").await;
    let fields = |name| relais_store::listen::QueryFields { name, query: "relais", sensitivity: "off", min_volume: 1 };
    let kept = store.create_listen_query(a, &fields("kept"), None, NOW).await.expect("query").id;
    let gone = store.create_listen_query(a, &fields("gone"), None, NOW).await.expect("query").id;
    let in_b = store.create_listen_query(b, &fields("b"), None, NOW).await.expect("query").id;
    let in_c = store.create_listen_query(c, &fields("c"), None, NOW).await.expect("query").id;
    store.delete_listen_query(a, gone).await.expect("delete query");
    store.delete_workspace(b, NOW).await.expect("delete workspace");
    let mention = |ws: WorkspaceId, id: &str, q: Vec<i64>| relais_store::testing::mention(ws.0, id, NOW, q);
    let mut batch =
        vec![mention(a, "1", vec![kept, gone, in_c]), mention(a, "2", vec![gone]), mention(b, "3", vec![in_b])];
    let inserted = store.insert_mentions_reserving(&batch).await.expect("a deleted query or workspace fails nothing");
    assert_eq!(inserted.workspaces_gone, [b.0], "the deleted workspace");
    inserted.drop_unstored_links(&mut batch);
    assert_eq!(batch.iter().map(|m| m.query_ids.clone()).collect::<Vec<_>>(), [vec![kept], vec![], vec![]]);
    let ids = inserted.ids;
    assert!(ids[0].is_some() && ids[1].is_some(), "{ids:?}");
    assert_eq!(ids[2], None, "a deleted workspace's mention is not stored");
    let stored = store.mentions_after(0, 10).await.expect("after");
    let got: Vec<(i64, Vec<i64>)> = stored.into_iter().map(|m| (m.id, m.query_ids)).collect();
    assert_eq!(got, vec![(ids[0].unwrap(), vec![kept]), (ids[1].unwrap(), vec![])]);
    let series = store.listen_series(kept, NOW - 1_000_000, NOW + 1_000_000).await.expect("series");
    assert_eq!(series.iter().map(|p| p.volume).sum::<i64>(), 1);
}

/// A workspace or a listening query created after the newest one was deleted takes a new id
/// (SQLite hands the highest rowid out again by itself): posts in flight in the listening
/// pipeline still carry the deleted one's id, and must not reach the new row, another tenant's.
async fn deleted_ids_are_never_handed_out_again(store: &Store) {
    let owner = user(store, "cm@example.fr").await;
    let a = workspace(store, owner, "A").await;
    let b = workspace(store, owner, "B").await;
    store.delete_workspace(b, NOW).await.expect("delete workspace");
    let c = workspace(store, owner, "C").await;
    assert!(c.0 > b.0, "workspace {} took the id of deleted workspace {}", c.0, b.0);
    let fields = |name| relais_store::listen::QueryFields { name, query: "relais", sensitivity: "off", min_volume: 1 };
    let first = store.create_listen_query(a, &fields("first"), None, NOW).await.expect("query").id;
    let newest = store.create_listen_query(a, &fields("newest"), None, NOW).await.expect("query").id;
    store.delete_listen_query(a, newest).await.expect("delete query");
    let next = store.create_listen_query(c, &fields("next"), None, NOW).await.expect("query").id;
    assert!(next > newest && newest > first, "query {next} after deleted query {newest}");
    // The workspace's row and its owner are there as before.
    assert_eq!(store.workspace(c).await.expect("workspace").name, "C");
    assert_eq!(store.workspaces_of(owner).await.expect("workspaces").len(), 2);
}

/// Workspaces and listening queries created at the same moment (several requests, several pool
/// connections) all succeed and get distinct ids: on SQLite each takes its id from the mark in
/// `listen_id_marks`, whose `UPDATE` is the transaction's first statement, so the transactions
/// queue for the write lock instead of failing on a lock upgrade or reading the same mark.
async fn ids_created_at_once_are_distinct(store: &Store) {
    const AT_ONCE: usize = 24;
    let owner = user(store, "cm@example.fr").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..AT_ONCE {
        let store = store.clone();
        tasks.spawn(async move { store.create_workspace(&format!("W{i}"), "Europe/Paris", owner, NOW).await });
    }
    let mut ids: Vec<i64> =
        tasks.join_all().await.into_iter().map(|w| w.expect("workspace created at once").id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), AT_ONCE, "workspaces created at once share ids: {ids:?}");
    assert_eq!(store.workspaces_of(owner).await.expect("workspaces").len(), AT_ONCE);

    let ws = WorkspaceId(ids[0]);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..AT_ONCE {
        let store = store.clone();
        tasks.spawn(async move {
            let name = format!("q{i}");
            let fields =
                relais_store::listen::QueryFields { name: &name, query: "relais", sensitivity: "off", min_volume: 1 };
            store.create_listen_query(ws, &fields, None, NOW).await
        });
    }
    let mut ids: Vec<i64> = tasks.join_all().await.into_iter().map(|q| q.expect("query created at once").id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), AT_ONCE, "queries created at once share ids: {ids:?}");
}

/// Mentions and erasures written beside the id marks (the marks restored from an older backup than
/// the tables, rows imported or inserted by hand) are never collided with: the next batch's
/// mentions are all stored, under new ids (above an erased one too), none taken for a duplicate,
/// and the rows already there are untouched. (A collision dropped the new mention on SQLite, whose
/// bulk insert ignores conflicting rows, and failed the batch on PostgreSQL.)
async fn rows_written_beside_the_marks_are_not_collided_with(store: &Store) {
    let owner = user(store, "cm@example.fr").await;
    let a = workspace(store, owner, "A").await;
    let mention = |external_id: &str| relais_store::testing::mention(a.0, external_id, NOW, vec![]);
    let first = store.insert_mentions(&[mention("1")]).await.expect("insert")[0].expect("new");
    // Rows written around the store: a mention (text `restored <id>`), an erasure log entry.
    let beside_mention = |ws: WorkspaceId, id: i64| {
        format!(
            "INSERT INTO mentions (id, workspace_id, source, external_id, text, lang, sentiment, sentiment_label, \
             published_at, received_at) VALUES ({id}, {}, 'rss', 'restored-{id}', 'restored {id}', 'fr', 0, \
             'neutral', {NOW}, {NOW})",
            ws.0
        )
    };
    let beside_erasure = |id: i64, mention: i64| {
        format!("INSERT INTO mention_erasures (id, mention_id, erased_at) VALUES ({id}, {mention}, {NOW})")
    };
    let write = |sql: String| async move {
        assert_eq!(relais_store::testing::execute_unchecked(store, &sql).await.expect("a row beside the mark"), 1);
    };
    // The next three ids the mark would hand out, taken by rows written beside it.
    for id in first + 1..=first + 3 {
        write(beside_mention(a, id)).await;
    }
    // The newest of them erased: its id must not come back either (the index would drop the new
    // mention with the erasure).
    let erased = store.erase_mentions(a, relais_store::listen::Erase::Ids(&[first + 3]), NOW).await.expect("erase");
    assert_eq!(erased, [first + 3]);
    let ids = store.insert_mentions(&[mention("2"), mention("3")]).await.expect("insert after them");
    assert!(ids.iter().all(Option::is_some), "a new mention taken for a duplicate: {ids:?}");
    assert!(ids.iter().flatten().all(|id| *id > first + 3), "ids {ids:?} at or below a row already there");
    let stored = store.mentions_after(0, 10).await.expect("after");
    let texts: Vec<(i64, String)> = stored.into_iter().map(|m| (m.id, m.text)).collect();
    assert_eq!(
        texts,
        vec![
            (first, "relais 1".to_owned()),
            (first + 1, format!("restored {}", first + 1)),
            (first + 2, format!("restored {}", first + 2)),
            (ids[0].unwrap(), "relais 2".to_owned()),
            (ids[1].unwrap(), "relais 3".to_owned()),
        ]
    );
    // The erasure log likewise: an entry written beside its mark is followed, not overwritten.
    let (log_id, logged) = store.mention_erasures_after(0, 10).await.expect("erasures")[0];
    assert_eq!(logged, first + 3);
    write(beside_erasure(log_id + 1, first + 1)).await;
    store.erase_mentions(a, relais_store::listen::Erase::Ids(&[first]), NOW).await.expect("erase after it");
    let log = store.mention_erasures_after(0, 10).await.expect("erasures");
    assert_eq!(log.iter().map(|e| e.1).collect::<Vec<_>>(), [logged, first + 1, first], "{log:?}");
    // A deleted workspace's newest mention, written beside the mark, is kept from coming back too.
    let b = workspace(store, owner, "B").await;
    let beside = ids[1].unwrap() + 1;
    write(beside_mention(b, beside)).await;
    store.delete_workspace(b, NOW).await.expect("delete workspace");
    let next = store.insert_mentions(&[mention("4")]).await.expect("insert")[0].expect("new");
    assert!(next > beside, "mention {next} took the id of the deleted workspace's mention {beside}");
    // An erasure log restored beside the mark, naming mentions above it that are gone.
    write(beside_erasure(log_id + 100, next + 10)).await;
    let after = store.insert_mentions(&[mention("5")]).await.expect("insert")[0].expect("new");
    assert!(after > next + 10, "mention {after} took an erased id ({})", next + 10);
}
