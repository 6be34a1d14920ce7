//! [`RequestBuilder`] of the blocking API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;

use super::runtime::{self, Runtime};
use super::Response;
use crate::error::Error;
use crate::Body;

/// A request being built: the async [`RequestBuilder`](crate::RequestBuilder)'s methods, and a
/// [`send`](Self::send) that waits for the response head.
#[must_use]
pub struct RequestBuilder {
    inner: crate::RequestBuilder,
    rt: Arc<Runtime>,
}

macro_rules! delegate {
    ($($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$attr])*
        pub fn $name(self, $($arg: $ty),*) -> Self {
            RequestBuilder { inner: self.inner.$name($($arg),*), rt: self.rt }
        }
    )*};
}

impl RequestBuilder {
    pub(crate) fn new(inner: crate::RequestBuilder, rt: Arc<Runtime>) -> RequestBuilder {
        RequestBuilder { inner, rt }
    }

    fn map(self, f: impl FnOnce(crate::RequestBuilder) -> crate::RequestBuilder) -> Self {
        RequestBuilder {
            inner: f(self.inner),
            rt: self.rt,
        }
    }

    /// Add a header (see [`crate::RequestBuilder::header`]).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(name, value))
    }

    /// Do not send this header, even a session default (see
    /// [`crate::RequestBuilder::without_header`]).
    pub fn without_header<K>(self, name: K) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        self.map(|b| b.without_header(name))
    }

    /// Append query parameters (see [`crate::RequestBuilder::query`]).
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|b| b.query(query))
    }

    /// A form body (see [`crate::RequestBuilder::form`]).
    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.map(|b| b.form(form))
    }

    /// A JSON body (see [`crate::RequestBuilder::json`]).
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|b| b.json(json))
    }

    /// The request body (see [`crate::RequestBuilder::body`]).
    pub fn body(self, body: impl Into<Body>) -> Self {
        self.map(|b| b.body(body))
    }

    /// HTTP Basic credentials for this request (see [`crate::RequestBuilder::basic_auth`]).
    pub fn basic_auth(
        self,
        username: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> Self {
        self.map(|b| b.basic_auth(username, password))
    }

    /// A Bearer token for this request (see [`crate::RequestBuilder::bearer_auth`]).
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.map(|b| b.bearer_auth(token))
    }

    /// The most bytes this response's readers take (see
    /// [`crate::RequestBuilder::max_body_size`]).
    pub fn max_body_size(self, max: impl Into<Option<usize>>) -> Self {
        self.map(|b| b.max_body_size(max))
    }

    /// Set a request extension (see [`crate::RequestBuilder::extension`]).
    pub fn extension<T: Clone + Send + Sync + 'static>(self, value: T) -> Self {
        self.map(|b| b.extension(value))
    }

    delegate! {
        /// Set these headers, replacing values of the same names (see
        /// [`crate::RequestBuilder::headers`]).
        fn headers(headers: HeaderMap);
        /// A limit for this whole call, reading the body included (see
        /// [`crate::RequestBuilder::timeout`]).
        fn timeout(timeout: Duration);
        /// Follow redirects for this request or not (see [`crate::RequestBuilder::redirects`]).
        fn redirects(follow: bool);
        /// Follow at most `max` redirects (see [`crate::RequestBuilder::max_redirects`]).
        fn max_redirects(max: usize);
        /// A limit for each attempt (see [`crate::RequestBuilder::attempt_timeout`]).
        fn attempt_timeout(timeout: Duration);
        /// The longest silence (see [`crate::RequestBuilder::read_timeout`]).
        fn read_timeout(timeout: Duration);
        /// A limit on making a new connection (see [`crate::RequestBuilder::connect_timeout`]).
        fn connect_timeout(timeout: Duration);
    }

    /// The `http::Request` this builder makes (see [`crate::RequestBuilder::build`]).
    pub fn build(self) -> Result<http::Request<Body>, Error> {
        self.inner.build()
    }

    /// Send the request and wait for the response head (the body is read by the
    /// [`Response`]'s readers). Fails as the async `send` does; from inside a tokio runtime
    /// it fails at once with an [`Error::is_builder`] error, sending nothing.
    pub fn send(self) -> Result<Response, Error> {
        runtime::refuse_inside_runtime()?;
        let pending = self.inner.send();
        let resp = self.rt.block_on(pending)?;
        Ok(Response::new(resp, self.rt))
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::RequestBuilder")
            .field(&self.inner)
            .finish()
    }
}
