//! Listening: stored queries, sources, mentions (posts that matched a query, with their
//! enrichment), which queries each matched, 5-minute series per query, and spike alerts.
//!
//! A mention is unique per workspace by `(source, external_id)`: a post seen twice (a feed polled
//! again, a stream replayed from a cursor, an export ingested twice) is stored once. Writing a batch
//! of mentions, their query links and the series counts is one transaction: a batch is either
//! wholly stored or not at all, so a crash never leaves a mention counted twice or not at all.

use crate::{Backend, Store, StoreError, StoreResult, found, numbered};
use relais_domain::ids::WorkspaceId;
use serde::Serialize;
use std::collections::HashMap;

/// The marks of `listen_id_marks`, each handing out the ids of the table of its name
/// ([`Store::reserve_ids`]; workspaces and queries on SQLite only, [`Store::raise_id_mark`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdMark {
    Mentions,
    MentionErasures,
    Workspaces,
    ListenQueries,
}

impl IdMark {
    /// The table, which is also the mark's name.
    fn table(self) -> &'static str {
        match self {
            IdMark::Mentions => "mentions",
            IdMark::MentionErasures => "mention_erasures",
            IdMark::Workspaces => "workspaces",
            IdMark::ListenQueries => "listen_queries",
        }
    }
}

/// Width of a stored series bucket: 5 minutes.
pub const BUCKET_MS: i64 = 5 * 60 * 1000;

/// A stored listening query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ListenQueryRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// What people call it ("Brand", "Competitor X", "Launch campaign").
    pub name: String,
    /// The query, in the listening query language (as typed).
    pub query: String,
    /// Spike alerts: `off`, `low`, `medium` or `high`.
    pub sensitivity: String,
    /// No spike alert below this many mentions in a bucket.
    pub min_volume: i64,
    /// Who created it.
    pub created_by: Option<i64>,
    /// Creation time (UTC ms).
    pub created_at: i64,
    /// Last change (UTC ms).
    pub updated_at: i64,
}

/// What a query is made of, to create or replace one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFields<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its text (already validated by the parser).
    pub query: &'a str,
    /// `off`, `low`, `medium`, `high`.
    pub sensitivity: &'a str,
    /// Minimum volume for a spike alert.
    pub min_volume: i64,
}

/// A mention to store: one post, enriched, and the queries of the workspace it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMention {
    /// The workspace.
    pub workspace_id: i64,
    /// Where it came from.
    pub source: String,
    /// Its identifier at the source (or a content hash).
    pub external_id: String,
    /// A link to it.
    pub url: Option<String>,
    /// Its author.
    pub author: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its text.
    pub text: String,
    /// Detected (or declared) language.
    pub lang: String,
    /// Sentiment score in [-1, 1].
    pub sentiment: f64,
    /// `negative`, `neutral`, `positive`.
    pub sentiment_label: String,
    /// Its near-duplicate story.
    pub story_id: i64,
    /// Publication time (UTC ms).
    pub published_at: i64,
    /// When Relais received it (UTC ms).
    pub received_at: i64,
    /// The queries it matched (at least one).
    pub query_ids: Vec<i64>,
}

/// What [`Store::insert_mentions_reserving`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedMentions {
    /// For each input, its new id, or `None` when it was already stored.
    pub ids: Vec<Option<i64>>,
    /// The ids the transaction reserved (empty for an empty batch): the new mentions' ids are
    /// among them, and no other mention will ever have one.
    pub reserved: std::ops::Range<i64>,
    /// When some links were not stored (a query deleted since the post was matched, or not of
    /// the mention's workspace): the batch's queries that exist, with their workspace (see
    /// [`Self::drop_unstored_links`]). `None` when every link was stored.
    pub unlinked: Option<HashMap<i64, i64>>,
    /// The batch's workspaces deleted since its posts were matched: their mentions were not
    /// stored (their `ids` are `None`, as for a mention already stored).
    pub workspaces_gone: Vec<i64>,
}

impl InsertedMentions {
    /// Removes from `batch` (the batch as given) the query ids whose links were not stored.
    pub fn drop_unstored_links(&self, batch: &mut [NewMention]) {
        if let Some(queries) = &self.unlinked {
            for m in batch {
                let workspace = m.workspace_id;
                m.query_ids.retain(|&q| link_stored(queries, workspace, q));
            }
        }
    }
}

/// Whether the link of a mention of `workspace` to `query` is stored, `queries` being the batch's
/// existing queries with their workspace: a query deleted since the post was matched, or of
/// another workspace (SQLite handed a deleted row's id out again before migration 0009), gets no
/// link.
fn link_stored(queries: &HashMap<i64, i64>, workspace: i64, query: i64) -> bool {
    queries.get(&query) == Some(&workspace)
}

/// A stored mention.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MentionRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// Where it came from (`rss`, `bluesky`, `mastodon`, `ingest`…).
    pub source: String,
    /// Its identifier at the source.
    pub external_id: String,
    /// A link to it.
    pub url: Option<String>,
    /// Its author.
    pub author: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its text.
    pub text: String,
    /// Language.
    pub lang: String,
    /// Sentiment score in [-1, 1].
    pub sentiment: f64,
    /// `negative`, `neutral`, `positive`.
    pub sentiment_label: String,
    /// Near-duplicate story: mentions with the same story are copies of one message.
    pub story_id: Option<i64>,
    /// Publication time (UTC ms).
    pub published_at: i64,
    /// Reception time (UTC ms).
    pub received_at: i64,
    /// The queries it matched.
    #[sqlx(skip)]
    pub query_ids: Vec<i64>,
}

/// A mention with its query links as one comma-separated list ([`Store::mentions_after`]).
#[derive(sqlx::FromRow)]
struct MentionWithLinks {
    #[sqlx(flatten)]
    mention: MentionRecord,
    links: Option<String>,
}

/// Which mentions [`Store::erase_mentions`] erases (always within one workspace).
#[derive(Debug, Clone, Copy)]
pub enum Erase<'a> {
    /// These mention ids.
    Ids(&'a [i64]),
    /// These posts of a source (a post deleted on its network).
    External {
        /// The source (`bluesky`…).
        source: &'a str,
        /// The posts' ids at the source.
        external_ids: &'a [String],
    },
    /// Every mention by this author (as stored), whatever the source: an erasure request.
    Author(&'a str),
    /// Every post of a source whose id starts with `prefix` (`at://did:plc:…/`: an account).
    ExternalPrefix {
        /// The source.
        source: &'a str,
        /// The prefix of the posts' ids.
        prefix: &'a str,
    },
}

/// Which mentions to list. Every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentionFilter {
    /// Matched this query.
    pub query_id: Option<i64>,
    /// From this source.
    pub source: Option<String>,
    /// In this language.
    pub lang: Option<String>,
    /// With this sentiment label.
    pub sentiment: Option<String>,
    /// Published at or after (UTC ms).
    pub from: Option<i64>,
    /// Published before (UTC ms).
    pub to: Option<i64>,
    /// Only mentions listed after this one (newest first: published earlier, or same time and
    /// smaller id): the cursor of the previous page's last mention `(published_at, id)`.
    pub after: Option<(i64, i64)>,
}

/// A point of a query's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SeriesPoint {
    /// Start of the bucket (UTC ms).
    pub bucket_start: i64,
    /// Mentions in the bucket.
    pub volume: i64,
    /// Negative mentions in the bucket.
    pub negative: i64,
}

/// A stored spike alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ListenAlertRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// The query whose series spiked.
    pub query_id: i64,
    /// `volume` or `negative_share`.
    pub rule: String,
    /// `elevated`, `high`, `critical`.
    pub severity: String,
    /// Start of the bucket that triggered it (UTC ms).
    pub bucket_start: i64,
    /// The detector's figures and the series around the spike (JSON).
    pub detail: String,
    /// When it was raised (UTC ms).
    pub created_at: i64,
}

/// An alert to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAlert<'a> {
    /// The workspace.
    pub workspace: WorkspaceId,
    /// The query whose series spiked.
    pub query_id: i64,
    /// `volume` or `negative_share`.
    pub rule: &'a str,
    /// `elevated`, `high`, `critical`.
    pub severity: &'a str,
    /// Start of the bucket that fired (UTC ms).
    pub bucket_start: i64,
    /// The detector's figures and the series (JSON).
    pub detail: &'a str,
}

/// A listening source of a workspace (a feed, a Mastodon timeline, the Bluesky stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ListenSourceRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// `rss`, `mastodon_tag`, `mastodon_public`, `bluesky_stream`, `bluesky_search`.
    pub kind: String,
    /// What it reads: the feed URL, `https://instance#tag`, the stream's server, the search.
    pub target: String,
    /// The poller's state (JSON: validators, cursors, backoff).
    #[serde(skip)]
    pub state: String,
    /// Polled (1) or paused (0).
    #[serde(serialize_with = "crate::as_bool")]
    #[schema(value_type = bool)]
    pub enabled: i64,
    /// Next poll (UTC ms).
    pub next_poll_at: i64,
    /// Last successful poll (UTC ms).
    pub last_ok_at: Option<i64>,
    /// Why the last poll failed, for people (French and English), if it did.
    pub last_error: Option<String>,
    /// Creation time (UTC ms).
    pub created_at: i64,
}

const QUERY_COLUMNS: &str =
    "id, workspace_id, name, query, sensitivity, min_volume, created_by, created_at, updated_at";
const MENTION_COLUMNS: &str = "m.id, m.workspace_id, m.source, m.external_id, m.url, m.author, m.title, m.text, m.lang, \
     m.sentiment, m.sentiment_label, m.story_id, m.published_at, m.received_at";
const ALERT_COLUMNS: &str = "id, workspace_id, query_id, rule, severity, bucket_start, detail, created_at";
const SOURCE_COLUMNS: &str =
    "id, workspace_id, kind, target, state, enabled, next_poll_at, last_ok_at, last_error, created_at";
/// Mentions per INSERT statement (14 values each: well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters).
const MENTION_CHUNK: usize = 1000;

/// `($1,$2,…),(…)…` for `rows` rows of `cols` values; with `anonymous`, `(?,?,…)` instead: SQLite
/// looks a numbered parameter's name up in a list (quadratic in the number of parameters: 58 % of
/// the time of a 1,000-mention batch, measured with perf), an anonymous one by position.
fn placeholders_rows(rows: usize, cols: usize, anonymous: bool) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            if anonymous {
                s.push('?');
            } else {
                s.push('$');
                s.push_str(&(r * cols + c + 1).to_string());
            }
        }
        s.push(')');
    }
    s
}

impl Store {
    /// Bumps the workspace's query version (inside the caller's transaction).
    async fn bump_listen_version(conn: &mut sqlx::AnyConnection, ws: WorkspaceId) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO listen_versions (workspace_id, version) VALUES ($1, 1) \
             ON CONFLICT (workspace_id) DO UPDATE SET version = listen_versions.version + 1",
        )
        .bind(ws.0)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The workspace's query version: it changes whenever a query is created, changed or deleted.
    pub async fn listen_version(&self, ws: WorkspaceId) -> StoreResult<i64> {
        let v: Option<(i64,)> = sqlx::query_as("SELECT version FROM listen_versions WHERE workspace_id = $1")
            .bind(ws.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.map_or(0, |v| v.0))
    }

    /// Creates a query.
    pub async fn create_listen_query(
        &self,
        ws: WorkspaceId,
        q: &QueryFields<'_>,
        created_by: Option<i64>,
        now: i64,
    ) -> StoreResult<ListenQueryRecord> {
        let mut tx = self.pool.begin().await?;
        let id = Self::raise_id_mark(&mut tx, self.backend, IdMark::ListenQueries).await?;
        let (id_column, id_value) = if id.is_some() { (", id", ", $8") } else { ("", "") };
        let insert = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO listen_queries (workspace_id, name, query, sensitivity, min_volume, created_by, created_at, \
             updated_at{id_column}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7{id_value}) RETURNING {QUERY_COLUMNS}"
        )))
        .bind(ws.0)
        .bind(q.name)
        .bind(q.query)
        .bind(q.sensitivity)
        .bind(q.min_volume)
        .bind(created_by)
        .bind(now);
        let rec: ListenQueryRecord = match id {
            Some(id) => insert.bind(id),
            None => insert,
        }
        .fetch_one(&mut *tx)
        .await?;
        Self::bump_listen_version(&mut tx, ws).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Replaces a query's fields.
    pub async fn update_listen_query(
        &self,
        ws: WorkspaceId,
        id: i64,
        q: &QueryFields<'_>,
        now: i64,
    ) -> StoreResult<ListenQueryRecord> {
        let mut tx = self.pool.begin().await?;
        let rec: Option<ListenQueryRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE listen_queries SET name = $3, query = $4, sensitivity = $5, min_volume = $6, updated_at = $7 \
             WHERE id = $1 AND workspace_id = $2 RETURNING {QUERY_COLUMNS}"
        )))
        .bind(id)
        .bind(ws.0)
        .bind(q.name)
        .bind(q.query)
        .bind(q.sensitivity)
        .bind(q.min_volume)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let rec = rec.ok_or(StoreError::NotFound)?;
        Self::bump_listen_version(&mut tx, ws).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Deletes a query (its links to mentions, series and alerts go with it; the mentions stay).
    pub async fn delete_listen_query(&self, ws: WorkspaceId, id: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        found(
            sqlx::query("DELETE FROM listen_queries WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(ws.0)
                .execute(&mut *tx)
                .await?,
        )?;
        Self::bump_listen_version(&mut tx, ws).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One query of the workspace.
    pub async fn listen_query(&self, ws: WorkspaceId, id: i64) -> StoreResult<ListenQueryRecord> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {QUERY_COLUMNS} FROM listen_queries WHERE id = $1 AND workspace_id = $2"
        )))
        .bind(id)
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// The workspace's queries, oldest first.
    pub async fn listen_queries(&self, ws: WorkspaceId) -> StoreResult<Vec<ListenQueryRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {QUERY_COLUMNS} FROM listen_queries WHERE workspace_id = $1 ORDER BY id"
        )))
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every query with spike alerts on, all workspaces (for the detector's pass).
    pub async fn alerting_listen_queries(&self) -> StoreResult<Vec<ListenQueryRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {QUERY_COLUMNS} FROM listen_queries WHERE sensitivity <> 'off' ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a batch of mentions in one transaction: each new mention with its query links, and
    /// the 5-minute series of each query counted. A mention already stored (same workspace,
    /// source and external id) is skipped and not counted again. Returns, for each input, its new
    /// id, or `None` when it was already stored.
    pub async fn insert_mentions(&self, batch: &[NewMention]) -> StoreResult<Vec<Option<i64>>> {
        Ok(self.insert_mentions_reserving(batch).await?.ids)
    }

    /// [`Self::insert_mentions`], also saying which ids the transaction reserved: every mention
    /// with an id in that range is one of this batch's (the others are never used), and every
    /// mention with a smaller id was committed before. What follows the table by id (the search
    /// index) can take the batch as it is instead of reading it back.
    pub async fn insert_mentions_reserving(&self, batch: &[NewMention]) -> StoreResult<InsertedMentions> {
        let mut ids: Vec<Option<i64>> = vec![None; batch.len()];
        if batch.is_empty() {
            return Ok(InsertedMentions { ids, reserved: 0..0, unlinked: None, workspaces_gone: Vec::new() });
        }
        let anonymous = self.backend == Backend::Sqlite;
        let mut tx = self.bulk.begin().await?;
        // Input `i` gets id `first + i` (an id not used, when the mention is already stored, is
        // skipped for good: ids need not be dense).
        let first = Self::reserve_ids(&mut tx, self.backend, IdMark::Mentions, batch.len()).await?;
        // The pipeline matched these posts against the queries it knew: a query, or a workspace,
        // may have been deleted since. Its links are dropped (and a deleted workspace's mentions),
        // instead of failing the batch on a foreign key, which the writer would retry forever.
        // Checked under the write lock (SQLite), or with the rows locked until the end (PostgreSQL).
        // A link is kept only to a query of the mention's own workspace (a rule that does not rest
        // on ids never being handed out again, which holds only since migration 0009 on SQLite).
        let workspaces =
            Self::existing_ids(&mut tx, "workspaces", "id", batch.iter().map(|m| m.workspace_id), anonymous).await?;
        let queries = Self::existing_ids(
            &mut tx,
            "listen_queries",
            "workspace_id",
            batch.iter().flat_map(|m| m.query_ids.iter().copied()),
            anonymous,
        )
        .await?;
        let links_kept = batch.iter().all(|m| m.query_ids.iter().all(|&q| link_stored(&queries, m.workspace_id, q)));
        // SQLite: `OR IGNORE` rather than `ON CONFLICT … DO NOTHING`, so that no constraint of these
        // statements can abort them (see `BULK_PRAGMAS`).
        let (or_ignore, on_conflict) = if anonymous {
            ("OR IGNORE", "")
        } else {
            ("", "ON CONFLICT (workspace_id, source, external_id) DO NOTHING")
        };
        // A deleted workspace's mentions are not stored.
        let mut workspaces_gone: Vec<i64> =
            batch.iter().map(|m| m.workspace_id).filter(|w| !workspaces.contains_key(w)).collect();
        workspaces_gone.sort_unstable();
        workspaces_gone.dedup();
        let kept: Vec<usize> =
            (0..batch.len()).filter(|&i| !workspaces_gone.contains(&batch[i].workspace_id)).collect();
        let mut links: Vec<(i64, i64, i64)> = Vec::new();
        let mut series: HashMap<(i64, i64), (i64, i64)> = HashMap::new();
        for chunk in kept.chunks(MENTION_CHUNK) {
            let sql = format!(
                "INSERT {or_ignore} INTO mentions (id, workspace_id, source, external_id, url, author, title, text, \
                 lang, sentiment, sentiment_label, story_id, published_at, received_at) VALUES {} {on_conflict}",
                placeholders_rows(chunk.len(), 14, anonymous)
            );
            // A full chunk is always the same statement: kept in the connection's statement cache
            // (a few MB, on the one bulk connection on SQLite), since compiling a thousand rows'
            // worth of SQL cost about a tenth of the pipeline's CPU at full match rates. A last,
            // shorter chunk is not kept.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(chunk.len() == MENTION_CHUNK);
            for &i in chunk {
                let m = &batch[i];
                q = q
                    .bind(first + i as i64)
                    .bind(m.workspace_id)
                    .bind(&m.source)
                    .bind(&m.external_id)
                    .bind(m.url.as_deref())
                    .bind(m.author.as_deref())
                    .bind(m.title.as_deref())
                    .bind(&m.text)
                    .bind(&m.lang)
                    .bind(if m.sentiment.is_nan() { 0.0 } else { m.sentiment })
                    .bind(&m.sentiment_label)
                    .bind(m.story_id)
                    .bind(m.published_at)
                    .bind(m.received_at);
            }
            // Usually every row is new, and then its id is the one it was given (no row sent back:
            // `RETURNING` cost a message from the driver's thread per row). Otherwise the chunk's
            // ids that exist now are the new rows: nobody else writes ids reserved here.
            let chunk_ids = chunk.iter().map(|&i| first + i as i64);
            let (from, to) = (first + chunk[0] as i64, first + chunk[chunk.len() - 1] as i64 + 1);
            let inserted = q.execute(&mut *tx).await?.rows_affected();
            let new_ids: Vec<i64> = if inserted == chunk.len() as u64 {
                chunk_ids.collect()
            } else {
                let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM mentions WHERE id >= $1 AND id < $2")
                    .bind(from)
                    .bind(to)
                    .fetch_all(&mut *tx)
                    .await?;
                rows.into_iter().map(|(id,)| id).collect()
            };
            for id in new_ids {
                let Some(i) = usize::try_from(id - first).ok().filter(|&i| i < batch.len()) else { continue };
                let m = &batch[i];
                ids[i] = Some(id);
                let bucket = m.published_at.div_euclid(BUCKET_MS) * BUCKET_MS;
                let negative = i64::from(m.sentiment_label == "negative");
                for q in m.query_ids.iter().filter(|&&q| link_stored(&queries, m.workspace_id, q)) {
                    links.push((*q, id, m.published_at));
                    let e = series.entry((*q, bucket)).or_insert((0, 0));
                    e.0 += 1;
                    e.1 += negative;
                }
            }
        }
        for chunk in links.chunks(MENTION_CHUNK * 4) {
            let sql = format!(
                "INSERT {or_ignore} INTO mention_queries (query_id, mention_id, published_at) VALUES {} {}",
                placeholders_rows(chunk.len(), 3, anonymous),
                if anonymous { "" } else { "ON CONFLICT DO NOTHING" }
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(chunk.len() == MENTION_CHUNK * 4);
            for (query, mention, at) in chunk {
                q = q.bind(*query).bind(*mention).bind(*at);
            }
            q.execute(&mut *tx).await?;
        }
        let series: Vec<_> = series.into_iter().collect();
        for chunk in series.chunks(MENTION_CHUNK * 2) {
            let sql = format!(
                "INSERT INTO listen_series (query_id, bucket_start, volume, negative) VALUES {} \
                 ON CONFLICT (query_id, bucket_start) DO UPDATE SET volume = listen_series.volume + excluded.volume, \
                 negative = listen_series.negative + excluded.negative",
                placeholders_rows(chunk.len(), 4, anonymous)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
            for ((query, bucket), (volume, negative)) in chunk {
                q = q.bind(*query).bind(*bucket).bind(*volume).bind(*negative);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let unlinked = (!links_kept).then_some(queries);
        Ok(InsertedMentions { ids, reserved: first..first + batch.len() as i64, unlinked, workspaces_gone })
    }

    /// Which of `ids` are rows of `table` now (`workspaces` or `listen_queries`), each with its
    /// workspace (the column `workspace`), in the transaction `tx`; on PostgreSQL they stay locked
    /// against deletion until it ends (on SQLite the transaction already holds the write lock).
    async fn existing_ids(
        tx: &mut sqlx::AnyConnection,
        table: &str,
        workspace: &str,
        ids: impl Iterator<Item = i64>,
        anonymous: bool,
    ) -> StoreResult<HashMap<i64, i64>> {
        let mut ids: Vec<i64> = ids.collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = if anonymous { vec!["?"; chunk.len()].join(", ") } else { numbered(1, chunk.len()) };
            let lock = if anonymous { "" } else { " FOR KEY SHARE" };
            let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(format!(
                "SELECT id, {workspace} FROM {table} WHERE id IN ({list}){lock}"
            )));
            for id in chunk {
                q = q.bind(*id);
            }
            found.extend(q.fetch_all(&mut *tx).await?);
        }
        Ok(found)
    }

    /// Reserves `n` ids of the table of `mark` in `tx`, and returns the first: the caller's rows
    /// take `first..first + n`. It must be the transaction's first statement: on SQLite it takes
    /// the write lock before anything is read; on PostgreSQL the mark's row stays locked until the
    /// transaction ends. Either way the next writer's ids come after these and are committed after
    /// them, and no id is handed out twice, whatever was deleted since (see migration 0008).
    ///
    /// The ids also come after the table's own largest, and mention ids after every erased one:
    /// rows written beside the marks (the marks restored from an older backup than the tables,
    /// rows imported or inserted by hand) are never collided with. A collision with a row would
    /// drop the new mention on SQLite, silently (the bulk insert ignores conflicting rows, see
    /// `BULK_PRAGMAS`, and the old row was taken for it), and fail the batch on every retry on
    /// PostgreSQL; an erased id handed out again would have the search index drop the new mention
    /// with the erasure.
    pub(crate) async fn reserve_ids(
        tx: &mut sqlx::AnyConnection,
        backend: Backend,
        mark: IdMark,
        n: usize,
    ) -> StoreResult<i64> {
        let table = mark.table();
        let greatest = if backend == Backend::Postgres { "GREATEST" } else { "MAX" };
        // Mentions: above every erased id too (an index lookup, migration 0010).
        let erased = match mark {
            IdMark::Mentions => ", (SELECT COALESCE(MAX(mention_id), 0) FROM mention_erasures)",
            _ => "",
        };
        let (last,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE listen_id_marks SET last = {greatest}(last, (SELECT COALESCE(MAX(id), 0) FROM {table}){erased}) \
             + $2 WHERE name = $1 RETURNING last"
        )))
        .bind(table)
        .bind(n as i64)
        .fetch_one(&mut *tx)
        .await?;
        Ok(last - n as i64 + 1)
    }

    /// On SQLite, raises the id mark `mark` (workspaces or listening queries) in `tx`, which must
    /// then insert the row with the id returned: SQLite would hand the id of the newest row out
    /// again once it is deleted (see migration 0009). `None` on PostgreSQL, whose sequences never
    /// do. A missing mark is an error, not a silent fallback to SQLite's own (reusing) choice.
    pub(crate) async fn raise_id_mark(
        tx: &mut sqlx::AnyConnection,
        backend: Backend,
        mark: IdMark,
    ) -> StoreResult<Option<i64>> {
        if backend == Backend::Postgres {
            return Ok(None);
        }
        Ok(Some(Self::reserve_ids(tx, backend, mark, 1).await?))
    }

    /// Attaches the matched query ids to mentions.
    async fn with_query_ids(&self, mut mentions: Vec<MentionRecord>) -> StoreResult<Vec<MentionRecord>> {
        let ids: Vec<i64> = mentions.iter().map(|m| m.id).collect();
        let links: Vec<(i64, i64)> = self
            .fetch_in(&ids, |list| {
                format!(
                    "SELECT mention_id, query_id FROM mention_queries WHERE mention_id IN ({list}) ORDER BY query_id"
                )
            })
            .await?;
        let mut by_mention: HashMap<i64, Vec<i64>> = HashMap::new();
        for (mention, query) in links {
            by_mention.entry(mention).or_default().push(query);
        }
        for m in &mut mentions {
            m.query_ids = by_mention.remove(&m.id).unwrap_or_default();
        }
        Ok(mentions)
    }

    /// The workspace's mentions, newest first, filtered, at most `limit`.
    pub async fn mentions(&self, ws: WorkspaceId, f: &MentionFilter, limit: i64) -> StoreResult<Vec<MentionRecord>> {
        let mut sql = format!("SELECT {MENTION_COLUMNS} FROM mentions m WHERE m.workspace_id = $1");
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if f.query_id.is_some() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM mention_queries mq WHERE mq.mention_id = m.id AND mq.query_id = {})",
                next()
            ));
        }
        for (value, column) in [(&f.source, "m.source"), (&f.lang, "m.lang"), (&f.sentiment, "m.sentiment_label")] {
            if value.is_some() {
                sql.push_str(&format!(" AND {column} = {}", next()));
            }
        }
        if f.from.is_some() {
            sql.push_str(&format!(" AND m.published_at >= {}", next()));
        }
        if f.to.is_some() {
            sql.push_str(&format!(" AND m.published_at < {}", next()));
        }
        if f.after.is_some() {
            let (a, b, c) = (next(), next(), next());
            sql.push_str(&format!(" AND (m.published_at < {a} OR (m.published_at = {b} AND m.id < {c}))"));
        }
        sql.push_str(&format!(" ORDER BY m.published_at DESC, m.id DESC LIMIT {}", next()));
        let mut q = sqlx::query_as::<_, MentionRecord>(sqlx::AssertSqlSafe(sql)).bind(ws.0);
        if let Some(v) = f.query_id {
            q = q.bind(v);
        }
        for v in [&f.source, &f.lang, &f.sentiment].into_iter().flatten() {
            q = q.bind(v.clone());
        }
        for v in [f.from, f.to].into_iter().flatten() {
            q = q.bind(v);
        }
        if let Some((at, id)) = f.after {
            q = q.bind(at).bind(at).bind(id);
        }
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        self.with_query_ids(rows).await
    }

    /// The workspace's mentions with these ids, in the order given (unknown ids, or another
    /// workspace's, are left out).
    pub async fn mentions_by_ids(&self, ws: WorkspaceId, ids: &[i64]) -> StoreResult<Vec<MentionRecord>> {
        let rows: Vec<MentionRecord> = self
            .fetch_in(ids, |list| {
                format!(
                    "SELECT {MENTION_COLUMNS} FROM mentions m WHERE m.workspace_id = {ws} AND m.id IN ({list})",
                    ws = ws.0
                )
            })
            .await?;
        let mut by_id: HashMap<i64, MentionRecord> = rows.into_iter().map(|m| (m.id, m)).collect();
        let ordered = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        self.with_query_ids(ordered).await
    }

    /// Erases a workspace's mentions chosen by `which` (with their query links) and logs their ids
    /// for the search index ([`Self::mention_erasures_after`]); returns the erased ids. The
    /// volume series keep their counts (they hold no content).
    pub async fn erase_mentions(&self, ws: WorkspaceId, which: Erase<'_>, now: i64) -> StoreResult<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        // First, so that the whole erasure holds the write lock (see `reserve_ids`).
        Self::reserve_ids(&mut tx, self.backend, IdMark::MentionErasures, 0).await?;
        let mut ids: Vec<i64> = Vec::new();
        match which {
            Erase::Ids(list) => {
                for chunk in list.chunks(500) {
                    let sql = format!(
                        "SELECT id FROM mentions WHERE workspace_id = $1 AND id IN ({})",
                        numbered(2, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql)).bind(ws.0);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    ids.extend(q.fetch_all(&mut *tx).await?.into_iter().map(|(id,)| id));
                }
            }
            Erase::External { source, external_ids } => {
                for chunk in external_ids.chunks(500) {
                    let sql = format!(
                        "SELECT id FROM mentions WHERE workspace_id = $1 AND source = $2 AND external_id IN ({})",
                        numbered(3, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql)).bind(ws.0).bind(source);
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    ids.extend(q.fetch_all(&mut *tx).await?.into_iter().map(|(id,)| id));
                }
            }
            Erase::Author(author) => {
                let rows: Vec<(i64,)> =
                    sqlx::query_as("SELECT id FROM mentions WHERE workspace_id = $1 AND author = $2")
                        .bind(ws.0)
                        .bind(author)
                        .fetch_all(&mut *tx)
                        .await?;
                ids.extend(rows.into_iter().map(|(id,)| id));
            }
            Erase::ExternalPrefix { source, prefix } => {
                // substr, not LIKE: exact and case-sensitive on both backends, nothing to escape.
                let rows: Vec<(i64,)> = sqlx::query_as(
                    "SELECT id FROM mentions WHERE workspace_id = $1 AND source = $2 \
                     AND substr(external_id, 1, CAST($3 AS INTEGER)) = $4",
                )
                .bind(ws.0)
                .bind(source)
                .bind(prefix.chars().count() as i64)
                .bind(prefix)
                .fetch_all(&mut *tx)
                .await?;
                ids.extend(rows.into_iter().map(|(id,)| id));
            }
        }
        let first = Self::reserve_ids(&mut tx, self.backend, IdMark::MentionErasures, ids.len()).await?;
        for (chunk_no, chunk) in ids.chunks(500).enumerate() {
            let list = numbered(1, chunk.len());
            for sql in [
                format!("DELETE FROM mention_queries WHERE mention_id IN ({list})"),
                format!("DELETE FROM mentions WHERE id IN ({list})"),
            ] {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
            let sql = format!(
                "INSERT INTO mention_erasures (id, mention_id, erased_at) VALUES {}",
                placeholders_rows(chunk.len(), 3, false)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, id) in chunk.iter().enumerate() {
                q = q.bind(first + (chunk_no * 500 + i) as i64).bind(*id).bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Erasures logged after `after` (their log id, the erased mention id), oldest first.
    pub async fn mention_erasures_after(&self, after: i64, limit: i64) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as("SELECT id, mention_id FROM mention_erasures WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Mentions of every workspace with an id above `after`, by id (the search index catching up).
    pub async fn mentions_after(&self, after: i64, limit: i64) -> StoreResult<Vec<MentionRecord>> {
        // Each mention's query links come in its own row, as one list (`1,4`): a row per link
        // would be a message per link from the SQLite driver's thread (2.2 per mention at full
        // match rates), read by the indexer's every pass.
        let links = match self.backend {
            Backend::Sqlite => "group_concat(query_id)",
            Backend::Postgres => "string_agg(query_id::text, ',')",
        };
        let rows: Vec<MentionWithLinks> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MENTION_COLUMNS}, (SELECT {links} FROM mention_queries q WHERE q.mention_id = m.id) AS links \
             FROM mentions m WHERE m.id > $1 ORDER BY m.id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|MentionWithLinks { mut mention, links }| {
                for id in links.as_deref().unwrap_or_default().split(',').filter(|s| !s.is_empty()) {
                    let id = id.parse().map_err(|_| StoreError::Database(format!("unreadable query link {id:?}")))?;
                    mention.query_ids.push(id);
                }
                mention.query_ids.sort_unstable();
                Ok(mention)
            })
            .collect()
    }

    /// Number of mentions, all workspaces, with an id in `ids` (the indexer checking that mentions
    /// handed to it were not erased since: a range of the primary key, no row read).
    pub async fn mention_count_in(&self, ids: std::ops::RangeInclusive<i64>) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mentions WHERE id >= $1 AND id <= $2")
            .bind(*ids.start())
            .bind(*ids.end())
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Number of mentions stored in a workspace.
    pub async fn mention_count(&self, ws: WorkspaceId) -> StoreResult<i64> {
        // Ids start at 1.
        self.mention_count_after(ws, 0).await
    }

    /// Mentions of a workspace with an id above `after` (stored, not yet indexed).
    pub async fn mention_count_after(&self, ws: WorkspaceId, after: i64) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mentions WHERE workspace_id = $1 AND id > $2")
            .bind(ws.0)
            .bind(after)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// A query's 5-minute series between `from` (included) and `to` (excluded); buckets without
    /// mentions are absent.
    pub async fn listen_series(&self, query_id: i64, from: i64, to: i64) -> StoreResult<Vec<SeriesPoint>> {
        Ok(sqlx::query_as(
            "SELECT bucket_start, volume, negative FROM listen_series WHERE query_id = $1 AND bucket_start >= $2 \
             AND bucket_start < $3 ORDER BY bucket_start",
        )
        .bind(query_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores an alert unless the same query, rule and bucket already raised one; returns it when
    /// it is new.
    pub async fn insert_listen_alert(&self, a: &NewAlert<'_>, now: i64) -> StoreResult<Option<ListenAlertRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO listen_alerts (workspace_id, query_id, rule, severity, bucket_start, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (query_id, rule, bucket_start) DO NOTHING \
             RETURNING {ALERT_COLUMNS}"
        )))
        .bind(a.workspace.0)
        .bind(a.query_id)
        .bind(a.rule)
        .bind(a.severity)
        .bind(a.bucket_start)
        .bind(a.detail)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The workspace's alerts, newest first (of one query when given).
    pub async fn listen_alerts(
        &self,
        ws: WorkspaceId,
        query_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ListenAlertRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM listen_alerts WHERE workspace_id = $1 AND ($2 = 0 OR query_id = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(ws.0)
        .bind(query_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The latest alert of a query by a rule.
    pub async fn last_listen_alert(&self, query_id: i64, rule: &str) -> StoreResult<Option<ListenAlertRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM listen_alerts WHERE query_id = $1 AND rule = $2 \
             ORDER BY bucket_start DESC LIMIT 1"
        )))
        .bind(query_id)
        .bind(rule)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Adds a source to a workspace, due at once.
    pub async fn create_listen_source(
        &self,
        ws: WorkspaceId,
        kind: &str,
        target: &str,
        state: &str,
        now: i64,
    ) -> StoreResult<ListenSourceRecord> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO listen_sources (workspace_id, kind, target, state, enabled, next_poll_at, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING {SOURCE_COLUMNS}"
        )))
        .bind(ws.0)
        .bind(kind)
        .bind(target)
        .bind(state)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The workspace's sources.
    pub async fn listen_sources(&self, ws: WorkspaceId) -> StoreResult<Vec<ListenSourceRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SOURCE_COLUMNS} FROM listen_sources WHERE workspace_id = $1 ORDER BY id"
        )))
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Removes a source.
    pub async fn delete_listen_source(&self, ws: WorkspaceId, id: i64) -> StoreResult<()> {
        found(
            sqlx::query("DELETE FROM listen_sources WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(ws.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Claims the sources due at `now` (at most `limit`): each is pushed `lease_ms` into the
    /// future so that another worker does not poll it at the same time; the poll's outcome then
    /// sets the real next time with [`Store::listen_source_polled`].
    pub async fn claim_listen_sources(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<ListenSourceRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE listen_sources SET next_poll_at = $1 + $2 WHERE id IN (SELECT id FROM listen_sources \
             WHERE enabled = 1 AND next_poll_at <= $1 ORDER BY next_poll_at LIMIT $3) RETURNING {SOURCE_COLUMNS}"
        )))
        .bind(now)
        .bind(lease_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a poll's outcome: the new state, the next poll time, and the error if it failed.
    pub async fn listen_source_polled(
        &self,
        id: i64,
        state: &str,
        next_poll_at: i64,
        ok_at: Option<i64>,
        error: Option<&str>,
    ) -> StoreResult<()> {
        found(
            sqlx::query(
                "UPDATE listen_sources SET state = $2, next_poll_at = $3, last_ok_at = COALESCE($4, last_ok_at), \
                 last_error = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(state)
            .bind(next_poll_at)
            .bind(ok_at)
            .bind(error)
            .execute(&self.pool)
            .await?,
        )
    }
}
