//! Deterministic benchmark data: realistic short French and English posts (brands, hashtags,
//! mentions, URLs, accents, mixed case) and stored queries with the mix the issue asks for.
//! Used by the matcher benchmark and `relais bench listen-pipeline`; not by the engine.

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with this probability in percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of the items.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A Zipf-like index in `0..n` (exponent about 1): low indices are much more frequent.
    pub fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
    }
}

/// One generated post with its metadata.
pub struct Post {
    /// The text.
    pub text: String,
    /// A title (feed items).
    pub title: Option<String>,
    /// `fr` or `en`.
    pub lang: &'static str,
    /// The author's handle.
    pub author: String,
    /// The linked site, if any.
    pub domain: Option<&'static str>,
    /// `bluesky`, `mastodon`, `rss` or `ingest`.
    pub source: &'static str,
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "ri", "ve", "no", "tix", "mar", "zen", "dor", "flu", "ba", "qui", "sol", "tra", "vel", "mon", "ga",
    "pi", "ro", "sen", "lux", "ny", "ber", "cal", "fi", "xo", "dal", "mé", "té", "pré",
];

const REAL_BRANDS: &[&str] = &[
    "Orange",
    "SNCF",
    "Renault",
    "Decathlon",
    "Airbus",
    "Carrefour",
    "Fnac",
    "Darty",
    "Free",
    "Bouygues",
    "Michelin",
    "Danone",
    "Peugeot",
    "Leclerc",
    "Ubisoft",
    "Deezer",
    "BlaBlaCar",
    "Doctolib",
    "Netflix",
    "Spotify",
    "Amazon",
    "Tesla",
];

/// `n` brand names: real ones first, then made-up ones (`Velotix`, `Kamarzen`…).
pub fn brands(n: usize, rng: &mut Rng) -> Vec<String> {
    let mut out: Vec<String> = REAL_BRANDS.iter().map(|s| (*s).to_owned()).collect();
    let mut seen: std::collections::HashSet<String> = out.iter().map(|b| b.to_lowercase()).collect();
    while out.len() < n {
        let k = 2 + rng.below(2);
        let mut name: String = (0..k).map(|_| *rng.pick(SYLLABLES)).collect();
        if let Some(first) = name.get(..1) {
            name = first.to_uppercase() + &name[1..];
        }
        if seen.insert(name.to_lowercase()) {
            out.push(name);
        }
    }
    out
}

const PRODUCTS_FR: &[&str] = &[
    "box",
    "forfait",
    "colis",
    "commande",
    "livraison",
    "facture",
    "appli",
    "train",
    "vélo",
    "voiture",
    "abonnement",
    "téléphone",
    "réseau",
    "batterie",
    "écran",
    "carte",
    "remboursement",
    "billet",
    "magasin",
    "service client",
];
const PRODUCTS_EN: &[&str] = &[
    "order",
    "delivery",
    "app",
    "phone",
    "subscription",
    "refund",
    "bill",
    "battery",
    "screen",
    "train",
    "ticket",
    "store",
    "customer service",
    "update",
    "account",
    "package",
    "car",
    "bike",
    "network",
    "card",
];
const FEELINGS_FR: &[&str] = &[
    "déçu",
    "génial",
    "inadmissible",
    "merci",
    "top",
    "nul",
    "bravo",
    "honteux",
    "parfait",
    "énervé",
    "ravie",
    "déçue",
];
const FEELINGS_EN: &[&str] =
    &["disappointed", "amazing", "awful", "thanks", "great", "terrible", "love", "angry", "perfect"];
const CITIES: &[&str] =
    &["Paris", "Lyon", "Marseille", "Toulouse", "Lille", "Nantes", "Montréal", "Bruxelles", "London", "Genève"];
const TAGS: &[&str] = &[
    "#grève",
    "#SAV",
    "#bonplan",
    "#BlackFriday",
    "#promo",
    "#fail",
    "#merci",
    "#CustomerService",
    "#tech",
    "#Paris",
    "#rentrée",
    "#écologie",
    "#JO2024",
    "#news",
];
/// News and blog domains that posts link to.
pub const DOMAINS: &[&str] = &[
    "www.lemonde.fr",
    "www.lefigaro.fr",
    "www.20minutes.fr",
    "www.bfmtv.com",
    "www.theguardian.com",
    "www.bbc.co.uk",
    "actu.fr",
    "www.numerama.com",
    "techcrunch.com",
    "www.ouest-france.fr",
];
const FR: &[&str] = &[
    "{B} : encore une panne de {p} ce matin à {c}, franchement {f} {t}",
    "Merci {m} pour la {p} super rapide ! {B} au top {t}",
    "Quelqu'un sait si {B} rembourse la {p} ? Ça fait 3 semaines que j'attends… {u}",
    "{f} par le {p} de chez {B}, plus jamais 😡 {t}",
    "Nouvelle {p} {B} reçue aujourd'hui, première impression : {f}",
    "Grève à {c} : les {p} {B} sont en retard, c'est {f} {t}",
    "Bon plan : -30% sur la {p} chez {B} jusqu'à dimanche {u} {t}",
    "J'ai appelé le service client {B} trois fois, toujours pas de réponse pour ma {p}. {f}.",
    "{m} tu as testé la {p} {B} ? Je l'ai trouvée {f}",
    "À {c}, le magasin {B} a fermé plus tôt, quelle {p} ! {t}",
    "L'appli {B} a planté pendant la mise à jour de mon {p}, {f} {u}",
    "{B} ou {B2} pour une {p} ? Vos avis svp {t}",
];
const EN: &[&str] = &[
    "{B} support is {f}, my {p} still hasn't arrived {t}",
    "Thanks {m} for the quick {p}! {B} rocks {t}",
    "Anyone else having issues with the {B} {p} today in {c}? {u}",
    "Just got my new {p} from {B}, honestly {f} {t}",
    "{B} raised the price of the {p} again. {f}. Switching to {B2}.",
    "Breaking: {B} announces a new {p} for {c} {u} {t}",
    "{m} did you try the {B} {p}? It's {f}",
    "Three calls to {B} customer service and still no {p} refund… {f}",
    "Love the new {B} {p} update, {f} work {t}",
    "Is the {B} {p} down again?? {f} {t}",
];

/// Generates `n` posts (60 % French), brands mentioned with a Zipf-like popularity.
pub fn posts(n: usize, brands: &[String], rng: &mut Rng) -> Vec<Post> {
    (0..n).map(|_| post(brands, rng)).collect()
}

fn post(brands: &[String], rng: &mut Rng) -> Post {
    let fr = rng.chance(60);
    let template = if fr { *rng.pick(FR) } else { *rng.pick(EN) };
    let (products, feelings) = if fr { (PRODUCTS_FR, FEELINGS_FR) } else { (PRODUCTS_EN, FEELINGS_EN) };
    let domain = rng.chance(25).then(|| *rng.pick(DOMAINS));
    let mut text = String::with_capacity(template.len() + 48);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let slot = &rest[open + 1..close];
        let fill = match slot {
            "B" | "B2" => brands[rng.zipf(brands.len())].clone(),
            "p" => (*rng.pick(products)).to_owned(),
            "f" => (*rng.pick(feelings)).to_owned(),
            "c" => (*rng.pick(CITIES)).to_owned(),
            "t" => (0..rng.below(3)).map(|_| *rng.pick(TAGS)).collect::<Vec<_>>().join(" "),
            "m" => format!("@{}", handle(rng)),
            "u" => domain.map_or(String::new(), |d| format!("https://{d}/article/{}", rng.below(100_000))),
            _ => String::new(),
        };
        text.push_str(&fill);
        rest = rest.get(close + 1..).unwrap_or("");
    }
    text.push_str(rest);
    let text = vary_case(&text, rng);
    let source = *rng.pick(&["bluesky", "bluesky", "bluesky", "mastodon", "mastodon", "rss", "ingest"]);
    let title = (source == "rss").then(|| format!("{} : {}", brands[rng.zipf(brands.len())], rng.pick(products)));
    Post { text, title, lang: if fr { "fr" } else { "en" }, author: handle(rng), domain, source }
}

fn handle(rng: &mut Rng) -> String {
    let name: String = (0..2).map(|_| *rng.pick(SYLLABLES)).collect::<String>() + &rng.below(100).to_string();
    match rng.below(3) {
        0 => format!("{name}.bsky.social"),
        1 => format!("{name}@mastodon.social"),
        _ => name,
    }
}

/// Shouting and lost accents, as people type.
fn vary_case(text: &str, rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => text.to_uppercase(),
        1 => text
            .chars()
            .map(|c| match c {
                'é' | 'è' | 'ê' => 'e',
                'à' => 'a',
                'ç' => 'c',
                _ => c,
            })
            .collect(),
        _ => text.to_owned(),
    }
}

/// `n` queries: 50 % boolean, 20 % phrases, 10 % NEAR, 10 % wildcards, 10 % field filters. Each
/// watches one brand chosen uniformly (every customer has their own brand).
pub fn queries(n: usize, brands: &[String], rng: &mut Rng) -> Vec<String> {
    (0..n).map(|i| query(i % 10, brands, rng)).collect()
}

fn query(kind: usize, brands: &[String], rng: &mut Rng) -> String {
    let b = brands[rng.below(brands.len())].clone();
    let b2 = &brands[rng.below(brands.len())];
    let fr = rng.chance(60);
    let (products, feelings) = if fr { (PRODUCTS_FR, FEELINGS_FR) } else { (PRODUCTS_EN, FEELINGS_EN) };
    let p = rng.pick(products);
    let f = rng.pick(feelings);
    let quoted = |s: &str| if s.contains(' ') { format!("\"{s}\"") } else { s.to_owned() };
    match kind {
        0 => b,
        1 => format!("{b} ({} OR {})", quoted(p), f),
        2 => format!("({b} OR {b2}) -{}", rng.pick(TAGS).trim_start_matches('#')),
        3 => format!("{b} {} -{}", quoted(p), rng.pick(CITIES)),
        4 => format!("({b} OR \"{b} {p}\") ({f} OR {} OR {})", rng.pick(feelings), rng.pick(TAGS)),
        5 | 6 => format!("\"{b} {p}\" OR \"{p} {b}\""),
        7 => format!("{b} NEAR/3 ({} OR {f})", quoted(p)),
        8 => {
            let stem: String = f.chars().take(3 + rng.below(3)).collect();
            if rng.chance(30) { format!("{}*", b.chars().take(4).collect::<String>()) } else { format!("{b} {stem}*") }
        }
        _ => match rng.below(5) {
            0 => format!("{b} lang:{}", if fr { "fr" } else { "en" }),
            1 => format!("{b} site:{}", rng.pick(DOMAINS).trim_start_matches("www.")),
            2 => format!("{b} -source:rss"),
            3 => format!("title:{b} OR author:{}", handle(rng)),
            _ => format!("{b} source:bluesky {}", quoted(p)),
        },
    }
}
