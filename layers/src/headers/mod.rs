//! `DefaultHeadersLayer`: session-wide default headers behind a shared, runtime-mutable handle.
