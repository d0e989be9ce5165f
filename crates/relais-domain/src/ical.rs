//! iCalendar (RFC 5545) export of scheduled posts, written by hand: escaping, folding, rendering.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// One post shown as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalEvent {
    /// Stable identifier of the post (`@relais` is appended in the feed).
    pub uid: String,
    /// When the post is (or was) published.
    pub start: Timestamp,
    /// Length of the event in the calendar, in minutes.
    pub duration_minutes: u32,
    /// Event title.
    pub summary: String,
    /// Event description (the post text); omitted when empty.
    pub description: String,
    /// Link to the post in Relais or on the network.
    pub url: Option<String>,
    /// Relais post status, e.g. `scheduled`, `draft`, `failed`.
    pub status: String,
    /// Categories, e.g. the network names.
    pub categories: Vec<String>,
    /// When the post was last changed.
    pub last_modified: Timestamp,
}

/// Maximum length of a physical content line, in octets, excluding CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// Renders a complete `VCALENDAR` named `name` containing one `VEVENT` per event.
pub fn render_calendar(name: &str, events: &[CalEvent], now: Timestamp) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Relais//Relais calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, line);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    for event in events {
        render_event(&mut out, event, now);
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

fn render_event(out: &mut String, e: &CalEvent, now: Timestamp) {
    let end = e.start.checked_add(SignedDuration::from_mins(i64::from(e.duration_minutes))).unwrap_or(e.start);
    push_line(out, "BEGIN:VEVENT");
    push_line(out, &format!("UID:{}@relais", escape_text(&e.uid)));
    push_line(out, &format!("DTSTAMP:{}", utc(now)));
    push_line(out, &format!("DTSTART:{}", utc(e.start)));
    push_line(out, &format!("DTEND:{}", utc(end)));
    push_line(out, &format!("SUMMARY:{}", escape_text(&e.summary)));
    if !e.description.is_empty() {
        push_line(out, &format!("DESCRIPTION:{}", escape_text(&e.description)));
    }
    if let Some(url) = e.url.as_deref().map(clean_uri).filter(|u| !u.is_empty()) {
        push_line(out, &format!("URL:{url}"));
    }
    let categories: Vec<String> = e.categories.iter().filter(|c| !c.is_empty()).map(|c| escape_text(c)).collect();
    if !categories.is_empty() {
        push_line(out, &format!("CATEGORIES:{}", categories.join(",")));
    }
    push_line(out, &format!("LAST-MODIFIED:{}", utc(e.last_modified)));
    push_line(out, &format!("STATUS:{}", event_status(&e.status)));
    push_line(out, "END:VEVENT");
}

/// The iCalendar `STATUS` of a Relais post status: `CONFIRMED`, `TENTATIVE` or `CANCELLED`.
pub fn event_status(status: &str) -> &'static str {
    match status.trim().to_ascii_lowercase().as_str() {
        "scheduled" | "published" => "CONFIRMED",
        "rejected" | "expired" | "missed" | "failed" | "cancelled" | "canceled" => "CANCELLED",
        _ => "TENTATIVE",
    }
}

/// A UTC DATE-TIME such as `20270328T093000Z`.
fn utc(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC).strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: `\` `;` `,` and newlines are escaped, CR and other controls removed.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI value with every control character and space removed, so it cannot break the line.
fn clean_uri(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() && !c.is_whitespace()).collect()
}

/// Appends one content line, folded at 75 octets on character boundaries, ending with CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut budget = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > budget {
            out.push_str("\r\n ");
            budget = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event(summary: &str) -> CalEvent {
        CalEvent {
            uid: "post-42".into(),
            start: ts("2027-03-28T09:30:00Z"),
            duration_minutes: 15,
            summary: summary.into(),
            description: "Line one\nLine two".into(),
            url: Some("https://relais.example/posts/42".into()),
            status: "scheduled".into(),
            categories: vec!["Mastodon".into(), "LinkedIn".into()],
            last_modified: ts("2027-03-01T08:00:00Z"),
        }
    }

    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    fn render(events: &[CalEvent]) -> String {
        render_calendar("Relais — Équipe", events, ts("2027-03-20T12:00:00Z"))
    }

    #[test]
    fn calendar_structure() {
        let out = render(&[event("Launch day")]);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines.last(), Some(&""), "ends with CRLF");
        for want in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Relais//Relais calendar//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:Relais — Équipe",
            "BEGIN:VEVENT",
            "UID:post-42@relais",
            "DTSTAMP:20270320T120000Z",
            "DTSTART:20270328T093000Z",
            "DTEND:20270328T094500Z",
            "SUMMARY:Launch day",
            "DESCRIPTION:Line one\\nLine two",
            "URL:https://relais.example/posts/42",
            "CATEGORIES:Mastodon,LinkedIn",
            "LAST-MODIFIED:20270301T080000Z",
            "STATUS:CONFIRMED",
            "END:VEVENT",
            "END:VCALENDAR",
        ] {
            assert!(lines.contains(&want), "missing {want} in\n{out}");
        }
        assert!(!out.contains('\n') || out.matches('\n').count() == out.matches("\r\n").count());
    }

    #[test]
    fn statuses() {
        fn check(status: &str, want: &str) {
            assert_eq!(event_status(status), want, "{status}");
        }
        for (status, want) in [
            ("scheduled", "CONFIRMED"),
            ("published", "CONFIRMED"),
            ("draft", "TENTATIVE"),
            ("pending", "TENTATIVE"),
            ("pending_approval", "TENTATIVE"),
            ("rejected", "CANCELLED"),
            ("expired", "CANCELLED"),
            ("missed", "CANCELLED"),
            ("failed", "CANCELLED"),
            ("Scheduled", "CONFIRMED"),
        ] {
            check(status, want);
        }
    }

    #[test]
    fn escaping() {
        fn check(input: &str, want: &str) {
            assert_eq!(escape_text(input), want, "{input:?}");
        }
        for (input, want) in [
            ("plain", "plain"),
            ("a;b,c", "a\\;b\\,c"),
            ("back\\slash", "back\\\\slash"),
            ("two\nlines", "two\\nlines"),
            ("crlf\r\nline", "crlf\\nline"),
            ("bare\rcr", "barecr"),
            ("nul\0bell\u{7}", "nulbell"),
            ("tab\there", "tab\there"),
            ("é€😀", "é€😀"),
        ] {
            check(input, want);
        }
    }

    #[test]
    fn hostile_text_cannot_inject() {
        fn check(e: CalEvent) {
            let out = render(&[e]);
            assert_eq!(out.matches("\r\nBEGIN:VEVENT").count(), 1, "{out}");
            assert_eq!(out.matches("\r\nEND:VEVENT").count(), 1, "{out}");
            let unfolded = unfold(&out);
            for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
                let name = line.split([':', ';']).next().unwrap();
                assert!(
                    [
                        "BEGIN",
                        "END",
                        "VERSION",
                        "PRODID",
                        "CALSCALE",
                        "METHOD",
                        "X-WR-CALNAME",
                        "UID",
                        "DTSTAMP",
                        "DTSTART",
                        "DTEND",
                        "SUMMARY",
                        "DESCRIPTION",
                        "URL",
                        "CATEGORIES",
                        "LAST-MODIFIED",
                        "STATUS"
                    ]
                    .contains(&name),
                    "unexpected line {line:?}"
                );
                assert!(!line.contains('\r') && !line.contains('\n'));
            }
            assert!(!unfolded.contains("\r\nATTENDEE"), "{out}");
        }
        let payload = "Hi\r\nBEGIN:VEVENT\r\nUID:evil\r\nATTENDEE:mailto:x@y\r\nEND:VEVENT";
        check(event(payload));
        check(CalEvent { description: payload.into(), ..event("ok") });
        check(CalEvent { uid: payload.into(), ..event("ok") });
        check(CalEvent { url: Some(format!("https://x/{payload}")), ..event("ok") });
        check(CalEvent { categories: vec![payload.into()], ..event("ok") });
        check(CalEvent { summary: "x\nBEGIN:VEVENT".into(), ..event("ok") });
        check(CalEvent { summary: "x\rATTENDEE:mailto:x@y".into(), ..event("ok") });
    }

    #[test]
    fn folding() {
        fn check(text: &str) {
            let out = render(&[CalEvent { summary: text.into(), description: text.into(), ..event("") }]);
            for line in out.split("\r\n") {
                assert!(line.len() <= MAX_LINE_OCTETS, "{} octets: {line:?}", line.len());
            }
            let unfolded = unfold(&out);
            let want = format!("\r\nSUMMARY:{}\r\n", escape_text(text));
            assert!(unfolded.contains(&want), "{unfolded}");
        }
        for text in [
            "short",
            &"a".repeat(67),
            &"a".repeat(68),
            &"a".repeat(500),
            &"é".repeat(200),
            &"€".repeat(200),
            &"😀".repeat(100),
            &"aé€😀, ;\\\n".repeat(40),
            &format!("x{}", "é€😀".repeat(50)),
        ] {
            check(text);
        }
    }

    #[test]
    fn empty_calendar_and_optional_fields() {
        let out = render(&[]);
        assert!(!out.contains("VEVENT"));
        assert!(out.starts_with("BEGIN:VCALENDAR\r\n") && out.ends_with("END:VCALENDAR\r\n"));
        let bare = CalEvent { description: String::new(), url: None, categories: vec![], ..event("x") };
        let out = render(&[bare]);
        for absent in ["DESCRIPTION", "URL:", "CATEGORIES"] {
            assert!(!out.contains(absent), "{absent} in {out}");
        }
        let cats = CalEvent { categories: vec!["A,B".into(), "C;D".into()], ..event("x") };
        assert!(render(&[cats]).contains("CATEGORIES:A\\,B,C\\;D\r\n"));
    }
}
