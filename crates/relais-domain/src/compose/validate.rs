//! Applies a network's rules to every field of a draft and collects every problem.

use super::count::{self, Counter};
use super::rules::{self, MediaRule, Need, Rules, TextRule};
use super::scan::{find_hashtags, find_mentions, find_urls};
use super::{Context, Draft, Field, MediaInfo, MediaKind, Problem, Report, messages};
use crate::{Msg, Network};

/// The media kinds, in the order problems about them are reported.
const KINDS: [MediaKind; 3] = [MediaKind::Image, MediaKind::Gif, MediaKind::Video];

/// Validates `draft` for `network` and returns every problem found (never stops at the first).
pub fn check(network: Network, draft: &Draft, ctx: &Context) -> Report {
    let rules = rules::for_network(network, ctx);
    // Mastodon counts the content warning in every status's length (its length validator joins
    // `spoiler_text` and the text, in graphemes).
    let reserved = match (network, draft.content_warning.filter(|cw| !cw.is_empty())) {
        (Network::Mastodon, Some(cw)) => count::measure(Counter::Graphemes, cw, &ctx.mastodon),
        _ => 0,
    };
    let mut v = Validator { network, rules, ctx, reserved, problems: Vec::new() };
    v.empty(draft);
    v.post_text(Field::Text, draft.text);
    v.thread(draft.thread);
    v.first_comment(draft.first_comment);
    v.title(draft.title);
    v.board(draft.board);
    v.link(draft.link);
    v.media(draft.media);
    let counter = rules.text.counter;
    Report {
        network,
        counted: count::measure(counter, draft.text, &ctx.mastodon) + v.reserved,
        limit: rules.text.limit,
        unit: counter.unit(),
        problems: v.problems,
    }
}

/// Validates `draft` for each of `networks`, in the order given.
pub fn check_all(networks: &[Network], draft: &Draft, ctx: &Context) -> Vec<Report> {
    networks.iter().map(|&n| check(n, draft, ctx)).collect()
}

/// Accumulates the problems of one draft on one network.
struct Validator<'c> {
    network: Network,
    rules: Rules,
    ctx: &'c Context,
    /// Length the content warning takes from every post text's budget.
    reserved: usize,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn push(&mut self, code: &'static str, field: Field, range: Option<(usize, usize)>, message: Msg) {
        let (start, end) = range.unzip();
        self.problems.push(Problem { code, field, start, end, message });
    }

    fn empty(&mut self, draft: &Draft) {
        if draft.text.trim().is_empty() && draft.media.is_empty() {
            self.push("empty", Field::Text, None, messages::empty(Field::Text));
        }
    }

    /// The checks every post text gets: the main text, each thread part, the first comment.
    fn post_text(&mut self, field: Field, text: &str) {
        self.length(field, text, self.rules.text);
        if let Some(extra) = self.rules.extra_text {
            self.length(field, text, extra);
        }
        if field == Field::Text {
            self.angle_brackets(field, text);
        }
        self.caps(field, text);
    }

    fn length(&mut self, field: Field, text: &str, rule: TextRule) {
        let units = count::units(rule.counter, text, &self.ctx.mastodon);
        let Some(start) = count::overflow_start(&units, rule.limit.saturating_sub(self.reserved)) else { return };
        let counted = units.iter().map(|u| u.cost).sum::<usize>() + self.reserved;
        let unit = rule.counter.unit();
        let message = messages::too_long(field, counted, unit, self.network, rule.limit);
        self.push(rule.code, field, Some((start, text.chars().count())), message);
    }

    fn angle_brackets(&mut self, field: Field, text: &str) {
        if !self.rules.no_angle_brackets {
            return;
        }
        if let Some(pos) = text.chars().position(|c| c == '<' || c == '>') {
            let message = messages::angle_brackets(field, self.network);
            self.push("angle_brackets", field, Some((pos, pos + 1)), message);
        }
    }

    /// Links, hashtags and mentions per text.
    fn caps(&mut self, field: Field, text: &str) {
        let urls = || find_urls(text).into_iter().map(|u| (u.start, u.end)).collect();
        let tags = || find_hashtags(text);
        let mentions = || find_mentions(text).into_iter().map(|m| (m.start, m.end)).collect();
        self.cap(field, text, ("too_many_links", "links"), self.rules.max_links, urls);
        self.cap(field, text, ("too_many_hashtags", "hashtags"), self.rules.max_hashtags, tags);
        self.cap(field, text, ("too_many_mentions", "mentions"), self.rules.max_mentions, mentions);
    }

    /// Reports when `spans()` (byte ranges) has more than `max` items; highlights the extra ones.
    fn cap(
        &mut self,
        field: Field,
        text: &str,
        (code, what): (&'static str, &str),
        max: Option<usize>,
        spans: impl FnOnce() -> Vec<(usize, usize)>,
    ) {
        let Some(max) = max else { return };
        let spans = spans();
        let (Some(&(first_extra, _)), Some(&(_, last_end))) = (spans.get(max), spans.last()) else {
            return;
        };
        let range = (char_offset(text, first_extra), char_offset(text, last_end));
        let message = messages::too_many_items(field, what, spans.len(), max, self.network);
        self.push(code, field, Some(range), message);
    }

    fn thread(&mut self, parts: &[String]) {
        if parts.is_empty() {
            return;
        }
        if !self.rules.thread {
            let message = messages::threads_unsupported(self.network);
            self.push("threads_unsupported", Field::Thread(0), None, message);
            return;
        }
        for (i, part) in parts.iter().enumerate() {
            let field = Field::Thread(i);
            if part.trim().is_empty() {
                self.push("empty", field, None, messages::empty(field));
            }
            self.post_text(field, part);
        }
    }

    fn first_comment(&mut self, comment: Option<&str>) {
        let Some(comment) = comment.filter(|c| !c.trim().is_empty()) else { return };
        if self.rules.first_comment {
            self.post_text(Field::FirstComment, comment);
        } else {
            let message = messages::first_comment_unsupported(self.network);
            self.push("first_comment_unsupported", Field::FirstComment, None, message);
        }
    }

    fn title(&mut self, title: Option<&str>) {
        let Some(rule) = self.rules.title else { return };
        match title.filter(|t| !t.trim().is_empty()) {
            None if rule.required => {
                let message = messages::required(Field::Title, self.network);
                self.push("title_required", Field::Title, None, message);
            }
            None => {}
            Some(title) => {
                let length = TextRule { code: "title_too_long", counter: Counter::Chars, limit: rule.max_chars };
                self.length(Field::Title, title, length);
                self.angle_brackets(Field::Title, title);
            }
        }
    }

    fn board(&mut self, board: Option<&str>) {
        if self.rules.board_required && board.is_none_or(|b| b.trim().is_empty()) {
            let message = messages::required(Field::Board, self.network);
            self.push("board_required", Field::Board, None, message);
        }
    }

    fn link(&mut self, link: Option<&str>) {
        let Some(link) = link.filter(|l| !l.trim().is_empty()) else { return };
        if !is_single_url(link.trim()) {
            self.push("link_invalid", Field::Link, None, messages::link_invalid(link));
        }
        if let Some(max) = self.rules.link_max_chars {
            let length = TextRule { code: "link_too_long", counter: Counter::Chars, limit: max };
            self.length(Field::Link, link, length);
        }
    }

    fn media(&mut self, media: &[MediaInfo]) {
        let rule = self.rules.media;
        self.media_need(rule, media);
        if let Some(max) = rule.max_total.filter(|&max| media.len() > max) {
            let message = messages::too_many_media(media.len(), max, self.network);
            self.push("too_many_media", Field::Media, Some((max, media.len())), message);
        }
        for kind in KINDS {
            self.kind_count(rule, kind, media);
        }
        let present = KINDS.iter().filter(|&&k| media.iter().any(|m| effective(rule, m.kind) == k));
        if !rule.mixing && present.count() > 1 {
            self.push("media_mixed", Field::Media, None, messages::media_mixed(self.network));
        }
        for (i, m) in media.iter().enumerate() {
            self.media_size(rule, i, m);
        }
    }

    fn media_need(&mut self, rule: MediaRule, media: &[MediaInfo]) {
        match rule.need {
            Need::AnyMedia if media.is_empty() => {
                self.push("media_required", Field::Media, None, messages::media_required(self.network));
            }
            Need::Video if !media.iter().any(|m| m.kind == MediaKind::Video) => {
                self.push("video_required", Field::Media, None, messages::video_required(self.network));
            }
            _ => {}
        }
    }

    fn kind_count(&mut self, rule: MediaRule, kind: MediaKind, media: &[MediaInfo]) {
        let count = media.iter().filter(|m| effective(rule, m.kind) == kind).count();
        let cap = match kind {
            MediaKind::Image => rule.max_images,
            MediaKind::Gif => rule.max_gifs,
            MediaKind::Video => rule.max_videos,
        };
        let codes = kind_codes(kind);
        match cap {
            Some(0) if count > 0 => {
                self.push(codes.unsupported, Field::Media, None, messages::kind_unsupported(kind, self.network));
            }
            Some(max) if count > max => {
                let message = messages::too_many_kind(kind, count, max, self.network);
                self.push(codes.too_many, Field::Media, None, message);
            }
            _ => {}
        }
    }

    fn media_size(&mut self, rule: MediaRule, index: usize, m: &MediaInfo) {
        let max = match effective(rule, m.kind) {
            MediaKind::Image => rule.image_bytes,
            MediaKind::Gif => rule.gif_bytes,
            MediaKind::Video => rule.video_bytes,
        };
        if let Some(max) = max.filter(|&max| m.bytes > max) {
            let message = messages::too_large(m.kind, index, m.bytes, max, self.network);
            self.push(kind_codes(m.kind).too_large, Field::Media, Some((index, index + 1)), message);
        }
    }
}

/// The problem codes about one media kind.
struct KindCodes {
    unsupported: &'static str,
    too_many: &'static str,
    too_large: &'static str,
}

fn kind_codes(kind: MediaKind) -> KindCodes {
    let (unsupported, too_many, too_large) = match kind {
        MediaKind::Image => ("images_unsupported", "too_many_images", "image_too_large"),
        MediaKind::Gif => ("gifs_unsupported", "too_many_gifs", "gif_too_large"),
        MediaKind::Video => ("videos_unsupported", "too_many_videos", "video_too_large"),
    };
    KindCodes { unsupported, too_many, too_large }
}

/// The kind an attachment counts as on this network (GIFs are images on most).
fn effective(rule: MediaRule, kind: MediaKind) -> MediaKind {
    if kind == MediaKind::Gif && rule.gif_as_image { MediaKind::Image } else { kind }
}

/// A link is valid when a URL starts right at its beginning and it has no whitespace (trailing
/// punctuation or an unbalanced `)` in a link is tolerated: the link is not running text).
fn is_single_url(link: &str) -> bool {
    let starts_with_url = find_urls(link).first().is_some_and(|u| u.start == 0);
    starts_with_url && !link.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}
