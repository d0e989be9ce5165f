//! The limits of every network, as data: one const table per network.
//!
//! Sources: `market.md` §4 (twitter-text v3 config, atproto lexicons, Mastodon instance API,
//! Meta / TikTok / YouTube / Pinterest docs). Mastodon's limits are per server and come from
//! [`Context`]; its table holds the mastodon.social defaults and [`for_network`] overrides them.

use super::Context;
use super::count::Counter;
use crate::Network;

/// A length limit on a post text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRule {
    /// Problem code when exceeded.
    pub code: &'static str,
    /// How the text is measured.
    pub counter: Counter,
    /// The maximum, in the counter's unit.
    pub limit: usize,
}

/// Which media a post needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Media are optional.
    Nothing,
    /// At least one attachment.
    AnyMedia,
    /// A video.
    Video,
}

/// Media constraints. `None` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaRule {
    pub need: Need,
    pub max_total: Option<usize>,
    pub max_images: Option<usize>,
    /// Ignored when `gif_as_image`.
    pub max_gifs: Option<usize>,
    pub max_videos: Option<usize>,
    /// GIFs count (and are size-checked) as images.
    pub gif_as_image: bool,
    /// Whether images, GIFs and videos may be combined in one post.
    pub mixing: bool,
    pub image_bytes: Option<u64>,
    pub gif_bytes: Option<u64>,
    pub video_bytes: Option<u64>,
}

/// A title constraint (YouTube, Pinterest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TitleRule {
    pub required: bool,
    /// Maximum length in chars.
    pub max_chars: usize,
}

/// Everything the validator needs to know about a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    /// The main length rule; `Report::counted`/`limit` describe it.
    pub text: TextRule,
    /// A second length rule checked independently (Bluesky bytes).
    pub extra_text: Option<TextRule>,
    pub media: MediaRule,
    /// Thread parts allowed.
    pub thread: bool,
    /// First comment allowed.
    pub first_comment: bool,
    pub title: Option<TitleRule>,
    pub board_required: bool,
    /// `<` and `>` forbidden in the title and the text.
    pub no_angle_brackets: bool,
    pub max_links: Option<usize>,
    pub max_hashtags: Option<usize>,
    pub max_mentions: Option<usize>,
    /// Maximum length of the attached link, in chars.
    pub link_max_chars: Option<usize>,
}

const MB: u64 = 1024 * 1024;

const fn text(counter: Counter, limit: usize) -> TextRule {
    TextRule { code: "text_too_long", counter, limit }
}

const ANY_MEDIA: MediaRule = MediaRule {
    need: Need::Nothing,
    max_total: None,
    max_images: None,
    max_gifs: None,
    max_videos: None,
    gif_as_image: true,
    mixing: true,
    image_bytes: None,
    gif_bytes: None,
    video_bytes: None,
};

const BASE: Rules = Rules {
    text: text(Counter::Chars, 5_000),
    extra_text: None,
    media: ANY_MEDIA,
    thread: false,
    first_comment: false,
    title: None,
    board_required: false,
    no_angle_brackets: false,
    max_links: None,
    max_hashtags: None,
    max_mentions: None,
    link_max_chars: None,
};

const X: Rules = Rules {
    text: text(Counter::XWeighted, 280),
    media: MediaRule {
        max_images: Some(4),
        max_gifs: Some(1),
        max_videos: Some(1),
        gif_as_image: false,
        mixing: false,
        image_bytes: Some(5 * MB),
        gif_bytes: Some(15 * MB),
        ..ANY_MEDIA
    },
    thread: true,
    first_comment: true,
    ..BASE
};

const BLUESKY: Rules = Rules {
    text: text(Counter::Graphemes, 300),
    extra_text: Some(TextRule { code: "text_too_many_bytes", counter: Counter::Utf8Bytes, limit: 3_000 }),
    media: MediaRule {
        max_images: Some(4),
        max_videos: Some(1),
        mixing: false,
        image_bytes: Some(2_000_000),
        video_bytes: Some(300 * 1_000_000),
        ..ANY_MEDIA
    },
    thread: true,
    first_comment: true,
    ..BASE
};

/// mastodon.social defaults; see [`for_network`] for the per-server override.
const MASTODON: Rules = Rules {
    text: text(Counter::Mastodon, 500),
    media: MediaRule {
        max_images: Some(4),
        max_videos: Some(1),
        mixing: false,
        image_bytes: Some(16_777_216),
        video_bytes: Some(103_809_024),
        ..ANY_MEDIA
    },
    thread: true,
    first_comment: true,
    ..BASE
};

const THREADS: Rules = Rules {
    text: text(Counter::Threads, 500),
    media: MediaRule { max_total: Some(20), ..ANY_MEDIA },
    thread: true,
    first_comment: true,
    max_links: Some(5),
    ..BASE
};

const LINKEDIN: Rules = Rules {
    text: text(Counter::Chars, 3_000),
    media: MediaRule { max_images: Some(20), max_videos: Some(1), mixing: false, ..ANY_MEDIA },
    first_comment: true,
    ..BASE
};

const FACEBOOK: Rules = Rules {
    text: text(Counter::Chars, 63_206),
    media: MediaRule { max_videos: Some(1), mixing: false, ..ANY_MEDIA },
    first_comment: true,
    ..BASE
};

const INSTAGRAM: Rules = Rules {
    text: text(Counter::Chars, 2_200),
    media: MediaRule { need: Need::AnyMedia, max_total: Some(10), ..ANY_MEDIA },
    first_comment: true,
    max_hashtags: Some(30),
    max_mentions: Some(20),
    ..BASE
};

const TIKTOK: Rules = Rules {
    text: text(Counter::Utf16, 2_200),
    media: MediaRule { need: Need::AnyMedia, max_images: Some(35), max_videos: Some(1), mixing: false, ..ANY_MEDIA },
    ..BASE
};

const YOUTUBE: Rules = Rules {
    text: text(Counter::Utf8Bytes, 5_000),
    media: MediaRule { need: Need::Video, max_images: Some(0), max_videos: Some(1), ..ANY_MEDIA },
    first_comment: true,
    title: Some(TitleRule { required: true, max_chars: 100 }),
    no_angle_brackets: true,
    ..BASE
};

const PINTEREST: Rules = Rules {
    text: text(Counter::Chars, 500),
    media: MediaRule { need: Need::AnyMedia, max_images: Some(5), max_videos: Some(1), mixing: false, ..ANY_MEDIA },
    title: Some(TitleRule { required: false, max_chars: 100 }),
    board_required: true,
    link_max_chars: Some(2_048),
    ..BASE
};

const SANDBOX: Rules = Rules {
    text: text(Counter::Chars, 5_000),
    media: MediaRule { max_total: Some(10), ..ANY_MEDIA },
    thread: true,
    first_comment: true,
    ..BASE
};

/// The rules of `network`, with the dynamic limits of `ctx` applied.
pub(crate) fn for_network(network: Network, ctx: &Context) -> Rules {
    match network {
        Network::X => X,
        Network::Bluesky => BLUESKY,
        Network::Mastodon => mastodon(ctx),
        Network::Threads => THREADS,
        Network::Linkedin => LINKEDIN,
        Network::Facebook => FACEBOOK,
        Network::Instagram => INSTAGRAM,
        Network::Tiktok => TIKTOK,
        Network::Youtube => YOUTUBE,
        Network::Pinterest => PINTEREST,
        Network::Sandbox => SANDBOX,
    }
}

fn mastodon(ctx: &Context) -> Rules {
    let inst = &ctx.mastodon;
    Rules {
        text: TextRule { limit: inst.max_characters, ..MASTODON.text },
        media: MediaRule {
            max_images: Some(inst.max_media_attachments),
            image_bytes: Some(inst.image_size_limit),
            video_bytes: Some(inst.video_size_limit),
            ..MASTODON.media
        },
        ..MASTODON
    }
}
