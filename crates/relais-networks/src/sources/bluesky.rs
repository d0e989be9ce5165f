//! Bluesky as a listening source: the repository event stream (`com.atproto.sync.subscribeRepos`) and keyword search.
