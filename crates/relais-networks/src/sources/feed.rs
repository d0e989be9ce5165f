//! RSS and Atom feeds as a listening source: polite polling with ETag and If-Modified-Since.
