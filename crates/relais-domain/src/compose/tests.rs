//! Tests of `check` / `check_all`: every rule of every network.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::Network::*;

fn img(bytes: u64) -> MediaInfo {
    MediaInfo { kind: MediaKind::Image, mime: "image/jpeg".into(), bytes, width: None, height: None }
}
fn gif() -> MediaInfo {
    MediaInfo { kind: MediaKind::Gif, mime: "image/gif".into(), bytes: 1_000, width: None, height: None }
}
fn video(bytes: u64) -> MediaInfo {
    MediaInfo { kind: MediaKind::Video, mime: "video/mp4".into(), bytes, width: Some(1080), height: Some(1920) }
}
fn images(n: usize) -> Vec<MediaInfo> {
    vec![img(1_000); n]
}

/// The problem codes of `draft` on `network`, in report order.
fn codes(network: Network, draft: &Draft, ctx: &Context) -> Vec<&'static str> {
    check(network, draft, ctx).problems.iter().map(|p| p.code).collect()
}

/// Table-driven: (network, draft, expected codes).
fn check_cases(ctx: &Context, cases: &[(Network, Draft, &[&str])]) {
    for (network, draft, expected) in cases {
        assert_eq!(codes(*network, draft, ctx), *expected, "{network} on {draft:?}");
    }
}

fn text(t: &str) -> Draft<'_> {
    Draft { text: t, ..Draft::default() }
}

#[test]
fn every_network_at_and_past_its_limit() {
    let one_img = images(1);
    let one_video = [video(1_000)];
    // (network, unit string, limit, media needed, (title, board))
    type Case<'a> = (Network, &'a str, usize, &'a [MediaInfo], (Option<&'a str>, Option<&'a str>));
    let table: [Case; 11] = [
        (X, "a", 280, &[], (None, None)),
        (X, "中", 140, &[], (None, None)),
        (Bluesky, "a", 300, &[], (None, None)),
        (Mastodon, "a", 500, &[], (None, None)),
        (Threads, "a", 500, &[], (None, None)),
        (Linkedin, "a", 3_000, &[], (None, None)),
        (Facebook, "a", 63_206, &[], (None, None)),
        (Instagram, "a", 2_200, &one_img, (None, None)),
        (Tiktok, "a", 2_200, &one_video, (None, None)),
        (Pinterest, "a", 500, &one_img, (Some("Pin"), Some("Board"))),
        (Sandbox, "a", 5_000, &[], (None, None)),
    ];
    for (network, unit, n, media, (title, board)) in table {
        let at = unit.repeat(n);
        let past = unit.repeat(n + 1);
        let draft = |t| Draft { text: t, media, title, board, ..Draft::default() };
        assert!(check(network, &draft(&at), &Context::default()).ok(), "{network} at limit");
        let report = check(network, &draft(&past), &Context::default());
        assert_eq!(report.problems.len(), 1, "{network} past limit: {report:?}");
        let p = &report.problems[0];
        assert_eq!((p.code, p.field), ("text_too_long", Field::Text), "{network}");
        assert_eq!((p.start, p.end), (Some(n), Some(n + 1)), "{network}");
    }
}

#[test]
fn youtube_and_tiktok_limits_in_their_units() {
    let ctx = Context::default();
    let v = [video(1_000)];
    let yt = |t| Draft { text: t, media: &v, title: Some("Title"), ..Draft::default() };
    let at = "é".repeat(2_500); // 5,000 bytes
    let past = format!("{at}a");
    check_cases(&ctx, &[(Youtube, yt(&at), &[]), (Youtube, yt(&past), &["text_too_long"])]);
    let report = check(Youtube, &yt(&past), &ctx);
    assert_eq!((report.counted, report.limit, report.unit), (5_001, 5_000, "bytes"));
    assert_eq!(report.problems[0].start, Some(2_500));

    let tt = |t| Draft { text: t, media: &v, ..Draft::default() };
    let at = "😷".repeat(1_100); // 2,200 UTF-16 units
    let past = format!("{at}a");
    check_cases(&ctx, &[(Tiktok, tt(&at), &[]), (Tiktok, tt(&past), &["text_too_long"])]);
    assert_eq!(check(Tiktok, &tt(&at), &ctx).unit, "UTF-16 units");
}

#[test]
fn threads_counts_emoji_bytes() {
    let ctx = Context::default();
    let at = format!("{}😷", "a".repeat(496));
    let past = format!("{}😷", "a".repeat(497));
    check_cases(&ctx, &[(Threads, text(&at), &[]), (Threads, text(&past), &["text_too_long"])]);
    let p = &check(Threads, &text(&past), &ctx).problems[0];
    assert_eq!((p.start, p.end), (Some(497), Some(498)));
}

#[test]
fn bluesky_graphemes_and_bytes_are_separate_problems() {
    let ctx = Context::default();
    let family = "👨‍👩‍👧‍👦";
    let bytes_only = family.repeat(300); // 300 graphemes, 7,500 bytes
    let both = family.repeat(301);
    let accents = "e\u{301}".repeat(300); // 300 graphemes, 900 bytes
    check_cases(
        &ctx,
        &[
            (Bluesky, text(&bytes_only), &["text_too_many_bytes"]),
            (Bluesky, text(&both), &["text_too_long", "text_too_many_bytes"]),
            (Bluesky, text(&accents), &[]),
        ],
    );
    let report = check(Bluesky, &text(&both), &ctx);
    assert_eq!((report.counted, report.limit, report.unit), (301, 300, "graphemes"));
    // 3,000 bytes = 120 families; the first family past the limit starts at char 120 × 7.
    assert_eq!(report.problems[1].start, Some(120 * 7));
}

#[test]
fn bluesky_message_is_bilingual() {
    let t = "a".repeat(312);
    let p = &check(Bluesky, &text(&t), &Context::default()).problems[0];
    assert_eq!(p.message.en, "The text is 312 graphemes long; Bluesky allows 300.");
    assert_eq!(p.message.fr, "Le texte fait 312 graphèmes ; Bluesky en autorise 300.");
}

#[test]
fn x_counts_urls_and_emoji() {
    let ctx = Context::default();
    let long_url = format!("{} https://example.com/{}", "a".repeat(256), "x".repeat(300));
    let families = "👨‍👩‍👧‍👦".repeat(140);
    let flags = "🇫🇷".repeat(141);
    check_cases(
        &ctx,
        &[
            (X, text(&long_url), &[]), // 256 + 1 + 23 = 280
            (X, text(&families), &[]),
            (X, text(&flags), &["text_too_long"]),
        ],
    );
    assert_eq!(check(X, &text(&long_url), &ctx).counted, 280);
}

#[test]
fn mastodon_uses_instance_limits() {
    let big = Context {
        mastodon: MastodonInstance {
            max_characters: 1_000,
            max_media_attachments: 6,
            image_size_limit: 40_000_000,
            ..MastodonInstance::default()
        },
    };
    let default = Context::default();
    let at = format!("@alice@mastodon.social {}", "a".repeat(493)); // 6 + 1 + 493 = 500
    let past = format!("{at}!");
    let url = format!("https://example.com/{} {}", "x".repeat(600), "a".repeat(476)); // 23 + 1 + 476
    let long = "a".repeat(900);
    let six = images(6);
    let large = [img(20_000_000)];
    check_cases(
        &default,
        &[
            (Mastodon, text(&at), &[]),
            (Mastodon, text(&past), &["text_too_long"]),
            (Mastodon, text(&url), &[]),
            (Mastodon, text(&long), &["text_too_long"]),
            (Mastodon, Draft { media: &six, ..text("x") }, &["too_many_images"]),
            (Mastodon, Draft { media: &large, ..text("x") }, &["image_too_large"]),
        ],
    );
    check_cases(
        &big,
        &[
            (Mastodon, text(&long), &[]),
            (Mastodon, Draft { media: &six, ..text("x") }, &[]),
            (Mastodon, Draft { media: &large, ..text("x") }, &[]),
        ],
    );
    assert_eq!(check(Mastodon, &text(&long), &big).limit, 1_000);
}

#[test]
fn mastodon_instance_from_json() {
    let full = serde_json::json!({"configuration": {
        "statuses": {"max_characters": 5000, "characters_reserved_per_url": 30, "max_media_attachments": 8},
        "media_attachments": {"image_size_limit": 1, "video_size_limit": 2}
    }});
    let partial = serde_json::json!({"configuration": {"statuses": {"max_characters": "oops"},
        "media_attachments": {"video_size_limit": 7}}});
    let expected_full = MastodonInstance {
        max_characters: 5000,
        characters_reserved_per_url: 30,
        max_media_attachments: 8,
        image_size_limit: 1,
        video_size_limit: 2,
    };
    let expected_partial = MastodonInstance { video_size_limit: 7, ..MastodonInstance::default() };
    assert_eq!(MastodonInstance::from_instance_json(&full), expected_full);
    assert_eq!(MastodonInstance::from_instance_json(&partial), expected_partial);
    assert_eq!(MastodonInstance::from_instance_json(&serde_json::Value::Null), MastodonInstance::default());
}

#[test]
fn empty_on_every_network() {
    for network in Network::ALL {
        let codes = codes(network, &text("  \n"), &Context::default());
        assert_eq!(codes.first(), Some(&"empty"), "{network}");
    }
}

#[test]
fn media_rules() {
    let ctx = Context::default();
    let four = images(4);
    let five = images(5);
    let img_and_video = [img(1_000), video(1_000)];
    let two_gifs = [gif(), gif()];
    let img_gif = [img(1_000), gif()];
    let two_videos = [video(1), video(1)];
    let photos35 = images(35);
    let photos36 = images(36);
    let eleven = images(11);
    let ten = images(10);
    let twenty_one = images(21);
    let six = images(6);
    let big_img = [img(1_000), img(2_000_001)];
    let big_video = [video(300_000_001)];
    let x_big = [img(6 * 1024 * 1024)];
    let m = |media| Draft { media, ..text("hello") };
    check_cases(
        &ctx,
        &[
            (X, m(&four), &[]),
            (X, m(&five), &["too_many_images"]),
            (X, m(&img_and_video), &["media_mixed"]),
            (X, m(&two_gifs), &["too_many_gifs"]),
            (X, m(&img_gif), &["media_mixed"]),
            (X, m(&x_big), &["image_too_large"]),
            (Bluesky, m(&img_gif), &[]), // GIFs are images on Bluesky
            (Bluesky, m(&five), &["too_many_images"]),
            (Bluesky, m(&big_img), &["image_too_large"]),
            (Bluesky, m(&big_video), &["video_too_large"]),
            (Bluesky, m(&two_videos), &["too_many_videos"]),
            (Threads, m(&img_and_video), &[]),
            (Threads, m(&twenty_one), &["too_many_media"]),
            (Instagram, text("hello"), &["media_required"]),
            (Instagram, m(&ten), &[]),
            (Instagram, m(&eleven), &["too_many_media"]),
            (Tiktok, text("hello"), &["media_required"]),
            (Tiktok, m(&img_and_video), &["media_mixed"]),
            (Tiktok, m(&photos35), &[]),
            (Tiktok, m(&photos36), &["too_many_images"]),
            (Tiktok, m(&two_videos), &["too_many_videos"]),
            (Linkedin, m(&img_and_video), &["media_mixed"]),
            (Facebook, m(&img_and_video), &["media_mixed"]),
            (Pinterest, Draft { board: Some("b"), ..m(&six) }, &["too_many_images"]),
            (Sandbox, m(&ten), &[]),
            (Sandbox, m(&eleven), &["too_many_media"]),
        ],
    );
    let report = check(Bluesky, &m(&big_img), &ctx);
    assert_eq!((report.problems[0].start, report.problems[0].end), (Some(1), Some(2)));
    assert_eq!(report.problems[0].field, Field::Media);
}

#[test]
fn youtube_rules() {
    let ctx = Context::default();
    let v = [video(1_000)];
    let two = [video(1), video(1)];
    let pic = images(1);
    let title101 = "t".repeat(101);
    let title100 = "t".repeat(100);
    let yt = |title, media| Draft { title, media, ..text("A description") };
    check_cases(
        &ctx,
        &[
            (Youtube, yt(Some("Title"), &v), &[]),
            (Youtube, yt(None, &v), &["title_required"]),
            (Youtube, yt(Some("   "), &v), &["title_required"]),
            (Youtube, yt(Some(&title100), &v), &[]),
            (Youtube, yt(Some(&title101), &v), &["title_too_long"]),
            (Youtube, yt(Some("a <b>"), &v), &["angle_brackets"]),
            (Youtube, Draft { text: "1 > 0", ..yt(Some("T"), &v) }, &["angle_brackets"]),
            (Youtube, yt(Some("T"), &[]), &["video_required"]),
            (Youtube, yt(Some("T"), &pic), &["video_required", "images_unsupported"]),
            (Youtube, yt(Some("T"), &two), &["too_many_videos"]),
        ],
    );
    let p = &check(Youtube, &yt(Some("a <b>"), &v), &ctx).problems[0];
    assert_eq!((p.field, p.start, p.end), (Field::Title, Some(2), Some(3)));
}

#[test]
fn pinterest_rules() {
    let ctx = Context::default();
    let pic = images(1);
    let long_link = format!("https://example.com/{}", "x".repeat(2_100));
    let title101 = "t".repeat(101);
    let pin = |board| Draft { media: &pic, board, ..text("Nice pin") };
    check_cases(
        &ctx,
        &[
            (Pinterest, pin(Some("Recipes")), &[]),
            (Pinterest, pin(None), &["board_required"]),
            (Pinterest, pin(Some(" ")), &["board_required"]),
            (Pinterest, Draft { title: Some(&title101), ..pin(Some("b")) }, &["title_too_long"]),
            (Pinterest, Draft { link: Some("https://shop.fr/p"), ..pin(Some("b")) }, &[]),
            (Pinterest, Draft { link: Some(&long_link), ..pin(Some("b")) }, &["link_too_long"]),
            (Pinterest, Draft { link: Some("not a link"), ..pin(Some("b")) }, &["link_invalid"]),
            (Pinterest, Draft { link: Some("https://a.fr/x y"), ..pin(Some("b")) }, &["link_invalid"]),
            (Pinterest, Draft { link: Some("https://a.fr/x_(y"), ..pin(Some("b")) }, &[]),
            (Pinterest, Draft { media: &[], ..pin(Some("b")) }, &["media_required"]),
        ],
    );
}

#[test]
fn instagram_hashtags_and_mentions() {
    let ctx = Context::default();
    let pic = images(1);
    let tags = |n: usize| (1..=n).map(|i| format!("#tag{i}")).collect::<Vec<_>>().join(" ");
    let mentions = |n: usize| (1..=n).map(|i| format!("@user{i}")).collect::<Vec<_>>().join(" ");
    let (t30, t31, m20, m21) = (tags(30), tags(31), mentions(20), mentions(21));
    let ig = |t| Draft { text: t, media: &pic, ..Draft::default() };
    check_cases(
        &ctx,
        &[
            (Instagram, ig(&t30), &[]),
            (Instagram, ig(&t31), &["too_many_hashtags"]),
            (Instagram, ig(&m20), &[]),
            (Instagram, ig(&m21), &["too_many_mentions"]),
        ],
    );
    let p = &check(Instagram, &ig(&t31), &ctx).problems[0];
    let start = t31.find("#tag31").unwrap();
    assert_eq!((p.start, p.end), (Some(start), Some(t31.len())));
}

#[test]
fn threads_link_cap() {
    let ctx = Context::default();
    let links = |n: usize| (1..=n).map(|i| format!("https://s{i}.com")).collect::<Vec<_>>().join(" ");
    let (five, six) = (links(5), links(6));
    check_cases(&ctx, &[(Threads, text(&five), &[]), (Threads, text(&six), &["too_many_links"])]);
}

#[test]
fn thread_parts_and_first_comments() {
    let ctx = Context::default();
    let parts = vec!["second".to_string(), "a".repeat(281), " ".to_string()];
    let draft = Draft { thread: &parts, ..text("first") };
    let report = check(X, &draft, &ctx);
    let got: Vec<(&str, Field)> = report.problems.iter().map(|p| (p.code, p.field)).collect();
    assert_eq!(got, [("text_too_long", Field::Thread(1)), ("empty", Field::Thread(2))]);
    assert_eq!(report.problems[0].message.en, "Thread post 3 is 281 weighted characters long; X allows 280.");

    let one = vec!["second".to_string()];
    let with_thread = Draft { thread: &one, ..text("first") };
    let comment = Draft { first_comment: Some("Link in comment"), ..text("first") };
    let long_comment = "a".repeat(301);
    let long = Draft { first_comment: Some(&long_comment), ..text("first") };
    let pic = images(1);
    let v = [video(1)];
    check_cases(
        &ctx,
        &[
            (X, with_thread, &[]),
            (Bluesky, with_thread, &[]),
            (Mastodon, with_thread, &[]),
            (Threads, with_thread, &[]),
            (Sandbox, with_thread, &[]),
            (Linkedin, with_thread, &["threads_unsupported"]),
            (Facebook, with_thread, &["threads_unsupported"]),
            (Instagram, Draft { media: &pic, ..with_thread }, &["threads_unsupported"]),
            (Linkedin, comment, &[]),
            (Facebook, comment, &[]),
            (Instagram, Draft { media: &pic, ..comment }, &[]),
            (Youtube, Draft { media: &v, title: Some("T"), ..comment }, &[]),
            (Tiktok, Draft { media: &v, ..comment }, &["first_comment_unsupported"]),
            (Pinterest, Draft { media: &pic, board: Some("b"), ..comment }, &["first_comment_unsupported"]),
            (Sandbox, comment, &[]),
            (Bluesky, long, &["text_too_long"]),
            (Linkedin, Draft { first_comment: Some("   "), ..text("x") }, &[]),
        ],
    );
    assert_eq!(check(Bluesky, &long, &ctx).problems[0].field, Field::FirstComment);
}

#[test]
fn every_problem_at_once() {
    let long = "a".repeat(281);
    let media = [img(1), img(1), img(1), img(1), img(1), video(1)];
    let parts = vec!["ok".to_string()];
    let draft = Draft { text: &long, media: &media, thread: &parts, first_comment: Some("c"), ..Draft::default() };
    assert_eq!(codes(X, &draft, &Context::default()), ["text_too_long", "too_many_images", "media_mixed"]);
    assert_eq!(
        codes(Tiktok, &draft, &Context::default()),
        ["threads_unsupported", "first_comment_unsupported", "media_mixed"]
    );
}

#[test]
fn check_all_keeps_order() {
    let reports = check_all(&[Sandbox, X, Bluesky], &text("hello"), &Context::default());
    let nets: Vec<Network> = reports.iter().map(|r| r.network).collect();
    assert_eq!(nets, [Sandbox, X, Bluesky]);
    assert!(reports.iter().all(Report::ok));
}

#[test]
fn problem_json_shape() {
    let parts = vec!["a".repeat(301)];
    let report = check(Bluesky, &Draft { thread: &parts, ..text("x") }, &Context::default());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["network"], "bluesky");
    assert_eq!(json["unit"], "graphemes");
    let p = &json["problems"][0];
    assert_eq!(p["code"], "text_too_long");
    assert_eq!(p["field"], "thread");
    assert_eq!(p["index"], 0);
    assert_eq!(p["start"], 300);
    assert_eq!(p["end"], 301);
    assert!(p["message"]["fr"].as_str().unwrap().starts_with("Le message 2 du fil fait 301 graphèmes"));
    let empty = serde_json::to_value(check(Sandbox, &text(""), &Context::default()).problems).unwrap();
    assert_eq!(empty[0]["field"], "text");
    assert!(empty[0].get("index").is_none());
    let media: MediaInfo =
        serde_json::from_str(r#"{"kind":"gif","mime":"image/gif","bytes":3,"width":null,"height":null}"#).unwrap();
    assert_eq!(media.kind, MediaKind::Gif);
}

/// Deterministic pseudo-random texts made of tricky pieces: nothing may panic and the counters
/// must agree with `check`.
#[test]
fn no_panic_on_arbitrary_text() {
    const PIECES: [&str; 24] = [
        "a",
        "é",
        "e\u{301}",
        "@",
        "#",
        "＃",
        ".",
        "/",
        ":",
        "(",
        ")",
        "https://",
        "x.com",
        "@a.b",
        " ",
        "😷",
        "👨‍👩‍👧‍👦",
        "🇫🇷",
        "中",
        "مرحبا",
        "-",
        "_",
        "@b@c.d",
        "?q=1",
    ];
    let mut seed: u64 = 42;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap()
    };
    let ctx = Context::default();
    for _ in 0..2_000 {
        let len = next() % 12;
        let t: String = (0..len).map(|_| PIECES[next() % PIECES.len()]).collect();
        for f in bluesky_facets(&t) {
            assert!(t.is_char_boundary(f.byte_start) && t.is_char_boundary(f.byte_end), "{t:?}");
        }
        for u in find_urls(&t) {
            assert!(u.start < u.end && u.end <= t.len(), "{t:?}");
        }
        let _ = (graphemes(&t), threads_length(&t), utf16_length(&t));
        assert_eq!(check(X, &text(&t), &ctx).counted, x_weighted_length(&t));
        assert_eq!(check(Mastodon, &text(&t), &ctx).counted, mastodon_length(&t, &ctx.mastodon));
        for network in Network::ALL {
            let _ = check(network, &text(&t), &ctx);
        }
    }
}

#[test]
fn mastodon_counts_the_content_warning_in_every_part() {
    let cw = "Spoiler 🎬"; // 9 graphemes
    let thread = vec!["b".repeat(491)];
    let at = "a".repeat(491);
    let draft = |t| Draft { text: t, content_warning: Some(cw), ..Draft::default() };
    let report = check(Mastodon, &draft(&at), &Context::default());
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.counted, 500);
    let past = "a".repeat(492);
    let report = check(Mastodon, &draft(&past), &Context::default());
    assert_eq!(report.problems.iter().map(|p| (p.code, p.start)).collect::<Vec<_>>(), [("text_too_long", Some(491))]);
    assert!(report.problems[0].message.en.contains("501"), "{}", report.problems[0].message.en);
    let long_thread = ["b".repeat(492)];
    let threaded = Draft { text: "a", thread: &long_thread, content_warning: Some(cw), ..Draft::default() };
    assert_eq!(codes(Mastodon, &threaded, &Context::default()), ["text_too_long"]);
    let ok_thread = Draft { text: "a", thread: &thread, content_warning: Some(cw), ..Draft::default() };
    assert!(check(Mastodon, &ok_thread, &Context::default()).ok());
    // Other networks have no content warning to count; an empty one counts nothing.
    assert!(check(Bluesky, &Draft { content_warning: Some(cw), ..text(&"a".repeat(300)) }, &Context::default()).ok());
    assert!(check(Mastodon, &Draft { content_warning: Some(""), ..text(&"a".repeat(500)) }, &Context::default()).ok());
}
