//! Mastodon as a listening source: hashtag and public timelines.
