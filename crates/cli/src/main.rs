//! The `nodemend` binary: parses the command line and hands it to [`app::run`].

mod app;
mod archiver;
mod bundle;
mod collect;
mod commands;
mod connect;
mod controller;
mod demo;
mod exit;
mod logging;
mod paths;
mod policy_file;
mod report;
mod style;
mod window;

fn main() -> std::process::ExitCode {
    app::main()
}
