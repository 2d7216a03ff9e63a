//! Times and values as series files write them: seconds (possibly fractional) or RFC 3339 timestamps,
//! and sample values including `NaN`, `+Inf`, `-Inf` and the `stale` marker.

use super::series::{STALE_NAN, TimeBase};

/// The largest magnitude of milliseconds kept exact by an `f64` (2^53), far beyond any real timestamp.
const MAX_EXACT_MS: f64 = 9_007_199_254_740_992.0;

/// Seconds to whole milliseconds (rounded to the nearest), if finite and in range.
pub(crate) fn seconds_to_ms(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    if ms.is_finite() && ms.abs() <= MAX_EXACT_MS { Some(ms as i64) } else { None }
}

/// Parses a time written as text: seconds if it is a number, else RFC 3339. The error is a short
/// reason, in words a user reads after "`...` is not a time: ".
pub(crate) fn parse_time(text: &str) -> Result<(i64, TimeBase), String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return match seconds_to_ms(secs) {
            Some(ms) if secs.is_finite() => Ok((ms, TimeBase::Seconds)),
            _ => Err("seconds must be a finite number within a few hundred thousand years of 1970".to_string()),
        };
    }
    parse_rfc3339(text).map(|ms| (ms, TimeBase::Rfc3339))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to milliseconds since the epoch (sub-millisecond
/// digits are cut, as Prometheus does).
pub(crate) fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let (local, offset_minutes) = split_zone(text)?;
    let date = local.get(..10).ok_or_else(shape_error)?;
    let rest = local.get(11..).ok_or_else(shape_error)?;
    if !matches!(local.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return Err(shape_error());
    }
    let normalised = format!("{date}T{rest}Z");
    let t = humantime::parse_rfc3339(&normalised).map_err(|e| match e {
        humantime::TimestampError::OutOfRange => "a field is out of range, or the year is before 1970".to_string(),
        _ => shape_error(),
    })?;
    let since = t.duration_since(std::time::UNIX_EPOCH).map_err(|_| "the time is before 1970".to_string())?;
    let ms = i64::try_from(since.as_millis()).map_err(|_| "the time is too far in the future".to_string())?;
    Ok(ms - offset_minutes * 60_000)
}

fn shape_error() -> String {
    "expected seconds or an RFC 3339 time such as `2024-05-01T12:00:00Z`".to_string()
}

/// Splits off the zone designator: `Z` is offset 0, `+02:00` is 120 minutes east.
fn split_zone(text: &str) -> Result<(&str, i64), String> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Ok((local, 0));
    }
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n >= 6 && matches!(bytes[n - 6], b'+' | b'-') && bytes[n - 3] == b':' {
        let hours = two_digits(&bytes[n - 5..n - 3]);
        let minutes = two_digits(&bytes[n - 2..]);
        if let (Some(h), Some(m)) = (hours, minutes)
            && h < 24
            && m < 60
        {
            let sign = if bytes[n - 6] == b'-' { -1 } else { 1 };
            // The zone is ASCII, so `n - 6` is a character boundary.
            return Ok((text.get(..n - 6).unwrap_or_default(), sign * (h * 60 + m)));
        }
    }
    if text.len() >= 19 && text.as_bytes().get(4) == Some(&b'-') {
        return Err("the time has no zone; add `Z` for UTC or an offset such as `+02:00`".to_string());
    }
    Err(shape_error())
}

fn two_digits(b: &[u8]) -> Option<i64> {
    match b {
        [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => Some(i64::from(a - b'0') * 10 + i64::from(c - b'0')),
        _ => None,
    }
}

/// Parses a sample value: a number, `NaN`, `+Inf`, `-Inf` (any case, as Prometheus reads them), or `stale`.
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("stale") {
        return Some(STALE_NAN);
    }
    text.parse::<f64>().ok()
}

/// The last millisecond RFC 3339 can write (9999-12-31T23:59:59.999Z).
const MAX_RFC3339_MS: i64 = 253_402_300_799_999;

/// Milliseconds since the epoch as RFC 3339 (with milliseconds when `millis`, or when the time has them);
/// a time before 1970 or after the year 9999, which RFC 3339 cannot write, as `<N>ms`. The one formatter of
/// absolute times for the journal's readers, the API and series output.
pub fn format_rfc3339(t_ms: i64, millis: bool) -> String {
    if !(0..=MAX_RFC3339_MS).contains(&t_ms) {
        return format!("{t_ms}ms");
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(t_ms.unsigned_abs());
    if millis || t_ms % 1000 != 0 {
        humantime::format_rfc3339_millis(t).to_string()
    } else {
        humantime::format_rfc3339_seconds(t).to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;
    use crate::source::series::is_stale;

    #[test]
    fn seconds_round_to_milliseconds() {
        assert_eq!(parse_time("0.29").unwrap(), (290, TimeBase::Seconds));
        assert_eq!(parse_time("1700000000").unwrap(), (1_700_000_000_000, TimeBase::Seconds));
        assert_eq!(parse_time(" 1.5e3 ").unwrap(), (1_500_000, TimeBase::Seconds));
        assert_eq!(parse_time("-2.5").unwrap(), (-2_500, TimeBase::Seconds));
        assert!(parse_time("inf").is_err());
        assert!(parse_time("NaN").is_err());
        assert!(parse_time("1e300").is_err());
    }

    #[test]
    fn rfc3339_with_zone_and_fraction() {
        assert_eq!(parse_time("2024-05-01T12:00:00Z").unwrap(), (1_714_564_800_000, TimeBase::Rfc3339));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00.2509Z").unwrap(), 1_714_564_800_250);
        assert_eq!(parse_rfc3339("2024-05-01T14:00:00+02:00").unwrap(), 1_714_564_800_000);
        assert_eq!(parse_rfc3339("2024-05-01T11:30:00-00:30").unwrap(), 1_714_564_800_000);
        assert_eq!(parse_rfc3339("2024-05-01 12:00:00z").unwrap(), 1_714_564_800_000);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0);
    }

    #[test]
    fn rfc3339_mistakes_are_explained() {
        assert!(parse_rfc3339("2024-05-01T12:00:00").unwrap_err().contains("no zone"));
        assert!(parse_rfc3339("2024-13-01T12:00:00Z").unwrap_err().contains("out of range"));
        assert!(parse_rfc3339("1969-12-31T23:59:59Z").is_err());
        assert!(parse_rfc3339("yesterday").unwrap_err().contains("RFC 3339"));
        assert!(parse_rfc3339("2024-05-01T12:00:00+25:00").is_err());
        assert!(parse_rfc3339("2024-05-01X12:00:00Z").is_err());
        assert!(parse_rfc3339("ééééééééééééééééééééZ").is_err());
        assert!(parse_rfc3339("").is_err());
    }

    #[test]
    fn values_include_special_floats_and_stale() {
        assert_eq!(parse_value("1.5"), Some(1.5));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert!(!is_stale(parse_value("nan").unwrap()));
        assert!(is_stale(parse_value("stale").unwrap()));
        assert_eq!(parse_value("1,5"), None);
        assert_eq!(parse_value(""), None);
    }

    #[test]
    fn times_rfc3339_cannot_write_are_milliseconds() {
        assert_eq!(format_rfc3339(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_500, false), "1970-01-01T00:00:01.500Z");
        assert_eq!(format_rfc3339(MAX_RFC3339_MS, false), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_rfc3339(MAX_RFC3339_MS + 1, true), "253402300800000ms");
        assert_eq!(format_rfc3339(i64::MAX, false), format!("{}ms", i64::MAX));
        assert_eq!(format_rfc3339(-1, false), "-1ms");
    }
}
