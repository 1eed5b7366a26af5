//! The `nodemend` binary: parses the command line and hands it to [`app::run`].

mod app;
mod commands;
mod controller;
mod exit;
mod style;

fn main() -> std::process::ExitCode {
    app::main()
}
