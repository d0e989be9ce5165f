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
            assert_eq!(similar_enough(&a, &b, t), jaccard(&a, &b) >= t, "{a:?} {b:?} {t}");
        }
    }
}
