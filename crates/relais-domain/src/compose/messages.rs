//! The bilingual (English / French) texts of composer problems.
//!
//! French typography: a space before `;`, `:`, `?` and `!`.

use super::{Field, MediaKind};
use crate::{Msg, Network};

/// "The text" / "Le texte": the subject naming a field at the start of a sentence.
fn subject(field: Field) -> (String, String) {
    match field {
        Field::Text => ("The text".into(), "Le texte".into()),
        Field::Thread(i) => (format!("Thread post {}", i + 2), format!("Le message {} du fil", i + 2)),
        Field::FirstComment => ("The first comment".into(), "Le premier commentaire".into()),
        Field::Title => ("The title".into(), "Le titre".into()),
        Field::Board => ("The board".into(), "Le tableau".into()),
        Field::Link => ("The link".into(), "Le lien".into()),
        Field::Media => ("The media".into(), "Le média".into()),
    }
}

/// The French name of a counting unit.
fn unit_fr(unit: &str) -> &'static str {
    match unit {
        "weighted characters" => "caractères pondérés",
        "graphemes" => "graphèmes",
        "UTF-16 units" => "unités UTF-16",
        "bytes" => "octets",
        _ => "caractères",
    }
}

/// Singular and plural names of a media kind: (en, en plural, fr, fr plural).
fn kind_names(kind: MediaKind) -> (&'static str, &'static str, &'static str, &'static str) {
    match kind {
        MediaKind::Image => ("image", "images", "image", "images"),
        MediaKind::Gif => ("GIF", "GIFs", "GIF", "GIF"),
        MediaKind::Video => ("video", "videos", "vidéo", "vidéos"),
    }
}

/// A byte size for people: exact MiB / MB when round, else MB with one decimal.
fn size(bytes: u64) -> (String, String) {
    const MIB: u64 = 1024 * 1024;
    const MB: u64 = 1_000_000;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        (format!("{} MiB", bytes / MIB), format!("{} Mio", bytes / MIB))
    } else if bytes >= MB && bytes.is_multiple_of(MB) {
        (format!("{} MB", bytes / MB), format!("{} Mo", bytes / MB))
    } else {
        let mb = bytes as f64 / MB as f64;
        (format!("{mb:.1} MB"), format!("{mb:.1} Mo").replace('.', ","))
    }
}

/// A field is longer than the network allows.
pub(crate) fn too_long(field: Field, counted: usize, unit: &str, net: Network, limit: usize) -> Msg {
    let (en, fr) = subject(field);
    let name = net.display_name();
    Msg::new(
        format!("{en} is {counted} {unit} long; {name} allows {limit}."),
        format!("{fr} fait {counted} {} ; {name} en autorise {limit}.", unit_fr(unit)),
    )
}

/// Nothing to publish.
pub(crate) fn empty(field: Field) -> Msg {
    match field {
        Field::Text => Msg::new(
            "The post is empty: add some text or a media.",
            "La publication est vide : ajoutez du texte ou un média.",
        ),
        other => {
            let (en, fr) = subject(other);
            Msg::new(format!("{en} is empty."), format!("{fr} est vide."))
        }
    }
}

/// Thread parts on a network without threads.
pub(crate) fn threads_unsupported(net: Network) -> Msg {
    let name = net.display_name();
    Msg::new(
        format!("{name} does not support threads: publish a single post."),
        format!("{name} ne permet pas les fils : publiez un seul message."),
    )
}

/// A first comment on a network without first comments.
pub(crate) fn first_comment_unsupported(net: Network) -> Msg {
    let name = net.display_name();
    Msg::new(
        format!("{name} does not support a first comment."),
        format!("{name} ne permet pas de premier commentaire."),
    )
}

/// A required field is missing.
pub(crate) fn required(field: Field, net: Network) -> Msg {
    let name = net.display_name();
    match field {
        Field::Title => Msg::new(format!("{name} requires a title."), format!("{name} exige un titre.")),
        _ => Msg::new(
            format!("{name} requires a board: choose one."),
            format!("{name} exige un tableau : choisissez-en un."),
        ),
    }
}

/// `<` or `>` where the network forbids them.
pub(crate) fn angle_brackets(field: Field, net: Network) -> Msg {
    let (en, fr) = subject(field);
    let name = net.display_name();
    Msg::new(
        format!("{en} contains < or >, which {name} does not accept."),
        format!("{fr} contient < ou >, que {name} n’accepte pas."),
    )
}

/// The attached link is not a URL.
pub(crate) fn link_invalid(link: &str) -> Msg {
    Msg::new(
        format!("The link “{link}” is not a valid web address."),
        format!("Le lien « {link} » n’est pas une adresse web valide."),
    )
}

/// Too many links, hashtags or mentions in a text. `what` is `links`, `hashtags` or `mentions`.
pub(crate) fn too_many_items(field: Field, what: &str, count: usize, max: usize, net: Network) -> Msg {
    let (en, fr) = subject(field);
    let name = net.display_name();
    let what_fr = match what {
        "links" => "liens",
        "hashtags" => "hashtags",
        _ => "mentions",
    };
    Msg::new(
        format!("{en} has {count} {what}; {name} allows at most {max}."),
        format!("{fr} contient {count} {what_fr} ; {name} en autorise au plus {max}."),
    )
}

/// No media on a network that needs one.
pub(crate) fn media_required(net: Network) -> Msg {
    let name = net.display_name();
    Msg::new(
        format!("{name} requires at least one image or video."),
        format!("{name} exige au moins une image ou une vidéo."),
    )
}

/// No video on a network that needs one.
pub(crate) fn video_required(net: Network) -> Msg {
    let name = net.display_name();
    Msg::new(format!("{name} requires a video."), format!("{name} exige une vidéo."))
}

/// More attachments than allowed in total.
pub(crate) fn too_many_media(count: usize, max: usize, net: Network) -> Msg {
    let name = net.display_name();
    Msg::new(
        format!("There are {count} media; {name} allows at most {max}."),
        format!("Il y a {count} médias ; {name} en autorise au plus {max}."),
    )
}

/// More attachments of one kind than allowed.
pub(crate) fn too_many_kind(kind: MediaKind, count: usize, max: usize, net: Network) -> Msg {
    let (_, en, _, fr) = kind_names(kind);
    let name = net.display_name();
    Msg::new(
        format!("There are {count} {en}; {name} allows at most {max}."),
        format!("Il y a {count} {fr} ; {name} en autorise au plus {max}."),
    )
}

/// A kind of attachment the network does not take.
pub(crate) fn kind_unsupported(kind: MediaKind, net: Network) -> Msg {
    let (_, en, _, _) = kind_names(kind);
    let fr = match kind {
        MediaKind::Image => "d’images",
        MediaKind::Gif => "de GIF",
        MediaKind::Video => "de vidéos",
    };
    let name = net.display_name();
    Msg::new(format!("{name} does not accept {en} here."), format!("{name} n’accepte pas {fr} ici."))
}

/// Different kinds of attachments mixed where the network forbids it.
pub(crate) fn media_mixed(net: Network) -> Msg {
    let name = net.display_name();
    Msg::new(
        format!("{name} does not allow mixing images, GIFs and videos in one post."),
        format!("{name} ne permet pas de mélanger images, GIF et vidéos dans une publication."),
    )
}

/// One attachment is too large.
pub(crate) fn too_large(kind: MediaKind, index: usize, bytes: u64, max: u64, net: Network) -> Msg {
    let (en, _, fr, _) = kind_names(kind);
    let ((got_en, got_fr), (max_en, max_fr)) = (size(bytes), size(max));
    let name = net.display_name();
    let n = index + 1;
    Msg::new(
        format!("Attachment {n} ({en}) weighs {got_en}; {name} allows {max_en}."),
        format!("Le média {n} ({fr}) pèse {got_fr} ; {name} en autorise {max_fr}."),
    )
}
