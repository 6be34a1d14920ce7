//! [`Response`]: status, headers, final URL, redirect history and body readers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode, Version};
use http_body_util::{BodyDataStream, BodyExt, LengthLimitError, Limited};
use url::Url;

use crate::error::{Error, Kind};
use crate::Body;

/// The default of [`SessionBuilder::max_body_size`](crate::SessionBuilder::max_body_size):
/// 10 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 10 * 1024 * 1024;

/// How much of a body the readers take.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyLimit {
    /// The most bytes `bytes`, `text` and `json` read (after decompression); `None`: no limit.
    max: Option<usize>,
    /// Set by the user (not the default): then it bounds `bytes_stream` too.
    explicit: bool,
}

impl BodyLimit {
    pub(crate) const DEFAULT: BodyLimit = BodyLimit {
        max: Some(DEFAULT_MAX_BODY_SIZE),
        explicit: false,
    };

    pub(crate) fn set(max: Option<usize>) -> BodyLimit {
        BodyLimit {
            max,
            explicit: true,
        }
    }
}

/// A response from a [`Session`](crate::Session).
///
/// The status and headers are here at once; the body is read by [`text`](Response::text),
/// [`bytes`](Response::bytes), [`json`](Response::json) or
/// [`bytes_stream`](Response::bytes_stream). Against a small server (hidden lines) where `/old`
/// redirects to `/new`, which sets a cookie and answers JSON (`serde_json` is only for the JSON
/// value):
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # use axum::{http::header, response::Redirect, routing::get, Router};
/// # let app = Router::new()
/// #     .route("/old", get(|| async { Redirect::to("/new") }))
/// #     .route("/new", get(|| async {
/// #         ([(header::SET_COOKIE, "sid=abc; Path=/"), (header::CONTENT_TYPE, "application/json")],
/// #          r#"{"user":"ada","admin":false}"#)
/// #     }));
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let base = format!("http://{}", listener.local_addr()?);
/// # tokio::spawn(async move { axum::serve(listener, app).await });
/// use tower_requests::http::StatusCode;
/// use tower_requests::Session;
///
/// let session = Session::new();
/// // `base` is the test server's address, `http://127.0.0.1:<port>`.
/// let resp = session.get(format!("{base}/old")).send().await?;
/// assert_eq!(resp.status(), StatusCode::OK);
/// assert_eq!(resp.url().path(), "/new"); // the final URL
/// assert_eq!(resp.history().len(), 1); // one redirect followed (a 303 from /old)
/// assert_eq!(resp.headers()["content-type"], "application/json");
/// assert_eq!(resp.cookies()[0].name(), "sid"); // this response's Set-Cookie, parsed
///
/// let body: serde_json::Value = resp.error_for_status()?.json().await?;
/// assert_eq!(body["user"], "ada");
/// # Ok(()) }
/// ```
pub struct Response {
    inner: http::Response<Body>,
    /// Shared with the request (and the session's URL cache) unless a redirect changed it.
    url: Arc<Url>,
    limit: BodyLimit,
}

impl Response {
    pub(crate) fn new(inner: http::Response<Body>, request_url: Arc<Url>) -> Response {
        // Without a redirect the final URL is the one the caller gave: no need to parse it again.
        let redirected = inner
            .extensions()
            .get::<crate::layers::redirect::History>()
            .is_some_and(|h| !h.0.is_empty());
        let url = if redirected {
            final_url(&inner).map_or(request_url, Arc::new)
        } else {
            request_url
        };
        Response {
            inner,
            url,
            limit: BodyLimit::DEFAULT,
        }
    }

    pub(crate) fn with_body_limit(mut self, limit: BodyLimit) -> Response {
        self.limit = limit;
        self
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The HTTP version the response came over.
    pub fn version(&self) -> Version {
        self.inner.version()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The response extensions (layers may leave information here).
    pub fn extensions(&self) -> &http::Extensions {
        self.inner.extensions()
    }

    /// The final URL, after any redirects.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redirect responses that led here, oldest first (empty when there was no redirect).
    pub fn history(&self) -> &[crate::layers::redirect::Hop] {
        self.inner
            .extensions()
            .get::<crate::layers::redirect::History>()
            .map(|h| h.0.as_slice())
            .unwrap_or(&[])
    }

    /// The cookies this response set (its `Set-Cookie` headers, parsed for [`Response::url`]).
    /// Invalid or rejected lines, and deletions (already expired), are left out, as the jar
    /// would (requests' `r.cookies`).
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> Vec<crate::Cookie> {
        self.headers()
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| crate::layers::cookie::parse_set_cookie(v, &self.url).ok())
            .filter(|c| !c.is_expired())
            .collect()
    }

    /// The body length the server announced, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .or_else(|| http_body::Body::size_hint(self.inner.body()).exact())
    }

    /// `Err(is_status())` for 4xx and 5xx, like requests' `raise_for_status()`.
    pub fn error_for_status(self) -> Result<Response, Error> {
        match self.status_error() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Like [`Response::error_for_status`], keeping the response.
    pub fn error_for_status_ref(&self) -> Result<&Response, Error> {
        match self.status_error() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    fn status_error(&self) -> Option<Error> {
        let status = self.status();
        (status.is_client_error() || status.is_server_error())
            .then(|| Error::from_status(status, Url::clone(&self.url)))
    }

    /// The whole body (decompressed). At most
    /// [`max_body_size`](crate::SessionBuilder::max_body_size) bytes (10 MiB by default) are
    /// read: a longer body is an [`Error::is_body`] error naming the limit.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        let url = self.url;
        let body = self.inner.into_body();
        let collected = match self.limit.max {
            Some(max) => Limited::new(body, max).collect().await,
            None => body.collect().await,
        };
        collected
            .map(|b| b.to_bytes())
            .map_err(|e| body_error(e, self.limit, &url))
    }

    /// The body as text, decoded with the charset of `Content-Type` (UTF-8 when none is given;
    /// invalid sequences become U+FFFD, as requests does).
    pub async fn text(self) -> Result<String, Error> {
        let charset = self
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(charset_of)
            .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
            .unwrap_or(encoding_rs::UTF_8);
        let bytes = self.bytes().await?;
        let (text, _, _) = charset.decode(&bytes);
        Ok(text.into_owned())
    }

    /// The body parsed as JSON. Invalid JSON is an [`Error::is_decode`] error.
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, Error> {
        let url = self.url.clone();
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(e).with_url(&url))
    }

    /// The body as a stream of chunks, as they arrive. Unlimited, unless a
    /// [`max_body_size`](crate::SessionBuilder::max_body_size) was set explicitly (on the
    /// session or the request): then a stream longer than that ends with an [`Error::is_body`]
    /// error naming the limit.
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes, Error>> + Send {
        let (url, limit) = (self.url, self.limit);
        let body = match limit.max {
            Some(max) if limit.explicit => Body::new(Limited::new(self.inner.into_body(), max)),
            _ => self.inner.into_body(),
        };
        BodyDataStream::new(body).map_err(move |e| body_error(e, limit, &url))
    }

    /// The underlying `http::Response`.
    pub fn into_http(self) -> http::Response<Body> {
        self.inner
    }
}

/// The error of a body read: the limit's own message when it was the limit.
fn body_error(e: crate::BoxError, limit: BodyLimit, url: &Url) -> Error {
    match limit.max {
        Some(max) if e.is::<LengthLimitError>() => Error::with_message(
            Kind::Body,
            format!("the response body is longer than the limit of {max} bytes (max_body_size)"),
        )
        .with_url(url),
        _ => Error::body(e).with_url(url),
    }
}

/// The URL after redirects: the redirect layer's effective URI plus the fragment it carried
/// (`http::Uri` cannot hold one).
fn final_url(resp: &http::Response<Body>) -> Option<Url> {
    use crate::layers::redirect::{EffectiveUri, Fragment};
    let uri = &resp.extensions().get::<EffectiveUri>()?.0;
    let mut url = crate::layers::origin::to_url(uri)?;
    if let Some(Fragment(fragment)) = resp.extensions().get::<Fragment>() {
        url.set_fragment(Some(fragment));
    }
    Some(url)
}

/// The `charset` parameter of a Content-Type value.
fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.url.as_str())
            .field("status", &self.status())
            .field("headers", self.headers())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::charset_of;

    #[test]
    fn charset_parameter() {
        assert_eq!(
            charset_of("text/html; charset=ISO-8859-1").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(
            charset_of("text/plain;CHARSET=\"utf-8\"").as_deref(),
            Some("utf-8")
        );
        assert_eq!(charset_of("application/json"), None);
    }
}
