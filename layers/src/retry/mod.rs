//! `RetryLayer`: urllib3's `Retry` semantics on `tower::retry`.
