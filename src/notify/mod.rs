//! Notifications about promotion gates, sent to a signed webhook and to Slack.
//!
//! [`target`] reads where notifications go from the pipeline step's credentials,
//! [`payload`] builds what they say (the webhook JSON, its delivery id and the Slack
//! message), [`sign`] signs webhook bodies with HMAC-SHA256, and [`send`] posts them.
//! All but [`send`] are pure; [`send`] does the network I/O.

pub mod deliver;
pub mod payload;
pub mod send;
pub mod sign;
pub mod target;
