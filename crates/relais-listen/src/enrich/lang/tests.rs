//! Language detection unit tests.

use super::*;

fn check(detector: &LangDetector, cases: &[(&str, Option<Lang>)]) {
    for (text, expected) in cases {
        assert_eq!(detector.detect(text).lang, *expected, "{text}: {:?}", detector.detect(text));
    }
}

#[test]
fn short_posts() {
    let d = LangDetector::new();
    check(
        &d,
        &[
            ("Le service client ne répond jamais", Some(Lang::Fr)),
            ("The customer service never answers", Some(Lang::En)),
            ("¿Dónde está la estación?", Some(Lang::Es)),
            ("Ich habe heute keine Zeit", Some(Lang::De)),
            ("Grazie mille, è stato bellissimo", Some(Lang::It)),
            ("Obrigado pela atenção", Some(Lang::Pt)),
            ("Dank je wel voor de hulp", Some(Lang::Nl)),
            ("génial", Some(Lang::Fr)),
            ("awesome", Some(Lang::En)),
            ("https://example.com 123 @someone", None),
        ],
    );
}

#[test]
fn declared_language_wins_unless_clearly_wrong() {
    let d = LangDetector::new();
    // Short and ambiguous: the network's tag is kept.
    assert_eq!(d.resolve("ok", Some("fr")).0.as_str(), "fr");
    assert_eq!(d.resolve("Top !", Some("fr-FR")).0.as_str(), "fr");
    // A long English sentence tagged "fr" is English.
    let (lang, confidence) = d.resolve("I think this is the best thing that happened to me this year", Some("fr"));
    assert_eq!(
        lang.as_str(),
        "en",
        "{confidence} {:?}",
        d.detect("I think this is the best thing that happened to me this year")
    );
    // A language we do not detect is trusted.
    assert_eq!(d.resolve("こんにちは", Some("ja")).0.as_str(), "ja");
    assert_eq!(d.resolve("", None).0.as_str(), "und");
}
