//! A blocking API over the same stack, for synchronous programs (reqwest's `blocking`,
//! requests' usual style): [`Session`], [`SessionBuilder`], [`RequestBuilder`], [`Response`],
//! with the async API's names.
//!
//! Each session runs a current-thread tokio runtime on a thread of its own
//! (`tower-requests-blocking`); calls send their work there and wait for the answer, so they
//! work from a plain `fn main()`. Dropping the last handle (session, request builder or
//! response) stops that thread and joins it.
//!
//! **Not inside a runtime.** Waiting inside an async task would block the runtime's thread (a
//! current-thread runtime serving the request would never answer), so every waiting call made
//! inside a tokio runtime, `spawn_blocking` included, fails at once with an
//! [`Error::is_builder`](crate::Error::is_builder) error saying so: use the async
//! [`crate::Session`] there. Building a blocking session is allowed anywhere.
//!
//! **Timeouts.** A call waits as long as the stack does: set a
//! [`timeout`](SessionBuilder::timeout) (whole call, body included) or an
//! [`attempt_timeout`](SessionBuilder::attempt_timeout) so that a stalled server makes calls
//! fail instead of waiting for ever. If the runtime thread stops (a panic in a layer), calls
//! fail with an error instead of waiting.
//!
//! ```no_run
//! use tower_requests::blocking::Session;
//!
//! fn main() -> Result<(), tower_requests::Error> {
//!     let s = Session::new()?;
//!     let login = s
//!         .post("http://127.0.0.1:8080/login.py")
//!         .form(&[("login_email", "me@example.com"), ("password", "pw")])
//!         .send()?;
//!     println!("login: {}", login.status());
//!     // The cookie the server set is sent automatically:
//!     let profile = s.get("http://127.0.0.1:8080/profile_data.json").send()?;
//!     println!("{}", profile.error_for_status()?.text()?);
//!     Ok(())
//! }
//! ```

mod request;
mod response;
mod runtime;
mod session;

pub use request::RequestBuilder;
pub use response::Response;
pub use session::{Session, SessionBuilder};
