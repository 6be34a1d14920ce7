//! Our layers next to the tower/axum ecosystem: the interop examples, run with assertions.

#[path = "../examples/assemble.rs"]
mod assemble;
#[path = "../examples/axum_upstream.rs"]
mod axum_upstream;
#[path = "../examples/signing.rs"]
mod signing;

#[tokio::test]
async fn axum_handler_calls_upstream_through_a_shared_session() {
    let answers = axum_upstream::run().await.unwrap();
    assert_eq!(answers[0]["from_upstream"]["visits"], 1);
    assert_eq!(
        answers[1]["from_upstream"]["visits"], 2,
        "the shared session kept the cookie"
    );
    assert_eq!(answers[0]["from_upstream"]["forwarded_by"], "gateway");
}

#[tokio::test]
async fn hand_assembled_stack_with_tower_http_and_rate_limit() {
    let out = assemble::run().await.unwrap();
    assert_eq!(
        out.arrived_in_first_window,
        assemble::RATE as usize,
        "{out:?}"
    );
    assert_eq!(out.arrived_in_total, 2 * assemble::RATE as usize, "{out:?}");
    assert!(out.cookie_accepted, "{out:?}");
    assert_eq!((out.flaky_status, out.flaky_hits), (200, 2), "{out:?}");
    assert!(out.gzip_decoded, "{out:?}");
}

#[tokio::test]
async fn custom_signing_layer_signs_every_attempt() {
    let (signed, unsigned, forged, flaky, hits) = signing::run().await.unwrap();
    assert_eq!(signed, 200);
    assert_eq!(unsigned, 401);
    assert_eq!(forged, 401);
    assert_eq!(
        flaky, 200,
        "the retry carried a fresh nonce and a valid signature"
    );
    assert_eq!(hits, 2);
}
