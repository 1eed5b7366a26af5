//! Structured logs on standard error: human-readable text, or one JSON object per line for log
//! pipelines. `RUST_LOG` refines the level (default `info`).

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The log format.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global log subscriber.
pub(crate) fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// An error with its causes, `outer: cause: root`, for log fields: the causes say why (a
/// Kubernetes "forbidden" naming the missing permission, an ARM code). A cause whose text the
/// previous message already contains is left out.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot create NodeRepair n1")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("forbidden: cannot create resource \"noderepairs\"")]
    struct Inner;

    #[test]
    fn the_chain_names_the_cause_once() {
        assert_eq!(
            chain(&Outer(Inner)),
            "cannot create NodeRepair n1: forbidden: cannot create resource \"noderepairs\""
        );
        assert_eq!(
            chain(&Inner),
            "forbidden: cannot create resource \"noderepairs\""
        );
    }
}
