//! Time arguments shared by commands that read a period (`--since`, `--until`): a duration back
//! from now such as `7d`, or a moment such as `2026-11-20T08:00:00Z`.

use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};

/// `24h`, `90m`, `1h 30m`, `7d` (a day is 24 hours), or ISO 8601 `PT24H`.
pub(crate) fn parse_window(raw: &str) -> Result<SignedDuration, String> {
    let duration = raw.parse::<SignedDuration>().or_else(|_| {
        raw.parse::<Span>()
            .map_err(|e| e.to_string())
            .and_then(|span| {
                span.to_duration(SpanRelativeTo::days_are_24_hours())
                    .map_err(|e| e.to_string())
            })
    });
    match duration {
        Ok(d) if d.is_positive() => Ok(d),
        Ok(_) => Err(format!("{raw:?} must be longer than zero")),
        Err(e) => Err(format!(
            "{raw:?} is not a duration (write e.g. 24h, 90m, 7d): {e}"
        )),
    }
}

/// A point in time as given on the command line: so long ago, or an exact moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moment {
    /// This long before now.
    Ago(SignedDuration),
    /// This moment.
    At(Timestamp),
}

impl Moment {
    /// The moment, given the current time; errors when the duration reaches past the
    /// representable range.
    pub(crate) fn resolve(self, now: Timestamp) -> anyhow::Result<Timestamp> {
        match self {
            Moment::At(at) => Ok(at),
            Moment::Ago(ago) => now
                .checked_sub(ago)
                .map_err(|_| anyhow::anyhow!("{ago:#} before now is before year -9999")),
        }
    }
}

/// `7d`, `12h`, `90m` (that long ago) or an RFC 3339 time such as `2026-11-20T08:00:00Z`.
pub(crate) fn parse_moment(raw: &str) -> Result<Moment, String> {
    if let Ok(at) = raw.parse::<Timestamp>() {
        return Ok(Moment::At(at));
    }
    parse_window(raw).map(Moment::Ago).map_err(|_| {
        format!(
            "{raw:?} is neither a duration (e.g. 7d, 12h, 90m) nor a time with a UTC offset \
             (e.g. 2026-11-20T08:00:00Z)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_days_and_iso() {
        assert_eq!(parse_window("7d").unwrap(), SignedDuration::from_hours(168));
        assert_eq!(
            parse_window("1h 30m").unwrap(),
            SignedDuration::from_mins(90)
        );
        assert_eq!(
            parse_window("PT24H").unwrap(),
            SignedDuration::from_hours(24)
        );
        assert!(parse_window("0s").unwrap_err().contains("longer than zero"));
        assert!(parse_window("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn moments_are_durations_ago_or_times() {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let week = parse_moment("7d").unwrap().resolve(now).unwrap();
        assert_eq!(week, "2026-11-14T12:00:00Z".parse::<Timestamp>().unwrap());
        let at = parse_moment("2026-11-20T08:00:00+01:00").unwrap();
        assert_eq!(
            at.resolve(now).unwrap(),
            "2026-11-20T07:00:00Z".parse::<Timestamp>().unwrap()
        );
        let err = parse_moment("yesterday").unwrap_err();
        assert!(err.contains("neither a duration"), "{err}");
        assert!(parse_moment("200000000h").unwrap().resolve(now).is_err());
    }
}
