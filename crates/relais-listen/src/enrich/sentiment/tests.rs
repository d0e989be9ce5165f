//! Sentiment unit tests: VADER 3.3.2's own demo sentences (expected values from the Python
//! package) and French rules.

use super::*;

fn check(analyzer: &SentimentAnalyzer, cases: &[(&str, f64)]) {
    for &(text, expected) in cases {
        let got = analyzer.compound(text);
        assert!((got - expected).abs() < 1e-4, "{text:?}: got {got}, Python vaderSentiment 3.3.2 gives {expected}");
    }
}

#[test]
fn vader_demo_sentences_match_python() {
    check(
        &SentimentAnalyzer::vader_3_3_2(),
        &[
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("VADER is VERY SMART, handsome, and FUNNY.", 0.9227),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            ("VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("The book was good.", 0.4404),
            ("At least it isn't a horrible book.", 0.431),
            ("The book was only kind of good.", 0.3832),
            ("The plot was good, but the characters are uncompelling and the dialog is not great.", -0.7042),
            ("Today SUX!", -0.5461),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            ("Make sure you :) or :D today!", 0.8633),
            ("Catch utf-8 emoji such as 💘 and 💋 and 😁", 0.875),
            ("Not bad at all", 0.431),
            ("Sentiment analysis has never been good.", -0.3412),
            ("Sentiment analysis has never been this good!", 0.5672),
            ("With VADER, sentiment analysis is the shit!", 0.6476),
            ("On the other hand, VADER is quite bad ass", 0.802),
            ("Without a doubt, excellent idea.", 0.7013),
            ("Roger Dodger is one of the least compelling variations on this theme.", -0.1695),
            ("Roger Dodger is at least compelling as a variation on the theme.", 0.2263),
            ("good but good", 0.7003),
            ("No good at all", -0.3412),
            ("", 0.0),
            ("???", 0.0),
        ],
    );
}

#[test]
fn but_uses_positions_outside_parity_mode() {
    // Python finds each score by value: after halving 1.9 to 0.95, the 0.95 after "but" is found
    // at index 0 and halved again there, instead of being multiplied by 1.5.
    let lex = english::lexicon();
    let mut words = Words::with_capacity(16);
    words.tokenize("a but b", &lex, false, false);
    let run = |analyzer: &SentimentAnalyzer| {
        let mut scores = [1.9, 0.0, 0.95];
        analyzer.but_check(&words, &mut scores);
        scores
    };
    assert_eq!(run(&SentimentAnalyzer::vader_3_3_2()), [0.475, 0.0, 0.95]);
    assert_eq!(run(&SentimentAnalyzer::english()), [0.95, 0.0, 0.95 * 1.5]);
}

#[test]
fn english_negation_and_boosters_stop_at_the_end_of_a_clause() {
    let (ours, python) = (SentimentAnalyzer::english(), SentimentAnalyzer::vader_3_3_2());
    // Python negates the laugh of the next sentence; we do not.
    let text = "I can't. LOL";
    assert!(python.compound(text) < 0.0, "{}", python.compound(text));
    assert!(ours.compound(text) > 0.0, "{}", ours.compound(text));
    assert_eq!(ours.compound("I can't. LOL"), ours.compound("I can. LOL"));
    // Within the clause the negation still reaches three words.
    assert!(ours.compound("it is not really good") < 0.0);
    assert!(ours.compound("it is not, really, good") > 0.0);
    // A booster does not either: "very." boosts nothing.
    assert_eq!(ours.compound("Very. Good"), ours.compound("Good"));
    assert!(ours.compound("Very good") > ours.compound("Good"));
}

fn label(analyzer: &SentimentAnalyzer, text: &str) -> Label {
    analyzer.score(text).label
}

#[test]
fn french_rules() {
    let fr = SentimentAnalyzer::french();
    let cases = [
        ("C'est génial !", Label::Positive),
        ("Ce n'est pas génial.", Label::Negative),
        ("J'aime pas du tout", Label::Negative),
        ("Pas mal du tout", Label::Positive),
        ("Le service est nul", Label::Negative),
        ("Rendez-vous demain à 10 h", Label::Neutral),
        ("Je t'aime 😍", Label::Positive),
        ("Sans problème, merci", Label::Positive),
    ];
    for (text, expected) in cases {
        assert_eq!(label(&fr, text), expected, "{text}: {}", fr.compound(text));
    }
    let plain = fr.compound("C'est bien");
    assert!(fr.compound("C'est très bien") > plain);
    assert!(fr.compound("C'est TRÈS bien !!!") > fr.compound("C'est très bien"));
    // « ne … pas » is one negation, not two.
    assert!(fr.compound("Ce n'est pas bien") < 0.0);
    // « mais »: what follows weighs more.
    assert!(fr.compound("Joli mais trop cher") < 0.0);
}

#[test]
fn french_corrections_come_from_the_development_half_only() {
    let dev: String = crate::enrich::eval::FRENCH_SET
        .lines()
        .take(crate::enrich::eval::FRENCH_DEV_LAST_LINE)
        .map(|l| l.split_once('\t').map_or("", |(_, t)| t))
        .collect::<Vec<_>>()
        .join(" ");
    let lex = lexicon::Lexicon::default();
    let mut words = Words::with_capacity(dev.len());
    words.tokenize(&dev, &lex, true, false);
    let seen: std::collections::HashSet<&str> = (0..words.len()).map(|i| words.lo(i)).collect();
    let corrected = french::OVERRIDES.iter().map(|(w, _)| *w).chain(french::REMOVED.iter().copied());
    for word in corrected {
        assert!(seen.contains(word), "{word} does not occur in the development half");
    }
}
