//! Listening (« veille »): the workspace's stored queries, the posts that match them (mentions),
//! their series and spike alerts, and the pipeline that takes posts in.
//!
//! Queries are parsed and validated by `relais-query`; a workspace's queries are compiled into one
//! `relais-listen` matcher, cached per process and rebuilt when the workspace's query version in
//! the database changes (so a query edited through one process is used by every other). Posts
//! arrive from the ingest endpoint and the sources; [`pipeline`] enriches, matches, groups and
//! stores them.

pub mod pipeline;
pub mod search;
pub mod sources;
pub mod spikes;

use crate::{Actor, App, AppError, AppResult};
use pipeline::{IngestReport, Pipeline, PipelineConfig, PipelineStats};
use relais_domain::Msg;
use relais_domain::ids::WorkspaceId;
use relais_domain::listen::IncomingPost;
use relais_domain::permissions::Action;
use relais_listen::enrich::{Enricher, Enrichment};
use relais_listen::matcher::Matcher;
use relais_query::{Doc, Node};
use relais_store::listen::{
    BUCKET_MS, Erase, ListenAlertRecord, ListenQueryRecord, MentionFilter, MentionRecord, NewMention, QueryFields,
    SeriesPoint,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Most queries a workspace may store.
pub const MAX_QUERIES: usize = 2_000;
/// Longest post text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Most posts in one ingest request.
pub const MAX_POSTS_PER_REQUEST: usize = 100_000;

/// A workspace's queries compiled into one matcher.
#[derive(Debug)]
pub struct Compiled {
    /// The workspace's query version this was compiled from.
    pub version: i64,
    /// The matcher; its results index `query_ids`.
    pub matcher: Matcher,
    /// The stored query of each matcher index.
    pub query_ids: Vec<i64>,
}

/// The listening state of a process: the enricher (built once), the compiled matchers, the
/// pipeline (started on first use).
#[derive(Default)]
pub struct Listening {
    enricher: OnceLock<Arc<Enricher>>,
    compiled: Mutex<HashMap<i64, Arc<Compiled>>>,
    pipeline: OnceLock<Pipeline>,
    config: PipelineConfig,
    index: search::IndexSlot,
    /// The AppView where Bluesky authors read through a relay are looked up; none by default
    /// (the binary sets `relais_networks::sources::bluesky::DEFAULT_APPVIEW` unless told
    /// otherwise).
    bluesky_appview: Option<url::Url>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Listening {
    /// Listening with these pipeline sizes.
    pub fn with_config(config: PipelineConfig) -> Self {
        Self { config, ..Self::default() }
    }

    /// The same, looking Bluesky authors read through a relay up at `appview` (see
    /// `relais_networks::sources::bluesky::FirehoseConfig::appview`).
    pub fn with_bluesky_appview(self, appview: Option<url::Url>) -> Self {
        Self { bluesky_appview: appview, ..self }
    }

    /// Where Bluesky authors read through a relay are looked up.
    pub fn bluesky_appview(&self) -> Option<&url::Url> {
        self.bluesky_appview.as_ref()
    }

    /// The enricher (lexicons parsed on first use).
    pub fn enricher(&self) -> Arc<Enricher> {
        self.enricher.get_or_init(|| Arc::new(Enricher::new())).clone()
    }
}

/// A query to create or replace.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryInput {
    /// Its name (1 to 100 characters).
    pub name: String,
    /// The query, in the listening query language (see `docs/listening.md`).
    pub query: String,
    /// Spike alerts: `off`, `low`, `medium` (default) or `high`.
    #[serde(default)]
    pub sensitivity: Option<String>,
    /// No spike alert below this many mentions in a bucket (default 10, 1 to 1,000,000).
    #[serde(default)]
    pub min_volume: Option<i64>,
}

/// A query checked: its canonical form, or where it is wrong.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryCheck {
    /// Whether the query is valid.
    pub valid: bool,
    /// The canonical form (what Relais understood), when valid.
    pub canonical: Option<String>,
    /// The error, when not valid.
    pub error: Option<QueryProblem>,
}

/// Where and why a query is wrong.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryProblem {
    /// Stable code.
    pub code: String,
    /// Byte offset in the query.
    pub offset: usize,
    /// 1-based character column.
    pub column: usize,
    /// In English.
    pub message_en: String,
    /// In French.
    pub message_fr: String,
}

/// One sample post to test a query on.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplePost {
    /// Its text.
    pub text: String,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
    /// Declared language.
    #[serde(default)]
    pub lang: Option<String>,
    /// Author.
    #[serde(default)]
    pub author: Option<String>,
    /// Link (its domain is what `site:` looks at).
    #[serde(default)]
    pub url: Option<String>,
    /// Source.
    #[serde(default)]
    pub source: Option<String>,
}

/// A query tried on samples and on the workspace's stored mentions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryTest {
    /// For each sample, whether it matches and why, node by node.
    pub samples: Vec<SampleResult>,
    /// Stored mentions looked at (the latest, at most 5,000).
    pub archive_checked: usize,
    /// How many of them match.
    pub archive_matches: usize,
    /// Ids of the first matching ones (at most 20).
    pub archive_examples: Vec<i64>,
}

/// A query tried on one sample.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SampleResult {
    /// Whether the sample matches.
    pub matches: bool,
    /// The language used (declared or detected).
    pub lang: String,
    /// Each node of the query (parents before children) with its outcome.
    pub steps: Vec<ExplainStep>,
}

/// One node of a query on one post.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExplainStep {
    /// Nesting depth (0: the whole query).
    pub depth: usize,
    /// Whether the node holds.
    pub holds: bool,
    /// The node, in canonical form.
    pub node: String,
    /// Why, in English.
    pub why_en: String,
    /// Why, in French.
    pub why_fr: String,
}

/// The enrichment of one post and what the matcher reads of it.
pub(crate) struct PostPrepared {
    enrichment: Enrichment,
    domain: Option<String>,
}

impl PostPrepared {
    pub(crate) fn of(post: &IncomingPost, enricher: &Enricher) -> Self {
        let enrichment = enricher.enrich(&post.text, post.lang.as_deref());
        let domain = post.url.as_deref().and_then(domain_of);
        Self { enrichment, domain }
    }

    pub(crate) fn doc<'a>(&'a self, post: &'a IncomingPost) -> Doc<'a> {
        Doc {
            text: &post.text,
            title: post.title.as_deref(),
            lang: Some(self.enrichment.lang.as_str()),
            author: post.author.as_deref(),
            domain: self.domain.as_deref(),
            source: Some(&post.source),
        }
    }

    pub(crate) fn into_mention(
        self,
        post: IncomingPost,
        workspace: i64,
        story_id: i64,
        received_at: i64,
        query_ids: Vec<i64>,
    ) -> NewMention {
        let external_id = post.external_id.clone().unwrap_or_else(|| content_id(&post));
        NewMention {
            workspace_id: workspace,
            source: post.source,
            external_id,
            url: post.url,
            author: post.author,
            title: post.title,
            text: post.text,
            lang: self.enrichment.lang.as_str().to_owned(),
            sentiment: f64::from(self.enrichment.sentiment.score),
            sentiment_label: self.enrichment.sentiment.label.as_str().to_owned(),
            story_id,
            published_at: post.published_at.unwrap_or(received_at),
            received_at,
            query_ids,
        }
    }
}

/// The host of an http(s) URL, lower case.
pub(crate) fn domain_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed.host_str().map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

/// An identifier for a post its source gave none: a hash of what makes it this post, so that the
/// same post ingested twice is stored once.
fn content_id(post: &IncomingPost) -> String {
    let mut h = sha2::Sha256::new();
    for part in [post.author.as_deref(), post.title.as_deref(), Some(post.text.as_str()), post.url.as_deref()] {
        h.update(part.unwrap_or("").as_bytes());
        h.update([0]);
    }
    h.update(post.published_at.map(|t| t.to_string()).unwrap_or_default().as_bytes());
    format!("sha256:{}", hex::encode(&h.finalize()[..16]))
}

fn query_error(e: &relais_query::QueryError) -> AppError {
    AppError::invalid_with(
        "invalid_query",
        Msg::new(
            format!("the query is not valid at column {}: {}", e.column, e.message.en),
            format!("la requête n'est pas valide à la colonne {} : {}", e.column, e.message.fr),
        ),
        vec![serde_json::json!({
            "field": "query", "code": e.code.as_str(), "offset": e.pos, "column": e.column,
            "message": {"en": e.message.en, "fr": e.message.fr},
        })],
    )
}

/// What to erase: mention ids, or every mention by an author (exactly one of the two).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseInput {
    /// Mention ids (1 to 10,000).
    pub ids: Option<Vec<i64>>,
    /// An author's handle, as stored on the mentions.
    pub author: Option<String>,
}

/// How many mentions were erased.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct EraseReport {
    /// Mentions erased (ids of another workspace or already erased are not counted).
    pub erased: u64,
}

pub(crate) fn invalid(field: &str, en: String, fr: String) -> AppError {
    AppError::invalid_with(
        "invalid_input",
        Msg::new(en.clone(), fr.clone()),
        vec![serde_json::json!({"field": field, "message": {"en": en, "fr": fr}})],
    )
}

/// Checks a query input completely; returns the fields to store.
fn check_query(input: &QueryInput) -> AppResult<(String, String, String, i64)> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid(
            "name",
            "the name must have 1 to 100 characters".into(),
            "le nom doit avoir de 1 à 100 caractères".into(),
        ));
    }
    let query = input.query.trim();
    relais_query::parse(query).map_err(|e| query_error(&e))?;
    let sensitivity = input.sensitivity.as_deref().unwrap_or("medium").trim().to_ascii_lowercase();
    if !matches!(sensitivity.as_str(), "off" | "low" | "medium" | "high") {
        return Err(invalid(
            "sensitivity",
            format!("unknown sensitivity `{sensitivity}` (off, low, medium, high)"),
            format!("sensibilité inconnue « {sensitivity} » (off, low, medium, high)"),
        ));
    }
    let min_volume = input.min_volume.unwrap_or(10);
    if !(1..=1_000_000).contains(&min_volume) {
        return Err(invalid(
            "min_volume",
            "the minimum volume must be between 1 and 1,000,000".into(),
            "le volume minimal doit être compris entre 1 et 1 000 000".into(),
        ));
    }
    Ok((name.to_owned(), query.to_owned(), sensitivity, min_volume))
}

/// Checks and normalises one incoming post (`line` numbers the post in the request, from 1).
pub fn check_post(post: &mut IncomingPost, line: usize, now_ms: i64) -> Result<(), serde_json::Value> {
    let problem = |field: &str, en: String, fr: String| serde_json::json!({"line": line, "field": field, "message": {"en": en, "fr": fr}});
    let source = post.source.trim().to_ascii_lowercase();
    post.source = if source.is_empty() { "ingest".to_owned() } else { source };
    if post.source.len() > 32 || !post.source.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(problem(
            "source",
            "the source must be 1 to 32 letters, digits, `-` or `_`".into(),
            "la source doit faire de 1 à 32 lettres, chiffres, « - » ou « _ »".into(),
        ));
    }
    if post.text.trim().is_empty() {
        return Err(problem("text", "the text is empty".into(), "le texte est vide".into()));
    }
    if post.text.len() > MAX_TEXT_BYTES {
        return Err(problem(
            "text",
            format!("the text is longer than {MAX_TEXT_BYTES} bytes"),
            format!("le texte dépasse {MAX_TEXT_BYTES} octets"),
        ));
    }
    let limits: [(&str, &Option<String>, usize); 5] = [
        ("external_id", &post.external_id, 512),
        ("url", &post.url, 2048),
        ("author", &post.author, 256),
        ("title", &post.title, 2048),
        ("lang", &post.lang, 35),
    ];
    for (field, value, max) in limits {
        if let Some(v) = value
            && (v.len() > max || v.trim().is_empty())
        {
            return Err(problem(
                field,
                format!("`{field}` must be 1 to {max} bytes"),
                format!("« {field} » doit faire de 1 à {max} octets"),
            ));
        }
    }
    if let Some(url) = &post.url
        && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        return Err(problem(
            "url",
            "the link is not an http(s) URL".into(),
            "le lien n'est pas une URL http(s)".into(),
        ));
    }
    if let Some(at) = post.published_at
        && !(946_684_800_000..=now_ms + 86_400_000).contains(&at)
    {
        return Err(problem(
            "published_at",
            "the publication time must be between 2000 and tomorrow (milliseconds since 1970)".into(),
            "la date de publication doit être comprise entre 2000 et demain (millisecondes depuis 1970)".into(),
        ));
    }
    Ok(())
}

impl App {
    /// The workspace's queries compiled, from the cache when the workspace's version has not
    /// changed.
    pub async fn compiled_queries(&self, ws: WorkspaceId) -> AppResult<Arc<Compiled>> {
        let version = self.store.listen_version(ws).await?;
        if let Some(c) = self.listening.compiled.lock().unwrap_or_else(|e| e.into_inner()).get(&ws.0)
            && c.version == version
        {
            return Ok(c.clone());
        }
        let queries = self.store.listen_queries(ws).await?;
        let mut nodes = Vec::with_capacity(queries.len());
        let mut query_ids = Vec::with_capacity(queries.len());
        for q in &queries {
            // Stored queries were validated; one that no longer parses (grammar change) is skipped.
            match relais_query::parse(&q.query) {
                Ok(node) => {
                    nodes.push(node);
                    query_ids.push(q.id);
                }
                Err(e) => tracing::warn!(query = q.id, error = %e.message.en, "A stored query no longer parses."),
            }
        }
        let matcher = Matcher::new(nodes.iter()).map_err(AppError::internal)?;
        let compiled = Arc::new(Compiled { version, matcher, query_ids });
        self.listening.compiled.lock().unwrap_or_else(|e| e.into_inner()).insert(ws.0, compiled.clone());
        Ok(compiled)
    }

    /// The workspace's offset from UTC at `at_ms`, in minutes (its time zone; UTC when unknown):
    /// where its days and hours of the week start.
    pub async fn workspace_utc_offset_minutes(&self, ws: WorkspaceId, at_ms: i64) -> AppResult<i32> {
        let w = self.store.workspace(ws).await?;
        let tz = jiff::tz::TimeZone::get(&w.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let at = jiff::Timestamp::from_millisecond(at_ms).unwrap_or_else(|_| self.now());
        Ok(tz.to_offset(at).seconds() / 60)
    }

    /// The pipeline, started on first use.
    fn pipeline(&self) -> &Pipeline {
        self.listening.pipeline.get_or_init(|| {
            // Only the process that indexes takes the hand-off (nothing would empty it otherwise).
            let handoff = self.listening.index.dir.is_some().then(|| self.listening.index.handoff.clone());
            Pipeline::start(self.store.clone(), self.listening.enricher(), self.listening.config, handoff)
        })
    }

    /// The pipeline's counters and lag, every workspace together.
    pub fn pipeline_stats(&self) -> PipelineStats {
        self.listening.pipeline.get().map(Pipeline::stats).unwrap_or_default()
    }

    /// The pipeline's lag with one workspace's post counts ([`Pipeline::stats_for`]).
    pub fn pipeline_stats_for(&self, ws: WorkspaceId) -> PipelineStats {
        self.listening.pipeline.get().map(|p| p.stats_for(ws.0)).unwrap_or_default()
    }

    /// Sends posts from a source (already checked) through the pipeline for a workspace.
    pub async fn listen_posts(&self, ws: WorkspaceId, posts: Vec<IncomingPost>) -> AppResult<IngestReport> {
        let compiled = self.compiled_queries(ws).await?;
        if compiled.query_ids.is_empty() {
            return Ok(IngestReport {
                received: posts.len() as u64,
                unmatched: posts.len() as u64,
                ..Default::default()
            });
        }
        self.pipeline().submit(ws.0, compiled, posts, self.now_ms()).await.map_err(AppError::internal)
    }

    /// The ingest endpoint: checks every post first (one bad post refuses the whole request, and
    /// nothing is stored), then sends them through the pipeline and answers once they are stored.
    pub async fn ingest(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        mut posts: Vec<IncomingPost>,
    ) -> AppResult<IngestReport> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        if posts.len() > MAX_POSTS_PER_REQUEST {
            return Err(invalid(
                "posts",
                format!("at most {MAX_POSTS_PER_REQUEST} posts per request"),
                format!("au plus {MAX_POSTS_PER_REQUEST} publications par requête"),
            ));
        }
        let now = self.now_ms();
        let problems: Vec<_> =
            posts.iter_mut().enumerate().filter_map(|(i, p)| check_post(p, i + 1, now).err()).take(50).collect();
        if !problems.is_empty() {
            return Err(AppError::invalid_with(
                "invalid_posts",
                Msg::new(
                    "some posts are not valid: nothing was stored".to_owned(),
                    "certaines publications ne sont pas valides : rien n'a été enregistré".to_owned(),
                ),
                problems,
            ));
        }
        self.listen_posts(ws, posts).await
    }

    /// The workspace's queries.
    pub async fn listen_queries(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<Vec<ListenQueryRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.listen_queries(ws).await?)
    }

    /// One query.
    pub async fn listen_query(&self, actor: &Actor, ws: WorkspaceId, id: i64) -> AppResult<ListenQueryRecord> {
        self.authorize(actor, ws, Action::Read).await?;
        self.store.listen_query(ws, id).await.map_err(|e| not_found_as(e, "query"))
    }

    /// Creates a query.
    pub async fn create_listen_query(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        input: &QueryInput,
    ) -> AppResult<ListenQueryRecord> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        let (name, query, sensitivity, min_volume) = check_query(input)?;
        if self.store.listen_queries(ws).await?.len() >= MAX_QUERIES {
            return Err(invalid(
                "query",
                format!("a workspace has at most {MAX_QUERIES} queries"),
                format!("un espace de travail a au plus {MAX_QUERIES} requêtes"),
            ));
        }
        let fields = QueryFields { name: &name, query: &query, sensitivity: &sensitivity, min_volume };
        let rec = self.store.create_listen_query(ws, &fields, Some(actor.user.0), self.now_ms()).await?;
        self.audit(
            actor,
            Some(ws),
            "listen_query.create",
            format!("listen_query:{}", rec.id),
            serde_json::json!({"name": name, "query": query}),
        )
        .await?;
        Ok(rec)
    }

    /// Replaces a query.
    pub async fn update_listen_query(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: i64,
        input: &QueryInput,
    ) -> AppResult<ListenQueryRecord> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        let (name, query, sensitivity, min_volume) = check_query(input)?;
        let fields = QueryFields { name: &name, query: &query, sensitivity: &sensitivity, min_volume };
        let rec = self
            .store
            .update_listen_query(ws, id, &fields, self.now_ms())
            .await
            .map_err(|e| not_found_as(e, "query"))?;
        self.audit(
            actor,
            Some(ws),
            "listen_query.update",
            format!("listen_query:{id}"),
            serde_json::json!({"name": name, "query": query}),
        )
        .await?;
        Ok(rec)
    }

    /// Deletes a query (its mentions stay; their link to it goes).
    pub async fn delete_listen_query(&self, actor: &Actor, ws: WorkspaceId, id: i64) -> AppResult<()> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        self.store.delete_listen_query(ws, id).await.map_err(|e| not_found_as(e, "query"))?;
        self.audit(actor, Some(ws), "listen_query.delete", format!("listen_query:{id}"), serde_json::json!({})).await
    }

    /// Checks a query without storing it.
    pub async fn validate_listen_query(&self, actor: &Actor, ws: WorkspaceId, query: &str) -> AppResult<QueryCheck> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(match relais_query::parse(query.trim()) {
            Ok(node) => QueryCheck { valid: true, canonical: Some(node.to_string()), error: None },
            Err(e) => QueryCheck {
                valid: false,
                canonical: None,
                error: Some(QueryProblem {
                    code: e.code.as_str().to_owned(),
                    offset: e.pos,
                    column: e.column,
                    message_en: e.message.en,
                    message_fr: e.message.fr,
                }),
            },
        })
    }

    /// Tries a query on sample posts (with the explanation, node by node) and on the workspace's
    /// latest stored mentions.
    pub async fn test_listen_query(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        query: &str,
        samples: &[SamplePost],
    ) -> AppResult<QueryTest> {
        self.authorize(actor, ws, Action::Read).await?;
        let node: Node = relais_query::parse(query.trim()).map_err(|e| query_error(&e))?;
        if samples.len() > 100 || samples.iter().any(|s| s.text.len() > MAX_TEXT_BYTES) {
            return Err(invalid(
                "samples",
                format!("at most 100 samples of at most {MAX_TEXT_BYTES} bytes"),
                format!("au plus 100 exemples d'au plus {MAX_TEXT_BYTES} octets"),
            ));
        }
        let enricher = self.listening.enricher();
        let mut results = Vec::with_capacity(samples.len());
        for s in samples {
            let post = IncomingPost {
                source: s.source.clone().unwrap_or_else(|| "ingest".into()),
                url: s.url.clone(),
                author: s.author.clone(),
                title: s.title.clone(),
                text: s.text.clone(),
                lang: s.lang.clone(),
                ..IncomingPost::default()
            };
            let p = PostPrepared::of(&post, &enricher);
            let analyzed = relais_query::eval::analyze(&p.doc(&post));
            let steps = relais_query::explain::explain(&node, &analyzed);
            results.push(SampleResult {
                matches: relais_query::eval::matches(&node, &analyzed),
                lang: p.enrichment.lang.as_str().to_owned(),
                steps: steps
                    .into_iter()
                    .map(|s| ExplainStep {
                        depth: s.depth,
                        holds: s.holds,
                        node: s.node,
                        why_en: s.why.en,
                        why_fr: s.why.fr,
                    })
                    .collect(),
            });
        }
        let recent = self.store.mentions(ws, &MentionFilter::default(), 5_000).await?;
        let matcher = Matcher::new([&node]).map_err(AppError::internal)?;
        let mut scratch = relais_listen::matcher::Scratch::default();
        let mut hits = Vec::new();
        let mut examples = Vec::new();
        let mut count = 0;
        for m in &recent {
            let domain = m.url.as_deref().and_then(domain_of);
            let doc = Doc {
                text: &m.text,
                title: m.title.as_deref(),
                lang: Some(&m.lang),
                author: m.author.as_deref(),
                domain: domain.as_deref(),
                source: Some(&m.source),
            };
            hits.clear();
            matcher.matches_into(&doc, &mut scratch, &mut hits);
            if !hits.is_empty() {
                count += 1;
                if examples.len() < 20 {
                    examples.push(m.id);
                }
            }
        }
        Ok(QueryTest {
            samples: results,
            archive_checked: recent.len(),
            archive_matches: count,
            archive_examples: examples,
        })
    }

    /// The workspace's mentions, newest first.
    pub async fn mentions(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        filter: &MentionFilter,
        limit: i64,
    ) -> AppResult<Vec<MentionRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.mentions(ws, filter, limit.clamp(1, 1000)).await?)
    }

    /// Erases mentions (an erasure request under the GDPR, or content that must go): by ids, or
    /// every mention by one author. Their query links go with them and the search index drops
    /// them on its next pass; returns how many were erased.
    pub async fn erase_mentions(&self, actor: &Actor, ws: WorkspaceId, input: EraseInput) -> AppResult<EraseReport> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        let which = match (&input.ids, input.author.as_deref().map(str::trim)) {
            (Some(ids), None) if !ids.is_empty() && ids.len() <= 10_000 => Erase::Ids(ids),
            (None, Some(author)) if !author.is_empty() && author.chars().count() <= 512 => Erase::Author(author),
            _ => {
                return Err(invalid(
                    "ids",
                    "give either `ids` (1 to 10,000 mention ids) or `author` (a non-empty handle), not both".into(),
                    "indiquez soit `ids` (de 1 à 10 000 identifiants de mentions), soit `author` (un identifiant \
                     non vide), pas les deux"
                        .into(),
                ));
            }
        };
        let erased = self.store.erase_mentions(ws, which, self.now_ms()).await?;
        let detail = match which {
            Erase::Author(author) => serde_json::json!({"author": author, "erased": erased.len()}),
            _ => serde_json::json!({"ids": erased}),
        };
        self.audit(actor, Some(ws), "mentions.erase", "mentions".to_owned(), detail).await?;
        Ok(EraseReport { erased: erased.len() as u64 })
    }

    /// The workspace's mentions as CSV (UTF-8 with a byte order mark, so spreadsheets read the
    /// accents), newest first, at most `limit` rows. Cells that a spreadsheet would run as a
    /// formula are defused.
    pub async fn mentions_csv(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        filter: &MentionFilter,
        limit: i64,
    ) -> AppResult<Vec<u8>> {
        self.authorize(actor, ws, Action::Read).await?;
        let names: HashMap<i64, String> =
            self.store.listen_queries(ws).await?.into_iter().map(|q| (q.id, q.name)).collect();
        let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
        {
            let mut w = csv::Writer::from_writer(&mut out);
            let header = [
                "id",
                "published_at",
                "source",
                "author",
                "url",
                "title",
                "text",
                "lang",
                "sentiment",
                "sentiment_label",
                "story_id",
                "queries",
            ];
            w.write_record(header).map_err(AppError::internal)?;
            let mut f = filter.clone();
            let mut left = limit.clamp(1, 1_000_000);
            while left > 0 {
                let asked = left.min(1000);
                let page = self.store.mentions(ws, &f, asked).await?;
                let Some(last) = page.last() else { break };
                f.after = Some((last.published_at, last.id));
                left -= page.len() as i64;
                for m in &page {
                    let at =
                        jiff::Timestamp::from_millisecond(m.published_at).map(|t| t.to_string()).unwrap_or_default();
                    let queries: Vec<&str> =
                        m.query_ids.iter().filter_map(|q| names.get(q).map(String::as_str)).collect();
                    let record = [
                        m.id.to_string(),
                        at,
                        m.source.clone(),
                        m.author.clone().unwrap_or_default(),
                        m.url.clone().unwrap_or_default(),
                        m.title.clone().unwrap_or_default(),
                        m.text.clone(),
                        m.lang.clone(),
                        format!("{:.4}", m.sentiment),
                        m.sentiment_label.clone(),
                        m.story_id.map(|s| s.to_string()).unwrap_or_default(),
                        queries.join(" | "),
                    ];
                    w.write_record(record.iter().map(|c| defuse_formula(c).into_owned()))
                        .map_err(AppError::internal)?;
                }
                if (page.len() as i64) < asked {
                    break;
                }
            }
            w.flush().map_err(AppError::internal)?;
        }
        Ok(out)
    }

    /// A query's series between `from` (included) and `to` (excluded), at 5-minute
    /// (`hourly`: false) or hourly resolution, with empty buckets filled with zeros. At most
    /// 10,000 buckets.
    pub async fn listen_series(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        query_id: i64,
        hourly: bool,
        from: i64,
        to: i64,
    ) -> AppResult<Vec<SeriesPoint>> {
        self.authorize(actor, ws, Action::Read).await?;
        self.store.listen_query(ws, query_id).await.map_err(|e| not_found_as(e, "query"))?;
        let width = if hourly { 12 * BUCKET_MS } else { BUCKET_MS };
        let (from, to) = (from.div_euclid(width) * width, to.div_euclid(width) * width);
        if to <= from || (to - from) / width > 10_000 {
            return Err(invalid(
                "to",
                "the period must be positive and hold at most 10,000 buckets".into(),
                "la période doit être positive et tenir en 10 000 intervalles au plus".into(),
            ));
        }
        let points = self.store.listen_series(query_id, from, to).await?;
        Ok(fill_series(&points, from, to, width))
    }

    /// The workspace's spike alerts, newest first.
    pub async fn listen_alerts(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        query_id: Option<i64>,
        limit: i64,
    ) -> AppResult<Vec<ListenAlertRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.listen_alerts(ws, query_id, limit.clamp(1, 1000)).await?)
    }
}

/// Re-buckets 5-minute points at `width` over `[from, to)`, empty buckets included.
pub fn fill_series(points: &[SeriesPoint], from: i64, to: i64, width: i64) -> Vec<SeriesPoint> {
    let n = usize::try_from((to - from) / width).unwrap_or(0);
    let mut out: Vec<SeriesPoint> =
        (0..n).map(|i| SeriesPoint { bucket_start: from + i as i64 * width, volume: 0, negative: 0 }).collect();
    for p in points {
        let i = (p.bucket_start - from).div_euclid(width);
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            slot.volume += p.volume;
            slot.negative += p.negative;
        }
    }
    out
}

/// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
/// spreadsheets (CSV injection): such cells get a leading apostrophe.
pub fn defuse_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn not_found_as(e: relais_store::StoreError, what: &str) -> AppError {
    match e {
        relais_store::StoreError::NotFound => AppError::not_found(what),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse_formula("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(defuse_formula("-1+2"), "'-1+2");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("bonjour"), "bonjour");
        assert_eq!(defuse_formula(""), "");
    }

    #[test]
    fn posts_are_checked() {
        let now = 1_800_000_000_000;
        let mut ok = IncomingPost { text: "Bonjour".into(), source: " RSS ".into(), ..Default::default() };
        assert!(check_post(&mut ok, 1, now).is_ok());
        assert_eq!(ok.source, "rss");
        let mut empty = IncomingPost { text: "  ".into(), ..Default::default() };
        assert!(check_post(&mut empty, 2, now).is_err());
        let mut bad_url =
            IncomingPost { text: "x".into(), url: Some("javascript:alert(1)".into()), ..Default::default() };
        assert!(check_post(&mut bad_url, 3, now).is_err());
        let mut future =
            IncomingPost { text: "x".into(), published_at: Some(now + 2 * 86_400_000), ..Default::default() };
        assert!(check_post(&mut future, 4, now).is_err());
        let mut bad_source = IncomingPost { text: "x".into(), source: "a b".into(), ..Default::default() };
        assert!(check_post(&mut bad_source, 5, now).is_err());
    }

    #[tokio::test]
    #[allow(clippy::unwrap_used)]
    async fn posts_of_a_workspace_deleted_in_flight_are_discarded_not_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let app = crate::App {
            store: relais_store::testing::fresh_store(None, dir.path()).await.unwrap(),
            secrets: std::sync::Arc::new(crate::crypto::SecretBox::new(&[7; 32])),
            media_dir: dir.path().join("media"),
            clock: crate::system_clock(),
            http: relais_networks::GuardedClient::new(vec![]),
            login_failures: Default::default(),
            listening: Default::default(),
        };
        let user = app.create_user("cm@relais.localhost", "CM", "a long enough password", "fr").await.unwrap();
        let actor = Actor { user: relais_domain::ids::UserId(user.id), ip: None };
        let ws = WorkspaceId(app.create_workspace(&actor, "Marque", "Europe/Paris").await.unwrap().id);
        let query = QueryInput { name: "Relais".into(), query: "relais".into(), sensitivity: None, min_volume: None };
        app.create_listen_query(&actor, ws, &query).await.unwrap();
        let post = |text: &str| IncomingPost { text: text.into(), source: "ingest".into(), ..Default::default() };
        // Matched against the workspace's queries, then the workspace is deleted before the
        // posts are written.
        let compiled = app.compiled_queries(ws).await.unwrap();
        app.store.delete_workspace(ws, app.now_ms()).await.unwrap();
        let posts = vec![post("Relais publie"), post("Relais écoute"), post("autre chose")];
        let report = app.pipeline().submit(ws.0, compiled, posts, app.now_ms()).await.unwrap();
        assert_eq!(
            report,
            IngestReport { received: 3, stored: 0, duplicates: 0, unmatched: 1, discarded: 2 },
            "{report:?}"
        );
        assert_eq!(app.pipeline_stats().discarded, 2);
        // A workspace's status counts its own posts only.
        let other = WorkspaceId(app.create_workspace(&actor, "Autre", "Europe/Paris").await.unwrap().id);
        app.create_listen_query(&actor, other, &query).await.unwrap();
        let report = app.listen_posts(other, vec![post("Relais répond"), post("rien")]).await.unwrap();
        assert_eq!((report.stored, report.unmatched), (1, 1));
        let (all, theirs, gone) = (app.pipeline_stats(), app.pipeline_stats_for(other), app.pipeline_stats_for(ws));
        assert_eq!((all.accepted, all.stored, all.unmatched, all.discarded), (5, 1, 2, 2));
        assert_eq!((theirs.accepted, theirs.stored, theirs.unmatched, theirs.discarded), (2, 1, 1, 0));
        assert_eq!((gone.accepted, gone.stored, gone.unmatched, gone.discarded), (3, 0, 1, 2));
        assert_eq!((theirs.in_flight, theirs.batches, theirs.capacity), (0, 0, all.capacity));
    }

    #[test]
    fn content_ids_are_stable_and_distinct() {
        let a = IncomingPost { text: "Hello".into(), author: Some("a".into()), ..Default::default() };
        let b = IncomingPost { text: "Hello".into(), author: Some("b".into()), ..Default::default() };
        assert_eq!(content_id(&a), content_id(&a.clone()));
        assert_ne!(content_id(&a), content_id(&b));
    }
}
