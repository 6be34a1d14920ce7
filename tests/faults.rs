//! Fault tests: raw-socket hostile servers on 127.0.0.1 that close, reset, stall, drip, lie about
//! lengths or flood, and what the session does about each. Every case here once went wrong; the
//! test pins the fix.

#[path = "faults/hostile.rs"]
mod hostile;

#[path = "faults/resend.rs"]
mod resend;

#[path = "faults/durations.rs"]
mod durations;

#[path = "faults/bounds.rs"]
mod bounds;

#[path = "faults/load.rs"]
mod load;

#[path = "faults/input.rs"]
mod input;
