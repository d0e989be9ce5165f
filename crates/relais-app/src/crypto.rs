//! Secrets: channel credentials encrypted at rest (XChaCha20-Poly1305), password hashing
//! (Argon2id) and API/feed tokens (random, stored as SHA-256 hashes).

use crate::{AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Format version byte in front of every ciphertext (for key or algorithm rotation).
const VERSION: u8 = 1;

/// Encrypts and decrypts small secrets under one 32-byte master key. The key never appears in
/// `Debug` output or logs.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

impl SecretBox {
    /// A box from a 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        SecretBox { cipher: XChaCha20Poly1305::new(key.into()) }
    }

    /// A box from a base64 key (as given in config or `RELAIS_SECRET_KEY`).
    pub fn from_base64(key: &str) -> AppResult<Self> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| bad_key())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| bad_key())?;
        Ok(Self::new(&key))
    }

    /// Reads the key file, or creates it with a fresh random key and 0600 permissions.
    pub fn from_key_file(path: &Path) -> AppResult<Self> {
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(AppError::internal)?;
            return Self::from_base64(&text);
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private(path, STANDARD.encode(key).as_bytes())?;
        Ok(Self::new(&key))
    }

    /// Encrypts `plain`, binding it to `context` (e.g. `channel:42:credentials`): a ciphertext
    /// copied to another row does not decrypt.
    pub fn seal(&self, plain: &[u8], context: &str) -> AppResult<Vec<u8>> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad: context.as_bytes() })
            .map_err(|_| AppError::internal("encryption failed"))?;
        let mut out = Vec::with_capacity(1 + 24 + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`SecretBox::seal`] produced with the same context.
    pub fn open(&self, sealed: &[u8], context: &str) -> AppResult<Vec<u8>> {
        if sealed.len() < 25 || sealed[0] != VERSION {
            return Err(AppError::internal("unknown ciphertext format"));
        }
        let nonce: [u8; 24] = sealed[1..25].try_into().map_err(|_| AppError::internal("bad nonce"))?;
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: &sealed[25..], aad: context.as_bytes() })
            .map_err(|_| AppError::internal("decryption failed (wrong key or tampered data)"))
    }
}

fn bad_key() -> AppError {
    AppError::internal("the secret key must be 32 bytes, base64-encoded")
}

/// Writes a file readable by its owner only (0600 on Unix), refusing to overwrite.
pub fn write_private(path: &Path, contents: &[u8]) -> AppResult<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(AppError::internal)?;
    file.write_all(contents).map_err(AppError::internal)?;
    Ok(())
}

/// Hashes a password with Argon2id (OWASP default parameters) into a PHC string.
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(AppError::internal)
}

/// Checks a password against a PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A new random token with a recognisable prefix (`rls_` for API tokens, `cal_` for calendar
/// feeds), 256 bits of entropy.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token: its SHA-256, hex. Tokens have full entropy, so a fast hash is
/// enough (no dictionary to attack).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let b = SecretBox::new(&[7u8; 32]);
        let sealed = b.seal(b"app-password", "channel:1:credentials").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"app-password"));
        assert_eq!(b.open(&sealed, "channel:1:credentials").unwrap(), b"app-password");
        assert!(b.open(&sealed, "channel:2:credentials").is_err(), "context is bound");
        let other = SecretBox::new(&[8u8; 32]);
        assert!(other.open(&sealed, "channel:1:credentials").is_err(), "key is checked");
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(b.open(&tampered, "channel:1:credentials").is_err());
    }

    #[test]
    fn two_seals_differ() {
        let b = SecretBox::new(&[7u8; 32]);
        assert_ne!(b.seal(b"x", "c").unwrap(), b.seal(b"x", "c").unwrap());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let a = SecretBox::from_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let sealed = a.seal(b"s", "c").unwrap();
        let b = SecretBox::from_key_file(&path).unwrap();
        assert_eq!(b.open(&sealed, "c").unwrap(), b"s");
    }

    #[test]
    fn passwords() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", SecretBox::new(&[1; 32])), "SecretBox(<redacted>)");
    }
}
