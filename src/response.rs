//! [`Response`]: status, headers, final URL, redirect history and body readers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode, Version};
use http_body_util::{BodyDataStream, BodyExt};
use url::Url;

use crate::error::Error;
use crate::Body;

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
        Response { inner, url }
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

    /// The whole body.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        let url = self.url;
        self.inner
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| Error::body(e).with_url(&url))
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

    /// The body as a stream of chunks, as they arrive.
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes, Error>> + Send {
        let url = self.url;
        BodyDataStream::new(self.inner.into_body()).map_err(move |e| Error::body(e).with_url(&url))
    }

    /// The underlying `http::Response`.
    pub fn into_http(self) -> http::Response<Body> {
        self.inner
    }
}

/// The URL after redirects: the redirect layer's effective URI plus the fragment it carried
/// (`http::Uri` cannot hold one).
fn final_url(resp: &http::Response<Body>) -> Option<Url> {
    use crate::layers::redirect::{EffectiveUri, Fragment};
    let uri = &resp.extensions().get::<EffectiveUri>()?.0;
    let mut url = Url::parse(&uri.to_string()).ok()?;
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
