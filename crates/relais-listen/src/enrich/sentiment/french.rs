//! French tables: the vadersentiment-fr 1.3.4 lexicon (MIT, `data/vadersentiment-fr-1.3.4/`), its
//! boosters, our negations (« ne … pas », jamais, rien, aucun, sans, ni…) and a short list of
//! corrected valences for words of French social media. Every word is folded (lower case, no accents).

use super::english::{B_DECR, B_INCR};
use super::lexicon::Lexicon;
use crate::enrich::fold::push_folded;

/// Words that negate a lexicon word within three words before it (or right after it: « j'aime pas »).
pub const NEGATE: &[&str] =
    &["ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "aucunement", "nullement", "sans", "ni", "guere"];

/// Negations that also work after the verb (« c'est bien pas », « j'aime pas », « n'aime plus »).
pub const NEGATE_AFTER: &[&str] = &["pas", "jamais", "plus", "guere", "nullement", "aucunement"];

/// Intensifiers and dampeners (from vadersentiment-fr, ambiguous ones removed: juste, ainsi, tant, rare).
pub const BOOSTERS: &[(&str, f64)] = &[
    ("absolument", B_INCR),
    ("archi", B_INCR),
    ("beaucoup", B_INCR),
    ("bigrement", B_INCR),
    ("carrement", B_INCR),
    ("completement", B_INCR),
    ("considerablement", B_INCR),
    ("davantage", B_INCR),
    ("diablement", B_INCR),
    ("drolement", B_INCR),
    ("entierement", B_INCR),
    ("exceptionnellement", B_INCR),
    ("excessivement", B_INCR),
    ("extra", B_INCR),
    ("extremement", B_INCR),
    ("fabuleusement", B_INCR),
    ("grandement", B_INCR),
    ("hyper", B_INCR),
    ("incroyablement", B_INCR),
    ("infiniment", B_INCR),
    ("particulierement", B_INCR),
    ("profondement", B_INCR),
    ("rudement", B_INCR),
    ("sacrement", B_INCR),
    ("serieusement", B_INCR),
    ("super", B_INCR),
    ("tellement", B_INCR),
    ("terriblement", B_INCR),
    ("totalement", B_INCR),
    ("trop", B_INCR),
    ("tres", B_INCR),
    ("ultra", B_INCR),
    ("vachement", B_INCR),
    ("vraiment", B_INCR),
    ("enormement", B_INCR),
    ("grave", B_INCR),
    ("franchement", B_INCR),
    ("assez", B_DECR),
    ("difficilement", B_DECR),
    ("insuffisamment", B_DECR),
    ("legerement", B_DECR),
    ("moins", B_DECR),
    ("peu", B_DECR),
    ("plutot", B_DECR),
    ("presque", B_DECR),
    ("quasi", B_DECR),
    ("quasiment", B_DECR),
    ("rarement", B_DECR),
    ("moyennement", B_DECR),
];

/// Valences set by us where the translated lexicon misses or misjudges a common word of French
/// posts (scale -4..+4, as VADER). Chosen on the development half of `tests/data/fr-sentiment.tsv` only.
pub const OVERRIDES: &[(&str, f64)] = &[];

/// The French lexicon.
pub fn lexicon() -> Lexicon {
    let mut lex = Lexicon::default();
    lex.add_valences(include_str!("../../../data/vadersentiment-fr-1.3.4/fr_lexicon.txt"), "->", push_folded);
    lex.set_valences(OVERRIDES);
    lex.set_boosters(BOOSTERS);
    lex.set_negators(NEGATE);
    lex.add_emoji(include_str!("../../../data/vadersentiment-fr-1.3.4/emojis_fr.txt"));
    lex
}
