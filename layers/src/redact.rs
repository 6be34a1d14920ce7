//! Credentials out of messages: the one function every URL-bearing error and history entry of
//! this crate and of tower-requests goes through.
//!
//! [`userinfo`] takes any text that may be a URL — a request URL, a `Location` value, a proxy
//! setting, well-formed or not, with or without a scheme — and removes what could be a
//! `user:password@` part of its authority. When the text is a URL the `url` crate parses, only
//! its userinfo goes (what the parser would take as user and password: after `scheme:` and any
//! slashes or backslashes, up to the last `@` before the path, query or fragment). When it does
//! not parse, nothing says where its authority ends (a password holding a raw `#`, `/` or `?`
//! ends it early), so everything up to its last `@` goes: a message loses some detail rather
//! than risk a password.
//!
//! ```
//! use tower_requests_layers::redact;
//! assert_eq!(redact::userinfo("http://u:pw@h:1/p?q=a@b"), "http://h:1/p?q=a@b");
//! assert_eq!(redact::userinfo("u:s3cretpw@[bad"), "[bad");
//! assert_eq!(redact::userinfo("http://u:p#ss@h"), "http://h");
//! assert_eq!(redact::userinfo("/relative/path"), "/relative/path");
//! ```

use std::borrow::Cow;

use http::Uri;

/// `text` without anything that could be the userinfo of its authority (see the module docs).
/// Text with no `@` is returned as it is, without a copy.
pub fn userinfo(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    // The URL parser ignores leading spaces and control characters.
    let lead = text.len() - text.trim_start_matches(|c: char| c <= ' ').len();
    let Some((start, parses)) = authority(&text[lead..]) else {
        return Cow::Borrowed(text);
    };
    let start = lead + start;
    let rest = &text[start..];
    let end = if parses {
        rest.find(['/', '?', '#']).unwrap_or(rest.len())
    } else {
        rest.len()
    };
    match rest[..end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}{}", &text[..start], &rest[at + 1..])),
        None => Cow::Borrowed(text),
    }
}

/// `uri` without userinfo.
pub fn uri(uri: &Uri) -> Uri {
    match uri.authority() {
        Some(a) if a.as_str().contains('@') => {
            let text = uri.to_string();
            match userinfo(&text).parse() {
                Ok(clean) => clean,
                // Cannot happen (the same URI less its userinfo); never keep the credentials.
                Err(_) => Uri::from_static("/"),
            }
        }
        _ => uri.clone(),
    }
}

/// Where the authority of `text` begins, and whether the URL parser accepts `text` as a URL
/// with that authority (so that it is known where the authority ends); `None` for a path or
/// query without authority.
///
/// - `scheme:` and one or more slashes (or backslashes): after them;
/// - two slashes (a scheme-relative reference): after them;
/// - any other text, `u:pw@host` or `http:u:pw@host` included: at the start (what precedes an
///   `@` there may be a scheme or a user name, and it goes either way), and it is read as
///   `http://text`, which is what a proxy setting without a scheme means.
fn authority(text: &str) -> Option<(usize, bool)> {
    let b = text.as_bytes();
    let slashes = |from: usize| {
        b[from..]
            .iter()
            .take_while(|c| matches!(c, b'/' | b'\\'))
            .count()
    };
    if b.first().is_some_and(u8::is_ascii_alphabetic) {
        let scheme_len = b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
            .unwrap_or(b.len());
        if b.get(scheme_len) == Some(&b':') {
            let n = slashes(scheme_len + 1);
            if n > 0 {
                return Some((scheme_len + 1 + n, url::Url::parse(text).is_ok()));
            }
        }
    } else if matches!(b.first(), Some(b'/' | b'\\' | b'?' | b'#')) {
        let n = slashes(0);
        if n < 2 {
            return None;
        }
        return Some((n, url::Url::parse(&format!("http:{text}")).is_ok()));
    }
    Some((0, url::Url::parse(&format!("http://{text}")).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_userinfo_only_from_urls() {
        for (input, out) in [
            ("http://u:p@h/x@y", "http://h/x@y"),
            ("http://h/x", "http://h/x"),
            ("/x", "/x"),
            ("/@alice", "/@alice"),
            ("https://h/p?mail=a@b.c", "https://h/p?mail=a@b.c"),
            ("http://u:p%40ss@h:1/", "http://h:1/"),
            ("http://u:p@ss@h/", "http://h/"),
            ("  http://u:pw@h/", "  http://h/"),
            ("http:\\\\u:pw@h/", "http:\\\\h/"),
            ("http:u:pw@h/", "h/"),
            ("u:pw@proxy:3128", "proxy:3128"),
            ("socks5h://u:pw@s:1080", "socks5h://s:1080"),
            ("//u:pw@h/p", "//h/p"),
            ("?a=b@c", "?a=b@c"),
        ] {
            assert_eq!(userinfo(input), out, "{input}");
        }
    }

    #[test]
    fn unparsable_text_loses_everything_before_its_last_at() {
        for (input, out) in [
            ("u:s3cretpw@[bad", "[bad"),
            ("http://u:s3cretpw@[bad", "http://[bad"),
            ("http://u:p#ss@h", "http://h"),
            ("http://u:p/ss@h", "http://h"),
            ("http://u:p?ss@h", "http://h"),
            ("u:p#ss@h", "h"),
            ("//u:p#ss@h", "//h"),
        ] {
            assert_eq!(userinfo(input), out, "{input}");
        }
    }

    #[test]
    fn uris() {
        let uri: Uri = "http://u:p@h:81/a?b".parse().unwrap();
        assert_eq!(super::uri(&uri), "http://h:81/a?b");
        let plain: Uri = "http://h/a@b".parse().unwrap();
        assert_eq!(super::uri(&plain), plain);
    }
}
