//! Language evidence tables, written for Relais (not derived from any test set): frequent
//! function words per language, letters with diacritics, and word endings.

use super::Lang::{self, De, En, Es, Fr, It, Nl, Pt};

/// Frequent words: (language, space-separated words). A word listed for several languages counts for
/// each of them. Apostrophes split words, so elided forms are listed bare (« l », « qu », "don", "t").
pub const WORDS: &[(Lang, &str)] = &[
    (
        En,
        "the of and to in is it that was for on are with as i his they be at one have this from or had by \
         but not what all were we when your can said there use an each which she do how their if will up \
         other about out many then them these so some her would make like him into time has look two more \
         write go see no way could people my than first been call who its now find long down day did get \
         come made may part you me just don t s m ll ve re im dont cant love good great thanks thank new \
         today really very much know think want need got going lol omg why yes yeah here our us off too \
         any well back after over only where should because does doesn didn isn wasn won shouldn haven \
         being still every never always again what's it's i'm can't won't didn't let's also amazing awesome \
         best happy night morning tonight watch work home people everyone",
    ),
    (
        Fr,
        "le la les de des du un une et est a à en que qui dans pour pas au aux ce cette ces il elle ils elles \
         nous vous je tu on sur avec son sa ses plus par mais ou donc ni car ne se sont été être avoir fait \
         comme tout tous toute toutes bien très trop aussi encore déjà jamais rien leur leurs mon ma mes ton \
         ta tes notre nos votre vos y l d qu n s c j m t lui même où quand alors après avant chez sans sous \
         entre depuis pendant merci bonjour bonsoir salut oui non vraiment super génial nul c'est j'ai \
         quoi pourquoi comment ça cela ceci celui celle ici là fois était avait sera peut faut veux suis \
         es sommes êtes ai as avons avez ont vais va allons allez vont aujourd hui demain hier soir matin \
         enfin toujours beaucoup peu moins autre autres chose gens monde temps jour nuit mdr ptdr stp svp \
         voilà voici",
    ),
    (
        Es,
        "el la los las de del y en que es un una por con para no se lo le su sus al como más pero sus \
         muy ya este esta estos estas ese esa eso también fue ha han hay era son está están estoy tengo \
         tiene yo tú él ella nosotros ellos me te mi mis tu nos sin sobre entre cuando donde porque qué \
         cómo todo todos nada algo bien gracias hola sí hoy mañana ayer siempre nunca bueno buena mejor \
         hacer puede quiero aquí ahora después antes desde hasta otra otro año años vez día noche jaja a",
    ),
    (
        De,
        "der die das und ist in zu den dem des ein eine einen einem einer nicht mit von auf für sich es \
         sie er wir ihr ich du auch als an aus bei nach wie so was wenn aber oder noch nur schon sehr \
         hat haben habe sind war waren wird werden kann können muss mein meine dein deine unser kein keine \
         heute morgen gestern immer nie danke bitte ja nein gut gute besser alles nichts etwas hier jetzt \
         dann doch mal man über unter zwischen durch gegen ohne um bis weil dass diese dieser dieses",
    ),
    (
        It,
        "il lo la i gli le di del della dei delle e è in che un una uno per con non si da al alla ai \
         come ma più anche sono ha hanno era questo questa questi quello quella mi ti ci vi io tu lui lei \
         noi voi loro mio mia suo sua nostro molto tutto tutti niente sempre mai oggi domani ieri grazie \
         ciao sì bene buono buona meglio fare può voglio qui ora dopo prima perché cosa quando dove senza \
         sul sulla nel nella degli anno giorno notte",
    ),
    (
        Pt,
        "o a os as de do da dos das e é em um uma para com não que se por no na nos nas ao aos como mas \
         mais muito já este esta isso isto esse essa foi tem têm ser está estão estou eu você ele ela nós \
         eles elas me te meu minha seu sua sem sobre entre quando onde porque tudo todos nada obrigado \
         obrigada olá sim hoje amanhã ontem sempre nunca bom boa melhor fazer pode quero aqui agora depois \
         antes até outra outro ano dia noite kkk também então",
    ),
    (
        Nl,
        "de het een en van in is dat op te zijn met voor niet aan er die dit ook als bij maar om uit \
         nog wel naar dan wat ze hij zij wij we ik je jij u mijn jouw ons onze hun geen heb hebt heeft \
         hebben was waren wordt worden kan kunnen moet moeten zal zou al alles niets iets hier nu dus \
         vandaag morgen gisteren altijd nooit dank bedankt ja nee goed beter over onder door tegen zonder \
         tot omdat deze wie waar hoe veel heel erg leuk mooi",
    ),
];

/// Letters that point to languages (weights per occurrence).
pub const LETTERS: &[(char, &[(Lang, f32)])] = &[
    ('é', &[(Fr, 1.0), (Es, 0.4), (Pt, 0.4), (It, 0.2)]),
    ('è', &[(Fr, 1.0), (It, 0.5)]),
    ('ê', &[(Fr, 1.0), (Pt, 0.6)]),
    ('à', &[(Fr, 1.0), (It, 0.4), (Pt, 0.3)]),
    ('â', &[(Fr, 0.8), (Pt, 0.6)]),
    ('ç', &[(Fr, 1.0), (Pt, 1.0)]),
    ('ù', &[(Fr, 1.0), (It, 0.5)]),
    ('û', &[(Fr, 1.0)]),
    ('ô', &[(Fr, 1.0), (Pt, 0.6)]),
    ('î', &[(Fr, 1.0)]),
    ('ï', &[(Fr, 1.0), (Nl, 0.4)]),
    ('ë', &[(Fr, 0.5), (Nl, 1.0)]),
    ('œ', &[(Fr, 1.5)]),
    ('ñ', &[(Es, 2.0)]),
    ('¿', &[(Es, 2.0)]),
    ('¡', &[(Es, 2.0)]),
    ('á', &[(Es, 1.0), (Pt, 1.0)]),
    ('í', &[(Es, 1.0), (Pt, 0.8), (It, 0.2)]),
    ('ó', &[(Es, 1.0), (Pt, 0.8), (It, 0.2)]),
    ('ú', &[(Es, 1.0), (Pt, 0.8)]),
    ('ã', &[(Pt, 2.0)]),
    ('õ', &[(Pt, 2.0)]),
    ('ß', &[(De, 2.0)]),
    ('ä', &[(De, 1.5)]),
    ('ö', &[(De, 1.5), (Nl, 0.2)]),
    ('ü', &[(De, 1.5)]),
    ('ò', &[(It, 1.5)]),
    ('ì', &[(It, 1.5)]),
];

/// Word endings (longest first per language): weight added once per word.
pub const ENDINGS: &[(&str, Lang, f32)] = &[
    ("ções", Pt, 2.0),
    ("ção", Pt, 2.0),
    ("ões", Pt, 1.5),
    ("ciones", Es, 2.0),
    ("ción", Es, 2.0),
    ("zioni", It, 2.0),
    ("zione", It, 2.0),
    ("mente", Es, 0.6),
    ("mente", It, 0.6),
    ("mente", Pt, 0.6),
    ("ement", Fr, 1.0),
    ("ment", Fr, 0.5),
    ("tion", Fr, 0.6),
    ("tion", En, 0.6),
    ("eux", Fr, 1.0),
    ("euse", Fr, 1.0),
    ("eaux", Fr, 1.2),
    ("aient", Fr, 1.5),
    ("ais", Fr, 0.6),
    ("ait", Fr, 0.8),
    ("ée", Fr, 1.0),
    ("és", Fr, 0.6),
    ("ing", En, 1.0),
    ("ness", En, 1.2),
    ("ly", En, 0.8),
    ("ed", En, 0.5),
    ("ought", En, 1.0),
    ("ungen", De, 2.0),
    ("ung", De, 1.5),
    ("keit", De, 2.0),
    ("heit", De, 1.5),
    ("lich", De, 1.2),
    ("schaft", De, 2.0),
    ("chen", De, 1.0),
    ("heid", Nl, 2.0),
    ("lijk", Nl, 2.0),
    ("tje", Nl, 1.5),
    ("tjes", Nl, 1.5),
    ("dad", Es, 1.2),
    ("dade", Pt, 1.5),
    ("idade", Pt, 1.5),
    ("ità", It, 2.0),
    ("zza", It, 1.0),
    ("etto", It, 1.0),
    ("etta", It, 1.0),
    ("ado", Es, 0.5),
    ("ada", Es, 0.4),
    ("ado", Pt, 0.4),
    ("ada", Pt, 0.4),
    ("ato", It, 0.6),
    ("ata", It, 0.5),
    ("inho", Pt, 1.5),
    ("inha", Pt, 1.5),
    ("ito", Es, 0.6),
    ("ita", Es, 0.4),
];

/// Letter sequences inside a word (weight added once per word).
pub const INSIDE: &[(&str, Lang, f32)] = &[
    ("ij", Nl, 1.2),
    ("oe", Nl, 0.5),
    ("aa", Nl, 1.0),
    ("uu", Nl, 1.0),
    ("sch", De, 0.8),
    ("sch", Nl, 0.6),
    ("cht", De, 0.8),
    ("cht", Nl, 0.5),
    ("tz", De, 0.8),
    ("pf", De, 0.8),
    ("nh", Pt, 0.8),
    ("lh", Pt, 0.8),
    ("gli", It, 1.0),
    ("cch", It, 1.0),
    ("zz", It, 0.8),
    ("th", En, 0.6),
    ("wh", En, 1.0),
    ("w", En, 0.3),
    ("w", De, 0.3),
    ("w", Nl, 0.3),
    ("k", En, 0.1),
    ("k", De, 0.2),
    ("k", Nl, 0.3),
    ("qu", Fr, 0.3),
    ("eau", Fr, 1.2),
    ("oi", Fr, 0.4),
    ("ou", Fr, 0.3),
    ("ll", Es, 0.2),
    ("y", En, 0.2),
];
