//! Media uploads: the type, size and dimensions are read from the file itself, never from the
//! client's claims; files are stored under the data directory, named by their SHA-256.

use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::compose::MediaInfo;
use relais_domain::ids::WorkspaceId;
use relais_domain::permissions::Action;
use relais_store::media::MediaRecord;
use serde_json::json;
use std::path::Path;

/// The largest upload accepted (Bluesky's video limit; larger networks' limits come later).
pub const MAX_MEDIA_BYTES: u64 = 300 * 1024 * 1024;

/// What the content of a file says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// MIME type.
    pub mime: &'static str,
    /// `image`, `gif` or `video`.
    pub kind: &'static str,
    /// File extension used on disk.
    pub ext: &'static str,
    /// Width and height in pixels, when they could be read.
    pub size: Option<(u32, u32)>,
}

/// Identifies a media file from its first bytes (at least 64 KiB when the file is that large, so
/// an MP4's track header is usually inside). Returns None for anything that is not a supported
/// image or video.
pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    use imagesize::ImageType;
    // ISO base media files: MP4/MOV video, unless the brand says HEIF/AVIF still image.
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        if [b"heic", b"heix", b"avif", b"mif1", b"msf1"].iter().any(|b| brand == *b) {
            return None;
        }
        let (mime, ext) = if brand == b"qt  " { ("video/quicktime", "mov") } else { ("video/mp4", "mp4") };
        return Some(Sniffed { mime, kind: "video", ext, size: mp4_dimensions(head) });
    }
    if let Ok(kind) = imagesize::image_type(head) {
        let (mime, media_kind, ext) = match kind {
            ImageType::Jpeg => ("image/jpeg", "image", "jpg"),
            ImageType::Png => ("image/png", "image", "png"),
            ImageType::Gif => ("image/gif", "gif", "gif"),
            ImageType::Webp => ("image/webp", "image", "webp"),
            _ => return None,
        };
        let size = imagesize::blob_size(head)
            .ok()
            .and_then(|s| Some((u32::try_from(s.width).ok()?, u32::try_from(s.height).ok()?)));
        return Some(Sniffed { mime, kind: media_kind, ext, size });
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(Sniffed { mime: "video/webm", kind: "video", ext: "webm", size: None });
    }
    None
}

/// Reads the width and height of the first visual track from MP4 `tkhd` boxes in `data`.
pub fn mp4_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    let mut from = 0;
    while let Some(pos) = data[from..].windows(4).position(|w| w == b"tkhd").map(|p| p + from) {
        let version = *data.get(pos + 4)?;
        // After type: version+flags (4), then times/ids/duration (20 or 32), reserved (8), layer,
        // group, volume, reserved (8), matrix (36), then width and height in 16.16 fixed point.
        let fixed = if version == 1 { 32 } else { 20 };
        let w_at = pos + 4 + 4 + fixed + 8 + 8 + 36;
        let w = u32::from_be_bytes(data.get(w_at..w_at + 4)?.try_into().ok()?) >> 16;
        let h = u32::from_be_bytes(data.get(w_at + 4..w_at + 8)?.try_into().ok()?) >> 16;
        if w > 0 && h > 0 {
            return Some((w, h));
        }
        from = pos + 4;
    }
    None
}

/// The composer's view of a stored media file.
pub fn media_info(m: &MediaRecord) -> MediaInfo {
    MediaInfo {
        kind: crate::posts::kind_of(&m.kind),
        mime: m.mime.clone(),
        bytes: u64::try_from(m.bytes).unwrap_or(0),
        width: m.width.and_then(|w| u32::try_from(w).ok()),
        height: m.height.and_then(|h| u32::try_from(h).ok()),
    }
}

fn unsupported() -> AppError {
    AppError::invalid(
        "media_unsupported",
        Msg::new(
            "unsupported file: send a JPEG, PNG, GIF or WebP image, or an MP4, MOV or WebM video",
            "fichier non pris en charge : envoyez une image JPEG, PNG, GIF ou WebP, ou une vidéo MP4, MOV ou WebM",
        ),
    )
}

impl App {
    /// Where temporary uploads are written before they are checked.
    pub fn upload_dir(&self) -> std::path::PathBuf {
        self.media_dir.join("tmp")
    }

    /// Stores an uploaded file that the transport wrote to `temp` (with its size and SHA-256).
    /// The file is moved under the media directory when it is accepted and removed otherwise.
    pub async fn store_media(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        file_name: &str,
        temp: &Path,
        bytes: u64,
        sha256: &str,
    ) -> AppResult<MediaRecord> {
        let result = self.store_media_inner(actor, ws, file_name, temp, bytes, sha256).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(temp).await;
        }
        result
    }

    async fn store_media_inner(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        file_name: &str,
        temp: &Path,
        bytes: u64,
        sha256: &str,
    ) -> AppResult<MediaRecord> {
        self.authorize(actor, ws, Action::WritePosts).await?;
        if bytes == 0 {
            return Err(unsupported());
        }
        let head = read_head(temp, 256 * 1024).await?;
        let sniffed = sniff(&head).ok_or_else(unsupported)?;
        let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
        let relative = format!("{}/{}.{}", ws.0, sha256, sniffed.ext);
        let target = self.media_dir.join(&relative);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(AppError::internal)?;
        }
        tokio::fs::rename(temp, &target).await.map_err(AppError::internal)?;
        let record = self
            .store
            .create_media(&MediaRecord {
                id: 0,
                workspace_id: ws.0,
                file_name: if file_name.is_empty() { format!("upload.{}", sniffed.ext) } else { file_name },
                stored_path: relative,
                mime: sniffed.mime.to_owned(),
                kind: sniffed.kind.to_owned(),
                bytes: i64::try_from(bytes).map_err(AppError::internal)?,
                width: sniffed.size.map(|(w, _)| i64::from(w)),
                height: sniffed.size.map(|(_, h)| i64::from(h)),
                sha256: sha256.to_owned(),
                created_at: self.now_ms(),
            })
            .await?;
        self.audit(
            actor,
            Some(ws),
            "media.upload",
            format!("media:{}", record.id),
            json!({ "mime": record.mime, "bytes": record.bytes }),
        )
        .await?;
        Ok(record)
    }

    /// One media file's metadata.
    pub async fn media(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: relais_domain::ids::MediaId,
    ) -> AppResult<MediaRecord> {
        self.authorize(actor, ws, Action::Read).await?;
        self.store.media(ws, id).await.map_err(|_| AppError::not_found("media"))
    }
}

async fn read_head(path: &Path, max: usize) -> AppResult<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await.map_err(AppError::internal)?;
    let mut head = Vec::with_capacity(max.min(64 * 1024));
    file.take(max as u64).read_to_end(&mut head).await.map_err(AppError::internal)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 3, 0, 0, 0, 2, 8,
        6, 0, 0, 0, 0x9a, 0x9c, 0x18, 0x1f,
    ];

    fn mp4_with_tkhd(w: u32, h: u32) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 16];
        v.extend_from_slice(b"ftypisom");
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(&[0, 0, 0, 92]);
        v.extend_from_slice(b"tkhd");
        v.extend_from_slice(&[0; 4 + 20 + 8 + 8 + 36]);
        v.extend_from_slice(&(w << 16).to_be_bytes());
        v.extend_from_slice(&(h << 16).to_be_bytes());
        v
    }

    #[test]
    fn sniffing() {
        let check = |head: &[u8], expected: Option<(&str, Option<(u32, u32)>)>| {
            assert_eq!(sniff(head).map(|s| (s.mime, s.size)), expected);
        };
        check(PNG, Some(("image/png", Some((3, 2)))));
        check(&mp4_with_tkhd(1920, 1080), Some(("video/mp4", Some((1920, 1080)))));
        check(b"GIF89a\x02\x00\x03\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00", Some(("image/gif", Some((2, 3)))));
        check(b"%PDF-1.7 not an image", None);
        check(b"\0\0\0\x18ftypheic\0\0\0\0", None);
        check(b"<svg xmlns='http://www.w3.org/2000/svg'/>", None);
        check(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0], Some(("video/webm", None)));
    }
}
