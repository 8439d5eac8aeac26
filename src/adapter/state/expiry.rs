//! Durations as users type them, and remaining time-to-live as Redis reports it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::adapter::error::Error;

/// What to do with a key's expiry.
///
/// ```
/// use motia_state::Expiry;
/// use std::time::Duration;
/// assert_eq!("90".parse::<Expiry>().unwrap(), Expiry::After(Duration::from_secs(90)));
/// assert_eq!("10m".parse::<Expiry>().unwrap(), Expiry::After(Duration::from_secs(600)));
/// assert_eq!("1d".parse::<Expiry>().unwrap(), Expiry::After(Duration::from_secs(86400)));
/// assert_eq!("persist".parse::<Expiry>().unwrap(), Expiry::Persist);
/// assert!("-5".parse::<Expiry>().is_err());
/// assert!("soon".parse::<Expiry>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Expire after this long (whole milliseconds, at least 1 ms).
    After(Duration),
    /// Remove the expiry.
    Persist,
}

impl FromStr for Expiry {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        let bad = |reason: &str| Error::InvalidDuration {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if matches!(
            s.to_ascii_lowercase().as_str(),
            "persist" | "none" | "never"
        ) {
            return Ok(Expiry::Persist);
        }
        if s.starts_with('-') {
            return Err(bad("a duration cannot be negative"));
        }
        let duration = if s.bytes().all(|b| b.is_ascii_digit()) {
            let secs: u64 = s.parse().map_err(|_| bad("the number is too large"))?;
            Duration::from_secs(secs)
        } else {
            check_units(s).map_err(|reason| bad(&reason))?;
            // Every unit left is one humantime knows: it does the arithmetic.
            humantime::parse_duration(s).map_err(|_| bad("the duration is too long"))?
        };
        if duration.as_millis() == 0 {
            return Err(bad("a duration must be longer than 0"));
        }
        if duration.as_millis() > i64::MAX as u128 / 2 {
            return Err(bad("the duration is too long"));
        }
        Ok(Expiry::After(duration))
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expiry::Persist => f.write_str("persist"),
            Expiry::After(d) => write!(f, "{}", format_duration(*d)),
        }
    }
}

/// The units a duration may use, as an error lists them.
pub const UNITS: &str = "ms, s, m, h, d, w, y";

/// Every spelling of [`UNITS`] (humantime's, without the units below a millisecond and the
/// months, whose `M` is one shift key away from minutes).
const SPELLINGS: &[&str] = &[
    "ms", "msec", "millis", "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute",
    "minutes", "h", "hr", "hrs", "hour", "hours", "d", "day", "days", "w", "wk", "wks", "week",
    "weeks", "y", "yr", "yrs", "year", "years",
];

/// Checks that `s` is numbers each followed by one of our units (`1h 30m`, `90s`), naming the
/// first part that is not, with the units we accept.
fn check_units(s: &str) -> Result<(), String> {
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let after = after.trim_start();
        let letters = after.len() - after.trim_start_matches(|c: char| c.is_alphabetic()).len();
        let (unit, next) = after.split_at(letters);
        if number.is_empty() && rest.len() == s.trim_start().len() {
            return Err(format!("expected a number and a unit (units: {UNITS})"));
        }
        if number.is_empty() {
            let part = rest.split_whitespace().next().unwrap_or(rest);
            return Err(format!(
                "{part:?} is not a number and a unit (units: {UNITS})"
            ));
        }
        if unit.is_empty() && after.starts_with(['.', ',']) {
            return Err(format!("whole numbers only, as in 1h 30m (units: {UNITS})"));
        }
        if unit.is_empty() {
            return Err(format!("{number} has no unit (units: {UNITS})"));
        }
        if !SPELLINGS.contains(&unit) {
            return Err(format!("unknown unit {unit:?} (units: {UNITS})"));
        }
        rest = next.trim_start();
    }
    Ok(())
}

/// The remaining lifetime of a key, from `PTTL`.
///
/// ```
/// use motia_state::Ttl;
/// use std::time::Duration;
/// let ttl = Ttl::from_pttl(90_000);
/// assert_eq!(ttl, Ttl::Expires(Duration::from_secs(90)));
/// assert!(matches!(Ttl::from_pttl(-1), Ttl::Persistent));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist.
    Missing,
    /// The key exists and never expires.
    Persistent,
    /// The key expires after this long.
    Expires(Duration),
}

impl Ttl {
    /// From a `PTTL` reply: -2 missing, -1 no expiry, else milliseconds.
    ///
    /// ```
    /// use motia_state::Ttl;
    /// use std::time::Duration;
    /// assert_eq!(Ttl::from_pttl(-2), Ttl::Missing);
    /// assert_eq!(Ttl::from_pttl(-1), Ttl::Persistent);
    /// assert_eq!(Ttl::from_pttl(1500), Ttl::Expires(Duration::from_millis(1500)));
    /// ```
    pub fn from_pttl(ms: i64) -> Self {
        match ms {
            -2 => Ttl::Missing,
            n if n < 0 => Ttl::Persistent,
            n => Ttl::Expires(Duration::from_millis(n as u64)),
        }
    }

    /// Whole seconds as Redis's `TTL` reports them: -2, -1, or the remaining seconds.
    ///
    /// ```
    /// use motia_state::Ttl;
    /// assert_eq!(Ttl::from_pttl(1499).as_redis_secs(), 1);
    /// assert_eq!(Ttl::Persistent.as_redis_secs(), -1);
    /// assert_eq!(Ttl::Missing.as_redis_secs(), -2);
    /// ```
    pub fn as_redis_secs(&self) -> i64 {
        match self {
            Ttl::Missing => -2,
            Ttl::Persistent => -1,
            // TTL rounds to the nearest second, so do the same.
            Ttl::Expires(d) => ((d.as_millis() + 500) / 1000) as i64,
        }
    }
}

/// `1d 2h`, `10m 5s`, `42s`, `350ms`: compact, largest two units.
///
/// ```
/// use motia_state::format_duration;
/// use std::time::Duration;
/// assert_eq!(format_duration(Duration::from_secs(3725)), "1h 2m");
/// assert_eq!(format_duration(Duration::from_secs(90_000)), "1d 1h");
/// assert_eq!(format_duration(Duration::from_millis(350)), "350ms");
/// ```
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (d_, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d_, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) if sec == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, _) if m == 0 => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        _ if h == 0 => format!("{d_}d"),
        _ => format!("{d_}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let secs = |s: &str| match s.parse::<Expiry>().unwrap() {
            Expiry::After(d) => d.as_secs(),
            Expiry::Persist => 0,
        };
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("2h"), 7200);
        assert_eq!(secs(" 1d "), 86400);
        assert_eq!("none".parse::<Expiry>().unwrap(), Expiry::Persist);
        let err = "0".parse::<Expiry>().unwrap_err().to_string();
        assert!(err.contains("longer than 0"), "{err}");
        assert!("10 parsecs".parse::<Expiry>().is_err());
        assert_eq!(secs("1h 30m"), 5400);
        assert_eq!(secs("2 days"), 172_800);
        assert_eq!(secs("1w"), 604_800);
    }

    /// Each refusal names our units, never the parser's (which has nanoseconds and months).
    #[test]
    fn errors_list_our_units() {
        for (input, says) in [
            ("10 parsecs", "unknown unit \"parsecs\""),
            ("5ns", "unknown unit \"ns\""),
            ("1M", "unknown unit \"M\""),
            ("soon", "expected a number and a unit"),
            ("10m soon", "\"soon\" is not a number and a unit"),
            ("10 5m", "10 has no unit"),
            ("1.5h", "whole numbers"),
        ] {
            let err = input.parse::<Expiry>().unwrap_err().to_string();
            assert!(err.contains(says), "{input}: {err}");
            assert!(
                err.contains("(units: ms, s, m, h, d, w, y)"),
                "{input}: {err}"
            );
            assert!(!err.contains("supported units"), "{input}: {err}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format_duration(Duration::from_secs(59)), "59s");
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h 2m");
        assert_eq!(format_duration(Duration::from_secs(90000)), "1d 1h");
        assert_eq!(Ttl::from_pttl(-1), Ttl::Persistent);
        assert_eq!(Ttl::from_pttl(1499).as_redis_secs(), 1);
    }
}
