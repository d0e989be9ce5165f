//! Bulk import of posts from CSV (Sprout Social's bulk format and French Excel exports): decoding,
//! delimiter sniffing, header matching and per-row validation.

use csv::StringRecord;
use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Serialize};

use crate::Msg;
use crate::schedule::{number, parse_hms, parse_iso_date};

/// Maximum number of data rows accepted in one file.
pub const MAX_ROWS: usize = 1000;

/// How to read ambiguous numeric dates such as `03/04/2027`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Day first for `;`-separated files (French Excel), month first otherwise (Sprout, US).
    #[default]
    Auto,
    /// `DD/MM/YYYY`.
    DayFirst,
    /// `MM/DD/YYYY`.
    MonthFirst,
}

/// One valid row of the file, ready to become a draft or scheduled post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    /// 1-based line number where the row starts in the file (the header is line 1).
    pub line: usize,
    /// The publication wall-clock time (to be resolved in the workspace's time zone).
    pub local: DateTime,
    /// The post text (trimmed, line breaks kept).
    pub text: String,
    /// Optional link.
    pub link: Option<String>,
    /// Optional image URL.
    pub image_url: Option<String>,
    /// Raw channel references, split on `|` or `,` and trimmed.
    pub channels: Vec<String>,
}

/// A problem found in one row; the row is left out of [`Parsed::rows`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// 1-based line number where the row starts.
    pub line: usize,
    /// The column as named in the file's header, when the problem is about one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub message: Msg,
}

/// The result of parsing a whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The valid rows.
    pub rows: Vec<ImportRow>,
    /// Every problem found, in file order.
    pub problems: Vec<RowProblem>,
    /// The delimiter detected: `b','`, `b';'` or `b'\t'`.
    pub delimiter: u8,
    /// The encoding detected (see [`decode`]).
    pub encoding: &'static str,
}

/// Decodes file bytes: a UTF-8 BOM is stripped, a UTF-16 BOM selects UTF-16; then valid UTF-8 is
/// kept as is, anything else is read as Windows-1252 (French Excel exports).
///
/// Returns the text (without BOM) and the encoding: `utf-8`, `utf-16le`, `utf-16be` or
/// `windows-1252`.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        let name = if encoding == encoding_rs::UTF_16BE { "utf-16be" } else { "utf-16le" };
        return (text.into_owned(), name);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "utf-8"),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (text.into_owned(), "windows-1252")
        }
    }
}

/// Parses a bulk-import file. Fails only for whole-file problems (empty file, missing required
/// columns, more than [`MAX_ROWS`] rows); row problems are all collected in [`Parsed::problems`].
pub fn parse(bytes: &[u8], order: DateOrder) -> Result<Parsed, Msg> {
    let (text, encoding) = decode(bytes);
    let delimiter = sniff_delimiter(&text);
    let mut records = read_records(&text, delimiter)?.into_iter();
    let (_, header) = records.next().ok_or_else(empty_file)?;
    let columns = Columns::from_header(&header)?;
    let data: Vec<(usize, StringRecord)> = records.collect();
    if data.len() > MAX_ROWS {
        return Err(too_many_rows(data.len()));
    }
    let order = match (order, delimiter) {
        (DateOrder::Auto, b';') => DateOrder::DayFirst,
        (DateOrder::Auto, _) => DateOrder::MonthFirst,
        (o, _) => o,
    };
    let mut parsed = Parsed { rows: Vec::new(), problems: Vec::new(), delimiter, encoding };
    for (line, record) in &data {
        match parse_row(*line, record, &columns, order) {
            Ok(row) => parsed.rows.push(row),
            Err(mut problems) => parsed.problems.append(&mut problems),
        }
    }
    Ok(parsed)
}

/// `;` or tab when the header line has more of them than commas (outside quotes), else `,`.
fn sniff_delimiter(text: &str) -> u8 {
    let (mut commas, mut semis, mut tabs, mut quoted) = (0, 0, 0, false);
    for c in text.trim_start_matches(['\r', '\n']).chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semis += 1,
            '\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if tabs > commas && tabs > semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

/// All non-blank records with the line number where each starts.
fn read_records(text: &str, delimiter: u8) -> Result<Vec<(usize, StringRecord)>, Msg> {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| unreadable(&e))?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        out.push((line_at(text, start), record));
    }
    Ok(out)
}

/// The 1-based line of the first character at or after byte `start` that is not a line break
/// (the CSV reader may report a record as starting on the previous line's terminator).
fn line_at(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let start = start.min(bytes.len());
    let skip = bytes[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    bytes[..start + skip].iter().filter(|b| **b == b'\n').count() + 1
}

/// The columns the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Date,
    Time,
    Text,
    Link,
    Image,
    Channel,
}

impl Field {
    const ALL: [Field; 6] = [Field::Date, Field::Time, Field::Text, Field::Link, Field::Image, Field::Channel];
    const REQUIRED: [Field; 4] = [Field::Date, Field::Time, Field::Text, Field::Channel];

    /// Accepted header names, already normalized (see [`normalize_header`]).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Date => &["date", "jour"],
            Field::Time => &["time_24hr", "time", "heure"],
            Field::Text => &["message_text", "message", "text", "texte"],
            Field::Link => &["link", "lien", "url"],
            Field::Image => &["image_url", "image", "media_url"],
            Field::Channel => &["channel", "channels", "canal", "canaux", "compte", "comptes", "profile", "profiles"],
        }
    }

    /// The column's name in English and French, for messages.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Field::Date => ("date", "date"),
            Field::Time => ("time", "heure"),
            Field::Text => ("text", "texte"),
            Field::Link => ("link", "lien"),
            Field::Image => ("image URL", "URL de l’image"),
            Field::Channel => ("channel", "canal"),
        }
    }
}

/// Lower-cases, removes accents, cuts any `(...)` hint and makes spaces, `_` and `-` equivalent.
fn normalize_header(raw: &str) -> String {
    let raw = raw.trim_start_matches('\u{feff}');
    let raw = raw.split('(').next().unwrap_or(raw);
    let mut out = String::new();
    for c in raw.trim().chars().flat_map(char::to_lowercase) {
        match c {
            ' ' | '_' | '-' | '\t' => {
                if !out.ends_with('_') {
                    out.push('_');
                }
            }
            c => out.push_str(fold_accent(c)),
        }
    }
    out.trim_matches('_').to_string()
}

/// The unaccented form of a lower-case Latin letter (as a string, for `œ` and `æ`).
fn fold_accent(c: char) -> &'static str {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'ç' => "c",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => "o",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ý' | 'ÿ' => "y",
        'œ' => "oe",
        'æ' => "ae",
        _ => ascii_str(c),
    }
}

/// A one-character ASCII string for `c`, or `"?"` for anything else (never matches an alias).
fn ascii_str(c: char) -> &'static str {
    const ASCII: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    ASCII.find(c).map_or("?", |i| &ASCII[i..=i])
}

/// Where each known column is in the file, and the header as written.
struct Columns {
    index: [Option<usize>; 6],
    header: Vec<String>,
}

impl Columns {
    fn from_header(header: &StringRecord) -> Result<Self, Msg> {
        let normalized: Vec<String> = header.iter().map(normalize_header).collect();
        let mut index = [None; 6];
        for (slot, field) in index.iter_mut().zip(Field::ALL) {
            *slot = normalized.iter().position(|n| field.aliases().contains(&n.as_str()));
        }
        let columns = Self {
            index,
            header: header.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_string()).collect(),
        };
        let missing: Vec<Field> = Field::REQUIRED.into_iter().filter(|f| columns.at(*f).is_none()).collect();
        if missing.is_empty() { Ok(columns) } else { Err(missing_columns(&missing)) }
    }

    fn at(&self, field: Field) -> Option<usize> {
        self.index[field as usize]
    }

    /// The cell of `field` in `record`, trimmed, or `""` when the column is absent.
    fn cell<'r>(&self, record: &'r StringRecord, field: Field) -> &'r str {
        self.at(field).and_then(|i| record.get(i)).map_or("", str::trim)
    }

    /// The header of `field` as written in the file.
    fn name(&self, field: Field) -> Option<String> {
        self.at(field).and_then(|i| self.header.get(i)).cloned()
    }
}

/// Validates one data row, collecting every problem it has.
fn parse_row(
    line: usize,
    record: &StringRecord,
    cols: &Columns,
    order: DateOrder,
) -> Result<ImportRow, Vec<RowProblem>> {
    let width = cols.header.len();
    let extra_filled = record.iter().skip(width).any(|c| !c.trim().is_empty());
    if record.len() < width || extra_filled {
        return Err(vec![RowProblem { line, column: None, message: wrong_cell_count(record.len(), width) }]);
    }
    let mut problems = Vec::new();
    let mut check = |field: Field, result: Result<(), Msg>| {
        if let Err(message) = result {
            problems.push(RowProblem { line, column: cols.name(field), message });
        }
    };
    let date = parse_date(cols.cell(record, Field::Date), order);
    let time = parse_time(cols.cell(record, Field::Time));
    let text = cols.cell(record, Field::Text).replace("\r\n", "\n");
    let channels = split_channels(cols.cell(record, Field::Channel));
    check(Field::Date, date.as_ref().map(|_| ()).map_err(Clone::clone));
    check(Field::Time, time.as_ref().map(|_| ()).map_err(Clone::clone));
    check(Field::Text, if text.is_empty() { Err(empty_cell(Field::Text)) } else { Ok(()) });
    check(Field::Channel, if channels.is_empty() { Err(empty_cell(Field::Channel)) } else { Ok(()) });
    match (date, time) {
        (Ok(date), Ok(time)) if problems.is_empty() => Ok(ImportRow {
            line,
            local: date.to_datetime(time),
            text,
            link: optional(cols.cell(record, Field::Link)),
            image_url: optional(cols.cell(record, Field::Image)),
            channels,
        }),
        _ => Err(problems),
    }
}

fn optional(cell: &str) -> Option<String> {
    (!cell.is_empty()).then(|| cell.to_string())
}

fn split_channels(cell: &str) -> Vec<String> {
    cell.split(['|', ',']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()
}

/// Parses `YYYY-MM-DD`, or `D/M/YYYY` / `M/D/YYYY` (separators `/`, `.` or `-`) by `order`.
fn parse_date(cell: &str, order: DateOrder) -> Result<Date, Msg> {
    if let Some(date) = parse_iso_date(cell) {
        return Ok(date);
    }
    let parts: Vec<&str> = cell.split(['/', '.', '-']).collect();
    let [a, b, year] = parts.as_slice() else {
        return Err(bad_date(cell, order));
    };
    if year.len() == 2 && number::<u8>(year).is_some() {
        return Err(two_digit_year(cell));
    }
    let (day, month) = if order == DateOrder::MonthFirst { (b, a) } else { (a, b) };
    let valid = year.len() == 4 && day.len() <= 2 && month.len() <= 2;
    let date = valid.then(|| Date::new(number(year)?, number(month)?, number(day)?).ok()).flatten();
    date.ok_or_else(|| bad_date(cell, order))
}

/// Parses `HH:MM`, `HH:MM:SS` (24-hour) or the French `9h30` / `09h30` / `14h`.
fn parse_time(cell: &str) -> Result<Time, Msg> {
    let french = || {
        let (h, m) = cell.to_ascii_lowercase().split_once('h').map(|(h, m)| (h.to_string(), m.to_string()))?;
        let m = if m.is_empty() { "00".to_string() } else { m };
        (h.len() <= 2 && m.len() == 2).then_some(())?;
        Time::new(number(&h)?, number(&m)?, 0, 0).ok()
    };
    parse_hms(cell).or_else(french).ok_or_else(|| bad_time(cell))
}

fn empty_file() -> Msg {
    Msg::new(
        "the file is empty: it needs a header line and at least one row",
        "le fichier est vide : il faut une ligne d’en-tête et au moins une ligne",
    )
}

fn unreadable(e: &csv::Error) -> Msg {
    let line = e.position().map_or(0, |p| p.line());
    Msg::new(
        format!("the file cannot be read as CSV (line {line})"),
        format!("le fichier n’est pas un CSV lisible (ligne {line})"),
    )
}

fn too_many_rows(n: usize) -> Msg {
    Msg::new(
        format!("the file has {n} rows: at most {MAX_ROWS} can be imported at once"),
        format!("le fichier contient {n} lignes : {MAX_ROWS} au maximum peuvent être importées à la fois"),
    )
}

fn missing_columns(missing: &[Field]) -> Msg {
    let en: Vec<&str> = missing.iter().map(|f| f.names().0).collect();
    let fr: Vec<&str> = missing.iter().map(|f| f.names().1).collect();
    let aliases: Vec<String> = missing.iter().map(|f| f.aliases().join(", ")).collect();
    let (s, fs) = if missing.len() > 1 { ("s", "s") } else { ("", "") };
    Msg::new(
        format!("missing required column{s}: {} (accepted names: {})", en.join(", "), aliases.join(" / ")),
        format!(
            "colonne{fs} obligatoire{fs} manquante{fs} : {} (noms acceptés : {})",
            fr.join(", "),
            aliases.join(" / ")
        ),
    )
}

fn wrong_cell_count(got: usize, want: usize) -> Msg {
    Msg::new(
        format!("this row has {got} cells but the header has {want}"),
        format!("cette ligne a {got} cellules alors que l’en-tête en a {want}"),
    )
}

fn empty_cell(field: Field) -> Msg {
    let (en, fr) = field.names();
    Msg::new(format!("the {en} is empty"), format!("la cellule « {fr} » est vide"))
}

fn bad_date(cell: &str, order: DateOrder) -> Msg {
    let (en, fr) = match order {
        DateOrder::MonthFirst => ("MM/DD/YYYY", "MM/JJ/AAAA"),
        _ => ("DD/MM/YYYY", "JJ/MM/AAAA"),
    };
    Msg::new(
        format!("invalid date \"{cell}\": expected {en} or YYYY-MM-DD"),
        format!("date invalide « {cell} » : format attendu {fr} ou AAAA-MM-JJ"),
    )
}

fn two_digit_year(cell: &str) -> Msg {
    Msg::new(
        format!("invalid date \"{cell}\": write the year with four digits"),
        format!("date invalide « {cell} » : écrivez l’année sur quatre chiffres"),
    )
}

fn bad_time(cell: &str) -> Msg {
    Msg::new(
        format!("invalid time \"{cell}\": expected HH:MM (24-hour clock) or 9h30"),
        format!("heure invalide « {cell} » : format attendu HH:MM (sur 24 heures) ou 9h30"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        fn check(bytes: &[u8], text: &str, encoding: &str) {
            assert_eq!(decode(bytes), (text.to_string(), encoding), "{bytes:?}");
        }
        for (bytes, text, encoding) in [
            (&b"date;heure"[..], "date;heure", "utf-8"),
            (b"\xEF\xBB\xBFdate", "date", "utf-8"),
            ("caf\u{e9} 5\u{20ac}".as_bytes(), "café 5€", "utf-8"),
            (b"caf\xE9 5\x80", "café 5€", "windows-1252"),
            (b"\xFF\xFEd\x00\xE9\x00", "dé", "utf-16le"),
            (b"\xFE\xFF\x00d\x00\xE9", "dé", "utf-16be"),
            (b"", "", "utf-8"),
        ] {
            check(bytes, text, encoding);
        }
    }

    #[test]
    fn header_normalization() {
        fn check(raw: &str, want: &str) {
            assert_eq!(normalize_header(raw), want, "{raw}");
        }
        for (raw, want) in [
            ("Date", "date"),
            (" Time_24hr ", "time_24hr"),
            ("Message Text", "message_text"),
            ("message-text", "message_text"),
            ("Image URL", "image_url"),
            ("\u{feff}Date", "date"),
            ("Texte", "texte"),
            ("HEURE", "heure"),
            ("Médià_URL", "media_url"),
            ("Date (MM/DD/YYYY)", "date"),
            ("Canal  d’envoi", "canal_d?envoi"),
        ] {
            check(raw, want);
        }
    }

    #[test]
    fn dates() {
        fn check(cell: &str, order: DateOrder, want: Option<&str>) {
            let got = parse_date(cell, order).ok();
            assert_eq!(got, want.map(|w| w.parse().unwrap()), "{cell} {order:?}");
        }
        use DateOrder::*;
        for (cell, order, want) in [
            ("2027-03-28", MonthFirst, Some("2027-03-28")),
            ("2027-03-28", DayFirst, Some("2027-03-28")),
            ("28/03/2027", DayFirst, Some("2027-03-28")),
            ("28.03.2027", DayFirst, Some("2027-03-28")),
            ("28-03-2027", DayFirst, Some("2027-03-28")),
            ("3/4/2027", DayFirst, Some("2027-04-03")),
            ("3/4/2027", MonthFirst, Some("2027-03-04")),
            ("03/28/2027", MonthFirst, Some("2027-03-28")),
            ("28/03/2027", MonthFirst, None),
            ("03/28/2027", DayFirst, None),
            ("28/03/27", DayFirst, None),
            ("31/02/2027", DayFirst, None),
            ("2027/03/28", DayFirst, None),
            ("", DayFirst, None),
            ("demain", DayFirst, None),
            ("1/2/3/2027", DayFirst, None),
            ("001/02/2027", DayFirst, None),
        ] {
            check(cell, order, want);
        }
        assert!(parse_date("28/03/27", DateOrder::DayFirst).unwrap_err().en.contains("four digits"));
    }

    #[test]
    fn times() {
        fn check(cell: &str, want: Option<&str>) {
            assert_eq!(parse_time(cell).ok(), want.map(|w| w.parse().unwrap()), "{cell}");
        }
        for (cell, want) in [
            ("09:30", Some("09:30")),
            ("9:30", Some("09:30")),
            ("14:05:30", Some("14:05:30")),
            ("9h30", Some("09:30")),
            ("09h30", Some("09:30")),
            ("14H05", Some("14:05")),
            ("14h", Some("14:00")),
            ("24:00", None),
            ("9h3", None),
            ("h30", None),
            ("9:30 PM", None),
            ("", None),
            ("930", None),
        ] {
            check(cell, want);
        }
    }

    #[test]
    fn delimiters() {
        fn check(text: &str, want: u8) {
            assert_eq!(sniff_delimiter(text), want, "{text:?}");
        }
        for (text, want) in [
            ("Date,Time,Message\n", b','),
            ("Date;Heure;Texte\n", b';'),
            ("Date\tTime\tMessage\n", b'\t'),
            ("\"a,b,c\";x;y\n", b';'),
            ("a;b,c,d\nx;y;z;w;v\n", b','),
            ("\n\nDate;Heure\n", b';'),
            ("", b','),
        ] {
            check(text, want);
        }
    }

    /// Summary of a parse: rows as (line, local, text, channels) and problems as (line, column).
    type Rows<'a> = Vec<(usize, &'a str, &'a str, Vec<&'a str>)>;
    type Problems<'a> = Vec<(usize, Option<&'a str>)>;
    type Expected<'a> = Result<(Rows<'a>, Problems<'a>), &'a str>;

    fn check(input: &[u8], order: DateOrder, want: Expected<'_>) {
        let got = parse(input, order);
        match (got, want) {
            (Ok(parsed), Ok((rows, problems))) => {
                let got_rows: Vec<(usize, DateTime, &str, Vec<&str>)> = parsed
                    .rows
                    .iter()
                    .map(|r| (r.line, r.local, r.text.as_str(), r.channels.iter().map(String::as_str).collect()))
                    .collect();
                let want_rows: Vec<(usize, DateTime, &str, Vec<&str>)> =
                    rows.into_iter().map(|(l, d, t, c)| (l, d.parse().unwrap(), t, c)).collect();
                assert_eq!(got_rows, want_rows);
                let got_problems: Vec<(usize, Option<&str>)> =
                    parsed.problems.iter().map(|p| (p.line, p.column.as_deref())).collect();
                assert_eq!(got_problems, problems, "{:#?}", parsed.problems);
            }
            (Err(msg), Err(want)) => assert!(msg.en.contains(want), "{} should contain {want}", msg.en),
            (got, want) => panic!("got {got:#?}, want {want:?}"),
        }
    }

    fn french_excel() -> Vec<u8> {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(b"Date;Heure;Texte;Lien;Canal\r\n");
        bytes.extend_from_slice(
            b"28/03/2027;9h30;Caf\xE9 offert, 5\x80 seulement !;https://x.fr;mastodon | linkedin\r\n",
        );
        bytes.extend_from_slice(b";;;;\r\n");
        bytes.extend_from_slice(b"02/04/2027;14:05;\"Deux lignes;\r\navec point-virgule\";;bluesky\r\n");
        bytes
    }

    #[test]
    fn parse_files() {
        use DateOrder::*;
        let excel = french_excel();
        let sprout = b"Date,Time_24hr,Message_Text,Link,Image_URL,Channel\n\
            03/28/2027,09:30,Hello world,https://a.example,,main-account\n\
            2027-03-29,18:00:00,\"Quoted, with comma\",,https://img.example/a.png,\"acct1,acct2\"\n";
        let broken = b"date,time,text,channel\n\
            03/28/2027,09:30,First,a\n\
            13/45/2027,25:00,,\n\
            03/30/2027,10:00,Third,c\n\
            03/31/2027,10:00,Too few\n\
            04/01/2027,10:00,Fifth,e\n";
        let multiline = b"date,time,text,channel\n\
            2027-03-28,09:30,\"Line one\nLine two\n\nLine four\",a\n\
            2027-03-29,09:30,Next,b\n";
        let no_channel = b"Date,Time,Message\n2027-03-28,09:30,Hi\n";
        let tabbed = b"Jour\tHeure\tMessage\tCompte\n2027-03-28\t09:30\tHi\tx\n";
        let extra_empty = b"date;heure;texte;canal;\n28/03/2027;09:30;Salut;x;\n28/03/2027;09:30;Trop;x;;z\n";
        let cases: Vec<(&[u8], DateOrder, Expected<'_>)> = vec![
            (
                &excel,
                Auto,
                Ok((
                    vec![
                        (2, "2027-03-28T09:30", "Café offert, 5€ seulement !", vec!["mastodon", "linkedin"]),
                        (4, "2027-04-02T14:05", "Deux lignes;\navec point-virgule", vec!["bluesky"]),
                    ],
                    vec![],
                )),
            ),
            (
                sprout,
                Auto,
                Ok((
                    vec![
                        (2, "2027-03-28T09:30", "Hello world", vec!["main-account"]),
                        (3, "2027-03-29T18:00", "Quoted, with comma", vec!["acct1", "acct2"]),
                    ],
                    vec![],
                )),
            ),
            (
                broken,
                Auto,
                Ok((
                    vec![
                        (2, "2027-03-28T09:30", "First", vec!["a"]),
                        (4, "2027-03-30T10:00", "Third", vec!["c"]),
                        (6, "2027-04-01T10:00", "Fifth", vec!["e"]),
                    ],
                    vec![(3, Some("date")), (3, Some("time")), (3, Some("text")), (3, Some("channel")), (5, None)],
                )),
            ),
            (
                multiline,
                Auto,
                Ok((
                    vec![
                        (2, "2027-03-28T09:30", "Line one\nLine two\n\nLine four", vec!["a"]),
                        (6, "2027-03-29T09:30", "Next", vec!["b"]),
                    ],
                    vec![],
                )),
            ),
            (tabbed, Auto, Ok((vec![(2, "2027-03-28T09:30", "Hi", vec!["x"])], vec![]))),
            (extra_empty, Auto, Ok((vec![(2, "2027-03-28T09:30", "Salut", vec!["x"])], vec![(3, None)]))),
            (
                b"date;heure;texte;canal\n03/04/2027;9h;x;y\n",
                MonthFirst,
                Ok((vec![(2, "2027-03-04T09:00", "x", vec!["y"])], vec![])),
            ),
            (
                b"date,time,text,channel\n03/04/2027,9:00,x,y\n",
                DayFirst,
                Ok((vec![(2, "2027-04-03T09:00", "x", vec!["y"])], vec![])),
            ),
            (b"date,time,text,channel\n", Auto, Ok((vec![], vec![]))),
            (b"", Auto, Err("empty")),
            (b"\n\n  \n", Auto, Err("empty")),
            (b"\xEF\xBB\xBF", Auto, Err("empty")),
            (no_channel, Auto, Err("missing required column: channel")),
            (b"foo,bar\n1,2\n", Auto, Err("missing required columns: date, time, text, channel")),
        ];
        for (input, order, want) in cases {
            check(input, order, want);
        }
    }

    #[test]
    fn row_limit() {
        fn file(rows: usize) -> Vec<u8> {
            let mut s = String::from("date,time,text,channel\n");
            for i in 0..rows {
                s.push_str(&format!("2027-03-28,09:30,Post {i},x\n"));
            }
            s.into_bytes()
        }
        let ok = parse(&file(MAX_ROWS), DateOrder::Auto).unwrap();
        assert_eq!(ok.rows.len(), MAX_ROWS);
        let err = parse(&file(MAX_ROWS + 1), DateOrder::Auto).unwrap_err();
        assert!(err.en.contains("1001 rows") && err.en.contains("at most 1000"), "{}", err.en);
        assert!(err.fr.contains("1001 lignes :"), "{}", err.fr);
    }

    #[test]
    fn whole_file_details() {
        let parsed = parse(&french_excel(), DateOrder::Auto).unwrap();
        assert_eq!((parsed.delimiter, parsed.encoding), (b';', "windows-1252"));
        assert_eq!(parsed.rows[0].link.as_deref(), Some("https://x.fr"));
        assert_eq!(parsed.rows[1].link, None);
        let sprout =
            b"\xEF\xBB\xBFDate,Time,Message,Image URL,Profile\n2027-03-28,09:30,Hi,https://i.example/a.png,p\n";
        let parsed = parse(sprout, DateOrder::Auto).unwrap();
        assert_eq!((parsed.delimiter, parsed.encoding), (b',', "utf-8"));
        assert_eq!(parsed.rows[0].image_url.as_deref(), Some("https://i.example/a.png"));
        let missing = parse(b"Date;Heure;Texte\n", DateOrder::Auto).unwrap_err();
        assert!(missing.en.contains("missing required column: channel"), "{}", missing.en);
        assert!(missing.fr.contains("colonne obligatoire manquante : canal"), "{}", missing.fr);
        let bad = parse(b"date;heure;texte;canal\n28/03/27;09:30;x;y\n", DateOrder::Auto).unwrap();
        assert_eq!(bad.problems.len(), 1);
        assert!(bad.problems[0].message.fr.contains("« 28/03/27 » :"));
    }

    #[test]
    fn accented_and_spaced_headers() {
        let input = "\u{feff}DATE ; Héure ; Texte ; Médià-URL ; Canal\n28/03/2027;09:30;Bonjour;;a|b\n";
        let parsed = parse(input.as_bytes(), DateOrder::Auto).unwrap();
        assert_eq!(parsed.rows.len(), 1, "{:?}", parsed.problems);
        assert_eq!(parsed.rows[0].channels, vec!["a", "b"]);
    }
}
