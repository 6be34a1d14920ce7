//! The cookie-date algorithm of RFC 6265 section 5.1.1 (unchanged in RFC 6265bis).
//!
//! Written here rather than taken from a crate: `httpdate` and the `cookie` crate accept only
//! the three (four) fixed HTTP date formats with a literal `GMT`, so `Fri, 07 Aug 2019 08:04:19
//! UTC` (a deletion as servers send it) or `Fri 07 Aug 2019 08:04:19 GMT` (no comma) were not
//! dates at all and the cookie silently became a session cookie. The RFC's algorithm reads
//! tokens whatever the delimiters and ignores what it does not recognise. A property test checks
//! it against `httpdate` on the formats both accept.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E`
fn is_delimiter(b: u8) -> bool {
    matches!(b, 0x09 | 0x20..=0x2F | 0x3B..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E)
}

/// The number of leading ASCII digits of `t`.
fn leading_digits(t: &[u8]) -> usize {
    t.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The value of `t[..n]` (at most 4 digits, so no overflow).
fn number(t: &[u8], n: usize) -> u32 {
    t[..n]
        .iter()
        .fold(0, |acc, &b| acc * 10 + u32::from(b - b'0'))
}

/// `1*2DIGIT` followed by the end or a non-digit: (value, digits used).
fn one_or_two_digits(t: &[u8]) -> Option<(u32, usize)> {
    let n = leading_digits(t);
    (1..=2).contains(&n).then(|| (number(t, n), n))
}

/// `time = hms-time ( non-digit *OCTET )`, `hms-time = time-field ":" time-field ":" time-field`,
/// `time-field = 1*2DIGIT`.
fn time(t: &[u8]) -> Option<(u32, u32, u32)> {
    let (h, n1) = one_or_two_digits(t)?;
    let t = t[n1..].strip_prefix(b":")?;
    let (m, n2) = one_or_two_digits(t)?;
    let t = t[n2..].strip_prefix(b":")?;
    let (s, _) = one_or_two_digits(t)?;
    Some((h, m, s))
}

/// `month = ( "jan" / "feb" / ... / "dec" ) *OCTET`, case-insensitively.
fn month(t: &[u8]) -> Option<u8> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let head = t.get(..3)?;
    MONTHS
        .iter()
        .position(|m| head.eq_ignore_ascii_case(&m[..]))
        .map(|i| i as u8 + 1)
}

/// `year = 2*4DIGIT ( non-digit *OCTET )`.
fn year(t: &[u8]) -> Option<u32> {
    let n = leading_digits(t);
    (2..=4).contains(&n).then(|| number(t, n))
}

/// Parses a cookie-date per RFC 6265 5.1.1; `None` when it "fails to parse" (the attribute is
/// then ignored). Dates before 1970 come back as the Unix epoch (they are in the past either
/// way).
pub(crate) fn parse_cookie_date(s: &str) -> Option<SystemTime> {
    let mut found_time = None;
    let mut found_day = None;
    let mut found_month = None;
    let mut found_year = None;
    for token in s.as_bytes().split(|&b| is_delimiter(b)) {
        if token.is_empty() {
            continue;
        }
        if found_time.is_none() {
            if let Some(t) = time(token) {
                found_time = Some(t);
                continue;
            }
        }
        if found_day.is_none() {
            if let Some((d, _)) = one_or_two_digits(token) {
                found_day = Some(d);
                continue;
            }
        }
        if found_month.is_none() {
            if let Some(m) = month(token) {
                found_month = Some(m);
                continue;
            }
        }
        if found_year.is_none() {
            if let Some(y) = year(token) {
                found_year = Some(y);
                continue;
            }
        }
    }
    let (hour, minute, second) = found_time?;
    let (day, month, mut year) = (found_day?, found_month?, found_year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if !(1..=31).contains(&day) || year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let month = time::Month::try_from(month).ok()?;
    // A day that does not exist in its month (Feb 30) fails to parse.
    let date = time::Date::from_calendar_date(year as i32, month, day as u8).ok()?;
    let secs = date
        .with_hms(hour as u8, minute as u8, second as u8)
        .ok()?
        .assume_utc()
        .unix_timestamp();
    Some(if secs <= 0 {
        UNIX_EPOCH
    } else {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> Option<u64> {
        parse_cookie_date(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
    }

    #[test]
    fn the_usual_formats() {
        let t = Some(784_111_777);
        assert_eq!(secs("Sun, 06 Nov 1994 08:49:37 GMT"), t);
        assert_eq!(secs("Sunday, 06-Nov-94 08:49:37 GMT"), t);
        assert_eq!(secs("Sun Nov  6 08:49:37 1994"), t);
        assert_eq!(secs("Sun, 06 Nov 1994 08:49:37 UTC"), t);
        assert_eq!(secs("Sun 06 Nov 1994 08:49:37 GMT"), t);
        assert_eq!(secs("06 nov 1994 8:49:37"), t);
        assert_eq!(secs("1994 Nov 6 08:49:37 +0200 (ignored)"), t);
        assert_eq!(secs("Sun, 06-November-1994 08:49:37"), t);
    }

    #[test]
    fn two_digit_years_and_ranges() {
        assert_eq!(secs("01 Jan 70 00:00:00"), Some(0));
        assert_eq!(secs("01 Jan 69 00:00:00"), Some(3_124_224_000));
        assert_eq!(
            secs("01 Jan 1969 00:00:00"),
            Some(0),
            "before 1970: the epoch"
        );
        assert_eq!(secs("01 Jan 1600 00:00:00"), None);
        assert_eq!(secs("01 Jan 1601 00:00:00"), Some(0));
        assert_eq!(secs("32 Jan 2020 00:00:00"), None);
        assert_eq!(secs("00 Jan 2020 00:00:00"), None);
        assert_eq!(secs("30 Feb 2020 00:00:00"), None);
        assert_eq!(secs("29 Feb 2020 00:00:00"), Some(1_582_934_400));
        assert_eq!(secs("01 Jan 2020 24:00:00"), None);
        assert_eq!(secs("01 Jan 2020 23:60:00"), None);
        assert_eq!(secs("01 Jan 2020 23:59:60"), None);
        assert_eq!(secs("01 Jan 2020"), None, "no time");
        assert_eq!(secs("Jan 2020 00:00:00"), None, "no day");
        assert_eq!(secs("01 2020 00:00:00"), None, "no month");
        assert_eq!(secs("01 Jan 00:00:00"), None, "no year");
        assert_eq!(secs("01 Jan 2 00:00:00"), None, "a one-digit year");
        assert_eq!(secs("01 Jan 20201 00:00:00"), None, "a five-digit year");
        assert_eq!(secs("001 Jan 2020 00:00:00"), None, "a three-digit day");
        assert_eq!(secs("01 Jan 2020 000:00:00"), None);
        assert_eq!(secs(""), None);
        assert_eq!(secs("9999 Dec 31 23:59:59"), Some(253_402_300_799));
    }

    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const LONG_DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];

    /// The three HTTP date formats `httpdate` reads, for one instant.
    fn http_formats(secs: i64) -> [String; 3] {
        let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
        let wd = t.weekday().number_days_from_monday() as usize;
        let mon = MONTHS[u8::from(t.month()) as usize - 1];
        let (d, y) = (t.day(), t.year());
        let (h, m, s) = (t.hour(), t.minute(), t.second());
        [
            format!("{}, {d:02} {mon} {y} {h:02}:{m:02}:{s:02} GMT", DAYS[wd]),
            format!(
                "{}, {d:02}-{mon}-{:02} {h:02}:{m:02}:{s:02} GMT",
                LONG_DAYS[wd],
                y % 100
            ),
            format!("{} {mon} {d:>2} {h:02}:{m:02}:{s:02} {y}", DAYS[wd]),
        ]
    }

    proptest::proptest! {
        /// On every instant from 1970 to 9999, in each format both parsers accept, this parser
        /// and `httpdate` agree.
        #[test]
        fn agrees_with_httpdate(secs in 0i64..253_402_300_800) {
            let imf = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs as u64));
            let formats = http_formats(secs);
            proptest::prop_assert_eq!(&imf, &formats[0]);
            for f in &formats {
                // RFC 850's two-digit year means 1970-2069 to both; other years are outside it.
                if let Ok(theirs) = httpdate::parse_http_date(f) {
                    proptest::prop_assert_eq!(parse_cookie_date(f), Some(theirs), "{}", f);
                }
            }
            let year = time::OffsetDateTime::from_unix_timestamp(secs).unwrap().year();
            if year < 2070 {
                proptest::prop_assert!(httpdate::parse_http_date(&formats[1]).is_ok());
            }
        }

        /// Date-like strings with any numbers: whatever `httpdate` accepts, this parser reads as
        /// the same instant, and nothing panics.
        #[test]
        fn agrees_with_httpdate_on_odd_numbers(
            d in 0u32..40, mon in 0usize..12, y in 1500u32..10000,
            h in 0u32..30, m in 0u32..70, s in 0u32..70, junk in "[ -~]{0,30}"
        ) {
            // httpdate checks the weekday: give the right one when the date exists.
            let month = time::Month::try_from(mon as u8 + 1).unwrap();
            let wd = time::Date::from_calendar_date(y as i32, month, d as u8)
                .map_or(0, |date| date.weekday().number_days_from_monday() as usize);
            let f = format!("{}, {d:02} {} {y} {h:02}:{m:02}:{s:02} GMT", DAYS[wd], MONTHS[mon]);
            match httpdate::parse_http_date(&f) {
                Ok(theirs) => {
                    proptest::prop_assert_eq!(parse_cookie_date(&f), Some(theirs), "{}", f)
                }
                // Out of range for both (httpdate starts at 1970, where this one clamps).
                Err(_) if y >= 1970 => proptest::prop_assert_eq!(parse_cookie_date(&f), None, "{}", f),
                Err(_) => {}
            }
            let _ = parse_cookie_date(&junk);
            let _ = parse_cookie_date(&format!("{f}{junk}"));
        }
    }
}
