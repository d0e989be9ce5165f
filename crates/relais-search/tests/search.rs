#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The search index end to end: analyzers, query translation, filters, tenant isolation, facets,
//! sorting, paging, deletes and persistence.

mod common;
use common::index_of;
use relais_search::{
    Cursor, Filters, MentionDoc, Rebuilt, SearchError, SearchIndex, SearchRequest, Sort, WriterOptions,
};
use std::collections::BTreeSet;

const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const T0: i64 = 1_772_323_200_000;

fn mention(id: i64, lang: &str, text: &str) -> MentionDoc {
    MentionDoc {
        id,
        workspace_id: 1,
        query_ids: vec![10],
        source: "bluesky".into(),
        lang: lang.into(),
        sentiment: "neutral".into(),
        sentiment_score: 0.0,
        published_at_ms: T0 + id * 60_000,
        author: None,
        domain: None,
        title: None,
        text: text.into(),
    }
}

/// The ids of every mention of workspace 1 matching `q`.
fn ids(index: &SearchIndex, q: &str) -> Vec<i64> {
    ids_in(index, 1, q)
}

fn ids_in(index: &SearchIndex, ws: i64, q: &str) -> Vec<i64> {
    let mut req = SearchRequest::parse(q).unwrap();
    req.limit = 1000;
    let mut out: Vec<i64> = index.search(ws, &req).unwrap().hits.iter().map(|h| h.id).collect();
    out.sort_unstable();
    out
}

#[test]
fn french_stemming_and_accent_folding() {
    let index = index_of(&[
        mention(1, "fr", "Les cafés de Paris sont fermés ce soir"),
        mention(2, "fr", "L'ÉCOLE est en grève"),
        mention(3, "und", "cafés und bier"),
        mention(4, "fr-CA", "Un café bien chaud"),
    ]);
    // Stemmed: the plural finds the singular and back, in French documents.
    assert_eq!(ids(&index, "café"), vec![1, 4]);
    assert_eq!(ids(&index, "CAFÉS"), vec![1, 3, 4]);
    assert_eq!(ids(&index, "fermé"), vec![1]);
    assert_eq!(ids(&index, "ecole"), vec![2]);
    assert_eq!(ids(&index, "grève"), vec![2]);
    // An undetermined language is only folded: `cafe` does not find `cafés` there.
    assert_eq!(ids(&index, "cafe"), vec![1, 4]);
    assert_eq!(ids(&index, "cafes"), vec![1, 3, 4]);
    assert!(ids(&index, "bier").contains(&3));
}

#[test]
fn english_stemming() {
    let index = index_of(&[
        mention(1, "en", "Trains were running late, massive delays"),
        mention(2, "en", "The train runs on time"),
        mention(3, "fr", "les trains roulent"),
    ]);
    assert_eq!(ids(&index, "run"), vec![1, 2]);
    assert_eq!(ids(&index, "delay"), vec![1]);
    // `trains` in the French text is found through the French stem and the folded field.
    assert_eq!(ids(&index, "train"), vec![1, 2, 3]);
}

#[test]
fn phrases_respect_order_and_adjacency() {
    let index = index_of(&[
        mention(1, "fr", "Le service client est injoignable"),
        mention(2, "fr", "le client du service"),
        mention(3, "en", "customer service-client desk"),
        mention(4, "fr", "prise de position ferme"),
        mention(5, "fr", "prise sans position"),
    ]);
    assert_eq!(ids(&index, "\"service client\""), vec![1, 3]);
    assert_eq!(ids(&index, "\"client service\""), Vec::<i64>::new());
    // A stop word inside a phrase: the folded field checks it exactly.
    assert_eq!(ids(&index, "\"prise de position\""), vec![4]);
    // `l'ecole` is the phrase "l ecole".
    assert_eq!(ids(&index, "\"du service\""), vec![2]);
}

#[test]
fn near_and_onear_distances() {
    let index = index_of(&[
        mention(1, "fr", "grève totale à la SNCF"),
        mention(2, "fr", "la SNCF annonce une grève"),
        mention(3, "fr", "grève SNCF"),
        mention(4, "und", "greve x x x x x x sncf"),
    ]);
    assert_eq!(ids(&index, "grève NEAR/2 sncf"), vec![2, 3]);
    assert_eq!(ids(&index, "grève NEAR/3 sncf"), vec![1, 2, 3]);
    assert_eq!(ids(&index, "grève NEAR/0 sncf"), vec![3]);
    assert_eq!(ids(&index, "grève ONEAR/3 sncf"), vec![1, 3]);
    assert_eq!(ids(&index, "sncf ONEAR/2 grève"), vec![2]);
    assert_eq!(ids(&index, "grève NEAR/6 sncf"), vec![1, 2, 3, 4]);
    assert_eq!(ids(&index, "grève NEAR/5 sncf"), vec![1, 2, 3]);
    // Groups of words expand into pairs.
    assert_eq!(ids(&index, "(grève OR annonce) ONEAR/1 (sncf OR une)"), vec![2, 3]);
    // Phrases, prefixes and nested NEAR count as the matcher does: a phrase spans its words, and
    // "à la" (French stop words) still count as two words between.
    assert_eq!(ids(&index, "\"grève totale\" NEAR/0 sncf"), Vec::<i64>::new());
    assert_eq!(ids(&index, "\"grève totale\" NEAR/1 sncf"), Vec::<i64>::new());
    assert_eq!(ids(&index, "\"grève totale\" NEAR/2 sncf"), vec![1]);
    assert_eq!(ids(&index, "sncf ONEAR/5 \"grève totale\""), Vec::<i64>::new());
    assert_eq!(ids(&index, "\"la sncf\" ONEAR/2 grève"), vec![2]);
    assert_eq!(ids(&index, "\"la sncf\" ONEAR/1 grève"), Vec::<i64>::new());
    assert_eq!(ids(&index, "grè* NEAR/0 sncf"), vec![3]);
    assert_eq!(ids(&index, "grè* NEAR/2 snc*"), vec![2, 3]);
    assert_eq!(ids(&index, "gre* NEAR/6 sncf"), vec![1, 2, 3, 4]);
    assert_eq!(ids(&index, "(grève NEAR/0 sncf) NEAR/1 x"), Vec::<i64>::new());
    assert_eq!(ids(&index, "(annonce NEAR/0 une) NEAR/0 grève"), vec![2]);
    assert_eq!(ids(&index, "(annonce ONEAR/0 une) ONEAR/0 sncf"), Vec::<i64>::new());
    assert_eq!(ids(&index, "(\"grève totale\" OR annonce) NEAR/1 sncf"), vec![2]);
}

/// A prefix in a NEAR reads each of its words' positions: one that stands for more words than
/// the limit is refused with a message saying which, in both languages; a narrower one works on
/// the same index.
#[test]
fn a_near_prefix_standing_for_too_many_words_is_refused() {
    let words: Vec<String> = (0..10_001).map(|i| format!("pre{i:05}")).collect();
    let mut docs: Vec<MentionDoc> =
        words.chunks(1_000).enumerate().map(|(i, c)| mention(i as i64 + 1, "und", &c.join(" "))).collect();
    docs.push(mention(100, "und", "x pre00042"));
    docs.push(mention(101, "und", "pre00001 a b x"));
    let index = index_of(&docs);
    let mut req = SearchRequest::parse("pre* NEAR/0 x").unwrap();
    req.limit = 10;
    let err = index.search(1, &req).unwrap_err();
    assert_eq!(err.code(), "search.invalid_request", "{err:?}");
    let msg = err.message();
    assert!(msg.en.contains("`pre*`") && msg.en.contains("10000") && msg.fr.contains("allongez"), "{msg:?}");
    assert_eq!(ids(&index, "pre0004* NEAR/0 x"), vec![100]);
    assert_eq!(ids(&index, "pre0004* ONEAR/0 x"), Vec::<i64>::new());
    // 100 words: their postings walked through a heap.
    assert_eq!(ids(&index, "pre000* NEAR/0 x"), vec![100]);
    assert_eq!(ids(&index, "pre000* NEAR/1 x"), vec![100]);
    assert_eq!(ids(&index, "pre000* NEAR/2 x"), vec![100, 101]);
    assert_eq!(ids(&index, "pre000* ONEAR/2 x"), vec![101]);
    assert_eq!(ids(&index, "(pre000* NEAR/0 a) NEAR/1 x"), vec![101]);
}

#[test]
fn wildcards_hashtags_and_mentions() {
    let index = index_of(&[
        mention(1, "fr", "Les cafés et la cafétéria"),
        mention(2, "fr", "#grève à la gare, merci @sncf"),
        mention(3, "fr", "grève à la gare"),
        mention(4, "en", "ping @sncf@mastodon.social about #Greve_Generale"),
    ]);
    assert_eq!(ids(&index, "caf*"), vec![1]);
    assert_eq!(ids(&index, "cafet*"), vec![1]);
    assert_eq!(ids(&index, "#greve"), vec![2]);
    assert_eq!(ids(&index, "#grev*"), vec![2, 4]);
    assert_eq!(ids(&index, "#greve_generale"), vec![4]);
    assert_eq!(ids(&index, "@sncf"), vec![2, 4]);
    assert_eq!(ids(&index, "@sncf -#greve"), vec![4]);
}

#[test]
fn metadata_filters_with_parent_domains_and_authors() {
    let mut a = mention(1, "fr", "article orange");
    a.domain = Some("www.blog.lemonde.fr".into());
    a.author = Some("bob@mastodon.social".into());
    a.source = "rss".into();
    a.title = Some("Orange en panne".into());
    let mut b = mention(2, "en", "orange news");
    b.domain = Some("lemonde.fr.evil.com".into());
    b.author = Some("alice.bsky.social".into());
    let index = index_of(&[a, b]);
    assert_eq!(ids(&index, "orange site:lemonde.fr"), vec![1]);
    assert_eq!(ids(&index, "orange site:blog.lemonde.fr"), vec![1]);
    assert_eq!(ids(&index, "orange site:evil.com"), vec![2]);
    assert_eq!(ids(&index, "orange site:monde.fr"), Vec::<i64>::new());
    assert_eq!(ids(&index, "orange author:bob"), vec![1]);
    assert_eq!(ids(&index, "orange author:bob@mastodon.social"), vec![1]);
    assert_eq!(ids(&index, "orange author:alice.bsky.social"), vec![2]);
    assert_eq!(ids(&index, "orange source:rss"), vec![1]);
    assert_eq!(ids(&index, "orange -source:rss"), vec![2]);
    assert_eq!(ids(&index, "orange lang:en"), vec![2]);
    assert_eq!(ids(&index, "title:panne"), vec![1]);
    assert_eq!(ids(&index, "title:orange"), vec![1]);
    assert_eq!(ids(&index, "title:news"), Vec::<i64>::new());
}

#[test]
fn every_search_is_restricted_to_its_workspace() {
    let mut docs = Vec::new();
    for ws in 1..=3 {
        for i in 0..5 {
            let mut m = mention(ws * 100 + i, "fr", if i % 2 == 0 { "orange panne" } else { "sosh promo" });
            m.workspace_id = ws;
            docs.push(m);
        }
    }
    let index = index_of(&docs);
    for q in
        ["", "orange", "orange -promo", "sosh OR orange", "orange (panne OR (sosh -promo))", "lang:fr", "caf* OR panne"]
    {
        for ws in 1..=3 {
            let got = ids_in(&index, ws, q);
            assert!(!got.is_empty() || q.starts_with("caf"), "{q} in {ws}");
            assert!(got.iter().all(|id| id / 100 == ws), "{q} leaked into workspace {ws}: {got:?}");
        }
    }
    assert_eq!(ids_in(&index, 2, "").len(), 5);
    assert!(ids_in(&index, 4, "").is_empty());
    let req = SearchRequest { facets: true, ..SearchRequest::default() };
    let res = index.search(3, &req).unwrap();
    assert_eq!(res.total, 5);
    assert_eq!(res.facets.unwrap().sources[0].count, 5);
}

#[test]
fn delete_replace_and_reopen_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open_or_create(dir.path()).unwrap();
        let mut w = index.writer(WriterOptions::default()).unwrap();
        for i in 1..=4 {
            w.add(&mention(i, "fr", "orange")).unwrap();
        }
        assert_eq!(w.pending(), 4);
        // Nothing is searchable before the commit.
        assert!(ids(&index, "orange").is_empty());
        w.commit().unwrap();
        assert_eq!(ids(&index, "orange"), vec![1, 2, 3, 4]);
        w.delete(2).unwrap();
        w.replace(&mention(3, "fr", "sosh")).unwrap();
        w.commit().unwrap();
        assert_eq!(ids(&index, "orange"), vec![1, 4]);
        assert_eq!(ids(&index, "sosh"), vec![3]);
        // A second writer is refused while the first holds the lock.
        assert!(matches!(index.writer(WriterOptions::default()), Err(SearchError::Locked)));
        w.add(&mention(5, "fr", "orange uncommitted")).unwrap();
        // Dropped without commit: lost.
    }
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(ids(&index, "orange"), vec![1, 4]);
    assert_eq!(ids(&index, "sosh"), vec![3]);
    assert_eq!(index.num_docs(), 3);
}

#[test]
fn newest_first_by_default_and_relevance_on_request() {
    let mut docs = vec![
        mention(1, "en", "orange"),
        mention(2, "en", "orange orange orange juice"),
        mention(3, "en", "something about an orange and many other words here"),
    ];
    docs[0].published_at_ms = T0 + 5 * DAY;
    docs[1].published_at_ms = T0;
    docs[2].published_at_ms = T0 + 5 * DAY; // same time as 1: the higher id first
    let index = index_of(&docs);
    let req = SearchRequest::parse("orange").unwrap();
    let got: Vec<i64> = index.search(1, &req).unwrap().hits.iter().map(|h| h.id).collect();
    assert_eq!(got, vec![3, 1, 2]);
    let req = SearchRequest { sort: Sort::Relevance, ..req };
    let hits = index.search(1, &req).unwrap().hits;
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "{hits:?}");
    assert_eq!(hits.last().unwrap().id, 3, "the long post with one occurrence ranks last: {hits:?}");
    assert!(hits[0].score > 0.0);
}

fn corpus(n: i64) -> Vec<MentionDoc> {
    let words = ["orange", "sosh", "panne", "reseau", "promo", "client", "fibre", "mobile"];
    let sources = ["bluesky", "mastodon", "rss"];
    let langs = ["fr", "en", "und", "de"];
    let sentiments = ["negative", "neutral", "positive"];
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    (1..=n)
        .map(|id| {
            let len = 2 + next(8) as usize;
            let text: Vec<&str> = (0..len).map(|_| words[next(words.len() as u64) as usize]).collect();
            MentionDoc {
                id,
                workspace_id: 1 + next(2) as i64,
                query_ids: (0..next(3)).map(|_| 10 + next(4) as i64).collect::<BTreeSet<_>>().into_iter().collect(),
                source: sources[next(3) as usize].into(),
                lang: langs[next(4) as usize].into(),
                sentiment: sentiments[next(3) as usize].into(),
                sentiment_score: 0.0,
                published_at_ms: T0 + next(20 * DAY as u64) as i64,
                author: None,
                domain: None,
                title: None,
                text: text.join(" "),
            }
        })
        .collect()
}

#[test]
fn facets_match_a_brute_force_count_over_the_whole_set() {
    let docs = corpus(1500);
    let index = index_of(&docs);
    let filters = Filters {
        sentiments: vec!["negative".into(), "Positive".into()],
        from_ms: Some(T0 + 2 * DAY),
        until_ms: Some(T0 + 15 * DAY),
        ..Filters::default()
    };
    let offset_min = -300; // UTC-5
    let req = SearchRequest {
        query: Some(relais_query::parse("orange OR sosh").unwrap()),
        filters,
        limit: 7,
        facets: true,
        day_offset_minutes: offset_min,
        ..SearchRequest::default()
    };
    let res = index.search(1, &req).unwrap();
    // The scored path (relevance) counts the same set as the block path (time order).
    let scored = index.search(1, &SearchRequest { sort: Sort::Relevance, ..req.clone() }).unwrap();
    assert_eq!((scored.total, &scored.facets), (res.total, &res.facets));
    let matching: Vec<&MentionDoc> = docs
        .iter()
        .filter(|d| d.workspace_id == 1)
        .filter(|d| d.text.split(' ').any(|w| w == "orange" || w == "sosh"))
        .filter(|d| d.sentiment != "neutral")
        .filter(|d| (T0 + 2 * DAY..T0 + 15 * DAY).contains(&d.published_at_ms))
        .collect();
    assert!(matching.len() > 50);
    assert_eq!(res.total, matching.len() as u64);
    assert_eq!(res.hits.len(), 7);
    let facets = res.facets.unwrap();
    let count = |f: &dyn Fn(&MentionDoc) -> bool| matching.iter().filter(|d| f(d)).count() as u64;
    for fc in &facets.sources {
        assert_eq!(fc.count, count(&|d| d.source == fc.value), "source {}", fc.value);
    }
    for fc in &facets.langs {
        assert_eq!(fc.count, count(&|d| d.lang == fc.value), "lang {}", fc.value);
    }
    for fc in &facets.sentiments {
        assert_eq!(fc.count, count(&|d| d.sentiment == fc.value), "sentiment {}", fc.value);
    }
    assert_eq!(facets.sentiments.len(), 2);
    assert_eq!(facets.sources.iter().map(|f| f.count).sum::<u64>(), res.total);
    assert_eq!(facets.langs.iter().map(|f| f.count).sum::<u64>(), res.total);
    assert!(facets.sources.windows(2).all(|w| w[0].count >= w[1].count));
    for fc in &facets.queries {
        assert_eq!(fc.count, count(&|d| d.query_ids.contains(&fc.value)), "query {}", fc.value);
    }
    let with_queries: BTreeSet<i64> = matching.iter().flat_map(|d| d.query_ids.iter().copied()).collect();
    assert_eq!(facets.queries.len(), with_queries.len());
    let offset_ms = i64::from(offset_min) * 60_000;
    for day in &facets.days {
        let n = count(&|d| (d.published_at_ms + offset_ms).div_euclid(DAY) == (day.start_ms + offset_ms) / DAY);
        assert_eq!(day.count, n, "{}", day.date);
        assert_eq!((day.start_ms + offset_ms) % DAY, 0);
    }
    assert_eq!(facets.days.iter().map(|d| d.count).sum::<u64>(), res.total);
    // The first filtered day starts at 2026-03-03T00:00Z, which is still 2026-03-02 at UTC-5.
    assert_eq!(facets.days[0].date, "2026-03-02");
    assert!(facets.days.windows(2).all(|w| w[0].start_ms < w[1].start_ms));

    // Query-id, source and language filters.
    let req = SearchRequest {
        filters: Filters {
            query_ids: vec![11],
            sources: vec!["RSS".into()],
            langs: vec!["fr".into()],
            ..Filters::default()
        },
        limit: 1000,
        ..SearchRequest::default()
    };
    let got: BTreeSet<i64> = index.search(1, &req).unwrap().hits.iter().map(|h| h.id).collect();
    let want: BTreeSet<i64> = docs
        .iter()
        .filter(|d| d.workspace_id == 1 && d.query_ids.contains(&11) && d.source == "rss" && d.lang == "fr")
        .map(|d| d.id)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn offset_pages_and_cursor_pages_walk_the_same_order() {
    let docs = corpus(600);
    let index = index_of(&docs);
    for sort in [Sort::Newest, Sort::Relevance] {
        let base = SearchRequest {
            query: Some(relais_query::parse("orange OR panne").unwrap()),
            sort,
            ..SearchRequest::default()
        };
        let all = index.search(1, &SearchRequest { limit: 1000, ..base.clone() }).unwrap();
        assert!(all.total > 100 && all.total < 1000);
        assert_eq!(all.hits.len() as u64, all.total);
        let mut by_offset = Vec::new();
        let mut by_cursor = Vec::new();
        let mut after: Option<Cursor> = None;
        for page in 0.. {
            let res = index.search(1, &SearchRequest { limit: 37, offset: page * 37, ..base.clone() }).unwrap();
            by_offset.extend(res.hits.iter().map(|h| h.id));
            let res2 = index.search(1, &SearchRequest { limit: 37, after, ..base.clone() }).unwrap();
            by_cursor.extend(res2.hits.iter().map(|h| h.id));
            assert_eq!(res2.total, all.total);
            after = res2.next;
            if res.hits.len() < 37 {
                assert!(res2.next.is_none() || res2.hits.len() == 37);
                break;
            }
        }
        let want: Vec<i64> = all.hits.iter().map(|h| h.id).collect();
        assert_eq!(by_offset, want, "{sort:?}");
        assert_eq!(by_cursor, want, "{sort:?}");
        if sort == Sort::Newest {
            assert!(all.hits.windows(2).all(|w| (w[0].published_at_ms, w[0].id) > (w[1].published_at_ms, w[1].id)));
        }
    }
}

#[test]
fn invalid_requests_and_mentions_are_refused_in_both_languages() {
    let index = SearchIndex::in_ram().unwrap();
    let bad = [
        SearchRequest { limit: 0, ..SearchRequest::default() },
        SearchRequest { limit: 5000, ..SearchRequest::default() },
        SearchRequest { offset: 9_990, limit: 50, ..SearchRequest::default() },
        SearchRequest {
            filters: Filters { sentiments: vec!["angry".into()], ..Filters::default() },
            ..SearchRequest::default()
        },
        SearchRequest {
            filters: Filters { sources: vec!["no spaces".into()], ..Filters::default() },
            ..SearchRequest::default()
        },
        SearchRequest { after: Some(Cursor::Relevance { score: 1.0, id: 1 }), ..SearchRequest::default() },
        SearchRequest { day_offset_minutes: 24 * 60, ..SearchRequest::default() },
    ];
    for req in &bad {
        let err = index.search(1, req).unwrap_err();
        assert_eq!(err.code(), "search.invalid_request", "{req:?}");
        let msg = err.message();
        assert!(!msg.en.is_empty() && !msg.fr.is_empty() && msg.en != msg.fr);
    }
    let err = SearchRequest::parse("orange OR -promo").unwrap_err();
    assert_eq!(err.code(), "query.only_negative");
    let mut w = index.writer(WriterOptions::default()).unwrap();
    let mut m = mention(1, "fr", "x");
    m.sentiment = "angry".into();
    assert_eq!(w.add(&m).unwrap_err().code(), "search.invalid_mention");
    m.sentiment = "neutral".into();
    m.source = "bad source".into();
    assert_eq!(w.add(&m).unwrap_err().code(), "search.invalid_mention");
    assert_eq!(w.pending(), 0);
}

/// Regression (property test): an excluded phrase or `NEAR` made tantivy 0.27's phrase scorer
/// assert in debug builds.
#[test]
fn excluded_phrases_do_not_panic() {
    let index = index_of(&[
        mention(1, "und", "orange sosh"),
        mention(2, "und", "sosh"),
        mention(3, "und", "sosh orange orange"),
    ]);
    assert_eq!(ids(&index, "sosh -(orange NEAR/0 orange)"), vec![1, 2]);
    assert_eq!(ids(&index, "sosh -\"sosh orange\""), vec![1, 2]);
}

/// Segments are merged `MERGE_SEGMENTS` (16) at a time, not tantivy's default 8: fifteen small
/// commits stay fifteen segments (with 8 they would have merged), the sixteenth merges them all
/// into one; every mention stays findable.
#[test]
fn segments_merge_sixteen_at_a_time() {
    assert_eq!(relais_search::MERGE_SEGMENTS, 16);
    let index = SearchIndex::in_ram().unwrap();
    let options = WriterOptions { threads: 1, heap_bytes_per_thread: 15 << 20 };
    let mut w = index.writer(options).unwrap();
    for id in 1..=15 {
        w.add(&mention(id, "fr", "la livraison est en retard")).unwrap();
        w.commit().unwrap();
    }
    w.finish().unwrap();
    assert_eq!(index.num_segments(), 15);
    let mut w = index.writer(options).unwrap();
    w.add(&mention(16, "fr", "la livraison est en retard")).unwrap();
    w.commit().unwrap();
    w.finish().unwrap();
    assert_eq!(index.num_segments(), 1);
    assert_eq!(ids(&index, "livraison"), (1..=16).collect::<Vec<_>>());
}

#[test]
fn the_index_is_shared_between_threads_and_the_writer_can_move() {
    fn shared<T: Send + Sync>() {}
    fn movable<T: Send>() {}
    shared::<SearchIndex>();
    movable::<relais_search::MentionWriter>();
}

#[test]
fn an_index_of_another_schema_is_replaced_by_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    {
        // An earlier layout: one text field, one document, and a watermark file beside it.
        let mut b = tantivy::schema::Schema::builder();
        let body = b.add_text_field("body", tantivy::schema::TEXT);
        let old = tantivy::Index::create_in_dir(dir.path(), b.build()).unwrap();
        let mut w: tantivy::IndexWriter = old.writer(15 << 20).unwrap();
        w.add_document(tantivy::doc!(body => "orange")).unwrap();
        w.commit().unwrap();
        std::fs::write(dir.path().join("relais-indexed-up-to"), "1").unwrap();
        // Not while another process writes it.
        assert!(matches!(SearchIndex::open_or_create(dir.path()), Err(SearchError::Locked)));
        assert!(dir.path().join("relais-indexed-up-to").exists());
    }
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(index.was_rebuilt(), Some(&Rebuilt::Layout));
    assert_eq!(index.num_docs(), 0);
    assert!(!dir.path().join("relais-indexed-up-to").exists(), "old watermarks would skip mentions");
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.add(&mention(1, "fr", "orange")).unwrap();
    w.commit().unwrap();
    drop(w);
    let again = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(again.was_rebuilt(), None);
    assert_eq!(ids(&again, "orange"), vec![1]);
}

/// An index holding `mention(1, "fr", "orange")`, committed, in a new directory.
fn index_dir_with_one_mention() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.add(&mention(1, "fr", "orange")).unwrap();
    w.commit().unwrap();
    dir
}

#[test]
fn a_damaged_index_is_replaced_by_an_empty_one() {
    // meta.json cut short (a crash while an old tool wrote it, a full disk).
    let dir = index_dir_with_one_mention();
    let meta = dir.path().join("meta.json");
    let text = std::fs::read(&meta).unwrap();
    std::fs::write(&meta, &text[..text.len() / 2]).unwrap();
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    let Some(Rebuilt::Damaged(error)) = index.was_rebuilt() else { panic!("{:?}", index.was_rebuilt()) };
    assert!(error.contains("meta.json") && error.chars().count() <= 301, "{error}");
    assert_eq!(index.num_docs(), 0);
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.add(&mention(2, "fr", "orange")).unwrap();
    w.commit().unwrap();
    assert_eq!(ids(&index, "orange"), vec![2]);

    // A segment file gone, or cut short.
    let remove = |f: &std::path::Path| std::fs::remove_file(f);
    let cut = |f: &std::path::Path| {
        let bytes = std::fs::read(f)?;
        std::fs::write(f, &bytes[..bytes.len() / 2])
    };
    for damage in [&remove as &dyn Fn(&std::path::Path) -> std::io::Result<()>, &cut] {
        let dir = index_dir_with_one_mention();
        let segment_file = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "store"))
            .unwrap();
        damage(&segment_file).unwrap();
        let index = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(matches!(index.was_rebuilt(), Some(Rebuilt::Damaged(_))), "{:?}", index.was_rebuilt());
        assert_eq!(index.num_docs(), 0);
    }

    // A readable index is kept as it is.
    let dir = index_dir_with_one_mention();
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!((index.was_rebuilt(), ids(&index, "orange")), (None, vec![1]));
}

#[test]
fn raw_checks_case_accents_and_punctuation() {
    let index = index_of(&[
        mention(1, "fr", "On recrute en C++ et en C#"),
        mention(2, "fr", "Le langage C est ancien"),
        mention(3, "fr", "ORANGE en panne, Orange répond"),
        mention(4, "fr", "orange pressée"),
        mention(5, "fr", "L'été arrive 😡"),
        mention(6, "fr", "l'ete arrive"),
        mention(7, "en", "Applesauce recipes"),
    ]);
    assert_eq!(ids(&index, r#"raw:"C++""#), vec![1]);
    assert_eq!(ids(&index, "raw:Orange"), vec![3]);
    assert_eq!(ids(&index, "raw:ORANGE"), vec![3]);
    assert_eq!(ids(&index, "orange -raw:Orange"), vec![4]);
    // A lower-case word: found where it is written so, from postings alone.
    assert_eq!(ids(&index, "raw:orange"), vec![4]);
    assert_eq!(ids(&index, "raw:panne"), vec![3]);
    assert_eq!(ids(&index, r#"raw:"L'été""#), vec![5]);
    assert_eq!(ids(&index, "raw:Apple"), Vec::<i64>::new());
    // Without a letter or digit: every text of the workspace is read.
    assert_eq!(ids(&index, "raw:😡"), vec![5]);
    // Decomposed accents: a combining mark belongs to its word, as in the matcher.
    let nfd = index_of(&[mention(1, "fr", "Un e\u{301}te\u{301} chaud"), mention(2, "fr", "Re\u{301}te\u{301}s")]);
    assert_eq!(ids(&nfd, "raw:e\u{301}te\u{301}"), vec![1]);
    assert_eq!(ids(&nfd, "raw:été"), Vec::<i64>::new());
    // Folded words are the matcher's: `e\u{301}te\u{301}` is the one word `ete`, not `e` and `te`.
    assert_eq!(ids(&nfd, "été"), vec![1]);
    assert_eq!(ids(&nfd, "ete"), vec![1]);
    assert_eq!(ids(&nfd, "retes"), vec![2]);
    assert_eq!(ids(&nfd, "te"), Vec::<i64>::new());
    assert_eq!(ids(&nfd, "raw:ete"), Vec::<i64>::new());
    // Query words arrive folded and are analysed again: folding twice is folding once (`Ǽ` is
    // `Æ` with an accent, spelled `ae` like `Æ` itself).
    let ligature = index_of(&[mention(1, "en", "Ǽlfred wrote"), mention(2, "en", "Ælfred and Œdipus")]);
    assert_eq!(ids(&ligature, "ǽlfred"), vec![1, 2]);
    assert_eq!(ids(&ligature, "aelfred"), vec![1, 2]);
    assert_eq!(ids(&ligature, "oedipus"), vec![2]);
    // Folded, as stored queries do without raw:.
    assert_eq!(ids(&index, r#""l'ete""#), vec![5, 6]);
}

/// Whether any file of `dir` holds `needle`.
fn files_hold(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let bytes = std::fs::read(e.unwrap().path()).unwrap_or_default();
        bytes.windows(needle.len()).any(|w| w == needle)
    })
}

#[test]
fn a_purge_takes_deleted_mentions_out_of_the_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    for i in 1..=20 {
        let text = if i == 7 { "Jean Zyxwvutsrq habite 12 rue des Lilas" } else { "orange en panne" };
        w.add(&mention(i, "fr", text)).unwrap();
    }
    w.commit().unwrap();
    // The stored text (the term dictionary is compressed: its words are not found this way).
    assert!(files_hold(dir.path(), b"Zyxwvutsrq"));
    assert!(!index.holds_deleted().unwrap());
    w.delete(7).unwrap();
    w.commit().unwrap();
    assert_eq!(ids(&index, "zyxwvutsrq"), Vec::<i64>::new());
    // Deleted from the results, but still in the files until its segment is rewritten.
    assert!(index.holds_deleted().unwrap());
    assert!(files_hold(dir.path(), b"Zyxwvutsrq"));
    assert_eq!(w.purge_deleted().unwrap(), 0);
    w.finish().unwrap();
    assert!(!index.holds_deleted().unwrap());
    assert!(!files_hold(dir.path(), b"Zyxwvutsrq"), "the stored text is gone");
    assert_eq!(index.num_segments(), 1);
    assert_eq!(ids(&index, "orange").len(), 19);
}
