//! The facade's one error type.
//!
//! Errors come out of any layer of the stack as a boxed error; [`Error`] keeps that error as its
//! [`source()`](std::error::Error::source) and classifies it by walking the source chain, so a
//! timeout from the per-attempt timeout layer, wrapped by the retry layer, is still
//! [`Error::is_timeout`]. The predicates mirror requests' exception classes:
//!
//! | requests                      | tower-requests                         |
//! |-------------------------------|----------------------------------------|
//! | `Timeout`                     | [`Error::is_timeout`]                  |
//! | `ConnectionError`             | [`Error::is_connect`]                  |
//! | `HTTPError` (raise_for_status)| [`Error::is_status`] + [`Error::status`]|
//! | `TooManyRedirects`            | [`Error::is_redirect`]                 |
//! | `RetryError`                  | [`Error::is_retry_exhausted`]          |
//! | `InvalidURL`, `InvalidHeader` | [`Error::is_builder`]                  |
//! | `JSONDecodeError`             | [`Error::is_decode`]                   |
//! | `ChunkedEncodingError`        | [`Error::is_body`]                     |
//! | `RequestException`            | any `Error`                            |

use std::error::Error as StdError;
use std::fmt;

use http::StatusCode;
use url::Url;

use crate::layers::classify::{chain, classify_one, ErrorClass};
use crate::BoxError;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, with the URL it went wrong for and the underlying cause.
///
/// `Display` says what happened and for which URL (never with its user name or password); the
/// underlying cause is [`source()`](std::error::Error::source) only, so that error reporters
/// (`anyhow`, `eyre`) print each cause once. `{:#}` prints the whole chain on one line.
///
/// Ask what happened with the `is_*` methods (they mirror requests' exception classes), and
/// read [`url()`](Error::url) and [`source()`](std::error::Error::source) for where and why.
/// Against a small server (hidden lines) with a missing page and a slow one, and a port where
/// nothing listens:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # use axum::{routing::get, Router};
/// # let app = Router::new().route("/slow", get(|| async {
/// #     tokio::time::sleep(std::time::Duration::from_secs(30)).await;
/// # }));
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let base = format!("http://{}", listener.local_addr()?);
/// # tokio::spawn(async move { axum::serve(listener, app).await });
/// # let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let closed_url = format!("http://{}/", closed.local_addr()?);
/// # drop(closed);
/// use std::time::Duration;
/// use tower_requests::{Error, Session};
///
/// async fn fetch(session: &Session, url: &str) -> Result<String, Error> {
///     let resp = session
///         .get(url)
///         .timeout(Duration::from_millis(200))
///         .send()
///         .await?
///         .error_for_status()?;
///     resp.text().await
/// }
///
/// fn describe(e: &Error) -> String {
///     match e {
///         e if e.is_timeout() => "timed out".to_string(),
///         e if e.is_connect() => "could not connect".to_string(),
///         e if e.is_status() => format!("HTTP {}", e.status().unwrap().as_u16()),
///         e if e.is_redirect() => "too many redirects".to_string(),
///         e if e.is_retry_exhausted() => "gave up retrying".to_string(),
///         e if e.is_builder() => "bad request setup".to_string(),
///         _ => "other".to_string(),
///     }
/// }
///
/// let session = Session::new();
/// // `base`: a test server's address; `closed_url`: a port where nothing listens.
/// let missing = fetch(&session, &format!("{base}/missing")).await.unwrap_err();
/// assert_eq!(describe(&missing), "HTTP 404");
/// assert_eq!(missing.url().unwrap().path(), "/missing");
///
/// let slow = fetch(&session, &format!("{base}/slow")).await.unwrap_err();
/// assert_eq!(describe(&slow), "timed out");
///
/// let refused = fetch(&session, &closed_url).await.unwrap_err();
/// assert_eq!(describe(&refused), "could not connect");
/// // The cause chain says why:
/// let mut cause = std::error::Error::source(&refused);
/// while let Some(c) = cause {
///     println!("  caused by: {c}");
///     cause = c.source();
/// }
/// # Ok(()) }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    url: Option<Url>,
    /// What went wrong, when it is said here rather than by a cause (a builder check, a limit).
    message: Option<Box<str>>,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The request could not be built (bad URL, header, body serialisation, client config).
    Builder,
    /// Sending the request or receiving the response failed.
    Request,
    /// `error_for_status` on a 4xx/5xx response.
    Status(StatusCode),
    /// Reading or replaying a body failed.
    Body,
    /// The body could not be decoded (JSON, charset).
    Decode,
}

impl Error {
    pub(crate) fn new(kind: Kind, url: Option<Url>, source: Option<BoxError>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                url: url.and_then(strip_credentials),
                message: None,
                source,
            }),
        }
    }

    /// An error that says what went wrong itself (no cause).
    pub(crate) fn with_message(kind: Kind, msg: impl Into<String>) -> Error {
        let mut e = Error::new(kind, None, None);
        e.inner.message = Some(msg.into().into_boxed_str());
        e
    }

    pub(crate) fn builder_msg(msg: impl Into<String>) -> Error {
        Error::with_message(Kind::Builder, msg)
    }

    pub(crate) fn builder<E: Into<BoxError>>(e: E) -> Error {
        Error::new(Kind::Builder, None, Some(e.into()))
    }

    pub(crate) fn body<E: Into<BoxError>>(e: E) -> Error {
        Error::new(Kind::Body, None, Some(e.into()))
    }

    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn decode<E: Into<BoxError>>(e: E) -> Error {
        Error::new(Kind::Decode, None, Some(e.into()))
    }

    pub(crate) fn from_status(status: StatusCode, url: Url) -> Error {
        Error::new(Kind::Status(status), Some(url), None)
    }

    /// An error that came out of the service stack. A facade `Error` coming back out of a mounted
    /// session is passed through (with the URL filled in if it had none).
    pub(crate) fn from_service(err: BoxError, url: Option<&Url>) -> Error {
        match err.downcast::<Error>() {
            Ok(mut e) => {
                if e.inner.url.is_none() {
                    e.inner.url = url.cloned().and_then(strip_credentials);
                }
                *e
            }
            Err(err) => {
                let kind = if chain(&*err).any(is_body_error) {
                    Kind::Body
                } else if chain(&*err).any(|e| e.is::<crate::BuildError>()) {
                    // A client whose settings were unusable (`HttpClient::new` with a bad proxy
                    // variable): nothing was sent.
                    Kind::Builder
                } else {
                    Kind::Request
                };
                Error::new(kind, url.cloned(), Some(err))
            }
        }
    }

    pub(crate) fn with_url(mut self, url: &Url) -> Error {
        self.inner.url = strip_credentials(url.clone());
        self
    }

    /// The message of an error that says what went wrong itself.
    pub(crate) fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The URL this error is about (credentials removed), if there is one.
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// A timeout elapsed: total, per attempt, connect, or reading the body.
    pub fn is_timeout(&self) -> bool {
        self.causes().any(is_timeout_error)
    }

    /// Connecting failed (refused, DNS, TLS handshake, proxy refused), before any response.
    pub fn is_connect(&self) -> bool {
        self.causes().any(is_connect_error)
    }

    /// Made by `error_for_status` on a 4xx or 5xx response.
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, Kind::Status(_))
    }

    /// The HTTP status this error carries: from `error_for_status`, or the last status when
    /// status retries ran out.
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            Kind::Status(s) => Some(s),
            _ => self.causes().find_map(layer_status),
        }
    }

    /// Too many redirects, or a redirect that could not be followed.
    pub fn is_redirect(&self) -> bool {
        self.causes().any(is_redirect_error)
    }

    /// The retry layer gave up: retries ran out on a retryable status (with `raise_on_status`).
    pub fn is_retry_exhausted(&self) -> bool {
        self.causes().any(is_retry_exhausted_error)
    }

    /// A rate limit ([`layers::ratelimit`](crate::layers::ratelimit), feature `ratelimit`)
    /// refused the call without sending it: over the limit and not allowed to wait
    /// ([`RateLimited`](crate::layers::ratelimit::RateLimited), whose `retry_after` says when
    /// to try again), or its shared backend was down and it fails closed.
    #[cfg(feature = "ratelimit")]
    pub fn is_rate_limited(&self) -> bool {
        self.causes().any(crate::layer_errors::is_rate_limited)
    }

    /// How long to wait before a call refused by a rate limit would pass (see
    /// [`is_rate_limited`](Self::is_rate_limited)); `None` for other errors.
    #[cfg(feature = "ratelimit")]
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.causes()
            .find_map(|e| e.downcast_ref::<crate::layers::ratelimit::RateLimited>())
            .map(|r| r.retry_after())
    }

    /// Reading the response body failed, or a request body could not be sent or replayed.
    pub fn is_body(&self) -> bool {
        self.inner.kind == Kind::Body
    }

    /// The body could not be decoded (invalid JSON, charset).
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// The request could not be built: invalid URL, scheme, header, JSON, configuration.
    pub fn is_builder(&self) -> bool {
        self.inner.kind == Kind::Builder
    }

    /// Sending the request failed (connect, timeout, redirect, retry and other transport errors).
    ///
    /// A connection lost after the request was written, before a complete response, is a
    /// request error and not a connect error ([`is_connect`](Error::is_connect) is false): the
    /// server may have processed the request, and it was not resent (unless an explicit
    /// [`Retry`](crate::Retry) allows its method). Its message says so.
    pub fn is_request(&self) -> bool {
        self.inner.kind == Kind::Request
    }

    /// The connection was lost after the request (or part of it) was written: the server may
    /// have acted on it.
    fn may_have_been_processed(&self) -> bool {
        let source = self.inner.source.as_deref();
        source
            .and_then(|e| crate::layers::DeliveryError::find(e as &(dyn StdError + 'static)))
            .is_some_and(|d| d.delivery() != crate::layers::Delivery::NotSent)
    }

    fn causes(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .into_iter()
            .flat_map(|e| chain(e as &(dyn StdError + 'static)))
    }
}

fn is_timeout_error(e: &(dyn StdError + 'static)) -> bool {
    // The layers' classification, shared with the retry layer (so what it retried as a timeout
    // is a timeout here), plus tokio's own timer error for timeouts users add themselves.
    matches!(classify_one(e), Some(ErrorClass::Timeout { .. }))
        || e.is::<tokio::time::error::Elapsed>()
}

fn is_connect_error(e: &(dyn StdError + 'static)) -> bool {
    matches!(classify_one(e), Some(ErrorClass::Connect)) || crate::layer_errors::is_connect(e)
}

fn is_body_error(e: &(dyn StdError + 'static)) -> bool {
    crate::layer_errors::is_body(e)
}

fn is_redirect_error(e: &(dyn StdError + 'static)) -> bool {
    crate::layer_errors::is_redirect(e)
}

fn is_retry_exhausted_error(e: &(dyn StdError + 'static)) -> bool {
    crate::layer_errors::is_retry_exhausted(e)
}

fn layer_status(e: &(dyn StdError + 'static)) -> Option<StatusCode> {
    crate::layer_errors::status(e)
}

/// A URL without user name and password, for messages and [`Error::url`]: the redaction every
/// URL in an error goes through ([`crate::layers::redact::userinfo`]). `None` when what is left
/// is not a URL (a URL that is not http(s) may hold credentials in its path): the error then
/// names no URL rather than risk one.
pub(crate) fn strip_credentials(url: Url) -> Option<Url> {
    let clean = crate::layers::redact::userinfo(url.as_str());
    if clean == url.as_str() {
        return Some(url);
    }
    Url::parse(&clean)
        .ok()
        .filter(|u| u.username().is_empty() && u.password().is_none())
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("tower_requests::Error");
        d.field("kind", &self.inner.kind);
        if let Some(url) = &self.inner.url {
            d.field("url", &url.as_str());
        }
        if let Some(message) = &self.inner.message {
            d.field("message", message);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl From<crate::BuildError> for Error {
    /// A client, TLS or proxy setting error as the session's: [`Error::is_builder`], with the
    /// same message and cause.
    fn from(e: crate::BuildError) -> Error {
        let (message, source) = e.into_parts();
        let mut err = Error::new(Kind::Builder, None, source);
        err.inner.message = message.map(String::into_boxed_str);
        err
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.inner.kind {
            Kind::Builder => "invalid request",
            Kind::Body => "body error",
            Kind::Decode => "error decoding response body",
            Kind::Status(status) => {
                let side = if status.is_client_error() {
                    "Client Error"
                } else {
                    "Server Error"
                };
                write!(
                    f,
                    "HTTP status {side}: {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )?;
                if let Some(url) = &self.inner.url {
                    write!(f, " for url ({url})")?;
                }
                return Ok(());
            }
            Kind::Request if self.is_timeout() => "request timed out",
            Kind::Request if self.is_connect() => "error connecting",
            Kind::Request if self.is_redirect() => "redirect error",
            Kind::Request if self.may_have_been_processed() => {
                "connection lost after the request was sent: it may have been processed and \
                 was not resent"
            }
            Kind::Request => "error sending request",
        };
        f.write_str(what)?;
        if let Some(url) = &self.inner.url {
            write!(f, " for url ({url})")?;
        }
        if let Some(message) = &self.inner.message {
            write!(f, ": {message}")?;
        }
        // The cause is `source()`'s to give (error reporters such as anyhow print the chain);
        // `{:#}` prints the whole chain here, for logs and tests.
        if f.alternate() {
            for cause in self.causes() {
                write!(f, ": {cause}")?;
            }
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_never_shows_credentials() {
        let url = Url::parse("http://alice:s3cret@example.com/x").unwrap();
        let err = Error::new(Kind::Request, Some(url), Some("boom".into()));
        let text = format!("{err} {err:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("alice"), "{text}");
        assert!(text.contains("example.com/x"), "{text}");
        assert_eq!(err.url().unwrap().as_str(), "http://example.com/x");
    }

    #[test]
    fn io_timeout_in_chain_is_timeout() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow");
        let err = Error::from_service(Box::new(io), None);
        assert!(err.is_timeout());
        assert!(err.is_request());
        assert!(!err.is_connect());
    }

    #[test]
    fn connect_and_timeout_are_what_the_retry_layer_retried_them_as() {
        // One classification for both: an unreachable network is a connect error (retried for
        // any method), a timed-out read a timeout.
        for kind in [
            std::io::ErrorKind::HostUnreachable,
            std::io::ErrorKind::NetworkUnreachable,
            std::io::ErrorKind::ConnectionRefused,
        ] {
            let err = Error::from_service(Box::new(std::io::Error::from(kind)), None);
            assert!(err.is_connect(), "{kind:?}");
            assert!(!err.is_timeout(), "{kind:?}");
        }
        let elapsed = crate::layers::timeout::Elapsed::new(
            crate::layers::timeout::TimeoutKind::Attempt,
            std::time::Duration::from_secs(1),
        );
        let err = Error::from_service(Box::new(elapsed), None);
        assert!(err.is_timeout() && !err.is_connect());
    }

    #[test]
    fn facade_error_passes_through_service_boundary() {
        let url = Url::parse("http://example.com/").unwrap();
        let inner = Error::from_status(StatusCode::NOT_FOUND, url.clone());
        let err = Error::from_service(Box::new(inner), Some(&url));
        assert!(err.is_status());
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    }
}
