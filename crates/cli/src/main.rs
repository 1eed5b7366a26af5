//! The `nodemend` binary: parses the command line and hands it to [`app::run`].

mod app;
mod commands;
mod connect;
mod controller;
mod demo;
mod exit;
mod logging;
mod policy_file;
// Rendering of `nodemend diagnose`; the diagnose command wires it.
#[cfg_attr(not(test), allow(dead_code))]
mod report;
mod style;

fn main() -> std::process::ExitCode {
    app::main()
}
