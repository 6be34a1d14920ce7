//! `TimeoutLayer` (per attempt) and `TotalTimeoutLayer` (whole call, body included).
