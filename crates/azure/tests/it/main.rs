//! Client ↔ simulator tests over real HTTP: the production ARM client against the ARM
//! simulator. One binary, so the crates link once.

mod actions;
mod auth;
mod common;
mod errors;
mod reads;
mod roles;
mod throttling;
mod tls;
