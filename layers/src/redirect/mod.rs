//! `FollowRedirectLayer`: redirects the way Python requests follows them, without leaking credentials.
