//! `CookieLayer` and `CookieJar`: RFC 6265 / 6265bis cookies with a bundled Public Suffix List.
