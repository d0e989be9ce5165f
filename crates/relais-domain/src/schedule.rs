//! Scheduling rules: time zones, local-time resolution across DST changes, weekly slots, evergreen
//! reposting and approval expiry. Pure: "now" is always a parameter.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Msg;

/// Parses an IANA time zone name such as `Europe/Paris` (or `UTC`).
pub fn parse_time_zone(name: &str) -> Result<TimeZone, Msg> {
    let trimmed = name.trim();
    let looks_iana = !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    match looks_iana.then(|| TimeZone::get(trimmed)) {
        Some(Ok(tz)) => Ok(tz),
        _ => Err(Msg::new(
            format!("unknown time zone \"{trimmed}\": use an IANA name such as Europe/Paris"),
            format!("fuseau horaire inconnu « {trimmed} » : utilisez un nom IANA comme Europe/Paris"),
        )),
    }
}

/// What to do with a local time that does not exist because clocks jump forward (DST gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DstPolicy {
    /// Refuse the time with an explanation (the default).
    #[default]
    Reject,
    /// Move the time forward by the length of the gap, with a warning.
    ShiftForward,
}

/// A local time resolved to an instant, with a warning when the resolution was not obvious.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The resolved instant.
    pub at: Timestamp,
    /// Set when the local time was shifted (DST gap) or ambiguous (DST overlap).
    pub warning: Option<Msg>,
}

/// Resolves a wall-clock time in `tz` to an instant.
///
/// A time in a DST gap is refused or shifted forward according to `policy`; a time in a DST
/// overlap resolves to its first occurrence, always with a warning.
pub fn resolve_local(local: DateTime, tz: &TimeZone, policy: DstPolicy) -> Result<Resolved, Msg> {
    let ambiguous = tz.to_ambiguous_timestamp(local);
    let at = ambiguous.compatible().map_err(|_| out_of_range(local))?;
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => Ok(Resolved { at, warning: None }),
        AmbiguousOffset::Gap { before, after } => {
            let (from, to) = transition_times(tz, at, before, after, true);
            match policy {
                DstPolicy::Reject => Err(gap_error(local, tz, &from, &to)),
                DstPolicy::ShiftForward => {
                    let shifted = tz.to_datetime(at);
                    Ok(Resolved { at, warning: Some(gap_warning(local, shifted, tz, &from, &to)) })
                }
            }
        }
        AmbiguousOffset::Fold { before, after } => {
            let (from, to) = transition_times(tz, at, before, after, false);
            Ok(Resolved { at, warning: Some(fold_warning(local, tz, before, &from, &to)) })
        }
    }
}

/// The local wall-clock times on each side of the DST transition nearest to `at`
/// ("02:00" and "03:00" for the spring gap in Europe/Paris). In a gap `at` is at or after the
/// transition, in a fold it is before it.
fn transition_times(tz: &TimeZone, at: Timestamp, before: Offset, after: Offset, gap: bool) -> (String, String) {
    let transition = if gap {
        let just_after = at.checked_add(SignedDuration::from_nanos(1)).unwrap_or(at);
        tz.preceding(just_after).next()
    } else {
        tz.following(at).next()
    };
    match transition {
        Some(t) => (hhmm(before.to_datetime(t.timestamp())), hhmm(after.to_datetime(t.timestamp()))),
        None => (offset_label(before), offset_label(after)),
    }
}

fn hhmm(dt: DateTime) -> String {
    dt.strftime("%H:%M").to_string()
}

fn ymd_hm(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%d %H:%M").to_string()
}

fn zone_name(tz: &TimeZone) -> &str {
    tz.iana_name().unwrap_or("this time zone")
}

/// `UTC+02:00` style label of an offset.
fn offset_label(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
}

fn out_of_range(local: DateTime) -> Msg {
    let t = ymd_hm(local);
    Msg::new(format!("{t} is out of the supported range"), format!("{t} est hors de la plage prise en charge"))
}

fn gap_error(local: DateTime, tz: &TimeZone, from: &str, to: &str) -> Msg {
    let (t, z) = (ymd_hm(local), zone_name(tz));
    Msg::new(
        format!("{t}: this time does not exist in {z}: clocks jump from {from} to {to}"),
        format!("{t} : cette heure n’existe pas en {z} : on passe de {from} à {to}"),
    )
}

fn gap_warning(local: DateTime, shifted: DateTime, tz: &TimeZone, from: &str, to: &str) -> Msg {
    let (t, s, z) = (ymd_hm(local), hhmm(shifted), zone_name(tz));
    Msg::new(
        format!("{t} does not exist in {z} (clocks jump from {from} to {to}): moved to {s}"),
        format!("{t} n’existe pas en {z} (on passe de {from} à {to}) : déplacé à {s}"),
    )
}

fn fold_warning(local: DateTime, tz: &TimeZone, chosen: Offset, from: &str, to: &str) -> Msg {
    let (t, z, o) = (ymd_hm(local), zone_name(tz), offset_label(chosen));
    Msg::new(
        format!("{t} happens twice in {z} (clocks go back from {from} to {to}): the first occurrence ({o}) was chosen"),
        format!(
            "{t} existe deux fois en {z} (on revient de {from} à {to}) : la première occurrence ({o}) a été retenue"
        ),
    )
}

/// Parses a `YYYY-MM-DD` date.
pub(crate) fn parse_iso_date(s: &str) -> Option<Date> {
    let mut parts = s.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Date::new(number(y)?, number(m)?, number(d)?).ok()
}

/// Parses a small unsigned decimal number made of ASCII digits only.
pub(crate) fn number<T: TryFrom<u32>>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().and_then(|n| T::try_from(n).ok())
}

/// Parses `HH:MM` or `HH:MM:SS` (24-hour clock, the hour may have one digit).
pub(crate) fn parse_hms(s: &str) -> Option<Time> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    let two = |p: &str| p.len() == 2;
    let (h, m, sec) = match parts.as_slice() {
        [h, m] if two(m) => (*h, *m, "0"),
        [h, m, sec] if two(m) && two(sec) => (*h, *m, *sec),
        _ => return None,
    };
    if h.len() > 2 {
        return None;
    }
    Time::new(number(h)?, number(m)?, number(sec)?, 0).ok()
}

/// Parses a local date (`2027-03-28`) and time (`14:05` or `14:05:30`).
pub fn parse_local(date: &str, time: &str) -> Result<DateTime, Msg> {
    let d = parse_iso_date(date).ok_or_else(|| {
        Msg::new(
            format!("invalid date \"{}\": expected YYYY-MM-DD", date.trim()),
            format!("date invalide « {} » : format attendu AAAA-MM-JJ", date.trim()),
        )
    })?;
    let t = parse_hms(time).ok_or_else(|| bad_time(time))?;
    Ok(d.to_datetime(t))
}

fn bad_time(time: &str) -> Msg {
    Msg::new(
        format!("invalid time \"{}\": expected HH:MM (24-hour clock)", time.trim()),
        format!("heure invalide « {} » : format attendu HH:MM (sur 24 heures)", time.trim()),
    )
}

/// Refuses an instant that is not strictly in the future.
pub fn ensure_future(at: Timestamp, now: Timestamp) -> Result<(), Msg> {
    if at > now {
        return Ok(());
    }
    let t = at.strftime("%Y-%m-%d %H:%M UTC");
    Err(Msg::new(
        format!("this date is in the past ({t}): choose a time to come"),
        format!("cette date est passée ({t}) : choisissez un moment à venir"),
    ))
}

/// A recurring weekly publication slot, in the wall-clock time of the workspace's time zone.
///
/// Serialized as `{"weekday":"monday","time":"09:30"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SlotRepr", into = "SlotRepr")]
pub struct WeeklySlot {
    /// The day of the week.
    pub weekday: Weekday,
    /// The local time of day.
    pub time: Time,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotRepr {
    weekday: String,
    time: String,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

impl WeeklySlot {
    /// Builds a slot from a weekday name (`monday` … `sunday`) and a time (`09:30`).
    pub fn parse(weekday: &str, time: &str) -> Result<Self, Msg> {
        let wanted = weekday.trim().to_ascii_lowercase();
        let weekday = WEEKDAYS.iter().find(|(n, _)| *n == wanted).map(|(_, w)| *w).ok_or_else(|| {
            Msg::new(
                format!("unknown weekday \"{}\": expected monday … sunday", weekday.trim()),
                format!("jour de la semaine inconnu « {} » : attendu monday … sunday", weekday.trim()),
            )
        })?;
        let time = parse_hms(time).ok_or_else(|| bad_time(time))?;
        Ok(Self { weekday, time })
    }
}

impl TryFrom<SlotRepr> for WeeklySlot {
    type Error = Msg;
    fn try_from(r: SlotRepr) -> Result<Self, Msg> {
        Self::parse(&r.weekday, &r.time)
    }
}

impl From<WeeklySlot> for SlotRepr {
    fn from(s: WeeklySlot) -> Self {
        let name = WEEKDAYS.iter().find(|(_, w)| *w == s.weekday).map_or("monday", |(n, _)| n);
        let fmt = if s.time.second() == 0 && s.time.subsec_nanosecond() == 0 { "%H:%M" } else { "%H:%M:%S" };
        Self { weekday: name.to_string(), time: s.time.strftime(fmt).to_string() }
    }
}

/// How many days ahead [`next_free_slot`] searches.
const SLOT_SEARCH_DAYS: i32 = 366;

/// The earliest occurrence of one of `slots` strictly after `after` that is not already `taken`.
///
/// Slot times are wall-clock times in `tz`; a slot in a DST gap is shifted forward, a slot in an
/// overlap uses its first occurrence. Searches at most 366 days ahead.
pub fn next_free_slot(slots: &[WeeklySlot], tz: &TimeZone, after: Timestamp, taken: &[Timestamp]) -> Option<Timestamp> {
    let mut day = tz.to_datetime(after).date();
    for _ in 0..=SLOT_SEARCH_DAYS {
        let mut candidates = slot_instants_on(slots, tz, day);
        candidates.sort();
        let free = candidates.into_iter().find(|t| *t > after && !taken.contains(t));
        if free.is_some() {
            return free;
        }
        day = day.tomorrow().ok()?;
    }
    None
}

/// The instants of the slots falling on `day` (compatible DST disambiguation).
fn slot_instants_on(slots: &[WeeklySlot], tz: &TimeZone, day: Date) -> Vec<Timestamp> {
    slots
        .iter()
        .filter(|s| s.weekday == day.weekday())
        .filter_map(|s| tz.to_ambiguous_timestamp(day.to_datetime(s.time)).compatible().ok())
        .collect()
}

/// Smallest and largest evergreen reposting intervals, in seconds.
const EVERGREEN_MIN_SECS: i64 = 3600;
const EVERGREEN_MAX_SECS: i64 = 365 * 86_400;

/// Validates an evergreen reposting interval given in seconds (1 hour to 365 days).
pub fn validate_evergreen_interval(secs: i64) -> Result<SignedDuration, Msg> {
    if (EVERGREEN_MIN_SECS..=EVERGREEN_MAX_SECS).contains(&secs) {
        return Ok(SignedDuration::from_secs(secs));
    }
    Err(Msg::new(
        "the reposting interval must be between 1 hour and 365 days",
        "l’intervalle de republication doit être compris entre 1 heure et 365 jours",
    ))
}

/// The next evergreen repost: `last_published + k × interval`, the first strictly after `now`
/// (k ≥ 1). Intervals shorter than one hour are treated as one hour.
pub fn next_evergreen(last_published: Timestamp, interval: SignedDuration, now: Timestamp) -> Timestamp {
    let interval = interval.max(SignedDuration::from_secs(EVERGREEN_MIN_SECS));
    let elapsed = now.duration_since(last_published).as_nanos();
    let k = if elapsed < 0 { 1 } else { elapsed / interval.as_nanos() + 1 };
    i32::try_from(k)
        .ok()
        .and_then(|k| interval.checked_mul(k))
        .and_then(|d| last_published.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Whether a post waiting for approval has expired: its due time has come.
pub fn approval_expired(due: Timestamp, now: Timestamp) -> bool {
    due <= now
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn paris() -> TimeZone {
        parse_time_zone("Europe/Paris").unwrap()
    }

    #[test]
    fn time_zones() {
        fn check(name: &str, ok: bool) {
            assert_eq!(parse_time_zone(name).is_ok(), ok, "{name}");
        }
        for (name, ok) in [
            ("Europe/Paris", true),
            ("America/New_York", true),
            ("UTC", true),
            (" Europe/Paris ", true),
            ("Europe/Pariss", false),
            ("", false),
            ("EST5EDT,M3.2.0,M11.1.0", false),
            ("+02:00", false),
            ("../etc/passwd", false),
        ] {
            check(name, ok);
        }
        let err = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(err.en.contains("unknown time zone"));
        assert!(err.fr.contains("« Mars/Olympus » :"));
    }

    #[test]
    fn resolve() {
        // (local, zone, policy, expected UTC or None for error, warning expected)
        fn check(local: &str, zone: &str, policy: DstPolicy, want: Option<&str>, warn: bool) {
            let tz = parse_time_zone(zone).unwrap();
            let got = resolve_local(local.parse().unwrap(), &tz, policy);
            match want {
                Some(w) => {
                    let r = got.unwrap();
                    assert_eq!(r.at, ts(w), "{local} {zone}");
                    assert_eq!(r.warning.is_some(), warn, "{local} {zone}");
                }
                None => assert!(got.is_err(), "{local} {zone}"),
            }
        }
        use DstPolicy::*;
        for (local, zone, policy, want, warn) in [
            ("2027-06-01T12:00", "Europe/Paris", Reject, Some("2027-06-01T10:00Z"), false),
            ("2027-01-15T09:00", "Europe/Paris", Reject, Some("2027-01-15T08:00Z"), false),
            ("2027-03-28T02:30", "Europe/Paris", Reject, None, false),
            ("2027-03-28T02:30", "Europe/Paris", ShiftForward, Some("2027-03-28T01:30Z"), true),
            ("2027-03-28T02:00", "Europe/Paris", ShiftForward, Some("2027-03-28T01:00Z"), true),
            ("2027-03-28T03:00", "Europe/Paris", Reject, Some("2027-03-28T01:00Z"), false),
            ("2027-10-31T02:30", "Europe/Paris", Reject, Some("2027-10-31T00:30Z"), true),
            ("2027-10-31T02:30", "Europe/Paris", ShiftForward, Some("2027-10-31T00:30Z"), true),
            ("2027-03-14T02:30", "America/New_York", Reject, None, false),
            ("2027-03-14T02:30", "America/New_York", ShiftForward, Some("2027-03-14T07:30Z"), true),
            ("2027-11-07T01:30", "America/New_York", Reject, Some("2027-11-07T05:30Z"), true),
        ] {
            check(local, zone, policy, want, warn);
        }
    }

    #[test]
    fn resolve_messages() {
        let gap = resolve_local("2027-03-28T02:30".parse().unwrap(), &paris(), DstPolicy::Reject).unwrap_err();
        assert!(
            gap.en.contains("this time does not exist in Europe/Paris: clocks jump from 02:00 to 03:00"),
            "{}",
            gap.en
        );
        assert!(gap.fr.contains("2027-03-28 02:30 :"), "{}", gap.fr);
        let shifted = resolve_local("2027-03-28T02:30".parse().unwrap(), &paris(), DstPolicy::ShiftForward).unwrap();
        assert!(shifted.warning.unwrap().en.contains("moved to 03:30"));
        let edge = resolve_local("2027-03-28T02:00".parse().unwrap(), &paris(), DstPolicy::Reject).unwrap_err();
        assert!(edge.en.contains("clocks jump from 02:00 to 03:00"), "{}", edge.en);
        let ny = parse_time_zone("America/New_York").unwrap();
        let fold = resolve_local("2027-11-07T01:00".parse().unwrap(), &ny, DstPolicy::Reject).unwrap();
        let w = fold.warning.unwrap().en;
        assert!(w.contains("from 02:00 to 01:00") && w.contains("(UTC-04:00)"), "{w}");
        let fold = resolve_local("2027-10-31T02:30".parse().unwrap(), &paris(), DstPolicy::Reject).unwrap();
        let w = fold.warning.unwrap();
        assert!(w.en.contains("happens twice") && w.en.contains("UTC+02:00"), "{}", w.en);
        assert!(w.en.contains("from 03:00 to 02:00"), "{}", w.en);
        assert!(w.fr.contains("(UTC+02:00) a été retenue"), "{}", w.fr);
    }

    #[test]
    fn dst_policy_serde() {
        fn check(p: DstPolicy, json: &str) {
            assert_eq!(serde_json::to_string(&p).unwrap(), json);
            assert_eq!(serde_json::from_str::<DstPolicy>(json).unwrap(), p);
        }
        for (p, json) in [(DstPolicy::Reject, "\"reject\""), (DstPolicy::ShiftForward, "\"shift_forward\"")] {
            check(p, json);
        }
        assert_eq!(DstPolicy::default(), DstPolicy::Reject);
    }

    #[test]
    fn local_parsing() {
        fn check(date: &str, time: &str, want: Option<&str>) {
            let got = parse_local(date, time).ok();
            assert_eq!(got, want.map(|w| w.parse().unwrap()), "{date} {time}");
        }
        for (date, time, want) in [
            ("2027-03-28", "14:05", Some("2027-03-28T14:05")),
            ("2027-03-28", "14:05:30", Some("2027-03-28T14:05:30")),
            ("2027-03-28", "9:05", Some("2027-03-28T09:05")),
            (" 2027-03-28 ", " 00:00 ", Some("2027-03-28T00:00")),
            ("2027-02-29", "10:00", None),
            ("2027-13-01", "10:00", None),
            ("27-03-28", "10:00", None),
            ("2027/03/28", "10:00", None),
            ("2027-3-28", "10:00", None),
            ("2027-03-28", "24:00", None),
            ("2027-03-28", "14:5", None),
            ("2027-03-28", "14:05:60", None),
            ("2027-03-28", "2pm", None),
            ("2027-03-28", "", None),
            ("+2027-03-28", "10:00", None),
        ] {
            check(date, time, want);
        }
        assert!(parse_local("2027-13-01", "10:00").unwrap_err().fr.contains("« 2027-13-01 » :"));
    }

    #[test]
    fn future() {
        fn check(at: &str, now: &str, ok: bool) {
            assert_eq!(ensure_future(ts(at), ts(now)).is_ok(), ok, "{at} vs {now}");
        }
        for (at, now, ok) in [
            ("2027-01-01T10:00Z", "2027-01-01T09:59Z", true),
            ("2027-01-01T10:00Z", "2027-01-01T10:00Z", false),
            ("2026-01-01T10:00Z", "2027-01-01T10:00Z", false),
        ] {
            check(at, now, ok);
        }
    }

    #[test]
    fn weekly_slot_serde() {
        fn check(json: &str, want: Option<(Weekday, &str)>) {
            let got = serde_json::from_str::<WeeklySlot>(json).ok();
            let want = want.map(|(weekday, t)| WeeklySlot { weekday, time: t.parse().unwrap() });
            assert_eq!(got, want, "{json}");
            if let Some(slot) = got {
                assert_eq!(serde_json::to_string(&slot).unwrap(), json.replace(' ', ""));
            }
        }
        for (json, want) in [
            (r#"{"weekday":"monday","time":"09:30"}"#, Some((Weekday::Monday, "09:30"))),
            (r#"{"weekday":"sunday","time":"23:59"}"#, Some((Weekday::Sunday, "23:59"))),
            (r#"{"weekday":"friday","time":"07:15:30"}"#, Some((Weekday::Friday, "07:15:30"))),
            (r#"{"weekday":"lundi","time":"09:30"}"#, None),
            (r#"{"weekday":"monday","time":"25:00"}"#, None),
            (r#"{"weekday":"monday"}"#, None),
            (r#"{"weekday":"monday","time":"09:30","x":1}"#, None),
        ] {
            check(json, want);
        }
    }

    fn slot(w: Weekday, t: &str) -> WeeklySlot {
        WeeklySlot { weekday: w, time: t.parse().unwrap() }
    }

    /// (slots, zone, after, taken, expected).
    type SlotCase<'a> = (&'a [WeeklySlot], &'a str, &'a str, &'a [&'a str], Option<&'a str>);

    #[test]
    fn free_slots() {
        fn check(slots: &[WeeklySlot], zone: &str, after: &str, taken: &[&str], want: Option<&str>) {
            let tz = parse_time_zone(zone).unwrap();
            let taken: Vec<Timestamp> = taken.iter().map(|t| ts(t)).collect();
            let got = next_free_slot(slots, &tz, ts(after), &taken);
            assert_eq!(got, want.map(ts), "{zone} after {after}");
        }
        use Weekday::*;
        let mon = [slot(Monday, "09:30")];
        let sun_230 = [slot(Sunday, "02:30")];
        let two = [slot(Tuesday, "18:00"), slot(Tuesday, "08:00")];
        let cases: &[SlotCase<'_>] = &[
            (&[], "Europe/Paris", "2027-01-01T00:00Z", &[], None),
            // 2027-01-04 is a Monday; winter time (+01).
            (&mon, "Europe/Paris", "2027-01-01T00:00Z", &[], Some("2027-01-04T08:30Z")),
            // strictly after: exactly at the slot moves to the next week
            (&mon, "Europe/Paris", "2027-01-04T08:30Z", &[], Some("2027-01-11T08:30Z")),
            (&mon, "Europe/Paris", "2027-01-04T08:29Z", &[], Some("2027-01-04T08:30Z")),
            // taken slots are skipped
            (
                &mon,
                "Europe/Paris",
                "2027-01-01T00:00Z",
                &["2027-01-04T08:30Z", "2027-01-11T08:30Z"],
                Some("2027-01-18T08:30Z"),
            ),
            // across the March change: Monday before is +01, Monday after is +02
            (&mon, "Europe/Paris", "2027-03-22T08:30Z", &[], Some("2027-03-29T07:30Z")),
            // slot in the spring gap is shifted forward (02:30 -> 03:30 +02)
            (&sun_230, "Europe/Paris", "2027-03-27T00:00Z", &[], Some("2027-03-28T01:30Z")),
            // slot in the autumn overlap takes the first occurrence (+02)
            (&sun_230, "Europe/Paris", "2027-10-30T00:00Z", &[], Some("2027-10-31T00:30Z")),
            // across the October change: back to +01
            (&mon, "Europe/Paris", "2027-10-25T08:00Z", &[], Some("2027-11-01T08:30Z")),
            // earliest of several slots on the same day regardless of order
            (&two, "Europe/Paris", "2027-01-04T12:00Z", &[], Some("2027-01-05T07:00Z")),
            (&two, "Europe/Paris", "2027-01-05T07:00Z", &[], Some("2027-01-05T17:00Z")),
            // America/New_York: EST (-05) then EDT (-04) after 2027-03-14
            (&mon, "America/New_York", "2027-03-09T00:00Z", &[], Some("2027-03-15T13:30Z")),
            (&mon, "America/New_York", "2027-03-01T00:00Z", &[], Some("2027-03-01T14:30Z")),
            (&[slot(Sunday, "02:30")], "America/New_York", "2027-03-13T00:00Z", &[], Some("2027-03-14T07:30Z")),
            (&[slot(Sunday, "01:30")], "America/New_York", "2027-11-06T00:00Z", &[], Some("2027-11-07T05:30Z")),
            // local date differs from UTC date: Monday 00:30 in New York is already Monday 04:30Z
            (&[slot(Sunday, "23:00")], "America/New_York", "2027-01-04T02:00Z", &[], Some("2027-01-04T04:00Z")),
        ];
        for (slots, zone, after, taken, want) in cases {
            check(slots, zone, after, taken, *want);
        }
    }

    #[test]
    fn free_slots_give_up_after_a_year() {
        let tz = paris();
        let slots = [slot(Weekday::Monday, "09:30")];
        let after = ts("2027-01-01T00:00Z");
        let taken: Vec<Timestamp> =
            (0..60).map(|w| ts("2027-01-04T08:30Z") + SignedDuration::from_hours(24 * 7 * w)).collect();
        // Every Monday at 09:30 for 60 weeks; summer ones differ by one hour, so some remain free.
        assert!(next_free_slot(&slots, &tz, after, &taken).is_some());
        let utc = TimeZone::UTC;
        let taken: Vec<Timestamp> =
            (0..60).map(|w| ts("2027-01-04T09:30Z") + SignedDuration::from_hours(24 * 7 * w)).collect();
        assert_eq!(next_free_slot(&slots, &utc, after, &taken), None);
    }

    #[test]
    fn evergreen() {
        fn check(last: &str, hours: i64, now: &str, want: &str) {
            let got = next_evergreen(ts(last), SignedDuration::from_hours(hours), ts(now));
            assert_eq!(got, ts(want), "{last} + k*{hours}h after {now}");
        }
        for (last, hours, now, want) in [
            ("2027-01-01T00:00Z", 24, "2027-01-01T12:00Z", "2027-01-02T00:00Z"),
            ("2027-01-01T00:00Z", 24, "2027-01-02T00:00Z", "2027-01-03T00:00Z"),
            ("2027-01-01T00:00Z", 24, "2027-01-05T01:00Z", "2027-01-06T00:00Z"),
            ("2027-01-01T00:00Z", 24, "2026-12-01T00:00Z", "2027-01-02T00:00Z"),
            ("2027-01-01T00:00Z", 1, "2027-01-01T00:00Z", "2027-01-01T01:00Z"),
            ("2027-01-01T00:00Z", 0, "2027-01-01T00:00Z", "2027-01-01T01:00Z"),
            ("2020-01-01T00:00Z", 24 * 365, "2027-06-01T00:00Z", "2027-12-30T00:00Z"),
        ] {
            check(last, hours, now, want);
        }
    }

    #[test]
    fn evergreen_interval() {
        fn check(secs: i64, ok: bool) {
            assert_eq!(validate_evergreen_interval(secs).is_ok(), ok, "{secs}");
        }
        for (secs, ok) in
            [(3600, true), (3599, false), (0, false), (-3600, false), (365 * 86_400, true), (365 * 86_400 + 1, false)]
        {
            check(secs, ok);
        }
    }

    #[test]
    fn approval_expiry() {
        fn check(due: &str, now: &str, want: bool) {
            assert_eq!(approval_expired(ts(due), ts(now)), want, "{due} {now}");
        }
        for (due, now, want) in [
            ("2027-01-01T10:00Z", "2027-01-01T09:00Z", false),
            ("2027-01-01T10:00Z", "2027-01-01T10:00Z", true),
            ("2027-01-01T10:00Z", "2027-01-01T11:00Z", true),
        ] {
            check(due, now, want);
        }
    }
}
