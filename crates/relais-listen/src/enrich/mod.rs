//! Enrichment of every post: language, sentiment, near-duplicate grouping.
//!
//! [`Enricher`] is built once (lexicons and tables parsed, a few tens of milliseconds) and shared
//! between threads; [`Enricher::enrich`] allocates nothing per post once a thread is warm.
//! [`dedup::Stories`] groups copies of a message; it keeps state, so it is one per stream (its
//! [`dedup::Sketch`] of a post can be computed on any thread beforehand).

pub mod dedup;
pub mod eval;
pub mod fold;
pub mod lang;
pub mod sentiment;

use lang::{Lang, LangCode, LangDetector};
use sentiment::{Sentiment, SentimentAnalyzer};
use serde::Serialize;

/// What enrichment adds to a post.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Enrichment {
    /// Language tag: detected, or the declared one ("und" when neither).
    pub lang: LangCode,
    /// Confidence in the language, in [0, 1].
    pub lang_confidence: f32,
    /// Sentiment, scored with the French rules for French and the English ones otherwise.
    pub sentiment: Sentiment,
}

/// Language detection and sentiment, ready to use.
#[derive(Debug)]
pub struct Enricher {
    detector: LangDetector,
    english: SentimentAnalyzer,
    french: SentimentAnalyzer,
}

impl Default for Enricher {
    fn default() -> Self {
        Self::new()
    }
}

impl Enricher {
    /// Parses the lexicons and tables.
    pub fn new() -> Self {
        Self {
            detector: LangDetector::new(),
            english: SentimentAnalyzer::english(),
            french: SentimentAnalyzer::french(),
        }
    }

    /// Language and sentiment of a post; `declared_lang` is the network's tag when it gives one
    /// (Bluesky `langs`, Mastodon `language`) and is preferred unless the text clearly disagrees.
    /// Texts in languages other than French are scored with the English lexicon (which also
    /// holds the emoticons; emoji are scored through their descriptions).
    pub fn enrich(&self, text: &str, declared_lang: Option<&str>) -> Enrichment {
        let (lang, lang_confidence) = self.detector.resolve(text, declared_lang);
        let analyzer = if Lang::from_tag(lang.as_str()) == Some(Lang::Fr) { &self.french } else { &self.english };
        Enrichment { lang, lang_confidence, sentiment: analyzer.score(text) }
    }

    /// The language detector alone.
    pub fn detector(&self) -> &LangDetector {
        &self.detector
    }

    /// The sentiment scorer used for a language.
    pub fn analyzer(&self, lang: Lang) -> &SentimentAnalyzer {
        if lang == Lang::Fr { &self.french } else { &self.english }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment::Label;

    #[test]
    fn enriches_french_and_english() {
        let enricher = Enricher::new();
        let fr = enricher.enrich("Le service client ne répond jamais, je suis vraiment déçu.", None);
        assert_eq!(fr.lang.as_str(), "fr");
        assert_eq!(fr.sentiment.label, Label::Negative);
        let en = enricher.enrich("I love this new phone, the camera is amazing!", None);
        assert_eq!(en.lang.as_str(), "en");
        assert_eq!(en.sentiment.label, Label::Positive);
        let declared = enricher.enrich("Top !", Some("fr"));
        assert_eq!(declared.lang.as_str(), "fr");
        assert_eq!(declared.sentiment.label, Label::Positive);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Enricher>();
    }
}
