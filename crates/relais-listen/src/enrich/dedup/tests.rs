//! Near-duplicate grouping tests: trivial edits group, unrelated posts do not, memory is bounded.

use super::*;

const BASE: &str = "Le nouveau tram de Lyon est enfin en service, trajet de vingt minutes ce matin";

fn story_of(stories: &mut Stories, text: &str) -> Assignment {
    stories.add(text)
}

#[test]
fn normalises_like_the_reference() {
    let mut out = String::new();
    normalise("RT @marie: Été GÉNIAL!!! 😍 https://t.co/x #Lyon", &mut out);
    assert_eq!(out, "ete genial lyon");
    normalise("  ", &mut out);
    assert_eq!(out, "");
}

#[test]
fn trivial_edits_join_the_story() {
    let mut stories = Stories::new(StoriesConfig::default());
    let first = story_of(&mut stories, BASE);
    assert!(first.new);
    let edits = [
        format!("RT @lyonmag: {BASE}"),
        format!("{BASE} https://example.org/article?id=42"),
        format!("{BASE} 🚋🎉"),
        BASE.to_uppercase(),
        BASE.replace(',', ""),
        format!("{BASE} #Lyon"),
        BASE.replace("ce matin", "ce matin !"),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let got = story_of(&mut stories, edit);
        assert_eq!(got.story, first.story, "{edit}");
        assert_eq!(got.count, i as u32 + 2);
        assert!(!got.new);
    }
    assert_eq!(stories.count(first.story), Some(8));
}

#[test]
fn the_bound_on_comparisons_is_the_configured_one() {
    // Comparing with no story at all: a near copy starts its own story, an exact one (same
    // normalised text, found by its hash) still joins.
    let mut none = Stories::new(StoriesConfig { max_compared: 0, ..StoriesConfig::default() });
    let first = story_of(&mut none, BASE);
    assert!(story_of(&mut none, &format!("{BASE} #Lyon")).new);
    assert_eq!(story_of(&mut none, &BASE.to_uppercase()).story, first.story);
    let mut one = Stories::new(StoriesConfig { max_compared: 1, ..StoriesConfig::default() });
    let first = story_of(&mut one, BASE);
    assert_eq!(story_of(&mut one, &format!("{BASE} #Lyon")).story, first.story);
}

#[test]
fn unrelated_posts_stay_apart() {
    let mut stories = Stories::new(StoriesConfig::default());
    let posts = [
        BASE,
        "Le nouveau tram de Lyon est en panne depuis ce matin, aucune information",
        "Le nouveau métro de Rennes est enfin en service",
        "Great concert tonight in Lyon, thanks everyone",
        "Soldes : -50 % sur toute la collection jusqu'à dimanche",
        "Réunion annulée",
        "ok",
        "",
    ];
    let ids: Vec<u64> = posts.iter().map(|p| story_of(&mut stories, p).story).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), posts.len(), "{ids:?}");
}

#[test]
fn memory_is_bounded_least_recent_first() {
    let mut stories = Stories::new(StoriesConfig { capacity: 3, ..StoriesConfig::default() });
    let texts = ["alpha bravo charlie delta", "echo foxtrot golf hotel", "india juliett kilo lima"];
    let ids: Vec<u64> = texts.iter().map(|t| stories.add(t).story).collect();
    stories.add(texts[0]); // alpha is now the most recent
    stories.add("mike november oscar papa"); // evicts echo (least recent)
    assert_eq!(stories.len(), 3);
    assert_eq!(stories.count(ids[1]), None);
    assert_eq!(stories.add(texts[0]).story, ids[0]);
    assert!(stories.add(texts[1]).new, "a forgotten story starts again");
    for i in 0..1000 {
        stories.add(&format!("post number {i} about something else entirely {}", i * 7919));
    }
    assert_eq!(stories.len(), 3);
    assert!(stories.recency.len() <= 4 * 3 + 64);
}

#[test]
fn shrinking_forgets_the_least_recent_stories() {
    let mut stories = Stories::new(StoriesConfig::default());
    let texts = ["alpha bravo charlie delta", "echo foxtrot golf hotel", "india juliett kilo lima"];
    let ids: Vec<u64> = texts.iter().map(|t| stories.add(t).story).collect();
    stories.add(texts[0]); // alpha is now the most recent, echo the least
    stories.shrink_to(2);
    assert_eq!(stories.len(), 2);
    assert_eq!(stories.count(ids[1]), None);
    assert_eq!(stories.count(ids[0]), Some(2));
    assert_eq!(stories.add(texts[2]).story, ids[2], "a story kept is still found");
    assert!(stories.add(texts[1]).new, "a forgotten story starts again");
    stories.shrink_to(0);
    assert!(stories.is_empty());
    assert!(stories.add(texts[0]).new);
}

#[test]
fn shrinking_gives_the_memory_back_and_keeps_the_stories_working() {
    let text = |n: u64| {
        let words: Vec<String> =
            (1..=6u64).map(|k| format!("{:x}", (n * 7 + k).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20)).collect();
        words.join(" ")
    };
    let mut stories = Stories::new(StoriesConfig { capacity: 1_500, ..StoriesConfig::default() });
    // 2,000 stories (the first 500 evicted by capacity), then a copy of story 600 (now the most
    // recent).
    let ids: Vec<u64> = (0..2_000).map(|n| stories.add(&text(n)).story).collect();
    assert_eq!(stories.add(&text(600)).story, ids[600]);
    let before = stories.heap_bytes();
    stories.shrink_to(100);
    assert_eq!(stories.len(), 100);
    assert!(stories.heap_bytes() * 5 < before, "{} bytes of {before} kept", stories.heap_bytes());
    // The 99 most recent stories and story 600 are kept, with their ids and counts.
    for n in (1_901..2_000).chain([600]) {
        let a = stories.add(&text(n));
        assert_eq!((a.story, a.new), (ids[n as usize], false), "story {n}");
    }
    assert_eq!(stories.count(ids[600]), Some(3));
    // The others are forgotten: a copy starts a story with an id never given before.
    let again = stories.add(&text(1_000));
    assert!(again.new && again.story > ids[1_999]);
    // Eviction by capacity still takes the least recent first.
    for n in 3_000..4_500 {
        stories.add(&text(n));
    }
    assert_eq!(stories.len(), 1_500);
    assert!(!stories.add(&text(4_499)).new);
    assert!(stories.add(&text(1_950)).new, "evicted as the least recent");
}

/// After a repack, near copies (found through the LSH buckets, crowded ones included, not the
/// exact hash) get the same stories as in a grouper that never held the forgotten ones.
#[test]
fn a_repacked_grouper_answers_like_one_that_never_grew() {
    // Posts of one template: a shared half (crowded buckets, the ranker at work) and words of
    // their own (each post a story of its own).
    let word = |n: u64, k: u64| format!("{:x}", (n * 31 + k).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24);
    let text = |n: u64| {
        let own: Vec<String> = (0..8).map(|k| word(n, k)).collect();
        format!("grand jeu concours relais gagnez un week end a lyon {}", own.join(" "))
    };
    let (posts, kept) = (600u64, 100usize);
    let mut repacked = Stories::new(StoriesConfig::default());
    let mut small = Stories::new(StoriesConfig { capacity: kept, ..StoriesConfig::default() });
    for n in 0..posts {
        let (a, b) = (repacked.add(&text(n)), small.add(&text(n)));
        assert_eq!((a.story, a.new), (b.story, b.new), "post {n}");
    }
    assert!(repacked.bands.iter().any(|m| m.values().any(|b| b.len() > 16)), "no crowded bucket");
    repacked.shrink_to(kept);
    assert_eq!(repacked.slots.len(), kept, "repacked");
    // A near copy (a word added) of each post kept, then of a few forgotten ones (last: a new
    // story makes the small grouper evict, not the repacked one).
    let mut joined = 0;
    for n in (posts - kept as u64..posts).chain(0..10) {
        let copy = format!("{} bravo", text(n));
        let (a, b) = (repacked.add(&copy), small.add(&copy));
        assert_eq!((a.story, a.count, a.new), (b.story, b.count, b.new), "copy of post {n}");
        joined += usize::from(!a.new);
    }
    assert!(joined >= kept / 2, "only {joined} near copies joined their story");
}

#[test]
fn jaccard_of_sorted_sets() {
    assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
    assert_eq!(jaccard(&[], &[]), 1.0);
}

#[test]
fn sketches_added_later_give_the_stories_of_add() {
    let mut texts: Vec<String> = Vec::new();
    for i in 0..300 {
        texts.push(match i % 5 {
            0 => format!("{BASE} {}", i / 10),
            1 => format!("RT @x: {BASE}"),
            2 => format!("Message numéro {i} sans rapport avec le reste, vraiment pas"),
            3 => "https://t.co/only-a-link 😍".to_owned(),
            _ => texts[i / 2].to_uppercase(),
        });
    }
    let config = StoriesConfig { capacity: 40, ..StoriesConfig::default() };
    let (mut direct, mut sketched) = (Stories::new(config), Stories::new(config));
    let mut scratch = String::new();
    let sketches: Vec<Sketch> = texts.iter().map(|t| Sketch::of(t, &mut scratch)).collect();
    for (text, sketch) in texts.iter().zip(sketches) {
        assert_eq!(direct.add(text), sketched.add_sketch(sketch), "{text}");
    }
    assert_eq!(direct.len(), sketched.len());
}

#[test]
fn early_exit_agrees_with_the_exact_similarity() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    for _ in 0..20_000 {
        let universe = 1 + next(120);
        let mut a: Vec<u32> = (0..next(80)).map(|_| next(universe) as u32).collect();
        let mut b: Vec<u32> = (0..next(80)).map(|_| next(universe) as u32).collect();
        for v in [&mut a, &mut b] {
            v.sort_unstable();
            v.dedup();
        }
        for t in [0.0, 0.3, 0.5, 0.7, 0.9, 1.0] {
            let (sa, sb) = (Shingles::new(a.clone()), Shingles::new(b.clone()));
            assert_eq!(similar_enough(&sa, &sb, t), jaccard(&a, &b) >= t, "{a:?} {b:?} {t}");
        }
    }
}

#[test]
fn minhash_gives_the_double_hashing_values() {
    // The definition: the k-th value of a set is the least `h1 + k·h2` over its shingles.
    let reference = |shingles: &[u32]| -> [u32; HASHES] {
        let mut signature = [u32::MAX; HASHES];
        for &s in shingles {
            let h = mix64(u64::from(s));
            let (h1, h2) = (h as u32, ((h >> 32) as u32) | 1);
            for (k, slot) in signature.iter_mut().enumerate() {
                *slot = (*slot).min(h1.wrapping_add((k as u32).wrapping_mul(h2)));
            }
        }
        signature
    };
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for n in 0..200 {
        let shingles: Vec<u32> = (0..n % 90)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u32
            })
            .collect();
        assert_eq!(minhash(&shingles), reference(&shingles), "{shingles:?}");
    }
    assert_eq!(minhash(&[]), [u32::MAX; HASHES]);
}

#[test]
fn ascii_shingles_are_the_character_shingles() {
    // The general path, character by character, for texts of one-byte characters.
    let by_chars = |text: &str| -> Vec<u32> {
        let chars: Vec<char> = text.chars().collect();
        let mut out: Vec<u32> = if chars.len() <= SHINGLE {
            vec![hash_str(text) as u32]
        } else {
            chars.windows(SHINGLE).map(|w| hash_str(&w.iter().collect::<String>()) as u32).collect()
        };
        out.sort_unstable();
        out.dedup();
        out
    };
    for text in ["a", "abcde", "abcdef", "le tram de lyon est en service", "aaaaaaaaaaaa", "ete genial lyon"] {
        assert_eq!(shingles(text), by_chars(text), "{text}");
    }
    // And non-ASCII texts still cut by characters, not bytes.
    assert_eq!(shingles("é"), vec![hash_str("é") as u32]);
    assert_eq!(shingles("ωμεγα ωμεγα").len(), by_chars("ωμεγα ωμεγα").len());
}

#[test]
fn a_freed_slot_holds_a_new_story_and_never_answers_for_the_old_one() {
    let mut stories = Stories::new(StoriesConfig { capacity: 2, ..StoriesConfig::default() });
    let a = stories.add("alpha bravo charlie delta echo foxtrot").story;
    let b = stories.add("golf hotel india juliett kilo lima").story;
    // A third story takes the least recent one's slot.
    let c = stories.add("mike november oscar papa quebec romeo").story;
    assert_eq!((stories.len(), stories.count(a)), (2, None));
    // A copy of the forgotten story starts again; copies of the others join theirs.
    let again = stories.add("alpha bravo charlie delta echo foxtrot!");
    assert!(again.new);
    assert!(![a, b, c].contains(&again.story));
    let copy = stories.add("MIKE november oscar papa quebec romeo");
    assert_eq!((copy.story, copy.count, copy.new), (c, 2, false));
    assert_eq!(stories.len(), 2);
    // `b` was the least recent: forgotten for `again`.
    assert_eq!(stories.count(b), None);
    // Capacity 0 keeps nothing.
    let mut none = Stories::new(StoriesConfig { capacity: 0, ..StoriesConfig::default() });
    let first = none.add("sierra tango uniform victor whiskey");
    let second = none.add("sierra tango uniform victor whiskey");
    assert!(first.new && second.new && first.story != second.story);
    assert!(none.is_empty());
}

#[test]
fn crowded_buckets_still_find_the_story_of_a_near_copy() {
    // Posts cut from 22 templates (the pipeline benchmark's): most buckets hold many stories of
    // the same template. Comparing with 16 of them, ranked by the bands they share, finds nearly
    // every merge that comparing with all of them finds (taking the buckets in band order
    // missed about one in five).
    let mut rng = crate::corpus::Rng::new(0x005E_1A15);
    let brands = crate::corpus::brands(200, &mut rng);
    let posts = crate::corpus::posts(12_000, &brands, &mut rng);
    let stories_left = |max_compared| {
        let mut stories = Stories::new(StoriesConfig { capacity: 20_000, max_compared, ..StoriesConfig::default() });
        posts.iter().filter(|p| stories.add(&p.text).new).count()
    };
    let (bounded, every) = (stories_left(MAX_COMPARED), stories_left(usize::MAX));
    let merges = |stories: usize| posts.len() - stories;
    assert!(merges(bounded) * 100 >= merges(every) * 97, "{bounded} stories with the bound, {every} without");
}

#[test]
fn crowded_buckets_rank_stories_by_bands_shared_then_recency() {
    // Buckets list their stories oldest first. Story 7 is in three of the post's buckets, 3 and 11
    // in two (3 the most recent of a bucket, 11 one from the end), 9 and 20 in one.
    let lists: [&[u32]; 4] = [&[7, 20, 3], &[11, 7, 9], &[7], &[3, 11, 5]];
    let mut buckets: [Option<SmallVec<[u32; 4]>>; BANDS] = Default::default();
    for (band, list) in lists.iter().enumerate() {
        buckets[band * 3] = Some(list.iter().copied().collect());
    }
    let buckets: [Option<&SmallVec<[u32; 4]>>; BANDS] = std::array::from_fn(|b| buckets[b].as_ref());
    let mut ranker = Ranker::default();
    let ranked = |ranker: &mut Ranker, max| {
        let mut slots = SmallVec::new();
        ranker.rank(&buckets, max, &mut slots);
        slots.into_vec()
    };
    assert_eq!(ranked(&mut ranker, 100), [7, 3, 11, 5, 9, 20]);
    // The table is reset between posts: the same answer again, and cut at the bound.
    assert_eq!(ranked(&mut ranker, 3), [7, 3, 11]);
    assert_eq!(ranked(&mut ranker, 0), Vec::<u32>::new());
    assert!(ranker.table.iter().all(|e| *e == (0, 0, 0)) && ranker.used.is_empty());
}
