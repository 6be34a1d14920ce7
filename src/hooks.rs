//! [`SessionBuilder::on_request`](crate::SessionBuilder::on_request) and
//! [`SessionBuilder::on_response`](crate::SessionBuilder::on_response): thin sugar over tower's
//! `map_request` and `map_response`, placed in the stack under the redirect, auth and cookie
//! layers and above the retry layer.

use std::sync::Arc;

use http::{Request, Response};

/// A request hook.
pub(crate) type RequestHook = Arc<dyn Fn(&mut http::request::Parts) + Send + Sync>;
/// A response hook.
pub(crate) type ResponseHook = Arc<dyn Fn(&http::response::Parts) + Send + Sync>;

/// The hooks of a session, each list in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) request: Arc<[RequestHook]>,
    pub(crate) response: Arc<[ResponseHook]>,
}

impl Hooks {
    pub(crate) fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }

    pub(crate) fn on_request<B>(&self, req: Request<B>) -> Request<B> {
        if self.request.is_empty() {
            return req;
        }
        let (mut parts, body) = req.into_parts();
        for hook in self.request.iter() {
            hook(&mut parts);
        }
        Request::from_parts(parts, body)
    }

    pub(crate) fn on_response<B>(&self, resp: Response<B>) -> Response<B> {
        if self.response.is_empty() {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        for hook in self.response.iter() {
            hook(&parts);
        }
        Response::from_parts(parts, body)
    }
}
