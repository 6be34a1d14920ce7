//! "Connection Pooling and Performance Optimization": N HTTPS requests without a session (a
//! new session, so a new TCP + TLS handshake, per request, like `requests.get`) versus N on one
//! session (one pooled connection reused).

use std::time::Instant;

use tower_requests::Session;

use super::BoxError;
use crate::demo_server::Demo;

pub async fn run(demo: &Demo, n: usize) -> Result<(), BoxError> {
    let url = demo.https_url("/get");
    let cert = demo.root_certificate();

    // Method 1: Without session (new connection each time)
    let before = demo.connections();
    let start_time = Instant::now();
    for _ in 0..n {
        let session = Session::builder()
            .add_root_certificate(cert.clone())
            .build()?;
        session
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
    }
    let no_session_time = start_time.elapsed().as_secs_f64();
    let no_session_conns = demo.connections() - before;

    // Method 2: With session (connection reuse)
    let before = demo.connections();
    let start_time = Instant::now();
    {
        let session = Session::builder().add_root_certificate(cert).build()?;
        for _ in 0..n {
            session
                .get(&url)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
        }
    } // leaving the block drops the session and closes its pooled connection (Python's `with`)
    let session_time = start_time.elapsed().as_secs_f64();
    let session_conns = demo.connections() - before;

    println!("{n} HTTPS requests to {url}");
    println!("Time without session: {no_session_time:.2} seconds ({no_session_conns} connections)");
    println!("Time with session: {session_time:.2} seconds ({session_conns} connection)");
    println!(
        "Performance improvement: {:.1}%",
        (no_session_time - session_time) / no_session_time * 100.0
    );
    assert_eq!(
        no_session_conns, n,
        "every session-less request opens its own connection"
    );
    assert_eq!(session_conns, 1, "one session reuses one pooled connection");
    Ok(())
}
