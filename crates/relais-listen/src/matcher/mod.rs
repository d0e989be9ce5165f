//! Many stored queries compiled into one matcher (work in progress, issue 4).
