//! The resend rule: a request is resent silently only when it provably never reached the server
//! (any method), or when a reused keep-alive connection failed before any byte of the response
//! (idempotent methods only). Anything else is an error that says the request may have been
//! processed and was not resent.

use http::Method;
use tower_requests::{Retry, Session};

use crate::hostile::{Conn, Hostile};

fn session() -> Session {
    Session::builder().trust_env(false).build().unwrap()
}

/// Reads the request, then closes (FIN) before writing anything.
async fn read_then_close(mut c: Conn) {
    if c.read_request().await.is_some() {
        c.close();
    }
}

/// Reads the request, then resets the connection.
async fn read_then_reset(mut c: Conn) {
    if c.read_request().await.is_some() {
        c.reset();
    }
}

/// Reads the request, writes half a status line, then closes.
async fn read_then_partial_status(mut c: Conn) {
    if c.read_request().await.is_some() {
        c.write(b"HTTP/1.1 20").await;
        c.close();
    }
}

/// The error for a request the server read and then dropped: not resent, and saying so.
fn assert_not_resent(err: &tower_requests::Error, server: &Hostile) {
    assert_eq!(
        server.requests(),
        1,
        "the server processed the request once: {err}"
    );
    assert!(err.is_request(), "a request error: {err:?}");
    assert!(!err.is_connect(), "not a connect error: {err:?}");
    let text = format!("{err:#}");
    assert!(
        text.contains("may have been processed") && text.contains("not resent"),
        "the message says what the caller must know: {text}"
    );
}

#[tokio::test]
async fn post_on_a_fresh_connection_closed_after_reading_is_not_resent() {
    for how in ["close", "reset", "partial status"] {
        let server = Hostile::start(move |c: Conn| async move {
            match how {
                "close" => read_then_close(c).await,
                "reset" => read_then_reset(c).await,
                _ => read_then_partial_status(c).await,
            }
        })
        .await;
        let err = session()
            .post(server.url("/orders"))
            .body("order=1")
            .send()
            .await
            .expect_err("the server never answered");
        assert_not_resent(&err, &server);
    }
}

#[tokio::test]
async fn patch_is_not_resent_even_with_retries_that_exclude_it() {
    let server = Hostile::start(read_then_close).await;
    let s = Session::builder()
        .trust_env(false)
        .retry(
            Retry::new()
                .total(3)
                .backoff_factor(0.0)
                .allowed_methods([Method::GET]),
        )
        .build()
        .unwrap();
    let err = s
        .patch(server.url("/orders/1"))
        .body("qty=2")
        .send()
        .await
        .expect_err("the server never answered");
    assert_not_resent(&err, &server);
}

/// A keep-alive server that answers the first request of each connection, then reads the next
/// one and closes without answering: a pooled connection dropped under a request.
async fn one_answer_then_drop(mut c: Conn) {
    if c.read_request().await.is_some() {
        c.ok("first").await;
    }
    if c.read_request().await.is_some() {
        c.close();
    }
}

#[tokio::test]
async fn post_on_a_reused_connection_dropped_after_reading_is_not_resent() {
    let server = Hostile::start(one_answer_then_drop).await;
    let s = session();
    let first = s.get(server.url("/")).send().await.unwrap();
    assert_eq!(first.text().await.unwrap(), "first");
    let err = s
        .post(server.url("/orders"))
        .body("order=1")
        .send()
        .await
        .expect_err("dropped without an answer");
    assert_eq!(server.requests(), 2, "GET once, POST once: {err}");
    assert!(err.is_request(), "{err:?}");
    assert!(format!("{err:#}").contains("not resent"), "{err:#}");
}

#[tokio::test]
async fn get_on_a_reused_connection_dropped_before_answering_is_resent_silently() {
    // The genuine stale keep-alive case: an idempotent request on a reused connection that failed
    // before any byte of its response is resent once on a new connection.
    let server = Hostile::start(|mut c: Conn| async move {
        if c.index == 0 {
            one_answer_then_drop(c).await;
        } else {
            while c.read_request().await.is_some() {
                c.ok("fresh").await;
            }
        }
    })
    .await;
    let s = session();
    assert_eq!(
        s.get(server.url("/a"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "first"
    );
    let resp = s
        .get(server.url("/b"))
        .send()
        .await
        .expect("resent on a new connection");
    assert_eq!(resp.text().await.unwrap(), "fresh");
    assert_eq!(server.accepts(), 2);
    assert_eq!(
        server.requests(),
        3,
        "GET /a, GET /b (dropped), GET /b again"
    );
}

#[tokio::test]
async fn get_on_a_fresh_connection_dropped_before_answering_is_not_resent_by_default() {
    // A fresh connection is never "stale": with retries off, the error is returned.
    let server = Hostile::start(read_then_close).await;
    let err = session()
        .get(server.url("/"))
        .send()
        .await
        .expect_err("no answer");
    assert_eq!(server.requests(), 1, "{err}");
    assert!(err.is_request(), "{err:?}");
}

#[tokio::test]
async fn get_on_a_reused_connection_after_part_of_the_answer_is_not_resent() {
    // A response byte arrived: the connection was not stale, the server was answering.
    let server = Hostile::start(|mut c: Conn| async move {
        if c.read_request().await.is_some() {
            c.ok("first").await;
        }
        if c.read_request().await.is_some() {
            c.write(b"HTTP/1.1 200 OK\r\ncontent-le").await;
            c.close();
        }
    })
    .await;
    let s = session();
    s.get(server.url("/a"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let err = s
        .get(server.url("/b"))
        .send()
        .await
        .expect_err("cut mid-head");
    assert_eq!(server.requests(), 2, "{err}");
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn explicit_retries_still_cover_allowed_methods() {
    // Retry(total=2) with the default allowed methods: a GET dropped twice on fresh connections
    // is retried as a read error and succeeds on the third attempt; a POST is not retried.
    let server = Hostile::start(|mut c: Conn| async move {
        if c.index < 2 {
            read_then_close(c).await;
        } else {
            while c.read_request().await.is_some() {
                c.ok("third").await;
            }
        }
    })
    .await;
    let s = Session::builder()
        .trust_env(false)
        .retry(Retry::new().total(2).backoff_factor(0.0))
        .build()
        .unwrap();
    let resp = s.get(server.url("/")).send().await.expect("retried");
    assert_eq!(resp.text().await.unwrap(), "third");
    assert_eq!(server.requests(), 3);

    let post_server = Hostile::start(read_then_close).await;
    let err = s
        .post(post_server.url("/"))
        .body("x")
        .send()
        .await
        .expect_err("POST is not in allowed_methods");
    assert_eq!(post_server.requests(), 1, "{err}");
}

#[tokio::test]
async fn gets_on_connections_the_server_closes_after_each_answer_never_fail() {
    // The server closes every connection just after answering: each next request may find its
    // pooled connection dead. Those GETs are resent silently; none fails, none is lost.
    let server = Hostile::start(|mut c: Conn| async move {
        if c.read_request().await.is_some() {
            c.ok("ok").await;
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    })
    .await;
    let s = session();
    for i in 0..100 {
        let resp = s
            .get(server.url(&format!("/{i}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i} failed: {e}"));
        assert_eq!(resp.text().await.unwrap(), "ok");
    }
    // Each request was answered once; the resends went to requests the server never read.
    assert_eq!(server.requests(), 100);
}
